#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: run every benchmark script tests/bench/*.sh in name order
# (bench_lib.sh, the preamble they source, is none).
# Each one measures in its own network namespaces and writes its own section
# of docs/benchmarks.md. Timing is measured here only, never asserted in tests.
# Usage: tests/bench.sh [FILTER]   (only scripts whose name contains FILTER)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
export STUNT_TOP="$top" STUNT_BUILD="${STUNT_BUILD:-$top/build}"
filter=${1:-}
failed=()
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (network namespaces)" >&2
	exit 1
fi
for b in "$here"/bench/*.sh; do
	[ -e "$b" ] || continue
	# the preamble the scripts source, not a benchmark
	[ "$(basename "$b")" = bench_lib.sh ] && continue
	case "$(basename "$b")" in *"$filter"*) ;; *) continue ;; esac
	echo "# bench: $(basename "$b")"
	if ! bash "$b"; then
		failed+=("$(basename "$b")")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "bench: failed: ${failed[*]}" >&2
	exit 1
fi
