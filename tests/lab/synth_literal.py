# SPDX-License-Identifier: MIT
"""The literal SYN-ACK synthesis on one host, for t_stuntd_stunt1.sh: connect
from LPORT with TTL 2 to RIP:RPORT, read our SYN off the wire, hand our own
kernel a SYN-ACK "from" RIP:RPORT, print what follows. argv: LPORT RIP RPORT."""
import socket, struct, sys, time, select, os
lport, rip, rport = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ETH_P_IP = 0x0800
sn = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
sn.settimeout(3)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('10.1.0.10', lport)); s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 2)
s.setblocking(False)
try: s.connect((rip, rport))
except BlockingIOError: pass
def parse(p):
    ihl = (p[0] & 15) * 4
    if p[9] != 6: return None
    src, dst = socket.inet_ntoa(p[12:16]), socket.inet_ntoa(p[16:20])
    sp, dp, seq, ack = struct.unpack('!HHII', p[ihl:ihl+12])
    off = (p[ihl+12] >> 4) * 4; fl = p[ihl+13]
    opts = p[ihl+20:ihl+off]; ts = None; i = 0
    while i < len(opts):
        k = opts[i]
        if k == 0: break
        if k == 1: i += 1; continue
        l = opts[i+1]
        if k == 8: ts = struct.unpack('!II', opts[i+2:i+10])
        i += l
    return src, sp, dst, dp, seq, ack, fl, ts, p[8]
isn = None
t0 = time.time()
while isn is None and time.time() - t0 < 2:
    p, a = sn.recvfrom(2000); r = parse(p) if a[1] == 0x800 else None
    if r and r[1] == lport and r[6] & 2: isn, ts = r[4], r[7]; print('SYN seq', isn, 'ts', ts, 'ttl', r[8])
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
srcip = socket.inet_aton(rip); dstip = socket.inet_aton('10.1.0.10')
opts = struct.pack('!BBH', 2, 4, 1460) + bytes([4, 2]) + struct.pack('!BBII', 8, 10, 777, ts[0]) + bytes([1, 3, 3, 7])
tcp = struct.pack('!HHIIBBHHH', rport, lport, 5000000, isn + 1, (5 + len(opts)//4) << 4, 0x12, 64240, 0, 0) + opts
ph = srcip + dstip + struct.pack('!BBH', 0, 6, len(tcp))
c = csum(ph + tcp); tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, srcip, dstip)
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
time.sleep(0.1)
raw.sendto(ip + tcp, ('10.1.0.10', 0)); print('injected SYN-ACK')
time.sleep(0.3)
print('SO_ERROR', s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
t1 = time.time()
while time.time() - t1 < 1.5:
    rr, _, _ = select.select([sn], [], [], 0.2)
    if rr:
        p, a = sn.recvfrom(2000); r = parse(p) if a[1] == 0x800 else None
        if r and (r[1] == lport or r[3] == lport): print('pkt', r)
try: s.send(b'hello'); print('sent data')
except Exception as x: print('send', x)
