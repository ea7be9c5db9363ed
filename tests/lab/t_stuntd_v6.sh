#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# simopen6 (issue 17, daemon/trav/simopen6.c): two dual-stack hosts, each
# behind an RFC 6092 stateful IPv6 firewall (lab_up --ipv6, tests/lab/lab6.sh)
# and a port-restricted IPv4 NAT, connect directly over IPv6 by TCP
# simultaneous open, raced beside the IPv4 methods (see t_stuntd.sh for the
# rest of the setup).
#   drop, reject (--fw6-a/--fw6-b both drop, then both reject):
#     - ha -> hb and hb -> ha: the race's winner is simopen6, 5 MB echoed
#       intact, the socket handed to the client is connected to the peer's
#       IPv6 address; the status counters say simopen6 won and the status
#       names the address ha offers;
#     - the responder-first order (SIG_NAT_V6_FIRST, both sides new): for
#       ha -> hb, hb's log names its hop-limited connect to ha's address
#       before it sent its EXCHANGE, and ha's names its connect to hb's
#       at full hop limit; on hb's link the first IPv6 SYN is hb's, hop
#       limit 2, and ha's comes after it with a larger one;
#     - no RST was seen on either host's IPv6 link, either way: the
#       first (hop-limited) SYN died before the peer's firewall (a rejecting
#       one never answered it) and losers closed silently; no RST left
#       either host over IPv4 (stop_all);
#     - no candidate was refused and no connection dropped unproven.
#   symv6 (random symmetric IPv4 NATs on both sides, drop x drop, no TURN):
#     IPv4 alone would need a relay; simopen6 wins both ways, 5 MB echoed.
#   he (drop x drop, 10 ms one way on each WAN; Happy Eyeballs,
#     SIG_NAT_V4_LATER): both daemons log that the IPv4 methods start
#     100 ms after simopen6's and that stunt1 never started; no IPv4 SYN
#     left ha for hb; then with IPv6 TCP dropped between the two sites
#     (in inet), the race is won by stunt1, started after the delay.
#   hops (reject x drop, --ipv6-hop-limit 4 on hb, the responder, whose
#     SYN goes first): hb's first SYN now reaches gwa's firewall, whose RST
#     comes back to hb (seen on its link) and ends gwb's state for the
#     flow, so ha's SYN is dropped at gwb; the RST is dropped before hb's
#     socket sees it, so the forced simopen6 still connects, by hb's
#     retransmitted SYN a second later (the option is applied, the RST
#     guard works). Not reject on both sides: there each firewall's RST
#     ends the other's state, and the retransmissions meet only by luck.
#   liar6 (drop x drop, ha's candidate lies: test-candidate-ip6, a test knob
#     in its config file): naming fe80::1, hb refuses it (logged, counted
#     in candidates_refused), runs no simopen6 and the connect goes over
#     IPv4; naming pub's global address (a third party), hb takes it --
#     the server cannot vouch for an IPv6 address -- and what reaches pub
#     from hb is SYNs and nothing else (docs/security.md), while the
#     connect goes over IPv4. hb, the responder, sends the first SYN,
#     hop-limited: --ipv6-hop-limit 64 on hb here, so that it reaches pub
#     as a lying peer would want (with 2 it dies before).
#   oldorder (drop x drop, test-v6-requester-first on hb, a test knob in
#     its config file: hb runs simopen6 as an older stuntd, neither setting
#     nor echoing SIG_NAT_V6_FIRST): ha -> hb (a new requester, an old
#     responder) and hb -> ha (an old requester, a new responder) both run
#     the requester-first order -- the requester's log names its
#     hop-limited connect, the responder's a full-hop-limit one -- and
#     simopen6 wins with 5 MB echoed; no IPv6 RST either way.
#   v4only (drop x drop, --ipv6 off on hb): hb offers no IPv6 candidate, ha
#     runs no simopen6 attempt and the connect works over IPv4; simopen6
#     forced from ha is refused by hb.
#   npt (NPTv6, --fw6-X npt: the LAN's prefix translated, interface id and
#     ports kept, behind the drop firewall; the server with --primary6 /
#     --alternate6 and both daemons with --server6):
#     - nolearn, npt x drop without --server6 (stuntd as before it): ha
#       offers its inside address, which no peer can reach: simopen6
#       forced from ha fails;
#     - npt x drop, then npt x npt: each translated side's status offers
#       its translated address, learnt from the TCP Binding to server6
#       (ipv6_learnt: translated, port kept) and `stuntctl status` says
#       so; ha -> hb and hb -> ha: simopen6 wins, 5 MB echoed intact, the
#       client's socket is connected to the peer's translated address; ha's
#       first SYN (as the responder of hb -> ha) left hop-limited to hb's
#       translated address; no candidate refused, no connection
#       unproven.
#   fwhop (the firewall two hops away: lab_up --cgn-a puts side a's IPv6
#     firewall, drop, in the carrier's router cgna, gwa only routes; hb's
#     is gwb's, drop; the server with --primary6 / --alternate6, both
#     daemons with --server6; 10 ms one way on each WAN, so that the
#     routers' time exceeded answers come back after the connect() that
#     sent the SYN, as on real paths): discovery measures the hop limit
#     that opens each firewall (probes/probe6_fw.c) -- ha's status says 3,
#     measured, hb's 2, and ha's log says so; hb -> ha with simopen6
#     forced (ha, the responder, sends the first SYN): 5 MB echoed, and
#     that SYN, ha's only one to hb, left with hop limit 3. Then ha with
#     --ipv6-hop-limit 2 (configured, as before this was measured): its
#     first SYN dies at cgna before opening it, and the connect waits for
#     ha's kernel to send the SYN again at full hop limit (a second).
# Bounded: each connect by stuntd's connect-timeout (8 s here).
# shellcheck disable=SC2153 # LAB_HA6, LAB_HB6: set by lab_up --ipv6
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

