#!/usr/bin/env bash
# End to end: published ports, egress and internal tiers with a real dockerd.  A network
# namespace plays the outside world, linked to the host by a veth: host 10.83.0.1, world
# 10.83.0.2 (no default route).  Tiers: front 10.83.1.0/24, mid 10.83.2.0/24, back 10.83.3.0/24.
# usage: world.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/docker-lib.sh" # root, BIN, a real dockerd's helpers

P=tne2e-world
W=tne2e-world-$$
cleanup_docker() {
	docker rm -f $P-web $P-api $P-db $P-auto $P-bad >/dev/null 2>&1
	docker network rm $P-front $P-mid $P-back >/dev/null 2>&1
}
on_exit plugin_stop
on_exit cleanup_docker
on_exit "ip netns del $W; ip link del wld-e2e"
ensure_image
plugin_start "$BIN"

ip netns add "$W"
ip link add wld-e2e type veth peer name eth0 netns "$W"
ip addr add 10.83.0.1/24 dev wld-e2e
ip link set wld-e2e up
ip -n "$W" addr add 10.83.0.2/24 dev eth0
ip -n "$W" link set eth0 up
ip -n "$W" link set lo up
mkdir -p "$TMP/world"
echo world >"$TMP/world/index.html"
ip netns exec "$W" busybox httpd -f -p 80 -h "$TMP/world" &
on_exit "kill $!"
wget_from_world() { ip netns exec "$W" timeout 3 busybox wget -q -O - "$1" 2>/dev/null; }

docker network create -d "$DRIVER" -o tier=front --subnet 10.83.1.0/24 $P-front >/dev/null
docker network create -d "$DRIVER" -o tier=mid --subnet 10.83.2.0/24 $P-mid >/dev/null
docker network create -d "$DRIVER" -o tier=back --subnet 10.83.3.0/24 $P-back >/dev/null

echo "# published ports"
check "docker run -p 18080:80 -p 127.0.0.1:18081:80 on front" \
	run_server $P-web $P-front -p 18080:80 -p 127.0.0.1:18081:80
check_eq "the world reaches the published port" $P-web "$(wget_from_world http://10.83.0.1:18080/)"
check_eq "the host reaches it through 127.0.0.1" $P-web \
	"$(timeout 3 busybox wget -q -O - http://127.0.0.1:18080/ 2>/dev/null)"
check_eq "the 127.0.0.1-bound port answers the host" $P-web \
	"$(timeout 3 busybox wget -q -O - http://127.0.0.1:18081/ 2>/dev/null)"
refute "but not the world" wget_from_world http://10.83.0.1:18081/
check "tiernet status lists the mappings" \
	sh -c "'$BIN' status --socket '$SOCK' | grep -q '0.0.0.0:18080 *-> 10.83.1.2:80/tcp'"
check "docker run -P picks a host port" run_server $P-auto $P-front -P --expose 80
AUTO=$("$BIN" status --json --socket "$SOCK" | grep -o '"host":[^,]*' | grep -o ':[0-9]*"' | tr -d ':"' | awk '$1 >= 49153' | head -1)
check_eq "the world reaches the -P port" $P-auto "$(wget_from_world "http://10.83.0.1:${AUTO:-1}/")"
OUT=$(docker run -d --name $P-bad --network $P-mid -p 18090:80 "$IMAGE" sleep 60 2>&1)
check_contains "publishing on a tier without allow world -> T fails and names the line" "$OUT" \
	'add the line "allow world -> mid"'

echo "# internal tier"
check "docker run -p 127.0.0.1:18096:80 on back (internal)" \
	run_server $P-db $P-back -p 127.0.0.1:18096:80
check_eq "the host reaches the internal tier's 127.0.0.1 port" $P-db \
	"$(timeout 3 busybox wget -q -O - http://127.0.0.1:18096/ 2>/dev/null)"
check_eq "an internal-tier container has exactly one non-loopback interface" "eth0" \
	"$(docker exec $P-db ls /sys/class/net | grep -v '^lo$' | tr '\n' ' ' | sed 's/ $//')"
# Whatever subnet docker_gwbridge has on this host: every route goes out of eth0, through
# the tier's own gateway where it has a next hop.
ROUTES=$(docker exec $P-db ip route 2>&1)
check "and it has routes (ip route works in the container)" test -n "$ROUTES"
check_eq "every route goes through eth0 and the tier's gateway 10.83.3.1 (no docker_gwbridge)" "" \
	"$(echo "$ROUTES" | grep -v ' dev eth0' ; echo "$ROUTES" | grep ' via ' | grep -v ' via 10\.83\.3\.1 ')"

echo "# egress"
check_eq "front reaches the world" world "$(http_get $P-web 10.83.0.2)"
refute "back (internal) does not reach the world" http_get $P-db 10.83.0.2
check "docker run on mid" run_server $P-api $P-mid
check_eq "mid reaches the world" world "$(http_get $P-api 10.83.0.2)"

echo "# teardown"
check "control: while ports are published, tiernet's nat map holds them" \
	sh -c "nft list map ip tiernet any | grep -q ' : '"
check "docker rm -f" docker rm -f $P-web $P-api $P-db $P-auto $P-bad
refute "no published port is left: tiernet's nat table goes with the last one" \
	nft list table ip tiernet
# (TIERNET-DNS's redirects of DNS queries to the name service stay while the networks do)
check "the name service's DNS redirect is still there" \
	sh -c "iptables-legacy -t nat -S | grep -q '^-A TIERNET-DNS .*-j DNAT'"
check "docker network rm" docker network rm $P-front $P-mid $P-back
check "nothing tiernet remains" nothing_left
[ "$T_FAIL" -eq 0 ] || plugin_log
run_cleanup
summary
