#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""report.py RAW PLAN ELAPSED JOBS DELAY SLOW GROUPS BUDGET

The "## Side by side with ICE (libnice)" section of docs/benchmarks.md, on
stdout, from the ICE bench's raw cells (docs/bench-ice.jsonl) and its full
plan (to say which cells of it were measured)."""
import os
import platform
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import icecells as ic  # noqa: E402

raw, plan, elapsed, jobs, delay, slow, groups_run, budget = sys.argv[1:9]
cells, skipped = ic.load(raw)
n_plan = sum(1 for l in open(plan) if l.strip())
GNAME = dict(ic.GROUPS)
GNAME["delay"] = "%s ms one way" % slow
present = [g for g, _ in ic.GROUPS if any(ic.group(c, slow) == g for c in cells)]
ICE = [t for t in ic.TOOLS if t[1] != "stunt"]


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def failword(e):
    e = e or "no result"
    if re.search(r"relay (would be |is )?needed", e):
        return "relay needed"
    if "no connection within" in e:
        return "timeout"
    if "every pair's checks failed" in e:
        return "checks failed"
    if "no pair selected" in e:
        return "no pair in time"
    if "no TURN server" in e:
        return "no TURN server"
    return e[:40]


def stunt_str(r):
    if r is None:
        return "—"
    if not r.get("ok"):
        return "✗ " + failword(r.get("error"))
    return "%s%s, %d ms" % (r.get("method"), " (relay)" if r.get("relayed") or r.get("method") == "relay"
                            else "", r.get("elapsed_ms") or 0)


def ice_str(c, cfg):
    r = ((c.get("ice") or {}).get(cfg) or {}).get("a")
    if r is None:
        return "—"
    if not r.get("connected"):
        return "✗ " + failword(r.get("error"))
    return "%s%s ↔ %s, %.0f ms" % ("**relay** " if r.get("relayed") else "", r.get("local_type"),
                                   r.get("remote_type"), r.get("ms") or 0)


def key(c):
    g = ic.group(c, slow)
    return ([x for x, _ in ic.GROUPS].index(g), ic.TYPES.index(c["a"]), ic.TYPES.index(c["b"]))


cells.sort(key=key)
rows = []
for c in cells:
    st = c.get("strategy") or {}
    err = c.get("error")
    rows.append("| %s × %s | %s | %s | %s | %s | %s |" % (
        ic.ABBR[c["a"]], ic.ABBR[c["b"]], GNAME[ic.group(c, slow)],
        "%.1f" % c["rtt_ms"] if c.get("rtt_ms") else "?",
        "cell failed: " + err[:60] if err else stunt_str(st.get("ab")),
        "" if err else stunt_str(st.get("ba")),
        " | ".join("" if err else ice_str(c, k) for _, k in ICE)))

# summary per tool
summ = []
res = {k: [ic.result(c, k) + (c.get("rtt_ms"),) for c in cells] for _, k in ic.TOOLS}
for label, k in ic.TOOLS:
    r = res[k]
    nd = sum(1 for s, _, _ in r if s == "direct")
    nr = sum(1 for s, _, _ in r if s == "relayed")
    ms = [m for s, m, _ in r if s != "failed"]
    msd = [m for s, m, _ in r if s == "direct"]
    rt = [m / t for s, m, t in r if s != "failed" and m is not None and t and t >= 1]
    summ.append("| %s | **%d/%d** | %d | %d | %s | %s | %s |" % (
        label, nd, len(cells), nr, len(cells) - nd - nr,
        "%.0f" % med(ms) if med(ms) is not None else "—",
        "%.0f" % med(msd) if med(msd) is not None else "—",
        "%.1f" % med(rt) if med(rt) is not None else "—"))

# where libnice did better than stunt (A asks B / A controlling)
better, faster, slower = [], [], []
for c in cells:
    if c.get("error"):
        continue
    s, sms = ic.result(c, "stunt")
    name = "%s × %s (%s)" % (ic.ABBR[c["a"]], ic.ABBR[c["b"]], ic.group(c, slow))
    for label, k in ICE:
        x, xms = ic.result(c, k)
        if x == "direct" and s != "direct":
            better.append("%s: %s connected without relay (%s), stunt %s" % (
                name, label, ice_str(c, k), stunt_str((c.get("strategy") or {}).get("ab"))))
        elif x == "direct" and s == "direct" and xms is not None and sms is not None:
            (faster if xms < sms else slower).append((name, label, xms, sms))

# measured subset, per group
by_g = {}
for c in cells:
    by_g.setdefault(ic.group(c, slow), []).append(c)
sub = []
for g, _ in ic.GROUPS:
    if g in groups_run.split():
        n = len(by_g.get(g, []))
        sub.append("%s %d/15" % (g, n))
full = len(cells) == n_plan and not skipped
subset = ("all %d cells of the plan" % n_plan if full else
          "subset: %d of the %d cells of the plan (per group: %s)" % (len(cells), n_plan, ", ".join(sub)))
per_cell = float(elapsed) * int(jobs) / len(cells) if cells else 0
try:
    NICE_VERSION = subprocess.run(["pkg-config", "--modversion", "nice"], capture_output=True,
                                  text=True).stdout.strip() or "?"
except OSError:
    NICE_VERSION = "?"
when = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(os.path.getmtime(raw)))  # the end of the run
turn = any(c.get("turn") for c in cells)

fast_note = ""
if faster or slower:
    fx = ["%s %s %.0f ms vs stunt %d ms" % (n, l, a, b) for n, l, a, b in faster]
    fast_note = ("\nBoth connected without relay in %d (cell, ICE configuration) cases; libnice's selected "
                 "pair came first in %d of them%s.\n" % (
                     len(faster) + len(slower), len(faster),
                     (": " + "; ".join(fx[:20]) + (" …" if len(fx) > 20 else "")) if fx else ""))

n_tcp = sum(1 for c in cells for k in ("tcp", "tcp+turn") if ic.result(c, k)[0] != "failed")
tcp_note = ("ICE-TCP connected in none of the %d cells, with or without TURN." % len(cells) if not n_tcp
            else "ICE-TCP connected in %d (cell, configuration) cases." % n_tcp)
sec = f"""## Side by side with ICE (libnice)

