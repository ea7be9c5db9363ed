#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An IPv6-only host (issue 17): hb has no IPv4 at all (lab_up --ipv6
# --nat-b off) and reaches stunt-server (dual-stack: --primary6 /
# --alternate6) over IPv6; ha is dual-stack behind a port-restricted IPv4
# NAT and signals over IPv4. Both sides sit behind an RFC 6092 stateful
# IPv6 firewall (drop). See t_stuntd.sh for the rest of the setup.
#   only (hb --server [2001:db8:5::1]):
#     - hb registers over IPv6 and is seen at its own IPv6 address (log,
#       status "server" and "public", stuntctl status); its metrics answer
#       on [::1]:9478 (--metrics); its discovery measures no IPv4
#       ("reached over IPv6") and learns its address from the server;
#     - ha -> hb and hb -> ha: simopen6 wins, 5 MB echoed intact, the
#       client's socket connected to the peer's IPv6 address; the
#       requester hb offers and races simopen6 alone;
#     - an IPv4 method forced: from hb it fails at once ("needs IPv4"),
#       from ha hb refuses it ("signals over IPv6");
#     - no candidate refused, no connection unproven, no RST left either
#       host, SIGTERM leaves iptables as before.
#   liar (hb's EXCHANGE names pub's IPv6 address as its own:
#     test-candidate-ip6, a test knob in its config file): the server
#     vouches for hb's address (SIG-SENDER, IPv6), so ha refuses the
#     candidate ("not its address ... as the server sees it"), counts it,
#     and the connect fails with no method left; not one packet of ha
#     reaches pub.
#   v4peer (ha with --ipv6 off): hb -> ha fails with "no common method".
#   tls (hb over TLS: the server listens for TLS on its IPv6 addresses too;
#     its certificate carries IP:2001:db8:5::1, checked by hb against the
#     lab CA), then a name (hb's hosts file has both an A and an AAAA
#     record for it: the IPv6-only host takes the AAAA one): hb registers
#     "over TLS" at [2001:db8:5::1]:5349 and ha -> hb connects by simopen6.
# Bounded: each connect by stuntd's connect-timeout (8 s here).
# shellcheck disable=SC2153 # LAB_HA6, LAB_HB6: set by lab_up --ipv6
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

