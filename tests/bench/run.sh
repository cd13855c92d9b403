#!/usr/bin/env bash
# tiernet benchmarks (`make bench`, root).  ONE run prints ONE table; every figure is set
# against an anchor measured in the same run, with its goal and a pass/miss mark.  A
# benchmark reports, it never fails the build: the exit status is 0 unless the run itself
# could not be made (not root, tools missing).
#
#   1. `docker run --rm IMAGE sh -c :` on a tiernet network vs on a built-in bridge network;
#      1b: on a dual-stack tier vs on an IPv4-only one of the same tier
#   2. CreateEndpoint+Join+Leave+DeleteEndpoint through the socket with 10 / 1,000 / 5,000
#      live endpoints (tiernet serve in `unshare -n`, its own socket, state and config), and
#      Leave+Join of the oldest live endpoint; 2b: the same with the state on tmpfs, which
#      shows what tiernet itself costs without the disk's fsync latency
#   3. 64-byte UDP datagrams/s between containers: cross-tier (routed), intra-tier (bridged),
#      against two containers on one built-in Docker bridge network; cross-tier over IPv6
#      against the same over IPv4 (front and mid are dual-stack)
#   4. latency of the no-op call GetCapabilities on one kept-alive connection
#   5. published ports (issue 4): `docker run --rm` with 4 published ports on a tiernet tier
#      vs on a built-in bridge network (a docker-proxy per port), interleaved; tiernet's RSS
#      with 1,000 published ports (250 endpoints x 4, in `unshare -n`) beside 1,000 x the
#      RSS of one real docker-proxy, and the time of one ProgramExternalConnectivity then
#   6. restarts (issue 5): start-up (exec to the first GetCapabilities answer) with 1,000
#      persisted live endpoints vs with none, and the RSS with 1,000 endpoints vs none
#   8. many networks (issue 16): docker network create+rm and 64-byte UDP across tiers with
#      150 more tiernet networks present vs without; 3c: the routed-vs-bridged floor, two
#      bridges and a small stateful ruleset in private namespaces, no tiernet and no Docker
#   9. names across tiers (issue 14, tests/bench/names-part.sh): a cross-tier name through
#      Docker's embedded resolver and tiernet vs a same-network name Docker answers itself,
#      median and p99; the same while another container floods tiernet with queries
#   7. slow clients (issue 12): /Plugin.Activate on a fresh connection while 500 idle and 500
#      half-sent connections are held vs none, and the daemon's RSS meanwhile
#  10. the denied-flow log (issue 15, tests/bench/log-part.sh): UDP across an allowed edge
#      while a container floods 100,000 denied datagrams/s vs none; the daemon's CPU meanwhile
#
# usage: run.sh [TIERNET_BINARY] [TOOLS_DIR]        (TOOLS_DIR holds sockcall and udpflood)
# knobs (environment): BENCH_RUNS=15 BENCH_CYCLES=50 BENCH_CAPS=20000 BENCH_UDP_TRIALS=5
#   BENCH_UDP_SECS=3 BENCH_PEC_CYCLES=20 BENCH_STARTS=5 BENCH_SKIP_DOCKER=1 (no docker parts)
#   BENCH_SKIP_SCALE=1 (no part 2/2b) BENCH_SCALE_NETS=150 BENCH_SCALE_UDP_TRIALS=5
#   BENCH_ONLY="PART ..." runs only the parts named: caps (4), run (1, 5a, 5b), udp (3),
#   nets (8: 150 more networks), pub (5c), floor (3c), restart (6), conns (7), endpoints (2),
#   names (9), log (10); BENCH_NAMES_QUERIES=400
#   BENCH_ONLY=scale is issue 16's rows: "nets pub floor run" (about 4 minutes)
# Subnets: 10.90.0.0/16 only (10.90.1-3.0/24 on the host, the rest inside `unshare -n`).
# Driver name "tnbench" (socket /run/docker/plugins/tnbench.sock), so that neither an
# operator's tiernet nor the e2e suites' "tntest" is touched.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/tests/lib.sh"

BIN=$(realpath "${1:-$ROOT/build/tiernet}")
TOOLS=$(realpath "${2:-$ROOT/build/bench}")
SC=$TOOLS/sockcall
UF=$TOOLS/udpflood
RUNS=${BENCH_RUNS:-15}
CYCLES=${BENCH_CYCLES:-50}
NCAPS=${BENCH_CAPS:-20000}
UDP_TRIALS=${BENCH_UDP_TRIALS:-5}
UDP_SECS=${BENCH_UDP_SECS:-3}
. "$HERE/log-part.sh"

policy50() {	# the 50-tier policy: t1..t48, front, mid; front -> mid
	local i
	for ((i = 1; i <= 48; i++)); do echo "tier t$i"; done
	echo "tier front"
	echo "tier mid"
	echo "allow world -> front"	# part 5 publishes ports on front
	echo "allow front -> mid"
}

# ---------------------------------------------------------------------------------------
# The main run.
# ---------------------------------------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (network namespaces, a real dockerd)"
	exit 1
fi
for f in "$BIN" "$SC" "$UF"; do
	[ -x "$f" ] || { echo "bench: $f is missing: run make bench"; exit 1; }
