#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lab self-check of the busy sequential NAT (issue 19): tests/lab/flowgen.py
# in ha2 (lab_up --lan2-a) loads gwa, a sym-seq:1 NAT, with new TCP flows
# to a closed port of pub. The NAT's TCP counter is read from ha as the
# public port of one new TCP flow to natcheck.py's reflector in srv (each
# such probe is itself one mapping). Checks:
#   - without load the counter moves by our own probe only (1);
#   - flowgen run to its end opens rate x duration flows, each answered
#     (pub's RST), and the counter moves by exactly those plus our probe:
#     one new mapping per flow; the UDP counter (apart in _lab_nat_rules)
#     moves by our UDP probe only;
#   - with flowgen running at RATE a second, two probes at least 1 s apart
#     see the counter move by at least half of RATE (no upper bound: a
#     late flow goes at once); flowgen stops at SIGTERM with its report.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/tap.sh
. "$here/tap.sh"
NC=$here/natcheck.py
FG=$here/flowgen.py
RATE=100
TO="$LAB_PUB:9"

lab_init busy
lab_up --nat-a sym-seq:1 --lan2-a || { nok "lab up"; exit 1; }
lab_bg srv reflect python3 "$NC" reflect "$LAB_SRV1" "$LAB_SRV2" 5000 5001 >/dev/null
lab_wait_port srv tcp "$LAB_SRV2" 5001 10 || { nok "reflector in srv"; exit 1; }

# port tcp|udp: the public port gwa gave one new flow from ha ("" if none)
port() {
	lx ha python3 "$NC" allocation "$1" "$LAB_SRV1" 5000 1 |
		python3 -c 'import json, sys; p = json.load(sys.stdin)["pairs"][0][1]; print("" if p is None else p)' 2>/dev/null
}
# moved A B: how far the counter went from port A to port B (the map wraps
# after LAB_SEQ_MAX ports); "" when either is missing
moved() {
	[ -n "$1" ] && [ -n "$2" ] || return 0
	echo $(((($2 - $1) % LAB_SEQ_MAX + LAB_SEQ_MAX) % LAB_SEQ_MAX))
}
# kv FILE KEY: flowgen's "key value" output
kv() { sed -n "s/^$2 //p" "$1" | tail -1; }

echo "# no load"
p1=$(port tcp)
sleep 1
p2=$(port tcp)
echo "# public ports $p1 -> $p2"
check_eq "no load: the TCP counter moved by our own probe only in 1 s" "$(moved "$p1" "$p2")" 1

echo "# flowgen in ha2 to its end: $RATE/s for 2 s"
u1=$(port udp)
p1=$(port tcp)
lx ha2 python3 "$FG" --to "$TO" --rate "$RATE" --duration 2 >"$LAB_STATE/fg1.out" 2>&1
rc=$?
p2=$(port tcp)
u2=$(port udp)
sed 's/^/# flowgen: /' "$LAB_STATE/fg1.out"
echo "# public ports tcp $p1 -> $p2, udp $u1 -> $u2"
n=$(kv "$LAB_STATE/fg1.out" opened)
check_eq "flowgen stopped by itself (exit 0)" "$rc" 0
check_eq "flowgen opened rate x duration flows" "$n" $((RATE * 2))
check_eq "every flow was answered (pub's RST through the NAT)" "$(kv "$LAB_STATE/fg1.out" answered)" "$n"
check_eq "the TCP counter moved by flowgen's flows + our probe" "$(moved "$p1" "$p2")" "$((${n:-0} + 1))"
check_eq "the UDP counter moved by our UDP probe only" "$(moved "$u1" "$u2")" 1

echo "# flowgen in ha2 in the background at $RATE/s"
pid=$(lab_bg ha2 fg2 python3 "$FG" --to "$TO" --rate "$RATE" --duration 60)
if lab_wait_log "$LAB_STATE/fg2.log" '^started' 10; then
	p1=$(port tcp)
	sleep 1
	p2=$(port tcp)
	d=$(moved "$p1" "$p2")
	echo "# public ports $p1 -> $p2: moved ${d:-?}"
	if [ -n "$d" ] && [ "$d" -ge $((RATE / 2)) ]; then
		ok "with load: the TCP counter moved by $d in >= 1 s (at least $((RATE / 2)))"
	else
		nok "with load: the TCP counter moved by '${d:-}' in >= 1 s, want at least $((RATE / 2))"
	fi
else
	nok "flowgen started in ha2"
fi
kill -TERM "$pid" 2>/dev/null
fg_gone() { ! _lab_alive "$pid"; }
if lab_wait_for 10 fg_gone && lab_wait_log "$LAB_STATE/fg2.log" '^per_s ' 1; then
	sed 's/^/# flowgen: /' "$LAB_STATE/fg2.log"
	n=$(kv "$LAB_STATE/fg2.log" opened)
	if [ "${n:-0}" -gt 0 ]; then
		ok "flowgen stopped at SIGTERM and reported $n flows"
	else
		nok "flowgen at SIGTERM reported '${n:-}' flows"
	fi
else
	nok "flowgen stopped at SIGTERM with its report"
fi
lab_down
[ "$fails" -eq 0 ]
