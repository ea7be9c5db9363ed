#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The daemon side of the NFQUEUE rules' lifecycle (nfq/nfq_rules.c, issue 5):
# a queue holder installs the rules at start and removes them on exit, and the
# next start after a crash removes what the crashed one left.
#
# Lab: ha (10.1.0.10) behind gwa (port-restricted NAT) -> inet -> srv
# (192.0.2.1, a listener on 5001). build/drv/nfqdrv --rules ... hold plays
# stuntd in ha: it takes the rules through tools/stunt-rules with its state
# file in this test's temp dir (never /run), binds queue 7421 and holds it.
#
#   1. start -> rules installed, identical to one plain `stunt-rules install`;
#      SIGTERM -> rules gone, ha's rule set exactly as before the start.
#      "Rule set" is iptables-save and ip6tables-save: stunt-rules installs
#      both families, and every check below covers both.
#   2. a second holder while the first runs is refused (exit 4, names the
#      owner's pid) and leaves the first's rules and state file alone.
#   3. kill -9 -> the rules stay (nobody could remove them), marked and
#      unmarked connections still connect (--queue-bypass: fail-open).
#   4. start again -> "removing stale rules left by pid N" once, the rules are
#      removed and installed again (their counters restart at 0) with one jump
#      per chain; the new holder serves the queue; SIGTERM -> the pre-start
#      rule set.
#   5. a host without ip6tables (a stunt-rules that cannot see it): the holder
#      starts with the IPv4 rules only and logs stunt-rules' one warning;
#      SIGTERM -> the pre-start rule set.
# Never touches the root namespace.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"
TOP=$LAB_TOP
DRV=$LAB_BUILD/drv/nfqdrv
RULES=$TOP/tools/stunt-rules
Q=7421
MARK=0x7421
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# same NAME EXPECTED GOT: equal rule sets, or the diff
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		nok "$1"
		diff <(echo "$2") <(echo "$3") | sed 's/^/# /'
	fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - t_nfq_rules needs root (network namespaces)"
	exit 1
fi
[ -x "$DRV" ] || { echo "not ok - $DRV missing (make)"; exit 1; }

lab_init nfqr
lab_up || { echo "not ok - lab_up"; exit 1; }
S=$LAB_STATE
STATE=$S/rules.state

# save: ha's iptables-save and ip6tables-save without comments and counters
save() {
	{ lx ha iptables-save; echo "# ip6tables"; lx ha ip6tables-save; } 2>/dev/null |
		grep -v '^# [GC]' | sed -E 's/ ?\[[0-9]+:[0-9]+\]//'
}
# qcount CHAIN: packets counted by the NFQUEUE rules of a mangle chain in ha
qcount() {
	lx ha iptables -w 5 -t mangle -L "$1" -v -x -n 2>/dev/null |
		awk '/NFQUEUE/ { s += $1 } END { print s + 0 }'
}
# queue_line: ha's /proc entry for our queue (empty when nobody holds it)
queue_line() {
	lx ha cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk -v q="$Q" '$1 == q'
}
state_pid() { awk '$1 == "pid" { print $2 }' "$STATE" 2>/dev/null; }
status_rc() { lx ha "$RULES" status >/dev/null 2>&1; echo $?; }

# start_holder NAME: nfqdrv --rules hold in ha; sets PID, waits until it holds the queue
start_holder() {
	rm -f "$S/$1.ready"
	lab_bg ha "$1" "$DRV" --queue "$Q" --mark "$MARK" --rules --rules-tool "$RULES" \
		--rules-state "$STATE" hold --ready-file "$S/$1.ready" >/dev/null
	PID=${LAB_PIDS[-1]}
	lab_wait_file "$S/$1.ready" 10
}
# stop PID SIGNAL: send it, wait (at most 10 s); RC: its exit status
# (not in $(...): only this shell can wait for its children)
stop() {
	local st
	exec 3>&2 2>/dev/null   # not bash's own "Killed" notice for the kill -9
	kill -"$2" "$1"
	for _ in $(seq 200); do
		st=$(ps -o stat= -p "$1")
		case "$st" in "" | Z*) break ;; esac
		sleep 0.05
	done
	wait "$1"
	RC=$?
	exec 2>&3 3>&-
}
conn() { # conn MARK: connect from ha to srv:5001 with that socket mark (0: unmarked)
	lx ha "$DRV" connect --mark "$1" --dst 192.0.2.1:5001 --timeout-ms 3000 >/dev/null 2>&1
}

