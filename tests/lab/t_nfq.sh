#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The nfq engine against real packets in the namespace lab (issue 5).
#
# Lab: ha (10.1.0.10) behind gwa (port-restricted NAT, 198.18.1.2) -> inet
# (198.18.1.1 towards gwa) -> srv (192.0.2.1). stunt-rules is installed in ha
# only (host mode, --queue-bypass); build/drv/nfqdrv holds the queue and drives
# one marked socket at a time. A capture in gwa on its LAN interface sees the
# SYNs one hop after ha, with the TTL ha sent them with.
#
#   1. TTL: a marked socket's first SYN leaves with TTL 2 (dies at inet, whose
#      ICMP time exceeded reaches the driver with inet's address and the SYN's
#      quoted sequence number), its retransmission with TTL 64 connects; an
#      unmarked socket on the same host sends TTL 64 and is never queued.
#   2. Suppression: an RST (closed port on srv) and an ICMP port unreachable
#      (an nft reject rule in srv) at a marked connecting socket are dropped:
#      the socket stays in SYN_SENT and connects when srv listens; without
#      suppression the same answers refuse the connect (the control).
#   3. kill -9 of the queue holder while connections are made: marked and
#      unmarked ones still connect (--queue-bypass, fail-open); stunt-rules
#      remove, install, install, remove restores the rule set exactly, and a
#      restarted holder serves the queue again.
# Never touches the root namespace.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
TOP=$LAB_TOP
DRV=$LAB_BUILD/drv/nfqdrv
RULES=$TOP/tools/stunt-rules
Q=7421
MARK=0x7421
ROUTER=198.18.1.1        # inet's address facing gwa: where a TTL-2 SYN from ha dies
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
# shellcheck source=tests/lab/drvjson.sh
. "$HERE/drvjson.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - t_nfq needs root (network namespaces)"
	exit 1
fi
[ -x "$DRV" ] || { echo "not ok - $DRV missing (make)"; exit 1; }

lab_init nfq
lab_up || { echo "not ok - lab_up"; exit 1; }
S=$LAB_STATE

# syn_ttls SPORT: TTLs of the SYNs from ha's port SPORT seen so far by the gwa capture
syn_ttls() {
	awk -v src="10.1.0.10.$1 >" '
		/ IP \(/ { match($0, /ttl [0-9]+/); ttl = substr($0, RSTART + 4, RLENGTH - 4); next }
		index($0, src) && /Flags \[S\]/ { printf "%s ", ttl }' "$S/cap.log" | sed 's/ $//'
}

# syns_seen SPORT N: the capture has printed at least N SYNs from ha's port SPORT
syns_seen() { [ "$(syn_ttls "$1" | wc -w)" -ge "$2" ]; }

# qcount CHAIN: packets counted by the NFQUEUE rules of a mangle chain in ha
qcount() {
	lx ha iptables -w 5 -t mangle -L "$1" -v -x -n 2>/dev/null |
		awk '/NFQUEUE/ { s += $1 } END { print s + 0 }'
}

# save: ha's iptables-save without comments and counters
save() {
	lx ha iptables-save 2>/dev/null | grep -v '^#' | sed -E 's/ ?\[[0-9]+:[0-9]+\]//'
}

# queue_line: ha's /proc entry for our queue (empty when nobody holds it)
queue_line() {
	lx ha cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk -v q="$Q" '$1 == q'
}

# nft_packets NODE TABLE: packets counted so far by the counters of an nft table in NODE
nft_packets() {
	lx "$1" nft list table ip "$2" 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "counter" && $(i + 1) == "packets") s += $(i + 2) } END { print s + 0 }'
}
# nft_more NODE TABLE N: that count is above N
nft_more() { [ "$(nft_packets "$1" "$2")" -gt "$3" ]; }

# queued: the queue's holder has been handed at least one packet (the
# /proc entry's id sequence has moved); unheld: nobody holds the queue
queued() { [ "$(queue_line | awk '{print $8}')" -gt 0 ] 2>/dev/null; }
unheld() { [ -z "$(queue_line)" ]; }

drv() { lx ha "$DRV" --queue "$Q" --mark "$MARK" "$@"; }

# an unrelated rule in ha that every remove must leave alone
lx ha iptables -w 5 -t mangle -A OUTPUT -p udp --dport 9 -j MARK --set-mark 0x1
R0=$(save)
if ! lx ha "$RULES" install --queue "$Q" --mark "$MARK" --queue-bypass >/dev/null; then
	echo "not ok - stunt-rules install in ha"
	exit 1
fi
R1=$(save)

# ------------------------------------------------------------ 1. TTL and time exceeded
lab_bg srv lis5001 "$DRV" listen --bind 192.0.2.1:5001 --timeout-ms 120000 >/dev/null
lab_bg gwa cap tcpdump -l --immediate-mode -n -v -i lan 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' >/dev/null
lab_wait_port srv tcp 192.0.2.1 5001 || nok "listener on srv:5001"
lab_wait_capture cap || nok "tcpdump capturing on gwa's LAN interface"

