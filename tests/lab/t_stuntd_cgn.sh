#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two home NATs behind one carrier-grade NAT (issue 16), in the namespace
# lab (lab_up --cgn-shared): ha behind gwa (100.64.0.2) and hb behind gwb
# (100.64.0.3), both port-restricted, both behind the CGN's one public
# address 198.18.1.2. Parts (argument; default all):
#   hairpin    the CGN loops traffic to its public address back inside, as
#              RFC 6888 REQ-9 requires of a CGN (--cgn-hairpin): both
#              daemons see the same public address and 2 NAT hops; the
#              race connects ha -> hb and hb -> ha through the CGN's hairpin
#              (5 MB each), and simopen forced does too;
#   nohairpin  a CGN that does not hairpin (against REQ-9): the public path
#              alone cannot work (simopen forced fails within the deadline,
#              with the reason; the host candidates, 10.x, are not routed
#              between the homes either), and with a TURN server on hb the
#              race falls back to the relay, which carries 5 MB.
# Every part: no RST left the hosts, SIGTERM leaves iptables as before.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
# shellcheck source=tests/lab/refservers.sh
. "$here/refservers.sh"

TURN_PORT=3490

# both daemons: public address $1, N NAT hops
same_public() {
	local x v
	for x in a b; do
		v=$(ctl "$x" '{"cmd":"status"}' | python3 -c '
import json, sys
s = json.loads(sys.stdin.readline())
n = s["nat"]
print(s.get("public_ip") or n.get("public_ip") or n["tcp"].get("public", "").split(":")[0], n.get("nat_hops", n["tcp"].get("nat_hops")))' 2>/dev/null)
		if [ "$v" = "$1 $2" ]; then
			ok "h$x's daemon: public address $1, $2 NAT hops"
		else
			nok "h$x's daemon: '$v' (want '$1 $2')"
		fi
	done
}

case "${1:-all}" in
hairpin|all)
	echo "# one hairpinning CGN in front of both home NATs"
	STUNTD_EXTRA_A=(--connect-timeout 5000)
	STUNTD_EXTRA_B=(--connect-timeout 5000)
	start_all port-restricted rst port-restricted rst --cgn-shared --cgn-hairpin && {
		same_public 198.18.1.2 2
		transfer a office-pc "ha -> hb through the CGN's hairpin: the race"
		transfer b laptop "hb -> ha through the CGN's hairpin: the race"
		transfer a office-pc "ha -> hb, simopen forced" simopen simopen
		stop_all
	}
	;;&
nohairpin|all)
	echo "# one CGN that does not hairpin; TURN on hb"
	start_all_hook() { ref_start_turn "$TURN_PORT" stunt turn-pass-1 lab; }
	STUNTD_EXTRA_A=(--connect-timeout 5000)
	STUNTD_EXTRA_B=(--connect-timeout 5000 --turn "$LAB_SRV1:$TURN_PORT" --turn-user stunt
		--turn-pass turn-pass-1)
	start_all port-restricted rst port-restricted rst --cgn-shared && {
		same_public 198.18.1.2 2
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"simopen"}' \
			"the public path alone (simopen) fails: the CGN does not hairpin" \
			'no connection within|every method failed|failed'
		rtransfer a office-pc "ha -> hb: the race falls back to hb's TURN relay"
		unset -f start_all_hook
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
