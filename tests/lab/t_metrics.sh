#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --metrics of stunt-server and stuntd (common/promhttp.c, server/metrics.c,
# daemon/metrics.c) in the namespace lab: ha and hb behind port-restricted
# NATs (rst). The server serves on 192.0.2.1:9477 (given by its config
# file's 'metrics' line), ha's stuntd on 127.0.0.1:9478 (--metrics), hb's
# on 127.0.0.1:9478 (its config file); tests/lab/promscrape.py scrapes them
# with urllib inside the namespaces.
#   - each answer is 200, Content-Type text/plain; version=0.0.4, and every
#     line parses (HELP and TYPE before the samples, valid names, counters
#     ending in _total, no series twice);
#   - the server's registered gauge is the number of registered daemons (2,
#     then 3 with a stranger in pub);
#   - a connect ha -> hb: the won counter of the method that won goes up by
#     one on both daemons, ha's queue packets (asked of its privileged
#     process) and the server's lookups go up, hb's bytes from peers by at
#     least the 5 MB echoed;
#   - stuntd's listener is held by the unprivileged main process, not the
#     privileged one;
#   - POST, garbage, an oversized request, another path get 405, 400, 431,
#     404; HTTP/1.0 gets 200; both programs serve the next scrape;
#   - 50 idle connections to ha's metrics port: a connect still carries
#     data, a scrape still answers (the oldest idle one is closed for it);
#   - a metrics port already taken: stunt-server and stuntd exit with one
#     line naming it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

SCRAPE=$here/promscrape.py
SRV_URL=http://192.0.2.1:9477/metrics
D_URL=http://127.0.0.1:9478/metrics

# the config files: the 'metrics' key of both programs
start_all_hook() {
	printf 'metrics 192.0.2.1:9477\n' >"$LAB_STATE/server.conf" || return 1
	printf 'metrics 127.0.0.1:9478\n' >"$LAB_STATE/b.conf" || return 1
	SERVER_EXTRA=(--config "$LAB_STATE/server.conf")
	STUNTD_EXTRA_B=(--config "$LAB_STATE/b.conf")
}
STUNTD_EXTRA_A=(--metrics 127.0.0.1:9478)

# scrape NODE URL: the samples ("series value"), in $LAB_STATE/last.prom;
# fails (and says why) when the answer is not the text format
scrape() {
	lx "$1" python3 "$SCRAPE" scrape "$2" >"$LAB_STATE/last.prom" 2>"$LAB_STATE/last.err"
}

# val NODE URL SERIES: the value of one series (empty when absent or unreadable)
val() {
	scrape "$1" "$2" || return 0
	awk -v s="$3" '$1 == s { print $2 }' "$LAB_STATE/last.prom"
}

# check_format LABEL NODE URL PREFIX: the answer parses, and its names are the program's
check_format() {
	local n
	if scrape "$2" "$3"; then
		n=$(grep -c . "$LAB_STATE/last.prom")
		if grep -qv "^$4" "$LAB_STATE/last.prom"; then
			nok "$1: a sample not named $4*: $(grep -v "^$4" "$LAB_STATE/last.prom" | head -1)"
		else
			ok "$1: 200, text/plain; version=0.0.4, $n samples, every line parses"
		fi
	else
		nok "$1: $(cat "$LAB_STATE/last.err")"
	fi
}

# wait_val NODE URL SERIES WANT BOUND_S: the series reaches WANT within BOUND_S
wait_val() {
	local end=$((SECONDS + $5)) v
	while [ "$SECONDS" -le "$end" ]; do
		v=$(val "$1" "$2" "$3")
		[ "$v" = "$4" ] && { echo "$v"; return 0; }
		sleep 0.2
	done
	echo "$v"
	return 1
}

start_all port-restricted rst port-restricted rst || exit 1

