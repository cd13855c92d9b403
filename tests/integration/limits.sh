#!/usr/bin/env bash
# Integration: every documented limit (README "Limits"), each at the limit (accepted) and one
# past it (refused with a sentence that says which limit), and the caller check (only root is
# answered, on every path).  `tiernet serve` in a private network namespace, driven through
# its socket the way dockerd drives it.  Subnets: 10.88.0.0/16.
# usage: limits.sh TIERNET_BINARY     (re-executes itself under `unshare -n`)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plugin-lib.sh" # root, a private network namespace (re-executes), the daemon's helpers
trap 'run_cleanup' EXIT
trap 'exit 130' INT TERM

plugin_start "$BIN"
on_exit plugin_stop

# Bridge and veth names derive from the first 12 characters of an ID: those differ.
NET=8800000000010000000000000000000000000000000000000000000000000000
NET2=8800000000020000000000000000000000000000000000000000000000000000
EP=88e0000000000000000000000000000000000000000000000000000000000001
UNKNOWN=88cc000000000000000000000000000000000000000000000000000000000009

# rep N STRING: STRING N times.
rep() { local i; for ((i = 0; i < $1; i++)); do printf '%s' "$2"; done; }

# call_file PATH FILE [CURL OPTIONS]: call with the body in FILE, sent as is (no newline added).
call_file() {
	local path=$1 file=$2; shift 2
	CODE=$(curl -sS --unix-socket "$SOCK" -o "$TMP/resp" -w '%{http_code}' -X POST -H 'Host;' \
		-H 'Content-Type:' "$@" --data-binary @"$file" "http://plugin$path" 2>>"$TMP/curl.log")
	BODY=$(cat "$TMP/resp" 2>/dev/null)
}

# expect_ok DESC: the last call answered 200 without an Err.
expect_ok() {
	if [ "$CODE" = 200 ] && [[ "$BODY" != *'"Err"'* ]]; then ok "$1"; else nok "$1 (got $CODE $BODY)"; fi
}
# expect_err DESC NEEDLE: the last call answered an Err that says NEEDLE.
expect_err() {
	if [[ "$BODY" == *'"Err":"tiernet: '* && "$BODY" == *"$2"* ]]; then ok "$1"
	else nok "$1 (got $CODE $BODY)"; fi
}

