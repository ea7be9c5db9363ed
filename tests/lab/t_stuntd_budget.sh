#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Per-peer budgets of stuntd (docs/security.md, daemon/budget.c) in the
# namespace lab (see t_stuntd.sh for the setup). ha "laptop" is allowed but
# greedy; a third stuntd "stranger" runs in pub (no NAT) and is allowed too.
#   sessions (port-restricted x port-restricted; hb: max-peer-sessions 2,
#     max-peer-starts 6):
#     - ha starts 5 forced simopen sessions at once (each waits about 1 s for
#       the kernel's SYN retransmission): hb runs at most 2, the others are
#       answered "busy: peer laptop has 2 sessions running on office-pc
#       (max-peer-sessions 2)", which is ha's stuntctl error, and
#       security.sessions_busy counts them;
#     - then ha's sequential connects: one is refused "busy: peer laptop
#       started more than 6 sessions in the last minute on office-pc
#       (max-peer-starts)" (security.starts_busy);
#     - the stranger still connects to hb, and hb to ha: the budget is
#       laptop's alone.
#   packets (port-restricted ha x sym-random hb: the strategy's shotgun; hb
#     max-session-packets 16): hb, the random side, would open 256 sockets
#     towards ha's port; it stops at 16 ("the packet budget of 16 per session
#     is used up (max-session-packets): shotgun stops sending"),
#     security.packets_capped is 1, and hb's WAN shows SYNs from at most 16
#     ports.
#   global (port-restricted x port-restricted), 5 forced simopen connects
#     at once from ha: with ha max-sessions 1, ha answers the ones past the
#     first "busy: laptop runs 1 of max-sessions 1" at once (counted,
#     logged) and a connect afterwards works; with hb max-sessions 1, hb
#     answers the ones that come while one runs "busy: office-pc runs 1 of
#     max-sessions 1" (logged with the peer).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

case "${1:-all}" in
sessions|all)
	echo "# port-restricted x port-restricted, hb: max-peer-sessions 2, max-peer-starts 6"
	STUNTD_EXTRA_A=()
	STUNTD_EXTRA_B=(--max-peer-sessions 2 --max-peer-starts 6 --allow echo=laptop,stranger)
	start_all port-restricted rst port-restricted rst && start_stranger && {
		pids=()
		for i in 1 2 3 4 5; do
			ctl a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"simopen"}' 64 \
				>"$LAB_STATE/par-$i.out" &
			pids+=($!)
		done
		wait "${pids[@]}"	# these only: the daemons are background jobs too
		okn=$(cat "$LAB_STATE"/par-*.out | grep -c '"ok":true')
		busy=$(cat "$LAB_STATE"/par-*.out | grep -c 'busy: peer laptop has 2 sessions running on office-pc (max-peer-sessions 2)')
		sed 's/^/# /' "$LAB_STATE"/par-*.out | grep '"ok"'
		[ "$okn" -ge 1 ] && [ "$okn" -le 2 ] && [ "$busy" -ge 1 ] && [ $((okn + busy)) = 5 ] &&
			ok "5 sessions at once: $okn ran, $busy answered busy (max-peer-sessions 2)" ||
			nok "5 sessions at once: $okn ok, $busy busy"
		r=$(sec b sessions_busy)
		[ "$r" = "$busy" ] && ok "hb's status: security.sessions_busy = $r" ||
			nok "hb's sessions_busy = '$r' (busy answers $busy)"
		grep -q "refused laptop: busy: peer laptop has 2 sessions running" "$LAB_STATE/stuntd-b.log" &&
			ok "hb's log names laptop" || nok "hb's log: no busy refusal naming laptop"
		# sequential starts until the minute's budget is gone
		got=""
		for i in 1 2 3 4 5 6 7 8; do
			out=$(ctl a '{"cmd":"connect","peer":"office-pc","service":"echo"}' 64)
			if echo "$out" | grep -q 'busy: peer laptop started more than 6 sessions in the last minute on office-pc (max-peer-starts)'; then
				got=$i
				break
			fi
			echo "$out" | grep -q '"ok":true' || echo "# connect $i: $(echo "$out" | head -1)"
		done
		[ -n "$got" ] && ok "sequential connect $got refused: busy, more than 6 starts in the last minute" ||
			nok "no start refused in 8 sequential connects"
		r=$(sec b starts_busy)
		[ -n "$r" ] && [ "$r" -ge 1 ] && ok "hb's status: security.starts_busy = $r" ||
			nok "hb's starts_busy = '$r'"
		# the bucket refills continuously (one start per 10 s here), so the
		# next start may find the fraction left at the refusal grown to a
		# whole one; the one after needs a whole new one: of two starts
		# right after the refusal at least one is refused
		refused=0
		for i in 1 2; do
			out=$(ctl a '{"cmd":"connect","peer":"office-pc","service":"echo"}')
			echo "$out" | grep -q '"ok":false.*busy: peer laptop' && refused=$((refused + 1))
		done
		[ "$refused" -ge 1 ] && ok "laptop is still refused ($refused of 2 starts right after)" ||
			nok "laptop after its budget: neither of 2 starts refused (last: $out)"
		transfer c office-pc "the stranger (pub) -> hb is not affected"
		transfer b laptop "hb -> ha is not affected"
		r=$(sec a sessions_busy)
		[ "$r" = 0 ] && ok "ha refused nothing" || nok "ha's sessions_busy = '$r'"
		stop_all
	}
	;;&
