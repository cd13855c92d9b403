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
