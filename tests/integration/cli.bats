#!/usr/bin/env bats
# The command line itself: --version, --help, global flags, usage errors and
# their exit statuses (runc's: 1 for a bad flag or value, 3 for an unknown
# command), and the --log file that conmon and containerd read.

load helpers

setup() {
    load_libs
    bats_require_minimum_version 1.5.0
    TEST_TMP=$(mktemp -d "${BATS_TEST_TMPDIR:-/tmp}/husk-cli.XXXXXX")
}

teardown() {
    rm -rf "$TEST_TMP"
}

@test "--version: version, commit, spec and compiled-in features" {
    run --separate-stderr "$HUSK" --version
    assert_success
    assert_line --index 0 --regexp '^husk version [0-9]+\.[0-9]+\.[0-9]+$'
    assert_line --index 1 --regexp '^commit: ([0-9a-f]{7,40}|unknown)$'
    assert_line --index 2 'spec: 1.3.0'
    assert_line --regexp '^libseccomp: [0-9]+\.[0-9]+\.[0-9]+$'
    # required libraries are always in; optional ones are + or -
    assert_line --regexp '^\+SECCOMP [+-]SELINUX [+-]APPARMOR \+CAP [+-]SYSTEMD \+YAJL$'
    [ -z "$stderr" ]
}

@test "-v is --version" {
    run "$HUSK" --version
    local long=$output
    run "$HUSK" -v
    assert_success
    assert_equal "$output" "$long"
}

@test "--version reports the commit the tree is at" {
    git -C "$TOP_SRCDIR" rev-parse HEAD >/dev/null 2>&1 || skip "not a git checkout"
    run "$HUSK" --version
    local commit
    commit=$(sed -n 's/^commit: //p' <<<"$output")
    [ "$(git -C "$TOP_SRCDIR" rev-parse --short=12 HEAD)" = "$commit" ]
}

@test "--help lists every command and the global flags, on stdout" {
    run --separate-stderr "$HUSK" --help
    assert_success
    assert_line --regexp '^Usage: husk '
    assert_line --regexp '^  spec +'
    assert_line --regexp '^  features +'
    local flag
    for flag in --root --log --log-format --log-level --debug --systemd-cgroup --cgroup-manager \
        --rootless --version --help; do
        assert_output --regexp "(  |, )$flag( |$)"
    done
    assert_output --partial "(default /run/husk)"
    [ -z "$stderr" ]
}

@test "-h, 'help' and no command at all print the same help" {
    run "$HUSK" --help
    local help=$output
    run "$HUSK" -h
    assert_success
    assert_equal "$output" "$help"
    run "$HUSK" help
    assert_success
    assert_equal "$output" "$help"
    run "$HUSK"
    assert_success
    assert_equal "$output" "$help"
}

