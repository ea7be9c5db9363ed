#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Independent NAT measurement for the lab self-test.

Shares no code with stunt: a plain-socket reflector for the lab's server host
and client measurements for a host behind a lab NAT. Every client command
prints one JSON object.

  natcheck.py reflect A1 A2 P1 P2            (server: UDP+TCP on 2 addresses x 2 ports)
  natcheck.py mapping udp|tcp A1 A2 P1 P2    (host: one local port to the 4 endpoints)
  natcheck.py filtering udp|tcp A1 P1        (host: replies from other address / port?)
  natcheck.py allocation udp|tcp A1 P1 [N]   (host: N fresh local ports, mapped ports)
  natcheck.py unsolicited IP PORT            (outside: answer of a NAT to a bare SYN)
  natcheck.py ttl IP PORT TTL                (host: ICMP time-exceeded for a TTL-limited SYN)
  natcheck.py rtt udp IP PORT N              (host: N UDP echoes via the reflector: RTT, loss)
"""
import json
import os
import select
import socket
import statistics
import struct
import sys
import threading
import time

TRIES = 3
WAIT_S = 0.4
ECHO_WAIT_S = 0.25   # an echo later than this counts as lost (lab RTTs are < 100 ms)


def out(obj):
    print(json.dumps(obj))
    sys.stdout.flush()


# ---------------------------------------------------------------- reflector

def reflect(a1, a2, p1, p2):
    p1, p2 = int(p1), int(p2)
    eps = [(a1, p1), (a1, p2), (a2, p1), (a2, p2)]
    other = {"alt-addr": lambda a, p: (a2 if a == a1 else a1, p2 if p == p1 else p1),
             "alt-port": lambda a, p: (a, p2 if p == p1 else p1)}
    udp = {}
    for ep in eps:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(ep)
        udp[ep] = s
    tcp = {}
    for ep in eps:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(ep)
        s.listen(64)
        tcp[ep] = s

    def tcp_client(c, local):
        try:
            c.settimeout(5)
            line = c.makefile("r").readline()
            req = json.loads(line)
            peer = c.getpeername()
            rep = {"addr": peer[0], "port": peer[1]}
            if req.get("op") == "connect-back":
                src = other[req["from"]](*local)
                rep["result"] = connect_back(src[0], peer[0], int(req.get("port", peer[1])))
            c.sendall((json.dumps(rep) + "\n").encode())
        except (OSError, ValueError, KeyError):
            pass
        finally:
            c.close()

    socks = list(udp.values()) + list(tcp.values())
    while True:
        r, _, _ = select.select(socks, [], [])
        for s in r:
            local = s.getsockname()
            if s.type == socket.SOCK_DGRAM:
                try:
                    data, peer = s.recvfrom(2048)
                    req = json.loads(data)
                except (OSError, ValueError):
                    continue
                rep = json.dumps({"addr": peer[0], "port": peer[1], "id": req.get("id"),
                                  "from": "%s:%d" % local}).encode()
                via = s
                if req.get("op") in other:
                    via = udp[other[req["op"]](*local)]
                    rep = json.dumps({"addr": peer[0], "port": peer[1], "id": req.get("id"),
                                      "from": "%s:%d" % via.getsockname()}).encode()
                if req.get("op") == "echo":
                    rep = data
                try:
                    via.sendto(rep, peer)
                except OSError:
                    pass
            else:
                try:
                    c, _ = s.accept()
                except OSError:
                    continue
                threading.Thread(target=tcp_client, args=(c, local), daemon=True).start()


def connect_back(src_addr, dst, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src_addr, 0))
    s.settimeout(1.5)
    try:
        s.connect((dst, port))
        s.sendall(b"hello\n")
        return "connected"
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error:%d" % e.errno
    finally:
        s.close()


# ---------------------------------------------------------------- client

def udp_ask(sock, dst, op="map"):
    """Send a request and wait for its answer, retransmitting; None when lost."""
    rid = os.urandom(4).hex()
    for _ in range(TRIES):
        sock.sendto(json.dumps({"op": op, "id": rid}).encode(), dst)
        end = time.monotonic() + WAIT_S
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([sock], [], [], left)
            if not r:
                break
            try:
                data, src = sock.recvfrom(2048)
                rep = json.loads(data)
            except (OSError, ValueError):
                continue
            if rep.get("id") == rid:
                rep["src"] = "%s:%d" % src
                return rep
    return None


def tcp_sock(lport=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("0.0.0.0", lport))
    return s


def tcp_ask(dst, lport=0, req=None, timeout=5):
    s = tcp_sock(lport)
    s.settimeout(timeout)
    try:
        s.connect(dst)
        s.sendall((json.dumps(req or {"op": "map"}) + "\n").encode())
        rep = json.loads(s.makefile("r").readline())
        rep["lport"] = s.getsockname()[1]
        return rep
    except (OSError, ValueError):
        return None
    finally:
        # RST instead of FIN: the same local port is reused at once
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


def classify_mapping(m):
    """m: mapped endpoints for (A1,P1), (A1,P2), (A2,P1), (A2,P2)."""
    if any(x is None for x in m):
        return None
    if len(set(m)) == 1:
        return "EIM"
    if m[0] == m[1] and m[2] == m[3]:
        return "ADM"
    return "APDM"


def mapping(proto, a1, a2, p1, p2):
    eps = [(a1, int(p1)), (a1, int(p2)), (a2, int(p1)), (a2, int(p2))]
    mapped = []
    if proto == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 0))
        lport = s.getsockname()[1]
        for ep in eps:
            r = udp_ask(s, ep)
            mapped.append((r["addr"], r["port"]) if r else None)
    else:
        s = tcp_sock(0)
        lport = s.getsockname()[1]
        s.close()
        for ep in eps:
            r = tcp_ask(ep, lport)
            mapped.append((r["addr"], r["port"]) if r else None)
    out({"proto": proto, "lport": lport, "mapped": ["%s:%d" % m if m else None for m in mapped],
         "mapping": classify_mapping(mapped),
         "preserved": all(m and m[1] == lport for m in mapped)})


def filtering(proto, a1, p1):
    dst = (a1, int(p1))
    got = {}
    if proto == "udp":
        for op in ("alt-addr", "alt-port"):
            # a fresh mapping for each question, so one answer cannot open the filter for the other
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", 0))
            if udp_ask(s, dst) is None:
                got[op] = None
                continue
            got[op] = udp_ask(s, dst, op) is not None
            s.close()
    else:
        for op in ("alt-addr", "alt-port"):
            ls = tcp_sock(0)
            ls.listen(4)
            lport = ls.getsockname()[1]
            accepted = []

            def acceptor():
                ls.settimeout(3)
                try:
                    c, peer = ls.accept()
                    accepted.append(peer)
                    c.close()
                except OSError:
                    pass
            t = threading.Thread(target=acceptor)
            t.start()
            rep = tcp_ask(dst, lport, {"op": "connect-back", "from": op})
            t.join()
            ls.close()
            got[op] = None if rep is None else (bool(accepted) and rep.get("result") == "connected")
    if got["alt-addr"] is None or got["alt-port"] is None:
        verdict = None
    elif got["alt-addr"]:
        verdict = "EIF"
    elif got["alt-port"]:
        verdict = "ADF"
    else:
        verdict = "APDF"
    out({"proto": proto, "from_other_address": got["alt-addr"], "from_other_port": got["alt-port"],
         "filtering": verdict})


def allocation(proto, a1, p1, n=6):
    dst = (a1, int(p1))
    pairs = []
    for _ in range(int(n)):
        if proto == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", 0))
            r = udp_ask(s, dst)
            lport = s.getsockname()[1]
            s.close()
            pairs.append((lport, r["port"] if r else None))
        else:
            r = tcp_ask(dst, 0)
            pairs.append((r["lport"], r["port"]) if r else (None, None))
    mapped = [m for _, m in pairs]
    verdict, delta = None, None
    if all(m is not None for m in mapped):
        if all(l == m for l, m in pairs):
            verdict = "preserving"
        else:
            d = {b - a for a, b in zip(mapped, mapped[1:])}
            if len(d) == 1 and 0 not in d:
                verdict, delta = "sequential", d.pop()
            else:
                verdict = "random"
    out({"proto": proto, "pairs": pairs, "allocation": verdict, "delta": delta})


def icmp_socket():
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)


def icmp_quote_matches(data, ihl, dst, sport=None, dport=None):
    """Does the IPv4+L4 header quoted in this ICMP error belong to our probe?"""
    q = data[ihl + 8:]
    if len(q) < 20:
        return False
    qihl = (q[0] & 0x0F) * 4
    if len(q) < qihl + 4 or socket.inet_ntoa(q[16:20]) != dst:
        return False
    qs, qd = struct.unpack("!HH", q[qihl:qihl + 4])
    return (sport is None or qs == sport) and (dport is None or qd == dport)


def icmp_read(sock, deadline, want_type, dst, sport=None, dport=None):
    """First ICMP error of type want_type quoting our probe to dst (and ports)
    before deadline: (type, code, source) or None. Other ICMP is ignored: the
    lab measures both sides at once and a raw socket sees all of it."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return None
        data, src = sock.recvfrom(4096)
        ihl = (data[0] & 0x0F) * 4
        if len(data) >= ihl + 2 and data[ihl] in want_type and \
                icmp_quote_matches(data, ihl, dst, sport, dport):
            return data[ihl], data[ihl + 1], src[0]


