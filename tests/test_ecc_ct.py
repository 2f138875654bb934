"""Constant time of our elliptic-curve code, P-256 (net/tls/p256.c) and
X25519 (net/tls/x25519.c), checked on what the compiler made of it.

tests/ct/ecc_ct.c signs, computes ECDH shared secrets and X25519 with the
secrets marked undefined for valgrind's memcheck, which then reports any
branch or memory address that depends on them.  It is linked with:
- the images' own object files (build/pc-MODE-LOG-tls/net/tls/), for every
  mode and log level scons offers: what an image runs;
- the same sources built with the images' compiler flags at every
  optimisation level, with gcc and with clang: what any build could run.
A harness that branches on a secret itself must be caught, or the check
proves nothing.  Host-only: no guest is booted.
"""
import functools
import hashlib
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import TOP, paths

HARNESS = TOP / 'tests' / 'ct' / 'ecc_ct.c'
SOURCES = ('p256', 'x25519')
MODES = paths.MODES
LEVELS = ('-O0', '-O1', '-O2', '-O3', '-Os', '-Og')
WANT = 'ecc_ct: 8 signatures, 8 shared secrets, 8 x25519'


def log_levels():
    """scons' log levels (site_scons/limpet/paths.py)."""
    return paths.LOG_LEVELS


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail('%s is missing: ./limpet setup installs it' % tool)


def tls_dir(mode, log):
    return 'build/pc-%s-%s-tls/net/tls' % (mode, log)


@functools.lru_cache(maxsize=None)
def build_image_objects(mode, log):
    """scons builds this variant's p256.o and x25519.o afresh (so that it
    prints their command lines: V=1), once per run; returns {source:
    command line}."""
    targets = ['%s/%s.o' % (tls_dir(mode, log), s) for s in SOURCES]
    for t in targets:
        (TOP / t).unlink(missing_ok=True)
    r = subprocess.run(['scons', '-Q', 'V=1', 'service=httpd', 'tls=1', 'mode=' + mode,
                        'log=' + log] + targets,
                       cwd=TOP, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    cmds = {}
    for line in r.stdout.splitlines():
        words = shlex.split(line)
        for s in SOURCES:
            if words and words[-1] == 'net/tls/%s.c' % s:
                cmds[s] = words
    assert set(cmds) == set(SOURCES), 'no compile command in scons output:\n' + r.stdout
    return cmds


def code_digest(objs, tmp_path):
    """A digest of the objects' code and data, debug information left out,
    so that variants that compile to the same code are run once."""
    h = hashlib.sha256()
    for o in objs:
        stripped = tmp_path / ('stripped-' + o.name)
        subprocess.run(['objcopy', '--strip-debug', str(o), str(stripped)], check=True)
        h.update(stripped.read_bytes())
    return h.hexdigest()[:16]


def link(tmp_path, name, objs, *defines):
    exe = tmp_path / name
    # -no-pie: the images' objects are not position-independent.
    cmd = ['gcc', '-O2', '-g', '-no-pie', '-Wall', '-Wextra', '-Werror',
           '-I', str(TOP / 'net' / 'tls'), '-o', str(exe)] + list(defines) + \
        [str(HARNESS)] + [str(o) for o in objs]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, ' '.join(cmd) + '\n' + r.stderr
    return exe


def memcheck(exe):
    return subprocess.run(['valgrind', '-q', '--error-exitcode=99', str(exe)],
                          capture_output=True, text=True, timeout=900)


def assert_constant_time(exe, what):
    r = memcheck(exe)
    assert r.returncode == 0 and 'uninitialised' not in r.stderr, \
        '%s: memcheck found secret-dependent code:\n%s%s' % (what, r.stdout, r.stderr[-6000:])
    assert WANT in r.stdout, what + ': ' + r.stdout + r.stderr


def test_image_objects_constant_time(tmp_path):
    """Every mode and log level: the objects the images link."""
    need('valgrind')
    groups = {}
    for mode in MODES:
        for log in log_levels():
            build_image_objects(mode, log)
            objs = [TOP / tls_dir(mode, log) / (s + '.o') for s in SOURCES]
            groups.setdefault(code_digest(objs, tmp_path), []).append((mode, log, objs))
    # At least the two modes' code differs (-Og, -O2).
    assert len(groups) >= len(MODES), groups.keys()
    for digest, variants in groups.items():
        names = ', '.join('%s-%s' % (m, l) for m, l, _ in variants)
        exe = link(tmp_path, 'ecc_ct-' + digest, variants[0][2])
        assert_constant_time(exe, 'images ' + names)


@pytest.fixture(scope='module')
def release_cmds():
    """The release image's compile command lines."""
    return build_image_objects('release', 'info')


@pytest.mark.parametrize('compiler', ['gcc', 'clang'])
@pytest.mark.parametrize('level', LEVELS)
def test_every_optimisation_level(tmp_path, release_cmds, compiler, level):
    """The images' own compiler flags, at every level, with gcc and clang."""
    need('valgrind')
    need(compiler)
    objs = []
    for s, words in release_cmds.items():
        out = tmp_path / (s + '.o')
        cmd = [compiler]
        skip = False
        for w in words[1:]:
            if skip:
                skip = False
                continue
            if w == '-o':
                skip = True
                continue
            if re.fullmatch(r'-O[0-3sg]', w):
                continue
            cmd.append(w)
        if compiler == 'clang':
            # clang has its own freestanding headers (stddef.h, stdint.h).
            i = cmd.index('-isystem')
            del cmd[i:i + 2]
            res = subprocess.run(['clang', '-print-resource-dir'], capture_output=True,
                                 text=True, check=True).stdout.strip()
            cmd[1:1] = ['-isystem', res + '/include']
            # clang 14 writes DWARF 5, which Debian 12's valgrind cannot read.
            cmd = ['-gdwarf-4' if w == '-g' else w for w in cmd]
        cmd += [level, '-o', str(out)]
        r = subprocess.run(cmd, cwd=TOP, capture_output=True, text=True)
        assert r.returncode == 0, ' '.join(cmd) + '\n' + r.stderr
        objs.append(out)
    assert_constant_time(link(tmp_path, 'ecc_ct', objs), '%s %s' % (compiler, level))


def test_check_catches_a_branch(tmp_path, release_cmds):
    """A harness that branches on a secret must be reported."""
    need('valgrind')
    objs = [TOP / tls_dir('release', 'info') / (s + '.o') for s in SOURCES]
    r = memcheck(link(tmp_path, 'ecc_ct-leaky', objs, '-DCT_SELF_CHECK'))
    assert r.returncode == 99, r.stdout + r.stderr
    assert 'Conditional jump or move depends on uninitialised value(s)' in r.stderr, r.stderr
