#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The privileged half of stuntd does only what it must (issue 13, items 2-3):
# build/drv/privdrv forks the privileged process in ha (the queue and the
# rules come up in ha's namespace), becomes nobody and drives its socketpair
# directly, as a compromised unprivileged process would. ha is routed without
# NAT (--nat-a none), so what the privileged process sends reaches pub as it
# left; nft counters in pub count it.
#   (b) a root SO_REUSEPORT listener's port: a uid-0 socket made the old way
#       (the removed SOCKET request) joins it; nobody's socket cannot
#       (EADDRINUSE), and the old request is refused as malformed;
#   (a) MARK marks our TCP socket (SO_MARK 0x7421) and refuses a UDP socket,
#       an AF_UNIX socket, a pipe, no descriptor and two descriptors;
#   (d) a REPLACE policy is refused (EPERM);
#   (c) INJECT refuses a SYN on a flow without a policy, a UDP datagram, a SYN
#       from an address that is not ha's, a SYN on another flow and a SYN-ACK
#       on the flow (EPERM, counted), and sends the SYN on the flow: pub sees
#       exactly that one; over IPv6 (ha's IPv6 address, an open IPv6
#       gateway) a SYN before its flow has a policy, one to ff02::1 and one
#       behind a routing header are refused (with policies naming their
#       flows), the SYN on the flow is sent: pub sees exactly that one;
#   (e) a second PROBE_FDS while one is open is refused (EBUSY); closing the
#       reading ends ends the capture; one right after is refused too.
# Then the real daemons, ha with privilege separation and hb without
# (--no-privsep, where the same INJECT check runs in the one process),
# port-restricted both, each started the way tools/stuntd.service starts it
# as far as capabilities go: the unit's CapabilityBoundingSet and
# no_new_privs (setpriv): synth both ways re-sends the first SYNs (INJECT)
# without a refusal; simopen both ways (marked sockets, TTL policies).
# Never touches the root namespace.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
DRV=$LAB_BUILD/drv/privdrv
RULES=$LAB_TOP/tools/stunt-rules
HA=10.1.0.10
FOREIGN=10.1.0.99
LPORT=7555

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - t_priv_narrow needs root (network namespaces)"
	exit 1
fi
[ -x "$DRV" ] || { echo "not ok - $DRV missing (make)"; exit 1; }
id nobody >/dev/null 2>&1 || { echo "not ok - no user nobody"; exit 1; }

lab_init privnarrow
lab_up --nat-a none --ipv6 --fw6-a open || { echo "not ok - lab_up"; exit 1; }
S=$LAB_STATE
mkdir -p "$S/st"
lx ha iptables-save 2>/dev/null | grep -v '^#' >"$S/ipt.before"

# pub counts what arrives from ha's side, by kind
lx pub nft -f - <<EOF || { echo "not ok - nft counters in pub"; exit 1; }
table ip cnt {
	counter syn_flow {}
	counter syn_other_flow {}
	counter synack {}
	counter foreign {}
	counter udp_any {}
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ip saddr $FOREIGN counter name foreign
		ip saddr $HA udp dport 5000 counter name udp_any
		ip saddr $HA tcp sport 40001 tcp dport 5000 tcp flags & (syn|ack) == syn counter name syn_flow
		ip saddr $HA tcp sport 40001 tcp dport 5001 counter name syn_other_flow
		ip saddr $HA tcp sport 40001 tcp flags & (syn|ack) == syn|ack counter name synack
	}
}
EOF
lx pub nft -f - <<EOF || { echo "not ok - nft IPv6 counters in pub"; exit 1; }
table ip6 cnt6 {
	counter syn6_flow {}
	counter tcp6_other {}
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ip6 saddr $LAB_HA6 tcp sport 40001 tcp dport 5000 tcp flags & (syn|ack) == syn counter name syn6_flow accept
		ip6 saddr $LAB_HA6 meta l4proto tcp counter name tcp6_other
	}
}
EOF
cnt() { lx pub nft list counter ip cnt "$1" | awk '/packets/ { print $2 }'; }
cnt6() { lx pub nft list counter ip6 cnt6 "$1" | awk '/packets/ { print $2 }'; }

lx ha "$DRV" --state-dir "$S/st" --rules-tool "$RULES" --src "$HA" --dst "$LAB_PUB" \
	--foreign "$FOREIGN" --listen-port "$LPORT" --src6 "$LAB_HA6" --dst6 "$LAB_PUB6" \
	>"$S/drv.out" 2>"$S/drv.err"
rc=$?
check_eq "privdrv ran every step" "$rc" 0
sed 's/^/# /' "$S/drv.out"
sed 's/^/# stderr: /' "$S/drv.err"
v() { awk -v k="$1" '$1 == k { print $2 }' "$S/drv.out"; }
E() { python3 -c "import errno, sys; print(-getattr(errno, sys.argv[1]))" "$1"; }

