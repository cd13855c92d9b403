#!/usr/bin/env bash
# Integration: durability (issue 5).  `tiernet serve` in a private network namespace, driven
# through its socket as dockerd drives it; network namespaces play the containers.
#   1. kill -9 in the middle of 200 join/leave calls, restart: nothing lost, nothing orphaned,
#      rules and matrix unchanged, then a clean removal leaves nothing behind;
#   2. reconciliation of what changed while the daemon was down (SIGTERM);
#   3. corrupt and truncated state files;
#   4. idempotency of repeated calls, and dockerd's empty-body retries;
#   5. 24 parallel CreateEndpoint+Join, then 24 parallel Leave+DeleteEndpoint.
# Subnets: 10.86.0.0/16 (front 10.86.1.0/24, mid 10.86.2.0/24, back 10.86.3.0/24,
# extra 10.86.4.0/24).
# usage: durability.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers
T0=$SECONDS
# Restarts run the binary several times: run a private copy, so that a rebuild of the tree
# during the run cannot swap it (or make it briefly unexecutable) in between.
cp "$BIN" "$TMP/tiernet-under-test" && BIN=$TMP/tiernet-under-test

plugin_start "$BIN"
on_exit plugin_stop

FRONT=$(printf 'd1d1d1d1d1d1%052d' 0)
MID=$(printf 'd2d2d2d2d2d2%052d' 0)
BACK=$(printf 'd3d3d3d3d3d3%052d' 0)
EXTRA=$(printf 'd4d4d4d4d4d4%052d' 0)
NETS=("$FRONT" "$MID" "$BACK")
BR_FRONT=tnbd1d1d1d1d1d1 BR_MID=tnbd2d2d2d2d2d2
# A sandbox file that exists: the container behind it is "running" (reconcile keeps it).
SANDBOX=$TMP/sandbox-alive
: >"$SANDBOX"

# cep N: the endpoint ID of container N; each has its own first 12 hex (link names).
cep() { printf 'c0%010x%052d' "$1" 0; }

# plugin_up: restarts the daemon (same state dir) and waits until it answers: a stale socket
# file left by kill -9 would satisfy plugin_start's own wait.
plugin_up() {
	plugin_start "$BIN"
	retry 100 call_ok /NetworkDriver.GetCapabilities
}


# reply_ok "CODE BODY": a 200 without an Err.
reply_ok() { [[ "$1" == "200 "* && "$1" != *'"Err":"'?* ]]; }
both_ok() { reply_ok "$1" && reply_ok "$2"; }
# reply_err "CODE BODY": a non-200, or a 200 with a non-empty Err.
reply_err() { [[ "$1" != "200 "* || "$1" == *'"Err":"'?* ]]; }

networks_create() {
	local r1 r2 r3
	call /NetworkDriver.CreateNetwork "$(net_body $FRONT front 10.86.1.1/24 10.86.1.0/24)"
	r1="$CODE $BODY"
	call /NetworkDriver.CreateNetwork "$(net_body $MID mid 10.86.2.1/24 10.86.2.0/24)"
	r2="$CODE $BODY"
	call /NetworkDriver.CreateNetwork "$(net_body $BACK back 10.86.3.1/24 10.86.3.0/24)"
	r3="$CODE $BODY"
	check_eq "setup: three networks (front, mid, back)" "200 {} 200 {} 200 {}" "$r1 $r2 $r3"
}

# container NAME NET EP ADDR GW: CreateEndpoint, Join with the namespace file as SandboxKey
# (as dockerd's /var/run/docker/netns/ID), move the container end in, serve HTTP as NAME.
container() {
	local ns=tnit-$1-$$ r1 r2
	ip netns add "$ns"
	on_exit "ip netns del $ns"
	call /NetworkDriver.CreateEndpoint "$(ep_body $2 $3 $4/24)"
	r1="$CODE $BODY"
	call /NetworkDriver.Join "$(join_body $2 $3 /var/run/netns/$ns)"
	r2="$CODE $BODY"
	container_in "$ns" "tnc${3:0:12}" "$4/24" "$5"
	serve_http "$ns" 80 "$1"
	if reply_ok "$r1" && reply_ok "$r2" && ip netns exec "$ns" ip link show eth0 >/dev/null 2>&1
	then ok "setup: container $1 ($4) created, joined, serving"
	else nok "setup: container $1 ($4): $r1 / $r2"; fi
}

