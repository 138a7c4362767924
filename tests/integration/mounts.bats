#!/usr/bin/env bats
# Recursive mount attributes (rro, rnosuid, ... through mount_setattr with
# AT_RECURSIVE): a host dir with a submount, rbind-mounted into the
# container; the attribute must reach the submount inside and leave the
# host's mounts as they were.

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
