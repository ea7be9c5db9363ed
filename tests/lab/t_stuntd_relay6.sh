#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# relay through a dual-stack TURN server (issue 17; daemon/trav/relay.c):
# lab_up --ipv6, both sides dual-stack behind random symmetric IPv4 NATs and
# RFC 6092 IPv6 firewalls (drop); coturn in pub listening and relaying on
# 198.51.100.10 and [2001:db8:6::10]:3490. hb has --turn
# [2001:db8:6::10]:3490 (the TURN server by its IPv6 address); ha has no
# TURN server and knows pub's two addresses as relay-servers (its config
# file), so that it takes relayed addresses there. Every connect is
# ha -> hb --method relay (see t_stuntd.sh for the rest of the setup):
#   turn6:    hb's --turn is turn6.lab.test:3490, a name with an IPv6 address
#             only (hb's own hosts file: ip netns exec bind-mounts
#             /etc/netns/NAME/hosts, as in t_hostnames.sh), resolved to
#             [2001:db8:6::10]:3490; hb allocates over IPv6 -- its control and data connections to
#             the TURN server are IPv6 (SYNs to [2001:db8:6::10]:3490 on hb's
#             link, none to 198.51.100.10:3490), coturn logs hb's IPv6
#             address -- an IPv4 relayed address (ha has IPv4: the default),
#             the permission for ha's public IPv4 address; 5 MB echoed
#             intact, relayed; hb deletes the allocation afterwards.
#   relayed6: hb's config file also says test-relay-ipv6 on (a test knob: the
#             real trigger, a peer without IPv4, needs signalling over IPv6):
#             hb asks for an IPv6 relayed address (REQUESTED-ADDRESS-FAMILY)
#             and permits ha's IPv6 address, which ha offered beside its IPv4
#             candidate; ha connects to the relayed address over IPv6 (ha's
#             relay connection is connected to [2001:db8:6::10]:P -- its
#             getpeername in the connect answer's "relay" -- P the port hb's
#             log names; ha's IPv6 SYN to it on ha's link; hb's log names
#             the ConnectionAttempt from ha's IPv6 address);
#             5 MB echoed intact, relayed; no candidate refused. Then
#             hb -> ha: hb, the requester, allocates in the relay round (ha
#             has no TURN server) an IPv6 relayed address for the IPv6
#             address ha offered in its first EXCHANGE; ha connects to it;
#             5 MB echoed.
#   unknown6: ha's relay-servers no longer name pub's IPv6 address (its
#             config file rewritten, SIGHUP): hb's IPv6 relayed address is on
#             a TURN server ha does not know, so ha drops that candidate
#             (logged, counted in candidates_refused) and the connect fails;
#             nothing of ha's goes to [2001:db8:6::10] (docs/security.md).
#   v6only:   hb IPv6-only (lab_up --nat-b off, --server [2001:db8:5::1]),
#             ha dual-stack with --turn 198.51.100.10:3490 (an IPv4 link to
#             the TURN server), no test knob -- the real trigger: hb has
#             no IPv4 address, so ha asks for an IPv6 relayed address and
#             permits hb's address as the server sees it (SIG-SENDER). hb ->
#             ha --method relay (hb, the requester, connects over IPv6: its
#             relay connection is connected to [2001:db8:6::10]:P, P the
#             port ha's log names) and ha -> hb --method relay (ha, the
#             requester, allocates up front; hb connects): 5 MB echoed
#             intact each, relayed; no candidate refused (hb's relay
#             candidate is its IPv6 address alone).
#   v4peer:   the same pair but ha IPv4-only (--ipv6 off), nothing forced:
#             no direct method can work, so the responder races relay alone
#             from the start -- hb -> ha: ha allocates an IPv6 relayed
#             address for hb, hb connects over IPv6; ha -> hb: ha allocates
#             up front, hb connects -- 5 MB echoed each, no relay round
#             after a failed race, no candidate refused.
#   v6turn:   the same pair, but the TURN server is the IPv6-only host's
#             (hb --turn [2001:db8:6::10]:3490), ha has none (--ipv6 off,
#             relay-servers 198.51.100.10): both ways without a method
#             forced, hb allocates an IPv4 relayed address over its IPv6
#             link for ha's public IPv4 address, ha connects to it over
#             IPv4; 5 MB echoed each, no candidate refused.
#   hostile:  as v6turn, but hb offers, instead of its relayed address, a
#             host candidate on its own IPv6 address with port 7000
#             (test-relay-host-port, a test knob): ha, the connecting side,
#             knows no IPv4 address of hb and must connect nowhere -- the
#             connect fails with "relay: the peer named no relayed address
#             to connect to" and no SYN reaches ha's own port 7000 (its echo
#             service: 0.0.0.0 is this host).
#   v6fallback: the same pair, ha's simopen6 candidate names pub's IPv6
#             address (test-candidate-ip6 in its config file), so simopen6
#             cannot connect: hb -> ha without a forced method falls back to
#             relay after the race's share of the deadline (60 % of 8 s) --
#             sess_relay_possible for an IPv6-only host -- and ha allocates
#             an IPv6 relayed address for hb; 5 MB echoed, relayed.
# No RST may leave ha or hb (stop_all).
# shellcheck disable=SC2153 # LAB_HA6: set by lab_up --ipv6
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
# shellcheck source=tests/lab/refservers.sh
. "$here/refservers.sh"

