"""Bootable disk images (./limpet image, scripts/image.py): raw, qcow2 and
ISO images of httpd, each booted with no -kernel by the firmware it was
made for, SeaBIOS (QEMU's default) or OVMF (UEFI, Debian's ovmf), on pc
and q35.  Each must answer HTTP 200 and, when QEMU's power button is
pressed, power off cleanly with status 0: the ACPI tables are found under
UEFI too (GRUB's multiboot2 passes the RSDP).  grub.cfg's kernel arguments
change a booted image without a rebuild.  Traffic stays on 127.0.0.1 (QEMU's
user network)."""

import re
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import Console, decode_status, limpet, monitor, qemu
from test_httpd import free_port

OVMF = '/usr/share/ovmf/OVMF.fd'
USER_NET = qemu.USER_NET_IP4_ARGS


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    """(format, firmware) -> path, made once for the module."""
    folder = tmp_path_factory.mktemp('images')
    made = {}

    def make(fmt, firmware, kernel_args=USER_NET):
        key = (fmt, firmware, kernel_args)
        if key not in made:
            out = folder / ('httpd-%s-%d.%s' % (firmware, len(made), fmt))
            r = limpet('image', 'httpd', '--format', fmt, '--firmware', firmware,
                       '--kernel-args', kernel_args, '-o', str(out), timeout=600)
            assert r.returncode == 0, r.stdout + r.stderr
            assert out.exists() and out.stat().st_size > 0, r.stdout + r.stderr
            made[key] = out
        return made[key]
    return make


class Firmware(Console):
    """QEMU booting a disk image through its firmware, no -kernel."""

    who = 'the disk image'

    def __init__(self, tmp_path, disk, fmt, firmware, machine, cdrom=False):
        self.port = free_port()
        self.mon = tmp_path / ('mon-%d' % self.port)
        media = 'cdrom' if cdrom else 'disk'
        extra = ['-drive', 'file=%s,format=%s,if=ide,media=%s,snapshot=on' % (disk, fmt, media),
                 '-netdev', 'user,id=n0,hostfwd=tcp:127.0.0.1:%d-:80' % self.port,
                 '-device', qemu.nic('pc')[-1] + ',romfile=',
                 '-monitor', 'unix:%s,server=on,wait=off' % self.mon]
        if firmware == 'uefi':
            extra += ['-bios', OVMF]
        cmd = qemu.command(machine, None, mem='128M', extra=extra)
        self.spawn(cmd)

    def get(self, path='/', timeout=120):
        """The first answer to GET path, retried until the guest is up."""
        end = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen('http://127.0.0.1:%d%s' % (self.port, path),
                                            timeout=5) as r:
                    return r.status, r.read()
            except OSError:
                if time.monotonic() > end or self.proc.poll() is not None:
                    pytest.fail('no HTTP answer within %ss%s' % (timeout, self.describe()))
                time.sleep(0.3)

    def power_off(self, timeout=60):
        monitor(self.mon, 'system_powerdown')
        return decode_status(self.wait_exit(timeout, 'the power button'))


def boots_and_powers_off(tmp_path, disk, fmt, firmware, machine, cdrom=False):
    g = Firmware(tmp_path, disk, 'raw' if fmt == 'iso' else fmt, firmware, machine, cdrom)
    try:
        status, body = g.get()
        assert status == 200 and b'<html' in body.lower(), g.describe()
        g.wait_for(re.compile(r'^net: .* 10\.0\.2\.15/', re.M))
        assert g.power_off() == 0, g.describe()
        assert 'httpd: shutting down' in g.output, g.describe()
        return g.output
    finally:
        g.stop()


