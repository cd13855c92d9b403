#!/usr/bin/env bash
# Integration: published ports (kernel DNAT), egress, internal tiers, through the socket as
# dockerd drives it.  A network namespace "world" is the outside host, linked to the
# unshare'd "host" by a veth: host 10.80.0.1, world 10.80.0.2 (no default route: it can only
# answer what reaches it).  Tiers: front 10.80.1.0/24, mid 10.80.2.0/24, back 10.80.3.0/24.
# usage: world.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers

W=tnit-world-$$
on_exit "ip netns del $W"
ip netns add "$W"
ip link add wld-up type veth peer name eth0 netns "$W"
ip addr add 10.80.0.1/24 dev wld-up
ip link set wld-up up
ip -n "$W" addr add 10.80.0.2/24 dev eth0
ip -n "$W" link set eth0 up
ip -n "$W" link set lo up

plugin_start "$BIN"
on_exit plugin_stop

FRONT=f1f1f1f1f1f10000000000000000000000000000000000000000000000000001
MID=f2f2f2f2f2f20000000000000000000000000000000000000000000000000002
BACK=f3f3f3f3f3f30000000000000000000000000000000000000000000000000003
ep() { printf 'e%011d%052d' "$1" 0; }
NSS=()
# container NAME NET EP ADDR GW: CreateEndpoint + Join + move into a namespace.
container() {
	local ns=tnit-$1-$$
	call /NetworkDriver.CreateEndpoint "$(ep_body $2 $3 $4/24)"
	# the sandbox: the namespace's file, which outlives a restart of tiernet (reconcile.c)
	call /NetworkDriver.Join "$(join_body $2 $3 /var/run/netns/$ns)"
	JOIN="$BODY"
	NSS+=("$ns")
	on_exit "ip netns del $ns"
	container_in "$ns" "tnc${3:0:12}" "$4/24" "$5"
}
# An HTTP server that answers with the client's address (busybox httpd CGI).
serve_whoami() {
	mkdir -p "$TMP/who-$2/cgi-bin"
	printf '#!/bin/sh\na=${REMOTE_ADDR#[::ffff:}\necho "Content-Type: text/plain"\necho\necho "%s ${a%%]}"\n' "$2" \
		>"$TMP/who-$2/cgi-bin/who"
	chmod +x "$TMP/who-$2/cgi-bin/who"
	ip netns exec "$1" busybox httpd -f -p "$3" -h "$TMP/who-$2" &
	on_exit "kill $!"
	retry 25 ip netns exec "$1" sh -c "busybox netstat -ltn | grep -q ':$3 '"
}
get() { ip netns exec "$1" timeout 2 busybox wget -q -O - "$2" 2>/dev/null; }
host_get() { timeout 2 busybox wget -q -O - "$1" 2>/dev/null; }
# world_refused DESC PORT CONTROL_PORT CONTROL_NAME: the world gets no answer from the host's
# PORT, while the same probe (the world fetching /cgi-bin/who, the only path the servers
# serve, from a published port of the host's address) gets CONTROL_NAME's answer from
# CONTROL_PORT at that moment.  Both run at once, so a dead world or a broken probe fails.
world_refused() {
	local no yes
	get "$W" "http://10.80.0.1:$2/cgi-bin/who" >"$TMP/refused.out" &
	yes=$(get "$W" "http://10.80.0.1:$3/cgi-bin/who")
	wait $!
	no=$(cat "$TMP/refused.out")
	if [ -n "$no" ]; then
		nok "$1 (port $2 answered the world: [$no])"
	elif [[ "$yes" != "$4 10.80.0.2" ]]; then
		nok "$1: unproven, the control (port $3) did not answer the world either ([$yes])"
	else
		ok "$1 (while port $3 answers the world: $yes)"
	fi
}

