#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of the nfq engine (issue 5), in two throwaway network namespaces:
#
#   gen 10.99.0.1/24 ---- veth ---- sink 10.99.0.2/24
#
# stunt-rules is installed in gen (host mode, --queue-bypass); nothing runs in
# the root namespace.
#
# (a) throughput: build/drv/nfqbench engine holds the queue on CPU 0 with one
#     wildcard policy "every SYN leaves with TTL 3" and counts its TTL
#     rewrites (verdicts) for BENCH_SECONDS; nfqbench flood on CPU 1 sends
#     marked SYNs from a raw socket as fast as it can (ports cycling like a
#     shotgun) to 10.99.0.3, which sink drops (not its MAC). Repeated
#     BENCH_RUNS times, median reported. Baseline: the same flood with the
#     rules removed (SYN/s the stack passes unqueued).
# (b) latency: nfqbench rtt alternates a marked and an unmarked socket to an
#     echo in sink, so both see the same machine at the same moments: a UDP
#     round trip (request queued in STUNT-OUT, reply in STUNT-IN) and a TCP
#     handshake (SYN and SYN-ACK queued). Two queue passes per round trip:
#     added latency per queued packet = (queued - unqueued) / 2.
#
# Writes build/bench/nfq.json and the "## nfq engine" section of docs/benchmarks.md.
set -u
TOP=${STUNT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${STUNT_BUILD:-$TOP/build}
BENCH=$BUILD/drv/nfqbench
RULES=$TOP/tools/stunt-rules
DOC=${BENCH_DOC:-$TOP/docs/benchmarks.md}
SECONDS_RUN=${BENCH_SECONDS:-3}
RUNS=${BENCH_RUNS:-3}
UDP_SAMPLES=${BENCH_UDP_SAMPLES:-20000}
TCP_SAMPLES=${BENCH_TCP_SAMPLES:-5000}
FLOWS=${BENCH_FLOWS:-1000}
Q=7421
MARK=0x7421
P=stlbench$$
OUT=$BUILD/bench
pids=()

cleanup() {
	trap - EXIT INT TERM
	local p n
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	for n in gen sink; do
		ip netns pids "$P-$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$P-$n" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

die() { echo "bench nfq: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
[ -x "$BENCH" ] || die "$BENCH missing (make)"
mkdir -p "$OUT"
tmp=$(mktemp -d "/tmp/$P.XXXX")

ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
	PIN_ENGINE="taskset -c 0"
	PIN_LOAD="taskset -c 1"
else
	PIN_ENGINE=""
	PIN_LOAD=""
fi
g() { ip netns exec "$P-gen" "$@"; }
s() { ip netns exec "$P-sink" "$@"; }

ip netns add "$P-gen" && ip netns add "$P-sink" || die "cannot create namespaces"
ip link add bg0 netns "$P-gen" type veth peer name bs0 netns "$P-sink" || die "veth"
for n in gen sink; do
	ip netns exec "$P-$n" ip link set lo up
	ip netns exec "$P-$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
g ip addr add 10.99.0.1/24 dev bg0
s ip addr add 10.99.0.2/24 dev bs0
g ip link set bg0 up
s ip link set bs0 up
# the flood's target: a neighbour that does not exist, so sink drops the frames
g ip neigh replace 10.99.0.3 lladdr 02:00:00:00:00:03 dev bg0 nud permanent

# wait_file PATH: until it exists (5 s)
wait_file() {
	local i
	for i in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done
	return 1
}

# ------------------------------------------------------------ (a) throughput
flood_only() { # baseline: no rules, no queue
	g $PIN_LOAD "$BENCH" flood --dst 10.99.0.3 --mark "$MARK" --duration-ms $((SECONDS_RUN * 1000))
}
for i in $(seq "$RUNS"); do
	flood_only >"$tmp/base$i.json" || die "baseline flood failed"
done

g "$RULES" install --queue "$Q" --mark "$MARK" --queue-bypass >/dev/null || die "stunt-rules install"
# throughput NAME ENGINE_ARGS FLOOD_ARGS: RUNS engine + flood runs -> $tmp/NAME-{engine,flood}I.json
throughput() {
	local name=$1 eargs=$2 fargs=$3 i epid fpid
	for i in $(seq "$RUNS"); do
		rm -f "$tmp/ready"
		# not through g(): $! must be the benchmark process itself
		ip netns exec "$P-gen" $PIN_ENGINE "$BENCH" engine --queue "$Q" --ttl 3 $eargs \
			--warmup-ms 300 --duration-ms $((SECONDS_RUN * 1000)) --ready-file "$tmp/ready" \
			>"$tmp/$name-engine$i.json" &
		epid=$!
		pids+=("$epid")
		wait_file "$tmp/ready" || die "engine did not start"
		ip netns exec "$P-gen" $PIN_LOAD "$BENCH" flood --dst 10.99.0.3 --mark "$MARK" $fargs \
			--duration-ms $(((SECONDS_RUN + 1) * 1000 + 500)) >"$tmp/$name-flood$i.json" &
		fpid=$!
		pids+=("$fpid")
		wait "$epid" || die "engine run $name $i failed"
		wait "$fpid"
	done
}
throughput wild "" ""
throughput flows "--flows $FLOWS" "--ports $FLOWS"

# ------------------------------------------------------------ (b) latency
ip netns exec "$P-sink" $PIN_LOAD "$BENCH" echo --bind 10.99.0.2:7000 --ready-file "$tmp/echo.ready" &
pids+=($!)
rm -f "$tmp/ready"
ip netns exec "$P-gen" $PIN_ENGINE "$BENCH" engine --queue "$Q" --ttl 3 --ready-file "$tmp/ready" \
	>"$tmp/engine-lat.json" &
lpid=$!
pids+=("$lpid")
wait_file "$tmp/echo.ready" || die "echo did not start"
wait_file "$tmp/ready" || die "latency engine did not start"
g $PIN_LOAD "$BENCH" rtt --dst 10.99.0.2:7000 --mark "$MARK" --samples "$UDP_SAMPLES" >"$tmp/udp.json" ||
	die "udp rtt failed"
g $PIN_LOAD "$BENCH" rtt --tcp --dst 10.99.0.2:7000 --mark "$MARK" --samples "$TCP_SAMPLES" >"$tmp/tcp.json" ||
	die "tcp rtt failed"
kill "$lpid"
wait "$lpid"
g "$RULES" remove >/dev/null

# ------------------------------------------------------------ report
python3 - "$tmp" "$RUNS" "$OUT/nfq.json" "$DOC" "$SECONDS_RUN" "$ncpu" \
	"$UDP_SAMPLES" "$TCP_SAMPLES" "$FLOWS" <<'EOF'
import json, os, platform, statistics, sys, time
tmp, runs, out, doc, secs, ncpu, nudp, ntcp, nflows = sys.argv[1:10]
runs = int(runs)
ld = lambda n: json.load(open(os.path.join(tmp, n)))
med = lambda xs: statistics.median(xs)
tp = {}
for name in ("wild", "flows"):
    eng = [ld(f"{name}-engine{i}.json") for i in range(1, runs + 1)]
    fl = [ld(f"{name}-flood{i}.json") for i in range(1, runs + 1)]
    tp[name] = {"runs": eng, "floods": fl,
                "syn_per_s_median": med(e["syn_per_s"] for e in eng),
                "engine_cpu_util_median": med(e["cpu_util"] for e in eng),
                "offered_per_s_median": med(f["sent_per_s"] for f in fl)}
base = [ld(f"base{i}.json") for i in range(1, runs + 1)]
unq = med(b["sent_per_s"] for b in base)
udp, tcp, lat_eng = ld("udp.json"), ld("tcp.json"), ld("engine-lat.json")
syn = tp["wild"]["syn_per_s_median"]
util = tp["wild"]["engine_cpu_util_median"]
offered = tp["wild"]["offered_per_s_median"]
syn_f = tp["flows"]["syn_per_s_median"]
util_f = tp["flows"]["engine_cpu_util_median"]
offered_f = tp["flows"]["offered_per_s_median"]
eng = tp["wild"]["runs"]
res = {
    "when": time.strftime("%Y-%m-%d %H:%M:%S %z"), "kernel": platform.release(), "cpus": int(ncpu),
    "throughput": {"one_wildcard_policy": tp["wild"], f"{nflows}_flow_policies": tp["flows"],
                   "baseline": base, "unqueued_per_s_median": unq},
    "udp": udp, "tcp": tcp, "latency_engine": lat_eng,
}
json.dump(res, open(out, "w"), indent=1)

def row(name, d):
    q, u = d["queued"], d["unqueued"]
    return (f"| {name} | {u['median_us']:.1f} | {q['median_us']:.1f} | {q['median_us'] / u['median_us']:.2f}x "
            f"| {(q['median_us'] - u['median_us']) / 2:.1f} | {u['p99_us']:.1f} | {q['p99_us']:.1f} "
            f"| {q['p99_us'] / u['p99_us']:.2f}x | {(q['p99_us'] - u['p99_us']) / 2:.1f} |")

sec = f"""## nfq engine

Measured by `make bench` (`tests/bench/nfq.sh`) on {res['when']}, kernel {res['kernel']},
{ncpu} CPUs; the engine process pinned to CPU 0, load generators to CPU 1. Two
network namespaces joined by a veth; `stunt-rules install --queue-bypass` in
the sending one. Raw data: `build/bench/nfq.json`.

**Throughput** (median of {runs} run(s) of {secs} s each): a raw socket marked
0x7421 offers SYNs as fast as it can, from source ports cycling 1024-65535
(wildcard case) or through the {nflows} ports that have policies; the engine
gives each SYN a TTL-rewrite verdict (TTL 3), and those verdicts are counted.
Every SYN is looked up in the whole policy table, so the second row is the
shotgun's case.

| policy table | SYN/s verdicted with a TTL rewrite | engine CPU | offered meanwhile | queued / unqueued |
|---|---:|---:|---:|---:|
| one wildcard policy (every SYN) | **{syn:,.0f}** | {util * 100:.0f} % | {offered:,.0f} | {syn / unq:.2f} |
| {nflows} per-flow policies, SYNs from those {nflows} ports | **{syn_f:,.0f}** | {util_f * 100:.0f} % | {offered_f:,.0f} | {syn_f / unq:.2f} |
| unqueued baseline: the same generator, no rules | {unq:,.0f} | | | 1 |

"Engine CPU" is user + system time of the engine process over the run, as a
share of one core (kernel work done for it in softirq is not in it). SYNs
offered beyond what the engine verdicts pass unmodified by fail-open.
Per-run SYN/s: {', '.join(f"{e['syn_per_s']:,.0f}" for e in eng)} (wildcard);
{', '.join(f"{e['syn_per_s']:,.0f}" for e in tp['flows']['runs'])} ({nflows} flows).

**Latency** added by the queue, in the same run: a marked and an unmarked socket
alternate round trips to an echo in the other namespace ({nudp} UDP round trips
and {ntcp} TCP handshakes each). Each round trip crosses the queue twice
(request out, reply in), so the added latency per queued packet is half the
difference. Times in microseconds.

| round trip | unqueued median | queued median | ratio | added per packet (median) | unqueued p99 | queued p99 | ratio | added per packet (p99) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
{row("UDP echo", udp)}
{row("TCP handshake (SYN, SYN-ACK queued)", tcp)}

Lost (1 s timeout): UDP {udp['queued']['lost']} queued / {udp['unqueued']['lost']} unqueued,
TCP {tcp['queued']['lost']} / {tcp['unqueued']['lost']}.

Target (issue 5): well over 10,000 SYN/s, so that a shotgun of a thousand ports
is never limited by the queue.
"""
open(os.path.join(tmp, "section.md"), "w").write(sec)
print(f"nfq engine: {syn:,.0f} SYN/s verdicted with TTL rewrite, one policy (engine CPU {util * 100:.0f} %); "
      f"{syn_f:,.0f} SYN/s with {nflows} flow policies; unqueued generator {unq:,.0f}/s")
for n, d in (("udp", udp), ("tcp", tcp)):
    q, u = d["queued"], d["unqueued"]
    print(f"{n}: median {u['median_us']:.1f} -> {q['median_us']:.1f} us, p99 {u['p99_us']:.1f} -> {q['p99_us']:.1f} us "
          f"(+{(q['median_us'] - u['median_us']) / 2:.1f} us per queued packet at the median)")
print(f"wrote {out} and the '## nfq engine' section of {doc}")
EOF
rc=$?
[ $rc -eq 0 ] && { python3 "$TOP/tests/bench/docsection.py" -q "$DOC" "## nfq engine" <"$tmp/section.md" || rc=1; }
[ -n "${BENCH_KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
exit $rc
