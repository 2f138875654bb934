"""HTTPS end to end: httpd built with tls=1, booted by `./limpet run httpd
--tls` with user networking (free ports on 127.0.0.1 forwarded to the
guest's 443 and 80), driven by TLS clients nobody here wrote: curl,
openssl s_client, gnutls-cli (a second TLS stack), sslscan, Python's ssl
module, and raw sockets for plaintext, truncated and stalled handshakes
and for P-256 key exchanges with bad client points.

What a client may negotiate is TLS 1.3 or 1.2 with ECDHE (X25519, P-256)
and AES-GCM or ChaCha20-Poly1305, resumption by session tickets (in TLS
1.3 PSK with ECDHE, no 0-RTT), ALPN http/1.1
(net/tls/limpet_mbedtls_config.h, net/tls/tls.c); the server's
certificate is the build's development one, build/tls/dev-cert.pem.

Safety: every byte goes to 127.0.0.1, to ports this module forwarded.
Every client runs under a timeout, every loop is bounded, and each QEMU is
ended with its ./limpet process group (by PID).
"""

import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import time

import pytest

from conftest import TOP, limpet, monitor
from test_httpd import WWW, Httpd, free_port, need_tool

CERT = TOP / 'build' / 'tls' / 'dev-cert.pem'
IMAGE = TOP / 'build' / 'pc-debug-info-tls' / 'httpd.elf'
READY_TLS = re.compile(r'^httpd: listening on port 443 \(HTTPS\)', re.M)
# The suites the configuration allows (OpenSSL's names), TLS 1.2 and 1.3.
ALLOWED = re.compile(r'^ECDHE-(ECDSA|RSA)-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$')
ALLOWED13 = re.compile(r'^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$')
# openssl s_client's flag and the protocol it must report.
VERSIONS = [('-tls1_3', 'TLSv1.3'), ('-tls1_2', 'TLSv1.2')]
GET = b'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'


