#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of stuntd / stuntctl (issue 6), in the namespace lab:
#
# (1) connect time: wall time of `stuntctl connect PEER/NAME --json` (process
#     start to its exit, which comes after the daemon has the established,
#     handed-off socket) per NAT pair, with --delay-a D --delay-b D (one way,
#     each side's WAN link) so that the path has a known RTT. The RTT is
#     measured in the same lab: a UDP echo in srv from ha and from hb, and a
#     1-byte ping-pong through a traversed connection (ha -> hb's echo
#     service), which is the host-to-host round trip of the traversed path.
#     Pairs: full-cone x port-restricted(rst) (direct / reversal),
#     port-restricted(rst) x port-restricted(rst) (simopen), full-cone x
#     sym-random; the strategy's choice and forced methods, REPS each.
# (2) bulk throughput, no added delay, full-cone (ha) x port-restricted (hb):
#     BYTES from hb to a receiver in ha (a) over a plain TCP connection to ha's
#     public endpoint through both NATs (the full cone lets it in once ha has
#     sent a SYN from that port), (b) through `stuntctl forward` on hb (a
#     traversal per connection, splice(2) in stuntctl and in stuntd), (c)
#     through `stuntctl connect -- SENDER` (the traversed socket itself on
#     hb, stuntd's splice on ha). Median of TP_RUNS each.
#
# Writes build/bench/stuntd.json and the "## stuntd: connect time and
# throughput" section of docs/benchmarks.md. Timing is measured here only,
# never asserted.
set -u
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_init stunt-top
# shellcheck source=tests/lab/lab.sh
. "$TOP/tests/lab/lab.sh"
SERVER=$STUNT_BUILD/stunt-server
STUNTD=$STUNT_BUILD/stuntd
STUNTCTL=$STUNT_BUILD/stuntctl
RULES_TOOL=$TOP/tools/stunt-rules
REPS=${BENCH_REPS:-7}
DELAY=${BENCH_DELAY:-10}
BYTES=${BENCH_BYTES:-1000000000}
TP_RUNS=${BENCH_TP_RUNS:-3}
OUT=$STUNT_BUILD/bench
PY=$(python3 -c 'import sys; print(sys.executable)')
bench_root stuntd "network namespaces"
bench_built stuntd stunt-server stuntd stuntctl lab/delayline
mkdir -p "$OUT"
raw=$(mktemp -d /tmp/stlbench-stuntd.XXXX)
DRV=$raw/drv.py

# The measuring side, run inside a lab host: drv.py MODE ARGS (JSON on stdout,
# or on stderr where stdout is the traversed socket).
cat >"$DRV" <<'PY'
import json, os, socket, statistics, subprocess, sys, time
mode, a = sys.argv[1], sys.argv[2:]
now = time.perf_counter

def out(x, f=sys.stdout):
    print(json.dumps(x), file=f, flush=True)

if mode == "udpecho":            # IP PORT
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a[0], int(a[1])))
    while True:
        d, peer = s.recvfrom(2048)
        s.sendto(d, peer)
elif mode == "udprtt":           # IP PORT N -> [ms...]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    r = []
    for i in range(int(a[2])):
        t = now()
        s.sendto(b"%d" % i, (a[0], int(a[1])))
        try:
            while s.recv(64) != b"%d" % i:
                pass
            r.append((now() - t) * 1e3)
        except socket.timeout:
            pass
        time.sleep(0.01)
    out(r)
elif mode == "tunrtt":           # N: stdin/stdout is a traversed socket to an echo
    c = socket.socket(fileno=os.dup(0))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    r = []
    for i in range(int(a[0])):
        t = now()
        c.sendall(b"x")
        c.recv(1)
        r.append((now() - t) * 1e3)
    out(r, sys.stderr)
elif mode == "connect":          # STUNTCTL SOCK PEER/NAME METHOD|auto N -> [{...}]
    ctl, sock, target, method, n = a[0], a[1], a[2], a[3], int(a[4])
    r = []
    for i in range(n):
        cmd = [ctl, "--control", sock, "connect", target, "--json"]
        if method != "auto":
            cmd[4:4] = ["--method", method]
        t = now()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        wall = (now() - t) * 1e3
        try:
            j = json.loads(p.stdout.strip().splitlines()[-1])
        except Exception:
            j = {"ok": False, "error": (p.stdout + p.stderr).strip()[-200:]}
        j["wall_ms"] = round(wall, 1)
        r.append(j)
        time.sleep(0.3)
    out(r)
