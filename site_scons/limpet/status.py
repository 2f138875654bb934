"""Exit statuses: the guest's, how they leave QEMU, and ./limpet run's own.

A guest ends with a status from 0 to STATUS_MAX.  It writes status + 1 to
QEMU's isa-debug-exit device, which makes QEMU exit with (v << 1) | 1: the
guest's status s surfaces as QEMU exit code 2s + 3, so that QEMU's own
failure (1) and a reset under -no-reboot (0) cannot be mistaken for one.
The port and the largest status are read from the header the kernel and
the loader build with (kernel/include/limpet/bootinfo.h).
"""

import re

from .paths import TOP

BOOTINFO = TOP / 'kernel' / 'include' / 'limpet' / 'bootinfo.h'


def _define(name):
    m = re.search(r'^#define\s+%s\s+(\w+)' % name, BOOTINFO.read_text(), re.M)
    if not m:
        raise RuntimeError('%s no longer defines %s' % (BOOTINFO, name))
    return int(m.group(1), 0)


DEBUG_EXIT_PORT = _define('DEBUG_EXIT_PORT')
STATUS_MAX = _define('DEBUG_EXIT_STATUS_MAX')

# QEMU's device, as every QEMU command line of ours adds it.
DEBUG_EXIT_DEVICE = 'isa-debug-exit,iobase=%#x,iosize=0x04' % DEBUG_EXIT_PORT

# Statuses with a fixed meaning, the guest's own.
USAGE = 2           # a kernel argument or a service option it cannot use (EXIT_USAGE)
TLS_SETUP = 3       # TLS cannot start: no entropy, a bad certificate (limpet/tls.h)
LOADER = 124        # the loader or the PVH entry refused the image or the CPU
FAULT = 125         # a kernel fault or panic (trap.c, log.c)

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
