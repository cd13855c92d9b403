#!/usr/bin/env bash
# Integration: dual-stack tiers (issue 13) through the socket as dockerd drives them, in a
# private network namespace.  The same policy holds over IPv6 as over IPv4: the whole matrix
# by TCP and ICMPv6 echo, an isolated tier with its port, the host edge (its global and its
# link-local address), published ports ([::], [::1], hairpin), egress with NAT66 and none
# from the internal tier, spoofed sources and a rogue router advertisement, the layer-2 drop
# on an IPv4-only network, restarts, bad input.  Every "no" stands next to a "yes" of the same
# probe.  Subnets: 10.94.0.0/16 and fd00:94::/32 (unique local, never routed).
# usage: ipv6.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers
FRAMES="python3 $HERE/../tools/frames.py"

cat >"$CONF" <<'EOF'
tier front
tier mid
tier back internal
tier iso isolated
allow world -> front
allow front -> mid
allow mid -> back
allow iso -> iso tcp/7000
allow mid -> host tcp/7171
EOF

# The world: a namespace behind a veth, host fd00:94:200::1, world fd00:94:200::2 (and the
# IPv4 pair), no route back: it answers only what reaches it (masqueraded).
W=tnit6-world-$$
on_exit "ip netns del $W"
ip netns add "$W"
ip link add wld6 type veth peer name eth0 netns "$W"
ip addr add 10.94.200.1/24 dev wld6
ip -6 addr add fd00:94:200::1/64 dev wld6 nodad
ip link set wld6 up
ip -n "$W" addr add 10.94.200.2/24 dev eth0
ip -n "$W" -6 addr add fd00:94:200::2/64 dev eth0 nodad
ip -n "$W" link set eth0 up
ip -n "$W" link set lo up

plugin_start "$BIN"
on_exit plugin_stop

FRONT=6f1f1f1f1f1f0000000000000000000000000000000000000000000000000001
MID=6f2f2f2f2f2f0000000000000000000000000000000000000000000000000002
BACK=6f3f3f3f3f3f0000000000000000000000000000000000000000000000000003
ISO=6f4f4f4f4f4f0000000000000000000000000000000000000000000000000004
V4=6f5f5f5f5f5f0000000000000000000000000000000000000000000000000005
ep() { printf '6e%010d%052d' "$1" 0; }

