#!/usr/bin/env bash
# End to end: names across tiers with a real dockerd and docker-compose.  A compose project
# (web on front, api on mid (dual-stack), db on back (internal)) whose containers use an
# upstream DNS server this suite runs in a namespace of its own (10.95.0.2: NXDOMAIN for
# everything but up.example).  Checked: web fetches http://api/ and http://api.mid/; db and
# db.back are NXDOMAIN from web and resolve from api; --network-alias; a name gone within a
# second after docker rm; a SIGHUP dropping front -> mid hides api from web; an upstream
# answer arrives quickly; an internal-tier container gets tiernet's names and a quick
# refusal for others; AAAA on the dual-stack tier.  Subnets: 10.95.0.0/16, fd00:95::/48.
# usage: names.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/docker-lib.sh" # root, BIN, a real dockerd's helpers

trap run_cleanup EXIT
PROJECT=tne2e-names
U=tne2e-up-$$
on_exit "ip netns del $U"
ip netns add "$U"
ip link add dnsup-e type veth peer name eth0 netns "$U"
ip addr add 10.95.0.1/24 dev dnsup-e
ip link set dnsup-e up
ip -n "$U" addr add 10.95.0.2/24 dev eth0
ip -n "$U" link set eth0 up
ip -n "$U" link set lo up
ip netns exec "$U" python3 "$HERE/../tools/dns_upstream.py" 10.95.0.2 up.example=10.95.0.99 &
on_exit "kill $!"

cat >"$TMP/names.yml" <<EOF
version: "2.4"
networks:
  front:
    driver: $DRIVER
    driver_opts: { tier: front }
    ipam: { config: [ { subnet: 10.95.11.0/24 } ] }
  mid:
    driver: $DRIVER
    driver_opts: { tier: mid }
    enable_ipv6: true
    ipam: { config: [ { subnet: 10.95.12.0/24, gateway: 10.95.12.1 }, { subnet: "fd00:95:12::/64", gateway: "fd00:95:12::1" } ] }
  back:
    driver: $DRIVER
    driver_opts: { tier: back }
    internal: true
    ipam: { config: [ { subnet: 10.95.13.0/24 } ] }
x-server: &server
  image: $IMAGE
  dns: [ 10.95.0.2 ]
  command: ["sh", "-c", "hostname >/www/index.html && exec httpd -f -p 80 -h /www"]
services:
  web: { <<: *server, hostname: web, networks: [ front ] }
  api: { <<: *server, hostname: api, networks: [ mid ] }
  db: { <<: *server, hostname: db, networks: [ back ] }
EOF
dc() { docker-compose -f "$TMP/names.yml" -p $PROJECT --no-ansi "$@"; }
c() { echo "${PROJECT}_$1_1"; }
on_exit plugin_stop
on_exit "dc down -t 1 --remove-orphans >/dev/null 2>&1"
on_exit "docker rm -f tne2e-names-tmp tne2e-names-db2 >/dev/null 2>&1; docker network rm tne2e-names-back2 >/dev/null 2>&1"
ensure_image
plugin_start "$BIN"

# look FROM NAME [TYPE]: busybox nslookup's verdict through Docker's embedded resolver:
# the addresses (A and AAAA unless TYPE), or NXDOMAIN/REFUSED/SERVFAIL/TIMEOUT; look_ms
# prints how long the last one took.
look() {
	local out t0
	t0=$(date +%s%N)
	out=$(docker exec "$1" timeout 6 nslookup ${3:+-type=$3} "$2" 2>&1)
	echo $((($(date +%s%N) - t0) / 1000000)) >"$TMP/look_ms"
	case $out in
	*NXDOMAIN*) echo NXDOMAIN ;;
	*REFUSED*) echo REFUSED ;;
	*SERVFAIL*) echo SERVFAIL ;;
	*"timed out"* | *"no servers could be reached"*) echo TIMEOUT ;;
	*) echo "$out" | sed -n '/^Name:/,$p' | awk '/^Address/ { print $NF }' | sort | paste -sd' ' ;;
	esac
}
get_is() {
	local i got
	for ((i = 0; i < 5; i++)); do
		got=$(http_get "$1" "$2")
		[ "$got" = "$3" ] && return 0
		sleep 0.3
	done
	echo "# $1 -> $2: got [$got], expected [$3]"
	return 1
}
# within MS FROM NAME WANT: polls until look (type A) gives WANT; prints the elapsed ms, or "timeout".
within() {
	local t0 now
	t0=$(date +%s%N)
	while :; do
		[ "$(look "$2" "$3" A)" = "$4" ] && break
		now=$(date +%s%N)
		[ $(((now - t0) / 1000000)) -gt "$1" ] && { echo timeout; return 1; }
	done
	echo $((($(date +%s%N) - t0) / 1000000))
}
under() { [ "${1%%.*}" -lt "$2" ] 2>/dev/null; }
look_ms() { cat "$TMP/look_ms"; }

