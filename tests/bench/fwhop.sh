#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of the measured IPv6 hop limit (issue 17; probes/probe6_fw.c,
# stuntd's ipv6-hop-limit auto): side a's IPv6 firewall two hops away
# (lab_up --ipv6 --cgn-a: the carrier's router cgna holds it, gwa only
# routes), side b's one hop away (gwb); IPv4 port-restricted NATs; 10 ms
# one way on each WAN link (ha-hb RTT 40 ms). The server with --primary6 /
# --alternate6, both daemons with --server6. From hb, simopen6 forced: ha,
# the responder, sends the first SYN, hop-limited. Two labs in the same
# run: ha with the hop limit measured (auto, the default) and ha with
# --ipv6-hop-limit 2 (the old default, the baseline); REPS connects each;
# medians, their ratio, and the hop limit ha's status reports. Writes the
# "## IPv6: the firewall's distance, measured" section of
# docs/benchmarks.md. Timing is measured here only, never asserted.
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init tree
REPS=${BENCH_FWHOP_REPS:-12}
DELAY=${BENCH_DELAY:-10}
bench_stuntd_lab
raw=$(mktemp)
fails=0

# run LABEL [HOPLIMIT]: one lab, REPS connects hb -> ha, lines
# "run LABEL OK ELAPSED" and "hops LABEL VALUE FROM" to $raw
run() {
	local label=$1 r out v
	echo "# fwhop: $label"
	SERVER_EXTRA=(--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6")
	STUNTD_EXTRA_A=(--connect-timeout 8000 --server6 "$LAB_SRV1_6" ${2:+--ipv6-hop-limit "$2"})
	STUNTD_EXTRA_B=(--connect-timeout 8000 --server6 "$LAB_SRV1_6" --max-peer-starts 100000)
	if ! START_WAIT=30 start_all port-restricted rst port-restricted rst --ipv6 --cgn-a \
		--fw6-a drop --fw6-b drop --delay-a "$DELAY" --delay-b "$DELAY"; then
		echo "error $label the lab did not come up" >>"$raw"
		return
	fi
	v=$(status_field a 'str(s["ipv6_hop_limit"]["value"]) + " " + s["ipv6_hop_limit"]["from"]')
	echo "hops $label ${v:-? ?}" | tee -a "$raw"
	for r in $(seq 1 "$REPS"); do
		out=$(ctl b '{"cmd":"connect","peer":"laptop","service":"echo","method":"simopen6"}' 1000)
		bench_answer "$out"
		echo "run $label ${ANS_OK:-0} ${ANS_MS:-0}" | tee -a "$raw"
		sleep 0.3
	done
	stop_all >/dev/null
	SERVER_EXTRA=()
}

run measured
run configured2 2

python3 - "$raw" "$REPS" "$DELAY" "$(uname -r)" "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)" \
	"$(date -u '+%Y-%m-%d %H:%M')" <<'PY' |
import statistics, sys
raw, reps, delay, kernel, rev, when = sys.argv[1:7]
runs, hops, errors = {}, {}, []
for line in open(raw):
    f = line.split()
    if f[0] == "run":
        runs.setdefault(f[1], []).append((int(f[2]) > 0, int(f[3])))
    elif f[0] == "hops":
        hops[f[1]] = " ".join(f[2:])
    elif f[0] == "error":
        errors.append(" ".join(f[1:]))
names = {"measured": "auto (measured; the default)", "configured2": "2 (configured; the old default, baseline)"}
med = {}
rows = []
for label in ("configured2", "measured"):
    v = runs.get(label, [])
    good = [e for ok, e in v if ok]
    med[label] = statistics.median(good) if good else 0
for label in ("configured2", "measured"):
    v = runs.get(label, [])
    good = [e for ok, e in v if ok]
    base = med.get("configured2", 0)
    ratio = "-" if label == "configured2" or not base else f"{med[label] / base:.3f}"
    rows.append(f"| {names[label]} | {hops.get(label, '?')} | {len(good)}/{len(v)} | {med[label]:.0f} | "
                f"{ratio} | {' '.join(str(e) for _, e in v)} |")
err = "".join(f"\nError: {e}." for e in errors)
print(f"""## IPv6: the firewall's distance, measured

`tests/bench/fwhop.sh` ({when} UTC, kernel {kernel}, {rev}): `lab_up --ipv6 --cgn-a --fw6-a drop --fw6-b drop`
-- side a's IPv6 firewall is the carrier's router, two hops from ha (gwa only routes IPv6),
side b's is gwb, one hop from hb; IPv4 port-restricted NATs; {delay} ms one way on each WAN
link (ha–hb RTT {4 * int(delay)} ms); the server with `--primary6`/`--alternate6`, both
daemons with `--server6`. From hb, `simopen6` forced, {reps} connects per lab: ha, the
responder, sends the first SYN with its hop limit. Two labs in the same run, ha's
`ipv6-hop-limit` differing: `auto` (discovery's measure, probes/probe6_fw.c) and 2, as it
was before it was measured (the baseline). *hop limit*: what ha's `stuntctl status` says
(`ipv6_hop_limit`). *connect*: the control request's elapsed_ms.{err}

| ha's ipv6-hop-limit | hop limit (status) | ok | connect ms (median) | ratio to baseline | per run (ms) |
|---|---|---:|---:|---:|---|
{chr(10).join(rows)}

With 2, ha's first SYN dies at gwa's upstream router before the carrier's firewall
keeps any state; hb's SYN is dropped there, and only ha's kernel retransmission a
second later, at full hop limit, gets the flow through. With the measured 3 the first
SYN opens the carrier's firewall and dies at gwb.""")
PY
	python3 "$TOP/tests/bench/docsection.py" -q "$DOC" "## IPv6: the firewall's distance, measured"
rm -f "$raw"
