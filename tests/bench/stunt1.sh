#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of STUNT #1 and synth against simopen (issue 7), in the
# namespace lab: port-restricted(rst) x port-restricted(rst), --delay-a D
# --delay-b D (one way, each WAN link). Per round, in turn, one forced
# connect of each method from ha: the connect's elapsed_ms (control
# request to the handed-off socket) and the winning attempt's "established
# after N ms" from stuntd's log (its start to the kernel's ESTABLISHED).
# Medians of REPS rounds, simopen as the baseline of the same run. Writes
# the "## stunt1 and synth: time to connect" section of docs/benchmarks.md.
# Timing is measured here only, never asserted.
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init tree
REPS=${BENCH_REPS:-7}
DELAY=${BENCH_DELAY:-10}
bench_stuntd_lab
fails=0
raw=$(mktemp)
start_all port-restricted rst port-restricted rst --delay-a "$DELAY" --delay-b "$DELAY" || exit 1
for r in $(seq 1 "$REPS"); do
	for m in simopen stunt1 synth; do
		out=$(ctl a "{\"cmd\":\"connect\",\"peer\":\"office-pc\",\"service\":\"echo\",\"method\":\"$m\"}" 1000)
		bench_answer "$out"
		est=$(sed -n "s/.*: $m established after \([0-9]*\) ms.*/\1/p" "$LAB_STATE/stuntd-a.log" | tail -1)
		echo "$m $r ${ANS_OK:-0} ${ANS_MS:-0} ${est:-0}" | tee -a "$raw"
		sleep 0.3
	done
done
stop_all >/dev/null
python3 - "$raw" "$REPS" "$DELAY" <<'PY' | python3 "$TOP/tests/bench/docsection.py" "$DOC" "## stunt1 and synth: time to connect"
import statistics, sys
raw, reps, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
res = {}
for line in open(raw):
    m, r, ok, el, est = line.split()
    res.setdefault(m, []).append((int(ok), int(el), int(est)))
base = statistics.median([e for ok, e, _ in res["simopen"] if ok]) or 1
rows = []
for m in ("simopen", "stunt1", "synth"):
    v = [x for x in res.get(m, []) if x[0]]
    el = statistics.median([x[1] for x in v]) if v else 0
    es = statistics.median([x[2] for x in v]) if v else 0
    rows.append(f"| {m} | {len(v)}/{len(res.get(m, []))} | {el:.0f} | {es:.0f} | "
                f"{' '.join(str(x[2]) for x in res.get(m, []))} | {el / base:.2f} |")
sec = f"""## stunt1 and synth: time to connect

`tests/bench/stunt1.sh`: port-restricted (rst) × port-restricted (rst), {delay} ms one way added on
each WAN link (so ha–srv and hb–srv round trips are about {2 * delay} ms, ha–hb about {4 * delay} ms),
one forced connect of each method from ha per round, in turn, {reps} rounds in one lab. *connect* is
the control request's elapsed_ms (lookup, exchange, schedule, the attempt, the session header and
hand-off); *established* is the winning attempt's own time, from its start (the agreed start time)
to the kernel's ESTABLISHED, from stuntd's log. Ratio: connect median / simopen's.

| method | ok | connect ms (median) | established ms (median) | established per run | ratio to simopen |
|---|---:|---:|---:|---|---:|
{chr(10).join(rows)}

simopen waits for the kernel's first SYN retransmission (the initial RTO, 1 s) after its TTL-limited
SYN. stunt1 completes when stunt-server's spoofed SYN-ACKs arrive: both SYNACK requests' way to the
server plus its SYN-ACK's way back. synth completes when the RELAY "syn" of the other side has come
through the server and the repeated full-TTL SYN has crossed to the peer and its SYN-ACK back.
"""
print(sec)
PY
rm -f "$raw"