lab_bg srv lis "$DRV" listen --bind 192.0.2.1:5001 --timeout-ms 120000 >/dev/null
lab_wait_port srv tcp 192.0.2.1 5001 || nok "listener on srv:5001"

# an unrelated rule in ha that every removal must leave alone
lx ha iptables -w 5 -t mangle -A OUTPUT -p udp --dport 9 -j MARK --set-mark 0x1
R0=$(save)
# the reference: what one plain install gives
lx ha "$RULES" install --queue "$Q" --mark "$MARK" --queue-bypass >/dev/null ||
	{ echo "not ok - stunt-rules install in ha"; exit 1; }
R1=$(save)
check_cmd "the reference install has the IPv6 chains and jumps too (OUT, IN, PRE)" \
	test "$(echo "$R1" | sed -n '/^# ip6tables$/,$p' | grep -c -e '^:STUNT-' -e '-j STUNT-')" -eq 6
lx ha "$RULES" remove >/dev/null
same "reference install; remove restores ha's rule set" "$R0" "$(save)"

# ------------------------------------------------------------ 1. start, SIGTERM
start_holder a || nok "holder a started"
A=$PID
same "holder a installed exactly the rules of one stunt-rules install" "$R1" "$(save)"
check_cmd "stunt-rules status: installed" test "$(status_rc)" -eq 0
check_cmd "state file names holder a (pid $A, file says '$(state_pid)')" test "$(state_pid)" = "$A"
check_cmd "holder a holds queue $Q" test -n "$(queue_line)"

# ------------------------------------------------------------ 2. a second holder is refused
lx ha "$DRV" --queue "$Q" --mark "$MARK" --rules --rules-tool "$RULES" --rules-state "$STATE" \
	hold --timeout-ms 3000 >"$S/b.json" 2>"$S/b.err"
rc=$?
check_cmd "a second holder while a runs exits 4 (rc $rc)" test "$rc" -eq 4
check_cmd "its error names the owner's pid $A ($(grep -m1 'owned by' "$S/b.err"))" \
	grep -q "owned by running pid $A " "$S/b.err"
same "the refused holder left a's rules alone" "$R1" "$(save)"
check_cmd "the refused holder left a's state file alone" test "$(state_pid)" = "$A"
check_cmd "holder a still runs and holds the queue" test -n "$(queue_line)" -a -d "/proc/$A"

stop "$A" TERM
rc=$RC
check_cmd "holder a exits 0 on SIGTERM (rc $rc)" test "$rc" -eq 0
same "after SIGTERM ha's rule set is exactly the pre-start one" "$R0" "$(save)"
check_cmd "stunt-rules status: not installed" test "$(status_rc)" -eq 3
check_cmd "state file removed" test ! -e "$STATE"
check_cmd "no temporary state files left" test -z "$(compgen -G "$STATE.tmp.*")"
check_cmd "holder a logged the install and the removal" \
	grep -q "nfq rules removed" "$S/a.log"

# ------------------------------------------------------------ 3. kill -9
start_holder c || nok "holder c started"
C=$PID
stop "$C" KILL
rc=$RC
check_cmd "holder c killed with SIGKILL (rc $rc)" test "$rc" -eq 137
same "after kill -9 the rules are still there (nobody removed them)" "$R1" "$(save)"
check_cmd "state file still names the dead holder c ($C)" test "$(state_pid)" = "$C"
for _ in $(seq 100); do [ -z "$(queue_line)" ] && break; sleep 0.05; done
check_cmd "nobody holds queue $Q" test -z "$(queue_line)"
c0=$(qcount STUNT-OUT)
conn "$MARK"
rc=$?
c1=$(qcount STUNT-OUT)
check_cmd "a marked connection still connects, its SYN bypasses the empty queue (rc $rc, $c0 -> $c1)" \
	test "$rc" -eq 0 -a "$c1" -gt "$c0"
