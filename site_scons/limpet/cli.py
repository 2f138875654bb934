"""./limpet: the front end.  `./limpet help` says what each command does.

Every command that needs the toolchain first runs scripts/setup.sh, which
is idempotent and quick when everything is in place, so that a fresh
Debian 12 machine needs nothing but `./limpet test` or `./limpet run`.
The shell script ./limpet only starts this with Debian's python3.
"""

import os
import subprocess
import sys

from . import front, paths, services
from .front import PROG, die, ensure_setup, usage_error


def services_list():
    return ' '.join(services.services()) or 'none'


HELP_MAIN = """\
Usage: {prog} COMMAND [ARGS...]

Limpet builds C services into unikernel images and boots them under QEMU.

Commands:
  setup                      install packages (apt-get) and fetch dependency sources
  build SERVICE [KEY=VALUE]  build a service image with scons; prints its path
  run SERVICE [OPTIONS] [-- APP-ARGS]
                             build, boot under QEMU, exit with the guest's status
  test                       build everything and run every test
  bench [--quick]            Limpet against a Linux VM: boot, HTTP, netbench (root)
  soak httpd --minutes N     httpd under the hostile battery, round after round
  deploy SERVICE --libvirt [--count N] [--name PREFIX]
                             run instances as libvirt domains (--status, --destroy)
  image SERVICE [--format raw|qcow2|iso] [--firmware bios|uefi|both]
                             a disk image that boots through GRUB (BIOS, UEFI)
  help [COMMAND]             this text, or the details of one command

Examples:
  {prog} run httpd                # the web server: http://127.0.0.1:8080/
  {prog} run httpd --www ~/site   # ... serving your own folder
  {prog} run httpd --tls          # ... and HTTPS: https://127.0.0.1:8443/
  {prog} run hello -- a b
  {prog} run hello --platform microvm
  {prog} run echo                 # user networking: echo on 127.0.0.1:7007
  {prog} run hello --gdb          # stopped at the first instruction, for gdb
  {prog} test

Services: {services}
Run '{prog} help COMMAND' for more.
"""

HELP_SETUP = """\
Usage: {prog} setup

Runs scripts/setup.sh: installs the toolchain, QEMU and test tools with
apt-get (as root, or through sudo, only when a package is missing) and
unpacks the sources of newlib, lwIP and mbedTLS from Debian into deps/.
It is idempotent; 'run', 'build' and 'test' call it themselves.
"""

HELP_BUILD = """\
Usage: {prog} build SERVICE [KEY=VALUE...]

Runs 'scons -Q service=SERVICE KEY=VALUE...' and prints the image path,
build/<platform>-<mode>-<log>/<service>.elf.  SERVICE may also be a
comma-separated list or 'all'.  The options ('scons -h' lists them):
  platform=pc|microvm                 (default pc; pc images also boot on q35)
  mode=debug|release                  (default debug)
  log=error|warn|info|debug|trace     (default info: compile-time log level)
  ip=, gateway=, mask=                the guest's compiled-in IPv4 address
  ip6=, gateway6=                     its compiled-in IPv6 address/prefix (or
                                      slaac, off) and gateway
  www=PATH                            httpd: the folder packed into the image
                                      (default services/httpd/www); another
                                      folder gives httpd-www-<hash>.elf
  tls=1                               with TLS, into build/<...>-tls/ (httpd:
                                      HTTPS on 443); tls_cert=, tls_key= PEM
                                      (default: a development certificate)
  V=1                                 scons prints whole command lines, not
                                      one short line a file (CC kernel/main.c)

Services: {services}
"""


def show(text, **more):
    sys.stdout.write(text.format(prog=PROG, services=services_list(), **more))
    sys.stdout.flush()
    return 0


# ---- setup -----------------------------------------------------------------

def cmd_setup(args):
    front.Parser('setup', lambda: show(HELP_SETUP)).parse_args(args)
    return subprocess.call(['scripts/setup.sh'])


# ---- build -----------------------------------------------------------------

def cmd_build(args):
    if not args:
        usage_error('build needs a SERVICE')
    if args[0] in ('-h', '--help'):
        show(HELP_BUILD)
        return 0
    service, options = args[0], []
    opt = dict(platform='pc', mode='debug', log=paths.DEFAULT_LOG, www=None, tls=False)
    for kv in args[1:]:
        key, eq, value = kv.partition('=')
        if not eq:
            usage_error("expected KEY=VALUE, got '%s'" % kv)
        if key == 'service':
            usage_error('give the service as the first argument')
        if key in ('platform', 'mode', 'log'):
            opt[key] = value
        elif key == 'tls':
            opt['tls'] = paths.truthy(value)
        elif key == 'www':
            opt['www'] = front.abs_path(value)
            kv = 'www=' + opt['www']
        options.append(kv)
    ensure_setup()
    rc = front.scons('service=' + service, *options)
    if rc != 0:
        return rc
    names = list(services.services()) if service == 'all' else service.split(',')
    for s in names:
        if s:
            print(paths.relative(paths.image_path(s, **opt)))
    return 0


# ---- help and dispatch -------------------------------------------------------

def commands():
    from . import cli_run, cli_test, cli_tools
    return {
        'setup': (cmd_setup, HELP_SETUP),
        'build': (cmd_build, HELP_BUILD),
        'run': (cli_run.cmd_run, cli_run.HELP_RUN),
        'test': (cli_test.cmd_test, cli_test.HELP_TEST),
        'bench': (cli_tools.cmd_bench, cli_tools.HELP_BENCH),
        'soak': (cli_tools.cmd_soak, cli_tools.HELP_SOAK),
        'deploy': (cli_tools.cmd_deploy, cli_tools.help_deploy),
        'image': (cli_tools.cmd_image, cli_tools.help_image),
    }


def cmd_help(args):
    name = args[0] if args else ''
    if name in ('', 'help'):
        show(HELP_MAIN)
        return 0
    table = commands()
    if name not in table:
        usage_error('no such command: %s' % name)
    text = table[name][1]
    if callable(text):
        return text()
    if name == 'run':
        from . import cli_run
        return cli_run.help_run()
    show(text)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    front.caller_dir = os.getcwd()
    os.chdir(paths.TOP)
    if not argv:
        show(HELP_MAIN)
        return front.EXIT_USAGE
    cmd, rest = argv[0], argv[1:]
    if cmd in ('help', '-h', '--help'):
        return cmd_help(rest)
    table = commands()
    if cmd not in table:
        usage_error('no such command: %s' % cmd)
    try:
        return table[cmd][0](rest) or 0
    except services.ConfError as e:
        die(str(e))
    except KeyboardInterrupt:
        # Ctrl-C outside a guest's run (a build, setup): the command stops,
        # as the shell front end did, with the shell's status for it.
        return 130


if __name__ == '__main__':
    sys.exit(main())
