"""P-256 in constant time (net/tls/p256.c): tests/ct/p256_ct.c signs, and
multiplies a public point (ECDH), with secret keys marked undefined for
valgrind's memcheck, which then reports any branch or memory address that
depends on them.  The same program
built to branch on a secret must be caught, or the check proves nothing.
Host-only: no guest is booted."""

import shutil
import subprocess

import pytest

from conftest import TOP

SOURCES = [TOP / 'tests' / 'ct' / 'p256_ct.c', TOP / 'net' / 'tls' / 'p256.c']


def build(tmp_path, *defines):
    if shutil.which('valgrind') is None:
        pytest.fail('valgrind is missing: ./limpet setup installs it')
    exe = tmp_path / 'p256_ct'
    # -O2 as the guest builds p256.c: the compiler's code is what must not
    # branch, and optimisation is where a branch could appear.
    cmd = ['gcc', '-O2', '-g', '-Wall', '-Wextra', '-Werror', '-DLIMPET_CT_CHECK',
           '-I', str(TOP / 'net' / 'tls'), '-o', str(exe)] + list(defines) + [str(s) for s in SOURCES]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


def memcheck(exe):
    return subprocess.run(['valgrind', '-q', '--error-exitcode=99', str(exe)],
                          capture_output=True, text=True, timeout=600)


def test_p256_constant_time(tmp_path):
    r = memcheck(build(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'uninitialised' not in r.stderr, r.stderr
    assert 'p256_ct: 8 signatures, 8 shared secrets' in r.stdout, r.stdout + r.stderr


def test_p256_constant_time_check_catches_a_branch(tmp_path):
    r = memcheck(build(tmp_path, '-DCT_SELF_CHECK'))
    assert r.returncode == 99, r.stdout + r.stderr
    assert 'Conditional jump or move depends on uninitialised value(s)' in r.stderr, r.stderr
