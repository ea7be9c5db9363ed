# SPDX-License-Identifier: MIT
"""STUN framing by hand for lab tests (independent of stunt's C codecs):
message and attribute building, attribute parsing, XOR addresses, and a TCP
connection that frames messages by the STUN length field. Lab test scripts
import it with PYTHONPATH=tests/lab."""
import os
import socket
import struct

COOKIE = 0x2112A442
ERROR_CODE = 0x0009


def ok(cond, name):
    print(("ok - " if cond else "not ok - ") + name, flush=True)


def mtype(method, cls):
    """RFC 8489 message type from a 12-bit method and a 2-bit class."""
    return (method & 0xF) | (method & 0x70) << 1 | (method & 0xF80) << 2 | (cls & 1) << 4 | (cls & 2) << 7


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def msg(method, attrs, cls=0):
    body = b"".join(attr(t, v) for t, v in attrs)
    return struct.pack("!HHI", mtype(method, cls), len(body), COOKIE) + os.urandom(12) + body


def attrs_of(m):
    """First value of each attribute type of a whole message."""
    out, off = {}, 20
    while off + 4 <= len(m):
        t, n = struct.unpack("!HH", m[off:off + 4])
        out.setdefault(t, m[off + 4:off + 4 + n])
        off += 4 + ((n + 3) & ~3)
    return out


def xor_addr(v):
    port = struct.unpack("!H", v[2:4])[0] ^ (COOKIE >> 16)
    ip = struct.unpack("!I", v[4:8])[0] ^ COOKIE
    return socket.inet_ntoa(struct.pack("!I", ip)), port


def plain_addr(v):
    return socket.inet_ntoa(v[4:8]), struct.unpack("!H", v[2:4])[0]


def addr_attr(ip, port):
    return struct.pack("!BBH", 0, 1, port) + socket.inet_aton(ip)


def error_code(a):
    e = a.get(ERROR_CODE)
    return e[2] * 100 + e[3] if e else 0


class Conn:
    """A STUN-over-TCP connection: req() sends one message, recv() returns
    (type, class, attributes) of the next one, or (None, None, {}) at EOF."""

    def __init__(self, ip, port=3478, s=None, timeout=4):
        self.s = s or socket.create_connection((ip, port), 3)
        self.s.settimeout(timeout)
        self.buf = b""

    def recv(self):
        while len(self.buf) < 20 or len(self.buf) < 20 + struct.unpack("!H", self.buf[2:4])[0]:
            d = self.s.recv(4096)
            if not d:
                return None, None, {}
            self.buf += d
        n = 20 + struct.unpack("!H", self.buf[2:4])[0]
        m, self.buf = self.buf[:n], self.buf[n:]
        t = struct.unpack("!H", m[:2])[0]
        return t, (t >> 4 & 1) | (t >> 7 & 2), attrs_of(m)

    def req(self, method, attrs):
        self.s.sendall(msg(method, attrs))
        return self.recv()
