#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# UDP sessions over IPv6 (issue 17, method udp6 in daemon/trav/udp.c): ha
# "laptop" asks hb "office-pc" for its UDP service "uecho"
# (udp:127.0.0.1:7001, a datagram echo) through the lab's RFC 6092 stateful
# IPv6 firewalls (lab_up --ipv6). See t_stuntd_udp.sh for UDP sessions over
# IPv4 and t_stuntd_v6.sh for simopen6.
#   drop, reject (port-restricted IPv4 NATs, both IPv6 firewalls of the type):
#     - --method udp6: the session is udp6, the client's socket is connected
#       to hb's IPv6 address, 200 datagrams echo through; both first
#       packets left hop-limited (logged); no ICMPv6 destination
#       unreachable came back to either host (the hop-limited packet died
#       before the peer's firewall, a rejecting one never answered it);
#     - the race (--udp): udp and udp6 raced, hb races both, both daemons
#       name the same winner, datagrams echo through; the client's socket
#       is connected to hb's address of the winner's family;
#   sym (random symmetric IPv4 NATs on both sides, drop x drop): UDP hole
#     punching over IPv4 cannot work; hb races udp6 alone and the session
#     is made over IPv6 (a dual-stack pair whose IPv4 would need a relay);
#   symoff (the same with --ipv6 off on hb): the requester offers udp6, hb
#     takes none and udp cannot work: refused at once by the strategy's
#     rule ("method udp refused: ..."), counted in methods_refused;
#   silent (drop x drop, IPv6 UDP between the two sites dropped in inet):
#     --method udp6 fails with "udp6: nothing verified from [ADDR]:PORT
#     within 2000 ms", and ha sent 5 to 25 datagrams to hb's address (the
#     address is the peer's word: punched for 2 s at most);
#   v6only (hb IPv6-only, reaching the server over IPv6, as in
#     t_stuntd_v6only.sh; ha dual-stack): ha -> hb, hb races udp6 alone;
#     hb -> ha, hb offers udp6 alone; both made over IPv6 (before udp6,
#     "--udp" on such a host failed: "needs IPv4").
# Bounded: each connect by stuntd's connect-timeout (5 s here).
# shellcheck disable=SC2153 # LAB_HA6, LAB_HB6: set by lab_up --ipv6
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

setup() {
	STUNTD_EXTRA_A=(--connect-timeout 5000)
	STUNTD_EXTRA_B=(--connect-timeout 5000 --expose uecho=udp:127.0.0.1:7001 --allow uecho=laptop)
}

# uecho_up: the datagram echo in hb
uecho_up() {
	lab_bg hb uecho python3 "$here/echosrv.py" --udp 7001 >/dev/null
	sleep 0.3
}

# peer_is LABEL: the client's socket is connected to hb's address of the
# winner's family (IPv6: its global address; IPv4: its NAT's public one)
peer_is() {
	local want=198.18.2.2:
	[ "$LAST_METHOD" = udp6 ] && want="[$LAB_HB6]:"
	case "$LAST_PEER" in
	"$want"*) ok "$1: the socket is connected to $LAST_PEER ($LAST_METHOD)" ;;
	*) nok "$1: the socket is connected to '$LAST_PEER' (want $want*)" ;;
	esac
}

# same_winner LABEL: hb's log names the winner ha's answer names
same_winner() {
	local w
	w=$(grep -o 'from laptop/uecho connected by [a-z0-9]*' "$LAB_STATE/stuntd-b.log" | tail -1 | awk '{ print $NF }')
	[ -n "$w" ] && [ "$w" = "$LAST_METHOD" ] && ok "$1: both daemons name $w the winner" ||
		nok "$1: ha's winner '$LAST_METHOD', hb's '$w'"
}

