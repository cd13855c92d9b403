#!/usr/bin/env bash
# Integration: asking why.  `tiernet serve` in a private network namespace, driven through
# its socket the way dockerd drives it; network namespaces play the containers.  Checks
# `tiernet explain` (every reason, by tier and by IPv4/IPv6 address, --json, exit
# statuses, an enforced matrix that differs from the declared one), the counters in
# `tiernet status` with real traffic, `tiernet check --diff`
# against the running daemon, `tiernet graph` (parsed by Graphviz), and the errors (unknown
# tier or address, malformed port, no daemon).  Subnets: 10.99.0.0/16, fd00:99::/48.
# usage: why.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers
trap 'run_cleanup' EXIT
trap 'exit 130' INT TERM

cat >"$CONF" <<'POLICY'
# why.sh
tier front
tier mid
tier back internal
tier cache isolated
allow world -> front tcp/80
allow front -> mid tcp/8080
allow mid -> back
allow mid -> host tcp/9100
POLICY
chmod 0644 "$CONF"
plugin_start "$BIN"
on_exit plugin_stop
TN() { "$BIN" "$@" --socket "$SOCK"; }

# network ID TIER N [internal] [v6]: 10.99.N.0/24 (and fd00:99:N::/64 when v6).
network() {
	local v6=false v6data='[]' internal=
	[ "${4:-}" = internal ] && internal=',"com.docker.network.internal":true'
	if [ "${5:-}" = v6 ]; then
		v6=true
		v6data=$(printf '[{"AddressSpace":"LocalDefault","Gateway":"fd00:99:%d::1/64","Pool":"fd00:99:%d::/64"}]' "$3" "$3")
	fi
	call /NetworkDriver.CreateNetwork "$(printf '{"NetworkID":"%s","Options":{"com.docker.network.enable_ipv6":%s,"com.docker.network.generic":{"tier":"%s"}%s},"IPv4Data":[{"AddressSpace":"LocalDefault","Gateway":"10.99.%d.1/24","Pool":"10.99.%d.0/24"}],"IPv6Data":%s}' \
		"$1" "$v6" "$2" "$internal" "$3" "$3" "$v6data")"
	check_eq "CreateNetwork $2 (10.99.$3.0/24${4:+ $4}${5:+ $5})" '200 {}' "$CODE $BODY"
}

# endpoint NET EP N HOST [v6]: 10.99.N.HOST (and fd00:99:N::HOST), joined, not moved.
endpoint() {
	local a6=
	[ "${5:-}" = v6 ] && a6="fd00:99:$3::$4/64"
	call /NetworkDriver.CreateEndpoint "$(printf '{"NetworkID":"%s","EndpointID":"%s","Interface":{"Address":"10.99.%d.%d/24","AddressIPv6":"%s","MacAddress":""},"Options":{}}' "$1" "$2" "$3" "$4" "$a6")"
	check_contains "CreateEndpoint 10.99.$3.$4" "$CODE $BODY" '200 {"Interface"'
	call /NetworkDriver.Join "$(join_body "$1" "$2" "/var/run/docker/netns/why-$4")"
	check_contains "Join 10.99.$3.$4" "$CODE" 200
}

id() { printf '%s%060d' "$1" 0; } # a 64-hex ID starting with $1 (4 hex digits)
FRONT=$(id 99f1) MID=$(id 99f2) BACK=$(id 99f3) CACHE=$(id 99f4) DINT=$(id 99f5)
network "$FRONT" front 1 "" v6
network "$MID" mid 2 "" v6
network "$BACK" back 3
network "$CACHE" cache 4
network "$DINT" front 5 internal
endpoint "$FRONT" "$(id 99e1)" 1 2 v6
endpoint "$MID" "$(id 99e2)" 2 2 v6
endpoint "$BACK" "$(id 99e3)" 3 2
endpoint "$CACHE" "$(id 99e4)" 4 2
endpoint "$DINT" "$(id 99e5)" 5 2

