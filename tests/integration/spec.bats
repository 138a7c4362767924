#!/usr/bin/env bats
# husk spec writes the config.json `runc spec` writes (clients and test
# suites generate bundles with `RUNTIME spec` and edit them), byte for byte:
# compared with golden files derived from runc 1.1.5 (golden/derive.sh) and
# with the installed runc, apart from the two deliberate differences
# (ociVersion, hostname); and never overwrites an existing file.

load helpers

GOLDEN=$TOP_SRCDIR/tests/integration/golden

setup() {
    load_libs
    bats_require_minimum_version 1.5.0
    TEST_TMP=$(mktemp -d "${BATS_TEST_TMPDIR:-/tmp}/husk-spec.XXXXXX")
    cd "$TEST_TMP"
}

teardown() {
    cd /
    rm -rf "$TEST_TMP"
    [ -z "${OTHER_TMP:-}" ] || rm -rf "$OTHER_TMP"
}

# same_bytes A B: identical files, key order and layout included; shows a
# diff if not.
same_bytes() {
    cmp "$1" "$2" || { diff -u "$1" "$2"; return 1; }
}

# as_husk_writes RUNC_CONFIG: runc's output with the two lines husk writes
# on purpose differently (the spec version it implements, its own name), as
# golden/derive.sh rewrites them; fails if either line is not there.
as_husk_writes() {
    grep -q $'^\t"ociVersion": "[^"]*",$' "$1" && grep -q $'^\t"hostname": "runc",$' "$1" &&
        sed -e 's/^\t"ociVersion": "[^"]*",$/\t"ociVersion": "1.3.0",/' \
            -e 's/^\t"hostname": "runc",$/\t"hostname": "husk",/' "$1"
}

@test "husk spec writes ./config.json byte for byte as the golden runc spec output" {
    run --separate-stderr "$HUSK" spec
    assert_success
    [ -z "$output" ] && [ -z "$stderr" ]
    same_bytes "$GOLDEN/config.json" config.json
}

@test "husk spec --rootless is byte for byte the golden runc spec --rootless output" {
    [ "$(id -u)" = 0 ] || skip "the golden rootless file maps host id 0"
    run "$HUSK" spec --rootless
    assert_success
    same_bytes "$GOLDEN/config-rootless.json" config.json
}

@test "the two golden files differ exactly where runc's two configs differ" {
    # guards the golden files themselves: rootless drops the network
    # namespace and the device rule, adds a user namespace and mappings
    run jq -c '.linux.namespaces | map(.type)' "$GOLDEN/config.json"
    assert_output '["pid","network","ipc","uts","mount"]'
    run jq -c '.linux.namespaces | map(.type)' "$GOLDEN/config-rootless.json"
    assert_output '["pid","ipc","uts","mount","user"]'
    run jq -c '.linux.resources' "$GOLDEN/config-rootless.json"
    assert_output 'null'
    run jq -c '.mounts[] | select(.destination == "/sys")' "$GOLDEN/config-rootless.json"
    assert_output '{"destination":"/sys","type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]}'
}

@test "husk spec is the installed runc's output byte for byte, but for ociVersion and hostname" {
    command -v runc >/dev/null || skip "runc is not installed"
    mkdir runc husk
    (cd runc && runc spec)
    "$HUSK" spec -b husk
    as_husk_writes runc/config.json >runc/expected.json
    same_bytes runc/expected.json husk/config.json
    [ "$(jq -r .ociVersion husk/config.json)" = 1.3.0 ]
    [ "$(jq -r .hostname husk/config.json)" = husk ]
    rm runc/config.json husk/config.json
    (cd runc && runc spec --rootless)
    "$HUSK" spec --rootless -b husk
    as_husk_writes runc/config.json >runc/expected.json
    same_bytes runc/expected.json husk/config.json
}

@test "laid out as runc lays it out: tab indents, ': ' separators, no final newline" {
    "$HUSK" spec
    [ "$(head -c 1 config.json)" = "{" ]
    [ "$(tail -c 1 config.json)" = "}" ]
    grep -q $'^\t"ociVersion": "1.3.0",$' config.json
    grep -q $'^\t\t"terminal": true,$' config.json
    ! grep -q '^ ' config.json
    same_bytes "$GOLDEN/config.json" config.json
}

