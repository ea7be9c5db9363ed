#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""TCP echo service of the lab tests and benchmarks.

echosrv.py [--bind ADDR] [--nodelay] PORT: listens on ADDR:PORT
(127.0.0.1 by default), echoes every connection's bytes back (a thread
each), and at the client's EOF closes its writing side, then the socket.
--nodelay sets TCP_NODELAY on every connection (round-trip measurements).
"""
import argparse
import socket
import threading


def serve(c, nodelay):
    if nodelay:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            d = c.recv(1 << 16)
            if not d:
                break
            c.sendall(d)
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    c.close()


def main():
    p = argparse.ArgumentParser(description="TCP echo service")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--nodelay", action="store_true")
    p.add_argument("port", type=int)
    a = p.parse_args()
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((a.bind, a.port))
    l.listen(16)
    while True:
        c, _ = l.accept()
        threading.Thread(target=serve, args=(c, a.nodelay), daemon=True).start()


if __name__ == "__main__":
    main()
