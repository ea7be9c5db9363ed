#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd's privilege separation in the lab (stuntd(8) PRIVILEGES): ha behind
# a port-restricted NAT and a CGN, hb behind a full cone.
#   - /proc/PID/status: the main process has no capability, NoNewPrivs 1 and
#     a non-root uid; its privileged child has exactly CAP_NET_ADMIN +
#     CAP_NET_RAW, NoNewPrivs 1 and a seccomp filter;
#   - discovery still measures the hop count through the privileged
#     process's capture (first SYN TTL 3 behind the CGN);
#   - simopen (TTL rewrite and RST/ICMP drop policies through the queue),
#     direct and an exec: service still work;
#   - kill -9 of the main process: the privileged one releases the rules
#     (iptables as before, no state file) and exits;
#   - kill -9 of the privileged process: the main one exits cleanly, the
#     rules stay behind fail-open with their state file, and the next start
#     recovers them and SIGTERM removes them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

# start_a: ha's daemon again, as start_all starts it
start_a() {
	PID_A=$(lab_bg ha "stuntd-a$1" "$STUNTD" -d -v --id laptop --server "$LAB_SRV1" \
		--secret-file "$LAB_STATE/secret-a" --control "$LAB_STATE/a.sock" \
		--state-dir "$LAB_STATE/sa" --rules-tool "$RULES_TOOL" \
		--expose echo=tcp:127.0.0.1:7000 --allow echo=office-pc)
	local i
	for i in $(seq 1 100); do
		ctl a '{"cmd":"status"}' | grep -q '"registered":true' && return 0
		sleep 0.1
	done
	return 1
}

# priv_of PID: its child that is stuntd (the privileged process)
priv_of() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ "$(cat /proc/"$c"/comm 2>/dev/null)" = stuntd ] && { echo "$c"; return 0; }
	done
	return 1
}

