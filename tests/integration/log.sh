#!/usr/bin/env bash
# Integration: the denied-flow log (`tiernet log`) and audit mode.  `tiernet serve` in a
# private network namespace, driven through its socket as dockerd drives it; namespaces play
# the containers.  Checks that a denied connection appears in `tiernet log --json` within a
# second with both addresses, the port, both tiers and the fix line (an allowed one does not),
# --since and --follow, the daemon's own rate-limited log line, audit mode (a denied flow
# passes and is logged as "would deny"; without audit it is dropped), and that the kernel's
# rate limit bounds the entries under a flood; and a denial over IPv6.  Subnets:
# 10.97.0.0/16, fd00:97::/32.
# usage: log.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers
trap 'run_cleanup' EXIT
trap 'exit 130' INT TERM

sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
sysctl -qw net.ipv4.ip_forward=1
policy() {
	cat >"$CONF" <<POLICY
tier front
tier mid
tier back internal${1:+ $1}
allow world -> front
allow front -> mid tcp/8080
allow mid   -> back
POLICY
}
policy
plugin_start "$BIN"
on_exit plugin_stop
check "the daemon reads the kernel's denials (no 'denied-flow log ... is off')" \
	eval "! grep -q 'denied-flow log.*is off' '$TMP/plugin.log'"

declare -A NETID GW IP NS
NETID[front]=97f1000000000000000000000000000000000000000000000000000000000001
NETID[mid]=97f2000000000000000000000000000000000000000000000000000000000002
NETID[back]=97f3000000000000000000000000000000000000000000000000000000000003
GW[front]=10.97.1.1 GW[mid]=10.97.2.1 GW[back]=10.97.3.1
CONTAINERS=()
for t in front mid back; do
	gw=${GW[$t]}
	call /NetworkDriver.CreateNetwork "$(net_body "${NETID[$t]}" "$t" "$gw/24" "${gw%.1}.0/24")"
	check_eq "CreateNetwork $t" '200 {}' "$CODE $BODY"
