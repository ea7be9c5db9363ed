#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Plain-socket probes of a lab gateway's filtering, either address family.

sockprobe.py serve tcp|udp ADDR PORT
    answers every TCP connection (then closes it) and every UDP datagram
    with one line: "peer ADDR PORT", the source it saw.
sockprobe.py tcp|udp HOST PORT [TIMEOUT_S]
    one TCP connect (read the answer) or one datagram on a connected UDP
    socket (read the answer); prints one word and what came back:
      ok LINE from LPORT  an answer came (LINE: the server's; LPORT:
                 the probe's own port)
      refused    TCP RST or ICMP(v6) port unreachable
      prohibited ICMPv6 administratively prohibited (EACCES)
      unreach    no route / host or network unreachable
      timeout    nothing within TIMEOUT_S (default 3): dropped
sockprobe.py ping6 HOST [TIMEOUT_S]
    one ICMPv6 echo request (a raw socket: this lab has no ping); prints
    "ok" for the echo reply from HOST, else "timeout"
"""
import errno
import os
import socket
import struct
import sys


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def serve(proto, addr, port):
    if proto == "tcp":
        s = socket.socket(family(addr), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(16)
        while True:
            c, peer = s.accept()
            try:
                c.sendall(("peer %s %d\n" % (peer[0], peer[1])).encode())
            except OSError:
                pass
            c.close()
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        _, peer = s.recvfrom(2048)
        s.sendto(("peer %s %d\n" % (peer[0], peer[1])).encode(), peer)


def probe(proto, host, port, timeout):
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(family(host), kind)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        if proto == "udp":
            s.send(b"probe")
        d = s.recv(2048)
        return "ok %s from %d" % (d.decode(errors="replace").strip(), s.getsockname()[1])
    except socket.timeout:
        return "timeout"
    except OSError as e:
        if e.errno == errno.ECONNREFUSED:
            return "refused"
        if e.errno == errno.EACCES:
            return "prohibited"
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL):
            return "unreach"
        return "error " + (errno.errorcode.get(e.errno) or str(e))
    finally:
        s.close()


def ping6(host, timeout):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.settimeout(timeout)
    ident = os.getpid() & 0xFFFF
    # type 128, code 0, checksum (the kernel fills it in), id, seq 1
    s.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, 1) + b"sockprobe", (host, 0))
    want = socket.inet_pton(socket.AF_INET6, host)
    try:
        while True:
            d, peer = s.recvfrom(2048)
            if (len(d) >= 8 and d[0] == 129 and struct.unpack("!H", d[4:6])[0] == ident
                    and socket.inet_pton(socket.AF_INET6, peer[0].split("%")[0]) == want):
                return "ok"
    except socket.timeout:
        return "timeout"
    finally:
        s.close()


def main():
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "serve" and a[1] in ("tcp", "udp"):
        serve(a[1], a[2], int(a[3]))
    elif len(a) in (2, 3) and a[0] == "ping6":
        print(ping6(a[1], float(a[2]) if len(a) == 3 else 3.0))
    elif len(a) in (3, 4) and a[0] in ("tcp", "udp"):
        print(probe(a[0], a[1], int(a[2]), float(a[3]) if len(a) == 4 else 3.0))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
