#!/usr/bin/env bats
# Cgroups with the cgroupfs driver on this host's layout: where the
# container's cgroup lands, the limits the host holds, what the container
# sees, the effect of the limits (OOM kill, pids.max), removal on delete,
# and bad input that leaves nothing behind. Every cgroup lives under
# /husk-test (the bundle's cgroupsPath from helpers.bash).

load helpers

setup() {
    load_libs
    setup_bundle
    # container ids unique to the test: an id-named cgroup of another run
    # (an absent cgroupsPath lands at /<id>) must not look like ours
    C1=$CG_NAME-c1
    C2=$CG_NAME-c2
    C3=$CG_NAME-c3
}

teardown() {
    teardown_bundle
}

# cg_dir CONTROLLER [LEAF]: the container's directory in a hierarchy; v1
# controllers have their own mount, a pure v2 host has one tree.
cg_dir() {
    local leaf=${2:-husk-test/$CG_NAME}
    if [ -d "/sys/fs/cgroup/$1" ]; then
        echo "/sys/fs/cgroup/$1/$leaf"
    else
        echo "/sys/fs/cgroup/$leaf"
    fi
}

is_v1() {
    [ -d /sys/fs/cgroup/memory ]
}

# every_hierarchy_has LEAF: the leaf exists in every mounted cgroup hierarchy.
every_hierarchy_has() {
    local mp
    for mp in $(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo); do
        [ -d "$mp/$1" ] || { echo "no $mp/$1" >&2; return 1; }
    done
}

no_hierarchy_has() {
    local mp
    for mp in $(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo); do
        [ ! -e "$mp/$1" ] || { echo "$mp/$1 left behind" >&2; return 1; }
    done
}

@test "cgroups: limits are written on the host, the init is in cgroup.procs, delete removes it all" {
    update_config '.linux.resources = {
            "memory": {"limit": 67108864, "reservation": 33554432},
            "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
            "pids": {"limit": 50}
        }
        | .linux.namespaces |= map(select(.type != "cgroup"))'
    set_sh 'cat /proc/self/cgroup; echo ready; exec sleep 1000'
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready
    pid=$(state_field "$C1" pid)
    [ -n "$pid" ] && [ "$pid" -gt 0 ]

    every_hierarchy_has "husk-test/$CG_NAME"
    grep -qx "$pid" "$(cg_dir pids)/cgroup.procs"
    grep -qx "$pid" "$(cg_dir memory)/cgroup.procs"
    assert_equal "$(cat "$(cg_dir pids)/pids.max")" 50
    if is_v1; then
        assert_equal "$(cat "$(cg_dir memory)/memory.limit_in_bytes")" 67108864
        assert_equal "$(cat "$(cg_dir memory)/memory.soft_limit_in_bytes")" 33554432
        assert_equal "$(cat "$(cg_dir cpu)/cpu.shares")" 512
        assert_equal "$(cat "$(cg_dir cpu)/cpu.cfs_quota_us")" 50000
        assert_equal "$(cat "$(cg_dir cpu)/cpu.cfs_period_us")" 100000
        assert_equal "$(cat "$(cg_dir cpuset)/cpuset.cpus")" 0
        # devices: no longer allow-all; the default devices are allowed
        run cat "$(cg_dir devices)/devices.list"
        refute_line 'a *:* rwm'
        assert_line 'c 1:3 rwm'
    else
        assert_equal "$(cat "$(cg_dir memory)/memory.max")" 67108864
        assert_equal "$(cat "$(cg_dir memory)/cpu.max")" "50000 100000"
    fi

    # From inside (no cgroup namespace): the same path for every hierarchy
    run cat "$TEST_TMP/$C1.out"
    if is_v1; then
        assert_line --regexp "^[0-9]+:memory:/husk-test/$CG_NAME\$"
        assert_line --regexp "^[0-9]+:pids:/husk-test/$CG_NAME\$"
        assert_line --regexp "^[0-9]+:name=systemd:/husk-test/$CG_NAME\$"
    fi
    assert_line --regexp "^0::/husk-test/$CG_NAME\$"

    husk delete -f "$C1"
    no_hierarchy_has "husk-test/$CG_NAME"
    assert_nothing_left "$C1"
}

