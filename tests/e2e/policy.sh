#!/usr/bin/env bash
# End to end: the default reachability policy, enforced by the kernel, on a real dockerd.
#   1. nft host (Docker's rules in nf_tables, FORWARD policy DROP): three tiers, two containers
#      each; the whole matrix by TCP and ICMP in both directions, every "no" proven by an
#      allowed client of the same server in the same run; back (internal) containers have one
#      interface and no docker_gwbridge; tiernet's two pass-through rules head DOCKER-USER.
#   2. fail closed: tiernet's legacy chains flushed -> Docker's nft DROP takes over; SIGHUP
#      re-applies.
#   3. the pass-through deleted (or pushed down) by hand comes back within ~5 s.
#   4. everything removed, nothing left.
#   5. the same matrix on a host switched to iptables-legacy before dockerd starts (dockerd is
#      restarted twice; the host is restored in a cleanup that also runs on failure).
#      TIERNET_E2E_LEGACY=0 skips this part.
# Subnets: 10.82.0.0/16.   usage: policy.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/docker-lib.sh" # root, BIN, a real dockerd's helpers
trap run_cleanup EXIT
trap 'exit 130' INT TERM

P=tne2e-pol
TIERS="front mid back"
LEGACY=${TIERNET_E2E_LEGACY:-1}
declare -A ADDR     # container -> its address

cleanup_docker() {
	local t h
	for t in $TIERS; do docker rm -f $P-${t}1 $P-${t}2; done >/dev/null 2>&1
	for t in $TIERS; do docker network rm $P-$t; done >/dev/null 2>&1
	# only if Docker could not remove them: our own bridges, by name
	for t in $TIERS; do ip link del tnpol$t; done >/dev/null 2>&1
	# step 3's foreign rule in Docker's DOCKER-USER, if the suite stopped before removing it
	for h in $(nft -a list chain ip filter DOCKER-USER 2>/dev/null |
		sed -n 's/.*tne2e-foreign" # handle \([0-9]*\)$/\1/p'); do
		nft delete rule ip filter DOCKER-USER handle "$h"
	done >/dev/null 2>&1
	return 0
}

# ---- the policy ---------------------------------------------------------------------------

# allowed SRC DST: the default policy (DESIGN.md "The policy file"), intra-tier included.
allowed() {
	case "$1>$2" in
	front\>front | mid\>mid | back\>back | front\>mid | mid\>back) return 0 ;;
	*) return 1 ;;
	esac
}

# witness DST: a client that may reach DST's first container, from another tier when the
# policy has one (so the reply is routed back across tiers), else from DST's own tier.
witness() {
	case $1 in
	front) echo $P-front2 ;;
	mid) echo $P-front1 ;;
	back) echo $P-mid1 ;;
	esac
}

pingable() { docker exec "$1" ping -c1 -W1 "$2"; }

# setup_tiers OCTET: networks 10.82.OCTET+0..2.0/24 (front, mid, back), two servers each.
setup_tiers() {
	local base=$1 i=0 t c
	for t in $TIERS; do
		check "docker network create -d $DRIVER -o tier=$t (10.82.$((base + i)).0/24)" \
			docker network create -d "$DRIVER" -o tier=$t \
			-o com.docker.network.bridge.name=tnpol$t \
			--subnet 10.82.$((base + i)).0/24 $P-$t
		i=$((i + 1))
	done
	for t in $TIERS; do
		for c in $P-${t}1 $P-${t}2; do
			check "docker run $c on $t" run_server $c $P-$t
			ADDR[$c]=$(ip_of $c $P-$t)
		done
	done
}

