#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The nfq engine against real IPv6 packets (issue 17, first part): the
# ip6tables rules of stunt-rules queue a marked socket's IPv6 packets, the
# parser reads them, a TTL policy rewrites the hop limit, and the ICMPv6 time
# exceeded it provokes is tied to the flow through its quoted packet.
#
# Namespaces: h (2001:db8:1::10) -- r (2001:db8:1::1 | 2001:db8:2::1,
# forwarding) -- s (2001:db8:2::5, a listener on 5001). stunt-rules is
# installed in h only; build/drv/nfqdrv holds the queue there. A capture in r
# on h's link sees h's SYNs with the hop limit they left with.
#
#   1. a marked socket's first SYN leaves with hop limit 1 and dies in R; R's
#      ICMPv6 time exceeded reaches the driver with R's address and the SYN's
#      quoted sequence number and is dropped; the retransmission (hop limit
#      64) connects;
#   2. control: the same without suppression, the time exceeded aborts the
#      connect (EHOSTUNREACH);
#   3. an unmarked socket is never queued and leaves with hop limit 64;
#   4. stunt-rules remove leaves h's ip6tables as it was.
# Never touches the root namespace.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
DRV=$LAB_BUILD/drv/nfqdrv
RULES=$LAB_TOP/tools/stunt-rules
Q=7421
MARK=0x7421
ROUTER=2001:db8:1::1
# shellcheck source=tests/lab/tap.sh
. "$HERE/tap.sh"
# shellcheck source=tests/lab/drvjson.sh
. "$HERE/drvjson.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - t_nfq6 needs root (network namespaces)"
	exit 1
fi
[ -x "$DRV" ] || { echo "not ok - $DRV missing (make)"; exit 1; }

# three namespaces of the lab's naming (lab_down deletes them), not lab_up's
# IPv4 topology
setup() {
	_lab_addns h && _lab_addns r && _lab_addns s || return 1
	# before the links exist: no DAD, no ICMPv6 rate limit, r a router
	# from the start (tests/lab/lab6.sh says why)
	_lab6_ns h && _lab6_ns r && _lab6_ns s && _lab6_router r || return 1
	_lab_link h h0 r rh && _lab_link r rs s s0 || return 1
	lx h ip addr add 2001:db8:1::10/64 dev h0 nodad &&
		lx r ip addr add 2001:db8:1::1/64 dev rh nodad &&
		lx r ip addr add 2001:db8:2::1/64 dev rs nodad &&
		lx s ip addr add 2001:db8:2::5/64 dev s0 nodad || return 1
	lx h ip -6 route add default via 2001:db8:1::1 &&
		lx s ip -6 route add default via 2001:db8:2::1
}

# hlims SPORT: hop limits of the SYNs from h's port SPORT the capture in r printed so far
hlims() {
	awk -v src="2001:db8:1::10.$1 >" '
		/^[0-9:.]+ IP6 \(/ { match($0, /hlim [0-9]+/); h = substr($0, RSTART + 5, RLENGTH - 5) }
		index($0, src) && /Flags \[S\]/ { printf "%s ", h }' "$W/cap.log" | sed 's/ $//'
}
syns_seen() { [ "$(hlims "$1" | wc -w)" -ge "$2" ]; }
save6() { lx h ip6tables-save 2>/dev/null | grep -v '^#' | sed -E 's/ ?\[[0-9]+:[0-9]+\]//'; }
qcount6() {
	lx h ip6tables -w 5 -t mangle -L "$1" -v -x -n 2>/dev/null |
		awk '/NFQUEUE/ { s += $1 } END { print s + 0 }'
}
drv() { lx h "$DRV" --queue "$Q" --mark "$MARK" "$@"; }

lab_init nfqsix
W=$LAB_STATE
setup || { echo "not ok - namespace setup"; exit 1; }

lab_bg s lis python3 -c '
import socket, select
l = socket.socket(socket.AF_INET6); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("2001:db8:2::5", 5001)); l.listen(16)
held = []  # held open: a peer that closes at once races the client reading its state
while select.select([l], [], [], 60)[0]:
    held.append(l.accept()[0])
' >/dev/null
# (pcap has no tcp[] for IPv6: byte 53 is the TCP flags behind a bare IPv6 header)
lab_bg r cap tcpdump -l --immediate-mode -n -v -i rh 'ip6 and tcp and ip6[53] & 0x12 == 0x02' >/dev/null
lab_wait_capture cap || nok "tcpdump capturing in r"
lab_wait_port s tcp '\[2001:db8:2::5\]' 5001 || nok "listener on s:5001"

