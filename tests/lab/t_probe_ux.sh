#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stunt-probe's report and failures, in the namespace lab:
#   - no stunt-server running: ICMP port unreachable (UDP) and a refused
#     connection (TCP) say so; the probe gives up at once (its message says
#     "gave up", with a 20 s --timeout it would otherwise wait), exit 3;
#   - a server address the router declares unreachable (ICMP host
#     unreachable): the same, "host unreachable";
#   - a server name that does not resolve: exit 3 (not 2, usage);
#   - a measured run: the first line is the verdict, every method listed
#     has its sentence; port-restricted x port-restricted needs help;
#   - --udp-only lists no TCP method;
#   - 10 runs back to back all measure the same, and no CAPTURE times out
#     at the server (it reads every packet it armed for).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
BUILD=${STUNT_BUILD:-$here/../../build}
SERVER=$BUILD/stunt-server
PROBE=$BUILD/stunt-probe
# shellcheck source=tests/lab/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

for b in "$SERVER" "$PROBE"; do
	[ -x "$b" ] || { nok "built: $b"; exit 1; }
done

lab_init pux
trap lab_down EXIT
if ! lab_up --nat-a port-restricted --nat-b port-restricted; then
	nok "lab up"
	exit 1
fi

# 1. nothing listens on the server's ports
t0=$(date +%s%N)
lx ha "$PROBE" --server "$LAB_SRV1" --timeout 20000 >"$LAB_STATE/o1" 2>"$LAB_STATE/e1"
rc=$?
echo "# no server: $(( ($(date +%s%N) - t0) / 1000000 )) ms (diagnostic only)"
[ "$rc" = 3 ] && ok "no server: exit code 3" || nok "no server: exit code $rc, want 3"
grep -q "^stunt-probe: server $LAB_SRV1:3478 unreachable: UDP: port unreachable (ICMP), TCP: connection refused; gave up after [0-9]* ms\$" "$LAB_STATE/e1" &&
	ok "no server: gave up at once, the message names ICMP and the refusal" ||
	nok "no server: message: $(head -3 "$LAB_STATE/e1")"
[ "$(head -1 "$LAB_STATE/o1")" = "direct connections: unknown (the server could not be reached)" ] &&
	grep -q "^The server $LAB_SRV1:3478 unreachable: .*gave up after [0-9]* ms. Nothing could be measured.\$" "$LAB_STATE/o1" &&
	ok "no server: the report starts with the verdict and says why" ||
	nok "no server: report: $(head -3 "$LAB_STATE/o1")"

# 2. the router says the host is unreachable
lx inet ip route add unreachable 203.0.113.99/32
lx ha "$PROBE" --server 203.0.113.99 --timeout 20000 --json >"$LAB_STATE/o2" 2>"$LAB_STATE/e2"
rc=$?
[ "$rc" = 3 ] && ok "unreachable route: exit code 3" || nok "unreachable route: exit code $rc, want 3"
grep -q "^stunt-probe: server 203.0.113.99:3478 unreachable: .*host unreachable.*; gave up after" "$LAB_STATE/e2" &&
	ok "unreachable route: gave up at once on ICMP host unreachable" ||
	nok "unreachable route: message: $(head -3 "$LAB_STATE/e2")"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not (j["server_reached"] is False and any("gave up" in n for n in j["notes"])))' \
	"$LAB_STATE/o2" && ok "unreachable route: --json still one object, the reason in its notes" ||
	nok "unreachable route: json: $(head -c 300 "$LAB_STATE/o2")"

# 2b. a server that answers nothing (a route that drops silently): the run
# lasts its whole --timeout; at a terminal (script(1) gives it one) a line
# says so while it runs and is erased before the report; never in a pipe
# nor with --json
lx inet ip route add blackhole 203.0.113.98/32
lx ha script -qec "$PROBE --server 203.0.113.98 --timeout 1600 --no-portmap" /dev/null >"$LAB_STATE/o2b" 2>&1
last=$(tr '\r' '\n' <"$LAB_STATE/o2b" | tr -d '\033' | grep -a 'stunt-probe: measuring' | tail -1)
echo "# at a terminal, the last progress line: $last"
if printf '%s' "$last" | grep -Eq 'measuring, 1\.[0-9] s of at most 1\.6 s; [0-9]+ answers? still awaited' &&
	python3 -c '
import sys
t = open(sys.argv[1], "rb").read()
i = t.rfind(b"still awaited")
sys.exit(not (i > 0 and t[i:].split(b"\r", 1)[1].startswith(b"\x1b[K")))' "$LAB_STATE/o2b"; then
	ok "silent server at a terminal: a progress line after 1 s, erased before the report"
else
	nok "silent server at a terminal: $(tr '\r\033' '|~' <"$LAB_STATE/o2b" | head -c 400)"