call /NetworkDriver.CreateNetwork "$(net_body $FRONT front 10.80.1.1/24 10.80.1.0/24)"
call /NetworkDriver.CreateNetwork "$(net_body $MID mid 10.80.2.1/24 10.80.2.0/24)"
call /NetworkDriver.CreateNetwork "$(net_body $BACK back 10.80.3.1/24 10.80.3.0/24)"
container web $FRONT "$(ep 1)" 10.80.1.2 10.80.1.1
container peer $FRONT "$(ep 2)" 10.80.1.3 10.80.1.1
container api $MID "$(ep 3)" 10.80.2.2 10.80.2.1
container db $BACK "$(ep 4)" 10.80.3.2 10.80.3.1
check_contains "an internal tier's Join disables Docker's gateway service" "$JOIN" \
	'"DisableGatewayService":true'
WEB=tnit-web-$$ PEER=tnit-peer-$$ API=tnit-api-$$ DB=tnit-db-$$
serve_whoami "$WEB" web 80
serve_whoami "$PEER" peer 80
serve_whoami "$API" api 80
serve_whoami "$DB" db 80
serve_whoami "$W" world 80

echo "# published ports"
pec $FRONT "$(ep 1)" "$(pm 6 80 18080),$(pm 17 53 18053)"
check_eq "Program on front succeeds" '200 {}' "$CODE $BODY"
check_eq "the world reaches the published port, with its own source address" \
	"web 10.80.0.2" "$(get "$W" http://10.80.0.1:18080/cgi-bin/who)"
check_contains "the host reaches it through 127.0.0.1" \
	"$(host_get http://127.0.0.1:18080/cgi-bin/who)" "web "
check_contains "the host reaches it through its own address" \
	"$(host_get http://10.80.0.1:18080/cgi-bin/who)" "web "
check_contains "a container of the same tier reaches it through the host (hairpin)" \
	"$(get "$PEER" http://10.80.0.1:18080/cgi-bin/who)" "web "
# busybox has no UDP client or server: bash sends, the receiver's counters prove arrival.
BEFORE=$(udp_seen "$WEB")
ip netns exec "$W" bash -c 'echo tiernet-udp >/dev/udp/10.80.0.1/18053'
sleep 0.2
check_eq "a udp port is published too (the container received the datagram)" \
	$((BEFORE + 1)) "$(udp_seen "$WEB")"
check "the mappings show in tiernet status" \
	sh -c "'$BIN' status --socket '$SOCK' | grep -q '0.0.0.0:18080 *-> 10.80.1.2:80/tcp'"

pec $FRONT "$(ep 2)" "$(pm 6 80 18080)"
check_contains "a host port taken by another mapping is refused" "$BODY" \
	"host port 18080/tcp is already published to 10.80.1.2"
pec $MID "$(ep 3)" "$(pm 6 80 18090)"
check_contains "publishing on a tier without allow world -> T names the line to add" "$BODY" \
	'add the line \"allow world -> mid\"'
world_refused "and nothing was published" 18090 18080 web
refute "no mapping for 18090" has_map 18090
pec $BACK "$(ep 4)" "$(pm 6 80 18095)"
check_contains "an internal tier cannot publish to the world" "$BODY" "is internal"
pec $MID "$(ep 3)" "$(pm 6 80 18091 127.0.0.1)"
check_eq "a port bound to 127.0.0.1 is allowed on a tier without world access" '200 {}' \
	"$CODE $BODY"
check_contains "and reachable from the host through 127.0.0.1" \
	"$(host_get http://127.0.0.1:18091/cgi-bin/who)" "api "
world_refused "but not from the world" 18091 18080 web
# On front the policy lets the world reach published ports: only the binding keeps it out.
pec $FRONT "$(ep 2)" "$(pm 6 80 18092 127.0.0.1)"
check_eq "a port bound to 127.0.0.1 on front (a tier the world may reach)" '200 {}' "$CODE $BODY"
check_contains "answers the host through 127.0.0.1" \
	"$(host_get http://127.0.0.1:18092/cgi-bin/who)" "peer "
world_refused "but not the world, though front's published ports are open to it" 18092 18080 web
pec $BACK "$(ep 4)" "$(pm 6 80 18096 127.0.0.1)"
check_contains "a 127.0.0.1 port even on an internal tier works from the host" \
	"$(host_get http://127.0.0.1:18096/cgi-bin/who)" "db "

