"""PVH direct boot (kernel/arch/x86_64/pvh_entry.S, pvh.c): the image is
QEMU's -kernel on pc, q35 and microvm, with no loader; the loader's path
(GRUB's) still boots the same image; a CPU without long mode gets a clear
line; virtio-mmio transports announced on the command line (Linux's
virtio_mmio.device=, as Firecracker passes them) are used instead of
microvm's fixed layout.  Traffic stays on 127.0.0.1."""

import re
import urllib.request

import pytest

from conftest import LOADER_STATUS, TOP, Console, boot, describe
from test_httpd import free_port

READY = re.compile(r'^httpd: listening on port 80', re.M)
# QEMU microvm's last transport, where it puts the first device; its GSI
# on the second I/O APIC (24 + 23).
LAST_SLOT = '512@0xfeb02e00:47'


@pytest.mark.parametrize('platform', ['pc', 'q35', 'microvm'])
@pytest.mark.parametrize('via', ['pvh', 'loader'])
def test_both_ways_boot_the_same_image(platform, via):
    r = boot('hello', platform=platform, app_args=['a', 'b c'], via=via)
    assert r.status == 0, describe(r)
    assert 'Hello from Limpet! args: a b c' in r.output, describe(r)


@pytest.mark.parametrize('platform,cpu', [('microvm', 'qemu64,-lm'), ('pc', 'qemu64,-nx')])
def test_cpu_without_long_mode_or_nx(platform, cpu):
    r = boot('hello', platform=platform, cpu=cpu)
    assert r.status == LOADER_STATUS, describe(r)
    assert re.search(r'^pvh: error: the CPU has no long mode or no NX bit', r.output, re.M), \
        describe(r)


class Microvm(Console):
    who = 'httpd on microvm'

    def __init__(self, kernel_args):
        self.port = free_port()
        self.spawn([str(TOP / 'limpet'), 'run', 'httpd', '--no-build', '--timeout', '120',
                    '--platform', 'microvm', '--port', '%d:80' % self.port,
                    '--kernel-args', kernel_args])


def test_virtio_mmio_device_argument_replaces_the_scan():
    g = Microvm('virtio_mmio.device=%s' % LAST_SLOT)
    try:
        g.wait_for(READY, 60)
        with urllib.request.urlopen('http://127.0.0.1:%d/' % g.port, timeout=20) as r:
            assert r.status == 200, g.describe()
        assert 'virtio-net-mmio' in g.output, g.describe()
        assert 'unknown kernel argument' not in g.output, g.describe()
    finally:
        g.stop()


@pytest.mark.parametrize('arg,says', [
    ('512@0xfeb00000:24', 'no network device found'),   # slot 0: empty here
    ('4K@0xd000000x:5', 'not SIZE@BASE:IRQ'),
])
def test_virtio_mmio_device_argument_wrong(arg, says):
    """A transport named wrongly is not replaced by a guess: the argument
    is what the VMM said."""
    g = Microvm('virtio_mmio.device=%s' % arg)
    try:
        g.wait_for(re.compile(re.escape(says)), 60)
        g.wait_for(re.compile(r'no network device|nothing to serve'), 60)
    finally:
        g.stop()
