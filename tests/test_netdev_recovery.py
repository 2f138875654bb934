"""The NIC never stays broken: httpd answers again within a second when
the virtio-net device breaks, and follows its link going down and up.

A debug build's kernel argument net_fault=MS breaks the device on purpose
every MS ms (the driver posts a transmit chain that QEMU refuses: it marks
the device NEEDS_RESET and stops processing its queues).  The driver must
notice (the configuration interrupt), reset the device and set it up
again, with listening sockets, the address and open connections kept.
QEMU's monitor command set_link takes the link down and up again; the
driver must tell lwIP, which announces the guest again with a gratuitous
ARP.  Both over QEMU's user networking (127.0.0.1 only) and over a tap in
a namespace of the test's own, on pc (virtio-net-pci: MSI-X) and microvm
(virtio-mmio: one interrupt line and its status register).
"""

import json
import re
import subprocess
import time

import pytest

from conftest import TOP, Console, image_path, monitor
from test_httpd import READY, free_port
from test_net import GUEST_IP, PYTHON, Namespace, need_root, run

PROBE = TOP / 'tests' / 'net_probe.py'
FAULT_MS = 2500
RESET = re.compile(r'\[\s*([\d.]+)\]\[WARN \] virtio-net-\w+: the device needs a reset: '
                   r'resetting the device \(reset (\d+)\)')
BACK = re.compile(r'\[\s*([\d.]+)\]\[WARN \] virtio-net-\w+: the device is back')
INJECTED = 'virtio-net header not in first element'
QEMU_VIRTIO_ERROR = re.compile(r'qemu-system-x86_64: (?:virtio|.*virtio-net).*')


class HttpdGuest(Console):
    """httpd (debug build) on pc or microvm, over user networking (a free
    port on 127.0.0.1) or over tap10 in a namespace of its own."""

    who = 'httpd'

    def __init__(self, net, platform='pc', kernel_args='', monitor=None, app_args=()):
        img = image_path('httpd', platform)
        if not img.exists():
            pytest.fail('no image %s: build it with ./limpet build httpd platform=%s'
                        % (img.relative_to(TOP), 'microvm' if platform == 'microvm' else 'pc'))
        self.ns = None
        cmd = [str(TOP / 'limpet'), 'run', 'httpd', '--no-build', '--platform', platform,
               '--timeout', '300']
        if net == 'user':
            self.host, self.port = '127.0.0.1', free_port()
            cmd += ['--port', '%d:80' % self.port]
        else:
            need_root()
            self.ns = Namespace()
            self.host, self.port = GUEST_IP, 80
            cmd += ['--net', 'tap', '--netns', self.ns.name]
        if kernel_args:
            cmd += ['--kernel-args', kernel_args]
        if monitor:
            cmd += ['--monitor', str(monitor)]
        if app_args:
            cmd += ['--'] + list(app_args)
        try:
            self.spawn(cmd)
            self.wait_for(READY, 60)
        except BaseException:
            self.close()
            raise

    def close(self):
        self.stop()
        if self.ns:
            self.ns.delete()

    def client(self, *cmd, timeout=60):
        """A client command, inside the namespace on tap."""
        pre = ['ip', 'netns', 'exec', self.ns.name] if self.ns else []
        return run(pre + [str(c) for c in cmd], timeout=timeout, check=False)

    def probe(self, seconds):
        p = self.client(PYTHON, PROBE, self.host, self.port, seconds, timeout=seconds + 60)
        assert p.returncode == 0, 'net_probe failed: %s%s%s' % (p.stdout, p.stderr,
                                                               self.describe())
        return json.loads(p.stdout)

    def get(self, path='/', timeout=5):
        """(curl's exit status, HTTP status, body)."""
        p = self.client('curl', '-sS', '--max-time', timeout, '-w', '\n%{http_code}',
                        'http://%s:%d%s' % (self.host, self.port, path), timeout=timeout + 10)
        body, _, code = p.stdout.rpartition('\n')
        return p.returncode, code, body

    def stats(self):
        rc, code, body = self.get('/_limpet/stats', timeout=10)
        assert rc == 0 and code == '200', 'no stats: %s %s%s' % (rc, code, self.describe())
        return json.loads(body)


