#!/usr/bin/env bash
# End to end: dual-stack tiers (issue 13) on a real dockerd.
#   1. docker network create --ipv6 with one subnet per family: the bridge has both gateways,
#      containers both addresses, a default IPv6 route through the tier's gateway.
#   2. the default matrix over IPv6, TCP and ICMPv6, every ordered pair; each "no" next to a
#      client of the same server that gets "yes" in the same run; IPv4 still the same.
#   3. published ports over IPv6 (-p P:80 on both families, -p [::]:P:80 on IPv6 only) from an
#      outside namespace with the source kept; egress with NAT66; back (internal) has none.
#   4. compose: examples/compose-ipv6.yml (enable_ipv6, both subnets in ipam.config).
#   5. the same matrix over IPv6 on a host switched to iptables-legacy (TIERNET_E2E_LEGACY=0
#      skips it), where nothing of Docker's filters IPv6: tiernet's chains alone decide.
# The outside world: namespace W linked to the host (10.93.0.1, fd00:93::1 on the host's
# side; 10.93.0.2, fd00:93::2 in W; no default route in W).  Subnets: 10.93.0.0/16,
# fd00:93::/32.   usage: ipv6.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/docker-lib.sh" # root, BIN, a real dockerd's helpers
. "$HERE/matrix-lib.sh" # allowed, witness, matrix
ROOT=$(cd "$HERE/../.." && pwd)
trap run_cleanup EXIT
trap 'exit 130' INT TERM
T0=$(date +%s)

P=tne2e-v6
TIERS="front mid back"
LEGACY=${TIERNET_E2E_LEGACY:-1}
W=tne2e-v6w-$$
PROJECT=tne2e-v6c
declare -A ADDR ADDR4 # container -> its IPv6 / IPv4 address
MX_FAMILY=6

cleanup_docker() {
	local t
	for t in $TIERS; do docker rm -f $P-${t}1 $P-${t}2; done >/dev/null 2>&1
	docker rm -f $P-pub >/dev/null 2>&1
	for t in $TIERS; do docker network rm $P-$t; done >/dev/null 2>&1
	return 0
}
dc() { docker-compose -f "$ROOT/examples/compose-ipv6.yml" -p $PROJECT --no-ansi "$@"; }
# Which dockerd restore_host restarts after the legacy part: without this it restarts none,
# and the suites after this one find no dockerd.
dockerd_ensure
on_exit restore_host
on_exit plugin_stop
on_exit cleanup_docker
on_exit "dc down -t 1 --remove-orphans >/dev/null 2>&1"
on_exit "ip netns del $W 2>/dev/null; ip link del wld-v6 2>/dev/null"
ensure_image
plugin_start "$BIN"

# get6_soon FROM ADDR: mx_get with a few tries, for servers that have just started.
get6_soon() {
	local i got
	for ((i = 0; i < 10; i++)); do
		got=$(mx_get "$1" "$2") && [ -n "$got" ] && break
		sleep 0.3
	done
	echo "$got"
}
# setup_tiers OCTET: dual-stack networks 10.93.OCTET+i.0/24 and fd00:93:OCTET+i::/64, two
# servers each.
setup_tiers() {
	local base=$1 i=0 t c
	for t in $TIERS; do
		check "docker network create --ipv6 -o tier=$t (10.93.$((base + i)).0/24, fd00:93:$((base + i))::/64)" \
			docker network create -d "$DRIVER" -o tier=$t --ipv6 \
			--subnet 10.93.$((base + i)).0/24 --subnet fd00:93:$((base + i))::/64 $P-$t
		i=$((i + 1))
	done
	for t in $TIERS; do
		for c in $P-${t}1 $P-${t}2; do
			check "docker run $c on $t" run_server $c $P-$t
			ADDR[$c]=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$P-$t\").GlobalIPv6Address}}" $c)
			ADDR4[$c]=$(ip_of $c $P-$t)
		done
	done
	# Duplicate address detection runs on each new address before it can be used.
	for t in $TIERS; do
		check "$P-${t}1 holds ${ADDR[$P-${t}1]:-no IPv6 address} (DAD done)" retry 40 sh -c \
			"$DOCKER exec $P-${t}1 ip -6 addr show dev eth0 | grep -v tentative | grep -q '${ADDR[$P-${t}1]:-none}/64'"
	done
}

