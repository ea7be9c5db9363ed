#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stunt-server against hostile peers (issue 13), in the namespace lab:
#
#   secrets file  one group or others may read is refused at start (exit,
#                 the file and its mode named); one the run-as user cannot
#                 read too; --keep-root reads it as root and keeps root;
#                 started by nobody, the server keeps that uid.
#   privileges    by default the server runs as nobody, every capability
#                 set (effective, permitted, inheritable, ambient, bounding)
#                 empty, no_new_privs, with STUNT (raw socket, capture)
#                 still working.
#   revocation    SIGHUP with an id removed and another's secret changed
#                 closes those two registrations (logged with the ids,
#                 rdv.revoked), leaves an unchanged peer registered; the
#                 removed id is refused at REGISTER, the old secret at
#                 AUTHENTICATE, the new secret registers. A SIGHUP with a
#                 refused file keeps the old ids and every registration.
#   signalling    a burst of EXCHANGEs beyond --signal-burst: the excess
#   budget        refused (429 "Signalling rate limit"), counted
#                 (rdv.signal_limited), never relayed; another peer's
#                 EXCHANGEs to the same target still flow.
#   STUNT share   three connections from one address arm at most
#                 STUNT_ADDR_SHARE (8) captures (429 "Fair share used",
#                 stunt.share_limited); another address still arms its own.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
SERVER=${STUNT_BUILD:-$here/../../build}/stunt-server
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

[ -x "$SERVER" ] || { nok "stunt-server built ($SERVER)"; exit 1; }

# python3 -c "$PY" SRV STEP [ARGS]: one "ok - " / "not ok - " line per check
PY='
import os, socket, struct, sys, time
from stunwire import ok, error_code, SigConn, Conn, LOOKUP, EXCHANGE, PEER_ID
srv, step = sys.argv[1], sys.argv[2]
SESSION_ID, SERVICE, METHODS = 0x5A18, 0x5A19, 0x5A1A
CAPTURE, TIMEOUT = 0x0A0, 0x5A01
def reason(a):
    return a.get(0x0009, b"    ")[4:].decode(errors="replace")
def answer(c):
    t, cl, a, raw, v = c.srecv()
    return cl, error_code(a), a, v
def closed(c):
    "the server closed c: EOF (not a timeout)"
    try:
        return c.recv_raw() is None
    except (socket.timeout, OSError) as e:
        return isinstance(e, ConnectionResetError)
def wait_file(p, t=20):
    end = time.time() + t
    while time.time() < end and not os.path.exists(p):
        time.sleep(0.05)
def exchange(c, to, sid):
    c.sreq(EXCHANGE, [(PEER_ID, to), (SESSION_ID, struct.pack("!I", sid)),
                      (SERVICE, b"echo"), (METHODS, bytes([1]))])
if step == "revoke":
    flag = sys.argv[3]
    la, of, ke = SigConn(srv, timeout=4), SigConn(srv, timeout=4), SigConn(srv, timeout=4)
    ok(la.login(b"laptop", b"s3cret-laptop") == 200, "laptop registers")
    ok(of.login(b"office-pc", b"s3cret-office") == 200, "office-pc registers")
    ok(ke.login(b"keeper", b"s3cret-keeper") == 200, "keeper registers")
    print("ready", flush=True)
    wait_file(flag)
    ok(closed(la), "SIGHUP, laptop removed from the secrets file: its connection closed by the server")
    ok(closed(of), "SIGHUP, office-pc given another secret: its connection closed by the server")
    ke.sreq(LOOKUP, [(PEER_ID, b"office-pc")])
    cl, code, a, v = answer(ke)
    ok(cl == 3 and code == 404 and v, "keeper (secret unchanged) still registered, its connection still works; office-pc no longer registered (LOOKUP 404, sealed)")
    ok(SigConn(srv).login(b"laptop", b"s3cret-laptop") == 403, "removed id refused at REGISTER (403, as any unknown id)")
    ok(SigConn(srv).login(b"office-pc", b"s3cret-office") == 401, "office-pc with its old secret refused (401)")
    of2 = SigConn(srv)
    ok(of2.login(b"office-pc", b"n3w-s3cret-office") == 200, "office-pc with its new secret registers")
    ke.sreq(LOOKUP, [(PEER_ID, b"office-pc")])
    cl, code, a, v = answer(ke)
    ok(cl == 2 and v, "keeper finds the re-registered office-pc")
