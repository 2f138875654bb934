#!/usr/bin/python3
"""./limpet image: a disk image that boots a Limpet service through firmware.

    ./limpet image SERVICE [--format raw|qcow2|iso] [--firmware bios|uefi|both]
                   [--output FILE] [--kernel-args "ARGS"] [KEY=VALUE build options]
                   [-- APP-ARGS]

The image holds GRUB (Debian's grub-pc-bin and grub-efi-amd64-bin), the
Limpet multiboot loader and the service's image (built for pc, release
unless mode= says otherwise, its debug sections stripped), and a grub.cfg
whose multiboot line carries the kernel arguments (ip=, gateway=, mask=,
log=, ...) and, after "--", the service's arguments.  Change them without
rebuilding by editing /boot/grub/grub.cfg:

  raw, qcow2  one FAT partition (MBR, type EF: an EFI system partition) that
              holds /boot and /EFI/BOOT/BOOTX64.EFI; GRUB's BIOS boot code
              is in the MBR and the gap before the partition.  Edit with
              mtools, no root needed (raw; for qcow2 convert to raw first):
                mcopy -i DISK@@1M ::/boot/grub/grub.cfg grub.cfg
                (edit grub.cfg)
                mcopy -o -i DISK@@1M grub.cfg ::/boot/grub/grub.cfg
  iso         grub-mkrescue's El Torito image (BIOS, and UEFI through its
              FAT boot image), also bootable as a disk.  Replace the file
              with xorriso:
                xorriso -dev IMAGE.iso -boot_image any keep \\
                        -update grub.cfg /boot/grub/grub.cfg

--firmware both (the default) boots on SeaBIOS and on UEFI firmware (OVMF).
Nothing here needs root: the disk is assembled in a file.
"""

import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'scripts'))
import deploy  # noqa: E402  (build(): ./limpet build, shared)
from limpet.cmdline import make_cmdline  # noqa: E402  (deploy put site_scons/ on the path)

EXIT_USAGE = 2
LOADER = os.path.join(TOP, 'build', 'loader', 'limpet-loader.elf')
GRUB_PC = '/usr/lib/grub/i386-pc'
GRUB_EFI = '/usr/lib/grub/x86_64-efi'
SECTOR = 512
PART_START = 2048            # sectors: the partition at 1 MiB, GRUB's core before it
# What GRUB needs to read the FAT partition and boot a multiboot kernel;
# grub-mkimage adds the modules these depend on.
GRUB_MODULES = ['part_msdos', 'fat', 'multiboot2', 'normal', 'configfile', 'echo']


class ImageError(Exception):
    pass


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise ImageError('%s failed (exit %d):\n%s' % (' '.join(cmd), p.returncode,
                                                     (p.stderr or p.stdout).strip()))
    return p


def need(tool, package):
    if shutil.which(tool) is None:
        raise ImageError('%s is missing: ./limpet setup installs %s' % (tool, package))


def grub_cfg(service, kernel_args, app):
    # The app arguments quoted for the kernel's splitter, as ./limpet run
    # quotes them.
    args = make_cmdline(kernel_args, app or None)
    # GRUB's own quoting: the line is one word after the file name each,
    # so a single-quoted whole keeps the kernel's double quotes.
    for ch in ('\n', "'"):
        if ch in args:
            raise ImageError('kernel and app arguments may not hold %r in a grub.cfg' % ch)
    return f"""# Limpet: {service}.  GRUB boots the Limpet loader (multiboot2, which
# passes the ACPI tables' address under UEFI too), and the loader loads the
# service's image (its module).  Everything after the loader's file
# name is the kernel command line: kernel arguments (ip=ADDR gateway=ADDR
# mask=MASK log=LEVEL ...; the image's compiled-in ones when absent), then
# "--" and the service's own arguments.  Edit and boot again: no rebuild.
set timeout=0
set default=0
menuentry "Limpet {service}" {{
	multiboot2 /boot/limpet-loader.elf {args}
	module2 /boot/{service}.elf
	boot
}}
"""


