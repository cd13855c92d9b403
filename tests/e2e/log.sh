#!/usr/bin/env bash
# End to end: the denied-flow log and audit mode with a real dockerd.  A container on front
# is denied back (tcp/80): `tiernet log --json` shows it within a second with both
# containers' addresses and names, their tiers and networks, the port and the fix; the allowed
# front -> mid is not in it (control).  Then `tier back audit` (SIGHUP): the same connection
# gets through and is logged as "would deny".  Subnets: 10.97.0.0/16.
# usage: log.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/docker-lib.sh" # root, BIN, a real dockerd's helpers

P=tne2e-log
cleanup_docker() {
	docker rm -f $P-web $P-api $P-db >/dev/null 2>&1
	docker network rm $P-front $P-mid $P-back >/dev/null 2>&1
}
on_exit plugin_stop
on_exit cleanup_docker
ensure_image
plugin_start "$BIN"
tlog() { "$BIN" log --socket "$SOCK" "$@" 2>/dev/null; }

for t in front:1 mid:2 back:3; do
	check "docker network create tier ${t%:*}" docker network create -d "$DRIVER" \
		-o tier=${t%:*} --subnet 10.97.${t#*:}.0/24 $P-${t%:*}
done
check "docker run web (front), api (mid), db (back)" eval \
	"run_server $P-web $P-front && run_server $P-api $P-mid && run_server $P-db $P-back"
WEB=$(ip_of $P-web $P-front) API=$(ip_of $P-api $P-mid) DB=$(ip_of $P-db $P-back)
NETB=$(docker network inspect -f '{{.Id}}' $P-back | cut -c1-12)

check_eq "control: web -> api (front -> mid) is allowed" "$P-api" "$(http_get $P-web "$API")"
check_eq "the allowed connection is not in the log" 0 \
	"$(tlog --json | jq -c "select(.dst.addr == \"$API\")" | wc -l)"
t0=$EPOCHREALTIME
http_get $P-web "$DB" >"$TMP/denied" &
getter=$!
seen=
for ((i = 0; i < 30; i++)); do
	if tlog --json | jq -e "select(.dst.addr == \"$DB\")" >/dev/null; then seen=$EPOCHREALTIME; break; fi
	sleep 0.05
done
wait $getter
check_eq "web -> db (front -> back) is denied" "" "$(cat "$TMP/denied")"
check "it is in tiernet log --json within a second" \
	awk -v a="$t0" -v b="${seen:-1e12}" 'BEGIN { exit !(b - a < 1.0) }'
E=$(tlog --json | jq -c "select(.dst.addr == \"$DB\")" | tail -1)
echo "#   $E"
check_eq "both addresses, tiers, the port, db's network, the fix" \
	"$WEB front $DB back 80 $NETB allow front -> back tcp/80" \
	"$(jq -r '"\(.src.addr) \(.src.tier) \(.dst.addr) \(.dst.tier) \(.dst.port) \(.dst.network) \(.fix)"' <<<"$E")"
check_eq "the endpoint is db's" "$(docker inspect -f "{{(index .NetworkSettings.Networks \"$P-back\").EndpointID}}" $P-db | cut -c1-12)" \
	"$(jq -r .dst.endpoint <<<"$E")"
check_eq "both containers by name (the name service knows them)" "$P-web $P-db" \
	"$(jq -r '"\(.src.container) \(.dst.container)"' <<<"$E")"
check_contains "the text log names them too" "$(tlog | grep "$DB")" "container $P-db, network"

echo "# audit mode"
sed -i 's/^tier back internal$/tier back internal audit/' "$CONF"
plugin_hup
check_eq "SIGHUP applies tier back audit" 0 $?
check_eq "web -> db now gets through" "$P-db" "$(http_get $P-web "$DB")"
sleep 0.3
check_eq "... and is logged as would deny" "would deny" \
	"$(tlog --json | jq -r "select(.audit and .dst.addr == \"$DB\") | .verdict" | tail -1)"
check_contains "tiernet status says AUDIT MODE" "$("$BIN" status --socket "$SOCK" | head -1)" "AUDIT MODE ON"
sed -i 's/^tier back internal audit$/tier back internal/' "$CONF"
plugin_hup
check_eq "control: without audit web -> db is dropped again" "" "$(http_get $P-web "$DB")"

echo "# teardown"
check "docker rm -f" docker rm -f $P-web $P-api $P-db
check "docker network rm" docker network rm $P-front $P-mid $P-back
check "nothing tiernet remains (links, legacy rules, nft pass-through)" nothing_left
[ "$T_FAIL" -eq 0 ] || plugin_log
run_cleanup
summary
