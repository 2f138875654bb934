#!/usr/bin/python3
"""Echo clients for tests/test_net.py.

The tests run this inside the network namespace they made
(`ip netns exec NS /usr/bin/python3 tests/net_client.py ...`), so that no
test traffic leaves it.  Each command checks what comes back byte for byte
and exits 0 with one line "ok: ..." or 1 with "FAIL: ..." on stdout.

  tcp HOST PORT SIZE...      one connection per SIZE: send SIZE bytes,
                             read them back, compare
  many HOST PORT N SIZE      N connections at once, each with its own data
  udp HOST PORT SIZE COUNT   COUNT datagrams of SIZE bytes (resent once
                             on a timeout: UDP may lose them)
  stalled HOST PORT SIZE     one client sends without ever reading, until
                             its send blocks; meanwhile a second client
                             must be served normally
  isn IFACE HOST PORT N      N connections one after another, each closed
                             at once; prints the initial sequence numbers
                             of the guest's SYN-ACKs, read off IFACE with
                             a packet socket (root)

Every command has a deadline (--timeout, default 30 s).
"""

import argparse
import hashlib
import os
import selectors
import socket
import struct
import sys
import threading
import time


def pattern(size, seed):
    """SIZE bytes that differ from connection to connection, cheap to make."""
    out = bytearray()
    block = 0
    while len(out) < size:
        out += hashlib.sha256(b'%d:%d' % (seed, block)).digest()
        block += 1
    return bytes(out[:size])


class Fail(Exception):
    pass


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def echo_once(host, port, data, deadline):
    """Send data on a new connection while reading the echo; compare."""
    s = socket.create_connection((host, port), timeout=max(1, deadline - time.monotonic()))
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    sent, got = 0, bytearray()
    try:
        while len(got) < len(data):
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail('timeout: sent %d of %d bytes, got %d back' % (sent, len(data), len(got)))
            for _, ev in sel.select(min(left, 1.0)):
                if ev & selectors.EVENT_WRITE and sent < len(data):
                    try:
                        sent += s.send(data[sent:sent + 65536])
                    except BlockingIOError:
                        pass
                    if sent == len(data):
                        sel.modify(s, selectors.EVENT_READ)
                if ev & selectors.EVENT_READ:
                    try:
                        chunk = s.recv(262144)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        raise Fail('connection closed after %d of %d bytes echoed'
                                   % (len(got), len(data)))
                    got += chunk
        if bytes(got) != data:
            raise Fail('echo differs at byte %d of %d' % (first_difference(got, data), len(data)))
    finally:
        sel.close()
        s.close()
    return len(got)


def cmd_tcp(a, deadline):
    for size in a.sizes:
        echo_once(a.host, a.port, pattern(size, size), deadline)
    return 'tcp echoed %s bytes' % ', '.join(map(str, a.sizes))