@test "cgroups: with a cgroup namespace the container sees itself at the root" {
    update_config '.linux.namespaces += [{"type": "cgroup"}]'
    set_sh 'cat /proc/self/cgroup'
    hrun run --bundle "$BUNDLE" "$C1"
    assert_success
    if is_v1; then
        assert_line --regexp '^[0-9]+:memory:/$'
        refute_line --partial "$CG_NAME"
    fi
    assert_line '0::/'
    assert_nothing_left "$C1"
}

@test "cgroups: a relative cgroupsPath lands under each hierarchy's root, not under husk's own cgroup" {
    update_config ".linux.cgroupsPath = \"husk-test/$CG_NAME-rel\""
    set_sh 'echo ready; exec sleep 1000'
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready
    every_hierarchy_has "husk-test/$CG_NAME-rel"
    # husk's caller sits in a cgroup of its own (memory:/process_api/...
    # here); nothing was made below it
    own=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
    if [ -n "$own" ] && [ "$own" != / ]; then
        [ ! -e "/sys/fs/cgroup/memory$own/husk-test" ]
    fi
    pid=$(state_field "$C1" pid)
    grep -qx "$pid" "$(cg_dir pids "husk-test/$CG_NAME-rel")/cgroup.procs"
    husk delete -f "$C1"
    no_hierarchy_has "husk-test/$CG_NAME-rel"
    assert_nothing_left "$C1"
}

@test "cgroups: a cgroupsPath with .. is refused, naming linux.cgroupsPath, and nothing is left" {
    update_config ".linux.cgroupsPath = \"/husk-test/$CG_NAME/../../$CG_NAME-escape\""
    hrun run --bundle "$BUNDLE" "$C1"
    assert_failure
    [[ "$stderr" == *"linux.cgroupsPath"* ]]
    [[ "$stderr" == *".."* ]]
    no_hierarchy_has "$CG_NAME-escape"
    no_hierarchy_has "husk-test/$CG_NAME"
    assert_nothing_left "$C1"
}

@test "cgroups: bad limits are refused with the field named, nothing left behind" {
    update_config '.linux.resources = {"memory": {"limit": -5}}'
    hrun run --bundle "$BUNDLE" "$C1"
    assert_failure
    [[ "$stderr" == *"linux.resources.memory.limit"* ]]
    assert_nothing_left "$C1"

    update_config '.linux.resources = {"cpu": {"shares": 1}}'
    hrun run --bundle "$BUNDLE" "$C2"
    assert_failure
    [[ "$stderr" == *"linux.resources.cpu.shares"* ]]
    assert_nothing_left "$C2"

    update_config '.linux.resources = {"pids": {"limit": -3}}'
    hrun run --bundle "$BUNDLE" "$C3"
    assert_failure
    [[ "$stderr" == *"linux.resources.pids.limit"* ]]
    assert_nothing_left "$C3"
}

@test "cgroups: unified keys are refused on a cgroup v1 controller, naming the key" {
    is_v1 || skip "pure cgroup v2 host"
    update_config '.linux.resources = {"unified": {"memory.max": "1000000"}}'
    hrun run --bundle "$BUNDLE" "$C1"
    assert_failure
    [[ "$stderr" == *"unified.memory.max"* ]]
    assert_nothing_left "$C1"
}

@test "cgroups: a memory hog is OOM-killed under a small memory limit" {
    # memsw equal to the limit: no escape into swap. The input is bounded
    # (256 MiB) so a missing limit fails the test instead of the host.
    update_config '.linux.resources = {"memory": {"limit": 33554432, "swap": 33554432}}'
    set_sh 'head -c 268435456 /dev/zero | tail; echo "tail exited $?"'
    hrun run --keep --bundle "$BUNDLE" "$C1"
    local oomctl=$(cg_dir memory)/memory.oom_control
    [ -e "$oomctl" ] || oomctl=$(cg_dir memory)/memory.events
    local kills
    kills=$(awk '$1 == "oom_kill" { print $2 }' "$oomctl")
    husk delete "$C1"
    [ "${kills:-0}" -ge 1 ] || fail "no oom_kill counted in $oomctl"
    # tail (buffering a line that never ends) is killed with SIGKILL; while
    # its memory is still being freed the kernel may take sh too (exit 137)
    [[ "$output" == *"tail exited 137"* ]] || [ "$status" -eq 137 ] ||
        fail "neither tail nor sh was OOM-killed: status $status, output: $output"
    assert_nothing_left "$C1"
}