elif mode == "sink":             # PORT [PRIMER_IP]: receiver; with PRIMER_IP first a SYN
    port = int(a[0])             # from PORT to PRIMER_IP:9 so a full cone maps PORT
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    l.bind(("0.0.0.0", port))
    l.listen(8)
    if len(a) > 1:
        p = socket.socket()
        p.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        p.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        p.bind(("0.0.0.0", port))
        p.settimeout(2)
        try:
            p.connect((a[1], 9))
        except OSError:
            pass
        p.close()
    buf = bytearray(1 << 20)
    while True:
        c, _ = l.accept()
        c.sendall(b"R")
        n = 0
        while True:
            k = c.recv_into(buf)
            if not k:
                break
            n += k
        c.sendall(n.to_bytes(8, "big"))
        c.close()
elif mode in ("send", "sendfd"):  # send HOST PORT BYTES | sendfd BYTES (fd 0)
    if mode == "send":
        c = socket.create_connection((a[0], int(a[1])), timeout=30)
        nbytes, f = int(a[2]), sys.stdout
    else:
        c = socket.socket(fileno=os.dup(0))
        nbytes, f = int(a[0]), sys.stderr
    c.settimeout(30)
    if c.recv(1) != b"R":
        out({"ok": False, "error": "no ready byte"}, f)
        sys.exit(1)
    chunk = memoryview(bytes(1 << 20))
    t = now()
    left = nbytes
    while left > 0:
        k = min(left, len(chunk))
        c.sendall(chunk[:k])
        left -= k
    c.shutdown(socket.SHUT_WR)
    got = b""
    while len(got) < 8:
        d = c.recv(8 - len(got))
        if not d:
            break
        got += d
    secs = now() - t
    n = int.from_bytes(got, "big") if len(got) == 8 else -1
    out({"ok": n == nbytes, "bytes": n, "secs": round(secs, 4), "mbit_s": round(n * 8 / secs / 1e6, 1)}, f)
PY

# start_all TAG LAB_UP_ARGS...: lab, stunt-server, UDP echo in srv, echo (7000)
# and sink (7001) services on both hosts, stuntd laptop (ha) and office-pc (hb).
start_all() {
	local tag=$1 i
	shift
	lab_init "$tag"
	lab_up "$@" || { echo "bench stuntd: lab_up $* failed" >&2; return 1; }
	printf 'laptop s3cret-laptop\noffice-pc s3cret-office\n' >"$LAB_STATE/secrets"
	printf 's3cret-laptop\n' >"$LAB_STATE/secret-a"
	printf 's3cret-office\n' >"$LAB_STATE/secret-b"
	chmod 600 "$LAB_STATE/secret-a" "$LAB_STATE/secret-b"
	lab_server_secrets "$LAB_STATE/secrets"
	mkdir -p "$LAB_STATE/sa" "$LAB_STATE/sb"
	lab_bg srv server "$SERVER" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d \
		--secrets "$LAB_STATE/secrets" >/dev/null
	lab_bg srv udpecho "$PY" "$DRV" udpecho "$LAB_SRV1" 7 >/dev/null
	lab_wait_port srv tcp "$LAB_SRV2" 3479 10 || return 1
	for x in a b; do
		lab_bg "h$x" "echo-$x" "$PY" "$TOP/tests/lab/echosrv.py" --nodelay 7000 >/dev/null
		# the sink maps its port in a full cone by a SYN to pub:9 (RST there)
		lab_bg "h$x" "sink-$x" "$PY" "$DRV" sink 7001 "$LAB_PUB" >/dev/null
	done
	lab_bg ha stuntd-a "$STUNTD" -d -v --id laptop --server "$LAB_SRV1" \
		--secret-file "$LAB_STATE/secret-a" --control "$LAB_STATE/a.sock" \
		--state-dir "$LAB_STATE/sa" --rules-tool "$RULES_TOOL" \
		--expose echo=tcp:127.0.0.1:7000 --allow echo=office-pc \
		--expose sink=tcp:127.0.0.1:7001 --allow sink=office-pc \
		--max-peer-starts 100000 >/dev/null
	lab_bg hb stuntd-b "$STUNTD" -d -v --id office-pc --server "$LAB_SRV1" \
		--secret-file "$LAB_STATE/secret-b" --control "$LAB_STATE/b.sock" \
		--state-dir "$LAB_STATE/sb" --rules-tool "$RULES_TOOL" \
		--expose echo=tcp:127.0.0.1:7000 --allow echo=laptop \
		--expose sink=tcp:127.0.0.1:7001 --allow sink=laptop \
		--max-peer-starts 100000 >/dev/null
	for i in $(seq 1 150); do
		if lx ha "$STUNTCTL" --control "$LAB_STATE/a.sock" status --json 2>/dev/null | grep -q '"registered": *true' &&
			lx hb "$STUNTCTL" --control "$LAB_STATE/b.sock" status --json 2>/dev/null | grep -q '"registered": *true'; then
			lab_wait_port ha tcp 0.0.0.0 7001 5 && lab_wait_port hb tcp 0.0.0.0 7001 5 || return 1
			sleep 0.3
			return 0
		fi
		sleep 0.1
	done
	echo "bench stuntd: daemons did not register" >&2
	tail -n 8 "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" "$LAB_STATE/server.log" >&2
	return 1
}