fails=0
case=${1:-all}
SERVER_EXTRA=(--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6")

made_netns_dir=0
[ -d /etc/netns ] || made_netns_dir=1
etc_cleanup() {
	[ -n "${LAB:-}" ] && rm -rf "/etc/netns/$LAB-hb"
	[ "$made_netns_dir" = 1 ] && rmdir /etc/netns 2>/dev/null
	return 0
}

# up: the lab with hb IPv6-only, both daemons
up() {
	start_all port-restricted rst off rst --ipv6 --fw6-a drop --fw6-b drop
}

# registered_v6: hb's log, status and discovery say it signals over IPv6
registered_v6() {
	local srv=$1 l pub
	l=$(grep -m1 'registered with' "$LAB_STATE/stuntd-b.log")
	echo "# hb: $l"
	echo "$l" | grep -qF "registered with $srv" &&
		echo "$l" | grep -qF "seen as [$LAB_HB6]:" &&
		ok "hb registered over IPv6 with $srv, seen as [$LAB_HB6]" ||
		nok "hb's registration: '$l' (want $srv, seen as [$LAB_HB6])"
	pub=$(status_field b 's["public"]["tcp"]')
	[ "$(status_field b 's["server"]')" = "[$LAB_SRV1_6]:3478" ] && [[ "$pub" == "[$LAB_HB6]:"* ]] &&
		ok "hb's status: server [$LAB_SRV1_6]:3478, public $pub" ||
		nok "hb's status: server '$(status_field b 's["server"]')', public '$pub'"
	human=$(lx hb "$BUILD/stuntctl" --control "$LAB_STATE/b.sock" status 2>&1)
	echo "$human" | grep -E '^(server|public|NAT|IPv6)' | sed 's/^/# stuntctl status: /'
	echo "$human" | grep -qxF "server: [$LAB_SRV1_6]:3478, registered" &&
		echo "$human" | grep -q "^public endpoints: tcp \[$LAB_HB6\]:[0-9]*," &&
		echo "$human" | grep -qxF "NAT: none measured (the server is reached over IPv6: IPv6 methods only)" &&
		ok "stuntctl status in hb names the server and its public endpoint over IPv6, no NAT" ||
		nok "stuntctl status in hb"
	grep -q 'discovery: the server is reached over IPv6: no IPv4 to measure' "$LAB_STATE/stuntd-b.log" &&
		grep -qF "discovery: IPv6 [$LAB_HB6] is not translated" "$LAB_STATE/stuntd-b.log" &&
		ok "hb's discovery: no IPv4 measured, its IPv6 address learnt from the server" ||
		{ nok "hb's discovery"; grep 'discovery' "$LAB_STATE/stuntd-b.log" | sed 's/^/# /'; }
}

if [ "$case" = only ] || [ "$case" = all ]; then
	echo "# ha dual-stack, hb IPv6-only (--server [$LAB_SRV1_6]); IPv6 firewalls drop x drop"
	STUNTD_SERVER_B="[$LAB_SRV1_6]"
	STUNTD_EXTRA_A=(--connect-timeout 8000)
	STUNTD_EXTRA_B=(--connect-timeout 8000 --metrics "[::1]:9478")
	up && {
		registered_v6 "[$LAB_SRV1_6]:3478"
		# its metrics over IPv6 (--metrics [::1]:9478): a Prometheus scrape parses
		if lx hb python3 "$here/promscrape.py" scrape "http://[::1]:9478/metrics" >"$LAB_STATE/b.prom" 2>&1 &&
			grep -q '^stuntd_registered 1$' "$LAB_STATE/b.prom"; then
			ok "hb's metrics answer at http://[::1]:9478/metrics (stuntd_registered 1)"
		else
			nok "hb's metrics over IPv6: $(head -3 "$LAB_STATE/b.prom")"
		fi
		transfer6 a office-pc "$LAB_HB6" "ha -> hb (hb IPv6-only)"
		transfer6 b laptop "$LAB_HA6" "hb -> ha (hb IPv6-only)"
		grep -E 'session [0-9]+: office-pc asks for echo .*racing simopen6$' "$LAB_STATE/stuntd-a.log" |
			grep -q . && ok "ha, the responder of hb -> ha, races simopen6 alone" ||
			nok "ha's race for hb: $(grep 'office-pc asks for echo' "$LAB_STATE/stuntd-a.log" | tail -1)"
		method_won a simopen6 1
		method_won b simopen6 1
		expect_error b '{"cmd":"connect","peer":"laptop","service":"echo","method":"stunt1"}' \
			"hb forces stunt1" 'method stunt1 needs IPv4, and we signal over IPv6'
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo","method":"stunt1"}' \
			"ha forces stunt1 on hb" 'method stunt1 refused: office-pc signals over IPv6'
		no_refusals
		stop_all
	}
fi

if [ "$case" = liar ] || [ "$case" = all ]; then
	echo "# hb IPv6-only names pub's address [$LAB_PUB6] as its own"
	start_all_hook() {
		printf 'test-candidate-ip6 %s\n' "$LAB_PUB6" >"$LAB_STATE/b.conf"
		STUNTD_EXTRA_B=(--connect-timeout 4000 --config "$LAB_STATE/b.conf")
	}
	STUNTD_SERVER_B="[$LAB_SRV1_6]"
	STUNTD_EXTRA_A=(--connect-timeout 4000)
	up && {
		lab_bg pub pub6-cap tcpdump -i eth0 -nn -U --immediate-mode -w "$LAB_STATE/pub6.pcap" \
			"ip6 and tcp and not host $LAB_SRV1_6 and not host $LAB_SRV2_6" >/dev/null
		lab_wait_capture pub6-cap || nok "capture in pub"
		expect_error b '{"cmd":"connect","peer":"laptop","service":"echo"}' \
			"hb -> ha with a lying candidate" 'no common method: office-pc signals over IPv6 \(no IPv4\) and laptop took no IPv6 address of it, and no relay'
		grep -qF "office-pc's IPv6 candidate names [$LAB_PUB6]" "$LAB_STATE/stuntd-a.log" &&
			grep -qF "not its address [$LAB_HB6] as the server sees it: dropped" "$LAB_STATE/stuntd-a.log" &&
			ok "ha dropped the candidate: not hb's address as the server sees it" ||
			{ nok "ha's log names the refused candidate"; grep 'candidate' "$LAB_STATE/stuntd-a.log" | sed 's/^/# /'; }
		r=$(status_field a 's["security"]["candidates_refused"]')
		[ "${r:-0}" -ge 1 ] && ok "ha counted it (candidates_refused $r)" || nok "ha's candidates_refused '$r'"
		sleep 0.5
		n=$(tcpdump -nn -r "$LAB_STATE/pub6.pcap" 2>/dev/null | grep -c .)
		[ "$n" = 0 ] && ok "nothing of ha's reached pub over IPv6" ||
			{ nok "$n IPv6 TCP packets reached pub"; tcpdump -nn -r "$LAB_STATE/pub6.pcap" 2>/dev/null | head -5 | sed 's/^/# /'; }
		stop_all
	}
	unset -f start_all_hook
fi

if [ "$case" = v4peer ] || [ "$case" = all ]; then
	echo "# hb IPv6-only, ha with --ipv6 off: nothing in common"
	STUNTD_SERVER_B="[$LAB_SRV1_6]"
	STUNTD_EXTRA_A=(--connect-timeout 4000 --ipv6 off)
	STUNTD_EXTRA_B=(--connect-timeout 4000)
	up && {
		expect_error b '{"cmd":"connect","peer":"laptop","service":"echo"}' \
			"hb -> ha (ipv6 off)" 'no common method: office-pc signals over IPv6 \(no IPv4\) and laptop took no IPv6 address of it \(ipv6 off\)'
		stop_all
	}
fi

if [ "$case" = tls ] || [ "$case" = all ]; then
	echo "# hb IPv6-only over TLS to [$LAB_SRV1_6]:5349, certificate for that IP, lab CA"
	# the certificates, and the options that name them, once LAB_STATE exists
	start_all_hook() {
		lab_tls_certs "IP:$LAB_SRV1,IP:$LAB_SRV1_6" || return 1
		SERVER_EXTRA=(--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6"
			--tls-cert "$LAB_STATE/srv.pem" --tls-key "$LAB_STATE/srv.key")
		STUNTD_EXTRA_B=(--connect-timeout 8000 --tls --tls-ca "$LAB_STATE/ca.pem")
	}
	STUNTD_SERVER_B="[$LAB_SRV1_6]"
	STUNTD_EXTRA_A=(--connect-timeout 8000)
	up && {
		l=$(grep -m1 'registered with' "$LAB_STATE/stuntd-b.log")
		echo "# hb: $l"
		echo "$l" | grep -qF "registered with [$LAB_SRV1_6]:5349 over TLS as office-pc, seen as [$LAB_HB6]:" &&
			ok "hb registered over TLS over IPv6, the certificate checked for [$LAB_SRV1_6]" ||
			nok "hb over TLS: '$l'"
		transfer6 a office-pc "$LAB_HB6" "ha -> hb (hb over TLS)"
		stop_all
	}
	unset -f start_all_hook
	echo "# hb IPv6-only, --server rdv.lab.test (A $LAB_SRV1 and AAAA $LAB_SRV1_6 in its hosts file)"
	STUNTD_SERVER_B=rdv.lab.test
	start_all_hook() {
		trap 'etc_cleanup; lab_down' EXIT
		mkdir -p "/etc/netns/$LAB-hb"
		printf '%s\n' "$LAB_SRV1 rdv.lab.test" "$LAB_SRV1_6 rdv.lab.test" >"/etc/netns/$LAB-hb/hosts"
		printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$LAB-hb/resolv.conf"
	}
	STUNTD_EXTRA_B=(--connect-timeout 8000)
	SERVER_EXTRA=(--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6")
	up && {
		registered_v6 "[$LAB_SRV1_6]:3478"
		transfer6 a office-pc "$LAB_HB6" "ha -> hb (hb's server by name)"
		stop_all
	}
	unset -f start_all_hook
	etc_cleanup
fi
[ "$fails" -eq 0 ]
