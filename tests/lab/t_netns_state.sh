#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# State keyed per network namespace (issue 15): two stuntds in two network
# namespaces of one host, both with the default state paths (no --control,
# no --state-dir, no --rules-tool):
#   - both start, register and hold their rules; each one's ownership file
#     and control socket are in /run/stunt/net-INODE (INODE: its namespace's
#     /proc/self/ns/net), not in one shared /run/stunt;
#   - stuntctl without --control, in each namespace, reaches its own stuntd;
#   - a second stuntd in the same namespace with the defaults is refused
#     (the rules are owned), and the first keeps its rules;
#   - SIGTERM: each removes its ownership file.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/tap.sh
. "$here/tap.sh"
BUILD=${STUNT_BUILD:-$top/build}

lab_init nss
dirs=()
cleanup() {
	lab_down
	[ ${#dirs[@]} -gt 0 ] && rm -rf "${dirs[@]}"
	rmdir /run/stunt 2>/dev/null
	return 0
}
trap cleanup EXIT
T=$LAB_STATE

lab_up --nat-a port-restricted --nat-b port-restricted || { nok "lab up"; exit 1; }
printf 'laptop s3cret-laptop\noffice-pc s3cret-office\n' >"$T/secrets"
lab_server_secrets "$T/secrets"
printf 's3cret-laptop\n' >"$T/secret-a"
printf 's3cret-office\n' >"$T/secret-b"
chmod 600 "$T/secret-a" "$T/secret-b"
lab_bg srv server "$BUILD/stunt-server" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d \
	--secrets "$T/secrets" >/dev/null
lab_wait_port srv tcp "$LAB_SRV2" 3479 10 || { nok "stunt-server up"; exit 1; }

ino_a=$(lx ha stat -L -c %i /proc/self/ns/net)
ino_b=$(lx hb stat -L -c %i /proc/self/ns/net)
dir_a=/run/stunt/net-$ino_a
dir_b=/run/stunt/net-$ino_b
dirs=("$dir_a" "$dir_b")
[ "$ino_a" != "$ino_b" ] && ok "two namespaces ($ino_a, $ino_b)" || nok "two namespaces"

PA=$(lab_bg ha stuntd-a "$BUILD/stuntd" -d -v --id laptop --server "$LAB_SRV1" --secret-file "$T/secret-a")
PB=$(lab_bg hb stuntd-b "$BUILD/stuntd" -d -v --id office-pc --server "$LAB_SRV1" --secret-file "$T/secret-b")

# status NODE: stuntctl status --json without --control
status() { lx "$1" "$BUILD/stuntctl" status --json 2>&1; }
registered() {
	local end=$((SECONDS + 10))
	while [ "$SECONDS" -le "$end" ]; do
		status "$1" | grep -q '"registered": *true' && return 0
		sleep 0.1
	done
	return 1
}
for x in a b; do
	if registered "h$x"; then
		ok "stuntd in h$x started with the defaults; stuntctl without --control reaches it"
	else
		nok "stuntd in h$x started with the defaults; stuntctl without --control reaches it"
		tail -n 5 "$T/stuntd-$x.log" | sed "s/^/# $x: /"
	fi
done
for x in a b; do
	d=$dir_a
	[ "$x" = b ] && d=$dir_b
	if [ -S "$d/stuntd.sock" ] && grep -q '^stunt-rules-state' "$d/rules.state" 2>/dev/null &&
		grep -q "NFQUEUE rules installed by .*(state $d/rules.state)" "$T/stuntd-$x.log"; then
		ok "h$x: socket and rules ownership in $d"
	else
		nok "h$x: socket and rules ownership in $d"
		ls -la "$d" 2>&1 | sed 's/^/# /'
	fi
	check_eq "h$x: NFQUEUE jumps held" "$(lx "h$x" iptables-save -t mangle | grep -c -- '-j STUNT-' | sed 's/^[1-9][0-9]*$/yes/')" yes
done
[ ! -e /run/stunt/rules.state ] && ok "nothing in the host's /run/stunt/rules.state" ||
	nok "a stuntd wrote the host's /run/stunt/rules.state"

# the id answers: each stuntctl reached its own daemon
check_eq "ha's stuntctl talks to laptop" "$(status ha | grep -o '"id": *"[a-z-]*"' | head -1 | tr -d ' ')" '"id":"laptop"'
check_eq "hb's stuntctl talks to office-pc" "$(status hb | grep -o '"id": *"[a-z-]*"' | head -1 | tr -d ' ')" '"id":"office-pc"'

# a second one in ha with the defaults: refused, the first keeps its rules
lx ha timeout 20 "$BUILD/stuntd" -d --id laptop --server "$LAB_SRV1" --secret-file "$T/secret-a" \
	>"$T/second.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -Eq "owns the rules|NFQUEUE|control socket" "$T/second.log"; then
	ok "a second stuntd in ha with the defaults refused (exit $rc)"
else
	nok "a second stuntd in ha with the defaults refused (exit $rc)"
	sed 's/^/# 2nd: /' "$T/second.log" | tail -5
fi
sed 's/^/# 2nd: /' "$T/second.log" | tail -2
if registered ha && [ -S "$dir_a/stuntd.sock" ] && grep -q '^stunt-rules-state' "$dir_a/rules.state"; then
	ok "the first stuntd in ha still serves and owns its rules"
else
	nok "the first stuntd in ha still serves and owns its rules"
fi

kill -TERM "$PA" "$PB"
for _ in $(seq 50); do _lab_any_alive "$PA" "$PB" || break; sleep 0.1; done
if [ ! -e "$dir_a/rules.state" ] && [ ! -e "$dir_b/rules.state" ]; then
	ok "SIGTERM: both ownership files removed"
else
	nok "SIGTERM: both ownership files removed"
fi

[ "$fails" -eq 0 ]
