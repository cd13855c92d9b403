#!/usr/bin/env bash
# Runs every end-to-end suite against a real dockerd.  Starts dockerd when none runs (and
# stops it afterwards), keeping its log in build/dockerd.log for failures.  A suite that dies
# before its closing line counts as a failure (run_suite, tests/lib.sh).
# usage: run-e2e.sh TIERNET_BINARY      (E2E_ONLY="names.sh core.sh" runs only those suites)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
BIN=$(realpath "$1")
LOG=$(realpath "$HERE/../build")/dockerd.log
DOCKER=/usr/bin/docker
started=

fwd_policy_set=
if ! "$DOCKER" info >/dev/null 2>&1; then
	echo "# starting dockerd (log: $LOG)"
	# dockerd 20.10 sets its FORWARD policy to DROP only when it turns forwarding on itself
	# (PROTOCOL.md §11): after an earlier run on this boot forwarding is on already, and the
	# suites would meet a host unlike a booted one.  Set it as dockerd would; put back below.
	fwd_was_on=$(cat /proc/sys/net/ipv4/ip_forward)
	setsid dockerd >"$LOG" 2>&1 </dev/null &
	started=$!
	for _ in $(seq 1 120); do
		"$DOCKER" info >/dev/null 2>&1 && break
		sleep 0.5
	done
	if ! "$DOCKER" info >/dev/null 2>&1; then
		echo "dockerd did not start:"; tail -30 "$LOG"
		echo "0 passed, 1 failed"
		exit 1
	fi
	if [ "$fwd_was_on" = 1 ] && nft list chain ip filter FORWARD 2>/dev/null | grep -q 'policy accept'; then
		echo "# forwarding was on before dockerd started: FORWARD policy set to DROP as on a booted host"
		iptables-nft -P FORWARD DROP && fwd_policy_set=1
	fi
fi
rc=0
for t in "$HERE"/e2e/*.sh; do
	case $t in *-lib.sh) continue ;; esac
	if [ -n "${E2E_ONLY:-}" ]; then
		case " $E2E_ONLY " in *" $(basename "$t") "*) ;; *) continue ;; esac
	fi
	echo "# e2e: $(basename "$t")"
	run_suite "$t" "$BIN" || rc=1
done
if [ -n "$started" ]; then
	# A suite may have restarted dockerd (policy.sh's legacy part): stop the one running now.
	pid=$(cat /var/run/docker.pid 2>/dev/null)
	[ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = dockerd ] || pid=$started
	kill "$pid" 2>/dev/null; wait "$started" 2>/dev/null
	for _ in $(seq 1 300); do [ -d /proc/"$pid" ] || break; sleep 0.2; done
	[ -n "$fwd_policy_set" ] && iptables-nft -P FORWARD ACCEPT 2>/dev/null
fi
if [ $rc -ne 0 ] && [ -n "$started" ]; then
	echo "# dockerd log (last 40 lines):"; tail -40 "$LOG" | sed 's/^/#   /'
fi
exit $rc