# tcp_yes/tcp_no/icmp_yes/icmp_no DESC CLIENT SERVER
tcp_yes() { check_eq "$1" "$3" "$(http_get "$2" "${ADDR[$3]}")"; }
icmp_yes() { check "$1" pingable "$2" "${ADDR[$3]}"; }
tcp_no() {
	check_eq "$1" "" "$(http_get "$2" "${ADDR[$3]}")"
	check_eq "  proof: in the same run $3 answers TCP from $(witness_of "$3")" "$3" \
		"$(http_get "$(witness_of "$3")" "${ADDR[$3]}")"
}
icmp_no() {
	refute "$1" pingable "$2" "${ADDR[$3]}"
	check "  proof: in the same run $3 answers ping from $(witness_of "$3")" \
		pingable "$(witness_of "$3")" "${ADDR[$3]}"
}
# witness_of CONTAINER: for a tier's first container.
witness_of() { local t=${1#$P-}; witness "${t%[12]}"; }

# matrix: every ordered pair of tiers, TCP and ICMP.  Inter-tier: SRC1 -> DST1; intra-tier:
# 1 -> 2 and 2 -> 1.
matrix() {
	local s d
	for s in $TIERS; do
		for d in $TIERS; do
			if [ $s = $d ]; then
				tcp_yes "TCP  $s -> $s (inside the tier): yes" $P-${s}1 $P-${s}2
				tcp_yes "TCP  $s -> $s (inside the tier, back): yes" $P-${s}2 $P-${s}1
				icmp_yes "ICMP $s -> $s (inside the tier): yes" $P-${s}1 $P-${s}2
				icmp_yes "ICMP $s -> $s (inside the tier, back): yes" $P-${s}2 $P-${s}1
			elif allowed $s $d; then
				tcp_yes "TCP  $s -> $d: yes" $P-${s}1 $P-${d}1
				icmp_yes "ICMP $s -> $d: yes" $P-${s}1 $P-${d}1
			else
				tcp_no "TCP  $s -> $d: no" $P-${s}1 $P-${d}1
				icmp_no "ICMP $s -> $d: no" $P-${s}1 $P-${d}1
			fi
		done
	done
}

# back_is_internal: DisableGatewayService in the Join -> no docker_gwbridge, one interface.
back_is_internal() {
	local c ifs nets
	for c in $P-back1 $P-back2; do
		ifs=$(docker exec $c ls /sys/class/net 2>/dev/null | grep -v '^lo$' | tr '\n' ' ')
		check_eq "$c has exactly one non-loopback interface" "eth0 " "$ifs"
		nets=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' $c 2>/dev/null)
		check_eq "$c is attached to its network only (no docker_gwbridge)" "$P-back " "$nets"
	done
	refute "docker_gwbridge holds none of the back containers" sh -c \
		"$DOCKER network inspect -f '{{range .Containers}}{{.Name}} {{end}}' docker_gwbridge \
		2>/dev/null | grep -q $P-back"
}

# The rules of Docker's nft DOCKER-USER chain, one a line.
docker_user_rules() {
	nft list chain ip filter DOCKER-USER 2>/dev/null |
		sed -e '/^table /d' -e '/chain DOCKER-USER/d' -e '/^[[:space:]]*}[[:space:]]*$/d' \
			-e '/^[[:space:]]*$/d' -e 's/^[[:space:]]*//'
}
# passthrough_first: DOCKER-USER starts with tiernet's two rules (in, then out), no others.
passthrough_first() {
	local r
	r=$(docker_user_rules)
	[ "$(printf '%s\n' "$r" | grep -c 'comment "tiernet"')" -eq 2 ] &&
		printf '%s\n' "$r" | sed -n 1p | grep -q '^iifgroup 1953366016/16 .*accept comment "tiernet"' &&
		printf '%s\n' "$r" | sed -n 2p | grep -q '^oifgroup 1953366016/16 .*accept comment "tiernet"'
}
passthrough_handles() {
	nft -a list chain ip filter DOCKER-USER | sed -n 's/.*comment "tiernet" # handle \([0-9]*\)$/\1/p'
}

status_firewall() { "$BIN" status --socket "$SOCK" 2>&1 | sed -n 's/^firewall: //p'; }

teardown() {
	local t
	for t in $TIERS; do
		check "docker rm -f the $t containers" docker rm -f $P-${t}1 $P-${t}2
	done
	for t in $TIERS; do
		check "docker network rm $P-$t" docker network rm $P-$t
	done
	check "nothing tiernet remains (links, legacy rules, nft pass-through)" nothing_left
	refute "state holds no endpoint" sh -c "ls $STATE/endpoints | grep -q json"
}

# ---- the suite ----------------------------------------------------------------------------

T0=$(date +%s)
dockerd_ensure
on_exit restore_host
on_exit plugin_stop
on_exit cleanup_docker
ensure_image
plugin_start "$BIN"

echo "# 1. the default matrix, Docker's rules in nf_tables"
check "Docker keeps its rules in nf_tables (DOCKER-USER in ip filter)" \
	nft list chain ip filter DOCKER-USER
check_eq "Docker's nft FORWARD policy is drop" "drop" "$(nft_forward_policy)"
setup_tiers 1
matrix
back_is_internal
check "DOCKER-USER starts with tiernet's two pass-through rules" passthrough_first
check_eq "tiernet status: nft mode" "nft pass-through + legacy chains" "$(status_firewall)"

echo "# 2. fail closed"
F1=$P-front1 M1=$P-mid1
check "flush tiernet's legacy mangle chain" iptables-legacy -t mangle -F TIERNET-FWD
check_eq "front -> mid TCP fails without the marks" "" "$(http_get $F1 "${ADDR[$M1]}")"
check "flush tiernet's legacy filter chain too (no legacy DROP left)" \
	iptables-legacy -t filter -F TIERNET-FWD
check "the pass-through rules are still there" passthrough_first
check_eq "front -> mid TCP still fails: Docker's nft FORWARD DROP decides" "" \
	"$(http_get $F1 "${ADDR[$M1]}")"
check_eq "  proof: in the same run $M1 answers the host" "$M1" \
	"$(curl -s -m 3 "http://${ADDR[$M1]}/")"
check "SIGHUP to the plugin" kill -HUP "$PLUGIN_PID"
check "front -> mid TCP works again after the re-apply" \
	retry 25 sh -c "[ \"\$($DOCKER exec $F1 timeout 1 wget -q -O - http://${ADDR[$M1]}/)\" = $M1 ]"
tcp_no "TCP  mid -> front: still no after the re-apply" $M1 $P-front1

echo "# 3. the pass-through is put back (as after a dockerd restart)"
H=$(passthrough_handles | tr '\n' ' ')
check_eq "two tiernet rules with handles" 2 "$(echo $H | wc -w)"
check "delete them by handle" sh -c "for h in $H; do nft delete rule ip filter DOCKER-USER handle \$h || exit 1; done"
check "tiernet puts them back first in DOCKER-USER within 5 s" retry 25 passthrough_first
tcp_yes "TCP  front -> mid: yes again" $F1 $M1
icmp_yes "ICMP front -> mid: yes again" $F1 $M1
check "insert a foreign rule above them" \
	nft insert rule ip filter DOCKER-USER counter comment '"tne2e-foreign"'
check "tiernet moves its rules back to the top within 5 s" retry 25 passthrough_first
check_eq "and leaves the foreign rule alone" 1 "$(docker_user_rules | grep -c tne2e-foreign)"
check "remove the foreign rule" sh -c "nft delete rule ip filter DOCKER-USER handle \
	\$(nft -a list chain ip filter DOCKER-USER | sed -n 's/.*tne2e-foreign\" # handle //p')"
tcp_yes "TCP  front -> mid: yes" $F1 $M1

echo "# 4. teardown"
teardown

echo "# 5. the default matrix, host switched to iptables-legacy before dockerd starts"
if [ "$LEGACY" = 0 ]; then
	skip "the default matrix on an iptables-legacy host (TIERNET_E2E_LEGACY=0)"
else
	TL=$(date +%s)
	if check "switch the host to iptables-legacy and restart dockerd" switch_to_legacy; then
		check_eq "Docker's FORWARD is in legacy x_tables, policy DROP" "-P FORWARD DROP" \
			"$(iptables-legacy -S FORWARD | head -1)"
		refute "no nf_tables ip filter table is loaded" nft list table ip filter
		setup_tiers 11
		check_eq "tiernet status: legacy mode" "legacy chains" "$(status_firewall)"
		check_eq "legacy FORWARD starts with tiernet's jump" "-A FORWARD -j TIERNET-FWD" \
			"$(iptables-legacy -S FORWARD | sed -n 2p)"
		matrix
		back_is_internal
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
