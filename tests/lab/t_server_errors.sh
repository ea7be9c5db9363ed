#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Start-up errors that name the file and the reason (issue 15), in a lab
# namespace (srv, where stunt-server can bind its addresses):
#   - --tls-cert/--tls-key that do not exist: "TLS: --tls-cert FILE: No such
#     file or directory", exit 1, never "(null)";
#   - a certificate file with no PEM in it: named, with OpenSSL's reason;
#   - a secrets file with three bad lines among good ones: exit 1, each bad
#     line named with its number and reason, no secret in the message;
#   - stuntd --tls-ca that does not exist: "tls-ca FILE: No such file...".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/tap.sh
. "$here/tap.sh"
B=${STUNT_BUILD:-$top/build}

lab_init srverr
lab_up || { nok "lab up"; exit 1; }
T=$LAB_STATE
printf 'a s3cret-a\n' >"$T/ok-secrets"
lab_server_secrets "$T/ok-secrets"

# server ARGS...: stunt-server in srv in the foreground; its stderr in $T/err, status in $rc
server() {
	lx srv timeout 10 "$B/stunt-server" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d "$@" \
		>"$T/out" 2>"$T/err"
	rc=$?
}
# expect NAME WANT_RC FIXED_STRING...: every string in $T/err, no "(null)"
expect() {
	local name=$1 want=$2 s miss=""
	shift 2
	for s in "$@"; do grep -qF -- "$s" "$T/err" || miss="$miss [$s]"; done
	if [ "$rc" = "$want" ] && [ -z "$miss" ] && ! grep -q '(null)' "$T/err"; then
		ok "$name (exit $rc)"
	else
		nok "$name: exit $rc, missing:$miss"
	fi
	sed 's/^/# /' "$T/err" | tail -2
}

server --secrets "$T/ok-secrets" --tls-cert /nonexistent --tls-key /nonexistent-key
expect "TLS cert missing" 1 "TLS: --tls-cert /nonexistent: No such file or directory"
printf 'not a certificate\n' >"$T/junk.pem"
server --secrets "$T/ok-secrets" --tls-cert "$T/junk.pem" --tls-key "$T/junk.pem"
expect "TLS cert without PEM" 1 "TLS: --tls-cert $T/junk.pem: "

printf 'good s3cret-1\nlonely\n# comment\nbad/id s3cret-2\ngood s3cret-3\nfine s3cret-4 # ok\nx y z\n' >"$T/secrets"
lab_server_secrets "$T/secrets"
server --secrets "$T/secrets"
expect "secrets: every bad line named" 1 "secrets file $T/secrets:" \
	"line 2: no secret after the id 'lonely'" "line 4: bad id" "line 5: id 'good' given twice" \
	"line 7: more than two fields" "(4 bad lines)"
grep -q 's3cret' "$T/err" && nok "a secret in the message" || ok "no secret in the message"

printf 's\n' >"$T/secret-d"
chmod 600 "$T/secret-d"
lx ha timeout 10 "$B/stuntd" -d --id a --server "$LAB_SRV1" --secret-file "$T/secret-d" \
	--tls --tls-ca /nonexistent-ca --control "$T/d.sock" --state-dir "$T" --no-rules >"$T/out" 2>"$T/err"
rc=$?
expect "stuntd: tls-ca missing" 1 "tls-ca /nonexistent-ca: No such file or directory"

lab_down
[ "$fails" -eq 0 ]
