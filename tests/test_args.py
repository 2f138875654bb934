"""Application arguments: what follows "--" reaches main's argv intact."""

import re

import pytest

from conftest import boot, describe

ARGV = re.compile(r'^argv\[(\d+)\] \((\d+)\) \[(.*)\]$', re.M)


def argv_of(r):
    """The argv test_args printed, checked against the lengths it gave."""
    assert r.status == 0 and 'test_args: OK' in r.output, describe(r)
    argv = []
    for i, n, text in ARGV.findall(r.output):
        assert int(i) == len(argv), describe(r)
        assert len(text.encode()) == int(n), describe(r)
        argv.append(text)
    assert ('argc=%d' % len(argv)) in r.output, describe(r)
    return argv


CASES = {
    'none': [],
    'simple': ['a', 'b', 'c'],
    'spaces': ['hello world', '  leading', 'trailing  ', 'tab\there', 'a  b'],
    'quotes': ['say "hi"', "it's", 'back\\slash', '"', '\\', '\\"', '""'],
    'empty': ['', 'x', ''],
    'dashes': ['--', '-freq', '2000', 'log=debug', '--help'],
    'punctuation': ['a=b', 'x,y', 'semi;colon', '$HOME', '*', '<>|&'],
    'utf8': ['ünïcødé', 'κόσμε'],
    'long': ['x' * 400],
    'many': ['arg%d' % i for i in range(60)],
}


@pytest.mark.parametrize('case', CASES)
def test_args_arrive_intact(case):
    argv = argv_of(boot('test_args', app_args=CASES[case]))
    assert argv[0] == 'test_args'
    assert argv[1:] == CASES[case]


def test_no_separator_means_no_args():
    r = boot('test_args', kernel_args='log=info')
    assert argv_of(r) == ['test_args']


def test_kernel_args_do_not_leak():
    r = boot('test_args', kernel_args='-freq 2000 log=info', app_args=['x', '-freq', 'y'])
    assert argv_of(r)[1:] == ['x', '-freq', 'y']


def test_args_on_microvm():
    r = boot('test_args', platform='microvm', app_args=['one two', 'three'])
    assert argv_of(r)[1:] == ['one two', 'three']


def test_too_many_args_is_an_error():
    r = boot('test_args', app_args=['a'] * 100)
    assert r.status > 0 and r.status != 125, describe(r)
    assert 'too many' in r.output, describe(r)
