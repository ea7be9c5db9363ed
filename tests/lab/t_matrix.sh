#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The success matrix (issue 7) as a test: every unordered pair of the five lab
# NAT behaviours (full cone, restricted cone, port-restricted cone, sequential
# symmetric, random symmetric; 15 cells, unsolicited SYN answered by RST), each
# side asking the other once with the strategy's choice; plus variations on
# hard pairs: SYN dropped and answered by ICMP, a CGN layer on both sides,
# 50 ms one way on each WAN link (port-restricted with itself and with the
# sequential NAT: predict's window, several right predictions at once), 10 %
# loss on one WAN link (3 tries); an EIM NAT that picks its own ports
# (eim-random) with a port-restricted cone and a random symmetric NAT, and
# two port-restricted homes behind one hairpinning CGN (--cgn shared); the
# local paths (--local): two hosts on one LAN behind a port-restricted NAT
# that does not hairpin (host must win, its socket's peer the private
# address) and one that does (host or the public path), and the wrong
# host: two homes with the same subnet behind one hairpinning CGN, where
# the peer's private address is another machine's, which accepts and
# answers a fake proof (it must get the session header alone; the
# connect reaches the right peer; tests/lab/rogue.py);
# IPv6 cells (issue 17, mx_v6_cells): port-restricted IPv4 NATs behind IPv6
# firewalls drop x drop, reject x reject and drop x reject, and random
# symmetric ones behind drop x drop without a TURN server, each with
# simopen6 also forced both ways (MX_NPT6=1 adds NPTv6 cells).
# One fresh lab per cell (tests/lab/matrix_cell.sh; lab_up + lab_down take
# under 0.5 s, stuntd's NAT probe and registration about 1 s).
# Every connect carries 1 MiB of random bytes to the peer's echo and back
# through the socket the method made (SHA-256 compared), and the socket's
# remote address must be the peer's public IP (or the TURN server's when
# relayed; when both stuntds frame the relay the descriptor is a
# loopback connection's end and the answer's "relay" names the connection stuntd
# holds): otherwise the connect counts as failed (tests/lab/matrix_cell.sh).
# Checks (tests/lab/matrix.sh, mx_report assert):
#   - a pair with an endpoint-independent-mapping side connects both ways
#     without a relay, whatever the other side is (random symmetric included);
#   - sequential x sequential symmetric connects both ways without a relay;
#   - sequential x random symmetric: connects (directly or through the TURN
#     relay) when the cell runs coturn, else attempted and reported;
#   - random x random: through the TURN relay when stuntd has --turn and
#     turnserver exists (the cell runs coturn), else the clear
#     "a relay would be needed" error;
#   - IPv6 cells: both directions connect without a relay (the table says
#     whether simopen6 or an IPv4 method won), by simopen6 where IPv4 alone
#     would need a relay; the forced simopen6 connects both ways; a
#     connect by simopen6 must be to the peer's IPv6 address.
# Timings are printed in the table, never asserted. MATRIX_JOBS=N runs N
# cells at once (default 1); MATRIX_TURN=off|auto|HOST:PORT:USER:PASS.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/matrix.sh
. "$here/matrix.sh"
t0=$SECONDS
work=$(mktemp -d /tmp/stlmx-test.XXXX)
trap 'rm -rf "$work"' EXIT
{
	mx_pairs
	echo "--nat-a port-restricted --nat-b sym-random --syn drop"
	echo "--nat-a port-restricted --nat-b sym-random --syn icmp"
	echo "--nat-a port-restricted --nat-b port-restricted --syn drop"
	echo "--nat-a port-restricted --nat-b port-restricted --syn icmp"
	echo "--nat-a port-restricted --nat-b sym-seq:1 --cgn both"
	echo "--nat-a port-restricted --nat-b port-restricted --delay 50"
	echo "--nat-a port-restricted --nat-b sym-seq:1 --delay 50"
	echo "--nat-a port-restricted --nat-b port-restricted --loss 10 --tries 3"
	# issue 16: an EIM NAT with ports of its own, and two homes behind one CGN
	echo "--nat-a eim-random --nat-b port-restricted"
	echo "--nat-a eim-random --nat-b sym-random"
	echo "--nat-a port-restricted --nat-b port-restricted --cgn shared"
	# issue 16: two hosts on one LAN behind one port-restricted NAT, without
	# and with hairpinning, and the wrong host (a peer's private address is
	# another machine's on the requester's LAN); no relay needed: no TURN
	echo "--local lan --turn off"
	echo "--local hairpin --turn off"
	echo "--local wronghost --turn off"
	# issue 17: IPv6 beside IPv4 (mx_v6_cells)
	mx_v6_cells
} >"$work/plan"
echo "# $(grep -c . "$work/plan") cells, ${MATRIX_JOBS:-1} at a time"
mx_run "$work/plan" "$work/cells.json" "${MATRIX_JOBS:-1}"
n=$(grep -c . "$work/cells.json")
[ "$n" -eq "$(grep -c . "$work/plan")" ] && echo "ok - every cell gave a result ($n)" ||
	echo "not ok - $n results for $(grep -c . "$work/plan") cells"
mx_report assert "$work/cells.json" | tee "$work/assert"
mx_report table "$work/cells.json"
[ -n "${MATRIX_KEEP:-}" ] && cp "$work/cells.json" "$MATRIX_KEEP"
echo "# t_matrix: $((SECONDS - t0)) s"
! grep -q '^not ok' "$work/assert" && [ "$n" -eq "$(grep -c . "$work/plan")" ]