# lab TAG ARGS...: start_all, and once more after a teardown if it fails
lab() {
	start_all "$@" && return 0
	lab_down
	echo "bench stuntd: retrying the lab once" >&2
	start_all "$@"
}

# rtts NAME: UDP RTT to srv from ha and hb, and the ha -> hb traversed-path RTT
rtts() {
	lx ha "$PY" "$DRV" udprtt "$LAB_SRV1" 7 20 >"$raw/$1.udp-a.json"
	lx hb "$PY" "$DRV" udprtt "$LAB_SRV1" 7 20 >"$raw/$1.udp-b.json"
	lx ha timeout 20 "$STUNTCTL" --control "$LAB_STATE/a.sock" connect office-pc/echo -- \
		"$PY" "$DRV" tunrtt 20 2>"$raw/$1.tun.err" >/dev/null
	grep '^\[' "$raw/$1.tun.err" | tail -1 >"$raw/$1.tun.json"
	[ -s "$raw/$1.tun.json" ] || { echo "bench stuntd: $1: no traversed-path RTT" >&2; cat "$raw/$1.tun.err" >&2; }
}

# cell PAIR FROM(a|b) PEER METHOD
cell() {
	local pair=$1 x=$2 peer=$3 m=$4 f n0
	f="$raw/conn.$pair.$x.$m.json"
	n0=$(wc -l <"$LAB_STATE/stuntd-$x.log")
	lx "h$x" "$PY" "$DRV" connect "$STUNTCTL" "$LAB_STATE/$x.sock" "$peer/echo" "$m" "$REPS" >"$f" ||
		echo "bench stuntd: $pair $x $m: driver failed" >&2
	# the requester's log of these sessions, for the time line of each phase
	tail -n +$((n0 + 1)) "$LAB_STATE/stuntd-$x.log" | grep ' session ' >"${f%.json}.log"
	echo "# $pair h$x -> $peer ($m): $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(" ".join("%s:%s" % (j.get("method"), j["wall_ms"]) if j.get("ok") else "FAIL" for j in r))' "$f" 2>/dev/null)"
}

t_start=$SECONDS
dl=(--delay-a "$DELAY" --delay-b "$DELAY")
if lab sdb --nat-a full-cone --nat-b port-restricted "${dl[@]}"; then
	rtts fc-pr
	cell fc-pr b laptop auto
	cell fc-pr b laptop direct
	cell fc-pr b laptop simopen
	cell fc-pr a office-pc auto
	cell fc-pr a office-pc reversal
	cell fc-pr a office-pc simopen
fi
lab_down
if lab sdb --nat-a port-restricted --nat-b port-restricted "${dl[@]}"; then
	rtts pr-pr
	cell pr-pr a office-pc auto
	cell pr-pr a office-pc simopen
	cell pr-pr b laptop auto
fi
lab_down
if lab sdb --nat-a full-cone --nat-b sym-random "${dl[@]}"; then
	rtts fc-sym
	cell fc-sym b laptop auto
	cell fc-sym a office-pc auto
fi
lab_down

