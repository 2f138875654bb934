#!/usr/bin/python3
"""./limpet deploy: Limpet images as libvirt domains.

    ./limpet deploy SERVICE --libvirt [--count N] [--name PREFIX]
                    [--platform pc|q35] [--memory MIB] [--port HOSTBASE:GUEST]...
                    [--disk raw|qcow2 [--firmware bios|uefi]]
                    [--connect URI] [KEY=VALUE build options] [-- APP-ARGS]
    ./limpet deploy --status [--name PREFIX] [--connect URI]
    ./limpet deploy --destroy [--name PREFIX] [--connect URI]

Each domain boots the image directly by its PVH entry (<kernel> the
image, <cmdline> the kernel arguments), or with --disk a disk image made
by ./limpet image (GRUB, the same command line in its grub.cfg; shared
read-only by the instances) through SeaBIOS or, with --firmware uefi,
OVMF; as type='qemu' (TCG) unless
KVM is usable (the CPU has VMX or SVM, /dev/kvm opens), with QEMU's user networking: instance i
(1..N) forwards 127.0.0.1:HOSTBASE+i-1 to the guest's port GUEST for each
--port (defaults: the forwards of ./limpet run, from the service's
service.conf, 10000 ports higher: httpd 18080:80, and 18443:443 with
tls=1; echo 17007:7).  libvirt's QEMU runs as its own user, so the image is copied to /var/lib/libvirt/images/limpet/PREFIX/, with each domain's
serial console log beside them.  "virsh shutdown" presses the guest's
ACPI power button: httpd finishes its responses and powers off.

--status lists the PREFIX-* domains with their state and, for httpd, their
health from /_limpet/stats.  --destroy stops and removes them (and their
files).  libvirtd must be running (systemctl start libvirtd; without
systemd: virtlogd -d; libvirtd -d).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import xml.sax.saxutils

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Services and their service.conf, QEMU's NIC and user network, the
# accelerator: what Limpet's tools share (site_scons/limpet/).
sys.path.insert(0, os.path.join(TOP, 'site_scons'))
from limpet import cmdline, paths, qemu, services  # noqa: E402

IMAGES = '/var/lib/libvirt/images/limpet'
NS = 'https://limpet.invalid/deploy/1'
# Host ports are ./limpet run's (service.conf's ports and tls_ports) plus
# this, so that a fleet and a ./limpet run of the same service coexist.
PORT_OFFSET = 10000
# QEMU's user network, as ./limpet run sets it up (IPv4 only).
KERNEL_NET = qemu.USER_NET_IP4_ARGS
EXIT_USAGE = 2


class DeployError(Exception):
    pass


def virsh(uri, *args, check=True):
    p = subprocess.run(['virsh', '-q', '-c', uri] + list(args), capture_output=True,
                       text=True, timeout=120)
    if check and p.returncode != 0:
        raise DeployError('virsh %s: %s' % (' '.join(args), (p.stderr or p.stdout).strip()))
    return p


def check_libvirt(uri):
    if shutil.which('virsh') is None:
        raise DeployError('virsh is missing: ./limpet setup installs libvirt-clients')
    p = virsh(uri, 'uri', check=False)
    if p.returncode != 0:
        raise DeployError('cannot reach libvirt at %s: %s\nStart it: systemctl start libvirtd '
                          '(without systemd: virtlogd -d; libvirtd -d)'
                          % (uri, (p.stderr or p.stdout).strip()))


def accelerator():
    """libvirt's domain type: kvm where KVM runs guests, else qemu (TCG)."""
    return 'kvm' if qemu.kvm_usable() else 'qemu'


def default_ports(service, tls):
    """HOSTBASE:GUEST for each forward of ./limpet run, PORT_OFFSET higher."""
    conf = services.conf_of(service)
    return ['%d:%d' % (h + PORT_OFFSET, g) for h, g in (conf.tls_ports if tls else []) +
            conf.ports]


