#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd's relay fallback: the race of direct methods failed, the same
# connect goes on through a TURN relay (the relay round, SIG-ROUND; see
# stuntd.8). coturn on srv (192.0.2.1:3490) as in t_stuntd_relay.sh.
# The peer-to-peer path is cut after both daemons registered: inet drops
# all TCP between the NAT WAN addresses 198.18.1.2 and 198.18.2.2 (the
# server and coturn stay reachable), so the strategy still offers direct
# methods (simopen, stunt1 for two port-restricted cones) but none can work.
#   fb:   ha without TURN, hb with TURN, path cut:
#         ha -> hb falls back to relay allocated by hb (the responder);
#         hb -> ha falls back to relay allocated by hb (the requester: ha
#         has no TURN server); both "relayed": true, 5 MB echoed intact,
#         the logs say why; afterwards no allocation, no session still
#         running, no socket in SYN-SENT; path restored: a direct method
#         again, not relayed;
#   none: no TURN anywhere, path cut: the error names the direct failure
#         and the missing relay; the daemon keeps serving (path restored:
#         the next connect works).
#   unmet: ha behind eim-random without TURN, hb with TURN; inet drops new
#         TCP from ha's NAT to the server's STUN port after registration,
#         so ha learns no public port and offers relay alone: hb starts
#         relay at once ("offered no usable candidate for ...: relay from the start",
#         never "no common method"); Bindings answered again: direct.
#   bench (not in "all"): 5 fallback connects and 5 --method relay
#         connects on the cut path in the same run; medians of elapsed_ms.
# No RST may leave ha or hb.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
# shellcheck source=tests/lab/refservers.sh
. "$here/refservers.sh"

TURN_PORT=3490
TURN_ARGS=(--turn "$LAB_SRV1:$TURN_PORT" --turn-user stunt --turn-pass turn-pass-1)

start_all_hook() {
	ref_start_turn "$TURN_PORT" stunt turn-pass-1 lab
}

# cut / restore the peer-to-peer path (TCP between the two NAT WANs) in inet
cut_path() {
	lx inet nft -f - <<EOF
table inet relayfb_cut {
  chain cut {
    type filter hook forward priority 0; policy accept;
    ip saddr 198.18.1.2 ip daddr 198.18.2.2 meta l4proto tcp counter drop
    ip saddr 198.18.2.2 ip daddr 198.18.1.2 meta l4proto tcp counter drop
  }
}
EOF
}
restore_path() {
	lx inet nft delete table inet relayfb_cut
}
# packets the cut dropped so far
cut_drops() {
	lx inet nft list table inet relayfb_cut 2>/dev/null | grep -o 'packets [0-9]*' |
		awk '{ n += $2 } END { print n + 0 }'
}

