#!/usr/bin/env bats
# OCI hooks (runtime-spec config.md "POSIX-platform Hooks", runtime.md
# lifecycle): every stage runs once, in order, in the namespace the spec
# says, with the state on stdin; failures fail the operation or only warn,
# per stage; timeouts kill the hook.
#
# Each hook is $HOOKS/hook.sh, which appends its stage to $HOOKS/order and
# keeps its stdin and mount namespace in $HOOKS/STAGE.*. The
# same dir is bind-mounted at /hooks in the container, for startContainer
# hooks, whose path resolves in the container.

load helpers

HOOK_PATH=/usr/sbin:/usr/bin:/sbin:/bin

setup() {
    load_libs
    setup_bundle '["sh", "-c", "echo container-ran"]'
    HOOKS=$TEST_TMP/hooks
    mkdir -p "$HOOKS"
    cat >"$HOOKS/hook.sh" <<'EOF'
#!/bin/sh
# hook.sh STAGE [EXIT_STATUS]
stage=$1
cat >"$HOOK_DIR/$stage.stdin"
readlink /proc/self/ns/mnt >"$HOOK_DIR/$stage.mntns"
echo "$stage" >>"$HOOK_DIR/order"
if [ "${2:-0}" != 0 ]; then
    echo "hook $stage fails on purpose" >&2
    exit "$2"
fi
EOF
    chmod 755 "$HOOKS/hook.sh"
    update_config ".mounts += [{\"destination\": \"/hooks\", \"type\": \"bind\",
                                \"source\": \"$HOOKS\", \"options\": [\"rbind\", \"rw\"]}]"
}

teardown() {
    local p
    # sleeps a hook spawned (a failing timeout test), by pid only
    if [ -n "${SLEEP_ARG:-}" ]; then
        for p in $(spawned_sleeps); do kill -9 "$p" 2>/dev/null || true; done
    fi
    teardown_bundle
}

# add_hook STAGE [EXIT_STATUS]: appends hook.sh to hooks.STAGE.
add_hook() {
    local stage=$1 code=${2:-0} path=$HOOKS/hook.sh dir=$HOOKS
    if [ "$stage" = startContainer ]; then
        path=/hooks/hook.sh
        dir=/hooks
    fi
    update_config ".hooks.$stage += [{\"path\": \"$path\", \"args\": [\"hook.sh\", \"$stage\", \"$code\"],
                                     \"env\": [\"HOOK_DIR=$dir\", \"PATH=$HOOK_PATH\"]}]"
}

add_all_hooks() {
    local stage
    for stage in prestart createRuntime createContainer startContainer poststart poststop; do
        add_hook "$stage"
    done
}

order() {
    tr '\n' ' ' <"$HOOKS/order" 2>/dev/null | sed 's/ $//'
}

# check_stdin STAGE STATUS [PID]: the hook's stdin is the state document.
check_stdin() {
    local f=$HOOKS/$1.stdin
    [ -f "$f" ] || fail "no stdin recorded for $1"
    jq -e . "$f" >/dev/null || fail "$1 stdin is not JSON: $(cat "$f")"
    assert_equal "$(jq -r .id "$f")" c1
    assert_equal "$(jq -r .bundle "$f")" "$BUNDLE"
    assert_equal "$(jq -r .ociVersion "$f")" "$(jq -r .ociVersion "$BUNDLE/config.json")"
    [[ " $2 " == *" $(jq -r .status "$f") "* ]] || fail "$1 saw status $(jq -r .status "$f"), wanted one of: $2"
    if [ -n "${3:-}" ]; then
        assert_equal "$(jq -r .pid "$f")" "$3"
    fi
}

@test "hooks: every stage once, in the spec's order, with the state on stdin" {
    add_all_hooks
    create c1
    assert_equal "$(order)" "prestart createRuntime createContainer"
    local pid
    pid=$(state_field c1 pid)
    [[ "$pid" =~ ^[1-9][0-9]*$ ]]
    check_stdin prestart creating "$pid"
    check_stdin createRuntime creating "$pid"
    check_stdin createContainer "creating created" "$pid"

    husk start c1
    assert_equal "$(order)" "prestart createRuntime createContainer startContainer poststart"
    check_stdin startContainer created "$pid"
    check_stdin poststart running "$pid"

    wait_status c1 stopped
    grep -q container-ran "$TEST_TMP/c1.out"
    husk delete c1
    assert_equal "$(order)" "prestart createRuntime createContainer startContainer poststart poststop"
    check_stdin poststop stopped
    assert_nothing_left c1
}

@test "hooks: argv and environment exactly as the config gives them" {
    update_config ".hooks.createRuntime = [{\"path\": \"/bin/sh\",
        \"args\": [\"not-sh\", \"-c\", \"cat /proc/\$\$/cmdline >$HOOKS/cmdline; cat /proc/\$\$/environ >$HOOKS/environ\", \"arg 1\"],
        \"env\": [\"ONE=1\", \"TWO=two words\"]}]"
    run_detached c1
    assert_equal "$(tr '\0' '|' <"$HOOKS/cmdline")" \
        "not-sh|-c|cat /proc/\$\$/cmdline >$HOOKS/cmdline; cat /proc/\$\$/environ >$HOOKS/environ|arg 1|"
    # nothing of husk's own environment (HUSK_TEST_TAG, PATH...) leaks in
    assert_equal "$(tr '\0' '|' <"$HOOKS/environ")" "ONE=1|TWO=two words|"
}

