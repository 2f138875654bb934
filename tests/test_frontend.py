"""The front end and what it shares (site_scons/limpet/): service.conf,
image names, exit statuses, the command line's quoting, and ./limpet
run's QEMU lines (a stand-in QEMU prints them)."""

import hashlib
import re

import pytest

from conftest import TOP, image_path, limpet, paths, qemu, status
from limpet import cmdline, services

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


# ---- service.conf ------------------------------------------------------------

def write_conf(tmp_path, text):
    folder = tmp_path / 'svc'
    folder.mkdir(exist_ok=True)
    (folder / 'service.conf').write_text(text)
    return folder


def test_service_conf_run_defaults(tmp_path):
    folder = write_conf(tmp_path, '# a comment\nnet = yes  # and another\n'
                        'ports = 8080:80 9000:90\ntls_ports = 8443:443\nmemory = 128M\n')
    conf = services.read_conf(str(folder))
    assert conf.net and not conf.tls and conf.default_nic() == 'user'
    assert conf.ports == [(8080, 80), (9000, 90)] and conf.tls_ports == [(8443, 443)]
    assert conf.memory == '128M'
    plain = services.read_conf(str(write_conf(tmp_path, '')))
    assert plain.default_nic() == 'none' and plain.ports == [] and plain.memory == '64M'


@pytest.mark.parametrize('text, why', [
    ('netz = yes\n', 'key one of'),
    ('net = maybe\n', 'valid values are yes, no'),
    ('net = yes\nports = 8080\n', 'HOST:GUEST'),
    ('net = yes\nports = 70000:80\n', 'HOST:GUEST'),
    ('net = yes\nmemory = lots\n', "QEMU's -m"),
    ('net = yes\nnic = wifi\n', 'user, tap, none'),
    ('tls = yes\n', 'needs net = yes'),
    ('nic = user\n', 'needs net = yes'),
])
def test_service_conf_errors_name_file_and_line(tmp_path, text, why):
    folder = write_conf(tmp_path, text)
    with pytest.raises(services.ConfError) as e:
        services.read_conf(str(folder))
    assert why in str(e.value) and str(folder / 'service.conf') in str(e.value), e.value


def test_every_service_conf_reads():
    """Each service.conf in the tree, services/ and tests/guest/ alike."""
    found = services.services()
    assert found['echo'] == 'services/echo' and found['test_tls'] == 'tests/guest/test_tls'
    for name in found:
        services.conf_of(name)
    assert services.conf_of('echo').ports == [(7007, 7)]
    assert services.conf_of('test_tls').net and services.conf_of('test_tls').tls


# ---- image paths, statuses, quoting ------------------------------------------

def test_image_paths(tmp_path):
    assert image_path('hello', 'q35') == TOP / 'build' / 'pc-debug-info' / 'hello.elf'
    assert paths.image_path('httpd', 'microvm', 'release', 'warn', tls=True) == \
        TOP / 'build' / 'microvm-release-warn-tls' / 'httpd.elf'
    assert paths.image_name('httpd', paths.DEFAULT_WWW) == 'httpd'
    assert paths.image_name('httpd', str(TOP / 'services' / 'httpd' / 'www')) == 'httpd'
    site = tmp_path / 'site'
    site.mkdir()
    (tmp_path / 'link').symlink_to(site)
    want = 'httpd-www-' + hashlib.sha256(str(site).encode()).hexdigest()[:8]
    assert paths.image_name('httpd', str(site)) == want
    assert paths.image_name('httpd', str(tmp_path / 'link')) == want  # the real path
    assert paths.image_name('echo', str(site)) == 'echo'


def test_status_encoding():
    assert status.DEBUG_EXIT_DEVICE == 'isa-debug-exit,iobase=0xf4,iosize=0x04'
    for s in (0, 1, 2, 3, 42, status.LOADER, status.FAULT, status.STATUS_MAX):
        assert status.guest_status(status.qemu_code(s)) == s
        assert status.run_status(status.qemu_code(s)) == (s, None)
    assert status.guest_status(0) is None and status.guest_status(1) is None
    assert status.guest_status(2) is None and status.guest_status(257) is None
    assert status.run_status(0)[0] == status.GUEST_RESET
    assert status.run_status(1)[0] == status.QEMU_FAILED
    assert 'signal 9' in status.run_status(-9)[1]


def test_cmdline_quoting():
    assert cmdline.quote_arg('plain') == 'plain'
    assert cmdline.quote_arg('') == '""'
    assert cmdline.quote_arg('a b') == '"a b"'
    assert cmdline.quote_arg('q"t\\') == '"q\\"t\\\\"'
    assert cmdline.make_cmdline('log=info') == 'log=info'
    assert cmdline.make_cmdline('', []) == '--'
    assert cmdline.make_cmdline('-freq 2000', ['x y', 'z']) == '-freq 2000 -- "x y" z'


def test_accelerator_override(monkeypatch):
    monkeypatch.setenv('LIMPET_ACCEL', 'tcg')
    assert qemu.accelerator() == 'tcg'
    monkeypatch.setenv('LIMPET_ACCEL', 'kvm')
    assert qemu.accelerator() == 'kvm'
    monkeypatch.delenv('LIMPET_ACCEL')
    assert qemu.accelerator() == ('kvm' if qemu.kvm_usable() else 'tcg')


# ---- ./limpet run's QEMU line ------------------------------------------------

def test_run_guest_test_service_conf(qemu_args):
    """tests/guest/test_tls says net = yes: it gets the NIC, as services do."""
    p, a = qemu_args('test_tls', '--no-build')
    assert p.returncode == 0, p.stderr
    assert a[a.index('-netdev') + 1].startswith('user,id=n0,'), a
    assert 'virtio-net-pci,disable-legacy=on,netdev=n0' in a, a
    assert a[a.index('-append') + 1] == qemu.USER_NET_ARGS, a


def test_run_httpd_tls_forwards_from_service_conf(qemu_args):
    p, a = qemu_args('httpd', '--no-build', '--tls')
    assert p.returncode == 0, p.stderr
    netdev = a[a.index('-netdev') + 1]
    assert netdev.index('127.0.0.1:8443-:443') < netdev.index('127.0.0.1:8080-:80'), netdev
    assert a[a.index('-append') + 1].endswith('-- --https-redirect-port 8443'), a
    assert 'httpd: serving http://127.0.0.1:8080/' in p.stderr, p.stderr
