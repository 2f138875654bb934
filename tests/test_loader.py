"""Bad images: the loader must say what is wrong in one line and stop the
VM with a non-zero status, never hang or crash.  The bad images are made
here from a real one."""

import re
import struct

import pytest

from conftest import GUEST_RESET, QEMU_FAILED, boot, describe, image_path

ERROR = re.compile(r'^loader: error: \S.*$', re.M)

PT_LOAD = 1


def refused(r, *words):
    """The boot ended with exactly one loader error line naming words."""
    status, out = r
    assert status not in (0, GUEST_RESET, QEMU_FAILED), describe(r)
    lines = [l for l in out.splitlines() if l.strip()]
    assert len(lines) == 1 and ERROR.match(lines[0]), describe(r)
    for w in words:
        assert w in lines[0], describe(r)


@pytest.fixture
def hello():
    path = image_path('hello')
    if not path.exists():
        pytest.fail('no image %s' % path)
    return path.read_bytes()


def phdrs(elf):
    """(offset in the file of each program header, its fields) of an ELF64."""
    phoff, = struct.unpack_from('<Q', elf, 32)
    phentsize, phnum = struct.unpack_from('<HH', elf, 54)
    for i in range(phnum):
        off = phoff + i * phentsize
        yield off, struct.unpack_from('<IIQQQQQQ', elf, off)


def test_missing_initrd():
    refused(boot('hello', initrd=False), 'image')


@pytest.mark.parametrize('size', [0, 40, 63, 64, 1000])
def test_truncated_header(tmp_path, hello, size):
    bad = tmp_path / 'short.elf'
    bad.write_bytes(hello[:size])
    r = boot('hello', image=bad)
    if size == 0 and r.status == QEMU_FAILED:
        pytest.skip('QEMU itself refuses an empty -initrd')
    refused(r)


def test_truncated_segments(tmp_path, hello):
    bad = tmp_path / 'half.elf'
    bad.write_bytes(hello[:len(hello) // 4])
    refused(boot('hello', image=bad), 'outside the file')


def test_text_file(tmp_path):
    bad = tmp_path / 'text.elf'
    bad.write_text('This is not a kernel image, just some text.\n' * 20)
    refused(boot('hello', image=bad), 'ELF')


def test_elf32(tmp_path):
    """A minimal ELF32 i386 executable with one PT_LOAD."""
    ident = b'\x7fELF' + bytes([1, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack('<HHIIIIIHHHHHH', 2, 3, 1, 0x200000, 52, 0, 0, 52, 32, 1,
                               40, 0, 0)
    phdr = struct.pack('<IIIIIIII', PT_LOAD, 0, 0x200000, 0x200000, 0x100, 0x100, 5, 0x1000)
    bad = tmp_path / 'elf32.elf'
    bad.write_bytes((ehdr + phdr).ljust(0x200, b'\x90'))
    refused(boot('hello', image=bad), 'class 1')


def test_wrong_machine(tmp_path, hello):
    elf = bytearray(hello)
    struct.pack_into('<H', elf, 18, 183)		# EM_AARCH64
    bad = tmp_path / 'arm.elf'
    bad.write_bytes(elf)
    refused(boot('hello', image=bad), 'machine 183')


def test_too_big_for_ram(tmp_path, hello):
    """The last segment's bss grown to 128 MiB, booted in 64 MiB."""
    elf = bytearray(hello)
    last = [(off, f) for off, f in phdrs(elf) if f[0] == PT_LOAD][-1]
    off, f = last
    struct.pack_into('<Q', elf, off + 40, f[6] + (128 << 20))	# p_memsz
    bad = tmp_path / 'huge.elf'
    bad.write_bytes(elf)
    refused(boot('hello', image=bad, mem='64M'))


def test_overlaps_loader(tmp_path, hello):
    """The first segment moved down onto the loader at 1 MiB."""
    elf = bytearray(hello)
    off, f = [(off, f) for off, f in phdrs(elf) if f[0] == PT_LOAD][0]
    struct.pack_into('<QQ', elf, off + 16, 0x100000, 0x100000)	# p_vaddr, p_paddr
    bad = tmp_path / 'low.elf'
    bad.write_bytes(elf)
    refused(boot('hello', image=bad), 'loader')


@pytest.mark.parametrize('platform', ['q35', 'microvm'])
def test_refused_on_other_platforms(tmp_path, platform):
    bad = tmp_path / 'text.elf'
    bad.write_text('not an image\n' * 10)
    refused(boot('hello', platform=platform, image=bad))
