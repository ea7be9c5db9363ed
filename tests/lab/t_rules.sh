#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lab test for tools/stunt-rules, entirely inside throwaway network namespaces.
#
# For each iptables backend (iptables-nft, iptables-legacy) in its own pair of
# namespaces A (192.0.2.1, host under test) and B (192.0.2.2, peer/router):
#   - install; install; remove leaves the rule set (with unrelated rules in it)
#     exactly as it was; status exit codes; --json; --queue-bypass is the
#     default (install without options), --fail-closed leaves it out;
#     --gateway is a usage error; the gateway part an older version installed
#     (made here by hand) is shown by status and deleted by install and by
#     remove; --dry-run changes nothing; non-root refused;
#   - with --fail-closed and no listener a marked connection does not
#     connect (its SYN is dropped by the queue), an unmarked one does;
#   - with rules installed (--queue-bypass, no listener) a marked TCP connection
#     still connects, its SYN is counted by STUNT-OUT's NFQUEUE rules and its
#     SYN-ACK by STUNT-IN's (connmark saved from the first SYN), an unmarked
#     connection is not counted; the ICMP time-exceeded answering a TTL-1
#     marked SYN (B routes it back and drops it) is counted by STUNT-IN's
#     RELATED-ICMP rule;
#   - on a NAT gateway the host rules queue its own marked connection and
#     none of the connections it forwards;
#   - IPv6 (2001:db8:12::1 and ::2 on the same link): install puts the same
#     chains, jumps and rules (ICMPv6 for ICMP) into ip6tables of the same
#     backend, install twice == once, remove restores ip6tables-save exactly;
#     a marked IPv6 connection's SYN and SYN-ACK are counted, an unmarked one
#     is not, and the ICMPv6 time exceeded answering a hop-limit-1 marked SYN
#     is counted by STUNT-IN's RELATED rule;
#   - without ip6tables, or with an ip6tables that cannot add the rules, install
#     succeeds for IPv4 with exactly one warning, and status and remove work.
# Never runs iptables or ip6tables in the root namespace.
set -u

RULES=$(cd "$(dirname "$0")/../../tools" && pwd)/stunt-rules
P=stlrules$$
MARK=0x7421
QUEUE=7421
PORT=8421
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
srvpid=

cleanup() {
	trap - EXIT INT TERM
	[ -n "$srvpid" ] && kill "$srvpid" 2>/dev/null
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P-"); do
		ip netns del "$ns" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - t_rules needs root (network namespaces)"
	exit 1
fi
[ -x "$RULES" ] || { echo "not ok - $RULES missing or not executable"; exit 1; }

# ----------------------------------------------------------------- checks
# command-line behaviour (in a namespace too, though none of it should get as
# far as changing a rule)
ip netns add "$P-cli" || { echo "not ok - cannot create a network namespace"; exit 1; }
RULES_CLI=$RULES
RULES="ip netns exec $P-cli $RULES_CLI"
out=$($RULES --help 2>&1); rc=$?
check_cmd "--help exits 0 and documents exit codes" \
	test $rc -eq 0 -a -n "$(echo "$out" | grep -i 'exit status')"
$RULES install --queue 70000 >/dev/null 2>&1; rc=$?
check_cmd "bad --queue is a usage error (2)" test $rc -eq 2
$RULES install --mark 0x10000/0xffff >/dev/null 2>&1; rc=$?
check_cmd "mark outside mask is a usage error (2)" test $rc -eq 2
$RULES frobnicate >/dev/null 2>&1; rc=$?
check_cmd "unknown command is a usage error (2)" test $rc -eq 2
$RULES install --queue-bypass --fail-closed >/dev/null 2>&1; rc=$?
check_cmd "--queue-bypass with --fail-closed is a usage error (2)" test $rc -eq 2
out=$(ip netns exec "$P-cli" setpriv --reuid=65534 --regid=65534 --clear-groups "$RULES_CLI" install --dry-run 2>&1)
n0=$(echo "$out" | grep -c -- '-j NFQUEUE --queue-num 7421 --queue-bypass$')
n1=$(echo "$out" | grep -c -- '-j NFQUEUE')
check_cmd "install without options: --queue-bypass on every NFQUEUE target ($n0/$n1, fail-open)" \
	test "$n0" -eq "$n1" -a "$n0" -ge 8 -a -n "$(echo "$out" | grep -- '^# .*, queue-bypass$')"
out=$(ip netns exec "$P-cli" setpriv --reuid=65534 --regid=65534 --clear-groups "$RULES_CLI" install --dry-run --fail-closed 2>&1)
n1=$(echo "$out" | grep -c -- '-j NFQUEUE')
check_cmd "install --fail-closed: no --queue-bypass on its $n1 NFQUEUE targets" \
	test "$n1" -ge 8 -a -z "$(echo "$out" | grep -- '--queue-bypass')" -a -n "$(echo "$out" | grep -- '^# .*, fail-closed$')"
out=$(ip netns exec "$P-cli" setpriv --reuid=65534 --regid=65534 --clear-groups "$RULES_CLI" install 2>&1); rc=$?
check_cmd "non-root refused with exit 4 and a message" \
	test $rc -eq 4 -a -n "$(echo "$out" | grep -i root)"
out=$(ip netns exec "$P-cli" setpriv --reuid=65534 --regid=65534 --clear-groups "$RULES_CLI" install --dry-run --queue-bypass 2>&1); rc=$?
check_cmd "--dry-run works without root and prints iptables commands" \
	test $rc -eq 0 -a -n "$(echo "$out" | grep -- '-j NFQUEUE --queue-num 7421 --queue-bypass')"
check_cmd "install touches no chain but OUTPUT, INPUT, STUNT-OUT, STUNT-IN (mangle), PREROUTING, STUNT-PRE (raw)" \
	test -z "$(echo "$out" | grep -v '^#' | grep -v -E -- ' -t mangle -(N|A|I) (OUTPUT|INPUT|STUNT-OUT|STUNT-IN)( |$)' |
		grep -v -E -- ' -t raw -(N|A|I) (PREROUTING|STUNT-PRE)( |$)')"
