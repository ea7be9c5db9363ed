#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stunt-server --config FILE (issue 15), in the namespace lab:
#   - the file gives the addresses, the secrets, a port and the log level:
#     the server listens there, and a stuntd registers with it (its secret
#     from stuntctl genkey);
#   - a flag overrides the file (--alt-port on the command line);
#   - a bad value names the file and line, exit 1; an unknown directive too;
#     a file that does not exist: named, exit 1;
#   - docs/stunt-server.conf.example is a config the server takes (its
#     addresses replaced by the lab's, its user line left out: the lab host
#     has no user stunt-server);
#   - SIGHUP reads the file again (as the run-as user): with three clients
#     open, max-clients 2 refuses a fourth and closes none of the three; a
#     changed port logs "needs a restart" and the server stays on its port;
#     --log-level info on the command line still wins over the file's
#     warning; a broken file logs its line and keeps max-clients 2.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/tap.sh
. "$here/tap.sh"
B=${STUNT_BUILD:-$top/build}

lab_init srvconf
lab_up || { nok "lab up"; exit 1; }
T=$LAB_STATE
"$B/stuntctl" genkey laptop >"$T/key"
grep '^laptop ' "$T/key" >"$T/secrets"
grep -Ev '^#|^laptop ' "$T/key" >"$T/secret-a"
chmod 600 "$T/secret-a"
lab_server_secrets "$T/secrets"

cat >"$T/server.conf" <<CONF
# the lab's server
primary $LAB_SRV1
alternate $LAB_SRV2   # second address
port 3478
alt-port 3479
secrets $T/secrets
log-level warning
CONF
lab_bg srv server "$B/stunt-server" --config "$T/server.conf" --alt-port 3481 -d >/dev/null
if lab_wait_port srv tcp "$LAB_SRV2" 3481 10 && lab_wait_port srv udp "$LAB_SRV1" 3478 10; then
	ok "the server took its addresses and ports from the file, --alt-port from the command line"
else
	nok "server with --config up"
	sed 's/^/# /' "$T/server.log" | tail -3
fi
grep -q ': info: ' "$T/server.log" && nok "log-level warning from the file: info lines" ||
	ok "log-level warning from the file: no info line"
lab_bg ha stuntd-a "$B/stuntd" -d --id laptop --server "$LAB_SRV1" --secret-file "$T/secret-a" \
	--control "$T/a.sock" --state-dir "$T" --no-rules >/dev/null
end=$((SECONDS + 10))
reg=0
while [ "$SECONDS" -le "$end" ]; do
	lx ha python3 "$here/ctlclient.py" "$T/a.sock" '{"cmd":"status"}' 2>/dev/null |
		grep -q '"registered":true' && { reg=1; break; }
	sleep 0.1
done
[ "$reg" = 1 ] && ok "a stuntd registered with the id and secret the file's secrets give" ||
	nok "stuntd registered"

# errors: the file and the line
bad() {
	local name=$1 want=$2 rc
	shift 2
	lx srv timeout 10 "$B/stunt-server" "$@" -d >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$want" "$T/err" && [ "$(wc -l <"$T/err")" = 1 ]; then
		ok "$name: exit 1, one line"
	else
		nok "$name: exit $rc: $(head -c 300 "$T/err")"
	fi
}
printf 'primary %s\nalternate %s\n\nport 99999\n' "$LAB_SRV1" "$LAB_SRV2" >"$T/bad1.conf"
bad "a bad port in the file" "stunt-server: $T/bad1.conf: line 4: bad port: 99999" --config "$T/bad1.conf"
printf 'primary %s\nfrobnicate 1\n' "$LAB_SRV1" >"$T/bad2.conf"
bad "an unknown directive" "stunt-server: $T/bad2.conf: line 2: unknown directive 'frobnicate'" --config "$T/bad2.conf"
printf 'keep-root maybe\n' >"$T/bad3.conf"
bad "a bad on/off" "line 1: bad keep-root 'maybe' (on or off)" --config "$T/bad3.conf"
bad "a missing file" "stunt-server: $T/none.conf: No such file or directory" --config "$T/none.conf"

# the example config, with the lab's addresses and a secrets file
sed -e "s|^primary .*|primary $LAB_SRV1|" -e "s|^alternate .*|alternate $LAB_SRV2|" \
	-e "s|^secrets .*|secrets $T/secrets|" -e "s|^user .*|#&|" "$top/docs/stunt-server.conf.example" >"$T/example.conf"
# srv_stop: every process in srv stops, and the next server starts only
# once nothing listens on 3478 there (a server still going when the next
# one starts makes that one fail with EADDRINUSE; CI once saw it)
srv_stop() {
	local p
	for p in $(ip netns pids "$LAB-srv"); do kill "$p" 2>/dev/null; done
	for _ in $(seq 100); do
		[ -z "$(ip netns pids "$LAB-srv")" ] &&
			! lx srv ss -Hltn 'sport = :3478' | grep -q . && return 0
		sleep 0.1
	done
	echo "# srv still busy after 10 s: $(ip netns pids "$LAB-srv" | tr '\n' ' ')" >&2
	return 1
}
# the first server (started by this test in srv) stops first
srv_stop
lab_bg srv server2 "$B/stunt-server" --config "$T/example.conf" -d >/dev/null
if lab_wait_port srv tcp "$LAB_SRV2" 3479 10; then
	ok "docs/stunt-server.conf.example: taken"
