#!/usr/bin/env bats
# --pid-file: the file holds the container init's pid, exactly (no newline:
# containerd's go-runc reads it with strconv.Atoi on the raw bytes).

load helpers

setup() {
    load_libs
    setup_bundle
    set_sh 'echo ready; while [ ! -e /go ]; do sleep 0.05; done'
}

teardown() {
    teardown_bundle
}

# assert_pidfile FILE ID: FILE holds exactly the decimal pid `state` reports.
assert_pidfile() {
    local file=$1 id=$2 pid
    [ -f "$file" ] || fail "no pid file $file"
    pid=$(state_field "$id" pid)
    [[ "$pid" =~ ^[1-9][0-9]*$ ]] || fail "state pid: $pid"
    # Compared byte for byte: a trailing newline or space would show here.
    assert_equal "$(od -An -c "$file" | tr -d ' \n')" "$(printf %s "$pid" | od -An -c | tr -d ' \n')"
    [ "$(stat -c %s "$file")" = "${#pid}" ] || fail "pid file is $(stat -c %s "$file") bytes for pid $pid"
    pid_alive "$pid"
}

@test "create --pid-file: exactly the init's pid" {
    create c1 --pid-file "$TEST_TMP/c1.pid"
    assert_pidfile "$TEST_TMP/c1.pid" c1
    # The pid is the container's init: it is pid 1 in its own pid namespace.
    pid=$(cat "$TEST_TMP/c1.pid")
    grep -q '^NSpid:.*[[:space:]]1$' "/proc/$pid/status" || fail "$(grep NSpid "/proc/$pid/status")"
}

@test "the pid in the pid file is the process that becomes the user process" {
    create c1 --pid-file "$TEST_TMP/c1.pid"
    husk start c1
    wait_file_has "$TEST_TMP/c1.out" ready
    pid=$(cat "$TEST_TMP/c1.pid")
    grep -q 'while' "/proc/$pid/cmdline" || fail "pid $pid runs $(tr '\0' ' ' <"/proc/$pid/cmdline")"
}

@test "--pid-file relative to the caller's cwd" {
    mkdir "$TEST_TMP/sub"
    (cd "$TEST_TMP/sub" && husk create --bundle "$BUNDLE" --pid-file rel.pid c1 </dev/null >"$TEST_TMP/c1.out" 2>&1)
    assert_pidfile "$TEST_TMP/sub/rel.pid" c1
}

@test "run -d --pid-file" {
    run_detached c1 --pid-file "$TEST_TMP/c1.pid"
    assert_pidfile "$TEST_TMP/c1.pid" c1
    status_is c1 running
}

@test "run --pid-file in the foreground writes the pid while the container runs" {
    env "HUSK_TEST_TAG=$TAG" "$HUSK" --root "$ROOT" run --bundle "$BUNDLE" --pid-file "$TEST_TMP/c1.pid" c1 \
        </dev/null >"$TEST_TMP/c1.out" 2>&1 &
    hpid=$!
    wait_file_has "$TEST_TMP/c1.out" ready
    assert_pidfile "$TEST_TMP/c1.pid" c1
    touch "$BUNDLE/rootfs/go"
    wait_until 10 pid_gone "$hpid"
    wait "$hpid"
}

@test "an existing pid file is replaced" {
    printf '999999999\nold junk\n' >"$TEST_TMP/c1.pid"
    create c1 --pid-file "$TEST_TMP/c1.pid"
    assert_pidfile "$TEST_TMP/c1.pid" c1
}

@test "--pid-file in a directory that does not exist: create fails, nothing left" {
    hrun create --bundle "$BUNDLE" --pid-file "$TEST_TMP/nodir/c1.pid" c1
    assert_failure
    [ "$status" -lt 124 ]
    [[ "$stderr" == *"$TEST_TMP/nodir"* ]] || fail "stderr does not name the path: $stderr"
    assert_nothing_left c1
}
