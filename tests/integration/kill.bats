#!/usr/bin/env bats
# `kill ID [SIGNAL]` and `kill --all`: the signal the container's process
# really received, named in every form runc accepts.

load helpers

bats_require_minimum_version 1.5.0

setup() {
    load_libs
    setup_bundle
    # pid 1 of a pid namespace only gets the signals it has handlers for,
    # so the traps both report the signal and keep it alive.
    set_sh 'for s in TERM USR1 USR2 HUP INT; do trap "echo got-$s" $s; done
        echo ready; while :; do sleep 0.05; done'
}

teardown() {
    teardown_bundle
}

# start_trapper ID: a running container with the traps installed.
start_trapper() {
    use_cgroup "$1"
    create "$1"
    husk start "$1"
    wait_file_has "$TEST_TMP/$1.out" ready
}

# count_in ID WORD: how many lines of the container's output are WORD.
count_in() {
    grep -cx -- "$2" "$TEST_TMP/$1.out" || true
}

# wait_count ID WORD N: polls until the container has printed WORD N times.
wait_count() {
    wait_until 10 test_count "$@" || {
        echo "$1 printed '$2' $(count_in "$1" "$2") times, not $3: $(cat "$TEST_TMP/$1.out")" >&2
        return 1
    }
}

test_count() {
    [ "$(count_in "$1" "$2")" = "$3" ]
}

@test "kill without a signal sends SIGTERM" {
    start_trapper c1
    run husk kill c1
    assert_success
    wait_count c1 got-TERM 1
    status_is c1 running
}

@test "kill TERM, SIGTERM and 15 all send SIGTERM" {
    start_trapper c1
    local n=0 sig
    for sig in TERM SIGTERM 15; do
        run husk kill c1 "$sig"
        assert_success
        n=$((n + 1))
        wait_count c1 got-TERM "$n"
    done
    assert_equal "$(count_in c1 got-USR1)" 0
}

@test "kill USR1, SIGUSR1, 10, HUP, SIGUSR2 and 12 reach the process" {
    start_trapper c1
    husk kill c1 USR1
    wait_count c1 got-USR1 1
    husk kill c1 SIGUSR1
    wait_count c1 got-USR1 2
    husk kill c1 10
    wait_count c1 got-USR1 3
    husk kill c1 HUP
    wait_count c1 got-HUP 1
    husk kill c1 SIGUSR2
    wait_count c1 got-USR2 1
    husk kill c1 12
    wait_count c1 got-USR2 2
    husk kill c1 INT
    wait_count c1 got-INT 1
    assert_equal "$(count_in c1 got-TERM)" 0
}

@test "kill: lower-case names (term, sigusr1) and a real-time signal number (34)" {
    set_sh 'trap "echo got-34" 34; for s in TERM USR1; do trap "echo got-$s" $s; done
        echo ready; while :; do sleep 0.05; done'
    start_trapper c1
    husk kill c1 term
    wait_count c1 got-TERM 1
    husk kill c1 sigusr1
    wait_count c1 got-USR1 1
    husk kill c1 34
    wait_count c1 got-34 1
}

@test "kill KILL, SIGKILL and 9 stop the container" {
    local id sig
    for id in a b c; do
        start_trapper "$id"
    done
    husk kill a KILL
    husk kill b SIGKILL
    husk kill c 9
    for id in a b c; do
        wait_status "$id" stopped
    done
    husk delete a
    husk delete b
    husk delete c
    assert_nothing_left a b c
}

@test "kill --all and -a signal every process of the container" {
    set_sh 'sleep 1000 & sleep 1000 & echo ready; wait'
    use_cgroup c1
    create c1
    husk start c1
    wait_file_has "$TEST_TMP/c1.out" ready
    [ "$(tagged_pids | wc -l)" -ge 3 ] || fail "expected 3 processes, got: $(tagged_pids)"

    run husk kill --all c1 KILL
    assert_success
    wait_status c1 stopped
    wait_until 5 no_test_pids || fail "left: $(describe_pids $(test_pids))"

    set_sh 'trap "echo got-USR1-init" USR1; sh -c "trap \"echo got-USR1-child\" USR1; while :; do sleep 0.05; done" & echo ready; while :; do sleep 0.05; done'
    use_cgroup c2
    create c2
    husk start c2
    wait_file_has "$TEST_TMP/c2.out" ready
    run husk kill -a c2 USR1
    assert_success
    wait_file_has "$TEST_TMP/c2.out" got-USR1-init
    wait_file_has "$TEST_TMP/c2.out" got-USR1-child
}

@test "kill with an unknown signal fails naming it; the container is untouched" {
    start_trapper c1
    local sig
    for sig in SIGFOO FOO 999 -5 ""; do
        run --separate-stderr husk kill c1 "$sig"
        assert_failure
        [ -z "$sig" ] || [[ "$stderr" == *"$sig"* ]] || fail "kill '$sig': stderr does not name it: $stderr"
    done
    status_is c1 running
    sleep 0.2
    run grep -c '^got-' "$TEST_TMP/c1.out"
    assert_output 0
}

@test "kill of a stopped container fails" {
    set_sh 'exit 0'
    create c1
    husk start c1
    wait_status c1 stopped
    run --separate-stderr husk kill c1 KILL
    assert_failure
    status_is c1 stopped
}

@test "kill of a container that does not exist fails naming it" {
    run --separate-stderr husk kill nosuch KILL
    assert_failure
    [[ "$stderr" == *nosuch* ]] || fail "stderr does not name the id: $stderr"
}

@test "kill KILL of a created container stops it; its process never runs" {
    set_sh 'echo started'
    create c1
    pid=$(state_field c1 pid)
    run husk kill c1 KILL
    assert_success
    wait_status c1 stopped
    wait_until 5 pid_gone "$pid"
    run husk start c1
    assert_failure
    run cat "$TEST_TMP/c1.out"
    refute_output --partial started
    husk delete c1
    assert_nothing_left c1
}

@test "kill --all without a pid namespace reaches every process of the container's cgroup" {
    update_config '.linux.namespaces |= map(select(.type != "pid"))'
    set_sh 'sleep 1000 & sleep 1000 & echo ready; wait'
    use_cgroup c1
    create c1
    husk start c1
    wait_file_has "$TEST_TMP/c1.out" ready
    [ "$(tagged_pids | wc -l)" -ge 3 ] || fail "expected 3 processes, got: $(tagged_pids)"
    run husk kill --all c1 KILL
    assert_success
    wait_status c1 stopped
    wait_until 5 no_tagged_pids || fail "left: $(describe_pids $(tagged_pids))"
}
