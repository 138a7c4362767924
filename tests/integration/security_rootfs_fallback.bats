#!/usr/bin/env bats
# The hostile-rootfs tests of security_rootfs.bats again, with openat2
# failing ENOSYS for husk and its init (tests/helpers/no_openat2), as on a
# kernel before 5.6: every path inside the rootfs then goes through the
# component-by-component fallback in src/lib/rootfs.c.

load helpers
HUSK_REAL=$HUSK
RECVTTY=${RECVTTY:-$(dirname "$HUSK")/tests/helpers/recvtty}
NO_OPENAT2=${NO_OPENAT2:-$(dirname "$HUSK")/tests/helpers/no_openat2}
HOSTILE_NO_OPENAT2=1
load security_rootfs

@test "fallback: husk really runs without openat2 here, and the container starts" {
    [ -x "$NO_OPENAT2" ] || fail "no_openat2 not built: $NO_OPENAT2"
    set_sh 'echo started'
    run strace -f -qq -e trace=openat2 -o "$TEST_TMP/trace" "$NO_OPENAT2" "$HUSK_REAL" \
        --root "$ROOT" run --bundle "$BUNDLE" c0 </dev/null
    assert_success
    assert_output started
    grep -q 'openat2(.*ENOSYS' "$TEST_TMP/trace"
    ! grep 'openat2(' "$TEST_TMP/trace" | grep -qv ENOSYS
    assert_nothing_left c0
}

@test "fallback: hostile rootfs: a mount destination symlinked to / stays in the rootfs" {
    hostile_01
}

@test "fallback: hostile rootfs: a destination symlink climbing out with ../.. stays in the rootfs" {
    hostile_02
}

@test "fallback: hostile rootfs: a destination symlinked to an absolute host path, bind dir and file" {
    hostile_03
}

@test "fallback: hostile rootfs: /proc as a symlink is refused, nothing left behind" {
    hostile_04
}

@test "fallback: hostile rootfs: /sys as a symlink (even one inside the rootfs) is refused" {
    hostile_05
}

@test "fallback: hostile rootfs: /dev symlinked to a host dir gets the tmpfs and devices inside the rootfs" {
    hostile_06
}

@test "fallback: hostile rootfs: planted /dev/null (symlink to a host file, or a regular file) cannot redirect a mask" {
    hostile_07
}

@test "fallback: hostile rootfs: masked files are the real /dev/null 1:3 with the default /dev" {
    hostile_08
}

@test "fallback: hostile rootfs: /dev/ptmx and /dev/pts/ptmx planted as symlinks lead nowhere" {
    hostile_09
}

@test "fallback: hostile rootfs: process.cwd /proc/self/fd/N never reaches a host dir (CVE-2024-21626)" {
    hostile_10
}

@test "fallback: hostile rootfs: a cwd symlinked out of the rootfs resolves inside it" {
    hostile_11
}

@test "fallback: no husk fd is open in the container at exec, and its cwd is /" {
    hostile_12
}

@test "fallback: a bind mount source that is a symlink is resolved on the host side" {
    hostile_13
}

@test "fallback: hostile exec: --cwd /proc/self/fd/N never reaches a host dir (CVE-2024-21626)" {
    hostile_14
}

@test "fallback: hostile rootfs: a planted /dev/console symlink cannot aim the console bind mount (CVE-2025-52565 class)" {
    hostile_15
}

@test "fallback: the console is the container's pty on /dev/console" {
    hostile_16
}

@test "fallback: hostile rootfs: /dev/pts/N and /dev/pts/ptmx planted as symlinks, with a terminal, lead nowhere" {
    hostile_17
}
