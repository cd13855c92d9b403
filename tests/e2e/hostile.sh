#!/usr/bin/env bash
# End to end: the tier boundary against hostile containers (issue 11), on a real dockerd.
# Attackers are containers with Docker's default capabilities; what needs a raw socket
# (CAP_NET_RAW, which every container has) is played from the host inside the container's
# network namespace (nsenter --net, tests/tools/frames.py), and NET_ADMIN is given only where
# an attack needs it.  Every attack has a control that shows the same probe getting through
# where it should, and the evidence is taken where the packets would arrive: a receiver's
# /proc/net/snmp, a bridge's snmp6 counters, a listener's log, the host's routing table, a
# rule's counter.
#
#   1 a rogue router advertisement          6 a host link called tnx0 that is not tiernet's
#   2 the host over IPv6                    7 hook order on a legacy host (tiernet -> dockerd)
#   3 an isolated tier over IPv6            8 127.0.0.1 routed through the gateway
#   4 Docker's own networks, both ways      9 another user of the mark bit
#   5 revoked edges and ports cut streams  10 non-IP frames inside an isolated tier
#
# Subnets: 10.89.0.0/16 and 2001:db8:89::/48 (documentation prefix, local only).  Point 7
# switches the host to iptables-legacy and back (dockerd is restarted twice; the host is
# restored in a cleanup that also runs on failure); TIERNET_E2E_LEGACY=0 skips it.
# usage: hostile.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
need_root
BIN=$(realpath "$1")
. "$HERE/docker-lib.sh"
trap run_cleanup EXIT
trap 'exit 130' INT TERM
FRAMES="/usr/bin/python3 $(realpath "$HERE/../tools/frames.py")"
LEGACY=${TIERNET_E2E_LEGACY:-1}

P=tne2e-ho
TIERS="front mid back iso hosted"
HPORT=7171 # allow hosted -> host tcp/7171
W1=tnho-w1-$$ W2=tnho-w2-$$
declare -A PID MAC IPA

# write_policy [revoked]: the suite's policy; "revoked" drops mid -> back and narrows
# world -> front to tcp/80 (point 5).
write_policy() {
	local mb="allow mid -> back" wf="allow world -> front"
	[ "${1:-}" = revoked ] && mb="" wf="allow world -> front tcp/80"
	cat >"$CONF" <<POLICY
tier front
tier mid
tier back internal
tier iso isolated
tier hosted
$wf
allow front -> mid
$mb
allow hosted -> host tcp/$HPORT
POLICY
	chmod 0644 "$CONF"
}

cleanup_docker() {
	local t ids
	ids=$(docker ps -aq --filter "name=^$P-")
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1
	for t in $TIERS dk dkl; do docker network rm $P-$t; done >/dev/null 2>&1
	# only if Docker could not remove them: our own bridges, by name
	for t in $TIERS; do ip link del tnho$t; done >/dev/null 2>&1
	return 0
}

# ---- helpers --------------------------------------------------------------------------------

# cns C CMD...: CMD in container C's network namespace, with the host's tools (root: it plays
# the container's CAP_NET_RAW, and its NET_ADMIN where an attack needs that).
cns() { local c=$1; shift; nsenter --net="/proc/${PID[$c]}/ns/net" "$@"; }
# cbg C CMD...: the same in the background, killed at cleanup.
cbg() {
	local c=$1; shift
	nsenter --net="/proc/${PID[$c]}/ns/net" "$@" &
	on_exit "kill $!"
}
# get C ADDR [PORT]: what the HTTP server at ADDR:PORT answers container C (3 s), or nothing.
get() { docker exec "$P-$1" timeout 3 wget -q -O - "http://$2:${3:-80}/" 2>/dev/null; }
wget_in() { ip netns exec "$1" timeout 3 busybox wget -q -O - "http://$2/" 2>/dev/null; }
# snmp_of C PROTO FIELD: a counter of /proc/net/snmp in container C's namespace.
snmp_of() {
	awk -v p="$2:" -v f="$3" '
		$1 == p && !c { for (i = 2; i <= NF; i++) if ($i == f) c = i; next }
		$1 == p && c { print $c; exit }' "/proc/${PID[$1]}/net/snmp"
}
# ip6_in DEV: IPv6 packets the host's stack received on DEV ("off" when IPv6 is off there).
ip6_in() { awk '$1 == "Ip6InReceives" {print $2}' "/proc/net/dev_snmp6/$1" 2>/dev/null || echo off; }
lines() { { wc -l <"$1"; } 2>/dev/null || echo 0; }

