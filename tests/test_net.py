"""The network path end to end: echo on virtio-net, over a tap device or
QEMU's user-mode network, and scripts/tap-setup.sh.

Safety: every tap test makes its own network namespace (limpet-test-PID-N)
with scripts/tap-setup.sh --netns, runs QEMU (through ./limpet run --netns)
and every client inside it, and deletes it afterwards, so no test packet
reaches the root namespace.  The user-mode tests only talk to 127.0.0.1.
These tests need root, as CI has; without it they fail and say so.
"""

import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import TOP, Console, boot, image_path

TAP_SETUP = TOP / 'scripts' / 'tap-setup.sh'
CLIENT = TOP / 'tests' / 'net_client.py'
PYTHON = '/usr/bin/python3'

GUEST_IP = '10.0.5.3'       # echo's compiled-in address (scons ip= default)
HOST_IP = '10.0.5.1'        # the tap's address, scripts/tap-setup.sh's default
ECHO_PORT = 7
USER_PORT = 7007            # ./limpet run echo's default forward on 127.0.0.1

LISTENING = re.compile(r'echo: listening')
# The driver's shutdown counters: "... copied 0 ..." / "bytes_copied=0".
COPIED = re.compile(r'copied\D{0,3}?(\d+)|(\d+) (?:payload )?bytes copied')

_names = itertools.count()


def need_root():
    if os.geteuid() != 0:
        pytest.fail('the network tests need root (they create network namespaces and tap '
                    'devices): run ./limpet test as root, as CI does')


def need_tool(name, package):
    if not shutil.which(name):
        pytest.fail('%s is missing: install the Debian package %s (scripts/setup.sh should)'
                    % (name, package))


def need_image(platform='pc'):
    img = image_path('echo', platform)
    if not img.exists():
        pytest.fail('no echo image %s: build it with ./limpet build echo platform=%s'
                    % (img.relative_to(TOP), 'microvm' if platform == 'microvm' else 'pc'))


def run(cmd, timeout=30, check=True):
    cmd = [str(c) for c in cmd]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       errors='replace', timeout=timeout)
    if check and p.returncode != 0:
        pytest.fail('%s failed (exit %d):\n%s%s' % (' '.join(map(str, cmd)), p.returncode,
                                                     p.stdout, p.stderr))
    return p


