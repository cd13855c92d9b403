# Helpers to drive `tiernet serve` through its socket exactly as dockerd does (PROTOCOL.md
# §1.1: POST, an empty Host header, no Content-Type, compact JSON plus a newline), and to
# play dockerd's part of moving interfaces into "containers" (network namespaces).
TMP=$(mktemp -d /tmp/tiernet-it.XXXXXX)
SOCK=$TMP/tiernet.sock
STATE=$TMP/state
CONF=$TMP/tiernet.conf
PLUGIN_PID=
on_exit "rm -rf $TMP"

cat >"$CONF" <<'POLICY'
tier front
tier mid
tier back internal
allow world -> front
allow front -> mid
allow mid   -> back
POLICY
chmod 0644 "$CONF"

# plugin_start BINARY [EXTRA ARGS]: starts the daemon and waits for its socket.
plugin_start() {
	local bin=$1; shift
	"$bin" serve --socket "$SOCK" --state-dir "$STATE" --config "$CONF" --log-level debug \
		"$@" >>"$TMP/plugin.log" 2>&1 &
	PLUGIN_PID=$!
	retry 50 test -S "$SOCK" || { echo "# plugin did not start:"; sed 's/^/#   /' "$TMP/plugin.log"; }
}

plugin_stop() {
	[ -n "$PLUGIN_PID" ] || return 0
	kill -TERM "$PLUGIN_PID" 2>/dev/null
	wait "$PLUGIN_PID" 2>/dev/null
	PLUGIN_ET=$?
	PLUGIN_PID=
}

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
