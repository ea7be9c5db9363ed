#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stunt-probe --server6 (issue 17): the IPv6 part of the report against a
# dual-stack stunt-server (--primary6 / --alternate6), on lab_dual6's (lab.sh)
# topology: c (2001:db8:1::10, 10.61.1.10) -- r (router, both families) --
# srv (2001:db8:2::5 and ::6, 10.61.2.5 and .6).
#
#   1. open router: no translation, the mapped address is the client's own
#      (UDP and TCP), EIF for UDP and TCP (STUNT over IPv6: the server's
#      test SYNs reach the probe's listener), an unsolicited SYN answered
#      by the host's own RST (nothing filters), direct: yes; with root the
#      hops: the router at hop 1, the server at hop 2;
#   2. a stateful ip6 firewall in r (established/related accepted, new
#      inbound dropped): still no translation, APDF for UDP and TCP, the
#      unsolicited SYN dropped, direct only by simultaneous open;
#   2b. firewalls that reject new inbound TCP: with a TCP reset (rst) and
#      with ICMPv6 administratively prohibited (icmp, type 1 code 1); TCP
#      filtering APDF;
#   3. NAT66 (nft ip6 nat masquerade in r): translated, the mapped address
#      is the router's (with --tcp-only too, from the TCP Binding);
#   4. without --server6 no IPv6 in either report; a bad --server6 is a
#      usage error; a server without STUNT (--no-stunt): the TCP filtering
#      and the unsolicited-SYN answer named not measurable, with its error;
#   5. no IPv4 route: the IPv4 part gives up at once, the IPv6 part is still
#      measured (it shares the IPv4 tests' loop and runs again alone);
#   6. IPv6 only (an IPv6 --server, or --server6 alone; still no IPv4
#      route): nothing of IPv4 is tried, the report is the IPv6 part
#      ("ipv6_only": true), exit 0; an IPv6 server that does not answer:
#      exit 3.
# Never touches the root namespace.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$HERE/lab.sh"
SERVER=$LAB_BUILD/stunt-server
PROBE=$LAB_BUILD/stunt-probe
# shellcheck source=tests/lab/tap.sh
. "$HERE/tap.sh"

C6=2001:db8:1::10
C4=10.61.1.10
R6=2001:db8:2::1
R1_6=2001:db8:1::1
P6=2001:db8:2::5
A6=2001:db8:2::6
P4=10.61.2.5
A4=10.61.2.6

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - t_probe6 needs root (network namespaces)"
	exit 1
fi
for b in "$SERVER" "$PROBE"; do
	[ -x "$b" ] || { echo "not ok - $b missing (make)"; exit 1; }
done

# probe NAME: JSON and human reports of one run each, in $W/NAME.json/.txt
probe() {
	lx c "$PROBE" --server $P4 --server6 $P6 --json --no-portmap --no-ttl >"$W/$1.json" 2>"$W/$1.err"
	echo "# $1: exit $?, ipv6: $(jget "$W/$1.json" ipv6 | head -c 600)"
	lx c "$PROBE" --server $P4 --server6 "[$P6]:3478" --no-portmap --no-ttl >"$W/$1.txt" 2>&1
}

# host part of "[ip]:port"
host6() { local h=${1%]:*}; echo "${h#[}"; }

lab_init probesix
W=$LAB_STATE
lab_dual6 || { echo "not ok - namespace setup (lab_dual6)"; exit 1; }
lab_bg srv server "$SERVER" --primary $P4 --alternate $A4 --primary6 $P6 --alternate6 $A6 -d >/dev/null
for a in "\[$P6\]" "\[$A6\]"; do
	for p in 3478 3479; do
		lab_wait_port srv udp "$a" $p 10 && lab_wait_port srv tcp "$a" $p 10 ||
			{ nok "server listens on $a:$p"; exit 1; }
	done
done
lab_wait_port srv tcp $A4 3479 10 || { nok "server listens on $A4:3479"; exit 1; }

