# The hostile-rootfs tests, as functions: security_rootfs.bats runs them
# with husk as built, security_rootfs_fallback.bats with openat2 failing
# ENOSYS (the path resolution fallback for kernels before 5.6).

setup() {
    load_libs
    setup_bundle
    if [ -n "${HOSTILE_NO_OPENAT2:-}" ]; then
        # husk (and the init it starts) see openat2 fail ENOSYS.
        printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$NO_OPENAT2" "$HUSK_REAL" > "$TEST_TMP/husk"
        chmod +x "$TEST_TMP/husk"
        HUSK=$TEST_TMP/husk
    fi
    ROOTFS=$BUNDLE/rootfs
    CANARY=$TEST_TMP/canary-host-dir
    mkdir "$CANARY"
    echo host-data > "$CANARY/keep"
    HOST_BEFORE=$(host_snapshot)
}

teardown() {
    teardown_bundle
}

# What an escape would change on the host: the canary dir's entries (with
# type, size and content), and the mounts on the places the planted
# symlinks point to.
host_snapshot() {
    find "$CANARY" -printf '%P %y %s %m\n' | sort
    cat "$CANARY/keep"
    awk -v c="$CANARY" '$5 == "/" || $5 == "/tmp" || $5 == "/dev" || $5 == "/dev/null" ||
        $5 == "/proc" || $5 == "/sys" || $5 == "/mnt" || index($5, c) == 1 { print $1, $5, $6 }' \
        /proc/self/mountinfo | sort
}

assert_host_untouched() {
    local now
    now=$(host_snapshot)
    if [ "$now" != "$HOST_BEFORE" ]; then
        echo "host changed:" >&2
        diff <(echo "$HOST_BEFORE") <(echo "$now") >&2
        return 1
    fi
}

# jq_config [JQ_ARGS...] FILTER: update_config with --arg and friends.
jq_config() {
    jq "$@" "$BUNDLE/config.json" > "$BUNDLE/config.json.new" &&
        mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# The canary's path as a symlink target that climbs out with "..".
climbing_target() {
    echo "../../../../../../../../../../..$CANARY"
}


# hostile rootfs: a mount destination symlinked to / stays in the rootfs
hostile_01() {
    ln -s / "$ROOTFS/evil"
    update_config '.mounts += [{"destination": "/evil/husk-landed", "type": "tmpfs", "source": "tmpfs"}]'
    set_sh 'stat -f -c %T /husk-landed; touch /husk-landed/x && echo wrote'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 tmpfs
    assert_line --index 1 wrote
    [ -d "$ROOTFS/husk-landed" ]
    [ ! -e /husk-landed ]
    assert_host_untouched
    assert_nothing_left c1
}

# hostile rootfs: a destination symlink climbing out with ../.. stays in the rootfs
hostile_02() {
    ln -s "$(climbing_target)" "$ROOTFS/up"
    update_config '.mounts += [{"destination": "/up", "type": "tmpfs", "source": "tmpfs"}]'
    set_sh "touch /up/pwned && stat -f -c %T '$CANARY' && ls '$CANARY'"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 tmpfs
    assert_line --index 1 pwned
    [ ! -e "$CANARY/pwned" ]
    [ -d "$ROOTFS$CANARY" ]
    assert_host_untouched
    assert_nothing_left c1
}

# hostile rootfs: a destination symlinked to an absolute host path, bind dir and file
hostile_03() {
    local src=$TEST_TMP/src
    mkdir "$src" && echo from-src > "$src/marker" && echo file-src > "$TEST_TMP/srcfile"
    ln -s "$CANARY" "$ROOTFS/mnt2"
    ln -s "$CANARY/newfile" "$ROOTFS/etc/evilfile"
    jq_config --arg s "$src" --arg f "$TEST_TMP/srcfile" \
        '.mounts += [{"destination": "/mnt2/sub", "type": "bind", "source": $s, "options": ["bind"]},
                     {"destination": "/etc/evilfile", "type": "bind", "source": $f, "options": ["bind"]}]'
    set_sh "cat /mnt2/sub/marker '$CANARY/sub/marker' /etc/evilfile '$CANARY/newfile'"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" "$(printf 'from-src\nfrom-src\nfile-src\nfile-src')"
    [ ! -e "$CANARY/sub" ] && [ ! -e "$CANARY/newfile" ]
    [ -f "$ROOTFS$CANARY/newfile" ]
    assert_host_untouched
    assert_nothing_left c1
}

