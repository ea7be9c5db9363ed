#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run each libFuzzer target for a bounded time on its corpus (tests/fuzz/corpus/NAME,
# seeds kept in git); new inputs go to a scratch folder so the kept corpus stays small.
# A crash leaves its reproducer in tests/fuzz/crashes/ and fails the run.
# Usage: tests/fuzz/run.sh SECONDS TARGET...
set -u
secs=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/crashes"
passed=0
failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	seeds="$here/corpus/${name#fuzz_}"
	work=$(mktemp -d)
	mkdir -p "$seeds"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$here/crashes/${name}-" "$work" "$seeds" >"$work.log" 2>&1; then
		echo "ok - $name ran ${secs}s: $(grep -o 'Done [0-9]* runs' "$work.log" | tail -1)"
		passed=$((passed + 1))
	else
		tail -40 "$work.log"
		echo "not ok - $name crashed (reproducer in tests/fuzz/crashes/)"
		failed=$((failed + 1))
	fi
	rm -rf "$work" "$work.log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