# no_leftovers LABEL: no allocation held, no session still negotiating or
# racing, no TCP socket in SYN-SENT in ha or hb
no_leftovers() {
	local x st n=0 busy=""
	for x in a b; do
		st=$(ctl "$x" '{"cmd":"status"}')
		echo "$st" | grep -q '"relays":0[,}]' || busy="$busy h$x:relays=$(echo "$st" | grep -o '"relays":[0-9]*')"
		echo "$st" | grep -Eq '"state":"(lookup|mapping|exchange|schedule|scheduled|running|confirm)"' &&
			busy="$busy h$x:$(echo "$st" | grep -Eo '"state":"[a-z]*"' | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
	done
	for x in ha hb; do
		n=$((n + $(lx "$x" ss -Htn state syn-sent | wc -l)))
	done
	if [ -z "$busy" ] && [ "$n" -eq 0 ]; then
		ok "$1: no allocation held, no session running, no socket in SYN-SENT"
	else
		nok "$1: leftovers:$busy syn-sent=$n"
	fi
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

case "${1:-all}" in
fb|all)
	echo "# port-restricted (ha, no TURN) x port-restricted (hb, TURN), TCP between the WANs cut"
	STUNTD_EXTRA_A=()
	STUNTD_EXTRA_B=("${TURN_ARGS[@]}")
	start_all port-restricted rst port-restricted rst && {
		cut_path && ok "path between 198.18.1.2 and 198.18.2.2 cut in inet" || nok "nft cut"
		rtransfer a office-pc "ha -> hb, direct race on a cut path, then relay by the responder"
		[ "$(cut_drops)" -gt 0 ] && ok "the direct attempts were dropped by the cut ($(cut_drops) packets)" ||
			nok "nothing dropped by the cut: the direct race never ran?"
		l=$(grep -E 'the direct race failed after [0-9]+ ms' "$LAB_STATE/stuntd-a.log" | tail -1)
		echo "# ha: ${l#*: }"
		echo "$l" | grep -Eq "racing|simopen|stunt1" &&
			echo "$l" | grep -q "share of the deadline ran out" &&
			echo "$l" | grep -q "falling back to relay, allocated by office-pc" &&
			ok "ha logged why it fell back (its race, the share ran out, who allocates)" ||
			nok "ha's fallback log line: $l"
		grep -Eq 'laptop starts the relay round \(the direct race.s share of the deadline ran out after [0-9]+ ms\): we allocate' \
			"$LAB_STATE/stuntd-b.log" && ok "hb logged the relay round and that it allocates" ||
			nok "hb's relay round log: $(grep 'relay round' "$LAB_STATE/stuntd-b.log" | tail -1)"
		grep -Eq 'racing (simopen|stunt1)' "$LAB_STATE/stuntd-b.log" &&
			ok "the strategy offered direct methods ($(grep -o 'racing .*' "$LAB_STATE/stuntd-b.log" | tail -1))" ||
			nok "hb's first race: $(grep -o 'racing .*' "$LAB_STATE/stuntd-b.log" | tail -1)"
		if lab_wait_log "$LAB_STATE/stuntd-b.log" 'relay: allocation .* deleted' 5; then
			ok "hb deleted the allocation after the connection ended"
		else
			nok "hb's allocation not deleted"
		fi

		rtransfer b laptop "hb -> ha, cut path: relay allocated by the requester hb (ha has no TURN)"
		grep -q 'falling back to relay, allocated by us (the peer has no TURN server)' "$LAB_STATE/stuntd-b.log" &&
			ok "hb logged that it allocates (the peer has no TURN server)" ||
			nok "hb's fallback log: $(grep 'falling back' "$LAB_STATE/stuntd-b.log" | tail -1)"
		grep -q 'office-pc starts the relay round .*it allocated, we connect' "$LAB_STATE/stuntd-a.log" &&
			ok "ha connected to hb's relayed address" ||
			nok "ha's relay round: $(grep 'relay round' "$LAB_STATE/stuntd-a.log" | tail -1)"
		if lab_wait_log "$LAB_STATE/stuntd-b.log" 'relay: allocation .* deleted' 5 2; then
			ok "hb deleted the requester-side allocation after the connection ended"
		else
			nok "requester-side allocation not deleted"
		fi
		if grep -Eq 'REFRESH processed, success' "$LAB_STATE/coturn-$TURN_PORT.log"; then
			ok "coturn processed the deleting Refreshes"
		else
			nok "coturn saw no Refresh"
		fi
		sleep 1
		no_leftovers "after both fallbacks"

		restore_path && ok "path restored" || nok "nft restore"
		out=$(ctl a '{"cmd":"connect","peer":"office-pc","service":"echo"}')
		echo "$out" | sed 's/^/# /'
		echo "$out" | grep -Eq '"ok":true.*"method":"(simopen|stunt1)".*"relayed":false' &&
			ok "path restored: a direct method again, not relayed" || nok "after the restore: $out"
		stop_all
	}
	;;&
none|all)
	echo "# port-restricted x port-restricted, no TURN anywhere, TCP between the WANs cut"
	STUNTD_EXTRA_A=()
	STUNTD_EXTRA_B=()
	start_all_hook() { :; }
	start_all port-restricted rst port-restricted rst && {
		cut_path || nok "nft cut"
		# (with TCP's retransmission timeout capped at 1 s the kernel gives a
		# cut SYN up after about 7 s, before the 10 s deadline: either way)
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo"}' \
			"cut path, no TURN anywhere: the direct failure and the missing relay" \
			'(no connection within [0-9]+ ms \((simopen|stunt1): .*\)|every method failed \(the last, (simopen|stunt1): .*\)); no relay to fall back to: no TURN server configured on either side'
		! grep -q 'falling back' "$LAB_STATE/stuntd-a.log" && ok "no relay round was tried" ||
			nok "a relay round without a TURN server"
		ctl a '{"cmd":"status"}' | grep -q '"registered":true' &&
			ok "ha still serving after the failed connect" || nok "ha status"
		restore_path || nok "nft restore"
		transfer a office-pc "path restored: ha -> hb works again" "" "simopen|stunt1"
		sleep 1
		no_leftovers "after the failure"
		stop_all
	}
	;;&
