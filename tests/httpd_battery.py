#!/usr/bin/python3
"""The hostile battery for httpd: everything a network throws at a web
server, at the same time, with health checks in between; for
tests/soak.py (./limpet soak, tests/test_httpd_hostile.py).

  httpd_battery.py baseline HOST PORT
  httpd_battery.py round HOST PORT --site DIR --baseline FILE [--seconds S]
                   [--bursts N] [--frames IFACE] [--guest-ip IP] [--seed N]

`baseline` waits until the server's /_limpet/stats stop moving and prints
what is in use then (open connections, lwIP's pools and heap, the netif's
receive buffers).  `round` runs one round of the battery against the
server at HOST:PORT:

1. For --seconds, all at once: the malformed requests of BAD (and 2,000
   headers, a TLS ClientHello on the HTTP port, a request trickled in a
   byte at a time over three seconds), bursts of 500 concurrent short
   connections, 1,000 slowloris connections (slowhttptest, again and
   again), clients that stop reading in the middle of a 1 MiB body (zero
   window) and then read on, give up, or wait for the server to give up,
   storms of connections closed with a reset (SO_LINGER 0) before, during
   and after their request, half-closed connections (shutdown(SHUT_WR)
   after the request, in its middle and before it), UDP datagrams of up
   to 64 KiB at the HTTP port (no UDP service there; large ones arrive in
   fragments), and with --frames, tests/hostile.py --http's battery of
   malformed and hostile frames, run after run, on that interface (tap
   only: a socket cannot make such frames).  A health check (GET / on a
   new connection, which must bring back the site's index.html) every
   second; one that gets no answer within HEALTH_DEADLINE seconds,
   retrying a refused or dropped connection as a browser does, is lost.
2. --bursts times, the sequence that once killed the NIC (issue 12):
   the malformed and hostile requests one after another while a request
   trickles in, then at once about 30 concurrent connections, each with a
   different edge-case request, each answer checked; then a health check.
3. The server must then give back everything: its stats polled until
   every counter is back at the baseline (after lwIP's TIME_WAIT, httpd's
   linger, reassembly timeouts), for at most SETTLE seconds.

Every answer is checked: a status the request cannot get, a wrong body,
or a file from outside the site is a bad answer.  Under the load, a
refusal (503, at --max-conns) and a connection cut (httpd evicts idle and
slow connections at its limit; QEMU's user network drops connections it
cannot take) are counted, not errors.

Prints progress on stderr and, last, a line "result: {JSON}" on stdout.

Safety: every byte goes to HOST, which the caller makes 127.0.0.1 (QEMU's
user network, a forwarded port) or the guest on the tap of a network
namespace of its own (run inside it with ip netns exec); the frames go
out on that namespace's tap.  Every client has a timeout, every loop ends
with the round, and the programs it starts are ended by their PID.
"""

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import resource
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = '/usr/bin/python3'
HOSTILE = HERE / 'hostile.py'

HEALTH_EVERY = 1.0          # seconds between two health checks
HEALTH_DEADLINE = 30.0      # a health check unanswered for this long is lost
BURST = 500                 # connections in a burst
SLOWLORIS = 1000            # slowhttptest's connections
RST_STORM = 200             # connections in a reset storm
ZERO_WINDOW_CLIENTS = 4
BIG = '/big.bin'            # the site's 1 MiB file (tests/soak.py makes it)
SETTLE = 60                 # seconds for everything to come back
BAD_KEPT = 20               # bad answers kept for the report (all are counted)

# ---- the malformed and hostile requests ----------------------------------------
# (name, request, the statuses it may get).  tests/test_httpd.py checks
# each one alone; the battery sends them under load.