# start C NETWORK [ARGS...]: a server container (HTTP on 80, answering its name) in the
# background; started_all waits for them and records pid, MAC and address of each.
STARTING=()
start() {
	local c=$1 net=$2; shift 2
	run_server "$P-$c" "$net" "$@" >"$TMP/start-$c" 2>&1 &
	STARTING+=("$c:$net:$!")
}
started_all() {
	local s c net p
	for s in "${STARTING[@]}"; do
		IFS=: read -r c net p <<<"$s"
		check "docker run $c on $net" wait "$p"
		PID[$c]=$(docker inspect -f '{{.State.Pid}}' "$P-$c")
		IPA[$c]=$(ip_of "$P-$c" "$net")
		MAC[$c]=$(cns "$c" ip -br link show eth0 | awk '{print $3}')
	done
	STARTING=()
}

# probes_no "DESC|CLIENT|ADDR|PORT|RECEIVER"...: denied TCP probes, run in parallel.  Each
# gets no answer, and each RECEIVER's TCP layer saw not one segment meanwhile (Tcp InSegs):
# the SYN never arrived, not only its answer.  Controls follow each batch.
probes_no() {
	local s d c a p r i=0 pids=() rs
	declare -A before
	for s; do
		IFS='|' read -r d c a p r <<<"$s"
		before[$r]=$(snmp_of "$r" Tcp InSegs)
	done
	for s; do
		IFS='|' read -r d c a p r <<<"$s"
		get "$c" "$a" "$p" >"$TMP/probe.$i" &
		pids+=($!)
		i=$((i + 1))
	done
	wait "${pids[@]}"
	i=0
	for s; do
		IFS='|' read -r d c a p r <<<"$s"
		check_eq "$d" "" "$(cat "$TMP/probe.$i")"
		i=$((i + 1))
	done
	rs=$(printf '%s\n' "${!before[@]}" | sort | tr '\n' ' ')
	for r in $rs; do
		check_eq "  evidence: $r's TCP layer received no segment meanwhile" "${before[$r]}" \
			"$(snmp_of "$r" Tcp InSegs)"
	done
}

# ll_of C: the link-local address of C's eth0 once DAD is done (empty before).
ll_of() {
	cns "$1" ip -6 -o addr show dev eth0 scope link | grep -v tentative | awk '{print $4}' |
		cut -d/ -f1
}
# ipv6_on C: Docker turns IPv6 off on every interface of a container of a network without
# --ipv6 (lo included, so not even ::1 exists): on again for eth0 and lo.
ipv6_on() { cns "$1" sysctl -qw net.ipv6.conf.lo.disable_ipv6=0 net.ipv6.conf.eth0.disable_ipv6=0; }
# eui64 MAC: the link-local address the kernel would derive from MAC.
eui64() {
	local m1 m2 m3 m4 m5 m6
	IFS=: read -r m1 m2 m3 m4 m5 m6 <<<"$1"
	printf 'fe80::%x:%xff:fe%x:%x' $(((0x$m1 ^ 2) * 256 + 0x$m2)) $((0x$m3)) $((0x$m4)) \
		$((0x$m5 * 256 + 0x$m6))
}

raw_lo_count() { l2_count 'ip daddr 127\.0\.0\.0/8 counter'; }
l2_ip6_dropped() {
	nft list table bridge tiernet 2>/dev/null |
		sed -n 's/.*meta protocol ip6 counter packets \([0-9]*\).*/\1/p'
}
status() { "$BIN" status --socket "$SOCK" 2>&1; }

# bytes FILE: what a frames.py sink received so far; grows FILE: it grows within 0.5 s.
bytes() { cat "$1" 2>/dev/null || echo 0; }
grows() { local a; a=$(bytes "$1"); sleep 0.5; [ "$(bytes "$1")" -gt "$a" ]; }

