"""Bad images: the loader must say what is wrong in one line and stop the
VM with a non-zero status, never hang or crash.  The bad images are made
here from a real one."""

import functools
import re
import struct
import subprocess

import pytest

import conftest
from conftest import FAULT_STATUS, GUEST_RESET, QEMU_FAILED, describe, image_path

boot = functools.partial(conftest.boot, via='loader')

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
    """Cut in the middle of the segments' file bytes.  (What follows them,
    debug information, section headers, the symbol table, may go: the
    loader reads none of it.)"""
    end = max(f[2] + f[5] for off, f in phdrs(hello) if f[0] == PT_LOAD)    # p_offset + p_filesz
    bad = tmp_path / 'half.elf'
    bad.write_bytes(hello[:end // 2])
    refused(boot('hello', image=bad), 'outside the file')
    cut = tmp_path / 'cut.elf'
    cut.write_bytes(hello[:end])
    booted(boot('hello', image=cut, app_args=['x']))


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


# ---- good images laid out the hard way -------------------------------------

def booted(r):
    assert r.status == 0 and 'Hello from Limpet!' in r.output, describe(r)


def test_file_overlapping_its_place(tmp_path, hello):
    """QEMU puts the image file just above the loader; 2 MiB of trailing
    bytes make it reach over the image's link address, so the loader
    copies it into place from the top down (every part moves up)."""
    big = tmp_path / 'big.elf'
    big.write_bytes(hello + bytes(2 << 20))
    booted(boot('hello', image=big, app_args=['x']))


def test_section_headers_are_not_read(tmp_path):
    """The loader reads no section header: the image's function symbols
    are in a segment of its own (.limpet_symbols).  An image stripped of
    its symbol table, and one whose section headers point past the end of
    the file, boot, and the kernel still names the function that
    faulted."""
    stripped = tmp_path / 'stripped.elf'
    subprocess.run(['strip', '--strip-all', '-o', str(stripped),
                    str(image_path('test_fault'))], check=True)
    elf = bytearray(image_path('test_fault').read_bytes())
    struct.pack_into('<Q', elf, 40, len(elf) + (1 << 40))      # e_shoff
    struct.pack_into('<HH', elf, 58, 40, 0xffff)                # e_shentsize, e_shnum
    wild = tmp_path / 'wild.elf'
    wild.write_bytes(elf)
    for image in (stripped, wild):
        r = boot('test_fault', image=image, app_args=['ud2'])
        assert r.status == FAULT_STATUS, describe(r)
        assert re.search(r'^ +#\d+ +0x[0-9a-f]{16} <fault_ud2\+0x[0-9a-f]+>', r.output,
                         re.M), describe(r)