check_eq "the driver runs as nobody" "$(v uid)" "$(id -u nobody)"
echo "# (b) sockets"
check_eq "old way: a uid-0 SO_REUSEPORT socket joins root's listener port" \
	"$(v old_way_root_socket_joins_port)" "$LPORT"
check_eq "new way: nobody's socket cannot bind root's SO_REUSEPORT port" \
	"$(v new_way_bind_root_port)" "$(E EADDRINUSE)"
check_eq "the old SOCKET request (a port) is refused as malformed" \
	"$(v old_socket_request)" "$(E EBADMSG)"
check_eq "... and brings no descriptor back" "$(v old_socket_request_fds)" 0
echo "# (a) MARK"
check_eq "MARK of our own TCP socket" "$(v mark_tcp)" 0
check_eq "... which now carries the queue's mark" "$(v mark_tcp_so_mark)" "$((0x7421))"
check_eq "MARK of a UDP socket refused" "$(v mark_udp)" "$(E EPROTOTYPE)"
check_eq "... and it stays unmarked" "$(v mark_udp_so_mark)" 0
check_eq "MARK of an AF_UNIX stream socket refused" "$(v mark_unix_stream)" "$(E EAFNOSUPPORT)"
check_eq "MARK of a pipe refused" "$(v mark_pipe)" "$(E ENOTSOCK)"
check_eq "MARK without a descriptor refused" "$(v mark_no_fd)" "$(E EBADMSG)"
check_eq "MARK with two descriptors refused" "$(v mark_two_fds)" "$(E EBADMSG)"
check_eq "... and neither is marked" "$(v mark_two_fds_so_mark)" 0
check_eq "a descriptor on PROBE_FDS refused" "$(v probe_fds_with_fd)" "$(E EBADMSG)"
echo "# (d) REPLACE"
check_eq "a REPLACE policy refused" "$(v policy_replace)" "$(E EPERM)"
echo "# (c) INJECT"
check_eq "a SYN on a flow without a policy refused" "$(v inject_syn_no_policy_yet)" "$(E EPERM)"
check_eq "a policy on the flow added" "$(v policy_add_flow)" 0
check_eq "a UDP datagram refused" "$(v inject_udp)" "$(E EPERM)"
check_eq "a SYN from an address that is not ha's refused" "$(v inject_syn_foreign_source)" "$(E EPERM)"
check_eq "a SYN on another flow (no policy) refused" "$(v inject_syn_other_flow)" "$(E EPERM)"
check_eq "a SYN-ACK on the flow refused" "$(v inject_synack_on_flow)" "$(E EPERM)"
check_eq "the privileged process counted the 5 refusals" "$(v inject_refused_counter)" 5
check_eq "the SYN on the flow, from ha's address, sent" "$(v inject_syn_on_flow)" 0
check_eq "... and not counted as refused" "$(v inject_refused_counter_after)" 5
sleep 0.5
check_eq "pub: the allowed SYN arrived, once" "$(cnt syn_flow)" 1
check_eq "pub: no UDP datagram" "$(cnt udp_any)" 0
check_eq "pub: nothing from the foreign source" "$(cnt foreign)" 0
check_eq "pub: no SYN of the other flow" "$(cnt syn_other_flow)" 0
check_eq "pub: no SYN-ACK" "$(cnt synack)" 0
echo "# (c) INJECT over IPv6"
check_eq "an IPv6 SYN on a flow without a policy refused" "$(v inject6_syn_no_policy_yet)" "$(E EPERM)"
check_eq "a policy naming a flow to ff02::1 taken" "$(v policy6_add_multicast)" 0
check_eq "a policy naming the IPv6 flow taken" "$(v policy6_add_flow)" 0
check_eq "an IPv6 SYN to ff02::1 refused, its flow named by a policy" "$(v inject6_syn_multicast)" "$(E EPERM)"
check_eq "the IPv6 SYN behind a routing header refused" "$(v inject6_syn_routing_header)" "$(E EPERM)"
check_eq "the privileged process counted 8 refusals" "$(v inject6_refused_counter)" 8
check_eq "the IPv6 SYN on the flow, from ha's address, sent" "$(v inject6_syn_on_flow)" 0
check_eq "... and not counted as refused" "$(v inject6_refused_counter_after)" 8
sleep 0.5
check_eq "pub: the allowed IPv6 SYN arrived, once" "$(cnt6 syn6_flow)" 1
check_eq "pub: no other IPv6 TCP packet from ha" "$(cnt6 tcp6_other)" 0
echo "# (e) PROBE_FDS"
check_eq "no capture socket before" "$(v packet_sockets_before)" 0
check_eq "the first PROBE_FDS" "$(v probe_fds_first)" 0
check_eq "... with its two descriptors" "$(v probe_fds_first_fds)" 1
check_eq "... and a capture socket in ha" "$(v packet_sockets_open)" 1
check_eq "a second PROBE_FDS while it is open refused" "$(v probe_fds_second)" "$(E EBUSY)"
check_eq "... with no descriptor" "$(v probe_fds_second_fds)" 0
check_eq "closing the reading ends ends the capture" "$(v packet_sockets_after_close)" 0
check_eq "another one right after refused (5 s apart)" "$(v probe_fds_too_soon)" "$(E EBUSY)"
echo "# the privileged process"
check_eq "still answers after all that" "$(v policy_remove_flow)" 1
check_eq "exits cleanly when the driver goes" "$(v priv_exit)" 0
if grep -q 'refused to mark a descriptor: not a TCP socket' "$S/drv.err" &&
	grep -q 'refused to inject a datagram of [0-9]* bytes: no live policy' "$S/drv.err" &&
	grep -q 'refused a REPLACE policy' "$S/drv.err" &&
	grep -q 'refused a discovery capture: one is open' "$S/drv.err" &&
	grep -q 'a bad request .*; further ones are counted' "$S/drv.err" &&
	grep -q 'refused to inject a datagram of [0-9]* bytes: its source or destination is loopback, multicast' "$S/drv.err" &&
	grep -q 'refused to inject a datagram of [0-9]* bytes: it has IPv4 options or an IPv6 extension header' "$S/drv.err" &&
	grep -q 'refused 3 mark, 8 inject, 1 REPLACE, 2 capture and 4 malformed requests' "$S/drv.err"; then
	ok "the privileged process logged the first refusal of each kind and the totals"