# hostile rootfs: /proc as a symlink is refused, nothing left behind
hostile_04() {
    rm -rf "$ROOTFS/proc"
    ln -s "$CANARY" "$ROOTFS/proc"
    hrun run --bundle "$BUNDLE" c1
    assert_failure
    assert_equal "$status" 1
    [[ "$stderr" == *'mounts['*'/proc'*symlink* ]]
    assert_host_untouched
    assert_nothing_left c1
}

# hostile rootfs: /sys as a symlink (even one inside the rootfs) is refused
hostile_05() {
    rm -rf "$ROOTFS/sys"
    mkdir "$ROOTFS/fakesys"
    ln -s fakesys "$ROOTFS/sys"
    hrun run --bundle "$BUNDLE" c1
    assert_failure
    [[ "$stderr" == *'mounts['*'/sys'*symlink* ]]
    [ -z "$(ls -A "$ROOTFS/fakesys")" ]
    assert_host_untouched
    assert_nothing_left c1
}

# hostile rootfs: /dev symlinked to a host dir gets the tmpfs and devices inside the rootfs
hostile_06() {
    rm -rf "$ROOTFS/dev"
    ln -s "$CANARY" "$ROOTFS/dev"
    set_sh "stat -f -c %T /dev; stat -c '%F %t:%T' /dev/null /dev/zero; echo x > /dev/null && echo ok"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" "$(printf 'tmpfs\ncharacter special file 1:3\ncharacter special file 1:5\nok')"
    assert_host_untouched
    assert_nothing_left c1
}

# hostile rootfs: planted /dev/null (symlink to a host file, or a regular file) cannot redirect a mask
hostile_07() {
    # No /dev tmpfs: husk makes the nodes in the image's own /dev.
    update_config 'del(.mounts[] | select(.destination == "/dev" or (.destination | startswith("/dev/"))))
        | .linux.maskedPaths = ["/etc/masked-file", "/proc/timer_list"]'
    echo secret > "$ROOTFS/etc/masked-file"
    echo host-target > "$TEST_TMP/host-target"
    ln -s "$TEST_TMP/host-target" "$ROOTFS/dev/null"
    echo regular > "$ROOTFS/dev/zero"
    set_sh "stat -c '%F %t:%T' /dev/null /dev/zero /etc/masked-file /proc/timer_list; cat /etc/masked-file; echo end"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" "$(printf 'character special file 1:3\ncharacter special file 1:5\ncharacter special file 1:3\ncharacter special file 1:3\nend')"
    assert_equal "$(cat "$TEST_TMP/host-target")" host-target
    assert_host_untouched
    assert_nothing_left c1
}

# hostile rootfs: masked files are the real /dev/null 1:3 with the default /dev
hostile_08() {
    echo 'x' > "$ROOTFS/dev/null" 2>/dev/null || true
    set_sh "stat -c '%F %t:%T' /proc/timer_list /proc/keys /dev/null; stat -f -c %T /sys/firmware"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" "$(printf 'character special file 1:3\ncharacter special file 1:3\ncharacter special file 1:3\ntmpfs')"
    assert_host_untouched
    assert_nothing_left c1
}

# hostile rootfs: /dev/ptmx and /dev/pts/ptmx planted as symlinks lead nowhere
hostile_09() {
    mkdir -p "$ROOTFS/dev/pts"
    ln -sf "$CANARY/keep" "$ROOTFS/dev/pts/ptmx"
    ln -sf "$CANARY/keep" "$ROOTFS/dev/ptmx"
    set_sh "readlink /dev/ptmx; stat -c '%F %t:%T' /dev/pts/ptmx; stat -f -c %T /dev/pts"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" "$(printf 'pts/ptmx\ncharacter special file 5:2\ndevpts')"
    assert_host_untouched
    assert_nothing_left c1
}

