#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lab self-test of lab_up --ipv6: every IPv6 gateway type behaves as its name
# says, measured with plain sockets (tests/lab/sockprobe.py, no stunt code),
# and IPv4 still works in the same lab.
#
#   lab 1: side a drop (with a second host, --lan2-a), side b reject (both
#          dual-stack, IPv4 port-restricted)
#   lab 2: side a npt (dual-stack), side b open and IPv6-only (--nat-b off);
#          20 ms each way on side a's WAN delays both families' connects
#   lab 3: --loss-a 100 drops both families on side a's WAN, not side b's
#
# Per side: outbound TCP and UDP to srv get their answer back (the reply to
# an outbound flow), srv sees the host's own address -- for npt the
# translated prefix with the same interface identifier; an unsolicited TCP
# connect and UDP datagram from pub to the host's (external) address, where
# the host listens, time out (drop, npt), are refused with an RST and
# ICMPv6 administratively prohibited (reject) or are answered (open); ICMPv6
# echo passes; IPv4 through the side's NAT reaches srv from its WAN address
# (and a side with --nat-X off has no IPv4 route at all). Across the sides:
# a host reaches the other one's listener only where that side lets it.
# shellcheck disable=SC2153 # LAB_HA6, LAB_HB6...: set by lab_up --ipv6
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/tap.sh
. "$here/tap.sh"
SP="$here/sockprobe.py"

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - t_lab6 needs root (network namespaces)"
	exit 1
fi

listening() { lx "$1" ss -Hln"${2:0:1}" "sport = :$3" | grep -q .; }

# start_services [NODES...]: srv answers on 5000 (IPv6) and 5004 (IPv4),
# each host of NODES on 6000 (IPv6), TCP and UDP each
start_services() {
	local n p
	for p in tcp udp; do
		lab_bg srv "srv6-$p" python3 "$SP" serve $p "$LAB_SRV1_6" 5000 >/dev/null
		lab_bg srv "srv4-$p" python3 "$SP" serve $p "$LAB_SRV1" 5004 >/dev/null
		for n in "$@"; do
			lab_bg "$n" "$n-$p" python3 "$SP" serve $p :: 6000 >/dev/null
		done
	done
	for p in tcp udp; do
		lab_wait_for 10 listening srv $p 5000 && lab_wait_for 10 listening srv $p 5004 || return 1
		for n in "$@"; do
			lab_wait_for 10 listening "$n" $p 6000 || return 1
		done
	done
}

# peer_of ANSWER: the address in "ok peer ADDR PORT", else the answer itself
peer_of() { case "$1" in "ok peer "*) echo "$1" | awk '{ print $3 }' ;; *) echo "$1" ;; esac; }
# verdict ANSWER: "ok" for any answer, else the probe's word
verdict() { echo "${1%% *}"; }

# check_side X TYPE SEEN6 V4: SEEN6 is the source srv must see (written out
# here, not taken from lab.sh); V4 the IPv4 source srv must see, or
# "unreach" for an IPv6-only side
check_side() {
	local x=$1 type=$2 seen=$3 v4=$4 X=${1^^} ext r want_tcp want_udp p
	eval "ext=\$LAB_H${X}6_EXT"
	for p in tcp udp; do
		r=$(lx "h$x" python3 "$SP" $p "$LAB_SRV1_6" 5000)
		check_eq "$type side $x: outbound IPv6 $p answered, srv saw" "$(peer_of "$r")" "$seen"
		# no IPv6 type translates ports ("ok peer ADDR PORT from LPORT")
		check_eq "$type side $x: outbound IPv6 $p port kept" "$(echo "$r" | awk '{ print $4 }')" \
			"$(echo "$r" | awk '$5 == "from" { print $6 }')"
	done
	case "$type" in
	drop|npt) want_tcp=timeout want_udp=timeout ;;
	reject) want_tcp=refused want_udp=prohibited ;;
	open) want_tcp=ok want_udp=ok ;;
	esac
	r=$(lx pub python3 "$SP" tcp "$ext" 6000)
	check_eq "$type side $x: unsolicited IPv6 TCP from pub to $ext" "$(verdict "$r")" "$want_tcp"
	r=$(lx pub python3 "$SP" udp "$ext" 6000)
	check_eq "$type side $x: unsolicited IPv6 UDP from pub to $ext" "$(verdict "$r")" "$want_udp"
	check_eq "$type side $x: ICMPv6 echo from pub to $ext passes" "$(lx pub python3 "$SP" ping6 "$ext")" ok
	r=$(lx "h$x" python3 "$SP" tcp "$LAB_SRV1" 5004)
	check_eq "$type side $x: IPv4 TCP to srv, srv saw" "$(peer_of "$r")" "$v4"
	r=$(lx "h$x" python3 "$SP" udp "$LAB_SRV1" 5004)
	check_eq "$type side $x: IPv4 UDP to srv, srv saw" "$(peer_of "$r")" "$v4"
}

