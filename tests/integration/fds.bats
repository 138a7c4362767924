#!/usr/bin/env bats
# File descriptors: none of husk's own leak into the container; exactly the
# ones asked for with --preserve-fds and LISTEN_FDS go in, as 3, 4, ...

load helpers

setup() {
    load_libs
    setup_bundle
    echo three >"$TEST_TMP/f3"
    echo four >"$TEST_TMP/f4"
    echo five >"$TEST_TMP/f5"
    # pid 1 ends by exec'ing ls on its own fds: ls holds what husk gave the
    # process, plus its own fd on the directory (dropped by fds_seen).
    FD_LIST='exec ls -l /proc/self/fd'
}

teardown() {
    teardown_bundle
}

# fds_seen: from the `ls -l /proc/self/fd` in $TEST_TMP/out, the line
# "fds: N N ..." of the fds open in the container's process (ls's own
# directory fd left out).
fds_seen() {
    echo "fds:" $(awk '$(NF - 1) == "->" && $NF !~ "^/proc/[0-9]+/fd$" { print $(NF - 2) }' "$TEST_TMP/out" | sort -n)
}

# husk_with_fds FLAGS...: husk (stdout in $TEST_TMP/out) with fds 3..9 open
# on files and a pipe, as a careless caller might leave them.
husk_with_fds() {
    (
        exec 3<"$TEST_TMP/f3" 4<"$TEST_TMP/f4" 5<"$TEST_TMP/f5" 7>"$TEST_TMP/x" 8<>"$TEST_TMP/y"
        exec 9< <(:)
        # A high fd, past where a loop up to 1024 would stop closing.
        exec 4000<"$TEST_TMP/f3"
        husk "$@" </dev/null >"$TEST_TMP/out" 2>"$TEST_TMP/err"
    )
}

@test "run: no fd of husk's caller leaks into the container (only 0 1 2)" {
    set_sh "$FD_LIST"
    husk_with_fds run --bundle "$BUNDLE" c1 || fail "run failed: $(cat "$TEST_TMP/err")"
    run cat "$TEST_TMP/out"
    assert_equal "$(fds_seen)" "fds: 0 1 2"
}

@test "create + start: no fd of the caller of create or start leaks in" {
    set_sh "while [ ! -e /go ]; do sleep 0.05; done; $FD_LIST"
    husk_with_fds create --bundle "$BUNDLE" c1 || fail "create failed: $(cat "$TEST_TMP/err")"
    (
        exec 3<"$TEST_TMP/f3" 6<"$TEST_TMP/f4"
        husk start c1
    )
    touch "$BUNDLE/rootfs/go"
    wait_status c1 stopped
    run cat "$TEST_TMP/out"
    assert_equal "$(fds_seen)" "fds: 0 1 2"
}

@test "create: the container's stdio are the caller's own files, and nothing else is open" {
    set_sh 'exec ls -l /proc/self/fd'
    husk_with_fds create --bundle "$BUNDLE" c1 || fail "create failed: $(cat "$TEST_TMP/err")"
    husk start c1
    wait_status c1 stopped
    run cat "$TEST_TMP/out"
    assert_line --regexp " 0 -> /dev/null\$"
    assert_line --regexp " 1 -> $TEST_TMP/out\$"
    assert_line --regexp " 2 -> $TEST_TMP/err\$"
    assert_equal "$(fds_seen)" "fds: 0 1 2"
}

@test "--preserve-fds 2 passes fds 3 and 4, and no more" {
    set_sh "read a <&3; read b <&4; echo \"\$a \$b\"; $FD_LIST"
    husk_with_fds run --preserve-fds 2 --bundle "$BUNDLE" c1 || fail "run failed: $(cat "$TEST_TMP/err")"
    run cat "$TEST_TMP/out"
    assert_line --index 0 "three four"
    assert_equal "$(fds_seen)" "fds: 0 1 2 3 4"
}

@test "create --preserve-fds 1 passes fd 3 to the process started later" {
    set_sh "while [ ! -e /go ]; do sleep 0.05; done; read a <&3; echo \"got \$a\"; $FD_LIST"
    husk_with_fds create --preserve-fds 1 --bundle "$BUNDLE" c1 || fail "create failed: $(cat "$TEST_TMP/err")"
    husk start c1
    touch "$BUNDLE/rootfs/go"
    wait_status c1 stopped
    run cat "$TEST_TMP/out"
    assert_line --index 0 "got three"
    assert_equal "$(fds_seen)" "fds: 0 1 2 3"
}

# husk_listen N_LISTEN FLAGS...: husk started with LISTEN_FDS=N and
# LISTEN_PID set to husk's own pid (as systemd does), fds 3.. open.
husk_listen() {
    local n=$1
    shift
    (
        exec 3<"$TEST_TMP/f3" 4<"$TEST_TMP/f4" 5<"$TEST_TMP/f5"
        timeout -k 5 "$HUSK_TIMEOUT" sh -c 'n=$1 tag=$2 h=$3 r=$4; shift 4
                exec env LISTEN_FDS="$n" LISTEN_PID=$$ HUSK_TEST_TAG="$tag" "$h" --root "$r" "$@"' \
            _ "$n" "$TAG" "$HUSK" "$ROOT" "$@" </dev/null >"$TEST_TMP/out" 2>"$TEST_TMP/err"
    )
}

@test "LISTEN_FDS=1 with LISTEN_PID=husk passes fd 3 and sets LISTEN_FDS=1, LISTEN_PID=1 inside" {
    set_sh "echo \"LISTEN_FDS=\$LISTEN_FDS LISTEN_PID=\$LISTEN_PID\"; read a <&3; echo \"\$a\"; $FD_LIST"
    husk_listen 1 run --bundle "$BUNDLE" c1 || fail "run failed: $(cat "$TEST_TMP/err")"
    run cat "$TEST_TMP/out"
    assert_line --index 0 "LISTEN_FDS=1 LISTEN_PID=1"
    assert_line --index 1 three
    assert_equal "$(fds_seen)" "fds: 0 1 2 3"
}

@test "LISTEN_FDS=2 plus --preserve-fds 1 passes fds 3, 4 and 5" {
    set_sh "echo \"LISTEN_FDS=\$LISTEN_FDS\"; read a <&3; read b <&4; read c <&5; echo \"\$a \$b \$c\"; $FD_LIST"
    husk_listen 2 run --preserve-fds 1 --bundle "$BUNDLE" c1 || fail "run failed: $(cat "$TEST_TMP/err")"
    run cat "$TEST_TMP/out"
    assert_line --index 0 "LISTEN_FDS=2"
    assert_line --index 1 "three four five"
    assert_equal "$(fds_seen)" "fds: 0 1 2 3 4 5"
}

@test "LISTEN_FDS meant for another pid is ignored: no fd passed, no LISTEN_FDS inside" {
    set_sh "echo \"LISTEN_FDS=\$LISTEN_FDS\"; $FD_LIST"
    (
        exec 3<"$TEST_TMP/f3"
        LISTEN_FDS=1 LISTEN_PID=1 husk run --bundle "$BUNDLE" c1 </dev/null >"$TEST_TMP/out" 2>"$TEST_TMP/err"
    ) || fail "run failed: $(cat "$TEST_TMP/err")"
    run cat "$TEST_TMP/out"
    assert_line --index 0 "LISTEN_FDS="
    assert_equal "$(fds_seen)" "fds: 0 1 2"
}
