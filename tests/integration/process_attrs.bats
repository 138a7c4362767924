#!/usr/bin/env bats
# process.oomScoreAdj, process.scheduler, process.ioPriority,
# process.execCPUAffinity, linux.personality and linux.memoryPolicy: each
# checked from inside the container (/proc/self/stat, ionice, uname,
# /proc/self/status, /proc/self/numa_maps) and, for bad values, refused
# before anything exists, with the field named and nothing left behind.

load helpers

setup() {
    load_libs
    setup_bundle
}

teardown() {
    teardown_bundle
}

# run_in CMD: `husk run` of the bundle with `sh -c CMD`; must succeed.
run_in() {
    set_sh "$1"
    hrun run --bundle "$BUNDLE" pa
    [ "$status" -eq 0 ] || fail "husk run failed ($status): $stderr"
}

# refused JQ FIELD...: the config edited by JQ makes create and run fail
# cleanly, naming every FIELD on stderr, with nothing left behind.
# REFUSED_IDS=bad-run: only `run` (for what the kernel refuses when the
# init applies it, after `create`: it fails at `start`, as exec does).
refused() {
    local edit=$1
    shift
    # Each case starts from the test's own config, not the last case's.
    if [ -f "$TEST_TMP/config.orig" ]; then
        cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
    else
        cp "$BUNDLE/config.json" "$TEST_TMP/config.orig"
    fi
    update_config "$edit"
    local id ids=${REFUSED_IDS:-bad-create bad-run}
    for id in $ids; do
        if [ "$id" = bad-create ]; then
            hrun create --bundle "$BUNDLE" "$id"
        else
            hrun run --bundle "$BUNDLE" "$id"
        fi
        [ "$status" -ne 0 ] || fail "$edit: husk accepted it"
        [ "$status" -lt 124 ] || fail "$edit: husk exited $status; stderr: $stderr"
        local w
        for w in "$@"; do
            [[ "$stderr" == *"$w"* ]] || fail "$edit: stderr does not name '$w': $stderr"
        done
        assert_nothing_left "$id"
    done
}

# An awk program printing field F of a /proc/PID/stat line (the command
# name, in parentheses, may hold spaces: fields are counted after it).
STAT_AWK='{ sub(/^.*\) /, ""); print $(F - 2) }'

@test "oomScoreAdj: the container and the host see the value" {
    update_config '.process.oomScoreAdj = 500'
    run_in 'cat /proc/self/oom_score_adj'
    assert_equal "$output" "500"

    set_sh 'sleep 30'
    create oc
    local pid
    pid=$(state_field oc pid)
    assert_equal "$(cat "/proc/$pid/oom_score_adj")" "500"
    husk delete -f oc
    assert_nothing_left oc
}

@test "oomScoreAdj: a lowered score works where husk may lower it, else a clean error" {
    update_config '.process.oomScoreAdj = -300'
    set_sh 'cat /proc/self/oom_score_adj'
    hrun run --bundle "$BUNDLE" neg
    # A lower score needs CAP_SYS_RESOURCE, which root here may lack: the
    # host's answer to the same write decides what husk must do.
    if (echo -1 >/proc/self/oom_score_adj) 2>/dev/null; then
        assert_equal "$status" 0
        assert_equal "$output" "-300"
    else
        [ "$status" -ne 0 ] || fail "lowering the score succeeded where the host cannot"
        [[ "$stderr" == *"process.oomScoreAdj"*"-300"* ]] || fail "stderr: $stderr"
        assert_nothing_left neg
    fi
}

@test "scheduler: SCHED_BATCH and SCHED_IDLE with nice" {
    update_config '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 5}'
    run_in "awk -v F=41 '$STAT_AWK' /proc/self/stat; awk -v F=19 '$STAT_AWK' /proc/self/stat"
    assert_equal "${lines[0]}" "3"
    assert_equal "${lines[1]}" "5"

    update_config '.process.scheduler = {"policy": "SCHED_IDLE"}'
    run_in "awk -v F=41 '$STAT_AWK' /proc/self/stat"
    assert_equal "$output" "5"
}

@test "scheduler: SCHED_OTHER with a negative nice and SCHED_FLAG_RESET_ON_FORK" {
    update_config '.process.scheduler = {"policy": "SCHED_OTHER", "nice": -5,
        "flags": ["SCHED_FLAG_RESET_ON_FORK"]}'
    # pid 1 is the shell husk started; awk is its child, reset by the flag.
    # (`true` last, so that the shell forks the second awk rather than
    # exec'ing it in its own place.)
    run_in "awk -v F=19 '$STAT_AWK' /proc/1/stat; awk -v F=19 '$STAT_AWK' /proc/self/stat; true"
    assert_equal "${lines[0]}" "-5"
    assert_equal "${lines[1]}" "0"
}

