"""Clean shutdown by the ACPI power button (kernel/arch/x86_64/acpi_pm.c,
kernel/power.c, limpet_on_shutdown()): QEMU's system_powerdown, what
libvirt's virsh shutdown sends, pressed through QEMU's monitor.  httpd
stops listening, closes its idle connections, answers the request under
way with "Connection: close", and the VM exits with status 0; a request
that never ends is cut at --shutdown-timeout.  On pc and q35 (ACPI's
fixed power button) and microvm (QEMU's Generic Event Device).  And a VM
without isa-debug-exit (as libvirt or a cloud makes one) powers itself
off at the end (ACPI S5).  Traffic stays on 127.0.0.1."""

import re
import socket
import subprocess
import time

import pytest

from conftest import TOP, image_path, monitor, qemu
from test_httpd import Httpd, free_port


class Powered(Httpd):
    """httpd with QEMU's monitor on a socket, to press its power button."""

    def __init__(self, tmp_path, platform='pc', app_args=()):
        self.mon = tmp_path / 'mon'
        self.port = free_port()
        cmd = [str(TOP / 'limpet'), 'run', 'httpd', '--no-build', '--timeout', '300',
               '--platform', platform, '--port', '%d:80' % self.port,
               '--monitor', str(self.mon)]
        if app_args:
            cmd += ['--'] + list(app_args)
        self.spawn(cmd)
        self.wait_for(re.compile(r'^httpd: listening on port 80', re.M), 60)

    def press(self):
        monitor(self.mon, 'system_powerdown')

    def exit_status(self, timeout=60):
        return self.wait_exit(timeout, 'the power button')


def read_response(s, timeout=20):
    s.settimeout(timeout)
    data = b''
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


@pytest.mark.parametrize('platform', ['pc', 'q35', 'microvm'])
def test_power_button_drains_and_exits_0(tmp_path, platform):
    h = Powered(tmp_path, platform)
    try:
        # An idle keep-alive connection, after one request ...
        idle = socket.create_connection(('127.0.0.1', h.port), timeout=20)
        idle.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        idle.settimeout(20)
        first = idle.recv(65536)
        assert first.startswith(b'HTTP/1.1 200'), first
        # ... and a request under way: half its header sent.
        busy = socket.create_connection(('127.0.0.1', h.port), timeout=20)
        busy.sendall(b'GET /index.html HTTP/1.1\r\nHost: x\r\n')
        time.sleep(0.5)
        h.press()
        h.wait_for(re.compile(r'^httpd: shutting down: not listening; 1 idle connection\(s\) '
                              r'closed', re.M), 30)
        # The idle connection is closed by the server ...
        assert read_response(idle) == b'', 'the idle connection got more than a close'
        # ... the request under way is answered, as the connection's last.
        busy.sendall(b'\r\n')
        resp = read_response(busy)
        assert resp.startswith(b'HTTP/1.1 200 OK') and b'Connection: close\r\n' in resp, resp
        assert h.exit_status() == 0, h.describe()
        out = h.output
        assert 'power: the power button: shutting down' in out, out
        assert 'httpd: shut down: every response finished' in out, out
    finally:
        h.stop()


def test_shutdown_timeout_bounds_the_wait(tmp_path):
    h = Powered(tmp_path, app_args=['--shutdown-timeout', '2000'])
    try:
        stuck = socket.create_connection(('127.0.0.1', h.port), timeout=20)
        stuck.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n')     # and never the end
        time.sleep(0.5)
        start = time.monotonic()
        h.press()
        assert h.exit_status() == 0, h.describe()
        assert time.monotonic() - start < 30, h.describe()
        assert re.search(r'httpd: shut down: 1 connection\(s\) still open after '
                         r'--shutdown-timeout', h.output), h.describe()
        stuck.close()
    finally:
        h.stop()


def test_second_press_stops_at_once(tmp_path):
    h = Powered(tmp_path, app_args=['--shutdown-timeout', '600000'])
    try:
        stuck = socket.create_connection(('127.0.0.1', h.port), timeout=20)
        stuck.sendall(b'GET / HTTP/1.1\r\n')
        time.sleep(0.5)
        h.press()
        h.wait_for(re.compile(r'^httpd: shutting down', re.M), 30)
        h.press()
        assert h.exit_status() == 0, h.describe()
        assert 'power: the power button again: stopping now' in h.output, h.describe()
        stuck.close()
    finally:
        h.stop()


def test_service_without_a_hook_stops_at_once(tmp_path):
    """echo registers no limpet_on_shutdown() hook: the loop stops with
    status 0 at the first press, and echo's main prints its summary."""
    from conftest import Console

    mon = tmp_path / 'mon'
    c = Console()
    c.spawn([str(TOP / 'limpet'), 'run', 'echo', '--no-build', '--timeout', '300',
             '--port', '%d:7' % free_port(), '--monitor', str(mon)])
    try:
        c.wait_for(re.compile(r'^echo: listening on', re.M), 60)
        monitor(mon, 'system_powerdown')
        assert c.proc.wait(60) == 0, c.describe()
        c.reader.join(5)
        assert 'power: the power button: stopping now' in c.output, c.describe()
        assert re.search(r'^echo: \d+ connections', c.output, re.M), c.describe()
    finally:
        c.stop()


@pytest.mark.parametrize('platform', ['pc', 'q35', 'microvm'])
def test_powers_off_without_isa_debug_exit(platform):
    """hello ends at once; with no isa-debug-exit device the kernel powers
    the machine off (ACPI S5: PM1 control on pc and q35, the sleep control
    register on microvm), and QEMU quits with 0 instead of the guest
    halting for ever."""
    image = image_path('hello', platform)
    p = subprocess.run(qemu.command(platform, image, debug_exit=False),
                       capture_output=True, text=True, timeout=60)
    assert 'goodbye' in p.stdout, p.stdout + p.stderr
    assert p.returncode == 0, p.stdout + p.stderr
