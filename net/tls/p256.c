/*
 * P-256: arithmetic modulo the field prime p and the group order n,
 * Jacobian point doubling and addition, a fixed-base comb for k G, and
 * ECDSA signing.  The curve is y^2 = x^3 - 3x + b over GF(p) (FIPS 186-4
 * D.1.2.3, SEC 2 2.4.2).
 *
 * Why our own: mbedTLS (2.28, and 3.6 still) signs with its general
 * bignum code (ecp.c's comb over mbedtls_mpi): variable-length integers
 * on the heap, with a malloc, free and bounds check around every
 * multiplication.  Under TCG a
 * signature took about 4 ms, most of a full ECDHE_ECDSA handshake.
 *
 * Representation: an integer mod m (m = p or n) is four 64-bit limbs,
 * least significant first, always fully reduced (0 <= v < m), and kept in
 * Montgomery form: the element a is stored as a R mod m, R = 2^256, and
 * mont_mul() multiplies (a R * b R / R = ab R).
 *
 * Arithmetic mod p is fiat-crypto's (p256_64.h: Erbsen et al., "Simple
 * High-Level Code For Cryptographic Arithmetic - With Proofs, Without
 * Compromises", IEEE S&P 2019), generated from a proof in Coq that it
 * computes exactly these functions, without a branch or a memory access
 * that depends on the values.  setup.sh takes it from BoringSSL's Debian
 * source package (android-platform-external-boringssl) into deps/fiat/;
 * it is not in this repository.  Its representation is the one above, so
 * it serves as it is.  No verified code covers n, the group order:
 * mont_mul_generic() and the additions mod n are ours, tested against
 * values computed independently (tests/unit/test_p256.c), against
 * mbedTLS's bignum code on the guest (tests/guest/test_tls) and for
 * constant time on every build of this file (tests/test_ecc_ct.py).
 * Every carry of ours is the high half of an unsigned __int128 sum or
 * product, never a comparison or __builtin_*_overflow(): gcc at -Og and
 * -O3 turned those into conditional jumps on secret carries.
 *
 * k G: k is written as 64 signed 4-bit digits, k = sum d_i 16^i with
 * d_i in [-8, 8], and the table holds j 16^i G for j = 1..8 and every i
 * (affine, 64 x 8 points, 32 KiB), built on the first call.  Then
 * k G = sum d_i (16^i G): 64 table look-ups and 64 additions, no
 * doublings.  See base_mul() for why no addition ever meets its
 * exceptional cases.
 *
 * k Q for a point Q that varies (the peer's, in ECDH): the same digits,
 * with a table of 1 Q .. 8 Q made for each call, and Horner's rule from
 * the top digit down, four doublings and one addition per digit (see
 * point_mul()).  Q is validated first (point_from_bytes()): a point off
 * the curve would put the arithmetic on another curve, whose small
 * subgroups give away the private key bit by bit (the invalid-curve
 * attack).
 *
 * Constant time: nothing branches on, or indexes memory by, a secret (the
 * private key d, the per-signature k, the scalar of k Q, or anything
 * derived from them); the point Q is public.  Choices are made with
 * all-ones/all-zeros masks, a table look-up reads every entry of its row,
 * and the inversions are exponentiations by the public exponents p - 2
 * and n - 2 (Fermat) in a fixed sequence of squarings and
 * multiplications, which follows the exponent's bits, not the secret's.
 * The only early returns are on results the caller sees anyway (a key
 * out of range, r or s of 0, k Q at infinity).  tests/test_ecc_ct.py checks
 * all this with valgrind (see declassify() below).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "p256.h"

#include "ct.h"
#include "p256_64.h"		/* deps/fiat: fiat-crypto's arithmetic mod p */

typedef unsigned __int128 u128;

/* Whether a key is in range, and an r or s of 0, are results the caller
 * learns anyway: public from there on (ct.h). */
#define declassify(p, n)	limpet_ct_declassify((p), (n))

/* An integer mod p or mod n: see the top of the file. */
typedef struct {
	uint64_t v[4];
} fe;

/* A modulus and what Montgomery multiplication needs to know of it. */
struct modulus {
	fe m;			/* the modulus */
	uint64_t minv;		/* -m^-1 mod 2^64 */
	fe r2;			/* R^2 mod m: to Montgomery form */
	fe one;			/* R mod m: 1 in Montgomery form */
	fe m_minus_2;		/* the Fermat exponent (inv_n() reads its low half) */
};

/*
 * The constants, as four little-endian limbs each.  p, n and G are
 * FIPS 186-4 D.1.2.3's; the others are derived from them (R = 2^256;
 * tests/unit/test_p256.c checks each derivation).
 */
static const struct modulus P = {
	/* p = 2^256 - 2^224 + 2^192 + 2^96 - 1 */
	.m = { { 0xffffffffffffffff, 0x00000000ffffffff, 0x0000000000000000, 0xffffffff00000001 } },
	.minv = 1,
	.r2 = { { 0x0000000000000003, 0xfffffffbffffffff, 0xfffffffffffffffe, 0x00000004fffffffd } },
	.one = { { 0x0000000000000001, 0xffffffff00000000, 0xffffffffffffffff, 0x00000000fffffffe } },
	.m_minus_2 = { { 0xfffffffffffffffd, 0x00000000ffffffff, 0x0000000000000000, 0xffffffff00000001 } },
};

