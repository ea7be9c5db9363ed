#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stunt-server with one address (no --alternate), as on a one-address VPS,
# and --no-spoof, between two port-restricted cones (ha, hb):
#   - a Binding names no OTHER-ADDRESS; a CHANGE-REQUEST for another IP gets
#     420 naming CHANGE-REQUEST (RFC 5780 6), one for the other port is
#     answered from it;
#   - stunt-probe reports what two ports of one address measure (APDF
#     filtering, preserving allocation) and names the mapping as not
#     measurable, with why, in the JSON and the human report;
#   - two stuntds register and connect through both NATs (5 MB echoed); the
#     server refuses STUNT #1 (spoofed SYN-ACKs) and another method wins;
#   - a second one-address server with --external-ip names the configured
#     public address, not its own, in RESPONSE-ORIGIN.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
PROBE=$BUILD/stunt-probe
EXT=203.0.113.77	# the "public" address of the second server (only in its answers)

# jcheck LABEL FILE PYEXPR: PYEXPR on j (the JSON in FILE) is true
jcheck() {
	if python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not eval(sys.argv[2]))' "$2" "$3" 2>/dev/null; then
		ok "$1"
	else
		nok "$1: $3 on $(tr -d '\n' <"$2" | head -c 1500)"
	fi
}

SERVER_ONE_ADDR=1
SERVER_EXTRA=(--no-spoof)
start_all port-restricted rst port-restricted rst || exit 1

grep -q 'one address: no OTHER-ADDRESS' "$LAB_STATE/server.log" &&
	grep -q 'STUNT #1 off (--no-spoof)' "$LAB_STATE/server.log" &&
	ok "server log: one address, STUNT #1 off" || nok "server log: $(head -c 1500 "$LAB_STATE/server.log")"
lx srv ss -Hlun | grep -q "$LAB_SRV2" && nok "nothing bound to $LAB_SRV2" || ok "nothing bound to $LAB_SRV2"

# The one-address server's STUN answers (second server: --external-ip)
lab_bg srv server-ext "$SERVER" --primary "$LAB_SRV2" --port 5478 --alt-port 5479 \
	--external-ip "$EXT/$LAB_SRV2" --no-stunt -d >/dev/null
lab_wait_port srv udp "$LAB_SRV2" 5479 10 || nok "second server up"
lx ha env PYTHONPATH="$here" python3 - "$LAB_SRV1" "$LAB_SRV2" "$EXT" <<'PY'
import os, socket, struct, sys
from stunwire import ok, msg, attrs_of, error_code, plain_addr
srv, srv2, ext = sys.argv[1:4]
CHANGE_REQUEST, OTHER, ORIGIN, UNKNOWN = 0x0003, 0x802C, 0x802B, 0x000A
def ask(ip, port, change=None):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    m = msg(1, [(CHANGE_REQUEST, struct.pack("!I", change))] if change is not None else [])
    for _ in range(3):
        u.sendto(m, (ip, port))
        try:
            while True:
                d, frm = u.recvfrom(2048)
                if d[8:20] == m[8:20]:
                    return d, frm
        except socket.timeout:
            pass
    return None, None
d, frm = ask(srv, 3478)
a = attrs_of(d) if d else {}
ok(d is not None and d[:2] == b"\x01\x01" and OTHER not in a and plain_addr(a[ORIGIN]) == (srv, 3478),
   "Binding: success, RESPONSE-ORIGIN %s:3478, no OTHER-ADDRESS" % srv)
for flags, name in ((0x4, "change IP"), (0x6, "change IP and port")):
    d, frm = ask(srv, 3478, flags)
    a = attrs_of(d) if d else {}
    ok(d is not None and d[:2] == b"\x01\x11" and error_code(a) == 420 and
       a.get(UNKNOWN) == struct.pack("!H", CHANGE_REQUEST) and frm == (srv, 3478),
       "CHANGE-REQUEST %s: 420 Unknown Attribute naming CHANGE-REQUEST (RFC 5780 6)" % name)
