"""The front end and what it shares (site_scons/limpet/): service.conf,
image names, exit statuses, the command line's quoting, and ./limpet
run's QEMU lines (a stand-in QEMU prints them), its --gdb and --pcap, and
SIGTERM, which stops QEMU too (a real guest).  Traffic stays on
127.0.0.1 (QEMU's user network)."""

import hashlib
import os
import re
import signal
import socket
import struct
import time

import pytest

from conftest import TOP, Console, image_path, limpet, paths, qemu, status
from limpet import cmdline, services
from test_httpd import free_port

LISTENING = re.compile(r'^echo: listening', re.M)

# ---- service.conf ------------------------------------------------------------

def write_conf(tmp_path, text):
    folder = tmp_path / 'svc'
    folder.mkdir(exist_ok=True)
    (folder / 'service.conf').write_text(text)
    return folder


def test_service_conf_run_defaults(tmp_path):
    folder = write_conf(tmp_path, '# a comment\nnet = yes  # and another\n'
                        'ports = 8080:80 9000:90\ntls_ports = 8443:443\nmemory = 128M\n'
                        'tls_port_arg = --redirect-to\n')
    conf = services.read_conf(str(folder))
    assert conf.net and not conf.tls and conf.default_nic() == 'user'
    assert conf.ports == [(8080, 80), (9000, 90)] and conf.tls_ports == [(8443, 443)]
    assert conf.memory == '128M' and conf.memory_mib() == 128
    assert conf.tls_port_arg == '--redirect-to'
    plain = services.read_conf(str(write_conf(tmp_path, '')))
    assert plain.default_nic() == 'none' and plain.ports == [] and plain.memory == '64M'
    assert plain.memory_mib() == 64 and plain.tls_port_arg is None


@pytest.mark.parametrize('size, mib', [('64', 64), ('64M', 64), ('2g', 2048), ('1G', 1024),
                                       ('512K', 1), ('1025k', 2), ('1T', 1 << 20)])
def test_memory_in_mib(size, mib):
    """deploy's libvirt domains take whole MiB; QEMU's -m takes these."""
    assert services.memory_mib(size) == mib


