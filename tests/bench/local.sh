#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Local paths (issue 16): writes the section "## Local paths: the same LAN"
# of docs/benchmarks.md. A fresh lab per condition, BENCH_LOCAL_N (10)
# connects one at a time to the echo service (build/drv/loadconn, 64 bytes
# echoed; time from the control request to the echo), the daemons' race:
#   - lan: ha and ha2 on one LAN behind a port-restricted gwa that does not
#     hairpin (--lan2-a), BENCH_LOCAL_LAN_MS (10) ms one way between them
#     (--lan-delay-a; LAN round trip twice that) and BENCH_LOCAL_WAN_MS (10)
#     ms one way on gwa's WAN link (the negotiation goes through the
#     server): ha -> ha2. Besides the total, the host path's own time: from
#     its connect (the log's "host: connect from port") to the hand-off
#     ("connected by host"), in LAN round trips (a TCP connect to a closed
#     port of ha2, median of 21); with BENCH_LOCAL_BASE set to another
#     build directory (a build of main, say), the same condition again with
#     that build's stuntd on both sides, in the same run: before and after;
#   - public on / off: ha behind port-restricted, hb behind port-restricted
#     on another site, BENCH_LOCAL_WAN_MS one way on each WAN link, host
#     candidates on (the default) and off on both daemons: what offering
#     and racing host candidates costs the public path (the ratio of the
#     medians, measured in the same run).
# Measured, never asserted. Bounded: each connect by the daemon's 10 s
# deadline (loadconn 30 s).
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init tree
bench_stuntd_lab
N=${BENCH_LOCAL_N:-10}
LAN_MS=${BENCH_LOCAL_LAN_MS:-10}
WAN_MS=${BENCH_LOCAL_WAN_MS:-10}
BASE=${BENCH_LOCAL_BASE:-}
BASE_REV=""
[ -n "$BASE" ] && BASE_REV=$(git -C "$BASE/.." rev-parse --short HEAD 2>/dev/null)
OUT=$(mktemp -d /tmp/bench-local.XXXX)
trap 'rm -rf "$OUT"' EXIT

# loadconn FROM PEER FILE: N connects, their summary and the methods that won
measure() {
	lx "h$1" "$BUILD/drv/loadconn" --control "$LAB_STATE/$1.sock" --peer "$2" --service echo \
		--total "$N" --concurrency 1 --timeout-ms 30000 >>"$3" 2>&1
	ctl "$1" '{"cmd":"status"}' | python3 -c '
import json, sys
c = json.loads(sys.stdin.readline()).get("counters", {})
print("won", " ".join("%s:%d" % (k, v["won"]) for k, v in sorted(c.items()) if v.get("won")) or "-")' \
		>>"$3" 2>/dev/null
}

# the LAN's round trip: a TCP connect to a closed port of ha2, median of 21
lan_rtt() {
	lx ha python3 -c '
import socket, statistics, time
r = []
for _ in range(21):
    s = socket.socket()
    t = time.monotonic()
    try:
        s.connect(("10.1.0.11", 9))
    except OSError:
        pass
    r.append((time.monotonic() - t) * 1000)
    s.close()
print("lan_rtt_ms %.1f" % statistics.median(r))'
}

# host path per session from ha's log: connect -> hand-off, ms
host_times() {
	python3 - "$LAB_STATE/stuntd-a.log" <<'PY'
import re, sys
from datetime import datetime
start, out = {}, []
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) stuntd: \w+: session (\d+): (.*)", line)
    if not m:
        continue
    t = datetime.fromisoformat(m.group(1)).timestamp() * 1000
    sid, msg = m.group(2), m.group(3)
    if msg.startswith("host: connect from port"):
        start[sid] = t
    elif "connected by host in" in msg and sid in start:
        out.append(t - start[sid])
