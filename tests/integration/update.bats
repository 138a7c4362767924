#!/usr/bin/env bats
# husk update: live limits read back from the host's cgroup files, their
# effect inside the container, --resources from a file and from stdin, and
# bad input (stopped container, unknown id, bad numbers, absurd limits) that
# is refused without changing anything.

load helpers

setup() {
    load_libs
    setup_bundle
    C1=$CG_NAME-c1
    update_config '.linux.resources = {
            "memory": {"limit": 67108864},
            "cpu": {"shares": 1024},
            "pids": {"limit": 100}
        }'
}

teardown() {
    teardown_bundle
}

# cg_file CONTROLLER FILE: the container's control file (v1 controller mount
# or the single v2 tree).
cg_file() {
    if [ -d "/sys/fs/cgroup/$1" ]; then
        echo "/sys/fs/cgroup/$1/husk-test/$CG_NAME/$2"
    else
        echo "/sys/fs/cgroup/husk-test/$CG_NAME/$2"
    fi
}

require_v1() {
    [ -d /sys/fs/cgroup/memory ] || skip "needs cgroup v1 file names"
}

# On pure cgroup v2 (the VM lane's guest); elsewhere a skip, which the lane
# turns into a failure (HUSK_VMLANE=1 there).
require_v2() {
    if [ -d /sys/fs/cgroup/memory ] || [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
        [ "${HUSK_VMLANE:-}" != 1 ] || fail "VM lane: the guest is not pure cgroup v2"
        skip "needs a pure cgroup v2 host (the VM lane)"
    fi
}

start_sleeper() {
    set_sh 'echo ready; exec sleep 1000'
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready
}

@test "update: memory, pids, cpu shares and quota change live on the host; the container keeps running" {
    require_v1
    start_sleeper
    husk update --memory 100M --pids-limit 42 --cpu-share 512 --cpu-quota 20000 --cpu-period 100000 "$C1"
    assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 104857600
    assert_equal "$(cat "$(cg_file pids pids.max)")" 42
    assert_equal "$(cat "$(cg_file cpu cpu.shares)")" 512
    assert_equal "$(cat "$(cg_file cpu cpu.cfs_quota_us)")" 20000
    assert_equal "$(cat "$(cg_file cpu cpu.cfs_period_us)")" 100000
    status_is "$C1" running
    # the --cpu-shares spelling, sizes with units, -1 for "no limit"
    husk update --cpu-shares 300 --memory 1g --cpu-quota -1 "$C1"
    assert_equal "$(cat "$(cg_file cpu cpu.shares)")" 300
    assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 1073741824
    assert_equal "$(cat "$(cg_file cpu cpu.cfs_quota_us)")" -1
    status_is "$C1" running
}

@test "update: a lower pids limit makes forks fail inside the running container" {
    require_v1
    # Once /go appears the container tries to fork 8 sleepers (from a
    # subshell: ash gives up at the first refused fork) and reports; after
    # that it never forks again (exec), so the lowered limit cannot stop it.
    set_sh 'echo ready
        while [ ! -e /go ]; do sleep 0.05; done
        (for i in 1 2 3 4 5 6 7 8; do sleep 1000 & done) 2>/dev/null
        echo "batch done"
        exec sleep 1000'
    run_detached "$C1"
    wait_file_has "$TEST_TMP/$C1.out" ready
    husk update --pids-limit 4 "$C1"
    assert_equal "$(cat "$(cg_file pids pids.max)")" 4
    touch "$BUNDLE/rootfs/go"
    wait_file_has "$TEST_TMP/$C1.out" "batch done"
    current=$(cat "$(cg_file pids pids.current)")
    [ "$current" -le 4 ] || fail "pids.current $current is above the new limit 4"
    refused=$(awk '$1 == "max" { print $2 }' "$(cg_file pids pids.events)")
    [ "$refused" -gt 0 ] || fail "no fork was refused after the update (pids.events: $(cat "$(cg_file pids pids.events)"))"
    status_is "$C1" running
}

@test "update --resources: from a file and from standard input; flags override the document" {
    require_v1
    start_sleeper
    cat >"$TEST_TMP/res.json" <<'EOF'
{"memory": {"limit": 83886080}, "cpu": {"shares": 700}, "pids": {"limit": 60}}
EOF
    husk update --resources "$TEST_TMP/res.json" "$C1"
    assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 83886080
    assert_equal "$(cat "$(cg_file cpu cpu.shares)")" 700
    assert_equal "$(cat "$(cg_file pids pids.max)")" 60

    echo '{"memory": {"limit": 73400320}, "pids": {"limit": 55}}' |
        husk update -r - --pids-limit 33 "$C1"
    assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 73400320
    assert_equal "$(cat "$(cg_file pids pids.max)")" 33
    # untouched by the second document
    assert_equal "$(cat "$(cg_file cpu cpu.shares)")" 700
}

@test "update: a bad --resources document is refused naming the field, nothing changes" {
    require_v1
    start_sleeper
    before=$(cat "$(cg_file memory memory.limit_in_bytes)")
    run husk update -r - "$C1" <<<'{"memory": {"limit": "lots"}}'
    assert_failure
    assert_output --partial "linux.resources.memory.limit"
    run husk update -r - "$C1" <<<'{"memory": '
    assert_failure
    assert_output --regexp '^husk: update: --resources'
    run husk update -r "$TEST_TMP/missing.json" "$C1"
    assert_failure
    assert_output --partial "missing.json"
    assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" "$before"
}

@test "update: bad numbers and absurd limits are refused, naming the value, nothing changes" {
    require_v1
    start_sleeper
    mem=$(cat "$(cg_file memory memory.limit_in_bytes)")
    pids=$(cat "$(cg_file pids pids.max)")
    shares=$(cat "$(cg_file cpu cpu.shares)")

    run husk update --memory lots "$C1"
    assert_failure
    assert_output --partial "--memory"
    assert_output --partial "lots"
    run husk update --pids-limit 12x "$C1"
    assert_failure
    assert_output --partial "12x"
    run husk update --cpu-share -3 "$C1"
    assert_failure
    assert_output --partial "--cpu-share"
    run husk update --pids-limit -5 "$C1"
    assert_failure
    assert_output --partial "pids.limit"
    run husk update --cpu-shares 1 "$C1"
    assert_failure
    assert_output --partial "cpu.shares"
    run husk update --blkio-weight 5000 "$C1"
    assert_failure
    assert_output --partial "blockIO.weight"
    run husk update --cpu-quota -7 "$C1"
    assert_failure
    assert_output --partial "cpu.quota"
    run husk update --l3-cache-schema 'L3:0=ff' "$C1"
    assert_failure
    assert_output --partial "--l3-cache-schema"
    run husk update --memory 1m --bogus "$C1"
    assert_failure
    assert_output --partial "--bogus"

    assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" "$mem"
    assert_equal "$(cat "$(cg_file pids pids.max)")" "$pids"
    assert_equal "$(cat "$(cg_file cpu cpu.shares)")" "$shares"
    status_is "$C1" running
}

@test "update: a stopped container and an unknown id are refused" {
    set_sh 'exit 0'
    run_detached "$C1"
    wait_status "$C1" stopped
    run husk update --memory 100m "$C1"
    assert_failure
    assert_output --regexp "^husk: update: container \`$C1\` is stopped"
    run husk update --memory 100m "$CG_NAME-nosuch"
    assert_failure
    assert_output --partial "does not exist"
    run husk update
    assert_failure
    assert_output --partial "missing container ID"
    husk delete "$C1"
    assert_nothing_left "$C1"
}

@test "update: a paused container can be updated and stays paused" {
    require_v1
    start_sleeper
    husk pause "$C1"
    husk update --pids-limit 77 "$C1"
    assert_equal "$(cat "$(cg_file pids pids.max)")" 77
    status_is "$C1" paused
    husk resume "$C1"
    status_is "$C1" running
}

# limits SPEC...: "controller:file" values, one line each, for before/after
# comparisons of everything an update may touch.
limits() {
    local spec
    for spec in "$@"; do
        echo "${spec#*:}=$(cat "$(cg_file "${spec%%:*}" "${spec#*:}")" | tr '\n' '|')"
    done
}

ALL_LIMITS="memory:memory.limit_in_bytes memory:memory.memsw.limit_in_bytes
    memory:memory.soft_limit_in_bytes memory:memory.swappiness cpu:cpu.shares
    cpu:cpu.cfs_quota_us cpu:cpu.cfs_period_us cpuset:cpuset.cpus pids:pids.max
    blkio:blkio.throttle.read_bps_device blkio:blkio.throttle.write_iops_device"

@test "update: a late write the kernel refuses rolls back the fields written before it" {
    require_v1
    start_sleeper
    [ -e "$(cg_file memory memory.memsw.limit_in_bytes)" ] || skip "no swap accounting (memsw) on this kernel"
    local before
    before=$(limits $ALL_LIMITS)
    # memory, cpu shares and quota are written before cpuset.cpus, which
    # names a CPU outside the parent's set: the kernel refuses it
    run husk update --memory 100M --cpu-quota 50000 --cpu-share 300 --pids-limit 10 \
        --cpuset-cpus 4095 "$C1"
    assert_failure
    assert_output --partial "linux.resources.cpu.cpus"
    assert_output --partial "4095"
    assert_output --partial "restored"
    assert_equal "$(limits $ALL_LIMITS)" "$before"

    # a document with many fields, failing at the last one: a throttle on a
    # block device that does not exist (the first throttle, on a real one,
    # is undone too)
    local dev major minor
    dev=$(cat /sys/block/vda/dev 2>/dev/null || cat "$(ls -d /sys/block/*/dev | head -1)")
    major=${dev%%:*} minor=${dev##*:}
    cat >"$TEST_TMP/res.json" <<EOF2
{"memory": {"limit": 104857600, "swap": 209715200, "reservation": 52428800, "swappiness": 10},
 "cpu": {"shares": 300, "quota": 30000, "period": 200000, "cpus": "0"},
 "pids": {"limit": 9},
 "blockIO": {"throttleWriteIOPSDevice": [{"major": $major, "minor": $minor, "rate": 100}],
             "throttleReadBpsDevice": [{"major": $major, "minor": $minor, "rate": 1048576},
                                       {"major": $major, "minor": 4000, "rate": 1000}]}}
EOF2
    run husk update -r "$TEST_TMP/res.json" "$C1"
    assert_failure
    assert_output --partial "linux.resources.blockIO.throttleReadBpsDevice"
    assert_output --partial "$major:4000"
    assert_output --partial "restored"
    assert_equal "$(limits $ALL_LIMITS)" "$before"

    # the same document without the bad device applies in full
    jq '.blockIO.throttleReadBpsDevice |= .[:1]' "$TEST_TMP/res.json" >"$TEST_TMP/good.json"
    husk update -r "$TEST_TMP/good.json" "$C1"
    assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 104857600
    assert_equal "$(cat "$(cg_file memory memory.memsw.limit_in_bytes)")" 209715200
    assert_equal "$(cat "$(cg_file cpuset cpuset.cpus)")" 0
    assert_equal "$(cat "$(cg_file pids pids.max)")" 9
    grep -qx "$major:$minor 1048576" "$(cg_file blkio blkio.throttle.read_bps_device)"
    grep -qx "$major:$minor 100" "$(cg_file blkio blkio.throttle.write_iops_device)"
    status_is "$C1" running
}

@test "update: rollback keeps memory <= memory+swap at every step, whichever way the limits moved" {
    require_v1
    start_sleeper
    [ -e "$(cg_file memory memory.memsw.limit_in_bytes)" ] || skip "no swap accounting (memsw) on this kernel"
    husk update --memory 100M --memory-swap 200M "$C1"
    local before
    before=$(limits memory:memory.limit_in_bytes memory:memory.memsw.limit_in_bytes)
    # raising both, then failing: memsw can only go back down after the limit
    run husk update --memory 300M --memory-swap 400M --cpuset-cpus 4095 "$C1"
    assert_failure
    assert_output --partial "restored"
    assert_equal "$(limits memory:memory.limit_in_bytes memory:memory.memsw.limit_in_bytes)" "$before"
    # lowering both, then failing: the limit can only go back up after memsw
    run husk update --memory 50M --memory-swap 60M --cpuset-cpus 4095 "$C1"
    assert_failure
    assert_output --partial "restored"
    assert_equal "$(limits memory:memory.limit_in_bytes memory:memory.memsw.limit_in_bytes)" "$before"
}

@test "update: every runc flag lands in its control file with runc's meaning" {
    require_v1
    start_sleeper
    husk update --memory 200M --memory-swap 300M --memory-reservation 100M \
        --cpu-period 200000 --cpu-quota 40000 --cpu-burst 20000 --cpu-share 900 \
        --cpuset-cpus 0 --cpuset-mems 0 --pids-limit 21 "$C1"
    assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 209715200
    if [ -e "$(cg_file memory memory.memsw.limit_in_bytes)" ]; then
        assert_equal "$(cat "$(cg_file memory memory.memsw.limit_in_bytes)")" 314572800
    fi
    assert_equal "$(cat "$(cg_file memory memory.soft_limit_in_bytes)")" 104857600
    assert_equal "$(cat "$(cg_file cpu cpu.cfs_period_us)")" 200000
    assert_equal "$(cat "$(cg_file cpu cpu.cfs_quota_us)")" 40000
    assert_equal "$(cat "$(cg_file cpu cpu.cfs_burst_us)")" 20000
    assert_equal "$(cat "$(cg_file cpu cpu.shares)")" 900
    assert_equal "$(cat "$(cg_file cpuset cpuset.cpus)")" 0
    assert_equal "$(cat "$(cg_file cpuset cpuset.mems)")" 0
    assert_equal "$(cat "$(cg_file pids pids.max)")" 21

    # runc's zero values leave a limit alone; -1 removes it
    husk update --pids-limit 0 --memory 0 --cpu-share 0 "$C1"
    assert_equal "$(cat "$(cg_file pids pids.max)")" 21
    assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 209715200
    assert_equal "$(cat "$(cg_file cpu cpu.shares)")" 900
    husk update --pids-limit -1 "$C1"
    assert_equal "$(cat "$(cg_file pids pids.max)")" max
    husk update --pids-limit 21 "$C1"

    # --memory-swap -1: unlimited swap; the limit itself stays
    husk update --memory-swap -1 "$C1"
    if [ -e "$(cg_file memory memory.memsw.limit_in_bytes)" ]; then
        [ "$(cat "$(cg_file memory memory.memsw.limit_in_bytes)")" -gt 1000000000000 ]
    fi
    assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 209715200

    # --blkio-weight: CFQ's blkio.weight, or BFQ's on kernels without CFQ
    husk update --blkio-weight 700 "$C1"
    local b
    b=$(cg_file blkio blkio.weight)
    [ -e "$b" ] || b=$(cg_file blkio blkio.bfq.weight)
    run cat "$b"
    assert_output --regexp '(^| )700$'

    # --cpu-rt-period alone needs no realtime budget from the parent
    if [ -e "$(cg_file cpu cpu.rt_period_us)" ]; then
        husk update --cpu-rt-period 600000 "$C1"
        assert_equal "$(cat "$(cg_file cpu cpu.rt_period_us)")" 600000
        # a runtime the parent's budget (0 here) cannot cover: refused, named
        if [ "$(cat /sys/fs/cgroup/cpu/husk-test/cpu.rt_runtime_us)" = 0 ]; then
            run husk update --cpu-rt-runtime 10000 --pids-limit 5 "$C1"
            assert_failure
            assert_output --partial "linux.resources.cpu.realtimeRuntime"
            assert_output --partial "cpu.rt_runtime_us budget"
            assert_equal "$(cat "$(cg_file pids pids.max)")" 21
        fi
    fi
    status_is "$C1" running
}

@test "update: unified keys on a v1 controller, checkBeforeUpdate below the usage, Intel RDT without resctrl: refused, nothing changes" {
    require_v1
    start_sleeper
    local before
    before=$(limits memory:memory.limit_in_bytes cpu:cpu.shares pids:pids.max)
    run husk update -r - "$C1" <<<'{"pids": {"limit": 7}, "unified": {"memory.max": "1000000"}}'
    assert_failure
    assert_output --partial "unified.memory.max"
    assert_output --partial "v1"

    # the sleeper uses more than 4 KiB: checkBeforeUpdate refuses the limit
    run husk update -r - "$C1" <<<'{"memory": {"limit": 4096, "checkBeforeUpdate": true}, "pids": {"limit": 7}}'
    assert_failure
    assert_output --partial "linux.resources.memory.limit"
    assert_output --partial "checkBeforeUpdate"

    if ! grep -q ' /sys/fs/resctrl ' /proc/self/mountinfo; then
        run husk update --l3-cache-schema 'L3:0=ff' --pids-limit 7 "$C1"
        assert_failure
        assert_output --partial "--l3-cache-schema"
        assert_output --partial "resctrl is not mounted"
        run husk update --mem-bw-schema 'MB:0=50' "$C1"
        assert_failure
        assert_output --partial "--mem-bw-schema"
        assert_output --partial "resctrl is not mounted"
    fi
    assert_equal "$(limits memory:memory.limit_in_bytes cpu:cpu.shares pids:pids.max)" "$before"
    status_is "$C1" running
}

@test "update (cgroup v2): a late write the kernel refuses rolls back the fields written before it" {
    require_v2
    local dev major minor
    dev=$(cat /sys/block/vda/dev 2>/dev/null || cat "$(ls -d /sys/block/*/dev | head -1)")
    major=${dev%%:*} minor=${dev##*:}
    # a throttle at create enables the io controller, so io.max exists
    update_config ".linux.resources.blockIO = {\"throttleReadBpsDevice\":
        [{\"major\": $major, \"minor\": $minor, \"rate\": 4194304}]}"
    start_sleeper
    local files=() f
    for f in memory.max memory.low memory.swap.max cpu.max cpu.weight cpu.max.burst pids.max io.max; do
        [ -e "$(cg_file memory "$f")" ] && files+=("memory:$f")
    done
    local before
    before=$(limits "${files[@]}")
    # cpuset.cpus comes after memory and cpu: a CPU that cannot exist (or
    # no cpuset controller in this cgroup) makes it fail
    run husk update --memory 100M --memory-reservation 50M --cpu-quota 50000 --cpu-period 200000 \
        --cpu-share 300 --pids-limit 10 --cpuset-cpus 4095 "$C1"
    assert_failure
    assert_output --partial "linux.resources.cpu.cpus"
    assert_output --partial "restored"
    assert_equal "$(limits "${files[@]}")" "$before"

    # io.max is one line per device: the changed line goes back, the new
    # one is removed, and the failing one (no such device) changes nothing
    run husk update -r - "$C1" <<EOF2
{"memory": {"limit": 104857600}, "pids": {"limit": 9},
 "blockIO": {"throttleReadBpsDevice": [{"major": $major, "minor": $minor, "rate": 1048576}],
             "throttleWriteIOPSDevice": [{"major": $major, "minor": $minor, "rate": 100},
                                         {"major": $major, "minor": 4000, "rate": 100}]}}
EOF2
    assert_failure
    assert_output --partial "linux.resources.blockIO.throttleWriteIOPSDevice"
    assert_output --partial "restored"
    assert_equal "$(limits "${files[@]}")" "$before"
    status_is "$C1" running
}

@test "update: device rules written before a failing write are rolled back to the old list" {
    require_v1
    # on a hybrid host hugetlb lives in the cgroup2 tree and is written
    # after every v1 controller, devices included: a page size the kernel
    # does not have fails there
    grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null ||
        skip "needs hugetlb in the cgroup2 tree of a hybrid host (written after the v1 devices)"
    start_sleeper
    local list before_pids
    list=$(cg_file devices devices.list)
    cp "$list" "$TEST_TMP/devices.before"
    before_pids=$(cat "$(cg_file pids pids.max)")
    run husk update -r - "$C1" <<'EOF2'
{"devices": [{"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rw"}],
 "pids": {"limit": 5},
 "hugepageLimits": [{"pageSize": "64KB", "limit": 65536}]}
EOF2
    assert_failure
    assert_output --partial "linux.resources.hugepageLimits"
    assert_output --partial "restored"
    diff -u "$TEST_TMP/devices.before" "$list"
    assert_equal "$(cat "$(cg_file pids pids.max)")" "$before_pids"
    # without the bad page size the rule is added
    husk update -r - "$C1" <<<'{"devices": [{"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rw"}]}'
    grep -qx 'c 10:200 rw' "$list"
}

@test "update (cgroup v2): runc's flags land in their v2 files, with the v1 values converted" {
    require_v2
    start_sleeper
    husk update --memory 200M --memory-swap 300M --memory-reservation 100M \
        --cpu-period 200000 --cpu-quota 40000 --cpu-burst 20000 --cpu-share 900 \
        --cpuset-cpus 0 --cpuset-mems 0 --pids-limit 21 "$C1"
    assert_equal "$(cat "$(cg_file memory memory.max)")" 209715200
    # OCI swap is memory + swap; v2 limits swap alone
    if [ -e "$(cg_file memory memory.swap.max)" ]; then
        assert_equal "$(cat "$(cg_file memory memory.swap.max)")" 104857600
    fi
    assert_equal "$(cat "$(cg_file memory memory.low)")" 104857600
    assert_equal "$(cat "$(cg_file cpu cpu.max)")" "40000 200000"
    assert_equal "$(cat "$(cg_file cpu cpu.max.burst)")" 20000
    # shares 900 -> weight 1 + (900 - 2) * 9999 / 262142
    assert_equal "$(cat "$(cg_file cpu cpu.weight)")" 35
    assert_equal "$(cat "$(cg_file cpuset cpuset.cpus)")" 0
    assert_equal "$(cat "$(cg_file cpuset cpuset.mems)")" 0
    assert_equal "$(cat "$(cg_file pids pids.max)")" 21
    if [ -e "$(cg_file io io.weight)" ]; then
        # blkio weight 700 -> io.weight 1 + (700 - 10) * 9999 / 990
        husk update --blkio-weight 700 "$C1"
        run cat "$(cg_file io io.weight)"
        assert_line "default 6970"
    fi
    # -1: no limit
    husk update --memory -1 --pids-limit -1 --cpu-quota -1 "$C1"
    assert_equal "$(cat "$(cg_file memory memory.max)")" max
    assert_equal "$(cat "$(cg_file pids pids.max)")" max
    run cat "$(cg_file cpu cpu.max)"
    assert_output --regexp '^max '
    # realtime scheduling has no v2 interface: refused, nothing changes
    run husk update --cpu-rt-runtime 10000 --pids-limit 5 "$C1"
    assert_failure
    assert_output --partial "realtime"
    assert_equal "$(cat "$(cg_file pids pids.max)")" max
    status_is "$C1" running
}
