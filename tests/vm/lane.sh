#!/bin/bash
# tests/vm/lane.sh [--no-build] [FILE.bats...]: husk's VM test lane, as root.
#
# Runs bats files in a Debian 12 guest with systemd as PID 1, cgroup v2 only
# and AppArmor (tests/vm/build-image.sh), with the husk built on this host:
#   1. builds husk in BUILD_DIR (default ./build, like tests/run.sh) unless
#      HUSK names a binary or --no-build is given;
#   2. builds or reuses the guest image in $HUSK_VMLANE_CACHE
#      (default /var/cache/husk-vmlane, outside the clone);
#   3. boots the guest once and runs the files (default: tests/vm/lane.list).
# stdout is one TAP stream (`# vm-file:` comments name each file, the plan
# comes last); stderr gets progress and `vm lane: N passed, N failed`.
# A guest that did not boot, a file that did not run and a test that a file
# planned but never reported are failures: the lane never passes silently.
#
# Environment: HUSK, BUILD_DIR, HUSK_VMLANE_CACHE, HUSK_VMLANE_TIMEOUT (whole
# VM run, default 3600 s), HUSK_VMLANE_FILE_TIMEOUT (per bats file, 900 s),
# HUSK_VMLANE_CONSOLE (keep the guest console log there).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
build_husk=1
files=()
for a in "$@"; do
    case "$a" in
    --no-build) build_husk=0 ;;
    -h|--help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *.bats) # a path from here or from the top of the clone
        if [ -f "$a" ]; then files+=("$(realpath --relative-to="$src" "$a")")
        elif [ -f "$src/$a" ]; then files+=("$a")
        else echo "lane.sh: no such file: $a" >&2; exit 2; fi ;;
    *) echo "lane.sh: unknown argument $a" >&2; exit 2 ;;
    esac
done
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(grep -v '^\s*\(#\|$\)' "$here/lane.list")

say() { printf '[vm lane] %s\n' "$*" >&2; }
n=0 passed=0 failed=0 skipped=0
tap_fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
finish() {
    echo "1..$n"
    say "$passed passed, $failed failed$([ $skipped = 0 ] || echo ", $skipped skipped")"
    [ $failed = 0 ] && [ $n -gt 0 ]
    exit
}

# ---- 1. husk, built on the host (same Debian userland as the guest)
build=${BUILD_DIR:-$src/build}
case "$build" in /*) ;; *) build=$PWD/$build ;; esac
if [ -z "${HUSK:-}" ]; then
    HUSK=$build/husk
    if [ $build_husk = 1 ]; then
        say "building husk in $build"
        { [ -x "$src/configure" ] || (cd "$src" && ./autogen.sh); } >&2 &&
            { [ -f "$build/Makefile" ] || (mkdir -p "$build" && cd "$build" &&
                "$src/configure" --enable-werror ${CONFIGURE_FLAGS:-}); } >&2 &&
            make -C "$build" -j"$(nproc)" >&2 || { tap_fail "vm: husk builds on the host"; finish; }
    fi
fi
HUSK=$(readlink -f "$HUSK")
[ -x "$HUSK" ] || { tap_fail "vm: a husk binary at $HUSK"; finish; }
put=()
case "$HUSK" in
"$src"/*) guest_husk=/src/${HUSK#"$src"/} ;;
*) guest_husk=/lane/husk; put=(--put "$HUSK") ;; # built outside the clone
esac

# ---- 2. the guest image, cached outside the clone
started=$(date +%s)
"$here/build-image.sh" "${HUSK_VMLANE_CACHE:-/var/cache/husk-vmlane}" ||
    { tap_fail "vm: the guest image builds"; finish; }
say "image ready after $(($(date +%s) - started))s"

# ---- 3. one boot, every file
log=$(mktemp /tmp/husk-vmlane.XXXXXX.tap)
HUSK_VMLANE_CACHE=${HUSK_VMLANE_CACHE:-/var/cache/husk-vmlane} \
    "$here/run-in-vm.sh" --timeout "${HUSK_VMLANE_TIMEOUT:-3600}" "${put[@]}" \
    ${HUSK_VMLANE_CONSOLE:+--console "$HUSK_VMLANE_CONSOLE"} "$src" -- \
    env HUSK_VMLANE_FILE_TIMEOUT="${HUSK_VMLANE_FILE_TIMEOUT:-900}" \
    bash /src/tests/vm/guest.sh "$guest_husk" "${files[@]}" >"$log" &
vm_pid=$!
# run-in-vm.sh kills qemu when it ends, so ending it is all a signal needs
trap 'kill -TERM $vm_pid 2>/dev/null; wait $vm_pid; say "interrupted"; exit 143' TERM INT HUP
tail -n +1 -f --pid=$vm_pid "$log" | grep --line-buffered -E '^(ok|not ok|# vm-file:) ' |
    sed -u 's/^/[guest] /' >&2 &
progress_pid=$!
wait $vm_pid
vm_status=$?
wait $progress_pid
trap - TERM INT HUP
say "guest run ended with status $vm_status after $(($(date +%s) - started))s (raw TAP: $log)"

# Renumbers each file's TAP into one stream and checks it against its plan.
count_file() { # NAME STATUS, TAP lines on stdin
    local name=$1 status=$2 plan= ran=0 failed_before=$failed line
    while IFS= read -r line; do
        case "$line" in
        1..*) plan=${line#1..} ;;
        "ok "[0-9]* | "not ok "[0-9]*)
            [[ "$line" =~ ^(not\ ok|ok)\ [0-9]+\ ?(.*)$ ]]
            local verdict=${BASH_REMATCH[1]} rest=${BASH_REMATCH[2]}
            ran=$((ran + 1)) n=$((n + 1))
            if [ "$verdict" = "not ok" ]; then failed=$((failed + 1))
            elif [[ "$rest" == *"# skip"* ]]; then skipped=$((skipped + 1))
            else passed=$((passed + 1)); fi
            echo "$verdict $n $name: $rest" ;;
        "#"*) echo "$line" ;;
        *) echo "# $line" ;;
        esac
    done
    if [ -z "$plan" ]; then
        tap_fail "$name: bats printed no plan (exit $status)"
    elif [ "$ran" -lt "$plan" ]; then
        tap_fail "$name: only $ran of $plan tests reported (exit $status$([ "$status" != 124 ] || echo ', file timeout'))"
    elif [ "$status" != 0 ] && [ "$failed" = "$failed_before" ]; then
        tap_fail "$name: bats exited $status with every test passing"
    fi
}

for name in guest "${files[@]}"; do
    echo "# vm-file: $name"
    if ! grep -qxF "# vm-file: $name" "$log"; then
        tap_fail "$name: did not run in the guest (VM status $vm_status)"
        continue
    fi
    end=$(grep -m1 "^# vm-file-end: $name " "$log")
    section=$(awk -v s="# vm-file: $name" -v e="# vm-file-end: $name " \
        '$0 == s { on = 1; next } on && index($0, e) == 1 { exit } on' "$log")
    if [ -z "$end" ]; then
        count_file "$name" "unfinished" <<<"$section"
        tap_fail "$name: did not finish (VM status $vm_status)"
    else
        count_file "$name" "${end##* }" <<<"$section"
    fi
done
[ "$vm_status" = 0 ] ||
    tap_fail "vm: the guest ran the lane to its end (run-in-vm.sh status $vm_status)"
finish