# outside NS HOSTIF HOSTADDR NSADDR NAME: a namespace that plays the world (no default route:
# tier and Docker containers are masqueraded), with an HTTP server answering NAME.
outside() {
	ip netns add "$1"
	on_exit "ip netns del $1"
	ip link add "$2" type veth peer name eth0 netns "$1"
	on_exit "ip link del $2"
	ip addr add "$3/24" dev "$2"
	ip link set "$2" up
	ip -n "$1" link set lo up
	ip -n "$1" addr add "$4/24" dev eth0
	ip -n "$1" link set eth0 up
	mkdir -p "$TMP/www-$5"
	echo "$5" >"$TMP/www-$5/index.html"
	ip netns exec "$1" busybox httpd -f -p 80 -h "$TMP/www-$5" &
	on_exit "kill $!"
}

# ---- set-up ---------------------------------------------------------------------------------

T0=$(date +%s)
dockerd_ensure
on_exit restore_host
on_exit plugin_stop
on_exit cleanup_docker
ensure_image
write_policy

# the world: w1 behind wld89 (10.89.200.0/24; the host also gets 2001:db8:89:200::1 there),
# w2 behind "tnx0", a host uplink that someone else named with tiernet's prefix.
outside "$W1" wld89 10.89.200.1 10.89.200.2 w1
outside "$W2" tnx0 10.89.201.1 10.89.201.2 w2
plugin_start "$BIN"

o=0
for t in $TIERS; do
	o=$((o + 1))
	check "docker network create -d $DRIVER -o tier=$t (10.89.$o.0/24)" \
		docker network create -d "$DRIVER" -o tier=$t -o com.docker.network.bridge.name=tnho$t \
		--subnet 10.89.$o.0/24 $P-$t
done
check "docker network create $P-dk (Docker's bridge driver, 10.89.100.0/24)" \
	docker network create --subnet 10.89.100.0/24 $P-dk
BRK=br-$(docker network inspect -f '{{.Id}}' $P-dk | cut -c1-12)
start f1 $P-front --ip 10.89.1.10 -p 18080:80
start f2 $P-front --ip 10.89.1.11 -p 17005:7005
start m1 $P-mid --ip 10.89.2.10
start b1 $P-back --ip 10.89.3.10
start b2 $P-back --ip 10.89.3.11
start i1 $P-iso --ip 10.89.4.10
start i2 $P-iso --ip 10.89.4.11
start h1 $P-hosted --ip 10.89.5.10 --cap-add NET_ADMIN --sysctl net.ipv4.conf.all.route_localnet=1
start d0 bridge -p 18989:80
start d0c bridge
start k1 $P-dk --ip 10.89.100.10
start k2 $P-dk --ip 10.89.100.11
started_all
echo "# set-up done after $(($(date +%s) - T0)) s"

# ======================================================================================
echo "# the links: tiernet's carry its interface group, no IPv6 address, br_netfilter on"
for t in $TIERS; do
	g=$(ip -d link show tnho$t | grep -o ' group [0-9a-z]*' | awk '{print $2}')
	check "bridge tnho$t carries a tiernet group 0x746e8... ($g)" \
		sh -c "printf '%x' $g | grep -q '^746e8'"
done
check_eq "no tiernet bridge has an IPv6 address" "" \
	"$(for t in $TIERS; do ip -6 -o addr show dev tnho$t; done)"
check_eq "Docker turned IPv6 off on back's eth0 (b1)" 1 \
	"$(cns b1 sysctl -n net.ipv6.conf.eth0.disable_ipv6)"

# ======================================================================================
echo "# 10. non-IP frames inside an isolated tier (br_netfilter)"
check "ip -d link show tnhoiso: nf_call_iptables 1" \
	sh -c "ip -d link show tnhoiso | grep -q 'nf_call_iptables 1'"
check_contains "tiernet status says br_netfilter: on" "$(status)" "br_netfilter: on"
cns b2 $FRAMES count eth0 88b5 3 >"$TMP/count.b2" &
cb=$!
cns i2 $FRAMES count eth0 88b5 3 >"$TMP/count.i2" &
ci=$!
sleep 0.7
check "b1 sends an ethertype 0x88b5 frame to b2's MAC" cns b1 $FRAMES ether eth0 "${MAC[b2]}" 88b5
check "i1 sends an ethertype 0x88b5 frame to i2's MAC" cns i1 $FRAMES ether eth0 "${MAC[i2]}" 88b5
wait $cb $ci
check_eq "control: b2 (back, not isolated) receives b1's frame" 1 "$(cat "$TMP/count.b2")"
check_eq "i2 (iso, isolated) receives none of i1's frames" 0 "$(cat "$TMP/count.i2")"
check_eq "control: i1 and i2 still resolve each other by ARP (and ICMP stays denied)" "lladdr" \
	"$(docker exec $P-i1 ping -c1 -W1 "${IPA[i2]}" >/dev/null 2>&1
	   cns i1 ip neigh show "${IPA[i2]}" | grep -o lladdr)"

