#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Attacks on stunt's signalling and servers, each refused, logged, counted,
# and nothing else disturbed (docs/security.md). One lab: stunt-server in
# srv, stuntd "laptop" (ha, full-cone) and "office-pc" (hb,
# port-restricted), an attacker in pub (a public host) who knows the
# "stranger" id's secret -- a registered but untrusted peer -- but not the
# others'.
#
#   wrong secret              AUTHENTICATE 401, rdv.auth_fail, logged
#   replayed message          a real stuntd message captured on the wire and
#                             resent on another connection: refused
#                             (sec.bad_mac: another session key); a sealed
#                             message resent verbatim on its own connection:
#                             401 "Replayed message" (sec.replay)
#   tampered message          one byte flipped: 401 (sec.bad_mac)
#   unsealed message          after AUTHENTICATE: 401 (sec.missing)
#   unauthorized service      stranger's EXCHANGE for office-pc/echo and
#                             laptop's connect to office-pc/secret: refused
#                             by office-pc's allow list, logged,
#                             security.peers_refused in its status
#   log escaping              stranger answers laptop's connect with an
#                             error text holding a newline, a forged log
#                             line and terminal escapes: laptop's log and
#                             the connect answer show them as \xNN
#   UDP amplification         every unauthenticated request kind measured
#                             on the wire: response <= max(request, the
#                             RFC-required minimum)
# and afterwards both daemons are still registered, never refused a
# message of the real server, and laptop still reaches office-pc.
# Covered elsewhere: wrong certificate / pin / name (t_stuntd_tls.sh),
# spoofed-source STUNT test SYN toward a third party and the STUNT and UDP
# rate limits (t_server_stunt.sh: third-party, rate, udp-rate).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

SERVER_EXTRA=(--stats --status-interval 0 -v)

stats_json() {
	kill -USR1 "$SRV_PID"
	sleep 0.3
	grep '^{' "$LAB_STATE/server.log" | tail -1
}

# jcheck LABEL JSON PYEXPR: PYEXPR over j (the parsed JSON) must be true
jcheck() {
	if python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(not eval(sys.argv[2]))' "$2" "$3" 2>/dev/null; then
		ok "$1"
	else
		nok "$1: $3 on $2"
	fi
}

# logged LABEL FILE REGEX
logged() {
	if grep -Eq "$3" "$2"; then
		ok "$1: logged ($(grep -Eo "$3" "$2" | head -1 | cut -c1-120))"
	else
		nok "$1: logged /$3/ in $(basename "$2")"
		tail -5 "$2" | sed 's/^/# /'
	fi
}

# The attacker: python3 -c "$PY" SRV STEP [ARGS]
PY='
import socket, struct, sys
from stunwire import ok, msg, attrs_of, error_code, SigConn, LOOKUP, EXCHANGE, RELAY, PEER_ID, DATA, MI_SHA256
srv, step = sys.argv[1], sys.argv[2]
SESSION_ID, SERVICE, METHODS = 0x5A18, 0x5A19, 0x5A1A
def conn():
    return SigConn(srv, 3478, timeout=4)
def answer(c):
    t, cl, a, raw, v = c.srecv()
    return cl, error_code(a), a, v
if step == "secret":
    c = conn()
    ok(c.login(b"office-pc", b"not-the-secret") == 401, "wrong secret: AUTHENTICATE refused (401)")
    ok(c.login(b"nobody", b"x") == 403, "unknown id: REGISTER refused (403)")
elif step == "replay-wire":
    # frames of a real stuntd captured on the wire (plain TCP signalling)
    data = open(sys.argv[3], "rb").read()
    frames, off = [], 0
    while off + 20 <= len(data):
        n = 20 + struct.unpack("!H", data[off + 2:off + 4])[0]
        frames.append(data[off:off + n]); off += n
    sealed = [f for f in frames if MI_SHA256 in attrs_of(f)]
    ok(len(sealed) > 0, "capture: %d of %d frames stuntd sent are sealed" % (len(sealed), len(frames)))
    if sealed:
        f = sealed[-1]
        c = conn()
        c.send_raw(f)
        cl, code, a, v = answer(c)
        ok(cl == 3 and code == 401, "captured message replayed on an unauthenticated connection: 401 (%d)" % code)
        c = conn()
        ok(c.login(b"stranger", b"s3cret-stranger") == 200, "stranger logs in")
        c.send_raw(f)
        cl, code, a, v = answer(c)
        ok(cl == 3 and code == 401 and a.get(0x0009, b"")[4:].startswith(b"Integrity check"),
           "captured message replayed on an authenticated connection: 401 integrity check failed")
