#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of stunt-probe (issue 4): run time and accuracy per NAT type, in
# the namespace lab with 20 ms each way on side A's WAN link (RTT 40 ms), next
# to Vovida `stun` (against stund on 3478/3479) and coturn's
# `turnutils_natdiscovery -m -f` (against turnserver on 3488/3489), in the same
# run; stunt-server listens on 3578/3579. Accuracy: the UDP mapping + filtering
# verdict against the lab's truth (Vovida names no filtering behind a
# symmetric NAT: mapping only there). Writes the "## stunt-probe" section of
# docs/benchmarks.md. Timing is measured here only, never asserted.
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init stunt-top
# shellcheck source=tests/lab/lab.sh
. "$TOP/tests/lab/lab.sh"
PROBE=$STUNT_BUILD/stunt-probe
SERVER=$STUNT_BUILD/stunt-server
RUNS=${BENCH_RUNS:-3}
[ -x "$PROBE" ] && [ -x "$SERVER" ] || { echo "bench probe: build first" >&2; exit 1; }
rows=$(mktemp)

ms() { date +%s%3N; }
truth() {
	case "$1" in
	port-restricted) echo "EIM APDF" ;; full-cone) echo "EIM EIF" ;;
	restricted-cone) echo "EIM ADF" ;; sym-*) echo "APDM APDF" ;;
	esac
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

NATS=${BENCH_PROBE_NATS-port-restricted full-cone restricted-cone sym-random sym-seq:1 sym-seq:3}
for nat in $NATS; do
	lab_init bpr
	lab_up --nat-a "$nat" --delay-a 20 || { echo "bench probe: lab $nat failed" >&2; lab_down; continue; }
	lab_bg srv stunt-server "$SERVER" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" --port 3578 --alt-port 3579 -d >/dev/null
	lab_bg srv stund stund -h "$LAB_SRV1" -a "$LAB_SRV2" >/dev/null
	mkdir -p "$LAB_STATE/turn"
	lab_bg srv coturn turnserver -n --stun-only --no-auth --no-tls --no-dtls --no-cli \
		--listening-ip "$LAB_SRV1" --listening-ip "$LAB_SRV2" --listening-port 3488 --alt-listening-port 3489 \
		--log-file stdout --simple-log --pidfile "$LAB_STATE/turn.pid" --db "$LAB_STATE/turn/db.sqlite" >/dev/null
	lab_wait_port srv udp "$LAB_SRV2" 3579 10; lab_wait_port srv udp "$LAB_SRV2" 3479 10; lab_wait_port srv udp "$LAB_SRV2" 3489 10
	want=$(truth "$nat")
	tp=(); tv=(); tc=(); okp=0; okv=0; okc=0; okt=0
	for ((i = 0; i < RUNS; i++)); do
		t0=$(ms); lx ha "$PROBE" --server "$LAB_SRV1:3578" --json >"$LAB_STATE/p.json" 2>/dev/null; tp+=($(($(ms) - t0)))
		got=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["udp"]["mapping"], j["udp"]["filtering"]); ' "$LAB_STATE/p.json" 2>/dev/null)
		[ "$got" = "$want" ] && okp=$((okp + 1))
		gt=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["tcp"]["mapping"], j["tcp"]["filtering"])' "$LAB_STATE/p.json" 2>/dev/null)
		[ "$gt" = "$want" ] && okt=$((okt + 1))
		t0=$(ms); out=$(lx ha timeout 20 stun "$LAB_SRV1" 2>&1 | sed -n 's/^Primary: //p'); tv+=($(($(ms) - t0)))
		m=null; f=null
		case "$out" in *"Independent Mapping"*) m=EIM ;; *"Address Dependent Mapping"*) m=ADM ;; *"Dependent Mapping"*) m=APDM ;; esac
		case "$out" in *"Independent Filter"*) f=EIF ;; *"Address Dependent Filter"*) f=ADF ;; *"Port Dependent Filter"*) f=APDF ;; esac
		if [ "$m" = APDM ]; then [ "$m" = "${want% *}" ] && okv=$((okv + 1)); else [ "$m $f" = "$want" ] && okv=$((okv + 1)); fi
		t0=$(ms); out=$(lx ha timeout 40 turnutils_natdiscovery -m -f -p 3488 "$LAB_SRV1" 2>&1); tc+=($(($(ms) - t0)))
		m=null; f=null
		case "$out" in *"NAT with Endpoint Independent Mapping!"*) m=EIM ;; *"NAT with Address and Port Dependent Mapping!"*) m=APDM ;; *"NAT with Address Dependent Mapping!"*) m=ADM ;; esac
		case "$out" in *"NAT with Endpoint Independent Filtering!"*) f=EIF ;; *"NAT with Address and Port Dependent Filtering!"*) f=APDF ;; *"NAT with Address Dependent Filtering!"*) f=ADF ;; esac
		[ "$m $f" = "$want" ] && okc=$((okc + 1))
	done
	alloc=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["udp"]; print(j["allocation"] + ("" if j["delta"] is None else " Δ%d" % j["delta"]))' "$LAB_STATE/p.json" 2>/dev/null)
	printf '| %s | %s | %s ms | %d/%d (TCP %d/%d), %s | %s ms | %d/%d | %s ms | %d/%d |\n' "$nat" "$want" \
		"$(printf '%s\n' "${tp[@]}" | median)" "$okp" "$RUNS" "$okt" "$RUNS" "$alloc" \
		"$(printf '%s\n' "${tv[@]}" | median)" "$okv" "$RUNS" \
		"$(printf '%s\n' "${tc[@]}" | median)" "$okc" "$RUNS" >>"$rows"
	cat "$rows" | tail -1
	lab_down
