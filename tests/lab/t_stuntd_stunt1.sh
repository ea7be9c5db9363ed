#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# STUNT #1 and synth in the namespace lab (see t_stuntd.sh for the setup):
#   port-restricted x port-restricted  stunt1 forced both ways, the
#                                      strategy's race; synth forced both ways
#   full-cone x port-restricted        stunt1 forced both ways
# plus stunt-server's refusals of SYNACK requests (a session it never
# relayed, a third party naming a real session), counted in its --stats,
# and the conntrack entries both SYN-ACKs left in gwa (ESTABLISHED, and
# gwa's WAN never forwarded a private source); and the literal SYN-ACK
# synthesis failing through a Linux NAT (literal()). Every connect moves 5 MB
# through the echo service with the sha256 compared; no RST may leave.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
fails=0
SERVER_EXTRA=(--stats --status-interval 0)

server_pid() {
	local p
	for p in "${LAB_PIDS[@]}"; do
		grep -q stunt-server "/proc/$p/cmdline" 2>/dev/null && { echo "$p"; return; }
	done
}

stats_json() {
	kill -USR1 "$(server_pid)"
	sleep 0.3
	grep '^{' "$LAB_STATE/server.log" | tail -1
}

# A third registered id ("stranger") asks for SYN-ACKs: for a session the
# server never relayed, and naming office-pc in the session laptop has with it.
# It logs in and seals its requests as stuntd does (stunwire.SigConn), so the
# server's answer is about the SYNACK's authorization, not a missing seal;
# the answers must verify with its session key.
STRANGER='
import struct, sys
from stunwire import SigConn
srv, sid = sys.argv[1], int(sys.argv[2])
def text(t, s): return (t, s.encode())
c = SigConn(srv)
print("login", c.login(b"stranger", b"s3cret-stranger"))
syn = struct.pack("!HHIHBBI", 40000, 64240, 12345, 1460, 7, 15, 99)
for peer, s in (("office-pc", sid), ("laptop", 77777)):
    c.sreq(0x0B6, [text(0x5A10, peer), (0x5A18, struct.pack("!I", s)), (0x5A1C, syn)])
    t, cl, a, raw, ver = c.srecv()
    print("synack", peer, cl, c.code(a), "verified" if ver else "unverified")
'

pr_pr() {
	echo "# port-restricted (ha) x port-restricted (hb)"
	start_all port-restricted rst port-restricted rst || return
	lab_bg gwa ct-gwa conntrack -E -p tcp >/dev/null
	lab_bg gwa wan-gwa tcpdump -i wan -nn -U -l --immediate-mode "tcp and src net 10.0.0.0/8" >/dev/null
	sleep 0.3
	transfer a office-pc "port-restricted ha -> hb, --method stunt1" stunt1 stunt1
	transfer b laptop "port-restricted hb -> ha, --method stunt1" stunt1 stunt1
	n=$(grep -c 'STUNT #1: SYN-ACKs sent' "$LAB_STATE/server.log")
	check_eq "stunt-server sent the SYN-ACK pairs" "$n" 2
	# gwa: our SYN's entry went SYN_SENT -> SYN_RECV (the server's SYN-ACK)
	# -> ESTABLISHED (our ACK), and nothing left its WAN untranslated
	if grep -q 'SYN_RECV' "$LAB_STATE/ct-gwa.log" && grep -q 'ESTABLISHED' "$LAB_STATE/ct-gwa.log"; then
		ok "gwa's conntrack: SYN_SENT -> SYN_RECV -> ESTABLISHED"
	else
		nok "gwa's conntrack states"; sed 's/^/# /' "$LAB_STATE/ct-gwa.log" | tail -10
	fi
	n=$(grep -c ' IP 10\.' "$LAB_STATE/wan-gwa.log")
	check_eq "packets with a private source on gwa's WAN" "$n" 0
	sid=$(sed -n 's/.*session \([0-9]*\): stunt1 established.*/\1/p' "$LAB_STATE/stuntd-a.log" | head -1)
	out=$(lx pub env PYTHONPATH="$here" python3 -c "$STRANGER" "$LAB_SRV1" "${sid:-1}" 2>&1)
	echo "$out" | sed 's/^/# stranger: /'
	echo "$out" | grep -q '^login 200$' && ok "the third party logged in (sealed from then on)" ||
		nok "the third party's login: $out"
	echo "$out" | grep -q '^synack office-pc 3 403 verified$' &&
		ok "SYNACK from a third party naming a real session: 403 (answer verified)" ||
		nok "SYNACK from a third party: $out"
	echo "$out" | grep -q '^synack laptop 3 403 verified$' &&
		ok "SYNACK for a session the server does not know: 403 (answer verified)" ||
		nok "SYNACK for an unknown session: $out"
	js=$(stats_json)
	echo "$js" | grep -Eq '"forbidden":2[,}]' && ok "stunt-server counts both refusals ($(echo "$js" | grep -o '"forbidden":[0-9]*'), $(echo "$js" | grep -o '"synack_sent":[0-9]*'))" ||
		nok "stunt-server's counters: $js"
	transfer a office-pc "port-restricted x port-restricted, the strategy's race" "" "simopen|stunt1"
	transfer a office-pc "port-restricted ha -> hb, --method synth" synth synth
	transfer b laptop "port-restricted hb -> ha, --method synth" synth synth
	# each synth connect: at least one side sent its SYN again (the other
	# may be established by then, by the first one's SYN)
	n=$(cat "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" | grep -c 'synth: SYN seq [0-9]* sent again')
	[ "$n" -ge 2 ] && ok "synth: the first SYNs were sent again at full TTL ($n times in 2 connects)" ||
		nok "synth repeats in ha and hb: $n"
	stop_all
}

