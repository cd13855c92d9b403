#!/usr/bin/env bash
# Soak (issue 12): several clients make random calls against one daemon while it is reloaded
# (SIGHUP, the policy file switching between two policies) and killed (kill -9), for
# SOAK_SECONDS seconds (default 60).  After every restart, with the clients paused:
#   - kernel and state agree: every network's bridge is up with its gateway address, every
#     endpoint's veth is on its network's bridge, every tiernet link belongs to a state entry,
#     a user-named bridge exists exactly when its network's state does, no temporary file;
#   - state and daemon agree: `tiernet status --json` holds exactly the state's networks and
#     endpoints, the firewall is not MIXED;
#   - no acknowledged change is lost: an endpoint whose last call was acknowledged exists
#     (create, join, publish) or is gone (delete) as that call left it;
#   - rules: the enforced matrix (status --json, read back from the kernel) is the one of the
#     policy file in force, and a clean restart, which computes everything from the state
#     files alone, leaves the same rules in the kernel.
# At the start and the end, real traffic proves the matrix: front -> mid yes, mid -> front no
# with the host -> front control.  Every client call goes through the daemon's socket; the
# only traffic goes to the two containers this suite creates.
# Subnets: 10.92.0.0/16 (front 10.92.1.0/24, mid 10.92.2.0/24, back 10.92.3.0/24, a network
# created and deleted by the clients 10.92.4.0/24).
# usage: soak.sh TIERNET_BINARY   SOAK_SECONDS=N (default 60), SOAK_SEED=N repeats the choices
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers
T0=$SECONDS
SOAK_SECONDS=${SOAK_SECONDS:-60}
SEED=${SOAK_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
echo "# soak: $SOAK_SECONDS s, SOAK_SEED=$SEED"
# Restarts run the binary many times: a private copy, so a rebuild cannot swap it.
cp "$BIN" "$TMP/tiernet-under-test" && BIN=$TMP/tiernet-under-test
SANDBOX=$TMP/sandbox-alive # a SandboxKey that exists: reconciliation keeps the endpoint
: >"$SANDBOX"

# The two policies SIGHUP switches between: A is the default, B also opens front -> back.
POL_A=$TMP/policy-a POL_B=$TMP/policy-b
write_default_policy "$POL_A"
{ cat "$POL_A"; echo "allow front -> back tcp/5432"; } >"$POL_B"
chmod 0644 "$POL_B"
cp "$POL_A" "$CONF"

nid() { printf 'e%d%062d' "$1" 0; } # network N (1..4)
FRONT=$(nid 1) MID=$(nid 2) BACK=$(nid 3) CHURN=$(nid 4)
TIERS=(x front mid back front)
CHURN_BR=tnsoak4 # a user-named bridge (com.docker.network.bridge.name)
# eid W S: the endpoint of client W's slot S; it lives on network 1 + S % 3.
eid() { printf 'f%x%02x%060d' "$1" "$2" 0; }
WORKERS=3 SLOTS=8

plugin_up() {
	plugin_start "$BIN"
	retry 100 call_ok /NetworkDriver.GetCapabilities
}
plugin_up
on_exit plugin_stop

reply_ok() { [[ "$1" == "200 "* && "$1" != *'"Err":"'?* ]]; }
status_json() { "$BIN" status --json --socket "$SOCK" 2>/dev/null; }

# ---- setup: three networks, a container on front and one on mid, each serving HTTP.
for n in 1 2 3; do
	call /NetworkDriver.CreateNetwork "$(net_body "$(nid $n)" "${TIERS[$n]}" 10.92.$n.1/24 10.92.$n.0/24)"
	check_eq "setup: network ${TIERS[$n]} (10.92.$n.0/24)" "200 {}" "$CODE $BODY"
done
CT_F=$(printf 'c1%062d' 0) CT_M=$(printf 'c2%062d' 0)
ctr() { # NAME NET EP ADDR GW
	local ns=tnsk-$1-$$
	ip netns add "$ns"
	on_exit "ip netns del $ns"
	call /NetworkDriver.CreateEndpoint "$(ep_body "$2" "$3" "$4/24")"
	call /NetworkDriver.Join "$(join_body "$2" "$3" "/var/run/netns/$ns")"
	container_in "$ns" "tnc${3:0:12}" "$4/24" "$5"
	serve_http "$ns" 80 "$1"
}
ctr front "$FRONT" "$CT_F" 10.92.1.2 10.92.1.1
ctr mid "$MID" "$CT_M" 10.92.2.2 10.92.2.1
traffic() {
	local i r=""
	for ((i = 0; i < 3; i++)); do r=$(http_get "tnsk-front-$$" 10.92.2.2 80) && [ "$r" = mid ] && break; done
	check_eq "$1: front -> mid by traffic" mid "$r"
	r=""
	for ((i = 0; i < 3; i++)); do r=$(http_get host 10.92.1.2 80) && [ "$r" = front ] && break; done
	check_eq "$1: control: front's server answers the host" front "$r"
	refute "$1: mid -> front is denied by traffic" http_get "tnsk-mid-$$" 10.92.1.2 80
}
traffic "start"

# The matrix each policy enforces over these networks (front, mid and back always exist; the
# clients' network is front too, so the tiers present never change).
matrix() { status_json | jq -S -c '.matrix'; }
REF_A=$(matrix)
cp "$POL_B" "$CONF"
plugin_hup
REF_B=$(matrix)
cp "$POL_A" "$CONF"
plugin_hup
check "setup: the two policies enforce different matrices" test "$REF_A" != "$REF_B" -a -n "$REF_A"
check_eq "setup: back to policy A" "$REF_A" "$(matrix)"

# ---- the clients: each makes random calls on its own slots (and on the clients' network).
pm() { printf '{"Proto":6,"IP":"","Port":80,"HostIP":"","HostPort":%d,"HostPortEnd":%d}' "$1" "$1"; }
client() {
	local w=$1 stop=$2 log=$3 s k ep net op body
	RANDOM=$((SEED + w * 7919))
	while [ ! -e "$stop" ]; do
		s=$((RANDOM % SLOTS)) k=$((1 + s % 3))
		ep=$(eid "$w" "$s") net=$(nid $k)
		body="{\"NetworkID\":\"$net\",\"EndpointID\":\"$ep\"}"
		case $((RANDOM % 10)) in
		0 | 1) op=create
		       body=$(ep_body "$net" "$ep" "10.92.$k.$((16 + w * 16 + s))/24") ;;
		2 | 3) op=join body=$(join_body "$net" "$ep" "$SANDBOX") ;;
		4) op=leave ;;
		5) op=publish
		   body="{\"NetworkID\":\"$net\",\"EndpointID\":\"$ep\",\"Options\":{\"com.docker.network.endpoint.exposedports\":[],\"com.docker.network.portmap\":[$(pm $((18000 + w * 100 + s)))]}}" ;;
		6) op=revoke ;;
		7 | 8) op=delete ;;
		9) if ((RANDOM % 2)); then
			op=netcreate ep=- body=$(net_body "$CHURN" front 10.92.4.1/24 10.92.4.0/24 \
				"\"com.docker.network.bridge.name\":\"$CHURN_BR\"")
		   else
			op=netdelete ep=- body="{\"NetworkID\":\"$CHURN\"}"
		   fi ;;
		esac
		case $op in
		create) path=CreateEndpoint ;; join) path=Join ;; leave) path=Leave ;;
		publish) path=ProgramExternalConnectivity ;; revoke) path=RevokeExternalConnectivity ;;
		delete) path=DeleteEndpoint ;; netcreate) path=CreateNetwork ;;
		netdelete) path=DeleteNetwork ;;
		esac
		echo "$op $ep $(post "/NetworkDriver.$path" "$body")" >>"$log"
	done
}