BAD = [
    ('bad request line', b'GARBAGE\r\n\r\n', (400,)),
    ('no spaces', b'GET/HTTP/1.1\r\nHost: x\r\n\r\n', (400,)),
    ('no Host in 1.1', b'GET / HTTP/1.1\r\n\r\n', (400,)),
    ('two Hosts', b'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', (400,)),
    ('long URI', b'GET /' + b'a' * 20000 + b' HTTP/1.1\r\nHost: x\r\n\r\n', (414,)),
    ('huge headers', b'GET / HTTP/1.1\r\nHost: x\r\n' +
     b''.join(b'X-Filler-%d: %s\r\n' % (i, b'v' * 200) for i in range(150)) + b'\r\n', (431,)),
    ('one huge header', b'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'v' * 40000 + b'\r\n\r\n',
     (431,)),
    ('unknown method', b'FROB / HTTP/1.1\r\nHost: x\r\n\r\n', (501,)),
    ('POST', b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc', (405,)),
    ('HTTP/2.0', b'GET / HTTP/2.0\r\nHost: x\r\n\r\n', (505,)),
    ('HTTP/3.0', b'GET / HTTP/3.0\r\nHost: x\r\n\r\n', (505,)),
    ('obs-fold', b'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n', (400,)),
    ('space before colon', b'GET / HTTP/1.1\r\nHost : x\r\n\r\n', (400,)),
    ('NUL in header', b'GET / HTTP/1.1\r\nHost: x\x00y\r\n\r\n', (400,)),
    ('bare CR', b'GET / HTTP/1.1\rHost: x\r\n\r\n', (400,)),
    ('bad Content-Length', b'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', (400,)),
    ('CL and TE', b'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n'
     b'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n', (400,)),
    ('traversal', b'GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', (400, 404)),
    ('encoded dots', b'GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', (400, 404)),
    ('encoded dots and slash', b'GET /%2E%2e%2fetc/passwd HTTP/1.1\r\nHost: x\r\n\r\n',
     (400, 404)),
    ('encoded backslash', b'GET /..%5c..%5cetc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', (400, 404)),
    ('backslash', b'GET /..\\..\\etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', (400, 404)),
    ('encoded NUL', b'GET /index.html%00.txt HTTP/1.1\r\nHost: x\r\n\r\n', (400, 404)),
    ('deep climb', b'GET /docs/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', (400, 404)),
    ('bad percent', b'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n', (400, 404)),
    ('absolute-form climb', b'GET http://x/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n',
     (400, 404)),
]


def client_hello():
    """A real TLS ClientHello (Python's ssl, as a browser would send to
    https://), for the plain HTTP port."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out = ssl.MemoryBIO()
    tls = ctx.wrap_bio(ssl.MemoryBIO(), out, server_hostname='localhost')
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


HOSTILE_REQUESTS = BAD + [
    ('2,000 headers', b'GET / HTTP/1.1\r\nHost: x\r\n' +
     b''.join(b'X-H-%d: v\r\n' % i for i in range(2000)) + b'\r\n', (431,)),
    ('a TLS ClientHello on the HTTP port', client_hello(), (400,)),
]

TRICKLED = b'GET / HTTP/1.1\r\nHost: trickle\r\nUser-Agent: one byte at a time\r\n\r\n'
TRICKLE_SECONDS = 3.0

# ---- answers ---------------------------------------------------------------------


class Cut(Exception):
    """The connection ended without a (whole) answer: refused, reset,
    closed, or timed out."""


class Counters:
    """Counters of a round, shared by every worker (under a lock), and the
    bad answers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.n = {}
        self.bad = []
        self.bad_count = 0

    def add(self, key, k=1):
        with self.lock:
            self.n[key] = self.n.get(key, 0) + k

    def wrong(self, what):
        with self.lock:
            self.bad_count += 1
            if len(self.bad) < BAD_KEPT:
                self.bad.append(what)
        log('BAD ANSWER: ' + what)

    def get(self, key):
        with self.lock:
            return self.n.get(key, 0)


def log(msg):
    sys.stderr.write('battery: %s\n' % msg)
    sys.stderr.flush()


class Conn:
    """A client connection with its own buffer, for keep-alive and
    pipelined answers."""

    def __init__(self, target, timeout=20, rcvbuf=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # Before connect(), so that the window is small from the start.
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.buf = b''
        try:
            self.s.connect(target)
        except (OSError, socket.timeout) as e:
            self.s.close()
            raise Cut('connect: %s' % (e.__class__.__name__ if isinstance(e, socket.timeout)
                                       else e.strerror or e))

    def send(self, data):
        try:
            self.s.sendall(data)
        except socket.timeout:
            raise Cut('send: timeout')
        except OSError as e:
            raise Cut('send: %s' % (e.strerror or e))

    def recv(self, n=65536):
        try:
            return self.s.recv(n)
        except socket.timeout:
            raise Cut('timeout')
        except OSError as e:
            raise Cut(e.strerror or str(e))

    def _fill(self):
        chunk = self.recv()
        if not chunk:
            raise Cut('closed' if not self.buf else 'closed in the middle of an answer')
        self.buf += chunk

    def response(self, head_only=False):
        """(status, {lower-case name: value}, body) of the next answer."""
        while b'\r\n\r\n' not in self.buf:
            if len(self.buf) > 65536:
                raise ValueError('no end to the header section')
            self._fill()
        head, _, self.buf = self.buf.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        m = re.match(r'HTTP/1\.[01] (\d{3}) ', lines[0] + ' ')
        if not m:
            raise ValueError('not an HTTP answer: %r' % head[:80])
        status = int(m.group(1))
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(':')
            headers[name.strip().lower()] = value.strip()
        if head_only or status in (204, 304) or status < 200:
            return status, headers, b''
        if 'content-length' in headers:
            size = int(headers['content-length'])
            while len(self.buf) < size:
                self._fill()
            body, self.buf = self.buf[:size], self.buf[size:]
            return status, headers, body
        while True:
            chunk = self.recv()
            if not chunk:
                break
            self.buf += chunk
        body, self.buf = self.buf, b''
        return status, headers, body

    def prime(self):
        """HEAD / first, and its answer: the connection is then up end to
        end.  (Over QEMU's user network, see Battery.user_net.)"""
        self.send(b'HEAD / HTTP/1.1\r\nHost: prime\r\n\r\n')
        status, _, _ = self.response(head_only=True)
        if status != 200:
            raise Cut('status %d to HEAD /' % status)

    def shutdown_wr(self):
        """Our FIN, the connection still open for the answer."""
        try:
            self.s.shutdown(socket.SHUT_WR)
        except OSError as e:
            raise Cut('shutdown: %s' % (e.strerror or e))

    def reset(self):
        """Close with a reset (SO_LINGER 0) instead of a FIN."""
        try:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\1\0\0\0\0\0\0\0')
        except OSError:
            pass
        self.close()

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class Site:
    """The files the server serves (the folder packed into its image)."""

    def __init__(self, folder):
        self.dir = Path(folder)
        self.index = (self.dir / 'index.html').read_bytes()
        self.big = (self.dir / BIG.lstrip('/')).read_bytes()
        self.big_sha = hashlib.sha256(self.big).hexdigest()

    def file(self, path):
        return (self.dir / path.lstrip('/')).read_bytes()


class Battery:
    """The battery against one server.

    user_net: the server is behind QEMU's user network (a hostfwd port),
    whose forwarder in QEMU 7.2 (libslirp 4.7.0) has two faults of its own
    that tests/httpd_battery.py meets under load, both seen in packet
    dumps of the guest's side (QEMU's filter-dump): bytes a client sends
    in pieces right after connecting can lose their first piece (the
    guest's stream starts at "ET / HTTP/1.1" and the server rightly
    answers 501), and a connection now and then is closed towards the
    guest (a FIN right after the request) while its client, still
    waiting, never gets the answer.  So over the user network a request
    sent in pieces goes on a connection that has had a whole exchange
    first (prime()), and where a quiet server must answer (the sequence
    of issue 12), a connection that ends without an answer is tried once
    more, and counted (user_net_retries); over tap neither happens and
    every check is strict."""

    def __init__(self, host, port, site, seed=1, user_net=False):
        self.user_net = user_net
        self.target = (host, port)
        self.host, self.port = host, port
        self.site = site
        self.c = Counters()
        self.stop = threading.Event()
        self.rng = random.Random(seed)
        self.seed = seed
        self.health = {'checks': 0, 'lost': 0, 'retried': 0, 'slowest': 0.0, 'lost_how': []}

    # ---- one request, checked -----------------------------------------------

    def ask(self, what, request, statuses, body=None, head_only=False, quiet=False):
        """Send request on a new connection; check its answer's status (503
        is always allowed: the server is at --max-conns) and, given, its
        body.  'ok', 'refused', 'cut' or 'bad'."""
        c = None
        try:
            c = Conn(self.target)
            c.send(request)
            status, headers, got = c.response(head_only)
        except Cut:
            self.c.add('cut')
            return 'cut'
        except ValueError as e:
            self.c.wrong('%s: %s' % (what, e))
            return 'bad'
        finally:
            if c:
                c.close()
        self.c.add('requests')
        if status == 503:
            self.c.add('refused')
            return 'refused'
        if status not in statuses:
            self.c.wrong('%s: status %d, expected %s' % (what, status, statuses))
            return 'bad'
        if b'root:' in got:
            self.c.wrong('%s: a file from outside the site' % what)
            return 'bad'
        if body is not None and got != body:
            self.c.wrong('%s: a body of %d bytes, not the %d expected' % (what, len(got),
                                                                           len(body)))
            return 'bad'
        return 'ok'

    def health_check(self):
        """GET / until it is answered; False when HEALTH_DEADLINE passed."""
        start = time.monotonic()
        tries, how = 0, ''
        while time.monotonic() - start < HEALTH_DEADLINE:
            tries += 1
            c = None
            try:
                c = Conn(self.target, timeout=10)
                c.send(b'GET / HTTP/1.1\r\nHost: health\r\nConnection: close\r\n\r\n')
                status, _, body = c.response()
                self.c.add('requests')
                if status == 200:
                    if body != self.site.index:
                        self.c.wrong('health check: a body of %d bytes, not index.html'
                                     % len(body))
                    break
                how = 'status %d' % status
            except (Cut, ValueError) as e:
                how = str(e)
            finally:
                if c:
                    c.close()
            time.sleep(0.5)
        else:
            self.health['checks'] += 1
            self.health['lost'] += 1
            if len(self.health['lost_how']) < 10:
                self.health['lost_how'].append('%s (%d tries; last: %s)' % (
                    time.strftime('%H:%M:%S'), tries, how))
            log('LOST health check: %d tries in %.0fs, last: %s' % (tries, HEALTH_DEADLINE, how))
            return False
        took = time.monotonic() - start
        self.health['checks'] += 1
        self.health['retried'] += tries > 1
        self.health['slowest'] = max(self.health['slowest'], took)
        return True

    # ---- the workers of the mixed phase -----------------------------------------

    def every(self, seconds, fn):
        """fn() again and again until the phase ends, at most once every
        `seconds`."""
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                fn()
            except Exception as e:      # a bug of ours must not end the round quietly
                self.c.wrong('%s raised %r' % (fn.__name__, e))
                log('worker %s: %r' % (fn.__name__, e))
            left = seconds - (time.monotonic() - t)
            if left > 0:
                self.stop.wait(left)

    def w_health(self):
        self.every(HEALTH_EVERY, self.health_check)

    def w_malformed(self):
        def one():
            what, req, statuses = self.rng.choice(HOSTILE_REQUESTS)
            self.ask(what, req, statuses)
            self.c.add('malformed')
        self.every(0.05, one)

    def trickle(self):
        """TRICKLED a byte at a time over TRICKLE_SECONDS: a slow client,
        within --header-timeout, must be served."""
        c = None
        try:
            c = Conn(self.target)
            if self.user_net:
                c.prime()
            for b in TRICKLED:
                c.send(bytes([b]))
                time.sleep(TRICKLE_SECONDS / len(TRICKLED))
            status, _, body = c.response()
        except Cut:
            self.c.add('cut')
            return 'cut'
        except ValueError as e:
            self.c.wrong('a trickled request: %s' % e)
            return 'bad'
        finally:
            if c:
                c.close()
        self.c.add('requests')
        self.c.add('trickled')
        if status == 503:
            self.c.add('refused')
            return 'refused'
        if status != 200 or body != self.site.index:
            self.c.wrong('a trickled request: status %d, %d bytes' % (status, len(body)))
            return 'bad'
        return 'ok'

    def w_trickle(self):
        self.every(0.5, self.trickle)

    def w_bursts(self):
        def burst():
            got = asyncio.run(self.burst(BURST))
            self.c.add('bursts')
            log('burst of %d: %s' % (BURST, ', '.join('%s %d' % kv for kv in sorted(got.items()))))
        self.every(3.0, burst)

    async def burst(self, n):
        """n short connections at once, each GET / with Connection: close."""
        tally = {}
        req = b'GET / HTTP/1.1\r\nHost: burst\r\nConnection: close\r\n\r\n'

        async def one():
            w = None
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(*self.target), 15)
                w.write(req)
                data = await asyncio.wait_for(r.read(), 20)
                how = 'answered' if data else 'closed'
            except asyncio.TimeoutError:
                how, data = 'timeout', b''
            except OSError:
                how, data = 'reset', b''
            finally:
                if w is not None:
                    w.close()
            if data:
                self.c.add('requests')
                head, _, body = data.partition(b'\r\n\r\n')
                if head.startswith(b'HTTP/1.1 503 '):
                    how = 'refused'
                    self.c.add('refused')
                elif not head.startswith(b'HTTP/1.1 200 ') or body != self.site.index:
                    self.c.wrong('burst: %r..., %d bytes of body' % (head[:40], len(body)))
                    how = 'bad'
            else:
                self.c.add('cut')
            tally[how] = tally.get(how, 0) + 1
        await asyncio.gather(*(one() for _ in range(n)))
        return tally

    def w_rst_storm(self):
        def storm():
            asyncio.run(self.rst_storm(RST_STORM))
            self.c.add('rst_storms')
        self.every(3.0, storm)

    async def rst_storm(self, n):
        """n connections at once, each reset (SO_LINGER 0): right after the
        handshake, after half a request, after a whole one, and in the
        middle of the 1 MiB answer."""
        whole = b'GET / HTTP/1.1\r\nHost: rst\r\n\r\n'
        big = b'GET ' + BIG.encode() + b' HTTP/1.1\r\nHost: rst\r\n\r\n'

        async def one(i):
            w = None
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(*self.target), 20)
                kind = i % 4
                if kind == 1:
                    w.write(whole[:12])
                elif kind == 2:
                    w.write(whole)
                    await asyncio.sleep(self.rng.random() * 0.05)
                elif kind == 3:
                    w.write(big)
                    await asyncio.wait_for(r.read(self.rng.randrange(1, 200000)), 10)
                await w.drain()
            except (asyncio.TimeoutError, OSError):
                pass
            finally:
                if w is not None:
                    sock = w.get_extra_info('socket')
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        b'\1\0\0\0\0\0\0\0')
                    except (OSError, AttributeError):
                        pass
                    w.transport.abort()
            self.c.add('resets_sent')
        await asyncio.gather(*(one(i) for i in range(n)))

    def w_half_closed(self):
        index = self.site.index
        whole = b'GET / HTTP/1.1\r\nHost: half\r\n\r\n'

        def one():
            kind = self.rng.randrange(4)
            c = None
            try:
                c = Conn(self.target)
                if kind == 0:
                    # The request, then our FIN: the answer still comes.
                    c.send(whole)
                    c.shutdown_wr()
                    status, _, body = c.response()
                    self.c.add('requests')
                    if status == 503:
                        self.c.add('refused')
                    elif status != 200 or body != index:
                        self.c.wrong('request then SHUT_WR: status %d, %d bytes'
                                     % (status, len(body)))
                    elif c.recv() != b'':
                        self.c.wrong('request then SHUT_WR: more after the answer')
                elif kind == 1:
                    # Two pipelined requests, then our FIN: both answered.
                    c.send(whole + whole)
                    c.shutdown_wr()
                    for _ in range(2):
                        status, _, body = c.response()
                        self.c.add('requests')
                        if status == 503:
                            self.c.add('refused')
                            break
                        if status != 200 or body != index:
                            self.c.wrong('two requests then SHUT_WR: status %d, %d bytes'
                                         % (status, len(body)))
                            break
                else:
                    # Our FIN before the request, or in its middle: the
                    # server closes without an answer (or refuses).
                    if kind == 3:
                        c.send(whole[:10])
                    c.shutdown_wr()
                    rest = b''
                    while True:
                        chunk = c.recv()
                        if not chunk:
                            break
                        rest += chunk
                    if rest and not rest.startswith(b'HTTP/1.1 503 '):
                        self.c.wrong('SHUT_WR %s the request: answered %r'
                                     % ('in the middle of' if kind == 3 else 'before',
                                        rest[:40]))
                self.c.add('half_closed')
            except Cut:
                self.c.add('cut')
            except ValueError as e:
                self.c.wrong('half-closed: %s' % e)
            finally:
                if c:
                    c.close()
        self.every(0.1, one)

    def why_cut(self):
        """What the server says about responses it cut short (its
        counters since boot), for a bad answer's line."""
        try:
            h = fetch_stats(self.target, deadline=10)
        except RuntimeError as e:
            return 'no stats: %s' % e
        return 'httpd: cut %s, timeouts %s, no_memory %s, mem_waits %s' % (
            json.dumps(h.get('cut')), json.dumps(h.get('timeouts')),
            h.get('no_memory'), h.get('mem_waits'))

    def w_zero_window(self, k):
        """GET the 1 MiB file with a small receive buffer, read a quarter
        of it, then stop reading: the server's window to us closes.  Then
        read on after a few seconds (the whole body must come, intact),
        or close (a reset: unread data), or wait longer than httpd's send
        timeout (20 s) and see the server give up."""
        def one():
            how = ('resume', 'resume', 'close', 'outwait')[self.rng.randrange(4)]
            c = None
            try:
                c = Conn(self.target, timeout=40, rcvbuf=4096)
                c.send(b'GET ' + BIG.encode() + b' HTTP/1.1\r\nHost: zero-window\r\n\r\n')
                while b'\r\n\r\n' not in c.buf:
                    c._fill()
                head, _, body = c.buf.partition(b'\r\n\r\n')
                if head.startswith(b'HTTP/1.1 503 '):
                    self.c.add('refused')
                    return
                if not head.startswith(b'HTTP/1.1 200 '):
                    self.c.wrong('1 MiB with a zero window: %r' % head[:40])
                    return
                while len(body) < len(self.site.big) // 4:
                    chunk = c.recv()
                    if not chunk:
                        raise Cut('closed')
                    body += chunk
                pause = {'resume': 3 + self.rng.random() * 4, 'close': 2, 'outwait': 26}[how]
                # Stop reading; come back early if the round ends.
                self.stop.wait(pause)
                if how == 'close' or (how == 'outwait' and self.stop.is_set()):
                    c.reset()
                    self.c.add('zero_window_abandoned')
                    return
                c.s.settimeout(40)
                while len(body) < len(self.site.big):
                    chunk = c.recv()
                    if not chunk:
                        break
                    body += chunk
                if how == 'outwait':
                    # httpd's send timeout reset the connection: what came
                    # before is still the file's beginning.
                    if self.site.big[:len(body)] != body[:len(self.site.big)]:
                        self.c.wrong('1 MiB after a long zero window: the bytes differ')
                    self.c.add('zero_window_timed_out' if len(body) < len(self.site.big)
                               else 'zero_window_done')
                    return
                self.c.add('requests')
                if hashlib.sha256(body).hexdigest() != self.site.big_sha:
                    self.c.wrong('1 MiB after a zero window: %d bytes, %s; %s' % (
                        len(body), 'short' if len(body) < len(self.site.big) else 'different',
                        self.why_cut()))
                else:
                    self.c.add('zero_window_done')
            except Cut as e:
                if how == 'outwait' and 'reset' in str(e).lower():
                    self.c.add('zero_window_timed_out')
                else:
                    self.c.add('cut')
            finally:
                if c:
                    c.close()
        self.every(0.5, one)

    def w_udp(self):
        """Datagrams of every size up to 64 KiB at the HTTP port, where
        nothing listens for UDP: the large ones reach the guest in
        fragments, which it reassembles, and each draws an ICMP
        unreachable."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sizes = (0, 1, 64, 1472, 1473, 3000, 8972, 30000, 65507)

        def one():
            try:
                s.sendto(os.urandom(self.rng.choice(sizes)), self.target)
                self.c.add('udp_datagrams')
            except OSError:
                pass
        try:
            self.every(0.05, one)
        finally:
            s.close()

    def w_slowloris(self, procs):
        """slowhttptest's slow headers, SLOWLORIS connections a run, runs
        one after another until the phase ends."""
        while not self.stop.is_set():
            p = subprocess.Popen(
                ['slowhttptest', '-H', '-c', str(SLOWLORIS), '-r', '250', '-i', '5', '-l', '25',
                 '-p', '5', '-x', '24', '-u', 'http://%s:%d/' % self.target],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True)
            procs.append(p)
            out = []
            reader = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
            reader.start()
            while p.poll() is None and not self.stop.is_set():
                self.stop.wait(0.5)
            end_process(p)
            reader.join(10)
            text = re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', (out[0] if out else b'')
                          .decode('utf-8', 'replace'))
            self.c.add('slowloris_runs')
            connected = re.findall(r'connected:\s+(\d+)', text)
            if connected:
                self.c.add('slowloris_connected_peak', max(map(int, connected)))
            if 'Exit status' not in text and not self.stop.is_set():
                log('slowhttptest ended oddly: %s' % text[-300:])

    def frames(self, iface, guest_ip, seed, results, busy):
        """tests/hostile.py --http once, with --ipv6 for an IPv6 guest_ip.
        busy: while the rest of the battery runs, which keeps httpd at its
        connection limit (--busy: a case whose connection is evicted ends
        there)."""
        p = subprocess.run([PYTHON, str(HOSTILE), iface, guest_ip, '--http', '--seed',
                            str(seed), '--patience', '5' if busy else '2', '--timeout', '240']
                           + (['--busy'] if busy else [])
                           + (['--ipv6'] if ':' in guest_ip else []),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors='replace', timeout=300)
        last = (p.stdout.strip().splitlines() or [''])[-1]
        m = re.match(r'ok: \d+ cases, (\d+) frames sent.*?(?:, (\d+) cut short)?$', last)
        results['runs'] += 1
        if p.returncode == 0 and m:
            results['frames'] += int(m.group(1))
            results['cases_cut_short'] += int(m.group(2) or 0)
        else:
            results['failed'].append('seed %d, %s%s: %s%s' % (
                seed, guest_ip, ' (busy)' if busy else ' (quiet guest)', p.stdout[-1500:],
                p.stderr[-500:]))
            self.c.wrong('the frame battery (seed %d): %s' % (seed, last))

    def w_frames(self, iface, guest_ips, results):
        """tests/hostile.py --http --busy, run after run with a new seed
        each, over IPv4 and IPv6 in turn (guest_ips)."""
        seed = self.seed * 1000
        while not self.stop.is_set():
            seed += 1
            self.frames(iface, guest_ips[seed % len(guest_ips)], seed, results, busy=True)

    # ---- the burst after the hostile requests (issue 12) -------------------------

    def edge_cases(self):
        """(name, request, statuses, expected body or None, how many
        answers, HEAD): each a different edge case of HTTP/1.1."""
        idx = self.site.index
        big = self.site.big
        h = b'Host: edge\r\n'
        pad = b'X-Pad: ' + b'p' * 6000 + b'\r\n'
        many = b''.join(b'X-F-%d: v\r\n' % i for i in range(90))
        return [
            ('HTTP/1.0', b'GET / HTTP/1.0\r\n\r\n', (200,), idx, 1, False),
            ('HEAD', b'HEAD / HTTP/1.1\r\n' + h + b'\r\n', (200,), b'', 1, True),
            ('If-None-Match: *', b'GET /style.css HTTP/1.1\r\n' + h + b'If-None-Match: *\r\n\r\n',
             (304,), b'', 1, False),
            ('If-Modified-Since in the future', b'GET / HTTP/1.1\r\n' + h +
             b'If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n\r\n', (304,), b'', 1, False),
            ('Range 0-9', b'GET / HTTP/1.1\r\n' + h + b'Range: bytes=0-9\r\n\r\n', (206,),
             idx[:10], 1, False),
            ('Range -5', b'GET / HTTP/1.1\r\n' + h + b'Range: bytes=-5\r\n\r\n', (206,),
             idx[-5:], 1, False),
            ('Range past the end', b'GET / HTTP/1.1\r\n' + h + b'Range: bytes=99999999-\r\n\r\n',
             (416,), None, 1, False),
            ('two ranges', b'GET / HTTP/1.1\r\n' + h + b'Range: bytes=0-1,5-6\r\n\r\n', (200,),
             idx, 1, False),
            ('Range of the 1 MiB file', b'GET ' + BIG.encode() + b' HTTP/1.1\r\n' + h +
             b'Range: bytes=1000000-\r\n\r\n', (206,), big[1000000:], 1, False),
            ('the 1 MiB file', b'GET ' + BIG.encode() + b' HTTP/1.1\r\n' + h + b'\r\n', (200,),
             big, 1, False),
            ('gzip', b'GET /docs/guide.txt HTTP/1.1\r\n' + h + b'Accept-Encoding: gzip\r\n\r\n',
             (200,), None, 1, False),
            ('folder without slash', b'GET /docs HTTP/1.1\r\n' + h + b'\r\n', (301,), None, 1,
             False),
            ('missing', b'GET /nope HTTP/1.1\r\n' + h + b'\r\n', (404,), None, 1, False),
            ('OPTIONS *', b'OPTIONS * HTTP/1.1\r\n' + h + b'\r\n', (400, 405, 501), None, 1,
             False),
            ('POST with a body', b'POST / HTTP/1.1\r\n' + h + b'Content-Length: 5\r\n\r\nhello',
             (405,), None, 1, False),
            ('absolute form', b'GET http://edge/ HTTP/1.1\r\n' + h + b'\r\n', (200,), idx, 1,
             False),
            ('query', b'GET /?q=a%20b&r=1 HTTP/1.1\r\n' + h + b'\r\n', (200,), idx, 1, False),
            ('percent-encoded path', b'GET /%69ndex.html HTTP/1.1\r\n' + h + b'\r\n', (200,), idx,
             1, False),
            ('dot segments', b'GET /docs/../index.html HTTP/1.1\r\n' + h + b'\r\n', (200,), idx,
             1, False),
            ('three pipelined', (b'GET / HTTP/1.1\r\n' + h + b'\r\n') * 3, (200,), idx, 3, False),
            ('keep-alive, HTTP/1.0', b'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' * 2,
             (200,), idx, 2, False),
            ('Expect: 100-continue', b'GET / HTTP/1.1\r\n' + h + b'Expect: 100-continue\r\n\r\n',
             (200, 417), None, 1, False),
            ('tabs and trailing blanks', b'GET / HTTP/1.1\r\nHost:\tedge \t\r\nAccept: */* \r\n\r\n',
             (200,), idx, 1, False),
            ('a 6,000-byte header', b'GET / HTTP/1.1\r\n' + h + pad + b'\r\n', (200,), idx, 1,
             False),
            ('90 header fields', b'GET / HTTP/1.1\r\n' + h + many + b'\r\n', (200,), idx, 1, False),
            ('Content-Length: 0', b'GET / HTTP/1.1\r\n' + h + b'Content-Length: 0\r\n\r\n',
             (200,), idx, 1, False),
            ('chunked GET', b'GET / HTTP/1.1\r\n' + h + b'Transfer-Encoding: chunked\r\n\r\n'
             b'0\r\n\r\n', (200, 400, 411, 501), None, 1, False),
            ('lower-case method', b'get / HTTP/1.1\r\n' + h + b'\r\n', (400, 501), None, 1,
             False),
            ('empty Host', b'GET / HTTP/1.1\r\nHost:\r\n\r\n', (200, 400), None, 1, False),
            ('the stats page', b'GET /_limpet/stats HTTP/1.1\r\n' + h + b'\r\n', (200,), None, 1,
             False),
            ('LF line ends', b'GET / HTTP/1.1\nHost: edge\n\n', (200, 400), None, 1, False),
        ]

    def edge(self, case, retry=True):
        """One edge case on its own connection: every answer checked;
        'ok', 'cut' or 'bad'."""
        what, req, statuses, body, answers, head_only = case
        c = None
        try:
            c = Conn(self.target)
            if self.user_net:
                c.prime()
            # Sent in two pieces, the first a single byte: a request that
            # arrives in parts.
            c.send(req[:1])
            c.send(req[1:])
            for _ in range(answers):
                status, _, got = c.response(head_only)
                self.c.add('requests')
                if status not in statuses or (body is not None and got != body):
                    self.c.wrong('edge case "%s": status %d, %d bytes%s' % (
                        what, status, len(got), '' if body is None else
                        ' (expected %d)' % len(body)))
                    return 'bad'
        except Cut as e:
            if c:
                c.close()
            if self.user_net and retry:
                self.c.add('user_net_retries')
                log('edge case "%s": no answer (%s); once more' % (what, e))
                return self.edge(case, retry=False)
            self.c.wrong('edge case "%s": no answer (%s)' % (what, e))
            return 'cut'
        except ValueError as e:
            self.c.wrong('edge case "%s": %s' % (what, e))
            return 'bad'
        finally:
            if c:
                c.close()
        return 'ok'

    def hostile_then_burst(self):
        """The sequence of issue 12, once: the hostile requests one after
        another while a request trickles in, then within a second about
        30 concurrent connections with a different edge case each, then
        a health check.  Its answers are all checked (no refusal or cut
        is expected of a server this lightly loaded)."""
        before = self.c.bad_count
        trickle = {}
        t = threading.Thread(target=lambda: trickle.update(how=self.trickle()))
        t.start()
        for what, req, statuses in HOSTILE_REQUESTS:
            how = self.ask(what, req, statuses)
            if how == 'cut' and self.user_net:
                self.c.add('user_net_retries')
                how = self.ask(what, req, statuses)
            if how != 'ok':
                self.c.wrong('hostile request "%s" before the burst: %s' % (what, how))
        cases = self.edge_cases()
        threads = [threading.Thread(target=self.edge, args=(case,)) for case in cases]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        t.join(60)
        if trickle.get('how') != 'ok':
            self.c.wrong('the request trickled in during the burst: %s' % trickle.get('how'))
        self.c.add('burst_sequences')
        ok = self.health_check()
        return ok and self.c.bad_count == before

    # ---- a round ----------------------------------------------------------------

    def phase(self, seconds, frames=None, guest_ips=()):
        """Every worker at once for `seconds` (and until the frame battery
        run in progress ends)."""
        procs = []
        frame_results = {'runs': 0, 'frames': 0, 'failed': [], 'cases_cut_short': 0}
        workers = [self.w_health, self.w_malformed, self.w_trickle, self.w_bursts,
                   self.w_rst_storm, self.w_half_closed, self.w_udp,
                   lambda: self.w_slowloris(procs)]
        workers += [lambda k=k: self.w_zero_window(k) for k in range(ZERO_WINDOW_CLIENTS)]
        if frames:
            workers.append(lambda: self.w_frames(frames, guest_ips, frame_results))
        threads = [threading.Thread(target=w, daemon=True) for w in workers]
        for t in threads:
            t.start()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(min(10, max(0, end - time.monotonic())))
            log('%3.0fs: %d requests, health %d/%d lost, %d bad answers' % (
                seconds - max(0, end - time.monotonic()), self.c.get('requests'),
                self.health['lost'], self.health['checks'], self.c.bad_count))
        self.stop.set()
        for p in procs:
            end_process(p)
        for t in threads:
            t.join(330)
            if t.is_alive():
                self.c.wrong('a worker of the battery never ended')
        self.stop.clear()
        return frame_results


def end_process(p):
    """End a program we started (its own session) by its PID."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()


