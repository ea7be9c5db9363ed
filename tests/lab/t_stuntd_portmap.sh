#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd's portmap method in the namespace lab: ha ("laptop") behind a
# port-restricted cone gateway gwa that runs real miniupnpd (UPnP-IGD +
# NAT-PMP/PCP, WAN 11.0.1.2), hb ("office-pc") behind a plain port-restricted
# cone (answers unsolicited SYNs with RST). hb asks for ha's echo service:
#   --method portmap      ha maps its port on gwa (UPnP-IGD AddPortMapping),
#                         advertises 11.0.1.2:P, hb connects; 5 MB intact;
#                         the DNAT rule is in gwa's miniupnpd chain during
#                         the session (nft monitor) and gone after;
#   no method forced      the race is portmap + simopen;
#   ha -> hb, portmap     the requester's own gateway maps (ha accepts).
# All the while a rogue on ha's LAN (10.1.0.66, not the gateway) answers
# every SSDP search at once with a LOCATION on itself: stuntd ignores the
# answers (logged at debug) and never fetches the rogue's description.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

CHAIN=(nft list chain inet miniupnpd prerouting_miniupnpd)

# dnat_rules: the port-forward rules in gwa's miniupnpd chain now
dnat_rules() { lx gwa "${CHAIN[@]}" 2>/dev/null | grep -c 'dnat'; }

# mon_mark: remember where nft monitor's log is before a session
mon_mark() { MON_FROM=$(($(wc -l <"$LAB_STATE/nftmon.log") + 1)); }
mon_new() { tail -n +"$MON_FROM" "$LAB_STATE/nftmon.log"; }

# mapping_seen_and_gone LABEL: since mon_mark, nft monitor saw a DNAT rule
# added to the miniupnpd chain (during the session) and the chain is empty
# again.
mapping_seen_and_gone() {
	local label=$1 i n
	for i in $(seq 1 30); do
		n=$(dnat_rules)
		[ "$n" -eq 0 ] && break
		sleep 0.1
	done
	if mon_new | grep -Eq 'add rule inet miniupnpd prerouting_miniupnpd .*dport [0-9]+ .*dnat'; then
		ok "$label: the mapping was in gwa's miniupnpd ruleset during the session ($(mon_new | grep -Eo 'dport [0-9]+ .*dnat ip to [0-9.:]+' | tail -1))"
	else
		nok "$label: no DNAT rule appeared in gwa's miniupnpd chain"
		mon_new | sed 's/^/# nft monitor: /' | tail -10
	fi
	if [ "$n" -eq 0 ]; then
		ok "$label: the mapping is gone after the session"
	else
		nok "$label: $n DNAT rule(s) left in gwa's miniupnpd chain"
		lx gwa "${CHAIN[@]}" | sed 's/^/# /'
	fi
}

# The rogue: joins the SSDP group on ha's LAN interface, answers each
# M-SEARCH from ROGUE_IP with a LOCATION there, and counts the HTTP requests
# for that description in HITS.
ROGUE='
import http.server, socket, sys, threading
lan_ip, rogue_ip, hits = sys.argv[1], sys.argv[2], sys.argv[3]
count = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        count[0] += 1
        open(hits, "w").write(str(count[0]))
        self.send_response(404)
        self.end_headers()
    def log_message(self, *a):
        pass
class S(http.server.HTTPServer):
    # no socket.getfqdn(): its reverse lookup of rogue_ip went to the
    # host resolver from inside the lab and waited 5 s for no answer
    def server_bind(self):
        http.server.socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
srv = S((rogue_ip, 2189), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("239.255.255.250", 1900))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("239.255.255.250") + socket.inet_aton(lan_ip))
out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
out.bind((rogue_ip, 0))
open(hits, "w").write("0")
print("ready", flush=True)
n = 0
while True:
    d, src = s.recvfrom(2048)
    if not d.startswith(b"M-SEARCH"):
        continue
    n += 1
    out.sendto(b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\n"
               b"ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
               b"USN: uuid:rogue::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
               b"EXT:\r\nSERVER: rogue\r\nLOCATION: http://" + rogue_ip.encode() + b":2189/rootDesc.xml\r\n\r\n", src)
    print("answered", n, src[0], flush=True)