# change port: sent from 3479; through a port-restricted cone it cannot
# arrive, so ask from inside the server's own network (pub has no NAT)
PY
lx pub env PYTHONPATH="$here" python3 - "$LAB_SRV1" "$LAB_SRV2" "$EXT" <<'PY'
import socket, struct, sys
from stunwire import ok, msg, attrs_of, plain_addr
srv, srv2, ext = sys.argv[1:4]
def ask(ip, port, change=None):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    m = msg(1, [(0x0003, struct.pack("!I", change))] if change is not None else [])
    for _ in range(3):
        u.sendto(m, (ip, port))
        try:
            d, frm = u.recvfrom(2048)
            if d[8:20] == m[8:20]:
                return d, frm
        except socket.timeout:
            pass
    return None, None
d, frm = ask(srv, 3478, 0x2)
a = attrs_of(d) if d else {}
ok(d is not None and d[:2] == b"\x01\x01" and frm == (srv, 3479) and plain_addr(a[0x802B]) == (srv, 3479),
   "CHANGE-REQUEST change port: answered from %s:3479 (no NAT in front)" % srv)
d, frm = ask(srv2, 5478)
a = attrs_of(d) if d else {}
ok(d is not None and plain_addr(a.get(0x802B, b"\0" * 8)) == (ext, 5478) and 0x802C not in a,
   "--external-ip %s/%s: RESPONSE-ORIGIN names %s:5478" % (ext, srv2, ext))
d, frm = ask(srv2, 5478, 0x2)
a = attrs_of(d) if d else {}
ok(d is not None and frm == (srv2, 5479) and plain_addr(a.get(0x802B, b"\0" * 8)) == (ext, 5479),
   "--external-ip: the change-port answer leaves %s:5479 and names %s:5479" % (srv2, ext))
PY

# stunt-probe against it from behind ha's port-restricted cone (EIM/APDF,
# preserving): filtering and allocation measured, mapping not
lx ha "$PROBE" --server "$LAB_SRV1" --json --no-portmap --timeout 8000 >"$LAB_STATE/p.json" 2>"$LAB_STATE/p.err"
jcheck "probe: server_one_address, mapping null and named not measurable (EIM or ADM)" "$LAB_STATE/p.json" \
	'j["server_one_address"] and j["udp"]["mapping"] is None and j["tcp"]["mapping"] is None and "EIM or ADM" in j["not_measurable"]["udp.mapping"] and "EIM or ADM" in j["not_measurable"]["tcp.mapping"]'
jcheck "probe: APDF filtering (UDP and TCP) and preserving allocation measured through the second port" "$LAB_STATE/p.json" \
	'j["udp"]["filtering"] == "APDF" and j["tcp"]["filtering"] == "APDF" and j["udp"]["allocation"] == "preserving" and j["tcp"]["allocation"] == "preserving" and "udp.filtering" not in j["not_measurable"]'
jcheck "probe: methods still include simopen" "$LAB_STATE/p.json" '"simopen" in j["methods"]'
lx ha "$PROBE" --server "$LAB_SRV1" --no-portmap --timeout 8000 >"$LAB_STATE/p.txt" 2>&1
grep -q '^Not measurable with this server: udp.mapping: the server has one address' "$LAB_STATE/p.txt" &&
	grep -q 'Mapping: the same public port for both ports of the server (EIM or ADM' "$LAB_STATE/p.txt" &&
	ok "probe human report: the mapping as far as measured, and why not further" ||
	nok "probe human report: $(cat "$LAB_STATE/p.txt")"

# two stuntds through it: STUNT #1 refused by the server, another method wins
transfer a office-pc "port-restricted x port-restricted via a one-address server" "" "simopen|synth"
grep -q 'STUNT #1 off' "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" &&
	ok "the server refused STUNT #1 with its reason (in a stuntd's log)" ||
	nok "no STUNT #1 refusal in the stuntd logs: $(grep -i stunt1 "$LAB_STATE/stuntd-a.log" | tail -5)"
stop_all
[ "$fails" -eq 0 ]
