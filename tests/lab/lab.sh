# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# The stunt network-namespace lab. Source it, then:
#
#   lab_init                       # unique prefix, teardown trap on EXIT/INT/TERM/HUP
#   lab_up --nat-a port-restricted --nat-b sym-seq:2 --syn-b drop ...
#   lx ha  ping -c1 192.0.2.1      # run a command in a lab host
#   lab_wait_port srv tcp 192.0.2.1 3478
#   lab_down                       # also runs by itself on every exit path
#
# Topology (every address exists only inside the lab's namespaces):
#
#     ha (10.1.0.10)                                      hb (10.2.0.10)
#      |  lan 10.1.0.0/24                    lan 10.2.0.0/24 |
#     [cgna] optional CGN layer: 100.64.1.0/24      100.64.2.0/24 [cgnb]
#      |                                                      |
#     gwa  WAN 198.18.1.2 ----.                .---- 198.18.2.2  WAN gwb
#                          wa |                | wb
#                            [      inet       ]   router, ICMP not rate-limited
#                          srv|                |pub
#     srv 192.0.2.1 (primary) ---'                '--- pub 198.51.100.10 (no NAT)
#         192.0.2.2 (alternate)
#
# With --same-subnet both LANs are 10.0.0.0/24 (host 10.0.0.10, gateway 10.0.0.1).
# With --lan2-X side X's LAN is a bridge (named lan in gwX) with a second
# host hX2 at .11 beside hX (two machines behind one NAT: $LAB_HA2 / $LAB_HB2).
# With --hairpin-X gwX also loops traffic from its LAN to its own public
# address back inside (NAT loopback: the public port's inside endpoint, as
# learnt from the LAN's outbound flows -- or, for a flow to the public
# address itself, the same port: a port-preserving NAT's mapping --, and
# the source translated to the
# public address as for any flow, RFC 5382 REQ-9); without it, like Linux masquerade and
# most home routers, such traffic ends at the gateway (an RST).
# With --upnp-X, side X's WAN is 11.0.X.2/24: miniupnpd refuses reserved
# (documentation / benchmark) external addresses, so that one gateway gets an
# address that looks public; like all lab addresses it exists only in the lab.
#
# Hop counts: a SYN from hX needs TTL 2 to cross gwX and die at inet (TTL 3 with
# a CGN layer); inet answers with ICMP time-exceeded from its WAN-side address.
#
# NAT types (--nat-a / --nat-b), built with real Linux netfilter (nftables):
#   none             hX is routed without translation (a public host behind a router)
#   port-restricted  endpoint-independent mapping, address-and-port-dependent
#                    filtering, port preservation: plain masquerade   (EIM/APDF)
#   full-cone        EIM, endpoint-independent filtering, port preservation (EIM/EIF)
#   restricted-cone  EIM, address-dependent filtering, port preservation (EIM/ADF)
#   sym-random       address-and-port-dependent mapping, random ports  (APDM)
#   sym-seq[:D]      APDM, sequential ports: each new mapping = previous + D (default 1)
#   eim-random       EIM, APDF, no port preservation: each internal endpoint gets
#                    a port of its own (a fixed random permutation of the
#                    ephemeral ports), the same one towards every destination
#                    (EIM/APDF, "random")
# Answer of the NAT (and of the CGN in front of it) to an unsolicited inbound
# TCP SYN (--syn-a / --syn-b):
#   rst (default, what a bare Linux gateway does), drop, icmp (port unreachable)
# Unsolicited UDP is answered by the gateway's own stack (ICMP port unreachable)
# unless --syn-X drop, which drops both.
#
# IPv6 (opt-in, --ipv6; tests/lab/lab6.sh has the addresses): every link gets a
# 2001:db8::/32 /64 too, and --fw6-a / --fw6-b pick each gateway's IPv6 type:
#   drop (default)   RFC 6092 stateful firewall, unsolicited inbound dropped
#   reject           the same, TCP answered with RST, UDP with ICMPv6 admin-prohibited
#   npt              NPTv6 (RFC 6296) prefix translation plus the drop firewall
#   open             routing only
# --nat-X off (with --ipv6): side X's LAN has no IPv4 at all (IPv6-only).
# With --cgn-X the FW6 type is the carrier router's (hop 2), gwX routes
# IPv6 openly (lab6.sh).

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_TOP=$(cd "$LAB_DIR/../.." && pwd)
LAB_BUILD=${STUNT_BUILD:-$LAB_TOP/build}

# shellcheck source=tests/lab/lab6.sh
. "$LAB_DIR/lab6.sh"

LAB_SRV1=192.0.2.1
LAB_SRV2=192.0.2.2
LAB_PUB=198.51.100.10
LAB_SEQ_BASE=20000          # first port a sequential NAT hands out
# ports in its map at most, then it wraps to the first (a caller may set
# more: a larger map loads more slowly)
LAB_SEQ_MAX=${LAB_SEQ_MAX:-2000}

LAB=""
LAB_V6=0                    # lab_up --ipv6
LAB_PIDS=()
LAB_NSES=()

lab_log() { [ -n "${LAB_VERBOSE:-}" ] && echo "# lab: $*" >&2; return 0; }

