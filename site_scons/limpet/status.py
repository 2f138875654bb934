"""Exit statuses: the guest's, how they leave QEMU, and ./limpet run's own.

A guest ends with a status from 0 to STATUS_MAX.  It writes status + 1 to
QEMU's isa-debug-exit device, which makes QEMU exit with (v << 1) | 1: the
guest's status s surfaces as QEMU exit code 2s + 3, so that QEMU's own
failure (1) and a reset under -no-reboot (0) cannot be mistaken for one.
The statuses with a fixed meaning and the largest one are read from the
table the kernel, the loader and net/ build with
(kernel/include/limpet/status.h), the device's port from bootinfo.h.
"""

import re

from .paths import TOP

INCLUDE = TOP / 'kernel' / 'include' / 'limpet'


def _define(header, name):
    m = re.search(r'^#define\s+%s\s+(\w+)' % name, (INCLUDE / header).read_text(), re.M)
    if not m:
        raise RuntimeError('%s no longer defines %s' % (INCLUDE / header, name))
    return int(m.group(1), 0)


DEBUG_EXIT_PORT = _define('bootinfo.h', 'DEBUG_EXIT_PORT')
STATUS_MAX = _define('status.h', 'LIMPET_STATUS_MAX')

# QEMU's device, as every QEMU command line of ours adds it.
DEBUG_EXIT_DEVICE = 'isa-debug-exit,iobase=%#x,iosize=0x04' % DEBUG_EXIT_PORT

# Statuses with a fixed meaning, the guest's own (status.h).
USAGE = _define('status.h', 'LIMPET_STATUS_USAGE')          # a kernel argument or option
TLS_SETUP = _define('status.h', 'LIMPET_STATUS_TLS_SETUP')  # no entropy, a bad certificate
LOADER = _define('status.h', 'LIMPET_STATUS_BAD_IMAGE')     # the loader or PVH refused it
FAULT = _define('status.h', 'LIMPET_STATUS_FAULT')          # a kernel fault or panic

# ./limpet run's own, above the guest's range.
QEMU_FAILED = 127   # QEMU did not start, or died without a status
GUEST_RESET = 128   # the guest reset (triple fault) or QEMU quit
TIMEOUT = 129       # --timeout expired
INTERRUPTED = 130   # Ctrl-C or SIGTERM

# QEMU's exit codes that are no guest status.
RC_RESET = 0        # the guest reset under -no-reboot, or QEMU was told to quit
RC_FAILED = 1       # QEMU's own failure


def qemu_code(status):
    """QEMU's exit code for the guest's status."""
    return 2 * status + 3


def guest_status(rc):
    """The guest's status from QEMU's exit code rc, or None when no guest
    status gives rc."""
    if 3 <= rc <= qemu_code(STATUS_MAX) and rc % 2 == 1:
        return (rc - 3) // 2
    return None


def run_status(rc):
    """(status, message) for ./limpet run from QEMU's exit code rc (a
    negative rc: QEMU died of signal -rc): the guest's status with no
    message, or one of ours with the line that explains it."""
    s = guest_status(rc)
    if s is not None:
        return s, None
    if rc == RC_RESET:
        return GUEST_RESET, 'guest reset (triple fault?) or QEMU quit without an exit status'
    if rc == RC_FAILED:
        return QEMU_FAILED, 'QEMU failed to start (see its message above)'
    if rc < 0 or rc > 128:
        return QEMU_FAILED, 'QEMU was killed by signal %d' % (-rc if rc < 0 else rc - 128)
    return QEMU_FAILED, 'QEMU exited with unexpected code %d' % rc
