#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The VNC harness itself, without stunt: Xvfb + x11vnc in hb (a routed host,
# no NAT), vncsnapshot in ha (behind a port-restricted NAT) reaching it over
# a plain path, so that when an end-to-end test fails it is stunt's fault.
#
#   hb 10.2.0.10 (--nat-b none): Xvfb :D 800x600 with the known picture
#       (tests/lab/vncpic.py), x11vnc on 127.0.0.1:5900 (-localhost),
#       a TCP relay 10.2.0.10:5999 -> 127.0.0.1:5900,
#       an inetd-style listener 10.2.0.10:5998 running x11vnc -inetd per client.
#   ha 10.1.0.10 behind gwa: vncsnapshot 10.2.0.10::5999 and ::5998 -> 800x600
#       JPEGs, each compared with the picture.
#   The comparison itself must fail when it should: for copies of a good
#   screenshot made blank, moved or recoloured, and for a real screenshot of
#   a second display without the picture (hb: Xvfb :D2, x11vnc on
#   127.0.0.1:5910, relay 10.2.0.10:5909).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/vnc.sh
. "$here/vnc.sh"
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

if ! command -v python3 >/dev/null || ! vnc_tools_ok; then
	nok "VNC tools installed (tools/install-deps.sh)"
	exit 1
fi

lab_init vnc
vnc_trap
if ! lab_up --nat-a port-restricted --nat-b none; then
	nok "lab up"
	exit 1
fi
d=$(vnc_display)
if vnc_start hb "$d" 5900; then
	ok "Xvfb :$d with the picture and x11vnc on 127.0.0.1:5900 in hb"
else
	nok "Xvfb :$d with the picture and x11vnc on 127.0.0.1:5900 in hb"
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
	ok "the screenshot is the picture drawn in hb: $(cat "$LAB_STATE/relay.jpg.check")"
else
	nok "vncsnapshot from ha through a plain relay: the picture drawn in hb"
fi

# The comparison must refuse what is not the picture: copies of that good
# screenshot made blank, moved by 6 px (less than a sample patch's inset
# from its cell's edge, so only the edge test can tell) and with two cells
# swapped.
if [ -s "$LAB_STATE/relay.jpg" ]; then
	"$VNC_PY" - "$LAB_STATE/relay.jpg" "$LAB_STATE" <<'EOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
out = sys.argv[2] + "/spoilt-%s.jpg"
Image.new("RGB", (w, h), (0, 0, 0)).save(out % "blank")
for name, at in (("right", (6, 0)), ("down", (0, 6))):
    moved = Image.new("RGB", (w, h), (0, 0, 0))
    moved.paste(im, at)
    moved.save(out % name)
a, b = im.crop((0, 0, w // 4, h // 3)), im.crop((w // 4, 0, w // 2, h // 3))
swapped = im.copy()
swapped.paste(b, (0, 0))
swapped.paste(a, (w // 4, 0))
swapped.save(out % "swapped")
EOF
fi
for s in "blank:made blank" "right:moved 6 px right" "down:moved 6 px down" "swapped:with two cells swapped"; do
	f=$LAB_STATE/spoilt-${s%%:*}
	if [ -s "$f.jpg" ] && ! vnc_picture_check "$f.jpg" >"$f.check" 2>&1; then
		ok "the comparison refuses the screenshot ${s#*:}: $(sed -nE '1s/.*\((.*wrong)\).*/\1/p' "$f.check")"
	else
		sed 's/^/#   /' "$f.check" 2>/dev/null
		nok "the comparison refuses the screenshot ${s#*:}"
	fi
done

# and a real screenshot, of a display with nothing drawn on it
d2=$(vnc_display)
if vnc_start hb "$d2" 5910 blank && vnc_tcp_relay hb "$LAB_HB" 5909 127.0.0.1 5910; then
	if vnc_snapshot ha "$LAB_HB::5909" "$LAB_STATE/blank.jpg" 2>"$LAB_STATE/blank.err"; then
		nok "a screenshot of Xvfb :$d2 without the picture is refused"
	elif [ "$(vnc_image_size "$LAB_STATE/blank.jpg")" = "${VNC_W}x${VNC_H}" ] &&
		grep -q 'is not the picture drawn' "$LAB_STATE/blank.err"; then
		ok "a screenshot of Xvfb :$d2 without the picture is refused: $(sed -nE 's/.*\((.*wrong)\).*/\1/p' "$LAB_STATE/blank.err")"
	else
		sed 's/^/#   /' "$LAB_STATE/blank.err"
		nok "a screenshot of Xvfb :$d2 without the picture is refused (a ${VNC_W}x${VNC_H} JPEG, not the picture)"
	fi
else
	nok "Xvfb :$d2 without the picture, x11vnc on 127.0.0.1:5910 and a relay in hb"
fi

vnc_exec_relay hb "$LAB_HB" 5998 "$d" || nok "inetd listener in hb"
if vnc_snapshot ha "$LAB_HB::5998" "$LAB_STATE/inetd.jpg"; then
	ok "vncsnapshot from ha to x11vnc -inetd (socket as stdin/stdout): ${VNC_W}x${VNC_H} JPEG of the picture"
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
for x in "$d" "$d2"; do
	if [ -e "/tmp/.X$x-lock" ] || [ -e "/tmp/.X11-unix/X$x" ]; then
		nok "display :$x cleaned up"
	else
		ok "display :$x cleaned up"
	fi
done
[ "$fails" -eq 0 ]