@test "every command in the help answers --help with its own usage" {
    run "$HUSK" --help
    local cmds
    cmds=$(sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p' <<<"$output" | grep -vx help)
    [ -n "$cmds" ]
    local cmd
    for cmd in $cmds; do
        run --separate-stderr "$HUSK" "$cmd" --help
        [ "$status" -eq 0 ] || fail "husk $cmd --help exited $status: $stderr"
        [[ "$output" == "Usage: husk $cmd"* ]] || fail "husk $cmd --help: no usage line: $output"
        local direct=$output
        run "$HUSK" help "$cmd"
        assert_success
        assert_equal "$output" "$direct"
    done
}

@test "spec --help and features --help document their flags" {
    run "$HUSK" spec --help
    assert_success
    assert_output --partial '-b, --bundle DIR'
    assert_output --partial '--rootless'
    run "$HUSK" features -h
    assert_success
    assert_line --index 0 'Usage: husk features'
}

@test "unknown command: exit 3, the word named on stderr, nothing on stdout" {
    run --separate-stderr "$HUSK" frobnicate
    assert_failure 3
    [ -z "$output" ]
    [[ "$stderr" == *"unknown command \`frobnicate\`"* ]]
    run --separate-stderr "$HUSK" help frobnicate
    assert_failure 3
    [[ "$stderr" == *"frobnicate"* ]]
}

@test "unknown global flag: exit 1, the flag named" {
    run --separate-stderr "$HUSK" --frobnicate spec
    assert_failure 1
    [[ "$stderr" == *"unknown flag \`--frobnicate\`"* ]]
    [[ "$stderr" == *"husk --help"* ]]
    run --separate-stderr "$HUSK" --frobnicate=yes spec
    assert_failure 1
    [[ "$stderr" == *"unknown flag \`--frobnicate\`"* ]]
    run --separate-stderr "$HUSK" -Z spec
    assert_failure 1
    [[ "$stderr" == *"unknown flag \`-Z\`"* ]]
}

@test "unknown command flag: exit 1, the command and the flag named" {
    cd "$TEST_TMP"
    run --separate-stderr "$HUSK" spec --frobnicate
    assert_failure 1
    [[ "$stderr" == *"husk spec: unknown flag \`--frobnicate\`"* ]]
    [[ "$stderr" == *"husk spec --help"* ]]
    run --separate-stderr "$HUSK" features -q
    assert_failure 1
    [[ "$stderr" == *"husk features: unknown flag \`-q\`"* ]]
    # a flag that takes no value, given one
    run --separate-stderr "$HUSK" spec --rootless=yes
    assert_failure 1
    [[ "$stderr" == *"\`--rootless\` takes no value"* ]]
    [ ! -e "$TEST_TMP/config.json" ]
}

@test "unexpected arguments are refused, named" {
    run --separate-stderr "$HUSK" features extra
    assert_failure 1
    [[ "$stderr" == *"unexpected argument \`extra\`"* ]]
    cd "$TEST_TMP"
    run --separate-stderr "$HUSK" spec extra
    assert_failure 1
    [[ "$stderr" == *"unexpected argument \`extra\`"* ]]
    [ ! -e "$TEST_TMP/config.json" ]
}

@test "a flag without its value: exit 1, the flag named" {
    run --separate-stderr "$HUSK" --root
    assert_failure 1
    [[ "$stderr" == *"flag \`--root\` needs a value"* ]]
    run --separate-stderr "$HUSK" spec --bundle
    assert_failure 1
    [[ "$stderr" == *"flag \`--bundle\` needs a value"* ]]
    run --separate-stderr "$HUSK" spec -b
    assert_failure 1
    [[ "$stderr" == *"flag \`-b\` needs a value"* ]]
}

@test "bad global flag values: exit 1, the value named" {
    local args
    for args in "--log-format xml" "--log-level loud" "--cgroup-manager upstart" "--rootless maybe"; do
        # shellcheck disable=SC2086
        run --separate-stderr "$HUSK" $args features
        [ "$status" -eq 1 ] || fail "husk $args: exit $status"
        [[ "$stderr" == *"\`${args#* }\`"* ]] || fail "husk $args: value not named: $stderr"
        [ -z "$output" ] || fail "husk $args: printed $output"
    done
    run --separate-stderr "$HUSK" --root= features
    assert_failure 1
    [[ "$stderr" == *"--root"* ]]
}

@test "every global flag is accepted, as --flag value and as --flag=value" {
    run --separate-stderr "$HUSK" --root "$TEST_TMP/state" --log "$TEST_TMP/a.log" \
        --log-format json --log-level info --debug --systemd-cgroup --cgroup-manager systemd \
        --rootless false features
    assert_success
    jq -e '.ociVersionMax' <<<"$output" >/dev/null
    run --separate-stderr "$HUSK" --root="$TEST_TMP/state" --log="$TEST_TMP/b.log" \
        --log-format=text --log-level=error --cgroup-manager=disabled --rootless=auto features
    assert_success
    jq -e '.ociVersionMax' <<<"$output" >/dev/null
    run "$HUSK" --cgroup-manager cgroupfs --rootless true features
    assert_success
}

@test "--systemd-cgroup contradicting --cgroup-manager is refused" {
    run --separate-stderr "$HUSK" --systemd-cgroup --cgroup-manager cgroupfs features
    assert_failure 1
    [[ "$stderr" == *"--systemd-cgroup"* && "$stderr" == *"cgroupfs"* ]]
}

@test "flags after the command belong to the command" {
    # --rootless is a global flag taking a value, and a spec flag taking none
    mkdir "$TEST_TMP/b"
    run "$HUSK" spec --rootless -b "$TEST_TMP/b"
    assert_success
    jq -e '.linux.namespaces | map(.type) | index("user")' "$TEST_TMP/b/config.json"
}

@test "--log FILE --log-format json: errors logged as one JSON object per line" {
    local log=$TEST_TMP/husk.log
    echo '{"level":"info","msg":"earlier","time":"x"}' > "$log"
    run --separate-stderr "$HUSK" --log "$log" --log-format json frobnicate
    assert_failure 3
    [[ "$stderr" == *frobnicate* ]]
    cd "$TEST_TMP"
    echo keep > config.json
    run --separate-stderr "$HUSK" --log "$log" --log-format json spec
    assert_failure 1
    # appended, every line a JSON object
    [ "$(wc -l <"$log")" -eq 3 ]
    jq -e . "$log" >/dev/null
    run jq -r 'select(.msg != "earlier") | .level' "$log"
    assert_output $'error\nerror'
    run jq -r 'select(.msg != "earlier") | .msg' "$log"
    assert_line --index 0 --partial 'frobnicate'
    assert_line --index 1 --partial 'config.json" already exists'
    # RFC 3339 UTC with nanoseconds, as runc writes
    run jq -r 'select(.msg != "earlier") | .time' "$log"
    assert_line --index 0 --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$'
    # the keys runc's log readers look for, and no others
    run jq -c 'select(.msg != "earlier") | keys' "$log"
    assert_line --index 0 '["level","msg","time"]'
}

@test "--log FILE in text format, and the level filter" {
    local log=$TEST_TMP/husk.log
    run "$HUSK" --log "$log" --log-level error features
    assert_success
    # a successful features run logs nothing at error level
    [ ! -s "$log" ]
    run "$HUSK" --log "$log" --debug features
    assert_success
    grep -Eq '^time="[0-9T:.-]+Z" level=debug msg="[^"]*features' "$log"
    run "$HUSK" --log "$log" --log-format text --frobnicate
    assert_failure 1
    grep -Eq '^time="[^"]+" level=error msg="unknown flag `--frobnicate`"$' "$log"
}

@test "a log file that cannot be opened is an error naming it" {
    run --separate-stderr "$HUSK" --log "$TEST_TMP/missing/dir/husk.log" features
    assert_failure 1
    [[ "$stderr" == *"$TEST_TMP/missing/dir/husk.log"* ]]
    [ -z "$output" ]
}
