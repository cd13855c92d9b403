#!/usr/bin/env bash
# Integration: names across tiers with a fake Engine API (tests/tools/fake_engine.py) and
# network namespaces playing the containers.  Each "container" sends its queries to the
# upstream server 10.95.0.2 (a namespace running tests/tools/dns_upstream.py), as Docker's
# embedded resolver forwards the names it does not know; nat TIERNET-DNS sends them to
# tiernet's resolver.  Tiers (default policy: front -> mid -> back, back internal):
# front 10.95.1.0/24, mid 10.95.2.0/24, back 10.95.3.0/24.
# usage: names.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers
TOOLS=$HERE/../tools

U=tnit-up-$$
on_exit "ip netns del $U"
ip netns add "$U"
ip link add dnsup-h type veth peer name eth0 netns "$U"
ip addr add 10.95.0.1/24 dev dnsup-h
ip link set dnsup-h up
ip -n "$U" addr add 10.95.0.2/24 dev eth0
ip -n "$U" link set eth0 up
ip -n "$U" link set lo up
ip netns exec "$U" python3 "$TOOLS/dns_upstream.py" 10.95.0.2 up.example=10.95.0.99 &
on_exit "kill $!"

FRONT=f1f1f1f1f1f10000000000000000000000000000000000000000000000000095
MID=f2f2f2f2f2f20000000000000000000000000000000000000000000000000095
BACK=f3f3f3f3f3f30000000000000000000000000000000000000000000000000095
ep() { printf 'e%011d%052d' "$1" 95; }
cid() { printf 'c%063d' "$1"; }
container() { # NAME NET EP ADDR GW
	local ns=tnit-$1-$$
	ip netns add "$ns" # the sandbox exists, so a restart keeps the endpoint
	call /NetworkDriver.CreateEndpoint "$(ep_body $2 $3 $4/24)"
	call /NetworkDriver.Join "$(join_body $2 $3 /var/run/netns/$ns)"
	on_exit "ip netns del $ns"
	container_in "$ns" "tnc${3:0:12}" "$4/24" "$5"
}
WEB=tnit-web-$$ API=tnit-api-$$ DB=tnit-db-$$

# The fake Engine API's state: one inspect object per running container.
ENGINE=$TMP/docker.sock
ESTATE=$TMP/engine.json
inspect() { # ID NAME NETWORK_ID ADDRESS ALIASES_JSON [IPV6]
	printf '"%s":{"Id":"%s","Name":"/%s","State":{"Running":true},"NetworkSettings":{"Networks":{"n":{"NetworkID":"%s","Aliases":%s,"IPAddress":"%s","GlobalIPv6Address":"%s"}}}}' \
		"$1" "$1" "$2" "$3" "$5" "$4" "${6:-}"
}
C_WEB=$(inspect "$(cid 1)" proj_web_1 $FRONT 10.95.1.2 '["web"]')
C_API=$(inspect "$(cid 2)" proj_api_1 $MID 10.95.2.2 '["api","other"]' fd00:95:2::2)
C_DB=$(inspect "$(cid 3)" proj_db_1 $BACK 10.95.3.2 '["db"]')
engine_state() { # the containers' objects, joined
	local IFS=,
	echo "{$*}" >"$ESTATE.tmp" && mv "$ESTATE.tmp" "$ESTATE"
}
engine_state "$C_WEB" "$C_API" "$C_DB"
python3 "$TOOLS/fake_engine.py" "$ENGINE" "$ESTATE" 2>"$TMP/engine.log" &
on_exit "kill $!"
retry 50 test -S "$ENGINE"

