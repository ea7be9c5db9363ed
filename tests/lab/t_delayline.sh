#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# delayline in a router namespace: a link delay without sch_netem.
#
#   A (192.0.2.1) --- ra [ R ] rb --- B (198.51.100.1)
#                  192.0.2.254  198.51.100.254
#
# R sends what arrives on ra (A->B) to NFQUEUE 1, where delayline holds each
# packet 20 ms: the UDP echo RTT from A to B must grow by 20 ms. Queuing rb
# too (B->A) makes it 40 ms. A 5 MB TCP transfer must cross the delayed link
# intact, a tiny queue must tail-drop a burst, and a second delayline on the
# same queue must refuse to start. Nothing outlives the script.
# shellcheck disable=SC2317,SC2016 # helpers run via check; bash -c args are positional
set -u
BUILD=${STUNT_BUILD:-$(dirname "$0")/../../build}
DL=$BUILD/lab/delayline
DELAY_MS=20
QUEUE=1
P=stldl$$
A=$P-a R=$P-r B=$P-b
tmp=$(mktemp -d /tmp/stldl.XXXXXX)
pids=()
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
	for ns in "$A" "$R" "$B"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

# forget PID: drop an exact pid from the list cleanup kills.
forget() {
	local p keep=()
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}

if [ ! -x "$DL" ]; then
	nok "delayline built" "$DL missing"
	exit 1
fi

# --- topology --------------------------------------------------------------
setup() {
	ip netns add "$A" && ip netns add "$R" && ip netns add "$B" || return 1
	ip -n "$A" link add eth0 type veth peer name ra netns "$R" || return 1
	ip -n "$B" link add eth0 type veth peer name rb netns "$R" || return 1
	ip -n "$A" addr add 192.0.2.1/24 dev eth0
	ip -n "$R" addr add 192.0.2.254/24 dev ra
	ip -n "$R" addr add 198.51.100.254/24 dev rb
	ip -n "$B" addr add 198.51.100.1/24 dev eth0
	for ns in "$A" "$R" "$B"; do ip -n "$ns" link set lo up; done
	ip -n "$A" link set eth0 up && ip -n "$B" link set eth0 up
	ip -n "$R" link set ra up && ip -n "$R" link set rb up
	ip -n "$A" route add default via 192.0.2.254 || return 1
	ip -n "$B" route add default via 198.51.100.254 || return 1
	ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.ra.rp_filter=0 net.ipv4.conf.rb.rp_filter=0
}

# --- helpers in python3 (no ping here) -------------------------------------
cat >"$tmp/udp_echo.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 7007))
open(sys.argv[1], "w").close()
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
EOF
# udp_rtt.py HOST COUNT INTERVAL: print the median RTT in ms and losses.
cat >"$tmp/udp_rtt.py" <<'EOF'
import socket, statistics, struct, sys, time
host, count, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, 7007))
s.settimeout(1.0)
rtts = []
for seq in range(count):
    t0 = time.perf_counter_ns()
    s.send(struct.pack("!IQ", seq, t0))
    while True:
        try:
            data = s.recv(2048)
        except socket.timeout:
            break
        if len(data) >= 4 and struct.unpack("!I", data[:4])[0] == seq:
            rtts.append((time.perf_counter_ns() - t0) / 1e6)
            break
    time.sleep(interval)
if not rtts:
    print("nan", count)
else:
    print("%.3f %d" % (statistics.median(rtts), count - len(rtts)))
EOF
# udp_burst.py HOST COUNT: send COUNT datagrams at once, print replies seen.
cat >"$tmp/udp_burst.py" <<'EOF'
import socket, sys
host, count = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.connect((host, 7007))
for i in range(count):
    s.send(b"x" * 64)
s.settimeout(0.5)
got = 0
try:
    while True:
        s.recv(2048)
        got += 1
except socket.timeout:
    pass
print(got)
EOF
cat >"$tmp/tcp_sink.py" <<'EOF'
import hashlib, socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", 5001))
ls.listen(1)
open(sys.argv[1], "w").close()
c, _ = ls.accept()
c.settimeout(30)
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
c.sendall(("%d %s\n" % (n, h.hexdigest())).encode())
c.close()
EOF
# tcp_send.py HOST BYTES: send random bytes, print "match" if the sink agrees.
cat >"$tmp/tcp_send.py" <<'EOF'
import hashlib, os, socket, sys, time
host, size = sys.argv[1], int(sys.argv[2])
data = os.urandom(size)
t0 = time.monotonic()
s = socket.create_connection((host, 5001), timeout=30)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
reply = b""
while not reply.endswith(b"\n"):
    b = s.recv(256)
    if not b:
        break
    reply += b
want = "%d %s" % (size, hashlib.sha256(data).hexdigest())
print("match" if reply.decode().strip() == want else "mismatch: " + reply.decode().strip(),
      "%.2fs" % (time.monotonic() - t0))