teardown() {
	local t
	for t in $TIERS; do
		check "docker rm -f the $t containers" docker rm -f $P-${t}1 $P-${t}2
	done
	for t in $TIERS; do
		check "docker network rm $P-$t" docker network rm $P-$t
	done
	check "nothing tiernet remains (links, legacy rules, nft pass-through)" nothing_left
	refute "no TIERNET chain is left in the legacy ip6 tables" \
		sh -c "ip6tables-legacy-save 2>/dev/null | grep -q TIERNET"
}

echo "# 1. dual-stack networks"
setup_tiers 1
BRF=$(ip -o route get 10.93.1.2 | sed -n 's/.* dev \([^ ]*\).*/\1/p')
check_eq "front's bridge has the IPv6 gateway fd00:93:1::1/64" "fd00:93:1::1/64" \
	"$(ip -o -6 addr show dev "$BRF" scope global | awk '{print $4}')"
check_eq "front1's default IPv6 route goes through fd00:93:1::1" "default via fd00:93:1::1 dev eth0" \
	"$(docker exec $P-front1 ip -6 route show default | awk '{print $1, $2, $3, $4, $5}')"
check_eq "docker network inspect: front has both subnets" "10.93.1.0/24 fd00:93:1::/64" \
	"$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' $P-front | xargs -n1 | sort | xargs)"
check "tiernet status lists front1's IPv6 address" \
	sh -c "'$BIN' status --socket '$SOCK' | grep -q '${ADDR[$P-front1]}'"

echo "# 2. the default matrix over IPv6"
matrix
check_eq "and over IPv4 front -> mid still: yes" $P-mid1 "$(http_get $P-front1 "${ADDR4[$P-mid1]}")"
check_eq "and over IPv4 mid -> front still: no" "" "$(http_get $P-mid1 "${ADDR4[$P-front1]}")"

echo "# 3. published ports and egress over IPv6"
ip netns add "$W"
ip link add wld-v6 type veth peer name eth0 netns "$W"
ip addr add 10.93.0.1/24 dev wld-v6
ip -6 addr add fd00:93::1/64 dev wld-v6 nodad
ip link set wld-v6 up
ip -n "$W" addr add 10.93.0.2/24 dev eth0
ip -n "$W" -6 addr add fd00:93::2/64 dev eth0 nodad
ip -n "$W" link set eth0 up
ip -n "$W" link set lo up
mkdir -p "$TMP/world"
# busybox httpd's CGI tells the client's address: the world sees who connected.
mkdir -p "$TMP/world/cgi-bin"
printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' >"$TMP/world/cgi-bin/who"
chmod +x "$TMP/world/cgi-bin/who"
ip netns exec "$W" busybox httpd -f -p 80 -h "$TMP/world" &
on_exit "kill $!"
world_get() { ip netns exec "$W" timeout 3 busybox wget -q -O - "$1" 2>/dev/null; }

check "docker run -p 18186:80 -p [::]:18187:80 on front" \
	run_server $P-pub $P-front -p 18186:80 -p "[::]:18187:80"
check_eq "the world reaches -p 18186:80 over IPv6" $P-pub "$(world_get "http://[fd00:93::1]:18186/")"
check_eq "and over IPv4" $P-pub "$(world_get http://10.93.0.1:18186/)"
check_eq "the world reaches -p [::]:18187:80 over IPv6" $P-pub "$(world_get "http://[fd00:93::1]:18187/")"
refute "but not over IPv4 (published on IPv6 only)" world_get http://10.93.0.1:18187/
check "tiernet status lists [::]:18187" \
	sh -c "'$BIN' status --socket '$SOCK' | grep -q '\[::\]:18187'"
