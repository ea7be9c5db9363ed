#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The daemon's own SYN clock (issue 14, daemon/trav/pace.h) in the namespace
# lab (see t_stuntd.sh for the setup): full-cone ha x full-cone hb, a forced
# `direct` connect, and each gateway drops the first bare SYN that comes in
# from its WAN towards its host (nft quota: one SYN, then never again).
#   pacing on (the default): the connect carries 5 MB; exactly one SYN was
#     dropped; a stuntd sent a copy of its SYN (counters.direct.syns_again
#     >= 1, its log says "copy 1 sent"), and neither host's kernel
#     retransmitted a SYN (TcpExt TCPSynRetrans unchanged): the copy, not the
#     kernel's 1 s timer, completed the handshake;
#   --syn-pacing off: the same connect also carries 5 MB, no copy is sent
#     (syns_again 0) and a kernel SYN retransmission is what got it through
#     (TCPSynRetrans grew): the check above can tell the two apart.
#   stunt1 (port-restricted x port-restricted, forced): gwa drops the first
#     SYN-ACK that comes in from its WAN -- the server's spoofed SYN-ACK to
#     ha -- so hb is established and ha is not; ha asks the server again
#     ("asked the server again (1 of 3)"), the server sends ha's SYN-ACK
#     once more and the connect carries 5 MB (without the repeat it ran out
#     of time: ha's SYNs only ever get ACKs from an established hb).
#   simopen6 (IPv6 drop x drop firewalls, forced): gwb drops the first IPv6
#     SYN towards hb -- ha's, at full hop limit (hb's own, hop-limited, dies
#     past gwb) -- with pacing on ha sends a copy (counters.simopen6.
#     syns_again >= 1, "copy 1 sent"), its kernel retransmits none and the
#     privileged part refuses no copy; with pacing off no copy, and a
#     kernel retransmission (ha's or hb's: either completes it) does it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

# drop_first_syn GW: GW's forward path drops the first bare SYN it passes
# towards its LAN (10/8), then none: a quota of 80 bytes holds one SYN.
drop_first_syn() {
	lx "$1" nft -f - <<'EOF'
table inet stlpace {
	chain f {
		type filter hook forward priority -5;
		ip daddr 10.0.0.0/8 tcp flags & (syn | ack) == syn quota until 80 bytes counter drop
	}
}
EOF
}

# drop_first_synack GW: the same for the first SYN-ACK
drop_first_synack() {
	lx "$1" nft -f - <<'EOF'
table inet stlpace {
	chain f {
		type filter hook forward priority -5;
		ip daddr 10.0.0.0/8 tcp flags & (syn | ack) == syn | ack quota until 80 bytes counter drop
	}
}
EOF
}

# dropped GW: packets GW's rule dropped
dropped() {
	lx "$1" nft list table inet stlpace 2>/dev/null | grep -o 'counter packets [0-9]*' | awk '{ print $3 }'
}

# drop_first_syn6 GW ADDR: the same over IPv6, towards ADDR (an IPv6 SYN
# with its options is 80 bytes: a quota of 100 holds one)
drop_first_syn6() {
	lx "$1" nft -f - <<EOF
table inet stlpace {
	chain f {
		type filter hook forward priority -5;
		ip6 daddr $2 tcp flags & (syn | ack) == syn quota until 100 bytes counter drop
	}
}
EOF
}

# syns_again X [METHOD]: counters.METHOD.syns_again in X's status (METHOD
# direct unless given; 0 when absent)
syns_again() {
	ctl "$1" '{"cmd":"status"}' | M=${2:-direct} python3 -c '
import json, os, sys
print(json.load(sys.stdin).get("counters", {}).get(os.environ["M"], {}).get("syns_again", 0))' 2>/dev/null
}

# run LABEL: the forced direct connect with one SYN lost, its counts in
# $got_drop, $got_again, $got_retrans
run() {
	local ra rb
	got_drop=-1 got_again=-1 got_retrans=-1
	drop_first_syn gwa && drop_first_syn gwb || { nok "nft rules in gwa and gwb"; return 1; }
	ra=$(synretrans ha)
	rb=$(synretrans hb)
	transfer a office-pc "$1" direct direct
	got_drop=$(( $(dropped gwa) + $(dropped gwb) ))
	got_again=$(( $(syns_again a) + $(syns_again b) ))
	got_retrans=$(( $(synretrans ha) - ra + $(synretrans hb) - rb ))
	echo "# SYNs dropped $got_drop, daemon copies $got_again, kernel SYN retransmissions $got_retrans"
}

case "${1:-all}" in
on|all)
	echo "# full-cone x full-cone, forced direct, the first SYN lost; pacing on"
	start_all full-cone rst full-cone rst && {
		run "direct with its first SYN lost (pacing on)"
		[ "$got_drop" = 1 ] && ok "one SYN was dropped on the way" || nok "SYNs dropped: $got_drop (want 1)"
		[ "$got_again" -ge 1 ] && ok "a stuntd sent its SYN again (syns_again $got_again)" ||
			nok "no SYN copy counted (syns_again $got_again)"
		grep -hq 'direct: SYN seq [0-9]* from port [0-9]* to [0-9]* unanswered: copy 1 sent' \
			"$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" &&
			ok "its log names the copy" || nok "no 'copy 1 sent' in the logs"
		[ "$got_retrans" = 0 ] && ok "no kernel SYN retransmission: the copy completed the handshake" ||
			nok "the kernel retransmitted $got_retrans SYN(s)"
		stop_all
	}
	;;
