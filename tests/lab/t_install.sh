#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs that start (issue 15): compiled-in paths follow PREFIX and stuntd
# finds stunt-rules next to itself first.
#   - a copy of the build tree, then `make install PREFIX=/usr DESTDIR=...`:
#     the PREFIX change rebuilds (the stamp names /usr/sbin), the programs,
#     stunt-rules, both units (stuntd, stunt-server; paths rewritten, checked
#     by systemd-analyze verify), the example configs, the man pages and the
#     sysusers.d / tmpfiles.d files land under DESTDIR; the installed stuntd
#     names /usr/sbin/stunt-rules as its default;
#   - the installed stuntd, started in a lab host without --rules-tool,
#     registers and has its privileged process install the NFQUEUE rules with
#     the stunt-rules beside it (DESTDIR/usr/sbin); SIGTERM removes them;
#   - build/stuntd from the build tree, without --rules-tool, uses
#     tools/stunt-rules;
#   - the secrets come from the installed `stuntctl genkey` (one line to each
#     file): both daemons register with them;
#   - a stuntd copied alone (nothing beside it) falls back to the compiled-in
#     /usr/sbin/stunt-rules, and says so when that is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/tap.sh
. "$here/tap.sh"
BUILD=${STUNT_BUILD:-$top/build}

lab_init ins
trap lab_down EXIT
T=$LAB_STATE
root=$T/root

# a copy of the build tree: the test must not rebuild the one other tests use
cp -a "$BUILD" "$T/b"
if make -s -C "$top" BUILD="$T/b" PREFIX=/usr DESTDIR="$root" install >"$T/make.log" 2>&1; then
	ok "make install PREFIX=/usr DESTDIR=..."
else
	nok "make install PREFIX=/usr DESTDIR=..."
	sed 's/^/# /' "$T/make.log" | tail -20
	exit 1
fi
check_eq "the SBINDIR stamp follows PREFIX" "$(cat "$T/b/.sbindir")" /usr/sbin
miss=""
for f in usr/sbin/stuntd usr/sbin/stunt-server usr/sbin/stunt-rules usr/bin/stuntctl \
	usr/bin/stunt-probe usr/lib/systemd/system/stuntd.service usr/share/man/man8/stuntd.8 \
	usr/lib/systemd/system/stunt-server.service usr/share/doc/stunt/stuntd.conf.example \
	usr/share/doc/stunt/stunt-server.conf.example usr/share/man/man1/stuntctl.1 \
	usr/lib/sysusers.d/stunt.conf usr/lib/sysusers.d/stunt-server.conf usr/lib/tmpfiles.d/stunt.conf; do
	[ -e "$root/$f" ] || miss="$miss $f"
done
check_eq "installed files missing" "${miss:-none}" none
for u in stuntd stunt-server; do
	f=$root/usr/lib/systemd/system/$u.service
	if grep -q "^ExecStart=/usr/sbin/$u " "$f" && ! grep -q '/usr/local' "$f"; then
		ok "$u.service runs /usr/sbin/$u"
	else
		nok "$u.service's paths follow PREFIX"
		grep -n 'usr' "$f" | sed 's/^/# /'
	fi
	# systemd's own check: nothing but the binary's absence (not installed on
	# this host) and the man page lookup may be reported
	if command -v systemd-analyze >/dev/null; then
		out=$(systemd-analyze verify "$f" 2>&1 | grep -Ev 'is not executable|Command .man ')
		[ -z "$out" ] && ok "systemd-analyze verify $u.service" ||
			nok "systemd-analyze verify $u.service: $out"
	fi
done
if "$root/usr/sbin/stuntd" --help | grep -q '/usr/sbin/stunt-rules'; then
	ok "installed stuntd: compiled-in default /usr/sbin/stunt-rules"
else
	nok "installed stuntd: compiled-in default /usr/sbin/stunt-rules"
	"$root/usr/sbin/stuntd" --help | grep -A1 rules-tool | sed 's/^/# /'
fi

lab_up --nat-a port-restricted --nat-b port-restricted || { nok "lab up"; exit 1; }
# the secrets made with the installed stuntctl genkey: its server line into
# the server's file, its secret line alone into the host's
: >"$T/secrets"
for x in a:laptop b:office-pc; do
	"$root/usr/bin/stuntctl" genkey "${x#*:}" >"$T/genkey-${x%%:*}"
	grep "^${x#*:} " "$T/genkey-${x%%:*}" >>"$T/secrets"
	grep -v '^#' "$T/genkey-${x%%:*}" | grep -v ' ' >"$T/secret-${x%%:*}"
