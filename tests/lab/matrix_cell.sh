#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One cell of the success matrix (issue 7): a fresh lab with one pair of NAT
# behaviours, stunt-server, two stuntd, and the connects; prints ONE JSON line
# on stdout (progress as '# ' lines on stderr). Used by tests/lab/t_matrix.sh
# and tests/bench/matrix.sh; see docs/lab.md "Success matrix".
#
#   matrix_cell.sh --nat-a TYPE --nat-b TYPE [--syn rst|drop|icmp]
#       [--cgn none|a|b|both|shared] [--delay MS] [--loss PCT] [--dirs "ab ba"]
#       [--tries N] [--methods "direct reversal ..."|all|none]
#       [--connect-timeout MS]
#       [--turn auto|off|HOST:PORT:USER:PASS] [--local lan|hairpin|wronghost]
#       [--fw6-a TYPE] [--fw6-b TYPE]
#
# --syn      answer of both NATs (and CGNs) to an unsolicited SYN (default rst)
# --cgn      a carrier-grade NAT layer in front of side a, b or both; shared:
#            one hairpinning CGN in front of both (lab_up --cgn-shared
#            --cgn-hairpin; no --delay or --loss then)
# --delay    one-way delay on each side's WAN link (host RTT grows by 4*MS)
# --loss     loss in % on side b's WAN link, each way: every packet between
#            the hosts, and b's signalling, crosses it once per direction
# --dirs     requesters of the strategy's connect: ab = ha asks for hb, ba =
#            hb asks for ha (default both)
# --tries    strategy connects per direction until one succeeds (default 1);
#            where the pair must connect without a relay (an EIM side, or
#            sequential x sequential) a relayed connect counts as a failed try
# --connect-timeout  both daemons' deadline of a whole connect (default 10000)
# --methods  methods forced with --method, each in every direction of --dirs
#            (default none; all = every name stuntctl knows; host too
#            with --local)
# --turn     auto (default): when stuntd --help offers --turn and turnserver
#            exists, run coturn (TCP allocations, RFC 6062) in pub and give both
#            daemons --turn; off: never; HOST:PORT:USER:PASS: that server.
# --local    the local paths (issue 16); side b's NAT is then not crossed:
#            lan: the daemons in ha and ha2, one LAN behind gwa (lab_up
#              --lan2-a; gwa does not hairpin): a connect must be host's,
#              its socket's peer the peer's private address;
#            hairpin: the same behind a gwa that hairpins (--hairpin-a):
#              host or the public path, whichever wins;
#            wronghost: two homes with the same LAN (--same-subnet) behind
#              one hairpinning CGN (--cgn-shared --cgn-hairpin); the daemons
#              in ha2 (10.0.0.11) and hb (10.0.0.10): hb's host address is
#              ha's on ha2's LAN, where a rogue (rogue.py) accepts on every
#              port and answers a fake proof. Host is also forced, ha2
#              asking hb (the responders allow it); the rogue's log is the cell's
#              "wrong_host": {"conns": N, "bytes": [..], "heads": [..],
#              "unproven_a": ha2's security.conns_unproven, "won_b": the
#              connects hb's status counts as won}
# --fw6-a, --fw6-b  IPv6 too (issue 17; lab_up --ipv6): each side's IPv6
#            gateway, drop|reject|npt|open (the other one defaults to drop);
#            both daemons offer their IPv6 address, --methods all adds
#            simopen6, and a connect made by simopen6 must have the peer's
#            IPv6 address (its status's "ipv6") as its socket's remote one.
#            With an npt side, and when stuntd --help offers --server6, the
#            server also listens on IPv6 (--primary6/--alternate6) and both
#            daemons get --server6: behind NPTv6 a host learns its translated
#            address there. Without either option, the cell is IPv4 only.
# MX_KEEP=DIR in the environment copies the cell's logs there before cleanup.
# MX_CELL_EXTRA=FILE: a bash file sourced after the connects, in the same lab
# (tests/bench/ice/cell.sh runs libnice there); the JSON object it writes to
# $raw/extra.json is merged into the cell's line.
#
# JSON: {"a","b","syn","cgn","delay_ms","loss_pct","fw6_a","fw6_b" (null:
#  no IPv6),"turn","nat_a","nat_b",
#  "rtt_ms" (ha-srv + hb-srv UDP RTT),"rtt_a_srv_ms","rtt_b_srv_ms","setup_s","cell_s","strategy":{"ab":{ok,method,elapsed_ms,
#  relayed,error,tries,wall_ms},"ba":...},"forced":{"METHOD":{"ab":{...}}},
#  "local","wrong_host","error"} ("error" non-null when the cell itself could not run).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
BUILD=${STUNT_BUILD:-$here/../../build}
SERVER=$BUILD/stunt-server
STUNTD=$BUILD/stuntd
STUNTCTL=$BUILD/stuntctl
RULES_TOOL=$here/../../tools/stunt-rules
PY=$(python3 -c 'import sys; print(sys.executable)')
ALL_METHODS="direct portmap reversal simopen stunt1 stunt2 synth predict shotgun udp relay"

