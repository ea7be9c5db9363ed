# SPDX-License-Identifier: MIT
"""What build/drv/loadconn printed ("KEY VALUE" lines, "error COUNT TEXT"
lines), as a dict: the errors joined under "errors" ("none" without)."""


def kv(path):
    d, errs = {}, []
    for line in open(path):
        p = line.split(None, 1)
        if p and p[0] == "error":
            errs.append(p[1].strip())
        elif len(p) == 2:
            d[p[0]] = p[1].strip()
    d["errors"] = "; ".join(errs) or "none"
    return d


def ratio(med, base):
    """median / baseline median as text, "-" when either is missing or 0."""
    if med in (None, "-", "0") or base in (None, "-", "0"):
        return "-"
    return f"{int(med) / max(1, int(base)):.2f}"


def cells(d, n, base, measured):
    """ "ok / n | median | p90 | ratio" of d; ratio to base when measured
    is the row compared with base, else "-"."""
    return (f"{d.get('ok', '0')} / {n} | {d.get('median_ms', '-')} | {d.get('p90_ms', '-')} | "
            f"{ratio(d.get('median_ms'), base.get('median_ms')) if measured else '-'}")
