/*
 * X25519 (RFC 7748): arithmetic in GF(p), p = 2^255 - 19, and the
 * Montgomery ladder over Curve25519's u-coordinate.
 *
 * Why our own: mbedTLS 2.28 computes X25519 with its general bignum code
 * (ecp.c's ecp_mul_mxz() over mbedtls_mpi): variable-length integers on
 * the heap, a multiplication, reduction and bounds check per call, and an
 * inversion by extended GCD.  Under TCG that was about 23 of a full
 * handshake's 38 ms.  Field elements of fixed size do the same work about
 * 15 times faster.
 *
 * The field arithmetic is fiat-crypto's (curve25519_64.h: generated from
 * a proof in Coq that it computes these functions mod p, with no branch or
 * memory access that depends on the values; setup.sh takes it from
 * BoringSSL's Debian source package into deps/fiat/, never into this
 * repository).  Ours are the ladder, the inversion chain and the swap,
 * written as RFC 7748 5 gives them, and tested against its vectors
 * (tests/unit/test_x25519.c), mbedTLS's own ladder (tests/test_tls.py)
 * and for constant time on every build (tests/test_ecc_ct.py).
 *
 * Representation: a field element is five 64-bit limbs in radix 2^51,
 * value = v[0] + v[1] 2^51 + v[2] 2^102 + v[3] 2^153 + v[4] 2^204.
 * fiat-crypto proves each operation for limbs within bounds and gives
 * results within bounds: "tight" limbs are below 2^51 (more or less: see
 * curve25519_64.h), "loose" ones below 3 2^51.  Multiplications and
 * squarings take loose ones and give tight ones, additions and
 * subtractions take tight ones and give loose ones; every step of the
 * ladder below goes from one to the other, as its comments say.
 *
 * Constant time: nothing branches on, or indexes memory by, a secret (the
 * scalar, or any value derived from it).  The ladder swaps its two points
 * with a mask, every iteration does the same operations, and the
 * inversion is a fixed chain of squarings and multiplications (Fermat:
 * z^(p-2) = 1/z), not a GCD whose steps depend on z.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ct.h"
#include "curve25519_64.h"	/* deps/fiat: fiat-crypto's arithmetic mod p */
#include "x25519.h"

/* A field element: see the top of the file.  Tight or loose limbs, as the
 * code says where it makes one. */
typedef struct {
	uint64_t v[5];
} fe;

/* Memory the compiler must not drop as a dead store: secrets on the stack
 * are cleared before returning. */
static void
wipe(void *p, size_t n)
{
	volatile uint8_t *b = p;

	while (n--)
		*b++ = 0;
}

/*
 * Decode a u-coordinate (RFC 7748 5, decodeUCoordinate): 32 bytes little-
 * endian with bit 255 ignored.  A value of p or more is kept as it is:
 * the arithmetic is mod p whatever the representative, which is the
 * reduction RFC 7748 asks for.  Tight.
 */
static void
fe_frombytes(fe *r, const uint8_t b[32])
{
	uint8_t t[32];

	memcpy(t, b, sizeof(t));
	t[31] &= 127;
	fiat_25519_from_bytes(r->v, t);
}

/* Encode (RFC 7748 5, encodeUCoordinate): the canonical value, less than
 * p, 32 bytes little-endian.  a tight. */
static void
fe_tobytes(uint8_t b[32], const fe *a)
{
	fiat_25519_to_bytes(b, a->v);
}

/* r = a + b and r = a - b: a, b tight; r loose. */
static void
fe_add(fe *r, const fe *a, const fe *b)
{
	fiat_25519_add(r->v, a->v, b->v);
}

static void
fe_sub(fe *r, const fe *a, const fe *b)
{
	fiat_25519_sub(r->v, a->v, b->v);
}

/* r = a b, r = a^2 and r = 121666 a mod p: a, b loose (a tight one is
 * loose too); r tight.  Any of r, a, b may be the same element. */
static void
fe_mul(fe *r, const fe *a, const fe *b)
{
	fiat_25519_carry_mul(r->v, a->v, b->v);
}

