#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: the relay fallback (issue 7). Runs the bench mode of
# tests/lab/t_stuntd_relayfb.sh (port-restricted x port-restricted, TCP
# between the two NAT WANs cut at inet after registration, coturn on srv):
# BENCH_N (default 5) connects of each kind, alternating in one run --
# fallback (the strategy's direct race runs out, then the relay round) and
# --method relay (the relay up front, the baseline), with the responder or
# the requester allocating. Writes the "## stuntd: relay fallback" section of
# docs/benchmarks.md. Timing is measured here only, never asserted in tests.
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init stunt-top
bench_root relayfb
out=$(mktemp)
trap 'rm -f "$out"' EXIT
t0=$(date +%s)
bash "$TOP/tests/lab/t_stuntd_relayfb.sh" bench | tee "$out"
rc=${PIPESTATUS[0]}
secs=$(($(date +%s) - t0))
section=$(python3 - "$out" "$secs" "$rc" <<'PY'
import datetime, os, re, statistics, sys
path, secs, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = {}
for l in open(path):
    m = re.match(r"# (responder|requester) allocates: (fallback|up-front).*elapsed_ms: ([0-9 ]*) median", l)
    if m:
        rows[(m.group(1), m.group(2))] = [int(x) for x in m.group(3).split()]
fails = sum(1 for l in open(path) if l.startswith("not ok"))
out = ["## stuntd: relay fallback", "",
       "Measured by `make bench` (`tests/bench/relayfb.sh`, the bench mode of",
       "`tests/lab/t_stuntd_relayfb.sh`) on %s, kernel %s, in %s s." %
       (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000"),
        os.uname().release, secs), "",
       "Two port-restricted cones (SYN answered by RST), no added delay; after both daemons",
       "registered, `inet` drops all TCP between the two NAT WAN addresses, so the strategy's",
       "direct methods (simopen, stunt1) cannot work while stunt-server and coturn (srv,",
       "RFC 6062 TCP allocations) stay reachable. Alternating connects of each kind in one run;",
       "time = the requester's `elapsed_ms`. Up front (`--method relay`) is the baseline: the",
       "fallback's extra time is the direct race's share of the connect deadline (60 % of",
       "`--connect-timeout`, 6 s by default), which on a cut path runs out because RSTs and",
       "ICMP errors of the race's flows are dropped by design. %d check(s) of the run failed." % fails, "",
       "| allocating side | kind | connects | elapsed_ms median | each | extra over up front ms |",
       "|---|---|---|---|---|---|"]
for who in ("responder", "requester"):
    base = rows.get((who, "up-front"))
    bm = statistics.median(base) if base else None
    for kind in ("up-front", "fallback"):
        v = rows.get((who, kind))
        if not v:
            out.append("| %s | %s | 0 | - | - | - |" % (who, kind))
            continue
        m = statistics.median(v)
        out.append("| %s | %s | %d | %g | %s | %s |" % (who, kind, len(v), m, " ".join(map(str, v)),
                   "%g" % (m - bm) if bm is not None else "-"))
out.append("")
print("\n".join(out))
PY
)
printf '%s\n' "$section" | python3 "$TOP/tests/bench/docsection.py" "$DOC" "## stuntd: relay fallback"
exit "$rc"
