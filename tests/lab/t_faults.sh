#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Faults, bounded: traversals under loss and delay, kill -9 of stuntd and a
# restart of stunt-server. Pairs and what is asserted:
#   loss10  full-cone x port-restricted(rst), 10 % loss each way on both WAN
#           links: FAULT_N (10) reversal connects (64 bytes echoed each,
#           one at a time, build/drv/loadconn): at least 7 succeed
#           (measured 10/10 in most runs: TCP retransmits the lost
#           signalling and SYNs inside the daemon's 10 s connect timeout);
#   loss30  the same with 30 %: measured and reported, not asserted: 2 of 10
#           connected in the measurement (about 20 % per attempt, so even
#           "at least 1 of 10" would fail one run in nine); the daemons
#           must still register (within 60 s: under 30 % loss each way a
#           lost SYN to the server costs 1, 2, 4 s... of TCP backoff, and the
#           10 s the other tests allow was missed in one CI run). Rates in
#           docs/benchmarks.md "Faults";
#   delay   --delay-a 100 (RTT +200 ms through ha's side): 5 of 5 connect;
#   kill    port-restricted(rst) x port-restricted(rst): a plain TCP flow
#           from ha to pub (a line each 50 ms, echoed) started before; a session whose socket
#           was handed off by fd passing (stuntctl connect -- CMD in ha) and
#           exec: (cat in hb); a simopen traversal in flight; then kill -9 of
#           both daemons: the plain flow and the session keep flowing
#           (no gap over 1 s, every echo back), the NFQUEUE rules stay
#           (stale), the restarted daemons remove them and put the same set
#           back (iptables-save compared), register, connect again, and the
#           old session still flows;
#   server  stunt-server killed, started again once both daemons have
#           lost it and been refused by the dead server at least once (two
#           backoff lines each): both daemons registered again within 20 s
#           (backoff 1 s doubling: a daemon tries again at most 8 s after
#           the server is back), then connect.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
FAULT_N=${FAULT_N:-10}
LOADCONN=$BUILD/drv/loadconn
[ -x "$LOADCONN" ] || { nok "built: $LOADCONN"; exit 1; }

val() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

# attempts FROM PEER METHOD N OUT: N connects one at a time, results in OUT
attempts() {
	local pid
	[ "$1" = a ] && pid=$PID_A || pid=$PID_B
	lx "h$1" "$LOADCONN" --control "$LAB_STATE/$1.sock" --peer "$2" --service echo \
		--method "$3" --total "$4" --concurrency 1 --stuntd-pid "$pid" --timeout-ms 30000 >"$5" 2>&1
	sed 's/^/# /' "$5" | grep -E 'ok|median|error' | tr '\n' ' '
	echo
}

# at_least LABEL OUT K N
at_least() {
	local got
	got=$(val "$2" ok)
	if [ -n "$got" ] && [ "$got" -ge "$3" ]; then
		ok "$1: $got of $4 connected (>= $3), median $(val "$2" median_ms) ms"
	else
		nok "$1: ${got:-?} of $4 connected (< $3)"
		tail -8 "$LAB_STATE/stuntd-a.log" | sed 's/^/# A: /'
	fi
}

# The streamer: sends a numbered line every 50 ms for D seconds, through
# fd 0/1 (a handed-off socket) or a TCP connection to HOST:PORT, reads the
# echoes and logs "TIME SEQ" per echo into LOG; at the end "done SENT GOT".
STREAM='
import os, socket, sys, threading, time
log, dur = sys.argv[1], float(sys.argv[2])
if len(sys.argv) > 3:
    s = socket.create_connection((sys.argv[3], int(sys.argv[4])))
else:
    s = socket.socket(fileno=0)
f = open(log, "w", buffering=1)
got = [0]
def rx():
    buf = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        buf += d
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            got[0] += 1
            f.write("%.3f %s\n" % (time.time(), line.decode()))
t = threading.Thread(target=rx); t.start()
n, end = 0, time.time() + dur
while time.time() < end:
    s.sendall(b"%d\n" % n); n += 1
    time.sleep(0.05)
s.shutdown(socket.SHUT_WR)
t.join(10)
f.write("done %d %d\n" % (n, got[0]))
'
# ECHOED: a streamer's echo lines ("TIME SEQ")
ECHOED='^[0-9.]+ [0-9]+$'