# ======================================================================================
echo "# 1. a rogue router advertisement from back (IPv6 off in the container, as Docker sets it)"
# control: the same frame, sent into a namespace that is an ordinary IPv6 host, makes it take
# a default route and a SLAAC address: the frame is a valid RA.
NSV1=tnho-v1-$$ NSV2=tnho-v2-$$
ip netns add "$NSV1"
on_exit "ip netns del $NSV1"
ip netns add "$NSV2"
on_exit "ip netns del $NSV2"
ip link add rv1 netns "$NSV1" type veth peer name rv2 netns "$NSV2"
ip netns exec "$NSV2" sysctl -qw net.ipv6.conf.all.forwarding=0 net.ipv6.conf.rv2.accept_ra=1
ip -n "$NSV1" link set rv1 up
ip -n "$NSV2" link set rv2 up
g0=$(l2_ip6_dropped)
check "b1 sends a router advertisement (prefix 2001:db8:89:98::/64) on its eth0" \
	cns b1 $FRAMES ra eth0 2001:db8:89:98::
sleep 2 # the control's link-local address must pass DAD before it takes an RA; b1's RA settles
ip netns exec "$NSV1" $FRAMES ra rv1 2001:db8:89:99::
check "control: an ordinary IPv6 host takes the same RA's default route" \
	retry 15 sh -c "ip -n $NSV2 -6 route | grep -q 'default via fe80'"
check "control: ... and a SLAAC address from it" \
	sh -c "ip -n $NSV2 -6 addr | grep -q 2001:db8:89:99:"
check_eq "the host took no route from back's RA (ip -6 route: proto ra, the prefix)" "" \
	"$(ip -6 route show table all | grep -E 'proto ra|2001:db8:89:98')"
check_eq "the host took no address from it (ip -6 addr)" "" "$(ip -6 -o addr show | grep 2001:db8:89:98)"
check_eq "tiernet's bridges still have no IPv6 address" "" \
	"$(for t in $TIERS; do ip -6 -o addr show dev tnho$t; done 2>/dev/null)"
check "tiernet's bridge guard dropped it (its counter: $g0 -> $(l2_ip6_dropped))" \
	test "$(l2_ip6_dropped)" -gt "${g0:-0}"

# ======================================================================================
echo "# 2, 3. IPv6: the host, another container of an isolated tier"
LOG6=$TMP/listen6.log
: >"$LOG6"
$FRAMES listen6 7272 "$LOG6" &
on_exit "kill $!"
retry 25 sh -c "ss -ltn | grep -q ':7272 '"
check "control: the host's [::]:7272 accepts the host itself" $FRAMES tcp6 ::1 7272
ip addr add 2001:db8:89:200::1/64 dev wld89 nodad
for c in b1 i1 i2 k1 k2; do ipv6_on $c; done
check "IPv6 link-local addresses of b1, i1, i2, k1, k2 pass DAD" retry 40 sh -c \
	"for c in ${PID[b1]} ${PID[i1]} ${PID[i2]} ${PID[k1]} ${PID[k2]}; do
		nsenter --net=/proc/\$c/ns/net ip -6 -o addr show dev eth0 scope link | grep -v tentative | grep -q fe80 || exit 1
	done"
LL_I2=$(ll_of i2) LL_K2=$(ll_of k2)
# The probe: a container connects to the host's listener (1) at its bridge's link-local address
# and (2) at 2001:db8:89:200::1 through its bridge.  A static neighbour entry sends the SYN
# straight to the bridge's MAC (what CAP_NET_RAW alone could also do), so no NDP is needed.
probe_host() { # probe_host C BRIDGE LL
	local brmac
	brmac=$(ip -br link show "$2" | awk '{print $3}')
	cns "$1" ip -6 neigh replace "$3" lladdr "$brmac" dev eth0 nud permanent
	cns "$1" ip -6 route replace 2001:db8:89:200::/64 dev eth0
	cns "$1" ip -6 neigh replace 2001:db8:89:200::1 lladdr "$brmac" dev eth0 nud permanent
}
BRK_LL=$(ip -6 -o addr show dev "$BRK" scope link | awk '{print $4}' | cut -d/ -f1)
probe_host k1 "$BRK" "$BRK_LL"
n=$(lines "$LOG6") in6=$(ip6_in "$BRK")
check "control: k1 (a Docker bridge network) reaches the host's [::]:7272 at its bridge's link-local" \
	cns k1 $FRAMES tcp6 "$BRK_LL%eth0" 7272
