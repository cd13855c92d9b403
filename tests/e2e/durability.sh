#!/usr/bin/env bash
# End to end: tiernet killed with containers running, restarted; dockerd restarted with a
# restart-policy container; 24 parallel `docker run` across three tiers.
# Subnets: 10.87.0.0/16.   usage: durability.sh TIERNET_BINARY
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/docker-lib.sh" # root, BIN, a real dockerd's helpers

P=tne2e-dur
cleanup_docker() {
	docker rm -f $(docker ps -aq --filter "name=$P-") >/dev/null 2>&1
	docker network rm $P-front $P-mid $P-back >/dev/null 2>&1
}
on_exit plugin_stop
on_exit cleanup_docker
ensure_image
plugin_start "$BIN"

docker network create -d "$DRIVER" -o tier=front --subnet 10.87.1.0/24 $P-front >/dev/null
docker network create -d "$DRIVER" -o tier=mid --subnet 10.87.2.0/24 $P-mid >/dev/null
docker network create -d "$DRIVER" -o tier=back --subnet 10.87.3.0/24 $P-back >/dev/null
run_server $P-web $P-front --ip 10.87.1.10
run_server $P-web2 $P-front --ip 10.87.1.11
run_server $P-api $P-mid --ip 10.87.2.10
run_server $P-api2 $P-mid --ip 10.87.2.11

# matrix_holds: front -> mid yes; mid -> front no, proven by front's own peer.
matrix_holds() {
	check_eq "$1: front -> mid" $P-api "$(http_get $P-web 10.87.2.10)"
	check_eq "$1: web2 reaches web (so web answers)" $P-web "$(http_get $P-web2 10.87.1.10)"
	refute "$1: mid -> front is denied" http_get $P-api 10.87.1.10
}

echo "# kill -9 with containers running"
matrix_holds "before"
kill -KILL "$PLUGIN_PID"
wait "$PLUGIN_PID" 2>/dev/null
PLUGIN_PID=
matrix_holds "while tiernet is down"
plugin_start "$BIN"
matrix_holds "after the restart"
check "a new container joins after the restart" run_server $P-new $P-front --ip 10.87.1.12
check_eq "and reaches mid" $P-api "$(http_get $P-new 10.87.2.10)"

echo "# 24 parallel docker run across three tiers"
pids=()
for i in $(seq 1 8); do
	for t in front:1 mid:2 back:3; do
		( run_server $P-p${t%:*}$i $P-${t%:*} --ip 10.87.${t#*:}.$((100 + i)) ) &
		pids+=($!)
	done
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
check_eq "all 24 parallel docker run started" 0 "$failed"
check_eq "24 running" 24 "$(docker ps -q --filter "name=$P-p" | wc -l)"
check_eq "front -> mid between parallel ones" $P-pmid3 "$(http_get $P-pfront5 10.87.2.103)"
check_eq "mid -> back between parallel ones" $P-pback7 "$(http_get $P-pmid2 10.87.3.107)"
check_eq "back -> back inside the tier" $P-pback1 "$(http_get $P-pback8 10.87.3.101)"
check_eq "front -> mid: pmid2 answers pfront6" $P-pmid2 "$(http_get $P-pfront6 10.87.2.102)"
refute "back -> mid is denied (the same server, pmid2)" http_get $P-pback4 10.87.2.102
check_eq "mid -> back: pback4 answers pmid6" $P-pback4 "$(http_get $P-pmid6 10.87.3.104)"
refute "front -> back is denied (the same server, pback4)" http_get $P-pfront1 10.87.3.104
check_eq "endpoints in tiernet's state = containers" 29 "$(ls "$STATE/endpoints" | grep -c json)"
docker rm -f $(docker ps -aq --filter "name=$P-p") >/dev/null

echo "# dockerd restart with a restart-policy container"
if [ "${TIERNET_E2E_DOCKERD_RESTART:-1}" = 1 ]; then
	LOGD=$TMP/dockerd.log
	docker rm -f $P-new >/dev/null
	run_server $P-always $P-front --ip 10.87.1.20 --restart always
	check_eq "before: the restart-policy container reaches mid" $P-api \
		"$(http_get $P-always 10.87.2.10)"
	dockerd_stop
	check "dockerd is back" dockerd_start "$LOGD"
	retry 100 sh -c "docker ps --filter name=$P-always --filter status=running -q | grep -q ."
	check "the restart-policy container runs again" \
		sh -c "docker ps --filter name=$P-always --filter status=running -q | grep -q ."
	docker start $P-api $P-api2 $P-web >/dev/null
	retry 25 http_get $P-always 10.87.2.10
	check_eq "after: it reaches mid again (fresh endpoints)" $P-api \
		"$(http_get $P-always 10.87.2.10)"
	check_eq "after: web reaches it inside front (so it answers)" $P-always \
		"$(http_get $P-web 10.87.1.20)"
	refute "after: mid -> front still denied" http_get $P-api2 10.87.1.20
else
	skip "dockerd restart with a restart-policy container (TIERNET_E2E_DOCKERD_RESTART=0)"
fi

echo "# teardown"
cleanup_docker
check "networks removed" sh -c "! docker network ls | grep -q $P-"
check "nothing tiernet remains" nothing_left
check "state holds nothing" sh -c "[ -z \"\$(ls $STATE/networks $STATE/endpoints | grep json)\" ]"
[ "$T_FAIL" -eq 0 ] || plugin_log
run_cleanup
summary
