#!/usr/bin/env bash
# End to end: real dockerd, `docker network create -d tncore -o tier=front`, containers that
# reach each other by ping and TCP, connect/disconnect, rm -f, network rm, nothing left.
# Subnets: 10.81.0.0/16.   usage: core.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/docker-lib.sh" # root, BIN, a real dockerd's helpers

P=tne2e-core
cleanup_docker() {
	docker rm -f $P-c1 $P-c2 $P-c3 >/dev/null 2>&1
	docker network rm $P-front $P-mid >/dev/null 2>&1
}
on_exit plugin_stop
on_exit cleanup_docker
ensure_image
plugin_start "$BIN"

echo "# create"
check "docker network create -d $DRIVER -o tier=front" \
	docker network create -d "$DRIVER" -o tier=front --subnet 10.81.1.0/24 $P-front
check_eq "docker shows the driver" "$DRIVER" "$(docker network inspect -f '{{.Driver}}' $P-front)"
OUT=$(docker network create -d "$DRIVER" -o tier=gold --subnet 10.81.9.0/24 $P-bad 2>&1)
check_contains "an unknown tier is refused with the declared tiers" "$OUT" \
	'unknown tier "gold": use one of the declared tiers (front, mid, back)'
refute "and the refused network does not exist" docker network inspect $P-bad

echo "# run"
check "docker run c1" run_server $P-c1 $P-front
check "docker run c2" run_server $P-c2 $P-front
C2=$(ip_of $P-c2 $P-front)
check_contains "c2 got an address of the subnet" "$C2" "10.81.1."
check "ping c1 -> c2" docker exec $P-c1 ping -c1 -W2 "$C2"
check_eq "TCP c1 -> c2 reaches c2" "$P-c2" "$(http_get $P-c1 "$C2")"
MAC=$(docker exec $P-c2 cat /sys/class/net/eth0/address)
check_eq "c2's MAC is derived from its address" \
	"$(printf '02:42:%02x:%02x:%02x:%02x' ${C2//./ })" "$MAC"
check_eq "c2 has its default route via the bridge gateway" "default via 10.81.1.1 dev eth0" \
	"$(docker exec $P-c2 ip route | grep default | tr -s ' ' | sed 's/ $//')"

echo "# connect / disconnect"
check "second network (tier mid)" \
	docker network create -d "$DRIVER" -o tier=mid --subnet 10.81.2.0/24 $P-mid
check "docker run c3 on mid" run_server $P-c3 $P-mid
check "docker network connect c1 to mid" docker network connect $P-mid $P-c1
C3=$(ip_of $P-c3 $P-mid)
check_eq "c1 reaches c3 on the network it was connected to" "$P-c3" "$(http_get $P-c1 "$C3")"
check "docker network disconnect" docker network disconnect $P-mid $P-c1
check_eq "c1 has one interface again" 1 \
	"$(docker exec $P-c1 ls /sys/class/net | grep -c eth)"
check_eq "c1 still reaches c2" "$P-c2" "$(http_get $P-c1 "$C2")"

echo "# teardown"
check "docker rm -f of running containers" docker rm -f $P-c1 $P-c2 $P-c3
refute "their veths are gone" sh -c "ip -o link | grep -q ': tnv'"
check "docker network rm" docker network rm $P-front $P-mid
check "nothing tiernet remains (links, legacy rules, nft pass-through)" nothing_left
refute "state holds no endpoint" sh -c "ls $STATE/endpoints | grep -q json"

[ "$T_FAIL" -eq 0 ] || plugin_log
run_cleanup
summary
