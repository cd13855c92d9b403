# Shared helpers for the integration and end-to-end suites: TAP-like lines, a closing
# "N passed, N failed" line, and a cleanup stack that runs also when a test fails.
T_PASS=0
T_FAIL=0
T_SKIP=0
T_CLEANUP=()
T_LATE=()

ok()  { T_PASS=$((T_PASS + 1)); echo "ok - $*"; }
nok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $*"; }
# skip DESC: a check that cannot run here, said so and counted (never a pass).
skip() { T_SKIP=$((T_SKIP + 1)); echo "skip - $*"; }
# late_ok / late_nok / late_note TEXT: results found while the cleanup stack runs (its output
# is discarded); summary prints them before the closing line.
late_ok()   { T_PASS=$((T_PASS + 1)); T_LATE+=("ok - $*"); }
late_nok()  { T_FAIL=$((T_FAIL + 1)); T_LATE+=("not ok - $*"); }
late_note() { T_LATE+=("#   $*"); }

# check DESC CMD...: passes when CMD succeeds.
check() {
	local desc=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$desc"; else nok "$desc"; fi
}
# refute DESC CMD...: passes when CMD fails.
refute() {
	local desc=$1; shift
	if "$@" >/dev/null 2>&1; then nok "$desc"; else ok "$desc"; fi
}
# check_eq DESC EXPECTED ACTUAL
check_eq() {
	if [ "$2" == "$3" ]; then ok "$1"; else nok "$1 (expected [$2], got [$3])"; fi
}
# check_contains DESC HAYSTACK NEEDLE
check_contains() {
	if [[ "$2" == *"$3"* ]]; then ok "$1"; else nok "$1 ([$2] lacks [$3])"; fi
}

# check_same DESC EXPECTED ACTUAL: check_eq for multi-line text; shows the diff on failure.
check_same() {
	if [ "$2" == "$3" ]; then
		ok "$1"
	else
		nok "$1"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/#   /' | head -40
	fi
}
on_exit() { T_CLEANUP+=("$*"); }
run_cleanup() {
	local i
	for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	T_CLEANUP=()
}

