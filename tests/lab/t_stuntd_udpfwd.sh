#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntctl forward --udp in the namespace lab (setup of t_stuntd.sh):
# port-restricted (ha) x port-restricted (hb). hb "office-pc" exposes a UDP
# echo as uecho=udp:127.0.0.1:7001 (and one on IPv6 loopback as
# uecho6=udp:[::1]:7001); on ha, `stuntctl forward --udp --idle 3
# 127.0.0.1:9100 office-pc/uecho` (its stderr is the log checked here).
#   two local clients (source ports 40001, 40002) at once, each a burst of 5
#       (queued while its traversal is made) and 100 one at a time: every
#       datagram echoed once to the client that sent it, none to the other;
#       one traversal each, logged with its source port
#   a client whose traversal fails (ha's path to stunt-server blocked at gwa
#       meanwhile) is logged with the reason while another client's session,
#       already up, keeps all its echoes; once unblocked a new client works
#   idle: 3 s without datagrams closes a session (logged); the same source
#       port later gets a new traversal
#   a second forwarder to office-pc/nosuch logs hb's refusal per client and
#       keeps running, the first one serving a client at the same time
#   SIGTERM: exit status 0, the open session closed ("0 open"), no socket of
#       stuntctl left in ha, port 9100 free again
# Bounded: stuntd's connect-timeout is 5 s; every wait below has a limit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
STUNTCTL=$BUILD/stuntctl
UDPCLIENT=$here/udpclient.py
[ -x "$STUNTCTL" ] || { nok "built: $STUNTCTL"; exit 1; }

STUNTD_EXTRA_A=(--connect-timeout 5000)
STUNTD_EXTRA_B=(--connect-timeout 5000 --expose uecho=udp:127.0.0.1:7001 --allow uecho=laptop
	--expose 'uecho6=udp:[::1]:7001' --allow uecho6=laptop)

# start_fwd NAME PORT TARGET [OPTIONS...]: a forwarder in ha; its log is
# $LAB_STATE/NAME.log, its pid in NAME.pid, its exit status in NAME.rc
start_fwd() {
	local name=$1 port=$2 target=$3
	shift 3
	lab_bg ha "$name" sh -c '"$@" & echo $! >"$0.pid"; wait $!; echo $? >"$0.rc"' \
		"$LAB_STATE/$name" "$STUNTCTL" --control "$LAB_STATE/a.sock" forward --udp "$@" \
		"127.0.0.1:$port" "$target" >/dev/null
	lab_wait_port ha udp 127.0.0.1 "$port" 10
}

# client OUT ARGS...: udpclient.py in ha, its report line into $LAB_STATE/OUT
client() {
	local out=$1
	shift
	lx ha python3 "$UDPCLIENT" "$@" >"$LAB_STATE/$out" 2>&1
}

# expect_report OUT LABEL SENT: exactly SENT own echoes, nothing foreign
expect_report() {
	local r
	r=$(cat "$LAB_STATE/$1")
	if grep -q "^tag .* sent $3 own $3 foreign 0 lost 0 " <<<"$r"; then
		ok "$2: $3 of $3 echoed to it, none foreign ($(sed 's/.*median_us/median rtt us/' <<<"$r"))"
	else
		nok "$2: want $3 own, 0 foreign; got: $r"
	fi
}

start_all port-restricted rst port-restricted rst || exit 1
lab_bg hb uecho python3 "$here/echosrv.py" --udp 7001 >/dev/null
start_fwd fwd 9100 office-pc/uecho --idle 3 || nok "forwarder listens on udp 127.0.0.1:9100"

echo "# two clients at once, distinct source ports"
client ca --bind 40001 --burst 5 127.0.0.1 9100 100 ca &
capid=$!
client cb --bind 40002 --burst 5 127.0.0.1 9100 100 cb &
wait $capid $!
expect_report ca "client 40001" 105
expect_report cb "client 40002" 105
for p in 40001 40002; do
	check_cmd "client $p: one traversal (method udp), its 5 early datagrams queued and sent" \
		grep -Eq "session [0-9]+ from 127.0.0.1:$p: office-pc/uecho connected by udp in [0-9]+ ms; 5 queued datagrams sent, 0 dropped" \
		"$LAB_STATE/fwd.log"
done
check_eq "two sessions opened for two clients" "$(grep -c 'new client' "$LAB_STATE/fwd.log")" 2

echo "# a UDP service on an IPv6 target (udp:[::1]:7001, beside the IPv4 one on the same port)"
lab_bg hb uecho6 python3 "$here/echosrv.py" --udp --bind ::1 7001 >/dev/null
lab_wait_port hb udp '\[::1\]' 7001 10 || nok "IPv6 UDP echo listens in hb"
start_fwd fwd6 9106 office-pc/uecho6 --idle 3 || nok "forwarder listens on udp 127.0.0.1:9106"
client c6 --bind 40016 --burst 2 127.0.0.1 9106 20 c6
expect_report c6 "client 40016 to office-pc/uecho6" 22

