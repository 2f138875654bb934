"""httpd end to end: the image booted under QEMU with user-mode networking
(a forward from a free port on 127.0.0.1 to the guest's port 80), driven
by real clients: curl, wget --mirror, Python's http.client, ab, wrk,
slowhttptest, and raw sockets for malformed and hostile requests.

Safety: every byte goes to 127.0.0.1, to the port this module forwarded.
Every client runs under a timeout, every loop is bounded, and the QEMU a
guest starts is ended with its ./limpet process group (by PID).
"""

import gzip
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.parse

import pytest

from conftest import TOP, Console, image_path
from httpd_battery import BAD, free_port  # noqa: F401 (other tests take it from here)

WWW = TOP / 'services' / 'httpd' / 'www'
# The guest's own line once it listens (services/httpd/main.c); the front
# end's "httpd: serving http://..." line comes before QEMU starts.
READY = re.compile(r'^httpd: (?:listening|serving) on\b.*$', re.M)
GUEST_PORT = 80


def need_tool(name, package):
    if not shutil.which(name):
        pytest.fail('%s is missing: install the Debian package %s (scripts/setup.sh does)'
                    % (name, package))


class Httpd(Console):
    """./limpet run httpd --no-build in the background, its console
    collected; stop() ends its process group."""

    who = 'httpd'

    def __init__(self, app_args=(), www=None, timeout=900):
        img = image_path('httpd')
        self.port = free_port()
        cmd = [str(TOP / 'limpet'), 'run', 'httpd', '--no-build', '--timeout', str(timeout),
               '--port', '%d:%d' % (self.port, GUEST_PORT)]
        if www is not None:
            cmd += ['--www', str(www)]
        elif not img.exists():
            pytest.fail('no httpd image %s: build it with ./limpet build httpd'
                        % img.relative_to(TOP))
        if app_args:
            cmd += ['--'] + list(app_args)
        self.spawn(cmd)
        try:
            self.wait_for(READY, 60)
        except BaseException:
            self.stop()
            raise
        self.base = 'http://127.0.0.1:%d' % self.port

    def alive(self):
        assert self.proc.poll() is None, 'httpd died' + self.describe()

    # ---- clients ----------------------------------------------------------

    def curl(self, *args, timeout=20):
        need_tool('curl', 'curl')
        p = subprocess.run(['curl', '-sS', '--max-time', str(timeout - 5)] +
                           [a.replace('URL', self.base) if isinstance(a, str) else a
                            for a in args],
                           capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return p

    def request(self, method, path, headers=None, timeout=10):
        """(status, headers as a dict with lower-case names, body)."""
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        try:
            c.request(method, path, headers=headers or {})
            r = c.getresponse()
            body = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, body
        finally:
            c.close()

    def ok(self):
        """A normal request on a new connection is served."""
        status, _, body = self.request('GET', '/')
        assert status == 200 and body == (WWW / 'index.html').read_bytes(), \
            'a normal request failed: %s' % status + self.describe()

    def raw(self, data, timeout=10, read_until_close=True):
        """Send data on a new connection; the bytes that come back until
        the server closes (or the timeout)."""
        s = socket.create_connection(('127.0.0.1', self.port), timeout=timeout)
        got = b''
        end = time.monotonic() + timeout
        try:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            while time.monotonic() < end:
                s.settimeout(max(0.1, end - time.monotonic()))
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                got += chunk
                if not read_until_close and b'\r\n\r\n' in got:
                    break
        finally:
            s.close()
        return got

    def stats(self):
        status, headers, body = self.request('GET', '/_limpet/stats')
        assert status == 200, status
        assert headers.get('content-type', '').startswith('application/json'), headers
        return json.loads(body)


def status_of(response):
    m = re.match(rb'HTTP/1\.[01] (\d{3}) ', response)
    return int(m.group(1)) if m else None


def header(response, name):
    head = response.split(b'\r\n\r\n', 1)[0].decode('latin-1')
    m = re.search(r'^%s:[ \t]*(.*?)[ \t]*\r?$' % re.escape(name), head, re.M | re.I)
    return m.group(1) if m else None


def site_files():
    """Every file of the default site: {relative path: bytes}."""
    return {str(p.relative_to(WWW)): p.read_bytes() for p in sorted(WWW.rglob('*'))
            if p.is_file()}


def etag_of(data):
    return '"%s"' % hashlib.sha256(data).hexdigest()[:32]


def find_key(tree, name):
    """The values of every key `name` anywhere in a JSON tree."""
    out = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == name:
                out.append(v)
            out += find_key(v, name)
    elif isinstance(tree, list):
        for v in tree:
            out += find_key(v, name)
    return out


@pytest.fixture(scope='module')
def server():
    """One httpd (default site, default limits) for the tests that only
    talk to it."""
    h = Httpd()
    yield h
    h.stop()


@pytest.fixture
def srv(server):
    yield server
    # A test that broke the server must not be blamed on the next one.
    server.alive()


INDEX = (WWW / 'index.html').read_bytes()


# ---- the basics, with curl ---------------------------------------------------

def test_get_index(srv):
    p = srv.curl('-i', 'URL/')
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.partition(b'\r\n\r\n')
    assert head.startswith(b'HTTP/1.1 200 OK'), head
    assert body == INDEX
    assert header(p.stdout, 'Content-Type') == 'text/html; charset=utf-8'
    assert header(p.stdout, 'Content-Length') == str(len(INDEX))
    assert header(p.stdout, 'ETag') == etag_of(INDEX)
    assert header(p.stdout, 'Last-Modified').endswith(' GMT')
    assert header(p.stdout, 'Date').endswith(' GMT')


def test_every_file_and_its_type(srv):
    types = {'.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
             '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml',
             '.ico': 'image/vnd.microsoft.icon'}
    for rel, data in site_files().items():
        path = '/' + urllib.parse.quote(rel)
        status, headers, body = srv.request('GET', path)
        assert status == 200 and body == data, (rel, status)
        ext = os.path.splitext(rel)[1]
        if ext in types:
            assert headers['content-type'] == types[ext], (rel, headers)


def test_keep_alive_reuse(srv):
    p = srv.curl('-v', '-o', '/dev/null', '-o', '/dev/null', 'URL/', 'URL/style.css')
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode('utf-8', 'replace')
    assert 'Re-using existing connection' in err or 'Reusing existing connection' in err, err


def test_head(srv):
    get = srv.curl('-s', '-D', '-', '-o', '/dev/null', 'URL/docs/guide.txt')
    head = srv.curl('-s', '-I', 'URL/docs/guide.txt')
    assert head.returncode == 0 and get.returncode == 0
    assert head.stdout.split(b'\r\n\r\n')[1:] == [b''], 'HEAD has no body'

    def fields(raw):
        return {k: v for k, v in (l.split(': ', 1) for l in
                raw.decode().split('\r\n\r\n')[0].split('\r\n')[1:]) if k.lower() != 'date'}
    assert fields(head.stdout) == fields(get.stdout)


def test_conditional_get(srv):
    _, h, _ = srv.request('GET', '/style.css')
    etag, lm = h['etag'], h['last-modified']
    assert etag == etag_of((WWW / 'style.css').read_bytes())
    status, h2, body = srv.request('GET', '/style.css', {'If-None-Match': etag})
    assert status == 304 and body == b'' and h2.get('etag') == etag, (status, h2)
    status, _, body = srv.request('GET', '/style.css', {'If-None-Match': '"nope", ' + etag})
    assert status == 304
    status, _, body = srv.request('GET', '/style.css', {'If-None-Match': '*'})
    assert status == 304
    status, _, body = srv.request('GET', '/style.css', {'If-Modified-Since': lm})
    assert status == 304 and body == b''
    status, _, body = srv.request('GET', '/style.css',
                                  {'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT'})
    assert status == 200 and body == (WWW / 'style.css').read_bytes()
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3).
    status, _, _ = srv.request('GET', '/style.css', {'If-None-Match': '"other"',
                                                     'If-Modified-Since': lm})
    assert status == 200
    # curl's own conditional GET.
    p = srv.curl('-s', '-o', '/dev/null', '-w', '%{http_code}', '-H',
                 'If-None-Match: ' + etag, 'URL/style.css')
    assert p.stdout == b'304'