pec $FRONT "$(ep 2)" "$(pm 6 80 0)"
AUTO=$("$BIN" status --json --socket "$SOCK" | grep -o '"host":[^,]*' | grep -o ':[0-9]*"' | tr -d ':"' | sort -n | awk '$1 >= 49153' | head -1)
check "-P / -p PORT get a host port from 49153-60999" test -n "$AUTO"
check_eq "and it is reachable from the world" "peer 10.80.0.2" \
	"$(get "$W" "http://10.80.0.1:${AUTO:-1}/cgi-bin/who")"

echo "# egress"
check_contains "front reaches the world (masqueraded)" \
	"$(get "$WEB" http://10.80.0.2/cgi-bin/who)" "world 10.80.0.1"
check_contains "mid reaches the world" "$(get "$API" http://10.80.0.2/cgi-bin/who)" "world "
refute "back (internal) does not reach the world" get "$DB" http://10.80.0.2/cgi-bin/who
check_contains "while the world answers others at that moment" \
	"$(get "$WEB" http://10.80.0.2/cgi-bin/who)" "world "

echo "# revoke"
call /NetworkDriver.RevokeExternalConnectivity "{\"NetworkID\":\"$FRONT\",\"EndpointID\":\"$(ep 1)\"}"
check_eq "Revoke succeeds" '200 {}' "$CODE $BODY"
world_refused "the port is gone after Revoke" 18080 "${AUTO:-1}" peer
refute "its mapping is gone" has_map 18080

echo "# a port change is map elements: no x_tables commit, the other mappings untouched"
# Both families' legacy rules, counters stripped, and the nat maps.
fw_all() {
	fw_rules
	ip6tables-legacy-save | grep -v '^#' | sed 's/\[[0-9:]*\]//'
	nat_maps
	nat_maps ip6
}
# A hand-made element in the nat map (a port nobody publishes) shows whether a call replaced
# the maps whole; hand-made rules in a tiernet chain of filter and of nat show which x_tables
# a call commits (a commit of a table rewrites its tiernet chains and takes the marker away).
HAND="tcp . 18999 : 10.80.0.2 . 9"
hand_add() { nft add element ip tiernet any "{ $HAND }"; }
has_hand() { nat_maps | grep -qF "any $HAND"; }
# same_as_full DESC: what is in force (the hand-made things aside) is what SIGHUP's full
# re-apply (every table of both families compiled and committed, the maps replaced) leaves.
same_as_full() {
	local before
	before=$(fw_all | grep -v -e tnit-marker -e "$HAND")
	plugin_hup || { nok "$1: SIGHUP was not applied"; return; }
	check_eq "$1" "$before" "$(fw_all)"
}
FCH=$(iptables-legacy -S | awk '$1 == "-N" && $2 ~ /^TIERNET/ {print $2; exit}')
marker() { iptables-legacy ${1:+-t $1} -A "$2" -p tcp --dport 18999 -m comment --comment tnit-marker -j RETURN; }
has_marker() { iptables-legacy -t "$1" -S | grep -q tnit-marker; }
marker "" "$FCH" && marker nat TIERNET-POST && hand_add
check "hand-made markers are in filter ($FCH) and nat" sh -c \
	"iptables-legacy -S | grep -q tnit-marker && iptables-legacy -t nat -S | grep -q tnit-marker"
check "and a hand-made element in the nat map" has_hand
pec $FRONT "$(ep 2)" "$(pm 6 80 0)"
check_eq "Program with the mappings the endpoint has already succeeds" '200 {}' "$CODE $BODY"
check "and commits nothing (the marker in nat stays)" has_marker nat
call /NetworkDriver.RevokeExternalConnectivity "{\"NetworkID\":\"$FRONT\",\"EndpointID\":\"$(ep 1)\"}"
check_eq "Revoke of an endpoint without mappings succeeds" '200 {}' "$CODE $BODY"
check "and commits nothing either" has_marker nat
check_eq "the auto port still reaches its container" "peer 10.80.0.2" \
	"$(get "$W" "http://10.80.0.1:${AUTO:-1}/cgi-bin/who")"
