#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stunt-server in the namespace lab: the classic NAT classifiers get the same
# verdicts from stunt-server as from their own reference servers, TCP Binding
# works, malformed input is survived and counted, rendezvous refuses unknown
# ids and wrong HMACs and relays between registered peers.
#
#   srv: stunt-server on 192.0.2.1/192.0.2.2 ports 3478/3479 (UDP and TCP),
#        stund (Vovida) on 3578/3579, coturn on 3488/3489.
#   ha/hb: behind one NAT each; two labs cover port-restricted, full-cone,
#        restricted-cone and sym-random.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/refservers.sh
. "$here/refservers.sh"
SERVER=${STUNT_BUILD:-$here/../../build}/stunt-server
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

if [ ! -x "$SERVER" ]; then
	nok "stunt-server built ($SERVER)"
	exit 1
fi

start_servers() {
	printf '# rendezvous peers of the lab\nlaptop s3cret-laptop\noffice-pc s3cret-office\n' \
		>"$LAB_STATE/secrets"
	lab_server_secrets "$LAB_STATE/secrets"
	SRV_PID=$(lab_bg srv stunt-server "$SERVER" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d \
		--stats --status-interval 5 --idle-timeout 2 --secrets "$LAB_STATE/secrets")
	ref_start_stund 3578 3579 && ref_start_coturn && lab_wait_port srv udp "$LAB_SRV2" 3479 10 &&
		lab_wait_port srv tcp "$LAB_SRV2" 3479 10
}

# classify X NAT: both classifiers against stunt-server and against their reference
classify() {
	local h=h$1 nat=$2 want ours ref
	case "$nat" in
	port-restricted) want="EIM APDF" ;;
	full-cone) want="EIM EIF" ;;
	restricted-cone) want="EIM ADF" ;;
	sym-random) want="APDM APDF" ;;
	esac
	ref=$(ref_vovida "$h" "$LAB_SRV1:3578" | cut -d" " -f1,2)
	ours=$(ref_vovida "$h" "$LAB_SRV1" | cut -d" " -f1,2)
	# Vovida names no filtering behind a symmetric NAT
	[ "${want% *}" = APDM ] && { ref=${ref% *}; ours=${ours% *}; want=${want% *}; }
	check_eq "$nat: Vovida stun against stunt-server = against stund ($ref)" "$ours" "$ref"
	check_eq "$nat: Vovida stun against stunt-server is right" "$ours" "$want"
	case "$nat" in sym-random) want="APDM APDF" ;; esac
	ref=$(ref_natdisc "$h" 3488)
	ours=$(ref_natdisc "$h" 3478)
	check_eq "$nat: turnutils_natdiscovery against stunt-server = against coturn ($ref)" "$ours" "$ref"
	check_eq "$nat: turnutils_natdiscovery against stunt-server is right" "$ours" "$want"
}

# One Python client for the TCP and malformed-input checks: prints one
# "ok - ..." / "not ok - ..." line per check.
PY_CLIENT='
import os, random, socket, struct, sys, time
srv1, srv2 = sys.argv[1], sys.argv[2]
COOKIE = 0x2112A442
from stunwire import ok, attrs_of, xor_addr
def req(attrs=b"", mtype=1):
    tx = os.urandom(12)
    return struct.pack("!HHI", mtype, len(attrs), COOKIE) + tx + attrs, tx
pending = {}
def recv_msg(s):
    buf = pending.pop(s, b"")
    while len(buf) < 20:
        d = s.recv(4096)
        if not d: return None
        buf += d
    need = 20 + struct.unpack("!H", buf[2:4])[0]
    while len(buf) < need:
        d = s.recv(4096)
        if not d: return None
        buf += d
    pending[s] = buf[need:]
    return buf[:need]
def udp_binding(ip, port, attrs=b""):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    m, tx = req(attrs)
    for _ in range(3):
        u.sendto(m, (ip, port))
        try:
            d, frm = u.recvfrom(4096)
            if d[8:20] == tx: return d, frm, u.getsockname()
        except socket.timeout:
            pass
    return None, None, None

