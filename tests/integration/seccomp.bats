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

# ---- every action, the flags, architectures, argument operators ----

# A name for busybox that the kernel's seccomp audit records can be told
# apart by: busybox runs argv[1] as the applet when its own name starts
# with "busybox", and the record's comm is that name.
bb_tag() {
    BB=busybox-$((RANDOM % 10000))$((RANDOM % 100))
    ln -s /bin/busybox "$BUNDLE/rootfs/bin/$BB"
}

seccomp_records() {
    dmesg | grep "type=1326.* comm=\"$1\""
}

# seccomp_log_code COMM: the action code of the kernel's seccomp audit
# record (type=1326) for that comm, waiting a moment for it to be printed.
seccomp_log_code() {
    wait_until 3 eval '[ -n "$(seccomp_records "$1")" ]' || true
    seccomp_records "$1" | tail -1 | grep -o 'code=0x[0-9a-f]*'
}

@test "seccomp: SCMP_ACT_KILL_THREAD kills the (single-threaded) process with SIGSYS; the kernel logs kill_thread" {
    bb_tag
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_THREAD"}]}'
    set_sh "$BB mkdir /tmp/d; echo child=\$?; ls -d /tmp/d 2>/dev/null; true"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output child=159
    # SECCOMP_RET_KILL_THREAD is 0; KILL_PROCESS would be 0x80000000.
    assert_equal "$(seccomp_log_code "$BB")" code=0x0
    assert_nothing_left c1
}

@test "seccomp: SCMP_ACT_TRAP sends SIGSYS: it kills by default, a handler catches it and the process goes on" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["chdir", "mkdir", "mkdirat"], "action": "SCMP_ACT_TRAP"}]}'
    set_sh 'mkdir /tmp/d; echo child=$?; trap "echo trapped" SYS; cd /tmp 2>/dev/null; echo cd=$?; echo alive'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line child=159
    assert_line trapped
    refute_line cd=0
    assert_line alive
    assert_nothing_left c1
}

@test "seccomp: SCMP_ACT_TRACE without a tracer fails the syscall with ENOSYS" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_TRACE", "errnoRet": 5}]}'
    set_sh 'mkdir /tmp/d 2>&1; echo rc=$?; ls -d /tmp/d 2>/dev/null; true'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" "$(printf '%s\nrc=1' "mkdir: can't create directory '/tmp/d': Function not implemented")"
    assert_nothing_left c1
}

@test "seccomp: SCMP_ACT_LOG lets the syscall through and the kernel logs it" {
    bb_tag
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_LOG"}]}'
    set_sh "$BB mkdir /tmp/d && ls -d /tmp/d"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output /tmp/d
    assert_equal "$(seccomp_log_code "$BB")" code=0x7ffc0000
}

@test "seccomp: SCMP_ACT_ALLOW rules over an SCMP_ACT_ERRNO default, with defaultErrnoRet" {
    # What busybox needs to start and run cat and mkdir, but not mkdir itself.
    local allowed
    allowed=$(jq -c '[.linux.seccomp.syscalls[] | select(.action == "SCMP_ACT_ALLOW") | .names[]
        | select(. != "mkdir" and . != "mkdirat")]' "$TOP_SRCDIR/tests/unit/data/seccomp-docker.json")
    set_seccomp "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,
        \"syscalls\": [{\"names\": $allowed, \"action\": \"SCMP_ACT_ALLOW\"}]}"
    set_sh 'cat /etc/passwd >/dev/null && echo cat-ok; mkdir /tmp/d 2>&1; true'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line cat-ok
    assert_line "mkdir: can't create directory '/tmp/d': Function not implemented"
}

@test "seccomp: SECCOMP_FILTER_FLAG_LOG logs the actions the filter takes, which are not logged without it" {
    bb_tag
    local plain=$BB
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
    set_sh "$plain mkdir /tmp/d 2>/dev/null; echo rc=\$?"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output rc=1

    bb_tag
    update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_LOG"]'
    set_sh "$BB mkdir /tmp/d 2>/dev/null; echo rc=\$?"
    hrun run --bundle "$BUNDLE" c2
    assert_success
    assert_output rc=1
    # SECCOMP_RET_ERRNO (the record has the action without its errno)
    assert_equal "$(seccomp_log_code "$BB")" code=0x50000
    assert_equal "$(seccomp_records "$plain")" ""
}

@test "seccomp: SECCOMP_FILTER_FLAG_SPEC_ALLOW leaves speculative store bypass as it was" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]}'
    set_sh 'grep -E "^(Seccomp|Speculation_Store_Bypass):" /proc/self/status'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --regexp '^Seccomp:[[:space:]]+2$'
    refute_line --partial 'force mitigated'
    # Where the kernel mitigates for every seccomp filter, the flag is what
    # makes the difference.
    if grep -q seccomp /sys/devices/system/cpu/vulnerabilities/spec_store_bypass 2>/dev/null; then
        update_config '.linux.seccomp.flags = []'
        hrun run --bundle "$BUNDLE" c2
        assert_success
        assert_line --partial 'force mitigated'
    fi
}