@test "scheduler: SCHED_DEADLINE" {
    update_config '.process.scheduler = {"policy": "SCHED_DEADLINE", "runtime": 1000000,
        "deadline": 10000000, "period": 10000000}'
    # A deadline task may not fork: the program is the init itself.
    jq --arg p "$STAT_AWK" '.process.args = ["awk", "-v", "F=41", $p, "/proc/self/stat"]' \
        "$BUNDLE/config.json" >"$BUNDLE/config.json.new" && mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
    hrun run --bundle "$BUNDLE" dl
    [ "$status" -eq 0 ] || fail "husk run failed ($status): $stderr"
    assert_equal "$output" "6"
}

@test "scheduler: SCHED_FIFO with a priority" {
    update_config '.process.scheduler = {"policy": "SCHED_FIFO", "priority": 10}'
    set_sh "awk -v F=41 '$STAT_AWK' /proc/self/stat; awk -v F=40 '$STAT_AWK' /proc/self/stat"
    hrun run --bundle "$BUNDLE" rt
    if [ "$status" -ne 0 ]; then
        local budget
        budget=$(cat /sys/fs/cgroup/cpu/husk-test/cpu.rt_runtime_us 2>/dev/null || echo "")
        [[ "$stderr" == *"process.scheduler: sched_setattr(SCHED_FIFO): Operation not permitted"* ]] ||
            fail "unexpected failure: $stderr"
        assert_nothing_left rt
        [ "$budget" = 0 ] || fail "SCHED_FIFO refused although husk-test has rt budget '$budget'"
        skip "kernel refuses SCHED_FIFO here: the husk-test cpu cgroup has cpu.rt_runtime_us 0 (no realtime budget for its children)"
    fi
    assert_equal "${lines[0]}" "1"
    assert_equal "${lines[1]}" "10"
}

@test "ioPriority: best-effort, idle and realtime classes" {
    update_config '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}'
    run_in 'ionice -p $$'
    assert_equal "$output" "best-effort: prio 6"

    update_config '.process.ioPriority = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}'
    run_in 'ionice -p $$'
    assert_equal "$output" "idle"

    update_config '.process.ioPriority = {"class": "IOPRIO_CLASS_RT", "priority": 4}'
    run_in 'ionice -p $$'
    assert_equal "$output" "realtime: prio 4"
}

@test "personality: LINUX32 makes uname report i686; flags are applied" {
    [ "$(uname -m)" = x86_64 ] || skip "LINUX32 shows as i686 only on x86_64, this is $(uname -m)"
    run_in 'uname -m; cat /proc/self/personality'
    assert_equal "${lines[0]}" "x86_64"
    assert_equal "${lines[1]}" "00000000"

    update_config '.linux.personality = {"domain": "LINUX32"}'
    run_in 'uname -m; cat /proc/self/personality'
    assert_equal "${lines[0]}" "i686"
    assert_equal "${lines[1]}" "00000008"

    update_config '.linux.personality = {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}'
    run_in 'uname -m; cat /proc/self/personality'
    assert_equal "${lines[0]}" "x86_64"
    assert_equal "${lines[1]}" "00040000"
}