Measured by `make bench` (`tests/bench/ice.sh`; alone: `tests/bench.sh ice`), run ended {when}, kernel
{platform.release()}, {os.cpu_count()} CPUs, in {elapsed} s, {jobs} cells at a time (about {per_cell:.0f} s of wall
time a cell: run time × cells at a time / cells; one cell alone takes a median of {med([c.get("cell_s") for c in cells]) or 0:.0f} s:
lab, daemons, stunt's connects, the four libnice runs, a failing one taking up to its 10 s deadline). **{subset}.** Raw data, one JSON line a cell: `docs/bench-ice.jsonl`.

![which cells connected, per tool](bench-ice-grid.svg)

![time to connect, cumulative, per tool](bench-ice-cdf.svg)

Same cells as the success matrix (`mx_group_args`: the 15 pairs; SYN answered by RST / dropped /
ICMP; CGN on both sides; {slow} ms one way; 10 % loss on B's WAN link), each a fresh lab
(`tests/lab/matrix_cell.sh`, {delay} ms one way on each WAN link unless said otherwise), without
forced methods. In each cell, first stunt: `stuntctl connect` with the strategy's choice, A asks B
then B asks A (TURN server for stunt: {"coturn in `pub`" if turn else "none"}; 3 tries in the loss group,
as in the matrix). Then libnice {NICE_VERSION} (`tests/bench/ice/nicedrv.c`: one agent a host, RFC 5245
compatibility, aggressive nomination (libnice's default), reliable mode off, UPnP off), A
controlling, B controlled, in four configurations: **ICE-UDP** (STUN: coturn in `pub`),
**ICE-UDP + TURN** (TURN over UDP to the same coturn, no separate STUN server: libnice given one
server:port for both drops the Binding answer as "incorrectly multiplexed" and waits 2 s),
**ICE-TCP** (ice-udp off, ice-tcp on: libnice's RFC 6544 TCP candidates, see below; STUN as
above) and **ICE-TCP + TURN** (TURN over TCP). Signalling is offer/answer without trickle
through a TCP rendezvous in `pub`, the same distance from both hosts as stunt-server in `srv`
(so it crosses the same delayed and lossy links as stunt's own signalling): B waits there like a
callee (as B's stuntd waits for requests); A gathers and sends its offer (full SDP); B starts
gathering only when the offer arrives, then answers. The connections to the rendezvous are
opened before the clock starts, like a client's signalling connection. ICE time = A's start of gathering to
A's first selected pair (`new-selected-pair-full`); then A sends one 1000-byte datagram (again every
200 ms) and "connected" means B's echo came back. stunt's time = stuntd's `elapsed_ms` (request
to answer, signalling included). Deadline 10 s for both. "relay" = a relayed candidate on either
side of the selected pair. The RTT is the cell's host-to-host UDP round trip (as in the matrix).
FC full cone, RC restricted cone, PRC port-restricted, SEQ symmetric sequential, RND symmetric random.

**Per tool** (stunt: A asks B; ICE: A controlling), over the {len(cells)} cells measured:

| tool | connected without relay | through a relay | failed | median ms, connected | median ms, without relay | median RTTs |
|---|---:|---:|---:|---:|---:|---:|
{chr(10).join(summ)}

**Per cell**:

| pair (A × B) | group | RTT ms | stunt, A asks B | stunt, B asks A | {" | ".join(l for l, _ in ICE)} |
|---|---|---:|---|---|{"---|" * len(ICE)}
{chr(10).join(rows)}

**Reading.** ICE has no port prediction: behind an address-and-port-dependent mapping (SEQ, RND)
the mapping the STUN server saw is not the one the peer's checks reach, so with a symmetric side
ICE-UDP finds a direct pair only when the other NAT filters by address alone or not at all (FC,
RC): the symmetric side's checks then get in and show up as peer-reflexive candidates. Against a
PRC side or another symmetric side only the TURN relay is left; stunt predicts the port there
(`predict`, `shotgun`). ICE-UDP also fails in some cone × cone cells where SYN (and unsolicited
UDP) is answered, not dropped: there, in the logs of a PRC × PRC cell, neither agent ever
received a check from the other's NAT. The cause is a race that the lab's Linux NATs (plain
masquerade, like many real gateways) decide against ICE: B starts its checks as soon as it has sent its answer, A only
when the answer arrives, so B's first check to A's server-reflexive address reaches A's gateway
before A has sent anything towards B; the gateway answers it (ICMP) and keeps a conntrack entry
for that address pair, so A's own packets to B then leave through another external port, which
B's port-restricted filter drops, and so on until the entries expire (30 s). Checked by hand in a
PRC × PRC lab: B sends one datagram from port 5000 to A's gateway port 6000 before A sends from
6000 to B; A's gateway then maps A's datagram to port 45652, not 6000. In the drop groups the
gateway's entry for B's first check is never confirmed, and A keeps its port. ICE has no agreed
start time; stunt's simultaneous methods schedule one through its server.
libnice {NICE_VERSION}'s ICE-TCP, as its debug log shows in these cells, gathers active and passive host
candidates and no simultaneous-open ones; without TURN it gathers no server-reflexive candidate
(gathering ends within milliseconds, host candidates only), so no pair can cross a NAT; with TURN (over TCP)
it adds server-reflexive passive candidates with the host port, which no NAT here forwards (no
mapping was ever made from that port), and its relayed candidate is UDP, which ICE-TCP does not
pair. {tcp_note}

**Where libnice connected without relay and stunt (A asks B) did not**: {len(better)}.
{chr(10).join("- " + b for b in better) or "- none"}
{fast_note}"""
if skipped:
    sec += "\n%d planned cells were not started (budget of %s s reached).\n" % (len(skipped), budget)
sys.stdout.write(sec)
