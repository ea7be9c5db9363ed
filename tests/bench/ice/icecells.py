# SPDX-License-Identifier: MIT
"""The ICE bench's raw cells (docs/bench-ice.jsonl), read the same way by
tests/bench/ice/report.py (the table) and plot.py (the pictures)."""
import json

TYPES = ["full-cone", "restricted-cone", "port-restricted", "sym-seq:1", "sym-random"]
SH = {"full-cone": "full cone", "restricted-cone": "restricted cone", "port-restricted": "port-restricted",
      "sym-seq:1": "sym. sequential", "sym-random": "sym. random"}
ABBR = {"full-cone": "FC", "restricted-cone": "RC", "port-restricted": "PRC",
        "sym-seq:1": "SEQ", "sym-random": "RND"}
GROUPS = [("rst", "SYN → RST"), ("drop", "SYN dropped"), ("icmp", "SYN → ICMP"), ("cgn", "CGN, RST"),
          ("cgn-drop", "CGN, dropped"), ("cgn-icmp", "CGN, ICMP"), ("delay", "slow"), ("loss", "10 % loss")]
# (label, key): key "stunt" = stunt's strategy, A asks B; else an ICE configuration
TOOLS = [("stunt", "stunt"), ("ICE-UDP", "udp"), ("ICE-UDP+TURN", "udp+turn"),
         ("ICE-TCP", "tcp"), ("ICE-TCP+TURN", "tcp+turn")]


def load(path):
    cells, skipped = [], []
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        c = json.loads(line)
        (skipped if c.get("skipped") else cells).append(c)
    return cells, skipped


def group(c, slow):
    if c.get("loss_pct"):
        return "loss"
    if c.get("delay_ms") == int(slow):
        return "delay"
    g = c.get("syn", "rst")
    return ("cgn" if g == "rst" else "cgn-" + g) if c.get("cgn", "none") != "none" else g


def stunt_result(r):
    """(status, ms) of one stunt connect: direct / relayed / failed."""
    if not r or not r.get("ok"):
        return "failed", None
    rel = r.get("relayed") or r.get("method") == "relay"
    return ("relayed" if rel else "direct"), r.get("elapsed_ms")


def ice_result(c, cfg):
    """(status, ms) of the controlling agent (A) of an ICE configuration."""
    r = ((c.get("ice") or {}).get(cfg) or {}).get("a")
    if not r or not r.get("connected"):
        return "failed", None
    return ("relayed" if r.get("relayed") else "direct"), r.get("ms")


def result(c, key):
    if c.get("error"):
        return "failed", None
    if key == "stunt":
        return stunt_result((c.get("strategy") or {}).get("ab"))
    return ice_result(c, key)
