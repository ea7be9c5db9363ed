#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of stuntctl forward --udp (issue 7) in the namespace lab:
# per-datagram round trip (one datagram, wait for its echo, the next; N per
# round, ROUNDS rounds of each path, interleaved) between a client on ha and
# a UDP echo on hb, port-restricted x port-restricted, no added delay:
#   plain      plain UDP through the two NATs, no stunt: hb's echo socket
#              punched by hand (a TTL-2 datagram to ha's public port first)
#   fd         stuntctl connect --udp -- COMMAND: the traversed socket used
#              directly by the client; hb's stuntd relays to the echo
#   stdio      stuntctl connect --udp: the client writes lines to its stdin
#              and reads its stdout (one more copy through stuntctl and pipes)
#   forward    stuntctl forward --udp: the client sends to 127.0.0.1:9100
# Prints a table (medians of the round medians, in microseconds) and writes
# the "## stuntctl forward --udp" section of docs/benchmarks.md. Timing is measured here only, never asserted.
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init stunt-top
N=${BENCH_N:-300}
ROUNDS=${BENCH_ROUNDS:-5}
t0=$(date +%s)
bench_root udpfwd
bench_stuntd_lab
STUNTCTL=$STUNT_BUILD/stuntctl
UDPCLIENT=$LAB_HERE/udpclient.py

STUNTD_EXTRA_A=(--connect-timeout 5000)
STUNTD_EXTRA_B=(--connect-timeout 5000 --expose uecho=udp:127.0.0.1:7001 --allow uecho=laptop)
start_all port-restricted rst port-restricted rst || exit 1
lab_bg hb uecho python3 "$LAB_HERE/echosrv.py" --udp 7001 >/dev/null
lab_bg hb plainecho python3 "$LAB_HERE/echosrv.py" --udp --bind 0.0.0.0 --punch 198.18.1.2:41000 42000 >/dev/null
lab_bg ha fwd "$STUNTCTL" --control "$LAB_STATE/a.sock" forward --udp 127.0.0.1:9100 office-pc/uecho >/dev/null
lab_wait_port ha udp 127.0.0.1 9100 10
sleep 0.5

med() { sed -n 's/.*median_us \(-\?[0-9]*\).*/\1/p'; }
declare -A R
for r in $(seq 1 "$ROUNDS"); do
	R[plain]+=" $(lx ha python3 "$UDPCLIENT" --bind 41000 198.18.2.2 42000 "$N" p$r | med)"
	R[fd]+=" $(lx ha "$STUNTCTL" --control "$LAB_STATE/a.sock" connect office-pc/uecho --udp -- \
		python3 "$UDPCLIENT" --fd0 "$N" d$r 2>&1 >/dev/null | med)"
	R[stdio]+=" $(lx ha python3 "$UDPCLIENT" --stdio "$N" s$r -- "$STUNTCTL" --control "$LAB_STATE/a.sock" \
		connect office-pc/uecho --udp | med)"
	R[forward]+=" $(lx ha python3 "$UDPCLIENT" --burst 1 127.0.0.1 9100 "$N" f$r | med)"
done
echo "# per-datagram RTT, $N datagrams x $ROUNDS rounds, port-restricted x port-restricted, no delay"
printf '%-8s %10s   %s\n' path median_us "round medians (us)"
rows=""
for k in plain fd stdio forward; do
	m=$(tr ' ' '\n' <<<"${R[$k]}" | grep -E '^[0-9]+$' | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}')
	printf '%-8s %10s  %s\n' "$k" "$m" "${R[$k]}"
	rows+="$k $m${R[$k]}"$'\n'
done
stop_all >/dev/null
secs=$(($(date +%s) - t0))
section=$(printf '%s' "$rows" | python3 -c '
import datetime, os, sys
n, rounds, secs = sys.argv[1:4]
what = {"plain": "plain UDP through the same two NATs, hole punched by hand (baseline)",
        "fd": "`stuntctl connect --udp -- CMD`: the traversed socket used directly",
        "stdio": "`stuntctl connect --udp`: through stuntctl'"'"'s stdin/stdout",
        "forward": "`stuntctl forward --udp`: a client sending to 127.0.0.1:9100"}
rows = [l.split() for l in sys.stdin if l.strip()]
base = next((r[1] for r in rows if r[0] == "plain"), "-")
out = ["## stuntctl forward --udp", "",
       "Measured by `make bench` (`tests/bench/udpfwd.sh`) on %s, kernel %s, in %s s." %
       (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000"),
        os.uname().release, secs), "",
       "Per-datagram round trip between a client on ha and a UDP echo service on hb (both",
       "behind port-restricted cones, no added delay): one datagram, wait for its echo, the next;",
       "%s datagrams a round, %s rounds of each path interleaved. Median of the round medians," % (n, rounds),
       "in microseconds; ratio against plain UDP measured in the same run.", "",
       "| path | RTT median us | ratio to plain | round medians |", "|---|---|---|---|"]
for r in rows:
    m = r[1]
    ratio = "%.1fx" % (float(m) / float(base)) if m != "-" and base not in ("-", "0") else "-"
    out.append("| %s | %s | %s | %s |" % (what.get(r[0], r[0]), m, ratio, " ".join(r[2:])))
out += ["", "hb'"'"'s stuntd relays the traversed socket to the local echo service (`udp:` target), which",
        "is most of the difference between plain UDP and the traversed socket; `forward --udp` adds",
        "the loopback hop and stuntctl'"'"'s poll loop.", ""]
print("\n".join(out))
' "$N" "$ROUNDS" "$secs")
printf '%s\n' "$section" | python3 "$TOP/tests/bench/docsection.py" -q "$DOC" "## stuntctl forward --udp"
