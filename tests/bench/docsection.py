#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Rewrites one section of docs/benchmarks.md (or another markdown file).

docsection.py [-q] DOC "## Title" < section.md

The section read from stdin must begin with the line "## Title". It
replaces the section of DOC with that heading (from the heading to the
next "## " heading or the end) or, if DOC has none, is appended at the
end; a missing DOC is started with the usual introduction. Sections are
separated by one blank line. Without -q the section is printed too.
"""
import os
import sys

INTRO = """# Benchmarks

Results of `make bench` (`tests/bench.sh`, which runs every `tests/bench/*.sh`).
Each section is rewritten by its own benchmark script; numbers depend on the
machine, so each section says where and when it was measured.
"""


def replace(text, title, sec):
    """TEXT with the section TITLE replaced by SEC (or SEC appended)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, l in enumerate(lines) if l.rstrip() == title), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + sec
    end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    return "".join(lines[:start]) + sec + ("\n" + tail if tail else "")


def main():
    args = sys.argv[1:]
    quiet = bool(args) and args[0] == "-q"
    if quiet:
        args = args[1:]
    if len(args) != 2 or not args[1].startswith("## "):
        sys.exit('usage: docsection.py [-q] DOC "## Title" < section.md')
    doc, title = args
    sec = sys.stdin.read().strip("\n") + "\n"
    if sec.splitlines()[0].rstrip() != title:
        sys.exit("docsection.py: the section does not begin with %r" % title)
    text = open(doc).read() if os.path.exists(doc) else INTRO
    text = replace(text, title, sec).rstrip("\n") + "\n"
    os.makedirs(os.path.dirname(doc) or ".", exist_ok=True)
    open(doc, "w").write(text)
    if not quiet:
        sys.stdout.write(sec)


if __name__ == "__main__":
    main()