OUT=$(docker run -d --name $P-bad --network $P-front -p "[::1]:18188:80" "$IMAGE" sleep 60 2>&1)
docker rm -f $P-bad >/dev/null 2>&1
check_contains "-p [::1]:P:80 is refused with the way out (Linux cannot DNAT from ::1)" "$OUT" \
	"127.0.0.1"
# The world's server answers from fd00:93::2; a route back to the tiers is not needed:
# NAT66 puts the host's address as the source.
echo world >"$TMP/world/index.html"
check_eq "front reaches the IPv6 world" world "$(mx_get $P-front1 fd00:93::2)"
check_eq "and the world sees the host's address (NAT66), not the container's" "fd00:93::1" \
	"$(docker exec $P-front1 timeout 3 wget -q -O - "http://[fd00:93::2]/cgi-bin/who" 2>/dev/null | tr -d '[]')"
check_eq "mid reaches the IPv6 world" world "$(mx_get $P-mid1 fd00:93::2)"
refute "back (internal) does not reach the IPv6 world" mx_get $P-back1 fd00:93::2
refute "nor does a ping from back leave" mx_ping $P-back1 fd00:93::2
check "control: front's ping reaches the world" mx_ping $P-front1 fd00:93::2
check "control: its IPv6 mappings are in tiernet's ip6 nat map" \
	sh -c "nft list map ip6 tiernet any | grep -q ' 18186 : '"
check "docker rm -f the published container" docker rm -f $P-pub
refute "no IPv6 mapping is left (tiernet's ip6 nat table goes with the last one)" \
	nft list table ip6 tiernet

echo "# 4. compose with enable_ipv6"
if ! command -v docker-compose >/dev/null; then
	nok "docker-compose is installed (make deps installs Debian's docker-compose)"
else
	export TIERNET_DRIVER=$DRIVER TIERNET_IMAGE=$IMAGE TIERNET_WEB_PORT=18189
	OUT=$(dc up -d 2>&1)
	check "docker-compose -f examples/compose-ipv6.yml up -d" test $? -eq 0
	[ "$T_FAIL" -eq 0 ] || echo "$OUT" | sed 's/^/#   compose: /'
	CW=${PROJECT}_web_1 CA=${PROJECT}_api_1 CD=${PROJECT}_db_1
	check_eq "web -> api over IPv6 (fd00:84:2::10): yes" api "$(get6_soon $CW fd00:84:2::10)"
	check_eq "api -> db over IPv6 (fd00:84:3::10): yes" db "$(get6_soon $CA fd00:84:3::10)"
	check_eq "web -> db over IPv6: no" "" "$(mx_get $CW fd00:84:3::10)"
	check_eq "db -> api over IPv6: no" "" "$(mx_get $CD fd00:84:2::10)"
	check_eq "the published port answers the world over IPv6" web \
		"$(world_get "http://[fd00:93::1]:18189/")"
	check "docker-compose down" dc down -t 1
fi

echo "# 5. the matrix over IPv6, host switched to iptables-legacy"
teardown
if [ "$LEGACY" = 0 ]; then
	skip "the matrix over IPv6 on an iptables-legacy host (TIERNET_E2E_LEGACY=0)"
else
	TL=$(date +%s)
	if check "switch the host to iptables-legacy and restart dockerd" switch_to_legacy; then
		check_eq "the legacy ip6 FORWARD policy is ACCEPT (Docker 20.10 leaves IPv6 alone)" \
			"-P FORWARD ACCEPT" "$(ip6tables-legacy -S FORWARD | head -1)"
		setup_tiers 11
		matrix
		teardown
	fi
	cleanup_docker
	restore_host
	echo "# host in legacy mode for $(($(date +%s) - TL)) s"
	check_host_restored
fi

echo "# run time $(($(date +%s) - T0)) s"
[ "$T_FAIL" -eq 0 ] || plugin_log
run_cleanup
summary