@test "cgroups: a fork bomb stops at pids.max" {
    update_config '.linux.resources = {"pids": {"limit": 10}}'
    # The forking shell dies at its first refused fork (ash gives up), so
    # it runs in a subshell; the sleepers it made stay.
    set_sh '(i=0; while [ $i -lt 40 ]; do sleep 1000 & i=$((i+1)); done) 2>/dev/null; echo ready; exec sleep 1000'
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready
    assert_equal "$(cat "$(cg_dir pids)/pids.max")" 10
    current=$(cat "$(cg_dir pids)/pids.current")
    [ "$current" -le 10 ] || fail "pids.current is $current, above pids.max 10"
    # the kernel refused forks because of the limit
    refused=$(awk '$1 == "max" { print $2 }' "$(cg_dir pids)/pids.events")
    [ "$refused" -gt 0 ] || fail "pids.events shows no refused fork"
    husk delete -f "$C1"
    no_hierarchy_has "husk-test/$CG_NAME"
    assert_nothing_left "$C1"
}

@test "cgroups: every v1 resource of the spec lands in its control file" {
    is_v1 || skip "cgroup v1 files"
    local dev
    dev=$(cat /sys/block/vda/dev 2>/dev/null || cat "$(ls -d /sys/block/*/dev | head -1)")
    local major=${dev%%:*} minor=${dev##*:}
    update_config ".linux.resources = {
            \"memory\": {\"limit\": 67108864, \"reservation\": 33554432, \"swap\": 100663296,
                         \"swappiness\": 20, \"disableOOMKiller\": false, \"kernelTCP\": 16777216},
            \"cpu\": {\"shares\": 256, \"quota\": 20000, \"period\": 100000, \"burst\": 10000,
                      \"cpus\": \"0\", \"mems\": \"0\", \"idle\": 0},
            \"pids\": {\"limit\": 30},
            \"blockIO\": {\"weight\": 300,
                \"throttleReadBpsDevice\": [{\"major\": $major, \"minor\": $minor, \"rate\": 1048576}],
                \"throttleWriteIOPSDevice\": [{\"major\": $major, \"minor\": $minor, \"rate\": 100}]},
            \"devices\": [{\"allow\": false, \"access\": \"rwm\"},
                        {\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 200, \"access\": \"rw\"}]
        }"
    set_sh 'echo ready; exec sleep 1000'
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready

    local m c b
    m=$(cg_dir memory) c=$(cg_dir cpu) b=$(cg_dir blkio)
    assert_equal "$(cat "$m/memory.limit_in_bytes")" 67108864
    assert_equal "$(cat "$m/memory.soft_limit_in_bytes")" 33554432
    if [ -e "$m/memory.memsw.limit_in_bytes" ]; then
        assert_equal "$(cat "$m/memory.memsw.limit_in_bytes")" 100663296
    fi
    assert_equal "$(cat "$m/memory.swappiness")" 20
    grep -qx 'oom_kill_disable 0' "$m/memory.oom_control"
    assert_equal "$(cat "$m/memory.kmem.tcp.limit_in_bytes")" 16777216
    assert_equal "$(cat "$c/cpu.shares")" 256
    assert_equal "$(cat "$c/cpu.cfs_quota_us")" 20000
    assert_equal "$(cat "$c/cpu.cfs_period_us")" 100000
    assert_equal "$(cat "$c/cpu.cfs_burst_us")" 10000
    assert_equal "$(cat "$c/cpu.idle")" 0
    assert_equal "$(cat "$(cg_dir cpuset)/cpuset.cpus")" 0
    assert_equal "$(cat "$(cg_dir cpuset)/cpuset.mems")" 0
    assert_equal "$(cat "$(cg_dir pids)/pids.max")" 30
    # CFQ's blkio.weight, or BFQ's blkio.bfq.weight on kernels without CFQ
    if [ -e "$b/blkio.weight" ]; then
        assert_equal "$(cat "$b/blkio.weight")" 300
    else
        run cat "$b/blkio.bfq.weight"
        assert_output --regexp '(^| )300$'
    fi
    grep -qx "$major:$minor 1048576" "$b/blkio.throttle.read_bps_device"
    grep -qx "$major:$minor 100" "$b/blkio.throttle.write_iops_device"
    run cat "$(cg_dir devices)/devices.list"
    assert_line 'c 10:200 rw'
    assert_line 'c 1:3 rwm'
    assert_line 'c 136:* rwm'
    refute_line 'a *:* rwm'

    husk delete -f "$C1"
    assert_nothing_left "$C1"
}

@test "cgroups: a device outside the allow list cannot be opened from inside, even by root with CAP_MKNOD" {
    # v1: the devices controller; v2: husk's BPF device program
    update_config '.process.capabilities.bounding += ["CAP_MKNOD"]
        | .process.capabilities.effective += ["CAP_MKNOD"]
        | .process.capabilities.permitted += ["CAP_MKNOD"]'
    # 1:1 is /dev/mem, never in the default list
    set_sh 'mknod /dev/mem2 c 1 1 && echo made; head -c 1 /dev/mem2 >/dev/null && echo opened; echo x > /dev/null && echo null-ok'
    hrun run --bundle "$BUNDLE" "$C1"
    assert_line made
    refute_line opened
    assert_line null-ok
    [[ "$stderr$output" == *"Operation not permitted"* ]]
    assert_nothing_left "$C1"
}

@test "cgroups: a controller this host lacks is refused, naming the field" {
    [ ! -d /sys/fs/cgroup/net_cls ] || skip "net_cls is mounted here"
    update_config '.linux.resources = {"network": {"classID": 1048577}}'
    hrun run --bundle "$BUNDLE" "$C1"
    assert_failure
    [[ "$stderr" == *"linux.resources.network.classID"* ]]
    [[ "$stderr" == *"net_cls"* ]]
    assert_nothing_left "$C1"
}

@test "cgroups: on cgroup v2 every resource lands in its v2 file, with the v1 values converted" {
    ! is_v1 || skip "cgroup v2 files"
    local dev
    dev=$(cat /sys/block/vda/dev 2>/dev/null || cat "$(ls -d /sys/block/*/dev | head -1)")
    local major=${dev%%:*} minor=${dev##*:}
    update_config ".linux.resources = {
            \"memory\": {\"limit\": 67108864, \"reservation\": 33554432, \"swap\": 100663296},
            \"cpu\": {\"shares\": 1024, \"quota\": 20000, \"period\": 100000, \"burst\": 10000,
                      \"cpus\": \"0\", \"mems\": \"0\"},
            \"pids\": {\"limit\": 30},
            \"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": $major, \"minor\": $minor, \"rate\": 1048576}]},
            \"unified\": {\"memory.high\": \"60000000\"}
        }"
    set_sh 'echo ready; exec sleep 1000'
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready
    local d=/sys/fs/cgroup/husk-test/$CG_NAME
    assert_equal "$(cat "$d/memory.max")" 67108864
    assert_equal "$(cat "$d/memory.low")" 33554432
    # OCI swap counts memory + swap; v2 limits swap alone
    assert_equal "$(cat "$d/memory.swap.max")" 33554432
    # shares 1024 -> weight 1 + (1024 - 2) * 9999 / 262142
    assert_equal "$(cat "$d/cpu.weight")" 39
    assert_equal "$(cat "$d/cpu.max")" "20000 100000"
    assert_equal "$(cat "$d/cpu.max.burst")" 10000
    assert_equal "$(cat "$d/cpuset.cpus")" 0
    assert_equal "$(cat "$d/pids.max")" 30
    grep -q "^$major:$minor rbps=1048576 " "$d/io.max"
    # unified keys are written last, verbatim (the kernel rounds to pages)
    [ "$(cat "$d/memory.high")" -le 60000000 ] && [ "$(cat "$d/memory.high")" -gt 59000000 ]
    husk delete -f "$C1"
    assert_nothing_left "$C1"
}
