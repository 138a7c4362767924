#!/bin/bash
# bench-exec.sh - median latency of `RUNTIME exec ID true` for husk, crun
# and runc, measured in the same run with hyperfine.
#
# Usage: contrib/bench-exec.sh [-n RUNS] [-w WARMUP] [-o JSON_DIR] [HUSK]
#   HUSK defaults to $HUSK, else ./husk.  Runtimes that are not installed
#   are left out of the table (husk is required).
#
# One long-running busybox container (sleep) per runtime, each with its own
# --root and an absolute cgroupsPath under /husk-test-bench; everything is
# deleted and the cgroups removed at the end, also on failure.
#
# crun 1.8 refuses a "hybrid" host (cgroup2 with controllers beside the v1
# hierarchies). The benchmark then runs in a private mount namespace where
# /sys/fs/cgroup is a new tmpfs holding bind mounts of the v1 hierarchies
# only: every runtime sees a plain v1 layout, the hierarchies themselves are
# the host's, and no host mount changes.
set -euo pipefail

RUNS=200 WARMUP=20 JSON_DIR=""
while getopts "n:w:o:h" opt; do
    case "$opt" in
        n) RUNS=$OPTARG ;;
        w) WARMUP=$OPTARG ;;
        o) JSON_DIR=$OPTARG ;;
        *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
HUSK=$(realpath "${1:-${HUSK:-./husk}}")
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
CG_PARENT=/husk-test-bench

