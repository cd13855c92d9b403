# Helpers to drive `tiernet serve` through its socket exactly as dockerd does (PROTOCOL.md
# §1.1: POST, an empty Host header, no Content-Type, compact JSON plus a newline), and to
# play dockerd's part of moving interfaces into "containers" (network namespaces).
#
# A suite sources this first thing, with HERE set and the tiernet binary as its argument:
# it needs root, re-executes the suite in a private network namespace (unshare -n), and
# sets BIN.
. "$HERE/../lib.sh"
need_root
BIN=$(realpath "${1:?usage: $0 TIERNET_BINARY}")
if [ -z "${TN_IN_NETNS:-}" ]; then
	TN_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
TMP=$(mktemp -d /tmp/tiernet-it.XXXXXX)
SOCK=$TMP/tiernet.sock
STATE=$TMP/state
CONF=$TMP/tiernet.conf
PLUGIN_PID=
# Names across tiers only where a suite asks (names.sh, with a fake Engine API and
# --names on): no daemon of the other suites talks to a dockerd that runs on the host.
PLUGIN_ARGS="--names off"
export TIERNET_NAMES=off
on_exit "rm -rf $TMP"

# A sanitizer build fails the suite on any sanitizer report.  AddressSanitizer and
# LeakSanitizer write each report to a file of its own under $TMP/sanitizer (log_path, one per
# process: the daemon of every start, a daemon that refused to start, `tiernet status`, ...);
# UBSan (GCC) prints its "runtime error:" lines on stderr, for the daemon plugin.log.  The
# daemon is stopped in the cleanup stack and LeakSanitizer reports only at exit, so the check
# runs there, after every plugin_stop (it is registered before them), and summary prints it.
if sanitizer_build "$BIN"; then
	mkdir -p "$TMP/sanitizer"
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$TMP/sanitizer/report"
	on_exit sanitizer_verdict
fi

write_default_policy "$CONF"

# call PATH BODY: sets CODE (HTTP status) and BODY (response body).
call() {
	local data=$2
	[ -n "$data" ] && data="$data"$'\n'
	CODE=$(curl -sS --unix-socket "$SOCK" -o "$TMP/resp" -w '%{http_code}' -X POST \
		-H 'Host;' -H 'Content-Type:' -H 'User-Agent: Go-http-client/1.1' \
		-H 'Accept: application/vnd.docker.plugins.v1.2+json' \
		--data-binary "$data" "http://plugin$1" 2>>"$TMP/curl.log")
	BODY=$(cat "$TMP/resp" 2>/dev/null)
}
call_ok() { call "$1" "${2:-}"; [ "$CODE" = 200 ]; }

# net_body ID TIER GATEWAY/PREFIX POOL [EXTRA GENERIC OPTIONS JSON] [INTERNAL]
net_body() {
	local extra=${5:-} internal=${6:-}
	[ -n "$extra" ] && extra=",$extra"
	[ -n "$internal" ] && internal=',"com.docker.network.internal":true'
	printf '{"NetworkID":"%s","Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":{"tier":"%s"%s}%s},"IPv4Data":[{"AddressSpace":"LocalDefault","Gateway":"%s","Pool":"%s"}],"IPv6Data":[]}' \
		"$1" "$2" "$extra" "$internal" "$3" "$4"
}

# ep_body NET EP ADDRESS/PREFIX [MAC]
ep_body() {
	printf '{"NetworkID":"%s","EndpointID":"%s","Interface":{"Address":"%s","AddressIPv6":"","MacAddress":"%s"},"Options":{"com.docker.network.endpoint.exposedports":[],"com.docker.network.portmap":[]}}' \
		"$1" "$2" "$3" "${4:-}"
}

# join_body NET EP SANDBOX
join_body() {
	printf '{"NetworkID":"%s","EndpointID":"%s","SandboxKey":"%s","Options":{"com.docker.network.endpoint.exposedports":[],"com.docker.network.portmap":[]}}' \
		"$1" "$2" "$3"
}