# net6 ID TIER N [INTERNAL]: a dual-stack network, 10.94.N.1/24 and fd00:94:N::1/64.
net6() {
	local internal=
	[ -n "${4:-}" ] && internal=',"com.docker.network.internal":true'
	call /NetworkDriver.CreateNetwork "$(printf '{"NetworkID":"%s","Options":{"com.docker.network.enable_ipv6":true,"com.docker.network.generic":{"tier":"%s"}%s},"IPv4Data":[{"AddressSpace":"LocalDefault","Gateway":"10.94.%d.1/24","Pool":"10.94.%d.0/24"}],"IPv6Data":[{"AddressSpace":"LocalDefault","Gateway":"fd00:94:%d::1/64","Pool":"fd00:94:%d::/64"}]}' \
		"$1" "$2" "$internal" "$3" "$3" "$3" "$3")"
}
# ep6_body NET EP N HOST: the endpoint 10.94.N.HOST and fd00:94:N::HOST.
ep6_body() {
	printf '{"NetworkID":"%s","EndpointID":"%s","Interface":{"Address":"10.94.%d.%d/24","AddressIPv6":"fd00:94:%d::%d/64","MacAddress":""},"Options":{"com.docker.network.endpoint.exposedports":[],"com.docker.network.portmap":[]}}' \
		"$1" "$2" "$3" "$4" "$3" "$4"
}
# container NAME NET EP N HOST: CreateEndpoint + Join + into a namespace with both families,
# IPv6 on (Docker turns it on for --ipv6 networks), no DAD (the test sets its own addresses).
container() {
	local ns=tnit6-$1-$$
	call /NetworkDriver.CreateEndpoint "$(ep6_body "$2" "$3" "$4" "$5")"
	# the sandbox is the namespace's own file: it exists while the "container" runs
	call /NetworkDriver.Join "$(join_body "$2" "$3" "/var/run/netns/$ns")"
	JOIN="$BODY"
	on_exit "ip netns del $ns"
	container_in "$ns" "tnc${3:0:12}" "10.94.$4.$5/24" "10.94.$4.1"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.eth0.accept_dad=0
	ip -n "$ns" -6 addr add "fd00:94:$4::$5/64" dev eth0 nodad
	ip -n "$ns" -6 route add default via "fd00:94:$4::1"
	eval "$1=$ns"
}
# An HTTP server that answers NAME and the client's address, whatever the family.
serve_who() {
	mkdir -p "$TMP/who-$2/cgi-bin"
	printf '#!/bin/sh\na=${REMOTE_ADDR#[}\na=${a%%]}\na=${a#::ffff:}\necho "Content-Type: text/plain"\necho\necho "%s $a"\n' "$2" \
		>"$TMP/who-$2/cgi-bin/who"
	chmod +x "$TMP/who-$2/cgi-bin/who"
	bg_in_ns "$1" busybox httpd -f -p "$3" -h "$TMP/who-$2"
	retry 25 in_ns "$1" sh -c "busybox netstat -ltn | grep -q ':$3 '"
}
get() { in_ns "$1" timeout 2 busybox wget -q -O - "$2" 2>/dev/null; }
ping6() { in_ns "$1" busybox ping -6 -c1 -W2 "$2" >/dev/null 2>&1; }
router_drops() { l2_count 'nd-router-advert.* counter'; } # the guard's drop of router ICMPv6

echo "# dual-stack networks"
BRF=tnb6f1f1f1f1f1f BRM=tnb6f2f2f2f2f2f BRI=tnb6f4f4f4f4f4f
net6 $FRONT front 1
check_eq "CreateNetwork with IPv4Data and IPv6Data succeeds" '200 {}' "$CODE $BODY"
check "the bridge has the IPv6 gateway" sh -c "ip -6 -br addr show $BRF | grep -q 'fd00:94:1::1/64'"
check "the bridge has its fixed link-local address" \
	sh -c "ip -6 -br addr show $BRF | grep -q 'fe80::42:aff:fe5e:101/64'"
refute "neither address is tentative (no DAD for a container to answer)" \
	sh -c "ip -6 addr show $BRF | grep -q tentative"
check_eq "IPv6 forwarding is on" 1 "$(cat /proc/sys/net/ipv6/conf/all/forwarding)"
check "the network's state keeps the IPv6 subnet" grep -q '"pool6":"fd00:94:1::"' "$STATE/networks/$FRONT.json"
net6 $MID mid 2
net6 $BACK back 3
net6 $ISO iso 4
call /NetworkDriver.CreateNetwork "$(net_body $V4 front 10.94.5.1/24 10.94.5.0/24)"
check_eq "an IPv4-only network of the same tier beside them" '200 {}' "$CODE $BODY"
check_eq "the IPv4-only bridge has no IPv6 address" "" \
	"$(ip -6 -o addr show dev tnb6f5f5f5f5f5f 2>/dev/null)"

echo "# endpoints"
container f1 $FRONT "$(ep 1)" 1 2
check_contains "Join answers the IPv6 gateway" "$JOIN" '"Gateway":"10.94.1.1","GatewayIPv6":"fd00:94:1::1"'
check "the endpoint's state keeps its IPv6 address" \
	grep -q '"address6":"fd00:94:1::2"' "$STATE/endpoints/$(ep 1).json"
container f2 $FRONT "$(ep 2)" 1 3
container m1 $MID "$(ep 3)" 2 2
container b1 $BACK "$(ep 4)" 3 2
container i1 $ISO "$(ep 5)" 4 2
container i2 $ISO "$(ep 6)" 4 3
for c in f1 f2 m1 b1 i1 i2; do serve_who "${!c}" "$c" 80; done
serve_who "$i2" i2 7000
serve_who "$W" world 80