TURN_PORT=3490

made_netns_dir=0
[ -d /etc/netns ] || made_netns_dir=1
ETC_HB=
etc_cleanup() {
	[ -n "$ETC_HB" ] && rm -rf "$ETC_HB"
	[ "$made_netns_dir" = 1 ] && rmdir /etc/netns 2>/dev/null
	return 0
}

# TURN_B: hb's --turn (turn6: a name with an IPv6 address only, in hb's
# own hosts file, looked up in files alone: without a DNS server the IPv4
# lookup would fail as "temporary", not as "no such address")
start_all_hook() {
	trap 'lab_down; etc_cleanup' EXIT
	if [ "${TURN_B:-}" = "turn6.lab.test:$TURN_PORT" ]; then
		ETC_HB=/etc/netns/$LAB-hb
		mkdir -p "$ETC_HB"
		printf '127.0.0.1 localhost\n%s turn6.lab.test\n' "$LAB_PUB6" >"$ETC_HB/hosts"
		printf 'hosts: files\n' >"$ETC_HB/nsswitch.conf"
	fi
	ref_start_turn_at pub "$LAB_PUB" "$LAB_PUB6" "$TURN_PORT" stunt turn-pass-1 lab || return 1
	if [ "${V6ONLY:-0}" = 1 ]; then
		# ha dual-stack with the TURN server by its IPv4 address, hb
		# IPv6-only knowing pub's IPv6 address as a TURN server
		printf 'relay-servers %s\n' "$LAB_PUB6" >"$LAB_STATE/b.conf"
		STUNTD_EXTRA_A=(--connect-timeout 8000 --turn "$LAB_PUB:$TURN_PORT"
			--turn-user stunt --turn-pass turn-pass-1)
		if [ -n "${LIE6:-}" ]; then
			printf 'test-candidate-ip6 %s\n' "$LIE6" >"$LAB_STATE/a.conf"
			STUNTD_EXTRA_A+=(--config "$LAB_STATE/a.conf")
		fi
		[ "${A_V4ONLY:-0}" = 1 ] && STUNTD_EXTRA_A+=(--ipv6 off)
		STUNTD_EXTRA_B=(--connect-timeout 8000 --config "$LAB_STATE/b.conf")
		if [ "${B_TURN6:-0}" = 1 ]; then
			# the TURN server is hb's (by its IPv6 address), ha has none
			# and knows pub's IPv4 address as a TURN server of its peers
			printf 'relay-servers %s\n' "$LAB_PUB" >"$LAB_STATE/a.conf"
			STUNTD_EXTRA_A=(--connect-timeout 8000 --ipv6 off --config "$LAB_STATE/a.conf")
			STUNTD_EXTRA_B+=(--turn "[$LAB_PUB6]:$TURN_PORT" --turn-user stunt
				--turn-pass turn-pass-1)
			if [ -n "${B_FAKE_PORT:-}" ]; then
				printf 'test-relay-host-port %s\n' "$B_FAKE_PORT" >>"$LAB_STATE/b.conf"
			fi
		fi
		return 0
	fi
	printf 'relay-servers %s,%s\n' "$LAB_PUB" "$LAB_PUB6" >"$LAB_STATE/a.conf"
	printf 'test-relay-ipv6 %s\n' "$RELAY6" >"$LAB_STATE/b.conf"
	STUNTD_EXTRA_A=(--connect-timeout 8000 --config "$LAB_STATE/a.conf")
	STUNTD_EXTRA_B=(--connect-timeout 8000 --config "$LAB_STATE/b.conf"
		--turn "$TURN_B" --turn-user stunt --turn-pass turn-pass-1)
}

