# Shared by every bats file: where husk is, a busybox bundle per test, and
# cleanup of everything a test made (containers, state dirs, temp dirs).

TOP_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HUSK=${HUSK:-$TOP_SRCDIR/husk}

load_libs() {
    load '/usr/lib/bats/bats-support/load'
    load '/usr/lib/bats/bats-assert/load'
}

# A busybox-static rootfs built once per test run and shared read-only by
# bundles that do not modify it.
shared_rootfs() {
    local cache=${HUSK_TEST_ROOTFS:-${BATS_RUN_TMPDIR:-/tmp}/husk-rootfs}
    if [ ! -x "$cache/bin/busybox" ]; then
        sh "$TOP_SRCDIR/contrib/mkrootfs.sh" "$cache.tmp.$$" >/dev/null
        mv -T "$cache.tmp.$$" "$cache" 2>/dev/null || rm -rf "$cache.tmp.$$"
    fi
    echo "$cache"
}

# setup_bundle [ARGS_JSON]: makes $BUNDLE (config from `husk spec`, rootfs
# copied so the test may change it) and $ROOT (a private --root).
setup_bundle() {
    TEST_TMP=$(mktemp -d "${BATS_TEST_TMPDIR:-/tmp}/husk.XXXXXX")
    BUNDLE=$TEST_TMP/bundle
    ROOT=$TEST_TMP/state
    mkdir -p "$BUNDLE"
    cp -a "$(shared_rootfs)" "$BUNDLE/rootfs"
    (cd "$BUNDLE" && "$HUSK" spec) >/dev/null
    local args=${1:-'["/bin/true"]'}
    update_config ".process.terminal = false | .process.args = $args"
}

# update_config JQ_FILTER: edits $BUNDLE/config.json in place.
update_config() {
    jq "$1" "$BUNDLE/config.json" > "$BUNDLE/config.json.new" &&
        mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

husk() {
    "$HUSK" --root "$ROOT" "$@"
}

# Removes every container under $ROOT, then the test's temp dir.
teardown_bundle() {
    if [ -n "${ROOT:-}" ] && [ -d "$ROOT" ]; then
        local id
        for id in $(ls "$ROOT" 2>/dev/null); do
            "$HUSK" --root "$ROOT" delete -f "$id" >/dev/null 2>&1 || true
        done
    fi
    [ -n "${TEST_TMP:-}" ] && rm -rf "$TEST_TMP"
    return 0
}
