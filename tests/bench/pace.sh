#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The daemon's SYN clock (issue 14, daemon/trav/pace.h): writes the section
# "## The daemon's SYN clock" of docs/benchmarks.md. Each condition twice
# in the same run, in a fresh lab each: stuntd with --syn-pacing on (the
# default) and with --syn-pacing off (the kernel's SYN retransmissions only,
# the baseline). Connects one at a time (build/drv/loadconn, 64 bytes
# echoed), the strategy's choice, 10 % or 30 % loss each way on both WAN
# links:
#   - port-restricted x port-restricted (rst; simopen and stunt1 race),
#     10 %: BENCH_PACE_N connects (100); 30 %: BENCH_PACE_N30 (40);
#   - full-cone x port-restricted (rst; direct and reversal), 10 %:
#     BENCH_PACE_ND (40).
# Bounded (each connect has the daemon's 10 s deadline; loadconn 30 s):
# about 10-20 minutes. Timings are measured here, never asserted.
# To look at one condition: BENCH_PACE_ONLY="l30" (any of l10 l30 fc)
# runs only those and leaves the section alone; BENCH_PACE_PACING="on"
# only that pacing; BENCH_PACE_LOGS=DIR keeps each lab's daemon and
# server logs there (DIR/NAME/stuntd-a.log ...), and the loadconn output;
# BENCH_PACE_VS=DIR (a partial run only) runs each condition a second time
# with DIR/stuntd and DIR/stunt-server, the build of the code before a
# change, as NAME-vs (the baseline of that change, same pacing, same run),
# and writes the section "## Loss: a change against its baseline" instead
# (BENCH_PACE_VS_NOTE says what the baseline is, BENCH_PACE_VS_WHAT what
# the change is: a paragraph after the table);
# BENCH_PACE_PCAP=1 with BENCH_PACE_LOGS also keeps every TCP packet ha
# and hb send and receive (all-a.pcap, all-b.pcap).
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init tree
bench_stuntd_lab
N10=${BENCH_PACE_N:-100}
N30=${BENCH_PACE_N30:-40}
ND=${BENCH_PACE_ND:-40}
ONLY=${BENCH_PACE_ONLY:-}
PACINGS=${BENCH_PACE_PACING:-off on}
LOGS=${BENCH_PACE_LOGS:-}
VS=${BENCH_PACE_VS:-}
OWN_STUNTD=$STUNTD OWN_SERVER=$SERVER
OUT=$(mktemp -d /tmp/bench-pace.XXXX)

# run NAME PACING N NAT_A NAT_B [LAB_UP_ARGS...]
run() {
	local name=$1 pacing=$2 n=$3
	shift 3
	# one peer's many connects in a row: past max-peer-starts (30 a
	# minute), which is not measured here
	STUNTD_EXTRA_A=(--syn-pacing "$pacing")
	STUNTD_EXTRA_B=(--syn-pacing "$pacing" --max-peer-starts 100000)
	if START_WAIT=60 start_all "$1" rst "$2" rst "${@:3}"; then
		lx ha "$BUILD/drv/loadconn" --control "$LAB_STATE/a.sock" --peer office-pc --service echo \
			--total "$n" --concurrency 1 --timeout-ms 30000 >"$OUT/$name" 2>&1
		{ ctl a '{"cmd":"status"}'; ctl b '{"cmd":"status"}'; } | python3 -c '
import json, sys
a, b = (json.loads(l).get("counters", {}) for l in sys.stdin.read().splitlines()[:2])
print("copies", sum(v.get("syns_again", 0) for c in (a, b) for v in c.values()))
print("won", " ".join("%s:%d" % (k, v["won"]) for k, v in sorted(a.items()) if v.get("won")))' \
			>>"$OUT/$name" 2>/dev/null
	else
		echo "ok 0" >"$OUT/$name"
		echo "error 1 the lab did not come up within 60 s" >>"$OUT/$name"
	fi
	if [ -n "$LOGS" ]; then
		mkdir -p "$LOGS/$name"
		cp "$LAB_STATE"/*.log "$LAB_STATE"/all-?.pcap "$OUT/$name" "$LOGS/$name/" 2>/dev/null
	fi
	lab_down
}
if [ -n "${BENCH_PACE_PCAP:-}" ] && [ -n "$LOGS" ]; then
	start_all_hook() {
		lab_bg ha all-a tcpdump -i eth0 -nn -U --immediate-mode -s 128 -w "$LAB_STATE/all-a.pcap" tcp >/dev/null
		lab_bg hb all-b tcpdump -i eth0 -nn -U --immediate-mode -s 128 -w "$LAB_STATE/all-b.pcap" tcp >/dev/null
		lab_wait_capture all-a && lab_wait_capture all-b
	}
fi
# want KEY: this condition is to run
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
# each: with this build, then (BENCH_PACE_VS) with the other
runs=("")
[ -n "$VS" ] && [ -n "$ONLY" ] && runs+=(-vs)
for p in $PACINGS; do
	for v in "${runs[@]}"; do
		if [ -n "$v" ]; then
			STUNTD=$VS/stuntd SERVER=$VS/stunt-server
		else
			STUNTD=$OWN_STUNTD SERVER=$OWN_SERVER
		fi
		want l10 && run "l10-$p$v" "$p" "$N10" port-restricted port-restricted --loss-a 10 --loss-b 10
		want l30 && run "l30-$p$v" "$p" "$N30" port-restricted port-restricted --loss-a 30 --loss-b 30
		want fc && run "fc-$p$v" "$p" "$ND" full-cone port-restricted --loss-a 10 --loss-b 10
	done
done
if [ -n "$ONLY" ] || [ "$PACINGS" != "off on" ]; then
	# a partial run: the numbers, not the section (with VS: its own)
	for f in "$OUT"/*; do
		echo "== ${f##*/}"
		cat "$f"
	done
	rc=0
	if [ -n "$VS" ] && [ -n "$ONLY" ]; then
		python3 - "$OUT" "$TOP/tests/bench" "$(date -u '+%Y-%m-%d %H:%M')" "$(uname -r)" \
			"${BENCH_PACE_VS_NOTE:-$VS}" "$ONLY" "$PACINGS" <<'PY' |
