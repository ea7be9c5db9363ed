#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stunt-server over IPv6 beside IPv4 (issue 17): --primary6/--alternate6
# bind UDP and TCP on both IPv6 addresses and both ports, on the same loop
# as the IPv4 sockets. An independent client (Python below, decoding the
# IPv6 XOR-MAPPED-ADDRESS itself per RFC 8489 14.2, and coturn's
# turnutils_stunclient) checks what the answers say.
#
# Namespaces: c (2001:db8:1::10, 10.61.1.10) -- r (router, both families)
# -- srv (2001:db8:2::5 and ::6, 10.61.2.5 and .6).
#
#   1. UDP Binding over IPv6: XOR-MAPPED-ADDRESS and MAPPED-ADDRESS are the
#      client's IPv6 address and port, RESPONSE-ORIGIN the primary IPv6
#      socket, OTHER-ADDRESS the alternate IPv6 address at the other port;
#   2. CHANGE-REQUEST change IP (and IP + port) answered from the alternate
#      IPv6 address (and port), as RESPONSE-ORIGIN says too;
#   3. TCP Binding over IPv6 on the primary and on the alternate address;
#   4. IPv4 UDP and TCP at the same time, answered in IPv4;
#   4b. rendezvous: a peer registered over IPv6 TCP and one over IPv4 find
#      each other and relay; STUNT CAPTURE over IPv6 is refused (500);
#   4c. PROBE-UNSOLICITED over IPv6: the test SYN goes to the client's own
#      IPv6 address from the IPv6 address and port the change flags name;
#      a listener answers SYN-ACK, a closed port RST, an ip6 firewall that
#      rejects ICMPv6 administratively prohibited, one that drops nothing;
#   5. turnutils_stunclient sees the client's IPv6 address;
#   6. one IPv6 address (primary6 from a config file, bracketed): no
#      OTHER-ADDRESS, change IP refused with 420, change port honoured;
#   7. wrong combinations refused at start.
# Never touches the root namespace.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$HERE/lab.sh"
SERVER=$LAB_BUILD/stunt-server
# shellcheck source=tests/lab/tap.sh
. "$HERE/tap.sh"

C6=2001:db8:1::10
C4=10.61.1.10
P6=2001:db8:2::5
A6=2001:db8:2::6
P4=10.61.2.5
A4=10.61.2.6

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - t_server6 needs root (network namespaces)"
	exit 1
fi
[ -x "$SERVER" ] || { echo "not ok - $SERVER missing (make)"; exit 1; }