elif step == "own":
    c = conn()
    ok(c.login(b"stranger", b"s3cret-stranger") == 200, "stranger logs in, the answer verifies with the session key")
    c.sreq(LOOKUP, [(PEER_ID, b"office-pc")])
    cl, code, a, v = answer(c)
    ok(cl == 2 and v, "sealed LOOKUP answered, answer sealed")
    m = c.last_sent
    c.send_raw(m)
    cl, code, a, v = answer(c)
    ok(cl == 3 and code == 401 and b"Replayed" in a.get(0x0009, b""), "the same LOOKUP resent verbatim: 401 Replayed message")
    t = bytearray(c.sealed(LOOKUP, [(PEER_ID, b"office-pc")]))
    t[24 + 4] ^= 0x01      # a bit of the peer id
    c.send_raw(bytes(t))
    cl, code, a, v = answer(c)
    ok(cl == 3 and code == 401 and b"Integrity check" in a.get(0x0009, b""), "tampered LOOKUP (one bit of the peer id): 401 (%s %d %r)" % (cl, code, a.get(0x0009)))
    c.send_raw(msg(LOOKUP, [(PEER_ID, b"office-pc")]))
    cl, code, a, v = answer(c)
    ok(cl == 3 and code == 401 and b"required" in a.get(0x0009, b""), "unsealed LOOKUP after logging in: 401 integrity required (%s %d %r)" % (cl, code, a.get(0x0009)))
    c.sreq(LOOKUP, [(PEER_ID, b"office-pc")])
    cl, code, a, v = answer(c)
    ok(cl == 2 and v, "the same connection still works with a fresh number")
    # a malicious (registered) peer asks office-pc for a service it may not use
    c.sreq(EXCHANGE, [(PEER_ID, b"office-pc"), (SESSION_ID, struct.pack("!I", 4242)),
                      (SERVICE, b"echo"), (METHODS, bytes([1, 3, 4]))])
    cl, code, a, v = answer(c)
    ok(cl == 2, "EXCHANGE relayed to office-pc")
    got = None
    for _ in range(5):
        cl, code, a, v = answer(c)
        if cl == 1 and DATA in a:
            got = a[DATA]; break
    ok(got is not None and b"4242 err" in got and b"not allowed" in got,
       "office-pc refuses stranger for echo: %r" % got)
elif step == "logesc":
    # laptop asks stranger for a service; stranger answers with an error
    # text that holds a forged log line and terminal escapes
    c = conn()
    ok(c.login(b"stranger", b"s3cret-stranger") == 200, "stranger logs in to answer laptop")
    sid = None
    for _ in range(20):
        cl, code, a, v = answer(c)
        if cl is None:
            break
        if cl == 1 and SESSION_ID in a and SERVICE in a:
            sid = struct.unpack("!I", a[SESSION_ID])[0]; break
    ok(sid is not None, "the EXCHANGE of laptop reached stranger (session %r)" % sid)
    if sid is not None:
        evil = b"%d err evil\n1700000000.000 stuntd: error: FAKE LINE \x1b[31mred\x1b[0m \\" % sid
        c.sreq(RELAY, [(PEER_ID, b"laptop"), (DATA, evil)])
        cl, code, a, v = answer(c)
        ok(cl == 2, "RELAY with the crafted error text relayed to laptop")
