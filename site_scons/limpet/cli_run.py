"""./limpet run: build a service, boot it under QEMU with the serial
console on this terminal, exit with the guest's status."""

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

from . import cmdline, front, paths, qemu, services, status
from .front import PROG, die, say, usage_error

HELP_RUN = """\
Usage: {prog} run SERVICE [OPTIONS] [-- APP-ARGS...]

Builds SERVICE for the platform, boots it under QEMU with the serial
console on this terminal, and exits with the guest's exit status.

Options:
  --platform pc|q35|microvm   QEMU machine (default pc; q35 uses the pc image)
  --mode debug|release        build mode (default debug)
  --log LEVEL                 compile-time log level: error, warn, info,
                              debug or trace (default info)
  -m, --memory SIZE           guest RAM, as QEMU's -m (default: the
                              service.conf's memory, else 64M)
  --kernel-args "ARGS"        kernel arguments, e.g. "-freq 2000 log=warn"
  --timeout SECONDS           kill QEMU after this long (default: none)
  --no-build                  boot the existing image without running scons
  --boot pvh|loader           how QEMU starts the image: pvh (default) boots
                              it directly (-kernel IMAGE, its PVH entry);
                              loader boots the multiboot loader with the
                              image as its module, as GRUB does (-kernel
                              build/loader/limpet-loader.elf -initrd IMAGE)
  --net user|tap[:IF]|none    the guest's network (default: the service.conf's
                              nic; user for services whose service.conf says
                              'net = yes', else none)
  --port HOST:GUEST           forward 127.0.0.1:HOST (TCP and UDP) to the
                              guest's port GUEST; implies --net user;
                              repeatable; replaces the service's defaults
  --netns NAME                run QEMU inside network namespace NAME (root;
                              for --net tap with a tap made by
                              'scripts/tap-setup.sh --netns NAME')
  --pcap FILE                 write every frame of the NIC to FILE, a pcap
                              file (QEMU's filter-dump; needs a NIC)
  --gdb                       QEMU waits for gdb on 127.0.0.1:1234 before
                              the first instruction (-gdb, -S); prints the
                              gdb command line, with the image's symbols
  --www PATH                  httpd only: serve the folder PATH (packed
                              into the image at build time; build www=PATH)
  --tls                       build with tls=1 (into build/...-tls/); for
                              httpd: HTTPS, forwarding 127.0.0.1:8443 -> 443
                              and 8080 -> 80 unless --port is given, and
                              --https-redirect-port set to the forwarded port
  --watchdog SECONDS          add QEMU's i6300esb watchdog (pc and q35 only)
                              and the kernel argument watchdog=SECONDS: the
                              event loop pets it, and when the loop stops
                              for SECONDS (a callback that never returns)
                              the guest is reset and boots again, in the
                              same QEMU.  QEMU then runs without -no-reboot:
                              any reset (a triple fault too) reboots the
                              guest; the guest's exit still ends the run
  --monitor PATH              QEMU's monitor on the Unix socket PATH (for
                              example 'socat - UNIX-CONNECT:PATH', then
                              'set_link n0 off': the NIC's backend is n0)
  --vmgenid                   add a VM generation ID (QEMU's vmgenid device,
                              id vmgenid0; pc and q35 only), which QEMU
                              changes when the VM is restored from a
                              snapshot: TLS then reseeds its random
                              generator at once ('qom-set
                              /machine/peripheral/vmgenid0 guid auto' in the
                              monitor changes it by hand)
  --tls-cert FILE, --tls-key FILE
                              give the TLS service a certificate (PEM chain,
                              leaf first) and its key (PEM, unencrypted) at
                              boot, through QEMU's fw_cfg
                              (opt/limpet/tls/cert and .../key), instead of
                              the ones built into the image; repeat both for
                              more certificates, chosen by the name clients
                              ask for (SNI; the first is the default; up
                              to 8)
  --incoming FILE             start from a VM state saved with the monitor's
                              'migrate "exec:cat > FILE"' instead of booting:
                              a restore, or a clone when two QEMUs start from
                              one FILE.  The other options must be the ones
                              the state was saved with (--port may differ)
  -- APP-ARGS                 everything after -- goes to the service's argv;
                              arguments with spaces or quotes are quoted for
                              the kernel's command-line splitter

Networking (a virtio-net NIC: virtio-net-pci on pc and q35, virtio-mmio on
microvm):
  user   QEMU's user-mode network, no root needed.  The guest gets
         {user_args} as
         kernel arguments (your --kernel-args come after them and win):
         IPv6 by SLAAC in fec0::/64, which QEMU 7.2 forwards no port to
         (its hostfwd takes IPv4 only).  Default forwards (ports and
         tls_ports in each service's service.conf):
{ports}
  tap    attach to tap device IF (default tap10, made by
         scripts/tap-setup.sh: host 10.0.5.1/24 and fd00:5::1/64); the
         guest keeps its compiled-in addresses (default 10.0.5.3, gateway
         10.0.5.1; fd00:5::3/64, gateway fd00:5::1).  Uses vhost=on when
         /dev/vhost-net is usable.
  none   no NIC.

Kernel arguments: -freq MHZ (the TSC frequency, skipping calibration),
log=LEVEL (raise the log level at run time; not below the compiled-in one),
ip=A.B.C.D gateway=A.B.C.D mask=A.B.C.D (the guest's address; ip=dhcp),
ip6=ADDR/PREFIX|slaac|off gateway6=ADDR (IPv6 beside it; a link-local
address from the MAC unless off),
watchdog=SECONDS (arm the watchdog device that --watchdog adds),
net_fault=MS (debug builds: break the NIC on purpose every MS ms, to watch
it recover), entropy_fault=stuck|ones|fail|late (debug builds: the CPU's
random source misbehaves, to watch its health tests stop TLS).
Unknown kernel arguments are reported and ignored.

KVM is used when the CPU has VMX or SVM and /dev/kvm opens read-write;
otherwise QEMU emulates (TCG).  LIMPET_ACCEL=tcg|kvm overrides the choice.

Ctrl-C, or SIGTERM to {prog}, stops QEMU too.

Exit status: the guest's status, 0..{max} ({fault}: the kernel faulted or
panicked; {loader}: the loader refused the image), or one of limpet's own:
{qemu_failed} QEMU failed to start, {reset} the guest reset (triple fault; with
--watchdog the guest boots again instead),
{timeout} --timeout expired, {interrupted} interrupted (Ctrl-C, SIGTERM).
"""