fi
lx ha "$PROBE" --server 203.0.113.98 --timeout 1600 --no-portmap >/dev/null 2>"$LAB_STATE/e2b"
lx ha script -qec "$PROBE --server 203.0.113.98 --timeout 1600 --no-portmap --json" /dev/null >"$LAB_STATE/o2c" 2>&1
if ! grep -aq measuring "$LAB_STATE/e2b" "$LAB_STATE/o2c"; then
	ok "no progress line into a pipe, nor with --json at a terminal"
else
	nok "progress line where none belongs: $(grep -a measuring "$LAB_STATE/e2b" "$LAB_STATE/o2c" | head -c 200)"
fi

# 3. a name that does not resolve (no DNS in the lab: nothing leaves it)
lx ha "$PROBE" --server no-such-host.invalid >/dev/null 2>"$LAB_STATE/e3"
rc=$?
[ "$rc" = 3 ] && grep -q 'cannot resolve' "$LAB_STATE/e3" &&
	ok "unresolvable name: exit code 3, 'cannot resolve'" ||
	nok "unresolvable name: exit code $rc, want 3: $(cat "$LAB_STATE/e3")"

# 4. a measured run, then --udp-only
lab_bg srv stunt-server "$SERVER" --primary "$LAB_SRV1" --alternate "$LAB_SRV2" -d >/dev/null
if lab_wait_port srv udp "$LAB_SRV2" 3479 10 && lab_wait_port srv tcp "$LAB_SRV2" 3479 10; then
	lx ha "$PROBE" --server "$LAB_SRV1" --no-portmap --timeout 10000 >"$LAB_STATE/o4" 2>&1
	rc=$?
	[ "$rc" = 0 ] && ok "measured: exit code 0" || nok "measured: exit code $rc"
	[ "$(head -1 "$LAB_STATE/o4")" = "direct connections: need help (hole punching through the server)" ] &&
		ok "port-restricted: first line 'direct connections: need help'" ||
		nok "port-restricted: first line: $(head -1 "$LAB_STATE/o4")"
	methods=$(sed -n 's/^Methods that can work from here, in order: //p' "$LAB_STATE/o4")
	miss=
	for m in $methods; do
		grep -Eq "^  $m: [A-Za-z(].*\.\$" "$LAB_STATE/o4" || miss="$miss $m"
	done
	[ -n "$methods" ] && [ -z "$miss" ] && ok "measured: a sentence for each method ($methods)" ||
		nok "measured: methods '$methods', without a sentence:$miss"
	lx ha "$PROBE" --server "$LAB_SRV1" --no-portmap --udp-only --timeout 10000 >"$LAB_STATE/o5" 2>&1
	methods=$(sed -n 's/^Methods that can work from here, in order: //p' "$LAB_STATE/o5")
	case " $methods " in
	*" direct "* | *" portmap "* | *" reversal "* | *" simopen "* | *" stunt1 "* | *" stunt2 "* | \
	*" synth "* | *" predict "* | *" shotgun "*)
		nok "--udp-only: TCP methods listed: $methods" ;;
	*" udp "*)
		ok "--udp-only: UDP methods only ($methods)" ;;
	*)
		nok "--udp-only: no udp method: $methods" ;;
	esac
	lx ha "$PROBE" --server "$LAB_SRV1" --no-portmap --udp-only --json --timeout 10000 >"$LAB_STATE/o6" 2>/dev/null
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(j["methods"] != ["udp", "relay"])' "$LAB_STATE/o6" &&
		ok "--udp-only --json: methods [udp, relay]" || nok "--udp-only --json: $(grep methods "$LAB_STATE/o6")"
	# back to back, as a user re-running it does: every run measures the
	# same and the server reads every packet it armed for (before the
	# server kept one capture program while anything is armed, 1 to 3 of
	# 10 such runs had a CAPTURE time out, "error 408", or a
	# PROBE-UNSOLICITED answer lost, and took 1.3 s instead of 0.5 s)
	n408=0 same=0 times=""
	for i in $(seq 1 10); do
		t0=$(date +%s%N)
		lx ha "$PROBE" --server "$LAB_SRV1" --no-portmap --json -v >"$LAB_STATE/b$i.json" 2>"$LAB_STATE/b$i.err"
		times="$times $(( ($(date +%s%N) - t0) / 1000000 ))"
		grep -q 'error 408' "$LAB_STATE/b$i.err" && n408=$((n408 + 1))
		python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
t, u = j["tcp"], j["udp"]
sys.exit(not (j["uncertain"] == [] and t["nat_hops"] == 1 and t["unsolicited_syn"] == "rst" and
              t["filtering"] == "APDF" and u["filtering"] == "APDF" and t["mapping"] == "EIM"))' "$LAB_STATE/b$i.json" 2>/dev/null &&
			same=$((same + 1))
	done
	echo "# back to back: ms$times (diagnostic only)"
	check_eq "10 runs back to back: every CAPTURE answered on its first try (no error 408)" "$n408" 0
	check_eq "10 runs back to back: all measured EIM/APDF, RST, 1 hop, nothing uncertain" "$same" 10
else
	nok "stunt-server up"
fi

[ "$fails" -eq 0 ]