check_format "server" srv "$SRV_URL" stunt_server_
check_format "ha's stuntd (--metrics)" ha "$D_URL" stuntd_
check_format "hb's stuntd (config 'metrics')" hb "$D_URL" stuntd_
for x in stunt_server_stunt_packets_sent_total stunt_server_udp_rate_limited_total \
	'stunt_server_signalling_requests_total{method="lookup"}' \
	'stunt_server_stunt_requests_total{outcome="rate_limited"}' \
	'stunt_server_signalling_results_total{outcome="signal_limited"}'; do
	v=$(val srv "$SRV_URL" "$x")
	[ -n "$v" ] && ok "server shows $x ($v)" || nok "server shows $x"
done

# the registrations gauge: the daemons registered
v=$(wait_val srv "$SRV_URL" stunt_server_registered 2 5)
check_eq "server: stunt_server_registered with ha and hb registered" "$v" 2
v=$(val ha "$D_URL" stuntd_registered)
check_eq "ha: stuntd_registered" "$v" 1
if start_stranger; then
	v=$(wait_val srv "$SRV_URL" stunt_server_registered 3 5)
	check_eq "server: stunt_server_registered with the stranger too" "$v" 3
fi

# stuntd's listener: the unprivileged main process's (the socket itself
# was made before the drop, as root's: the process holding it counts)
owner=$(lx ha ss -Hltnp 'sport = :9478' 2>/dev/null)
echo "# $owner"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$PID_A/status" 2>/dev/null)
if echo "$owner" | grep -q "pid=$PID_A," && [ -n "$uid" ] && [ "$uid" != 0 ] &&
	[ "$(echo "$owner" | grep -o 'pid=[0-9]*' | sort -u | wc -l)" -eq 1 ]; then
	ok "ha: the metrics listener is held by the main process alone (pid $PID_A, uid $uid)"
else
	nok "ha: the metrics listener's owner: $owner (main process $PID_A, uid '$uid')"
fi

# counters move with a connect: the winner's won counter on both sides
lookups0=$(val srv "$SRV_URL" 'stunt_server_signalling_requests_total{method="lookup"}')
bytes0=$(val hb "$D_URL" stuntd_bytes_from_peers_total)
scrape ha "$D_URL" && cp "$LAB_STATE/last.prom" "$LAB_STATE/a0.prom"
scrape hb "$D_URL" && cp "$LAB_STATE/last.prom" "$LAB_STATE/b0.prom"
out=$(ctl a '{"cmd":"connect","peer":"office-pc","service":"echo"}' 5000000)
echo "$out" | head -1 | sed 's/^/# /'
m=$(echo "$out" | head -1 | grep -o '"method":"[a-z0-9]*"' | cut -d'"' -f4)
if echo "$out" | grep -q '^sha OK 5000000' && [ -n "$m" ]; then
	ok "ha -> hb: 5 MB echoed by $m"
	for x in a b; do
		node=h$x
		won0=$(awk -v s="stuntd_method_won_total{method=\"$m\"}" '$1 == s { print $2 }' "$LAB_STATE/${x}0.prom")
		want=$((${won0:-0} + 1))
		v=$(wait_val "$node" "$D_URL" "stuntd_method_won_total{method=\"$m\"}" "$want" 5)
		check_eq "$node: stuntd_method_won_total{method=\"$m\"} up by one" "$v" "$want"
	done
	nfq0=$(awk '$1 == "stuntd_nfq_packets_total" { print $2 }' "$LAB_STATE/a0.prom")
	v=$(val ha "$D_URL" stuntd_nfq_packets_total)
	if [ -n "$v" ] && [ -n "$nfq0" ] && [ "$v" -gt "$nfq0" ]; then
		ok "ha: the privileged process's queue counted packets ($nfq0 -> $v)"
	else
		nok "ha: stuntd_nfq_packets_total did not move ($nfq0 -> $v)"
	fi
	v=$(val srv "$SRV_URL" 'stunt_server_signalling_requests_total{method="lookup"}')
	if [ -n "$v" ] && [ -n "$lookups0" ] && [ "$v" -gt "$lookups0" ]; then
		ok "server: lookups went from $lookups0 to $v"
	else
		nok "server: lookups did not move ($lookups0 -> $v)"
	fi
	v=$(val hb "$D_URL" stuntd_bytes_from_peers_total)
	if [ -n "$v" ] && [ -n "$bytes0" ] && [ "$((v - bytes0))" -ge 5000000 ]; then
		ok "hb: stuntd_bytes_from_peers_total up by $((v - bytes0)) (>= 5000000)"
	else
		nok "hb: stuntd_bytes_from_peers_total $bytes0 -> $v"
	fi
