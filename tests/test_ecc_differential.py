"""Our elliptic-curve code, X25519 (net/tls/x25519.c) and P-256
(net/tls/p256.c), compared with OpenSSL and with NIST's test vectors.

tests/diff/ecc_diff.c runs our functions on commands read from a pipe; it
is built with -O2 and again with AddressSanitizer and UBSan, and every
check runs on both builds.  Against OpenSSL, through Python's cryptography
(Debian's python3-cryptography), with a fixed seed so that a failure
reproduces:
- X25519: shared secrets for random scalars and u-coordinates (random
  bytes and real public keys), public keys for random scalars; u with its
  top bit set, u of p or more, the points of small order (our error where
  OpenSSL refuses the all-zero result); RFC 7748 5.2's vectors and its
  1,000 iterations;
- P-256 k G for random k and for scalars at the edges (1, 2, n - 1,
  n - 2, (n +- 1) / 2, powers of two, ...), and the range check for 0,
  n and more; k Q, both coordinates, as (k a) G for Q = a G;
- P-256 ECDH shared secrets for random private keys and peer points;
- ECDSA: every signature of ours verifies under OpenSSL and is exactly
  r = x(k G) mod n, s = k^-1 (z + r d) mod n; a changed hash fails; hashes
  of n or more; d or k out of range, and an s of 0, give our errors;
- public-key checks: points off the curve, coordinates of p or more,
  (0, 0) are refused by p256_point_ok, p256_ecdh and p256_mul exactly when
  OpenSSL refuses them, and valid points accepted.
Against NIST CAVP vectors (Debian's python3-cryptography-vectors): the
P-256 KAS ECC validity tests (shared secrets Z, and the failures they
expect), FIPS 186-2 and 186-3 SigGen (our r and s from their d, hash and
k), KeyPair (d to Q) and PKV (public-key validity).  Counts are asserted,
so a parse that finds nothing fails.  A build that spoils one answer
(ecc_diff --flip) must fail every check.  Host-only: no guest is booted.
"""
import hashlib
import os
import random
import re
import shutil
import subprocess
import threading

import pytest

from conftest import TOP

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, x25519
    from cryptography.hazmat.primitives.asymmetric.utils import (
        Prehashed, encode_dss_signature)
except ImportError:
    ec = None
try:
    import cryptography_vectors
except ImportError:
    cryptography_vectors = None

HARNESS = TOP / 'tests' / 'diff' / 'ecc_diff.c'
SOURCES = [TOP / 'net' / 'tls' / f for f in ('p256.c', 'x25519.c', 'ct.c')]
FIAT = TOP / 'deps' / 'fiat'
BUILDS = {
    'O2': ['-O2'],
    'asan': ['-O1', '-g', '-fno-omit-frame-pointer',
             '-fsanitize=address,undefined', '-fno-sanitize-recover=all'],
}

# P-256's field prime, group order and b (FIPS 186-4 D.1.2.3).
P = 2**256 - 2**224 + 2**192 + 2**96 - 1
N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b
# Curve25519's field prime (RFC 7748, 4.1).
P25519 = 2**255 - 19
# The u-coordinates of Curve25519's points of small order, canonical and
# not (p and p + 1 are 0 and 1): X25519 of any of them is all zeros.
SMALL_ORDER = (
    0, 1,
    325606250916557431795983626356110631294008115727848805560023387167927233504,
    39382357235489614581723060781553021112529911719440698176882885853963445705823,
    P25519 - 1, P25519, P25519 + 1,
)
# RFC 7748 5.2: k = u = 9, then k, u = X25519(k, u), k, 1,000 times.
RFC7748_AFTER_1000 = '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51'

# Seconds a batch of commands may take, at most (a few take a second).
BATCH_TIMEOUT = 120

# How many random cases each check runs; the self-check runs a few.
COUNTS = {'x25519': 3000, 'x25519_base': 1000, 'p256_base': 1000, 'p256_mul': 500,
          'p256_ecdh': 3000, 'p256_sign': 2000, 'p256_points': 1000, 'x25519_edges': 8}