elif step == "udp":
    # every unauthenticated UDP request kind, measured on the wire
    import os
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    def fp(m):
        import zlib
        m = m[:2] + struct.pack("!H", len(m) - 20 + 8) + m[4:]
        return m + struct.pack("!HHI", 0x8028, 4, (zlib.crc32(m) ^ 0x5354554E) & 0xFFFFFFFF)
    def classic(m):
        return m[:4] + os.urandom(4) + m[8:]
    kinds = [("binding", msg(1, []), 56),
             ("binding+fingerprint", fp(msg(1, [])), 64),
             ("change ip+port", msg(1, [(0x0003, struct.pack("!I", 6))]), 56),
             ("rfc3489", classic(msg(1, [])), 56),
             ("rfc3489 change", classic(msg(1, [(0x0003, struct.pack("!I", 6))])), 56),
             ("unknown method", msg(2, []), 28),
             ("unknown attribute", msg(1, [(0x7F01, b"abcd")]), 36),
             ("software 4 bytes", msg(1, [(0x8022, b"abcd")]), 56)]
    for name, m, required in kinds:
        s.sendto(m, (srv, 3479 if "change" in name else 3478))
        try:
            r, src = s.recvfrom(4096)
        except socket.timeout:
            r = b""
        ok(0 < len(r) <= max(len(m), required),
           "UDP %s: request %d bytes, response %d (bound %d, ratio %.2f)" % (name, len(m), len(r), max(len(m), required), len(r) / len(m)))
'
# steps_done STEP WANT RC OUTPUT: the attacker's result lines, counted as
# the test's; the step must have exited 0 having printed all WANT of them
# (an exception half-way, a timeout waiting for an answer, ends it early
# with the checks after it never made)
steps_done() {
	local n
	echo "$4" | grep -E '^(not )?ok - '
	fails=$((fails + $(echo "$4" | grep -c '^not ok')))
	n=$(echo "$4" | grep -cE '^(not )?ok - ')
	if [ "$3" -eq 0 ] && [ "$n" -eq "$2" ]; then
		ok "attacker step $1 ran to its end: exit 0, $n results"
	else
		echo "$4" | tail -5 | sed 's/^/# /'
		nok "attacker step $1: exit $3, $n results of $2"
	fi
}

# py WANT STEP [ARGS]: one attacker step that prints WANT results
py() {
	local want=$1 out rc
	shift
	out=$(lx pub env PYTHONPATH="$here" python3 -c "$PY" "$LAB_SRV1" "$@" 2>&1)
	rc=$?
	steps_done "$1" "$want" "$rc" "$out"
}

