#!/usr/bin/env bash
# End to end: `tiernet explain` by container address with a real dockerd, confirmed by real
# traffic, and `tiernet graph` counting the live networks and endpoints.  Tiers (the default
# policy): front 10.99.11.0/24, mid 10.99.12.0/24, back 10.99.13.0/24 (internal).
# usage: why.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/docker-lib.sh" # root, BIN, a real dockerd's helpers

P=tne2e-why
cleanup_docker() {
	docker rm -f $P-web $P-api $P-db >/dev/null 2>&1
	docker network rm $P-front $P-mid $P-back >/dev/null 2>&1
}
on_exit plugin_stop
on_exit cleanup_docker
ensure_image
plugin_start "$BIN"
TN() { "$BIN" "$@" --socket "$SOCK"; }

docker network create -d "$DRIVER" -o tier=front --subnet 10.99.11.0/24 $P-front >/dev/null
docker network create -d "$DRIVER" -o tier=mid --subnet 10.99.12.0/24 $P-mid >/dev/null
docker network create -d "$DRIVER" -o tier=back --subnet 10.99.13.0/24 $P-back >/dev/null
run_server $P-web $P-front --ip 10.99.11.10
run_server $P-api $P-mid --ip 10.99.12.10
run_server $P-db $P-back --ip 10.99.13.10
API_EP=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$P-mid\").EndpointID}}" $P-api)
WEB_EP=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$P-front\").EndpointID}}" $P-web)

echo "# explain by container address"
OUT=$(TN explain 10.99.11.10 10.99.12.10 tcp/80)
check_eq "web -> api tcp/80: exit 0" 0 "$?"
check_contains "... names web's endpoint and tier" "$OUT" "10.99.11.10 (tier front, network"
check_contains "... and api's endpoint" "$OUT" "endpoint ${API_EP:0:12})"
check_contains "... allowed by the policy file's line 5" "$OUT" "$CONF:5: allow front -> mid"
check_eq "and the traffic agrees: web reaches api" $P-api "$(http_get $P-web 10.99.12.10)"
OUT=$(TN explain 10.99.11.10 10.99.13.10 tcp/80)
check_eq "web -> db tcp/80: exit 1" 1 "$?"
check_contains "... no edge, the fix names the line" "$OUT" "allow front -> back tcp/80"
check_eq "and the traffic agrees: web does not reach db" "" "$(http_get $P-web 10.99.13.10)"
check_eq "control: api reaches db (allow mid -> back)" $P-db "$(http_get $P-api 10.99.13.10)"
check_eq "--json names the source endpoint" "${WEB_EP:0:12} front" \
	"$(TN explain --json 10.99.11.10 10.99.13.10 tcp/80 | jq -r '(.from.endpoint[0:12]) + " " + .from.tier')"
check_eq "db -> world: denied, internal tier" "1 internal" \
	"$(TN explain --json 10.99.13.10 world >"$TMP/j"; echo "$? $(jq -r .reason "$TMP/j")")"

echo "# graph"
TN graph >"$TMP/g.dot"
check "graph parses with Graphviz" dot -Tsvg -o "$TMP/g.svg" "$TMP/g.dot"
check_contains "graph counts front's network and endpoint" "$(cat "$TMP/g.dot")" \
	'front\n1 network, 1 endpoint'

summary