out.sort()
print("host_n %d" % len(out))
if out:
    print("host_median_ms %.1f" % out[len(out) // 2])
PY
}

# lan FILE: the same-LAN condition with $STUNTD on both sides
lan() {
	echo "# local: ha -> ha2 on one LAN, $LAN_MS ms one way between them, $WAN_MS ms on the WAN ($STUNTD)"
	STUNTD_NODE_B=ha2
	STUNTD_EXTRA_B=(--max-peer-starts 100000)
	if START_WAIT=30 start_all port-restricted rst port-restricted rst --lan2-a --lan-delay-a "$LAN_MS" \
		--delay-a "$WAN_MS"; then
		lan_rtt >>"$1"
		measure a office-pc "$1"
		host_times >>"$1"
	else
		echo "error 1 the lab did not come up" >>"$1"
	fi
	lab_down
	unset STUNTD_NODE_B
}

lan "$OUT/lan"
if [ -n "$BASE" ]; then
	own=$STUNTD
	STUNTD=$BASE/stuntd
	lan "$OUT/lan-base"
	STUNTD=$own
fi

for hc in on off; do
	echo "# local: ha -> hb on two sites, host candidates $hc"
	STUNTD_EXTRA_A=(--host-candidates "$hc")
	STUNTD_EXTRA_B=(--host-candidates "$hc" --max-peer-starts 100000)
	if START_WAIT=30 start_all port-restricted rst port-restricted rst --delay-a "$WAN_MS" \
		--delay-b "$WAN_MS"; then
		measure a office-pc "$OUT/public-$hc"
	else
		echo "error 1 the lab did not come up" >>"$OUT/public-$hc"
	fi
	lab_down
done

python3 - "$OUT" "$TOP/tests/bench" "$N" "$LAN_MS" "$WAN_MS" "$(date -u '+%Y-%m-%d %H:%M')" \
	"$(uname -r)" "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)" "$BASE_REV" <<'PY' |
import sys
out, lib, n, lan_ms, wan_ms, when, kernel, commit, base = sys.argv[1:10]
sys.path.insert(0, lib)
from loadkv import kv, ratio
lan = kv(f"{out}/lan")
on, off = kv(f"{out}/public-on"), kv(f"{out}/public-off")
def rtts(ms, rtt):
    try:
        return "%.1f" % (float(ms) / float(rtt))
    except (TypeError, ValueError, ZeroDivisionError):
        return "-"
def row(name, d):
    return (f"| {name} | {d.get('ok', '0')}/{n} | {d.get('won', '-')} | {d.get('median_ms', '-')} | "
            f"{d.get('p90_ms', '-')} | {d.get('lan_rtt_ms', '-')} | {d.get('host_median_ms', '-')} "
            f"({d.get('host_n', '0')} sessions) | {rtts(d.get('host_median_ms'), d.get('lan_rtt_ms'))} | "
            f"{d['errors']} |\n")
base_row = row(f"ha -> ha2, same LAN, base build {base}", kv(f"{out}/lan-base")) if base else ""
print(f"""## Local paths: the same LAN

`tests/bench/local.sh` (issue 16), last run {when} UTC, kernel {kernel}, commit {commit}. A fresh
lab per condition; {n} connects one at a time to the echo service (`build/drv/loadconn`, 64 bytes
echoed; time from the control request to the echo), the daemons' race, no forced method.

**The same LAN**: ha and ha2 behind one port-restricted gateway that does not hairpin
(`--lan2-a`), {lan_ms} ms one way between them on the LAN (`--lan-delay-a`) and {wan_ms} ms one way
on the gateway's WAN link, where the negotiation with the server goes. The LAN round trip is a
TCP connect to a closed port of ha2 (median of 21). "host path" is the winning host attempt's own
time, from its connect to the hand-off (ha's log: `host: connect from port` to `connected by
host`). The issue's goal is at most 2 LAN round trips. The requester writes the session
header (with its proof) as soon as its connect completes, in the flight of the handshake's last
ACK; the responder accepts, finds the header there, queues its proof (`daemon/trav/host.c`,
`MSG_MORE`), reads the header, hands the connection off and answers 'K' (`daemon/confirm.c`):
proof and 'K' leave in one segment; the requester takes the connection only once that proof
verified. 2 round trips, and what is above 2.0 is the daemons' own processing. A wrong host (a
private address can be another LAN's machine) gets the header and nothing else
(`docs/security.md`, "What a wrong host gets"). Before (the base build, when a row names one),
the requester waited for the responder's proof before it wrote its header: 3 round trips. (The
header written at once but the proof sent alone gave 3.0 too: the kernel held the 'K' for the
proof's ACK, Nagle, or until the proof left the host, autocorking; hence the one segment.)

| condition | ok | won | median ms | p90 ms | LAN RTT ms | host path median ms | host path in LAN RTTs | errors |
|---|---|---|---|---|---|---|---|---|
{row("ha -> ha2, same LAN", lan)}{base_row}
**The public path with and without host candidates**: ha and hb behind port-restricted
gateways on two sites, {wan_ms} ms one way on each WAN link; host candidates on (the default) and
off on both daemons. The host candidates are offered and, when the server vouches that the peer
is behind our own public address, raced beside the public path, never before it: here the peer
is elsewhere, so they cost only their bytes in the EXCHANGE.

| host candidates | ok | won | median ms | p90 ms | median / off | errors |
|---|---|---|---|---|---|---|
| on | {on.get('ok', '0')}/{n} | {on.get('won', '-')} | {on.get('median_ms', '-')} | {on.get('p90_ms', '-')} | {ratio(on.get('median_ms'), off.get('median_ms'))} | {on['errors']} |
| off | {off.get('ok', '0')}/{n} | {off.get('won', '-')} | {off.get('median_ms', '-')} | {off.get('p90_ms', '-')} | 1.00 | {off['errors']} |
""")
PY
	python3 "$TOP/tests/bench/docsection.py" "$DOC" "## Local paths: the same LAN"