# client udp|tcp HOST PORT [CHANGE [classic]]: one Binding request by hand
# (RFC 3489 style without the magic cookie if classic). Prints:
#   udp|tcp SRC_OF_ANSWER CODE XMAPPED MAPPED ORIGIN OTHER LOCAL
# (addresses as [ip]:port or ip:port, "-" where absent; LOCAL is the
# client socket's own address, what the mapped ones must equal).
client() {
	lx c env LOCAL4=$C4 LOCAL6=$C6 python3 - "$@" <<'EOF'
import os, socket, struct, sys

COOKIE = 0x2112A442

def fmt(fam, ip, port):
    return "[%s]:%d" % (ip, port) if fam == socket.AF_INET6 else "%s:%d" % (ip, port)

def addr(v, key=None):
    """MAPPED-ADDRESS and kin; XOR with key (cookie || txid) when given."""
    fam, port = v[1], struct.unpack("!H", v[2:4])[0]
    raw = v[4:]
    if key is not None:
        port ^= COOKIE >> 16
        raw = bytes(a ^ b for a, b in zip(raw, key))
    if fam == 1 and len(raw) == 4:
        return fmt(socket.AF_INET, socket.inet_ntop(socket.AF_INET, raw), port)
    if fam == 2 and len(raw) == 16:
        return fmt(socket.AF_INET6, socket.inet_ntop(socket.AF_INET6, raw), port)
    return "bad"

def request(change, classic):
    txid = os.urandom(12)
    body = b""
    if change:
        body = struct.pack("!HHI", 0x0003, 4, change)
    # RFC 3489: no magic cookie, a 16-byte transaction id
    cookie = struct.unpack("!I", os.urandom(4))[0] | 1 if classic else COOKIE
    return struct.pack("!HHI", 0x0001, len(body), cookie) + txid + body, m_id(cookie, txid)

def m_id(cookie, txid):
    return struct.pack("!I", cookie) + txid

def decode(m, mid):
    t, n = struct.unpack("!HH", m[:4])
    if m[4:20] != mid:
        return "wrongtxid", {}
    key = mid
    attrs, off = {}, 20
    while off + 4 <= 20 + n:
        at, al = struct.unpack("!HH", m[off:off + 4])
        attrs.setdefault(at, m[off + 4:off + 4 + al])
        off += 4 + ((al + 3) & ~3)
    code = "200" if t == 0x0101 else "%d" % (attrs[9][2] * 100 + attrs[9][3]) if 9 in attrs else "?"
    # RFC 3489's SOURCE-ADDRESS and CHANGED-ADDRESS in the places of
    # RESPONSE-ORIGIN and OTHER-ADDRESS
    origin = attrs.get(0x802B, attrs.get(0x0004))
    other = attrs.get(0x802C, attrs.get(0x0005))
    out = [code,
           addr(attrs[0x20], key) if 0x20 in attrs else "-",
           addr(attrs[0x01]) if 0x01 in attrs else "-",
           addr(origin) if origin else "-",
           addr(other) if other else "-"]
    return " ".join(out), attrs

proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
change = int(sys.argv[4]) if len(sys.argv) > 4 else 0
classic = len(sys.argv) > 5 and sys.argv[5] == "classic"
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
local_ip = os.environ["LOCAL6" if fam == socket.AF_INET6 else "LOCAL4"]
req, txid = request(change, classic)
if proto == "udp":
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.bind((local_ip, 0))
    s.sendto(req, (host, port))
    try:
        m, src = s.recvfrom(2048)
    except socket.timeout:
        print("udp - timeout")
        sys.exit(0)
else:
    s = socket.create_connection((host, port), timeout=3, source_address=(local_ip, 0))
    s.sendall(req)
    m = b""
    while len(m) < 20 or len(m) < 20 + struct.unpack("!H", m[2:4])[0]:
        d = s.recv(2048)
        if not d:
            break
        m += d
    src = s.getpeername()
local = s.getsockname()
line, _ = decode(m, txid)
print(proto, fmt(fam, src[0], src[1]), line, fmt(fam, local[0], local[1]))
EOF
}

# field N of a client line (1 proto, 2 source of the answer, 3 code,
# 4 XOR-MAPPED, 5 MAPPED, 6 RESPONSE-ORIGIN, 7 OTHER-ADDRESS, 8 local)
f() { echo "$1" | cut -d' ' -f"$2"; }

lab_init srvsix
W=$LAB_STATE
lab_dual6 || { echo "not ok - namespace setup (lab_dual6)"; exit 1; }

printf 'laptop s3cret-laptop\noffice-pc s3cret-office\n' >"$W/secrets"
lab_server_secrets "$W/secrets"
SRV_PID=$(lab_bg srv server "$SERVER" --secrets "$W/secrets" --primary $P4 --alternate $A4 --primary6 $P6 --alternate6 "[$A6]" \
	-d -v --stats)
for a in $P6 $A6; do
	for p in 3478 3479; do
		lab_wait_port srv udp "\[$a\]" $p 10 && lab_wait_port srv tcp "\[$a\]" $p 10 ||
			{ nok "server listens on [$a]:$p"; exit 1; }
	done
