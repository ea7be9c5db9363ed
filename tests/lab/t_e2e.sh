#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End to end, for the first-tier NAT pairs: stunt-server, stuntd on both
# hosts, and through `stuntctl forward` / `stuntctl connect`:
#   - a real VNC session (vncsnapshot gets an 800x600 image of hb's Xvfb,
#     compared pixel by pixel with the picture vnc_start drew there), to
#     x11vnc on 127.0.0.1:5900 (tcp: hand-off) and to x11vnc -inetd (exec:);
#   - 5 MB up through forward, through connect (stdin/stdout) and through
#     connect -- COMMAND, each checked by the SHA-256 the far end computes;
#   - errors: unknown service, refused peer, dead daemon.
#
#   laptop (ha) behind NAT A, viewer side; office-pc (hb) behind NAT B exposes
#   vnc, vncx (exec), bulk (tcp:127.0.0.1:7000, answers the SHA-256 of what it read);
#   mallory (pub, public) is registered but allowed nothing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/vnc.sh
. "$here/vnc.sh"
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
BULK_BYTES=$((5 * 1024 * 1024))

if ! stunt_bins_ok; then
	nok "stuntd built"
	exit 1
fi

# The bulk service in hb: read to EOF, answer the hex SHA-256 and close.
bulk_server() {
	lab_bg hb bulk python3 -c '
import hashlib, socket, threading
def serve(c):
    h = hashlib.sha256()
    while True:
        d = c.recv(65536)
        if not d:
            break
        h.update(d)
    c.sendall((h.hexdigest() + "\n").encode())
    c.close()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 7000))
ls.listen(8)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' >/dev/null
	lab_wait_port hb tcp 127.0.0.1 7000 10
}

# The client of a COMMAND hand-off: fd 0 and 1 are the socket.
BULK_CMD_CLIENT='
import os, socket, sys
s = socket.socket(fileno=0)
data = open(sys.argv[1], "rb").read()
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    got += d
open(sys.argv[2], "wb").write(got)
'

# TCP client for a forward port: send the file, half-close, save the answer.
BULK_TCP_CLIENT='
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(open(sys.argv[2], "rb").read())
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    got += d
open(sys.argv[3], "wb").write(got)
'

