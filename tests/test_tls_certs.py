"""Certificates as users have them (net/tls/tls.c): chains of a leaf and
two intermediates, ECDSA and RSA-2048; several certificates chosen by the
name the client asks for (SNI), wildcards included; certificates given at
boot through QEMU's fw_cfg (./limpet run --tls-cert --tls-key) instead of
the image's; and every way a given pair can be wrong, refused at boot
with a clear message and status 3, never a key printed.

The PKI is made here with openssl: a root per key type (never sent: the
client has it), two intermediates, and leaves for ecdsa.test, rsa.test and
*.wild.test.  httpd is booted with user networking (127.0.0.1 only).
"""

import re
import socket
import ssl
import subprocess
import sys

import pytest

from conftest import TOP, limpet as run_limpet
from test_https import GET, IMAGE, Https
from test_httpd import Httpd, free_port

sys.path.insert(0, str(TOP / 'site_scons'))
import limpet_tls  # noqa: E402  (the build's embedding, checked below)


def openssl(*args, cwd):
    p = subprocess.run(['openssl'] + list(args), cwd=cwd, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, ' '.join(args) + '\n' + p.stderr
    return p.stdout


def make_key(kind, path, cwd):
    if kind == 'ec':
        openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
                '-out', path, cwd=cwd)
    else:
        bits = kind.split(':')[1] if ':' in kind else '2048'
        openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:%s' % bits,
                '-out', path, cwd=cwd)


def make_chain(d, tag, kind, leaf_names, intermediates=2):
    """root -> intermediate 1 -> ... -> leaf for leaf_names; returns
    (root.pem, chain.pem: leaf then intermediates, leaf key)."""
    ca_ext = d / ('%s-ca.ext' % tag)
    ca_ext.write_text('basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n'
                      'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n')
    leaf_ext = d / ('%s-leaf.ext' % tag)
    leaf_ext.write_text('basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature%s\n'
                        'extendedKeyUsage=serverAuth\nsubjectAltName=%s\n'
                        % (',keyEncipherment' if kind != 'ec' else '',
                           ','.join('DNS:' + n for n in leaf_names)))
    make_key(kind, '%s-root.key' % tag, d)
    openssl('req', '-x509', '-new', '-key', '%s-root.key' % tag, '-subj',
            '/CN=Limpet test %s root' % tag, '-days', '30', '-out', '%s-root.pem' % tag,
            '-addext', 'basicConstraints=critical,CA:TRUE',
            '-addext', 'keyUsage=critical,keyCertSign,cRLSign', cwd=d)
    issuer = '%s-root' % tag
    chain = []
    for i in range(1, intermediates + 1):
        name = '%s-int%d' % (tag, i)
        make_key(kind, name + '.key', d)
        openssl('req', '-new', '-key', name + '.key', '-subj',
                '/CN=Limpet test %s intermediate %d' % (tag, i), '-out', name + '.csr', cwd=d)
        openssl('x509', '-req', '-in', name + '.csr', '-CA', issuer + '.pem', '-CAkey',
                issuer + '.key', '-CAcreateserial', '-days', '30', '-extfile', ca_ext.name,
                '-out', name + '.pem', cwd=d)
        chain.insert(0, name + '.pem')
        issuer = name
    leaf = '%s-leaf' % tag
    make_key(kind, leaf + '.key', d)
    openssl('req', '-new', '-key', leaf + '.key', '-subj', '/CN=%s' % leaf_names[0],
            '-out', leaf + '.csr', cwd=d)
    openssl('x509', '-req', '-in', leaf + '.csr', '-CA', issuer + '.pem', '-CAkey',
            issuer + '.key', '-CAcreateserial', '-days', '30', '-extfile', leaf_ext.name,
            '-out', leaf + '.pem', cwd=d)
    full = d / ('%s-chain.pem' % tag)
    full.write_text(''.join((d / f).read_text() for f in [leaf + '.pem'] + chain))
    return d / ('%s-root.pem' % tag), full, d / (leaf + '.key')


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp('pki')
    return {
        'ecdsa': make_chain(d, 'ecdsa', 'ec', ['ecdsa.test', 'www.ecdsa.test']),
        'rsa': make_chain(d, 'rsa', 'rsa:2048', ['rsa.test']),
        'wild': make_chain(d, 'wild', 'ec', ['*.wild.test'], intermediates=1),
        'dir': d,
    }


@pytest.fixture(scope='module')
def server(pki):
    args = []
    for tag in ('ecdsa', 'rsa', 'wild'):
        _, chain, key = pki[tag]
        args += ['--tls-cert', str(chain), '--tls-key', str(key)]
    h = Https(run_args=args)
    yield h
    h.stop()


