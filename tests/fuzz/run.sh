#!/usr/bin/env bash
# Runs libFuzzer harnesses built by `make fuzz-build`, each for SECONDS seconds, on a working
# corpus in build/fuzz/corpus/NAME seeded from tests/fuzz/corpus/NAME (the seeds, which also
# hold the regression input of every crash found so far, are read, never written).  Prints one
# TAP-like line per harness with its executions, and a closing "N passed, N failed" line.
# A crash leaves its input in build/fuzz/artifacts/NAME/ and the log in build/fuzz/logs/.
# A harness passes only when it ran at least FUZZ_MIN_EXECS executions (default 1000 per
# harness; each one runs some 10,000 a second here): one that exits 0 having run nothing, or
# only its seeds, proves nothing.
# usage: tests/fuzz/run.sh SECONDS NAME...
set -u
cd "$(dirname "$0")/../.."
secs=$1
min=${FUZZ_MIN_EXECS:-1000}
shift
pass=0
fail=0
mkdir -p build/fuzz/logs
for name in "$@"; do
	bin=build/fuzz/fuzz_$name
	seeds=tests/fuzz/corpus/$name
	work=build/fuzz/corpus/$name
	art=build/fuzz/artifacts/$name/
	log=build/fuzz/logs/$name.log
	mkdir -p "$work" "$art"
	opts=(-max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
		-max_len=16384 -artifact_prefix="$art")
	[ -f "tests/fuzz/$name.dict" ] && opts+=(-dict="tests/fuzz/$name.dict")
	# fuzz_admin starts the real driver, which switches on net.ipv4.ip_forward: as root, in a
	# network namespace of its own.
	wrap=()
	if [ "$name" = admin ] && [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
		wrap=(unshare -n)
	fi
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz_$name: $bin is missing (make fuzz-build)"
		fail=$((fail + 1))
		continue
	fi
	"${wrap[@]}" "$bin" "${opts[@]}" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	printf '%s %s %s %s\n' "$(date -u +%FT%TZ)" "$name" "${execs:-0}" "$secs" \
		>>build/fuzz/executions.log
	if [ $rc -eq 0 ] && [ "${execs:-0}" -ge "$min" ]; then
		echo "ok - fuzz_$name: $execs executions in ${secs}s (${rate:-?}/s), no crash"
		pass=$((pass + 1))
	elif [ $rc -eq 0 ]; then
		echo "not ok - fuzz_$name: only ${execs:-0} executions in ${secs}s (at least $min needed); see $log"
		tail -5 "$log" | sed 's/^/#   /'
		fail=$((fail + 1))
	else
		echo "not ok - fuzz_$name: exit $rc after ${execs:-?} executions; see $log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*broken promise|.*runtime error)' "$log" |
			head -5 | sed 's/^/#   /'
		ls "$art" 2>/dev/null | head -3 | sed "s|^|#   input: $art|"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
