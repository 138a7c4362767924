#!/usr/bin/env bats
# --log FILE and --log-format text|json: what the containerd shim and conmon
# read when a command fails.

load helpers

setup() {
    load_libs
    setup_bundle
}

teardown() {
    teardown_bundle
}

RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'

# assert_json_lines FILE: every line of FILE is a JSON object with string
# level, msg and an RFC 3339 time.
assert_json_lines() {
    local file=$1 line n=0
    while IFS= read -r line; do
        n=$((n + 1))
        jq -e 'type == "object" and (.level | type == "string") and (.msg | type == "string")
            and (.time | type == "string")' <<<"$line" >/dev/null ||
            fail "line $n of $file is not a {level, msg, time} object: $line"
        [[ "$(jq -r .time <<<"$line")" =~ $RFC3339 ]] || fail "time of line $n is not RFC 3339: $line"
    done <"$file"
}

@test "--log-format json: a failing create writes JSON lines with level, msg, time" {
    rm "$BUNDLE/config.json"
    hrun --log "$TEST_TMP/log.json" --log-format json create --bundle "$BUNDLE" c1
    assert_failure
    [ -s "$TEST_TMP/log.json" ] || fail "log file is empty or missing"
    assert_json_lines "$TEST_TMP/log.json"
    run jq -r 'select(.level == "error") | .msg' "$TEST_TMP/log.json"
    assert_success
    assert_output --partial config.json
    # The error still reaches the caller's stderr too.
    [[ "$stderr" == *config.json* ]] || fail "stderr: $stderr"
    assert_nothing_left c1
}

@test "--log-format json: errors from inside the container's setup are logged as JSON too" {
    update_config '.process.args = ["/no/such/binary"]'
    hrun --log "$TEST_TMP/log.json" --log-format json run --bundle "$BUNDLE" c1
    assert_failure
    assert_json_lines "$TEST_TMP/log.json"
    run jq -r 'select(.level == "error") | .msg' "$TEST_TMP/log.json"
    assert_output --partial /no/such/binary
    assert_nothing_left c1
}

@test "--log without --log-format is text: the message, not JSON" {
    rm "$BUNDLE/config.json"
    hrun --log "$TEST_TMP/log.txt" create --bundle "$BUNDLE" c1
    assert_failure
    [ -s "$TEST_TMP/log.txt" ] || fail "log file is empty or missing"
    run cat "$TEST_TMP/log.txt"
    assert_output --partial config.json
    assert_output --partial error
    run jq -e 'type == "object"' "$TEST_TMP/log.txt"
    assert_failure
}

@test "--log-format text is the same as the default" {
    rm "$BUNDLE/config.json"
    hrun --log "$TEST_TMP/log.txt" --log-format text create --bundle "$BUNDLE" c1
    assert_failure
    run cat "$TEST_TMP/log.txt"
    assert_output --partial config.json
    run jq -e 'type == "object"' "$TEST_TMP/log.txt"
    assert_failure
}

@test "--log appends: two failures give two error entries" {
    rm "$BUNDLE/config.json"
    hrun --log "$TEST_TMP/log.json" --log-format json create --bundle "$BUNDLE" c1
    hrun --log "$TEST_TMP/log.json" --log-format json create --bundle "$BUNDLE" c2
    assert_json_lines "$TEST_TMP/log.json"
    [ "$(jq -r 'select(.level == "error") | .msg' "$TEST_TMP/log.json" | wc -l)" -ge 2 ]
}

@test "--log-format json with a successful run: whatever is logged is JSON lines" {
    hrun --log "$TEST_TMP/log.json" --log-format json run --bundle "$BUNDLE" c1
    assert_success
    touch "$TEST_TMP/log.json"
    assert_json_lines "$TEST_TMP/log.json"
    run jq -r 'select(.level == "error")' "$TEST_TMP/log.json"
    assert_output ""
}

@test "--log-format with an unknown format fails naming it" {
    hrun --log-format yaml list
    assert_failure
    [[ "$stderr" == *yaml* ]] || fail "stderr: $stderr"
}

@test "--debug with --log-format json: debug records, every one a JSON line" {
    hrun --debug --log "$TEST_TMP/log.json" --log-format json run --bundle "$BUNDLE" c1
    assert_success
    assert_json_lines "$TEST_TMP/log.json"
    [ "$(jq -r 'select(.level == "debug") | .msg' "$TEST_TMP/log.json" | wc -l)" -ge 1 ] ||
        fail "no debug record: $(cat "$TEST_TMP/log.json")"
}

@test "--log-level error with a failing create: the error is logged" {
    rm "$BUNDLE/config.json"
    hrun --log-level error --log "$TEST_TMP/log.json" --log-format json create --bundle "$BUNDLE" c1
    assert_failure
    assert_json_lines "$TEST_TMP/log.json"
    run jq -r 'select(.level == "error") | .msg' "$TEST_TMP/log.json"
    assert_output --partial config.json
}