# q NS NAME [TYPE]: "RCODE ADDRESSES... MS" for a query sent to the upstream's address.
q() { ip netns exec "$1" python3 "$TOOLS/dnsq.py" "$2" 10.95.0.2 "${3:-A}" 3; }
# answer NS NAME [TYPE]: q without the time.
answer() { q "$@" | awk '{ $NF = ""; sub(/ $/, ""); print }'; }
# until_answer SECONDS NS NAME WANT: polls (in one process) until the answer is WANT; prints
# the ms from now to the sending of the query that got it.
until_answer() {
	ip netns exec "$2" python3 "$TOOLS/dnsq.py" "$3" 10.95.0.2 A --until "$4" "$(date +%s%N)" "$1"
}
# under MS LIMIT: MS (a number, maybe with decimals) is below LIMIT.
under() { [ "${1%%.*}" -lt "$2" ] 2>/dev/null; }
dns_rules() { iptables-legacy-save -t nat | grep -c 'TIERNET-DNS' || true; }

echo "# without the Docker socket: one log line, no redirection, the rest works"
plugin_start "$BIN" --names on --docker-socket "$TMP/absent.sock"
call /NetworkDriver.CreateNetwork "$(net_body $FRONT front 10.95.1.1/24 10.95.1.0/24)"
check_eq "networks work without the Docker socket" 200 "$CODE"
check_eq "the absent socket is logged once" 1 "$(grep -c 'no Docker socket at' "$TMP/plugin.log")"
check_eq "no redirection of queries without names" 0 "$(dns_rules)"
check_contains "status says why names are off" "$("$BIN" status --socket "$SOCK")" \
	"name service: waiting (no Docker socket at $TMP/absent.sock)"
plugin_stop
plugin_start "$BIN" --names off --docker-socket "$ENGINE"
check_eq "--names off: no redirection" 0 "$(dns_rules)"
check_contains "status says --names off" "$("$BIN" status --socket "$SOCK")" \
	"name service: off (--names off)"
plugin_stop

echo "# names from the Engine API"
plugin_start "$BIN" --names on --docker-socket "$ENGINE"
call /NetworkDriver.CreateNetwork "$(net_body $MID mid 10.95.2.1/24 10.95.2.0/24)"
call /NetworkDriver.CreateNetwork "$(net_body $BACK back 10.95.3.1/24 10.95.3.0/24)"
container web $FRONT "$(ep 1)" 10.95.1.2 10.95.1.1
container api $MID "$(ep 2)" 10.95.2.2 10.95.2.1
container db $BACK "$(ep 3)" 10.95.3.2 10.95.3.1
retry 50 sh -c "'$BIN' status --socket '$SOCK' | grep -q 'name service: on'"
check_eq "queries on every bridge are redirected (the chain, its hook, a rule per network)" 5 \
	"$(dns_rules)"

check_eq "web: api.mid (front -> mid)" "NOERROR 10.95.2.2" "$(answer $WEB api.mid)"
check_eq "web: bare api, one reachable tier has it" "NOERROR 10.95.2.2" "$(answer $WEB api)"
check_eq "web: the container name on its tier" "NOERROR 10.95.2.2" \
	"$(answer $WEB proj_api_1.mid)"
check_eq "web: an alias, any case" "NOERROR 10.95.2.2" "$(answer $WEB OTHER.Mid.)"
check_eq "web: AAAA api.mid" "NOERROR fd00:95:2::2" "$(answer $WEB api.mid AAAA)"
check_eq "web: db.back is hidden (front may not reach back)" NXDOMAIN "$(answer $WEB db.back)"
check_eq "web: bare db is hidden" NXDOMAIN "$(answer $WEB db)"
check_eq "api: db.back resolves (mid -> back), the control" "NOERROR 10.95.3.2" \
	"$(answer $API db.back)"
check_eq "api: bare db resolves" "NOERROR 10.95.3.2" "$(answer $API db)"
check_eq "api: web.front is hidden (edges have a direction)" NXDOMAIN "$(answer $API web.front)"

echo "# everything else: the query's own upstream"
check_eq "web: an upstream name resolves through the original server" "NOERROR 10.95.0.99" \
	"$(answer $WEB up.example)"