nat_a=port-restricted nat_b=port-restricted syn=rst cgn=none delay=0 loss=0
dirs="ab ba" tries=1 methods="" ctimeout=10000 turn=${MATRIX_TURN:-auto} local=none
fw6_a="" fw6_b=""
while [ $# -gt 0 ]; do
	case "$1" in
	--nat-a) nat_a=$2; shift ;;
	--nat-b) nat_b=$2; shift ;;
	--syn) syn=$2; shift ;;
	--cgn) cgn=$2; shift ;;
	--delay) delay=$2; shift ;;
	--loss) loss=$2; shift ;;
	--dirs) dirs=$2; shift ;;
	--tries) tries=$2; shift ;;
	--methods) methods=$2; shift ;;
	--connect-timeout) ctimeout=$2; shift ;;
	--turn) turn=$2; shift ;;
	--local) local=$2; shift ;;
	--fw6-a) fw6_a=$2; shift ;;
	--fw6-b) fw6_b=$2; shift ;;
	*) sed -n '/^#   matrix_cell.sh/,/^# JSON/p' "$0" >&2; exit 2 ;;
	esac
	shift
done
if [ -n "$fw6_a$fw6_b" ]; then
	fw6_a=${fw6_a:-drop} fw6_b=${fw6_b:-drop}
	ALL_METHODS="$ALL_METHODS simopen6"
fi
# host, too, where the peers share a public address (--local)
[ "$methods" = all ] && methods=$ALL_METHODS && [ "$local" != none ] && methods="host $methods"
[ "$methods" = none ] && methods=""
t_cell=$(date +%s.%N)
raw=$(mktemp -d /tmp/stlmx-cell.XXXX)
log() { echo "# $*" >&2; }

# The JSON line; every result file in $raw goes into it.
emit() {
	"$PY" - "$raw" "$1" <<'PY'
import json, os, sys, glob
raw, err = sys.argv[1], sys.argv[2] or None
def rd(name, default=None):
    try:
        with open(os.path.join(raw, name)) as f:
            return f.read().strip()
    except OSError:
        return default
meta = json.loads(rd("meta.json", "{}"))
out = dict(meta)
out["nat_a"], out["nat_b"] = rd("nat-a"), rd("nat-b")
rtt = rd("rtt")
out["rtt_ms"] = float(rtt) if rtt else None
for x in "ab":
    v = rd("rtt-" + x)
    out["rtt_%s_srv_ms" % x] = float(v) if v else None
out["turn"] = rd("turn") == "1"
s = rd("setup_s")
out["setup_s"] = float(s) if s else None
out["strategy"], out["forced"] = {}, {}
for p in sorted(glob.glob(os.path.join(raw, "conn.*.json"))):
    _, kind, d = os.path.basename(p)[:-5].split(".", 2)
    with open(p) as f:
        j = json.load(f)
    if kind == "auto":
        out["strategy"][d] = j
    else:
        m, d = d.split(".")
        out["forced"].setdefault(m, {})[d] = j
wh = rd("wronghost")
if wh is not None:
    # rogue.py's lines: "conn MODE N HEX"
    conns = [l.split() for l in wh.splitlines() if l.startswith("conn ")]
    out["wrong_host"] = {"conns": len(conns), "bytes": [int(c[2]) for c in conns],
                         "heads": [c[3] if len(c) > 3 else "" for c in conns]}
    out["wrong_host"].update(json.loads(rd("wronghost.status", "{}") or "{}"))
extra = rd("extra.json")
if extra:
    out.update(json.loads(extra))
out["error"] = err
out["cell_s"] = round(float(rd("t_end")) - meta["t0"], 1)
del out["t0"]
print(json.dumps(out, separators=(",", ":")))
PY
}