# pad_to FILE SIZE JSON: FILE holds JSON followed by spaces, SIZE bytes in all.
pad_to() {
	{ printf '%s' "$3"; head -c $(($2 - ${#3})) /dev/zero | tr '\0' ' '; } >"$1"
}

echo "# request body: at most 1 MiB (1048576 bytes)"
pad_to "$TMP/body-max" 1048576 "{\"NetworkID\":\"$UNKNOWN\"}"
call_file /NetworkDriver.DeleteNetwork "$TMP/body-max"
expect_ok "a body of exactly 1048576 bytes is served"
pad_to "$TMP/body-over" 1048577 "{\"NetworkID\":\"$UNKNOWN\"}"
call_file /NetworkDriver.DeleteNetwork "$TMP/body-over"
check_eq "a body of 1048577 bytes gets 413" 413 "$CODE"
expect_err "and says why" "request body larger than 1048576 bytes refused"
call_file /NetworkDriver.DeleteNetwork "$TMP/body-max" -H 'Transfer-Encoding: chunked'
expect_ok "a chunked body of exactly 1048576 bytes is served"
call_file /NetworkDriver.DeleteNetwork "$TMP/body-over" -H 'Transfer-Encoding: chunked'
check_eq "a chunked body of 1048577 bytes gets 413 (no Content-Length to refuse early)" 413 "$CODE"

echo "# JSON: at most 16 nested objects and arrays"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$UNKNOWN\",\"x\":$(rep 15 '[')$(rep 15 ']')}"
expect_ok "16 levels (the body's object and 15 arrays) are accepted"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$UNKNOWN\",\"x\":$(rep 16 '[')$(rep 16 ']')}"
expect_err "17 levels are refused" "nests deeper than 16 levels"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$UNKNOWN\",\"x\":$(rep 5000 '[')$(rep 5000 ']')}"
expect_err "5000 levels are refused the same way, before parsing" "nests deeper than 16 levels"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$UNKNOWN\",\"x\":\"a\\u0000b\"}"
expect_err "a NUL in a string is refused" 'NUL character'

echo "# IDs: exactly 64 lowercase hex characters"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$UNKNOWN\"}"
expect_ok "a 64-character ID is accepted"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"${UNKNOWN}0\"}"
expect_err "a 65-character ID is refused" "is not a 64-character hex ID"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"${UNKNOWN:1}\"}"
expect_err "a 63-character ID is refused" "is not a 64-character hex ID"

echo "# network options: at most 32, names up to 127 characters, values up to 255"
opts() { local i s=""; for ((i = 0; i < $1; i++)); do s+="${s:+,}\"tier\":\"front\""; done; echo "$s"; }
net_opts_body() {
	printf '{"NetworkID":"%s","Options":{"com.docker.network.generic":{%s}},"IPv4Data":[{"Gateway":"10.88.1.1/24","Pool":"10.88.1.0/24"}]}' "$1" "$2"
}
call /NetworkDriver.CreateNetwork "$(net_opts_body $NET2 "$(opts 32)")"
expect_ok "32 options are accepted (the network is created)"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NET2\"}"
call /NetworkDriver.CreateNetwork "$(net_opts_body $NET2 "$(opts 33)")"
expect_err "33 options are refused" "more than 32 network options"
call /NetworkDriver.CreateNetwork "$(net_opts_body $NET2 "\"tier\":\"front\",\"$(rep 127 k)\":\"v\"")"
expect_err "a 127-character option name reaches the driver (which names it)" \
	"unknown network option \\\"$(rep 127 k)\\\""
call /NetworkDriver.CreateNetwork "$(net_opts_body $NET2 "\"tier\":\"front\",\"$(rep 128 k)\":\"v\"")"
expect_err "a 128-character option name is refused" "is too long (at most 127 characters)"
call /NetworkDriver.CreateNetwork "$(net_opts_body $NET2 "\"tier\":\"$(rep 255 t)\"")"
expect_err "a 255-character option value reaches the driver (unknown tier)" "unknown tier"
call /NetworkDriver.CreateNetwork "$(net_opts_body $NET2 "\"tier\":\"$(rep 256 t)\"")"
expect_err "a 256-character option value is refused" "is too long (at most 255 characters)"
refute "no refused network left a bridge" ip link show tnb880000000002

echo "# endpoint options: at most 32 (every user option is then refused by name)"
ep_opts_body() {
	printf '{"NetworkID":"%s","EndpointID":"%s","Interface":{"Address":"10.88.1.9/24"},"Options":{%s}}' \
		"$NET" "$UNKNOWN" "$1"
}
call /NetworkDriver.CreateNetwork "$(net_body $NET front 10.88.1.1/24 10.88.1.0/24)"
expect_ok "setup: a network"
call /NetworkDriver.CreateEndpoint "$(ep_opts_body "$(opts 32 | sed 's/tier/x/g')")"
expect_err "32 endpoint options reach the driver" "unknown endpoint option"
call /NetworkDriver.CreateEndpoint "$(ep_opts_body "$(opts 33 | sed 's/tier/x/g')")"
expect_err "33 endpoint options are refused" "more than 32 endpoint options"
call /NetworkDriver.CreateEndpoint "$(ep_opts_body "\"$(rep 128 k)\":\"v\"")"
expect_err "a 128-character endpoint option name is refused" "is too long (at most 127 characters)"

echo "# published ports: at most 1024 per container"
call /NetworkDriver.CreateEndpoint "$(ep_body $NET $EP 10.88.1.2/24)"
expect_ok "setup: an endpoint"
pec_body() {
	local i s=""
	for ((i = 1; i <= $1; i++)); do
		s+="${s:+,}{\"Proto\":6,\"IP\":\"\",\"Port\":$i,\"HostIP\":\"\",\"HostPort\":$((20000 + i)),\"HostPortEnd\":$((20000 + i))}"
	done
	printf '{"NetworkID":"%s","EndpointID":"%s","Options":{"com.docker.network.portmap":[%s]}}\n' \
		"$NET" "$EP" "$s"
}
dnat_count() { nat_maps | grep -c ' : '; }
pec_body 1024 >"$TMP/pec-max"
call_file /NetworkDriver.ProgramExternalConnectivity "$TMP/pec-max"
expect_ok "1024 published ports are accepted"
check_eq "and each one has its element in the nat map" 1024 "$(dnat_count)"
pec_body 1025 >"$TMP/pec-over"
call_file /NetworkDriver.ProgramExternalConnectivity "$TMP/pec-over"
expect_err "1025 published ports are refused" "more than 1024 published ports on one container"
check_eq "and the 1024 mappings stay as they were" 1024 "$(dnat_count)"
call /NetworkDriver.RevokeExternalConnectivity "{\"NetworkID\":\"$NET\",\"EndpointID\":\"$EP\"}"
expect_ok "Revoke removes them"
check_eq "every element is gone" 0 "$(dnat_count)"
call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NET\",\"EndpointID\":\"$EP\"}"

