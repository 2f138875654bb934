"""Helpers for the booted tests: boot an image under QEMU, get its status
and serial output.

The images are built beforehand (./limpet test builds every service for
pc and microvm); a missing image fails the test with the command to build
it.  Every boot has a hard timeout, and the QEMU process a boot starts is
killed (by its PID) whatever happens, so that a hung guest fails its test
instead of the whole run.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent
LIMPET = TOP / 'limpet'

# What Limpet's tools share (site_scons/limpet/): image paths, QEMU's
# command line, exit statuses, the kernel command line.
sys.path.insert(0, str(TOP / 'site_scons'))
from limpet import paths, qemu, status  # noqa: E402
from limpet.cmdline import make_cmdline  # noqa: E402
from limpet.paths import LOADER, build_platform  # noqa: E402,F401

MACHINES = qemu.MACHINES

# The guest's IPv6 address other than the link-local one (static or
# SLAAC) passed duplicate address detection, about a second after boot
# (net/net.c).  Its multicast groups (MLD6_GROUP) are joined by then: a
# test that compares lwIP's pools with a baseline takes it after this.
IP6_READY = re.compile(r'^net: ip6 (?!fe80:)\S+ ready\b', re.M)

# Statuses that are not the guest's own.
QEMU_FAILED = -1    # QEMU exited 1, or with a code the guest cannot produce
GUEST_RESET = -2    # QEMU exited 0: the guest reset (triple fault) under -no-reboot

FAULT_STATUS = status.FAULT     # the kernel's status for a fault or panic
LOADER_STATUS = status.LOADER   # the loader's status for a bad image


def image_path(service, platform='pc', mode='debug', log='info'):
    return paths.image_path(service, platform, mode, log)


# KVM only where it really runs guests (or as LIMPET_ACCEL says).
ACCEL = qemu.accelerator()


class Boot(tuple):
    """(status, output) of one boot, plus .rc (QEMU's exit code), .stderr
    (QEMU's own messages) and .cmdline."""

    def __new__(cls, status, output, rc, stderr, cmdline):
        self = super().__new__(cls, (status, output))
        self.rc, self.stderr, self.cmdline = rc, stderr, cmdline
        return self

    status = property(lambda self: self[0])
    output = property(lambda self: self[1])

    def __repr__(self):
        return 'Boot(status=%r, rc=%r, cmdline=%r)' % (self.status, self.rc, self.cmdline)


def decode_status(rc):
    """Guest status from QEMU's exit code (limpet/status.py), or
    GUEST_RESET or QEMU_FAILED."""
    s = status.guest_status(rc)
    if s is not None:
        return s
    return GUEST_RESET if rc == status.RC_RESET else QEMU_FAILED


def boot(service, platform='pc', kernel_args='', app_args=None, mem='64M',
         timeout=30, image=None, initrd=True, mode='debug', log='info', cmdline=None,
         cpu='max', qemu_args=(), via='pvh'):
    """Boot service (or the image file `image`) under QEMU on platform
    (pc, q35, microvm); return Boot(status, serial output).

    via is how: 'pvh' (the image is -kernel, as ./limpet run boots it) or
    'loader' (the multiboot loader is -kernel, the image -initrd, as GRUB
    boots it).  app_args (a list) go after "--"; cmdline, when given, is
    passed to -append verbatim instead.  initrd=False leaves the loader's
    -initrd out.
    cpu is QEMU's -cpu model, features too ('qemu64,-rdrand,-rdseed');
    qemu_args go on QEMU's command line (devices, e.g. a NIC).  A boot
    still running after `timeout` seconds fails the test."""
    if image is None:
        image = image_path(service, platform, mode, log)
        if not image.exists():
            pytest.fail('no image %s: build it with scons service=%s platform=%s mode=%s log=%s'
                        % (image.relative_to(TOP), service, build_platform(platform), mode, log))
    if via == 'loader' and not LOADER.exists():
        pytest.fail('no loader %s: run scons' % LOADER.relative_to(TOP))
    if cmdline is None:
        cmdline = make_cmdline(kernel_args, app_args)
    kernel, initrd_file = qemu.boot_files(image, via)
    cmd = qemu.command(platform, kernel, cmdline, initrd=initrd_file if initrd else None,
                       mem=mem, accel=ACCEL, cpu=cpu, extra=qemu_args,
                       qemu=shutil.which(qemu.QEMU) or qemu.QEMU)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail('%s on %s still running after %ss (cmdline %r); its output:\n%s%s'
                    % (image, platform, timeout, cmdline, clean(out), clean(err)))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Boot(decode_status(proc.returncode), clean(out), proc.returncode, clean(err),
                cmdline)


def clean(data):
    """Serial bytes to text with plain newlines."""
    return data.decode('utf-8', 'replace').replace('\r\n', '\n').replace('\r', '')


def describe(result):
    """The whole story of a boot, for assertion messages."""
    status, out = result
    return ('status %s (QEMU exit %s), cmdline %r\n--- serial ---\n%s\n--- qemu stderr ---\n%s'
            % (status, result.rc, result.cmdline, out, result.stderr))


def limpet(*args, timeout=300, env=None):
    """Run ./limpet with args; returns CompletedProcess (text, stdout and
    stderr apart)."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([str(LIMPET)] + list(args), cwd=TOP, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors='replace', timeout=timeout,
                          env=e)


@pytest.fixture
def qemu_args(tmp_path):
    """./limpet run with a QEMU that prints its arguments, one <...> a line,
    and exits as the guest's status 0 would."""
    path = tmp_path / 'qemu'
    path.write_text('#!/bin/sh\nfor a; do printf "<%s>\\n" "$a"; done; exit 3\n')
    path.chmod(0o755)

    def args(*limpet_args):
        p = limpet('run', *limpet_args, env={'LIMPET_QEMU': str(path)}, timeout=60)
        return p, re.findall(r'^<(.*)>$', p.stdout, re.M)
    return args


@pytest.fixture(name='boot')
def boot_fixture():
    return boot


class Console:
    """A command (./limpet run ...) in the background, in a session of its
    own so that the QEMU it starts goes with it; its console collected line
    by line as it comes.  Subclasses name what runs in `who`."""

    who = 'the guest'

    def spawn(self, cmd, env=None):
        self.cmd = cmd
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(cmd, cwd=TOP, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode('utf-8', 'replace').replace('\r', '').rstrip('\n')
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    @property
    def output(self):
        with self.cond:
            return '\n'.join(self.lines)

    def describe(self):
        return '\ncommand: %s\nexit: %s\n--- console (last 60 lines) ---\n%s' % (
            ' '.join(self.cmd), self.proc.poll(), '\n'.join(self.output.splitlines()[-60:]))

    def wait_for(self, regex, timeout=20):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                m = regex.search('\n'.join(self.lines))
                if m:
                    return m
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    break
                self.cond.wait(min(left, 0.2))
        pytest.fail('no %r from %s within %ss%s' % (regex.pattern, self.who, timeout,
                                                   self.describe()))

    def wait_exit(self, timeout, why):
        """The command's exit code once it ends on its own within timeout
        seconds (why: what should have ended it, for the failure)."""
        end = time.monotonic() + timeout
        while self.proc.poll() is None:
            assert time.monotonic() < end, 'still running after %s%s' % (why, self.describe())
            time.sleep(0.2)
        self.reader.join(5)
        return self.proc.returncode

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()
        self.reader.join(5)


def monitor(path, command):
    """One command to QEMU's human monitor on the Unix socket path (./limpet
    run --monitor); its reply."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    end = time.monotonic() + 10
    while True:
        try:
            s.connect(str(path))
            break
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)
    got = b''
    try:
        while b'(qemu)' not in got:
            got += s.recv(4096)
        s.sendall(command.encode() + b'\n')
        got = b''
        while b'(qemu)' not in got:
            got += s.recv(4096)
    finally:
        s.close()
    return got.decode('utf-8', 'replace')
