#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two stunt-servers as one rendezvous through Redis (server/cluster.c) in
# the namespace lab (see t_stuntd.sh for the setup): redis-server in srv on
# 192.0.2.5 (no persistence, a password), server 1 the lab's stunt-server
# (192.0.2.1/.2, --server-name s1), server 2 on 192.0.2.3/.4 (s2, run as
# user daemon so that nft can cut it alone off Redis), both --redis-ttl 6.
# stuntd A (laptop) registers with server 1 and has server 2 as its second;
# stuntd B (office-pc) registers with server 2.
#   - each server sees the other's peer (its --stats JSON, SIGUSR1), a
#     LOOKUP across servers answers (stuntctl peers), connects both ways
#     carry data (a cross-server session: the indications went through
#     Redis, counted on both sides);
#   - server 2 cut off from Redis (nft in srv, its uid's packets to 6379):
#     it says so (log, stats "down"), still registers a new peer of its own
#     (the stranger), and server 1 forgets server 2's peers within the TTL;
#     the cut healed: server 2 publishes again, server 1 knows both, a
#     cross-server connect carries data;
#   - redis-server stopped until the registrations lapsed from the
#     servers' memory, then started afresh (empty): both servers publish
#     their peers again, a connect carries data;
#   - server 1 killed: A registers with server 2, a connect carries data;
#     the stranger, registered with server 1 alone, lapses from server 2's
#     memory within the TTL.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

SRV3=192.0.2.3
SRV4=192.0.2.4
REDIS=192.0.2.5
TTL=6

redis_start() {
	PID_REDIS=$(lab_bg srv redis redis-server "$LAB_STATE/redis/redis.conf")
	lab_wait_port srv tcp "$REDIS" 6379 10
}

redis_hook() {
	command -v redis-server >/dev/null || { nok "redis-server installed (tools/install-deps.sh)"; return 1; }
	lx srv ip addr add "$SRV3/24" dev eth0 || return 1
	lx srv ip addr add "$SRV4/24" dev eth0 || return 1
	lx srv ip addr add "$REDIS/24" dev eth0 || return 1
	mkdir -p "$LAB_STATE/redis"
	printf 'bind %s\nport 6379\nsave ""\nappendonly no\ndaemonize no\nrequirepass lab-redis-pw\ndir %s\n' \
		"$REDIS" "$LAB_STATE/redis" >"$LAB_STATE/redis/redis.conf"
	printf 'lab-redis-pw\n' >"$LAB_STATE/redis-pw"
	chmod 600 "$LAB_STATE/redis-pw"
	redis_start || return 1
	# server 2 runs as daemon: its own copy of the secrets
	cp "$LAB_STATE/secrets" "$LAB_STATE/secrets2"
	LAB_SERVER_USER=daemon lab_server_secrets "$LAB_STATE/secrets2" || return 1
	# -v: each request's outcome in the log (the peer found on which
	# server, forwarded through Redis), for a failure to explain itself
	local common=(--redis "$REDIS:6379" --redis-password-file "$LAB_STATE/redis-pw"
		--redis-ttl "$TTL" --stats -v)
	PID_S2=$(lab_bg srv server2 "$SERVER" --primary "$SRV3" --alternate "$SRV4" -d \
		--secrets "$LAB_STATE/secrets2" --user daemon --server-name s2 "${common[@]}")
	lab_wait_port srv tcp "$SRV4" 3479 10 || return 1
	SERVER_EXTRA=(--server-name s1 "${common[@]}")
}

# stat LOG PID PYEXPR: PYEXPR of the server's --stats JSON (j) after a
# SIGUSR1, empty when it cannot be read
stat() {
	local n
	n=$(grep -c '^{' "$1")
	kill -USR1 "$2" 2>/dev/null || return 0
	lab_wait_log "$1" '^\{' 5 $((n + 1)) || return 0
	grep '^{' "$1" | tail -1 | python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$3" 2>/dev/null
}
S1LOG=
s1() { stat "$S1LOG" "$PID_S1" "$1"; }
s2() { stat "$LAB_STATE/server2.log" "$PID_S2" "$1"; }
# wait_stat 1|2 PYEXPR WANT SECONDS: until server N's PYEXPR is WANT
wait_stat() {
	local end=$((SECONDS + $4)) got
	while [ "$SECONDS" -le "$end" ]; do
		got=$("s$1" "$2")
		[ "$got" = "$3" ] && return 0
		sleep 0.3
	done
	echo "# server $1: $2 = '$got', not '$3'"
	return 1
}
LINK='"%s %d" % (j["cluster"]["redis"], j["cluster"]["remote"])'