# cap_start NAME NODE FILTER: tcpdump on NODE's eth0 into NAME.pcap
cap_start() {
	lab_bg "$2" "$1" tcpdump -i eth0 -nn -U --immediate-mode -w "$LAB_STATE/$1.pcap" "$3" >/dev/null
	lab_wait_capture "$1"
}

# cap_lines NAME: the capture's packets, one line each
cap_lines() { tcpdump -nn -r "$LAB_STATE/$1.pcap" 2>/dev/null; }

# ptransfer LABEL [FROM PEER [METHOD]]: FROM (default a) -> PEER (default
# office-pc) --method METHOD (default relay; "" none), 5 MB echoed, relayed; the remote address of FROM's relay
# connection (the answer's "relay": the client's own socket is a local one,
# daemon/relayhc.c) into PEER_EP
PEER_EP=
ptransfer() {
	local out m=${4-relay}
	[ -n "$m" ] && m=",\"method\":\"$m\""
	out=$(ctl "${2:-a}" --no-half-close \
		"{\"cmd\":\"connect\",\"peer\":\"${3:-office-pc}\",\"service\":\"echo\"$m}" 5000000)
	echo "$out" | sed 's/^/# /'
	PEER_EP=$(echo "$out" | head -1 | sed -n 's/.*"relay":"\([^"]*\)".*/\1/p')
	if echo "$out" | grep -q '"ok":true.*"method":"relay".*"relayed":true' &&
		echo "$out" | grep -q '^sha OK 5000000'; then
		ok "$1: 5 MB echoed intact, relayed"
	else
		nok "$1"
		tail -25 "$LAB_STATE/stuntd-a.log" | sed 's/^/# a: /'
		tail -25 "$LAB_STATE/stuntd-b.log" | sed 's/^/# b: /'
	fi
}

# allocated: hb's last "relay: allocated RELAYED on SERVER ... permission for PEER"
allocated() {
	grep 'relay: allocated ' "$LAB_STATE/stuntd-b.log" | tail -1
}

# alloc6 X SERVER_RE PEER6: X's last allocation line into LINE (shown) and,
# when it is an IPv6 relayed address on pub on the server SERVER_RE (a sed
# pattern) permitted for PEER6, that address's port into RPORT (else "")
alloc6() {
	LINE=$(grep 'relay: allocated ' "$LAB_STATE/stuntd-$1.log" | tail -1)
	echo "# $1: $LINE"
	RPORT=$(echo "$LINE" | sed -n "s/.*relay: allocated \[$LAB_PUB6\]:\([0-9]*\) on $2 for [0-9]* s, permission for $3\$/\1/p")
}

# connected6 X LABEL: X's log names its connect to [pub6]:RPORT (alloc6)
connected6() {
	if [ -n "$RPORT" ] &&
		grep -q "relay: connect from port [0-9]* to \[$LAB_PUB6\]:$RPORT\$" "$LAB_STATE/stuntd-$1.log"; then
		ok "$2: [$LAB_PUB6]:$RPORT allocated, h$1 connected to it"
	else
		nok "$2: allocation '$LINE', h$1's connect: $(grep 'relay: connect from' "$LAB_STATE/stuntd-$1.log" | tail -1)"
	fi
}