out=$($RULES install --gateway 2>&1); rc=$?
check_cmd "--gateway (removed) is a one-line usage error (2)" \
	test $rc -eq 2 -a "$(echo "$out" | wc -l)" -eq 1 \
	-a -n "$(echo "$out" | grep -- "^stunt-rules: --gateway .* (try 'stunt-rules --help')\$")"
check_cmd "CLI checks left the namespace's rule set empty (both families)" \
	test -z "$(ip netns exec "$P-cli" iptables-nft-save 2>/dev/null; ip netns exec "$P-cli" cat /proc/net/ip_tables_names;
		ip netns exec "$P-cli" ip6tables-nft-save 2>/dev/null; ip netns exec "$P-cli" cat /proc/net/ip6_tables_names)"
ip netns del "$P-cli"
RULES=$RULES_CLI

# ----------------------------------------------------------------- helpers
# same NAME EXPECTED GOT: equal rule sets, or the diff
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		nok "$1"
		diff <(echo "$2") <(echo "$3") | sed 's/^/# /'
	fi
}

# save NS BK: normalised iptables-save (no comment lines, no counters)
save() {
	ip netns exec "$1" "iptables-$2-save" 2>/dev/null | grep -v '^#' |
		sed -E 's/ ?\[[0-9]+:[0-9]+\]//'
}

# save6 NS BK: the same for ip6tables
save6() {
	ip netns exec "$1" "ip6tables-$2-save" 2>/dev/null | grep -v '^#' |
		sed -E 's/ ?\[[0-9]+:[0-9]+\]//'
}

# nftsave NS: nft ruleset without counter values
nftsave() {
	ip netns exec "$1" nft list ruleset 2>/dev/null |
		sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'
}

# qcount NS BK CHAIN [PATTERN]: sum of packet counters of the NFQUEUE rules
# (optionally only those whose line matches PATTERN) of a mangle chain
qcount() {
	ip netns exec "$1" "iptables-$2" -w 5 -t mangle -L "$3" -v -x -n 2>/dev/null |
		awk -v pat="${4:-.}" '/NFQUEUE/ && $0 ~ pat { s += $1 } END { print s + 0 }'
}

# qcount6 NS BK CHAIN [PATTERN]: the same for ip6tables
qcount6() {
	ip netns exec "$1" "ip6tables-$2" -w 5 -t mangle -L "$3" -v -x -n 2>/dev/null |
		awk -v pat="${4:-.}" '/NFQUEUE/ && $0 ~ pat { s += $1 } END { print s + 0 }'
}

# client NS MARK HOST [TTL]: connect from NS (IPv6 when HOST has a ':');
# with TTL (hop limit), only send a SYN
client() {
	ip netns exec "$1" python3 - "$2" "$3" "$PORT" "${4:-0}" <<'EOF'
import socket, sys, time
mark, host, port, ttl = int(sys.argv[1], 0), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
v6 = ":" in host
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
if mark:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
if ttl:
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    s.setblocking(False)
    s.connect_ex((host, port))
    time.sleep(0.5)
    s.close()
    sys.exit(0)
s.settimeout(3)
s.connect((host, port))
s.sendall(b"x")
ok = s.recv(1) == b"x"
s.close()
sys.exit(0 if ok else 1)
EOF
}

SERVER='
import socket, select
ls = []
for fam, a in ((socket.AF_INET, "192.0.2.2"), (socket.AF_INET6, "2001:db8:12::2")):
    l = socket.socket(fam); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try: l.bind((a, %d))
    except OSError: continue    # the gateway test has no IPv6
    l.listen(16); ls.append(l)
while True:
    r, _, _ = select.select(ls, [], [], 50)
    if not r: break
    c, _ = r[0].accept(); c.settimeout(3)
    try: c.sendall(c.recv(1))
    except OSError: pass
    c.close()
'

# setup BK: namespaces $P-BK-a / $P-BK-b joined by a veth
setup() {
	local a=$P-$1-a b=$P-$1-b
	ip netns add "$a" && ip netns add "$b" || return 1
	ip link add stla0 netns "$a" type veth peer name stlb0 netns "$b" || return 1
	local ns
	for ns in "$a" "$b"; do
		ip netns exec "$ns" ip link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	done
	ip netns exec "$a" ip addr add 192.0.2.1/24 dev stla0
	ip netns exec "$b" ip addr add 192.0.2.2/24 dev stlb0
	ip netns exec "$a" ip addr add 2001:db8:12::1/64 dev stla0 nodad
	ip netns exec "$b" ip addr add 2001:db8:12::2/64 dev stlb0 nodad
	ip netns exec "$a" ip link set stla0 up
	ip netns exec "$b" ip link set stlb0 up
	# B is a router for 198.51.100.0/24 (back out the same link): a TTL-1
	# SYN from A to 198.51.100.2 dies in B with ICMP time-exceeded.
	ip netns exec "$a" ip route add 198.51.100.0/24 via 192.0.2.2
	ip netns exec "$b" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0
	ip netns exec "$b" ip route add 198.51.100.0/24 via 192.0.2.1
	# the same for IPv6: a hop-limit-1 SYN to 2001:db8:99::2 dies in B
	ip netns exec "$a" ip -6 route add 2001:db8:99::/64 via 2001:db8:12::2
	ip netns exec "$b" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip netns exec "$b" ip -6 route add 2001:db8:99::/64 via 2001:db8:12::1
	ip netns exec "$a" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.stla0.rp_filter=0
	ip netns exec "$b" sysctl -qw net.ipv4.conf.stlb0.rp_filter=0
}