EOF

# wait_file PATH: up to 5 s.
wait_file() {
	local _
	for _ in $(seq 50); do [ -e "$1" ] && return 0; sleep 0.1; done
	return 1
}

# start_delayline NAME ARGS...: run delayline in R; its pid in $dlpid.
start_delayline() {
	local name=$1
	shift
	rm -f "$tmp/$name.ready"
	ip netns exec "$R" "$DL" --queue "$QUEUE" --ready-file "$tmp/$name.ready" "$@" \
		2>"$tmp/$name.err" &
	dlpid=$!
	pids+=("$dlpid")
	wait_file "$tmp/$name.ready" && grep -qx ready "$tmp/$name.ready"
}

# stop_delayline: SIGTERM, expect exit 0 and the summary line.
stop_delayline() {
	local rc
	kill -TERM "$dlpid" 2>/dev/null
	wait "$dlpid"
	rc=$?
	forget "$dlpid"
	[ "$rc" -eq 0 ]
}

rtt() { ip netns exec "$A" timeout 15 python3 "$tmp/udp_rtt.py" 198.51.100.1 20 0.05; }

# within GOT WANT TOL: |GOT - WANT| <= TOL
within() { awk -v g="$1" -v w="$2" -v t="$3" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(g == g + 0 && d <= t) }'; }

# --- tests -------------------------------------------------------------------
check_cmd "bad arguments rejected" bash -c '! "$0" --queue x --delay-ms 1 2>/dev/null && ! "$0" --delay-ms 1 2>/dev/null && "$0" --help >/dev/null' "$DL"

if ! setup; then
	nok "namespaces set up"
	exit 1
fi
ok "namespaces set up"

ip netns exec "$B" python3 "$tmp/udp_echo.py" "$tmp/echo.ready" &
pids+=($!)
check_cmd "udp echo server up" wait_file "$tmp/echo.ready"

read -r base base_lost < <(rtt)
check_cmd "baseline rtt measured ($base ms, $base_lost lost)" within "$base" 0 5

ip netns exec "$R" iptables -t mangle -A PREROUTING -i ra -j NFQUEUE --queue-num "$QUEUE"
check_cmd "delayline bound, ready file written" start_delayline one --delay-ms $DELAY_MS

check_cmd "second delayline on a held queue refused" \
	bash -c '! ip netns exec "$0" "$1" --queue "$2" --delay-ms 1 2>"$3"' "$R" "$DL" "$QUEUE" "$tmp/busy.err"

read -r one one_lost < <(rtt)
d1=$(awk -v a="$one" -v b="$base" 'BEGIN { printf "%.3f", a - b }')
check_cmd "one way delayed: rtt +$d1 ms (want ${DELAY_MS}±3, $one_lost lost)" \
	within "$d1" $DELAY_MS 3

ip netns exec "$R" iptables -t mangle -A PREROUTING -i rb -j NFQUEUE --queue-num "$QUEUE"
read -r two two_lost < <(rtt)
d2=$(awk -v a="$two" -v b="$base" 'BEGIN { printf "%.3f", a - b }')
check_cmd "both ways delayed: rtt +$d2 ms (want $((2 * DELAY_MS))±4, $two_lost lost)" \
	within "$d2" $((2 * DELAY_MS)) 4

ip netns exec "$B" python3 "$tmp/tcp_sink.py" "$tmp/sink.ready" &
pids+=($!)
if wait_file "$tmp/sink.ready"; then
	tcp=$(ip netns exec "$A" timeout 40 python3 "$tmp/tcp_send.py" 198.51.100.1 5000000 2>&1)
else
	tcp="sink did not start"
fi
check_cmd "5 MB TCP through the delayed link intact ($tcp)" [ "${tcp%% *}" = match ]

check_cmd "SIGTERM: exit 0" stop_delayline
check_cmd "SIGTERM: summary printed" grep -q "delayed, .* dropped" "$tmp/one.err"
echo "# $(tail -n1 "$tmp/one.err")"

# A four-packet queue cannot hold a 200-datagram burst: the rest tail-drops.
check_cmd "tiny queue bound" start_delayline tiny --delay-ms $DELAY_MS --maxlen 4
got=$(ip netns exec "$A" timeout 10 python3 "$tmp/udp_burst.py" 198.51.100.1 200)
check_cmd "tiny queue tail-drops a burst ($got of 200 echoed)" \
	bash -c '[ "$0" -ge 1 ] && [ "$0" -lt 200 ]' "${got:-0}"
check_cmd "tiny queue: SIGTERM exit 0" stop_delayline

cleanup
left=$(ip netns list | grep -c "^$P-")
check_cmd "namespaces removed" [ "$left" -eq 0 ]
exit $((fails > 0))