# rst6_start: every IPv6 TCP segment with RST on ha's and hb's links, either
# way (no extension headers in this lab: TCP's flags at ip6[53])
rst6_start() {
	local x
	for x in a b; do
		lab_bg "h$x" "rst6-$x" tcpdump -i eth0 -nn -U --immediate-mode -w "$LAB_STATE/rst6-$x.pcap" \
			'ip6 and ip6[6] == 6 and ip6[53] & 4 != 0' >/dev/null
	done
	lab_wait_capture rst6-a && lab_wait_capture rst6-b
}

# syn6_start: IPv6 SYNs without ACK on hb's link, with their hop limits
syn6_start() {
	lab_bg hb syn6-b tcpdump -i eth0 -nn -U --immediate-mode -w "$LAB_STATE/syn6-b.pcap" \
		'ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 2' >/dev/null
	lab_wait_capture syn6-b
}

# syn6a_start: ha's IPv6 SYNs to hb (fwhop); syn6a_list: one line each,
# "hlim N seq S" (tcpdump -v)
syn6a_start() {
	lab_bg ha syn6-a tcpdump -i eth0 -nn -U --immediate-mode -w "$LAB_STATE/syn6-a.pcap" \
		"ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 2 and dst host $LAB_HB6" >/dev/null
	lab_wait_capture syn6-a
}
syn6a_list() {
	tcpdump -v -nn -r "$LAB_STATE/syn6-a.pcap" 2>/dev/null | tr '\n' ' ' | grep -o 'hlim [0-9]*\|seq [0-9]*' |
		paste -d' ' - -
}

# syn6_two: hb's capture holds two SYNs at least
syn6_two() { [ "$(tcpdump -nn -r "$LAB_STATE/syn6-b.pcap" 2>/dev/null | wc -l)" -ge 2 ]; }