done
lab_wait_port srv tcp $A4 3479 10 || { nok "server listens on $A4:3479"; exit 1; }
ok "stunt-server listens on UDP and TCP on both IPv6 and both IPv4 addresses, both ports"
check_cmd "the log names the IPv6 addresses" grep -q "IPv6: \[$P6\]:3478, \[$A6\]:3478" "$W/server.log"

# ------------------------------------------------------------ 1. UDP over IPv6
l=$(client udp $P6 3478)
echo "# $l"
check_eq "UDP/IPv6: Binding success from the primary IPv6 socket" "$(f "$l" 3) $(f "$l" 2)" "200 [$P6]:3478"
check_eq "UDP/IPv6: XOR-MAPPED-ADDRESS is the client's IPv6 address and port" "$(f "$l" 4)" "$(f "$l" 8)"
check_eq "UDP/IPv6: ... whose address is c's" "$(f "$l" 4 | sed 's/\]:.*/]/')" "[$C6]"
check_eq "UDP/IPv6: no MAPPED-ADDRESS while it would make the answer larger than the request" \
	"$(f "$l" 5)" -
check_eq "UDP/IPv6: RESPONSE-ORIGIN the primary IPv6 socket" "$(f "$l" 6)" "[$P6]:3478"
check_eq "UDP/IPv6: OTHER-ADDRESS the alternate IPv6 address at the other port" "$(f "$l" 7)" "[$A6]:3479"

l=$(client udp $P6 3478 0 classic)
echo "# $l"
check_eq "UDP/IPv6 classic (RFC 3489) request: MAPPED-ADDRESS the client's, no XOR form" \
	"$(f "$l" 3) $(f "$l" 4) $(f "$l" 5)" "200 - $(f "$l" 8)"
check_eq "UDP/IPv6 classic: SOURCE-ADDRESS and CHANGED-ADDRESS in IPv6" "$(f "$l" 6) $(f "$l" 7)" \
	"[$P6]:3478 [$A6]:3479"

# ------------------------------------------------------------ 2. CHANGE-REQUEST over IPv6
l=$(client udp $P6 3478 4)
echo "# $l"
check_eq "UDP/IPv6 change IP: answered from the alternate IPv6 address" "$(f "$l" 3) $(f "$l" 2)" "200 [$A6]:3478"
check_eq "UDP/IPv6 change IP: RESPONSE-ORIGIN says so" "$(f "$l" 6)" "[$A6]:3478"
check_eq "UDP/IPv6 change IP: XOR-MAPPED-ADDRESS still the client's" "$(f "$l" 4)" "$(f "$l" 8)"
l=$(client udp $P6 3478 6)
echo "# $l"
check_eq "UDP/IPv6 change IP and port: answered from the alternate address's other port" \
	"$(f "$l" 3) $(f "$l" 2) $(f "$l" 6)" "200 [$A6]:3479 [$A6]:3479"
l=$(client udp $A6 3479 2)
echo "# $l"
check_eq "UDP/IPv6 to the alternate, change port: from its first port, OTHER-ADDRESS the primary" \
	"$(f "$l" 3) $(f "$l" 2) $(f "$l" 7)" "200 [$A6]:3478 [$P6]:3478"

# ------------------------------------------------------------ 3. TCP over IPv6
l=$(client tcp $P6 3478)
echo "# $l"
check_eq "TCP/IPv6: Binding success" "$(f "$l" 3)" 200
check_eq "TCP/IPv6: XOR-MAPPED-ADDRESS is the client's IPv6 address and port" "$(f "$l" 4)" "$(f "$l" 8)"
check_eq "TCP/IPv6: MAPPED-ADDRESS the same" "$(f "$l" 5)" "$(f "$l" 8)"
check_eq "TCP/IPv6: RESPONSE-ORIGIN and OTHER-ADDRESS" "$(f "$l" 6) $(f "$l" 7)" "[$P6]:3478 [$A6]:3479"
l=$(client tcp $A6 3479)
echo "# $l"
check_eq "TCP/IPv6 on the alternate's alt-port: mapped, origin, other" \
	"$(f "$l" 3) $(f "$l" 4) $(f "$l" 6) $(f "$l" 7)" "200 $(f "$l" 8) [$A6]:3479 [$P6]:3478"
