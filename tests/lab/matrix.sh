# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The success matrix (issue 7), shared by tests/lab/t_matrix.sh and
# tests/bench/matrix.sh. Source it, then:
#
#   mx_run PLAN OUT [JOBS]    run every line of PLAN (arguments of
#                             matrix_cell.sh, one cell a line, '#' comments)
#                             with up to JOBS cells at once (default 1);
#                             appends one JSON line per cell to OUT. With
#                             MX_DEADLINE (epoch s) set, a cell not started by
#                             then is written as {"args":..,"skipped":true}
#   mx_pairs                  the 15 unordered pairs of the five kinds, one
#                             "--nat-a A --nat-b B" a line
#   mx_group_args G DELAY SLOW  matrix_cell.sh's arguments of the bench
#                             group G (rst drop icmp cgn cgn-drop cgn-icmp
#                             delay loss), without forced methods; shared by
#                             tests/bench/matrix.sh and tests/bench/ice.sh
#   mx_v6_cells               the IPv6 cells (issue 17), one line each, with
#                             simopen6 forced both ways: port-restricted
#                             IPv4 NATs behind IPv6 firewalls drop x drop,
#                             reject x reject, drop x reject, and random
#                             symmetric IPv4 NATs with drop x drop and no TURN
#                             server; MX_NPT6=1 adds drop x npt and npt x npt
#                             (the daemons with --server6), MX_NPT6=auto adds
#                             them when stuntd --help offers --server6 (the
#                             bench; t_matrix leaves them out: its time)
#   mx_report MODE OUT        MODE table: a readable table on stdout;
#                             assert: "ok"/"not ok" lines per the issue's
#                             rules (see below)
#
# Kinds: full-cone, restricted-cone, port-restricted have endpoint-independent
# mapping (EIM); sym-seq:D is sequential APDM ("seq"); sym-random is random
# APDM ("rand"). A CGN layer (port-restricted) keeps a side's kind.
# Rules (assert): a pair with an EIM side connects both ways without a relay;
# seq x seq likewise; seq x rand connects (directly or by the relay) when the cell had a TURN
# server, else the attempt is only recorded;
# rand x rand connects through the relay when the cell had a TURN server,
# else each direction fails with "a relay would be needed".
# Local cells (matrix_cell.sh --local, issue 16): lan connects both ways by
# host, its socket's peer the peer's private address; hairpin connects both
# ways without a relay, by host or the public path (the table says which);
# wronghost connects both ways without a relay to the right peer (hb's
# status counts the connects as won), host forced to the wrong host fails
# with "wrong proof", the requester counts the dropped connection, and the
# wrong host got, on every connection, the 28-byte session header of a host
# connection ("STNT", version 2, method host) and not one byte more
# (docs/security.md, "What a wrong host gets").
# IPv6 cells (--fw6-a/--fw6-b) instead: both directions connect without a
# relay whatever the IPv4 NATs are, by simopen6 where IPv4 alone would need a
# relay (rand x rand), and a forced simopen6 connects both ways.
MX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MX_CELL_TIMEOUT=${MX_CELL_TIMEOUT:-400}
MX_TYPES="full-cone restricted-cone port-restricted sym-seq:1 sym-random"

mx_pairs() {
	local i=0 j a b
	for a in $MX_TYPES; do
		j=0
		for b in $MX_TYPES; do
			[ "$j" -ge "$i" ] && echo "--nat-a $a --nat-b $b"
			j=$((j + 1))
		done
		i=$((i + 1))
	done
}

mx_v6_cells() {
	local prc="--nat-a port-restricted --nat-b port-restricted --methods simopen6"
	echo "$prc --fw6-a drop --fw6-b drop"
	echo "$prc --fw6-a reject --fw6-b reject"
	echo "$prc --fw6-a drop --fw6-b reject"
	echo "--nat-a sym-random --nat-b sym-random --fw6-a drop --fw6-b drop --turn off --methods simopen6"
	local npt=${MX_NPT6:-0}
	if [ "$npt" = auto ]; then
		"${STUNT_BUILD:-$MX_DIR/../../build}/stuntd" --help 2>&1 | grep -q -- '--server6' && npt=1
	fi
	if [ "$npt" = 1 ]; then
		echo "$prc --fw6-a drop --fw6-b npt"
		echo "$prc --fw6-a npt --fw6-b npt"
	fi
}

