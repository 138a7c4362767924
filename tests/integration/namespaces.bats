#!/usr/bin/env bats
# linux.namespaces end to end: every type made new or joined through a path,
# bad namespace input refused naming the field (and nothing left behind),
# user namespaces (id maps, setgroups, owners on the host), uts (hostname,
# domainname), time (timeOffsets seen through /proc/uptime, joined by exec)
# and cgroup namespaces. Idmapped mounts are in idmap_mounts.bats; the bare
# bad-input cases (unknown type, duplicate, missing path) also run in
# errors.bats with the rest of the bad input.

load helpers

setup() {
    load_libs
    setup_bundle
    NETNS=husktest-$$-$BATS_TEST_NUMBER
}

teardown() {
    if [ -n "${HOLDER:-}" ]; then
        kill -9 "$HOLDER" 2>/dev/null || true
    fi
    ip netns del "$NETNS" 2>/dev/null || true
    teardown_bundle
}

# with_namespaces TYPE...: the config's namespaces plus these, new.
with_namespaces() {
    local t
    for t in "$@"; do
        update_config ".linux.namespaces |= map(select(.type != \"$t\")) + [{\"type\": \"$t\"}]"
    done
}

# with_userns: a new user namespace, root inside = host uid/gid 100000,
# and the bundle reachable by that uid through the test's private dirs.
with_userns() {
    with_namespaces user
    update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
    local d=$BUNDLE
    while [ "$d" != / ]; do
        [ "$(stat -c %A "$d" | cut -c10)" = x ] || chmod o+x "$d"
        d=$(dirname "$d")
    done
}

# set_ns_path TYPE PATH: TYPE joined through PATH instead of made new.
set_ns_path() {
    update_config ".linux.namespaces |= map(select(.type != \"$1\")) + [{\"type\": \"$1\", \"path\": \"$2\"}]"
}

@test "new: each of the 8 types differs from the host's" {
    with_namespaces cgroup time
    with_userns
    set_sh 'for t in pid net ipc uts mnt user cgroup time; do echo "$t $(readlink /proc/self/ns/$t)"; done'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    [ "${#lines[@]}" = 8 ] || fail "wanted 8 lines: $output"
    local t inside
    for t in pid net ipc uts mnt user cgroup time; do
        inside=$(printf '%s\n' "${lines[@]}" | awk -v t="$t" '$1 == t { print $2 }')
        [[ "$inside" == "$t:["* ]] || fail "no $t namespace inside: $output"
        [ "$inside" != "$(readlink /proc/self/ns/$t)" ] || fail "$t namespace is the host's: $inside"
    done
    assert_nothing_left c1
}

@test "new: without an entry the container shares the host's namespace" {
    update_config '.linux.namespaces |= map(select(.type == "mount" or .type == "pid")) | del(.hostname)'
    set_sh 'for t in net ipc uts cgroup time user; do readlink /proc/self/ns/$t; done'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    local want
    want=$(for t in net ipc uts cgroup time user; do readlink /proc/self/ns/$t; done)
    assert_equal "$output" "$want"
}

@test "path: join a network namespace made with ip netns add" {
    ip netns add "$NETNS"
    ip -n "$NETNS" link set lo up
    ip -n "$NETNS" addr add 10.254.77.1/32 dev lo
    set_ns_path network "/var/run/netns/$NETNS"
    set_sh 'readlink /proc/self/ns/net; cat /proc/net/fib_trie'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "${lines[0]}" "net:[$(stat -L -c %i "/var/run/netns/$NETNS")]"
    assert_output --partial 10.254.77.1
    # the namespace outlives the container: joined, not owned
    ip -n "$NETNS" addr show dev lo | grep -q 10.254.77.1
}

@test "path: join the uts namespace of a process the test started" {
    unshare --uts sh -c 'hostname joined-uts; exec sleep 30' &
    HOLDER=$!
    has_hostname() { [ "$(nsenter -t "$HOLDER" -u hostname 2>/dev/null)" = joined-uts ]; }
    wait_until 5 has_hostname
    set_ns_path uts "/proc/$HOLDER/ns/uts"
    update_config 'del(.hostname)'
    set_sh 'hostname; readlink /proc/self/ns/uts'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "${lines[0]}" joined-uts
    assert_equal "${lines[1]}" "$(readlink /proc/$HOLDER/ns/uts)"
}

