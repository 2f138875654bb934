"""httpd's site packing (site_scons/limpet_site.py), without booting: the
generated C tables and assembler compiled on the host with
services/httpd/content.h and read back entry by entry, and the SCons side
(www= checks, rebuilds, no work on a second build, one image per site,
a 200 MB site built in bounded memory)."""

import gzip
import hashlib
import os
import random
import subprocess
import sys
import time

import pytest

from conftest import TOP

sys.path.insert(0, str(TOP / 'site_scons'))
import limpet_site  # noqa: E402
from limpet import paths  # noqa: E402

WWW = TOP / 'services' / 'httpd' / 'www'

# Prints every entry of the generated tables, bodies in hex.
DUMP_C = r'''
#include <stdio.h>
#include <string.h>
#include "content.h"

static void hex(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

int main(void)
{
	for (unsigned i = 0; i < httpd_nfiles; i++) {
		const struct httpd_file *f = &httpd_files[i];
		printf("path ");
		hex((const uint8_t *)f->path, strlen(f->path));
		printf("mime %s\netag %s\ngz_etag %s\nmtime %lld\nlm %s\nalign %d\n", f->mime,
		       f->etag, f->gz_etag ? f->gz_etag : "-", (long long)f->mtime,
		       f->last_modified, (int)((unsigned long)f->data % 64));
		printf("data ");
		hex(f->data, f->size);
		printf("gz ");
		hex(f->gz_data, f->gz_size);
	}
	for (unsigned i = 0; i < httpd_ndirs; i++)
		printf("dir %s\n", httpd_dirs[i]);
	return 0;
}
'''


