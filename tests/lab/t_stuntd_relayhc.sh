#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Half-close through a TURN relay. coturn's TCP relay (RFC 6062) resets
# both connections at the first FIN, so the two stuntds keep the relay
# connection and carry a half-close in band (daemon/relayhc.c, the session
# header's framing flag: docs/protocol.md). coturn on srv (192.0.2.1:3490)
# as in t_stuntd_relay.sh; both sides have TURN; port-restricted x
# port-restricted, every connect with --method relay:
#   stuntctl connect, stdin "PING" then EOF, against a tcp: service (echo)
#     and an exec: one (cat): stdout "PING", exit 0;
#   1 MB with half-close (the client's EOF, then the service's) through
#     the echo (tcp:) and cat (exec:), ha -> hb, and hb -> ha's echo (the
#     roles of the two stuntds swapped); the answer names the relay
#     connection's remote end (coturn's address: the client's descriptor
#     is a loopback connection's end);
#   the service half-closes first (exec: greet, 200 kB then EOF, then it
#     reads): the client reads the 200 kB to EOF, then sends 1 MB and EOF,
#     and the service gets all of it;
#   the relayed connections end on both sides ("ended", not an abort), and
#     every allocation is deleted after them.
# sym-random x sym-random, both with TURN (the strategy picks relay):
#   stuntctl forward: 1 MB through the forwarded port, the client's
#     half-close, the echo read to EOF.
# No RST may leave ha or hb.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
# shellcheck source=tests/lab/refservers.sh
. "$here/refservers.sh"

TURN_PORT=3490
TURN_ARGS=(--turn "$LAB_SRV1:$TURN_PORT" --turn-user stunt --turn-pass turn-pass-1)
STUNTCTL=$BUILD/stuntctl
MB=1000000

# greet's script and what it saw: in a directory of its own that the
# exec: child (stuntd's unprivileged user) can read and write ($LAB_STATE
# is the test's alone)
GREET=$(mktemp -d /tmp/relayhc-greet.XXXX)
chmod 1777 "$GREET"

start_all_hook() {
	ref_start_turn "$TURN_PORT" stunt turn-pass-1 lab || return 1
	# greet: 200 kB and its EOF first, then everything the client sends
	cat >"$GREET/greet.py" <<EOF
import hashlib, os, socket
s = socket.socket(fileno=0)
d = os.urandom(200000)
open("$GREET/greet.sent.tmp", "w").write("%d %s\n" % (len(d), hashlib.sha256(d).hexdigest()))
os.rename("$GREET/greet.sent.tmp", "$GREET/greet.sent")
s.sendall(d)
s.shutdown(socket.SHUT_WR)
h, n = hashlib.sha256(), 0
while True:
    b = s.recv(65536)
    if not b:
        break
    h.update(b)
    n += len(b)
open("$GREET/greet.got.tmp", "w").write("%d %s\n" % (n, h.hexdigest()))
os.rename("$GREET/greet.got.tmp", "$GREET/greet.got")
EOF
	STUNTD_EXTRA_A=("${TURN_ARGS[@]}")
	STUNTD_EXTRA_B=("${TURN_ARGS[@]}" --expose "greet=exec:python3 $GREET/greet.py"
		--allow greet=laptop)
}

# count_logs REGEX: lines of both daemons' logs that match
count_logs() {
	cat "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" | grep -c "$1"
}
all_deleted() {
	[ "$(count_logs 'relay: allocation .* deleted')" -ge "$(count_logs 'relay: allocated ')" ]
}

# pingpong SVC: printf PING | stuntctl connect --method relay office-pc/SVC in ha
pingpong() {
	local out rc
	out=$(printf PING | lx ha timeout 20 "$STUNTCTL" --control "$LAB_STATE/a.sock" connect \
		--method relay "office-pc/$1" 2>"$LAB_STATE/pp-$1.err")
	rc=$?
	if [ "$rc" -eq 0 ] && [ "$out" = PING ]; then
		ok "printf PING | stuntctl connect --method relay office-pc/$1 ($2): PING, exit 0"
	else
		nok "PING through the relay to office-pc/$1 ($2): got '$out', exit $rc: $(cat "$LAB_STATE/pp-$1.err")"
	fi
}

# halfclose FROM PEER SVC LABEL: 1 MB, the client's EOF, the echo to EOF
halfclose() {
	local out
	out=$(ctl "$1" "{\"cmd\":\"connect\",\"peer\":\"$2\",\"service\":\"$3\",\"method\":\"relay\"}" $MB)
	echo "$out" | sed 's/^/# /'
	if echo "$out" | head -1 | grep -q '"ok":true.*"method":"relay".*"relayed":true' &&
		echo "$out" | head -1 | grep -q "\"relay\":\"$LAB_SRV1:[0-9]*\"" &&
		echo "$out" | grep -q "^sha OK $MB\$"; then
		ok "$4: 1 MB with half-close both ways echoed intact, relayed through $LAB_SRV1"
	else
		nok "$4"
		tail -15 "$LAB_STATE/stuntd-$1.log" | sed 's/^/# A: /'
	fi
}

