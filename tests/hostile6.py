"""The IPv6 half of tests/hostile.py (hostile.py IFACE fd00:5::3 --ipv6):
malformed and hostile IPv6, ICMPv6, neighbour discovery, TCP and UDP
frames for a guest on the tap, from a peer that exists only in this
script (PEER6, with the locally administered PEER6_MAC and the link-local
PEER6_LL, which a router's messages must come from).  The link, the
sync pings (ICMPv6 echo now), the TCP connections of our own and the
cases for TCP and UDP are hostile.py's, over IPv6; the cases here are
those IPv6 has of its own: extension header chains, fragments, hop-by-hop
options, neighbour discovery and its floods, router advertisements,
redirects, ICMPv6 errors, MLD, a SYN flood from the /64 and fuzzed
packets.

A few cases check what lwIP does where an RFC says what must happen;
where lwIP 2.1.3 (which we may only configure, not change) does
otherwise and nothing breaks, the run says so in a line "limit: ..."
(see LIMITS) instead of failing, so that the limit is on record and a
change in it shows.

Safety: as hostile.py's (a packet socket on the namespace's tap; the
addresses are those of the tap's /64 fd00:5::/64 and link-local ones,
and every frame goes to the guest's MAC or to a multicast MAC on that
tap).
"""

import random
import socket
import struct

import hostile as h
from hostile import ACK, RST, SYN, Fail, csum, mac_bytes

PEER6 = 'fd00:5::2'                 # nobody's address but this script's
PEER6_LL = 'fe80::2'                # the peer's link-local address (RAs, redirects)
PEER6_MAC = '02:00:00:00:05:36'     # locally administered, not the host's
HOST6 = 'fd00:5::1'                 # the namespace's own end of the tap
SYNC6_ID = 0x4c36
ALL_NODES = socket.inet_pton(socket.AF_INET6, 'ff02::1')
ALL_ROUTERS = socket.inet_pton(socket.AF_INET6, 'ff02::2')
UNSPEC = bytes(16)
HBH, TCP6, UDP6, ROUTING, FRAGMENT, ICMP6, NONE6, DSTOPTS = 0, 6, 17, 43, 44, 58, 59, 60

# What lwIP 2.1.3 does otherwise than an RFC asks, harmlessly: a case
# that sees it prints "limit: KEY: text" instead of failing.
LIMITS = {
    'overlap': 'fragments that overlap: lwIP drops the overlapping fragment, not the '
               'whole datagram (RFC 5722), and answers the datagram once the rest '
               'arrives without overlap',
}


def a6(text):
    return socket.inet_pton(socket.AF_INET6, text)


def solicited(addr):
    """The solicited-node multicast address of addr, and its MAC."""
    m = a6('ff02::1:ff00:0')[:13] + addr[13:]
    return m, multicast_mac(m)


def multicast_mac(addr):
    return b'\x33\x33' + addr[12:]


def mac_text(mac):
    return ':'.join('%02x' % b for b in mac)


class Net6(h.Net):
    """Frames of the tap's IPv6 link: the guest's address and our peer's,
    built by hand so that any field can be wrong (hostile.py's Net builds
    the TCP and UDP segments and the frames around them)."""

    v6 = True
    ETHERTYPE, TCP, UDP, ICMP = 0x86dd, TCP6, UDP6, ICMP6

    def __init__(self, guest_ip):
        self.guest_ip = a6(guest_ip)
        self.peer_ip = a6(PEER6)
        self.peer_ll = a6(PEER6_LL)
        self.peer_mac = mac_bytes(PEER6_MAC)
        self.guest_mac = None       # from the guest's answer to our NS at the start
        self.ident = 0x10000
        self.ping_seq = 0

    @property
    def guest_ll(self):
        """The guest's link-local address, from its MAC (modified EUI-64)."""
        m = self.guest_mac
        return (a6('fe80::')[:8] + bytes([m[0] ^ 2]) + m[1:3] + b'\xff\xfe' + m[3:])

    def ip(self, payload, nh, src=None, dst=None, hlim=64, plen=None, version=6, tc=0,
           flow=0, **_v4):
        """An IPv6 packet (hostile.py's cases call it as Net.ip: IPv4's
        keywords are ignored)."""
        if plen is None:
            plen = len(payload)
        return struct.pack('!IHBB16s16s', (version & 0xf) << 28 | (tc & 0xff) << 20 | flow,
                           plen & 0xffff, nh, hlim, src or self.peer_ip,
                           dst or self.guest_ip) + payload

    def pseudo(self, src, dst, nh, length):
        return (src or self.peer_ip) + (dst or self.guest_ip) + struct.pack('!IxxxB', length, nh)

    def icmp6(self, itype, code, body=b'', src=None, dst=None, chksum=None):
        """An ICMPv6 message: type, code, checksum, then body (which holds
        the 4 bytes after the checksum)."""
        msg = struct.pack('!BBH', itype, code, 0) + body
        if chksum is None:
            chksum = csum(self.pseudo(src, dst, ICMP6, len(msg)) + msg)
        return msg[:2] + struct.pack('!H', chksum) + msg[4:]

    # hostile.py's cases call icmp(type, code, rest=, data=).
    def icmp(self, itype, code, rest=b'\0\0\0\0', data=b'', chksum=None):
        return self.icmp6(itype, code, rest + data, chksum=chksum)

    def icmp6_frame(self, itype, code, body=b'', src=None, dst=None, hlim=64, mac=None, **kw):
        return self.eth(self.ip(self.icmp6(itype, code, body, src=src, dst=dst, **kw), ICMP6,
                                src=src, dst=dst, hlim=hlim), dst=mac)

    def nd_frame(self, itype, body, src=None, dst=None, hlim=255, code=0, mac=None):
        """A neighbour discovery message, from the peer's global address
        unless src says otherwise (a router's must come from a link-local
        one), hop limit 255 as RFC 4861 asks unless hlim says otherwise."""
        return self.icmp6_frame(itype, code, body, src=src, dst=dst, hlim=hlim, mac=mac)

    def ping(self, ident, seq, data=b'', src=None, dst=None):
        return self.icmp6(128, 0, struct.pack('!HH', ident, seq) + data, src=src, dst=dst)

    def next_ident(self):
        self.ident = (self.ident + 1) & 0xffffffff
        return self.ident

    # ---- the peer's side of neighbour discovery --------------------------------

    def answer_ns(self, sock, f):
        """Answer the guest's neighbour solicitations for the peer's
        addresses, as the peer would (hostile.py's Link calls this for every
        frame it reads, as it answers ARP for IPv4)."""
        if (len(f) < 78 or f[12:14] != b'\x86\xdd' or f[20] != ICMP6 or f[54] != 135
                or f[62:78] not in (self.peer_ip, self.peer_ll) or self.guest_mac is None):
            return
        src = f[22:38]
        dst = ALL_NODES if src == UNSPEC else src
        flags = 0x20 if src == UNSPEC else 0x60       # override (and solicited)
        sock.send(self.nd_frame(136, struct.pack('!B3x', flags) + f[62:78] + b'\x02\x01'
                                + self.peer_mac, src=f[62:78], dst=dst,
                                mac=multicast_mac(dst) if dst == ALL_NODES else f[6:12]))

    def na(self, target, flags=0x20, dst=ALL_NODES, mac=None, lladdr=None, src=None, **kw):
        """A neighbour advertisement for target (override set), unsolicited
        to all nodes unless dst says otherwise."""
        opt = b'\x02\x01' + (lladdr or self.peer_mac) if lladdr is not False else b''
        return self.nd_frame(136, struct.pack('!B3x', flags) + target + opt, src=src or target,
                             dst=dst, mac=mac or (multicast_mac(dst) if dst[0] == 0xff
                                                  else None), **kw)

    def ns(self, target, src=None, lladdr=None, opts=None, dst=None, **kw):
        """A neighbour solicitation for target (the guest's address unless
        said), to its solicited-node group."""
        target = target or self.guest_ip
        group, mac = solicited(target)
        if opts is None:
            opts = b'\x01\x01' + (lladdr or self.peer_mac)
        return self.nd_frame(135, b'\0' * 4 + target + opts, src=src, dst=dst or group,
                             mac=mac if dst is None else None, **kw)

    def resolve_guest(self, link):
        """The guest's MAC from its answer to our solicitation (which also
        tells the guest where the peer is)."""
        for _ in range(10):
            # Multicast: the guest's MAC is what we are asking for.
            self.guest_mac = b'\0' * 6
            link.sock.send(self.ns(self.guest_ip))
            self.guest_mac = None
            f = link.expect(lambda f: (len(f) >= 78 and f[12:14] == b'\x86\xdd' and f[20] == ICMP6
                                       and f[54] == 136 and f[62:78] == self.guest_ip), 1.0)
            if f:
                self.guest_mac = f[6:12]
                return
        raise Fail('the guest does not answer neighbour solicitations for %s'
                   % socket.inet_ntop(socket.AF_INET6, self.guest_ip))

    def sync(self, link):
        """Ping the guest from PEER6 and wait for its answer."""
        for attempt in range(4):
            self.ping_seq = (self.ping_seq + 1) & 0xffff
            data = b'limpet-sync-%05d' % self.ping_seq
            want = struct.pack('!HH', SYNC6_ID, self.ping_seq) + data

            def reply(f):
                p = h.parse(f)
                return (p is not None and p[1] == ICMP6 and p[3] == self.peer_ip
                        and p[4][:1] == b'\x81' and p[4][4:] == want)
            link.drain()
            link.sock.send(self.eth(self.ip(self.ping(SYNC6_ID, self.ping_seq, data), ICMP6)))
            if link.expect(reply, 1.0 + attempt):
                return
            if h.time.monotonic() >= link.deadline:
                break
        raise Fail('the guest stopped answering ping6 %s' % link.where)