@pytest.mark.parametrize('fmt,made_for,firmware,machine', [
    ('raw', 'both', 'bios', 'pc'),
    ('raw', 'both', 'uefi', 'q35'),
    ('qcow2', 'both', 'bios', 'q35'),
    ('qcow2', 'both', 'uefi', 'pc'),
    ('raw', 'bios', 'bios', 'pc'),
    ('raw', 'uefi', 'uefi', 'q35'),
])
def test_disk_boots(tmp_path, images, fmt, made_for, firmware, machine):
    boots_and_powers_off(tmp_path, images(fmt, made_for), fmt, firmware, machine)


@pytest.mark.parametrize('made_for,firmware,machine', [
    ('both', 'bios', 'pc'),
    ('both', 'uefi', 'q35'),
    ('bios', 'bios', 'q35'),
    ('uefi', 'uefi', 'pc'),
])
def test_iso_boots(tmp_path, images, made_for, firmware, machine):
    boots_and_powers_off(tmp_path, images('iso', made_for), 'iso', firmware, machine,
                         cdrom=True)


def test_grub_cfg_edited_without_rebuilding(tmp_path, images):
    """An image made with no kernel arguments keeps the compiled-in address
    (10.0.5.3), which QEMU's user network cannot reach; the README's mtools
    commands put the user network's address into grub.cfg, and the same
    image then answers, with an app argument from grub.cfg too."""
    disk = tmp_path / 'edit.img'
    shutil.copyfile(images('raw', 'both', kernel_args=''), disk)
    cfg = tmp_path / 'grub.cfg'
    subprocess.run(['mcopy', '-i', '%s@@1M' % disk, '::/boot/grub/grub.cfg', str(cfg)],
                   check=True)
    text = cfg.read_text()
    line = re.search(r'^\s*multiboot2 /boot/limpet-loader\.elf *$', text, re.M)
    assert line, text
    cfg.write_text(text.replace(line.group(0), line.group(0).rstrip() + ' ' + USER_NET +
                                ' -- --header-timeout 4321'))
    subprocess.run(['mcopy', '-o', '-i', '%s@@1M' % disk, str(cfg), '::/boot/grub/grub.cfg'],
                   check=True)
    out = boots_and_powers_off(tmp_path, disk, 'raw', 'bios', 'pc')
    assert '10.0.2.15' in out


def test_iso_grub_cfg_replaced_with_xorriso(tmp_path, images):
    """The README's xorriso command replaces grub.cfg inside an ISO."""
    iso = tmp_path / 'edit.iso'
    shutil.copyfile(images('iso', 'bios', kernel_args=''), iso)
    cfg = tmp_path / 'grub.cfg'
    subprocess.run(['xorriso', '-osirrox', 'on', '-indev', str(iso), '-extract',
                    '/boot/grub/grub.cfg', str(cfg)], check=True, capture_output=True)
    text = cfg.read_text()
    cfg.write_text(re.sub(r'^(\s*multiboot2 /boot/limpet-loader\.elf) *$',
                          r'\1 ' + USER_NET, text, flags=re.M))
    cfg.chmod(0o644)
    subprocess.run(['xorriso', '-dev', str(iso), '-boot_image', 'any', 'keep',
                    '-update', str(cfg), '/boot/grub/grub.cfg'], check=True,
                   capture_output=True)
    boots_and_powers_off(tmp_path, iso, 'iso', 'bios', 'pc', cdrom=True)


@pytest.mark.parametrize('args,says', [
    (['nosuch'], 'nosuch'),
    (['httpd', '--format', 'vhd'], 'vhd'),
    (['httpd', '--firmware', 'coreboot'], 'coreboot'),
    (['httpd', 'platform=microvm'], 'platform=microvm'),
    (['httpd', 'not-an-option'], 'KEY=VALUE'),
    (['httpd', '--kernel-args', "log='debug'"], 'grub.cfg'),
])
def test_bad_requests_are_refused(tmp_path, args, says):
    out = tmp_path / 'never.img'
    r = limpet('image', *args, '-o', str(out))
    assert r.returncode != 0, r.stdout + r.stderr
    assert says in r.stderr, r.stdout + r.stderr
    assert not out.exists() and not (tmp_path / 'never.img.part').exists()
