#!/usr/bin/env python3
"""A tiny upstream DNS server for tests: NXDOMAIN for every name, except NAME=ADDRESS pairs
given on the command line (A records).

usage: dns_upstream.py ADDRESS [NAME=IPV4 ...]      (port 53)
"""
import socket
import struct
import sys

known = dict(a.split("=", 1) for a in sys.argv[2:])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
while True:
    m, peer = s.recvfrom(4096)
    if len(m) < 12:
        continue
    qid, flags = struct.unpack(">HH", m[:4])
    i, labels = 12, []
    while i < len(m) and m[i]:
        labels.append(m[i + 1:i + 1 + m[i]].decode(errors="replace"))
        i += m[i] + 1
    question = m[12:i + 5]
    qtype = struct.unpack(">H", m[i + 1:i + 3])[0] if i + 3 <= len(m) else 0
    name = ".".join(labels).lower()
    if name in known and qtype == 1:
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 5, 4) + socket.inet_aton(known[name])
        hdr = struct.pack(">HHHHHH", qid, 0x8180 | (flags & 0x0100), 1, 1, 0, 0)
        s.sendto(hdr + question + ans, peer)
    else:
        rcode = 0 if name in known else 3
        hdr = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, 0, 0, 0)
        s.sendto(hdr + question, peer)
