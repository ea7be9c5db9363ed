#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of simopen6 (issue 17's goal: every IPv6 firewall x firewall
# pair connects directly, median <= 4 RTT at 10 ms one way per side), in
# the namespace lab: lab_up --ipv6 --fw6-a F --fw6-b F for F in drop and
# reject, IPv4 port-restricted (rst) NATs on both sides, --delay-a D
# --delay-b D (one way, each WAN link, both families: ha-hb RTT 4 x D).
# Per round, in turn, from ha: simopen6 forced, the race (no method: the
# winner is named), stunt1 forced (the IPv4 strategy's winner in this lab,
# the baseline of the same run). The connect's elapsed_ms (control request
# to the handed-off socket); medians of REPS rounds and their ratio to the
# RTT (4 x D, and ha-srv + hb-srv as TCP handshakes measure it). With
# BENCH_IPV6_BASE=DIR (another build's directory, e.g. main's) the same
# rounds with DIR/stuntd on both sides, in the same run. Then one lab more
# with hb IPv6-only (--nat-b off, registered over IPv6 with the server's
# --primary6): simopen6 forced and the race from ha. Writes the
# "## IPv6: simopen6 through stateful firewalls" section of
# docs/benchmarks.md. Timing is measured here only, never asserted.
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init tree
REPS=${BENCH_IPV6_REPS:-12}
LOSS=${BENCH_IPV6_LOSS:-10}	# percent each way on both WAN links, the loss lab
DELAY=${BENCH_DELAY:-10}
BASE=${BENCH_IPV6_BASE:-}
# BENCH_IPV6_BASE_REV names it when DIR/.. is no git work tree
BASE_REV=${BENCH_IPV6_BASE_REV:-}
[ -n "$BASE" ] && [ -z "$BASE_REV" ] && BASE_REV=$(git -C "$BASE/.." rev-parse --short HEAD 2>/dev/null)
bench_stuntd_lab
fails=0
raw=$(mktemp)

# rtt_ms NODE [ADDR]: the median of 7 TCP handshakes from NODE to the
# server's port 3478 (ADDR, default $LAB_SRV1), ms (no ping in every lab image)
rtt_ms() {
	lx "$1" python3 - "${2:-$LAB_SRV1}" <<'RTT' 2>/dev/null
import socket, statistics, sys, time
t = []
for _ in range(7):
    s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
    t0 = time.monotonic()
    s.connect((sys.argv[1], 3478))
    t.append((time.monotonic() - t0) * 1000)
    s.close()
    time.sleep(0.05)
print(f"{statistics.median(t):.1f}")
RTT
}

# syns_between PCAP T0 T1: IPv4 SYNs in PCAP (tcpdump -tt) from T0 to T1
syns_between() {
	tcpdump -tt -nn -r "$1" 2>/dev/null | awk -v a="$2" -v b="$3" '$1 + 0 >= a && $1 + 0 <= b' | grep -c .
}

