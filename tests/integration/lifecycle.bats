#!/usr/bin/env bats
# The OCI state machine: created -> running -> stopped -> deleted, each step
# checked in `husk state` and in what the host holds.

load helpers

setup() {
    load_libs
    # Runs until the host drops /go into the rootfs, so each state can be
    # observed for as long as the test needs.
    setup_bundle '["sh", "-c", "echo started; while [ ! -e /go ]; do sleep 0.05; done; echo finished"]'
}

teardown() {
    teardown_bundle
}

@test "create: status created, the init's pid in state and --pid-file, in its own namespaces" {
    create c1 --pid-file "$TEST_TMP/pid"

    run husk state c1
    assert_success
    [ "$(jq -r .status <<<"$output")" = created ]
    [ "$(jq -r .id <<<"$output")" = c1 ]
    pid=$(jq -r .pid <<<"$output")
    [[ "$pid" =~ ^[1-9][0-9]*$ ]]
    assert_equal "$(cat "$TEST_TMP/pid")" "$pid"
    [ -d "/proc/$pid" ]
    pid_alive "$pid"

    # Every namespace the config asks for is a new one, not ours.
    local t f
    for t in $(jq -r '.linux.namespaces[] | select(.path == null) | .type' "$BUNDLE/config.json"); do
        f=$(ns_file "$t")
        [ "$(readlink "/proc/$pid/ns/$f")" != "$(readlink "/proc/self/ns/$f")" ] ||
            fail "namespace $t of the init is the host's"
    done
    [ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]

    # The user process has not started yet.
    run cat "$TEST_TMP/c1.out"
    refute_output --partial started
}

@test "start: created -> running -> stopped on exit -> delete removes everything" {
    create c1 --pid-file "$TEST_TMP/pid"
    pid=$(cat "$TEST_TMP/pid")

    run husk start c1
    assert_success
    wait_file_has "$TEST_TMP/c1.out" started
    run husk state c1
    assert_success
    [ "$(jq -r .status <<<"$output")" = running ]
    [ "$(jq -r .pid <<<"$output")" = "$pid" ]
    # The running process is the one the pid names: it runs our script.
    grep -q 'while' "/proc/$pid/cmdline"

    touch "$BUNDLE/rootfs/go"
    wait_file_has "$TEST_TMP/c1.out" finished
    wait_status c1 stopped
    wait_until 5 pid_gone "$pid"
    [ -d "$ROOT/c1" ] # stopped, but not deleted yet

    run husk delete c1
    assert_success
    assert_nothing_left c1
    run husk state c1
    assert_failure
}

@test "start twice: the second start fails and the container keeps running" {
    create c1
    run husk start c1
    assert_success
    wait_status c1 running

    run husk start c1
    assert_failure
    status_is c1 running
    wait_file_has "$TEST_TMP/c1.out" started
    [ "$(grep -c started "$TEST_TMP/c1.out")" = 1 ]
}

@test "start of a stopped container fails, and it stays stopped" {
    create c1
    husk start c1
    touch "$BUNDLE/rootfs/go"
    wait_status c1 stopped

    run husk start c1
    assert_failure
    status_is c1 stopped
    [ "$(grep -c started "$TEST_TMP/c1.out")" = 1 ]
}

@test "start of a container that does not exist fails" {
    run husk start nosuch
    assert_failure
    assert_output --partial nosuch
}

@test "state: stopped once the init is killed from outside with kill -9" {
    create c1
    husk start c1
    wait_status c1 running
    pid=$(state_field c1 pid)

    kill -9 "$pid"
    wait_status c1 stopped
    run husk delete c1
    assert_success
    assert_nothing_left c1
}

@test "state: a created container whose init was killed from outside is stopped" {
    create c1
    pid=$(state_field c1 pid)
    kill -9 "$pid"
    wait_status c1 stopped
    run husk start c1
    assert_failure
    run husk delete c1
    assert_success
    assert_nothing_left c1
}

@test "delete of a created container kills its init and removes everything" {
    create c1
    pid=$(state_field c1 pid)
    pid_alive "$pid"

    run husk delete c1
    assert_success
    wait_until 5 pid_gone "$pid"
    assert_nothing_left c1
    # Its user process never ran.
    run cat "$TEST_TMP/c1.out"
    refute_output --partial started
}

