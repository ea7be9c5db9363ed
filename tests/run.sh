#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Test runner: unit test programs, then the namespace lab tests.
# Every test program prints "ok - NAME" / "not ok - NAME" lines; a program that
# dies without saying why counts as one failure. Closes with "N passed, N failed".
#
# Usage: tests/run.sh [unit|lab|all] [FILTER]
#   FILTER: only run test programs whose file name contains it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$top/$BUILD" ;; esac
export STUNT_TOP="$top" STUNT_BUILD="$BUILD"
what=${1:-all}
filter=${2:-}
LAB_TIMEOUT=${LAB_TIMEOUT:-600}

passed=0
failed=0
failures=()

# run_one LABEL TIMEOUT CMD...: run, echo its output, count its ok/not ok lines.
run_one() {
	local label=$1 tmo=$2 out rc ok nok
	shift 2
	out=$(mktemp)
	timeout -k 15 "$tmo" "$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	ok=$(grep -c '^ok - ' "$out")
	nok=$(grep -c '^not ok - ' "$out")
	passed=$((passed + ok))
	failed=$((failed + nok))
	while IFS= read -r l; do failures+=("$label: ${l#not ok - }"); done < <(grep '^not ok - ' "$out")
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		[ "$rc" -eq 124 ] && why="timed out after ${tmo}s" || why="exited $rc"
		echo "not ok - $label ($why)"
		failed=$((failed + 1))
		failures+=("$label: $why")
	fi
	rm -f "$out"
}

if [ "$what" = unit ] || [ "$what" = all ]; then
	echo "# unit tests"
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		case "$t" in *"$filter"*) ;; *) continue ;; esac
		run_one "$(basename "$t")" 120 "$t"
	done
fi

if [ "$what" = lab ] || [ "$what" = all ]; then
	echo "# lab tests (network namespaces)"
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok - lab tests need root (network namespaces); run make check as root"
		failed=$((failed + 1))
		failures+=("lab: not root")
	else
		for t in "$here"/lab/t_*.sh; do
			[ -x "$t" ] || continue
			case "$t" in *"$filter"*) ;; *) continue ;; esac
			echo "# $(basename "$t")"
			run_one "$(basename "$t")" "$LAB_TIMEOUT" "$t"
		done
		# Every lab test must have removed what it made, on every exit path.
		# Lab namespaces are named stl<tag><pid>-<node>: one whose creating
		# process has exited is a leak (a live creator is another run's).
		left=""
		for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^stl[a-z]*[0-9]+-'); do
			pid=$(echo "$ns" | sed -E 's/^stl[a-z]*([0-9]+)-.*/\1/')
			[ -d "/proc/$pid" ] || left="$left $ns"
		done
		if [ -z "$left" ]; then
			echo "ok - no lab namespaces left behind"
			passed=$((passed + 1))
		else
			echo "not ok - lab namespaces left behind: $left"
			failed=$((failed + 1))
			failures+=("lab: namespaces left: $left")
		fi
	fi
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "# failures:"
	printf '#   %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