# The options that take a value, each with what bash's front end said
# when it was missing.  -m is --memory.
VALUE_OPTIONS = {
    '--platform': '--platform needs a value',
    '--mode': '--mode needs a value',
    '--log': '--log needs a value',
    '-m': '-m needs a value',
    '--memory': '--memory needs a value',
    '--kernel-args': '--kernel-args needs a value',
    '--timeout': '--timeout needs a value',
    '--net': '--net needs a value',
    '--port': '--port needs HOST:GUEST',
    '--netns': '--netns needs a value',
    '--www': '--www needs a folder',
    '--watchdog': '--watchdog needs a number of seconds',
    '--monitor': '--monitor needs a socket path',
    '--incoming': '--incoming needs a file',
    '--boot': '--boot needs pvh or loader',
    '--tls-cert': '--tls-cert needs a file',
    '--tls-key': '--tls-key needs a file',
    '--pcap': '--pcap needs a file',
}
FLAG_OPTIONS = ('--no-build', '--tls', '--vmgenid', '--gdb')

TLS_MAX_CERTS = 8       # net/tls/tls_priv.h
GDB_PORT = 1234         # QEMU's -s port
IFNAME = re.compile(r'^[A-Za-z0-9_.-]{1,15}$')
DEFAULT_TAP = 'tap10'
# The guest ports whose forwards ./limpet run prints as URLs.
HTTP_PORT, HTTPS_PORT = 80, 443

# After SIGINT or SIGTERM, QEMU has this long to end before SIGKILL; after
# --timeout's SIGTERM, as timeout(1) -k 2 gave it.
STOP_GRACE = 5
TIMEOUT_GRACE = 2


def default_ports_help():
    out = []
    for name in services.services():
        conf = services.conf_of(name)
        for host, guest in conf.ports:
            out.append('%s 127.0.0.1:%d -> %d' % (name, host, guest))
        for host, guest in conf.tls_ports:
            out.append('%s with --tls 127.0.0.1:%d -> %d' % (name, host, guest))
    return textwrap.fill((', '.join(out) or 'none') + '.', width=78,
                         initial_indent=' ' * 9, subsequent_indent=' ' * 9)