@pytest.mark.parametrize('net,platform', [('user', 'pc'), ('tap', 'pc'), ('user', 'microvm')])
def test_broken_device_recovers_within_a_second(net, platform):
    # The kept-alive connection must outlive the probing by far, however
    # slowly a busy host runs it: a minute of idle timeout.
    g = HttpdGuest(net, platform, kernel_args='net_fault=%d' % FAULT_MS,
                   app_args=['--idle-timeout', '60000'])
    try:
        # Probe for long enough to see at least three breaks: a new
        # connection every 0.1 s, each given 0.4 s, and one connection kept
        # alive across all of them.
        r = g.probe(3.5 * FAULT_MS / 1000)
        g.wait_for(re.compile(r'the device needs a reset.*\(reset 3\)'), 30)
        out = g.output
        resets = RESET.findall(out)
        backs = BACK.findall(out)
        assert len(resets) >= 3, out
        assert len(backs) >= len(resets) - 1, 'a reset did not finish' + g.describe()
        # In the guest's own clock, each recovery took a few milliseconds.
        for (t0, n), t1 in zip(resets, backs):
            assert float(t1) - float(t0) < 1.0, 'reset %s took %.3f s%s' % (
                n, float(t1) - float(t0), g.describe())
        # From the clients' side: never a second without an answer, and the
        # connection kept alive through every reset still answers.
        assert r['max_gap'] < 1.0, 'a second without an answer: %r%s' % (r, g.describe())
        assert r['ok'] >= 10 * r['failed'], r
        assert r['kept_first'] == 200 and r['kept_last'] == 200, '%r\nstats: %s%s' % (
            r, json.dumps(g.stats().get('timeouts')), g.describe())
        st = g.stats()
        assert st['driver']['device_resets'] >= 3, st['driver']
        assert st['driver']['tx_invalid'] == 0, st['driver']
        # QEMU refused our malformed chains and nothing else.
        errors = QEMU_VIRTIO_ERROR.findall(g.output)
        assert errors and all(INJECTED in e for e in errors), errors
        assert 'nothing to send' not in g.output
        assert g.proc.poll() is None, 'httpd died' + g.describe()
    finally:
        g.close()


def test_net_fault_is_checked_and_debug_only():
    """A bad net_fault= stops the boot with a clear message; a release
    build does not know the argument."""
    from conftest import boot
    nic = ('-netdev', 'user,id=n0', '-device', 'virtio-net-pci,disable-legacy=on,netdev=n0')
    for bad in ('soon', '0', '-5', '10x', '3600001'):
        b = boot('httpd', kernel_args='net_fault=' + bad, qemu_args=nic, timeout=60)
        assert b.status == 2, (bad, b.output)
        assert 'net_fault=%s: expected milliseconds' % bad in b.output, b.output
    if not image_path('httpd', mode='release').exists():
        pytest.fail('no release httpd image: ./limpet build httpd mode=release')
    b = boot('httpd', mode='release', kernel_args='net_fault=1000', qemu_args=nic,
             app_args=['--bad-option'], timeout=60)
    assert "unknown kernel argument 'net_fault' ignored" in b.output, b.output
    assert 'on purpose' not in b.output


GARP_SNIFFER = '''
import sys
from scapy.all import ARP, sniff
ip = sys.argv[1]
print("sniffing", flush=True)
got = sniff(iface="tap10", timeout=float(sys.argv[2]), count=1,
            lfilter=lambda p: ARP in p and p[ARP].psrc == ip and p[ARP].pdst == ip)
print("garp" if got else "none", flush=True)
'''


@pytest.mark.parametrize('net,platform', [('user', 'pc'), ('tap', 'pc'), ('user', 'microvm')])
def test_link_down_and_up(net, platform, tmp_path):
    sock = tmp_path / 'monitor.sock'
    g = HttpdGuest(net, platform, monitor=sock)
    sniffer = None
    try:
        assert g.get()[1] == '200'
        reply = monitor(sock, 'set_link n0 off')
        assert 'rror' not in reply and 'not found' not in reply, reply
        g.wait_for(re.compile(r'virtio-net-\w+: link down'), 10)
        rc, code, _ = g.get(timeout=2)
        assert code != '200', 'served with the link down'
        if g.ns:
            sniffer = subprocess.Popen(['ip', 'netns', 'exec', g.ns.name, PYTHON, '-c',
                                        GARP_SNIFFER, GUEST_IP, '20'],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
            assert sniffer.stdout.readline().strip() == 'sniffing'
            time.sleep(1)   # the sniffer's socket is open once it printed; be sure
        reply = monitor(sock, 'set_link n0 on')
        assert 'rror' not in reply and 'not found' not in reply, reply
        g.wait_for(re.compile(r'virtio-net-\w+: link up'), 10)
        if sniffer:
            out, err = sniffer.communicate(timeout=30)
            assert out.strip() == 'garp', 'no gratuitous ARP after the link came back: %s%s' % (
                out, err)
        end = time.monotonic() + 10
        while g.get(timeout=2)[1] != '200':
            assert time.monotonic() < end, 'not serving after the link came back' + g.describe()
        st = g.stats()
        assert st['driver']['link_changes'] == 2, st['driver']
        assert st['driver']['device_resets'] == 0, st['driver']
    finally:
        if sniffer and sniffer.poll() is None:
            sniffer.kill()
            sniffer.wait()
        g.close()
