#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stunt-probe under packet loss: side A is a port-restricted NAT (RST to an
# unsolicited SYN) behind a link that loses 10 % each way, side B a full
# cone (drop) behind one that loses 30 % each way. Each side runs the probe
# RUNS times; in every run every verdict equals the lab's truth or is named
# in "uncertain" (null counts as not measured: fine, but not certain). A
# wrong verdict presented as certain fails the test. No timing assertions.
# Prints how many runs were fully certain per side; the counts go to
# $STUNT_BUILD/probe-loss.txt for docs/benchmarks.md.
# Lower bound: at least 1 in every 8 runs of side A (10 %) fully certain --
# so that a probe which gives up and names everything uncertain fails.
# Measured: 3 of 5, 5 of 8 (docs/benchmarks.md) and 12 of 20 (2026-12-06),
# about 60 %; with the default 8 runs the bound asks for 1, and 0 of 8 has
# a chance of 0.4^8 (under 0.1 %; 1.7 % were it only 40 %). Side B (30 %)
# has no bound: 0 of 33 measured runs were fully certain there (the TCP
# answers miss the 3 s bound, a full cone's silent drop looks like loss).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
BUILD=${STUNT_BUILD:-$here/../../build}
SERVER=$BUILD/stunt-server
PROBE=$BUILD/stunt-probe
RUNS=${PROBE_LOSS_RUNS:-8}
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

for b in "$SERVER" "$PROBE"; do
	[ -x "$b" ] || { nok "built: $b"; exit 1; }
done

# verdicts FILE TRUTH...: judge one run's JSON against the truth, given as
# field=value words. Prints "wrong FIELD GOT WANT" per wrong certain
# verdict, "unsure FIELD" per uncertain or null one, "json-bad" if the
# output is not one JSON object with an "uncertain" list.
verdicts() {
	python3 - "$@" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    unsure = set(d["uncertain"])
except Exception:
    print("json-bad")
    sys.exit(0)
# a delta goes with its allocation verdict, syn_ttl with nat_hops
owner = {"udp.delta": "udp.allocation", "tcp.delta": "tcp.allocation",
         "tcp.syn_ttl": "tcp.nat_hops"}
for w in sys.argv[2:]:
    field, want = w.split("=", 1)
    v = d
    for k in field.split("."):
        v = v[k]
    got = "null" if v is None else (json.dumps(v) if not isinstance(v, str) else v)
    if field in unsure or owner.get(field) in unsure:
        print("unsure", field, "(%s)" % got)
    elif got == want:
        continue
    elif v is None:
        print("unsure", field, "(null)")
    else:
        print("wrong", field, got, want)
PY
}

TRUTH_A="udp.mapping=EIM udp.filtering=APDF udp.allocation=preserving udp.delta=null udp.hairpin=false
tcp.mapping=EIM tcp.filtering=APDF tcp.allocation=preserving tcp.delta=null
tcp.unsolicited_syn=rst tcp.nat_hops=1 tcp.syn_ttl=2 tcp.seq_rewrite=false"
TRUTH_B="udp.mapping=EIM udp.filtering=EIF udp.allocation=preserving udp.delta=null udp.hairpin=false
tcp.mapping=EIM tcp.filtering=EIF tcp.allocation=preserving tcp.delta=null
tcp.unsolicited_syn=drop tcp.nat_hops=1 tcp.syn_ttl=2 tcp.seq_rewrite=false"

# judge SIDE LABEL FILE TRUTH: one run; counts into sure_X / unsure fields
declare -A sure runs unsure_fields
judge() {
	local x=$1 label=$2 f=$3 out
	# shellcheck disable=SC2086
	out=$(verdicts "$f" $4)
	runs[$x]=$((${runs[$x]:-0} + 1))
	if grep -q '^json-bad' <<<"$out"; then
		nok "$label: one JSON object with an \"uncertain\" list"
		sed 's/^/#   /' "$f" | head -5
		return
	fi
	if grep -q '^wrong' <<<"$out"; then
		nok "$label: a wrong verdict presented as certain: $(grep '^wrong' <<<"$out" | tr '\n' ';')"
		grep '"uncertain"' "$f" | sed 's/^/#   /'
		return
	fi
	if grep -q '^unsure' <<<"$out"; then
		ok "$label: every verdict = truth or named uncertain ($(grep '^unsure' <<<"$out" | cut -d' ' -f2- | tr '\n' ',' | sed 's/,$//'))"
		unsure_fields[$x]="${unsure_fields[$x]:-} $(grep '^unsure' <<<"$out" | cut -d' ' -f2 | tr '\n' ' ')"
	else
		ok "$label: every verdict = truth, all certain ($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["elapsed_ms"])' "$f") ms)"
		sure[$x]=$((${sure[$x]:-0} + 1))
	fi
}