@test "path: join a time namespace with offsets made by unshare" {
    unshare --time --boottime 86400 --fork --kill-child sleep 30 &
    HOLDER=$!
    own_time() { [ "$(readlink /proc/$HOLDER/ns/time_for_children)" != "$(readlink /proc/self/ns/time)" ]; }
    wait_until 5 own_time
    set_ns_path time "/proc/$HOLDER/ns/time_for_children"
    set_sh 'cut -d. -f1 /proc/uptime'
    local host
    host=$(cut -d. -f1 /proc/uptime)
    hrun run --bundle "$BUNDLE" c1
    assert_success
    [ "$output" -ge $((host + 86400)) ] && [ "$output" -lt $((host + 86400 + 60)) ] ||
        fail "uptime inside $output, host $host"
}

@test "path: a namespace of another type is refused naming the field" {
    ip netns add "$NETNS"
    # linux.namespaces[2] is ipc in `husk spec`'s order
    [ "$(jq -r '.linux.namespaces[2].type' "$BUNDLE/config.json")" = ipc ]
    update_config ".linux.namespaces[2].path = \"/var/run/netns/$NETNS\""
    fails_cleanly c1 'linux.namespaces[2]' "/var/run/netns/$NETNS" 'not a namespace of that type'
    # a regular file is not a namespace either
    update_config ".linux.namespaces[2].path = \"$BUNDLE/config.json\""
    fails_cleanly c2 'linux.namespaces[2]' 'not a namespace of that type'
}

@test "path: a path that does not exist is refused naming the field and the path" {
    update_config '.linux.namespaces[1].path = "/nonexistent/husk-netns"'
    fails_cleanly c1 'linux.namespaces[1]' /nonexistent/husk-netns 'No such file'
}

@test "bad type: unknown or given twice, refused naming the field" {
    update_config '.linux.namespaces += [{"type": "pidx"}]'
    fails_cleanly c1 'linux.namespaces[5].type' pidx
    update_config '.linux.namespaces[5].type = "uts"'
    fails_cleanly c2 'linux.namespaces[5]' uts
}

@test "user: uid_map and gid_map inside; root inside is uid 100000 on the host" {
    with_userns
    update_config '.linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 1000},
        {"containerID": 1000, "hostID": 300000, "size": 10}]'
    set_sh 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; exec sleep 30'
    run_detached c1
    wait_file_has "$TEST_TMP/c1.out" 300000
    local pid
    pid=$(state_field c1 pid)
    mapfile -t lines <"$TEST_TMP/c1.out"
    assert_equal "${lines[0]}" 0
    assert_equal "${lines[1]}" 0
    [[ "${lines[2]}" =~ ^\ *0\ +100000\ +65536$ ]] || fail "uid_map: ${lines[2]}"
    [[ "${lines[3]}" =~ ^\ *0\ +200000\ +1000$ ]] || fail "gid_map: ${lines[3]}"
    [[ "${lines[4]}" =~ ^\ *1000\ +300000\ +10$ ]] || fail "gid_map: ${lines[4]}"
    # the host sees the mapped ids
    [ "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" = 100000 ]
    [ "$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")" = 200000 ]
    husk delete -f c1
    assert_nothing_left c1
}

@test "user: setgroups stays allowed, so additionalGids work inside the namespace" {
    with_userns
    update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20]}'
    set_sh 'cat /proc/self/setgroups; grep ^Groups: /proc/self/status; id -u; id -g'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "${lines[0]}" allow
    [[ "${lines[1]}" =~ ^Groups:[[:space:]]+10\ 20[[:space:]]*$ ]] || fail "groups: ${lines[1]}"
    assert_equal "${lines[2]}" 1000
    assert_equal "${lines[3]}" 1000
}

