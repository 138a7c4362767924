#!/usr/bin/env bats
# linux.sysctl: namespaced sysctls are written inside the container's own
# namespaces (seen from inside, the host's values unchanged), everything
# else is refused before the container exists, with the key named and
# nothing left behind.

load helpers

setup() {
    load_libs
    setup_bundle
    NETNS=
}

teardown() {
    teardown_bundle
    if [ -n "$NETNS" ]; then
        ip netns delete "$NETNS" 2>/dev/null || true
    fi
}

# The host's values of the sysctls these tests set, one per line.
HOST_KEYS="net/ipv4/ip_forward kernel/shmmax kernel/msgmax fs/mqueue/msg_max kernel/domainname
kernel/pid_max vm/swappiness"
host_values() {
    local k
    for k in $HOST_KEYS; do
        echo "$k=$(cat "/proc/sys/$k")"
    done
}

run_in() {
    set_sh "$1"
    hrun run --bundle "$BUNDLE" sc
    [ "$status" -eq 0 ] || fail "husk run failed ($status): $stderr"
}

# refused JQ WORD...: create and run of the edited config fail, naming each
# WORD, leaving nothing behind and the host's sysctls as they were.
refused() {
    local edit=$1
    shift
    if [ -f "$TEST_TMP/config.orig" ]; then
        cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
    else
        cp "$BUNDLE/config.json" "$TEST_TMP/config.orig"
    fi
    update_config "$edit"
    local before id w
    before=$(host_values)
    for id in bad-create bad-run; do
        if [ "$id" = bad-create ]; then
            hrun create --bundle "$BUNDLE" "$id"
        else
            hrun run --bundle "$BUNDLE" "$id"
        fi
        [ "$status" -ne 0 ] || fail "$edit: husk accepted it"
        [ "$status" -lt 124 ] || fail "$edit: husk exited $status; stderr: $stderr"
        for w in "$@"; do
            [[ "$stderr" == *"$w"* ]] || fail "$edit: stderr does not name '$w': $stderr"
        done
        assert_nothing_left "$id"
    done
    assert_equal "$(host_values)" "$before"
}

@test "net.* in a new network namespace: set inside, host unchanged" {
    local before
    before=$(host_values)
    local want=1
    [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] && want=0
    update_config ".linux.sysctl = {\"net.ipv4.ip_forward\": \"$want\",
        \"net/ipv4/conf/lo/forwarding\": \"$want\", \"net.core.somaxconn\": \"777\"}"
    run_in 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/lo/forwarding
        cat /proc/sys/net/core/somaxconn
        echo 0 > /proc/sys/net/core/somaxconn 2>/dev/null && echo writable || echo read-only'
    assert_equal "${lines[0]}" "$want"
    assert_equal "${lines[1]}" "$want"
    assert_equal "${lines[2]}" "777"
    # Written before /proc/sys became read-only for the container.
    assert_equal "${lines[3]}" "read-only"
    assert_equal "$(host_values)" "$before"
}

@test "ipc sysctls in a new ipc namespace: set inside, host unchanged" {
    local before
    before=$(host_values)
    update_config '.linux.sysctl = {"kernel.shmmax": "123456789", "kernel.msgmax": "12345",
        "fs.mqueue.msg_max": "20"}'
    run_in 'cat /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max'
    assert_equal "${lines[0]}" "123456789"
    assert_equal "${lines[1]}" "12345"
    assert_equal "${lines[2]}" "20"
    assert_equal "$(host_values)" "$before"
}

@test "uts sysctls in a new uts namespace: set inside, host unchanged" {
    local before
    before=$(host_values)
    update_config '.linux.sysctl = {"kernel.domainname": "husk-sysctl.example"}'
    run_in 'cat /proc/sys/kernel/domainname; domainname 2>/dev/null || true'
    assert_equal "${lines[0]}" "husk-sysctl.example"
    assert_equal "$(host_values)" "$before"
}

