"""Site packing for httpd: a directory of files becomes the tables that
services/httpd/content.h describes, in C, and the files' bytes, which the
assembler takes from the files themselves (.incbin).

    scons service=httpd www=PATH        (default services/httpd/www)

scan() walks the directory once when SConstruct is read; its listing
(URL path, file on disk, size, mtime of every entry) becomes a Value()
node, so adding, removing, renaming or touching a file rebuilds, and the
files themselves are sources, so a change of content rebuilds.  The
packer then works from that listing alone: the same listing and the
same contents give the same files, byte for byte, and a second build
does nothing.

Every regular file becomes one struct httpd_file in site_content.c:
MIME type by extension, strong ETags (the first 16 bytes of the SHA-256
of the bytes served, in hex, quoted), Last-Modified (the file's mtime as
an IMF-fixdate, RFC 9110 5.6.7), and its body and, when the type
compresses and the result is smaller, a gzip variant, both named by
extern symbols.  The bodies are defined in site_data_K.s, one file of
assembler for each chunk of them: each body on a 64-byte boundary in
.rodata.site (which kernel/kernel.ld puts in .rodata: the server hands
them to tcp_write() without copying), its bytes an .incbin of the
site's file, its size checked by the assembler.  The gzip variants are
written to site_gz_K.bin in the build folder and taken from there the
same way.  Symbolic links are followed when they stay inside the root
and refused when they leave it; sockets, FIFOs and devices are skipped
with a warning.

What a build costs.  Time grows with the bytes, in four passes over
them: the packer reads each file once (SHA-256, and gzip -9 for the
compressible types, by far the slowest at 20 to 40 MB/s of text), SCons
hashes it for its signature, `as` copies it into an object and the two
links copy it into the image.  Memory does not grow with the site's
bytes: the packer holds a block of 1 MiB, `as` one chunk (up to CHUNK =
16 MiB of bodies and their gzip variants), ld one input section (a
chunk), SCons a block of 1 MiB as it hashes (SConstruct sets that: by
default SCons 4.4 read a file under 64 MiB whole and a larger one, an
image, 64 MiB at a time), and about 8 KB a file.  A file larger than a
chunk is a chunk of its own, which as and ld then hold whole.  Measured
on 2 CPUs (Debian 12, gcc 12, binutils 2.40, SCons 4.4, scons -j2, the
kernel already built), the whole build of the image (packing, compiling,
assembling, both links), sites of half text and half random bytes:

    site                   before: a C file of arrays       now
    28 MB, 2,002 files     44 s, 2.2 GB                     2.2 s, 71 MB
    200 MB, 400 files      about 7 min, 6.1 GB: 22 s and    6.4 s, 71 MB
                           2.7 GB to write the 912 MB C
                           file, 385 s and 6.1 GB for gcc
    20 MB, 20,000 files                                     7.7 s, 230 MB

The peak is SCons's own (ld took 38 MB, `as` 30 MB, for 200 MB), and a
second build of the 200 MB site, which does nothing, takes 2 s.
tests/test_httpd_site.py builds a 204 MB site, mostly random, and checks
that no process of the build passed 500 MB (3.7 s, 69 MB).

This module does not import SCons at the top, so that the tests can call
generate() directly; pack_site() is the SConstruct side.
"""

import email.utils
import gzip
import hashlib
import json
import os
import stat
import sys
import zlib

# Extensions (lower case) -> Content-Type.  Text types say their charset.
MIME_TYPES = {
    'html': 'text/html; charset=utf-8',
    'htm': 'text/html; charset=utf-8',
    'css': 'text/css; charset=utf-8',
    'js': 'text/javascript; charset=utf-8',
    'mjs': 'text/javascript; charset=utf-8',
    'json': 'application/json; charset=utf-8',
    'txt': 'text/plain; charset=utf-8',
    'xml': 'application/xml; charset=utf-8',
    'svg': 'image/svg+xml',
    'png': 'image/png',
    'jpg': 'image/jpeg',
    'jpeg': 'image/jpeg',
    'gif': 'image/gif',
    'ico': 'image/vnd.microsoft.icon',
    'webp': 'image/webp',
    'woff': 'font/woff',
    'woff2': 'font/woff2',
    'pdf': 'application/pdf',
    'wasm': 'application/wasm',
}
DEFAULT_MIME = 'application/octet-stream'

