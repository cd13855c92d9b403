# Helpers for the end-to-end suites: a real dockerd (started by run-e2e.sh), a busybox image
# made with `docker import`, and tiernet serving as a v1 plugin under a name of its own (its own socket
# name, so a tiernet the operator runs is never disturbed).  /usr/bin/docker matches the
# daemon exactly (TESTING-NOTES.md).
#
# A suite sources this first thing, with HERE set and the tiernet binary as its argument.
. "$HERE/../lib.sh"
need_root
BIN=$(realpath "${1:?usage: $0 TIERNET_BINARY}")
DOCKER=${DOCKER:-/usr/bin/docker}
IMAGE=tiernet-bb:2
# Each suite serves its own driver name (tncore, tnworld, ...), so suites never share a socket.
DRIVER=${DRIVER:-tn$(basename "$0" .sh)}
TMP=$(mktemp -d /tmp/tiernet-e2e.XXXXXX)
SOCK=/run/docker/plugins/$DRIVER.sock
STATE=$TMP/state
CONF=$TMP/tiernet.conf
PLUGIN_PID=
on_exit "rm -rf $TMP"

docker() { "$DOCKER" "$@"; }

write_default_policy "$CONF"

# The image: busybox-static plus symlinks, imported once.
ensure_image() {
	docker image inspect "$IMAGE" >/dev/null 2>&1 && return 0
	local root=$TMP/rootfs
	mkdir -p "$root/bin" "$root/www" "$root/etc"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
	done
	tar -C "$root" -c . | docker import - "$IMAGE" >/dev/null
}

# run_server NAME NETWORK [ARGS...]: a container answering HTTP on port 80 with its name.
run_server() {
	local name=$1 net=$2; shift 2
	docker run -d --name "$name" --network "$net" "$@" "$IMAGE" \
		sh -c "echo $name > /www/index.html; exec httpd -f -p 80 -h /www" >/dev/null
}

ip_of() {
	docker inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"
}

# http_get FROM_CONTAINER ADDRESS: prints the answer's body (a server's name) or nothing.
http_get() {
	docker exec "$1" timeout 3 wget -q -O - "http://$2/" 2>/dev/null
}

# nothing_left: no tiernet link, no TIERNET rule in either backend, no pass-through rule.
nothing_left() {
	! ip -o link | grep -q ': tn' &&
		! iptables-legacy-save 2>/dev/null | grep -q TIERNET &&
		! nft list ruleset 2>/dev/null | grep -q tiernet
}

# dockerd restarts (policy.sh switches backends, durability.sh restarts it).
dockerd_pid() {
	local p
	p=$(cat /var/run/docker.pid 2>/dev/null) || return 1
	[ -n "$p" ] && [ "$(cat /proc/$p/comm 2>/dev/null)" = dockerd ] && echo "$p"
}
alive() { local s; s=$(ps -o stat= -p "$1") && [[ $s != Z* ]]; }
dockerd_stop() {
	local p i
	p=$(dockerd_pid) || return 0
	kill -TERM "$p"
	for ((i = 0; i < 300; i++)); do
		alive "$p" || return 0
		sleep 0.2
	done
	echo "# dockerd $p did not stop within 60 s"
	return 1
}
dockerd_start() {
	(
		cd / || exit 1
		for fd in $(ls /proc/$BASHPID/fd); do
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		exec setsid dockerd >>"$1" 2>&1 </dev/null
	) &
	retry 150 docker info || { echo "# dockerd did not start:"; tail -20 "$1" | sed 's/^/#   /'; return 1; }
}

# dockerd_ensure: uses the dockerd that runs (DOCKERD_AT_START=1), or starts one for this
# suite and stops it again at the end.
DOCKERD_AT_START=0
dockerd_ensure() {
	if docker info >/dev/null 2>&1; then
		DOCKERD_AT_START=1
	else
		echo "# no dockerd runs: starting one for this suite (stopped again at the end)"
		dockerd_start "$TMP/dockerd.log" || { echo "0 passed, 1 failed"; exit 1; }
		on_exit dockerd_stop
	fi
}

# ---- the host's iptables backend (policy.sh, hostile.sh) ---------------------------------
# switch_to_legacy restarts dockerd on a host switched to iptables-legacy; restore_host puts
# everything back.  A suite calls `on_exit restore_host` before it switches (and before its
# plugin_stop and container cleanup, so that those run first).

DOCKERD_LOG=/var/log/tiernet-e2e-dockerd.log
NFT_FWD_POLICY=
SWITCHED=0

nft_forward_policy() {
	nft list chain ip filter FORWARD 2>/dev/null | sed -n 's/.*policy \([a-z]*\);.*/\1/p'
}