# v6_first_check: ha -> hb (the first session) ran in the responder-first
# order, in hb's log and on hb's link
v6_first_check() {
	local sid syns first second
	sid=$(sed -n 's/.*session \([0-9]*\): laptop asks for echo.*/\1/p' "$LAB_STATE/stuntd-b.log" | head -1)
	if grep -E "session $sid: (simopen6: connect from|EXCHANGE sent)" "$LAB_STATE/stuntd-b.log" |
		sed -n '1p' | grep -q "simopen6: connect from port [0-9]* to \[$LAB_HA6\]:[0-9]* (first SYN TTL-limited)" &&
		grep -q "session $sid: EXCHANGE sent" "$LAB_STATE/stuntd-b.log"; then
		ok "hb (responder) started its hop-limited connect to [$LAB_HA6] before its EXCHANGE"
	else
		nok "hb's log does not show its hop-limited connect before its EXCHANGE"
		grep "session $sid:" "$LAB_STATE/stuntd-b.log" | head -8 | sed 's/^/# b: /'
	fi
	if grep -Eq "session $sid: simopen6: connect from port [0-9]* to \[$LAB_HB6\]:[0-9]*\$" \
		"$LAB_STATE/stuntd-a.log"; then
		ok "ha (requester) connected to [$LAB_HB6] at full hop limit"
	else
		nok "ha's log names no full-hop-limit simopen6 connect to [$LAB_HB6]"
		grep "session $sid: simopen6" "$LAB_STATE/stuntd-a.log" | sed 's/^/# a: /'
	fi
	lab_wait_for 3 syn6_two || true
	syns=$(tcpdump -v -nn -r "$LAB_STATE/syn6-b.pcap" 2>/dev/null | head -2)
	first=$(printf '%s\n' "$syns" | sed -n 1p)
	second=$(printf '%s\n' "$syns" | sed -n 2p)
	if printf '%s' "$first" | grep -q "hlim 2,.*$LAB_HB6\.[0-9]* > $LAB_HA6\.[0-9]*:" &&
		printf '%s' "$second" | grep -q "$LAB_HA6\.[0-9]* > $LAB_HB6\.[0-9]*:" &&
		! printf '%s' "$second" | grep -q "hlim [12],"; then
		ok "on hb's link: hb's SYN (hop limit 2) first, then ha's ($(printf '%s' "$second" | grep -o 'hlim [0-9]*'))"
	else
		nok "on hb's link the first SYNs are not hb's hop-limited one, then ha's"
		printf '%s\n' "$syns" | sed 's/^/# hb: /'
	fi
}

# req_first_check REQ RESP RESP6 REQ6 LABEL: REQ's last session to RESP ran
# in the requester-first order (REQ's SYN hop-limited, RESP's not)
req_first_check() {
	local sid
	sid=$(sed -n 's/.*session \([0-9]*\): to [a-z-]*\/echo connected by simopen6.*/\1/p' \
		"$LAB_STATE/stuntd-$1.log" | tail -1)
	if [ -n "$sid" ] &&
		grep -q "session $sid: simopen6: connect from port [0-9]* to \[$3\]:[0-9]* (first SYN TTL-limited)" \
			"$LAB_STATE/stuntd-$1.log" &&
		grep -Eq "session $sid: simopen6: connect from port [0-9]* to \[$4\]:[0-9]*\$" \
			"$LAB_STATE/stuntd-$2.log"; then
		ok "$5: the requester's SYN hop-limited, the responder's at full hop limit (the older order)"
	else
		nok "$5: not the requester-first order"
		grep -h "session ${sid:-x}: simopen6: connect" "$LAB_STATE"/stuntd-[ab].log | sed 's/^/# /'
	fi
}

rst6_check() {
	local x n all=0
	for x in a b; do
		n=$(tcpdump -nn -r "$LAB_STATE/rst6-$x.pcap" 2>/dev/null | grep -c .)
		[ "$n" -gt 0 ] && tcpdump -nn -r "$LAB_STATE/rst6-$x.pcap" 2>/dev/null | sed "s/^/# h$x: /"
		all=$((all + n))
	done
	[ "$all" -eq 0 ] && ok "no IPv6 RST on ha's or hb's link, either way" ||
		nok "$all IPv6 RST(s) on the hosts' links"
}

STUNTCTL=$BUILD/stuntctl