# unrelated rules that must survive: mangle, raw and filter, including a
# rule tagged "stunt" that is not one of stunt-rules' jumps
preexisting() {
	local ns=$1 ipt="ip netns exec $1 iptables-$2 -w 5"
	$ipt -t mangle -A OUTPUT -p udp --dport 9 -j MARK --set-mark 0x1 &&
		$ipt -t mangle -A OUTPUT -m comment --comment stunt -j RETURN -p udp --dport 7 &&
		$ipt -t mangle -A INPUT -p tcp --dport 9 -j ACCEPT &&
		$ipt -t mangle -A FORWARD -p tcp --dport 9 -j ACCEPT &&
		$ipt -t mangle -A PREROUTING -p udp --dport 9 -j ACCEPT &&
		$ipt -t mangle -N USER-MANGLE &&
		$ipt -t mangle -A USER-MANGLE -j RETURN &&
		$ipt -t raw -A PREROUTING -p udp --dport 9 -j ACCEPT &&
		$ipt -t filter -A INPUT -p tcp --dport 9 -j DROP &&
		$ipt -t filter -A OUTPUT -m comment --comment stunt-other -j ACCEPT &&
		$ipt -t filter -N USER-FILTER &&
		$ipt -t filter -A FORWARD -j USER-FILTER || return 1
	ipt="ip netns exec $1 ip6tables-$2 -w 5"
	$ipt -t mangle -A OUTPUT -p udp --dport 9 -j MARK --set-mark 0x1 &&
		$ipt -t mangle -A OUTPUT -m comment --comment stunt -j RETURN -p udp --dport 7 &&
		$ipt -t mangle -A INPUT -p tcp --dport 9 -j ACCEPT &&
		$ipt -t mangle -N USER-MANGLE6 &&
		$ipt -t raw -A PREROUTING -p tcp --dport 9 -j ACCEPT &&
		$ipt -t filter -A INPUT -p tcp --dport 9 -j DROP
}

# old_gateway NS BK: the gateway part an older stunt-rules installed with
# --gateway (queue 7421, fail-closed), with a selector in STUNT-SEL
old_gateway() {
	local ipt="ip netns exec $1 iptables-$2 -w 5 -t mangle"
	local m="$MARK/0xffffffff"
	$ipt -N STUNT-SEL &&
		$ipt -A STUNT-SEL -s 192.0.2.9 -p tcp --sport 4000 -j MARK --set-xmark "$m" &&
		$ipt -N STUNT-FWD &&
		$ipt -A STUNT-FWD -j STUNT-SEL &&
		$ipt -A STUNT-FWD -m mark --mark "$m" -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff &&
		$ipt -A STUNT-FWD -p tcp -m connmark --mark "$m" -m tcp --tcp-flags SYN SYN -j NFQUEUE --queue-num "$QUEUE" &&
		$ipt -A STUNT-FWD -p tcp -m connmark --mark "$m" -m tcp --tcp-flags RST RST -j NFQUEUE --queue-num "$QUEUE" &&
		$ipt -A STUNT-FWD -p udp -m connmark --mark "$m" -j NFQUEUE --queue-num "$QUEUE" &&
		$ipt -A STUNT-FWD -p icmp -m conntrack --ctstate RELATED -m connmark --mark "$m" -j NFQUEUE --queue-num "$QUEUE" &&
		$ipt -I FORWARD 1 -m comment --comment stunt -j STUNT-FWD
}

# no_old_gateway NS BK: nothing of old_gateway left
no_old_gateway() {
	local out; out=$(save "$1" "$2")
	! echo "$out" | grep -q -e STUNT-FWD -e STUNT-SEL &&
		! echo "$out" | grep -q -- '^-A FORWARD .*stunt'
}

# first_rules LABEL NS BINARY: our jumps head OUTPUT and INPUT, and the
# CONNMARK --save-mark rule heads STUNT-OUT (iptables or ip6tables)
first_rules() {
	local S="ip netns exec $2 $3 -t mangle -S"
	check_cmd "$1 jumps are first in OUTPUT and INPUT" test \
		"$($S OUTPUT | sed -n 2p)" = "-A OUTPUT -m comment --comment stunt -j STUNT-OUT" \
		-a "$($S INPUT | sed -n 2p)" = "-A INPUT -m comment --comment stunt -j STUNT-IN"
	check_cmd "$1 CONNMARK --save-mark is STUNT-OUT's first rule" test \
		"$($S STUNT-OUT | sed -n 2p)" = \
		"-A STUNT-OUT -m mark --mark $MARK -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff"
}

