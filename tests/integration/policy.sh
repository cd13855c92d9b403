#!/usr/bin/env bash
# Integration: the reachability policy, by real traffic.  `tiernet serve` in a private network
# namespace, driven through its socket the way dockerd drives it; network namespaces play the
# containers, each running an HTTP server that answers with its own name.  Checks the default
# matrix, ports, isolated tiers, SIGHUP (valid and invalid), anti-spoofing, host access and
# that nothing remains afterwards.  Subnets: 10.78.0.0/16.
#
# Every "no" is proven (TESTING-NOTES.md): the probes of one batch run at once, and a "no"
# passes only when the same server (address, protocol, port) answered an allowed source in the
# same batch.  So a batch costs one timeout, and a dead server fails the test instead of
# passing it.
# UDP: Debian's busybox nc has no -u, so perl (perl-base, Essential) receives and bash's
# /dev/udp or perl sends (plugin-lib.sh).
# usage: policy.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers
trap 'run_cleanup' EXIT
trap 'exit 130' INT TERM

# Only tiernet's rules may decide: no reverse-path filter that would drop spoofed packets.
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
plugin_start "$BIN"
on_exit plugin_stop

# ---- the tiers' networks and their containers ----
declare -A NETID GW IP NS TIER EP
NETID[front]=78f1000000000000000000000000000000000000000000000000000000000001
NETID[mid]=78f2000000000000000000000000000000000000000000000000000000000002
NETID[back]=78f3000000000000000000000000000000000000000000000000000000000003
NETID[iso]=78f4000000000000000000000000000000000000000000000000000000000004
GW[front]=10.78.1.1 GW[mid]=10.78.2.1 GW[back]=10.78.3.1 GW[iso]=10.78.4.1
CONTAINERS=()
HOSTPORT=7070		# the host's own server, on front's gateway address

# network TIER: CreateNetwork for TIER's subnet 10.78.N.0/24.
network() {
	local gw=${GW[$1]}
	call /NetworkDriver.CreateNetwork "$(net_body "${NETID[$1]}" "$1" "$gw/24" "${gw%.1}.0/24")"
	check_eq "CreateNetwork $1 (${gw%.1}.0/24)" '200 {}' "$CODE $BODY"
}

