#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# plot.sh RAW DOCDIR SLOW: docs/bench-ice-grid.svg and docs/bench-ice-cdf.svg
# from the ICE bench's raw JSON (docs/bench-ice.jsonl) with gnuplot.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/stlice-plot.XXXX)
trap 'rm -rf "$work"' EXIT
python3 "$here/plot.py" "$1" "$work" "$3"
gnuplot -e "dir='$work'; outdir='$2'" "$here/plot.gp"
