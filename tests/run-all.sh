#!/usr/bin/env bash
# The whole suite (README's test command): unit tests (normal and sanitizer builds),
# integration suites in network namespaces (normal and sanitizer builds), end-to-end suites
# against a real dockerd.  Every layer's counts are added into one closing line.
set -u
cd "$(dirname "$0")/.."
mkdir -p build
LOG=build/test.log
: >"$LOG"
pass=0 fail=0 layers_failed=()

# layer NAME CMD...: runs CMD, shows its output, adds its counts.
layer() {
	local name=$1 out rc p f; shift
	echo "=== $name"
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out" | tee -a "$LOG" | grep -v '^ok - ' 
	# Criterion: "Synthesis: Tested: T | Passing: P | Failing: F | Crashing: C"
	p=$(printf '%s\n' "$out" | sed -n 's/.*Synthesis: Tested: [0-9]* | Passing: \([0-9]*\) .*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/.*| Failing: \([0-9]*\) | Crashing: \([0-9]*\).*/\1 \2/p' | tail -1)
	if [ -n "$p" ]; then
		pass=$((pass + p)); fail=$((fail + ${f% *} + ${f#* }))
	fi
	while read -r p f; do
		pass=$((pass + p)); fail=$((fail + f))
	done < <(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p')
	if [ $rc -ne 0 ]; then
		layers_failed+=("$name")
		# A layer that died without counting still counts as one failure.
		printf '%s\n' "$out" | grep -Eq 'passed, [0-9]+ failed|Synthesis' || fail=$((fail + 1))
	fi
}

layer "unit" build/unit
layer "unit (ASan+UBSan, a leak or any sanitizer report fails)" tests/run-unit-asan.sh build/asan/unit
layer "static analysis (cppcheck, clang-tidy)" make -s analyze
layer "fuzz smoke (each harness 5 s, ASan+UBSan)" make -s fuzz-smoke
if [ "$(id -u)" -eq 0 ]; then
	layer "integration" tests/run-integration.sh build/tiernet build/asan/tiernet
	layer "end to end" tests/run-e2e.sh build/tiernet
else
	echo "=== integration and end-to-end suites skipped: they need root (sudo make test)"
	layers_failed+=("root suites skipped")
	fail=$((fail + 1))
fi
[ ${#layers_failed[@]} -eq 0 ] || echo "layers with failures: ${layers_failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ ${#layers_failed[@]} -eq 0 ]
