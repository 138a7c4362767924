#!/usr/bin/env bats
# The systemd cgroup driver (--systemd-cgroup / --cgroup-manager systemd):
# the container's cgroup is a transient scope. For each resource class the
# test reads both what systemd holds (`systemctl show -p PROP UNIT`) and the
# scope's cgroup file, and checks that `systemctl daemon-reload` keeps the
# limit. Needs systemd as PID 1 on pure cgroup v2 (the VM lane's guest): on
# other hosts those tests skip, and fail under HUSK_VMLANE=1. The refusal
# without systemd and bad cgroupsPath forms run everywhere.
#
# Every unit is named husktest-<test's suffix>-...: teardown stops (and
# resets) whatever of those is left, even when a test failed.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    load_libs
    setup_bundle
    SUF=${TEST_TMP##*/husk.}
    C1=$CG_NAME-c1
    UNIT=husktest-$SUF-c1.scope
    SCOPE_CG=/sys/fs/cgroup/system.slice/$UNIT
    update_config ".linux.cgroupsPath = \"system.slice:husktest:$SUF-c1\"
        | .linux.namespaces |= map(select(.type != \"cgroup\"))"
    set_sh 'echo ready; exec sleep 1000'
}

teardown() {
    teardown_bundle
    [ -d /run/systemd/system ] || return 0
    local u
    for u in $(systemctl list-units --all --plain --no-legend --type=scope,slice "*husktest*$SUF*" |
        awk '{ print $1 }' | sort -r); do
        systemctl stop "$u" 2>/dev/null || true
        systemctl reset-failed "$u" 2>/dev/null || true
    done
    # the parent of the nested-slice test's slice, when that test failed
    if [ -d /sys/fs/cgroup/husktest.slice ] &&
        [ -z "$(find /sys/fs/cgroup/husktest.slice -mindepth 1 -type d)" ]; then
        systemctl stop husktest.slice 2>/dev/null || true
    fi
}

have_systemd() {
    [ -d /run/systemd/system ] && [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] &&
        "$HUSK" --version | grep -q -- '+SYSTEMD'
}

need_systemd() {
    have_systemd && return 0
    local why="needs systemd as PID 1, pure cgroup v2 and husk built with libsystemd"
    if [ "${HUSK_VMLANE:-}" = 1 ]; then
        echo "the VM lane's guest must have what this test needs: $why" >&2
        return 1
    fi
    skip "$why (the VM lane runs it)"
}

# sd_run ID: `husk --systemd-cgroup run -d` from $BUNDLE
sd_run() {
    local id=$1
    shift
    husk --systemd-cgroup run -d --bundle "$BUNDLE" "$@" "$id" </dev/null >"$TEST_TMP/$id.out" 2>&1 || {
        echo "husk --systemd-cgroup run -d $id failed ($?): $(cat "$TEST_TMP/$id.out")" >&2
        return 1
    }
    wait_file_has "$TEST_TMP/$id.out" ready
}

# prop UNIT NAME: systemd's value of a unit property
prop() {
    systemctl show -p "$2" --value "$1"
}

# assert_prop UNIT NAME VALUE
assert_prop() {
    local got
    got=$(prop "$1" "$2")
    [ "$got" = "$3" ] || { echo "$1: $2 is '$got', wanted '$3'" >&2; return 1; }
}

# assert_file FILE VALUE
assert_file() {
    local got
    got=$(cat "$1") || return 1
    [ "$got" = "$2" ] || { echo "$1 holds '$got', wanted '$2'" >&2; return 1; }
}

no_test_units() {
    local left
    left=$(systemctl list-units --all --plain --no-legend "*husktest*$SUF*")
    [ -z "$left" ] || { echo "units left behind: $left" >&2; return 1; }
}

# assert_gone UNIT CGROUP_DIR ID: no unit, no cgroup, no state, no process
assert_gone() {
    no_test_units || return 1
    [ ! -e "$2" ] || { echo "cgroup $2 left behind" >&2; return 1; }
    assert_no_state "$3" && assert_no_process
}

reload_systemd() {
    systemctl daemon-reload
}

# ---- runs on every host ----

@test "systemd: without systemd as PID 1, create fails clearly and leaves nothing" {
    local hide=()
    if [ -d /run/systemd/system ]; then
        # hide systemd from husk alone, in a mount namespace of its own
        hide=(unshare -m sh -c 'mount -t tmpfs husktest /run/systemd && exec "$@"' sh)
    fi
    run --separate-stderr timeout 60 env HUSK_TEST_TAG="$TAG" "${hide[@]}" "$HUSK" --root "$ROOT" \
        --systemd-cgroup create --bundle "$BUNDLE" "$C1"
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"systemd is not running (no /run/systemd/system)"* ]] ||
        { echo "stderr: $stderr" >&2; false; }
    assert_no_state "$C1"
    assert_no_process
    if [ -d /run/systemd/system ]; then
        no_test_units
    fi
    [ ! -e "$SCOPE_CG" ]
}