# ---- building blocks ------------------------------------------------------------

def ext(nh, body):
    """An extension header (hop-by-hop, routing, destination options):
    next header, length, then body padded to a multiple of 8 bytes."""
    body += b'\0' * (-(len(body) + 2) % 8)
    return bytes([nh, (len(body) + 2) // 8 - 1]) + body


def opts_hdr(nh, options):
    """A hop-by-hop or destination options header holding options, padded
    with a PadN option (or Pad1) to a multiple of 8 bytes."""
    pad = -(len(options) + 2) % 8
    if pad == 1:
        options += b'\0'
    elif pad:
        options += bytes([1, pad - 2]) + b'\0' * (pad - 2)
    return bytes([nh, (len(options) + 2) // 8 - 1]) + options


def frag_hdr(nh, offset, more, ident):
    """A fragment header; offset in bytes (a multiple of 8)."""
    return struct.pack('!BBHI', nh, 0, (offset & 0xfff8) | (1 if more else 0), ident)


def frags6(n, nh, payload, size, ident=None, src=None, pre=b'', pre_nh=None):
    """payload (what follows the fragment header: an upper-layer header and
    its data) cut into fragments of size bytes (a multiple of 8), each an
    IPv6 packet with the headers pre (whose first next header is pre_nh)
    before its fragment header."""
    ident = n.next_ident() if ident is None else ident
    out = []
    for off in range(0, len(payload), size):
        more = off + size < len(payload)
        out.append(n.eth(n.ip(pre + frag_hdr(nh, off, more, ident) + payload[off:off + size],
                              FRAGMENT if pre_nh is None else pre_nh, src=src)))
    return out


def datagram6(link, nh, first, wait=2.0):
    """The guest's next IPv6 datagram of next header nh to the peer whose
    first bytes first() accepts, reassembled from its fragments if it came
    in fragments: its payload, or None."""
    n = link.net
    frags = h.Fragments()
    for f in link.frames(wait):
        p = h.parse(f)
        if p is None or p[2] != n.guest_ip or p[3] != n.peer_ip:
            continue
        if p[1] == nh and first(p[4]):
            return p[4]
        if p[1] != FRAGMENT or len(p[4]) < 8 or p[4][0] != nh:
            continue
        off_m, ident = struct.unpack('!HI', p[4][2:8])
        data = frags.add(ident, off_m & 0xfff8, bool(off_m & 1), p[4][8:])
        if data is not None and first(data):
            return data
    return None


def echo_reply(ident, seq):
    return lambda d: d[:1] == b'\x81' and d[4:8] == struct.pack('!HH', ident, seq)


def ask_ping(link, frames, ident, seq, data, what, wait=2.0):
    """Send frames (an echo request, whole or in fragments) and return the
    payload of the guest's reply, or None."""
    with link.exchange():
        for f in frames:
            link.send(f)
        got = datagram6(link, ICMP6, echo_reply(ident, seq), wait)
    if got is not None and got[8:] != data:
        raise Fail('%s: the echo reply carries %d bytes, not the %d sent'
                   % (what, len(got) - 8, len(data)))
    return got


# ---- the cases --------------------------------------------------------------------

def case_ip6_header(link, n):
    """Version, payload length longer and shorter than the frame, hop
    limits, traffic class and flow label, next header 59, runts."""
    ping = n.ping(0x6001, 1, b'header')
    for version in (0, 4, 5, 7, 15):
        link.send(n.eth(n.ip(ping, ICMP6, version=version)))
    for plen in (0, 1, 7, 8, len(ping) - 1, len(ping) + 1, len(ping) + 100, 1500, 0xffff):
        link.send(n.eth(n.ip(ping, ICMP6, plen=plen)))
    link.send(n.eth(n.ip(ping, ICMP6) + b'\xa5' * 100))       # padding past the payload
    for hlim in (0, 1, 255):
        link.send(n.eth(n.ip(ping, ICMP6, hlim=hlim)))
    link.send(n.eth(n.ip(ping, ICMP6, tc=0xff, flow=0xfffff)))
    # No next header (59), with and without bytes after it.
    link.send(n.eth(n.ip(b'', NONE6)))
    link.send(n.eth(n.ip(b'\xa5' * 64, NONE6)))
    link.send(n.eth(n.ip(opts_hdr(NONE6, b'') + b'\xa5' * 8, HBH)))
    # Cut short at every length of the fixed header and of the ping.
    full = n.eth(n.ip(ping, ICMP6))
    for size in range(14, len(full)):
        link.send(full[:size])
    # Sources that must be dropped: multicast, IPv4-mapped, loopback, the
    # guest's own; the unspecified one other than for DAD.
    for src in ('ff02::1', '::ffff:10.0.5.50', '::1', '::', 'fd00:5::3', 'fe80::5054:ff:fe12:3456'):
        s = a6(src)
        link.send(n.eth(n.ip(n.ping(0x6002, 1, b'src', src=s), ICMP6, src=s)))
        link.send(n.eth(n.ip(n.udp(h.PORT, h.PORT, b'src', src=s), UDP6, src=s)))
        link.send(n.eth(n.ip(n.tcp(h.PORT, h.PORT, 1, 0, SYN, src=s), TCP6, src=s)))
        link.send(n.eth(n.ip(n.tcp(h.PORT, h.PORT, 2, 0, RST, src=s), TCP6, src=s)))
    # Destinations that are not ours, at the guest's MAC.
    for dst in ('fd00:5::99', 'fd00:6::3', '::1', '::ffff:10.0.5.3', 'ff05::1', 'ff02::1:ff00:99',
                '2001:db8::3'):
        d = a6(dst)
        link.send(n.eth(n.ip(n.ping(0x6003, 1, b'dst', dst=d), ICMP6, dst=d)))
        link.send(n.eth(n.ip(n.udp(40, h.PORT, b'dst', dst=d), UDP6, dst=d)))
        link.send(n.eth(n.ip(n.tcp(41, h.PORT, 1, 0, SYN, dst=d), TCP6, dst=d)))
    # An echo request to all nodes (answered) and a bad checksum.
    link.send(n.eth(n.ip(n.ping(0x6004, 1, b'all', dst=ALL_NODES), ICMP6, dst=ALL_NODES),
                    dst=multicast_mac(ALL_NODES)))
    link.send(n.eth(n.ip(n.icmp6(128, 0, b'\x60\x05\0\1bad', chksum=0x1234), ICMP6)))
    # IPv6 in an IPv4 ethertype and IPv4 in IPv6's.
    link.send(n.eth(n.ip(ping, ICMP6), 0x0800))
    link.send(n.eth(bytes.fromhex('450000200001000040110000') + b'\x0a\x00\x05\x32'
                    + b'\x0a\x00\x05\x03' + b'\0' * 12))


def case_ext_chains(link, n):
    """Long chains of hop-by-hop (first) and destination options headers,
    unknown and looping-looking next headers, hop-by-hop not first, a
    header whose length runs past the packet."""
    data = b'chain'
    for count in (1, 2, 10, 50, 150):
        # Destination options headers, each pointing to the next, then a ping.
        chain, nh = b'', ICMP6
        for _ in range(count):
            chain = opts_hdr(nh, b'') + chain
            nh = DSTOPTS
        pkt = n.ip(opts_hdr(DSTOPTS, b'') + chain + n.ping(0x6010, count, data), HBH)
        if len(pkt) <= 1500:
            link.send(n.eth(pkt))
    # Each extension header pointing at itself or back at the one before:
    # a header's next header names its own kind, over and over, ending
    # in one whose next header is an unknown protocol.
    for kind in (DSTOPTS, ROUTING):
        chain = b''
        for _ in range(40):
            chain += (opts_hdr(kind, b'') if kind == DSTOPTS else ext(kind, b'\0' * 6))
        link.send(n.eth(n.ip(chain + ext(0xfd, b'\0' * 6) + b'\xa5' * 16, kind)))
    # Unknown next headers, from the fixed header and after options; each
    # draws a parameter problem (not for ICMPv6's 58, nor multicast).
    for nh in (1, 2, 4, 41, 47, 50, 51, 103, 132, 135, 139, 140, 143, 253, 254, 255):
        link.send(n.eth(n.ip(b'\xa5' * 40, nh)))
        link.send(n.eth(n.ip(opts_hdr(nh, b'') + b'\xa5' * 40, DSTOPTS)))
    # Hop-by-hop after another header, and a second one after the first.
    ping = n.ping(0x6011, 1, b'hbh')
    link.send(n.eth(n.ip(opts_hdr(HBH, b'') + opts_hdr(ICMP6, b'') + ping, DSTOPTS)))
    link.send(n.eth(n.ip(opts_hdr(HBH, b'') + opts_hdr(ICMP6, b'') + ping, HBH)))
    link.send(n.eth(n.ip(frag_hdr(HBH, 0, False, n.next_ident()) + opts_hdr(ICMP6, b'') + ping,
                         FRAGMENT)))
    # Headers longer than what follows them, and cut in their middle.
    for kind in (HBH, DSTOPTS, ROUTING, FRAGMENT):
        for hdr in (bytes([ICMP6, 255]) + b'\0' * 6, bytes([ICMP6, 1]) + b'\0' * 6,
                    bytes([ICMP6]), bytes([ICMP6, 0, 1, 0])):
            link.send(n.eth(n.ip(hdr, kind)))
            link.send(n.eth(n.ip(hdr, kind, plen=len(hdr) + 8)))
    # An options header with a payload length that ends inside it.
    link.send(n.eth(n.ip(opts_hdr(ICMP6, b'\x01\x0c' + b'\0' * 12) + ping, DSTOPTS, plen=6)))


def case_options(link, n):
    """Every option type in hop-by-hop and destination options headers,
    with lengths that run past the header; Pad1 and PadN with bad lengths;
    the four action bits (skip, discard, discard and ICMP, discard and
    ICMP unless multicast); router alert; jumbo payload with and without a
    zero payload length."""
    ping = n.ping(0x6020, 1, b'options')
    for kind in (HBH, DSTOPTS):
        for t in range(256):
            for opt in (bytes([t, 0]), bytes([t, 4, 0, 0, 0, 0]), bytes([t, 255]),
                        bytes([t])):
                body = opt + b'\0' * (-(len(opt) + 2) % 8)
                link.send(n.eth(n.ip(bytes([ICMP6, (len(body) + 2) // 8 - 1]) + body + ping,
                                     kind)))
            if t & 0xc0:
                # The same, to all nodes: action 3 draws no ICMP there.
                link.send(n.eth(n.ip(opts_hdr(ICMP6, bytes([t, 0])) + n.ping(
                    0x6020, 2, b'options', dst=ALL_NODES), kind, dst=ALL_NODES),
                    dst=multicast_mac(ALL_NODES)))
        # Padding: Pad1 runs, PadN of every length up to past the header.
        for plen in range(0, 16):
            link.send(n.eth(n.ip(bytes([ICMP6, 1]) + bytes([1, plen]) + b'\0' * 12 + ping, kind)))
        link.send(n.eth(n.ip(bytes([ICMP6, 0]) + b'\0' * 6 + ping, kind)))          # Pad1 x 6
        link.send(n.eth(n.ip(bytes([ICMP6, 0]) + b'\x01\x04\xa5\xa5\xa5\xa5' + ping, kind)))
        link.send(n.eth(n.ip(bytes([ICMP6, 0]) + b'\x01\x05\0\0\0\0' + ping, kind)))
        # Router alert (MLD's), with its right length and wrong ones.
        for ra in (b'\x05\x02\0\0', b'\x05\x00', b'\x05\x04\0\0\0\0', b'\x05\x02\xff\xff'):
            link.send(n.eth(n.ip(opts_hdr(ICMP6, ra) + ping, kind)))
        # Jumbo payload (RFC 2675): with payload length 0, and with a
        # payload length too; lengths small and huge.
        for jumbo in (0, 1, 65535, 65536, 70000, 0xffffffff):
            j = b'\xc2\x04' + struct.pack('!I', jumbo)
            link.send(n.eth(n.ip(opts_hdr(ICMP6, j) + ping, kind, plen=0)))
            link.send(n.eth(n.ip(opts_hdr(ICMP6, j) + ping, kind)))
        link.send(n.eth(n.ip(opts_hdr(ICMP6, b'\xc2\x02\0\0') + ping, kind, plen=0)))


def case_routing(link, n):
    """Routing headers: type 0 (deprecated by RFC 5095) with segments left,
    which must be dropped with a parameter problem and never followed;
    with none left (processed as if absent); types 1 to 4 and unknown ones;
    odd lengths; addresses pointing at the guest, the peer, multicast."""
    ping = n.ping(0x6030, 1, b'routing')
    addrs = [n.guest_ip, n.peer_ip, ALL_NODES, a6('fd00:5::99'), a6('::1'), UNSPEC]
    for rtype in (0, 1, 2, 3, 4, 5, 253, 254, 255):
        for left in (0, 1, 3, 6, 255):
            body = struct.pack('!BB4x', rtype, left) + b''.join(addrs)
            link.send(n.eth(n.ip(ext(ICMP6, body)[:2] + body + ping, ROUTING)))
            # An odd header length (not a whole number of addresses).
            r = bytes([ICMP6, 1, rtype, left]) + b'\0' * 12
            link.send(n.eth(n.ip(r + ping, ROUTING)))
    # Type 0 with segments left: never followed. The guest must not send
    # our ping on to the next address (the peer, fd00:5::99): a packet to
    # fd00:5::99, or our echo request (type 128, its identifier) leaving.
    def forwarded(p):
        return p is not None and p[2] in (n.guest_ip, n.guest_ll) and (
            p[3] == a6('fd00:5::99') or (p[4][:1] == b'\x80' and p[4][4:6] == b'\x60\x30'))

    for left in (1, 2):
        body = struct.pack('!BB4x', 0, left) + n.peer_ip + a6('fd00:5::99')
        with link.exchange():
            link.send(n.eth(n.ip(ext(ICMP6, body)[:2] + body + ping, ROUTING)))
            bad = link.expect(lambda f: forwarded(h.parse(f)), 0.3)
        if bad is not None:
            raise Fail('a type 0 routing header was followed: the guest sent a packet to %s'
                       % socket.inet_ntop(socket.AF_INET6, h.parse(bad)[3]))
    # Routing header after a destination options header, and before a fragment.
    body = struct.pack('!BB4x', 0, 1) + n.peer_ip
    link.send(n.eth(n.ip(opts_hdr(ROUTING, b'') + bytes([ICMP6, 2]) + body + ping, DSTOPTS)))
    link.send(n.eth(n.ip(bytes([FRAGMENT, 2]) + body + frag_hdr(ICMP6, 0, False, 7) + ping,
                         ROUTING)))


def case_fragments6(link, n):
    """Overlapping fragments (RFC 5722), tiny ones, atomic fragments
    (RFC 6946), a first fragment without the upper-layer header (RFC
    7112), fragments with M set and a length not a multiple of 8, offsets
    past 64 KiB, fragments of fragments, fragmented UDP, TCP and ICMPv6."""
    data = bytes(range(256)) * 8
    # Atomic fragment: offset 0, M clear; answered as a whole.
    ping = n.ping(0x6040, 1, b'atomic')
    got = ask_ping(link, [n.eth(n.ip(frag_hdr(ICMP6, 0, False, n.next_ident()) + ping,
                                     FRAGMENT))], 0x6040, 1, b'atomic', 'an atomic fragment')
    if got is None:
        raise Fail('an atomic fragment (RFC 6946) was not answered')
    # Reversed order, which is legal: answered.
    msg = n.ping(0x6041, 1, data)
    pieces = frags6(n, ICMP6, msg, 512)
    if ask_ping(link, reversed(pieces), 0x6041, 1, data, 'fragments in reverse order') is None:
        raise Fail('a ping sent in fragments in reverse order was not answered')
    # Overlapping: the second fragment starts inside the first (RFC 5722:
    # the whole datagram must be dropped, silently).
    msg = n.ping(0x6042, 1, data)
    ident = n.next_ident()
    overlap = [n.eth(n.ip(frag_hdr(ICMP6, 0, True, ident) + msg[:1024], FRAGMENT)),
               n.eth(n.ip(frag_hdr(ICMP6, 512, True, ident) + msg[512:1024], FRAGMENT)),
               n.eth(n.ip(frag_hdr(ICMP6, 1024, False, ident) + msg[1024:], FRAGMENT))]
    if ask_ping(link, overlap, 0x6042, 1, data, 'overlapping fragments', wait=1.0) is not None:
        link.limit('overlap')
    # Overlaps of other kinds: a duplicate start, a fragment inside
    # another, one covering all the others; different data in a duplicate.
    ident = n.next_ident()
    for off, end, more in ((0, 64, True), (0, 64, True), (8, 24, True), (0, 2048, True),
                           (64, len(msg), False), (2000, len(msg), False)):
        link.send(n.eth(n.ip(frag_hdr(ICMP6, off, more, ident) + msg[off:end], FRAGMENT)))
    # Tiny: 8-byte fragments of a UDP datagram, the first of them only the
    # UDP header; and the same with 0-byte fragments in between.
    udp = n.udp(3, h.PORT, b'tiny fragments' * 4)
    for f in frags6(n, UDP6, udp, 8):
        link.send(f)
    ident = n.next_ident()
    link.send(n.eth(n.ip(frag_hdr(UDP6, 0, True, ident), FRAGMENT)))
    link.send(n.eth(n.ip(frag_hdr(UDP6, 8, True, ident), FRAGMENT)))
    link.send(n.eth(n.ip(frag_hdr(UDP6, 0, False, ident), FRAGMENT)))
    # M set and a payload length not a multiple of 8 (parameter problem).
    link.send(n.eth(n.ip(frag_hdr(ICMP6, 0, True, n.next_ident()) + msg[:13], FRAGMENT)))
    # A first fragment holding only a destination options header, the
    # upper-layer header in the second (RFC 7112 allows dropping it).
    ping = n.ping(0x6043, 1, b'no upper-layer header in the first fragment')
    rest = opts_hdr(ICMP6, b'\x01\x04\0\0\0\0') + ping
    for f in frags6(n, DSTOPTS, rest, 8):
        link.send(f)
    # Offsets past 64 KiB: a last fragment ending beyond 65535.
    ident = n.next_ident()
    link.send(n.eth(n.ip(frag_hdr(ICMP6, 0, True, ident) + msg[:1024], FRAGMENT)))
    link.send(n.eth(n.ip(frag_hdr(ICMP6, 65528, False, ident) + b'\xa5' * 1024, FRAGMENT)))
    link.send(n.eth(n.ip(frag_hdr(ICMP6, 65000, True, n.next_ident()) + b'\xa5' * 1024,
                         FRAGMENT)))
    # Fragments of a fragment: a datagram whose reassembled payload is
    # itself a fragment (of a ping), and the rest of that inner datagram.
    inner_ident = n.next_ident()
    ping = n.ping(0x6044, 1, b'N' * 600)
    inner = frag_hdr(ICMP6, 0, True, inner_ident) + ping[:400]
    for f in frags6(n, FRAGMENT, inner, 200):
        link.send(f)
    link.send(n.eth(n.ip(frag_hdr(ICMP6, 400, False, inner_ident) + ping[400:], FRAGMENT)))
    # The whole inner datagram inside the outer one (an atomic inner fragment).
    inner = frag_hdr(ICMP6, 0, False, n.next_ident()) + n.ping(0x6045, 1, b'nested')
    for f in frags6(n, FRAGMENT, inner, 16):
        link.send(f)
    # Fragments whose next headers disagree: the first says UDP, the
    # last ICMPv6.
    ident = n.next_ident()
    link.send(n.eth(n.ip(frag_hdr(ICMP6, 64, False, ident) + msg[64:128], FRAGMENT)))
    link.send(n.eth(n.ip(frag_hdr(UDP6, 0, True, ident) + msg[:64], FRAGMENT)))
    # Fragmented UDP to the echo port (answered by echo), TCP (a SYN, reset
    # afterwards) and ICMPv6.
    for f in frags6(n, UDP6, n.udp(4, h.PORT, b'U' * 3000), 1232):
        link.send(f)
    for f in frags6(n, TCP6, n.tcp(5, h.PORT, 1, 0, SYN, data=b'S' * 100), 32):
        link.send(f)
    link.send(n.tcp_frame(5, h.PORT, 2, 0, RST))
    for f in frags6(n, ICMP6, n.ping(0x6046, 1, b'I' * 2000), 512):
        link.send(f)


def case_fragment_trains6(link, n, trains=1500):
    """Thousands of incomplete datagrams, each holding a receive buffer in
    reassembly until it is evicted or times out (IPV6_REASS_MAXAGE)."""
    data = n.udp(6, h.PORT, b'T' * 3000)
    for i in range(trains):
        ident = 0x7000000 + i
        if i % 3 == 0:
            f = frag_hdr(UDP6, 0, True, ident) + data[:1232]
        elif i % 3 == 1:
            f = frag_hdr(UDP6, 2464, False, ident) + data[2464:]
        else:
            f = frag_hdr(UDP6, 1232, True, ident) + data[1232:2464]
        link.send(n.eth(n.ip(f, FRAGMENT)))


def case_ping6_65000(link, n):
    """A 65000-byte echo request in fragments (legal, if large), after all
    that: the guest answers it, in fragments too."""
    data = bytes(i * 7 & 0xff for i in range(65000))
    got = ask_ping(link, frags6(n, ICMP6, n.ping(0x6050, 1, data), 1448), 0x6050, 1, data,
                   'a 65000-byte ping6 in fragments', wait=5)
    if got is None:
        raise Fail('a 65000-byte ping6 in fragments: no answer')


def case_nd_spoofing(link, n):
    """Neighbour solicitations and advertisements that must not change
    anything: NAs claiming the guest's addresses from another MAC
    (unsolicited, solicited, to all nodes and to the guest), an unsolicited
    NA overriding the peer's entry (which the peer's next answer puts
    back), NS and NA with a hop limit other than 255, a code other than 0,
    a multicast target, truncated and zero-length options (RFC 4861:
    dropped), options past the end, NS from the unspecified address (DAD)
    for the guest's addresses."""
    other = b'\x02\x00\x00\x00\x05\x99'
    g, ll = n.guest_ip, n.guest_ll
    for target in (g, ll):
        for flags in (0x20, 0x60, 0xe0, 0x00):
            link.send(n.na(target, flags, lladdr=other, src=n.peer_ip))
            link.send(n.na(target, flags, lladdr=other, src=n.peer_ll))
            link.send(n.na(target, flags, dst=g, lladdr=other, src=n.peer_ip))
        link.send(n.na(target, 0x20, lladdr=False, src=n.peer_ip))
        # DAD probes for the guest's addresses (from ::): it defends them.
        link.send(n.ns(target, src=UNSPEC, opts=b''))
    # The peer's entry overridden by an unsolicited NA from elsewhere (a
    # spoof), then by a solicited one; the guest's next NS is answered
    # right by our Link (sync() makes sure).
    for dst in (ALL_NODES, g):
        link.send(n.na(n.peer_ip, 0x20, dst=dst, lladdr=other))
        link.send(n.na(n.peer_ip, 0x60, dst=dst, lladdr=other))
        link.send(n.na(n.peer_ip, 0xa0, dst=dst, lladdr=BROADCAST6))
    # Hop limit other than 255, codes other than 0, multicast targets.
    for hlim in (0, 1, 64, 254):
        link.send(n.ns(g, hlim=hlim, lladdr=other))
        link.send(n.na(n.peer_ip, 0x20, hlim=hlim, lladdr=other))
    for code in (1, 255):
        link.send(n.ns(g, code=code, lladdr=other))
        link.send(n.na(n.peer_ip, 0x20, code=code, lladdr=other))
    link.send(n.ns(ALL_NODES, lladdr=other))
    link.send(n.na(ALL_NODES, 0x20, lladdr=other))
    # Options: zero length, truncated, past the end, unknown, many.
    for opts in (b'\x01\x00' + other, b'\x01', b'\x01\x01\x02', b'\x01\x02' + other,
                 b'\x01\xff' + other, b'\x00\x00', b'\x05\x01' + b'\0' * 6,
                 (b'\x0e\x01' + b'\0' * 6) * 20, b'\x01\x01' + other + b'\x02\x00'):
        link.send(n.ns(g, opts=opts))
        link.send(n.ns(g, src=a6('fd00:5::77'), opts=opts))
        body = struct.pack('!B3x', 0x20) + n.peer_ip + opts
        link.send(n.nd_frame(136, body, dst=ALL_NODES, mac=multicast_mac(ALL_NODES)))
        link.send(n.nd_frame(136, struct.pack('!B3x', 0x60) + n.peer_ip + opts))
    # Truncated messages: NS and NA cut at every length of their bodies.
    full = b'\0' * 4 + g + b'\x01\x01' + other
    for size in range(0, len(full)):
        link.send(n.nd_frame(135, full[:size]))
        link.send(n.nd_frame(136, full[:size], dst=ALL_NODES, mac=multicast_mac(ALL_NODES)))
    # A NS from the unspecified address with a source link-layer option
    # (RFC 4861 forbids it), and to a unicast address.
    link.send(n.ns(g, src=UNSPEC))
    link.send(n.ns(g, src=UNSPEC, dst=g, opts=b''))
    # Put our own entry back: a solicited, overriding NA (answers to our
    # NS right after are the Link's).
    link.send(n.na(n.peer_ip, 0x60, dst=g, lladdr=n.peer_mac))
    link.send(n.ns(g))


BROADCAST6 = b'\xff' * 6


def case_ns_flood(link, n, count=3000):
    """Neighbour solicitations from thousands of spoofed sources of the
    /64, each with a MAC of its own: the guest answers each and enters it
    in its neighbour cache (64 entries), which must stay bounded; the peer
    must still be reachable afterwards (the sync ping after the case)."""
    for i in range(count):
        src = a6('fd00:5::')[:8] + struct.pack('!Q', 0x1000000 + i)
        mac = b'\x02\x00' + struct.pack('!I', 0x10000 + i)
        link.send(n.ns(n.guest_ip, src=src, lladdr=mac))
        if i % 4 == 0:
            # Some for the link-local address, from link-local sources.
            llsrc = a6('fe80::')[:8] + struct.pack('!Q', 0x2000000 + i)
            link.send(n.ns(n.guest_ll, src=llsrc, lladdr=mac))
    # A connection to the guest from the peer still works.
    c = h.Conn(link)
    c.ask(b'after the NS flood', 'a connection after a flood of neighbour solicitations')
    c.reset()


def ra(n, prefixes=(), mtu=None, lifetime=1800, src=None, hlim=255, code=0, extra=b'',
       slla=True, reachable=0, retrans=0, flags=0):
    """A router advertisement from src (the peer's link-local address)."""
    body = struct.pack('!BBHII', 64, flags, lifetime, reachable, retrans)
    if slla:
        body += b'\x01\x01' + n.peer_mac
    if mtu is not None:
        body += struct.pack('!BBHI', 5, 1, 0, mtu)
    for prefix, plen, pflags, valid, preferred in prefixes:
        body += struct.pack('!BBBBIII16s', 3, 4, plen, pflags, valid, preferred, 0, prefix)
    return n.nd_frame(134, body + extra, src=src or n.peer_ll, dst=ALL_NODES, hlim=hlim,
                      code=code, mac=multicast_mac(ALL_NODES))


def advertise_prefix(link, n, wait=8.0):
    """For a guest with ip6=slaac: advertise the /64 of its address (the
    one it makes from its MAC, which the caller names), as a router would,
    until the guest answers a solicitation for it (duplicate address
    detection takes a second or two)."""
    prefix = n.guest_ip[:8] + bytes(8)
    end = h.time.monotonic() + wait
    while h.time.monotonic() < end:
        link.send(ra(n, [(prefix, 64, 0xc0, 3600, 3600)], lifetime=0))
        try:
            n.resolve_guest(link)
            return
        except Fail:
            continue
    raise Fail('no SLAAC address %s after router advertisements for its prefix'
               % socket.inet_ntop(socket.AF_INET6, n.guest_ip))


def case_ra_flood(link, n, count=600):
    """Router advertisements: hundreds of prefixes (on-link and autonomous)
    from hundreds of routers, MTU options too small, too large and in
    range, router and prefix lifetimes 0 and the largest, bad hop limits
    and codes, zero-length and truncated options, from a global source.
    The address, prefix and router tables must stay bounded, and the
    guest must go on serving on its address (the sync ping, from the
    /64's peer, after the case)."""
    slaac = h.SLAAC
    own = a6('fd00:5::')
    for i in range(count):
        src = a6('fe80::')[:8] + struct.pack('!Q', 0x3000000 + i)
        prefixes = []
        for j in range(4):
            p = a6('2001:db8::')[:4] + struct.pack('!HH', i, j) + bytes(8)
            prefixes.append((p, 64, random.choice((0xc0, 0x40, 0x80, 0xe0)),
                             random.choice((0, 1, 30, 3600, 0xffffffff)),
                             random.choice((0, 1, 30, 3600, 0xffffffff))))
        link.send(ra(n, prefixes, src=src, lifetime=random.choice((0, 1, 1800, 9000, 0xffff)),
                     mtu=random.choice((None, 0, 1, 1279, 1280, 1400, 1500, 9000, 65535,
                                        0xffffffff)),
                     reachable=random.choice((0, 1, 0xffffffff)),
                     retrans=random.choice((0, 1, 0xffffffff))))
    # Prefixes of other lengths, link-local and multicast prefixes, ours
    # with lifetime 0 and the largest (a static address is not SLAAC's to
    # take away; with ip6=slaac, RFC 4862's two-hour rule keeps it).
    for plen in (0, 1, 48, 63, 65, 96, 128, 129, 255):
        link.send(ra(n, [(a6('2001:db8:ffff::'), plen, 0xc0, 3600, 3600)]))
    for p in ('fe80::', 'ff02::', '::', '::1'):
        link.send(ra(n, [(a6(p), 64, 0xc0, 3600, 3600)]))
    for valid, preferred in ((0, 0), (1, 0), (0xffffffff, 0xffffffff), (10, 20)):
        link.send(ra(n, [(own, 64, 0xc0, valid, preferred)]))
    # Not from a link-local source, bad hop limits and codes.
    link.send(ra(n, [(a6('2001:db8:eeee::'), 64, 0xc0, 3600, 3600)], src=n.peer_ip))
    for hlim in (0, 1, 64, 254):
        link.send(ra(n, [(a6('2001:db8:dddd::'), 64, 0xc0, 3600, 3600)], hlim=hlim))
    link.send(ra(n, code=1))
    # Options: zero length, past the end, truncated, unknown, RDNSS.
    for extra in (b'\x03\x00' + b'\0' * 30, b'\x05\x00\0\0\0\0\x05\x00', b'\x03\x04\x40',
                  b'\x01\xff' + n.peer_mac, b'\x19\x03' + b'\0' * 6 + b'\xfd' * 16,
                  b'\x19\x01\0\0\0\0\0\0', b'\x18\x01' + b'\0' * 6, b'\xfe\x01' + b'\0' * 6,
                  b'\x05\x01\0\0\x00\x00\x01\x00', b'\x01'):
        link.send(ra(n, extra=extra))
    # Truncated RAs.
    full = ra(n, [(a6('2001:db8:cccc::'), 64, 0xc0, 3600, 3600)])
    for size in range(14 + 40 + 4, len(full), 3):
        link.send(full[:size])
    # Every router gone at once (lifetime 0), the MTU option last in range.
    link.send(ra(n, lifetime=0, mtu=1500))
    if slaac:
        # Our prefix again, so that SLAAC's address stays.
        link.send(ra(n, [(own, 64, 0xc0, 3600, 3600)]))


def case_redirects(link, n):
    """Redirects (ICMPv6 137) for the peer and for other destinations to
    odd targets: multicast, the guest itself, the unspecified address,
    off-link globals; from link-local and global sources; with bad hop
    limits, codes and options (redirected header quoting anything)."""
    other = b'\x02\x00\x00\x00\x05\x98'
    targets = [n.peer_ll, ALL_NODES, n.guest_ip, n.guest_ll, UNSPEC, a6('2001:db8::1'),
               a6('fd00:5::99'), a6('::1'), a6('::ffff:10.0.5.3')]
    dests = [n.peer_ip, a6('2001:db8::7'), a6('fd00:5::99'), n.guest_ip, ALL_NODES, UNSPEC]
    quoted = n.ip(n.tcp(h.PORT, 40001, 1, 1, ACK, src=n.guest_ip, dst=n.peer_ip), TCP6,
                  src=n.guest_ip, dst=n.peer_ip)
    for target in targets:
        for dest in dests:
            for opts in (b'', b'\x02\x01' + other,
                         b'\x04\x01' + b'\0' * 6,
                         b'\x04' + bytes([(len(quoted) + 8) // 8]) + b'\0' * 6
                         + quoted[:(len(quoted) + 8) // 8 * 8 - 8],
                         b'\x02\x00' + other, b'\x04\xff' + b'\0' * 6):
                body = b'\0' * 4 + target + dest + opts
                link.send(n.nd_frame(137, body, src=n.peer_ll))
            link.send(n.nd_frame(137, b'\0' * 4 + target + dest, src=n.peer_ip))
            link.send(n.nd_frame(137, b'\0' * 4 + target + dest, src=n.peer_ll, hlim=64))
    for size in range(0, 36):
        link.send(n.nd_frame(137, (b'\0' * 4 + n.peer_ll + n.peer_ip)[:size], src=n.peer_ll))
    # Redirect the peer back to itself (what it was).
    link.send(n.nd_frame(137, b'\0' * 4 + n.peer_ip + n.peer_ip + b'\x02\x01' + n.peer_mac,
                         src=n.peer_ll))


def case_icmp6_errors(link, n):
    """ICMPv6 errors (destination unreachable, packet too big, time
    exceeded, parameter problem) quoting anything: nothing, a truncated
    header, garbage, a datagram of the guest's to the peer, to another
    address, and a TCP segment of a live connection, which must go on
    echoing afterwards (RFC 5927: a soft error).  Packet too big with MTUs
    below 1280 (RFC 8201: the path MTU never goes below that), 1280 and
    huge."""
    c = h.Conn(link)
    c.ask(b'before the errors', 'a connection before the ICMPv6 errors')
    g, p = n.guest_ip, n.peer_ip
    live = n.ip(n.tcp(h.PORT, c.sport, c.rcv_nxt, c.snd_nxt, ACK, src=g, dst=p), TCP6, src=g,
                dst=p)
    other = n.ip(n.udp(h.PORT, 9, b'x' * 40, src=g, dst=a6('2001:db8::9')), UDP6, src=g,
                 dst=a6('2001:db8::9'))
    echo_q = n.ip(n.ping(1, 1, b'q', src=g, dst=p), ICMP6, src=g, dst=p)
    garbage = bytes(random.getrandbits(8) for _ in range(200))
    quotes = [b'', live[:8], live[:40], live[:48], live, other, echo_q, garbage,
              n.ip(b'', 0xfd, src=g, dst=p)]
    with link.exchange():
        for itype, codes in ((1, range(0, 8)), (3, (0, 1, 2)), (4, (0, 1, 2, 3, 255))):
            for code in list(codes) + [255]:
                for q in quotes:
                    link.send(n.icmp6_frame(itype, code, b'\0\0\0\x08' + q))
        # Truncated messages: the ICMPv6 header cut short.
        for itype in (1, 2, 3, 4):
            for size in range(0, 8):
                link.send(n.eth(n.ip(n.icmp6(itype, 0, b'\0' * 4 + live)[:size], ICMP6)))
    c.ask(b'after the errors', 'a live connection after ICMPv6 errors quoting it')
    # Packet too big for the peer, one MTU at a time, each followed by a
    # ping (the sync, 64 bytes) and a 3000-byte ping whose answer must
    # come in fragments that fit the link (RFC 8201: the path MTU stays
    # between 1280 and the link's).
    data = b'P' * 3000
    for mtu in (0, 1, 8, 48, 50, 55, 56, 68, 100, 576, 1279, 1280, 1500, 9000, 65535,
                65536, 0xffffffff):
        with link.exchange():
            for q in (live, echo_q, other, live[:40], b''):
                link.send(n.icmp6_frame(2, 0, struct.pack('!I', mtu) + q))
        link.where = 'after packet too big, MTU %d' % mtu
        link.sync()
        if ask_ping(link, frags6(n, ICMP6, n.ping(0x6060, mtu & 0xffff, data), 1232), 0x6060,
                    mtu & 0xffff, data, 'a 3000-byte ping after packet too big, MTU %d' % mtu,
                    wait=3) is None:
            raise Fail('no answer to a 3000-byte ping after packet too big, MTU %d' % mtu)
    c.ask(b'Q' * 1200, 'a live connection after packet-too-big messages', wait=5)
    c.reset()


def case_icmp6_types(link, n):
    """Every ICMPv6 type with a few codes and lengths (truncated, full,
    long), to the guest and to all nodes; MLD queries and reports (v1 and
    v2) with bad lengths, source counts past the end, from global
    sources and with bad hop limits; router solicitations."""
    data = n.ip(n.udp(h.PORT, 60, b'quoted', src=n.guest_ip, dst=n.peer_ip), UDP6,
                src=n.guest_ip, dst=n.peer_ip)
    for itype in range(256):
        if itype in (1, 2, 3, 4, 128, 129, 133, 134, 135, 136, 137, 130, 131, 132, 143):
            variants = [(c, b) for c in (0, 1, 255) for b in (b'', b'\0' * 4, b'\0' * 4 + data)]
        else:
            variants = [(0, b''), (0, b'\0' * 4 + data[:8]), (255, b'\0' * 4 + data)]
        for code, body in variants:
            link.send(n.icmp6_frame(itype, code, body))
        link.send(n.icmp6_frame(itype, 0, b'\0' * 4, dst=ALL_NODES, mac=multicast_mac(ALL_NODES)))
        link.send(n.eth(n.ip(n.icmp6(itype, 0)[:2], ICMP6)))
        link.send(n.icmp6_frame(itype, 0, b'\0' * 4, chksum=0x1234))
    # MLD (RFC 2710, 3810): from link-local, hop limit 1, router alert.
    ra_opt = b'\x05\x02\0\0'
    groups = [UNSPEC, ALL_NODES, solicited(n.guest_ip)[0], a6('ff05::1234')]

    def mld(itype, body, src=None, hlim=1, dst=ALL_NODES, hbh=True):
        msg = n.icmp6(itype, 0, body, src=src or n.peer_ll, dst=dst)
        payload = (opts_hdr(ICMP6, ra_opt) + msg) if hbh else msg
        return n.eth(n.ip(payload, HBH if hbh else ICMP6, src=src or n.peer_ll, dst=dst,
                          hlim=hlim), dst=multicast_mac(dst))

    for grp in groups:
        for itype in (130, 131, 132):
            for delay in (0, 1, 0xffff):
                link.send(mld(itype, struct.pack('!HH', delay, 0) + grp))
            link.send(mld(itype, struct.pack('!HH', 1000, 0) + grp[:8]))       # truncated
            link.send(mld(itype, struct.pack('!HH', 1000, 0) + grp + b'\xa5' * 40))
            link.send(mld(itype, struct.pack('!HH', 1000, 0) + grp, src=n.peer_ip))
            link.send(mld(itype, struct.pack('!HH', 1000, 0) + grp, hlim=64))
            link.send(mld(itype, struct.pack('!HH', 1000, 0) + grp, hbh=False))
        # MLDv2 queries: sources counted past the end, S flag, QRV, QQIC.
        for nsrc, srcs in ((0, b''), (1, n.peer_ip), (3, n.peer_ip), (0xffff, b''),
                           (100, n.peer_ip * 100)):
            body = struct.pack('!HH', 1000, 0) + grp + struct.pack('!BBH', 0x0f, 0xff, nsrc)
            link.send(mld(130, body + srcs[:1400]))
    # MLDv2 reports (143): records with bad types, counts and aux lengths.
    for rtype in (0, 1, 2, 3, 4, 5, 6, 7, 255):
        for nsrc, aux in ((0, 0), (1, 0), (200, 0), (0, 255)):
            rec = struct.pack('!BBH', rtype, aux, nsrc) + a6('ff05::1') + n.peer_ip
            for count in (1, 2, 0xffff):
                link.send(mld(143, struct.pack('!HH', 0, count) + rec, dst=a6('ff02::16')))
    # Router solicitations (a host ignores them), with and without options.
    for body in (b'\0' * 4, b'\0' * 4 + b'\x01\x01' + n.peer_mac, b'\0' * 4 + b'\x01\x00',
                 b''):
        link.send(n.nd_frame(133, body, src=n.peer_ll, dst=ALL_ROUTERS,
                             mac=multicast_mac(ALL_ROUTERS)))
    # Echo requests: zero-length, bad checksum, to the link-local address.
    link.send(n.icmp6_frame(128, 0, b'\0\x09\0\1'))
    link.send(n.icmp6_frame(128, 0, b''))
    link.send(n.icmp6_frame(128, 0, b'\0\x09\0\2', dst=n.guest_ll))


def case_syn_flood6(link, n, count=3000):
    """SYNs from random ports of addresses of the /64 that nobody owns (the
    guest's SYN-ACKs wait for neighbour advertisements that never come).
    While the half-open connections hold every PCB the guest has, a real
    connection must still be accepted, echo, and go on echoing through the
    rest of the flood; at the end every half-open one is reset with the
    right sequence number."""
    flood = []

    def syns(count):
        for _ in range(count):
            src = a6('fd00:5::')[:8] + struct.pack('!Q', random.randrange(0x100, 1 << 64))
            sport, isn = random.randrange(1024, 65536), random.getrandbits(32)
            flood.append((src, sport, isn))
            link.send(n.eth(n.ip(n.tcp(sport, h.PORT, isn, 0, SYN, src=src,
                                       options=b'\x02\x04\x05\xa0'), TCP6, src=src)))

    try:
        syns(count * 2 // 3)
        link.sync()
        c = h.Conn(link)
        c.ask(b'during a SYN flood', 'a connection made while the flood holds every PCB')
        syns(count - count * 2 // 3)
        c.ask(b'still during the flood', 'an established connection, more SYNs later')
        c.reset()
    finally:
        for src, sport, isn in flood:
            link.send(n.eth(n.ip(n.tcp(sport, h.PORT, isn + 1, 0, RST, src=src), TCP6, src=src)))


def fix_sums6(f):
    """The upper-layer checksum of an IPv6 packet without extension
    headers made right again (TCP, UDP, ICMPv6), so that fuzzed fields
    get past the checksum into the code behind it."""
    if len(f) < 54 or f[12:14] != b'\x86\xdd':
        return f
    nh = f[20]
    at = {TCP6: 16, UDP6: 6, ICMP6: 2}.get(nh)
    body = bytearray(f[54:])
    plen = struct.unpack('!H', f[18:20])[0]
    if at is None or plen > len(body) or plen < at + 2:
        return f
    body[at:at + 2] = b'\0\0'
    s = csum(f[22:54] + struct.pack('!IxxxB', plen, nh) + bytes(body[:plen]))
    body[at:at + 2] = struct.pack('!H', s or (0xffff if nh == UDP6 else 0))
    return f[:54] + bytes(body)


def case_fuzz6(link, n):
    """scapy's fuzz(): random IPv6 headers over random TCP, UDP, ICMPv6
    echo, errors and neighbour discovery messages, and extension headers;
    two in three with version 6 and their checksums made right.  scapy
    draws from Python's random, which main() seeds."""
    from scapy.all import (IPv6, TCP, UDP, Ether, fuzz, ICMPv6EchoRequest,  # noqa: E402
                           ICMPv6DestUnreach, ICMPv6PacketTooBig, ICMPv6TimeExceeded,
                           ICMPv6ParamProblem, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RA,
                           ICMPv6ND_Redirect, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptPrefixInfo,
                           ICMPv6NDOptMTU, ICMPv6MLQuery, ICMPv6MLReport,
                           IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,
                           IPv6ExtHdrFragment)
    gm = mac_text(n.guest_mac)
    guest = socket.inet_ntop(socket.AF_INET6, n.guest_ip)
    layers = (lambda: fuzz(TCP(dport=h.PORT)), lambda: fuzz(UDP(dport=h.PORT)),
              lambda: fuzz(ICMPv6EchoRequest()), lambda: fuzz(ICMPv6DestUnreach()),
              lambda: fuzz(ICMPv6PacketTooBig()), lambda: fuzz(ICMPv6TimeExceeded()),
              lambda: fuzz(ICMPv6ParamProblem()), lambda: fuzz(ICMPv6ND_NS()),
              lambda: fuzz(ICMPv6ND_NA()) / fuzz(ICMPv6NDOptSrcLLAddr()),
              lambda: fuzz(ICMPv6ND_RA()) / fuzz(ICMPv6NDOptPrefixInfo()) / fuzz(ICMPv6NDOptMTU()),
              lambda: fuzz(ICMPv6ND_Redirect()), lambda: fuzz(ICMPv6MLQuery()),
              lambda: fuzz(ICMPv6MLReport()), lambda: None)
    exts = (lambda: fuzz(IPv6ExtHdrHopByHop()), lambda: fuzz(IPv6ExtHdrDestOpt()),
            lambda: fuzz(IPv6ExtHdrRouting()), lambda: fuzz(IPv6ExtHdrFragment()))
    for i in range(link.fuzz):
        l4 = random.choice(layers)()
        src = random.choice((PEER6, PEER6_LL))
        pkt = IPv6(src=src, dst=guest, hlim=random.choice((1, 64, 255)))
        if i % 4 == 0:
            pkt = fuzz(IPv6(src=src, dst=guest))
        if i % 5 == 1:
            pkt = pkt / random.choice(exts)()
        if l4 is not None:
            pkt = pkt / l4
        data = bytes(random.getrandbits(8) for _ in range(random.choice((0, 0, 1, 16, 200))))
        try:
            f = bytes(Ether(dst=gm, src=PEER6_MAC) / pkt) + data
        except Exception:       # a fuzzed field scapy itself cannot build
            continue
        if i % 3:
            f = f[:14] + bytes([0x60 | (f[14] & 0xf)]) + f[15:]
            f = fix_sums6(f)
        link.send(f[:1514])
        t = h.parse_tcp(f[:1514]) if f[20:21] == bytes([TCP6]) else None
        if t is not None and t[4] & SYN:
            link.send(n.tcp_frame(t[0], t[1], t[2] + 1, 0, RST))


CASES6 = [
    ('IPv6 header: version, payload length, hop limit, sources, next header 59',
     case_ip6_header),
    ('IPv6 extension header chains: long, looping, unknown, hop-by-hop not first',
     case_ext_chains),
    ('IPv6 options: every type, action bits, padding, router alert, jumbo', case_options),
    ('IPv6 routing headers: type 0 never followed, every type, odd lengths', case_routing),
    ('IPv6 fragments: atomic, overlaps, tiny, nested, no upper-layer header', case_fragments6),
    ('IPv6 fragments: 1500 incomplete datagrams', case_fragment_trains6),
    ('ICMPv6 echo request of 65000 bytes in fragments', case_ping6_65000),
    ('neighbour discovery: NA/NS spoofing, hop limit, code, bad options', case_nd_spoofing),
    ('neighbour solicitations from 3000 spoofed sources', case_ns_flood),
    ('router advertisements: 600 routers, 2400 prefixes, MTUs, lifetimes', case_ra_flood),
    ('redirects to odd targets', case_redirects),
    ('ICMPv6 errors quoting anything, packet too big below 1280', case_icmp6_errors),
    ('ICMPv6: every type, MLD v1/v2 with bad lengths, router solicitations', case_icmp6_types),
    ('TCP/IPv6 header: data offset, truncated, checksum, ports', h.case_tcp_header),
    ('TCP/IPv6 options: every kind, bad lengths, off the end', h.case_tcp_options),
    ('TCP/IPv6 flags: every combination, RST/ACK with random numbers', h.case_tcp_flags),
    ('TCP/IPv6 established: out of window, RST/SYN in window, zero window, MSS 1',
     h.case_tcp_established),
    ('TCP/IPv6 established: fuzzed segments', h.case_tcp_fuzz),
    ('UDP/IPv6: length field, checksum, ports, the echo loop', h.case_udp),
    ('SYN flood of 3000 from the /64', case_syn_flood6),
    ('fuzzed IPv6/ICMPv6/ND/TCP/UDP packets (fixed seed)', case_fuzz6),
]
