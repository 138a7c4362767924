#!/usr/bin/env bats
# husk exec: a second process in a live container, checked from inside it
# (id, pwd, env, /proc/self/status, /proc/self/ns, /proc/self/cgroup) and
# against what the host sees of the container's init; exit codes, detach,
# terminals, concurrency, and bad inputs refused with nothing left behind.

load helpers

RECVTTY=${RECVTTY:-$(dirname "$HUSK")/tests/helpers/recvtty}

setup() {
    load_libs
    setup_bundle '["sleep", "1000"]'
    RECVTTY_PID=
}

teardown() {
    if [ -n "$RECVTTY_PID" ]; then
        kill -9 "$RECVTTY_PID" 2>/dev/null || true
        wait "$RECVTTY_PID" 2>/dev/null || true
    fi
    teardown_bundle
}

# start_c1: a running container c1 (sleep), its init's host pid in $INIT.
start_c1() {
    run_detached c1
    wait_status c1 running
    INIT=$(state_field c1 pid)
}

# only_the_init: the container's cgroup holds nothing but its init, and no
# other process of this test (husk, or anything it started: all carry
# $TAG) is alive.
only_the_init() {
    [ "$(cg_procs)" -eq 1 ] || { echo "cgroup holds $(cg_procs) processes" >&2; return 1; }
    local left
    left=$(tagged_pids | grep -vx "$INIT" || true)
    [ -z "$left" ] || { echo "left running:" >&2; describe_pids $left >&2; return 1; }
}

@test "exec: joins every namespace, the cgroup and the root of the init" {
    update_config '.linux.namespaces += [{"type": "cgroup"}]'
    echo marker-of-c1 >"$BUNDLE/rootfs/marker"
    start_c1
    local n
    for n in mnt uts ipc net pid cgroup user time; do
        hrun exec c1 readlink /proc/self/ns/$n
        assert_success
        assert_output "$(readlink /proc/$INIT/ns/$n)"
    done
    # the same cgroups as pid 1 (read inside the same cgroup namespace)
    hrun exec c1 sh -c 'cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup'
    assert_success
    assert_equal "$(sed '/^---$/,$d' "$HRUN_OUT")" "$(sed '1,/^---$/d' "$HRUN_OUT")"
    # the root of the namespace: v1's pids line, or v2's single line
    grep -qE '^[0-9]+:pids:/$|^0::/$' "$HRUN_OUT"
    hrun exec c1 cat /marker
    assert_output marker-of-c1
    # pid 1 of the namespace is the init
    hrun exec c1 cat /proc/1/cmdline
    assert_output --partial sleep
}

@test "exec: joins user and cgroup namespaces too (mapped ids)" {
    update_config '.linux.namespaces += [{"type": "user"}, {"type": "cgroup"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
    # the namespace's root (host uid 100000) must reach the rootfs
    local d=$BUNDLE
    while [ "$d" != / ]; do
        [ "$(stat -c %A "$d" | cut -c10)" = x ] || chmod o+x "$d"
        d=$(dirname "$d")
    done
    start_c1
    local n
    for n in user cgroup time mnt pid; do
        hrun exec c1 readlink /proc/self/ns/$n
        assert_success
        assert_output "$(readlink /proc/$INIT/ns/$n)"
    done
    hrun exec c1 sh -c 'id -u; cat /proc/self/uid_map'
    assert_line 0
    assert_line --regexp '^ +0 +100000 +65536$'
    hrun exec -d --pid-file "$TEST_TMP/u.pid" -u 1000 c1 sleep 100
    assert_success
    # as the host sees it: container uid 1000 is host uid 101000
    assert_equal "$(awk '/^Uid:/ { print $2 }' /proc/$(cat "$TEST_TMP/u.pid")/status)" 101000
}

@test "exec: the process is in the init's cgroup as the host sees it" {
    start_c1
    husk exec -d --pid-file "$TEST_TMP/p.pid" c1 sleep 100 </dev/null >/dev/null 2>&1
    local pid
    pid=$(cat "$TEST_TMP/p.pid")
    assert_equal "$(cat /proc/$pid/cgroup)" "$(cat /proc/$INIT/cgroup)"
    kill -9 "$pid"
}