# ---- the checks made after every restart, the clients paused.
links_of_state() {
	local f
	for f in "$STATE"/networks/*.json; do [ -f "$f" ] && jq -r .bridge "$f"; done
	for f in "$STATE"/endpoints/*.json; do [ -f "$f" ] && jq -r '.host_if, .peer_if' "$f"; done
}
agree() {
	local f id host br gw bad="" l owned st
	owned=$(links_of_state)
	for f in "$STATE"/networks/*.json; do
		[ -f "$f" ] || continue
		br=$(jq -r .bridge "$f")
		ip -br link show "$br" 2>/dev/null | grep -qw UP || bad+=" bridge-down:$br"
		gw=$(status_json | jq -r --arg id "$(basename "$f" .json)" \
			'.networks[] | select(.id == $id) | "\(.gateway)/\(.subnet | split("/")[1])"')
		ip -br addr show "$br" 2>/dev/null | grep -qwF "$gw" || bad+=" no-gateway:$br($gw)"
	done
	for f in "$STATE"/endpoints/*.json; do
		[ -f "$f" ] || continue
		id=$(basename "$f" .json) host=$(jq -r .host_if "$f")
		br=$(jq -r .bridge "$STATE/networks/$(jq -r .network "$f").json" 2>/dev/null)
		[ "$(master_of "$host")" == "$br" ] || bad+=" ep:${id:0:12}(${host:-?} not on ${br:-?})"
	done
	for l in $(tn_links); do grep -qx -- "$l" <<<"$owned" || bad+=" orphan:$l"; done
	check_eq "$1: kernel and state agree (bridges up with their gateway, veths on them, no orphan link)" "" "$bad"
	if [ -f "$STATE/networks/$CHURN.json" ]; then st=yes; else st=no; fi
	check_eq "$1: the user-named bridge exists exactly when its network's state does" "$st" \
		"$(ip link show "$CHURN_BR" >/dev/null 2>&1 && echo yes || echo no)"
	check_eq "$1: no temporary file in the state directory" "" \
		"$(find "$STATE" -name '*.tmp*' | tr '\n' ' ')"
	check_same "$1: the daemon holds exactly the state's networks and endpoints" \
		"$(cd "$STATE" && ls networks endpoints 2>/dev/null | grep json | sed 's/\.json$//' | sort)" \
		"$(status_json | jq -r '.networks[].id, .endpoints[].id' | sort)"
	check "$1: the firewall is not MIXED" sh -c "! '$BIN' status --json --socket '$SOCK' | jq -r .firewall | grep -q MIXED"
}
# acknowledged LABEL: the last call that reached the daemon for each slot, if acknowledged,
# shows in the state; a call cut in flight (curl 52/56/28) may or may not have been applied.
acknowledged() {
	local lost="" ep op code
	while read -r ep op code; do
		# (Leave and Revoke of an unknown endpoint answer {} as dockerd's retries need: they
		# say nothing about whether it exists.)
		case "$op:$code" in
		delete:ok) [ -f "$STATE/endpoints/$ep.json" ] && lost+=" deleted-but-there:${ep:0:12}" ;;
		create:ok | join:ok | publish:ok)
			[ -f "$STATE/endpoints/$ep.json" ] || lost+=" $op-but-gone:${ep:0:12}" ;;
		esac
	done < <(cat "$TMP"/client-*.log | awk '$2 != "-" && $4 != "curl-exit-7" {
		ok = ($3 == 200 && $0 !~ /"Err":"./) ? "ok" : "unknown"
		last[$2] = $1 " " ok } END { for (e in last) print e, last[e] }')
	check_eq "$1: no acknowledged change lost (each endpoint as its last answered call left it)" "" "$lost"
}
policy_now() { if cmp -s "$CONF" "$POL_A"; then echo A; else echo B; fi; }
rules_agree() {
	local m want r1
	m=$(matrix)
	if [ "$(policy_now)" = A ]; then want=$REF_A; else want=$REF_B; fi
	check_same "$1: the enforced matrix is policy $(policy_now)'s" "$want" "$m"
	r1=$(fw_tiernet)
	plugin_stop
	plugin_up
	check_same "$1: a clean restart (everything from the state files) leaves the same rules" \
		"$r1" "$(fw_tiernet)"
}

# ---- the rounds: clients run, SIGHUPs land, then kill -9 in the middle of the calls.
END=$((SECONDS + SOAK_SECONDS)) ROUND=0 HUPS=0 CALLS=0
for ((w = 0; w < WORKERS; w++)); do : >"$TMP/client-$w.log"; done
on_exit "touch $TMP/stop" # the clients stop by themselves (no PID that could be reused)
while [ $SECONDS -lt $END ]; do
	ROUND=$((ROUND + 1))
	rm -f "$TMP/stop"
	PIDS=()
	for ((w = 0; w < WORKERS; w++)); do
		client "$w" "$TMP/stop" "$TMP/client-$w.log" &
		PIDS+=($!)
	done
	for ((i = 0; i < 2 + RANDOM % 3; i++)); do
		sleep "0.$((2 + RANDOM % 7))"
		if ((RANDOM % 2)); then
			if [ "$(policy_now)" = A ]; then cp "$POL_B" "$CONF"; else cp "$POL_A" "$CONF"; fi
			kill -HUP "$PLUGIN_PID" && HUPS=$((HUPS + 1))
		fi
	done
	plugin_kill9
	touch "$TMP/stop"
	wait "${PIDS[@]}"
	plugin_up
	agree "round $ROUND (kill -9)"
	acknowledged "round $ROUND"
	rules_agree "round $ROUND"
done
CALLS=$(cat "$TMP"/client-*.log | wc -l)
echo "# $ROUND rounds (kill -9 and restart each), $HUPS SIGHUPs, $CALLS calls:" \
	"$(cat "$TMP"/client-*.log | awk '{ n[$1 " " ($3 == 200 && $0 !~ /"Err":"./ ? "ok" : $3 == "000" ? $4 : "Err")]++ }
		END { for (k in n) printf "%s=%d ", k, n[k] }')"
check "at least 3 rounds" test "$ROUND" -ge 3
for op in create join delete; do # what the refusals said (one of each kind)
	grep -h "^$op .* 200 {\"Err\"" "$TMP"/client-*.log | cut -d' ' -f4- | sed 's/[0-9a-f]\{12\}/ID/g' |
		sort | uniq -c | sort -rn | head -3 | sed "s/^/#   $op: /"
done
check "calls were answered in every category" \
	sh -c "grep -q '^create .* 200 {\"Interface' $TMP/client-*.log && grep -q '^delete .* 200 {}' $TMP/client-*.log"
plugin_alive && ok "the daemon still runs" || nok "the daemon still runs"
traffic "end"

# ---- clean up through the daemon, as dockerd would: nothing may be left.
cp "$POL_A" "$CONF"
plugin_hup
for f in "$STATE"/endpoints/*.json; do
	[ -f "$f" ] || continue
	id=$(basename "$f" .json) net=$(jq -r .network "$f")
	case $id in c1*) container_out "tnsk-front-$$" "tnc${id:0:12}" ;; c2*) container_out "tnsk-mid-$$" "tnc${id:0:12}" ;; esac
	call /NetworkDriver.Leave "{\"NetworkID\":\"$net\",\"EndpointID\":\"$id\"}"
	call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$net\",\"EndpointID\":\"$id\"}"
done
for f in "$STATE"/networks/*.json; do
	[ -f "$f" ] && call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$(basename "$f" .json)\"}"
done
check_eq "the end: no tiernet link remains" "" "$(tn_links | tr '\n' ' ')"
refute "the end: no TIERNET chain remains" sh -c "iptables-legacy-save | grep -q TIERNET"
echo "# soak.sh: $((SECONDS - T0)) s"
summary
