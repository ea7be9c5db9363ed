#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lab self-test: prove that every NAT the lab offers behaves as its name says.
# Measured with tests/lab/natcheck.py (plain sockets, no stunt code) and
# cross-checked with two independent classifiers run against reference servers
# inside the lab: Debian's Vovida `stun` client against `stund`, and coturn's
# `turnutils_natdiscovery` against `turnserver`. Writes the measured table to
# $STUNT_BUILD/lab-table.md (docs/lab.md holds a copy).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/refservers.sh
. "$here/refservers.sh"
NC="$here/natcheck.py"
OUT=${STUNT_BUILD:-$here/../../build}
mkdir -p "$OUT"
TABLE="$OUT/lab-table.md"
ROWS=$(mktemp)
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# jf JSON KEY: one field of a JSON object (null -> "null")
jf() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("null" if v is None else str(v).lower() if isinstance(v,bool) else v)' "$1" "$2"; }

start_servers() {
	lab_bg srv reflect python3 "$NC" reflect "$LAB_SRV1" "$LAB_SRV2" 5000 5001 >/dev/null
	ref_start_stund && ref_start_coturn && lab_wait_port srv tcp "$LAB_SRV2" 5001 10
}

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# measure_side X LABEL NAT SYN  -- all checks for side X; prints ok/not ok lines and one table row
measure_side() {
	local x=$1 label=$2 nat=$3 syn=$4 X=${1^^} r wmap wfilt walloc wdelta=null hops wan t0
	local um uf ua ud tm tf ta td un vv vt ct cm tt
	case "$nat" in
	port-restricted) wmap=EIM wfilt=APDF walloc=preserving ;;
	full-cone) wmap=EIM wfilt=EIF walloc=preserving ;;
	restricted-cone) wmap=EIM wfilt=ADF walloc=preserving ;;
	sym-random) wmap=APDM wfilt=APDF walloc=random ;;
	eim-random) wmap=EIM wfilt=APDF walloc=random ;;
	sym-seq:*) wmap=APDM wfilt=APDF walloc=sequential wdelta=${nat#sym-seq:} ;;
	esac
	eval "hops=\$LAB_HOPS_$X wan=\$LAB_WAN$X"
	for proto in udp tcp; do
		r=$(lx "h$x" python3 "$NC" mapping $proto "$LAB_SRV1" "$LAB_SRV2" 5000 5001)
		check_eq "$label $proto mapping" "$(jf "$r" mapping)" "$wmap"
		eval "${proto:0:1}m=\$(jf \"\$r\" mapping)"
		r=$(lx "h$x" python3 "$NC" filtering $proto "$LAB_SRV1" 5000)
		check_eq "$label $proto filtering" "$(jf "$r" filtering)" "$wfilt"
		eval "${proto:0:1}f=\$(jf \"\$r\" filtering)"
		r=$(lx "h$x" python3 "$NC" allocation $proto "$LAB_SRV1" 5000 6)
		check_eq "$label $proto allocation" "$(jf "$r" allocation)" "$walloc"
		check_eq "$label $proto delta" "$(jf "$r" delta)" "$wdelta"
		eval "${proto:0:1}a=\$(jf \"\$r\" allocation)"
		eval "${proto:0:1}d=\$(jf \"\$r\" delta)"
	done
	# an unsolicited SYN from the internet at a port with no mapping
	r=$(lx srv python3 "$NC" unsolicited "$wan" 40000)
	un=$(jf "$r" unsolicited_syn)
	check_eq "$label unsolicited SYN answer" "$un" "$syn"
	# TTL = number of NAT layers: dies at the outermost NAT; +1: crosses it, dies at inet
	local inet_addr
	inet_addr=$(lx inet ip -4 -o addr show dev "w$x" | awk '{print $4}' | cut -d/ -f1)
	r=$(lx "h$x" python3 "$NC" ttl "$LAB_SRV1" 5000 $((hops + 1)))
	check_eq "$label SYN with TTL $((hops + 1)) crosses the NAT, dies at inet" "$(jf "$r" time_exceeded_from)" "$inet_addr"
	tt="TTL $((hops + 1)): ICMP from $(jf "$r" time_exceeded_from)"
	r=$(lx "h$x" python3 "$NC" ttl "$LAB_SRV1" 5000 "$hops")
	if [ "$(jf "$r" time_exceeded_from)" != null ] && [ "$(jf "$r" time_exceeded_from)" != "$inet_addr" ]; then
		ok "$label SYN with TTL $hops dies inside the NAT ($(jf "$r" time_exceeded_from))"
	else
		nok "$label SYN with TTL $hops dies inside the NAT: $r"
	fi
	r=$(lx "h$x" python3 "$NC" ttl "$LAB_SRV1" 5000 64)
	check_eq "$label SYN with TTL 64 connects" "$(jf "$r" connected)" true
	# independent classifiers (UDP)
	t0=$(date +%s%N)
	vv=$(ref_vovida "h$x" "$LAB_SRV1")
	vt=$(ms_since "$t0")
	check_eq "$label Vovida stun mapping" "${vv%% *}" "$wmap"
	# Vovida reports no filtering for a symmetric NAT
	[ "$wmap" = EIM ] && check_eq "$label Vovida stun filtering" "$(echo "$vv" | cut -d' ' -f2)" "$wfilt"
	t0=$(date +%s%N)
	cm=$(ref_natdisc "h$x" 3488)
	ct=$(ms_since "$t0")
	check_eq "$label coturn natdiscovery mapping" "${cm% *}" "$wmap"
	check_eq "$label coturn natdiscovery filtering" "${cm#* }" "$wfilt"
	[ "$ud" = null ] && ud="" || ud=" Δ$ud"
	[ "$td" = null ] && td="" || td=" Δ$td"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s (%s ms) | %s %s (%s ms) |\n' \
		"$label" "$um" "$uf" "$tm" "$tf" "udp $ua$ud, tcp $ta$td" "$un" "$tt" \
		"$(echo "$vv" | cut -d' ' -f3-)" "$vt" "${cm% *}" "${cm#* }" "$ct" >>"$ROWS.$x"
}