static const struct modulus N = {
	.m = { { 0xf3b9cac2fc632551, 0xbce6faada7179e84, 0xffffffffffffffff, 0xffffffff00000000 } },
	.minv = 0xccd1c8aaee00bc4f,
	.r2 = { { 0x83244c95be79eea2, 0x4699799c49bd6fa6, 0x2845b2392b6bec59, 0x66e12d94f3d95620 } },
	.one = { { 0x0c46353d039cdaaf, 0x4319055258e8617b, 0x0000000000000000, 0x00000000ffffffff } },
	.m_minus_2 = { { 0xf3b9cac2fc63254f, 0xbce6faada7179e84, 0xffffffffffffffff, 0xffffffff00000000 } },
};

/* (n - 1) / 2: scalars above it are negated before the comb. */
static const fe HALF_N = { { 0x79dce5617e3192a8, 0xde737d56d38bcf42, 0x7fffffffffffffff, 0x7fffffff80000000 } };

/* The base point G and the curve's b (not in Montgomery form).  No
 * formula uses b; the public-key check does. */
static const fe GX = { { 0xf4a13945d898c296, 0x77037d812deb33a0, 0xf8bce6e563a440f2, 0x6b17d1f2e12c4247 } };
static const fe GY = { { 0xcbb6406837bf51f5, 0x2bce33576b315ece, 0x8ee7eb4a7c0f9e16, 0x4fe342e2fe1a7f9b } };
static const fe CURVE_B = { { 0x3bce3c3e27d2604b, 0x651d06b0cc53b0f6, 0xb3ebbd55769886bc, 0x5ac635d8aa3a93e7 } };

/* Memory the compiler must not drop as a dead store: secrets on the stack
 * are cleared before returning. */
static void
wipe(void *p, size_t n)
{
	volatile uint8_t *b = p;

	while (n--)
		*b++ = 0;
}

/* A mask the compiler cannot see through, so that it keeps the masked
 * selection rather than turn it back into a branch on the condition. */
static inline uint64_t
opaque(uint64_t x)
{
	__asm__("" : "+r"(x));
	return x;
}

/* All ones when bit is 1, 0 when it is 0. */
static inline uint64_t
mask_of(uint64_t bit)
{
	return opaque(0 - bit);
}

/*
 * One limb of an addition, subtraction or multiply-accumulate with the
 * carry or borrow in and out (0 or 1; for mac() a whole limb), computed
 * in 128 bits so that the carry is arithmetic, never a branch (see the
 * top of the file).  The arithmetic below is written out limb by limb
 * with these on local variables, which gcc keeps in registers.
 */
static inline uint64_t
addc(uint64_t a, uint64_t b, uint64_t *carry)
{
	u128 x = (u128)a + b + *carry;

	*carry = (uint64_t)(x >> 64);
	return (uint64_t)x;
}

/* a - b - borrow: below zero, the 128-bit difference wraps, and its
 * high half is all ones. */
static inline uint64_t
subb(uint64_t a, uint64_t b, uint64_t *borrow)
{
	u128 x = (u128)a - b - *borrow;

	*borrow = (uint64_t)(x >> 64) & 1;
	return (uint64_t)x;
}

/* t + a b + carry, whose high half becomes the carry (it fits: at most
 * (2^64 - 1)^2 + 2 (2^64 - 1) = 2^128 - 1). */
static inline uint64_t
mac(uint64_t t, uint64_t a, uint64_t b, uint64_t *carry)
{
	u128 x = (u128)a * b + t + *carry;

	*carry = (uint64_t)(x >> 64);
	return (uint64_t)x;
}

/* r = mask ? a : b, limb by limb, for mask all ones or all zeros. */
static void
fe_select(fe *r, uint64_t mask, const fe *a, const fe *b)
{
	for (int i = 0; i < 4; i++)
		r->v[i] = (a->v[i] & mask) | (b->v[i] & ~mask);
}

/* 1 when a is 0, else 0, without a branch. */
static uint64_t
fe_is_zero(const fe *a)
{
	uint64_t x = a->v[0] | a->v[1] | a->v[2] | a->v[3];

	/* x | -x has its top bit set exactly when x != 0. */
	return 1 ^ ((x | (0 - x)) >> 63);
}

/* r = a - b as 256-bit integers; returns the borrow out (0 or 1). */
static uint64_t
sub_borrow(fe *r, const fe *a, const fe *b)
{
	uint64_t borrow = 0;

	r->v[0] = subb(a->v[0], b->v[0], &borrow);
	r->v[1] = subb(a->v[1], b->v[1], &borrow);
	r->v[2] = subb(a->v[2], b->v[2], &borrow);
	r->v[3] = subb(a->v[3], b->v[3], &borrow);
	return borrow;
}

/* Big-endian bytes (SEC 1 2.3.7) to limbs and back. */
static void
fe_from_bytes(fe *r, const uint8_t b[32])
{
	for (int i = 0; i < 4; i++) {
		uint64_t x = 0;

		for (int j = 0; j < 8; j++)
			x = (x << 8) | b[8 * (3 - i) + j];
		r->v[i] = x;
	}
}

static void
fe_to_bytes(uint8_t b[32], const fe *a)
{
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++)
			b[8 * (3 - i) + j] = (uint8_t)(a->v[i] >> (56 - 8 * j));
}

/* 1 when 1 <= a < m, else 0, in constant time. */
static uint64_t
in_range(const fe *a, const struct modulus *m)
{
	fe t;

	return sub_borrow(&t, a, &m->m) & (1 ^ fe_is_zero(a));
}