# up_v6only: the lab with hb IPv6-only (--nat-b off), registered over IPv6
# with the server's --primary6 (the v6only, v4peer, v6turn, hostile and
# v6fallback cases; V6ONLY=1 set by the caller for start_all_hook)
up_v6only() {
	SERVER_EXTRA=(--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6")
	STUNTD_SERVER_B="[$LAB_SRV1_6]"
	start_all port-restricted rst off rst --ipv6
}

case "${1:-all}" in
turn6|all)
	echo "# turn6: hb's TURN server by its IPv6 address, an IPv4 relayed address"
	RELAY6=off
	TURN_B=turn6.lab.test:$TURN_PORT
	start_all sym-random rst sym-random rst --ipv6 && {
		# SYNs to or from port TURN_PORT, either family (no IPv6 extension
		# headers in this lab: TCP's flags at ip6[53])
		cap_start turn-b hb "(ip and tcp port $TURN_PORT and tcp[tcpflags] & tcp-syn != 0) or (ip6 and ip6[6] == 6 and tcp port $TURN_PORT and ip6[53] & 2 != 0)"
		ptransfer "turn6: ha -> hb, hb allocates on turn6.lab.test:$TURN_PORT"
		line=$(allocated)
		echo "# b: $line"
		if echo "$line" | grep -q "relay: allocated $LAB_PUB:[0-9]* on \[$LAB_PUB6\]:$TURN_PORT for [0-9]* s, permission for 198\.18\."; then
			ok "hb allocated an IPv4 relayed address on the IPv6 TURN server (turn6.lab.test resolved to [$LAB_PUB6]), permission for ha's IPv4 address"
		else
			nok "hb's allocation: '$line'"
		fi
		rport=$(echo "$line" | sed -n "s/.*relay: allocated $LAB_PUB:\([0-9]*\) on .*/\1/p")
		if [ -n "$rport" ] && [ "$PEER_EP" = "$LAB_PUB:$rport" ]; then
			ok "ha's relay connection is connected to the IPv4 relayed address $PEER_EP"
		else
			nok "ha's relay connection is connected to '$PEER_EP' (want $LAB_PUB:${rport:-?})"
		fi
		if lab_wait_log "$LAB_STATE/stuntd-b.log" 'relay: allocation .* deleted' 5; then
			ok "hb deleted the allocation after the connection ended"
		else
			nok "allocation not deleted"
		fi
		syn6=$(cap_lines turn-b | grep -c "IP6 $LAB_HB6\.[0-9]* > $LAB_PUB6\.$TURN_PORT: Flags \[S\]")
		syn4=$(cap_lines turn-b | grep -c "IP [0-9.]* > $LAB_PUB\.$TURN_PORT: Flags \[S\]")
		if [ "$syn6" -ge 2 ] && [ "$syn4" -eq 0 ]; then
			ok "hb's TURN connections (control and data) were IPv6: $syn6 SYN(s) from [$LAB_HB6] to [$LAB_PUB6]:$TURN_PORT on hb's link, none over IPv4"
		else
			nok "hb's SYNs to the TURN server: $syn6 over IPv6, $syn4 over IPv4 (want >= 2 and 0)"
			cap_lines turn-b | head -10 | sed 's/^/# b: /'
		fi
		if grep -qF "$LAB_HB6" "$LAB_STATE/coturn-$TURN_PORT.log"; then
			ok "coturn's log names hb's IPv6 address: $(grep -F "$LAB_HB6" "$LAB_STATE/coturn-$TURN_PORT.log" | head -1 | cut -c1-150)"
		else
			nok "coturn's log never names [$LAB_HB6]"
			tail -5 "$LAB_STATE/coturn-$TURN_PORT.log" | sed 's/^/# coturn: /'
		fi
		no_refusals
		stop_all
	}
	etc_cleanup	# (lab_down clears the EXIT trap)
	;;&