# one_pair LABEL LAB_UP_ARGS...
one_pair() {
	local label=$1 want digest got d m
	shift
	lab_init ete
	vnc_trap
	if ! lab_up "$@"; then
		nok "$label: lab up"
		lab_down
		return
	fi
	if ! stunt_server_up; then
		nok "$label: stunt-server"
		lab_down
		return
	fi
	d=$(vnc_display)
	vnc_start hb "$d" 5900 || nok "$label: Xvfb with the picture + x11vnc in hb"
	bulk_server || nok "$label: bulk server in hb"
	if ! stunt_daemon_up hb office-pc --expose vnc=tcp:127.0.0.1:5900 \
		--expose "vncx=exec:$(vnc_inetd_cmd "$d")" --expose bulk=tcp:127.0.0.1:7000 \
		--allow vnc=laptop --allow vncx=laptop --allow bulk=laptop ||
		! stunt_daemon_up ha laptop || ! stunt_daemon_up pub mallory --no-rules; then
		nok "$label: both stuntd registered"
		lab_down
		vnc_cleanup
		return
	fi
	ok "$label: stunt-server, stuntd office-pc (hb), laptop (ha) and mallory (pub, not allowed) registered"

	# VNC through forward (tcp: hand-off)
	lab_bg ha fwd-vnc "$STUNTCTL_BIN" --control "$LAB_STATE/laptop.sock" \
		forward 127.0.0.1:5901 office-pc/vnc >/dev/null
	lab_bg ha fwd-vncx "$STUNTCTL_BIN" --control "$LAB_STATE/laptop.sock" \
		forward 5902 office-pc/vncx >/dev/null
	lab_bg ha fwd-bulk "$STUNTCTL_BIN" --control "$LAB_STATE/laptop.sock" \
		forward 127.0.0.1:7001 office-pc/bulk >/dev/null
	lab_wait_port ha tcp 127.0.0.1 5901 10 && lab_wait_port ha tcp 127.0.0.1 5902 10 &&
		lab_wait_port ha tcp 127.0.0.1 7001 10 || nok "$label: stuntctl forward listening"
	if vnc_snapshot ha 127.0.0.1::5901 "$LAB_STATE/vnc.jpg" 60; then
		m=$(sed -nE 's/.* connected by ([a-z0-9]+) in ([0-9]+) ms.*/\1, \2 ms/p' "$LAB_STATE/fwd-vnc.log" | head -1)
		ok "$label: VNC through stuntctl forward to x11vnc (tcp:): ${VNC_W}x${VNC_H} screenshot of the picture ($m)"
	else
		sed 's/^/#   /' "$LAB_STATE/fwd-vnc.log"
		nok "$label: VNC through stuntctl forward to x11vnc (tcp:)"
	fi
	if vnc_snapshot ha 127.0.0.1::5902 "$LAB_STATE/vncx.jpg" 60; then
		ok "$label: VNC through stuntctl forward to x11vnc -inetd (exec:): ${VNC_W}x${VNC_H} screenshot of the picture"
	else
		sed 's/^/#   /' "$LAB_STATE/fwd-vncx.log"
		nok "$label: VNC through stuntctl forward to x11vnc -inetd (exec:)"
	fi

	# 5 MB up, three ways
	head -c "$BULK_BYTES" /dev/urandom >"$LAB_STATE/bulk.in"
	want=$(sha256sum "$LAB_STATE/bulk.in" | cut -d' ' -f1)
	lx ha timeout 60 python3 -c "$BULK_TCP_CLIENT" 7001 "$LAB_STATE/bulk.in" "$LAB_STATE/bulk.fwd"
	got=$(head -c 64 "$LAB_STATE/bulk.fwd" 2>/dev/null)
	if [ "$got" = "$want" ]; then ok "$label: 5 MB through stuntctl forward arrive intact"
	else nok "$label: 5 MB through stuntctl forward arrive intact (got '${got:-nothing}')"; fi

	lx ha timeout 60 "$STUNTCTL_BIN" --control "$LAB_STATE/laptop.sock" connect office-pc/bulk \
		<"$LAB_STATE/bulk.in" >"$LAB_STATE/bulk.stdio" 2>"$LAB_STATE/bulk.stdio.err"
	got=$(head -c 64 "$LAB_STATE/bulk.stdio" 2>/dev/null)
	if [ "$got" = "$want" ]; then ok "$label: 5 MB through stuntctl connect (stdin/stdout, half-close) arrive intact"
	else nok "$label: 5 MB through stuntctl connect stdin/stdout (got '${got:-nothing}': $(cat "$LAB_STATE/bulk.stdio.err"))"; fi

	lx ha timeout 60 "$STUNTCTL_BIN" --control "$LAB_STATE/laptop.sock" connect office-pc/bulk \
		-- python3 -c "$BULK_CMD_CLIENT" "$LAB_STATE/bulk.in" "$LAB_STATE/bulk.cmd" 2>"$LAB_STATE/bulk.cmd.err"
	got=$(head -c 64 "$LAB_STATE/bulk.cmd" 2>/dev/null)
	if [ "$got" = "$want" ]; then ok "$label: 5 MB through stuntctl connect -- COMMAND arrive intact"
	else nok "$label: 5 MB through stuntctl connect -- COMMAND (got '${got:-nothing}': $(cat "$LAB_STATE/bulk.cmd.err"))"; fi

	# --json reports the method; errors are clear
	got=$(stunt_ctl laptop connect office-pc/bulk --json 2>/dev/null)
	if echo "$got" | grep -q '"ok": *true' && echo "$got" | grep -q '"method": *"[a-z0-9]*"'; then
		ok "$label: connect --json: $got"
	else
		nok "$label: connect --json: '$got'"
	fi
	got=$(stunt_ctl laptop connect office-pc/nosuch --json 2>/dev/null)
	rc=$?
	if [ "$rc" = 1 ] && echo "$got" | grep -q '"ok": *false' && echo "$got" | grep -q '"error": *"[^"]'; then
		ok "$label: unknown service: exit 1 with the daemon's error ($(echo "$got" | sed -nE 's/.*"error": *"([^"]*)".*/\1/p'))"
	else
		nok "$label: unknown service: rc $rc, '$got'"
	fi
	# office-pc's allow list refuses mallory (daemon/negotiate.c), and
	# stuntctl prints that refusal, not just any failure
	got=$(stunt_ctl mallory connect office-pc/vnc 2>&1 </dev/null)
	rc=$?
	want="stuntctl: office-pc/vnc: peer mallory is not allowed to use office-pc/vnc"
	if [ "$rc" = 1 ] && [ "$got" = "$want" ]; then ok "$label: refused peer: exit 1, '$got'"
	else nok "$label: refused peer: rc $rc, '$got', want exit 1, '$want'"; fi

	lab_down
	vnc_cleanup
}

one_pair "full-cone x port-restricted(rst)" --nat-a full-cone --nat-b port-restricted --syn-b rst
one_pair "port-restricted(rst) x port-restricted(rst)" --nat-a port-restricted --syn-a rst \
	--nat-b port-restricted --syn-b rst
one_pair "port-restricted(rst) x full-cone" --nat-a port-restricted --nat-b full-cone
one_pair "restricted-cone x port-restricted(drop)" --nat-a restricted-cone --nat-b port-restricted --syn-b drop
one_pair "public x port-restricted(rst)" --nat-a none --nat-b port-restricted

# A daemon that is not running: exit 3 and the plain sentence.
got=$("$STUNTCTL_BIN" --control /nonexistent/stuntd.sock status 2>&1)
rc=$?
if [ "$rc" = 3 ] && [ "$got" = "stuntctl: stuntd is not running (no control socket at /nonexistent/stuntd.sock)" ]; then
	ok "dead daemon: exit 3, '$got'"
else
	nok "dead daemon: rc $rc, '$got'"
fi
[ "$fails" -eq 0 ]