echo "# endpoints: at most 1023 on one network (a Linux bridge takes 1023 ports)"
# One curl process, one connection, 1023 calls: a config file with a section per call.
ep_id() { printf '88e%09x%052x' "$1" 0; }
: >"$TMP/eps.curl"
for ((i = 1; i <= 1023; i++)); do
	printf '{"NetworkID":"%s","EndpointID":"%s","Interface":{"Address":"10.88.%d.%d/21"}}' \
		"$NET2" "$(ep_id $i)" $((8 + (i + 1) / 256)) $(((i + 1) % 256)) >"$TMP/ep-$i.json"
	printf 'url = "http://plugin/NetworkDriver.CreateEndpoint"\nunix-socket = "%s"\nrequest = "POST"\nheader = "Host;"\ndata-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nnext\n' \
		"$SOCK" "$TMP/ep-$i.json" >>"$TMP/eps.curl"
done
call /NetworkDriver.CreateNetwork "$(net_body $NET2 front 10.88.8.1/21 10.88.8.0/21)"
expect_ok "setup: a /21 network"
curl -sS -K "$TMP/eps.curl" >"$TMP/eps.codes" 2>>"$TMP/curl.log"
check_eq "1023 endpoints on one network are created" 1023 "$(grep -c '^200$' "$TMP/eps.codes")"
check_eq "each with its veth on the bridge" 1023 "$(ip -o link show master tnb880000000002 | wc -l)"
call /NetworkDriver.CreateEndpoint "$(printf '{"NetworkID":"%s","EndpointID":"%s","Interface":{"Address":"10.88.15.1/21"}}' "$NET2" "$(ep_id 1024)")"
expect_err "the 1024th endpoint is refused, before the kernel is asked" "the most a Linux bridge takes"
echo "#   (it said: $BODY)"
refute "and leaves no veth" ip link show "tnv$(ep_id 1024 | cut -c1-12)"
refute "and no state file" test -e "$STATE/endpoints/$(ep_id 1024).json"
call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NET2\"}"
expect_ok "deleting the network removes its 1023 endpoints"
check_eq "no endpoint state is left" "" "$(ls "$STATE/endpoints")"

echo "# the policy file (tiernet check reads it as the daemon does)"
policy_check() { "$BIN" check --config "$1" 2>&1; }
mkconf() { cat >"$TMP/$1.conf"; chmod 0644 "$TMP/$1.conf"; echo "$TMP/$1.conf"; }
tiers() { local i; for ((i = 0; i < $1; i++)); do echo "tier t$i"; done; }
check_eq "256 tiers are accepted" "configuration OK" "$(policy_check "$(tiers 256 | mkconf tiers-max)")"
check_contains "257 tiers are refused" "$(policy_check "$(tiers 257 | mkconf tiers-over)")" \
	"too many tiers (at most 256)"
# 65 tiers give 65 * 64 = 4160 pairs: allow lines t_i -> t_j, i != j.
allows() {
	local i j n=0
	tiers 65
	for ((i = 0; i < 65; i++)); do
		for ((j = 0; j < 65; j++)); do
			[ $i -eq $j ] && continue
			[ $n -eq "$1" ] && return
			echo "allow t$i -> t$j"; n=$((n + 1))
		done
	done
}
check_eq "4096 allow lines are accepted" "configuration OK" "$(policy_check "$(allows 4096 | mkconf edges-max)")"
check_contains "4097 allow lines are refused" "$(policy_check "$(allows 4097 | mkconf edges-over)")" \
	"too many allow lines (at most 4096)"