@test "systemd: husk does not link libsystemd (the driver loads it on first use)" {
    # linking it costs every invocation the loading of libsystemd and the
    # five libraries it needs
    run ldd "$HUSK"
    [ "$status" -eq 0 ]
    [[ "$output" == *libc.so* ]] || { echo "ldd: $output" >&2; false; }
    [[ "$output" != *libsystemd* ]] || { echo "husk links libsystemd: $output" >&2; false; }
}

@test "systemd: without libsystemd.so.0, create fails clearly and leaves nothing" {
    if ! "$HUSK" --version | grep -q -- '+SYSTEMD'; then
        [ "${HUSK_VMLANE:-}" != 1 ] || { echo "the VM lane's husk must have +SYSTEMD" >&2; false; }
        skip "husk was built without systemd support"
    fi
    local lib
    lib=$(ldconfig -p | awk '$1 == "libsystemd.so.0" { print $NF; exit }')
    [ -n "$lib" ] || { echo "libsystemd.so.0 is not in ld.so.cache" >&2; false; }
    # In a mount namespace of husk's own: systemd seems to run (so the
    # driver gets as far as loading libsystemd) and the library is empty.
    local sd=/run/systemd
    [ -d "$sd" ] || sd=/run
    run --separate-stderr timeout 60 env HUSK_TEST_TAG="$TAG" unshare -m sh -c '
        mount -t tmpfs husktest "$1" && mkdir -p /run/systemd/system &&
            mount --bind /dev/null "$2" && shift 2 && exec "$@"' sh "$sd" "$lib" \
        "$HUSK" --root "$ROOT" --systemd-cgroup create --bundle "$BUNDLE" "$C1"
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"systemd cgroup driver: cannot load libsystemd.so.0: "* ]] ||
        { echo "stderr: $stderr" >&2; false; }
    assert_no_state "$C1"
    assert_no_process
    if [ -d /run/systemd/system ]; then
        no_test_units
    fi
    [ ! -e "$SCOPE_CG" ]
}

@test "systemd: cgroupsPath in the wrong form is refused naming the field and value" {
    local p
    for p in /husk-test/x system.slice:husktest a.slice:b:c:d notaslice:husktest:x \
        system.slice:husktest:.. system.slice:husktest:a/b a--b.slice:husktest:x \
        "system.slice:husktest:"; do
        update_config ".linux.cgroupsPath = \"$p\""
        run --separate-stderr husk --systemd-cgroup create --bundle "$BUNDLE" "$C1"
        [ "$status" -ne 0 ] || { echo "cgroupsPath '$p' was taken" >&2; false; }
        [[ "$stderr" == *"linux.cgroupsPath \`$p\`"* ]] || { echo "'$p': $stderr" >&2; false; }
        assert_no_state "$C1"
    done
    assert_no_process
    if [ -d /run/systemd/system ]; then
        no_test_units
    fi
}

# ---- need systemd (the VM lane) ----

@test "systemd: memory and pids as unit properties and files; Delegate; daemon-reload keeps them" {
    need_systemd
    update_config '.linux.resources = {
        "memory": {"limit": 67108864, "reservation": 33554432, "swap": 134217728},
        "pids": {"limit": 50}}'
    sd_run "$C1"
    local pid
    pid=$(state_field "$C1" pid)
    # the init sits in the scope, as the host sees it
    grep -qx "0::/system.slice/$UNIT" "/proc/$pid/cgroup"
    grep -qx "$pid" "$SCOPE_CG/cgroup.procs"
    assert_equal "$(state_field "$C1" status)" running
    assert_prop "$UNIT" ActiveState active
    assert_prop "$UNIT" Delegate yes
    assert_prop "$UNIT" Slice system.slice
    local round
    for round in before after; do
        assert_prop "$UNIT" MemoryMax 67108864
        assert_prop "$UNIT" MemoryLow 33554432
        assert_prop "$UNIT" MemorySwapMax 67108864
        assert_prop "$UNIT" TasksMax 50
        assert_file "$SCOPE_CG/memory.max" 67108864
        assert_file "$SCOPE_CG/memory.low" 33554432
        assert_file "$SCOPE_CG/memory.swap.max" 67108864
        assert_file "$SCOPE_CG/pids.max" 50
        [ "$round" = after ] || reload_systemd
    done
    # ps reads the scope
    hrun ps --format json "$C1"
    [ "$status" -eq 0 ]
    [ "$(jq --argjson p "$pid" 'any(.[]; . == $p)' <<<"$output")" = true ]
    # exec joins the scope too
    hrun exec "$C1" cat /proc/self/cgroup
    [ "$status" -eq 0 ]
    assert_equal "$output" "0::/system.slice/$UNIT"
    hrun delete -f "$C1"
    [ "$status" -eq 0 ]
    assert_gone "$UNIT" "$SCOPE_CG" "$C1"
}