c0=$(qcount STUNT-OUT)
drv syn-ttl --dst 192.0.2.1:5001 --ttl 2 --count 1 --sport 40001 --timeout-ms 5000 >"$S/ttl.json" 2>"$S/ttl.err"
rc=$?
c1=$(qcount STUNT-OUT)
# tcpdump prints a packet a moment after it passed; the check below names what is missing
lab_wait_for 5 syns_seen 40001 2
ttls=$(syn_ttls 40001)
check_cmd "marked socket with a TTL-2 first SYN connects through its retransmission (rc $rc)" \
	test "$rc" -eq 0 -a "$(jf "$S/ttl.json" result connected)" = true
check_cmd "first SYN seen in gwa with TTL 2, retransmission with TTL 64 ($ttls)" \
	test "${ttls%% *}" = 2 -a "$(echo "$ttls" | cut -d' ' -f2)" = 64
check_cmd "marked SYNs were queued by STUNT-OUT ($c0 -> $c1)" test "$c1" -ge $((c0 + 2))
seq1=$(jf "$S/ttl.json" syn seq | head -1)
mss=$(jf "$S/ttl.json" syn mss | head -1)
check_cmd "the SYN is reported with its sequence number and options (seq $seq1, mss $mss)" \
	test -n "$seq1" -a "${mss:-0}" -gt 0
router=$(jf "$S/ttl.json" icmp_te router | head -1)
qseq=$(jf "$S/ttl.json" icmp_te quoted_seq | head -1)
check_cmd "ICMP time exceeded delivered to the driver from router $ROUTER (got '$router')" \
	test "$router" = "$ROUTER"
check_cmd "the time exceeded quotes the SYN's sequence number ($qseq)" test -n "$qseq" -a "$qseq" = "$seq1"

c0=$(qcount STUNT-OUT)
i0=$(qcount STUNT-IN)
lx ha "$DRV" connect --mark 0 --dst 192.0.2.1:5001 --sport 40002 --timeout-ms 3000 >"$S/unmarked.json"
rc=$?
c1=$(qcount STUNT-OUT)
i1=$(qcount STUNT-IN)
lab_wait_for 5 syns_seen 40002 1
check_cmd "unmarked socket on the same host connects" test "$rc" -eq 0
check_cmd "unmarked SYN leaves with TTL 64 ($(syn_ttls 40002))" test "$(syn_ttls 40002)" = 64
check_cmd "unmarked connection not counted by the NFQUEUE rules ($c0 -> $c1, $i0 -> $i1)" \
	test "$c1" -eq "$c0" -a "$i1" -eq "$i0"

# ------------------------------------------------------------ 2. RST and ICMP suppression
# control: nobody suppresses, the closed port's RST refuses the connect
drv suppress --dst 192.0.2.1:5002 --sport 40003 --suppress-ms 0 --timeout-ms 3000 >"$S/rst0.json"
check_cmd "control: without suppression the RST refuses the connect" \
	test "$(jf "$S/rst0.json" result error)" = "Connection refused"

# srv listens on 5002 only once it has answered the suppressed socket's
# first SYN with an RST (counted in srv's output): the retransmission 1 s
# later connects. (A listener started a fixed time from now would miss the
# first SYN on a machine slow to start the driver.)
lx srv nft -f - <<'EOF'
table ip t_nfq_rst {
  chain output {
    type filter hook output priority filter; policy accept;
    tcp sport 5002 tcp flags & rst == rst counter
  }
}
EOF
(lab_wait_for 20 nft_more srv t_nfq_rst 0
	exec ip netns exec "$(lab_ns srv)" "$DRV" listen --bind 192.0.2.1:5002 --timeout-ms 60000) >"$S/lis5002.log" 2>&1 &
LAB_PIDS+=($!)
drv suppress --dst 192.0.2.1:5002 --sport 40004 --timeout-ms 6000 >"$S/rst.json"
rc=$?
nrst=$(jf "$S/rst.json" result inbound_rst)
check_cmd "RSTs from the closed port reached the queue ($nrst)" test "${nrst:-0}" -ge 1
check_cmd "socket stayed in SYN_SENT through the RSTs ($(states "$S/rst.json"))" \
	test "$(states "$S/rst.json")" = "SYN_SENT ESTABLISHED"
check_cmd "connect completed when srv listened (rc $rc, SYN_SENT for $(jf "$S/rst.json" result syn_sent_ms) ms)" \
	test "$rc" -eq 0

# ICMP port unreachable from srv's firewall for port 5003, removed once it
# has answered the suppressed socket's first SYN
lx srv nft -f - <<'EOF'
table ip t_nfq {
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 5003 counter reject with icmp type port-unreachable
  }
}
EOF
lab_bg srv lis5003 "$DRV" listen --bind 192.0.2.1:5003 --timeout-ms 60000 >/dev/null
lab_wait_port srv tcp 192.0.2.1 5003 || nok "listener on srv:5003"
drv suppress --dst 192.0.2.1:5003 --sport 40005 --suppress-ms 0 --timeout-ms 3000 >"$S/icmp0.json"
check_cmd "control: without suppression the ICMP port unreachable refuses the connect" \
	test "$(jf "$S/icmp0.json" result error)" = "Connection refused"