import os, sys
out, lib, when, kernel, vsnote, only, pacings = sys.argv[1:8]
what = os.environ.get("BENCH_PACE_VS_WHAT", "")
sys.path.insert(0, lib)
from loadkv import cells, kv
labels = {"l10": "strategy, port-restricted x port-restricted, 10 % loss each way, both sides",
          "l30": "strategy, port-restricted x port-restricted, 30 % loss each way, both sides",
          "fc": "strategy, full-cone x port-restricted, 10 % loss each way, both sides"}
rows = []
for key in only.split():
    for p in pacings.split():
        base, new = kv(f"{out}/{key}-{p}-vs"), kv(f"{out}/{key}-{p}")
        for tag, d in (("before (baseline)", base), ("after", new)):
            rows.append(f"| {labels[key]} | {p} | {tag} | {cells(d, d.get('total', '?'), base, d is new)} | "
                        f"{d.get('won', '-')} | {d['errors']} |")
print(f"""## Loss: a change against its baseline

`tests/bench/pace.sh` with `BENCH_PACE_VS`, {when} UTC, kernel {kernel}: each condition run with this
build ("after") and with the build before the change ("before": {vsnote}), each in a fresh lab, in
the same run, as in "The daemon's SYN clock" above (connects one at a time from ha, 64 bytes
echoed, time from the control request to the echo; nft `numgen random` loss on both WAN links,
both directions, so a packet from host to host crosses two lossy links; 10 s deadline, no TURN
server; hb allows any number of session starts). Failures are counted by the error the
connect got. A failed connect is answered at once when it fails fast, and the next one is
asked for at once: one lost signalling connection in the baseline fails every connect asked
for until it is made again.

| condition | pacing | build | ok | median ms | p90 ms | ratio | won | errors |
|---|---|---|---:|---:|---:|---:|---|---|
{chr(10).join(rows)}
{chr(10) + what + chr(10) if what else ""}""")
PY
			python3 "$TOP/tests/bench/docsection.py" "$DOC" "## Loss: a change against its baseline"
		rc=$((PIPESTATUS[0] | PIPESTATUS[1]))
	fi
	rm -rf "$OUT"
	exit $rc
fi

python3 - "$OUT" "$TOP/tests/bench" "$N10" "$N30" "$ND" "$(date -u '+%Y-%m-%d %H:%M')" \
	"$(uname -r)" <<'PY' | python3 "$TOP/tests/bench/docsection.py" "$DOC" "## The daemon's SYN clock"
import sys
out, lib, n10, n30, nd, when, kernel = sys.argv[1:8]
sys.path.insert(0, lib)
from loadkv import cells, kv
rows = []
for key, label, n in (("l10", "strategy, port-restricted x port-restricted, 10 % loss each way, both sides", n10),
                      ("l30", "the same, 30 % loss", n30),
                      ("fc", "strategy, full-cone x port-restricted, 10 % loss each way, both sides", nd)):
    off, on = kv(f"{out}/{key}-off"), kv(f"{out}/{key}-on")
    for tag, d in (("off (baseline)", off), ("on", on)):
        rows.append(f"| {label} | {tag} | {cells(d, n, off, d is on)} | "
                    f"{d.get('copies', '-')} | {d.get('won', '-')} | {d['errors']} |")
print(f"""## The daemon's SYN clock

`tests/bench/pace.sh`, {when} UTC, kernel {kernel}: stuntd with `--syn-pacing on` (the default: an
unanswered full-TTL SYN goes again after 100 ms, then 200, 400, 800 ms gaps, at most 8 copies;
stunt1 asks the server for its SYN-ACK again after 250, 500, 1000 ms while its socket is still in
SYN_SENT) against `--syn-pacing off` (the kernel's SYN retransmissions only: 1 s, 2 s, 4 s; one
SYNACK request), each condition in a fresh lab, in the same run. Connects one at a time from ha
(`build/drv/loadconn`, 64 bytes echoed; time from the control request to the echo); loss is nft
`numgen random` on both WAN links, both directions; the daemon's deadline is 10 s and no TURN
server is configured (a failure is a failure, not a relay). ratio = median with pacing / median
without, same condition. "copies" = SYN copies both stuntds sent (status
`counters.*.syns_again`); "won" = methods that won at ha. hb allows any number of session starts
(`--max-peer-starts 100000`: the per-peer budget is not what is measured). The 30 % goal against
the build before a change, 100 connects: "Loss: a change against its baseline" below.

| condition | pacing | ok | median ms | p90 ms | ratio | copies | won | errors |
|---|---|---:|---:|---:|---:|---:|---|---|
{chr(10).join(rows)}
""")
PY
rc=$((PIPESTATUS[0] | PIPESTATUS[1]))
rm -rf "$OUT"
exit $rc