@test "systemd: cpu weight, quota, period, cpus, mems; daemon-reload keeps them" {
    need_systemd
    update_config '.linux.resources = {"cpu": {"shares": 1024, "quota": 50000,
        "period": 100000, "cpus": "0", "mems": "0"}}'
    sd_run "$C1"
    local round
    for round in before after; do
        # shares 1024 -> weight 39, the cgroupfs driver's conversion
        assert_prop "$UNIT" CPUWeight 39
        assert_prop "$UNIT" CPUQuotaPerSecUSec 500ms
        assert_prop "$UNIT" CPUQuotaPeriodUSec 100ms
        assert_prop "$UNIT" AllowedCPUs 0
        assert_prop "$UNIT" AllowedMemoryNodes 0
        assert_file "$SCOPE_CG/cpu.weight" 39
        assert_file "$SCOPE_CG/cpu.max" "50000 100000"
        assert_file "$SCOPE_CG/cpuset.cpus" 0
        assert_file "$SCOPE_CG/cpuset.mems" 0
        [ "$round" = after ] || reload_systemd
    done
}

# the first whole disk's MAJ:MIN
first_disk() {
    local d
    for d in /sys/block/*; do
        case ${d##*/} in loop* | ram* | zram* | sr*) continue ;; esac
        cat "$d/dev"
        return 0
    done
    return 1
}

