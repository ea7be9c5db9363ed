#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Test runner: unit test programs, then the namespace lab tests.
# Every test program prints "ok - NAME" / "not ok - NAME" lines; a program that
# dies without saying why counts as one failure. An "ok - NAME # SKIP WHY" line
# (TAP's directive) is a skip, not a pass: it does not fail the run, but it is
# counted and listed apart. Closes with "N passed, N failed, N skipped".
#
# Usage: tests/run.sh [unit|lab|all] [FILTER]
#   FILTER: only run test programs whose file name contains it.
# STUNT_SANITIZE=1 (make asan, programs built with ASan + UBSan): every
# sanitizer report of any program -- unit test, daemon, privileged child,
# stuntctl -- goes to a file under one directory instead of a stderr that a
# test may not read; a report there is one more failure. Leak detection is
# on for the unit tests and off for the lab's daemons (killed by signal,
# they keep their state until exit by design).
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
skipped=0
failures=()
skips=()
san_dir=""
if [ "${STUNT_SANITIZE:-0}" = 1 ]; then
	san_dir=$(mktemp -d /tmp/stunt-san.XXXX)
	chmod 1777 "$san_dir"	# daemons write it after dropping to an unprivileged user
	# freed memory waits in ASan's quarantine: RSS bounds in tests allow for it
	export STUNT_ASAN_QUARANTINE_MB=64
	export UBSAN_OPTIONS="log_path=$san_dir/ubsan:print_stacktrace=1:halt_on_error=1"
fi
# san_env LEAKS: ASAN_OPTIONS for what runs next
san_env() {
	[ -n "$san_dir" ] && export ASAN_OPTIONS="log_path=$san_dir/asan:detect_leaks=$1:abort_on_error=1:quarantine_size_mb=$STUNT_ASAN_QUARANTINE_MB"
	return 0
}

# run_one LABEL TIMEOUT CMD...: run, echo its output, count its ok/not ok/skip lines.
run_one() {
	local label=$1 tmo=$2 out rc ok nok skip
	shift 2
	out=$(mktemp)
	timeout -k 15 "$tmo" "$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	ok=$(grep -c '^ok - ' "$out")
	nok=$(grep -c '^not ok - ' "$out")
	skip=$(grep -ci '^ok - .*# skip' "$out")
	passed=$((passed + ok - skip))
	failed=$((failed + nok))
	skipped=$((skipped + skip))
	while IFS= read -r l; do failures+=("$label: ${l#not ok - }"); done < <(grep '^not ok - ' "$out")
	while IFS= read -r l; do skips+=("$label: ${l#ok - }"); done < <(grep -i '^ok - .*# skip' "$out")
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
	san_env 1
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		case "$t" in *"$filter"*) ;; *) continue ;; esac
		run_one "$(basename "$t")" 120 "$t"
	done
fi

if [ "$what" = lab ] || [ "$what" = all ]; then
	echo "# lab tests (network namespaces)"
	san_env 0
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

if [ -n "$san_dir" ]; then
	reports=$(find "$san_dir" -type f | sort)
	if [ -z "$reports" ]; then
		echo "ok - no AddressSanitizer / UBSan report from any program"
		passed=$((passed + 1))
	else
		for r in $reports; do
			echo "# --- $r"
			head -40 "$r" | sed 's/^/# /'
		done
		echo "not ok - sanitizer reports: $(echo "$reports" | wc -l) (kept in $san_dir)"
		failed=$((failed + 1))
		failures+=("sanitizers: reports in $san_dir")
	fi
	[ -z "$reports" ] && rm -rf "$san_dir"
fi

if [ ${#skips[@]} -gt 0 ]; then
	echo "# skipped:"
	printf '#   %s\n' "${skips[@]}"
fi
if [ ${#failures[@]} -gt 0 ]; then
	echo "# failures:"
	printf '#   %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
