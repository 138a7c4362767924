#!/usr/bin/env bats
# Every bad input: a clear error on stderr naming the field or value, a
# non-zero exit (not a crash, not a hang), and nothing left behind: no state
# dir, no cgroup, no mount, no process.

load helpers

setup() {
    load_libs
    setup_bundle '["sh", "-c", "echo started"]'
}

teardown() {
    teardown_bundle
}

# must_fail ARGS...: runs `husk ARGS` (stdio in files) and asserts a clean
# failure: exit status 1..125 (126+ would be a crash or a timeout).
must_fail() {
    hrun "$@"
    [ "$status" -ne 0 ] || fail "husk $* succeeded; stdout: $output"
    [ "$status" -lt 124 ] || fail "husk $* exited $status (timeout or signal); stderr: $stderr"
    [ -n "$stderr" ] || fail "husk $* failed with nothing on stderr"
}

# stderr_names WORD...: the last must_fail's stderr contains each WORD.
stderr_names() {
    local w
    for w in "$@"; do
        [[ "$stderr" == *"$w"* ]] || fail "stderr does not name '$w': $stderr"
    done
}

# create_fails ID: `husk create` of $BUNDLE must fail cleanly, and leave
# nothing behind; also `run` of the same bundle.
create_fails() {
    must_fail create --bundle "$BUNDLE" "$1"
    assert_nothing_left "$1"
    CREATE_STDERR=$stderr
    must_fail run --bundle "$BUNDLE" "$1-run"
    assert_nothing_left "$1-run"
    stderr=$CREATE_STDERR
}

@test "missing bundle dir" {
    must_fail create --bundle "$TEST_TMP/nosuchdir" c1
    stderr_names "$TEST_TMP/nosuchdir"
    assert_nothing_left c1
}

@test "missing config.json" {
    rm "$BUNDLE/config.json"
    create_fails c1
    stderr_names config.json
}

@test "malformed config.json (truncated)" {
    head -c 300 "$BUNDLE/config.json" >"$BUNDLE/c" && mv "$BUNDLE/c" "$BUNDLE/config.json"
    create_fails c1
    stderr_names config.json
}

@test "config.json that is not an object" {
    echo '[1, 2]' >"$BUNDLE/config.json"
    create_fails c1
    stderr_names config.json
}

@test "wrong-typed field: process.args is a string" {
    update_config '.process.args = "x"'
    create_fails c1
    stderr_names process.args
}

@test "wrong-typed field: linux.resources.memory.limit is a string" {
    update_config '.linux.resources.memory.limit = "big"'
    create_fails c1
    stderr_names linux.resources.memory.limit
}

@test "empty process.args" {
    update_config '.process.args = []'
    create_fails c1
    stderr_names args
}

@test "relative process.cwd" {
    update_config '.process.cwd = "relative/dir"'
    create_fails c1
    stderr_names relative/dir
}

@test "rootfs missing" {
    rm -rf "$BUNDLE/rootfs"
    create_fails c1
    stderr_names rootfs
}

@test "root.path names a directory that does not exist" {
    update_config '.root.path = "nosuchroot"'
    create_fails c1
    stderr_names nosuchroot
}

@test "bad ids: a/b, .., ., ../escape, empty, with a space, a backslash, /abs" {
    local id
    for id in a/b .. . ../escape "" "a b" "a\\b" "/abs"; do
        must_fail create --bundle "$BUNDLE" -- "$id"
        [ -z "$id" ] || stderr_names "$id"
        [ ! -e "$TEST_TMP/escape" ] || fail "id ../escape made $TEST_TMP/escape"
        [ ! -e "$ROOT/a" ] || fail "id a/b made $ROOT/a"
    done
    assert_nothing_left
    run husk list -q
    assert_output ""
}

@test "duplicate id: the second create fails, the first container is untouched" {
    create c1
    pid=$(state_field c1 pid)
    before=$(tagged_pids | sort | tr '\n' ' ')

    must_fail create --bundle "$BUNDLE" c1
    stderr_names c1
    status_is c1 created
    assert_equal "$(state_field c1 pid)" "$pid"
    pid_alive "$pid"
    wait_until 5 test_tagged_pids_are "$before" ||
        fail "processes were $before, now $(tagged_pids | sort | tr '\n' ' ')"
    run husk delete c1
    assert_success
    assert_nothing_left c1
}

test_tagged_pids_are() {
    [ "$(tagged_pids | sort | tr '\n' ' ')" = "$1" ]
}

@test "start of a running container fails naming its status" {
    set_sh 'while :; do sleep 0.05; done'
    create c1
    husk start c1
    wait_status c1 running
    must_fail start c1
    stderr_names c1 running
    status_is c1 running
}

