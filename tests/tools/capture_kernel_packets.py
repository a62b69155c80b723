#!/usr/bin/env python3
"""Capture real IPv4/TCP/ICMP packets from the Linux kernel as test fixtures.

RFC 791 (IPv4), RFC 9293 (TCP), RFC 7323 / RFC 2018 (options), RFC 792 (ICMP).

Usage (as root):
    tests/tools/capture_kernel_packets.py [OUT.txt]      # default tests/data/kernel_packets.txt
    tests/tools/capture_kernel_packets.py --corpus DIR [FIXTURES.txt]
                                                         # fuzz seeds from the fixtures

How it works: a throwaway network namespace `twcap` is made, and inside it a
TUN device `twcap0` (IFF_TUN | IFF_NO_PI) with address 10.77.0.1/24. The
kernel's side lives at 10.77.0.1; this script plays the peer 10.77.0.2 by
reading and writing raw IPv4 datagrams on the TUN file descriptor. The
namespace has no other interface than lo and twcap0, so nothing can leave it,
and it is deleted afterwards whatever happens (the TUN device is not
persistent and goes with it).
"""
import errno
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import time

NS = "twcap"
DEV = "twcap0"
KERNEL = "10.77.0.1"
PEER = "10.77.0.2"

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(data: bytes) -> int:
    """RFC 1071 checksum, inverted, ready to store."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_header(src: str, dst: str, proto: int, payload_len: int, ident: int = 0x1234) -> bytes:
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident, 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]


def tcp_segment(src, dst, sport, dport, seq, ack, flags, wnd=64240, opts=b"", payload=b""):
    assert len(opts) % 4 == 0
    doff = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, doff << 4,
                      flags, wnd, 0, 0) + opts
    seg = hdr + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    return ip_header(src, dst, 6, len(seg)) + seg


def icmp_message(src, dst, typ, code, rest, data):
    msg = struct.pack("!BBHI", typ, code, 0, rest) + data
    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    return ip_header(src, dst, 1, len(msg)) + msg


def opt_mss(v):
    return struct.pack("!BBH", 2, 4, v)


def opt_ts(val, ecr):
    return struct.pack("!BBII", 8, 10, val, ecr)


SYN_OPTS = opt_mss(1460) + b"\x04\x02" + opt_ts(1000, 0) + b"\x01\x03\x03\x07"


def ts_only(val, ecr):
    return b"\x01\x01" + opt_ts(val, ecr)


class Tun:
    def __init__(self, name):
        self.fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(self.fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))

    def write(self, pkt):
        os.write(self.fd, pkt)

    def read_match(self, pred, what, timeout=3.0):
        """Returns the first IPv4 datagram that satisfies pred; others are skipped."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %s from the kernel" % what)
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            pkt = os.read(self.fd, 65535)
            if len(pkt) >= 20 and pkt[0] >> 4 == 4 and pred(pkt):
                return pkt


def tcp_fields(pkt):
    ihl = (pkt[0] & 15) * 4
    sport, dport, seq, ack, _, flags = struct.unpack("!HHIIBB", pkt[ihl:ihl + 14])
    doff = (pkt[ihl + 12] >> 4) * 4
    return sport, dport, seq, ack, flags, pkt[ihl + doff:]


def is_tcp(sport=None, dport=None, flags=None, with_payload=False):
    def pred(pkt):
        if pkt[9] != 6:
            return False
        s, d, _, _, f, payload = tcp_fields(pkt)
        return ((sport is None or s == sport) and (dport is None or d == dport) and
                (flags is None or f == flags) and (not with_payload or len(payload) > 0))
    return pred


def is_icmp(typ):
    return lambda pkt: pkt[9] == 1 and pkt[(pkt[0] & 15) * 4] == typ


def tsval_of(pkt):
    """The kernel's TSval, to echo in our TSecr."""
    ihl = (pkt[0] & 15) * 4
    doff = (pkt[ihl + 12] >> 4) * 4
    opts = pkt[ihl + 20:ihl + doff]
    i = 0
    while i < len(opts):
        if opts[i] == 0:
            break
        if opts[i] == 1:
            i += 1
            continue
        if opts[i] == 8:
            return struct.unpack("!I", opts[i + 2:i + 6])[0]
        i += opts[i + 1]
    return 0