fails=0
echo "# full-cone (ha, laptop) x port-restricted rst (hb, office-pc), attacker in pub"
start_all full-cone rst port-restricted rst && {
	SRV_PID=${LAB_PIDS[0]}
	# a real stuntd's sealed messages, captured at the server
	lab_bg ha cap tcpdump -i eth0 -nn -U --immediate-mode -w "$LAB_STATE/sig.pcap" "tcp dst port 3478 and dst host $LAB_SRV1" >/dev/null
	lab_wait_file "$LAB_STATE/sig.pcap" 5 || nok "tcpdump started in ha"
	sleep 1
	transfer a office-pc "before: laptop -> office-pc" "" "reversal|simopen"
	sleep 1
	python3 - "$LAB_STATE/sig.pcap" "$LAB_STATE/sig.bin" <<'PYCAP'
import struct, sys
d = open(sys.argv[1], "rb").read()
le = d[:4] == b"\xd4\xc3\xb2\xa1"
e = "<" if le else ">"
link = struct.unpack(e + "I", d[20:24])[0]
off, out = 24, b""
while off + 16 <= len(d):
    _, _, n, _ = struct.unpack(e + "IIII", d[off:off + 16]); p = d[off + 16:off + 16 + n]; off += 16 + n
    p = p[16:] if link == 113 else p[14:] if link == 1 else p[16:] if link == 276 else p
    if len(p) < 20 or p[0] >> 4 != 4: continue
    ihl = (p[0] & 15) * 4; tcp = p[ihl:]
    out += tcp[(tcp[12] >> 4) * 4:struct.unpack("!H", p[2:4])[0] - ihl]
open(sys.argv[2], "wb").write(out)
PYCAP
	[ $? -eq 0 ] || nok "the signalling captured in ha read from sig.pcap"
	py 2 secret
	py 4 replay-wire "$LAB_STATE/sig.bin"
	py 8 own
	expect_error a '{"cmd":"connect","peer":"office-pc","service":"secret"}' "laptop -> office-pc/secret (allow secret=nobody)" "not allowed"
	py 8 udp

	# log escaping: a peer's error text with a newline and terminal escapes
	lx pub env PYTHONPATH="$here" python3 -c "$PY" "$LAB_SRV1" logesc >"$LAB_STATE/logesc.out" 2>&1 &
	esc_pid=$!
	for _ in $(seq 1 50); do
		grep -q 'stranger logs in' "$LAB_STATE/logesc.out" && break
		sleep 0.1
	done
	ans=$(ctl a '{"cmd":"connect","peer":"stranger","service":"echo"}')
	wait "$esc_pid"
	steps_done logesc 3 $? "$(cat "$LAB_STATE/logesc.out")"
	if echo "$ans" | grep -qF '"ok":false' &&
		echo "$ans" | grep -qF 'evil\\x0a1700000000.000 stuntd: error: FAKE LINE \\x1b[31mred\\x1b[0m \\x5c'; then
		ok "laptop's connect answer carries the peer's error escaped: $(echo "$ans" | grep -o '"error":"[^}]*')"
	else
		nok "connect answer: $ans"
	fi
	logged "peer error text escaped in the log" "$LAB_STATE/stuntd-a.log" \
		'failed: evil\\x0a1700000000\.000 stuntd: error: FAKE LINE \\x1b\[31mred\\x1b\[0m \\x5c'
	if grep -q '^1700000000.000 stuntd: error: FAKE' "$LAB_STATE/stuntd-a.log" || grep -q $'\x1b' "$LAB_STATE/stuntd-a.log"; then
		nok "a forged line or an escape byte is in laptop's log"
	else
		ok "no forged line and no escape byte in laptop's log"
	fi

	js=$(stats_json)
	jcheck "server counts: auth_fail, unknown_id, replay, bad_mac, missing, all in refused" "$js" \
		'j["rdv"]["auth_fail"] >= 2 and j["rdv"]["unknown_id"] >= 1 and j["sec"]["replay"] >= 1 and j["sec"]["bad_mac"] >= 2 and j["sec"]["missing"] >= 1 and j["sec"]["verified"] > 10 and j["sec"]["seal_fail"] == 0 and j["refused"] >= 7'
	logged "wrong secret" "$LAB_STATE/server.log" "0x0b1 refused: auth_fail"
	logged "replay" "$LAB_STATE/server.log" "\\(stranger\\): message 0x0b2 refused: replayed"
	logged "tampered" "$LAB_STATE/server.log" "message 0x0b2 refused: bad integrity"
	logged "unsealed" "$LAB_STATE/server.log" "message 0x0b2 refused: no integrity"
	logged "unauthorized service (stranger)" "$LAB_STATE/stuntd-b.log" "refused stranger: peer stranger is not allowed to use office-pc/echo"
	logged "unauthorized service (laptop)" "$LAB_STATE/stuntd-b.log" "refused laptop: peer laptop is not allowed to use office-pc/secret"
	sb=$(ctl b '{"cmd":"status"}')
	jcheck "office-pc status: security.peers_refused >= 2, no message of the real server refused" "$sb" \
		'j["security"]["peers_refused"] >= 2 and j["security"]["sig_bad_mac"] == 0 and j["security"]["sig_replay"] == 0 and j["security"]["sig_missing"] == 0 and j["registered"]'
	sa=$(ctl a '{"cmd":"status"}')
	jcheck "laptop status: registered, nothing refused" "$sa" \
		'j["registered"] and j["security"]["sig_bad_mac"] == 0 and j["security"]["sig_replay"] == 0 and j["security"]["sig_missing"] == 0'
	transfer a office-pc "after the attacks: laptop -> office-pc" "" "reversal|simopen"
	transfer b laptop "after the attacks: office-pc -> laptop" "" "direct|simopen"
	stop_all
}
[ "$fails" -eq 0 ]