/* r = a mod m for any a < 2^256 < 2m: at most one m comes off. */
static void
mod_reduce_once(fe *r, const fe *a, const struct modulus *m)
{
	fe t;
	uint64_t below = sub_borrow(&t, a, &m->m);

	fe_select(r, mask_of(below), a, &t);
}

/* r = a + b mod m, for a, b < m. */
static void
mod_add(fe *r, const fe *a, const fe *b, const struct modulus *m)
{
	fe sum, t;
	uint64_t carry = 0, borrow;

	if (m == &P) {
		fiat_p256_add(r->v, a->v, b->v);
		return;
	}

	sum.v[0] = addc(a->v[0], b->v[0], &carry);
	sum.v[1] = addc(a->v[1], b->v[1], &carry);
	sum.v[2] = addc(a->v[2], b->v[2], &carry);
	sum.v[3] = addc(a->v[3], b->v[3], &carry);
	/* The sum (carry:sum) is below 2m; it is m or more, and m comes
	 * off, when it carried out of 256 bits or sum - m does not borrow. */
	borrow = sub_borrow(&t, &sum, &m->m);
	fe_select(r, mask_of(carry | (borrow ^ 1)), &t, &sum);
}

/* r = a - b mod m, for a, b < m. */
static void
mod_sub(fe *r, const fe *a, const fe *b, const struct modulus *m)
{
	fe d;
	uint64_t carry = 0, mask;

	if (m == &P) {
		fiat_p256_sub(r->v, a->v, b->v);
		return;
	}
	/* Below zero: add m back. */
	mask = mask_of(sub_borrow(&d, a, b));
	r->v[0] = addc(d.v[0], m->m.v[0] & mask, &carry);
	r->v[1] = addc(d.v[1], m->m.v[1] & mask, &carry);
	r->v[2] = addc(d.v[2], m->m.v[2] & mask, &carry);
	r->v[3] = addc(d.v[3], m->m.v[3] & mask, &carry);
}

/*
 * r = a b / R mod m (Montgomery multiplication), for a, b < m: the
 * "coarsely integrated operand scanning" form.  Each round adds a b_i to
 * the accumulator t, then the multiple q m of m that clears t's low limb
 * (q = t_0 (-m^-1) mod 2^64), and shifts t right by one limb.  t stays
 * below 2m, so one conditional subtraction of m finishes.  Any of r, a, b
 * may be the same element.  This is the one for n; mont_mul() takes
 * fiat-crypto's for p.
 */
static void
mont_mul_generic(fe *r, const fe *a, const fe *b, const struct modulus *m)
{
	uint64_t a0 = a->v[0], a1 = a->v[1], a2 = a->v[2], a3 = a->v[3];
	uint64_t m0 = m->m.v[0], m1 = m->m.v[1], m2 = m->m.v[2], m3 = m->m.v[3];
	uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5, q, c;
	fe lo, sub;
	uint64_t borrow;

	for (int i = 0; i < 4; i++) {
		uint64_t bi = b->v[i];

		c = 0;
		t0 = mac(t0, a0, bi, &c);
		t1 = mac(t1, a1, bi, &c);
		t2 = mac(t2, a2, bi, &c);
		t3 = mac(t3, a3, bi, &c);
		t5 = 0;
		t4 = addc(t4, c, &t5);

		q = t0 * m->minv;
		c = 0;
		(void)mac(t0, q, m0, &c);		/* low limb becomes 0 */
		t0 = mac(t1, q, m1, &c);
		t1 = mac(t2, q, m2, &c);
		t2 = mac(t3, q, m3, &c);
		t3 = addc(t4, c, &t5);
		t4 = t5;
	}
	/* t = (t4:lo) < 2m: subtract m unless that goes below zero. */
	lo = (fe){ { t0, t1, t2, t3 } };
	borrow = sub_borrow(&sub, &lo, &m->m);
	fe_select(r, mask_of(t4 | (borrow ^ 1)), &sub, &lo);
}

static inline void
mont_mul(fe *r, const fe *a, const fe *b, const struct modulus *m)
{
	if (m == &P)
		fiat_p256_mul(r->v, a->v, b->v);
	else
		mont_mul_generic(r, a, b, m);
}

static void
mont_sq(fe *r, const fe *a, const struct modulus *m)
{
	if (m == &P)
		fiat_p256_square(r->v, a->v);
	else
		mont_mul_generic(r, a, a, m);
}

/* r = a^(2^k), k >= 1. */
static void
mont_sqn(fe *r, const fe *a, int k, const struct modulus *m)
{
	mont_sq(r, a, m);
	while (--k > 0)
		mont_sq(r, r, m);
}

/* Into Montgomery form (a < m) and out of it. */
static void
to_mont(fe *r, const fe *a, const struct modulus *m)
{
	mont_mul(r, a, &m->r2, m);
}

static void
from_mont(fe *r, const fe *a, const struct modulus *m)
{
	static const fe one = { { 1, 0, 0, 0 } };

	mont_mul(r, a, &one, m);
}

/*
 * Inverses by Fermat, r = a^(m-2) = 1/a mod m (m is prime), in Montgomery
 * form, and 0 for a = 0: a fixed sequence of squarings and
 * multiplications, the same for every a.  Both exponents start with 32
 * ones, a^(2^32 - 1), built from shorter runs of ones:
 * a^(2^(i+j) - 1) = (a^(2^i - 1))^(2^j) a^(2^j - 1).
 */
struct runs {
	fe x2, x4, x6, x8, x16, x24, x30, x32;	/* xk = a^(2^k - 1) */
};

