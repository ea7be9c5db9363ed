#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd's UDP hole punching (method udp) in the namespace lab (see
# t_stuntd.sh for the setup). ha "laptop" asks hb "office-pc" for its UDP
# service "uecho" (udp:127.0.0.1:7001, a datagram echo) with
# {"proto":"udp"}; the answer's socket is a connected UDP socket.
#   port-restricted x port-restricted, hb punching 50 ms late (a clock
#       skew): the TTL-limited first packet: 200 datagrams echo through,
#       the socket is connected to hb's public endpoint; errors: unknown
#       peer, a TCP service asked for UDP, a UDP service asked for TCP,
#       a TCP method with proto udp
#   the same, ha's first packet with the full TTL (udp-first-ttl 0): it
#       reaches gwb before hb sent anything; gwb answers ICMP port
#       unreachable and keeps a conntrack entry for it, hb's packets to ha
#       leave gwb from another public port, ha's port-restricted NAT drops
#       them: no session (and gwb's conntrack shows the two entries)
#   full-cone (ha) x port-restricted (hb): datagrams echo through
#   stuntctl connect --udp (-- COMMAND and stdio) through the same lab
# Bounded: each connect by stuntd's connect-timeout (5 s here).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
STUNTCTL=$BUILD/stuntctl

setup() {
	STUNTD_EXTRA_A=(--connect-timeout 5000)
	STUNTD_EXTRA_B=(--connect-timeout 5000 --expose uecho=udp:127.0.0.1:7001 --allow uecho=laptop)
}

# udp_echo LABEL N: a UDP session to office-pc/uecho by udp, N datagrams,
# the socket connected to hb's public address
udp_echo() {
	udp_session "$1" "$2" udp || return 1
	check_cmd "$1: connected to hb's public address ($LAB_WAN_B)" grep -q "^$LAB_WAN_B:" <<<"$LAST_PEER"
}

LAB_WAN_B=198.18.2.2

case "${1:-all}" in
pr-pr|all)
	echo "# port-restricted x port-restricted, hb 50 ms late, TTL-limited first packet"
	setup
	STUNTD_EXTRA_B+=(--config "/tmp/stuntd-udp-b-$$.conf")
	printf 'udp-test-delay 50\n' >"/tmp/stuntd-udp-b-$$.conf"
	start_all port-restricted rst port-restricted rst && {
		lab_bg hb uecho python3 "$here/echosrv.py" --udp 7001 >/dev/null
		sleep 0.3
		udp_echo "pr x pr" 200
		grep -q 'udp: .* (first packet TTL-limited)' "$LAB_STATE/stuntd-a.log" &&
			ok "pr x pr: ha's first packet was TTL-limited" || nok "pr x pr: TTL-limited first packet logged"
		udp_echo "pr x pr, a second session" 50
		expect_error a '{"cmd":"connect","peer":"nobody-here","service":"uecho","proto":"udp"}' \
			"unknown peer" "not registered"
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","proto":"udp"}' \
			"a TCP service asked for UDP" "TCP service"
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"uecho"}' \
			"a UDP service asked for TCP" "UDP service"
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"uecho","proto":"udp","method":"simopen"}' \
			"a TCP method with proto udp" "TCP method"
		if [ -x "$STUNTCTL" ]; then
			out=$(printf 'hello-over-udp\n' | lx ha timeout 10 "$STUNTCTL" --control "$LAB_STATE/a.sock" \
				connect office-pc/uecho --udp 2>&1 | head -1)
			check_eq "stuntctl connect --udp: stdin/stdout through the UDP session" "hello-over-udp" "$out"
			out=$(lx ha timeout 10 "$STUNTCTL" --control "$LAB_STATE/a.sock" connect office-pc/uecho \
				--udp -- python3 -c 'import os,socket
s = socket.socket(fileno=0)
s.send(b"via-fd0"); s.settimeout(2)
d = s.recv(100)
while d.startswith(b"STNU"): d = s.recv(100)
print(d.decode(), s.type == socket.SOCK_DGRAM, file=__import__("sys").stderr)' 2>&1 | tail -1)
			check_eq "stuntctl connect --udp -- COMMAND: the UDP socket is its fd 0" "via-fd0 True" "$out"
		fi
		stop_all
	}
	rm -f "/tmp/stuntd-udp-b-$$.conf"
	;;&
