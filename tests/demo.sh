#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: a VNC session between two NATed lab hosts through stuntd.
#
#   office-pc (hb) behind a port-restricted cone NAT whose gateway answers
#       unsolicited SYNs with RST: Xvfb showing a known picture (a grid of
#       twelve coloured cells, tests/lab/vncpic.py) + x11vnc on
#       127.0.0.1:5900, exposed by its stuntd as "vnc" to laptop only.
#   laptop (ha) behind a full-cone NAT: `stuntctl forward 127.0.0.1:5901
#       office-pc/vnc`, and vncsnapshot 127.0.0.1::5901 through it; the
#       screenshot must be that picture, pixel for pixel within JPEG's error.
#   stunt-server on srv (192.0.2.1 / 192.0.2.2).
#
# Everything lives in network namespaces made for this run and is torn down
# on every exit path. The screenshot is copied to build/demo-screenshot.jpg.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab/lab.sh"
# shellcheck source=tests/lab/vnc.sh
. "$here/lab/vnc.sh"

say() { echo "demo: $*"; }
die() { echo "demo: FAILED: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
	die "needs root (network namespaces, netfilter); run: sudo make demo"
fi
if [ ! -x "$STUNTD_BIN" ]; then
	echo "demo: $STUNTD_BIN is missing: stuntd is not built (daemon/main.c), so there is no demo to run." >&2
	exit 1
fi
stunt_bins_ok || die "build first: make"
vnc_tools_ok || die "VNC tools missing: run tools/install-deps.sh (make demo does)"

lab_init demo
vnc_trap
say "building the lab: laptop (ha) behind a full-cone NAT, office-pc (hb) behind a port-restricted cone NAT that answers unsolicited SYNs with RST"
lab_up --nat-a full-cone --nat-b port-restricted --syn-b rst || die "lab_up"
stunt_server_up || die "stunt-server did not start"
say "stunt-server on $LAB_SRV1 / $LAB_SRV2"

d=$(vnc_display)
vnc_start hb "$d" 5900 || die "Xvfb/x11vnc on office-pc"
say "office-pc: Xvfb :$d (${VNC_W}x${VNC_H}) showing a 4x3 grid of coloured cells, and x11vnc on 127.0.0.1:5900"

stunt_daemon_up hb office-pc --expose vnc=tcp:127.0.0.1:5900 --allow vnc=laptop ||
	die "stuntd on office-pc"
stunt_daemon_up ha laptop || die "stuntd on laptop"
say "both stuntd registered; what laptop's daemon knows:"
stunt_ctl laptop status | sed 's/^/    /'
say "and office-pc's NAT:"
stunt_ctl office-pc status | sed -n '/^NAT:/,/^  methods/p' | sed 's/^/    /'

lab_bg ha stuntctl-forward "$STUNTCTL_BIN" --control "$LAB_STATE/laptop.sock" \
	forward 127.0.0.1:5901 office-pc/vnc >/dev/null
lab_wait_port ha tcp 127.0.0.1 5901 10 || { cat "$LAB_STATE/stuntctl-forward.log" >&2; die "stuntctl forward"; }
say "laptop: stuntctl forward 127.0.0.1:5901 office-pc/vnc"

say "laptop: vncsnapshot 127.0.0.1::5901 ..."
t0=$(date +%s%N)
if ! vnc_snapshot ha 127.0.0.1::5901 "$LAB_STATE/screenshot.jpg" 60; then
	echo "demo: stuntctl forward said:" >&2
	sed 's/^/    /' "$LAB_STATE/stuntctl-forward.log" >&2
	echo "demo: office-pc's stuntd said (last lines):" >&2
	tail -n 25 "$LAB_STATE/stuntd-office-pc.log" | sed 's/^/    /' >&2
	echo "demo: laptop's stuntd said (last lines):" >&2
	tail -n 25 "$LAB_STATE/stuntd-laptop.log" | sed 's/^/    /' >&2
	die "no screenshot of office-pc's picture through stunt"
fi
t1=$(date +%s%N)

line=$(grep -m1 ' connected by ' "$LAB_STATE/stuntctl-forward.log")
method=$(echo "$line" | sed -nE 's/.* connected by ([a-z0-9]+) in .*/\1/p')
ms=$(echo "$line" | sed -nE 's/.* in ([0-9-]+) ms.*/\1/p')
mkdir -p "$LAB_BUILD"
cp "$LAB_STATE/screenshot.jpg" "$LAB_BUILD/demo-screenshot.jpg"
say "connected by ${method:-?} in ${ms:-?} ms (traversal); the whole screenshot took $(((t1 - t0) / 1000000)) ms"
say "screenshot (${VNC_W}x${VNC_H}, $(stat -c %s "$LAB_BUILD/demo-screenshot.jpg") bytes): $LAB_BUILD/demo-screenshot.jpg"
say "the picture matched what office-pc drew: $(cat "$LAB_STATE/screenshot.jpg.check")"
say "sessions seen by office-pc's daemon:"
stunt_ctl office-pc status | sed -n '/^sessions:/,$p' | sed 's/^/    /'
say "tearing down"
lab_down
vnc_cleanup
say "done"
