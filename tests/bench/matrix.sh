#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: the success matrix (issue 7). Every unordered pair of the five
# lab NAT behaviours (15 pairs), one fresh lab per cell
# (tests/lab/matrix_cell.sh), in groups:
#   rst, drop, icmp   unsolicited SYN answered by RST / dropped / ICMP,
#                     no CGN: strategy both ways + every method forced both ways
#   cgn               a CGN layer on both sides, RST: the same
#   cgn-drop, cgn-icmp  the same with drop / icmp (BENCH_MATRIX_FULL=1 only)
#   delay             BENCH_MATRIX_SLOW ms one way on each WAN link: strategy only
#   loss              10 % loss on side b's WAN link: strategy only, 3 tries
#   local             the local paths (matrix_cell.sh --local, issue 16): two
#                     hosts on one LAN behind a port-restricted NAT without
#                     and with hairpinning, and the wrong host (the same
#                     subnet in two homes behind one CGN); no WAN delay, no
#                     TURN: strategy both ways + every method forced both
#                     ways; its own section, "## Success matrix: local paths"
#   ipv6              the IPv6 cells (issue 17, mx_v6_cells: IPv4 NATs and
#                     IPv6 firewalls both sides), strategy both ways +
#                     simopen6 forced both ways; NPTv6 cells too when stuntd
#                     has --server6 (MX_NPT6=auto, the default here; 0: none)
# Every cell but "delay" has BENCH_MATRIX_DELAY ms one way on each WAN link
# (default 10: a host-to-host RTT of about 40 ms, so that "RTTs" means
# something). Forced methods fail at --connect-timeout BENCH_MATRIX_TIMEOUT ms
# (default 4000). BENCH_MATRIX_JOBS cells at once (default 2); cells not
# started within BENCH_MATRIX_BUDGET s (default 2400) are skipped and named.
# Writes build/bench/matrix.json (one line a cell) and the "## Success
# matrix" section of docs/benchmarks.md (when IPv4-only groups ran), its
# "## Success matrix over IPv6" section (when the ipv6 group ran: so
# BENCH_MATRIX_GROUPS=ipv6 renews that one alone) and its "## Success
# matrix: local paths" section (when the local group ran). Timing is
# measured, never asserted.
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init stunt-top
# shellcheck source=tests/lab/matrix.sh
. "$TOP/tests/lab/matrix.sh"
DELAY=${BENCH_MATRIX_DELAY:-10}
SLOW=${BENCH_MATRIX_SLOW:-50}
TMO=${BENCH_MATRIX_TIMEOUT:-4000}
JOBS=${BENCH_MATRIX_JOBS:-2}
BUDGET=${BENCH_MATRIX_BUDGET:-2400}
FULL=${BENCH_MATRIX_FULL:-0}
GROUPS_RUN=${BENCH_MATRIX_GROUPS:-rst cgn delay loss drop icmp local ipv6}
[ "$FULL" = 1 ] && GROUPS_RUN="$GROUPS_RUN cgn-drop cgn-icmp"
OUT=$STUNT_BUILD/bench
bench_root matrix "network namespaces"
bench_built matrix stunt-server stuntd stuntctl lab/delayline
mkdir -p "$OUT"
work=$(mktemp -d /tmp/stlmx-bench.XXXX)
trap 'rm -rf "$work"' EXIT
for g in $GROUPS_RUN; do
	if [ "$g" = local ]; then
		for l in lan hairpin wronghost; do
			echo "--local $l --turn off --connect-timeout $TMO --methods all"
		done
		continue
	fi
	if [ "$g" = ipv6 ]; then
		MX_NPT6=${MX_NPT6:-auto} mx_v6_cells | sed "s/\$/ --delay $DELAY --connect-timeout $TMO/"
		continue
	fi
	a=$(mx_group_args "$g" "$DELAY" "$SLOW") || { echo "bench matrix: unknown group $g" >&2; exit 2; }
	case "$g" in
	delay | loss) ;;
	*) a="$a --connect-timeout $TMO --methods all" ;;
	esac
	mx_pairs | sed "s/\$/ $a/"
done >"$work/plan"
t0=$(date +%s)
echo "# bench matrix: $(grep -c . "$work/plan") cells (groups: $GROUPS_RUN), $JOBS at a time, budget ${BUDGET} s"
: >"$OUT/matrix.json"
MX_DEADLINE=$((t0 + BUDGET)) mx_run "$work/plan" "$OUT/matrix.json" "$JOBS"
elapsed=$(($(date +%s) - t0))
mx_report table "$OUT/matrix.json"

