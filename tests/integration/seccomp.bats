#!/usr/bin/env bats
# linux.seccomp: what the container's process really sees (its
# /proc/self/status, the errno of a denied syscall, death by SIGSYS), the
# seccomp agent at listenerPath, and bad profiles refused with the field
# named and nothing left behind.

load helpers

setup() {
    load_libs
    setup_bundle
    # a writable rootfs, so that a failing mkdir can only be seccomp's doing
    update_config '.root.readonly = false'
}

teardown() {
    teardown_bundle
}

# set_seccomp JSON: linux.seccomp = JSON.
set_seccomp() {
    update_config ".linux.seccomp = $1"
}

DENY_MKDIR='{"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'

@test "seccomp: the process is filtered (Seccomp: 2) and a denied mkdir fails with EPERM" {
    set_seccomp "$DENY_MKDIR"
    set_sh 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; mkdir /tmp/d 2>&1; echo rc=$?; ls -d /tmp/d 2>&1; touch /tmp/f && echo touch-ok'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --regexp '^Seccomp:[[:space:]]+2$'
    assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
    assert_line "mkdir: can't create directory '/tmp/d': Operation not permitted"
    assert_line rc=1
    assert_line touch-ok
    assert_nothing_left c1
}

@test "seccomp: without noNewPrivileges the filter is loaded all the same, also for a non-root user" {
    set_seccomp "$DENY_MKDIR"
    update_config '.process.noNewPrivileges = false | .process.user = {"uid": 1000, "gid": 1000}'
    set_sh 'grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status; mkdir /tmp/d 2>&1; echo rc=$?'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --regexp '^Seccomp:[[:space:]]+2$'
    assert_line --regexp '^NoNewPrivs:[[:space:]]+0$'
    assert_line --regexp '^CapEff:[[:space:]]+0+$'
    assert_line "mkdir: can't create directory '/tmp/d': Operation not permitted"
    assert_nothing_left c1
}

@test "seccomp: errnoRet is the errno the process sees" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30}]}'
    set_sh 'mkdir /tmp/d 2>&1; echo rc=$?'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line "mkdir: can't create directory '/tmp/d': Read-only file system"
    assert_nothing_left c1
}

@test "seccomp: the docker-sized profile; defaultErrnoRet for what it does not list" {
    # the bench kit's profile (tests/unit/data/seccomp-docker.json) with
    # defaultErrnoRet 95; mount(2) is not on its list.
    local profile
    profile=$(jq '.linux.seccomp | .defaultErrnoRet = 95' "$TOP_SRCDIR/tests/unit/data/seccomp-docker.json")
    set_seccomp "$profile"
    set_sh 'grep "^Seccomp:" /proc/self/status; mkdir /tmp/m && echo mkdir-ok; mount -t tmpfs t /tmp/m 2>&1; echo rc=$?'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --regexp '^Seccomp:[[:space:]]+2$'
    assert_line mkdir-ok
    assert_line --partial "Operation not supported"
    refute_line rc=0
    assert_nothing_left c1
}

@test "seccomp: SCMP_ACT_KILL kills the process with SIGSYS: run exits 159" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}]}'
    set_sh 'exec mkdir /tmp/d'
    hrun run --bundle "$BUNDLE" c1
    assert_equal "$status" 159
    assert_nothing_left c1
}

@test "seccomp: SCMP_ACT_KILL_PROCESS likewise, from a child process of the container" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
    set_sh 'mkdir /tmp/d; echo "child=$?"'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line child=159
    assert_nothing_left c1
}

@test "seccomp: argument conditions (personality only with 0xffffffff)" {
    # busybox `linux32` calls personality(PER_LINUX32): refused with EACCES;
    # `uname -m` does not call personality at all.
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
            "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_NE"}]}]}'
    set_sh 'linux32 uname -m 2>&1; echo rc=$?; uname -m'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --partial "Permission denied"
    refute_line rc=0
    assert_line "$(uname -m)"
    assert_nothing_left c1
}

@test "seccomp: create/start: the filter is in place once the container starts" {
    set_seccomp "$DENY_MKDIR"
    set_sh 'mkdir /tmp/d 2>/dev/null; echo "rc=$?" > /tmp/out; grep "^Seccomp:" /proc/self/status >> /tmp/out; sleep 30'
    create c1
    husk start c1
    wait_file_has "$BUNDLE/rootfs/tmp/out" Seccomp
    run cat "$BUNDLE/rootfs/tmp/out"
    assert_line rc=1
    assert_line --regexp '^Seccomp:[[:space:]]+2$'
    husk delete -f c1
    assert_nothing_left c1
}

# ---- bad profiles: refused before anything is made ----

expect_refused() {
    hrun run --bundle "$BUNDLE" c1
    assert_failure
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"$1"* ]] || { echo "stderr: $stderr; wanted: $1" >&2; return 1; }
    assert_nothing_left c1
}

@test "seccomp: unknown action: error names the field, nothing left behind" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"},
                     {"names": ["mkdir"], "action": "SCMP_ACT_FOO"}]}'
    expect_refused 'linux.seccomp.syscalls[1].action: unknown action "SCMP_ACT_FOO"'
}