static void
make_runs(struct runs *w, const fe *a, const struct modulus *m)
{
	fe t;

	mont_sq(&t, a, m);
	mont_mul(&w->x2, &t, a, m);
	mont_sqn(&t, &w->x2, 2, m);
	mont_mul(&w->x4, &t, &w->x2, m);
	mont_sqn(&t, &w->x4, 2, m);
	mont_mul(&w->x6, &t, &w->x2, m);
	mont_sqn(&t, &w->x6, 2, m);
	mont_mul(&w->x8, &t, &w->x2, m);
	mont_sqn(&t, &w->x8, 8, m);
	mont_mul(&w->x16, &t, &w->x8, m);
	mont_sqn(&t, &w->x16, 8, m);
	mont_mul(&w->x24, &t, &w->x8, m);
	mont_sqn(&t, &w->x24, 6, m);
	mont_mul(&w->x30, &t, &w->x6, m);
	mont_sqn(&t, &w->x30, 2, m);
	mont_mul(&w->x32, &t, &w->x2, m);
}

/*
 * p - 2, from bit 255 down: 32 ones, 31 zeros, a one (bit 192), 96
 * zeros, 94 ones (bits 95..2), 0, 1.  255 squarings, 13 multiplications.
 */
static void
inv_p(fe *r, const fe *a)
{
	struct runs w;
	fe t;

	make_runs(&w, a, &P);
	mont_sqn(&t, &w.x32, 32, &P);
	mont_mul(&t, &t, a, &P);		/* bits 255..192 */
	mont_sqn(&t, &t, 96 + 32, &P);
	mont_mul(&t, &t, &w.x32, &P);		/* bits 191..64 */
	mont_sqn(&t, &t, 32, &P);
	mont_mul(&t, &t, &w.x32, &P);		/* bits 63..32 */
	mont_sqn(&t, &t, 30, &P);
	mont_mul(&t, &t, &w.x30, &P);		/* bits 31..2 */
	mont_sqn(&t, &t, 2, &P);
	mont_mul(r, &t, a, &P);			/* bits 1..0: 01 */
	wipe(&w, sizeof(w));
}

/*
 * n - 2: 32 ones, 32 zeros, 64 ones, then 128 bits without a pattern,
 * taken four at a time with a table of a^0..a^15.  Which power each
 * window multiplies by, and whether it multiplies at all, follows the
 * public exponent; the table is read at public positions.  255
 * squarings and about 55 multiplications.
 */
static void
inv_n(fe *r, const fe *a)
{
	struct runs w;
	fe pow[16], t;

	make_runs(&w, a, &N);
	mont_sqn(&t, &w.x32, 32 + 32, &N);
	mont_mul(&t, &t, &w.x32, &N);
	mont_sqn(&t, &t, 32, &N);
	mont_mul(&t, &t, &w.x32, &N);		/* bits 255..128 */
	pow[1] = *a;
	for (int i = 2; i < 16; i++)
		mont_mul(&pow[i], &pow[i - 1], a, &N);
	for (int i = 31; i >= 0; i--) {		/* bits 127..0, a nibble each */
		unsigned int nib = (N.m_minus_2.v[i / 16] >> (4 * (i % 16))) & 15;

		mont_sqn(&t, &t, 4, &N);
		if (nib != 0)
			mont_mul(&t, &t, &pow[nib], &N);
	}
	*r = t;
	wipe(&w, sizeof(w));
	wipe(pow, sizeof(pow));
}

static void
mont_inv(fe *r, const fe *a, const struct modulus *m)
{
	if (m == &P)
		inv_p(r, a);
	else
		inv_n(r, a);
}

/* ---- points ------------------------------------------------------------- */

/* Jacobian coordinates, (X : Y : Z) for the affine point (X/Z^2, Y/Z^3),
 * and affine ones; all in Montgomery form mod p. */
typedef struct {
	fe x, y, z;
} jac;

typedef struct {
	fe x, y;
} aff;

/*
 * r = 2 a in Jacobian coordinates, using a = -3 ("dbl-2001-b" in the
 * Explicit-Formulas Database):
 *	delta = Z^2, gamma = Y^2, beta = X gamma,
 *	alpha = 3 (X - delta)(X + delta),
 *	X3 = alpha^2 - 8 beta, Z3 = (Y + Z)^2 - gamma - delta,
 *	Y3 = alpha (4 beta - X3) - 8 gamma^2.
 * Also right for the point at infinity (Z = 0 gives Z3 = 2 Y Z = 0); P-256
 * has no point of order 2 (Y = 0), where it would be wrong.  r may be a.
 */
static void
point_double(jac *r, const jac *a)
{
	fe delta, gamma, beta, alpha, t, u;

	mont_sq(&delta, &a->z, &P);
	mont_sq(&gamma, &a->y, &P);
	mont_mul(&beta, &a->x, &gamma, &P);
	mod_sub(&t, &a->x, &delta, &P);
	mod_add(&u, &a->x, &delta, &P);
	mont_mul(&alpha, &t, &u, &P);
	mod_add(&t, &alpha, &alpha, &P);
	mod_add(&alpha, &t, &alpha, &P);	/* 3 (X - delta)(X + delta) */

	mod_add(&t, &a->y, &a->z, &P);
	mont_sq(&t, &t, &P);
	mod_sub(&t, &t, &gamma, &P);
	mod_sub(&r->z, &t, &delta, &P);		/* Z3; a's Z is read above */

	mod_add(&beta, &beta, &beta, &P);
	mod_add(&beta, &beta, &beta, &P);	/* 4 beta */
	mont_sq(&t, &alpha, &P);
	mod_sub(&t, &t, &beta, &P);
	mod_sub(&r->x, &t, &beta, &P);		/* X3 = alpha^2 - 8 beta */

	mod_sub(&t, &beta, &r->x, &P);
	mont_mul(&t, &alpha, &t, &P);
	mont_sq(&u, &gamma, &P);
	mod_add(&u, &u, &u, &P);
	mod_add(&u, &u, &u, &P);
	mod_add(&u, &u, &u, &P);		/* 8 gamma^2 */
	mod_sub(&r->y, &t, &u, &P);
}

