#!/usr/bin/env bats
# husk exec beyond the flags: the container's session keyring, exec racing
# a delete (the container's lock), and early failures of the exec'd
# process always reported with the process's own message.

load helpers

KEYRING_HELPER=${KEYRING_HELPER:-$(dirname "$HUSK")/tests/helpers/session_keyring}
RECVTTY=${RECVTTY:-$(dirname "$HUSK")/tests/helpers/recvtty}

setup() {
    load_libs
    setup_bundle '["sleep", "1000"]'
}

teardown() {
    teardown_bundle
}

# keyring_bundle: the init records its session keyring's serial in
# /tmp/init-keyring (its child, the helper, shares it), then sleeps.
keyring_bundle() {
    [ -x "$KEYRING_HELPER" ] || fail "session_keyring helper not built: $KEYRING_HELPER"
    cp "$KEYRING_HELPER" "$BUNDLE/rootfs/bin/session_keyring"
    update_config '.root.readonly = false'
    set_sh 'session_keyring >/tmp/init-keyring; exec sleep 1000'
}

exec_placed() {
    local n
    n=$(cg_procs 2>/dev/null) && [ "$n" -ge 2 ]
}

init_keyring() {
    wait_until 10 test -s "$BUNDLE/rootfs/tmp/init-keyring" || fail "the init wrote no keyring serial"
    cat "$BUNDLE/rootfs/tmp/init-keyring"
}

@test "exec: joins the session keyring of the container's init" {
    keyring_bundle
    run_detached c1
    local init host
    init=$(init_keyring)
    host=$("$KEYRING_HELPER")
    # the init has a keyring of its own ...
    [ -n "$init" ] && [ "$init" != "$host" ]
    # ... and every exec joins that one, not the caller's
    hrun exec c1 session_keyring
    assert_success
    assert_output "$init"
    hrun exec -u 1000 c1 session_keyring
    assert_success
    assert_output "$init"
    hrun exec -d --pid-file "$TEST_TMP/k.pid" c1 sh -c 'session_keyring >/tmp/detached-keyring'
    assert_success
    wait_until 5 test -s "$BUNDLE/rootfs/tmp/detached-keyring"
    assert_equal "$(cat "$BUNDLE/rootfs/tmp/detached-keyring")" "$init"
}

@test "exec: joins the init's session keyring in a user namespace too" {
    keyring_bundle
    update_config '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
    local d=$BUNDLE
    while [ "$d" != / ]; do
        [ "$(stat -c %A "$d" | cut -c10)" = x ] || chmod o+x "$d"
        d=$(dirname "$d")
    done
    chown -R 100000:100000 "$BUNDLE/rootfs/tmp"
    run_detached c1
    local init
    init=$(init_keyring)
    [ "$init" != "$("$KEYRING_HELPER")" ]
    hrun exec c1 session_keyring
    assert_success
    assert_output "$init"
    hrun exec -u 1000 c1 session_keyring
    assert_success
    assert_output "$init"
}

@test "exec: --no-new-keyring containers: exec keeps its caller's keyring" {
    keyring_bundle
    run_detached c1 --no-new-keyring
    local host
    host=$("$KEYRING_HELPER")
    # the init kept the keyring of husk's caller (this shell's) ...
    assert_equal "$(init_keyring)" "$host"
    # ... and so does exec: no keyring named after the container appears
    hrun exec c1 session_keyring
    assert_success
    assert_output "$host"
}

@test "exec: a delete racing execs leaves clean results and nothing behind" {
    run_detached c1
    wait_status c1 running
    local i round pids rc n out err
    # the delete lands at different points of the execs' start
    for round in 0 1 2 3 4 5 6 7; do
        pids=()
        for i in $(seq 1 12); do
            husk exec c1 sh -c "echo out-$i" </dev/null \
                >"$TEST_TMP/r$round.$i.out" 2>"$TEST_TMP/r$round.$i.err" &
            pids+=($!)
        done
        sleep "0.0$round"
        husk delete -f c1
        for i in "${!pids[@]}"; do
            rc=0
            wait "${pids[$i]}" || rc=$?
            n=$((i + 1))
            out=$(cat "$TEST_TMP/r$round.$n.out")
            err=$(cat "$TEST_TMP/r$round.$n.err")
            case "$rc" in
            0) assert_equal "$out" "out-$n" ;;
            # placed in the container, then killed by the delete
            137) [ -z "$err" ] || fail "exec $n exited 137 with stderr: $err" ;;
            *)
                [[ "$err" == "husk: exec: container \`c1\` does not exist" ||
                    "$err" == "husk: exec: container \`c1\` is stopped"* ]] ||
                    fail "exec $n (round $round) failed ($rc) with: $err"
                ;;
            esac
        done
        assert_nothing_left c1
        [ "$round" = 7 ] || { run_detached c1 && wait_status c1 running; }
    done
}