# The types worth a gzip variant: text and other formats that are not
# compressed already (PNG, JPEG, GIF, WebP, WOFF/WOFF2 and PDF streams are).
COMPRESSIBLE = {'html', 'htm', 'css', 'js', 'mjs', 'json', 'txt', 'xml', 'svg', 'ico',
                'wasm'}

# struct httpd_file's size fields are uint32_t.
MAX_FILE_SIZE = 0xffffffff

# Bodies start on a cache line.
ALIGN = 64

GENERATOR = os.path.abspath(__file__)


class SiteError(Exception):
    """The site cannot be packed; the message says why and what to do."""


def warn(msg):
    print('scons: warning: www: %s' % msg, file=sys.stderr)


def mime_type(name):
    ext = name.rsplit('.', 1)[1].lower() if '.' in name.lstrip('.') else ''
    return MIME_TYPES.get(ext, DEFAULT_MIME), ext in COMPRESSIBLE


def _inside(path, root):
    return path == root or path.startswith(root.rstrip('/') + '/')


def scan(root):
    """The site under root as a listing: {'root': ..., 'dirs': [url...],
    'files': [[url, disk path, size, mtime], ...]}, URLs and paths as
    strings (undecodable bytes kept with surrogateescape), each list in
    strcmp() order of the URL's bytes.  Raises SiteError."""
    if not os.path.isdir(root):
        raise SiteError('%s is not a directory' % root)
    top = os.path.realpath(root)
    dirs, files = ['/'], []

    def walk(disk, url, chain):
        try:
            entries = sorted(os.scandir(disk), key=lambda e: os.fsencode(e.name))
        except OSError as e:
            raise SiteError('cannot list %s: %s' % (disk, e.strerror))
        for entry in entries:
            path = os.path.join(disk, entry.name)
            u = url + '/' + entry.name
            if entry.is_symlink():
                target = os.path.realpath(path)
                if not _inside(target, top):
                    raise SiteError('%s is a symbolic link to %s, outside the site root %s: '
                                    'refused (copy the file in, or point the link inside)'
                                    % (path, target, top))
                if not os.path.exists(target):
                    warn('%s is a dangling symbolic link: skipped' % path)
                    continue
            try:
                st = os.stat(path)
            except OSError as e:
                raise SiteError('cannot stat %s: %s' % (path, e.strerror))
            if stat.S_ISDIR(st.st_mode):
                real = os.path.realpath(path)
                if real in chain:
                    warn('%s is a link to one of its own parent folders: skipped' % path)
                    continue
                dirs.append(u)
                walk(path, u, chain | {real})
            elif stat.S_ISREG(st.st_mode):
                if st.st_size > MAX_FILE_SIZE:
                    raise SiteError('%s is %d bytes; a packed file can have at most %d'
                                    % (path, st.st_size, MAX_FILE_SIZE))
                if not os.access(path, os.R_OK):
                    raise SiteError('cannot read %s: permission denied' % path)
                files.append([u, path, st.st_size, int(st.st_mtime)])
            else:
                warn('%s is not a regular file or a folder (a socket, FIFO or device): '
                     'skipped' % path)

    walk(top, '', frozenset([top]))
    key = lambda u: os.fsencode(u)
    dirs.sort(key=key)
    files.sort(key=lambda f: key(f[0]))
    return {'root': top, 'dirs': dirs, 'files': files}


def listing_text(site):
    """The listing as text, for a Value() node: it changes whenever a
    file is added, removed, renamed, resized or touched."""
    return json.dumps(site, ensure_ascii=True, sort_keys=True, indent=0)


# ---- packing ------------------------------------------------------------
#
# The site becomes three kinds of file, and none of them is made by holding
# more than one block of one file in memory:
#
#   site_content.c   the tables of struct httpd_file, metadata only: each
#                    body is an extern symbol;
#   site_data_K.s    the assembler of chunk K of the bodies: each at a
#                    64-byte boundary in .rodata.site, its bytes taken by
#                    .incbin from the site's file itself;
#   site_gz_K.bin    chunk K's gzip variants one after another, which
#                    site_data_K.s takes by .incbin with an offset and size.

# A chunk holds bodies up to this many bytes (a larger file is a chunk of
# its own); its gzip variants are smaller still.  The assembler holds one
# chunk, the linker one input section, in memory.
CHUNK = 16 << 20

