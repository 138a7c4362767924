#!/bin/bash
# The one command that runs every test of husk, as root:
#   1. builds husk (configure --enable-werror in BUILD_DIR, default ./build);
#   2. unit: `make check` (cmocka), counting each cmocka test;
#   3. valgrind: tests/unit/valgrind.sh over the unit binaries (one test);
#   4. fuzz: tests/fuzz/run.sh, the libocispec fuzzer for FUZZ_SECONDS (one test);
#   5. integration: every tests/integration/*.bats through `bats --tap`;
#   6. vm: tests/vm/lane.sh, the files of tests/vm/lane.list in a cgroup v2 +
#      systemd + AppArmor guest (software emulation: ~4 min to build the
#      cached image the first time, then ~16 min; HUSK_VMLANE=0 leaves it out
#      of a local run, never in CI).
# It ends with the line `N passed, N failed` (`, N skipped` when some were)
# and exits non-zero when anything failed.
#
# Usage: tests/run.sh [--build-dir DIR] [--no-build] [--fuzz-seconds N] [STAGE|FILE.bats ...]
#   STAGE: build unit valgrind fuzz integration vm (default: all of them;
#   HUSK_VMLANE=0 drops vm, except when CI=true);
#   FILE.bats runs just that integration file.
#   --no-build uses an existing build in DIR (or $HUSK for the bats files).
# Environment: BUILD_DIR, FUZZ_SECONDS (default 60), HUSK (default DIR/husk),
#   CONFIGURE_FLAGS (extra flags for configure), SCRIPT_TIMEOUT (seconds the
#   valgrind and fuzz scripts may each take, default 1200), SUITE_TIMEOUT (seconds the
#   whole run may take; default 85 minutes when CI=true, else unlimited: a
#   bats file still running then is stopped, and its unfinished tests and
#   the files not started count as failures, so the closing line is always
#   printed).
set -u
shopt -s nullglob

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$src/build}
fuzz_seconds=${FUZZ_SECONDS:-60}
if [ "${CI:-}" = true ]; then
    suite_timeout=${SUITE_TIMEOUT:-$((85 * 60))}
else
    suite_timeout=${SUITE_TIMEOUT:-0}
fi
started=$(date +%s)
do_build=1
stages=()
bats_files=()

usage() {
    sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) build=${2:?--build-dir needs a directory}; shift ;;
    --build-dir=*) build=${1#*=} ;;
    --no-build) do_build=0 ;;
    --fuzz-seconds) fuzz_seconds=${2:?--fuzz-seconds needs a number}; shift ;;
    --fuzz-seconds=*) fuzz_seconds=${1#*=} ;;
    -h|--help) usage; exit 0 ;;
    build|unit|valgrind|fuzz|integration|vm) stages+=("$1") ;;
    *.bats)
        [ -f "$1" ] || { echo "run.sh: no such test file: $1" >&2; exit 2; }
        bats_files+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")")
        stages+=(integration) ;;
    *) echo "run.sh: unknown argument \`$1\` (see tests/run.sh --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ ${#stages[@]} -eq 0 ]; then
    stages=(build unit valgrind fuzz integration vm)
    if [ "${HUSK_VMLANE:-1}" = 0 ] && [ "${CI:-}" != true ]; then
        stages=(build unit valgrind fuzz integration)
    fi