else
	nok "ha -> hb: a connect carrying 5 MB"
fi

# hostile requests: an error each, and the next scrape is served
for target in "srv 192.0.2.1 9477 server" "ha 127.0.0.1 9478 ha"; do
	read -r node ip port name <<<"$target"
	for kw in "post 405" "garbage 400" "big 431" "notfound 404" "http10 200"; do
		read -r kind want <<<"$kw"
		got=$(lx "$node" python3 "$SCRAPE" raw "$ip" "$port" "$kind" 2>&1)
		if echo "$got" | grep -q "^HTTP/1.1 $want "; then
			ok "$name: $kind request: $got"
		else
			nok "$name: $kind request: got '$got', want $want"
		fi
	done
	url=http://$ip:$port/metrics
	check_format "$name: still serving after them" "$node" "$url" ""
	v=$(val "$node" "$url" "$([ "$name" = server ] && echo stunt_server || echo stuntd)_metrics_requests_total{status=\"error\"}")
	if [ -n "$v" ] && [ "$v" -ge 4 ]; then
		ok "$name: the errors counted ($v)"
	else
		nok "$name: errors counted: '$v'"
	fi
done

# 50 idle connections: traversals and scrapes go on
lab_bg ha idle python3 "$SCRAPE" idle 127.0.0.1 9478 50 60 >/dev/null
if lab_wait_log "$LAB_STATE/idle.log" '^open 50' 15 1; then
	ok "ha: 50 idle connections to the metrics port open"
	transfer a office-pc "ha -> hb with 50 idle metrics connections"
	check_format "ha: a scrape with 50 idle connections open" ha "$D_URL" stuntd_
	v=$(val ha "$D_URL" stuntd_metrics_clients_dropped_total)
	if [ -n "$v" ] && [ "$v" -ge 42 ]; then
		ok "ha: idle clients beyond the limit closed ($v)"
	else
		nok "ha: idle clients closed: '$v'"
	fi
else
	nok "ha: 50 idle connections: $(cat "$LAB_STATE/idle.log")"
fi

# a metrics port already taken: a clear error, exit 1
out=$(lx srv timeout 10 "$SERVER" --primary 192.0.2.1 --port 4478 --alt-port 4479 --no-stunt \
	--keep-root -d --metrics 192.0.2.1:9477 2>&1)
rc=$?
if [ "$rc" = 1 ] && [ "$(echo "$out" | grep -c 'bind metrics 192.0.2.1:9477: Address already in use')" = 1 ]; then
	ok "stunt-server: metrics port taken: exit 1, $(echo "$out" | grep 'bind metrics')"
else
	nok "stunt-server: metrics port taken: exit $rc, $out"
fi
mkdir -p "$LAB_STATE/sx"
out=$(lx ha timeout 10 "$STUNTD" -d --id laptop --server "$LAB_SRV1" \
	--secret-file "$LAB_STATE/secret-a" --control "$LAB_STATE/x.sock" \
	--state-dir "$LAB_STATE/sx" --no-rules --metrics 127.0.0.1:9478 2>&1)
rc=$?
if [ "$rc" = 1 ] && echo "$out" | grep -q 'bind metrics 127.0.0.1:9478: Address already in use'; then
	ok "stuntd: metrics port taken: exit 1, $(echo "$out" | grep 'bind metrics')"
else
	nok "stuntd: metrics port taken: exit $rc, $out"
fi

stop_all
[ "${fails:-0}" -eq 0 ]