def handshake(tun, sport, dport, iss):
    """Our SYN (every option) -> kernel SYN-ACK -> our ACK. Returns the SYN-ACK."""
    tun.write(tcp_segment(PEER, KERNEL, sport, dport, iss, 0, SYN, opts=SYN_OPTS))
    synack = tun.read_match(is_tcp(dport, sport, SYN | ACK), "SYN-ACK")
    kseq = tcp_fields(synack)[2]
    tun.write(tcp_segment(PEER, KERNEL, sport, dport, iss + 1, kseq + 1, ACK,
                          opts=ts_only(1001, tsval_of(synack))))
    return synack


def capture_inside(out_path):
    def sh(*args):
        subprocess.run(args, check=True)

    # No IPv6 in the namespace: only the packets we provoke appear on twcap0.
    for conf in ("all", "default"):
        with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % conf, "w") as f:
            f.write("1")
    tun = Tun(DEV)
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "addr", "add", KERNEL + "/24", "dev", DEV)
    sh("ip", "link", "set", DEV, "up")

    fixtures = []

    # 1. The kernel's SYN: connect() to a peer that never answers.
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    c.connect_ex((PEER, 5555))
    fixtures.append(("kernel-syn", "connect() to 10.77.0.2:5555: SYN with MSS,SACK_PERM,TS,WS",
                     tun.read_match(is_tcp(dport=5555, flags=SYN), "SYN")))
    c.close()

    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((KERNEL, 7777))
    lst.listen(8)

    # 2. SYN-ACK to our SYN; handshake done; kernel sends data; kernel close() -> FIN-ACK.
    iss = 0xFFFFFF00  # just below 2^32, so the sequence space wraps
    synack = handshake(tun, 40001, 7777, iss)
    fixtures.append(("kernel-synack", "listener on :7777 answering a SYN with every option",
                     synack))
    conn, _ = lst.accept()
    conn.sendall(b"hello from the kernel\n")
    data = tun.read_match(is_tcp(7777, 40001, with_payload=True), "data segment")
    fixtures.append(("kernel-data", "22 bytes of data on an established connection (NOP,NOP,TS)",
                     data))
    _, _, dseq, _, _, dpayload = tcp_fields(data)
    tun.write(tcp_segment(PEER, KERNEL, 40001, 7777, iss + 1, dseq + len(dpayload), ACK,
                          opts=ts_only(1002, tsval_of(data))))
    conn.close()
    fixtures.append(("kernel-finack", "close() after the data was ACKed",
                     tun.read_match(is_tcp(7777, 40001, FIN | ACK), "FIN-ACK")))

    # 3. Out-of-order data on a second connection -> duplicate ACK with a SACK block.
    iss2 = 0x7FFFFFF0
    synack2 = handshake(tun, 40002, 7777, iss2)
    kseq2 = tcp_fields(synack2)[2]
    conn2, _ = lst.accept()
    tun.write(tcp_segment(PEER, KERNEL, 40002, 7777, iss2 + 1 + 100, kseq2 + 1, ACK | PSH,
                          opts=ts_only(1002, tsval_of(synack2)), payload=b"0123456789"))
    fixtures.append(("kernel-ack-sack", "duplicate ACK for a hole of 100 bytes (NOP,NOP,TS,NOP,NOP,SACK)",
                     tun.read_match(is_tcp(7777, 40002, ACK), "SACK")))
    tun.write(tcp_segment(PEER, KERNEL, 40002, 7777, iss2 + 1, 0, RST))
    conn2.close()

    # 4. SYN to a closed port -> RST-ACK (RFC 9293 §3.10.7.1, ACK bit off).
    tun.write(tcp_segment(PEER, KERNEL, 40003, 9, 0x12345678, 0, SYN, opts=SYN_OPTS))
    fixtures.append(("kernel-rstack", "SYN to closed port 9",
                     tun.read_match(is_tcp(9, 40003, RST | ACK), "RST-ACK")))

    # 5. ACK to a closed port -> RST with seq = SEG.ACK (RFC 9293 §3.10.7.1, ACK bit on).
    tun.write(tcp_segment(PEER, KERNEL, 40004, 9, 0x1000, 0xCAFEF00D, ACK))
    fixtures.append(("kernel-rst", "ACK to closed port 9 (seq = its ack 0xcafef00d)",
                     tun.read_match(is_tcp(9, 40004, RST), "RST")))

    # 6. ICMP: echo reply, and port unreachable for UDP to a closed port.
    tun.write(icmp_message(PEER, KERNEL, 8, 0, (0x7777 << 16) | 1, b"tcpwave ping data!!"))
    fixtures.append(("kernel-icmp-echo-reply", "answer to an echo request id 0x7777 seq 1 (odd length)",
                     tun.read_match(is_icmp(0), "echo reply")))
    udp = struct.pack("!HHHH", 40005, 9, 8 + 4, 0) + b"ping"
    tun.write(ip_header(PEER, KERNEL, 17, len(udp)) + udp)
    fixtures.append(("kernel-icmp-port-unreach", "UDP to closed port 9: type 3 code 3",
                     tun.read_match(is_icmp(3), "port unreachable")))

    lst.close()
    with open(out_path, "w") as f:
        f.write("# Real packets sent by the Linux kernel %s, captured from a TUN device by\n"
                "# tests/tools/capture_kernel_packets.py on %s. See README.md.\n"
                "# Format: a comment line whose first word names the packet, then the\n"
                "# IPv4 datagram as one line of hex.\n"
                % (os.uname().release, time.strftime("%Y-%m-%d")))
        for name, desc, pkt in fixtures:
            f.write("\n# %s: %s\n%s\n" % (name, desc, pkt.hex()))
    print("wrote %d packets to %s" % (len(fixtures), out_path))