pec $FRONT "$(ep 1)" "$(pm 6 80 18080)"
check_eq "Program of a new mapping succeeds" '200 {}' "$CODE $BODY"
check "and commits no x_tables table (the markers in nat and filter stay)" \
	sh -c "iptables-legacy -S | grep -q tnit-marker && iptables-legacy -t nat -S | grep -q tnit-marker"
check "and adds its element, the other elements untouched (the hand-made one stays)" has_hand
check "control: the new element is there" has_map 18080
check_eq "the new mapping reaches its container from the world" "web 10.80.0.2" \
	"$(get "$W" http://10.80.0.1:18080/cgi-bin/who)"
same_as_full "after a Program that changed ports, the rules and maps are those of a full re-apply"
refute "control: a full re-apply commits filter (its marker is gone)" has_marker filter
refute "and replaces the maps whole (the hand-made element is gone)" has_hand
marker nat TIERNET-POST && hand_add
call /NetworkDriver.RevokeExternalConnectivity "{\"NetworkID\":\"$FRONT\",\"EndpointID\":\"$(ep 1)\"}"
check_eq "Revoke of that mapping succeeds" '200 {}' "$CODE $BODY"
check "and commits no x_tables table (the marker in nat stays)" has_marker nat
check "and deletes its element only (the hand-made one stays)" has_hand
world_refused "the revoked port is gone" 18080 "${AUTO:-1}" peer
same_as_full "after a Revoke that changed ports, the rules and maps are those of a full re-apply"
pec $FRONT "$(ep 2)" "$(pm 6 80 0)"
same_as_full "after a Program without change, the rules and maps are those of a full re-apply"

echo "# the nat tables: put back when removed, replaced whole at a restart"
pec $FRONT "$(ep 1)" "$(pm 6 80 18080)"
check_eq "setup: 18080 published again" '200 {}' "$CODE $BODY"
MAPS=$(nat_maps)
maps_back() { [ "$(nat_maps)" = "$MAPS" ]; }
nft delete table ip tiernet
check "after someone deletes tiernet's nat table, the tick puts it back with every mapping" \
	retry 40 maps_back
check "and says why in its log" grep -q "published ports' nftables table is not whole" \
	"$TMP/plugin.log"
check_eq "the port reaches its container again" "web 10.80.0.2" \
	"$(get "$W" http://10.80.0.1:18080/cgi-bin/who)"
hand_add
plugin_stop
check "tiernet stopped: the mappings stay in the kernel" has_map 18080
check_eq "and the port still reaches its container" "web 10.80.0.2" \
	"$(get "$W" http://10.80.0.1:18080/cgi-bin/who)"
plugin_start "$BIN"
no_hand() { ! has_hand; }
check "restarted, tiernet replaces its tables whole (the hand-made element is gone)" \
	retry 40 no_hand
check "with every mapping of its state" maps_back
check_eq "and the port reaches its container" "web 10.80.0.2" \
	"$(get "$W" http://10.80.0.1:18080/cgi-bin/who)"

echo "# teardown"
for i in 1 2 3 4; do
	case $i in 1 | 2) net=$FRONT ;; 3) net=$MID ;; 4) net=$BACK ;; esac
	call /NetworkDriver.Leave "{\"NetworkID\":\"$net\",\"EndpointID\":\"$(ep $i)\"}"
	call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$net\",\"EndpointID\":\"$(ep $i)\"}"
done
check_eq "Leave removed the remaining mappings" "" "$(nat_maps)"
for net in $FRONT $MID $BACK; do call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$net\"}"; done
refute "nothing tiernet remains" sh -c "ip -o link | grep -q ': tn' || iptables-legacy-save | grep -q TIERNET"
refute "not even its nf_tables tables" sh -c "nft list tables | grep -q tiernet"
run_cleanup
summary
