#!/usr/bin/python3
"""HTTPS under load and under hostile TLS clients, with the hostile frames
of tests/hostile.py on the same tap, for tests/test_https_tap.py:

  https_battery.py HOST --cert PEM --index FILE [--seconds S] [--frames IFACE] [--seed N]

For `seconds`, all at once:
  - workers that each do full handshakes (TLS 1.3 and 1.2 in turn), every
    other one resumed with the session ticket of the one before, and GET
    the index page, whose body must be the file given;
  - hostile clients: random bytes on 443; a ClientHello cut short and
    closed; a ClientHello and then a reset (SO_LINGER 0); stalled
    handshakes (half a ClientHello, then nothing); a finished handshake
    followed by a record whose MAC is wrong; a plaintext request on 443;
    readers that reset in the middle of a response;
  - with --frames, tests/hostile.py --http on the tap (as the soak runs it).

It runs the clients for WARM_UP seconds first, then takes the baseline.
Afterwards it waits for the guest to settle and compares /_limpet/stats
(over plain HTTP on port 80) with that baseline: connections,
lwIP's heap and pools, receive buffers, and the heap TLS holds
(tls.memory.bytes) must be back, and no device reset may have happened.
It prints one line, "result: {json}".

Safety: tests/test_https_tap.py runs it inside the network namespace it
made (`ip netns exec NS ...`), where the tap leads only to the guest.
Every socket has a timeout and every loop a deadline.
"""

import argparse
import hashlib
import json
import os
import random
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from httpd_battery import baseline, fetch_stats, raise_fd_limit, settle

TLS_PORT = 443
HTTP_PORT = 80
WORKERS = 6
STALLED = 40                # half handshakes held at once
WARM_UP = 10                # seconds of the same clients before the baseline


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = {}
        self.bad = []

    def add(self, key, k=1):
        with self.lock:
            self.n[key] = self.n.get(key, 0) + k

    def problem(self, what):
        with self.lock:
            self.n['problems'] = self.n.get('problems', 0) + 1
            if len(self.bad) < 20:
                self.bad.append(what)


