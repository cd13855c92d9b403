#!/usr/bin/env python3
"""One DNS query over UDP, for tests of names across tiers.

usage: dnsq.py NAME SERVER [A|AAAA] [TIMEOUT_S]
Prints "RCODE [ADDRESS...] MS" (MS: milliseconds until the answer), or "TIMEOUT MS".
       dnsq.py NAME SERVER A|AAAA --until "RCODE [ADDRESS...]" SINCE_NS SECONDS
Asks until the answer is that; prints the ms from SINCE_NS (see until()), or "timeout".
"""
import random
import socket
import struct
import sys
import time

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def query(name, qtype):
    qid = random.randint(0, 65535)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return qid, q + b"\0" + struct.pack(">HH", qtype, 1)


def skip_name(m, i):
    while True:
        n = m[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += n + 1


def parse(m, qid):
    rid, flags, qd, an = struct.unpack(">HHHH", m[:8])
    if rid != qid:
        return None
    i = 12
    for _ in range(qd):
        i = skip_name(m, i) + 4
    addrs = []
    for _ in range(an):
        i = skip_name(m, i)
        t, _c, _ttl, ln = struct.unpack(">HHIH", m[i:i + 10])
        i += 10
        if t == 1:
            addrs.append(socket.inet_ntop(socket.AF_INET, m[i:i + 4]))
        elif t == 28:
            addrs.append(socket.inet_ntop(socket.AF_INET6, m[i:i + 16]))
        i += ln
    return RCODES.get(flags & 15, str(flags & 15)), addrs


def ask(name, server, qtype, timeout):
    """One query: ("RCODE ADDRESS...", ms), or ("TIMEOUT", ms)."""
    qid, q = query(name, qtype)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    t0 = time.monotonic()
    try:
        s.sendto(q, (server, 53))
        while True:
            m, _ = s.recvfrom(65535)
            r = parse(m, qid)
            if r:
                break
    except (socket.timeout, ConnectionRefusedError):
        return "TIMEOUT", (time.monotonic() - t0) * 1000
    finally:
        s.close()
    return " ".join([r[0]] + r[1]), (time.monotonic() - t0) * 1000


def until(name, server, qtype, want, since_ns, within):
    """Asks every 20 ms until the answer is want; prints the ms from since_ns (CLOCK_REALTIME,
    as `date +%s%N`) to the sending of the first query answered so, or "timeout": no process
    start-up in the loop, so the figure is the change's delay plus at most one interval."""
    while True:
        sent = time.time_ns()
        got, _ = ask(name, server, qtype, 1.0)
        if got == want:
            print((sent - since_ns) // 1000000)
            return
        if (time.time_ns() - since_ns) / 1e9 > within:
            print("timeout")
            sys.exit(1)
        time.sleep(0.02)


def main():
    name, server = sys.argv[1], sys.argv[2]
    qtype = 28 if len(sys.argv) > 3 and sys.argv[3] == "AAAA" else 1
    if len(sys.argv) > 4 and sys.argv[4] == "--until":
        until(name, server, qtype, sys.argv[5], int(sys.argv[6]), float(sys.argv[7]))
        return
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 3.0
    got, ms = ask(name, server, qtype, timeout)
    print("%s %.1f" % (got, ms) if got != "TIMEOUT" else "TIMEOUT %d" % ms)


main()
