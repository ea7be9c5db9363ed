#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stunt-server behind a 1:1 NAT, as a cloud VM is (issue 15): the router
# inet forwards the public address 203.0.113.10 to the server's local
# 192.0.2.1 and translates what the server sends back, and -- as a cloud
# network does -- does not route the local address from outside. The
# server runs --primary 192.0.2.1 --external-ip 203.0.113.10 (one address).
#   - stunt-probe against the public address measures everything one
#     address allows, the STUNT tests included (the CAPTURE target it is
#     told is the public address: our SYN is captured, sequence numbers
#     compared);
#   - the control: a second server behind the same kind of NAT
#     (203.0.113.11 -> 192.0.2.2) without --external-ip names its local
#     address, which clients cannot reach: the probe's SYN is not captured;
#   - two stuntds (tests/lab/stuntd_lab.sh's start_all) register with the
#     public address and connect through their NATs, 5 MB echoed; no RST
#     left the hosts, iptables as before after SIGTERM.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/stuntd_lab.sh
. "$here/stuntd_lab.sh"
PROBE=$BUILD/stunt-probe
PUB1=203.0.113.10
PUB2=203.0.113.11

# the 1:1 NAT in front of the server, in the router, before the server and
# the daemons start (start_all's hook)
start_all_hook() {
	lx inet nft -f - <<NFT
table ip nat11 {
  chain dnat_in {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $PUB1 dnat to $LAB_SRV1
    ip daddr $PUB2 dnat to $LAB_SRV2
  }
  chain snat_out {
    type nat hook postrouting priority srcnat; policy accept;
    oifname != "srv" ip saddr $LAB_SRV1 snat to $PUB1
    oifname != "srv" ip saddr $LAB_SRV2 snat to $PUB2
  }
  chain guard {
    type filter hook forward priority filter; policy accept;
    iifname != "srv" ip daddr 192.0.2.0/24 ct status & (snat | dnat) != 0 accept
    iifname != "srv" ip daddr 192.0.2.0/24 drop
  }
}
NFT
}
# the server on its local address, naming the public one; both daemons
# register with the public one
SERVER_ONE_ADDR=1
SERVER_EXTRA=(--external-ip "$PUB1")
STUNTD_SERVER=$PUB1
START_WAIT=15 start_all port-restricted rst port-restricted rst || exit 1
ok "laptop and office-pc registered with $PUB1 (the server's public address)"
grep -Eq "external address $PUB1(:[0-9]+)? for local $LAB_SRV1(:[0-9]+)? \\(1:1 NAT\\)" "$LAB_STATE/server.log" &&
	ok "server: external address $PUB1 for local $LAB_SRV1 (its log)" ||
	nok "server log: $(head -c 600 "$LAB_STATE/server.log")"
# the control: a second server behind the same kind of NAT, without --external-ip
lab_bg srv server2 "$SERVER" --primary "$LAB_SRV2" -d >/dev/null
lab_wait_port srv tcp "$LAB_SRV2" 3478 10 || nok "second server up"
# the local address is out of reach from outside, the public one is not
if ! lx ha timeout 3 bash -c "exec 3<>/dev/tcp/$LAB_SRV1/3478" 2>/dev/null &&
	lx ha timeout 3 bash -c "exec 3<>/dev/tcp/$PUB1/3478" 2>/dev/null; then
	ok "from ha: $PUB1:3478 reachable, $LAB_SRV1:3478 not (a cloud's 1:1 NAT)"
else
	nok "the 1:1 NAT: public reachable and local not, from ha"
fi

# stunt-probe through the 1:1 NAT, with and without --external-ip
lx ha "$PROBE" --server "$PUB1" --json --no-portmap >"$LAB_STATE/p1.json" 2>/dev/null
lx ha "$PROBE" --server "$PUB2" --json --no-portmap >"$LAB_STATE/p2.json" 2>/dev/null
python3 - "$LAB_STATE/p1.json" "$LAB_STATE/p2.json" <<'PY' >"$LAB_STATE/probe.check"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
ta, tb = a["tcp"], b["tcp"]
print("# with --external-ip: tcp stunt %s filtering %s unsolicited %s seq_rewrite %s" %
      (ta["stunt"], ta["filtering"], ta["unsolicited_syn"], ta["seq_rewrite"]))
print("# without: seq_rewrite %s; notes %s" % (tb["seq_rewrite"], b["notes"]))
print("A" if ta["stunt"] and ta["filtering"] == "APDF" and ta["unsolicited_syn"] == "rst"
      and ta["seq_rewrite"] is False and a["udp"]["public"].startswith("198.18.1.2:") else "a")
print("B" if tb["seq_rewrite"] is None and any("captured no SYN" in n for n in b["notes"]) else "b")
PY
grep '^#' "$LAB_STATE/probe.check"
grep -qx A "$LAB_STATE/probe.check" &&
	ok "probe against $PUB1 (--external-ip): STUNT tests measured (APDF, RST, no sequence rewriting)" ||
	nok "probe against $PUB1: $(head -c 800 "$LAB_STATE/p1.json")"
grep -qx B "$LAB_STATE/probe.check" &&
	ok "control, $PUB2 without --external-ip: the CAPTURE target it names is its local address, our SYN never reaches it" ||
	nok "control probe against $PUB2: $(head -c 800 "$LAB_STATE/p2.json")"

# two stuntds through their NATs and the server's
transfer a office-pc "laptop -> office-pc through the 1:1-NATed server"
stop_all
[ "$fails" -eq 0 ]
