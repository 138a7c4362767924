#!/usr/bin/env bats
# husk events: the --stats document in runc's shape (read from the live
# cgroup), the periodic stats stream that ends when the container stops, an
# OOM event when a hog hits a small memory limit, and bad input.

load helpers

setup() {
    load_libs
    setup_bundle
    C1=$CG_NAME-c1
}

teardown() {
    teardown_bundle
}

@test "events --stats: one JSON document with cpu, memory, pids, blkio, hugetlb from the cgroup" {
    update_config '.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 50}}'
    set_sh 'sleep 100 & echo ready; wait'
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready
    run husk events --stats "$C1"
    assert_success
    assert_equal "${#lines[@]}" 1
    doc=$output
    assert_equal "$(jq -r .type <<<"$doc")" stats
    assert_equal "$(jq -r .id <<<"$doc")" "$C1"
    assert_equal "$(jq -c '.data | keys' <<<"$doc")" '["blkio","cpu","hugetlb","memory","pids"]'
    [ "$(jq .data.memory.usage.usage <<<"$doc")" -gt 0 ] || fail "memory usage is not positive: $doc"
    assert_equal "$(jq .data.memory.usage.limit <<<"$doc")" 67108864
    assert_equal "$(jq .data.pids.current <<<"$doc")" 2
    assert_equal "$(jq .data.pids.limit <<<"$doc")" 50
    [ "$(jq .data.cpu.usage.total <<<"$doc")" -gt 0 ] || fail "cpu usage is not positive: $doc"
    jq -e '.data.cpu.usage | has("kernel") and has("user")' <<<"$doc" >/dev/null
    jq -e '.data.memory | has("swap") and has("kernel") and has("kernelTCP")' <<<"$doc" >/dev/null
    if [ -d /sys/fs/cgroup/memory ]; then
        # v1: the raw memory.stat counters, as runc names them
        jq -e '.data.memory.raw | has("total_rss") and has("cache")' <<<"$doc" >/dev/null
        [ "$(jq '.data.cpu.usage.percpu | length' <<<"$doc")" -ge 1 ]
    fi
}

@test "events: a stats event every interval, and the stream ends when the container stops" {
    set_sh 'echo ready; while [ ! -e /stop ]; do sleep 0.05; done'
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready
    husk events --interval 200ms "$C1" >"$TEST_TMP/events" 2>"$TEST_TMP/events.err" &
    ev=$!
    wait_until 10 eval '[ "$(wc -l <"$TEST_TMP/events")" -ge 3 ]' ||
        fail "fewer than 3 events: $(cat "$TEST_TMP/events" "$TEST_TMP/events.err")"
    touch "$BUNDLE/rootfs/stop"
    wait_until 10 pid_gone "$ev" || fail "events did not end when the container stopped"
    wait "$ev" || fail "events exited $? ($(cat "$TEST_TMP/events.err"))"
    # every line is a stats document for this container
    assert_equal "$(jq -r '"\(.type) \(.id)"' "$TEST_TMP/events" | sort -u)" "stats $C1"
}

@test "events: an OOM event when a hog hits a small memory limit" {
    # memsw equal to the limit: no escape into swap; the hog's input is
    # bounded, so a missing limit fails the test rather than the host.
    update_config '.linux.resources = {"memory": {"limit": 33554432, "swap": 33554432}}'
    set_sh 'echo ready; while [ ! -e /go ]; do sleep 0.05; done
        head -c 268435456 /dev/zero | tail; echo "tail exited $?"; sleep 1'
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready
    husk events --interval 200ms "$C1" >"$TEST_TMP/events" 2>"$TEST_TMP/events.err" &
    ev=$!
    # the first stats line shows events has registered for OOM notifications
    wait_file_has "$TEST_TMP/events" '"type":"stats"'
    touch "$BUNDLE/rootfs/go"
    wait_until 15 grep -q '"type":"oom"' "$TEST_TMP/events" ||
        fail "no oom event: $(cat "$TEST_TMP/events" "$TEST_TMP/events.err")"
    assert_equal "$(grep '"type":"oom"' "$TEST_TMP/events" | head -1 | jq -c .)" "{\"type\":\"oom\",\"id\":\"$C1\"}"
    # The hog was killed by the kernel, counted from the host. (Not from sh's
    # "tail exited 137": while the hog's memory is still being freed the
    # kernel may OOM-kill sh as well, and then that line never comes.)
    local oomctl=/sys/fs/cgroup/memory/husk-test/$CG_NAME/memory.oom_control
    [ -e "$oomctl" ] || oomctl=/sys/fs/cgroup/husk-test/$CG_NAME/memory.events
    wait_until 10 awk '$1 == "oom_kill" && $2 >= 1 { ok = 1 } END { exit !ok }' "$oomctl" ||
        fail "no oom_kill counted in $oomctl: $(cat "$oomctl")"
    wait_until 10 pid_gone "$ev" || fail "events did not end when the container stopped"
}

@test "events: no oom event for a container that stays within its limit" {
    update_config '.linux.resources = {"memory": {"limit": 67108864}}'
    set_sh 'head -c 1048576 /dev/zero | tail >/dev/null; echo ready; while [ ! -e /stop ]; do sleep 0.05; done'
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready
    husk events --interval 100ms "$C1" >"$TEST_TMP/events" 2>"$TEST_TMP/events.err" &
    ev=$!
    wait_until 10 eval '[ "$(wc -l <"$TEST_TMP/events")" -ge 2 ]' ||
        fail "fewer than 2 events: $(cat "$TEST_TMP/events" "$TEST_TMP/events.err")"
    touch "$BUNDLE/rootfs/stop"
    wait_until 10 pid_gone "$ev" || fail "events did not end when the container stopped"
    run grep -c '"type":"stats"' "$TEST_TMP/events"
    [ "$output" -ge 2 ]
    run grep -c '"type":"oom"' "$TEST_TMP/events"
    assert_output 0
}

@test "events: unknown id, stopped container, bad interval" {
    run husk events --stats "$CG_NAME-nosuch"
    assert_failure
    assert_output --partial "does not exist"
    run husk events "$CG_NAME-nosuch"
    assert_failure
    assert_output --partial "does not exist"
    run husk events --interval 0s "$CG_NAME-nosuch"
    assert_failure
    assert_output --partial "--interval"
    run husk events --interval soon "$CG_NAME-nosuch"
    assert_failure
    assert_output --partial "soon"
    set_sh 'exit 0'
    run_detached "$C1"
    wait_status "$C1" stopped
    run husk events --stats "$C1"
    assert_failure
    assert_output --partial "not running"
    run husk events "$C1"
    assert_failure
    assert_output --partial "not running"
}