static void
fe_sq(fe *r, const fe *a)
{
	fiat_25519_carry_square(r->v, a->v);
}

static void
fe_mul_121666(fe *r, const fe *a)
{
	fiat_25519_carry_scmul_121666(r->v, a->v);
}

/* r = a^(2^n): n squarings. */
static void
fe_sqn(fe *r, const fe *a, int n)
{
	fe_sq(r, a);
	while (--n > 0)
		fe_sq(r, r);
}

/*
 * r = 1/z = z^(p-2) mod p (Fermat), and 0 for z = 0.  p - 2 = 2^255 - 21
 * in binary is 250 ones followed by 01011, so the exponent is built up as
 * runs of ones, z^(2^k - 1), each from shorter runs by
 * z^(2^(j+k) - 1) = (z^(2^k - 1))^(2^j) * z^(2^j - 1),
 * up to z^(2^250 - 1), then shifted left by five squarings and multiplied
 * by z^11 (01011): 254 squarings and 11 multiplications, the same for
 * every z.  Tight in, tight out.
 */
static void
fe_invert(fe *r, const fe *z)
{
	fe z2, z9, z11, r5, r10, r20, r50, r100, t;

	fe_sq(&z2, z);			/* z^2 */
	fe_sqn(&t, &z2, 2);		/* z^8 */
	fe_mul(&z9, &t, z);		/* z^9 */
	fe_mul(&z11, &z9, &z2);		/* z^11 */
	fe_sq(&t, &z11);		/* z^22 */
	fe_mul(&r5, &t, &z9);		/* z^31 = z^(2^5 - 1) */
	fe_sqn(&t, &r5, 5);
	fe_mul(&r10, &t, &r5);		/* z^(2^10 - 1) */
	fe_sqn(&t, &r10, 10);
	fe_mul(&r20, &t, &r10);		/* z^(2^20 - 1) */
	fe_sqn(&t, &r20, 20);
	fe_mul(&t, &t, &r20);		/* z^(2^40 - 1) */
	fe_sqn(&t, &t, 10);
	fe_mul(&r50, &t, &r10);		/* z^(2^50 - 1) */
	fe_sqn(&t, &r50, 50);
	fe_mul(&r100, &t, &r50);	/* z^(2^100 - 1) */
	fe_sqn(&t, &r100, 100);
	fe_mul(&t, &t, &r100);		/* z^(2^200 - 1) */
	fe_sqn(&t, &t, 50);
	fe_mul(&t, &t, &r50);		/* z^(2^250 - 1) */
	fe_sqn(&t, &t, 5);		/* z^(2^255 - 32) */
	fe_mul(r, &t, &z11);		/* z^(2^255 - 21) = z^(p-2) */
}

/* Swap a and b when bit is 1, leave them when it is 0, with the same
 * instructions and memory accesses either way (RFC 7748 5, cswap). */
static void
fe_cswap(fe *a, fe *b, uint64_t bit)
{
	uint64_t mask = 0 - bit, x;

	for (int i = 0; i < 5; i++) {
		x = mask & (a->v[i] ^ b->v[i]);
		a->v[i] ^= x;
		b->v[i] ^= x;
	}
}

/* The ladder's state and temporaries, in one place so that they can be
 * wiped together: they are all derived from the scalar. */
struct ladder {
	uint8_t k[32];
	fe x1, x2, z2, x3, z3;
	fe a, aa, b, bb, e, c, d, da, cb;
};

/*
 * RFC 7748 5: the Montgomery ladder, as the RFC writes it.  (x2 : z2) is
 * k' P and (x3 : z3) is (k' + 1) P for the scalar's bits k' read so far,
 * in projective x-only coordinates; each step doubles one and adds the
 * two (differential addition, with P's u-coordinate x1 as the
 * difference).  Which one is doubled follows the scalar's bit, done by
 * swapping the pair in and out with fe_cswap(); consecutive swaps are
 * merged, so the pair is swapped by the XOR of two neighbouring bits.
 * The result is x2 / z2; a z2 of 0 (the point at infinity, reached from
 * small-order points) gives 0.
 */