# ---- what the server holds ----------------------------------------------------------

def fetch_stats(target, deadline=HEALTH_DEADLINE):
    """/_limpet/stats as a dict (retrying as a health check does).  We
    close first, so that the connection leaves no TIME_WAIT in the server
    to be counted by the next look."""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        c = None
        try:
            c = Conn(target, timeout=10)
            c.send(b'GET /_limpet/stats HTTP/1.1\r\nHost: stats\r\n\r\n')
            status, _, body = c.response()
            if status == 200:
                return json.loads(body)
            last = 'status %d' % status
        except (Cut, ValueError) as e:
            last = str(e)
        finally:
            if c:
                c.close()
        time.sleep(0.5)
    raise RuntimeError('no /_limpet/stats in %ds (last: %s)' % (deadline, last))


def usage(stats):
    """What is in use, from the stats: open connections (the one asking
    included), lwIP's heap (bytes) and each of its pools, the netif's
    receive buffers that hold frames (those posted to the device vary
    with how many descriptors each takes)."""
    u = {'open': stats['open'], 'heap': stats['lwip']['heap']['used']}
    u.update({name: v['used'] for name, v in stats['lwip']['memp'].items()})
    u['rx_held'] = stats['rx_buffers']['held']
    return u


# Each look at the stats is itself a connection, and the frames of its
# handshake and request may still be on their way through the device when
# the page is made: a buffer or a header-only frame's pbuf (some 100 bytes
# of lwIP's heap) more than a moment later.  So a counter counts as its
# lowest value over the last LOOKS looks, a second apart: what is leaked
# shows in every look.
LOOKS = 3


