#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The daemon's SYN clock (issue 14, daemon/trav/pace.h): writes the section
# "## The daemon's SYN clock" of docs/benchmarks.md. Each condition twice
# in the same run, in a fresh lab each: stuntd with --syn-pacing on (the
# default) and with --syn-pacing off (the kernel's SYN retransmissions only,
# the baseline). Connects one at a time (build/drv/loadconn, 64 bytes
# echoed), the strategy's choice, 10 % or 30 % loss each way on both WAN
# links:
#   - port-restricted x port-restricted (rst; simopen and stunt1 race),
#     10 %: BENCH_PACE_N connects (100); 30 %: BENCH_PACE_N30 (40);
#   - full-cone x port-restricted (rst; direct and reversal), 10 %:
#     BENCH_PACE_ND (40);
#   - simopen6 forced, 10 %, dual-stack hosts behind IPv6 stateful firewalls
#     that drop (v6d) or reject (v6r) unsolicited inbound: BENCH_PACE_N6
#     (60) each; these write their own section, "## The daemon's SYN clock
#     over IPv6", when both ran with both pacings (BENCH_PACE_ONLY="v6d v6r"
#     is such a run).
# Bounded (each connect has the daemon's 10 s deadline; loadconn 30 s):
# about 10-20 minutes. Timings are measured here, never asserted.
# To look at one condition: BENCH_PACE_ONLY="l30" (any of l10 l30 fc v6d v6r)
# runs only those and leaves the section alone; BENCH_PACE_PACING="on"
# only that pacing; BENCH_PACE_LOGS=DIR keeps each lab's daemon and
# server logs there (DIR/NAME/stuntd-a.log ...), and the loadconn output;
# BENCH_PACE_VS=DIR (a partial run only) runs each condition a second time
# with DIR/stuntd and DIR/stunt-server, the build of the code before a
# change, as NAME-vs (the baseline of that change, same pacing, same run),
# and writes the section "## Loss: a change against its baseline" instead
# (BENCH_PACE_VS_NOTE says what the baseline is, BENCH_PACE_VS_WHAT what
# the change is: a paragraph after the table);
# BENCH_PACE_PCAP=1 with BENCH_PACE_LOGS also keeps every TCP packet ha
# and hb send and receive (all-a.pcap, all-b.pcap).
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init tree
bench_stuntd_lab
N10=${BENCH_PACE_N:-100}
N30=${BENCH_PACE_N30:-40}
ND=${BENCH_PACE_ND:-40}
N6=${BENCH_PACE_N6:-60}
ONLY=${BENCH_PACE_ONLY:-}
PACINGS=${BENCH_PACE_PACING:-off on}
LOGS=${BENCH_PACE_LOGS:-}
VS=${BENCH_PACE_VS:-}
OWN_STUNTD=$STUNTD OWN_SERVER=$SERVER
OUT=$(mktemp -d /tmp/bench-pace.XXXX)

