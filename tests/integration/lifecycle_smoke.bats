#!/usr/bin/env bats
# Smoke test of the lifecycle path: what a container sees from inside, the
# state machine, exit codes, and that nothing is left behind on the host.

load helpers

setup() {
    load_libs
    setup_bundle
}

teardown() {
    teardown_bundle
}

# The container's pids cgroup: the v1 pids hierarchy, or the v2 tree.
cgroup_dir() {
    if [ -d /sys/fs/cgroup/pids ]; then
        echo "/sys/fs/cgroup/pids/husk-test/$CG_NAME"
    else
        echo "/sys/fs/cgroup/husk-test/$CG_NAME"
    fi
}

@test "run: the container has its own hostname and is pid 1" {
    update_config '.hostname = "smoke-host"'
    set_sh 'hostname; echo $$'
    hrun run --bundle "$BUNDLE" r1
    assert_equal "$status" 0
    assert_equal "${lines[0]}" "smoke-host"
    assert_equal "${lines[1]}" "1"
    # run deleted it: no state dir, no cgroup.
    [ ! -e "$ROOT/r1" ]
    [ ! -e "$(cgroup_dir)" ]
}

@test "run: exit status and death by signal" {
    set_sh 'exit 7'
    hrun run --bundle "$BUNDLE" r2
    assert_equal "$status" 7

    # A child of pid 1 can die by SIGKILL; pid 1 itself re-raises nothing,
    # so kill the container from outside with husk kill.
    set_sh 'sleep 30'
    husk run --bundle "$BUNDLE" r3 </dev/null >/dev/null 2>&1 &
    local pid=$!
    wait_status r3 running
    husk kill r3 KILL
    local st=0
    wait "$pid" || st=$?
    assert_equal "$st" 137
    [ ! -e "$ROOT/r3" ]
}

@test "create/start/state/kill/delete cycle" {
    set_sh 'sleep 30'
    create c1 --pid-file "$TEST_TMP/pid"
    [ "$(state_field c1 status)" = created ]
    local pid
    pid=$(state_field c1 pid)
    assert_equal "$(cat "$TEST_TMP/pid")" "$pid"
    [ -d "$(cgroup_dir)" ]
    grep -qx "$pid" "$(cgroup_dir)/cgroup.procs"

    hrun list
    assert_equal "$status" 0
    [[ "${lines[1]}" =~ ^c1\ +$pid\ +created\ +$BUNDLE\  ]]

    hrun start c1
    assert_equal "$status" 0
    [ "$(state_field c1 status)" = running ]
    # pid 1 in the container is now sleep.
    [ "$(readlink /proc/$pid/exe)" = /bin/busybox ]

    hrun start c1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"c1"*"running"* ]]

    hrun delete c1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"not stopped"* ]]

    husk kill c1 KILL
    wait_status c1 stopped
    [ "$(state_field c1 pid)" = 0 ]

    hrun kill c1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"not running"* ]]

    hrun delete c1
    assert_equal "$status" 0
    [ ! -e "$ROOT/c1" ]
    [ ! -e "$(cgroup_dir)" ]
    hrun state c1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"c1"*"does not exist"* ]]
}

@test "start reports an exec failure; create reports a missing program" {
    update_config '.process.args = ["/nonexistent/prog"]'
    hrun create --bundle "$BUNDLE" x1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *'exec "/nonexistent/prog": No such file or directory'* ]]
    [ ! -e "$ROOT/x1" ]
    [ ! -e "$(cgroup_dir)" ]

    # The program exists at create but is gone at start.
    cp "$BUNDLE/rootfs/bin/busybox" "$BUNDLE/rootfs/bin/vanishing"
    update_config '.process.args = ["/bin/vanishing"]'
    create x2
    rm "$BUNDLE/rootfs/bin/vanishing"
    hrun start x2
    [ "$status" -ne 0 ]
    [[ "$stderr" == *'exec "/bin/vanishing": No such file or directory'* ]]
    wait_status x2 stopped
}

