#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd with two stunt-servers (daemon/sig.c, daemon/srvpick.c) in the
# namespace lab (see t_stuntd.sh for the setup): server 1 is the lab's
# stunt-server (192.0.2.1/.2), server 2 a second one in srv on 192.0.2.3/.4
# with the same secrets; both stuntds get --server 192.0.2.1 --server
# 192.0.2.3, in that order.
#   port-restricted x port-restricted:
#     - both register with server 1 (status: server_index 1, "in use"),
#       a connect carries data;
#     - server 1 SIGKILLed while ha's connect waits for hb (its stuntd
#       stopped): that connect fails at once naming the lost server; both
#       are registered with server 2 within 10 s
#       (the time measured is printed), status names it and server 1 as
#       "down" with the reason, the log says why; a connect carries data
#       (both on server 2: without a shared registry, peers meet only on
#       the same server);
#     - server 1 started again: both move back within 20 s (their retry
#       backoff is 1 s doubling), the log says so, a connect carries data;
#     - SIGHUP adopts a changed list: a third stuntd (pub, id stranger)
#       configured with server 2 alone is given server 1 before it and
#       moves there;
#     - server 1 stopped (SIGSTOP: silent, its connections open): both
#       notice through the keepalive and are registered with server 2
#       within 15 s, the log says why, a connect carries data.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

SRV3=192.0.2.3
SRV4=192.0.2.4

# the second server: two more addresses in srv, the same secrets file
failover_hook() {
	lx srv ip addr add "$SRV3/24" dev eth0 || return 1
	lx srv ip addr add "$SRV4/24" dev eth0 || return 1
	lab_bg srv server2 "$SERVER" --primary "$SRV3" --alternate "$SRV4" -d \
		--secrets "$LAB_STATE/secrets" >/dev/null
	lab_wait_port srv tcp "$SRV4" 3479 10
}

# field X PYEXPR: a value of X's status (j: the JSON), empty when unreadable
field() {
	ctl "$1" '{"cmd":"status"}' | python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2" 2>/dev/null
}

# before REGEX: how many lines of the two stuntds' logs match REGEX now
# ("A B"); then wait_logs REGEX BOUND_S "A B": both logs gain one within
# BOUND_S (the logs, not status: a status request costs a namespace exec
# and a Python start, most of a second on a loaded machine)
before() {
	echo "$(grep -Ec "$1" "$LAB_STATE/stuntd-a.log") $(grep -Ec "$1" "$LAB_STATE/stuntd-b.log")"
}
wait_logs() {
	local cnt
	read -ra cnt <<<"$3"
	lab_wait_log "$LAB_STATE/stuntd-a.log" "$1" "$2" $((cnt[0] + 1)) &&
		lab_wait_log "$LAB_STATE/stuntd-b.log" "$1" "$2" $((cnt[1] + 1))
}

# log_ms T0_MS REGEX: ms from T0_MS (epoch) to the later of the first lines
# after T0 matching REGEX in the two stuntds' logs (their own clock: the
# status polls above are slow on a loaded machine)
log_ms() {
	python3 - "$1" "$2" "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" <<'PY'
import re, sys
from datetime import datetime
t0 = int(sys.argv[1]); worst = None
for f in sys.argv[3:]:
    for line in open(f, errors="replace"):
        ts = line.split(" ", 1)[0]
        try:
            t = int(datetime.fromisoformat(ts).timestamp() * 1000)
        except ValueError:
            continue
        if t >= t0 and re.search(sys.argv[2], line):
            worst = t - t0 if worst is None else max(worst, t - t0)
            break
    else:
        print("?"); sys.exit(0)
print(worst)
PY
}

