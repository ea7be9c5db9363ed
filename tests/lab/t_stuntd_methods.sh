#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stuntd's port prediction and STUNT #2 in the namespace lab (see
# t_stuntd.sh for the setup). Pairs (ha "laptop" x hb "office-pc"):
#   sym-seq:1 x sym-seq:1        predict forced, and picked by the strategy
#   sym-seq:2 x port-restricted  predict forced both ways, while a loop in ha
#                                opens new TCP and UDP flows (each takes a
#                                port of the sequential NAT) all along
#   port-restricted x port-restricted  stunt2 forced both ways
# (port-restricted x sym-random: shotgun, t_stuntd_shotgun.sh)
# Every connect moves 5 MB through the echo service with the sha256
# compared; no RST may leave ha or hb, not even the kernel's answer to a
# late SYN of the peer's window on a socket we closed (stunt-rules queues
# it although conntrack finds it INVALID; the window's guards drop it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"

# A new TCP flow (to a closed port of the server: its RST comes from srv)
# and a new UDP flow every 50 ms from ha: other LAN traffic taking ports of
# the sequential NAT between the prediction and the window.
BG='i=0
while :; do
	(exec 3<>/dev/tcp/'"$LAB_SRV2"'/9) 2>/dev/null
	echo x >/dev/udp/'"$LAB_SRV2"'/$((20000 + i % 1000)) 2>/dev/null
	i=$((i + 1))
	sleep 0.05
done'

# After N predict connects: each side told the peer its window had left
# (RELAY "syn predict"), and SYNs of a window went again at full TTL in
# every connect, without waiting for the kernel's retransmission
# (daemon/trav/predict.c; one side may be established by the other's first).
predict_repeated() {
	local told sent
	told=$(cat "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" | grep -c 'predict: the [0-9]* SYNs of the window left; told the peer')
	sent=$(cat "$LAB_STATE/stuntd-a.log" "$LAB_STATE/stuntd-b.log" | grep -c 'predict: SYN seq [0-9]* sent again at full TTL')
	if [ "$told" -ge $((2 * $1)) ] && [ "$sent" -ge "$1" ]; then
		ok "predict: the windows told the peer ($told times), SYNs went again at full TTL ($sent in $1 connects)"
	else
		nok "predict: windows told the peer $told times, SYNs sent again $sent times in $1 connects"
	fi
}

case "${1:-all}" in
seq-seq|all)
	echo "# sym-seq:1 (ha) x sym-seq:1 (hb)"
	start_all sym-seq:1 rst sym-seq:1 rst && {
		st=$(ctl a '{"cmd":"status"}')
		echo "$st" | grep -q '"allocation": "sequential"' && ok "status: ha's NAT allocates sequentially" ||
			nok "status: ha's NAT not seen as sequential: $st"
		transfer a office-pc "sym-seq:1 x sym-seq:1, --method predict" predict predict
		transfer b laptop "sym-seq:1 x sym-seq:1, the strategy's pick" "" predict
		predict_repeated 2
		stop_all
	}
	;;&
seq-pr|all)
	echo "# sym-seq:2 (ha, other flows of the LAN in between) x port-restricted (hb)"
	start_all sym-seq:2 rst port-restricted rst && {
		[ -z "${NO_BG:-}" ] && lab_bg ha bgflows bash -c "$BG" >/dev/null
		sleep 0.5
		transfer a office-pc "sym-seq:2 -> port-restricted, --method predict, LAN busy" predict predict
		transfer b laptop "port-restricted -> sym-seq:2, --method predict, LAN busy" predict predict
		transfer b laptop "port-restricted -> sym-seq:2, the strategy's pick, LAN busy" "" predict
		predict_repeated 3
		n=$(grep -c 'predict: last public port' "$LAB_STATE/stuntd-a.log")
		[ "$n" -ge 3 ] && ok "ha learnt its last public port before each window ($n)" ||
			nok "ha's predictions: $n"
		# consecutive learnt ports: stuntd itself takes 1 + 16 (binding and
		# window) per connect; the rest went to the LAN's other flows
		ports=$(sed -n 's/.*predict: last public port \([0-9]*\), delta.*/\1/p' "$LAB_STATE/stuntd-a.log" | tr '\n' ' ')
		other=$(echo "$ports" | awk '{ for (i = 2; i <= NF; i++) n += ($i - $(i - 1)) / 2 - 17; print n + 0 }')
		echo "# ha's last public port before each window: $ports"
		if [ -n "${NO_BG:-}" ] || [ "$other" -gt 0 ]; then
			ok "other flows of ha's LAN took $other ports of the sequential NAT meanwhile"
		else
			nok "the LAN's other flows took no port ($ports)"
		fi
		stop_all
	}
	;;&
pr-pr|all)
	echo "# port-restricted rst (ha) x port-restricted rst (hb)"
	start_all port-restricted rst port-restricted rst && {
		transfer a office-pc "port-restricted ha -> hb, --method stunt2 (method stunt2)" stunt2 stunt2
		transfer b laptop "port-restricted hb -> ha, --method stunt2 (method stunt2)" stunt2 stunt2
		stop_all
	}
	;;
esac
[ "$fails" -eq 0 ]