# first_syn6 ADDR6: ha's log names its hop-limited first SYN to [ADDR6]
# (after both directions ran: ha's as the responder of hb -> ha, whose SYN
# goes first)
first_syn6() {
	if grep -q "simopen6: connect from port [0-9]* to \[$1\]:[0-9]* (first SYN TTL-limited)" \
		"$LAB_STATE/stuntd-a.log"; then
		ok "ha's first SYN to [$1] was hop-limited"
	else
		nok "ha's log names no hop-limited simopen6 connect to [$1]"
		grep simopen6 "$LAB_STATE/stuntd-a.log" | tail -5 | sed 's/^/# a: /'
	fi
}

# v6pub_check X HOST6 EXT6: X's status offers EXT6, the form of its address
# HOST6 that server6 saw; translated (EXT6 != HOST6) with its port kept,
# and `stuntctl status` says so
v6pub_check() {
	local x=$1 h6=$2 e6=$3 v l t human
	v=$(status_field "$x" 's["ipv6"]')
	l=$(status_field "$x" 's["ipv6_local"]')
	t=$(status_field "$x" '"%s %s %s %s" % (s["ipv6_learnt"]["local"], s["ipv6_learnt"]["mapped"], s["ipv6_learnt"]["translated"], s["ipv6_learnt"]["port_kept"]) + " " + s["ipv6_learnt"]["binding"]')
	if [ "$h6" = "$e6" ]; then
		[ "$v" = "$h6" ] && [ "$l" = "$h6" ] && [ "$t" = "$h6 $h6 False True tcp" ] &&
			ok "h$x's status offers $v, not translated as server6 sees it" ||
			nok "h$x's status: ipv6 '$v', ipv6_local '$l', learnt '$t' (want $h6, untranslated)"
		return
	fi
	[ "$v" = "$e6" ] && [ "$l" = "$h6" ] && [ "$t" = "$h6 $e6 True True tcp" ] &&
		ok "h$x's status offers $e6, its address $h6 as NPTv6 translates it (TCP Binding to server6, port kept)" ||
		nok "h$x's status: ipv6 '$v', ipv6_local '$l', learnt '$t' (want $e6 from $h6, port kept)"
	human=$(lx "h$x" "$STUNTCTL" --control "$LAB_STATE/$x.sock" status 2>&1 | grep '^IPv6:')
	[ "$human" = "IPv6: $e6 (translated from $h6, ports kept: NPTv6)" ] &&
		ok "stuntctl status in h$x: $human" || nok "stuntctl status in h$x: '$human'"
}