fi
[ $do_build = 1 ] || stages=("${stages[@]/build/}")
case "$build" in /*) ;; *) build=$(pwd)/$build ;; esac
export HUSK=${HUSK:-$build/husk}

wants() {
    local s
    for s in "${stages[@]}"; do [ "$s" = "$1" ] && return 0; done
    return 1
}

passed=0 failed=0 skipped=0
failures=()
logdir=$(mktemp -d /tmp/husk-tests.XXXXXX)

section() {
    printf '\n=== %s ===\n' "$*"
}

record_fail() {
    failed=$((failed + 1))
    failures+=("$1")
}

finish() {
    section "summary"
    local f
    for f in "${failures[@]}"; do echo "FAILED: $f"; done
    echo "logs: $logdir"
    echo "time: $(($(date +%s) - started))s"
    if [ "$skipped" -gt 0 ]; then
        echo "$passed passed, $failed failed, $skipped skipped"
    else
        echo "$passed passed, $failed failed"
    fi
    [ "$failed" -eq 0 ]
    exit $?
}

# ---- 1. build ----
if wants build; then
    section "build ($build)"
    ok=1
    if [ ! -x "$src/configure" ]; then
        (cd "$src" && ./autogen.sh) || ok=0
    fi
    if [ $ok = 1 ] && [ -f "$src/config.status" ] && [ "$src" != "$build" ]; then
        echo "run.sh: $src was configured in place; run 'make distclean' there first" >&2
        ok=0
    fi
    if [ $ok = 1 ] && [ ! -f "$build/Makefile" ]; then
        mkdir -p "$build" &&
            (cd "$build" && "$src/configure" --enable-werror ${CONFIGURE_FLAGS:-}) || ok=0
    fi
    if [ $ok = 1 ]; then
        make -C "$build" -j"$(nproc)" || ok=0
    fi
    if [ $ok = 1 ] && [ -x "$HUSK" ]; then
        passed=$((passed + 1))
        "$HUSK" --version
    else
        record_fail "build"
        finish
    fi
fi

# ---- 2. unit tests (cmocka via make check) ----
# cmocka ends each group of tests with `[  PASSED  ] N test(s).` and, when
# some failed, `[  FAILED  ] N test(s), listed below:` (a binary may run
# several groups); a binary that died before printing them counts as one
# failure.
count_cmocka_log() {
    local log=$1 name p f
    name=$(basename "$log" .log)
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$log" | awk '{ n += $1 } END { if (NR) print n }')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{ n += $1 } END { if (NR) print n }')
    passed=$((passed + ${p:-0}))
    if [ -n "$f" ] && [ "$f" -gt 0 ]; then
        failed=$((failed + f))
        failures+=("unit $name: $f test(s): $(sed -n 's/^\[  FAILED  \] \([a-z_0-9]*\)$/\1/p' "$log" | sort -u | tr '\n' ' ')")
    elif [ -z "$p" ] || ! grep -q '^:test-result: PASS' "${log%.log}.trs" 2>/dev/null; then
        record_fail "unit $name: did not complete (see $log)"
    fi
}

if wants unit; then
    section "unit tests (make check)"
    rm -f "$build"/tests/unit/*.log "$build"/tests/unit/*.trs
    make -C "$build" -j"$(nproc)" check >"$logdir/make-check.log" 2>&1
    check_status=$?
    grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):|^# (TOTAL|PASS|FAIL|ERROR)' "$logdir/make-check.log"
    logs=("$build"/tests/unit/*.log)
    if [ ${#logs[@]} -eq 0 ]; then
        tail -30 "$logdir/make-check.log"
        record_fail "unit: make check ran no tests (exit $check_status; see $logdir/make-check.log)"
    else
        for log in "${logs[@]}"; do
            [ "$(basename "$log")" = test-suite.log ] && continue
            count_cmocka_log "$log"
        done
        if [ $check_status -ne 0 ] && [ ${#failures[@]} -eq 0 ]; then
            tail -30 "$logdir/make-check.log"
            record_fail "unit: make check exited $check_status (see $logdir/make-check.log)"
        fi
    fi
fi

# ---- 3, 4. valgrind and fuzz: one test each ----
run_script_test() { # NAME SCRIPT ARGS...
    local name=$1 script=$2
    shift 2
    section "$name ($script)"
    if [ ! -f "$src/$script" ]; then
        echo "$script is missing" >&2
        record_fail "$name: $script is missing"
        return
    fi
    # bounded, so that a hang shows up as this test failing, not a stuck suite
    if (cd "$src" && timeout -k 10 "${SCRIPT_TIMEOUT:-1200}" sh "$script" "$@") 2>&1 |
        tee "$logdir/$name.log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
        passed=$((passed + 1))
    else
        record_fail "$name (see $logdir/$name.log)"
    fi
}

if wants valgrind; then
    # valgrind.sh needs the unit binaries, which make check built
    run_script_test valgrind tests/unit/valgrind.sh "$build"
fi
if wants fuzz; then
    run_script_test fuzz tests/fuzz/run.sh "$fuzz_seconds"
fi

# ---- 5. integration tests (bats, as root) ----
# TAP: `ok N name`, `ok N name # skip reason`, `not ok N name`; a file whose
# plan (`1..N`) is not met lost tests to a crash, and those count as failures.
count_tap() { # FILE.tap NAME
    local tap=$1 name=$2 plan ok nok skip
    plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tap" | head -1)
    ok=$(grep -cE '^ok [0-9]+' "$tap")
    skip=$(grep -cE '^ok [0-9]+ .*# skip' "$tap")
    nok=$(grep -cE '^not ok [0-9]+' "$tap")
    passed=$((passed + ok - skip))
    skipped=$((skipped + skip))
    failed=$((failed + nok))
    local t
    while IFS= read -r t; do
        failures+=("$name: ${t#not ok }")
    done < <(grep -E '^not ok [0-9]+' "$tap")
    if [ -z "$plan" ]; then
        record_fail "$name: bats produced no plan (see $tap)"
    elif [ $((ok + nok)) -lt "$plan" ]; then
        failed=$((failed + plan - ok - nok))
        failures+=("$name: only $((ok + nok)) of $plan tests ran")
    fi
}

if wants integration; then
    section "integration tests (bats)"
    if [ "$(id -u)" != 0 ]; then
        echo "run.sh: the integration tests need root" >&2
    fi
    if ! command -v bats >/dev/null; then
        record_fail "integration: bats is not installed (Debian: apt install bats bats-support bats-assert)"
    elif [ ! -x "$HUSK" ]; then
        record_fail "integration: no husk binary at $HUSK"
    else
        [ ${#bats_files[@]} -gt 0 ] || bats_files=("$src"/tests/integration/*.bats)
        for f in "${bats_files[@]}"; do
            name=$(basename "$f")
            limit=()
            if [ "$suite_timeout" -gt 0 ]; then
                left=$((started + suite_timeout - $(date +%s)))
                if [ "$left" -le 0 ]; then
                    record_fail "$name: not run, the suite's time limit (${suite_timeout}s) was reached"
                    continue
                fi
                limit=(timeout -k 30 "$left")
            fi
            echo "--- $name"
            "${limit[@]}" bats --tap "$f" </dev/null 2>&1 | tee "$logdir/$name.tap"
            [ "${PIPESTATUS[0]}" -ne 124 ] ||
                failures+=("$name: stopped at the suite's time limit (${suite_timeout}s)")
            count_tap "$logdir/$name.tap" "$name"
        done
    fi
fi

# ---- 6. the VM lane (cgroup v2, systemd, AppArmor guest; tests/vm/README.md) ----
# lane.sh prints one TAP stream (plan last) on stdout; a guest that did not
# boot or a file that did not run is a `not ok` there, so count_tap sees it.
if wants vm; then
    section "vm lane (tests/vm/lane.sh)"
    if [ ! -x "$HUSK" ]; then
        record_fail "vm: no husk binary at $HUSK"
    else
        # within the suite's time limit, if it has one (the lane's own default is 3600 s)
        vm_limit=${HUSK_VMLANE_TIMEOUT:-3600}
        [ "$suite_timeout" -le 0 ] || vm_limit=$((started + suite_timeout - $(date +%s)))
        HUSK=$HUSK HUSK_VMLANE_TIMEOUT=$((vm_limit > 0 ? vm_limit : 1)) \
            "$src/tests/vm/lane.sh" --no-build </dev/null | tee "$logdir/vm.tap"
        count_tap "$logdir/vm.tap" vm
    fi
fi

finish