done
BUILD=$ROOT/build
mkdir -p "$BUILD"
TMP=$(mktemp -d /tmp/tnbench.XXXXXX)
R=$TMP/results		# KEY=VALUE lines from every part
: >"$R"
trap run_cleanup EXIT
trap 'exit 130' INT TERM
on_exit "rm -rf $TMP"
T_START=$EPOCHREALTIME
# cpu_busy: percent of all CPUs busy over one second (other programs: the bench is idle).
cpu_busy() {
	local a b
	a=$(head -1 /proc/stat)
	sleep 1
	b=$(head -1 /proc/stat)
	echo "$a" "$b" | awk '{ n = (NF - 2) / 2; for (i = 2; i <= n + 1; i++) { t1 += $i; t2 += $(i + n + 1) }
		i1 = $5 + $6; i2 = $(5 + n + 1) + $(6 + n + 1)
		printf "%.0f", 100 * (1 - (i2 - i1) / (t2 - t1)) }'
}
LOAD_BEFORE="$(cpu_busy)% CPU busy, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
note() { echo "# $*" >&2; }
# want PART: BENCH_ONLY is unset or names PART ("scale" stands for issue 16's parts).
want() {
	local only=" ${BENCH_ONLY:-} "
	[ -z "${BENCH_ONLY:-}" ] || [[ "${only// scale / nets pub floor run }" == *" $1 "* ]]
}
elapsed() { awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}'; }
get() { local v; v=$(grep -m1 "^$1=" "$R" | cut -d= -f2); echo "${v:-}"; }
put() { echo "$1=$2" >>"$R"; }
median() { sort -n | awk '{v[NR]=$1} END{if(NR) print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
# rss PID [FIELD]: FIELD (VmRSS, RssAnon, RssFile) of a process in kB
rss() { awk -v f="${2:-VmRSS}:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null; }

# Socket parts: each `tiernet serve` runs in its own network namespace (`unshare -n` execs
# it, so its PID is ours to stop; its links die with the namespace), with its own socket,
# state directory and the 50-tier policy.  The client reaches the socket through the file
# system.
policy50 >"$TMP/tiernet.conf"
chmod 0644 "$TMP/tiernet.conf"
SOCK_PIDS=()
sock_plugin() {	# sock_plugin NAME [STATE_BASE]: starts one; its socket is $TMP/NAME.sock
	unshare -n "$BIN" serve --socket "$TMP/$1.sock" --state-dir "${2:-$TMP}/state-$1" \
		--config "$TMP/tiernet.conf" --log-level warn 2>>"$TMP/plugin-$1.log" &
	SOCK_PIDS+=($!)
	retry 50 test -S "$TMP/$1.sock" || { note "plugin $1 did not start:"; cat "$TMP/plugin-$1.log" >&2; return 1; }
}
sock_stop_all() {
	local p
	for p in "${SOCK_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	SOCK_PIDS=()
}
on_exit sock_stop_all	# stops only those still running: never a PID that was reused

# ---- part 4 first, on a quiet machine ----
if want caps; then
	note "[$(elapsed)s] part 4: GetCapabilities latency ($NCAPS calls, one connection)"
	if sock_plugin caps; then
		"$SC" "$TMP/caps.sock" caps "$NCAPS" >>"$R" || note "part 4 failed"
	fi
	sock_stop_all
fi

# ---- docker parts (1 and 3) ----
DOCKER=/usr/bin/docker
IMAGE=tiernet-bench:1
DRV=tnbench
PSOCK=/run/docker/plugins/$DRV.sock
P=tnbench
STARTED_DOCKERD=

docker_up() {	# waits (bounded) for the daemon: another engineer may restart it
	local i
	for ((i = 0; i < 60; i++)); do
		"$DOCKER" info >/dev/null 2>&1 && return 0
		sleep 1
	done
	return 1
}
# dk ARGS...: docker, retried (3 times) when it failed because the daemon was away.
dk() {
	local i rc
	for ((i = 0; i < 3; i++)); do
		"$DOCKER" "$@"
		rc=$?
		[ $rc -eq 0 ] && return 0
		"$DOCKER" info >/dev/null 2>&1 && return $rc
		note "docker daemon unavailable; waiting"
		docker_up || return $rc
	done
	return $rc
}

docker_cleanup() {
	"$DOCKER" rm -f $P-rx-br $P-tx-br $P-rx-front $P-rx-mid $P-tx-front $P-proxy $P-rmf \
		>/dev/null 2>&1
	scale_nets_rm
	"$DOCKER" network rm $P-front $P-mid $P-br $P-br6 $P-v4 $P-probe >/dev/null 2>&1
}
# The networks of part 8 ($P-s000...), whatever is left of them.
scale_nets_rm() {
	local n
	n=$("$DOCKER" network ls --format '{{.Name}}' 2>/dev/null | grep "^$P-s[0-9][0-9]*$")
	[ -z "$n" ] || "$DOCKER" network rm $n >/dev/null 2>&1
}

plugin_pid=
plugin_stop() {
	[ -n "$plugin_pid" ] || return 0
	kill -TERM "$plugin_pid" 2>/dev/null
	wait "$plugin_pid" 2>/dev/null
	plugin_pid=
}

ensure_image() {
	dk image inspect "$IMAGE" >/dev/null 2>&1 && return 0
	local root=$TMP/rootfs a
	mkdir -p "$root/bin" "$root/etc" "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
	done
	tar -C "$root" -c . | dk import - "$IMAGE" >/dev/null
}

ip_of() { "$DOCKER" inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"; }

# Another tiernet with live networks in the host namespace would fight ours over the
# TIERNET chains (each instance compiles the whole ruleset): wait for it, bounded.
other_tiernet() {
	iptables-legacy-save 2>/dev/null | grep -q '^:TIERNET' ||
		ip -o link show type bridge 2>/dev/null | grep -q ': tnb'
}

# run_series KEY NET ANCHOR_NET [DOCKER RUN ARGS...]: RUNS `docker run --rm ARGS IMAGE sh -c :`
# on the network $P-NET and on $P-ANCHOR_NET, interleaved, alternating which goes first; puts
# KEY_tn_med, KEY_br_med (s) and the sample counts.
run_series() {
	local key=$1 a=$2 b=$3 k net t0 t1 f i
	shift 3
	: >"$TMP/$key-tn"
	: >"$TMP/$key-br"
	dk run --rm --network $P-$a "$@" "$IMAGE" sh -c : >/dev/null 2>&1	# warm-up
	dk run --rm --network $P-$b "$@" "$IMAGE" sh -c : >/dev/null 2>&1
	for ((k = 0; k < RUNS; k++)); do
		for net in $([ $((k % 2)) -eq 0 ] && echo "$a $b" || echo "$b $a"); do
			f=$TMP/$key-tn
			[ $net = $b ] && f=$TMP/$key-br
			for i in 1 2 3; do	# a sample taken while dockerd was away is retaken
				t0=$EPOCHREALTIME
				if "$DOCKER" run --rm --network $P-$net "$@" "$IMAGE" sh -c : >/dev/null 2>>"$TMP/run.err"; then
					t1=$EPOCHREALTIME
					awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f\n", b-a}' >>"$f"
					break
				fi
				docker_up || break
			done
		done
	done
	put ${key}_tn_med "$(median <"$TMP/$key-tn")"
	put ${key}_br_med "$(median <"$TMP/$key-br")"
	put ${key}_tn_n "$(wc -l <"$TMP/$key-tn")"
	put ${key}_br_n "$(wc -l <"$TMP/$key-br")"
}

# Parts 1 and 5a/5b: docker run --rm and docker rm -f on an IPv4 tier (v4, tier front) against
# the IPv4 bridge network: like with like (a dual-stack tier's own cost is row 1b).
run_parts() {
	# ---- part 1: docker run --rm, interleaved, alternating which goes first ----
	note "[$(elapsed)s] part 1: docker run --rm sh -c : ($RUNS each, interleaved)"
	run_series run v4 br
	note "[$(elapsed)s] part 1b: docker run --rm on a dual-stack tier vs an IPv4 one ($RUNS each)"
	run_series run6 front v4
	# ... and Docker's own bridge, dual-stack vs IPv4-only: what Docker itself adds for IPv6
	run_series run6br br6 br
	# ---- part 5a: the same with 4 published ports (bridge: 4 docker-proxy processes) ----
	note "[$(elapsed)s] part 5a: docker run --rm -p x4 sh -c : ($RUNS each, interleaved)"
	run_series pub v4 br -p 18101:80 -p 18102:81 -p 18103:82 -p 18104:83
	# ---- part 5b: one real docker-proxy's memory ----
	local pp p i
	if dk run -d --name $P-proxy --network $P-br -p 18199:80 "$IMAGE" sleep 900 >/dev/null; then
		for i in 1 2 3 4 5 6 7 8 9 10; do	# dockerd starts it before the container
			pp=$(for p in $(pgrep -x docker-proxy); do
				tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- '-host-port 18199 ' && echo "$p"
			done)
			[ -n "$pp" ] && break
			sleep 0.2
		done
		sleep 0.5	# let it settle
		put proxy_n "$(echo $pp | wc -w)"
		for p in $pp; do	# the IPv4 one (0.0.0.0) if there are two (IPv4 and IPv6)
			tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- '-host-ip 0.0.0.0 ' || continue
			put proxy_rss "$(rss "$p")"
			put proxy_anon "$(rss "$p" RssAnon)"
		done
		[ -n "$(get proxy_rss)" ] || put proxy_rss "$(rss "${pp%% *}")"
		"$DOCKER" rm -f $P-proxy >/dev/null 2>&1
	else
		note "cannot start the docker-proxy container"
	fi

	note "[$(elapsed)s] part 1c: docker rm -f of a running container ($RUNS each, interleaved)"
	rmf_series
}

# rmf_series: RUNS times, on $P-v4 and $P-br in turn (alternating which goes first): start a
# container (not timed), then time `docker rm -f` of it; puts rmf_tn_med, rmf_br_med (s).
rmf_series() {
	local k net f t0
	: >"$TMP/rmf-tn"
	: >"$TMP/rmf-br"
	for ((k = 0; k < RUNS; k++)); do
		for net in $([ $((k % 2)) -eq 0 ] && echo "v4 br" || echo "br v4"); do
			f=$TMP/rmf-tn
			[ $net = br ] && f=$TMP/rmf-br
			dk run -d --name $P-rmf --network $P-$net "$IMAGE" sleep 900 >/dev/null 2>&1 || continue
			t0=$EPOCHREALTIME
			"$DOCKER" rm -f $P-rmf >/dev/null 2>>"$TMP/run.err" &&
				awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f\n", b-a}' >>"$f"
		done
	done
	put rmf_tn_med "$(median <"$TMP/rmf-tn")"
	put rmf_br_med "$(median <"$TMP/rmf-br")"
	put rmf_tn_n "$(wc -l <"$TMP/rmf-tn")"
	put rmf_br_n "$(wc -l <"$TMP/rmf-br")"
}

# Part 3: the UDP trials of every case, interleaved, and their ratios.
udp_parts() {
	local trial j c cases=("anchor rx-br tx-br br" "cross rx-mid tx-front mid"
		"intra rx-front tx-front front" "cross6 rx-mid tx-front mid 6"
		"anchors rx-br tx-br br s" "crosss rx-mid tx-front mid s"
		"intras rx-front tx-front front s")
	for ((trial = 0; trial < UDP_TRIALS; trial++)); do
		for ((j = 0; j < ${#cases[@]}; j++)); do	# the case that goes first rotates
			udp_case "$trial" "" ${cases[$(((trial + j) % ${#cases[@]}))]}
		done
	done
	# Paired ratios: each trial's case against the anchor of the same trial (taken within
	# seconds of each other), so that slow changes of the machine's load cancel out.
	for c in cross intra cross6; do
		[ -s "$TMP/udp-trials" ] && put udp_${c}_pratio "$(pratio "$TMP/udp-trials" anchor $c)"
	done
	# ... and with spinning receivers, against the spinning anchor
	for c in cross intra; do
		[ -s "$TMP/udp-trials" ] && put udp_${c}s_pratio "$(pratio "$TMP/udp-trials" anchors ${c}s)"
	done
	# IPv6 against IPv4 across the same edge, paired per trial
	[ -s "$TMP/udp-trials" ] && put udp_v6v4_pratio "$(pratio "$TMP/udp-trials" cross cross6)"
	for c in anchor cross intra cross6 anchors crosss intras; do
		[ -s "$TMP/udp-$c" ] || continue
		put udp_${c}_med "$(sort -n "$TMP/udp-$c" | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}')"
		put udp_${c}_all "$(sort -n "$TMP/udp-$c" | paste -sd/)"
		put udp_${c}_send_med "$(sort -n "$TMP/udpsend-$c" | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}')"
		# packets per CPU-second on the sender's CPU: 1e9 / median ns per datagram
		put udp_${c}_cpupps "$(sort -n "$TMP/udpcpu-$c" | awk '{v[NR]=$1} END{m = v[int((NR+1)/2)]; if (m > 0) printf "%.0f", 1e9 / m}')"
		put udp_${c}_cpuns "$(sort -n "$TMP/udpcpu-$c" | paste -sd/)"
	done
}

# netop_series KEY: RUNS times `docker network create` then `docker network rm` of one more
# tiernet network ($P-probe, 10.90.99.0/24); puts KEY_create_med and KEY_rm_med (s).
netop_series() {
	local k t0 t1
	: >"$TMP/$1-create"
	: >"$TMP/$1-rm"
	for ((k = 0; k < RUNS; k++)); do
		t0=$EPOCHREALTIME
		dk network create -d $DRV -o tier=t1 --subnet 10.90.99.0/24 $P-probe >/dev/null || continue
		t1=$EPOCHREALTIME
		"$DOCKER" network rm $P-probe >/dev/null || continue
		awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f\n", b-a}' >>"$TMP/$1-create"
		awk -v a="$t1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f\n", b-a}' >>"$TMP/$1-rm"
	done
	put $1_create_med "$(median <"$TMP/$1-create")"
	put $1_rm_med "$(median <"$TMP/$1-rm")"
}

# udp_scale TAG: BENCH_SCALE_UDP_TRIALS trials of the anchor and the cross-tier case, each
# with a sleeping and with a spinning receiver.
udp_scale() {
	local trial j c cases=("anchor rx-br tx-br br" "cross rx-mid tx-front mid"
		"anchors rx-br tx-br br s" "crosss rx-mid tx-front mid s")
	for ((trial = 0; trial < ${BENCH_SCALE_UDP_TRIALS:-5}; trial++)); do
		for ((j = 0; j < ${#cases[@]}; j++)); do	# the case that goes first rotates
			udp_case $trial "$1" ${cases[$(((trial + j) % ${#cases[@]}))]}
		done
	done
	for c in "" s; do
		put udp$1_cross${c}_med "$(median <"$TMP/udp$1-cross$c")"
		put udp$1_anchor${c}_med "$(median <"$TMP/udp$1-anchor$c")"
		put udp$1${c}_pratio "$(pratio "$TMP/udp-trials$1" anchor$c cross$c)"
		put udp$1${c}_all "$(sort -n "$TMP/udp$1-cross$c" | paste -sd/)"
		put udp$1_anchor${c}_all "$(sort -n "$TMP/udp$1-anchor$c" | paste -sd/)"
	done
}

# Part 8 (issue 16): what 150 more tiernet networks (no containers on them; a /24 each in
# 10.90.100-249, tiers t1..t48 in turn) cost: network create+rm and UDP across tiers.
NNETS=${BENCH_SCALE_NETS:-150}
nets_part() {
	local i t0
	note "[$(elapsed)s] part 8: network create/rm and UDP with the networks of the run"
	netop_series net2
	udp_scale _s2
	note "[$(elapsed)s] part 8: creating $NNETS more networks"
	t0=$EPOCHREALTIME
	for ((i = 0; i < NNETS && i < 150; i++)); do
		dk network create -d $DRV -o tier=t$((i % 48 + 1)) --subnet 10.90.$((100 + i)).0/24 \
			$(printf '%s-s%03d' $P $i) >/dev/null || { note "cannot create network $i"; return 1; }
	done
	put nets_create_s "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')"
	put nets_n "$i"
	note "[$(elapsed)s] part 8: network create/rm and UDP with $i more networks"
	netop_series net152
	udp_scale _s152
	t0=$EPOCHREALTIME
	scale_nets_rm
	put nets_rm_s "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')"
}

# udp_case TRIAL TAG KEY RX TX NET [FLAGS]: one trial of 64-byte UDP from container TX to RX
# on network NET (FLAGS: 6 over IPv6, s with a receiver that spins instead of sleeping, see
# udpflood.c); appends to $TMP/udp-trials$TAG ("TRIAL KEY PPS CPU_NS"),
# $TMP/udp$TAG-KEY (pps), $TMP/udpcpu$TAG-KEY and $TMP/udpsend$TAG-KEY.
UDP_PORT=9100
udp_case() {
	local trial=$1 tag=$2 key=$3 rx=$4 tx=$5 net=$6 v=${7:-} i rip rpid pps cpu ksoft k0 k1 hz
	ksoft=$(pgrep -x ksoftirqd/0 | head -1)
	hz=$(getconf CLK_TCK)
	UDP_PORT=$((UDP_PORT + 1))
	for i in 1 2; do	# retaken once if dockerd went away meanwhile
		dk start $P-$rx $P-$tx >/dev/null 2>&1
		if [[ "$v" == *6* ]]; then
			rip=$("$DOCKER" inspect -f "{{(index .NetworkSettings.Networks \"$P-$net\").GlobalIPv6Address}}" $P-$rx)
		else
			rip=$(ip_of $P-$rx $P-$net)
		fi
		"$DOCKER" exec $P-$rx /b/udpflood recv $UDP_PORT $((UDP_SECS + 10)) 15 \
			$([[ "$v" == *s* ]] && echo spin) >"$TMP/rx.out" 2>/dev/null &
		rpid=$!
		sleep 0.5
		k0=$(awk '{print $14 + $15}' /proc/$ksoft/stat 2>/dev/null || echo 0)
		"$DOCKER" exec $P-$tx /b/udpflood send "$rip" $UDP_PORT "$UDP_SECS" 64 \
			>"$TMP/tx.out" 2>/dev/null
		k1=$(awk '{print $14 + $15}' /proc/$ksoft/stat 2>/dev/null || echo 0)
		wait $rpid
		pps=$(grep -m1 '^recv_pps=' "$TMP/rx.out" | cut -d= -f2)
		# CPU per datagram on the sender's CPU: the sender's own time (the path runs in its
		# softirq) plus what ksoftirqd/0 did meanwhile.
		cpu=$(awk -F= -v k=$((k1 - k0)) -v hz="$hz" '
			/^send_cpu_s=/ {c = $2} /^send_count=/ {n = $2}
			END {if (n > 0) printf "%.0f", (c + k / hz) * 1e9 / n}' "$TMP/tx.out")
		if [ -n "$pps" ] && [ "$pps" != 0 ]; then
			echo "$pps" >>"$TMP/udp$tag-$key"
			echo "$trial $key $pps ${cpu:-0}" >>"$TMP/udp-trials$tag"
			echo "${cpu:-0}" >>"$TMP/udpcpu$tag-$key"
			grep -m1 '^send_pps=' "$TMP/tx.out" | cut -d= -f2 >>"$TMP/udpsend$tag-$key"
			return 0
		fi
		"$DOCKER" info >/dev/null 2>&1 && { note "UDP $key: nothing received"; return 1; }
		docker_up || return 1
	done
}

# pratio FILE A B: the median over trials of B's rate / A's rate in the same trial.
pratio() {
	awk -v a="$2" -v b="$3" '{v[$1 " " $2] = $3; t[$1] = 1}
		END { for (k in t) if (v[k " " a] > 0 && v[k " " b] > 0) print v[k " " b] / v[k " " a] }' \
		"$1" | sort -n | awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]}'
}

docker_parts() {
	if ! "$DOCKER" info >/dev/null 2>&1; then
		note "starting dockerd (log: $BUILD/dockerd.log)"
		setsid dockerd >"$BUILD/dockerd.log" 2>&1 </dev/null &
		STARTED_DOCKERD=$!
		on_exit "kill $STARTED_DOCKERD; wait $STARTED_DOCKERD"
		docker_up || { note "dockerd did not start"; return 1; }
	fi
	put docker_version "$("$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null)"
	local i
	for ((i = 0; i < 45; i++)); do
		other_tiernet || break
		[ $i -eq 0 ] && note "another tiernet has live networks on the host; waiting (max 90 s)"
		sleep 2
	done
	other_tiernet && { note "proceeding although another tiernet is active"; put contended 1; }
	ensure_image || { note "cannot import the image"; return 1; }

	policy50 >"$TMP/tiernet.conf"
	chmod 0644 "$TMP/tiernet.conf"
	"$BIN" serve --socket "$PSOCK" --state-dir "$TMP/state" --config "$TMP/tiernet.conf" \
		--log-level warn 2>>"$TMP/plugin.log" &
	plugin_pid=$!
	on_exit plugin_stop
	on_exit docker_cleanup
	retry 50 test -S "$PSOCK" || { note "plugin did not start"; cat "$TMP/plugin.log" >&2; return 1; }
	docker_cleanup		# leftovers of an interrupted run (needs the plugin up)
	# front and mid are dual-stack (UDP over IPv6 and IPv4 across the same edge); v4 is
	# front's IPv4-only twin, the anchor of `docker run` on a dual-stack tier.
	dk network create -d $DRV -o tier=front --ipv6 --subnet 10.90.1.0/24 \
		--subnet fd00:90:1::/64 $P-front >/dev/null &&
		dk network create -d $DRV -o tier=mid --ipv6 --subnet 10.90.2.0/24 \
			--subnet fd00:90:2::/64 $P-mid >/dev/null &&
		dk network create -d $DRV -o tier=front --subnet 10.90.4.0/24 $P-v4 >/dev/null &&
		dk network create --subnet 10.90.3.0/24 $P-br >/dev/null &&
		dk network create --ipv6 --subnet 10.90.5.0/24 --subnet fd00:90:5::/64 $P-br6 >/dev/null ||
		{ note "cannot create the networks"; cat "$TMP/plugin.log" >&2; return 1; }

	if want run; then
		run_parts
	fi
	want udp || want nets || want log || return 0
	# ---- part 3: UDP, receivers pinned to CPU 1, senders to CPU 0 ----
	note "[$(elapsed)s] part 3: 64-byte UDP ($UDP_TRIALS x ${UDP_SECS}s per case, interleaved)"
	local c
	for c in "rx-br br 1" "tx-br br 0" "rx-front front 1" "rx-mid mid 1" "tx-front front 0"; do
		set -- $c
		dk run -d --name $P-$1 --network $P-$2 --cpuset-cpus "$3" -v "$TOOLS:/b:ro" \
			--cap-add SYS_NICE --cap-add NET_ADMIN \
			"$IMAGE" sleep 900 >/dev/null || { note "cannot start container $P-$1"; return 1; }
	done
	if want log; then
		note "[$(elapsed)s] part 10: UDP across an allowed edge with and without a denied flood"
		log_part || note "part 10 failed"
	fi
	want udp && udp_parts
	want nets && nets_part
	return 0
}

if [ -n "${BENCH_SKIP_DOCKER:-}" ] || ! { want run || want udp || want nets || want log; }; then
	note "docker parts skipped (BENCH_SKIP_DOCKER or BENCH_ONLY)"
else
	docker_parts || note "docker parts failed or incomplete"
	docker_cleanup	# containers, networks, then our plugin, before the heavy part 2
	plugin_stop	# (both run again, harmlessly, at exit)
fi

# ---- part 5c: 1,000 published ports (250 endpoints x 4) in a private namespace ----
# State on tmpfs here: what is measured is tiernet's memory and the work of one
# ProgramExternalConnectivity (element changes in the nat maps), not the disk's fsync.
SHM=$(mktemp -d /dev/shm/tnbench.XXXXXX)
on_exit "rm -rf $SHM"
PEC_CYCLES=${BENCH_PEC_CYCLES:-20}
pub_part() {
	local A=be0000000005$(printf '%052x' 0) pid
	sock_plugin pub "$SHM" || return 1
	pid=${SOCK_PIDS[-1]}
	"$SC" "$TMP/pub.sock" network "$A" 10.90.0.1/16 front || return 1
	# the anchor: Program+Revoke of 4 ports while no other port is published
	"$SC" "$TMP/pub.sock" pec "$A" 10.90.0.0/16 5000 4000 30000 "$PEC_CYCLES" |
		sed 's/^/pub0_/' >>"$R" || return 1
	"$SC" "$TMP/pub.sock" publish "$A" 10.90.0.0/16 0 250 20000 | sed 's/^/pub_/' >>"$R" || return 1
	put pub_rss "$(rss "$pid")"
	put pub_anon "$(rss "$pid" RssAnon)"
	put pub_file "$(rss "$pid" RssFile)"
	put pub_dnat "$(nsenter -t "$pid" -n nft list map ip tiernet any 2>/dev/null | grep -oE ': [0-9.]+ \. [0-9]+' | wc -l)"
	"$SC" "$TMP/pub.sock" pec "$A" 10.90.0.0/16 5000 4000 30000 "$PEC_CYCLES" |
		sed 's/^/pub1000_/' >>"$R" || return 1
	# issue 16: 1,000 endpoints (750 more, without ports) and the 1,000 ports
	"$SC" "$TMP/pub.sock" populate "$A" 10.90.0.0/16 250 750 250 >/dev/null || return 1
	sleep 2.5	# steady state: the daemon's 2 s tick has run once since
	put pube_anon "$(rss "$pid" RssAnon)"
	put pube_rss "$(rss "$pid")"
	return 0
}
if want pub; then
	note "[$(elapsed)s] part 5c: 1,000 published ports (250 endpoints x 4), RSS and one PEC"
	pub_part || note "part 5c failed"
	sock_stop_all
fi

# ---- part 3c: the routed-vs-bridged floor, without tiernet or Docker (issue 16) ----
# Namespaces tnbf-r (a router: bridges b1, b2, forwarding on, a small stateful ruleset in
# FORWARD: established/related, then b1 -> b1 and b1 -> b2 accepted, policy DROP), tnbf-a
# and tnbf-b on b1 (10.90.201.0/24), tnbf-c on b2 (10.90.202.0/24).  64-byte UDP from a to b
# (bridged) and from a to c (routed), sender on CPU 0, receiver on CPU 1, interleaved.
FLOOR_NS="tnbf-r tnbf-a tnbf-b tnbf-c"
floor_stop() { local n; for n in $FLOOR_NS; do ip netns del "$n" 2>/dev/null; done; }
floor_part() {
	local n i k pps r=tnbf-r
	floor_stop
	on_exit floor_stop
	for n in $FLOOR_NS; do ip netns add "$n" || return 1; ip -n "$n" link set lo up; done
	ip -n $r link add b1 type bridge && ip -n $r link add b2 type bridge || return 1
	ip -n $r addr add 10.90.201.1/24 dev b1 && ip -n $r addr add 10.90.202.1/24 dev b2
	for i in "a b1 10.90.201.2 10.90.201.1" "b b1 10.90.201.3 10.90.201.1" "c b2 10.90.202.2 10.90.202.1"; do
		set -- $i
		ip -n $r link add v$1 type veth peer name eth0 netns tnbf-$1 || return 1
		ip -n $r link set v$1 master $2 up
		ip -n tnbf-$1 addr add $3/24 dev eth0
		ip -n tnbf-$1 link set eth0 up
		ip -n tnbf-$1 route add default via $4
	done
	ip -n $r link set b1 up && ip -n $r link set b2 up
	ip netns exec $r sysctl -qw net.ipv4.ip_forward=1
	ip netns exec $r sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null
	ip netns exec $r iptables -P FORWARD DROP &&
		ip netns exec $r iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT &&
		ip netns exec $r iptables -A FORWARD -i b1 -o b1 -j ACCEPT &&
		ip netns exec $r iptables -A FORWARD -i b1 -o b2 -j ACCEPT || return 1
	: >"$TMP/floor-trials"
	for ((k = 0; k < ${BENCH_FLOOR_TRIALS:-5}; k++)); do
		for i in $([ $((k % 2)) -eq 0 ] && echo "bridged routed" || echo "routed bridged"); do
			local dst=10.90.201.3 rx=tnbf-b
			[ $i = routed ] && { dst=10.90.202.2; rx=tnbf-c; }
			ip netns exec $rx taskset -c 1 "$UF" recv 9300 $((UDP_SECS + 10)) 15 >"$TMP/frx.out" 2>/dev/null &
			sleep 0.3
			ip netns exec tnbf-a taskset -c 0 "$UF" send $dst 9300 "$UDP_SECS" 64 >/dev/null 2>&1
			wait $!
			pps=$(grep -m1 '^recv_pps=' "$TMP/frx.out" | cut -d= -f2)
			[ -n "$pps" ] && echo "$k $i $pps" >>"$TMP/floor-trials"
		done
	done
	put floor_pratio "$(pratio "$TMP/floor-trials" bridged routed)"
	put floor_routed_all "$(awk '$2 == "routed" {print $3}' "$TMP/floor-trials" | sort -n | paste -sd/)"
	put floor_bridged_all "$(awk '$2 == "bridged" {print $3}' "$TMP/floor-trials" | sort -n | paste -sd/)"
	put floor_routed_med "$(awk '$2 == "routed" {print $3}' "$TMP/floor-trials" | median)"
	put floor_bridged_med "$(awk '$2 == "bridged" {print $3}' "$TMP/floor-trials" | median)"
	floor_stop
}
if want floor; then
	note "[$(elapsed)s] part 3c: routed vs bridged in private namespaces (the floor)"
	floor_part || note "part 3c failed"
	floor_stop
fi

# ---- part 6: start-up with 1,000 persisted live endpoints (issue 5) ----
# One namespace outlives the daemons: a holder process (`unshare -n sleep`) keeps it, the
# daemons enter it with nsenter, and it goes (with its 2,000 links) when the holder ends.
# Join's sandbox files exist (SOCKCALL_SANDBOX_DIR), so every endpoint counts as a live
# container at start-up.  The time is from just before the exec of `tiernet serve` until
# its socket answers GetCapabilities (libmicrohttpd serves only after reconciliation).
STARTS=${BENCH_STARTS:-5}
holder=
rc_pid=
holder_stop() { [ -n "$holder" ] && { kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; }; holder=; }
rc_stop() { [ -n "$rc_pid" ] && { kill -TERM "$rc_pid" 2>/dev/null; wait "$rc_pid" 2>/dev/null; }; rc_pid=; }
on_exit holder_stop
on_exit rc_stop
rc_start() {	# rc_start FILE: starts the daemon in the holder's namespace; appends the time (us)
	local t0=$EPOCHREALTIME
	nsenter -t "$holder" -n "$BIN" serve --socket "$TMP/rc.sock" --state-dir "$TMP/state-rc" \
		--config "$TMP/tiernet.conf" --log-level warn 2>>"$TMP/plugin-rc.log" &
	rc_pid=$!
	"$SC" "$TMP/rc.sock" waitcaps "$t0" 60 >"$TMP/waitcaps" || return 1
	sed -n 's/^startup_us=//p' "$TMP/waitcaps" >>"$1"
}
rc_part() {
	local A=be0000000006$(printf '%052x' 0) k me
	me=$(readlink /proc/self/ns/net)
	unshare -n sleep 3600 &
	holder=$!
	for ((k = 0; k < 50; k++)); do	# until it has its own namespace (never enter ours)
		[ "$(readlink /proc/$holder/ns/net 2>/dev/null)" != "$me" ] && break
		sleep 0.02
	done
	[ "$(readlink /proc/$holder/ns/net 2>/dev/null)" != "$me" ] || return 1
	mkdir -p "$TMP/sbx"
	rc_start /dev/null || return 1
	"$SC" "$TMP/rc.sock" network "$A" 10.90.0.1/16 front || return 1
	rc_stop
	for ((k = 0; k < STARTS; k++)); do	# anchor: one network, no endpoint
		rc_start "$TMP/start0" || return 1
		[ $k -eq 0 ] && { put rc0_rss "$(rss $rc_pid)"; put rc0_anon "$(rss $rc_pid RssAnon)"; }
		rc_stop
	done
	rc_start /dev/null || return 1
	SOCKCALL_SANDBOX_DIR=$TMP/sbx "$SC" "$TMP/rc.sock" populate "$A" 10.90.0.0/16 0 1000 |
		sed 's/^/rc_/' >>"$R" || return 1
	put rc1000_rss "$(rss $rc_pid)"
	put rc1000_anon "$(rss $rc_pid RssAnon)"
	put rc1000_file "$(rss $rc_pid RssFile)"
	rc_stop
	for ((k = 0; k < STARTS; k++)); do
		rc_start "$TMP/start1000" || return 1
		[ $k -eq 0 ] && put rc1000r_rss "$(rss $rc_pid)"
		# (not `tiernet status`: its client reads at most 64 KiB of the answer)
		[ $k -eq 0 ] && put rc_eps "$(ls "$TMP/state-rc/endpoints" 2>/dev/null | grep -c json)"
		rc_stop
	done
	put rc0_start_med "$(median <"$TMP/start0")"
	put rc1000_start_med "$(median <"$TMP/start1000")"
	put rc0_start_all "$(sort -n "$TMP/start0" | paste -sd/)"
	put rc1000_start_all "$(sort -n "$TMP/start1000" | paste -sd/)"
	return 0
}
if want restart; then
	note "[$(elapsed)s] part 6: start-up with 1,000 persisted endpoints ($STARTS starts) and RSS"
	rc_part || { note "part 6 failed"; cat "$TMP/plugin-rc.log" >&2; }
	rc_stop
	holder_stop
fi

# ---- part 7: 1,000 idle or half-sent connections held (issue 12) ----
# A fresh connection's /Plugin.Activate, 50 calls one after the other, with nothing else
# connected and then while plugcall.py holds 500 idle and 500 half-sent connections (half a
# request body each); the daemon's RSS in both states.  Its own namespace (unshare -n), its
# own socket and state.
CONNS_CALLS=${BENCH_CONNS_CALLS:-50}
cn_pid=
cn_stop() { [ -n "$cn_pid" ] && { kill -TERM "$cn_pid" 2>/dev/null; wait "$cn_pid" 2>/dev/null; }; cn_pid=; }
on_exit cn_stop
conns_part() {
	local pc="python3 $ROOT/tests/tools/plugcall.py" sock=$TMP/cn.sock t0=$EPOCHREALTIME out h k
	unshare -n "$BIN" serve --socket "$sock" --state-dir "$TMP/state-cn" \
		--config "$TMP/tiernet.conf" --log-level warn 2>>"$TMP/plugin-cn.log" &
	cn_pid=$!
	"$SC" "$sock" waitcaps "$t0" 30 >/dev/null || return 1
	# the anchor on a settled daemon too: its start-up work and first upkeep tick are over
	$pc "$sock" time /Plugin.Activate 20 >/dev/null
	sleep 2
	out=$($pc "$sock" time /Plugin.Activate "$CONNS_CALLS" | tail -1)
	put cn0_med "$(sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' <<<"$out" | awk '{print $1 * 1000}')"
	put cn0_max "$(sed -n 's/.*max_ms=\([0-9.]*\).*/\1/p' <<<"$out" | awk '{print $1 * 1000}')"
	put cn0_rss "$(rss $cn_pid)"
	$pc "$sock" hold 500 500 60 >"$TMP/cn-hold.out" 2>&1 <&- &
	h=$!
	for ((k = 0; k < 300; k++)); do grep -q '^ready' "$TMP/cn-hold.out" && break; sleep 0.1; done
	put cn_ready "$(grep -m1 '^ready' "$TMP/cn-hold.out" | tr ' =' '_:')"
	# held, not arriving: the daemon has taken the flood in (its backlog is empty again)
	for ((k = 0; k < 100; k++)); do grep -q '^t=2' "$TMP/cn-hold.out" && break; sleep 0.1; done
	out=$($pc "$sock" time /Plugin.Activate "$CONNS_CALLS" | tail -1)
	put cn1000_med "$(sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' <<<"$out" | awk '{print $1 * 1000}')"
	put cn1000_max "$(sed -n 's/.*max_ms=\([0-9.]*\).*/\1/p' <<<"$out" | awk '{print $1 * 1000}')"
	put cn1000_failed "$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$out")"
	put cn1000_rss "$(rss $cn_pid)"
	put cn1000_threads "$(awk '/^Threads:/ {print $2}' /proc/$cn_pid/status)"
	kill "$h" 2>/dev/null; wait "$h" 2>/dev/null
	return 0
}
if want conns; then
	note "[$(elapsed)s] part 7: a fresh call with 1,000 idle or half-sent connections held vs none"
	conns_part || { note "part 7 failed"; cat "$TMP/plugin-cn.log" >&2; }
	cn_stop
fi
# ---- part 2 last: 12,000 links in private namespaces ----
# Three plugins, with 10, 1,000 and 5,000 live endpoints (created and joined), and the
# cycles of an extra endpoint interleaved across them, so that all three see the same
# machine (the fsyncs of Join and Leave vary with other programs' disk I/O).  Network A,
# the measured one, is 10.90.0.0/16 in each.  A Linux bridge holds at most 1,023 ports
# (kernel BR_MAX_PORTS = 1024), so A carries at most 1,000 endpoints; the other 4,000 of
# the 5,000 live on four more networks, 10.90.16-31.0/22 (inside A's /16: no traffic flows
# in these namespaces), and tiernet's own per-endpoint data holds all 5,000.  Each cycle
# also does Leave+Join of endpoint 0, the oldest: the driver keeps endpoints newest first,
# so a lookup by ID reaches it last.
# scale_part KEY STATE_BASE: keys KEY10_, KEY1000_, KEY5000_; state directories under STATE_BASE.
scale_part() {
	local key=$1 base=$2 name k pids=() rc=0 t0=$EPOCHREALTIME
	local A=be0000000001$(printf '%052x' 0)
	for name in ${key}10 ${key}1000 ${key}5000; do
		sock_plugin $name "$base" || return 1
		"$SC" "$TMP/$name.sock" network "$A" 10.90.0.1/16 front || return 1
	done
	"$SC" "$TMP/${key}10.sock" populate "$A" 10.90.0.0/16 0 10 >/dev/null &
	pids+=($!)
	"$SC" "$TMP/${key}1000.sock" populate "$A" 10.90.0.0/16 0 1000 >/dev/null &
	pids+=($!)
	(
		"$SC" "$TMP/${key}5000.sock" populate "$A" 10.90.0.0/16 0 1000 || exit 1
		for k in 0 1 2 3; do
			local nk=be000000001$k$(printf '%052x' 0)
			"$SC" "$TMP/${key}5000.sock" network "$nk" "10.90.$((16 + 4 * k)).1/22" mid || exit 1
			"$SC" "$TMP/${key}5000.sock" populate "$nk" "10.90.$((16 + 4 * k)).0/22" \
				$((1000 + 1000 * k)) 1000 || exit 1
		done
	) >/dev/null &
	pids+=($!)
	for k in "${pids[@]}"; do wait "$k" || rc=1; done
	[ $rc -eq 0 ] || { note "populating failed"; return 1; }
	put ${key}_populate_s "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')"
	"$SC" - cycles "$CYCLES" 60000 4000 0 \
		"$TMP/${key}10.sock" "$A" 10.90.0.0/16 \
		"$TMP/${key}1000.sock" "$A" 10.90.0.0/16 \
		"$TMP/${key}5000.sock" "$A" 10.90.0.0/16 >"$TMP/cycles" || return 1
	sed -e "s/^t0_/${key}10_/" -e "s/^t1_/${key}1000_/" -e "s/^t2_/${key}5000_/" "$TMP/cycles" >>"$R"
	return 0
}
# ---- part 2k: the kernel alone, what CreateEndpoint's veth costs at scale ----
# No tiernet: in a private namespace, `ip -batch` makes 100 veth pairs and puts each on a
# bridge that has 10 ports, or 900 ports with 4,000 more pairs on four other bridges (the
# shape of part 2's 5,000 case).  The ratio is the kernel's own growth, the floor under
# CreateEndpoint's.
# kernel_veths PORTS MORE: prints the median of 3 runs, in us per create+attach+up.
kernel_veths() {
	local ports=$1 more=$2 k
	for k in 1 2 3; do
		unshare -n bash -c '
			set -e
			P=$1 X=$2
			ip link add brx type bridge; ip link set brx up
			{ for ((i = 0; i < P; i++)); do
				echo "link add p$i type veth peer name q$i"; echo "link set p$i master brx up"; done
			  for ((k = 0; k < X / 1000; k++)); do
				echo "link add bry$k type bridge"; echo "link set bry$k up"
				for ((i = 0; i < 1000; i++)); do
					echo "link add r${k}_$i type veth peer name s${k}_$i"
					echo "link set r${k}_$i master bry$k up"; done; done; } | ip -batch -
			for ((i = 0; i < 100; i++)); do
				echo "link add z$i type veth peer name y$i"; echo "link set z$i master brx up"
			done >"$3"
			t0=$EPOCHREALTIME; ip -batch "$3"; t1=$EPOCHREALTIME
			awk -v a="$t0" -v b="$t1" "BEGIN { printf \"%.0f\n\", (b - a) * 1e6 / 100 }"
		' _ "$ports" "$more" "$TMP/kveth.batch" || return 1
	done | median
}
if [ -z "${BENCH_SKIP_SCALE:-}" ] && want endpoints; then
	note "[$(elapsed)s] part 2k: the kernel alone: a veth on a bridge of 10 vs 900 ports (+4,000 pairs)"
	put kveth10_med "$(kernel_veths 10 0)"
	put kveth5000_med "$(kernel_veths 900 4000)"
fi
if [ -z "${BENCH_SKIP_SCALE:-}" ] && want endpoints; then
note "[$(elapsed)s] part 2: endpoint cycles with 10 / 1,000 / 5,000 live endpoints ($CYCLES cycles each, interleaved)"
scale_part n "$TMP" || note "part 2 failed"
sock_stop_all
# The same with the state on tmpfs: what tiernet and the kernel's links cost without the
# disk, whose fsync latency (one or two per call) depends on everything else on the machine.
note "[$(elapsed)s] part 2b: the same, state on tmpfs"
scale_part m "$SHM" || note "part 2b failed"
sock_stop_all
fi

# ---- part 9: names across tiers ----
. "$HERE/names-part.sh"
if want names && [ -z "${BENCH_SKIP_DOCKER:-}" ]; then
	note "[$(elapsed)s] part 9: names across tiers ($NAMES_Q queries x 3 rounds per figure)"
	names_part || { note "part 9 failed"; cat "$TMP/plugin-names.log" >&2; }
fi

# ---------------------------------------------------------------------------------------
# The table.
# ---------------------------------------------------------------------------------------
# row NAME VALUE ANCHOR UNIT GOALOP GOAL [MODE]: MODE ratio (VALUE/ANCHOR vs GOAL) or abs
# (VALUE vs GOAL) or info (no goal).
row() {
	local name=$1 val=$2 anc=$3 unit=$4 op=$5 goal=$6 mode=${7:-ratio} pr=${8:-}
	# a part BENCH_ONLY left out has no row
	[ -n "${BENCH_ONLY:-}" ] && [ -z "$val$anc$pr" ] && return 0
	awk -v name="$name" -v val="$val" -v anc="$anc" -v unit="$unit" -v op="$op" \
		-v goal="$goal" -v mode="$mode" -v pr="$pr" '
	function fmt(v) {
		if (v == "") return "n/a"
		if (unit == "s") return sprintf("%.3f s", v)
		if (unit == "us") return sprintf("%.1f us", v)
		if (unit == "ms") return sprintf("%.2f ms", v / 1000)
		if (unit == "pps") return sprintf("%.0fk/s", v / 1000)
		if (unit == "kB") return sprintf("%.1f MB", v / 1024)
		return v
	}
	BEGIN {
		ratio = ""; mark = "n/a"; g = "-"
		if (val != "" && anc != "" && anc + 0 > 0) { r = val / anc; ratio = sprintf("%.2fx", r) }
		if (pr != "") { r = pr + 0; ratio = sprintf("%.2fx", r) }
		if (ratio != "") r = sprintf("%.2f", r) + 0	# the mark follows the printed ratio
		if (pr == "" && val != "" && anc + 0 > 0 && val / anc < 0.01)
			ratio = sprintf("%.4fx", val / anc)	# 0.00x would hide the figure
		if (mode == "ratio") {
			g = op " " sprintf("%.2fx", goal)
			if (ratio != "") {
				mark = (op == "<=" ? r <= goal : r >= goal) ? "pass" : "MISS"
			}
		} else if (mode == "abs") {
			g = op " " fmt(goal)
			if (val != "") mark = (op == "<=" ? val + 0 <= goal + 0 : val + 0 >= goal + 0) ? "pass" : "MISS"
		} else {
			mark = "info"
		}
		printf "%-50s %12s %12s %8s %11s  %s\n", name, fmt(val), fmt(anc), ratio == "" ? "-" : ratio, g, mark
	}'
}

OUT=$TMP/table
{
	echo "tiernet benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(cd "$ROOT" && git describe --always --dirty 2>/dev/null)"
	echo "machine: nproc=$(nproc), kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, dockerd $(get docker_version)"
	echo "load from other programs: before the run $LOAD_BEFORE; after $(cpu_busy)% CPU busy, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "UDP: receivers pinned to CPU 1, senders to CPU 0 (--cpuset-cpus), both at nice -10; 64-byte UDP payload;"
	echo "     the anchor is measured while tiernet is running (its hooks see that traffic too)"
	[ -n "$(get contended)" ] && echo "WARNING: another tiernet had live networks on the host during the docker parts"
	echo
	printf "%-50s %12s %12s %8s %11s  %s\n" "benchmark (median unless said)" "value" "anchor" "ratio" "goal" "mark"
	printf '%.0s-' {1..104}; echo
	row "1 docker run --rm sh -c : IPv4 tier vs bridge (n=$(get run_tn_n)/$(get run_br_n))" \
		"$(get run_tn_med)" "$(get run_br_med)" s "<=" 0.95
	row "1c docker rm -f (running), IPv4 tier vs bridge (n=$(get rmf_tn_n)/$(get rmf_br_n))" \
		"$(get rmf_tn_med)" "$(get rmf_br_med)" s "<=" 1.00
	row "1 docker run --rm, dual-stack tier vs IPv4 tier (n=$(get run6_tn_n)/$(get run6_br_n))" \
		"$(get run6_tn_med)" "$(get run6_br_med)" s "<=" 1.05 info
	row "1   Docker's bridge: dual-stack vs IPv4 (n=$(get run6br_tn_n)/$(get run6br_br_n))" \
		"$(get run6br_tn_med)" "$(get run6br_br_med)" s "<=" 1.05 info
	row "1   dual-stack's cost, tier over bridge (****)" \
		"$(get run6_tn_med)" "$(get run6_br_med)" s "<=" 1.05 ratio \
		"$(awk -v a="$(get run6_tn_med)" -v b="$(get run6_br_med)" -v c="$(get run6br_tn_med)" \
			-v d="$(get run6br_br_med)" 'BEGIN{if (b > 0 && c > 0 && d > 0) print (a / b) / (c / d)}')"
	row "5 docker run --rm -p x4, tiernet vs bridge (n=$(get pub_tn_n)/$(get pub_br_n))" \
		"$(get pub_tn_med)" "$(get pub_br_med)" s "<=" 0.90
	row "5 RSS, 1,000 published ports vs 1,000 x docker-proxy" \
		"$(get pub_rss)" "$(awk -v r="$(get proxy_rss)" 'BEGIN{if (r != "") print r * 1000}')" kB "<=" 1.00
	row "5 one PEC (4 ports) at 1,000 ports vs at 0 (tmpfs)" \
		"$(get pub1000_pec_med)" "$(get pub0_pec_med)" ms "<=" 1.50
	row "5   Revoke (4 ports) at 1,000 ports vs at 0 (tmpfs)" \
		"$(get pub1000_revoke_med)" "$(get pub0_revoke_med)" ms "<=" 1.50
	row "5 RssAnon, 1,000 endpoints + 1,000 ports (abs)" \
		"$(get pube_anon)" "" kB "<=" 2048 abs
	row "8 docker network create, 150 more networks vs not" \
		"$(get net152_create_med)" "$(get net2_create_med)" s "<=" 1.20
	row "8 docker network rm, 150 more networks vs not" \
		"$(get net152_rm_med)" "$(get net2_rm_med)" s "<=" 1.20
	# the ratio: each half's paired ratio to the bridge anchor, one over the other, so that
	# the machine's load, which moves between the two halves (a minute apart), cancels out
	row "8 UDP 64B cross-tier, 150 more networks vs not (***)" \
		"$(get udp_s152_cross_med)" "$(get udp_s2_cross_med)" pps ">=" 0.95 ratio \
		"$(awk -v a="$(get udp_s2_pratio)" -v b="$(get udp_s152_pratio)" 'BEGIN{if (a > 0 && b != "") print b / a}')"
	row "8   cross-tier vs bridge with 150 more networks (*)" \
		"$(get udp_s152_cross_med)" "$(get udp_s152_anchor_med)" pps ">=" 0.85 ratio "$(get udp_s152_pratio)"
	row "8s  cross-tier, 150 more vs not, receivers spinning (***)" \
		"$(get udp_s152_crosss_med)" "$(get udp_s2_crosss_med)" pps ">=" 0.95 ratio \
		"$(awk -v a="$(get udp_s2s_pratio)" -v b="$(get udp_s152s_pratio)" 'BEGIN{if (a > 0 && b != "") print b / a}')"
	row "8s  cross-tier vs bridge with 150 more, spinning (*)" \
		"$(get udp_s152_crosss_med)" "$(get udp_s152_anchors_med)" pps ">=" 0.85 ratio "$(get udp_s152s_pratio)"
	row "3c floor: routed vs bridged, private netns, no tiernet" \
		"$(get floor_routed_med)" "$(get floor_bridged_med)" pps "" "" info "$(get floor_pratio)"
	row "6 start-up, 1,000 persisted endpoints vs none" \
		"$(awk -v v="$(get rc1000_start_med)" 'BEGIN{if (v != "") print v / 1e6}')" \
		"$(awk -v v="$(get rc0_start_med)" 'BEGIN{if (v != "") print v / 1e6}')" s "<=" 1 abs
	row "6 RSS with 1,000 endpoints vs with none" \
		"$(get rc1000_rss)" "$(get rc0_rss)" kB "<=" 6144 abs
	row "7 fresh /Plugin.Activate, 1,000 idle/half-sent held vs 0" \
		"$(get cn1000_med)" "$(get cn0_med)" us "<=" 2.00
	row "7 RSS with 1,000 idle/half-sent connections held vs 0" \
		"$(get cn1000_rss)" "$(get cn0_rss)" kB "" "" info
	row "2 Create+Join+Leave+Delete, 5000 vs 10 endpoints" \
		"$(get n5000_cycle_med)" "$(get n10_cycle_med)" ms "<=" 1.50
	row "2 Join+Leave (the new endpoint), 5000 vs 10" \
		"$(get n5000_jl_med)" "$(get n10_jl_med)" us "<=" 1.50
	row "2 Leave+Join (the oldest endpoint), 5000 vs 10" \
		"$(get n5000_jlold_med)" "$(get n10_jlold_med)" us "<=" 1.50
	row "2   full cycle, 1000 vs 10 endpoints" \
		"$(get n1000_cycle_med)" "$(get n10_cycle_med)" ms "" "" info
	for ph in CreateEndpoint:create Join:join Leave:leave DeleteEndpoint:delete; do
		row "2   ${ph%%:*}, 5000 vs 10 endpoints" \
			"$(get n5000_${ph##*:}_med)" "$(get n10_${ph##*:}_med)" us "" "" info
	done
	row "2k  kernel floor: veth+attach, 900 ports+4,000 pairs vs 10" \
		"$(get kveth5000_med)" "$(get kveth10_med)" us "" "" info
	row "2b state on tmpfs: full cycle, 5000 vs 10" \
		"$(get m5000_cycle_med)" "$(get m10_cycle_med)" ms "<=" 1.50
	row "2b state on tmpfs: Join+Leave (new), 5000 vs 10" \
		"$(get m5000_jl_med)" "$(get m10_jl_med)" us "<=" 1.50
	row "2b state on tmpfs: Leave+Join (oldest), 5000 vs 10" \
		"$(get m5000_jlold_med)" "$(get m10_jlold_med)" us "<=" 1.50
	for ph in CreateEndpoint:create Join:join Leave:leave DeleteEndpoint:delete; do
		row "2b   ${ph%%:*}, 5000 vs 10 endpoints" \
			"$(get m5000_${ph##*:}_med)" "$(get m10_${ph##*:}_med)" us "<=" 1.20
	done
	row "3 UDP 64B cross-tier front->mid vs bridge (*)" \
		"$(get udp_cross_med)" "$(get udp_anchor_med)" pps ">=" 0.85 ratio "$(get udp_cross_pratio)"
	row "3 UDP 64B intra-tier front->front vs bridge (*)" \
		"$(get udp_intra_med)" "$(get udp_anchor_med)" pps ">=" 0.95 ratio "$(get udp_intra_pratio)"
	row "3 UDP 64B cross-tier over IPv6 vs over IPv4 (*)" \
		"$(get udp_cross6_med)" "$(get udp_cross_med)" pps ">=" 0.95 ratio "$(get udp_v6v4_pratio)"
	row "3   cross-tier, datagrams per sender-CPU-second (**)" \
		"$(get udp_cross_cpupps)" "$(get udp_anchor_cpupps)" pps ">=" 0.95
	row "3   intra-tier, datagrams per sender-CPU-second (**)" \
		"$(get udp_intra_cpupps)" "$(get udp_anchor_cpupps)" pps ">=" 1.00
	row "3s cross-tier vs bridge, receivers spinning (*)" \
		"$(get udp_crosss_med)" "$(get udp_anchors_med)" pps ">=" 0.85 ratio "$(get udp_crosss_pratio)"
	row "3s intra-tier vs bridge, receivers spinning (*)" \
		"$(get udp_intras_med)" "$(get udp_anchors_med)" pps ">=" 0.95 ratio "$(get udp_intras_pratio)"
	log_rows
	row "4 GetCapabilities median (anchor: trivial server)" \
		"$(get caps_med)" "$(get floor_med)" us "<=" 60 abs
	row "4 GetCapabilities p99 (anchor: trivial server)" \
		"$(get caps_p99)" "$(get floor_p99)" us "<=" 200 abs
	row "9 name across tiers vs same-network name, median" \
		"$(get names_cross_med)" "$(get names_anchor_med)" us "<=" 1.20
	row "9   p99" "$(get names_cross_p99)" "$(get names_anchor_p99)" us "<=" 1.20
	row "9   tiernet's part: api.mid to the gateway, no dockerd hop" \
		"$(get names_direct_med)" "$(get names_anchor_med)" us "" "" info
	row "9 across tiers while a container floods, median" \
		"$(get names_flood_med)" "$(get names_anchor_med)" us "<=" 2.00
	row "9   p99 (anchor: same-network name, no flood)" \
		"$(get names_flood_p99)" "$(get names_anchor_p99)" us "<=" 2.00
	echo "(*) received datagrams/s, medians of $UDP_TRIALS trials; ratio: median of the per-trial ratios to the anchor of the same trial"
	echo "(***) ratio: (cross/bridge with the 150, paired per trial) / (the same without); the medians shown are raw"
	[ -n "$(get run6br_tn_med)" ] && echo "(****) (dual-stack tier / IPv4 tier) / (Docker's dual-stack bridge / its IPv4 bridge): what a dual-stack" &&
		echo "     tier costs beyond what Docker itself adds to a container start for IPv6; the medians shown are the tier's"
	echo "(**) 1 / (median CPU time per datagram on the sender's CPU: sender + its softirq + ksoftirqd/0): the rate one"
	echo "     dedicated CPU would reach; it does not depend on how busy the machine is"
	echo "3s: the receiver polls without sleeping, so the sender never pays for waking it (on this VM a"
	echo "     hypercall of microseconds, which amplifies small differences of the path): the path's cost alone"
	echo
	echo "details:"
	echo "  1: samples tiernet/bridge $(get run_tn_n)/$(get run_br_n)"
	echo "  8: $(get nets_n) more networks: created in $(get nets_create_s) s, removed in $(get nets_rm_s) s;" \
		"create/rm median s without $(get net2_create_med)/$(get net2_rm_med), with $(get net152_create_med)/$(get net152_rm_med)"
	echo "     UDP received/s without: cross $(get udp_s2_all), anchor $(get udp_s2_anchor_all) (paired ratio $(get udp_s2_pratio));" \
		"with: cross $(get udp_s152_all), anchor $(get udp_s152_anchor_all) (paired ratio $(get udp_s152_pratio))"
	echo "     spinning receivers, without: cross $(get udp_s2s_all), anchor $(get udp_s2_anchors_all)" \
		"(paired ratio $(get udp_s2s_pratio)); with: cross $(get udp_s152s_all), anchor" \
		"$(get udp_s152_anchors_all) (paired ratio $(get udp_s152s_pratio))"
	echo "  3c: floor received/s routed $(get floor_routed_all), bridged $(get floor_bridged_all)"
	echo "  5: RSS with 1,000 endpoints + 1,000 ports: VmRSS $(get pube_rss) kB, RssAnon $(get pube_anon) kB"
	for k in n m; do
		[ $k = n ] && echo "  2: state on disk (ext4 under /tmp), populating 10 + 1,000 + 5,000 endpoints" \
			"(three plugins, concurrently): $(get n_populate_s) s; $CYCLES cycles each"
		[ $k = m ] && echo "  2b: state on tmpfs, populating: $(get m_populate_s) s"
		echo "     median us at 10/1,000/5,000: cycle $(get ${k}10_cycle_med)/$(get ${k}1000_cycle_med)/$(get ${k}5000_cycle_med)" \
			"(p90 $(get ${k}10_cycle_p90)/$(get ${k}1000_cycle_p90)/$(get ${k}5000_cycle_p90))," \
			"CreateEndpoint $(get ${k}10_create_med)/$(get ${k}1000_create_med)/$(get ${k}5000_create_med),"
		echo "     Join $(get ${k}10_join_med)/$(get ${k}1000_join_med)/$(get ${k}5000_join_med)," \
			"Leave $(get ${k}10_leave_med)/$(get ${k}1000_leave_med)/$(get ${k}5000_leave_med)," \
			"DeleteEndpoint $(get ${k}10_delete_med)/$(get ${k}1000_delete_med)/$(get ${k}5000_delete_med)," \
			"Leave+Join of the oldest $(get ${k}10_jlold_med)/$(get ${k}1000_jlold_med)/$(get ${k}5000_jlold_med)"
		echo "     (of which Leave $(get ${k}10_leaveold_med)/$(get ${k}1000_leaveold_med)/$(get ${k}5000_leaveold_med)," \
			"Join $(get ${k}10_joinold_med)/$(get ${k}1000_joinold_med)/$(get ${k}5000_joinold_med))"
	done
	echo "  3: received/s per trial (sorted): anchor $(get udp_anchor_all); cross $(get udp_cross_all);" \
		"intra $(get udp_intra_all)"
	echo "     CPU ns per datagram (sorted): anchor $(get udp_anchor_cpuns); cross $(get udp_cross_cpuns);" \
		"intra $(get udp_intra_cpuns)"
	echo "  3s: receivers spinning, received/s per trial (sorted): anchor $(get udp_anchors_all);" \
		"cross $(get udp_crosss_all); intra $(get udp_intras_all); CPU ns per datagram: anchor" \
		"$(get udp_anchors_cpuns); cross $(get udp_crosss_cpuns); intra $(get udp_intras_cpuns)"
	echo "  5: docker run --rm -p x4 samples tiernet/bridge $(get pub_tn_n)/$(get pub_br_n); the bridge run starts" \
		"4 docker-proxy processes per container"
	echo "     docker-proxy for one port (-p 18199:80): $(get proxy_n) process(es); VmRSS of the 0.0.0.0 one" \
		"$(get proxy_rss) kB (RssAnon $(get proxy_anon) kB); anchor = 1,000 x that VmRSS"
	echo "     tiernet with 1,000 ports (250 endpoints x 4, $(get pub_dnat) elements in the nat map): VmRSS $(get pub_rss) kB" \
		"= RssAnon $(get pub_anon) + RssFile $(get pub_file) (shared libraries) kB"
	echo "     PEC+Revoke of 4 more ports, $PEC_CYCLES cycles: PEC median/p90 us at 0 ports" \
		"$(get pub0_pec_med)/$(get pub0_pec_p90), at 1,000 $(get pub1000_pec_med)/$(get pub1000_pec_p90);" \
		"Revoke $(get pub0_revoke_med)/$(get pub0_revoke_p90), $(get pub1000_revoke_med)/$(get pub1000_revoke_p90)"
	echo "     publishing the 250 endpoints (Create+Join+PEC each): $(get pub_publish_s) s; PEC median of the" \
		"first 10 $(get pub_publish_first10_med) us, of the last 10 $(get pub_publish_last10_med) us"
	echo "  6: start-up in us, sorted: 1,000 endpoints $(get rc1000_start_all); none $(get rc0_start_all);" \
		"endpoints kept after the restart: $(get rc_eps)"
	echo "     populating 1,000 (state on disk): $(get rc_populate_s) s; VmRSS with 1,000: $(get rc1000_rss) kB" \
		"(RssAnon $(get rc1000_anon) + RssFile $(get rc1000_file)), after a restart $(get rc1000r_rss) kB;" \
		"with none $(get rc0_rss) kB (RssAnon $(get rc0_anon))"
	echo "  7: Activate max us none/1,000 held $(get cn0_max)/$(get cn1000_max), failed with 1,000 held:" \
		"$(get cn1000_failed); holder: $(get cn_ready); daemon threads meanwhile $(get cn1000_threads)"
	log_details
	echo "  4: GetCapabilities mean $(get caps_mean) us, p99.9 $(get caps_p999) us, max $(get caps_max) us" \
		"(trivial server: p99.9 $(get floor_p999) us, max $(get floor_max) us)"
	echo "  8: median/p99 us per round: same-network $(get names_anchor_all); across tiers $(get names_cross_all);" \
		"across tiers under flood $(get names_flood_all); same-network under flood $(get names_anchorflood_all)"
	echo "     flood sent to $(get names_flood_target):53 from another front container; rate-limited by tiernet:" \
		"$(get names_limited) queries"
	echo "whole run $(elapsed) s"
} >"$OUT"
cp "$OUT" "$BUILD/bench.txt"
echo
cat "$OUT"
exit 0
