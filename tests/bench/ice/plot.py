#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""plot.py RAW WORKDIR SLOW: the data files tests/bench/ice/plot.gp draws.

WORKDIR/grid.dat: "tool_index group_index pair_index colour" (one line a tool
and measured cell; colour 0 direct, 1 relayed, 2 failed); WORKDIR/cdf-N.dat
for tool N: "ms fraction" steps of the cells connected (fraction of every
measured cell, so a curve ends at the tool's success rate); WORKDIR/meta.gp:
labels and sizes as gnuplot variables."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import icecells as ic  # noqa: E402

raw, work, slow = sys.argv[1], sys.argv[2], sys.argv[3]
cells, _ = ic.load(raw)
present = [g for g, _ in ic.GROUPS if any(ic.group(c, slow) == g for c in cells)]
pairs = [(a, b) for i, a in enumerate(ic.TYPES) for b in ic.TYPES[i:]]
col = {"direct": 0, "relayed": 1, "failed": 2}
with open(os.path.join(work, "grid.dat"), "w") as f:
    for t, (_, key) in enumerate(ic.TOOLS):
        for c in cells:
            g = ic.group(c, slow)
            s, _ = ic.result(c, key)
            f.write("%d %d %d %d\n" % (t, present.index(g), pairs.index((c["a"], c["b"])), col[s]))
for t, (_, key) in enumerate(ic.TOOLS):
    ms = sorted(m for c in cells for s, m in [ic.result(c, key)] if s != "failed" and m is not None)
    with open(os.path.join(work, "cdf-%d.dat" % t), "w") as f:
        f.write("%g 0\n" % max(ms[0] if ms else 1, 1))
        for i, m in enumerate(ms):
            f.write("%g %g\n" % (max(m, 1), (i + 1) / len(cells)))
        f.write("1e6 %g\n" % (len(ms) / len(cells) if cells else 0))
glabel = {"delay": "%sms" % slow}
with open(os.path.join(work, "meta.gp"), "w") as f:
    f.write("ntools = %d\nngroups = %d\nnpairs = %d\nncells = %d\n" % (
        len(ic.TOOLS), len(present), len(pairs), len(cells)))
    f.write('tools = "%s"\n' % " ".join(l for l, _ in ic.TOOLS))
    f.write('groups = "%s"\n' % " ".join(glabel.get(g, g).replace(" ", "_") for g in present))
    f.write('pairs = "%s"\n' % " ".join("%s×%s" % (ic.ABBR[a], ic.ABBR[b]) for a, b in pairs))
