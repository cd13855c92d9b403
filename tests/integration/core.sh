#!/usr/bin/env bash
# Integration: `tiernet serve` in a private network namespace, driven through its socket the
# way dockerd drives it (PROTOCOL.md §5), with real bridges, veths, rules and traffic.
# Two network namespaces play the containers.  Subnets: 10.77.0.0/16.
# usage: core.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers

plugin_start "$BIN"
on_exit plugin_stop

NET=1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f7a8b
EP1=e1e1e1e1e1e1aaaa0000000000000000000000000000000000000000000000aa
EP2=e2e2e2e2e2e2bbbb0000000000000000000000000000000000000000000000bb
BR=tnb1a2b3c4d5e6f
NS1=tnit-c1-$$
NS2=tnit-c2-$$
on_exit "ip netns del $NS1; ip netns del $NS2"

OUT=$(timeout 5 "$BIN" serve --socket "$TMP/second.sock" --state-dir "$TMP/state2" \
	--config "$CONF" 2>&1)
check_contains "a second daemon in the same network namespace refuses to start" "$OUT" \
	"another tiernet daemon runs in this network namespace already"

echo "# handshake"
call /Plugin.Activate ""
check_eq "Activate answers 200" 200 "$CODE"
check_contains "Activate implements NetworkDriver" "$BODY" '"Implements":["NetworkDriver"]'
call /NetworkDriver.GetCapabilities ""
check_contains "GetCapabilities says local scope" "$BODY" '"Scope":"local"'

echo "# CreateNetwork"
call /NetworkDriver.CreateNetwork "$(net_body $NET front 10.77.1.1/24 10.77.1.0/24)"
check_eq "CreateNetwork succeeds" '200 {}' "$CODE $BODY"
check "bridge $BR exists and is up" sh -c "ip -br link show $BR | grep -q UP"
check "bridge has the gateway address" sh -c "ip -br addr show $BR | grep -q 10.77.1.1/24"
check_eq "bridge MAC is derived from the gateway" "02:42:0a:4d:01:01" \
	"$(mac_of $BR)"
check "network state persisted" test -s "$STATE/networks/$NET.json"
check "TIERNET chains are hooked in legacy FORWARD" \
	sh -c "iptables-legacy -S FORWARD | grep -qx -- '-A FORWARD -j TIERNET-FWD'"
check "mangle decides, hooked once" \
	sh -c "[ \$(iptables-legacy -t mangle -S FORWARD | grep -c TIERNET-FWD) = 1 ]"
check_eq "ip_forward is on" 1 "$(cat /proc/sys/net/ipv4/ip_forward)"

call /NetworkDriver.CreateNetwork "$(net_body $NET front 10.77.1.1/24 10.77.1.0/24)"
check_eq "a repeated CreateNetwork has the effect of one" '200 {}' "$CODE $BODY"

echo "# CreateEndpoint"
call /NetworkDriver.CreateEndpoint "$(ep_body $NET $EP1 10.77.1.2/24)"
check_eq "CreateEndpoint returns the MAC derived from the address" \
	'200 {"Interface":{"MacAddress":"02:42:0a:4d:01:02"}}' "$CODE $BODY"
check "host end tnve1e1e1e1e1e1 is on the bridge" \
	sh -c "ip -o link show tnve1e1e1e1e1e1 | grep -q 'master $BR'"
check_eq "container end carries the MAC" "02:42:0a:4d:01:02" \
	"$(mac_of tnce1e1e1e1e1e1)"
check "endpoint state persisted" test -s "$STATE/endpoints/$EP1.json"
call /NetworkDriver.CreateEndpoint "$(ep_body $NET $EP2 10.77.1.3/24 02:00:00:00:00:33)"
check_eq "a requested MAC is used and not echoed" '200 {"Interface":{}}' "$CODE $BODY"
check_eq "container end carries the requested MAC" "02:00:00:00:00:33" \
	"$(mac_of tnce2e2e2e2e2e2)"

echo "# Join and traffic"
call /NetworkDriver.Join "$(join_body $NET $EP1 /var/run/docker/netns/test1)"
check_eq "Join names the interface and the gateway" \
	'200 {"InterfaceName":{"SrcName":"tnce1e1e1e1e1e1","DstPrefix":"eth"},"Gateway":"10.77.1.1"}' \
	"$CODE $BODY"