relayed6|all)
	echo "# relayed6: an IPv6 relayed address (test-relay-ipv6 on hb), ha connects over IPv6"
	RELAY6=on
	TURN_B=[$LAB_PUB6]:$TURN_PORT
	start_all sym-random rst sym-random rst --ipv6 && {
		cap_start syn6-a ha "ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 2"
		ptransfer "relayed6: ha -> hb through an IPv6 relayed address"
		alloc6 b "\[$LAB_PUB6\]:$TURN_PORT" "$LAB_HA6"
		if [ -n "$RPORT" ]; then
			ok "hb allocated the IPv6 relayed address [$LAB_PUB6]:$RPORT, permission for ha's IPv6 address $LAB_HA6"
		else
			nok "hb's allocation: '$LINE' (want [$LAB_PUB6]:PORT, permission for $LAB_HA6)"
		fi
		if [ -n "$RPORT" ] && [ "$PEER_EP" = "[$LAB_PUB6]:$RPORT" ]; then
			ok "ha's relay connection is connected to the IPv6 relayed address $PEER_EP"
		else
			nok "ha's relay connection is connected to '$PEER_EP' (want [$LAB_PUB6]:${RPORT:-?})"
		fi
		if [ -n "$RPORT" ] && cap_lines syn6-a | grep -q "IP6 $LAB_HA6\.[0-9]* > $LAB_PUB6\.$RPORT: Flags \[S\]"; then
			ok "on ha's link: ha's IPv6 SYN to [$LAB_PUB6]:$RPORT"
		else
			nok "no IPv6 SYN from ha to the relayed address on ha's link"
			cap_lines syn6-a | head -5 | sed 's/^/# a: /'
		fi
		grep -q "relay: $LAB_HA6 connected to the relayed address" "$LAB_STATE/stuntd-b.log" &&
			ok "hb: coturn's ConnectionAttempt named ha's IPv6 address" ||
			nok "hb's log names no ConnectionAttempt from $LAB_HA6"
		# the other way: hb, the requester, allocates in the relay round
		# (ha has no TURN server), permits the IPv6 address ha offered in
		# its first EXCHANGE, and ha connects to the relayed address
		ptransfer "relayed6: hb -> ha, the requester allocates" b laptop
		alloc6 b "\[$LAB_PUB6\]:$TURN_PORT" "$LAB_HA6"
		connected6 a "hb -> ha: hb allocated for $LAB_HA6"
		no_refusals
		[ "${1:-all}" = all ] || stop_all	# else unknown6 goes on in this lab
	}
	;;&
unknown6|all)
	echo "# unknown6: ha no longer knows pub's IPv6 address as a TURN server"
	if [ -z "${LAB_STATE:-}" ] || ! ctl a '{"cmd":"status"}' 2>/dev/null | grep -q '"registered":true'; then
		RELAY6=on
		TURN_B=[$LAB_PUB6]:$TURN_PORT
		start_all sym-random rst sym-random rst --ipv6 || exit 1
	fi
	cap_start pub6-a ha "ip6 and dst host $LAB_PUB6"
	printf 'relay-servers %s\n' "$LAB_PUB" >"$LAB_STATE/a.conf"
	n0=$(grep -c 'SIGHUP: configuration re-read' "$LAB_STATE/stuntd-a.log")
	kill -HUP "$PID_A"
	lab_wait_log "$LAB_STATE/stuntd-a.log" 'SIGHUP: configuration re-read' 10 $((n0 + 1)) ||
		nok "ha re-read its configuration"
	r0=$(sec a candidates_refused)
	expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"relay"}' \
		"unknown6: hb's IPv6 relayed address on a TURN server ha does not know" "error"
	r1=$(sec a candidates_refused)
	if grep -q "IPv6 relay candidate names $LAB_PUB6, which is neither its address nor a TURN server we know" \
		"$LAB_STATE/stuntd-a.log" && [ "${r1:-0}" -gt "${r0:-0}" ]; then
		ok "ha dropped the candidate (logged; candidates_refused $r0 -> $r1)"
	else
		nok "ha did not drop the unknown IPv6 relayed address (candidates_refused $r0 -> $r1)"
		grep -i 'relay' "$LAB_STATE/stuntd-a.log" | tail -5 | sed 's/^/# a: /'
	fi
	n=$(cap_lines pub6-a | grep -c .)
	[ "$n" -eq 0 ] && ok "nothing of ha's went to [$LAB_PUB6]" ||
		{ nok "$n packet(s) from ha to [$LAB_PUB6]"; cap_lines pub6-a | head -5 | sed 's/^/# a: /'; }
	stop_all
	;;&
