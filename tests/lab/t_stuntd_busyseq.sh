#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# predict through a busy sequential NAT (issue 19), in the namespace lab:
# ha behind sym-seq:1 with 20 ms one way, hb behind a port-restricted cone,
# and ha2 (ha's LAN) opening 100 new TCP flows a second through the same
# NAT (tests/lab/flowgen.py), so that about 20 of its ports go to others
# between predict's Binding and its window. Checks:
#   - 3 connects ha -> hb with --method predict, one at a time: at least 2
#     carry their data (the window of 16 the daemon advertised before
#     issue 19 connected 0 of 10 at this rate, docs/benchmarks.md);
#   - the daemon measured the others' pace and advertised a window wider
#     than 16 ("advertising A..B", B - A + 1 > 16), and its status names
#     the pace (busy_nat.pace_per_s > 0);
#   - no RST left the hosts (stop_all), SIGTERM leaves iptables as before.
# Bounded: flowgen stops by itself after 60 s; each connect by its 30 s.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
# 20000 ports in the sequential map: 100 flows/s would wrap the default
# 2000 every 20 s, and a window across the wrap fails for the lab's sake
LAB_SEQ_MAX=20000
RATE=100

STUNTD_EXTRA_B=(--max-peer-starts 100000)
START_WAIT=30 start_all sym-seq:1 rst port-restricted rst --delay-a 20 --lan2-a || exit 1
lab_bg ha2 flowgen python3 "$here/flowgen.py" --to "$LAB_PUB:9" --rate "$RATE" --duration 60 >/dev/null
if lab_wait_log "$LAB_STATE/flowgen.log" '^started' 10; then
	ok "ha2 loads the sequential NAT with $RATE new flows a second"
else
	nok "flowgen started in ha2"
fi
lx ha "$BUILD/drv/loadconn" --control "$LAB_STATE/a.sock" --peer office-pc --service echo \
	--method predict --total 3 --concurrency 1 --timeout-ms 30000 >"$LAB_STATE/lc.out" 2>&1
okc=$(awk '$1 == "ok" { print $2; exit }' "$LAB_STATE/lc.out")
grep -E '^(ok|failed|median_ms|error)' "$LAB_STATE/lc.out" | sed 's/^/# loadconn: /'
if [ -n "$okc" ] && [ "$okc" -ge 2 ]; then
	ok "predict through the busy NAT: $okc of 3 connects carried their data"
else
	nok "predict through the busy NAT: ${okc:-?} of 3 connected"
fi
wins=$(grep -o 'advertising [0-9]*\.\.[0-9]*' "$LAB_STATE/stuntd-a.log" |
	awk '{ split($2, r, "\\.\\."); n = r[2] - r[1] + 1; if (n > m) m = n } END { print m + 0 }')
pace=$(ctl a '{"cmd":"status"}' | python3 -c 'import json,sys; b=json.loads(sys.stdin.readline()).get("busy_nat") or {}; print(b.get("pace_per_s", 0))' 2>/dev/null)
echo "# widest window advertised: $wins; busy_nat.pace_per_s: $pace"
if [ "${wins:-0}" -gt 16 ] && python3 -c 'import sys; sys.exit(not float(sys.argv[1]) > 0)' "${pace:-0}"; then
	ok "the daemon measured the others' pace ($pace ports/s) and widened its window ($wins predictions)"
else
	nok "pace '$pace', widest window '$wins'"
fi
stop_all
[ "$fails" -eq 0 ]