finish() {
	local err=${1:-}
	# MX_KEEP=DIR: keep the cell's logs (stuntd, server, coturn, NAT rules) for debugging
	[ -n "${MX_KEEP:-}" ] && [ -n "${LAB_STATE:-}" ] && mkdir -p "$MX_KEEP" &&
		cp -r "$LAB_STATE"/. "$MX_KEEP"/ 2>/dev/null
	lab_down
	date +%s.%N >"$raw/t_end"
	emit "$err"
	rm -rf "$raw"
	exit 0
}

"$PY" -c 'import json, sys; print(json.dumps({"a": sys.argv[1], "b": sys.argv[2], "syn": sys.argv[3], "cgn": sys.argv[4], "delay_ms": int(sys.argv[5]), "loss_pct": float(sys.argv[6]), "t0": float(sys.argv[7]), "local": sys.argv[8], "fw6_a": sys.argv[9] or None, "fw6_b": sys.argv[10] or None}))' \
	"$nat_a" "$nat_b" "$syn" "$cgn" "$delay" "$loss" "$t_cell" "$local" "$fw6_a" "$fw6_b" >"$raw/meta.json"
for b in "$SERVER" "$STUNTD" "$STUNTCTL"; do
	[ -x "$b" ] || { log "missing $b (make)"; finish "missing $b (make)"; }
done

# TURN: coturn in pub when asked for and possible
turn_args=()
if [ "$turn" != off ] && "$STUNTD" --help 2>&1 | grep -q -- '--turn'; then
	case "$turn" in
	auto)
		if command -v turnserver >/dev/null; then
			turn_args=(--turn "$LAB_PUB:3478" --turn-user matrix --turn-pass "mx-$$-turn")
			turn_local=1
		fi
		;;
	*:*:*:*)
		IFS=: read -r th tp tu tw <<<"$turn"
		turn_args=(--turn "$th:$tp" --turn-user "$tu" --turn-pass "$tw")
		;;
	esac
fi
[ ${#turn_args[@]} -gt 0 ] && echo 1 >"$raw/turn" || echo 0 >"$raw/turn"

lab_init mx
trap 'finish "interrupted"' INT TERM HUP
up=(--nat-a "$nat_a" --nat-b "$nat_b" --syn-a "$syn" --syn-b "$syn")
case "$cgn" in
a) up+=(--cgn-a) ;;
b) up+=(--cgn-b) ;;
both) up+=(--cgn-a --cgn-b) ;;
shared) up+=(--cgn-shared --cgn-hairpin) ;;	# both homes behind one hairpinning CGN
none) ;;
*) finish "unknown --cgn '$cgn'" ;;
esac
# the nodes of the two daemons (a and b)
node_a=ha node_b=hb
case "$local" in
none) ;;
lan | hairpin)
	node_b=ha2
	up+=(--lan2-a)
	[ "$local" = hairpin ] && up+=(--hairpin-a)
	;;
wronghost)
	node_a=ha2
	up+=(--same-subnet --lan2-a --cgn-shared --cgn-hairpin)
	;;
