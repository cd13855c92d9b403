# The default policy's matrix by real traffic (policy.sh over IPv4, ipv6.sh over IPv6).  The
# suite sets P (the name prefix), TIERS ("front mid back"), ADDR (container -> address of
# the family under test) and MX_FAMILY (4 or 6); containers are $P-TIER1 and $P-TIER2,
# servers that answer HTTP with their names (run_server).

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
# witness_of CONTAINER: for a tier's first container.
witness_of() { local t=${1#$P-}; witness "${t%[12]}"; }

# mx_get CLIENT ADDRESS / mx_ping CLIENT ADDRESS in the family under test.
mx_get() {
	if [ "${MX_FAMILY:-4}" = 6 ]; then
		docker exec "$1" timeout 3 wget -q -O - "http://[$2]/" 2>/dev/null
	else
		http_get "$1" "$2"
	fi
}
mx_ping() {
	if [ "${MX_FAMILY:-4}" = 6 ]; then
		docker exec "$1" ping -6 -c1 -W1 "$2" >/dev/null 2>&1
	else
		docker exec "$1" ping -c1 -W1 "$2"
	fi
}
mx_v() { [ "${MX_FAMILY:-4}" = 6 ] && echo " over IPv6"; }

# tcp_yes/tcp_no/icmp_yes/icmp_no DESC CLIENT SERVER
tcp_yes() { check_eq "$1" "$3" "$(mx_get "$2" "${ADDR[$3]}")"; }
icmp_yes() { check "$1" mx_ping "$2" "${ADDR[$3]}"; }
tcp_no() {
	check_eq "$1" "" "$(mx_get "$2" "${ADDR[$3]}")"
	check_eq "  proof: in the same run $3 answers TCP$(mx_v) from $(witness_of "$3")" "$3" \
		"$(mx_get "$(witness_of "$3")" "${ADDR[$3]}")"
}
icmp_no() {
	refute "$1" mx_ping "$2" "${ADDR[$3]}"
	check "  proof: in the same run $3 answers ping$(mx_v) from $(witness_of "$3")" \
		mx_ping "$(witness_of "$3")" "${ADDR[$3]}"
}

# matrix: every ordered pair of tiers, TCP and ICMP.  Inter-tier: SRC1 -> DST1; intra-tier:
# 1 -> 2 and 2 -> 1.
matrix() {
	local s d t=TCP i=ICMP
	[ "${MX_FAMILY:-4}" = 6 ] && t=TCP6 i=ICMP6
	for s in $TIERS; do
		for d in $TIERS; do
			if [ $s = $d ]; then
				tcp_yes "$t  $s -> $s (inside the tier): yes" $P-${s}1 $P-${s}2
				tcp_yes "$t  $s -> $s (inside the tier, back): yes" $P-${s}2 $P-${s}1
				icmp_yes "$i $s -> $s (inside the tier): yes" $P-${s}1 $P-${s}2
				icmp_yes "$i $s -> $s (inside the tier, back): yes" $P-${s}2 $P-${s}1
			elif allowed $s $d; then
				tcp_yes "$t  $s -> $d: yes" $P-${s}1 $P-${d}1
				icmp_yes "$i $s -> $d: yes" $P-${s}1 $P-${d}1
			else
				tcp_no "$t  $s -> $d: no" $P-${s}1 $P-${d}1
				icmp_no "$i $s -> $d: no" $P-${s}1 $P-${d}1
			fi
		done
	done
}
