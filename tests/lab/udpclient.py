#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A UDP echo client for the lab: counts its own echoes and measures RTTs.

  udpclient.py [--bind PORT] [--burst K] [--burst-wait S] [--interval-ms MS]
               [--timeout S] HOST PORT N TAG
      sends K datagrams at once first (they reach a forwarder while it is
      still connecting) and waits up to --burst-wait (20 s) for their
      echoes, then N datagrams one at a time, each waiting for
      its echo (up to --timeout, then the next one). Every datagram is
      "TAG-<seq>"; an echo that does not start with "TAG-" is foreign.
  udpclient.py --fd0 N TAG
      the same N one at a time on the connected datagram socket that is
      this program's standard input (stuntctl connect --udp -- COMMAND);
      the report goes to standard error.
  udpclient.py --stdio N TAG -- COMMAND...
      the same N one at a time through a COMMAND that reads datagrams as
      lines on its stdin and writes them on its stdout (stuntctl connect
      --udp).
Prints one line: "tag TAG sent S own O foreign F lost L median_us M".
"""
import os
import select
import socket
import statistics
import subprocess
import sys
import time


def report(tag, sent, own, foreign, rtts, out=sys.stdout):
    med = int(statistics.median(rtts)) if rtts else -1
    print(f"tag {tag} sent {sent} own {own} foreign {foreign} lost {sent - own} median_us {med}",
          file=out, flush=True)


def run_socket(args):
    bind_port, burst, interval, timeout, burst_wait = 0, 0, 0.0, 2.0, 20.0
    while args and args[0].startswith("--") and args[0] != "--fd0":
        opt = args.pop(0)
        val = args.pop(0)
        if opt == "--bind":
            bind_port = int(val)
        elif opt == "--burst":
            burst = int(val)
        elif opt == "--interval-ms":
            interval = int(val) / 1000.0
        elif opt == "--burst-wait":
            burst_wait = float(val)
        elif opt == "--timeout":
            timeout = float(val)
        else:
            sys.exit(f"udpclient: unknown option {opt}")
    out = sys.stdout
    if args[0] == "--fd0":
        n, tag = int(args[1]), args[2]
        s = socket.socket(fileno=0)
        s.setblocking(True)
        out = sys.stderr
    else:
        host, port, n, tag = args[0], int(args[1]), int(args[2]), args[3]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", bind_port))
        s.connect((host, port))
    own, foreign, sent, rtts = 0, 0, 0, []
    seen = set()

    def take(wait, want=None):
        """Read echoes for up to wait seconds; stop early once want came."""
        nonlocal own, foreign
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([s], [], [], left)
            if not r:
                return False
            try:
                d = s.recv(65536)
            except ConnectionRefusedError:
                continue
            t = d.decode(errors="replace")
            if d.startswith(b"STNU") and len(d) == 32:
                continue	# a late punch handshake datagram (docs/control.md)
            if not t.startswith(tag + "-"):
                foreign += 1
                continue
            if t in seen:
                foreign += 1	# a duplicate counts against us too
                continue
            seen.add(t)
            own += 1
            if want is not None and t == want:
                return True

    for i in range(burst):
        s.send(f"{tag}-b{i}".encode())
        sent += 1
    end = time.monotonic() + burst_wait	# the burst waits for the traversal
    while own < burst and time.monotonic() < end:
        take(0.1)
    for i in range(n):
        msg = f"{tag}-{i}"
        t0 = time.monotonic()
        s.send(msg.encode())
        sent += 1
        # without a burst the first one waits for the traversal: not an RTT
        if take(20 if i == 0 and not burst else timeout, msg) and (i or burst):
            rtts.append((time.monotonic() - t0) * 1e6)
        if interval:
            time.sleep(interval)
    take(0.3)	# anything late or extra
    report(tag, sent, own, foreign, rtts, out)


def run_stdio(args):
    n, tag = int(args[0]), args[1]
    cmd = args[args.index("--") + 1:]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    out = p.stdout.fileno()
    own, foreign, rtts, buf = 0, 0, [], b""
    for i in range(-1, n):
        msg = f"{tag}-{i}\n".encode()
        t0 = time.monotonic()
        os.write(p.stdin.fileno(), msg)
        end = t0 + (20 if i < 0 else 2)	# the first one waits for the traversal
        got = False
        while not got and time.monotonic() < end:
            r, _, _ = select.select([out], [], [], end - time.monotonic())
            if not r:
                break
            d = os.read(out, 65536)
            if not d:
                break
            buf += d
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line + b"\n" == msg:
                    got = True
                elif line.startswith(tag.encode() + b"-"):
                    own += 1
                else:
                    foreign += 1
        if got and i >= 0:
            own += 1
            rtts.append((time.monotonic() - t0) * 1e6)
    p.stdin.close()
    p.wait(timeout=10)
    report(tag, n, own, foreign, rtts)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "--stdio":
        run_stdio(a[1:])
    else:
        run_socket(a)