*) finish "unknown --local '$local'" ;;
esac
[ "$local" != none ] && [ "$cgn$delay$loss" != none00 ] && finish "--local takes no --cgn, --delay or --loss"
# one CGN for both: the hosts' path turns at its hairpin, inet never sees it
[ "$cgn" = shared ] && [ "$delay$loss" != 00 ] && finish "--cgn shared takes no --delay or --loss"
[ "$delay" != 0 ] && up+=(--delay-a "$delay" --delay-b "$delay")
[ "$loss" != 0 ] && up+=(--loss-b "$loss")
[ -n "$fw6_a" ] && up+=(--ipv6 --fw6-a "$fw6_a" --fw6-b "$fw6_b")
lab_up "${up[@]}" 2>"$raw/lab.err" || finish "lab_up ${up[*]}: $(tr '\n' ' ' <"$raw/lab.err")"

printf 'ha s3cret-ha\nhb s3cret-hb\n' >"$LAB_STATE/secrets"
printf 's3cret-ha\n' >"$LAB_STATE/secret-a"
printf 's3cret-hb\n' >"$LAB_STATE/secret-b"
chmod 600 "$LAB_STATE/secret-a" "$LAB_STATE/secret-b"
lab_server_secrets "$LAB_STATE/secrets"
mkdir -p "$LAB_STATE/sa" "$LAB_STATE/sb"
# NPTv6: the daemons learn their translated address from the server's IPv6
# side (stuntd --server6); the other IPv6 cells run as a host without it
srv6_args=() server6_args=()
case "$fw6_a/$fw6_b" in
npt/* | */npt)
	if "$STUNTD" --help 2>&1 | grep -q -- '--server6'; then
		srv6_args=(--primary6 "$LAB_SRV1_6" --alternate6 "$LAB_SRV2_6")
		server6_args=(--server6 "$LAB_SRV1_6")
	fi
	;;
esac
lab_bg srv server "$SERVER" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d \
	--secrets "$LAB_STATE/secrets" ${srv6_args[@]+"${srv6_args[@]}"} >/dev/null
if [ -n "${turn_local:-}" ]; then
	mkdir -p "$LAB_STATE/turn"
	lab_bg pub coturn turnserver -n --no-tls --no-dtls --no-cli \
		--listening-ip "$LAB_PUB" --relay-ip "$LAB_PUB" --listening-port 3478 \
		--lt-cred-mech --user "matrix:mx-$$-turn" --realm stunt.lab \
		--log-file stdout --simple-log --pidfile "$LAB_STATE/turn/pid" \
		--db "$LAB_STATE/turn/db.sqlite" >/dev/null
	lab_wait_port pub tcp "$LAB_PUB" 3478 10 2>>"$raw/lab.err" ||
		finish "coturn did not start: $(tail -3 "$LAB_STATE/coturn.log" | tr '\n' ' ')"
fi
lab_wait_port srv tcp "$LAB_SRV2" 3479 10 2>>"$raw/lab.err" || finish "stunt-server did not start"
ECHO='
import socket, threading, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(16)
def serve(c):
    while True:
        d = c.recv(1 << 16)
        if not d: break
        c.sendall(d)
    c.close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'
# --methods measures every forced method in every cell, the ones the
# strategy says cannot work included: the responders must run them
# (allow-forced-methods; by default a stuntd refuses them, docs/security.md)
forced_args=()
{ [ -n "$methods" ] || [ "$local" = wronghost ]; } &&
	"$STUNTD" --help 2>&1 | grep -q -- '--allow-forced-methods' &&
	forced_args=(--allow-forced-methods)
for x in a b; do
	[ $x = a ] && me=ha peer=hb node=$node_a || me=hb peer=ha node=$node_b
	lab_bg "$node" "echo-$x" "$PY" -c "$ECHO" 7000 >/dev/null
	lab_bg "$node" "stuntd-$x" "$STUNTD" -d -v --id "$me" --server "$LAB_SRV1" \
		--secret-file "$LAB_STATE/secret-$x" --control "$LAB_STATE/$x.sock" \
		--state-dir "$LAB_STATE/s$x" --rules-tool "$RULES_TOOL" \
		--connect-timeout "$ctimeout" \
		--expose echo=tcp:127.0.0.1:7000 --allow echo="$peer" \
		${turn_args[@]+"${turn_args[@]}"} ${forced_args[@]+"${forced_args[@]}"} \
		${server6_args[@]+"${server6_args[@]}"} >/dev/null