l=$(client tcp $P6 3478 4)
check_eq "TCP/IPv6 CHANGE-REQUEST refused as over IPv4 TCP (400)" "$(f "$l" 3)" 400

# ------------------------------------------------------------ 4. IPv4 at the same time
l=$(client udp $P4 3478 4)
echo "# $l"
check_eq "UDP/IPv4 change IP: from the alternate IPv4 address, all addresses IPv4" \
	"$(f "$l" 3) $(f "$l" 2) $(f "$l" 4) $(f "$l" 6) $(f "$l" 7)" \
	"200 $A4:3478 $(f "$l" 8) $A4:3478 $A4:3479"
check_eq "UDP/IPv4: ... whose address is c's" "$(f "$l" 4 | cut -d: -f1)" "$C4"
l=$(client tcp $P4 3479)
echo "# $l"
check_eq "TCP/IPv4: mapped, origin, other in IPv4" "$(f "$l" 3) $(f "$l" 4) $(f "$l" 6) $(f "$l" 7)" \
	"200 $(f "$l" 8) $P4:3479 $A4:3478"

# ------------------------------------------------------------ 4b. rendezvous across the families
# laptop registers over IPv6, office-pc over IPv4, on the same server: each
# finds the other at its own family's address, RELAY crosses the families.
lx c env PYTHONPATH="$HERE" python3 - "$P6" "$P4" "$C6" "$C4" <<'EOF'
import socket, struct, sys
import stunwire
from stunwire import ok, LOOKUP, RELAY, PEER_ID, DATA
p6, p4, c6, c4 = sys.argv[1:5]
XMA = 0x20

def xma(raw):
    """The XOR-MAPPED-ADDRESS of a whole message, either family."""
    off = 20
    while off + 4 <= len(raw):
        t, n = struct.unpack("!HH", raw[off:off + 4])
        if t == XMA:
            v, key = raw[off + 4:off + 4 + n], raw[4:20]
            port = struct.unpack("!H", v[2:4])[0] ^ 0x2112
            ip = bytes(a ^ b for a, b in zip(v[4:], key))
            fam = socket.AF_INET6 if v[1] == 2 else socket.AF_INET
            return socket.inet_ntop(fam, ip), port
        off += 4 + ((n + 3) & ~3)
    return None

class Conn(stunwire.SigConn):
    def sq(self, method, attrs):
        self.sreq(method, attrs)
        t, c, a, raw, v = self.srecv()
        return c if v else "unsealed", a, raw

la, of = Conn(p6, 3478, timeout=3), Conn(p4, 3478, timeout=3)
ok(la.s.family == socket.AF_INET6 and la.login(b"laptop", b"s3cret-laptop") == 200,
   "rendezvous over IPv6 TCP: laptop registers with its HMAC")
ok(of.login(b"office-pc", b"s3cret-office") == 200, "rendezvous over IPv4 TCP: office-pc registers")
c, a, raw = of.sq(LOOKUP, [(PEER_ID, b"laptop")])
ok(c == 2 and xma(raw) == (c6, la.s.getsockname()[1]),
   "rendezvous: office-pc's LOOKUP finds laptop at its IPv6 address and port (%s)" % (xma(raw),))
c, a, raw = la.sq(LOOKUP, [(PEER_ID, b"office-pc")])
ok(c == 2 and xma(raw) == (c4, of.s.getsockname()[1]),
   "rendezvous: laptop's LOOKUP over IPv6 finds office-pc at its IPv4 address (%s)" % (xma(raw),))
c, a, raw = la.sq(RELAY, [(PEER_ID, b"office-pc"), (DATA, b"over six")])
t, c2, a2, raw2, v = of.srecv()
ok(c == 2 and c2 == 1 and v and a2.get(DATA) == b"over six",
   "rendezvous: RELAY from the IPv6 peer reaches the IPv4 peer, sealed")