elif step == "budget":
    burst, n = int(sys.argv[3]), int(sys.argv[4])
    fl, tg, ot = SigConn(srv, timeout=4), SigConn(srv, timeout=4), SigConn(srv, timeout=4)
    ok(fl.login(b"flooder", b"s3cret-flooder") == 200 and tg.login(b"target", b"s3cret-target") == 200
       and ot.login(b"other", b"s3cret-other") == 200, "flooder, target and other register")
    for i in range(n):
        exchange(fl, b"target", 1000 + i)
    good = limited = wrong = 0
    for i in range(n):
        cl, code, a, v = answer(fl)
        if cl == 2:
            good += 1
        elif cl == 3 and code == 429 and reason(a) == "Signalling rate limit":
            limited += 1
        else:
            wrong += 1
    ok(good >= burst and limited > 0 and good + limited == n and wrong == 0,
       "%d EXCHANGEs at once, budget %d: %d relayed, %d refused with 429 Signalling rate limit" % (n, burst, good, limited))
    print("LIMITED %d" % limited, flush=True)
    got = {}
    tg.s.settimeout(1.5)
    while True:
        try:
            t, cl, a, raw, v = tg.srecv()
        except socket.timeout:
            break
        if t is None:
            break
        if cl == 1:
            got[a.get(PEER_ID)] = got.get(a.get(PEER_ID), 0) + 1
    ok(got.get(b"flooder", 0) == good, "target got exactly the %d relayed EXCHANGEs of flooder (%d)" % (good, got.get(b"flooder", 0)))
    fl.sreq(LOOKUP, [(PEER_ID, b"target")])
    cl, code, a, v = answer(fl)
    ok(cl == 2, "flooder out of budget: LOOKUP (not relayed) still answered")
    tg.s.settimeout(4)
    exchange(ot, b"target", 7)
    cl, code, a, v = answer(ot)
    t, cl2, a2, raw, v2 = tg.srecv()
    ok(cl == 2 and cl2 == 1 and a2.get(PEER_ID) == b"other" and v2,
       "other peer to the same target: EXCHANGE relayed while flooder is limited")
elif step == "share":
    flag, nconn = sys.argv[3], int(sys.argv[4])
    cs = [Conn(srv, 3478, timeout=4) for _ in range(nconn)]
    good = share = 0
    for c in cs:
        for i in range(4):
            t, cl, a = c.req(CAPTURE, [(TIMEOUT, struct.pack("!I", 25000))])
            if cl == 2:
                good += 1
            elif cl == 3 and error_code(a) == 429 and reason(a) == "Fair share used":
                share += 1
    print("CAPTURES %d SHARE %d" % (good, share), flush=True)
    if flag != "-":
        wait_file(flag)
'

run_py() { lx "$1" env PYTHONPATH="$here" python3 -c "$PY" "$LAB_SRV1" "${@:2}"; }

# server_pid: the stunt-server process inside srv
server_pid() {
	local p
	for p in $(ip netns pids "$LAB-srv" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = stunt-server ] && { echo "$p"; return; }
	done
}

stats_json() {
	kill -USR1 "$SPID"
	sleep 0.3
	grep '^{' "$LAB_STATE/stunt-server.log" | tail -1
}

