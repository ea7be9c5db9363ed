#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An endpoint-independent NAT that does not preserve ports (issue 16): the
# lab's eim-random gateway gives each internal endpoint a port of its own,
# the same towards every destination (tests/lab/lab.sh). Such a NAT is a
# cone: the port a STUN Binding from a socket's port sees is the one the
# peer must aim at, so neither prediction nor shotgun is needed (the
# strategy raced shotgun only, before). ha behind eim-random, hb behind a
# port-restricted cone (both APDF). Checks:
#   - stuntd's discovery in ha says EIM mapping, random allocation;
#   - ha -> hb and hb -> ha: the race is won by simopen or stunt1 and 5 MB
#     come back intact; no session races shotgun or predict;
#   - ha's daemon learnt its sockets' public ports ("port P is M after our
#     NAT" with M != P) and the port it advertised is the one hb's
#     connection came from: gwa's conntrack holds an established flow from
#     ha's port P whose public port is M;
#   - simopen forced, both ways; no RST left the hosts; SIGTERM leaves
#     iptables as before (stop_all).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

start_all eim-random rst port-restricted rst || exit 1

nat=$(ctl a '{"cmd":"status"}' | python3 -c '
import json, sys
t = json.loads(sys.stdin.readline())["nat"]["tcp"]
print(t.get("mapping"), t.get("allocation"))' 2>/dev/null)
if [ "$nat" = "EIM random" ]; then
	ok "ha's discovery: TCP mapping EIM, allocation random"
else
	nok "ha's discovery: '$nat' (want 'EIM random')"
	ctl a '{"cmd":"status"}' | head -c 2000 | sed 's/^/# /'
fi

transfer a office-pc "ha (EIM, random ports) -> hb (port-restricted): the race" "" 'simopen|stunt1'
transfer b laptop "hb -> ha: the race" "" 'simopen|stunt1'
transfer a office-pc "ha -> hb, simopen forced" simopen simopen
transfer b laptop "hb -> ha, simopen forced" simopen simopen

# the responder's choice for each session: "racing M1, M2" (the requester
# learns a port for every method it may be asked to run, shotgun included)
races=$(grep -ho 'racing [a-z0-9, ]*' "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log")
echo "$races" | sort | uniq -c | sed 's/^/# /'
if [ -n "$races" ] && ! echo "$races" | grep -q 'shotgun\|predict'; then
	ok "no session raced shotgun or predict ($(echo "$races" | grep -c .) races)"
else
	nok "races: $(echo "$races" | tr '\n' ';')"
fi

# every learnt port differs from the socket's own, and one of them is the
# public side of a flow gwa tracked from that socket's port
learnt=$(grep -o 'port [0-9]* is [0-9]* after our NAT' "$LAB_STATE/stuntd-a.log" | awk '{ print $2, $4 }')
n=$(echo "$learnt" | grep -c .)
same=$(echo "$learnt" | awk '$1 == $2' | grep -c .)
seen=0
ct=$(lx gwa conntrack -L -p tcp 2>/dev/null)
while read -r p m; do
	[ -n "$p" ] || continue
	if echo "$ct" | grep -E "src=10\.1\.0\.10 .* sport=$p " | grep -Eq "dport=$m( |$)"; then
		seen=$((seen + 1))
	fi
done <<<"$learnt"
echo "# learnt (local public): $(echo "$learnt" | tr '\n' ';')"
if [ "$n" -ge 4 ] && [ "$same" -eq 0 ] && [ "$seen" -ge 1 ]; then
	ok "ha learnt $n public ports by Binding from its sockets' own ports (none the same); $seen seen in gwa's conntrack as that socket's public port"
else
	nok "learnt ports: $n, equal to the local one: $same, seen in gwa's conntrack: $seen"
	echo "$ct" | grep 10.1.0.10 | head -10 | sed 's/^/# ct: /'
fi

stop_all
[ "$fails" -eq 0 ]
