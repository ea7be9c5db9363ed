#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Signalling for the ICE benchmark (issue 20): rendezvous.py IP PORT

Each client sends one line "KEY DATA\\n"; once two clients have sent the same
KEY, each gets the other's DATA as one line and the connection is closed.
Runs in the lab's public host, so the candidates cross the same WAN links
(and the same delay and loss) as stunt's own signalling through srv.
"""
import socket
import sys
import threading

MAX = 1 << 16
lock = threading.Lock()
waiting = {}


def serve(c):
    buf = b""
    try:
        while b"\n" not in buf and len(buf) < MAX:
            d = c.recv(MAX)
            if not d:
                c.close()
                return
            buf += d
    except OSError:
        c.close()
        return
    line = buf.split(b"\n", 1)[0]
    key, _, data = line.partition(b" ")
    with lock:
        peer = waiting.pop(key, None)
        if peer is None:
            waiting[key] = (c, data)
            return
    pc, pdata = peer
    for s, d in ((c, pdata), (pc, data)):
        try:
            s.sendall(d + b"\n")
        except OSError:
            pass
        s.close()


def main():
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((sys.argv[1], int(sys.argv[2])))
    l.listen(16)
    while True:
        c, _ = l.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(c,), daemon=True).start()


main()
