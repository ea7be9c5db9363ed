#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd on the NAT gateway itself, serving a LAN host that runs nothing of
# stunt (issue 15, "gateway deployment"): gwa (port-restricted, answering
# unsolicited SYNs with RST, its own input firewall as a home router has)
# runs stuntd "gw-a", which exposes the LAN host's service (ha's echo
# service on 10.1.0.10:7000, standing in for its VNC server) and forwards
# LAN viewers to a peer; office-pc runs stuntd in hb behind gwb.
#   - gw-a's discovery: its TCP endpoint is not translated (local =
#     public), filtered like a port-restricted NAT (its own firewall);
#   - office-pc connects to gw-a/vnc as it would to any peer: the race
#     picks a method that works through the gateway's firewall, 5 MB reach
#     ha's service and come back; forcing direct is refused or fails,
#     never hangs past the deadline (the firewall rejects inbound SYNs);
#   - a LAN viewer (ha) uses "stuntctl forward 10.1.0.1:5901 office-pc/echo"
#     running on the gateway: 1 MB echoed by office-pc's service;
#   - ha stays untouched: no stuntd, no stunt rules in its namespace;
#   - SIGTERM: gw-a's stuntd exits and leaves gwa's iptables as before.
# No stunt-rules gateway part (FORWARD) is involved: every traversal is
# the gateway's own socket, and the hand-off splices to the LAN host.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
STUNTD_NODE_A=gwa
CTL=$BUILD/stuntctl

lab_init gw
trap lab_down EXIT
lab_up --nat-a port-restricted --syn-a rst --nat-b port-restricted --syn-b rst || { nok "lab up"; exit 1; }
printf 'gw-a s3cret-gwa\noffice-pc s3cret-office\n' >"$LAB_STATE/secrets"
lab_server_secrets "$LAB_STATE/secrets"
printf 's3cret-gwa\n' >"$LAB_STATE/secret-a"
printf 's3cret-office\n' >"$LAB_STATE/secret-b"
chmod 600 "$LAB_STATE/secret-a" "$LAB_STATE/secret-b"
mkdir -p "$LAB_STATE/sa" "$LAB_STATE/sb"
lx gwa iptables-save >"$LAB_STATE/ipt-gwa.before" 2>/dev/null
lab_bg srv server "$SERVER" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d \
	--secrets "$LAB_STATE/secrets" >/dev/null
lab_bg ha echo-a python3 "$ECHOSRV" --bind 10.1.0.10 7000 >/dev/null
lab_bg hb echo-b python3 "$ECHOSRV" 7000 >/dev/null
if ! lab_wait_port srv tcp "$LAB_SRV2" 3479 10 || ! lab_wait_port ha tcp 10.1.0.10 7000 10 ||
	! lab_wait_port hb tcp 127.0.0.1 7000 10; then
	nok "server and echo services up"
	exit 1
fi
PID_A=$(lab_bg gwa stuntd-a "$STUNTD" -d -v --id gw-a --server "$LAB_SRV1" \
	--secret-file "$LAB_STATE/secret-a" --control "$LAB_STATE/a.sock" \
	--state-dir "$LAB_STATE/sa" --rules-tool "$RULES_TOOL" --connect-timeout 5000 \
	--expose vnc=tcp:10.1.0.10:7000 --allow vnc=office-pc)
PID_B=$(lab_bg hb stuntd-b "$STUNTD" -d -v --id office-pc --server "$LAB_SRV1" \
	--secret-file "$LAB_STATE/secret-b" --control "$LAB_STATE/b.sock" \
	--state-dir "$LAB_STATE/sb" --rules-tool "$RULES_TOOL" --connect-timeout 5000 \
	--expose echo=tcp:127.0.0.1:7000 --allow echo=gw-a)
registered() { ctl a '{"cmd":"status"}' | grep -q '"registered":true' && ctl b '{"cmd":"status"}' | grep -q '"registered":true'; }
if lab_wait_for 10 registered; then
	ok "gw-a (stuntd on gwa) and office-pc registered"
else
	nok "both daemons registered"
	tail -5 "$LAB_STATE/stuntd-a.log" | sed 's/^/# gw-a: /'
	exit 1
fi

# what the gateway's stuntd found: no translation, its own firewall filters
ctl a '{"cmd":"status"}' >"$LAB_STATE/status-a.json"
if python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["nat"]["tcp"]
print("# gw-a tcp: local %s public %s mapping %s filtering %s" % (t["local"], t["public"], t["mapping"], t["filtering"]))
sys.exit(not (t["local"] == t["public"] and t["public"].startswith("198.18.1.2:") and t["filtering"] == "APDF"))' "$LAB_STATE/status-a.json"; then
	ok "gw-a's discovery: its endpoint is not translated (local = public), filtered APDF by its firewall"
else
	nok "gw-a's discovery: $(head -c 400 "$LAB_STATE/status-a.json")"
fi

# a peer connects to the LAN host's service through the gateway's stuntd
SVC=vnc transfer b gw-a "office-pc -> gw-a/vnc (ha's service behind the gateway), the race"
out=$(ctl b '{"cmd":"connect","peer":"gw-a","service":"vnc","method":"direct"}')
echo "$out" | sed 's/^/# /'
if echo "$out" | grep -q '"ok":false'; then
	ok "direct forced: fails within the deadline (the gateway's firewall rejects inbound SYNs)"
else
	nok "direct forced through the gateway's firewall: $out"
fi

# a LAN viewer uses a forward on the gateway
lab_bg gwa fwd "$CTL" --control "$LAB_STATE/a.sock" forward 10.1.0.1:5901 office-pc/echo >/dev/null
if lab_wait_port gwa tcp 10.1.0.1 5901 10; then
	res=$(lab_echo_check ha 10.1.0.1 5901 $((1 << 20)))
	if [ "$res" = ok ]; then
		ok "LAN viewer ha -> gateway's forward 10.1.0.1:5901 -> office-pc/echo: 1 MB echoed ($(grep -o 'connected by [a-z0-9]* in [0-9]* ms' "$LAB_STATE/fwd.log" | head -1))"
	else
		nok "LAN viewer through the gateway's forward: $res"
		tail -5 "$LAB_STATE/fwd.log" | sed 's/^/# fwd: /'
	fi
else
	nok "the gateway's forward listens on 10.1.0.1:5901"
fi

# the LAN host runs nothing of stunt
n=0
for p in $(ip netns pids "$LAB-ha" 2>/dev/null); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = stuntd ] && n=$((n + 1))
done
r=$(lx ha iptables-save 2>/dev/null | grep -c STUNT)
if [ "$n" = 0 ] && [ "$r" = 0 ]; then
	ok "ha untouched: no stuntd, no stunt rules in its namespace"
else
	nok "ha: $n stuntd, $r stunt rules"
fi

kill -TERM "$PID_A" "$PID_B" 2>/dev/null
lab_wait_for 5 eval '! _lab_alive "$PID_A"'
lx gwa iptables-save >"$LAB_STATE/ipt-gwa.after" 2>/dev/null
if ! _lab_alive "$PID_A" && diff <(grep -v '^#' "$LAB_STATE/ipt-gwa.before") \
	<(grep -v '^#' "$LAB_STATE/ipt-gwa.after") >/dev/null; then
	ok "SIGTERM: gw-a's stuntd exited, gwa's iptables as before"
else
	nok "SIGTERM: gw-a's stuntd or its rules left"
fi
lab_down
[ "$fails" -eq 0 ]