@test "delete of a running container without -f fails naming its status" {
    set_sh 'while :; do sleep 0.05; done'
    create c1
    husk start c1
    wait_status c1 running
    must_fail delete c1
    stderr_names c1 running
    status_is c1 running
}

@test "kill with an unknown signal fails naming it and sends nothing" {
    set_sh 'trap "echo got-TERM" TERM; echo ready; while :; do sleep 0.05; done'
    create c1
    husk start c1
    wait_file_has "$TEST_TMP/c1.out" ready
    must_fail kill c1 SIGFOO
    stderr_names SIGFOO
    must_fail kill c1 999
    stderr_names 999
    status_is c1 running
    refute grep -q got- "$TEST_TMP/c1.out"
}

@test "commands on an id that does not exist fail naming it" {
    local cmd
    for cmd in start state kill delete; do
        must_fail "$cmd" nosuch
        stderr_names nosuch
    done
}

@test "args[0] not in the rootfs: create or start fails with the path and ENOENT" {
    update_config '.process.args = ["/no/such/binary", "arg"]'
    hrun create --bundle "$BUNDLE" c1
    if [ "$status" -eq 0 ]; then
        must_fail start c1
        run husk delete -f c1
        assert_success
    fi
    [ "$status" -lt 124 ] || fail "exited $status"
    stderr_names /no/such/binary "No such file or directory"
    assert_nothing_left c1
    refute grep -q started "$TEST_TMP/c1.out" 2>/dev/null
}

@test "args[0] not on the container's PATH: the error names it" {
    update_config '.process.args = ["no-such-command"]'
    hrun create --bundle "$BUNDLE" c1
    if [ "$status" -eq 0 ]; then
        must_fail start c1
        husk delete -f c1
    fi
    stderr_names no-such-command
    assert_nothing_left c1
}

@test "run of a missing args[0] exits non-zero and leaves nothing" {
    update_config '.process.args = ["/no/such/binary"]'
    must_fail run --bundle "$BUNDLE" c1
    stderr_names /no/such/binary
    assert_nothing_left c1
}

@test "unknown namespace type" {
    update_config '.linux.namespaces += [{"type": "foo"}]'
    create_fails c1
    stderr_names foo
}

@test "namespace path that does not exist" {
    update_config '.linux.namespaces |= map(if .type == "network" then .path = "/nonexistent/netns" else . end)'
    create_fails c1
    stderr_names /nonexistent/netns
}

@test "bind mount whose source does not exist" {
    update_config '.mounts += [{"destination": "/data", "type": "bind",
        "source": "/nonexistent/mount/source", "options": ["rbind"]}]'
    create_fails c1
    stderr_names /nonexistent/mount/source
}

@test "mount of an unknown filesystem type" {
    update_config '.mounts += [{"destination": "/data", "type": "nosuchfs", "source": "none"}]'
    create_fails c1
    stderr_names /data
}

@test "unknown rlimit type" {
    update_config '.process.rlimits += [{"type": "RLIMIT_FOO", "soft": 1, "hard": 1}]'
    create_fails c1
    stderr_names RLIMIT_FOO
}

@test "rlimit above what the caller may set (EPERM inside the child)" {
    # This machine's root lacks CAP_SYS_RESOURCE, so raising a hard limit fails.
    hard=$(ulimit -Hn)
    update_config ".process.rlimits = [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": $((hard * 4))}]"
    if capsh --has-p=cap_sys_resource 2>/dev/null; then
        skip "root has CAP_SYS_RESOURCE here"
    fi
    create_fails c1
    stderr_names RLIMIT_NOFILE
}

@test "unknown capability: a warning naming it, not a failure (runtime-spec)" {
    # runtime-spec: capabilities that cannot be mapped or granted are logged
    # as a warning; runtimes should not fail on them.
    update_config '.process.capabilities.bounding += ["CAP_FOO"] | .process.args = ["true"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    stderr_names CAP_FOO
    assert_nothing_left c1
}

@test "hostname without a uts namespace" {
    update_config '.hostname = "box" | .linux.namespaces |= map(select(.type != "uts"))'
    create_fails c1
    stderr_names hostname
}

@test "create without an id is a usage error" {
    must_fail create --bundle "$BUNDLE"
    run husk list -q
    assert_output ""
}

@test "run -d of a missing args[0] fails and leaves nothing" {
    update_config '.process.args = ["/no/such/binary"]'
    must_fail run -d --bundle "$BUNDLE" c1
    stderr_names /no/such/binary
    assert_nothing_left c1
}

