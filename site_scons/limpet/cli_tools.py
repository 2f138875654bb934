"""./limpet bench, soak, deploy and image: each a Python program of its
own (netbench/bench.py, tests/soak.py, scripts/deploy.py,
scripts/image.py) after the setup and the builds it needs."""

import os
import random
import shutil
import subprocess
import sys

from .front import PROG, Parser, die, ensure_setup, scons, usage_error
from .paths import TOP

PYTHON = '/usr/bin/python3'

HELP_BENCH = """\
Usage: {prog} bench [--quick] [--no-baseline]

Measures Limpet against a minimal Linux VM (Debian's cloud kernel, a
busybox init, nginx: netbench/baseline/build.sh) on the same QEMU line:
boot time to the first HTTP 200 next to QEMU's own start-up floor (q35
and microvm), HTTP with wrk (1, 8, 64 connections; a small page and a
1 MiB file; and 512 and 10,000 kept-alive connections on the page,
with httpd's evictions), HTTPS with wrk (1, 8 connections, keep-alive) and full
TLS handshakes per second (httpd built with tls=1; nginx with the same
certificate, key and suites), netbench latency (TCP, UDP; as the
scheduler places QEMU and the client, and all on one CPU) and bandwidth,
over IPv4 and again over IPv6, image size, the smallest -m that boots
and serves, QEMU's CPU time per 10,000 requests and its resident
memory.  Builds what it needs first (release images of httpd, with and
without TLS, and netbench, the host programs, the Linux VM, cached in
build/baseline/).

Needs root: everything runs inside a network namespace the bench creates
(limpet-bench-PID, tap10) and deletes afterwards.  Writes
build/bench/results.json, results.md (the table) and PNG charts
(gnuplot), with a progress line per step.  The full run takes up to
30 minutes under TCG on 2 cores.

Options:
  --quick        a reduced set (fewer boots and rounds, shorter wrk runs,
                 no -m bisection for Linux): a few minutes
  --no-baseline  Limpet only: no Linux VM
"""

HELP_SOAK = """\
Usage: {prog} soak httpd --minutes N [--net user|tap] [--mode debug|release]
                         [--round-seconds S] [--bursts N]

Runs httpd under the hostile battery (tests/httpd_battery.py) in rounds
until N minutes have passed, at least one round.  Each round: for S
seconds (default 60) all at once, malformed and hostile requests
(tests/test_httpd.py's cases, 2,000 headers, a TLS ClientHello on port
80, a request trickled in over seconds), bursts of 500 concurrent
connections, 1,000 slowloris connections (slowhttptest), clients that
stop reading in the middle of a 1 MiB body, reset storms, half-closed
connections, UDP datagrams up to 64 KiB, and over tap the malformed and
hostile frames of tests/hostile.py; a health check (GET /) every second.
Then N times (default 20) the sequence of issue 12: the hostile requests,
then at once some 30 connections with a different edge case each, then a
health check.  Then every connection, lwIP pool entry, lwIP heap byte and
receive buffer must come back to what the quiet server had.

The site is httpd's own plus a 1 MiB file (build/soak/www), built into
its own image first.  A line per round says how it went (requests, lost
health checks, what is in use); the last line is the verdict.  Exits 1 on
a lost health check, a bad answer, a failed frame battery, anything not
back to its baseline, a device reset (driver.device_resets), a virtio
error from QEMU, a fault or error on the console, or the guest's death;
the first one ends the soak.  The battery's own log goes to build/soak/.

Options:
  --net user|tap      QEMU's user network (default: 127.0.0.1, a free
                      port) or tap inside a network namespace that the
                      soak makes and deletes (needs root)
  --mode debug|release  the build (default debug)
  --round-seconds S   the mixed part of a round (default 60)
  --bursts N          the sequences of issue 12 per round (default 20)

Examples:
  {prog} soak httpd --minutes 30 --mode release
  sudo {prog} soak httpd --minutes 30 --net tap
"""


def execv(script, args):
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(PYTHON, [PYTHON, script] + list(args))


# ---- bench -----------------------------------------------------------------

def installed(package):
    p = subprocess.run(['dpkg-query', '-W', '-f=${Status}', package], capture_output=True,
                       text=True)
    return 'install ok installed' in p.stdout


def help_bench():
    sys.stdout.write(HELP_BENCH.format(prog=PROG))
    return 0


