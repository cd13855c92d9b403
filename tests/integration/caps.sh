#!/usr/bin/env bash
# Integration: least privilege.  After start-up every thread of `tiernet serve` holds exactly
# CAP_NET_ADMIN and CAP_NET_RAW (effective, permitted, bounding), nothing inheritable or
# ambient, no_new_privs set, and still does its whole job: bridges and veths (rtnetlink),
# rules (libiptc, ipset), /proc/sys/net writes, state files, SIGHUP re-reading the policy,
# SIGTERM.  Started as root with every capability, and as systemd starts it
# (CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW, emulated with setpriv).
# Runs in a private network namespace (unshare -n).  Subnets: 10.87.0.0/16.
# usage: caps.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers

on_exit plugin_stop
NET=87aa000000000000000000000000000000000000000000000000000000000001
EP=87ee000000000000000000000000000000000000000000000000000000000001
BR=tnb87aa00000000
WANT=0000000000003000	# CAP_NET_ADMIN (12) | CAP_NET_RAW (13)

# caps_of PID FIELD: the distinct values of FIELD (CapEff, ...) over every thread of PID.
caps_of() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk -v f="$2:" '$1 == f { print $2 }' | sort -u |
		tr '\n' ' ' | sed 's/ $//'
}

# check_caps WHAT: the daemon's threads hold exactly NET_ADMIN and NET_RAW, nothing else.
check_caps() {
	check_eq "$1: CapEff of every thread is NET_ADMIN|NET_RAW" $WANT "$(caps_of $PLUGIN_PID CapEff)"
	check_eq "$1: CapPrm likewise" $WANT "$(caps_of $PLUGIN_PID CapPrm)"
	check_eq "$1: CapInh is empty" 0000000000000000 "$(caps_of $PLUGIN_PID CapInh)"
	check_eq "$1: CapAmb is empty" 0000000000000000 "$(caps_of $PLUGIN_PID CapAmb)"
	check_eq "$1: NoNewPrivs is set" 1 "$(caps_of $PLUGIN_PID NoNewPrivs)"
}

# The daemon's whole job, after the drop: links, rules, sysctls, state, reload, teardown.
exercise() {
	local ns=tnit-caps-$$
	call /NetworkDriver.CreateNetwork "$(net_body $NET front 10.87.1.1/24 10.87.1.0/24)"
	check_eq "$1: CreateNetwork (rtnetlink, libiptc, nftables, state) succeeds" '200 {}' "$CODE $BODY"
	check "$1: the bridge exists" ip link show $BR
	check "$1: its rules are committed" sh -c "iptables-legacy-save | grep -q TIERNET-FWD"
	check_eq "$1: ip_forward was written" 1 "$(cat /proc/sys/net/ipv4/ip_forward)"
	check_eq "$1: route_localnet was written" 1 \
		"$(cat /proc/sys/net/ipv4/conf/$BR/route_localnet)"
	call /NetworkDriver.CreateEndpoint "$(ep_body $NET $EP 10.87.1.2/24)"
	check_contains "$1: CreateEndpoint succeeds" "$CODE $BODY" '200 {"Interface"'
	check "$1: its state file was written" test -s "$STATE/endpoints/$EP.json"
	call /NetworkDriver.Join "$(join_body $NET $EP /var/run/docker/netns/caps-test)"
	check_contains "$1: Join succeeds (200, the interface, no Err)" "$CODE $BODY" \
		'200 {"InterfaceName":{"SrcName":"tnc87ee00000000"'
	container_in "$ns" tnc87ee00000000 10.87.1.2/24 10.87.1.1
	check "$1: the host reaches the container through the bridge" busybox ping -c1 -W2 10.87.1.2
	check_caps "$1, after requests"
	plugin_hup
	check_eq "$1: SIGHUP re-reads and applies the policy" 0 $?
	container_out "$ns" tnc87ee00000000
	ip netns del "$ns"
	call /NetworkDriver.Leave "{\"NetworkID\":\"$NET\",\"EndpointID\":\"$EP\"}"
	call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NET\",\"EndpointID\":\"$EP\"}"
	call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NET\"}"
	check_eq "$1: DeleteNetwork succeeds" '200 {}' "$CODE $BODY"
	refute "$1: nothing tiernet remains" \
		sh -c "ip -o link | grep -q ': tn' || iptables-legacy-save | grep -q TIERNET"
	plugin_stop
	check_eq "$1: SIGTERM: the daemon exits 0" 0 "$PLUGIN_ET"
	refute "$1: and removes its socket" test -e "$SOCK"
}

echo "# started as root with every capability"
plugin_start "$BIN"
check "the daemon runs" kill -0 "$PLUGIN_PID"
check_caps "root"
check_eq "root: the bounding set is NET_ADMIN|NET_RAW" $WANT "$(caps_of $PLUGIN_PID CapBnd)"
exercise "root"
check "it logged the reduction" grep -q 'capabilities reduced to "cap_net_admin,cap_net_raw=ep"' \
	"$TMP/plugin.log"

echo "# started as systemd starts it (CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW)"
cat >"$TMP/systemd-like" <<EOF
#!/bin/sh
exec setpriv --bounding-set=-all,+net_admin,+net_raw --inh-caps=-all "$BIN" "\$@"
EOF
chmod 0755 "$TMP/systemd-like"
cat "$TMP/plugin.log" >>"$TMP/plugin.log.earlier"; : >"$TMP/plugin.log"
plugin_start "$TMP/systemd-like"
check "the daemon runs" kill -0 "$PLUGIN_PID"
check_caps "systemd"
check_eq "systemd: the bounding set is NET_ADMIN|NET_RAW" $WANT "$(caps_of $PLUGIN_PID CapBnd)"
refute "systemd: no warning about capabilities" grep -q 'capabilit.*warn\|warn.*capabilit' "$TMP/plugin.log"
exercise "systemd"

echo "# a bounding set it cannot shrink (no CAP_SETPCAP)"
cat >"$TMP/no-setpcap" <<EOF
#!/bin/sh
exec setpriv --bounding-set=-all,+net_admin,+net_raw,+sys_admin --inh-caps=-all "$BIN" "\$@"
EOF
chmod 0755 "$TMP/no-setpcap"
cat "$TMP/plugin.log" >>"$TMP/plugin.log.earlier"; : >"$TMP/plugin.log"
plugin_start "$TMP/no-setpcap"
check_caps "no CAP_SETPCAP"
check "it warns that the bounding set keeps 1 capability" \
	grep -q 'cannot remove 1 capabilities from the bounding set' "$TMP/plugin.log"
plugin_stop

[ "$T_FAIL" -eq 0 ] || sed 's/^/#   plugin: /' "$TMP/plugin.log"
run_cleanup
summary
