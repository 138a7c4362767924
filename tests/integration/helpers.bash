# Shared by every bats file: where husk is, a busybox bundle per test, and
# cleanup of everything a test made (containers, state dirs, cgroups, mounts,
# processes, temp dirs).
#
# Every test gets:
#   $BUNDLE   a bundle (config from `husk spec`, its own copy of the rootfs)
#   $ROOT     a private --root state directory
#   $TEST_TMP a scratch dir that holds both; removed by teardown_bundle
#   $TAG      a word put into the environment of husk and of the container
#             process, so that the processes a test made can be found (and,
#             in teardown, killed by pid) without touching anyone else's
#   $CG_NAME  the cgroup leaf under /husk-test that the bundle's config uses
#
# Helpers, in short:
#   husk ARGS               husk with --root $ROOT, bounded by $HUSK_TIMEOUT
#   hrun ARGS               `run husk ARGS` with stdio in files ($stderr too)
#   create ID [FLAGS]       husk create from $BUNDLE, output in $TEST_TMP/ID.out
#   run_detached ID [FLAGS] husk run -d likewise
#   update_config FILTER, set_sh SCRIPT, use_cgroup ID   edit config.json
#   wait_until SECS CMD, wait_status ID STATUS, wait_file_has FILE RE
#   state_field ID FIELD, status_is ID STATUS, pid_alive PID, pid_gone PID
#   test_pids               live processes this test made (any mark)
#   assert_nothing_left [ID...]  no state dir, cgroup, mount or process
#   cap_mask CAP..., ns_file TYPE

