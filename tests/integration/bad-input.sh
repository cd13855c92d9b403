#!/usr/bin/env bash
# Integration: bad requests get a non-2xx status or a 200 with an Err sentence a user can act
# on, change nothing (links, rules, state), and the daemon keeps serving.  Subnets 10.79.0.0/16.
# usage: bad-input.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers

plugin_start "$BIN"
on_exit plugin_stop

NET=ab00000000000000000000000000000000000000000000000000000000000001
EP=ef00000000000000000000000000000000000000000000000000000000000001
UNKNOWN=cd00000000000000000000000000000000000000000000000000000000000009

# A known-good network and endpoint, so "changes nothing" covers existing objects too.
call /NetworkDriver.CreateNetwork "$(net_body $NET front 10.79.1.1/24 10.79.1.0/24)"
check_eq "setup: network" '200 {}' "$CODE $BODY"
call /NetworkDriver.CreateEndpoint "$(ep_body $NET $EP 10.79.1.2/24)"
check_contains "setup: endpoint" "$CODE $BODY" '200 {"Interface"'

snapshot() {
	{
		ip -o link | grep -o ': tn[^:@]*' | sort
		ip -o addr | grep ' tn' | awk '{print $2, $4}' | sort
		iptables-legacy-save | grep -v '^#' | sed 's/\[[0-9:]*\]//'
		find "$STATE" -type f | sort
		cat "$STATE"/*/*.json
	} 2>&1
}
BEFORE=$(snapshot)

# expect_err DESC PATH BODY NEEDLE: an Err (any status but 2xx-without-Err) that says NEEDLE.
expect_err() {
	call "$2" "$3"
	if [[ "$CODE" != 200 || "$BODY" == *'"Err":"tiernet: '* ]] && [[ "$BODY" == *"$4"* ]]; then
		ok "$1"
	else
		nok "$1 (got $CODE $BODY)"
	fi
}

echo "# malformed requests"
expect_err "malformed JSON" /NetworkDriver.CreateNetwork '{"NetworkID": ' "not valid JSON"
expect_err "empty body (dockerd's retry)" /NetworkDriver.CreateNetwork "" "has no body"
expect_err "empty body on CreateEndpoint" /NetworkDriver.CreateEndpoint "" "has no body"
expect_err "empty body on Join" /NetworkDriver.Join "" "has no body"
expect_err "not an object" /NetworkDriver.CreateNetwork '[1,2]' "not a JSON object"
expect_err "wrong type of NetworkID" /NetworkDriver.CreateNetwork '{"NetworkID":5}' \
	"field NetworkID must be a string"
expect_err "missing NetworkID" /NetworkDriver.DeleteNetwork '{}' "lacks the field NetworkID"
expect_err "bad ID" /NetworkDriver.DeleteNetwork '{"NetworkID":"../../etc"}' \
	"is not a 64-character hex ID"
expect_err "wrong type of IPv4Data" /NetworkDriver.CreateNetwork \
	"{\"NetworkID\":\"$UNKNOWN\",\"IPv4Data\":{}}" "IPv4Data must be an array"
expect_err "wrong type of Gateway" /NetworkDriver.CreateNetwork \
	"{\"NetworkID\":\"$UNKNOWN\",\"IPv4Data\":[{\"Gateway\":1}]}" "Gateway must be a string"
expect_err "option that is not a string" /NetworkDriver.CreateNetwork \
	"{\"NetworkID\":\"$UNKNOWN\",\"Options\":{\"com.docker.network.generic\":{\"tier\":1}}}" \
	'network option \"tier\" must be a string'
expect_err "deep nesting" /NetworkDriver.CreateNetwork \
	"$(printf '{"a":%.0s' {1..40})1$(printf '}%.0s' {1..40})" "nests deeper"
expect_err "bad MAC" /NetworkDriver.CreateEndpoint \
	"{\"NetworkID\":\"$NET\",\"EndpointID\":\"$UNKNOWN\",\"Interface\":{\"Address\":\"10.79.1.9/24\",\"MacAddress\":\"zz\"}}" \
	'MacAddress \"zz\" is not a MAC'
expect_err "bad address" /NetworkDriver.CreateEndpoint \
	"{\"NetworkID\":\"$NET\",\"EndpointID\":\"$UNKNOWN\",\"Interface\":{\"Address\":\"10.79.1.999/24\"}}" \
	"is not an IPv4 address"

echo "# refused settings"
expect_err "missing tier lists the declared tiers" /NetworkDriver.CreateNetwork \
	"{\"NetworkID\":\"$UNKNOWN\",\"Options\":{\"com.docker.network.generic\":{}},\"IPv4Data\":[{\"Gateway\":\"10.79.2.1/24\",\"Pool\":\"10.79.2.0/24\"}]}" \
	"missing option tier: create the network with -o tier=NAME, where NAME is one of the declared tiers: front, mid, back"
expect_err "unknown tier lists the declared tiers" /NetworkDriver.CreateNetwork \
	"$(net_body $UNKNOWN gold 10.79.2.1/24 10.79.2.0/24)" \
	'unknown tier \"gold\": use one of the declared tiers (front, mid, back)'
expect_err "unknown option is named" /NetworkDriver.CreateNetwork \
	"$(net_body $UNKNOWN front 10.79.2.1/24 10.79.2.0/24 '"foo":"bar","tiernet.mode":"l3"')" \
	'unknown network option \"foo\", \"tiernet.mode\"'
expect_err "bad MTU" /NetworkDriver.CreateNetwork \
	"$(net_body $UNKNOWN front 10.79.2.1/24 10.79.2.0/24 '"mtu":"big"')" 'mtu=\"big\" is not an MTU'
expect_err "bridge name without the tn prefix" /NetworkDriver.CreateNetwork \
	"$(net_body $UNKNOWN front 10.79.2.1/24 10.79.2.0/24 '"com.docker.network.bridge.name":"eth0"')" \
	'bridge name \"eth0\" is not valid'
expect_err "bridge name of another network" /NetworkDriver.CreateNetwork \
	"$(net_body $UNKNOWN front 10.79.2.1/24 10.79.2.0/24 '"com.docker.network.bridge.name":"tnbab0000000000"')" \
	'is already used by network ab0000000000'
expect_err "two IPv6 subnets" /NetworkDriver.CreateNetwork \
	"{\"NetworkID\":\"$UNKNOWN\",\"Options\":{\"com.docker.network.enable_ipv6\":true,\"com.docker.network.generic\":{\"tier\":\"front\"}},\"IPv4Data\":[{\"Gateway\":\"10.79.2.1/24\",\"Pool\":\"10.79.2.0/24\"}],\"IPv6Data\":[{\"Gateway\":\"fd00::1/64\",\"Pool\":\"fd00::/64\"},{\"Gateway\":\"fd00:1::1/64\",\"Pool\":\"fd00:1::/64\"}]}" \
	"needs exactly one IPv6 subnet, got 2"
expect_err "no IPv4 subnet" /NetworkDriver.CreateNetwork \
	"{\"NetworkID\":\"$UNKNOWN\",\"Options\":{\"com.docker.network.generic\":{\"tier\":\"front\"}},\"IPv4Data\":[]}" \
	"needs exactly one IPv4 subnet, got 0"
expect_err "swarm allocation" /NetworkDriver.AllocateNetwork "{\"NetworkID\":\"$UNKNOWN\"}" \
	"local-scope driver"
expect_err "endpoint on an unknown network" /NetworkDriver.CreateEndpoint \
	"$(ep_body $UNKNOWN $UNKNOWN 10.79.2.5/24)" "is unknown to tiernet"
expect_err "endpoint outside the subnet" /NetworkDriver.CreateEndpoint \
	"$(ep_body $NET $UNKNOWN 10.79.9.5/24)" "is not a host address of the network's subnet"
expect_err "unknown endpoint driver-opt" /NetworkDriver.CreateEndpoint \
	"{\"NetworkID\":\"$NET\",\"EndpointID\":\"$UNKNOWN\",\"Interface\":{\"Address\":\"10.79.1.7/24\"},\"Options\":{\"tiernet.tier\":\"gold\"}}" \
	'unknown endpoint option \"tiernet.tier\"'
expect_err "Join of an unknown endpoint" /NetworkDriver.Join "$(join_body $NET $UNKNOWN /x)" \
	"is unknown to tiernet"
expect_err "unknown path" /NetworkDriver.Frobnicate '{}' 'unknown path'
call /NetworkDriver.Frobnicate '{}'
check_eq "unknown path is a 404" 404 "$CODE"

echo "# a request path cannot forge a line in the log (libmicrohttpd decodes %0a)"
CODE=$(curl -sS -g --unix-socket "$SOCK" -o "$TMP/resp" -w '%{http_code}' -X POST -H 'Host;' \
	--data-binary '{}' 'http://plugin/NetworkDriver.Frob%0atiernet[error]:%20forged%0d%1b[2J')
check_eq "a path with an encoded newline gets 404" 404 "$CODE"
check_contains "its Err quotes the path with ? for each control character" "$(cat "$TMP/resp")" \
	'unknown path \"/NetworkDriver.Frob?tiernet[error]: forged??[2J\"'
check "the daemon logged it on one line, quoted the same way" \
	grep -qF 'unknown path "/NetworkDriver.Frob?tiernet[error]: forged??[2J"' "$TMP/plugin.log"
refute "no line of the daemon's log starts with the forged text" \
	grep -q '^tiernet\[error\]: forged' "$TMP/plugin.log"

head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' ' ' >"$TMP/big"
CODE=$(curl -sS --unix-socket "$SOCK" -o "$TMP/resp" -w '%{http_code}' -X POST -H 'Host;' \
	--data-binary @"$TMP/big" http://plugin/NetworkDriver.CreateNetwork)
check_eq "a body over 1 MiB is refused with 413" 413 "$CODE"
check_contains "and says why" "$(cat "$TMP/resp")" "larger than 1048576 bytes"

AFTER=$(snapshot)
if [ "$BEFORE" == "$AFTER" ]; then ok "no bad request changed links, rules or state"
else nok "bad requests changed something:"; diff <(echo "$BEFORE") <(echo "$AFTER") | sed 's/^/#   /'; fi
check "the daemon still serves" call_ok /NetworkDriver.GetCapabilities
check "and is still alive" kill -0 "$PLUGIN_PID"

call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NET\",\"EndpointID\":\"$EP\"}"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NET\"}"
refute "cleanup leaves nothing" sh -c "ip -o link | grep -q ': tn' || iptables-legacy-save | grep -q TIERNET"
run_cleanup
summary
