"""The in-guest tests: each service checks itself and reports through its
exit status and a final "<name>: OK" line."""

import pytest

from conftest import boot, describe


def passes(r, name):
    status, out = r
    assert status == 0, describe(r)
    assert out.rstrip().endswith('%s: OK' % name) or ('%s: OK\n' % name) in out, describe(r)
    assert 'FAILED' not in out, describe(r)


@pytest.mark.parametrize('platform', ['pc', 'microvm'])
def test_timers(platform):
    passes(boot('test_timers', platform=platform, timeout=60), 'test_timers')


@pytest.mark.parametrize('platform', ['pc', 'microvm'])
def test_malloc(platform):
    r = boot('test_malloc', platform=platform, timeout=60)
    passes(r, 'test_malloc')
    assert 'out of memory' in r.output, describe(r)


@pytest.mark.parametrize('platform', ['pc', 'q35', 'microvm'])
def test_libc(platform):
    passes(boot('test_libc', platform=platform), 'test_libc')


@pytest.mark.parametrize('how,status,expect', [
    ('return', 0, 'returning 0, unflushed'),
    ('return', 3, 'returning 3, unflushed'),
    ('main', 42, 'exit(42) from main, unflushed'),
    ('main', 126, 'exit(126) from main, unflushed'),
    ('callback', 7, 'callback 7 from a callback, unflushed'),
    ('stop', 9, 'limpet_run() returned 9'),
    ('stop', 0, 'limpet_run() returned 0'),
])
def test_exit(how, status, expect):
    r = boot('test_exit', app_args=[how, str(status)])
    assert r.status == status, describe(r)
    assert expect in r.output and 'test_exit: atexit ran' in r.output, describe(r)
    assert 'FAILED' not in r.output, describe(r)


def test_exit_status_is_clamped():
    r = boot('test_exit', app_args=['main', '200'])
    assert r.status == 126, describe(r)


def test_exit_on_microvm():
    r = boot('test_exit', platform='microvm', app_args=['callback', '5'])
    assert r.status == 5, describe(r)