TOP_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HUSK=${HUSK:-$TOP_SRCDIR/husk}
# A husk command that does not finish in this many seconds is killed, so a
# hang shows up as a failure (exit 124) rather than a stuck suite.
HUSK_TIMEOUT=${HUSK_TIMEOUT:-20}

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
    TAG=it-${TEST_TMP##*/husk.}-$$
    CG_NAME=husk-it-${TEST_TMP##*/husk.}
    mkdir -p "$BUNDLE"
    cp -a "$(shared_rootfs)" "$BUNDLE/rootfs"
    (cd "$BUNDLE" && "$HUSK" spec) >/dev/null
    local args=${1:-'["/bin/true"]'}
    update_config ".process.terminal = false | .process.args = $args
        | .process.env += [\"HUSK_TEST_TAG=$TAG\"]
        | .linux.cgroupsPath = \"/husk-test/$CG_NAME\""
}

# update_config JQ_FILTER [BUNDLE_DIR]: edits config.json in place.
update_config() {
    local b=${2:-$BUNDLE}
    jq "$1" "$b/config.json" > "$b/config.json.new" &&
        mv "$b/config.json.new" "$b/config.json"
}

# set_sh SCRIPT [BUNDLE_DIR]: the container runs `sh -c SCRIPT` (no JSON
# quoting needed).
set_sh() {
    local b=${2:-$BUNDLE}
    jq --arg s "$1" '.process.args = ["sh", "-c", $s]' "$b/config.json" > "$b/config.json.new" &&
        mv "$b/config.json.new" "$b/config.json"
}

# use_cgroup ID [BUNDLE_DIR]: gives the next container its own cgroup leaf,
# for tests that run several containers from one bundle.
use_cgroup() {
    update_config ".linux.cgroupsPath = \"/husk-test/$CG_NAME-$1\"" "${2:-$BUNDLE}"
}

husk() {
    timeout -k 5 "$HUSK_TIMEOUT" env ${TAG:+"HUSK_TEST_TAG=$TAG"} "$HUSK" --root "$ROOT" "$@"
}

# hrun ARGS...: like bats' `run husk ARGS`, for commands that start a
# container: the container inherits husk's stdio, and a pipe it holds open
# would make `run` wait for it. stdout and stderr go to files instead;
# sets $status, $output (stdout), $stderr, $lines.
hrun() {
    local out err
    out=$(mktemp "$TEST_TMP/out.XXXXXX")
    err=$(mktemp "$TEST_TMP/err.XXXXXX")
    status=0
    husk "$@" </dev/null >"$out" 2>"$err" || status=$?
    output=$(cat "$out")
    stderr=$(cat "$err")
    mapfile -t lines <"$out"
    HRUN_OUT=$out
    HRUN_ERR=$err
    if [ "$status" -ne 0 ]; then
        echo "husk $* exited $status; stderr: $stderr" >&2
    fi
}

# create ID [FLAGS...]: `husk create` from $BUNDLE, the container's stdout
# and stderr going to $TEST_TMP/ID.out; fails the test if create fails.
create() {
    local id=$1
    shift
    husk create --bundle "$BUNDLE" "$@" "$id" </dev/null >"$TEST_TMP/$id.out" 2>&1 || {
        echo "husk create $id failed ($?): $(cat "$TEST_TMP/$id.out")" >&2
        return 1
    }
}

# run_detached ID [FLAGS...]: `husk run -d` likewise.
run_detached() {
    local id=$1
    shift
    husk run -d --bundle "$BUNDLE" "$@" "$id" </dev/null >"$TEST_TMP/$id.out" 2>&1 || {
        echo "husk run -d $id failed ($?): $(cat "$TEST_TMP/$id.out")" >&2
        return 1
    }
}

# ---- polling (short steps, bounded; never a long sleep) ----

# wait_until SECONDS CMD...: true as soon as CMD succeeds, false after SECONDS.
wait_until() {
    local limit=$1 i=0
    shift
    local steps=$((limit * 20))
    while ! "$@"; do
        i=$((i + 1))
        [ "$i" -ge "$steps" ] && return 1
        sleep 0.05
    done
    return 0
}

state_field() {
    husk state "$1" 2>/dev/null | jq -r ".$2"
}

status_is() {
    [ "$(state_field "$1" status)" = "$2" ]
}

# wait_status ID STATUS: polls `husk state` for up to 10 s.
wait_status() {
    wait_until 10 status_is "$1" "$2" || {
        echo "container $1: wanted status $2, state is: $(husk state "$1" 2>&1)" >&2
        return 1
    }
}

file_has() {
    grep -q -- "$2" "$1" 2>/dev/null
}

# wait_file_has FILE PATTERN: polls for up to 10 s for a line in FILE.
wait_file_has() {
    wait_until 10 file_has "$1" "$2" || {
        echo "$1 never got '$2'; it holds: $(cat "$1" 2>&1)" >&2
        return 1
    }
}

# pid_alive PID: the process exists and is not a zombie (read without a
# fork, and a process that vanishes while being read counts as gone).
pid_alive() {
    local key state _
    while read -r key state _; do
        if [ "$key" = State: ]; then
            [ "$state" != Z ] && [ "$state" != X ]
            return
        fi
    done 2>/dev/null <"/proc/$1/status"
    return 1
}

pid_gone() {
    ! pid_alive "$1"
}

# ---- what the host holds ----

# tagged_pids: the processes that carry this test's $TAG in their
# environment (husk itself, its children before exec, container processes).
tagged_pids() {
    [ -n "${TAG:-}" ] || return 0
    grep -lszxF "HUSK_TEST_TAG=$TAG" /proc/[0-9]*/environ 2>/dev/null |
        sed -e 's|^/proc/||' -e 's|/environ$||' | grep -vx "$$" || true
}

no_tagged_pids() {
    [ -z "$(tagged_pids)" ]
}

# bundle_pids: processes whose cwd or root lies in this test's temp dir
# (the bats shell itself excepted).
bundle_pids() {
    [ -n "${TEST_TMP:-}" ] || return 0
    find /proc/[0-9]*/cwd /proc/[0-9]*/root -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
        awk -v p="$TEST_TMP" -v self="$$" -v sub_="$BASHPID" '
            $2 == p || index($2, p "/") == 1 {
                split($1, f, "/"); if (f[3] != self && f[3] != sub_) print f[3]
            }' | sort -u
}

# cgroup_pids: processes in one of this test's cgroups, in any hierarchy.
cgroup_pids() {
    [ -n "${CG_NAME:-}" ] || return 0
    grep -lsE ":/husk-test/$CG_NAME(-[^/]*)?(/|\$)" /proc/[0-9]*/cgroup 2>/dev/null |
        sed -e 's|^/proc/||' -e 's|/cgroup$||' || true
}

# mention_pids: processes whose environment or command line names this
# test's temp dir (husk's helpers that cleared their environment still have
# the state dir or bundle there). The pattern is written so that grep's own
# command line does not match it.
mention_pids() {
    [ -n "${TEST_TMP:-}" ] || return 0
    local dir=${TEST_TMP%/*} leaf=${TEST_TMP##*/}
    grep -lsaE "${dir//./[.]}/[${leaf:0:1}]${leaf:1}" /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null |
        sed -e 's|^/proc/||' -e 's|/[a-z]*$||' | grep -vx -e "$$" -e "$BASHPID" || true
}

# test_pids: every live process this test made, by any of the marks above.
test_pids() {
    local p
    for p in $( (tagged_pids; bundle_pids; cgroup_pids; mention_pids) | sort -un); do
        pid_alive "$p" && echo "$p"
    done
    return 0
}

no_test_pids() {
    [ -z "$(test_pids)" ]
}

# test_cgroups: cgroup dirs of this test, in every mounted hierarchy
# (v1 controllers and the v2 tree), deepest first.
test_cgroups() {
    [ -n "${CG_NAME:-}" ] || return 0
    local d
    for d in /sys/fs/cgroup/husk-test /sys/fs/cgroup/*/husk-test; do
        [ -d "$d" ] || continue
        find "$d" -mindepth 1 -maxdepth 3 -type d -name "$CG_NAME*" 2>/dev/null
    done | sort -r
}

test_mounts() {
    [ -n "${TEST_TMP:-}" ] || return 0
    awk -v p="$TEST_TMP" 'index($5, p) == 1 || index($4, p) == 1 { print $5 }' /proc/self/mountinfo
}

assert_no_state() {
    local id
    for id in "$@"; do
        if [ -e "$ROOT/$id" ]; then
            echo "state of $id left behind: $ROOT/$id: $(ls -la "$ROOT/$id" 2>&1)" >&2
            return 1
        fi
    done
}

assert_no_cgroup() {
    local left
    left=$(test_cgroups)
    if [ -n "$left" ]; then
        echo "cgroups left behind: $left" >&2
        return 1
    fi
    return 0
}

assert_no_mount() {
    local left
    left=$(test_mounts)
    if [ -n "$left" ]; then
        echo "mounts left behind: $left" >&2
        return 1
    fi
}

describe_pids() {
    local p
    for p in "$@"; do
        echo "  pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) (cwd $(readlink "/proc/$p/cwd" 2>/dev/null))"
    done
}

assert_no_process() {
    local left
    left=$(test_pids)
    if [ -n "$left" ]; then
        echo "processes left behind:" >&2
        describe_pids $left >&2
        return 1
    fi
}

# assert_nothing_left [ID...]: no state dir for the ids, no cgroup of this
# test, no mount under the test's dir, no process of this test.
assert_nothing_left() {
    assert_no_state "$@" && assert_no_cgroup "$@" && assert_no_mount && assert_no_process
}

# ---- namespaces, capabilities ----

# ns_file TYPE: the /proc/PID/ns name of a runtime-spec namespace type.
ns_file() {
    case "$1" in
    network) echo net ;;
    mount) echo mnt ;;
    *) echo "$1" ;;
    esac
}

# cap_mask CAP_NAME...: the hex mask /proc/PID/status shows for those caps.
cap_mask() {
    local names=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
        LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
        SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE
        SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP
        MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF
        CHECKPOINT_RESTORE)
    local mask=0 cap i found
    for cap in "$@"; do
        found=0
        for i in "${!names[@]}"; do
            if [ "CAP_${names[$i]}" = "$cap" ]; then
                mask=$((mask | (1 << i)))
                found=1
            fi
        done
        [ "$found" = 1 ] || { echo "cap_mask: unknown capability $cap" >&2; return 1; }
    done
    printf '%016x\n' "$mask"
}

# ---- teardown ----

# Removes every container under $ROOT, then (if husk failed to) kills this
# test's processes by pid, unmounts its mounts, removes its cgroups and its
# temp dir. Bounded in time even when husk hangs.
teardown_bundle() {
    cd /
    local p m cg id
    # Commands the test left running in the background get a moment to end
    # (each is bounded by $HUSK_TIMEOUT anyway), then are killed.
    for p in $(jobs -p); do
        wait_until 2 pid_gone "$p" || kill -9 "$p" 2>/dev/null || true
    done
    if [ -n "${ROOT:-}" ] && [ -d "$ROOT" ]; then
        for id in $(ls "$ROOT" 2>/dev/null); do
            HUSK_TIMEOUT=5 husk delete -f "$id" >/dev/null 2>&1 &
        done
        wait
    fi
    for p in $(test_pids); do
        kill -9 "$p" 2>/dev/null || true
    done
    for p in $(test_pids); do
        wait_until 2 pid_gone "$p" || true
    done
    for m in $(test_mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    for cg in $(test_cgroups); do
        rmdir "$cg" 2>/dev/null || true
    done
    [ -n "${TEST_TMP:-}" ] && rm -rf "$TEST_TMP"
    return 0
}

# fails_cleanly ID WORD...: `husk run` of $BUNDLE fails (1..123, not a crash
# or a timeout), stderr names every WORD, and nothing is left behind.
fails_cleanly() {
    local id=$1 w
    shift
    hrun run --bundle "$BUNDLE" "$id"
    [ "$status" -ne 0 ] || fail "husk run $id succeeded; stdout: $output"
    [ "$status" -lt 124 ] || fail "husk run $id exited $status; stderr: $stderr"
    for w in "$@"; do
        [[ "$stderr" == *"$w"* ]] || fail "stderr does not name '$w': $stderr"
    done
    assert_nothing_left "$id"
}

# cg_procs: how many processes the container's cgroup holds (v1 pids hierarchy, or v2).
cg_procs() {
    local d
    for d in /sys/fs/cgroup/pids/husk-test/$CG_NAME /sys/fs/cgroup/husk-test/$CG_NAME; do
        if [ -f "$d/cgroup.procs" ]; then
            wc -l <"$d/cgroup.procs"
            return
        fi
    done
    echo "no cgroup.procs for $CG_NAME" >&2
    return 1
}