# lab_reap_stale: delete lab namespaces whose creating process is gone (a lab
# killed with SIGKILL cannot run its trap). Names are stl<tag><pid>-<node>.
lab_reap_stale() {
	local n pid
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^stl[a-z]*[0-9]+-'); do
		pid=$(echo "$n" | sed -E 's/^stl[a-z]*([0-9]+)-.*/\1/')
		[ -d "/proc/$pid" ] && continue
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null && echo "# lab: reaped stale namespace $n (its creator, pid $pid, is gone)" >&2
		# and that lab's state directory (lab_init's mktemp), which its
		# lab_down never removed (a lab kept with LAB_KEEP_STATE was taken
		# down, so its namespaces are gone and it is not reached here)
		local d
		for d in "/tmp/${n%%-*}".????; do
			[ -d "$d" ] && rm -rf -- "$d"
		done
	done
	return 0
}

# lab_init [TAG]: choose a unique namespace prefix and arm the teardown trap.
# (bash runs the trap once the foreground command ends: keep steps short.)
lab_init() {
	# letters only: the pid that follows is how lab_reap_stale and run.sh
	# find the creator (a digit in the tag would be read as part of it)
	case "${1:-}" in *[!a-z]*)
		echo "lab_init: tag '$1' must be lower-case letters only" >&2
		exit 2 ;;
	esac
	lab_reap_stale
	LAB="stl${1:-}$$"
	LAB_STATE=$(mktemp -d "/tmp/${LAB}.XXXX")
	trap 'lab_down' EXIT
	trap 'lab_down; exit 130' INT
	trap 'lab_down; exit 143' TERM
	trap 'lab_down; exit 129' HUP
}

lab_ns() { echo "$LAB-$1"; }
# lx NODE CMD...: run CMD inside lab node NODE (ha, ha2, gwa, cgna, hb, hb2, gwb, cgnb, inet, srv, pub).
lx() {
	local n=$1
	shift
	ip netns exec "$LAB-$n" "$@"
}

_lab_addns() {
	ip netns add "$LAB-$1" || return 1
	LAB_NSES+=("$1")
	lx "$1" ip link set lo up
	# A new namespace inherits rp_filter from the root namespace: lab paths are asymmetric at times.
	lx "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	lx "$1" sysctl -qw net.ipv4.icmp_ratelimit=0
	[ "$LAB_V6" = 0 ] || _lab6_ns "$1"
}

# _lab_link A IFA B IFB: a veth pair between nodes A and B, made from inside A.
_lab_link() {
	ip -n "$LAB-$1" link add "$2" type veth peer name "$4" netns "$LAB-$3" || return 1
	lx "$1" ip link set "$2" up
	lx "$3" ip link set "$4" up
}

_lab_router() {
	lx "$1" sysctl -qw net.ipv4.ip_forward=1
	[ "$LAB_V6" = 0 ] || _lab6_router "$1"
}

# lab_bg NODE LOGNAME CMD...: start CMD in NODE in the background; killed by lab_down.
lab_bg() {
	local n=$1 log=$2
	shift 2
	ip netns exec "$LAB-$n" "$@" >"$LAB_STATE/$log.log" 2>&1 &
	LAB_PIDS+=($!)
	echo $!
}

# lab_server_secrets FILE...: stunt-server's --secrets file as the server
# wants it: it reads the file after dropping to its run-as user (nobody
# unless --user; $LAB_SERVER_USER here), at start and on SIGHUP, and refuses
# one that group or others may read. So: mode 600, owned by that user, in a
# directory that user may traverse (o+x, not list).
lab_server_secrets() {
	local f
	for f in "$@"; do
		chmod 600 "$f" && chown "${LAB_SERVER_USER:-nobody}" "$f" &&
			chmod o+x "$(dirname "$f")" || return 1
	done
}

# lab_wait_port NODE tcp|udp IP PORT [TIMEOUT_S]: wait until something listens there.
lab_wait_port() {
	local n=$1 proto=$2 ip=$3 port=$4 t=${5:-10} opt
	[ "$proto" = tcp ] && opt=-Hltn || opt=-Hlun
	local end=$((SECONDS + t))
	while [ $SECONDS -le $end ]; do
		lx "$n" ss $opt "sport = :$port" 2>/dev/null | grep -qE "($ip|\*|0\.0\.0\.0)(%[a-z0-9]+)?:$port" && return 0
		sleep 0.05
	done
	echo "# lab: nothing listens on $proto $ip:$port in $n after ${t}s" >&2
	return 1
}

# lab_dual6: a small dual-stack lab of its own (after lab_init; the IPv6
# server and probe tests): c (2001:db8:1::10, 10.61.1.10) -- r (router, both
# families; 2001:db8:1::1 / 10.61.1.1 and 2001:db8:2::1 / 10.61.2.1) --
# srv (2001:db8:2::5 and ::6, 10.61.2.5 and .6). Links c0 - rc, rs - s0.
lab_dual6() {
	_lab_addns c && _lab_addns r && _lab_addns srv || return 1
	# before the links exist (tests/lab/lab6.sh says why)
	_lab6_ns c && _lab6_ns r && _lab6_ns srv && _lab6_router r || return 1
	_lab_link c c0 r rc && _lab_link r rs srv s0 || return 1
	lx c ip addr add 2001:db8:1::10/64 dev c0 nodad && lx c ip addr add 10.61.1.10/24 dev c0 &&
		lx r ip addr add 2001:db8:1::1/64 dev rc nodad && lx r ip addr add 10.61.1.1/24 dev rc &&
		lx r ip addr add 2001:db8:2::1/64 dev rs nodad && lx r ip addr add 10.61.2.1/24 dev rs &&
		lx srv ip addr add 2001:db8:2::5/64 dev s0 nodad &&
		lx srv ip addr add 2001:db8:2::6/64 dev s0 nodad &&
		lx srv ip addr add 10.61.2.5/24 dev s0 && lx srv ip addr add 10.61.2.6/24 dev s0 || return 1
	lx c ip -6 route add default via 2001:db8:1::1 && lx c ip route add default via 10.61.1.1 &&
		lx srv ip -6 route add default via 2001:db8:2::1 &&
		lx srv ip route add default via 10.61.2.1 && _lab_router r
}