def need_packages():
    if ec is None:
        pytest.fail('python3-cryptography is missing (Python\'s cryptography, on '
                    'OpenSSL): apt-get install python3-cryptography')
    if cryptography_vectors is None:
        pytest.fail('python3-cryptography-vectors is missing (NIST CAVP vectors): '
                    'apt-get install python3-cryptography-vectors')


@pytest.fixture(scope='module')
def builds(tmp_path_factory):
    """ecc_diff built with each of BUILDS' flags: {name: executable}."""
    need_packages()
    if shutil.which('gcc') is None:
        pytest.fail('gcc is missing: ./limpet setup installs it')
    if not (FIAT / 'p256_64.h').exists():
        pytest.fail('deps/fiat is missing: ./limpet setup fetches it')
    out = tmp_path_factory.mktemp('ecc_diff')
    exes = {}
    for name, flags in BUILDS.items():
        exe = out / ('ecc_diff-' + name)
        cmd = ['gcc', '-std=c11', '-Wall', '-Wextra', '-Werror'] + flags + \
            ['-I', str(TOP / 'net' / 'tls'), '-I', str(FIAT), '-o', str(exe),
             str(HARNESS)] + [str(s) for s in SOURCES]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, ' '.join(cmd) + '\n' + r.stderr
        exes[name] = exe
    return exes


class EccDiff:
    """One ecc_diff process: batches of commands in, one answer each out."""

    def __init__(self, exe, tmp_path, *args):
        self.exe = exe
        self.stderr_path = tmp_path / ('%s.stderr' % exe.name)
        self.stderr = open(self.stderr_path, 'w')
        self.proc = subprocess.Popen([str(exe)] + list(args), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True)

    def run(self, cmds):
        """Answers to cmds, in order.  A thread writes while this one
        reads, so neither pipe fills up and stops the other."""
        def write():
            try:
                self.proc.stdin.write(''.join(c + '\n' for c in cmds))
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
        writer = threading.Thread(target=write)
        writer.start()
        # A hung process is killed, which ends the reads below.
        watchdog = threading.Timer(BATCH_TIMEOUT, self.proc.kill)
        watchdog.start()
        answers = []
        for _ in cmds:
            line = self.proc.stdout.readline()
            if not line.endswith('\n'):
                break
            answers.append(line[:-1])
        watchdog.cancel()
        writer.join()
        if len(answers) < len(cmds):
            self.proc.wait(timeout=10)
            pytest.fail('%s stopped (status %s) after %d of %d commands, at:\n%s\n%s' % (
                self.exe.name, self.proc.returncode, len(answers), len(cmds),
                cmds[len(answers)], self.stderr_path.read_text()[-6000:]))
        return answers

    def one(self, cmd):
        return self.run([cmd])[0]

    def close(self):
        """Ends the process; it must exit 0 with nothing on stderr (where
        the sanitizers report)."""
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=60)
        self.stderr.close()
        err = self.stderr_path.read_text()
        assert rc == 0 and err == '', '%s exited %d:\n%s' % (self.exe.name, rc, err[-6000:])


@pytest.fixture(params=sorted(BUILDS))
def ecc(request, builds, tmp_path):
    proc = EccDiff(builds[request.param], tmp_path)
    yield proc
    proc.close()


def expect(ecc, cmds, wants, what):
    """Our answers to cmds must be wants; names the first differences,
    each with a command line that reproduces it."""
    assert len(cmds) == len(wants)
    got = ecc.run(cmds)
    bad = [(c, g, w) for c, g, w in zip(cmds, got, wants) if g != w]
    assert not bad, '%s: %d of %d differ; first:\n%s' % (
        what, len(bad), len(cmds), '\n'.join(
            "echo '%s' | %s\n  ours:     %s\n  expected: %s" % (c, ecc.exe, g, w)
            for c, g, w in bad[:5]))
    return got


# Encodings: P-256 integers big-endian, X25519 values little-endian.

def be(v):
    return '%064x' % v


def le(v):
    return v.to_bytes(32, 'little').hex()


def openssl_x25519(scalar, u):
    """X25519 by OpenSSL (bytes in, hex out), or our error's answer
    where OpenSSL refuses an all-zero result."""
    k = x25519.X25519PrivateKey.from_private_bytes(scalar)
    try:
        return k.exchange(x25519.X25519PublicKey.from_public_bytes(u)).hex()
    except ValueError:
        return 'err EINVAL'