done

# --- both families: a dual-stack lab, IPv4 port-restricted, IPv6 behind a
# stateful firewall (drop), the same 20 ms each way on side A's WAN for both
lab_init bpr
t4=(); t46=(); ok6=0
if lab_up --ipv6 --nat-a port-restricted --fw6-a drop --delay-a 20; then
	lab_bg srv stunt-server "$SERVER" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" \
		--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6" -d >/dev/null
	lab_wait_port srv udp "\[$LAB_SRV2_6\]" 3479 10; lab_wait_port srv udp "$LAB_SRV2" 3479 10
	for ((i = 0; i < RUNS; i++)); do
		t0=$(ms); lx ha "$PROBE" --server "$LAB_SRV1" --json >/dev/null 2>&1; t4+=($(($(ms) - t0)))
		t0=$(ms); lx ha "$PROBE" --server "$LAB_SRV1" --server6 "$LAB_SRV1_6" --json >"$LAB_STATE/p6.json" 2>/dev/null
		t46+=($(($(ms) - t0)))
		got=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["udp"]["mapping"], j["udp"]["filtering"], j["ipv6"]["udp"]["mapping"], j["ipv6"]["udp"]["filtering"], j["ipv6"]["direct"], j["ipv6"]["syn_hop_limit"])' "$LAB_STATE/p6.json" 2>/dev/null)
		[ "$got" = "EIM APDF none APDF simopen 2" ] && ok6=$((ok6 + 1))
	done
fi
lab_down
m4=$(printf '%s\n' "${t4[@]}" | median)
m46=$(printf '%s\n' "${t46[@]}" | median)

section=$(mktemp)
{
	echo "## stunt-probe"
	echo
	echo "Measured by \`make bench\` (\`tests/bench/probe.sh\`) on $(date -u '+%Y-%m-%d %H:%M:%S +0000'), kernel $(uname -r)."
	echo "Lab with 20 ms each way on side A's WAN (RTT 40 ms to the server), no loss; each tool run $RUNS times"
	echo "in a row from the same host (median wall time, including process start). stunt-probe runs every UDP"
	echo "and TCP test, the hop count and UPnP/NAT-PMP/PCP (nothing answers there: 400 ms SSDP wait, in parallel)."
	echo "Accuracy: UDP mapping + filtering equal to the lab's truth (Vovida: mapping only behind a symmetric NAT)."
	echo
	echo "| NAT type | truth | stunt-probe time | stunt-probe right, allocation | Vovida \`stun\` time | right | \`turnutils_natdiscovery -m -f\` time | right |"
	echo "|---|---|---:|---|---:|---|---:|---|"
	cat "$rows"
	echo
	echo "The other two tools wait a fixed time for every reply a filtering NAT withholds"
	echo "(coturn 3 s per test, Vovida about 1 s in all); stunt-probe waits max(400 ms, 3 RTT + 200 ms)"
	echo "once, for all its negative tests together."
	echo
	echo "Both families (\`--server6\`): a dual-stack lab, IPv4 port-restricted, IPv6 behind a stateful"
	echo "firewall that drops unsolicited inbound, 20 ms each way on side A's WAN for both families (RTT 40 ms);"
	echo "stunt-server with \`--primary6\`/\`--alternate6\`; $RUNS runs each, median wall time. Right = IPv4"
	echo "EIM APDF and IPv6 untranslated, APDF, direct by simultaneous open, the firewall's distance"
	echo "measured (syn_hop_limit 2: the firewall is the gateway). The IPv6 part runs in the IPv4"
	echo "tests' loop, at the same time."
	echo
	echo "| report | median ms | ratio to IPv4 only | right |"
	echo "|---|---:|---:|---|"
	echo "| IPv4 only (baseline) | ${m4:--} | - | - |"
	echo "| IPv4 and IPv6 | ${m46:--} | $(awk -v a="$m46" -v b="$m4" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }') | $ok6/$RUNS |"
} >"$section"
python3 "$TOP/tests/bench/docsection.py" -q "$DOC" "## stunt-probe" <"$section"
rm -f "$rows" "$section"