echo "# the matrix over IPv6 (TCP): every ordered pair of front, mid, back"
# pair FROM TO EXPECT: FROM fetches TO's page over IPv6; the pair over IPv4 must agree.
declare -A ADDR6=([f1]=fd00:94:1::2 [m1]=fd00:94:2::2 [b1]=fd00:94:3::2)
declare -A ADDR4=([f1]=10.94.1.2 [m1]=10.94.2.2 [b1]=10.94.3.2)
pair() {
	local v6 v4
	v6=$(get "${!1}" "http://[${ADDR6[$2]}]:80/cgi-bin/who")
	v4=$(get "${!1}" "http://${ADDR4[$2]}:80/cgi-bin/who")
	if [ "$3" = yes ]; then
		check_eq "$1 -> $2 over IPv6 (allowed; its own address seen)" "$2 ${ADDR6[$1]}" "$v6"
	else
		check_eq "$1 -> $2 over IPv6 is denied" "" "$v6"
	fi
	check_eq "... and over IPv4 the same" "$3" "$([ -n "$v4" ] && echo yes || echo no)"
}
pair f1 m1 yes
pair m1 b1 yes
pair f1 b1 no
pair m1 f1 no
pair b1 m1 no
pair b1 f1 no
check_eq "within a tier over IPv6 (f2 -> f1)" "f1 fd00:94:1::3" \
	"$(get "$f2" 'http://[fd00:94:1::2]:80/cgi-bin/who')"

echo "# ICMPv6 echo follows the same edges"
check "f1 pings m1 over IPv6" ping6 "$f1" fd00:94:2::2
refute "m1 cannot ping f1 over IPv6 (no mid -> front)" ping6 "$m1" fd00:94:1::2
check "m1 pings b1 over IPv6" ping6 "$m1" fd00:94:3::2
refute "b1 cannot ping m1 over IPv6" ping6 "$b1" fd00:94:2::2

echo "# an isolated tier over IPv6"
check_eq "i1 -> i2 tcp/7000 (the self edge's port) over IPv6" "i2 fd00:94:4::2" \
	"$(get "$i1" 'http://[fd00:94:4::3]:7000/cgi-bin/who')"
check_eq "i1 -> i2 tcp/80 is denied over IPv6 (while 7000 answers)" "" \
	"$(get "$i1" 'http://[fd00:94:4::3]:80/cgi-bin/who')"
check_eq "control: i2's port 80 answers i2 itself" "i2 ::1" "$(get "$i2" 'http://[::1]:80/cgi-bin/who')"
refute "i1 cannot ping i2 over IPv6 (isolated)" ping6 "$i1" fd00:94:4::3
check "the isolated neighbours still resolve each other (neighbour discovery passes)" \
	sh -c "ip -n $i1 -6 neigh show fd00:94:4::3 | grep -qE 'REACHABLE|STALE|DELAY|PROBE'"

echo "# the host over IPv6: allow mid -> host tcp/7171"
serve_who host host 7171
check_eq "m1 reaches the host's tcp/7171 at its gateway address" "host fd00:94:2::2" \
	"$(get "$m1" 'http://[fd00:94:2::1]:7171/cgi-bin/who')"
LLM=$(ip -6 -br addr show $BRM | grep -o 'fe80::[0-9a-f:]*')
check "m1 reaches it at the bridge's link-local address too" \
	sh -c "ip netns exec $m1 $FRAMES tcp6 '$LLM%eth0' 7171 | grep -q connected"
check_eq "f1 cannot reach the host's tcp/7171 (no front -> host)" "" \
	"$(get "$f1" 'http://[fd00:94:1::1]:7171/cgi-bin/who')"