else
	nok "the privileged process's log: $(grep -c refused "$S/drv.err") refusal lines"
fi
check_eq "mark refusals logged once" "$(grep -c 'refused to mark a descriptor' "$S/drv.err")" 1
check_eq "malformed requests logged once" "$(grep -c 'a bad request' "$S/drv.err")" 1
lx ha iptables-save 2>/dev/null | grep -v '^#' >"$S/ipt.after"
if diff "$S/ipt.before" "$S/ipt.after" >/dev/null && [ ! -e "$S/st/rules.state" ]; then
	ok "ha: rules removed when the privileged process exited"
else
	nok "ha: rules left behind"
fi
lab_down

echo "# the daemons: ha privileged-separated, hb --no-privsep, both in the unit's bounding set"
UNIT=$LAB_TOP/tools/stuntd.service
bset=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
nnp=$(grep -q '^NoNewPrivileges=yes' "$UNIT" && echo --no-new-privs)
if [ -n "$bset" ]; then
	ok "the unit's capability bounding set: $bset${nnp:+, $nnp}"
else
	nok "no CapabilityBoundingSet in $UNIT"
fi
REAL_STUNTD=$STUNTD
STUNTD=$(mktemp "/tmp/stunt-unitcaps.XXXX")
printf '#!/bin/sh\nexec setpriv --bounding-set=-all,%s %s %s "$@"\n' "$bset" "$nnp" "$REAL_STUNTD" >"$STUNTD"
chmod 755 "$STUNTD"
STUNTD_EXTRA_B=(--no-privsep)
start_all port-restricted rst port-restricted rst || exit 1
if [ -n "$(cat /proc/"$PID_A"/task/*/children 2>/dev/null)" ] &&
	[ -z "$(cat /proc/"$PID_B"/task/*/children 2>/dev/null)" ]; then
	ok "ha has a privileged child, hb none"
else
	nok "process layout: ha children '$(cat /proc/"$PID_A"/task/*/children 2>/dev/null)', hb '$(cat /proc/"$PID_B"/task/*/children 2>/dev/null)'"
fi
transfer a office-pc "privsep ha -> no-privsep hb, --method synth" synth synth
transfer b laptop "no-privsep hb -> privsep ha, --method synth" synth synth
transfer a office-pc "privsep ha -> no-privsep hb, --method simopen" simopen simopen
transfer b laptop "no-privsep hb -> privsep ha, --method simopen" simopen simopen
na=$(grep -c 'synth: SYN seq [0-9]* sent again' "$LAB_STATE/stuntd-a.log")
nb=$(grep -c 'synth: SYN seq [0-9]* sent again' "$LAB_STATE/stuntd-b.log")
if [ "$((na + nb))" -ge 2 ]; then
	ok "synth: first SYNs sent again through INJECT (ha privsep: $na, hb local: $nb)"
else
	nok "synth repeats: ha $na, hb $nb"
fi
check_eq "no INJECT refused in either daemon" \
	"$(cat "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" | grep -c 'refused to inject\|cannot send the SYN')" 0
check_eq "no MARK refused" "$(grep -c 'refused to mark' "$LAB_STATE/stuntd-a.log")" 0
check_eq "hb (no privsep, root in the unit's bounding set): CapBnd" \
	"$(awk '$1 == "CapBnd:" { print $2 }' /proc/"$PID_B"/status)" \
	"$(printf '%016x' $(( (1 << 12) | (1 << 13) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 0) )))"
stop_all
rm -f "$STUNTD"
[ "$fails" -eq 0 ]
