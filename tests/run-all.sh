#!/usr/bin/env bash
# The whole suite (README's test command): unit tests (normal and sanitizer builds),
# integration suites in network namespaces (normal and sanitizer builds), end-to-end suites
# against a real dockerd.  Every layer's counts are added into one closing line; the exit
# status is 0 exactly when that line says "0 failed".
# usage: tests/run-all.sh [LAYER...]   (default: all of unit unit-asan analyze fuzz
#                                       integration e2e, in that order)
set -u
LAYERS=(unit unit-asan analyze fuzz export integration e2e)
for l in "$@"; do
	[[ " ${LAYERS[*]} " == *" $l "* ]] || { echo "run-all: unknown layer $l (${LAYERS[*]})" >&2; exit 2; }
done
ONLY=" $* "
want() { [ "$ONLY" = "  " ] || [[ "$ONLY" == *" $1 "* ]]; }
cd "$(dirname "$0")/.."
mkdir -p build
LOG=build/test.log
: >"$LOG"
pass=0 fail=0 skip=0 layers_failed=()

# layer NAME CMD...: runs CMD, shows its output, adds its counts: Criterion's synthesis line
# and every "N passed, N failed" line (each suite prints one; a runner adds one for a suite
# that died before its own).  A layer that exits non-zero counts at least one failure, so
# the closing line never says "0 failed" while the exit status says otherwise.
layer() {
	local name=$1 out rc p f s before; shift
	echo "=== $name"
	before=$fail
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out" | tee -a "$LOG" | grep -v '^ok - '
	# Criterion: "Synthesis: Tested: T | Passing: P | Failing: F | Crashing: C"
	p=$(printf '%s\n' "$out" | sed -n 's/.*Synthesis: Tested: [0-9]* | Passing: \([0-9]*\) .*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/.*| Failing: \([0-9]*\) | Crashing: \([0-9]*\).*/\1 \2/p' | tail -1)
	if [ -n "$p" ]; then
		pass=$((pass + p)); fail=$((fail + ${f% *} + ${f#* }))
	fi
	while read -r p f s; do
		pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + ${s:-0}))
	done < <(printf '%s\n' "$out" |
		sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed\(, \([0-9]*\) skipped\)\{0,1\}.*/\1 \2 \4/p')
	if [ $rc -ne 0 ]; then
		layers_failed+=("$name (exit $rc)")
		[ "$fail" -gt "$before" ] || fail=$((fail + 1))
	fi
}

want unit && layer "unit" build/unit
want unit-asan &&
	layer "unit (ASan+UBSan, a leak or any sanitizer report fails)" tests/run-unit-asan.sh build/asan/unit
want analyze && layer "static analysis (cppcheck, clang-tidy)" make -s analyze
want fuzz && layer "fuzz smoke (each harness 5 s, ASan+UBSan)" make -s fuzz-smoke
# No root: `tiernet export kubernetes` against the Kubernetes API schema and the compiled rules.
want export &&
	layer "export (kubernetes): schema and equivalence" tests/export/run.sh build/tiernet build/k8s-matrix
if [ "$(id -u)" -eq 0 ]; then
	want integration && layer "integration" tests/run-integration.sh build/tiernet build/asan/tiernet
	want e2e && layer "end to end" tests/run-e2e.sh build/tiernet
elif want integration || want e2e; then
	echo "=== integration and end-to-end suites not run: they need root (sudo make test)"
	layers_failed+=("root suites not run")
	fail=$((fail + 1))
fi
[ "$ONLY" = "  " ] || echo "# only the layers:$ONLY"
[ ${#layers_failed[@]} -eq 0 ] || echo "layers with failures: ${layers_failed[*]}"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ ${#layers_failed[@]} -eq 0 ]
