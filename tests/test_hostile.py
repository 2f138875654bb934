"""Hostile network input: the guest never crashes on it.

An echo guest on tap gets a battery of malformed and hostile Ethernet,
ARP, IPv4, TCP, UDP and ICMP frames (tests/hostile.py: runts, bad
lengths and checksums, every IP and TCP option kind with bad lengths,
overlapping, oversized and endless fragments, every TCP flag combination,
hostile segments on established connections, every ICMP type, a SYN
flood, and fuzzed packets from a fixed seed).  Then it must still be
alive, have printed no fault, panic or assertion, serve as before (ping,
1 MiB of TCP echo byte for byte, UDP echo up to 64 KiB, 50 concurrent TCP
echoes), and give back every connection, receive buffer and lwIP pool
entry the battery took, as its --stats lines show.

Safety: as in tests/test_net.py, the guest and every sender run inside a
network namespace of the test's own (TapEcho), deleted afterwards; the
frames go out on the namespace's tap and nowhere else.  Needs root, as CI
has, and scapy (python3-scapy, which scripts/setup.sh installs).
"""

import re
import subprocess
import time

import pytest

from conftest import TOP
from test_net import ECHO_PORT, GUEST_IP, PYTHON, TapEcho, need_tool

HOSTILE = TOP / 'tests' / 'hostile.py'
SEED = 1
# What the kernel prints when it stops on a fault or a panic (kernel/log.c,
# kernel/arch/x86_64/trap.c), lwIP's failed assertions (its cc.h), and
# error log lines.
TROUBLE = re.compile(r'^\*\*\* |^backtrace:|assertion|\]\[ERROR\]', re.M)
# echo --stats: "echo: stats: open 0, rx_buffers 0, heap 0, UDP_PCB 1, ...".
STATS = re.compile(r'^echo: stats: (.*)$', re.M)
STATS_MS = 500
# The battery leaves incomplete datagrams in reassembly, which lwIP drops
# after IP_REASS_MAXAGE (15 s): how long everything may take to come back.
SETTLE = 25


def need_scapy():
    p = subprocess.run([PYTHON, '-c', 'import scapy'], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail('scapy is missing for %s: install the Debian package python3-scapy '
                    '(scripts/setup.sh does)\n%s' % (PYTHON, p.stderr))


def usage(line):
    """{counter: value} from one echo --stats line."""
    return {k: int(v) for k, v in re.findall(r'(\w+) (\d+)', line)}


def last_usage(guest):
    lines = STATS.findall(guest.output)
    return usage(lines[-1]) if lines else None


def check_alive(t, when, battery_out=''):
    assert t.guest.proc.poll() is None, \
        'the guest died %s:\n%s%s' % (when, battery_out, t.guest.describe())
    trouble = TROUBLE.search(t.guest.output)
    assert not trouble, 'the guest reported %r %s:\n%s%s' % (
        trouble.group(0), when, battery_out, t.guest.describe())


# Both transports: virtio-pci on pc, virtio-mmio on microvm.
@pytest.mark.parametrize('platform', ['pc', 'microvm'])
def test_hostile_frames(platform):
    need_scapy()
    need_tool('ping', 'iputils-ping')
    start = time.monotonic()
    with TapEcho(platform, app_args=['--stats', str(STATS_MS)]) as t:
        before = usage(t.guest.wait_for(STATS).group(1))
        booted = time.monotonic()
        p = t.ns.run(PYTHON, HOSTILE, 'tap10', GUEST_IP, '--seed', SEED, '--timeout', 40,
                     timeout=50, check=False)
        battery = time.monotonic()
        assert p.returncode == 0, ('the hostile battery failed (seed %d):\n%s%s%s'
                                   % (SEED, p.stdout, p.stderr, t.guest.describe()))
        check_alive(t, 'during the battery', p.stdout)

        # It still serves.
        ping = t.ns.run('ping', '-c', '3', '-i', '0.2', '-W', '2', GUEST_IP, check=False,
                        timeout=15)
        assert ping.returncode == 0 and ' 0% packet loss' in ping.stdout, \
            'ping after the battery: %s%s%s' % (ping.stdout, ping.stderr, t.guest.describe())
        for args in (('tcp', GUEST_IP, ECHO_PORT, 1048576),
                     ('udp', GUEST_IP, ECHO_PORT, 1400, 5),
                     ('udp', GUEST_IP, ECHO_PORT, 65000, 2),
                     ('many', GUEST_IP, ECHO_PORT, 50, 8192)):
            out = t.ns.client(*args)
            assert out.startswith('ok:'), 'after the battery: %s%s' % (out, t.guest.describe())
        check_alive(t, 'after the battery, serving clients')
        served = time.monotonic()

        # Everything it took comes back: connections, receive buffers,
        # lwIP's heap and pools, as they were before the battery.
        end = time.monotonic() + SETTLE
        while True:
            now = last_usage(t.guest)
            grew = {k: (before.get(k), v) for k, v in now.items() if v > before.get(k, 0)}
            if not grew or time.monotonic() > end:
                break
            time.sleep(STATS_MS / 1000)
        assert not grew, ('still in use %ds after the battery and the clients, as '
                          '{counter: (before, now)}: %s\n%s'
                          % (SETTLE, grew, t.guest.describe()))
        check_alive(t, 'at the end')
    print(p.stdout)
    print('boot %.1fs, battery %.1fs, clients %.1fs, pools back after %.1fs'
          % (booted - start, battery - booted, served - battery, time.monotonic() - served))
