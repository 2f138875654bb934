#!/usr/bin/python3
"""./limpet soak: httpd under the hostile battery (tests/httpd_battery.py),
round after round, over QEMU's user network or over tap; also what
tests/test_httpd_hostile.py runs, for one short round.

  soak.py --minutes N [--net user|tap] [--mode debug|release]
          [--round-seconds S] [--bursts N] [--no-build]

The site is httpd's own (services/httpd/www) plus a 1 MiB file, in
build/soak/www, built into an image of its own (./limpet build httpd
www=build/soak/www).  The guest boots with httpd's default limits; its
baseline (what is in use on the quiet server) is read from
/_limpet/stats.  Then rounds run until N minutes have passed (at least
one): each is --round-seconds of everything at once, then --bursts times
the sequence of issue 12 (hostile requests, then a burst of edge cases),
then the wait for every connection, pool entry and buffer to come back.
After each round a line says how it went, and at the end a verdict.

A round fails on: a lost health check, a bad answer, a failed run of the
frame battery, anything in use above the baseline a minute after the
load (connections, lwIP's pools and heap, the netif's receive buffers),
a device reset (driver.device_resets), a virtio error from QEMU (its
"virtio-net ..." and "virtio: ..." messages), a fault, panic, assertion
or error line on the console, or the guest's death.  The first failure
ends the soak; the exit status is then 1.

Over tap the guest and every client run inside a network namespace of the
soak's own (limpet-soak-PID-N, made with scripts/tap-setup.sh --netns,
deleted at the end): that needs root.  Over the user network every byte
goes to 127.0.0.1, to a free port forwarded to the guest.
"""

import argparse
import itertools
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from httpd_battery import free_port

TOP = Path(__file__).resolve().parent.parent
LIMPET = TOP / 'limpet'
TAP_SETUP = TOP / 'scripts' / 'tap-setup.sh'
BATTERY = TOP / 'tests' / 'httpd_battery.py'
PYTHON = '/usr/bin/python3'
SOAK_DIR = TOP / 'build' / 'soak'
SITE = SOAK_DIR / 'www'
DEFAULT_SITE = TOP / 'services' / 'httpd' / 'www'
GUEST_IP = '10.0.5.3'       # httpd's compiled-in address (scons ip= default)

READY = re.compile(r'^httpd: listening on port 80\b', re.M)
# IPv6's addresses are ready (duplicate address detection passed, their
# multicast groups joined, which the baseline counts: MLD6_GROUP) a second
# or two after the server listens.
READY6 = (re.compile(r'^net: ip6 fe80::\S+ ready \(link-local\)$', re.M),
          re.compile(r'^net: ip6 (?!fe80::)\S+ ready\b', re.M))     # static or SLAAC
# What the kernel prints when it stops on a fault or a panic, lwIP's
# failed assertions, and error log lines (as tests/test_hostile.py).
TROUBLE = re.compile(r'^\*\*\* |^backtrace:|assertion|\]\[ERROR\]', re.M)
# QEMU's complaints about the device: "virtio-net nothing to send",
# "virtio: zero sized buffers are not allowed", ...
VIRTIO_ERROR = re.compile(r'^.*\bvirtio(?:-net)?\b.*$', re.M | re.I)

_names = itertools.count()


class SoakError(Exception):
    pass


def make_site():
    """build/soak/www: httpd's default site and BIG, a 1 MiB file of
    incompressible bytes, the same on every run (files are rewritten only
    when they differ, so that the image is built once)."""
    import random
    SITE.mkdir(parents=True, exist_ok=True)
    for src in sorted(DEFAULT_SITE.rglob('*')):
        dst = SITE / src.relative_to(DEFAULT_SITE)
        if src.is_dir():
            dst.mkdir(exist_ok=True)
        elif not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copy2(src, dst)
    big = SITE / 'big.bin'
    data = random.Random(12).randbytes(1 << 20)
    if not big.exists() or big.read_bytes() != data:
        big.write_bytes(data)
    return SITE


