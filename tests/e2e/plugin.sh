#!/usr/bin/env bash
# End to end: tiernet as a managed (v2) plugin (PROTOCOL.md §9).  `make plugin` assembles the
# rootfs offline and creates the plugin under a test name; enable; `docker network create -d
# NAME:latest -o tier=front`; the matrix by real traffic; the daemon is PID 1 of its own PID
# namespace with exactly CAP_NET_ADMIN and CAP_NET_RAW, handles SIGTERM (dockerd restarts
# it, containers keep working, the state on the bind mount is reloaded); disable is clean;
# rm; nothing left.  The plugin's state and config mounts point into this test's directory.
# Subnets: 10.85.0.0/16.   usage: plugin.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/docker-lib.sh" # root, BIN, a real dockerd's helpers
ROOT=$(cd "$HERE/../.." && pwd)

NAME=tnplugtest:latest
P=tne2e-plug
PDIR=$TMP/plugin
BRIDGES=
trap run_cleanup EXIT
cleanup_docker() {
	docker rm -f $P-f1 $P-f2 $P-m1 $P-m2 >/dev/null 2>&1
	docker network rm $P-front $P-mid $P-ops >/dev/null 2>&1
	docker plugin disable -f $NAME >/dev/null 2>&1
	docker plugin rm -f $NAME >/dev/null 2>&1
}
on_exit cleanup_docker
cleanup_docker
ensure_image

# plugin_pid: the host PID of the plugin's process (the child of its containerd shim).
plugin_pid() {
	local id shim
	id=$(docker plugin inspect -f '{{.Id}}' $NAME 2>/dev/null) || return 1
	shim=$(pgrep -f -- "-id $id " | head -1)
	[ -n "$shim" ] && pgrep -P "$shim" | head -1
}
# caps_of PID FIELD: the distinct values of FIELD over every thread of PID.
caps_of() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk -v f="$2:" '$1 == f { print $2 }' | sort -u |
		tr '\n' ' ' | sed 's/ $//'
}
# Only this suite's objects: its bridges and subnets.  The global nothing_left check runs
# too unless another tiernet driver has networks right now (suites of other engineers).
mine_left() {
	local br
	for br in $BRIDGES; do ip link show "$br" >/dev/null 2>&1 && return 0; done
	iptables-legacy-save 2>/dev/null | grep -q '10\.85\.' && return 0
	return 1
}
others_live() {
	docker network ls --format '{{.Driver}}' | grep -v "^$NAME\$" | grep -q '^tn'
}

echo "# make plugin"
mkdir -p "$TMP/state" "$TMP/etc"
chmod 0700 "$TMP/state"
cp "$CONF" "$TMP/etc/tiernet.conf"
echo "tier ops            # not in the default policy: proves the config mount is read" \
	>>"$TMP/etc/tiernet.conf"
OUT=$(PLUGIN_MKDIRS=0 make -s -C "$ROOT" plugin PLUGIN_NAME=$NAME PLUGIN_DIR="$PDIR" \
	PLUGIN_BIN="$BIN" 2>&1)
check "make plugin PLUGIN_NAME=$NAME creates the plugin" docker plugin inspect $NAME
[ "$T_FAIL" -eq 0 ] || echo "$OUT" | sed 's/^/#   make: /'
check "the rootfs has the binary" test -x "$PDIR/rootfs/tiernet"
LIBS=$(ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort)
check_eq "the rootfs has exactly the libraries ldd names and their loader, no other file" \
	"$(printf '%s\n' $LIBS /.tiernet-plugin /tiernet | sort)" \
	"$(cd "$PDIR/rootfs" && find . -type f | sed 's/^\.//' | sort)"
check "the binary runs in the rootfs alone" chroot "$PDIR/rootfs" /tiernet version
check_eq "capabilities: CAP_NET_ADMIN and CAP_NET_RAW only" '["CAP_NET_ADMIN","CAP_NET_RAW"]' \
	"$(docker plugin inspect -f '{{json .Config.Linux.Capabilities}}' $NAME)"