@test "exec: exit codes 0, 1, 3 and 137 (killed by SIGKILL) propagate" {
    start_c1
    hrun exec c1 true
    [ "$status" -eq 0 ]
    hrun exec c1 false
    [ "$status" -eq 1 ]
    hrun exec c1 sh -c 'exit 3'
    [ "$status" -eq 3 ]
    hrun exec c1 sh -c 'kill -9 $$'
    [ "$status" -eq 137 ]
    hrun exec c1 sh -c 'kill -TERM $$'
    [ "$status" -eq 143 ]
    only_the_init
}

@test "exec: signals to husk are forwarded to the process" {
    update_config '.root.readonly = false'
    start_c1
    # husk itself, not the `husk` wrapper: timeout(1) would stand between
    "$HUSK" --root "$ROOT" exec c1 sh -c 'trap "exit 42" TERM; touch /tmp/ready; while :; do sleep 0.1; done' \
        </dev/null >/dev/null 2>&1 &
    local hp=$!
    wait_until 10 test -e "$BUNDLE/rootfs/tmp/ready"
    kill -TERM "$hp"
    local rc=0
    wait "$hp" || rc=$?
    [ "$rc" -eq 42 ]
    only_the_init
}

@test "exec: husk waits from its sealed copy, not the host binary (CVE-2019-5736)" {
    update_config '.root.readonly = false'
    start_c1
    "$HUSK" --root "$ROOT" exec c1 sh -c 'touch /tmp/ready; sleep 100' </dev/null >/dev/null 2>&1 &
    local hp=$!
    wait_until 10 test -e "$BUNDLE/rootfs/tmp/ready"
    local exe
    exe=$(readlink /proc/$hp/exe)
    kill -TERM "$hp"
    wait "$hp" || true
    # (a binary on a read-only mount needs no copy: selfexe.h)
    [[ "$exe" == /memfd:* ]] || findmnt -no OPTIONS -T "$HUSK" | grep -qw ro ||
        fail "husk exec runs from $exe"
}

@test "exec: --user (numeric, uid:gid, names) and --additional-gids" {
    echo 'alice:x:1234:2345::/home/alice:/bin/sh' >>"$BUNDLE/rootfs/etc/passwd"
    echo 'staff2:x:3456:alice' >>"$BUNDLE/rootfs/etc/group"
    start_c1
    hrun exec c1 id -u
    assert_output 0
    hrun exec -u 1000 c1 sh -c 'id -u; id -g'
    assert_output "$(printf '1000\n0')"
    hrun exec -u 1000:1001 c1 sh -c 'id -u; id -g'
    assert_output "$(printf '1000\n1001')"
    hrun exec -u alice c1 sh -c 'id -u; id -g; echo $HOME'
    assert_output "$(printf '1234\n2345\n/home/alice')"
    hrun exec -u alice:staff2 c1 sh -c 'id -u; id -g'
    assert_output "$(printf '1234\n3456')"
    hrun exec -u 1000:1000 -g 5 -g 7 c1 sh -c 'grep ^Groups: /proc/self/status'
    assert_output --regexp '^Groups:[[:space:]]+5 7[[:space:]]*$'
    # a named user's groups in the container's /etc/group are added
    hrun exec -u alice c1 grep ^Groups: /proc/self/status
    assert_output --regexp '^Groups:[[:space:]]+3456[[:space:]]*$'
    hrun exec -u 1234 -g 5 c1 grep ^Groups: /proc/self/status
    assert_output --regexp '^Groups:[[:space:]]+5 3456[[:space:]]*$'
}

@test "exec: --cwd, --env (override and new), default PATH, HOME" {
    update_config '.process.env = ["A=from-config", "HUSK_TEST_TAG='"$TAG"'"]'
    start_c1
    hrun exec c1 sh -c 'pwd; echo "$A"; echo "$PATH"; echo "$HOME"'
    assert_output "$(printf '/\nfrom-config\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/root')"
    hrun exec --cwd /tmp -e A=from-flag -e B=new c1 sh -c 'pwd; echo "$A $B"'
    assert_output "$(printf '/tmp\nfrom-flag new')"
    hrun exec -e PATH=/bin c1 sh -c 'echo $PATH'
    assert_output /bin
}

