#!/usr/bin/env bats
# The mounts[] option language, as the container sees it in
# /proc/self/mountinfo and in what it can do (write, exec, see a submount):
# first the recursive attributes (rro, rnosuid, ... through mount_setattr
# with AT_RECURSIVE) on a host dir with a submount, rbind-mounted into the
# container, which must reach the submount inside and leave the host's
# mounts as they were; then bind/rbind, flags, atime modes, propagation,
# tmpfs, sysfs, devpts, mqueue, cgroup, overlay, rootfsPropagation and bad
# options or types (refused naming the field, nothing left behind). The
# default mounts and root.readonly are in run.bats.

load helpers

setup() {
    load_libs
    setup_bundle
    SRC=$TEST_TMP/rdir
    mkdir -p "$SRC/sub"
    echo top > "$SRC/top-file"
    # The submount; teardown_bundle unmounts every mount under $TEST_TMP.
    mount -t tmpfs -o size=1m husk-test-sub "$SRC/sub"
    echo sub > "$SRC/sub/sub-file"
}

teardown() {
    umount "$SRC/sub" 2>/dev/null || true
    teardown_bundle
}

# rbind_with OPTIONS_JSON: mounts $SRC on /r with those options.
rbind_with() {
    jq --arg s "$SRC" --argjson o "$1" \
        '.mounts += [{"destination": "/r", "type": "bind", "source": $s, "options": $o}]' \
        "$BUNDLE/config.json" > "$BUNDLE/config.json.new" &&
        mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# The per-mount options of /r and /r/sub, as the container sees them.
OPTS_SCRIPT='awk '"'"'$5 == "/r" || $5 == "/r/sub" { print $5, $6 }'"'"' /proc/self/mountinfo'

host_sub_opts() {
    awk -v mp="$SRC/sub" '$5 == mp { print $6 }' /proc/self/mountinfo
}

@test "rro: an rbind's submount is read-only inside, still writable on the host" {
    local before
    before=$(host_sub_opts)
    rbind_with '["rbind", "rro"]'
    set_sh "touch /r/x 2>/dev/null && echo top-writable; touch /r/sub/x 2>/dev/null && echo sub-writable; cat /r/sub/sub-file; $OPTS_SCRIPT"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    refute_line top-writable
    refute_line sub-writable
    assert_line sub
    assert_line --regexp '^/r ro,'
    assert_line --regexp '^/r/sub ro,'
    assert_equal "$(host_sub_opts)" "$before"
    touch "$SRC/sub/host-can-write"
    assert_no_state c1
    assert_no_process
}

@test "ro (not recursive) leaves the rbind's submount writable: rro is what reaches it" {
    rbind_with '["rbind", "ro"]'
    set_sh "touch /r/x 2>/dev/null && echo top-writable; touch /r/sub/x 2>/dev/null && echo sub-writable; true"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output sub-writable
}

@test "rnosuid rnodev rnoexec rnosymfollow rnoatime reach the submount" {
    rbind_with '["rbind", "rnosuid", "rnodev", "rnoexec", "rnosymfollow", "rnoatime"]'
    set_sh "$OPTS_SCRIPT"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    local o
    for o in nosuid nodev noexec nosymfollow noatime; do
        [[ "${lines[0]}" == *"$o"* ]] || { echo "/r lacks $o: ${lines[0]}"; return 1; }
        [[ "${lines[1]}" == *"$o"* ]] || { echo "/r/sub lacks $o: ${lines[1]}"; return 1; }
    done
    [[ "$(host_sub_opts)" != *noexec* ]]
}

@test "the later recursive option wins: rro then rrw, rnoatime then rstrictatime" {
    rbind_with '["rbind", "rro", "rrw", "rnoatime", "rstrictatime"]'
    set_sh "touch /r/sub/x && echo sub-writable; $OPTS_SCRIPT"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line sub-writable
    assert_line --regexp '^/r/sub rw(,|$)'
    refute_line --regexp '^/r/sub .*(noatime|relatime)'
}

@test "rrelatime, rnodiratime and rexec/rdev/rsuid on a mount with the opposite flags" {
    rbind_with '["rbind", "noexec", "nodev", "nosuid", "rexec", "rdev", "rsuid", "rrelatime", "rnodiratime"]'
    set_sh "$OPTS_SCRIPT"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    [[ "${lines[0]}" == *relatime* && "${lines[0]}" == *nodiratime* ]]
    [[ "${lines[1]}" == *relatime* && "${lines[1]}" == *nodiratime* ]]
    [[ "${lines[0]}" != *noexec* && "${lines[0]}" != *nodev* && "${lines[0]}" != *nosuid* ]]
}

@test "nosymfollow (not recursive) is a mount flag, not filesystem data" {
    ln -s top-file "$SRC/link"
    rbind_with '["bind", "nosymfollow"]'
    set_sh "cat /r/top-file; cat /r/link 2>/dev/null || echo refused"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_equal "$output" "$(printf 'top\nrefused')"
}

# ---- the option language, one mount type at a time ----

# assert_clean [ID...]: assert_clean, but for the setup's own
# submount of $SRC, which teardown removes.
assert_clean() {
    assert_no_state "$@" && assert_no_cgroup && assert_no_process || return 1
    local left
    left=$(test_mounts | grep -vxF "$SRC/sub" || true)
    [ -z "$left" ] || { echo "mounts left behind: $left" >&2; return 1; }
}

# add_mount DEST TYPE SOURCE OPTIONS_JSON: appends a mount to the config.
add_mount() {
    jq --arg d "$1" --arg t "$2" --arg s "$3" --argjson o "$4" \
        '.mounts += [{"destination": $d, "type": $t, "source": $s, "options": $o}]' \
        "$BUNDLE/config.json" > "$BUNDLE/config.json.new" &&
        mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# The container prints its mountinfo after a line "--mountinfo--".
MI='echo --mountinfo--; cat /proc/self/mountinfo'

# mi FIELD MOUNTPOINT: from the mountinfo the last hrun printed, for the
# last mount on MOUNTPOINT: "opts" (per-mount options), "tags" (the
# optional fields: shared:N master:N unbindable), "root", "fstype" or
# "super" (the filesystem's options).
mi() {
    sed -n '/^--mountinfo--$/,$p' <<<"$output" | awk -v mp="$2" -v want="$1" '
        $5 == mp {
            tags = ""
            for (i = 7; $i != "-"; i++) tags = tags " " $i
            if (want == "opts") r = $6
            else if (want == "tags") r = substr(tags, 2)
            else if (want == "root") r = $4
            else if (want == "fstype") r = $(i + 1)
            else if (want == "super") r = $(i + 3)
        }
        END { print r }'
}

# has_opt LIST OPT: OPT is one of the comma-separated LIST.
has_opt() {
    [[ ",$1," == *",$2,"* ]]
}

@test "bind shows the source without its submount; rbind brings the submount along" {
    rbind_with '["bind"]'
    set_sh "cat /r/top-file; cat /r/sub/sub-file 2>/dev/null || echo no-sub; $MI"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line top
    assert_line no-sub
    assert_equal "$(mi fstype /r/sub)" ""

    jq '.mounts[-1].options = ["rbind"]' "$BUNDLE/config.json" > "$BUNDLE/c.new" && mv "$BUNDLE/c.new" "$BUNDLE/config.json"
    hrun run --bundle "$BUNDLE" c2
    assert_success
    assert_line sub
    assert_equal "$(mi fstype /r/sub)" tmpfs
    assert_clean c1 c2
}

@test "ro and rw on a tmpfs; nosuid, nodev, noexec in mountinfo; exec on a noexec mount fails" {
    # busybox runs the applet its name says
    cp "$BUNDLE/rootfs/bin/busybox" "$SRC/true"
    add_mount /ro tmpfs tmpfs '["ro"]'
    add_mount /rw tmpfs tmpfs '["ro", "rw"]'
    add_mount /nx tmpfs tmpfs '["nosuid", "nodev", "noexec"]'
    add_mount /x tmpfs tmpfs '["noexec", "exec"]'
    add_mount /bnx bind "$SRC" '["bind", "noexec", "nosuid", "nodev"]'
    add_mount /bx bind "$SRC" '["bind"]'
    set_sh "touch /ro/f 2>/dev/null && echo ro-writable; touch /rw/f && echo rw-ok
        cp /bin/busybox /nx/true; cp /bin/busybox /x/true
        /nx/true 2>/dev/null && echo nx-ran; /x/true && echo x-ran
        /bnx/true 2>/dev/null && echo bnx-ran; /bx/true && echo bx-ran
        $MI"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    refute_line ro-writable
    assert_line rw-ok
    refute_line nx-ran
    assert_line x-ran
    refute_line bnx-ran
    assert_line bx-ran
    has_opt "$(mi opts /ro)" ro
    has_opt "$(mi opts /rw)" rw
    local mp o
    for mp in /nx /bnx; do
        for o in nosuid nodev noexec; do
            has_opt "$(mi opts $mp)" $o || fail "$mp lacks $o: $(mi opts $mp)"
        done
    done
    ! has_opt "$(mi opts /x)" noexec
    ! has_opt "$(mi opts /bx)" noexec
    # The bind mount's flags stay in the container: the host's dir is as it was.
    ! grep -q " $SRC .*noexec" /proc/self/mountinfo
    assert_clean c1
}

@test "atime options: relatime, noatime, strictatime, norelatime, nodiratime; the later one wins" {
    add_mount /relatime tmpfs tmpfs '["relatime"]'
    add_mount /noatime tmpfs tmpfs '["noatime"]'
    add_mount /strictatime tmpfs tmpfs '["strictatime"]'
    add_mount /norelatime tmpfs tmpfs '["norelatime"]'
    add_mount /nodiratime tmpfs tmpfs '["nodiratime"]'
    add_mount /noatime-strict tmpfs tmpfs '["noatime", "strictatime"]'
    add_mount /strict-relatime tmpfs tmpfs '["strictatime", "relatime"]'
    add_mount /bind-noatime bind "$SRC" '["bind", "noatime"]'
    set_sh "$MI"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    has_opt "$(mi opts /relatime)" relatime
    has_opt "$(mi opts /noatime)" noatime
    has_opt "$(mi opts /bind-noatime)" noatime
    has_opt "$(mi opts /nodiratime)" nodiratime
    has_opt "$(mi opts /strict-relatime)" relatime
    local mp
    for mp in /strictatime /norelatime /noatime-strict; do
        ! has_opt "$(mi opts $mp)" relatime || fail "$mp: $(mi opts $mp)"
        ! has_opt "$(mi opts $mp)" noatime || fail "$mp: $(mi opts $mp)"
    done
    # strictatime: a read updates the access time.
    set_sh 'echo x > /strictatime/f; touch -a -d "2001-01-01" /strictatime/f; cat /strictatime/f >/dev/null; stat -c %X /strictatime/f'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    [ "$output" -gt 978307200 ]
}

# shared:N of a mount (empty if none).
peer_group() {
    mi tags "$1" | tr ' ' '\n' | sed -n 's/^shared://p'
}

master_of() {
    mi tags "$1" | tr ' ' '\n' | sed -n 's/^master://p'
}

@test "propagation: shared, slave, private, unbindable as mountinfo shows them, and a mount propagating" {
    # /q binds the container's /p (reached through the rootfs on the host
    # side) and becomes its slave: a mount made under /p shows under /q.
    add_mount /p tmpfs tmpfs '["shared"]'
    add_mount /q bind "$BUNDLE/rootfs/p" '["bind", "slave"]'
    add_mount /v tmpfs tmpfs '["private"]'
    add_mount /u tmpfs tmpfs '["unbindable"]'
    update_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN"]
        | .process.capabilities.effective += ["CAP_SYS_ADMIN"]
        | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
    set_sh "mkdir /p/m && mount -t tmpfs -o size=1k late /p/m && echo x > /p/m/f; cat /q/m/f 2>/dev/null || echo not-propagated; $MI"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line x
    local p
    p=$(peer_group /p)
    [ -n "$p" ] || fail "/p is not shared: $(mi tags /p)"
    assert_equal "$(master_of /q)" "$p"
    assert_equal "$(peer_group /q)" ""
    assert_equal "$(mi tags /v)" ""
    assert_equal "$(mi tags /u)" unbindable
    assert_clean c1
}

@test "propagation: rshared, rslave, rprivate, runbindable reach the submount; the plain ones do not" {
    add_mount /p tmpfs tmpfs '["rshared"]'
    add_mount /p/sub tmpfs tmpfs '["shared"]'
    add_mount /rslave bind "$BUNDLE/rootfs/p" '["rbind", "rslave"]'
    add_mount /slave bind "$BUNDLE/rootfs/p" '["rbind", "slave"]'
    add_mount /rprivate bind "$BUNDLE/rootfs/p" '["rbind", "rprivate"]'
    add_mount /private bind "$BUNDLE/rootfs/p" '["rbind", "private"]'
    add_mount /runbindable bind "$BUNDLE/rootfs/p" '["rbind", "runbindable"]'
    set_sh "$MI"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    local p s
    p=$(peer_group /p)
    s=$(peer_group /p/sub)
    [ -n "$p" ] && [ -n "$s" ] || fail "/p, /p/sub not shared: $(mi tags /p) / $(mi tags /p/sub)"
    assert_equal "$(mi tags /rslave)" "master:$p"
    assert_equal "$(mi tags /rslave/sub)" "master:$s"
    assert_equal "$(mi tags /slave)" "master:$p"
    assert_equal "$(mi tags /slave/sub)" "shared:$s"
    assert_equal "$(mi tags /rprivate)" ""
    assert_equal "$(mi tags /rprivate/sub)" ""
    assert_equal "$(mi tags /private)" ""
    assert_equal "$(mi tags /private/sub)" "shared:$s"
    assert_equal "$(mi tags /runbindable)" unbindable
    assert_equal "$(mi tags /runbindable/sub)" unbindable
}

@test "linux.rootfsPropagation: rshared and runbindable on /, as mountinfo shows inside" {
    update_config '.linux.rootfsPropagation = "rshared"'
    set_sh "$MI"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    [ -n "$(peer_group /)" ] || fail "/ is not shared: $(mi tags /)"
    [ -n "$(peer_group /proc)" ] || fail "/proc is not shared: $(mi tags /proc)"

    update_config '.linux.rootfsPropagation = "runbindable"'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    assert_equal "$(mi tags /)" unbindable
    assert_equal "$(mi tags /proc)" unbindable
    assert_clean c1 c2
}

@test "linux.rootfsPropagation: an unknown value is refused naming the field, nothing left" {
    update_config '.linux.rootfsPropagation = "sideways"'
    hrun run --bundle "$BUNDLE" c1
    assert_failure
    output=$stderr
    assert_output --partial 'linux.rootfsPropagation'
    assert_output --partial 'sideways'
    assert_clean c1
}

@test "tmpfs: size, mode, uid and gid as stat and df see them" {
    add_mount /t tmpfs tmpfs '["size=2m", "mode=0710", "uid=1234", "gid=567", "nr_inodes=100"]'
    set_sh "stat -c '%u:%g %a' /t; df -k /t | awk 'NR == 2 { print \$2 }'; $MI"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 "1234:567 710"
    assert_line --index 1 2048
    local super
    super=$(mi super /t)
    has_opt "$super" size=2048k || fail "$super"
    has_opt "$super" nr_inodes=100 || fail "$super"
}

@test "sysfs is read-only without a new network namespace, writable with one" {
    update_config '(.mounts[] | select(.type == "sysfs") | .options) = ["nosuid", "noexec", "nodev"]'
    set_sh "ls /sys/class/net | sort | tr '\n' ' '; echo; $MI"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 'lo '
    has_opt "$(mi opts /sys)" rw || fail "/sys: $(mi opts /sys)"

    update_config '.linux.namespaces |= map(select(.type != "network"))'
    hrun run --bundle "$BUNDLE" c2
    assert_success
    assert_line --index 0 "$(ls /sys/class/net | sort | tr '\n' ' ')"
    has_opt "$(mi opts /sys)" ro || fail "/sys is writable without a new netns: $(mi opts /sys)"
    assert_clean c1 c2
}

@test "sysfs in a user namespace without a new network namespace: the host's /sys, read-only" {
    update_config '.linux.namespaces = (.linux.namespaces | map(select(.type != "network"))) + [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | (.mounts[] | select(.type == "sysfs") | .options) = ["nosuid", "noexec", "nodev"]
        | .mounts |= map(select(.type != "cgroup"))'
    chown -R 100000:100000 "$BUNDLE/rootfs"
    local d=$BUNDLE
    while [ "$d" != / ]; do
        [ "$(stat -c %A "$d" | cut -c10)" = x ] || chmod o+x "$d"
        d=$(dirname "$d")
    done
    set_sh "ls /sys/class/net | sort | tr '\n' ' '; echo; $MI"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 "$(ls /sys/class/net | sort | tr '\n' ' ')"
    has_opt "$(mi opts /sys)" ro || fail "/sys: $(mi opts /sys)"
    # The host's mounts under /sys came along, read-only too.
    [ -n "$(mi opts /sys/fs/cgroup)" ] || fail "no /sys/fs/cgroup submount"
    local writable
    writable=$(sed -n '/^--mountinfo--$/,$p' <<<"$output" |
        awk '$5 ~ "^/sys(/|$)" && ("," $6 ",") !~ /,ro,/ { print $5, $6 }')
    [ -z "$writable" ] || fail "writable under /sys: $writable"
    assert_clean c1
}

@test "devpts: newinstance with ptmxmode=0666, mode and gid; mqueue of the new ipc namespace" {
    set_sh "ls /dev/pts | tr '\n' ' '; echo; stat -c %a /dev/pts/ptmx; ls -A /dev/mqueue | wc -l; $MI"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    # A new instance: none of the host's ptys.
    assert_line --index 0 'ptmx '
    assert_line --index 1 666
    assert_line --index 2 0
    local super
    super=$(mi super /dev/pts)
    has_opt "$super" ptmxmode=666 || fail "$super"
    has_opt "$super" mode=620 || fail "$super"
    has_opt "$super" gid=5 || fail "$super"
    assert_equal "$(mi fstype /dev/mqueue)" mqueue
    has_opt "$(mi opts /dev/mqueue)" nodev
}

@test "cgroup mount with a cgroup namespace: the hierarchies mounted afresh at the namespace's root" {
    update_config '.linux.namespaces += [{"type": "cgroup"}]'
    if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
        # cgroup v2: one tree.
        set_sh "cat /proc/self/cgroup; cat /sys/fs/cgroup/cgroup.procs | tr '\\n' ' '; echo; $MI"
        hrun run --bundle "$BUNDLE" c1
        assert_success
        assert_line '0::/'
        assert_line --regexp '(^| )1( |$)'
        assert_equal "$(mi fstype /sys/fs/cgroup)" cgroup2
        assert_equal "$(mi root /sys/fs/cgroup)" /
        has_opt "$(mi opts /sys/fs/cgroup)" ro
    else
        # cgroup v1: a tmpfs with one mount per hierarchy.
        set_sh "cat /proc/self/cgroup; ls /sys/fs/cgroup | tr '\\n' ' '; echo; cat /sys/fs/cgroup/pids/cgroup.procs | tr '\\n' ' '; echo; $MI"
        hrun run --bundle "$BUNDLE" c1
        assert_success
        assert_line --regexp '^[0-9]+:pids:/$'
        assert_line --regexp '(^| )pids( |$)'
        assert_line --regexp '(^| )1( |$)'
        assert_equal "$(mi fstype /sys/fs/cgroup)" tmpfs
        assert_equal "$(mi fstype /sys/fs/cgroup/pids)" cgroup
        assert_equal "$(mi root /sys/fs/cgroup/pids)" /
        has_opt "$(mi opts /sys/fs/cgroup/pids)" ro
        has_opt "$(mi super /sys/fs/cgroup/pids)" pids
        if [ -d /sys/fs/cgroup/cpu,cpuacct ]; then
            assert_line --regexp '(^| )cpu( |$)'
        fi
    fi
    refute_output --partial "/husk-test/$CG_NAME"
    assert_clean c1
}

@test "overlay: lowerdir, upperdir, workdir; writes land in upperdir, lowerdir stays" {
    mkdir -p "$TEST_TMP/lower" "$TEST_TMP/upper" "$TEST_TMP/work"
    echo low > "$TEST_TMP/lower/l"
    add_mount /ov overlay overlay "[\"lowerdir=$TEST_TMP/lower\", \"upperdir=$TEST_TMP/upper\", \"workdir=$TEST_TMP/work\"]"
    set_sh "cat /ov/l; echo new > /ov/n; echo changed > /ov/l; $MI"
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_line --index 0 low
    assert_equal "$(mi fstype /ov)" overlay
    assert_equal "$(cat "$TEST_TMP/upper/n")" new
    assert_equal "$(cat "$TEST_TMP/upper/l")" changed
    assert_equal "$(cat "$TEST_TMP/lower/l")" low
    [ ! -e "$TEST_TMP/lower/n" ]
    assert_clean c1
}

@test "an unknown filesystem option is refused naming mounts[N].options and the option" {
    local n
    n=$(jq '.mounts | length' "$BUNDLE/config.json")
    add_mount /t tmpfs tmpfs '["nosuid", "size=1m", "bogus-opt"]'
    hrun run --bundle "$BUNDLE" c1
    assert_failure
    output=$stderr
    assert_output --partial "mounts[$n].options"
    assert_output --partial bogus-opt
    refute_output --partial size=1m
    assert_clean c1
}

@test "an unknown option on a bind mount is refused, not dropped" {
    local n
    n=$(jq '.mounts | length' "$BUNDLE/config.json")
    rbind_with '["rbind", "ro", "nosuchopt"]'
    hrun run --bundle "$BUNDLE" c1
    assert_failure
    output=$stderr
    assert_output --partial "mounts[$n].options"
    assert_output --partial nosuchopt
    assert_clean c1
}

@test "a mount type the kernel does not have is refused naming mounts[N].type" {
    local n
    n=$(jq '.mounts | length' "$BUNDLE/config.json")
    add_mount /t nosuchfs none '[]'
    hrun run --bundle "$BUNDLE" c1
    assert_failure
    output=$stderr
    assert_output --partial "mounts[$n].type"
    assert_output --partial nosuchfs
    assert_clean c1
}