def build(mode):
    """The soak's image, built by ./limpet build; its path."""
    make_site()
    p = subprocess.run([str(LIMPET), 'build', 'httpd', 'www=%s' % SITE, 'mode=%s' % mode],
                       cwd=TOP, capture_output=True, text=True, timeout=1200,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise SoakError('the build failed:\n%s%s' % (p.stdout[-3000:], p.stderr[-3000:]))
    return TOP / p.stdout.split()[-1]


def raise_fd_limit():
    """QEMU's user network holds a socket for every connection it
    forwards: let it (and slowhttptest) have thousands."""
    want = 65536
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, want)), hard))


def run(cmd, timeout=60, check=True):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       errors='replace', timeout=timeout, stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise SoakError('%s failed (exit %d):\n%s%s' % (' '.join(map(str, cmd)), p.returncode,
                                                         p.stdout, p.stderr))
    return p


class Namespace:
    """A network namespace of our own with tap10 in it (host 10.0.5.1/24)."""

    def __init__(self):
        if os.geteuid() != 0:
            raise SoakError('the tap network needs root (a network namespace and a tap '
                            'device): run as root, or use --net user')
        self.name = 'limpet-soak-%d-%d' % (os.getpid(), next(_names))
        run([TAP_SETUP, '--netns', self.name])

    def delete(self):
        # Whatever is left in it was started by us: end it by PID.
        for pid in run(['ip', 'netns', 'pids', self.name], check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        run(['ip', 'netns', 'del', self.name], check=False)


class Guest:
    """./limpet run httpd in the background, in a session of its own (QEMU
    goes with it); the serial console (stdout) and QEMU's and the front
    end's messages (stderr) collected apart."""

    def __init__(self, args):
        self.cmd = [str(LIMPET), 'run', 'httpd', '--no-build'] + args
        self.out, self.err = [], []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(self.cmd, cwd=TOP, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self.readers = [threading.Thread(target=self._read, args=(f, lines), daemon=True)
                        for f, lines in ((self.proc.stdout, self.out),
                                         (self.proc.stderr, self.err))]
        for r in self.readers:
            r.start()

    def _read(self, f, lines):
        for raw in f:
            with self.cond:
                lines.append(raw.decode('utf-8', 'replace').replace('\r', '').rstrip('\n'))
                self.cond.notify_all()

    @property
    def console(self):
        with self.cond:
            return '\n'.join(self.out)

    @property
    def stderr(self):
        with self.cond:
            return '\n'.join(self.err)

    def alive(self):
        return self.proc.poll() is None

    def wait_for(self, regex, timeout=60):
        end = time.monotonic() + timeout
        with self.cond:
            while not regex.search('\n'.join(self.out)):
                if time.monotonic() > end or self.proc.poll() is not None:
                    raise SoakError('httpd did not start: no %r within %ds%s'
                                    % (regex.pattern, timeout, self.describe()))
                self.cond.wait(0.2)

    def describe(self, lines=40):
        return ('\ncommand: %s\nexit: %s\n--- console (last %d lines) ---\n%s\n'
                '--- stderr ---\n%s' % (' '.join(self.cmd), self.proc.poll(), lines,
                                        '\n'.join(self.console.splitlines()[-lines:]),
                                        '\n'.join(self.stderr.splitlines()[-lines:])))

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()
        for r in self.readers:
            r.join(5)


def short_usage(u):
    keys = ('open', 'TCP_PCB', 'TCP_SEG', 'PBUF_POOL', 'PBUF_REF/ROM', 'heap', 'rx_held')
    return ', '.join('%s %s' % (k, u[k]) for k in keys if k in u)


class Soak:
    """httpd under the battery: start(), round() as many times as wanted,
    stop().  Each round's result is a dict (tests/httpd_battery.py's)
    plus 'problems', a list of what went wrong (empty: the round passed)."""

    def __init__(self, net='user', mode='debug', round_seconds=60, bursts=20, build_image=True,
                 say=print):
        if net not in ('user', 'tap'):
            raise SoakError('--net must be user or tap')
        if mode not in ('debug', 'release'):
            raise SoakError('--mode must be debug or release')
        self.net, self.mode = net, mode
        self.round_seconds, self.bursts = round_seconds, bursts
        self.build_image = build_image
        self.say = say
        self.guest = self.ns = None
        self.rounds = []
        self.log_path = SOAK_DIR / ('battery-%s-%s-%d.log' % (net, mode, os.getpid()))

    def start(self):
        raise_fd_limit()
        if self.net == 'tap' and os.geteuid() != 0:
            raise SoakError('the tap network needs root (a network namespace and a tap '
                            'device): run as root, or use --net user')
        if self.build_image:
            self.say('soak: building httpd (mode=%s) with build/soak/www' % self.mode)
            build(self.mode)
        else:
            make_site()
        args = ['--mode', self.mode, '--www', str(SITE), '--timeout', '0']
        if self.net == 'user':
            try:
                port = free_port()
            except OSError as e:
                raise SoakError(str(e))
            self.prefix, self.host, self.port = [], '127.0.0.1', port
            args += ['--port', '%d:80' % port]
        else:
            self.ns = Namespace()
            self.prefix = ['ip', 'netns', 'exec', self.ns.name]
            self.host, self.port = GUEST_IP, 80
            args += ['--net', 'tap', '--netns', self.ns.name]
        try:
            self.guest = Guest(args)
            self.guest.wait_for(READY)
            for ready in READY6:
                self.guest.wait_for(ready)
            p = self._battery(['baseline', self.host, str(self.port)], 120)
            self.baseline = p
            self.baseline_file = SOAK_DIR / ('baseline-%d-%s.json' % (os.getpid(), self.net))
            self.baseline_file.write_text(json.dumps(p))
        except BaseException:
            self.stop()
            raise
        self.started = time.monotonic()
        self.say('soak: httpd (%s build) over %s at %s:%d; baseline: %s'
                 % (self.mode, self.net, self.host, self.port, short_usage(self.baseline)))

    def _battery(self, args, timeout):
        """tests/httpd_battery.py with args (inside the namespace over
        tap): its result; its progress lines go to the log file."""
        SOAK_DIR.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, 'a') as logf:
            logf.write('==== %s %s\n' % (time.strftime('%Y-%m-%d %H:%M:%S'), ' '.join(args)))
            logf.flush()
            p = subprocess.Popen(self.prefix + [PYTHON, str(BATTERY)] + args, cwd=TOP,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=logf, start_new_session=True)
            try:
                out, _ = p.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                out, _ = p.communicate()
                raise SoakError('the battery still ran after %ds (log: %s)%s'
                                % (timeout, self.log_path, self.guest.describe()))
        m = re.search(r'^result: (.*)$', out.decode('utf-8', 'replace'), re.M)
        if p.returncode != 0 or not m:
            raise SoakError('the battery failed (exit %d; log: %s):\n%s\n%s%s' % (
                p.returncode, self.log_path, out.decode('utf-8', 'replace')[-2000:],
                self.log_tail(), self.guest.describe() if self.guest else ''))
        return json.loads(m.group(1))

    def log_tail(self, n=40):
        try:
            return '--- battery log (last %d lines) ---\n%s\n' % (
                n, '\n'.join(self.log_path.read_text().splitlines()[-n:]))
        except OSError:
            return ''

    def round(self):
        """One round: the battery, then the checks."""
        n = len(self.rounds) + 1
        args = ['round', self.host, str(self.port), '--site', str(SITE), '--baseline',
                str(self.baseline_file), '--seconds', str(self.round_seconds), '--bursts',
                str(self.bursts), '--seed', str(n)]
        if self.net == 'tap':
            args += ['--frames', 'tap10', '--guest-ip', GUEST_IP]
        else:
            args += ['--user-net']
        r = None
        problems = []
        try:
            r = self._battery(args, self.round_seconds + self.bursts * 90 + 900)
        except SoakError as e:
            problems.append(str(e))
            r = {}
        if r:
            h = r['health']
            if h['lost']:
                problems.append('%d of %d health checks lost: %s'
                                % (h['lost'], h['checks'], '; '.join(h['lost_how'])))
            if r['bad_answers']:
                problems.append('%d bad answers: %s' % (r['bad_answers'], '; '.join(r['bad'])))
            if r['frames']['failed']:
                problems.append('the frame battery failed:\n' +
                                '\n'.join(r['frames']['failed'][:3]))
            if r['sequences']['failed']:
                problems.append('%d of %d hostile-then-burst sequences failed'
                                % (r['sequences']['failed'], r['sequences']['run']))
            if r['grew']:
                problems.append('still in use %.0fs after the load, as {counter: [baseline, '
                                'now]}: %s' % (r['settle_seconds'], r['grew']))
            drv = r['stats'].get('driver') or {}
            if drv.get('device_resets'):
                problems.append('the device was reset %d times (driver.device_resets)'
                                % drv['device_resets'])
        problems += self.guest_problems()
        r['problems'] = problems
        r['round'] = n
        self.rounds.append(r)
        return r

    def guest_problems(self):
        out = []
        if not self.guest.alive():
            out.append('the guest died' + self.guest.describe())
        bad = VIRTIO_ERROR.findall(self.guest.stderr)
        if bad:
            out.append('QEMU reported virtio errors:\n' + '\n'.join(bad[:10]))
        m = TROUBLE.search(self.guest.console)
        if m:
            out.append('the guest reported %r%s' % (m.group(0), self.guest.describe()))
        return out

    def progress(self, r):
        """The line that says how a round went."""
        elapsed = time.monotonic() - self.started
        total = sum(x.get('requests', 0) for x in self.rounds)
        if 'health' not in r:
            return 'soak: round %d, %d:%02d: FAILED' % (r['round'], elapsed // 60, elapsed % 60)
        drv = r['stats'].get('driver') or {}
        return ('soak: round %d, %d:%02d: %d requests (%d in all), health checks %d of %d lost '
                '(slowest %.1fs), %d bad answers, %s, pools %s after %.0fs (%s), '
                'tx_invalid %s, device_resets %s%s'
                % (r['round'], elapsed // 60, elapsed % 60, r['requests'], total,
                   r['health']['lost'], r['health']['checks'], r['health']['slowest'],
                   r['bad_answers'],
                   ('%d frame battery runs (%d frames)' % (r['frames']['runs'],
                                                           r['frames']['frames'])
                    if self.net == 'tap' else 'no frames (user network)'),
                   'NOT back' if r['grew'] else 'back to baseline', r['settle_seconds'],
                   short_usage(r['usage']), drv.get('tx_invalid'), drv.get('device_resets'),
                   '' if not r['problems'] else ': FAILED'))

    def stop(self):
        if self.guest:
            self.guest.stop()
        if self.ns:
            self.ns.delete()
            self.ns = None


def main():
    p = argparse.ArgumentParser(prog='./limpet soak httpd',
                                description=__doc__.split('\n')[0])
    p.add_argument('--minutes', type=float, required=True)
    p.add_argument('--net', choices=('user', 'tap'), default='user')
    p.add_argument('--mode', choices=('debug', 'release'), default='debug')
    p.add_argument('--round-seconds', type=float, default=60)
    p.add_argument('--bursts', type=int, default=20)
    p.add_argument('--no-build', action='store_true')
    a = p.parse_args()
    s = Soak(a.net, a.mode, a.round_seconds, a.bursts, build_image=not a.no_build,
             say=lambda m: print(m, flush=True))
    problems = []
    try:
        s.start()
        end = s.started + a.minutes * 60
        while True:
            r = s.round()
            print(s.progress(r), flush=True)
            if r['problems']:
                problems = r['problems']
                break
            if time.monotonic() >= end:
                break
    except SoakError as e:
        problems = [str(e)]
    except KeyboardInterrupt:
        problems = ['interrupted']
    finally:
        s.stop()
    took = (time.monotonic() - s.started) if hasattr(s, 'started') else 0
    rounds = [r for r in s.rounds if 'health' in r]
    summary = ('%d:%02d over %s (%s build), %d rounds, %d requests, %d of %d health checks '
               'lost, %d hostile-then-burst sequences, %d frames'
               % (took // 60, took % 60, a.net, a.mode, len(s.rounds),
                  sum(r['requests'] for r in rounds), sum(r['health']['lost'] for r in rounds),
                  sum(r['health']['checks'] for r in rounds),
                  sum(r['sequences']['run'] for r in rounds),
                  sum(r['frames']['frames'] for r in rounds)))
    if problems:
        print('soak: FAIL after %s' % summary)
        for pr in problems:
            print('soak: ' + pr)
        print('soak: the battery\'s log: %s' % s.log_path.relative_to(TOP))
        sys.exit(1)
    tx_invalid = rounds[-1]['stats']['driver']['tx_invalid'] if rounds else 0
    print('soak: PASS: %s; every pool back to its baseline after every round, no virtio '
          'error, no device reset, tx_invalid %s' % (summary, tx_invalid))


if __name__ == '__main__':
    main()