unmet|all)
	# An EIM NAT that picks its own ports (eim-random): the requester
	# learns each method's public port by a Binding from its socket; when
	# those Bindings get no answer (here: inet drops new TCP to the
	# server's STUN port once both registered) it offers no port for the
	# strategy's methods. The responder starts relay at once instead of
	# failing with "no common method" (the failure of a CI run).
	echo "# eim-random (ha, no TURN) x port-restricted (hb, TURN), ha's Bindings unanswered"
	STUNTD_EXTRA_A=()
	STUNTD_EXTRA_B=("${TURN_ARGS[@]}")
	start_all_hook() { ref_start_turn "$TURN_PORT" stunt turn-pass-1 lab; }
	start_all eim-random rst port-restricted rst && {
		lx inet nft -f - <<EOF || nok "nft: drop ha's Bindings"
table inet relayfb_stun {
  chain cut {
    type filter hook forward priority 0; policy accept;
    ip saddr 198.18.1.2 ip daddr $LAB_SRV1 tcp dport 3478 tcp flags & (syn | ack) == syn counter drop
  }
}
EOF
		rtransfer a office-pc "ha -> hb, no Binding of ha's answered: relay from the start"
		n=$(lx inet nft list table inet relayfb_stun | grep -o 'packets [0-9]*' | awk '{ print $2 }')
		grep -q 'Binding from port [0-9]* for its public port: no answer; not trying it' \
			"$LAB_STATE/stuntd-a.log" && [ "${n:-0}" -gt 0 ] &&
			ok "ha's Bindings went unanswered ($n SYNs dropped) and it dropped those methods" ||
			nok "ha's Bindings: $n dropped; $(grep 'not trying it' "$LAB_STATE/stuntd-a.log" | tail -1)"
		l=$(grep -o 'laptop offered no usable candidate for [a-z0-9, ]*: relay from the start' "$LAB_STATE/stuntd-b.log")
		[ -n "$l" ] && ok "hb: $l" ||
			nok "hb's log: $(grep -E 'no common method|relay from|racing' "$LAB_STATE/stuntd-b.log" | tail -2)"
		! grep -q 'no common method' "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" &&
			ok "no 'no common method' in either log" || nok "a 'no common method' failure"
		lx inet nft delete table inet relayfb_stun
		transfer a office-pc "Bindings answered again: ha -> hb directly" "" "simopen|stunt1"
		sleep 1
		no_leftovers "after the relay from the start"
		stop_all
	}
	;;&
bench)
	echo "# bench: fallback vs --method relay, port-restricted x port-restricted (hb TURN), cut path"
	STUNTD_EXTRA_A=()
	STUNTD_EXTRA_B=("${TURN_ARGS[@]}")
	N=${BENCH_N:-5}
	start_all port-restricted rst port-restricted rst && {
		cut_path || nok "nft cut"
		fb=() up=() rfb=() rup=()
		for i in $(seq 1 "$N"); do
			rtransfer a office-pc "fallback try $i"
			fb+=("$LAST_ELAPSED")
			rtransfer a office-pc "--method relay try $i" relay
			up+=("$LAST_ELAPSED")
			rtransfer b laptop "fallback, requester allocates, try $i"
			rfb+=("$LAST_ELAPSED")
			rtransfer b laptop "--method relay, requester allocates, try $i" relay
			rup+=("$LAST_ELAPSED")
		done
		echo "# responder allocates: fallback elapsed_ms: ${fb[*]} median $(printf '%s\n' "${fb[@]}" | median)"
		echo "# responder allocates: up-front (--method relay) elapsed_ms: ${up[*]} median $(printf '%s\n' "${up[@]}" | median)"
		echo "# requester allocates: fallback elapsed_ms: ${rfb[*]} median $(printf '%s\n' "${rfb[@]}" | median)"
		echo "# requester allocates: up-front (--method relay) elapsed_ms: ${rup[*]} median $(printf '%s\n' "${rup[@]}" | median)"
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
