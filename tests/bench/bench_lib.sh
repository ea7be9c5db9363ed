# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The preamble the benchmarks tests/bench/*.sh share. Sourced, not a
# benchmark (tests/bench.sh skips it):
#
#   # shellcheck source=tests/bench/bench_lib.sh
#   . "$(dirname "$0")/bench_lib.sh"
#   bench_init tree|stunt-top  TOP, DOC, LAB_HERE (below)
#   bench_root NAME [WHY]    root, else "bench NAME: needs root (WHY)", exit 1
#   bench_built NAME BIN...  each $STUNT_BUILD/BIN built, else
#                            "bench NAME: $STUNT_BUILD/BIN missing (make)", exit 1
#   bench_stuntd_lab         tests/lab/lab.sh and tests/lab/stuntd_lab.sh
#                            (start_all, ctl, stop_all ...), $here set to
#                            tests/lab as stuntd_lab.sh wants it
#   bench_answer OUT         a connect's answer (ctl's output) into ANS_MS,
#                            ANS_METHOD and ANS_OK (below)
#
# bench_init sets TOP, the tree: with tree the one this file is in, with
# stunt-top STUNT_TOP when it is set (tests/bench.sh sets it), else that
# one, and then STUNT_BUILD exported too (default $TOP/build); DOC, the
# document the sections go to (BENCH_DOC, default $TOP/docs/benchmarks.md);
# LAB_HERE, $TOP/tests/lab.
# None of it measures or writes anything.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

bench_init() {
	if [ "$1" = stunt-top ]; then
		TOP=${STUNT_TOP:-$(cd "$BENCH_DIR/../.." && pwd)}
		export STUNT_BUILD=${STUNT_BUILD:-$TOP/build}
	else
		TOP=$(cd "$BENCH_DIR/../.." && pwd)
	fi
	# shellcheck disable=SC2034 # the callers'
	DOC=${BENCH_DOC:-$TOP/docs/benchmarks.md}
	LAB_HERE=$TOP/tests/lab
}

bench_root() {
	[ "$(id -u)" -eq 0 ] || { echo "bench $1: needs root${2:+ ($2)}" >&2; exit 1; }
}

bench_built() {
	local name=$1 b
	shift
	for b in "$@"; do
		[ -x "$STUNT_BUILD/$b" ] || { echo "bench $name: $STUNT_BUILD/$b missing (make)" >&2; exit 1; }
	done
}

# bench_answer OUT: what ctl printed for a connect (its JSON answer line,
# then "sha OK N" when the bytes came back intact): ANS_MS (elapsed_ms) and
# ANS_METHOD (the winner) from the answer line, empty when it has none, and
# ANS_OK, how many "sha OK" lines (0 or 1).
bench_answer() {
	local first=${1%%$'\n'*}
	# shellcheck disable=SC2034 # the callers'
	ANS_MS=$(sed -n 's/.*"elapsed_ms":\([0-9]*\).*/\1/p' <<<"$first")
	# shellcheck disable=SC2034
	ANS_METHOD=$(sed -n 's/.*"method":"\([a-z0-9]*\)".*/\1/p' <<<"$first")
	# shellcheck disable=SC2034
	ANS_OK=$(grep -c '^sha OK' <<<"$1")
	return 0
}

# Sourced here, in a function: what they assign is global all the same
# (neither declares a variable), which the callers rely on.
bench_stuntd_lab() {
	here=$LAB_HERE
	# shellcheck source=tests/lab/lab.sh
	. "$LAB_HERE/lab.sh"
	# shellcheck source=tests/lab/stuntd_lab.sh
	. "$LAB_HERE/stuntd_lab.sh"
}
