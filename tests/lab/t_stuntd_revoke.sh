#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Revocation in stuntd (docs/security.md, daemon/reload.c) in the namespace
# lab (see t_stuntd.sh for the setup): hb "office-pc" reads service vnc
# (tcp, spliced to an echo server), vcat (exec: cat) and their allow lines
# from a config file; ha "laptop" and a third stuntd "stranger" in pub may
# use vnc, laptop vcat.
#   port-restricted x port-restricted:
#     - ha and the stranger each hold an open vnc connection (a byte echoed),
#       ha a vcat one too;
#     - laptop is removed from vnc's allow line (and connect-timeout changed),
#       SIGHUP to hb: ha's connections are closed by hb (the spliced one
#       closed, cat's process group terminated; "revoked" in hb's log,
#       security.revoked counts 2), the stranger's still echoes, a new
#       connect of ha is refused ("peer laptop is not allowed to use
#       office-pc/vnc"), the stranger connects anew, and hb logs that
#       connect-timeout needs a restart;
#     - a broken config at SIGHUP: hb keeps the running one and says so; the
#       stranger still connects, laptop is still refused.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

# hb's config file: stuntd reads it again as its unprivileged user on SIGHUP,
# so the state directory must let that user through to it
revoke_hook() {
	chmod 711 "$LAB_STATE"
	printf 'expose vnc tcp:127.0.0.1:7000\nallow vnc laptop,stranger\nexpose vcat exec:exec cat\nallow vcat laptop\n' >"$LAB_STATE/b.conf"
	chmod 644 "$LAB_STATE/b.conf"
	STUNTD_EXTRA_B=(--config "$LAB_STATE/b.conf")
}

# hold.py SOCK GO OUT LABDIR [SERVICE]: a vnc (or SERVICE) connection through stuntd's control socket,
# held open: one byte echoed ("open"), then, once the file GO exists, another
# byte ("echo after" or "closed after"); or EOF while waiting ("closed").
cat_hold() {
	cat >"$LAB_STATE/hold.py" <<'PY'
import os, socket, sys, time
sys.path.insert(0, sys.argv[4])
from ctlclient import request
svc = sys.argv[5] if len(sys.argv) > 5 else "vnc"
line, fd = request(sys.argv[1], '{"cmd":"connect","peer":"office-pc","service":"%s"}' % svc)
out = open(sys.argv[3], "w", buffering=1)
out.write(line + "\n")
if fd is None:
    sys.exit(1)
s = socket.socket(fileno=fd)
s.settimeout(1)
s.sendall(b"a")
out.write("open\n" if s.recv(1) == b"a" else "no echo\n")
end = time.time() + 30
while time.time() < end:
    try:
        if s.recv(1) == b"":
            out.write("closed\n")
            sys.exit(0)
    except socket.timeout:
        pass
    if os.path.exists(sys.argv[2]):
        try:
            s.sendall(b"b")
            out.write("echo after\n" if s.recv(1) == b"b" else "closed after\n")
        except OSError as e:
            out.write("closed after (%s)\n" % e)
        sys.exit(0)
out.write("still open\n")
PY
}

