"""The watchdog: QEMU's i6300esb, armed by watchdog=SECONDS and petted by
the event loop (kernel/watchdog.c, kernel/arch/x86_64/i6300esb.c).

A guest whose loop stops (tests/guest/test_spin spins in a callback) is
reset and boots again under ./limpet run --watchdog; a guest whose loop
keeps turning, idle and halted or busy and never halting, is not reset
over several timeouts; bad values of the kernel argument stop the boot
with a clear error; the front end adds the device and the argument, and
refuses microvm.
"""

import re
import time

import pytest

from conftest import TOP, Console, GUEST_RESET, boot, describe, image_path

DEVICE = ('-device', 'i6300esb', '-action', 'watchdog=reset')
ARMED = re.compile(r'\[INFO \] watchdog: i6300esb at [0-9a-f]{2}:[0-9a-f]{2}\.[0-7] armed: '
                   r'the machine resets when the event loop stops for (\d+) ms '
                   r'\(it pets every (\d+) ms\)')
FIRED = 'the previous boot was reset by the i6300esb watchdog'
BANNER = re.compile(r'^Limpet: test_spin on pc', re.M)


def need_image(platform='pc'):
    img = image_path('test_spin', platform)
    if not img.exists():
        pytest.fail('no image %s: build it with ./limpet build test_spin platform=%s'
                    % (img.relative_to(TOP), platform))


class Spinner(Console):
    """./limpet run test_spin --watchdog SECONDS in the background."""

    who = 'test_spin'

    def __init__(self, platform, seconds):
        need_image(platform)
        self.spawn([str(TOP / 'limpet'), 'run', 'test_spin', '--no-build',
                    '--platform', platform, '--watchdog', str(seconds), '--timeout', '300'])


@pytest.mark.parametrize('platform', ['pc', 'q35'])
def test_a_stopped_loop_is_reset_and_boots_again(platform):
    seconds = 3
    guest = Spinner(platform, seconds)
    try:
        guest.wait_for(re.compile(r'spinning in a callback'), 60)
        spun = time.monotonic()
        # The second boot: the kernel reads the device's timeout flag, arms
        # it again, and the service starts over (and will spin again).
        guest.wait_for(re.compile(
            r'(?s)spinning in a callback.*' + re.escape(FIRED) + r'.*armed: .*'
            r'\nLimpet: test_spin on pc.*\ntest_spin: the loop runs'), 60)
        took = time.monotonic() - spun
        out = guest.output
        assert guest.proc.poll() is None, 'QEMU ended at the reset' + guest.describe()
    finally:
        guest.stop()
    first, rest = out.split('spinning in a callback', 1)
    assert FIRED not in first, 'the first boot blamed the watchdog' + guest.describe()
    assert len(BANNER.findall(first)) == 1 and len(ARMED.findall(first)) == 1, guest.describe()
    assert int(ARMED.search(first).group(1)) in range(seconds * 1000, seconds * 1000 + 10), \
        guest.describe()
    assert rest.count(FIRED) == 1 and len(BANNER.findall(rest)) == 1, guest.describe()
    assert 'watchdog i6300esb, %ds' % seconds in out, guest.describe()
    # The last pet came at most a quarter of the timeout before the spin
    # began, so the reset cannot come much earlier than 3/4 of it; the
    # upper bound is only the test's patience.
    assert took >= seconds / 2, 'reset %.1f s after the spin began' % took + guest.describe()


