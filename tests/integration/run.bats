#!/usr/bin/env bats
# `run` (create + start + wait) and what the process inside sees: its
# output, exit code, signals, and the process and mount setup from config.

load helpers

setup() {
    load_libs
    setup_bundle
}

teardown() {
    teardown_bundle
}

# start_foreground ID [FLAGS...]: `husk run` in the background of this shell,
# as an interactive shell would start it (SIGINT not ignored), its output in
# $TEST_TMP/ID.out; sets $HPID to husk's own pid.
start_foreground() {
    local id=$1
    shift
    env --default-signal=INT,QUIT "HUSK_TEST_TAG=$TAG" \
        "$HUSK" --root "$ROOT" run --bundle "$BUNDLE" "$@" "$id" \
        </dev/null >"$TEST_TMP/$id.out" 2>&1 &
    HPID=$!
}

# wait_foreground: waits (bounded) for husk started by start_foreground;
# sets $status to its exit status.
wait_foreground() {
    wait_until 10 pid_gone "$HPID" || {
        echo "husk run (pid $HPID) still running" >&2
        return 1
    }
    status=0
    wait "$HPID" || status=$?
}

# mountinfo_field TEXT MOUNTPOINT FIELD: from a mountinfo dump, a field of the
# last mount on MOUNTPOINT: "opts" (per-mount options) or "fstype".
mountinfo_field() {
    awk -v mp="$2" -v want="$3" '
        $5 == mp {
            for (i = 7; $i != "-"; i++) ;
            r = (want == "opts") ? $6 : $(i + 1)
        }
        END { print r }' <<<"$1"
}

@test "run prints the container's output: hostname from config, its pid is 1" {
    update_config '.hostname = "husk-box" | .process.args = ["sh", "-c", "hostname; echo pid=$$"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 husk-box
    assert_line --index 1 pid=1
    [ "$(hostname)" != husk-box ]
    # Without --keep, run removes the container once it exits.
    assert_nothing_left c1
}

@test "run passes stdin through to the container" {
    update_config '.process.args = ["sh", "-c", "read l; echo \"got:$l\""]'
    run bash -c 'echo hello | env HUSK_TEST_TAG="$1" timeout 30 "$2" --root "$3" run --bundle "$4" c1' \
        _ "$TAG" "$HUSK" "$ROOT" "$BUNDLE"
    assert_success
    assert_output got:hello
}

@test "run exits with the container's exit code" {
    update_config '.process.args = ["sh", "-c", "exit 42"]'
    hrun run --bundle "$BUNDLE" c1
    assert_equal "$status" 42
    assert_nothing_left c1

    update_config '.process.args = ["false"]'
    hrun run --bundle "$BUNDLE" c2
    assert_equal "$status" 1

    update_config '.process.args = ["true"]'
    hrun run --bundle "$BUNDLE" c3
    assert_equal "$status" 0
}

@test "run exits 128+9 when the container's init is killed with SIGKILL" {
    update_config '.process.args = ["sh", "-c", "echo ready; while :; do sleep 0.05; done"]'
    start_foreground c1
    wait_file_has "$TEST_TMP/c1.out" ready
    pid=$(state_field c1 pid)
    kill -9 "$pid"
    wait_foreground
    assert_equal "$status" 137
    assert_nothing_left c1
}

@test "run exits 128+N when the process dies of signal N (no pid namespace)" {
    # Outside a pid namespace the process is not an init, so a signal with
    # its default action kills it.
    update_config '.linux.namespaces |= map(select(.type != "pid"))
        | .process.args = ["sh", "-c", "kill -TERM $$; sleep 5"]'
    hrun run --bundle "$BUNDLE" c1
    assert_equal "$status" 143

    update_config '.process.args = ["sh", "-c", "kill -USR1 $$; sleep 5"]'
    hrun run --bundle "$BUNDLE" c2
    assert_equal "$status" 138
    assert_nothing_left c1 c2
}

@test "run exits with the init's code, not with an orphan's that husk reaped (no pid namespace)" {
    # Without a pid namespace, orphans of the container are reparented to a
    # subreaper husk; their exit must not be taken for the init's.
    update_config '.linux.namespaces |= map(select(.type != "pid"))'
    set_sh '(sh -c "sleep 0.1; exit 9" &); (sh -c "exit 8" &); sleep 0.6; exit 3'
    hrun run --bundle "$BUNDLE" c1
    assert_equal "$status" 3
    assert_nothing_left c1
}