packets|all)
	echo "# port-restricted (ha) x sym-random (hb): shotgun, hb max-session-packets 16"
	STUNTD_EXTRA_A=()
	STUNTD_EXTRA_B=(--max-session-packets 16)
	start_all port-restricted rst sym-random rst && {
		lab_bg gwb syn-b tcpdump -i wan -nn -U -l --immediate-mode \
			"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and dst host 198.18.1.2" >/dev/null
		sleep 0.5
		out=$(ctl a '{"cmd":"connect","peer":"office-pc","service":"echo"}' 64)
		echo "$out" | head -1 | sed 's/^/# /'
		sleep 1
		want="the packet budget of 16 per session is used up (max-session-packets): shotgun stops sending"
		grep -qF "$want" "$LAB_STATE/stuntd-b.log" && ok "hb's log: $want" ||
			{ nok "hb's log: no packet budget"; grep -i 'shotgun\|budget' "$LAB_STATE/stuntd-b.log" | tail -5 | sed 's/^/# b: /'; }
		r=$(sec b packets_capped)
		[ "$r" = 1 ] && ok "hb's status: security.packets_capped = 1" || nok "hb's packets_capped = '$r'"
		n=$(grep -o '198\.18\.2\.2\.[0-9]* > 198\.18\.1\.2' "$LAB_STATE/syn-b.log" | sort -u | wc -l)
		[ "$n" -ge 1 ] && [ "$n" -le 16 ] && ok "hb's WAN: SYNs to ha from $n ports (at most 16)" ||
			nok "hb's WAN: SYNs to ha from $n ports"
		r=$(sec a packets_capped)
		[ "$r" = 0 ] && ok "ha (default budget) capped nothing" || nok "ha's packets_capped = '$r'"
		stop_all
	}
	;;&
global|all)
	# burst FILE-PREFIX: 5 forced simopen connects at once from ha (each
	# waits about 1 s for the kernel's SYN retransmission, so they overlap)
	burst() {
		local i pids=()
		for i in 1 2 3 4 5; do
			ctl a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"simopen"}' 64 \
				>"$LAB_STATE/$1-$i.out" &
			pids+=($!)
		done
		wait "${pids[@]}"
		sed 's/^/# /' "$LAB_STATE"/"$1"-*.out | grep '"ok"'
		okn=$(cat "$LAB_STATE"/"$1"-*.out | grep -c '"ok":true')
	}
	echo "# port-restricted x port-restricted: ha max-sessions 1"
	STUNTD_EXTRA_A=(--max-sessions 1)
	STUNTD_EXTRA_B=(--max-peer-sessions 100)
	start_all port-restricted rst port-restricted rst && {
		burst ga
		busy=$(cat "$LAB_STATE"/ga-*.out | grep -c 'busy: laptop runs 1 of max-sessions 1')
		[ "$okn" -ge 1 ] && [ "$busy" -ge 1 ] && [ $((okn + busy)) = 5 ] &&
			ok "5 connects at once: $okn connected, $busy refused by ha (max-sessions 1)" ||
			nok "5 connects at once: $okn ok, $busy busy at ha"
		r=$(sec a sessions_busy)
		[ "$r" = "$busy" ] && ok "ha's status: security.sessions_busy = $r" ||
			nok "ha's sessions_busy = '$r' (busy answers $busy)"
		grep -q "connect to office-pc/echo refused: busy: laptop runs 1 of max-sessions 1" \
			"$LAB_STATE/stuntd-a.log" && ok "ha's log says why" || nok "ha's log: no max-sessions refusal"
		transfer a office-pc "after the burst, ha -> hb works again"
		stop_all
	}
	echo "# port-restricted x port-restricted: hb max-sessions 1"
	STUNTD_EXTRA_A=()
	STUNTD_EXTRA_B=(--max-sessions 1 --max-peer-sessions 100)
	start_all port-restricted rst port-restricted rst && {
		burst gb
		busy=$(cat "$LAB_STATE"/gb-*.out | grep -c 'busy: office-pc runs 1 of max-sessions 1')
		[ "$okn" -ge 1 ] && [ "$busy" -ge 1 ] && [ $((okn + busy)) = 5 ] &&
			ok "5 connects at once: $okn connected, $busy refused by hb (max-sessions 1)" ||
			nok "5 connects at once: $okn ok, $busy busy at hb"
		grep -q "refused laptop: busy: office-pc runs 1 of max-sessions 1" "$LAB_STATE/stuntd-b.log" &&
			ok "hb's log names laptop" || nok "hb's log: no max-sessions refusal"
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