mx_group_args() {
	local d=$2 slow=$3
	case "$1" in
	rst | drop | icmp) echo "--syn $1 --delay $d" ;;
	cgn) echo "--syn rst --cgn both --delay $d" ;;
	cgn-drop | cgn-icmp) echo "--syn ${1#cgn-} --cgn both --delay $d" ;;
	delay) echo "--delay $slow" ;;
	loss) echo "--delay $d --loss 10 --tries 3" ;;
	*) return 1 ;;
	esac
}

mx_run() {
	local plan=$1 out=$2 jobs=${3:-1} line n=0 running=0
	while IFS= read -r line; do
		case "$line" in '' | '#'*) continue ;; esac
		n=$((n + 1))
		if [ "$running" -ge "$jobs" ]; then
			wait -n
			running=$((running - 1))
		fi
		if [ -n "${MX_DEADLINE:-}" ] && [ "$(date +%s)" -ge "$MX_DEADLINE" ]; then
			python3 -c 'import json, sys; print(json.dumps({"args": sys.argv[1], "skipped": True}))' "$line" >>"$out"
			continue
		fi
		(
			# shellcheck disable=SC2086
			r=$(timeout -k 10 "$MX_CELL_TIMEOUT" "$MX_DIR/matrix_cell.sh" $line 2> >(sed -u "s/^/[$n] /" >&2))
			if [ -z "$r" ]; then
				r=$(python3 -c 'import json, sys; print(json.dumps({"args": sys.argv[1], "error": "matrix_cell.sh gave no result (timeout %ss?)" % sys.argv[2]}))' "$line" "$MX_CELL_TIMEOUT")
			else
				r=$(printf '%s' "$r" | python3 -c 'import json, sys; j = json.loads(sys.stdin.read()); j["args"] = sys.argv[1]; print(json.dumps(j, separators=(",", ":")))' "$line")
			fi
			# one write per line: lines of parallel cells do not interleave
			printf '%s\n' "$r" >>"$out"
		) &
		running=$((running + 1))
	done <"$plan"
	wait
}

