#!/usr/bin/env bash
# End to end (issue 16): the default matrix holds, by real TCP and ICMP with a proof for every
# "no", while 150 more tiernet networks are present (no containers on them, on tiers front,
# mid, back and nine more in turn: 12 tiers with networks, so tiernet dispatches through its
# tree of TIERNET-DSP chains), created before the tiers under test so that those come last in
# every list the kernel or tiernet walks.  Everything is removed at the end, also on failure.
# Subnets: 10.98.0.0/16 (tiers under test 10.98.1-3.0/24, the others 10.98.10-159.0/24).
# usage: scale.sh TIERNET_BINARY      (SCALE_NETS=N changes the 150)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/docker-lib.sh" # root, BIN, a real dockerd's helpers
. "$HERE/matrix-lib.sh" # allowed, witness, matrix
trap run_cleanup EXIT
trap 'exit 130' INT TERM

P=tne2e-scale
TIERS="front mid back"
NNETS=${SCALE_NETS:-150}
declare -A ADDR # container -> its address

# tiernet's bridges now (no other tiernet runs while the e2e suites hold the host).
tn_bridges() { ip -o link show type bridge | awk -F": " '$2 ~ /^tn/ {print $2}'; }
# The filler networks still there, by name.
fillers() { docker network ls --format '{{.Name}}' 2>/dev/null | grep "^$P-n[0-9]*$"; }
cleanup_docker() {
	local t n
	for t in $TIERS; do docker rm -f $P-${t}1 $P-${t}2; done >/dev/null 2>&1
	for t in $TIERS; do docker network rm $P-$t; done >/dev/null 2>&1
	n=$(fillers)
	[ -z "$n" ] || docker network rm $n >/dev/null 2>&1
	return 0
}
on_exit plugin_stop
on_exit cleanup_docker
ensure_image
XTIERS="x1 x2 x3 x4 x5 x6 x7 x8 x9"
for t in $XTIERS; do echo "tier $t"; done >>"$CONF"
plugin_start "$BIN"
T0=$SECONDS

echo "# $NNETS networks present"
tiers=(front mid back $XTIERS)
# four at a time: dockerd takes them concurrently, tiernet one after the other
for ((i = 0; i < NNETS && i < 150; i++)); do
	echo "${tiers[$((i % ${#tiers[@]}))]} 10.98.$((10 + i)).0/24 $(printf '%s-n%03d' $P $i)"
done | xargs -P 4 -L 1 sh -c \
	"'$DOCKER' network create -d '$DRIVER' -o tier=\$0 --subnet \$1 \$2 >/dev/null 2>>'$TMP/create.err'"
check_eq "$NNETS tiernet networks created" "$NNETS" "$(fillers | wc -l)"
[ -s "$TMP/create.err" ] && sed 's/^/#   /' "$TMP/create.err" | head -5
check_eq "each has its bridge" "$NNETS" "$(tn_bridges | wc -l)"
[ "$NNETS" -ge 9 ] && check "the dispatch by tier is a tree (TIERNET-FWD goes to TIERNET-DSP chains)" \
	sh -c "iptables-legacy -t mangle -S TIERNET-FWD | grep -q -- '-g TIERNET-DSP-'"

echo "# the tiers under test, two servers each"
i=1
for t in $TIERS; do
	check "docker network create -o tier=$t (10.98.$i.0/24)" docker network create \
		-d "$DRIVER" -o tier=$t -o com.docker.network.bridge.name=tnsc$t \
		--subnet 10.98.$i.0/24 $P-$t
	i=$((i + 1))
done
for t in $TIERS; do
	for c in $P-${t}1 $P-${t}2; do
		check "docker run $c on $t" run_server $c $P-$t
		ADDR[$c]=$(ip_of $c $P-$t)
	done
done

echo "# the default matrix, TCP and ICMP, with $((NNETS + 3)) networks present"
matrix

echo "# teardown"
cleanup_docker
check_eq "no filler network is left" "" "$(fillers)"
check "nothing tiernet remains (links, legacy rules, nft pass-through)" nothing_left
echo "# $((SECONDS - T0)) s"
[ "$T_FAIL" -eq 0 ] || plugin_log
run_cleanup
summary