/*
 * r = a + b, a Jacobian, b affine (the textbook mixed addition):
 *	U2 = x2 Z1^2, S2 = y2 Z1^3, H = U2 - X1, R = S2 - Y1,
 *	X3 = R^2 - H^3 - 2 X1 H^2, Y3 = R (X1 H^2 - X3) - Y1 H^3, Z3 = Z1 H.
 * Wrong when a is the point at infinity or a = +-b (H = 0); the callers
 * make sure neither happens, or throw the result away with a mask.  r may
 * be a.
 */
static void
point_add_mixed(jac *r, const jac *a, const aff *b)
{
	fe z1z1, u2, s2, h, rr, hh, hhh, v, t;

	mont_sq(&z1z1, &a->z, &P);
	mont_mul(&u2, &b->x, &z1z1, &P);
	mont_mul(&s2, &a->z, &z1z1, &P);
	mont_mul(&s2, &b->y, &s2, &P);
	mod_sub(&h, &u2, &a->x, &P);
	mod_sub(&rr, &s2, &a->y, &P);

	mont_sq(&hh, &h, &P);
	mont_mul(&hhh, &hh, &h, &P);
	mont_mul(&v, &a->x, &hh, &P);		/* X1 H^2 */
	mont_mul(&r->z, &a->z, &h, &P);		/* a's Z is not read again */

	mont_sq(&t, &rr, &P);
	mod_sub(&t, &t, &hhh, &P);
	mod_sub(&t, &t, &v, &P);
	mod_sub(&t, &t, &v, &P);		/* X3 */
	mod_sub(&v, &v, &t, &P);
	mont_mul(&v, &rr, &v, &P);
	mont_mul(&hhh, &a->y, &hhh, &P);	/* a's Y is not read again */
	mod_sub(&r->y, &v, &hhh, &P);
	r->x = t;
}

/* Affine coordinates (still in Montgomery form) of n Jacobian points that
 * are not at infinity, with one inversion for all (each 1/Z_i is the
 * inverse of the product, times the other Z's). */
static void
batch_to_affine(aff *out, const jac *in, int n)
{
	fe prefix[16], inv, zinv, zinv2;

	prefix[0] = in[0].z;
	for (int i = 1; i < n; i++)
		mont_mul(&prefix[i], &prefix[i - 1], &in[i].z, &P);
	mont_inv(&inv, &prefix[n - 1], &P);		/* 1 / (Z_0 ... Z_{n-1}) */
	for (int i = n - 1; i >= 0; i--) {
		if (i > 0) {
			mont_mul(&zinv, &inv, &prefix[i - 1], &P);
			mont_mul(&inv, &inv, &in[i].z, &P);
		} else
			zinv = inv;
		mont_sq(&zinv2, &zinv, &P);
		mont_mul(&out[i].x, &in[i].x, &zinv2, &P);
		mont_mul(&zinv2, &zinv2, &zinv, &P);
		mont_mul(&out[i].y, &in[i].y, &zinv2, &P);
	}
}

/* ---- signed digits ------------------------------------------------------ */

#define DIGITS		64	/* 4-bit digits in a 256-bit scalar */
#define DIGIT_MAX	8	/* |digit| <= 8: tables hold 1..8 multiples */

/*
 * k as 64 signed 4-bit digits, k = sum digit[i] 16^i, for 0 <= k < n.
 *
 * k is first replaced by n - k when it is above (n - 1) / 2, so that
 * k < 2^255; the return value is then all ones (the caller negates its
 * result), else 0.  The 64 nibbles then recode into digits in [-8, 7],
 * carrying 1 into the next nibble for each nibble of 8 or more; the top
 * digit, a nibble of at most 7 plus a carry, is in [0, 8].
 *
 * Consequence the callers rely on: the digits from i up are worth
 * a_i = sum_{j >= i} digit[j] 16^(j-i) = (k >> 4i) + c_i, the top bits of
 * k plus the carry into digit i (0 or 1), so 0 <= a_i <= 2^(255-4i).
 */
static uint64_t
recode(int8_t digit[DIGITS], fe *k, const fe *k_in)
{
	uint64_t negate;
	int carry = 0;
	fe nk;

	sub_borrow(&nk, &N.m, k_in);
	negate = mask_of(sub_borrow(k, &HALF_N, k_in));		/* k > (n-1)/2 */
	fe_select(k, negate, &nk, k_in);

	for (int i = 0; i < DIGITS; i++) {
		int d = (int)((k->v[i / 16] >> (4 * (i % 16))) & 15) + carry;

		/* d in [0, 16]; carry is 1 exactly for d >= 8. */
		carry = (d + 8) >> 4;
		digit[i] = (int8_t)(d - (carry << 4));
	}
	digit[DIGITS - 1] += (int8_t)(carry << 4);	/* the top digit keeps it */
	wipe(&nk, sizeof(nk));
	return negate;
}

/* r = row[|digit| - 1], with its y negated for a negative digit; every
 * entry of the row is read, and a digit of 0 gives (0, 0).  digit is in
 * [-8, 8]. */