# ------------------------------------------------------------ 1. open router
probe open
f=$W/open.json
check_eq "open: the server was reached over IPv6" "$(jget "$f" ipv6.reached)" true
check_eq "open: not translated" "$(jget "$f" ipv6.translated)" false
check_eq "open: UDP mapped address is the client's own" "$(host6 "$(jget "$f" ipv6.mapped)")" $C6
check_eq "open: UDP mapped = local (address and port)" "$(jget "$f" ipv6.mapped)" "$(jget "$f" ipv6.local)"
check_eq "open: TCP mapped = TCP local" "$(jget "$f" ipv6.tcp.mapped)" "$(jget "$f" ipv6.tcp.local)"
check_eq "open: TCP mapped address is the client's own" "$(host6 "$(jget "$f" ipv6.tcp.mapped)")" $C6
check_eq "open: UDP mapping none" "$(jget "$f" ipv6.udp.mapping)" none
check_eq "open: UDP filtering EIF" "$(jget "$f" ipv6.udp.filtering)" EIF
check_eq "open: the server's other IPv6 address was learnt" "$(jget "$f" ipv6.other_address)" $A6
check_eq "open: TCP filtering EIF (the test SYNs from the other address reached the listener)" \
	"$(jget "$f" ipv6.tcp.filtering)" EIF
check_eq "open: unsolicited SYN answered by the host's RST" "$(jget "$f" ipv6.tcp.unsolicited_syn)" rst
check_eq "open: nothing named not measurable over IPv6" "$(jget "$f" ipv6.not_measurable)" "{}"
check_cmd "open: the human report has the TCP filtering" \
	grep -q "^  TCP filtering: .*endpoint-independent, EIF)" "$W/open.txt"
check_eq "open: direct IPv6 connections: yes" "$(jget "$f" ipv6.direct)" yes
check_cmd "open: the human report ends its IPv6 block with 'yes'" \
	grep -q "^  Direct IPv6 connections: yes" "$W/open.txt"
check_cmd "open: the human report has the IPv6 block" grep -q "^IPv6 (server \[$P6\]:3478):" "$W/open.txt"
check_eq "open: IPv4 part still measured (udp.mapping)" "$(jget "$f" udp.mapping)" none
# the firewall's distance (probe6_fw.c): with nothing in the way, the
# server's SYN gets in after a SYN with hop limit 1
check_eq "open: syn_hop_limit 1, the server's SYN in after hop limit 1" \
	"$(jget "$f" ipv6.syn_hop_limit) $(jget "$f" ipv6.syn_hop_limit_tests.0)" "1 synack"
check_cmd "open: the human report says no firewall stops a SYN" \
	grep -q "^  Firewall: none beyond this host stops an incoming SYN" "$W/open.txt"
# the hops (root: hop-limited SYNs and ICMPv6 time exceeded): r, then the server
lx c "$PROBE" --server $P4 --server6 $P6 --json --no-portmap >"$W/hops.json" 2>"$W/hops.err"
check_eq "open: IPv6 hops: the router $R1_6 at hop 1, the server at hop 2" \
	"$(jget "$W/hops.json" ipv6.hops) $(jget "$W/hops.json" ipv6.dest_hop)" "[\"$R1_6\"] 2"
lx c "$PROBE" --server $P4 --server6 $P6 --no-portmap >"$W/hops.txt" 2>&1
check_cmd "open: the human report names the hops" \
	grep -q "^  Hops to the server: 2; the routers before it: 1 $R1_6\$" "$W/hops.txt"
check_eq "open, with the hops: syn_hop_limit 1" "$(jget "$W/hops.json" ipv6.syn_hop_limit)" 1