# ----------------------------------------------------------------- per backend
run_backend() {
	local bk=$1 t="[$1]" a=$P-$1-a b=$P-$1-b
	local R="ip netns exec $a $RULES"
	local before after1 after2 out rc n0 n1 i0 i1 c0 c1

	preexisting "$a" "$bk" || { nok "$t pre-existing rules could be added"; return; }
	before=$(save "$a" "$bk")
	local before6 after61 after62
	before6=$(save6 "$a" "$bk")
	local nft_before=""
	[ "$bk" = nft ] && command -v nft >/dev/null && nft_before=$(nftsave "$a")

	$R status --backend "$bk" >/dev/null 2>&1; rc=$?
	check_cmd "$t status before install exits 3" test $rc -eq 3

	out=$($R install --dry-run --backend "$bk" 2>&1); rc=$?
	check_cmd "$t --dry-run changes nothing" test $rc -eq 0 -a "$(save "$a" "$bk")" = "$before" \
		-a "$(save6 "$a" "$bk")" = "$before6"
	check_cmd "$t --dry-run prints the ip6tables commands after the iptables ones" \
		test -n "$(echo "$out" | grep -- "^# IPv6: ip6tables-$bk\$")" \
		-a "$(echo "$out" | grep -c -- "^ip6tables-$bk -t mangle -A STUNT-")" -eq 10 \
		-a "$(echo "$out" | grep -c -- "^ip6tables-$bk -t raw -A STUNT-PRE ")" -eq 1 \
		-a -n "$(echo "$out" | grep -- "^ip6tables-$bk -t mangle -A STUNT-IN -p ipv6-icmp -m conntrack --ctstate RELATED ")"

	out=$($R install --backend "$bk" --queue-bypass 2>&1); rc=$?
	after1=$(save "$a" "$bk")
	after61=$(save6 "$a" "$bk")
	check_cmd "$t install says it covers IPv6, and warns of nothing" \
		test -n "$(echo "$out" | grep -- "^stunt-rules: installed ($bk backend, iptables-$bk, ip6tables-$bk): ")" \
		-a "$(echo "$out" | wc -l)" -eq 1
	# the second without options: the same rules (bypass is the default)
	$R install --backend "$bk" >/dev/null; rc=$((rc + $?))
	after2=$(save "$a" "$bk")
	after62=$(save6 "$a" "$bk")
	check_cmd "$t install twice exits 0" test $rc -eq 0
	check_cmd "$t install twice == install once" test "$after1" = "$after2" -a "$after1" != "$before"
	n0=$(echo "$after2" | grep -c -- '-A OUTPUT -m comment --comment stunt -j STUNT-OUT$')
	n1=$(echo "$after2" | grep -c -- '-A INPUT -m comment --comment stunt -j STUNT-IN$')
	check_cmd "$t one tagged jump each from OUTPUT and INPUT" test "$n0" -eq 1 -a "$n1" -eq 1
	first_rules "$t" "$a" "iptables-$bk"
	n0=$(echo "$after2" | grep -c -- "-j NFQUEUE --queue-num $QUEUE --queue-bypass\$")
	n1=$(echo "$after2" | grep -c -- "-j NFQUEUE")
	check_cmd "$t --queue-bypass on every NFQUEUE rule ($n0/$n1)" test "$n0" -eq "$n1" -a "$n0" -ge 8
	check_cmd "$t RELATED ICMP with connmark queued in STUNT-IN" test -n \
		"$(echo "$after2" | grep -- "-A STUNT-IN -p icmp -m conntrack --ctstate RELATED -m connmark --mark $MARK -j NFQUEUE")"
	# inbound RSTs to a socket of ours before conntrack: raw PREROUTING,
	# jumped to last (the operator's raw rules first)
	check_cmd "$t RSTs to local sockets queued in raw STUNT-PRE, jumped to last from PREROUTING" test \
		"$(ip netns exec "$a" "iptables-$bk" -w 5 -t raw -S PREROUTING | tail -1)" = \
		"-A PREROUTING -m comment --comment stunt -j STUNT-PRE" \
		-a "$(ip netns exec "$a" "iptables-$bk" -w 5 -t raw -S PREROUTING | sed -n 2p)" = \
		"-A PREROUTING -p udp -m udp --dport 9 -j ACCEPT" \
		-a "$(ip netns exec "$a" "iptables-$bk" -w 5 -t raw -S STUNT-PRE | sed -n 2p)" = \
		"-A STUNT-PRE ! -i lo -p tcp -m tcp --tcp-flags RST RST -m socket -j NFQUEUE --queue-num $QUEUE --queue-bypass"

	# --- the same rules in ip6tables
	check_cmd "$t [ip6] install twice == install once" test "$after61" = "$after62" -a "$after61" != "$before6"
	check_cmd "$t [ip6] the same chains and rules as iptables, ICMPv6 for ICMP" test \
		"$(echo "$after62" | grep -E -- '^-A (STUNT-|OUTPUT -m comment --comment stunt -j|INPUT -m comment --comment stunt -j)')" = \
		"$(echo "$after2" | grep -E -- '^-A (STUNT-|OUTPUT -m comment --comment stunt -j|INPUT -m comment --comment stunt -j)' | sed 's/ -p icmp / -p ipv6-icmp /')"
	first_rules "$t [ip6]" "$a" "ip6tables-$bk"
	n0=$(echo "$after62" | grep -c -- "-j NFQUEUE --queue-num $QUEUE --queue-bypass\$")
	n1=$(echo "$after62" | grep -c -- "-j NFQUEUE")
	check_cmd "$t [ip6] --queue-bypass on every NFQUEUE rule ($n0/$n1)" test "$n0" -eq "$n1" -a "$n0" -eq 10
	check_cmd "$t [ip6] RSTs to local sockets queued in raw STUNT-PRE" test \
		"$(ip netns exec "$a" "ip6tables-$bk" -w 5 -t raw -S STUNT-PRE | sed -n 2p)" = \
		"-A STUNT-PRE ! -i lo -p tcp -m tcp --tcp-flags RST RST -m socket -j NFQUEUE --queue-num $QUEUE --queue-bypass"
	check_cmd "$t [ip6] RELATED ICMPv6 with connmark queued in STUNT-IN" test -n \
		"$(echo "$after62" | grep -- "-A STUNT-IN -p ipv6-icmp -m conntrack --ctstate RELATED -m connmark --mark $MARK -j NFQUEUE")"

	$R status --backend "$bk" >/dev/null 2>&1; rc=$?
	check_cmd "$t status after install exits 0" test $rc -eq 0
	$R status >/dev/null 2>&1; rc=$?
	check_cmd "$t status (auto backend) finds the rules" test $rc -eq 0
	out=$($R status --json --backend "$bk" 2>/dev/null)
	check_cmd "$t status --json" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["installed"] is True and d["queue"] == 7421 and d["queue_bypass"] is True, d
assert "gateway" not in d and d["backend"] == sys.argv[2], d
assert d["chains"] == ["STUNT-OUT", "STUNT-IN", "STUNT-PRE"] and len(d["rules"]) == 11, d
assert d["table"] == "mangle" and d["tables"] == ["mangle", "raw"], d
v6 = d["ipv6"]
assert v6["state"] == "installed" and v6["binary"] == "ip6tables-" + sys.argv[2], v6
assert v6["chains"] == ["STUNT-OUT", "STUNT-IN", "STUNT-PRE"] and len(v6["rules"]) == len(d["rules"]), v6
' "$out" "$bk"

	# --- real packets: marked connection with bypass and no listener
	ip netns exec "$b" python3 -c "$(printf "$SERVER" "$PORT")" &
	srvpid=$!
	for _ in $(seq 50); do
		ip netns exec "$b" ss -ltn 2>/dev/null | grep -q ":$PORT " && break
		sleep 0.1
	done
	c0=$(qcount "$a" "$bk" STUNT-OUT); i0=$(qcount "$a" "$bk" STUNT-IN)
	check_cmd "$t marked connection connects (queue bypass, no daemon)" client "$a" "$MARK" 192.0.2.2
	c1=$(qcount "$a" "$bk" STUNT-OUT); i1=$(qcount "$a" "$bk" STUNT-IN)
	check_cmd "$t marked SYN counted by STUNT-OUT NFQUEUE ($c0 -> $c1)" test "$c1" -gt "$c0"
	check_cmd "$t SYN-ACK of marked connection counted by STUNT-IN NFQUEUE ($i0 -> $i1)" test "$i1" -gt "$i0"
	c0=$c1 i0=$i1
	check_cmd "$t unmarked connection connects" client "$a" 0 192.0.2.2
	c1=$(qcount "$a" "$bk" STUNT-OUT); i1=$(qcount "$a" "$bk" STUNT-IN)
	check_cmd "$t unmarked connection not queued ($c0 -> $c1, $i0 -> $i1)" test "$c1" -eq "$c0" -a "$i1" -eq "$i0"
	i0=$(qcount "$a" "$bk" STUNT-IN RELATED)
	client "$a" "$MARK" 198.51.100.2 1
	i1=$(qcount "$a" "$bk" STUNT-IN RELATED)
	check_cmd "$t time-exceeded for TTL-1 marked SYN counted by RELATED-ICMP rule ($i0 -> $i1)" test "$i1" -gt "$i0"
	i0=$i1
	client "$a" 0 198.51.100.2 1
	i1=$(qcount "$a" "$bk" STUNT-IN RELATED)
	check_cmd "$t time-exceeded for unmarked SYN not queued ($i0 -> $i1)" test "$i1" -eq "$i0"

	# --- the same over IPv6, counted by the ip6tables rules
	c0=$(qcount6 "$a" "$bk" STUNT-OUT); i0=$(qcount6 "$a" "$bk" STUNT-IN)
	check_cmd "$t [ip6] marked connection connects (queue bypass, no daemon)" client "$a" "$MARK" 2001:db8:12::2
	c1=$(qcount6 "$a" "$bk" STUNT-OUT); i1=$(qcount6 "$a" "$bk" STUNT-IN)
	check_cmd "$t [ip6] marked SYN counted by STUNT-OUT NFQUEUE ($c0 -> $c1)" test "$c1" -gt "$c0"
	check_cmd "$t [ip6] SYN-ACK of marked connection counted by STUNT-IN NFQUEUE ($i0 -> $i1)" test "$i1" -gt "$i0"
	c0=$c1 i0=$i1
	check_cmd "$t [ip6] unmarked connection connects" client "$a" 0 2001:db8:12::2
	c1=$(qcount6 "$a" "$bk" STUNT-OUT); i1=$(qcount6 "$a" "$bk" STUNT-IN)
	check_cmd "$t [ip6] unmarked connection not queued ($c0 -> $c1, $i0 -> $i1)" test "$c1" -eq "$c0" -a "$i1" -eq "$i0"
	i0=$(qcount6 "$a" "$bk" STUNT-IN RELATED)
	client "$a" "$MARK" 2001:db8:99::2 1
	i1=$(qcount6 "$a" "$bk" STUNT-IN RELATED)
	check_cmd "$t [ip6] ICMPv6 time exceeded for hop-limit-1 marked SYN counted by the RELATED rule ($i0 -> $i1)" \
		test "$i1" -gt "$i0"
	i0=$i1
	client "$a" 0 2001:db8:99::2 1
	i1=$(qcount6 "$a" "$bk" STUNT-IN RELATED)
	check_cmd "$t [ip6] ICMPv6 time exceeded for unmarked SYN not queued ($i0 -> $i1)" test "$i1" -eq "$i0"

	# --- --fail-closed: no bypass, so a marked SYN waits for a queue reader
	# that is not there and is dropped
	$R install --backend "$bk" --fail-closed >/dev/null; rc=$?
	out=$(save "$a" "$bk")
	n1=$(echo "$out" | grep -c -- "-j NFQUEUE")
	check_cmd "$t install --fail-closed: no --queue-bypass on its $n1 NFQUEUE rules" \
		test $rc -eq 0 -a "$n1" -ge 8 -a -z "$(echo "$out" | grep -- --queue-bypass)"
	out=$(save6 "$a" "$bk")
	n1=$(echo "$out" | grep -c -- "-j NFQUEUE")
	check_cmd "$t [ip6] install --fail-closed: no --queue-bypass on its $n1 NFQUEUE rules" \
		test "$n1" -eq 10 -a -z "$(echo "$out" | grep -- --queue-bypass)"
	if client "$a" "$MARK" 192.0.2.2 2>/dev/null; then
		nok "$t fail-closed: a marked connection connected although nothing reads the queue"
	else
		ok "$t fail-closed: a marked connection does not connect while nothing reads the queue"
	fi
	check_cmd "$t fail-closed: an unmarked connection still connects" client "$a" 0 192.0.2.2
	$R install --backend "$bk" >/dev/null
	out=$(save "$a" "$bk")
	n0=$(echo "$out" | grep -c -- "-j NFQUEUE --queue-num $QUEUE --queue-bypass\$")
	n1=$(echo "$out" | grep -c -- "-j NFQUEUE")
	check_cmd "$t install without options puts --queue-bypass back ($n0/$n1)" test "$n0" -eq "$n1" -a "$n0" -ge 8
	check_cmd "$t fail-open again: a marked connection connects" client "$a" "$MARK" 192.0.2.2
	kill "$srvpid" 2>/dev/null; wait "$srvpid" 2>/dev/null; srvpid=
	# ip6tables-legacy's -C does not compare the NFQUEUE options: another
	# queue number must still refill the chains of both families
	$R install --backend "$bk" --queue $((QUEUE + 1)) >/dev/null
	n0=$(save "$a" "$bk" | grep -c -- "-j NFQUEUE --queue-num $((QUEUE + 1)) --queue-bypass\$")
	n1=$(save6 "$a" "$bk" | grep -c -- "-j NFQUEUE --queue-num $((QUEUE + 1)) --queue-bypass\$")
	check_cmd "$t install --queue $((QUEUE + 1)) moves every NFQUEUE rule of both families ($n0, $n1)" \
		test "$n0" -eq 10 -a "$n1" -eq 10
	$R install --backend "$bk" >/dev/null

	# --- upgrade: the gateway part of an older version (--gateway)
	after1=$(save "$a" "$bk")
	old_gateway "$a" "$bk" || nok "$t an older version's gateway part could be made by hand"
	check_cmd "$t (the old gateway part is in place: FORWARD jump, STUNT-FWD, STUNT-SEL)" \
		test -n "$(save "$a" "$bk" | grep -- '^-A FORWARD -m comment --comment stunt -j STUNT-FWD$')" \
		-a -n "$(save "$a" "$bk" | grep -- '^-A STUNT-SEL -s 192.0.2.9/32')"
	out=$($R status --backend "$bk" 2>&1); rc=$?
	check_cmd "$t status names the old gateway part" \
		test $rc -eq 0 -a -n "$(echo "$out" | grep 'older stunt-rules.*STUNT-FWD STUNT-SEL')"
	out=$($R status --json --backend "$bk" 2>/dev/null)
	check_cmd "$t status --json lists its chains" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["installed"] is True and "gateway" not in d, d
assert d["chains"] == ["STUNT-OUT", "STUNT-IN", "STUNT-PRE", "STUNT-FWD", "STUNT-SEL"], d
assert "-A FORWARD -m comment --comment stunt -j STUNT-FWD" in d["jumps"], d
' "$out"
	$R install --backend "$bk" >/dev/null; rc=$?
	check_cmd "$t install deletes the old gateway part and keeps the rest" \
		test $rc -eq 0 -a "$(save "$a" "$bk")" = "$after1"
	old_gateway "$a" "$bk" || nok "$t the old gateway part could be made by hand again"

	# --- remove (with the old gateway part in place)
	$R remove --backend "$bk" >/dev/null; rc=$?
	check_cmd "$t remove exits 0" test $rc -eq 0
	check_cmd "$t remove deletes the old gateway part: no STUNT-FWD, STUNT-SEL or FORWARD jump" \
		no_old_gateway "$a" "$bk"
	same "$t install; install; remove leaves iptables-save exactly as before" "$before" "$(save "$a" "$bk")"
	same "$t install; install; remove leaves ip6tables-save exactly as before" "$before6" "$(save6 "$a" "$bk")"
	[ -z "$nft_before" ] || same "$t nft list ruleset unchanged too" "$nft_before" "$(nftsave "$a")"
	$R status --backend "$bk" >/dev/null 2>&1; rc=$?
	check_cmd "$t status after remove exits 3" test $rc -eq 3
	$R remove --backend "$bk" >/dev/null; rc=$?
	check_cmd "$t remove when nothing installed exits 0 and changes nothing" \
		test $rc -eq 0 -a "$(save "$a" "$bk")" = "$before" -a "$(save6 "$a" "$bk")" = "$before6"
	if [ "$bk" = nft ]; then
		check_cmd "$t nothing created in the legacy tables (either family)" \
			test -z "$(ip netns exec "$a" cat /proc/net/ip_tables_names /proc/net/ip6_tables_names 2>/dev/null)"
	fi
}

