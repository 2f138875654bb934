"""httpd under the hostile battery, on both networks: one short round of
what ./limpet soak runs for as long as asked (tests/soak.py, with the
clients in tests/httpd_battery.py).

Each test boots httpd with its default limits, serving its own site plus
a 1 MiB file (build/soak/www, its own image), and runs for about a minute
everything at once: the malformed requests of test_httpd.py, 2,000
headers, a TLS ClientHello on port 80, a request trickled in, bursts of
500 concurrent connections, 1,000 slowloris connections, clients that
stop reading in the middle of the 1 MiB body, reset storms, half-closed
connections, UDP datagrams up to 64 KiB and, over tap, the malformed and
hostile frames of tests/hostile.py --http; with a health check (GET /)
every second.  Then a few times the sequence of issue 12 (the hostile
requests, then at once some 30 connections with a different edge case
each, then a health check).  Afterwards the guest must be alive, have
lost no health check and given no bad answer, give back every
connection, lwIP pool entry and heap byte and receive buffer (its
/_limpet/stats against the baseline it had before), have had no device
reset, and QEMU must have printed no virtio error.

User networking with the release build (where issue 12's dead NIC showed),
tap with the debug build (lwIP's assertions on).

Safety: over user networking every byte goes to 127.0.0.1, to a free port
that ./limpet forwards; over tap the guest and every client run inside a
network namespace of the test's own, deleted afterwards (needs root, as
CI has).  The QEMU a test starts is ended with its process group, by PID.
"""

import os

import pytest

from soak import Soak, SoakError

ROUND_SECONDS = 35      # the mixed part; with the sequences and the checks, ~1 minute
SEQUENCES = 3           # issue 12's sequence (the soak runs 20 a round)


def one_round(net, mode):
    s = Soak(net, mode, round_seconds=ROUND_SECONDS, bursts=SEQUENCES, say=print)
    try:
        s.start()
        r = s.round()
        line = s.progress(r)
    except SoakError as e:
        pytest.fail(str(e))
    finally:
        s.stop()
    print(line)
    assert not r['problems'], '%s\n%s\n%s' % (line, '\n'.join(r['problems']), s.log_tail())
    return r, line, s


def check_round(r, line, s):
    """What a passing round must also show: the battery ran (health
    checks every second, requests of every kind answered, the sequences
    of issue 12) and the driver's counters are reported."""
    assert r['health']['checks'] >= ROUND_SECONDS // 2, line
    assert r['sequences'] == {'run': SEQUENCES, 'failed': 0}, line
    n = r['counters']
    for key in ('malformed', 'trickled', 'bursts', 'rst_storms', 'half_closed',
                'slowloris_runs', 'udp_datagrams', 'burst_sequences'):
        assert n.get(key, 0) > 0, 'the battery never ran %s: %s\n%s' % (key, n, s.log_tail())
    assert n.get('zero_window_done', 0) + n.get('zero_window_abandoned', 0) > 0, n
    drv = r['stats']['driver']
    assert drv['device_resets'] == 0 and 'tx_invalid' in drv, drv
    assert r['usage']['open'] <= s.baseline['open'], (r['usage'], s.baseline)


def test_hostile_battery_user_network_release():
    r, line, s = one_round('user', 'release')
    check_round(r, line, s)


def test_hostile_battery_tap_debug():
    if os.geteuid() != 0:
        pytest.fail('the tap test needs root (a network namespace and a tap device): run '
                    './limpet test as root, as CI does')
    r, line, s = one_round('tap', 'debug')
    check_round(r, line, s)
    # The frame battery ran under the load, and once more on the quiet guest
    # with every check.
    assert r['frames']['runs'] >= 2 and r['frames']['frames'] > 10000, r['frames']