check_cmd "an unmarked connection still connects" conn 0

# ------------------------------------------------------------ 4. restart after the crash
start_holder d || nok "holder d started"
D=$PID
n=$(grep -c "removing stale rules" "$S/d.log")
check_cmd "holder d logged the stale rules of pid $C once ($n: $(grep -m1 'removing stale' "$S/d.log" | cut -d' ' -f2-))" \
	test "$n" -eq 1 -a -n "$(grep "removing stale rules left by pid $C " "$S/d.log")"
same "holder d's rule set equals one install (no duplicate jumps or rules)" "$R1" "$(save)"
jumps=$(save | grep -c -- '-m comment --comment stunt -j STUNT-')
check_cmd "one tagged jump per chain and family ($jumps: OUTPUT, INPUT, raw PREROUTING; IPv4, IPv6)" test "$jumps" -eq 6
check_cmd "the stale chains were replaced: STUNT-OUT counters restart ($(qcount STUNT-OUT))" \
	test "$(qcount STUNT-OUT)" -eq 0
check_cmd "state file names holder d ($D)" test "$(state_pid)" = "$D"
ids0=$(queue_line | awk '{print $8}')
conn "$MARK"
rc=$?
ids1=$(queue_line | awk '{print $8}')
check_cmd "holder d serves the queue: marked connection queued and connected (ids $ids0 -> $ids1)" \
	test "$rc" -eq 0 -a "${ids1:-0}" -gt "${ids0:-0}"
stop "$D" TERM
rc=$RC
check_cmd "holder d exits 0 on SIGTERM (rc $rc)" test "$rc" -eq 0
same "after the restart and a clean stop ha's rule set is the pre-start one" "$R0" "$(save)"
check_cmd "state file removed again" test ! -e "$STATE"

# ------------------------------------------------------------ 5. no ip6tables
# stuntd runs stunt-rules with a fixed PATH: a wrapper hides ip6tables from it
NO6=$S/no6
mkdir -p "$NO6/bin"
for f in iptables iptables-nft iptables-legacy nft; do
	[ -e "/usr/sbin/$f" ] && ln -s "/usr/sbin/$f" "$NO6/bin/$f"
done
printf '#!/bin/sh\nPATH=%s:/usr/bin:/bin exec %s "$@"\n' "$NO6/bin" "$RULES" >"$NO6/stunt-rules"
chmod +x "$NO6/stunt-rules"
rm -f "$S/e.ready"
lab_bg ha e "$DRV" --queue "$Q" --mark "$MARK" --rules --rules-tool "$NO6/stunt-rules" \
	--rules-state "$STATE" hold --ready-file "$S/e.ready" >/dev/null
E=${LAB_PIDS[-1]}
lab_wait_file "$S/e.ready" 10 || nok "holder e started"
check_cmd "without ip6tables the holder runs with the IPv4 rules only" \
	test "$(save | sed '/^# ip6tables$/q' | grep -c -- '-j NFQUEUE')" -eq 10 \
	-a -z "$(save | sed -n '/^# ip6tables$/,$p' | grep STUNT)"
n=$(grep -c "warning: IPv6 packets are not queued" "$S/e.log")
check_cmd "its log has stunt-rules' warning once ($n: $(grep -m1 'IPv6 packets' "$S/e.log" | cut -d' ' -f2-))" \
	test "$n" -eq 1
stop "$E" TERM
check_cmd "holder e exits 0 on SIGTERM (rc $RC)" test "$RC" -eq 0
same "after holder e ha's rule set is the pre-start one" "$R0" "$(save)"

lab_down
check_cmd "no lab namespaces left behind" test -z "$(ip netns list | grep "^$LAB-")"
[ "$fails" -eq 0 ]
