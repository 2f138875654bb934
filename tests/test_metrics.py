"""GET /_limpet/metrics: httpd's counters in Prometheus's text exposition
format, checked with promtool (Debian's prometheus package) as a scraper
would take them, and against what the requests made here must have
counted.  httpd runs with user networking (127.0.0.1 only)."""

import re
import subprocess

import pytest

from test_https import Https
from test_httpd import Httpd, need_tool


def parse(text):
    """{(name, labels as a sorted tuple): value}, and the families'
    declared types."""
    values, types = {}, {}
    for line in text.splitlines():
        if line.startswith('# TYPE '):
            _, _, name, kind = line.split()
            types[name] = kind
            continue
        if not line or line.startswith('#'):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, 'not a sample line: %r' % line
        labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(2) or '')))
        values[(m.group(1), labels)] = float(m.group(3))
    return values, types


def metrics(srv):
    status, headers, body = srv.request('GET', '/_limpet/metrics')
    assert status == 200, status
    assert headers['content-type'] == 'text/plain; version=0.0.4; charset=utf-8', headers
    return body.decode()


def promtool_check(text):
    need_tool('promtool', 'prometheus')
    p = subprocess.run(['promtool', 'check', 'metrics'], input=text, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), \
        p.stdout + p.stderr + '\n' + text


@pytest.fixture(scope='module')
def srv():
    h = Httpd()
    yield h
    h.stop()


def test_promtool_accepts_it(srv):
    text = metrics(srv)
    promtool_check(text)
    values, types = parse(text)
    # Every sample belongs to a declared family.
    for name, _ in values:
        assert name in types, name
    for family, kind in (('limpet_http_requests_total', 'counter'),
                         ('limpet_http_connections', 'gauge'),
                         ('limpet_net_device_resets_total', 'counter'),
                         ('limpet_uptime_seconds', 'gauge'),
                         ('limpet_lwip_pool_used', 'gauge')):
        assert types.get(family) == kind, (family, types)


def test_counts_what_was_served(srv):
    before, _ = parse(metrics(srv))
    for _ in range(3):
        assert srv.request('GET', '/')[0] == 200
    assert srv.request('GET', '/no-such-file')[0] == 404
    after, _ = parse(metrics(srv))
    ok = ('limpet_http_requests_total', (('status', '200'),))
    missing = ('limpet_http_requests_total', (('status', '404'),))
    # The first metrics page itself was a 200 as well.
    assert after[ok] >= before[ok] + 4, (before[ok], after[ok])
    assert after[missing] == before[missing] + 1, (before[missing], after[missing])
    assert after[('limpet_net_packets_total', (('direction', 'rx'),))] > \
        before[('limpet_net_packets_total', (('direction', 'rx'),))]
    assert after[('limpet_uptime_seconds', ())] > before[('limpet_uptime_seconds', ())]
    assert after[('limpet_net_copied_bytes_total', ())] == 0
    assert after[('limpet_http_connections', (('kind', 'open'),))] >= 1


def test_tls_metrics():
    h = Https()
    try:
        before, _ = parse(metrics(h))
        for version in ('TLSv1.3', 'TLSv1.2'):
            h.handshake(version=version)
        text = metrics(h)
        promtool_check(text)
        after, types = parse(text)
        assert types['limpet_tls_handshakes_total'] == 'counter'
        for v in ('1.3', '1.2'):
            key = ('limpet_tls_handshakes_total', (('version', v),))
            assert after[key] == before[key] + 1, (v, before[key], after[key])
        assert after[('limpet_tls_memory_bytes', ())] > 0
    finally:
        h.stop()


def test_no_stats_no_metrics():
    h = Httpd(app_args=['--no-stats'])
    try:
        assert h.request('GET', '/_limpet/metrics')[0] == 404
    finally:
        h.stop()
