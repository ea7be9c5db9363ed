#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd's shotgun (birthday) traversal in the namespace lab (see
# t_stuntd.sh for the setup). Pairs (ha "laptop" x hb "office-pc"):
#   port-restricted x sym-random (--syn-b rst)   shotgun forced and by the
#                                                strategy, both role orders
#   port-restricted x sym-random (--syn-b drop)  the strategy's pick and forced
#   port-restricted x sym-random (--syn-b icmp)  the strategy's pick
#   restricted-cone x sym-random                 the strategy picks direct /
#                                                reversal (primed filter)
# (sym-random x sym-random, no method at all: t_stuntd.sh)
# Every connect moves 5 MB through the echo service with the sha256
# compared; no RST may leave ha or hb; after each connect no socket of the
# attempt is left in either host and stuntd's status shows no session
# still running.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

# shotgun_stats X: the numbers of the last hit in stuntd-X's log
shotgun_stats() {
	grep -o 'shotgun: hit after [0-9]* probes.*\|shotgun: socket [0-9]* of [0-9]*.*' \
		"$LAB_STATE/stuntd-$1.log" | tail -1
}

# leftovers: TCP sockets of stuntd in SYN-SENT (the shotgun's) in ha and hb
leftovers() {
	local x n total=0
	for x in ha hb; do
		n=$(lx "$x" ss -Htn state syn-sent | wc -l)
		total=$((total + n))
	done
	echo "$total"
}
no_leftovers() { [ "$(leftovers)" -eq 0 ]; }

# sg_transfer FROM PEER LABEL METHOD WANT
sg_transfer() {
	local before after
	before=$(grep -c 'shotgun: hit after' "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" | awk -F: '{ n += $2 } END { print n }')
	transfer "$@"
	after=$(grep -c 'shotgun: hit after' "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" | awk -F: '{ n += $2 } END { print n }')
	if [ "${4:-}" = shotgun ] || [ "${5:-}" = shotgun ]; then
		if [ "$after" -gt "$before" ]; then
			ok "$3: the predictable side logged its hit: $( (shotgun_stats a; shotgun_stats b) | grep 'hit after' | tail -1)"
		else
			nok "$3: no hit logged"
		fi
	fi
	# until the attempt's sockets are closed; a leaked one would stay in
	# SYN-SENT for the kernel's 2 min of SYN retries (stuntd sets no
	# TCP_SYNCNT), well past this bound
	local n
	lab_wait_for 5 no_leftovers
	n=$(leftovers)
	[ "$n" -eq 0 ] && ok "$3: no shotgun socket left in SYN-SENT in ha or hb" ||
		nok "$3: $n sockets left in SYN-SENT 5 s after the connect"
}

case "${1:-all}" in
pr-sym|all)
	echo "# port-restricted (ha) x sym-random rst (hb)"
	start_all port-restricted rst sym-random rst && {
		sg_transfer a office-pc "port-restricted -> sym-random, --method shotgun" shotgun shotgun
		sg_transfer b laptop "sym-random -> port-restricted, --method shotgun" shotgun shotgun
		sg_transfer a office-pc "port-restricted -> sym-random, the strategy's pick" "" shotgun
		sg_transfer b laptop "sym-random -> port-restricted, the strategy's pick" "" shotgun
		st=$(ctl a '{"cmd":"status"}')
		if echo "$st" | grep -q '"state": *"running"\|"state":"running"'; then
			nok "status of ha: a session still running: $st"
		else
			ok "status of ha: no session left running"
		fi
		stop_all
	}
	;;&
pr-sym-drop|all)
	echo "# port-restricted (ha) x sym-random drop (hb)"
	start_all port-restricted rst sym-random drop && {
		sg_transfer a office-pc "port-restricted -> sym-random(drop), the strategy's pick" "" shotgun
		sg_transfer b laptop "sym-random(drop) -> port-restricted, --method shotgun" shotgun shotgun
		stop_all
	}
	;;&
pr-sym-icmp|all)
	echo "# port-restricted (ha) x sym-random icmp (hb)"
	start_all port-restricted rst sym-random icmp && {
		sg_transfer a office-pc "port-restricted -> sym-random(icmp), the strategy's pick" "" shotgun
		stop_all
	}
	;;&
rc-sym|all)
	echo "# restricted-cone (ha) x sym-random (hb)"
	start_all restricted-cone rst sym-random rst && {
		transfer a office-pc "restricted-cone -> sym-random, the strategy's pick" "" reversal
		transfer b laptop "sym-random -> restricted-cone, the strategy's pick" "" direct
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