done
lab_server_secrets "$T/secrets"
chmod 600 "$T/secret-a" "$T/secret-b"
check_eq "genkey: two ids, two 64-hex secrets" \
	"$(grep -Ec '^[a-z-]+ [0-9a-f]{64}$' "$T/secrets") $(cat "$T/secret-a" "$T/secret-b" | grep -Ec '^[0-9a-f]{64}$')" "2 2"
mkdir -p "$T/sa" "$T/sb"
lab_bg srv server "$root/usr/sbin/stunt-server" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d \
	--secrets "$T/secrets" >/dev/null
lab_wait_port srv tcp "$LAB_SRV2" 3479 10 || { nok "installed stunt-server up"; exit 1; }

# started STUNTD NODE X ID: one stuntd with no --rules-tool; its pid
started() {
	lab_bg "$2" "stuntd-$3" "$1" -d -v --id "$4" --server "$LAB_SRV1" \
		--secret-file "$T/secret-$3" --control "$T/$3.sock" --state-dir "$T/s$3"
}
# registered NODE X: within 10 s
registered() {
	local end=$((SECONDS + 10))
	while [ "$SECONDS" -le "$end" ]; do
		lx "$1" python3 "$here/ctlclient.py" "$T/$2.sock" '{"cmd":"status"}' 2>/dev/null |
			grep -q '"registered":true' && return 0
		sleep 0.1
	done
	return 1
}
rules_in() { lx "$1" iptables-save -t mangle 2>/dev/null | grep -c -- '-j STUNT-'; }

before=$(rules_in ha)
PA=$(started "$root/usr/sbin/stuntd" ha a laptop)
if registered ha a; then
	ok "installed stuntd (PREFIX=/usr) started and registered"
else
	nok "installed stuntd (PREFIX=/usr) started and registered"
	tail -n 8 "$T/stuntd-a.log" | sed 's/^/# a: /'
fi
if grep -q "NFQUEUE rules installed by $root/usr/sbin/stunt-rules" "$T/stuntd-a.log" &&
	[ "$(rules_in ha)" -gt "$before" ]; then
	ok "its privileged process installed the rules with the stunt-rules beside it"
else
	nok "its privileged process installed the rules with the stunt-rules beside it"
	grep -i rules "$T/stuntd-a.log" | sed 's/^/# a: /'
fi
kill -TERM "$PA"
for _ in $(seq 50); do _lab_alive "$PA" || break; sleep 0.1; done
check_eq "SIGTERM: the installed stuntd's jumps removed" "$(rules_in ha)" "$before"

PB=$(started "$BUILD/stuntd" hb b office-pc)
if registered hb b && grep -q "NFQUEUE rules installed by $top/tools/stunt-rules" "$T/stuntd-b.log"; then
	ok "build/stuntd without --rules-tool: tools/stunt-rules"
else
	nok "build/stuntd without --rules-tool: tools/stunt-rules"
	grep -i rules "$T/stuntd-b.log" | sed 's/^/# b: /'
fi
kill -TERM "$PB"

mkdir -p "$T/lone"
cp "$root/usr/sbin/stuntd" "$T/lone/stuntd"
lx ha "$T/lone/stuntd" -d --id laptop --server "$LAB_SRV1" --secret-file "$T/secret-a" \
	--control "$T/lone.sock" --state-dir "$T/sa" --no-privsep >"$T/lone.log" 2>&1 &
PL=$!
for _ in $(seq 50); do grep -q "NFQUEUE rules" "$T/lone.log" && break; sleep 0.1; done
if grep -q '/usr/sbin/stunt-rules' "$T/lone.log"; then
	ok "a stuntd with nothing beside it uses the compiled-in /usr/sbin/stunt-rules"
else
	nok "a stuntd with nothing beside it uses the compiled-in /usr/sbin/stunt-rules"
	sed 's/^/# lone: /' "$T/lone.log" | tail -5
fi
kill -TERM "$PL" 2>/dev/null
wait "$PL" 2>/dev/null

[ "$fails" -eq 0 ]
