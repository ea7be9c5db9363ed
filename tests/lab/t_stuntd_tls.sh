#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd's signalling over TLS in the namespace lab. A CA and a server
# certificate for IP 192.0.2.1 are made with openssl in $LAB_STATE;
# stunt-server listens for TLS on 5349 (--tls-cert/--tls-key). Then:
#   ha "laptop"    --tls --tls-ca ca.pem       registers (CA + IP checked)
#   hb "office-pc" --tls --tls-pin <server key> registers (pin)
#   a connect between them moves 5 MB intact;
#   "stranger"  --tls-ca of another self-made CA   refused: verify error
#   "intruder"  --tls-pin of another key           refused: pin mismatch
#   "mallory"   the right CA, --server-name other  refused: name mismatch
# (the refused three run in "pub", a host on the public side); each refused one logs why, counts, retries with backoff and never
# registers (the server logs no registration, a connect to it finds no
# peer); TLS without a CA or pin does not start; SIGTERM leaves no rules.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

# a CA, a server certificate it signs for IP:192.0.2.1, and a second CA
# that signs nothing of ours
make_certs() {
	local s=$LAB_STATE
	lab_tls_certs "IP:$LAB_SRV1" || return 1
	(
		cd "$s" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout other-ca.key -out other-ca.pem -subj /CN=stunt-lab-ca -days 2 &&
		openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out other.key
	) >>"$s/openssl.log" 2>&1 || { sed 's/^/# /' "$s/openssl.log"; return 1; }
}

# spki_pin KEY.pem: SHA-256 of the public key's SubjectPublicKeyInfo
spki_pin() {
	openssl pkey -in "$1" -pubout -outform der 2>/dev/null | openssl dgst -sha256 -r | cut -d' ' -f1
}

start_all_hook() {
	make_certs || return 1
	PIN=$(spki_pin "$LAB_STATE/srv.key")
	WRONG_PIN=$(spki_pin "$LAB_STATE/other.key")
	[ ${#PIN} -eq 64 ] && [ ${#WRONG_PIN} -eq 64 ] || return 1
	# the server's certificate pin, computed the way stuntd(8) documents it
	[ "$(openssl x509 -in "$LAB_STATE/srv.pem" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -r | cut -d' ' -f1)" = "$PIN" ] || return 1
	printf 'intruder s3cret-intruder\nmallory s3cret-mallory\n' >>"$LAB_STATE/secrets"
	local id
	for id in stranger intruder mallory; do
		printf 's3cret-%s\n' "$id" >"$LAB_STATE/secret-$id"
		chmod 600 "$LAB_STATE/secret-$id"
	done
	SERVER_EXTRA=(--tls-cert "$LAB_STATE/srv.pem" --tls-key "$LAB_STATE/srv.key")
	STUNTD_EXTRA_A=(--tls --tls-ca "$LAB_STATE/ca.pem")
	STUNTD_EXTRA_B=(--tls --tls-pin "$PIN")
}

# refused NODE ID LABEL ARGS...: a stuntd that must not get past TLS
refused_start() {
	local node=$1 id=$2
	shift 2
	lab_bg "$node" "stuntd-$id" "$STUNTD" -d -v --id "$id" --server "$LAB_SRV1" \
		--secret-file "$LAB_STATE/secret-$id" --control "$LAB_STATE/$id.sock" \
		--state-dir "$LAB_STATE/s-$id" --no-rules "$@"
}

# refused_check ID LABEL REGEX: its log names the reason (REGEX), it counted
# at least two refusals (so it retried), and it never registered
refused_check() {
	local id=$1 label=$2 re=$3 log
	log=$LAB_STATE/stuntd-$id.log
	if grep -Eq "TLS: server $LAB_SRV1:5349 refused \(([2-9]|[1-9][0-9]+) so far\): .*($re)" "$log" &&
		! grep -q "registered with" "$log" &&
		! grep -q "peer $id registered" "$LAB_STATE/server.log"; then
		ok "$label: refused, retried, not registered ($(grep -Eo "refused \([0-9]+ so far\): .*" "$log" | tail -1 | cut -c1-110))"
	else
		nok "$label"
		tail -8 "$log" | sed 's/^/# /'
		grep "registered" "$LAB_STATE/server.log" | sed 's/^/# server: /'
	fi
}

echo "# TLS needs a CA or a pin"
out=$("$STUNTD" --id x --server 192.0.2.1 --secret-file /nonexistent --tls 2>&1)
rc=$?
[ "$rc" -eq 2 ] && echo "$out" | grep -q "no unauthenticated TLS" &&
	ok "--tls without --tls-ca or --tls-pin: refuses to start ($(echo "$out" | head -1))" ||
	nok "--tls alone: rc $rc, $out"

echo "# full-cone (ha) x port-restricted rst (hb), signalling over TLS"
start_all full-cone rst port-restricted rst && {
	grep -q "registered with $LAB_SRV1:5349 over TLS as laptop" "$LAB_STATE/stuntd-a.log" &&
		grep -q "TLS with the server: TLSv1.[23] .*authenticated by CA" "$LAB_STATE/stuntd-a.log" &&
		ok "ha: --tls --tls-ca: registered over TLS, CA and IP $LAB_SRV1 verified" ||
		nok "ha registered over TLS with the CA"
	grep -q "registered with $LAB_SRV1:5349 over TLS as office-pc" "$LAB_STATE/stuntd-b.log" &&
		grep -q "authenticated by pin" "$LAB_STATE/stuntd-b.log" &&
		ok "hb: --tls --tls-pin: registered over TLS with the server's key pinned" ||
		nok "hb registered over TLS with the pin"
	transfer b laptop "port-restricted -> full-cone over TLS signalling" "" "[a-z0-9]+"
	transfer a office-pc "full-cone -> port-restricted over TLS signalling" "" "[a-z]+"

	mkdir -p "$LAB_STATE/s-stranger" "$LAB_STATE/s-intruder" "$LAB_STATE/s-mallory"
	refused_start pub stranger --tls --tls-ca "$LAB_STATE/other-ca.pem" >/dev/null
	refused_start pub intruder --tls --tls-pin "$WRONG_PIN" >/dev/null
	refused_start pub mallory --tls --tls-ca "$LAB_STATE/ca.pem" --server-name stunt.example.net >/dev/null
	sleep 4		# tries at 0, 1 and 3 s (backoff 1 s, 2 s)
	refused_check stranger "wrong CA (another self-made CA)" "certificate verify failed: (unable to get local issuer certificate|self.signed|certificate signature failure)"
	refused_check intruder "wrong pin" "server key pin mismatch \\(its key is $PIN\\)"
	refused_check mallory "right CA, wrong name" "certificate verify failed: hostname mismatch"
	expect_error a '{"cmd":"connect","peer":"stranger","service":"echo"}' \
		"server: the refused daemon is not a peer" "not registered"
	n=$(grep -c "registered from" "$LAB_STATE/server.log")
	[ "$n" -eq 2 ] && ok "server: exactly 2 registrations (laptop, office-pc)" ||
		nok "server registrations: $n"
	# the daemons that did register are undisturbed
	ctl a '{"cmd":"status"}' | grep -q '"registered":true' && ok "ha still registered" ||
		nok "ha still registered"
	stop_all
}
[ "$fails" -eq 0 ]