echo "# lab: A=port-restricted/rst --loss-a 10, B=full-cone/drop --loss-b 30; $RUNS runs each"
lab_init prl
if ! lab_up --nat-a port-restricted --syn-a rst --nat-b full-cone --syn-b drop --loss-a 10 --loss-b 30; then
	nok "lab up"
	exit 1
fi
lab_bg srv stunt-server "$SERVER" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d >/dev/null
if ! lab_wait_port srv udp "$LAB_SRV2" 3479 10 || ! lab_wait_port srv tcp "$LAB_SRV2" 3479 10; then
	nok "stunt-server starts"
	exit 1
fi
for i in $(seq 1 "$RUNS"); do
	# both sides at once; no port mapping (no gateway answers here anyway)
	lx ha "$PROBE" --server "$LAB_SRV1" --json --no-portmap >"$LAB_STATE/a$i.json" 2>/dev/null &
	pa=$!
	lx hb "$PROBE" --server "$LAB_SRV1" --json --no-portmap >"$LAB_STATE/b$i.json" 2>/dev/null
	wait $pa
	judge a "run $i, A port-restricted, 10 % loss" "$LAB_STATE/a$i.json" "$TRUTH_A"
	judge b "run $i, B full-cone, 30 % loss" "$LAB_STATE/b$i.json" "$TRUTH_B"
done

# human output marks an uncertain verdict in words
lx hb "$PROBE" --server "$LAB_SRV1" --no-portmap >"$LAB_STATE/b.txt" 2>/dev/null
lx hb "$PROBE" --server "$LAB_SRV1" --no-portmap --json >"$LAB_STATE/b.json" 2>/dev/null
if grep -q '"uncertain": \[\]' "$LAB_STATE/b.json" && ! grep -q "uncertain:" "$LAB_STATE/b.txt"; then
	ok "human output: nothing uncertain, nothing marked (this run)"
elif grep -q "(uncertain: answers missing, possible packet loss)" "$LAB_STATE/b.txt"; then
	ok "human output marks uncertain lines: $(grep -c 'uncertain:' "$LAB_STATE/b.txt") line(s)"
else
	nok "human output marks uncertain lines"
	sed 's/^/#   /' "$LAB_STATE/b.txt"
fi
lab_down

summary="10 % loss each way (port-restricted, rst): ${sure[a]:-0} of ${runs[a]:-0} runs fully certain;"
summary="$summary uncertain:$(tr ' ' '\n' <<<"${unsure_fields[a]:-}" | grep . | sort | uniq -c | awk '{printf " %s x%d", $2, $1}')"
summary2="30 % loss each way (full cone, drop): ${sure[b]:-0} of ${runs[b]:-0} runs fully certain;"
summary2="$summary2 uncertain:$(tr ' ' '\n' <<<"${unsure_fields[b]:-}" | grep . | sort | uniq -c | awk '{printf " %s x%d", $2, $1}')"
echo "# $summary"
echo "# $summary2"
min=$(((RUNS + 7) / 8))
if [ "${sure[a]:-0}" -ge "$min" ]; then
	ok "A, 10 % loss: ${sure[a]:-0} of $RUNS runs fully certain (at least $min)"
else
	nok "A, 10 % loss: ${sure[a]:-0} of $RUNS runs fully certain, want at least $min"
fi
mkdir -p "$BUILD"
printf '%s\n%s\n' "$summary" "$summary2" >"$BUILD/probe-loss.txt"
[ "$fails" -eq 0 ]