# (2) throughput, no delay: hb sends to the sink in ha
if lab sdb --nat-a full-cone --nat-b port-restricted; then
	lab_bg hb forward "$STUNTCTL" --control "$LAB_STATE/b.sock" forward 127.0.0.1:9000 laptop/sink >/dev/null
	lab_wait_port hb tcp 127.0.0.1 9000 5
	wana=$LAB_WANA
	for i in $(seq 1 "$TP_RUNS"); do
		lx hb timeout 60 "$PY" "$DRV" send "$wana" 7001 "$BYTES" >"$raw/tp.direct.$i.json"
		lx hb timeout 60 "$PY" "$DRV" send 127.0.0.1 9000 "$BYTES" >"$raw/tp.forward.$i.json"
		lx hb timeout 60 "$STUNTCTL" --control "$LAB_STATE/b.sock" connect laptop/sink -- \
			"$PY" "$DRV" sendfd "$BYTES" 2>"$raw/tp.connect.$i.err" >/dev/null
		grep '^{' "$raw/tp.connect.$i.err" | tail -1 >"$raw/tp.connect.$i.json"
		echo "# throughput run $i: direct $(cat "$raw/tp.direct.$i.json"); forward $(cat "$raw/tp.forward.$i.json"); connect $(cat "$raw/tp.connect.$i.json")"
	done
	grep -h "connected by" "$LAB_STATE/forward.log" | sed 's/^/# /'
fi
lab_down
elapsed=$((SECONDS - t_start))

python3 - "$raw" "$OUT/stuntd.json" "$DOC" "$REPS" "$DELAY" "$BYTES" "$TP_RUNS" "$elapsed" <<'EOF'
import glob, json, os, platform, re, statistics, sys, time
raw, out, doc, reps, delay, nbytes, tpruns, elapsed = sys.argv[1:9]
reps, delay, nbytes, tpruns = int(reps), int(delay), int(nbytes), int(tpruns)
med = statistics.median

def ld(p):
    try:
        return json.load(open(p))
    except Exception:
        return None

pairs = {
    "fc-pr": ("full-cone (ha) × port-restricted, rst (hb)"),
    "pr-pr": ("port-restricted, rst (ha) × port-restricted, rst (hb)"),
    "fc-sym": ("full-cone (ha) × sym-random (hb)"),
}
host = {"a": ("ha", "laptop"), "b": ("hb", "office-pc")}
res = {"when": time.strftime("%Y-%m-%d %H:%M:%S %z"), "kernel": platform.release(),
       "cpus": os.cpu_count(), "delay_ms_each_way_each_side": delay, "reps": reps,
       "rtt": {}, "connect": [], "throughput": {}}
for p in pairs:
    r = {k: ld(f"{raw}/{p}.{k}.json") for k in ("udp-a", "udp-b", "tun")}
    res["rtt"][p] = {"udp_ha_srv_ms": r["udp-a"], "udp_hb_srv_ms": r["udp-b"], "traversed_ha_hb_ms": r["tun"]}

order = [("fc-pr", "b", "auto"), ("fc-pr", "b", "direct"), ("fc-pr", "b", "simopen"),
         ("fc-pr", "a", "auto"), ("fc-pr", "a", "reversal"), ("fc-pr", "a", "simopen"),
         ("pr-pr", "a", "auto"), ("pr-pr", "a", "simopen"), ("pr-pr", "b", "auto"),
         ("fc-sym", "b", "auto"), ("fc-sym", "a", "auto")]
def phases(path):
    """Per session of the requester's log: ms spent in each phase."""
    ss = {}
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return []
    for l in lines:
        mt = re.match(r"^(\d+\.\d+) stuntd: \w+: session (\d+): (.*)$", l)
        if not mt:
            continue
        t, sid, msg = float(mt.group(1)) * 1e3, mt.group(2), mt.group(3)
        d = ss.setdefault(sid, {})
        if msg.startswith("connect to ") and msg.endswith("requested"):
            d["req"] = t
        elif msg.startswith("start in "):
            d["sched"] = t
        elif re.match(r"^\w+: (connect from|accept on) port", msg):
            d.setdefault("first", t)
        elif re.match(r"^\w+ established after", msg):
            d.setdefault("est", t)
        elif " connected by " in msg:
            d["done"] = t
    out = []
    for sid, d in ss.items():
        if all(k in d for k in ("req", "sched", "first", "est", "done")):
            out.append({"session": sid, "negotiate_ms": d["sched"] - d["req"], "wait_start_ms": d["first"] - d["sched"],
                        "start_to_established_ms": d["est"] - d["first"], "handoff_ms": d["done"] - d["est"]})
    return out