# lab_fw6 NODE IIF RULE...: a stateful ip6 firewall in NODE's forward hook
# (table ip6 labfw): established and related accepted, and for new
# connections coming in on IIF each RULE in turn (an nft statement list:
# "drop", "meta l4proto tcp reject with tcp reset"). lab_fw6_del NODE.
lab_fw6() {
	local n=$1 iif=$2 r rules=""
	shift 2
	for r in "$@"; do
		rules+="		iifname \"$iif\" ct state new $r
"
	done
	lx "$n" nft -f - <<EOF
table ip6 labfw {
	chain forward_in {
		type filter hook forward priority 0; policy accept;
		ct state established,related accept
$rules	}
}
EOF
}
lab_fw6_del() { lx "$1" nft delete table ip6 labfw; }

# synretrans NODE: the kernel's SYN retransmissions so far in NODE's
# namespace (TcpExt TCPSynRetrans)
synretrans() {
	# shellcheck disable=SC2016 # awk's own $i
	lx "$1" awk '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) n[i] = $i; h = 1 }
		else for (i = 1; i <= NF; i++) if (n[i] == "TCPSynRetrans") print $i }' /proc/net/netstat
}

# jget FILE PATH.TO.FIELD: a value of a JSON file (stunt-probe --json), as
# JSON text, strings bare; list items by index. A missing key prints
# nothing (and a traceback on stderr): never equal to a wanted value.
jget() {
	python3 - "$1" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v) if not isinstance(v, str) else v)
PY
}

# lab_wait_file PATH [TIMEOUT_S]
lab_wait_file() {
	local end=$((SECONDS + ${2:-10}))
	while [ $SECONDS -le $end ]; do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# lab_wait_log FILE REGEX SECONDS [MIN_COUNT]: until FILE has MIN_COUNT
# (default 1) lines matching the extended REGEX
lab_wait_log() {
	local end=$((SECONDS + $3)) n
	while [ $SECONDS -le $end ]; do
		n=$(grep -Ec "$2" "$1" 2>/dev/null)
		[ "${n:-0}" -ge "${4:-1}" ] && return 0
		sleep 0.1
	done
	return 1
}

# lab_wait_for SECONDS CMD...: until CMD succeeds (tried every 50 ms); 1 once
# SECONDS have passed without. For a condition the other lab_wait_* do not
# name: a test waits for the state it needs instead of sleeping a guess at
# how long that takes, so a slow machine makes a slow pass, not a failure.
lab_wait_for() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -le $end ]; do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# lab_echo_check NODE HOST PORT BYTES: from NODE, send BYTES random bytes to
# an echo service at HOST:PORT, half-close, read the answer; prints "ok"
# when the same bytes came back, else "bad N" (N bytes came) or the error.
lab_echo_check() {
	lx "$1" python3 -c '
import os, socket, sys
data = os.urandom(int(sys.argv[3]))
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
s.settimeout(20)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    x = s.recv(65536)
    if not x:
        break
    got += x
print("ok" if got == data else "bad %d" % len(got))' "$2" "$3" "$4" 2>&1 | tail -1
}

# lab_wait_capture LOG [TIMEOUT_S]: until the tcpdump started with
# "lab_bg NODE LOG tcpdump ..." captures. tcpdump writes "listening on IF" to
# stderr (the log) after it has opened the interface, set the filter and,
# with -w, written the file header, right before its capture loop: a packet
# sent after that is in the capture. Start captures with --immediate-mode:
# without it libpcap hands packets over in blocks, up to a second late, and
# a capture read while tcpdump still runs can miss the last second (seen on
# a fast machine: t_stuntd_v6's pcap held only its header 200 ms after the
# SYNs had crossed the link).
lab_wait_capture() {
	local t=${2:-10}
	lab_wait_log "$LAB_STATE/$1.log" 'listening on' "$t" && return 0
	echo "# lab: tcpdump $1 not capturing after ${t}s:" >&2
	sed 's/^/# lab:   /' "$LAB_STATE/$1.log" >&2
	return 1
}