check "control: k1 reaches the host's [::]:7272 at 2001:db8:89:200::1" \
	cns k1 $FRAMES tcp6 2001:db8:89:200::1 7272
check_eq "control: the host's listener logged both" "$((n + 2))" "$(lines "$LOG6")"
check "control: the host's IPv6 counter of $BRK grew ($in6 -> $(ip6_in "$BRK"))" \
	test "$(ip6_in "$BRK")" -gt "$in6"
BR_LL=$(eui64 "$(ip -br link show tnhoback | awk '{print $3}')")
probe_host b1 tnhoback "$BR_LL"
n=$(lines "$LOG6") in6=$(ip6_in tnhoback) g0=$(l2_ip6_dropped)
refute "b1 (back) cannot reach the host's [::]:7272 at its bridge's would-be link-local $BR_LL" \
	cns b1 $FRAMES tcp6 "$BR_LL%eth0" 7272
refute "b1 cannot reach the host's [::]:7272 at 2001:db8:89:200::1" \
	cns b1 $FRAMES tcp6 2001:db8:89:200::1 7272
check_eq "  evidence: the host's listener logged nothing from back" "$n" "$(lines "$LOG6")"
check_eq "  evidence: the host's IPv6 stack received nothing on tnhoback (dev_snmp6: $in6)" "$in6" \
	"$(ip6_in tnhoback)"
check "  evidence: tiernet's bridge guard dropped the SYNs ($g0 -> $(l2_ip6_dropped))" \
	test "$(l2_ip6_dropped)" -gt "${g0:-0}"
# 3: two containers of the isolated tier; the control is the same on Docker's bridge network
cbg k2 $FRAMES listen6 7373 "$TMP/k2.log"
cbg i2 $FRAMES listen6 7373 "$TMP/i2.log"
retry 25 cns k2 sh -c "ss -ltn | grep -q ':7373 '"
retry 25 cns i2 sh -c "ss -ltn | grep -q ':7373 '"
cns k1 ip -6 neigh replace "$LL_K2" lladdr "${MAC[k2]}" dev eth0 nud permanent
cns i1 ip -6 neigh replace "$LL_I2" lladdr "${MAC[i2]}" dev eth0 nud permanent
s0=$(snmp_of k2 Tcp InSegs)
check "control: k1 connects to k2 over IPv6 link-local (Docker bridge network)" \
	cns k1 $FRAMES tcp6 "$LL_K2%eth0" 7373
check "control: k2's listener logged it, its TCP layer counted it" \
	sh -c "[ \"$(lines "$TMP/k2.log")\" -eq 1 ] && [ \"$(snmp_of k2 Tcp InSegs)\" -gt $s0 ]"
s0=$(snmp_of i2 Tcp InSegs)
refute "i1 cannot reach i2 (iso, isolated) over IPv6 link-local" cns i1 $FRAMES tcp6 "$LL_I2%eth0" 7373
check_eq "  evidence: i2's listener logged nothing" 0 "$(lines "$TMP/i2.log")"
check_eq "  evidence: i2's TCP layer received no segment" "$s0" "$(snmp_of i2 Tcp InSegs)"
check "control: i2's listener answers i2 itself on [::1]" cns i2 $FRAMES tcp6 ::1 7373

# ======================================================================================
echo "# 4. Docker's own networks (docker0, $BRK), both ways"
D0=${IPA[d0]} K1=${IPA[k1]}
check "tiernet counts docker0 and $BRK as Docker's (mangle TIERNET-WORLD)" retry 15 sh -c \
	"iptables-legacy -t mangle -S TIERNET-WORLD | grep -q -- '-o docker0 ' &&
	 iptables-legacy -t mangle -S TIERNET-WORLD | grep -q -- '-o $BRK '"