def help_run():
    sys.stdout.write(HELP_RUN.format(
        prog=PROG, ports=default_ports_help(), user_args=qemu.USER_NET_ARGS,
        max=status.STATUS_MAX, fault=status.FAULT, loader=status.LOADER,
        qemu_failed=status.QEMU_FAILED, reset=status.GUEST_RESET,
        timeout=status.TIMEOUT, interrupted=status.INTERRUPTED))
    sys.stdout.flush()
    return 0


def parser():
    p = front.Parser('run', help_run)
    p.add_argument('--platform', default='pc')
    p.add_argument('--mode', default='debug')
    p.add_argument('--log', default=paths.DEFAULT_LOG)
    p.add_argument('-m', '--memory', dest='mem')
    p.add_argument('--kernel-args', default='')
    p.add_argument('--timeout', default='0')
    p.add_argument('--no-build', dest='build', action='store_false')
    p.add_argument('--net')
    p.add_argument('--port', dest='ports', action='append', default=[])
    p.add_argument('--netns')
    p.add_argument('--www')
    p.add_argument('--tls', action='store_true')
    p.add_argument('--watchdog')
    p.add_argument('--monitor')
    p.add_argument('--vmgenid', action='store_true')
    p.add_argument('--incoming')
    p.add_argument('--boot', default='pvh')
    p.add_argument('--tls-cert', dest='tls_certs', action='append', default=[])
    p.add_argument('--tls-key', dest='tls_keys', action='append', default=[])
    p.add_argument('--pcap')
    p.add_argument('--gdb', action='store_true')
    p.add_argument('service', nargs='*')
    return p


def split_args(args):
    """The options (each '--opt VALUE' joined into '--opt=VALUE', so that
    a value may start with a dash) and the app arguments after '--' (None
    without '--').  Exits for -h, an unknown option or a missing value,
    in the order they come."""
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a == '--':
            return out, args[i + 1:]
        if a in ('-h', '--help'):
            sys.exit(help_run())
        if a in VALUE_OPTIONS:
            if i + 1 >= len(args):
                usage_error(VALUE_OPTIONS[a])
            out.append(('--memory' if a == '-m' else a) + '=' + args[i + 1])
            i += 2
            continue
        if a.startswith('-') and a not in FLAG_OPTIONS and \
                a.split('=', 1)[0] not in VALUE_OPTIONS:
            usage_error('run: unknown option %s' % a)
        if not a.startswith('-') and [o for o in out if not o.startswith('-')]:
            usage_error('run: one SERVICE only (app arguments go after --)')
        out.append(a)
        i += 1
    return out, None


