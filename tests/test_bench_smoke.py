"""A smoke form of ./limpet bench, so that the benchmark code cannot rot:
the netbench client against the netbench guest with tiny rounds, over IPv4
and IPv6, then the bench's result writing (netbench/bench.py) on what that
measured.  The Linux VM (netbench/baseline/build.sh) is not built here, but
its netbench-server is run on the host, over both families on loopback.

Safety as in test_net.py: the guest and every client run inside a network
namespace of the test's own, deleted afterwards.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import TOP, image_path
from test_ipv6 import GUEST_IP6, READY6
from test_net import GUEST_IP, Guest, Namespace, need_root

sys.path.insert(0, str(TOP / 'netbench'))
import bench  # noqa: E402  (netbench/bench.py)

CLIENT = TOP / 'build' / 'netbench' / 'netbench'
SERVER = TOP / 'build' / 'netbench' / 'netbench-server'
LISTENING = re.compile(r'netbench: listening')

# Tiny rounds: this checks that everything works, not how fast.
RUNS = {
    'latency_tcp': ['latency', 'tcp', '-n', '50', '-w', '5'],
    'latency_udp': ['latency', 'udp', '-n', '50', '-w', '5', '-t', '1'],
    'bw_tcp': ['bw', 'tcp', '-s', '65536', '-n', '16', '-w', '2'],
    'bw_udp': ['bw', 'udp', '-n', '200', '-w', '10'],
}
# Over IPv6, the runs the bench repeats there (the pinned one included).
RUNS6 = {name: RUNS[name] for name in ('latency_tcp', 'latency_udp', 'bw_udp')}


@pytest.fixture(scope='module')
def guest():
    need_root()
    for p, how in ((image_path('netbench'), './limpet build netbench'),
                   (CLIENT, 'scons netbench')):
        if not p.exists():
            pytest.fail('%s is missing: build it with %s' % (p.relative_to(TOP), how))
    ns = Namespace()
    g = None
    try:
        g = Guest(['--net', 'tap', '--netns', ns.name, '--timeout', '120'],
                  service='netbench')
        g.wait_for(LISTENING)
        g.wait_for(READY6, 30)     # after duplicate address detection
        yield ns, g
    finally:
        if g:
            g.stop()
        ns.delete()


def client(ns, args, under=(), address=GUEST_IP):
    """The netbench client with `args`, run under the command `under`."""
    cmd = list(under) + [CLIENT] + list(args)
    p = ns.run(*cmd, '-a', address, '--json', timeout=30, check=False)
    assert p.returncode == 0, 'netbench %s: %s%s' % (' '.join(args), p.stdout, p.stderr)
    return json.loads(p.stdout)


def qemu_pid(pid):
    """The QEMU below process `pid` (./limpet run -> timeout -> QEMU)."""
    parents = {}
    for d in Path('/proc').iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / 'stat').read_text()
        except OSError:
            continue
        name, rest = stat.split('(', 1)[1].rsplit(')', 1)
        parents[int(d.name)] = (int(rest.split()[1]), name)
    for child, (parent, name) in parents.items():
        if name.startswith('qemu-system'):
            p = parent
            while p in parents and p != pid:
                p = parents[p][0]
            if p == pid:
                return child
    pytest.fail('no QEMU below process %d' % pid)


def affinities(pid):
    return {int(t): os.sched_getaffinity(int(t)) for t in os.listdir('/proc/%d/task' % pid)}


def test_netbench_and_results(guest, tmp_path):
    ns, g = guest
    measured = {name: client(ns, args) for name, args in RUNS.items()}

    # The bench's second latency run: QEMU's threads and the client on one
    # CPU, put back as they were afterwards.
    qemu = qemu_pid(g.proc.pid)
    before = affinities(qemu)
    with bench.one_cpu(qemu) as cpu:
        assert all(cpus == {cpu} for cpus in affinities(qemu).values())
        measured['latency_tcp_one_cpu'] = client(ns, RUNS['latency_tcp'],
                                                 under=('taskset', '-c', cpu))
    assert affinities(qemu) == before

    lat = measured['latency_tcp']
    assert lat['replies'] == 50 and lat['lost'] == 0, lat
    us = lat['round_trip_us']
    assert 0 < us['min'] <= us['p50'] <= us['p90'] <= us['p99'] <= us['p99_9'] <= us['max'], us
    assert measured['latency_udp']['replies'] > 0, measured['latency_udp']
    bw = measured['bw_tcp']
    assert bw['bytes'] == 16 * 65536 and bw['server_seconds'] > 0, bw
    assert abs(bw['megabits_per_second'] - 8 * bw['megabytes_per_second']) < 0.01, bw
    udp = measured['bw_udp']
    assert udp['datagrams_sent'] == 200 and 0 <= udp['datagrams_received'] <= 200, udp
    assert g.proc.poll() is None, 'the guest died\n' + g.describe()

    # Over IPv6: the same client, the address the bench uses, UDP's
    # datagrams 20 bytes smaller (a 1500-byte frame each).
    assert bench.GUEST_IP6 == GUEST_IP6
    measured6 = {name: client(ns, args, address=GUEST_IP6) for name, args in RUNS6.items()}
    with bench.one_cpu(qemu) as cpu:
        measured6['latency_tcp_one_cpu'] = client(ns, RUNS['latency_tcp'], address=GUEST_IP6,
                                                  under=('taskset', '-c', cpu))
    for name in ('latency_tcp', 'latency_tcp_one_cpu'):
        lat6 = measured6[name]
        assert lat6['address'] == GUEST_IP6 and lat6['replies'] == 50 and lat6['lost'] == 0, lat6
    assert measured6['latency_udp']['replies'] > 0, measured6['latency_udp']
    udp6 = measured6['bw_udp']
    assert (udp['size'], udp6['size']) == (1472, 1452), (udp, udp6)
    assert udp6['datagrams_sent'] == 200 and 0 <= udp6['datagrams_received'] <= 200, udp6
    assert g.proc.poll() is None, 'the guest died\n' + g.describe()

    # The bench's result writing, on these numbers (Limpet only).
    results = {'date': '2000-01-01T00:00:00+00:00', 'quick': True, 'duration_seconds': 1.0,
               'machine': bench.machine_info(bench.ACCEL), 'errors': [],
               'raw': {'limpet': {'netbench': measured, 'netbench_ipv6': measured6,
                                  'image_bytes': 1 << 19}, 'floor': {}}}
    bench.write_results(results, tmp_path, charts=False)
    data = json.loads((tmp_path / 'results.json').read_text())
    rows = {r['name']: r for r in data['rows']}
    r = rows['netbench latency tcp, 64 B, p50']
    assert r['limpet'] == us['p50'] and r['linux'] is None and r['ratio'] is None, r
    assert rows['netbench bandwidth tcp']['limpet'] == bw['megabits_per_second']
    one = measured['latency_tcp_one_cpu']
    assert one['replies'] == 50 and one['lost'] == 0, one
    r = rows['netbench latency tcp, 64 B, p50, one CPU']
    assert r['limpet'] == one['round_trip_us']['p50'] and 'one CPU' in r['note'], r
    r = rows['netbench latency tcp, 64 B, p50, IPv6']
    assert r['limpet'] == measured6['latency_tcp']['round_trip_us']['p50'], r
    assert GUEST_IP6 in r['note'], r
    r = rows['netbench latency tcp, 64 B, p50, one CPU, IPv6']
    assert r['limpet'] == measured6['latency_tcp_one_cpu']['round_trip_us']['p50'], r
    r = rows['netbench bandwidth udp, IPv6']
    assert r['limpet'] == udp6['megabits_per_second'], r
    assert '1452-B datagrams (IPv4: 1472 B)' in r['note'], r
    # Not measured over IPv6: a row with no number, as for IPv4.
    assert rows['netbench bandwidth tcp, IPv6']['limpet'] is None
    # The IPv6 rows follow all of IPv4's.
    names = [r['name'] for r in data['rows'] if r['group'] == 'netbench']
    assert max(i for i, n in enumerate(names) if 'IPv6' not in n) < \
        min(i for i, n in enumerate(names) if 'IPv6' in n), names
    table = (tmp_path / 'results.md').read_text()
    assert '| Measure | Unit | Limpet | Linux (nginx) | Limpet advantage | Note |' in table
    assert '| netbench bandwidth tcp | Mbit/s |' in table, table
    assert '| netbench latency udp, 64 B, p99, one CPU, IPv6 | us |' in table, table
    assert 'accelerator %s' % bench.ACCEL.upper() in table, table


def test_netbench_rows_without_ipv6():
    # Results from before IPv6 (or with its step failed on both systems):
    # IPv4's netbench rows, none of IPv6's.
    names = [r['name'] for r in bench.make_rows({'limpet': {}}) if r['group'] == 'netbench']
    assert 'netbench bandwidth udp' in names and not [n for n in names if 'IPv6' in n], names


def test_client_addresses():
    # Numeric IPv4 and IPv6 addresses only: no name is looked up.  Each of
    # these fails before a socket is opened.
    if not CLIENT.exists():
        pytest.fail('%s is missing: build it with scons netbench' % CLIENT.relative_to(TOP))
    for bad in ('localhost', '10.0.5', '10.0.5.300', 'fd00:5::3::1', '[fd00:5::3]', ''):
        p = subprocess.run([str(CLIENT), 'latency', 'tcp', '-a', bad], capture_output=True,
                           text=True, timeout=10)
        assert p.returncode == 2 and 'not an IPv4 or IPv6 address' in p.stderr, (bad, p)


def test_linux_server_both_families(tmp_path):
    # The Linux VM's netbench-server, on the host in a namespace of the
    # test's own: the same client over IPv4 and IPv6 on loopback.
    need_root()
    if not SERVER.exists():
        pytest.fail('%s is missing: build it with scons netbench' % SERVER.relative_to(TOP))
    ns = Namespace()
    server = None
    try:
        ns.run('ip', 'link', 'set', 'lo', 'up')
        log = tmp_path / 'server.log'
        with open(log, 'w') as out:
            # ip netns exec runs the server in its own process: its PID.
            server = subprocess.Popen(['ip', 'netns', 'exec', ns.name, str(SERVER)],
                                      stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while 'listening' not in log.read_text():
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert 'IPv4 and IPv6' in log.read_text(), log.read_text()
        for address in ('127.0.0.1', '::1'):
            for args in RUNS.values():
                p = ns.run(CLIENT, *args, '-a', address, '--json', timeout=30, check=False)
                assert p.returncode == 0, (address, args, p.stdout, p.stderr)
                r = json.loads(p.stdout)
                assert r['address'] == address, r
                if r['test'] == 'latency' and r['proto'] == 'tcp':
                    assert r['replies'] == 50 and r['lost'] == 0, r
                if r['test'] == 'bw' and r['proto'] == 'tcp':
                    assert r['bytes'] == 16 * 65536, r
        assert server.poll() is None, log.read_text()
    finally:
        if server is not None and server.poll() is None:
            server.kill()
            server.wait()
        ns.delete()


def test_ratio_direction():
    # Lower is better: Linux's number over Limpet's; higher: the reverse.
    assert bench.ratio(2.0, 10.0, 'lower') == 5.0
    assert bench.ratio(300.0, 100.0, 'higher') == 3.0
    assert bench.ratio(None, 1.0, 'lower') is None


def test_https_rows():
    # The HTTPS rows from raw measurements shaped as measure_https writes them.
    def https(rps, hs, cipher):
        return {'session': {'protocol': 'TLSv1.2', 'cipher': cipher, 'group': 'X25519'},
                'wrk': [{'connections': c, 'requests_per_second': rps * c, 'p50_ms': 1.0,
                         'p99_ms': 2.0} for c in (1, 8)],
                'handshakes': {'handshakes_per_second': hs},
                'handshakes_1.3': {'handshakes_per_second': hs * 3,
                                   'cipher': 'TLS_AES_256_GCM_SHA384'}}
    lim_https = https(100.0, 20.0, 'ECDHE-ECDSA-AES256-GCM-SHA384')
    lim_https['idle_memory'] = {'connections': 100, 'bytes_per_connection': 23552.0}
    raw = {'limpet': {'https': lim_https},
           'linux': {'https': https(50.0, 40.0, 'ECDHE-ECDSA-AES256-GCM-SHA384')}}
    rows = {r['name']: r for r in bench.make_rows(raw)}
    r = rows['HTTPS small page, keep-alive, requests/s, 8 conn.']
    assert (r['limpet'], r['linux'], r['ratio']) == (800.0, 400.0, 2.0), r
    r = rows['HTTPS small page, keep-alive, requests/s, 1 conn.']
    assert r['note'] == 'TLSv1.2, ECDHE-ECDSA-AES256-GCM-SHA384, X25519 on both', r
    r = rows['HTTPS full handshakes/s (TLS 1.2, %s, 1 client)' % bench.HANDSHAKE_CIPHER]
    assert r['unit'] == 'conn/s' and r['ratio'] == 0.5, r
    r = rows['HTTPS full handshakes/s (TLS 1.3, TLS_AES_256_GCM_SHA384, 1 client)']
    assert (r['limpet'], r['linux'], r['ratio']) == (60.0, 120.0, 0.5), r
    r = rows['HTTPS memory per idle connection, above HTTP']
    assert (r['limpet'], r['linux'], r['unit']) == (23.0, None, 'KiB'), r
    # Nothing measured: no HTTPS rows at all.
    assert not [r for r in bench.make_rows({'limpet': {}}) if r['group'] == 'https']


def test_many_connection_rows():
    # The rows of 512 and 10,000 connections, from measurements shaped as
    # measure_many writes them (Limpet's with httpd's eviction counts).
    def many(rps, limpet):
        out = []
        for c in (512, 10000):
            r = {'connections': c, 'requests_per_second': rps, 'p50_ms': 1.0, 'p99_ms': 9.0,
                 'established': c, 'errors': 0}
            if limpet:
                r.update(evicted=0, refused=0, max_conns=14618, tcp_capacity=16706)
            out.append(r)
        return out
    raw = {'limpet': {'many': many(3000.0, True),
                      'capacity_64m': {'tcp_capacity': 16706, 'max_conns': 14618}},
           'linux': {'many': many(1000.0, False)}}
    rows = {r['name']: r for r in bench.make_rows(raw)}
    r = rows['HTTP small page, 10000 conn., requests/s']
    assert (r['limpet'], r['linux'], r['ratio']) == (3000.0, 1000.0, 3.0), r
    assert 'wrk -t%d' % bench.MANY_THREADS in r['note'], r
    r = rows['HTTP small page, 512 conn., connections established at 80% of the run']
    assert (r['limpet'], r['linux']) == (512, 512), r
    r = rows['HTTP small page, 10000 conn., evicted + refused by httpd']
    assert (r['limpet'], r['linux']) == (0, None) and '14618' in r['note'], r
    r = rows['TCP connections Limpet httpd holds in -m %s' % bench.CAPACITY_MEMORY]
    assert r['limpet'] == 16706 and r['linux'] is None, r
