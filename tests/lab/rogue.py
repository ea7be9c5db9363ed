#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The wrong host of the lab tests (issue 16): a machine that happens to
have a peer's private address on another LAN, and accepts every connection
to it (the caller redirects every TCP port of that address to PORT with an
nft redirect rule in the machine's namespace).

rogue.py ADDR PORT LOG MODEFILE: listens on ADDR:PORT; per connection it
answers what MODEFILE names (read at each connection) -- "proof": "STNH"
and 16 zero bytes (a wrong proof), then a 'K'; "garbage": 64 bytes that are
no hello, 'K's among them; "silent": nothing -- reads until EOF (or 3 s
without a byte), and appends one line to LOG: "conn MODE N HEX", N the
bytes it got, HEX the first 12 of them (the session header's fixed part).
"""
import socket
import sys
import threading


def serve(c, log, modefile):
    c.settimeout(3)
    got = b""
    with open(modefile) as f:
        mode = f.read().strip()
    try:
        if mode == "proof":
            c.sendall(b"STNH" + bytes(16) + b"K")
        elif mode == "garbage":
            c.sendall(b"XK" * 32)
        while True:
            b = c.recv(4096)
            if not b:
                break
            got += b
    except OSError:
        pass
    with open(log, "a") as f:
        f.write("conn %s %d %s\n" % (mode, len(got), got[:12].hex()))
    c.close()


def main():
    addr, port, log, modefile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(16)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c, log, modefile), daemon=True).start()


if __name__ == "__main__":
    main()