# the local cells' own section
if grep -Eq '"local":"(lan|hairpin|wronghost)"' "$OUT/matrix.json"; then
	python3 - "$OUT/matrix.json" "$TMO" <<'PY' | python3 "$TOP/tests/bench/docsection.py" -q "$DOC" "## Success matrix: local paths" &&
import json, platform, sys, time
path, tmo = sys.argv[1:3]
cells = [c for c in (json.loads(l) for l in open(path) if l.strip())
         if c.get("local", "none") != "none" and not c.get("skipped")]
NAME = {"lan": "one LAN, port-restricted NAT, no hairpinning",
        "hairpin": "one LAN, port-restricted NAT with hairpinning",
        "wronghost": "same subnet in two homes behind one hairpinning CGN (wrong host)"}
METHODS = ["host", "direct", "portmap", "reversal", "simopen", "stunt1", "stunt2", "synth",
           "predict", "shotgun", "udp", "relay"]
rows = []
for c in cells:
    st = c.get("strategy") or {}
    cols = []
    for d in ("ab", "ba"):
        r = st.get(d) or {}
        cols.append("%s, %s ms, peer %s" % (r["method"], r["elapsed_ms"], (r.get("peer_addr") or "?").rsplit(":", 1)[0])
                    if r.get("ok") else "✗ %s" % (r.get("error") or "no result")[:60])
    f = c.get("forced") or {}
    ok_m = []
    for m in METHODS:
        w = [d for d in ("ab", "ba") if (f.get(m) or {}).get(d, {}).get("ok")]
        if w:
            ok_m.append("%s (%s)" % (m, "both" if len(w) == 2 else ("A→B" if w[0] == "ab" else "B→A")))
    wh = c.get("wrong_host")
    got = "—" if wh is None else "%d connection(s), bytes each: %s" % (
        wh.get("conns", 0), ", ".join(str(b) for b in wh.get("bytes", [])) or "none")
    rows.append("| %s | %s | %s | %s | %s |" % (NAME.get(c["local"], c["local"]), cols[0], cols[1],
                                                ", ".join(ok_m) or "none", got))
print(f"""## Success matrix: local paths

Measured by `make bench` (`tests/bench/matrix.sh`, group `local`) on {time.strftime("%Y-%m-%d %H:%M:%S %z")},
kernel {platform.release()}; the same cells run in `make check` (`tests/lab/t_matrix.sh`, without the
forced methods). One fresh lab per cell (`tests/lab/matrix_cell.sh --local`), no added delay, no
TURN server. A = the requester of "A asks B": ha (lan, hairpin) or ha2 (wrong host); B = ha2 or hb.
Every connect carries 1 MiB to the peer's echo and back (SHA-256 compared); "peer" is the
socket's remote address. Forced methods fail at `--connect-timeout {tmo}`. In the wrong-host cell
hb's private address (10.0.0.10) is ha's on ha2's LAN, where a rogue accepts every connection
and answers a fake proof; "wrong host got" counts its connections and the bytes it got on each
(28 = the session header alone, `docs/security.md` "What a wrong host gets").

| cell | strategy, A asks B | strategy, B asks A | methods that connected (forced) | wrong host got |
|---|---|---|---|---|
{chr(10).join(rows)}
""")
PY
	echo "wrote the '## Success matrix: local paths' section of $DOC"
fi
grep -q '"local":"none"' "$OUT/matrix.json" || exit 0

python3 - "$OUT/matrix.json" "$elapsed" "$DELAY" "$SLOW" "$TMO" "$JOBS" "$BUDGET" "$FULL" "$GROUPS_RUN" "$work" <<'PY' &&
import json, os, platform, re, statistics, sys, time
path, elapsed, delay, slow, tmo, jobs, budget, full, groups_run, work = sys.argv[1:11]
all_cells = [json.loads(l) for l in open(path) if l.strip()]
skipped = [c for c in all_cells if c.get("skipped")]
# the local cells have their own section (above); the IPv6 cells too
# (below): every figure of the IPv4 section is over the IPv4-only cells
cells6 = [c for c in all_cells if not c.get("skipped") and c.get("fw6_a")
          and c.get("local", "none") == "none"]