@test "config without process: create or start fails naming process, nothing left" {
    update_config 'del(.process)'
    hrun create --bundle "$BUNDLE" c1
    if [ "$status" -eq 0 ]; then
        must_fail start c1
        husk delete -f c1
    fi
    [ "$status" -lt 124 ] || fail "exited $status"
    stderr_names process
    assert_nothing_left c1
}

@test "a 300-character id either works fully or fails cleanly" {
    id=$(printf 'x%.0s' $(seq 1 300))
    set_sh 'exit 0'
    hrun create --bundle "$BUNDLE" "$id"
    if [ "$status" -eq 0 ]; then
        run husk state "$id"
        assert_success
        run husk delete -f "$id"
        assert_success
    else
        [ "$status" -lt 124 ] || fail "exited $status: $stderr"
        [ -n "$stderr" ]
    fi
    assert_nothing_left "$id"
}

@test "--preserve-fds with a value that is not a number is a usage error naming it" {
    must_fail run --preserve-fds abc --bundle "$BUNDLE" c1
    stderr_names abc
    assert_nothing_left c1
}

@test "--bundle names a file, not a directory" {
    touch "$TEST_TMP/afile"
    must_fail create --bundle "$TEST_TMP/afile" c1
    stderr_names "$TEST_TMP/afile"
    assert_nothing_left c1
}

@test "config.json is a directory" {
    rm "$BUNDLE/config.json"
    mkdir "$BUNDLE/config.json"
    create_fails c1
    stderr_names config.json
}

@test "rootfs is a file, not a directory" {
    rm -rf "$BUNDLE/rootfs"
    touch "$BUNDLE/rootfs"
    create_fails c1
    stderr_names rootfs
}

# exec_fails ARGS0 WORD...: a container whose args[0] cannot be executed:
# create or start (or run) fails naming it and the reason; nothing left.
exec_fails() {
    local arg0=$1
    shift
    update_config ".process.args = [\"$arg0\"]"
    must_fail run --bundle "$BUNDLE" c1
    stderr_names "$arg0" "$@"
    assert_nothing_left c1
}

@test "args[0] is a directory: Permission denied, naming it" {
    exec_fails /bin "Permission denied"
}

@test "args[0] is not executable: Permission denied, naming it" {
    exec_fails /etc/passwd "Permission denied"
}

@test "args[0] is an executable without a #! line or ELF header: Exec format error, naming it" {
    printf '\x7fELF garbage' >"$BUNDLE/rootfs/bin/badelf"
    chmod +x "$BUNDLE/rootfs/bin/badelf"
    exec_fails /bin/badelf "Exec format error"
}

@test "rlimit with soft above hard" {
    update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 2000, "hard": 1000}]'
    create_fails c1
    stderr_names RLIMIT_NOFILE
}

@test "duplicate rlimit type" {
    update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 100},
        {"type": "RLIMIT_NOFILE", "soft": 200, "hard": 200}]'
    create_fails c1
    stderr_names RLIMIT_NOFILE
}

@test "duplicate namespace type" {
    update_config '.linux.namespaces += [{"type": "ipc"}]'
    create_fails c1
    stderr_names ipc
}

@test "args[0] removed between create and start: start fails naming it, then delete cleans up" {
    cp "$BUNDLE/rootfs/bin/busybox" "$BUNDLE/rootfs/bin/mytrue"
    update_config '.process.args = ["/bin/mytrue"]'
    create c1
    rm "$BUNDLE/rootfs/bin/mytrue"
    must_fail start c1
    stderr_names /bin/mytrue
    run husk state c1
    assert_success
    assert_equal "$(jq -r .status <<<"$output")" stopped
    run husk delete c1
    assert_success
    assert_nothing_left c1
}

@test "ids that climb out of --root are refused by every command, and nothing outside is touched" {
    create c1
    mkdir -p "$TEST_TMP/victim"
    echo keep >"$TEST_TMP/victim/state.json"
    local id
    for id in ../victim "../$(basename "$TEST_TMP")/victim" "$TEST_TMP/victim" c1/.. ./c1; do
        for cmd in state start "kill" "delete" "delete -f"; do
            # shellcheck disable=SC2086
            must_fail $cmd "$id"
            [ -f "$TEST_TMP/victim/state.json" ] || fail "husk $cmd $id removed $TEST_TMP/victim"
        done
    done
    assert_equal "$(cat "$TEST_TMP/victim/state.json")" keep
    status_is c1 created
}

@test "hostname longer than the kernel allows" {
    update_config ".hostname = \"$(printf 'h%.0s' $(seq 1 100))\""
    create_fails c1
    stderr_names hostname
}