lab_init labsix

# --- lab 1: drop | reject ---
if lab_up --ipv6 --fw6-a drop --fw6-b reject --lan2-a && start_services ha hb; then
	ok "lab 1 up (drop | reject)"
	r=$(lx ha2 python3 "$SP" tcp "$LAB_SRV1_6" 5000)
	check_eq "drop side a: second host ha2 (--lan2-a) reaches srv, srv saw" "$(peer_of "$r")" 2001:db8:10::11
	check_side a drop 2001:db8:10::10 198.18.1.2
	check_side b reject 2001:db8:20::10 198.18.2.2
	r=$(lx ha python3 "$SP" tcp "$LAB_HB6" 6000)
	check_eq "drop -> reject: TCP from ha to hb refused" "$(verdict "$r")" refused
	r=$(lx hb python3 "$SP" tcp "$LAB_HA6" 6000)
	check_eq "reject -> drop: TCP from hb to ha dropped" "$(verdict "$r")" timeout
else
	nok "lab 1 up (drop | reject)"
fi
lab_down

# connect_ms NODE ADDR PORT: milliseconds a TCP connect from NODE took, or "failed"
connect_ms() {
	lx "$1" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.settimeout(3)
t = time.monotonic()
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print(int((time.monotonic() - t) * 1000))
except OSError:
    print("failed")' "$2" "$3"
}

# --- lab 2: npt | open, IPv6-only; 20 ms each way on side a's WAN ---
lab_init labsix
if lab_up --ipv6 --fw6-a npt --fw6-b open --nat-b off --delay-a 20 && start_services ha hb; then
	ok "lab 2 up (npt | open IPv6-only, --delay-a 20)"
	# the delay line holds both families (a lower bound: a slow machine only adds)
	ms=$(connect_ms ha "$LAB_SRV1_6" 5000)
	check_cmd "--delay-a 20 delays IPv6: a connect from ha to srv took $ms ms (>= 40)" \
		test "$ms" != failed -a "$ms" -ge 40
	ms=$(connect_ms ha "$LAB_SRV1" 5004)
	check_cmd "--delay-a 20 delays IPv4 beside it: $ms ms (>= 40)" test "$ms" != failed -a "$ms" -ge 40
	check_side a npt 2001:db8:11::10 198.18.1.2
	check_side b open 2001:db8:20::10 unreach
	check_eq "npt: ha's address is translated" "$LAB_HA6 -> $LAB_HA6_EXT" "2001:db8:10::10 -> 2001:db8:11::10"
	r=$(lx ha python3 "$SP" tcp "$LAB_HB6" 6000)
	check_eq "npt -> open: TCP from ha reaches hb, hb saw" "$(peer_of "$r")" 2001:db8:11::10
	r=$(lx ha python3 "$SP" udp "$LAB_HB6" 6000)
	check_eq "npt -> open: UDP from ha reaches hb, hb saw" "$(peer_of "$r")" 2001:db8:11::10
	r=$(lx hb python3 "$SP" tcp "$LAB_HA6_EXT" 6000)
	check_eq "open -> npt: unsolicited TCP from hb to ha dropped" "$(verdict "$r")" timeout
	check_eq "IPv6-only side b: no IPv4 address on hb" "$(lx hb ip -4 -o addr show dev eth0 | wc -l)" 0
else
	nok "lab 2 up (npt | open IPv6-only)"
fi
lab_down

# --- lab 3: every packet on side a's WAN lost, both families ---
lab_init labsix
if lab_up --ipv6 --loss-a 100 && start_services; then
	check_eq "--loss-a 100 drops IPv6: a connect from ha to srv" "$(connect_ms ha "$LAB_SRV1_6" 5000)" failed
	check_eq "--loss-a 100 drops IPv4 beside it" "$(connect_ms ha "$LAB_SRV1" 5004)" failed
	ms=$(connect_ms hb "$LAB_SRV1_6" 5000)
	check_cmd "side b's IPv6 is not impaired ($ms ms)" test "$ms" != failed
else
	nok "lab 3 up (--ipv6 --loss-a 100)"
fi
lab_down

# without --ipv6 the options that need it are refused
lab_init labsix
if lab_up --fw6-a drop 2>/dev/null; then nok "--fw6-a without --ipv6 refused"; else ok "--fw6-a without --ipv6 refused"; fi
lab_down
[ "$fails" -eq 0 ]