def build(service, options):
    """./limpet build SERVICE options...; the image's path."""
    p = subprocess.run([os.path.join(TOP, 'limpet'), 'build', service] + options,
                       cwd=TOP, capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        raise DeployError('building %s failed:\n%s' % (service, p.stderr[-3000:]))
    path = p.stdout.split()[-1]
    return path if os.path.isabs(path) else os.path.join(TOP, path)


def parse_ports(specs):
    ports = []
    for spec in specs:
        m = re.match(r'^(\d{1,5}):(\d{1,5})$', spec)
        if not m or not (1 <= int(m.group(1)) <= 65535 and 1 <= int(m.group(2)) <= 65535):
            raise DeployError('--port %s: give HOSTBASE:GUEST, both 1 to 65535' % spec)
        ports.append((int(m.group(1)), int(m.group(2))))
    return ports


def os_xml(image, cmdline, machine, disk):
    """The <os> element and the disk, if any: the image booted directly by
    PVH, or a disk image from ./limpet image booted by the firmware (disk
    = (path, format, firmware)); UEFI is OVMF as libvirt picks it from the
    firmware descriptors, without secure boot (GRUB here is unsigned)."""
    e = xml.sax.saxutils.escape
    if disk is None:
        return ("  <os>\n"
                "    <type arch='x86_64' machine='%s'>hvm</type>\n"
                "    <kernel>%s</kernel>\n"
                "    <cmdline>%s</cmdline>\n"
                "  </os>" % (machine, e(image), e(cmdline))), ''
    path, fmt, firmware = disk
    efi = firmware == 'uefi'
    os_part = ("  <os%s>\n"
               "    <type arch='x86_64' machine='%s'>hvm</type>\n%s"
               "    <boot dev='hd'/>\n"
               "  </os>" % (" firmware='efi'" if efi else '', machine,
                            "    <firmware><feature enabled='no' name='secure-boot'/>"
                            "</firmware>\n" if efi else ''))
    disk_part = ("\n    <disk type='file' device='disk'>\n"
                 "      <driver name='qemu' type='%s'/>\n"
                 "      <source file='%s'/>\n"
                 "      <target dev='vda' bus='virtio'/>\n"
                 "      <readonly/>\n"
                 # Beside the NIC (slot 5, given on QEMU's command line).
                 "      <address type='pci' domain='0x0000' bus='0x00' slot='0x06' "
                 "function='0x0'/>\n"
                 "    </disk>" % (fmt, e(path)))
    return os_part, disk_part


def domain_xml(name, service, image, cmdline, memory, machine, virt_type, fwds, console,
               disk=None):
    e = xml.sax.saxutils.escape
    netdev = qemu.user_netdev(fwds, udp=False)
    nic = qemu.nic('pc')[-1] + ',addr=0x5'
    ports = ' '.join('%d:%d' % (h, g) for h, g in fwds)
    os_part, disk_part = os_xml(image, cmdline, machine, disk)
    boot = 'pvh' if disk is None else '%s-%s' % (disk[1], disk[2])
    return f"""<domain type='{virt_type}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>{e(name)}</name>
  <metadata>
    <limpet:deploy xmlns:limpet='{NS}'>
      <limpet:service>{e(service)}</limpet:service>
      <limpet:ports>{ports}</limpet:ports>
      <limpet:boot>{boot}</limpet:boot>
    </limpet:deploy>
  </metadata>
  <memory unit='MiB'>{memory}</memory>
  <vcpu>1</vcpu>
{os_part}
  <features><acpi/></features>
  <cpu mode='{'host-passthrough' if virt_type == 'kvm' else 'maximum'}' check='none'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='{e(console)}' append='on'/></serial>
    <console type='file'><source path='{e(console)}' append='on'/></console>
    <memballoon model='none'/>{disk_part}
  </devices>
  <qemu:commandline>
    <qemu:arg value='-netdev'/>
    <qemu:arg value='{e(netdev)}'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='{e(nic)}'/>
  </qemu:commandline>
</domain>
"""


def ours(uri, prefix):
    """{name: (service, [(host, guest)])} of the PREFIX-N domains."""
    out = {}
    p = virsh(uri, 'list', '--all', '--name')
    for name in p.stdout.split():
        if not re.match(r'^%s-\d+$' % re.escape(prefix), name):
            continue
        x = virsh(uri, 'dumpxml', name).stdout
        m = re.search(r'<limpet:service>([^<]*)</limpet:service>', x)
        if not m:
            continue        # not one deploy made
        ports = re.search(r'<limpet:ports>([^<]*)</limpet:ports>', x)
        fwds = [tuple(int(v) for v in p.split(':')) for p in
                (ports.group(1).split() if ports else [])]
        out[name] = (m.group(1), fwds)
    return out


def deploy(args, uri):
    if args.platform not in ('pc', 'q35'):
        raise DeployError('--platform %s: libvirt deploys pc or q35 (its microvm support '
                          'does not boot a kernel without PCI)' % args.platform)
    if args.firmware != 'bios' and not args.disk:
        raise DeployError('--firmware %s: only with --disk (the image boots by PVH, with '
                          'no firmware of its own)' % args.firmware)
    if not 1 <= args.count <= 100:
        raise DeployError('--count %d: give 1 to 100' % args.count)
    if not re.match(r'^[A-Za-z][A-Za-z0-9_.-]{0,40}$', args.name):
        raise DeployError('--name %s: letters, digits, _ . - (a letter first, 41 at most)'
                          % args.name)
    tls = any(o.startswith('tls=') and paths.truthy(o[4:]) for o in args.options)
    specs = args.port or default_ports(args.service, tls)
    fwds = parse_ports(specs)
    existing = ours(uri, args.name)
    if existing:
        raise DeployError('%s already exist: ./limpet deploy --destroy --name %s first'
                          % (', '.join(sorted(existing)), args.name))
    folder = os.path.join(IMAGES, args.name)
    os.makedirs(folder, mode=0o755, exist_ok=True)
    os.chmod(IMAGES, 0o755)
    os.chmod(folder, 0o755)
    kernel_cmdline = cmdline.make_cmdline(KERNEL_NET, args.app or None)
    disk = None
    if args.disk:
        # ./limpet image's disk, its grub.cfg holding the same command
        # line; read only, so the instances share it.
        path = os.path.join(folder, 'disk.' + args.disk)
        p = subprocess.run([os.path.join(TOP, 'limpet'), 'image', args.service,
                            '--format', args.disk, '--firmware', args.firmware, '-o', path,
                            '--kernel-args', KERNEL_NET] + args.options +
                           (['--'] + args.app if args.app else []),
                           cwd=TOP, capture_output=True, text=True, timeout=3600)
        if p.returncode != 0:
            raise DeployError('making the disk image failed:\n%s' % p.stderr[-3000:])
        os.chmod(path, 0o644)
        disk = (path, args.disk, args.firmware)
    else:
        image = build(args.service, ['platform=pc', 'mode=release'] + args.options)
        shutil.copyfile(image, os.path.join(folder, 'image.elf'))
        os.chmod(os.path.join(folder, 'image.elf'), 0o644)
    virt_type = accelerator()
    for i in range(1, args.count + 1):
        name = '%s-%d' % (args.name, i)
        mine = [(h + i - 1, g) for h, g in fwds]
        for h, _ in mine:
            if h > 65535:
                raise DeployError('--port: instance %d would forward port %d' % (i, h))
        console = os.path.join(folder, '%s.console.log' % name)
        xml_path = os.path.join(folder, '%s.xml' % name)
        with open(xml_path, 'w') as f:
            f.write(domain_xml(name, args.service, os.path.join(folder, 'image.elf'),
                               kernel_cmdline, args.memory,
                               args.platform, virt_type, mine, console, disk))
        virsh(uri, 'define', xml_path)
        virsh(uri, 'start', name)
        print('%s: %s on %s (%s%s), %s; console %s' % (
            name, args.service, args.platform, 'TCG' if virt_type == 'qemu' else 'KVM',
            '' if disk is None else ', %s disk, %s' % (disk[1], disk[2].upper()),
            ', '.join('127.0.0.1:%d -> %d' % m for m in mine) or 'no ports', console))
    return 0


def health(service, fwds):
    if service != 'httpd' or not fwds:
        return ''
    host = [h for h, g in fwds if g == 80]
    if not host:
        return ''
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d/_limpet/stats' % host[0],
                                    timeout=5) as r:
            st = json.load(r)
        return 'healthy: %d requests, %d open, %d device resets' % (
            st['requests'], st['open'], (st.get('driver') or {}).get('device_resets', 0))
    except (OSError, ValueError, KeyError) as e:
        return 'no answer (%s)' % getattr(e, 'reason', e)