OUT=$(dc up -d 2>&1)
check "docker-compose up -d" test $? -eq 0
[ "$T_FAIL" -eq 0 ] || echo "$OUT" | sed 's/^/#   compose: /'
API_IP=$(ip_of "$(c api)" ${PROJECT}_mid) DB_IP=$(ip_of "$(c db)" ${PROJECT}_back)
API_IP6=$(docker inspect -f "{{(index .NetworkSettings.Networks \"${PROJECT}_mid\").GlobalIPv6Address}}" "$(c api)")
retry 50 sh -c "'$BIN' status --socket '$SOCK' | grep -q 'name service: on'"

echo "# across tiers, where the policy allows"
check "web fetches http://api/ (front -> mid)" get_is "$(c web)" api api
check "web fetches http://api.mid/" get_is "$(c web)" api.mid api
check_eq "web: db is NXDOMAIN (front may not reach back)" NXDOMAIN "$(look "$(c web)" db)"
check_eq "web: db.back is NXDOMAIN" NXDOMAIN "$(look "$(c web)" db.back)"
check_eq "api: db resolves (mid -> back), the control" "$DB_IP" "$(look "$(c api)" db)"
check_eq "api: db.back resolves" "$DB_IP" "$(look "$(c api)" db.back)"
check "api fetches http://db.back/" get_is "$(c api)" db.back db
check_eq "web: AAAA api.mid on the dual-stack tier" "$API_IP6" "$(look "$(c web)" api.mid AAAA)"

echo "# --network-alias, and docker rm"
docker run -d --name tne2e-names-tmp --network ${PROJECT}_mid --network-alias cache "$IMAGE" \
	sleep 600 >/dev/null
TMP_IP=$(ip_of tne2e-names-tmp ${PROJECT}_mid)
MS=$(within 3000 "$(c web)" cache.mid "$TMP_IP")
check "web: the alias cache.mid resolves ($MS ms after docker run returned)" under "$MS" 3000
docker rm -f tne2e-names-tmp >/dev/null
MS=$(within 3000 "$(c web)" cache.mid NXDOMAIN)
check "the name is gone $MS ms after docker rm returned (goal: within a second)" under "$MS" 1000

echo "# everything else: the container's own upstream"
check_eq "web: up.example resolves through the upstream" 10.95.0.99 "$(look "$(c web)" up.example)"
check_eq "web: nothing.invalid is the upstream's NXDOMAIN" NXDOMAIN "$(look "$(c web)" nothing.invalid)"
MS=$(look_ms)
check "... which arrived quickly ($MS ms), not after a timeout" under "$MS" 2000

echo "# an internal tier"
docker network create -d "$DRIVER" -o tier=back --internal --subnet 10.95.14.0/24 \
	tne2e-names-back2 >/dev/null
docker run -d --name tne2e-names-db2 --network tne2e-names-back2 --dns 10.95.0.2 "$IMAGE" \
	sleep 600 >/dev/null
DB2_IP=$(ip_of tne2e-names-db2 tne2e-names-back2)
check_eq "db: a container on its tier's other network, by NAME.TIER" \
	"$DB2_IP" "$(look "$(c db)" tne2e-names-db2.back)"
# tiernet answers REFUSED; dockerd's resolver takes that as "try the next server" and, with
# none left, answers SERVFAIL: either way at once.
R=$(look "$(c db)" up.example)
check "db: other names are refused, nothing leaves the host ($R)" \
	test "$R" = REFUSED -o "$R" = SERVFAIL
MS=$(look_ms)
check "... at once ($MS ms), not a 5-second timeout" under "$MS" 2000
check_eq "db: api.mid stays hidden (back may not reach mid)" NXDOMAIN "$(look "$(c db)" api.mid)"

echo "# a SIGHUP that changes the edges"
grep -v 'front -> mid' "$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
plugin_hup
check_eq "after dropping front -> mid, api is NXDOMAIN from web" NXDOMAIN "$(look "$(c web)" api)"
check_eq "... and api.mid" NXDOMAIN "$(look "$(c web)" api.mid)"
write_default_policy "$CONF"
plugin_hup
check_eq "front -> mid back: api.mid resolves again" "$API_IP" "$(look "$(c web)" api.mid A)"

STATUS=$("$BIN" status --socket "$SOCK")
check_contains "status shows the name service" "$STATUS" "name service: on (names from dockerd"

echo "# down"
docker rm -f tne2e-names-db2 >/dev/null
docker network rm tne2e-names-back2 >/dev/null
OUT=$(dc down -t 1 2>&1)
check "docker-compose down" test $? -eq 0
refute "no TIERNET-DNS rule of this suite remains" \
	sh -c "iptables-legacy-save -t nat | grep -q 'TIERNET-DNS.*10\.95\.1[1-4]\.'"
[ "$T_FAIL" -eq 0 ] || plugin_log
run_cleanup
summary
