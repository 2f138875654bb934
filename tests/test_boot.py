"""Boot hello on every platform, and drive the ./limpet front end."""

import os
import re
import stat
import time

import pytest

from conftest import TOP, boot, describe, image_path, limpet

GREETING = 'Hello from Limpet! args: a b'
BANNER = re.compile(r'^Limpet: hello on (pc|microvm), (debug|release) build', re.M)
BOOT_TIME = re.compile(r'boot took (\d+) us', re.M)


@pytest.mark.parametrize('platform', ['pc', 'q35', 'microvm'])
def test_hello_boots(platform):
    r = boot('hello', platform, app_args=['a', 'b'])
    status, out = r
    assert status == 0, describe(r)
    assert BANNER.search(out), describe(r)
    assert GREETING in out, describe(r)
    assert BOOT_TIME.search(out), describe(r)
    assert 'hello: timer fired' in out, describe(r)


def test_hello_no_args():
    r = boot('hello', app_args=[])
    assert r.status == 0 and 'Hello from Limpet! args: (none)' in r.output, describe(r)


def test_hello_release_build():
    r = boot('hello', mode='release', app_args=['a', 'b'])
    assert r.status == 0, describe(r)
    assert 'release build' in r.output and GREETING in r.output, describe(r)


def test_boot_is_fast():
    """The kernel reports its own boot time; even under TCG it is short."""
    r = boot('hello')
    m = BOOT_TIME.search(r.output)
    assert r.status == 0 and m, describe(r)
    assert int(m.group(1)) < 1000000, describe(r)


# ---- the front end ----------------------------------------------------------

def test_limpet_run_hello():
    p = limpet('run', 'hello', '--', 'a', 'b')
    assert p.returncode == 0, p.stdout + p.stderr
    assert GREETING in p.stdout, p.stdout + p.stderr
    assert BANNER.search(p.stdout.replace('\r', '')), p.stdout


def test_limpet_run_microvm():
    p = limpet('run', 'hello', '--platform', 'microvm', '--', 'a', 'b')
    assert p.returncode == 0, p.stdout + p.stderr
    assert GREETING in p.stdout and 'hello on microvm' in p.stdout, p.stdout + p.stderr


def test_limpet_run_passes_status_and_quotes():
    p = limpet('run', 'test_exit', '--', 'main', '42')
    assert p.returncode == 42, p.stdout + p.stderr
    p = limpet('run', 'test_args', '--kernel-args', 'log=info', '--', 'two words', 'q"t')
    assert p.returncode == 0, p.stdout + p.stderr
    assert 'argv[1] (9) [two words]' in p.stdout and 'argv[2] (3) [q"t]' in p.stdout, p.stdout


def test_limpet_run_fault_names_address():
    p = limpet('run', 'test_fault', '--', 'unmapped')
    assert p.returncode == 125, p.stdout + p.stderr
    assert '0x00000000dead0000' in p.stdout, p.stdout


def test_limpet_build_prints_image():
    p = limpet('build', 'hello')
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == 'build/pc-debug-info/hello.elf', p.stdout


def test_limpet_help():
    for args in (['help'], ['-h'], ['--help']):
        p = limpet(*args)
        assert p.returncode == 0 and 'run SERVICE' in p.stdout and 'test' in p.stdout, args
    for cmd in ('setup', 'build', 'run', 'test'):
        p = limpet('help', cmd)
        assert p.returncode == 0 and p.stdout.startswith('Usage: ./limpet ' + cmd), cmd
    p = limpet('run', '-h')
    assert p.returncode == 0 and '--platform' in p.stdout
    p = limpet('frobnicate')
    assert p.returncode == 2 and 'no such command' in p.stderr


def test_limpet_run_bad_options():
    p = limpet('run', 'hello', '--platform', 'vax')
    assert p.returncode == 2 and 'pc, q35, microvm' in p.stderr, p.stderr
    p = limpet('run', 'hello', '--timeout', 'soon')
    assert p.returncode == 2, p.stderr


@pytest.fixture
def fake_qemu(tmp_path):
    """A stand-in for qemu-system-x86_64 that runs a given shell body."""
    def make(body):
        path = tmp_path / 'qemu'
        path.write_text('#!/bin/sh\n' + body + '\n')
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return {'LIMPET_QEMU': str(path)}
    return make


def test_limpet_reports_guest_reset(fake_qemu):
    p = limpet('run', 'hello', '--no-build', env=fake_qemu('exit 0'))
    assert p.returncode == 128, p.stderr
    assert p.stderr.count('\n') == 1 and 'guest reset' in p.stderr, p.stderr


def test_limpet_reports_qemu_failure(fake_qemu):
    p = limpet('run', 'hello', '--no-build', env=fake_qemu('echo "qemu: bad option" >&2; exit 1'))
    assert p.returncode == 127, p.stderr
    assert 'QEMU failed to start' in p.stderr, p.stderr
    # And for real: QEMU refuses this memory size.
    p = limpet('run', 'hello', '--no-build', '-m', 'lots')
    assert p.returncode == 127 and 'QEMU failed to start' in p.stderr, p.stderr


def test_limpet_timeout(fake_qemu):
    start = time.monotonic()
    p = limpet('run', 'hello', '--no-build', '--timeout', '1', env=fake_qemu('exec sleep 30'))
    assert p.returncode == 129 and 'timeout' in p.stderr, p.stderr
    assert time.monotonic() - start < 10


def test_limpet_passes_append(fake_qemu):
    """The -append value: kernel args, "--", the app args quoted."""
    env = fake_qemu('for a; do printf "<%s>\\n" "$a"; done; exit 3')
    p = limpet('run', 'hello', '--no-build', '--kernel-args', '-freq 2000', '--',
               'a b', 'c"d', 'e\\f', '', 'g', env=env)
    assert p.returncode == 0, p.stderr
    assert '<-freq 2000 -- "a b" "c\\"d" "e\\\\f" "" g>' in p.stdout, p.stdout
    p = limpet('run', 'hello', '--no-build', env=env)
    assert '<-append>\n<>\n' in p.stdout, p.stdout


# ---- scons ------------------------------------------------------------------

def scons(*args):
    import subprocess
    return subprocess.run(['scons', '-Q'] + list(args), cwd=TOP, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


def test_scons_unknown_service_lists_services():
    p = scons('service=nosuch')
    assert p.returncode != 0
    out = p.stdout + p.stderr
    assert 'nosuch' in out and 'hello' in out and 'test_timers' in out, out


def test_scons_unknown_platform_lists_platforms():
    p = scons('platform=nosuch')
    assert p.returncode != 0
    out = p.stdout + p.stderr
    assert 'pc' in out and 'microvm' in out, out


@pytest.mark.parametrize('option', ['mode=fast', 'log=loud'])
def test_scons_bad_values_list_choices(option):
    p = scons(option)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert ('debug' in out and 'release' in out) or ('error' in out and 'trace' in out), out


def test_scons_second_build_does_nothing():
    p = scons('service=hello')
    assert p.returncode == 0, p.stderr
    work = [l for l in p.stdout.splitlines()
            if not l.startswith('image: ') and not l.endswith("' is up to date.")]
    assert work == [], p.stdout


def test_variants_build_apart():
    for v in ('pc-debug-info', 'microvm-debug-info', 'pc-debug-debug', 'pc-release-info'):
        assert (TOP / 'build' / v / 'hello.elf').exists(), v