# CAPTURE stays IPv4 (PROBE-UNSOLICITED is 4c): over IPv6 it is refused as
# unavailable (500), the same bare request over IPv4 reaches STUNT's own checks
CAPTURE = 0x0A0
t, c6, a = stunwire.Conn(p6, 3478).req(CAPTURE, [])
e6 = stunwire.error_code(a)
t, c4, a = stunwire.Conn(p4, 3478).req(CAPTURE, [])
ok(c6 == 3 and e6 == 500 and c4 in (2, 3) and stunwire.error_code(a) != 500,
   "STUNT CAPTURE over IPv6 answered 500 (unavailable), over IPv4 not (class %s %d, class %s %d)"
   % (c6, e6, c4, stunwire.error_code(a)))
EOF

# one loop answered both families: the counters hold the 6 UDP requests
# above, 4 of them answered from another socket (3 IPv6, 1 IPv4)
kill -USR1 "$SRV_PID"
check_cmd "the server's counters: 6 UDP requests of both families answered, 4 from a changed socket" \
	lab_wait_log "$W/server.log" '"udp":\{"rx":6,"tx":6,"tx_err":0,"changed":4,' 5
grep -o '"udp":{[^}]*' "$W/server.log" | tail -1 | cut -c1-80 | sed 's/^/# /'

# ------------------------------------------------------------ 4c. PROBE-UNSOLICITED over IPv6
# unsol FLAGS LISTEN [PORT]: from c over IPv6 TCP to [P6]:PORT (3478), PROBE-UNSOLICITED
# for a port of c's (LISTEN 1: a listener there, else nothing); prints
# "RESULT ICMP_TYPE ICMP_CODE [SOURCE]:PORT" or "error CODE" / "timeout"
unsol() {
	lx c env PYTHONPATH="$HERE" python3 - "$P6" "$1" "$2" "${3:-3478}" <<'EOF'
import socket, struct, sys
import stunwire
host, flags, listen, sport = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4])
l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
l.bind(("::", 0))
if listen:
    l.listen(4)
port = l.getsockname()[1]
c = stunwire.Conn(host, sport, timeout=5)
try:
    t, cls, a = c.req(0x0A3, [(0x5A07, struct.pack("!HBB", port, flags, 0)),
                              (0x5A01, struct.pack("!I", 800))])
except socket.timeout:
    print("timeout")
    sys.exit(0)
if cls != 2:
    print("error", stunwire.error_code(a))
    sys.exit(0)
r, src = a.get(0x5A08), a.get(0x5A06)
sip = socket.inet_ntop(socket.AF_INET6, src[4:20]) if src and src[1] == 2 else "?"
print(r[0], r[1], r[2], "[%s]:%d" % (sip, struct.unpack("!H", src[2:4])[0]))
EOF
}
l=$(unsol 6 1)
echo "# listener, change IP + port: $l"
check_eq "PROBE over IPv6, change IP + port: the listener's SYN-ACK (3) from [$A6]:3479" "$l" "3 0 0 [$A6]:3479"
l=$(unsol 2 1)
check_eq "PROBE over IPv6, change port: SYN-ACK from [$P6]:3479" "$l" "3 0 0 [$P6]:3479"
l=$(unsol 0 0)
check_eq "PROBE over IPv6 to a closed port: the client's RST (1)" "$l" "1 0 0 [$P6]:3478"
lab_fw6 r rs "meta l4proto tcp reject with icmpv6 admin-prohibited" || nok "rejecting firewall rules load"
l=$(unsol 6 1)
check_eq "PROBE over IPv6 through a rejecting firewall: ICMPv6 (2) type 1 code 1" "$l" "2 1 1 [$A6]:3479"
lab_fw6_del r
lab_fw6 r rs drop || nok "dropping firewall rules load"
l=$(unsol 6 1)
check_eq "PROBE over IPv6 through a dropping firewall: nothing (0) within the timeout" "$l" "0 0 0 [$A6]:3479"
lab_fw6_del r
kill -USR1 "$SRV_PID"
check_cmd "the server's counters: 5 test SYNs sent over IPv6, none failed" \
	lab_wait_log "$W/server.log" '"sent":5,"send_err":0' 5