rej0=$(nft_packets srv t_nfq)
(lab_wait_for 20 nft_more srv t_nfq "$rej0"; lx srv nft delete table ip t_nfq) &
unrej=$!
drv suppress --dst 192.0.2.1:5003 --sport 40006 --timeout-ms 6000 >"$S/icmp.json"
rc=$?
wait "$unrej"
itype=$(jf "$S/icmp.json" inbound type | head -1)
icode=$(jf "$S/icmp.json" inbound code | head -1)
check_cmd "ICMP port unreachable reached the queue (type $itype code $icode)" \
	test "$itype" = 3 -a "$icode" = 3
check_cmd "socket stayed in SYN_SENT through the ICMP errors ($(states "$S/icmp.json"))" \
	test "$(states "$S/icmp.json")" = "SYN_SENT ESTABLISHED"
check_cmd "connect completed once srv stopped rejecting (rc $rc)" test "$rc" -eq 0

# ------------------------------------------------------------ 3. kill -9 of the queue holder
hold=$(lab_bg ha hold "$DRV" --queue "$Q" hold --ready-file "$S/hold.ready")
lab_wait_file "$S/hold.ready" 5 || nok "holder started"
check_cmd "the holder owns queue $Q ($(queue_line | awk '{print "portid", $2}'))" test -n "$(queue_line)"
# connections in a loop, marked and unmarked, while the holder is killed
lab_bg ha traffic bash -c '
	for i in $(seq 12); do
		for m in '"$MARK"' 0; do
			"$0" connect --mark $m --dst 192.0.2.1:5001 --timeout-ms 5000 || echo FAIL $m
		done
		sleep 0.1  # pacing, not a wait: spreads the connections over the kill
	done; echo DONE' "$DRV" >/dev/null
# kill once the holder has verdicted the first marked SYNs (the check below)
lab_wait_for 10 queued
ids0=$(queue_line | awk '{print $8}')
kill -9 "$hold"
check_cmd "the holder was verdicting the marked connections when killed ($ids0 packets queued)" \
	test "${ids0:-0}" -gt 0
lab_wait_for 5 unheld
check_cmd "after kill -9 nobody holds queue $Q" unheld
lab_wait_log "$S/traffic.log" '^DONE$' 30 || nok "the connection loop ended within 30 s"
nconn=$(grep -c '"connected":true' "$S/traffic.log")
check_cmd "all 24 marked/unmarked connections made across the kill connected ($nconn, $(grep -c FAIL "$S/traffic.log") failed)" \
	test "$nconn" -eq 24
c0=$(qcount STUNT-OUT)
drv connect --dst 192.0.2.1:5001 --timeout-ms 3000 >/dev/null
rc=$?
c1=$(qcount STUNT-OUT)
check_cmd "marked connection after the kill connects, its SYN bypasses the empty queue ($c0 -> $c1)" \
	test "$rc" -eq 0 -a "$c1" -gt "$c0"
check_cmd "unmarked connection after the kill connects" \
	lx ha "$DRV" connect --mark 0 --dst 192.0.2.1:5001 --timeout-ms 3000 >/dev/null

# the restart: remove what the crashed daemon left, then install again
lx ha "$RULES" remove >/dev/null
R2=$(save)
if [ "$R2" = "$R0" ]; then ok "remove after the crash restores the rule set from before install"; else
	nok "remove after the crash restores the rule set from before install"
	diff <(echo "$R0") <(echo "$R2") | sed 's/^/# /'
fi
lx ha "$RULES" install --queue "$Q" --mark "$MARK" --queue-bypass >/dev/null &&
	lx ha "$RULES" install --queue "$Q" --mark "$MARK" --queue-bypass >/dev/null
R3=$(save)
if [ "$R3" = "$R1" ]; then ok "install; install again gives exactly the first install's rule set"; else
	nok "install; install again gives exactly the first install's rule set"
	diff <(echo "$R1") <(echo "$R3") | sed 's/^/# /'
fi
lab_bg ha hold2 "$DRV" --queue "$Q" hold --ready-file "$S/hold2.ready" >/dev/null
lab_wait_file "$S/hold2.ready" 5 || nok "second holder started"
ids0=$(queue_line | awk '{print $8}')
drv connect --dst 192.0.2.1:5001 --timeout-ms 3000 >/dev/null
rc=$?
ids1=$(queue_line | awk '{print $8}')
check_cmd "a restarted holder serves the queue: marked connection queued and connected (ids $ids0 -> $ids1)" \
	test "$rc" -eq 0 -a "${ids1:-0}" -gt "${ids0:-0}"
lx ha "$RULES" remove >/dev/null
R4=$(save)
if [ "$R4" = "$R0" ]; then ok "install; install; remove leaves ha's rule set exactly as before"; else
	nok "install; install; remove leaves ha's rule set exactly as before"
	diff <(echo "$R0") <(echo "$R4") | sed 's/^/# /'
fi

lab_down
check_cmd "no lab namespaces left behind" test -z "$(ip netns list | grep "^$LAB-")"
[ "$fails" -eq 0 ]