# run FW6 BUILD_LABEL [v6only|broken]: one lab, REPS rounds, lines "FW BUILD
# METHOD WINNER OK ELAPSED SYNS" to $raw (FW "drop6only" with v6only: hb
# IPv6-only; "dropbroken" with broken: IPv6 TCP dropped between the two
# sites in inet, so that simopen6 fails silently). SYNS: the IPv4 SYNs ha
# sent to anything but the server during a race, -1 for a forced method.
run() {
	local fw=$1 label=$2 key=$1 r m out pa pb natb=port-restricted methods="simopen6 race stunt1"
	local t0 t1 syns
	echo "# ipv6: $fw x $fw, $label stuntd, $DELAY ms one way per side${3:+, $3}"
	STUNTD_EXTRA_A=(--connect-timeout 8000)
	STUNTD_EXTRA_B=(--connect-timeout 8000 --max-peer-starts 100000)
	STUNTD_SERVER_B=
	SERVER_EXTRA=()
	if [ "${3:-}" = v6only ]; then
		key=${fw}6only natb=off methods="simopen6 race"
		STUNTD_SERVER_B="[$LAB_SRV1_6]"
		SERVER_EXTRA=(--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6")
	fi
	local impair=()
	[ "${3:-}" = loss ] && impair=(--loss-a "$LOSS" --loss-b "$LOSS")
	if ! START_WAIT=30 start_all port-restricted rst "$natb" rst --ipv6 --fw6-a "$fw" \
		--fw6-b "$fw" --delay-a "$DELAY" --delay-b "$DELAY" ${impair[@]+"${impair[@]}"}; then
		echo "error $key $label the lab did not come up" >>"$raw"
		return
	fi
	[ "${3:-}" = loss ] && key=${fw}loss methods="race simopen6 stunt1"
	if [ "${3:-}" = broken ]; then
		key=${fw}broken methods="race stunt1"
		lx inet nft add table ip6 brk
		lx inet nft add chain ip6 brk f '{ type filter hook forward priority 0; }'
		lx inet nft add rule ip6 brk f ip6 saddr 2001:db8:10::/64 ip6 daddr 2001:db8:20::/64 meta l4proto tcp drop
		lx inet nft add rule ip6 brk f ip6 saddr 2001:db8:20::/64 ip6 daddr 2001:db8:10::/64 meta l4proto tcp drop
	fi
	lab_bg ha syn4 tcpdump -i eth0 -nn -U --immediate-mode -w "$LAB_STATE/syn4.pcap" \
		"tcp[tcpflags] & tcp-syn != 0 and not host $LAB_SRV1 and not host $LAB_SRV2" >/dev/null
	lab_wait_capture syn4 || echo "error $key $label no IPv4 SYN capture" >>"$raw"
	pa=$(rtt_ms ha)
	if [ "${3:-}" = v6only ]; then pb=$(rtt_ms hb "$LAB_SRV1_6"); else pb=$(rtt_ms hb); fi
	echo "rtt $key $label ${pa:-0} ${pb:-0}" | tee -a "$raw"
	for r in $(seq 1 "$REPS"); do
		for m in $methods; do
			syns=-1
			if [ "$m" = race ]; then
				t0=$(date +%s.%N)
				out=$(ctl a '{"cmd":"connect","peer":"office-pc","service":"echo"}' 1000)
				sleep 0.2	# a SYN still on its way to the capture
				t1=$(date +%s.%N)
				syns=$(syns_between "$LAB_STATE/syn4.pcap" "$t0" "$t1")
			else
				out=$(ctl a "{\"cmd\":\"connect\",\"peer\":\"office-pc\",\"service\":\"echo\",\"method\":\"$m\"}" 1000)
			fi
			bench_answer "$out"
			echo "run $key $label $m ${ANS_METHOD:-none} ${ANS_OK:-0} ${ANS_MS:-0} $syns" | tee -a "$raw"
			sleep 0.3
		done
	done
	stop_all >/dev/null
}

for fw in drop reject; do
	run "$fw" this
	if [ -n "$BASE" ]; then
		STUNTD_A=$BASE/stuntd STUNTD_B=$BASE/stuntd run "$fw" base
	fi
done
run drop this v6only
run drop this broken
[ -n "$BASE" ] && STUNTD_A=$BASE/stuntd STUNTD_B=$BASE/stuntd run drop base broken
run drop this loss
[ -n "$BASE" ] && STUNTD_A=$BASE/stuntd STUNTD_B=$BASE/stuntd run drop base loss

python3 - "$raw" "$REPS" "$DELAY" "$(uname -r)" "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)" \
	"$BASE_REV" "$(date -u '+%Y-%m-%d %H:%M')" "$LOSS" <<'PY' |
import statistics, sys
raw, reps, delay, kernel, rev, base_rev, when, loss = sys.argv[1:9]
reps, delay = int(reps), int(delay)
runs, rtt, errors = {}, {}, []
for line in open(raw):
    f = line.split()
    if f[0] == "rtt":
        rtt[(f[1], f[2])] = float(f[3]) + float(f[4])
    elif f[0] == "run":
        runs.setdefault((f[1], f[2], f[3]), []).append((f[4], int(f[5]) > 0, int(f[6]),
                                                        int(f[7]) if len(f) > 7 else -1))
    elif f[0] == "error":
        errors.append(" ".join(f[1:]))
nominal = 4 * delay
rows = []
names = {"drop": "drop × drop", "reject": "reject × reject",
         "drop6only": "drop × drop, hb IPv6-only",
         "dropbroken": "drop × drop, IPv6 TCP dropped between the sites",
         "droploss": f"drop × drop, {loss} % loss each way on both WANs"}
for fw in ("drop", "reject", "drop6only", "dropbroken", "droploss"):
    for label in ("this", "base"):
        for m in ("simopen6", "race", "stunt1"):
            v = runs.get((fw, label, m))
            if not v:
                continue
            good = [e for w, ok, e, _ in v if ok]
            syns = [n for _, _, _, n in v if n >= 0]
            syn = f"{statistics.median(syns):g}" if syns else "–"
            med = statistics.median(good) if good else 0
            meas = rtt.get((fw, label), 0)
            wins = {}
            for w, ok, _, _ in v:
                if ok:
                    wins[w] = wins.get(w, 0) + 1
            won = ", ".join(f"{k} {n}" for k, n in sorted(wins.items(), key=lambda x: -x[1]))
            who = f"this ({rev})" if label == "this" else f"base ({base_rev or '?'})"
            rows.append(f"| {names[fw]} | {who} | {m} | {len(good)}/{len(v)} | {med:.0f} | "
                        f"{med / nominal:.2f} | {med / meas if meas else 0:.2f} | {won} | {syn} | "
                        f"{' '.join(str(e) for _, _, e, _ in v)} |")
meas = ", ".join(f"{fw} {label}: {v:.1f} ms" for (fw, label), v in sorted(rtt.items()))
err = "".join(f"\nError: {e}." for e in errors)
sec = f"""## IPv6: simopen6 through stateful firewalls

`tests/bench/ipv6.sh` ({when} UTC, kernel {kernel}): `lab_up --ipv6 --fw6-a F --fw6-b F`
for F = drop and reject (RFC 6092 stateful IPv6 firewalls in front of both hosts), IPv4
port-restricted (rst) NATs on both sides, {delay} ms one way added on each WAN link for both
families, so the ha–hb round trip is {nominal} ms;
measured ha–srv + hb–srv RTT (TCP handshakes to the server, medians): {meas}. Per round, in turn, from ha:
simopen6 forced, the race (no method given; *won* names the winners), stunt1 forced (the IPv4
strategy's winner in this lab: the baseline in the same run); {reps} rounds per lab, one lab per
row group. *hb IPv6-only*: hb has no IPv4 (`--nat-b off`) and registers over IPv6 with the
server's `--primary6` (stuntd(8), IPv6-ONLY HOSTS): simopen6 is its only method, so the row
has no stunt1; its measured RTT is ha–srv over IPv4 + hb–srv over IPv6. *IPv6 TCP dropped
between the sites*: `inet` drops TCP between the two LANs' IPv6 prefixes, so that simopen6 fails
silently and the IPv4 methods must win (what Happy Eyeballs costs when IPv6 is broken). *IPv4
SYNs*: the SYNs ha sent over IPv4 to anything but the server during a race (a capture on its
link), median per race. *loss*: {loss} % of the packets dropped each way on both WAN links
(both families); *ok* counts the connects that carried data within the 8 s deadline. *connect*: the control request's elapsed_ms (LOOKUP, EXCHANGEs, the attempt, the
session header, the proof and the hand-off's 'K'). Ratios: connect median / the nominal RTT
({nominal} ms) and / the measured one. *base*: `BENCH_IPV6_BASE` (another build's stuntd on
both sides, same server and lab).{err}

| firewalls | stuntd | connect | ok | connect ms (median) | / RTT {nominal} ms | / RTT measured | won | IPv4 SYNs (median) | per run (ms) |
|---|---|---|---:|---:|---:|---:|---|---:|---|
{chr(10).join(rows)}

simopen6 in the responder-first order (both stuntd know SIG_NAT_V6_FIRST,
daemon/trav/simopen6.c): the responder's hop-limited SYN leaves before its
EXCHANGE, the requester connects at full hop limit as that EXCHANGE arrives
and writes its session header as soon as its connect completes; the
responder's proof and 'K' follow together. From the request: LOOKUP (1 RTT
to the server = 0.5 host RTT), the two EXCHANGEs (1 host RTT), the SYN and
its SYN-ACK (1), the header with the last ACK and the proof with the 'K'
(1): 3.5 RTT plus the hosts' own time. The older order (an older peer: a
stuntd before that order, such as 11dca36, measured as the base on
2026-12-07 at 195-200 ms, 4.9-5.0 RTT) waited for the SCHEDULE's way to
the responder before the second SYN and for the responder's proof before
the header: 4.5 RTT. An IPv6-only host signals over IPv6 and meets the
same bound: its LOOKUP and EXCHANGEs take the same round trips.

Happy Eyeballs (RFC 8305; SIG_NAT_V4_LATER, when both stuntd know it):
the scheduled IPv4 methods start D_HE_DELAY_MS = 100 ms after the common
start, and not while simopen6 is established and being proven. Where
IPv6 works, the race is as fast and sends no IPv4 SYN at all (the base
sends its stunt1 and simopen SYNs, then cancels them); where IPv6 is
broken silently, the IPv4 winner comes those 100 ms later than in the
base (the rows "IPv6 TCP dropped between the sites"). Under loss (the
*loss* rows) the race pays it only where simopen6's SYNs were lost and an
IPv4 method wins; medians of 12 connects under loss are noisy (compare
simopen6 forced, the same code in both builds).
"""
print(sec)
PY
	python3 "$TOP/tests/bench/docsection.py" "$DOC" "## IPv6: simopen6 through stateful firewalls"
rm -f "$raw"