# container_in NS IFACE ADDRESS/PREFIX GATEWAY: what dockerd does after Join.
container_in() {
	ip netns list | grep -qw "$1" || ip netns add "$1"
	ip -n "$1" link set lo up
	ip link set "$2" netns "$1"
	ip -n "$1" link set "$2" name eth0
	ip -n "$1" addr add "$3" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$1" route add default via "$4"
}

# container_out NS IFACE: dockerd moves the interface back under its name before DeleteEndpoint.
container_out() {
	ip -n "$1" link set eth0 down
	ip -n "$1" link set eth0 name "$2"
	ip -n "$1" link set "$2" netns $$
}

# serve_http NS PORT NAME: a one-line TCP server that answers with NAME.
serve_http() {
	mkdir -p "$TMP/www-$3"
	echo "$3" >"$TMP/www-$3/index.html"
	ip netns exec "$1" busybox httpd -f -p "$2" -h "$TMP/www-$3" &
	on_exit "kill $!"
	retry 25 ip netns exec "$1" sh -c "busybox netstat -ltn | grep -q ':$2 '"
}

# mac_of IFACE: /sys/class/net shows the namespace sysfs was mounted in, so ask netlink.
mac_of() { ip -br link show "$1" | awk '{print $3}'; }

# ---- Traffic helpers (policy.sh).  NS "host" (or "") means the test's own namespace, the
# one `unshare -n` made, which plays the host.

# in_ns NS CMD...: runs CMD inside namespace NS.
in_ns() {
	local ns=$1; shift
	if [ -z "$ns" ] || [ "$ns" = host ]; then "$@"; else ip netns exec "$ns" "$@"; fi
}

# http_get NS ADDR PORT: prints what the HTTP server at ADDR:PORT answers, giving up after 2 s
# (busybox wget -T segfaults: TESTING-NOTES.md).
http_get() { in_ns "$1" timeout 2 busybox wget -q -O - "http://$2:$3/" 2>/dev/null; }

# ping_once NS ADDR [SOURCE]: one echo request (from SOURCE if given), 2 s for the reply.
ping_once() {
	if [ -n "${3:-}" ]; then
		in_ns "$1" busybox ping -c1 -W2 -I "$3" "$2" >/dev/null 2>&1
	else
		in_ns "$1" busybox ping -c1 -W2 "$2" >/dev/null 2>&1
	fi
}

# bg_in_ns NS CMD...: starts CMD in the background inside NS, killed at cleanup.  $! is
# CMD's own process (no subshell left in between), so the kill reaches it.
bg_in_ns() {
	local ns=$1; shift
	if [ -z "$ns" ] || [ "$ns" = host ]; then
		"$@" &
	else
		ip netns exec "$ns" "$@" &
	fi
	on_exit "kill $!"
}

# serve_http_at NS ADDR PORT NAME: serve_http bound to one address, NS may be "host".
serve_http_at() {
	mkdir -p "$TMP/www-$4"
	echo "$4" >"$TMP/www-$4/index.html"
	bg_in_ns "$1" busybox httpd -f -p "$2:$3" -h "$TMP/www-$4"
	retry 25 in_ns "$1" sh -c "busybox netstat -ltn | grep -q '$2:$3 '"
}

# udp_log ADDR PORT: the file where serve_udp ADDR PORT logs "SOURCE PAYLOAD" per datagram.
udp_log() { echo "$TMP/udp-$1-$2.log"; }