icmp|all)
	echo "# port-restricted x port-restricted, hb 50 ms late, ha's first packet with the full TTL"
	setup
	STUNTD_EXTRA_A+=(--config "/tmp/stuntd-udp-a-$$.conf")
	STUNTD_EXTRA_B+=(--config "/tmp/stuntd-udp-b-$$.conf")
	printf 'udp-first-ttl 0\n' >"/tmp/stuntd-udp-a-$$.conf"
	printf 'udp-test-delay 50\n' >"/tmp/stuntd-udp-b-$$.conf"
	start_all port-restricted rst port-restricted rst && {
		lab_bg hb uecho python3 "$here/echosrv.py" --udp 7001 >/dev/null
		lab_bg gwb icmpcap tcpdump -i wan -nn -U --immediate-mode -w "$LAB_STATE/icmp-b.pcap" \
			"icmp[icmptype] == icmp-unreach" >/dev/null
		sleep 0.5
		t0=$SECONDS
		out=$(ctl a --udp '{"cmd":"connect","peer":"office-pc","service":"uecho","proto":"udp"}' 10)
		echo "$out" | sed 's/^/# /'
		if echo "$out" | head -1 | grep -q '"ok":false'; then
			ok "full-TTL early first packet: no session ($(echo "$out" | head -1 | grep -o '"error":"[^"]*"'))"
		else
			nok "full-TTL early first packet: punching should fail"
		fi
		[ $((SECONDS - t0)) -le 10 ] && ok "bounded: failed within $((SECONDS - t0)) s" || nok "bounded"
		n=$(lx gwb tcpdump -nn -r "$LAB_STATE/icmp-b.pcap" 2>/dev/null | grep -c 'udp port .* unreachable')
		[ "${n:-0}" -ge 1 ] && ok "gwb answered ha's early packet with ICMP port unreachable ($n)" ||
			nok "gwb sent ICMP port unreachable"
		hbport=$(grep -o 'udp: port [0-9]* is 198.18.2.2:[0-9]*' "$LAB_STATE/stuntd-b.log" | tail -1 | sed 's/.*://')
		ct=$(lx gwb conntrack -L -p udp 2>/dev/null | grep 'dst=198.18.1.2\|src=198.18.1.2')
		echo "$ct" | sed 's/^/# gwb conntrack: /'
		# hb's flow to ha got another public port than the advertised $hbport
		moved=$(echo "$ct" | grep "src=10.2.0.10 .*sport=$hbport " | sed -n 's/.*\[UNREPLIED\].* dport=\([0-9]*\).*/\1/p' | head -1)
		if echo "$ct" | grep -q "src=10.2.0.10 .*sport=$hbport .*src=198.18.1.2 dst=198.18.2.2 sport=[0-9]* dport=$hbport" ; then
			nok "gwb kept hb's port $hbport for the flow to ha (port preservation intact?)"
		elif [ -n "$hbport" ] && echo "$ct" | grep -q "src=10.2.0.10 .*sport=$hbport "; then
			if [ -n "$moved" ] && [ "$moved" != "$hbport" ]; then
				ok "gwb: hb's flow to ha leaves from public port $moved, not its STUN-learned $hbport: the ICMP'd entry holds that one"
			else
				nok "gwb: hb's flow to ha moved to another public port (got '$moved')"
			fi
		else
			nok "gwb: hb's flow to ha in conntrack (port $hbport)"
		fi
		stop_all
	}
	rm -f "/tmp/stuntd-udp-a-$$.conf" "/tmp/stuntd-udp-b-$$.conf"
	;;&
fc-pr|all)
	echo "# full-cone (ha) x port-restricted (hb)"
	setup
	start_all full-cone rst port-restricted rst && {
		lab_bg hb uecho python3 "$here/echosrv.py" --udp 7001 >/dev/null
		sleep 0.3
		udp_echo "fc x pr" 200
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
