#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The lab leaves nothing behind on any exit path: normal end, a failing test,
# Ctrl-C (SIGINT), SIGTERM (e.g. a test runner's timeout) and SIGKILL (reaped by
# the next lab_init). Checked by namespace names and by the processes started.
# bash runs a trap when the current foreground command ends, so the user below
# works in short steps, as lab tests do.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# a lab user: builds a small lab with a background process, then ends as told
cat >/tmp/stl-cleanup-user.$$ <<'EOS'
. "$1/lab.sh"
lab_init cu
lab_up --nat-a full-cone --nat-b sym-seq:1 || exit 9
lab_bg srv sleeper sleep 300 >/dev/null
echo "$LAB" >"$2"
case "$3" in
end) exit 0 ;;
fail) false; exit 1 ;;
*) while :; do sleep 1; done ;;
esac
EOS

# Job control: without it bash starts background jobs with SIGINT ignored, and
# an ignored signal cannot be trapped; a terminal's Ctrl-C reaches a foreground
# job with SIGINT live, which is the case to model.
set -m

# run_case HOW SIGNAL
run_case() {
	local how=$1 sig=$2 namef pid lab t
	namef=$(mktemp)
	bash /tmp/stl-cleanup-user.$$ "$here" "$namef" "$how" >/dev/null 2>&1 &
	pid=$!
	t=0
	while [ ! -s "$namef" ] && [ $t -lt 200 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; t=$((t + 1)); done
	lab=$(cat "$namef")
	rm -f "$namef"
	[ -n "$lab" ] || { nok "$how: the lab came up"; kill -9 $pid 2>/dev/null; return; }
	[ -n "$sig" ] && kill -"$sig" $pid
	wait $pid 2>/dev/null
	if [ "$sig" = KILL ]; then
		# nothing can run on SIGKILL: the next lab user reaps it
		ip netns list | grep -q "^$lab-" && ok "$how: namespaces remain right after SIGKILL (expected)"
		( . "$here/lab.sh"; lab_reap_stale )
	fi
	if ip netns list | grep -q "^$lab-"; then
		nok "$how: namespaces of $lab left: $(ip netns list | grep "^$lab-" | awk '{print $1}' | tr '\n' ' ')"
	else
		ok "$how: no namespace of $lab left"
	fi
	if pgrep -f "^sleep 300$" >/dev/null && [ "$(ip netns identify "$(pgrep -f '^sleep 300$' | head -1)" 2>/dev/null)" != "" ]; then
		nok "$how: a lab process survived"
	else
		ok "$how: no lab process survived"
	fi
}

run_case end ""
run_case fail ""
run_case interrupt INT
run_case terminate TERM
run_case killed KILL
rm -f /tmp/stl-cleanup-user.$$
[ "$fails" -eq 0 ]