# The nftables ruleset of one NAT gateway.
# _lab_nat_rules TYPE SYN WAN_IP HOST_IP
_lab_nat_rules() {
	local type=$1 syn=$2 wan=$3 host=$4 delta=1 synact udpact outnat map=0 adf=0
	case "$type" in
	sym-seq:*) delta=${type#sym-seq:}; type=sym-seq ;;
	esac
	case "$syn" in
	rst) synact="reject with tcp reset" ;;
	drop) synact="drop" ;;
	icmp) synact="reject with icmp type port-unreachable" ;;
	*) echo "lab: unknown unsolicited-SYN answer '$syn' (rst|drop|icmp)" >&2; return 1 ;;
	esac
	udpact=""
	[ "$syn" = drop ] && udpact='iifname "wan" ct state new meta l4proto udp drop'
	case "$type" in
	port-restricted|eim-apdf) outnat='oifname "wan" masquerade' ;;
	full-cone) outnat='oifname "wan" masquerade'; map=1 ;;
	restricted-cone) outnat='oifname "wan" masquerade'; map=1; adf=1 ;;
	sym-random) outnat='oifname "wan" masquerade fully-random' ;;
	sym-seq|eim-random) outnat='' ;;
	*) echo "lab: unknown NAT type '$type'" >&2; return 1 ;;
	esac
	{
		echo "table ip lab {"
		if [ "$type" = sym-seq ] || [ "$type" = eim-random ]; then
			# numgen counts new mappings (a nat chain sees only a flow's first
			# packet); the map turns the count into base + delta * count.
			local n=$(((65535 - LAB_SEQ_BASE) / delta)) i p
			[ "$n" -gt "$LAB_SEQ_MAX" ] && n=$LAB_SEQ_MAX
			local proto
			for proto in tcp udp; do
				echo "  map seq_$proto { typeof numgen inc mod $n : $proto sport; elements = {"
				for ((i = 0; i < n; i++)); do
					p=$((LAB_SEQ_BASE + i * delta))
					printf '    %d : %d,\n' "$i" "$p"
				done
				echo "  } }"
			done
		fi
		if [ "$type" = eim-random ]; then
			# a fixed random permutation of the ephemeral ports: each
			# internal port has a public port of its own, unrelated to it,
			# and no two share one (a hash of the port would, now and
			# then: the second flow to the same server then clashes in
			# conntrack and is dropped, which no real NAT does)
			echo "  map eim_port { typeof tcp sport : tcp sport; elements = {"
			paste -d' ' <(seq 32768 65535) <(seq 32768 65535 | shuf --random-source=<(yes 5eed)) |
				awk '{ printf "    %s : %s,\n", $1, $2 }'
			echo "  } }"
		fi
		if [ "$map" = 1 ]; then
			# public port -> internal endpoint, learnt from outbound packets
			local proto
			for proto in tcp udp; do
				# the mapping lives as long as the conntrack entry would
				local tmo=300
				[ "$proto" = udp ] && [ -n "${LAB_UDP_TIMEOUT:-}" ] && tmo=$LAB_UDP_TIMEOUT
				[ "$proto" = tcp ] && [ -n "${LAB_TCP_TIMEOUT:-}" ] && tmo=$LAB_TCP_TIMEOUT
				echo "  map cone_$proto { typeof $proto dport : ip saddr . $proto sport; flags dynamic,timeout; timeout ${tmo}s; }"
				[ "$adf" = 1 ] && echo "  set adf_$proto { typeof $proto dport . ip saddr; flags dynamic,timeout; timeout ${tmo}s; }"
			done
		fi
		cat <<EOF
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" ct state new tcp flags & (syn | ack) == syn $synact
    $udpact
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    $outnat
EOF
		if [ "$type" = sym-seq ]; then
			echo "    oifname \"wan\" meta l4proto tcp snat ip to $wan : numgen inc mod $n map @seq_tcp"
			echo "    oifname \"wan\" meta l4proto udp snat ip to $wan : numgen inc mod $n map @seq_udp"
		fi
		if [ "$type" = eim-random ]; then
			# ephemeral ports through the permutation; a port below them
			# (bound by hand) through the sequential map, indexed by a hash
			# of the internal endpoint: one port per endpoint whatever the
			# destination, unrelated to its own
			local proto
			for proto in tcp udp; do
				echo "    oifname \"wan\" meta l4proto $proto $proto sport >= 32768 snat ip to $wan : $proto sport map @eim_port"
			done
			echo "    oifname \"wan\" meta l4proto tcp snat ip to $wan : jhash ip saddr . tcp sport mod $n seed 0x5eed map @seq_tcp"
			echo "    oifname \"wan\" meta l4proto udp snat ip to $wan : jhash ip saddr . udp sport mod $n seed 0x5eed map @seq_udp"
		fi
		echo "  }"
		if [ "$map" = 1 ]; then
			# Runs after source NAT: th sport is the public port here.
			echo "  chain learn {"
			echo "    type filter hook postrouting priority srcnat + 10; policy accept;"
			local proto
			for proto in tcp udp; do
				echo "    oifname \"wan\" ct direction original meta l4proto $proto update @cone_$proto { $proto sport : ct original ip saddr . ct original proto-src }"
				[ "$adf" = 1 ] && echo "    oifname \"wan\" ct direction original meta l4proto $proto update @adf_$proto { $proto sport . ip daddr }"
			done
			echo "  }"
			echo "  chain prerouting {"
			echo "    type nat hook prerouting priority dstnat; policy accept;"
			for proto in tcp udp; do
				if [ "$adf" = 1 ]; then
					echo "    iifname \"wan\" meta l4proto $proto $proto dport . ip saddr @adf_$proto dnat ip to $proto dport map @cone_$proto"
				else
					echo "    iifname \"wan\" meta l4proto $proto dnat ip to $proto dport map @cone_$proto"
				fi
			done
			echo "  }"
		fi
		echo "}"
	} >"$LAB_STATE/nat-$wan.nft"
	echo "$LAB_STATE/nat-$wan.nft"
}