probes_no \
	"front -> docker0's d0 ($D0:80): no|f1|$D0|80|d0" \
	"front -> d0, a closed port ($D0:5555): no|f1|$D0|5555|d0" \
	"mid -> d0 ($D0:80): no|m1|$D0|80|d0" \
	"front -> $P-dk's k1 ($K1:80): no|f1|$K1|80|k1" \
	"mid -> k1 ($K1:80): no|m1|$K1|80|k1" \
	"mid -> k1, a closed port ($K1:5555): no|m1|$K1|5555|k1" \
	"docker0's d0c -> front's f1 by address: no|d0c|${IPA[f1]}|80|f1" \
	"d0c -> mid's m1: no|d0c|${IPA[m1]}|80|m1" \
	"$P-dk's k2 -> front's f1: no|k2|${IPA[f1]}|80|f1" \
	"k2 -> mid's m1: no|k2|${IPA[m1]}|80|m1"
check_eq "control: d0 answers d0c (docker0)" $P-d0 "$(get d0c "$D0")"
check_eq "control: k1 answers k2 ($P-dk)" $P-k1 "$(get k2 "$K1")"
check_eq "control: f1 answers f2 (front)" $P-f1 "$(get f2 "${IPA[f1]}")"
check_eq "control: m1 answers f1 (front -> mid)" $P-m1 "$(get f1 "${IPA[m1]}")"
check_eq "control: front reaches the world (w1)" w1 "$(get f1 10.89.200.2)"
check_eq "control: mid reaches the world (w1)" w1 "$(get m1 10.89.200.2)"
check_eq "control: docker0's d0c reaches the world (w1)" w1 "$(get d0c 10.89.200.2)"
check_eq "control: k2 reaches the world (w1)" w1 "$(get k2 10.89.200.2)"
check_eq "d0's published port (-p 18989:80 on docker0) answers front through a host address" \
	$P-d0 "$(get f1 10.89.200.1 18989)"

# ======================================================================================
echo "# 6. a host link called tnx0 that tiernet did not create"
tnx0_group() { ip -d link show tnx0 | grep -o ' group [0-9a-z]*' | awk '{print $2}'; }
check_eq "front reaches the world through tnx0 (w2)" w2 "$(get f1 10.89.201.2)"
check_eq "tnx0 carries no tiernet group" default "$(tnx0_group)"
refute "no tiernet rule names tnx0" sh -c "iptables-legacy-save | grep -q tnx0"
check "tiernet's status does not list tnx0" sh -c "! '$BIN' status --socket '$SOCK' | grep -q tnx0"
plugin_stop
check_eq "tiernet stopped (SIGTERM) cleanly" 0 "$PLUGIN_ET"
check "tnx0 survives tiernet's stop" ip link show tnx0
plugin_start "$BIN"
check "tiernet serves again" retry 25 sh -c "'$BIN' status --socket '$SOCK' >/dev/null"
check "tnx0 survives tiernet's restart (reconciliation)" ip link show tnx0
check_eq "after the restart front still reaches w2 through tnx0" w2 "$(get f1 10.89.201.2)"
check_eq "and the tiers' rules are back: front -> mid" $P-m1 "$(get f1 "${IPA[m1]}")"

# ======================================================================================
echo "# 8. 127.0.0.1 routed through the gateway (CVE-2020-8558)"
GWH=10.89.5.1
for a in 127.0.0.1:host-lo $GWH:host-gw; do
	mkdir -p "$TMP/www-${a#*:}"
	echo "${a#*:}" >"$TMP/www-${a#*:}/index.html"
	busybox httpd -f -p "${a%:*}:$HPORT" -h "$TMP/www-${a#*:}" &
	on_exit "kill $!"
done
retry 25 sh -c "ss -ltn | grep -q '127.0.0.1:$HPORT ' && ss -ltn | grep -q '$GWH:$HPORT '"
check_eq "control: the host itself reaches its 127.0.0.1:$HPORT" host-lo \
	"$(timeout 3 busybox wget -q -O - http://127.0.0.1:$HPORT/ 2>/dev/null)"
check_eq "control: h1 (hosted) reaches the host's port $HPORT at its gateway (allow hosted -> host)" \
	host-gw "$(get h1 $GWH $HPORT)"
check_eq "h1 has route_localnet on (docker run --sysctl)" 1 \
	"$(docker exec $P-h1 cat /proc/sys/net/ipv4/conf/all/route_localnet)"
check "h1 (NET_ADMIN) flushes lo's addresses" docker exec $P-h1 ip addr flush dev lo
check "h1 routes 127.0.0.0/8 through its gateway" \
	docker exec $P-h1 ip route add 127.0.0.0/8 via $GWH dev eth0 onlink