int
limpet_x25519(uint8_t out[X25519_BYTES], const uint8_t scalar[X25519_BYTES],
    const uint8_t u[X25519_BYTES])
{
	struct ladder s;
	uint64_t swap = 0, bit;
	uint8_t any = 0;

	/* decodeScalar25519: a multiple of the cofactor 8, bit 254 set. */
	memcpy(s.k, scalar, sizeof(s.k));
	s.k[0] &= 248;
	s.k[31] &= 127;
	s.k[31] |= 64;

	fe_frombytes(&s.x1, u);
	memset(&s.x2, 0, sizeof(s.x2));
	s.x2.v[0] = 1;				/* (x2 : z2) = (1 : 0), infinity */
	memset(&s.z2, 0, sizeof(s.z2));
	s.x3 = s.x1;				/* (x3 : z3) = (u : 1), P */
	memset(&s.z3, 0, sizeof(s.z3));
	s.z3.v[0] = 1;

	/* The loop index t is public; only the bit read at it is secret. */
	for (int t = 254; t >= 0; t--) {
		bit = (s.k[t >> 3] >> (t & 7)) & 1;
		swap ^= bit;
		fe_cswap(&s.x2, &s.x3, swap);
		fe_cswap(&s.z2, &s.z3, swap);
		swap = bit;

		/* x2, z2, x3, z3 and x1 are tight; see the top of the file. */
		fe_add(&s.a, &s.x2, &s.z2);		/* A = x2 + z2, loose */
		fe_sq(&s.aa, &s.a);			/* AA = A^2, tight */
		fe_sub(&s.b, &s.x2, &s.z2);		/* B = x2 - z2, loose */
		fe_sq(&s.bb, &s.b);			/* BB = B^2, tight */
		fe_sub(&s.e, &s.aa, &s.bb);		/* E = AA - BB, loose */
		fe_add(&s.c, &s.x3, &s.z3);		/* C = x3 + z3, loose */
		fe_sub(&s.d, &s.x3, &s.z3);		/* D = x3 - z3, loose */
		fe_mul(&s.da, &s.d, &s.a);		/* DA = D * A, tight */
		fe_mul(&s.cb, &s.c, &s.b);		/* CB = C * B, tight */
		fe_add(&s.x3, &s.da, &s.cb);
		fe_sq(&s.x3, &s.x3);			/* x3 = (DA + CB)^2 */
		fe_sub(&s.z3, &s.da, &s.cb);
		fe_sq(&s.z3, &s.z3);
		fe_mul(&s.z3, &s.z3, &s.x1);		/* z3 = x1 * (DA - CB)^2 */
		fe_mul(&s.x2, &s.aa, &s.bb);		/* x2 = AA * BB */
		/* z2 = E * (AA + a24 * E), a24 = 121665, as RFC 7748 writes
		 * it; AA = BB + E makes it E * (BB + 121666 E), the constant
		 * fiat-crypto has. */
		fe_mul_121666(&s.z2, &s.e);		/* tight */
		fe_add(&s.z2, &s.z2, &s.bb);		/* loose */
		fe_mul(&s.z2, &s.z2, &s.e);
	}
	fe_cswap(&s.x2, &s.x3, swap);
	fe_cswap(&s.z2, &s.z3, swap);

	fe_invert(&s.z2, &s.z2);
	fe_mul(&s.x2, &s.x2, &s.z2);
	fe_tobytes(out, &s.x2);
	wipe(&s, sizeof(s));

	/* RFC 7748 6.1: the all-zero value is what small-order points give.
	 * Which it is, is no secret: the peer chose the point. */
	for (int i = 0; i < X25519_BYTES; i++)
		any |= out[i];
	limpet_ct_declassify(&any, sizeof(any));
	return any ? 0 : -EINVAL;
}

int
limpet_x25519_base(uint8_t out[X25519_BYTES], const uint8_t scalar[X25519_BYTES])
{
	static const uint8_t nine[X25519_BYTES] = { 9 };

	return limpet_x25519(out, scalar, nine);
}
