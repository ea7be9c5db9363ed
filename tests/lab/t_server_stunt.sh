#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stunt-server's STUNT half in the namespace lab (docs/protocol.md section 4):
# SYN capture reports the sequence number, IP id, options the client really
# sent and the TTL as received; a test SYN from the alternate address
# reaches the client's mapped endpoint through a full-cone NAT and not
# through a port-restricted one; PROBE-UNSOLICITED tells rst / icmp / drop
# as the NAT is configured (--syn-X); requests naming anyone else are
# refused and counted; the rate limits bite; TLS on --tls-port works with a
# self-signed certificate and a plain-text client there is refused.
#
#   lab 1: A full-cone + ICMP answer, B port-restricted + RST answer, TLS on
#   lab 2: A port-restricted, unsolicited SYNs dropped
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
SERVER=${STUNT_BUILD:-$here/../../build}/stunt-server
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

if [ ! -x "$SERVER" ]; then
	nok "stunt-server built ($SERVER)"
	exit 1
fi

# python3 -c "$PY" SRV1 SRV2 STEP...: one "ok - " / "not ok - " line per check
PY='
import os, select, socket, ssl, struct, sys, time
srv1, srv2, steps = sys.argv[1], sys.argv[2], sys.argv[3:]
COOKIE = 0x2112A442
CAPTURE, REPORT, SEND, PROBE = 0x0A0, 0x0A1, 0x0A2, 0x0A3
CAP_ID, TIMEOUT, PACKET, SYN_INFO, OPTS, TARGET, SOURCE, PPORT, PRESULT = range(0x5A00, 0x5A09)
XMAPPED, ERR = 0x0020, 0x0009
from stunwire import ok, mtype, attr, msg, attrs_of, plain_addr, xor_addr, addr_attr
from stunwire import error_code as code
import stunwire
class Conn(stunwire.Conn):
    def __init__(self, ip=None, port=3478, s=None):
        super().__init__(ip or srv1, port, s)
def packet(kind, flags, port=0, delay=0, ttl=0, seq=0, ack=0):
    return struct.pack("!BBHHBBII", kind, flags, port, delay, ttl, 0, seq, ack)
class Sniffer:
    "every IPv4 TCP packet on eth0, both directions"
    def __init__(self):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.s.bind(("eth0", 0))
    def wait(self, pred, t):
        end = time.time() + t
        while time.time() < end:
            r, _, _ = select.select([self.s], [], [], max(0, end - time.time()))
            if not r: break
            f = self.s.recv(65535)
            if f[12:14] != b"\x08\x00": continue
            ip = f[14:]
            ihl = (ip[0] & 15) * 4
            if ip[9] != 6: continue
            tcp = ip[ihl:]
            p = dict(src=socket.inet_ntoa(ip[12:16]), dst=socket.inet_ntoa(ip[16:20]), ttl=ip[8],
                     id=struct.unpack("!H", ip[4:6])[0], sport=struct.unpack("!H", tcp[0:2])[0],
                     dport=struct.unpack("!H", tcp[2:4])[0], seq=struct.unpack("!I", tcp[4:8])[0],
                     flags=tcp[13], opts=tcp[20:(tcp[12] >> 4) * 4])
            if pred(p): return p
        return None

def capture(c, label):
    t, cl, a = c.req(CAPTURE, [(TIMEOUT, struct.pack("!I", 3000))])
    if cl != 2: ok(False, label + ": CAPTURE accepted (got %s %d)" % (cl, code(a))); return None
    tip, tport = plain_addr(a[TARGET]); cid = a[CAP_ID]
    sn = Sniffer()
    s = socket.socket(); s.setblocking(False)
    s.connect_ex((tip, tport))
    lport = s.getsockname()[1]
    mine = sn.wait(lambda p: p["flags"] & 0x12 == 0x02 and p["dport"] == tport and p["sport"] == lport, 2)
    t, cl, a = c.recv()
    s.close()
    ok(cl == 1 and a.get(CAP_ID) == cid and SYN_INFO in a, label + ": SYN-REPORT indication for the capture")
    if not (mine and SYN_INFO in a): return None
    seq, ttl, ipf, ipid, win, tf, _, ms = struct.unpack("!IBBHHBBI", a[SYN_INFO])
    ok(seq == mine["seq"], label + ": captured seq = the SYN the client sent (%u, %u)" % (seq, mine["seq"]))
    ok(ttl == 62, label + ": TTL as received 62 (64 - gateway - inet) (%d)" % ttl)
    ok(ipid == mine["id"], label + ": IP id as sent (%d, %d)" % (ipid, mine["id"]))
    ok(a.get(OPTS) == mine["opts"] and tf == 0x02, label + ": raw TCP options as sent, flags SYN")
    return xor_addr(a[XMAPPED]), lport