# serve_udp NS ADDR PORT [echo]: a UDP receiver (Debian's busybox nc has no -u; perl-base is
# Essential) that appends one line per datagram to $(udp_log ADDR PORT); with "echo" it also
# sends every datagram back to its sender.
serve_udp() {
	local log
	log=$(udp_log "$2" "$3")
	: >"$log"
	bg_in_ns "$1" perl -MIO::Socket::INET -MSocket=inet_ntoa,unpack_sockaddr_in -e '
		my $s = IO::Socket::INET->new(Proto => "udp", LocalAddr => $ARGV[0],
					      LocalPort => $ARGV[1]) or die "udp: $!\n";
		open(my $f, ">>", $ARGV[2]) or die "$ARGV[2]: $!\n";
		$f->autoflush(1);
		while (defined(my $peer = $s->recv(my $buf, 4096))) {
			my ($port, $addr) = unpack_sockaddr_in($peer);
			print $f inet_ntoa($addr), " ", $buf;
			$s->send($buf, 0, $peer) if $ARGV[3];
		}' "$2" "$3" "$log" "${4:+1}" 2>>"$TMP/udp.err"
	retry 25 in_ns "$1" sh -c "busybox netstat -lun | grep -q '$2:$3 '"
}

# udp_send NS ADDR PORT PAYLOAD: one datagram (bash's /dev/udp; the route picks the source).
udp_send() {
	in_ns "$1" bash -c 'printf "%s\n" "$3" >"/dev/udp/$1/$2"' _ "$2" "$3" "$4" 2>/dev/null
}

# udp_send_from NS SOURCE SPORT ADDR PORT PAYLOAD: one datagram from SOURCE:SPORT; prints the
# reply that arrives within 1 s, if any (an echo receiver answers with the payload).
udp_send_from() {
	in_ns "$1" perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(Proto => "udp", LocalAddr => $ARGV[0],
					      LocalPort => $ARGV[1], PeerAddr => $ARGV[2],
					      PeerPort => $ARGV[3]) or die "udp: $!\n";
		$s->send("$ARGV[4]\n");
		my $r = "";
		eval { local $SIG{ALRM} = sub { die "timeout\n" }; alarm 1; $s->recv($r, 4096); alarm 0 };
		print $r;' "$2" "$3" "$4" "$5" "$6" 2>>"$TMP/udp.err"
}

