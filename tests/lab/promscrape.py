#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The lab's Prometheus scraper and hostile metrics clients (t_metrics.sh).

  promscrape.py scrape URL        GET URL with urllib; the answer must be 200
                                  with Content-Type text/plain; version=0.0.4
                                  and parse as the text format 0.0.4 (every
                                  line a HELP, a TYPE or a sample of a family
                                  declared by both, valid names, counters
                                  ending in _total, no series twice). Prints
                                  the samples "series value", exit 0; else
                                  says why on stderr, exit 1.
  promscrape.py raw HOST PORT KIND  send one request of KIND (post, garbage,
                                  big, notfound, http10) and print the
                                  answer's status line ("closed" if none)
  promscrape.py idle HOST PORT N SECONDS  hold N connections that send
                                  nothing; prints "open N" when all are
                                  connected, then sleeps and closes them
"""
import re
import socket
import sys
import time
import urllib.request

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:\\[\\"n]|[^"\\\n])*"'
SAMPLE = re.compile(r"^(%s)(\{%s(?:,%s)*\})? (-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)$"
                    % (NAME, LABEL, LABEL))
HELP = re.compile(r"^# HELP (%s) (.*)$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)


def check(text):
    """The samples of a text in format 0.0.4, or raise ValueError(why)."""
    if not text.endswith("\n"):
        raise ValueError("the text does not end with a newline")
    helps, types, seen, out = {}, {}, set(), []
    for n, line in enumerate(text.split("\n")[:-1], 1):
        m = HELP.match(line)
        if m:
            if m.group(1) in helps:
                raise ValueError("line %d: HELP %s twice" % (n, m.group(1)))
            helps[m.group(1)] = m.group(2)
            continue
        m = TYPE.match(line)
        if m:
            if m.group(1) in types:
                raise ValueError("line %d: TYPE %s twice" % (n, m.group(1)))
            if m.group(2) == "counter" and not m.group(1).endswith("_total"):
                raise ValueError("line %d: counter %s without _total" % (n, m.group(1)))
            types[m.group(1)] = m.group(2)
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("line %d does not parse: %r" % (n, line))
        name, series = m.group(1), m.group(1) + (m.group(2) or "")
        if name not in helps or name not in types:
            raise ValueError("line %d: %s without HELP and TYPE before it" % (n, name))
        if series in seen:
            raise ValueError("line %d: %s twice" % (n, series))
        seen.add(series)
        out.append("%s %s" % (series, m.group(3)))
    if not out:
        raise ValueError("no samples")
    return out


def scrape(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        ctype = r.headers.get("Content-Type", "")
        body = r.read().decode("utf-8")
        if r.status != 200:
            raise ValueError("status %d" % r.status)
    if not ctype.startswith("text/plain; version=0.0.4"):
        raise ValueError("Content-Type %r" % ctype)
    return check(body)


REQUESTS = {
    "post": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
    "big": b"GET /metrics HTTP/1.1\r\n" + b"X-Filler: " + b"a" * 70 + b"\r\n" * 1 + b"X-More: b\r\n" * 3000,
    "notfound": b"GET /secret HTTP/1.1\r\nHost: x\r\n\r\n",
    "http10": b"GET /metrics HTTP/1.0\r\n\r\n",
}


def raw(host, port, kind):
    s = socket.create_connection((host, int(port)), timeout=10)
    try:
        s.sendall(REQUESTS[kind])
    except OSError:
        pass  # the server may answer and close before a big request is all sent
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    print(data.split(b"\r\n", 1)[0].decode("latin-1") if b"\r\n" in data else "closed")


def idle(host, port, n, seconds):
    socks = [socket.create_connection((host, int(port)), timeout=10) for _ in range(int(n))]
    print("open %d" % len(socks), flush=True)
    time.sleep(float(seconds))
    for s in socks:
        s.close()


def main():
    try:
        if sys.argv[1] == "scrape":
            print("\n".join(scrape(sys.argv[2])))
        elif sys.argv[1] == "raw":
            raw(*sys.argv[2:5])
        elif sys.argv[1] == "idle":
            idle(*sys.argv[2:6])
        else:
            raise ValueError("unknown command %s" % sys.argv[1])
    except (ValueError, OSError, IndexError) as e:
        print("promscrape: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
