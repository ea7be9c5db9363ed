#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stunt-probe in the namespace lab: for every NAT type the lab builds and
# every answer to an unsolicited SYN it offers, the probe's verdicts equal
# the lab's configured truth, for UDP and TCP (mapping, filtering,
# allocation and the sequential delta, unsolicited-SYN answer, hop count and
# SYN TTL, no sequence-number rewriting); miniupnpd is found and a test
# mapping is made and removed through UPnP-IGD, NAT-PMP and PCP; against
# coturn (a plain STUN server) the UDP part is right and the TCP results it
# cannot give are null and named. Both sides of each lab run at once.
#
#   srv: stunt-server on 192.0.2.1/192.0.2.2 ports 3478/3479 (STUNT needs
#        root: it runs as root here), coturn on 3488/3489 in one scenario.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
BUILD=${STUNT_BUILD:-$here/../../build}
SERVER=$BUILD/stunt-server
PROBE=$BUILD/stunt-probe
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

for b in "$SERVER" "$PROBE"; do
	[ -x "$b" ] || { nok "built: $b"; exit 1; }
done

# jq-free field access: jget FILE PATH.TO.FIELD (lab.sh)

# truth NAT -> "MAPPING FILTERING ALLOCATION DELTA"
truth() {
	case "$1" in
	port-restricted) echo "EIM APDF preserving null" ;;
	full-cone) echo "EIM EIF preserving null" ;;
	restricted-cone) echo "EIM ADF preserving null" ;;
	sym-random) echo "APDM APDF random null" ;;
	sym-seq:*) echo "APDM APDF sequential ${1#sym-seq:}" ;;
	esac
}

# check_side LABEL FILE NAT SYN HOPS
check_side() {
	local label=$1 f=$2 nat=$3 syn=$4 hops=$5 want got p m fl al d
	read -r m fl al d <<<"$(truth "$nat")"
	if ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" 2>/dev/null; then
		nok "$label: stunt-probe printed one JSON object"
		sed 's/^/#   /' "$f" | head -5
		return
	fi
	ok "$label: stunt-probe printed one JSON object ($(jget "$f" elapsed_ms) ms)"
	for p in udp tcp; do
		want="$m $fl $al $d"
		got="$(jget "$f" $p.mapping) $(jget "$f" $p.filtering) $(jget "$f" $p.allocation) $(jget "$f" $p.delta)"
		if [ "$got" = "$want" ]; then
			ok "$label: $p mapping/filtering/allocation/delta = truth ($want)"
		else
			nok "$label: $p mapping/filtering/allocation/delta: got '$got', want '$want'"
		fi
	done
	# a sequential NAT's pace (others' ports per second): measured, and
	# near nothing on a lab NAT nobody else uses; none for other NATs
	got=$(jget "$f" tcp.pace_per_s)
	case "$al:$got" in
	sequential:null | sequential:) nok "$label: a sequential NAT's pace not measured" ;;
	sequential:*) python3 -c 'import sys; sys.exit(not 0 <= float(sys.argv[1]) < 20)' "$got" &&
		ok "$label: the sequential NAT's pace measured: $got ports/s besides ours (quiet lab)" ||
		nok "$label: pace $got ports/s on a quiet lab NAT" ;;
	*:null) ok "$label: no pace for a $al NAT" ;;
	*) nok "$label: pace '$got' for a $al NAT" ;;
	esac
	got=$(jget "$f" tcp.unsolicited_syn)
	[ "$got" = "$syn" ] && ok "$label: unsolicited SYN answered '$syn'" ||
		nok "$label: unsolicited SYN: got '$got', want '$syn'"
	got="$(jget "$f" tcp.nat_hops) $(jget "$f" tcp.syn_ttl)"
	[ "$got" = "$hops $((hops + 1))" ] && ok "$label: outermost NAT $hops hop(s) away, SYN TTL $((hops + 1))" ||
		nok "$label: nat_hops/syn_ttl: got '$got', want '$hops $((hops + 1))'"
	got=$(jget "$f" tcp.seq_rewrite)
	[ "$got" = false ] && ok "$label: no sequence-number rewriting seen" ||
		nok "$label: seq_rewrite: got '$got', want false"
	got=$(jget "$f" udp.hairpin)
	[ "$got" = false ] && ok "$label: no hairpinning (the lab NATs do not hairpin)" ||
		nok "$label: hairpin: got '$got', want false"
	got=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["methods"]))' "$f")
	case "$got" in *relay) ok "$label: methods: $got" ;; *) nok "$label: methods end with relay: '$got'" ;; esac
}