done
# container NAME TIER ADDRESS: an endpoint, joined, with an HTTP server on 8080.
container() {
	local name=$1 tier=$2 addr=$3 ep
	ep=$(printf '97e%09x' $((${#CONTAINERS[@]} + 1)))
	ep=$ep${ep}${ep}${ep}${ep}0000
	CONTAINERS+=("$name:$tier:$ep")
	IP[$name]=$addr NS[$name]=tnlog-$name-$$
	on_exit "ip netns del ${NS[$name]}"
	call /NetworkDriver.CreateEndpoint "$(ep_body "${NETID[$tier]}" "$ep" "$addr/24")"
	check_contains "CreateEndpoint $name" "$CODE $BODY" '200 {"Interface"'
	call /NetworkDriver.Join "$(join_body "${NETID[$tier]}" "$ep" "/var/run/docker/netns/$name")"
	check_contains "Join $name" "$CODE" 200
	container_in "${NS[$name]}" "tnc${ep:0:12}" "$addr/24" "${GW[$tier]}"
	serve_http "${NS[$name]}" 8080 "$name:8080"
}
container f1 front 10.97.1.2
container m1 mid 10.97.2.2
container b1 back 10.97.3.2

# tlog ARGS...: `tiernet log` against this daemon.
tlog() { "$BIN" log --socket "$SOCK" "$@" 2>>"$TMP/log.err"; }
# entries FILTER: the number of --json entries jq's FILTER selects.
entries() { tlog --json | jq -c "select($1)" | wc -l; }
now() { date +%s.%N; }

echo "# 1. a denied connection is in the log within a second; an allowed one is not"
check_eq "the log starts empty" 0 "$(tlog --json | wc -l)"
check_eq "control: front -> mid tcp/8080 is allowed" "m1:8080" "$(http_get "${NS[f1]}" 10.97.2.2 8080)"
check_eq "the allowed connection is not in the log" 0 "$(entries '.dst.addr == "10.97.2.2"')"
t0=$(now)
http_get "${NS[f1]}" 10.97.3.2 8080 >"$TMP/denied.out" &
getter=$!
seen=
for ((i = 0; i < 30; i++)); do
	if [ "$(entries '.src.addr == "10.97.1.2" and .dst.addr == "10.97.3.2"')" -gt 0 ]; then
		seen=$(now)
		break
	fi
	sleep 0.05
done
wait $getter
check_eq "front -> back tcp/8080 is denied" "" "$(cat "$TMP/denied.out")"
check "it appears in tiernet log --json within a second" \
	awk -v a="$t0" -v b="${seen:-1e12}" 'BEGIN { exit !(b - a < 1.0) }'
E=$(tlog --json | jq -c 'select(.dst.addr == "10.97.3.2")' | head -1)
echo "#   $E"
check_eq "the entry: proto, both addresses, the port, both tiers" \
	"tcp 10.97.1.2 front 10.97.3.2 8080 back denied" \
	"$(jq -r '"\(.proto) \(.src.addr) \(.src.tier) \(.dst.addr) \(.dst.port) \(.dst.tier) \(.verdict)"' <<<"$E")"
check_eq "the entry names the networks and endpoints" "97f100000000 97e000000001 97f300000000 97e000000003" \
	"$(jq -r '"\(.src.network) \(.src.endpoint) \(.dst.network) \(.dst.endpoint)"' <<<"$E")"
check_eq "the entry's reason and the line that would allow it" \
	"no-edge allow front -> back tcp/8080" "$(jq -r '"\(.reason) \(.fix)"' <<<"$E")"
check "the source port is the client's (ephemeral)" test "$(jq -r .src.port <<<"$E")" -gt 1024
check_contains "the text form says DENIED and the fix" "$(tlog | tail -1)" \
	"DENIED tcp 10.97.1.2:"
check_contains "... with the fix line" "$(tlog | tail -1)" "to allow it: allow front -> back tcp/8080"
check_contains "a port outside the edge: reason port, the fix extends line 5" \
	"$(http_get "${NS[f1]}" 10.97.2.2 9090; sleep 0.3; tlog --json | jq -r 'select(.dst.port == 9090) | "\(.reason) \(.fix_at) \(.fix)"' | tail -1)" \
	"port 5 allow front -> mid tcp/8080, tcp/9090"
HOSTPORT=7077
serve_http_at host 10.97.1.1 $HOSTPORT hostsrv
http_get "${NS[f1]}" 10.97.1.1 $HOSTPORT >/dev/null
sleep 0.3
check_eq "to the host: dst tier host, fix allow front -> host tcp/$HOSTPORT" \
	"host allow front -> host tcp/$HOSTPORT" \
	"$(tlog --json | jq -r "select(.dst.port == $HOSTPORT) | \"\(.dst.tier) \(.fix)\"" | tail -1)"

echo "# 2. the daemon's own log: one line per pair and port, however many denials"
pids=()
for i in 1 2 3; do http_get "${NS[f1]}" 10.97.3.2 8080 >/dev/null & pids+=($!); done
wait "${pids[@]}"	# (a bare wait would wait for the HTTP servers too)
sleep 0.3
check "the log has every one of them (4 or more front -> back tcp/8080)" \
	test "$(entries '.dst.addr == "10.97.3.2" and .dst.port == 8080')" -ge 4
check_eq "the daemon logged that pair once" 1 \
	"$(grep -c 'denied tcp 10.97.1.2:[0-9]* (front) -> 10.97.3.2:8080 (back)' "$TMP/plugin.log")"
check_contains "its line says why and the fix" \
	"$(grep -m1 'denied tcp 10.97.1.2' "$TMP/plugin.log")" 'to allow it: "allow front -> back tcp/8080"'

echo "# 3. --since and --follow"
sleep 1.2
check_eq "--since 1s: nothing older" 0 "$(tlog --json --since 1s | wc -l)"
check "--since 1m: the earlier ones" test "$(tlog --json --since 1m | wc -l)" -ge 5
check "--since 5x is refused with exit 2" eval "'$BIN' log --socket '$SOCK' --since 5x >/dev/null 2>&1; [ \$? -eq 2 ]"
tlog --follow --json >"$TMP/follow.out" &
follower=$!
on_exit "kill $follower 2>/dev/null"
sleep 0.5
before=$(wc -l <"$TMP/follow.out")
http_get "${NS[m1]}" 10.97.1.2 8080 >/dev/null
sleep 1
check "--follow prints the earlier entries first" test "$before" -ge 6
# (1 or 2: the client sends its SYN again after a second, a new connection attempt too)
check "--follow then prints the new denial (mid -> front) as it comes" test \
	"$(jq -c 'select(.src.tier == "mid" and .dst.tier == "front")' "$TMP/follow.out" | wc -l)" -ge 1
kill $follower 2>/dev/null
wait $follower 2>/dev/null

echo "# 4. audit mode: tier back audit"
policy audit
plugin_hup
check_eq "SIGHUP applies the audited policy" 0 $?
check_eq "front -> back tcp/8080 now gets through" "b1:8080" "$(http_get "${NS[f1]}" 10.97.3.2 8080)"
sleep 0.3
A=$(tlog --json | jq -c 'select(.audit and .dst.addr == "10.97.3.2")' | tail -1)
check_eq "it is logged as would deny, with the fix" "would deny front back allow front -> back tcp/8080" \
	"$(jq -r '"\(.verdict) \(.src.tier) \(.dst.tier) \(.fix)"' <<<"$A")"
check "the text form says so loudly" eval "'$BIN' log --socket '$SOCK' 2>/dev/null | grep -q 'WOULD DENY (audit, let through) tcp 10.97.1.2'"
check_contains "tiernet log warns that audit mode is on" "$("$BIN" log --socket "$SOCK" 2>&1 >/dev/null)" \
	"AUDIT MODE (tiers back)"
check_contains "tiernet status says AUDIT MODE" "$("$BIN" status --socket "$SOCK" | head -1)" \
	"AUDIT MODE ON for tiers back"
check_eq "status --json marks the tier" true \
	"$("$BIN" status --socket "$SOCK" --json | jq '.tiers[] | select(.name == "back") | .audit')"
check_eq "mid -> back is allowed by its edge" "b1:8080" "$(http_get "${NS[m1]}" 10.97.3.2 8080)"
check_eq "the allowed mid -> back is no would-deny" 0 \
	"$(entries '.src.addr == "10.97.2.2" and .dst.addr == "10.97.3.2"')"
check_eq "a tier that is not audited is still denied: mid -> front" "" "$(http_get "${NS[m1]}" 10.97.1.2 8080)"
policy
plugin_hup
check_eq "control: without audit, front -> back is dropped again" "" "$(http_get "${NS[f1]}" 10.97.3.2 8080)"

echo "# 5. the rate limit bounds the entries under a flood"
n0=$(tlog --json | wc -l)
l0=$(grep -c 'denied udp 10.97.1.2' "$TMP/plugin.log")
t0=$(now)
# 20,000 datagrams of one unanswered flow: every one is --ctstate NEW, every one denied
ip netns exec "${NS[f1]}" perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(Proto => "udp", PeerAddr => "10.97.3.2", PeerPort => 5353)
		or die "udp: $!\n";
	$s->send("x" x 22) for 1 .. 20000;' 2>>"$TMP/udp.err"
secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
sleep 0.5
n1=$(tlog --json | wc -l)
bound=$(awk -v s="$secs" 'BEGIN { printf "%d", 40 + 20 * (s + 0.5) + 5 }')
echo "#   flood of 20000 in ${secs}s: $((n1 - n0)) log entries (bound $bound)"
check "some of the flood is logged" test $((n1 - n0)) -gt 0
check "the entries stay within the kernel's limit (burst 40 + 20/s)" test $((n1 - n0)) -le "$bound"
check_eq "the daemon logged the flood once" 1 \
	"$(( $(grep -c 'denied udp 10.97.1.2' "$TMP/plugin.log") - l0 ))"
check "the daemon is alive and answers" call_ok /NetworkDriver.GetCapabilities

echo "# 6. IPv6: dual-stack networks of the same tiers, a denied connection over IPv6"
# container6 NAME TIER N: an endpoint on network TIER6 (10.97.6N.0/24, fd00:97:6N::/64),
# address .2 / ::2, joined, with an HTTP server on 8080 (busybox httpd listens on both).
container6() {
	local name=$1 tier=$2 n=$3 ep
	ep=$(printf '97e6%08x' "$n")
	ep=$ep${ep}${ep}${ep}${ep}0000
	CONTAINERS+=("$name:${tier}6:$ep")
	IP[$name]=fd00:97:6$n::2 NS[$name]=tnlog-$name-$$
	on_exit "ip netns del ${NS[$name]}"
	call /NetworkDriver.CreateEndpoint "$(printf '{"NetworkID":"%s","EndpointID":"%s","Interface":{"Address":"10.97.6%d.2/24","AddressIPv6":"fd00:97:6%d::2/64","MacAddress":""},"Options":{}}' \
		"${NETID[${tier}6]}" "$ep" "$n" "$n")"
	check_contains "CreateEndpoint $name (dual-stack)" "$CODE $BODY" '200 {"Interface"'
	call /NetworkDriver.Join "$(join_body "${NETID[${tier}6]}" "$ep" "/var/run/docker/netns/$name")"
	container_in "${NS[$name]}" "tnc${ep:0:12}" "10.97.6$n.2/24" "10.97.6$n.1"
	ip netns exec "${NS[$name]}" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
		net.ipv6.conf.eth0.accept_dad=0
	ip -n "${NS[$name]}" -6 addr add "fd00:97:6$n::2/64" dev eth0 nodad
	ip -n "${NS[$name]}" -6 route add default via "fd00:97:6$n::1"
	serve_http "${NS[$name]}" 8080 "$name:8080"
}
for t in front:1 mid:2 back:3; do
	NETID[${t%:*}6]=$(printf '97f6%d%058d%d' "${t#*:}" 0 "${t#*:}")
	call /NetworkDriver.CreateNetwork "$(printf '{"NetworkID":"%s","Options":{"com.docker.network.enable_ipv6":true,"com.docker.network.generic":{"tier":"%s"}},"IPv4Data":[{"AddressSpace":"LocalDefault","Gateway":"10.97.6%d.1/24","Pool":"10.97.6%d.0/24"}],"IPv6Data":[{"AddressSpace":"LocalDefault","Gateway":"fd00:97:6%d::1/64","Pool":"fd00:97:6%d::/64"}]}' \
		"${NETID[${t%:*}6]}" "${t%:*}" "${t#*:}" "${t#*:}" "${t#*:}" "${t#*:}")"
	check_eq "CreateNetwork ${t%:*} (dual-stack)" '200 {}' "$CODE $BODY"
done
container6 f6 front 1
container6 m6 mid 2
container6 b6 back 3
check_eq "control: front -> mid tcp/8080 over IPv6 is allowed" "m6:8080" \
	"$(http_get "${NS[f6]}" "[fd00:97:62::2]" 8080)"
check_eq "... and not in the log" 0 "$(entries '.dst.addr == "fd00:97:62::2"')"
check_eq "front -> back tcp/8080 over IPv6 is denied" "" \
	"$(http_get "${NS[f6]}" "[fd00:97:63::2]" 8080)"
sleep 0.3
E=$(tlog --json | jq -c 'select(.dst.addr == "fd00:97:63::2")' | tail -1)
echo "#   $E"
check_eq "the entry: family, proto, both IPv6 addresses, port, tiers, networks, fix" \
	"ipv6 tcp fd00:97:61::2 front fd00:97:63::2 8080 back 97f630000000 allow front -> back tcp/8080" \
	"$(jq -r '"\(.family) \(.proto) \(.src.addr) \(.src.tier) \(.dst.addr) \(.dst.port) \(.dst.tier) \(.dst.network) \(.fix)"' <<<"$E")"
check_contains "the text form brackets the IPv6 address" "$(tlog | grep 'fd00:97:63::2' | tail -1)" \
	"DENIED tcp [fd00:97:61::2]:"

echo "# 7. cleanup"
kill "$(pgrep -f "[h]ostsrv" | head -1)" 2>/dev/null
for c in "${CONTAINERS[@]}"; do
	IFS=: read -r name tier ep <<<"$c"
	container_out "${NS[$name]}" "tnc${ep:0:12}"
	call /NetworkDriver.Leave "{\"NetworkID\":\"${NETID[$tier]}\",\"EndpointID\":\"$ep\"}"
	call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"${NETID[$tier]}\",\"EndpointID\":\"$ep\"}"
	check_eq "DeleteEndpoint $name" '200 {}' "$CODE $BODY"
done
for t in front mid back front6 mid6 back6; do
	call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"${NETID[$t]}\"}"
	check_eq "DeleteNetwork $t" '200 {}' "$CODE $BODY"
done
check_eq "no tn* link remains" "" "$(ip -o link | grep -o ': tn[^:@]*')"
check_eq "no TIERNET chain or rule remains (legacy)" "" "$(iptables-legacy-save | grep TIERNET)"
plugin_stop
check_eq "the daemon exits 0 on SIGTERM" 0 "$PLUGIN_ET"
refute "no sanitizer report (ASan/LSan files, UBSan lines)" sanitizer_report
if [ "$T_FAIL" -gt 0 ]; then
	echo "# daemon log, errors and warnings:"
	grep -E '\[(error|warn)' "$TMP/plugin.log" | tail -20 | sed 's/^/#   /'
	sed 's/^/#   log.err: /' "$TMP/log.err" | tail -5
fi
run_cleanup
no_leftover() { ! pgrep -f "${TMP/tiernet-it/[t]iernet-it}" >/dev/null; }
check "no server or daemon of this test survives the cleanup" retry 10 no_leftover
summary
