#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Control-socket client of the lab tests and benchmarks (docs/control.md).

ctlclient.py [--no-half-close | --read-first | --udp | --rtt K] [--peer] SOCK JSON [N]

Sends the JSON line to stuntd's control socket SOCK and prints the answer
line. If the answer carries a descriptor (SCM_RIGHTS):
  default          with N > 0: sends N random bytes through it, shuts down
                   its writing side, reads the echo to EOF and prints
                   "sha OK N" or "sha MISMATCH N bytes GOT/WANT";
  --no-half-close  the same, but reads all N bytes of the echo before it
                   closes (a TURN relay carries no half-close unless both
                   stuntds frame it: coturn resets both sides at the first
                   FIN);
  --read-first     the service half-closes first: reads its bytes to EOF
                   and prints "first LEN SHA256", then sends N random
                   bytes, shuts down its writing side, waits for the
                   socket's end and prints "sent N SHA256";
  --udp            N numbered datagrams through the (UDP) socket, in bursts
                   of 20; prints "type dgram|stream", "peer IP:PORT",
                   "echoed K/N", "strays S" and "missing M: [...]" if any;
  --rtt K          K 1-byte round trips; prints "rtt_us MEDIAN".
With --peer, a stream's remote address is printed first ("peer IP:PORT",
"peer [IP]:PORT" for IPv6;
127.0.0.1 for a relayed session stuntd holds: the answer's "relay" names
the relay connection's remote end).
Without N (or N = 0) the descriptor is just closed.
"""
import argparse
import array
import hashlib
import os
import socket
import threading
import time


def request(path, req):
    """The answer line and the passed descriptor (or None)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    s.sendall(req.encode() + b"\n")
    fds = array.array("i")
    msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(fds.itemsize))
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(data[:fds.itemsize])
    buf = msg
    while not buf.endswith(b"\n"):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    return buf.decode().strip(), (fds[0] if fds else None)


def endpoint(sa):
    """ "IP:PORT", or "[IP]:PORT" for IPv6 (getpeername's tuple)"""
    return ("[%s]:%d" if len(sa) == 4 else "%s:%d") % sa[:2]


def stream(fd, nbytes, half_close, peer=False):
    c = socket.socket(fileno=fd)
    c.settimeout(30)
    if peer:
        print("peer %s" % endpoint(c.getpeername()), flush=True)
    data = os.urandom(nbytes)

    def tx():
        c.sendall(data)
        if half_close:
            c.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=tx)
    t.start()
    got = hashlib.sha256()
    n = 0
    while half_close or n < nbytes:
        d = c.recv(1 << 16)
        if not d:
            break
        got.update(d)
        n += len(d)
    t.join()
    c.close()
    want = hashlib.sha256(data).hexdigest()
    if n == nbytes and got.hexdigest() == want:
        print("sha OK %d" % n, flush=True)
    else:
        print("sha MISMATCH %d bytes %s/%s" % (n, got.hexdigest(), want), flush=True)


def read_first(fd, nbytes):
    c = socket.socket(fileno=fd)
    c.settimeout(30)
    got = b""
    while True:
        d = c.recv(1 << 16)
        if not d:
            break
        got += d
    print("first %d %s" % (len(got), hashlib.sha256(got).hexdigest()), flush=True)
    data = os.urandom(nbytes)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    while c.recv(1 << 16):
        pass
    c.close()
    print("sent %d %s" % (nbytes, hashlib.sha256(data).hexdigest()), flush=True)


def datagrams(fd, n):
    u = socket.socket(fileno=fd)
    print("type", "dgram" if u.type == socket.SOCK_DGRAM else "stream")
    print("peer %s" % endpoint(u.getpeername()))
    got, strays = set(), [0]

    def take(d):
        if d.startswith(b"dgram-"):
            got.add(int(d[6:12]))
        else:
            strays[0] += 1
    # bursts of 20, each answer read before the next burst: the echo comes
    # back as fast as it goes, and a socket buffer holds ~160 of them
    for i in range(n):
        u.send(b"dgram-%06d-" % i + os.urandom(100).hex().encode())
        if i % 20 == 19 or i == n - 1:
            u.settimeout(0.5)
            end = time.time() + 0.5
            while len(got) < i + 1 and time.time() < end:
                try:
                    take(u.recv(65536))
                except socket.timeout:
                    break
    u.settimeout(0.2)
    end = time.time() + 2
    while len(got) < n and time.time() < end:
        try:
            take(u.recv(65536))
        except socket.timeout:
            continue
    print("echoed %d/%d" % (len(got), n))
    print("strays %d" % strays[0])
    miss = sorted(set(range(n)) - got)
    if miss:
        print("missing %d: %s" % (len(miss), miss[:40]))
    u.close()


def rtt(fd, k):
    c = socket.socket(fileno=fd)
    c.settimeout(10)
    r = []
    for _ in range(k):
        t = time.perf_counter()
        c.sendall(b"x")
        c.recv(1)
        r.append(time.perf_counter() - t)
    c.close()
    r.sort()
    print("rtt_us %d" % int(r[len(r) // 2] * 1e6), flush=True)


def main():
    p = argparse.ArgumentParser(description="stuntd control-socket client")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--no-half-close", action="store_true",
                      help="read the whole echo before closing (TURN relays)")
    mode.add_argument("--read-first", action="store_true",
                      help="read to the service's EOF, then send N bytes")
    mode.add_argument("--udp", action="store_true", help="N datagrams, not a byte stream")
    mode.add_argument("--rtt", type=int, metavar="K", help="K 1-byte round trips")
    p.add_argument("--peer", action="store_true", help="print a stream's remote address")
    p.add_argument("sock")
    p.add_argument("json")
    p.add_argument("n", nargs="?", type=int, default=0)
    a = p.parse_args()
    line, fd = request(a.sock, a.json)
    print(line, flush=True)
    if fd is None:
        return
    if a.rtt:
        rtt(fd, a.rtt)
    elif a.n <= 0:
        os.close(fd)
    elif a.udp:
        datagrams(fd, a.n)
    elif a.read_first:
        read_first(fd, a.n)
    else:
        stream(fd, a.n, not a.no_half_close, a.peer)


if __name__ == "__main__":
    main()