done
# registration: NAT probe + login; slower under loss
reg=0
for _ in $(seq 1 300); do
	if lx "$node_a" "$STUNTCTL" --control "$LAB_STATE/a.sock" status --json >"$raw/status-a" 2>/dev/null &&
		lx "$node_b" "$STUNTCTL" --control "$LAB_STATE/b.sock" status --json >"$raw/status-b" 2>/dev/null &&
		grep -q '"registered": *true' "$raw/status-a" && grep -q '"registered": *true' "$raw/status-b"; then
		reg=1
		break
	fi
	sleep 0.1
done
[ "$reg" = 1 ] || finish "the daemons did not register in 30 s: $(tail -n 2 "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" | tr '\n' ' ')"
for x in a b; do
	# the NAT each daemon detected, e.g. "EIM/APDF preserving"
	"$PY" -c '
import json, sys
n = json.load(open(sys.argv[1])).get("nat") or {}
t = n.get("tcp") or {}
s = "%s/%s %s" % (t.get("mapping"), t.get("filtering"), t.get("allocation"))
if t.get("allocation") == "sequential" and t.get("delta"):
    s += " d%s" % t["delta"]
print(s + (" hops %s" % t["nat_hops"] if t.get("nat_hops") is not None else ""))' "$raw/status-$x" >"$raw/nat-$x" 2>/dev/null
done
"$PY" -c 'import sys, time; print(round(time.time() - float(sys.argv[1]), 2))' "$t_cell" >"$raw/setup_s"

# RTT ha <-> hb (the daemons' nodes): a UDP echo in srv, from ha and from hb (median of 15 each);
# both paths meet in inet, one hop from srv, so the host-to-host round trip
# is their sum (less 2 x inet-srv, a few microseconds). Works through every
# NAT type (a symmetric NAT here translates only TCP and UDP, not ICMP).
lab_bg srv udpecho "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7))
while True:
    d, p = s.recvfrom(2048)
    s.sendto(d, p)' "$LAB_SRV1" >/dev/null
lab_wait_port srv udp "$LAB_SRV1" 7 5 2>/dev/null
for x in a b; do
	[ $x = a ] && node=$node_a || node=$node_b
	lx "$node" "$PY" -c '
import socket, statistics, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
r = []
for i in range(15):
    t = time.perf_counter()
    s.sendto(b"%d" % i, (sys.argv[1], 7))
    try:
        while s.recv(64) != b"%d" % i:
            pass
        r.append((time.perf_counter() - t) * 1e3)
    except socket.timeout:
        pass
    time.sleep(0.01)
print("%.3f" % statistics.median(r) if r else "")' "$LAB_SRV1" >"$raw/rtt-$x" 2>/dev/null
done
if [ -s "$raw/rtt-a" ] && [ -s "$raw/rtt-b" ]; then
	awk '{ s += $1 } END { printf "%.3f\n", s }' "$raw/rtt-a" "$raw/rtt-b" >"$raw/rtt"
fi
log "$nat_a x $nat_b syn=$syn cgn=$cgn delay=$delay loss=$loss${fw6_a:+ IPv6 $fw6_a x $fw6_b}: registered (${nat_a}: $(cat "$raw/nat-a"); ${nat_b}: $(cat "$raw/nat-b")), RTT $(cat "$raw/rtt") ms"

# the wrong host: ha, at hb's address on ha2's LAN, accepts on every port
if [ "$local" = wronghost ]; then
	: >"$raw/wronghost"
	echo proof >"$raw/rogue.mode"
	lab_bg ha rogue "$PY" "$here/rogue.py" "$LAB_HB" 7999 "$raw/wronghost" "$raw/rogue.mode" >/dev/null
	lx ha nft -f - <<EOF || finish "the rogue's redirect in ha"
