"""QEMU's command line for a Limpet guest, per platform, and the
accelerator it runs on.

    qemu-system-x86_64 -M MACHINE -m MEM -cpu max -accel ACCEL
        -kernel IMAGE | -kernel LOADER -initrd IMAGE
        -append CMDLINE -serial stdio -display none -no-reboot
        -nodefaults -no-user-config -device isa-debug-exit,...
        [-netdev ... NIC] [more]

The image boots by its PVH entry (-kernel IMAGE), or through the multiboot
loader as GRUB boots it (-kernel LOADER -initrd IMAGE).
"""

import ipaddress
import os
import re

from . import paths
from .status import DEBUG_EXIT_DEVICE

QEMU = 'qemu-system-x86_64'

# The machines a guest boots on (./limpet run --platform) and QEMU's -M
# for each.  microvm: no option ROMs, no legacy PIT or PIC (the kernel
# uses the local APIC timer and the I/O APIC), the RTC for the wall clock.
MACHINES = {
    'pc': 'pc',
    'q35': 'q35',
    'microvm': 'microvm,x-option-roms=off,pit=off,pic=off,rtc=on',
}
PLATFORMS = tuple(MACHINES)

BOOT_VIA = ('pvh', 'loader')

# The NIC's backend is always n0 (the monitor's set_link n0 off, filter-dump).
NETDEV = 'n0'

# QEMU's user network as ./limpet run sets it up, and the kernel arguments
# that give the guest its address there, before the user's own, which
# win: IPv4, and IPv6 by SLAAC from QEMU's router (fec0::/64).
USER_NET = '10.0.2.0/24'
USER_HOST = '10.0.2.2'
USER_GUEST = '10.0.2.15'
USER_NET_IP4_ARGS = 'ip=%s gateway=%s mask=%s' % (
    USER_GUEST, USER_HOST, ipaddress.ip_network(USER_NET).netmask)
USER_NET_ARGS = USER_NET_IP4_ARGS + ' ip6=slaac'


def machine(platform):
    return MACHINES[platform]


def boot_files(image, via='pvh', loader=paths.LOADER):
    """(kernel, initrd) for QEMU to boot image via 'pvh' (the image is the
    kernel: its PVH entry) or 'loader' (the multiboot loader is, with the
    image as its module, as GRUB boots it)."""
    if via == 'pvh':
        return image, None
    return loader, image


def nic(platform, netdev=NETDEV):
    """The virtio-net NIC on netdev: virtio-net-pci (modern only) on pc and
    q35, virtio-net-device on microvm's virtio-mmio (modern too)."""
    if platform == 'microvm':
        return ['-global', 'virtio-mmio.force-legacy=false',
                '-device', 'virtio-net-device,netdev=%s' % netdev]
    return ['-device', 'virtio-net-pci,disable-legacy=on,netdev=%s' % netdev]


def user_netdev(ports=(), udp=True, netdev=NETDEV):
    """-netdev's value for QEMU's user network with 127.0.0.1:HOST
    forwarded to the guest's GUEST for each (HOST, GUEST) in ports, over
    TCP and (udp) UDP."""
    spec = 'user,id=%s,net=%s,host=%s' % (netdev, USER_NET, USER_HOST)
    for host, guest in ports:
        spec += ',hostfwd=tcp:127.0.0.1:%d-:%d' % (host, guest)
        if udp:
            spec += ',hostfwd=udp:127.0.0.1:%d-:%d' % (host, guest)
    return spec


def tap_netdev(ifname, vhost=False, netdev=NETDEV):
    """-netdev's value for the tap device ifname (scripts/tap-setup.sh's)."""
    return 'tap,id=%s,ifname=%s,script=no,downscript=no%s' % (
        netdev, ifname, ',vhost=on' if vhost else '')


def pcap(path, netdev=NETDEV):
    """Every frame through netdev into a pcap file (QEMU's filter-dump)."""
    return ['-object', 'filter-dump,id=f0,netdev=%s,file=%s' % (netdev, path)]


def command(platform, kernel, append='', initrd=None, mem='64M', accel=None, cpu='max',
            serial='stdio', reboot=False, extra=(), qemu=QEMU, debug_exit=True):
    """QEMU's command line: kernel (and initrd) with the command line
    append on platform's machine, isa-debug-exit for the guest's status
    (unless debug_exit is false: as a VM that libvirt or a cloud makes),
    no default devices; extra (a NIC, a monitor, ...) at the end.  With
    kernel None the firmware boots from the drives in extra.  reboot: a
    reset reboots the guest (else -no-reboot makes QEMU exit with 0)."""
    cmd = [qemu, '-M', MACHINES[platform], '-m', mem, '-cpu', cpu,
           '-accel', accel or accelerator()]
    if kernel is not None:
        cmd += ['-kernel', str(kernel)]
        if initrd is not None:
            cmd += ['-initrd', str(initrd)]
        cmd += ['-append', append]
    cmd += ['-serial', serial, '-display', 'none']
    if not reboot:
        cmd += ['-no-reboot']
    cmd += ['-nodefaults', '-no-user-config']
    if debug_exit:
        cmd += ['-device', DEBUG_EXIT_DEVICE]
    return cmd + list(extra)


# ---- the accelerator -------------------------------------------------------

def kvm_usable():
    """KVM really runs guests here: the CPU has VMX or SVM and /dev/kvm
    opens for reading and writing."""
    try:
        with open('/proc/cpuinfo') as f:
            if not re.search(r'\b(vmx|svm)\b', f.read()):
                return False
        os.close(os.open('/dev/kvm', os.O_RDWR))
        return True
    except OSError:
        return False


def accelerator():
    """QEMU's -accel: LIMPET_ACCEL when set (tcg or kvm), else kvm where
    it is usable and tcg (emulation) elsewhere."""
    return os.environ.get('LIMPET_ACCEL') or ('kvm' if kvm_usable() else 'tcg')


def vhost_usable():
    """/dev/vhost-net opens: a tap NIC can take vhost=on."""
    try:
        os.close(os.open('/dev/vhost-net', os.O_RDWR))
        return True
    except OSError:
        return False
