#!/usr/bin/env bash
# End to end: examples/compose.yml as written, with docker-compose 1.29 (Debian's) and tiernet
# serving this suite's driver name (compose substitutes ${TIERNET_DRIVER}).  up -d, the
# tiers by real traffic and by service names across tiers (web -> api, api -> db allowed; web -> db and db -> api denied, each
# "no" next to a "yes" that proves the server answers), the published port from the host,
# down, nothing left.  Subnets: 10.84.0.0/16 (the example's own).
# usage: compose.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/docker-lib.sh" # root, BIN, a real dockerd's helpers
ROOT=$(cd "$HERE/../.." && pwd)

if ! command -v docker-compose >/dev/null; then
	nok "docker-compose is installed (make deps installs Debian's docker-compose)"
	run_cleanup
	summary
	exit 1
fi
BRIDGES=
trap run_cleanup EXIT
PROJECT=tne2e-compose
PORT=18084
export TIERNET_DRIVER=$DRIVER TIERNET_IMAGE=$IMAGE TIERNET_WEB_PORT=$PORT
dc() { docker-compose -f "$ROOT/examples/compose.yml" -p $PROJECT --no-ansi "$@"; }
c() { echo "${PROJECT}_$1_1"; }	# compose 1.29's container names

on_exit plugin_stop
on_exit "dc down -t 1 --remove-orphans"
ensure_image
plugin_start "$BIN"

# get_is FROM ADDR WANT: what FROM reads from http://ADDR/ is WANT, given a few tries for
# servers that have just started.
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
mine_left() {
	local br
	for br in $BRIDGES; do ip link show "$br" >/dev/null 2>&1 && return 0; done
	iptables-legacy-save 2>/dev/null | grep -q '10\.84\.' && return 0
	return 1
}
others_live() {
	docker network ls --format '{{.Driver}}' | grep -v "^$DRIVER\$" | grep -q '^tn'
}

echo "# up"
check "docker-compose config accepts the example" dc config -q
OUT=$(dc up -d 2>&1)
check "docker-compose up -d" test $? -eq 0
[ "$T_FAIL" -eq 0 ] || echo "$OUT" | sed 's/^/#   compose: /'
for n in front mid back; do
	check_eq "network ${PROJECT}_$n uses the driver $DRIVER with tier $n" "$DRIVER $n" \
		"$(docker network inspect -f '{{.Driver}} {{index .Options "tier"}}' ${PROJECT}_$n)"
done
check_eq "back is internal (compose internal: true)" true \
	"$(docker network inspect -f '{{.Internal}}' ${PROJECT}_back)"
BRIDGES=$(for n in front mid back; do
	echo "tnb$(docker network inspect -f '{{.Id}}' ${PROJECT}_$n | cut -c1-12)"
done)
WEB_IP=$(ip_of "$(c web)" ${PROJECT}_front) API_IP=$(ip_of "$(c api)" ${PROJECT}_mid)
DB_IP=$(ip_of "$(c db)" ${PROJECT}_back)
check "services got addresses in their tiers' subnets ($WEB_IP $API_IP $DB_IP)" \
	test "${WEB_IP%.*} ${API_IP%.*} ${DB_IP%.*}" = "10.84.1 10.84.2 10.84.3"

if nft list chain ip filter DOCKER-USER >/dev/null 2>&1; then
	check "the pass-through is in Docker's nft DOCKER-USER chain (libnftables after the capability drop)" \
		sh -c "nft list chain ip filter DOCKER-USER | grep -q tiernet"
else
	skip "the nft pass-through: Docker's rules are not in nf_tables on this host"
fi
echo "# reachability by address"
check "web -> api (front -> mid): api answers" get_is "$(c web)" "$API_IP" api
check "api -> db (mid -> back): db answers" get_is "$(c api)" "$DB_IP" db
check_eq "web -> db (front -> back): denied, while db answers api above" "" \
	"$(http_get "$(c web)" "$DB_IP")"
check_eq "db -> api (back -> mid): denied, while api answers web above" "" \
	"$(http_get "$(c db)" "$API_IP")"
check_eq "api -> web (mid -> front): denied, while web answers the host below" "" \
	"$(http_get "$(c api)" "$WEB_IP")"
check_eq "the host reaches web through its published port $PORT" web \
	"$(timeout 3 busybox wget -q -O - "http://127.0.0.1:$PORT/" 2>/dev/null)"
check_eq "control: Docker's DNS answers within a network: web reaches web by name" web \
	"$(http_get "$(c web)" web)"
echo "# names across tiers (the example uses no address)"
check "web -> http://api/ (front -> mid, by its service name)" get_is "$(c web)" api api
check "web -> http://api.mid/" get_is "$(c web)" api.mid api
check "api -> http://db/ (mid -> back)" get_is "$(c api)" db db
check_eq "web cannot even resolve db (front may not reach back)" "" "$(http_get "$(c web)" db)"
check_contains "web: nslookup db.back is NXDOMAIN" \
	"$(docker exec "$(c web)" nslookup db.back 2>&1)" NXDOMAIN
check_eq "control: api resolves its own name" api "$(http_get "$(c api)" api)"

echo "# down"
OUT=$(dc down -t 1 2>&1)
check "docker-compose down" test $? -eq 0
[ "$T_FAIL" -eq 0 ] || echo "$OUT" | sed 's/^/#   compose: /'
for n in front mid back; do
	refute "network ${PROJECT}_$n is gone" docker network inspect ${PROJECT}_$n
done
refute "no container of the project remains" sh -c "$DOCKER ps -a --format '{{.Names}}' | grep -q '^${PROJECT}_'"
refute "no bridge and no rule of this suite remains" mine_left
refute "state holds no network and no endpoint" sh -c "ls $STATE/networks $STATE/endpoints | grep -q json"
if others_live; then
	skip "nothing tiernet remains: other tiernet drivers have networks now"
else
	check "nothing tiernet remains (links, legacy rules, nft pass-through)" nothing_left
fi

[ "$T_FAIL" -eq 0 ] || plugin_log
run_cleanup
summary