def openssl_x25519_public(scalar):
    k = x25519.X25519PrivateKey.from_private_bytes(scalar)
    return k.public_key().public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw)


def openssl_base(k):
    """k G by OpenSSL: (x, y)."""
    pub = ec.derive_private_key(k, ec.SECP256R1()).public_key().public_numbers()
    return pub.x, pub.y


def openssl_public_key(x, y):
    """OpenSSL's public key for (x, y), or None if it refuses the point."""
    try:
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError:
        return None


def openssl_ecdh(d, x, y):
    key = ec.derive_private_key(d, ec.SECP256R1())
    return key.exchange(ec.ECDH(), openssl_public_key(x, y)).hex()


def on_curve(x, y):
    return x < P and y < P and (y * y - (x * x * x - 3 * x + B)) % P == 0


def lift_x(x):
    """A point (x, y) of P-256, or None if x has none (p = 3 mod 4, so a
    square root is a power)."""
    rhs = (x * x * x - 3 * x + B) % P
    y = pow(rhs, (P + 1) // 4, P)
    return (x, y) if y * y % P == rhs else None


def poly_trim(a):
    a = [c % P for c in a]
    while a and a[-1] == 0:
        a.pop()
    return a


def poly_rem(a, b):
    """a mod b, polynomials over GF(p) as coefficient lists, lowest first."""
    a, b = poly_trim(a), poly_trim(b)
    inv = pow(b[-1], -1, P)
    while len(a) >= len(b):
        c, shift = a[-1] * inv, len(a) - len(b)
        for j, bj in enumerate(b):
            a[shift + j] -= c * bj
        a = poly_trim(a)
    return a


def poly_mulmod(a, b, f):
    prod = [0] * (len(a) + len(b))
    for i, ai in enumerate(a):
        for j, bj in enumerate(b):
            prod[i + j] += ai * bj
    return poly_rem(prod, f)


def lift_y(y):
    """A point (x, y) of P-256 with this y, or None.  x is a root of
    f = x^3 - 3x + b - y^2, and gcd(x^p - x, f) is the product of f's
    factors x - root; taken only when there is exactly one."""
    f = [(B - y * y) % P, P - 3, 0, 1]
    xp, power, e = [1], [0, 1], P
    while e:
        if e & 1:
            xp = poly_mulmod(xp, power, f)
        power = poly_mulmod(power, power, f)
        e >>= 1
    g, h = f, poly_trim([c - (i == 1) for i, c in enumerate(xp + [0, 0])])
    while h:
        g, h = h, poly_rem(g, h)
    return (-g[0] * pow(g[1], -1, P) % P, y) if len(g) == 2 else None


def random_scalar(rng):
    return rng.randrange(1, N)


# The checks: each takes an EccDiff and a seeded Random and asserts.

def check_x25519(ecc, rng, n):
    """Random scalars with random u (any 32 bytes: points of the curve or
    its twist, top bit set or not) and with real public keys."""
    cmds, wants = [], []
    for i in range(n):
        scalar = rng.randbytes(32)
        if i % 2:
            u = rng.randbytes(32)
        else:
            u = openssl_x25519_public(rng.randbytes(32))
        cmds.append('x25519 %s %s' % (scalar.hex(), u.hex()))
        wants.append(openssl_x25519(scalar, u))
    expect(ecc, cmds, wants, 'X25519 shared secrets against OpenSSL')


def check_x25519_base(ecc, rng, n):
    scalars = [bytes(32), b'\xff' * 32, bytes([9] + [0] * 31)] + \
        [rng.randbytes(32) for _ in range(n)]
    expect(ecc, ['x25519_base ' + s.hex() for s in scalars],
           [openssl_x25519_public(s).hex() for s in scalars],
           'X25519 public keys against OpenSSL')


def check_p256_base(ecc, rng, n):
    """k G for random k and for edge scalars; the range check."""
    edges = {1, 2, 3, 4, N - 1, N - 2, N - 3, (N - 1) // 2, (N + 1) // 2,
             (N - 3) // 2, (N + 3) // 2, 2**255 - 1, 2**255, 2**255 + 1,
             int('8' * 64, 16), int('7' * 64, 16), 2**256 - 2**224}
    edges |= {2**i for i in range(256)} | {2**i - 1 for i in range(2, 257)}
    edges |= {N - 2**i for i in range(256)}
    scalars = sorted(edges | {0, N, N + 1, P, 2**256 - 1}) + \
        [random_scalar(rng) for _ in range(n)] + \
        [N - rng.randrange(1, 2**64) for _ in range(n // 10)]
    valid = [0 < k < N for k in scalars]
    assert sum(valid) > n
    expect(ecc, ['p256_scalar_ok ' + be(k) for k in scalars],
           ['1' if v else '0' for v in valid], 'P-256 scalar range check')
    expect(ecc, ['p256_base ' + be(k) for k in scalars],
           ['%s %s' % tuple(map(be, openssl_base(k))) if v else 'err EINVAL'
            for k, v in zip(scalars, valid)],
           'P-256 k G against OpenSSL')


def check_p256_mul(ecc, rng, n):
    """k Q, x and y, for Q = a G: OpenSSL's (k a) G."""
    g = openssl_base(1)
    cases = [(k, 1) for k in (1, 2, N - 1, N - 2)] + \
        [(random_scalar(rng), random_scalar(rng)) for _ in range(n)]
    cmds, wants = [], []
    for k, a in cases:
        q = openssl_base(a) if a != 1 else g
        cmds.append('p256_mul %s %s %s' % (be(k), be(q[0]), be(q[1])))
        wants.append('%s %s' % tuple(map(be, openssl_base(k * a % N))))
    expect(ecc, cmds, wants, 'P-256 k Q against OpenSSL')


def check_p256_ecdh(ecc, rng, n):
    """Shared secrets for random d and peer points, edge d, Q = +-G."""
    g = openssl_base(1)
    edge_d = [1, 2, N - 1, N - 2, (N - 1) // 2, (N + 1) // 2]
    cases = [(d, q) for d in edge_d for q in (g, (g[0], P - g[1]))]
    for i in range(n):
        # One private key in 25 from the edges.
        d = edge_d[i // 25 % len(edge_d)] if i % 25 == 0 else random_scalar(rng)
        cases.append((d, openssl_base(random_scalar(rng))))
    cmds = ['p256_ecdh %s %s %s' % (be(d), be(q[0]), be(q[1])) for d, q in cases]
    wants = [openssl_ecdh(d, *q) for d, q in cases]
    expect(ecc, cmds, wants, 'P-256 ECDH against OpenSSL')


def openssl_verify(d, z, r, s):
    """Whether OpenSSL accepts (r, s) for the 32-byte hash z under d's
    public key."""
    pub = openssl_public_key(*openssl_base(d))
    try:
        pub.verify(encode_dss_signature(r, s), z.to_bytes(32, 'big'),
                   ec.ECDSA(Prehashed(hashes.SHA256())))
        return True
    except InvalidSignature:
        return False


def check_p256_sign(ecc, rng, n):
    """Our signatures: exact, verified by OpenSSL, refused with a changed
    hash; out-of-range d and k; s = 0."""
    hashes_z = [0, 1, N - 1, N, N + 1, 2**256 - 1]
    cases = [(d, z, k) for d in (1, N - 1) for k in (1, N - 1) for z in hashes_z[:3]]
    cases += [(random_scalar(rng), hashes_z[i % 6] if i % 40 == 0 else rng.getrandbits(256),
               random_scalar(rng)) for i in range(n)]
    cmds = ['p256_sign %s %s %s' % (be(d), be(z), be(k)) for d, z, k in cases]
    wants = []
    for d, z, k in cases:
        r = openssl_base(k)[0] % N
        s = pow(k, -1, N) * (z + r * d) % N
        wants.append('%s %s' % (be(r), be(s)))
    got = expect(ecc, cmds, wants, 'ECDSA signatures: r = x(k G) mod n, s = k^-1 (z + r d) mod n')
    bad = []
    for (d, z, k), answer in zip(cases, got):
        r, s = (int(v, 16) for v in answer.split())
        flipped = z ^ (1 << rng.randrange(256))
        if not openssl_verify(d, z, r, s) or openssl_verify(d, flipped, r, s):
            bad.append('d=%s z=%s k=%s' % (be(d), be(z), be(k)))
    assert not bad, 'ECDSA: %d signatures of ours OpenSSL does not verify, or verifies ' \
        'with a changed hash:\n%s' % (len(bad), '\n'.join(bad[:5]))

    # Out of range: d or k is 0, n or more.
    d, k, z = random_scalar(rng), random_scalar(rng), rng.getrandbits(256)
    out = [0, N, N + 1, P, 2**256 - 1]
    cmds = ['p256_sign %s %s %s' % (be(x), be(z), be(k)) for x in out] + \
        ['p256_sign %s %s %s' % (be(d), be(z), be(x)) for x in out]
    expect(ecc, cmds, ['err EINVAL'] * len(cmds), 'ECDSA with d or k out of range')
    # s = 0 when z = -r d mod n: SEC 1 says to try another k.
    r = openssl_base(k)[0] % N
    expect(ecc, ['p256_sign %s %s %s' % (be(d), be(-r * d % N), be(k))], ['err EAGAIN'],
           'ECDSA with s = 0')


def check_p256_points(ecc, rng, n):
    """Public-key checks, by p256_point_ok, p256_ecdh and p256_mul,
    against OpenSSL's and against the curve equation."""
    points = [(0, 0), (0, 1), (1, 0), (P, P), (2**256 - 1, 2**256 - 1)]
    # Valid points with a small x or y, their negations, and the same
    # with x + p or y + p: the same point mod p, but not a valid encoding.
    small_x = [pt for pt in map(lift_x, range(64)) if pt is not None]
    small_y = [pt for pt in map(lift_y, range(1, 64)) if pt is not None]
    assert small_x and small_y
    for x, y in small_x:
        points += [(x, y), (x, P - y), (x + P, y), (x, P), (x, y + 1)]
    for x, y in small_y:
        points += [(x, y), (x, P - y), (x, y + P), (P, y), (x + 1, y)]
    g = openssl_base(1)
    points += [g, (g[0], P - g[1]), (g[0], g[1] + 1), (g[0] + 1, g[1]), (g[1], g[0])]
    for i in range(n):
        kind = i % 5
        if kind == 0:       # a key pair's point, from OpenSSL
            points.append(openssl_base(random_scalar(rng)))
        elif kind == 1:     # from a random x: valid or nothing
            pt = lift_x(rng.randrange(P))
            points.append(pt if pt is not None else (rng.randrange(P), rng.randrange(P)))
        elif kind == 2:     # a valid point, y changed by one bit
            x, y = openssl_base(random_scalar(rng))
            points.append((x, y ^ (1 << rng.randrange(256))))
        elif kind == 3:     # random coordinates, below p or not
            points.append((rng.getrandbits(256), rng.getrandbits(256)))
        else:               # a point of another curve, y^2 = x^3 - 3x + b'
            points.append((rng.randrange(P), rng.randrange(P)))
    valid = [openssl_public_key(x, y) is not None for x, y in points]
    theirs = [on_curve(x, y) for x, y in points]
    differ = [pt for pt, a, b in zip(points, valid, theirs) if a != b]
    assert not differ, 'OpenSSL and the curve equation disagree on: %s' % differ[:5]
    assert 0 < sum(valid) < len(points)

    expect(ecc, ['p256_point_ok %s %s' % (be(x), be(y)) for x, y in points],
           ['1' if v else '0' for v in valid], 'P-256 public-key check against OpenSSL')
    d = random_scalar(rng)
    expect(ecc, ['p256_ecdh %s %s %s' % (be(d), be(x), be(y)) for x, y in points],
           [openssl_ecdh(d, x, y) if v else 'err EDOM' for (x, y), v in zip(points, valid)],
           'P-256 ECDH with valid and invalid points against OpenSSL')
    # p256_mul's y is checked by check_p256_mul; here only the refusal.
    answers = ecc.run(['p256_mul %s %s %s' % (be(d), be(x), be(y)) for x, y in points])
    wrong = [(pt, a) for pt, a, v in zip(points, answers, valid) if (a == 'err EDOM') == v]
    assert not wrong, 'p256_mul accepts an invalid point or refuses a valid one: %s' % wrong[:5]
    # The scalar is checked first: out of range is EINVAL whatever Q.
    expect(ecc, ['p256_ecdh %s %s %s' % (be(0), be(0), be(0)),
                 'p256_ecdh %s %s %s' % (be(N), be(g[0]), be(g[1]))],
           ['err EINVAL'] * 2, 'P-256 ECDH with d out of range')


def check_x25519_edges(ecc, rng, n):
    """RFC 7748: u's top bit ignored, u of p or more taken mod p, the
    points of small order refused, the RFC's vectors."""
    scalars = [rng.randbytes(32) for _ in range(n)]
    us = [rng.randrange(P25519) for _ in range(n)] + list(range(P25519, 2**255)) + \
        list(SMALL_ORDER) + [2, 9, P25519 - 2, 2**255 - 1]
    us += [u + 2**255 for u in us]
    cmds, wants = [], []
    for s in scalars:
        for u in us:
            cmds.append('x25519 %s %s' % (s.hex(), le(u)))
            wants.append(openssl_x25519(s, u.to_bytes(32, 'little')))
    got = expect(ecc, cmds, wants, 'X25519 edge inputs against OpenSSL')
    # Against our own answer for the canonical u, and the small-order
    # points are refused, as the lists above claim.
    canon = ecc.run(['x25519 %s %s' % (s.hex(), le(u % 2**255 % P25519))
                     for s in scalars for u in us])
    assert got == canon, 'X25519 of a non-canonical u differs from its canonical form'
    for (s, u), answer in zip([(s, u) for s in scalars for u in us], got):
        if u % 2**255 % P25519 in [v % P25519 for v in SMALL_ORDER]:
            assert answer == 'err EINVAL', (s.hex(), le(u), answer)

    vectors = parse(os.path.join('asymmetric', 'X25519', 'rfc7748.txt'), r'.*')
    assert len(vectors) >= 3, 'rfc7748.txt: %d vectors' % len(vectors)
    expect(ecc, ['x25519 %s %s' % (v['INPUT_SCALAR'], v['INPUT_U']) for v in vectors],
           [v['OUTPUT_U'] for v in vectors], 'RFC 7748 5.2 vectors')
    k = u = le(9)
    for i in range(1000):
        k, u = ecc.one('x25519 %s %s' % (k, u)), k
        if i == 0:
            assert k == vectors[2]['OUTPUT_U'], k
    assert k == RFC7748_AFTER_1000, 'RFC 7748 5.2, 1,000 iterations: %s' % k


# NIST CAVP vectors (python3-cryptography-vectors).

def parse(path, section_re):
    """The records ({key: value}, with '_section') of the sections of a
    CAVP response file whose [header] matches section_re.  A record ends
    at a blank line, a header, or a key seen twice."""
    need_packages()
    try:
        f = cryptography_vectors.open_vector_file(path, 'r')
    except FileNotFoundError:
        pytest.fail('python3-cryptography-vectors has no %s' % path)
    records, cur, section = [], {}, ''

    def flush():
        if cur:
            cur['_section'] = section
            records.append(dict(cur))
            cur.clear()
    with f:
        for line in f:
            line = line.strip()
            if line.startswith('#'):
                continue
            m = re.fullmatch(r'\[(.*)\]', line)
            if m and '=' not in line:
                flush()
                if re.fullmatch(r'[A-Z]+-\d+.*|E[A-E] - SHA\d+', m.group(1)):
                    section = m.group(1)
                continue
            m = re.fullmatch(r'(\w+) = (.*)', line)
            if m:
                if m.group(1) in cur:
                    flush()
                cur[m.group(1)] = m.group(2).strip()
            elif not line:
                flush()
        flush()
    return [r for r in records if re.fullmatch(section_re, r['_section'])]


def point_answer(x, y):
    return '%s %s' % (be(int(x, 16)), be(int(y, 16)))


def check_cavp_kas(ecc, rng, n):
    """KAS ECC validity tests, P-256 (parameter set EC): the shared
    secret Z both ways, each static key pair, and the failures that each
    vector's Result names."""
    files = ['KASValidityTest_ECCStaticUnified_%s_%s.fax' % (kind, role)
             for kind in ('NOKC_ZZOnly', 'KDFConcat_NOKC') for role in ('init', 'resp')]
    seen = {}
    for name in files:
        for v in parse(os.path.join('asymmetric', 'ECDH', name), r'EC - SHA\d+'):
            m = re.match(r'([PF]) \((\d+) ', v['Result'])
            assert m, '%s: Result %r' % (name, v['Result'])
            seen.setdefault(int(m.group(2)), []).append((name, v))
    total = sum(len(vs) for vs in seen.values())
    assert total >= 200, 'only %d P-256 KAS vectors: %s' % (total, sorted(seen))
    # 0 correct, 13/14 Z or DKM with a leading 0 nibble; 9-12: the KDF's
    # output, OI, MAC data or tag changed, after a correct Z.
    z_right = {0, 9, 10, 11, 12, 13, 14}
    known = z_right | {1, 2, 5, 6, 7, 8}
    assert set(seen) <= known, 'unknown KAS result codes: %s' % (set(seen) - known)
    cmds, wants = [], []
    for code, vs in sorted(seen.items()):
        for name, v in vs:
            cavs = (v['QsCAVSx'], v['QsCAVSy'])
            iut = (v['QsIUTx'], v['QsIUTy'])
            if any(len(c) > 64 for c in cavs + iut):
                pytest.fail('%s: a coordinate of more than 256 bits: %s' % (name, v))
            d_cavs, d_iut = (be(int(v[k], 16)) for k in ('dsCAVS', 'dsIUT'))
            ecdh_iut = 'p256_ecdh %s %s' % (d_iut, point_answer(*cavs))
            ecdh_cavs = 'p256_ecdh %s %s' % (d_cavs, point_answer(*iut))
            z = be(int(v['Z'], 16))
            if code in z_right:
                cmds += [ecdh_iut, ecdh_cavs, 'p256_base ' + d_iut, 'p256_base ' + d_cavs]
                wants += [z, z, point_answer(*iut), point_answer(*cavs)]
            elif code in (1, 2):    # the CAVS public key is invalid
                cmds += ['p256_point_ok ' + point_answer(*cavs), ecdh_iut]
                wants += ['0', 'err EDOM']
            elif code in (5, 6):    # the IUT public key is invalid
                cmds += ['p256_point_ok ' + point_answer(*iut), ecdh_cavs]
                wants += ['0', 'err EDOM']
            elif code == 8:         # Z is wrong: both sides agree on another
                z_real = openssl_ecdh(int(d_iut, 16), *(int(c, 16) for c in cavs))
                assert z_real != z
                cmds += [ecdh_iut, ecdh_cavs]
                wants += [z_real, z_real]
    expect(ecc, cmds, wants, 'NIST KAS ECC P-256 vectors')
    # 7: d no longer matches Q; the test is that d G is not Q.
    for name, v in seen.get(7, []):
        got = ecc.one('p256_base ' + be(int(v['dsIUT'], 16)))
        assert got != point_answer(v['QsIUTx'], v['QsIUTy']), (name, v)
    print('KAS ECC P-256: %d vectors, result codes %s' % (
        total, {c: len(vs) for c, vs in sorted(seen.items())}))


def z_of(hash_name, msg):
    """bits2int: the leftmost 256 bits of the message's hash, or all of a
    shorter one."""
    digest = hashlib.new(hash_name, bytes.fromhex(msg)).digest()
    return int.from_bytes(digest[:32], 'big')


def check_cavp_ecdsa(ecc, rng, n):
    """FIPS 186-2 and 186-3 P-256 vectors: SigGen (our r and s from their
    d, message and k; d G is their Q), KeyPair and PKV."""
    ecdsa = os.path.join('asymmetric', 'ECDSA')
    cmds, wants = [], []
    sig = 0
    for fips in ('FIPS_186-2', 'FIPS_186-3'):
        for v in parse(os.path.join(ecdsa, fips, 'SigGen.txt'), r'P-256(,SHA-\d+)?'):
            # FIPS 186-2's vectors are all SHA-1.
            hash_name = v['_section'].partition(',')[2].replace('-', '').lower() or 'sha1'
            z = z_of(hash_name, v['Msg'])
            d, k = (be(int(v[key], 16)) for key in ('d', 'k'))
            cmds += ['p256_sign %s %s %s' % (d, be(z), k), 'p256_base ' + d]
            wants += [point_answer(v['R'], v['S']), point_answer(v['Qx'], v['Qy'])]
            sig += 1
    keys = 0
    for fips in ('FIPS_186-2', 'FIPS_186-3'):
        for v in parse(os.path.join(ecdsa, fips, 'KeyPair.rsp'), r'P-256'):
            if 'd' in v:
                cmds.append('p256_base ' + be(int(v['d'], 16)))
                wants.append(point_answer(v['Qx'], v['Qy']))
                keys += 1
    pkv = too_long = 0
    for fips in ('FIPS_186-2', 'FIPS_186-3'):
        for v in parse(os.path.join(ecdsa, fips, 'PKV.rsp'), r'P-256'):
            x, y = int(v['Qx'], 16), int(v['Qy'], 16)
            ok = v['Result'].startswith('P')
            if max(x, y) >= 2**256:
                # Not 32 bytes: no caller of ours can hand it over.
                assert not ok, v
                too_long += 1
                continue
            cmds.append('p256_point_ok %s %s' % (be(x), be(y)))
            wants.append('1' if ok else '0')
            pkv += 1
    assert sig >= 90 and keys >= 20 and pkv >= 16, (sig, keys, pkv)
    expect(ecc, cmds, wants, 'NIST ECDSA P-256 vectors')
    print('ECDSA P-256: %d SigGen, %d KeyPair, %d PKV vectors (%d with coordinates '
          'over 256 bits left out)' % (sig, keys, pkv, too_long))


# The tests.

CHECKS = {
    'x25519': check_x25519,
    'x25519_base': check_x25519_base,
    'p256_base': check_p256_base,
    'p256_mul': check_p256_mul,
    'p256_ecdh': check_p256_ecdh,
    'p256_sign': check_p256_sign,
    'p256_points': check_p256_points,
    'x25519_edges': check_x25519_edges,
    'cavp_kas': check_cavp_kas,
    'cavp_ecdsa': check_cavp_ecdsa,
}


def run_check(name, ecc, n):
    """A check with its own seed, the same every run."""
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], 'big')
    CHECKS[name](ecc, random.Random(seed), n)


@pytest.mark.parametrize('name', sorted(COUNTS))
def test_against_openssl(ecc, name):
    """Random and edge inputs, our answers against OpenSSL's."""
    run_check(name, ecc, COUNTS[name])


@pytest.mark.parametrize('name', ['cavp_kas', 'cavp_ecdsa'])
def test_nist_vectors(ecc, name):
    """NIST CAVP's P-256 vectors: KAS ECC, then SigGen, KeyPair and PKV."""
    run_check(name, ecc, 0)


def test_malformed_input(ecc):
    """Every malformed line gets "err input", and the next line works."""
    v = be(1)
    bad = ['', ' ', 'nope', 'p256_base', 'p256_base ' + v[:-1], 'p256_base ' + v + '0',
           'p256_base ' + v[:-1] + 'g', 'p256_base 0x' + v[2:], 'p256_base %s %s' % (v, v),
           'p256_ecdh %s %s' % (v, v), 'p256_sign %s %s %s %s' % (v, v, v, v),
           'x25519 ' + v, 'P256_BASE ' + v, 'p256_base ' + 'x' * 10000,
           'p256_base \x00' + v, 'p256_base ' + v[:32] + ' ' + v[32:]]
    expect(ecc, bad + ['p256_base ' + v], ['err input'] * len(bad) + [
        '%s %s' % tuple(map(be, openssl_base(1)))], 'malformed lines')


@pytest.mark.parametrize('name', sorted(CHECKS))
def test_check_catches_a_wrong_answer(builds, tmp_path, name):
    """ecc_diff --flip 7 spoils its 7th answer: every check must fail."""
    proc = EccDiff(builds['O2'], tmp_path, '--flip', '7')
    try:
        with pytest.raises(AssertionError):
            run_check(name, proc, 10)
    finally:
        proc.close()
