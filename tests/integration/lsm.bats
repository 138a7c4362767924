#!/usr/bin/env bats
# LSM labels: process.apparmorProfile (the container and every exec'd
# process change profile at their execve, seen in /proc/self/attr/current
# and in what the profile denies), exec's --apparmor and --process JSON,
# process.selinuxLabel, --process-label and linux.mountLabel (ignored on a
# host without SELinux, as runc and crun do), and bad profiles refused with
# the field named and nothing left behind.
#
# The AppArmor tests need AppArmor and apparmor_parser (the VM lane's
# guest): they skip elsewhere with a reason, and fail under HUSK_VMLANE=1.

load helpers

AA_ENABLED=/sys/module/apparmor/parameters/enabled

setup() {
    load_libs
    setup_bundle '["sleep", "1000"]'
    PROFILE=
}

teardown() {
    teardown_bundle
    if [ -n "$PROFILE" ]; then
        apparmor_parser -R "$TEST_TMP_PROFILE" 2>/dev/null || true
        rm -f "$TEST_TMP_PROFILE"
    fi
}

apparmor_on() {
    [ "$(cat "$AA_ENABLED" 2>/dev/null)" = Y ]
}

selinux_on() {
    [ "$(stat -f -c %T /sys/fs/selinux 2>/dev/null)" = selinuxfs ]
}

# need_apparmor: skips (fails in the VM lane) without AppArmor and its parser.
need_apparmor() {
    local why=
    apparmor_on || why="AppArmor is not enabled on this host ($AA_ENABLED)"
    [ -n "$why" ] || command -v apparmor_parser >/dev/null || why="no apparmor_parser"
    [ -n "$why" ] || [ -d /sys/kernel/security/apparmor ] || why="no securityfs apparmor dir"
    [ -z "$why" ] && return 0
    [ "${HUSK_VMLANE:-}" != 1 ] || fail "VM lane: $why"
    skip "$why"
}

# load_profile: loads husk-test-lsm-<test>, which allows everything but
# reading /lsm-denied (an audited deny), as $PROFILE.
load_profile() {
    PROFILE=husk-test-lsm-${TEST_TMP##*/husk.}
    TEST_TMP_PROFILE=/tmp/$PROFILE.profile
    cat >"$TEST_TMP_PROFILE" <<EOF
profile $PROFILE flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  signal,
  ptrace,
  mount,
  umount,
  pivot_root,
  audit deny /lsm-denied r,
}
EOF
    apparmor_parser -r "$TEST_TMP_PROFILE" || fail "apparmor_parser could not load $PROFILE"
    grep -q "^$PROFILE (enforce)\$" /sys/kernel/security/apparmor/profiles ||
        fail "$PROFILE not in the loaded profiles"
    echo secret >"$BUNDLE/rootfs/lsm-denied"
    echo open >"$BUNDLE/rootfs/lsm-allowed"
}

# in_c1 CMD...: runs CMD in c1 through `husk exec`, output in $output.
in_c1() {
    hrun exec c1 "$@"
}

# ---------- AppArmor, in the guest ----------

@test "apparmor: the container runs under process.apparmorProfile, in enforce mode" {
    need_apparmor
    load_profile
    update_config ".process.apparmorProfile = \"$PROFILE\""
    # The root is read-only: the findings go to stdout ($TEST_TMP/c1.out).
    set_sh 'echo "label: $(cat /proc/self/attr/current)"; echo "allowed: $(cat /lsm-allowed)";
            if cat /lsm-denied; then echo "verdict: read"; else echo "verdict: refused"; fi;
            exec sleep 1000'
    run_detached c1
    wait_status c1 running
    wait_until 60 file_has "$TEST_TMP/c1.out" '^verdict: ' ||
        fail "the container did not get as far as its checks: $(cat "$TEST_TMP/c1.out")"
    run cat "$TEST_TMP/c1.out"
    assert_line "label: $PROFILE (enforce)"
    assert_line "allowed: open"
    assert_line "verdict: refused"
    assert_line --partial "Permission denied"
    refute_line secret
    # and as the host sees the init (the sleep the shell became)
    local pid
    pid=$(state_field c1 pid)
    [ "$(cat /proc/"$pid"/attr/current)" = "$PROFILE (enforce)" ]
    # husk itself stays unconfined
    [ "$(cat /proc/self/attr/current)" = unconfined ]
}

@test "apparmor: exec gets the container's profile; --apparmor and --process override it" {
    need_apparmor
    load_profile
    update_config ".process.apparmorProfile = \"$PROFILE\""
    run_detached c1
    wait_status c1 running

    in_c1 cat /proc/self/attr/current
    assert_success
    assert_output "$PROFILE (enforce)"
    in_c1 cat /lsm-denied
    assert_failure
    in_c1 cat /lsm-allowed
    assert_success
    assert_output open

    hrun exec --apparmor unconfined c1 cat /proc/self/attr/current
    assert_success
    assert_output unconfined
    hrun exec --apparmor unconfined c1 cat /lsm-denied
    assert_success
    assert_output secret

    # --process JSON: its profile wins; without one, the container's.
    jq -n '{args: ["cat", "/proc/self/attr/current"], cwd: "/", user: {uid: 0, gid: 0},
            apparmorProfile: "unconfined"}' >"$TEST_TMP/p-unconfined.json"
    hrun exec --process "$TEST_TMP/p-unconfined.json" c1
    assert_success
    assert_output unconfined
    jq -n '{args: ["cat", "/proc/self/attr/current"], cwd: "/", user: {uid: 0, gid: 0}}' \
        >"$TEST_TMP/p-none.json"
    hrun exec --process "$TEST_TMP/p-none.json" c1
    assert_success
    assert_output "$PROFILE (enforce)"
}