# ------------------------------------------------------------ 2. stateful firewall
lab_fw6 r rs drop || nok "firewall rules load"
probe fw
f=$W/fw.json
check_eq "firewall: not translated" "$(jget "$f" ipv6.translated)" false
check_eq "firewall: UDP mapped address is the client's own" "$(host6 "$(jget "$f" ipv6.mapped)")" $C6
check_eq "firewall: UDP filtering APDF" "$(jget "$f" ipv6.udp.filtering)" APDF
check_eq "firewall: TCP filtering APDF" "$(jget "$f" ipv6.tcp.filtering)" APDF
check_eq "firewall: unsolicited SYN dropped" "$(jget "$f" ipv6.tcp.unsolicited_syn)" drop
check_cmd "firewall: the human report says dropped" \
	grep -q "^  Unsolicited incoming SYN: silently dropped (drop)" "$W/fw.txt"
check_eq "firewall: direct IPv6 only by simultaneous open" "$(jget "$f" ipv6.direct)" simopen
check_cmd "firewall: the human report says simultaneous open" \
	grep -q "^  Direct IPv6 connections: only by simultaneous open" "$W/fw.txt"
# the firewall's distance: r (hop 1) opens for a SYN with hop limit 2; r
# is also the server's last router, so that SYN reached the server. Without
# the hops (--no-ttl) that counts; with them it does not: no hop limit that
# stops short of the server opens it, and the report says why
check_eq "firewall: the server's SYN after hop limit 1 dropped, after 2 let in: syn_hop_limit 2" \
	"$(jget "$f" ipv6.syn_hop_limit_tests.0) $(jget "$f" ipv6.syn_hop_limit_tests.1) $(jget "$f" ipv6.syn_hop_limit)" \
	"drop synack 2"
lx c "$PROBE" --server $P4 --server6 $P6 --json --no-portmap >"$W/fwhops.json" 2>&1
lx c "$PROBE" --server $P4 --server6 $P6 --no-portmap >"$W/fwhops.txt" 2>&1
check_eq "firewall, with the hops (the server at hop 2): no syn_hop_limit" \
	"$(jget "$W/fwhops.json" ipv6.dest_hop) $(jget "$W/fwhops.json" ipv6.syn_hop_limit)" "2 null"
check_cmd "firewall, with the hops: why it is unknown, in JSON and words" \
	sh -c "grep -q '\"syn_hop_limit_why\": \"no hop limit up to 4 that stops before the server' '$W/fwhops.json' &&
	       grep -q '^  Firewall.s distance: not measured: no hop limit up to 4 that stops before the server' '$W/fwhops.txt'"
lab_fw6_del r

# ------------------------------------------------------------ 2b. rejecting firewalls
# reject6 HOW: new inbound TCP rejected HOW in r (UDP dropped, as above)
reject6() {
	lab_fw6 r rs "meta l4proto tcp reject with $1" drop || nok "rejecting firewall rules load ($1)"
}
reject6 "tcp reset"
probe rst
f=$W/rst.json
check_eq "rejecting with a TCP reset: unsolicited SYN answered rst" "$(jget "$f" ipv6.tcp.unsolicited_syn)" rst
check_eq "rejecting with a TCP reset: TCP filtering APDF" "$(jget "$f" ipv6.tcp.filtering)" APDF
check_eq "rejecting with a TCP reset: the server's SYN after hop limit 1 answered rst" \
	"$(jget "$f" ipv6.syn_hop_limit_tests.0)" rst
check_eq "rejecting with a TCP reset: UDP filtering APDF, direct by simultaneous open" \
	"$(jget "$f" ipv6.udp.filtering) $(jget "$f" ipv6.direct)" "APDF simopen"
lab_fw6_del r
reject6 "icmpv6 admin-prohibited"
probe icmp
f=$W/icmp.json
check_eq "rejecting with ICMPv6: unsolicited SYN answered icmp, type 1 code 1" \
	"$(jget "$f" ipv6.tcp.unsolicited_syn) $(jget "$f" ipv6.tcp.unsolicited_icmp.type) $(jget "$f" ipv6.tcp.unsolicited_icmp.code)" \
	"icmp 1 1"
check_eq "rejecting with ICMPv6: TCP filtering APDF" "$(jget "$f" ipv6.tcp.filtering)" APDF
check_cmd "rejecting with ICMPv6: the human report names administratively prohibited" \
	grep -q "^  Unsolicited incoming SYN: answered with ICMPv6 destination unreachable, administratively prohibited (icmp)" "$W/icmp.txt"
