# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# IPv6 in the stunt lab (lab_up --ipv6; sourced by lab.sh). Without --ipv6
# none of this runs and the lab is the IPv4 one it always was.
#
# Addresses (documentation prefix 2001:db8::/32, one /64 per link; k = 1 for
# side a, 2 for side b):
#   srv link 2001:db8:5::/64   srv 2001:db8:5::1 (primary), ::2 (alternate), inet ::fe
#   pub link 2001:db8:6::/64   pub 2001:db8:6::10, inet ::fe
#   WAN X    2001:db8:k::/64   inet ::1, gwX ::2
#   LAN X    2001:db8:k0::/64  gwX ::1, hX ::10, hX2 ::11
#   NPT X    2001:db8:k1::/64  what LAN X is translated to with --fw6-X npt
#   CGN X    2001:db8:k2::/64  cgnX ::1, gwX ::2 (--cgn-X: the carrier's link)
# inet routes every LAN prefix (the NPT prefix instead with npt) to its
# gateway; there is no IPv6 NAT but NPTv6.
#
# With --cgn-X side X's IPv6 crosses the carrier's router too (hX -> gwX ->
# cgnX -> inet), and the FW6 type is the carrier's (cgnX, hop 2 from hX):
# gwX only routes IPv6, like a home router behind an ISP's firewall. A
# first SYN then needs hop limit 3 to open it.
#
# Gateway types (--fw6-a / --fw6-b), nft table "ip6 lab6" on gwX, forward hook:
#   drop    RFC 6092 stateful firewall: outbound allowed, established and
#           related inbound allowed, ICMPv6 echo requests allowed (RFC 4890),
#           any other unsolicited inbound dropped (the default)
#   reject  the same, but unsolicited inbound TCP is answered with an RST and
#           UDP with ICMPv6 administratively prohibited (as RFC 6092 allows)
#   npt     NPTv6 (RFC 6296): LAN X translated one to one to NPT X, host bits
#           kept (nft "snat/dnat ip6 prefix to", which this lab's nftables
#           1.0.6 and kernel 6.18 accept), plus the drop firewall
#   open    routing only, no firewall

LAB_SRV1_6=2001:db8:5::1
LAB_SRV2_6=2001:db8:5::2
LAB_PUB6=2001:db8:6::10

# _lab6_ns NODE: the IPv6 settings a new namespace needs before it has any
# link (lab_up --ipv6): no duplicate address detection (a tentative address,
# link-local ones too, cannot answer neighbour discovery, which under load
# left connects waiting for seconds) and no ICMPv6 rate limit (1 error a
# second by default: a rejecting gateway's answers would go missing).
_lab6_ns() {
	lx "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.icmp.ratelimit=0
}

# _lab6_router NODE: forwarding on before the links exist (a link made
# after it is a router's link from the start)
_lab6_router() {
	lx "$1" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1
}

# _lab6_core: inet's srv and pub links (already made by lab_up) get IPv6.
_lab6_core() {
	lx inet ip addr add 2001:db8:5::fe/64 dev srv nodad &&
		lx srv ip addr add "$LAB_SRV1_6/64" dev eth0 nodad &&
		lx srv ip addr add "$LAB_SRV2_6/64" dev eth0 nodad &&
		lx srv ip -6 route add default via 2001:db8:5::fe &&
		lx inet ip addr add 2001:db8:6::fe/64 dev pub nodad &&
		lx pub ip addr add "$LAB_PUB6/64" dev eth0 nodad &&
		lx pub ip -6 route add default via 2001:db8:6::fe
}