def run(step):
    if step == "capture":
        c = Conn()
        r = capture(c, "capture")
        if r: ok(r[0][1] == r[1], "capture: mapped port = local port (port-preserving NAT) %s" % (r,))
        # a capture nobody triggers ends in 408
        t, cl, a = c.req(CAPTURE, [(TIMEOUT, struct.pack("!I", 300))])
        t, cl, a = c.recv()
        ok(cl == 1 and code(a) == 408, "capture: nothing sent: SYN-REPORT 408 after the timeout")
    elif step in ("send-arrives", "send-blocked"):
        c = Conn()
        lport = c.s.getsockname()[1]
        sn = Sniffer()
        t, cl, a = c.req(SEND, [(PACKET, packet(1, 0x04, 0, 200))])
        src = plain_addr(a[SOURCE]) if SOURCE in a else None
        ok(cl == 2 and src == (srv2, 3478), "SEND-PACKET accepted, from the alternate address %s" % (src,))
        p = sn.wait(lambda p: p["src"] == srv2 and p["flags"] & 0x12 == 0x02 and p["dport"] == lport, 2)
        if step == "send-arrives":
            ok(p is not None, "full-cone NAT: test SYN from %s reaches the mapped endpoint" % srv2)
        else:
            ok(p is None, "port-restricted NAT: test SYN from %s does not get through" % srv2)
    elif step.startswith("probe-"):
        want = {"rst": 1, "icmp": 2, "drop": 0}[step[6:]]
        c = Conn()
        t0 = time.time()
        t, cl, a = c.req(PROBE, [(PPORT, struct.pack("!HBB", 40000, 0x04, 0))])
        r = a.get(PRESULT, b"\xff" * 8)
        ok(cl == 2 and r[0] == want, "PROBE-UNSOLICITED: NAT answers %s (result %d, icmp %d/%d, %.1f s)" % (step[6:], r[0], r[1], r[2], time.time() - t0))
        ok(SOURCE in a and plain_addr(a[SOURCE])[0] == srv2, "PROBE-UNSOLICITED: probe came from the alternate address")
    elif step == "third-party":
        c = Conn()
        t, cl, a = c.req(SEND, [(PACKET, packet(1, 0x04)), (TARGET, addr_attr("198.51.100.10", 80))])
        ok(cl == 3 and code(a) == 403, "SEND-PACKET naming a third-party target refused (403)")
        t, cl, a = c.req(SEND, [(PACKET, packet(1, 0x04, 22))])
        ok(cl == 3 and code(a) == 403, "SEND-PACKET to a port of the client never seen refused (403)")
        t, cl, a = c.req(PROBE, [(PPORT, struct.pack("!HBB", 40000, 0, 0)), (TARGET, addr_attr("198.51.100.10", 40000))])
        ok(cl == 3 and code(a) == 403, "PROBE-UNSOLICITED naming a third-party target refused (403)")
        t, cl, a = c.req(CAPTURE, [(TARGET, addr_attr("198.51.100.10", 80))])
        ok(cl == 3 and code(a) == 403, "CAPTURE of a SYN to another host refused (403)")
        t, cl, a = c.req(SEND, [(PACKET, packet(1, 0x04, 0, 6000))])
        ok(cl == 3 and code(a) == 400, "SEND-PACKET with a delay over 5000 ms refused (400)")
    elif step == "rate":
        c = Conn()
        codes = []
        for i in range(16):
            t, cl, a = c.req(SEND, [(PACKET, packet(1, 0x04, 0, 0))])
            codes.append(code(a) if cl == 3 else 200)
        ok(codes.count(429) >= 4 and codes.count(200) >= 8, "SEND-PACKET: 16 at once, the burst passes, the rest 429 (%s)" % codes)
    elif step == "udp-rate":
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(0.5)
        for i in range(400): u.sendto(msg(1, []), (srv1, 3478))
        n = 0
        try:
            while True: u.recv(2048); n += 1
        except socket.timeout: pass
        ok(100 <= n < 200, "UDP: 400 requests at once from one source, %d answered (burst 100 + 50/s)" % n)
    elif step == "tls":
        ctx = ssl.create_default_context(cafile=os.environ["CERT"]); ctx.check_hostname = False
        s = ctx.wrap_socket(socket.create_connection((srv1, 5349), 3))
        c = Conn(s=s)
        t, cl, a = c.req(1, [])
        ok(cl == 2 and XMAPPED in a, "TLS (%s) on 5349 with a self-signed certificate: Binding answered" % s.version())
        t, cl, a = c.req(PROBE, [(PPORT, struct.pack("!HBB", 40001, 0x04, 0))])
        ok(cl == 2, "TLS: STUNT request answered over TLS")
        p = socket.create_connection((srv1, 5349), 3); p.settimeout(4)
        p.sendall(msg(1, []))
        try: d = p.recv(100)
        except OSError: d = b""
        ok(d == b"" or not d.startswith(b"\x01\x01"), "plain-text client on the TLS port: no STUN answer, closed")
        t, cl, a = Conn(srv1, 3478).req(1, [])
        ok(cl == 2, "plain TCP on 3478 still answered next to TLS")
