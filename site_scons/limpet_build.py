"""Helpers for Limpet's SConstruct: option checks, the recipe that builds
newlib for our freestanding target, and an image's symbols.  What the
front end, the tests and the bench also know (services and their
service.conf, variants and image names) is the limpet package's."""

import ipaddress
import mmap
import os
import shutil
import struct
import subprocess

from SCons.Action import Action
from SCons.Errors import UserError

from limpet import paths
from limpet import services as svc

TOP = str(paths.TOP)
services = svc.services
split_services = svc.split_services


def service_conf(name):
    """The service.conf of service name (limpet.services.Conf); a bad one
    stops the build, naming the file and line."""
    try:
        return svc.conf_of(name)
    except svc.ConfError as e:
        raise UserError(str(e))


def check_service(key, value, env):
    known = services()
    names = split_services(value)
    bad = [n for n in names if n not in known]
    if not names or bad:
        raise UserError("Invalid value for option %s: %s.  Valid values are: %s "
                        "(comma-separated, or 'all')"
                        % (key, ','.join(bad) or repr(value), ', '.join(known)))


def check_ipv4(key, value, env):
    """An IPv4 address in dotted-quad form, each part 0..255."""
    parts = value.split('.')
    ok = len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts)
    if not ok:
        raise UserError("Invalid value for option %s: %r is not an IPv4 address "
                        "(expected four numbers 0-255 separated by dots, e.g. 10.0.5.3)"
                        % (key, value))


def check_netmask(key, value, env):
    """A dotted-quad netmask: ones, then zeros (255.255.255.0, not 255.0.255.0)."""
    check_ipv4(key, value, env)
    bits = 0
    for p in value.split('.'):
        bits = bits << 8 | int(p)
    inverted = ~bits & 0xffffffff
    if inverted & (inverted + 1):
        raise UserError("Invalid value for option %s: %r is not a netmask "
                        "(the ones must come first, e.g. 255.255.255.0)" % (key, value))


def _ipv6_unicast(text):
    """text as an IPv6 unicast host address a static configuration may
    use, or the reason it may not."""
    try:
        a = ipaddress.IPv6Address(text)
    except ValueError:
        return 'not an IPv6 address (e.g. fd00:5::3)'
    if a.is_multicast or a.is_unspecified or a.is_loopback or a.ipv4_mapped:
        return 'not a usable host address'
    return None


def check_ipv6(key, value, env):
    """ip6=: ADDR/PREFIX (a static address), slaac or off.  The kernel
    argument ip6= takes the same forms (net/net.c)."""
    if value in ('slaac', 'off'):
        return
    addr, sep, plen = value.partition('/')
    why = _ipv6_unicast(addr) if sep else 'no prefix length (e.g. fd00:5::3/64)'
    if why is None and not (plen.isdigit() and 1 <= int(plen) <= 128 and
                            (plen == '0' or not plen.startswith('0'))):
        why = 'the prefix length is not 1-128'
    if why is None and ipaddress.IPv6Address(addr).is_link_local:
        why = 'a link-local address (the guest makes its own from the MAC)'
    if why:
        raise UserError("Invalid value for option %s: %r: %s; expected ADDR/PREFIX, "
                        "slaac or off" % (key, value, why))


def check_gateway6(key, value, env):
    """gateway6=: an IPv6 unicast address, or empty for none."""
    if value == '':
        return
    why = _ipv6_unicast(value)
    if why:
        raise UserError("Invalid value for option %s: %r: %s" % (key, value, why))


# ---- what the build prints --------------------------------------------------
#
# As kbuild does: one short line a file, what is done and to what (CC
# kernel/main.c, AS ..., LD build/pc-debug-info/hello.elf), and the whole
# command lines with V=1.  Only what is printed changes: the commands, and
# their errors and warnings, are the same either way.
SHORT = {
    'CCCOMSTR': 'CC ${SHORTPATH(SOURCE)}',
    'SHCCCOMSTR': 'CC ${SHORTPATH(SOURCE)}',
    'ASCOMSTR': 'AS ${SHORTPATH(SOURCE)}',
    'ASPPCOMSTR': 'AS ${SHORTPATH(SOURCE)}',
    'LINKCOMSTR': 'LD $TARGET',
    'ARCOMSTR': 'AR $TARGET',
    'RANLIBCOMSTR': 'RANLIB $TARGET',
}


def short_path(node):
    """A source as the user knows it: kernel/main.c, not the variant's
    copy of its name; a generated source by where it was generated."""
    return node.path if node.has_builder() else node.srcnode().path


def short_output(env, verbose):
    """Give env the short lines, unless verbose (V=1)."""
    if not verbose:
        env.Replace(SHORTPATH=short_path, **SHORT)


def action(env, fn, short, verbose, long=None, **kw):
    """An Action of the Python function fn, printed as short (GEN $TARGET)
    or with V=1 as long (by default, fn's call as SCons prints it)."""
    # SCons.Action's, not env.Action(), which would substitute $TARGET now.
    if not verbose:
        return Action(fn, short, **kw)
    return Action(fn, long, **kw) if long else Action(fn, **kw)


def _write_value(target, source, env):
    with open(str(target[0]), 'w') as f:
        f.write(source[0].read())
    return 0


