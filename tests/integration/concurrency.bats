#!/usr/bin/env bats
# Concurrent commands: creates of different ids don't get in each other's
# way; creates of one id leave exactly one container.

load helpers

setup() {
    load_libs
    setup_bundle
    set_sh 'while [ ! -e /go ]; do sleep 0.05; done'
    update_config ".root = {\"path\": \"$BUNDLE/rootfs\", \"readonly\": true}"
}

teardown() {
    teardown_bundle
}

N=20

# bundle_for I: a bundle of its own for container I (own cgroup leaf),
# sharing the read-only rootfs.
bundle_for() {
    local b=$TEST_TMP/b$1
    mkdir -p "$b"
    cp "$BUNDLE/config.json" "$b/config.json"
    use_cgroup "c$1" "$b"
    echo "$b"
}

@test "20 parallel creates of different ids all succeed and all show created" {
    local i pids=() b
    for i in $(seq 1 $N); do
        b=$(bundle_for "$i")
        husk create --bundle "$b" "c$i" </dev/null >"$TEST_TMP/c$i.out" 2>&1 &
        pids+=($!)
    done
    local failed=0
    for i in $(seq 1 $N); do
        wait "${pids[$((i - 1))]}" || { failed=$((failed + 1)); echo "c$i: $(cat "$TEST_TMP/c$i.out")" >&2; }
    done
    assert_equal "failed=$failed" "failed=0"

    run husk list -q
    assert_success
    assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "$(for i in $(seq 1 $N); do echo "c$i"; done | sort | tr '\n' ' ')"
    local seen=()
    for i in $(seq 1 $N); do
        st=$(husk state "c$i")
        assert_equal "c$i $(jq -r .status <<<"$st")" "c$i created"
        pid=$(jq -r .pid <<<"$st")
        pid_alive "$pid"
        seen+=("$pid")
    done
    assert_equal "$(printf '%s\n' "${seen[@]}" | sort -u | wc -l)" "$N"

    # And 20 parallel deletes.
    pids=()
    for i in $(seq 1 $N); do
        husk delete "c$i" >"$TEST_TMP/d$i.out" 2>&1 &
        pids+=($!)
    done
    failed=0
    for i in $(seq 1 $N); do
        wait "${pids[$((i - 1))]}" || { failed=$((failed + 1)); echo "delete c$i: $(cat "$TEST_TMP/d$i.out")" >&2; }
    done
    assert_equal "failed=$failed" "failed=0"
    local ids=()
    for i in $(seq 1 $N); do ids+=("c$i"); done
    wait_until 5 no_test_pids || fail "left: $(describe_pids $(test_pids))"
    assert_nothing_left "${ids[@]}"
}

@test "20 parallel runs of different ids all exit 0" {
    set_sh 'echo "hello from $HOSTNAME"'
    local i pids=() b
    for i in $(seq 1 $N); do
        b=$(bundle_for "$i")
        update_config ".hostname = \"h$i\"" "$b"
        husk run --bundle "$b" "c$i" </dev/null >"$TEST_TMP/c$i.out" 2>&1 &
        pids+=($!)
    done
    for i in $(seq 1 $N); do
        wait "${pids[$((i - 1))]}" || fail "run c$i: $(cat "$TEST_TMP/c$i.out")"
    done
    for i in $(seq 1 $N); do
        assert_equal "$(cat "$TEST_TMP/c$i.out")" "hello from h$i"
    done
    local ids=()
    for i in $(seq 1 $N); do ids+=("c$i"); done
    assert_nothing_left "${ids[@]}"
}

@test "parallel creates of the same id: exactly one succeeds" {
    local i pids=() ok=0
    for i in $(seq 1 10); do
        husk create --bundle "$BUNDLE" same </dev/null >"$TEST_TMP/s$i.out" 2>&1 &
        pids+=($!)
    done
    local st
    for i in $(seq 1 10); do
        st=0
        wait "${pids[$((i - 1))]}" || st=$?
        [ "$st" -lt 124 ] || fail "create $i exited $st: $(cat "$TEST_TMP/s$i.out")"
        [ "$st" -ne 0 ] || ok=$((ok + 1))
    done
    assert_equal "succeeded=$ok" "succeeded=1"
    run husk list -q
    assert_output same
    status_is same created
    pid=$(state_field same pid)
    pid_alive "$pid"
    # The losers left no process behind: the only one of this test is the init.
    wait_until 5 test_only_pid "$pid" || fail "processes: $(describe_pids $(test_pids))"

    run husk delete same
    assert_success
    assert_nothing_left same
}

test_only_pid() {
    [ "$(test_pids | tr '\n' ' ')" = "$1 " ]
}

@test "parallel delete -f of one running container: it ends up gone, nothing hangs" {
    create c1
    husk start c1
    wait_status c1 running
    local i pids=() st ok=0
    for i in $(seq 1 5); do
        husk delete -f c1 >"$TEST_TMP/d$i.out" 2>&1 &
        pids+=($!)
    done
    for i in $(seq 1 5); do
        st=0
        wait "${pids[$((i - 1))]}" || st=$?
        [ "$st" -lt 124 ] || fail "delete $i exited $st: $(cat "$TEST_TMP/d$i.out")"
        [ "$st" -ne 0 ] || ok=$((ok + 1))
    done
    [ "$ok" -ge 1 ]
    wait_until 5 no_test_pids || fail "left: $(describe_pids $(test_pids))"
    assert_nothing_left c1
}

@test "state and list while containers are being created never see a half-written state" {
    local i pids=() b
    for i in $(seq 1 10); do
        b=$(bundle_for "$i")
        husk create --bundle "$b" "c$i" </dev/null >"$TEST_TMP/c$i.out" 2>&1 &
        pids+=($!)
    done
    local out
    for i in $(seq 1 20); do
        out=$(husk list --format json 2>"$TEST_TMP/list.err") || fail "list failed while creating: $(cat "$TEST_TMP/list.err")"
        [ ! -s "$TEST_TMP/list.err" ] || fail "list complained while creating: $(cat "$TEST_TMP/list.err")"
        jq -e '(. // []) | all(.status == "creating" or .status == "created")' <<<"$out" >/dev/null ||
            fail "list while creating: $out"
    done
    for i in $(seq 1 10); do
        wait "${pids[$((i - 1))]}" || fail "create c$i: $(cat "$TEST_TMP/c$i.out")"
    done
}

@test "parallel starts of one created container: exactly one succeeds, the process runs once" {
    set_sh 'echo started'
    create c1
    local i pids=() st ok=0
    for i in $(seq 1 5); do
        husk start c1 >"$TEST_TMP/st$i.out" 2>&1 &
        pids+=($!)
    done
    for i in $(seq 1 5); do
        st=0
        wait "${pids[$((i - 1))]}" || st=$?
        [ "$st" -lt 124 ] || fail "start $i exited $st: $(cat "$TEST_TMP/st$i.out")"
        [ "$st" -ne 0 ] || ok=$((ok + 1))
    done
    assert_equal "succeeded=$ok" "succeeded=1"
    wait_status c1 stopped
    assert_equal "$(grep -c started "$TEST_TMP/c1.out")" 1
    run husk delete c1
    assert_success
    assert_nothing_left c1
}