@test "apparmor: exec --apparmor confines a process of an unconfined container" {
    need_apparmor
    load_profile
    run_detached c1
    wait_status c1 running
    in_c1 cat /proc/self/attr/current
    assert_success
    assert_output unconfined
    hrun exec --apparmor "$PROFILE" c1 cat /proc/self/attr/current
    assert_success
    assert_output "$PROFILE (enforce)"
    hrun exec --apparmor "$PROFILE" c1 cat /lsm-denied
    assert_failure
}

@test "apparmor: a container with its own user namespace is confined too, and its execs" {
    need_apparmor
    load_profile
    update_config ".process.apparmorProfile = \"$PROFILE\"
        | .linux.namespaces += [{\"type\": \"user\"}]
        | .linux.uidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]
        | .linux.gidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]"
    # the namespace's root (host uid 100000) must reach the rootfs
    local d=$BUNDLE
    while [ "$d" != / ]; do
        [ "$(stat -c %A "$d" | cut -c10)" = x ] || chmod o+x "$d"
        d=$(dirname "$d")
    done
    run_detached c1
    wait_status c1 running
    local pid
    pid=$(state_field c1 pid)
    [ "$(cat /proc/"$pid"/uid_map | awk '{print $2}')" = 100000 ]
    [ "$(cat /proc/"$pid"/attr/current)" = "$PROFILE (enforce)" ] ||
        fail "init: $(cat /proc/"$pid"/attr/current)"
    in_c1 cat /proc/self/attr/current
    assert_success
    assert_output "$PROFILE (enforce)"
    # both files are world-readable: only the profile tells them apart
    in_c1 cat /lsm-allowed
    assert_success
    assert_output open
    in_c1 cat /lsm-denied
    assert_failure
    hrun exec --apparmor unconfined c1 cat /lsm-denied
    assert_success
    assert_output secret
}

@test "apparmor: a profile the host does not hold is refused, naming it, nothing left" {
    need_apparmor
    local bad=husk-test-lsm-no-such-profile
    update_config ".process.apparmorProfile = \"$bad\""
    hrun run -d --bundle "$BUNDLE" c1
    assert_failure
    [[ "$stderr" == *"process.apparmorProfile \`$bad\`"*"no such AppArmor profile"* ]] ||
        fail "stderr: $stderr"
    assert_nothing_left c1
    hrun create --bundle "$BUNDLE" c1
    assert_failure
    [[ "$stderr" == *"process.apparmorProfile \`$bad\`"* ]]
    assert_nothing_left c1

    # exec with one: refused before any process starts
    update_config 'del(.process.apparmorProfile)'
    run_detached c2
    wait_status c2 running
    hrun exec --apparmor "$bad" c2 true
    assert_failure
    [[ "$stderr" == *"--apparmor"*"process.apparmorProfile \`$bad\`"* ]] || fail "stderr: $stderr"
    local pids
    pids=$(tagged_pids | grep -vx "$(state_field c2 pid)" || true)
    [ -z "$pids" ] || fail "left running: $(describe_pids $pids)"
}

@test "apparmor: \"unconfined\" runs the container unconfined" {
    need_apparmor
    update_config '.process.apparmorProfile = "unconfined"'
    set_sh 'cat /proc/self/attr/current'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output unconfined
    assert_nothing_left c1
}