def unsolicited(ip, port):
    ic = icmp_socket()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    start = time.monotonic()
    answer, detail = "drop", None
    try:
        s.connect((ip, int(port)))
    except BlockingIOError:
        pass
    deadline = start + 2.0
    while time.monotonic() < deadline:
        r, w, _ = select.select([ic], [s], [], deadline - time.monotonic())
        if ic in r:
            got = icmp_read(ic, time.monotonic() + 0.01, (3,), ip, None, int(port))
            if got:
                answer, detail = "icmp", "type %d code %d from %s" % got
                break
        if s in w:
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                answer = "accepted"
                break
            # ECONNREFUSED without an ICMP: the answer was an RST
            got = icmp_read(ic, time.monotonic() + 0.05, (3,), ip, None, int(port))
            answer = "icmp" if got else ("rst" if err == 111 else "error:%d" % err)
            detail = "type %d code %d from %s" % got if got else os.strerror(err)
            break
    s.close()
    out({"target": "%s:%s" % (ip, port), "unsolicited_syn": answer, "detail": detail,
         "ms": round((time.monotonic() - start) * 1000)})


def ttl(ip, port, t):
    ic = icmp_socket()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, int(t))
    s.setblocking(False)
    try:
        s.connect((ip, int(port)))
    except BlockingIOError:
        pass
    got = icmp_read(ic, time.monotonic() + 1.5, (11,), ip, s.getsockname()[1], int(port))
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    _, w, _ = select.select([], [s], [], 0)
    connected = bool(w) and err == 0
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    out({"ttl": int(t), "time_exceeded_from": got[2] if got else None, "connected": connected})


