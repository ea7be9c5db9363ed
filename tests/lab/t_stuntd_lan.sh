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
#     kernel's RST on a conntrack entry without stuntd's connmark, which
#     stunt-rules does not queue: the known defect stop_all lists
#     (RST_LATE_SYN_KNOWN).
#   wronghost (full-cone gwa with NAT loopback): ha2 offers only a host
#     address that is another machine's on the LAN (10.1.0.1 on a spare
#     interface -- a veth pair inside ha2 --, host-interfaces dummy0, ARP for it left to gwa), and at that
#     address gwa runs a rogue that accepts on every port and answers a fake
#     proof followed by a 'K', or garbage: host forced fails with "not
#     office-pc (wrong proof): dropped" both times, nothing is handed on,
#     ha counts both (security.conns_unproven); the race without forcing
#     still connects, by the public path (direct or reversal, whichever
#     crosses the hairpin first); with a rogue that stays silent, that
#     connection is held until host's proof is late, then wins; the rogue got, on
#     each connection, the 28-byte session header (the requester writes it
#     at once) and not one byte more.
# Bounded: each connect by stuntd's connect-timeout (5 s here).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

STUNTD_NODE_B=ha2

# host_won X N: the host counter of X's status says it won at least N times
host_won() { method_won "$1" host "$2"; }

# the rogue (tests/lab/rogue.py) at 10.1.0.1 in gwa: every TCP port of that
# address redirected to it; it answers what $LAB_STATE/rogue.reply names
# (proof, garbage, silent) and logs what it got, per connection
ROGUE=$here/rogue.py

wronghost_hook() {
	lx ha2 ip link add dummy0 type veth peer name dummy1 &&
		lx ha2 ip addr add 10.1.0.1/32 dev dummy0 && lx ha2 ip link set dummy0 up &&
		lx ha2 ip link set dummy1 up &&
		lx ha2 sysctl -qw net.ipv4.conf.all.arp_ignore=1 &&
		lx gwa nft add table ip rogue &&
		lx gwa nft 'add chain ip rogue pre { type nat hook prerouting priority dstnat - 5; }' &&
		lx gwa nft add rule ip rogue pre iifname lan ip daddr 10.1.0.1 tcp dport != 7999 redirect to :7999 || return 1
	: >"$LAB_STATE/rogue.conns"
	echo proof >"$LAB_STATE/rogue.reply"
	lab_bg gwa rogue python3 "$ROGUE" 10.1.0.1 7999 "$LAB_STATE/rogue.conns" "$LAB_STATE/rogue.reply" >/dev/null
	lab_wait_port gwa tcp 10.1.0.1 7999 10
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
	;;&
wronghost|all)
	echo "# ha2's host candidate reaches another machine (gwa) at that address"
	STUNTD_EXTRA_A=(--connect-timeout 5000)
	STUNTD_EXTRA_B=(--connect-timeout 5000 --host-interfaces dummy0)
	RST_LATE_SYN_KNOWN=1
	# ha2's stuntd lists its addresses per session: the dummy interface
	# and the rogue come once the lab is up
	start_all full-cone rst port-restricted rst --lan2-a --hairpin-a && {
		if wronghost_hook; then
			ok "the rogue listens at 10.1.0.1 in gwa, ha2 offers 10.1.0.1"
		else
			nok "the wrong-host setup"
		fi
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"host"}' \
			"host forced to the wrong host, which answers a wrong proof and a 'K': dropped, nothing handed on" \
			'10\.1\.0\.1:[0-9]+ is not office-pc \(wrong proof\): dropped'
		echo garbage >"$LAB_STATE/rogue.reply"
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"host"}' \
			"host forced to the wrong host, which answers garbage: dropped, nothing handed on" \
			'10\.1\.0\.1:[0-9]+ is not office-pc \(wrong proof\): dropped'
		u=$(status_field a 's["security"]["conns_unproven"]')
		[ "$u" = 2 ] && ok "ha's status: security.conns_unproven = 2" ||
			nok "ha's status: conns_unproven '$u'"
		# direct and reversal both cross the hairpin within one LAN round
		# trip (the public path): either may win, the answer says which;
		# the rogue answers garbage to this race's host attempt
		transfer a office-pc "the race goes on: the public path (through the hairpin, direct or reversal)" "" 'direct|reversal'
		# a rogue that accepts and stays silent: the public path's
		# connection, which crosses the hairpin meanwhile, is held (the
		# peer may have taken the early header) until host's proof is
		# late (confirm.c, hold_expire), then it is the session's
		echo silent >"$LAB_STATE/rogue.reply"
		transfer a office-pc "the rogue stays silent: the public path's connection, held meanwhile, wins" "" 'direct|reversal'
		if grep -Eq "session [0-9]+: (direct|reversal) held until host's peer proves itself" \
			"$LAB_STATE/stuntd-a.log"; then
			ok "ha held the public path's connection while host's proof was due"
		else
			nok "ha's log names no connection held for host's proof"
		fi
		if grep -Eq "session [0-9]+: host failed after [0-9]+ ms: no proof within [0-9]+ ms of the connect while (direct|reversal) was established" \
			"$LAB_STATE/stuntd-a.log"; then
			ok "ha failed host for its late proof, not at host's own deadline"
		else
			nok "ha's log: no late-proof failure of host"
			grep 'host' "$LAB_STATE/stuntd-a.log" | tail -5 | sed 's/^/# a: /'
		fi
		# the rogue logs a connection at its end: the FIN, or 3 s after
		# the last byte when ha closed with the garbage unread (an RST,
		# which the guard drops)
		for _ in $(seq 50); do
			[ "$(grep -c '^conn ' "$LAB_STATE/rogue.conns")" -ge 4 ] && break
			sleep 0.2
		done
		# the requester writes its session header at once (2 LAN round
		# trips): the rogue got that header -- "STNT", version 2, method
		# host, the session id, a proof bound to that session and role
		# (docs/security.md) -- and not one byte more
		n=$(grep -c '^conn ' "$LAB_STATE/rogue.conns")
		bad=$(grep -v '^conn [a-z]* 28 53544e5402' "$LAB_STATE/rogue.conns")
		if [ "$n" -ge 4 ] && [ -z "$bad" ]; then
			ok "the rogue was connected to $n time(s) and got the 28-byte session header alone each time"
		else
			nok "the rogue's log: $(tr '\n' ' ' <"$LAB_STATE/rogue.conns")"
		fi
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