@test "apparmor: a container's mount over /proc/self/attr cannot take the label (CVE-2019-19921 class)" {
    need_apparmor
    load_profile
    # Fake attr dirs over the init's own: a write through the container's
    # /proc would land in these files and leave the process unconfined.
    local fake=$TEST_TMP/fakeattr d
    mkdir -p "$fake/apparmor"
    : >"$fake/exec"
    : >"$fake/current"
    : >"$fake/apparmor/exec"
    : >"$fake/apparmor/current"
    update_config ".process.apparmorProfile = \"$PROFILE\"
        | .mounts += [{\"destination\": \"/proc/self/attr\", \"type\": \"bind\",
                       \"source\": \"$fake\", \"options\": [\"bind\"]},
                      {\"destination\": \"/proc/thread-self/attr\", \"type\": \"bind\",
                       \"source\": \"$fake\", \"options\": [\"bind\"]}]"
    run_detached c1
    wait_status c1 running
    local pid
    pid=$(state_field c1 pid)
    [ "$(cat /proc/"$pid"/attr/current)" = "$PROFILE (enforce)" ] ||
        fail "init: $(cat /proc/"$pid"/attr/current)"
    # the mounts were made: the container sees the fake files
    hrun exec c1 sh -c 'grep -c " /proc/1/attr \| /proc/1/task/1/attr " /proc/mounts'
    assert_success
    assert_output 2
    hrun exec c1 cat /lsm-denied
    assert_failure
    run find "$fake" -type f -size +0
    assert_output ''
}

# ---------- AppArmor off (this host) ----------

@test "apparmor: a profile on a host without AppArmor is refused, naming the field" {
    ! apparmor_on || skip "AppArmor is enabled here (the guest tests the profile itself)"
    update_config '.process.apparmorProfile = "husk-test-lsm"'
    hrun create --bundle "$BUNDLE" c1
    assert_failure
    [[ "$stderr" == *"process.apparmorProfile \`husk-test-lsm\`: AppArmor is not enabled"* ]] ||
        fail "stderr: $stderr"
    assert_nothing_left c1
    hrun run --bundle "$BUNDLE" c1
    assert_failure
    [[ "$stderr" == *"process.apparmorProfile"* ]]
    assert_nothing_left c1
}

@test "apparmor: exec --apparmor on a host without AppArmor is refused, nothing started" {
    ! apparmor_on || skip "AppArmor is enabled here (the guest tests exec --apparmor)"
    run_detached c1
    wait_status c1 running
    hrun exec --apparmor husk-test-lsm c1 true
    assert_failure
    [[ "$stderr" == *"--apparmor: process.apparmorProfile \`husk-test-lsm\`: AppArmor is not enabled"* ]] ||
        fail "stderr: $stderr"
    jq -n '{args: ["true"], cwd: "/", apparmorProfile: "husk-test-lsm"}' >"$TEST_TMP/p.json"
    hrun exec --process "$TEST_TMP/p.json" c1
    assert_failure
    [[ "$stderr" == *"process.apparmorProfile \`husk-test-lsm\`"* ]] || fail "stderr: $stderr"
    local pids
    pids=$(tagged_pids | grep -vx "$(state_field c1 pid)" || true)
    [ -z "$pids" ] || fail "left running: $(describe_pids $pids)"
    # "unconfined" is what this host gives anyway
    hrun exec --apparmor unconfined c1 echo ok
    assert_success
    assert_output ok
}

# ---------- SELinux ----------

@test "selinux: process.selinuxLabel on a host without SELinux is ignored, with a debug line" {
    ! selinux_on || skip "SELinux is enabled here"
    update_config '.process.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"'
    set_sh 'echo ran'
    hrun --debug --log "$TEST_TMP/husk.log" run --bundle "$BUNDLE" c1
    assert_success
    assert_output ran
    grep -q 'process.selinuxLabel `system_u:system_r:container_t:s0:c1,c2` ignored: SELinux is not enabled' \
        "$TEST_TMP/husk.log" || fail "no debug line: $(cat "$TEST_TMP/husk.log")"
    assert_nothing_left c1
}

@test "selinux: linux.mountLabel on a host without SELinux leaves the mounts' data alone" {
    ! selinux_on || skip "SELinux is enabled here"
    # A tmpfs refuses context= where SELinux is off: the mount would fail.
    update_config '.linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"
        | .mounts += [{"destination": "/lbl", "type": "tmpfs", "source": "tmpfs",
                       "options": ["nosuid", "mode=711", "size=1m"]}]'
    set_sh 'grep " /lbl " /proc/mounts; stat -c %a /lbl'
    hrun --debug --log "$TEST_TMP/husk.log" run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 --regexp '^tmpfs /lbl tmpfs rw,nosuid,.*size=1024k,mode=711'
    refute_output --partial context=
    assert_line --index 1 711
    grep -q 'linux.mountLabel `system_u:object_r:container_file_t:s0:c1,c2` ignored for a tmpfs mount' \
        "$TEST_TMP/husk.log" || fail "no debug line: $(cat "$TEST_TMP/husk.log")"
    assert_nothing_left c1
}

@test "selinux: exec --process-label and a --process selinuxLabel are ignored without SELinux" {
    ! selinux_on || skip "SELinux is enabled here"
    update_config '.process.selinuxLabel = "system_u:system_r:container_t:s0"'
    run_detached c1
    wait_status c1 running
    hrun exec --process-label system_u:system_r:container_t:s0:c5 c1 echo ok
    assert_success
    assert_output ok
    jq -n '{args: ["echo", "ok2"], cwd: "/", selinuxLabel: "system_u:system_r:spc_t:s0"}' \
        >"$TEST_TMP/p.json"
    hrun exec --process "$TEST_TMP/p.json" c1
    assert_success
    assert_output ok2
}

@test "features and --version: apparmor and selinux are applied by every build" {
    run "$HUSK" features
    assert_success
    [ "$(jq -r .linux.apparmor.enabled <<<"$output")" = true ]
    [ "$(jq -r .linux.selinux.enabled <<<"$output")" = true ]
    run "$HUSK" --version
    assert_output --partial "+SELINUX +APPARMOR"
}