class Https(Httpd):
    """./limpet run httpd --tls --no-build, forwarding a free port to the
    guest's 443 (self.tls_port) and another to its 80 (self.port)."""

    def __init__(self, app_args=(), image=IMAGE, www=None, timeout=900, kernel_args=None,
                 run_args=(), booted=True):
        if not image.exists():
            pytest.fail('no TLS httpd image %s: build it with ./limpet build httpd tls=1'
                        % image.relative_to(TOP))
        if not CERT.exists():
            pytest.fail('no development certificate %s (the tls=1 build makes it)' % CERT)
        self.port = free_port()
        self.tls_port = free_port()
        while self.tls_port == self.port:
            self.tls_port = free_port()
        cmd = [str(TOP / 'limpet'), 'run', 'httpd', '--tls', '--no-build',
               '--timeout', str(timeout),
               '--port', '%d:443' % self.tls_port, '--port', '%d:80' % self.port]
        if www is not None:
            cmd += ['--www', str(www)]
        if kernel_args is not None:
            cmd += ['--kernel-args', kernel_args]
        cmd += list(run_args)
        if app_args:
            cmd += ['--'] + list(app_args)
        self._start(cmd, booted)

    def _start(self, cmd, booted=True):
        """booted: wait for the boot's HTTPS line; else (a guest that
        resumes from a saved state, --incoming) for plain HTTP to answer."""
        self.spawn(cmd)
        self.base = 'http://127.0.0.1:%d' % self.port
        self.tls_base = 'https://127.0.0.1:%d' % self.tls_port
        try:
            if booted:
                self.wait_for(READY_TLS, 90)
            else:
                end = time.monotonic() + 90
                while True:
                    try:
                        self.stats()
                        break
                    except (OSError, http.client.HTTPException, ValueError):
                        if time.monotonic() > end or self.proc.poll() is not None:
                            raise
                        time.sleep(0.5)
        except BaseException:
            self.stop()
            raise

    # ---- clients ----------------------------------------------------------

    def tls_curl(self, *args, timeout=30):
        need_tool('curl', 'curl')
        return subprocess.run(['curl', '-sS', '--max-time', str(timeout - 5),
                               '--cacert', str(CERT)] +
                              [a.replace('URL', self.tls_base) for a in args],
                              capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def s_client(self, *args, data=b'', timeout=30):
        need_tool('openssl', 'openssl')
        return subprocess.run(['openssl', 's_client', '-connect', '127.0.0.1:%d' % self.tls_port,
                               '-servername', 'localhost'] + list(args),
                              input=data, capture_output=True, timeout=timeout)

    def ok(self):
        """A normal request is served, over HTTPS and over plain HTTP."""
        p = self.tls_curl('URL/')
        assert p.returncode == 0 and p.stdout == (WWW / 'index.html').read_bytes(), \
            'an HTTPS request failed: %s' % p.stderr.decode() + self.describe()
        super().ok()

    def context(self):
        ctx = ssl.create_default_context(cafile=str(CERT))
        ctx.check_hostname = False  # the certificate names 127.0.0.1 too; kept simple
        return ctx

    def handshake(self, ctx=None, request=None, timeout=20, version='TLSv1.3'):
        """One full TLS handshake (a new context: no session resumption)
        of version (TLSv1.3 or TLSv1.2); the response to request, if
        given."""
        ctx = ctx or self.context()
        if version == 'TLSv1.2':
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(('127.0.0.1', self.tls_port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw) as s:
                assert s.version() == version, s.version()
                if request is None:
                    return b''
                s.sendall(request)
                got = b''
                end = time.monotonic() + timeout
                while time.monotonic() < end:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                return got

    def settled(self, keys, timeout=20):
        """The stats once the values keys() picks out stop changing and
        only the stats connection is open."""
        end = time.monotonic() + timeout
        prev = None
        while True:
            st = self.stats()
            cur = keys(st)
            if st['open'] == 1 and cur == prev:
                return st
            if time.monotonic() > end:
                return st
            prev = cur
            time.sleep(1)


@pytest.fixture(scope='module')
def server():
    h = Https(app_args=['--header-timeout', '3000'])
    yield h
    h.stop()


def mem_keys(st):
    memp = st['lwip']['memp']
    return (st['heap_used'], st['lwip']['heap']['used'], memp['ALTCP_PCB']['used'],
            memp['PBUF_POOL']['used'], memp['TCP_SEG']['used'], memp['PBUF_REF/ROM']['used'])


# ---- clients that work ------------------------------------------------------

def test_run_says_how_to_trust_the_certificate(server):
    out = server.output
    assert ('httpd: serving https://127.0.0.1:%d/ — trust the development certificate with: '
            'curl --cacert build/tls/dev-cert.pem https://127.0.0.1:%d/'
            % (server.tls_port, server.tls_port)) in out, server.describe()
    assert 'DEVELOPMENT certificate' in out, server.describe()


def test_curl_get(server):
    p = server.tls_curl('URL/')
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout == (WWW / 'index.html').read_bytes()


def test_curl_keep_alive_two_urls_one_connection(server):
    before = server.stats()['tls']['accepted']
    p = server.tls_curl('-v', 'URL/', 'URL/style.css', '-o', '/dev/null', '-o', '/dev/null')
    err = p.stderr.decode()
    assert p.returncode == 0, err
    assert 'Re-using existing connection' in err, err
    assert err.count('SSL connection using TLSv1.3') == 1, err
    assert server.stats()['tls']['accepted'] == before + 1


@pytest.mark.parametrize('flag,version', VERSIONS)
@pytest.mark.parametrize('group,curves,temp_key', [
    ('X25519', 'X25519:prime256v1', 'Server Temp Key: X25519'),
    ('P-256', 'prime256v1', 'Server Temp Key: ECDH, prime256v1'),
])
def test_key_exchanges(server, group, curves, temp_key, flag, version):
    # curl: the page over each group (a client offering X25519 alone cannot
    # be served with a P-256 ECDSA certificate, RFC 8422 5.1, so X25519 is
    # tested as the first choice of two, which the server prefers).
    p = server.tls_curl('--curves', curves, 'URL/')
    assert p.returncode == 0 and p.stdout == (WWW / 'index.html').read_bytes(), p.stderr.decode()
    # openssl s_client: the group the server chose, and a page fetched
    # over that same connection (both are our own code: net/tls/x25519.c,
    # and net/tls/p256.c for P-256's key pair and shared secret).
    groups = 'X25519:P-256' if group == 'X25519' else 'P-256'
    p = server.s_client(flag, '-CAfile', str(CERT), '-groups', groups, '-ign_eof', data=GET)
    out = p.stdout.decode('utf-8', 'replace')
    assert temp_key in out, out
    assert re.search(r'Protocol\s*: %s' % re.escape(version), out), out
    assert 'Verify return code: 0 (ok)' in out, out
    assert 'HTTP/1.1 200 OK' in out, out


@pytest.mark.parametrize('flag,version', VERSIONS)
def test_openssl_s_client(server, flag, version):
    p = server.s_client(flag, '-CAfile', str(CERT), '-ign_eof', data=GET)
    out = p.stdout.decode('utf-8', 'replace')
    assert 'Verify return code: 0 (ok)' in out, out
    assert re.search(r'Protocol\s*: %s' % re.escape(version), out), out
    m = re.search(r'Cipher is (\S+)', out)
    assert m and (ALLOWED13 if version == 'TLSv1.3' else ALLOWED).match(m.group(1)), out
    assert 'HTTP/1.1 200 OK' in out, out


def test_tls13_offers_every_allowed_suite(server):
    for suite in ('TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384',
                  'TLS_CHACHA20_POLY1305_SHA256'):
        p = server.s_client('-tls1_3', '-ciphersuites', suite, '-CAfile', str(CERT),
                            '-ign_eof', data=GET)
        out = p.stdout.decode('utf-8', 'replace')
        assert 'Cipher is %s' % suite in out and 'HTTP/1.1 200 OK' in out, out
    # TLS 1.3's CCM suites are not compiled in.
    p = server.s_client('-tls1_3', '-ciphersuites', 'TLS_AES_128_CCM_SHA256')
    out = p.stdout.decode() + p.stderr.decode()
    assert 'Cipher is (NONE)' in out, out


def test_tls13_key_share_for_a_group_the_server_ranks_second(server):
    # The client's key share is for P-256, the server's second choice
    # (X25519 first), with X25519 listed as supported: the handshake must
    # complete (over P-256, or X25519 after a HelloRetryRequest).
    p = server.s_client('-tls1_3', '-groups', 'P-256:X25519', '-CAfile', str(CERT),
                        '-ign_eof', data=GET)
    out = p.stdout.decode('utf-8', 'replace')
    assert 'Verify return code: 0 (ok)' in out and 'HTTP/1.1 200 OK' in out, out


@pytest.mark.parametrize('flag,version', VERSIONS)
def test_session_resumption(server, flag, version, tmp_path):
    """A second connection resumes the first's session from its ticket
    (TLS 1.2: RFC 5077; TLS 1.3: the NewSessionTicket's PSK, with a fresh
    ECDHE), and both fetch the page."""
    sess = tmp_path / 'session.pem'
    p = server.s_client(flag, '-CAfile', str(CERT), '-sess_out', str(sess), '-ign_eof', data=GET)
    out = p.stdout.decode('utf-8', 'replace')
    assert re.search(r'^New, %s' % re.escape(version), out, re.M) and 'HTTP/1.1 200 OK' in out, out
    assert sess.exists() and sess.stat().st_size > 0, out
    p = server.s_client(flag, '-CAfile', str(CERT), '-sess_in', str(sess), '-ign_eof', data=GET)
    out = p.stdout.decode('utf-8', 'replace')
    assert re.search(r'^Reused, %s' % re.escape(version), out, re.M), out
    assert 'HTTP/1.1 200 OK' in out, out


def test_tls13_early_data_refused(server, tmp_path):
    """No 0-RTT: data a client sends early (replayable) is rejected, and
    the request is served after the handshake instead."""
    sess = tmp_path / 'session.pem'
    early = tmp_path / 'early.txt'
    early.write_bytes(b'GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n')
    p = server.s_client('-tls1_3', '-CAfile', str(CERT), '-sess_out', str(sess), '-ign_eof', data=GET)
    assert p.returncode == 0 and sess.exists(), p.stdout.decode('utf-8', 'replace')
    p = server.s_client('-tls1_3', '-CAfile', str(CERT), '-sess_in', str(sess),
                        '-early_data', str(early), '-ign_eof', data=GET)
    out = p.stdout.decode('utf-8', 'replace')
    assert 'Early data was accepted' not in out, out
    assert 'HTTP/1.1 200 OK' in out, out
    server.ok()


def test_alpn(server):
    # ALPN (RFC 7301): http/1.1 is agreed; a client that offers only
    # protocols httpd does not speak is refused, not served HTTP/1.1
    # under another name.
    p = server.s_client('-alpn', 'h2,http/1.1', '-CAfile', str(CERT), '-ign_eof', data=GET)
    out = p.stdout.decode('utf-8', 'replace')
    assert 'ALPN protocol: http/1.1' in out and 'HTTP/1.1 200 OK' in out, out
    p = server.s_client('-alpn', 'h2', '-CAfile', str(CERT), data=GET)
    out = p.stdout.decode('utf-8', 'replace') + p.stderr.decode('utf-8', 'replace')
    assert 'HTTP/1.1 200 OK' not in out and 'no application protocol' in out, out
    # Without ALPN, as before.
    p = server.s_client('-CAfile', str(CERT), '-ign_eof', data=GET)
    out = p.stdout.decode('utf-8', 'replace')
    assert 'No ALPN negotiated' in out and 'HTTP/1.1 200 OK' in out, out
    server.ok()


@pytest.mark.parametrize('flag,version', VERSIONS)
def test_no_client_certificate_requested(server, flag, version):
    # A web server asks for no client certificate: a CertificateRequest
    # makes browsers with certificates installed ask their user to pick
    # one, for nothing.
    p = server.s_client(flag, '-CAfile', str(CERT), '-msg', '-ign_eof', data=GET)
    out = p.stdout.decode('utf-8', 'replace')
    last = 'ServerHelloDone' if version == 'TLSv1.2' else 'CertificateVerify'
    assert last in out and 'HTTP/1.1 200 OK' in out, out
    assert 'CertificateRequest' not in out, out


@pytest.mark.parametrize('vers', ['TLS1.3', 'TLS1.2'])
@pytest.mark.parametrize('group', [None, 'SECP256R1'])
def test_gnutls_cli(server, group, vers):
    # A second TLS stack, with its own choice of group and, forced, P-256,
    # over each version.
    need_tool('gnutls-cli', 'gnutls-bin')
    prio = ['--priority', 'NORMAL:-VERS-ALL:+VERS-%s%s'
            % (vers, ':-GROUP-ALL:+GROUP-%s' % group if group else '')]
    p = subprocess.run(['gnutls-cli', '--x509cafile', str(CERT), '-p', str(server.tls_port)] +
                       prio + ['127.0.0.1'],
                       input=b'GET /style.css HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
                       capture_output=True, timeout=30)
    out = p.stdout.decode('utf-8', 'replace')
    assert 'Handshake was completed' in out, out + p.stderr.decode()
    assert re.search(r'Description: \(%s-X\.509\)-\(ECDHE-%s\)'
                     % (re.escape(vers), group or r'[A-Z0-9]+'), out), out
    assert 'HTTP/1.1 200 OK' in out, out
    assert (WWW / 'style.css').read_text() in out, out


def test_large_body_over_tls(tmp_path_factory):
    """A body many records long (mbedTLS takes 4 KiB a write), and one
    larger than the send buffer, arrive whole."""
    www = tmp_path_factory.mktemp('www-tls')
    (www / 'index.html').write_text('<!doctype html><title>big</title>\n')
    big = os.urandom(300 * 1024)
    (www / 'big.bin').write_bytes(big)
    p = subprocess.run([str(TOP / 'limpet'), 'build', 'httpd', 'tls=1', 'www=%s' % www],
                       cwd=TOP, capture_output=True, timeout=600)
    assert p.returncode == 0, p.stderr.decode()
    image = TOP / p.stdout.decode().split()[-1]
    h = Https(image=image, www=www)
    try:
        for _ in range(2):
            r = h.tls_curl('URL/big.bin', '-o', '-')
            assert r.returncode == 0, r.stderr.decode()
            assert hashlib.sha256(r.stdout).hexdigest() == hashlib.sha256(big).hexdigest()
        st = h.stats()
        assert st['tls']['bytes_encrypted'] >= 2 * len(big), st
        assert st['driver']['bytes_copied'] == 0, st
    finally:
        h.stop()


# ---- what must be refused ---------------------------------------------------

def test_sslscan_only_tls13_tls12_and_allowed_suites(server):
    need_tool('sslscan', 'sslscan')
    p = subprocess.run(['sslscan', '--no-colour', '127.0.0.1:%d' % server.tls_port],
                       capture_output=True, timeout=300)
    out = p.stdout.decode('utf-8', 'replace')
    protos = dict(re.findall(r'^(SSLv2|SSLv3|TLSv1\.[0-3])\s+(enabled|disabled)$', out, re.M))
    assert protos == {'SSLv2': 'disabled', 'SSLv3': 'disabled', 'TLSv1.0': 'disabled',
                      'TLSv1.1': 'disabled', 'TLSv1.2': 'enabled', 'TLSv1.3': 'enabled'}, out
    suites = re.findall(r'^(?:Preferred|Accepted)\s+(\S+)\s+\d+ bits\s+(\S+)', out, re.M)
    assert {proto for proto, _ in suites} == {'TLSv1.2', 'TLSv1.3'}, out
    for proto, name in suites:
        assert (ALLOWED13 if proto == 'TLSv1.3' else ALLOWED).match(name), (proto, name, out)
    server.ok()


@pytest.mark.parametrize('version', ['-tls1', '-tls1_1'])
def test_old_protocols_refused(server, version):
    # Debian's OpenSSL refuses these itself at its default security level.
    p = server.s_client(version, '-cipher', 'DEFAULT:@SECLEVEL=0')
    out = p.stdout.decode() + p.stderr.decode()
    assert 'Cipher is (NONE)' in out, out
    assert 'protocol version' in out or 'handshake failure' in out, out


@pytest.mark.parametrize('cipher', ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA',
                                    'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA'])
def test_weak_suites_refused(server, cipher):
    p = server.s_client('-tls1_2', '-cipher', cipher + ':@SECLEVEL=0')
    out = p.stdout.decode() + p.stderr.decode()
    assert 'Cipher is (NONE)' in out, out


# ---- hostile clients ----------------------------------------------------------

def test_plaintext_http_on_the_tls_port(server):
    before = server.stats()['tls']['handshake_failures']
    s = socket.create_connection(('127.0.0.1', server.tls_port), timeout=10)
    got = b''
    try:
        s.sendall(b'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                chunk = s.recv(4096)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    assert b'HTTP/1.1' not in got, got
    assert time.monotonic() < end, 'the server kept the connection open'
    server.ok()
    st = server.settled(lambda st: st['tls']['handshake_failures'])
    assert st['tls']['handshake_failures'] >= before + 1, st


def client_hello():
    """A real ClientHello, from Python's ssl module through memory BIOs."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname='localhost')
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def test_truncated_records(server):
    before = server.stats()['tls']['handshake_failures']
    hello = client_hello()
    assert hello[0] == 0x16, hello[:5]
    for cut in (3, 5, len(hello) // 2, len(hello) - 1):
        s = socket.create_connection(('127.0.0.1', server.tls_port), timeout=10)
        try:
            s.sendall(hello[:cut])
            s.shutdown(socket.SHUT_WR)
            s.settimeout(10)
            try:
                while s.recv(4096):
                    pass
            except (socket.timeout, ConnectionResetError):
                pass
        finally:
            s.close()
    # A record that claims more than it carries, then close.
    s = socket.create_connection(('127.0.0.1', server.tls_port), timeout=10)
    s.sendall(b'\x16\x03\x03\x40\x00' + b'\x01' * 100)
    s.close()
    server.ok()
    st = server.settled(lambda st: st['tls']['handshake_failures'])
    assert st['tls']['handshake_failures'] >= before + 5, st
    assert st['open'] == 1, st


def test_stalled_handshake_times_out(server):
    """A ClientHello, then nothing: --header-timeout (3 s here) frees it."""
    before = server.stats()
    socks = []
    try:
        s = socket.create_connection(('127.0.0.1', server.tls_port), timeout=10)
        s.sendall(client_hello())
        socks.append(s)
        socks.append(socket.create_connection(('127.0.0.1', server.tls_port), timeout=10))
        time.sleep(1)
        mid = server.stats()
        assert mid['open'] >= 3, mid   # the two, and the stats request
        end = time.monotonic() + 20
        while time.monotonic() < end:
            st = server.stats()
            if st['open'] == 1:
                break
            time.sleep(0.5)
        assert st['open'] == 1, st
        assert st['tls']['handshake_timeouts'] >= before['tls']['handshake_timeouts'] + 2, st
    finally:
        for s in socks:
            s.close()
    server.ok()


# P-256 (FIPS 186-4 D.1.2.3), for ClientKeyExchange messages made by hand:
# textbook affine arithmetic, None for the point at infinity.
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b
P256_G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
          0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)


def p256_add(a, b):
    p = P256_P
    if a is None or b is None:
        return b if a is None else a
    if a[0] == b[0] and (a[1] + b[1]) % p == 0:
        return None
    if a == b:
        lam = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, p) % p
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, p) % p
    x = (lam * lam - a[0] - b[0]) % p
    return x, (lam * (a[0] - x) - a[1]) % p


def p256_mul(k, pt):
    acc = None
    for bit in bin(k)[2:]:
        acc = p256_add(acc, acc)
        if bit == '1':
            acc = p256_add(acc, pt)
    return acc


def uncompressed(x, y):
    return b'\x04' + x.to_bytes(32, 'big') + y.to_bytes(32, 'big')


def tls_record(ctype, body):
    return bytes([ctype, 3, 3]) + len(body).to_bytes(2, 'big') + body


def handshake_msg(htype, body):
    return bytes([htype]) + len(body).to_bytes(3, 'big') + body


def p256_only_client_hello():
    """A TLS 1.2 ClientHello offering ECDHE_ECDSA/RSA with AES-128-GCM and
    P-256 as its only group."""
    def ext(etype, data):
        return etype.to_bytes(2, 'big') + len(data).to_bytes(2, 'big') + data
    suites = b'\xc0\x2b\xc0\x2f'            # ECDHE_{ECDSA,RSA}_WITH_AES_128_GCM_SHA256
    sigalgs = b'\x04\x03\x08\x04\x04\x01'    # ecdsa_secp256r1_sha256, rsa_pss, rsa_pkcs1
    exts = (ext(0x000a, b'\x00\x02\x00\x17') +  # supported_groups: secp256r1
            ext(0x000b, b'\x01\x00') +          # ec_point_formats: uncompressed
            ext(0x000d, len(sigalgs).to_bytes(2, 'big') + sigalgs))
    body = (b'\x03\x03' + os.urandom(32) + b'\x00' + len(suites).to_bytes(2, 'big') + suites +
            b'\x01\x00' + len(exts).to_bytes(2, 'big') + exts)
    return tls_record(22, handshake_msg(1, body))


def p256_key_exchange(server, point, timeout=20):
    """A handshake up to the client's key exchange, sending point as its
    public key: 'closed' when the server then ends the connection (EOF,
    reset or an alert), 'waiting' when it still waits for the client's
    ChangeCipherSpec 2 s later, as after a good key."""
    with socket.create_connection(('127.0.0.1', server.tls_port), timeout=timeout) as s:
        s.sendall(p256_only_client_hello())
        buf, hs, kx, cert_req = b'', b'', None, False
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            while len(buf) >= 5 and len(buf) >= 5 + int.from_bytes(buf[3:5], 'big'):
                n = 5 + int.from_bytes(buf[3:5], 'big')
                assert buf[0] == 22, 'record type %d before ServerHelloDone' % buf[0]
                hs += buf[5:n]
                buf = buf[n:]
            while len(hs) >= 4 and len(hs) >= 4 + int.from_bytes(hs[1:4], 'big'):
                n = 4 + int.from_bytes(hs[1:4], 'big')
                if hs[0] == 12:             # ServerKeyExchange: named_curve secp256r1
                    kx = hs[4:n]
                if hs[0] == 13:             # CertificateRequest (lwIP's altcp_tls
                    cert_req = True         # asks, VERIFY_OPTIONAL)
                if hs[0] == 14:             # ServerHelloDone
                    break
                hs = hs[n:]
            else:
                chunk = s.recv(65536)
                assert chunk, 'the server closed before ServerHelloDone'
                buf += chunk
                continue
            break
        assert kx is not None and kx[:3] == b'\x03\x00\x17', kx
        # No certificate of ours, if asked: an empty list.
        msgs = handshake_msg(11, b'\x00\x00\x00') if cert_req else b''
        msgs += handshake_msg(16, bytes([len(point)]) + point)
        s.sendall(tls_record(22, msgs))
        s.settimeout(2)
        try:
            got = s.recv(4096)
        except socket.timeout:
            return 'waiting'
        except ConnectionResetError:
            return 'closed'
        assert not got or got[0] == 21, got   # EOF or an alert
        return 'closed'


def p256_bad_points():
    """Public keys a P-256 server must refuse, each with why."""
    p, (gx, gy) = P256_P, P256_G
    # A point of the curve with a small x, whose x + p still fits in 32
    # bytes: the same point mod p, in a non-canonical encoding.
    x = next(x for x in range(100) if pow((x**3 - 3 * x + P256_B) % p, (p - 1) // 2, p) == 1)
    y = pow((x**3 - 3 * x + P256_B) % p, (p + 1) // 4, p)
    assert (y * y - (x**3 - 3 * x + P256_B)) % p == 0
    return [
        ('G with y + 1, off the curve', uncompressed(gx, (gy + 1) % p)),
        # The invalid-curve attack's classic: (1, 0) has order 2 on
        # y^2 = x^3 - 3x + 2, and d (1, 0) would give away d's parity.
        ('(1, 0), of order 2 on another curve', uncompressed(1, 0)),
        ('a valid x + p', uncompressed(x + p, y)),
        ('(0, 0)', uncompressed(0, 0)),
        ('the point at infinity (0x00)', b'\x00'),
    ]


def test_p256_client_key_exchange_checked(server):
    """The client's P-256 public key reaches our code (net/tls/ecdh_alt.c,
    p256.c) unchecked by mbedTLS's TLS layer: bad ones must end the
    handshake, and a good one must not."""
    before = server.stats()['tls']['handshake_failures']
    good = p256_mul(int.from_bytes(os.urandom(32), 'big') % (P256_N - 1) + 1, P256_G)
    assert p256_key_exchange(server, uncompressed(*good)) == 'waiting'
    bad = p256_bad_points()
    for what, point in bad:
        assert p256_key_exchange(server, point) == 'closed', what
    st = server.settled(lambda st: st['tls']['handshake_failures'])
    assert st['tls']['handshake_failures'] >= before + len(bad), st
    server.ok()
    p = server.s_client('-CAfile', str(CERT), '-groups', 'P-256', '-ign_eof',
                        data=b'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    out = p.stdout.decode('utf-8', 'replace')
    assert 'Server Temp Key: ECDH, prime256v1' in out and 'HTTP/1.1 200 OK' in out, out


def test_200_handshakes_memory_flat(server):
    # Warm up (first allocations, lwIP's pools), then measure.
    for _ in range(10):
        server.handshake()
    before = server.settled(mem_keys)
    start = time.monotonic()
    for i in range(200):
        # Half TLS 1.3, half 1.2; half with a request.
        server.handshake(request=GET if i % 2 else None,
                         version='TLSv1.3' if i % 4 < 2 else 'TLSv1.2')
        if i == 19:
            rate = 20 / (time.monotonic() - start)
    after = server.settled(mem_keys)
    print('\nhttps: %.1f full handshakes/s over 20 sequential (this accelerator); '
          'heap_used %d -> %d, lwIP heap %d -> %d'
          % (rate, before['heap_used'], after['heap_used'],
             before['lwip']['heap']['used'], after['lwip']['heap']['used']))
    assert after['tls']['handshakes'] >= before['tls']['handshakes'] + 200, after
    for v in ('tls1_3', 'tls1_2'):
        assert after['tls']['versions'][v] >= before['tls']['versions'][v] + 100, after['tls']
    # Everything TLS allocated for them (tls.memory: mbedTLS's heap and the
    # TLS layer's state) is back.
    assert after['tls']['memory']['bytes'] == before['tls']['memory']['bytes'], \
        (before['tls']['memory'], after['tls']['memory'])
    assert after['tls']['memory']['connections'] == 0, after['tls']
    assert after['open'] == 1, after
    # newlib's heap (mbedTLS's ~21 KiB per connection) has not grown, and
    # lwIP's heap and pools are back where they were.
    assert after['heap_used'] == before['heap_used'], (before['heap_used'], after['heap_used'])
    # lwIP's heap may hold the tail of the stats response itself, copied
    # and not yet acknowledged when sampled: at most one segment.  A leak
    # of even a few bytes a handshake shows as far more over 200.
    b, a = mem_keys(before), mem_keys(after)
    assert a[1] <= b[1] + 1460, (b, a)
    assert a[2:] == b[2:], (b, a)
    assert after['lwip']['heap']['err'] == 0, after


@pytest.mark.parametrize('version', ['TLSv1.3', 'TLSv1.2'])
def test_idle_connection_memory(server, version):
    """What an idle HTTPS connection holds beyond an HTTP one (its TLS
    state: record buffers of 16 KiB in and 4 KiB out, keys, mbedTLS's
    context), the same for TLS 1.3 and 1.2, and all of it given back on
    close.  ./limpet bench reports the figure."""
    n = 20
    ctx = server.context()
    if version == 'TLSv1.2':
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    before = server.settled(lambda st: st['tls']['memory']['bytes'])['tls']['memory']
    socks = []
    try:
        for _ in range(n):
            raw = socket.create_connection(('127.0.0.1', server.tls_port), timeout=20)
            socks.append(ctx.wrap_socket(raw))
            assert socks[-1].version() == version
        time.sleep(1)
        during = server.stats()['tls']['memory']
    finally:
        for s in socks:
            s.close()
    per = (during['bytes'] - before['bytes']) / n
    print('\nhttps: an idle %s connection holds %.0f bytes of TLS state' % (version, per))
    assert during['connections'] >= before['connections'] + n, during
    assert 20 * 1024 < per < 24 * 1024, per
    after = server.settled(lambda st: st['tls']['memory']['bytes'])['tls']['memory']
    assert after['bytes'] == before['bytes'] and after['connections'] == 0, (before, after)


def test_tls13_post_handshake_messages_refused(server):
    """A TLS 1.3 client's KeyUpdate (openssl s_client's K command) after
    the handshake: mbedTLS 3.6's server does not support it and ends the
    connection with an alert; the server goes on, and the TLS state the
    handshake left (freed early, net/tls/tls_altcp.c) is not missed."""
    before = server.settled(lambda st: st['tls']['memory']['bytes'])['tls']['memory']
    for cmd in (b'K\n', b'k\n'):
        p = server.s_client('-tls1_3', '-CAfile', str(CERT), data=cmd + GET, timeout=30)
        out = p.stdout.decode('utf-8', 'replace') + p.stderr.decode('utf-8', 'replace')
        assert 'KEYUPDATE' in out, out
    server.ok()
    after = server.settled(lambda st: st['tls']['memory']['bytes'])['tls']['memory']
    assert after['bytes'] == before['bytes'] and after['connections'] == 0, (before, after)


def test_plain_http_still_served_beside_https(server):
    server.ok()
    status, headers, body = server.request('GET', '/style.css')
    assert status == 200 and body == (WWW / 'style.css').read_bytes()


def test_redirect_to_https():
    h = Https(app_args=['--redirect-https'])
    try:
        c = http.client.HTTPConnection('127.0.0.1', h.port, timeout=10)
        c.request('GET', '/docs/?q=1', headers={'Host': '127.0.0.1:%d' % h.port})
        r = c.getresponse()
        r.read()
        c.close()
        assert r.status == 301, r.status
        # The forwarded HTTPS port, which ./limpet run --tls passes.
        assert r.getheader('Location') == 'https://127.0.0.1:%d/docs/?q=1' % h.tls_port
        p = subprocess.run(['curl', '-sS', '-L', '--max-time', '20', '--cacert', str(CERT),
                            'http://127.0.0.1:%d/' % h.port],
                           capture_output=True, timeout=30)
        assert p.returncode == 0 and p.stdout == (WWW / 'index.html').read_bytes(), p.stderr
    finally:
        h.stop()


def test_entropy_failing_later_stops_handshakes():
    """A hardware source that fails once TLS runs (entropy_fault=late, a
    debug build's: sound for 5 s after boot, then stuck): the DRBG's next
    reseed (at most a second after the last) fails its health test, and
    from then on every handshake fails; plain HTTP goes on."""
    h = Https(kernel_args='entropy_fault=late')
    try:
        # Serving TLS at all: the source passed its start-up test and
        # seeded the DRBG.  Then past the 5 s.
        assert 'passed the start-up health test' in h.output, h.describe()
        time.sleep(6)
        failed = 0
        for _ in range(3):
            try:
                h.handshake(timeout=10)
            except (ssl.SSLError, OSError):
                failed += 1
        assert failed >= 2, 'handshakes went on after the source failed' + h.describe()
        st = h.stats()
        assert st['tls']['rng']['failed'] is True, st['tls']
        assert st['tls']['entropy']['healthy'] is False and \
            st['tls']['entropy']['failures'] >= 1, st['tls']
        assert 'failed its health test: the same sample twice in a row' in h.output, h.describe()
        assert 'no more TLS handshakes until the machine restarts' in h.output, h.describe()
        Httpd.ok(h)      # plain HTTP still served
    finally:
        h.stop()


def test_stats_show_reseeds(server):
    """The DRBG is reseeded from the hardware while handshakes go on."""
    before = server.stats()['tls']
    for _ in range(3):
        server.handshake()
        time.sleep(1.1)
    after = server.stats()['tls']
    assert after['rng']['reseeds'] >= before['rng']['reseeds'] + 2, (before, after)
    assert after['rng']['failed'] is False and after['entropy']['healthy'] is True, after


def test_clone_from_saved_state_reseeds(tmp_path):
    """A VM saved and started again from that state (what a restore from a
    snapshot or a clone does) with a VM generation ID (./limpet run
    --vmgenid): QEMU gives the new VM a new ID, and the DRBG reseeds
    before its first draw there, not up to a second later."""
    state, mon = tmp_path / 'state', tmp_path / 'mon'
    a = Https(run_args=['--vmgenid', '--monitor', str(mon)])
    try:
        a.handshake()
        before = a.stats()['tls']['rng']
        assert before['vmgenid'] is True and before['vmgenid_changes'] == 0, before
        assert 'vmgenid: VM generation ID at' in a.output, a.describe()
        # Saved while it runs (QEMU stops it at the end), so that the
        # state says running and the new VM runs at once.
        monitor(mon, 'migrate "exec:cat > %s"' % state)
        end = time.monotonic() + 60
        while 'Migration status: completed' not in monitor(mon, 'info migrate'):
            assert time.monotonic() < end, 'the VM state was not saved'
            time.sleep(0.5)
    finally:
        a.stop()
    b = Https(run_args=['--vmgenid', '--monitor', str(tmp_path / 'mon-b'),
                        '--incoming', str(state)], booted=False)
    try:
        b.handshake()
        after = b.stats()['tls']['rng']
        assert after['vmgenid_changes'] == 1, (before, after)
        assert after['reseeds'] > before['reseeds'], (before, after)
        assert 'the VM generation ID changed' in b.output, b.describe()
    finally:
        b.stop()


# ---- headers, compression and an outside grade -------------------------------

def response_headers(out):
    head = out.decode('utf-8', 'replace').split('\r\n\r\n')[0]
    return {k.strip().lower(): v.strip() for k, _, v in
            (line.partition(':') for line in head.split('\r\n')[1:])}


def test_no_hsts_unless_asked(server):
    p = server.tls_curl('-D', '-', '-o', '/dev/null', 'URL/')
    h = response_headers(p.stdout)
    assert 'strict-transport-security' not in h, h
    assert h.get('x-content-type-options') == 'nosniff', h


def test_hsts_when_asked():
    h = Https(app_args=['--hsts', '31536000'])
    try:
        p = h.tls_curl('-D', '-', '-o', '/dev/null', 'URL/')
        got = response_headers(p.stdout)
        assert got.get('strict-transport-security') == 'max-age=31536000', got
        assert got.get('x-content-type-options') == 'nosniff', got
        # Never over plain HTTP (RFC 6797 7.2), on errors too over HTTPS.
        status, plain, _ = h.request('GET', '/')
        assert status == 200 and 'strict-transport-security' not in plain, plain
        p = h.tls_curl('-D', '-', '-o', '/dev/null', 'URL/no-such-file')
        got = response_headers(p.stdout)
        assert got.get('strict-transport-security') == 'max-age=31536000', got
    finally:
        h.stop()


def test_hsts_refused_without_tls():
    p = limpet('run', 'httpd', '--no-build', '--timeout', '60', '--port', '%d:80' % free_port(),
               '--', '--hsts', '60', timeout=120)
    out = p.stdout + p.stderr
    assert p.returncode != 0 and '--hsts is for HTTPS, which this image has not' in out, out


def test_gzip_over_https_only_when_asked(server):
    """No compressed variant over HTTPS by default (BREACH: what testssl
    flags); plain HTTP keeps it, and --https-gzip gives it back."""
    p = server.tls_curl('-D', '-', '-H', 'Accept-Encoding: gzip', '-o', '/dev/null',
                        'URL/docs/guide.txt')
    h = response_headers(p.stdout)
    assert 'content-encoding' not in h and 'vary' not in h, h
    status, h, _ = server.request('GET', '/docs/guide.txt', {'Accept-Encoding': 'gzip'})
    assert status == 200 and h.get('content-encoding') == 'gzip', h
    g = Https(app_args=['--https-gzip'])
    try:
        p = g.tls_curl('--compressed', '-D', '-', 'URL/docs/guide.txt')
        h = response_headers(p.stdout)
        assert h.get('content-encoding') == 'gzip', h
        assert p.stdout.endswith((WWW / 'docs' / 'guide.txt').read_bytes()), p.stdout[-200:]
    finally:
        g.stop()


# Findings testssl may report that come from the self-signed development
# certificate (no chain of trust, no CRL or OCSP URI in it) or from testing
# an address rather than a name (no DNS CAA record), not from the server;
# and its own OpenSSL's missing engine support.
TESTSSL_ALLOWED = {'cert_chain_of_trust', 'cert_revocation', 'DNS_CAArecord', 'engine_problem'}


def test_testssl_grade(tmp_path):
    """An outside grade: testssl (testssl.sh) against httpd with --hsts.
    TLS 1.3 offered, ALPN http/1.1, HSTS, and nothing of severity LOW or
    above but what the development certificate causes."""
    need_tool('testssl', 'testssl.sh')
    h = Https(app_args=['--hsts', '31536000'])
    report = tmp_path / 'testssl.json'
    try:
        p = subprocess.run(['testssl', '--quiet', '--color', '0', '--warnings', 'off',
                            '--jsonfile', str(report), 'https://127.0.0.1:%d/' % h.tls_port],
                           capture_output=True, text=True, timeout=900)
        assert report.exists(), p.stdout[-3000:] + p.stderr[-2000:]
        findings = json.loads(report.read_text())
        by_id = {f['id']: f for f in findings}
        summary = '\n'.join('%s %s %s' % (f['severity'], f['id'], f['finding'])
                            for f in findings if f['severity'] not in ('OK', 'INFO', 'DEBUG'))
        print('\ntestssl findings above INFO:\n' + summary)
        assert by_id['TLS1_3']['finding'].startswith('offered'), by_id['TLS1_3']
        assert by_id['TLS1_2']['finding'].startswith('offered'), by_id['TLS1_2']
        for old in ('SSLv2', 'SSLv3', 'TLS1', 'TLS1_1'):
            assert by_id[old]['finding'].startswith('not offered'), by_id[old]
        assert 'http/1.1' in by_id['ALPN']['finding'], by_id['ALPN']
        assert by_id['HSTS_time']['severity'] == 'OK', by_id['HSTS_time']
        bad = [f for f in findings if f['severity'] in ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')
               and f['id'] not in TESTSSL_ALLOWED]
        assert not bad, summary
        h.ok()
    finally:
        h.stop()
