#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A lying peer (SIG-SENDER, docs/security.md) in the namespace lab (see
# t_stuntd.sh for the setup). ha "laptop" is authenticated and allowed, but
# hostile: with the test knob test-candidate-ip (daemon/config.h) its
# candidates name the lab's pub host 198.51.100.10 instead of its public
# address 198.18.1.2, to make hb "office-pc" send SYNs to a third party.
#   port-restricted x port-restricted:
#     ha asks for reversal (hb would connect to pub), then simopen (hb would
#     send its SYNs to pub); hb asks ha for simopen (hb as requester takes
#     ha's answer): every connect fails, no TCP or UDP packet reaches pub
#     (an nft counter in pub's namespace, which a SYN of ours then shows
#     to count), hb's log names each dropped candidate, and its status
#     counts them in security.candidates_refused
#     hb runs with allow-forced-methods here, so that the forced reversal
#     reaches the candidate check (without it the strategy refuses it first,
#     see "forced" below). ha also has a TURN server (coturn in srv) and its
#     relay candidate names pub instead of its relayed address: hb asks ha
#     for relay and drops that candidate (pub is neither ha's address nor a
#     TURN server hb knows: its turn, its stunt-server, relay-servers)
#   forced (no knob, default hb): ha forces shotgun and reversal on the
#     port-restricted pair, which the strategy says cannot work: hb refuses
#     each with the reason, which reaches ha's stuntctl answer; hb's log
#     names ha; security.methods_refused counts 2; a forced simopen (which
#     can work) still connects
#   the same pair without the knob: a normal connect works, nothing is
#     refused, and nobody warns that the server does not vouch
# Bounded: each connect by stuntd's connect-timeout (5 s here).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
# shellcheck source=tests/lab/refservers.sh
. "$here/refservers.sh"
TURN_PORT=3491

LAB_WAN_A=198.18.1.2

# the liar's knob, and the counter at pub: every TCP and UDP packet that
# reaches pub's namespace (nothing in this test has a reason to)
liar_hook() {
	printf 'test-candidate-ip %s\n' "$LAB_PUB" >"$LAB_STATE/liar.conf"
	STUNTD_EXTRA_A=(--connect-timeout 5000 --config "$LAB_STATE/liar.conf"
		--turn "$LAB_SRV1:$TURN_PORT" --turn-user stunt --turn-pass turn-pass-1)
	STUNTD_EXTRA_B=(--connect-timeout 5000 --allow-forced-methods)
	ref_start_turn "$TURN_PORT" stunt turn-pass-1 lab || return 1
	lx pub nft add table inet vouch &&
		lx pub nft 'add chain inet vouch pre { type filter hook prerouting priority -300; }' &&
		lx pub nft add rule inet vouch pre meta l4proto '{ tcp, udp }' counter
}

pub_packets() {
	lx pub nft list chain inet vouch pre | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -1
}

# dropped_logged METHOD: hb's log names ha's candidate for METHOD
dropped_logged() {
	local want="laptop's $1 candidate names $LAB_PUB, not its address $LAB_WAN_A as the server sees it: dropped"
	if grep -qF "$want" "$LAB_STATE/stuntd-b.log"; then
		ok "hb's log: $want"
	else
		nok "hb's log names the dropped $1 candidate"
		grep -i 'candidate\|session' "$LAB_STATE/stuntd-b.log" | tail -5 | sed 's/^/# b: /'
	fi
}