check_eq "host network, socket tiernet.sock, network driver interface" \
	'host tiernet.sock [docker.networkdriver/1.0]' \
	"$(docker plugin inspect -f '{{.Config.Network.Type}} {{.Config.Interface.Socket}} {{.Config.Interface.Types}}' $NAME)"
check "docker plugin set: state and config mounts, log level" docker plugin set $NAME \
	state.source="$TMP/state" config.source="$TMP/etc" TIERNET_LOG_LEVEL=debug

echo "# enable"
check "docker plugin enable" docker plugin enable $NAME
retry 50 plugin_pid
PID=$(plugin_pid)
check "the plugin process runs" test -n "$PID"
check_eq "it is PID 1 of its own PID namespace" 1 "$(awk '/^NSpid:/ { print $NF }' /proc/$PID/status)"
check_eq "every thread holds exactly NET_ADMIN|NET_RAW (CapEff)" 0000000000003000 "$(caps_of $PID CapEff)"
check_eq "... CapPrm" 0000000000003000 "$(caps_of $PID CapPrm)"
check_eq "... CapBnd (Docker's default set is dropped)" 0000000000003000 "$(caps_of $PID CapBnd)"
check_eq "... no_new_privs" 1 "$(caps_of $PID NoNewPrivs)"
check "its /var/lib/tiernet is this test's state directory (docker plugin set state.source)" \
	grep -q " $TMP/state /var/lib/tiernet " /proc/$PID/mountinfo

echo "# networks and the matrix"
OUT=$(docker network create -d tnplugtest -o tier=front --subnet 10.85.9.0/24 $P-bad 2>&1)
check_contains "-d without the tag is not resolved (PROTOCOL §9)" "$OUT" "could not resolve driver"
docker network rm $P-bad >/dev/null 2>&1
check "docker network create -d $NAME -o tier=front" \
	docker network create -d $NAME -o tier=front --subnet 10.85.1.0/24 $P-front
check "docker network create -d $NAME -o tier=mid" \
	docker network create -d $NAME -o tier=mid --subnet 10.85.2.0/24 $P-mid
check "a tier only the mounted policy declares (docker plugin set config.source)" \
	docker network create -d $NAME -o tier=ops --subnet 10.85.3.0/24 $P-ops
docker network rm $P-ops >/dev/null 2>&1
check_eq "docker shows the driver" "$NAME" "$(docker network inspect -f '{{.Driver}}' $P-front)"
BRIDGES="tnb$(docker network inspect -f '{{.Id}}' $P-front | cut -c1-12) tnb$(docker network inspect -f '{{.Id}}' $P-mid | cut -c1-12)"
check "the bridges exist in the host namespace (network type host)" \
	sh -c "for b in $BRIDGES; do ip link show \$b >/dev/null || exit 1; done"
check_eq "the state of both networks is written through the mount" 2 \
	"$(ls "$TMP/state/networks" 2>/dev/null | grep -c '\.json$')"
ID=$(docker plugin inspect -f '{{.Id}}' $NAME)
OUT=$("$BIN" status --socket "/run/docker/plugins/$ID/tiernet.sock" 2>&1)
check_contains "tiernet status answers through the plugin's socket" "$OUT" "${BRIDGES%% *}"
OUT=$(PLUGIN_MKDIRS=0 make -s -C "$ROOT" plugin PLUGIN_NAME=$NAME PLUGIN_DIR="$TMP/plugin2" \
	PLUGIN_BIN="$BIN" 2>&1)
check_contains "make plugin refuses to replace a plugin in use, saying why" "$OUT" \
	"plugin $NAME is enabled and in use by the networks"
check "... and the plugin stays enabled" \
	sh -c "[ \"\$($DOCKER plugin inspect -f '{{.Enabled}}' $NAME)\" = true ]"