echo "# port-restricted x port-restricted, both with TURN, --method relay"
start_all port-restricted rst port-restricted rst && {
	pingpong echo "tcp: service"
	pingpong cat "exec: service"
	halfclose a office-pc echo "ha -> hb echo (tcp:)"
	halfclose a office-pc cat "ha -> hb cat (exec:)"
	halfclose b laptop echo "hb -> ha echo (tcp:), the roles swapped"

	out=$(ctl a --read-first '{"cmd":"connect","peer":"office-pc","service":"greet","method":"relay"}' $MB)
	echo "$out" | sed 's/^/# /'
	lab_wait_file "$GREET/greet.got" 20 >/dev/null
	first=$(echo "$out" | sed -n 's/^first //p')
	sent=$(echo "$out" | sed -n 's/^sent //p')
	if [ -s "$GREET/greet.sent" ] && [ "$first" = "$(cat "$GREET/greet.sent")" ]; then
		ok "the service's 200 kB and its EOF reached the client ($first)"
	else
		nok "the service's half-close: client got '${first:-nothing}', service sent '$(cat "$GREET/greet.sent" 2>/dev/null)'"
	fi
	if [ -n "$sent" ] && [ "$sent" = "$(cat "$GREET/greet.got" 2>/dev/null)" ]; then
		ok "after the service's EOF the client's 1 MB still reached it, then the client's EOF"
	else
		nok "client -> service after its half-close: sent '${sent:-nothing}', service got '$(cat "$GREET/greet.got" 2>/dev/null)'"
	fi

	# 6 relayed sessions on each side: every one ended, none aborted
	for x in a b; do
		if lab_wait_log "$LAB_STATE/stuntd-$x.log" 'relayed connection with .* ended \(' 10 6; then
			ok "h$x: the 6 relayed connections ended after both half-closes"
		else
			nok "h$x: relayed connections ended: $(grep -c 'relayed connection with .* ended (' "$LAB_STATE/stuntd-$x.log")"
			grep 'relayed connection' "$LAB_STATE/stuntd-$x.log" | tail -5 | sed "s/^/# $x: /"
		fi
		if grep -Eq 'relayed connection with .*(: closed$|ended it before both sides)' "$LAB_STATE/stuntd-$x.log"; then
			nok "h$x: a relayed connection was aborted"
			grep 'relayed connection with' "$LAB_STATE/stuntd-$x.log" | grep -v 'ended (' | sed "s/^/# $x: /"
		else
			ok "h$x: no relayed connection aborted"
		fi
	done
	# hb counted the bytes of its tcp: service's relayed sessions (PING and
	# the 1 MB echo from laptop; the exec: ones are the child's)
	fromb=$(ctl b '{"cmd":"peers"}' | python3 -c 'import json,sys; print([p for p in json.load(sys.stdin)["peers"] if p["id"] == "laptop"][0]["bytes_from_peer"])' 2>/dev/null)
	if [ "${fromb:-0}" -eq $((MB + 4)) ]; then
		ok "hb's peers: $fromb bytes from laptop to its tcp: service through the relay"
	else
		nok "hb's peers: bytes_from_peer of laptop ${fromb:-unreadable}, want $((MB + 4))"
	fi
	# the allocating side deletes each allocation once its connection is gone
	if lab_wait_for 10 all_deleted; then
		ok "every allocation ($(count_logs 'relay: allocated ')) deleted after its connection ended"
	else
		nok "allocations deleted: $(count_logs 'relay: allocation .* deleted') of $(count_logs 'relay: allocated ')"
	fi
	stop_all
}

echo "# sym-random x sym-random, both with TURN: the strategy picks relay"
start_all sym-random rst sym-random rst && {
	lab_bg ha fwd "$STUNTCTL" --control "$LAB_STATE/a.sock" forward 127.0.0.1:7002 \
		office-pc/echo >/dev/null
	if lab_wait_port ha tcp 127.0.0.1 7002 10; then
		res=$(lab_echo_check ha 127.0.0.1 7002 $MB)
		how=$(grep -o 'connected by [a-z0-9]* in [0-9]* ms.*' "$LAB_STATE/fwd.log" | head -1)
		if [ "$res" = ok ] && echo "$how" | grep -q 'connected by relay .*(relayed)'; then
			ok "stuntctl forward (spliced to a loopback connection's end): 1 MB, the client's half-close, the echo to EOF ($how)"
		else
			nok "stuntctl forward over relay: ${res:-nothing} (${how:-no connect}): $(tail -3 "$LAB_STATE/fwd.log")"
		fi
	else
		nok "stuntctl forward listening on 127.0.0.1:7002"
	fi
	if lab_wait_log "$LAB_STATE/stuntd-b.log" 'relayed connection with laptop ended \(1000000 bytes out, 1000000 in\)' 10; then
		ok "hb: the forwarded relayed connection ended after both half-closes"
	else
		nok "hb: $(grep 'relayed connection' "$LAB_STATE/stuntd-b.log" | tail -2)"
	fi
	stop_all
}
rm -rf "$GREET"
[ "$fails" -eq 0 ]