cells = [c for c in all_cells if not c.get("skipped") and not c.get("fw6_a")
         and c.get("local", "none") == "none"]
TYPES = ["full-cone", "restricted-cone", "port-restricted", "sym-seq:1", "sym-random"]
SH = {"full-cone": "full cone", "restricted-cone": "restricted cone", "port-restricted": "port-restricted",
      "sym-seq:1": "sym. sequential", "sym-random": "sym. random"}
METHODS = ["direct", "portmap", "reversal", "simopen", "stunt1", "stunt2", "synth", "predict",
           "shotgun", "udp", "relay"]

def group(c):
    if c.get("loss_pct"):
        return "loss"
    if c.get("delay_ms") == int(slow):
        return "delay"
    g = c.get("syn", "rst")
    return ("cgn" if g == "rst" else "cgn-" + g) if c.get("cgn", "none") != "none" else g

GROUPS = [("rst", "SYN → RST"), ("drop", "SYN dropped"), ("icmp", "SYN → ICMP"), ("cgn", "CGN, RST"),
          ("cgn-drop", "CGN, dropped"), ("cgn-icmp", "CGN, ICMP"), ("delay", "%s ms one way" % slow),
          ("loss", "10 % loss")]
by = {}
for c in cells:
    by[(group(c), c.get("a"), c.get("b"))] = c
present = [g for g in GROUPS if any(k[0] == g[0] for k in by)]

def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None

def relayed(r):
    return bool(r and r.get("ok") and (r.get("relayed") or r.get("method") == "relay"))

def rtt_of(c, r):
    if r and r.get("ok") and (c.get("rtt_ms") or 0) >= 1 and r.get("elapsed_ms") is not None:
        return r["elapsed_ms"] / c["rtt_ms"]
    return None

def failword(r):
    e = (r or {}).get("error") or "no result"
    if re.search(r"relay (would be |is )?needed", e):
        return "relay needed"
    if "no connection within" in e:
        return "timeout"
    return e[:40]

def short(c):
    """Strategy result of a cell, both directions, compact."""
    if c is None:
        return "not run"
    if c.get("error"):
        return "cell failed: " + c["error"][:50]
    st = c.get("strategy") or {}
    parts = []
    for d in ("ab", "ba"):
        r = st.get(d)
        if r is None:
            continue
        if r.get("ok"):
            x = rtt_of(c, r)
            parts.append("%s%s %s" % (r["method"], " (relay)" if r.get("relayed") else "",
                                     "%.0f RTT" % x if x is not None else "%d ms" % r["elapsed_ms"]))
        else:
            parts.append("✗ " + failword(r))
    if len(parts) == 2 and parts[0] == parts[1]:
        return parts[0] + " ×2"
    return " / ".join(parts)

def worked(c, m):
    f = (c.get("forced") or {}).get(m) or {}
    return [d for d in ("ab", "ba") if f.get(d, {}).get("ok")]

# which methods this stuntd implements (the rest answer "not implemented")
impl = set()
for c in cells:
    for m, f in (c.get("forced") or {}).items():
        for r in f.values():
            if "not implemented" not in (r.get("error") or ""):
                impl.add(m)
missing = [m for m in METHODS if m not in impl]

# Table 1: the main group, per pair
main_g = "rst" if any(k[0] == "rst" for k in by) else (present[0][0] if present else None)
t1 = []
for i, a in enumerate(TYPES):
    for b in TYPES[i:]:
        c = by.get((main_g, a, b))
        if c is None:
            t1.append("| %s × %s | not run | | | | | |" % (SH[a], SH[b]))
            continue
        st = c.get("strategy") or {}
        cols = []
        for d in ("ab", "ba"):
            r = st.get(d)
            if r and r.get("ok"):
                x = rtt_of(c, r)
                cols.append("%s, %d ms%s" % (r["method"], r["elapsed_ms"], ", %.1f RTT" % x if x is not None else ""))
            else:
                cols.append("✗ %s" % failword(r))
        need = any(relayed(r) for r in st.values())
        fail = [r for r in st.values() if not (r and r.get("ok"))]
        relay = "yes" if need else ("needed, none configured" if any(
            failword(r) == "relay needed" for r in fail) else ("—" if fail else "no"))
        ok_m = []
        for m in METHODS:
            w = worked(c, m)
            if w:
                ok_m.append("%s (%s)" % (m, "both" if len(w) == 2 else ("A→B" if w[0] == "ab" else "B→A")))
        t1.append("| %s × %s | %s | %s | %s | %s | %s | %s |" % (
            SH[a], SH[b], "%.1f" % c["rtt_ms"] if c.get("rtt_ms") else "?", cols[0], cols[1] if len(cols) > 1 else "",
            relay, ", ".join(ok_m) or "none", "%s \\| %s" % (c.get("nat_a"), c.get("nat_b"))))