static void
lookup(aff *r, const aff row[DIGIT_MAX], int digit)
{
	uint64_t neg = mask_of((uint64_t)digit >> 63);	/* digit < 0 */
	uint64_t abs = ((uint64_t)(int64_t)digit ^ neg) - neg;
	fe ny;

	memset(r, 0, sizeof(*r));
	for (int j = 0; j < DIGIT_MAX; j++) {
		/* abs == j + 1 exactly when abs ^ (j + 1) is 0. */
		uint64_t m = mask_of(fe_is_zero(&(fe){ { abs ^ (uint64_t)(j + 1), 0, 0, 0 } }));

		for (int l = 0; l < 4; l++) {
			r->x.v[l] |= row[j].x.v[l] & m;
			r->y.v[l] |= row[j].y.v[l] & m;
		}
	}
	mod_sub(&ny, &(fe){ { 0 } }, &r->y, &P);
	fe_select(&r->y, neg, &ny, &r->y);
}

/*
 * acc += t, t the table point lookup() gave for digit, with the two cases
 * the mixed addition gets wrong that a caller's sums can meet handled by
 * masks: *inf is all ones while acc is the point at infinity (the sum is
 * then t itself), and a digit of 0 adds nothing.  The addition is
 * computed either way.  Every other exceptional case (acc = +-t) the
 * caller must rule out.  sum is scratch.
 */
static void
add_digit(jac *acc, jac *sum, const aff *t, int digit, uint64_t *inf)
{
	uint64_t nonzero;

	point_add_mixed(sum, acc, t);
	fe_select(&sum->x, *inf, &t->x, &sum->x);
	fe_select(&sum->y, *inf, &t->y, &sum->y);
	fe_select(&sum->z, *inf, &P.one, &sum->z);
	nonzero = mask_of(1 ^ fe_is_zero(&(fe){ { (uint64_t)(int64_t)digit, 0, 0, 0 } }));
	fe_select(&acc->x, nonzero, &sum->x, &acc->x);
	fe_select(&acc->y, nonzero, &sum->y, &acc->y);
	fe_select(&acc->z, nonzero, &sum->z, &acc->z);
	*inf &= ~nonzero;
}

/* Scratch of to_affine(), derived from the secret scalar: wiped with it. */
struct affine_tmp {
	fe ny, zinv, zinv2;
};

/* (x, y) = acc, or -acc when negate is all ones, as plain integers mod p;
 * acc is not the point at infinity.  -(X : Y : Z) = (X : -Y : Z). */
static void
to_affine(fe *x, fe *y, jac *acc, uint64_t negate, struct affine_tmp *t)
{
	mod_sub(&t->ny, &(fe){ { 0 } }, &acc->y, &P);
	fe_select(&acc->y, negate, &t->ny, &acc->y);

	mont_inv(&t->zinv, &acc->z, &P);
	mont_sq(&t->zinv2, &t->zinv, &P);
	mont_mul(x, &acc->x, &t->zinv2, &P);
	mont_mul(&t->zinv2, &t->zinv2, &t->zinv, &P);
	mont_mul(y, &acc->y, &t->zinv2, &P);
	from_mont(x, x, &P);
	from_mont(y, y, &P);
}

/* ---- the fixed-base comb ------------------------------------------------ */

/* table[i][j] = (j + 1) 16^i G, affine, Montgomery form. */
static aff table[DIGITS][DIGIT_MAX];
static bool table_ready;

/* Each row from the last one's 16^i G: its multiples 1..8 by doubling
 * once and adding, and 16^(i+1) G by doubling 8 16^i G.  All public. */
static void
build_table(void)
{
	jac row[DIGIT_MAX + 1];
	aff base, next[DIGIT_MAX + 1];

	to_mont(&base.x, &GX, &P);
	to_mont(&base.y, &GY, &P);
	for (int i = 0; i < DIGITS; i++) {
		row[0].x = base.x;
		row[0].y = base.y;
		row[0].z = P.one;
		point_double(&row[1], &row[0]);
		/* j 16^i G + 16^i G, j = 2..7: never equal or opposite. */
		for (int j = 2; j < DIGIT_MAX; j++)
			point_add_mixed(&row[j], &row[j - 1], &base);
		point_double(&row[DIGIT_MAX], &row[DIGIT_MAX - 1]);
		batch_to_affine(next, row, DIGIT_MAX + 1);
		memcpy(table[i], next, sizeof(table[i]));
		base = next[DIGIT_MAX];
	}
	table_ready = true;
}

/* State derived from a secret scalar, in one place to be wiped. */
struct comb {
	fe k;
	int8_t digit[DIGITS];
	jac acc, sum;
	aff t;
	struct affine_tmp tmp;
};

/*
 * (x, y) = k G for 1 <= k < n, as plain integers mod p.
 *
 * With k recoded (recode(): k < 2^255 after the negation), the sum runs
 * from row 0 up.  After rows 0..i-1 the accumulator is a G with
 * |a| <= 8 (16^i - 1) / 15 < 16^i, and row i adds b G with
 * 16^i <= |b| <= 8 16^i <= 2^255.  So |a| < |b| and |a| + |b| < n: a G is
 * never +-b G, the one case the mixed addition gets wrong besides the
 * point at infinity, which the accumulator is exactly while every digit
 * so far was 0.  That case, and a digit of 0, add_digit() handles.
 */