def s_client(server, root, *args, data=GET):
    p = subprocess.run(['openssl', 's_client', '-connect', '127.0.0.1:%d' % server.tls_port,
                        '-CAfile', str(root), '-verify_return_error', '-showcerts', '-ign_eof']
                       + list(args), input=data, capture_output=True, timeout=30)
    return p.stdout.decode('utf-8', 'replace') + p.stderr.decode('utf-8', 'replace')


def leaf_subject(out):
    m = re.search(r'^subject=(.*)$', out, re.M)
    return m.group(1).strip() if m else None


def chain_sent(out):
    return len(re.findall(r'-----BEGIN CERTIFICATE-----', out))


def test_boot_says_which_certificates(server):
    out = server.output
    assert 'serving 3 certificates given at boot, not the image\'s' in out, server.describe()
    assert re.search(r'certificate 1 \(opt/limpet/tls/cert\): CN=ecdsa\.test, for ecdsa\.test, '
                     r'www\.ecdsa\.test; EC key of 256 bits; 3 in its chain', out), server.describe()
    assert re.search(r'certificate 2 \(opt/limpet/tls/cert\.1\): CN=rsa\.test, for rsa\.test; '
                     r'RSA key of 2048 bits; 3 in its chain', out), server.describe()
    assert re.search(r'certificate 3 \(opt/limpet/tls/cert\.2\): CN=\*\.wild\.test', out), \
        server.describe()
    # Not the development certificate, and no key material anywhere.
    assert 'DEVELOPMENT certificate' not in out, server.describe()
    assert 'PRIVATE KEY' not in out, server.describe()


@pytest.mark.parametrize('flag', ['-tls1_3', '-tls1_2'])
@pytest.mark.parametrize('name,tag,cn', [
    ('ecdsa.test', 'ecdsa', 'ecdsa.test'),
    ('WWW.ECDSA.TEST', 'ecdsa', 'ecdsa.test'),
    ('rsa.test', 'rsa', 'rsa.test'),
    ('a.wild.test', 'wild', '*.wild.test'),
])
def test_sni_chooses_the_certificate(server, pki, flag, name, tag, cn):
    out = s_client(server, pki[tag][0], flag, '-servername', name)
    assert 'Verify return code: 0 (ok)' in out, out
    assert leaf_subject(out) == 'CN = %s' % cn, out
    # The leaf and its intermediates, not the root.
    assert chain_sent(out) == (2 if tag == 'wild' else 3), out
    assert 'HTTP/1.1 200 OK' in out, out


@pytest.mark.parametrize('args', [(), ('-servername', 'unknown.test'),
                                  ('-servername', 'wild.test'),
                                  ('-servername', 'a.b.wild.test')])
def test_no_or_unknown_name_gets_the_first(server, pki, args):
    out = s_client(server, pki['ecdsa'][0], *args)
    assert 'Verify return code: 0 (ok)' in out and leaf_subject(out) == 'CN = ecdsa.test', out


def test_rsa_certificate_for_a_client_without_ecdsa(server, pki):
    # A TLS 1.2 client that takes RSA signatures only is served the RSA
    # certificate even without asking for its name.
    out = s_client(server, pki['rsa'][0], '-tls1_2', '-sigalgs', 'RSA+SHA256:RSA-PSS+SHA256')
    assert 'Verify return code: 0 (ok)' in out and leaf_subject(out) == 'CN = rsa.test', out