# run NAME PACING N NAT_A NAT_B [LAB_UP_ARGS...] (METHOD=M: loadconn asks
# for method M)
run() {
	local name=$1 pacing=$2 n=$3 m=()
	shift 3
	[ -n "${METHOD:-}" ] && m=(--method "$METHOD")
	# one peer's many connects in a row: past max-peer-starts (30 a
	# minute), which is not measured here
	STUNTD_EXTRA_A=(--syn-pacing "$pacing")
	STUNTD_EXTRA_B=(--syn-pacing "$pacing" --max-peer-starts 100000)
	if START_WAIT=60 start_all "$1" rst "$2" rst "${@:3}"; then
		lx ha "$BUILD/drv/loadconn" --control "$LAB_STATE/a.sock" --peer office-pc --service echo \
			${m[@]+"${m[@]}"} --total "$n" --concurrency 1 --timeout-ms 30000 >"$OUT/$name" 2>&1
		{ ctl a '{"cmd":"status"}'; ctl b '{"cmd":"status"}'; } | python3 -c '
import json, sys
a, b = (json.loads(l).get("counters", {}) for l in sys.stdin.read().splitlines()[:2])
print("copies", sum(v.get("syns_again", 0) for c in (a, b) for v in c.values()))
print("won", " ".join("%s:%d" % (k, v["won"]) for k, v in sorted(a.items()) if v.get("won")))' \
			>>"$OUT/$name" 2>/dev/null
	else
		echo "ok 0" >"$OUT/$name"
		echo "error 1 the lab did not come up within 60 s" >>"$OUT/$name"
	fi
	if [ -n "$LOGS" ]; then
		mkdir -p "$LOGS/$name"
		cp "$LAB_STATE"/*.log "$LAB_STATE"/all-?.pcap "$OUT/$name" "$LOGS/$name/" 2>/dev/null
	fi
	lab_down
}
if [ -n "${BENCH_PACE_PCAP:-}" ] && [ -n "$LOGS" ]; then
	start_all_hook() {
		lab_bg ha all-a tcpdump -i eth0 -nn -U --immediate-mode -s 128 -w "$LAB_STATE/all-a.pcap" tcp >/dev/null
		lab_bg hb all-b tcpdump -i eth0 -nn -U --immediate-mode -s 128 -w "$LAB_STATE/all-b.pcap" tcp >/dev/null
		lab_wait_capture all-a && lab_wait_capture all-b
	}
fi
# want KEY: this condition is to run
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
# each: with this build, then (BENCH_PACE_VS) with the other
runs=("")
[ -n "$VS" ] && [ -n "$ONLY" ] && runs+=(-vs)
for p in $PACINGS; do
	for v in "${runs[@]}"; do
		if [ -n "$v" ]; then
			STUNTD=$VS/stuntd SERVER=$VS/stunt-server
		else
			STUNTD=$OWN_STUNTD SERVER=$OWN_SERVER
		fi
		want l10 && run "l10-$p$v" "$p" "$N10" port-restricted port-restricted --loss-a 10 --loss-b 10
		want l30 && run "l30-$p$v" "$p" "$N30" port-restricted port-restricted --loss-a 30 --loss-b 30
		want fc && run "fc-$p$v" "$p" "$ND" full-cone port-restricted --loss-a 10 --loss-b 10
		for fw in d:drop r:reject; do
			want "v6${fw%%:*}" && METHOD=simopen6 run "v6${fw%%:*}-$p$v" "$p" "$N6" \
				port-restricted port-restricted --loss-a 10 --loss-b 10 \
				--ipv6 --fw6-a "${fw#*:}" --fw6-b "${fw#*:}"
		done
	done
done
# the IPv6 section: both its conditions with both pacings, this build only
if [ -z "$VS" ] && [ "$PACINGS" = "off on" ] && want v6d && want v6r; then
	python3 - "$OUT" "$TOP/tests/bench" "$N6" "$(date -u '+%Y-%m-%d %H:%M')" "$(uname -r)" \
		"$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)" <<'PY' |
import sys
out, lib, n6, when, kernel, rev = sys.argv[1:7]
sys.path.insert(0, lib)
from loadkv import cells, kv
rows = []
for key, label in (("v6d", "simopen6 forced, IPv6 firewalls drop x drop, 10 % loss each way, both sides"),
                   ("v6r", "simopen6 forced, IPv6 firewalls reject x reject, 10 % loss each way, both sides")):
    off, on = kv(f"{out}/{key}-off"), kv(f"{out}/{key}-on")
    for tag, d in (("off (baseline)", off), ("on", on)):
        rows.append(f"| {label} | {tag} | {cells(d, n6, off, d is on)} | "
                    f"{d.get('copies', '-')} | {d['errors']} |")
print(f"""## The daemon's SYN clock over IPv6

`tests/bench/pace.sh` (`BENCH_PACE_ONLY="v6d v6r"`), {when} UTC, kernel {kernel}, stuntd {rev}: the
clock of "The daemon's SYN clock" above on simopen6's full-hop-limit SYN (the side that connects
second; the first side's SYN is hop-limited and dies past its own firewall, so it is never sent
again), its copies IPv6 datagrams. Dual-stack ha and hb behind port-restricted IPv4 NATs and,
on the same gateways, RFC 6092 stateful IPv6 firewalls that drop or reject (TCP RST)
unsolicited inbound; simopen6 forced (`loadconn --method simopen6`), one connect at a time, 64
bytes echoed; 10 % loss each way on both WAN links (nft `numgen random`, both families); 10 s
deadline, no TURN server. `--syn-pacing on` against `off` (the kernel's 1 s, 2 s, 4 s), each in a
fresh lab, in the same run. ratio = median with pacing / median without; copies = SYN copies
both stuntds sent (status `counters.*.syns_again`).

| condition | pacing | ok | median ms | p90 ms | ratio | copies | errors |
|---|---|---:|---:|---:|---:|---:|---|
{chr(10).join(rows)}
""")
PY
		python3 "$TOP/tests/bench/docsection.py" "$DOC" "## The daemon's SYN clock over IPv6"
	[ $((PIPESTATUS[0] | PIPESTATUS[1])) = 0 ] || exit 1
	# the IPv4 conditions did not run: nothing more to write
	if ! want l10; then
		rm -rf "$OUT"
		exit 0
	fi
fi
if [ -n "$ONLY" ] || [ "$PACINGS" != "off on" ]; then
	# a partial run: the numbers, not the section (with VS: its own)
	for f in "$OUT"/*; do
		echo "== ${f##*/}"
		cat "$f"
	done
	rc=0
	if [ -n "$VS" ] && [ -n "$ONLY" ]; then
		python3 - "$OUT" "$TOP/tests/bench" "$(date -u '+%Y-%m-%d %H:%M')" "$(uname -r)" \
			"${BENCH_PACE_VS_NOTE:-$VS}" "$ONLY" "$PACINGS" <<'PY' |