r0=$(raw_lo_count)
check_eq "h1 cannot reach the host's 127.0.0.1:$HPORT through the gateway" "" \
	"$(get h1 127.0.0.1 $HPORT)"
r1=$(raw_lo_count)
check "  evidence: the layer-2 guard's 127.0.0.0/8 rule dropped it ($r0 -> $r1)" \
	test "${r1:-0}" -gt "${r0:-0}"
check_eq "control: h1 still reaches the host's port $HPORT at its gateway" host-gw \
	"$(get h1 $GWH $HPORT)"

# ======================================================================================
echo "# 9. another user of the mark bit"
MARKRULE="-t mangle -I PREROUTING -j MARK --set-xmark 0x1000000/0x1000000"
check "another agent's rule sets 0x01000000 on every packet (legacy mangle PREROUTING)" \
	iptables-legacy $MARKRULE
on_exit "iptables-legacy ${MARKRULE/-I/-D}"
probes_no \
	"back -> front, though the bit is set: no|b1|${IPA[f1]}|80|f1" \
	"front -> back: no|f1|${IPA[b1]}|80|b1" \
	"mid -> front: no|m1|${IPA[f1]}|80|f1"
check_eq "control: mid still reaches back" $P-b1 "$(get m1 "${IPA[b1]}")"
check_eq "control: f2 still reaches f1" $P-f1 "$(get f2 "${IPA[f1]}")"
check "control: the other rule did mark packets" sh -c \
	"iptables-legacy -t mangle -L PREROUTING -v -x -n | awk '/MARK/ {exit !(\$1 > 0)}'"
check "remove the other agent's rule" iptables-legacy ${MARKRULE/-I/-D}

# ======================================================================================
echo "# 5. revoked edges and ports cut established streams within a second"
SINK_B=$TMP/sink-b1 SINK_M=$TMP/sink-m1 SINK_F=$TMP/sink-f2
cbg b1 $FRAMES sink 0.0.0.0 7003 "$SINK_B"
cbg m1 $FRAMES sink 0.0.0.0 7004 "$SINK_M"
cbg f2 $FRAMES sink 0.0.0.0 7005 "$SINK_F"
retry 25 cns b1 sh -c "ss -ltn | grep -q ':7003 '"
retry 25 cns m1 sh -c "ss -ltn | grep -q ':7004 '"
retry 25 cns f2 sh -c "ss -ltn | grep -q ':7005 '"
cbg m1 $FRAMES stream "${IPA[b1]}" 7003 40
cbg f1 $FRAMES stream "${IPA[m1]}" 7004 40
ip netns exec "$W1" $FRAMES stream 10.89.200.1 17005 40 &
on_exit "kill $!"
check "mid -> back stream flows (m1 -> b1:7003)" retry 10 grows "$SINK_B"
check "front -> mid stream flows (f1 -> m1:7004)" retry 10 grows "$SINK_M"
check "world -> published port stream flows (w1 -> 10.89.200.1:17005 -> f2:7005)" \
	retry 10 grows "$SINK_F"
write_policy revoked
plugin_hup
check_eq "SIGHUP: mid -> back removed, world -> front narrowed to tcp/80, applied" 0 $?
sleep 1
a=$(bytes "$SINK_B") af=$(bytes "$SINK_F")
sleep 1.5
check_eq "within 1 s the mid -> back stream delivers nothing more" "$a" "$(bytes "$SINK_B")"
check_eq "within 1 s the stream to the revoked published port delivers nothing more" "$af" \
	"$(bytes "$SINK_F")"
check "control: the front -> mid stream, whose edge stays, still flows" grows "$SINK_M"
check_eq "control: the world still reaches f1's published port 18080 -> 80 (tcp/80 stays)" \
	$P-f1 "$(wget_in "$W1" 10.89.200.1:18080)"
check "the daemon logged the cut" grep -q 'cut [0-9]* connection' "$TMP/plugin.log"
write_policy
plugin_hup
check_eq "SIGHUP: the policy as it was, applied" 0 $?
check_eq "mid reaches back again" $P-b1 "$(get m1 "${IPA[b1]}")"