# container_gone NAME: the container stops: its processes end, its namespace is deleted, and
# with it the veth pair (the kernel deletes it asynchronously; callers wait where it matters).
container_gone() {
	local ns=tnit-$1-$$ pid
	for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	sleep 0.1
	ip netns del "$ns" 2>/dev/null
}

# container_rm NAME NET EP: dockerd's teardown (interface back, Leave, DeleteEndpoint), then
# the container's namespace goes.
container_rm() {
	local ns=tnit-$1-$$
	container_out "$ns" "tnc${3:0:12}" 2>/dev/null
	call /NetworkDriver.Leave "{\"NetworkID\":\"$2\",\"EndpointID\":\"$3\"}"
	call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$2\",\"EndpointID\":\"$3\"}"
	container_gone "$1"
}

# get_yes NS ADDR PORT: http_get for a connection that must work: up to 3 tries, so that a
# loaded machine cannot fail it (a "no" is never retried into a yes: see refute below).
get_yes() {
	local i r
	for ((i = 0; i < 3; i++)); do
		r=$(http_get "$@") && [ -n "$r" ] && break
	done
	printf '%s' "$r"
}

# matrix LABEL FRONT_NAME FRONT_ADDR: front -> mid yes; mid -> front no, proved by the front
# server answering the host (which may always open connections) at the same moment, and by
# the mid server answering front (its replies route).
matrix() {
	local f=tnit-$2-$$ m=tnit-mid-$$
	check_eq "$1: front -> mid (mid's server answers front)" mid "$(get_yes "$f" 10.86.2.2 80)"
	check_eq "$1: front's server answers an allowed client (the host)" "$2" \
		"$(get_yes host "$3" 80)"
	refute "$1: mid -> front is denied" http_get "$m" "$3" 80
}

# diag NAME EP: after a failed traffic check, what the links looked like, and whether it was
# only late (a second try 2 s later).
diag() {
	local h=tnv${2:0:12}
	{
		echo "host end: $(ip -br link show "$h" 2>&1) master=$(master_of "$h")"
		ip -n "tnit-$1-$$" -br addr show eth0 2>&1
		ip -n "tnit-$1-$$" route 2>&1
		echo "ping gateway: $(ping_once "tnit-$1-$$" "$(ip -n "tnit-$1-$$" route | awk '/default/ {print $3}')" && echo yes || echo no)"
		echo "second try: $(http_get "tnit-$1-$$" 10.86.2.2 80)"
	} | sed 's/^/#   /'
}