def compile_and_dump(tmp_path, root, out=None):
    """Pack root into out (by default tmp_path/out), build the tables and
    the bodies with DUMP_C on the host and read its dump back."""
    out = out or tmp_path / 'out'
    out.mkdir(parents=True)
    paths = limpet_site.generate(limpet_site.scan(str(root)), str(out))
    assert paths[0].endswith('site_content.c')
    srcs = [p for p in paths if p.endswith(('.c', '.s'))]
    (tmp_path / 'dump.c').write_text(DUMP_C)
    exe = tmp_path / 'dump'
    p = subprocess.run(['gcc', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-I',
                        str(TOP / 'services' / 'httpd'), str(tmp_path / 'dump.c')] + srcs +
                       ['-o', str(exe)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    dump = subprocess.run([str(exe)], capture_output=True, timeout=30).stdout.decode()
    files, dirs, cur = [], [], None
    for line in dump.splitlines():
        key, _, val = line.partition(' ')
        if key == 'path':
            cur = {'path': bytes.fromhex(val)}
            files.append(cur)
        elif key in ('data', 'gz'):
            cur[key] = bytes.fromhex(val)
        elif key == 'dir':
            dirs.append(val)
        else:
            cur[key] = val
    return files, dirs


def etag(data):
    return '"%s"' % hashlib.sha256(data).hexdigest()[:32]


@pytest.mark.parametrize('chunk', [None, 1000])
def test_generated_tables(tmp_path, monkeypatch, chunk):
    """Every kind of file and name, packed as it is by default and in
    chunks of 1,000 bytes (many chunks, and files larger than one), into
    a folder whose own name needs escaping in the assembler."""
    if chunk:
        monkeypatch.setattr(limpet_site, 'CHUNK', chunk)
    root = tmp_path / 'www'
    (root / 'sub' / 'deeper').mkdir(parents=True)
    (root / 'emptydir').mkdir()
    (root / 'st*').mkdir()
    names = {
        'index.html': b'<p>hello</p>\n' * 50,
        'empty.txt': b'',
        'tiny.css': b'a{}',
        'sub/deeper/data.bin': bytes(range(256)) * 4,
        'sub/UPPER.PNG': b'\x89PNG not really',
        'sub/caf\u00e9 menu.txt': 'caf\u00e9\n'.encode(),
        # A name no C string or comment can hold as it is.
        'st*/we"ird\\??=x$y\tz\n.js': b'1',
        # ... and one with a gzip variant, which .incbin reads from out.
        'st*/q"uote\\ #* \'.css': b'p { color: red }\n' * 200,
        'noext': b'?',
        'big.bin': random.Random(1).randbytes(5000),
    }
    for name, data in names.items():
        (root / name).write_bytes(data)
    raw = os.fsencode(str(root)) + b'/bad\xff\x01name.txt'   # not UTF-8
    with open(raw, 'wb') as f:
        f.write(b'raw')
    os.symlink('index.html', root / 'link.html')
    os.symlink('sub', root / 'linkdir')
    os.mkfifo(root / 'fifo')
    files, dirs = compile_and_dump(tmp_path, root, tmp_path / 'out "\\ #*/ \'')

    expected = {('/' + k).encode(): v for k, v in names.items()}
    expected[b'/bad\xff\x01name.txt'] = b'raw'
    expected[b'/link.html'] = names['index.html']
    for k, v in names.items():
        if k.startswith('sub/'):
            expected[('/linkdir/' + k[4:]).encode()] = v
    paths = [f['path'] for f in files]
    assert paths == sorted(expected), paths              # strcmp() order, FIFO skipped
    assert dirs == ['/', '/emptydir', '/linkdir', '/linkdir/deeper', '/st*', '/sub',
                    '/sub/deeper']
    for f in files:
        data = expected[f['path']]
        assert f['data'] == data, f['path']
        assert f['etag'] == etag(data), f['path']
        assert f['align'] == '0'
        st = os.stat(os.fsdecode(os.fsencode(str(root)) + f['path']))
        assert int(f['mtime']) == int(st.st_mtime)
        assert f['lm'].endswith(' GMT') and len(f['lm']) == 29, f['lm']
        if f['gz']:
            assert gzip.decompress(f['gz']) == data and len(f['gz']) < len(data)
            assert f['gz'] == limpet_site.gzipped(data), 'streamed as gzip.compress() would'
            assert f['gz_etag'] == etag(f['gz']) != f['etag']
        else:
            assert f['gz_etag'] == '-'
    by = {f['path']: f for f in files}
    assert by[b'/index.html']['mime'] == 'text/html; charset=utf-8'
    assert by[b'/index.html']['gz'], 'compressible and smaller: a gzip variant'
    assert by[b'/tiny.css']['gz'] == b'', 'gzip would be larger: no variant'
    assert by[b'/empty.txt']['data'] == b'' and by[b'/empty.txt']['gz'] == b''
    assert by[b'/sub/UPPER.PNG']['mime'] == 'image/png'
    assert by[b'/sub/deeper/data.bin']['mime'] == 'application/octet-stream'
    assert by[b'/sub/deeper/data.bin']['gz'] == b'', 'octet-stream is not compressed'
    assert by[b'/noext']['mime'] == 'application/octet-stream'
    assert by['/st*/q"uote\\ #* \'.css'.encode()]['gz'], 'a gzip variant, read from out'


def test_deterministic_and_gzip_mtime_zero(tmp_path):
    """The same listing packed twice into one folder gives the same files,
    byte for byte."""
    site = limpet_site.scan(str(WWW))
    out = tmp_path / 'out'
    out.mkdir(parents=True)
    paths = limpet_site.generate(site, str(out))
    first = [open(p, 'rb').read() for p in paths]
    assert limpet_site.generate(limpet_site.scan(str(WWW)), str(out)) == paths
    assert [open(p, 'rb').read() for p in paths] == first
    gz = limpet_site.gzipped(b'hello hello hello hello')
    assert gz[4:8] == b'\0\0\0\0', 'gzip header mtime must be 0'


def test_chunks_and_asm_strings():
    """Chunks hold whole files, in order, up to CHUNK bytes unless one file
    is larger; empty files are in none.  Assembler strings hold only
    characters that neither as nor a '#' comment can misread."""
    mb = 1 << 20
    site = {'files': [['/a', 'a', 10 * mb, 0], ['/b', 'b', 0, 0], ['/c', 'c', 6 * mb, 0],
                      ['/d', 'd', 1, 0], ['/e', 'e', 40 * mb, 0], ['/f', 'f', 1, 0]]}
    assert limpet_site.CHUNK == 16 * mb
    assert limpet_site.chunks(site) == [[0, 2], [3], [4], [5]]
    s = limpet_site.asm_string('/x/we"ird\\ #*/\n\u00e9.txt')
    assert s == '"/x/we\\042ird\\134 \\043\\052/\\012\\303\\251.txt"', s
    assert set(s[1:-1]) <= set(bytes(limpet_site._ASM_PLAIN).decode() + '\\'), s


def test_symlink_outside_refused(tmp_path):
    root = tmp_path / 'www'
    root.mkdir()
    (tmp_path / 'secret').write_text('no')
    os.symlink('../secret', root / 'leak')
    with pytest.raises(limpet_site.SiteError, match='outside the site root'):
        limpet_site.scan(str(root))


def test_mime_types():
    for name, mime in (('a.htm', 'text/html; charset=utf-8'), ('a.JS', 'text/javascript; charset=utf-8'),
                       ('a.mjs', 'text/javascript; charset=utf-8'), ('a.json', 'application/json; charset=utf-8'),
                       ('a.svg', 'image/svg+xml'), ('a.jpeg', 'image/jpeg'), ('a.woff2', 'font/woff2'),
                       ('a.wasm', 'application/wasm'), ('a.pdf', 'application/pdf'),
                       ('.html', 'application/octet-stream'), ('a.tar.gz', 'application/octet-stream')):
        assert limpet_site.mime_type(name)[0] == mime, name


def test_default_site_is_small_and_complete():
    files = [p for p in WWW.rglob('*') if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    assert total < 64 * 1024, total
    rel = {str(p.relative_to(WWW)) for p in files}
    assert {'index.html', 'style.css', 'docs/index.html', 'docs/guide.txt'} <= rel, rel
    assert any(' ' in r or not r.isascii() for r in rel), 'a name with a space or UTF-8'


# ---- SCons ----------------------------------------------------------------

def scons(*args, timeout=600):
    return subprocess.run(['scons', '-Q'] + list(args), cwd=TOP, capture_output=True,
                          text=True, errors='replace', timeout=timeout,
                          stdin=subprocess.DEVNULL)


def need_httpd():
    if not (TOP / 'services' / 'httpd' / 'main.c').exists():
        pytest.fail('services/httpd/main.c is missing: httpd is not a service yet')


def test_www_must_be_a_directory(tmp_path):
    for bad, says in ((tmp_path / 'nope', 'is not a directory'),
                      (TOP / 'README.md', 'is not a directory (it is a file)')):
        p = scons('service=hello', 'www=%s' % bad)
        out = p.stdout + p.stderr
        assert p.returncode != 0 and says in out and 'www' in out, out
        assert 'Traceback' not in out, out


def test_symlink_outside_stops_the_build(tmp_path):
    need_httpd()
    root = tmp_path / 'www'
    root.mkdir()
    os.symlink('/etc/passwd', root / 'passwd')
    p = scons('service=httpd', 'www=%s' % root)
    out = p.stdout + p.stderr
    assert p.returncode != 0 and 'outside the site root' in out, out
    assert 'Traceback' not in out, out


def work_done(p):
    """The lines of a scons -Q run that are not 'image:' or 'up to date'."""
    return [l for l in (p.stdout + p.stderr).splitlines()
            if l and not l.startswith('image: ') and 'is up to date' not in l]


def test_rebuilds_exactly_when_the_site_changes(tmp_path):
    """Another folder gives its own image; a second build does nothing;
    touching, adding or removing a file regenerates the site."""
    need_httpd()
    root = tmp_path / 'www'
    (root / 'd').mkdir(parents=True)
    (root / 'index.html').write_text('one\n')
    p = scons('service=httpd', 'www=%s' % root)
    assert p.returncode == 0, p.stdout + p.stderr
    image = [l[7:] for l in p.stdout.splitlines() if l.startswith('image: ')]
    assert len(image) == 1 and '/httpd-www-' in image[0], p.stdout
    assert (TOP / image[0]).exists()
    # ./limpet build names the same image.
    lp = subprocess.run([str(TOP / 'limpet'), 'build', 'httpd', 'www=%s' % root], cwd=TOP,
                        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert lp.returncode == 0 and lp.stdout.split() == image, lp.stdout + lp.stderr

    def again(what):
        p = scons('service=httpd', 'www=%s' % root)
        assert p.returncode == 0, p.stdout + p.stderr
        return work_done(p)

    assert again('nothing') == []
    os.utime(root / 'index.html', (1e9, 1e9))
    assert any('site_content.c' in l for l in again('touch')), 'a new mtime regenerates'
    (root / 'd' / 'new.txt').write_text('new')
    assert any('site_content.c' in l for l in again('add')), 'a new file regenerates'
    assert again('nothing') == []
    (root / 'd' / 'new.txt').unlink()
    assert any('site_content.c' in l for l in again('remove')), 'a removed file regenerates'
    # New content, same size, same (recent) mtime: the file's own content
    # signature rebuilds.  (SCons trusts a signature whose file is older
    # than its max_drift, two days, and has the same timestamp.)
    t = int(time.time()) - 100
    os.utime(root / 'index.html', (t, t))
    again('recent mtime')
    (root / 'index.html').write_text('two\n')
    os.utime(root / 'index.html', (t, t))
    assert any('site_content.c' in l for l in again('content')), 'new content regenerates'
    # The default site's image is a different file, untouched by all this.
    p = scons('-n', 'service=httpd')
    assert p.returncode == 0 and 'build/pc-debug-info/httpd.elf' in p.stdout, p.stdout


def test_default_build_twice_does_nothing():
    need_httpd()
    p = scons('service=httpd')
    assert p.returncode == 0, p.stdout + p.stderr
    p = scons('service=httpd')
    assert p.returncode == 0 and work_done(p) == [], p.stdout + p.stderr


# ---- a large site: what the build costs does not grow with it -------------

# Runs the command after it and prints its status, its time and the peak
# RSS of the largest process under it (ru_maxrss of RUSAGE_CHILDREN, in KiB:
# the kernel carries each reaped process's peak up to its parent).
MEASURE = r'''
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL).returncode
print('measured: %d %.2f %d' % (rc, time.monotonic() - t,
                                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
'''


def test_large_site_builds_in_bounded_memory(tmp_path):
    """A 200 MB site of 342 files (random bodies that gzip leaves alone,
    some text it compresses, one file larger than a chunk) builds with no
    process above 500 MB, and a second build does nothing.  The time is
    printed, not checked: the build note in site_scons/limpet_site.py
    gives measured ones."""
    need_httpd()
    root = tmp_path / 'www'
    rnd = random.Random(16)
    words = [''.join(rnd.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rnd.randint(2, 9)))
             for _ in range(3000)]
    (root / 'media').mkdir(parents=True)
    (root / 'media' / 'film.bin').write_bytes(os.urandom(20 << 20))
    for i in range(280):
        d = root / ('d%02d' % (i % 20))
        d.mkdir(exist_ok=True)
        (d / ('photo%03d.jpg' % i)).write_bytes(os.urandom(630 << 10))
    for i in range(60):
        (root / ('page%02d.html' % i)).write_text(' '.join(rnd.choices(words, k=6000)))
    (root / 'index.html').write_text('<!doctype html><title>big</title>\n')
    files = [p for p in root.rglob('*') if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    assert 200e6 < total < 210e6, total
    image = 'build/pc-debug-info/%s' % paths.image_name('httpd', str(root))
    try:
        p = subprocess.run([sys.executable, '-c', MEASURE, 'scons', '-Q', '-j2',
                            'service=httpd', 'www=%s' % root], cwd=TOP, capture_output=True,
                           text=True, errors='replace', timeout=600)
        out = p.stdout + p.stderr
        rc, seconds, kib = p.stdout.splitlines()[-1].split()[1:]
        assert rc == '0', out
        print('a %.0f MB site of %d files: built in %s s, peak RSS %d MB'
              % (total / 1e6, len(files), seconds, int(kib) >> 10))
        assert int(kib) < 500 << 10, 'peak RSS %d KiB\n%s' % (int(kib), out)
        assert os.path.getsize(TOP / (image + '.elf')) > total
        assert work_done(scons('service=httpd', 'www=%s' % root)) == []
    finally:
        # 600 MB of objects and images nobody will use again.
        subprocess.run(['rm', '-rf', str(TOP / image)] +
                       [str(TOP / (image + ext)) for ext in ('.elf', '.nosyms.elf', '.syms.o',
                                                            '.syms.o.bin')])
