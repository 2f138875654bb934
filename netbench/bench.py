#!/usr/bin/python3
"""./limpet bench: Limpet against a minimal Linux VM, on the same QEMU.

./limpet bench builds the images (release), the host programs and the
Linux VM (netbench/baseline/build.sh), then runs this script as root:

    netbench/bench.py [--quick] [--no-baseline] [--out DIR]

Safety: the script creates its own network namespace,
limpet-bench-<pid>, with tap10 in it (scripts/tap-setup.sh --netns), and
runs itself again inside it (ip netns exec); QEMU, wrk and netbench run
there, so no benchmark packet leaves that namespace.  Afterwards it ends
what still runs in the namespace (all of it started by the bench) by PID
and deletes the namespace.

HTTPS: httpd built with tls=1 and the Linux VM's nginx serve the same
certificate and key (the development pair in build/tls/) with the same
TLS 1.3 and 1.2 suites and curves; wrk over https at 1 and 8 connections
with keep-alive, and full handshakes per second, TLS 1.3 and TLS 1.2, from
one Python ssl client.

Both systems boot with the same QEMU line but for the kernel, initrd and
command line: the machine (q35 or microvm), -cpu max, the memory, a
virtio-net NIC on tap10 and the accelerator.  The guest is 10.0.5.3 and
fd00:5::3.  netbench latency runs twice for each: with QEMU and the client
where the host's scheduler puts them, and with all their threads on one
CPU; then netbench runs again, latency in both placements and bandwidth,
over IPv6.

Results: OUT/results.json, OUT/results.md (the table) and PNG charts
(gnuplot), OUT being build/bench by default.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform as host_platform
import re
import resource
import selectors
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
# Image paths, QEMU's command line and the accelerator: what Limpet's tools
# share (site_scons/limpet/).
sys.path.insert(0, str(TOP / 'site_scons'))
from limpet import paths, qemu  # noqa: E402
from limpet.paths import LOADER, build_platform  # noqa: E402

TAP_SETUP = TOP / 'scripts' / 'tap-setup.sh'
HOST = TOP / 'build' / 'netbench'
CLIENT = HOST / 'netbench'
EXIT_IMAGE = HOST / 'exit.elf'
BASELINE = TOP / 'build' / 'baseline'

GUEST_IP = '10.0.5.3'
GATEWAY = '10.0.5.1'
# IPv6: Limpet's build default (scons ip6=, gateway6=) and the host side of
# the tap (scripts/tap-setup.sh's default --address6, without duplicate
# address detection); the Linux VM's init takes the same ip6= and gateway6=
# and skips the detection too.
GUEST_IP6 = 'fd00:5::3'
GATEWAY6 = 'fd00:5::1'
PREFIX6 = 64
TAP = 'tap10'
MACHINES = ('q35', 'microvm')  # what the bench measures on (limpet/qemu.py's -M)
SERVE_MACHINE = 'q35'       # HTTP, netbench, CPU and RSS are measured on it
MEMORY = '256M'             # both systems, everywhere but the -m bisection
SMALL_PAGE = '/index.html'  # httpd's default page
BIG_FILE = '/1mb.bin'       # 1 MiB of incompressible bytes
BIG_SIZE = 1 << 20
# HTTPS: Limpet's httpd built with tls=1 and the Linux VM's nginx serve the
# same certificate and key (the development pair the tls=1 build makes,
# site_scons/limpet_tls.py) with the same TLS 1.3 and 1.2 suites and curves
# (net/tls/limpet_mbedtls_config.h; nginx.conf in netbench/baseline/build.sh).
HTTPS_PORT = 443
DEV_CERT = TOP / 'build' / 'tls' / 'dev-cert.pem'
HANDSHAKE_CIPHER = 'ECDHE-ECDSA-AES128-GCM-SHA256'     # TLS 1.2's
# Full handshakes are measured for each version; TLS 1.3 with Python's
# (OpenSSL's) default suites, of which both servers pick the same.
HANDSHAKE_VERSIONS = (('1.3', ssl.TLSVersion.TLSv1_3), ('1.2', ssl.TLSVersion.TLSv1_2))

# What each run measures.  The full run uses netbench's defaults (those of
# the seed's runs) and takes about 10 minutes on a 2-core machine under
# TCG; --quick about a minute.
FULL = dict(floor_runs=7, limpet_boots=7, linux_boots=5, wrk_seconds=10,
            connections=(1, 8, 64), lat_rounds=100000, lat_warmup=1000,
            bw_tcp_rounds=1000, bw_udp_rounds=100000, bisect_linux=True,
            https_connections=(1, 8), handshake_seconds=10,
            many_connections=(512, 10000), many_seconds=30,
            density_cap=2000, density_wave=50)
QUICK = dict(FULL, floor_runs=3, limpet_boots=5, linux_boots=1, wrk_seconds=3,
             lat_rounds=2000, lat_warmup=100, bw_tcp_rounds=20, bw_udp_rounds=5000,
             bisect_linux=False, handshake_seconds=3, many_seconds=10,
             density_cap=40, density_wave=20)
# Many connections: wrk with two threads (one per CPU of the host) and a
# 30 s request timeout (with 10,000 connections a request waits for the
# others' turn; wrk's default of 2 s would count that wait as failures),
# its file descriptors raised for them.  Limpet's capacity is also read
# from a boot with -m 64M (the connection pools are sized from RAM).
MANY_THREADS = 2
MANY_TIMEOUT = '30s'
CAPACITY_MEMORY = '64M'


def plural(n, word):
    return '%d %s%s' % (n, word, '' if n == 1 else 's')


def progress(msg):
    print('bench: ' + msg, flush=True)


# ---- the machine ---------------------------------------------------------------

def tsc_khz():
    """The host's TSC rate, which TCG's guest TSC follows (Linux's
    tsc_early_khz=, so that it skips the PIT calibration microvm lacks)."""
    try:
        out = subprocess.run(['dmesg'], capture_output=True, text=True).stdout
        m = re.search(r'tsc: Refined TSC clocksource calibration: ([\d.]+) MHz', out) or \
            re.search(r'tsc: Detected ([\d.]+) MHz processor', out)
        if m:
            return int(float(m.group(1)) * 1000)
    except OSError:
        pass
    with open('/proc/cpuinfo') as f:
        m = re.search(r'cpu MHz\s*:\s*([\d.]+)', f.read())
    return int(float(m.group(1)) * 1000) if m else 2000000


def machine_info(accel):
    with open('/proc/cpuinfo') as f:
        cpuinfo = f.read()
    model = re.search(r'model name\s*:\s*(.*)', cpuinfo)
    qemu = subprocess.run(['qemu-system-x86_64', '--version'], capture_output=True,
                          text=True).stdout.split('\n')[0]
    m = re.search(r'version ([\d.]+)', qemu)
    return {'cpus': os.cpu_count(), 'cpu': model.group(1).strip() if model else '?',
            'qemu': m.group(1) if m else qemu, 'accel': accel,
            'host_kernel': host_platform.release()}


# ---- images --------------------------------------------------------------------

def httpd_image(platform, www, tls=False):
    """build/<platform>-release-info[-tls]/httpd-www-<hash>.elf."""
    return paths.image_path('httpd', platform, 'release', tls=tls, www=www)


def default_httpd_image(platform):
    """httpd with its own small default site (services/httpd/www)."""
    return paths.image_path('httpd', platform, 'release')


def netbench_image(platform):
    return paths.image_path('netbench', platform, 'release')


def boot_copy(path):
    """What the bench boots: a copy of the image without its debug sections
    (objcopy --strip-debug; .symtab and .strtab stay, for backtraces).  The
    loader must find room for the whole image file next to the loaded
    image, so the ~1 MiB of DWARF would otherwise count against -m."""
    img = path.with_suffix('.img')
    subprocess.run(['objcopy', '--strip-debug', str(path), str(img)], check=True)
    return img


def stripped_size(path):
    tmp = Path(str(path) + '.stripped')
    subprocess.run(['strip', '-o', str(tmp), str(path)], check=True)
    size = tmp.stat().st_size
    tmp.unlink()
    return size


# ---- QEMU ------------------------------------------------------------------------

class Guest:
    """One QEMU on tap10; we are inside the namespace already."""

    def __init__(self, machine, kernel, initrd, append, mem, log):
        self.cmd = qemu.command(machine, kernel, append, initrd=initrd, mem=mem, accel=ACCEL,
                                serial='file:%s' % log,
                                extra=['-netdev', qemu.tap_netdev(TAP)] + qemu.nic(machine))
        self.log = log
        # The ARP entry of the last guest must not speed this one up.
        subprocess.run(['ip', 'neigh', 'flush', 'dev', TAP], capture_output=True)
        # QEMU's own messages (a refused -m, say) go next to the console.
        with open(str(log) + '.qemu', 'w') as err:
            self.start = time.monotonic()
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def cpu_seconds(self):
        with open('/proc/%d/stat' % self.proc.pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        # utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def rss_mib(self):
        with open('/proc/%d/status' % self.proc.pid) as f:
            m = re.search(r'VmRSS:\s*(\d+) kB', f.read())
        return int(m.group(1)) / 1024

    def console(self):
        try:
            return Path(self.log).read_text(errors='replace')
        except OSError:
            return ''


def limpet_guest(machine, image, mem=MEMORY, tag='limpet', via='pvh'):
    """A Limpet guest booted as ./limpet run boots it (via='pvh': the image
    is QEMU's -kernel) or as GRUB does (via='loader': the multiboot loader
    with the image as its module)."""
    kernel, initrd = qemu.boot_files(image, via)
    return Guest(machine, kernel, initrd, '', mem, LOGS / ('%s-%s.log' % (tag, machine)))


def linux_guest(machine, mem=MEMORY, tag='linux'):
    append = ('console=ttyS0 ip=%s::%s:255.255.255.0 ip6=%s/%d gateway6=%s tsc_early_khz=%d '
              'quiet panic=-1' % (GUEST_IP, GATEWAY, GUEST_IP6, PREFIX6, GATEWAY6, TSC_KHZ))
    return Guest(machine, BASELINE / 'vmlinuz', BASELINE / 'initramfs.cpio', append, mem,
                 LOGS / ('%s-%s.log' % (tag, machine)))


def wait_http_200(guest, timeout, path=SMALL_PAGE, interval=0.01):
    """Start a connection attempt every `interval` s (older ones stay in
    flight) until one gets "HTTP/1.x 200"; the time since QEMU started, or
    None when the guest died or the time ran out."""
    sel = selectors.DefaultSelector()
    request = ('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n'
               % (path, GUEST_IP)).encode()
    pending = []
    next_try = time.monotonic()
    deadline = guest.start + timeout

    def forget(s):
        sel.unregister(s)
        s.close()
        pending.remove(s)

    try:
        while True:
            now = time.monotonic()
            if now >= deadline or guest.proc.poll() is not None:
                return None
            if now >= next_try:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex((GUEST_IP, 80))
                sel.register(s, selectors.EVENT_WRITE, {'sent': False, 'buf': b''})
                pending.append(s)
                if len(pending) > 64:
                    forget(pending[0])
                next_try += interval
                if next_try < now:
                    next_try = now + interval
            for key, _ in sel.select(max(0.0, min(next_try, deadline) - time.monotonic())):
                s, st = key.fileobj, key.data
                if not st['sent']:
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                        forget(s)
                        continue
                    try:
                        s.send(request)
                    except OSError:
                        forget(s)
                        continue
                    st['sent'] = True
                    sel.modify(s, selectors.EVENT_READ, st)
                    continue
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b''
                if not data:
                    forget(s)
                    continue
                st['buf'] += data
                if b'\r\n' in st['buf']:
                    if re.match(rb'HTTP/1\.[01] 200 ', st['buf']):
                        return time.monotonic() - guest.start
                    forget(s)
    finally:
        for s in list(pending):
            s.close()
        sel.close()


def boot_or_fail(guest, timeout, what):
    t = wait_http_200(guest, timeout)
    if t is None:
        guest.stop()
        raise BenchError('%s did not serve HTTP 200 within %ds (console: %s):\n%s'
                         % (what, timeout, guest.log, guest.console()[-2000:]))
    return t


class BenchError(Exception):
    pass


# ---- measurements ------------------------------------------------------------------

def measure_floor(machine, runs):
    """QEMU start to exit with exit.elf booted by PVH: QEMU's own floor
    (firmware included, as for every image)."""
    times = []
    for _ in range(runs):
        g = Guest(machine, EXIT_IMAGE, None, '', MEMORY, LOGS / ('floor-%s.log' % machine))
        try:
            g.proc.wait(30)
        except subprocess.TimeoutExpired:
            g.stop()
            raise BenchError('the floor image did not exit within 30 s on %s' % machine)
        times.append(time.monotonic() - g.start)
    return times


def measure_boots(make_guest, runs, timeout, what):
    times, rss = [], None
    for _ in range(runs):
        g = make_guest()
        try:
            times.append(boot_or_fail(g, timeout, what))
            if rss is None:
                rss = g.rss_mib()
        finally:
            g.stop()
    return times, rss


WRK_LAT = re.compile(r'^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$', re.M)


def raise_nofile(need):
    """For a child (preexec_fn): room for `need` sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need + 256
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def established(port=80):
    """TCP connections to the guest's port that are established now."""
    p = subprocess.run(['ss', '-Htn', 'state', 'established', 'dst', GUEST_IP,
                        'dport', '= :%d' % port], capture_output=True, text=True)
    return len([line for line in p.stdout.splitlines() if line.strip()])


