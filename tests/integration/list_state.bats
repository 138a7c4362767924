#!/usr/bin/env bats
# `state ID` (the runtime-spec state document as runc prints it) and
# `list [-q] [--format table|json]`.

load helpers

bats_require_minimum_version 1.5.0

RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'

setup() {
    load_libs
    setup_bundle
    set_sh 'while [ ! -e /go ]; do sleep 0.05; done'
    update_config '.annotations = {"org.example.key": "value", "b": "two words"}'
}

teardown() {
    teardown_bundle
}

# seconds_since RFC3339_TIME
seconds_since() {
    echo $(($(date +%s) - $(date -d "$1" +%s)))
}

@test "state: the runtime-spec fields, created timestamp and owner" {
    create c1
    run husk state c1
    assert_success
    state=$output
    jq -e . <<<"$state" >/dev/null || fail "state is not JSON: $state"

    [[ "$(jq -r .ociVersion <<<"$state")" =~ ^1\.[0-9]+\.[0-9]+ ]] || fail "ociVersion: $state"
    assert_equal "$(jq -r .id <<<"$state")" c1
    assert_equal "$(jq -r .status <<<"$state")" created
    assert_equal "$(jq -r '.pid | type' <<<"$state")" number
    pid=$(jq -r .pid <<<"$state")
    pid_alive "$pid"
    assert_equal "$(jq -r .bundle <<<"$state")" "$BUNDLE"
    [[ "$(jq -r .bundle <<<"$state")" == /* ]]
    created=$(jq -r .created <<<"$state")
    [[ "$created" =~ $RFC3339 ]] || fail "created is not RFC 3339: $created"
    s=$(seconds_since "$created")
    [ "$s" -ge 0 ] && [ "$s" -lt 60 ] || fail "created is $s seconds ago: $created"
    jq -e '.owner | type == "string"' <<<"$state" >/dev/null || fail "no owner: $state"
    jq -e '.owner == "" or .owner == "root"' <<<"$state" >/dev/null || fail "owner: $state"
    assert_equal "$(jq -cS .annotations <<<"$state")" "$(jq -cS .annotations "$BUNDLE/config.json")"
}

@test "state: no annotations in config means none (or empty) in state" {
    update_config 'del(.annotations)'
    create c1
    run husk state c1
    assert_success
    jq -e '(.annotations // {}) == {}' <<<"$output" >/dev/null || fail "annotations: $output"
}

@test "state follows the container: created, running, stopped; created does not change" {
    create c1
    created=$(state_field c1 created)
    pid=$(state_field c1 pid)
    husk start c1
    run husk state c1
    assert_equal "$(jq -r .status <<<"$output")" running
    assert_equal "$(jq -r .pid <<<"$output")" "$pid"
    assert_equal "$(jq -r .created <<<"$output")" "$created"
    touch "$BUNDLE/rootfs/go"
    wait_status c1 stopped
    run husk state c1
    assert_success
    assert_equal "$(jq -r .id <<<"$output")" c1
    assert_equal "$(jq -r .created <<<"$output")" "$created"
    assert_equal "$(jq -r .bundle <<<"$output")" "$BUNDLE"
}

@test "state of a container that does not exist fails naming it" {
    run --separate-stderr husk state nosuch
    assert_failure
    assert_output ""
    [[ "$stderr" == *nosuch* ]] || fail "stderr does not name the id: $stderr"
}

@test "list -q prints the ids, one a line" {
    local id
    for id in alpha beta gamma; do
        use_cgroup "$id"
        create "$id"
    done
    run husk list -q
    assert_success
    assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "alpha beta gamma "
    husk delete beta
    run husk list --quiet
    assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "alpha gamma "
}

@test "list: the table's columns are ID PID STATUS BUNDLE CREATED OWNER" {
    use_cgroup a
    create a
    use_cgroup b
    create b
    husk start b
    wait_status b running

    run husk list
    assert_success
    read -r -a header <<<"${lines[0]}"
    assert_equal "${header[*]}" "ID PID STATUS BUNDLE CREATED OWNER"
    [ "${#lines[@]}" = 3 ]
    local line f
    for line in "${lines[@]:1}"; do
        read -r -a f <<<"$line"
        [ "${#f[@]}" = 6 ] || fail "row has ${#f[@]} columns: $line"
        run husk state "${f[0]}"
        assert_equal "${f[1]}" "$(jq -r .pid <<<"$output")"
        assert_equal "${f[2]}" "$(jq -r .status <<<"$output")"
        assert_equal "${f[3]}" "$BUNDLE"
        assert_equal "${f[4]}" "$(jq -r .created <<<"$output")"
        assert_equal "${f[5]}" root
    done
    run husk list
    assert_line --regexp '^a +[0-9]+ +created '
    assert_line --regexp '^b +[0-9]+ +running '
    table=$output
    run husk list --format table
    assert_success
    assert_equal "$output" "$table"
}

@test "list --format json: one object per container with the state fields" {
    use_cgroup a
    create a
    use_cgroup b
    create b
    husk start b
    wait_status b running

    run husk list --format json
    assert_success
    jq -e 'type == "array" and length == 2' <<<"$output" >/dev/null || fail "not a 2-array: $output"
    local id
    for id in a b; do
        entry=$(jq -c --arg id "$id" '.[] | select(.id == $id)' <<<"$output")
        [ -n "$entry" ] || fail "$id missing in $output"
        st=$(husk state "$id")
        assert_equal "$(jq -r .pid <<<"$entry")" "$(jq -r .pid <<<"$st")"
        assert_equal "$(jq -r .status <<<"$entry")" "$(jq -r .status <<<"$st")"
        assert_equal "$(jq -r .bundle <<<"$entry")" "$BUNDLE"
        assert_equal "$(jq -r .created <<<"$entry")" "$(jq -r .created <<<"$st")"
        assert_equal "$(jq -r .owner <<<"$entry")" root
        assert_equal "$(jq -cS .annotations <<<"$entry")" "$(jq -cS .annotations "$BUNDLE/config.json")"
    done
    run husk list -f json
    assert_success
    jq -e 'length == 2' <<<"$output" >/dev/null
}

@test "list of an empty root: a header only, an empty json list, nothing with -q" {
    mkdir -p "$ROOT"
    run husk list
    assert_success
    [ "${#lines[@]}" = 1 ]
    read -r -a header <<<"${lines[0]}"
    assert_equal "${header[*]}" "ID PID STATUS BUNDLE CREATED OWNER"
    run husk list --format json
    assert_success
    jq -e '(. // []) | length == 0' <<<"$output" >/dev/null || fail "not empty: $output"
    run husk list -q
    assert_success
    assert_output ""
}

@test "list of a root that does not exist is empty, not an error" {
    run husk list -q
    assert_success
    assert_output ""
}

@test "list shows a crashed container as stopped" {
    create c1
    husk start c1
    wait_status c1 running
    kill -9 "$(state_field c1 pid)"
    wait_status c1 stopped
    run husk list
    assert_line --regexp '^c1 +[0-9]+ +stopped '
    run husk list --format json
    assert_equal "$(jq -r '.[0].status' <<<"$output")" stopped
}

@test "list --format with an unknown format fails naming it" {
    run --separate-stderr husk list --format yaml
    assert_failure
    [[ "$stderr" == *yaml* ]] || fail "stderr: $stderr"
}