v6only|all)
	echo "# v6only: hb IPv6-only (no test knob), ha dual-stack with the TURN server by its IPv4 address"
	V6ONLY=1
	up_v6only && {
		grep -q "registered with \[$LAB_SRV1_6\]:3478" "$LAB_STATE/stuntd-b.log" &&
			ok "hb registered over IPv6" || nok "hb did not register over IPv6"
		# hb, the requester, has no IPv4: ha allocates an IPv6 relayed
		# address (over its IPv4 link to the TURN server) for hb's address
		# as the server sees it, and hb connects to it over IPv6
		ptransfer "v6only: hb (IPv6-only) -> ha --method relay" b laptop
		alloc6 a "$LAB_PUB:$TURN_PORT" "$LAB_HB6"
		if [ -n "$RPORT" ]; then
			ok "ha allocated [$LAB_PUB6]:$RPORT on $LAB_PUB:$TURN_PORT for hb's IPv6 address (hb has no IPv4)"
		else
			nok "ha's allocation: '$LINE' (want [$LAB_PUB6]:PORT on $LAB_PUB:$TURN_PORT, permission for $LAB_HB6)"
		fi
		[ -n "$RPORT" ] && [ "$PEER_EP" = "[$LAB_PUB6]:$RPORT" ] &&
			ok "hb's relay connection is connected to $PEER_EP" ||
			nok "hb's relay connection is connected to '$PEER_EP' (want [$LAB_PUB6]:${RPORT:-?})"
		# the other way: hb responds; ha, the requester, allocates up front
		ptransfer "v6only: ha -> hb (IPv6-only) --method relay" a office-pc
		alloc6 a "$LAB_PUB:$TURN_PORT" "$LAB_HB6"
		connected6 b "ha -> hb: ha allocated for $LAB_HB6"
		no_refusals
		grep -h 'dropped' "$LAB_STATE"/stuntd-[ab].log | sed 's/^/# /'
		stop_all
	}
	;;&
v4peer|all)
	# an IPv6-only host and an IPv4-only one (ha: --ipv6 off, TURN by its
	# IPv4 address): nothing direct can work, relay from the start
	echo "# v4peer: hb IPv6-only, ha IPv4-only with a dual-stack TURN server; no method forced"
	V6ONLY=1
	A_V4ONLY=1
	up_v6only && {
		# hb asks: ha, the responder, offers relay alone and allocates
		ptransfer "v4peer: hb (IPv6-only) -> ha (IPv4-only), no method forced" b laptop ""
		alloc6 a "$LAB_PUB:$TURN_PORT" "$LAB_HB6"
		[ -n "$RPORT" ] && [ "$PEER_EP" = "[$LAB_PUB6]:$RPORT" ] &&
			ok "v4peer: hb connected over IPv6 to the IPv6 relayed address ha allocated for it" ||
			nok "v4peer: hb's relay connection '$PEER_EP', ha's allocation '$LINE'"
		grep -E 'session [0-9]+: office-pc asks for echo .*racing relay$' "$LAB_STATE/stuntd-a.log" | grep -q . &&
			ok "v4peer: ha raced relay alone (no direct method can work)" ||
			nok "v4peer: ha's race: $(grep 'office-pc asks for echo' "$LAB_STATE/stuntd-a.log" | tail -1)"
		# ha asks: hb, the responder, offers relay alone; ha allocates up front
		ptransfer "v4peer: ha (IPv4-only) -> hb (IPv6-only), no method forced" a office-pc ""
		alloc6 a "$LAB_PUB:$TURN_PORT" "$LAB_HB6"
		connected6 b "v4peer: ha -> hb: ha allocated for $LAB_HB6"
		grep -q 'falling back to relay' "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" &&
			nok "v4peer: a relay round after a failed race (want relay from the start)" ||
			ok "v4peer: relay from the start both ways, no failed race before it"
		no_refusals
		stop_all
	}
	A_V4ONLY=0
	;;&