import os, sys
out, lib, when, kernel, vsnote, only, pacings = sys.argv[1:8]
what = os.environ.get("BENCH_PACE_VS_WHAT", "")
sys.path.insert(0, lib)
from loadkv import cells, kv
labels = {"l10": "strategy, port-restricted x port-restricted, 10 % loss each way, both sides",
          "l30": "strategy, port-restricted x port-restricted, 30 % loss each way, both sides",
          "fc": "strategy, full-cone x port-restricted, 10 % loss each way, both sides",
          "v6d": "simopen6 forced, IPv6 firewalls drop x drop, 10 % loss each way, both sides",
          "v6r": "simopen6 forced, IPv6 firewalls reject x reject, 10 % loss each way, both sides"}
rows = []
for key in only.split():
    for p in pacings.split():
        base, new = kv(f"{out}/{key}-{p}-vs"), kv(f"{out}/{key}-{p}")
        for tag, d in (("before (baseline)", base), ("after", new)):
            rows.append(f"| {labels[key]} | {p} | {tag} | {cells(d, d.get('total', '?'), base, d is new)} | "
                        f"{d.get('won', '-')} | {d['errors']} |")
print(f"""## Loss: a change against its baseline

`tests/bench/pace.sh` with `BENCH_PACE_VS`, {when} UTC, kernel {kernel}: each condition run with this
build ("after") and with the build before the change ("before": {vsnote}), each in a fresh lab, in
the same run, as in "The daemon's SYN clock" above (connects one at a time from ha, 64 bytes
echoed, time from the control request to the echo; nft `numgen random` loss on both WAN links,
both directions, so a packet from host to host crosses two lossy links; 10 s deadline, no TURN
server; hb allows any number of session starts). Failures are counted by the error the
connect got. A failed connect is answered at once when it fails fast, and the next one is
asked for at once: one lost signalling connection in the baseline fails every connect asked
for until it is made again.

| condition | pacing | build | ok | median ms | p90 ms | ratio | won | errors |
|---|---|---|---:|---:|---:|---:|---|---|
{chr(10).join(rows)}
{chr(10) + what + chr(10) if what else ""}""")
PY
			python3 "$TOP/tests/bench/docsection.py" "$DOC" "## Loss: a change against its baseline"
		rc=$((PIPESTATUS[0] | PIPESTATUS[1]))
	fi
	rm -rf "$OUT"
	exit $rc
fi

python3 - "$OUT" "$TOP/tests/bench" "$N10" "$N30" "$ND" "$(date -u '+%Y-%m-%d %H:%M')" \
	"$(uname -r)" <<'PY' | python3 "$TOP/tests/bench/docsection.py" "$DOC" "## The daemon's SYN clock"
import sys
out, lib, n10, n30, nd, when, kernel = sys.argv[1:8]
sys.path.insert(0, lib)
from loadkv import cells, kv
rows = []
for key, label, n in (("l10", "strategy, port-restricted x port-restricted, 10 % loss each way, both sides", n10),
                      ("l30", "the same, 30 % loss", n30),
                      ("fc", "strategy, full-cone x port-restricted, 10 % loss each way, both sides", nd)):
    off, on = kv(f"{out}/{key}-off"), kv(f"{out}/{key}-on")
    for tag, d in (("off (baseline)", off), ("on", on)):
        rows.append(f"| {label} | {tag} | {cells(d, n, off, d is on)} | "
                    f"{d.get('copies', '-')} | {d.get('won', '-')} | {d['errors']} |")
print(f"""## The daemon's SYN clock

`tests/bench/pace.sh`, {when} UTC, kernel {kernel}: stuntd with `--syn-pacing on` (the default: an
unanswered full-TTL SYN goes again after 100 ms, then 200, 400, 800 ms gaps, at most 8 copies;
stunt1 asks the server for its SYN-ACK again after 250, 500, 1000 ms while its socket is still in
SYN_SENT) against `--syn-pacing off` (the kernel's SYN retransmissions only: 1 s, 2 s, 4 s; one
SYNACK request), each condition in a fresh lab, in the same run. Connects one at a time from ha
(`build/drv/loadconn`, 64 bytes echoed; time from the control request to the echo); loss is nft
`numgen random` on both WAN links, both directions; the daemon's deadline is 10 s and no TURN
server is configured (a failure is a failure, not a relay). ratio = median with pacing / median
without, same condition. "copies" = SYN copies both stuntds sent (status
`counters.*.syns_again`); "won" = methods that won at ha. hb allows any number of session starts
(`--max-peer-starts 100000`: the per-peer budget is not what is measured). The 30 % goal against
the build before a change, 100 connects: "Loss: a change against its baseline" below.

| condition | pacing | ok | median ms | p90 ms | ratio | copies | won | errors |
|---|---|---:|---:|---:|---:|---:|---|---|
{chr(10).join(rows)}
""")
PY
rc=$((PIPESTATUS[0] | PIPESTATUS[1]))
rm -rf "$OUT"
exit $rc