@test "exec: capabilities from the config, --cap adds to bounding/effective/permitted, never inheritable" {
    update_config '.process.capabilities.inheritable = []'
    start_c1
    local base
    base=$(cap_mask CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE)
    hrun exec c1 grep -E '^Cap(Inh|Eff|Bnd)' /proc/self/status
    assert_line --regexp "^CapInh:[[:space:]]+0000000000000000$"
    assert_line --regexp "^CapEff:[[:space:]]+$base$"
    assert_line --regexp "^CapBnd:[[:space:]]+$base$"
    local more
    more=$(cap_mask CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE CAP_SYS_ADMIN CAP_NET_ADMIN)
    hrun exec --cap CAP_SYS_ADMIN -c CAP_NET_ADMIN c1 grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status
    assert_success
    assert_line --regexp "^CapInh:[[:space:]]+0000000000000000$"
    assert_line --regexp "^CapPrm:[[:space:]]+$more$"
    assert_line --regexp "^CapEff:[[:space:]]+$more$"
    assert_line --regexp "^CapBnd:[[:space:]]+$more$"
    # ambient needs inheritable, which stays empty: --cap cannot reach it
    assert_line --regexp "^CapAmb:[[:space:]]+0000000000000000$"
    # without inheritable (hence ambient) capabilities a non-root user's
    # program gets none at execve, --cap or not (the CVE-2022-29162 point)
    hrun exec -u 1000 --cap CAP_SYS_ADMIN c1 grep -E '^Cap(Inh|Eff|Amb)' /proc/self/status
    assert_success
    assert_line --regexp "^CapInh:[[:space:]]+0000000000000000$"
    assert_line --regexp "^CapEff:[[:space:]]+0000000000000000$"
    assert_line --regexp "^CapAmb:[[:space:]]+0000000000000000$"
}

@test "exec: --no-new-privs, and the config's noNewPrivileges" {
    update_config '.process.noNewPrivileges = false'
    start_c1
    hrun exec c1 grep ^NoNewPrivs: /proc/self/status
    assert_output --regexp '^NoNewPrivs:[[:space:]]+0$'
    hrun exec --no-new-privs c1 grep ^NoNewPrivs: /proc/self/status
    assert_output --regexp '^NoNewPrivs:[[:space:]]+1$'
}

@test "exec: the container's seccomp filter and rlimits apply" {
    update_config '.root.readonly = false | .process.noNewPrivileges = false
        | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
        | .process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}]'
    start_c1
    hrun exec c1 sh -c 'grep ^Seccomp: /proc/self/status; mkdir /tmp/d 2>&1; echo rc=$?; ulimit -n; ulimit -Hn'
    assert_line --regexp '^Seccomp:[[:space:]]+2$'
    assert_line "mkdir: can't create directory '/tmp/d': Operation not permitted"
    assert_line rc=1
    assert_line 321
    assert_line 654
    # also for a user without capabilities (no no_new_privs either)
    hrun exec -u 1000 c1 grep ^Seccomp: /proc/self/status
    assert_output --regexp '^Seccomp:[[:space:]]+2$'
}

@test "exec: --process JSON" {
    start_c1
    cat >"$TEST_TMP/process.json" <<EOF
{"terminal": false, "user": {"uid": 1001, "gid": 1002}, "cwd": "/tmp",
 "args": ["sh", "-c", "id -u; id -g; pwd; echo \$P"], "env": ["P=from-json", "PATH=/bin"],
 "noNewPrivileges": true}
EOF
    hrun exec --process "$TEST_TMP/process.json" c1
    assert_success
    assert_output "$(printf '1001\n1002\n/tmp\nfrom-json')"
    # the JSON's own capabilities, rlimits and noNewPrivileges, not the config's
    cat >"$TEST_TMP/caps.json" <<EOF
{"user": {"uid": 0, "gid": 0}, "cwd": "/",
 "args": ["sh", "-c", "grep -E '^(CapEff|CapInh|NoNewPrivs)' /proc/self/status; ulimit -n"],
 "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_KILL"],
                  "permitted": ["CAP_CHOWN", "CAP_KILL"]},
 "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 77, "hard": 88}],
 "noNewPrivileges": true}