@pytest.mark.parametrize('text, why', [
    ('netz = yes\n', 'key one of'),
    ('net = maybe\n', 'valid values are yes, no'),
    ('net = yes\nports = 8080\n', 'HOST:GUEST'),
    ('net = yes\nports = 70000:80\n', 'HOST:GUEST'),
    ('net = yes\nmemory = lots\n', "QEMU's -m"),
    ('net = yes\nnic = wifi\n', 'user, tap, none'),
    ('tls = yes\n', 'needs net = yes'),
    ('nic = user\n', 'needs net = yes'),
    ('net = yes\ntls_ports = 8443:443\ntls_port_arg = redirect\n', 'one long option'),
    ('net = yes\ntls_port_arg = --redirect\n', 'needs tls_ports'),
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


@pytest.mark.parametrize('args, why', [
    (['setup', 'now'], 'setup: unrecognized arguments: now'),
    (['test', '--fast'], 'test: unrecognized arguments: --fast'),
    (['test', 'tests/test_net.py'], 'test takes no arguments (use PYTEST_ARGS)'),
    (['bench', '--fast'], 'bench: unrecognized arguments: --fast'),
    (['soak', 'httpd'], 'soak needs --minutes N'),
    (['soak', '--minutes', '1'], 'soak needs a SERVICE (httpd)'),
    (['soak', '--minutes', '1', 'echo'], "soak: only httpd has a battery, not 'echo'"),
    (['soak', 'httpd', 'echo', '--minutes', '1'], 'soak: one SERVICE only'),
    (['soak', 'httpd', '--minutes'], 'soak: argument --minutes: expected one argument'),
    (['soak', 'httpd', '--minutes', '1', '--rounds', '2'], 'soak: unrecognized arguments: --rounds 2'),
    (['run', 'hello', '--bogus'], 'run: unknown option --bogus'),
    (['frobnicate'], 'no such command: frobnicate'),
])
def test_usage_errors(args, why):
    """Each command's bad command line: one line saying what is wrong, the
    hint, status 2, before anything is built or installed."""
    p = limpet(*args, timeout=60)
    assert p.returncode == 2, p.stderr
    assert p.stderr.splitlines() == ['limpet: ' + why, "Try './limpet help'."], p.stderr


@pytest.mark.parametrize('command', ['setup', 'build', 'run', 'test', 'bench', 'soak'])
def test_help_of_each_command(command):
    for args in (['help', command], [command, '--help'], [command, '-h']):
        p = limpet(*args, timeout=60)
        assert p.returncode == 0 and p.stdout.startswith('Usage: ./limpet %s' % command), \
            (args, p.stdout, p.stderr)


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
    assert 'httpd: serving https://127.0.0.1:8443/' in p.stderr, p.stderr
    # --port replaces the forwards; the redirect names the new one, and
    # the user's own arguments come after it.
    p, a = qemu_args('httpd', '--no-build', '--tls', '--port', '9443:443', '--', '--stats')
    assert p.returncode == 0, p.stderr
    assert a[a.index('-append') + 1].endswith('-- --https-redirect-port 9443 --stats'), a
    assert 'httpd: serving https://127.0.0.1:9443/' in p.stderr, p.stderr
    assert 'serving http:' not in p.stderr, p.stderr
    # echo's service.conf names no tls_port_arg: nothing is added.
    p, a = qemu_args('echo', '--no-build', '--port', '9443:443')
    assert p.returncode == 0, p.stderr
    assert a[a.index('-append') + 1] == qemu.USER_NET_ARGS, a


def test_run_gdb(qemu_args):
    p, a = qemu_args('hello', '--no-build', '--gdb')
    assert p.returncode == 0, p.stderr
    assert a[a.index('-gdb') + 1] == 'tcp:127.0.0.1:1234' and '-S' in a, a
    image = image_path('hello')
    assert ("gdb -ex 'set architecture i386:x86-64' -ex 'target remote :1234' "
            "-ex 'symbol-file %s'" % image) in p.stderr, p.stderr
    p, a = qemu_args('hello', '--no-build', '--gdb', '--platform', 'microvm')
    assert str(image_path('hello', 'microvm')) in p.stderr, p.stderr


def test_run_pcap(qemu_args, tmp_path):
    p, a = qemu_args('echo', '--no-build', '--pcap', str(tmp_path / 'n0.pcap'))
    assert p.returncode == 0, p.stderr
    i = a.index('-object')
    assert a[i + 1] == 'filter-dump,id=f0,netdev=n0,file=%s' % (tmp_path / 'n0.pcap'), a
    assert i > a.index('-netdev'), a
    p, _ = qemu_args('hello', '--no-build', '--pcap', str(tmp_path / 'x.pcap'))
    assert p.returncode == 2 and '--pcap needs a NIC' in p.stderr, p.stderr
    p, _ = qemu_args('echo', '--no-build', '--pcap')
    assert p.returncode == 2 and '--pcap needs a file' in p.stderr, p.stderr


# ---- a real guest --------------------------------------------------------------

def children(pid):
    """The PIDs of pid's children."""
    out = set()
    for task in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/children' % (pid, task)) as f:
                out.update(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def test_run_sigterm_stops_qemu_and_pcap_captures(tmp_path):
    """echo with --pcap: a datagram to it and back lands in the capture;
    SIGTERM to ./limpet ends QEMU at once, and ./limpet says so."""
    if not image_path('echo').exists():
        pytest.fail('no echo image: build it with ./limpet build echo')
    port, cap = free_port(), tmp_path / 'n0.pcap'
    c = Console()
    c.spawn([str(TOP / 'limpet'), 'run', 'echo', '--no-build', '--timeout', '300',
             '--port', '%d:7' % port, '--pcap', str(cap)])
    try:
        c.wait_for(LISTENING, 120)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        for _ in range(20):
            s.sendto(b'limpet pcap probe', ('127.0.0.1', port))
            try:
                if s.recv(100) == b'limpet pcap probe':
                    break
            except OSError:
                pass
        else:
            pytest.fail('no echo from the guest' + c.describe())
        s.close()
        kids = children(c.proc.pid)
        assert len(kids) == 1, kids
        qemu_pid = kids.pop()
        os.kill(c.proc.pid, signal.SIGTERM)
        end = time.monotonic() + 10
        while alive(qemu_pid) and time.monotonic() < end:
            time.sleep(0.05)
        assert not alive(qemu_pid), 'QEMU still runs 10 s after SIGTERM' + c.describe()
        assert c.wait_exit(10, 'SIGTERM') == status.INTERRUPTED, c.describe()
        assert 'limpet: interrupted' in c.output, c.describe()
    finally:
        c.stop()
    data = cap.read_bytes()
    assert struct.unpack_from('<I', data)[0] == 0xa1b2c3d4, data[:24]
    assert data.count(b'limpet pcap probe') >= 2, 'the datagram both ways'


def test_run_gdb_waits_for_the_debugger():
    """--gdb: QEMU holds the guest before its first instruction until a
    debugger says continue (here gdb's remote protocol by hand)."""
    c = Console()
    c.spawn([str(TOP / 'limpet'), 'run', 'hello', '--no-build', '--timeout', '120', '--gdb',
             '--', 'a'])
    try:
        c.wait_for(re.compile(r"target remote :1234"), 60)
        end = time.monotonic() + 30
        while True:
            try:
                g = socket.create_connection(('127.0.0.1', 1234), timeout=5)
                break
            except OSError:
                assert time.monotonic() < end, 'no gdb stub on :1234' + c.describe()
                time.sleep(0.1)
        time.sleep(1)
        assert 'Hello from Limpet' not in c.output, 'it ran before continue' + c.describe()
        g.sendall(b'$c#63')
        assert c.wait_exit(90, 'continue') == 0, c.describe()
        assert 'goodbye' in c.output, c.describe()
        g.close()
    finally:
        c.stop()