# _lab_hairpin X NODE WAN_IP LANPFX [POOL]: NAT loopback on gateway NODE (see
# --hairpin-X). POOL=1: WAN_IP is a NAT pool address with no services of its
# own (a CGN's): a flow from inside to a port of it with no mapping is
# dropped instead of reaching NODE's own stack (which would answer an RST).
_lab_hairpin() {
	local x=$1 node=$2 wan=$3 lanpfx=$4 pool=${5:-0} proto
	lx "$node" sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.lan.send_redirects=0
	{
		echo "table ip hairpin {"
		for proto in tcp udp; do
			echo "  map in_$proto { typeof $proto dport : ip saddr . $proto sport; flags dynamic,timeout; timeout 300s; }"
		done
		echo "  chain learn {"
		echo "    type filter hook postrouting priority srcnat + 10; policy accept;"
		for proto in tcp udp; do
			echo "    oifname \"wan\" ct direction original meta l4proto $proto update @in_$proto { $proto sport : ct original ip saddr . ct original proto-src }"
		done
		echo "  }"
		# a flow from the LAN to the public address itself (a primer) never
		# leaves by wan: its mapping is the port-preserving one
		echo "  chain learn_in {"
		echo "    type filter hook prerouting priority dstnat - 10; policy accept;"
		for proto in tcp udp; do
			echo "    iifname \"lan\" ip daddr $wan meta l4proto $proto ct state new $proto sport != 0 update @in_$proto { $proto sport : ip saddr . $proto sport }"
		done
		echo "  }"
		echo "  chain pre {"
		echo "    type nat hook prerouting priority dstnat; policy accept;"
		for proto in tcp udp; do
			echo "    iifname \"lan\" ip daddr $wan meta l4proto $proto dnat ip to $proto dport map @in_$proto"
		done
		echo "  }"
		echo "  chain post {"
		echo "    type nat hook postrouting priority srcnat; policy accept;"
		# (iifname does not match here for a flow routed back out of the bridge)
		echo "    ip saddr $lanpfx.0/24 oifname \"lan\" ct status dnat snat ip to $wan"
		echo "  }"
		if [ "$pool" = 1 ]; then
			echo "  chain in {"
			echo "    type filter hook input priority filter; policy accept;"
			echo "    iifname \"lan\" ip daddr $wan meta l4proto { tcp, udp } drop"
			echo "  }"
		fi
		echo "}"
	} >"$LAB_STATE/hairpin-$x.nft"
	lx "$node" nft -f "$LAB_STATE/hairpin-$x.nft"
}

# _lab_shared_cgn SYN HAIRPIN: the CGN both sides share (--cgn-shared): WAN
# 198.18.1.2 on inet's wa link, its inside a bridge (lan, 100.64.0.1/24)
# that both home gateways' WANs join (gwa 100.64.0.2, gwb 100.64.0.3).
# Between them the CGN's inside realm is routed (here: one segment), as a
# carrier's access network is; with HAIRPIN it also loops traffic to its
# public address back inside (RFC 6888 REQ-9), else such traffic ends there.
_lab_shared_cgn() {
	local syn=$1 hairpin=$2 f
	_lab_addns cgn || return 1
	_lab_router cgn
	ip -n "$LAB-inet" link add wa type veth peer name wan netns "$LAB-cgn" || return 1
	lx inet ip link set wa up
	lx inet ip addr add 198.18.1.1/24 dev wa
	lx cgn ip link set wan up
	lx cgn ip addr add 198.18.1.2/24 dev wan
	lx cgn ip route add default via 198.18.1.1
	lx cgn ip link add lan type bridge || return 1
	lx cgn ip link set lan up
	lx cgn ip addr add 100.64.0.1/24 dev lan
	f=$(_lab_nat_rules port-restricted "$syn" 198.18.1.2 100.64.0.2) || return 1
	lx cgn nft -f "$f" || return 1
	if [ "$hairpin" = 1 ]; then
		_lab_hairpin cgn cgn 198.18.1.2 100.64.0 1 || return 1
	fi
}