def status(args, uri):
    doms = ours(uri, args.name)
    if not doms:
        print('no %s-* domains' % args.name)
        return 0
    for name in sorted(doms, key=lambda n: int(n.rsplit('-', 1)[1])):
        service, fwds = doms[name]
        state = virsh(uri, 'domstate', name).stdout.strip()
        line = '%-20s %-8s %-10s %s' % (name, service, state,
                                         ' '.join('127.0.0.1:%d->%d' % f for f in fwds))
        if state == 'running':
            line += '  ' + health(service, fwds)
        print(line.rstrip())
    return 0


def destroy(args, uri):
    doms = ours(uri, args.name)
    for name in sorted(doms):
        if virsh(uri, 'domstate', name).stdout.strip() != 'shut off':
            virsh(uri, 'destroy', name, check=False)
        virsh(uri, 'undefine', '--nvram', name)     # UEFI's variables too
        print('%s: destroyed and undefined' % name)
    shutil.rmtree(os.path.join(IMAGES, args.name), ignore_errors=True)
    if not doms:
        print('no %s-* domains' % args.name)
    return 0


def main(argv):
    ap = argparse.ArgumentParser(prog='./limpet deploy', description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('service', nargs='?', help='the service to deploy')
    ap.add_argument('options', nargs='*', help='build options (KEY=VALUE)')
    ap.add_argument('--libvirt', action='store_true', help='deploy as libvirt domains')
    ap.add_argument('--status', action='store_true', help='list the domains and their health')
    ap.add_argument('--destroy', action='store_true', help='stop and remove the domains')
    ap.add_argument('--count', type=int, default=1, help='instances (default 1)')
    ap.add_argument('--name', default='limpet', help='domain name prefix (default limpet)')
    ap.add_argument('--platform', default='pc', help='pc (default) or q35')
    ap.add_argument('--memory', type=int,
                    help="MiB per instance (default: the service.conf's memory, else 64)")
    ap.add_argument('--port', action='append', help='HOSTBASE:GUEST (repeatable)')
    ap.add_argument('--disk', choices=['raw', 'qcow2'],
                    help='boot a disk image of ./limpet image through the firmware '
                    'instead of the image directly by PVH')
    ap.add_argument('--firmware', choices=['bios', 'uefi'], default='bios',
                    help='with --disk: SeaBIOS (default) or UEFI (OVMF)')
    ap.add_argument('--connect', default='qemu:///system', help='libvirt URI')
    app = []
    if '--' in argv:
        i = argv.index('--')
        argv, app = argv[:i], argv[i + 1:]
    args = ap.parse_intermixed_args(argv)
    args.app = app
    for o in args.options:
        if '=' not in o:
            ap.error('expected KEY=VALUE build options, got %r' % o)
    modes = args.libvirt + args.status + args.destroy
    if modes != 1:
        ap.error('give one of --libvirt (with a SERVICE), --status, --destroy')
    if args.libvirt and not args.service:
        ap.error('--libvirt needs a SERVICE')
    if (args.status or args.destroy) and args.service:
        ap.error('--status and --destroy take no SERVICE (they use --name)')
    if args.memory is not None and args.memory < 1:
        ap.error('--memory needs a number of MiB, 1 or more')
    try:
        if args.libvirt and args.memory is None:
            args.memory = services.conf_of(args.service).memory_mib()
    except services.ConfError as e:
        ap.error(str(e))
    try:
        check_libvirt(args.connect)
        if args.libvirt:
            return deploy(args, args.connect)
        if args.status:
            return status(args, args.connect)
        return destroy(args, args.connect)
    except DeployError as e:
        print('limpet deploy: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
