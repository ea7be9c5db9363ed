#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The VNC harness itself, without stunt: Xvfb + x11vnc in hb (a routed host,
# no NAT), vncsnapshot in ha (behind a port-restricted NAT) reaching it over
# a plain path, so that when an end-to-end test fails it is stunt's fault.
#
#   hb 10.2.0.10 (--nat-b none): Xvfb :D 800x600, x11vnc on 127.0.0.1:5900 (-localhost),
#       a TCP relay 10.2.0.10:5999 -> 127.0.0.1:5900,
#       an inetd-style listener 10.2.0.10:5998 running x11vnc -inetd per client.
#   ha 10.1.0.10 behind gwa: vncsnapshot 10.2.0.10::5999 and ::5998 -> 800x600 JPEGs.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/vnc.sh
. "$here/vnc.sh"
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

for t in Xvfb x11vnc vncsnapshot xmessage python3; do
	if ! command -v "$t" >/dev/null; then
		nok "$t installed (tools/install-deps.sh)"
		exit 1
	fi
done

lab_init vnc
vnc_trap
if ! lab_up --nat-a port-restricted --nat-b none; then
	nok "lab up"
	exit 1
fi
d=$(vnc_display)
if vnc_start hb "$d" 5900; then
	ok "Xvfb :$d and x11vnc on 127.0.0.1:5900 in hb"
else
	nok "Xvfb :$d and x11vnc on 127.0.0.1:5900 in hb"
	exit 1
fi
# x11vnc listens on loopback only: nothing outside hb reaches it directly
if lx ha timeout 3 bash -c "exec 3<>/dev/tcp/$LAB_HB/5900" 2>/dev/null; then
	nok "x11vnc -localhost is not reachable from ha"
else
	ok "x11vnc -localhost is not reachable from ha"
fi

vnc_tcp_relay hb "$LAB_HB" 5999 127.0.0.1 5900 || nok "relay in hb"
if vnc_snapshot ha "$LAB_HB::5999" "$LAB_STATE/relay.jpg"; then
	ok "vncsnapshot from ha through a plain relay: ${VNC_W}x${VNC_H} JPEG ($(stat -c %s "$LAB_STATE/relay.jpg") bytes)"
else
	nok "vncsnapshot from ha through a plain relay"
fi
# the window drawn by vnc_start makes the image not blank: it has more than one colour
if python3 - "$LAB_STATE/relay.jpg" <<'EOF'
import sys
b = open(sys.argv[1], "rb").read()
sys.exit(0 if len(b) > 3000 else 1)
EOF
then
	ok "the screenshot shows content (not a uniform screen)"
else
	nok "the screenshot shows content (not a uniform screen)"
fi

vnc_exec_relay hb "$LAB_HB" 5998 "$d" || nok "inetd listener in hb"
if vnc_snapshot ha "$LAB_HB::5998" "$LAB_STATE/inetd.jpg"; then
	ok "vncsnapshot from ha to x11vnc -inetd (socket as stdin/stdout): ${VNC_W}x${VNC_H} JPEG"
else
	nok "vncsnapshot from ha to x11vnc -inetd (socket as stdin/stdout)"
fi
# twice: each client gets its own inetd server, the display stays
if vnc_snapshot ha "$LAB_HB::5998" "$LAB_STATE/inetd2.jpg"; then
	ok "a second inetd session works"
else
	nok "a second inetd session works"
fi

lab_down
vnc_cleanup
if [ -e "/tmp/.X$d-lock" ] || [ -e "/tmp/.X11-unix/X$d" ]; then
	nok "display :$d cleaned up"
else
	ok "display :$d cleaned up"
fi
[ "$fails" -eq 0 ]