LLF=$(ip -6 -br addr show $BRF | grep -o 'fe80::[0-9a-f:]*')
refute "nor at its bridge's link-local address ($LLF; the same probe as m1's above)" \
	sh -c "ip netns exec $f1 $FRAMES tcp6 '$LLF%eth0' 7171 | grep -q connected"
check_eq "m1 cannot reach another host port (80 is not in the edge)" "" \
	"$(get "$m1" 'http://[fd00:94:2::1]:80/cgi-bin/who')"
refute "f1 cannot ping the host over IPv6" ping6 "$f1" fd00:94:1::1

echo "# published ports over IPv6"
pec $FRONT "$(ep 1)" "$(pm 6 80 18081 ::1)"
check_contains "a port on [::1] is refused: the kernel cannot forward ::1 (the sentence says 127.0.0.1)" \
	"$CODE $BODY" '-p 127.0.0.1:18081:80'
pec $FRONT "$(ep 1)" "$(pm 6 80 18080),$(pm 6 80 18081 127.0.0.1),$(pm 6 80 18082 ::)"
check_eq "Program with HostIP \"\", 127.0.0.1 and :: succeeds" '200 {}' "$CODE $BODY"
check_eq "the world reaches [host]:18080 (HostIP \"\": both families), its address kept" \
	"f1 fd00:94:200::2" "$(get "$W" 'http://[fd00:94:200::1]:18080/cgi-bin/who')"
check_eq "... and over IPv4" "f1 10.94.200.2" "$(get "$W" 'http://10.94.200.1:18080/cgi-bin/who')"
check_eq "the world reaches [host]:18082 (HostIP ::: IPv6 only)" "f1 fd00:94:200::2" \
	"$(get "$W" 'http://[fd00:94:200::1]:18082/cgi-bin/who')"
check_eq "... not over IPv4 (while 18080 answers there)" "" \
	"$(get "$W" 'http://10.94.200.1:18082/cgi-bin/who')"
check_contains "the host reaches 127.0.0.1:18081 (host only)" \
	"$(get host 'http://127.0.0.1:18081/cgi-bin/who')" "f1 "
check_eq "the world does not reach 18081 over IPv6 (while 18080 answers it)" "" \
	"$(get "$W" 'http://[fd00:94:200::1]:18081/cgi-bin/who')"
check "the host's [::1]:18080 is refused at once, not translated into a hang" \
	sh -c "timeout 1 busybox wget -q -O /dev/null 'http://[::1]:18080/'; [ \$? != 124 ]"
check_contains "a container of the same tier reaches [host]:18080 (hairpin)" \
	"$(get "$f2" 'http://[fd00:94:200::1]:18080/cgi-bin/who')" "f1 "
check "tiernet status lists the IPv6 mapping" \
	sh -c "'$BIN' status --socket '$SOCK' | grep -q '\[::\]:18080 *-> \[fd00:94:1::2\]:80/tcp'"
call /NetworkDriver.ProgramExternalConnectivity \
	"{\"NetworkID\":\"$MID\",\"EndpointID\":\"$(ep 3)\",\"Options\":{\"com.docker.network.portmap\":[$(pm 6 80 18090)]}}"
check_contains "mid may not publish over IPv6 either (the gate names the line to add)" "$BODY" \
	'allow world -> mid'
call /NetworkDriver.RevokeExternalConnectivity "{\"NetworkID\":\"$FRONT\",\"EndpointID\":\"$(ep 1)\"}"
check_eq "Revoke succeeds" '200 {}' "$CODE $BODY"
check_eq "after Revoke the world no longer reaches [host]:18080" "" \
	"$(get "$W" 'http://[fd00:94:200::1]:18080/cgi-bin/who')"

echo "# egress over IPv6 (NAT66)"
check_eq "f1 reaches the world's IPv6 address, masqueraded to the host's" "world fd00:94:200::1" \
	"$(get "$f1" 'http://[fd00:94:200::2]:80/cgi-bin/who')"
check_eq "b1 (internal tier) does not (while f1 does)" "" \
	"$(get "$b1" 'http://[fd00:94:200::2]:80/cgi-bin/who')"