@test "seccomp: unknown defaultAction" {
    set_seccomp '{"defaultAction": "SCMP_ACT_MAYBE"}'
    expect_refused 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_MAYBE"'
}

@test "seccomp: unknown architecture" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_BAR"]}'
    expect_refused 'linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_BAR"'
}

@test "seccomp: unknown operator" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]}'
    expect_refused 'linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_ABOUT"'
}

@test "seccomp: unknown flag, and errnoRet on an action without one" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]}'
    expect_refused 'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_NOPE"'
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_KILL", "errnoRet": 1}]}'
    expect_refused 'linux.seccomp.syscalls[0].errnoRet: not allowed with SCMP_ACT_KILL'
}

@test "seccomp: SCMP_ACT_NOTIFY without listenerPath" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
    expect_refused 'linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used'
}

@test "seccomp: listenerPath where no agent listens" {
    set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$TEST_TMP/none.sock\",
        \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
    expect_refused "linux.seccomp.listenerPath \"$TEST_TMP/none.sock\": connect: No such file or directory"
}

# ---- the seccomp agent ----

# A minimal agent: takes one connection, saves the container process state,
# answers every notification for the fd it got with -EROFS.
start_agent() {
    python3 - "$1" "$2" <<'EOF' &
import array, ctypes, os, socket, struct, sys, fcntl
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(1)
open(out + ".ready", "w").close()
c, _ = s.accept()
fds = array.array("i")
msg, anc, _, _ = c.recvmsg(65536, socket.CMSG_SPACE(4 * 4))
for level, typ, data in anc:
    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - (len(data) % 4)])
while True:
    more = c.recv(65536)
    if not more:
        break
    msg += more
with open(out, "wb") as f:
    f.write(msg + b"\n" + str(len(fds)).encode() + b"\n")
nfd = fds[0]
# struct seccomp_notif is 80 bytes, seccomp_notif_resp 24: _IOWR('!', 0/1, ...)
RECV, SEND = 0xC0502100, 0xC0182101
while True:
    buf = bytearray(80)
    try:
        fcntl.ioctl(nfd, RECV, buf, True)
    except OSError:
        break
    nid = struct.unpack_from("Q", buf, 0)[0]
    resp = struct.pack("QqiI", nid, 0, -30, 0)
    try:
        fcntl.ioctl(nfd, SEND, bytearray(resp), True)
    except OSError:
        pass
EOF
    AGENT_PID=$!
}

@test "seccomp: SCMP_ACT_NOTIFY sends the fd and the container process state to listenerPath" {
    local sock=$TEST_TMP/agent.sock out=$TEST_TMP/agent.json
    start_agent "$sock" "$out"
    wait_until 10 test -e "$out.ready"
    set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$sock\",
        \"listenerMetadata\": \"hello agent\",
        \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
    set_sh 'mkdir /tmp/d 2>&1; echo rc=$?'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    # the agent answered -EROFS for the container's mkdir
    assert_line "mkdir: can't create directory '/tmp/d': Read-only file system"
    wait_file_has "$out" seccompFd
    run head -1 "$out"
    assert_equal "$(jq -r '.fds[0]' <<<"$output")" seccompFd
    assert_equal "$(jq -r '.metadata' <<<"$output")" "hello agent"
    assert_equal "$(jq -r '.state.id' <<<"$output")" c1
    assert_equal "$(jq -r '.state.status' <<<"$output")" created
    assert_equal "$(jq -r '.state.bundle' <<<"$output")" "$BUNDLE"
    [ "$(jq -r '.pid' <<<"$output")" -gt 1 ]
    assert_equal "$(jq -r '.pid' <<<"$output")" "$(jq -r '.state.pid' <<<"$output")"
    run sed -n 2p "$out"
    assert_output 1
    wait_until 10 pid_gone "$AGENT_PID"
    assert_nothing_left c1
}

@test "seccomp: with create/start the agent gets the fd when the container starts" {
    local sock=$TEST_TMP/agent.sock out=$TEST_TMP/agent.json
    start_agent "$sock" "$out"
    wait_until 10 test -e "$out.ready"
    set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$sock\",
        \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
    set_sh 'mkdir /tmp/d 2>/tmp/err; echo "rc=$?" >> /tmp/err'
    create c1
    # the filter is loaded at start, just before the user's exec
    [ ! -s "$out" ]
    local pid
    pid=$(state_field c1 pid)
    husk start c1
    wait_file_has "$out" seccompFd
    wait_file_has "$BUNDLE/rootfs/tmp/err" rc=1
    run cat "$BUNDLE/rootfs/tmp/err"
    assert_line "mkdir: can't create directory '/tmp/d': Read-only file system"
    run head -1 "$out"
    assert_equal "$(jq -r '.pid' <<<"$output")" "$pid"
    assert_equal "$(jq -r '.state.status' <<<"$output")" created
    refute [ "$(jq -r 'has("metadata")' <<<"$output")" = true ]
    wait_status c1 stopped
    husk delete c1
    assert_nothing_left c1
}
