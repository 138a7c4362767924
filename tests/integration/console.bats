#!/usr/bin/env bats
# process.terminal: the pty master handed to a console socket (received by
# tests/helpers/recvtty, standing in for conmon / containerd's shim), what
# the container sees of its terminal, and the foreground proxy of `husk run`.

load helpers

RECVTTY=${RECVTTY:-$(dirname "$HUSK")/tests/helpers/recvtty}

setup() {
    load_libs
    [ -x "$RECVTTY" ] || fail "recvtty not built: $RECVTTY (run make)"
    setup_bundle
    update_config '.process.terminal = true'
    SOCK=$TEST_TMP/console.sock
    RECVTTY_PID=
}

teardown() {
    if [ -n "$RECVTTY_PID" ]; then
        kill -9 "$RECVTTY_PID" 2>/dev/null || true
        wait "$RECVTTY_PID" 2>/dev/null || true
    fi
    teardown_bundle
}

# start_recvtty [RECVTTY FLAGS...]: a receiver on $SOCK writing what the
# container prints to $TEST_TMP/console.out, the pty name to
# $TEST_TMP/console.name; returns once the socket accepts connections.
start_recvtty() {
    "$RECVTTY" -n "$TEST_TMP/console.name" "$@" "$SOCK" \
        </dev/null >"$TEST_TMP/console.out" 2>"$TEST_TMP/recvtty.err" 3>&- &
    RECVTTY_PID=$!
    wait_until 10 test -S "$SOCK" || fail "recvtty never listened: $(cat "$TEST_TMP/recvtty.err")"
}

# wait_recvtty: waits for the container side of the pty to close (recvtty
# exits 0 then) and sets $console to what arrived, without the \r of the
# terminal's line endings.
wait_recvtty() {
    local rc=0
    wait_until 20 pid_gone "$RECVTTY_PID" || fail "the console never closed: $(cat "$TEST_TMP/console.out")"
    wait "$RECVTTY_PID" || rc=$?
    RECVTTY_PID=
    console=$(tr -d '\r' <"$TEST_TMP/console.out")
    [ "$rc" -eq 0 ] || fail "recvtty exited $rc: $(cat "$TEST_TMP/recvtty.err")"
}

@test "console socket: stdin, stdout and stderr of the container are its pty" {
    set_sh 'tty; test -t 0 && echo stdin-tty; test -t 1 && echo stdout-tty; test -t 2 && echo stderr-tty'
    start_recvtty -m print
    run_detached c1 --console-socket "$SOCK"
    wait_recvtty

    echo "$console"
    [[ "$(sed -n 1p <<<"$console")" =~ ^/dev/pts/[0-9]+$ ]]
    assert_equal "$(sed -n 2,4p <<<"$console")" "$(printf 'stdin-tty\nstdout-tty\nstderr-tty')"

    # the payload names the pty as the container sees it (its own devpts)
    run cat "$TEST_TMP/console.name"
    assert_output --regexp '^/dev/pts/[0-9]+$'
}

@test "console socket: the master works after create + start, and exits close it" {
    set_sh 'echo hello-from-the-container'
    start_recvtty -m print
    create c1 --console-socket "$SOCK"
    # the master is already with the receiver; nothing printed before start
    [ ! -s "$TEST_TMP/console.out" ]
    husk start c1
    wait_recvtty
    assert_equal "$console" "hello-from-the-container"
    wait_status c1 stopped
}

@test "consoleSize is the window size the container sees" {
    update_config '.process.consoleSize = {"height": 41, "width": 123}'
    set_sh 'stty size'
    start_recvtty -m print
    run_detached c1 --console-socket "$SOCK"
    wait_recvtty
    assert_equal "$console" "41 123"
}

@test "/dev/console is the container's pty" {
    set_sh 'test -c /dev/console && echo console-is-char-dev
            stat -c %t:%T /dev/console; stat -L -c %t:%T /proc/self/fd/0
            echo written-to-dev-console > /dev/console'
    start_recvtty -m print
    run_detached c1 --console-socket "$SOCK"
    wait_recvtty

    echo "$console"
    assert_equal "$(sed -n 1p <<<"$console")" console-is-char-dev
    # same device number for /dev/console and the process's stdin
    assert_equal "$(sed -n 2p <<<"$console")" "$(sed -n 3p <<<"$console")"
    assert_equal "$(sed -n 4p <<<"$console")" written-to-dev-console
}

@test "console socket: input written to the master reaches the container" {
    set_sh 'read line; echo "got:$line"'
    start_recvtty -m print -i $'typed-on-the-host\n'
    run_detached c1 --console-socket "$SOCK"
    wait_recvtty
    echo "$console"
    # the terminal echoes the input line, then the container's answer
    assert_equal "$(tail -n 1 <<<"$console")" "got:typed-on-the-host"
}

@test "console socket: no fd but stdio in the container, the pty master included" {
    set_sh 'ls /proc/self/fd'
    start_recvtty -m print
    # extra fds open in husk's caller must not leak either
    run_detached c1 --console-socket "$SOCK" 7</dev/null 8>"$TEST_TMP/extra"
    wait_recvtty
    # 3 is ls's own handle on /proc/self/fd
    assert_equal "$(tr -s ' \t' '\n\n' <<<"$console" | grep . | sort -n | tr '\n' ' ')" "0 1 2 3 "
}

@test "console socket nobody listens on: create fails naming it, and leaves nothing" {
    hrun create --bundle "$BUNDLE" --console-socket "$TEST_TMP/nobody.sock" c1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"$TEST_TMP/nobody.sock"* ]]
    assert_nothing_left c1
}

@test "terminal without --console-socket is refused when husk detaches" {
    hrun create --bundle "$BUNDLE" c1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *console-socket* ]]
    assert_nothing_left c1

    hrun run -d --bundle "$BUNDLE" c2
    [ "$status" -ne 0 ]
    [[ "$stderr" == *console-socket* ]]
    assert_nothing_left c2
}

@test "--console-socket without process.terminal is refused" {
    update_config '.process.terminal = false'
    hrun create --bundle "$BUNDLE" --console-socket "$SOCK" c1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *terminal* ]]
    assert_nothing_left c1
}

# husk_on_a_tty CMD: runs CMD (a husk command line) with a terminal of its
# own, made by script(1), as a user at a shell would. script's stdin stays
# open (and silent) meanwhile: at EOF script would type an end-of-file into
# the terminal, which the container's pty would echo.
husk_on_a_tty() {
    run script -qec "stty rows 29 cols 97; $1" /dev/null \
        < <(exec 3>&- 2>/dev/null; echo "$BASHPID" >"$TEST_TMP/stdin.pid"; exec sleep 60)
    kill "$(cat "$TEST_TMP/stdin.pid")" 2>/dev/null || true
    output=$(tr -d '\r' <<<"$output")
    echo "$output"
}

@test "run in the foreground without a socket proxies the terminal" {
    command -v script >/dev/null || skip "script(1) is not installed"
    set_sh 'tty; test -t 0 && echo stdin-tty; echo done; exit 7'
    husk_on_a_tty "$HUSK --root '$ROOT' run --bundle '$BUNDLE' c1"
    [ "$status" -eq 7 ]
    assert_equal "$output" "$(printf '/dev/pts/0\nstdin-tty\ndone')"
    assert_no_state c1
}

@test "run in the foreground: the window size of husk's terminal is the container's" {
    command -v script >/dev/null || skip "script(1) is not installed"
    set_sh 'stty size'
    husk_on_a_tty "$HUSK --root '$ROOT' run --bundle '$BUNDLE' c1"
    assert_success
    assert_equal "$output" "29 97"
}