# Files are read, hashed and compressed this many bytes at a time.
BLOCK = 1 << 20

# The bodies' symbols: SYMBOL % index, and SYMBOL % index + '_gz'.
SYMBOL = 'httpd_site_f%d'

# The bytes an assembler string holds as they are (asm_string()).
_ASM_PLAIN = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
                       b'0123456789 /._-+,=@:')


def c_string(text):
    """A C string literal for text's bytes (UTF-8, or the original bytes
    of an undecodable name): printable ASCII as it is, except the
    quote, backslash and question mark (no trigraphs); every other byte
    as a three-digit octal escape, which never runs into the next
    character the way a \\x escape does."""
    data = os.fsencode(text) if isinstance(text, str) else text
    out = []
    for b in data:
        if 0x20 <= b <= 0x7e and b not in b'"\\?':
            out.append(chr(b))
        else:
            out.append('\\%03o' % b)
    return '"' + ''.join(out) + '"'


def c_comment(text):
    """text made safe inside a /* comment */."""
    return c_string(text)[1:-1].replace('*/', '*\\/')


def asm_string(text):
    """A GNU as string literal for text's bytes (a path or a name):
    letters, digits and a few harmless characters as they are, every
    other byte (quote, backslash, '#', '*', newline, UTF-8...) as a
    three-digit octal escape, which as reads as exactly three digits.
    Without the quotes it is also safe in a '#' comment."""
    data = os.fsencode(text) if isinstance(text, str) else text
    return '"' + ''.join(chr(b) if b in _ASM_PLAIN else '\\%03o' % b for b in data) + '"'


def etag(digest):
    """The strong ETag of the bytes whose SHA-256 digest is given."""
    return '"%s"' % digest[:16].hex()


def gzipped(data):
    """RFC 1952 bytes with no name and mtime 0: the same input always
    gives the same output.  _read() writes the same bytes, a block at a
    time."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def _gzip_object():
    # zlib's own gzip wrapper (wbits 31): no name, mtime 0, as gzipped().
    return zlib.compressobj(9, zlib.DEFLATED, 31)


def http_date(t):
    """IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"."""
    return email.utils.formatdate(t, usegmt=True)


def chunks(site):
    """The bodies grouped for the assembler: lists of indices into
    site['files'], in order, each up to CHUNK bytes of bodies (a larger
    file alone); empty files are in none.  It depends on the listing
    alone, so SCons knows every file it will get before any is read."""
    out, cur, size = [], [], 0
    for i, (_, _, n, _) in enumerate(site['files']):
        if not n:
            continue
        if cur and size + n > CHUNK:
            out.append(cur)
            cur, size = [], 0
        cur.append(i)
        size += n
    if cur:
        out.append(cur)
    return out


def _read(path, size, gz_out):
    """Read the file at path in blocks: its SHA-256 digest, and when
    gz_out (a file) is given, its gzip variant written there: (digest,
    (gz size, gz digest) or None).  Raises SiteError if the file is not
    `size` bytes long any more."""
    sha = hashlib.sha256()
    gz_sha, gz_size, z = hashlib.sha256(), 0, _gzip_object() if gz_out else None
    got = 0
    try:
        with open(path, 'rb') as f:
            while True:
                block = f.read(BLOCK)
                if not block:
                    break
                got += len(block)
                sha.update(block)
                if z:
                    out = z.compress(block)
                    gz_sha.update(out)
                    gz_size += len(out)
                    gz_out.write(out)
    except OSError as e:
        raise SiteError('cannot read %s: %s' % (path, e.strerror))
    if got != size:
        raise SiteError('%s changed while the site was packed: build again' % path)
    if not z:
        return sha.digest(), None
    out = z.flush()
    gz_sha.update(out)
    gz_out.write(out)
    return sha.digest(), (gz_size + len(out), gz_sha.digest())


def _asm_body(sym, url, path, size, digest, skip=None):
    """One body in the assembler: aligned, global (hidden: the image is
    one program), sized, and checked for the size the tables say."""
    return ['# %s: %d bytes, sha256 %s' % (asm_string(url)[1:-1], size, digest.hex()),
            '\t.balign %d' % ALIGN,
            '\t.globl %s' % sym,
            '\t.hidden %s' % sym,
            '\t.type %s, @object' % sym,
            '%s:' % sym,
            '\t.incbin %s%s' % (asm_string(path), '' if skip is None else ', %d, %d'
                                % (skip, size)),
            '\t.if . - %s - %d' % (sym, size),
            '\t.error %s' % asm_string('%s changed while the site was packed: build again'
                                       % path),
            '\t.endif',
            '\t.size %s, %d' % (sym, size),
            '']