'
ROGUE_IP=10.1.0.66

echo "# port-restricted rst + UPnP-IGD/NAT-PMP/PCP (ha) x port-restricted rst (hb)"
start_all port-restricted rst port-restricted rst --upnp-a && {
	# every change to gwa's ruleset, as it happens
	lab_bg gwa nftmon nft monitor rules >/dev/null
	sleep 0.3
	st=$(ctl a '{"cmd":"status"}')
	echo "$st" | grep -q '"port_mapping": { "upnp": true' && ok "discovery on ha: gwa can map a port" ||
		nok "discovery on ha: $st"
	[ "$(dnat_rules)" -eq 0 ] && ok "no mapping in gwa before any session" || nok "gwa has mappings before any session"

	lx ha ip addr add "$ROGUE_IP/32" dev lo
	lab_bg ha rogue python3 -c "$ROGUE" "$LAB_HA" "$ROGUE_IP" "$LAB_STATE/rogue.hits" >/dev/null
	lab_wait_file "$LAB_STATE/rogue.hits" 5 || nok "rogue SSDP responder started in ha"

	mon_mark
	transfer b laptop "port-restricted -> port-restricted+UPnP, --method portmap" portmap portmap
	mapping_seen_and_gone "hb -> ha portmap"
	grep -Eq 'portmap: UPnP-IGD 11\.0\.1\.2:[0-9]+ -> port [0-9]+ mapped for 3600 s' "$LAB_STATE/stuntd-a.log" &&
		ok "ha mapped its port with UPnP-IGD, lease 3600 s" ||
		nok "ha's log does not show the UPnP-IGD mapping"
	grep -q 'portmap: removed the mapping of port' "$LAB_STATE/stuntd-a.log" &&
		ok "ha removed the mapping when the session ended" || nok "ha's log does not show the removal"

	n0=$(grep -c 'racing portmap, simopen' "$LAB_STATE/stuntd-a.log")
	mon_mark
	transfer b laptop "port-restricted -> port-restricted+UPnP, race" "" "portmap|simopen|stunt1"
	[ "$(grep -c 'racing portmap, simopen' "$LAB_STATE/stuntd-a.log")" -gt "$n0" ] &&
		ok "unforced, the race is portmap + simopen" ||
		nok "unforced race: $(grep 'racing' "$LAB_STATE/stuntd-a.log" | tail -1)"
	grep -Eq 'simopen \(connect, port [0-9]+ -> [0-9]+\): (cancelled|failed|connected)' "$LAB_STATE/stuntd-a.log" &&
		ok "simopen ran beside portmap and was cancelled or lost" ||
		nok "simopen did not run in the race"
	mapping_seen_and_gone "hb -> ha race"

	mon_mark
	transfer a office-pc "port-restricted+UPnP -> port-restricted, --method portmap (the requester maps)" portmap portmap
	mapping_seen_and_gone "ha -> hb portmap"

	n=$(grep -c '^answered' "$LAB_STATE/rogue.log")
	[ "$n" -ge 1 ] && ok "the rogue answered $n SSDP searches from $ROGUE_IP" ||
		nok "the rogue saw no SSDP search: $(tail -3 "$LAB_STATE/rogue.log")"
	check_eq "requests for the rogue's description" "$(cat "$LAB_STATE/rogue.hits")" 0
	grep -q "UPnP-IGD: SSDP answer from $ROGUE_IP ignored: not the gateway $LAB_GWA_LAN" "$LAB_STATE/stuntd-a.log" &&
		ok "stuntd logged the ignored answers (debug)" ||
		nok "no 'SSDP answer from $ROGUE_IP ignored' in stuntd-a.log"
	stop_all
}
[ "$fails" -eq 0 ]