esac
case "${1:-all}" in
off|all)
	echo "# the same with --syn-pacing off: the kernel's timer does it"
	STUNTD_EXTRA_A=(--syn-pacing off)
	STUNTD_EXTRA_B=(--syn-pacing off)
	start_all full-cone rst full-cone rst && {
		run "direct with its first SYN lost (pacing off)"
		[ "$got_drop" = 1 ] && ok "one SYN was dropped on the way" || nok "SYNs dropped: $got_drop (want 1)"
		[ "$got_again" = 0 ] && ok "no SYN copy sent with --syn-pacing off" ||
			nok "syns_again $got_again with pacing off"
		[ "$got_retrans" -ge 1 ] && ok "the kernel retransmitted the SYN ($got_retrans)" ||
			nok "no kernel SYN retransmission with pacing off"
		stop_all
	}
	;;
esac
case "${1:-all}" in
stunt1|all)
	echo "# port-restricted x port-restricted, forced stunt1, ha's SYN-ACK from the server lost"
	STUNTD_EXTRA_A=()
	STUNTD_EXTRA_B=()
	start_all port-restricted rst port-restricted rst && {
		drop_first_synack gwa || nok "nft rule in gwa"
		transfer a office-pc "stunt1 with ha's SYN-ACK lost" stunt1 stunt1
		n=$(dropped gwa)
		[ "$n" = 1 ] && ok "gwa dropped one SYN-ACK" || nok "gwa dropped '$n' SYN-ACKs (want 1)"
		grep -q 'stunt1: still no SYN-ACK; asked the server again (1 of 3)' "$LAB_STATE/stuntd-a.log" &&
			ok "ha asked the server for its SYN-ACK again" || nok "ha's log: no repeated SYNACK request"
		grep -q 'stunt1: still no SYN-ACK' "$LAB_STATE/stuntd-b.log" &&
			nok "hb asked again although its SYN-ACK arrived" || ok "hb (its SYN-ACK arrived) did not ask again"
		stop_all
	}
	;;
esac
case "${1:-all}" in
simopen6|all)
	# simopen6, hb first: hb's SYN is hop-limited (it dies past gwb), ha's
	# goes at full hop limit and is the one the clock sends again
	for pacing in on off; do
		echo "# IPv6 drop x drop firewalls, forced simopen6, ha's SYN lost at gwb; pacing $pacing"
		STUNTD_EXTRA_A=(--syn-pacing "$pacing")
		STUNTD_EXTRA_B=(--syn-pacing "$pacing")
		start_all port-restricted rst port-restricted rst --ipv6 --fw6-a drop --fw6-b drop || continue
		drop_first_syn6 gwb "$LAB_HB6" || nok "nft rule in gwb"
		ra=$(synretrans ha)
		rb=$(synretrans hb)
		transfer a office-pc "simopen6 with ha's SYN lost (pacing $pacing)" simopen6 simopen6
		n=$(dropped gwb)
		again=$(syns_again a simopen6)
		retrans=$(( $(synretrans ha) - ra ))
		retrans_b=$(( $(synretrans hb) - rb ))
		echo "# SYNs dropped $n, ha's copies $again, kernel SYN retransmissions: ha $retrans, hb $retrans_b"
		[ "$n" = 1 ] && ok "gwb dropped one IPv6 SYN (pacing $pacing)" ||
			nok "gwb dropped '$n' IPv6 SYNs (want 1, pacing $pacing)"
		if [ "$pacing" = on ]; then
			[ "$again" -ge 1 ] && ok "ha sent its IPv6 SYN again (simopen6 syns_again $again)" ||
				nok "no IPv6 SYN copy counted (syns_again $again)"
			grep -q 'simopen6: SYN seq [0-9]* from port [0-9]* to [0-9]* unanswered: copy 1 sent' \
				"$LAB_STATE/stuntd-a.log" && ok "ha's log names the copy" ||
				nok "no simopen6 'copy 1 sent' in ha's log"
			[ "$retrans" = 0 ] && ok "no kernel SYN retransmission in ha: the copy completed the handshake" ||
				nok "ha's kernel retransmitted $retrans SYN(s)"
			grep -q 'refused to inject' "$LAB_STATE/stuntd-a.log" &&
				nok "ha's privileged part refused a copy: $(grep -m1 'refused to inject' "$LAB_STATE/stuntd-a.log")" ||
				ok "ha's privileged part refused no copy"
		else
			[ "$again" = 0 ] && ok "no IPv6 SYN copy with --syn-pacing off" ||
				nok "syns_again $again with pacing off"
			# either kernel's retransmission completes it, about 1 s
			# on: ha's SYN again, or hb's (at full hop limit now),
			# which meets ha's socket still in SYN_SENT
			[ $((retrans + retrans_b)) -ge 1 ] &&
				ok "a kernel retransmitted a SYN (ha $retrans, hb $retrans_b)" ||
				nok "no kernel SYN retransmission in ha or hb with pacing off"
		fi
		stop_all
	done
	;;
esac
[ "$fails" -eq 0 ]
