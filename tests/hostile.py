#!/usr/bin/python3
"""Malformed and hostile Ethernet, ARP, IPv4, TCP, UDP and ICMP frames for
an echo guest (TCP and UDP echo on port 7), for tests/test_hostile.py, or
with --http for httpd (port 80), for tests/httpd_battery.py.  With --ipv6
(GUEST_IP an IPv6 address), the IPv6 battery of tests/hostile6.py
instead; --slaac first advertises GUEST_IP's /64 for a guest booted with
ip6=slaac.

  hostile.py IFACE GUEST_IP [--seed N] [--fuzz N] [--timeout S] [--only WORD]
             [--http] [--patience X] [--ipv6 [--slaac]]

--fuzz N sets how many fuzzed packets the two fuzz cases send (3000 and
two thirds of that by default), for longer runs by hand.  --busy: other
clients keep the guest at its connection limit, where httpd makes room
for newcomers by resetting idle connections (ours among them) and lwIP
may have no room for our SYN: a case whose connection is cut that way
ends there and is counted, and the run goes on (the guest must still
answer every ping).  A run without --busy, on a quiet guest, has every
check.  --http aims the
TCP and UDP cases at port 80, and where a case checks an answer, it asks
an HTTP question (a GET for a missing page, whose 404 keeps the
connection) instead of expecting an echo.  --patience X multiplies every
wait for the guest's answers, for a guest that other clients keep busy
at the same time (the httpd battery); a SYN unanswered is sent again, as
a real TCP would.

Safety: the test runs this inside the network namespace it made
(`ip netns exec NS /usr/bin/python3 tests/hostile.py tap10 10.0.5.3`),
where the tap leads only to the guest, and every frame goes out on that
tap as a raw Ethernet frame (a packet socket, as scapy's sendp() uses):
nothing here can reach another network.  The frames come from a peer that
exists only in this script (PEER_IP with the locally administered
PEER_MAC, which the namespace's kernel ignores), so the guest's answers
stay on the tap, and the SYN flood's sources are other addresses of the
tap's /24 that nobody owns, whose SYN-ACKs wait for ARP replies that never
come.  Needs root (the packet socket) and scapy (Debian's python3-scapy),
which builds the fuzzed packets from a fixed seed: every run sends the
same frames.

The battery is a list of named cases.  After each case, and every
SYNC_EVERY frames within a long one, the peer pings the guest and waits
for the answer: the guest has then dealt with every frame before it (they
are not just queued in the tap), and the first case after which it stops
answering is the one the failure names.  A few cases also check what the
guest answers, where a wrong answer would be a bug (out-of-window data
echoed, a connection lost to a forged reset, no room for a new connection
during the SYN flood).

Prints a line per case and exits 0 with a last line "ok: ...", or 1 with
"FAIL: ...", like tests/net_client.py.
"""

import argparse
import contextlib
import logging
import os
import random
import select
import socket
import struct
import sys
import time

# scapy warns about routes and interfaces it will not use here.
logging.getLogger('scapy').setLevel(logging.ERROR)
from scapy.all import ICMP, IP, TCP, UDP, Ether, fuzz  # noqa: E402

PEER_IP = '10.0.5.50'               # nobody's address but this script's
PEER_MAC = '02:00:00:00:05:32'      # locally administered, not the host's
PORT = 7                            # echo's; --http: httpd's 80
HTTP = False                        # --http: the guest is httpd
SLAAC = False                       # --slaac: the guest's IPv6 address is SLAAC's
PATIENCE = 1.0                      # --patience: waits are this many times longer
RESEND = 1.0                        # read(): no answer this long, send it again
SYNC_EVERY = 128                    # frames between two pings in a long case
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
BROADCAST = b'\xff' * 6

SYNC_ID = 0x4c50                    # the ICMP identifier of those pings
FIN, SYN, RST, PSH, ACK, URG = 1, 2, 4, 8, 16, 32


class Fail(Exception):
    pass


class Cut(Fail):
    """The guest would not have our connection, or dropped it: a reset, no
    SYN-ACK, a 503.  A failure, except with --busy (see main())."""


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(':'))


def csum(data):
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


# ---- frames, built by hand so that any field can be wrong ---------------------