R=$(q $WEB nothing.invalid)
check_eq "web: the upstream's NXDOMAIN arrives" NXDOMAIN "${R%% *}"
check "... quickly, not after a timeout (${R##* } ms)" under "${R##* }" 1000
R=$(q $DB up.example)
check_eq "db (internal tier): other names are refused" REFUSED "${R%% *}"
check "... at once (${R##* } ms)" under "${R##* }" 500
check_eq "db (internal tier): tiernet's names still answer" "NOERROR 10.95.3.2" \
	"$(answer $DB db.back)"

echo "# changes follow within a second"
engine_state "$C_WEB" "$C_DB"
MS=$(until_answer 3 $WEB api.mid NXDOMAIN)
check "a removed container's name is gone within a second ($MS ms)" under "$MS" 1000
engine_state "$C_WEB" "$C_API" "$C_DB"
MS=$(until_answer 3 $WEB api.mid "NOERROR 10.95.2.2")
check "a started container's name appears within a second ($MS ms)" under "$MS" 1000
grep -v 'front -> mid' "$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
plugin_hup
check_eq "after a SIGHUP dropping front -> mid, api.mid is hidden from web" NXDOMAIN \
	"$(answer $WEB api.mid)"
check_eq "... and bare api too" NXDOMAIN "$(answer $WEB api)"
write_default_policy "$CONF"
plugin_hup
check_eq "front -> mid back: api.mid resolves again" "NOERROR 10.95.2.2" "$(answer $WEB api.mid)"

echo "# a flood from one container"
ip netns exec $API python3 - <<'EOF' &
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x02db\x04back\x00\x00\x01\x00\x01"
end = time.monotonic() + 2
while time.monotonic() < end:
    s.sendto(q, ("10.95.0.2", 53))
EOF
FLOOD=$!
sleep 0.3
R=$(q $WEB api.mid)
wait $FLOOD
check_eq "web resolves while api floods" "NOERROR 10.95.2.2" "$(echo "$R" | cut -d' ' -f1-2)"
check "... quickly (${R##* } ms)" under "${R##* }" 200
STATUS=$("$BIN" status --socket "$SOCK")
check "the flood was rate-limited" \
	[ "$(echo "$STATUS" | grep -o '[0-9]* rate-limited' | cut -d' ' -f1)" -gt 0 ]
check_contains "status: names per tier" "$STATUS" "names per tier: front 2 mid 3 back 2"
JSON=$("$BIN" status --socket "$SOCK" --json)
check_eq "status --json: the name service" on "$(echo "$JSON" | jq -r .names.state)"

echo "# a restart interrupts names for about a second at most"
plugin_stop
T0=$(date +%s%N)
plugin_start "$BIN" --names on --docker-socket "$ENGINE"
MS=$(until_answer 3 $WEB api.mid "NOERROR 10.95.2.2")
MS=$((($(date +%s%N) - T0) / 1000000))
check "names answer again $MS ms after the restart began" under "$MS" 1500

check_eq "tiernet sent the Engine API nothing but GET" 0 "$(grep -c REFUSED "$TMP/engine.log")"
for e in 1 2 3; do
	net=$FRONT; [ $e = 2 ] && net=$MID; [ $e = 3 ] && net=$BACK
	call /NetworkDriver.Leave "{\"NetworkID\":\"$net\",\"EndpointID\":\"$(ep $e)\"}"
	call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$net\",\"EndpointID\":\"$(ep $e)\"}"
done
for net in $FRONT $MID $BACK; do call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$net\"}"; done
refute "no TIERNET-DNS rule once the networks are gone" sh -c "iptables-legacy-save | grep -q TIERNET-DNS"
plugin_stop
check_eq "the daemon stopped cleanly" 0 "$PLUGIN_ET"
[ "$T_FAIL" -eq 0 ] || plugin_log
run_cleanup
summary
