#!/usr/bin/env bats
# A hostile rootfs: symlinks planted in the image that try to lead husk's
# mounts, device nodes and masks out of the rootfs onto the host (the runc
# CVE classes: CVE-2019-16884/2023-27561 mount targets, CVE-2024-21626 cwd
# through a leaked fd, CVE-2025-31133/52565 /dev/null and /dev/pts/ptmx
# redirection). Each test checks what the container saw and that the host's
# canary dir and mount table are as they were.

load helpers
load security_rootfs

@test "hostile rootfs: a mount destination symlinked to / stays in the rootfs" {
    hostile_01
}

@test "hostile rootfs: a destination symlink climbing out with ../.. stays in the rootfs" {
    hostile_02
}

@test "hostile rootfs: a destination symlinked to an absolute host path, bind dir and file" {
    hostile_03
}

@test "hostile rootfs: /proc as a symlink is refused, nothing left behind" {
    hostile_04
}

@test "hostile rootfs: /sys as a symlink (even one inside the rootfs) is refused" {
    hostile_05
}

@test "hostile rootfs: /dev symlinked to a host dir gets the tmpfs and devices inside the rootfs" {
    hostile_06
}

@test "hostile rootfs: planted /dev/null (symlink to a host file, or a regular file) cannot redirect a mask" {
    hostile_07
}

@test "hostile rootfs: masked files are the real /dev/null 1:3 with the default /dev" {
    hostile_08
}

@test "hostile rootfs: /dev/ptmx and /dev/pts/ptmx planted as symlinks lead nowhere" {
    hostile_09
}

@test "hostile rootfs: process.cwd /proc/self/fd/N never reaches a host dir (CVE-2024-21626)" {
    hostile_10
}

@test "hostile rootfs: a cwd symlinked out of the rootfs resolves inside it" {
    hostile_11
}

@test "no husk fd is open in the container at exec, and its cwd is /" {
    hostile_12
}

@test "a bind mount source that is a symlink is resolved on the host side" {
    hostile_13
}

@test "hostile exec: --cwd /proc/self/fd/N never reaches a host dir (CVE-2024-21626)" {
    hostile_14
}

@test "hostile rootfs: a planted /dev/console symlink cannot aim the console bind mount (CVE-2025-52565 class)" {
    hostile_15
}

@test "the console is the container's pty on /dev/console" {
    hostile_16
}

@test "hostile rootfs: /dev/pts/N and /dev/pts/ptmx planted as symlinks, with a terminal, lead nowhere" {
    hostile_17
}
