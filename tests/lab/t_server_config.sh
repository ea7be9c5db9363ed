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
#     has no user stunt-server).
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
# the first server (started by this test in srv) stops first
for p in $(ip netns pids "$LAB-srv"); do kill "$p" 2>/dev/null; done
for _ in $(seq 30); do [ -z "$(ip netns pids "$LAB-srv")" ] && break; sleep 0.1; done
lab_bg srv server2 "$B/stunt-server" --config "$T/example.conf" -d >/dev/null
if lab_wait_port srv tcp "$LAB_SRV2" 3479 10; then
	ok "docs/stunt-server.conf.example: taken"
else
	nok "docs/stunt-server.conf.example: $(tail -2 "$T/server2.log")"
fi

lab_down
[ "$fails" -eq 0 ]
