"""Kernel arguments: log=LEVEL, -freq MHz, unknown ones, a bad command line."""

import re

from conftest import boot, describe

DEBUG_LINE = re.compile(r'^\[\s*\d+\.\d{6}\]\[DEBUG\] ', re.M)
INFO_LINE = re.compile(r'^\[\s*\d+\.\d{6}\]\[INFO \] ', re.M)
WARN_LINE = re.compile(r'^\[\s*\d+\.\d{6}\]\[WARN \] (.*)$', re.M)


def test_log_debug_on_a_debug_build():
    r = boot('hello', log='debug', kernel_args='log=debug', app_args=['a', 'b'])
    assert r.status == 0, describe(r)
    assert DEBUG_LINE.search(r.output), describe(r)


def test_debug_build_logs_debug_by_default():
    r = boot('hello', log='debug')
    assert r.status == 0 and DEBUG_LINE.search(r.output), describe(r)


def test_info_build_has_no_debug_lines():
    r = boot('hello')
    assert r.status == 0, describe(r)
    assert INFO_LINE.search(r.output) and not DEBUG_LINE.search(r.output), describe(r)


def test_log_below_compiled_level_is_refused():
    r = boot('hello', kernel_args='log=debug')
    assert r.status == 0, describe(r)
    warnings = WARN_LINE.findall(r.output)
    assert any('log=debug' in w and 'compiled' in w for w in warnings), describe(r)
    assert not DEBUG_LINE.search(r.output), describe(r)


def test_log_can_be_quieter():
    r = boot('hello', log='debug', kernel_args='log=warn', app_args=['a', 'b'])
    assert r.status == 0, describe(r)
    assert not INFO_LINE.search(r.output) and not DEBUG_LINE.search(r.output), describe(r)
    assert 'Hello from Limpet! args: a b' in r.output, describe(r)


def test_log_unknown_level_warns():
    r = boot('hello', kernel_args='log=chatty')
    assert r.status == 0, describe(r)
    assert any('log=chatty' in w for w in WARN_LINE.findall(r.output)), describe(r)


def test_freq_overrides_calibration():
    r = boot('hello', kernel_args='-freq 2000')
    assert r.status == 0, describe(r)
    assert re.search(r'TSC 2000\.000 MHz \(-freq\)', r.output), describe(r)
    assert not WARN_LINE.search(r.output), describe(r)


def test_freq_also_as_key_value():
    r = boot('hello', platform='microvm', kernel_args='freq=1500')
    assert r.status == 0 and 'TSC 1500.000 MHz' in r.output, describe(r)


def test_bad_freq_warns_and_calibrates():
    r = boot('hello', kernel_args='-freq fast')
    assert r.status == 0, describe(r)
    assert any('-freq fast' in w for w in WARN_LINE.findall(r.output)), describe(r)


def test_unknown_kernel_argument_warns_and_boots():
    r = boot('hello', kernel_args='frobnicate=1 -verbose', app_args=['a', 'b'])
    assert r.status == 0, describe(r)
    warnings = WARN_LINE.findall(r.output)
    assert any('frobnicate' in w for w in warnings), describe(r)
    assert any('verbose' in w for w in warnings), describe(r)
    assert 'Hello from Limpet! args: a b' in r.output, describe(r)


def test_unterminated_quote_is_an_error():
    r = boot('hello', cmdline='-- "open')
    assert r.status not in (0, 125) and r.status > 0, describe(r)
    assert 'command line' in r.output and 'quote' in r.output, describe(r)


def test_calibration_without_freq_on_every_platform():
    """Calibration must finish (no PIT on microvm) and be plausible."""
    for platform in ('pc', 'microvm'):
        r = boot('hello', platform=platform)
        m = re.search(r'TSC (\d+)\.\d{3} MHz \((\w+)\)', r.output)
        assert r.status == 0 and m, describe(r)
        assert 100 <= int(m.group(1)) <= 10000, describe(r)