@test "bad inputs leave nothing behind" {
    hrun create --bundle "$BUNDLE" 'bad/id'
    [ "$status" -ne 0 ]
    [[ "$stderr" == *'bad/id'* ]]

    hrun create --bundle "$TEST_TMP/nonexistent" b1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"nonexistent"* ]]

    echo '{"ociVersion": ' > "$TEST_TMP/broken.json"
    hrun create --bundle "$BUNDLE" --config "$TEST_TMP/broken.json" b2
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"broken.json"* ]]

    update_config '.root.path = "missing-rootfs"'
    hrun create --bundle "$BUNDLE" b3
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"root.path"*"missing-rootfs"* ]]

    update_config '.root.path = "rootfs" | .mounts += [{"destination": "/x", "type": "nosuchfs", "source": "none"}]'
    hrun create --bundle "$BUNDLE" b4
    [ "$status" -ne 0 ]
    [[ "$stderr" == *'mounts['*'].type: no filesystem `nosuchfs`'*'/x'* ]]

    [ -z "$(ls -A "$ROOT" 2>/dev/null | grep -v '^\.lock$')" ]
    [ ! -e "$(cgroup_dir)" ]
    no_tagged_pids
}

@test "duplicate id is refused and the first container is untouched" {
    set_sh 'sleep 30'
    create d1
    hrun create --bundle "$BUNDLE" d1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"d1"*"already exists"* ]]
    [ "$(state_field d1 status)" = created ]
    husk delete -f d1
    [ ! -e "$ROOT/d1" ]
}

@test "no fd of husk's leaks into the container; --preserve-fds passes fds on" {
    set_sh 'ls /proc/self/fd'
    # husk itself started with fds 3..5 open; only 3 and 4 are asked for.
    husk run --bundle "$BUNDLE" --preserve-fds 2 f1 3</dev/null 4</dev/null 5</dev/null \
        </dev/null >"$TEST_TMP/fds" 2>&1
    # 0 1 2, the two preserved fds, and ls's own directory fd (5).
    assert_equal "$(tr '\n' ' ' <"$TEST_TMP/fds")" "0 1 2 3 4 5 "
}

@test "20 parallel creates" {
    set_sh 'sleep 30'
    local i pids=()
    for i in $(seq 20); do
        update_config ".linux.cgroupsPath = \"/husk-test/$CG_NAME-$i\"" "$BUNDLE"
        cp "$BUNDLE/config.json" "$TEST_TMP/config-$i.json"
    done
    for i in $(seq 20); do
        husk create --bundle "$BUNDLE" --config "$TEST_TMP/config-$i.json" "p$i" \
            </dev/null >/dev/null 2>"$TEST_TMP/p$i.err" &
        pids+=($!)
    done
    local failed=0
    for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
    assert_equal "$failed" 0
    hrun list -q
    assert_equal "${#lines[@]}" 20
    for i in $(seq 20); do
        [ "$(state_field "p$i" status)" = created ]
    done
    for i in $(seq 20); do husk delete -f "p$i" & done
    wait
    hrun list -q
    assert_equal "$output" ""
    for i in $(seq 20); do [ ! -e "/sys/fs/cgroup/pids/husk-test/$CG_NAME-$i" ]; done
}

@test "namespaces: join one by path; a new user namespace with id maps" {
    unshare --net sleep 30 &
    holder=$!
    in_own_netns() { [ "$(readlink /proc/$holder/ns/net)" != "$(readlink /proc/self/ns/net)" ]; }
    wait_until 5 in_own_netns
    update_config ".linux.namespaces |= map(if .type == \"network\" then .path = \"/proc/$holder/ns/net\" else . end)"
    set_sh 'readlink /proc/self/ns/net'
    hrun run --bundle "$BUNDLE" n1
    local want
    want=$(readlink /proc/$holder/ns/net)
    kill "$holder"
    assert_equal "$status" 0
    assert_equal "$output" "$want"

    update_config '.linux.namespaces |= map(select(.type != "network")) + [{"type": "network"}, {"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
    set_sh 'id -u; cat /proc/self/uid_map'
    # The namespace's root is host uid 100000: it must be able to reach the
    # rootfs through the test's private temp dirs.
    local d=$BUNDLE
    while [ "$d" != / ]; do
        [ -x "$d" ] && [ "$(stat -c %A "$d" | cut -c10)" = x ] || chmod o+x "$d"
        d=$(dirname "$d")
    done
    hrun run --bundle "$BUNDLE" n2
    assert_equal "$status" 0
    assert_equal "${lines[0]}" 0
    [[ "${lines[1]}" =~ ^\ *0\ +100000\ +65536$ ]]
}

@test "kill --all signals every process of the container" {
    set_sh 'sleep 30 & sleep 30'
    run_detached k1
    wait_until 5 test "$(wc -l < "$(cgroup_dir)/cgroup.procs")" -eq 2
    husk kill --all k1 KILL
    wait_status k1 stopped
    [ "$(wc -l < "$(cgroup_dir)/cgroup.procs")" -eq 0 ]
    husk delete k1
    [ ! -e "$(cgroup_dir)" ]
}