# can this backend do NFQUEUE in a namespace?  Prints the error if not.
backend_works() {
	local bk=$1 ns=$P-probe-$1 err rc=0
	ip netns add "$ns" || return 1
	if ! err=$(ip netns exec "$ns" "iptables-$bk" -w 5 -t mangle -A OUTPUT -m mark --mark 1 -j NFQUEUE --queue-num 1 --queue-bypass 2>&1); then
		echo "$err"; rc=1
	fi
	ip netns del "$ns"
	return $rc
}

# iptables-nft makes a table and base chains on first use; remove must not
# leave them behind in a namespace that had no rules at all.
if command -v iptables-nft >/dev/null 2>&1 && command -v nft >/dev/null 2>&1 &&
	ip netns add "$P-empty"; then
	e0=$(nftsave "$P-empty")
	# with an older version's gateway part, whose FORWARD base chain must go too
	ip netns exec "$P-empty" "$RULES" install --backend nft >/dev/null 2>&1 &&
		old_gateway "$P-empty" nft &&
		ip netns exec "$P-empty" "$RULES" remove >/dev/null 2>&1; rc=$?
	e1=$(nftsave "$P-empty")
	check_cmd "[nft] install; old gateway part; remove in an empty namespace leaves no nft table (ip or ip6)" \
		test $rc -eq 0 -a -z "$e0" -a -z "$e1"
	[ -z "$e1" ] || echo "$e1" | sed 's/^/# /'
	ip netns del "$P-empty"
