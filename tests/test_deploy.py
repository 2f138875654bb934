"""./limpet deploy --libvirt (scripts/deploy.py): three httpd instances as
libvirt domains (TCG, direct kernel boot), each answering on its own
forwarded port; one destroyed and started again; one stopped by "virsh
shutdown" (the ACPI power button: httpd finishes and powers off, which
libvirt records as a shutdown); --status and --destroy.

libvirtd: the machine's own if one answers, else this module starts
virtlogd and libvirtd itself (.ci/run has no systemd) and ends them by
PID at the end.  Guests reach the host only through QEMU's user
networking, forwarded from 127.0.0.1."""

import os
import random
import re
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import TOP, limpet
from test_httpd import need_tool
from limpet import services

URI = 'qemu:///system'
COUNT = 3


def virsh(*args, check=True):
    p = subprocess.run(['virsh', '-q', '-c', URI] + list(args), capture_output=True,
                       text=True, timeout=180)
    assert not check or p.returncode == 0, (args, p.stdout, p.stderr)
    return p


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(('127.0.0.1', port))
            return True
        except OSError:
            return False


def free_port_run(n):
    for _ in range(100):
        base = random.randrange(20000, 60000)
        if all(port_free(base + i) for i in range(n)):
            return base
    pytest.fail('no %d free ports in a row on 127.0.0.1' % n)


def answers(port, timeout=5):
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d/' % port, timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def wait_until(pred, timeout, what):
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, what
        time.sleep(1)


@pytest.fixture(scope='module')
def libvirtd(tmp_path_factory):
    need_tool('virsh', 'libvirt-clients')
    need_tool('libvirtd', 'libvirt-daemon-system')
    if os.geteuid() != 0:
        pytest.fail('./limpet deploy --libvirt tests need root (qemu:///system)')
    started = []
    if subprocess.run(['virsh', '-c', URI, 'uri'], capture_output=True,
                      timeout=60).returncode != 0:
        d = tmp_path_factory.mktemp('libvirt')
        for daemon in ('virtlogd', 'libvirtd'):
            pidfile = d / (daemon + '.pid')
            if daemon == 'virtlogd' and os.path.exists('/run/libvirt/virtlogd-sock'):
                continue
            p = subprocess.run([daemon, '-d', '-p', str(pidfile)], capture_output=True,
                               text=True, timeout=60)
            assert p.returncode == 0, (daemon, p.stderr)
            wait_until(pidfile.exists, 30, '%s wrote no PID file' % daemon)
            started.append(int(pidfile.read_text().split()[0]))
        wait_until(lambda: subprocess.run(['virsh', '-c', URI, 'uri'], capture_output=True,
                                          timeout=60).returncode == 0,
                   60, 'libvirtd does not answer')
    yield
    for pid in reversed(started):
        try:
            os.kill(pid, 15)
        except ProcessLookupError:
            pass


def test_deploy_three_and_manage_them(libvirtd):
    prefix = 'lt%d' % os.getpid()
    base = free_port_run(COUNT)
    try:
        p = limpet('deploy', 'httpd', '--libvirt', '--count', str(COUNT), '--name', prefix,
                   '--port', '%d:80' % base, timeout=1200)
        assert p.returncode == 0, p.stdout + p.stderr
        names = ['%s-%d' % (prefix, i) for i in range(1, COUNT + 1)]
        for i, name in enumerate(names):
            assert re.search(r'^%s: httpd on pc \((TCG|KVM)\), 127\.0\.0\.1:%d -> 80'
                             % (name, base + i), p.stdout, re.M), p.stdout
        for i in range(COUNT):
            wait_until(lambda: answers(base + i), 120, 'instance %d never answered' % (i + 1))
        # The memory is the service.conf's, as ./limpet run gives it.
        mib = services.conf_of('httpd').memory_mib()
        assert virsh('dominfo', names[0]).stdout.count('%d KiB' % (mib * 1024)) == 2, \
            virsh('dominfo', names[0]).stdout
        st = limpet('deploy', '--status', '--name', prefix)
        assert st.returncode == 0, st.stderr
        assert len(re.findall(r'^%s-\d+\s+httpd\s+running\s.*healthy: ' % prefix, st.stdout,
                              re.M)) == COUNT, st.stdout

        # One destroyed (pulled out) and started again.
        virsh('destroy', names[1])
        assert not answers(base + 1), 'a destroyed instance still answers'
        assert re.search(r'^%s\s+httpd\s+shut off' % names[1],
                         limpet('deploy', '--status', '--name', prefix).stdout, re.M)
        virsh('start', names[1])
        wait_until(lambda: answers(base + 1), 120, 'the restarted instance never answered')
        assert answers(base) and answers(base + 2), 'the others stopped answering'

        # One shut down through its power button: a clean shutdown to libvirt.
        virsh('shutdown', names[0])
        wait_until(lambda: virsh('domstate', '--reason', names[0]).stdout.strip() ==
                   'shut off (shutdown)', 60, 'virsh shutdown did not shut it down')
        console = '/var/lib/libvirt/images/limpet/%s/%s.console.log' % (prefix, names[0])
        with open(console, errors='replace') as f:
            log = f.read()
        assert 'power: the power button: shutting down' in log, log[-2000:]
        assert 'httpd: shut down: every response finished' in log, log[-2000:]
        assert answers(base + 2)
    finally:
        d = limpet('deploy', '--destroy', '--name', prefix, timeout=300)
    assert d.returncode == 0, d.stdout + d.stderr
    left = virsh('list', '--all', '--name').stdout.split()
    assert not [n for n in left if n.startswith(prefix + '-')], left
    assert not os.path.exists('/var/lib/libvirt/images/limpet/%s' % prefix)