rows, phrows = [], []
for p, x, m in order:
    runs = ld(f"{raw}/conn.{p}.{x}.{m}.json")
    if runs is None:
        continue
    ph = phases(f"{raw}/conn.{p}.{x}.{m}.log")
    res["connect"].append({"pair": p, "from": host[x][0], "method": m, "runs": runs, "phases": ph})
    if ph:
        ov = [j["wall_ms"] - j["elapsed_ms"] for j in runs if j.get("ok") and isinstance(j.get("elapsed_ms"), (int, float))]
        phrows.append("| %s | %s → %s | %s | %s | %s | %s | %s | %s |" % (
            p, host[x][0], "hb" if x == "a" else "ha", "strategy" if m == "auto" else m,
            *("%.0f" % med(q[k] for q in ph) for k in ("negotiate_ms", "wait_start_ms", "start_to_established_ms", "handoff_ms")),
            "%.0f" % med(ov) if ov else "?"))
    okr = [j for j in runs if j.get("ok")]
    tun = res["rtt"][p]["traversed_ha_hb_ms"]
    rtt = med(tun) if tun else None
    won = {}
    for j in okr:
        won[j.get("method")] = won.get(j.get("method"), 0) + 1
    if okr:
        w = [j["wall_ms"] for j in okr]
        e = [j["elapsed_ms"] for j in okr if isinstance(j.get("elapsed_ms"), (int, float))]
        rows.append("| %s | %s → %s | %s | %s | %d/%d | **%.0f** | %.0f–%.0f | **%s** | %s |" % (
            pairs[p], host[x][0], "hb" if x == "a" else "ha", "strategy" if m == "auto" else "`--method %s`" % m,
            ", ".join("%s %d" % (k, v) for k, v in sorted(won.items())), len(okr), len(runs),
            med(w), min(w), max(w), "%.1f" % (med(w) / rtt) if rtt else "?",
            "%.0f" % med(e) if e else "?"))
    else:
        err = runs[0].get("error") if runs else "no runs"
        rows.append("| %s | %s → %s | %s | — | 0/%d | failed: %s | | | |" % (
            pairs[p], host[x][0], "hb" if x == "a" else "ha", m, len(runs), str(err)[:80]))

rttrows = []
for p in pairs:
    r = res["rtt"][p]
    f = lambda v: "%.1f" % med(v) if v else "?"
    rttrows.append("| %s | %s | %s | %s |" % (pairs[p], f(r["udp_ha_srv_ms"]), f(r["udp_hb_srv_ms"]), f(r["traversed_ha_hb_ms"])))

tp = {}
for k in ("direct", "forward", "connect"):
    runs = [ld(f"{raw}/tp.{k}.{i}.json") for i in range(1, tpruns + 1)]
    runs = [j for j in runs if j]
    tp[k] = runs
res["throughput"] = {"bytes": nbytes, "runs": tp}
good = {k: [j["mbit_s"] for j in v if j.get("ok")] for k, v in tp.items()}
base = med(good["direct"]) if good["direct"] else None
names = {"direct": "plain TCP hb → ha's public endpoint (through both NATs, the full cone lets it in)",
         "forward": "`stuntctl forward` on hb → stuntd on ha → sink (splice in both)",
         "connect": "`stuntctl connect laptop/sink -- sender` (the traversed socket itself on hb; stuntd's splice on ha)"}
tprows = []
for k in ("direct", "forward", "connect"):
    g = good[k]
    if g:
        tprows.append("| %s | %d/%d | **%s** | %s | %s |" % (
            names[k], len(g), len(tp[k]), f"{med(g):,.0f}", ", ".join(f"{v:,.0f}" for v in g),
            "**%.2f**" % (med(g) / base) if base else "?"))
    else:
        tprows.append("| %s | 0/%d | failed | | |" % (names[k], len(tp[k])))
json.dump(res, open(out, "w"), indent=1)

