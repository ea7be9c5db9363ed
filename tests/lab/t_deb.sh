#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian packages (issue 15): `make deb` builds stunt and stunt-server from a
# copy of the sources under a temporary BUILD (this tree is left alone), and
# the packages are checked without installing them (nothing on this host
# changes):
#   - every program, man page, unit, sysusers.d / tmpfiles.d file and
#     conffile is in the package it belongs to, and not in the other;
#   - stunt depends on iptables (stunt-rules), both on adduser; the conffiles
#     are /etc/stunt/stuntd.conf and /etc/stunt/stunt-server.conf;
#   - neither postinst enables its unit (the deb-systemd-helper enable there
#     runs only for a unit that was installed and enabled before), and each
#     makes its user with systemd-sysusers;
#   - the extracted programs run --help (exit 0); the extracted stuntd names
#     /usr/sbin/stunt-rules as its compiled-in default;
#   - the extracted sysusers.d files, run into an empty root, make the users
#     the daemons drop to (stuntd's default, the server conffile's user
#     line); the tmpfiles.d file makes /run/stunt, the directory of stuntd's
#     control socket and state file and its unit's RuntimeDirectory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/tap.sh
. "$here/tap.sh"

T=$(mktemp -d /tmp/stunt-deb.XXXXXX)
trap 'rm -rf "$T"' EXIT

if make -s -C "$top" BUILD="$T/b" deb >"$T/make.log" 2>&1; then
	ok "make deb"
else
	nok "make deb"
	tail -20 "$T/make.log" | sed 's/^/# /'
	exit 1
fi
D=$T/b/deb
ver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
for p in stunt stunt-server; do
	deb=$D/${p}_${ver}_$arch.deb
	[ -f "$deb" ] || { nok "$p: no $deb"; exit 1; }
	dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$T/$p.files"
	dpkg-deb -e "$deb" "$T/$p.ctl"
	dpkg-deb -x "$deb" "$T/$p.root"
done

# has PKG PATH...: every PATH in PKG's file list, none in the other package
has() {
	local p=$1 other miss="" extra=""
	shift
	[ "$p" = stunt ] && other=stunt-server || other=stunt
	for f in "$@"; do
		grep -qxF "$f" "$T/$p.files" || miss="$miss $f"
		grep -qxF "$f" "$T/$other.files" && extra="$extra $f"
	done
	check_eq "$p: files missing" "${miss:-none}" none
	check_eq "$p: its files also in $other" "${extra:-none}" none
}
has stunt /usr/sbin/stuntd /usr/sbin/stunt-rules /usr/bin/stuntctl /usr/bin/stunt-probe \
	/usr/share/man/man8/stuntd.8.gz /usr/share/man/man8/stunt-rules.8.gz \
	/usr/share/man/man1/stuntctl.1.gz /usr/share/man/man1/stunt-probe.1.gz \
	/lib/systemd/system/stuntd.service /usr/lib/sysusers.d/stunt.conf \
	/usr/lib/tmpfiles.d/stunt.conf /etc/stunt/stuntd.conf /usr/share/doc/stunt/copyright
has stunt-server /usr/sbin/stunt-server /usr/share/man/man8/stunt-server.8.gz \
	/lib/systemd/system/stunt-server.service /usr/lib/sysusers.d/stunt-server.conf \
	/etc/stunt/stunt-server.conf /usr/share/doc/stunt-server/copyright

dep() { dpkg-deb -f "$D/${1}_${ver}_$arch.deb" Depends | tr -d ' ' | tr ',|' '\n' | sed 's/(.*//'; }
check_eq "stunt depends on iptables, adduser" "$(dep stunt | grep -cxE 'iptables|adduser')" 2
check_eq "stunt-server depends on adduser" "$(dep stunt-server | grep -cx adduser)" 1
check_eq "stunt: conffiles" "$(cat "$T/stunt.ctl/conffiles")" /etc/stunt/stuntd.conf
check_eq "stunt-server: conffiles" "$(cat "$T/stunt-server.ctl/conffiles")" /etc/stunt/stunt-server.conf
cmp -s "$T/stunt-server.root/etc/stunt/stunt-server.conf" "$top/docs/stunt-server.conf.example" &&
	cmp -s "$T/stunt.root/etc/stunt/stuntd.conf" "$top/docs/stuntd.conf.example" &&
	ok "the conffiles are docs/*.conf.example" || nok "the conffiles are docs/*.conf.example"

for x in stunt:stuntd stunt-server:stunt-server; do
	p=${x%%:*} u=${x#*:}
	pi=$T/$p.ctl/postinst
	# dh_installsystemd's section: without --no-enable it enables the unit
	# on every first installation; with it only a unit installed before
	sect=$(sed -n '/by dh_installsystemd/,/End automatically/p' "$pi")
	if echo "$sect" | grep -q "deb-systemd-helper debian-installed '$u.service'" &&
		! echo "$sect" | grep -q 'was-enabled defaults to true'; then
		ok "$p: postinst does not enable $u.service"
	else
		nok "$p: postinst does not enable $u.service"
		echo "$sect" | sed 's/^/# /'
	fi
	grep -q "^[[:space:]]*systemd-sysusers .*$p.conf" "$pi" && ok "$p: postinst runs systemd-sysusers $p.conf" ||
		nok "$p: postinst runs systemd-sysusers $p.conf"
done

for x in stunt:sbin/stuntd stunt:sbin/stunt-rules stunt:bin/stuntctl stunt:bin/stunt-probe \
	stunt-server:sbin/stunt-server; do
	b=$T/${x%%:*}.root/usr/${x#*:}
	if "$b" --help >"$T/help" 2>&1; then
		ok "$(basename "$b") --help from the package"
	else
		nok "$(basename "$b") --help from the package: $(head -3 "$T/help")"
	fi
done
if "$T/stunt.root/usr/sbin/stuntd" --help | grep -q '/usr/sbin/stunt-rules'; then
	ok "packaged stuntd: compiled-in default /usr/sbin/stunt-rules"
else
	nok "packaged stuntd: compiled-in default /usr/sbin/stunt-rules"
	"$T/stunt.root/usr/sbin/stuntd" --help | grep -A1 rules-tool | sed 's/^/# /'
fi

# the users and the directory, made in an empty root
R=$T/sysroot
mkdir -p "$R/etc"
systemd-sysusers --root="$R" "$T/stunt.root/usr/lib/sysusers.d/stunt.conf" \
	"$T/stunt-server.root/usr/lib/sysusers.d/stunt-server.conf" >/dev/null 2>&1
want_d=$("$T/stunt.root/usr/sbin/stuntd" --help | sed -n 's/.*--user USER.*(default \([a-z-]*\).*/\1/p')
want_s=$(sed -n 's/^user //p' "$T/stunt-server.root/etc/stunt/stunt-server.conf")
got=$(cut -d: -f1 "$R/etc/passwd" 2>/dev/null | sort | paste -sd' ')
check_eq "sysusers.d: the users stuntd ($want_d) and stunt-server ($want_s) drop to" \
	"$got" "$(printf '%s\n' "$want_d" "$want_s" | sort | paste -sd' ')"
systemd-tmpfiles --root="$R" --create "$T/stunt.root/usr/lib/tmpfiles.d/stunt.conf" 2>/dev/null
check_eq "tmpfiles.d: /run/stunt, the unit's RuntimeDirectory" \
	"$(stat -c '%a %U' "$R/run/stunt" 2>/dev/null) $(sed -n 's/^RuntimeDirectory=//p' \
		"$T/stunt.root/lib/systemd/system/stuntd.service")" "755 root stunt"

[ "$fails" -eq 0 ]