@test "two containers from one bundle live side by side" {
    use_cgroup a
    create a
    use_cgroup b
    create b
    husk start a
    husk start b
    wait_status a running
    wait_status b running
    [ "$(state_field a pid)" != "$(state_field b pid)" ]
    touch "$BUNDLE/rootfs/go"
    wait_status a stopped
    wait_status b stopped
    husk delete a
    status_is b stopped
    husk delete b
    assert_nothing_left a b
}

@test "create honours a relative --bundle resolved against the cwd" {
    (cd "$TEST_TMP" && husk create --bundle bundle c1 </dev/null >"$TEST_TMP/c1.out" 2>&1)
    run husk state c1
    assert_success
    assert_equal "$(jq -r .bundle <<<"$output")" "$BUNDLE"
}

@test "create with no --bundle uses the current directory" {
    (cd "$BUNDLE" && husk create c1 </dev/null >"$TEST_TMP/c1.out" 2>&1)
    run husk state c1
    assert_success
    assert_equal "$(jq -r .bundle <<<"$output")" "$BUNDLE"
}

@test "a process stopped with SIGSTOP is still running, not stopped" {
    create c1
    husk start c1
    wait_status c1 running
    pid=$(state_field c1 pid)
    kill -STOP "$pid"
    sleep 0.2
    status_is c1 running || { kill -CONT "$pid"; fail "state: $(husk state c1)"; }
    kill -CONT "$pid"
    status_is c1 running
}

@test "pid reuse: a stopped container whose pid now names another process stays stopped, and kill/delete leave that process alone" {
    create c1
    husk start c1
    touch "$BUNDLE/rootfs/go"
    wait_status c1 stopped
    state_file=$(grep -l '"pid"' "$ROOT/c1"/*.json 2>/dev/null | head -1 || true)
    [ -n "$state_file" ] || skip "no JSON state file with a \"pid\" key under $ROOT/c1"

    # Simulate the pid being reused: point the recorded pid at a process of
    # ours that is alive (and that no container owns).
    sleep 30 &
    victim=$!
    jq --argjson p "$victim" '.pid = $p' "$state_file" >"$state_file.new" && mv "$state_file.new" "$state_file"

    run husk state c1
    assert_success
    assert_equal "$(jq -r .status <<<"$output")" stopped
    run husk kill c1 KILL
    assert_failure
    pid_alive "$victim" || fail "husk kill signalled the process that reused the pid"
    run husk delete -f c1
    assert_success
    pid_alive "$victim" || fail "husk delete -f killed the process that reused the pid"
    kill "$victim"
    wait "$victim" || true
    assert_nothing_left c1
}

@test "husk run killed with SIGKILL: the container can still be seen and deleted" {
    env "HUSK_TEST_TAG=$TAG" "$HUSK" --root "$ROOT" run --bundle "$BUNDLE" c1 </dev/null >"$TEST_TMP/c1.out" 2>&1 &
    hpid=$!
    wait_file_has "$TEST_TMP/c1.out" started
    kill -9 "$hpid"
    wait "$hpid" || true
    run husk state c1
    assert_success
    [[ "$(jq -r .status <<<"$output")" =~ ^(running|stopped)$ ]] || fail "state: $output"
    run husk delete -f c1
    assert_success
    assert_nothing_left c1
}

@test "husk create killed with SIGKILL half-way (in a createRuntime hook): delete -f cleans up" {
    update_config ".hooks.createRuntime = [{\"path\": \"/bin/sh\",
        \"args\": [\"sh\", \"-c\", \"touch $TEST_TMP/in-hook; exec sleep 31\"], \"env\": [\"HUSK_TEST_TAG=$TAG\"]}]"
    env "HUSK_TEST_TAG=$TAG" "$HUSK" --root "$ROOT" create --bundle "$BUNDLE" c1 </dev/null >"$TEST_TMP/c1.out" 2>&1 &
    hpid=$!
    wait_until 10 test -e "$TEST_TMP/in-hook" || fail "the hook never ran: $(cat "$TEST_TMP/c1.out")"
    kill -9 "$hpid"
    wait "$hpid" || true
    # The hook is our own orphan now (husk cannot reap what outlives it).
    local p
    for p in $(tagged_pids); do
        if [ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "sleep 31 " ]; then
            kill -9 "$p" 2>/dev/null || true
        fi
    done

    run husk list -q
    assert_success
    run husk delete -f c1
    assert_success
    wait_until 5 no_test_pids || fail "left: $(describe_pids $(test_pids))"
    assert_nothing_left c1
    # And the id can be used again.
    update_config 'del(.hooks)'
    create c1
    status_is c1 created
}
