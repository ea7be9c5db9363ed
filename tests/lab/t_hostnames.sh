#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Host names where stuntd takes an address (issue 15), in the namespace lab
# (see t_stuntd.sh for the setup). ip netns exec bind-mounts
# /etc/netns/NAME/hosts (and resolv.conf) over /etc/: each lab host gets its
# own names, and a resolver on 127.0.0.1 that answers nothing (no DNS query
# leaves the lab).
#   - ha: --server stun.lab.test (192.0.2.1 in its hosts file); hb: a service
#     exposed as tcp:echo.lab.test:7000 (127.0.0.1 in its hosts file) and
#     --turn turn.lab.test:3478 (both resolved at start): both register and
#     5 MB go through hb's named service;
#   - stun.lab.test moves to a second stunt-server in pub (ha's hosts file
#     rewritten in place) and the first one stops: ha reconnects, resolves
#     the name again ("server stun.lab.test is 198.51.100.10") and registers
#     there;
#   - a name that does not resolve: stuntd exits 1 at start naming it
#     ("cannot resolve server 'nosuch.lab.test': ..."); a target name too.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

made_netns_dir=0
[ -d /etc/netns ] || made_netns_dir=1
etc_cleanup() {
	rm -rf "/etc/netns/$LAB-ha" "/etc/netns/$LAB-hb"
	[ "$made_netns_dir" = 1 ] && rmdir /etc/netns 2>/dev/null
	return 0
}
# hosts NODE LINES...: NODE's own /etc/hosts (written in place: the bind
# mount of a running process follows the file) and a resolver that fails fast
hosts() {
	local n=$1
	shift
	mkdir -p "/etc/netns/$LAB-$n"
	printf '%s\n' "$@" >"/etc/netns/$LAB-$n/hosts"
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$LAB-$n/resolv.conf"
}
start_all_hook() {
	trap 'lab_down; etc_cleanup' EXIT
	hosts ha "127.0.0.1 localhost" "$LAB_SRV1 stun.lab.test"
	hosts hb "127.0.0.1 localhost echo.lab.test" "$LAB_SRV1 stun.lab.test turn.lab.test"
}
STUNTD_EXTRA_A=(--server stun.lab.test)
STUNTD_EXTRA_B=(--expose named=tcp:echo.lab.test:7000 --allow named=laptop
	--turn turn.lab.test:3478 --turn-user u --turn-pass p)

start_all port-restricted rst port-restricted rst || exit 1
trap 'lab_down; etc_cleanup' EXIT
ok "ha registered through --server stun.lab.test; hb with a named target and TURN"
check_eq "ha's server, resolved" "$(ctl a '{"cmd":"status"}' | grep -o '"server":"[0-9.:]*"')" "\"server\":\"$LAB_SRV1:3478\""
SVC=named transfer a office-pc "ha -> hb's service at tcp:echo.lab.test:7000"

# the name moves to a second server in pub
lx pub ip addr add 198.51.100.11/24 dev eth0
lab_bg pub server2 "$SERVER" --primary 198.51.100.10 --alternate 198.51.100.11 -d \
	--secrets "$LAB_STATE/secrets" >/dev/null
lab_wait_port pub tcp 198.51.100.11 3479 10 || nok "second server up"
printf '127.0.0.1 localhost\n198.51.100.10 stun.lab.test\n' >"/etc/netns/$LAB-ha/hosts"
for p in $(ip netns pids "$LAB-srv"); do kill "$p"; done
if lab_wait_log "$LAB_STATE/stuntd-a.log" "server stun.lab.test is 198\.51\.100\.10" 30; then
	ok "ha resolved stun.lab.test again on reconnect"
else
	nok "ha resolved stun.lab.test again on reconnect"
	tail -n 8 "$LAB_STATE/stuntd-a.log" | sed 's/^/# a: /'
fi
end=$((SECONDS + 20))
st=""
while [ "$SECONDS" -le "$end" ]; do
	st=$(ctl a '{"cmd":"status"}')
	echo "$st" | grep -q '"registered":true' && echo "$st" | grep -q '"server":"198.51.100.10:3478"' && break
	sleep 0.2
done
if echo "$st" | grep -q '"registered":true' && echo "$st" | grep -q '"server":"198.51.100.10:3478"'; then
	ok "ha registered at the server the name now gives"
else
	nok "ha registered at the server the name now gives"
	echo "$st" | head -c 300 | sed 's/^/# /'
fi

# names that do not resolve: refused at start, named
lx ha timeout 20 "$STUNTD" -d --id laptop --server nosuch.lab.test --secret-file "$LAB_STATE/secret-a" \
	--control "$LAB_STATE/x.sock" --state-dir "$LAB_STATE/sx" --no-rules >"$LAB_STATE/bad.log" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "cannot resolve server 'nosuch.lab.test'" "$LAB_STATE/bad.log"; then
	ok "an unresolvable server: exit 1, named"
else
	nok "an unresolvable server: exit $rc, want 1 naming it"
	sed 's/^/# /' "$LAB_STATE/bad.log" | tail -3
fi
lx ha timeout 20 "$STUNTD" -d --id laptop --server stun.lab.test --secret-file "$LAB_STATE/secret-a" \
	--control "$LAB_STATE/x.sock" --state-dir "$LAB_STATE/sx" --no-rules \
	--expose v=tcp:nosuch-vnc:5900 >"$LAB_STATE/bad2.log" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "cannot resolve the target of v 'nosuch-vnc'" "$LAB_STATE/bad2.log"; then
	ok "an unresolvable expose target: exit 1, named"
else
	nok "an unresolvable expose target: exit $rc, want 1 naming it"
	sed 's/^/# /' "$LAB_STATE/bad2.log" | tail -3
fi
sed 's/^/# /' "$LAB_STATE/bad.log" "$LAB_STATE/bad2.log" | tail -2

lab_down
etc_cleanup
[ -e "/etc/netns/$LAB-ha" ] && nok "/etc/netns/$LAB-ha removed" || ok "/etc/netns entries removed"
[ "$fails" -eq 0 ]