# _lab_side X NAT SYN CGN SAME UPNP [LAN2 [HAIRPIN [SHARED]]]: build side X (a
# or b); SHARED: behind the CGN of _lab_shared_cgn (built before) instead
# of one of its own.
_lab_side() {
	local x=$1 nat=$2 syn=$3 cgn=$4 same=$5 upnp=$6 lan2=${7:-0} hairpin=${8:-0} shared=${9:-0}
	local k wan lanpfx hostip gwlan inetif f
	[ "$x" = a ] && k=1 || k=2
	inetif="w$x"
	[ "$upnp" = 1 ] && wan="11.0.$k.2" || wan="198.18.$k.2"
	[ "$same" = 1 ] && lanpfx="10.0.0" || lanpfx="10.$k.0"
	hostip="$lanpfx.10"
	gwlan="$lanpfx.1"

	# the outermost NAT (CGN when present) owns the WAN link
	local outer="gw$x" inner="gw$x"
	if [ "$shared" = 1 ]; then
		outer=cgn
		_lab_addns "gw$x" || return 1
		_lab_addns "h$x" || return 1
		_lab_router "gw$x"
		_lab_link cgn "l$x" "gw$x" wan || return 1
		lx cgn ip link set "l$x" master lan
		wan="100.64.0.$((k + 1))"
		lx "gw$x" ip addr add "$wan/24" dev wan
		lx "gw$x" ip route add default via 100.64.0.1
		cgn=0
	else
	if [ "$cgn" = 1 ]; then
		outer="cgn$x"
		_lab_addns "cgn$x" || return 1
		_lab_router "cgn$x"
	fi
	_lab_addns "gw$x" || return 1
	_lab_addns "h$x" || return 1
	_lab_router "gw$x"
	ip -n "$LAB-inet" link add "$inetif" type veth peer name wan netns "$LAB-$outer" || return 1
	lx inet ip link set "$inetif" up
	lx inet ip addr add "${wan%.2}.1/24" dev "$inetif"
	lx "$outer" ip link set wan up
	lx "$outer" ip addr add "$wan/24" dev wan
	lx "$outer" ip route add default via "${wan%.2}.1"
	fi
	if [ "$cgn" = 1 ]; then
		# carrier-grade NAT: 100.64.0.0/10 between the CGN and the home gateway
		_lab_link "cgn$x" lan "gw$x" wan || return 1
		lx "cgn$x" ip addr add "100.64.$k.1/24" dev lan
		lx "gw$x" ip addr add "100.64.$k.2/24" dev wan
		lx "gw$x" ip route add default via "100.64.$k.1"
		f=$(_lab_nat_rules port-restricted "$syn" "$wan" "100.64.$k.2") || return 1
		lx "cgn$x" nft -f "$f" || return 1
		wan="100.64.$k.2"
	fi
	if [ "$lan2" = 1 ]; then
		# a bridge: hX and hX2 on one LAN behind gwX
		_lab_addns "h${x}2" || return 1
		lx "gw$x" ip link add lan type bridge || return 1
		lx "gw$x" ip link set lan up
		_lab_link "gw$x" l1 "h$x" eth0 || return 1
		_lab_link "gw$x" l2 "h${x}2" eth0 || return 1
		lx "gw$x" ip link set l1 master lan
		lx "gw$x" ip link set l2 master lan
		if [ "$nat" != off ]; then
			lx "h${x}2" ip addr add "$lanpfx.11/24" dev eth0
			lx "h${x}2" ip route add default via "$gwlan"
			eval "LAB_H${x^^}2=$lanpfx.11"
		fi
	else
		_lab_link "gw$x" lan "h$x" eth0 || return 1
	fi
	if [ "$nat" = off ]; then
		# an IPv6-only LAN (--ipv6): the host has no IPv4 at all
		{ [ "$upnp" = 1 ] || [ "$hairpin" = 1 ]; } &&
			{ echo "lab: --nat-$x off excludes --upnp-$x and --hairpin-$x" >&2; return 1; }
		hostip="" gwlan=""
	else
		lx "gw$x" ip addr add "$gwlan/24" dev lan
		lx "h$x" ip addr add "$hostip/24" dev eth0
		lx "h$x" ip route add default via "$gwlan"
	fi
	if [ "$nat" = off ]; then
		:
	elif [ "$nat" = none ]; then
		[ "$same" = 1 ] || [ "$cgn" = 1 ] && { echo "lab: --nat-$x none excludes --same-subnet and --cgn-$x" >&2; return 1; }
		# no translation: inet routes the host's subnet to the gateway
		lx inet ip route add "$lanpfx.0/24" via "$wan"
	else
		f=$(_lab_nat_rules "$nat" "$syn" "$wan" "$hostip") || return 1
		lx "$inner" nft -f "$f" || return 1
	fi
	if [ "$upnp" = 1 ]; then
		_lab_upnp "$x" "$inner" "$gwlan" "$lanpfx" || return 1
	fi
	if [ "$hairpin" = 1 ]; then
		[ "$nat" = none ] && { echo "lab: --hairpin-$x needs a NAT" >&2; return 1; }
		_lab_hairpin "$x" "gw$x" "$wan" "$lanpfx" || return 1
	fi
	eval "LAB_H${x^^}=$hostip; LAB_GW${x^^}_LAN=$gwlan; LAB_WAN${x^^}=\$(lx $outer ip -4 -o addr show dev wan | awk '{print \$4}' | cut -d/ -f1)"
	# conntrack timeouts are per namespace: --udp-timeout / --tcp-timeout
	local n
	for n in "$inner" $([ "$cgn" = 1 ] && echo "cgn$x") $([ "$shared" = 1 ] && [ "$x" = a ] && echo cgn); do
		[ -n "${LAB_UDP_TIMEOUT:-}" ] && lx "$n" sysctl -qw \
			net.netfilter.nf_conntrack_udp_timeout="$LAB_UDP_TIMEOUT" \
			net.netfilter.nf_conntrack_udp_timeout_stream="$LAB_UDP_TIMEOUT"
		[ -n "${LAB_TCP_TIMEOUT:-}" ] && lx "$n" sysctl -qw \
			net.netfilter.nf_conntrack_tcp_timeout_established="$LAB_TCP_TIMEOUT"
	done
	return 0
}

# miniupnpd on gateway NODE, serving UPnP-IGD and NAT-PMP on the LAN side.
_lab_upnp() {
	local x=$1 node=$2 gwlan=$3 lanpfx=$4 conf="$LAB_STATE/miniupnpd-$x.conf"
	lx "$node" nft -f - <<EOF || return 1
table inet miniupnpd {
  chain forward { type filter hook forward priority filter; policy accept; jump miniupnpd; }
  chain miniupnpd { }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; jump postrouting_miniupnpd; }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
EOF
	cat >"$conf" <<EOF
ext_ifname=wan
listening_ip=lan
port=2189
enable_natpmp=yes
enable_upnp=yes
secure_mode=yes
system_uptime=yes
notify_interval=60
clean_ruleset_interval=600
uuid=3c9e3b1a-5354-4e54-8000-00000000000$([ "$x" = a ] && echo 1 || echo 2)
upnp_table_name=miniupnpd
upnp_nat_table_name=miniupnpd
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1024-65535 $lanpfx.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
	lab_bg "$node" "miniupnpd-$x" miniupnpd -f "$conf" -d -P "$LAB_STATE/miniupnpd-$x.pid" >/dev/null
	lab_wait_port "$node" tcp "$gwlan" 2189 10 || { cat "$LAB_STATE/miniupnpd-$x.log" >&2; return 1; }
}