def pack(site, c_path, chunk_paths, label=None):
    """Write the packed site for a listing from scan(): the C tables at
    c_path and, for chunk K of chunks(site), its assembler and gzip
    variants at the paths chunk_paths[K] = (s_path, gz_path).  The same
    listing and the same contents give the same files, byte for byte.
    Raises SiteError."""
    label = label or site['root']
    groups = chunks(site)
    if len(groups) != len(chunk_paths):
        raise ValueError('%d chunks, %d pairs of paths' % (len(groups), len(chunk_paths)))
    files = site['files']
    # index -> (SHA-256 of the body, (gz size, gz SHA-256) or None)
    hashes = {}
    for k, (group, (s_path, gz_path)) in enumerate(zip(groups, chunk_paths)):
        gz_path = os.path.abspath(gz_path)
        asm = ['# Generated by site_scons/limpet_site.py from %s: do not edit.'
               % asm_string(label)[1:-1],
               '# Chunk %d of %d: %d bodies; the tables are in site_content.c.'
               % (k + 1, len(groups), len(group)),
               '\t.section .note.GNU-stack,"",@progbits',
               '\t.section .rodata.site,"a",@progbits',
               '']
        gz_asm = []
        with open(gz_path, 'wb') as gz_out:
            for i in group:
                url, path, size, _ = files[i]
                compressible = mime_type(url.rsplit('/', 1)[1])[1]
                offset = gz_out.tell()
                digest, gz = _read(path, size, gz_out if compressible else None)
                if gz is not None and gz[0] >= size:
                    gz = None
                    gz_out.seek(offset)
                    gz_out.truncate()
                hashes[i] = digest, gz
                asm += _asm_body(SYMBOL % i, url, os.path.abspath(path), size, digest)
                if gz is not None:
                    gz_asm += _asm_body(SYMBOL % i + '_gz', url + ' (gzip)', gz_path,
                                        gz[0], gz[1], skip=offset)
        with open(s_path, 'w', encoding='ascii') as f:
            f.write('\n'.join(asm + gz_asm))
    with open(c_path, 'w', encoding='ascii') as f:
        f.write(tables(site, hashes, label))


def tables(site, hashes, label):
    """The C file: struct httpd_file for every file, the bodies named by
    the symbols the assembler defines; hashes as pack() gathers them."""
    empty = hashlib.sha256(b'').digest()
    out = ['/*',
           ' * Generated by site_scons/limpet_site.py from %s: do not edit.' % c_comment(label),
           ' * %d files, %d folders; services/httpd/content.h says what it means.'
           % (len(site['files']), len(site['dirs'])),
           ' * The bodies are in site_data_*.s (.rodata.site, 64-byte aligned).',
           ' */',
           '#include <stdint.h>',
           '#include "content.h"',
           '']
    entries = []
    need_empty = False
    for i, (url, _, size, mtime) in enumerate(site['files']):
        digest, gz = hashes.get(i, (empty, None))
        mime = mime_type(url.rsplit('/', 1)[1])[0]
        out.append('/* %s */' % c_comment(url))
        if size:
            data_ref = SYMBOL % i
            out.append('extern const uint8_t %s[%d];' % (data_ref, size))
        else:
            need_empty = True
            data_ref = 'empty'
        if gz is not None:
            out.append('extern const uint8_t %s_gz[%d];' % (SYMBOL % i, gz[0]))
        entries.append('\t{ %s, %s, %du, %s, %du,\n\t  %s, %s, %s,\n\t  %dLL, %s },' % (
            c_string(url), data_ref, size,
            SYMBOL % i + '_gz' if gz is not None else '(const uint8_t *)0',
            gz[0] if gz is not None else 0,
            c_string(mime), c_string(etag(digest)),
            c_string(etag(gz[1])) if gz is not None else '(const char *)0',
            mtime, c_string(http_date(mtime))))
    if need_empty:
        # Empty files share one byte that is never sent (size 0).
        out.insert(out.index('#include "content.h"') + 2,
                   'static const uint8_t empty[1] __attribute__((aligned(%d))) = { 0 };\n'
                   % ALIGN)
    out.append('')
    out.append('/* Sorted by strcmp() of path, for binary search. */')
    if entries:
        out.append('const struct httpd_file httpd_files[%d] = {' % len(entries))
        out.extend(entries)
        out.append('};')
    else:
        out.append('const struct httpd_file httpd_files[1];\t/* none: httpd_nfiles is 0 */')
    out.append('const unsigned httpd_nfiles = %d;' % len(entries))
    out.append('')
    out.append('/* Every folder, the root "/" included, without a trailing slash. */')
    out.append('const char *const httpd_dirs[%d] = {' % len(site['dirs']))
    out.extend('\t%s,' % c_string(d) for d in site['dirs'])
    out.append('};')
    out.append('const unsigned httpd_ndirs = %d;' % len(site['dirs']))
    return '\n'.join(out) + '\n'