# online X PEER: "True ENDPOINT" / "False None" from X's peers (a LOOKUP each)
online() {
	ctl "$1" '{"cmd":"peers"}' | python3 -c 'import json,sys
for p in json.load(sys.stdin)["peers"]:
    if p["id"] == sys.argv[1]: print(p["online"], p["endpoint"])' "$2" 2>/dev/null
}

start_all_hook() { redis_hook; }
STUNTD_EXTRA_A=(--server "$SRV3")
STUNTD_SERVER_B=$SRV3
start_all port-restricted rst port-restricted rst && {
	S1LOG=$LAB_STATE/server.log
	PID_S1=$(server_pid_at "$LAB_SRV1")
	if grep -q "redis $REDIS:6379: connected as server s1" "$S1LOG" &&
		grep -q "redis $REDIS:6379: connected as server s2" "$LAB_STATE/server2.log"; then
		ok "both servers connected to Redis (AUTH with the password file)"
	else
		nok "both servers connected to Redis"
		grep redis "$S1LOG" "$LAB_STATE/server2.log" | tail -4 | sed 's/^/# /'
	fi
	if grep -q 'peer laptop registered' "$S1LOG" && grep -q 'peer office-pc registered' "$LAB_STATE/server2.log"; then
		ok "laptop registered with server 1, office-pc with server 2"
	else
		nok "laptop on server 1, office-pc on server 2"
	fi
	wait_stat 1 "$LINK" "up 1" 10 && ok "server 1 knows server 2's peer (redis up, remote 1)" ||
		nok "server 1 knows server 2's peer"
	wait_stat 2 "$LINK" "up 1" 10 && ok "server 2 knows server 1's peer (redis up, remote 1)" ||
		nok "server 2 knows server 1's peer"
	x=$(online a office-pc)
	if echo "$x" | grep -Eq '^True [0-9.]+:[0-9]+$'; then
		ok "LOOKUP across servers: office-pc online for laptop at $(echo "$x" | cut -d' ' -f2)"
	else
		nok "LOOKUP across servers: office-pc for laptop: '$x'"
	fi
	check_eq "LOOKUP across servers: laptop online for office-pc" "$(online b laptop | cut -d' ' -f1)" "True"
	transfer a office-pc "cross-server: ha (server 1) -> hb (server 2)"
	transfer b laptop "cross-server: hb (server 2) -> ha (server 1)"
	x=$(s1 '"%d %d" % (j["cluster"]["fwd_out"] > 0, j["cluster"]["fwd_in"] > 0)')
	y=$(s2 '"%d %d" % (j["cluster"]["fwd_out"] > 0, j["cluster"]["fwd_in"] > 0)')
	check_eq "indications went through Redis both ways (fwd_out, fwd_in > 0 on both servers)" "$x; $y" "1 1; 1 1"

	# server 2 cut off from Redis: its uid's packets to port 6379 dropped.
	# skuid matches only while a process holds the socket: when server 2
	# gives up the link it must reset its sockets (server/cluster.c
	# teardown), or the kernel sends what the cut held back with the FIN --
	# a refresh of office-pc from before the cut, which made server 1 find
	# it again in the check below (every run on a fast machine before the
	# fix, captured)
	lx srv nft add table inet redcut &&
		lx srv nft add chain inet redcut out '{ type filter hook output priority 0; }' &&
		lx srv nft add rule inet redcut out meta skuid daemon tcp dport 6379 drop ||
		nok "nft rule in srv"
	if lab_wait_log "$LAB_STATE/server2.log" "redis $REDIS:6379: no answer for 3 s; serving this server's own peers only" 15; then
		ok "server 2 cut off: its log says it serves its own peers only"
	else
		nok "server 2 cut off: no log line"
		tail -3 "$LAB_STATE/server2.log" | sed 's/^/# /'
	fi
	wait_stat 2 '"%s" % j["cluster"]["redis"]' down 5 && ok "server 2's stats: redis down" ||
		nok "server 2's stats: redis down"
	STRANGER_SERVER=$SRV3 start_stranger && ok "server 2 cut off still registers its own peers (the stranger)"
	wait_stat 1 "$LINK" "up 0" $((TTL + 10)) &&
		ok "server 1 forgot server 2's peer within the TTL (no refresh)" ||
		nok "server 1 forgot server 2's peer"
	expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo"}' \
		"server 1 no longer finds office-pc" "not registered|not online|offline|404" || {
		# seen once in a CI-style run (the peer found, then no answer):
		# what the servers said meanwhile
		grep -v '^{\|stats {' "$S1LOG" | tail -n 20 | sed 's/^/# server 1: /'
		grep -v '^{\|stats {' "$LAB_STATE/server2.log" | tail -n 12 | sed 's/^/# server 2: /'
	}
	lx srv nft delete table inet redcut
	if lab_wait_log "$LAB_STATE/server2.log" "connected as server s2, publishing this server's peers again" 15; then
		ok "the cut healed: server 2 connected and published its peers again"
	else
		nok "the cut healed: server 2 reconnected"
	fi
	wait_stat 1 "$LINK" "up 2" 10 && ok "server 1 knows both of server 2's peers again" ||
		nok "server 1 knows server 2's peers again"
	transfer a office-pc "after the cut: ha (server 1) -> hb (server 2)"
	kill -TERM "$PID_C"
	wait "$PID_C" 2>/dev/null
	wait_stat 1 "$LINK" "up 1" 10 && ok "the stranger gone: server 2 unpublished it, server 1 forgot it at once" ||
		nok "the stranger's unregistration reached server 1"

	# Redis stopped until the registrations lapse, then started empty
	kill -TERM "$PID_REDIS"
	wait "$PID_REDIS" 2>/dev/null
	wait_stat 1 "$LINK" "down 0" $((TTL + 10)) && wait_stat 2 "$LINK" "down 0" 5 &&
		ok "Redis stopped: both servers say so and forgot the other's peer within the TTL" ||
		nok "Redis stopped: both servers down, remote peers lapsed"
	redis_start || nok "redis-server started again"
	if lab_wait_log "$S1LOG" "connected as server s1, publishing this server's peers again" 15 &&
		lab_wait_log "$LAB_STATE/server2.log" "connected as server s2, publishing this server's peers again" 15 2; then
		ok "Redis back: both servers reconnected and published again"
	else
		nok "Redis back: both reconnected"
	fi
	wait_stat 1 "$LINK" "up 1" 10 && wait_stat 2 "$LINK" "up 1" 5 &&
		ok "Redis back (empty): each server knows the other's peer again" ||
		nok "Redis back: the registrations republished"
	transfer b laptop "after Redis restarted: hb (server 2) -> ha (server 1)"

	# server 1 killed: A moves to server 2; a stranger on server 1 alone lapses
	STRANGER_SERVER=$LAB_SRV1 start_stranger || nok "stranger on server 1"
	wait_stat 2 "$LINK" "up 2" 10 || nok "server 2 knows laptop and the stranger"
	n=$(grep -c '(server 2 of 2: ' "$LAB_STATE/stuntd-a.log")
	kill -KILL "$PID_S1" && wait "$PID_S1" 2>/dev/null
	if lab_wait_log "$LAB_STATE/stuntd-a.log" '\(server 2 of 2: ' 15 $((n + 1)); then
		ok "server 1 killed: laptop registered with server 2"
	else
		nok "server 1 killed: laptop registered with server 2"
	fi
	transfer a office-pc "after the failover: ha -> hb, both on server 2"
	wait_stat 2 "$LINK" "up 0" $((TTL + 10)) &&
		ok "the stranger on the killed server lapsed from server 2's memory within the TTL" ||
		nok "the dead server's registration lapsed"
	kill -TERM "$PID_C" 2>/dev/null
	stop_all
}
[ "$fails" -eq 0 ]