# icmp6_start / icmp6_check: no ICMPv6 destination unreachable (a
# rejecting firewall's answer) reached ha or hb (time exceeded from the
# router that ended a hop-limited packet is expected)
icmp6_start() {
	local x
	for x in a b; do
		lab_bg "h$x" "icmp6-$x" tcpdump -i eth0 -nn -U --immediate-mode \
			-w "$LAB_STATE/icmp6-$x.pcap" 'icmp6 and ip6[40] == 1' >/dev/null
	done
	lab_wait_capture icmp6-a && lab_wait_capture icmp6-b
}
icmp6_check() {
	local n=0 x
	for x in a b; do
		n=$((n + $(tcpdump -r "$LAB_STATE/icmp6-$x.pcap" -nn 2>/dev/null | grep -c .)))
	done
	[ "$n" -eq 0 ] && ok "$1: no ICMPv6 destination unreachable reached ha or hb" ||
		{ nok "$1: $n ICMPv6 destination unreachable"; tcpdump -r "$LAB_STATE/icmp6-a.pcap" -nn 2>/dev/null | head -5 | sed 's/^/# /'; }
}

fw6_pair() {
	echo "# port-restricted IPv4 NATs, IPv6 firewalls $1 x $1"
	setup
	start_all port-restricted rst port-restricted rst --ipv6 --fw6-a "$1" --fw6-b "$1" && {
		uecho_up
		icmp6_start || nok "ICMPv6 capture in ha and hb"
		udp_session "$1: --method udp6" 200 udp6 udp6 && peer_is "$1: --method udp6"
		grep -Eq "udp6: connect from port [0-9]+ to \[$LAB_HB6\]:[0-9]+ \(first packet hop-limited\)" \
			"$LAB_STATE/stuntd-a.log" &&
			grep -Eq "udp6: connect from port [0-9]+ to \[$LAB_HA6\]:[0-9]+ \(first packet hop-limited\)" \
				"$LAB_STATE/stuntd-b.log" &&
			ok "$1: both sides' first udp6 packets left hop-limited" ||
			nok "$1: hop-limited first packets: $(grep -h 'udp6: connect' "$LAB_STATE"/stuntd-[ab].log)"
		sleep 0.5
		icmp6_check "$1"
		udp_session "$1: the race" 200 'udp|udp6' && peer_is "$1: the race"
		same_winner "$1: the race"
		grep -Eq 'laptop asks for uecho .*racing udp6, udp$' "$LAB_STATE/stuntd-b.log" &&
			ok "$1: hb raced udp6 and udp" ||
			nok "$1: hb's race: $(grep -o 'racing .*' "$LAB_STATE/stuntd-b.log" | tail -1)"
		stop_all
	}
}

case "${1:-all}" in
drop|all)
	fw6_pair drop
	;;&
reject|all)
	fw6_pair reject
	;;&
sym|all)
	echo "# random symmetric IPv4 NATs, IPv6 firewalls drop x drop: udp cannot work"
	setup
	start_all sym-random rst sym-random rst --ipv6 --fw6-a drop --fw6-b drop && {
		uecho_up
		udp_session "sym: --udp" 200 udp6 && peer_is "sym: --udp"
		grep -Eq 'laptop asks for uecho .*racing udp6$' "$LAB_STATE/stuntd-b.log" &&
			ok "sym: hb raced udp6 alone (IPv4 cannot carry it)" ||
			nok "sym: hb's race: $(grep -o 'racing .*' "$LAB_STATE/stuntd-b.log" | tail -1)"
		stop_all
	}
	;;&
symoff|all)
	# the same pair with --ipv6 off on hb: the requester still offers
	# udp6, hb takes none, and udp cannot work between the two NATs:
	# refused at once, as any method the strategy rules out
	echo "# random symmetric IPv4 NATs, hb with --ipv6 off: refused"
	setup
	STUNTD_EXTRA_B+=(--ipv6 off)
	start_all sym-random rst sym-random rst --ipv6 --fw6-a drop --fw6-b drop && {
		uecho_up
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"uecho","proto":"udp"}' \
			"symoff: udp6 offered, hb has none, udp ruled out" 'method udp refused: the strategy says it cannot work'
		v=$(sec b methods_refused)
		[ "${v:-0}" -ge 1 ] && ok "symoff: hb counted the refusal (methods_refused $v)" ||
			nok "symoff: hb's methods_refused '$v'"
		stop_all
	}
	;;&