lab_fw6_del r

# ------------------------------------------------------------ 3. NAT66
lx r nft -f - <<EOF || nok "NAT66 rules load"
table ip6 nat {
	chain post {
		type nat hook postrouting priority 100;
		oifname "rs" masquerade
	}
}
EOF
probe nat66
f=$W/nat66.json
check_eq "NAT66: translated" "$(jget "$f" ipv6.translated)" true
check_eq "NAT66: UDP mapped address is the router's" "$(host6 "$(jget "$f" ipv6.mapped)")" $R6
check_eq "NAT66: local address is the client's" "$(host6 "$(jget "$f" ipv6.local)")" $C6
check_eq "NAT66: TCP translated" "$(jget "$f" ipv6.tcp.translated)" true
check_eq "NAT66: TCP filtering APDF (test SYNs from elsewhere meet no mapping)" \
	"$(jget "$f" ipv6.tcp.filtering)" APDF
check_cmd "NAT66: the human report says translated" grep -q "^  Translation: yes" "$W/nat66.txt"
lx c "$PROBE" --server $P4 --server6 $P6 --tcp-only --json --no-portmap --no-ttl >"$W/tcp.json" 2>&1
check_eq "NAT66, --tcp-only: the TCP Binding tells the translation" \
	"$(jget "$W/tcp.json" ipv6.translated) $(jget "$W/tcp.json" ipv6.udp.mapping)" "true null"
lx r nft delete table ip6 nat
# NAT66 that picks its own ports: the test SYN could not be aimed at ours
lx r nft -f - <<EOF || nok "NAT66 (random ports) rules load"
table ip6 nat {
	chain post {
		type nat hook postrouting priority 100;
		oifname "rs" masquerade random
	}
}
EOF
lx c "$PROBE" --server $P4 --server6 $P6 --json --no-portmap --no-ttl >"$W/nat66r.json" 2>&1
check_cmd "NAT66 with random ports: syn_hop_limit null, the ports named why" \
	sh -c "grep -q '\"syn_hop_limit\": null' '$W/nat66r.json' &&
	       grep -q '\"syn_hop_limit_why\": \"the path rewrites TCP ports' '$W/nat66r.json'"
lx r nft delete table ip6 nat

# ------------------------------------------------------------ 4. without --server6
lx c "$PROBE" --server $P4 --json --no-portmap --no-ttl >"$W/v4.json" 2>&1
check_eq "no --server6: no ipv6 object" "$(jget "$W/v4.json" udp.mapping) $(grep -c "\"ipv6\":" "$W/v4.json")" "none 0"
check_eq "no --server6: IPv4 report still there" "$(jget "$W/v4.json" server_reached)" true
lx c "$PROBE" --server $P4 --no-portmap --no-ttl >"$W/v4.txt" 2>&1
check_cmd "no --server6: no IPv6 block in words" sh -c "! grep -q IPv6 '$W/v4.txt'"
out=$("$PROBE" --server $P4 --server6 $P4 2>&1)
rc=$?
check_eq "bad --server6: usage error (exit 2) naming it" "$rc $(echo "$out" | grep -c 'server6')" "2 1"
lab_bg srv nostunt "$SERVER" --primary $P4 --alternate $A4 --primary6 $P6 --alternate6 $A6 \
	--port 3490 --alt-port 3491 --no-stunt -d >/dev/null
lab_wait_port srv tcp "\[$P6\]" 3490 10 || nok "the --no-stunt server listens on [$P6]:3490"
lx c "$PROBE" --server $P4:3490 --server6 "[$P6]:3490" --json --no-portmap --no-ttl >"$W/nostunt.json" 2>&1
f=$W/nostunt.json
check_eq "no STUNT: IPv6 TCP filtering and unsolicited SYN unknown" \
	"$(jget "$f" ipv6.tcp.filtering) $(jget "$f" ipv6.tcp.unsolicited_syn)" "null null"
