#!/usr/bin/env bats
# linux.devices: every type (c, b, u, p) with its major/minor, fileMode, uid
# and gid, checked with stat inside; paths outside /dev; bad entries
# refused with an error naming the field, leaving nothing behind.

load helpers

setup() {
    load_libs
    setup_bundle
}

teardown() {
    teardown_bundle
}

# devices JSON: sets linux.devices.
devices() {
    update_config ".linux.devices = $1"
}

@test "linux.devices: c, b, u and p with mode, uid and gid, as stat sees them inside" {
    devices '[{"path": "/dev/mychar", "type": "c", "major": 1, "minor": 5, "fileMode": 416, "uid": 1000, "gid": 1001},
              {"path": "/dev/myblk", "type": "b", "major": 7, "minor": 0, "fileMode": 384},
              {"path": "/dev/myunbuf", "type": "u", "major": 1, "minor": 7, "fileMode": 438, "uid": 5, "gid": 6},
              {"path": "/dev/mypipe", "type": "p", "fileMode": 420}]'
    set_sh "stat -c '%n %F %t:%T %a %u:%g' /dev/mychar /dev/myblk /dev/myunbuf /dev/mypipe"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line '/dev/mychar character special file 1:5 640 1000:1001'
    assert_line '/dev/myblk block special file 7:0 600 0:0'
    assert_line '/dev/myunbuf character special file 1:7 666 5:6'
    assert_line '/dev/mypipe fifo 0:0 644 0:0'
    assert_nothing_left c1
}

@test "linux.devices: a path outside /dev, in a directory husk makes, is allowed" {
    devices '[{"path": "/opt/devs/zero2", "type": "c", "major": 1, "minor": 5}]'
    set_sh "stat -c '%F %t:%T %a' /opt/devs/zero2; head -c 3 /opt/devs/zero2 | od -An -tx1"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 'character special file 1:5 666'
    assert_line --index 1 ' 00 00 00'
    assert_nothing_left c1
}

@test "linux.devices: a file the rootfs planted at the path is replaced by the node" {
    update_config 'del(.mounts[] | select(.destination == "/dev"))'
    echo planted > "$BUNDLE/rootfs/dev/mychar"
    ln -sf /etc/passwd "$BUNDLE/rootfs/dev/mylink"
    devices '[{"path": "/dev/mychar", "type": "c", "major": 1, "minor": 3},
              {"path": "/dev/mylink", "type": "c", "major": 1, "minor": 3}]'
    set_sh "stat -c '%F %t:%T' /dev/mychar /dev/mylink"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" "$(printf 'character special file 1:3\ncharacter special file 1:3')"
    assert_nothing_left c1
}

@test "linux.devices: an unknown type is refused naming linux.devices[N].type" {
    devices '[{"path": "/dev/ok", "type": "c", "major": 1, "minor": 3},
              {"path": "/dev/bad", "type": "x", "major": 1, "minor": 3}]'
    hrun run --bundle "$BUNDLE" c1
    assert_failure
    [[ "$stderr" == *'linux.devices[1].type'*'`x`'* ]]
    assert_nothing_left c1
}

@test "linux.devices: relative and .. paths are refused naming linux.devices[N].path" {
    local p
    for p in dev/rel /dev/../etc/evil /dev/sub/.. ../x; do
        devices "[{\"path\": \"$p\", \"type\": \"c\", \"major\": 1, \"minor\": 3}]"
        hrun run --bundle "$BUNDLE" c1
        assert_failure
        [[ "$stderr" == *'linux.devices[0].path'* ]]
        assert_nothing_left c1
    done
    [ ! -e "$BUNDLE/rootfs/etc/evil" ]
}

@test "linux.devices: type c without major is refused naming linux.devices[N].major" {
    devices '[{"path": "/dev/nomajor", "type": "c"}]'
    hrun run --bundle "$BUNDLE" c1
    assert_failure
    [[ "$stderr" == *'linux.devices[0].major'* ]]
    assert_nothing_left c1
}

@test "linux.devices in a user namespace: the host's node is bind-mounted" {
    update_config '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]'
    set_sh "stat -c '%F %t:%T' /dev/kmsg /dev/null; grep -c ' /dev/kmsg ' /proc/self/mountinfo"
    local d=$BUNDLE
    while [ "$d" != / ]; do
        [ "$(stat -c %A "$d" | cut -c10)" = x ] || chmod o+x "$d"
        d=$(dirname "$d")
    done
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" "$(printf 'character special file 1:b\ncharacter special file 1:3\n1')"
    assert_nothing_left c1
}

@test "linux.devices in a user namespace: a host node that is not the device asked for is refused" {
    update_config '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 12}]'
    local d=$BUNDLE
    while [ "$d" != / ]; do
        [ "$(stat -c %A "$d" | cut -c10)" = x ] || chmod o+x "$d"
        d=$(dirname "$d")
    done
    hrun run --bundle "$BUNDLE" c1
    assert_failure
    [[ "$stderr" == *'linux.devices[0]'*'/dev/kmsg'*'1:12'* ]]
    assert_nothing_left c1
}

@test "/dev without a terminal: no /dev/console; the default nodes, /dev/shm and /dev/pts work" {
    set_sh 'test -e /dev/console && echo has-console
        head -c 3 /dev/urandom | wc -c; head -c 3 /dev/random | wc -c
        echo x 2>/dev/null > /dev/full || echo full-refused
        echo in-shm > /dev/shm/f && cat /dev/shm/f
        stat -c "%F %t:%T" /dev/pts/ptmx; ls /dev/pts | tr "\n" " "; echo
        readlink /dev/core'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    refute_line has-console
    assert_equal "${lines[0]}" 3
    assert_equal "${lines[1]}" 3
    assert_line full-refused
    assert_line in-shm
    assert_line "character special file 5:2"
    assert_line "ptmx "
    assert_line /proc/kcore
    assert_nothing_left c1
}
