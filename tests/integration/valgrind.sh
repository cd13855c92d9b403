#!/usr/bin/env bash
# Memory: core.sh and bad-input.sh again, with the daemon under valgrind memcheck.  Every
# daemon they stop with SIGTERM (core.sh restarts it once) must return from main (driver_exit
# frees the driver) with no memcheck error and no definite or indirect leak; no run at all
# may show a memory error.  A sanitizer build cannot run under valgrind: given one, the suite
# says so and passes (the ASan build has LeakSanitizer for that).
# usage: valgrind.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
need_root
BIN=$(realpath "$1")
if sanitizer_build "$BIN"; then
	echo "# valgrind: $BIN is a sanitizer build; memcheck runs on the normal build"
	echo "0 passed, 0 failed"
	exit 0
fi
if ! command -v valgrind >/dev/null; then
	nok "valgrind is not installed (apt-get install valgrind)"
	summary
	exit 1
fi

VG=$(mktemp -d /tmp/tiernet-vg.XXXXXX)
chmod 0755 "$VG"
on_exit "rm -rf $VG"
trap 'run_cleanup' EXIT
trap 'exit 130' INT TERM

# The wrapper the suites start as their daemon: it runs the daemon under valgrind, passes
# SIGTERM, SIGINT and SIGHUP on, notes which runs were stopped by SIGTERM/SIGINT (those must
# end clean) and exits with valgrind's status (99 on any error).  valgrind's log is named by
# its pid, the one the wrapper waits for.
cat >"$VG/tiernet" <<WRAPPER
#!/bin/bash
valgrind --error-exitcode=99 --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
	--suppressions="$HERE/valgrind.supp" --log-file="$VG/vg.%p.log" "$BIN" "\$@" &
pid=\$!
trap 'touch "$VG/stopped.\$pid"; kill -TERM \$pid' TERM
trap 'touch "$VG/stopped.\$pid"; kill -INT \$pid' INT
trap 'kill -HUP \$pid' HUP
while :; do
	wait \$pid
	rc=\$?
	kill -0 \$pid 2>/dev/null || break
done
echo \$rc >"$VG/rc.\$pid"
exit \$rc
WRAPPER
chmod 0755 "$VG/tiernet"

# Each sub-suite's results become this suite's: its lines are shown prefixed, its closing line
# is added into this suite's counts, and one that died (non-zero exit without a closing
# line, or after one without failures) is a failure.
for suite in core bad-input; do
	echo "# $suite.sh with the daemon under valgrind"
	"$HERE/$suite.sh" "$VG/tiernet" >"$VG/$suite.out" 2>&1
	rc=$?
	sed -E 's/^(ok|not ok|skip) - /\1 - valgrind: /; s/^([0-9]+ passed, [0-9]+ failed.*)/# valgrind: '"$suite"'.sh: \1/' \
		"$VG/$suite.out"
	if counts=$(closing_counts "$VG/$suite.out"); then
		T_PASS=$((T_PASS + ${counts% *})) T_FAIL=$((T_FAIL + ${counts#* }))
		[ "$rc" -eq 0 ] || [ "${counts#* }" -gt 0 ] ||
			nok "valgrind: $suite.sh exited $rc after a closing line without failures"
	else
		nok "valgrind: $suite.sh ended (exit $rc) without its closing line"
	fi
done

# One log per daemon run.  Every run: no memory error.  A run stopped by SIGTERM/SIGINT (a
# daemon that served): valgrind's summary says 0 errors (the leaks asked for count as
# errors), valgrind exited 0, and the daemon returned from main instead of dying of the
# signal.  A run that refused to start left through fatal(): its leaks are shown, not counted.
MEMERR='^==[0-9]+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap)'
logs=("$VG"/vg.*.log)
check "valgrind ran the daemon (a log per run)" test -e "${logs[0]}"
stopped=0
for log in "${logs[@]}"; do
	[ -e "$log" ] || continue
	name=$(basename "$log" .log)
	pid=${name#vg.}
	cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$log")
	echo "# $name: ${cmd#"$BIN" }"
	refute "$name: no memory error" grep -Eq "$MEMERR" "$log"
	if [ -e "$VG/stopped.$pid" ]; then
		stopped=$((stopped + 1))
		check "$name: memcheck reports 0 errors and no definite or indirect leak" \
			grep -q 'ERROR SUMMARY: 0 errors' "$log"
		check_eq "$name: valgrind exited 0" 0 "$(cat "$VG/rc.$pid" 2>/dev/null)"
		refute "$name: the daemon returned from main (not killed by the signal)" \
			grep -q 'Process terminating with default action' "$log"
	else
		echo "#   did not serve (exit status $(cat "$VG/rc.$pid" 2>/dev/null)): leaks at fatal() are shown, not counted"
	fi
	if grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
		grep -E 'in use at exit' "$log" | sed 's/^==[0-9]*==/#  /'
	else
		grep -E '==[0-9]+== ([0-9,]+ .*bytes in|   (at|by) |LEAK SUMMARY|   +[a-z ]+ lost:|ERROR SUMMARY)' \
			"$log" | head -60 | sed 's/^/#   /'
	fi
done
check "core.sh and bad-input.sh stopped at least 3 daemons with SIGTERM" test "$stopped" -ge 3
run_cleanup
summary
