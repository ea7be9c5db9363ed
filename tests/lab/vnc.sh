# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# VNC in the namespace lab. Source it after lab.sh, then:
#
#   lab_init; vnc_trap                   # lab teardown also removes X leftovers
#   lab_up ...
#   d=$(vnc_display)                     # a free X display number for this lab
#   vnc_start hb "$d" 5900               # Xvfb :d 800x600 + the known picture + x11vnc on 127.0.0.1:5900 in hb
#   vnc_snapshot ha 10.2.0.10::5999 "$LAB_STATE/shot.jpg"   # vncsnapshot in ha; checks 800x600 and the picture
#   vnc_inetd_cmd "$d"                   # the x11vnc -inetd command line for exec: services
#   vnc_exec_relay hb 10.2.0.10 5998 "$d"  # a listener in hb running x11vnc -inetd per client
#
# X sockets live in /tmp/.X11-unix, which every namespace shares (the abstract
# ones do not): display numbers come from this shell's pid and skip any
# display whose lock or socket exists, and vnc_cleanup removes what a killed
# Xvfb left behind.
#
# The picture (tests/lab/vncpic.py) is drawn before x11vnc starts, and every
# screenshot is compared with it pixel by pixel: a blank, wrong or shifted
# screen fails, not only a missing file. It runs on Debian's python3, which
# has python3-tk and python3-pil (tools/install-deps.sh), whatever python3
# comes first in PATH.

VNC_W=800
VNC_H=600
VNC_DISPLAYS=()
VNC_PY=${VNC_PY:-/usr/bin/python3}
VNC_PIC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/vncpic.py

# vnc_tools_ok: say which program or Python module the VNC lab lacks.
vnc_tools_ok() {
	local t missing=""
	for t in Xvfb x11vnc vncsnapshot "$VNC_PY"; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	if [ -x "$VNC_PY" ] && ! "$VNC_PY" -c 'import tkinter, PIL' 2>/dev/null; then
		missing="$missing python3-tk/python3-pil"
	fi
	[ -z "$missing" ] && return 0
	echo "# vnc: not installed (tools/install-deps.sh):$missing" >&2
	return 1
}

