#!/usr/bin/env bats
# husk driven the way its real clients drive it, without the clients: the
# exact command lines (global flags, their order and spelling) and inputs
# that conmon/podman 4.3 and containerd's runc shim v2 (1.6) issue, as logged
# by /work/shared/clients/runtime-wrap.sh.

load helpers

bats_require_minimum_version 1.5.0

FIXTURES=$BATS_TEST_DIRNAME/fixtures

setup() {
    load_libs
    setup_bundle
}

teardown() {
    teardown_bundle
}

# json_log_ok FILE: every line of a --log-format json log is an object with
# the level/msg/time keys conmon and the shim read the error from.
json_log_ok() {
    local line
    while IFS= read -r line; do
        jq -e 'type == "object" and (.level | type == "string")
            and (.msg | type == "string") and (.time | type == "string")' \
            <<<"$line" >/dev/null || { echo "bad log line: $line" >&2; return 1; }
    done <"$1"
}

# podman_bundle: $BUNDLE/config.json becomes the config podman 4.3 wrote for
# `podman run --rm IMAGE echo hello-smoke` (fixtures/podman-config.json: its
# bind mounts of podman's own userdata files dropped, root.path made
# relative), running ARGS as this test's tagged process in this test's cgroup.
podman_bundle() {
    cp "$FIXTURES/podman-config.json" "$BUNDLE/config.json"
    update_config ".process.args = $1
        | .process.env += [\"HUSK_TEST_TAG=$TAG\"]
        | .linux.cgroupsPath = \"/husk-test/$CG_NAME\""
}

@test "conmon's create/start/delete command lines run podman's config.json" {
    podman_bundle '["sh", "-c", "hostname; grep CapEff /proc/self/status; echo hello-smoke"]'
    local log=$TEST_TMP/oci-log pidfile=$TEST_TMP/pidfile
    # conmon: --log-format=json (one word) before --log, then create
    husk --log-format=json --log "$log" create --bundle "$BUNDLE" --pid-file "$pidfile" c1 \
        </dev/null >"$TEST_TMP/c1.out" 2>&1 || fail "create: $(cat "$TEST_TMP/c1.out")"
    [ "$(cat "$pidfile")" = "$(state_field c1 pid)" ] || fail "pid file $(cat "$pidfile") != state pid"
    status_is c1 created
    # the pids limit podman asked for is on the container's cgroup
    local pids_max=/sys/fs/cgroup/pids/husk-test/$CG_NAME/pids.max
    [ -e "$pids_max" ] || pids_max=/sys/fs/cgroup/husk-test/$CG_NAME/pids.max
    [ "$(cat "$pids_max")" = 2048 ] || fail "pids.max: $(cat "$pids_max" 2>&1)"
    husk start c1
    wait_status c1 stopped
    wait_file_has "$TEST_TMP/c1.out" hello-smoke
    run cat "$TEST_TMP/c1.out"
    assert_line b89a0debc19c
    # podman's 14 default capabilities, nothing more
    assert_line --regexp "^CapEff:[[:space:]]+00000000a80425fb$"
    husk delete --force c1
    json_log_ok "$log"
    assert_nothing_left c1
}

@test "a failing command logs a JSON error conmon can read, and exits non-zero" {
    local log=$TEST_TMP/oci-log
    run husk --log-format=json --log "$log" start no-such-container
    assert_failure
    json_log_ok "$log"
    run jq -r .msg "$log"
    assert_output --partial "no-such-container"
}

@test "the containerd shim's create/start/delete/delete --force command lines" {
    set_sh 'echo shim-ok'
    local log=$TEST_TMP/log.json
    # the shim: --root, --log, then --log-format json (two words)
    husk --log "$log" --log-format json create --bundle "$BUNDLE" \
        --pid-file "$BUNDLE/init.pid" c1 </dev/null >"$TEST_TMP/c1.out" 2>&1 ||
        fail "create: $(cat "$TEST_TMP/c1.out")"
    [ "$(cat "$BUNDLE/init.pid")" = "$(state_field c1 pid)" ]
    husk --log "$log" --log-format json start c1
    wait_status c1 stopped
    husk --log "$log" --log-format json delete c1
    # the shim's cleanup runs delete --force again after the delete: a
    # container that is already gone is not an error then (runc exits 0)
    run husk --log "$log" --log-format json delete --force c1
    assert_success
    json_log_ok "$log"
    assert_nothing_left c1
}

@test "kill --all after the init exited reaches what it left in the cgroup (containerd shim)" {
    # Without a pid namespace the init's children outlive it. containerd's
    # shim sends `kill --all ID 9` once it sees the init exit, to reap them.
    update_config '.linux.namespaces |= map(select(.type != "pid"))'
    set_sh 'sleep 1000 & echo ready'
    create c1
    husk start c1
    wait_file_has "$TEST_TMP/c1.out" ready
    wait_status c1 stopped
    [ "$(tagged_pids | wc -l)" -ge 1 ] || fail "the background sleep is not running"
    run husk --log "$TEST_TMP/log.json" --log-format json kill --all c1 9
    assert_success
    wait_until 5 no_tagged_pids || fail "left: $(describe_pids $(tagged_pids))"
    # the plain kill of a stopped init still refuses, as runc does
    run husk kill c1 9
    assert_failure
    assert_output --partial "not running"
    husk delete c1
    assert_nothing_left c1
}

@test "kill --all of a stopped container whose cgroup holds nothing succeeds" {
    create c1
    husk start c1
    wait_status c1 stopped
    run husk kill --all c1 KILL
    assert_success
    husk delete c1
    assert_nothing_left c1
}

@test "delete --force of a created, never started container (podman rm, ctr task rm)" {
    set_sh 'echo never-printed'
    create c1
    status_is c1 created
    local pid
    pid=$(state_field c1 pid)
    run husk delete --force c1
    assert_success
    wait_until 5 pid_gone "$pid" || fail "init $pid still alive"
    refute [ -s "$TEST_TMP/c1.out" ]
    assert_nothing_left c1
}

@test "a relative --pid-file is written relative to husk's working directory" {
    mkdir "$TEST_TMP/cwd"
    (cd "$TEST_TMP/cwd" && husk create --bundle "$BUNDLE" --pid-file rel.pid c1 </dev/null >/dev/null 2>&1)
    [ -s "$TEST_TMP/cwd/rel.pid" ] || fail "no pid file in the working directory"
    [ "$(cat "$TEST_TMP/cwd/rel.pid")" = "$(state_field c1 pid)" ]
    husk delete --force c1
    assert_nothing_left c1
}

@test "state has the fields podman and containerd read" {
    create c1
    run husk state c1
    assert_success
    jq -e --arg b "$BUNDLE" '.ociVersion != null and .id == "c1" and (.pid | type == "number")
        and .status == "created" and .bundle == $b and (.created | type == "string")
        and (.rootfs | type == "string") and has("owner")' <<<"$output" >/dev/null ||
        fail "state: $output"
    husk delete --force c1
}

@test "create with a console socket leaves the caller's stdout, so the shim's pipe sees EOF" {
    update_config '.process.terminal = true'
    set_sh 'echo tty-ok'
    local recvtty=${RECVTTY:-$(dirname "$HUSK")/tests/helpers/recvtty}
    [ -x "$recvtty" ] || fail "recvtty not built: $recvtty (run make)"
    "$recvtty" -m hold "$TEST_TMP/tty.sock" </dev/null >"$TEST_TMP/tty.out" 2>&1 3>&- &
    local recv_pid=$!
    wait_until 10 test -S "$TEST_TMP/tty.sock" || fail "recvtty never listened"
    # as the shim: create's stdout and stderr are a pipe that the shim reads
    # to EOF before it goes on, so the created init must not hold it
    local rc=0
    timeout 10 bash -c '"$@" </dev/null 2>&1 | cat >/dev/null' _ \
        env HUSK_TEST_TAG="$TAG" "$HUSK" --root "$ROOT" create --bundle "$BUNDLE" \
        --console-socket "$TEST_TMP/tty.sock" c1 3>&- || rc=$?
    husk delete --force c1
    kill "$recv_pid" 2>/dev/null || true
    [ "$rc" -eq 0 ] || fail "create's stdout pipe saw no EOF (status $rc)"
    assert_nothing_left c1
}

@test "a new network namespace has lo up, as podman --network none expects" {
    set_sh 'cat /sys/class/net/lo/flags; nc -l -p 5555 & sleep 0.3; echo tcp-ok | nc -w 2 127.0.0.1 5555; wait'
    run husk run --bundle "$BUNDLE" c1
    assert_success
    # IFF_UP (0x1) with IFF_LOOPBACK (0x8)
    assert_line --index 0 0x9
    assert_line --index 1 tcp-ok
}