# npt_pair FW6_A FW6_B: both daemons learn their IPv6 address from server6,
# simopen6 connects both ways to the translated addresses
npt_pair() {
	echo "# ha and hb behind IPv6 gateways '$1' x '$2', --server6 [$LAB_SRV1_6]"
	SERVER_EXTRA=(--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6")
	STUNTD_EXTRA_A=(--connect-timeout 8000 --server6 "$LAB_SRV1_6")
	STUNTD_EXTRA_B=(--connect-timeout 8000 --server6 "[$LAB_SRV1_6]:3478")
	start_all port-restricted rst port-restricted rst --ipv6 --fw6-a "$1" --fw6-b "$2" && {
		grep -h 'discovery: \(TCP\|IPv6\)' "$LAB_STATE"/stuntd-[ab].log | sed 's/^/# /'
		v6pub_check a "$LAB_HA6" "$LAB_HA6_EXT"
		v6pub_check b "$LAB_HB6" "$LAB_HB6_EXT"
		transfer6 a office-pc "$LAB_HB6_EXT" "ha -> hb ($1 x $2)"
		transfer6 b laptop "$LAB_HA6_EXT" "hb -> ha ($1 x $2)"
		method_won a simopen6 1
		method_won b simopen6 1
		first_syn6 "$LAB_HB6_EXT"
		no_refusals
		stop_all
	}
	SERVER_EXTRA=()
}

# fw6_pair TYPE: both sides behind an IPv6 firewall of TYPE
fw6_pair() {
	echo "# ha and hb behind IPv6 firewalls '$1' x '$1' (IPv4: port-restricted NATs)"
	STUNTD_EXTRA_A=(--connect-timeout 8000)
	STUNTD_EXTRA_B=(--connect-timeout 8000)
	start_all port-restricted rst port-restricted rst --ipv6 --fw6-a "$1" --fw6-b "$1" && {
		rst6_start || nok "IPv6 RST capture running in ha and hb"
		syn6_start || nok "IPv6 SYN capture running in hb"
		v=$(status_field a 's["ipv6"]')
		[ "$v" = "$LAB_HA6" ] && ok "ha's status offers its IPv6 address $v" ||
			nok "ha's status: ipv6 '$v' (want $LAB_HA6)"
		transfer6 a office-pc "$LAB_HB6" "ha -> hb ($1)"
		transfer6 b laptop "$LAB_HA6" "hb -> ha ($1)"
		method_won a simopen6 1
		method_won b simopen6 1
		v6_first_check
		no_refusals
		rst6_check
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
symv6|all)
	# issue 17's goal: a dual-stack pair whose IPv4 needs a relay connects
	# directly over IPv6 (no TURN server here: IPv4 alone would fail)
	echo "# sym-random x sym-random IPv4 NATs, drop x drop IPv6 firewalls, no TURN"
	STUNTD_EXTRA_A=(--connect-timeout 8000)
	STUNTD_EXTRA_B=(--connect-timeout 8000)
	start_all sym-random rst sym-random rst --ipv6 --fw6-a drop --fw6-b drop && {
		transfer6 a office-pc "$LAB_HB6" "ha -> hb (IPv4 random symmetric both sides)"
		transfer6 b laptop "$LAB_HA6" "hb -> ha (IPv4 random symmetric both sides)"
		stop_all
	}
	;;&
he|all)
	# Happy Eyeballs (SIG_NAT_V4_LATER): with 10 ms one way on each WAN the
	# race is scheduled before simopen6 is proven, and the IPv4 methods wait
	echo "# drop x drop, 10 ms one way per side: the IPv4 methods start 100 ms late"
	STUNTD_EXTRA_A=(--connect-timeout 8000)
	STUNTD_EXTRA_B=(--connect-timeout 8000)
	start_all port-restricted rst port-restricted rst --ipv6 --fw6-a drop --fw6-b drop \
		--delay-a 10 --delay-b 10 && {
		# every IPv4 SYN ha sends to hb's NAT during the connect
		lab_bg ha syn4-a tcpdump -i eth0 -nn -U --immediate-mode -w "$LAB_STATE/syn4-a.pcap" \
			"tcp[tcpflags] & tcp-syn != 0 and not host $LAB_SRV1 and not host $LAB_SRV2" >/dev/null
		lab_wait_capture syn4-a || nok "IPv4 SYN capture in ha"
		transfer6 a office-pc "$LAB_HB6" "ha -> hb (the race, 10 ms one way)"
		for x in a b; do
			if grep -q 'the IPv4 methods start 100 ms after simopen6.s (Happy Eyeballs)' "$LAB_STATE/stuntd-$x.log" &&
				[ "$(grep -c 'stunt1 (connect.*cancelled after 0 ms: never started (Happy Eyeballs: simopen6 first)' "$LAB_STATE/stuntd-$x.log")" = 1 ]; then
				ok "h$x: stunt1 held 100 ms behind simopen6 and never started"
			else
				nok "h$x: the IPv4 methods' start"
				grep -E 'Happy|stunt1|simopen ' "$LAB_STATE/stuntd-$x.log" | sed 's/^/# /'
			fi
		done
		sleep 0.3
		n=$(tcpdump -nn -r "$LAB_STATE/syn4-a.pcap" 2>/dev/null | grep -c .)
		[ "$n" = 0 ] && ok "no IPv4 SYN left ha for hb (simopen6 won first)" ||
			{ nok "$n IPv4 SYNs left ha for hb"; tcpdump -nn -r "$LAB_STATE/syn4-a.pcap" 2>/dev/null | head -5 | sed 's/^/# /'; }
		# IPv6 broken between the two sites (TCP dropped in inet): stunt1
		# wins, 100 ms later than it would have
		lx inet nft add table ip6 brk
		lx inet nft add chain ip6 brk f '{ type filter hook forward priority 0; }'
		lx inet nft add rule ip6 brk f ip6 saddr 2001:db8:10::/64 ip6 daddr 2001:db8:20::/64 meta l4proto tcp drop
		lx inet nft add rule ip6 brk f ip6 saddr 2001:db8:20::/64 ip6 daddr 2001:db8:10::/64 meta l4proto tcp drop
		transfer a office-pc "ha -> hb, IPv6 broken: IPv4 after the delay" "" stunt1
		if grep -E 'session [0-9]+: stunt1 established' "$LAB_STATE/stuntd-a.log" | grep -q . &&
			[ "$(grep -c 'the IPv4 methods start 100 ms after' "$LAB_STATE/stuntd-a.log")" = 2 ]; then
			ok "ha: stunt1 started after the delay and won"
		else
			nok "ha: stunt1 after the delay"
		fi
		stop_all
	}
	;;&
hops|all)
	echo "# reject x drop, --ipv6-hop-limit 4 on hb: the responder's first SYN reaches gwa"
	STUNTD_EXTRA_A=(--connect-timeout 8000)
	STUNTD_EXTRA_B=(--connect-timeout 8000 --ipv6-hop-limit 4)
	start_all port-restricted rst port-restricted rst --ipv6 --fw6-a reject --fw6-b drop && {
		rst6_start || nok "IPv6 RST capture running in ha and hb"
		transfer a office-pc "ha -> hb, simopen6 forced, hop limit 4 on hb" simopen6 simopen6
		n=$(tcpdump -nn -r "$LAB_STATE/rst6-b.pcap" 2>/dev/null |
			grep -c "IP6 $LAB_HA6\.[0-9]* > $LAB_HB6\.[0-9]*: Flags \[R")
		[ "$n" -ge 1 ] && ok "gwa's RST (as from [$LAB_HA6]) came back to hb $n time(s): the hop limit was 4" ||
			nok "no RST from gwa reached hb: was the hop limit applied?"
		stop_all
	}
	;;&