# stream_ok LABEL LOG KILL_TIME: every line echoed, echoes after the kill,
# no gap over 1 s between echoes
stream_ok() {
	local r
	r=$(awk -v k="$3" '$1 == "done" { sent = $2; got = $3; next }
		{ if (prev && $1 - prev > gap) gap = $1 - prev; prev = $1; if ($1 > k + 2) after++ }
		END { printf "%d %d %d %.3f", sent, got, after, gap }' "$2")
	set -- "$1" $r
	if [ "$2" -gt 0 ] && [ "$2" = "$3" ] && [ "$4" -gt 0 ] && awk -v g="$5" 'BEGIN { exit !(g < 1.0) }'; then
		ok "$1: $3 of $2 lines echoed, $4 of them more than 2 s after the kill, longest gap ${5}s"
	else
		nok "$1: sent $2, echoed $3, after the kill $4, longest gap ${5}s"
	fi
}

# restart X: start stuntd X again with the command line it had
restart() {
	local -n pidvar="PID_${1^^}"
	lab_bg "h$1" "stuntd-$1-2" "${@:2}" >/dev/null
	pidvar=${LAB_PIDS[-1]}
}

# all_gone PID...: none of them runs any more
all_gone() { ! _lab_any_alive "$@"; }

registered_within() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -le $end ]; do
		ctl a '{"cmd":"status"}' | grep -q '"registered":true' &&
			ctl b '{"cmd":"status"}' | grep -q '"registered":true' && return 0
		sleep 0.2
	done
	return 1
}

case "${1:-all}" in
loss10|all)
	echo "# 10 % loss each way on both sides, full-cone (ha) x port-restricted rst (hb)"
	START_WAIT=30 start_all full-cone rst port-restricted rst --loss-a 10 --loss-b 10 && {
		attempts a office-pc reversal "$FAULT_N" "$LAB_STATE/l10.out"
		at_least "10 % loss, reversal" "$LAB_STATE/l10.out" $((FAULT_N * 7 / 10)) "$FAULT_N"
		lab_down
	}
	;;&
loss30|all)
	echo "# 30 % loss each way on both sides, full-cone (ha) x port-restricted rst (hb)"
	START_WAIT=60 start_all full-cone rst port-restricted rst --loss-a 30 --loss-b 30 && {
		ok "30 % loss: both daemons registered"
		attempts a office-pc reversal 5 "$LAB_STATE/l30.out"
		echo "# measured, not asserted: 30 % loss, reversal: $(val "$LAB_STATE/l30.out" ok) of 5 connected"
		lab_down
	}
	;;&
delay|all)
	echo "# 100 ms each way on ha's side, port-restricted rst x port-restricted rst"
	start_all port-restricted rst port-restricted rst --delay-a 100 && {
		attempts a office-pc simopen 5 "$LAB_STATE/d100.out"
		at_least "+100 ms each way on ha's link, simopen" "$LAB_STATE/d100.out" 5 5
		lab_down
	}
	;;&