def cmd_many(a, deadline):
    errors = []

    def one(i):
        try:
            echo_once(a.host, a.port, pattern(a.size, 1000 + i), deadline)
        except (Fail, OSError) as e:
            errors.append('connection %d: %s' % (i, e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(a.n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        errors.append('%d connections still running at the deadline'
                      % sum(t.is_alive() for t in threads))
    if errors:
        raise Fail('%d of %d failed; %s' % (len(errors), a.n, '; '.join(errors[:5])))
    return '%d concurrent connections echoed %d bytes each' % (a.n, a.size)


def cmd_udp(a, deadline):
    s = socket.socket(socket.AF_INET6 if ':' in a.host else socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((a.host, a.port))
    try:
        for i in range(a.count):
            data = pattern(a.size, 5000 + i)
            for attempt in range(3):
                s.send(data)
                s.settimeout(max(0.1, min(2.0, deadline - time.monotonic())))
                try:
                    got = s.recv(65536)
                except socket.timeout:
                    if time.monotonic() >= deadline:
                        raise Fail('timeout waiting for datagram %d' % i)
                    continue
                if got != data:
                    raise Fail('datagram %d: %d bytes back, differs at byte %d'
                               % (i, len(got), first_difference(got, data)))
                break
            else:
                raise Fail('no echo of datagram %d after 3 tries' % i)
    finally:
        s.close()
    return 'udp echoed %d datagrams of %d bytes' % (a.count, a.size)


def cmd_stalled(a, deadline):
    """The stalled client fills the path (its send buffer, the guest's
    window, the echo's own buffers) and never reads; the guest must keep
    serving another client all the same, and stay alive."""
    stalled = socket.create_connection((a.host, a.port), timeout=5)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    stalled.setblocking(False)
    pushed = 0
    data = pattern(65536, 42)
    quiet_since = None
    try:
        # Push until nothing more goes for a second: back-pressure reached.
        while time.monotonic() < deadline - 5:
            try:
                pushed += stalled.send(data)
                quiet_since = None
            except BlockingIOError:
                now = time.monotonic()
                quiet_since = quiet_since or now
                if now - quiet_since > 1.0:
                    break
                time.sleep(0.05)
        else:
            raise Fail('the stalled client could send for ever (%d bytes): no back-pressure'
                       % pushed)
        start = time.monotonic()
        echo_once(a.host, a.port, pattern(a.size, 43), min(deadline, start + 15))
        took = time.monotonic() - start
    finally:
        stalled.close()
    return ('stalled client blocked after %d bytes; the other was served %d bytes in %.2fs'
            % (pushed, a.size, took))


def cmd_isn(a, deadline):
    """The sequence number of each SYN-ACK from HOST:PORT, in order."""
    eth_p_ip = 0x0800
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(eth_p_ip))
    raw.bind((a.iface, eth_p_ip))
    raw.settimeout(0.2)
    host = socket.inet_aton(a.host)
    isns = []
    try:
        for _ in range(a.n):
            s = socket.create_connection((a.host, a.port),
                                         timeout=max(1, deadline - time.monotonic()))
            local_port = s.getsockname()[1]
            s.close()
            while True:
                if time.monotonic() > deadline:
                    raise Fail('no SYN-ACK seen for port %d' % local_port)
                try:
                    pkt = raw.recv(65536)
                except socket.timeout:
                    continue
                ihl = (pkt[0] & 0x0f) * 4
                if len(pkt) < ihl + 20 or pkt[9] != socket.IPPROTO_TCP or pkt[12:16] != host:
                    continue
                sport, dport, seq = struct.unpack('!HHI', pkt[ihl:ihl + 8])
                flags = pkt[ihl + 13]
                if sport == a.port and dport == local_port and flags & 0x12 == 0x12:
                    isns.append(seq)
                    break
    finally:
        raw.close()
    return 'isn ' + ' '.join(map(str, isns))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--timeout', type=float, default=30)
    sub = p.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('tcp')
    c.add_argument('host'); c.add_argument('port', type=int)
    c.add_argument('sizes', type=int, nargs='+')
    c = sub.add_parser('many')
    c.add_argument('host'); c.add_argument('port', type=int)
    c.add_argument('n', type=int); c.add_argument('size', type=int)
    c = sub.add_parser('udp')
    c.add_argument('host'); c.add_argument('port', type=int)
    c.add_argument('size', type=int); c.add_argument('count', type=int)
    c = sub.add_parser('stalled')
    c.add_argument('host'); c.add_argument('port', type=int)
    c.add_argument('size', type=int)
    c = sub.add_parser('isn')
    c.add_argument('iface'); c.add_argument('host'); c.add_argument('port', type=int)
    c.add_argument('n', type=int)
    a = p.parse_args()
    deadline = time.monotonic() + a.timeout
    start = time.monotonic()
    try:
        msg = globals()['cmd_' + a.cmd](a, deadline)
    except (Fail, OSError) as e:
        print('FAIL: %s: %s' % (a.cmd, e))
        sys.stdout.flush()
        os._exit(1)
    print('ok: %s (%.2fs)' % (msg, time.monotonic() - start))
    sys.stdout.flush()
    # Don't wait for threads stuck on a dead connection.
    os._exit(0)


if __name__ == '__main__':
    main()