liar6|all)
	# the liar's knob in ha's config file, written once $LAB_STATE exists
	start_all_hook() {
		printf 'test-candidate-ip6 %s\n' "$LIE6" >"$LAB_STATE/liar.conf"
		STUNTD_EXTRA_A=(--connect-timeout 8000 --config "$LAB_STATE/liar.conf")
	}
	STUNTD_EXTRA_B=(--connect-timeout 8000)
	LIE6=fe80::1
	echo "# drop x drop, ha's IPv6 candidate names $LIE6"
	start_all port-restricted rst port-restricted rst --ipv6 --fw6-a drop --fw6-b drop && {
		transfer a office-pc "ha -> hb, ha's IPv6 candidate not global: an IPv4 method" "" \
			'direct|reversal|simopen|stunt1|synth|stunt2|predict'
		r=$(status_field b 's["security"]["candidates_refused"]')
		[ "$r" = 1 ] && ok "hb refused ha's IPv6 candidate (candidates_refused 1)" ||
			nok "hb: candidates_refused '$r' (want 1)"
		grep -q "laptop's IPv6 candidate names \[fe80::1\]:[0-9]*, which is not a global unicast address of another host: dropped" \
			"$LAB_STATE/stuntd-b.log" && ok "hb's log names the refused candidate" ||
			nok "hb's log does not name the refused candidate"
		if grep -q 'session [0-9]*: simopen6:' "$LAB_STATE/stuntd-b.log"; then
			nok "hb ran a simopen6 attempt to a refused candidate"
		else
			ok "hb ran no simopen6 attempt"
		fi
		stop_all
	}
	LIE6=$LAB_PUB6
	STUNTD_EXTRA_B=(--connect-timeout 8000 --ipv6-hop-limit 64)
	echo "# drop x drop, ha's IPv6 candidate names pub ($LIE6, a third party)"
	start_all port-restricted rst port-restricted rst --ipv6 --fw6-a drop --fw6-b drop && {
		lab_bg pub pubcap tcpdump -i eth0 -nn -U --immediate-mode -w "$LAB_STATE/pub6.pcap" \
			"ip6 and tcp and src $LAB_HB6" >/dev/null
		lab_wait_capture pubcap || nok "capture running in pub"
		transfer a office-pc "ha -> hb, ha's IPv6 candidate names pub: an IPv4 method" "" \
			'direct|reversal|simopen|stunt1|synth|stunt2|predict'
		sleep 1
		all=$(tcpdump -nn -r "$LAB_STATE/pub6.pcap" 2>/dev/null)
		syns=$(printf '%s\n' "$all" | grep -c 'Flags \[S\],')
		other=$(printf '%s\n' "$all" | grep . | grep -vc 'Flags \[S\],')
		if [ "$syns" -ge 1 ] && [ "$other" -eq 0 ]; then
			ok "pub got $syns SYN(s) from hb and nothing else"
		else
			nok "pub got $syns SYN(s) and $other other segment(s) from hb"
			printf '%s\n' "$all" | sed 's/^/# pub: /'
		fi
		stop_all
	}
	unset -f start_all_hook
	;;&