def settle(target, base, timeout=SETTLE):
    """Poll the stats until nothing is in use beyond the baseline: (seconds
    it took, {counter: (baseline, now)} still above it, the last stats)."""
    start = time.monotonic()
    looks = []
    while True:
        stats = fetch_stats(target)
        looks = (looks + [usage(stats)])[-LOOKS:]
        now = {k: min(u.get(k, 0) for u in looks) for k in looks[-1]}
        grew = {k: (base.get(k, 0), v) for k, v in now.items() if v > base.get(k, 0)}
        if (not grew and len(looks) == LOOKS) or time.monotonic() - start > timeout:
            return time.monotonic() - start, grew, stats, now
        time.sleep(1)


def baseline(target):
    """What is in use on a quiet server: each counter's lowest value over
    2 * LOOKS looks, a second apart."""
    looks = []
    for _ in range(2 * LOOKS):
        looks.append(usage(fetch_stats(target)))
        time.sleep(1)
    return {k: min(u[k] for u in looks) for k in looks[-1]}


def free_port():
    """A port free on 127.0.0.1 for TCP and UDP both (./limpet forwards
    both); OSError when 50 tries find none."""
    for _ in range(50):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(('127.0.0.1', port))
            return port
        except OSError:
            continue
        finally:
            u.close()
    raise OSError('no free port on 127.0.0.1')


