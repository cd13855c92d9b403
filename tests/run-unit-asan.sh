#!/usr/bin/env bash
# The unit tests built with AddressSanitizer, UBSan and LeakSanitizer.  Criterion runs each
# test in a worker process and ignores how the worker exits once the test reported success,
# so a leak report (LeakSanitizer's exit status 23) would go unseen and the run still say
# "Failing: 0".  Here every sanitizer report goes to a file of its own (log_path, one per
# process), and each one is a failure: printed, counted in a closing line, and the exit
# status is non-zero.
# usage: tests/run-unit-asan.sh [UNIT_BINARY [CRITERION OPTIONS...]]   (build/asan/unit)
set -u
cd "$(dirname "$0")/.."
BIN=${1:-build/asan/unit}
[ $# -gt 0 ] && shift
DIR=$(mktemp -d /tmp/tiernet-unit-asan.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
# Ours come last: they win over the caller's.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:log_path=$DIR/report
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$DIR/report
"$BIN" "$@"
rc=$?
n=0
for r in "$DIR"/report.*; do
	[ -e "$r" ] || continue
	n=$((n + 1))
	echo "not ok - sanitizer report from unit test process ${r##*.}: $(grep -m1 -E 'ERROR: |SUMMARY: |runtime error' "$r")"
	head -40 "$r" | sed 's/^/#   /'
done
if [ "$n" -eq 0 ]; then
	echo "ok - no sanitizer report from any unit test process"
	echo "1 passed, 0 failed"
else
	echo "0 passed, $n failed"
fi
[ "$rc" -eq 0 ] && [ "$n" -eq 0 ]