v6turn|all)
	# the other way round: the IPv6-only host has the TURN server (reached
	# over IPv6), the IPv4-only one none
	echo "# v6turn: hb IPv6-only with --turn [$LAB_PUB6]:$TURN_PORT, ha IPv4-only without TURN"
	V6ONLY=1
	B_TURN6=1
	up_v6only && {
		for d in "b laptop" "a office-pc"; do
			# shellcheck disable=SC2086 # two words: FROM PEER
			set -- $d
			ptransfer "v6turn: h$1 -> $2, no method forced" "$1" "$2" ""
			l=$(grep 'relay: allocated ' "$LAB_STATE/stuntd-b.log" | tail -1)
			echo "# hb: $l"
			if echo "$l" | grep -q "relay: allocated $LAB_PUB:[0-9]* on \[$LAB_PUB6\]:$TURN_PORT for [0-9]* s, permission for 198.18.1.2\$"; then
				ok "v6turn: h$1 -> $2: hb allocated an IPv4 relayed address over IPv6 for ha's public IPv4 address"
			else
				nok "v6turn: h$1 -> $2: hb's allocation"
			fi
		done
		grep -q "relay: connect from port [0-9]* to $LAB_PUB:[0-9]*\$" "$LAB_STATE/stuntd-a.log" &&
			ok "v6turn: ha connected to the relayed address over IPv4" ||
			nok "v6turn: ha's relay connect: $(grep 'relay: connect from' "$LAB_STATE/stuntd-a.log" | tail -1)"
		no_refusals
		stop_all
	}
	B_TURN6=0
	;;&
hostile|all)
	# hb (IPv6-only, allocating) names its own IPv6 address with port 7000
	# instead of the relayed address: ha, which has no IPv4 address of hb
	# (hb signals over IPv6), once connected to 0.0.0.0:7000 -- its own
	# echo service on 127.0.0.1:7000 (review finding, fixed in relay.c and
	# sock.c)
	echo "# hostile: hb offers a host candidate (its IPv6 address, port 7000) instead of the relayed address"
	V6ONLY=1
	B_TURN6=1
	B_FAKE_PORT=7000
	up_v6only && {
		lab_bg ha lo7000 tcpdump -i lo -nn -U --immediate-mode -w "$LAB_STATE/lo7000.pcap" \
			"tcp dst port 7000 and tcp[tcpflags] & tcp-syn != 0" >/dev/null
		lab_wait_capture lo7000 || nok "hostile: capture on ha's loopback"
		out=$(ctl a --no-half-close '{"cmd":"connect","peer":"office-pc","service":"echo"}' 1000)
		echo "$out" | head -1 | sed 's/^/# /'
		if echo "$out" | head -1 | grep -q '"ok":false' &&
			echo "$out" | head -1 | grep -q 'relay: the peer named no relayed address to connect to)'; then
			ok "hostile: ha refuses to connect without a relayed address"
		else
			nok "hostile: ha's answer"
		fi
		sleep 0.3
		n=$(tcpdump -nn -r "$LAB_STATE/lo7000.pcap" 2>/dev/null | grep -c .)
		[ "$n" = 0 ] && ok "hostile: no SYN to ha's own port 7000" ||
			nok "hostile: $n SYNs to ha's own port 7000 (0.0.0.0 is this host)"
		stop_all
	}
	B_TURN6=0
	B_FAKE_PORT=
	;;&
v6fallback|all)
	echo "# v6fallback: hb IPv6-only, simopen6 cannot work (ha's candidate names pub): relay after it"
	V6ONLY=1
	LIE6=$LAB_PUB6
	up_v6only && {
		ptransfer "v6fallback: hb (IPv6-only) -> ha, no method forced" b laptop ""
		if grep -q "falling back to relay" "$LAB_STATE/stuntd-b.log" &&
			grep -q "relay: allocated \[$LAB_PUB6\]:[0-9]* on $LAB_PUB:$TURN_PORT for [0-9]* s, permission for $LAB_HB6\$" \
				"$LAB_STATE/stuntd-a.log"; then
			ok "hb fell back to relay after simopen6; ha allocated an IPv6 relayed address for it"
		else
			nok "no relay round after simopen6: $(grep -E 'falling back|direct race' "$LAB_STATE/stuntd-b.log" | tail -1)"
		fi
		stop_all
	}
	LIE6=
	;;&
esac
[ "$fails" -eq 0 ]