def chunk_names(folder, site):
    """The (assembler, gzip variants) file pair of each chunk, in folder."""
    return [(os.path.join(folder, 'site_data_%d.s' % k),
             os.path.join(folder, 'site_gz_%d.bin' % k)) for k in range(len(chunks(site)))]


def generate(site, folder, label=None):
    """Pack the listing into folder (which must exist): site_content.c and
    the chunks' files; returns their paths, the C file first."""
    c_path = os.path.join(folder, 'site_content.c')
    pairs = chunk_names(folder, site)
    pack(site, c_path, pairs, label)
    return [c_path] + [p for pair in pairs for p in pair]


# ---- SCons --------------------------------------------------------------

# Where the site is and what the image is called are the limpet package's
# (limpet/paths.py): ./limpet, the tests and the bench name images too.
from limpet.paths import DEFAULT_WWW, TOP as _TOP, www_path  # noqa: E402

TOP = str(_TOP)


def check_www(key, value, env):
    """Variables validator: the www option names an existing directory."""
    from SCons.Errors import UserError
    path = www_path(value)
    if not os.path.isdir(path):
        raise UserError('Invalid value for option %s: %r is not a directory%s.  Give the '
                        'folder of the site to pack into httpd, e.g. www=%s'
                        % (key, value, '' if not os.path.exists(path) else ' (it is a file)',
                           DEFAULT_WWW))


def _pack_action(target, source, env):
    site = json.loads(source[0].read())
    paths = [str(t) for t in target]
    try:
        pack(site, paths[0], list(zip(paths[1::2], paths[2::2])), env['LIMPET_WWW_LABEL'])
    except SiteError as e:
        print('scons: www: %s' % e, file=sys.stderr)
        return 1
    return 0


def _pack_string(target, source, env):
    site = json.loads(source[0].read())
    return 'site: %s (%d files, %d chunks) -> %s' % (
        env['LIMPET_WWW_LABEL'], len(site['files']), len(target) // 2, target[0])


def pack_site(env, folder, value):
    """The objects of the site at www option `value`, packed into folder:
    the C tables' and each chunk's (assembled with `as`, not cpp: the
    paths need no more quoting than asm_string() gives them)."""
    from SCons.Errors import UserError
    root = www_path(value)
    try:
        site = scan(root)
    except SiteError as e:
        raise UserError('www=%s: %s' % (value, e))
    label = os.path.relpath(root, TOP) if _inside(root, TOP) else root
    # The files as sources: env.fs.File, not env.File, so that a '$' in a
    # name is not taken for a construction variable.
    files = [env.fs.File(path) for _, path, _, _ in site['files']]
    sources = [env.Value(listing_text(site))] + files + [env.fs.File(GENERATOR)]
    targets = [folder + '/site_content.c']
    targets += [p for pair in chunk_names(folder, site) for p in pair]
    packed = env.Command(targets, sources, env.Action(_pack_action, _pack_string),
                         LIMPET_WWW_LABEL=label)
    objs = env.Object(packed[0])
    for k, group in enumerate(chunks(site)):
        obj = env.Object(packed[1 + 2 * k], AS='as', ASFLAGS=[])
        # What .incbin reads.  The assembler's text names each body's
        # SHA-256 too, so a new content changes it anyway.
        env.Depends(obj, [packed[2 + 2 * k]] + [files[i] for i in group])
        objs += obj
    return objs