for st in steps: run(st)
'

# py NODE STEP...
py() {
	local out
	out=$(CERT="$LAB_STATE/cert.pem" lx "$1" env CERT="$LAB_STATE/cert.pem" PYTHONPATH="$here" python3 -c "$PY" "$LAB_SRV1" "$LAB_SRV2" "${@:2}" 2>&1)
	echo "$out" | grep -E '^(not )?ok - '
	fails=$((fails + $(echo "$out" | grep -c '^not ok')))
	echo "$out" | grep -qE '^(not )?ok - ' || { echo "$out" | tail -5 | sed 's/^/# /'; nok "$1 $*: python client ran"; }
}

start_server() {
	SRV_PID=$(lab_bg srv stunt-server "$SERVER" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d -v \
		--stats --status-interval 0 "$@")
	lab_wait_port srv tcp "$LAB_SRV2" 3479 10
}

stats_json() {
	kill -USR1 "$SRV_PID"
	sleep 0.3
	grep '^{' "$LAB_STATE/stunt-server.log" | tail -1
}

stop_server() {
	if kill -0 "$SRV_PID" 2>/dev/null; then
		ok "stunt-server still running"
		kill -TERM "$SRV_PID"
	else
		nok "stunt-server still running: $(tail -5 "$LAB_STATE/stunt-server.log")"
	fi
}

echo "# lab 1: A full-cone/icmp, B port-restricted/rst, TLS"
lab_init srv
if lab_up --nat-a full-cone --syn-a icmp --nat-b port-restricted --syn-b rst; then
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=stunt-lab -days 1 \
		-keyout "$LAB_STATE/key.pem" -out "$LAB_STATE/cert.pem" >/dev/null 2>&1
	if start_server --tls-cert "$LAB_STATE/cert.pem" --tls-key "$LAB_STATE/key.pem" &&
		lab_wait_port srv tcp "$LAB_SRV1" 5349 5; then
		ok "stunt-server starts with STUNT and TLS"
		py ha capture send-arrives probe-icmp third-party tls
		py hb send-blocked probe-rst rate udp-rate
		js=$(stats_json)
		if python3 -c 'import json,sys; j=json.loads(sys.argv[1]); s=j["stunt"]; sys.exit(not (s["third_party"] >= 4 and s["rate_limited"] >= 4 and s["reports"] >= 1 and s["timeouts"] >= 1 and s["probe_icmp"] >= 1 and s["probe_rst"] >= 1 and j["udp"]["rate_limited"] >= 100 and j["tls"]["accepted"] >= 1 and j["tls"]["fail"] >= 1 and j["refused"] >= s["third_party"]))' "$js"; then
			ok "counters: third-party, rate-limited, reports, probes, UDP rate limit, TLS failures"
		else
			nok "counters: $js"
		fi
		if grep -q 'refused: third_party' "$LAB_STATE/stunt-server.log"; then
			ok "refusals logged at debug level"
		else
			nok "refusals logged at debug level"
		fi
		stop_server
	else
		nok "stunt-server starts with STUNT and TLS: $(tail -5 "$LAB_STATE/stunt-server.log")"
	fi
else
	nok "lab 1 builds"
fi
lab_down

echo "# lab 2: A port-restricted, unsolicited SYNs dropped; --user nobody"
lab_init srv
if lab_up --nat-a port-restricted --syn-a drop; then
	if start_server --user nobody; then
		ok "stunt-server starts and drops to user nobody"
		py ha probe-drop capture
		if grep -q 'running as nobody' "$LAB_STATE/stunt-server.log"; then
			ok "running as nobody after opening the raw socket and the capture"
		else
			nok "running as nobody: $(tail -3 "$LAB_STATE/stunt-server.log")"
		fi
		stop_server
	else
		nok "stunt-server starts with --user nobody: $(tail -5 "$LAB_STATE/stunt-server.log")"
	fi
else
	nok "lab 2 builds"
fi
lab_down
[ "$fails" -eq 0 ]