check_cmd "no STUNT: both named not measurable, with the server's refusal" \
	sh -c "grep -q '\"tcp.filtering\": \"the server refused STUNT over IPv6 (error 500)\"' '$f' &&
	       grep -q '\"tcp.unsolicited_syn\": \"the server refused STUNT over IPv6 (error 500)\"' '$f'"
check_eq "no STUNT: the TCP mapped address is still measured" "$(host6 "$(jget "$f" ipv6.tcp.mapped)")" $C6

# ------------------------------------------------------------ 5. IPv4 unreachable
# (the IPv6 part shares the IPv4 tests' loop, which ends at once when the
# IPv4 server cannot be reached: an IPv6-only host still gets its IPv6 report)
lx c ip route del default
lx c "$PROBE" --server $P4 --server6 $P6 --json --no-portmap --no-ttl >"$W/v6only.json" 2>"$W/v6only.err"
rc=$?
check_eq "no IPv4 route: IPv4 server not reached, exit 3 (rc $rc)" "$(jget "$W/v6only.json" server_reached) $rc" "false 3"
check_eq "no IPv4 route: the IPv6 part still reached the server" "$(jget "$W/v6only.json" ipv6.reached)" true
check_eq "no IPv4 route: IPv6 UDP filtering still measured (open router: EIF)" \
	"$(jget "$W/v6only.json" ipv6.udp.filtering)" EIF
check_eq "no IPv4 route: IPv6 TCP mapped is the client's own" \
	"$(host6 "$(jget "$W/v6only.json" ipv6.tcp.mapped)")" $C6

# ------------------------------------------------------------ 6. IPv6 only
# (--server given as an IPv6 address, or --server6 alone: nothing of IPv4 is
# tried; still no IPv4 route, as on an IPv6-only host)
lx c "$PROBE" --server "[$P6]:3478" --json --no-portmap >"$W/only6.json" 2>"$W/only6.err"
rc=$?
check_eq "IPv6 --server: exit 0, ipv6_only, the IPv6 part reached (rc $rc)" \
	"$rc $(jget "$W/only6.json" ipv6_only) $(jget "$W/only6.json" ipv6.reached)" "0 true true"
check_eq "IPv6 --server: UDP filtering (open router: EIF), TCP mapped the client's own" \
	"$(jget "$W/only6.json" ipv6.udp.filtering) $(host6 "$(jget "$W/only6.json" ipv6.tcp.mapped)")" "EIF $C6"
check_eq "IPv6 --server: no IPv4 server in the report, no error on stderr" \
	"$(jget "$W/only6.json" server) $(wc -c <"$W/only6.err")" "null 0"
lx c "$PROBE" --server6 $P6 --no-portmap --no-ttl >"$W/only6.txt" 2>&1
rc=$?
head -3 "$W/only6.txt" | sed 's/^/# /'
check_eq "--server6 alone: exit 0, the report starts with IPv4 not measured, then IPv6 (rc $rc)" \
	"$rc $(head -2 "$W/only6.txt" | tr '\n' '|')" \
	"0 IPv4: not measured (the server was given as an IPv6 address: IPv6 only)|IPv6 (server [$P6]:3478):|"
check_cmd "--server6 alone: the direct-connection sentence over IPv6" grep -q '^  Direct IPv6 connections: ' "$W/only6.txt"
lx c "$PROBE" --server "[2001:db8:2::99]" --json --no-portmap --no-ttl --timeout 1000 >"$W/none6.json" 2>/dev/null
rc=$?
check_eq "IPv6 --server that does not answer: exit 3, ipv6.reached false (rc $rc)" \
	"$rc $(jget "$W/none6.json" ipv6.reached)" "3 false"
lx c ip route add default via 10.61.1.1

lab_down
check_cmd "no lab namespaces left behind" test -z "$(ip netns list | grep "^$LAB-")"
[ "$fails" -eq 0 ]
