"""Site packing for httpd: a directory of files becomes a C file of
read-only arrays that services/httpd/content.h describes.

    scons service=httpd www=PATH        (default services/httpd/www)

scan() walks the directory once when SConstruct is read; its listing
(URL path, file on disk, size, mtime of every entry) becomes a Value()
node, so adding, removing, renaming or touching a file rebuilds, and the
files themselves are sources, so a change of content rebuilds.  The
generator then works from that listing alone: the same listing and the
same contents give the same C file, byte for byte, and a second build
does nothing.

Every regular file becomes one struct httpd_file: its bytes as a
`static const uint8_t` array (in .rodata: the server hands them to
tcp_write() without copying), a gzip variant when the type compresses
and the result is smaller, MIME type by extension, strong ETags (the
first 16 bytes of the SHA-256 of the bytes served, in hex, quoted) and
Last-Modified (the file's mtime as an IMF-fixdate, RFC 9110 5.6.7).
Symbolic links are followed when they stay inside the root and refused
when they leave it; sockets, FIFOs and devices are skipped with a warning.

This module does not import SCons at the top, so that the tests can call
generate() directly; add_builder() is the SConstruct side.
"""

import email.utils
import gzip
import hashlib
import json
import os
import stat
import sys

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


# ---- the C file ---------------------------------------------------------

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


_BYTE = ['%d,' % i for i in range(256)]


def c_array(name, data):
    lines = ['static const uint8_t %s[%d] __attribute__((aligned(%d))) = {'
             % (name, len(data), ALIGN)]
    for i in range(0, len(data), 24):
        lines.append(''.join(map(_BYTE.__getitem__, data[i:i + 24])))
    lines.append('};')
    return '\n'.join(lines)


def etag(data):
    return '"%s"' % hashlib.sha256(data).digest()[:16].hex()


def gzipped(data):
    """RFC 1952 bytes with no name and mtime 0: the same input always
    gives the same output."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def http_date(t):
    """IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"."""
    return email.utils.formatdate(t, usegmt=True)


def generate(site, label=None):
    """The C source for a listing from scan()."""
    label = label or site['root']
    out = ['/*',
           ' * Generated by site_scons/limpet_site.py from %s: do not edit.' % c_comment(label),
           ' * %d files, %d folders; services/httpd/content.h says what it means.'
           % (len(site['files']), len(site['dirs'])),
           ' */',
           '#include <stdint.h>',
           '#include "content.h"',
           '']
    entries = []
    need_empty = False
    for i, (url, path, size, mtime) in enumerate(site['files']):
        try:
            with open(path, 'rb') as f:
                data = f.read()
        except OSError as e:
            raise SiteError('cannot read %s: %s' % (path, e.strerror))
        if len(data) != size:
            raise SiteError('%s changed while the site was packed: build again' % path)
        mime, compressible = mime_type(url.rsplit('/', 1)[1])
        gz = gzipped(data) if compressible and data else None
        if gz is not None and len(gz) >= len(data):
            gz = None
        out.append('/* %s */' % c_comment(url))
        if data:
            out.append(c_array('f%d' % i, data))
            data_ref = 'f%d' % i
        else:
            need_empty = True
            data_ref = 'empty'
        if gz is not None:
            out.append(c_array('f%d_gz' % i, gz))
        out.append('')
        entries.append('\t{ %s, %s, %du, %s, %du,\n\t  %s, %s, %s,\n\t  %dLL, %s },' % (
            c_string(url), data_ref, len(data),
            'f%d_gz' % i if gz is not None else '(const uint8_t *)0',
            len(gz) if gz is not None else 0,
            c_string(mime), c_string(etag(data)),
            c_string(etag(gz)) if gz is not None else '(const char *)0',
            mtime, c_string(http_date(mtime))))
    if need_empty:
        # Empty files share one byte that is never sent (size 0).
        out.insert(out.index('#include "content.h"') + 2,
                   'static const uint8_t empty[1] = { 0 };\n')
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


# ---- SCons --------------------------------------------------------------

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_WWW = 'services/httpd/www'


def www_path(value):
    """The www option as an absolute path (relative paths are from the top)."""
    return os.path.normpath(os.path.join(TOP, os.path.expanduser(value)))


def check_www(key, value, env):
    """Variables validator: the www option names an existing directory."""
    from SCons.Errors import UserError
    path = www_path(value)
    if not os.path.isdir(path):
        raise UserError('Invalid value for option %s: %r is not a directory%s.  Give the '
                        'folder of the site to pack into httpd, e.g. www=%s'
                        % (key, value, '' if not os.path.exists(path) else ' (it is a file)',
                           DEFAULT_WWW))


def is_default(value):
    return os.path.realpath(www_path(value)) == os.path.realpath(www_path(DEFAULT_WWW))


def image_name(service, value):
    """The image's base name: the service's, or for a site other than the
    default one, the service's plus a hash of the site's real path, so that
    images of different sites live side by side in one variant folder
    (./limpet computes the same name: keep the two in step)."""
    if is_default(value):
        return service
    real = os.path.realpath(www_path(value))
    return '%s-www-%s' % (service, hashlib.sha256(os.fsencode(real)).hexdigest()[:8])


def _pack_action(target, source, env):
    site = json.loads(source[0].read())
    try:
        text = generate(site, env['LIMPET_WWW_LABEL'])
    except SiteError as e:
        print('scons: www: %s' % e, file=sys.stderr)
        return 1
    with open(str(target[0]), 'w', encoding='ascii') as f:
        f.write(text)
    return 0


def _pack_string(target, source, env):
    site = json.loads(source[0].read())
    return 'site: %s (%d files) -> %s' % (env['LIMPET_WWW_LABEL'], len(site['files']),
                                          target[0])


def pack_site(env, target, value):
    """The node of the C file packing the site at www option `value`."""
    from SCons.Errors import UserError
    root = www_path(value)
    try:
        site = scan(root)
    except SiteError as e:
        raise UserError('www=%s: %s' % (value, e))
    label = os.path.relpath(root, TOP) if _inside(root, TOP) else root
    # The files as sources: env.fs.File, not env.File, so that a '$' in a
    # name is not taken for a construction variable.
    sources = [env.Value(listing_text(site))]
    sources += [env.fs.File(path) for _, path, _, _ in site['files']]
    sources.append(env.fs.File(GENERATOR))
    return env.Command(target, sources,
                       env.Action(_pack_action, _pack_string),
                       LIMPET_WWW_LABEL=label)
