"""mbedTLS in the guest (tests/guest/test_tls): the self-tests of the
modules the configuration enables, entropy, DRBG output that differs from
boot to boot, ECDHE over X25519 and P-256 through net/tls/ecdh_alt.c, our
X25519 against mbedTLS's generic ladder, our P-256 k G and ECDSA
signatures against mbedTLS's comb, verification and arithmetic, our P-256
ECDH shared secrets (d Q) and public-key checks against mbedTLS's, the
wall clock, and the boot stopping when the CPU has no entropy source.
HTTPS itself is tested with httpd."""

import re

import pytest

from conftest import boot, describe, qemu

# A NIC on user networking: TLS lives in lwIP, which runs only with one.
NIC = {p: ['-netdev', 'user,id=n0'] + qemu.nic(p) for p in ('pc', 'microvm')}
TLS_SETUP_STATUS = 3  # LIMPET_TLS_SETUP_STATUS in net/include/limpet/tls.h


def boot_tls(platform='pc', **kw):
    return boot('test_tls', platform=platform, qemu_args=NIC[platform], timeout=120, **kw)


def random_value(r):
    m = re.search(r'^test_tls: random ([0-9a-f]{32})$', r.output, re.M)
    assert m, describe(r)
    return m.group(1)


@pytest.mark.parametrize('platform', ['pc', 'microvm'])
def test_tls_self_tests(platform):
    r = boot_tls(platform)
    assert r.status == 0, describe(r)
    assert 'test_tls: OK' in r.output and 'FAILED' not in r.output, describe(r)
    for name in ('aes', 'gcm', 'chachapoly', 'sha256', 'sha512', 'ecp', 'ctr_drbg', 'entropy'):
        assert 'test_tls: self-test %s passed' % name in r.output, describe(r)
    assert re.search(r'test_tls: entropy source RD(SEED|RAND)', r.output), describe(r)
    assert 'ECDHE X25519 agreed' in r.output and 'ECDHE P-256 agreed' in r.output, describe(r)
    # The same through the ECDH contexts TLS uses, and our X25519
    # (net/tls/x25519.c) against mbedTLS's generic Curve25519 ladder.
    for group in ('X25519', 'P-256'):
        assert 'ECDHE %s contexts agreed on a 32-byte secret' % group in r.output, describe(r)
    m = re.search(r"^test_tls: X25519 agreed with mbedTLS's ladder on (\d+) of (\d+) ", r.output, re.M)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) >= 32, describe(r)
    assert 'X25519 refused the small-order points u = 0 and u = 1' in r.output, describe(r)
    # Our P-256 (net/tls/p256.c, signing through net/tls/ecdsa_alt.c)
    # against mbedTLS's comb, verification and bignum arithmetic.
    for what in ('edge scalars', 'random scalars'):
        m = re.search(r"^test_tls: P-256 k G agreed with mbedtls_ecp_mul\(\) on (\d+) of (\d+) %s$"
                      % what, r.output, re.M)
        assert m and m.group(1) == m.group(2) and int(m.group(2)) >= 7, describe(r)
    m = re.search(r"^test_tls: P-256 signatures verified by mbedtls_ecdsa_verify\(\) (\d+) of (\d+), "
                  r"changed hashes refused (\d+) of (\d+)$", r.output, re.M)
    assert m and len(set(m.groups())) == 1 and int(m.group(1)) >= 32, describe(r)
    m = re.search(r"^test_tls: P-256 signatures with a fixed k agreed with mbedTLS's arithmetic "
                  r"on (\d+) of (\d+)$", r.output, re.M)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) >= 32, describe(r)
    m = re.search(r"^test_tls: P-256 ECDHE key pairs equal mbedtls_ecp_mul\(\)'s on (\d+) of (\d+)$",
                  r.output, re.M)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) >= 8, describe(r)
    assert re.search(r'^test_tls: P-256 DER signature of \d+ bytes read back and verified$',
                     r.output, re.M), describe(r)
    # Deterministic ECDSA (RFC 6979): k from the key and the hash, never
    # from the random generator (the one given fails every draw).
    m = re.search(r"^test_tls: P-256 RFC 6979 signatures with a failing RNG: (\d+) of (\d+) "
                  r"equal RFC 6979 A.2.5's$", r.output, re.M)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) == 8, describe(r)
    assert 'P-256 ECDSA refused bad keys, curves and generators' in r.output, describe(r)
    # Our P-256 d Q (net/tls/p256.c, the ECDH secret through
    # net/tls/ecdh_alt.c) against mbedtls_ecp_mul(), and its checks of the
    # peer's point.
    for what, least in (('random scalars and points', 32), ('edge scalars', 7)):
        m = re.search(r"^test_tls: P-256 d Q agreed with mbedtls_ecp_mul\(\) on (\d+) of (\d+) %s$"
                      % what, r.output, re.M)
        assert m and m.group(1) == m.group(2) and int(m.group(2)) >= least, describe(r)
    m = re.search(r"^test_tls: P-256 mbedtls_ecdh_compute_shared\(\) agreed with mbedtls_ecp_mul\(\) "
                  r"on (\d+) of (\d+)$", r.output, re.M)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) >= 39, describe(r)
    m = re.search(r"^test_tls: P-256 ECDH both ways agreed with each other and mbedtls_ecp_mul\(\) "
                  r"on (\d+) of (\d+)$", r.output, re.M)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) >= 8, describe(r)
    m = re.search(r"^test_tls: P-256 ECDH refused (\d+) of (\d+) bad points and keys$", r.output, re.M)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) >= 15, describe(r)
    assert 'P-256 limpet_p256_point_ok() accepted 8 of 8 valid points' in r.output, describe(r)
    # The speed, for the record (-s shows it): guest time, TCG or KVM.
    for pattern in (r'^test_tls: (\d+ X25519 calls in .*)$', r'^test_tls: (\d+ P-256 signatures in .*)$',
                    r'^test_tls: (\d+ P-256 ECDH secrets in .*)$'):
        m = re.search(pattern, r.output, re.M)
        assert m, describe(r)
        print('%s: %s' % (platform, m.group(1)))
    # Only TLS 1.3's three suites and TLS 1.2's AEAD, ECDHE ones are
    # compiled in.
    suites = re.findall(r'^test_tls: suite (\S+)$', r.output, re.M)
    assert sorted(s for s in suites if s.startswith('TLS1-3-')) == [
        'TLS1-3-AES-128-GCM-SHA256', 'TLS1-3-AES-256-GCM-SHA384',
        'TLS1-3-CHACHA20-POLY1305-SHA256'], suites
    assert len(suites) == 9 and all(
        re.match(r'TLS-ECDHE-(ECDSA|RSA)-WITH-(AES-(128|256)-GCM-SHA(256|384)|'
                 r'CHACHA20-POLY1305-SHA256)$', s) for s in suites if not s.startswith('TLS1-3-')), suites
    # TLS 1.3's key pairs (PSA crypto): public keys by our code, equal to
    # mbedTLS's own.
    for curve in ('X25519', 'P-256'):
        m = re.search(r"^test_tls: PSA %s key pairs: (\d+) of (\d+) public keys by our code, "
                      r"(\d+) of (\d+) equal to mbedTLS's m G$" % curve, r.output, re.M)
        assert m and m.group(1) == m.group(2) == m.group(3) == m.group(4) and \
            int(m.group(2)) >= 16, describe(r)
    # The server's configuration offers TLS 1.2 and 1.3, and nothing else.
    assert 'test_tls: protocols TLS 1.2 to TLS 1.3' in r.output, describe(r)