def raise_fd_limit():
    """Room for SLOWLORIS + BURST + RST_STORM sockets at once, for us and
    for slowhttptest (as root the hard limit may be raised too)."""
    want = 65536
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, want)), hard))


def run_round(a):
    raise_fd_limit()
    target = (a.host, a.port)
    base = json.loads(Path(a.baseline).read_text())
    b = Battery(a.host, a.port, Site(a.site), a.seed, a.user_net)
    start = time.monotonic()
    guest_ips = [a.guest_ip] + ([a.guest_ip6] if a.guest_ip6 else [])
    frames = b.phase(a.seconds, a.frames, guest_ips)
    phase_s = time.monotonic() - start
    log('phase over after %.0fs: %d requests; the hostile sequence and burst, %d times'
        % (phase_s, b.c.get('requests'), a.bursts))
    if a.frames:
        # Once more on the quiet guest, where every check must hold.
        t = time.monotonic()
        for ip in guest_ips:
            b.frames(a.frames, ip, a.seed * 1000 + 999, frames, busy=False)
        log('the frame battery on the quiet guest: %.1fs' % (time.monotonic() - t))
    seq_failed = 0
    t = time.monotonic()
    for i in range(a.bursts):
        if not b.hostile_then_burst():
            seq_failed += 1
            log('hostile-then-burst %d of %d: failed' % (i + 1, a.bursts))
    log('%d hostile-then-burst sequences: %.1fs' % (a.bursts, time.monotonic() - t))
    took, grew, stats, now = settle(target, base)
    log('back to the baseline after %.1fs%s' % (took, ', except %s' % grew if grew else ''))
    result = {
        'seconds': round(time.monotonic() - start, 1),
        'phase_seconds': round(phase_s, 1),
        'requests': b.c.get('requests'),
        'health': b.health,
        'bad_answers': b.c.bad_count,
        'bad': b.c.bad,
        'counters': dict(sorted(b.c.n.items())),
        'frames': frames,
        'sequences': {'run': a.bursts, 'failed': seq_failed},
        'settle_seconds': round(took, 1),
        'grew': grew,
        'usage': now,
        'stats': stats,
    }
    print('result: ' + json.dumps(result))
    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    bl = sub.add_parser('baseline')
    rd = sub.add_parser('round')
    for q in (bl, rd):
        q.add_argument('host')
        q.add_argument('port', type=int)
    rd.add_argument('--site', required=True, help='the folder the server serves')
    rd.add_argument('--baseline', required=True, help='a file with `baseline`\'s JSON')
    rd.add_argument('--seconds', type=float, default=60)
    rd.add_argument('--bursts', type=int, default=3)
    rd.add_argument('--frames', help='the tap for tests/hostile.py (inside its namespace)')
    rd.add_argument('--guest-ip', default='10.0.5.3')
    rd.add_argument('--guest-ip6', default='fd00:5::3',
                    help='the guest\'s IPv6 address for the frames\' IPv6 runs (\'\' for none)')
    rd.add_argument('--seed', type=int, default=1)
    rd.add_argument('--user-net', action='store_true',
                    help='HOST:PORT is a port QEMU\'s user network forwards (see Battery)')
    a = p.parse_args()
    if a.cmd == 'baseline':
        print('result: ' + json.dumps(baseline((a.host, a.port))))
    else:
        run_round(a)


if __name__ == '__main__':
    main()