def cmd_bench(args):
    p = Parser('bench', help_bench)
    p.add_argument('--quick', action='store_true')
    p.add_argument('--no-baseline', dest='baseline', action='store_false')
    o = p.parse_args(args)
    quick, baseline = o.quick, o.baseline
    if os.geteuid() != 0:
        die('bench needs root (it creates a network namespace and a tap device)')
    ensure_setup()
    # The bench's own tools: gnuplot for the charts, cpio for the Linux
    # VM's initramfs.
    missing = [p for p in ('gnuplot-nox', 'cpio') if not installed(p)]
    if missing:
        print('bench: installing %s' % ' '.join(missing), file=sys.stderr, flush=True)
        if subprocess.call(['apt-get', 'install', '-y', '-q', '--no-install-recommends']
                           + missing, stdout=subprocess.DEVNULL,
                           env=dict(os.environ, DEBIAN_FRONTEND='noninteractive')) != 0:
            die('apt-get install %s failed' % ' '.join(missing))
    # The site both servers serve: httpd's default page and 1 MiB of
    # incompressible bytes, the same on every run (so the images are
    # built once).
    www = 'build/bench/www'
    os.makedirs(www, exist_ok=True)
    shutil.copy2('services/httpd/www/index.html', www + '/index.html')
    if not os.path.isfile(www + '/1mb.bin'):
        with open(www + '/1mb.bin', 'wb') as f:
            f.write(random.Random(6).randbytes(1 << 20))
    top_www = '%s/%s' % (TOP, www)
    # Release images; the default targets include the loader and
    # netbench's host programs.
    print('bench: building release images and the host programs', file=sys.stderr, flush=True)
    for v in ('pc', 'microvm'):
        if scons('service=httpd,netbench', 'platform=' + v, 'mode=release',
                 'www=' + top_www) != 0:
            die('build failed (platform=%s)' % v)
    # httpd with its default site, for the size rows.
    if scons('service=httpd', 'platform=microvm', 'mode=release') != 0:
        die('build failed (httpd with its default site)')
    # httpd with TLS, for the HTTPS rows (q35 only); it embeds the
    # development certificate, which the Linux VM's nginx serves too.
    if scons('service=httpd', 'platform=pc', 'mode=release', 'tls=1', 'www=' + top_www) != 0:
        die('build failed (tls=1)')
    if baseline:
        if subprocess.call(['netbench/baseline/build.sh', '--www', www, '--cert',
                            'build/tls/dev-cert.pem', '--key', 'build/tls/dev-key.pem']) != 0:
            die("the Linux VM's build failed")
    more = (['--quick'] if quick else []) + ([] if baseline else ['--no-baseline'])
    sys.stdout.flush()
    return subprocess.call([PYTHON, 'netbench/bench.py', '--www', top_www] + more)


# ---- soak ------------------------------------------------------------------

def help_soak():
    sys.stdout.write(HELP_SOAK.format(prog=PROG))
    return 0


# The options tests/soak.py takes; it checks their values itself.
SOAK_OPTIONS = ('--minutes', '--net', '--mode', '--round-seconds', '--bursts')


def cmd_soak(args):
    p = Parser('soak', help_soak)
    p.add_argument('service', nargs='*')
    for name in SOAK_OPTIONS:
        p.add_argument(name)
    o = p.parse_intermixed_args(args)
    if len(o.service) > 1:
        usage_error('soak: one SERVICE only')
    service = o.service[0] if o.service else None
    minutes, net = o.minutes is not None, o.net or 'user'
    passed = []
    for name in SOAK_OPTIONS:
        value = getattr(o, name[2:].replace('-', '_'))
        if value is not None:
            passed.append('%s=%s' % (name, value))
    if service is None:
        usage_error('soak needs a SERVICE (httpd)')
    if service != 'httpd':
        usage_error("soak: only httpd has a battery, not '%s'" % service)
    if not minutes:
        usage_error('soak needs --minutes N')
    if net == 'tap' and os.geteuid() != 0:
        die('soak --net tap needs root (it creates a network namespace and a tap device)')
    ensure_setup()
    # The soak's own checks of its arguments (numbers, choices) come from
    # tests/soak.py's parser, with a usage status.
    execv('tests/soak.py', passed)


# ---- deploy and image --------------------------------------------------------

def help_deploy():
    return subprocess.call([PYTHON, str(TOP / 'scripts' / 'deploy.py'), '--help'])


def cmd_deploy(args):
    if args[:1] in (['-h'], ['--help']):
        return help_deploy()
    ensure_setup()
    execv(str(TOP / 'scripts' / 'deploy.py'), args)


def help_image():
    return subprocess.call([PYTHON, str(TOP / 'scripts' / 'image.py'), '--help'])


def cmd_image(args):
    if args[:1] in (['-h'], ['--help']):
        return help_image()
    ensure_setup()
    execv(str(TOP / 'scripts' / 'image.py'), args)