@test "execCPUAffinity: final, and initial that the kernel keeps" {
    [ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs, this machine has $(nproc)"
    update_config '.process.execCPUAffinity = {"final": "1"}'
    run_in 'grep Cpus_allowed_list /proc/self/status'
    assert_equal "$output" "Cpus_allowed_list:	1"

    update_config '.process.execCPUAffinity = {"initial": "1", "final": "0"}'
    run_in 'grep Cpus_allowed_list /proc/self/status'
    assert_equal "$output" "Cpus_allowed_list:	0"

    # Without final the kernel decides; joining a cpuset with the same CPUs
    # keeps what initial set.
    update_config '.process.execCPUAffinity = {"initial": "1"}'
    run_in 'grep Cpus_allowed_list /proc/self/status'
    assert_equal "$output" "Cpus_allowed_list:	1"

    update_config '.process.execCPUAffinity = {"initial": "0-1", "final": "0-1"}'
    run_in 'grep Cpus_allowed_list /proc/self/status'
    assert_equal "$output" "Cpus_allowed_list:	0-1"
}

@test "memoryPolicy: bind, interleave, preferred, local, with flags" {
    [ -d /sys/devices/system/node/node0 ] || skip "no NUMA node 0 in sysfs"
    while IFS='|' read -r policy want; do
        update_config ".linux.memoryPolicy = $policy"
        run_in 'head -1 /proc/self/numa_maps'
        [[ "$output" == *" $want "* ]] || fail "$policy: numa_maps shows: $output"
    done <<'EOF'
{"mode": "MPOL_BIND", "nodes": "0"}|bind:0
{"mode": "MPOL_INTERLEAVE", "nodes": "0"}|interleave:0
{"mode": "MPOL_PREFERRED", "nodes": "0"}|prefer:0
{"mode": "MPOL_LOCAL"}|local
{"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}|bind=static:0
{"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_RELATIVE_NODES"]}|bind=relative:0
EOF
}

@test "memoryPolicy: a node that does not exist is the kernel's error, named, nothing left" {
    local last
    last=$(ls -d /sys/devices/system/node/node* 2>/dev/null | sed 's/.*node//' | sort -n | tail -1)
    local missing=$(( ${last:-0} + 1 ))
    REFUSED_IDS=bad-run refused ".linux.memoryPolicy = {\"mode\": \"MPOL_BIND\", \"nodes\": \"$missing\"}" \
        "linux.memoryPolicy: set_mempolicy(MPOL_BIND, nodes \`$missing\`)"
    # create has nothing to refuse yet; start reports it.
    set_sh 'echo should-not-run'
    update_config ".linux.memoryPolicy = {\"mode\": \"MPOL_BIND\", \"nodes\": \"$missing\"}"
    create late
    hrun start late
    [ "$status" -ne 0 ] || fail "start succeeded"
    [[ "$stderr" == *"linux.memoryPolicy: set_mempolicy"* ]] || fail "stderr: $stderr"
    ! grep -q should-not-run "$TEST_TMP/late.out"
    husk delete -f late
    assert_nothing_left late
}

@test "bad values are refused before anything exists" {
    refused '.process.scheduler = {"policy": "SCHED_FAST"}' 'process.scheduler.policy' 'SCHED_FAST'
    refused '.process.scheduler = {"policy": "SCHED_OTHER", "flags": ["SCHED_FLAG_X"]}' \
        'process.scheduler.flags[0]' 'SCHED_FLAG_X'
    refused '.process.scheduler = {"policy": "SCHED_OTHER", "nice": 20}' 'process.scheduler.nice' '20'
    refused '.process.scheduler = {"policy": "SCHED_OTHER", "nice": -21}' 'process.scheduler.nice' '-21'
    refused '.process.scheduler = {"policy": "SCHED_FIFO", "priority": 100}' 'process.scheduler.priority' '100'
    refused '.process.scheduler = {"policy": "SCHED_RR"}' 'process.scheduler.priority'
    refused '.process.scheduler = {"policy": "SCHED_BATCH", "priority": 3}' 'process.scheduler.priority' 'SCHED_BATCH'
    refused '.process.scheduler = {"policy": "SCHED_DEADLINE", "runtime": 20, "deadline": 10}' \
        'process.scheduler.runtime'
    refused '.process.ioPriority = {"class": "IOPRIO_CLASS_FAST", "priority": 1}' \
        'process.ioPriority.class' 'IOPRIO_CLASS_FAST'
    refused '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 8}' 'process.ioPriority.priority' '8'
    refused '.process.oomScoreAdj = 1001' 'process.oomScoreAdj' '1001'
    refused '.process.oomScoreAdj = -1001' 'process.oomScoreAdj' '-1001'
    refused '.linux.personality = {"domain": "LINUX64"}' 'linux.personality.domain' 'LINUX64'
    refused '.linux.personality = {"domain": "LINUX", "flags": ["NOPE"]}' 'linux.personality.flags[0]' 'NOPE'
    refused '.process.execCPUAffinity = {"initial": "0-"}' 'process.execCPUAffinity.initial' '0-'
    refused '.process.execCPUAffinity = {"final": "2-1"}' 'process.execCPUAffinity.final' '2-1'
    refused '.process.execCPUAffinity = {"final": "x"}' 'process.execCPUAffinity.final'
    refused '.linux.memoryPolicy = {"mode": "MPOL_FAST", "nodes": "0"}' 'linux.memoryPolicy.mode' 'MPOL_FAST'
    refused '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_X"]}' \
        'linux.memoryPolicy.flags[0]' 'MPOL_F_X'
    refused '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "0,,1"}' 'linux.memoryPolicy.nodes' '0,,1'
    refused '.linux.memoryPolicy = {"mode": "MPOL_BIND"}' 'linux.memoryPolicy.nodes'
}

@test "a CPU that does not exist: the kernel's error, named, nothing left" {
    # initial is set by husk before the init goes on: create fails.
    refused '.process.execCPUAffinity = {"initial": "1000"}' \
        'process.execCPUAffinity.initial: set CPU affinity `1000`'
    REFUSED_IDS=bad-run refused '.process.execCPUAffinity = {"final": "1000"}' \
        'process.execCPUAffinity.final: set CPU affinity `1000`'
}
