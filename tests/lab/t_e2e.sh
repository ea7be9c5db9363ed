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
#
# Over IPv6 too (issue 17): random symmetric IPv4 NATs on both sides (IPv4
# alone would need a relay, and these daemons have no TURN server), each
# host behind a stateful IPv6 firewall (lab_up --ipv6, drop on a, reject on
# b): everything above again, and it must have gone over IPv6 -- the
# forwards say simopen6 connected, both daemons' logs name simopen6 as the
# winner of the VNC session and its connect to the other's IPv6 address,
# and the socket a connect -- COMMAND gets is connected to hb's IPv6
# address. And with hb IPv6-only (--nat-b off, registered over IPv6 with
# the server's --primary6): the same checks.
# shellcheck disable=SC2153 # LAB_HA6, LAB_HB6: set by lab_up --ipv6
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

# v6_session ID DIR PEER SERVICE PEER6 LABEL: ID's log says the last
# session DIR ("to"/"from") PEER/SERVICE was won by simopen6, and that in
# that session ID connected to [PEER6] (a simultaneous open: both connect)
v6_session() {
	local f=$LAB_STATE/stuntd-$1.log n
	n=$(sed -nE "s|.*session ([0-9]+): $2 $3/$4 connected by simopen6 in [0-9]+ ms.*|\1|p" "$f" | tail -1)
	if [ -n "$n" ] && grep -Eq "session $n: simopen6: connect from port [0-9]+ to \[$5\]:[0-9]+" "$f"; then
		ok "$6: $1's stuntd: session $n $2 $3/$4 won by simopen6, connected to [$5]"
	else
		nok "$6: $1's stuntd names no simopen6 session $2 $3/$4 to [$5]"
		grep -E "session [0-9]+: ($2 $3/$4|simopen6)" "$f" | tail -5 | sed 's/^/#   /'
	fi
}

# The client of a COMMAND hand-off that prints its socket's peer address
# on stderr (stdout is the socket).
PEER_CMD_CLIENT='
import socket, sys
s = socket.socket(fileno=0)
p = s.getpeername()
print(("[%s]:%d" if s.family == socket.AF_INET6 else "%s:%d") % p[:2], file=sys.stderr)
'

# v6_checks LABEL: the VNC forwards, both daemons and a hand-off's socket
# say the sessions went over IPv6 by simopen6
v6_checks() {
	local label=$1 f got
	for f in vnc vncx; do
		if grep -q "office-pc/$f connected by simopen6 in" "$LAB_STATE/fwd-$f.log"; then
			ok "$label: stuntctl forward to office-pc/$f: connected by simopen6"
		else
			nok "$label: stuntctl forward to office-pc/$f: not by simopen6: $(grep -o 'connected by.*' "$LAB_STATE/fwd-$f.log" | head -1)"
		fi
	done
	v6_session laptop to office-pc vnc "$LAB_HB6" "$label"
	v6_session office-pc from laptop vnc "$LAB_HA6" "$label"
	got=$(lx ha timeout 30 "$STUNTCTL_BIN" --control "$LAB_STATE/laptop.sock" connect office-pc/bulk \
		-- python3 -c "$PEER_CMD_CLIENT" 2>&1 </dev/null)
	if echo "$got" | grep -Eqx "\[$LAB_HB6\]:[0-9]+"; then
		ok "$label: connect -- COMMAND: the socket's peer is hb's IPv6 address $got"
	else
		nok "$label: connect -- COMMAND: the socket's peer is '$got', want [$LAB_HB6]:PORT"
	fi
}

# one_pair LABEL LAB_UP_ARGS...
one_pair() {
	local label=$1 want digest got d m v6=0 srvb=
	shift
	case " $* " in *" --ipv6 "*) v6=1 ;; esac
	# hb IPv6-only (--nat-b off): it registers over IPv6
	case " $* " in *" --nat-b off "*) srvb="[$LAB_SRV1_6]" ;; esac
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
	if ! STUNT_SERVER_ARG=$srvb stunt_daemon_up hb office-pc --expose vnc=tcp:127.0.0.1:5900 \
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

	[ "$v6" = 1 ] && v6_checks "$label"

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
	m='[a-z0-9]*'
	[ "$v6" = 1 ] && m=simopen6
	if echo "$got" | grep -q '"ok": *true' && echo "$got" | grep -q "\"method\": *\"$m\""; then
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
one_pair "IPv6: sym-random x sym-random, IPv6 firewalls drop x reject" --nat-a sym-random \
	--nat-b sym-random --ipv6 --fw6-a drop --fw6-b reject
one_pair "IPv6-only hb: port-restricted(rst) x no IPv4, IPv6 firewalls drop x drop" \
	--nat-a port-restricted --syn-a rst --nat-b off --ipv6 --fw6-a drop --fw6-b drop

# A daemon that is not running: exit 3 and the plain sentence.
got=$("$STUNTCTL_BIN" --control /nonexistent/stuntd.sock status 2>&1)
rc=$?
if [ "$rc" = 3 ] && [ "$got" = "stuntctl: stuntd is not running (no control socket at /nonexistent/stuntd.sock)" ]; then
	ok "dead daemon: exit 3, '$got'"
else
	nok "dead daemon: rc $rc, '$got'"
fi
[ "$fails" -eq 0 ]
