#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Usage errors of every program (issue 15): one line on stderr, of the form
# "PROG: MESSAGE (try 'PROG --help')", nothing on stdout, exit status 2;
# --help still prints the whole text on stdout with status 0. No namespace
# needed: nothing here reaches the network.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/tap.sh
. "$here/tap.sh"
B=${STUNT_BUILD:-$top/build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# bad PROG WANT_REGEX ARGS...: a usage error
bad() {
	local prog=$1 want=$2 name rc lines
	shift 2
	name="$(basename "$prog") $*"
	"$prog" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	lines=$(wc -l <"$T/err")
	if [ "$rc" = 2 ] && [ "$lines" = 1 ] && [ ! -s "$T/out" ] &&
		grep -Eq "^$(basename "$prog"): .*$want.* \(try '$(basename "$prog") --help'\)$" "$T/err"; then
		ok "$name: one line, exit 2"
	else
		nok "$name: exit $rc, $lines lines: $(head -c 200 "$T/err" | tr '\n' '|')"
	fi
}

bad "$B/stunt-server" "unknown option '--frob'" --frob
bad "$B/stunt-server" "option '--port' needs a value" --primary 192.0.2.1 --port
bad "$B/stunt-server" "bad port" --port x
bad "$B/stunt-server" "--primary is required"
bad "$B/stunt-server" "unexpected argument" --primary 192.0.2.1 --alternate 192.0.2.2 extra
bad "$B/stuntd" "unknown option '--frob'" --frob
bad "$B/stuntd" "option '--server' needs a value" --server
bad "$B/stuntd" "no id"
bad "$B/stuntd" "bad server 'bad_name'" --id a --server bad_name --secret-file /x
bad "$B/stuntd" "unexpected argument 'x'" --id a --server 192.0.2.1 --secret-file /x x
bad "$B/stuntctl" "a command is needed"
bad "$B/stuntctl" "unknown option '--bogus'" --bogus status
bad "$B/stuntctl" "unknown command 'frob'" frob
bad "$B/stuntctl" "unknown option '--x'" status --x
bad "$B/stuntctl" "PEER/NAME is missing" connect
bad "$B/stuntctl" "option '--idle' needs a value" forward --udp --idle
bad "$B/stunt-probe" "--server is required"
bad "$B/stunt-probe" "unknown option '-x'" -x
bad "$B/stunt-probe" "100 to 600000" --server 192.0.2.1 --timeout 5
bad "$B/stunt-probe" "exclude each other" --server 192.0.2.1 --udp-only --tcp-only
bad "$top/tools/stunt-rules" "a command is needed"
bad "$top/tools/stunt-rules" "unknown argument '--zz'" --zz
bad "$top/tools/stunt-rules" "--gateway was removed" install --gateway

bad "$B/stuntctl" "'bad id' is no valid id" genkey "bad id"
bad "$B/stuntctl" "genkey: unexpected argument 'b'" genkey a b
bad "$B/stuntctl" "unknown option '--frob'" genkey --frob

# genkey: a fresh secret each time, the same one on both lines
k1=$("$B/stuntctl" genkey laptop)
k2=$("$B/stuntctl" genkey --raw laptop)
s1=$(echo "$k1" | grep -E '^[0-9a-f]{64}$')
l1=$(echo "$k1" | grep -E '^laptop [0-9a-f]{64}$')
if [ -n "$s1" ] && [ "$l1" = "laptop $s1" ] && echo "$k2" | grep -Eq '^[0-9a-f]{64}$' &&
	[ "$k2" != "$s1" ] && [ "$(echo "$k2" | wc -l)" = 1 ]; then
	ok "genkey: one secret on both lines, --raw alone, fresh each run"
else
	nok "genkey output: $k1 / $k2"
fi

for p in "$B/stunt-server" "$B/stuntd" "$B/stuntctl" "$B/stunt-probe" "$top/tools/stunt-rules"; do
	n=$("$p" --help 2>/dev/null | wc -l)
	rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] && [ "$n" -gt 5 ] && ok "$(basename "$p") --help: $n lines on stdout" ||
		nok "$(basename "$p") --help: exit $rc, $n lines"
done
[ "$fails" -eq 0 ]
