# Shared helpers for the integration and end-to-end suites: TAP-like lines, a closing
# "N passed, N failed" line, and a cleanup stack that runs also when a test fails.
T_PASS=0
T_FAIL=0
T_CLEANUP=()

ok()  { T_PASS=$((T_PASS + 1)); echo "ok - $*"; }
nok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $*"; }

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

on_exit() { T_CLEANUP+=("$*"); }
run_cleanup() {
	local i
	for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	T_CLEANUP=()
}

summary() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
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
plugin_start() {
	local bin=$1; shift
	"$bin" serve --socket "$SOCK" --state-dir "$STATE" --config "$CONF" --log-level debug \
		"$@" >>"$TMP/plugin.log" 2>&1 &
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

# sanitizer_report: prints an AddressSanitizer / LeakSanitizer / UBSan report from the
# daemon's log, if any; fails when there is none.
sanitizer_report() { grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/plugin.log"; }

# Clean up also when a suite dies half-way (timeout, ^C, a failed command under set -e).
trap 'run_cleanup' EXIT
trap 'exit 130' INT TERM