# TCP Binding on every address and port, three pipelined requests at once
for ip in (srv1, srv2):
    for port in (3478, 3479):
        s = socket.create_connection((ip, port), 3)
        s.settimeout(3)
        msgs = [req() for _ in range(3)]
        s.sendall(b"".join(m for m, _ in msgs))
        good = 0
        for m, tx in msgs:
            r = recv_msg(s)
            if r and r[:2] == b"\x01\x01" and r[8:20] == tx:
                a = attrs_of(r)
                if 0x20 in a and xor_addr(a[0x20])[1] == s.getsockname()[1] and 0x802b in a:
                    good += 1
        ok(good == 3, "TCP Binding on %s:%d (3 pipelined requests)" % (ip, port))
        s.close()

# TCP: a request split into single bytes is reassembled
s = socket.create_connection((srv1, 3478), 3)
s.settimeout(3)
m, tx = req()
for b in m:
    s.send(bytes([b])); time.sleep(0.005)
r = recv_msg(s)
ok(r is not None and r[8:20] == tx, "TCP Binding sent one byte at a time")
# TCP: an unknown comprehension-required attribute gets 420
m, tx = req(struct.pack("!HHI", 0x7ff1, 4, 0))
s.sendall(m)
r = recv_msg(s)
ok(r is not None and r[:2] == b"\x01\x11" and 0x000a in attrs_of(r), "TCP 420 with UNKNOWN-ATTRIBUTES")
# TCP: CHANGE-REQUEST over TCP is a 400
m, tx = req(struct.pack("!HHI", 3, 4, 6))
s.sendall(m)
r = recv_msg(s)
ok(r is not None and r[:2] == b"\x01\x11", "TCP CHANGE-REQUEST answered 400")
s.close()

# TCP: garbage that is not STUN framing closes that connection only
s = socket.create_connection((srv1, 3478), 3)
s.settimeout(3)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
try: d = s.recv(100)
except OSError: d = b""
ok(d == b"", "TCP non-STUN bytes: connection closed")
s.close()
# TCP: a frame larger than the per-client buffer closes the connection
s = socket.create_connection((srv1, 3479), 3)
s.settimeout(3)
s.sendall(struct.pack("!HHI", 1, 60000, COOKIE) + os.urandom(12) + b"\0" * 3000)
try: d = s.recv(100)
except OSError: d = b""
ok(d == b"", "TCP oversized frame: connection closed")
s.close()
# TCP: many clients at once, each gets its answer
conns = []
for i in range(200):
    c = socket.create_connection((srv2, 3478 + i % 2), 3)
    c.settimeout(5)
    conns.append(c)
good = 0
for c in conns:
    m, tx = req(); c.sendall(m)
for c in conns:
    r = recv_msg(c)
    good += r is not None and r[:2] == b"\x01\x01"
ok(good == 200, "200 concurrent TCP clients answered (%d)" % good)
for c in conns: c.close()
# TCP: an idle client is closed by the server (--idle-timeout 2)
s = socket.create_connection((srv1, 3478), 3)
s.settimeout(6)
t0 = time.time()
try: d = s.recv(100)
except OSError: d = b""
ok(d == b"" and 1.5 <= time.time() - t0 < 5.5, "TCP idle client closed after ~2 s (%.1f s)" % (time.time() - t0))
s.close()

# UDP: random bytes, truncated messages, bad lengths, huge datagrams
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rnd = random.Random(7)
full, _ = req(struct.pack("!HHI", 3, 4, 6))
for i in range(3000):
    k = i % 4
    if k == 0: p = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 200)))
    elif k == 1: p = full[:rnd.randrange(0, len(full))]
    elif k == 2: p = bytearray(full); p[rnd.randrange(len(p))] ^= 1 << rnd.randrange(8); p = bytes(p)
    else: p = struct.pack("!HHI", 1, rnd.randrange(0, 65536) & ~3, COOKIE) + os.urandom(12) + os.urandom(rnd.randrange(0, 64))
    u.sendto(p, ((srv1, srv2)[i % 2], 3478 + (i // 2) % 2))
u.sendto(b"\0" * 65000, (srv1, 3478))
# TCP: random bytes on fresh connections
for i in range(50):
    c = socket.create_connection((srv1, 3478), 3)
    c.sendall(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 300))))
    c.close()
time.sleep(0.3)
d, frm, local = udp_binding(srv1, 3478)
ok(d is not None and d[:2] == b"\x01\x01", "UDP still answered after 3000 malformed datagrams and 50 garbage TCP clients")
s = socket.create_connection((srv2, 3479), 3)
s.settimeout(3)
m, tx = req(); s.sendall(m)
r = recv_msg(s)
ok(r is not None and r[8:20] == tx, "TCP still answered after the garbage")
s.close()
'