table ip rogue {
	chain pre {
		type nat hook prerouting priority dstnat - 5;
		iifname eth0 ip daddr $LAB_HB tcp dport != 7999 redirect to :7999
	}
}
EOF
	lab_wait_port ha tcp "$LAB_HB" 7999 5 2>/dev/null || finish "the rogue did not start"
fi

# The pairs matrix.sh's assert holds to "without a relay" (same rule as its kind()).
want_direct=0
case "$nat_a/$nat_b" in
sym-seq*/sym-seq*) want_direct=1 ;;
sym-*/sym-*) ;;
*) want_direct=1 ;;
esac
# with IPv6 on both sides every pair can connect directly: simopen6 through
# the stateful firewalls (issue 17), whatever the IPv4 NATs are
[ -n "$fw6_a" ] && want_direct=1

# conn KIND DIR [METHOD] TRIES TIMEOUT_MS -> $raw/conn.KIND.[METHOD.]DIR.json
# Each connect carries MX_BYTES (1 MiB) of random bytes to the peer's echo
# and back through the socket the method made (SHA-256 compared), and the
# socket's remote address must be the peer's public IP (as its stuntd's
# status says), its private address when host won (--local lan and
# hairpin: there is no right private one in wronghost), or, when relayed, the TURN server's (a relayed session's
# descriptor is a loopback connection's end when both stuntds frame it:
# then the remote address of the relay connection stuntd holds, the
# answer's "relay"); a connect by simopen6 must be to the peer's IPv6
# address (its stuntd's status, "ipv6"): a try whose data or address is
# wrong does not count.
conn() {
	local kind=$1 d=$2 m=$3 n=$4 tmo=$5 x y peer f node priv=""
	[ "$d" = ab ] && x=a y=b peer=hb node=$node_a || x=b y=a peer=ha node=$node_b
	[ "$kind" = auto ] && f="$raw/conn.auto.$d.json" || f="$raw/conn.forced.$m.$d.json"
	case "$local/$x" in
	lan/a | hairpin/a) priv=$LAB_HA2 ;;
	lan/b | hairpin/b) priv=$LAB_HA ;;
	esac
	lx "$node" "$PY" - "$here/ctlclient.py" "$LAB_STATE/$x.sock" "$peer" "$m" "$n" "$tmo" \
		"$want_direct" "${MX_BYTES:-1048576}" "$raw/status-$y" "$LAB_PUB" "$priv" >"$f" <<'PY'
import json, subprocess, sys, time
cli, sock, peer, method, n, tmo, want_direct, nbytes, peer_status, turn_ip, priv = sys.argv[1:12]
try:
    peer_ip = json.load(open(peer_status))["public"]["tcp"].rsplit(":", 1)[0]
except (OSError, ValueError, KeyError, TypeError, AttributeError):
    peer_ip = None
try:
    # ctlclient.py prints an IPv6 peer as "[IP]:PORT"
    v6 = json.load(open(peer_status))["ipv6"]
    peer_ip6 = "[%s]" % v6 if v6 else None
except (OSError, ValueError, KeyError, TypeError):
    peer_ip6 = None
req = {"cmd": "connect", "peer": peer, "service": "echo"}
if method:
    req["method"] = method