else
	nok "docs/stunt-server.conf.example: $(tail -2 "$T/server2.log")"
fi

# SIGHUP: the file again. hold.py keeps three clients open; at each
# $T/goN it opens one more and says whether the server refused it (closed
# it at once) and whether the three still get a STUN answer.
cat >"$T/hold.py" <<'PY'
import os, socket, struct, sys, time
srv, T = sys.argv[1], sys.argv[2]
req = struct.pack("!HHI", 1, 0, 0x2112A442) + os.urandom(12)
def answers(s):
    s.settimeout(10)
    try:
        s.sendall(req)
        return len(s.recv(512)) >= 20
    except OSError:
        return False
held = [socket.create_connection((srv, 3478), timeout=10) for _ in range(3)]
open(T + "/held", "w").write("3\n")
for n in (1, 2):
    while not os.path.exists("%s/go%d" % (T, n)):
        time.sleep(0.05)
    extra = socket.create_connection((srv, 3478), timeout=10)
    extra.settimeout(10)
    try:
        refused = extra.recv(512) == b""
    except OSError:
        refused = False
    alive = sum(answers(s) for s in held)
    with open("%s/round%d" % (T, n), "w") as f:
        f.write("refused=%d alive=%d\n" % (refused, alive))
PY
printf 'primary %s\nalternate %s\nlog-level warning\n' "$LAB_SRV1" "$LAB_SRV2" >"$T/hup.conf"
chmod 644 "$T/hup.conf"	# read again after the drop to the run-as user
srv_stop
# ip netns exec directly: $! is the server itself
ip netns exec "$LAB-srv" "$B/stunt-server" --config "$T/hup.conf" --log-level info -d \
	>"$T/hup.log" 2>&1 &
P=$!
LAB_PIDS+=("$P")
lab_wait_port srv tcp "$LAB_SRV1" 3478 10
lab_wait_log "$T/hup.log" "running as " 10 && kill -0 "$P" ||
	nok "the SIGHUP test's server started: $(tail -2 "$T/hup.log")"
lx ha python3 "$T/hold.py" "$LAB_SRV1" "$T" >"$T/hold.log" 2>&1 &
LAB_PIDS+=($!)
lab_wait_file "$T/held" 10 || nok "three clients connected: $(tail -2 "$T/hold.log")"
printf 'primary %s\nalternate %s\nlog-level warning\nmax-clients 2\nudp-rate 5\nport 3490\n' \
	"$LAB_SRV1" "$LAB_SRV2" >"$T/hup.conf"
kill -HUP "$P"
if lab_wait_log "$T/hup.log" "SIGHUP: $T/hup.conf read: applied max-clients, udp-rate\$" 10; then
	ok "SIGHUP: max-clients and udp-rate from the file applied, logged at info (--log-level info wins)"
else
	nok "SIGHUP applied: $(tail -3 "$T/hup.log")"
fi
grep -qF "port changed in $T/hup.conf: needs a restart" "$T/hup.log" &&
	lab_wait_port srv tcp "$LAB_SRV1" 3478 1 && ! lab_wait_port srv tcp "$LAB_SRV1" 3490 0 2>/dev/null &&
	ok "a changed port: needs a restart, the server stays on 3478" ||
	nok "changed port: $(grep -c 'needs a restart' "$T/hup.log") warnings"
touch "$T/go1"
lab_wait_file "$T/round1" 30
[ "$(cat "$T/round1" 2>/dev/null)" = "refused=1 alive=3" ] &&
	ok "max-clients 2 with three open: a fourth refused, the three kept and answered" ||
	nok "max-clients 2 live: $(cat "$T/round1" "$T/hold.log" 2>&1 | head -3)"
printf 'primary %s\nmax-clients 100\nudp-burst x\n' "$LAB_SRV1" >"$T/hup.conf"
kill -HUP "$P"
if lab_wait_log "$T/hup.log" "SIGHUP: $T/hup.conf: line 3: bad --udp-burst: x; settings kept" 10; then
	touch "$T/go2"
	lab_wait_file "$T/round2" 30
	[ "$(cat "$T/round2" 2>/dev/null)" = "refused=1 alive=3" ] && kill -0 "$P" &&
		[ "$(grep -c 'needs a restart' "$T/hup.log")" = 1 ] &&
		ok "a broken file at SIGHUP: its line logged, max-clients 2 kept, the server serves" ||
		nok "broken file kept the settings: $(cat "$T/round2" 2>&1)"
else
	nok "broken file at SIGHUP: $(tail -2 "$T/hup.log")"
fi

lab_down
[ "$fails" -eq 0 ]