# ======================================================================================
teardown_tiers() { # teardown_tiers NETWORKS...: containers first, then the networks
	local ids n
	ids=$(docker ps -aq --filter "name=^$P-")
	[ -z "$ids" ] || check "docker rm -f every container of the suite" docker rm -f $ids
	for n; do check "docker network rm $P-$n" docker network rm $P-$n; done
}

echo "# 7. hook order on a host switched to iptables-legacy: tiernet first, then dockerd"
if [ "$LEGACY" = 0 ]; then
	echo "# skipped (TIERNET_E2E_LEGACY=0)"
	teardown_tiers $TIERS dk
else
	# dockerd would stop each container for 10 s: they go first.  mid and back stay, so that
	# tiernet's chains are hooked into the legacy tables when the legacy dockerd boots.
	teardown_tiers front iso hosted dk
	TL=$(date +%s)
	if check "switch the host to iptables-legacy and restart dockerd (tiernet keeps serving)" \
		switch_to_legacy; then
		check_eq "Docker's FORWARD is in legacy x_tables, policy DROP" "-P FORWARD DROP" \
			"$(iptables-legacy -S FORWARD | head -1)"
		refute "no nf_tables ip filter table is loaded" nft list table ip filter
		check "tiernet status: legacy mode" retry 25 sh -c \
			"'$BIN' status --socket '$SOCK' | grep -qx 'firewall: legacy chains'"
		check "within 3 s FORWARD starts with tiernet's jump" retry 15 sh -c \
			"iptables-legacy -S FORWARD | sed -n 2p | grep -qx -- '-A FORWARD -j TIERNET-FWD'"
		check "DOCKER-USER (legacy) starts with -j TIERNET-FWD" retry 15 sh -c \
			"iptables-legacy -S DOCKER-USER | sed -n 2p | grep -qx -- '-A DOCKER-USER -j TIERNET-FWD'"
		check "docker network create $P-dkl (Docker's bridge driver, 10.89.110.0/24)" \
			docker network create --subnet 10.89.110.0/24 $P-dkl
		echo "# right after it, FORWARD starts with: $(iptables-legacy -S FORWARD | sed -n 2p)"
		start l1 $P-dkl --ip 10.89.110.10
		start m1 $P-mid --ip 10.89.2.10
		start b1 $P-back --ip 10.89.3.10
		started_all
		check "within 3 s FORWARD starts with tiernet's jump again" retry 15 sh -c \
			"iptables-legacy -S FORWARD | sed -n 2p | grep -qx -- '-A FORWARD -j TIERNET-FWD'"
		check "... and DOCKER-USER (legacy) starts with -j TIERNET-FWD" retry 15 sh -c \
			"iptables-legacy -S DOCKER-USER | sed -n 2p | grep -qx -- '-A DOCKER-USER -j TIERNET-FWD'"
		echo "# FORWARD now: $(iptables-legacy -S FORWARD | sed -n '2,4p' | tr '\n' ';')"
		probes_no \
			"l1 ($P-dkl) cannot fetch from back's b1: no|l1|${IPA[b1]}|80|b1" \
			"l1 cannot fetch from mid's m1: no|l1|${IPA[m1]}|80|m1"
		check_eq "control: l1 fetches from the world (w1)" w1 "$(get l1 10.89.200.2)"
		check_eq "control: mid reaches back" $P-b1 "$(get m1 "${IPA[b1]}")"
		teardown_tiers mid back dkl
		check "tnx0 survives the removal of every tier network" ip link show tnx0
		ip link del tnx0
		check "nothing tiernet remains (links, legacy rules, nft tables)" nothing_left
	fi
	cleanup_docker
	restore_host
	echo "# host in legacy mode for $(($(date +%s) - TL)) s"
	check_host_restored
fi
if [ "$LEGACY" = 0 ]; then
	check "tnx0 survives the removal of every tier network" ip link show tnx0
	ip link del tnx0
	check "nothing tiernet remains (links, legacy rules, nft tables)" nothing_left
fi

plugin_stop
check_eq "tiernet stopped (SIGTERM) cleanly" 0 "$PLUGIN_ET"
if sanitizer_report >/dev/null; then
	nok "the daemon's log has no sanitizer report"
	sanitizer_report | head -20 | sed 's/^/#   /'
else
	ok "the daemon's log has no sanitizer report"
fi
echo "# run time $(($(date +%s) - T0)) s"
[ "$T_FAIL" -eq 0 ] || plugin_log
run_cleanup
summary