npt|all)
	# without --server6 (as stuntd was before it learnt its public
	# address): ha offers its inside address, which no peer reaches
	echo "# npt x drop without --server6: ha offers its inside address"
	STUNTD_EXTRA_A=(--connect-timeout 8000)
	STUNTD_EXTRA_B=(--connect-timeout 8000)
	start_all port-restricted rst port-restricted rst --ipv6 --fw6-a npt --fw6-b drop && {
		grep -h 'discovery: TCP' "$LAB_STATE"/stuntd-[ab].log | sed 's/^/# /'
		v=$(status_field a 's["ipv6"] + " " + str(s["ipv6_learnt"])')
		[ "$v" = "$LAB_HA6 None" ] && ok "ha's status offers its inside address, nothing learnt" ||
			nok "ha's status: '$v' (want '$LAB_HA6 None')"
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"simopen6"}' \
			"simopen6 forced from ha behind NPTv6 without --server6 fails" \
			'simopen6|no connection'
		stop_all
	}
	npt_pair npt drop
	npt_pair npt npt
	;;&
fwhop|all)
	echo "# ha's IPv6 firewall two hops away (in the carrier's router), hb's one hop: measured hop limits"
	SERVER_EXTRA=(--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6")
	STUNTD_EXTRA_A=(--connect-timeout 8000 --server6 "$LAB_SRV1_6")
	STUNTD_EXTRA_B=(--connect-timeout 8000 --server6 "$LAB_SRV1_6")
	start_all port-restricted rst port-restricted rst --ipv6 --cgn-a --fw6-a drop --fw6-b drop \
		--delay-a 10 --delay-b 10 && {
		grep -h 'discovery: the IPv6 firewall' "$LAB_STATE"/stuntd-[ab].log | sed 's/^/# /'
		for xv in a:3 b:2; do
			x=${xv%:*} want=${xv#*:}
			v=$(status_field "$x" 'str(s["ipv6_hop_limit"]["value"]) + " " + s["ipv6_hop_limit"]["from"]')
			[ "$v" = "$want measured" ] && ok "h$x's status: IPv6 first hop limit $v" ||
				nok "h$x's status: ipv6_hop_limit '$v' (want '$want measured')"
		done
		grep -q 'discovery: the IPv6 firewall lets the server.s SYN in after a SYN with hop limit 3: the first SYN.s hop limit is 3 (measured)' \
			"$LAB_STATE/stuntd-a.log" && ok "ha's log: the firewall's distance measured, hop limit 3" ||
			nok "ha's log names no measured hop limit 3"
		syn6a_start || nok "IPv6 SYN capture in ha"
		transfer b laptop "hb -> ha, simopen6 forced, ha's firewall at hop 2" simopen6 simopen6
		sleep 0.3
		syns=$(syn6a_list)
		printf '%s\n' "$syns" | sed 's/^/# ha -> hb: /'
		if [ "$(printf '%s\n' "$syns" | grep -c .)" = 1 ] && printf '%s' "$syns" | grep -q '^hlim 3 '; then
			ok "ha sent one SYN to hb, with hop limit 3 (no kernel retransmission)"
		else
			nok "ha's SYNs to hb: want one, hop limit 3"
		fi
		stop_all
	}
	echo "# the same with ha's hop limit configured to 2: its first SYN dies before cgna's firewall"
	STUNTD_EXTRA_A=(--connect-timeout 8000 --server6 "$LAB_SRV1_6" --ipv6-hop-limit 2)
	STUNTD_EXTRA_B=(--connect-timeout 8000 --server6 "$LAB_SRV1_6")
	start_all port-restricted rst port-restricted rst --ipv6 --cgn-a --fw6-a drop --fw6-b drop \
		--delay-a 10 --delay-b 10 && {
		v=$(status_field a 'str(s["ipv6_hop_limit"]["value"]) + " " + s["ipv6_hop_limit"]["from"]')
		[ "$v" = "2 configured" ] && ok "ha's status: IPv6 first hop limit $v" ||
			nok "ha's status: ipv6_hop_limit '$v' (want '2 configured')"
		syn6a_start || nok "IPv6 SYN capture in ha"
		transfer b laptop "hb -> ha, simopen6 forced, ha's hop limit 2" simopen6 simopen6
		sleep 0.3
		syns=$(syn6a_list)
		printf '%s\n' "$syns" | sed 's/^/# ha -> hb: /'
		# the first SYN died at hop 2, before cgna's firewall: only the
		# kernel's retransmission (full hop limit, same sequence number),
		# a second later, got through
		if printf '%s\n' "$syns" | sed -n 1p | grep -q '^hlim 2 ' &&
			[ "$(printf '%s\n' "$syns" | awk '{print $4}' | sort -u | wc -l)" = 1 ] &&
			printf '%s\n' "$syns" | sed -n 2p | grep -q '^hlim 64 '; then
			ok "ha's first SYN (hop limit 2) opened nothing: its kernel's retransmission at full hop limit did"
		else
			nok "ha's SYNs to hb: want hop limit 2, then the same SYN again at 64"
		fi
		stop_all
	}
	SERVER_EXTRA=()
	;;&
oldorder|all)
	start_all_hook() {
		printf 'test-v6-requester-first on\n' >"$LAB_STATE/old.conf"
		STUNTD_EXTRA_B=(--connect-timeout 8000 --config "$LAB_STATE/old.conf")
	}
	STUNTD_EXTRA_A=(--connect-timeout 8000)
	echo "# drop x drop, hb runs simopen6 in the older requester-first order"
	start_all port-restricted rst port-restricted rst --ipv6 --fw6-a drop --fw6-b drop && {
		rst6_start || nok "IPv6 RST capture running in ha and hb"
		transfer6 a office-pc "$LAB_HB6" "ha -> hb (hb: the older order)"
		transfer6 b laptop "$LAB_HA6" "hb -> ha (hb: the older order)"
		req_first_check a b "$LAB_HB6" "$LAB_HA6" "ha -> hb"
		req_first_check b a "$LAB_HA6" "$LAB_HB6" "hb -> ha"
		rst6_check
		stop_all
	}
	unset -f start_all_hook
	;;&
v4only|all)
	echo "# drop x drop, --ipv6 off on hb: IPv4 alone"
	STUNTD_EXTRA_A=(--connect-timeout 8000)
	STUNTD_EXTRA_B=(--connect-timeout 8000 --ipv6 off)
	start_all port-restricted rst port-restricted rst --ipv6 --fw6-a drop --fw6-b drop && {
		transfer a office-pc "ha -> hb without IPv6 on hb: an IPv4 method" "" \
			'direct|reversal|simopen|stunt1|synth|stunt2|predict'
		v=$(status_field b 's["ipv6"]')
		[ "$v" = None ] && ok "hb's status offers no IPv6 address (ipv6 off)" ||
			nok "hb's status: ipv6 '$v' (want null)"
		if grep -q 'session [0-9]*: simopen6:' "$LAB_STATE/stuntd-a.log"; then
			nok "ha ran a simopen6 attempt although hb offered no IPv6 candidate"
		else
			ok "ha ran no simopen6 attempt"
		fi
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"simopen6"}' \
			"simopen6 forced: hb has IPv6 off and refuses it" 'method simopen6 refused'
		no_refusals
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
