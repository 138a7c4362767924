#!/usr/bin/env bats
# husk pause / resume: the cgroup freezer stops and restarts every process
# of the container (a counter the container writes into its rootfs stops
# and moves again), state and list show `paused`, the host's freezer file
# says FROZEN / THAWED, runc's errors for the wrong status, and kill and
# delete -f of a paused container.

load helpers

setup() {
    load_libs
    setup_bundle
    C1=$CG_NAME-c1
    update_config '.root.readonly = false'
    set_sh 'i=0; while :; do i=$((i+1)); echo $i > /counter.tmp; mv /counter.tmp /counter; sleep 0.05; done'
}

teardown() {
    teardown_bundle
}

freezer_state() {
    if [ -d /sys/fs/cgroup/freezer ]; then
        cat "/sys/fs/cgroup/freezer/husk-test/$CG_NAME/freezer.state"
    else
        # v2: cgroup.freeze 1/0 spelled as v1 does
        case "$(cat "/sys/fs/cgroup/husk-test/$CG_NAME/cgroup.freeze")" in
        1) echo FROZEN ;;
        *) echo THAWED ;;
        esac
    fi
}

counter() {
    cat "$BUNDLE/rootfs/counter" 2>/dev/null || echo 0
}

counter_above() {
    [ "$(counter)" -gt "$1" ]
}

start_counter() {
    run_detached "$C1"
    wait_until 10 counter_above 0 || fail "the counter never started"
}

@test "pause: the counter stops, state and list say paused, the freezer is FROZEN; resume restarts it" {
    start_counter
    husk pause "$C1"
    assert_equal "$(freezer_state)" FROZEN
    assert_equal "$(state_field "$C1" status)" paused
    run husk list
    assert_success
    assert_line --regexp "^$C1 +[0-9]+ +paused "

    frozen_at=$(counter)
    sleep 0.5
    assert_equal "$(counter)" "$frozen_at"

    husk resume "$C1"
    assert_equal "$(freezer_state)" THAWED
    assert_equal "$(state_field "$C1" status)" running
    wait_until 5 counter_above "$frozen_at" || fail "the counter did not move after resume"
}

@test "pause: runc's errors: pause twice, resume of a running container, stopped, unknown" {
    start_counter
    run husk resume "$C1"
    assert_failure 1
    assert_output --partial "container not paused"
    husk pause "$C1"
    run husk pause "$C1"
    assert_failure 1
    assert_output --partial "container not running"
    husk resume "$C1"

    husk kill "$C1" KILL
    wait_status "$C1" stopped
    run husk pause "$C1"
    assert_failure 1
    assert_output --regexp "^husk: pause: .*container not running"
    run husk resume "$C1"
    assert_failure 1
    assert_output --partial "container not paused"
    run husk pause "$CG_NAME-nosuch"
    assert_failure 1
    assert_output --partial "does not exist"
    run husk pause
    assert_failure
    assert_output --partial "missing container ID"
    husk delete "$C1"
    assert_nothing_left "$C1"
}

@test "pause: kill KILL of a paused container stops it" {
    start_counter
    pid=$(state_field "$C1" pid)
    husk pause "$C1"
    husk kill "$C1" KILL
    wait_status "$C1" stopped
    pid_gone "$pid"
    husk delete "$C1"
    assert_nothing_left "$C1"
}

@test "pause: kill --all KILL of a paused container stops it" {
    start_counter
    husk pause "$C1"
    husk kill --all "$C1" KILL
    wait_status "$C1" stopped
    husk delete "$C1"
    assert_nothing_left "$C1"
}

@test "pause: delete of a paused container needs --force, which removes it all" {
    start_counter
    husk pause "$C1"
    run husk delete "$C1"
    assert_failure
    assert_output --partial "paused"
    husk delete -f "$C1"
    assert_nothing_left "$C1"
}

@test "pause: a created container can be paused and resumed" {
    create "$C1"
    husk pause "$C1"
    assert_equal "$(freezer_state)" FROZEN
    husk resume "$C1"
    assert_equal "$(freezer_state)" THAWED
    assert_equal "$(state_field "$C1" status)" created
    husk start "$C1"
    wait_until 10 counter_above 0 || fail "the counter never started"
}
