#!/usr/bin/env bash
# Integration: a network holds at most 1023 endpoints (a Linux bridge numbers its ports with
# 10 bits, port 0 unused); the next CreateEndpoint gets a sentence that says so, not the
# kernel's bare EXFULL, and changes nothing.  Subnet 10.88.0.0/16.
# usage: bridge-full.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers

# State on tmpfs: this suite is about the bridge, not about 1,023 fsyncs.
SHM=$(mktemp -d /dev/shm/tiernet-full.XXXXXX)
on_exit "rm -rf $SHM"
STATE=$SHM/state
plugin_start "$BIN"
on_exit plugin_stop

NET=b0b0b0b0b0b000000000000000000000000000000000000000000000000000ff
call /NetworkDriver.CreateNetwork "$(net_body $NET front 10.88.0.1/16 10.88.0.0/16)"
check_eq "network created" '200 {}' "$CODE $BODY"

# One curl process, one kept-alive connection, 1,023 requests (curl's --next).
ep_id() { printf 'e%05x%058d' "$1" 0; }
{
	for i in $(seq 1 1023); do
		[ "$i" -gt 1 ] && echo "next"
		echo "url = \"http://plugin/NetworkDriver.CreateEndpoint\""
		echo "unix-socket = \"$SOCK\""
		echo "request = \"POST\""
		echo "header = \"Host;\""
		printf 'data-binary = "%s"\n' \
			"$(ep_body $NET "$(ep_id "$i")" "10.88.$((i / 250)).$((i % 250 + 2))/16" | sed 's/"/\\"/g')"
		echo "output = \"/dev/null\""
	done
} >"$TMP/curl.cfg"
curl -sS --unix-socket "$SOCK" -K "$TMP/curl.cfg" 2>>"$TMP/curl.log"
check_eq "1023 endpoints fit on one bridge, each with its veth" 1023 \
	"$(ip -o link show master tnbb0b0b0b0b0b0 | wc -l)"
check_eq "and its state file" 1023 "$(ls "$STATE/endpoints" | wc -l)"
LINKS=$(ip -o link | wc -l)
call /NetworkDriver.CreateEndpoint "$(ep_body $NET "$(ep_id 1024)" 10.88.10.10/16)"
check_contains "the 1024th is refused with a sentence naming the limit" "$BODY" \
	"has 1023 endpoints, the most a Linux bridge takes"
check_eq "and nothing was made" "$LINKS" "$(ip -o link | wc -l)"
check "the daemon still serves" call_ok /NetworkDriver.GetCapabilities
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NET\"}"
check_eq "DeleteNetwork removes all 1023 leftovers" 0 "$(ip -o link | grep -c ': tn')"
run_cleanup
summary