@test "in a new user namespace: net and ipc sysctls are set" {
    # The namespace's root is host uid 100000: it must be able to reach the
    # rootfs through the test's private temp dirs.
    local d=$BUNDLE
    while [ "$d" != / ]; do
        [ "$(stat -c %A "$d" | cut -c10)" = x ] || chmod o+x "$d"
        d=$(dirname "$d")
    done
    update_config '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.sysctl = {"net.core.somaxconn": "555", "kernel.shmmni": "1234"}'
    local before
    before=$(host_values)
    run_in 'cat /proc/sys/net/core/somaxconn /proc/sys/kernel/shmmni; cat /proc/self/uid_map'
    assert_equal "${lines[0]}" "555"
    assert_equal "${lines[1]}" "1234"
    [[ "${lines[2]}" == *100000* ]] || fail "not in a user namespace: ${lines[2]}"
    assert_equal "$(host_values)" "$before"
}

@test "a joined network namespace (ip netns) gets the sysctl" {
    command -v ip >/dev/null || skip "no ip(8) on this machine"
    NETNS=husk-sysctl-$$-$RANDOM
    ip netns add "$NETNS"
    update_config ".linux.namespaces |= map(if .type == \"network\"
            then .path = \"/var/run/netns/$NETNS\" else . end)
        | .linux.sysctl = {\"net.core.somaxconn\": \"333\"}"
    run_in 'cat /proc/sys/net/core/somaxconn'
    assert_equal "$output" "333"
    assert_equal "$(ip netns exec "$NETNS" cat /proc/sys/net/core/somaxconn)" "333"
}

@test "sysctls that are not namespaced are refused" {
    refused '.linux.sysctl = {"kernel.pid_max": "4096"}' 'linux.sysctl' 'kernel.pid_max' 'not namespaced'
    refused '.linux.sysctl = {"vm.swappiness": "1"}' 'linux.sysctl' 'vm.swappiness' 'not namespaced'
    refused '.linux.sysctl = {"kernel/core_pattern": "|/bin/evil"}' 'kernel/core_pattern' 'not namespaced'
    refused '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.hostnamex": "1"}' 'kernel.hostnamex'
}

@test "namespaced sysctls without their namespace are refused" {
    refused '.linux.namespaces |= map(select(.type != "network"))
        | .linux.sysctl = {"net.ipv4.ip_forward": "1"}' \
        'linux.sysctl' 'net.ipv4.ip_forward' 'network namespace'
    refused '.linux.namespaces |= map(select(.type != "ipc")) | .linux.sysctl = {"kernel.shmmax": "1"}' \
        'kernel.shmmax' 'ipc namespace'
    refused '.linux.namespaces |= map(select(.type != "ipc"))
        | .linux.sysctl = {"fs.mqueue.msg_max": "20"}' 'fs.mqueue.msg_max' 'ipc namespace'
    refused '.linux.namespaces |= map(select(.type != "uts"))
        | .linux.sysctl = {"kernel.domainname": "x"}' 'kernel.domainname' 'uts namespace'
    refused ".linux.namespaces |= map(if .type == \"network\" then .path = \"/proc/$$/ns/net\" else . end)
        | .linux.sysctl = {\"net.ipv4.ip_forward\": \"1\"}" 'net.ipv4.ip_forward' "host's own"
}

@test "malformed keys and unknown sysctls are refused" {
    refused '.linux.sysctl = {"net..ipv4": "1"}' 'linux.sysctl' 'net..ipv4'
    refused '.linux.sysctl = {"net/../../kernel/pid_max": "1"}' 'net/../../kernel/pid_max'
    # Well-formed and namespaced, but no such file: the init's error.
    refused '.linux.sysctl = {"net.ipv4.no_such_sysctl": "1"}' \
        'linux.sysctl: `net.ipv4.no_such_sysctl`' '/proc/sys/net/ipv4/no_such_sysctl'
    refused '.linux.sysctl = {"net.core.somaxconn": "not-a-number"}' 'net.core.somaxconn'
}