check_eq "the world cannot open connections to f1's address" "" \
	"$(get "$W" 'http://[fd00:94:1::2]:80/cgi-bin/who')"

echo "# hostile frames over IPv6"
BRMAC=$(mac_of $BRF)
seg() { ip netns exec "$m1" awk '/^Tcp:/ { if (h) print $11; h = 1 }' /proc/net/snmp; }
a=$(seg)
ip netns exec "$f1" $FRAMES syn6 eth0 "$BRMAC" fd00:94:2::99 fd00:94:2::2 7300
ip netns exec "$f1" $FRAMES syn6 eth0 "$BRMAC" fd00:94:3::99 fd00:94:2::2 7300
sleep 0.3
check_eq "SYNs from f1 with mid's and back's sources (spoofed) never reach m1" "$a" "$(seg)"
ip netns exec "$f1" $FRAMES syn6 eth0 "$BRMAC" fd00:94:1::2 fd00:94:2::2 7300
sleep 0.3
check "control: the same SYN with f1's own source reaches m1 (front -> mid)" \
	test "$(seg)" -gt "$a"
a=$(router_drops)
ROUTES=$(ip -6 route show table all | grep -c 'proto ra')
ip netns exec "$f1" $FRAMES ra eth0 fd00:94:99::
sleep 0.3
check "a router advertisement from f1 meets the layer-2 guard's drop" test "$(router_drops)" -gt "${a:-0}"
check_eq "the host took no route from it" "$ROUTES" "$(ip -6 route show table all | grep -c 'proto ra')"
check_eq "nor an address" "" "$(ip -6 -o addr show | grep 'fd00:94:99:')"

echo "# an IPv4-only network carries no IPv6"
call /NetworkDriver.CreateEndpoint "$(ep6_body $V4 "$(ep 7)" 5 7)"
check_contains "CreateEndpoint with an IPv6 address on an IPv4-only network is refused" \
	"$CODE $BODY" 'has no IPv6 subnet'
check_eq "... and makes no link" "" "$(tn_links | grep "$(ep 7 | cut -c1-12)")"
call /NetworkDriver.CreateEndpoint "$(ep_body $V4 "$(ep 8)" 10.94.5.2/24)"
V2=tnit6-v2-$$
call /NetworkDriver.Join "$(join_body $V4 "$(ep 8)" /var/run/netns/$V2)"
on_exit "ip netns del $V2"
container_in "$V2" "tnc$(ep 8 | cut -c1-12)" 10.94.5.2/24 10.94.5.1
ip netns exec "$V2" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
ip -n "$V2" -6 addr add fd00:94:5::2/64 dev eth0 nodad
ip -n "$V2" -6 route add default dev eth0
a=$(nft list table bridge tiernet | awk '/meta protocol ip6 counter/ {print $(NF-3)}')
refute "v2 on the IPv4-only network gets nothing to f1 over IPv6" ping6 "$V2" fd00:94:1::2
b=$(nft list table bridge tiernet | awk '/meta protocol ip6 counter/ {print $(NF-3)}')
check "the bridge guard dropped its IPv6 frames" test "${b:-0}" -gt "${a:-0}"
check "control: v2 reaches f1 over IPv4 (same tier)" \
	sh -c "ip netns exec $V2 busybox wget -q -O - http://10.94.1.2:80/cgi-bin/who | grep -q f1"

echo "# status"
OUT=$("$BIN" status --socket "$SOCK" --json)
check_eq "status: the IPv6 matrix equals the IPv4 one" \
	"$(echo "$OUT" | jq -S .matrix)" "$(echo "$OUT" | jq -S .matrix6)"
check_eq "status: the front network's IPv6 subnet" "fd00:94:1::/64" \
	"$(echo "$OUT" | jq -r ".networks[] | select(.id == \"$FRONT\") | .subnet6")"
