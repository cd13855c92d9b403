# Sourced by tests/bench/run.sh inside docker_parts, after part 3's containers exist
# (BENCH_ONLY=log runs only this part): part 10, the denied-flow log (issue 15).
#
# 64-byte UDP across an allowed edge (front -> mid, the containers of part 3) while another
# container, on tier t1 (which may open nothing), floods mid with LOG_FLOOD_PPS denied
# datagrams a second, against the same without the flood, paired per trial; and the
# daemon's CPU during the flood (the kernel's NFLOG limit holds its records at 20 a second).
# Every datagram of the flood is one unanswered UDP flow, --ctstate NEW each time: the worst
# case for the drop path, which meets the limit match on every packet.

LOG_FLOOD_PPS=${BENCH_LOG_FLOOD_PPS:-100000}
# the flooder's CPU (BENCH_LOG_FLOOD_CPU, default 1: the receiver's; 0 is the sender's)

log_part() {
	local trial j flood rip frip port=9700 pps cpu0 cpu1 hz d0 d1 fpid rpid n
	hz=$(getconf CLK_TCK)
	dk network create -d $DRV -o tier=t1 --subnet 10.90.5.0/24 $P-t1 >/dev/null ||
		{ note "part 8: cannot create network $P-t1"; return 1; }
	on_exit "\"$DOCKER\" network rm $P-t1 >/dev/null 2>&1"
	dk run -d --name $P-flood --network $P-t1 --cpuset-cpus "${BENCH_LOG_FLOOD_CPU:-1}" -v "$TOOLS:/b:ro" \
		--cap-add SYS_NICE "$IMAGE" sleep 900 >/dev/null ||
		{ note "part 8: cannot start $P-flood"; return 1; }
	on_exit "\"$DOCKER\" rm -f $P-flood >/dev/null 2>&1"
	dk start $P-rx-mid $P-tx-front >/dev/null 2>&1
	rip=$(ip_of $P-rx-mid $P-mid)
	: >"$TMP/log-trials"
	for ((trial = 0; trial < UDP_TRIALS; trial++)); do
		for ((j = 0; j < 2; j++)); do	# which case goes first alternates
			flood=$(((trial + j) % 2))
			port=$((port + 1))
			fpid=
			if [ $flood = 1 ]; then
				"$DOCKER" exec $P-flood /b/udpflood send "$rip" 9999 $((UDP_SECS + 2)) 64 \
					"$LOG_FLOOD_PPS" >"$TMP/flood.out" 2>/dev/null &
				fpid=$!
				sleep 0.7	# the flood runs before and after the measured stretch
			fi
			"$DOCKER" exec $P-rx-mid /b/udpflood recv $port $((UDP_SECS + 10)) 15 \
				>"$TMP/rx.out" 2>/dev/null &
			rpid=$!
			sleep 0.5
			d0=$(awk '{print $14 + $15}' /proc/$plugin_pid/stat)
			cpu0=$EPOCHREALTIME
			"$DOCKER" exec $P-tx-front /b/udpflood send "$rip" $port "$UDP_SECS" 64 \
				>"$TMP/tx.out" 2>/dev/null
			d1=$(awk '{print $14 + $15}' /proc/$plugin_pid/stat)
			cpu1=$EPOCHREALTIME
			wait $rpid
			[ -n "$fpid" ] && wait $fpid
			pps=$(grep -m1 '^recv_pps=' "$TMP/rx.out" | cut -d= -f2)
			[ -n "$pps" ] && [ "$pps" != 0 ] || { note "part 8: trial $trial got nothing"; continue; }
			echo "$trial $flood $pps" >>"$TMP/log-trials"
			if [ $flood = 1 ]; then
				echo "$d0 $d1 $cpu0 $cpu1" | awk -v hz="$hz" \
					'{printf "%.3f\n", ($2 - $1) / hz / ($4 - $3) * 100}' >>"$TMP/log-cpu"
				grep -m1 '^send_pps=' "$TMP/flood.out" | cut -d= -f2 >>"$TMP/log-floodpps"
			fi
		done
	done
	put log_pratio "$(awk '{v[$1 " " $2] = $3; t[$1] = 1}
		END { for (k in t) if (v[k " 0"] > 0 && v[k " 1"] > 0) print v[k " 1"] / v[k " 0"] }' \
		"$TMP/log-trials" | sort -n | awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]}')"
	for flood in 0 1; do
		put log_${flood}_med "$(awk -v f=$flood '$2 == f {print $3}' "$TMP/log-trials" | sort -n |
			awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]}')"
	done
	put log_cpu_med "$(sort -n "$TMP/log-cpu" 2>/dev/null | awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]}')"
	put log_cpu_all "$(sort -n "$TMP/log-cpu" 2>/dev/null | paste -sd/)"
	put log_flood_pps "$(sort -n "$TMP/log-floodpps" 2>/dev/null | awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]}')"
	n=$("$BIN" log --socket "$PSOCK" --json 2>/dev/null | wc -l)
	put log_entries "$n"
	"$DOCKER" rm -f $P-flood >/dev/null 2>&1
	"$DOCKER" network rm $P-t1 >/dev/null 2>&1
	return 0
}

# The rows, printed by run.sh's table.
log_rows() {
	row "10 UDP 64B front->mid, 100k/s denied flood vs none (*)" \
		"$(get log_1_med)" "$(get log_0_med)" pps ">=" 0.95 ratio "$(get log_pratio)"
	row "10 daemon CPU during the denied flood (% of a core)" \
		"$(get log_cpu_med)" "" "" "<=" 5 abs
}
log_details() {
	echo "  8: flood sent at $(get log_flood_pps)/s (target $LOG_FLOOD_PPS) from tier t1 to mid, unanswered;" \
		"daemon CPU % per trial: $(get log_cpu_all); log entries kept $(get log_entries)"
}