R0=$(save6)
out=$(lx h "$RULES" install --queue "$Q" --mark "$MARK" --queue-bypass 2>&1) ||
	{ echo "not ok - stunt-rules install in h: $out"; exit 1; }
check_cmd "stunt-rules installed the IPv6 rules ($out)" \
	test -n "$(echo "$out" | grep -- 'ip6tables')"

# ------------------------------------------------------------ 1. hop limit and time exceeded
c0=$(qcount6 STUNT-OUT)
drv syn-ttl --dst "[2001:db8:2::5]:5001" --ttl 1 --count 1 --sport 40001 --timeout-ms 10000 >"$W/ttl.json" 2>"$W/ttl.err"
rc=$?
c1=$(qcount6 STUNT-OUT)
lab_wait_for 5 syns_seen 40001 2
h=$(hlims 40001)
check_cmd "marked IPv6 socket with a hop-limit-1 first SYN connects through its retransmission (rc $rc)" \
	test "$rc" -eq 0 -a "$(jf "$W/ttl.json" result connected)" = true
check_cmd "first SYN seen in r with hop limit 1, retransmission with 64 ($h)" \
	test "${h%% *}" = 1 -a "$(echo "$h" | cut -d' ' -f2)" = 64
check_cmd "marked SYNs were queued by ip6tables' STUNT-OUT ($c0 -> $c1)" test "$c1" -ge $((c0 + 2))
check_cmd "the engine parsed every packet and rewrote one hop limit ($(jf "$W/ttl.json" stats ttl_rewritten), parse errors $(jf "$W/ttl.json" stats parse_errors))" \
	test "$(jf "$W/ttl.json" stats ttl_rewritten)" = 1 -a "$(jf "$W/ttl.json" stats parse_errors)" = 0
seq1=$(jf "$W/ttl.json" syn seq | sed -n 1p)
router=$(jf "$W/ttl.json" icmp_te router | sed -n 1p)
qseq=$(jf "$W/ttl.json" icmp_te quoted_seq | sed -n 1p)
check_cmd "ICMPv6 time exceeded delivered to the driver from router $ROUTER (got '$router', type $(jf "$W/ttl.json" icmp_te type | sed -n 1p))" \
	test "$router" = "$ROUTER" -a "$(jf "$W/ttl.json" icmp_te type | sed -n 1p)" = 3
check_cmd "the time exceeded quotes the SYN's sequence number ($qseq = $seq1)" test -n "$qseq" -a "$qseq" = "$seq1"
check_cmd "the time exceeded was seen as an inbound error of the flow and the socket stayed in SYN_SENT" \
	test "$(jf "$W/ttl.json" result inbound_icmp)" -ge 1 -a "$(states "$W/ttl.json")" = "SYN_SENT ESTABLISHED"

# ------------------------------------------------------------ 2. control: no suppression
drv syn-ttl --dst "[2001:db8:2::5]:5001" --ttl 1 --count 1 --sport 40002 --no-suppress --timeout-ms 3000 >"$W/ttl0.json" 2>/dev/null
check_cmd "control: without suppression the time exceeded aborts the connect ($(jf "$W/ttl0.json" result error))" \
	test "$(jf "$W/ttl0.json" result connected)" = false -a "$(jf "$W/ttl0.json" result error)" = "No route to host"

# ------------------------------------------------------------ 3. unmarked
c0=$(qcount6 STUNT-OUT)
i0=$(qcount6 STUNT-IN)
lx h "$DRV" connect --mark 0 --dst "[2001:db8:2::5]:5001" --sport 40003 --timeout-ms 10000 >"$W/plain.json"
rc=$?
c1=$(qcount6 STUNT-OUT)
i1=$(qcount6 STUNT-IN)
lab_wait_for 5 syns_seen 40003 1
h=$(hlims 40003)
# (a retransmitted SYN, when the machine is slow, has 64 too)
check_cmd "unmarked IPv6 socket connects, its SYNs with hop limit 64 (rc $rc, '$h', state $(jf "$W/plain.json" result state), error '$(jf "$W/plain.json" result error)')" \
	test "$rc" -eq 0 -a -n "$h" -a -z "$(echo "$h" | tr ' ' '\n' | grep -vx 64)"
check_cmd "unmarked connection not counted by the ip6tables rules ($c0 -> $c1, $i0 -> $i1)" \
	test "$c1" -eq "$c0" -a "$i1" -eq "$i0"

# ------------------------------------------------------------ 4. remove
lx h "$RULES" remove >/dev/null
check_cmd "stunt-rules remove leaves h's ip6tables as before install" test "$(save6)" = "$R0"

lab_down
check_cmd "no lab namespaces left behind" test -z "$(ip netns list | grep "^$LAB-")"
[ "$fails" -eq 0 ]
