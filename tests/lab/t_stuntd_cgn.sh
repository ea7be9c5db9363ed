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
#   gateway    gateway deployment (docs/deploy.md, t_gateway.sh) behind the
#              CGN that does not hairpin: stuntd on gwa ("gw-a") and gwb
#              ("gw-b"), each exposing its LAN host's echo service, each
#              gateway with a home router's input firewall (new SYNs from
#              the WAN answered with RST). Their WAN addresses in the CGN's
#              inside (100.64.0.2, 100.64.0.3) are host candidates, taken
#              (both behind the CGN's one public address) and picked (the
#              peer's address in one of our subnets). Gateways that drop
#              those SYNs: the responder, whose firewall would drop the
#              requester's SYN to its listener, connects too, from that
#              port to the requester's host endpoint (a simultaneous open):
#              host forced connects, and the race connects by host both
#              ways, directly (the socket's peer 100.64.0.x, no CGN
#              hairpin, no relay), 5 MB each, into the LAN hosts' services;
#              the responder logs the simultaneous open (before it host
#              connected one way only). Gateways that answer with an RST:
#              the race connects by host both ways, 5 MB each, and
#              neither gateway's kernel sent a SYN again -- the RST that
#              the first SYN meets is queued in raw PREROUTING, before
#              connection tracking (stunt-rules' STUNT-PRE), and the
#              attempt's guard drops it there, so it cannot end the state
#              its own gateway holds for the flow, which lets the peer's
#              SYN in (before STUNT-PRE only the kernel's retransmission a
#              second later got through).
# Parts hairpin and nohairpin: no RST left the hosts, SIGTERM leaves
# iptables as before.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
# shellcheck source=tests/lab/refservers.sh
. "$here/refservers.sh"

TURN_PORT=3490

# ptransfer FROM PEER LABEL WANT_PEER_IP: 5 MB through the race's socket,
# by host, the socket's remote address WANT_PEER_IP
ptransfer() {
	local out
	out=$(ctl "$1" --peer "{\"cmd\":\"connect\",\"peer\":\"$2\",\"service\":\"echo\"}" 5000000)
	echo "$out" | sed 's/^/# /'
	if echo "$out" | head -1 | grep -q '"ok":true.*"method":"host".*"relayed":false' &&
		echo "$out" | grep -q "^peer $4:[0-9]*\$" && echo "$out" | grep -q '^sha OK 5000000'; then
		ok "$3: by host, the socket's peer $4, 5 MB echoed intact ($(echo "$out" | head -1 | grep -o '"elapsed_ms":[0-9]*'))"
	else
		nok "$3"
		tail -15 "$LAB_STATE/stuntd-$1.log" | sed 's/^/# /'
	fi
}

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
	;;&
gateway|all)
	echo "# stuntd on both home gateways behind one CGN that does not hairpin; they drop SYNs from the WAN"
	STUNTD_NODE_A=gwa STUNTD_NODE_B=gwb
	if start_gw_cgn drop; then
		out=$(ctl a '{"cmd":"connect","peer":"gw-b","service":"echo","method":"host"}')
		echo "$out" | sed 's/^/# /'
		echo "$out" | grep -q '"ok":true.*"method":"host"' &&
			ok "host forced: gw-a -> gw-b through gw-b's input firewall ($(echo "$out" | grep -o '"elapsed_ms":[0-9]*'))" ||
			nok "host forced gw-a -> gw-b"
		grep -q 'host: connected to the requester.s endpoint (simultaneous open inside the carrier NAT)' \
			"$LAB_STATE/stuntd-b.log" && ok "gw-b (the responder) connected to gw-a's host endpoint: a simultaneous open" ||
			nok "gw-b's log: $(grep 'host' "$LAB_STATE/stuntd-b.log" | tail -3)"
		if grep -q 'gw-b is behind our NAT: host candidate 100\.64\.0\.3:' "$LAB_STATE/stuntd-a.log" &&
			grep -q 'host: connect from port [0-9]* to 100\.64\.0\.3:' "$LAB_STATE/stuntd-a.log" &&
			grep -q 'gw-a is behind our NAT: host candidate 100\.64\.0\.2:' "$LAB_STATE/stuntd-b.log"; then
			ok "the gateways' WAN addresses (100.64.0.2, 100.64.0.3) are host candidates; gw-a connected to 100.64.0.3"
		else
			nok "the WAN addresses as host candidates (gw-a's and gw-b's logs)"
			grep 'host' "$LAB_STATE/stuntd-a.log" | tail -5 | sed 's/^/# a: /'
		fi
		ptransfer a gw-b "gw-a -> gw-b, dropping gateways: the race" 100.64.0.3
		ptransfer b gw-a "gw-b -> gw-a, the same" 100.64.0.2
		lab_down
	fi
	echo "# the same with gateways that answer SYNs from the WAN with an RST"
	if start_gw_cgn rst; then
		# whichever SYN goes first meets the other gateway's RST (no
		# router between the two to end a TTL-limited SYN before it);
		# dropped before conntrack, it leaves its own gateway's state
		for xy in a:gw-b:100.64.0.3 b:gw-a:100.64.0.2; do
			IFS=: read -r x peer ip <<<"$xy"
			ra=$(synretrans gwa) rb=$(synretrans gwb)
			ptransfer "$x" "$peer" "gw-$x -> $peer, gateways that answer SYNs with an RST: the race" "$ip"
			n=$(( $(synretrans gwa) - ra + $(synretrans gwb) - rb ))
			[ "$n" = 0 ] && ok "gw-$x -> $peer: no kernel SYN retransmission on either gateway (the RST never reached conntrack)" ||
				nok "gw-$x -> $peer: $n kernel SYN retransmission(s) on the gateways"
		done
		lab_down
	fi
	unset STUNTD_NODE_A STUNTD_NODE_B
	;;
esac
[ "$fails" -eq 0 ]
