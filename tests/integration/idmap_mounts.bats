#!/usr/bin/env bats
# Idmapped bind mounts: mounts[].uidMappings/gidMappings and the idmap and
# ridmap options. What the container sees of a host directory through the
# mapping, who owns on the host what it creates there, and every request
# that cannot be honoured refused naming mounts[N], with nothing left
# behind (the helper process that carries each mapping included).

load helpers

setup() {
    load_libs
    setup_bundle
    DATA=$TEST_TMP/data
    mkdir -p "$DATA" "$BUNDLE/rootfs/data"
    chown 0:0 "$DATA"
    chmod 1777 "$DATA"
    echo host >"$DATA/from-host"
    chown 0:0 "$DATA/from-host"
}

teardown() {
    teardown_bundle
}

MAP='[{"containerID": 0, "hostID": 100000, "size": 65536}]'

# with_userns: root inside = host 100000, the bundle reachable by it.
with_userns() {
    update_config ".linux.namespaces += [{\"type\": \"user\"}]
        | .linux.uidMappings = $MAP | .linux.gidMappings = $MAP"
    local d=$BUNDLE
    while [ "$d" != / ]; do
        [ "$(stat -c %A "$d" | cut -c10)" = x ] || chmod o+x "$d"
        d=$(dirname "$d")
    done
}

# data_mount OPTIONS_JSON [EXTRA_JQ]: $DATA on /data (mounts[7]).
data_mount() {
    update_config ".mounts += [{\"destination\": \"/data\", \"type\": \"bind\",
        \"source\": \"$DATA\", \"options\": $1 ${2:-}}]"
}

@test "own mappings in a user namespace container: host root's files are root's inside" {
    with_userns
    data_mount '["rbind"]' ", \"uidMappings\": $MAP, \"gidMappings\": $MAP"
    [ "$(jq '.mounts | length' "$BUNDLE/config.json")" = 8 ]
    set_sh 'stat -c %u:%g /data/from-host; touch /data/by-root; mkdir /data/dir-by-root'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" 0:0
    # root inside (host 100000) writes through the mapping as host root
    [ "$(stat -c %u:%g "$DATA/by-root")" = 0:0 ]
    [ "$(stat -c %u:%g "$DATA/dir-by-root")" = 0:0 ]
    update_config '.process.user = {"uid": 1000, "gid": 1000}'
    set_sh 'touch /data/by-1000; stat -c %u:%g /data/by-1000'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    assert_equal "$output" 1000:1000
    [ "$(stat -c %u:%g "$DATA/by-1000")" = 1000:1000 ]
    # without the mapping the same directory is unmapped (nobody) inside
    update_config '.mounts[7] |= del(.uidMappings, .gidMappings)'
    set_sh 'stat -c %u:%g /data/from-host'
    hrun run --bundle "$BUNDLE" c3
    assert_success
    assert_equal "$output" 65534:65534
    assert_nothing_left c1 c2 c3
}

@test "idmap without mappings takes the container's user namespace mappings" {
    with_userns
    data_mount '["rbind", "idmap"]'
    set_sh 'stat -c %u:%g /data/from-host; touch /data/by-root'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" 0:0
    [ "$(stat -c %u:%g "$DATA/by-root")" = 0:0 ]
    # the other options still apply on top of the mapping
    update_config '.mounts[7].options = ["rbind", "idmap", "ro", "nosuid"]'
    set_sh 'stat -c %u:%g /data/from-host; touch /data/ro-test 2>&1; grep " /data " /proc/self/mountinfo; true'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    assert_equal "${lines[0]}" 0:0
    assert_equal "${lines[1]}" "touch: /data/ro-test: Read-only file system"
    [[ "${lines[2]}" =~ \ ro,nosuid[,\ ] ]] || fail "mountinfo: ${lines[2]}"
    [[ "${lines[2]}" == *idmapped* ]] || fail "not idmapped: ${lines[2]}"
}

@test "own mappings without a user namespace: the container sees the mapped ids" {
    data_mount '["bind", "idmap"]' ", \"uidMappings\": $MAP, \"gidMappings\": $MAP"
    # host uid 0 has no id in the mount's mapping: root cannot write there
    set_sh 'stat -c %u:%g /data/from-host; cat /data/from-host; touch /data/x 2>&1 && echo wrote; true'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "${lines[0]}" 100000:100000
    assert_equal "${lines[1]}" host
    # EOVERFLOW: the writer's id cannot be written through the mapping
    assert_equal "${lines[2]}" "touch: /data/x: Value too large for defined data type"
    [ ! -e "$DATA/x" ]
    # the host's view is unchanged
    [ "$(stat -c %u:%g "$DATA/from-host")" = 0:0 ]
}

@test "idmap maps the mount only, ridmap every mount under it too" {
    # a submount: another directory bound under the source
    mkdir -p "$DATA/sub" "$TEST_TMP/other"
    touch "$TEST_TMP/other/in-sub"
    mount --bind "$TEST_TMP/other" "$DATA/sub"
    with_userns
    data_mount '["rbind", "idmap"]'
    set_sh 'stat -c %u:%g /data/from-host /data/sub/in-sub'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "${lines[0]}" 0:0
    assert_equal "${lines[1]}" 65534:65534
    update_config '.mounts[7].options = ["rbind", "ridmap"]'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    assert_equal "${lines[0]}" 0:0
    assert_equal "${lines[1]}" 0:0
    umount "$DATA/sub"
    assert_nothing_left c1 c2
}

@test "mappings or idmap on a mount that is not a bind mount are refused" {
    update_config ".mounts += [{\"destination\": \"/data\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",
        \"uidMappings\": $MAP, \"gidMappings\": $MAP}]"
    fails_cleanly c1 'mounts[7]' 'only for bind mounts' tmpfs
    update_config '.mounts[7] |= (del(.uidMappings, .gidMappings) | .options = ["idmap"])'
    fails_cleanly c2 'mounts[7]' '`idmap`' 'only for bind mounts'
}

@test "idmap without mappings and without a user namespace is refused" {
    data_mount '["rbind", "idmap"]'
    fails_cleanly c1 'mounts[7]' "container's user namespace"
}

@test "half a mapping, or a bad one, is refused naming the mount" {
    with_userns
    data_mount '["rbind"]' ", \"uidMappings\": $MAP"
    fails_cleanly c1 'mounts[7]' 'uidMappings given without gidMappings'
    update_config '.mounts[7].gidMappings = [{"containerID": 0, "hostID": 100000, "size": 10},
        {"containerID": 5, "hostID": 300000, "size": 10}]'
    fails_cleanly c2 'mounts[7].gidMappings[0] and mounts[7].gidMappings[1]' overlap
}

@test "a source whose filesystem cannot be idmapped is refused, nothing left behind" {
    with_userns
    update_config '.mounts += [{"destination": "/data", "type": "bind", "source": "/proc",
        "options": ["rbind", "ridmap"]}]'
    fails_cleanly c1 'mounts[7]' /proc 'does not support idmapped mounts'
}
