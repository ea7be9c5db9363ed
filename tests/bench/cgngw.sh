#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of stunt-rules' STUNT-PRE (inbound RSTs queued in raw
# PREROUTING, before connection tracking), issue 16: stuntd on two home
# gateways inside one carrier NAT that does not hairpin, each gateway's
# input firewall answering new SYNs from the WAN with an RST
# (tests/lab/stuntd_lab.sh start_gw_cgn rst). Two labs in the same run,
# the same stuntd build, only the rules tool differing: stunt-rules as it
# was before STUNT-PRE (the baseline, from git: the parent of the commit
# that brought STUNT-PRE, or BENCH_CGNGW_BASE_REV) and as it is now.
# BENCH_CGNGW_N (10) connects gw-a -> gw-b to gwb's LAN host's echo (the
# race, no method forced), one at a time: ok, method, elapsed_ms, and the
# kernel's SYN retransmissions on both gateways. Writes the "## Gateways
# inside one CGN: RSTs before conntrack" section of docs/benchmarks.md.
# Timing is measured here only, never asserted.
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init tree
N=${BENCH_CGNGW_N:-10}
bench_stuntd_lab
fails=0
raw=$(mktemp)
old_rules=$(mktemp)
NEW_RULES=$RULES_TOOL
# the oldest commit that brought STUNT-PRE (later ones changed it too)
intro=$(git -C "$TOP" log --reverse --format=%h -S STUNT-PRE -- tools/stunt-rules 2>/dev/null | head -1)
BASE_REV=${BENCH_CGNGW_BASE_REV:-${intro:+$(git -C "$TOP" rev-parse --short "$intro^" 2>/dev/null)}}
if [ -z "$BASE_REV" ] || ! git -C "$TOP" show "$BASE_REV:tools/stunt-rules" >"$old_rules" 2>/dev/null; then
	echo "bench cgngw: no baseline stunt-rules (a git tree is needed, or BENCH_CGNGW_BASE_REV)" >&2
	exit 1
fi
chmod +x "$old_rules"

# run LABEL RULES: one lab, N connects; lines "run LABEL OK METHOD MS RETRANS"
run() {
	local label=$1 i out r0 r1
	RULES_TOOL=$2
	STUNTD_NODE_A=gwa STUNTD_NODE_B=gwb
	if ! start_gw_cgn rst >/dev/null; then
		echo "error $label the lab did not come up" >>"$raw"
		lab_down
		return
	fi
	for i in $(seq 1 "$N"); do
		r0=$(( $(synretrans gwa) + $(synretrans gwb) ))
		out=$(ctl a '{"cmd":"connect","peer":"gw-b","service":"echo"}' 1000)
		r1=$(( $(synretrans gwa) + $(synretrans gwb) ))
		bench_answer "$out"
		echo "run $label ${ANS_OK:-0} ${ANS_METHOD:-none} ${ANS_MS:-0} $((r1 - r0))" | tee -a "$raw"
		sleep 0.3
	done
	lab_down
	unset STUNTD_NODE_A STUNTD_NODE_B
}

run base "$old_rules"
run this "$NEW_RULES"
RULES_TOOL=$NEW_RULES

python3 - "$raw" "$N" "$(uname -r)" "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)" "$BASE_REV" \
	"$(date -u '+%Y-%m-%d %H:%M')" <<'PY' |
import statistics, sys
raw, n, kernel, rev, base_rev, when = sys.argv[1:7]
runs, errors = {}, []
for line in open(raw):
    f = line.split()
    if f[0] == "run":
        runs.setdefault(f[1], []).append((int(f[2]) > 0, f[3], int(f[4]), int(f[5])))
    elif f[0] == "error":
        errors.append(" ".join(f[1:]))
rows, med = [], {}
for label in ("base", "this"):
    v = runs.get(label, [])
    good = [e for ok, _, e, _ in v if ok]
    med[label] = statistics.median(good) if good else 0
for label in ("base", "this"):
    v = runs.get(label, [])
    good = [e for ok, _, e, _ in v if ok]
    wins = {}
    for ok, m, _, _ in v:
        if ok:
            wins[m] = wins.get(m, 0) + 1
    won = ", ".join(f"{k} {c}" for k, c in sorted(wins.items(), key=lambda x: -x[1])) or "–"
    rt = sum(r for _, _, _, r in v)
    who = f"before STUNT-PRE ({base_rev}; baseline)" if label == "base" else f"with STUNT-PRE ({rev})"
    ratio = "-" if label == "base" or not med["base"] or not good else f"{med[label] / med['base']:.3f}"
    p = (f"{max(good)}" if good else "–")
    rows.append(f"| {who} | {len(good)}/{len(v)} | {won} | {med[label]:.0f} | {p} | {ratio} | {rt} | "
                f"{' '.join(str(e) if ok else 'fail' for ok, _, e, _ in v)} |")
err = "".join(f"\nError: {e}." for e in errors)
print(f"""## Gateways inside one CGN: RSTs before conntrack

`tests/bench/cgngw.sh` ({when} UTC, kernel {kernel}): stuntd on two home gateways (gwa, gwb)
inside one carrier NAT that does not hairpin (`lab_up --cgn-shared --syn-a rst --syn-b rst`), each
gateway's input firewall answering new SYNs from the WAN with an RST; each gateway exposes its LAN
host's echo service. {n} connects gw-a -> gw-b, one at a time, the race (no method forced), 1000
bytes echoed; no delay added (the gateways share the CGN's inside link). Two labs in the same run,
the same stuntd, only stunt-rules differing: before STUNT-PRE (inbound RSTs queued in mangle INPUT,
after connection tracking) and with it (every RST to the host queued in raw PREROUTING, before).
*SYN retrans*: the kernel's SYN retransmissions on both gateways during the connects (TcpExt
TCPSynRetrans), summed.{err}

| stunt-rules | ok | won | connect ms (median) | max ms | ratio to baseline | SYN retrans | per connect (ms) |
|---|---|---|---:|---:|---:|---:|---|
{chr(10).join(rows)}

The host method's simultaneous open between the two gateways: whichever SYN goes first meets the
other gateway's RST. Before, conntrack saw that RST before the queue dropped it and closed the
sender's own entry of the flow, so the peer's SYN met the sender's input firewall as a new
connection; only a kernel retransmission of the SYN a second later (or nothing) got the flow
through. Now the RST is dropped before conntrack, and the peer's SYN is a reply.""")
PY
	python3 "$TOP/tests/bench/docsection.py" -q "$DOC" "## Gateways inside one CGN: RSTs before conntrack"
rm -f "$raw" "$old_rules"
