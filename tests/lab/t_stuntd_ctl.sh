#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd's control socket against local users and odd clients (docs/security.md,
# "The control socket"). ha ("laptop") runs with --control-group G (an existing
# group, "users" if there is one); an unregistered-looking peer is played by a
# script in pub logged in as "stranger" that never answers, so that a connect
# to it stays busy for seconds.
#   supplementary group   uid 64000 whose supplementary group is G runs
#                         `stuntctl status`: answered
#   primary group         uid 64000 with gid G: answered
#   no group              uid 64000 in no such group: the kernel refuses it
#                         (socket mode 0660); with the socket opened to all
#                         (chmod 0666, lab only) stuntd refuses it itself:
#                         "permission denied", logged, control.refused
#   busy client           a connect request, then junk bytes, the socket kept
#                         open: stuntd's CPU time over 2 s stays small (the
#                         loop does not spin on a readable socket) and it
#                         still answers another client; more than a request
#                         line's worth of junk ends the client with an error
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

STUNTCTL=$BUILD/stuntctl
GRP=$(getent group users | cut -d: -f1)
[ -n "$GRP" ] || GRP=$(getent group | awk -F: '$3 >= 100 && $3 < 60000 { print $1; exit }')
GID=$(getent group "$GRP" | cut -d: -f3)
XUID=64000
STUNTD_EXTRA_A=(--control-group "$GRP")
# a user other than root must reach the socket in $LAB_STATE
start_all_hook() { chmod 711 "$LAB_STATE"; }

# as_user SETPRIV_ARGS... -- CMD...: run CMD in ha as another user
as_user() {
	local args=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	lx ha setpriv "${args[@]}" "$@" 2>&1
}

# cpu_ticks PID: utime + stime of the process, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# The stranger: logs in and holds still for $1 seconds (answers nothing).
STRANGER='
import sys, time
from stunwire import SigConn
c = SigConn(sys.argv[1], 3478, timeout=float(sys.argv[2]) + 2)
print("login", c.login(b"stranger", b"s3cret-stranger"), flush=True)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    c.s.settimeout(max(0.1, end - time.time()))
    try:
        if not c.s.recv(4096):
            break
    except OSError:
        pass
'

# The busy client: a connect request, then junk (N bytes) after it has been
# dispatched; holds the socket open for HOLD s and prints what stuntd answered.
BUSY='
import socket, sys, time
path, junk, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(b"{\"cmd\":\"connect\",\"peer\":\"stranger\",\"service\":\"echo\"}\n")
time.sleep(0.3)
try:
    s.sendall(b"junk after the request\n" * (junk // 23 + 1))
except OSError as e:
    print("send:", e)
print("sent", flush=True)
s.settimeout(hold)
try:
    print("answer", s.recv(4096).decode().strip(), flush=True)
except socket.timeout:
    print("answer none", flush=True)
'

echo "# control group $GRP (gid $GID); test user uid $XUID"
[ -n "$GID" ] || { nok "a group to use as the control group"; exit 1; }
start_all full-cone rst port-restricted rst && {
	out=$(as_user --reuid=$XUID --regid=$XUID --groups="$GID" -- "$STUNTCTL" --control "$LAB_STATE/a.sock" status)
	if echo "$out" | grep -q '^stuntd laptop' && echo "$out" | grep -q 'registered'; then
		ok "uid $XUID with $GRP as a supplementary group: stuntctl status answered"
	else
		nok "supplementary group: $out"
	fi
	out=$(as_user --reuid=$XUID --regid="$GID" --clear-groups -- "$STUNTCTL" --control "$LAB_STATE/a.sock" status)
	echo "$out" | grep -q '^stuntd laptop' && ok "uid $XUID with $GRP as its primary group: answered" ||
		nok "primary group: $out"
	out=$(as_user --reuid=$XUID --regid=$XUID --clear-groups -- "$STUNTCTL" --control "$LAB_STATE/a.sock" status)
	echo "$out" | grep -q 'permission denied' && ok "uid $XUID in no such group: refused by the socket's mode ($out)" ||
		nok "no group, mode 0660: $out"
	chmod 0666 "$LAB_STATE/a.sock"
	# the system's python (a per-user one, e.g. pyenv's, may not be usable by uid $XUID)
	# (stuntd answers and closes at once: read before sending anything)
	out=$(as_user --reuid=$XUID --regid=$XUID --clear-groups -- /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
print(s.recv(4096).decode().strip())' "$LAB_STATE/a.sock")
	echo "$out" | grep -q '"ok":false,"error":"permission denied"' &&
		ok "uid $XUID in no such group, socket open to all: stuntd refuses it ($out)" ||
		nok "no group, mode 0666: $out"
	chmod 0660 "$LAB_STATE/a.sock"
	grep -q "control: refused a client (uid $XUID, gid $XUID)" "$LAB_STATE/stuntd-a.log" &&
		ok "the refusal is logged" || nok "no refusal in stuntd-a.log"
	st=$(ctl a '{"cmd":"status"}')
	echo "$st" | grep -q '"control":{"refused":1}' && ok "status counts it: control.refused 1" ||
		nok "control.refused: $st"

	# the busy client, while the stranger holds a connect open
	lab_bg pub stranger env PYTHONPATH="$here" python3 -c "$STRANGER" "$LAB_SRV1" 12 >/dev/null
	for _ in $(seq 1 50); do
		grep -q 'login' "$LAB_STATE/stranger.log" && break
		sleep 0.1
	done
	grep -q 'login 200' "$LAB_STATE/stranger.log" && ok "stranger registered (and will not answer)" ||
		nok "stranger login: $(cat "$LAB_STATE/stranger.log")"
	lab_bg ha busy python3 -c "$BUSY" "$LAB_STATE/a.sock" 100 6 >/dev/null
	sleep 0.8
	t0=$(cpu_ticks "$PID_A")
	sleep 2
	t1=$(cpu_ticks "$PID_A")
	d=$((t1 - t0))
	hz=$(getconf CLK_TCK)
	if [ "$d" -lt $((hz / 2)) ]; then
		ok "a client with junk after its request: stuntd used $d of $((2 * hz)) clock ticks in 2 s"
	else
		nok "a client with junk after its request: stuntd used $d of $((2 * hz)) clock ticks in 2 s (spinning)"
	fi
	ctl a '{"cmd":"status"}' | grep -q '"registered":true' && ok "stuntd still answers another client" ||
		nok "no answer to another client while the busy one is open"
	lab_bg ha busy2 python3 -c "$BUSY" "$LAB_STATE/a.sock" 5000 3 >/dev/null
	for _ in $(seq 1 30); do
		grep -q 'answer' "$LAB_STATE/busy2.log" && break
		sleep 0.1
	done
	grep -q 'answer {"ok":false,"error":"bytes after the request: one request per connection"}' "$LAB_STATE/busy2.log" &&
		ok "more than 4096 bytes after the request: the client is answered with an error and closed" ||
		nok "5000 junk bytes: $(cat "$LAB_STATE/busy2.log")"
	grep -q 'control: a client sent [0-9]* bytes after its request: closed' "$LAB_STATE/stuntd-a.log" &&
		ok "logged" || nok "not logged"
	stop_all
}
[ "$fails" -eq 0 ]