# wait_line FILE REGEX: up to 10 s
wait_line() {
	local i
	for i in $(seq 1 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

echo "# port-restricted x port-restricted, hb's vnc allowed to laptop and stranger"
start_all_hook() { revoke_hook; }
start_all port-restricted rst port-restricted rst && start_stranger && {
	cat_hold
	lab_bg ha hold-a python3 "$LAB_STATE/hold.py" "$LAB_STATE/a.sock" "$LAB_STATE/go-a" \
		"$LAB_STATE/hold-a.out" "$LAB_DIR" >/dev/null
	lab_bg ha hold-a2 python3 "$LAB_STATE/hold.py" "$LAB_STATE/a.sock" "$LAB_STATE/go-a2" \
		"$LAB_STATE/hold-a2.out" "$LAB_DIR" vcat >/dev/null
	lab_bg pub hold-c python3 "$LAB_STATE/hold.py" "$LAB_STATE/c.sock" "$LAB_STATE/go-c" \
		"$LAB_STATE/hold-c.out" "$LAB_DIR" >/dev/null
	if wait_line "$LAB_STATE/hold-a.out" '^open' && wait_line "$LAB_STATE/hold-c.out" '^open' &&
		wait_line "$LAB_STATE/hold-a2.out" '^open'; then
		ok "laptop and the stranger each hold a vnc connection through hb, laptop a vcat one"
	else
		nok "held connections: a: $(tr '\n' ' ' <"$LAB_STATE/hold-a.out" 2>/dev/null) c: $(tr '\n' ' ' <"$LAB_STATE/hold-c.out" 2>/dev/null)"
	fi
	r0=$(sec b revoked)
	printf 'expose vnc tcp:127.0.0.1:7000\nallow vnc stranger\nexpose vcat exec:exec cat\nallow vcat stranger\nconnect-timeout 7000\n' >"$LAB_STATE/b.conf.new"
	chmod 644 "$LAB_STATE/b.conf.new"
	mv "$LAB_STATE/b.conf.new" "$LAB_STATE/b.conf"
	kill -HUP "$PID_B"
	if wait_line "$LAB_STATE/hold-a.out" '^closed'; then
		ok "SIGHUP: laptop's open connection was closed ($(grep closed "$LAB_STATE/hold-a.out"))"
	else
		nok "laptop's connection after the SIGHUP: $(tr '\n' ' ' <"$LAB_STATE/hold-a.out")"
	fi
	want="hand-off: laptop/vnc: revoked: peer laptop may no longer use it: connection closed"
	grep -qF "$want" "$LAB_STATE/stuntd-b.log" && ok "hb's log: $want" ||
		{ nok "hb's log: no revocation"; grep -i 'sighup\|revoked' "$LAB_STATE/stuntd-b.log" | sed 's/^/# b: /'; }
	if wait_line "$LAB_STATE/hold-a2.out" '^closed'; then
		ok "SIGHUP: laptop's open vcat (exec: cat) connection was closed"
	else
		nok "laptop's vcat connection after the SIGHUP: $(tr '\n' ' ' <"$LAB_STATE/hold-a2.out")"
	fi
	grep -q "hand-off: laptop/vcat: revoked: peer laptop may no longer use it: pid [0-9]* terminated" "$LAB_STATE/stuntd-b.log" &&
		ok "hb's log: laptop/vcat revoked, cat terminated" || nok "hb's log: no vcat revocation"
	r=$(sec b revoked)
	[ "$r" = $((r0 + 2)) ] && ok "hb's status: security.revoked = $r" || nok "hb's revoked: '$r0' -> '$r'"
	touch "$LAB_STATE/go-c"
	if wait_line "$LAB_STATE/hold-c.out" '^echo after'; then
		ok "the stranger's open connection still echoes"
	else
		nok "the stranger's connection after the SIGHUP: $(tr '\n' ' ' <"$LAB_STATE/hold-c.out")"
	fi
	expect_error a '{"cmd":"connect","peer":"office-pc","service":"vnc"}' \
		"laptop connects again: refused at once" "peer laptop is not allowed to use office-pc/vnc"
	SVC=vnc transfer c office-pc "the stranger connects anew"
	grep -q "SIGHUP: 'connect-timeout' changed: it needs a restart" "$LAB_STATE/stuntd-b.log" &&
		ok "hb's log: connect-timeout needs a restart" || nok "hb's log: no 'needs a restart'"

	# a broken config: the running one stays
	printf 'expose vnc tcp:127.0.0.1:7000\nallow vnc\n' >"$LAB_STATE/b.conf"
	kill -HUP "$PID_B"
	if lab_wait_log "$LAB_STATE/stuntd-b.log" "SIGHUP: cannot re-read the configuration (.*line 2: allow needs SERVICE PEER.*): the running one is kept unchanged" 5; then
		ok "a broken config at SIGHUP: hb says so and keeps the running one"
	else
		nok "hb's log after a broken config"
		tail -5 "$LAB_STATE/stuntd-b.log" | sed 's/^/# b: /'
	fi
	SVC=vnc transfer c office-pc "the stranger still connects"
	expect_error a '{"cmd":"connect","peer":"office-pc","service":"vnc"}' \
		"laptop is still refused" "peer laptop is not allowed to use office-pc/vnc"
	transfer b laptop "hb -> ha still works (echo)"
	stop_all
}
[ "$fails" -eq 0 ]