# _lab6_fw_rules TYPE LAN EXT: the nft ruleset of a gateway of TYPE whose
# LAN prefix is LAN (translated to EXT with npt); prints the file's name.
_lab6_fw_rules() {
	local type=$1 lan=$2 ext=$3 f="$LAB_STATE/fw6-$1-${2%%::*}.nft"
	case "$type" in
	drop|reject|npt|open) ;;
	*) echo "lab: unknown IPv6 gateway type '$type' (drop|reject|npt|open)" >&2; return 1 ;;
	esac
	{
		echo "table ip6 lab6 {"
		if [ "$type" != open ]; then
			echo "  chain forward {"
			echo "    type filter hook forward priority filter; policy accept;"
			echo "    ct state established,related accept"
			echo "    iifname \"wan\" icmpv6 type echo-request accept"
			if [ "$type" = reject ]; then
				echo "    iifname \"wan\" meta l4proto tcp reject with tcp reset"
				echo "    iifname \"wan\" meta l4proto udp reject with icmpv6 type admin-prohibited"
			fi
			echo "    iifname \"wan\" drop"
			echo "  }"
		fi
		if [ "$type" = npt ]; then
			# one to one, host bits kept: a flow's translation is the
			# prefix map, not a port or address chosen per flow
			echo "  chain post {"
			echo "    type nat hook postrouting priority srcnat; policy accept;"
			echo "    oifname \"wan\" ip6 saddr $lan snat ip6 prefix to ip6 saddr map { $lan : $ext }"
			echo "  }"
			echo "  chain pre {"
			echo "    type nat hook prerouting priority dstnat; policy accept;"
			echo "    iifname \"wan\" ip6 daddr $ext dnat ip6 prefix to ip6 daddr map { $ext : $lan }"
			echo "  }"
		fi
		echo "}"
	} >"$f"
	echo "$f"
}

# _lab6_side X TYPE LAN2 [CGN]: IPv6 on side X's links (made by _lab_side)
# and its gateway's TYPE (CGN 1: the carrier router's, gwX routing only);
# exports LAB_HX6 (the host's address), LAB_HX6_EXT (the address the
# internet sees: the NPT one with npt, else the same), LAB_HX2_6 /
# LAB_HX2_6_EXT with --lan2-X, LAB_WANX6, LAB_FW6_X.
_lab6_side() {
	local x=$1 type=$2 lan2=$3 cgn=${4:-0} k X=${1^^} lan ext f fwnode
	[ "$x" = a ] && k=1 || k=2
	lan="2001:db8:${k}0::/64"
	ext=$lan
	fwnode="gw$x"
	[ "$type" = npt ] && ext="2001:db8:${k}1::/64"
	if [ "$cgn" = 1 ]; then
		fwnode="cgn$x"
		lx inet ip addr add "2001:db8:$k::1/64" dev "w$x" nodad &&
			lx "cgn$x" ip addr add "2001:db8:$k::2/64" dev wan nodad &&
			lx "cgn$x" ip -6 route add default via "2001:db8:$k::1" &&
			lx inet ip -6 route add "$ext" via "2001:db8:$k::2" &&
			lx "cgn$x" ip addr add "2001:db8:${k}2::1/64" dev lan nodad &&
			lx "cgn$x" ip -6 route add "$lan" via "2001:db8:${k}2::2" &&
			lx "gw$x" ip addr add "2001:db8:${k}2::2/64" dev wan nodad &&
			lx "gw$x" ip -6 route add default via "2001:db8:${k}2::1" || return 1
	else
		lx inet ip addr add "2001:db8:$k::1/64" dev "w$x" nodad &&
			lx "gw$x" ip addr add "2001:db8:$k::2/64" dev wan nodad &&
			lx "gw$x" ip -6 route add default via "2001:db8:$k::1" &&
			lx inet ip -6 route add "$ext" via "2001:db8:$k::2" || return 1
	fi
	lx "gw$x" ip addr add "2001:db8:${k}0::1/64" dev lan nodad &&
		lx "h$x" ip addr add "2001:db8:${k}0::10/64" dev eth0 nodad &&
		lx "h$x" ip -6 route add default via "2001:db8:${k}0::1" || return 1
	eval "LAB_H${X}6=2001:db8:${k}0::10 LAB_H${X}6_EXT=${ext%%::*}::10 LAB_WAN${X}6=2001:db8:$k::2 LAB_FW6_$X=$type"
	if [ "$lan2" = 1 ]; then
		lx "h${x}2" ip addr add "2001:db8:${k}0::11/64" dev eth0 nodad &&
			lx "h${x}2" ip -6 route add default via "2001:db8:${k}0::1" || return 1
		eval "LAB_H${X}2_6=2001:db8:${k}0::11 LAB_H${X}2_6_EXT=${ext%%::*}::11"
	fi
	f=$(_lab6_fw_rules "$type" "$lan" "$ext") || return 1
	lx "$fwnode" nft -f "$f"
}