def check(o):
    """Everything about the command line that can be checked before the
    build, in bash's order; fills in the defaults."""
    if not o.service:
        usage_error('run needs a SERVICE')
    o.service = o.service[0]
    conf = o.conf = services.conf_of(o.service)
    if o.www is not None:
        if o.service != paths.WWW_SERVICE:
            usage_error('--www is for %s only' % paths.WWW_SERVICE)
        o.www = front.abs_path(o.www)
        if not os.path.isdir(o.www):
            usage_error('--www: %s is not a folder' % o.www)
    if not re.match(r'^[0-9]+(\.[0-9]+)?$', o.timeout):
        usage_error('--timeout needs a number of seconds')
    o.timeout_s = float(o.timeout)
    if o.boot not in qemu.BOOT_VIA:
        usage_error("--boot must be pvh or loader, got '%s'" % o.boot)
    # The kernel checks the upper bound (watchdog=SECONDS) and says so.
    if o.watchdog is not None and not re.match(r'^[1-9][0-9]*$', o.watchdog):
        usage_error("--watchdog needs a whole number of seconds (1 or more), got '%s'"
                    % o.watchdog)
    if o.platform not in qemu.PLATFORMS:
        usage_error('--platform must be one of: %s' % ', '.join(qemu.PLATFORMS))
    # The i6300esb is a PCI device, and microvm has no PCI bus.
    if o.watchdog and o.platform == 'microvm':
        usage_error('--watchdog needs --platform pc or q35 (the i6300esb watchdog is a PCI '
                    'device; microvm has no PCI)')
    # QEMU's vmgenid lives in ACPI tables that the firmware links (SeaBIOS).
    if o.vmgenid and o.platform == 'microvm':
        usage_error("--vmgenid needs --platform pc or q35 (its ACPI table needs the "
                    "firmware's linker, which microvm's boot has not)")
    # The network.
    o.ifname = DEFAULT_TAP
    if o.net is None:
        o.net = 'user' if o.ports else conf.default_nic()
    if o.net.startswith('tap:'):
        o.ifname, o.net = o.net[4:], 'tap'
        if not IFNAME.match(o.ifname):
            usage_error("--net tap:IF: '%s' is not an interface name" % o.ifname)
    elif o.net not in ('user', 'tap', 'none'):
        usage_error('--net must be one of: user, tap, tap:IFNAME, none')
    ports = []
    for p in o.ports:
        hg = services.parse_port(p)
        if hg is None:
            usage_error("--port needs HOST:GUEST with ports 1-65535, got '%s'" % p)
        ports.append(hg)
    if ports and o.net != 'user':
        usage_error('--port needs --net user')
    if not ports and o.net == 'user':
        # The service's own; HTTPS (--tls) adds its forwards in front.
        ports = (conf.tls_ports if o.tls else []) + conf.ports
    o.ports = ports
    if o.pcap is not None:
        if o.net == 'none':
            usage_error('--pcap needs a NIC (--net user or tap)')
        o.pcap = front.abs_path(o.pcap)
        if ',' in o.pcap:
            usage_error('--pcap: the path may not hold a comma')
    if o.mem is None:
        o.mem = conf.memory
    if o.monitor is not None:
        if ',' in o.monitor:
            usage_error('--monitor: the socket path may not hold a comma')
        o.monitor = front.abs_path(o.monitor)
    # Certificates at boot.
    if len(o.tls_certs) != len(o.tls_keys):
        usage_error('--tls-cert and --tls-key go in pairs (%d and %d given)'
                    % (len(o.tls_certs), len(o.tls_keys)))
    if len(o.tls_certs) > TLS_MAX_CERTS:
        usage_error('at most %d certificates (--tls-cert)' % TLS_MAX_CERTS)
    pairs = []
    for cert, key in zip(o.tls_certs, o.tls_keys):
        pair = []
        for f in (cert, key):
            path = front.abs_path(f)
            if not (os.path.isfile(path) and os.access(path, os.R_OK)):
                usage_error('--tls-cert/--tls-key: cannot read %s' % f)
            if ',' in path:
                usage_error("--tls-cert/--tls-key: the path may not hold a comma (QEMU's "
                            "-fw_cfg): %s" % f)
            pair.append(path)
        pairs.append(pair)
    o.tls_pairs = pairs
    if o.incoming is not None:
        o.incoming = front.abs_path(o.incoming)
        if not os.path.isfile(o.incoming):
            usage_error('--incoming: no file %s' % o.incoming)
        if re.search('[\'" ]', o.incoming):
            usage_error('--incoming: the path may not hold quotes or spaces')
    return conf


