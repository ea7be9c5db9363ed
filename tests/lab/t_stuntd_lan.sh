#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two machines on one LAN behind one NAT (issue 16), in the namespace lab
# (lab_up --lan2-a: ha and ha2 on a bridge behind gwa; see t_stuntd.sh for
# the rest of the setup). ha runs "laptop", ha2 "office-pc", both
# registered with the same stunt-server, which sees both at gwa's public
# address 198.18.1.2: each takes the other's host candidates (the host
# method, daemon/trav/host.c).
#   lan (port-restricted gwa, no hairpinning, like Linux masquerade):
#     - ha -> ha2 and ha2 -> ha connect by host and carry 5 MB each; the
#       answer and the status counters name host as the winner;
#     - the public path alone (simopen forced) fails: the NAT does not
#       loop public-to-public traffic back, which is why host matters;
#     - with host-candidates off on ha2 nothing is offered: a connect gets
#       no host method and fails as before;
#     - nothing was refused (security.candidates_refused and
#       conns_unproven stay 0), no RST left either host.
#   hairpin (full-cone gwa with NAT loopback, --hairpin-a):
#     - the race: host and direct (through the hairpin) both meet within
#       the LAN's round trip, either wins and the answer names it; host
#       forced works;
#     - the public path works too: direct forced, through the hairpin,
#       5 MB, and the answer says direct.
#     A loser of such a fast race (reversal's listener, closed before the
#     peer's SYN came through the hairpin) may answer that SYN with the
#     kernel's RST: the known defect stop_all lists (RST_LATE_SYN_KNOWN).
# Bounded: each connect by stuntd's connect-timeout (5 s here).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

STUNTD_NODE_B=ha2

# status_field X PYEXPR: a value of X's status ("s" is the parsed JSON)
status_field() {
	ctl "$1" '{"cmd":"status"}' | python3 -c 'import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2" 2>/dev/null
}

# host_won X: the host counter of X's status says it won at least N times
host_won() {
	local w
	w=$(status_field "$1" 's["counters"].get("host", {}).get("won", 0)')
	[ -n "$w" ] && [ "$w" -ge "$2" ] && ok "$1's status: host won $w time(s)" ||
		nok "$1's status: host won '$w' times (want >= $2)"
}

no_refusals() {
	local x r u
	for x in a b; do
		r=$(status_field "$x" 's["security"]["candidates_refused"]')
		u=$(status_field "$x" 's["security"]["conns_unproven"]')
		[ "$r" = 0 ] && [ "$u" = 0 ] && ok "$x refused no candidate and dropped no connection" ||
			nok "$x: candidates_refused '$r', conns_unproven '$u'"
	done
}

case "${1:-all}" in
lan|all)
	echo "# ha and ha2 on one LAN behind port-restricted gwa (no hairpinning)"
	STUNTD_EXTRA_A=(--connect-timeout 5000)
	STUNTD_EXTRA_B=(--connect-timeout 5000)
	start_all port-restricted rst port-restricted rst --lan2-a && {
		transfer a office-pc "ha -> ha2 on the LAN: the race" "" host
		transfer b laptop "ha2 -> ha on the LAN: the race" "" host
		transfer a office-pc "ha -> ha2, host forced" host host
		host_won a 2
		host_won b 1
		if grep -q "host: connect from port [0-9]* to $LAB_HA2:" "$LAB_STATE/stuntd-a.log"; then
			ok "ha connected to ha2's host address $LAB_HA2"
		else
			nok "ha's log names no host connect to $LAB_HA2"
			grep 'host' "$LAB_STATE/stuntd-a.log" | tail -5 | sed 's/^/# a: /'
		fi
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"simopen"}' \
			"the public path alone (simopen) fails: gwa does not hairpin" \
			'no connection within|every method failed|failed'
		no_refusals
		stop_all
	}
	;;&
nohost|all)
	echo "# the same LAN, host-candidates off on ha2"
	STUNTD_EXTRA_A=(--connect-timeout 5000)
	STUNTD_EXTRA_B=(--connect-timeout 5000 --host-candidates off)
	start_all port-restricted rst port-restricted rst --lan2-a && {
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo"}' \
			"ha2 offers no host candidate: the public path alone, which fails here" \
			'no connection within|every method failed'
		if grep -q 'session [0-9]*: host:' "$LAB_STATE/stuntd-a.log"; then
			nok "ha ran a host attempt although ha2 offered no host candidate"
		else
			ok "ha ran no host attempt"
		fi
		no_refusals
		stop_all
	}
	;;&
hairpin|all)
	echo "# ha and ha2 behind full-cone gwa with NAT loopback"
	STUNTD_EXTRA_A=(--connect-timeout 5000)
	STUNTD_EXTRA_B=(--connect-timeout 5000)
	RST_LATE_SYN_KNOWN=1
	start_all full-cone rst port-restricted rst --lan2-a --hairpin-a && {
		# host and direct (through the hairpin) both meet within the LAN's
		# round trip: either may win, the answer says which
		transfer a office-pc "ha -> ha2 with hairpinning: the race (host or direct)" "" 'host|direct'
		transfer a office-pc "ha -> ha2, host forced" host host
		transfer a office-pc "the public path through the hairpin: direct forced" direct direct
		host_won a 1
		no_refusals
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
