# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The libnice half of an ICE benchmark cell (issue 20): sourced by
# tests/lab/matrix_cell.sh through MX_CELL_EXTRA, after stunt's connects, in
# the same lab. Needs ICE_DRV (the built nicedrv). For each configuration of
# ICE_CONFIGS (default "udp udp+turn tcp tcp+turn") it starts the controlled
# agent in hb, which connects to the rendezvous in pub and waits for an offer
# like a callee, then the controlling agent in ha (A = ha offers and
# nominates, as A asks B in stunt's "ab"); both use coturn in pub as STUN
# server, or with +turn as TURN server only (its Allocate answer carries the
# mapped address too; libnice given the same server:port for both drops the
# Binding answer as "incorrectly multiplexed" and waits 2 s for it), and the
# rendezvous in pub for their candidates. Writes $raw/extra.json: {"ice": {"CFG": {"a": {...}, "b": {...}}}}
# with nicedrv's JSON line of each side.
# From matrix_cell.sh: raw, PY, ctimeout, turn_local, log, lab functions.
# shellcheck disable=SC2154
ice_cfgs=${ICE_CONFIGS:-udp udp+turn tcp tcp+turn}
ice_tmo=${ICE_TIMEOUT:-$ctimeout}
ice_dir=$(dirname "${BASH_SOURCE[0]}")
lab_bg pub rendezvous "$PY" "$ice_dir/rendezvous.py" "$LAB_PUB" 7400 >/dev/null
lab_wait_port pub tcp "$LAB_PUB" 7400 5 2>/dev/null
ice_stun=()
[ -n "${turn_local:-}" ] && ice_stun=(--stun "$LAB_PUB:3478")
ice_n=0
for ice_c in $ice_cfgs; do
	ice_n=$((ice_n + 1))
	ice_args=(--"${ice_c%+turn}" --rv "$LAB_PUB:7400" --key "k$ice_n" --timeout "$ice_tmo")
	case "$ice_c" in
	*+turn)
		if [ -z "${turn_local:-}" ]; then
			echo '{"connected":false,"error":"no TURN server in this cell"}' >"$raw/ice.$ice_c.a"
			continue
		fi
		ice_args+=(--turn "$LAB_PUB:3478:matrix:mx-$$-turn")
		;;
	*) ice_args+=(${ice_stun[@]+"${ice_stun[@]}"}) ;;
	esac
	# the controlled side lingers 2 s after its echo; both end by the deadline
	lx hb timeout -k 2 $((ice_tmo / 1000 + 6)) "$ICE_DRV" --controlled "${ice_args[@]}" \
		>"$raw/ice.$ice_c.b" 2>"$LAB_STATE/ice.$ice_c.b.err" &
	ice_pb=$!
	sleep 0.3	# B is connected to the rendezvous, waiting for the offer
	lx ha timeout -k 2 $((ice_tmo / 1000 + 6)) "$ICE_DRV" --controlling "${ice_args[@]}" \
		>"$raw/ice.$ice_c.a" 2>"$LAB_STATE/ice.$ice_c.a.err"
	wait "$ice_pb"
	log "  libnice $ice_c: $(cat "$raw/ice.$ice_c.a")"
	sleep 0.3
done
"$PY" - "$raw" "$ice_cfgs" "$LAB_STATE" >"$raw/extra.json" <<'PY'
import json, os, sys
raw, cfgs = sys.argv[1], sys.argv[2].split()
out = {}
for c in cfgs:
    sides = {}
    for x in "ab":
        p = os.path.join(raw, "ice.%s.%s" % (c, x))
        try:
            t = open(p).read().strip().splitlines()
            sides[x] = json.loads(t[-1]) if t else {"connected": False, "error": "no output: " + open(os.path.join(sys.argv[3], "ice.%s.%s.err" % (c, x))).read()[-200:]}
        except (OSError, ValueError) as e:
            sides[x] = {"connected": False, "error": "no result: %s" % e}
    out[c] = sides
print(json.dumps({"ice": out}, separators=(",", ":")))
PY