fi

for bk in nft legacy; do
	if ! command -v "iptables-$bk" >/dev/null 2>&1; then
		ok "$bk backend # SKIP no iptables-$bk binary"
		continue
	fi
	if ! err=$(backend_works "$bk"); then
		err=$(echo "$err" | head -2 | tr '\n' ' ')
		case "$err" in
		*"do you need to insmod"*|*"missing kernel module"*|*"not supported"*|*"No chain/target/match by that name"*)
			ok "$bk backend # SKIP kernel support missing: $err" ;;
		*)
			nok "$bk backend works in a namespace: $err" ;;
		esac
		continue
	fi
	if ! setup "$bk"; then
		nok "[$bk] namespace setup"
		continue
	fi
	run_backend "$bk"
	ip netns del "$P-$bk-a"; ip netns del "$P-$bk-b"
done

# ----------------------------------------------------------------- no IPv6
# A host without ip6tables, then one whose ip6tables cannot add the rules (a
# stand-in that fails as ip6tables does without the ip6 mangle table): install
# works for IPv4 with exactly one warning, status says IPv6 is not covered,
# remove leaves nothing.  PATH without /usr/sbin hides the real binaries.
no_ipv6() {
	local ns=$P-no6 dir out rc f ipt=iptables-nft
	command -v $ipt >/dev/null 2>&1 || { ok "[no IPv6] # SKIP no $ipt"; return 0; }
	dir=$(mktemp -d) || return 1
	for f in iptables iptables-nft iptables-legacy nft; do
		[ -e "/usr/sbin/$f" ] && ln -s "/usr/sbin/$f" "$dir/$f"
	done
	ip netns add "$ns" || return 1
	local R="ip netns exec $ns env PATH=$dir:/usr/bin:/bin $RULES"
	for f in missing unusable; do
		if [ $f = unusable ]; then
			printf '%s\n' '#!/bin/sh' \
				'echo "ip6tables v1.8.9 (nf_tables): cannot initialize ip6tables table mangle: Table does not exist (do you need to insmod?)" >&2' \
				'exit 3' >"$dir/ip6tables-nft"
			chmod +x "$dir/ip6tables-nft"
		fi
		out=$($R install --backend nft 2>&1); rc=$?
		check_cmd "[no IPv6: ip6tables $f] install exits 0 and says IPv4 only" \
			test $rc -eq 0 -a -n "$(echo "$out" | grep -- '^stunt-rules: installed (nft backend, iptables-nft; IPv4 only): ')"
		check_cmd "[no IPv6: ip6tables $f] exactly one warning, naming IPv6 and the cause" \
			test "$(echo "$out" | grep -c warning)" -eq 1 \
			-a -n "$(echo "$out" | grep -- '^stunt-rules: warning: IPv6 packets are not queued (.*ip6tables-nft.*); the IPv4 rules are installed$')"
		check_cmd "[no IPv6: ip6tables $f] the IPv4 rules are there" \
			test "$(ip netns exec "$ns" iptables-nft-save | grep -c -- '-j NFQUEUE')" -eq 10
		check_cmd "[no IPv6: ip6tables $f] no ip6tables rules" \
			test -z "$(ip netns exec "$ns" ip6tables-nft-save 2>/dev/null | grep STUNT)"
		out=$($R status 2>&1); rc=$?
		check_cmd "[no IPv6: ip6tables $f] status exits 0 and says IPv6 is not covered" \
			test $rc -eq 0 -a -n "$(echo "$out" | grep -- '^  IPv6: not installed')"
		$R remove >/dev/null 2>&1; rc=$?
		check_cmd "[no IPv6: ip6tables $f] remove exits 0 and leaves no nft table" \
			test $rc -eq 0 -a -z "$(ip netns exec "$ns" nft list ruleset 2>/dev/null)"
	done
	ip netns del "$ns"
	rm -rf "$dir"
}
no_ipv6 || nok "[no IPv6] namespace setup"

