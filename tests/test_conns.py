"""10,000 concurrent keep-alive connections to httpd in -m 64M.

The connection pools are sized at boot from the machine's memory
(net/port/pools.c, NET_CONN_* in lwipopts.h), and httpd's limit follows
them.  This boots the release httpd with -m 64M on a tap inside a network
namespace of the test's own, and tests/conn_client.py (inside the same
namespace) opens 10,000 connections, a request and its response on each,
then a second request on every one while all are open, then closes them.
The stats must show no eviction, no refusal and no reset, and every
pool, buffer and byte of memory back where it was; the memory one idle
connection costs comes from the same stats and is printed (the README
gives it).

Safety: QEMU and the client run inside the namespace (limpet-test-PID-N,
made with scripts/tap-setup.sh --netns and deleted afterwards); nothing
goes to the root namespace.  Needs root, as CI has.
"""

import json
import re

import pytest

from conftest import IP6_READY, TOP, image_path
from test_net import GUEST_IP, PYTHON, Guest, Namespace, need_root

CLIENT = TOP / 'tests' / 'conn_client.py'
READY = re.compile(r'^httpd: listening on port 80\b.*$', re.M)
CONNECTIONS = 10000
# Bytes an idle kept-alive connection may cost: lwIP's TCP and altcp PCBs
# and httpd's struct conn come to about 500; twice that would mean a
# buffer is kept between requests.
IDLE_COST_MAX = 1024


def idle_cost(stats_before, stats_open):
    """Bytes per connection: lwIP's memp pools (elements times their
    size), its heap, and httpd's heap memory, open against before."""
    before, now = stats_before, stats_open
    n = now['open'] - before['open']
    total = 0
    for name, pool in now['lwip']['memp'].items():
        total += (pool['used'] - before['lwip']['memp'][name]['used']) * pool['size']
    total += now['lwip']['heap']['used'] - before['lwip']['heap']['used']
    total += now['conn_memory'] - before['conn_memory']
    return total / n, n


@pytest.fixture
def httpd64():
    need_root()
    img = image_path('httpd', mode='release')
    if not img.exists():
        pytest.fail('no image %s: build it with ./limpet build httpd --mode release'
                    % img.relative_to(TOP))
    ns = Namespace()
    guest = None
    try:
        guest = Guest(['--mode', 'release', '-m', '64M', '--net', 'tap', '--netns', ns.name,
                       '--timeout', '900'],
                      # Kept-alive connections wait for their second request
                      # while the others open: no idle timeout meanwhile.
                      app_args=['--idle-timeout', '900000'], service='httpd')
        guest.wait_for(READY, 60)
        guest.wait_for(IP6_READY, 30)      # before any baseline of the pools
        yield ns, guest
    finally:
        if guest:
            guest.stop()
        ns.delete()


def test_10000_keepalive_connections(httpd64):
    ns, guest = httpd64
    p = ns.run(PYTHON, CLIENT, GUEST_IP, 80, CONNECTIONS, '--timeout', 400, timeout=480,
               check=False)
    assert p.returncode == 0, 'conn_client: %s%s%s' % (p.stdout, p.stderr, guest.describe())
    r = json.loads(p.stdout)
    st, use = r['stats'], r['usage']
    summary = {k: r[k] for k in ('opened', 'answered', 'failures', 'examples',
                                 'open_seconds', 'second_seconds')}

    # The capacity the boot gave -m 64M, and httpd's limit, hold them all.
    assert st['before']['tcp_capacity'] >= CONNECTIONS + 1, st['before']
    assert st['before']['max_conns'] >= CONNECTIONS + 1, st['before']
    # Every connection opened, answered twice, and none was pushed out.
    assert r['opened'] == CONNECTIONS and r['answered'] == CONNECTIONS, summary
    assert not r['failures'], summary
    assert use['open']['open'] == use['before']['open'] + CONNECTIONS, use
    for k in ('evicted', 'refused', 'resets', 'no_memory'):
        assert st['second'][k] == st['before'][k], (k, st['before'][k], st['second'][k])
    assert st['second']['lwip']['memp']['TCP_PCB']['err'] == 0, st['second']['lwip']
    assert st['second']['lwip']['heap']['err'] == 0, st['second']['lwip']

    # What one idle kept-alive connection costs.
    cost, n = idle_cost(st['before'], st['open'])
    print('idle keep-alive connection: %.0f bytes (%d connections; TCP_PCB %d, ALTCP_PCB %d, '
          'httpd %d bytes each)' % (cost, n, st['open']['lwip']['memp']['TCP_PCB']['size'],
                                   st['open']['lwip']['memp']['ALTCP_PCB']['size'],
                                   (st['open']['conn_memory'] - st['before']['conn_memory'])
                                   // n))
    assert 0 < cost <= IDLE_COST_MAX, cost
    assert use['open']['req_buffers'] == use['before']['req_buffers'], use

    # All closed: every pool, buffer and byte back where it was (the heap
    # may still hold the tail of an earlier stats answer: a segment).
    grew = {k: (use['before'][k], v) for k, v in use['after'].items()
            if v > use['before'][k] + (1460 if k == 'lwip_heap' else 0)}
    assert not grew, 'not back to the baseline after the close: %s; TCP states %s' % (
        grew, st['after'].get('tcp_states'))
    assert guest.proc.poll() is None, 'httpd died' + guest.describe()


@pytest.mark.parametrize('value', ['0', '1000000'])
def test_max_conns_validated(value):
    """--max-conns takes 1 up to the capacity the boot computed; anything
    else stops httpd with status 2 and says what it takes."""
    from conftest import limpet
    from test_httpd import free_port
    p = limpet('run', 'httpd', '--no-build', '--timeout', '120',
               '--port', '%d:80' % free_port(), '--', '--max-conns', value, timeout=180)
    out = p.stdout + p.stderr
    assert p.returncode == 2, out
    if value == '0':
        assert 'httpd: --max-conns 0: expected a number 1..' in out, out
        return
    m = re.search(r'httpd: --max-conns %s: give 1 to (\d+), the TCP connections this '
                  r'machine\'s memory holds' % value, out)
    assert m and int(m.group(1)) >= 10000, out    # ./limpet run's -m 64M