def check_host(o):
    """What the host must have: the namespace, the tap device."""
    in_ns = []
    if o.netns is not None:
        if os.geteuid() != 0:
            die("--netns needs root (it runs QEMU with 'ip netns exec')")
        names = subprocess.run(['ip', 'netns', 'list'], capture_output=True,
                               text=True).stdout.split('\n')
        if o.netns not in [n.split(' ')[0] for n in names]:
            die("no network namespace '%s' (create it with: scripts/tap-setup.sh --netns %s)"
                % (o.netns, o.netns))
        in_ns = ['ip', 'netns', 'exec', o.netns]
    if o.net == 'tap':
        p = subprocess.run(in_ns + ['ip', 'link', 'show', 'dev', o.ifname],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if p.returncode != 0:
            where = ' in namespace %s' % o.netns if o.netns else ''
            die('no tap device %s%s (create it with: scripts/tap-setup.sh --name %s%s)'
                % (o.ifname, where, o.ifname, ' --netns %s' % o.netns if o.netns else ''))


def build(o):
    """The image, built unless --no-build; exits when there is none."""
    platform = paths.build_platform(o.platform)
    image = paths.image_path(o.service, platform, o.mode, o.log, o.tls, o.www)
    if o.build:
        front.ensure_setup()
        www = ['www=' + o.www] if o.www else []
        if front.scons('service=' + o.service, 'platform=' + platform, 'mode=' + o.mode,
                       'log=' + o.log, *www, 'tls=%d' % o.tls) != 0:
            die('build failed')
    if not image.is_file():
        die('no image %s (build it with: %s build %s platform=%s mode=%s log=%s%s%s)'
            % (paths.relative(image), PROG, o.service, platform, o.mode, o.log,
               ' www=' + o.www if o.www else '', ' tls=1' if o.tls else ''))
    if o.boot == 'loader' and not paths.LOADER.is_file():
        die('no loader %s (run: scons)' % paths.relative(paths.LOADER))
    return image


def qemu_command(o, image):
    """QEMU's command line for the checked options, and the lines that
    tell the user what it does."""
    extra, kargs = [], ''
    vhost = False
    if o.net == 'user':
        extra += ['-netdev', qemu.user_netdev(o.ports)]
        kargs = qemu.USER_NET_ARGS
    elif o.net == 'tap':
        vhost = qemu.vhost_usable()
        extra += ['-netdev', qemu.tap_netdev(o.ifname, vhost)]
    if o.net != 'none':
        extra += qemu.nic(paths.build_platform(o.platform))
    if o.pcap is not None:
        extra += qemu.pcap(o.pcap)
    # The watchdog: QEMU's i6300esb, which resets the machine when the
    # guest stops petting it, and the kernel argument that arms it.  Its
    # reset must reboot the guest, so no -no-reboot: QEMU keeps running
    # and the guest boots again (a triple fault reboots it too).
    if o.watchdog:
        extra += ['-device', 'i6300esb', '-action', 'watchdog=reset']
        kargs = cmdline.join_args(kargs, 'watchdog=' + o.watchdog)
    if o.vmgenid:
        extra += ['-device', 'vmgenid,id=vmgenid0,guid=auto']
    # Certificates at boot: fw_cfg files opt/limpet/tls/cert and key, then
    # cert.1 and key.1 and so on (net/tls/tls.c reads them).
    for i, (cert, key) in enumerate(o.tls_pairs):
        suffix = '.%d' % i if i else ''
        extra += ['-fw_cfg', 'name=opt/limpet/tls/cert%s,file=%s' % (suffix, cert),
                  '-fw_cfg', 'name=opt/limpet/tls/key%s,file=%s' % (suffix, key)]
    if o.incoming is not None:
        extra += ['-incoming', 'exec:cat %s' % o.incoming]
    if o.monitor is not None:
        extra += ['-monitor', 'unix:%s,server=on,wait=off' % o.monitor]
    if o.gdb:
        extra += ['-gdb', 'tcp:127.0.0.1:%d' % GDB_PORT, '-S']
    app = o.app
    # A service that names the port clients reach for HTTPS in what it
    # sends (httpd's redirects) is told the forwarded one (service.conf's
    # tls_port_arg; the user's own app arguments come after and win).
    if o.tls and o.conf.tls_port_arg and o.net == 'user':
        for host, guest in o.ports:
            if guest == HTTPS_PORT:
                app = [o.conf.tls_port_arg, str(host)] + (app or [])
                break
    append = cmdline.make_cmdline(cmdline.join_args(kargs, o.kernel_args), app)
    qemu_bin = os.environ.get('LIMPET_QEMU') or qemu.QEMU
    # Paths inside the tree as ./limpet prints them, relative to the top,
    # where QEMU runs.
    kernel, initrd = qemu.boot_files(paths.relative(image), o.boot,
                                     paths.relative(paths.LOADER))
    cmd = qemu.command(o.platform, kernel, append, initrd=initrd, mem=o.mem,
                       reboot=bool(o.watchdog), extra=extra, qemu=qemu_bin)
    if o.netns is not None:
        cmd = ['ip', 'netns', 'exec', o.netns] + cmd
    return cmd, notes_for(o, vhost, image)


def notes_for(o, vhost, image):
    s, notes = o.service, []
    if o.net == 'user':
        if not o.ports:
            notes.append('%s: user networking, guest %s, no ports forwarded (use --port '
                         'HOST:GUEST)' % (s, qemu.USER_GUEST))
        for host, guest in o.ports:
            notes.append('%s: forwarded 127.0.0.1:%d -> guest port %d (tcp, udp)'
                         % (s, host, guest))
        # A web server's forwards say where to point a browser.
        for host, guest in o.ports:
            if guest == HTTP_PORT:
                notes.append('%s: serving http://127.0.0.1:%d/ (user networking; Ctrl-C to '
                             'stop)' % (s, host))
            if guest != HTTPS_PORT or not o.tls:
                continue
            if o.tls_pairs:
                notes.append('%s: serving https://127.0.0.1:%d/ with the %d certificate(s) '
                             'given with --tls-cert' % (s, host, len(o.tls_pairs)))
            else:
                notes.append('%s: serving https://127.0.0.1:%d/ — trust the development '
                             'certificate with: curl --cacert build/tls/dev-cert.pem '
                             'https://127.0.0.1:%d/' % (s, host, host))
                notes.append('%s: (build/tls/dev-cert.pem is a self-signed DEVELOPMENT '
                             'certificate made by the build; build with tls_cert= tls_key= '
                             'for a real one)' % s)
    elif o.net == 'tap':
        notes.append('%s: on tap %s%s, vhost %s' % (
            s, o.ifname, ' in namespace %s' % o.netns if o.netns else '',
            'on' if vhost else 'off'))
    if o.pcap is not None:
        notes.append("%s: the NIC's frames go to %s (pcap)" % (s, o.pcap))
    if o.watchdog:
        notes.append('%s: watchdog i6300esb, %ss: if the event loop stops that long, the guest '
                     'is reset and boots again (QEMU keeps running; Ctrl-C to stop)'
                     % (s, o.watchdog))
    if o.gdb:
        gdb = ("gdb -ex 'set architecture i386:x86-64' -ex 'target remote :%d' "
               "-ex 'symbol-file %s'" % (GDB_PORT, image))
        if o.netns is not None:
            gdb = 'ip netns exec %s %s' % (o.netns, gdb)
        notes.append('%s: QEMU waits for gdb on 127.0.0.1:%d, stopped before the first '
                     'instruction; in another terminal:' % (s, GDB_PORT))
        notes.append('  ' + gdb)
        notes.append("%s: then 'hbreak main' (or any function) and 'continue'" % s)
    return notes


def run_qemu(cmd, timeout):
    """Run QEMU in the foreground; its exit code (negative: killed by
    that signal), or INTERRUPTED or TIMEOUT as ./limpet's own status.
    SIGINT and SIGTERM to us go to QEMU too, and QEMU is killed if it
    does not end within STOP_GRACE seconds; --timeout sends it SIGTERM,
    then SIGKILL after TIMEOUT_GRACE."""
    tty = None
    try:
        import termios
        if os.isatty(0):
            tty = termios.tcgetattr(0)
    except (ImportError, OSError):
        tty = None
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        proc = subprocess.Popen(cmd)
    except OSError as e:
        say('limpet: cannot run %s: %s' % (cmd[0], e.strerror))
        return status.RC_FAILED, None
    state = {'signal': None, 'kill_at': None}

    def stop(signum, frame):
        state['signal'] = signum
        if proc.poll() is None:
            try:
                proc.send_signal(signum)
            except OSError:
                pass
            if state['kill_at'] is None:
                state['kill_at'] = time.monotonic() + STOP_GRACE

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    start = time.monotonic()
    timed_out = False
    try:
        while True:
            try:
                rc = proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if timeout and not timed_out and now - start >= timeout:
                timed_out = True
                proc.terminate()
                state['kill_at'] = now + TIMEOUT_GRACE
            if state['kill_at'] is not None and now >= state['kill_at']:
                proc.kill()
                state['kill_at'] = float('inf')
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if tty is not None:
            try:
                termios.tcsetattr(0, termios.TCSADRAIN, tty)
            except OSError:
                pass
    if state['signal'] is not None:
        return rc, status.INTERRUPTED
    if timed_out:
        return rc, status.TIMEOUT
    return rc, None


def cmd_run(args):
    opts, app = split_args(args)
    o = parser().parse_args(opts)
    o.app = app
    check(o)
    check_host(o)
    image = build(o)
    cmd, notes = qemu_command(o, image)
    for line in notes:
        say(line)
    rc, ours = run_qemu(cmd, o.timeout_s)
    if ours == status.INTERRUPTED:
        say('limpet: interrupted')
        return ours
    if ours == status.TIMEOUT:
        say('limpet: timeout: the guest still ran after %ss; QEMU killed' % o.timeout)
        return ours
    code, msg = status.run_status(rc)
    if msg:
        say('limpet: ' + msg)
    return code
