#!/usr/bin/env bats
# `delete [-f]`: what it refuses, and that it leaves nothing behind: no
# state dir, no cgroup, no mount, no process.

load helpers

bats_require_minimum_version 1.5.0

setup() {
    load_libs
    setup_bundle
    set_sh 'echo started; while [ ! -e /go ]; do sleep 0.05; done'
}

teardown() {
    teardown_bundle
}

# The container's cgroup exists while it lives (so that "no cgroup left"
# after delete means something).
assert_has_cgroup() {
    [ -n "$(test_cgroups)" ] || fail "no cgroup /husk-test/$CG_NAME* in any hierarchy"
    local pid=$1 procs
    procs=$(cat /sys/fs/cgroup/pids/husk-test/"$CG_NAME"*/cgroup.procs 2>/dev/null || true)
    [ -z "$pid" ] || grep -qx "$pid" <<<"$procs" || fail "pid $pid is not in the pids cgroup: $procs"
}

@test "delete of a stopped container removes its state dir and cgroup" {
    create c1
    assert_has_cgroup "$(state_field c1 pid)"
    husk start c1
    touch "$BUNDLE/rootfs/go"
    wait_status c1 stopped
    [ -d "$ROOT/c1" ]

    run husk delete c1
    assert_success
    assert_nothing_left c1
    run husk list -q
    assert_output ""
}

@test "delete of a created container (no -f) kills the waiting init" {
    create c1
    pid=$(state_field c1 pid)
    assert_has_cgroup "$pid"
    run husk delete c1
    assert_success
    wait_until 5 pid_gone "$pid"
    assert_nothing_left c1
    refute grep -q started "$TEST_TMP/c1.out"
}

@test "delete of a running container without -f is refused; it keeps running" {
    create c1
    husk start c1
    wait_status c1 running
    pid=$(state_field c1 pid)

    run --separate-stderr husk delete c1
    assert_failure
    [[ "$stderr" == *running* ]] || fail "stderr does not say why: $stderr"
    [[ "$stderr" == *c1* ]] || fail "stderr does not name the container: $stderr"
    status_is c1 running
    pid_alive "$pid"
    [ -d "$ROOT/c1" ]
    assert_has_cgroup "$pid"
}

@test "delete -f of a running container kills it and removes everything" {
    create c1
    husk start c1
    wait_status c1 running
    pid=$(state_field c1 pid)

    run husk delete -f c1
    assert_success
    wait_until 5 pid_gone "$pid"
    assert_nothing_left c1
    run husk state c1
    assert_failure
}

@test "delete --force kills every process of the container" {
    set_sh 'sleep 1000 & sleep 1000 & echo started; wait'
    create c1
    husk start c1
    wait_file_has "$TEST_TMP/c1.out" started
    [ "$(tagged_pids | wc -l)" -ge 3 ]

    run husk delete --force c1
    assert_success
    wait_until 5 no_test_pids || fail "left: $(describe_pids $(test_pids))"
    assert_nothing_left c1
}

@test "delete -f of a created and of a stopped container" {
    use_cgroup a
    create a
    use_cgroup b
    create b
    husk start b
    touch "$BUNDLE/rootfs/go"
    wait_status b stopped
    run husk delete -f a
    assert_success
    run husk delete -f b
    assert_success
    assert_nothing_left a b
}

@test "delete of a stopped container without a pid namespace kills what its init left" {
    # Without a pid namespace the init's exit does not end its children; they
    # are still in the container's cgroup and delete must not leave them.
    update_config '.linux.namespaces |= map(select(.type != "pid"))'
    set_sh 'sleep 1000 & echo started'
    create c1
    husk start c1
    wait_file_has "$TEST_TMP/c1.out" started
    wait_status c1 stopped
    [ "$(tagged_pids | wc -l)" -ge 1 ] || fail "the background sleep is not running"

    run husk delete c1
    assert_success
    wait_until 5 no_test_pids || fail "left: $(describe_pids $(test_pids))"
    assert_nothing_left c1
}

@test "delete after the init was killed from outside cleans up" {
    create c1
    husk start c1
    wait_status c1 running
    kill -9 "$(state_field c1 pid)"
    wait_status c1 stopped
    run husk delete c1
    assert_success
    assert_nothing_left c1
}

@test "delete frees the id: a new container of the same id can be created" {
    create c1
    run husk delete c1
    assert_success
    create c1
    status_is c1 created
    run husk delete c1
    assert_success
    assert_nothing_left c1
}

@test "delete of a container that does not exist fails naming it" {
    run --separate-stderr husk delete nosuch
    assert_failure
    [[ "$stderr" == *nosuch* ]] || fail "stderr does not name the id: $stderr"
}

@test "delete of one container leaves the others alone" {
    use_cgroup a
    create a
    use_cgroup b
    create b
    husk start b
    wait_status b running
    run husk delete -f a
    assert_success
    status_is b running
    pid_alive "$(state_field b pid)"
    run husk list -q
    assert_output b
}

@test "delete -f of a container that does not exist succeeds (as runc's does)" {
    run husk delete -f nosuch
    assert_success
}

@test "delete works after the bundle was removed (stopped and created containers)" {
    use_cgroup a
    create a
    husk start a
    touch "$BUNDLE/rootfs/go"
    wait_status a stopped
    rm "$BUNDLE/rootfs/go"
    use_cgroup b
    create b
    pid=$(state_field b pid)
    mv "$BUNDLE" "$TEST_TMP/bundle.gone"
    rm -rf "$TEST_TMP/bundle.gone"
    run husk state a
    assert_success
    run husk delete a
    assert_success
    run husk delete b
    assert_success
    wait_until 5 pid_gone "$pid"
    assert_nothing_left a b
}