# Table 2: every group, strategy only
t2 = []
for i, a in enumerate(TYPES):
    for b in TYPES[i:]:
        t2.append("| %s × %s | %s |" % (SH[a], SH[b], " | ".join(short(by.get((g, a, b))) for g, _ in present)))

# Table 3: per-method success over the cells with forced attempts
fc = [c for c in cells if c.get("forced") and not c.get("error")]
t3 = []
for m in METHODS:
    if m not in impl:
        t3.append("| `%s` | not in this stuntd (%d cells asked) | | | |" % (m, len(fc)))
        continue
    n_cells = sum(1 for c in fc if worked(c, m))
    n_dir = sum(len(worked(c, m)) for c in fc)
    n_att = sum(len((c.get("forced") or {}).get(m) or {}) for c in fc)
    ms = [r["elapsed_ms"] for c in fc for r in ((c.get("forced") or {}).get(m) or {}).values() if r.get("ok")]
    rt = [rtt_of(c, r) for c in fc for r in ((c.get("forced") or {}).get(m) or {}).values() if r.get("ok")]
    t3.append("| `%s` | %d/%d = **%.0f %%** | %d/%d = %.0f %% | %s | %s |" % (
        m, n_cells, len(fc), 100.0 * n_cells / len(fc) if fc else 0, n_dir, n_att,
        100.0 * n_dir / n_att if n_att else 0, "%.0f" % med(ms) if ms else "—",
        "%.1f" % med(rt) if med(rt) is not None else "—"))
sc = [c for c in cells if c.get("strategy") and not c.get("error")]
def cell_ok(c, pred):
    st = c.get("strategy") or {}
    return bool(st) and all(pred(r) for r in st.values())
n_direct = sum(1 for c in sc if cell_ok(c, lambda r: r and r.get("ok") and not relayed(r)))
n_relay = sum(1 for c in sc if cell_ok(c, lambda r: r and r.get("ok")) and any(relayed(r) for r in c["strategy"].values()))
n_dirs = sum(len(c["strategy"]) for c in sc)
n_dirs_ok = sum(1 for c in sc for r in c["strategy"].values() if r and r.get("ok") and not relayed(r))
hp = [c for c in fc]
n_hp = sum(1 for c in hp if worked(c, "simopen") or worked(c, "stunt2") or worked(c, "stunt1"))
n_any = sum(1 for c in hp if any(worked(c, m) for m in METHODS if m not in ("relay",)))

turn = any(c.get("turn") for c in cells)
when = time.strftime("%Y-%m-%d %H:%M:%S %z")
plan_note = "groups " + ", ".join(groups_run.split())
if "cgn-drop" not in groups_run.split():
    plan_note += ("; CGN × drop and CGN × icmp are left out to bound the run time (a sample of the "
                  "product: run them with `BENCH_MATRIX_FULL=1`, 30 more cells)")
skip_note = ""
if skipped:
    skip_note = "\n**%d cells were not run** (time budget of %s s reached): %s.\n" % (
        len(skipped), budget, "; ".join(re.sub(r" --(delay|connect-timeout|methods|tries) \S+", "", c["args"])
                                       .replace("--nat-a ", "").replace(" --nat-b ", " × ") for c in skipped[:12]) +
        (" …" if len(skipped) > 12 else ""))
errs = {}
for c in sc:
    for d, r in sorted(c["strategy"].items()):
        if r and not r.get("ok"):
            e = re.sub(r"between .*? \(requester\) and .*? \(peer\)", "between REQUESTER and PEER",
                       r.get("error") or "?")
            errs.setdefault(e, []).append("%s × %s (%s, %s)" % (SH.get(c["a"], c["a"]), SH.get(c["b"], c["b"]),
                                                            group(c), "A asks" if d == "ab" else "B asks"))
fails = ["%s — %d: %s" % (e, len(w), ", ".join(w)) for e, w in sorted(errs.items())]

