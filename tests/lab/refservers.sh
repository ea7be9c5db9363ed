# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Reference STUN servers and independent NAT classifiers for lab tests
# (source after lab.sh, inside a lab):
#
#   ref_start_stund [PORT ALT-PORT]    Vovida stund on srv's two addresses (3478/3479)
#   ref_start_coturn [PORT ALT-PORT]   coturn turnserver --stun-only, RFC 5780 (3488/3489)
#   ref_vovida NODE SERVER[:PORT]      "MAPPING FILTERING" + the tool's own words
#   ref_natdisc NODE PORT              "MAPPING FILTERING" from turnutils_natdiscovery -m -f
#
# Verdicts use the RFC 4787 words (EIM ADM APDM / EIF ADF APDF), "none" for no
# NAT and "null" for no verdict.

ref_start_stund() {
	local p=${1:-3478} a=${2:-3479}
	lab_bg srv "stund-$p" stund -h "$LAB_SRV1" -a "$LAB_SRV2" -p "$p" -o "$a" >/dev/null
	lab_wait_port srv udp "$LAB_SRV2" "$a" 10
}

ref_start_coturn() {
	local p=${1:-3488} a=${2:-3489}
	mkdir -p "$LAB_STATE/turn-$p"
	lab_bg srv "coturn-$p" turnserver -n --stun-only --no-auth --no-tls --no-dtls --no-cli \
		--listening-ip "$LAB_SRV1" --listening-ip "$LAB_SRV2" \
		--listening-port "$p" --alt-listening-port "$a" \
		--log-file stdout --simple-log --pidfile "$LAB_STATE/turn-$p/pid" \
		--db "$LAB_STATE/turn-$p/db.sqlite" >/dev/null
	lab_wait_port srv udp "$LAB_SRV2" "$a" 10
}

# Vovida's "Primary:" line, e.g. "Independent Mapping, Port Dependent Filter,
# preserves ports, no hairpin". It names no filtering behind a symmetric NAT.
ref_vovida() {
	local line m=null f=null
	line=$(lx "$1" timeout 20 stun "$2" 2>&1 | sed -n 's/^Primary: //p' | sed 's/[[:space:]]*$//')
	case "$line" in
	*"Independent Mapping"*) m=EIM ;;
	*"Address Dependent Mapping"*) m=ADM ;;
	*"Dependent Mapping"*) m=APDM ;;
	Open*) m=none ;;
	esac
	case "$line" in
	*"Independent Filter"*) f=EIF ;;
	*"Address Dependent Filter"*) f=ADF ;;
	*"Port Dependent Filter"*) f=APDF ;;
	esac
	echo "$m $f $line"
}

ref_natdisc() {
	local out m=null f=null
	out=$(lx "$1" timeout 40 turnutils_natdiscovery -m -f -p "$2" "$LAB_SRV1" 2>&1)
	case "$out" in
	*"NAT with Endpoint Independent Mapping!"*) m=EIM ;;
	*"NAT with Address and Port Dependent Mapping!"*) m=APDM ;;
	*"NAT with Address Dependent Mapping!"*) m=ADM ;;
	*"No NAT"*) m=none ;;
	esac
	case "$out" in
	*"NAT with Endpoint Independent Filtering!"*) f=EIF ;;
	*"NAT with Address and Port Dependent Filtering!"*) f=APDF ;;
	*"NAT with Address Dependent Filtering!"*) f=ADF ;;
	esac
	echo "$m $f"
}

# ref_start_turn PORT USER PASS [REALM]: coturn as a TURN server with
# long-term credentials and TCP relays (RFC 6062) on srv's first address.
# coturn refuses some special-purpose peer ranges by default; the lab's
# 198.18.0.0/15 and 192.0.2.0/24 are allowed explicitly.
ref_start_turn() {
	ref_start_turn_at srv "$LAB_SRV1" "" "$@"
}

# ref_start_turn_at NODE IP4 IP6 PORT USER PASS [REALM]: the same in NODE,
# listening and relaying on IP4 and, unless IP6 is empty, on IP6 too (the
# lab's 2001:db8::/32 allowed as peers; an IPv6 relayed address needs its
# own --relay-ip).
ref_start_turn_at() {
	local node=$1 ip4=$2 ip6=$3 p=$4 user=$5 pass=$6 realm=${7:-lab} v6=()
	[ -n "$ip6" ] && v6=(--listening-ip "$ip6" --relay-ip "$ip6"
		--allowed-peer-ip=2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff)
	mkdir -p "$LAB_STATE/turn-$p"
	lab_bg "$node" "coturn-$p" turnserver -n --lt-cred-mech --user "$user:$pass" --realm "$realm" \
		--no-tls --no-dtls --no-cli --listening-ip "$ip4" --relay-ip "$ip4" ${v6[@]+"${v6[@]}"} \
		--listening-port "$p" --allowed-peer-ip=198.18.0.0-198.19.255.255 \
		--allowed-peer-ip=192.0.2.0-192.0.2.255 --verbose \
		--log-file stdout --simple-log --pidfile "$LAB_STATE/turn-$p/pid" \
		--db "$LAB_STATE/turn-$p/db.sqlite" >/dev/null
	lab_wait_port "$node" tcp "$ip4" "$p" 10 || return 1
	[ -z "$ip6" ] && return 0
	lab_wait_for 10 eval 'lx "$node" ss -Hltn "sport = :$p" | grep -qF "[$ip6]:$p"' || {
		echo "# lab: coturn not listening on [$ip6]:$p in $node" >&2
		return 1
	}
}