EOF
    hrun exec --process "$TEST_TMP/caps.json" c1
    assert_success
    # (root's execve raises effective to permitted, within the JSON's bounding)
    assert_line --regexp "^CapEff:[[:space:]]+$(cap_mask CAP_CHOWN CAP_KILL)$"
    assert_line --regexp "^CapInh:[[:space:]]+0000000000000000$"
    assert_line --regexp "^NoNewPrivs:[[:space:]]+1$"
    assert_line 77
    echo '{"args": [' >"$TEST_TMP/bad.json"
    hrun exec --process "$TEST_TMP/bad.json" c1
    assert_failure
    assert_equal "$(grep -c "bad.json" "$HRUN_ERR")" 1
}

@test "exec: -d returns once the process runs, --pid-file holds its host pid" {
    start_c1
    hrun exec -d --pid-file "$TEST_TMP/exec.pid" c1 sleep 1000
    assert_success
    local pid
    pid=$(cat "$TEST_TMP/exec.pid")
    pid_alive "$pid"
    assert_equal "$(tr '\0' ' ' </proc/$pid/cmdline)" "sleep 1000 "
    assert_equal "$(readlink /proc/$pid/ns/pid)" "$(readlink /proc/$INIT/ns/pid)"
    assert_equal "$(readlink /proc/$pid/root)" "$(readlink /proc/$INIT/root)"
    [ "$(cg_procs)" -eq 2 ]
    kill -9 "$pid"
    wait_until 5 pid_gone "$pid"
}

@test "exec: in a created container (init waiting for start)" {
    create c1
    INIT=$(state_field c1 pid)
    hrun exec c1 sh -c 'echo in-created; readlink /proc/self/ns/pid'
    assert_success
    assert_line in-created
    assert_line "$(readlink /proc/$INIT/ns/pid)"
    status_is c1 created
    # a detached exec keeps running, and the container still starts
    hrun exec -d --pid-file "$TEST_TMP/d.pid" c1 sleep 100
    assert_success
    pid_alive "$(cat "$TEST_TMP/d.pid")"
    status_is c1 created
    husk start c1
    wait_status c1 running
    assert_equal "$(state_field c1 pid)" "$INIT"
    assert_equal "$(tr '\0' ' ' </proc/$INIT/cmdline)" "sleep 1000 "
    pid_alive "$(cat "$TEST_TMP/d.pid")"
}

@test "exec: -t proxies a pty; -t --console-socket sends the master" {
    start_c1
    hrun exec -t c1 sh -c 'tty; test -t 0 && echo stdin-tty'
    assert_success
    assert_equal "$(tr -d '\r' <"$HRUN_OUT")" "$(printf '/dev/pts/0\nstdin-tty')"
    # exit codes and signal deaths propagate through the pty too
    hrun exec -t c1 sh -c 'exit 7'
    [ "$status" -eq 7 ]
    hrun exec -t c1 sh -c 'kill -9 $$'
    [ "$status" -eq 137 ]
    [ -x "$RECVTTY" ] || fail "recvtty not built: $RECVTTY"
    local sock=$TEST_TMP/console.sock
    "$RECVTTY" -m print "$sock" </dev/null >"$TEST_TMP/console.out" 2>"$TEST_TMP/recvtty.err" 3>&- &
    RECVTTY_PID=$!
    wait_until 10 test -S "$sock"
    hrun exec -t -d --console-socket "$sock" c1 sh -c 'tty; echo via-socket'
    assert_success
    wait_until 10 pid_gone "$RECVTTY_PID"
    RECVTTY_PID=
    assert_equal "$(tr -d '\r' <"$TEST_TMP/console.out" | sed -n 2p)" via-socket
    tr -d '\r' <"$TEST_TMP/console.out" | sed -n 1p | grep -qE '^/dev/pts/[0-9]+$'
}

@test "exec: -t from a terminal (script(1)): the pty gets its window size" {
    command -v script >/dev/null || skip "script(1) is not installed"
    start_c1
    # script's stdin stays open (and silent) meanwhile: at EOF it would type
    # an end-of-file into the pty
    run script -qec "stty rows 29 cols 97; $HUSK --root $ROOT exec -t c1 sh -c 'stty size; tty'" \
        /dev/null < <(sleep 5)
    assert_success
    assert_equal "$(tr -d '\r' <<<"$output")" "$(printf '29 97\n/dev/pts/0')"
}

