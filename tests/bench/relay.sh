#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of the relay method (issue 7), in the namespace lab: connect time
# of direct and of relay (TURN, coturn on srv) for the same pair in the same
# run, and the round trip of 1 byte through each connection. Pair:
# port-restricted (ha, requester) x full cone (hb, TURN configured), with
# --delay-a D --delay-b D one way on each WAN link. REPS connects of each,
# alternating. The time is the requester's "elapsed_ms" (control request to
# the handed-off socket). Writes the "## stuntd: relay vs direct" section of
# docs/benchmarks.md. Timing is measured here only, never asserted.
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init stunt-top
REPS=${BENCH_REPS:-7}
DELAY=${BENCH_DELAY:-10}
TURN_PORT=3490
bench_root relay
bench_stuntd_lab
# shellcheck source=tests/lab/refservers.sh
. "$LAB_HERE/refservers.sh"
start_all_hook() { ref_start_turn "$TURN_PORT" stunt bench-pass lab; }

# One connect (ctlclient.py --rtt 20): prints "ELAPSED_MS RTT_US METHOD",
# -1 for what it did not get.
probe() {
	local out el rtt m
	out=$(lx ha python3 "$CTLCLIENT" --rtt 20 "$LAB_STATE/a.sock" "$1")
	el=$(echo "$out" | head -1 | grep '"ok":true' | sed -n 's/.*"elapsed_ms":\([0-9]*\).*/\1/p')
	rtt=$(echo "$out" | sed -n 's/^rtt_us //p')
	m=$(echo "$out" | head -1 | sed -n 's/.*"method":"\([a-z0-9]*\)".*/\1/p')
	echo "${el:--1} ${rtt:--1} ${m:-none}"
}
STUNTD_EXTRA_B=(--turn "$LAB_SRV1:$TURN_PORT" --turn-user stunt --turn-pass bench-pass)
t0=$SECONDS
start_all port-restricted rst full-cone rst --delay-a "$DELAY" --delay-b "$DELAY" || exit 1
res=$(mktemp)
for i in $(seq 1 "$REPS"); do
	for m in direct relay; do
		r=$(probe "{\"cmd\":\"connect\",\"peer\":\"office-pc\",\"service\":\"echo\",\"method\":\"$m\"}")
		echo "$m $r" | tee -a "$res"
		sleep 0.3
	done
done
lab_down
secs=$((SECONDS - t0))
section=$(python3 - "$res" "$REPS" "$DELAY" "$secs" <<'PY'
import statistics, sys, datetime, os
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
reps, delay, secs = sys.argv[2], sys.argv[3], sys.argv[4]
def med(m, k):
    v = [int(r[k]) for r in rows if r[0] == m and int(r[k]) >= 0 and r[3] == m]
    return (statistics.median(v), len(v)) if v else (None, 0)
out = ["## stuntd: relay vs direct", "",
       "Measured by `make bench` (`tests/bench/relay.sh`) on %s, kernel %s, in %s s." %
       (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000"),
        os.uname().release, secs), "",
       "Lab with %s ms one way on each side's WAN link; requester `laptop` in ha behind a port-restricted" % delay,
       "cone (rst), `office-pc` in hb behind a full cone with `--turn` to coturn on srv (192.0.2.1:3490,",
       "long-term credentials, RFC 6062 TCP relay). Alternating %s connects of each method; time =" % reps,
       "the requester's `elapsed_ms` (control request to the handed-off socket); RTT = median of 20",
       "1-byte round trips through the connection (ha -> hb's echo service). Direct is the baseline.", "",
       "| method | connects ok | connect median ms | ratio to direct | 1-byte RTT median us |", "|---|---|---|---|---|"]
d, _ = med("direct", 1)
for m in ("direct", "relay"):
    c, n = med(m, 1)
    r, _ = med(m, 2)
    out.append("| %s | %d/%s | %s | %s | %s |" % (m, n, reps, "-" if c is None else "%g" % c,
               "-" if c is None or not d else "%.2f" % (c / d), "-" if r is None else "%g" % r))
out += ["", "Where the relay's extra time goes: before its EXCHANGE hb makes four round trips to the",
        "TURN server (TCP connect, Allocate answered 401, Allocate with the credential,",
        "CreatePermission), and after ha's connect to the relayed address two more (the data",
        "connection and ConnectionBind); each is 2 x the one-way delay of hb's link here. The 1-byte",
        "RTT is the same because srv sits on the lab's internet router like the NATs' WAN side.", ""]
print("\n".join(out))
PY
)
rm -f "$res"
printf '%s\n' "$section" | python3 "$TOP/tests/bench/docsection.py" "$DOC" "## stuntd: relay vs direct"