# summary: the closing line ("N passed, N failed", and ", N skipped" when some were); exit
# status 0 only without failures.  Every suite ends with it: a runner takes a suite whose
# output lacks it for a suite that died.
summary() {
	[ ${#T_LATE[@]} -eq 0 ] || printf '%s\n' "${T_LATE[@]}"
	T_LATE=()
	if [ "$T_SKIP" -gt 0 ]; then
		echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	else
		echo "$T_PASS passed, $T_FAIL failed"
	fi
	[ "$T_FAIL" -eq 0 ]
}

# closing_counts FILE: "PASSED FAILED" from the last closing line in FILE; fails without one.
closing_counts() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	[ -n "$line" ] || return 1
	echo "$line" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1 \2/'
}

# run_suite SUITE ARGS...: runs one suite (its output shown as it comes) and returns its exit
# status.  A suite that exits non-zero without a closing line, or after one that says
# "0 failed", died half-way (a signal, an exit under set -e, a crash): it is reported here
# with a closing line of its own, "0 passed, 1 failed", so that it counts in the total.  A
# suite that exits 0 without a closing line is a failure too.
run_suite() {
	local out rc counts name t0=$SECONDS
	name=$(basename "$1")
	out=$(mktemp /tmp/tiernet-suite.XXXXXX)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	# Where the README test command's time goes (it has a budget of about 25 minutes).
	echo "# $name took $((SECONDS - t0)) s"
	counts=$(closing_counts "$out")
	rm -f "$out"
	if [ -z "$counts" ]; then
		echo "not ok - $name ended (exit $rc) without its closing line"
		echo "0 passed, 1 failed"
		[ "$rc" -ne 0 ] || rc=1
	elif [ "$rc" -ne 0 ] && [ "${counts#* }" = 0 ]; then
		echo "not ok - $name exited $rc after a closing line without failures"
		echo "0 passed, 1 failed"
	fi
	return "$rc"
}

# sanitizer_build BINARY: BINARY was built with AddressSanitizer (the ASan+UBSan build).
sanitizer_build() {
	ldd "$1" 2>/dev/null | grep -q 'libasan\|libclang_rt.asan' ||
		nm "$1" 2>/dev/null | grep -q ' __asan_init'
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "skipped: needs root"
		exit 127
	fi
}

# retry N CMD...: runs CMD up to N times, 0.2 s apart, until it succeeds.
retry() {
	local n=$1 i; shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# l2_count PATTERN: the packets counted by the first rule of tiernet's layer-2 guard (nftables
# table bridge tiernet) whose listing matches the extended regex PATTERN (0 when none).
l2_count() {
	nft list table bridge tiernet 2>/dev/null | grep -E -m1 -- "$1" |
		sed -n 's/.* counter packets \([0-9]*\) .*/\1/p' | grep . || echo 0
}

# ---- the daemon under test (both layers set TMP, SOCK, STATE and CONF first) ----

# write_default_policy FILE: the embedded default, as a file (tests pass --config explicitly).
write_default_policy() {
	cat >"$1" <<'POLICY'
tier front
tier mid
tier back internal
allow world -> front
allow front -> mid
allow mid   -> back
POLICY
	chmod 0644 "$1"
}

# plugin_start BINARY [EXTRA ARGS]: starts the daemon and waits for its socket.
# PLUGIN_ARGS (default none) come before EXTRA ARGS: the integration suites set
# "--names off", so that a dockerd running on the host never feeds their daemons names.
plugin_start() {
	local bin=$1; shift
	# shellcheck disable=SC2086 # PLUGIN_ARGS is a list of words
	"$bin" serve --socket "$SOCK" --state-dir "$STATE" --config "$CONF" --log-level debug \
		${PLUGIN_ARGS:-} "$@" >>"$TMP/plugin.log" 2>&1 &
	PLUGIN_PID=$!
	retry 50 test -S "$SOCK" || { echo "# plugin did not start:"; sed 's/^/#   /' "$TMP/plugin.log"; }
}

# plugin_stop: SIGTERM and wait; PLUGIN_ET is its exit status.
plugin_stop() {
	[ -n "$PLUGIN_PID" ] || return 0
	kill -TERM "$PLUGIN_PID" 2>/dev/null
	wait "$PLUGIN_PID" 2>/dev/null
	PLUGIN_ET=$?
	PLUGIN_PID=
}

plugin_log() { sed 's/^/#   plugin: /' "$TMP/plugin.log"; }

# plugin_hup: SIGHUP to the daemon, then waits (5 s at most) until it logged the outcome.
# Returns 0 when the new policy was applied, 1 when it was rejected, 2 when nothing was logged.
plugin_hup() {
	local ok bad i
	ok=$(grep -c 'new policy applied' "$TMP/plugin.log")
	bad=$(grep -c 'old policy stays in force' "$TMP/plugin.log")
	kill -HUP "$PLUGIN_PID" || return 2
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -c 'new policy applied' "$TMP/plugin.log")" -gt "$ok" ] && return 0
		[ "$(grep -c 'old policy stays in force' "$TMP/plugin.log")" -gt "$bad" ] && return 1
		sleep 0.1
	done
	return 2
}

# sanitizer_report: prints every AddressSanitizer / LeakSanitizer report file (under
# $TMP/sanitizer, where the integration suites point ASAN_OPTIONS' log_path) and every UBSan
# or sanitizer line of the daemon's logs, if any; fails when there is none.
sanitizer_report() {
	local f found=1
	for f in "$TMP"/sanitizer/report.*; do
		[ -e "$f" ] || continue
		echo "== $(basename "$f"):"
		cat "$f"
		found=0
	done
	grep -hE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP"/plugin.log* 2>/dev/null && found=0
	return $found
}

# Clean up also when a suite dies half-way (timeout, ^C, a failed command under set -e).
trap 'run_cleanup' EXIT
trap 'exit 130' INT TERM