# explain_is DESC EXIT REGEX ARGS...: the exit status and the text answer.
explain_is() {
	local desc=$1 want=$2 re=$3 out rc
	shift 3
	out=$(TN explain "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && [[ "$out" =~ $re ]]; then
		ok "$desc"
	else
		nok "$desc (exit $rc, want $want; output: $(echo "$out" | tr '\n' '|'))"
	fi
}
# jexplain ARGS...: --json answer, one field per call: jexplain FIELD ARGS...
jexplain() { local f=$1; shift; TN explain --json "$@" 2>/dev/null | jq -r "$f"; }

echo "# explain by tier: every verdict and reason"
explain_is "front -> mid tcp/8080 is allowed by line 7" 0 \
	"allowed.*line: .*tiernet.conf:7: allow front -> mid tcp/8080" front mid tcp/8080
explain_is "mid -> front is denied: no edge, fix adds the line" 1 \
	"denied \(no-edge\).*fix: +add to .*tiernet.conf: allow mid -> front tcp/80" mid front tcp/80
explain_is "front -> mid tcp/22 is denied: the port is not in the edge" 1 \
	"denied \(port\).*fix: +change .*tiernet.conf:7 to: allow front -> mid tcp/8080, tcp/22" \
	front mid tcp/22
explain_is "cache -> cache is denied: isolated tier" 1 \
	"denied \(isolated\).*allow cache -> cache tcp/6379" cache cache tcp/6379
explain_is "back -> world is denied: internal tier, fix is its line without internal" 1 \
	"denied \(internal\).*line: .*:4: tier back internal.*change .*:4 to: tier back" back world
explain_is "world -> mid is denied: the publishing gate" 1 \
	"denied \(publish-gate\).*allow world -> mid tcp/80" world mid tcp/80
explain_is "world -> front tcp/80 is allowed by line 6" 0 "allowed.*:6: allow world -> front tcp/80" \
	world front tcp/80
explain_is "mid -> host tcp/9100 is allowed" 0 "allowed" mid host tcp/9100
explain_is "front -> host is denied: no edge" 1 "denied \(no-edge\).*allow front -> host udp/53" \
	front host udp/53
explain_is "host -> back is always allowed" 0 "allowed.*the host may always" host back tcp/5432
explain_is "mid -> back udp/53 is allowed (every port)" 0 "allowed.*:8: allow mid -> back" mid back udp/53
explain_is "front -> front is allowed: not isolated" 0 "allowed.*tier front" front front tcp/1

echo "# explain by address"
explain_is "10.99.1.2 -> 10.99.2.2 tcp/8080 names tier, network and endpoint" 0 \
	"10.99.1.2 \(tier front, network 99f100000000, endpoint 99e100000000\) -> 10.99.2.2 \(tier mid.*allowed" \
	10.99.1.2 10.99.2.2 tcp/8080
explain_is "10.99.1.2 -> 10.99.3.2 is denied (no edge front -> back)" 1 "denied \(no-edge\)" \
	10.99.1.2 10.99.3.2 tcp/5432
explain_is "an endpoint on a Docker --internal network -> world: docker-internal" 1 \
	"Docker --internal.*denied \(docker-internal\)" 10.99.5.2 world
explain_is "front's other network still reaches the world" 0 "allowed" 10.99.1.2 world
explain_is "world -> an endpoint that publishes nothing: not-published" 1 \
	"denied \(not-published\)" world 10.99.1.2 tcp/80
explain_is "world -> a Docker --internal network's endpoint: docker-internal" 1 \
	"denied \(docker-internal\)" world 10.99.5.2 tcp/80
explain_is "a gateway address is the host" 1 "the gateway of network 99f1.*denied \(no-edge\)" \
	10.99.1.2 10.99.1.1 tcp/22
explain_is "IPv6: fd00:99:1::2 -> fd00:99:2::2 tcp/8080 is allowed" 0 \
	"fd00:99:1::2 \(tier front, network 99f1.*allowed" fd00:99:1::2 fd00:99:2::2 tcp/8080
explain_is "IPv6: fd00:99:2::2 -> fd00:99:1::2 is denied" 1 "denied \(no-edge\)" \
	fd00:99:2::2 fd00:99:1::2 tcp/80
check_eq "--json: verdict, reason, family, endpoint" "denied no-edge ipv6 99e2" \
	"$(jexplain '[.verdict,.reason,.family,.from.endpoint[0:4]]|join(" ")' fd00:99:2::2 fd00:99:1::2 tcp/80)"
check_eq "--json: declared and enforced agree" "allowed allowed false" \
	"$(jexplain '[.declared,.enforced,.differs]|join(" ")' front mid tcp/8080)"
check_eq "--json: the fix and where" "allow front -> mid tcp/8080, tcp/22 $CONF:7" \
	"$(jexplain '.fix + " " + .fix_replaces' front mid tcp/22)"

echo "# counters in status, with real traffic"
NSF=tnwhy-f-$$ NSM=tnwhy-m-$$ NSB=tnwhy-b-$$
on_exit "ip netns del $NSF; ip netns del $NSM; ip netns del $NSB"
container_in "$NSF" tnc99e100000000 10.99.1.2/24 10.99.1.1
container_in "$NSM" tnc99e200000000 10.99.2.2/24 10.99.2.1
container_in "$NSB" tnc99e300000000 10.99.3.2/24 10.99.3.1
serve_http "$NSM" 8080 mid
serve_http "$NSB" 8080 back
counter() { TN status --json | jq -r "$1"; }
a0=$(counter '.counters.allowed[] | select(.line == 7) | .packets')
d0=$(counter '[.counters.denied[] | select(.from == "front" and .to == "back") | .connections] | add // 0')
check_eq "front reaches mid:8080 (allowed by line 7)" mid "$(http_get "$NSF" 10.99.2.2 8080)"
check_eq "front reaches mid:8080 again" mid "$(http_get "$NSF" 10.99.2.2 8080)"
refute "front does not reach back:8080 (no edge)" http_get "$NSF" 10.99.3.2 8080
check_eq "control: mid reaches back:8080" back "$(http_get "$NSM" 10.99.3.2 8080)"
a1=$(counter '.counters.allowed[] | select(.line == 7) | .packets')
d1=$(counter '[.counters.denied[] | select(.from == "front" and .to == "back") | .connections] | add // 0')
check "allow front -> mid tcp/8080 counted the two connections ($a0 -> $a1)" test "$a1" -ge $((a0 + 2))
check "bytes are counted too" test "$(counter '.counters.allowed[] | select(.line == 7) | .bytes')" -gt 0
check "front -> back counted the denied connection ($d0 -> $d1)" test "$d1" -gt "$d0"
check "mid -> back (allow mid -> back) counted the control" \
	test "$(counter '.counters.allowed[] | select(.line == 8) | .packets')" -ge 1
check_contains "status text shows the counters" "$(TN status)" "allow front -> mid tcp/8080"
check_contains "... and the denied pairs" "$(TN status | sed -n '/DENIED FROM/,/^$/p')" "front -> back"

echo "# enforced differs from declared"
# Someone deletes the edge rule front -> mid from the kernel; explain answers from the kernel.
RULE=$(iptables-legacy -t mangle -S TIERNET-SRC-front | grep -- '--dport 8080' | head -1)
iptables-legacy -t mangle -D ${RULE#-A }
explain_is "with the edge rule deleted, explain says denied, and that it differs" 1 \
	"denied.*NOTE: the policy declares allowed, but the rules in the kernel make it denied" \
	front mid tcp/8080
check_eq "--json says differs" "denied allowed denied true" \
	"$(jexplain '[.verdict,.declared,.enforced,.differs]|join(" ")' front mid tcp/8080)"
check_contains "graph marks the pair red: enforced != declared" "$(TN graph)" \
	'"front" -> "mid" [label="enforced != declared: kernel -, policy tcp/8080"'
retry 40 sh -c "iptables-legacy -t mangle -S TIERNET-SRC-front | grep -q -- '--dport 8080'"
# The tick puts the whole table back only when hooks are missing; SIGHUP re-applies.
plugin_hup
explain_is "after a re-apply they agree again" 0 "allowed" front mid tcp/8080

echo "# errors: one sentence, exit 2"
err_is() { # DESC REGEX ARGS...
	local desc=$1 re=$2 out rc
	shift 2
	out=$("$BIN" "$@" 2>&1)
	rc=$?
	if [ $rc = 2 ] && [[ "$out" =~ $re ]] && [ "$(echo "$out" | wc -l)" = 1 ]; then
		ok "$desc"
	else
		nok "$desc (exit $rc; output: $(echo "$out" | tr '\n' '|'))"
	fi
}
err_is "an unknown tier" '"frnt" is neither a tier \(the policy declares front, mid, back, cache' \
	explain frnt mid --socket "$SOCK"
err_is "an unknown address" 'no tiernet endpoint has the address 10.99.9.9' \
	explain 10.99.9.9 mid --socket "$SOCK"
err_is "a malformed port" '"tcp/99999" is not a port.*like tcp/8080' \
	explain front mid tcp/99999 --socket "$SOCK"
err_is "no daemon" 'cannot reach the tiernet daemon on /nonexistent.sock' \
	explain front mid --socket /nonexistent.sock
err_is "world -> host is not tiernet's" 'does not decide connections from world to host' \
	explain world host --socket "$SOCK"
err_is "graph: an unknown format" '--format "png" is not one of dot, mermaid' \
	graph --format png --socket "$SOCK"
err_is "check --diff: no daemon" 'cannot reach the tiernet daemon' \
	check --diff "$CONF" --socket /nonexistent.sock
err_is "status: no daemon" 'cannot reach the tiernet daemon on /nonexistent.sock' \
	status --socket /nonexistent.sock
err_is "log: no daemon" 'cannot reach the tiernet daemon on /nonexistent.sock' \
	log --socket /nonexistent.sock

echo "# check --diff against the running daemon"
OUT=$(TN check --diff "$CONF")
check_eq "the running policy's own file: no change, exit 0" "0 no change" "$? ${OUT:0:9}"
sed -e 's/allow front -> mid tcp\/8080/allow front -> mid tcp\/8080, tcp\/9000-9100/' \
	-e '/allow mid -> back/d' -e 's/tier back internal/tier back/' "$CONF" >"$TMP/new.conf"
echo "allow cache -> cache udp/53" >>"$TMP/new.conf"
chmod 0644 "$TMP/new.conf"
OUT=$(TN check --diff "$TMP/new.conf")
rc=$?
check_eq "changes: exit 1" 1 "$rc"
check_contains "front -> mid gains tcp/9000-9100" "$OUT" "front -> mid"
check_eq "--json lists each pair and its ports" \
	"front->mid allowed tcp/9000-9100|mid->back denied all|back->world allowed all|cache->cache allowed udp/53|" \
	"$(TN check --diff "$TMP/new.conf" --json | jq -r '.changes[] | "\(.from)->\(.to) \(.change) \(.ports)"' | tr '\n' '|')"
printf 'tier front\nallow front -> nowhere\n' >"$TMP/bad.conf"
chmod 0644 "$TMP/bad.conf"
OUT=$(TN check --diff "$TMP/bad.conf" 2>&1)
check_eq "an invalid FILE: exit 2" 2 "$?"
check_contains "... with file:line:column" "$OUT" "$TMP/bad.conf:2:"

echo "# graph"
TN graph >"$TMP/g.dot"
check "graph --format dot parses with Graphviz (dot -Tsvg)" dot -Tsvg -o "$TMP/g.svg" "$TMP/g.dot"
check "the SVG has an edge" grep -q 'class="edge"' "$TMP/g.svg"
G=$(cat "$TMP/g.dot")
for e in '"world" -> "front" \[label="published: tcp/80 \(line 6\)"' '"front" -> "mid" \[label="tcp/8080 \(line 7\)"' \
	'"mid" -> "back" \[label="all \(line 8\)"' '"mid" -> "host" \[label="tcp/9100 \(line 9\)"'; do
	if [[ "$G" =~ $e ]]; then ok "graph has the edge $e"; else nok "graph has the edge $e"; fi
done
check_contains "internal tier marked" "$G" 'back (internal)\n1 network, 1 endpoint'
check_contains "isolated tier marked" "$G" 'cache (isolated)'
check_contains "live networks and endpoints counted" "$G" 'front\n2 networks, 2 endpoints'
refute "no enforced != declared mark while they agree" grep -q 'enforced !=' "$TMP/g.dot"
M=$(TN graph --format mermaid)
check_contains "mermaid: a flowchart" "$M" "flowchart LR"
check_contains "mermaid: an edge with ports" "$M" 't0 -->|"tcp/8080 (line 7)"| t1'

echo "# help"
check_contains "tiernet help lists explain and graph" "$("$BIN" help)" "explain"
check_contains "explain --help shows the exit statuses" "$("$BIN" explain --help)" "0 allowed, 1 denied"
check_contains "check --help shows --diff" "$("$BIN" check --help)" "--diff FILE"

# The cleanup now, so that its checks (the sanitizer verdict) count in the summary.
run_cleanup
no_leftover() { ! pgrep -f "${TMP/tiernet-it/[t]iernet-it}" >/dev/null; }
check "no server or daemon of this test survives the cleanup" retry 10 no_leftover
summary