# ----------------------------------------------------------------- gateway packets
# H (192.0.2.1) -- G (192.0.2.2 | 198.51.100.1, MASQUERADE) -- S (198.51.100.2)
# stuntd on a gateway needs only the host rules: G's own marked connection is
# queued (SYN by STUNT-OUT, SYN-ACK by STUNT-IN); a connection G forwards for
# H is not, even when H marks its socket (a mark does not cross the wire), and
# nothing is hooked into FORWARD.
gw_test() {
	local h=$P-gw-h g=$P-gw-g s=$P-gw-s ns o0 o1 i0 i1
	ip netns add "$h" && ip netns add "$g" && ip netns add "$s" || return 1
	ip link add stlh0 netns "$h" type veth peer name stlg0 netns "$g" || return 1
	ip link add stlg1 netns "$g" type veth peer name stls0 netns "$s" || return 1
	for ns in "$h" "$g" "$s"; do
		ip netns exec "$ns" ip link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	done
	ip netns exec "$h" ip addr add 192.0.2.1/24 dev stlh0
	ip netns exec "$g" ip addr add 192.0.2.2/24 dev stlg0
	ip netns exec "$g" ip addr add 198.51.100.1/24 dev stlg1
	ip netns exec "$s" ip addr add 198.51.100.2/24 dev stls0
	ip netns exec "$h" ip link set stlh0 up
	ip netns exec "$g" ip link set stlg0 up
	ip netns exec "$g" ip link set stlg1 up
	ip netns exec "$s" ip link set stls0 up
	ip netns exec "$h" ip route add default via 192.0.2.2
	ip netns exec "$g" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$g" iptables -w 5 -t nat -A POSTROUTING -o stlg1 -j MASQUERADE || return 1
	ip netns exec "$g" "$RULES" install --queue-bypass >/dev/null || return 1
	ip netns exec "$s" python3 -c "$(printf "$SERVER" "$PORT" | sed 's/192.0.2.2/198.51.100.2/')" &
	srvpid=$!
	for _ in $(seq 50); do
		ip netns exec "$s" ss -ltn 2>/dev/null | grep -q ":$PORT " && break
		sleep 0.1
	done
	local conn='
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, int(sys.argv[1], 0))
s.settimeout(3)
s.connect(("198.51.100.2", int(sys.argv[2]))); s.sendall(b"x")
sys.exit(0 if s.recv(1) == b"x" else 1)'
	qsum() { ip netns exec "$g" iptables -w 5 -t mangle -L "$1" -v -x -n | awk '/NFQUEUE/ { s += $1 } END { print s + 0 }'; }
	check_cmd "[gateway] host rules only: nothing in mangle FORWARD" \
		test -z "$(ip netns exec "$g" iptables -w 5 -t mangle -S FORWARD | grep '^-A')"
	o0=$(qsum STUNT-OUT); i0=$(qsum STUNT-IN)
	check_cmd "[gateway] the gateway's own marked connection connects" \
		ip netns exec "$g" python3 -c "$conn" "$MARK" "$PORT"
	o1=$(qsum STUNT-OUT); i1=$(qsum STUNT-IN)
	check_cmd "[gateway] its SYN and SYN-ACK queued ($o0 -> $o1, $i0 -> $i1)" \
		test "$o1" -gt "$o0" -a "$i1" -gt "$i0"
	o0=$o1 i0=$i1
	check_cmd "[gateway] a marked connection of the host behind it connects through the NAT" \
		ip netns exec "$h" python3 -c "$conn" "$MARK" "$PORT"
	o1=$(qsum STUNT-OUT); i1=$(qsum STUNT-IN)
	check_cmd "[gateway] the forwarded connection is not queued ($o0 -> $o1, $i0 -> $i1)" \
		test "$o1" -eq "$o0" -a "$i1" -eq "$i0"
	# RSTs: one to a forwarded connection (the host's connect to a closed
	# port of s, through the NAT) is not queued in raw STUNT-PRE; one to
	# the gateway's own socket (its connect to that port) is
	rsum() { ip netns exec "$g" iptables -w 5 -t raw -L STUNT-PRE -v -x -n | awk '/NFQUEUE/ { s += $1 } END { print s + 0 }'; }
	local closed='