# Link impairment on side X's WAN link, applied in inet in both directions:
# one-way delay MS each way (RTT through that side + 2*MS) and loss PCT each way.
# Both families with --ipv6 (an inet table drops; ip6tables feeds the same
# delay line's queue, which a packet's family does not matter to).
_lab_impair() {
	local x=$1 delay=$2 loss=$3 k q
	[ "$x" = a ] && k=1 || k=2
	if [ -n "$loss" ] && [ "$loss" != 0 ]; then
		local per_mille lose
		per_mille=$(awk -v p="$loss" 'BEGIN { printf "%d", p * 10 }')
		# (numgen's range ends at 999: 100 % is every packet)
		lose="numgen random mod 1000 < $per_mille"
		[ "$per_mille" -ge 1000 ] && lose=""
		lx inet nft -f - <<EOF || return 1
table inet impair_$x {
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    iifname "w$x" $lose drop
  }
  chain post {
    type filter hook postrouting priority 300; policy accept;
    oifname "w$x" $lose drop
  }
}
EOF
	fi
	if [ -n "$delay" ] && [ "$delay" != 0 ]; then
		[ -x "$LAB_BUILD/lab/delayline" ] || { echo "lab: $LAB_BUILD/lab/delayline missing (make)" >&2; return 1; }
		q=$((100 + k))
		lab_bg inet "delay-$x" "$LAB_BUILD/lab/delayline" --queue "$q" --delay-ms "$delay" \
			--ready-file "$LAB_STATE/delay-$x.ready" >/dev/null
		lab_wait_file "$LAB_STATE/delay-$x.ready" 10 || { cat "$LAB_STATE/delay-$x.log" >&2; return 1; }
		# nft's queue statement is not built on this kernel; the xt target is.
		lx inet iptables -t mangle -A PREROUTING -i "w$x" -j NFQUEUE --queue-num "$q" || return 1
		lx inet iptables -t mangle -A POSTROUTING -o "w$x" -j NFQUEUE --queue-num "$q" || return 1
		if [ "$LAB_V6" = 1 ]; then
			lx inet ip6tables -t mangle -A PREROUTING -i "w$x" -j NFQUEUE --queue-num "$q" || return 1
			lx inet ip6tables -t mangle -A POSTROUTING -o "w$x" -j NFQUEUE --queue-num "$q" || return 1
		fi
	fi
	return 0
}

# _lab_lan_delay X MS: MS one way between hX and hX2 (--lan-delay-X, needs
# --lan2-X): the LAN is a bridge, which no NFQUEUE sees, so each host delays
# what it sends to the other (filter OUTPUT: after stunt-rules' mangle
# chains, whose verdicts it does not change) through its own delay line.
_lab_lan_delay() {
	local x=$1 ms=$2 k n q other
	[ "$x" = a ] && k=1 || k=2
	[ -x "$LAB_BUILD/lab/delayline" ] || { echo "lab: $LAB_BUILD/lab/delayline missing (make)" >&2; return 1; }
	for n in "h$x" "h${x}2"; do
		[ "$n" = "h$x" ] && other="10.$k.0.11" q=$((110 + 2 * k)) || { other="10.$k.0.10"; q=$((111 + 2 * k)); }
		lab_bg "$n" "landelay-$n" "$LAB_BUILD/lab/delayline" --queue "$q" --delay-ms "$ms" \
			--ready-file "$LAB_STATE/landelay-$n.ready" >/dev/null
		lab_wait_file "$LAB_STATE/landelay-$n.ready" 10 || { cat "$LAB_STATE/landelay-$n.log" >&2; return 1; }
		lx "$n" iptables -t filter -A OUTPUT -d "$other" -j NFQUEUE --queue-num "$q" || return 1
	done
}

lab_usage() {
	cat <<'EOF'
lab_up [--nat-a TYPE] [--nat-b TYPE] [--syn-a rst|drop|icmp] [--syn-b ...]
       [--cgn-a] [--cgn-b] [--same-subnet] [--upnp-a] [--upnp-b]
       [--lan2-a] [--lan2-b] [--hairpin-a] [--hairpin-b]
       [--cgn-shared] [--cgn-hairpin] [--lan-delay-a MS] [--lan-delay-b MS]
       [--delay-a MS] [--delay-b MS] [--loss-a PCT] [--loss-b PCT]
       [--udp-timeout S] [--tcp-timeout S]
       [--ipv6 [--fw6-a FW6] [--fw6-b FW6]]
TYPE: none port-restricted full-cone restricted-cone sym-random sym-seq[:DELTA] eim-random
      off (no IPv4 on that LAN; needs --ipv6)
FW6: drop (default) reject npt open
EOF
}

