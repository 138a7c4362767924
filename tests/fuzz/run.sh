#!/bin/sh
# Builds the libocispec fuzzer straight from the sources with clang
# (-fsanitize=fuzzer,address,undefined) and runs it for SECONDS (default 60)
# on a corpus seeded from the unit-test fixtures. Exits non-zero on any
# crash, leak, timeout or sanitizer report; the reproducer is left in
# $WORK/artifacts.
# Usage: tests/fuzz/run.sh [SECONDS]
set -eu
seconds=${1:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CLANG:-clang}
work=${FUZZ_WORK:-$(mktemp -d /tmp/husk-fuzz.XXXXXX)}
mkdir -p "$work/corpus" "$work/artifacts"

command -v "$cc" >/dev/null 2>&1 || { echo "fuzz: $cc not found (Debian: apt install clang)" >&2; exit 2; }

echo "fuzz: building in $work"
"$cc" -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$src/libocispec" "$src"/libocispec/*.c "$src/tests/fuzz/fuzz_config.c" \
	$(pkg-config --cflags --libs yajl 2>/dev/null || echo -lyajl) -o "$work/fuzz_config"

# Seeds: the full fixtures plus small documents of each kind.
cp "$src"/tests/unit/data/*.json "$work/corpus/"
printf '%s' '{"ociVersion":"1.3.0","id":"c","status":"running","pid":1,"bundle":"/b","annotations":{"a":"b"}}' \
	>"$work/corpus/state.json"
printf '%s' '{"ociVersion":"1.3.0","process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0}},"root":{"path":"rootfs"}}' \
	>"$work/corpus/minimal.json"
printf '%s' '{"ociVersionMin":"1.0.0","ociVersionMax":"1.3.0","linux":{"apparmor":{"enabled":true}}}' \
	>"$work/corpus/features-min.json"
printf '%s' '{"cwd":"/","args":["ls","-l"],"env":["A=1"],"rlimits":[{"type":"RLIMIT_NOFILE","hard":1,"soft":1}]}' \
	>"$work/corpus/process.json"

# Dictionary: every key the schema tables know, so mutations hit real fields.
grep -ohE 'F_[A-Z_]+\("[A-Za-z0-9]+"' "$src"/libocispec/*.c | sed -E 's/.*\("([^"]+)"/"\\"\1\\""/' | sort -u \
	>"$work/keys.dict"

echo "fuzz: running for ${seconds}s"
status=0
"$work/fuzz_config" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	-print_final_stats=1 -dict="$work/keys.dict" -artifact_prefix="$work/artifacts/" \
	"$work/corpus" >"$work/fuzz.log" 2>&1 || status=$?
grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|ERROR|SUMMARY|leak' "$work/fuzz.log" || true
if [ "$status" -ne 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
	echo "fuzz: FAILED (exit $status); log: $work/fuzz.log; artifacts:" >&2
	ls -l "$work/artifacts" >&2
	exit 1
fi
echo "fuzz: no findings"