sec = f"""## Success matrix

Measured by `make bench` (`tests/bench/matrix.sh`) on {when}, kernel {platform.release()},
{os.cpu_count()} CPUs, in {elapsed} s ({len(cells)} cells, {jobs} at a time). Raw data, one JSON line a
cell: `build/bench/matrix.json`. Each cell is a fresh lab (`tests/lab/matrix_cell.sh`): the two
NAT behaviours, stunt-server in `srv`, stuntd `ha` and `hb`; `stuntctl connect PEER/echo --json`
with the strategy's choice from each side (A = ha asks B = hb, and B asks A), then every method
name forced with `--method` from each side. {delay} ms one way on each WAN link unless said
otherwise; the RTT is the sum of the UDP round trips ha ↔ srv and hb ↔ srv measured in the same
lab (both paths meet at `inet`, one hop from srv), about 4 × {delay} ms. Times are stuntd's
`elapsed_ms` (request to answer). Forced methods fail at `--connect-timeout {tmo}`. Plan:
{plan_note}. TURN server in the cells: {"yes (coturn in `pub`)" if turn else "no (this stuntd has no `--turn`, so no relay can be tried)"}.
Methods this stuntd does not implement yet (each answered "not implemented", counted as failures):
{", ".join("`%s`" % m for m in missing) or "none"}.
{skip_note}
**Per pair**, SYN answered by RST, no CGN ({main_g} group). "methods that connected" lists every
forced method that connected, and from which side it was asked.

| pair (A × B) | RTT ms | strategy, A asks B | strategy, B asks A | relay | methods that connected (forced) | NAT as stuntd saw it (A \\| B) |
|---|---:|---|---|---|---|---|
{chr(10).join(t1)}

**Every group**, the strategy's pick in both directions (one entry when both sides got the same
method; "RTT" = time to connect / RTT, ms where the RTT was below 1 ms; ✗ = failed, with why):

| pair (A × B) | {" | ".join(n for _, n in present)} |
|---|{"---|" * len(present)}
{chr(10).join(t2)}

**Per-method success**, over the {len(fc)} cells with forced attempts (of groups {', '.join(g for g in groups_run.split() if g not in ('delay', 'loss'))}):
a method counts for a cell when it connected from at least one side (direct and reversal are the
same method seen from the other side, so "one side" is the fair count); the per-direction rate
is next to it.

| method | cells where it connected | directions | median ms when ok | median RTTs |
|---|---:|---:|---:|---:|
{chr(10).join(t3)}

Strategy over all {len(sc)} cells: connected without relay in both directions in **{n_direct}/{len(sc)}
= {100.0 * n_direct / len(sc) if sc else 0:.0f} %** of the cells ({n_dirs_ok}/{n_dirs} directions), through
the relay in {n_relay}. Any forced method but `relay` connected (from some side) in {n_any}/{len(hp)} =
{100.0 * n_any / len(hp) if hp else 0:.0f} % of the forced cells; TCP hole punching proper (`simopen`,
`stunt1` or `stunt2`) in {n_hp}/{len(hp)} = {100.0 * n_hp / len(hp) if hp else 0:.0f} %.

**Published figures**: Ford, Srisuresh & Kegel (USENIX 2005) found TCP hole punching working
through **64 %** of the NATs they measured; Guha & Francis (IMC 2005) found their best TCP
traversal (STUNT with the right combination of approaches) succeeding for **88 %** of NAT pairs.
Caveat: those figures are from real-world NATs, sampled in proportion to their share in the field
(mostly port-preserving cones); ours are from lab NATs, each of the 5 behaviours weighted equally
per pair, so 2 of 5 behaviours are symmetric where in those studies far fewer were. Compare the
per-method columns (which NAT pairs a method handles), not the totals.

Strategy failures and their errors:

{chr(10).join("- " + f for f in fails) or "- none"}
"""
if cells:
    open(os.path.join(work, "sec4.md"), "w").write(sec)

# The IPv6 cells: each pair of IPv4 NATs and IPv6 firewalls, the strategy's
# pick both ways and simopen6 forced both ways
def v6str(c, r):
    if not r:
        return "—"
    if not r.get("ok"):
        return "✗ " + failword(r)
    x = rtt_of(c, r)
    return "%s%s, %d ms%s" % (r["method"], " (relay)" if r.get("relayed") else "", r["elapsed_ms"],
                              ", %.1f RTT" % x if x is not None else "")