# hostile rootfs: process.cwd /proc/self/fd/N never reaches a host dir (CVE-2024-21626)
hostile_10() {
    touch "$ROOTFS/husk-rootfs-marker"
    local n
    for n in 3 4 5 6 7 8 9 10; do
        update_config ".process.cwd = \"/proc/self/fd/$n\""
        set_sh 'cd ../../../../../../../../..; ls husk-rootfs-marker 2>&1; exit 0'
        hrun run --bundle "$BUNDLE" "c$n"
        # Either refused, or the process is confined to the rootfs.
        if [ "$status" -eq 0 ]; then
            assert_output husk-rootfs-marker
        else
            [[ "$stderr" == *process.cwd* ]]
        fi
        assert_nothing_left "c$n"
    done
    assert_host_untouched
}

# hostile rootfs: a cwd symlinked out of the rootfs resolves inside it
hostile_11() {
    touch "$ROOTFS/husk-rootfs-marker"
    ln -s "$(climbing_target)" "$ROOTFS/cwdlink"
    update_config '.process.cwd = "/cwdlink"'
    set_sh 'pwd -P; cd ../../../../../../../../..; ls husk-rootfs-marker'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" "$(printf '%s\nhusk-rootfs-marker' "$CANARY")"
    [ -d "$ROOTFS$CANARY" ]
    assert_host_untouched
    assert_nothing_left c1
}

# no husk fd is open in the container at exec, and its cwd is /
hostile_12() {
    # sleep holds only what it was given: read from the host, no shell
    # pipeline inside can add its own fds.
    update_config '.process.args = ["sleep", "30"]'
    run_detached c1
    local pid
    pid=$(state_field c1 pid)
    assert_equal "$(ls /proc/$pid/fd | sort -n | tr '\n' ' ')" '0 1 2 '
    hrun exec c1 readlink /proc/1/cwd
    assert_success
    assert_output /
    hrun delete -f c1
    assert_nothing_left c1
}

# a bind mount source that is a symlink is resolved on the host side
hostile_13() {
    mkdir "$TEST_TMP/realsrc" && echo real > "$TEST_TMP/realsrc/f"
    ln -s "$TEST_TMP/realsrc" "$TEST_TMP/srclink"
    jq_config --arg s "$TEST_TMP/srclink" \
        '.mounts += [{"destination": "/b", "type": "bind", "source": $s, "options": ["rbind"]}]'
    set_sh 'cat /b/f'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output real
    assert_host_untouched
    assert_nothing_left c1
}

# hostile exec: --cwd /proc/self/fd/N never reaches a host dir (CVE-2024-21626)
hostile_14() {
    touch "$ROOTFS/husk-rootfs-marker"
    update_config '.process.args = ["sleep", "30"]'
    run_detached c1
    local n
    for n in 3 4 5 6 7 8 9 10; do
        hrun exec --cwd "/proc/self/fd/$n" c1 sh -c 'cd ../../../../../../../../..; ls husk-rootfs-marker 2>&1; exit 0'
        # Refused (how the refusal is reported is exec's business), or
        # confined to the rootfs.
        if [ "$status" -eq 0 ]; then
            assert_output husk-rootfs-marker
        fi
    done
    hrun exec --cwd /proc c1 pwd
    assert_success
    assert_output /proc
    hrun delete -f c1
    assert_host_untouched
    assert_nothing_left c1
}