@test "-b, --bundle DIR and --bundle=DIR write DIR/config.json only" {
    mkdir b1 b2 b3
    run "$HUSK" spec -b b1
    assert_success
    run "$HUSK" spec --bundle "$TEST_TMP/b2"
    assert_success
    run "$HUSK" spec --bundle=b3/
    assert_success
    local d
    for d in b1 b2 b3; do
        same_bytes "$GOLDEN/config.json" "$d/config.json"
    done
    [ ! -e config.json ]
}

@test "refuses to overwrite an existing config.json: exit 1, file named, untouched" {
    printf 'my edited config' > config.json
    touch -d '2020-01-01 00:00:00' config.json
    local before
    before=$(stat -c '%s %Y %i' config.json)
    run --separate-stderr "$HUSK" spec
    assert_failure 1
    [ -z "$output" ]
    [[ "$stderr" == "husk: "*"config.json"*"already exists"* ]]
    [ "$(cat config.json)" = "my edited config" ]
    [ "$(stat -c '%s %Y %i' config.json)" = "$before" ]

    mkdir b
    echo '{}' > b/config.json
    run --separate-stderr "$HUSK" spec --rootless -b b
    assert_failure 1
    [[ "$stderr" == *"b/config.json"* ]]
    [ "$(cat b/config.json)" = '{}' ]
}

@test "a config.json symlink is neither followed nor replaced" {
    mkdir b
    ln -s "$TEST_TMP/target.json" b/config.json
    run --separate-stderr "$HUSK" spec -b b
    assert_failure 1
    [[ "$stderr" == *"b/config.json"* ]]
    [ ! -e target.json ]
    [ -L b/config.json ]
}

@test "a missing bundle directory: exit 1, the directory named, nothing created" {
    run --separate-stderr "$HUSK" spec -b "$TEST_TMP/no/such/dir"
    assert_failure 1
    [[ "$stderr" == *"$TEST_TMP/no/such/dir"* ]]
    [ ! -e "$TEST_TMP/no" ]
    echo file > notadir
    run --separate-stderr "$HUSK" spec -b notadir
    assert_failure 1
    [[ "$stderr" == *"notadir"* ]]
    [ "$(cat notadir)" = file ]
}

@test "an unwritable bundle directory is an error naming the file" {
    [ "$(id -u)" = 0 ] || skip "needs root to switch to another user"
    command -v setpriv >/dev/null || skip "setpriv is not installed"
    OTHER_TMP=$(mktemp -d /tmp/husk-spec-user.XXXXXX)
    chmod 0755 "$OTHER_TMP"
    cp "$HUSK" "$OTHER_TMP/husk"
    run --separate-stderr setpriv --reuid 65534 --regid 65534 --clear-groups \
        "$OTHER_TMP/husk" spec -b "$OTHER_TMP"
    assert_failure 1
    [[ "$stderr" == *"$OTHER_TMP/config.json"*"Permission denied"* ]]
    [ ! -e "$OTHER_TMP/config.json" ]
}

@test "--rootless maps container root to the caller's effective uid and gid" {
    [ "$(id -u)" = 0 ] || skip "needs root to switch to another user"
    command -v setpriv >/dev/null || skip "setpriv is not installed"
    OTHER_TMP=$(mktemp -d /tmp/husk-spec-user.XXXXXX)
    chmod 0777 "$OTHER_TMP"
    cp "$HUSK" "$OTHER_TMP/husk"
    run setpriv --reuid 4242 --regid 4343 --clear-groups "$OTHER_TMP/husk" spec --rootless -b "$OTHER_TMP"
    assert_success
    run jq -c '.linux.uidMappings, .linux.gidMappings' "$OTHER_TMP/config.json"
    assert_line --index 0 '[{"containerID":0,"hostID":4242,"size":1}]'
    assert_line --index 1 '[{"containerID":0,"hostID":4343,"size":1}]'
    # the rest is the golden rootless config, byte for byte (which maps 0)
    sed -e 's/^\t\t\t\t"hostID": 4242,$/\t\t\t\t"hostID": 0,/' \
        -e 's/^\t\t\t\t"hostID": 4343,$/\t\t\t\t"hostID": 0,/' "$OTHER_TMP/config.json" >mapped-to-0.json
    same_bytes "$GOLDEN/config-rootless.json" mapped-to-0.json
    [ "$(stat -c %u:%g "$OTHER_TMP/config.json")" = 4242:4343 ]
}

@test "config.json gets mode 0666 minus the umask" {
    (umask 022 && "$HUSK" spec)
    [ "$(stat -c %a config.json)" = 644 ]
    rm config.json
    (umask 077 && "$HUSK" spec)
    [ "$(stat -c %a config.json)" = 600 ]
}