static void
base_mul(fe *x, fe *y, const fe *k_in, struct comb *c)
{
	uint64_t negate, inf = mask_of(1);

	if (!table_ready)
		build_table();

	negate = recode(c->digit, &c->k, k_in);
	memset(&c->acc, 0, sizeof(c->acc));
	for (int i = 0; i < DIGITS; i++) {
		lookup(&c->t, table[i], c->digit[i]);
		add_digit(&c->acc, &c->sum, &c->t, c->digit[i], &inf);
	}

	to_affine(x, y, &c->acc, negate, &c->tmp);
}

/* ---- variable-base multiplication --------------------------------------- */

/*
 * Q from its big-endian coordinates, into Montgomery form, if it is a
 * valid public key: SEC 1 3.2.2.1 steps 2 and 3, both coordinates less
 * than p and y^2 = x^3 - 3x + b.  Step 1, Q not the point at infinity,
 * holds for any pair of coordinates (the point at infinity has none; the
 * pair (0, 0), which some encodings use for it, is not on the curve, as
 * b != 0), and step 4, n Q = O, for any point on the curve, whose order
 * is n: P-256's cofactor is 1.  Q is public: plain branches.  Returns 0
 * or -EDOM.
 */
static int
point_from_bytes(aff *q, const uint8_t x[P256_BYTES], const uint8_t y[P256_BYTES])
{
	fe t, lhs, rhs;

	fe_from_bytes(&q->x, x);
	fe_from_bytes(&q->y, y);
	if (!sub_borrow(&t, &q->x, &P.m) || !sub_borrow(&t, &q->y, &P.m))
		return -EDOM;				/* x >= p or y >= p */
	to_mont(&q->x, &q->x, &P);
	to_mont(&q->y, &q->y, &P);

	mont_sq(&lhs, &q->y, &P);
	mont_sq(&rhs, &q->x, &P);
	mod_sub(&rhs, &rhs, &P.one, &P);
	mod_sub(&rhs, &rhs, &P.one, &P);
	mod_sub(&rhs, &rhs, &P.one, &P);
	mont_mul(&rhs, &rhs, &q->x, &P);		/* x (x^2 - 3) */
	to_mont(&t, &CURVE_B, &P);
	mod_add(&rhs, &rhs, &t, &P);
	if (memcmp(&lhs, &rhs, sizeof(fe)) != 0)	/* both fully reduced */
		return -EDOM;
	return 0;
}

/* tab[j - 1] = j Q for j = 1..8, affine, for Q on the curve (so of order
 * n).  Q is public, and so is all of this.  j Q + Q for j = 2..7 is
 * never an exceptional case (j Q = +-Q needs j = +-1 mod n), and no j Q
 * is the point at infinity, as batch_to_affine() needs. */
static void
var_table(aff tab[DIGIT_MAX], const aff *q)
{
	jac row[DIGIT_MAX];

	row[0].x = q->x;
	row[0].y = q->y;
	row[0].z = P.one;
	point_double(&row[1], &row[0]);
	for (int j = 2; j < DIGIT_MAX; j++)
		point_add_mixed(&row[j], &row[j - 1], q);
	batch_to_affine(tab, row, DIGIT_MAX);
}

/* State of a variable-base multiplication, to be wiped: all of it but the
 * table (multiples of the public Q) derives from the secret scalar. */
struct vmul {
	aff tab[DIGIT_MAX];
	fe k;
	int8_t digit[DIGITS];
	jac acc, sum;
	aff t;
	struct affine_tmp tmp;
	uint64_t at_inf;
};

/*
 * (x, y) = k Q, as plain integers mod p, for Q on the curve
 * (point_from_bytes()); constant time in k.  Returns 0, or -ERANGE when
 * k Q is the point at infinity, which for k in [1, n - 1] cannot happen
 * (Q's order is n), and for k = 0 does.
 *
 * With k recoded (recode(): k < 2^255 after the negation) the digits are
 * taken from the top by Horner's rule: acc = a_{i+1} Q becomes
 * 16 a_{i+1} Q by four doublings, then digit[i] Q is added, leaving
 * a_i Q (a_i as recode() says, 0 <= a_i <= 2^(255-4i)).  The addition is
 * exceptional when 16 a_{i+1} Q = +-digit[i] Q, that is (Q's order being
 * n) when 16 a_{i+1} = +-digit[i] mod n.  16 a_{i+1} is in [0, 2^255] and
 * digit[i] in [-8, 8], so their difference or sum is in
 * [-8, 2^255 + 8], inside (-n, n): they agree mod n only when equal as
 * integers, which takes 16 a_{i+1} <= 8, so a_{i+1} = 0 and digit[i] = 0:
 * the accumulator at infinity (a_{i+1} = 0 exactly when every digit
 * above i is 0, since a nonzero top digit outweighs all the lower ones)
 * and nothing to add, the two cases add_digit() handles.  The doublings
 * are right for any point here (see point_double()).
 */
static int
point_mul(fe *x, fe *y, const fe *k_in, const aff *q, struct vmul *v)
{
	uint64_t negate, inf = mask_of(1);

	var_table(v->tab, q);
	negate = recode(v->digit, &v->k, k_in);
	memset(&v->acc, 0, sizeof(v->acc));
	for (int i = DIGITS - 1; i >= 0; i--) {
		if (i < DIGITS - 1)
			for (int j = 0; j < 4; j++)
				point_double(&v->acc, &v->acc);
		lookup(&v->t, v->tab, v->digit[i]);
		add_digit(&v->acc, &v->sum, &v->t, v->digit[i], &inf);
	}

	/* Whether the result is the point at infinity is the caller's to
	 * know: it is an error. */
	v->at_inf = (inf & 1) | fe_is_zero(&v->acc.z);
	declassify(&v->at_inf, sizeof(v->at_inf));
	if (v->at_inf)
		return -ERANGE;

	/* k was negated: k Q = -((n - k) Q). */
	to_affine(x, y, &v->acc, negate, &v->tmp);
	return 0;
}