t6 = []
for c in cells6:
    st, f6 = c.get("strategy") or {}, (c.get("forced") or {}).get("simopen6") or {}
    if c.get("error"):
        t6.append("| %s × %s | %s × %s | cell failed: %s | | | | |" % (
            SH.get(c["a"], c["a"]), SH.get(c["b"], c["b"]), c["fw6_a"], c["fw6_b"], c["error"][:60]))
        continue
    t6.append("| %s × %s | %s × %s%s | %s | %s | %s | %s | %s |" % (
        SH.get(c["a"], c["a"]), SH.get(c["b"], c["b"]), c["fw6_a"], c["fw6_b"],
        "" if c.get("turn") else ", no TURN", "%.1f" % c["rtt_ms"] if c.get("rtt_ms") else "?",
        v6str(c, st.get("ab")), v6str(c, st.get("ba")), v6str(c, f6.get("ab")), v6str(c, f6.get("ba"))))
s6 = [r for c in cells6 for r in (c.get("strategy") or {}).values() if r]
f6 = [r for c in cells6 for r in ((c.get("forced") or {}).get("simopen6") or {}).values() if r]
rt6 = [rtt_of(c, r) for c in cells6 for r in list((c.get("strategy") or {}).values()) +
       list(((c.get("forced") or {}).get("simopen6") or {}).values()) if r and r.get("method") == "simopen6"]
v6sum = ("Strategy: %d of %d connects by simopen6, %d by an IPv4 method, %d failed; simopen6 "
         "forced: %d of %d connected. simopen6's time to connect: median %s RTT (issue 17's goal: "
         "≤ 4 RTT at %s ms one way per side)." % (
             sum(1 for r in s6 if r.get("ok") and r.get("method") == "simopen6"), len(s6),
             sum(1 for r in s6 if r.get("ok") and r.get("method") != "simopen6"),
             sum(1 for r in s6 if not r.get("ok")), sum(1 for r in f6 if r.get("ok")), len(f6),
             "%.1f" % med(rt6) if med(rt6) is not None else "—", delay))
sec6 = f"""## Success matrix over IPv6

Measured by `make bench` (`tests/bench/matrix.sh`, group `ipv6`; alone:
`BENCH_MATRIX_GROUPS=ipv6 tests/bench/matrix.sh`) on {when}, kernel {platform.release()},
{os.cpu_count()} CPUs: {len(cells6)} cells, each a fresh lab (`tests/lab/matrix_cell.sh --fw6-a
--fw6-b`, `lab_up --ipv6`) in which both hosts are dual-stack: the IPv4 NATs of the first column
and, on the same gateways, the stateful IPv6 firewalls of the second (RFC 6092: `drop` drops
unsolicited inbound, `reject` answers it with an RST / ICMPv6). The strategy races simopen6 (TCP
simultaneous open over IPv6, first SYN hop-limited) with the IPv4 methods; then simopen6 is
forced from each side. Every connect carries 1 MiB to the peer's echo and back (SHA-256
compared) and a simopen6 connect's socket must have the peer's IPv6 address as its remote one,
else it counts as failed. {delay} ms one way on each WAN link, RTT as in the section above (over
IPv4; the IPv6 path is the same links). `npt`: NPTv6 (RFC 6296, the LAN's prefix translated one
to one) in front of the drop firewall; there the daemons learn their translated address from the
server's IPv6 side (`--server6`) and the peer's socket must show that one.

| IPv4 NATs (A × B) | IPv6 firewalls (A × B) | RTT ms | strategy, A asks B | strategy, B asks A | simopen6 forced, A asks B | simopen6 forced, B asks A |
|---|---|---:|---|---|---|---|
{chr(10).join(t6)}

{v6sum}
"""
if cells6:
    open(os.path.join(work, "sec6.md"), "w").write(sec6)
print("wrote %s (%d cells, %d of them IPv6)" % (path, len(cells) + len(cells6), len(cells6)), file=sys.stderr)
PY
	for f in sec4:"## Success matrix" sec6:"## Success matrix over IPv6"; do
		[ -s "$work/${f%%:*}.md" ] || continue
		python3 "$TOP/tests/bench/docsection.py" -q "$DOC" "${f#*:}" <"$work/${f%%:*}.md" &&
			echo "wrote the '${f#*:}' section of $DOC"
	done