# hostile rootfs: a planted /dev/console symlink cannot aim the console bind mount (CVE-2025-52565 class)
hostile_15() {
    local recvtty=${RECVTTY:-$(dirname "$HUSK")/tests/helpers/recvtty}
    [ -x "$recvtty" ] || fail "recvtty not built: $recvtty"
    # The image's own /dev (no tmpfs over it), with devpts for the pty.
    update_config 'del(.mounts[] | select(.destination == "/dev")) | .process.terminal = true'
    echo image-secret > "$ROOTFS/etc/console-target"
    ln -s /etc/console-target "$ROOTFS/dev/console"
    set_sh 'cat /etc/console-target'
    "$recvtty" -m print "$TEST_TMP/console.sock" </dev/null >"$TEST_TMP/console.out" 2>&1 3>&- &
    local rpid=$!
    wait_until 10 test -S "$TEST_TMP/console.sock"
    hrun run -d --console-socket "$TEST_TMP/console.sock" --bundle "$BUNDLE" c1
    kill -9 "$rpid" 2>/dev/null || true
    wait "$rpid" 2>/dev/null || true
    assert_failure
    [[ "$stderr" == *'/dev/console'* ]]
    assert_equal "$(cat "$ROOTFS/etc/console-target")" image-secret
    assert_host_untouched
    assert_nothing_left c1
}

# the console is the container's pty on /dev/console
hostile_16() {
    local recvtty=${RECVTTY:-$(dirname "$HUSK")/tests/helpers/recvtty}
    [ -x "$recvtty" ] || fail "recvtty not built: $recvtty"
    update_config '.process.terminal = true'
    set_sh "stat -c '%F %t' /dev/console; tty"
    "$recvtty" -m print "$TEST_TMP/console.sock" </dev/null >"$TEST_TMP/console.out" 2>&1 3>&- &
    local rpid=$!
    wait_until 10 test -S "$TEST_TMP/console.sock"
    hrun run -d --console-socket "$TEST_TMP/console.sock" --bundle "$BUNDLE" c1
    assert_success
    wait_until 10 pid_gone "$rpid" || kill -9 "$rpid"
    wait "$rpid" 2>/dev/null || true
    run tr -d '\r' <"$TEST_TMP/console.out"
    assert_line --index 0 'character special file 88'
    assert_line --regexp '^/dev/pts/[0-9]+$'
    hrun delete -f c1
    assert_nothing_left c1
}

# hostile rootfs: /dev/pts/N and /dev/pts/ptmx planted as symlinks, with a terminal and no devpts over them
hostile_17() {
    local recvtty=${RECVTTY:-$(dirname "$HUSK")/tests/helpers/recvtty}
    [ -x "$recvtty" ] || fail "recvtty not built: $recvtty"
    # The image's own /dev and /dev/pts: nothing of the config covers them.
    update_config 'del(.mounts[] | select(.destination == "/dev" or .destination == "/dev/pts"))
        | .process.terminal = true'
    echo image-secret > "$ROOTFS/etc/console-target"
    mkdir -p "$ROOTFS/dev/pts"
    local n
    for n in 0 1 2 3; do
        ln -sf "$CANARY/keep" "$ROOTFS/dev/pts/$n"
    done
    ln -sf /etc/console-target "$ROOTFS/dev/pts/4"
    ln -sf "$(climbing_target)/keep" "$ROOTFS/dev/pts/ptmx"
    set_sh 'echo from-container > /dev/console; cat /etc/console-target'
    "$recvtty" -m print "$TEST_TMP/console.sock" </dev/null >"$TEST_TMP/console.out" 2>&1 3>&- &
    local rpid=$!
    wait_until 10 test -S "$TEST_TMP/console.sock"
    hrun run -d --console-socket "$TEST_TMP/console.sock" --bundle "$BUNDLE" c1
    # Refused (no pty to be had through the planted links) or, if a pty was
    # found, the console is it: never a planted target.
    if [ "$status" -eq 0 ]; then
        wait_until 10 pid_gone "$rpid" || true
        hrun delete -f c1
    else
        [[ "$stderr" == *ptmx* || "$stderr" == *console* ]] || fail "stderr: $stderr"
    fi
    kill -9 "$rpid" 2>/dev/null || true
    wait "$rpid" 2>/dev/null || true
    assert_equal "$(cat "$ROOTFS/etc/console-target")" image-secret
    [ ! -e "$ROOTFS$CANARY/keep" ]
    assert_host_untouched
    assert_nothing_left c1
}