start_server() {
	lab_bg srv stunt-server "$SERVER" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d >/dev/null
	lab_wait_port srv udp "$LAB_SRV2" 3479 10 && lab_wait_port srv tcp "$LAB_SRV2" 3479 10
}

# scenario NAT-A SYN-A NAT-B SYN-B [lab options...]
scenario() {
	local na=$1 sa=$2 nb=$3 sb=$4 ha=1 hb=1 pa
	shift 4
	echo "# lab: A=$na/$sa B=$nb/$sb $*"
	lab_init prb
	case " $* " in *" --cgn-a "*) ha=2 ;; esac
	case " $* " in *" --cgn-b "*) hb=2 ;; esac
	if ! lab_up --nat-a "$na" --syn-a "$sa" --nat-b "$nb" --syn-b "$sb" "$@" || ! start_server; then
		nok "$na/$nb: lab and stunt-server start"
		lab_down
		return 1
	fi
	lx ha "$PROBE" --server "$LAB_SRV1" --json --timeout 10000 >"$LAB_STATE/a.json" 2>"$LAB_STATE/a.err" &
	pa=$!
	lx hb "$PROBE" --server "$LAB_SRV1" --json --timeout 10000 >"$LAB_STATE/b.json" 2>"$LAB_STATE/b.err"
	wait $pa
	check_side "A $na (syn $sa$([ "$ha" = 2 ] && echo ", CGN"))" "$LAB_STATE/a.json" "$na" "$sa" "$ha"
	check_side "B $nb (syn $sb)" "$LAB_STATE/b.json" "$nb" "$sb" "$hb"
	return 0
}

# port mapping: side X has miniupnpd
check_portmap() {
	local f=$1 node=$2 p got
	for p in upnp natpmp pcp; do
		got="$(jget "$f" port_mapping.$p) $(jget "$f" port_mapping.${p}_test.mapped) $(jget "$f" port_mapping.${p}_test.removed)"
		[ "$got" = "true true true" ] && ok "$p: gateway found, test mapping made and removed" ||
			nok "$p: found/mapped/removed: got '$got', want 'true true true'"
	done
	got=$(jget "$f" port_mapping.external_ip)
	[ "$got" = "$LAB_WANB" ] && ok "port mapping: external address $got" ||
		nok "port mapping: external address '$got', want '$LAB_WANB'"
	# nothing of ours is left in miniupnpd's chains
	if lx "$node" nft list table inet miniupnpd 2>/dev/null | grep -q 'dport'; then
		nok "port mapping: no test mapping left in the gateway's ruleset"
		lx "$node" nft list table inet miniupnpd | sed 's/^/#   /' | grep dport
	else
		ok "port mapping: no test mapping left in the gateway's ruleset"
	fi
	got=$(jget "$f" methods.0)
	[ "$got" = portmap ] && ok "port mapping: methods start with portmap" ||
		nok "port mapping: first method '$got', want portmap"
}

scenario port-restricted rst full-cone drop
lab_down
scenario restricted-cone icmp sym-random rst
lab_down
scenario sym-seq:1 drop sym-seq:3 icmp
lab_down
if scenario port-restricted rst restricted-cone drop --cgn-a --upnp-b; then
	check_portmap "$LAB_STATE/b.json" gwb
	# the side without a gateway that maps: all three say no
	got="$(jget "$LAB_STATE/a.json" port_mapping.upnp) $(jget "$LAB_STATE/a.json" port_mapping.natpmp) $(jget "$LAB_STATE/a.json" port_mapping.pcp)"
	[ "$got" = "false false false" ] && ok "no port mapping on a gateway without miniupnpd" ||
		nok "no port mapping on a gateway without miniupnpd: got '$got'"
	# --pcap writes a capture of the probe's traffic with the server
	lx ha "$PROBE" --server "$LAB_SRV1" --udp-only --no-portmap --pcap "$LAB_STATE/p.pcap" >/dev/null 2>&1
	n=$(lx ha tcpdump -nr "$LAB_STATE/p.pcap" 2>/dev/null | grep -c "192.0.2.[12]")
	[ "${n:-0}" -ge 10 ] && ok "--pcap: $n packets with the server captured" || nok "--pcap: $n packets captured"