def phase(out, name):
    m = re.search(r'^test_spin: %s for \d+ ms: (\d+) loop turns, (\d+) halts$' % name, out, re.M)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def test_a_turning_loop_is_not_reset():
    """Three timeouts idle, two busy: conftest's boot() runs QEMU with
    -no-reboot, so a watchdog reset would end it without a status."""
    need_image()
    seconds, idle_ms, busy_ms = 4, 12000, 8000
    r = boot('test_spin', kernel_args='watchdog=%d' % seconds,
             app_args=['--idle', str(idle_ms), '--busy', str(busy_ms)],
             qemu_args=DEVICE, timeout=180)
    assert r.status != GUEST_RESET, 'the watchdog reset a loop that turned\n' + describe(r)
    assert r.status == 0 and 'test_spin: OK' in r.output, describe(r)
    assert len(ARMED.findall(r.output)) == 1 and FIRED not in r.output, describe(r)
    pet_ms = int(ARMED.search(r.output).group(2))
    assert pet_ms == seconds * 1000 // 4, describe(r)
    # Idle, the loop halts in nearly every turn and wakes about once per
    # pet: the watchdog adds no polling (a busy poll would turn millions
    # of times).
    turns, halts = phase(r.output, 'idle')
    assert turns <= 2 * idle_ms // pet_ms + 10, describe(r)
    assert halts >= turns - 2, describe(r)
    # Busy, it never halts, and the pets still come from its turns.
    turns, halts = phase(r.output, 'busy')
    assert halts == 0 and turns > 1000, describe(r)


BAD_VALUES = ['0', '-1', 'abc', '', '1.5', '5s', '2001', '99999999999999999999999']


@pytest.mark.parametrize('platform', ['pc', 'microvm'])
def test_bad_timeouts_stop_the_boot(platform):
    """A bad value is refused before the device is looked for, with or
    without one."""
    qemu_args = DEVICE if platform == 'pc' else ()
    for v in BAD_VALUES:
        r = boot('hello', platform=platform, kernel_args='watchdog=' + v, qemu_args=qemu_args)
        assert r.status == 2, describe(r)
        assert ('watchdog: error: watchdog=%s: expected a whole number of seconds, 1..2000'
                % v) in r.output, describe(r)
        assert 'Hello from Limpet' not in r.output, describe(r)


def test_no_device_warns_and_boots():
    for platform, args in (('pc', ()), ('microvm', ())):
        r = boot('hello', platform=platform, kernel_args='watchdog=5', qemu_args=args)
        assert r.status == 0 and 'Hello from Limpet' in r.output, describe(r)
        assert re.search(r'\[WARN \] watchdog=5: no watchdog device, running without one',
                         r.output), describe(r)
        assert not ARMED.search(r.output), describe(r)


def test_device_without_the_argument_is_left_alone():
    r = boot('hello', qemu_args=DEVICE)
    assert r.status == 0 and 'Hello from Limpet' in r.output, describe(r)
    assert 'watchdog' not in r.output, describe(r)


# ---- the front end ----------------------------------------------------------

def test_run_watchdog_arguments(qemu_args):
    p, a = qemu_args('hello', '--no-build', '--watchdog', '7', '--kernel-args', 'log=warn')
    assert p.returncode == 0, p.stderr
    i = a.index('i6300esb')
    assert a[i - 1] == '-device' and a[i + 1:i + 3] == ['-action', 'watchdog=reset'], a
    # A reset must reboot the guest, not end QEMU.
    assert '-no-reboot' not in a, a
    # The kernel argument first, the user's after it (they win).
    assert a[a.index('-append') + 1] == 'watchdog=7 log=warn', a
    assert 'watchdog i6300esb, 7s' in p.stderr, p.stderr
    p, a = qemu_args('hello', '--no-build', '--watchdog=2', '--platform', 'q35')
    assert p.returncode == 0 and 'i6300esb' in a and a[a.index('-append') + 1] == 'watchdog=2', a
    # Without --watchdog: no device, and -no-reboot as always.
    p, a = qemu_args('hello', '--no-build')
    assert p.returncode == 0 and '-no-reboot' in a and 'i6300esb' not in a, a


def test_run_watchdog_bad_options(qemu_args):
    for args, msg in ((['--watchdog', '0'], 'whole number of seconds'),
                      (['--watchdog', 'soon'], 'whole number of seconds'),
                      (['--watchdog', '1.5'], 'whole number of seconds'),
                      (['--watchdog'], 'needs a number of seconds'),
                      (['--watchdog', '5', '--platform', 'microvm'], 'microvm has no PCI')):
        p, a = qemu_args('hello', '--no-build', *args)
        assert p.returncode == 2 and msg in p.stderr and not a, (args, p.stderr)
