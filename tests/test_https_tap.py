"""HTTPS over tap: httpd built with tls=1 (debug: lwIP's and our
assertions on) in a network namespace of the test's own, under
tests/https_battery.py for about a minute: full and resumed handshakes of
TLS 1.3 and 1.2 from several clients at once, hostile TLS clients
(garbage, ClientHellos cut short or reset, stalled handshakes, a record
with a bad MAC, plaintext on 443, resets in the middle of a response) and
the hostile frames of tests/hostile.py on the same tap.  Afterwards the
guest must be alive, have given no bad answer, and have everything back:
connections, lwIP's heap and pools, receive buffers, the heap TLS holds;
no device reset, and nothing alarming on its console.  (test_https.py
drives the same server over QEMU's user network.)

Safety: the guest and every client are inside the namespace the test made
(scripts/tap-setup.sh --netns), deleted afterwards; needs root, as CI has.
The QEMU is ended with its ./limpet process group, by PID.
"""

import json
import os
import re
import subprocess

import pytest

from conftest import TOP
from soak import Guest, Namespace, SoakError
from test_https import CERT, IMAGE, READY_TLS
from test_httpd import WWW

TROUBLE = re.compile(r'^\*\*\* |^backtrace:|assertion|\]\[ERROR\]', re.M)
SECONDS = 40


def test_https_battery_over_tap():
    if os.geteuid() != 0:
        pytest.fail('the tap test needs root (a network namespace and a tap device): run '
                    './limpet test as root, as CI does')
    for path in (IMAGE, CERT):
        assert path.exists(), 'missing %s: ./limpet test builds it' % path
    ns = Namespace()
    guest = None
    try:
        guest = Guest(['--tls', '--net', 'tap', '--netns', ns.name, '--timeout', '0',
                       '--', '--header-timeout', '3000'])
        guest.wait_for(READY_TLS, 90)
        p = subprocess.run(['ip', 'netns', 'exec', ns.name, '/usr/bin/python3',
                            str(TOP / 'tests' / 'https_battery.py'), '10.0.5.3',
                            '--cert', str(CERT), '--index', str(WWW / 'index.html'),
                            '--seconds', str(SECONDS), '--frames', 'tap10'],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors='replace', timeout=SECONDS + 600)
        lines = [l for l in p.stdout.splitlines() if l.startswith('result: ')]
        assert p.returncode == 0 and lines, 'the battery failed (exit %d):\n%s\n%s%s' % (
            p.returncode, p.stdout[-3000:], p.stderr[-3000:], guest.describe())
        r = json.loads(lines[-1][len('result: '):])
        assert not r['problems'], json.dumps(r, indent=1) + guest.describe()
        n = r['counts']
        for key in ('requests_tls13', 'requests_tls12', 'resumed', 'garbage', 'cut_hello',
                    'hello_reset', 'bad_mac', 'plaintext', 'reset_mid_response', 'stalled'):
            assert n.get(key, 0) > 0, 'the battery never ran %s: %s' % (key, n)
        assert r['handshakes'] > 50 and r['handshake_failures'] > 0, r
        assert r['frames'] and r['frames']['rc'] == 0, r['frames']
        assert r['driver']['device_resets'] == 0, r['driver']
        assert guest.alive(), guest.describe()
        assert not TROUBLE.search(guest.console), guest.describe(200)
        assert 'virtio' not in guest.stderr.lower() or 'error' not in guest.stderr.lower(), \
            guest.describe()
        print('https over tap: %s' % json.dumps({k: r[k] for k in (
            'seconds', 'counts', 'handshakes', 'handshake_failures', 'tls_memory',
            'settle_seconds')}))
    except SoakError as e:
        pytest.fail(str(e))
    finally:
        if guest is not None:
            guest.stop()
        ns.delete()
