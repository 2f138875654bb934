/*
 * P-256 (NIST's secp256r1, FIPS 186-4 D.1.2.3, SEC 2 2.4.2): multiples of
 * the base point, ECDSA signatures (FIPS 186-4 6.4, SEC 1 4.1.3) and ECDH
 * (SEC 1 3.3.1), in constant time, with field arithmetic of our own
 * instead of mbedTLS's general bignum code, whose ECDSA signature was
 * most of a full ECDHE_ECDSA handshake.  net/tls/ecdsa_alt.c hands
 * mbedTLS's P-256 signatures to it, net/tls/ecdh_alt.c its P-256 key
 * pairs and shared secrets.
 *
 * Every integer (scalar, coordinate, hash, signature half) is 32 bytes,
 * big-endian, as SEC 1 2.3.7 encodes them.
 *
 * The first call that needs the base point (k G, a signature) builds a
 * table of its multiples (32 KiB, static; about 500 point operations,
 * 8 ms under TCG); later calls only read it.  k Q makes a small table of
 * multiples of Q on the stack for each call (about 2.5 KiB of stack in
 * all).  No allocation; not reentrant during that first call, which
 * Limpet's single CPU and event loop never do.
 */
#ifndef LIMPET_P256_H
#define LIMPET_P256_H

#include <stdbool.h>
#include <stdint.h>

#define P256_BYTES	32

/* Whether k is a valid private key or per-signature secret: 1 <= k < n,
 * n the group order.  Constant time: how k compares is not revealed,
 * only the answer. */
bool	limpet_p256_scalar_ok(const uint8_t k[P256_BYTES]);

/*
 * (x, y) = k G, G the base point, in affine coordinates (each less than
 * the field prime p).  Constant time in k.  Returns 0, or -EINVAL when k
 * is not in [1, n - 1] (x and y are then not written).
 */
int	limpet_p256_base_mul(uint8_t x[P256_BYTES], uint8_t y[P256_BYTES],
	    const uint8_t k[P256_BYTES]);

/*
 * An ECDSA signature (r, s) of the hash integer z with private key d and
 * per-signature secret k (SEC 1 4.1.3 steps 2-6):
 *	r = x(k G) mod n,  s = k^-1 (z + r d) mod n.
 * z is the hash already cut to its leftmost 256 bits (bits2int, SEC 1
 * 4.1.3 step 5; a shorter hash is zero-padded on the left); it may be n or
 * more and is reduced mod n here.  Constant time in d and k.
 *
 * Returns 0; -EINVAL when d or k is not in [1, n - 1]; -EAGAIN when r or
 * s came out 0, which SEC 1 says to answer with a fresh k (probability
 * about 2^-255 for a random k).  r and s are written only on success.
 */
int	limpet_p256_sign(uint8_t r[P256_BYTES], uint8_t s[P256_BYTES],
	    const uint8_t d[P256_BYTES], const uint8_t z[P256_BYTES],
	    const uint8_t k[P256_BYTES]);

/*
 * Whether (x, y) is a valid public key (SEC 1 3.2.2.1): x < p, y < p, and
 * y^2 = x^3 - 3x + b mod p.  Such a point is never the point at infinity
 * (which has no affine coordinates; the pair (0, 0) is not on the curve)
 * and its order is n (P-256's cofactor is 1).  Not constant time: public
 * keys are public.
 */
bool	limpet_p256_point_ok(const uint8_t x[P256_BYTES], const uint8_t y[P256_BYTES]);

/*
 * (x, y) = k Q, Q = (qx, qy) a public key, in affine coordinates.
 * Constant time in k; Q is checked as limpet_p256_point_ok() does
 * before it is used.  y may be NULL when only x is wanted.
 *
 * Returns 0; -EINVAL when k is not in [1, n - 1] (checked first); -EDOM
 * when Q is not a valid public key; -ERANGE when k Q is the point at
 * infinity, which valid k and Q never give.  x and y are written only on
 * success.
 */
int	limpet_p256_mul(uint8_t x[P256_BYTES], uint8_t y[P256_BYTES],
	    const uint8_t k[P256_BYTES], const uint8_t qx[P256_BYTES],
	    const uint8_t qy[P256_BYTES]);

/*
 * The ECDH shared secret (SEC 1 3.3.1) of private key d and the peer's
 * public key Q = (qx, qy): z = x(d Q).  limpet_p256_mul() without y: the
 * same checks, errors and constant time in d.
 */
int	limpet_p256_ecdh(uint8_t z[P256_BYTES], const uint8_t d[P256_BYTES],
	    const uint8_t qx[P256_BYTES], const uint8_t qy[P256_BYTES]);

#endif /* LIMPET_P256_H */
