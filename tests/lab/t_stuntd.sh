#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd in the namespace lab: two daemons (ha "laptop", hb "office-pc")
# register with stunt-server in srv, then connect through the control
# socket (docs/control.md, spoken by a small Python client until stuntctl
# exists) to an echo service exposed on the other side, and move 5 MB both
# ways with the sha256 compared. Pairs:
#   full-cone x port-restricted(rst)        direct / reversal
#   port-restricted(rst) x port-restricted(rst)  simopen (also forced)
#   sym-random x sym-random                 no method: a clear error
#   (port-restricted x sym-random: shotgun, t_stuntd_shotgun.sh)
#   full-cone x sym-random                  direct / reversal
# and an exec: service (cat with the socket as stdin/stdout).
# plus a refused peer, an unknown service, an unknown peer, and SIGTERM
# leaving the host's iptables as they were.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

case "${1:-all}" in
fc-pr|all)
	echo "# full-cone (ha) x port-restricted rst (hb)"
	start_all full-cone rst port-restricted rst && {
		st=$(ctl a '{"cmd":"status"}')
		echo "$st" | grep -q '"mapping": "EIM", "filtering": "EIF"' && ok "status: ha's NAT is EIM/EIF" ||
			nok "status nat of ha: $st"
		transfer b laptop "port-restricted -> full-cone" "" "direct|simopen|stunt1"
		transfer a office-pc "full-cone -> port-restricted" "" "reversal|simopen|stunt1"
		transfer b laptop "port-restricted -> full-cone, --method direct" direct direct
		transfer a office-pc "full-cone -> port-restricted, --method reversal" reversal reversal
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"secret"}' "refused peer" "not allowed"
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"nope"}' "unknown service" "not exposed"
		expect_error a '{"cmd":"connect","peer":"ghost","service":"echo"}' "unknown peer" "not registered"
		expect_error a '{"cmd":"connect","peer":"stranger","service":"echo"}' "offline peer" "not registered"
		expect_error a '{"cmd":"bogus"}' "unknown command" "unknown command"
		out=$(ctl a '{"cmd":"peers"}')
		echo "$out" | grep -q '"id":"office-pc","online":true' && ok "peers: office-pc online" || nok "peers: $out"
		stop_all
	}
	;;&
pr-pr|all)
	echo "# port-restricted rst (ha) x port-restricted rst (hb)"
	start_all port-restricted rst port-restricted rst && {
		transfer a office-pc "port-restricted x port-restricted" "" "simopen|stunt1"
		transfer b laptop "port-restricted x port-restricted, --method simopen" simopen simopen
		SVC=cat transfer a office-pc "exec:cat service on hb (socket as stdin/stdout)" "" "simopen|stunt1"
		stop_all
	}
	;;&
sym-sym|all)
	echo "# sym-random (ha) x sym-random (hb)"
	start_all sym-random rst sym-random rst && {
		expect_error a '{"cmd":"connect","peer":"office-pc","service":"echo"}' \
			"sym-random -> sym-random: no method, clear error" \
			"no traversal method.*random port.*relay needed"
		expect_error b '{"cmd":"connect","peer":"laptop","service":"echo"}' \
			"sym-random -> sym-random (other way): no method, clear error" "no traversal method"
		stop_all
	}
	;;&
fc-sym|all)
	echo "# full-cone (ha, EIM/EIF) x sym-random (hb)"
	start_all full-cone rst sym-random rst && {
		transfer b laptop "sym-random -> full-cone" "" direct
		transfer a office-pc "full-cone -> sym-random" "" reversal
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