# legacy_drop_tiernet TABLE: removes the jumps to TIERNET chains from TABLE's built-in chains
# and the TIERNET chains themselves (what a tiernet that died with networks leaves behind).
legacy_drop_tiernet() {
	local t=$1 c r
	iptables-legacy -t "$t" -S 2>/dev/null | grep -E '^-A [A-Z]+ -j TIERNET' |
		while read -r r; do
			# shellcheck disable=SC2086 # the rule's words, as iptables printed them
			iptables-legacy -t "$t" -D ${r#-A }
		done
	for c in $(iptables-legacy -t "$t" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^TIERNET/ {print $2}'); do
		iptables-legacy -t "$t" -F "$c"
	done
	for c in $(iptables-legacy -t "$t" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^TIERNET/ {print $2}'); do
		iptables-legacy -t "$t" -X "$c"
	done
}

# Put the host back as it was: alternatives on auto (iptables-nft), the legacy dockerd
# stopped, what it and tiernet left in the legacy tables removed, policies ACCEPT, and
# dockerd started again in nft mode (only if it ran when the suite started) with its
# FORWARD policy as it was.  Idempotent; runs also on failure.
restore_host() {
	local c t
	[ "$SWITCHED" = 1 ] || return 0
	update-alternatives --auto iptables >/dev/null
	update-alternatives --auto ip6tables >/dev/null
	dockerd_stop
	for t in filter nat; do
		iptables-legacy -t $t -F
		iptables-legacy -t $t -X
	done
	for c in INPUT FORWARD OUTPUT; do iptables-legacy -t filter -P $c ACCEPT; done
	for c in PREROUTING INPUT OUTPUT POSTROUTING; do iptables-legacy -t nat -P $c ACCEPT; done
	# a tiernet that died with networks left its mangle and raw chains: remove those (ours only)
	legacy_drop_tiernet mangle
	legacy_drop_tiernet raw
	if [ "$DOCKERD_AT_START" = 1 ]; then
		dockerd_start "$DOCKERD_LOG"
		# dockerd sets FORWARD to DROP only when it switches ip_forward on (PROTOCOL.md §11)
		if [ -n "$NFT_FWD_POLICY" ] && [ "$(nft_forward_policy)" != "$NFT_FWD_POLICY" ]; then
			iptables-nft -P FORWARD "$(echo "$NFT_FWD_POLICY" | tr a-z A-Z)"
		fi
	fi
	SWITCHED=0
}

# switch_to_legacy: stop dockerd, switch the alternatives, drop the nf_tables tables the
# stopped dockerd left (a host that boots in legacy mode has none; kept, their FORWARD DROP
# would still drop everything, PROTOCOL.md §11 case c0), start dockerd, and give the legacy
# FORWARD chain the DROP policy a freshly booted dockerd sets.  A tiernet already serving
# stays up: the boot order tiernet -> dockerd.
switch_to_legacy() {
	local p
	p=$(dockerd_pid) || true
	if [ -n "$p" ]; then
		local l
		l=$(readlink /proc/$p/fd/1)
		case $l in /*) [ -f "$l" ] && [[ $l != "$TMP"* ]] && DOCKERD_LOG=$l ;; esac
	fi
	NFT_FWD_POLICY=$(nft_forward_policy)
	SWITCHED=1
	dockerd_stop || return 1
	update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null || return 1
	update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null || return 1
	nft delete table ip filter 2>/dev/null
	nft delete table ip nat 2>/dev/null
	dockerd_start "$TMP/dockerd-legacy.log" || return 1
	iptables -V | grep -q legacy || return 1
	[ "$(iptables-legacy -S FORWARD | head -1)" = "-P FORWARD DROP" ] ||
		iptables-legacy -P FORWARD DROP
}

# check_host_restored: the checks after restore_host (TAP lines).
check_host_restored() {
	check_eq "iptables alternative back on auto" "auto" \
		"$(update-alternatives --query iptables | sed -n 's/^Status: //p')"
	check_eq "ip6tables alternative back on auto" "auto" \
		"$(update-alternatives --query ip6tables | sed -n 's/^Status: //p')"
	check "iptables is iptables-nft again" sh -c "iptables -V | grep -q nf_tables"
	check_eq "legacy filter and nat tables empty, policies ACCEPT" "" \
		"$(iptables-legacy-save -t filter | grep -v ' ACCEPT ' | grep '^[-:]'
		   iptables-legacy-save -t nat | grep -v ' ACCEPT ' | grep '^[-:]')"
	if [ "$DOCKERD_AT_START" = 1 ]; then
		check "dockerd answers again" docker info
		check_eq "Docker's nft FORWARD policy is back to $NFT_FWD_POLICY" "$NFT_FWD_POLICY" \
			"$(nft_forward_policy)"
	fi
}