# a capture that cannot see the IPv6 addresses (on lo): 500 over IPv6, not
# every answer read as dropped
LO_PID=$(lab_bg srv lo "$SERVER" --primary $P4 --alternate $A4 --primary6 $P6 --alternate6 $A6 \
	--port 3490 --alt-port 3491 --capture-if lo -d)
lab_wait_port srv tcp "\[$P6\]" 3490 10 || nok "the --capture-if lo server listens on [$P6]:3490"
check_eq "capture on lo: PROBE over IPv6 refused (500)" "$(unsol 6 1 3490)" "error 500"
check_cmd "capture on lo: the server said why at start" \
	grep -q "STUNT over IPv6 unavailable: the IPv6 addresses are not on lo" "$W/lo.log"
kill "$LO_PID"
lab_wait_for 10 sh -c "! kill -0 $LO_PID 2>/dev/null"

# ------------------------------------------------------------ 5. coturn's client
out=$(lx c timeout 10 turnutils_stunclient -p 3478 $P6 2>&1)
echo "$out" | sed 's/^/# /' | head -8
check_cmd "turnutils_stunclient over IPv6: the server names the client's $C6" \
	grep -qiE "(addr|address).*$C6" <<<"$out"

kill "$SRV_PID"
lab_wait_for 10 sh -c "! kill -0 $SRV_PID 2>/dev/null"

# ------------------------------------------------------------ 6. one IPv6 address, from a config file
printf 'primary %s\nprimary6 [%s]\n' $P4 $P6 >"$W/one.conf"
chmod 644 "$W/one.conf"
lab_bg srv one "$SERVER" --config "$W/one.conf" -d >/dev/null
lab_wait_port srv udp "\[$P6\]" 3479 10 || nok "one-address server listens on [$P6]:3479"
check_cmd "one IPv6 address: nothing bound on $A6" \
	sh -c "! ip netns exec $LAB-srv ss -Hlun | grep -q '\[$A6\]'"
l=$(client udp $P6 3478)
echo "# $l"
check_eq "one IPv6 address: Binding success, no OTHER-ADDRESS" "$(f "$l" 3) $(f "$l" 4) $(f "$l" 7)" \
	"200 $(f "$l" 8) -"
l=$(client udp $P6 3478 4)
check_eq "one IPv6 address: change IP answered 420 (RFC 5780 6)" "$(f "$l" 3)" 420
l=$(client udp $P6 3478 2)
check_eq "one IPv6 address: change port from the second port" "$(f "$l" 3) $(f "$l" 2)" "200 [$P6]:3479"

# ------------------------------------------------------------ 7. refused combinations
bad() {
	local want=$1 out rc
	shift
	out=$(lx srv "$SERVER" -d "$@" 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && grep -qF -- "$want" <<<"$out"; then
		ok "refused: $* ($(echo "$out" | head -1))"
	else
		nok "refused: $* (exit $rc, want 2 and '$want': $(echo "$out" | head -1))"
	fi
}
bad "--alternate6 needs --primary6" --primary $P4 --alternate6 $A6
bad "--primary6 needs an IPv4 --primary" --primary $P6 --primary6 $A6
bad "--primary6 and --alternate6 must differ" --primary $P4 --primary6 $P6 --alternate6 "[$P6]"
bad "bad IPv6 address" --primary $P4 --primary6 "[$P6]:3478"
bad "bad IPv6 address" --primary $P4 --primary6 $P4

lab_down
check_cmd "no lab namespaces left behind" test -z "$(ip netns list | grep "^$LAB-")"
[ "$fails" -eq 0 ]
