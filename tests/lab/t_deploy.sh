#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/deploy.md, followed in the namespace lab (keeps the guide true):
# the guide's own blocks are taken from the file, with only its example
# names replaced by the lab's (the VPS 203.0.113.10 / rdv.example.net ->
# the lab server's one address, /etc/stunt/... -> files in the lab's
# state, user stunt-server -> the lab's server user):
#   - "stuntctl genkey ID": the line for the server and the bare secret for
#     the host, as the guide says to paste them;
#   - the server's config block: one address, the secrets file; the server
#     starts from it and says "one address";
#   - office-pc's stuntd config block (expose vnc tcp:127.0.0.1:5900, allow
#     vnc laptop) and the laptop's (the same with id laptop, no expose):
#     both register (stuntctl status says so);
#   - "stuntctl forward 5901 office-pc/vnc" on the laptop: a viewer's
#     1 MB to 127.0.0.1:5901 reaches office-pc's "VNC server" (an echo
#     service on 127.0.0.1:5900) and comes back;
#   - "stunt-probe --server ...": its first line is the verdict the guide
#     describes, and it names what a one-address server cannot measure.
# Test-only additions on the command line (flags override the file):
# control socket and state in the lab's state, -d.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/tap.sh
. "$here/tap.sh"
B=${STUNT_BUILD:-$top/build}
DOC=$top/docs/deploy.md
ECHOSRV=$here/echosrv.py
CTLCLIENT=$here/ctlclient.py

# block HEADING_REGEX: the first fenced block after the first line matching it
block() {
	awk -v h="$1" 'f == 0 && $0 ~ h { f = 1; next } f == 1 && /^```/ { f = 2; next }
		f == 2 && /^```/ { exit } f == 2 { print }' "$DOC"
}

lab_init deploy
trap lab_down EXIT
lab_up --nat-a port-restricted --nat-b port-restricted || { nok "lab up"; exit 1; }
T=$LAB_STATE
# the lab's stand-ins for the guide's names
lab_names() {
	sed -e "s|203\.0\.113\.10|$LAB_SRV1|g" -e "s|rdv\.example\.net|$LAB_SRV1|g" \
		-e "s|/etc/stunt/secrets|$T/secrets|g" -e "s|/etc/stunt/secret\b|$T/secret-\$SIDE|g" \
		-e "s|^user stunt-server|user ${LAB_SERVER_USER:-nobody}|"
}

# 2. secrets, pasted as the guide says
for id in office-pc laptop; do
	"$B/stuntctl" genkey "$id" >"$T/key-$id"
	grep "^$id " "$T/key-$id" >>"$T/secrets"
done
grep -Ev '^#|^office-pc ' "$T/key-office-pc" >"$T/secret-b"
grep -Ev '^#|^laptop ' "$T/key-laptop" >"$T/secret-a"
chmod 600 "$T/secret-a" "$T/secret-b"
lab_server_secrets "$T/secrets"
[ "$(wc -l <"$T/secrets")" = 2 ] && [ "$(wc -c <"$T/secret-a")" = 65 ] &&
	ok "genkey: a server line per host and a bare secret per host" || nok "genkey's lines"

# 3. the server, from the guide's block
block '^`/etc/stunt/stunt-server.conf`:' | lab_names >"$T/server.conf"
grep -q "^primary $LAB_SRV1" "$T/server.conf" || nok "the guide's server block: $(tr '\n' '|' <"$T/server.conf")"
lab_bg srv server "$B/stunt-server" --config "$T/server.conf" -d >/dev/null
if lab_wait_port srv tcp "$LAB_SRV1" 3478 10 && lab_wait_for 5 grep -q 'one address' "$T/server.log"; then
	ok "the server runs from the guide's config block, on one address"
else
	nok "server from the guide's block"
	tail -3 "$T/server.log" | sed 's/^/# /'
fi

# 4. and 5. the two hosts, from the guide's blocks
lab_bg hb vnc python3 "$ECHOSRV" 5900 >/dev/null
block '^`/etc/stunt/stuntd.conf`:' | SIDE=b lab_names | sed 's/\$SIDE/b/' >"$T/office-pc.conf"
sed -e 's/^id office-pc/id laptop/' -e 's/secret-b/secret-a/' -e '/^expose /d' -e '/^allow /d' \
	"$T/office-pc.conf" >"$T/laptop.conf"
grep -q '^expose vnc tcp:127.0.0.1:5900' "$T/office-pc.conf" ||
	nok "the guide's stuntd block: $(tr '\n' '|' <"$T/office-pc.conf")"
mkdir -p "$T/sa" "$T/sb"
lab_bg hb stuntd-b "$B/stuntd" --config "$T/office-pc.conf" -d --control "$T/b.sock" \
	--state-dir "$T/sb" --rules-tool "$top/tools/stunt-rules" >/dev/null
lab_bg ha stuntd-a "$B/stuntd" --config "$T/laptop.conf" -d --control "$T/a.sock" \
	--state-dir "$T/sa" --rules-tool "$top/tools/stunt-rules" >/dev/null
registered() {
	lx ha "$B/stuntctl" --control "$T/a.sock" status --json 2>/dev/null | grep -q '"registered":true' &&
		lx hb "$B/stuntctl" --control "$T/b.sock" status --json 2>/dev/null | grep -q '"registered":true'
}
if lab_wait_for 15 registered; then
	ok "office-pc and laptop registered from the guide's stuntd blocks"
else
	nok "both hosts registered"
	tail -3 "$T/stuntd-a.log" "$T/stuntd-b.log" | sed 's/^/# /'
fi
lx ha "$B/stuntctl" --control "$T/a.sock" status >"$T/status-a" 2>&1
grep -q 'registered' "$T/status-a" && ok "stuntctl status says registered" ||
	nok "stuntctl status: $(head -3 "$T/status-a")"

# the viewer's forward, as the guide writes it
lab_bg ha fwd "$B/stuntctl" --control "$T/a.sock" forward 5901 office-pc/vnc >/dev/null
if lab_wait_port ha tcp 127.0.0.1 5901 10; then
	res=$(lab_echo_check ha 127.0.0.1 5901 $((1 << 20)))
	[ "$res" = ok ] && ok "stuntctl forward 5901 office-pc/vnc: 1 MB reached office-pc's VNC port and came back ($(grep -o 'connected by [a-z0-9]* in [0-9]* ms' "$T/fwd.log" | head -1))" ||
		{ nok "the viewer through the forward: $res"; tail -5 "$T/fwd.log" | sed 's/^/# /'; }
else
	nok "the forward listens on 127.0.0.1:5901"
fi

# 6. stunt-probe, as the guide says to check
lx hb "$B/stunt-probe" --server "$LAB_SRV1" --no-portmap >"$T/probe" 2>&1
head -1 "$T/probe" | grep -q '^direct connections: need help' &&
	grep -qi 'not measurable with this server' "$T/probe" &&
	ok "stunt-probe: the verdict first, and what a one-address server cannot measure" ||
	nok "stunt-probe: $(head -3 "$T/probe")"
lab_down
[ "$fails" -eq 0 ]