def client_hello(host):
    """A real ClientHello (Python's ssl, TLS 1.3 and 1.2), its bytes."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=host)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def drain(s, deadline):
    """Read until the peer closes, resets, or the deadline: bytes read."""
    n = 0
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        while time.monotonic() < deadline:
            d = s.recv(65536)
            if not d:
                break
            n += len(d)
    except (socket.timeout, OSError):
        pass
    return n


class Battery:
    def __init__(self, host, cert, index, seed):
        self.host = host
        self.cert = cert
        self.index = index
        self.rnd = random.Random(seed)
        self.c = Counts()
        self.hello = client_hello(host)
        self.stop = threading.Event()

    def context(self, version):
        ctx = ssl.create_default_context(cafile=self.cert)
        ctx.check_hostname = False
        if version == '1.2':
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        else:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        return ctx

    def get(self, ctx, session=None):
        """One HTTPS GET of /; (resumed, body)."""
        with socket.create_connection((self.host, TLS_PORT), timeout=30) as raw:
            with ctx.wrap_socket(raw, session=session) as s:
                s.sendall(b'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
                got = b''
                end = time.monotonic() + 30
                while time.monotonic() < end:
                    d = s.recv(65536)
                    if not d:
                        break
                    got += d
                return s.session_reused, s.session, got

    def worker(self, i):
        version = '1.3' if i % 2 == 0 else '1.2'
        ctx = self.context(version)
        session = None
        while not self.stop.is_set():
            try:
                reused, sess, got = self.get(ctx, session)
            except (OSError, ssl.SSLError) as e:
                self.c.problem('worker %d (TLS %s): %s' % (i, version, e))
                time.sleep(0.5)
                session = None
                continue
            head, _, body = got.partition(b'\r\n\r\n')
            if not head.startswith(b'HTTP/1.1 200 ') or body != self.index:
                self.c.problem('worker %d: a bad answer: %r' % (i, head[:80]))
            self.c.add('requests_tls' + version.replace('.', ''))
            if reused:
                self.c.add('resumed')
            # Every other request resumes the session before it.
            session = sess if session is None else None

    # ---- hostile clients ------------------------------------------------------

    def connect(self):
        s = socket.create_connection((self.host, TLS_PORT), timeout=10)
        return s

    def garbage(self):
        s = self.connect()
        try:
            s.sendall(bytes(self.rnd.getrandbits(8) for _ in range(self.rnd.randrange(1, 3000))))
            drain(s, time.monotonic() + 5)
        finally:
            s.close()
        self.c.add('garbage')

    def cut_hello(self):
        s = self.connect()
        try:
            s.sendall(self.hello[:self.rnd.randrange(1, len(self.hello))])
            s.shutdown(socket.SHUT_WR)
            drain(s, time.monotonic() + 5)
        finally:
            s.close()
        self.c.add('cut_hello')

    def hello_then_reset(self):
        s = self.connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        try:
            s.sendall(self.hello)
            time.sleep(self.rnd.random() * 0.05)
        finally:
            s.close()               # a reset, with or without the server's answer read
        self.c.add('hello_reset')

    def bad_mac(self):
        """A finished handshake, then an application-data record of the
        right size whose MAC cannot check out: the server must alert and
        close, not serve or hang."""
        ctx = self.context('1.3')
        with socket.create_connection((self.host, TLS_PORT), timeout=10) as raw:
            with ctx.wrap_socket(raw) as s:
                raw_sock = socket.socket(fileno=os.dup(s.fileno()))
                try:
                    raw_sock.sendall(b'\x17\x03\x03\x00\x40' + os.urandom(64))
                    start = time.monotonic()
                    drain(raw_sock, start + 20)
                    if time.monotonic() - start > 15:
                        self.c.problem('a record with a bad MAC: the server kept the '
                                       'connection open')
                finally:
                    raw_sock.close()
        self.c.add('bad_mac')

    def plaintext(self):
        s = self.connect()
        try:
            s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
            drain(s, time.monotonic() + 5)
        finally:
            s.close()
        self.c.add('plaintext')

    def reset_mid_response(self):
        ctx = self.context('1.2')
        s = ctx.wrap_socket(socket.create_connection((self.host, TLS_PORT), timeout=10))
        try:
            s.sendall(b'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
            s.recv(10)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        finally:
            s.close()               # no close_notify: a reset
        self.c.add('reset_mid_response')

    def hostile(self):
        cases = [self.garbage, self.cut_hello, self.hello_then_reset, self.bad_mac,
                 self.plaintext, self.reset_mid_response]
        while not self.stop.is_set():
            case = self.rnd.choice(cases)
            try:
                case()
            except (OSError, ssl.SSLError):
                self.c.add('hostile_cut')   # the server may close first: counted, fine
            time.sleep(0.02)

    def stalled(self):
        """STALLED connections that send half a ClientHello and wait, opened
        again as the server closes them (its header timeout)."""
        held = []
        while not self.stop.is_set():
            while len(held) < STALLED:
                try:
                    s = self.connect()
                    s.sendall(self.hello[:len(self.hello) // 2])
                    s.setblocking(False)
                    held.append(s)
                    self.c.add('stalled')
                except OSError:
                    self.c.add('stalled_refused')
                    break
            time.sleep(0.5)
            for s in list(held):
                try:
                    if s.recv(4096) == b'':
                        held.remove(s)
                        s.close()
                except BlockingIOError:
                    pass
                except OSError:
                    held.remove(s)
                    s.close()
        for s in held:
            s.close()

    def run(self, seconds, frames, guest_ip, seed):
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True)
                   for i in range(WORKERS)]
        threads += [threading.Thread(target=self.hostile, daemon=True) for _ in range(2)]
        threads.append(threading.Thread(target=self.stalled, daemon=True))
        for t in threads:
            t.start()
        frame_result = None
        end = time.monotonic() + seconds
        if frames:
            here = Path(__file__).resolve().parent
            # As the soak runs it beside its own clients (--busy: a case
            # whose connection is evicted to make room ends there).
            p = subprocess.run(['/usr/bin/python3', str(here / 'hostile.py'), frames, guest_ip,
                                '--http', '--busy', '--patience', '5', '--seed', str(seed),
                                '--timeout', '240'],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               errors='replace', timeout=300)
            last = (p.stdout.strip().splitlines() or [''])[-1]
            frame_result = {'rc': p.returncode, 'last': last}
            if p.returncode != 0 or not last.startswith('ok: '):
                self.c.problem('hostile frames: exit %d: %s %s' % (
                    p.returncode, p.stdout[-800:], p.stderr[-400:]))
        while time.monotonic() < end:
            time.sleep(0.2)
        self.stop.set()
        for t in threads:
            t.join(60)
            if t.is_alive():
                self.c.problem('a client thread did not end')
        return frame_result


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('host')
    p.add_argument('--cert', required=True)
    p.add_argument('--index', required=True, help='the file GET / must return')
    p.add_argument('--seconds', type=float, default=40)
    p.add_argument('--frames', help='the tap for tests/hostile.py (inside its namespace)')
    p.add_argument('--seed', type=int, default=1)
    a = p.parse_args()
    raise_fd_limit()
    target = (a.host, HTTP_PORT)
    index = Path(a.index).read_bytes()
    # A warm-up round first: what TLS allocates once and keeps (PSA's key
    # slots grow to the most keys held at once, the ticket keys) is then
    # in the baseline, and what a connection leaks shows after the round.
    warm = Battery(a.host, a.cert, index, a.seed + 1)
    warm.run(WARM_UP, None, a.host, a.seed)
    base = baseline(target)
    first = fetch_stats(target)
    b = Battery(a.host, a.cert, index, a.seed)
    b.c.bad += ['warm-up: ' + w for w in warm.c.bad]
    start = time.monotonic()
    frames = b.run(a.seconds, a.frames, a.host, a.seed)
    took, grew, stats, now = settle(target, base)
    tls0, tls1 = first['tls'], stats['tls']
    # The TLS heap comes back to what the connections open now hold: the
    # stats' own connection is plain HTTP, so none.
    if tls1['memory']['connections'] != 0:
        b.c.problem('TLS connections still open: %s' % tls1['memory'])
    if tls1['memory']['bytes'] > tls0['memory']['bytes']:
        b.c.problem('the TLS heap holds %d bytes, %d before'
                    % (tls1['memory']['bytes'], tls0['memory']['bytes']))
    if grew:
        b.c.problem('not back to the baseline: %s' % grew)
    if stats['driver']['device_resets'] != first['driver']['device_resets']:
        b.c.problem('the device was reset: %s' % stats['driver'])
    print('result: ' + json.dumps({
        'seconds': round(time.monotonic() - start, 1),
        'counts': dict(sorted(b.c.n.items())),
        'problems': b.c.bad,
        'handshakes': tls1['handshakes'] - tls0['handshakes'],
        'handshake_failures': tls1['handshake_failures'] - tls0['handshake_failures'],
        'tls_memory': [tls0['memory'], tls1['memory']],
        'settle_seconds': round(took, 1),
        'usage': now,
        'frames': frames,
        'driver': stats['driver'],
    }))
    sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