def test_deploy_refuses_bad_input(libvirtd):
    for args, why in ((['httpd', '--libvirt', '--platform', 'microvm'], 'libvirt deploys pc or q35'),
                      (['httpd', '--libvirt', '--count', '0'], '--count 0: give 1 to 100'),
                      (['httpd', '--libvirt', '--name', '9bad'], '--name 9bad'),
                      (['httpd', '--libvirt', '--port', '80'], '--port 80: give HOSTBASE:GUEST'),
                      (['--status', 'httpd'], 'take no SERVICE'),
                      (['httpd', '--libvirt', '--firmware', 'uefi'], 'only with --disk'),
                      (['httpd', '--libvirt', '--disk', 'vmdk'], 'invalid choice')):
        p = limpet('deploy', *args, timeout=300)
        assert p.returncode != 0 and why in p.stderr, (args, p.stdout, p.stderr)


@pytest.mark.parametrize('fmt,firmware,platform', [('qcow2', 'uefi', 'q35'), ('raw', 'bios', 'pc')])
def test_deploy_from_a_disk_image(libvirtd, fmt, firmware, platform):
    """--disk: the instances boot ./limpet image's disk through the
    firmware (OVMF as libvirt picks it, or SeaBIOS), share it read-only,
    answer, report their health, and shut down cleanly by the power
    button, which under UEFI needs the RSDP GRUB's multiboot2 passes."""
    prefix = 'ld%d%s' % (os.getpid(), firmware)
    base = free_port_run(2)
    try:
        p = limpet('deploy', 'httpd', '--libvirt', '--count', '2', '--name', prefix,
                   '--platform', platform, '--disk', fmt, '--firmware', firmware,
                   '--port', '%d:80' % base, timeout=1200)
        assert p.returncode == 0, p.stdout + p.stderr
        names = ['%s-%d' % (prefix, i) for i in (1, 2)]
        for i, name in enumerate(names):
            assert re.search(r'^%s: httpd on %s \((TCG|KVM), %s disk, %s\), 127\.0\.0\.1:%d -> 80'
                             % (name, platform, fmt, firmware.upper(), base + i),
                             p.stdout, re.M), p.stdout
        for i in range(2):
            wait_until(lambda: answers(base + i), 180, 'instance %d never answered' % (i + 1))
        st = limpet('deploy', '--status', '--name', prefix)
        assert len(re.findall(r'^%s-\d+\s+httpd\s+running\s.*healthy: ' % prefix, st.stdout,
                              re.M)) == 2, st.stdout
        virsh('shutdown', names[0])
        wait_until(lambda: virsh('domstate', '--reason', names[0]).stdout.strip() ==
                   'shut off (shutdown)', 90, 'virsh shutdown did not shut it down')
        assert answers(base + 1)
    finally:
        d = limpet('deploy', '--destroy', '--name', prefix, timeout=300)
    assert d.returncode == 0, d.stdout + d.stderr
    assert not os.path.exists('/var/lib/libvirt/images/limpet/%s' % prefix)