def run_wrk(conns, seconds, path, scheme='http', threads=1, timeout=None, count_at=None):
    """wrk's numbers; with count_at (a share of the run), also how many
    connections were established at that point of it."""
    cmd = ['wrk', '-t%d' % threads, '-c%d' % conns, '-d%ds' % seconds, '--latency']
    if timeout:
        cmd += ['--timeout', timeout]
    cmd.append('%s://%s%s' % (scheme, GUEST_IP, path))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: raise_nofile(conns))
    est = None
    try:
        if count_at is not None:
            time.sleep(seconds * count_at)
            est = established()
        out, err = proc.communicate(timeout=seconds + 90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BenchError('%s did not end' % ' '.join(cmd))
    p = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if p.returncode != 0:
        raise BenchError('%s failed: %s%s' % (' '.join(cmd), p.stdout, p.stderr))
    rps = re.search(r'Requests/sec:\s*([\d.]+)', p.stdout)
    reqs = re.search(r'(\d+) requests in', p.stdout)
    scale = {'us': 1e-3, 'ms': 1.0, 's': 1e3}
    lat = {q: float(v) * scale[u] for q, v, u in WRK_LAT.findall(p.stdout)}
    errors = re.search(r'Socket errors: (.*)', p.stdout)
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', p.stdout)
    if not rps or not reqs:
        raise BenchError('cannot read wrk output:\n' + p.stdout)
    nerr = sum(int(n) for n in re.findall(r'\d+', errors.group(1))) if errors else 0
    return {'connections': conns, 'seconds': seconds, 'path': path, 'scheme': scheme,
            'threads': threads, 'requests': int(reqs.group(1)),
            'requests_per_second': float(rps.group(1)),
            'p50_ms': lat.get('50'), 'p99_ms': lat.get('99'),
            'socket_errors': errors.group(1).strip() if errors else None,
            'errors': nerr, 'established': est,
            'non_2xx': int(non2xx.group(1)) if non2xx else 0}


def guest_stats():
    """Limpet httpd's /_limpet/stats."""
    with socket.create_connection((GUEST_IP, 80), timeout=30) as s:
        s.sendall(b'GET /_limpet/stats HTTP/1.1\r\nHost: limpet\r\nConnection: close\r\n\r\n')
        data = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    if not head.startswith(b'HTTP/1.1 200'):
        raise BenchError('/_limpet/stats: %r' % head[:100])
    return json.loads(body)


def measure_many(cfg, limpet):
    """The small page over 512 and 10,000 kept-alive connections; for
    Limpet also what httpd's stats say it evicted and refused meanwhile."""
    out = []
    for c in cfg['many_connections']:
        progress('  wrk %d connections, %d threads, %s, %ds'
                 % (c, MANY_THREADS, SMALL_PAGE, cfg['many_seconds']))
        before = guest_stats() if limpet else None
        r = run_wrk(c, cfg['many_seconds'], SMALL_PAGE, threads=MANY_THREADS,
                    timeout=MANY_TIMEOUT, count_at=0.8)
        if limpet:
            after = guest_stats()
            r['evicted'] = after['evicted'] - before['evicted']
            r['refused'] = after['refused'] - before['refused']
            r['max_conns'] = after['max_conns']
            r['tcp_capacity'] = after['tcp_capacity']
        out.append(r)
        # Let the connections wrk leaves close before the next run.
        time.sleep(3)
    return out


def measure_http(guest, cfg):
    out = []
    for path in (SMALL_PAGE, BIG_FILE):
        for c in cfg['connections']:
            progress('  wrk %d connection%s, %s, %ds'
                     % (c, '' if c == 1 else 's', path, cfg['wrk_seconds']))
            before = guest.cpu_seconds()
            r = run_wrk(c, cfg['wrk_seconds'], path)
            r['qemu_cpu_seconds'] = guest.cpu_seconds() - before
            out.append(r)
    return out


def tls_session_info():
    """What a default OpenSSL client (wrk's library) negotiates with the
    guest: openssl s_client's protocol, suite and key-exchange group."""
    cmd = ['openssl', 's_client', '-connect', '%s:%d' % (GUEST_IP, HTTPS_PORT),
           '-CAfile', str(DEV_CERT), '-verify_ip', GUEST_IP, '-verify_return_error', '-brief']
    p = subprocess.run(cmd, input='', capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    info = {}
    for key, pat in (('protocol', r'Protocol version:\s*(\S+)'),
                     ('cipher', r'Ciphersuite:\s*(\S+)'),
                     ('group', r'(?:Server Temp Key|Peer Temp Key):\s*([^,\n]+)'),
                     ('verification', r'Verification:\s*(.+)')):
        m = re.search(pat, out)
        if m:
            info[key] = m.group(1).strip()
    if p.returncode != 0 or 'cipher' not in info:
        raise BenchError('%s failed:\n%s' % (' '.join(cmd), out[-2000:]))
    return info


def client_context(version):
    """A TLS client of exactly `version` that trusts the development
    certificate (both servers serve it)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(DEV_CERT))
    ctx.minimum_version = ctx.maximum_version = version
    return ctx


def measure_handshakes(seconds, version=ssl.TLSVersion.TLSv1_2):
    """Full TLS handshakes of version per second, one after another from
    one client: a new TCP connection, a handshake with no session to
    resume (ECDHE over the server's preferred group, X25519; in TLS 1.2
    HANDSHAKE_CIPHER), the certificate checked against the development
    one, then close."""
    ctx = client_context(version)
    if version == ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers(HANDSHAKE_CIPHER)
    count, failures, cipher, last_error = 0, 0, None, None
    start = time.monotonic()
    end = start + seconds
    now = start
    while now < end:
        try:
            with socket.create_connection((GUEST_IP, HTTPS_PORT), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname=GUEST_IP) as tls:
                    cipher = tls.cipher()[0]
            count += 1
        except (OSError, ssl.SSLError) as e:
            failures += 1
            last_error = e
            if failures > 10:
                raise BenchError('TLS handshakes keep failing: %s' % e)
        now = time.monotonic()
    elapsed = now - start
    if count == 0:
        raise BenchError('no TLS handshake succeeded in %ds: %s' % (seconds, last_error))
    return {'handshakes': count, 'failures': failures, 'seconds': elapsed,
            'handshakes_per_second': count / elapsed, 'cipher': cipher}


def measure_resumed(seconds, version):
    """Resumed HTTPS requests per second, one after another from one
    client (Python's ssl, Nagle on as by default): a new TCP connection,
    a handshake resuming the first one's session (a TLS 1.2 ticket, a TLS
    1.3 PSK with ECDHE), GET of the small page, read to the end, close.
    What a client that comes back does; a server that delays its ACK of
    the client's last handshake flight makes each one wait for it."""
    ctx = client_context(version)
    request = ('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n'
               % (SMALL_PAGE, GUEST_IP)).encode()
    session, count, resumed, failures = None, 0, 0, 0
    start = time.monotonic()
    end = start + seconds
    now = start
    while now < end:
        try:
            with socket.create_connection((GUEST_IP, HTTPS_PORT), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname=GUEST_IP, session=session) as tls:
                    tls.sendall(request)
                    while tls.recv(65536):
                        pass
                    resumed += tls.session_reused
                    session = tls.session       # with the newest ticket
            count += 1
        except (OSError, ssl.SSLError) as e:
            failures += 1
            if failures > 10:
                raise BenchError('resumed HTTPS requests keep failing: %s' % e)
        now = time.monotonic()
    elapsed = now - start
    return {'requests': count, 'resumed': resumed, 'failures': failures, 'seconds': elapsed,
            'requests_per_second': count / elapsed}


def measure_https(guest, cfg):
    """HTTPS with keep-alive (wrk on the small page) and full handshakes/s."""
    wait_for_port(guest, HTTPS_PORT, 30)
    res = {'session': tls_session_info(), 'wrk': []}
    for c in cfg['https_connections']:
        progress('  wrk https %d connection%s, %s, %ds'
                 % (c, '' if c == 1 else 's', SMALL_PAGE, cfg['wrk_seconds']))
        before = guest.cpu_seconds()
        r = run_wrk(c, cfg['wrk_seconds'], SMALL_PAGE, scheme='https')
        r['qemu_cpu_seconds'] = guest.cpu_seconds() - before
        res['wrk'].append(r)
    for name, version in HANDSHAKE_VERSIONS:
        progress('  full TLS %s handshakes, %ds' % (name, cfg['handshake_seconds']))
        res['handshakes' if name == '1.2' else 'handshakes_' + name] = \
            measure_handshakes(cfg['handshake_seconds'], version)
    for name, version in HANDSHAKE_VERSIONS:
        progress('  resumed TLS %s requests, %ds' % (name, cfg['handshake_seconds']))
        res['resumed_' + name] = measure_resumed(cfg['handshake_seconds'], version)
    return res


IDLE_TLS_CONNECTIONS = 100


def measure_idle_tls_memory(n=IDLE_TLS_CONNECTIONS):
    """What an idle HTTPS connection holds in Limpet's httpd beyond an HTTP
    one: n TLS 1.3 connections opened (handshake done) and left idle, and
    the growth of the heap TLS holds (/_limpet/stats tls.memory.bytes:
    mbedTLS's record buffers, session and transform, and the TLS layer's
    state) over n.  The rest of a connection (TCP PCB, altcp PCB, httpd's
    state) is the same over HTTP."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(DEV_CERT))
    before = guest_stats()['tls']['memory']
    socks = []
    try:
        for _ in range(n):
            raw = socket.create_connection((GUEST_IP, HTTPS_PORT), timeout=10)
            socks.append(ctx.wrap_socket(raw, server_hostname=GUEST_IP))
        time.sleep(1)       # the server's NewSessionTicket sent, its handshake state freed
        after = guest_stats()['tls']['memory']
    finally:
        for s in socks:
            s.close()
    if after['connections'] < before['connections'] + n:
        raise BenchError('only %d of %d idle HTTPS connections open'
                         % (after['connections'] - before['connections'], n))
    return {'connections': n,
            'bytes_per_connection': (after['bytes'] - before['bytes']) / n}


def run_netbench(args, timeout=600, address=GUEST_IP, cpu=None):
    cmd = [str(CLIENT)] + [str(a) for a in args] + ['-a', address, '--json']
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, preexec_fn=pin)
    if p.returncode != 0:
        raise BenchError('%s failed: %s%s' % (' '.join(cmd), p.stdout, p.stderr))
    return json.loads(p.stdout)


@contextlib.contextmanager
def one_cpu(pid):
    """Every thread of process `pid` on one CPU, ours, the lowest we may
    use; yields that CPU (for the client) and restores the threads'
    affinity afterwards.  Threads QEMU starts meanwhile inherit it."""
    cpu = min(os.sched_getaffinity(0))
    saved = {}
    try:
        for tid in map(int, os.listdir('/proc/%d/task' % pid)):
            try:
                saved[tid] = os.sched_getaffinity(tid)
                os.sched_setaffinity(tid, {cpu})
            except ProcessLookupError:
                pass        # a thread that has just ended
        yield cpu
    finally:
        for tid, cpus in saved.items():
            try:
                os.sched_setaffinity(tid, cpus)
            except ProcessLookupError:
                pass


# netbench latency runs twice: once as the scheduler places QEMU's threads
# and the client, once with all of them on one CPU.  A round trip is a chain
# of wake-ups (client -> QEMU's main loop -> the vCPU -> the main loop ->
# client); across CPUs each one costs an inter-processor interrupt, which
# on a host that is itself a VM goes through its hypervisor and dominates
# a round trip that the guest serves in a few microseconds.
LATENCY_PLACEMENTS = (('', None), ('_one_cpu', 'one CPU'))


# netbench runs over IPv4 and then over IPv6, measured the same way, each
# family's results under its own key of a system's raw results.  The IPv6
# runs repeat both latency placements too: a difference between the two
# stacks' costs would show best on one CPU, where the wake-ups across CPUs
# do not drown it.
NETBENCH_FAMILIES = (('netbench', GUEST_IP, ''), ('netbench_ipv6', GUEST_IP6, 'IPv6'))


def measure_netbench(cfg, pid, address=GUEST_IP):
    res = {}
    over = ', over IPv6' if ':' in address else ''
    for proto in ('tcp', 'udp'):
        for suffix, label in LATENCY_PLACEMENTS:
            progress('  netbench latency %s, %d rounds%s%s'
                     % (proto, cfg['lat_rounds'], ', QEMU and client on one CPU' if label else '',
                        over))
            args = ['latency', proto, '-n', cfg['lat_rounds'], '-w', cfg['lat_warmup'], '-t', '1']
            if label:
                with one_cpu(pid) as cpu:
                    r = run_netbench(args, address=address, cpu=cpu)
            else:
                r = run_netbench(args, address=address)
            res['latency_' + proto + suffix] = r
    progress('  netbench bw tcp, %d x 1 MiB%s' % (cfg['bw_tcp_rounds'], over))
    res['bw_tcp'] = run_netbench(['bw', 'tcp', '-n', cfg['bw_tcp_rounds'],
                                  '-w', max(1, cfg['bw_tcp_rounds'] // 100)], address=address)
    # The client's default datagram fills a 1500-byte frame: 1472 bytes
    # over IPv4, 1452 over IPv6.
    progress('  netbench bw udp, %d datagrams of a frame each%s' % (cfg['bw_udp_rounds'], over))
    res['bw_udp'] = run_netbench(['bw', 'udp', '-n', cfg['bw_udp_rounds'],
                                  '-w', max(1, cfg['bw_udp_rounds'] // 100)], address=address)
    return res


def serves_with(make_guest, mb, timeout):
    g = make_guest('%dM' % mb)
    try:
        return wait_http_200(g, timeout) is not None
    finally:
        g.stop()


def bisect_memory(make_guest, lo, hi, step, timeout):
    """The smallest -m (MiB, to `step`) that boots and serves, knowing hi
    does; lo is assumed not to.  None when even hi fails."""
    if not serves_with(make_guest, hi, timeout):
        return None
    while hi - lo > step:
        mid = (lo + hi) // 2
        if serves_with(make_guest, mid, timeout):
            hi = mid
        else:
            lo = mid
    return hi


# ---- density: how many instances one host holds --------------------------------

DENSITY_PORT = 20000          # instance i forwards 127.0.0.1:DENSITY_PORT+i (in the namespace)
DENSITY_RESERVE_MIB = 2048    # host memory left free: no instance is started into it


class DensityGuest:
    """httpd on microvm with QEMU's user network, its port forwarded on
    the namespace's loopback: no tap each, as a fleet on one host would
    not have one per instance either."""

    def __init__(self, image, mem_mib, index):
        self.port = DENSITY_PORT + index
        netdev = qemu.user_netdev([(self.port, 80)], udp=False)
        cmd = qemu.command('microvm', image, qemu.USER_NET_IP4_ARGS, mem='%dM' % mem_mib,
                           accel=ACCEL, serial='null',
                           extra=['-netdev', netdev] + qemu.nic('microvm'))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def healthy(self):
        """Whether GET /_limpet/stats answers 200 now."""
        try:
            with socket.create_connection(('127.0.0.1', self.port), timeout=5) as c:
                c.sendall(b'GET /_limpet/stats HTTP/1.1\r\nHost: x\r\n'
                          b'Connection: close\r\n\r\n')
                c.settimeout(10)
                return re.match(rb'HTTP/1\.[01] 200 ', c.recv(64)) is not None
        except OSError:
            return False

    def memory_kib(self):
        """QEMU's proportional set size (shared pages split among the
        QEMUs that map them), from smaps_rollup; None once it is gone."""
        try:
            with open('/proc/%d/smaps_rollup' % self.proc.pid) as f:
                m = re.search(r'^Pss:\s+(\d+) kB', f.read(), re.M)
        except OSError:
            return None
        return int(m.group(1)) if m else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def mem_available_mib():
    with open('/proc/meminfo') as f:
        return int(re.search(r'^MemAvailable:\s+(\d+) kB', f.read(), re.M).group(1)) // 1024


def measure_density(image, mem_mib, cap, wave):
    """Start instances `wave` at a time until `cap`, until a wave does not
    all answer within 120 s, or until the next wave would eat into
    DENSITY_RESERVE_MIB; then check that every one still answers.  The
    first wave, started on an empty host, gives the boot rate."""
    guests, rates, stopped_by = [], [], 'the cap of %d' % cap
    per_instance = None
    try:
        while len(guests) < cap:
            n = min(wave, cap - len(guests))
            if mem_available_mib() < n * (per_instance or 64) + DENSITY_RESERVE_MIB:
                stopped_by = 'host memory (%d MiB kept free)' % DENSITY_RESERVE_MIB
                break
            start = time.monotonic()
            new = [DensityGuest(image, mem_mib, len(guests) + i) for i in range(n)]
            guests += new
            waiting = list(new)
            while waiting and time.monotonic() - start < 120:
                waiting = [g for g in waiting if g.proc.poll() is None and not g.healthy()]
                if waiting:
                    time.sleep(0.05)
            dead = sum(1 for g in new if g.proc.poll() is not None)
            if waiting or dead:
                stopped_by = ('%d of a wave of %d did not answer within 120 s'
                              % (len(waiting) + dead, n))
                break
            rates.append(n / (time.monotonic() - start))
            kib = [k for k in (g.memory_kib() for g in new) if k is not None]
            per_instance = max(kib) // 1024 + 1 if kib else per_instance
        healthy = sum(1 for g in guests if g.healthy())
        pss = [k / 1024 for k in (g.memory_kib() for g in guests) if k is not None]
    finally:
        for g in guests:
            g.stop()
    return {'instances_healthy': healthy, 'instances_started': len(guests),
            'stopped_by': stopped_by, 'memory_mib': mem_mib, 'wave': wave,
            'boots_per_second_first_wave': rates[0] if rates else None,
            'boots_per_second_per_cpu': rates[0] / (os.cpu_count() or 1) if rates else None,
            'qemu_pss_mib': median(pss)}


# ---- results ---------------------------------------------------------------------

def median(xs):
    return statistics.median(xs) if xs else None


def ratio(limpet, linux, better):
    """How many times better Limpet is (> 1: Limpet wins)."""
    if limpet is None or linux is None or limpet == 0 or linux == 0:
        return None
    return linux / limpet if better == 'lower' else limpet / linux


def row(group, name, unit, better, limpet, linux, note=''):
    return {'group': group, 'name': name, 'unit': unit, 'better': better,
            'limpet': limpet, 'linux': linux, 'ratio': ratio(limpet, linux, better),
            'note': note}


def make_rows(raw):
    """The table's rows from the raw measurements (what is missing is None)."""
    rows = []
    lim, lin = raw.get('limpet', {}), raw.get('linux', {})
    floor = raw.get('floor', {})
    for m in MACHINES:
        fl = median(floor.get(m, []))
        rows.append(row('boot', 'boot to first HTTP 200, %s (median)' % m, 'ms', 'lower',
                        ms(median(lim.get('boot', {}).get(m, []))),
                        ms(median(lin.get('boot', {}).get(m, []))),
                        'Limpet by PVH; QEMU floor %.1f ms' % (fl * 1e3) if fl is not None
                        else 'Limpet by PVH'))
    for m, times in sorted(lim.get('boot_loader', {}).items()):
        pvh, loader = median(lim.get('boot', {}).get(m, [])), median(times)
        rows.append(row('boot', 'boot to first HTTP 200, %s, by the multiboot loader (median)'
                        % m, 'ms', 'lower', ms(loader), None,
                        'as GRUB boots it; PVH is %.1f ms faster' % ((loader - pvh) * 1e3)
                        if pvh is not None and loader is not None else 'as GRUB boots it'))
    for m in MACHINES:
        fl = median(floor.get(m, []))
        b = median(lim.get('boot', {}).get(m, []))
        if fl is not None and b is not None:
            rows.append(row('boot', 'Limpet boot above the QEMU floor, %s' % m, 'ms',
                            'lower', ms(b - fl), None,
                            'the floor runs to QEMU\'s exit, teardown included: '
                            'near 0 is at the floor'))
    for path, label in ((SMALL_PAGE, 'small page'), (BIG_FILE, '1 MiB file')):
        for key, unit, better, what in (('requests_per_second', 'req/s', 'higher', 'requests/s'),
                                        ('p50_ms', 'ms', 'lower', 'p50'),
                                        ('p99_ms', 'ms', 'lower', 'p99')):
            conns = sorted({r['connections'] for r in lim.get('http', []) + lin.get('http', [])
                            if r['path'] == path})
            for c in conns:
                rows.append(row('http', 'HTTP %s, %s, %d conn.' % (label, what, c), unit, better,
                                http_value(lim, path, c, key), http_value(lin, path, c, key)))
    many_lim, many_lin = lim.get('many', []), lin.get('many', [])
    for c in sorted({r['connections'] for r in many_lim + many_lin}):
        def mv(rs, key, c=c):
            for r in rs:
                if r['connections'] == c:
                    return r.get(key)
            return None
        for key, unit, better, what in (('requests_per_second', 'req/s', 'higher', 'requests/s'),
                                        ('p50_ms', 'ms', 'lower', 'p50'),
                                        ('p99_ms', 'ms', 'lower', 'p99'),
                                        ('established', 'conn.', 'higher',
                                         'connections established at 80% of the run'),
                                        ('errors', 'errors', 'lower', 'wrk socket errors')):
            note = ''
            if key == 'requests_per_second':
                note = 'wrk -t%d --timeout %s, keep-alive' % (MANY_THREADS, MANY_TIMEOUT)
            rows.append(row('many', 'HTTP small page, %d conn., %s' % (c, what), unit, better,
                            mv(many_lim, key), mv(many_lin, key), note))
        ev, rf = mv(many_lim, 'evicted'), mv(many_lim, 'refused')
        if ev is not None:
            rows.append(row('many', 'HTTP small page, %d conn., evicted + refused by httpd' % c,
                            'conn.', 'lower', ev + rf, None,
                            'httpd --max-conns %s (default) of %s TCP connections'
                            % (mv(many_lim, 'max_conns'), mv(many_lim, 'tcp_capacity'))))
    if lim.get('capacity_64m'):
        cap = lim['capacity_64m']
        rows.append(row('many', 'TCP connections Limpet httpd holds in -m %s' % CAPACITY_MEMORY,
                        'conn.', 'higher', cap['tcp_capacity'], None,
                        'sized at boot; httpd serves %d at once (--max-conns default)'
                        % cap['max_conns']))
    hs_lim, hs_lin = lim.get('https', {}), lin.get('https', {})
    for key, unit, better, what in (('requests_per_second', 'req/s', 'higher', 'requests/s'),
                                    ('p50_ms', 'ms', 'lower', 'p50'),
                                    ('p99_ms', 'ms', 'lower', 'p99')):
        conns = sorted({r['connections'] for r in hs_lim.get('wrk', []) + hs_lin.get('wrk', [])})
        for c in conns:
            note = ''
            if key == 'requests_per_second' and c == conns[0]:
                note = tls_note(hs_lim, hs_lin)
            rows.append(row('https', 'HTTPS small page, keep-alive, %s, %d conn.' % (what, c),
                            unit, better, https_value(hs_lim, c, key),
                            https_value(hs_lin, c, key), note))
    for name, _ in HANDSHAKE_VERSIONS:
        key = 'handshakes' if name == '1.2' else 'handshakes_' + name
        if not (hs_lim.get(key) or hs_lin.get(key)):
            continue
        what = 'TLS 1.2, %s' % HANDSHAKE_CIPHER if name == '1.2' else \
            'TLS 1.3, %s' % (hs_lim.get(key) or hs_lin.get(key)).get('cipher')
        rows.append(row('https', 'HTTPS full handshakes/s (%s, 1 client)' % what,
                        'conn/s', 'higher',
                        hs_lim.get(key, {}).get('handshakes_per_second'),
                        hs_lin.get(key, {}).get('handshakes_per_second'),
                        'a new connection each, no resumption; certificate verified'))
    for name, _ in HANDSHAKE_VERSIONS:
        key = 'resumed_' + name
        if not (hs_lim.get(key) or hs_lin.get(key)):
            continue
        lim_r, lin_r = hs_lim.get(key, {}), hs_lin.get(key, {})
        rows.append(row('https', 'HTTPS resumed requests/s (TLS %s, new connection, GET, '
                        '1 client)' % name, 'req/s', 'higher',
                        lim_r.get('requests_per_second'), lin_r.get('requests_per_second'),
                        '%s of %s resumed on Limpet' % (lim_r.get('resumed'),
                                                       lim_r.get('requests'))
                        if lim_r else ''))
    idle = hs_lim.get('idle_memory')
    if idle:
        rows.append(row('https', 'HTTPS memory per idle connection, above HTTP', 'KiB', 'lower',
                        idle['bytes_per_connection'] / 1024, None,
                        'TLS heap (tls.memory) over %d idle TLS 1.3 connections'
                        % idle['connections']))
    for section, address, family in NETBENCH_FAMILIES:
        # IPv4's rows always (as published since the first run); IPv6's
        # when either system was measured over it.
        if family and not (lim.get(section) or lin.get(section)):
            continue
        fam = ', ' + family if family else ''
        for suffix, label in LATENCY_PLACEMENTS:
            for proto in ('tcp', 'udp'):
                for key in ('p50', 'p99', 'mean'):
                    name = 'netbench latency %s, 64 B, %s%s%s' % (
                        proto, key, ', ' + label if label else '', fam)
                    note = ''
                    if label and key == 'p50':
                        note = 'QEMU\'s threads and the client pinned to one CPU'
                    elif family and key == 'p50' and proto == 'tcp':
                        note = 'to %s, measured as the IPv4 rows are' % address
                    rows.append(row('netbench', name, 'us', 'lower',
                                    nb_value(lim, 'latency_' + proto + suffix, key, section),
                                    nb_value(lin, 'latency_' + proto + suffix, key, section),
                                    note))
        for proto in ('tcp', 'udp'):
            rows.append(row('netbench', 'netbench bandwidth %s%s' % (proto, fam), 'Mbit/s',
                            'higher',
                            nb_value(lim, 'bw_' + proto, 'megabits_per_second', section),
                            nb_value(lin, 'bw_' + proto, 'megabits_per_second', section),
                            udp_note(lim, lin, section) if proto == 'udp' else ''))
    rows.append(row('size', 'image size (stripped; Linux: vmlinuz + initramfs)', 'KiB', 'lower',
                    kib(lim.get('image_bytes')), kib(lin.get('image_bytes')),
                    'both hold the site, 1 MiB file included'))
    rows.append(row('size', 'smallest -m that boots and serves (microvm)', 'MiB', 'lower',
                    lim.get('min_memory_mib'), lin.get('min_memory_mib'),
                    'the image above'))
    if lim.get('default_image_bytes') is not None:
        rows.append(row('size', 'httpd image with its default site (stripped)', 'KiB', 'lower',
                        kib(lim.get('default_image_bytes')), None,
                        'services/httpd/www: %s'
                        % plural(lim.get('default_site_files', 0), 'file')))
        rows.append(row('size', 'smallest -m: httpd with its default site (microvm)', 'MiB',
                        'lower', lim.get('default_min_memory_mib'), None))
    d = lim.get('density')
    if d:
        rows.append(row('density', 'httpd instances held at once, each answering (microvm, '
                        '-m %d MiB)' % d['memory_mib'], 'VMs', 'higher',
                        d['instances_healthy'], None,
                        'of %d started; stopped by %s' % (d['instances_started'],
                                                          d['stopped_by'])))
        rows.append(row('density', 'boots per second per host CPU (%d started at once)'
                        % d['wave'], '1/s', 'higher', d['boots_per_second_per_cpu'], None,
                        'to every one answering; OSv: 25/s per CPU, under KVM'))
        pss = d.get('qemu_pss_mib')
        rows.append(row('density', "memory per instance: QEMU's PSS, the guest's -m in it",
                        'MiB', 'lower', pss, None,
                        'the guest: %d MiB; QEMU itself: %.1f MiB'
                        % (d['memory_mib'], pss - d['memory_mib']) if pss is not None
                        else ''))
    rows.append(row('cost', 'QEMU CPU time per 10,000 requests (small page, 8 conn.)', 's',
                    'lower', cpu_per_10k(lim), cpu_per_10k(lin)))
    rows.append(row('cost', 'QEMU resident memory after boot (%s, -m %s)'
                    % (SERVE_MACHINE, MEMORY), 'MiB', 'lower', lim.get('rss_mib'),
                    lin.get('rss_mib')))
    return rows


def ms(seconds):
    return None if seconds is None else seconds * 1e3


def kib(n):
    return None if n is None else n / 1024


def http_value(sys_raw, path, conns, key):
    for r in sys_raw.get('http', []):
        if r['path'] == path and r['connections'] == conns:
            return r.get(key)
    return None


def https_value(https_raw, conns, key):
    for r in https_raw.get('wrk', []):
        if r['connections'] == conns:
            return r.get(key)
    return None


def tls_note(hs_lim, hs_lin):
    """What wrk's OpenSSL negotiates with each server, e.g. "TLSv1.2,
    ECDHE-ECDSA-AES256-GCM-SHA384, X25519 on both"."""
    def desc(h):
        s = h.get('session') or {}
        return ', '.join(s[k] for k in ('protocol', 'cipher', 'group') if s.get(k)) or None
    a, b = desc(hs_lim), desc(hs_lin)
    if a and b:
        return '%s on both' % a if a == b else 'Limpet %s; Linux %s' % (a, b)
    if a or b:
        return '%s %s' % ('Limpet' if a else 'Linux', a or b)
    return ''


def nb_value(sys_raw, test, key, section='netbench'):
    """A netbench result of one system: section is 'netbench' (IPv4) or
    'netbench_ipv6' (NETBENCH_FAMILIES)."""
    r = sys_raw.get(section, {}).get(test)
    if r is None:
        return None
    return r['round_trip_us'].get(key) if 'round_trip_us' in r else r.get(key)


def udp_note(lim, lin, section='netbench'):
    """What each system lost of the UDP bandwidth run; over IPv6 also the
    datagram size, which is smaller than IPv4's."""
    parts = []
    for name, s in (('Limpet', lim), ('Linux', lin)):
        v = nb_value(s, 'bw_udp', 'loss_percent', section)
        if v is not None:
            parts.append('%s lost %.1f%%' % (name, v))
    if section != 'netbench':
        size = nb_value(lim, 'bw_udp', 'size', section) or \
            nb_value(lin, 'bw_udp', 'size', section)
        size4 = nb_value(lim, 'bw_udp', 'size') or nb_value(lin, 'bw_udp', 'size')
        if size is not None:
            parts.append('%d-B datagrams%s, a 1500-byte frame each'
                         % (size, ' (IPv4: %d B)' % size4 if size4 else ''))
    return ', '.join(parts)


def cpu_per_10k(sys_raw):
    for r in sys_raw.get('http', []):
        if r['path'] == SMALL_PAGE and r['connections'] == 8 and r['requests']:
            return r['qemu_cpu_seconds'] / r['requests'] * 10000
    return None


def fmt(v):
    if v is None:
        return '–'
    if abs(v) >= 100:
        return '%.0f' % v
    if abs(v) >= 10:
        return '%.1f' % v
    return '%.2f' % v


def write_markdown(results, path):
    m = results['machine']
    lines = ['# Limpet vs. a Linux VM (nginx)', '',
             'Measured %s on %d CPUs (%s), QEMU %s, accelerator %s%s; %s run in %.0f s.'
             % (results['date'], m['cpus'], m['cpu'], m['qemu'], m['accel'].upper(),
                ' (emulation: absolute numbers are far below KVM\'s)' if m['accel'] == 'tcg'
                else '', 'quick' if results['quick'] else 'full',
                results.get('duration_seconds') or 0), '',
             'Advantage: how many times better Limpet is (above 1: Limpet wins).', '',
             '| Measure | Unit | Limpet | Linux (nginx) | Limpet advantage | Note |',
             '|---|---|---:|---:|---:|---|']
    for r in results['rows']:
        lines.append('| %s | %s | %s | %s | %s | %s |' % (
            r['name'], r['unit'], fmt(r['limpet']), fmt(r['linux']),
            '–' if r['ratio'] is None else '%.2f×' % r['ratio'], r['note']))
    if results.get('errors'):
        lines += ['', 'Steps that failed:', '']
        lines += ['- ' + e.split('\n')[0] for e in results['errors']]
    Path(path).write_text('\n'.join(lines) + '\n')


def write_charts(results, outdir):
    """PNG bar charts with gnuplot; returns the files written."""
    if not shutil.which('gnuplot'):
        return []
    charts = {
        'boot.png': ('Boot to first HTTP 200 (ms, median)', 'boot'),
        'http.png': ('HTTP requests/s, small page', 'http'),
        'https.png': ('HTTPS requests/s, small page, keep-alive', 'https'),
        'latency.png': ('netbench round trip, 64 B (us)', 'netbench'),
    }
    written = []
    for name, (title, group) in charts.items():
        rows = [r for r in results['rows'] if r['group'] == group and
                (group != 'http' or ('small page, requests/s' in r['name'])) and
                (group != 'https' or 'requests/s' in r['name']) and
                (group != 'netbench' or ('latency' in r['name'] and 'mean' not in r['name']
                                         and 'IPv6' not in r['name'])) and
                (group != 'boot' or r['name'].startswith('boot to')) and
                (r['limpet'] is not None or r['linux'] is not None)]
        if not rows:
            continue
        data = Path(outdir) / (name[:-4] + '.dat')
        with open(data, 'w') as f:
            for r in rows:
                label = (r['name'].replace('boot to first HTTP 200, ', '')
                         .replace(' (median)', '').replace('HTTP small page, requests/s, ', '')
                         .replace('netbench latency ', '').replace(', 64 B,', '')
                         .replace(', one CPU', '\\none CPU')
                         .replace('HTTPS small page, keep-alive, requests/s, ', ''))
                f.write('"%s" %s %s\n' % (label, 'NaN' if r['limpet'] is None else r['limpet'],
                                          'NaN' if r['linux'] is None else r['linux']))
        script = '''
set terminal pngcairo size 800,450 font "sans,10"
set output "%s"
set title "%s\\n%s, %s, QEMU %s"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set key top left
set bmargin 4
plot "%s" using 2:xtic(1) title "Limpet", "" using 3 title "Linux (nginx)"
''' % (Path(outdir) / name, title, results['date'][:10], results['machine']['accel'].upper(),
       results['machine']['qemu'], data)
        p = subprocess.run(['gnuplot'], input=script, capture_output=True, text=True)
        if p.returncode == 0:
            written.append(str(Path(outdir) / name))
        else:
            progress('gnuplot failed for %s: %s' % (name, p.stderr.strip()))
        data.unlink()
    return written


def write_results(results, outdir, charts=True):
    """results.json, results.md and the charts under outdir."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    results['rows'] = make_rows(results['raw'])
    results['charts'] = write_charts(results, outdir) if charts else []
    with open(outdir / 'results.json', 'w') as f:
        json.dump(results, f, indent=1, sort_keys=True)
        f.write('\n')
    write_markdown(results, outdir / 'results.md')
    return results


# ---- the run ---------------------------------------------------------------------

def run_inside(opts):
    cfg = QUICK if opts.quick else FULL
    started = time.monotonic()
    www = Path(opts.www)
    raw = {'limpet': {}, 'floor': {}, 'config': dict(cfg, memory=MEMORY,
                                                       serve_machine=SERVE_MACHINE)}
    if opts.baseline:
        raw['linux'] = {}
    results = {'date': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
               'machine': machine_info(ACCEL), 'quick': opts.quick, 'raw': raw, 'errors': []}
    lim, lin = raw['limpet'], raw.get('linux')
    images = {m: httpd_image(build_platform(m), www) for m in MACHINES}
    default_image = default_httpd_image(build_platform('microvm'))
    tls_image = httpd_image(build_platform(SERVE_MACHINE), www, tls=True)
    for p in list(images.values()) + [tls_image, DEV_CERT, netbench_image('pc'), LOADER,
                                      CLIENT, EXIT_IMAGE, default_image]:
        if not p.exists():
            raise BenchError('%s is missing (./limpet bench builds it)' % p)
    boots = {m: boot_copy(p) for m, p in images.items()}

    def step(what, fn):
        progress(what)
        try:
            fn()
        except (BenchError, subprocess.SubprocessError, OSError, ValueError) as e:
            results['errors'].append('%s: %s' % (what, e))
            progress('FAILED: %s' % str(e).split('\n')[0])

    # Sizes.
    lim['image_bytes'] = stripped_size(images[SERVE_MACHINE])
    lim['image_file_bytes'] = images[SERVE_MACHINE].stat().st_size
    lim['default_image_bytes'] = stripped_size(default_image)
    lim['default_site_files'] = sum(1 for f in (TOP / 'services' / 'httpd' / 'www').rglob('*')
                                    if f.is_file())
    if lin is not None:
        lin['image_bytes'] = sum((BASELINE / f).stat().st_size
                                 for f in ('vmlinuz', 'initramfs.cpio'))

    # (a) boot time, next to QEMU's floor.
    for m in MACHINES:
        def floor(m=m):
            raw['floor'][m] = measure_floor(m, cfg['floor_runs'])
        step('QEMU floor on %s: %d runs of exit.elf' % (m, cfg['floor_runs']), floor)

        def limpet_boots(m=m):
            t, _ = measure_boots(lambda: limpet_guest(m, boots[m]), cfg['limpet_boots'], 30,
                                 'Limpet httpd on %s' % m)
            lim.setdefault('boot', {})[m] = t
        step('boot Limpet httpd on %s: %s' % (m, plural(cfg['limpet_boots'], 'boot')), limpet_boots)
        if m == 'microvm':
            def loader_boots(m=m):
                t, _ = measure_boots(lambda: limpet_guest(m, boots[m], via='loader'),
                                     cfg['limpet_boots'], 30, 'Limpet httpd on %s by the loader' % m)
                lim.setdefault('boot_loader', {})[m] = t
            step('boot Limpet httpd on %s by the multiboot loader: %s'
                 % (m, plural(cfg['limpet_boots'], 'boot')), loader_boots)
        if lin is not None:
            def linux_boots(m=m):
                t, _ = measure_boots(lambda: linux_guest(m), cfg['linux_boots'], 120,
                                     'the Linux VM on %s' % m)
                lin.setdefault('boot', {})[m] = t
            step('boot the Linux VM on %s: %s' % (m, plural(cfg['linux_boots'], 'boot')),
                 linux_boots)

    # (b, e, f) HTTP with wrk, QEMU CPU time per request, RSS after boot.
    def http_limpet():
        g = limpet_guest(SERVE_MACHINE, boots[SERVE_MACHINE], tag='limpet-http')
        try:
            boot_or_fail(g, 30, 'Limpet httpd')
            lim['rss_mib'] = g.rss_mib()
            lim['http'] = measure_http(g, cfg)
        finally:
            g.stop()
    step('HTTP on Limpet httpd (%s)' % SERVE_MACHINE, http_limpet)

    # Many connections, and the capacity in -m 64M.
    def many_limpet():
        g = limpet_guest(SERVE_MACHINE, boots[SERVE_MACHINE], tag='limpet-many')
        try:
            boot_or_fail(g, 30, 'Limpet httpd')
            lim['many'] = measure_many(cfg, limpet=True)
        finally:
            g.stop()
        g = limpet_guest(SERVE_MACHINE, boots[SERVE_MACHINE], mem=CAPACITY_MEMORY,
                         tag='limpet-capacity')
        try:
            boot_or_fail(g, 30, 'Limpet httpd in -m %s' % CAPACITY_MEMORY)
            st = guest_stats()
            lim['capacity_64m'] = {'tcp_capacity': st['tcp_capacity'],
                                   'max_conns': st['max_conns']}
        finally:
            g.stop()
    step('HTTP with many connections on Limpet httpd (%s)' % SERVE_MACHINE, many_limpet)

    # HTTPS: httpd built with tls=1 (HTTP on 80 too, which tells it is up).
    def https_limpet():
        g = limpet_guest(SERVE_MACHINE, boot_copy(tls_image), tag='limpet-https')
        try:
            boot_or_fail(g, 30, 'Limpet httpd (tls=1)')
            lim['https'] = measure_https(g, cfg)
            progress('  memory of %d idle HTTPS connections' % IDLE_TLS_CONNECTIONS)
            lim['https']['idle_memory'] = measure_idle_tls_memory()
        finally:
            g.stop()
    step('HTTPS on Limpet httpd, tls=1 (%s)' % SERVE_MACHINE, https_limpet)

    # (c) netbench, over IPv4 and then over IPv6 (a step of its own, so
    # that its failure keeps IPv4's results).
    def netbench_ipv6(g, sys_raw, who):
        def measure():
            # Limpet's static address serves after duplicate address
            # detection, about a second after boot.
            wait_for_port(g, 5002, 30, GUEST_IP6)
            sys_raw['netbench_ipv6'] = measure_netbench(cfg, g.proc.pid, GUEST_IP6)
        step('netbench over IPv6 on %s (%s)' % (who, SERVE_MACHINE), measure)

    def nb_limpet():
        g = limpet_guest(SERVE_MACHINE, boot_copy(netbench_image('pc')), tag='limpet-netbench')
        try:
            wait_for_port(g, 5002, 30)
            lim['netbench'] = measure_netbench(cfg, g.proc.pid)
            netbench_ipv6(g, lim, 'Limpet')
        finally:
            g.stop()
    step('netbench on Limpet (%s)' % SERVE_MACHINE, nb_limpet)

    if lin is not None:
        def linux_serving():
            g = linux_guest(SERVE_MACHINE, tag='linux-serve')
            try:
                boot_or_fail(g, 120, 'the Linux VM')
                lin['rss_mib'] = g.rss_mib()
                progress('HTTP on Linux nginx (%s)' % SERVE_MACHINE)
                lin['http'] = measure_http(g, cfg)

                def many_linux():
                    lin['many'] = measure_many(cfg, limpet=False)
                step('HTTP with many connections on Linux nginx (%s)' % SERVE_MACHINE,
                     many_linux)

                def https_linux():
                    lin['https'] = measure_https(g, cfg)
                step('HTTPS on Linux nginx (%s)' % SERVE_MACHINE, https_linux)
                progress('netbench on Linux (%s)' % SERVE_MACHINE)
                wait_for_port(g, 5002, 30)
                lin['netbench'] = measure_netbench(cfg, g.proc.pid)
                netbench_ipv6(g, lin, 'Linux')
            finally:
                g.stop()
        step('the Linux VM on %s: HTTP and netbench' % SERVE_MACHINE, linux_serving)

    # (d) the smallest -m that boots and serves, on microvm.
    def bisect_limpet():
        lim['min_memory_mib'] = bisect_memory(
            lambda mem: limpet_guest('microvm', boots['microvm'], mem, tag='limpet-mem'),
            0, 64, 1, 20)
    step('smallest -m for Limpet (bisecting 1..64 MiB)', bisect_limpet)

    def bisect_default():
        img = boot_copy(default_image)
        lim['default_min_memory_mib'] = bisect_memory(
            lambda mem: limpet_guest('microvm', img, mem, tag='limpet-mem-default'),
            0, 64, 1, 20)
    step('smallest -m for Limpet httpd with its default site', bisect_default)

    def density():
        img = boot_copy(default_image)
        mem = lim.get('default_min_memory_mib') or 4
        lim['density'] = measure_density(img, mem, cfg['density_cap'], cfg['density_wave'])
    step('density: httpd instances on microvm, %d at a time up to %d'
         % (cfg['density_wave'], cfg['density_cap']), density)
    if lin is not None and cfg['bisect_linux']:
        def bisect_linux():
            lin['min_memory_mib'] = bisect_memory(
                lambda mem: linux_guest('microvm', mem, tag='linux-mem'), 16, 256, 8, 90)
        step('smallest -m for the Linux VM (bisecting 16..256 MiB, to 8 MiB)', bisect_linux)

    results['duration_seconds'] = time.monotonic() - started
    write_results(results, opts.out)
    return results


def wait_for_port(guest, port, timeout, address=GUEST_IP):
    """Until the guest accepts a TCP connection to address and port
    (timeout s from now)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if guest.proc.poll() is not None:
            break
        try:
            socket.create_connection((address, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise BenchError('nothing listens on %s port %d after %ds (console: %s):\n%s'
                     % (address, port, timeout, guest.log, guest.console()[-2000:]))


def run_outside(opts, argv):
    """Create the namespace, run ourselves inside it, clean up."""
    if os.geteuid() != 0:
        sys.exit('bench: needs root (it creates a network namespace and a tap device)')
    ns = 'limpet-bench-%d' % os.getpid()
    progress('namespace %s with %s (host %s and %s, guest %s and %s)'
             % (ns, TAP, GATEWAY, GATEWAY6, GUEST_IP, GUEST_IP6))
    subprocess.run([str(TAP_SETUP), '--netns', ns], check=True, stdout=subprocess.DEVNULL)
    child = None
    try:
        # ARP retries every 10 ms, so that polling a booting guest is not
        # rounded up to the default second.
        subprocess.run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw',
                        'net.ipv4.neigh.%s.retrans_time_ms=10' % TAP], check=True)
        child = subprocess.Popen(['ip', 'netns', 'exec', ns, sys.executable, __file__,
                                  '--inside'] + argv)
        rc = child.wait()
    except KeyboardInterrupt:
        rc = 130
    finally:
        # Everything still in the namespace was started by this bench.
        pids = subprocess.run(['ip', 'netns', 'pids', ns], capture_output=True,
                              text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        if child is not None and child.poll() is None:
            child.wait()
        subprocess.run(['ip', 'netns', 'del', ns], check=False)
    return rc


def parse_args(argv):
    ap = argparse.ArgumentParser(prog='./limpet bench', description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='a reduced set, in a few minutes')
    ap.add_argument('--no-baseline', dest='baseline', action='store_false',
                    help='Limpet only: no Linux VM')
    ap.add_argument('--out', default=str(TOP / 'build' / 'bench'),
                    help='where results go (default build/bench)')
    ap.add_argument('--www', default=str(TOP / 'build' / 'bench' / 'www'),
                    help='the site both servers serve (./limpet bench makes it)')
    ap.add_argument('--inside', action='store_true', help=argparse.SUPPRESS)
    return ap.parse_args(argv)


ACCEL = qemu.accelerator()
TSC_KHZ = tsc_khz()
LOGS = TOP / 'build' / 'bench' / 'logs'


def main(argv):
    global LOGS
    opts = parse_args(argv)
    if not opts.inside:
        return run_outside(opts, argv)
    LOGS = Path(opts.out) / 'logs'
    LOGS.mkdir(parents=True, exist_ok=True)
    progress('%s, QEMU accelerator %s%s' % ('quick run' if opts.quick else 'full run',
                                             ACCEL.upper(), '' if opts.baseline
                                             else ', Limpet only'))
    try:
        results = run_inside(opts)
    except BenchError as e:
        progress('FAILED: %s' % e)
        return 1
    progress('wrote %s, %s%s' % (Path(opts.out) / 'results.json', Path(opts.out) / 'results.md',
                                 ''.join(', ' + c for c in results['charts'])))
    print(Path(opts.out, 'results.md').read_text(), end='')
    return 1 if results['errors'] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