import socket, sys
s = socket.socket(); s.settimeout(3)
try:
    s.connect(("198.51.100.2", int(sys.argv[1])))
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)'
	o0=$(rsum)
	check_cmd "[gateway] the host behind it: connect to a closed port refused (an RST, forwarded)" \
		ip netns exec "$h" python3 -c "$closed" $((PORT + 1))
	o1=$(rsum)
	check_cmd "[gateway] that forwarded RST is not queued in raw STUNT-PRE ($o0 -> $o1)" test "$o1" -eq "$o0"
	check_cmd "[gateway] the gateway's own connect to it refused too" \
		ip netns exec "$g" python3 -c "$closed" $((PORT + 1))
	i1=$(rsum)
	check_cmd "[gateway] the RST to its own socket is queued in raw STUNT-PRE ($o1 -> $i1)" test "$i1" -gt "$o1"
	kill "$srvpid" 2>/dev/null; wait "$srvpid" 2>/dev/null; srvpid=
	ip netns exec "$g" "$RULES" remove >/dev/null
	check_cmd "[gateway] remove leaves only the NAT rule" test \
		"$(ip netns exec "$g" iptables-save | grep -c '^-A')" -eq 1 \
		-a -z "$(ip netns exec "$g" iptables-save | grep -e STUNT -e '^\*raw')"
	ip netns del "$h"; ip netns del "$g"; ip netns del "$s"
}
gw_test || nok "[gateway] namespace setup"

cleanup
check_cmd "no namespaces left behind" test -z "$(ip netns list | grep "^$P-")"
[ "$fails" -eq 0 ]
