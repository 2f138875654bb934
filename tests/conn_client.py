#!/usr/bin/python3
"""Many concurrent keep-alive HTTP connections to httpd, for
tests/test_conns.py (run inside the test's network namespace).

    conn_client.py ADDRESS PORT COUNT [--batch B] [--timeout S]

Opens COUNT connections to ADDRESS:PORT, at most B connecting at once,
sends a request on each as it opens and reads the whole response; then,
with every connection still open and idle, a second request on each, all
sent before any answer is read; then closes them all.  Around that it
reads httpd's /_limpet/stats on a connection of its own: before, with
all of them open and idle, after the second round, and after the close
until lwIP's pools and httpd's memory are back where they were (or 60 s
pass).  Prints one JSON object: the counts, the failures (the first few
of each kind) and the stats snapshots.

Safety: it talks only to the address it is given, which the test sets
up inside a namespace of its own; every step is bounded in time.
"""

import argparse
import asyncio
import json
import re
import resource
import sys
import time

REQUEST = b'GET / HTTP/1.1\r\nHost: limpet\r\n\r\n'


def raise_nofile(count):
    """Room for count sockets (root may raise the hard limit too)."""
    want = count + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        if hard < want:
            sys.exit('conn_client: RLIMIT_NOFILE is %d, %d needed' % (hard, want))


async def read_response(reader):
    """One response with a Content-Length body: (status, body)."""
    head = await reader.readuntil(b'\r\n\r\n')
    m = re.match(rb'HTTP/1\.1 (\d{3}) ', head)
    if not m:
        raise ValueError('not an HTTP/1.1 response: %r' % head[:80])
    n = re.search(rb'\r\nContent-Length: (\d+)\r\n', head, re.I)
    if not n:
        raise ValueError('no Content-Length: %r' % head[:200])
    body = await reader.readexactly(int(n.group(1)))
    if re.search(rb'\r\nConnection: close\r\n', head, re.I):
        raise ValueError('the server closes the connection (status %s)' % m.group(1).decode())
    return int(m.group(1)), body


class Stats:
    """/_limpet/stats on one kept-alive connection of its own, so that
    reading them leaves no connection closing behind (in TIME_WAIT, its
    PCB would show in the counts it reads)."""

    async def connect(self, addr, port, timeout):
        self.timeout = timeout
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection(addr, port), timeout)
        return self

    async def get(self):
        self.writer.write(b'GET /_limpet/stats HTTP/1.1\r\nHost: limpet\r\n\r\n')
        status, body = await asyncio.wait_for(read_response(self.reader), self.timeout)
        if status != 200:
            raise ValueError('stats: status %d' % status)
        return json.loads(body)


def usage(st):
    """What the stats say is in use: lwIP's pools and heap, httpd's
    connections and their memory."""
    out = {name: v['used'] for name, v in st['lwip']['memp'].items()}
    out['lwip_heap'] = st['lwip']['heap']['used']
    for k in ('open', 'conn_memory', 'req_buffers', 'out_copies'):
        out[k] = st[k]
    return out


class Failures:
    def __init__(self):
        self.count = {}
        self.examples = []

    def add(self, what, e):
        self.count[what] = self.count.get(what, 0) + 1
        if len(self.examples) < 10:
            self.examples.append('%s: %s' % (what, repr(e)[:200]))


async def main(opts):
    raise_nofile(opts.count)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + opts.timeout
    left = lambda: max(1.0, deadline - loop.time())     # noqa: E731
    fails = Failures()
    st = await Stats().connect(opts.address, opts.port, 30)
    snaps = {'before': await st.get()}
    conns = []
    gate = asyncio.Semaphore(opts.batch)
    expected = None

    async def open_one():
        nonlocal expected
        async with gate:
            try:
                r, w = await asyncio.wait_for(
                    asyncio.open_connection(opts.address, opts.port), left())
            except (OSError, asyncio.TimeoutError) as e:
                fails.add('connect', e)
                return
            try:
                w.write(REQUEST)
                status, body = await asyncio.wait_for(read_response(r), left())
                if status != 200 or (expected is not None and body != expected):
                    raise ValueError('status %d, %d bytes' % (status, len(body)))
                expected = expected or body
                conns.append((r, w))
            except (OSError, ValueError, asyncio.TimeoutError,
                    asyncio.IncompleteReadError) as e:
                fails.add('first request', e)
                w.close()

    t0 = time.monotonic()
    await asyncio.gather(*(open_one() for _ in range(opts.count)))
    opened = time.monotonic() - t0
    snaps['open'] = await st.get()

    # The second round: every idle connection still answers.
    for _, w in conns:
        w.write(REQUEST)

    async def second(r):
        try:
            status, body = await asyncio.wait_for(read_response(r), left())
            if status != 200 or body != expected:
                raise ValueError('status %d, %d bytes' % (status, len(body)))
            return True
        except (OSError, ValueError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            fails.add('second request', e)
            return False

    t0 = time.monotonic()
    answered = sum(await asyncio.gather(*(second(r) for r, _ in conns)))
    second_s = time.monotonic() - t0
    snaps['second'] = await st.get()

    # Closed a thousand at a time: 10,000 FINs at once overflow the tap's
    # queue (1,000 packets), and a FIN lost under that load is sent again
    # only after a retransmission timeout grown from round trips of
    # seconds, which can outlast the wait below.
    for i, (_, w) in enumerate(conns):
        w.close()
        if i % 1000 == 999:
            await asyncio.sleep(0.5)
    await asyncio.sleep(0.5)
    base = usage(snaps['before'])
    end = time.monotonic() + 180
    while True:
        snaps['after'] = await st.get()
        now = usage(snaps['after'])
        # The lwIP heap may still hold the tail of an earlier stats
        # response that its client has not acknowledged: a segment.
        if all(now[k] <= base.get(k, 0) + (1460 if k == 'lwip_heap' else 0) for k in now) \
                or time.monotonic() > end:
            break
        await asyncio.sleep(1)
    print(json.dumps({'count': opts.count, 'opened': len(conns), 'answered': answered,
                      'open_seconds': opened, 'second_seconds': second_s,
                      'failures': fails.count, 'examples': fails.examples,
                      'usage': {k: usage(v) for k, v in snaps.items()},
                      'stats': snaps}))
    st.writer.close()


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('address')
    ap.add_argument('port', type=int)
    ap.add_argument('count', type=int)
    ap.add_argument('--batch', type=int, default=200, help='connections opening at once')
    ap.add_argument('--timeout', type=float, default=300, help='for the whole run, seconds')
    asyncio.run(main(ap.parse_args()))