# The literal SYN-ACK synthesis, without stuntd: ha connects with a TTL-2
# SYN, reads its ISN and TSval off the wire, and hands its own kernel a
# SYN-ACK "from" hb's public endpoint (raw socket to itself); the kernel
# answers with an ACK. gwa's conntrack holds the SYN in SYN_SENT, where an
# ACK in the original direction is INVALID: it is not translated and leaves
# gwa's WAN with ha's private address (daemon/trav/synth.c). Asserted so that a
# kernel that one day behaves otherwise is noticed.
literal() {
	echo "# the literal synthesis through a Linux NAT (port-restricted x port-restricted)"
	lab_init synlit
	trap lab_down EXIT
	lab_up --nat-a port-restricted --nat-b port-restricted || { nok "lab up"; return; }
	lab_bg gwa ct-lit conntrack -E -p tcp --dport 40001 >/dev/null
	lab_bg gwa wan-lit tcpdump -i wan -nn -U -l --immediate-mode "tcp port 40001" >/dev/null
	sleep 0.5
	out=$(lx ha timeout 10 python3 -u "$here/synth_literal.py" 40001 198.18.2.2 40001 2>&1; echo "rc $?")
	echo "$out" | sed 's/^/# ha: /'
	sleep 0.5
	sed 's/^/# gwa wan: /' "$LAB_STATE/wan-lit.log"
	echo "$out" | grep -q '^SO_ERROR 0' && ok "ha's kernel took the injected SYN-ACK (connected)" ||
		nok "ha's kernel did not connect"
	grep -Eq 'IP 10\.1\.0\.10\.40001 > 198\.18\.2\.2\.40001: Flags \[\.\]' "$LAB_STATE/wan-lit.log" &&
		ok "its ACK left gwa's WAN untranslated (private source): the literal method cannot work" ||
		nok "the ACK on gwa's WAN"
	# the entry must have been seen (an empty log proves nothing), in
	# SYN_SENT, and never moved on
	sed 's/^/# gwa ct: /' "$LAB_STATE/ct-lit.log"
	if ! grep -Eq 'SYN_SENT src=10\.1\.0\.10 dst=198\.18\.2\.2 sport=40001 dport=40001' "$LAB_STATE/ct-lit.log"; then
		nok "gwa's conntrack: no SYN_SENT entry for ha's SYN seen"
	elif grep -q 'SYN_RECV\|ESTABLISHED' "$LAB_STATE/ct-lit.log"; then
		nok "gwa's entry moved on from SYN_SENT"
	else
		ok "gwa's conntrack entry stayed SYN_SENT"
	fi
	lab_down
}

fc_pr() {
	echo "# full-cone (ha) x port-restricted (hb)"
	start_all full-cone rst port-restricted rst || return
	transfer a office-pc "full-cone ha -> hb, --method stunt1" stunt1 stunt1
	transfer b laptop "port-restricted hb -> ha, --method stunt1" stunt1 stunt1
	stop_all
}

case "${1:-all}" in
pr-pr) pr_pr ;;
fc-pr) fc_pr ;;
literal) literal ;;
*) literal; pr_pr; fc_pr ;;
esac
[ "$fails" -eq 0 ]