# Rendezvous over TCP (docs/protocol.md section 5): python3 rdv.py SRV STEP
PY_RDV='
import sys
srv, step = sys.argv[1], sys.argv[2]
from stunwire import ok, LOOKUP, RELAY, PEER_ID, DATA, msg
import stunwire
class Conn(stunwire.SigConn):
    def __init__(self):
        super().__init__(srv, 3478, timeout=3)
    def sq(self, method, attrs):
        self.sreq(method, attrs)
        t, c, a, raw, v = self.srecv()
        return t, c if v else "unsealed", a
if step == "main":
    x = Conn()
    ok(x.login(b"mallory", b"guess") == 403, "rendezvous: unknown id refused (403)")
    ok(x.login(b"laptop", b"s3cret-office") == 401, "rendezvous: wrong HMAC refused (401)")
    t, c, a = x.req(LOOKUP, [(PEER_ID, b"office-pc")])
    ok(c == 3 and x.code(a) == 401, "rendezvous: LOOKUP before authenticating refused (401)")
    la, of = Conn(), Conn()
    ok(la.login(b"laptop", b"s3cret-laptop") == 200, "rendezvous: laptop registers with its HMAC, the answer verifies with the session key")
    t, c, a = la.sq(RELAY, [(PEER_ID, b"office-pc"), (DATA, b"hello")])
    ok(c == 3 and la.code(a) == 404, "rendezvous: RELAY to an unregistered peer refused (404)")
    ok(of.login(b"office-pc", b"s3cret-office") == 200, "rendezvous: office-pc registers with its HMAC")
    t, c, a = la.sq(LOOKUP, [(PEER_ID, b"office-pc")])
    ok(c == 2 and a.get(PEER_ID) == b"office-pc" and 0x20 in a, "rendezvous: LOOKUP finds office-pc (sealed both ways)")
    t, c, a = la.sq(RELAY, [(PEER_ID, b"office-pc"), (DATA, b"won: simopen")])
    ok(c == 2, "rendezvous: RELAY accepted")
    t, c, a, raw, v = of.srecv()
    ok(c == 1 and v and a.get(PEER_ID) == b"laptop" and a.get(DATA) == b"won: simopen",
       "rendezvous: office-pc gets the RELAY indication from laptop, data intact, sealed with its own key")
    # the same connections still answer Binding requests (sealed too)
    t, c, a = of.sq(0x001, [])
    ok(c == 2 and 0x20 in a, "rendezvous connection still answers Binding")
    # once authenticated, an unsealed request is refused
    t, c, a = la.req(LOOKUP, [(PEER_ID, b"office-pc")])
    ok(c == 3 and la.code(a) == 401, "rendezvous: unsealed LOOKUP after authenticating refused (401)")
elif step == "late":
    ok(Conn().login(b"late-peer", b"s3cret-late") == 200, "rendezvous: id added to the secrets file registers after SIGHUP")
elif step == "early":
    ok(Conn().login(b"late-peer", b"s3cret-late") == 403, "rendezvous: id not yet in the secrets file refused")
'

# udp_checks NODE PUBLIC-IP [change]: RFC 5780 details seen by coturn's client
udp_checks() {
	local out
	out=$(lx "$1" timeout 10 turnutils_stunclient "$LAB_SRV1" 2>&1)
	if echo "$out" | grep -q "UDP reflexive addr: $2:"; then
		ok "turnutils_stunclient from $1 gets its public address $2"
	else
		nok "turnutils_stunclient from $1 gets its public address $2: $(echo "$out" | tail -3 | tr '\n' ' ')"
	fi
	[ -n "${3:-}" ] || return 0
	if echo "$out" | grep -q "Response origin: : $LAB_SRV2:3479" &&
		echo "$out" | grep -q "Other addr: : $LAB_SRV2:3479"; then
		ok "turnutils_stunclient: CHANGE-REQUEST answered from $LAB_SRV2:3479, OTHER-ADDRESS right"
	else
		nok "turnutils_stunclient: CHANGE-REQUEST answered from $LAB_SRV2:3479, OTHER-ADDRESS right"
	fi
}