die() { echo "bench-exec.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root"
[ -x "$HUSK" ] || die "husk binary not found: $HUSK"
for t in hyperfine jq unshare findmnt awk; do
    command -v "$t" >/dev/null || die "missing $t (Debian: apt install hyperfine jq util-linux)"
done

# ---- outside: re-run ourselves in a private mount namespace ----
if [ -z "${BENCH_EXEC_PRIVATE_NS:-}" ]; then
    BENCH_EXEC_PRIVATE_NS=1 exec unshare --mount --propagation private -- \
        "$0" -n "$RUNS" -w "$WARMUP" ${JSON_DIR:+-o "$JSON_DIR"} "$HUSK"
fi

# ---- inside the private mount namespace from here on ----

# True on a hybrid host whose cgroup2 tree has controllers (what crun 1.8
# refuses).
hybrid_with_controllers() {
    [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] &&
        [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
        [ -n "$(tr -d ' \n' </sys/fs/cgroup/unified/cgroup.controllers)" ]
}

# Replaces (in this namespace only) /sys/fs/cgroup by a tmpfs that holds
# the v1 hierarchies and the alias symlinks (cpu -> cpu,cpuacct).
v1_only_view() {
    local view entry name
    view=$(mktemp -d /tmp/bench-exec-cgview.XXXXXX)
    mount -t tmpfs -o mode=0755,size=64k bench-exec-cgview "$view"
    while read -r entry; do
        name=${entry#/sys/fs/cgroup/}
        case "$name" in */*|"") continue ;; esac
        mkdir "$view/$name"
        mount --bind "$entry" "$view/$name"
    done < <(findmnt --raw --noheadings --types cgroup --output TARGET)
    for entry in /sys/fs/cgroup/*; do
        if [ -L "$entry" ]; then cp --no-dereference "$entry" "$view/"; fi
    done
    mount --move "$view" /sys/fs/cgroup
    rmdir "$view"
}

VIEW="the host's"
if hybrid_with_controllers; then
    v1_only_view
    VIEW="v1 hierarchies only (private mount namespace)"
fi

WORK=$(mktemp -d /tmp/bench-exec.XXXXXX)
declare -A BIN=([husk]="$HUSK")
for rt in crun runc; do
    if command -v "$rt" >/dev/null; then BIN[$rt]=$(command -v "$rt"); fi
done
RUNTIMES=(husk)
for rt in crun runc; do
    if [ -n "${BIN[$rt]:-}" ]; then RUNTIMES+=("$rt"); fi
done

rt_cmd() { # RUNTIME ARGS...: the runtime with its private --root
    local rt=$1
    shift
    "${BIN[$rt]}" --root "$WORK/state-$rt" "$@"
}

remove_cgroups() {
    local hier d
    for hier in $(findmnt --raw --noheadings --types cgroup,cgroup2 --output TARGET); do
        d=$hier$CG_PARENT
        [ -d "$d" ] || continue
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
}

HYPERFINE_PID=
cleanup() {
    local rt
    if [ -n "$HYPERFINE_PID" ]; then
        kill "$HYPERFINE_PID" 2>/dev/null || true
        wait "$HYPERFINE_PID" 2>/dev/null || true
    fi
    for rt in "${RUNTIMES[@]}"; do
        rt_cmd "$rt" delete -f "bench-exec-$rt" >/dev/null 2>&1 || true
    done
    remove_cgroups
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# One rootfs, one bundle per runtime (each its own cgroup).
MKBUNDLE=$SRCDIR/../shared/bench/mkbundle.sh
[ -x "$MKBUNDLE" ] || MKBUNDLE=/work/shared/bench/mkbundle.sh
[ -x "$MKBUNDLE" ] || die "mkbundle.sh not found (../shared/bench/mkbundle.sh)"
"$MKBUNDLE" --args '["sleep", "1000000"]' --cgroups-path "$CG_PARENT/husk" "$WORK/bundle-husk" >/dev/null
for rt in "${RUNTIMES[@]}"; do
    [ "$rt" = husk ] && continue
    "$MKBUNDLE" --rootfs "$WORK/bundle-husk/rootfs" --args '["sleep", "1000000"]' \
        --cgroups-path "$CG_PARENT/$rt" "$WORK/bundle-$rt" >/dev/null
done

for rt in "${RUNTIMES[@]}"; do
    # (to a file: the container inherits it, a pipe would never see EOF)
    rt_cmd "$rt" run -d --bundle "$WORK/bundle-$rt" "bench-exec-$rt" </dev/null \
        >"$WORK/run-$rt.out" 2>&1 || die "$rt: run -d failed: $(cat "$WORK/run-$rt.out")"
    out=$(rt_cmd "$rt" exec "bench-exec-$rt" echo ready </dev/null 2>&1) ||
        die "$rt: exec failed: $out"
    [ "$out" = ready ] || die "$rt: exec printed '$out'"
done

echo "kernel $(uname -r), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "/sys/fs/cgroup: $VIEW; $RUNS runs each after $WARMUP warm-ups"
for rt in "${RUNTIMES[@]}"; do
    echo "$rt: $("${BIN[$rt]}" --version 2>/dev/null | head -1)"
done

# All runtimes in one hyperfine invocation: same load, same warm caches.
cmds=()
for rt in "${RUNTIMES[@]}"; do
    cmds+=("${BIN[$rt]} --root $WORK/state-$rt exec bench-exec-$rt true")
done
# In the background and waited for: a signal then ends the wait at once
# (bash runs traps only between commands) and cleanup stops hyperfine.
hyperfine --shell=none --style=none --warmup "$WARMUP" --runs "$RUNS" \
    --export-json "$WORK/result.json" "${cmds[@]}" >/dev/null &
HYPERFINE_PID=$!
wait "$HYPERFINE_PID"
HYPERFINE_PID=
if [ -n "$JSON_DIR" ]; then
    mkdir -p "$JSON_DIR"
    cp "$WORK/result.json" "$JSON_DIR/bench-exec.json"
fi

husk_median=$(jq '.results[0].median' "$WORK/result.json")
printf '\n| %-8s | %9s | %9s | %9s | %7s |\n' runtime "median ms" "mean ms" "stddev ms" "vs husk"
printf '|----------|----------:|----------:|----------:|--------:|\n'
for i in "${!RUNTIMES[@]}"; do
    jq -r --argjson i "$i" '.results[$i] | "\(.median) \(.mean) \(.stddev)"' "$WORK/result.json" |
        awk -v rt="${RUNTIMES[$i]}" -v h="$husk_median" \
            '{ printf "| %-8s | %9.2f | %9.2f | %9.2f | %6.2fx |\n", rt, $1 * 1000, $2 * 1000, $3 * 1000, $1 / h }'
done
