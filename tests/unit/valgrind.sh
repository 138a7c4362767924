#!/bin/sh
# Runs every unit test binary under valgrind and fails on any memory error or
# definite/indirect leak. Build the tests first (`make check` or
# `make check TESTS=`).
# Usage: tests/unit/valgrind.sh [BUILD_DIR] [TEST_NAME...]
#   BUILD_DIR defaults to the current directory; TEST_NAMEs (e.g.
#   test_ocispec_config) narrow the run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-.}
[ $# -gt 0 ] && shift
dir="$build/tests/unit"
if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind.sh: valgrind is not installed (Debian: apt install valgrind)" >&2
	exit 2
fi

# ELF executables only: the directory also holds scripts and data.
is_elf() { [ -f "$1" ] && [ -x "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = "177ELF" ]; }

if [ $# -gt 0 ]; then
	tests=""
	for n in "$@"; do tests="$tests $dir/$n"; done
else
	tests=$(for f in "$dir"/*; do is_elf "$f" && echo "$f"; done)
fi
if [ -z "$tests" ]; then
	echo "valgrind.sh: no unit test binaries in $dir (run make check first)" >&2
	exit 2
fi

passed=0 failed=0
for t in $tests; do
	if ! is_elf "$t"; then
		echo "FAIL $(basename "$t"): not a test binary" >&2
		failed=$((failed + 1))
		continue
	fi
	log=$(mktemp)
	if valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--suppressions="$here/valgrind.supp" "$t" >"$log" 2>&1; then
		echo "ok   $(basename "$t")"
		passed=$((passed + 1))
	else
		echo "FAIL $(basename "$t")"
		cat "$log"
		failed=$((failed + 1))
	fi
	rm -f "$log"
done
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