kill|all)
	echo "# kill -9 of both daemons (both processes of each) during a traversal and during handed-off sessions"
	# the killed daemons' connections to the server vanish with them, and
	# the restarted ones probe it again: a late segment of the server's
	# meets no socket, and the host's RST to the server's port is listed,
	# not counted (seen once in CI: one RST from each host to :3478 at the
	# same instant); every RST towards a peer still counts
	RST_SIGNAL_CUT=1
	start_all port-restricted rst port-restricted rst && {
		lab_bg pub pub-echo python3 "$ECHOSRV" --bind 0.0.0.0 7100 >/dev/null
		lab_wait_port pub tcp 0.0.0.0 7100 10 || nok "echo in pub"
		lab_bg ha plain python3 -c "$STREAM" "$LAB_STATE/plain.log" 9 "$LAB_PUB" 7100 >/dev/null
		lab_bg ha fdpass "$BUILD/stuntctl" --control "$LAB_STATE/a.sock" connect office-pc/cat \
			-- python3 -c "$STREAM" "$LAB_STATE/fdpass.log" 8 >/dev/null
		FDP=${LAB_PIDS[-1]}
		# both flows flowing before the kill: a few lines echoed on each
		lab_wait_log "$LAB_STATE/fdpass.log" "$ECHOED" 15 3 ||
			nok "session office-pc/cat handed to stuntctl connect -- CMD: 3 lines echoed within 15 s"
		lab_wait_log "$LAB_STATE/plain.log" "$ECHOED" 15 3 ||
			nok "plain TCP flow ha -> pub: 3 lines echoed within 15 s"
		mapfile -d '' -t CMD_A <"/proc/$PID_A/cmdline"
		mapfile -d '' -t CMD_B <"/proc/$PID_B/cmdline"
		lx ha iptables-save | grep -v '^#' >"$LAB_STATE/ipt-a.running"
		# a simopen traversal in flight (it waits for the common start):
		# killed once the daemon has taken the request
		n0=$(grep -c 'connect to office-pc/echo requested' "$LAB_STATE/stuntd-a.log")
		ctl a '{"cmd":"connect","peer":"office-pc","service":"echo"}' >"$LAB_STATE/inflight.out" &
		INF=$!
		lab_wait_log "$LAB_STATE/stuntd-a.log" 'connect to office-pc/echo requested' 10 $((n0 + 1)) ||
			nok "laptop took the in-flight connect within 10 s"
		kt=$(date +%s.%N)
		# each stuntd is two processes (privilege separation): kill the
		# privileged child too, or it would remove the rules itself (that
		# case is t_stuntd_priv's); exec: services are children too: keep them
		PRIV=$(pgrep -x -P "$PID_A,$PID_B" stuntd | tr '\n' ' ')
		# shellcheck disable=SC2086
		kill -9 $PRIV "$PID_A" "$PID_B"
		wait "$INF" 2>/dev/null
		grep -q '"ok":true' "$LAB_STATE/inflight.out" &&
			echo "# the in-flight traversal finished before the kill" ||
			echo "# the in-flight traversal was cut by the kill: $(head -c 200 "$LAB_STATE/inflight.out")"
		# the rules as the dead daemons left them: once all four processes
		# are gone nothing is left that could remove them
		# shellcheck disable=SC2086
		lab_wait_for 10 all_gone $PRIV "$PID_A" "$PID_B" ||
			nok "stuntd processes gone within 10 s of kill -9"
		RST_KILL_FROM=$kt RST_KILL_TO=$(date +%s.%N)
		lx ha iptables-save | grep -v '^#' >"$LAB_STATE/ipt-a.killed"
		if grep -q NFQUEUE "$LAB_STATE/ipt-a.killed"; then
			ok "after kill -9 the NFQUEUE rules are still there (stale, --queue-bypass)"
		else
			nok "after kill -9 the NFQUEUE rules are still there"
		fi
		restart a "${CMD_A[@]}"
		restart b "${CMD_B[@]}"
		if registered_within 20; then ok "both daemons restarted and registered"
		else nok "both daemons restarted and registered"; fi
		if grep -q 'stale' "$LAB_STATE/stuntd-a-2.log" &&
			diff "$LAB_STATE/ipt-a.running" <(lx ha iptables-save | grep -v '^#') >/dev/null; then
			ok "restart removed the stale rules and installed the same set ($(grep -o 'removing stale[^(]*' "$LAB_STATE/stuntd-a-2.log" | head -1))"
		else
			nok "restart: stale rules removed, same set installed"
			grep -i rule "$LAB_STATE/stuntd-a-2.log" | sed 's/^/# /'
			diff "$LAB_STATE/ipt-a.running" <(lx ha iptables-save | grep -v '^#') | sed 's/^/# /'
		fi
		transfer a office-pc "after the restart: connect" "" "[a-z0-9]+"
		wait "$FDP"
		lab_wait_log "$LAB_STATE/plain.log" '^done' 10 ||
			nok "plain TCP flow ended within 10 s of the session's end"
		stream_ok "plain TCP flow ha -> pub across the kill" "$LAB_STATE/plain.log" "$kt"
		stream_ok "session by fd passing (ha) and exec: cat (hb) across the kill and restart" \
			"$LAB_STATE/fdpass.log" "$kt"
		stop_all
	}
	RST_SIGNAL_CUT=0 RST_KILL_FROM=0 RST_KILL_TO=0
	;;&
server|all)
	echo "# stunt-server restart"
	start_all full-cone rst port-restricted rst && {
		for p in $(ip netns pids "$LAB-srv"); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = stunt-server ] && SP=$p
		done
		mapfile -d '' -t CMD_S <"/proc/$SP/cmdline"
		back_a=$(grep -c 'again in' "$LAB_STATE/stuntd-a.log")
		back_b=$(grep -c 'again in' "$LAB_STATE/stuntd-b.log")
		{ kill -9 "$SP"; wait "$SP"; } 2>/dev/null
		# down until both daemons have lost it and one retry each was refused
		lab_wait_log "$LAB_STATE/stuntd-a.log" 'again in' 20 $((back_a + 2)) &&
			lab_wait_log "$LAB_STATE/stuntd-b.log" 'again in' 20 $((back_b + 2)) ||
			nok "both daemons lost the server and backed off within 20 s"
		lab_bg srv server-2 "${CMD_S[@]}" >/dev/null
		lab_wait_port srv tcp "$LAB_SRV1" 3478 10 || nok "server up again"
		t0=$SECONDS
		if registered_within 20; then
			ok "both daemons registered again $((SECONDS - t0)) s after the server came back (<= 20)"
		else
			nok "both daemons registered again within 20 s"
			tail -5 "$LAB_STATE/stuntd-a.log" | sed 's/^/# A: /'
		fi
		grep -q 'again in' "$LAB_STATE/stuntd-a.log" && ok "laptop logged its backoff: $(grep -o 'again in [0-9]* ms' "$LAB_STATE/stuntd-a.log" | tr '\n' ' ')" ||
			nok "laptop logged its backoff"
		transfer b laptop "after the server restart: connect" "" "[a-z0-9]+"
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