# scenario NAME A-NAT A-SYN B-NAT B-SYN [extra lab_up args]
scenario() {
	local name=$1 na=$2 sa=$3 nb=$4 sb=$5 la lb
	shift 5
	echo "# scenario $name: A=$na/$sa B=$nb/$sb $*"
	lab_init lab
	if ! lab_up --nat-a "$na" --syn-a "$sa" --nat-b "$nb" --syn-b "$sb" "$@"; then
		nok "$name: lab builds"
		lab_down
		return
	fi
	ok "$name: lab builds"
	if ! start_servers; then
		nok "$name: reflector, stund and coturn start"
		lab_down
		return
	fi
	la="$na (syn $sa)"
	lb="$nb (syn $sb)"
	case " $* " in *" --cgn-a "*) la="$la + CGN" ;; esac
	case " $* " in *" --same-subnet "*) la="$la, same subnet"; lb="$lb, same subnet" ;; esac
	# the two sides are independent NATs: measure them at the same time
	measure_side a "$la" "$na" "$sa" >"$ROWS.a.out" 2>&1 &
	local pa=$!
	measure_side b "$lb" "$nb" "$sb" >"$ROWS.b.out" 2>&1
	wait $pa
	cat "$ROWS.a.out" "$ROWS.b.out"
	fails=$((fails + $(grep -c '^not ok' "$ROWS.a.out" "$ROWS.b.out" | awk -F: '{s+=$2} END {print s}')))
	cat "$ROWS.a" "$ROWS.b" >>"$ROWS" 2>/dev/null
	rm -f "$ROWS.a" "$ROWS.b" "$ROWS.a.out" "$ROWS.b.out"
	lab_down
}