field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# caps HEX: the capability numbers set in a mask
caps() {
	local m=$((16#$1)) i out=""
	for ((i = 0; i < 64; i++)); do
		(((m >> i) & 1)) && out="$out$i "
	done
	echo "${out% }"
}

wait_gone() {
	local i
	for i in $(seq 1 100); do
		_lab_alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

ipt_same() {
	lx ha iptables-save >"$LAB_STATE/ipt-a.now" 2>/dev/null
	diff <(grep -v '^#' "$LAB_STATE/ipt-a.before") <(grep -v '^#' "$LAB_STATE/ipt-a.now") >/dev/null
}

WHO=/tmp/stunt-priv-who.$$
: >"$WHO"
chmod 666 "$WHO"
STUNTD_EXTRA_B=(--expose "who=exec:id -u >$WHO; exec cat" --allow who=laptop)
echo "# port-restricted rst + CGN (ha) x full-cone (hb)"
start_all port-restricted rst full-cone rst --cgn-a || exit 1

PRIV_A=$(priv_of "$PID_A")
if [ -n "$PRIV_A" ]; then
	ok "ha: stuntd $PID_A has a privileged child $PRIV_A"
else
	nok "ha: no privileged child of $PID_A"
fi
for p in "$PID_A" "$PRIV_A"; do
	echo "# pid $p: $(grep -E '^(Uid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/"$p"/status | tr '\t\n' '  ')"
done
uid=$(field "$PID_A" Uid)
check_eq "main process: CapEff" "$(field "$PID_A" CapEff)" 0000000000000000
check_eq "main process: CapPrm" "$(field "$PID_A" CapPrm)" 0000000000000000
check_eq "main process: CapAmb" "$(field "$PID_A" CapAmb)" 0000000000000000
check_eq "main process: NoNewPrivs" "$(field "$PID_A" NoNewPrivs)" 1
if [ -n "$uid" ] && [ "$uid" != 0 ] && [ "$uid" = "$(id -u nobody)" ]; then
	ok "main process: uid $uid (nobody, the default user here)"
else
	nok "main process: uid '$uid'"
fi
check_eq "privileged process: CapEff = CAP_NET_ADMIN(12)+CAP_NET_RAW(13)" \
	"$(caps "$(field "$PRIV_A" CapEff)")" "12 13"
check_eq "privileged process: CapPrm" "$(caps "$(field "$PRIV_A" CapPrm)")" "12 13"
check_eq "privileged process: CapBnd (what a program it runs may get)" \
	"$(caps "$(field "$PRIV_A" CapBnd)")" "12 13"
check_eq "privileged process: NoNewPrivs" "$(field "$PRIV_A" NoNewPrivs)" 1
check_eq "privileged process: Seccomp (filter mode)" "$(field "$PRIV_A" Seccomp)" 2
check_eq "privileged process: uid" "$(field "$PRIV_A" Uid | cut -f1)" 0
if grep -q 'first SYN TTL 3' "$LAB_STATE/stuntd-a.log" && ! grep -q 'no capture' "$LAB_STATE/stuntd-a.log"; then
	ok "discovery without root: hop count measured through the privileged capture (first SYN TTL 3 behind the CGN)"
else
	nok "discovery: $(grep -E 'discovery|capture' "$LAB_STATE/stuntd-a.log" | head -3)"
fi

transfer a office-pc "privsep: port-restricted+CGN -> full-cone, --method simopen" simopen simopen
transfer a office-pc "privsep: port-restricted+CGN -> full-cone, --method direct" direct direct
# the strategy races reversal (early), simopen and stunt1 (at the common
# start, 20 ms later): reversal wins in a few ms, but on a loaded machine a
# late reversal loses to stunt1 -- any of the three is the race working
transfer b laptop "privsep: full-cone -> port-restricted+CGN" "" "reversal|simopen|stunt1"
SVC=who transfer a office-pc "privsep: exec: service on hb" "" "[a-z0-9]+"
check_eq "the exec: service ran as the daemon's user (uid)" "$(cat "$WHO")" "$(id -u nobody)"
n=$(grep -c 'session: cannot add a queue policy' "$LAB_STATE/stuntd-a.log")
check_eq "ha: every queue policy request answered" "$n" 0

echo "# kill -9 of the unprivileged process"
kill -9 "$PID_A"
if wait_gone "$PRIV_A" && ipt_same && [ ! -e "$LAB_STATE/sa/rules.state" ] &&
	[ ! -e "$LAB_STATE/a.sock" ]; then
	ok "kill -9 main: the privileged process released the rules (iptables as before, no state file, no control socket) and exited"
else
	nok "kill -9 main: privileged process $(_lab_alive "$PRIV_A" && echo alive || echo gone)"
	diff <(grep -v '^#' "$LAB_STATE/ipt-a.before") <(grep -v '^#' "$LAB_STATE/ipt-a.now") | sed 's/^/# /'
fi

echo "# kill -9 of the privileged process"
if start_a 2; then
	ok "ha: restarted and registered"
else
	nok "ha: restart"
fi
PRIV_A=$(priv_of "$PID_A")
kill -9 "$PRIV_A"
if wait_gone "$PID_A"; then
	ok "kill -9 privileged: the main process exited"
else
	nok "kill -9 privileged: main process $PID_A still running"
fi
grep -q 'privileged process: gone: stopping' "$LAB_STATE/stuntd-a2.log" &&
	grep -q 'stuntd: info: stopped' "$LAB_STATE/stuntd-a2.log" &&
	ok "kill -9 privileged: the main process said why and stopped cleanly" ||
	nok "kill -9 privileged: log: $(tail -3 "$LAB_STATE/stuntd-a2.log")"
if ! ipt_same && [ -e "$LAB_STATE/sa/rules.state" ] &&
	lx ha iptables-save 2>/dev/null | grep -q -- '--queue-bypass'; then
	ok "kill -9 privileged: its rules stay, fail-open (--queue-bypass), with their state file"
else
	nok "kill -9 privileged: rules state after the kill"
fi
if start_a 3; then
	ok "ha: the next start recovers the rules and registers"
else
	nok "ha: start after a kill -9 of the privileged process"
fi
stop_all
rm -f "$WHO"
[ "${fails:-0}" -eq 0 ]