cmd = [sys.executable, cli, "--no-half-close", "--peer", sock, json.dumps(req), nbytes]
runs = []
for i in range(int(n)):
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=int(tmo) / 1e3 + 40)
        txt = p.stdout.strip().splitlines()
        j = json.loads(txt[0]) if txt else {"ok": False, "error": p.stderr.strip()[-300:]}
        for line in txt[1:]:
            if line.startswith("peer "):
                j["peer_addr"] = line[5:]
            elif line.startswith("sha "):
                j["data"] = line
    except subprocess.TimeoutExpired:
        j = {"ok": False, "error": "the connect and its echo did not end"}
    except ValueError:
        j = {"ok": False, "error": "not JSON: " + p.stdout.strip()[-200:]}
    j["wall_ms"] = round((time.perf_counter() - t) * 1e3, 1)
    if j.get("ok"):
        want = (turn_ip if j.get("relayed") else (priv or None) if j.get("method") == "host"
                else peer_ip6 if j.get("method") == "simopen6" else peer_ip)
        j["data_ok"] = j.get("data") == "sha OK %s" % nbytes
        addr = j.get("peer_addr") or ""
        if j.get("relayed") and j.get("relay"):
            addr = j["relay"]  # stuntd holds a framed relay's connection
        j["peer_ok"] = want is not None and addr.rsplit(":", 1)[0] == want
        if not j["data_ok"] or not j["peer_ok"]:
            j["ok"] = False  # connected, but not proven: a failure
            j["error"] = "connected by %s but %s" % (j.get("method"), "; ".join(
                x for x in (None if j["data_ok"] else "the echo: %s" % j.get("data"),
                            None if j["peer_ok"] else "its socket's peer is %s, not %s" % (
                                j.get("peer_addr"), want)) if x))
    j["counts"] = bool(j.get("ok")) and \
        not (want_direct == "1" and not method and j.get("relayed"))
    runs.append(j)
    if j["counts"]:
        break
    time.sleep(0.5)
r = dict(runs[-1])
r["tries"] = len(runs)
if len(runs) > 1:
    r["errors"] = [x.get("error") or "relayed via %s in %s ms" % (x.get("method"), x.get("elapsed_ms"))
                   for x in runs if not x["counts"]]
print(json.dumps({k: r.get(k) for k in ("ok", "method", "elapsed_ms", "relayed", "error", "wall_ms",
                                       "tries", "errors", "data_ok", "peer_ok", "peer_addr")
                  if k in r}))
PY
	log "  $([ "$kind" = auto ] && echo strategy || echo "--method $m") $d: $(cat "$f")"
	sleep 0.3
}

for d in $dirs; do
	conn auto "$d" "" "$tries" "$ctimeout"
done
if [ -n "$methods" ]; then
	# a forced method that cannot work fails at the latest at --connect-timeout
	for m in $methods; do
		for d in $dirs; do
			conn forced "$d" "$m" 1 "$ctimeout"
		done
	done
fi
if [ "$local" = wronghost ]; then
	# host forced from ha2 to hb's address, at which the rogue answers
	# (unless --methods forced it already)
	case " $methods " in
	*" host "*) ;;
	*) conn forced ab host 1 "$ctimeout" ;;
	esac
	# the requester's count of connections dropped for a wrong proof, and
	# the connects the right peer (hb) won: the public path reached it
	lx "$node_a" "$STUNTCTL" --control "$LAB_STATE/a.sock" status --json >"$raw/status-a" 2>/dev/null
	lx "$node_b" "$STUNTCTL" --control "$LAB_STATE/b.sock" status --json >"$raw/status-b" 2>/dev/null
	"$PY" -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print(json.dumps({"unproven_a": a["security"]["conns_unproven"],
                  "won_b": sum(c.get("won", 0) for c in b["counters"].values())}))' \
		"$raw/status-a" "$raw/status-b" >"$raw/wronghost.status" 2>/dev/null
	# rogue.py logs a connection at its end: the FIN, or 3 s after the
	# last byte when ha2 dropped it with the fake proof unread (an RST,
	# which stunt's guard drops); each that ha2 counted reached it
	n=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["unproven_a"])' \
		"$raw/wronghost.status" 2>/dev/null || echo 1)
	for _ in $(seq 50); do
		[ "$(grep -c '^conn ' "$raw/wronghost")" -ge "$n" ] && break
		sleep 0.2
	done
fi
if [ -n "${MX_CELL_EXTRA:-}" ]; then
	# shellcheck disable=SC1090
	. "$MX_CELL_EXTRA"
fi
finish ""