# early_failure N ARGS... EXPECTED: N execs that fail before their execve,
# 10 at a time (load), each must report EXPECTED and exit non-zero.
early_failures() {
    local n=$1 expected=${!#} i batch pids
    local args=("${@:2:$#-2}")
    for ((batch = 0; batch < n; batch += 10)); do
        pids=()
        for ((i = batch; i < batch + 10 && i < n; i++)); do
            husk exec "${args[@]}" </dev/null >"$TEST_TMP/e.$i.out" 2>"$TEST_TMP/e.$i.err" &
            pids+=($!)
        done
        for ((i = batch; i < batch + 10 && i < n; i++)); do
            local rc=0
            wait "${pids[$((i - batch))]}" || rc=$?
            [ "$rc" -ne 0 ] || fail "exec ${args[*]} #$i succeeded"
            [ "$rc" -ne 124 ] || fail "exec ${args[*]} #$i hung"
            grep -qF -- "$expected" "$TEST_TMP/e.$i.err" ||
                fail "exec ${args[*]} #$i ($rc): wanted '$expected', got: $(cat "$TEST_TMP/e.$i.err")"
            ! grep -qi "broken pipe\|connection reset" "$TEST_TMP/e.$i.err" ||
                fail "exec ${args[*]} #$i: $(cat "$TEST_TMP/e.$i.err")"
        done
    done
}

@test "exec: early failures of the process always report its own error (30 each)" {
    run_detached c1
    wait_status c1 running
    INIT=$(state_field c1 pid)
    early_failures 30 --cwd /no/such/dir c1 true "cwd \`/no/such/dir\` in container \`c1\`: No such file or directory"
    early_failures 30 -u nobody-here c1 true "no user \`nobody-here\` in the container's /etc/passwd"
    early_failures 30 c1 no-such-program "\"no-such-program\": executable file not found in \$PATH"
    early_failures 30 -d c1 /no/such/program "exec \"/no/such/program\": No such file or directory"
    early_failures 30 -t c1 no-such-program "\"no-such-program\": executable file not found in \$PATH"
    # a pty made, then the failure: the console socket is never contacted
    # (its reader would only get the master of a process that never ran)
    [ -x "$RECVTTY" ] || fail "recvtty not built: $RECVTTY"
    local sock=$TEST_TMP/console.sock
    "$RECVTTY" -m hold -n "$TEST_TMP/console.name" "$sock" </dev/null >/dev/null 2>"$TEST_TMP/recvtty.err" 3>&- &
    local recv=$!
    wait_until 10 test -S "$sock"
    early_failures 30 -t -d --console-socket "$sock" c1 no-such-program \
        "\"no-such-program\": executable file not found in \$PATH"
    [ ! -e "$TEST_TMP/console.name" ] || fail "the console socket's reader got a pty"
    pid_alive "$recv" || fail "the console socket's reader ended: $(cat "$TEST_TMP/recvtty.err")"
    kill -9 "$recv"
    wait "$recv" || true
    # the init is the only process left in the container
    local left
    left=$(tagged_pids | grep -vx "$INIT" || true)
    [ -z "$left" ] || fail "left running: $(describe_pids $left)"
    status_is c1 running
}

@test "exec: an exec waiting in a paused container does not hold off delete" {
    run_detached c1
    wait_status c1 running
    husk pause c1 || skip "pause is not available here"
    # placed in the frozen cgroup, the process waits for a resume
    HUSK_TIMEOUT=15 husk exec --ignore-paused c1 echo never </dev/null \
        >"$TEST_TMP/p.out" 2>"$TEST_TMP/p.err" &
    local hp=$!
    wait_until 10 exec_placed
    # the exec (nor its frozen child) holds no lock meanwhile: delete goes
    # through at once
    local drc=0
    HUSK_TIMEOUT=5 husk delete -f c1 || drc=$?
    if [ "$drc" -ne 0 ]; then
        # thaw, so that the frozen child can die and teardown can clean up
        husk resume c1 || true
        fail "delete -f exited $drc while an exec waited in the paused container"
    fi
    local rc=0
    wait "$hp" || rc=$?
    [ "$rc" -eq 137 ] || fail "exec exited $rc: $(cat "$TEST_TMP/p.err")"
    [ ! -s "$TEST_TMP/p.out" ]
    assert_nothing_left c1
}