# state_ids: IDs of the endpoints in the state directory.
# guard_src4 / state_guard: "VETH ADDRESS" per endpoint, in the layer-2 guard's set and in
# the state files.
guard_src4() {
	nft list set bridge tiernet src4 2>/dev/null | tr -d '\n\t' |
		grep -o '"tn[a-z0-9]*" \. [0-9.]*' | sed 's/"//g; s/ \. / /' | sort
}
state_guard() {
	cat "$STATE"/endpoints/*.json 2>/dev/null | jq -r '"\(.host_if) \(.address | sub("/.*"; ""))"' | sort
}
state_ids() { ls "$STATE/endpoints" 2>/dev/null | sed -n 's/\.json$//p' | sort; }
# status_ids: IDs of the endpoints the running daemon holds (tiernet status --json).
status_ids() { "$BIN" status --json --socket "$SOCK" 2>/dev/null | jq -r '.endpoints[].id' | sort; }

# consistency LABEL: the kernel and the state agree:
#  - every endpoint state file has its host veth, on its network's bridge;
#  - every tiernet link belongs to a state entry, except the host end of a veth whose
#    container end is not in the host namespace (a running container whose state was lost:
#    kept on purpose) and a bridge that has such a veth as a port.
consistency() {
	local f id host bad="" owned l br p keep
	owned=$(for f in "$STATE"/networks/*.json; do [ -f "$f" ] && jq -r .bridge "$f"; done
		for f in "$STATE"/endpoints/*.json; do [ -f "$f" ] && jq -r '.host_if, .peer_if' "$f"; done)
	for f in "$STATE"/endpoints/*.json; do
		[ -f "$f" ] || continue
		id=$(basename "$f" .json)
		host=$(jq -r .host_if "$f" 2>/dev/null)
		br=$(jq -r .network "$f" 2>/dev/null)
		br=$(jq -r .bridge "$STATE/networks/$br.json" 2>/dev/null)
		[ "$(master_of "$host")" == "$br" ] || bad+=" state:${id:0:12}(veth ${host:-?} not on ${br:-?})"
	done
	for l in $(tn_links); do
		grep -qx -- "$l" <<<"$owned" && continue
		keep=
		case $l in
		tnv*) in_use "$l" && keep=1 ;;
		tnb*) for p in $(ip -o link show master "$l" | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
			in_use "$p" && keep=1
		      done ;;
		esac
		[ -n "$keep" ] || bad+=" orphan:$l"
	done
	check_eq "$1: links and state agree (no orphan link, no state entry without its veth)" "" "$bad"
}
# in_use HOSTVETH: a tnv veth whose container end is not in the host namespace.
in_use() { [[ $1 == tnv* ]] && ! ip link show "tnc${1#tnv}" >/dev/null 2>&1; }

# nothing_left LABEL: no tiernet link, no TIERNET chain, no state entry.
nothing_left() {
	check_eq "$1: no tiernet link remains" "" "$(tn_links | tr '\n' ' ')"
	refute "$1: no TIERNET chain or rule remains" sh -c "iptables-legacy-save | grep -q TIERNET"
	check_eq "$1: the state directories are empty (but for evidence moved aside)" "" \
		"$(find "$STATE/networks" "$STATE/endpoints" -mindepth 1 ! -name '*.corrupt' ! -name '*.orphaned' | tr '\n' ' ')"
}

# delete_all_known: Leave + DeleteEndpoint for every endpoint in the state, then DeleteNetwork
# for every network in the state.
delete_all_known() {
	local f id net
	for f in "$STATE"/endpoints/*.json; do
		[ -f "$f" ] || continue
		id=$(basename "$f" .json)
		net=$(jq -r .network "$f")
		call /NetworkDriver.Leave "{\"NetworkID\":\"$net\",\"EndpointID\":\"$id\"}"
		call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$net\",\"EndpointID\":\"$id\"}"
	done
	for f in "$STATE"/networks/*.json; do
		[ -f "$f" ] || continue
		call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$(basename "$f" .json)\"}"
	done
}

############################################################################################
echo "# 1. kill -9 in the middle of 200 join/leave calls"
networks_create
container front $FRONT "$(cep 1)" 10.86.1.2 10.86.1.1
container mid $MID "$(cep 2)" 10.86.2.2 10.86.2.1
matrix "before" front 10.86.1.2
RULES0=$(fw_tiernet)

# churn W LOG: 13 cycles on fresh endpoints (network rotates): CreateEndpoint + Join of the
# new one, Leave + DeleteEndpoint of the previous one, so one or two stay joined at any time.
# 50 calls; each reply is logged as "OP EP CODE BODY".
churn() {
	local w=$1 log=$2 i k net ep prev="" pnet=""
	for ((i = 0; i < 13; i++)); do
		k=$(((w + i) % 3))
		net=${NETS[$k]}
		ep=$(printf 'ca%02x%08x%052d' "$w" "$i" 0)
		echo "create $ep $(post /NetworkDriver.CreateEndpoint \
			"$(ep_body $net $ep 10.86.$((k + 1)).$((10 + w * 16 + i))/24)")" >>"$log"
		echo "join $ep $(post /NetworkDriver.Join "$(join_body $net $ep "$SANDBOX")")" >>"$log"
		if [ -n "$prev" ]; then
			echo "leave $prev $(post /NetworkDriver.Leave \
				"{\"NetworkID\":\"$pnet\",\"EndpointID\":\"$prev\"}")" >>"$log"
			echo "delete $prev $(post /NetworkDriver.DeleteEndpoint \
				"{\"NetworkID\":\"$pnet\",\"EndpointID\":\"$prev\"}")" >>"$log"
		fi
		prev=$ep pnet=$net
	done
}
WPIDS=()
for w in 0 1 2 3; do
	: >"$TMP/churn-$w.log"
	churn $w "$TMP/churn-$w.log" &
	WPIDS+=($!)
	on_exit "kill $!"
done
for ((i = 0; i < 1500; i++)); do
	[ "$(cat "$TMP"/churn-*.log | wc -l)" -ge 100 ] && break
	sleep 0.02
done
plugin_kill9
AT_KILL=$(cat "$TMP"/churn-*.log | wc -l)
wait "${WPIDS[@]}"
ALL=$(cat "$TMP"/churn-*.log)
echo "# killed after $AT_KILL of 200 calls; $(grep -c ' 200 ' <<<"$ALL") calls answered 200"
check "the kill landed in the middle (between 60 and 160 calls answered)" \
	test "$(grep -c ' 200 ' <<<"$ALL")" -ge 60 -a "$(grep -c ' 200 ' <<<"$ALL")" -le 160
check_eq "all 200 calls were made" 200 "$(wc -l <<<"$ALL")"

matrix "daemon down" front 10.86.1.2
check_same "daemon down: the rules stay in the kernel" "$RULES0" "$(fw_tiernet)"

plugin_up
check "restart after kill -9 (stale socket left behind) serves" call_ok /NetworkDriver.GetCapabilities
CREATED=$(awk '$1 == "create" && $3 == 200 && $4 ~ /^\{"Interface"/ {print $2}' <<<"$ALL" | sort -u)
DELETED=$(awk '$1 == "delete" && $3 == 200 && $4 == "{}" {print $2}' <<<"$ALL" | sort -u)
# A DeleteEndpoint cut by the kill after it was sent (curl: no reply, not "refused") may have
# been executed: such an endpoint may be gone or not, and consistency() judges it.
INFLIGHT=$(awk '$1 == "delete" && $3 == "000" && $4 != "curl-exit-7" {print $2}' <<<"$ALL" | sort -u)
LIVE=$(comm -23 <(echo "$CREATED") <(sort -u <<<"$DELETED"$'\n'"$INFLIGHT"))
missing=""
for ep in $LIVE; do
	[ -f "$STATE/endpoints/$ep.json" ] && ip link show "tnv${ep:0:12}" >/dev/null 2>&1 ||
		missing+=" ${ep:0:12}"
done
echo "# $(wc -w <<<"$LIVE") endpoints acknowledged by CreateEndpoint and not deleted;" \
	"$(wc -w <<<"$INFLIGHT") DeleteEndpoint cut in flight"
check_eq "no lost endpoint: each acknowledged, undeleted one has its state file and veth" "" "$missing"
for ep in $missing; do grep "^[a-z]* $ep" <<<"$ALL" | cut -c1-140 | sed 's/^/#   /'; done
check "and at least one such endpoint exists" test -n "$LIVE"
# Of those, the ones whose Join was acknowledged and whose Leave never reached the daemon are
# still joined on disk (no lost update).
JOINED=$(awk '$1 == "join" && $3 == 200 && $4 ~ /"SrcName"/ {print $2}' <<<"$ALL" | sort -u)
LEFT=$(awk '$1 == "leave" && ($3 == 200 || ($3 == "000" && $4 != "curl-exit-7")) {print $2}' <<<"$ALL" | sort -u)
unjoined=""
for ep in $(comm -12 <(echo "$LIVE") <(comm -23 <(echo "$JOINED") <(echo "$LEFT"))); do
	[ "$(jq -r '"\(.joined) \(.sandbox)"' "$STATE/endpoints/$ep.json" 2>/dev/null)" == "true $SANDBOX" ] ||
		unjoined+=" ${ep:0:12}"
done
echo "# $(comm -12 <(echo "$LIVE") <(comm -23 <(echo "$JOINED") <(echo "$LEFT")) | wc -w) of them joined, never left"
check_eq "and those still joined keep their Join (joined, SandboxKey) on disk" "" "$unjoined"
check_eq "the containers' endpoints survive too" "" \
	"$(for i in 1 2; do [ -f "$STATE/endpoints/$(cep $i).json" ] || echo "$i"; done)"
consistency "after kill -9 and restart"
check_same "the daemon holds exactly the endpoints of the state directory" "$(state_ids)" "$(status_ids)"
check_same "the layer-2 guard's src4 set holds exactly their veths and addresses (anti-spoofing)" \
	"$(state_guard)" "$(guard_src4)"
check_same "the same rules as before the kill (as a set)" "$(sort <<<"$RULES0")" "$(fw_tiernet | sort)"
check_same "rules identical to before the kill (in order too)" "$RULES0" "$(fw_tiernet)"
matrix "after restart" front 10.86.1.2
container front2 $FRONT "$(cep 3)" 10.86.1.3 10.86.1.1
r=$(get_yes tnit-front2-$$ 10.86.2.2 80)
check_eq "a new container on front reaches mid" mid "$r"
[ "$r" == mid ] || diag front2 "$(cep 3)"
call /NetworkDriver.CreateEndpoint "$(ep_body $BACK "$(cep 4)" 10.86.3.4/24)"
r="$CODE $BODY"
call /NetworkDriver.Join "$(join_body $BACK "$(cep 4)" "$SANDBOX")"
check "a new endpoint on back can be created and joined" both_ok "$r" "$CODE $BODY"
check_contains "and its Join names its interface" "$BODY" "tnc$(cep 4 | cut -c1-12)"

container_rm front $FRONT "$(cep 1)"
container_rm mid $MID "$(cep 2)"
container_rm front2 $FRONT "$(cep 3)"
delete_all_known
nothing_left "after deleting everything"

############################################################################################
echo "# 2. reconciliation of changes made while the daemon was down"
networks_create
container front $FRONT "$(cep 11)" 10.86.1.2 10.86.1.1
container mid $MID "$(cep 12)" 10.86.2.2 10.86.2.1
RULES1=$(fw_tiernet)
plugin_stop
check_eq "SIGTERM: the daemon exits 0" 0 "$PLUGIN_ET"
check_same "SIGTERM keeps the rules" "$RULES1" "$(fw_tiernet)"
matrix "down after SIGTERM" front 10.86.1.2
ORPHAN=0a1b2c3d4e5f
ip link del "$BR_MID"                      # mid's bridge, with the surviving container on it
container_gone front                       # front's namespace and veth pair disappear
# as tiernet makes them: the interface group of tier id 1 (a crash before its state was saved)
ip link add "tnv$ORPHAN" group 0x746e0001 type veth peer name "tnc$ORPHAN"
fw_flush_tiernet
refute "sabotage: mid's bridge is gone" ip link show "$BR_MID"
check "sabotage: the orphan pair exists" ip link show "tnv$ORPHAN"
refute "sabotage: the TIERNET chains are empty" sh -c "iptables-legacy-save | grep -q -- '-A TIERNET'"
plugin_up
check "restart serves" call_ok /NetworkDriver.GetCapabilities
check "mid's bridge is back and up" sh -c "ip -br link show $BR_MID | grep -q UP"
check "with its gateway address" sh -c "ip -br addr show $BR_MID | grep -qw 10.86.2.1/24"
check_eq "with its MAC (02:42 + gateway)" 02:42:0a:56:02:01 "$(mac_of $BR_MID)"
check_eq "the surviving container's veth is on the bridge again" "$BR_MID" \
	"$(master_of "tnv$(cep 12 | cut -c1-12)")"
if [ "$(master_of "tnv$(cep 12 | cut -c1-12)")" != "$BR_MID" ]; then
	echo "# (re-attached by hand so that the checks below test the rest of reconciliation)"
	ip link set "tnv$(cep 12 | cut -c1-12)" master "$BR_MID"
	sleep 0.5
fi
refute "the gone container's endpoint state is removed" test -e "$STATE/endpoints/$(cep 11).json"
refute "the gone container's veth is removed" ip link show "tnv$(cep 11 | cut -c1-12)"
refute "the orphan veth pair is removed" sh -c "ip link show tnv$ORPHAN || ip link show tnc$ORPHAN"
check_same "the rules are back (as a set)" "$(sort <<<"$RULES1")" "$(fw_tiernet | sort)"
check_same "the rules are back, identical (in order too)" "$RULES1" "$(fw_tiernet)"
consistency "after reconciliation"
check_eq "the surviving container (mid) answers the host" mid "$(get_yes host 10.86.2.2 80)"
container front3 $FRONT "$(cep 13)" 10.86.1.4 10.86.1.1
matrix "after reconciliation" front3 10.86.1.4

############################################################################################
echo "# 3. corrupt and truncated state files"
call /NetworkDriver.CreateNetwork "$(net_body $EXTRA back 10.86.4.1/24 10.86.4.0/24)"
check_eq "setup: a fourth network" '200 {}' "$CODE $BODY"
container extra $EXTRA "$(cep 16)" 10.86.4.2 10.86.4.1
call /NetworkDriver.CreateEndpoint "$(ep_body $BACK "$(cep 14)" 10.86.3.14/24)"
call /NetworkDriver.Join "$(join_body $BACK "$(cep 14)" "$SANDBOX")"
check "setup: an endpoint on back" reply_ok "$CODE $BODY"
plugin_stop
TRUNC=$STATE/endpoints/$(cep 14).json
GARB=$STATE/endpoints/$(cep 12).json       # the running mid container's endpoint
NETF=$STATE/networks/$EXTRA.json
truncate -s $(($(stat -c %s "$TRUNC") / 2)) "$TRUNC"
printf '\x00\xff\xfe garbage {{{ "id": \n\x01' >"$GARB"
jq -c '.prefix = "24"' "$NETF" >"$NETF.new" && mv "$NETF.new" "$NETF"
LOGLINES=$(wc -l <"$TMP/plugin.log")
plugin_up
check "the daemon starts and serves (GetCapabilities answers)" call_ok /NetworkDriver.GetCapabilities
NEWLOG=$(tail -n +$((LOGLINES + 1)) "$TMP/plugin.log")
for f in "$TRUNC" "$GARB" "$NETF"; do
	n=$(basename "$f")
	case $f in "$TRUNC") what="truncated endpoint file" ;; "$GARB") what="garbage endpoint file" ;;
	*) what="network file with a wrong field type" ;; esac
	check "$what ${n:0:12}…json is moved aside as NAME.corrupt" test -f "$f.corrupt" -a ! -e "$f"
	check "$what: the log says so at error level, naming the file" \
		grep -q "tiernet\[error\]: .*$f" <<<"$NEWLOG"
done
check "the daemon is still running" plugin_alive
check_eq "the running mid container keeps its connectivity (host -> mid)" mid \
	"$(get_yes host 10.86.2.2 80)"
check_eq "and front -> mid" mid "$(get_yes tnit-front3-$$ 10.86.2.2 80)"
check "the running container on the network whose file was corrupt keeps its veth" \
	ip link show "tnv$(cep 16 | cut -c1-12)"
check_eq "and still answers the host" extra "$(get_yes host 10.86.4.2 80)"
consistency "after loading corrupt files"
call /NetworkDriver.CreateEndpoint "$(ep_body $FRONT "$(cep 15)" 10.86.1.15/24)"
check "new endpoints can still be created" reply_ok "$CODE $BODY"
check "and the daemon survived all of it" plugin_alive

# The lost mid endpoint: its container stops (namespace and veth pair go); then tear down.
container_rm front3 $FRONT "$(cep 13)"
container_gone mid
container_gone extra
retry 25 sh -c "! ip link show tnv$(cep 12 | cut -c1-12) && ! ip link show tnv$(cep 16 | cut -c1-12)"
delete_all_known
plugin_stop
plugin_up      # the lost network's bridge, if kept for its container, is an orphan now
nothing_left "after deleting everything and a restart"
rm -f "$STATE"/*/*.corrupt "$STATE"/*/*.orphaned

############################################################################################
echo "# 4. idempotency and empty-body retries"
NETB=$(net_body $FRONT front 10.86.1.1/24 10.86.1.0/24)
EP=$(cep 21)
call /NetworkDriver.CreateNetwork "$NETB"; r1="$CODE $BODY"
call /NetworkDriver.CreateNetwork "$NETB"; r2="$CODE $BODY"
check_eq "CreateNetwork: the first succeeds" "200 {}" "$r1"
check_eq "CreateNetwork: the repeat answers like the first" "$r1" "$r2"
check_eq "CreateNetwork twice: one bridge" "$BR_FRONT" "$(tn_links | grep '^tnb' | tr '\n' ' ' | sed 's/ $//')"
check_eq "CreateNetwork twice: one state file" 1 "$(ls "$STATE/networks" | wc -l)"
call /NetworkDriver.CreateEndpoint "$(ep_body $FRONT $EP 10.86.1.21/24)"; r1="$CODE $BODY"
call /NetworkDriver.CreateEndpoint "$(ep_body $FRONT $EP 10.86.1.21/24)"; r2="$CODE $BODY"
check_eq "CreateEndpoint: the first succeeds with the MAC" \
	'200 {"Interface":{"MacAddress":"02:42:0a:56:01:15"}}' "$r1"
check_eq "CreateEndpoint: the repeat answers like the first" "$r1" "$r2"
check_eq "CreateEndpoint twice: one veth pair" "tnc${EP:0:12} tnv${EP:0:12}" \
	"$(tn_links | grep -v '^tnb' | tr '\n' ' ' | sed 's/ $//')"
check_eq "CreateEndpoint twice: one state file" 1 "$(ls "$STATE/endpoints" | wc -l)"
call /NetworkDriver.Join "$(join_body $FRONT $EP "$SANDBOX")"; r1="$CODE $BODY"
call /NetworkDriver.Join "$(join_body $FRONT $EP "$SANDBOX")"; r2="$CODE $BODY"
check_contains "Join: the first succeeds" "$r1" "200 {\"InterfaceName\":{\"SrcName\":\"tnc${EP:0:12}\""
check_eq "Join: the repeat answers like the first" "$r1" "$r2"

snapshot() {
	{
		tn_links
		ip -o addr | grep ' tn' | awk '{print $2, $4}' | sort
		ip -o link | grep ' tn' | grep -o 'master [^ ]*'
		fw_tiernet
		find "$STATE" -type f | sort
		cat "$STATE"/*/*.json
	} 2>&1
}
S1=$(snapshot)
for m in CreateNetwork CreateEndpoint Join Leave DeleteEndpoint DeleteNetwork; do
	r=$(post /NetworkDriver.$m "")
	check "an empty-body $m gets an Err" reply_err "$r"