def test_range(srv):
    p = srv.curl('-i', '-r', '0-9', 'URL/')
    assert status_of(p.stdout) == 206, p.stdout[:300]
    assert header(p.stdout, 'Content-Range') == 'bytes 0-9/%d' % len(INDEX)
    assert p.stdout.split(b'\r\n\r\n', 1)[1] == INDEX[:10]
    status, h, body = srv.request('GET', '/', {'Range': 'bytes=-5'})
    assert status == 206 and body == INDEX[-5:], (status, body)
    assert h['content-range'] == 'bytes %d-%d/%d' % (len(INDEX) - 5, len(INDEX) - 1, len(INDEX))
    status, h, body = srv.request('GET', '/', {'Range': 'bytes=700-'})
    assert status == 206 and body == INDEX[700:]
    status, h, _ = srv.request('GET', '/', {'Range': 'bytes=%d-' % (len(INDEX) + 10)})
    assert status == 416 and h.get('content-range') == 'bytes */%d' % len(INDEX), (status, h)
    # Several ranges: the server may send the whole file (RFC 9110 14.2).
    status, _, body = srv.request('GET', '/', {'Range': 'bytes=0-1,5-6'})
    assert status == 200 and body == INDEX


def test_gzip(srv):
    p = srv.curl('--compressed', '-D', '-', 'URL/docs/guide.txt')
    head, _, body = p.stdout.partition(b'\r\n\r\n')
    guide = (WWW / 'docs' / 'guide.txt').read_bytes()
    assert header(p.stdout, 'Content-Encoding') == 'gzip', head
    assert 'accept-encoding' in (header(p.stdout, 'Vary') or '').lower(), head
    assert body == guide, 'curl decodes the body back to the file'
    status, h, raw = srv.request('GET', '/docs/guide.txt', {'Accept-Encoding': 'gzip'})
    assert status == 200 and gzip.decompress(raw) == guide
    assert int(h['content-length']) == len(raw) < len(guide)
    assert h['etag'] != etag_of(guide), 'the gzip variant has its own ETag'
    status, h2, plain = srv.request('GET', '/docs/guide.txt', {'Accept-Encoding': 'identity'})
    assert status == 200 and plain == guide and 'content-encoding' not in h2
    status, _, plain = srv.request('GET', '/docs/guide.txt', {'Accept-Encoding': 'gzip;q=0'})
    assert status == 200 and plain == guide
    # The gzip ETag validates the gzip variant.
    status, _, _ = srv.request('GET', '/docs/guide.txt', {'Accept-Encoding': 'gzip',
                                                          'If-None-Match': h['etag']})
    assert status == 304