call /NetworkDriver.Join "$(join_body $NET $EP2 /var/run/docker/netns/test2)"
check_contains "second Join succeeds" "$CODE $BODY" '200 {"InterfaceName":{"SrcName":"tnce2e2e2e2e2e2"'
call /NetworkDriver.EndpointOperInfo "{\"NetworkID\":\"$NET\",\"EndpointID\":\"$EP1\"}"
check_eq "EndpointOperInfo succeeds" '200 {"Value":{}}' "$CODE $BODY"
call /NetworkDriver.ProgramExternalConnectivity "$(join_body $NET $EP1 x)"
check_eq "ProgramExternalConnectivity is accepted" '200 {}' "$CODE $BODY"
call /NetworkDriver.RevokeExternalConnectivity "{\"NetworkID\":\"$NET\",\"EndpointID\":\"$EP2\"}"
check_eq "Revoke without Program is a harmless no-op" '200 {}' "$CODE $BODY"

container_in "$NS1" tnce1e1e1e1e1e1 10.77.1.2/24 10.77.1.1
container_in "$NS2" tnce2e2e2e2e2e2 10.77.1.3/24 10.77.1.1
serve_http "$NS2" 8080 c2
check "ping between the two containers" ip netns exec "$NS1" busybox ping -c1 -W2 10.77.1.3
check_eq "TCP between the two containers reaches c2" c2 \
	"$(ip netns exec "$NS1" timeout 3 busybox wget -q -O - http://10.77.1.3:8080/ 2>/dev/null)"
refute "the container cannot ping the host (no allow front -> host)" ping_once "$NS1" 10.77.1.1
# The control: the same ping is answered once the policy allows front -> host.
{ cat "$CONF"; echo "allow front -> host"; } >"$TMP/host.conf"
cp "$CONF" "$TMP/default.conf"
cp "$TMP/host.conf" "$CONF"
plugin_hup
check_eq "SIGHUP with allow front -> host is applied" 0 $?
check "control: with allow front -> host the same ping is answered" ping_once "$NS1" 10.77.1.1
cp "$TMP/default.conf" "$CONF"
plugin_hup
check_eq "SIGHUP back to the default policy is applied" 0 $?
refute "and the ping is refused again" ping_once "$NS1" 10.77.1.1

echo "# Leave and DeleteEndpoint"
container_out "$NS1" tnce1e1e1e1e1e1
container_out "$NS2" tnce2e2e2e2e2e2
for ep in $EP1 $EP2; do
	call /NetworkDriver.Leave "{\"NetworkID\":\"$NET\",\"EndpointID\":\"$ep\"}"
	check_eq "Leave ${ep:0:6}" '200 {}' "$CODE $BODY"
	call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NET\",\"EndpointID\":\"$ep\"}"
	check_eq "DeleteEndpoint ${ep:0:6}" '200 {}' "$CODE $BODY"
done
refute "veths are gone" sh -c "ip -o link | grep -q 'tnv\|tnc'"
check "endpoint state files are gone" sh -c "[ -z \"\$(ls $STATE/endpoints)\" ]"
call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NET\",\"EndpointID\":\"$EP1\"}"
check_eq "DeleteEndpoint of an unknown endpoint succeeds" '200 {}' "$CODE $BODY"

echo "# DeleteNetwork"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NET\"}"
check_eq "DeleteNetwork succeeds" '200 {}' "$CODE $BODY"
refute "bridge is gone" ip link show "$BR"
refute "no TIERNET chain or rule remains (legacy)" sh -c "iptables-legacy-save | grep -q TIERNET"
check "network state file is gone" sh -c "[ -z \"\$(ls $STATE/networks)\" ]"
check "the daemon still answers" call_ok /NetworkDriver.GetCapabilities

echo "# SIGTERM keeps links and rules, restart loads the state"
call /NetworkDriver.CreateNetwork "$(net_body $NET mid 10.77.2.1/24 10.77.2.0/24)"
call /NetworkDriver.CreateEndpoint "$(ep_body $NET $EP1 10.77.2.2/24)"
plugin_stop
refute "socket is removed on SIGTERM" test -e "$SOCK"
check "bridge survives SIGTERM" ip link show "$BR"
check "veth survives SIGTERM" ip link show tnve1e1e1e1e1e1
check "rules survive SIGTERM" sh -c "iptables-legacy-save | grep -q TIERNET-FWD"
plugin_start "$BIN"
call /NetworkDriver.Join "$(join_body $NET $EP1 /var/run/docker/netns/test1)"
check_contains "a restarted daemon knows the endpoint and its gateway" "$CODE $BODY" '"Gateway":"10.77.2.1"'
call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NET\",\"EndpointID\":\"$EP1\"}"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NET\"}"
refute "after the last network nothing tiernet remains" \
	sh -c "ip -o link | grep -q ': tn' || iptables-legacy-save | grep -q TIERNET"

run_cleanup
summary