# container NAME TIER ADDRESS: CreateEndpoint + Join + what dockerd does with the interface,
# then an HTTP server on 8080 that answers "NAME:8080".
container() {
	local name=$1 tier=$2 addr=$3 ep src
	ep=$(printf '78e%09x' $((${#CONTAINERS[@]} + 1)))
	ep=$ep${ep}${ep}${ep}${ep}0000
	src=tnc${ep:0:12}
	EP[$name]=$ep IP[$name]=$addr TIER[$name]=$tier NS[$name]=tnpol-$name-$$
	CONTAINERS+=("$name")
	on_exit "ip netns del ${NS[$name]}"
	call /NetworkDriver.CreateEndpoint "$(ep_body "${NETID[$tier]}" "$ep" "$addr/24")"
	check_contains "CreateEndpoint $name ($tier $addr)" "$CODE $BODY" '200 {"Interface"'
	call /NetworkDriver.Join "$(join_body "${NETID[$tier]}" "$ep" "/var/run/docker/netns/$name")"
	check_contains "Join $name gets gateway ${GW[$tier]}" "$CODE $BODY" "\"Gateway\":\"${GW[$tier]}\""
	container_in "${NS[$name]}" "$src" "$addr/24" "${GW[$tier]}"
	serve_http "${NS[$name]}" 8080 "$name:8080"
}

# more_http NAME PORT...: more HTTP servers in container NAME, answering "NAME:PORT".
more_http() {
	local name=$1 port; shift
	for port; do serve_http "${NS[$name]}" "$port" "$name:$port"; done
}

# ---- probe batches ----
# probe EXPECT KIND SRC DST PORT
#   EXPECT yes|no; KIND tcp|udp|ping; SRC and DST: container names or "host" (as DST: the
#   host's address on front's bridge).  tcp: the answer must be DST's own name and port;
#   udp: DST's receiver on PORT must log this probe's payload.
B_N=0
B_EXP=() B_KIND=() B_SRC=() B_DST=() B_PORT=()
probe() {
	B_EXP[B_N]=$1 B_KIND[B_N]=$2 B_SRC[B_N]=$3 B_DST[B_N]=$4 B_PORT[B_N]=${5:-}
	B_N=$((B_N + 1))
}
addr_of() { if [ "$1" = host ]; then echo "${GW[front]}"; else echo "${IP[$1]}"; fi; }
ns_of() { if [ "$1" = host ]; then echo host; else echo "${NS[$1]}"; fi; }
label() { if [ "$1" = host ]; then echo host; else echo "$1(${TIER[$1]})"; fi; }

# run_probe I: one probe; exit status 0 = it got through.
run_probe() {
	local i=$1 ns dst port out tok
	ns=$(ns_of "${B_SRC[i]}") dst=$(addr_of "${B_DST[i]}") port=${B_PORT[i]}
	case ${B_KIND[i]} in
	tcp)
		out=$(http_get "$ns" "$dst" "$port")
		[ "$out" = "${B_DST[i]}:$port" ]
		;;
	ping) ping_once "$ns" "$dst" ;;
	udp)
		tok="probe-$$-$i-${B_SRC[i]}"
		udp_send "$ns" "$dst" "$port" "$tok"
		udp_got "$dst" "$port" "$tok"
		;;
	esac
}

# batch_run TITLE: runs every queued probe at once, then reports each one.
batch_run() {
	local i j pids=() proof what
	echo "# $1"
	rm -rf "$TMP/batch"
	mkdir -p "$TMP/batch"
	for ((i = 0; i < B_N; i++)); do
		(run_probe "$i"; echo $? >"$TMP/batch/$i") &
		pids+=($!)
	done
	wait "${pids[@]}"
	for ((i = 0; i < B_N; i++)); do
		B_RC[i]=$(cat "$TMP/batch/$i" 2>/dev/null || echo 99)
	done
	for ((i = 0; i < B_N; i++)); do
		what="$(label "${B_SRC[i]}") -> $(label "${B_DST[i]}") ${B_KIND[i]}${B_PORT[i]:+/${B_PORT[i]}}"
		if [ "${B_EXP[i]}" = yes ]; then
			if [ "${B_RC[i]}" = 0 ]; then ok "$what: yes"; else nok "$what: expected yes, got no"; fi
			continue
		fi
		if [ "${B_RC[i]}" = 0 ]; then
			nok "$what: expected no, got through"
			continue
		fi
		proof=
		for ((j = 0; j < B_N; j++)); do
			if [ "${B_EXP[j]}" = yes ] && [ "${B_RC[j]}" = 0 ] &&
				[ "${B_KIND[j]}" = "${B_KIND[i]}" ] && [ "${B_PORT[j]}" = "${B_PORT[i]}" ] &&
				[ "$(addr_of "${B_DST[j]}")" = "$(addr_of "${B_DST[i]}")" ]; then
				proof=$(label "${B_SRC[j]}")
				break
			fi
		done
		if [ -n "$proof" ]; then
			ok "$what: no (the same server answered $proof)"
		else
			nok "$what: no, but unproven: that server answered no allowed source in this batch"
		fi
	done
	B_N=0
	B_EXP=() B_KIND=() B_SRC=() B_DST=() B_PORT=() B_RC=()
}

# matrix ALLOWED...: queues TCP and ping probes for every ordered pair of the six tier
# containers; a pair is expected to pass when both are in one tier or "SRC>DST" is in ALLOWED.
matrix() {
	local s d exp
	for s in f1 f2 m1 m2 b1 b2; do
		for d in f1 f2 m1 m2 b1 b2; do
			[ "$s" = "$d" ] && continue
			exp=no
			if [ "${TIER[$s]}" = "${TIER[$d]}" ] || [[ " $* " == *" ${TIER[$s]}>${TIER[$d]} "* ]]; then
				exp=yes
			fi
			probe "$exp" tcp "$s" "$d" 8080
			probe "$exp" ping "$s" "$d"
		done
	done
}

# policy TEXT: writes the policy file (the daemon reads it on SIGHUP).
policy() { printf '%s\n' "$1" >"$CONF"; chmod 0644 "$CONF"; }

# ======================================================================================
echo "# 1. default policy: front -> mid -> back"
network front
network mid
network back
container f1 front 10.78.1.2
container f2 front 10.78.1.3
container m1 mid 10.78.2.2
container m2 mid 10.78.2.3
container b1 back 10.78.3.2
container b2 back 10.78.3.3
serve_http_at host "${GW[front]}" $HOSTPORT "host:$HOSTPORT"

matrix "front>mid" "mid>back"
# 5. host access under the default policy: containers may not, the host always may.
for c in f1 m1 b1; do
	probe no tcp "$c" host $HOSTPORT
	probe yes tcp host "$c" 8080
done
probe yes ping host b2
probe yes tcp host host $HOSTPORT
batch_run "default policy: TCP and ping, every ordered pair; host access"

# ======================================================================================
echo "# 4. anti-spoofing: an endpoint sends from its own address only"
# tiernet dispatches on the bridge a packet enters by, so a borrowed address matters where the
# sender's own tier may send: f1 (front) borrows a mid address and sends to mid, where front
# may send (only anti-spoofing stops it); m1 (mid) borrows f1's address and pings b1, where
# mid may send: were that delivered, b1's echo reply would reach f1 as "established" traffic,
# back -> front, which the policy denies.  The receivers' counters decide, and the same
# receivers count a legitimate packet right after.  The layer-2 guard knows each endpoint's
# address (l2guard.c), so even another address of the sender's own subnet, or a neighbour's,
# is dropped; its counter proves that such a probe left the sender.
OWN_FRONT=10.78.1.99 MID_ADDR=10.78.2.99
ip -n "${NS[f1]}" addr add $MID_ADDR/32 dev eth0
ip -n "${NS[f1]}" addr add $OWN_FRONT/32 dev eth0

# echos NAME: echo requests received in container NAME.
echos() { snmp "${NS[$1]}" Icmp InEchos; }
spoofed() { l2_count 'ip saddr != @src4 '; }
n0=$(echos m1) c0=$(spoofed)
ping_once "${NS[f1]}" "${IP[m1]}" $OWN_FRONT
n1=$(echos m1) c1=$(spoofed)
check_eq "f1 pings m1 from another address of its own subnet ($OWN_FRONT): m1 receives no echo request" \
	"$n0" "$n1"
check "... the layer-2 guard dropped it, so ping -I from an added address does leave f1 ($c0 -> $c1)" \
	test "$c1" -gt "$c0"
ip -n "${NS[f1]}" addr add "${IP[f2]}/32" dev eth0
ping_once "${NS[f1]}" "${IP[m1]}" "${IP[f2]}"
check_eq "f1 pings m1 from its neighbour f2's address: m1 receives no echo request" "$n1" "$(echos m1)"
ip -n "${NS[f1]}" addr del "${IP[f2]}/32" dev eth0
check "control: f2 pings m1 from its own address: answered" ping_once "${NS[f2]}" "${IP[m1]}"
n1=$(echos m1)
ping_once "${NS[f1]}" "${IP[m1]}" $MID_ADDR
n2=$(echos m1)
check_eq "f1 pings m1 (front -> mid allowed) from a mid address: m1 receives no echo request" "$n1" "$n2"
check "f1 pings m1 from its own address: answered" ping_once "${NS[f1]}" "${IP[m1]}"
n3=$(echos m1)
check "... and m1 counted it ($n2 -> $n3)" test "$n3" -gt "$n2"

n0=$(echos f2)
ping_once "${NS[f1]}" "${IP[f2]}" $MID_ADDR
n1=$(echos f2)
check_eq "f1 pings f2 (same bridge) from a mid address: f2 receives no echo request" "$n0" "$n1"
check "f1 pings f2 from its own address: answered" ping_once "${NS[f1]}" "${IP[f2]}"
n2=$(echos f2)
check "... and f2 counted it ($n1 -> $n2)" test "$n2" -gt "$n1"

n0=$(echos b1)
ping_once "${NS[f1]}" "${IP[b1]}" $MID_ADDR
n1=$(echos b1)
check_eq "f1 pings b1 from a mid address (as if mid -> back): b1 receives no echo request" "$n0" "$n1"

ip -n "${NS[m1]}" addr add "${IP[f1]}/32" dev eth0
r0=$(snmp "${NS[f1]}" Icmp InEchoReps)
ping_once "${NS[m1]}" "${IP[b1]}" "${IP[f1]}"
n2=$(echos b1)
r1=$(snmp "${NS[f1]}" Icmp InEchoReps)
check_eq "m1 pings b1 (mid -> back allowed) from f1's address: b1 receives no echo request" "$n1" "$n2"
check_eq "... and no echo reply reaches f1 (back -> front)" "$r0" "$r1"
ip -n "${NS[m1]}" addr del "${IP[f1]}/32" dev eth0
check "m1 pings b1 from its own address: answered" ping_once "${NS[m1]}" "${IP[b1]}"
n3=$(echos b1)
check "... and b1 counted it ($n2 -> $n3)" test "$n3" -gt "$n2"

serve_udp "${NS[m1]}" "${IP[m1]}" 5000
ip -n "${NS[f1]}" route add "${IP[m1]}/32" via "${GW[front]}" src $MID_ADDR
u0=$(snmp "${NS[m1]}" Udp InDatagrams)
udp_send "${NS[f1]}" "${IP[m1]}" 5000 spoofed-from-f1
refute "f1 sends UDP to m1 from a mid address (route src): m1's receiver gets nothing" \
	udp_got "${IP[m1]}" 5000 spoofed-from-f1
u1=$(snmp "${NS[m1]}" Udp InDatagrams)
check_eq "... and m1's Udp InDatagrams did not move" "$u0" "$u1"
ip -n "${NS[f1]}" route del "${IP[m1]}/32"
udp_send "${NS[f1]}" "${IP[m1]}" 5000 legit-from-f1
check "f1 sends UDP to m1 from its own address: received" udp_got "${IP[m1]}" 5000 legit-from-f1
u2=$(snmp "${NS[m1]}" Udp InDatagrams)
check "... and counted ($u1 -> $u2)" test "$u2" -gt "$u1"
check "the receiver saw f1's real address" grep -q "^${IP[f1]} legit-from-f1" "$(udp_log "${IP[m1]}" 5000)"
ip -n "${NS[f1]}" addr del $MID_ADDR/32 dev eth0
ip -n "${NS[f1]}" addr del $OWN_FRONT/32 dev eth0

# The address and port of a live flow: m1 talks to b1's UDP echo server from port 40000
# (mid -> back); f1 borrows m1's address and that port and sends to the same server.  Its
# datagrams match the flow's conntrack entry ("established"), so only an anti-spoofing check
# made before the established shortcut keeps them out of back (front -> back is denied).
serve_udp "${NS[b1]}" "${IP[b1]}" 5001 echo
check_eq "m1 talks to b1's UDP echo server from port 40000" flow-m1-1 \
	"$(udp_send_from "${NS[m1]}" "${IP[m1]}" 40000 "${IP[b1]}" 5001 flow-m1-1)"
ip -n "${NS[f1]}" addr add "${IP[m1]}/32" dev eth0
u0=$(snmp "${NS[b1]}" Udp InDatagrams)
udp_send_from "${NS[f1]}" "${IP[m1]}" 40000 "${IP[b1]}" 5001 injected-by-f1 >/dev/null
refute "f1 sends to b1 from m1's address and port of that flow: b1's receiver gets nothing" \
	udp_got "${IP[b1]}" 5001 injected-by-f1
u1=$(snmp "${NS[b1]}" Udp InDatagrams)
check_eq "... and b1's Udp InDatagrams did not move" "$u0" "$u1"
ip -n "${NS[f1]}" addr del "${IP[m1]}/32" dev eth0
check_eq "m1's flow still works" flow-m1-2 \
	"$(udp_send_from "${NS[m1]}" "${IP[m1]}" 40000 "${IP[b1]}" 5001 flow-m1-2)"
u2=$(snmp "${NS[b1]}" Udp InDatagrams)
check "... and b1 counted it ($u1 -> $u2)" test "$u2" -gt "$u1"

# The same into the host (front -> host is denied): the host talks to m1's echo server from
# port 41000 of mid's gateway address; f1 borrows m1's address and the server's port and
# sends to the host's port.  The host's socket is closed by then, so whatever the firewall
# lets in shows as Udp NoPorts (or InDatagrams) in the host.
serve_udp "${NS[m1]}" "${IP[m1]}" 5002 echo
hostudp() { echo $(($(snmp host Udp InDatagrams) + $(snmp host Udp NoPorts))); }
check_eq "the host talks to m1's UDP echo server from port 41000" host-flow-1 \
	"$(udp_send_from host "${GW[mid]}" 41000 "${IP[m1]}" 5002 host-flow-1)"
ip -n "${NS[f1]}" addr add "${IP[m1]}/32" dev eth0
h0=$(hostudp)
udp_send_from "${NS[f1]}" "${IP[m1]}" 5002 "${GW[mid]}" 41000 injected-by-f1 >/dev/null
sleep 0.3
h1=$(hostudp)
check_eq "f1 sends to the host's port of that flow from m1's address and port: the host's UDP gets nothing" \
	"$h0" "$h1"
ip -n "${NS[f1]}" addr del "${IP[m1]}/32" dev eth0
check_eq "the host's flow to m1 still works" host-flow-2 \
	"$(udp_send_from host "${GW[mid]}" 41000 "${IP[m1]}" 5002 host-flow-2)"
h2=$(hostudp)
check "... and the host counted m1's answer ($h1 -> $h2)" test "$h2" -gt "$h1"

# ======================================================================================
echo "# 4b. the layer-2 guard removed by hand comes back whole"
in_guard() { nft list set bridge tiernet src4 2>/dev/null | tr -d '\n\t' | grep -q "\"tnv${EP[$1]:0:12}\" \. ${IP[$1]}\b"; }
check "the guard's src4 set holds f1's veth and address" in_guard f1
nft delete table bridge tiernet
check "the table is put back within the 2 s check" retry 25 nft list table bridge tiernet
for c in f1 f2 m1 m2 b1 b2; do
	check "... with $c's element" in_guard "$c"
done
ip -n "${NS[f1]}" addr add $OWN_FRONT/32 dev eth0
n0=$(echos m1) c0=$(spoofed)
ping_once "${NS[f1]}" "${IP[m1]}" $OWN_FRONT
check_eq "f1 pings m1 from $OWN_FRONT again: m1 receives no echo request" "$n0" "$(echos m1)"
check "... dropped by the guard put back ($c0 -> $(spoofed))" test "$(spoofed)" -gt "$c0"
check "control: f1 pings m1 from its own address: answered" ping_once "${NS[f1]}" "${IP[m1]}"
ip -n "${NS[f1]}" addr del $OWN_FRONT/32 dev eth0

# ======================================================================================
echo "# 3. SIGHUP: drop front -> mid, add back -> front"
P2='tier front
tier mid
tier back internal
allow world -> front
allow mid   -> back
allow back  -> front'
policy "$P2"
plugin_hup
check_eq "SIGHUP applies the new policy" 0 $?
matrix "mid>back" "back>front"
batch_run "after SIGHUP: exactly front->mid (now no) and back->front (now yes) flipped"

echo "# 3b. SIGHUP with an invalid policy keeps the old one"
RULES_BEFORE=$(fw_rules)
policy "$P2
allow mid -> nowhere"
plugin_hup
check_eq "SIGHUP with an unknown tier is rejected" 1 $?
check "the error is logged as file:line:column" \
	grep -qF "$CONF:7:14: error: unknown tier \"nowhere\"" "$TMP/plugin.log"
policy "$P2
allow front -> mid tcp/99999"
plugin_hup
check_eq "SIGHUP with a bad port is rejected" 1 $?
check "the bad port is logged as file:line:column" grep -qF "$CONF:7:24: error: bad port" "$TMP/plugin.log"
policy 'tier front
tier mid
allow front -> mid'
plugin_hup
check_eq "SIGHUP with a valid policy that drops tier back (in use) is rejected" 1 $?
check "the log names the tier in use" grep -q 'drops tier "back"' "$TMP/plugin.log"
policy "$P2
allow front -> mid"
chmod 0666 "$CONF"
plugin_hup
check_eq "SIGHUP with a policy file writable by others is rejected" 1 $?
check "the log says why" grep -q 'writable by group or others' "$TMP/plugin.log"
mv "$CONF" "$CONF.away"
plugin_hup
check_eq "SIGHUP with the policy file missing is rejected (no fallback to the default)" 1 $?
mv "$CONF.away" "$CONF"
check_eq "the rules are exactly the old ones" "$RULES_BEFORE" "$(fw_rules)"
check "the daemon still answers" call_ok /NetworkDriver.GetCapabilities
matrix "mid>back" "back>front"
batch_run "after the rejected policies: the previous policy still holds"

# ======================================================================================
echo "# 2. ports and an isolated tier"
P3='tier front
tier mid
tier back internal
tier iso isolated
allow front -> mid tcp/8080, udp/5353
allow mid   -> back tcp/9000-9100'
policy "$P3"
plugin_hup
check_eq "SIGHUP applies the ports policy" 0 $?
network iso
container i1 iso 10.78.4.2
container i2 iso 10.78.4.3
more_http m1 8081 5353
more_http b1 8999 9000 9050 9100 9101
more_http i2 7000 7001
serve_udp "${NS[m1]}" "${IP[m1]}" 5353
serve_udp "${NS[m1]}" "${IP[m1]}" 5354
serve_udp "${NS[b1]}" "${IP[b1]}" 9000

# front -> mid: tcp/8080 and udp/5353 only
probe yes tcp f1 m1 8080
probe no tcp f1 m1 8081;	probe yes tcp m2 m1 8081
probe no tcp f1 m1 5353;	probe yes tcp m2 m1 5353
probe yes udp f1 m1 5353
probe no udp f1 m1 5354;	probe yes udp m2 m1 5354
probe no ping f1 m1;		probe yes ping m2 m1
probe no tcp b1 m1 8080
# mid -> back: tcp/9000-9100 only
for p in 9000 9050 9100; do probe yes tcp m1 b1 $p; done
for p in 8999 9101 8080; do probe no tcp m1 b1 $p; probe yes tcp b2 b1 $p; done
probe no udp m1 b1 9000;	probe yes udp b2 b1 9000
probe no ping m1 b1;		probe yes ping b2 b1
probe no tcp f1 b1 9000
# isolated: nothing between two containers of the tier; the host proves the servers
for p in 7000 7001 8080; do probe no tcp i1 i2 $p; probe yes tcp host i2 $p; done
probe no tcp i2 i1 8080;	probe yes tcp host i1 8080
probe no ping i1 i2;		probe yes ping host i2
probe no tcp f1 i2 7000
batch_run "ports policy and isolated tier"

# ======================================================================================
echo "# 2b/5b. SIGHUP: allow iso -> iso tcp/7001 and front -> host tcp/$HOSTPORT"
serve_http_at host "${GW[front]}" 7071 "host:7071"
policy "$P3
allow iso   -> iso tcp/7001
allow front -> host tcp/$HOSTPORT"
plugin_hup
check_eq "SIGHUP applies it" 0 $?
probe yes tcp i1 i2 7001
probe no tcp i1 i2 7000;	probe yes tcp host i2 7000
probe no tcp i2 i1 8080;	probe yes tcp host i1 8080
probe no ping i1 i2;		probe yes ping host i2
probe yes tcp f1 host $HOSTPORT
probe yes tcp f2 host $HOSTPORT
probe no tcp f1 host 7071;	probe yes tcp host host 7071
probe no tcp m1 host $HOSTPORT
probe no tcp b1 host $HOSTPORT
probe no tcp i1 host $HOSTPORT
probe yes tcp f1 m1 8080
probe yes tcp m1 b1 9000
batch_run "isolated tier with one port; front -> host"

# ======================================================================================
echo "# 7. past 8 tiers with networks the dispatch is a tree: the same probes, the same answers"
# Tiers x1..x9 get a network each (no container): 13 tiers with networks, so mangle
# TIERNET-FWD dispatches through TIERNET-DSP chains (compile.c) and every probe below crosses
# one.  The batch is the one above, with its proofs for every "no".
XTIERS=$(for i in $(seq 9); do echo "tier x$i"; done)
policy "$P3
$XTIERS
allow iso   -> iso tcp/7001
allow front -> host tcp/$HOSTPORT"
plugin_hup
check_eq "SIGHUP adds tiers x1..x9" 0 $?
for i in $(seq 9); do
	NETID[x$i]=$(printf "78f5%02x%058x" "$i" 0)
	GW[x$i]=10.78.$((10 + i)).1
	network "x$i"
done
check "mangle TIERNET-FWD dispatches through a TIERNET-DSP chain" \
	sh -c "iptables-legacy -t mangle -S TIERNET-FWD | grep -q -- '-g TIERNET-DSP-'"
check "front's tier is dispatched in one of them" \
	sh -c "iptables-legacy -t mangle -S | grep -E -- '-A TIERNET-DSP-[^ ]+ .*-g TIERNET-SRC-front\$' | grep -q ."
probe yes tcp i1 i2 7001
probe no tcp i1 i2 7000;	probe yes tcp host i2 7000
probe no tcp i2 i1 8080;	probe yes tcp host i1 8080
probe yes tcp f1 host $HOSTPORT
probe no tcp m1 host $HOSTPORT;	probe yes tcp m1 b1 9000
probe yes tcp f1 m1 8080
probe no tcp m1 f1 8080;	probe yes tcp f2 f1 8080
probe no tcp b1 m1 8080
probe no ping f1 b1;		probe yes ping host b1
batch_run "the same policy through the dispatch tree"
for i in $(seq 9); do
	call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"${NETID[x$i]}\"}"
	check_eq "DeleteNetwork x$i" '200 {}' "$CODE $BODY"
done
check_eq "with 4 tiers left, no TIERNET-DSP chain remains" "" \
	"$(iptables-legacy -t mangle -S | grep TIERNET-DSP)"
probe yes tcp f1 m1 8080;	probe no tcp m1 f1 8080;	probe yes tcp f2 f1 8080
batch_run "the list again"

# ======================================================================================
hooks() {
	local t c
	for t in filter:FORWARD filter:INPUT mangle:FORWARD nat:POSTROUTING; do
		c=$(iptables-legacy -t "${t%:*}" -S "${t#*:}" | grep -c -- '-j TIERNET')
		echo "$t=$c"
	done | xargs
}
check_eq "after all the SIGHUPs each built-in chain still jumps to tiernet once" \
	"filter:FORWARD=1 filter:INPUT=1 mangle:FORWARD=1 nat:POSTROUTING=1" "$(hooks)"

echo "# 6. cleanup: Leave, DeleteEndpoint, DeleteNetwork everything"
for c in "${CONTAINERS[@]}"; do
	t=${TIER[$c]} ep=${EP[$c]}
	container_out "${NS[$c]}" "tnc${ep:0:12}"
	call /NetworkDriver.Leave "{\"NetworkID\":\"${NETID[$t]}\",\"EndpointID\":\"$ep\"}"
	check_eq "Leave $c" '200 {}' "$CODE $BODY"
	call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"${NETID[$t]}\",\"EndpointID\":\"$ep\"}"
	check_eq "DeleteEndpoint $c" '200 {}' "$CODE $BODY"
done
check_eq "after every DeleteEndpoint the guard's sets hold no element" "" \
	"$(nft list table bridge tiernet 2>/dev/null | grep -A2 'set src' | grep elements)"
for t in front mid back iso; do
	call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"${NETID[$t]}\"}"
	check_eq "DeleteNetwork $t" '200 {}' "$CODE $BODY"
done
check_eq "no tn* link remains" "" "$(ip -o link | grep -o ': tn[^:@]*')"
check_eq "no TIERNET chain or rule remains (legacy)" "" "$(iptables-legacy-save | grep TIERNET)"
check_eq "no tiernet nftables table remains" "" "$(nft list tables | grep tiernet)"
# what stays: the instance lock and the copy of the policy in force (plugin/source.c)
check_eq "the state dir holds no network or endpoint file" "" \
	"$(find "$STATE" -type f ! -name lock ! -name policy.json)"
check "the daemon still answers" call_ok /NetworkDriver.GetCapabilities
plugin_stop
check_eq "the daemon exits 0 on SIGTERM" 0 "$PLUGIN_ET"
refute "no sanitizer report so far (files of ASan/LSan, UBSan lines in the log)" sanitizer_report
if [ "$T_FAIL" -gt 0 ]; then
	echo "# daemon log, errors and warnings:"
	grep -E '\[(error|warn)' "$TMP/plugin.log" | tail -20 | sed 's/^/#   /'
fi

run_cleanup
# Every server ran with a path under $TMP on its command line; [t] keeps pgrep off itself.
no_leftover() { ! pgrep -f "${TMP/tiernet-it/[t]iernet-it}" >/dev/null; }
check "no server or daemon of this test survives the cleanup" retry 10 no_leftover
summary