forward_signal() {
    local sig=$1 code=$2
    update_config ".process.args = [\"sh\", \"-c\",
        \"trap 'echo got-$sig; exit $code' $sig; echo ready; while :; do sleep 0.05; done\"]"
    start_foreground c1
    wait_file_has "$TEST_TMP/c1.out" ready
    kill -"$sig" "$HPID"
    wait_foreground
    assert_equal "$status" "$code"
    run cat "$TEST_TMP/c1.out"
    assert_line got-"$sig"
    assert_nothing_left c1
}

@test "run in the foreground forwards SIGTERM to the container" {
    forward_signal TERM 3
}

@test "run in the foreground forwards SIGINT to the container" {
    forward_signal INT 4
}

@test "run in the foreground forwards SIGUSR1 to the container" {
    forward_signal USR1 5
}

@test "run in the foreground forwards SIGHUP to the container" {
    forward_signal HUP 6
}

@test "run -d returns while the container runs; it stays until deleted" {
    update_config '.process.args = ["sh", "-c", "echo started; while [ ! -e /go ]; do sleep 0.05; done"]'
    run_detached c1 --pid-file "$TEST_TMP/pid"
    # Returned while the process is still waiting for /go.
    status_is c1 running
    pid=$(state_field c1 pid)
    assert_equal "$(cat "$TEST_TMP/pid")" "$pid"
    pid_alive "$pid"
    wait_file_has "$TEST_TMP/c1.out" started

    touch "$BUNDLE/rootfs/go"
    wait_status c1 stopped
    # A detached container is not removed when it exits.
    [ -d "$ROOT/c1" ]
    run husk delete c1
    assert_success
    assert_nothing_left c1
}

@test "run --keep keeps the stopped container; delete removes it" {
    update_config '.process.args = ["sh", "-c", "exit 7"]'
    hrun run --keep --bundle "$BUNDLE" c1
    assert_equal "$status" 7
    run husk state c1
    assert_success
    assert_equal "$(jq -r .status <<<"$output")" stopped
    run husk list -q
    assert_output c1
    run husk delete c1
    assert_success
    assert_nothing_left c1
}

@test "run without --keep leaves no container behind" {
    hrun run --bundle "$BUNDLE" c1
    assert_success
    run husk list -q
    assert_output ""
    assert_nothing_left c1
}