class Namespace:
    """A network namespace of our own with tap10 in it (host 10.0.5.1/24)."""

    def __init__(self):
        need_root()
        self.name = 'limpet-test-%d-%d' % (os.getpid(), next(_names))
        run([str(TAP_SETUP), '--netns', self.name])

    def run(self, *cmd, timeout=30, check=True):
        return run(['ip', 'netns', 'exec', self.name] + [str(c) for c in cmd],
                   timeout=timeout, check=check)

    def client(self, *args, timeout=30):
        """tests/net_client.py inside the namespace; its "ok: ..." line."""
        p = self.run(PYTHON, CLIENT, '--timeout', timeout, *args, timeout=timeout + 10,
                     check=False)
        assert p.returncode == 0, 'net_client %s: %s%s' % (' '.join(map(str, args)),
                                                           p.stdout, p.stderr)
        return p.stdout.strip()

    def delete(self):
        # Whatever is left in it was started by this test: end it by PID.
        pids = run(['ip', 'netns', 'pids', self.name], check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        run(['ip', 'netns', 'del', self.name], check=False)


class Guest(Console):
    """./limpet run SERVICE (echo) in the background; its console collected
    as it comes."""

    def __init__(self, args, app_args=(), env=None, service='echo'):
        cmd = [str(TOP / 'limpet'), 'run', service, '--no-build'] + list(args)
        if app_args:
            cmd += ['--'] + list(app_args)
        e = dict(os.environ)
        e.update(env or {})
        self.spawn(cmd, env=e)

    def wait_exit(self, timeout=20):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail('the guest still runs after %ss\n%s' % (timeout, self.describe()))
        self.reader.join(5)
        return rc


class TapGuest:
    """A guest of SERVICE on tap10 inside a fresh namespace, once its
    console has shown every pattern of `ready` (echo's LISTENING)."""

    def __init__(self, platform='pc', app_args=(), kernel_args='', service='echo',
                 args=(), ready=(LISTENING,)):
        need_root()
        need_image(platform)
        self.platform = platform
        self.ns = Namespace()
        self.guest = None
        run_args = ['--platform', platform, '--net', 'tap', '--netns', self.ns.name,
                    '--timeout', '600'] + list(args)
        if kernel_args:
            run_args += ['--kernel-args', kernel_args]
        try:
            self.guest = Guest(run_args, app_args, service=service)
            for r in ready:
                self.guest.wait_for(r, 60)
        except BaseException:
            self.close()
            raise

    def run(self, *cmd, **kw):
        """A command inside the namespace (Namespace.run)."""
        return self.ns.run(*cmd, **kw)

    def python(self, code, *args, timeout=60):
        """Python code run by Debian's python3 inside the namespace; its
        stdout, or the test fails with its output and the guest's."""
        p = self.ns.run(PYTHON, '-c', code, *args, timeout=timeout, check=False)
        assert p.returncode == 0, 'in the namespace:\n%s%s\nguest:\n%s' % (
            p.stdout, p.stderr, self.guest.describe())
        return p.stdout

    def close(self):
        if self.guest:
            self.guest.stop()
        self.ns.delete()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# An echo guest on tap10 inside a fresh namespace.
TapEcho = TapGuest


@pytest.fixture(scope='module')
def echo_pc():
    """One echo guest (pc, virtio-net-pci) for the tests that only talk to it."""
    t = TapEcho('pc')
    yield t
    t.close()


@pytest.fixture
def echo(echo_pc):
    yield echo_pc
    # A test that broke the guest must not be blamed on the next one.
    assert echo_pc.guest.proc.poll() is None, 'the guest died\n' + echo_pc.guest.describe()


# ---- echo over tap, inside a namespace --------------------------------------

def test_ping(echo):
    need_tool('ping', 'iputils-ping')
    p = echo.ns.run('ping', '-c', '3', '-i', '0.2', '-W', '2', GUEST_IP, check=False,
                    timeout=15)
    assert p.returncode == 0 and ' 0% packet loss' in p.stdout, \
        p.stdout + p.stderr + echo.guest.describe()


def test_tcp_echo_sizes(echo):
    out = echo.ns.client('tcp', GUEST_IP, ECHO_PORT, 1, 1024, 65536, 1048576)
    assert out.startswith('ok:'), out


def test_tcp_50_concurrent(echo):
    out = echo.ns.client('many', GUEST_IP, ECHO_PORT, 50, 8192)
    assert out.startswith('ok:'), out


def test_udp_echo(echo):
    out = echo.ns.client('udp', GUEST_IP, ECHO_PORT, 1, 5)
    assert out.startswith('ok:'), out
    out = echo.ns.client('udp', GUEST_IP, ECHO_PORT, 1400, 20)
    assert out.startswith('ok:'), out
    # Larger than the MTU: fragmented both ways (the guest's reply by the
    # netif at the link's MTU, although TSO lets lwIP emit larger TCP frames).
    out = echo.ns.client('udp', GUEST_IP, ECHO_PORT, 8000, 5)
    assert out.startswith('ok:'), out


def test_stalled_client_does_not_block_others(echo):
    out = echo.ns.client('stalled', GUEST_IP, ECHO_PORT, 65536, timeout=30)
    assert out.startswith('ok:'), out
    # And the guest serves normally once the stalled client is gone.
    out = echo.ns.client('tcp', GUEST_IP, ECHO_PORT, 1024)
    assert out.startswith('ok:'), out


NFT_LOSS = '''
table inet limpet_loss {
  chain in { type filter hook input priority 0; iifname "tap10" numgen random mod 100 < 5 drop; }
  chain out { type filter hook output priority 0; oifname "tap10" numgen random mod 100 < 5 drop; }
}
'''


def test_tcp_echo_with_5_percent_loss(echo):
    """5% of the packets dropped each way (nftables in the namespace: tc
    netem is not available), and 1 MiB still comes back intact."""
    need_tool('nft', 'nftables')
    p = subprocess.run(['ip', 'netns', 'exec', echo.ns.name, 'nft', '-f', '-'],
                       input=NFT_LOSS, capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, 'nft: ' + p.stderr
    try:
        # Under TCG this takes 20-45 s: the guest's losses on the way back
        # mostly wait for lwIP's retransmission timer (no SACK).
        out = echo.ns.client('tcp', GUEST_IP, ECHO_PORT, 1048576, timeout=90)
        assert out.startswith('ok:'), out
        counters = echo.ns.run('nft', 'list', 'table', 'inet', 'limpet_loss').stdout
    finally:
        echo.ns.run('nft', 'delete', 'table', 'inet', 'limpet_loss', check=False)
    assert 'drop' in counters


def test_microvm_virtio_mmio():
    need_tool('ping', 'iputils-ping')
    with TapEcho('microvm') as t:
        p = t.ns.run('ping', '-c', '2', '-i', '0.2', '-W', '2', GUEST_IP, check=False,
                     timeout=15)
        assert p.returncode == 0, p.stdout + p.stderr + t.guest.describe()
        out = t.ns.client('tcp', GUEST_IP, ECHO_PORT, 1, 65536, 1048576)
        assert out.startswith('ok:'), out
        out = t.ns.client('udp', GUEST_IP, ECHO_PORT, 512, 3)
        assert out.startswith('ok:'), out
        # The guest found its NIC on virtio-mmio, not PCI.
        assert 'virtio-net-mmio' in t.guest.output, t.guest.describe()


# The driver's counters at shutdown (drivers/netdev.c).
DRIVER_STATS = re.compile(r'rx \d+ pkts \d+ bytes \d+ drops (\d+) large, '
                          r'tx \d+ pkts \d+ bytes \d+ drops (?:\d+ invalid )?(\d+) csum (\d+) tso '
                          r'\(largest (\d+) bytes\)')
# A TCP frame of NET_TSO_SEGS (5) full segments with its Ethernet, IP and
# TCP headers (net/port/include/lwipopts.h), and the largest a frame of
# NET_TSO_SEGS_MAX (44) can be.
TSO_START_FRAME = 14 + 40 + 5 * 1460
TSO_MAX_FRAME = 14 + 40 + 44 * 1460


def echo_once(kernel_args='', size=262144):
    """echo --limit 1 on tap: one connection echoing size bytes, then the
    guest exits; (frames larger than the MTU received, frames the device
    checksummed, frames it segmented, the largest of those in bytes,
    payload bytes copied) from its counters."""
    with TapEcho('pc', app_args=['--limit', '1'], kernel_args=kernel_args) as t:
        out = t.ns.client('tcp', GUEST_IP, ECHO_PORT, size)
        assert out.startswith('ok:'), out
        rc = t.guest.wait_exit(20)
        assert rc == 0, t.guest.describe()
        copied = [int(a or b) for a, b in COPIED.findall(t.guest.output)]
        assert copied, 'no copied-bytes counter in the output\n' + t.guest.describe()
        m = DRIVER_STATS.search(t.guest.output)
        assert m, 'no driver counters in the output\n' + t.guest.describe()
        return (int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                copied, t.guest.output)


def test_zero_copy_counter():
    """The driver's counters, printed at shutdown, show no payload byte
    copied; on tap (a vnet header) the offloads were used: the host merged
    TCP segments into frames larger than the MTU, the device filled in the
    TCP checksums of what the guest sent and cut its large frames into
    segments.  Those frames grew with the congestion window beyond the
    five segments a connection starts with, to at most 64 KiB, each still
    sent from the receive buffers (no copy)."""
    large, csum, tso, tso_max, copied, out = echo_once(size=1048576)
    assert copied == [0] * len(copied), out
    assert large > 0 and csum > 0 and tso > 0, out
    assert TSO_START_FRAME < tso_max <= TSO_MAX_FRAME, out


def test_initial_sequence_numbers(echo_pc):
    """The guest's TCP initial sequence numbers are unpredictable (RFC
    6528): connections from the same client, one after another, start at
    numbers that differ by far more than the clock part would move them
    (lwIP's own would be 6510 plus a few ticks, every time)."""
    out = echo_pc.ns.client('isn', 'tap10', GUEST_IP, ECHO_PORT, 8)
    m = re.match(r'ok: isn ([\d ]+)', out)
    assert m, out
    isns = [int(x) for x in m.group(1).split()]
    assert len(isns) == 8, out
    assert len(set(isns)) == 8, out
    # Consecutive ISNs: the 4-microsecond clock moves them by well under a
    # million in these few milliseconds; the keyed hash by 2^31 on average.
    steps = [(b - a) % (1 << 32) for a, b in zip(isns, isns[1:])]
    assert sum(1 for d in steps if min(d, (1 << 32) - d) > 1 << 24) >= 5, out


def test_offload_off():
    """offload=off: plain frames and software checksums, the same bytes
    back; a bad value is refused with a message."""
    large, csum, tso, tso_max, copied, out = echo_once('offload=off', 1048576)
    assert (large, csum, tso, tso_max) == (0, 0, 0, 0), out
    assert copied == [0] * len(copied), out
    r = boot('echo', kernel_args='offload=maybe',
             qemu_args=['-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0'])
    assert r.status == 2, r
    assert 'offload=maybe: expected offload=on or offload=off' in r.output, r.output


# ---- user-mode networking (127.0.0.1 only) -----------------------------------

def test_service_api_results():
    """limpet/net.h as a service sees it (tests/guest/test_netapi): typed
    results, LIMPET_EADDRINUSE for a taken port, bools, the device's
    counters in net/'s own struct, the link-local address first."""
    r = boot('test_netapi', kernel_args='ip=10.0.2.15 gateway=10.0.2.2 ip6=slaac',
             qemu_args=['-netdev', 'user,id=n0',
                        '-device', 'virtio-net-pci,disable-legacy=on,netdev=n0'])
    assert r.status == 0 and 'netapi: ok' in r.output, r


def port_free(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(('127.0.0.1', port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def test_user_networking_default_forward():
    """./limpet run echo: user networking by default, 127.0.0.1:7007 -> 7."""
    need_image('pc')
    if not port_free(USER_PORT):
        pytest.fail('127.0.0.1:%d is in use: the test needs it (is an echo guest running?)'
                    % USER_PORT)
    g = Guest(['--timeout', '60'])
    try:
        g.wait_for(LISTENING)
        assert 'forwarded 127.0.0.1:%d -> guest port 7' % USER_PORT in g.output, g.describe()
        p = run([PYTHON, CLIENT, '--timeout', '20', 'tcp', '127.0.0.1', USER_PORT,
                 1, 1024, 65536], timeout=30, check=False)
        assert p.returncode == 0, p.stdout + p.stderr + g.describe()
        p = run([PYTHON, CLIENT, '--timeout', '10', 'udp', '127.0.0.1', USER_PORT, 100, 3],
                timeout=20, check=False)
        assert p.returncode == 0, p.stdout + p.stderr + g.describe()
    finally:
        g.stop()


# ---- the front end's network options (a stand-in QEMU prints its arguments) ---

@pytest.fixture
def qemu_args(tmp_path):
    path = tmp_path / 'qemu'
    path.write_text('#!/bin/sh\nprintf "<ns=%s>\\n" "$(ip netns identify 2>/dev/null)"\n'
                    'for a; do printf "<%s>\\n" "$a"; done; exit 3\n')
    path.chmod(0o755)

    def args(*limpet_args):
        p = subprocess.run([str(TOP / 'limpet'), 'run'] + list(limpet_args), cwd=TOP,
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL,
                           env=dict(os.environ, LIMPET_QEMU=str(path)))
        return p, re.findall(r'^<(.*)>$', p.stdout, re.M)
    return args


def test_run_net_user_arguments(qemu_args):
    p, a = qemu_args('hello', '--no-build', '--net', 'user', '--port', '8000:80',
                     '--port', '9000:90', '--kernel-args', 'ip=10.0.2.99')
    assert p.returncode == 0, p.stderr
    netdev = a[a.index('-netdev') + 1]
    assert netdev == ('user,id=n0,net=10.0.2.0/24,host=10.0.2.2,'
                      'hostfwd=tcp:127.0.0.1:8000-:80,hostfwd=udp:127.0.0.1:8000-:80,'
                      'hostfwd=tcp:127.0.0.1:9000-:90,hostfwd=udp:127.0.0.1:9000-:90'), a
    assert 'virtio-net-pci,disable-legacy=on,netdev=n0' in a, a
    # The guest's address first, the user's kernel arguments after (they win).
    assert a[a.index('-append') + 1] == \
        'ip=10.0.2.15 gateway=10.0.2.2 mask=255.255.255.0 ip6=slaac ip=10.0.2.99', a
    assert 'forwarded 127.0.0.1:8000 -> guest port 80' in p.stderr, p.stderr


def test_run_net_microvm_and_none(qemu_args):
    p, a = qemu_args('hello', '--no-build', '--platform', 'microvm', '--net', 'user')
    assert p.returncode == 0, p.stderr
    assert 'virtio-mmio.force-legacy=false' in a and 'virtio-net-device,netdev=n0' in a, a
    # hello has no service.conf saying net = yes: no NIC by default.
    p, a = qemu_args('hello', '--no-build')
    assert p.returncode == 0 and '-netdev' not in a and a[a.index('-append') + 1] == '', a


def test_run_echo_defaults_to_user_net(qemu_args):
    need_image('pc')
    p, a = qemu_args('echo', '--no-build')
    assert p.returncode == 0, p.stderr
    assert 'hostfwd=tcp:127.0.0.1:7007-:7' in a[a.index('-netdev') + 1], a
    assert 'echo: forwarded 127.0.0.1:7007 -> guest port 7' in p.stderr, p.stderr


def test_run_net_bad_options(qemu_args):
    for args, msg in ((['--net', 'wifi'], 'user, tap'), (['--port', '70000:7'], 'HOST:GUEST'),
                      (['--port', '7'], 'HOST:GUEST'),
                      (['--net', 'none', '--port', '1:2'], '--net user'),
                      (['--net', 'tap:bad/name'], 'interface name')):
        p, _ = qemu_args('hello', '--no-build', *args)
        assert p.returncode == 2 and msg in p.stderr, (args, p.stderr)


def vhost_usable():
    try:
        os.close(os.open('/dev/vhost-net', os.O_RDWR))
        return True
    except OSError:
        return False


def test_run_net_tap_needs_the_device(qemu_args):
    need_root()
    ns = Namespace()
    try:
        p, a = qemu_args('hello', '--no-build', '--net', 'tap', '--netns', ns.name)
        assert p.returncode == 0, p.stderr
        assert a[0] == 'ns=' + ns.name, a
        netdev = a[a.index('-netdev') + 1]
        assert netdev.startswith('tap,id=n0,ifname=tap10,script=no,downscript=no'), a
        assert ('vhost=on' in netdev) == vhost_usable(), a
        p, _ = qemu_args('hello', '--no-build', '--net', 'tap:tap77', '--netns', ns.name)
        assert p.returncode == 1 and 'scripts/tap-setup.sh --name tap77' in p.stderr, p.stderr
    finally:
        ns.delete()
    p, _ = qemu_args('hello', '--no-build', '--net', 'tap', '--netns', ns.name)
    assert p.returncode == 1 and 'no network namespace' in p.stderr, p.stderr


# ---- scripts/tap-setup.sh ---------------------------------------------------

def tap_setup(*args, check=True):
    return run([str(TAP_SETUP)] + list(args), check=check)


def test_tap_setup_idempotent_and_down():
    need_root()
    name = 'limpet-test-%d-%d' % (os.getpid(), next(_names))
    try:
        p = tap_setup('--netns', name, '--name', 'tap11', '--address', '10.9.0.1/16',
                      '--user', 'nobody')
        assert 'created namespace ' + name in p.stdout, p.stdout
        link = run(['ip', '-n', name, '-d', 'addr', 'show', 'dev', 'tap11']).stdout
        assert 'tun type tap' in link and 'user nobody' in link, link
        assert 'inet 10.9.0.1/16 brd 10.9.255.255' in link and ',UP' in link, link
        lo = run(['ip', '-n', name, 'link', 'show', 'lo']).stdout
        assert ',UP' in lo, lo
        proxy = run(['ip', 'netns', 'exec', name, 'cat',
                     '/proc/sys/net/ipv4/conf/tap11/proxy_arp']).stdout
        assert proxy.strip() == '1'
        # Again: nothing changes.
        p = tap_setup('--netns', name, '--name', 'tap11', '--address', '10.9.0.1/16',
                      '--user', 'nobody')
        assert 'nothing changed' in p.stdout, p.stdout
        assert run(['ip', '-n', name, '-d', 'addr', 'show', 'dev', 'tap11']).stdout == link
        # Someone else's tap is not taken over.
        p = tap_setup('--netns', name, '--name', 'tap11', '--address', '10.9.0.1/16',
                      check=False)
        assert p.returncode == 1 and 'belongs to nobody' in p.stderr, p.stderr
        # --down removes the tap, then the namespace it leaves empty.
        p = tap_setup('--down', '--netns', name, '--name', 'tap11')
        assert 'removed tap11' in p.stdout and 'deleted namespace' in p.stdout, p.stdout
        assert name not in run(['ip', 'netns', 'list']).stdout
        p = tap_setup('--down', '--netns', name)
        assert p.returncode == 0 and 'nothing to do' in p.stdout, p.stdout
    finally:
        run(['ip', 'netns', 'del', name], check=False)


def test_tap_setup_down_keeps_a_busy_namespace():
    need_root()
    ns = Namespace()
    try:
        tap_setup('--netns', ns.name, '--name', 'tap12', '--address', '10.0.6.1/24')
        p = tap_setup('--down', '--netns', ns.name)
        assert 'removed tap10' in p.stdout and 'kept namespace' in p.stdout \
            and 'tap12' in p.stdout, p.stdout
    finally:
        ns.delete()


def test_tap_setup_usage_and_not_root():
    p = tap_setup('-h')
    assert p.stdout.startswith('Usage: tap-setup.sh') and '--netns' in p.stdout
    p = tap_setup('--address', '10.0.5.300/24', check=False)
    assert p.returncode == 2 and '10.0.5.300/24' in p.stderr, p.stderr
    p = tap_setup('--frob', check=False)
    assert p.returncode == 2 and 'unknown argument' in p.stderr, p.stderr
    if os.geteuid() == 0:
        p = run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
                 str(TAP_SETUP), '--netns', 'x'], check=False)
    else:
        p = tap_setup('--netns', 'x', check=False)
    assert p.returncode == 1 and 'must run as root' in p.stderr, p.stderr


# ---- the build --------------------------------------------------------------

def test_scons_rejects_bad_ip():
    p = subprocess.run(['scons', '-Q', 'service=echo', 'ip=10.0.5.300'], cwd=TOP,
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    out = p.stdout + p.stderr
    assert p.returncode != 0, out
    assert '10.0.5.300' in out and 'ip' in out, out
    assert 'Traceback' not in out, out
