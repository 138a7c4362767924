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