mx_report() {
	python3 - "$@" <<'PY'
import json, re, sys

mode, path = sys.argv[1], sys.argv[2]
cells = []
for l in open(path):
    l = l.strip()
    if l:
        c = json.loads(l)
        if not c.get("skipped"):
            cells.append(c)

def kind(t):
    if t is None:
        return "?"
    if t.startswith("sym-seq"):
        return "seq"
    if t == "sym-random":
        return "rand"
    return "eim"

SHORT = {"full-cone": "FC", "restricted-cone": "RC", "port-restricted": "PRC",
         "sym-seq:1": "SEQ", "sym-random": "RND", "eim-random": "EIMR"}
def short(t):
    return SHORT.get(t, t)

LOCAL = {"lan": "same LAN", "hairpin": "same LAN, hairpinning NAT",
         "wronghost": "same subnet behind one CGN: wrong host"}

def variant(c):
    v = [LOCAL[c["local"]]] if c.get("local", "none") in LOCAL else []
    if c.get("syn", "rst") != "rst":
        v.append("syn " + c["syn"])
    if c.get("cgn", "none") != "none":
        v.append("CGN " + c["cgn"])
    if c.get("delay_ms"):
        v.append("%d ms delay" % c["delay_ms"])
    if c.get("loss_pct"):
        v.append("%g %% loss" % c["loss_pct"])
    if c.get("fw6_a"):
        v.append("IPv6 %s x %s" % (c["fw6_a"], c["fw6_b"]))
    return ", ".join(v) or "-"

def name(c):
    return "%s x %s" % (c.get("a"), c.get("b"))

# What stuntd's discovery should say of a lab NAT type ("EIM/APDF preserving
# hops 1"): mapping, filtering and, for symmetric ones, the port pattern.
EXPECT = {"full-cone": ("EIM", "EIF"), "restricted-cone": ("EIM", "ADF"),
          "port-restricted": ("EIM", "APDF"), "sym-random": ("APDM", "APDF", "random"),
          "eim-random": ("EIM", "APDF", "random")}

def nat_mismatch(conf, seen):
    """None when the discovered class fits the configured type, else why."""
    if conf is None or seen is None:
        return "not measured"
    want = EXPECT.get(conf)
    if conf.startswith("sym-seq"):
        want = ("APDM", "APDF", "sequential d%s" % conf.split(":")[1] if ":" in conf else "sequential")
    if want is None:
        return None
    got = seen.split()
    ok = got[:1] == [want[0] + "/" + want[1]] and (len(want) < 3 or " ".join(got[1:]).startswith(want[2]))
    return None if ok else "configured %s, discovered %s" % (conf, seen)

def rtts(c, r):
    # below 1 ms (no added delay) the quotient says nothing: leave it out
    if not r or not r.get("ok") or (c.get("rtt_ms") or 0) < 1 or r.get("elapsed_ms") is None:
        return None
    return r["elapsed_ms"] / c["rtt_ms"]

def direct_ok(r):
    return bool(r and r.get("ok") and not r.get("relayed") and r.get("method") != "relay")

def relay_ok(r):
    return bool(r and r.get("ok") and (r.get("relayed") or r.get("method") == "relay"))

def proven(r):
    # matrix_cell.sh sets ok false when the echo or the socket's peer was wrong
    return "; data echoed and peer %s checked" % r["peer_addr"] if r.get("data_ok") and r.get("peer_ok") else ""

def cellstr(c, r):
    if not r:
        return "-"
    if r.get("ok"):
        x = rtts(c, r)
        return "%s%s %d ms%s%s" % (r.get("method"), " (relay)" if r.get("relayed") else "",
                                   r.get("elapsed_ms") or 0,
                                   " = %.0f RTT" % x if x is not None else "",
                                   " (try %d)" % r["tries"] if r.get("tries", 1) > 1 else "")
    return "FAIL"

def wrong_host_assert(lab, c):
    w = c.get("wrong_host") or {}
    f = ((c.get("forced") or {}).get("host") or {}).get("ab") or {}
    if not f.get("ok") and "wrong proof" in (f.get("error") or ""):
        print("ok - %s: host forced to the wrong host fails: %s" % (lab, f["error"]))
    else:
        print("not ok - %s: host forced to the wrong host: %s" % (lab, json.dumps(f)))
    # 28 bytes: "STNT", version 2, method host (12), flags 0, id, proof
    bad = [(n, h) for n, h in zip(w.get("bytes", []), w.get("heads", []))
           if n != 28 or not h.startswith("53544e54020c00")]
    # every connection the requester dropped for its proof reached it
    if w.get("conns", 0) >= max(1, w.get("unproven_a", 0)) and not bad:
        print("ok - %s: the wrong host was connected to %d time(s) and got the 28-byte "
              "session header alone each time" % (lab, w["conns"]))
    else:
        print("not ok - %s: the wrong host got %s" % (lab, json.dumps(w)))
    if w.get("unproven_a", 0) >= 1:
        print("ok - %s: the requester dropped %d unproven connection(s)" % (lab, w["unproven_a"]))
    else:
        print("not ok - %s: the requester's conns_unproven: %s" % (lab, w.get("unproven_a")))
    n = sum(1 for r in (c.get("strategy") or {}).values() if r and r.get("ok"))
    if w.get("won_b", 0) >= n:
        print("ok - %s: the right peer (hb) counts %d connect(s) won" % (lab, w["won_b"]))
    else:
        print("not ok - %s: hb counts %s won, %d connected" % (lab, w.get("won_b"), n))

if mode == "table":
    rows = [("pair (A x B)", "variant", "NAT seen A | B", "RTT ms", "A asks B", "B asks A")]
    for c in cells:
        s = c.get("strategy") or {}
        rows.append((name(c), variant(c), "%s | %s" % (c.get("nat_a"), c.get("nat_b")),
                     "%.2f" % c["rtt_ms"] if c.get("rtt_ms") else "?",
                     cellstr(c, s.get("ab")), cellstr(c, s.get("ba"))))
    w = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("# " + "  ".join(str(v).ljust(w[k]) for k, v in enumerate(r)).rstrip())
        if i == 0:
            print("# " + "  ".join("-" * x for x in w))
    # discovery against the configured NAT (a CGN layer changes what is
    # seen from outside: those cells are left out)
    mism, nchk = [], 0
    for c in cells:
        if c.get("cgn", "none") != "none":
            continue
        for conf, seen in ((c.get("a"), c.get("nat_a")), (c.get("b"), c.get("nat_b"))):
            nchk += 1
            m = nat_mismatch(conf, seen)
            if m:
                mism.append("%s (%s): %s" % (name(c), variant(c), m))
    print("# NAT discovery: %d of %d sides as configured (cells without CGN)" % (nchk - len(mism), nchk))
    for m in mism:
        print("#   mismatch: " + m)
    allr = [r for c in cells for r in (c.get("strategy") or {}).values() if r]
    first = sum(1 for r in allr if r.get("ok") and r.get("tries", 1) == 1)
    multi = [r for r in allr if r.get("tries", 1) > 1 or r.get("errors")]
    print("# strategy connects: %d of %d on the first try; %d within their cells' tries "
          "(%d needed more than one)" % (first, len(allr), sum(1 for r in allr if r.get("ok")),
                                         len(multi)))
    errs = []
    for c in cells:
        for d, r in sorted((c.get("strategy") or {}).items()):
            if r and not r.get("ok"):
                errs.append("%s (%s) %s: %s" % (name(c), variant(c), d, r.get("error")))
        if c.get("error"):
            errs.append("%s (%s): cell: %s" % (name(c), variant(c), c["error"]))
    if errs:
        print("# failures and their errors:")
        for e in errs:
            print("#   " + e)
    v6 = [r for c in cells if c.get("fw6_a") for r in (c.get("strategy") or {}).values() if r]
    if v6:
        print("# IPv6 cells: %d of %d strategy connects by simopen6, %d by an IPv4 method, %d failed" % (
            sum(1 for r in v6 if r.get("ok") and r.get("method") == "simopen6"), len(v6),
            sum(1 for r in v6 if r.get("ok") and r.get("method") != "simopen6"),
            sum(1 for r in v6 if not r.get("ok"))))
    print("# cells: %d, total %.0f s (lab + daemons up: median %.1f s a cell)" % (
        len(cells), sum(c.get("cell_s") or 0 for c in cells),
        sorted(c.get("setup_s") or 0 for c in cells)[len(cells) // 2] if cells else 0))

elif mode == "assert":
    def v6_assert(c, lab, ka, kb):
        """IPv6 on both sides (issue 17): whatever the IPv4 NATs, both
        directions connect without a relay; where IPv4 alone would need one
        (random x random) simopen6 must be the winner; a forced simopen6
        connects both ways. The peer address (IPv6 for simopen6) and the
        echoed data were checked by matrix_cell.sh."""
        for d, r in sorted((c.get("strategy") or {}).items()):
            who = "A asks B" if d == "ab" else "B asks A"
            if not direct_ok(r):
                print("not ok - %s %s: must connect without relay (IPv6 on both sides): %s" % (
                    lab, who, "relayed via %s" % r.get("method") if r and r.get("ok") else (r or {}).get("error")))
            elif (ka, kb) == ("rand", "rand") and r["method"] != "simopen6":
                print("not ok - %s %s: IPv4 needs a relay here: must connect by simopen6, not %s" % (
                    lab, who, r["method"]))
            else:
                print("ok - %s %s: connected without relay by %s (%s), %s ms%s" % (
                    lab, who, r["method"], "IPv6" if r["method"] == "simopen6" else "IPv4",
                    r["elapsed_ms"], proven(r)))
        for d, r in sorted(((c.get("forced") or {}).get("simopen6") or {}).items()):
            who = "A asks B" if d == "ab" else "B asks A"
            if r.get("ok") and r.get("method") == "simopen6":
                print("ok - %s %s: --method simopen6 connected, %s ms%s" % (
                    lab, who, r["elapsed_ms"], proven(r)))
            else:
                print("not ok - %s %s: --method simopen6 must connect: %s" % (
                    lab, who, r.get("error") or "method %s" % r.get("method")))

    seqrand = []
    for c in cells:
        lab = "%s (%s)" % (name(c), variant(c))
        if c.get("error"):
            print("not ok - %s: the cell did not run: %s" % (lab, c["error"]))
            continue
        ka, kb = kind(c["a"]), kind(c["b"])
        st = c.get("strategy") or {}
        if not st:
            print("not ok - %s: no connect result" % lab)
            continue
        if c.get("fw6_a"):
            v6_assert(c, lab, ka, kb)
            continue
        for d, r in sorted(st.items()):
            who = "A asks B" if d == "ab" else "B asks A"
            loc = c.get("local", "none")
            if loc == "lan":
                if direct_ok(r) and r.get("method") == "host":
                    print("ok - %s %s: connected by host, %s ms%s" % (lab, who, r["elapsed_ms"], proven(r)))
                else:
                    print("not ok - %s %s: must connect by host: %s" % (
                        lab, who, "by %s" % r.get("method") if r.get("ok") else r.get("error")))
            elif loc in ("hairpin", "wronghost"):
                if direct_ok(r):
                    print("ok - %s %s: connected without relay, method %s, %s ms%s" % (
                        lab, who, r["method"], r["elapsed_ms"], proven(r)))
                else:
                    print("not ok - %s %s: must connect without relay: %s" % (
                        lab, who, "relayed via %s" % r.get("method") if r.get("ok") else r.get("error")))
            elif "eim" in (ka, kb) or (ka, kb) == ("seq", "seq"):
                why = "an EIM side" if "eim" in (ka, kb) else "seq x seq"
                if direct_ok(r):
                    print("ok - %s %s: connected without relay (%s), method %s, %s ms%s" % (
                        lab, who, why, r["method"], r["elapsed_ms"], proven(r)))
                else:
                    print("not ok - %s %s: must connect without relay (%s): %s" % (
                        lab, who, why, "relayed via %s" % r.get("method") if r.get("ok") else r.get("error")))
            elif {ka, kb} == {"seq", "rand"}:
                seqrand.append(r)
                if c.get("turn") and not r.get("ok"):
                    # direct may fail here; with a TURN server in the cell the
                    # relay must then carry the session
                    print("not ok - %s %s: with a TURN server must connect (directly or by relay): %s" % (
                        lab, who, r.get("error")))
                else:
                    print("ok - %s %s: %s: %s" % (
                        lab, who, "connected" if r.get("ok") else "no TURN server, attempted",
                        "by %s%s in %s ms" % (r["method"], " (relayed)" if r.get("relayed") else "",
                                              r["elapsed_ms"]) if r.get("ok")
                        else "failed: %s" % r.get("error")))
            elif (ka, kb) == ("rand", "rand"):
                if c.get("turn"):
                    if relay_ok(r):
                        print("ok - %s %s: connected through the TURN relay, %s ms%s" % (
                            lab, who, r["elapsed_ms"], proven(r)))
                    else:
                        print("not ok - %s %s: must connect through the relay: %s" % (
                            lab, who, "connected by %s without relay" % r.get("method") if r.get("ok") else r.get("error")))
                else:
                    if not r.get("ok") and re.search(r"relay (would be |is )?needed", r.get("error") or ""):
                        print("ok - %s %s: no TURN server in this cell: fails with a clear error: %s" % (lab, who, r["error"]))
                    else:
                        print("not ok - %s %s: without a TURN server must fail with 'a relay would be needed': got %s" % (
                            lab, who, json.dumps(r)))
            else:
                print("not ok - %s: unknown NAT kinds %s %s" % (lab, ka, kb))
        if c.get("local") == "wronghost":
            wrong_host_assert(lab, c)
    if seqrand:
        n = sum(1 for r in seqrand if r.get("ok"))
        print("# sequential x random symmetric: %d of %d connects succeeded (%.0f %%)" % (
            n, len(seqrand), 100.0 * n / len(seqrand)))
    if any(kind(c.get("a")) == "rand" and kind(c.get("b")) == "rand" and not c.get("turn")
           and not c.get("fw6_a") for c in cells):
        print("# note: random x random ran without a TURN server (stuntd --help offers no --turn, "
              "or turnserver is missing, or MATRIX_TURN=off): checked the 'relay needed' error instead")
PY
}
