#!/usr/bin/python3
"""Frames a hostile container could send, and a counter of what arrives (test code only).

Runs inside a network namespace (ip netns exec / nsenter) as root, which there plays a
container with Docker's default CAP_NET_RAW: an AF_PACKET socket sends any frame.

  frames.py ra IFACE PREFIX           a router advertisement: default router, PREFIX/64 for
                                      SLAAC (CVE-2020-13401); to ff02::1
  frames.py ether IFACE DSTMAC TYPE   one frame of ethertype TYPE (hex) with a 64-byte payload
  frames.py count IFACE TYPE SECONDS  prints how many frames of ethertype TYPE arrived
  frames.py tcp6 ADDR%IFACE PORT      connects over IPv6 (link-local with its scope); prints
                                      "connected" or the error, exit 0 only when connected
  frames.py listen6 PORT LOG          accepts TCP on [::]:PORT and appends each peer to LOG
  frames.py stream ADDR PORT SECONDS  sends a numbered line every 50 ms for SECONDS
  frames.py sink ADDR PORT LOG        accepts one TCP peer on ADDR:PORT at a time and writes
                                      the number of bytes received so far to LOG (ADDR of
                                      either family)
  frames.py syn6 IFACE DSTMAC SRC DST PORT
                                      one IPv6 TCP SYN from SRC (any address: spoofed) to
                                      DST:PORT, in an Ethernet frame to DSTMAC
"""
import fcntl
import os
import socket
import struct
import sys
import time


def mac_of(iface):
    # SIOCGIFHWADDR asks the namespace the process is in; /sys/class/net would show the
    # namespace sysfs was mounted in (the host's, under nsenter --net).
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifr = fcntl.ioctl(s.fileno(), 0x8927, struct.pack("256s", iface.encode()[:15]))
    finally:
        s.close()
    return ifr[18:24]


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def link_local(mac):
    eui = bytearray(mac[:3] + b"\xff\xfe" + mac[3:])
    eui[0] ^= 2
    return b"\xfe\x80" + b"\0" * 6 + bytes(eui)


def ra(iface, prefix):
    src_mac = mac_of(iface)
    src = link_local(src_mac)
    dst = socket.inet_pton(socket.AF_INET6, "ff02::1")
    pfx = socket.inet_pton(socket.AF_INET6, prefix)
    body = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
    body += struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + pfx
    body += struct.pack("!BB", 1, 1) + src_mac
    pseudo = src + dst + struct.pack("!I3xB", len(body), 58)
    body = body[:2] + struct.pack("!H", checksum(pseudo + body)) + body[4:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(body), 58, 255) + src + dst
    eth = b"\x33\x33\x00\x00\x00\x01" + src_mac + b"\x86\xdd"
    send(iface, eth + ip6 + body)


def send(iface, frame):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(frame)
    s.close()


def ether(iface, dst, etype):
    frame = bytes.fromhex(dst.replace(":", "")) + mac_of(iface) + struct.pack("!H", int(etype, 16))
    send(iface, frame + b"tiernet-hostile".ljust(64, b"."))


def count(iface, etype, seconds):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(int(etype, 16)))
    s.bind((iface, 0))
    s.settimeout(0.2)
    n, end = 0, time.time() + float(seconds)
    while time.time() < end:
        try:
            data, addr = s.recvfrom(2048)
        except socket.timeout:
            continue
        if addr[2] != socket.PACKET_OUTGOING:
            n += 1
    print(n)


def tcp6(target, port):
    addr, _, scope = target.partition("%")
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((addr, int(port), 0, socket.if_nametoindex(scope) if scope else 0))
    except OSError as e:
        print(e)
        sys.exit(1)
    print("connected")


def listen6(port, log):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", int(port)))
    s.listen(16)
    while True:
        c, peer = s.accept()
        with open(log, "a") as f:
            f.write(f"{peer[0]}\n")
        c.close()


def stream(addr, port, seconds):
    s = socket.create_connection((addr, int(port)), timeout=2)
    end, i, last = time.time() + float(seconds), 0, None
    while time.time() < end:
        try:
            s.sendall(f"{i}\n".encode())
        except OSError as e:
            # Said once per kind, so that a test whose stream stopped shows why.
            if str(e) != last:
                last = str(e)
                print(f"stream to {addr}:{port} after {i} lines: {e}", file=sys.stderr)
            time.sleep(0.05)
            continue
        i += 1
        time.sleep(0.05)


def syn6(iface, dst_mac, src, dst, port):
    src6 = socket.inet_pton(socket.AF_INET6, src)
    dst6 = socket.inet_pton(socket.AF_INET6, dst)
    tcp = struct.pack("!HHIIBBHHH", 40000, int(port), 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = src6 + dst6 + struct.pack("!I3xB", len(tcp), 6)
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src6 + dst6
    eth = bytes.fromhex(dst_mac.replace(":", "")) + mac_of(iface) + b"\x86\xdd"
    send(iface, eth + ip6 + tcp)


def sink(addr, port, log):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(4)
    total = 0
    while True:
        c, _ = s.accept()
        while True:
            data = c.recv(4096)
            if not data:
                break
            total += len(data)
            # Whole or not at all: a reader between a truncate and the write saw "" once
            # and took it for a stream that had stopped.
            with open(log + ".tmp", "w") as f:
                f.write(f"{total}\n")
            os.replace(log + ".tmp", log)
        c.close()


if __name__ == "__main__":
    cmds = {"ra": ra, "ether": ether, "count": count, "tcp6": tcp6, "listen6": listen6,
            "stream": stream, "sink": sink, "syn6": syn6}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmds[sys.argv[1]](*sys.argv[2:])