/* ---- the public functions ----------------------------------------------- */

bool
limpet_p256_scalar_ok(const uint8_t k[P256_BYTES])
{
	fe a;
	uint64_t ok;

	fe_from_bytes(&a, k);
	ok = in_range(&a, &N);
	wipe(&a, sizeof(a));
	declassify(&ok, sizeof(ok));
	return ok != 0;
}

int
limpet_p256_base_mul(uint8_t x[P256_BYTES], uint8_t y[P256_BYTES],
    const uint8_t k[P256_BYTES])
{
	struct comb c;
	fe kk, rx, ry;
	uint64_t ok;

	fe_from_bytes(&kk, k);
	ok = in_range(&kk, &N);
	declassify(&ok, sizeof(ok));
	if (!ok) {
		wipe(&kk, sizeof(kk));
		return -EINVAL;
	}
	base_mul(&rx, &ry, &kk, &c);
	fe_to_bytes(x, &rx);
	fe_to_bytes(y, &ry);
	wipe(&c, sizeof(c));
	wipe(&kk, sizeof(kk));
	return 0;
}

/* Everything limpet_p256_sign() derives from d and k, to be wiped. */
struct sign_state {
	struct comb c;
	fe d, k, z, x, y, r, s;
	fe km, kinv, rm, dm, zm, t;
};

int
limpet_p256_sign(uint8_t r[P256_BYTES], uint8_t s[P256_BYTES],
    const uint8_t d[P256_BYTES], const uint8_t z[P256_BYTES],
    const uint8_t k[P256_BYTES])
{
	struct sign_state st;
	uint64_t ok, zero;
	int ret = 0;

	fe_from_bytes(&st.d, d);
	fe_from_bytes(&st.k, k);
	fe_from_bytes(&st.z, z);
	/* Whether the key and k are valid is the caller's to know. */
	ok = in_range(&st.d, &N) & in_range(&st.k, &N);
	declassify(&ok, sizeof(ok));
	if (!ok) {
		ret = -EINVAL;
		goto out;
	}

	/* Steps 2-3: r = x(k G) mod n, x < p < 2n. */
	base_mul(&st.x, &st.y, &st.k, &st.c);
	mod_reduce_once(&st.r, &st.x, &N);
	zero = fe_is_zero(&st.r);
	declassify(&zero, sizeof(zero));	/* r is public: it is the output */
	if (zero) {
		ret = -EAGAIN;
		goto out;
	}

	/* Steps 5-6: s = k^-1 (z + r d) mod n, in Montgomery form mod n.
	 * z < 2^256 < 2n. */
	mod_reduce_once(&st.z, &st.z, &N);
	to_mont(&st.km, &st.k, &N);
	mont_inv(&st.kinv, &st.km, &N);
	to_mont(&st.rm, &st.r, &N);
	to_mont(&st.dm, &st.d, &N);
	to_mont(&st.zm, &st.z, &N);
	mont_mul(&st.t, &st.rm, &st.dm, &N);
	mod_add(&st.t, &st.t, &st.zm, &N);
	mont_mul(&st.t, &st.kinv, &st.t, &N);
	from_mont(&st.s, &st.t, &N);
	zero = fe_is_zero(&st.s);
	declassify(&zero, sizeof(zero));	/* so is s */
	if (zero) {
		ret = -EAGAIN;
		goto out;
	}
	fe_to_bytes(r, &st.r);
	fe_to_bytes(s, &st.s);
out:
	wipe(&st, sizeof(st));
	return ret;
}

bool
limpet_p256_point_ok(const uint8_t x[P256_BYTES], const uint8_t y[P256_BYTES])
{
	aff q;

	return point_from_bytes(&q, x, y) == 0;
}

/* Everything limpet_p256_mul() derives from k, to be wiped. */
struct mul_state {
	struct vmul v;
	fe k, x, y;
};

int
limpet_p256_mul(uint8_t x[P256_BYTES], uint8_t y[P256_BYTES],
    const uint8_t k[P256_BYTES], const uint8_t qx[P256_BYTES],
    const uint8_t qy[P256_BYTES])
{
	struct mul_state st;
	uint64_t ok;
	aff q;
	int ret;

	fe_from_bytes(&st.k, k);
	ok = in_range(&st.k, &N);
	declassify(&ok, sizeof(ok));		/* the caller learns it */
	if (!ok) {
		ret = -EINVAL;
		goto out;
	}
	/* The peer's point, checked before any arithmetic with it. */
	ret = point_from_bytes(&q, qx, qy);
	if (ret != 0)
		goto out;
	ret = point_mul(&st.x, &st.y, &st.k, &q, &st.v);
	if (ret != 0)
		goto out;
	fe_to_bytes(x, &st.x);
	if (y != NULL)
		fe_to_bytes(y, &st.y);
out:
	wipe(&st, sizeof(st));
	return ret;
}

int
limpet_p256_ecdh(uint8_t z[P256_BYTES], const uint8_t d[P256_BYTES],
    const uint8_t qx[P256_BYTES], const uint8_t qy[P256_BYTES])
{
	return limpet_p256_mul(z, NULL, d, qx, qy);
}