scenario s1 port-restricted rst full-cone drop
scenario s2 restricted-cone icmp sym-random rst
scenario s3 sym-seq:1 drop sym-seq:3 icmp
scenario s4 port-restricted rst sym-seq:2 rst --cgn-a --same-subnet
scenario s4b eim-random drop full-cone rst

# Port mapping with real miniupnpd, and link impairment.
echo "# scenario s5: miniupnpd on gateway A; 20 ms each way and 10 % loss each way on side B"
lab_init lab
if lab_up --upnp-a --delay-b 20 --loss-b 10 && start_servers; then
	ok "s5: lab builds"
	out=$(lx ha timeout 10 upnpc -s 2>&1)
	check_eq "s5 UPnP-IGD external address" "$(echo "$out" | sed -n 's/^ExternalIPAddress = //p' | head -1)" "$LAB_WANA"
	lx ha timeout 10 upnpc -e stunt-lab -a "$LAB_HA" 41000 41000 TCP >/dev/null 2>&1
	if lx gwa nft list chain inet miniupnpd prerouting_miniupnpd | grep -q "dport 41000 dnat ip to $LAB_HA:41000"; then
		ok "s5 UPnP-IGD mapping made in the gateway's ruleset"
	else
		nok "s5 UPnP-IGD mapping made in the gateway's ruleset"
	fi
	# a mapped port is reachable from the internet
	lab_bg ha listener python3 -c 'import socket;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("0.0.0.0",41000));s.listen(1);c,_=s.accept();c.sendall(b"mapped\n")' >/dev/null
	lab_wait_port ha tcp 0.0.0.0 41000 5
	got=$(lx srv python3 -c 'import socket,sys;s=socket.create_connection((sys.argv[1],41000),3);print(s.recv(64).decode().strip())' "$LAB_WANA" 2>&1)
	check_eq "s5 UPnP-mapped port reachable from the internet" "$got" mapped
	lx ha timeout 10 upnpc -d 41000 TCP >/dev/null 2>&1
	if lx gwa nft list chain inet miniupnpd prerouting_miniupnpd | grep -q "dport 41000"; then
		nok "s5 UPnP-IGD mapping removed"
	else
		ok "s5 UPnP-IGD mapping removed"
	fi
	out=$(lx ha timeout 10 natpmpc -g "$LAB_GWA_LAN" -a 42000 42000 tcp 60 2>&1)
	check_eq "s5 NAT-PMP public address" "$(echo "$out" | sed -n 's/^Public IP address : //p' | head -1)" "$LAB_WANA"
	if echo "$out" | grep -q "Mapped public port 42000 protocol TCP to local port 42000"; then
		ok "s5 NAT-PMP mapping made"
	else
		nok "s5 NAT-PMP mapping made: $out"
	fi
	lx ha timeout 10 natpmpc -g "$LAB_GWA_LAN" -a 42000 42000 tcp 0 >/dev/null 2>&1
	if lx gwa nft list chain inet miniupnpd prerouting_miniupnpd | grep -q "dport 42000"; then
		nok "s5 NAT-PMP mapping removed (lifetime 0)"
	else
		ok "s5 NAT-PMP mapping removed (lifetime 0)"
	fi
	# impairment: the same echo through the clean side and the impaired side
	ra=$(lx ha python3 "$NC" rtt udp "$LAB_SRV1" 5000 100)
	rb=$(lx hb python3 "$NC" rtt udp "$LAB_SRV1" 5000 300)
	meda=$(jf "$ra" rtt_median_ms)
	medb=$(jf "$rb" rtt_median_ms)
	lossb=$(jf "$rb" loss_pct)
	if awk -v a="$meda" -v b="$medb" 'BEGIN { exit !(b >= a + 40) }'; then
		ok "s5 delay 20 ms each way adds >= 40 ms RTT (clean $meda ms, impaired $medb ms)"
	else
		nok "s5 delay 20 ms each way adds >= 40 ms RTT (clean $meda ms, impaired $medb ms)"
	fi
	# 10 % each way: 1 - 0.9^2 = 19 % of round trips lost; 300 samples, sd ~2.3 %
	if awk -v l="$lossb" 'BEGIN { exit !(l >= 10 && l <= 28) }'; then
		ok "s5 loss 10 % each way loses ~19 % of round trips ($lossb %)"
	else
		nok "s5 loss 10 % each way loses ~19 % of round trips ($lossb %)"
	fi
	check_eq "s5 clean side loses nothing" "$(jf "$ra" lost)" 0
	IMPAIR="clean side: median RTT $meda ms, 0 of 100 lost; side with 20 ms + 10 % each way: median RTT $medb ms, $lossb % of 300 round trips lost"