@test "seccomp: SCMP_ACT_NOTIFY with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV still reaches the agent" {
    local sock=$TEST_TMP/agent.sock out=$TEST_TMP/agent.json
    start_agent "$sock" "$out"
    wait_until 10 test -e "$out.ready"
    set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$sock\",
        \"flags\": [\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],
        \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
    set_sh 'mkdir /tmp/d 2>&1; echo rc=$?'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line "mkdir: can't create directory '/tmp/d': Read-only file system"
    wait_file_has "$out" seccompFd
    wait_until 10 pid_gone "$AGENT_PID"
    assert_nothing_left c1
}

# make_m32: /m32 in the rootfs, i386 code that calls mkdir("/tmp/d32")
# through int 0x80 and exits with the errno (0 on success).
make_m32() {
    command -v as >/dev/null && command -v ld >/dev/null ||
        skip "no binutils to assemble the i386 test program"
    printf '%s\n' '.globl _start' '_start:' \
        '    movl $39, %eax' '    movl $path, %ebx' '    movl $0755, %ecx' '    int $0x80' \
        '    negl %eax' '    movl %eax, %ebx' '    movl $1, %eax' '    int $0x80' \
        '.data' 'path: .asciz "/tmp/d32"' > "$TEST_TMP/m32.s"
    as --32 -o "$TEST_TMP/m32.o" "$TEST_TMP/m32.s"
    ld -m elf_i386 -o "$BUNDLE/rootfs/m32" "$TEST_TMP/m32.o"
}

@test "seccomp: architectures: i386 syscalls are filtered with SCMP_ARCH_X86, killed without it" {
    [ "$(uname -m)" = x86_64 ] || skip "an x86_64 test"
    make_m32
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30}]}'
    set_sh '/m32; echo rc=$?'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output rc=30

    update_config '.linux.seccomp.architectures = ["SCMP_ARCH_X86_64"]'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    assert_output rc=159
    [ ! -e "$BUNDLE/rootfs/tmp/d32" ]

    # Without a filter the program works: the two results are seccomp's.
    update_config 'del(.linux.seccomp)'
    hrun run --bundle "$BUNDLE" c3
    assert_success
    assert_output rc=0
    assert_nothing_left c1 c2 c3
}

# kill_with RULE_ARGS_JSON: the container sends itself signals 0, 17, 23,
# 28 (all harmless to sh) with kill(2) denied where the argument
# conditions on the signal number hold; prints the signals that got through.
kill_with() {
    set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\",
        \"syscalls\": [{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [$1]}]}"
    set_sh 'for s in 0 17 23 28; do kill -$s $$ 2>/dev/null && printf "%s " $s; done; echo'
    KILL_RUN=$((KILL_RUN + 1))
    hrun run --bundle "$BUNDLE" "c$KILL_RUN"
    assert_success
}

@test "seccomp: every argument operator, as the signals kill(2) may still send show" {
    KILL_RUN=0
    kill_with '{"index": 1, "value": 23, "op": "SCMP_CMP_EQ"}'
    assert_output "0 17 28 "
    kill_with '{"index": 1, "value": 23, "op": "SCMP_CMP_NE"}'
    assert_output "23 "
    kill_with '{"index": 1, "value": 23, "op": "SCMP_CMP_LT"}'
    assert_output "23 28 "
    kill_with '{"index": 1, "value": 23, "op": "SCMP_CMP_LE"}'
    assert_output "28 "
    kill_with '{"index": 1, "value": 23, "op": "SCMP_CMP_GE"}'
    assert_output "0 17 "
    kill_with '{"index": 1, "value": 23, "op": "SCMP_CMP_GT"}'
    assert_output "0 17 23 "
    # 17 = 0b10001 and 23 = 0b10111 have bit 0 set; 0 and 28 do not.
    kill_with '{"index": 1, "value": 1, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}'
    assert_output "0 28 "
}

@test "seccomp: conditions on different arguments must all hold; on the same argument any one (as runc)" {
    KILL_RUN=0
    # kill(1, 23) only: the shell is pid 1; kill -23 0 signals its group.
    kill_with '{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 23, "op": "SCMP_CMP_EQ"}'
    assert_output "0 17 28 "
    set_sh 'kill -23 0 && echo group-ok'
    hrun run --bundle "$BUNDLE" c-group
    assert_success
    assert_output group-ok
    # runc adds one rule per condition when an argument is named twice:
    # GE 17 or LT 28 holds for every signal sent.
    kill_with '{"index": 1, "value": 17, "op": "SCMP_CMP_GE"}, {"index": 1, "value": 28, "op": "SCMP_CMP_LT"}'
    assert_output ""
}

@test "seccomp: unknown syscall names are skipped, the known ones of the rule still apply" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["no_such_syscall_at_all", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"},
                     {"names": ["another_made_up_one"], "action": "SCMP_ACT_KILL"}]}'
    set_sh 'mkdir /tmp/d 2>&1; echo rc=$?'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line "mkdir: can't create directory '/tmp/d': Operation not permitted"
    assert_line rc=1
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

# A minimal agent (tests/helpers/seccomp_agent): takes one connection,
# saves the container process state and the number of fds it came with,
# answers every notification for the fd it got with -EROFS.
start_agent() {
    local agent=${SECCOMP_AGENT:-$(dirname "$HUSK")/tests/helpers/seccomp_agent}
    [ -x "$agent" ] || fail "seccomp_agent not built: $agent"
    "$agent" "$1" "$2" </dev/null 3>&- &
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