def test_real_clients_verify_name_and_chain(server, pki):
    # curl checks the whole chain and the name, as a browser does.
    for name, tag in (('ecdsa.test', 'ecdsa'), ('rsa.test', 'rsa'), ('x.wild.test', 'wild')):
        p = subprocess.run(['curl', '-sS', '--max-time', '20', '--cacert', str(pki[tag][0]),
                            '--resolve', '%s:%d:127.0.0.1' % (name, server.tls_port),
                            'https://%s:%d/' % (name, server.tls_port)],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, (name, p.stderr.decode())
    # Python's ssl, TLS 1.3 and 1.2, with its hostname check.
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        ctx = ssl.create_default_context(cafile=str(pki['rsa'][0]))
        ctx.maximum_version = version
        with socket.create_connection(('127.0.0.1', server.tls_port), timeout=20) as raw:
            with ctx.wrap_socket(raw, server_hostname='rsa.test') as s:
                assert s.getpeercert()['subject'] == ((('commonName', 'rsa.test'),),)
    # gnutls-cli, a second TLS stack, with its own name check.
    p = subprocess.run(['gnutls-cli', '--x509cafile', str(pki['ecdsa'][0]), '-p',
                        str(server.tls_port), '--sni-hostname', 'ecdsa.test',
                        '--verify-hostname', 'ecdsa.test', '127.0.0.1'],
                       input=GET, capture_output=True, timeout=30)
    out = p.stdout.decode('utf-8', 'replace')
    assert 'Handshake was completed' in out and 'HTTP/1.1 200 OK' in out, \
        out + p.stderr.decode('utf-8', 'replace')
    Httpd.ok(server)      # plain HTTP too (HTTPS here needs this PKI's roots)


# ---- what must be refused at boot ----------------------------------------

def refused(run_args, why):
    """httpd booted with run_args stops with status 3 and says why."""
    p = run_limpet('run', 'httpd', '--tls', '--no-build', '--timeout', '120',
                   '--port', '%d:443' % free_port(), *run_args, timeout=180)
    out = p.stdout + p.stderr
    assert p.returncode == 3, out
    assert why in out, out
    assert 'PRIVATE KEY' not in out and 'BEGIN' not in out, out
    return out


def test_key_without_its_certificate_refused(pki):
    _, chain, key = pki['ecdsa']
    refused(['--tls-cert', str(chain), '--tls-key', str(pki['rsa'][2])],
            "the private key is not the certificate's")


def test_certificate_that_does_not_parse_refused(pki, tmp_path):
    bad = tmp_path / 'bad.pem'
    text = pki['ecdsa'][1].read_text()
    # A PEM block whose base64 was damaged.
    bad.write_text(text.replace(text.splitlines()[3], 'A' * 64, 1))
    refused(['--tls-cert', str(bad), '--tls-key', str(pki['ecdsa'][2])],
            'the certificate (chain) does not parse')


def test_binary_file_refused(pki, tmp_path):
    der = tmp_path / 'cert.der'
    openssl('x509', '-in', str(pki['ecdsa'][1]), '-outform', 'DER', '-out', str(der),
            cwd=tmp_path)
    refused(['--tls-cert', str(der), '--tls-key', str(pki['ecdsa'][2])],
            'it is not text (PEM)')


def test_chain_too_long_for_a_record_refused(tmp_path):
    _, chain, key = make_chain(tmp_path, 'long', 'rsa:4096', ['long.test'], intermediates=4)
    refused(['--tls-cert', str(chain), '--tls-key', str(key)],
            'more than a record holds here')


def test_run_checks_pairs():
    p = run_limpet('run', 'httpd', '--tls', '--no-build', '--tls-cert', '/nonexistent')
    assert p.returncode == 2 and 'go in pairs' in p.stderr, p.stderr
    p = run_limpet('run', 'httpd', '--tls', '--no-build', '--tls-cert', '/nonexistent',
                   '--tls-key', '/nonexistent')
    assert p.returncode == 2 and 'cannot read /nonexistent' in p.stderr, p.stderr


# ---- several pairs built into the image -----------------------------------

def test_build_embeds_several_pairs(pki, tmp_path):
    """The build's embedding (site_scons/limpet_tls.py) of tls_cert=a,b
    tls_key=ka,kb: both pairs, the first the default; compiled by gcc."""
    class Node(str):
        pass
    srcs = [Node(pki['ecdsa'][1]), Node(pki['ecdsa'][2]), Node(pki['rsa'][1]),
            Node(pki['rsa'][2])]
    out = tmp_path / 'certs.c'
    assert limpet_tls.embed_action([Node(out)], srcs, {'TLS_DEV_CERT': False}) == 0
    c = out.read_text()
    assert 'const int limpet_tls_npairs = 2;' in c, c
    assert 'limpet_tls_cert_pems[] = { cert0, cert1 }' in c, c
    assert 'const int limpet_tls_dev_cert = 0;' in c, c
    p = subprocess.run(['gcc', '-c', '-Wall', '-Werror', '-o', str(tmp_path / 'certs.o'),
                        str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_build_refuses_unpaired_lists(pki):
    p = subprocess.run(['scons', '-Q', 'service=httpd', 'tls=1',
                        'tls_cert=%s,%s' % (pki['ecdsa'][1], pki['rsa'][1]),
                        'tls_key=%s' % pki['ecdsa'][2]],
                       cwd=TOP, capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, p.stdout + p.stderr
    assert 'as many keys as certificates (2 and 1 given)' in p.stdout + p.stderr, p.stdout
    assert IMAGE.exists()


def test_microvm_takes_certificates_at_boot(pki):
    # microvm has the same fw_cfg device (I/O ports 0x510-0x511).
    _, chain, key = pki['rsa']
    h = Https(run_args=['--platform', 'microvm', '--tls-cert', str(chain), '--tls-key', str(key)])
    try:
        out = s_client(h, pki['rsa'][0], '-servername', 'rsa.test')
        assert 'Verify return code: 0 (ok)' in out and leaf_subject(out) == 'CN = rsa.test', out
    finally:
        h.stop()