# vnc_display: print a display number no X server uses now (none of ours either).
vnc_display() {
	local d=$((200 + ($$ % 400) * 8 + ${#VNC_DISPLAYS[@]})) i
	for ((i = 0; i < 400; i++)); do
		if [ ! -e "/tmp/.X$d-lock" ] && [ ! -e "/tmp/.X11-unix/X$d" ] &&
			! printf '%s\n' "${VNC_DISPLAYS[@]}" | grep -qx "$d"; then
			echo "$d"
			return 0
		fi
		d=$((d + 1))
	done
	return 1
}

# vnc_start NODE DISPLAY PORT [blank]: Xvfb with the known picture (none
# with "blank", for tests that want a screen that is not it), and x11vnc on
# 127.0.0.1:PORT (no password, shared, survives client disconnects).
vnc_start() {
	local n=$1 d=$2 port=$3 blank=${4:-} i ready=""
	VNC_DISPLAYS+=("$d")
	lab_bg "$n" "xvfb-$d" Xvfb ":$d" -screen 0 "${VNC_W}x${VNC_H}x24" -nolisten tcp >/dev/null
	for ((i = 0; i < 100; i++)); do
		[ -S "/tmp/.X11-unix/X$d" ] && break
		sleep 0.05
	done
	if [ ! -S "/tmp/.X11-unix/X$d" ]; then
		echo "# vnc: Xvfb :$d did not start in $n" >&2
		cat "$LAB_STATE/xvfb-$d.log" >&2
		return 1
	fi
	if [ "$blank" != blank ]; then
		# on the screen before x11vnc reads it first, so every client sees it
		lab_bg "$n" "vncpic-$d" env DISPLAY=":$d" "$VNC_PY" "$VNC_PIC" draw "$VNC_W" "$VNC_H" >/dev/null
		for ((i = 0; i < 200; i++)); do
			ready=$(sed -n 's/^ready //p' "$LAB_STATE/vncpic-$d.log" 2>/dev/null)
			[ -n "$ready" ] && break
			sleep 0.05
		done
		if [ "$ready" != "${VNC_W}x${VNC_H}" ]; then
			echo "# vnc: the picture is not on :$d in $n (screen '${ready:-not ready}', want ${VNC_W}x${VNC_H}):" >&2
			sed 's/^/#   /' "$LAB_STATE/vncpic-$d.log" >&2
			return 1
		fi
	fi
	lab_bg "$n" "x11vnc-$d" x11vnc -display ":$d" -rfbport "$port" -localhost -forever \
		-shared -nopw -quiet -noxdamage >/dev/null
	lab_wait_port "$n" tcp 127.0.0.1 "$port" 20 || { cat "$LAB_STATE/x11vnc-$d.log" >&2; return 1; }
}

# vnc_inetd_cmd DISPLAY: an inetd-style VNC server for DISPLAY (stdin/stdout
# is the client connection; -q keeps stderr away from the viewer).
vnc_inetd_cmd() {
	echo "x11vnc -inetd -q -display :$1 -nopw -shared -noxdamage"
}

# vnc_exec_relay NODE IP PORT DISPLAY: listen on IP:PORT in NODE and run
# vnc_inetd_cmd DISPLAY for each client with the socket as stdin/stdout,
# as stuntd's exec: hand-off does (no copy).
vnc_exec_relay() {
	local n=$1 ip=$2 port=$3 d=$4
	# shellcheck disable=SC2046
	lab_bg "$n" "inetd-$port" python3 -c '
import socket, subprocess, sys
ip, port, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((ip, port))
ls.listen(8)
while True:
    c, _ = ls.accept()
    subprocess.Popen(cmd, stdin=c, stdout=c, stderr=subprocess.DEVNULL)
    c.close()
' "$ip" "$port" $(vnc_inetd_cmd "$d") >/dev/null
	lab_wait_port "$n" tcp "$ip" "$port" 10
}

# vnc_tcp_relay NODE IP PORT TO_IP TO_PORT: a plain TCP relay (one thread pair
# per client), for reaching a -localhost server from another lab host.
vnc_tcp_relay() {
	local n=$1 ip=$2 port=$3 tip=$4 tport=$5
	lab_bg "$n" "relay-$port" python3 -c '
import socket, sys, threading
ip, port, tip, tport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((ip, port))
ls.listen(8)
while True:
    c, _ = ls.accept()
    u = socket.create_connection((tip, tport))
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
' "$ip" "$port" "$tip" "$tport" >/dev/null
	lab_wait_port "$n" tcp "$ip" "$port" 10
}

# vnc_image_size FILE: print WxH of a JPEG (from its SOF marker) or nothing.
vnc_image_size() {
	python3 - "$1" <<'EOF'
import struct, sys
try:
    b = open(sys.argv[1], "rb").read()
except OSError:
    sys.exit(1)
if b[:2] != b"\xff\xd8":
    sys.exit(1)
i = 2
while i + 4 <= len(b):
    if b[i] != 0xFF:
        sys.exit(1)
    m = b[i + 1]
    if m == 0xFF:
        i += 1
        continue
    if m in (0xD8, 0x01) or 0xD0 <= m <= 0xD7:
        i += 2
        continue
    l = struct.unpack(">H", b[i + 2:i + 4])[0]
    if m in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
        h, w = struct.unpack(">HH", b[i + 5:i + 9])
        print("%dx%d" % (w, h))
        sys.exit(0)
    i += 2 + l
sys.exit(1)
EOF
}

# vnc_picture_check FILE: one line and success if FILE is the picture
# vnc_start draws, at VNC_W x VNC_H; else what differs, and failure.
vnc_picture_check() {
	"$VNC_PY" "$VNC_PIC" check "$1" "$VNC_W" "$VNC_H"
}

# vnc_snapshot NODE HOST::PORT OUTFILE [TIMEOUT_S]: one screenshot with
# vncsnapshot run inside NODE; succeeds only for an 800x600 JPEG of the
# picture (vnc_picture_check's line is left in OUTFILE.check).
vnc_snapshot() {
	local n=$1 target=$2 out=$3 t=${4:-30} size
	rm -f "$out"
	if ! lx "$n" timeout "$t" vncsnapshot -allowblank -quiet "$target" "$out" \
		>"$out.log" 2>&1; then
		echo "# vnc: vncsnapshot $target from $n failed:" >&2
		sed 's/^/#   /' "$out.log" >&2
		return 1
	fi
	size=$(vnc_image_size "$out")
	if [ "$size" != "${VNC_W}x${VNC_H}" ]; then
		echo "# vnc: $out is '${size:-not a JPEG}', want ${VNC_W}x${VNC_H}" >&2
		return 1
	fi
	if ! vnc_picture_check "$out" >"$out.check" 2>&1; then
		echo "# vnc: vncsnapshot $target from $n: the screen is not the picture drawn:" >&2
		sed 's/^/#   /' "$out.check" >&2
		return 1
	fi
	return 0
}

# vnc_cleanup: remove the X lock files and sockets of our displays whose
# server is gone (a Xvfb killed with SIGKILL cannot remove them itself).
vnc_cleanup() {
	local d pid
	for d in "${VNC_DISPLAYS[@]}"; do
		if [ -e "/tmp/.X$d-lock" ]; then
			pid=$(tr -d ' ' <"/tmp/.X$d-lock" 2>/dev/null)
			[ -n "$pid" ] && [ -d "/proc/$pid" ] && continue
		fi
		rm -f "/tmp/.X$d-lock" "/tmp/.X11-unix/X$d"
	done
	VNC_DISPLAYS=()
	return 0
}

# vnc_trap: after lab_init, make every exit path run vnc_cleanup after lab_down.
vnc_trap() {
	trap 'lab_down; vnc_cleanup' EXIT
	trap 'lab_down; vnc_cleanup; exit 130' INT
	trap 'lab_down; vnc_cleanup; exit 143' TERM
	trap 'lab_down; vnc_cleanup; exit 129' HUP
}

# ---- stunt in the lab: the server and two daemons around a VNC session ----
#
#   stunt_bins_ok || exit 1              # says which program is missing
#   stunt_server_up                      # stunt-server in srv, peers laptop, office-pc, mallory
#   stunt_daemon_up hb office-pc --expose vnc=tcp:127.0.0.1:5900 --allow vnc=laptop
#   stunt_daemon_up ha laptop
#   stunt_ctl laptop forward 127.0.0.1:5901 office-pc/vnc   # stuntctl in laptop's node

STUNT_SERVER_BIN=$LAB_BUILD/stunt-server
STUNTD_BIN=$LAB_BUILD/stuntd
STUNTCTL_BIN=$LAB_BUILD/stuntctl
declare -A STUNT_NODE=()

stunt_bins_ok() {
	local b missing=""
	for b in "$STUNT_SERVER_BIN" "$STUNTD_BIN" "$STUNTCTL_BIN"; do
		[ -x "$b" ] || missing="$missing $b"
	done
	[ -z "$missing" ] && return 0
	echo "# stunt: not built:$missing" >&2
	return 1
}

stunt_server_up() {
	printf '# lab peers\nlaptop s3cret-laptop-0123\noffice-pc s3cret-office-4567\nmallory s3cret-mallory-89ab\n' \
		>"$LAB_STATE/server.secrets"
	lab_server_secrets "$LAB_STATE/server.secrets"
	local v6=()
	# a lab with IPv6 (lab_up --ipv6): the server on its IPv6 addresses too
	[ "${LAB_V6:-0}" = 1 ] && v6=(--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6")
	lab_bg srv stunt-server "$STUNT_SERVER_BIN" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" \
		${v6[@]+"${v6[@]}"} --secrets "$LAB_STATE/server.secrets" -d >/dev/null
	lab_wait_port srv tcp "$LAB_SRV1" 3478 10 && lab_wait_port srv udp "$LAB_SRV2" 3479 10 ||
		{ cat "$LAB_STATE/stunt-server.log" >&2; return 1; }
}

# stunt_daemon_up NODE ID [stuntd options...]: start stuntd in NODE as ID and
# wait until it is registered with the server (STUNT_SERVER_ARG, default
# $LAB_SRV1: an IPv6-only node gives "[$LAB_SRV1_6]").
stunt_daemon_up() {
	local n=$1 id=$2
	shift 2
	STUNT_NODE[$id]=$n
	awk -v id="$id" '$1 == id { print $2 }' "$LAB_STATE/server.secrets" >"$LAB_STATE/$id.secret"
	chmod 600 "$LAB_STATE/$id.secret"
	mkdir -p "$LAB_STATE/$id.state"
	lab_bg "$n" "stuntd-$id" "$STUNTD_BIN" --id "$id" --server "${STUNT_SERVER_ARG:-$LAB_SRV1}" \
		--secret-file "$LAB_STATE/$id.secret" --control "$LAB_STATE/$id.sock" \
		--state-dir "$LAB_STATE/$id.state" --rules-tool "$LAB_TOP/tools/stunt-rules" \
		-d -v "$@" >/dev/null
	stunt_wait_registered "$id" 30
}

# stunt_ctl ID ARGS...: stuntctl against ID's daemon, inside ID's node.
stunt_ctl() {
	local id=$1
	shift
	lx "${STUNT_NODE[$id]}" "$STUNTCTL_BIN" --control "$LAB_STATE/$id.sock" "$@"
}

stunt_wait_registered() {
	local id=$1 end=$((SECONDS + ${2:-30}))
	while [ $SECONDS -le $end ]; do
		stunt_ctl "$id" status --json 2>/dev/null | grep -q '"registered": *true' && return 0
		sleep 0.2
	done
	echo "# stunt: stuntd $id not registered after ${2:-30}s; its log:" >&2
	tail -n 30 "$LAB_STATE/stuntd-$id.log" | sed 's/^/#   /' >&2
	return 1
}