def test_directory_redirect_and_index(srv):
    status, h, _ = srv.request('GET', '/docs')
    assert status == 301 and h['location'].endswith('/docs/'), (status, h)
    status, _, body = srv.request('GET', '/docs/')
    assert status == 200 and body == (WWW / 'docs' / 'index.html').read_bytes()
    status, _, body = srv.request('GET', '/docs/?q=1')
    assert status == 200
    status, h, _ = srv.request('GET', '/docs?x=1')
    assert status == 301 and '/docs/' in h['location']


def test_not_found(srv):
    for path in ('/nope', '/index.html/', '/docs/nope.txt', '/index.htm'):
        status, _, _ = srv.request('GET', path)
        assert status == 404, path


def test_utf8_and_space_name(srv):
    data = (WWW / 'docs' / 'caf\u00e9 menu.txt').read_bytes()
    status, _, body = srv.request('GET', '/docs/caf%C3%A9%20menu.txt')
    assert status == 200 and body == data


def test_http10_and_connection_close(srv):
    r = srv.raw(b'GET / HTTP/1.0\r\n\r\n')
    assert r.startswith(b'HTTP/1.') and status_of(r) == 200 and r.endswith(INDEX), r[:200]
    r = srv.raw(b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    assert status_of(r) == 200 and r.endswith(INDEX), r[:200]


def test_wget_mirror(srv, tmp_path):
    need_tool('wget', 'wget')
    p = subprocess.run(['wget', '--mirror', '--no-host-directories', '--no-verbose',
                        '--restrict-file-names=nocontrol', '-e', 'robots=off',
                        '--timeout=10', '--tries=2', '--directory-prefix', str(tmp_path),
                        srv.base + '/'], capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr.decode('utf-8', 'replace')
    got = {str(q.relative_to(tmp_path)): q.read_bytes() for q in sorted(tmp_path.rglob('*'))
           if q.is_file() and not str(q.relative_to(tmp_path)).startswith('_limpet')}
    want = site_files()
    assert sorted(got) == sorted(want)
    for rel in want:
        assert got[rel] == want[rel], rel


class _Shared:
    """One buffered reader shared by the pipelined responses."""

    def __init__(self, f):
        self.f = f

    def makefile(self, *a, **k):
        return self

    def __getattr__(self, name):
        return getattr(self.f, name)

    def close(self):
        pass


def test_pipelining(srv):
    files = site_files()
    paths = ['/', '/style.css', '/docs/guide.txt', '/nope', '/docs/', '/logo.svg',
             '/', '/docs/index.html', '/style.css', '/index.html']
    req = b''.join(b'GET %s HTTP/1.1\r\nHost: t\r\n\r\n' % p.encode() for p in paths)
    s = socket.create_connection(('127.0.0.1', srv.port), timeout=10)
    try:
        s.sendall(req)          # all ten in one write
        reader = _Shared(s.makefile('rb'))
        for p in paths:
            r = http.client.HTTPResponse(reader, method='GET')
            r.begin()
            body = r.read()
            rel = p.lstrip('/') or 'index.html'
            if rel.endswith('/'):
                rel += 'index.html'
            if rel in files:
                assert r.status == 200 and body == files[rel], p
            else:
                assert r.status == 404, p
    finally:
        s.close()


# ---- load ----------------------------------------------------------------

def run_ab(srv, n=2000, c=8, path='/'):
    need_tool('ab', 'apache2-utils')
    p = subprocess.run(['timeout', '-k', '5', '90', 'ab', '-k', '-n', str(n), '-c', str(c),
                        '-s', '10', srv.base + path], capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out + srv.describe()
    assert re.search(r'^Complete requests:\s+%d$' % n, out, re.M), out
    assert re.search(r'^Failed requests:\s+0$', out, re.M), out
    assert 'Non-2xx responses' not in out, out
    return out


def test_ab_keepalive(srv):
    out = run_ab(srv)
    assert re.search(r'^Keep-Alive requests:\s+\d+$', out, re.M), out
    srv.ok()


def test_wrk(srv):
    need_tool('wrk', 'wrk')
    p = subprocess.run(['timeout', '-k', '5', '30', 'wrk', '-t2', '-c16', '-d3s', '--timeout',
                        '5s', srv.base + '/'], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    m = re.search(r'(\d+) requests in', out)
    assert m and int(m.group(1)) > 0, out
    assert 'Socket errors' not in out, out
    assert 'Non-2xx or 3xx responses' not in out, out
    srv.ok()


# ---- malformed and hostile requests ------------------------------------------

# BAD: (name, request, statuses).  The cases live with the hostile battery,
# which sends them under load (tests/httpd_battery.py); here each is
# checked alone.


@pytest.mark.parametrize('what,request_bytes,statuses', BAD, ids=[b[0] for b in BAD])
def test_malformed(srv, what, request_bytes, statuses):
    r = srv.raw(request_bytes)
    assert status_of(r) in statuses, '%s: got %r' % (what, r[:300])
    assert b'root:' not in r, 'a file from outside the site'
    if 405 in statuses:
        allow = header(r, 'Allow') or ''
        assert 'GET' in allow and 'HEAD' in allow, r[:300]
    srv.ok()


def test_normalised_paths_still_served(srv):
    for path in ('/docs/../index.html', '/./style.css', '//docs//guide.txt', '/%69ndex.html',
                 '/docs/%2e%2e/index.html'):
        status, _, body = srv.request('GET', path)
        assert status == 200, path


# ---- observability and the zero-copy acceptance --------------------------------

def pool_usage(stats):
    """{pool name: in use} from the server's stats: lwIP's memp pools and
    its heap (bytes), as /_limpet/stats reports them under "lwip"."""
    lwip = stats['lwip']
    out = {name: v['used'] for name, v in lwip['memp'].items()}
    out['heap'] = lwip['heap']['used']
    return out


def test_stats_json_and_no_bytes_copied(srv):
    for path in ('/', '/style.css', '/docs/guide.txt', '/logo.svg'):
        srv.request('GET', path)
        srv.request('GET', path, {'Accept-Encoding': 'gzip'})
    run_ab(srv, n=200, c=4)
    stats = srv.stats()
    copied = find_key(stats, 'bytes_copied')
    assert copied and all(v == 0 for v in copied), json.dumps(stats, indent=1)
    assert find_key(stats, 'requests'), json.dumps(stats, indent=1)


def test_memory_flat_under_load(srv):
    def settle():
        # Connections ending; let lwIP free what they held.
        end = time.monotonic() + 20
        last = None
        while time.monotonic() < end:
            cur = pool_usage(srv.stats())
            if cur == last:
                return cur
            last = cur
            time.sleep(2.5)     # longer than lwIP's TIME_WAIT (2 * TCP_MSL = 2 s)
        return last
    before = settle()
    assert before, 'no pool usage in the stats:\n' + json.dumps(srv.stats(), indent=1)
    run_ab(srv, n=2000, c=8)
    after = settle()
    # The heap may hold the tail of the stats response itself, copied into
    # lwIP and not yet acknowledged when the next sample is taken: at most
    # one segment.  A leak of even a few bytes a request shows as far more
    # over 2000 requests.
    slack = {'heap': 1460}
    grew = {k: (before.get(k), v) for k, v in after.items()
            if isinstance(v, int) and v > (before.get(k) or 0) + slack.get(k, 0)}
    assert not grew, 'pools grew after 2000 requests: %s' % grew


# ---- limits and timeouts: their own server, with short settings --------------

HEADER_TIMEOUT = 2      # seconds
MAX_CONNS = 8


@pytest.fixture(scope='module')
def limited():
    h = Httpd(app_args=['--header-timeout', str(HEADER_TIMEOUT * 1000),
                        '--max-conns', str(MAX_CONNS)])
    yield h
    h.stop()


def test_header_timeout(limited):
    s = socket.create_connection(('127.0.0.1', limited.port), timeout=HEADER_TIMEOUT + 10)
    try:
        s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n')    # and never the end
        start = time.monotonic()
        got = b''
        while len(got) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        took = time.monotonic() - start
    finally:
        s.close()
    assert status_of(got) == 408, got[:300]
    assert HEADER_TIMEOUT - 0.5 <= took <= HEADER_TIMEOUT + 5, took
    limited.ok()


def test_max_connections_evicts_idle(limited):
    """At the limit a newcomer takes the place of the oldest kept-alive
    connection that is waiting for nothing; the others keep working."""
    before = limited.stats()['evicted']
    held = []
    try:
        for _ in range(MAX_CONNS):
            s = socket.create_connection(('127.0.0.1', limited.port), timeout=5)
            s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
            r = b''
            while b'</html>' not in r:
                chunk = s.recv(65536)
                assert chunk, 'closed while under the limit'
                r += chunk
            held.append(s)
            time.sleep(0.05)        # distinct idle deadlines: held[0] is oldest
        status, _, body = limited.request('GET', '/', timeout=8)
        assert status == 200 and body == INDEX
        assert limited.stats()['evicted'] > before
        # The oldest idle connection was the one closed ...
        held[0].settimeout(5)
        try:
            assert held[0].recv(65536) == b''
        except ConnectionResetError:
            pass
        # ... and the newest still works.
        held[-1].sendall(b'GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n')
        assert held[-1].recv(65536).startswith(b'HTTP/1.1 200')
    finally:
        for s in held:
            s.close()
    limited.ok()



def test_slowloris(limited):
    """slowhttptest holds many slow header connections; a normal client
    keeps being served during and after."""
    need_tool('slowhttptest', 'slowhttptest')
    attack = subprocess.Popen(['timeout', '-k', '5', '40', 'slowhttptest', '-H', '-c', '200',
                               '-i', '10', '-r', '50', '-l', '20', '-p', '5', '-x', '24',
                               '-u', limited.base + '/'],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True)
    served, failed = 0, []
    try:
        time.sleep(3)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            t = time.monotonic()
            try:
                # A client retries a refused connection briefly, as browsers do.
                for attempt in range(10):
                    try:
                        status, _, body = limited.request('GET', '/', timeout=5)
                        break
                    except (ConnectionError, http.client.RemoteDisconnected):
                        time.sleep(0.2)
                else:
                    raise ConnectionError('refused 10 times')
                if status == 200 and body == INDEX:
                    served += 1
                else:
                    failed.append(status)
            except (OSError, http.client.HTTPException) as e:
                failed.append('%s after %.1fs' % (e, time.monotonic() - t))
            time.sleep(0.5)
    finally:
        try:
            out, _ = attack.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(attack.pid, signal.SIGKILL)
            out, _ = attack.communicate()
    assert served > 0 and not failed, 'served %d, failed %s\n%s' % (
        served, failed, out.decode('utf-8', 'replace')[-2000:])
    limited.ok()
    limited.alive()


# ---- a site with a large file, built with www= ------------------------------

def test_large_file(tmp_path):
    # Names the packer must escape for the assembler's .incbin: the
    # folder's (every body's path) and a file's; httpd refuses a '\\'
    # in a URL, so only the folder has one.
    www = tmp_path / 'w"w \\ #1'
    www.mkdir()
    big = os.urandom(1 << 20)
    (www / 'big.bin').write_bytes(big)
    (www / 'index.html').write_bytes(INDEX)
    odd = b'"odd" #*/ name\n' * 100
    (www / 'we"ird #*.txt').write_bytes(odd)
    p = subprocess.run([str(TOP / 'limpet'), 'build', 'httpd', 'www=%s' % www], cwd=TOP,
                       capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    image = TOP / p.stdout.split()[-1]
    assert image.exists() and image != image_path('httpd'), p.stdout
    h = Httpd(www=www, timeout=300)
    try:
        out = tmp_path / 'got.bin'
        p = h.curl('-o', str(out), '-w', '%{http_code} %{size_download}', 'URL/big.bin',
                   timeout=120)
        assert p.stdout == b'200 %d' % len(big), p.stdout + p.stderr
        assert out.read_bytes() == big
        for enc in ('identity', 'gzip'):
            status, hd, body = h.request('GET', '/we%22ird%20%23%2A.txt',
                                         {'Accept-Encoding': enc})
            assert status == 200 and hd.get('content-encoding', 'identity') == enc, (status, hd)
            assert (gzip.decompress(body) if enc == 'gzip' else body) == odd
        status, hd, body = h.request('GET', '/big.bin', {'Range': 'bytes=1000000-'})
        assert status == 206 and body == big[1000000:]
        assert hd['content-type'] == 'application/octet-stream'
        assert 'content-encoding' not in hd
        copied = find_key(h.stats(), 'bytes_copied')
        assert copied and all(v == 0 for v in copied)
        assert h.stats()['cut'] == {'by_peer': 0, 'by_stack': 0, 'by_error': 0}
        # A client that resets in the middle of the body: counted as cut
        # by the peer, and the connection handed back.
        s = socket.create_connection(('127.0.0.1', h.port), timeout=20)
        s.sendall(b'GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n')
        got = 0
        while got < 100000:
            chunk = s.recv(65536)
            assert chunk, 'closed after %d bytes' % got
            got += len(chunk)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        s.close()
        deadline = time.monotonic() + 30
        while True:
            st = h.stats()
            if st['cut']['by_peer'] == 1 and st['open'] == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert st['cut'] == {'by_peer': 1, 'by_stack': 0, 'by_error': 0}, st
        assert st['open'] == 1, st      # the stats request's own
    finally:
        h.stop()
    fair_share_on_tap(www, len(big))


def fair_share_on_tap(www, size, clients=64, seconds=12):
    """clients keep-alive clients download /big.bin over and over for
    `seconds`, over tap in a namespace of the test's own: together they
    run lwIP out of TCP segments, and every one of them must still get its
    share and every new connection an answer.  Before httpd's responses
    waited in line for memory (and left some for handshakes), a client
    whose write had failed waited as long as the others kept asking, and
    new connections' SYNs were dropped.  (Over QEMU's user networking,
    slirp itself held back some of 64 simultaneous connections from the
    guest for a minute under this load, so the test runs on tap.)"""
    from test_net import GUEST_IP, Namespace
    ns = Namespace()
    g = None
    try:
        g = Console()
        g.who = 'httpd on tap'
        g.spawn([str(TOP / 'limpet'), 'run', 'httpd', '--no-build', '--www', str(www),
                 '--net', 'tap', '--netns', ns.name, '--timeout', '300'])
        g.wait_for(READY, 60)
        p = ns.run('/usr/bin/python3', TOP / 'tests' / 'fair_clients.py', GUEST_IP, 80,
                   '/big.bin', size, '--clients', clients, '--seconds', seconds,
                   timeout=seconds + 180, check=False)
        assert p.returncode == 0, p.stdout + p.stderr
        r = json.loads(p.stdout)
        st = ns.run('curl', '-sS', '--max-time', 20, 'http://%s/_limpet/stats' % GUEST_IP).stdout
        assert not r['errors'], 'clients failed: %r\nstats: %s%s' % (r['errors'][:5], st,
                                                                      g.describe())
        done = r['done']
        mean = sum(done) / clients
        assert min(done) >= 1 and min(done) >= mean / 4, 'unfair shares: %r' % done
        st = json.loads(st)
        assert st['lwip']['memp']['TCP_SEG']['err'] == 0, st['lwip']['memp']['TCP_SEG']
        assert st['timeouts'] == {'header': 0, 'idle': 0, 'send': 0}, st['timeouts']
        assert st['cut'] == {'by_peer': 0, 'by_stack': 0, 'by_error': 0}, st['cut']
    finally:
        if g:
            g.stop()
        ns.delete()


def test_access_log_and_no_stats():
    """--access-log writes a line per request on the console; --no-stats
    takes the stats page away (a 404 like any missing file)."""
    h = Httpd(app_args=['--access-log', '--no-stats'], timeout=120)
    try:
        status, _, body = h.request('GET', '/style.css')
        assert status == 200
        h.wait_for(re.compile(r'^\[[^]]+\] 10\.0\.2\.2 "GET /style\.css HTTP/1\.1" 200 %d$'
                              % len(body), re.M))
        status, _, _ = h.request('GET', '/_limpet/stats')
        assert status == 404
        h.wait_for(re.compile(r'"GET /_limpet/stats HTTP/1\.1" 404 \d+$', re.M))
    finally:
        h.stop()