# udp_got ADDR PORT PAYLOAD: the receiver logged PAYLOAD within about 1.5 s.
udp_got() {
	local log i
	log=$(udp_log "$1" "$2")
	for ((i = 0; i < 15; i++)); do
		grep -qF -- " $3" "$log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# snmp NS PROTO FIELD: one counter of /proc/net/snmp inside NS, e.g. `snmp $NS Icmp InEchos`.
snmp() {
	in_ns "$1" awk -v p="$2:" -v f="$3" '
		$1 == p && !c { for (i = 2; i <= NF; i++) if ($i == f) c = i; next }
		$1 == p && c { print $c; exit }' /proc/net/snmp
}

# fw_rules: tiernet's legacy rules without counters, to compare before and after.
fw_rules() { iptables-legacy-save | grep -v '^#' | sed 's/\[[0-9:]*\]//'; }

# nat_maps [ip|ip6]: the published ports in tiernet's nf_tables nat maps, one per line and
# sorted, as "MAP KEY : VALUE" (e.g. "any tcp . 18080 : 10.80.1.2 . 80"); nothing without
# the table.
nat_maps() {
	local m
	for m in local bound any; do
		{ nft list map "${1:-ip}" tiernet "$m" 2>/dev/null | tr -d '\n\t'; echo; } |
			sed -n 's/.*elements = { *\([^}]*\)}.*/\1/p' | tr ',' '\n' |
			sed -e 's/^ *//' -e 's/ *$//' -e "s/^/$m /"
	done | sort
}
# has_map PORT [ip|ip6]: a mapping of host port PORT is in the nat maps.
has_map() { nat_maps "${2:-ip}" | grep -q " $1 : "; }

# udp_seen NS: datagrams that reached the namespace's UDP layer (delivered or port-unreachable).
udp_seen() {
	ip netns exec "$1" awk '/^Udp:/ { if (h) { print $2 + $3; exit } h = 1 }' /proc/net/snmp
}

# ---- Helpers for suites that run calls in parallel or across restarts (durability.sh).

# post PATH BODY: like `call`, but re-entrant (no shared file, no globals), so background jobs
# can use it, each on its own connection.  Prints "CODE BODY" on one line.  When the daemon
# did not answer, CODE is 000 and BODY is "curl-exit-N": N = 7 means the connection was
# refused (the request never reached a daemon), 52/56 that it was cut after the request was
# sent (it may have been executed), 28 a timeout (20 s).
post() {
	local data=$2 out rc
	[ -n "$data" ] && data="$data"$'\n'
	out=$(curl -sS --max-time 20 --unix-socket "$SOCK" -w '\n%{http_code}' -X POST \
		-H 'Host;' -H 'Content-Type:' -H 'User-Agent: Go-http-client/1.1' \
		-H 'Accept: application/vnd.docker.plugins.v1.2+json' \
		--data-binary "$data" "http://plugin$1" 2>/dev/null)
	rc=$?
	if [ $rc -ne 0 ] && [ "${out##*$'\n'}" = 000 ]; then
		echo "000 curl-exit-$rc"
	else
		printf '%s %s\n' "${out##*$'\n'}" "$(printf '%s' "$out" | sed '$d' | tr -d '\n')"
	fi
}

# plugin_kill9: SIGKILL to the daemon (a crash: no clean-up, the socket file stays behind).
plugin_kill9() {
	[ -n "$PLUGIN_PID" ] || return 0
	kill -KILL "$PLUGIN_PID" 2>/dev/null
	wait "$PLUGIN_PID" 2>/dev/null
	PLUGIN_PID=
}

# plugin_alive: the daemon process is still running.
plugin_alive() { [ -n "$PLUGIN_PID" ] && kill -0 "$PLUGIN_PID" 2>/dev/null; }

# tn_links: the names of every tiernet link (tn*) of this namespace, sorted, one a line.
tn_links() { ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^tn' | sort; }

# master_of IFACE: the bridge IFACE is enslaved to ("" when none).
master_of() { ip -o link show "$1" 2>/dev/null | grep -o 'master [^ ]*' | awk '{print $2}'; }

# fw_tiernet: tiernet's legacy rules (table headers and TIERNET lines), counters stripped.
fw_tiernet() { iptables-legacy-save | grep -v '^#' | sed 's/\[[0-9:]*\]//' | grep -E '^\*|TIERNET'; }

# fw_flush_tiernet: flushes every legacy TIERNET chain in every table, as an operator might.
fw_flush_tiernet() {
	local table chain
	for table in $(iptables-legacy-save | sed -n 's/^\*//p'); do
		for chain in $(iptables-legacy -t "$table" -S | awk '$1 == "-N" && $2 ~ /^TIERNET/ {print $2}'); do
			iptables-legacy -t "$table" -F "$chain"
		done
	done
}

# sanitizer_verdict: the end-of-suite check (in the cleanup stack, see above).
sanitizer_verdict() {
	local out line
	if out=$(sanitizer_report); then
		late_nok "no sanitizer report from any tiernet process of this suite"
		while IFS= read -r line; do
			late_note "$line"
		done < <(printf '%s\n' "$out" |
			grep -E '^== report|ERROR: |SUMMARY: |runtime error|^ +#[0-9]+ ' | head -60)
	else
		late_ok "no sanitizer report from any tiernet process of this suite (ASan, LSan, UBSan)"
	fi
}
# pec NET EP PORTMAP_JSON: ProgramExternalConnectivity with a portmap (pm PROTO PORT
# HOSTPORT [HOSTIP] makes one entry).
pec() {
	call /NetworkDriver.ProgramExternalConnectivity \
		"{\"NetworkID\":\"$1\",\"EndpointID\":\"$2\",\"Options\":{\"com.docker.network.endpoint.exposedports\":[],\"com.docker.network.portmap\":[$3]}}"
}
pm() { # PROTO PORT HOSTPORT [HOSTIP]
	printf '{"Proto":%d,"IP":"","Port":%d,"HostIP":"%s","HostPort":%d,"HostPortEnd":%d}' \
		"$1" "$2" "${4:-}" "$3" "$3"
}