if nft list chain ip filter DOCKER-USER >/dev/null 2>&1; then
	check "the pass-through is in Docker's nft DOCKER-USER chain (libnftables after the capability drop)" \
		sh -c "nft list chain ip filter DOCKER-USER | grep -q tiernet"
else
	skip "the nft pass-through: Docker's rules are not in nf_tables on this host"
fi
check "run f1 (front)" run_server $P-f1 $P-front --ip 10.85.1.10
check "run f2 (front)" run_server $P-f2 $P-front --ip 10.85.1.11
check "run m1 (mid)" run_server $P-m1 $P-mid --ip 10.85.2.10
check_eq "front -> mid: f2 reaches m1" $P-m1 "$(http_get $P-f2 10.85.2.10)"
check_eq "front -> front: f2 reaches f1 (f1 answers)" $P-f1 "$(http_get $P-f2 10.85.1.10)"
check_eq "mid -> front: m1 does not reach f1 (which answers f2 above)" "" \
	"$(http_get $P-m1 10.85.1.10)"
check "front -> front: f2 pings f1 (f1 answers ping)" docker exec $P-f2 ping -c1 -W2 10.85.1.10
check "mid -> front: no ping either" sh -c "! $DOCKER exec $P-m1 ping -c1 -W2 10.85.1.10"

echo "# SIGTERM to PID 1 of the plugin"
kill -TERM "$PID"
retry 25 sh -c "! kill -0 $PID"
refute "the plugin process (PID 1) ends on SIGTERM" \
	kill -0 "$PID"
check_eq "containers keep working while it is down: f2 reaches m1" $P-m1 \
	"$(http_get $P-f2 10.85.2.10)"
restarted() { local p; p=$(plugin_pid); [ -n "$p" ] && [ "$p" != "$PID" ]; }
retry 75 restarted
PID2=$(plugin_pid)
check "dockerd restarts it" sh -c "[ -n '$PID2' ] && [ '$PID2' != '$PID' ]"
retry 50 test -S "/run/docker/plugins/$(docker plugin inspect -f '{{.Id}}' $NAME)/tiernet.sock"
check "docker run on the restarted plugin (state reloaded from the mount)" \
	run_server $P-m2 $P-mid --ip 10.85.2.11
check_eq "front -> mid still allowed" $P-m2 "$(http_get $P-f2 10.85.2.11)"
check_eq "mid -> front still denied" "" "$(http_get $P-m1 10.85.1.10)"
check_eq "and still allowed within front" $P-f1 "$(http_get $P-f2 10.85.1.10)"
check_eq "the restarted process holds NET_ADMIN|NET_RAW only" 0000000000003000 \
	"$(caps_of "$PID2" CapEff)"

echo "# teardown"
check "docker rm -f" docker rm -f $P-f1 $P-f2 $P-m1 $P-m2
check "docker network rm" docker network rm $P-front $P-mid
T0=$(date +%s%N)
docker plugin disable $NAME >/dev/null 2>&1
RC=$?
MS=$(( ($(date +%s%N) - T0) / 1000000 ))
check_eq "docker plugin disable" 0 "$RC"
check "disable is prompt (${MS} ms: SIGTERM handled, no 10 s kill timeout)" \
	test "$RC" -eq 0 -a "$MS" -lt 5000
check "the process is gone" sh -c "[ -n '$PID2' ] && ! kill -0 '$PID2'"
check "docker plugin rm" docker plugin rm $NAME
refute "the plugin is gone" docker plugin inspect $NAME
refute "no bridge and no rule of this suite remains" mine_left
if others_live; then
	skip "nothing tiernet remains: other tiernet drivers have networks now"
else
	check "nothing tiernet remains (links, legacy rules, nft pass-through)" nothing_left
fi

if [ "$T_FAIL" -ne 0 ]; then
	echo "# the plugin's log (dockerd's log, plugin=ID lines) has the daemon's messages"
fi
run_cleanup
summary