# jget JSON PATH: a value of the --stats JSON ("rdv.revoked")
jget() { python3 -c 'import json,sys; v=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2" 2>/dev/null; }

lab_init srvsec
lab_up --nat-a port-restricted --nat-b full-cone || { nok "lab up"; exit 1; }
S=$LAB_STATE/secrets
SRV_ARGS=(--primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d)

echo "# the secrets file's permissions"
printf 'laptop s3cret-laptop\n' >"$S"
lab_server_secrets "$S"
chmod 644 "$S"
out=$(lx srv timeout 10 "$SERVER" "${SRV_ARGS[@]}" --no-stunt --secrets "$S" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
	echo "$out" | grep -qF "secrets file $S is readable by group or others (mode 0644): chmod 600 it"; then
	ok "a secrets file of mode 0644 is refused at start (exit $rc), the file and its mode named"
else
	nok "a secrets file of mode 0644 is refused at start: rc $rc, $out"
fi
chmod 640 "$S"
out=$(lx srv timeout 10 "$SERVER" "${SRV_ARGS[@]}" --no-stunt --secrets "$S" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && echo "$out" | grep -qF "(mode 0640)"; then
	ok "mode 0640 (group-readable) refused too (exit $rc)"
else
	nok "mode 0640 refused: rc $rc, $out"
fi
# started by an unprivileged user: keeps its uid, empties its capabilities
chmod 600 "$S"
out=$(lx srv timeout 3 setpriv --reuid=65534 --regid=65534 --clear-groups "$SERVER" "${SRV_ARGS[@]}" \
	--port 13478 --alt-port 13479 --no-stunt --secrets "$S" 2>&1)
rc=$?
if [ "$rc" -eq 124 ] && echo "$out" | grep -q 'not started as root: running as uid 65534, no capabilities' &&
	echo "$out" | grep -q '1 ids from'; then
	ok "started as nobody: runs (until stopped), says it had no privileges to drop"
else
	nok "started as nobody: rc $rc, $out"
fi
out=$(lx srv timeout 3 setpriv --reuid=65534 --regid=65534 --clear-groups "$SERVER" "${SRV_ARGS[@]}" \
	--port 13478 --alt-port 13479 --no-stunt --user daemon 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && echo "$out" | grep -q -- '--user daemon: not started as root'; then
	ok "started as nobody with --user: refused (exit $rc)"
else
	nok "started as nobody with --user: rc $rc, $out"
fi
chown root "$S"
chmod 600 "$S"
out=$(lx srv timeout 10 "$SERVER" "${SRV_ARGS[@]}" --no-stunt --secrets "$S" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
	echo "$out" | grep -qF "secrets file $S: Permission denied (read as uid 65534)"; then
	ok "root's own 0600 file, which nobody cannot read, refused at start: the file is read as the run-as user (exit $rc)"
else
	nok "root's 0600 file refused at start: rc $rc, $out"
fi
# --keep-root: reads it as root, keeps root's capabilities (debugging)
KPID=$(lab_bg srv keep-root "$SERVER" "${SRV_ARGS[@]}" --no-stunt --secrets "$S" --keep-root)
if lab_wait_log "$LAB_STATE/keep-root.log" "1 ids from" 5 &&
	grep -q -- '--keep-root: running as uid 0' "$LAB_STATE/keep-root.log" &&
	! grep -qE '^CapEff:[[:space:]]+0+$' "/proc/$KPID/status"; then
	ok "--keep-root: starts as root with its capabilities, says so in the log"
else
	nok "--keep-root: $(tail -3 "$LAB_STATE/keep-root.log")"
fi
kill "$KPID" 2>/dev/null
for _ in $(seq 50); do kill -0 "$KPID" 2>/dev/null || break; sleep 0.1; done

echo "# the server as it runs by default"
printf '# lab\nlaptop s3cret-laptop\noffice-pc s3cret-office\nkeeper s3cret-keeper\nflooder s3cret-flooder\ntarget s3cret-target\nother s3cret-other\n' >"$S"
lab_server_secrets "$S"
BURST=10
lab_bg srv stunt-server "$SERVER" "${SRV_ARGS[@]}" --stats --status-interval 0 --secrets "$S" \
	--signal-rate 2 --signal-burst "$BURST" >/dev/null
lab_wait_port srv tcp "$LAB_SRV2" 3479 10 || { nok "stunt-server up: $(tail -5 "$LAB_STATE/stunt-server.log")"; exit 1; }
# it listens as root (the raw socket, the ports) and drops right after:
# read its ids once it says it did, not while it is at it (setgid done,
# setuid not yet: a CI run read Uid 0 and Gid 65534 once)
lab_wait_log "$LAB_STATE/stunt-server.log" 'running as nobody' 10 ||
	nok "the server's log never said it dropped its privileges"
SPID=$(server_pid)
[ -n "$SPID" ] || { nok "stunt-server pid"; exit 1; }
st=/proc/$SPID/status
check_eq "Uid (real, effective, saved, fs)" "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$st")" "65534 65534 65534 65534"
check_eq "Gid" "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "$st")" "65534 65534 65534 65534"
check_eq "supplementary groups" "$(awk '/^Groups:/ { $1 = ""; print }' "$st" | xargs)" "65534"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	check_eq "$c" "$(awk -v c="$c:" '$1 == c { print $2 }' "$st")" "0000000000000000"
done
check_eq "NoNewPrivs" "$(awk '/^NoNewPrivs:/ { print $2 }' "$st")" "1"
if grep -q 'running as nobody (uid 65534, gid 65534), no capabilities' "$LAB_STATE/stunt-server.log" &&
	grep -q '6 ids from' "$LAB_STATE/stunt-server.log" &&
	! grep -q 'STUNT unavailable' "$LAB_STATE/stunt-server.log"; then
	ok "log: running as nobody with no capabilities, 6 ids read after the drop, STUNT available"
else
	nok "log after the drop: $(head -5 "$LAB_STATE/stunt-server.log")"
fi

echo "# revocation on SIGHUP"
run_py ha revoke "$LAB_STATE/hup-done" >"$LAB_STATE/revoke.out" 2>&1 &
RP=$!
if lab_wait_log "$LAB_STATE/revoke.out" '^ready' 15; then
	# a file the server must refuse: nothing changes
	chmod 604 "$S"
	kill -HUP "$SPID"
	if lab_wait_log "$LAB_STATE/stunt-server.log" "SIGHUP: secrets file $S is readable by group or others \(mode 0604\): chmod 600 it; keeping the 6 ids loaded before" 5; then
		ok "SIGHUP with a file others may read: logged, the 6 ids kept"
	else
		nok "SIGHUP with a refused file: $(tail -3 "$LAB_STATE/stunt-server.log")"
	fi
	js=$(stats_json)
	if [ "$(jget "$js" rdv.registered)" = 3 ] && [ "$(jget "$js" rdv.revoked)" = 0 ]; then
		ok "after the refused SIGHUP the 3 peers are still registered, none revoked"
	else
		nok "after the refused SIGHUP: $js"
	fi
	chmod 600 "$S"
	printf '# laptop removed, office-pc with a new secret\noffice-pc n3w-s3cret-office\nkeeper s3cret-keeper\nflooder s3cret-flooder\ntarget s3cret-target\nother s3cret-other\n' >"$S"
	kill -HUP "$SPID"
	lab_wait_log "$LAB_STATE/stunt-server.log" 'SIGHUP: 5 ids from .*, 2 registrations revoked' 5 ||
		nok "SIGHUP reload: $(tail -3 "$LAB_STATE/stunt-server.log")"
	touch "$LAB_STATE/hup-done"
fi
wait "$RP"
grep -E '^(not )?ok - ' "$LAB_STATE/revoke.out"
fails=$((fails + $(grep -c '^not ok' "$LAB_STATE/revoke.out")))
[ "$(grep -c '^ok' "$LAB_STATE/revoke.out")" -eq 10 ] || { nok "revocation script ran to its end"; tail -5 "$LAB_STATE/revoke.out" | sed 's/^/# /'; }
if grep -q 'peer laptop revoked (removed from the secrets file): its registration from' "$LAB_STATE/stunt-server.log" &&
	grep -q 'peer office-pc revoked (secret changed): its registration from' "$LAB_STATE/stunt-server.log" &&
	! grep -q 'peer keeper revoked' "$LAB_STATE/stunt-server.log"; then
	ok "log names each revoked id and why; keeper not revoked"
else
	nok "revocation log lines: $(grep -i revoked "$LAB_STATE/stunt-server.log")"
fi
js=$(stats_json)
check_eq "rdv.revoked" "$(jget "$js" rdv.revoked)" 2

echo "# signalling budget: --signal-rate 2 --signal-burst $BURST"
out=$(run_py ha budget "$BURST" 40 2>&1)
echo "$out" | grep -E '^(not )?ok - '
fails=$((fails + $(echo "$out" | grep -c '^not ok')))
[ "$(echo "$out" | grep -c '^ok')" -eq 5 ] || { nok "budget script ran to its end"; echo "$out" | tail -5 | sed 's/^/# /'; }
lim=$(echo "$out" | awk '$1 == "LIMITED" { print $2 }')
js=$(stats_json)
check_eq "rdv.signal_limited counts the refused EXCHANGEs" "$(jget "$js" rdv.signal_limited)" "${lim:-?}"
if grep -q 'signalling from .* (flooder): 0x0b3 refused: over its budget of 2/s, bursts of 10' "$LAB_STATE/stunt-server.log"; then
	ok "log: flooder's refused EXCHANGEs, with its id and the budget"
else
	nok "log of the refused EXCHANGEs"
fi

echo "# STUNT: a fair share of the capture table per client address"
run_py ha share "$LAB_STATE/share-done" 3 >"$LAB_STATE/share-a.out" 2>&1 &
SP=$!
if lab_wait_log "$LAB_STATE/share-a.out" '^CAPTURES' 15; then
	check_eq "one address, 3 connections x 4 CAPTUREs: armed, refused (429 Fair share used)" \
		"$(awk '$1 == "CAPTURES" { print $2, $4 }' "$LAB_STATE/share-a.out")" "8 4"
	check_eq "another address, while the first holds its share: armed, refused" \
		"$(run_py pub share - 1 2>&1 | awk '$1 == "CAPTURES" { print $2, $4 }')" "4 0"
	js=$(stats_json)
	check_eq "stunt.share_limited" "$(jget "$js" stunt.share_limited)" 4
	check_eq "stunt.capture" "$(jget "$js" stunt.capture)" 12
else
	nok "share script: $(tail -3 "$LAB_STATE/share-a.out")"
fi
touch "$LAB_STATE/share-done"
wait "$SP"

if kill -0 "$SPID" 2>/dev/null; then
	ok "stunt-server still running"
else
	nok "stunt-server still running: $(tail -5 "$LAB_STATE/stunt-server.log")"
fi
lab_down
[ "$fails" -eq 0 ]