@test "process: env, cwd, uid, gid, additionalGids and umask as configured" {
    update_config '.process.env += ["FOO=bar baz", "EMPTY="]
        | .process.cwd = "/tmp"
        | .process.user = {"uid": 1000, "gid": 1001, "additionalGids": [10, 20], "umask": 23}
        | .process.args = ["sh", "-c", "id -u; id -g; grep ^Groups: /proc/self/status; pwd; umask; env"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 1000
    assert_line --index 1 1001
    [[ "${lines[2]}" =~ ^Groups:[[:space:]]+10\ 20[[:space:]]*$ ]] || fail "groups: ${lines[2]}"
    assert_line --index 3 /tmp
    assert_line --index 4 0027
    assert_line "FOO=bar baz"
    assert_line "EMPTY="
    assert_line "PATH=$(jq -r '.process.env[] | select(startswith("PATH="))' "$BUNDLE/config.json" | cut -d= -f2-)"
}

@test "process: without user.umask the umask is 0022; caller's env and groups do not leak in" {
    update_config 'del(.process.user.umask) | del(.process.user.additionalGids)
        | .process.env += ["WITH_EQUALS=a=b=c"]
        | .process.args = ["sh", "-c", "umask; grep ^Groups: /proc/self/status; env"]'
    run setpriv --groups 5,6 env HUSK_LEAK_CHECK=leaked HUSK_TEST_TAG="$TAG" \
        timeout "$HUSK_TIMEOUT" "$HUSK" --root "$ROOT" run --bundle "$BUNDLE" c1 </dev/null
    assert_success
    assert_line --index 0 0022
    [[ "${lines[1]}" =~ ^Groups:[[:space:]]*$ ]] || fail "caller's groups leaked in: ${lines[1]}"
    assert_line WITH_EQUALS=a=b=c
    refute_output --partial HUSK_LEAK_CHECK
}

@test "process: HOME comes from the rootfs's /etc/passwd when the config has none (as runc and crun)" {
    update_config '.process.env |= map(select(startswith("HOME=") | not))
        | .process.args = ["sh", "-c", "echo home=$HOME"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output home=/root
    update_config '.process.env += ["HOME=/custom"]'
    hrun run --bundle "$BUNDLE" c2
    assert_output home=/custom
}

@test "process: oomScoreAdj is applied" {
    update_config '.process.oomScoreAdj = 123 | .process.args = ["cat", "/proc/self/oom_score_adj"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output 123
}

@test "hostname and domainname from config" {
    update_config '.hostname = "box1" | .domainname = "example.test"
        | .process.args = ["sh", "-c", "cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 box1
    assert_line --index 1 example.test
}

@test "run exits 255 for exit 255, and passes a large output through whole" {
    update_config '.process.args = ["sh", "-c", "exit 255"]'
    hrun run --bundle "$BUNDLE" c1
    assert_equal "$status" 255
    update_config '.process.args = ["seq", "1", "200000"]'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    assert_equal "${#lines[@]}" 200000
    assert_equal "${lines[199999]}" 200000
}

@test "run --no-pivot and --no-new-keyring still give a working container" {
    update_config '.process.args = ["sh", "-c", "echo pid=$$; cat /proc/self/mountinfo"]'
    hrun run --no-pivot --no-new-keyring --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 pid=1
    refute_output --partial " /mnt/"
    assert_nothing_left c1
}

@test "process: a cwd only root may enter still works for a non-root user (entered before the uid changes, as runc)" {
    chmod 700 "$BUNDLE/rootfs/root"
    update_config '.process.cwd = "/root" | .process.user = {"uid": 1000, "gid": 1000}
        | .process.args = ["sh", "-c", "pwd; id -u"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 /root
    assert_line --index 1 1000
}

@test "process: no capabilities section means no capabilities at all" {
    update_config 'del(.process.capabilities) | .process.args = ["grep", "^Cap", "/proc/self/status"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    local f
    for f in CapInh CapPrm CapEff CapBnd CapAmb; do
        assert_equal "$f=$(cap_field "$f")" "$f=0000000000000000"
    done
}

@test "big configs: 2000 env entries, a 100 KB argument, 40 mounts" {
    update_config '.process.env += [range(2000) | "VAR_\(.)=value-\(.)"]
        | .mounts += [range(40) | {"destination": "/m/\(.)", "type": "tmpfs", "source": "tmpfs"}]
        | .process.args = ["sh", "-c", "echo ${#1}; env | grep -c ^VAR_; echo $VAR_1999; grep -c \" /m/\" /proc/self/mountinfo",
            "sh", ([range(100000) | "x"] | join(""))]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 100000
    assert_line --index 1 2000
    assert_line --index 2 value-1999
    assert_line --index 3 40
}

@test "process: args[0] with a slash is taken relative to the cwd, not looked up in PATH" {
    update_config '.process.cwd = "/bin" | .process.args = ["./sh", "-c", "echo relative-ok"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output relative-ok
}

@test "process: the PATH lookup of args[0] skips missing dirs and files that are not executable" {
    mkdir -p "$BUNDLE/rootfs/opt/a" "$BUNDLE/rootfs/opt/b"
    printf '#!/bin/sh\necho from-a\n' >"$BUNDLE/rootfs/opt/a/tool"
    printf '#!/bin/sh\necho from-b\n' >"$BUNDLE/rootfs/opt/b/tool"
    chmod 644 "$BUNDLE/rootfs/opt/a/tool"
    chmod 755 "$BUNDLE/rootfs/opt/b/tool"
    update_config '.process.env = (.process.env | map(select(startswith("PATH=") | not))) + ["PATH=/opt/none:/opt/a:/opt/b:/bin"]
        | .process.args = ["tool"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output from-b
}

@test "process: a cwd that does not exist in the rootfs is created" {
    update_config '.process.cwd = "/work/dir" | .process.args = ["pwd"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output /work/dir
}

@test "process: rlimits as configured (ulimit -n, /proc/self/limits)" {
    update_config '.process.rlimits = [
            {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 768},
            {"type": "RLIMIT_CPU", "soft": 100, "hard": 200}]
        | .process.args = ["sh", "-c", "ulimit -n; ulimit -Hn; grep \"Max cpu time\" /proc/self/limits"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 512
    assert_line --index 1 768
    [[ "${lines[2]}" =~ ^Max\ cpu\ time\ +100\ +200\ +seconds ]] || fail "cpu limit: ${lines[2]}"
}

@test "process: every RLIMIT_* name sets its limit, as /proc/self/limits shows" {
    # Values below this host's hard limits: root here may not raise them.
    update_config '.process.rlimits = [
            {"type": "RLIMIT_AS", "soft": 1000000000, "hard": 2000000000},
            {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
            {"type": "RLIMIT_CPU", "soft": 100, "hard": 200},
            {"type": "RLIMIT_DATA", "soft": 900000000, "hard": 1900000000},
            {"type": "RLIMIT_FSIZE", "soft": 800000000, "hard": 1800000000},
            {"type": "RLIMIT_LOCKS", "soft": 100, "hard": 200},
            {"type": "RLIMIT_MEMLOCK", "soft": 65536, "hard": 131072},
            {"type": "RLIMIT_MSGQUEUE", "soft": 8192, "hard": 16384},
            {"type": "RLIMIT_NICE", "soft": 0, "hard": 0},
            {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 768},
            {"type": "RLIMIT_NPROC", "soft": 1000, "hard": 2000},
            {"type": "RLIMIT_RSS", "soft": 700000000, "hard": 1700000000},
            {"type": "RLIMIT_RTPRIO", "soft": 0, "hard": 0},
            {"type": "RLIMIT_RTTIME", "soft": 1000000, "hard": 2000000},
            {"type": "RLIMIT_SIGPENDING", "soft": 1000, "hard": 2000},
            {"type": "RLIMIT_STACK", "soft": 4194304, "hard": 8388608}]
        | .process.args = ["cat", "/proc/self/limits"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    local want
    for want in "Max address space:1000000000:2000000000" "Max core file size:0:4096" \
        "Max cpu time:100:200" "Max data size:900000000:1900000000" \
        "Max file size:800000000:1800000000" "Max file locks:100:200" \
        "Max locked memory:65536:131072" "Max msgqueue size:8192:16384" \
        "Max nice priority:0:0" "Max open files:512:768" "Max processes:1000:2000" \
        "Max resident set:700000000:1700000000" "Max realtime priority:0:0" \
        "Max realtime timeout:1000000:2000000" "Max pending signals:1000:2000" \
        "Max stack size:4194304:8388608"; do
        IFS=: read -r name soft hard <<<"$want"
        assert_line --regexp "^$name +$soft +$hard( |\$)"
    done
}

@test "process: noNewPrivileges true and false show in NoNewPrivs" {
    update_config '.process.noNewPrivileges = true | .process.args = ["grep", "^NoNewPrivs:", "/proc/self/status"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output --regexp '^NoNewPrivs:[[:space:]]+1$'

    update_config '.process.noNewPrivileges = false'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    assert_output --regexp '^NoNewPrivs:[[:space:]]+0$'
}

# caps_of SET: the mask of the config's list for one capability set.
caps_of() {
    # shellcheck disable=SC2046
    cap_mask $(jq -r ".process.capabilities.$1 // [] | .[]" "$BUNDLE/config.json")
}

# cap_field NAME: a Cap* line's value from the last hrun's output.
cap_field() {
    awk -v f="$1:" '$1 == f { print $2 }' <<<"$output"
}

# check_root_caps ID: runs as uid 0 with noNewPrivileges and compares each set
# in /proc/self/status with the config. The kernel gives a root process
# after execve its whole permitted set as effective, so CapEff shows the
# permitted list.
check_root_caps() {
    update_config '.process.noNewPrivileges = true | .process.user = {"uid": 0, "gid": 0}
        | .process.args = ["grep", "^Cap", "/proc/self/status"]'
    hrun run --bundle "$BUNDLE" "$1"
    assert_success
    assert_equal "CapBnd=$(cap_field CapBnd)" "CapBnd=$(caps_of bounding)"
    assert_equal "CapPrm=$(cap_field CapPrm)" "CapPrm=$(caps_of permitted)"
    assert_equal "CapEff=$(cap_field CapEff)" "CapEff=$(caps_of permitted)"
    assert_equal "CapInh=$(cap_field CapInh)" "CapInh=$(caps_of inheritable)"
}

@test "process: capabilities of the default config (CapBnd, CapPrm, CapEff, CapInh)" {
    check_root_caps c1
}

@test "process: capabilities of a custom config, ambient included" {
    update_config '.process.capabilities = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_NET_RAW", "CAP_SYS_ADMIN"],
        "effective": ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN"],
        "permitted": ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN"],
        "inheritable": ["CAP_NET_RAW"],
        "ambient": ["CAP_NET_RAW"]}'
    check_root_caps c1
    assert_equal "CapAmb=$(cap_field CapAmb)" "CapAmb=$(caps_of ambient)"
}

@test "process: a non-root user keeps the ambient capabilities (and only those)" {
    update_config '.process.user = {"uid": 1000, "gid": 1000}
        | .process.capabilities = {
            "bounding": ["CAP_KILL", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE"],
            "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "inheritable": ["CAP_NET_BIND_SERVICE"],
            "ambient": ["CAP_NET_BIND_SERVICE"]}
        | .process.args = ["grep", "^Cap", "/proc/self/status"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "CapBnd=$(cap_field CapBnd)" "CapBnd=$(caps_of bounding)"
    assert_equal "CapInh=$(cap_field CapInh)" "CapInh=$(caps_of inheritable)"
    assert_equal "CapAmb=$(cap_field CapAmb)" "CapAmb=$(caps_of ambient)"
    assert_equal "CapPrm=$(cap_field CapPrm)" "CapPrm=$(caps_of ambient)"
    assert_equal "CapEff=$(cap_field CapEff)" "CapEff=$(caps_of ambient)"
}

@test "mounts: proc, /dev tmpfs, devpts, shm, mqueue, sysfs as in the default config" {
    update_config '.process.args = ["cat", "/proc/self/mountinfo"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    mi=$output
    assert_equal "$(mountinfo_field "$mi" /proc fstype)" proc
    assert_equal "$(mountinfo_field "$mi" /dev fstype)" tmpfs
    assert_equal "$(mountinfo_field "$mi" /dev/pts fstype)" devpts
    assert_equal "$(mountinfo_field "$mi" /dev/shm fstype)" tmpfs
    assert_equal "$(mountinfo_field "$mi" /dev/mqueue fstype)" mqueue
    assert_equal "$(mountinfo_field "$mi" /sys fstype)" sysfs
    [[ ",$(mountinfo_field "$mi" /sys opts)," == *,ro,* ]] || fail "/sys is not read-only"
    [[ ",$(mountinfo_field "$mi" /dev/pts opts)," == *,noexec,* ]] || fail "/dev/pts lacks noexec"
    # The root is the bundle's rootfs, not the host's root.
    [ "$(awk '$5 == "/" { n++ } END { print n + 0 }' <<<"$mi")" -ge 1 ]
    # Nothing of the host's own mount table leaks in.
    refute_output --partial " /mnt/"
    refute_output --partial "$TEST_TMP/state"
}

@test "mounts: the default config's cgroup mount shows the container's own cgroups, read-only" {
    update_config '.process.args = ["sh", "-c", "ls /sys/fs/cgroup; cat /proc/self/mountinfo; mkdir /sys/fs/cgroup/pids/x 2>/dev/null && echo made || echo ro-refused"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line memory
    assert_line pids
    assert_line ro-refused
    assert_equal "$(mountinfo_field "$output" /sys/fs/cgroup/pids fstype)" cgroup
    [[ ",$(mountinfo_field "$output" /sys/fs/cgroup/pids opts)," == *,ro,* ]] || fail "pids not ro"
    # What is mounted is the container's cgroup, not the host's whole tree.
    assert_line --regexp "^[0-9]+ [0-9]+ [0-9]+:[0-9]+ /husk-test/$CG_NAME /sys/fs/cgroup/pids "
}

@test "mounts: a read-only bind mount from the host" {
    mkdir "$TEST_TMP/data"
    echo from-host >"$TEST_TMP/data/hello"
    update_config ".mounts += [{\"destination\": \"/data\", \"type\": \"bind\",
            \"source\": \"$TEST_TMP/data\", \"options\": [\"rbind\", \"ro\"]}]
        | .process.args = [\"sh\", \"-c\",
            \"cat /data/hello; touch /data/new 2>/dev/null && echo wrote || echo ro-refused; cat /proc/self/mountinfo\"]"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 from-host
    assert_line --index 1 ro-refused
    [ ! -e "$TEST_TMP/data/new" ]
    [[ ",$(mountinfo_field "$output" /data opts)," == *,ro,* ]] || fail "/data is not ro: $output"
    assert_nothing_left c1
}

@test "mounts: a read-write bind mount lets the container write to the host dir" {
    mkdir "$TEST_TMP/data"
    update_config ".mounts += [{\"destination\": \"/data\", \"type\": \"bind\",
            \"source\": \"$TEST_TMP/data\", \"options\": [\"rbind\", \"rw\"]}]
        | .process.args = [\"sh\", \"-c\", \"echo from-inside > /data/out\"]"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$(cat "$TEST_TMP/data/out")" from-inside
}

@test "mounts: a host file bind-mounted where the rootfs has nothing" {
    echo file-content >"$TEST_TMP/hostfile"
    update_config ".mounts += [{\"destination\": \"/etc/new/deep/file\", \"type\": \"bind\",
            \"source\": \"$TEST_TMP/hostfile\", \"options\": [\"bind\", \"ro\"]}]
        | .process.args = [\"cat\", \"/etc/new/deep/file\"]"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output file-content
}

@test "mounts: a tmpfs with size and mode options" {
    update_config '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
            "options": ["nosuid", "nodev", "mode=1777", "size=1m"]}]
        | .process.args = ["sh", "-c", "stat -c %a /scratch; echo x > /scratch/f && echo wrote; cat /proc/self/mountinfo"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 1777
    assert_line --index 1 wrote
    assert_equal "$(mountinfo_field "$output" /scratch fstype)" tmpfs
    [[ ",$(mountinfo_field "$output" /scratch opts)," == *,nosuid,*nodev,* ]] || fail "opts: $(mountinfo_field "$output" /scratch opts)"
    assert_line --regexp " /scratch .* tmpfs .*size=1024k"
}

# rootfs_escape_links: /escape and /escape2 in the rootfs point at host paths
# (absolute, and relative with many ..): resolving them on the host rather
# than in the rootfs would create host directories.
rootfs_escape_links() {
    ln -s "$TEST_TMP/outside" "$BUNDLE/rootfs/escape"
    ln -s "../../../../../../../../$TEST_TMP/outside2" "$BUNDLE/rootfs/escape2"
    update_config '.mounts += [
            {"destination": "/escape/sub", "type": "tmpfs", "source": "tmpfs"},
            {"destination": "/escape2/sub", "type": "tmpfs", "source": "tmpfs"}]
        | .root.readonly = false
        | .process.cwd = "/escape/cwd"
        | .process.args = ["sh", "-c", "grep -c /sub /proc/self/mountinfo; pwd"]'
}

@test "mounts: a destination through a symlink in the rootfs never reaches the host" {
    rootfs_escape_links
    hrun run --bundle "$BUNDLE" c1
    [ ! -e "$TEST_TMP/outside" ] || fail "host dir $TEST_TMP/outside was created through the rootfs symlink"
    [ ! -e "$TEST_TMP/outside2" ] || fail "host dir $TEST_TMP/outside2 was created through the rootfs symlink"
    [ "$status" -lt 124 ] || fail "exited $status"
    assert_nothing_left c1
}

@test "mounts: a destination through a dangling symlink is made inside the rootfs (as runc does)" {
    # Images hold such links (e.g. /etc/resolv.conf -> ../run/...), and
    # clients mount over them.
    rootfs_escape_links
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 2
    [ -d "$BUNDLE/rootfs/$TEST_TMP/outside/sub" ] || fail "mount point not created in the rootfs"
    [ -d "$BUNDLE/rootfs/$TEST_TMP/outside/cwd" ] || fail "cwd not created in the rootfs"
}

@test "masked and read-only paths that do not exist are skipped" {
    update_config '.linux.maskedPaths += ["/proc/no-such-file"] | .linux.readonlyPaths += ["/proc/no-such-dir"]
        | .process.args = ["true"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
}

@test "/dev: the default devices and symlinks of the runtime-spec" {
    update_config '.process.args = ["sh", "-c",
        "for d in null zero full random urandom tty; do echo $d $(stat -c \"%F %t:%T\" /dev/$d); done
         for l in fd stdin stdout stderr ptmx; do echo $l $(readlink /dev/$l); done
         echo hello > /dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line "null character special file 1:3"
    assert_line "zero character special file 1:5"
    assert_line "full character special file 1:7"
    assert_line "random character special file 1:8"
    assert_line "urandom character special file 1:9"
    assert_line "tty character special file 5:0"
    assert_line "fd /proc/self/fd"
    assert_line "stdin /proc/self/fd/0"
    assert_line "stdout /proc/self/fd/1"
    assert_line "stderr /proc/self/fd/2"
    assert_line "ptmx pts/ptmx"
    assert_line null-ok
    assert_line --regexp "^ *00 00 00 00$"
}

@test "root.readonly: writing to / fails inside, the rootfs stays untouched" {
    update_config '.root.readonly = true
        | .process.args = ["sh", "-c", "touch /newfile 2>/dev/null && echo wrote || echo ro-refused; cat /proc/self/mountinfo"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 ro-refused
    [ ! -e "$BUNDLE/rootfs/newfile" ]
    [[ ",$(mountinfo_field "$output" / opts)," == *,ro,* ]] || fail "/ is not ro: $output"
}

@test "root.readonly false: the container can write to its rootfs" {
    update_config '.root.readonly = false | .process.args = ["sh", "-c", "echo hi > /newfile"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$(cat "$BUNDLE/rootfs/newfile")" hi
}

@test "maskedPaths: masked files read as /dev/null (char 1:3), masked dirs are empty" {
    # Only paths this kernel has: /proc/kcore is missing on some.
    local files=() f
    for f in /proc/kcore /proc/keys /proc/timer_list; do
        [ -e "$f" ] && files+=("$f")
    done
    [ "${#files[@]}" -ge 1 ]
    [ -n "$(ls -A /sys/firmware)" ]
    update_config ".linux.maskedPaths = $(printf '%s\n' "${files[@]}" /sys/firmware | jq -R . | jq -s .)"
    set_sh "for f in ${files[*]}; do echo \$f \$(stat -c '%F %t:%T' \$f) \$(wc -c < \$f); done
        echo firmware=\$(ls -A /sys/firmware | wc -l) \$(stat -f -c %T /sys/firmware)
        touch /sys/firmware/x 2>/dev/null && echo firmware-writable
        grep ' /sys/firmware ' /proc/self/mountinfo"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    for f in "${files[@]}"; do
        assert_line "$f character special file 1:3 0"
    done
    assert_line "firmware=0 tmpfs"
    refute_line firmware-writable
    [[ ",$(mountinfo_field "$output" /sys/firmware opts)," == *,ro,* ]] || fail "/sys/firmware is not ro: $output"
}

@test "readonlyPaths: writes to /proc/sys fail; /proc/sys, /proc/bus are read-only mounts" {
    update_config '.linux.readonlyPaths = ["/proc/sys", "/proc/bus"]
        | .hostname = "before"
        | .process.args = ["sh", "-c",
            "echo after 2>/dev/null > /proc/sys/kernel/hostname && echo wrote || echo ro-refused; hostname; cat /proc/self/mountinfo"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 ro-refused
    assert_line --index 1 before
    [[ ",$(mountinfo_field "$output" /proc/sys opts)," == *,ro,* ]] || fail "/proc/sys not ro"
    [[ ",$(mountinfo_field "$output" /proc/bus opts)," == *,ro,* ]] || fail "/proc/bus not ro"
}

@test "namespaces: the container has its own network (only lo) and ipc" {
    update_config '.process.args = ["sh", "-c", "ls /sys/class/net; readlink /proc/self/ns/ipc"]'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 lo
    [ "${#lines[@]}" = 2 ]
    [ "${lines[1]}" != "$(readlink /proc/self/ns/ipc)" ]
}