case "${1:-all}" in
liar|all)
	echo "# port-restricted x port-restricted, ha's candidates name pub ($LAB_PUB)"
	start_all_hook() { liar_hook; }
	start_all port-restricted rst port-restricted rst && {
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"reversal"}' \
			"liar asks for reversal: hb refuses, having no candidate of ha left" 'no common method'
		dropped_logged reversal
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"simopen"}' \
			"liar asks for simopen: hb refuses" 'no common method'
		dropped_logged simopen
		expect_error b '{"cmd":"connect","peer":"laptop","service":"echo","method":"simopen"}' \
			"hb asks the liar for simopen: its answer's candidates are dropped" 'proposed no method'
		n=$(grep -cF "laptop's simopen candidate names $LAB_PUB" "$LAB_STATE/stuntd-b.log")
		[ "$n" -ge 2 ] && ok "hb (requester) dropped the liar's answer's simopen candidate too" ||
			nok "hb as requester: dropped simopen candidates logged $n times"
		# relay: ha allocates on coturn, but names pub as its relayed address
		expect_error b '{"cmd":"connect","peer":"laptop","service":"echo","method":"relay"}' \
			"hb asks the liar for relay: its relay candidate is dropped" 'proposed no method'
		want="laptop's relay candidate names $LAB_PUB, which is neither its address nor a TURN server we know"
		grep -qF "$want" "$LAB_STATE/stuntd-b.log" && ok "hb's log: $want" ||
			{ nok "hb's log names the dropped relay candidate"; grep -i 'relay' "$LAB_STATE/stuntd-b.log" | tail -5 | sed 's/^/# b: /'; }
		grep -q 'relay: allocated ' "$LAB_STATE/stuntd-a.log" && ok "ha did allocate a relay (the lie is about its address only)" ||
			nok "ha allocated no relay: $(grep -i relay "$LAB_STATE/stuntd-a.log" | tail -2)"
		sleep 1		# anything late would have left by now
		p=$(pub_packets)
		[ "$p" = 0 ] && ok "no TCP or UDP packet reached pub ($LAB_PUB)" ||
			nok "packets at pub: '${p}'"
		r=$(sec b candidates_refused)
		[ -n "$r" ] && [ "$r" -ge 4 ] && ok "hb's status: security.candidates_refused = $r" ||
			nok "hb's status: security.candidates_refused = '$r'"
		# the counter counts: one SYN from ha to pub
		lx ha timeout 3 bash -c "exec 3<>/dev/tcp/$LAB_PUB/9" 2>/dev/null
		p=$(pub_packets)
		[ -n "$p" ] && [ "$p" -gt 0 ] && ok "pub's counter counts (a SYN from ha: $p packets)" ||
			nok "pub's counter saw no SYN from ha ('$p')"
		stop_all
	}
	unset -f start_all_hook
	;;&
forced|all)
	echo "# port-restricted x port-restricted, ha forces methods the strategy rejects"
	STUNTD_EXTRA_A=(--connect-timeout 5000)
	STUNTD_EXTRA_B=(--connect-timeout 5000)
	start_all port-restricted rst port-restricted rst && {
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"shotgun"}' \
			"ha forces shotgun: hb refuses with the strategy's reason" \
			"method shotgun refused: the strategy says it cannot work between EIM/APDF preserving \\(requester\\) and EIM/APDF preserving \\(peer\\): one side's port must be predictable and the other's random"
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"reversal"}' \
			"ha forces reversal: refused" "method reversal refused: .*the requester must accept"
		n=$(grep -c 'refused laptop: method \(shotgun\|reversal\) refused' "$LAB_STATE/stuntd-b.log")
		[ "$n" = 2 ] && ok "hb's log names laptop for both refusals" ||
			{ nok "hb's log: $n refusals naming laptop"; grep refused "$LAB_STATE/stuntd-b.log" | sed 's/^/# b: /'; }
		grep -q 'shotgun: ' "$LAB_STATE/stuntd-b.log" && nok "hb started shotgun" || ok "hb started no shotgun attempt"
		r=$(sec b methods_refused)
		[ "$r" = 2 ] && ok "hb's status: security.methods_refused = 2" ||
			nok "hb's status: security.methods_refused = '$r'"
		transfer a office-pc "a forced method the strategy agrees with still works: simopen" simopen simopen
		r=$(sec b methods_refused)
		[ "$r" = 2 ] && ok "the forced simopen was not refused (methods_refused still 2)" ||
			nok "methods_refused after simopen: '$r'"
		stop_all
	}
	;;&
honest|all)
	echo "# the same pair without the knob"
	STUNTD_EXTRA_A=(--connect-timeout 5000)
	STUNTD_EXTRA_B=(--connect-timeout 5000)
	start_all port-restricted rst port-restricted rst && {
		transfer a office-pc "honest ha -> hb, the strategy's pick"
		transfer b laptop "honest hb -> ha, --method simopen" simopen simopen
		r=$(sec b candidates_refused)
		[ "$r" = 0 ] && ok "hb refused no candidate" || nok "hb's candidates_refused = '$r'"
		r=$(sec a candidates_refused)
		[ "$r" = 0 ] && ok "ha refused no candidate" || nok "ha's candidates_refused = '$r'"
		if grep -q 'does not vouch' "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log"; then
			nok "a stuntd warned that the server does not vouch for peer addresses"
		else
			ok "the server vouched: no stuntd warned about SIG-SENDER"
		fi
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