done
check_same "and the empty-body calls changed nothing" "$S1" "$(snapshot)"
check "the daemon still serves" call_ok /NetworkDriver.GetCapabilities

call /NetworkDriver.Leave "{\"NetworkID\":\"$FRONT\",\"EndpointID\":\"$EP\"}"; r1="$CODE $BODY"
call /NetworkDriver.Leave "{\"NetworkID\":\"$FRONT\",\"EndpointID\":\"$EP\"}"; r2="$CODE $BODY"
check_eq "Leave: the first succeeds" "200 {}" "$r1"
check_eq "Leave: the repeat answers like the first" "$r1" "$r2"
check_eq "Leave twice: the endpoint is kept, not joined" "false" \
	"$(jq -r .joined "$STATE/endpoints/$EP.json" 2>/dev/null)"
check "Leave twice: its veth pair is kept" ip link show "tnv${EP:0:12}"
call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$FRONT\",\"EndpointID\":\"$EP\"}"; r1="$CODE $BODY"
call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$FRONT\",\"EndpointID\":\"$EP\"}"; r2="$CODE $BODY"
check_eq "DeleteEndpoint: the first succeeds" "200 {}" "$r1"
check_eq "DeleteEndpoint: the repeat answers like the first" "$r1" "$r2"
check_eq "DeleteEndpoint twice: no veth left, the bridge stays" "$BR_FRONT" "$(tn_links | tr '\n' ' ' | sed 's/ $//')"
check_eq "DeleteEndpoint twice: no endpoint state" "" "$(ls "$STATE/endpoints")"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$FRONT\"}"; r1="$CODE $BODY"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$FRONT\"}"; r2="$CODE $BODY"
check_eq "DeleteNetwork: the first succeeds" "200 {}" "$r1"
check_eq "DeleteNetwork: the repeat answers like the first" "$r1" "$r2"
nothing_left "after DeleteNetwork twice"