else
	nok "s5: lab builds"
fi
lab_down

# Mapping timeout: a full-cone UDP mapping lets anyone in while it lives and
# is gone (conntrack entry and cone map entry) once idle past --udp-timeout.
echo "# scenario s6: full cone with a 2 s UDP mapping timeout"
lab_init lab
if lab_up --nat-a full-cone --udp-timeout 2 && start_servers; then
	ok "s6: lab builds"
	# mapped: gwa's cone map has ha's port 43000 ("43000 expires 1s964ms :
	# 10.1.0.10 . 43000" while it lives); tracked: so has conntrack
	mapped() { lx gwa nft list map ip lab cone_udp | grep -Eq '(^|[{,[:space:]])43000 (expires [^ ]+ )?:'; }
	tracked() { [ "$(lx gwa conntrack -L -p udp --orig-port-src 43000 2>/dev/null | grep -c 43000)" -gt 0 ]; }
	expired() { ! mapped && ! tracked; }
	# ha sends one datagram from port 43000 (open) or only listens there
	# (listen); pub then knocks on WAN:43000; prints what ha received
	# (python's 2 s receive timeout is the window in which nothing may come)
	knock() {
		lab_bg ha knock$1 python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("0.0.0.0",43000))
if sys.argv[1]=="open": s.sendto(b"x",(sys.argv[2],5000))
s.settimeout(2)
try: print(s.recvfrom(64)[0].decode())
except OSError: print("nothing")' "$2" "$LAB_SRV1" >/dev/null
		lab_wait_port ha udp 0.0.0.0 43000 5 || { echo "ha not bound to udp 43000 within 5 s"; return; }
		if [ "$2" = open ] && ! lab_wait_for 5 mapped; then
			echo "no cone mapping for 43000 in gwa within 5 s"
			return
		fi
		lx pub python3 -c 'import socket,sys;socket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b"knock",(sys.argv[1],43000))' "$LAB_WANA"
		lab_wait_file "$LAB_STATE/knock$1.log" 10 || { echo "ha's receiver silent after 10 s"; return; }
		cat "$LAB_STATE/knock$1.log"
	}
	check_eq "s6 a live full-cone mapping lets a stranger in" "$(knock 1 open)" knock
	# the checks below name what is left when this bound passes
	lab_wait_for 15 expired
	n=$(lx gwa conntrack -L -p udp --orig-port-src 43000 2>/dev/null | grep -c 43000)
	check_eq "s6 conntrack entry gone after the timeout" "$n" 0
	if mapped; then
		nok "s6 cone map entry gone after the timeout"
	else
		ok "s6 cone map entry gone after the timeout"
	fi
	check_eq "s6 an expired mapping lets nobody in" "$(knock 2 listen)" nothing
else
	nok "s6: lab builds"
fi
lab_down

{
	echo "| NAT type | UDP mapping | UDP filtering | TCP mapping | TCP filtering | allocation | unsolicited-SYN answer | TTL-limited SYN | Vovida verdict (time) | coturn verdict (time) |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	cat "$ROWS"
	echo
	echo "Impairment: ${IMPAIR:-not measured}"
} >"$TABLE"
rm -f "$ROWS"
echo "# table written to $TABLE"
[ "$fails" -eq 0 ]
