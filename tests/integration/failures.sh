#!/usr/bin/env bash
# Integration: a kernel operation that fails in the middle of a call leaves no half-made
# state.  Provoked: a bridge name taken by a link that is not tiernet's, a veth name taken,
# an address that is the gateway's, and table commits refused (another program holds the
# xtables lock; tiernet gives up after 5 s).  Subnets 10.89.0.0/16.
# usage: failures.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers

# A private xtables lock, so holding it never stalls the host's own iptables.
export XTABLES_LOCKFILE=$TMP/xtables.lock
touch "$XTABLES_LOCKFILE"
plugin_start "$BIN"
on_exit plugin_stop

A=a9a9a9a9a9a90000000000000000000000000000000000000000000000000001
B=b9b9b9b9b9b90000000000000000000000000000000000000000000000000002
E1=e9e9e9e9e9e90000000000000000000000000000000000000000000000000001
E2=e8e8e8e8e8e80000000000000000000000000000000000000000000000000002

snapshot() {
	{
		ip -o link | grep -o ': [^:@]*' | sort
		ip -o addr | awk '{print $2, $4}' | sort
		iptables-legacy-save | grep -v '^#' | sed 's/\[[0-9:]*\]//'
		nat_maps
		find "$STATE" -type f | sort
	} 2>&1
}
# unchanged DESC: the kernel and the state are as in $BEFORE.
unchanged() {
	local now
	now=$(snapshot)
	if [ "$BEFORE" == "$now" ]; then ok "$1"
	else nok "$1"; diff <(echo "$BEFORE") <(echo "$now") | sed 's/^/#   /'; fi
}

echo "# a bridge name taken by a link that is not tiernet's"
# (no dummy driver on every kernel: a veth pair is the foreign link)
ip link add tntaken type veth peer name xforeign0
BEFORE=$(snapshot)
call /NetworkDriver.CreateNetwork \
	"$(net_body $A front 10.89.1.1/24 10.89.1.0/24 '"com.docker.network.bridge.name":"tntaken"')"
check_contains "CreateNetwork fails with a sentence" "$BODY" "cannot create bridge tntaken"
check "the other link is untouched (still a veth, not enslaved)" \
	sh -c "ip -d -o link show tntaken | grep -q 'veth' && ! ip -o link show tntaken | grep -q master"
unchanged "nothing else changed (no state, no rule)"
ip link del tntaken

echo "# a veth name taken"
call /NetworkDriver.CreateNetwork "$(net_body $A front 10.89.1.1/24 10.89.1.0/24)"
check_eq "a network for the endpoints" '200 {}' "$CODE $BODY"
ip link add tnve9e9e9e9e9e9 type veth peer name xforeign1
BEFORE=$(snapshot)
call /NetworkDriver.CreateEndpoint "$(ep_body $A $E1 10.89.1.2/24)"
check_contains "CreateEndpoint fails with a sentence" "$BODY" "cannot create veth pair"
unchanged "nothing changed: no container end left, no state, the foreign link kept"
ip link del tnve9e9e9e9e9e9
call /NetworkDriver.CreateEndpoint "$(ep_body $A $E1 10.89.1.2/24)"
check_contains "the same call succeeds once the name is free" "$CODE $BODY" '200 {"Interface"'

echo "# an address that is the gateway's"
BEFORE=$(snapshot)
call /NetworkDriver.CreateEndpoint "$(ep_body $A $E2 10.89.1.1/24)"
check_contains "refused with a sentence" "$BODY" "is not a host address of the network's subnet"
unchanged "nothing changed"

echo "# table commits refused (the xtables lock is held)"
flock -F -x "$XTABLES_LOCKFILE" sleep 30 &
LOCKER=$!
on_exit "kill $LOCKER"
sleep 0.3
BEFORE=$(snapshot)
call /NetworkDriver.CreateNetwork "$(net_body $B mid 10.89.2.1/24 10.89.2.0/24)"
check_contains "CreateNetwork fails, naming the lock" "$BODY" "xtables lock"
unchanged "the bridge was removed again, no state, the rules as before"
call /NetworkDriver.Join "$(join_body $A $E1 /var/run/docker/netns/x)"
check_contains "a Join needs no commit and still works" "$CODE $BODY" '"SrcName":"tnce9e9e9e9e9e9"'
BEFORE=$(snapshot)
call /NetworkDriver.ProgramExternalConnectivity \
	"{\"NetworkID\":\"$A\",\"EndpointID\":\"$E1\",\"Options\":{\"com.docker.network.portmap\":[{\"Proto\":6,\"IP\":\"\",\"Port\":80,\"HostPort\":18089,\"HostIP\":\"\",\"HostPortEnd\":18089}]}}"
check_contains "publishing fails, naming the lock" "$BODY" "xtables lock"
unchanged "no mapping and no port in the state"
kill "$LOCKER" 2>/dev/null
wait "$LOCKER" 2>/dev/null
call /NetworkDriver.ProgramExternalConnectivity \
	"{\"NetworkID\":\"$A\",\"EndpointID\":\"$E1\",\"Options\":{\"com.docker.network.portmap\":[{\"Proto\":6,\"IP\":\"\",\"Port\":80,\"HostPort\":18089,\"HostIP\":\"\",\"HostPortEnd\":18089}]}}"
check_eq "with the lock free the same call succeeds" '200 {}' "$CODE $BODY"
check "and its mapping is in the nat map" has_map 18089
call /NetworkDriver.CreateNetwork "$(net_body $B mid 10.89.2.1/24 10.89.2.0/24)"
check_eq "and so does the refused CreateNetwork" '200 {}' "$CODE $BODY"

for c in "Leave" "DeleteEndpoint"; do
	call /NetworkDriver.$c "{\"NetworkID\":\"$A\",\"EndpointID\":\"$E1\"}"
done
for n in $A $B; do call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$n\"}"; done
refute "nothing tiernet remains" sh -c "ip -o link | grep -q ': tn' || iptables-legacy-save | grep -q TIERNET"
run_cleanup
summary