############################################################################################
echo "# 5. 24 parallel CreateEndpoint+Join, then 24 parallel Leave+DeleteEndpoint"
networks_create
pep() { printf 'cc%010x%052d' "$1" 0; }
PIDS=()
for ((j = 0; j < 24; j++)); do
	(
		k=$((j % 3)) ep=$(pep $j)
		a=$(post /NetworkDriver.CreateEndpoint "$(ep_body ${NETS[$k]} $ep 10.86.$((k + 1)).$((100 + j))/24)")
		b=$(post /NetworkDriver.Join "$(join_body ${NETS[$k]} $ep "$SANDBOX")")
		printf '%s\n%s\n' "$a" "$b" >"$TMP/par-$j"
	) &
	PIDS+=($!)
done
wait "${PIDS[@]}"
bad=""
for ((j = 0; j < 24; j++)); do
	k=$((j % 3)) ep=$(pep $j)
	a=$(sed -n 1p "$TMP/par-$j") b=$(sed -n 2p "$TMP/par-$j")
	reply_ok "$a" && reply_ok "$b" || bad+=" $j:reply($a|$b)"
	# no cross-talk between parallel requests: each reply is about its own endpoint
	[ "$a" == "200 {\"Interface\":{\"MacAddress\":\"$(printf '02:42:0a:56:%02x:%02x' $((k + 1)) $((100 + j)))\"}}" ] ||
		bad+=" $j:mac"
	[[ "$b" == *"\"SrcName\":\"tnc${ep:0:12}\""*"\"Gateway\":\"10.86.$((k + 1)).1\""* ]] || bad+=" $j:join"
	[ "$(master_of "tnv${ep:0:12}")" == "tnb${NETS[$k]:0:12}" ] || bad+=" $j:veth"
	ip link show "tnc${ep:0:12}" >/dev/null 2>&1 || bad+=" $j:peer"
	[ "$(jq -r '[.id, .network, .joined] | join(" ")' "$STATE/endpoints/$ep.json" 2>/dev/null)" \
		== "$ep ${NETS[$k]} true" ] || bad+=" $j:state"