@test "hooks: createRuntime and poststop run in the runtime's mount namespace, createContainer and startContainer in the container's" {
    add_all_hooks
    create c1
    local pid host container
    pid=$(state_field c1 pid)
    host=$(readlink /proc/self/ns/mnt)
    container=$(readlink "/proc/$pid/ns/mnt")
    [ "$host" != "$container" ]
    assert_equal "$(cat "$HOOKS/prestart.mntns")" "$host"
    assert_equal "$(cat "$HOOKS/createRuntime.mntns")" "$host"
    assert_equal "$(cat "$HOOKS/createContainer.mntns")" "$container"
    husk start c1
    assert_equal "$(cat "$HOOKS/startContainer.mntns")" "$container"
    assert_equal "$(cat "$HOOKS/poststart.mntns")" "$host"
    wait_status c1 stopped
    husk delete c1
    assert_equal "$(cat "$HOOKS/poststop.mntns")" "$host"
}

@test "hooks: a failing createRuntime hook fails create, names the hook, and leaves nothing" {
    add_hook prestart
    add_hook createRuntime 3
    add_hook createContainer
    hrun create --bundle "$BUNDLE" c1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"createRuntime hook #0 ($HOOKS/hook.sh): exited with status 3: hook createRuntime fails on purpose"* ]]
    # stops at the failing hook: later stages never ran
    [[ "$(order)" == "prestart createRuntime"* ]]
    [[ "$(order)" != *createContainer* ]]
    assert_nothing_left c1
}

@test "hooks: a failing createContainer or startContainer hook fails the operation" {
    add_hook createContainer 5
    hrun create --bundle "$BUNDLE" c1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"createContainer hook #0"*"exited with status 5"* ]]
    assert_nothing_left c1

    update_config 'del(.hooks)'
    add_hook startContainer 6
    create c2
    run husk start c2
    [ "$status" -ne 0 ]
    [[ "$output" == *"startContainer hook #0"*"exited with status 6"* ]]
    # the user process never ran
    ! grep -q container-ran "$TEST_TMP/c2.out"
}

@test "hooks: a failing poststart hook only warns; the container runs" {
    add_hook poststart 4
    add_hook poststop
    create c1
    run husk start c1
    assert_success
    [[ "$output" == *"poststart hook #0"*"exited with status 4"* ]]
    wait_status c1 stopped
    grep -q container-ran "$TEST_TMP/c1.out"
    husk delete c1
    assert_equal "$(order)" "poststart poststop"
}

@test "hooks: a failing poststop hook only warns; delete still removes the container" {
    add_hook poststop 2
    run_detached c1
    wait_status c1 stopped
    run husk delete c1
    assert_success
    [[ "$output" == *"poststop hook #0"*"exited with status 2"* ]]
    assert_nothing_left c1
}

@test "hooks: a hook past its timeout is killed and create fails" {
    update_config ".hooks.createRuntime = [{\"path\": \"/bin/sh\",
        \"args\": [\"sh\", \"-c\", \"echo \$\$ >$HOOKS/pid; exec sleep 60\"], \"timeout\": 1}]"
    local t0=$SECONDS
    hrun create --bundle "$BUNDLE" c1
    [ "$status" -ne 0 ]
    [ $((SECONDS - t0)) -lt 15 ]
    [[ "$stderr" == *"createRuntime hook #0 (/bin/sh): timed out after 1 s"* ]]
    local pid
    pid=$(cat "$HOOKS/pid")
    pid_gone "$pid"
    assert_nothing_left c1
}

# The sleep a hook left behind: found by its argument, unique to the test.
spawned_sleeps() {
    pgrep -f -x "sleep $SLEEP_ARG" || true
}

@test "hooks: a hook that times out is killed with everything it spawned" {
    SLEEP_ARG=1000.$$$RANDOM
    update_config ".hooks.createRuntime = [{\"path\": \"/bin/sh\",
        \"args\": [\"sh\", \"-c\", \"sleep $SLEEP_ARG & echo \$! >$HOOKS/child; exec sleep 60\"],
        \"timeout\": 1}]"
    hrun create --bundle "$BUNDLE" c1
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"createRuntime hook #0 (/bin/sh): timed out after 1 s"* ]]
    [ -s "$HOOKS/child" ]
    wait_until 5 pid_gone "$(cat "$HOOKS/child")" || true
    local left
    left=$(spawned_sleeps)
    for p in $left; do kill -9 "$p" 2>/dev/null || true; done
    [ -z "$left" ] || fail "the hook's child survived the timeout: pid $left"
    assert_nothing_left c1
}

@test "hooks: run -d runs the create and start stages, delete the poststop ones" {
    add_all_hooks
    run_detached c1
    assert_equal "$(order)" "prestart createRuntime createContainer startContainer poststart"
    wait_status c1 stopped
    husk delete c1
    assert_equal "$(order)" "prestart createRuntime createContainer startContainer poststart poststop"
}