def stage(folder, service, image, cfg):
    """The files every format holds, under folder/boot."""
    os.makedirs(os.path.join(folder, 'boot', 'grub'))
    run(['objcopy', '--strip-debug', image, os.path.join(folder, 'boot', service + '.elf')])
    shutil.copyfile(LOADER, os.path.join(folder, 'boot', 'limpet-loader.elf'))
    with open(os.path.join(folder, 'boot', 'grub', 'grub.cfg'), 'w') as f:
        f.write(cfg)


def tree_bytes(folder):
    return sum(os.path.getsize(os.path.join(d, f))
               for d, _, files in os.walk(folder) for f in files)


def fat_partition(path, folder, sectors):
    """A FAT file system of `sectors` sectors holding folder's tree."""
    with open(path, 'wb') as f:
        f.truncate(sectors * SECTOR)
    # -H: the sectors before the partition, as the boot sector records them.
    run(['mformat', '-i', path, '-T', str(sectors), '-h', '64', '-s', '32',
         '-H', str(PART_START), '-v', 'LIMPET', '::'])
    for d, dirs, files in os.walk(folder):
        rel = os.path.relpath(d, folder)
        for name in sorted(dirs):
            run(['mmd', '-i', path, '::/' + os.path.normpath(os.path.join(rel, name))])
        for name in sorted(files):
            run(['mcopy', '-i', path, os.path.join(d, name),
                 '::/' + os.path.normpath(os.path.join(rel, name))])


def mbr(boot_code, sectors):
    """The MBR: GRUB's boot.img (its code and BPB area, 440 bytes) or none,
    and one active partition entry of type EF (EFI system partition) from
    PART_START.  CHS fields hold the "beyond CHS" value firmware ignores."""
    m = bytearray(SECTOR)
    if boot_code is not None:
        m[:440] = boot_code[:440]
    m[446:462] = struct.pack('<B3sB3sII', 0x80, b'\xfe\xff\xff', 0xef, b'\xfe\xff\xff',
                             PART_START, sectors)
    m[510:512] = b'\x55\xaa'
    return bytes(m)


def disk_image(out, fmt, firmware, folder, work):
    bios, uefi = firmware in ('bios', 'both'), firmware in ('uefi', 'both')
    core = None
    if bios:
        need('grub-mkimage', 'grub-common')
        if not os.path.isdir(GRUB_PC):
            raise ImageError('%s is missing: ./limpet setup installs grub-pc-bin' % GRUB_PC)
        # GRUB's core: found by boot.img at sector 1 (its default), its own
        # blocklist (sector 2 on, as grub-mkimage writes it) loads the rest.
        core_path = os.path.join(work, 'core.img')
        run(['grub-mkimage', '-O', 'i386-pc', '-d', GRUB_PC, '-o', core_path,
             '-p', '(hd0,msdos1)/boot/grub', 'biosdisk'] + GRUB_MODULES)
        with open(core_path, 'rb') as f:
            core = f.read()
        if len(core) > (PART_START - 1) * SECTOR:
            raise ImageError('GRUB\'s core image (%d bytes) does not fit before the '
                             'partition' % len(core))
        with open(os.path.join(GRUB_PC, 'boot.img'), 'rb') as f:
            boot_code = f.read()
    if uefi:
        need('grub-mkimage', 'grub-common')
        if not os.path.isdir(GRUB_EFI):
            raise ImageError('%s is missing: ./limpet setup installs grub-efi-amd64-bin'
                             % GRUB_EFI)
        os.makedirs(os.path.join(folder, 'EFI', 'BOOT'))
        # The prefix has no device: GRUB takes the partition it was loaded from.
        run(['grub-mkimage', '-O', 'x86_64-efi', '-d', GRUB_EFI,
             '-o', os.path.join(folder, 'EFI', 'BOOT', 'BOOTX64.EFI'),
             '-p', '/boot/grub', 'part_gpt'] + GRUB_MODULES)
    need('mformat', 'mtools')
    # Room for the files and for a user's own (another service, a site):
    # twice their size, 16 MiB at least (FAT16 from 16 MiB).
    sectors = max(2 * tree_bytes(folder) // SECTOR + 2048, 16 * 2048)
    part = os.path.join(work, 'part.img')
    fat_partition(part, folder, sectors)
    raw = out if fmt == 'raw' else os.path.join(work, 'disk.raw')
    with open(raw, 'wb') as f:
        f.write(mbr(boot_code if bios else None, sectors))
        if core is not None:
            f.write(core)
        f.seek(PART_START * SECTOR)
        with open(part, 'rb') as p:
            shutil.copyfileobj(p, f)
    if fmt == 'qcow2':
        need('qemu-img', 'qemu-utils')
        run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, out])


