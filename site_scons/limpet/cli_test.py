"""./limpet test: build every option set, run every test, count."""

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

from .front import PROG, Parser, ensure_setup, say, scons, usage_error

HELP_TEST = """\
Usage: {prog} test

Runs setup, builds every service (tests/guest/* included) for pc and
microvm, in debug and release mode, httpd at the log levels error and
debug, and httpd with TLS (tls=1: debug and release on pc, debug on
microvm), plus the host unit tests ('scons unit') and the fuzz targets
('scons fuzz', clang); runs each unit test program (cmocka), each fuzz target
(tests/fuzz/fuzz_*.c) for a bounded time on a copy of tests/fuzz/corpus/
(one test each; findings are kept in build/fuzz/artifacts/), then the
booted tests with pytest (tests/*.py), and ends with the line
'N passed, N failed'.  Exits non-zero if anything failed.
PYTEST_ARGS adds arguments to pytest (e.g. PYTEST_ARGS='-k timers');
LIMPET_FUZZ_SECONDS sets the fuzzing time per target (default 30).
"""

# Every option set a user can choose builds: every service on both
# platforms (what the tests boot), release (with its -O2 warnings) for
# every service, the lowest and highest log levels for the services the
# tests boot in them and for httpd, and TLS on and off: httpd with tls=1
# (debug, which the HTTPS tests boot, and release, and on microvm); every
# other image is tls=0.
SERVICE_BUILDS = ('service=all platform=pc', 'service=all platform=microvm')
VARIANT_BUILDS = ('service=all mode=release', 'service=all mode=release platform=microvm',
                  'service=hello,httpd log=debug', 'service=httpd log=error',
                  'service=httpd tls=1', 'service=httpd tls=1 mode=release',
                  'service=httpd tls=1 platform=microvm')


def out(line):
    print(line, flush=True)


def junit_counts(path):
    """(passed, failed) from pytest's JUnit XML: errors count as failures,
    skipped tests as neither."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return 0, 1
    suites = [root] if root.tag == 'testsuite' else list(root)
    tot = sum(int(s.get('tests', 0)) for s in suites)
    bad = sum(int(s.get('failures', 0)) + int(s.get('errors', 0)) for s in suites)
    skip = sum(int(s.get('skipped', 0)) for s in suites)
    return tot - bad - skip, bad


def fuzz_seconds():
    return os.environ.get('LIMPET_FUZZ_SECONDS') or '30'


def run_fuzz(name):
    """build/fuzz/NAME for LIMPET_FUZZ_SECONDS on a copy of
    tests/fuzz/corpus/ (the repository is not written); a crash, a leak, a
    sanitizer report or a timeout fails it.  What it found is kept in
    build/fuzz/artifacts/NAME/ for replaying ('build/fuzz/NAME FILE')."""
    binary, secs = 'build/fuzz/' + name, int(fuzz_seconds())
    art = 'build/fuzz/artifacts/' + name
    if not os.access(binary, os.X_OK):
        say('limpet: %s was not built' % binary)
        return False
    corpus = tempfile.mkdtemp(prefix='limpet-fuzz.')
    if os.path.isdir('tests/fuzz/corpus'):
        shutil.copytree('tests/fuzz/corpus', corpus, dirs_exist_ok=True)
    shutil.rmtree(art, ignore_errors=True)
    os.makedirs(art)
    log = art + '/fuzz.log'
    with open(log, 'wb') as f:
        rc = subprocess.call(['timeout', '-k', '10', str(secs + 60), binary,
                              '-max_total_time=%d' % secs, '-timeout=10', '-rss_limit_mb=2048',
                              '-print_final_stats=1', '-artifact_prefix=%s/' % art, corpus],
                             stdout=f, stderr=subprocess.STDOUT)
    shutil.rmtree(corpus, ignore_errors=True)
    with open(log, errors='replace') as f:
        lines = f.read().splitlines()
    keep = [l for l in lines if re.match(r'^(#[0-9]+\s+DONE|stat::number_of_executed_units'
                                         r'|INFO: Running with)', l)]
    for l in keep[-3:]:
        out(l)
    if rc != 0:
        say('limpet: %s failed (exit %d); the end of %s:' % (name, rc, log))
        for l in lines[-40:]:
            say(l)
        return False
    return True


def help_test():
    sys.stdout.write(HELP_TEST.format(prog=PROG))
    return 0


def cmd_test(args):
    p = Parser('test', help_test)
    p.add_argument('extra', nargs='*')
    if p.parse_args(args).extra:
        usage_error('test takes no arguments (use PYTEST_ARGS)')
    start = time.monotonic()
    ensure_setup()
    passed = failed = 0

    for v in SERVICE_BUILDS:
        out('== build: ' + v)
        if scons(*v.split()) != 0:
            say('limpet: build failed (%s)' % v)
            failed += 1
    for v in VARIANT_BUILDS:
        out('== build: ' + v)
        if scons(*v.split()) != 0:
            say('limpet: build failed (%s)' % v)
            failed += 1
    for target, what in (('unit', 'unit tests'), ('fuzz', 'fuzz targets')):
        out('== build: ' + target)
        if scons(target) != 0:
            say('limpet: build failed (%s)' % what)
            failed += 1

    # Host unit tests: each cmocka program prints its own summary.
    for src in sorted(glob.glob('tests/unit/test_*.c')):
        name = os.path.basename(src)[:-2]
        t = 'build/unit/' + name
        out('== unit: ' + name)
        if not os.access(t, os.X_OK):
            say('limpet: %s was not built' % t)
            failed += 1
            continue
        p = subprocess.run([t], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        text = p.stdout.decode('utf-8', 'replace').rstrip('\n')
        out(text)
        ok = re.findall(r'^\[  PASSED  \] ([0-9]+) test', text, re.M)
        bad = re.findall(r'^\[  FAILED  \] ([0-9]+) test', text, re.M)
        passed += int(ok[-1]) if ok else 0
        if bad and int(bad[-1]) > 0:
            failed += int(bad[-1])
        elif p.returncode != 0:
            # Crashed, or a sanitizer complained after the summary.
            say('limpet: %s exited with status %d' % (t, p.returncode))
            failed += 1

    # Fuzz targets: each runs for a bounded time on a copy of its corpus
    # and counts as one test.
    for src in sorted(glob.glob('tests/fuzz/fuzz_*.c')):
        name = os.path.basename(src)[:-2]
        out('== fuzz: %s (%ss)' % (name, fuzz_seconds()))
        if run_fuzz(name):
            passed += 1
        else:
            failed += 1

    # Booted tests.
    out('== pytest')
    xml = 'build/pytest-results.xml'
    if os.path.exists(xml):
        os.unlink(xml)
    rc = subprocess.call(['/usr/bin/python3', '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                          '--junitxml=' + xml] + shlex.split(os.environ.get('PYTEST_ARGS', ''))
                         + ['tests/'])
    if rc in (0, 1):
        n, bad = junit_counts(xml)
        passed += n
        failed += bad
        if rc != 0 and bad == 0:
            failed += 1
    elif rc == 5:
        say('limpet: pytest collected no tests')
    else:
        say('limpet: pytest failed to run (exit %d)' % rc)
        failed += 1

    out('== done in %ds' % (time.monotonic() - start))
    out('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 else 1