def read_fixtures(path):
    out, name = [], None
    for line in open(path):
        line = line.strip()
        if line.startswith("#"):
            name = line[1:].split(":")[0].split()[0] if line[1:].strip() else None
        elif line:
            out.append((name, bytes.fromhex(line)))
            name = None
    return out


def write_corpus(corpus_dir, fixture_path):
    """Fuzz seeds: every kernel packet, plus option-rich segments built here."""
    os.makedirs(corpus_dir, exist_ok=True)
    seeds = list(read_fixtures(fixture_path))
    sack = lambda n: b"\x01\x01" + struct.pack("!BB", 5, 2 + 8 * n) + b"".join(
        struct.pack("!II", 1000 + 100 * i, 1050 + 100 * i) for i in range(n))
    seeds.append(("crafted-ts-sack3", tcp_segment(PEER, KERNEL, 1, 2, 5, 6, ACK,
                                                  opts=ts_only(7, 8) + sack(3), payload=b"x" * 33)))
    seeds.append(("crafted-sack4", tcp_segment(PEER, KERNEL, 1, 2, 5, 6, ACK, opts=sack(4))))
    seeds.append(("crafted-unknown-opts", tcp_segment(
        PEER, KERNEL, 1, 2, 5, 6, SYN, opts=opt_mss(536) + b"\x1e\x06abcd\x01\x00")))
    ipopt = b"\x01\x07\x07\x04\x00\x00\x00\x00\x00"  # NOP, record route (1 slot)... padded
    ipopt = (ipopt + b"\0" * 4)[:12]
    seg = tcp_segment(PEER, KERNEL, 1, 2, 5, 6, ACK)[20:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x48, 0, 32 + len(seg), 1, 0, 64, 6, 0,
                      socket.inet_aton(PEER), socket.inet_aton(KERNEL)) + ipopt
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    seeds.append(("crafted-ip-options", hdr + seg))
    for name, pkt in seeds:
        with open(os.path.join(corpus_dir, name + ".bin"), "wb") as f:
            f.write(pkt)
    print("wrote %d seeds to %s" % (len(seeds), corpus_dir))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "data", "kernel_packets.txt")
    args = sys.argv[1:]
    if args[:1] == ["--corpus"]:
        write_corpus(args[1], args[2] if len(args) > 2 else default_out)
        return 0
    if args[:1] == ["--inside"]:
        capture_inside(args[1])
        return 0
    if os.geteuid() != 0:
        print("needs root (network namespace + /dev/net/tun)", file=sys.stderr)
        return 77
    out = os.path.abspath(args[0] if args else default_out)
    # A namespace left by an interrupted earlier run is ours by name: remove it.
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        return subprocess.run(["ip", "netns", "exec", NS, sys.executable,
                               os.path.abspath(__file__), "--inside", out]).returncode
    finally:
        subprocess.run(["ip", "netns", "del", NS], check=True)


if __name__ == "__main__":
    sys.exit(main())