silent|all)
	# udp6 aims at an address only the peer's word names: with IPv6 UDP
	# between the sites dropped in inet, ha punches hb's address for 2 s
	# at most, then gives udp6 up
	echo "# drop x drop, IPv6 UDP between the sites dropped in inet: udp6 bounded"
	setup
	start_all port-restricted rst port-restricted rst --ipv6 --fw6-a drop --fw6-b drop && {
		uecho_up
		lx inet nft -f - <<EOF || nok "nft: drop IPv6 UDP between the sites"
table inet udp6_cut {
  chain cut {
    type filter hook forward priority 0; policy accept;
    ip6 saddr $LAB_HA6 ip6 daddr $LAB_HB6 meta l4proto udp counter drop
    ip6 saddr $LAB_HB6 ip6 daddr $LAB_HA6 meta l4proto udp counter drop
  }
}
EOF
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"uecho","proto":"udp","method":"udp6"}' \
			"silent: --method udp6 with IPv6 UDP dropped" 'udp6: nothing verified from \[[0-9a-f:]+\]:[0-9]+ within 2000 ms'
		n=$(lx inet nft list table inet udp6_cut | grep "ip6 saddr $LAB_HA6" | grep -o 'packets [0-9]*' | awk '{ print $2 }')
		[ -n "$n" ] && [ "$n" -ge 5 ] && [ "$n" -le 25 ] &&
			ok "silent: ha sent $n udp6 datagrams to hb's address, not more than 2 s of punches" ||
			nok "silent: ha sent '$n' udp6 datagrams (want 5-25)"
		stop_all
	}
	;;&
v6only|all)
	echo "# ha dual-stack, hb IPv6-only (--server [$LAB_SRV1_6]); IPv6 firewalls drop x drop"
	setup
	SERVER_EXTRA=(--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6")
	STUNTD_SERVER_B="[$LAB_SRV1_6]"
	STUNTD_EXTRA_A+=(--expose uecho=udp:127.0.0.1:7001 --allow uecho=office-pc)
	start_all port-restricted rst off rst --ipv6 --fw6-a drop --fw6-b drop && {
		uecho_up
		udp_session "v6only: --udp" 200 udp6 && peer_is "v6only: --udp"
		grep -Eq 'laptop asks for uecho .*racing udp6$' "$LAB_STATE/stuntd-b.log" &&
			ok "v6only: hb raced udp6 alone" ||
			nok "v6only: hb's race: $(grep -o 'racing .*' "$LAB_STATE/stuntd-b.log" | tail -1)"
		# the other way: the IPv6-only host asks (it offers udp6 alone)
		lab_bg ha uecho-a python3 "$here/echosrv.py" --udp 7001 >/dev/null
		sleep 0.3
		out=$(ctl b --udp '{"cmd":"connect","peer":"laptop","service":"uecho","proto":"udp"}' 100)
		echo "$out" | sed 's/^/# /'
		echo "$out" | head -1 | grep -q '"ok":true.*"method":"udp6"' &&
			echo "$out" | grep -q "^peer \[$LAB_HA6\]:" && echo "$out" | grep -Eq '^echoed (9[89]|100)/100' &&
			ok "v6only: hb -> ha: udp6, connected to [$LAB_HA6], datagrams echoed" ||
			nok "v6only: hb -> ha"
		stop_all
	}
	unset STUNTD_SERVER_B
	SERVER_EXTRA=()
	;;
esac
[ "$fails" -eq 0 ]