# lab_up [options]: build the whole lab. Returns non-zero (after printing why) on failure.
lab_up() {
	local nat_a=port-restricted nat_b=port-restricted syn_a=rst syn_b=rst
	local cgn_a=0 cgn_b=0 same=0 upnp_a=0 upnp_b=0 delay_a="" delay_b="" loss_a="" loss_b=""
	local lan2_a=0 lan2_b=0 hp_a=0 hp_b=0 shared=0 cgn_hp=0 ld_a="" ld_b=""
	local fw6_a="" fw6_b=""
	LAB_V6=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--nat-a) nat_a=$2; shift ;;
		--nat-b) nat_b=$2; shift ;;
		--syn-a) syn_a=$2; shift ;;
		--syn-b) syn_b=$2; shift ;;
		--cgn-a) cgn_a=1 ;;
		--cgn-b) cgn_b=1 ;;
		--same-subnet) same=1 ;;
		--upnp-a) upnp_a=1 ;;
		--upnp-b) upnp_b=1 ;;
		--lan2-a) lan2_a=1 ;;
		--lan2-b) lan2_b=1 ;;
		--hairpin-a) hp_a=1 ;;
		--hairpin-b) hp_b=1 ;;
		--cgn-shared) shared=1 ;;
		--cgn-hairpin) cgn_hp=1 ;;
		--lan-delay-a) ld_a=$2; shift ;;
		--lan-delay-b) ld_b=$2; shift ;;
		--delay-a) delay_a=$2; shift ;;
		--delay-b) delay_b=$2; shift ;;
		--loss-a) loss_a=$2; shift ;;
		--loss-b) loss_b=$2; shift ;;
		--udp-timeout) LAB_UDP_TIMEOUT=$2; shift ;;
		--tcp-timeout) LAB_TCP_TIMEOUT=$2; shift ;;
		--ipv6) LAB_V6=1 ;;
		--fw6-a) fw6_a=$2; shift ;;
		--fw6-b) fw6_b=$2; shift ;;
		*) lab_usage >&2; return 2 ;;
		esac
		shift
	done
	if [ "$LAB_V6" = 0 ]; then
		if [ -n "$fw6_a$fw6_b" ] || [ "$nat_a" = off ] || [ "$nat_b" = off ]; then
			echo "lab: --fw6-X and --nat-X off need --ipv6" >&2
			return 1
		fi
	elif [ "$shared" != 0 ]; then
		# not built yet: IPv6 through a shared CGN's realm
		echo "lab: --ipv6 excludes --cgn-shared (for now)" >&2
		return 1
	fi
	[ -n "$LAB" ] || lab_init
	lab_log "up $LAB: A=$nat_a/$syn_a B=$nat_b/$syn_b cgn=$cgn_a$cgn_b same=$same upnp=$upnp_a$upnp_b"

	_lab_addns inet || return 1
	_lab_router inet
	_lab_addns srv || return 1
	_lab_addns pub || return 1
	_lab_link inet srv srv eth0 || return 1
	lx inet ip addr add 192.0.2.254/24 dev srv
	lx srv ip addr add "$LAB_SRV1/24" dev eth0
	lx srv ip addr add "$LAB_SRV2/24" dev eth0
	lx srv ip route add default via 192.0.2.254
	_lab_link inet pub pub eth0 || return 1
	lx inet ip addr add 198.51.100.254/24 dev pub
	lx pub ip addr add "$LAB_PUB/24" dev eth0
	lx pub ip route add default via 198.51.100.254
	if [ "$LAB_V6" = 1 ]; then
		_lab6_core || return 1
	fi

	if [ "$shared" = 1 ]; then
		if [ "$cgn_a$cgn_b$upnp_a$upnp_b" != 0000 ] || [ "$nat_a" = none ] || [ "$nat_b" = none ]; then
			echo "lab: --cgn-shared excludes --cgn-X, --upnp-X and --nat-X none" >&2
			return 1
		fi
		_lab_shared_cgn "$syn_a" "$cgn_hp" || return 1
	elif [ "$cgn_hp" = 1 ]; then
		echo "lab: --cgn-hairpin needs --cgn-shared" >&2
		return 1
	fi
	_lab_side a "$nat_a" "$syn_a" "$cgn_a" "$same" "$upnp_a" "$lan2_a" "$hp_a" "$shared" || return 1
	_lab_side b "$nat_b" "$syn_b" "$cgn_b" "$same" "$upnp_b" "$lan2_b" "$hp_b" "$shared" || return 1
	if [ "$LAB_V6" = 1 ]; then
		_lab6_side a "${fw6_a:-drop}" "$lan2_a" "$cgn_a" || return 1
		_lab6_side b "${fw6_b:-drop}" "$lan2_b" "$cgn_b" || return 1
	fi
	_lab_impair a "$delay_a" "$loss_a" || return 1
	_lab_impair b "$delay_b" "$loss_b" || return 1
	if [ -n "$ld_a$ld_b" ]; then
		if { [ -n "$ld_a" ] && [ "$lan2_a" != 1 ]; } || { [ -n "$ld_b" ] && [ "$lan2_b" != 1 ]; } ||
			[ "$same" = 1 ]; then
			echo "lab: --lan-delay-X needs --lan2-X (and no --same-subnet)" >&2
			return 1
		fi
		[ -n "$ld_a" ] && { _lab_lan_delay a "$ld_a" || return 1; }
		[ -n "$ld_b" ] && { _lab_lan_delay b "$ld_b" || return 1; }
	fi
	LAB_HOPS_A=$((cgn_a + shared + 1))
	LAB_HOPS_B=$((cgn_b + shared + 1))
	return 0
}

_lab_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]
}
_lab_any_alive() {
	local p
	for p in "$@"; do
		_lab_alive "$p" && return 0
	done
	return 1
}

# lab_down: kill what the lab started and delete its namespaces. Safe to call twice.
lab_down() {
	local p n
	trap - EXIT INT TERM HUP
	for p in "${LAB_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	# A SIGTERM that lands between fork and exec of a just-started job is
	# taken by the child's copy of our trap and lost: escalate after a while.
	local i
	for ((i = 0; i < 20; i++)); do
		_lab_any_alive "${LAB_PIDS[@]}" || break
		sleep 0.1
	done
	for p in "${LAB_PIDS[@]}"; do
		_lab_alive "$p" && kill -9 "$p" 2>/dev/null
	done
	for p in "${LAB_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	LAB_PIDS=()
	[ -n "$LAB" ] || return 0
	# anything else still running inside the lab's namespaces (e.g. started with lx ... &)
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$LAB-"); do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	LAB_NSES=()
	[ -n "${LAB_STATE:-}" ] && [ -z "${LAB_KEEP_STATE:-}" ] && rm -rf "$LAB_STATE"
	return 0
}
