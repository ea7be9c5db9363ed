#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""TCP or UDP echo service of the lab tests and benchmarks.

echosrv.py [--bind ADDR] [--nodelay] PORT: listens on ADDR:PORT
(127.0.0.1 by default; an IPv6 ADDR such as ::1 listens over IPv6), echoes every connection's bytes back (a thread
each), and at the client's EOF closes its writing side, then the socket.
--nodelay sets TCP_NODELAY on every connection (round-trip measurements).

echosrv.py --udp [--bind ADDR] [--punch HOST:PORT] PORT: sends every
datagram back to where it came from. --punch first sends one datagram with
TTL 2 to HOST:PORT (it passes the host's own NAT and dies at the lab's
inet router: a hole punched by hand, for plain-UDP baselines).
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


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve_udp(a):
    s = socket.socket(family(a.bind), socket.SOCK_DGRAM)
    s.bind((a.bind, a.port))
    if a.punch:
        host, port = a.punch.rsplit(":", 1)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 2)
        s.sendto(b"punch", (host, int(port)))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 64)
    while True:
        d, src = s.recvfrom(65536)
        s.sendto(d, src)


def main():
    p = argparse.ArgumentParser(description="TCP or UDP echo service")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--nodelay", action="store_true")
    p.add_argument("--udp", action="store_true")
    p.add_argument("--punch", metavar="HOST:PORT")
    p.add_argument("port", type=int)
    a = p.parse_args()
    if a.udp:
        serve_udp(a)
        return
    l = socket.socket(family(a.bind))
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((a.bind, a.port))
    l.listen(1024)
    while True:
        c, _ = l.accept()
        threading.Thread(target=serve, args=(c, a.nodelay), daemon=True).start()


if __name__ == "__main__":
    main()
