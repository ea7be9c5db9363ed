#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Port prediction through a busy sequential NAT (issue 19): writes the
# section "## Port prediction through a busy sequential NAT" of
# docs/benchmarks.md. A fresh lab per condition:
#   - ha behind sym-seq:1 with BENCH_BUSY_DELAY (20) ms one way on its WAN
#     link, hb behind port-restricted (rst); ha2 beside ha (--lan2-a) loads
#     gwa with tests/lab/flowgen.py: new TCP flows to a closed port of pub
#     (each one new mapping of the NAT's TCP counter) at each rate of
#     BENCH_BUSY_RATES ("0 30 50 100") a second;
#   - sequential x sequential: both sym-seq:1, both delayed, ha2 and hb2
#     loading their NATs at each rate of BENCH_BUSY_SEQSEQ_RATES ("0 50";
#     empty: none).
# Each condition: BENCH_BUSY_N (10) connects ha -> hb one at a time,
# --method predict, to the echo service (build/drv/loadconn, 64 bytes
# echoed; time from the control request to the echo). The load starts
# after both daemons registered (discovery measured an idle NAT) and runs
# until the connects are done.
# The sequential maps have BENCH_BUSY_SEQ_PORTS (20000) ports, not the
# lab's usual 2000: at 100 flows/s those wrap every 20 s, and a window
# across the wrap fails for the lab's sake, not the prediction's.
# BENCH_BUSY_BUILD names the build in the table (default: the tree's
# commit, "+" when it has changes); a run replaces the rows of its build,
# pairs and rates and keeps the others, so before / after is one run with
# each build. Quick version:
#   BENCH_BUSY_RATES="0 100" BENCH_BUSY_SEQSEQ_RATES= tests/bench/busyseq.sh
# Bounded: each connect has the daemon's 10 s deadline (loadconn 30 s);
# about a minute a condition when they succeed. Measured, never asserted.
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init tree
LAB_SEQ_MAX=${BENCH_BUSY_SEQ_PORTS:-20000}
bench_stuntd_lab
N=${BENCH_BUSY_N:-10}
RATES=${BENCH_BUSY_RATES-0 30 50 100}
SSRATES=${BENCH_BUSY_SEQSEQ_RATES-0 50}
DELAY=${BENCH_BUSY_DELAY:-20}
LABEL=${BENCH_BUSY_BUILD:-$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)$(
	[ -n "$(git -C "$TOP" status --porcelain --untracked-files=no -- . ':!docs' 2>/dev/null)" ] && echo +)}
FLOWGEN=$here/flowgen.py
# the load outlives the connects (loadconn waits 30 s at most for each)
FG_MAX=$((N * 40 + 60))
OUT=$(mktemp -d /tmp/bench-busyseq.XXXX)