@test "exec: no fd of husk leaks; --preserve-fds passes fd 3 on" {
    start_c1
    hrun exec c1 ls /proc/self/fd
    # 0 1 2, and 3 is ls's own directory fd
    assert_equal "$(echo $output)" "0 1 2 3"
    husk exec --preserve-fds 1 c1 sh -c 'cat <&3' 3<<<"passed-on" </dev/null >"$TEST_TMP/pf.out" 2>&1
    assert_equal "$(cat "$TEST_TMP/pf.out")" passed-on
    hrun exec --preserve-fds 5 c1 true 3>&- 4>&- 5>&- 6>&- 7>&-
    assert_failure
    [[ "$stderr" == *"--preserve-fds 5: fd 3 was not passed"* ]]
}

@test "exec: --cgroup puts the process in a sub-cgroup of the container" {
    start_c1
    local d sub=$CG_NAME-sub
    for d in /sys/fs/cgroup/*/husk-test/$CG_NAME /sys/fs/cgroup/husk-test/$CG_NAME; do
        if [ -d "$d" ]; then mkdir "$d/$sub"; fi
        # v1 cpuset takes no task before it has cpus and mems
        if [ -f "$d/cpuset.cpus" ]; then
            cat "$d/cpuset.cpus" >"$d/$sub/cpuset.cpus"
            cat "$d/cpuset.mems" >"$d/$sub/cpuset.mems"
        fi
    done
    hrun exec --cgroup "$sub" c1 cat /proc/self/cgroup
    assert_success
    # v1: every hierarchy's line (pids among them); v2: the one line
    assert_line --regexp "^([0-9]+:pids|0:):/husk-test/$CG_NAME/$sub\$"
    hrun exec --cgroup ../escape c1 true
    assert_failure
    [[ "$stderr" == *"--cgroup \`../escape\`"* ]]
}

@test "exec: 50 concurrent execs into one container all succeed" {
    start_c1
    local i pids=()
    for i in $(seq 1 50); do
        husk exec c1 sh -c "echo out-$i" </dev/null >"$TEST_TMP/c.$i" 2>&1 &
        pids+=($!)
    done
    local failed=0
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || failed=$((failed + 1))
    done
    [ "$failed" -eq 0 ]
    for i in $(seq 1 50); do
        assert_equal "$(cat "$TEST_TMP/c.$i")" "out-$i"
    done
    wait_until 5 only_the_init
}

@test "exec: bad inputs are refused clearly and leave nothing behind" {
    start_c1
    hrun exec nosuch true
    assert_failure
    [[ "$stderr" == *"container \`nosuch\` does not exist"* ]]

    hrun exec c1 /no/such/program
    assert_failure
    [[ "$stderr" == *'exec "/no/such/program": No such file or directory'* ]]
    hrun exec c1 nosuchprogram
    assert_failure
    [[ "$stderr" == *'"nosuchprogram": executable file not found in $PATH'* ]]

    hrun exec -u nobody-here c1 true
    assert_failure
    [[ "$stderr" == *"no user \`nobody-here\` in the container's /etc/passwd"* ]]
    hrun exec -u 0:nogroup-here c1 true
    assert_failure
    [[ "$stderr" == *"no group \`nogroup-here\` in the container's /etc/group"* ]]

    hrun exec --cwd /no/such/dir c1 true
    assert_failure
    [[ "$stderr" == *"cwd \`/no/such/dir\`"*"No such file or directory"* ]]
    hrun exec --cap CAP_NOPE c1 true
    assert_failure
    [[ "$stderr" == *"--cap \`CAP_NOPE\`: unknown capability"* ]]
    hrun exec -g abc c1 true
    assert_failure
    [[ "$stderr" == *"--additional-gids \`abc\`"* ]]
    hrun exec --apparmor some-profile c1 true
    assert_failure
    [[ "$stderr" == *"--apparmor"* ]]
    hrun exec -t -d c1 true
    assert_failure
    [[ "$stderr" == *"--console-socket"* ]]
    hrun exec c1
    assert_failure
    [[ "$stderr" == *"missing COMMAND"* ]]

    only_the_init

    husk kill c1 KILL
    wait_status c1 stopped
    hrun exec c1 true
    assert_failure
    [[ "$stderr" == *"container \`c1\` is stopped"* ]]
    husk delete c1
    assert_nothing_left c1
}

@test "exec: refused in a paused container unless --ignore-paused" {
    update_config '.root.readonly = false'
    start_c1
    husk pause c1 || skip "pause is not available here"
    hrun exec c1 true
    assert_failure
    [[ "$stderr" == *"is paused"* ]]
    # with --ignore-paused it is let in, and runs once the container resumes
    husk exec --ignore-paused -d --pid-file "$TEST_TMP/p.pid" c1 sh -c 'echo resumed >/tmp/r' \
        </dev/null >/dev/null 2>&1 &
    local hp=$!
    sleep 0.3
    husk resume c1
    wait "$hp"
    wait_until 5 test -e "$BUNDLE/rootfs/tmp/r"
}

@test "exec: --cwd through a symlink stays inside the container's root" {
    mkdir -p "$BUNDLE/rootfs/inside"
    ln -s ../../../../.. "$BUNDLE/rootfs/up"
    ln -s /inside "$BUNDLE/rootfs/abs"
    start_c1
    hrun exec --cwd /up c1 pwd -P
    assert_success
    assert_output /
    hrun exec --cwd /abs c1 pwd -P
    assert_output /inside
    # a cwd outside the root would reach the bundle's host path relatively
    hrun exec --cwd /up c1 sh -c 'test -d ".'"$TEST_TMP"'" && echo escaped || echo inside'
    assert_output inside
}

@test "exec: more bad inputs: clear errors naming the value, nothing left behind" {
    start_c1
    hrun exec --process "$TEST_TMP/no-such.json" c1
    assert_failure
    [[ "$stderr" == *"--process \`$TEST_TMP/no-such.json\`"*"No such file or directory"* ]]
    echo '{"cwd": "/"}' >"$TEST_TMP/noargs.json"
    hrun exec --process "$TEST_TMP/noargs.json" c1
    assert_failure
    [[ "$stderr" == *"process.args: must name a program"* ]]
    hrun exec --process "$TEST_TMP/noargs.json" c1 true
    assert_failure
    [[ "$stderr" == *"unexpected argument \`true\`"* ]]
    hrun exec --preserve-fds abc c1 true
    assert_failure
    [[ "$stderr" == *"--preserve-fds \`abc\`"* ]]
    hrun exec --cgroup no-such-sub c1 true
    assert_failure
    [[ "$stderr" == *"no-such-sub"*"does not exist"* ]]
    hrun exec --console-socket "$TEST_TMP/sock" c1 true
    assert_failure
    [[ "$stderr" == *"--console-socket \`$TEST_TMP/sock\`: only with --tty"* ]]
    hrun exec -t --console-socket "$TEST_TMP/no-such.sock" c1 true
    assert_failure
    [[ "$stderr" == *"console socket \"$TEST_TMP/no-such.sock\""*"No such file or directory"* ]]
    hrun exec --cwd relative/dir c1 true
    assert_failure
    [[ "$stderr" == *"cwd \`relative/dir\`: not absolute"* ]]
    hrun exec -u 99999999999 c1 true
    assert_failure
    [[ "$stderr" == *"--user \`99999999999\`: uid out of range"* ]]
    hrun exec -e =no-key c1 true
    assert_failure
    [[ "$stderr" == *"--env \`=no-key\`: want KEY=VALUE"* ]]
    hrun exec --bogus c1 true
    assert_failure
    [[ "$stderr" == *"--bogus"* ]]
    hrun exec ../c1 true
    assert_failure
    [[ "$stderr" == *"../c1"* ]]
    # the process was running when the pid file failed: it is killed
    hrun exec --pid-file "$TEST_TMP/no/such/dir/p" c1 sleep 100
    assert_failure
    [[ "$stderr" == *"--pid-file"*"$TEST_TMP/no/such/dir"* ]]
    hrun exec -d --pid-file "$TEST_TMP/no/such/dir/p" c1 sleep 100
    assert_failure
    wait_until 5 only_the_init
    status_is c1 running
}