@test "user: files made inside show the mapped owners on the host" {
    with_userns
    mkdir -p "$TEST_TMP/shared" "$BUNDLE/rootfs/shared"
    chown 100000:100000 "$TEST_TMP/shared"
    chmod 1777 "$TEST_TMP/shared"
    update_config ".mounts += [{\"destination\": \"/shared\", \"type\": \"bind\",
        \"source\": \"$TEST_TMP/shared\", \"options\": [\"rbind\"]}]"
    set_sh 'stat -c %u:%g /shared; touch /shared/by-root; mkdir /shared/dir'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    # the host's 100000 is root inside
    assert_equal "$output" 0:0
    [ "$(stat -c %u:%g "$TEST_TMP/shared/by-root")" = 100000:100000 ]
    [ "$(stat -c %u:%g "$TEST_TMP/shared/dir")" = 100000:100000 ]

    # a non-root user inside: uid 1000 is 101000 on the host
    update_config '.process.user = {"uid": 1000, "gid": 1000}'
    set_sh 'touch /shared/by-1000'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    [ "$(stat -c %u:%g "$TEST_TMP/shared/by-1000")" = 101000:101000 ]
}

@test "user: mappings without a new user namespace are refused" {
    update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
    fails_cleanly c1 linux.uidMappings 'needs a new user namespace'
}

@test "user: a new user namespace without mappings is refused" {
    with_namespaces user
    fails_cleanly c1 'linux.uidMappings/gidMappings' 'required with a new user namespace'
}

@test "user: overlapping, empty or out-of-range mappings are refused naming the entry" {
    with_userns
    update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 100},
        {"containerID": 50, "hostID": 300000, "size": 10}]'
    fails_cleanly c1 'linux.uidMappings[0] and linux.uidMappings[1]' 'containerID ranges overlap'
    update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 100},
        {"containerID": 1000, "hostID": 100050, "size": 10}]'
    fails_cleanly c2 'linux.uidMappings[0] and linux.uidMappings[1]' 'hostID ranges overlap'
    update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 0}]'
    fails_cleanly c3 'linux.gidMappings[0].size'
    update_config '.linux.gidMappings = [{"containerID": 4294967000, "hostID": 100000, "size": 1000}]'
    fails_cleanly c4 'linux.gidMappings[0]' 'runs past the id space'
}

@test "user: a range may end at the top of the id space, not reach (uid_t)-1" {
    with_userns
    update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 4294967290, "size": 5}]'
    set_sh 'cat /proc/self/uid_map'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    [[ "$output" =~ ^\ *0\ +4294967290\ +5$ ]] || fail "uid_map: $output"
    update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 4294967290, "size": 6}]'
    fails_cleanly c2 'linux.uidMappings[0]' 'runs past the id space'
}

@test "uts: hostname and domainname inside; the host's stay as they were" {
    local host_name host_domain
    host_name=$(cat /proc/sys/kernel/hostname)
    host_domain=$(cat /proc/sys/kernel/domainname)
    update_config '.hostname = "ns-box" | .domainname = "ns.example"'
    set_sh 'hostname; cat /proc/sys/kernel/domainname'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "${lines[0]}" ns-box
    assert_equal "${lines[1]}" ns.example
    assert_equal "$(cat /proc/sys/kernel/hostname)" "$host_name"
    assert_equal "$(cat /proc/sys/kernel/domainname)" "$host_domain"
}

@test "uts: hostname or domainname without a new uts namespace are refused" {
    update_config '.linux.namespaces |= map(select(.type != "uts")) | del(.hostname) | .domainname = "ns.example"'
    fails_cleanly c1 domainname 'needs a new uts namespace'
    update_config 'del(.domainname) | .hostname = "ns-box"'
    fails_cleanly c2 hostname 'needs a new uts namespace'
    # joined through a path is not new either
    unshare --uts sleep 30 &
    HOLDER=$!
    own_uts() { [ "$(readlink /proc/$HOLDER/ns/uts)" != "$(readlink /proc/self/ns/uts)" ]; }
    wait_until 5 own_uts
    set_ns_path uts "/proc/$HOLDER/ns/uts"
    fails_cleanly c3 hostname 'needs a new uts namespace'
    # and the joined namespace's name is untouched
    [ "$(nsenter -t "$HOLDER" -u hostname)" = "$(hostname)" ]
}