fi
lab_down

# A plain STUN server: coturn with two addresses
echo "# lab: coturn (plain STUN server), A=full-cone B=sym-seq:2"
lab_init prb
if lab_up --nat-a full-cone --nat-b sym-seq:2; then
	mkdir -p "$LAB_STATE/turn"
	lab_bg srv coturn turnserver -n --stun-only --no-auth --no-tls --no-dtls --no-cli \
		--listening-ip "$LAB_SRV1" --listening-ip "$LAB_SRV2" \
		--listening-port 3488 --alt-listening-port 3489 \
		--log-file stdout --simple-log --pidfile "$LAB_STATE/turn.pid" \
		--db "$LAB_STATE/turn/db.sqlite" >/dev/null
	lab_wait_port srv udp "$LAB_SRV2" 3489 10
	lx ha "$PROBE" --server "$LAB_SRV1:3488" --json --timeout 10000 >"$LAB_STATE/a.json" 2>/dev/null &
	pa=$!
	lx hb "$PROBE" --server "$LAB_SRV1:3488" --json --timeout 10000 >"$LAB_STATE/b.json" 2>/dev/null
	wait $pa
	for s in "a full-cone" "b sym-seq:2"; do
		read -r x nat <<<"$s"
		f=$LAB_STATE/$x.json
		read -r m fl al d <<<"$(truth "$nat")"
		got="$(jget "$f" udp.mapping) $(jget "$f" udp.filtering) $(jget "$f" udp.allocation) $(jget "$f" udp.delta)"
		[ "$got" = "$m $fl $al $d" ] && ok "coturn, $nat: UDP verdict = truth ($got)" ||
			nok "coturn, $nat: UDP verdict: got '$got', want '$m $fl $al $d'"
		got="$(jget "$f" tcp.filtering) $(jget "$f" tcp.unsolicited_syn) $(jget "$f" tcp.seq_rewrite) $(jget "$f" tcp.stunt)"
		[ "$got" = "null null null false" ] && ok "coturn, $nat: TCP results it cannot give are null" ||
			nok "coturn, $nat: TCP filtering/unsolicited/seq/stunt: got '$got', want 'null null null false'"
		if grep -q "does not speak STUNT" "$f"; then
			ok "coturn, $nat: the output says which TCP results were not measured"
		else
			nok "coturn, $nat: the output says which TCP results were not measured"
		fi
	done
	# human output says it too
	if lx ha "$PROBE" --server "$LAB_SRV1:3488" --no-portmap --no-ttl | grep -q "Filtering: not measured"; then
		ok "coturn: human output names the unmeasured TCP filtering"
	else
		nok "coturn: human output names the unmeasured TCP filtering"
	fi
else
	nok "coturn lab builds"
fi
lab_down

# Unreachable server: exit code 3, and usage errors: 2
lab_init prb
if lab_up --nat-a port-restricted --nat-b port-restricted; then
	lx ha "$PROBE" --server "$LAB_SRV1" --timeout 500 --no-portmap >/dev/null 2>&1
	rc=$?
	[ "$rc" = 3 ] && ok "no server: exit code 3" || nok "no server: exit code $rc, want 3"
fi
lab_down
"$PROBE" >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] && ok "no --server: exit code 2" || nok "no --server: exit code $rc, want 2"
"$PROBE" --server 192.0.2.1 --udp-only --tcp-only >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] && ok "--udp-only with --tcp-only: exit code 2" || nok "--udp-only --tcp-only: exit code $rc, want 2"

[ "$fails" -eq 0 ]