def test_tls_random_differs_between_boots():
    first, second = boot_tls(), boot_tls()
    assert first.status == 0 and second.status == 0, describe(first) + describe(second)
    assert random_value(first) != random_value(second)


@pytest.mark.parametrize('fault,why', [
    ('stuck', 'failed its health test: a value twice among the start-up samples'),
    ('ones', 'failed its health test: a sample of all ones'),
    ('fail', 'kept failing (10 tries): generator broken or exhausted'),
])
def test_tls_refuses_a_failing_entropy_source(fault, why):
    """A source that is there but broken (entropy_fault=, debug builds):
    stuck on one value, all ones (AMD's Zen 2 RDRAND after a resume), or
    never ready.  The health tests catch it and TLS does not start."""
    r = boot_tls(kernel_args='entropy_fault=' + fault)
    assert r.status == TLS_SETUP_STATUS, describe(r)
    assert why in r.output, describe(r)
    assert 'refusing to serve TLS' in r.output, describe(r)
    assert 'test_tls: OK' not in r.output, describe(r)


def test_tls_refuses_to_run_without_entropy():
    r = boot_tls(cpu='qemu64,-rdrand,-rdseed')
    assert r.status == TLS_SETUP_STATUS, describe(r)
    assert 'no hardware entropy source' in r.output, describe(r)
    assert 'test_tls: OK' not in r.output, describe(r)