def iso_image(out, firmware, folder):
    need('grub-mkrescue', 'grub-common')
    need('xorriso', 'xorriso')
    dirs = {'bios': [GRUB_PC], 'uefi': [GRUB_EFI], 'both': [GRUB_PC, GRUB_EFI]}[firmware]
    for d in dirs:
        if not os.path.isdir(d):
            raise ImageError('%s is missing: ./limpet setup installs grub-pc-bin and '
                             'grub-efi-amd64-bin' % d)
    if firmware != 'bios':
        need('mformat', 'mtools')
    # grub-mkrescue makes an image for each platform it finds installed,
    # or for the one folder -d names.
    cmd = ['grub-mkrescue', '-o', out] + (['-d', dirs[0]] if len(dirs) == 1 else [])
    run(cmd + ['--install-modules=%s' % ' '.join(GRUB_MODULES + ['part_gpt',
                                                                 'iso9660']),
               '--fonts=', '--locales=', '--themes=', folder])


def main(argv):
    ap = argparse.ArgumentParser(prog='./limpet image', description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('service', help='the service to put on the disk')
    ap.add_argument('options', nargs='*', help='build options (KEY=VALUE), as scons takes')
    ap.add_argument('--format', default='raw', choices=['raw', 'qcow2', 'iso'],
                    help='the image format (default raw)')
    ap.add_argument('--firmware', default='both', choices=['bios', 'uefi', 'both'],
                    help='what boots it (default both)')
    ap.add_argument('--output', '-o', help='the file to write (default '
                    'build/images/SERVICE-FIRMWARE.FORMAT)')
    ap.add_argument('--kernel-args', default='',
                    help='kernel arguments for grub.cfg, e.g. "ip=10.0.2.15 '
                    'gateway=10.0.2.2 mask=255.255.255.0"')
    app = []
    if '--' in argv:
        i = argv.index('--')
        argv, app = argv[:i], argv[i + 1:]
    args = ap.parse_args(argv)
    for o in args.options:
        if not re.match(r'^[a-z_]+=', o):
            ap.error('%r is not a build option (KEY=VALUE)' % o)
        if o.startswith('platform=') and o != 'platform=pc':
            ap.error('disk images boot the pc image (q35 boots it too): drop %s' % o)
    options = ['platform=pc']
    if not any(o.startswith('mode=') for o in args.options):
        options.append('mode=release')
    options += args.options
    out = args.output or os.path.join(TOP, 'build', 'images', '%s-%s.%s' % (
        args.service, args.firmware, 'img' if args.format == 'raw' else args.format))
    out = os.path.abspath(out)
    try:
        cfg = grub_cfg(args.service, args.kernel_args, app)
        image = deploy.build(args.service, options)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with tempfile.TemporaryDirectory(prefix='limpet-image.') as work:
            folder = os.path.join(work, 'root')
            stage(folder, args.service, image, cfg)
            tmp = out + '.part'
            if args.format == 'iso':
                iso_image(tmp, args.firmware, folder)
            else:
                disk_image(tmp, args.format, args.firmware, folder, work)
            os.replace(tmp, out)
    except (ImageError, deploy.DeployError) as e:
        print('limpet image: %s' % e, file=sys.stderr)
        return 1
    finally:
        if os.path.exists(out + '.part'):
            os.unlink(out + '.part')
    print('%s: %s, %s, %s firmware; kernel command line in /boot/grub/grub.cfg'
          % (os.path.relpath(out, os.getcwd()), args.service, args.format, args.firmware))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