class Net:
    """Addresses of the tap's link: the guest's and our peer's.  IPv6's
    Net6 (hostile6.py) builds on this: it has ip(), pseudo() and icmp() of
    its own and shares the rest."""

    v6 = False
    ETHERTYPE, TCP, UDP, ICMP = 0x0800, 6, 17, 1    # the IP's own numbers

    def __init__(self, guest_ip):
        self.guest_ip = socket.inet_aton(guest_ip)
        self.peer_ip = socket.inet_aton(PEER_IP)
        self.peer_mac = mac_bytes(PEER_MAC)
        self.guest_mac = None       # asked for by ARP at the start
        self.ident = 0

    def eth(self, payload, etype=None, dst=None, src=None):
        etype = self.ETHERTYPE if etype is None else etype
        return ((dst or self.guest_mac) + (src or self.peer_mac) + struct.pack('!H', etype)
                + payload)

    def ip(self, payload, proto, src=None, dst=None, ttl=64, ident=None, frag=0, options=b'',
           tot_len=None, ihl=None, version=4, chksum=None, tos=0):
        """An IPv4 packet; frag is the flags-and-offset field.  The header
        checksum is right unless chksum says otherwise."""
        if ident is None:
            self.ident = (self.ident + 1) & 0xffff
            ident = self.ident
        hlen = 20 + len(options)
        if ihl is None:
            ihl = (hlen + 3) // 4
        if tot_len is None:
            tot_len = hlen + len(payload)
        hdr = struct.pack('!BBHHHBBH4s4s', (version << 4) | (ihl & 0xf), tos, tot_len & 0xffff,
                          ident, frag, ttl, proto, 0, src or self.peer_ip,
                          dst or self.guest_ip) + options
        if chksum is None:
            chksum = csum(hdr[:max(20, min(len(hdr), ihl * 4))])
        return hdr[:10] + struct.pack('!H', chksum) + hdr[12:] + payload

    def pseudo(self, src, dst, proto, length):
        return (src or self.peer_ip) + (dst or self.guest_ip) + struct.pack('!BBH', 0, proto,
                                                                            length)

    def tcp(self, sport, dport, seq, ack, flags, window=65535, options=b'', data=b'', doff=None,
            urg=0, src=None, dst=None, chksum=None):
        if doff is None:
            doff = (20 + len(options) + 3) // 4
            options += b'\0' * (doff * 4 - 20 - len(options))
        seg = struct.pack('!HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                          (doff & 0xf) << 4, flags, window, 0, urg) + options + data
        if chksum is None:
            chksum = csum(self.pseudo(src, dst, self.TCP, len(seg)) + seg)
        return seg[:16] + struct.pack('!H', chksum) + seg[18:]

    def udp(self, sport, dport, data, length=None, src=None, dst=None, chksum=None):
        seg = struct.pack('!HHHH', sport, dport, (8 + len(data)) if length is None else length,
                          0) + data
        if chksum is None:
            chksum = csum(self.pseudo(src, dst, self.UDP, len(seg)) + seg) or 0xffff
        return seg[:6] + struct.pack('!H', chksum) + seg[8:]

    def icmp(self, itype, code, rest=b'\0\0\0\0', data=b'', chksum=None):
        msg = struct.pack('!BBH', itype, code, 0) + rest + data
        if chksum is None:
            chksum = csum(msg)
        return msg[:2] + struct.pack('!H', chksum) + msg[4:]

    # Whole frames from the peer to the guest (options= are TCP's).
    def tcp_frame(self, sport, dport, seq, ack, flags, **kw):
        return self.eth(self.ip(self.tcp(sport, dport, seq, ack, flags, **kw), self.TCP))

    def udp_frame(self, sport, dport, data, **kw):
        return self.eth(self.ip(self.udp(sport, dport, data, **kw), self.UDP))

    def icmp_frame(self, itype, code, **kw):
        return self.eth(self.ip(self.icmp(itype, code, **kw), self.ICMP))


def parse(f):
    """(ip header, protocol, source, destination, L4 bytes) of an IPv4
    frame, or of an IPv6 one (its fixed header and next header: the
    guest's own packets carry no extension header but a fragment's), or
    None."""
    if len(f) >= 54 and f[12:14] == b'\x86\xdd' and f[14] >> 4 == 6:
        return f[14:54], f[20], f[22:38], f[38:54], f[54:54 + struct.unpack('!H', f[18:20])[0]]
    if len(f) < 34 or f[12:14] != b'\x08\x00' or f[14] >> 4 != 4:
        return None
    ihl = (f[14] & 0xf) * 4
    end = 14 + struct.unpack('!H', f[16:18])[0]
    return f[14:14 + ihl], f[23], f[26:30], f[30:34], f[14 + ihl:end]


def parse_tcp(f):
    """(sport, dport, seq, ack, flags, window, data) of a TCP frame, or None."""
    p = parse(f)
    if p is None or p[1] != 6 or len(p[4]) < 20:
        return None
    seg = p[4]
    sport, dport, seq, ack, off, flags, window = struct.unpack('!HHIIBBH', seg[:16])
    return sport, dport, seq, ack, flags, window, seg[(off >> 4) * 4:]


def datagram(link, proto, first, wait=2.0):
    """The guest's next IPv4 datagram of proto to the peer whose first
    bytes first() accepts, reassembled from its fragments: its payload,
    or None."""
    n = link.net
    frags = Fragments()
    for f in link.frames(wait):
        p = parse(f)
        if p is None or p[1] != proto or p[2] != n.guest_ip or p[3] != n.peer_ip:
            continue
        ident, frag = struct.unpack('!HH', p[0][4:8])
        data = frags.add(ident, (frag & 0x1fff) * 8, bool(frag & 0x2000), p[4])
        if data is not None and first(data):
            return data
    return None


class Fragments:
    """The guest's fragments, IPv4's or IPv6's, put back together."""

    def __init__(self):
        self.parts = {}         # id: {offset: bytes}
        self.ends = {}          # id: the datagram's length, once its last fragment came

    def add(self, ident, offset, more, data):
        """Add a fragment; the whole datagram when this one completes it,
        else None."""
        got = self.parts.setdefault(ident, {})
        got[offset] = data
        if not more:
            self.ends[ident] = offset + len(data)
        if ident not in self.ends or 0 not in got:
            return None
        whole, off = b'', 0
        while off in got and off < self.ends[ident]:
            whole += got[off]
            off += len(got[off])
        return whole if off == self.ends[ident] else None


# ---- the tap ------------------------------------------------------------------

class Link:
    """A packet socket on the tap: frames out, the guest's frames in.  It
    answers the guest's ARP requests for PEER_IP as it reads (the SYN
    flood churns the guest's ARP table)."""

    def __init__(self, iface, net, deadline):
        self.net = net
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((iface, ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.deadline = deadline
        self.fuzz = 3000            # packets for the fuzz cases (--fuzz)
        self.sent = self.refused = 0
        self.ping_seq = 0
        self.since_sync = 0
        self.held = 0
        self.where = 'before the first case'
        self.limits = []            # (case, LIMITS key) seen: see hostile6.py

    def limit(self, key):
        """What a case checks is, as lwIP does it, one of hostile6.LIMITS:
        on record, not a failure."""
        self.limits.append((self.where, key))

    def send(self, frame):
        """One frame out.  The kernel refuses some (longer than the tap's
        MTU); that is counted, not an error."""
        try:
            self.sock.send(bytes(frame))
            self.sent += 1
        except OSError:
            self.refused += 1
        self.since_sync += 1
        if self.since_sync >= SYNC_EVERY and not self.held:
            self.sync()

    @contextlib.contextmanager
    def exchange(self):
        """No ping in between: a ping's wait would swallow the guest's
        answers to what is sent inside, before their own wait reads them."""
        self.held += 1
        try:
            yield
        finally:
            self.held -= 1

    def frames(self, wait):
        """The guest's frames for up to wait seconds (times PATIENCE)."""
        until = min(time.monotonic() + wait * PATIENCE, self.deadline)
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            if not select.select([self.sock], [], [], left)[0]:
                continue
            data, addr = self.sock.recvfrom(65536)
            if addr[2] == PACKET_OUTGOING or len(data) < 14:
                continue
            if self.net.v6:
                self.net.answer_ns(self.sock, data)
            else:
                self._answer_arp(data)
            yield data

    def expect(self, match, wait=2.0):
        """The first frame from the guest that match() accepts, or None."""
        for f in self.frames(wait):
            if match(f):
                return f
        return None

    def drain(self):
        while select.select([self.sock], [], [], 0)[0]:
            self.sock.recvfrom(65536)

    def _answer_arp(self, f):
        n = self.net
        if (f[12:14] == b'\x08\x06' and len(f) >= 42 and f[20:22] == b'\x00\x01'
                and f[38:42] == n.peer_ip and n.guest_mac is not None):
            self.sock.send(n.eth(b'\x00\x01\x08\x00\x06\x04\x00\x02' + n.peer_mac + n.peer_ip
                                 + f[22:28] + f[28:32], 0x0806, dst=f[6:12]))

    def resolve_guest(self):
        """Ask the guest's MAC as PEER_IP (which also tells the guest where
        PEER_IP is)."""
        n = self.net
        if n.v6:
            return n.resolve_guest(self)
        req = n.eth(b'\x00\x01\x08\x00\x06\x04\x00\x01' + n.peer_mac + n.peer_ip + b'\0' * 6
                    + n.guest_ip, 0x0806, dst=BROADCAST)
        for _ in range(5):
            self.sock.send(req)
            f = self.expect(lambda f: f[12:14] == b'\x08\x06' and f[20:22] == b'\x00\x02'
                            and f[28:32] == n.guest_ip, 1.0)
            if f:
                n.guest_mac = f[22:28]
                return
        raise Fail('the guest does not answer ARP for %s' % socket.inet_ntoa(n.guest_ip))

    def sync(self):
        """Ping the guest from PEER_IP and wait for its answer."""
        n = self.net
        self.since_sync = 0
        if n.v6:
            return n.sync(self)
        for attempt in range(4):
            self.ping_seq = (self.ping_seq + 1) & 0xffff
            rest = struct.pack('!HH', SYNC_ID, self.ping_seq)
            data = b'limpet-sync-%05d' % self.ping_seq

            def reply(f):
                p = parse(f)
                return (p is not None and p[1] == 1 and p[3] == n.peer_ip and p[4][:1] == b'\0'
                        and p[4][4:8] == rest and p[4][8:] == data)
            self.drain()
            self.sock.send(n.eth(n.ip(n.icmp(8, 0, rest, data), 1)))
            if self.expect(reply, 1.0 + attempt):
                return
            if time.monotonic() >= self.deadline:
                break
        raise Fail('the guest stopped answering ping %s' % self.where)


# ---- what the guest is asked, and what it must answer ---------------------------

def question(data):
    """What a case sends to ask the guest something: data itself, which
    echo sends back; with --http, a GET (for a page that does not exist,
    whose 404 keeps the connection open) as long as data where data is
    longer than such a request, padded with a header, so that a case
    keeps its shape."""
    if not HTTP:
        return data
    tag = bytes(b for b in data if chr(b).isalnum() and b < 128)[:16] or b'x'
    req = b'GET /hostile-' + tag + b' HTTP/1.1\r\nHost: limpet\r\n'
    pad = len(data) - len(req) - len(b'X-Pad: \r\n\r\n')
    if pad > 0:
        req += b'X-Pad: ' + b'p' * pad + b'\r\n'
    return req + b'\r\n'


def answered(q, got):
    """Whether got holds the whole answer to question q."""
    if not HTTP:
        return len(got) >= len(q)
    head, sep, body = got.partition(b'\r\n\r\n')
    if not sep:
        return False
    for line in head.split(b'\r\n')[1:]:
        name, _, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            return len(body) >= int(value.strip() or b'0')
    return False


def check_answer(q, got, what):
    if not HTTP:
        if got != q:
            raise Fail('%s: echo of %d bytes came back as %d bytes %r...'
                       % (what, len(q), len(got), got[:40]))
    elif got.startswith(b'HTTP/1.1 503 '):
        raise Cut('%s: refused (503)' % what)
    elif not (got.startswith(b'HTTP/1.1 404 ') and answered(q, got)):
        raise Fail('%s: a GET for a missing page (%d bytes) was answered with %d bytes %r...'
                   % (what, len(q), len(got), got[:60]))


# ---- TCP connections of our own ---------------------------------------------------

class Conn:
    """A TCP connection from PEER_IP to the echo port, driven by hand."""

    next_port = 40000

    def __init__(self, link, options=None, window=65535):
        self.link, self.net = link, link.net
        Conn.next_port += 1
        self.sport = Conn.next_port
        self.window = window
        self.sent_last = None           # (seq, data) of send(), for read()
        self.snd_nxt = random.getrandbits(32)
        mss = struct.pack('!BBH', 2, 4, 1460) if options is None else options
        with link.exchange():
            for _ in range(3):
                link.send(self.net.tcp_frame(self.sport, PORT, self.snd_nxt, 0, SYN,
                                             options=mss, window=window))
                f = self.expect(lambda t: t[4] & (SYN | ACK) == SYN | ACK)
                if f is not None:
                    break
            self.snd_nxt += 1
        if f is None:
            raise Cut('no SYN-ACK to a connection to port %d (%s)' % (PORT, link.where))
        self.rcv_nxt = (f[2] + 1) & 0xffffffff
        self.ack()

    def seg(self, flags=ACK, data=b'', seq=None, ack=None, **kw):
        self.link.send(self.net.tcp_frame(
            self.sport, PORT, self.snd_nxt if seq is None else seq,
            self.rcv_nxt if ack is None else ack, flags, data=data,
            window=kw.pop('window', self.window), **kw))

    def ack(self):
        self.seg(ACK)

    def send(self, data):
        self.seg(ACK | PSH, data)
        self.sent_last = (self.snd_nxt, data)
        self.snd_nxt = (self.snd_nxt + len(data)) & 0xffffffff

    def expect(self, match, wait=2.0):
        """The guest's next segment on this connection that match() takes,
        as parse_tcp()'s tuple."""
        def ours(f):
            # From the guest to PEER_IP: other clients of the guest on the
            # tap (the httpd battery's) may use the same port numbers.
            t = parse_tcp(f)
            if t is None or t[0] != PORT or t[1] != self.sport:
                return False
            p = parse(f)
            return p[2] == self.net.guest_ip and p[3] == self.net.peer_ip and match(t)
        f = self.link.expect(ours, wait)
        return parse_tcp(f) if f else None

    def read(self, q, wait=3.0, got=b''):
        """The answer to question q (see question()), in order,
        acknowledging it, or what came of it in wait seconds (after got,
        what came of it before)."""
        end = time.monotonic() + wait * PATIENCE
        start = len(got)
        while not answered(q, got) and time.monotonic() < end:
            t = self.expect(lambda t: t[6] or t[4] & (RST | FIN),
                            min(RESEND, (end - time.monotonic()) / PATIENCE))
            if t is None:
                # Nothing yet: what we sent last may have been lost (the
                # tap's queue drops frames when the guest is busy), and a
                # TCP sender resends.
                if len(got) == start and self.sent_last is not None and \
                        time.monotonic() < end:
                    seq, data = self.sent_last
                    self.seg(ACK | PSH, data, seq=seq)
                    continue
                break
            if t[4] & RST:
                raise Cut('the guest reset the connection (%s)' % self.link.where)
            # A segment may begin before rcv_nxt and go on past it: after a
            # zero-window probe took the first byte of a segment, lwIP
            # sends the whole segment again, which is how TCP works; a
            # receiver keeps the part it has not had yet.
            skip = (self.rcv_nxt - t[2]) & 0xffffffff
            if t[6] and skip < len(t[6]):
                got += t[6][skip:]
                self.rcv_nxt = (self.rcv_nxt + len(t[6]) - skip) & 0xffffffff
            self.ack()
        return got

    def ask(self, data, what, wait=3.0):
        """question(data) and its whole, right answer: the echo of data,
        or with --http a 404 for the page it asks for."""
        q = question(data)
        with self.link.exchange():
            self.send(q)
            got = self.read(q, wait)
        check_answer(q, got, what)

    def reset(self):
        self.seg(RST | ACK)


# ---- the cases --------------------------------------------------------------------

def case_runt_frames(link, n):
    for size in (1, 6, 12, 13):
        link.send(n.eth(b'')[:size])
    for etype in (0x0800, 0x0806):
        for size in range(14, 60, 3):
            link.send(n.eth(bytes(size - 14), etype)[:size])
    # Valid-looking IPv4 and ARP headers cut short at every length.
    ip = n.ip(n.udp(1, PORT, b'x' * 20), 17)
    for size in range(14, 14 + len(ip)):
        link.send(n.eth(ip)[:size])


def case_ethertypes(link, n):
    payload = n.ip(n.udp(1, PORT, b'ethertype'), 17)
    for etype in (0x0000, 0x0001, 0x05dc, 0x05ff, 0x0600, 0x0805, 0x0807, 0x8035, 0x8100,
                  0x88a8, 0x9100, 0x86dd, 0x8863, 0x8864, 0x88cc, 0x8847, 0x88e5, 0xffff):
        link.send(n.eth(payload, etype))
    # 802.1Q tags in front of IPv4 and ARP; 802.3 lengths with LLC/SNAP.
    link.send(n.eth(b'\x00\x01\x08\x00' + payload, 0x8100))
    link.send(n.eth(b'\x00\x01\x81\x00\x00\x02\x08\x00' + payload, 0x88a8))
    link.send(n.eth(b'\xaa\xaa\x03\x00\x00\x00\x08\x00' + payload, len(payload) + 8))


def case_link_addresses(link, n):
    """IPv4 to broadcast, multicast, someone else's MAC; from broadcast,
    multicast and the guest's own MAC."""
    ping = n.ip(n.icmp(8, 0, b'\0\1\0\1', b'mac'), 1)
    for dst in (BROADCAST, b'\x01\x00\x5e\x00\x00\x01', b'\x33\x33\x00\x00\x00\x01',
                b'\x02\x00\x00\x00\x00\x99', b'\0' * 6):
        link.send(n.eth(ping, dst=dst))
    for src in (BROADCAST, b'\x01\x00\x5e\x00\x00\x01', n.guest_mac, b'\0' * 6):
        link.send(n.eth(ping, src=src))


def arp(n, op=1, hwtype=1, ptype=0x0800, hwlen=6, plen=4, sha=None, spa=None, tha=b'\0' * 6,
        tpa=None, extra=b''):
    return n.eth(struct.pack('!HHBBH', hwtype, ptype, hwlen, plen, op) + (sha or n.peer_mac)
                 + (spa or n.peer_ip) + tha + (tpa or n.guest_ip) + extra, 0x0806,
                 dst=BROADCAST)


def case_arp(link, n):
    for hwlen in (0, 1, 5, 7, 16, 255):
        link.send(arp(n, hwlen=hwlen))
    for plen in (0, 1, 3, 5, 16, 255):
        link.send(arp(n, plen=plen))
    for hwtype in (0, 6, 0xffff):
        link.send(arp(n, hwtype=hwtype))
    for ptype in (0, 0x86dd, 0x0806, 0xffff):
        link.send(arp(n, ptype=ptype))
    for op in (0, 2, 3, 4, 8, 9, 0xffff):
        link.send(arp(n, op=op))
    full = arp(n)
    for size in range(14, len(full)):
        link.send(full[:size])
    link.send(arp(n, extra=b'\xa5' * 200))
    # Senders that must not enter the guest's ARP table.
    for spa in (b'\0\0\0\0', b'\xff\xff\xff\xff', b'\x0a\x00\x05\xff', b'\xe0\0\0\1',
                n.guest_ip):
        for op in (1, 2):
            link.send(arp(n, op=op, spa=spa))
    for sha in (BROADCAST, b'\x01\x00\x5e\x00\x00\x01', b'\0' * 6):
        link.send(arp(n, op=2, sha=sha, spa=b'\x0a\x00\x05\x33'))
    # Gratuitous replies and requests for other addresses.
    link.send(arp(n, op=2, tpa=n.peer_ip, tha=BROADCAST))
    link.send(arp(n, op=1, tpa=b'\x0a\x00\x05\x63'))
    # Put our own entry back, in case something above disturbed it.
    link.send(arp(n))


def case_ip_header(link, n):
    udp = n.udp(1, PORT, b'ip header')
    for version in (0, 1, 5, 6, 7, 15):
        link.send(n.eth(n.ip(udp, 17, version=version)))
    # IPv6 inside an IPv4 ethertype, and the other way round.
    link.send(n.eth(bytes.fromhex('6000000000081140') + b'\0' * 32 + udp))
    link.send(n.eth(n.ip(udp, 17), 0x86dd))
    for ihl in range(0, 5):
        link.send(n.eth(n.ip(udp, 17, ihl=ihl)))
    for ihl in range(6, 16):            # header longer than what follows
        link.send(n.eth(n.ip(b'', 17, ihl=ihl)))
        link.send(n.eth(n.ip(udp[:8], 17, ihl=ihl)))
    for tot in (0, 1, 19, 20, 21, 27, 28 + 4, 60, 1500, 0xffff):
        link.send(n.eth(n.ip(udp, 17, tot_len=tot)))
    link.send(n.eth(n.ip(udp, 17) + b'\xa5' * 100))       # padding past tot_len
    for chk in (0, 0xffff, 0x1234):
        link.send(n.eth(n.ip(udp, 17, chksum=chk)))
    for ttl in (0, 1, 255):
        link.send(n.eth(n.ip(udp, 17, ttl=ttl)))
        link.send(n.eth(n.ip(n.icmp(8, 0, b'\0\2\0\1', b'ttl'), 1, ttl=ttl)))
    for tos in (0x01, 0x03, 0xff):
        link.send(n.eth(n.ip(udp, 17, tos=tos)))
    # Reserved and don't-fragment flags on an unfragmented packet.
    for frag in (0x8000, 0x4000, 0xc000):
        link.send(n.eth(n.ip(udp, 17, frag=frag)))


def case_ip_protocols(link, n):
    for proto in list(range(0, 256, 1)):
        if proto in (1, 6, 17):
            continue
        link.send(n.eth(n.ip(b'\x45\0\0\x14' + b'\xa5' * 36, proto)))
    # Header only, and one byte, of the three protocols the guest speaks.
    for proto in (1, 6, 17):
        link.send(n.eth(n.ip(b'', proto)))
        link.send(n.eth(n.ip(b'\x01', proto)))


def case_ip_addresses(link, n):
    """Sources that must be dropped, destinations that are not ours; each
    with a UDP echo request and a ping, whose answers would go astray."""
    for src in ('255.255.255.255', '10.0.5.255', '224.0.0.1', '239.255.255.250', '0.0.0.0',
                '127.0.0.1', '10.0.5.3', '10.0.5.0', '240.0.0.1'):
        s = socket.inet_aton(src)
        link.send(n.eth(n.ip(n.udp(PORT, PORT, b'src', src=s), 17, src=s)))
        link.send(n.eth(n.ip(n.icmp(8, 0, b'\0\3\0\1', b'src'), 1, src=s)))
        link.send(n.eth(n.ip(n.tcp(PORT, PORT, 1, 0, SYN, src=s), 6, src=s)))
        # What the guest took for a connection request ends here.
        link.send(n.eth(n.ip(n.tcp(PORT, PORT, 2, 0, RST, src=s), 6, src=s)))
    for dst in ('255.255.255.255', '10.0.5.255', '224.0.0.1', '10.0.5.99', '10.0.5.1',
                '127.0.0.1', '0.0.0.0', '8.8.8.8'):
        d = socket.inet_aton(dst)
        link.send(n.eth(n.ip(n.udp(40, PORT, b'dst', dst=d), 17, dst=d)))
        link.send(n.eth(n.ip(n.icmp(8, 0, b'\0\4\0\1', b'dst'), 1, dst=d)))
        link.send(n.eth(n.ip(n.tcp(41, PORT, 1, 0, SYN, dst=d), 6, dst=d)))


def case_ip_options(link, n):
    """Every option kind, with lengths 0, 1, 2, right, and past the header."""
    udp = n.udp(2, PORT, b'options')
    icmp = n.icmp(8, 0, b'\0\5\0\1', b'options')
    for kind in range(256):
        for opt in (bytes([kind]), bytes([kind, 0]), bytes([kind, 1]), bytes([kind, 4, 0, 0]),
                    bytes([kind, 255]) + b'\xa5' * 38):
            opt = (opt + b'\0' * 3)[:max(4, (len(opt) + 3) // 4 * 4)][:40]
            link.send(n.eth(n.ip(udp if kind % 2 else icmp, 17 if kind % 2 else 1, options=opt)))
    # Record route and timestamp with pointers before, at and past the end.
    for kind in (7, 68, 131, 137):
        for ptr in (0, 1, 4, 5, 39, 40, 41, 255):
            opt = bytes([kind, 39, ptr]) + b'\0' * 37
            link.send(n.eth(n.ip(icmp, 1, options=opt)))
    # 40 bytes of NOPs; EOL followed by garbage; an option past IHL.
    link.send(n.eth(n.ip(udp, 17, options=b'\x01' * 40)))
    link.send(n.eth(n.ip(udp, 17, options=b'\x00' + b'\xa5' * 39)))
    link.send(n.eth(n.ip(udp, 17, options=b'\x44\x28\x05\x00', ihl=6, tot_len=24 + len(udp))))


def frags(n, proto, payload, size, ident, src=None):
    """payload cut into IPv4 fragments of size bytes (a multiple of 8)."""
    out = []
    for off in range(0, len(payload), size):
        more = 0x2000 if off + size < len(payload) else 0
        out.append(n.eth(n.ip(payload[off:off + size], proto, ident=ident, frag=more | off // 8,
                              src=src)))
    return out


def case_fragments(link, n):
    data = n.udp(3, PORT, bytes(range(256)) * 12)
    # Overlapping: the second starts inside the first (teardrop), then
    # a third covers both.
    link.send(n.eth(n.ip(data[:1480], 17, ident=0x7001, frag=0x2000)))
    link.send(n.eth(n.ip(data[8:24], 17, ident=0x7001, frag=0x2000 | 1)))
    link.send(n.eth(n.ip(data[1480 - 8:], 17, ident=0x7001, frag=(1480 - 8) // 8)))
    link.send(n.eth(n.ip(data[:16], 17, ident=0x7002, frag=0x2000)))
    link.send(n.eth(n.ip(data[:8], 17, ident=0x7002, frag=0x2000)))           # duplicate start
    link.send(n.eth(n.ip(data[8:], 17, ident=0x7002, frag=0)))               # overlaps the first
    # A tiny first fragment (the UDP header alone), then the rest.
    link.send(n.eth(n.ip(data[:8], 17, ident=0x7003, frag=0x2000)))
    link.send(n.eth(n.ip(data[8:1000], 17, ident=0x7003, frag=1)))
    # First fragments of 0 bytes, and a last fragment of 0 bytes.
    link.send(n.eth(n.ip(b'', 17, ident=0x7004, frag=0x2000)))
    link.send(n.eth(n.ip(b'', 17, ident=0x7004, frag=0x0001)))
    # Past 64 KiB: the ping of death, and offsets that wrap 16 bits.
    for off in (8189, 8190, 8191):
        link.send(n.eth(n.ip(b'\xa5' * 1480, 1, ident=0x7005, frag=off)))
        link.send(n.eth(n.ip(b'\xa5' * 1480, 1, ident=0x7006, frag=0x2000 | off)))
    link.send(n.eth(n.ip(n.icmp(8, 0, b'\0\6\0\1', b'\xa5' * 1472), 1, ident=0x7005,
                        frag=0x2000)))
    # Fragments with options (lwIP reassembles only 20-byte headers).
    link.send(n.eth(n.ip(data[:1000], 17, ident=0x7007, frag=0x2000, options=b'\x01' * 4)))
    link.send(n.eth(n.ip(data[1000:], 17, ident=0x7007, frag=125, options=b'\x01' * 4)))
    # A fragment whose total length says less than its header.
    link.send(n.eth(n.ip(data[:64], 17, ident=0x7008, frag=0x2000, tot_len=12)))
    # Reversed order, which is legal, and must come back whole: a UDP
    # echo, or with --http (no UDP service) a ping.
    if HTTP:
        pieces = frags(n, 1, n.icmp(8, 0, b'\0\x0a\0\1', b'R' * 3000), 1480, 0x7009)
        first = lambda d: d[:1] == b'\0' and d[4:8] == b'\0\x0a\0\1'   # noqa: E731
    else:
        pieces = frags(n, 17, n.udp(4, PORT, b'R' * 3000), 1480, 0x7009)
        first = lambda d: (d[:2] == struct.pack('!H', PORT)               # noqa: E731
                           and d[2:4] == struct.pack('!H', 4))
    with link.exchange():
        for f in reversed(pieces):
            link.send(f)
        got = datagram(link, 1 if HTTP else 17, first)
    if got is None or got[8:] != b'R' * 3000:
        raise Fail('a %s sent in fragments in reverse order: %s'
                   % ('ping' if HTTP else 'UDP datagram',
                      'no answer' if got is None else 'an answer of %d bytes' % (len(got) - 8)))
    # The same datagram with different content in a duplicate middle.
    for f in pieces[:1] + [pieces[1][:-10] + b'X' * 10] + pieces[1:]:
        link.send(f)
    # Fragmented TCP and ICMP to the guest.
    for f in frags(n, 6, n.tcp(5, PORT, 1, 0, SYN, data=b'S' * 100), 32, 0x700a):
        link.send(f)
    link.send(n.tcp_frame(5, PORT, 2, 0, RST))
    for f in frags(n, 1, n.icmp(8, 0, b'\0\7\0\1', b'I' * 2000), 512, 0x700b):
        link.send(f)


def case_fragment_trains(link, n, trains=1500):
    """Thousands of incomplete datagrams, each holding a receive buffer in
    reassembly until it is evicted or times out."""
    data = n.udp(6, PORT, b'T' * 3000)
    for i in range(trains):
        ident = (0x8000 + i) & 0xffff
        if i % 3 == 0:      # first fragment only
            link.send(n.eth(n.ip(data[:1480], 17, ident=ident, frag=0x2000)))
        elif i % 3 == 1:    # last only
            link.send(n.eth(n.ip(data[1480 * 2:], 17, ident=ident, frag=1480 * 2 // 8)))
        else:               # middle only
            link.send(n.eth(n.ip(data[1480:2960], 17, ident=ident, frag=0x2000 | 1480 // 8)))


def case_ping_65000(link, n):
    """A 65000-byte echo request in 45 fragments (legal, if large), after
    all that: the guest answers it, in fragments too."""
    data = bytes(i * 7 & 0xff for i in range(65000))
    msg = n.icmp(8, 0, b'\0\x08\0\x01', data)
    with link.exchange():
        for f in frags(n, 1, msg, 1480, 0x7100):
            link.send(f)
        got = datagram(link, 1, lambda d: d[:1] == b'\0' and d[4:8] == b'\0\x08\0\x01',
                       wait=5)
    if got is None or got[8:] != data:
        raise Fail('a 65000-byte ping in fragments: %s'
                   % ('no answer' if got is None else 'an answer of %d bytes' % (len(got) - 8)))


def tcp_options_cases():
    """TCP options, each a (name, bytes) with lengths wrong in every way."""
    out = []
    for kind in range(256):
        out += [bytes([kind]), bytes([kind, 0]), bytes([kind, 1]), bytes([kind, 255, 1])]
    for kind in range(2, 35):
        out += [bytes([kind, 2]), bytes([kind, 3, 0]), bytes([kind, 40])]
    out += [
        b'\x02\x04\x00\x00', b'\x02\x04\x00\x01', b'\x02\x04\xff\xff', b'\x02\x03\x05',
        b'\x02\x00', b'\x02\x01', b'\x02\x05\x05\xb4\x00', b'\x02',
        b'\x03\x03\x0f', b'\x03\x03\xff', b'\x03\x03\x0e', b'\x03\x02', b'\x03\x04\x07\x00',
        b'\x04\x02', b'\x04\x05\x00\x00\x00', b'\x04\x00', b'\x04\x01',
        b'\x05\x02', b'\x05\x0a' + b'\0' * 8, b'\x05\x0b' + b'\0' * 9, b'\x05\x22' + b'\0' * 32,
        b'\x08\x0a' + b'\0' * 8, b'\x08\x0a\x00\x00', b'\x08\x09' + b'\0' * 7,
        b'\x08\x0b' + b'\0' * 9, b'\x08',
        b'\x01' * 40, b'\x00' + b'\xa5' * 39, b'\x01' * 39 + b'\x02',
        b'\x01' * 38 + b'\x08\x0a', b'\x03\x03\x0e' + b'\x02\x04\x05\xb4' + b'\x04\x02'
        + b'\x08\x0a' + b'\0' * 8 + b'\x01',
    ]
    return out


def case_tcp_header(link, n):
    for doff in range(0, 5):
        link.send(n.tcp_frame(10, PORT, 1, 0, SYN, doff=doff))
    for doff in range(6, 16):       # header longer than the segment
        link.send(n.tcp_frame(10, PORT, 1, 0, SYN, doff=doff))
    for size in range(0, 20):       # truncated headers
        link.send(n.eth(n.ip(n.tcp(11, PORT, 1, 0, SYN)[:size], 6)))
    link.send(n.tcp_frame(12, PORT, 1, 0, SYN, chksum=0))
    link.send(n.tcp_frame(12, PORT, 1, 0, SYN, chksum=0xbeef))
    for sport, dport in ((0, PORT), (13, 0), (0, 0), (PORT, 9), (65535, 65535)):
        link.send(n.tcp_frame(sport, dport, 1, 0, SYN))
        link.send(n.tcp_frame(sport, dport, 2, 0, RST))


def case_tcp_options(link, n):
    """Every option kind with bad lengths, on SYNs to the echo port: once
    followed by end-of-list padding, and once at the very end of the
    header after NOPs, so that a length runs off the end.  Each half-open
    connection is reset again with the right sequence number."""
    for i, opt in enumerate(tcp_options_cases()):
        opt = opt[:40]
        sport, isn = 20000 + i, random.getrandbits(32)
        link.send(n.tcp_frame(sport, PORT, isn, 0, SYN, options=opt))
        if len(opt) % 4:
            link.send(n.tcp_frame(sport, PORT, isn, 0, SYN,
                                  options=b'\x01' * (-len(opt) % 4) + opt))
        link.send(n.tcp_frame(sport, PORT, isn + 1, 0, RST))


def case_tcp_flags(link, n):
    """Odd flag combinations to the listening port and a closed one: SYN+FIN,
    SYN+RST, SYN with data, all and none, and RST/ACK with random numbers."""
    for port in (PORT, 9):
        for flags in range(256):
            isn = random.getrandbits(32)
            link.send(n.tcp_frame(30000 + flags, port, isn, random.getrandbits(32), flags,
                                  data=b'data' if flags & 1 else b'', urg=random.getrandbits(16)))
            if flags & SYN:
                link.send(n.tcp_frame(30000 + flags, port, isn + 1, 0, RST))
    for i in range(300):
        link.send(n.tcp_frame(random.randrange(1024, 65536), PORT, random.getrandbits(32),
                              random.getrandbits(32), random.choice((RST, RST | ACK, ACK))))
    # SYN with data and with a payload in the SYN of a simultaneous open.
    link.send(n.tcp_frame(31000, PORT, 5, 0, SYN, data=b'S' * 1000))
    link.send(n.tcp_frame(31000, PORT, 6, 0, RST))


def case_tcp_established(link, n):
    """Hostile segments on established connections; each must go on
    echoing only what was really sent in order."""
    with link.exchange():
        tcp_established(link, n)


def tcp_established(link, n):
    c = Conn(link)
    c.ask(b'hello', 'a fresh connection')
    # Data beyond the window, and old data that ends where the window
    # starts: not echoed.
    for delta in (70000, 10 ** 6, 10 ** 9, 2 ** 31, -10 ** 6, -1000, -13):
        c.seg(ACK | PSH, b'OUT-OF-WINDOW', seq=c.snd_nxt + delta)
    # An ACK for data never sent, and an old one.
    c.seg(ACK, ack=c.rcv_nxt + 10 ** 6)
    c.seg(ACK, ack=c.rcv_nxt - 10 ** 6)
    # A SYN and a RST inside the window (RFC 5961: challenge ACK, not
    # accepted), and a RST just outside it.
    c.seg(SYN, seq=c.snd_nxt + 10)
    c.seg(RST, seq=c.snd_nxt + 100)
    c.seg(RST, seq=c.snd_nxt + 70000)
    c.seg(RST | ACK, seq=c.snd_nxt - 1)
    # Every flag at once, and urgent data pointing past the segment.
    c.seg(0xff, b'', seq=c.snd_nxt + 5000)
    c.seg(ACK | URG, b'', urg=60000)
    c.ask(b'still here', 'after out-of-window data, SYN and RSTs in the window')

    # Out of order: a hundred one-byte segments with holes, then the
    # whole range (the segments queued out of order are the same bytes).
    block = question(bytes(random.getrandbits(8) for _ in range(300)))
    for off in range(2, len(block), 3):
        c.seg(ACK, block[off:off + 1], seq=c.snd_nxt + off)
    c.send(block)
    got = c.read(block)
    if HTTP:
        check_answer(block, got, 'a request sent as out-of-order segments')
    elif got != block:
        raise Fail('out-of-order segments: %d of %d bytes echoed, first difference at %s'
                   % (len(got), len(block), next((i for i, (a, b) in enumerate(zip(got, block))
                                                  if a != b), min(len(got), len(block)))))
    # Overlapping retransmissions with the same bytes.
    q = question(b'ABCDEFGHIJKLMN')
    c.seg(ACK | PSH, q[:6])
    c.seg(ACK | PSH, q[:10])
    c.snd_nxt += 10
    c.seg(ACK | PSH, q[4:], seq=c.snd_nxt - 6)
    c.snd_nxt += len(q) - 10
    check_answer(q, c.read(q), 'overlapping retransmissions')
    # Zero-window probes of our own at the guest (its window is open).
    for _ in range(5):
        c.seg(ACK, seq=c.snd_nxt - 1)
    c.ask(b'probed', 'after zero-window probes')
    # FIN, then data after it.
    c.seg(FIN | ACK)
    c.snd_nxt += 1
    c.seg(ACK | PSH, b'after fin')
    c.reset()

    # A connection with a zero window from the start: the guest must hold
    # its echo (a window probe carries one byte at most) and send it once
    # the window opens.  (lwIP, as RFC 1122 asks of receivers, does not
    # expect a window to shrink on an ACK that acknowledges nothing new,
    # so the window starts at zero rather than closing once open.)
    c = Conn(link, window=0)
    q = question(b'Z' * 100)
    c.send(q)
    early = c.expect(lambda t: len(t[6]) > 1, 0.3)
    if early is not None:
        raise Fail('the guest sent %d bytes into a zero window' % len(early[6]))
    c.window = 65535
    c.ack()
    check_answer(q, c.read(q), 'after a zero window opened')
    c.reset()

    # The same, with the window kept shut until the guest probes it: we
    # take the probe's byte and open the window, and the rest must follow
    # (lwIP sends the segment again from the byte the probe carried, so
    # its first segment overlaps what we have).
    c = Conn(link, window=0)
    q = question(b'P' * 100)
    c.send(q)
    probe = c.expect(lambda t: len(t[6]) == 1 and t[2] == c.rcv_nxt, 5 * PATIENCE)
    if probe is None:
        raise Fail('no zero-window probe from the guest in %ds' % (5 * PATIENCE))
    c.rcv_nxt = (c.rcv_nxt + 1) & 0xffffffff
    c.window = 65535
    c.ack()
    check_answer(q, c.read(q, got=probe[6]), 'after a zero-window probe was taken')
    c.reset()

    # A connection whose MSS is 1: the answer comes back a byte a segment
    # (httpd's 404 is some 200 bytes: slow start takes a few rounds).
    c = Conn(link, options=struct.pack('!BBH', 2, 4, 1))
    c.ask(b'0123456789abcdef', 'a connection with MSS 1', wait=10 if HTTP else 3)
    c.reset()
    # A connection with the largest window scale and a one-byte window.
    c = Conn(link, options=struct.pack('!BBHBBBB', 2, 4, 1460, 1, 3, 3, 14), window=1)
    c.ask(b'W' * 64, 'a connection with window scale 14')
    c.reset()


def case_tcp_fuzz(link, n):
    """Random segments on an established connection: any flags but RST,
    sequence and acknowledgement numbers in and around the windows, random
    windows, options and data.  Then the guest is asked where the
    connection stands (a segment far outside its window draws an ACK) and
    the connection is reset there."""
    c = Conn(link)
    c.ask(b'fuzz me', 'a connection about to be fuzzed')
    for _ in range(link.fuzz * 2 // 3):
        flags = random.getrandbits(8) & ~RST
        if random.random() < 0.8:
            flags |= ACK
        seq = c.snd_nxt + random.choice((0, random.randint(-3000, 3000),
                                         random.randint(-70000, 70000), random.getrandbits(32)))
        ack = c.rcv_nxt + random.choice((0, random.randint(-3000, 3000), random.getrandbits(32)))
        opts = bytes(random.getrandbits(8) for _ in range(4 * random.choice((0, 0, 1, 3, 10))))
        data = bytes(random.getrandbits(8) for _ in range(random.choice((0, 0, 1, 10, 100, 1400))))
        link.send(n.tcp_frame(c.sport, PORT, seq, ack, flags, data=data, options=opts,
                              window=random.choice((0, 1, 1000, 65535, random.getrandbits(16))),
                              urg=random.getrandbits(16)))
    with link.exchange():
        c.seg(ACK, seq=c.snd_nxt + 2 ** 31)
        t = c.expect(lambda t: t[4] & (ACK | RST), 2.0)
    if t is not None and not t[4] & RST:
        c.seg(RST, seq=t[3])


def case_udp(link, n):
    for length in (0, 1, 7, 8, 9, 100, 1000, 0xffff):
        link.send(n.eth(n.ip(n.udp(50, PORT, b'length field', length=length), 17)))
        link.send(n.eth(n.ip(n.udp(51, PORT, b'length field', length=length, chksum=0),
                             17)))
    for chk in (0x1234, 0xffff):
        link.send(n.udp_frame(52, PORT, b'bad checksum', chksum=chk))
    for size in range(0, 8):
        link.send(n.eth(n.ip(n.udp(53, PORT, b'')[:size], 17)))
    # To closed ports (ICMP port unreachable), from port 0 and to port 0.
    for sport, dport in ((54, 9), (0, PORT), (55, 0), (PORT, PORT)):
        link.send(n.udp_frame(sport, dport, b'ports'))
    # Echo from the guest's own echo port to itself (the echo loop).
    g = n.guest_ip
    link.send(n.eth(n.ip(n.udp(PORT, PORT, b'loop', src=g), 17, src=g)))
    # Zero-length and the largest unfragmented datagram.
    link.send(n.udp_frame(56, PORT, b''))
    link.send(n.udp_frame(57, PORT, b'\xa5' * 1472))


def case_icmp(link, n):
    """Every type, the common codes, with truncated and full payloads."""
    quoted = n.ip(n.udp(PORT, 60, b'quoted'), 17, src=n.guest_ip, dst=n.peer_ip)
    for itype in range(256):
        if itype <= 18:
            variants = [(c, d) for c in (0, 1, 3, 13, 255)
                        for d in (b'', quoted[:8], quoted[:20], quoted)]
        else:
            variants = [(0, b''), (0, quoted[:8]), (255, quoted)]
        for code, data in variants:
            link.send(n.icmp_frame(itype, code, data=data))
        link.send(n.eth(n.ip(n.icmp(itype, 0)[:2], 1)))       # two bytes of ICMP
        link.send(n.icmp_frame(itype, 0, chksum=0x1234))
    # Echo requests: zero-length, bad checksum, to broadcast.
    link.send(n.icmp_frame(8, 0, rest=b'\0\x09\0\1'))
    link.send(n.icmp_frame(8, 0, rest=b'\0\x09\0\2', data=b'x', chksum=0))
    bc = socket.inet_aton('10.0.5.255')
    link.send(n.eth(n.ip(n.icmp(8, 0, b'\0\x09\0\3'), 1, dst=bc), dst=BROADCAST))
    # A redirect and unreachables about the guest's own traffic.
    for itype, code in ((5, 1), (3, 4), (3, 3), (11, 0), (12, 0), (4, 0)):
        tcpq = n.ip(n.tcp(PORT, 40001, 1, 1, ACK, src=n.guest_ip, dst=n.peer_ip), 6,
                    src=n.guest_ip, dst=n.peer_ip)
        link.send(n.icmp_frame(itype, code, rest=b'\0\0\x02\x40' if code == 4 else n.peer_ip,
                               data=tcpq))


def case_syn_flood(link, n, count=3000):
    """SYNs from random ports of addresses of the /24 that nobody owns (the
    guest's SYN-ACKs wait for ARP replies that never come).  While the
    half-open connections hold every PCB the guest has, a real connection
    must still be accepted, echo, and go on echoing through the rest of
    the flood; at the end every half-open one is reset with the right
    sequence number, so that none is left for the pool check."""
    hosts = [h for h in range(2, 255) if h not in (1, 3, 50)]
    flood = []

    def syns(count):
        for _ in range(count):
            src = bytes([10, 0, 5, random.choice(hosts)])
            sport, isn = random.randrange(1024, 65536), random.getrandbits(32)
            flood.append((src, sport, isn))
            link.send(n.eth(n.ip(n.tcp(sport, PORT, isn, 0, SYN, src=src,
                                       options=b'\x02\x04\x05\xb4'), 6, src=src)))

    try:
        syns(count * 2 // 3)
        link.sync()
        c = Conn(link)
        c.ask(b'during a SYN flood', 'a connection made while the flood holds every PCB')
        # The rest of the flood must not take the established connection.
        syns(count - count * 2 // 3)
        c.ask(b'still during the flood', 'an established connection, more SYNs later')
        c.reset()
    finally:
        for src, sport, isn in flood:
            link.send(n.eth(n.ip(n.tcp(sport, PORT, isn + 1, 0, RST, src=src), 6, src=src)))


def fix_sums(f):
    """Recompute the IPv4 header checksum and, for an unfragmented TCP,
    UDP or ICMP packet, its checksum too, so that fuzzed fields get past
    the checks into the code behind them."""
    p = parse(f)
    if p is None or len(p[0]) < 20 or len(f) < 14 + len(p[0]):
        return f
    hdr = bytearray(p[0])
    hdr[10:12] = b'\0\0'
    hdr[10:12] = struct.pack('!H', csum(bytes(hdr)))
    body = bytearray(f[14 + len(hdr):])
    proto, l4 = p[1], len(p[4])
    frag = struct.unpack('!H', bytes(hdr[6:8]))[0] & 0x3fff
    at = {6: 16, 17: 6, 1: 2}.get(proto)
    if at is not None and not frag and l4 >= at + 2 and l4 <= len(body):
        body[at:at + 2] = b'\0\0'
        seg = bytes(body[:l4])
        s = csum(seg if proto == 1 else
                 bytes(hdr[12:20]) + struct.pack('!BBH', 0, proto, l4) + seg)
        body[at:at + 2] = struct.pack('!H', s or (0xffff if proto == 17 else 0))
    return f[:14] + bytes(hdr) + bytes(body)


def case_fuzz(link, n):
    """scapy's fuzz(): random IPv4 headers over random TCP, UDP and ICMP
    (and bare random protocols), two in three with their checksums made
    right again.  scapy draws from Python's random, which main() seeds."""
    gm = ':'.join('%02x' % b for b in n.guest_mac)
    ip_kw = dict(src=PEER_IP, dst=socket.inet_ntoa(n.guest_ip))
    layers = (lambda: fuzz(TCP(dport=PORT)), lambda: fuzz(TCP(dport=PORT)),
              lambda: fuzz(UDP(dport=PORT)), lambda: fuzz(ICMP()), lambda: None)
    for i in range(link.fuzz):
        l4 = random.choice(layers)()
        pkt = Ether(dst=gm, src=PEER_MAC) / fuzz(IP(**ip_kw))
        if l4 is not None:
            pkt = pkt / l4
        data = bytes(random.getrandbits(8) for _ in range(random.choice((0, 0, 1, 16, 200))))
        f = bytes(pkt) + data
        if i % 3:
            f = f[:14] + bytes([0x40 | (f[14] & 0xf)]) + f[15:]     # version 4
            f = fix_sums(f)
        link.send(f[:1514])
        # A SYN the guest may have taken for a connection request: reset
        # the connection it may have begun, so that none lingers.
        t = parse_tcp(f[:1514])
        if t is not None and t[4] & SYN:
            link.send(n.tcp_frame(t[0], t[1], t[2] + 1, 0, RST))


CASES = [
    ('runt frames', case_runt_frames),
    ('unknown ethertypes, VLAN, 802.3', case_ethertypes),
    ('broadcast, multicast and foreign MACs', case_link_addresses),
    ('ARP: bad lengths, types, truncated', case_arp),
    ('IPv4 header: version, IHL, length, checksum, TTL', case_ip_header),
    ('IPv4: every other protocol', case_ip_protocols),
    ('IPv4: bad sources and foreign destinations', case_ip_addresses),
    ('IPv4: every option kind, bad lengths', case_ip_options),
    ('IPv4 fragments: overlaps, tiny, past 64 KiB', case_fragments),
    ('IPv4 fragments: 1500 incomplete datagrams', case_fragment_trains),
    ('ICMP echo request of 65000 bytes in fragments', case_ping_65000),
    ('TCP header: data offset, truncated, checksum, ports', case_tcp_header),
    ('TCP options: every kind, bad lengths, off the end', case_tcp_options),
    ('TCP flags: every combination, RST/ACK with random numbers', case_tcp_flags),
    ('TCP established: out of window, RST/SYN in window, zero window, MSS 1',
     case_tcp_established),
    ('TCP established: fuzzed segments', case_tcp_fuzz),
    ('UDP: length field, checksum, ports, the echo loop', case_udp),
    ('ICMP: every type, truncated', case_icmp),
    ('SYN flood of 3000 from the /24', case_syn_flood),
    ('fuzzed IPv4/TCP/UDP/ICMP packets (fixed seed)', case_fuzz),
]


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('iface')
    p.add_argument('guest_ip')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--fuzz', type=int, default=3000,
                   help='packets for the fuzz cases (and two thirds as many TCP segments)')
    p.add_argument('--timeout', type=float, default=60)
    p.add_argument('--only', help='run only the cases whose name contains this')
    p.add_argument('--http', action='store_true',
                   help='the guest is httpd: port 80, HTTP questions instead of echoes')
    p.add_argument('--patience', type=float, default=1.0,
                   help='multiply every wait for the guest by this (a busy guest)')
    p.add_argument('--busy', action='store_true',
                   help='a case whose connection the guest resets or refuses ends there')
    p.add_argument('--ipv6', action='store_true',
                   help='the IPv6 battery (tests/hostile6.py): GUEST_IP is an IPv6 address')
    p.add_argument('--slaac', action='store_true',
                   help='with --ipv6: first advertise GUEST_IP\'s /64 as a router would, '
                   'for a guest booted with ip6=slaac')
    a = p.parse_args()
    global PORT, HTTP, PATIENCE, SLAAC
    if a.http:
        PORT, HTTP = 80, True
    SLAAC = a.slaac
    cases = CASES
    if a.ipv6:
        # hostile6 imports this module by name: let it find this one,
        # run as a script, rather than load a second copy.
        sys.modules.setdefault('hostile', sys.modules[__name__])
        import hostile6
        cases = hostile6.CASES6
    PATIENCE = max(1.0, a.patience)
    # Our connections' ports differ from one seed to the next, so that a
    # run right after another meets none of its connections.
    Conn.next_port = 40000 + a.seed % 400 * 50
    start = time.monotonic()
    random.seed(a.seed)
    net = hostile6.Net6(a.guest_ip) if a.ipv6 else Net(a.guest_ip)
    link = Link(a.iface, net, start + a.timeout)
    link.fuzz = a.fuzz
    try:
        if a.slaac:
            hostile6.advertise_prefix(link, net)
        link.resolve_guest()
        link.sync()
        ran = cut = 0
        for name, fn in cases:
            if a.only and a.only not in name:
                continue
            t, sent = time.monotonic(), link.sent + link.refused
            link.where = 'during case "%s"' % name
            how = ''
            try:
                fn(link, net)
            except Cut as e:
                if not a.busy:
                    raise
                cut += 1
                how = ' (cut short: %s)' % e
            link.where = 'after case "%s"' % name
            link.sync()
            ran += 1
            print('case %-72s %5d frames %6.2fs%s' % (name, link.sent + link.refused - sent,
                                                      time.monotonic() - t, how))
            sys.stdout.flush()
    except Fail as e:
        print('FAIL: %s (%d frames sent)' % (e, link.sent))
        sys.stdout.flush()
        os._exit(1)
    for where, key in link.limits:
        print('limit: %s: %s (%s)' % (key, hostile6.LIMITS[key], where))
    print('ok: %d cases, %d frames sent, %d refused by the kernel, in %.1fs (seed %d)%s'
          % (ran, link.sent, link.refused, time.monotonic() - start, a.seed,
             ', %d cut short by a busy guest' % cut if a.busy else ''))
    sys.stdout.flush()
    os._exit(0)


if __name__ == '__main__':
    main()