sec = f"""## stuntd: connect time and throughput

Measured by `make bench` (`tests/bench/stuntd.sh`) on {res['when']}, kernel {res['kernel']},
{res['cpus']} CPUs, in {elapsed} s. Raw data: `build/bench/stuntd.json`.

**Connect time.** Lab with {delay} ms one way on each side's WAN link (`--delay-a {delay} --delay-b {delay}`),
no loss; stunt-server in `srv`, stuntd `laptop` in ha and `office-pc` in hb, each exposing an echo
service. A cell is {reps} runs of `stuntctl connect PEER/echo --json` on the requesting host, one
after the other; the time is the wall time of that process (start to exit; it exits once the
daemon holds an established connection that the peer has handed off, see the session protocol in
stuntd(8)). "RTTs" divides the median by the host-to-host RTT measured in the same lab: 20
1-byte round trips through a traversed connection ha → hb's echo (median). stuntd's own
`elapsed_ms` (request received to answer sent) is in the last column.

| pair | requester → responder | method | won | ok | median ms | min–max ms | median in RTTs | stuntd `elapsed_ms` (median) |
|---|---|---|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

Round trips measured in the same labs (median of 20, ms):

| pair | UDP ha ↔ srv | UDP hb ↔ srv | ha ↔ hb through a traversed connection |
|---|---:|---:|---:|
{chr(10).join(rttrows)}

**Where the time goes**, from the requester's stuntd log (`-v`) of the same runs, medians in ms:
negotiation = request received → start time known (LOOKUP of the peer: 1 server RTT; EXCHANGE
relayed to the peer and its EXCHANGE back: about 1 host-to-host RTT; SCHEDULE: 1 server RTT);
wait = start time known → the attempts begin. direct, reversal and portmap need no simultaneity
and start as soon as the roles are known: the accepting side listens (direct: and sends its
TTL-limited primer SYN; portmap: after the mapping is made) before it answers the EXCHANGE, the
requester connects when that answer arrives; for reversal the requester listens before it sends
SCHEDULE and the peer connects when SCHEDULE reaches it. Their attempts therefore begin before
the start time is known, and their "wait" is negative. simopen, stunt1, synth, predict, stunt2
and shotgun start at the agreed time: each side 20 ms after its copy of the schedule arrives
(`D_SCHEDULE_DELAY_MS`; both copies leave the server together, so the two starts differ by the
difference of the server's one-way delays whatever the lead; it was 300 ms + 2 × the
negotiation time before 2026-11-22); the loop checks it every 5 ms while a session connects
(`D_TICK_BUSY_MS`);
race = attempts begin → first established connection; hand-off = the 12-byte session header to
the peer and its 'K' back (1 RTT); stuntctl = wall time − stuntd's `elapsed_ms` (process start,
control socket).

| pair | requester → responder | method | negotiation | wait for the start | race | hand-off | stuntctl |
|---|---|---|---:|---:|---:|---:|---:|
{chr(10).join(phrows)}

In the race, **direct** is one handshake after the EXCHANGE answer (1 RTT), **reversal** one
handshake after SCHEDULE reaches the peer; **simopen**'s first SYNs are TTL-limited and die
between the two NATs by design, so the connection completes with the kernel's first SYN
retransmission, 1 s (the initial RTO) after the agreed start. So a direct or reversal connect is
now mostly round trips (lookup, exchange, handshake, hand-off), while simopen is the 1 s RTO
(stunt1 and synth, raced beside it, complete without that wait: "stunt1 and synth" below).
**stunt1** is established when stunt-server's SYN-ACKs arrive, about half a host-to-host RTT
after the start, so beside reversal (one handshake after SCHEDULE reaches the peer) it can win:
compare the strategy and `--method reversal` rows of full-cone × port-restricted, ha → hb.
Direct wins where it can (its connect goes before the schedule). Losers are cancelled without
an RST.

**Bulk throughput**, no added delay, full-cone (ha) × port-restricted rst (hb): {nbytes / 1e6:.0f} MB from a
Python sender in hb to a receiver in ha (1 MiB writes; the clock starts at the receiver's ready byte, so
the traversal itself is not in it, and stops when the receiver has counted every byte and answered),
median of {tpruns} runs, each kind in turn in the same lab. Ratio = median / median of the plain TCP row.

| path | ok | Mbit/s (median) | per run | ratio to plain TCP |
|---|---:|---:|---|---:|
{chr(10).join(tprows)}

On this machine the sender, the receiver and, in the stunt rows, stuntctl and stuntd share
{res['cpus']} CPUs; plain-TCP runs vary by up to ±25 %, so read the ratios as ±0.15. The default
size is 1 GB (`BENCH_BYTES`) because 200 MB crossed the plain path in about 30 ms, too short to time.
stuntd's NFQUEUE rules queue only SYNs, RSTs, UDP and related ICMP of its own marked flows:
the data of an established connection never goes through user space; `forward` and the
tcp: target copy with splice(2).
"""
open(f"{raw}/section.md", "w").write(sec)
print("\n".join(rows + rttrows + phrows + tprows))
print(f"wrote {out} and the '## stuntd: connect time and throughput' section of {doc}")
EOF
rc=$?
[ $rc -eq 0 ] && { python3 "$TOP/tests/bench/docsection.py" -q "$DOC" "## stuntd: connect time and throughput" <"$raw/section.md" || rc=1; }
[ -n "${BENCH_KEEP:-}" ] && echo "kept $raw" >&2 || rm -rf "$raw"
exit $rc
