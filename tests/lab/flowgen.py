#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""flowgen: background load on a lab NAT, new TCP flows at a set rate.

  flowgen.py --to IP:PORT --rate R --duration S

Run in a host behind the NAT to load (the second LAN host hX2 of
lab_up --lan2-X). Opens R new TCP connections a second to IP:PORT for S
seconds, then stops by itself (or at SIGTERM / SIGINT). Each is a
non-blocking connect from a fresh ephemeral port: one new conntrack entry,
so one new mapping of the NAT in front (TCP only: a sym-seq NAT counts TCP
and UDP mappings apart, lab.sh's _lab_nat_rules). The intended target is a
closed port outside the NAT (pub 198.51.100.10:9): its RST ends the flow at
once, nothing lingers in TIME_WAIT, and conntrack drops an entry whose only
reply was an RST right away (the NAT's counter has moved all the same:
t_busynat.sh), so the load does not fill the gateway's table.

Connection i is due at start + i/R; one that is late (a stalled process)
goes at once, so a run to its end opens exactly R*S. A socket is closed
(SO_LINGER 0) when its answer came (RST or SYN-ACK) or after 3 s.

Output: "started" once the first connect left, then at the end "key value"
lines: opened, answered (an RST or a SYN-ACK came), unanswered, errors
(connects that failed locally), elapsed_ms (the whole run, answers waited
for included), per_s (the rate kept: connects after the first / the time
from the first to the last).
Exit 0; 2 on bad usage.
"""
import argparse
import errno
import selectors
import signal
import socket
import struct
import sys
import time

ANSWER_WAIT_S = 3.0
LINGER0 = struct.pack("ii", 1, 0)

stop = False


def on_signal(_sig, _frm):
    global stop
    stop = True


def target(s):
    ip, _, port = s.rpartition(":")
    socket.inet_aton(ip)
    return ip, int(port)


def main():
    ap = argparse.ArgumentParser(description="new TCP flows at a set rate, for a bounded time")
    ap.add_argument("--to", type=target, required=True, help="IP:PORT (a closed port is best)")
    ap.add_argument("--rate", type=float, required=True, help="new connections a second (0.1..5000)")
    ap.add_argument("--duration", type=float, required=True, help="seconds (at most 3600)")
    a = ap.parse_args()
    if not 0.1 <= a.rate <= 5000 or not 0 < a.duration <= 3600:
        ap.error("--rate must be 0.1..5000 and --duration 0..3600")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    sel = selectors.DefaultSelector()
    pending = {}            # socket -> time its connect left
    total = int(a.rate * a.duration)
    opened = answered = unanswered = errors = 0
    start = time.monotonic()
    first = last = start

    def done(s, ok):
        nonlocal answered, unanswered
        if ok:
            answered += 1
        else:
            unanswered += 1
        sel.unregister(s)
        del pending[s]
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
        s.close()

    while not stop and (opened + errors < total or pending):
        now = time.monotonic()
        while opened + errors < total and start + (opened + errors) / a.rate <= now and not stop:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            e = s.connect_ex(a.to)
            if e not in (errno.EINPROGRESS, 0):
                errors += 1
                s.close()
                continue
            if opened == 0:
                first = now
                print("started", flush=True)
            last = now
            opened += 1
            pending[s] = now
            sel.register(s, selectors.EVENT_WRITE)
        # answers: writable means the handshake ended (SO_ERROR 0: a SYN-ACK;
        # ECONNREFUSED: an RST)
        nxt = start + (opened + errors) / a.rate if opened + errors < total else now + 0.1
        for key, _ in sel.select(max(0.0, min(nxt - time.monotonic(), 0.1))):
            e = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            done(key.fileobj, e in (0, errno.ECONNREFUSED))
        now = time.monotonic()
        for s in [s for s, t in pending.items() if now - t > ANSWER_WAIT_S]:
            done(s, False)
    for s in list(pending):
        done(s, False)
    el = time.monotonic() - start
    per_s = (opened - 1) / (last - first) if opened > 1 and last > first else 0.0
    print("opened %d\nanswered %d\nunanswered %d\nerrors %d\nelapsed_ms %d\nper_s %.1f"
          % (opened, answered, unanswered, errors, el * 1000, per_s), flush=True)


if __name__ == "__main__":
    sys.exit(main())