@test "systemd: io weight and throttles; daemon-reload keeps them" {
    need_systemd
    local dev maj min
    dev=$(first_disk) || { echo "no disk in /sys/block" >&2; false; }
    maj=${dev%:*} min=${dev#*:}
    update_config ".linux.resources = {\"blockIO\": {\"weight\": 500,
        \"throttleReadBpsDevice\": [{\"major\": $maj, \"minor\": $min, \"rate\": 1048576}],
        \"throttleWriteIOPSDevice\": [{\"major\": $maj, \"minor\": $min, \"rate\": 300}]}}"
    sd_run "$C1"
    local round
    for round in before after; do
        # blkio weight 500 -> io weight 4950
        assert_prop "$UNIT" IOWeight 4950
        [[ "$(prop "$UNIT" IOReadBandwidthMax)" == *"/dev/block/$dev 1048576"* ]] ||
            { echo "IOReadBandwidthMax: $(prop "$UNIT" IOReadBandwidthMax)" >&2; false; }
        [[ "$(prop "$UNIT" IOWriteIOPSMax)" == *"/dev/block/$dev 300"* ]] ||
            { echo "IOWriteIOPSMax: $(prop "$UNIT" IOWriteIOPSMax)" >&2; false; }
        grep -qx "default 4950" "$SCOPE_CG/io.weight"
        grep -q "^$dev rbps=1048576 wbps=max riops=max wiops=300\$" "$SCOPE_CG/io.max" ||
            { echo "io.max: $(cat "$SCOPE_CG/io.max")" >&2; false; }
        [ "$round" = after ] || reload_systemd
    done
}

@test "systemd: hugetlb (no systemd property) is written to the scope's files" {
    need_systemd
    # Debian's kernel has the controller and 2 MB pages: the guest must too
    grep -qw hugetlb /sys/fs/cgroup/cgroup.controllers ||
        { echo "no hugetlb controller in /sys/fs/cgroup/cgroup.controllers" >&2; false; }
    [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || { echo "no 2 MB huge pages" >&2; false; }
    update_config '.linux.resources = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}'
    sd_run "$C1"
    assert_file "$SCOPE_CG/hugetlb.2MB.max" 4194304
    reload_systemd
    assert_file "$SCOPE_CG/hugetlb.2MB.max" 4194304
}

@test "systemd: update changes unit properties and files, and daemon-reload keeps the new values" {
    need_systemd
    update_config '.linux.resources = {"memory": {"limit": 67108864},
        "cpu": {"quota": 50000, "period": 100000}, "pids": {"limit": 50}}'
    sd_run "$C1"
    hrun update --memory 134217728 --pids-limit 70 --cpu-quota 20000 "$C1"
    [ "$status" -eq 0 ]
    local round
    for round in before after; do
        assert_prop "$UNIT" MemoryMax 134217728
        assert_prop "$UNIT" TasksMax 70
        assert_prop "$UNIT" CPUQuotaPerSecUSec 200ms
        assert_file "$SCOPE_CG/memory.max" 134217728
        assert_file "$SCOPE_CG/pids.max" 70
        assert_file "$SCOPE_CG/cpu.max" "20000 100000"
        [ "$round" = after ] || reload_systemd
    done
}

@test "systemd: pause and resume freeze the scope" {
    need_systemd
    set_sh 'echo ready; while :; do date +%s%N > /tmp/tick; sleep 0.2; done'
    sd_run "$C1"
    hrun pause "$C1"
    [ "$status" -eq 0 ]
    assert_file "$SCOPE_CG/cgroup.freeze" 1
    grep -qx "frozen 1" "$SCOPE_CG/cgroup.events"
    assert_equal "$(state_field "$C1" status)" paused
    hrun resume "$C1"
    [ "$status" -eq 0 ]
    grep -qx "frozen 0" "$SCOPE_CG/cgroup.events"
    assert_equal "$(state_field "$C1" status)" running
    assert_prop "$UNIT" ActiveState active
}

@test "systemd: kill --all reaches every process of the scope; delete removes the unit" {
    need_systemd
    set_sh 'sleep 1000 & sleep 1000 & echo ready; wait'
    sd_run "$C1"
    wait_until 10 sh -c "[ \$(wc -l < '$SCOPE_CG/cgroup.procs') -ge 3 ]"
    local pids
    pids=$(cat "$SCOPE_CG/cgroup.procs")
    hrun kill --all "$C1" KILL
    [ "$status" -eq 0 ]
    local p
    for p in $pids; do
        wait_until 10 pid_gone "$p"
    done
    wait_status "$C1" stopped
    hrun delete "$C1"
    [ "$status" -eq 0 ]
    assert_gone "$UNIT" "$SCOPE_CG" "$C1"
}

@test "systemd: delete -f of a running container kills it and leaves no unit and no cgroup" {
    need_systemd
    # with a cgroup namespace of its own, made from the scope
    update_config '.linux.namespaces += [{"type": "cgroup"}]'
    set_sh 'cat /proc/self/cgroup; sleep 1000 & echo ready; exec sleep 1000'
    sd_run "$C1"
    grep -qx "0::/" "$TEST_TMP/$C1.out"
    grep -qx "0::/system.slice/$UNIT" "/proc/$(state_field "$C1" pid)/cgroup"
    assert_prop "$UNIT" ActiveState active
    [ -d "$SCOPE_CG" ]
    hrun delete -f "$C1"
    [ "$status" -eq 0 ]
    assert_gone "$UNIT" "$SCOPE_CG" "$C1"
    systemctl list-units --all --plain --no-legend | { ! grep -q "$UNIT"; }
}

@test "systemd: absent cgroupsPath is system.slice:husk:<id>; a nested slice is expanded" {
    need_systemd
    local id=husktest-$SUF-d
    update_config 'del(.linux.cgroupsPath)'
    sd_run "$id"
    assert_prop "husk-$id.scope" Slice system.slice
    [ -d "/sys/fs/cgroup/system.slice/husk-$id.scope" ]
    hrun delete -f "$id"
    [ "$status" -eq 0 ]
    assert_gone "husk-$id.scope" "/sys/fs/cgroup/system.slice/husk-$id.scope" "$id"

    update_config ".linux.cgroupsPath = \"husktest-$SUF.slice:husktest:$SUF-n\""
    sd_run "$C1"
    local cg=/sys/fs/cgroup/husktest.slice/husktest-$SUF.slice/husktest-$SUF-n.scope
    pid=$(state_field "$C1" pid)
    grep -qx "0::/husktest.slice/husktest-$SUF.slice/husktest-$SUF-n.scope" "/proc/$pid/cgroup"
    assert_prop "husktest-$SUF-n.scope" Slice "husktest-$SUF.slice"
    hrun delete -f "$C1"
    [ "$status" -eq 0 ]
    [ ! -e "$cg" ]
    systemctl stop "husktest-$SUF.slice" husktest.slice
}

@test "systemd: a second container on the same scope is refused; the first is untouched" {
    need_systemd
    sd_run "$C1"
    run --separate-stderr husk --systemd-cgroup run -d --bundle "$BUNDLE" "$C1-b"
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"$UNIT"*"already exists"* ]] || { echo "stderr: $stderr" >&2; false; }
    assert_no_state "$C1-b"
    assert_prop "$UNIT" ActiveState active
    [ -d "$SCOPE_CG" ]
    assert_equal "$(state_field "$C1" status)" running
}