# scenario NAT-A NAT-B [extra]: one lab, both sides measured at the same time
scenario() {
	local na=$1 nb=$2 extra=${3:-}
	echo "# lab: A=$na B=$nb"
	lab_init srv
	if ! lab_up --nat-a "$na" --nat-b "$nb"; then
		nok "$na/$nb: lab builds"
		lab_down
		return
	fi
	if ! start_servers; then
		nok "$na/$nb: stunt-server, stund and coturn start"
		cat "$LAB_STATE"/stunt-server.log >&2
		lab_down
		return
	fi
	ok "$na/$nb: stunt-server, stund and coturn start"
	classify a "$na" >"$LAB_STATE/a.out" 2>&1 &
	local pa=$!
	classify b "$nb" >"$LAB_STATE/b.out" 2>&1
	wait $pa
	cat "$LAB_STATE/a.out" "$LAB_STATE/b.out"
	fails=$((fails + $(cat "$LAB_STATE/a.out" "$LAB_STATE/b.out" | grep -c '^not ok')))
	if [ -n "$extra" ]; then
		udp_checks ha "$LAB_WANA"
		# its CHANGE-REQUEST + RESPONSE-PORT answer goes to a port that
		# has no NAT mapping: check that part from the host with no NAT
		udp_checks pub "$LAB_PUB" change
		local out
		out=$(lx ha env PYTHONPATH="$here" python3 -c "$PY_CLIENT" "$LAB_SRV1" "$LAB_SRV2" 2>&1)
		echo "$out" | grep -E '^(not )?ok - '
		fails=$((fails + $(echo "$out" | grep -c '^not ok')))
		echo "$out" | grep -q '^ok - UDP still answered' || echo "$out" | tail -5 | sed 's/^/# /'
		out=$(lx ha env PYTHONPATH="$here" python3 -c "$PY_RDV" "$LAB_SRV1" main 2>&1; lx ha env PYTHONPATH="$here" python3 -c "$PY_RDV" "$LAB_SRV1" early 2>&1)
		echo "$out" | grep -E '^(not )?ok - '
		fails=$((fails + $(echo "$out" | grep -c '^not ok')))
		echo "$out" | grep -q '^ok - rendezvous: id not yet' || echo "$out" | tail -5 | sed 's/^/# /'
		echo "late-peer s3cret-late" >>"$LAB_STATE/secrets"
		kill -HUP "$SRV_PID"
		sleep 0.3
		out=$(lx ha env PYTHONPATH="$here" python3 -c "$PY_RDV" "$LAB_SRV1" late 2>&1)
		echo "$out" | grep -E '^(not )?ok - ' || { echo "$out" | tail -3 | sed 's/^/# /'; nok "rendezvous after SIGHUP"; }
		fails=$((fails + $(echo "$out" | grep -c '^not ok')))
		# counters: SIGUSR1 prints them as JSON; the garbage shows up there
		kill -USR1 "$SRV_PID"
		sleep 0.3
		local js
		js=$(grep '^{' "$LAB_STATE/stunt-server.log" | tail -1)
		if python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(not (j["udp"]["drop_malformed"] >= 1000 and j["tcp"]["bad_frame"] >= 2 and j["tcp"]["idle"] >= 1 and j["refused"] > 0 and j["rdv"]["unknown_id"] >= 2 and j["rdv"]["auth_fail"] >= 2 and j["rdv"]["fwd"] == 1))' "$js" 2>/dev/null; then
			ok "--stats JSON on SIGUSR1 counts the malformed and refused input"
		else
			nok "--stats JSON on SIGUSR1 counts the malformed and refused input: $js"
		fi
		if grep -q 'status: refused' "$LAB_STATE/stunt-server.log"; then
			ok "periodic status line in the log"
		else
			nok "periodic status line in the log"
		fi
	fi
	if kill -0 "$SRV_PID" 2>/dev/null; then
		ok "$na/$nb: stunt-server still running"
		kill -TERM "$SRV_PID"
		local i
		for i in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$SRV_PID" 2>/dev/null; then
			nok "stunt-server exits on SIGTERM"
		elif grep -q 'exiting on signal' "$LAB_STATE/stunt-server.log"; then
			ok "stunt-server exits cleanly on SIGTERM"
		else
			nok "stunt-server exits cleanly on SIGTERM: $(tail -3 "$LAB_STATE/stunt-server.log")"
		fi
	else
		nok "$na/$nb: stunt-server still running: $(tail -5 "$LAB_STATE/stunt-server.log")"
	fi
	lab_down
}

scenario port-restricted full-cone extra
scenario restricted-cone sym-random
[ "$fails" -eq 0 ]
