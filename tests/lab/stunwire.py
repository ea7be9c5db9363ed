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


# ---- signalling (docs/protocol.md 5): login and per-message integrity ----
REGISTER, AUTHENTICATE, LOOKUP, EXCHANGE, SCHEDULE, RELAY = 0x0B0, 0x0B1, 0x0B2, 0x0B3, 0x0B4, 0x0B5
PEER_ID, CREDENTIAL, DATA, NONCE = 0x5A10, 0x5A11, 0x5A17, 0x0015
SEQ, MI_SHA256, FINGERPRINT = 0x5A40, 0x001C, 0x8028


def session_keys(secret, pid, nonce):
    """(c2s, s2c): HMAC-SHA256(secret, "stunt-session-v1" 0 id 0 nonce 0 dir)."""
    import hashlib
    import hmac
    base = b"stunt-session-v1\0" + pid + b"\0" + nonce + b"\0"
    return tuple(hmac.new(secret, base + d, hashlib.sha256).digest() for d in (b"c2s", b"s2c"))


def seal(m, key, seq):
    """Append SIG-SEQ and MESSAGE-INTEGRITY-SHA256 to a whole message
    without FINGERPRINT (proto/sig_sec.h)."""
    import hashlib
    import hmac
    body = m[20:] + attr(SEQ, struct.pack("!Q", seq))
    hdr = m[:2] + struct.pack("!H", len(body) + 36) + m[4:20]
    mac = hmac.new(key, hdr + body, hashlib.sha256).digest()
    return hdr + body + attr(MI_SHA256, mac)


def unseal(m, key):
    """(seq, ok) of a sealed message: ok when its HMAC verifies with key."""
    import hashlib
    import hmac
    off, seq = 20, None
    while off + 4 <= len(m):
        t, n = struct.unpack("!HH", m[off:off + 4])
        if t == SEQ and n == 8:
            seq = struct.unpack("!Q", m[off + 4:off + 12])[0]
        if t == MI_SHA256:
            hdr = m[:2] + struct.pack("!H", off + 4 + n - 20) + m[4:20]
            want = hmac.new(key, hdr + m[20:off], hashlib.sha256).digest()
            return seq, n == 32 and hmac.compare_digest(want, m[off + 4:off + 36])
        off += 4 + ((n + 3) & ~3)
    return seq, False


class SigConn(Conn):
    """A signalling client: login() as stuntd does (REGISTER, AUTHENTICATE
    with the HMAC credential), then sreq() seals each request with the
    session key and a fresh SIG-SEQ; srecv() returns (type, class, attrs,
    raw, verified). last_sent holds the bytes of the last request sent."""

    def __init__(self, ip, port=3478, timeout=4):
        super().__init__(ip, port, timeout=timeout)
        self.keys, self.seq, self.last_sent = None, 0, b""

    def code(self, a):
        return error_code(a)

    def recv_raw(self):
        while len(self.buf) < 20 or len(self.buf) < 20 + struct.unpack("!H", self.buf[2:4])[0]:
            d = self.s.recv(4096)
            if not d:
                return None
            self.buf += d
        n = 20 + struct.unpack("!H", self.buf[2:4])[0]
        m, self.buf = self.buf[:n], self.buf[n:]
        return m

    def srecv(self):
        m = self.recv_raw()
        if m is None:
            return None, None, {}, b"", False
        t = struct.unpack("!H", m[:2])[0]
        verified = bool(self.keys) and unseal(m, self.keys[1])[1]
        return t, (t >> 4 & 1) | (t >> 7 & 2), attrs_of(m), m, verified

    def login(self, pid, secret):
        """200, or the error code."""
        import hashlib
        import hmac
        t, c, a = self.req(REGISTER, [(PEER_ID, pid)])
        if c != 2:
            return error_code(a)
        nonce = a[NONCE]
        cred = hmac.new(secret, b"stunt-auth-v1\0" + pid + b"\0" + nonce, hashlib.sha256).digest()
        keys = session_keys(secret, pid, nonce)
        self.s.sendall(msg(AUTHENTICATE, [(PEER_ID, pid), (NONCE, nonce), (CREDENTIAL, cred)]))
        m = self.recv_raw()
        if m is None:
            return 0
        a = attrs_of(m)
        t = struct.unpack("!H", m[:2])[0]
        if (t >> 4 & 1) | (t >> 7 & 2) != 2:
            return error_code(a)
        if not unseal(m, keys[1])[1]:
            return 1    # the server did not prove it knows the secret
        self.keys = keys
        return 200

    def send_raw(self, m):
        self.s.sendall(m)

    def sealed(self, method, attrs, cls=0):
        """The next sealed message (its number used up), not sent."""
        self.seq += 1
        return seal(msg(method, attrs, cls), self.keys[0], self.seq)

    def sreq(self, method, attrs, cls=0):
        """Send one sealed message; the answer with srecv()."""
        self.last_sent = self.sealed(method, attrs, cls)
        self.s.sendall(self.last_sent)