# load_stop X FILE: SIGTERM to hX2's flowgen, its report into FILE as load_X_*
load_stop() {
	local pid
	pid=$(cat "$LAB_STATE/flowgen-$1.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	lab_wait_log "$LAB_STATE/flowgen-$1.log" '^per_s ' 10
	sed -n "s/^\(opened\|per_s\) /load_$1_\1 /p" "$LAB_STATE/flowgen-$1.log" >>"$2"
}

# run NAME PAIR RATE: PAIR pr (sym-seq:1 x port-restricted) or ss (sym-seq:1 x sym-seq:1)
run() {
	local name=$1 pair=$2 rate=$3 nat_b=port-restricted x
	local up=(--delay-a "$DELAY" --lan2-a) loaded=(a)
	if [ "$pair" = ss ]; then
		nat_b=sym-seq:1
		up+=(--delay-b "$DELAY" --lan2-b)
		loaded=(a b)
	fi
	# one peer's many connects in a row: past max-peer-starts (30 a
	# minute), which is not measured here
	STUNTD_EXTRA_B=(--max-peer-starts 100000)
	echo "rate $rate" >"$OUT/$name"
	if START_WAIT=30 start_all sym-seq:1 rst "$nat_b" rst "${up[@]}"; then
		if [ "$rate" != 0 ]; then
			for x in "${loaded[@]}"; do
				lab_bg "h${x}2" "flowgen-$x" python3 "$FLOWGEN" --to "$LAB_PUB:9" \
					--rate "$rate" --duration "$FG_MAX" >"$LAB_STATE/flowgen-$x.pid"
				lab_wait_log "$LAB_STATE/flowgen-$x.log" '^started' 10 ||
					echo "error 1 flowgen in h${x}2 did not start" >>"$OUT/$name"
			done
		fi
		lx ha "$BUILD/drv/loadconn" --control "$LAB_STATE/a.sock" --peer office-pc --service echo \
			--method predict --total "$N" --concurrency 1 --timeout-ms 30000 >>"$OUT/$name" 2>&1
		if [ "$rate" != 0 ]; then
			for x in "${loaded[@]}"; do load_stop "$x" "$OUT/$name"; done
		fi
		# the methods that won at ha (forced predict: predict or nothing)
		ctl a '{"cmd":"status"}' | python3 -c '
import json, sys
c = json.loads(sys.stdin.readline()).get("counters", {})
print("won", " ".join("%s:%d" % (k, v["won"]) for k, v in sorted(c.items()) if v.get("won")) or "-")' \
			>>"$OUT/$name" 2>/dev/null
	else
		echo "ok 0" >>"$OUT/$name"
		echo "error 1 the lab did not come up within 30 s" >>"$OUT/$name"
	fi
	lab_down
	python3 - "$OUT/$name" "$N" "$TOP/tests/bench" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from loadkv import kv
d = kv(sys.argv[1])
if d.get("ok", "0") == "0":    # loadconn says 0 for no time at all
    d["median_ms"] = d["p90_ms"] = "-"
print("| rate /s | ok | won | median ms | p90 ms | load kept /s | errors |")
print(f"| {d.get('rate')} | {d.get('ok', '0')}/{sys.argv[2]} | {d.get('won', '-')} | {d.get('median_ms', '-')} | "
      f"{d.get('p90_ms', '-')} | {' '.join(v for k, v in sorted(d.items()) if k.endswith('_per_s') and k.startswith('load_')) or '-'} | "
      f"{d['errors']} |")
PY
}

names=()
for r in $RATES; do
	echo "# busyseq: sym-seq:1 x port-restricted, ha2 loading at $r/s"
	run "pr-$r" pr "$r"
	names+=("pr-$r")
done
for r in $SSRATES; do
	echo "# busyseq: sym-seq:1 x sym-seq:1, ha2 and hb2 loading at $r/s"
	run "ss-$r" ss "$r"
	names+=("ss-$r")
done

python3 - "$OUT" "$TOP/tests/bench" "$N" "$DELAY" "$LABEL" "$(date -u '+%Y-%m-%d %H:%M')" \
	"$(uname -r)" "$DOC" "$LAB_SEQ_BASE" "$LAB_SEQ_MAX" "${names[@]}" <<'PY' | python3 "$TOP/tests/bench/docsection.py" "$DOC" "## Port prediction through a busy sequential NAT"
import os
import sys
out, lib, n, delay, label, when, kernel, doc, seqbase, seqmax = sys.argv[1:11]
names = sys.argv[11:]
sys.path.insert(0, lib)
from loadkv import kv
TITLE = "## Port prediction through a busy sequential NAT"
HEAD = "| build | measured | pair | load set /s | load kept /s | ok | won | median ms | p90 ms | errors |"

# the rows of the section as it is, but those this run measures again
kept = []
if os.path.exists(doc):
    inside = table = False
    for line in open(doc):
        if line.rstrip() == TITLE:
            inside = True
        elif line.startswith("## "):
            inside = False
        elif inside and line.startswith(HEAD):
            table = True
        elif inside and table and line.startswith("| ") and not line.startswith("|---"):
            kept.append(line.rstrip("\n"))
        elif inside and table and not line.strip():
            table = False

rows = []
for name in names:
    d = kv(f"{out}/{name}")
    if d.get("ok", "0") == "0":    # loadconn says 0 for no time at all
        d["median_ms"] = d["p90_ms"] = "-"
    pair = ("sym-seq:1 x sym-seq:1" if name.startswith("ss-")
            else "sym-seq:1 x port-restricted")
    load = " / ".join(d[k] for k in ("load_a_per_s", "load_b_per_s") if k in d) or "-"
    rows.append(f"| {label} | {when} | {pair} | {d.get('rate')} | {load} | {d.get('ok', '0')} / {n} | "
                f"{d.get('won', '-')} | {d.get('median_ms', '-')} | {d.get('p90_ms', '-')} | {d['errors']} |")
def key(row):
    """(build, pair, set rate) of a table row"""
    c = [x.strip() for x in row.split("|")[1:-1]]
    return c[0], c[2], c[3]


def order(rows):
    """builds in the order they came, then pair, then rate"""
    builds = list(dict.fromkeys(key(r)[0] for r in rows))
    return sorted(rows, key=lambda r: (builds.index(key(r)[0]), "sym-seq:1 x sym-seq" in key(r)[1],
                                       float(key(r)[2]) if key(r)[2].replace(".", "").isdigit() else 0))


new = {key(r) for r in rows}
allrows = order([r for r in kept if key(r) not in new] + rows)
base = any("baseline" in r.split("|")[1] for r in allrows)
print(f"""{TITLE}

`tests/bench/busyseq.sh` (issue 19), last run {when} UTC, kernel {kernel}. ha (the requester) is
behind `sym-seq:1` with {delay} ms one way on its WAN link (the lab's delay line), hb behind
`port-restricted` (rst); a second host beside ha (`ha2`, `--lan2-a`) loads the sequential NAT with
`tests/lab/flowgen.py`: new TCP flows (one new mapping of the NAT's TCP counter each, what predict
reads and aims at; the UDP counter is apart) to a closed port of `pub` at the set rate, from after
both daemons registered (discovery saw an idle NAT) until the connects are done. In the
sequential × sequential rows both sides are `sym-seq:1` with {delay} ms one way and both have a
second host loading at the set rate. {n} connects ha → hb one at a time, `--method predict`
(`build/drv/loadconn`, 64 bytes echoed; time from the control request to the echo, median and
p90 of the successful ones), a fresh lab per condition; the daemon's deadline is 10 s, no TURN.
"load kept" is the rate flowgen reached (one figure per loaded side); "won" the methods that won
at ha (stuntd's status counters). `tests/lab/t_busynat.sh`
checks the load: one mapping per flow, exactly.

The sequential maps have {seqmax} ports ({seqbase}..{int(seqbase) + int(seqmax) - 1}; the lab's default is 2000, which
100 flows/s wrap every 20 s: a window across the wrap would fail for the lab's sake), so at
100 flows/s they wrap every {int(seqmax) // 100} s.

A row stays until the same build (`BENCH_BUSY_BUILD`, by default the commit), pair and load are
measured again: before / after is one run with each build, and a quick run replaces only its
own rows.{'''
Rows marked *baseline* were measured with main before issue 19's change to the daemon's
prediction.''' if base else ''}

{HEAD}
|---|---|---|---:|---:|---:|---|---:|---:|---|
{chr(10).join(allrows)}
""")
PY
rc=$((PIPESTATUS[0] | PIPESTATUS[1]))
rm -rf "$OUT"
exit $rc