@test "time: timeOffsets show in /proc/uptime (boottime) and timens_offsets (both clocks)" {
    with_namespaces time
    update_config '.linux.timeOffsets = {"boottime": {"secs": 86400, "nanosecs": 0},
        "monotonic": {"secs": 3600, "nanosecs": 500}}'
    set_sh 'cut -d. -f1 /proc/uptime; cat /proc/self/timens_offsets'
    local host
    host=$(cut -d. -f1 /proc/uptime)
    hrun run --bundle "$BUNDLE" c1
    assert_success
    [ "${lines[0]}" -ge $((host + 86400)) ] && [ "${lines[0]}" -lt $((host + 86400 + 60)) ] ||
        fail "uptime inside ${lines[0]}, host $host"
    assert_line --regexp '^monotonic +3600 +500$'
    assert_line --regexp '^boottime +86400 +0$'
    # hooks husk runs after clone3 run in the host's time namespace
    update_config ".hooks = {\"createRuntime\": [{\"path\": \"/bin/sh\",
        \"args\": [\"sh\", \"-c\", \"readlink /proc/self/ns/time > $TEST_TMP/hook-time\"]}]}"
    hrun run --bundle "$BUNDLE" c3
    assert_success
    assert_equal "$(cat "$TEST_TMP/hook-time")" "$(readlink /proc/self/ns/time)"
    update_config 'del(.hooks)'
    # husk itself went back to the host's clocks: a new container without
    # a time namespace sees the host's uptime
    update_config '.linux.namespaces |= map(select(.type != "time")) | del(.linux.timeOffsets)'
    set_sh 'cut -d. -f1 /proc/uptime'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    [ "$output" -lt $((host + 60)) ] || fail "uptime without a time namespace: $output, host $host"
}

@test "time: a user namespace container gets its offsets too" {
    with_namespaces time
    with_userns
    update_config '.linux.timeOffsets = {"boottime": {"secs": 172800}}'
    set_sh 'id -u; cut -d. -f1 /proc/uptime'
    local host
    host=$(cut -d. -f1 /proc/uptime)
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "${lines[0]}" 0
    [ "${lines[1]}" -ge $((host + 172800)) ] && [ "${lines[1]}" -lt $((host + 172800 + 60)) ] ||
        fail "uptime inside ${lines[1]}, host $host"
    # exec joins user and time namespaces together
    set_sh 'exec sleep 30'
    run_detached c2
    hrun exec c2 sh -c 'id -u; cut -d. -f1 /proc/uptime'
    assert_success
    assert_equal "${lines[0]}" 0
    [ "${lines[1]}" -ge $((host + 172800)) ] || fail "uptime in exec ${lines[1]}, host $host"
    husk delete -f c2
    assert_nothing_left c1 c2
}

@test "time: exec joins the container's time namespace" {
    with_namespaces time
    update_config '.linux.timeOffsets = {"boottime": {"secs": 86400}}'
    set_sh 'exec sleep 30'
    run_detached c1
    local pid host
    pid=$(state_field c1 pid)
    host=$(cut -d. -f1 /proc/uptime)
    hrun exec c1 sh -c 'readlink /proc/self/ns/time; cut -d. -f1 /proc/uptime'
    assert_success
    assert_equal "${lines[0]}" "$(readlink /proc/$pid/ns/time)"
    [ "${lines[1]}" -ge $((host + 86400)) ] || fail "uptime in exec ${lines[1]}, host $host"
    husk delete -f c1
    assert_nothing_left c1
}

@test "time: timeOffsets without a new time namespace, or with bad values, are refused" {
    update_config '.linux.namespaces |= map(select(.type != "time"))
        | .linux.timeOffsets = {"boottime": {"secs": 86400}}'
    fails_cleanly c1 linux.timeOffsets 'needs a new time namespace'
    set_ns_path time /proc/self/ns/time
    fails_cleanly c2 linux.timeOffsets 'needs a new time namespace'
    with_namespaces time
    update_config '.linux.timeOffsets = {"realtime": {"secs": 1}}'
    fails_cleanly c3 linux.timeOffsets realtime
    update_config '.linux.timeOffsets = {"monotonic": {"secs": 1, "nanosecs": 1000000000}}'
    fails_cleanly c4 linux.timeOffsets.monotonic.nanosecs
}

@test "cgroup: a new cgroup namespace shows the container's cgroup as /" {
    with_namespaces cgroup
    set_sh 'cat /proc/self/cgroup'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    [ "${#lines[@]}" -gt 0 ]
    local l
    for l in "${lines[@]}"; do
        [[ "$l" == *:/ ]] || fail "not rooted at /: $l (all: $output)"
    done
    # without one, the host's path of the container's cgroup shows
    update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    assert_output --partial "/husk-test/$CG_NAME"
}
