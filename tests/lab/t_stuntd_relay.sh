#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd's relay method (TURN, RFC 8656 + RFC 6062 TCP allocations) against
# coturn on srv (192.0.2.1:3490, long-term credentials, realm "lab"); see
# t_stuntd.sh for the rest of the setup. Pairs (ha "laptop" x hb "office-pc"):
#   sym-random x sym-random, hb with TURN (password from --turn-pass-file),
#   ha without:
#     ha -> hb: the strategy picks relay (nothing direct can work), the
#               answer says "relayed": true, 5 MB echoed intact; hb deletes
#               the allocation when the connection ends (its log and coturn's),
#               and a second connect gets a new one;
#     hb -> ha: ha has no TURN, hb has: hb (the requester) allocates in the
#               relay round and ha connects to the relayed address; relayed,
#               5 MB intact, hb deletes that allocation too
#   sym-random x sym-random, no TURN anywhere:
#     ha -> hb: "relay needed, but no TURN server configured on either side"
#   port-restricted x port-restricted, hb with TURN, ha with a wrong password:
#     ha -> hb --method relay works (relayed) on a pair simopen could do,
#               and without --method the strategy still picks simopen;
#     hb -> ha --method relay: coturn refuses ha's credentials: a clear
#               error, and ha keeps serving (ha -> hb right after works).
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

start_all_hook() {
	ref_start_turn "$TURN_PORT" stunt turn-pass-1 lab
	# hb reads the TURN password from a file (--turn-pass-file), not argv
	if [ "${PASS_FILE_B:-0}" = 1 ]; then
		printf 'turn-pass-1\n' >"$LAB_STATE/turn-pass-b"
		chmod 600 "$LAB_STATE/turn-pass-b"
		STUNTD_EXTRA_B=(--turn "$LAB_SRV1:$TURN_PORT" --turn-user stunt
			--turn-pass-file "$LAB_STATE/turn-pass-b")
		PASS_FILE_B=0
	fi
}

case "${1:-all}" in
sym-sym|all)
	echo "# sym-random (ha, no TURN) x sym-random (hb, TURN)"
	STUNTD_EXTRA_A=()
	PASS_FILE_B=1
	start_all sym-random rst sym-random rst && {
		rtransfer a office-pc "sym-random -> sym-random, the strategy's pick"
		grep -q 'racing relay$' "$LAB_STATE/stuntd-b.log" && ok "hb raced relay alone (no direct method can work)" ||
			nok "hb's race: $(grep -o 'racing .*' "$LAB_STATE/stuntd-b.log" | tail -1)"
		if lab_wait_log "$LAB_STATE/stuntd-b.log" 'relay: allocation .* deleted' 5; then
			ok "hb deleted the allocation after the connection ended"
		else
			nok "allocation not deleted"
			grep relay "$LAB_STATE/stuntd-b.log" | tail -5 | sed 's/^/# /'
		fi
		# coturn's own view: the Refresh with lifetime 0 was a success
		if grep -Eq 'REFRESH processed, success' "$LAB_STATE/coturn-$TURN_PORT.log"; then
			ok "coturn processed the deleting Refresh"
		else
			nok "coturn saw no Refresh"
			tail -5 "$LAB_STATE/coturn-$TURN_PORT.log" | sed 's/^/# /'
		fi
		rtransfer a office-pc "sym-random -> sym-random again, a new allocation"
		n=$(grep -c 'relay: allocated ' "$LAB_STATE/stuntd-b.log")
		[ "$n" -ge 2 ] && ok "hb allocated once per connect ($n)" || nok "allocations: $n"
		rtransfer b laptop "sym-random -> sym-random, only the requester has TURN: it allocates"
		grep -q 'relay with our TURN server (the peer has none)' "$LAB_STATE/stuntd-b.log" &&
			grep -q 'office-pc starts the relay round (none: relay from the start): it allocated, we connect' \
				"$LAB_STATE/stuntd-a.log" &&
			ok "hb allocated as the requester, ha connected to its relayed address" ||
			nok "requester-side allocation: $(grep 'relay round' "$LAB_STATE/stuntd-a.log" | tail -1)"
		if lab_wait_log "$LAB_STATE/stuntd-b.log" 'relay: allocation .* deleted' 5 3; then
			ok "hb deleted its requester-side allocation after the connection ended"
		else
			nok "requester-side allocation not deleted"
		fi
		stop_all
	}
	;;&
sym-none|all)
	echo "# sym-random x sym-random, no TURN anywhere"
	STUNTD_EXTRA_A=()
	STUNTD_EXTRA_B=()
	start_all sym-random rst sym-random rst && {
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo"}' \
			"sym-random -> sym-random, no TURN on either side" \
			"relay needed, but no TURN server configured on either side"
		stop_all
	}
	;;&
pr-pr|all)
	echo "# port-restricted (ha, wrong TURN password) x port-restricted (hb, TURN)"
	STUNTD_EXTRA_A=(--turn "$LAB_SRV1:$TURN_PORT" --turn-user stunt --turn-pass wrong-pass)
	STUNTD_EXTRA_B=(--turn "$LAB_SRV1:$TURN_PORT" --turn-user stunt --turn-pass turn-pass-1)
	start_all port-restricted rst port-restricted rst && {
		rtransfer a office-pc "port-restricted -> port-restricted, --method relay" relay
		out=$(ctl a '{"cmd":"connect","peer":"office-pc","service":"echo"}')
		echo "$out" | sed 's/^/# /'
		# simopen and stunt1 race here (stunt1 usually wins: no 1 s SYN timeout)
		echo "$out" | grep -Eq '"method":"(simopen|stunt1)".*"relayed":false' &&
			ok "without --method: a direct method (simopen or stunt1), not relayed" ||
			nok "strategy's pick: $out"
		expect_error b '{"cmd":"connect","peer":"laptop","service":"echo","method":"relay"}' \
			"--method relay to ha, whose TURN password is wrong" \
			"refused the credentials .*401.*--turn-pass"
		ctl a '{"cmd":"status"}' | grep -q '"registered":true' &&
			ok "ha still serving after the refused allocation" || nok "ha status"
		rtransfer a office-pc "ha -> hb --method relay after the refusal" relay
		stop_all
	}
	;;&
esac
[ "$fails" -eq 0 ]