def text_file(env, target, text, verbose):
    """target holding text (a generated source), rebuilt when text changes."""
    return env.Command(target, env.Value(text),
                       action(env, _write_value, 'GEN $TARGET', verbose))


def gcc_include_dir():
    """gcc's own freestanding headers (stddef.h, stdint.h, cpuid.h, ...)."""
    return subprocess.check_output(['gcc', '-print-file-name=include'], text=True).strip()


def libgcc():
    return subprocess.check_output(['gcc', '-print-libgcc-file-name'], text=True).strip()


# newlib is built once for all variants, with the flags every piece of
# Limpet uses: no red zone (interrupts run on the current stack), no PIC
# (the image is linked at a fixed address), frame pointers for backtraces.
NEWLIB_CFLAGS = ('-ffreestanding -fno-pic -fno-pie -mno-red-zone -O2 -g '
                 '-fno-stack-protector -fno-omit-frame-pointer')
NEWLIB_CONFIGURE = ('--host=x86_64-elf --disable-multilib '
                    '--disable-newlib-supplied-syscalls '
                    '--enable-newlib-io-long-long --enable-newlib-io-c99-formats')


def newlib_action(target, source, env):
    """configure, make and install newlib into the folder above target[0]."""
    build = os.path.abspath(env['NEWLIB_BUILD'])
    prefix = os.path.join(build, 'install')
    src = os.path.dirname(os.path.abspath(str(source[0])))
    obj = os.path.join(build, 'obj')
    # Start from a clean tree: a build that was interrupted leaves one
    # that make cannot always finish.
    shutil.rmtree(obj, ignore_errors=True)
    shutil.rmtree(prefix, ignore_errors=True)
    os.makedirs(obj)
    log = os.path.join(build, 'build.log')
    jobs = str(os.cpu_count() or 1)
    cmd = ('cd "%s" && "%s/configure" %s --prefix="%s" CC=gcc AR=ar RANLIB=ranlib '
           'CFLAGS="%s" >"%s" 2>&1 && make -j%s >>"%s" 2>&1 && make install >>"%s" 2>&1'
           % (obj, src, NEWLIB_CONFIGURE, prefix, NEWLIB_CFLAGS, log, jobs, log, log))
    print('newlib: building for x86_64-elf (about a minute, once; log in %s)' % log)
    if subprocess.call(cmd, shell=True) != 0:
        print('newlib: build failed; the end of %s:' % log)
        subprocess.call(['tail', '-n', '30', log])
        return 1
    return 0



# ---- an image's own symbols (kernel/include/kernel/symbols.h) -------------
SHT_SYMTAB = 2
STT_FUNC = 2
ELF64_SYM = struct.Struct('<IBBHQQ')


def function_symbols(path):
    """[(name, Elf64_Sym fields)] of the STT_FUNC symbols of the ELF64
    little-endian file at path, from its .symtab and the string table
    that section links to.  The file is mapped, not read: only the pages
    of the headers and the two tables are touched, however large the
    image (httpd's holds its whole site)."""
    with open(path, 'rb') as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return _function_symbols(path, data)


def _function_symbols(path, data):
    if data[:4] != b'\x7fELF' or data[4] != 2 or data[5] != 1:
        raise UserError('%s: not a little-endian ELF64 file' % path)
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum = struct.unpack_from('<HH', data, 0x3a)

    def section(i):
        _, kind, _, _, off, size, link, _, _, _ = struct.unpack_from(
            '<IIQQQQIIQQ', data, shoff + i * shentsize)
        return kind, off, size, link

    for i in range(shnum):
        kind, off, size, link = section(i)
        if kind == SHT_SYMTAB:
            _, stroff, strsize, _ = section(link)
            strtab = data[stroff:stroff + strsize]
            out = []
            for at in range(off, off + size - ELF64_SYM.size + 1, ELF64_SYM.size):
                sym = ELF64_SYM.unpack_from(data, at)
                if sym[1] & 0xf == STT_FUNC and sym[4] != 0:
                    name = strtab[sym[0]:strtab.index(b'\0', sym[0])]
                    out.append((name, sym))
            return out
    raise UserError('%s has no symbol table' % path)


def symbols_object(target, source, env):
    """Write target[0], an object whose section .limpet_symbols holds the
    function symbols of the image source[0] in the form symbols_init_blob()
    reads (kernel/include/kernel/symbols.h): a header (magic, count, size
    of the names), the Elf64_Sym entries, then the names."""
    syms, names = [], bytearray(b'\0')
    for name, sym in function_symbols(str(source[0])):
        syms.append(ELF64_SYM.pack(len(names), *sym[1:]))
        names += name + b'\0'
    blob = (struct.pack('<8sII', b'LIMPSYM1', len(syms), len(names)) + b''.join(syms)
            + bytes(names))
    raw = str(target[0]) + '.bin'
    with open(raw, 'wb') as f:
        f.write(blob)
    # objcopy also adds _binary_* symbols: absolute or in the new section,
    # they move nothing.
    return subprocess.call(['objcopy', '-I', 'binary', '-O', 'elf64-x86-64',
                            '-B', 'i386:x86-64', '--rename-section',
                            '.data=.limpet_symbols,alloc,load,readonly,data,contents',
                            '--set-section-alignment', '.limpet_symbols=8',
                            raw, str(target[0])])
