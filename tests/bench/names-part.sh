# Part 9 of tests/bench/run.sh (sourced; BENCH_ONLY=names runs only this part): names across
# tiers.  A client container on front asks Docker's embedded resolver (127.0.0.11) for a
# name on its own network (the anchor: Docker answers it) and for api.mid (Docker forwards
# it, tiernet answers), 400 queries each, one at a time, in interleaved rounds, and api.mid
# sent straight to the bridge's gateway, port 53 (TIERNET-DNS redirects it to tiernet: the
# same answer without dockerd's forwarding hop, which splits the cross-tier time into
# dockerd's part and tiernet's); then api.mid through 127.0.0.11 while another container on
# front floods tiernet with queries sent straight to the gateway (what any container can
# do), against the anchor measured without the flood.  Networks 10.90.11.0/24 (front),
# 10.90.12.0/24 (mid).  Every query stays on this host.
NAMES_Q=${BENCH_NAMES_QUERIES:-400}
names_cleanup() {
	"$DOCKER" rm -f $P-ncli $P-npeer $P-napi $P-nflood >/dev/null 2>&1
	"$DOCKER" network rm $P-nfront $P-nmid >/dev/null 2>&1
}
# names_lat CONTAINER NAME KEY: appends "MEDIAN P99" (us) of NAMES_Q queries to $TMP/KEY.
names_lat() {
	"$DOCKER" exec "$1" /b/dnsbench lat 127.0.0.11 "$2" "$NAMES_Q" >>"$TMP/names-$3"
}
names_part() {
	local upstream k
	if ! "$DOCKER" info >/dev/null 2>&1; then
		note "starting dockerd (log: $BUILD/dockerd.log)"
		setsid dockerd >"$BUILD/dockerd.log" 2>&1 </dev/null &
		STARTED_DOCKERD=$!
		on_exit "kill $STARTED_DOCKERD; wait $STARTED_DOCKERD"
		docker_up || { note "dockerd did not start"; return 1; }
	fi
	ensure_image || return 1
	write_default_policy "$TMP/names.conf"
	"$BIN" serve --socket "$PSOCK" --state-dir "$TMP/state-names" --config "$TMP/names.conf" \
		--log-level warn 2>>"$TMP/plugin-names.log" &
	plugin_pid=$!
	on_exit plugin_stop
	on_exit names_cleanup
	retry 50 test -S "$PSOCK" || { note "plugin did not start"; return 1; }
	names_cleanup
	dk network create -d $DRV -o tier=front --subnet 10.90.11.0/24 $P-nfront >/dev/null &&
		dk network create -d $DRV -o tier=mid --subnet 10.90.12.0/24 $P-nmid >/dev/null ||
		return 1
	for k in ncli:nfront npeer:nfront napi:nmid nflood:nfront; do
		dk run -d --name $P-${k%%:*} --network $P-${k##*:} -v "$TOOLS:/b:ro" "$IMAGE" \
			sleep 3600 >/dev/null || return 1
	done
	retry 50 sh -c "'$BIN' status --socket '$PSOCK' | grep -q 'name service: on'" ||
		{ note "the name service is not on"; return 1; }
	# warm-up: both paths answer
	names_lat $P-ncli $P-npeer warm && names_lat $P-ncli api.mid warm
	put names_warm "$(paste -sd' ' "$TMP/names-warm")"
	for k in 1 2 3; do
		names_lat $P-ncli $P-npeer anchor
		names_lat $P-ncli api.mid cross
		"$DOCKER" exec $P-ncli /b/dnsbench lat 10.90.11.1 api.mid "$NAMES_Q" >>"$TMP/names-direct"
	done
	# The flood goes through the bridge to port 53 of the gateway: tiernet's path, and an
	# address of this host (never an outside resolver, whatever the host's resolv.conf says).
	upstream=10.90.11.1
	"$DOCKER" exec -d $P-nflood /b/dnsbench flood "$upstream" api.mid 30
	sleep 1
	for k in 1 2 3; do
		names_lat $P-ncli api.mid flood
		names_lat $P-ncli $P-npeer anchorflood
	done
	"$DOCKER" exec $P-nflood pkill dnsbench >/dev/null 2>&1
	put names_flood_target "$upstream"
	put names_limited "$("$BIN" status --socket "$PSOCK" | grep -o '[0-9]* rate-limited' | cut -d' ' -f1)"
	for k in anchor cross direct flood anchorflood; do
		put names_${k}_med "$(awk '{ print $1 }' "$TMP/names-$k" | median)"
		put names_${k}_p99 "$(awk '{ print $2 }' "$TMP/names-$k" | median)"
		put names_${k}_all "$(paste -sd'/' "$TMP/names-$k")"
	done
	names_cleanup
	plugin_stop
	return 0
}