def rtt(proto, ip, port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    dst = (ip, int(port))
    times, lost = [], 0
    for i in range(int(n)):
        rid = "%d-%s" % (i, os.urandom(3).hex())
        t0 = time.monotonic()
        s.sendto(json.dumps({"op": "echo", "id": rid}).encode(), dst)
        end = t0 + ECHO_WAIT_S
        ok = False
        while time.monotonic() < end:
            r, _, _ = select.select([s], [], [], end - time.monotonic())
            if not r:
                break
            data, _ = s.recvfrom(2048)
            try:
                if json.loads(data).get("id") == rid:
                    ok = True
                    break
            except ValueError:
                continue
        if ok:
            times.append((time.monotonic() - t0) * 1000)
        else:
            lost += 1
    out({"n": int(n), "lost": lost, "loss_pct": round(100.0 * lost / int(n), 1),
         "rtt_median_ms": round(statistics.median(times), 2) if times else None,
         "rtt_min_ms": round(min(times), 2) if times else None})


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    fn = {"reflect": reflect, "mapping": mapping, "filtering": filtering,
          "allocation": allocation, "unsolicited": unsolicited, "ttl": ttl, "rtt": rtt}.get(cmd)
    if fn is None:
        print(__doc__)
        return 2
    fn(*args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
