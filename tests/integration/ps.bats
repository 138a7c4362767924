#!/usr/bin/env bats
# husk ps: --format json is the array of the container's pids (what
# containerd reads), the table is the host's `ps` output restricted to the
# container's processes, `ps` arguments pass through, and bad input fails.

load helpers

setup() {
    load_libs
    setup_bundle
    C1=$CG_NAME-c1
    # the init forks one child and waits for it
    set_sh 'sleep 100 & echo "child $!"; echo ready; wait'
}

teardown() {
    teardown_bundle
}

start() {
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready
    INIT=$(state_field "$C1" pid)
}

# host_child: the host pid of the init's child (the sleep).
host_child() {
    cat "/proc/$INIT/task/$INIT/children" 2>/dev/null | awk '{ print $1 }'
}

@test "ps --format json: the init pid and its child, as a JSON array" {
    start
    child=$(host_child)
    [ -n "$child" ] || fail "the init $INIT has no child"
    run husk ps --format json "$C1"
    assert_success
    # valid JSON, an array of numbers, holding exactly the init and the child
    assert_equal "$(jq -c 'map(type) | unique' <<<"$output")" '["number"]'
    assert_equal "$(jq -c 'sort' <<<"$output")" "$(jq -cn --argjson a "$INIT" --argjson b "$child" '[$a, $b] | sort')"
    # -f is the short form
    run husk ps -f json "$C1"
    assert_success
    assert_equal "$(jq length <<<"$output")" 2
}

@test "ps: the table is ps -ef filtered to the container's pids" {
    start
    child=$(host_child)
    run husk ps "$C1"
    assert_success
    assert_line --index 0 --regexp '^UID +PID +PPID'
    assert_equal "${#lines[@]}" 3
    assert_line --regexp "^[^ ]+ +$INIT +[0-9]+ .*sh -c"
    assert_line --regexp "^[^ ]+ +$child +$INIT .*sleep 100"
    # nothing of the host's (pid 1 is not the container's)
    refute_line --regexp '^[^ ]+ +1 +0 '
}

@test "ps: ps arguments pass through, after -- or directly" {
    start
    child=$(host_child)
    run husk ps "$C1" -- -o pid,comm
    assert_success
    assert_line --index 0 --regexp '^ *PID +COMMAND'
    assert_line --regexp "^ *$INIT +sh$"
    assert_line --regexp "^ *$child +sleep$"
    assert_equal "${#lines[@]}" 3
    run husk ps "$C1" -o comm,pid
    assert_success
    assert_line --regexp "^sleep +$child$"
    # without a PID column there is nothing to filter on
    run husk ps "$C1" -- -o comm
    assert_failure
    assert_output --partial "PID column"
}

@test "ps: unknown id, bad format, stopped container" {
    run husk ps "$CG_NAME-nosuch"
    assert_failure
    assert_output --partial "does not exist"
    run husk ps --format yaml "$CG_NAME-nosuch"
    assert_failure
    assert_output --partial "--format"
    run husk ps
    assert_failure
    assert_output --partial "missing container ID"
    set_sh 'exit 0'
    run_detached "$C1"
    wait_status "$C1" stopped
    # a stopped container has no processes left
    run husk ps --format json "$C1"
    assert_success
    assert_output '[]'
}