check_eq "status: f1's IPv6 address" "fd00:94:1::2" \
	"$(echo "$OUT" | jq -r ".endpoints[] | select(.id == \"$(ep 1)\") | .address6")"
check_eq "status: IPv6 forwarding" "on" "$(echo "$OUT" | jq -r .ipv6_forwarding)"

echo "# bad input changes nothing"
SAVE6=$(ip6tables-legacy-save | grep -v '^#' | sed 's/\[[0-9:]*\]//')
LINKS=$(tn_links)
bad_net() { # DESC IPV6DATA
	call /NetworkDriver.CreateNetwork "$(printf '{"NetworkID":"6f9f9f9f9f9f%052d","Options":{"com.docker.network.enable_ipv6":true,"com.docker.network.generic":{"tier":"front"}},"IPv4Data":[{"Gateway":"10.94.9.1/24","Pool":"10.94.9.0/24"}],"IPv6Data":%s}' 0 "$2")"
	check_contains "$1: refused with a sentence" "$CODE $BODY" "$3"
}
bad_net "two IPv6 subnets" '[{"Gateway":"fd00:94:9::1/64","Pool":"fd00:94:9::/64"},{"Gateway":"fd00:94:a::1/64","Pool":"fd00:94:a::/64"}]' \
	'exactly one IPv6 subnet, got 2'
bad_net "a /127" '[{"Gateway":"fd00:94:9::1/127","Pool":"fd00:94:9::/127"}]' '/126 or larger'
bad_net "a link-local subnet" '[{"Gateway":"fe80::1/64","Pool":"fe80::/64"}]' 'not link-local'
bad_net "an unparsable gateway" '[{"Gateway":"fd00:94:9::zz/64","Pool":"fd00:94:9::/64"}]' \
	'is not an IPv6 address with a prefix length'
call /NetworkDriver.CreateEndpoint "$(ep6_body $FRONT "$(ep 9)" 1 9 | sed 's/fd00:94:1::9/fd00:94:2::9/')"
check_contains "an endpoint whose IPv6 address is outside the subnet is refused" "$CODE $BODY" \
	'is not a host address of the network'"'"'s IPv6 subnet'
pec $FRONT "$(ep 1)" "$(pm 6 80 18083 fd00::zz)"
check_contains "a HostIP of neither family is refused" "$CODE $BODY" 'neither an IPv4 nor an IPv6 address'
check_eq "ip6tables are as before" "$SAVE6" "$(ip6tables-legacy-save | grep -v '^#' | sed 's/\[[0-9:]*\]//')"
check_eq "no link was added or removed" "$LINKS" "$(tn_links)"

echo "# restarts"
plugin_stop
ip -6 addr flush dev $BRF
plugin_start "$BIN"
check "a restarted daemon gives the bridge its IPv6 addresses back" \
	sh -c "ip -6 -br addr show $BRF | grep -q 'fd00:94:1::1/64' && ip -6 -br addr show $BRF | grep -q fe80::42:aff:fe5e:101"
check_eq "and f1 -> m1 over IPv6 works again" "m1 fd00:94:1::2" \
	"$(get "$f1" 'http://[fd00:94:2::2]:80/cgi-bin/who')"
check_eq "m1 -> f1 over IPv6 stays denied" "" "$(get "$m1" 'http://[fd00:94:1::2]:80/cgi-bin/who')"

echo "# teardown"
for c in 1 2 3 4 5 6 8; do
	case $c in 1 | 2) n=$FRONT ;; 3) n=$MID ;; 4) n=$BACK ;; 5 | 6) n=$ISO ;; 8) n=$V4 ;; esac
	call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$n\",\"EndpointID\":\"$(ep $c)\"}"
done
for n in $FRONT $MID $BACK $ISO $V4; do
	call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$n\"}"
done
check_eq "no TIERNET chain is left in ip6tables" "" "$(ip6tables-legacy-save | grep TIERNET)"
check_eq "no tiernet link is left" "" "$(tn_links)"

run_cleanup
summary
