#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: stunt side by side with ICE (issue 20). The cells of the success
# matrix (tests/bench/matrix.sh: the 15 pairs in the groups rst, drop, icmp,
# cgn, delay, loss; same arguments through mx_group_args, no forced methods),
# each a fresh lab (tests/lab/matrix_cell.sh) in which, after stunt's strategy
# connect both ways, libnice runs in four configurations (ICE-UDP, ICE-UDP +
# TURN, ICE-TCP, ICE-TCP + TURN; tests/bench/ice/cell.sh, driver
# tests/bench/ice/nicedrv.c, built here with pkg-config).
#
# BENCH_ICE_GROUPS (default "rst drop icmp cgn delay loss"), BENCH_ICE_JOBS
# cells at once (default 2), BENCH_ICE_BUDGET s (default 3600: cells not
# started by then are skipped and named), BENCH_ICE_CELLS=N: only the first N
# cells of the plan (the rst group first, then the other groups interleaved
# pair by pair, so a cut plan still samples every group).
# Writes docs/bench-ice.jsonl (one JSON line a cell), the pictures
# docs/bench-ice-grid.svg and docs/bench-ice-cdf.svg (tests/bench/ice/plot.sh)
# and the "## Side by side with ICE" section of docs/benchmarks.md.
# Timing is measured, never asserted.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init stunt-top
DOCDIR=$(dirname "$DOC")
# shellcheck source=tests/lab/matrix.sh
. "$TOP/tests/lab/matrix.sh"
DELAY=${BENCH_MATRIX_DELAY:-10}
SLOW=${BENCH_MATRIX_SLOW:-50}
JOBS=${BENCH_ICE_JOBS:-2}
BUDGET=${BENCH_ICE_BUDGET:-3600}
GROUPS_RUN=${BENCH_ICE_GROUPS:-rst drop icmp cgn delay loss}
NCELLS=${BENCH_ICE_CELLS:-0}
RAW=$DOCDIR/bench-ice.jsonl
bench_root ice "network namespaces"
bench_built ice stunt-server stuntd stuntctl lab/delayline
for t in turnserver gnuplot; do
	command -v "$t" >/dev/null || { echo "bench ice: $t missing (tools/install-deps.sh)" >&2; exit 1; }
done
pkg-config --exists nice || { echo "bench ice: libnice-dev missing (tools/install-deps.sh)" >&2; exit 1; }
mkdir -p "$STUNT_BUILD/bench"
export ICE_DRV=$STUNT_BUILD/bench/nicedrv
# shellcheck disable=SC2046
${CC:-cc} -O2 -Wall -Wextra -Werror -std=gnu11 -o "$ICE_DRV" "$here/ice/nicedrv.c" \
	$(pkg-config --cflags --libs nice) || { echo "bench ice: nicedrv did not build" >&2; exit 1; }
export MX_CELL_EXTRA=$here/ice/cell.sh
work=$(mktemp -d /tmp/stlice-bench.XXXX)
trap 'rm -rf "$work"' EXIT

# the plan: "ORDER GROUP ARGS", sorted; the rst group first
gi=0
for g in $GROUPS_RUN; do
	a=$(mx_group_args "$g" "$DELAY" "$SLOW") || { echo "bench ice: unknown group $g" >&2; exit 2; }
	pi=0
	mx_pairs | while IFS= read -r p; do
		if [ "$g" = rst ]; then o=$pi; else o=$((100 + pi * 10 + gi)); fi
		printf '%04d %s\n' "$o" "$p $a"
		pi=$((pi + 1))
	done
	gi=$((gi + 1))
done | sort -n | cut -d' ' -f2- >"$work/all"
if [ "$NCELLS" -gt 0 ]; then head -n "$NCELLS" "$work/all" >"$work/plan"; else cp "$work/all" "$work/plan"; fi
t0=$(date +%s)
echo "# bench ice: $(grep -c . "$work/plan") of $(grep -c . "$work/all") cells (groups: $GROUPS_RUN), $JOBS at a time, budget ${BUDGET} s"
: >"$work/out.json"
MX_DEADLINE=$((t0 + BUDGET)) mx_run "$work/plan" "$work/out.json" "$JOBS"
elapsed=$(($(date +%s) - t0))
cp "$work/out.json" "$RAW"

"$here/ice/plot.sh" "$RAW" "$DOCDIR" "$SLOW" || echo "bench ice: the pictures failed" >&2
python3 "$here/ice/report.py" "$RAW" "$work/all" "$elapsed" "$JOBS" "$DELAY" "$SLOW" "$GROUPS_RUN" "$BUDGET" |
	python3 "$TOP/tests/bench/docsection.py" -q "$DOC" "## Side by side with ICE (libnice)" &&
	echo "wrote $RAW and the '## Side by side with ICE (libnice)' section of $DOC"