ports() { local i s=""; for ((i = 1; i <= $1; i++)); do s+="${s:+, }tcp/$i"; done; echo "$s"; }
check_eq "64 ports on one allow line are accepted" "configuration OK" \
	"$(policy_check "$(printf 'tier a\ntier b\nallow a -> b %s\n' "$(ports 64)" | mkconf ports-max)")"
check_contains "65 ports on one allow line are refused" \
	"$(policy_check "$(printf 'tier a\ntier b\nallow a -> b %s\n' "$(ports 65)" | mkconf ports-over)")" \
	"too many ports on one line (at most 64)"
check_contains "a 64-character word is read as a word (here: a tier name too long)" \
	"$(policy_check "$(printf 'tier %s\n' "$(rep 64 a)" | mkconf token-max)")" \
	"tier name \"$(rep 64 a)\" is too long (64 characters, at most 16)"
check_contains "a 65-character word is refused as such" \
	"$(policy_check "$(printf 'tier %s\n' "$(rep 65 a)" | mkconf token-over)")" \
	"is too long (65 characters, at most 64)"
check_eq "a 16-character tier name is accepted" "configuration OK" \
	"$(policy_check "$(printf 'tier %s\n' "$(rep 16 a)" | mkconf name-max)")"
check_contains "a 17-character tier name is refused" \
	"$(policy_check "$(printf 'tier %s\n' "$(rep 17 a)" | mkconf name-over)")" \
	"is too long (17 characters, at most 16)"
check_eq "a 4096-character line is accepted" "configuration OK" \
	"$(policy_check "$(printf 'tier a #%s\n' "$(rep 4088 x)" | mkconf line-max)")"
check_contains "a 4097-character line is refused" \
	"$(policy_check "$(printf 'tier a #%s\n' "$(rep 4089 x)" | mkconf line-over)")" \
	"line is too long (4097 characters, at most 4096)"
# pad_policy SIZE: "tier a" and comment lines, SIZE bytes in all.
pad_policy() {
	local size=$1 line
	line="#$(rep 1022 x)"
	{
		echo "tier a"
		size=$((size - 7))
		while [ "$size" -ge 1024 ]; do echo "$line"; size=$((size - 1024)); done
		[ "$size" -gt 0 ] && head -c "$size" /dev/zero | tr '\0' '#'
	}
}
check_eq "a 262144-byte policy file is accepted" "configuration OK" \
	"$(policy_check "$(pad_policy 262144 | mkconf size-max)")"
check_eq "(it is exactly 262144 bytes)" 262144 "$(stat -c %s "$TMP/size-max.conf")"
check_contains "a 262145-byte policy file is refused" \
	"$(policy_check "$(pad_policy 262145 | mkconf size-over)")" "too big (262145 bytes, at most 262144)"

echo "# callers: only root is answered, on every path (SO_PEERCRED)"
chmod 0711 "$TMP"
chmod 0666 "$SOCK"
as_nobody() {
	CODE=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		curl -sS --unix-socket "$SOCK" -o - -w '\n%{http_code}' -X POST -H 'Host;' \
		--data-binary "$2" "http://plugin$1" 2>>"$TMP/curl.log")
	BODY=${CODE%$'\n'*}
	CODE=${CODE##*$'\n'}
}
for path in /Plugin.Activate /NetworkDriver.GetCapabilities /NetworkDriver.CreateNetwork \
	/NetworkDriver.DeleteNetwork /tiernet.Status /NetworkDriver.Frobnicate; do
	as_nobody "$path" "{\"NetworkID\":\"$NET\"}"
	check_eq "uid 65534 gets 403 on $path" 403 "$CODE"
	expect_err "with a JSON Err that says why" "only root may call the plugin (the caller runs as uid 65534)"
done
check "the network uid 65534 tried to delete is still there" ip link show tnb880000000001
chmod 0600 "$SOCK"
chmod 0700 "$TMP"
call /NetworkDriver.GetCapabilities ""
expect_ok "root is still answered"
check "the daemon is alive" kill -0 "$PLUGIN_PID"

call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NET\"}"
expect_ok "cleanup: the network"
refute "nothing tiernet remains" sh -c "ip -o link | grep -q ': tn' || iptables-legacy-save | grep -q TIERNET"
plugin_stop
check_eq "SIGTERM: the daemon exits 0" 0 "$PLUGIN_ET"
run_cleanup
summary