done
check_eq "all 24 succeed with their own MAC and interface; each has its veth on its bridge, its peer and a joined state file" "" "$bad"
check_eq "exactly 24 veth pairs (none duplicated)" "24 24" \
	"$(tn_links | grep -c '^tnv') $(tn_links | grep -c '^tnc')"
check_eq "exactly 24 endpoint state files" 24 "$(state_ids | wc -l)"
check_eq "the daemon holds exactly those 24" "$(for j in $(seq 0 23); do pep $j; echo; done | sort)" \
	"$(status_ids)"
plugin_stop
plugin_up
check_eq "after a restart it still holds the 24 (nothing lost on disk)" \
	"$(for j in $(seq 0 23); do pep $j; echo; done | sort)" "$(status_ids)"
PIDS=()
for ((j = 0; j < 24; j++)); do
	(
		k=$((j % 3)) ep=$(pep $j)
		a=$(post /NetworkDriver.Leave "{\"NetworkID\":\"${NETS[$k]}\",\"EndpointID\":\"$ep\"}")
		b=$(post /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"${NETS[$k]}\",\"EndpointID\":\"$ep\"}")
		printf '%s\n%s\n' "$a" "$b" >"$TMP/par-$j"
	) &
	PIDS+=($!)
done
wait "${PIDS[@]}"
check_eq "all 24 Leave and DeleteEndpoint succeed" "48" "$(cat "$TMP"/par-* | grep -cx '200 {}')"
check_eq "no veth is left" "" "$(tn_links | grep -v '^tnb' | tr '\n' ' ')"
check_eq "no endpoint state is left" "" "$(state_ids)"
check_eq "the daemon holds no endpoint" "" "$(status_ids)"
for n in "${NETS[@]}"; do call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$n\"}"; done
nothing_left "after the parallel teardown"

############################################################################################
check "the daemon is still running at the end" plugin_alive
plugin_stop
check_eq "final SIGTERM: the daemon exits 0" 0 "$PLUGIN_ET"
if sanitizer_report >/dev/null; then
	nok "no sanitizer report in the daemon's log"
	sanitizer_report | head -20 | sed 's/^/#   /'
else
	ok "no sanitizer report in the daemon's log"
fi
echo "# run time: $((SECONDS - T0)) s"
run_cleanup
summary
