#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Signalling for the ICE benchmark (issue 20): rendezvous.py IP PORT

Each client sends one line "KEY\\n"; once two clients have sent the same KEY,
everything one sends after it goes to the other (the offer one way, the
answer back). Runs in the lab's public host, so the candidates cross the
same WAN links (and the same delay and loss) as stunt's own signalling.
"""
import socket
import sys
import threading

MAX = 1 << 16
lock = threading.Lock()
waiting = {}


def pipe(src, dst):
    try:
        while True:
            d = src.recv(MAX)
            if not d:
                break
            dst.sendall(d)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


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
    key, _, rest = buf.partition(b"\n")
    with lock:
        peer = waiting.pop(key, None)
        if peer is None:
            waiting[key] = (c, rest)
            return
    pc, prest = peer
    try:
        if rest:
            pc.sendall(rest)
        if prest:
            c.sendall(prest)
    except OSError:
        pass
    threading.Thread(target=pipe, args=(pc, c), daemon=True).start()
    pipe(c, pc)


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