echo "# a traversal that fails (ha cannot reach stunt-server) while another session is up"
# stuntd drops the silent server (its keepalive); once the path is back the
# old connection's late segments get RSTs from ha: stop_all lists them
RST_SIGNAL_CUT=1
client cc --bind 40003 --interval-ms 20 127.0.0.1 9100 300 cc &
ccpid=$!
if lab_wait_log "$LAB_STATE/fwd.log" "from 127.0.0.1:40003: office-pc/uecho connected" 15; then
	lx gwa iptables -I FORWARD -d 192.0.2.0/24 -j DROP
	client cd --bind 40004 --burst 3 --burst-wait 3 127.0.0.1 9100 0 cd
	if lab_wait_log "$LAB_STATE/fwd.log" "from 127.0.0.1:40004: office-pc/uecho: .*; 3 datagrams dropped" 15; then
		ok "client 40004: its failed traversal logged: $(grep -o 'from 127.0.0.1:40004: office-pc/uecho: [^;]*' "$LAB_STATE/fwd.log" | head -1)"
	else
		nok "client 40004: a failed traversal logged"
	fi
	lx gwa iptables -D FORWARD -d 192.0.2.0/24 -j DROP
else
	nok "client 40003 connected"
fi
wait "$ccpid"
expect_report cc "client 40003 (up while 40004 failed)" 300
check_cmd "the forwarder still runs after a failed client" _lab_alive "$(cat "$LAB_STATE/fwd.pid")"
client ce --bind 40005 --burst 1 --burst-wait 30 127.0.0.1 9100 20 ce
expect_report ce "client 40005 (after the failure, server reachable again)" 21

echo "# idle timeout"
if lab_wait_log "$LAB_STATE/fwd.log" "session [0-9]+ from 127.0.0.1:40001: closed \(idle 3 s, was connected\)" 10 &&
	lab_wait_log "$LAB_STATE/fwd.log" "session [0-9]+ from 127.0.0.1:40002: closed \(idle 3 s, was connected\)" 1; then
	ok "idle 3 s: the sessions of 40001 and 40002 closed ($(grep -o 'from 127.0.0.1:40001: closed.*' "$LAB_STATE/fwd.log"))"
else
	nok "idle sessions closed"
fi
client ca2 --bind 40001 127.0.0.1 9100 10 ca2
expect_report ca2 "client 40001 again, after its idle close" 10
check_eq "client 40001: a second traversal after the idle close" \
	"$(grep -c 'from 127.0.0.1:40001: office-pc/uecho connected' "$LAB_STATE/fwd.log")" 2

echo "# a forwarder to an unknown service, the first one serving meanwhile"
start_fwd fwd2 9101 office-pc/nosuch || nok "second forwarder listens"
client cf --bind 40006 --burst 2 --burst-wait 3 127.0.0.1 9101 0 cf &
cfpid=$!
client cg --bind 40007 --burst 1 127.0.0.1 9100 50 cg
wait "$cfpid"
expect_report cg "client 40007 on the first forwarder" 51
if lab_wait_log "$LAB_STATE/fwd2.log" "from 127.0.0.1:40006: office-pc/nosuch: .*; 2 datagrams dropped" 10; then
	ok "unknown service: logged: $(grep -o 'from 127.0.0.1:40006: office-pc/nosuch: [^;]*' "$LAB_STATE/fwd2.log" | head -1)"
else
	nok "unknown service: the refusal logged"
	sed 's/^/# fwd2: /' "$LAB_STATE/fwd2.log"
fi
check_cmd "the unknown-service forwarder still runs" _lab_alive "$(cat "$LAB_STATE/fwd2.pid")"
client ch --bind 40008 --burst 1 --burst-wait 3 127.0.0.1 9101 0 ch
lab_wait_log "$LAB_STATE/fwd2.log" "from 127.0.0.1:40008: office-pc/nosuch: " 10 &&
	ok "unknown service: a second client gets its own logged error" ||
	nok "unknown service: a second client's error logged"

echo "# SIGTERM with a session open"
client ci --bind 40009 127.0.0.1 9100 5 ci
expect_report ci "client 40009" 5
for n in fwd fwd2 fwd6; do
	pid=$(cat "$LAB_STATE/$n.pid")
	kill -TERM "$pid"
	for _ in $(seq 1 50); do
		[ -s "$LAB_STATE/$n.rc" ] && break
		sleep 0.1
	done
	check_eq "$n: SIGTERM: exit status" "$(cat "$LAB_STATE/$n.rc" 2>/dev/null)" 0
done
check_cmd "SIGTERM: the open session closed, none left" \
	grep -Eq "stopped: 1 session closed, 0 open" "$LAB_STATE/fwd.log"
check_cmd "SIGTERM: the session of 40009 was closed as 'stopping'" \
	grep -q "from 127.0.0.1:40009: closed (stopping, was connected)" "$LAB_STATE/fwd.log"
check_eq "SIGTERM: sockets of stuntctl left in ha" "$(lx ha ss -Hanp 2>/dev/null | grep -c stuntctl)" 0
check_cmd "SIGTERM: udp 127.0.0.1:9100 free again" lx ha python3 -c \
	'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.1", 9100))'
sed 's/^/# fwd: /' "$LAB_STATE/fwd.log"
stop_all
[ "$fails" -eq 0 ]