start_all_hook() { failover_hook; }
STUNTD_EXTRA_A=(--server "$SRV3")
STUNTD_EXTRA_B=(--server "$SRV3")
start_all port-restricted rst port-restricted rst && {
	# a third stuntd (pub, id stranger) whose config names server 2 alone
	# (read again at SIGHUP as its unprivileged user: the state directory
	# must let it through); started now, used below
	chmod 711 "$LAB_STATE"
	printf 'server %s\n' "$SRV3" >"$LAB_STATE/c.conf"
	printf 's3cret-stranger\n' >"$LAB_STATE/secret-c"
	chmod 644 "$LAB_STATE/c.conf"
	chmod 600 "$LAB_STATE/secret-c"
	mkdir -p "$LAB_STATE/sc"
	PID_C=$(lab_bg pub stuntd-c "$STUNTD" -d -v --id stranger --config "$LAB_STATE/c.conf" \
		--secret-file "$LAB_STATE/secret-c" --control "$LAB_STATE/c.sock" \
		--state-dir "$LAB_STATE/sc" --rules-tool "$RULES_TOOL")
	check_eq "both registered with server 1" "$(before '\(server 1 of 2: ')" "1 1"
	# one status request a phase: each costs most of a second on a loaded machine
	check_eq "status: server 1 in use, server 2 standing by" "$(field a '"%s %s %s %s; %s %s" % (j["server_index"], j["servers"][0]["name"], j["servers"][0]["address"], j["servers"][0]["state"], j["servers"][1]["name"], j["servers"][1]["state"])')" "1 $LAB_SRV1 $LAB_SRV1:3478 in use; $SRV3 standby"
	transfer a office-pc "on server 1: ha -> hb"

	# a session in negotiation when the server goes: hb's stuntd stopped,
	# so ha's connect waits for its answer through server 1
	pid1=$(server_pid_at "$LAB_SRV1")
	n=$(before '\(server 2 of 2: ')
	nreq=$(grep -c 'connect to office-pc/echo requested' "$LAB_STATE/stuntd-a.log")
	kill -STOP "$PID_B"
	ctl a '{"cmd":"connect","peer":"office-pc","service":"echo"}' >"$LAB_STATE/inflight.out" &
	inflight=$!
	lab_wait_log "$LAB_STATE/stuntd-a.log" 'connect to office-pc/echo requested' 10 $((nreq + 1)) ||
		nok "ha's connect requested"
	t_kill=$(date +%s%3N)
	if [ -n "$pid1" ] && kill -KILL "$pid1"; then
		wait "$pid1" 2>/dev/null
		ok "server 1 (pid $pid1) killed"
	else
		nok "server 1's pid (got '$pid1')"
	fi
	wait "$inflight"
	kill -CONT "$PID_B"
	if grep -q "\"ok\":false.*lost server 1 ($LAB_SRV1): server closed the connection" "$LAB_STATE/inflight.out"; then
		ok "the session in negotiation failed at once: $(grep -o '"error":"[^"]*"' "$LAB_STATE/inflight.out")"
	else
		nok "the session in negotiation: $(cat "$LAB_STATE/inflight.out")"
	fi
	if wait_logs '\(server 2 of 2: ' 10 "$n"; then
		ok "both registered with server 2 within 10 s (logs: $(log_ms "$t_kill" "server 2 of 2: ") ms after the kill)"
	else
		nok "both registered with server 2 within 10 s"
		tail -8 "$LAB_STATE/stuntd-a.log" | sed 's/^/# a: /'
	fi
	# stuntctl status in words; server 1's reason: the loss, or a later
	# attempt's failure (it is retried)
	x=$(lx ha "$BUILD/stuntctl" --control "$LAB_STATE/a.sock" status)
	check_eq "stuntctl status names server 2 in use" "$(echo "$x" | grep '^server:')" "server: $SRV3:3478 ($SRV3, 2 of 2), registered"
	if echo "$x" | grep -q "^  2 $SRV3 ($SRV3:3478): in use for " &&
		echo "$x" | grep -Eq "^  1 $LAB_SRV1 \($LAB_SRV1:3478\): down, [0-9]+ failures?, next try in " &&
		echo "$x" | grep -Eq '^      (server closed the connection|Connection refused)$'; then
		ok "stuntctl status: server 1 down with the reason, server 2 in use"
	else
		nok "stuntctl status: the server lines"
		echo "$x" | sed 's/^/# /'
	fi
	if grep -q "server 1 ($LAB_SRV1 = $LAB_SRV1:3478) registered: server closed the connection" "$LAB_STATE/stuntd-a.log" &&
		grep -q "registered with $SRV3:3478 as laptop, seen as .* (server 2 of 2: $SRV3)" "$LAB_STATE/stuntd-a.log" &&
		lab_wait_log "$LAB_STATE/stuntd-a.log" "server changed: discovery again against server 2" 5; then
		ok "ha's log says server 1 closed, it registered with server 2 and measured its NAT against it"
	else
		nok "ha's log on the failover"
		grep -i server "$LAB_STATE/stuntd-a.log" | tail -6 | sed 's/^/# a: /'
	fi
	transfer b laptop "on server 2: hb -> ha"

	n=$(before 'moved from server 2 .* to the more preferred server 1')
	t_back=$(date +%s%3N)
	lab_bg srv server1b "$SERVER" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d \
		--secrets "$LAB_STATE/secrets" >/dev/null
	lab_wait_port srv tcp "$LAB_SRV2" 3479 10 || nok "server 1 up again"
	if wait_logs 'moved from server 2 .* to the more preferred server 1' 20 "$n"; then
		ok "both moved back to server 1 within 20 s (logs: $(log_ms "$t_back" "moved from server 2") ms after it was started)"
	else
		nok "both moved back to server 1 within 20 s"
		tail -8 "$LAB_STATE/stuntd-b.log" | sed 's/^/# b: /'
	fi
	check_eq "status: server 1 in use again, server 2 standing by, 2 changes" "$(field b '"%s %s; %s; %d" % (j["server_index"], j["servers"][0]["state"], j["servers"][1]["state"], j["server_changes"])')" "1 in use; standby; 2"
	transfer a office-pc "back on server 1: ha -> hb"

	# SIGHUP with a changed list: the third stuntd (started above) is given
	# server 1 before its server 2
	if lab_wait_log "$LAB_STATE/stuntd-c.log" "registered with $SRV3:3478 as stranger" 10; then
		printf 'server %s\nserver %s\n' "$LAB_SRV1" "$SRV3" >"$LAB_STATE/c.conf"
		kill -HUP "$PID_C"
		if lab_wait_log "$LAB_STATE/stuntd-c.log" "moved from server 2 \($SRV3\) to the more preferred server 1 \($LAB_SRV1\)" 10; then
			ok "SIGHUP with server 1 added before server 2: the stranger moved to server 1 ($(grep -o 'SIGHUP: server list changed.*' "$LAB_STATE/stuntd-c.log"))"
		else
			nok "SIGHUP with a changed list: the stranger did not move to server 1"
			tail -6 "$LAB_STATE/stuntd-c.log" | sed 's/^/# c: /'
		fi
		check_eq "the stranger's status after SIGHUP" "$(field c '" ".join("%s=%s" % (v["name"], v["state"]) for v in j["servers"])')" "$LAB_SRV1=in use $SRV3=standby"
	else
		nok "the stranger registered with server 2 within 10 s"
		tail -6 "$LAB_STATE/stuntd-c.log" | sed 's/^/# c: /'
	fi

	# a silent server 1 (stopped: its kernel still keeps the connections)
	pid1=$(server_pid_at "$LAB_SRV1")
	n=$(before '\(server 2 of 2: ')
	t_stop=$(date +%s%3N)
	[ -n "$pid1" ] && kill -STOP "$pid1" || nok "server 1 stopped (pid '$pid1')"
	if wait_logs '\(server 2 of 2: ' 15 "$n"; then
		ok "silent server 1: both registered with server 2 within 15 s (logs: $(log_ms "$t_stop" "server 2 of 2: ") ms after the stop)"
	else
		nok "silent server 1: both registered with server 2 within 15 s"
		tail -8 "$LAB_STATE/stuntd-a.log" | sed 's/^/# a: /'
	fi
	grep -q "server 1 ($LAB_SRV1 = $LAB_SRV1:3478) registered: silent: keepalive not answered" "$LAB_STATE/stuntd-b.log" &&
		ok "hb's log: server 1 silent" || nok "hb's log: no 'silent: keepalive not answered'"
	transfer b laptop "on server 2 again: hb -> ha"
	# killed, not continued: its late answers would meet closed sockets
	[ -n "$pid1" ] && kill -KILL "$pid1"
	stop_all
}
[ "$fails" -eq 0 ]
