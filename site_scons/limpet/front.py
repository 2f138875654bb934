"""What ./limpet's commands share: how they fail, setup, scons."""

import argparse
import os
import re
import subprocess
import sys

from .paths import TOP

PROG = './limpet'
EXIT_USAGE = 2      # a bad command line (also scons' own usage error)

# The folder ./limpet was started in: paths the user gives (www=, --www,
# --monitor, ...) are relative to it.  main() sets it and then works from
# the top of the tree.
caller_dir = os.getcwd()


def say(msg):
    """A line to stderr (stdout is the guest's console)."""
    sys.stderr.write(msg + '\n')
    sys.stderr.flush()


def die(msg):
    say('limpet: ' + msg)
    sys.exit(1)


def usage_error(msg):
    say('limpet: ' + msg)
    say("Try '%s help'." % PROG)
    sys.exit(EXIT_USAGE)


class Parser(argparse.ArgumentParser):
    """argparse for one command, failing as ./limpet fails: a line, a hint,
    status 2.  -h and --help call show_help (the command's own text) and
    exit 0."""

    def __init__(self, command, show_help):
        super().__init__(prog=PROG + ' ' + command, add_help=False, allow_abbrev=False)
        self.command = command
        self.add_argument('-h', '--help', action=_Help, nargs=0, show_help=show_help)

    def error(self, message):
        usage_error('%s: %s' % (self.command, message))


class _Help(argparse.Action):
    def __init__(self, show_help, **kw):
        super().__init__(**kw)
        self.show_help = show_help

    def __call__(self, parser, namespace, values, option_string=None):
        sys.exit(self.show_help() or 0)


def abs_path(p):
    """p from the caller's folder, made absolute (~ and ~/ too)."""
    if p == '~':
        p = os.environ.get('HOME', '')
    elif p.startswith('~/'):
        p = os.path.join(os.environ.get('HOME', ''), p[2:])
    if p.startswith('/'):
        return p
    return caller_dir.rstrip('/') + '/' + p


def ensure_setup():
    """Run scripts/setup.sh once per chain of commands: `test` exports
    LIMPET_SETUP_DONE, so that the ./limpet run its tests make skip it.
    What setup does streams to stderr (installing can take minutes), but
    not its "ready" line, which is all it says when there is nothing to do."""
    if os.environ.get('LIMPET_SETUP_DONE') == '1':
        return
    sys.stdout.flush()
    p = subprocess.Popen([str(TOP / 'scripts' / 'setup.sh')], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    for line in p.stdout:
        if not line.startswith(b'setup: ready'):
            sys.stderr.buffer.write(line)
            sys.stderr.flush()
    if p.wait() != 0:
        die('setup failed (scripts/setup.sh)')
    os.environ['LIMPET_SETUP_DONE'] = '1'


# The lines of scons' output that ./limpet leaves out: build prints the
# image paths itself, and "up to date" says nothing.
SCONS_QUIET = re.compile(rb"^image: |^scons: `.*' is up to date\.$")


def scons(*args):
    """scons -Q -j<CPUs> args, its output on stderr (run keeps stdout for
    the guest's console) but for SCONS_QUIET's lines; scons' status."""
    sys.stdout.flush()
    try:
        p = subprocess.Popen(['scons', '-Q', '-j', str(len(os.sched_getaffinity(0)))]
                             + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        die('cannot run scons: %s (./limpet setup installs it)' % e.strerror)
    for line in p.stdout:
        if not SCONS_QUIET.match(line.rstrip(b'\n')):
            sys.stderr.buffer.write(line)
            sys.stderr.flush()
    return p.wait()
