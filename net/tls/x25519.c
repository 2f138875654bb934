/*
 * X25519 (RFC 7748): arithmetic in GF(p), p = 2^255 - 19, and the
 * Montgomery ladder over Curve25519's u-coordinate.
 *
 * Why our own: mbedTLS 2.28 computes X25519 with its general bignum code
 * (ecp.c's ecp_mul_mxz() over mbedtls_mpi): variable-length integers on
 * the heap, a multiplication, reduction and bounds check per call, and an
 * inversion by extended GCD.  Under TCG that was about 23 of a full
 * handshake's 38 ms.  Field elements of fixed size, with products and
 * reduction written out for p, do the same work about 15 times faster.
 *
 * Representation: a field element is five 64-bit limbs in radix 2^51,
 * value = v[0] + v[1] 2^51 + v[2] 2^102 + v[3] 2^153 + v[4] 2^204.  Five
 * limbs of 51 bits are exactly 255 bits, so a product's limb at position
 * i + j >= 5 wraps to position i + j - 5 times 2^255 mod p = 19.  The
 * limbs of a product are sums of five 64x64-bit products, which
 * unsigned __int128 holds with room to spare (see fe_mul()).  The target
 * is x86_64, where gcc compiles those products to one MUL each.
 *
 * Limbs are not kept below 2^51 between operations: the bounds each
 * operation takes and gives are written at it, and the ladder only
 * combines them within those bounds.  Only fe_tobytes() makes the
 * canonical value.
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

#include "x25519.h"

typedef unsigned __int128 u128;

/* A field element: see the top of the file. */
typedef struct {
	uint64_t v[5];
} fe;

#define MASK51		((UINT64_C(1) << 51) - 1)

/* (A - 2) / 4 for Curve25519's A = 486662: the constant in the ladder's
 * doubling formula as RFC 7748 5 writes it (z_2 = E * (AA + a24 * E)). */
#define A24		121665

/*
 * 4p, limb by limb: added before a subtraction so that no limb goes below
 * zero.  The subtrahend's limbs must be below 2^53 - 76.  (The ladder
 * only subtracts fresh products, limbs below 2^52, for which 2p would
 * just do; 4p leaves a margin and costs nothing.)
 */
#define FOUR_P0		((UINT64_C(1) << 53) - 76)	/* 4 (2^51 - 19) */
#define FOUR_PI		((UINT64_C(1) << 53) - 4)	/* 4 (2^51 - 1) */

/* Memory the compiler must not drop as a dead store: secrets on the stack
 * are cleared before returning. */
static void
wipe(void *p, size_t n)
{
	volatile uint8_t *b = p;

	while (n--)
		*b++ = 0;
}

static uint64_t
load64_le(const uint8_t *b)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--)
		x = (x << 8) | b[i];
	return x;
}

static void
store64_le(uint8_t *b, uint64_t x)
{
	for (int i = 0; i < 8; i++, x >>= 8)
		b[i] = (uint8_t)x;
}

/*
 * Decode a u-coordinate (RFC 7748 5, decodeUCoordinate): 32 bytes little-
 * endian with bit 255 ignored.  Limb i is bits 51i to 51i + 50, read from
 * the 8 bytes that start at the byte holding bit 51i; the last limb's mask
 * drops bit 255.  A value of p or more is kept as it is: the arithmetic
 * is mod p whatever the representative, which is the reduction RFC 7748
 * asks for.  Limbs < 2^51.
 */
static void
fe_frombytes(fe *r, const uint8_t b[32])
{
	r->v[0] = load64_le(b + 0) & MASK51;		/* bits   0..50  */
	r->v[1] = (load64_le(b + 6) >> 3) & MASK51;	/* bits  51..101 */
	r->v[2] = (load64_le(b + 12) >> 6) & MASK51;	/* bits 102..152 */
	r->v[3] = (load64_le(b + 19) >> 1) & MASK51;	/* bits 153..203 */
	r->v[4] = (load64_le(b + 24) >> 12) & MASK51;	/* bits 204..254 */
}

/*
 * Carry each limb's bits above 51 into the next, and the top limb's into
 * the first times 19 (2^255 = 19 mod p).  Takes limbs < 2^62; gives limbs
 * < 2^51 except the first, which may exceed it by less than 19 * 2^12.
 */
static void
fe_carry(fe *r)
{
	uint64_t c;

	for (int i = 0; i < 4; i++) {
		r->v[i + 1] += r->v[i] >> 51;
		r->v[i] &= MASK51;
	}
	c = r->v[4] >> 51;
	r->v[4] &= MASK51;
	r->v[0] += 19 * c;
}

/*
 * Encode (RFC 7748 5, encodeUCoordinate): the canonical value, less than
 * p, 32 bytes little-endian.  Two carries bring every limb below 2^51 (the
 * second carries at most 1 out of the top limb, and only when the limbs
 * above the first all overflowed, which left the first small), so the
 * value v is below 2^255 < 2p and at most one p comes off: v >= p
 * exactly when v + 19 reaches 2^255, and then v - p is v + 19 without
 * bit 255.  The choice between v and v + 19 - 2^255 is made with a mask.
 */
static void
fe_tobytes(uint8_t b[32], const fe *a)
{
	fe t = *a, s;
	uint64_t c, keep;

	fe_carry(&t);
	fe_carry(&t);
	c = 19;
	for (int i = 0; i < 5; i++) {
		s.v[i] = t.v[i] + c;
		c = s.v[i] >> 51;
		s.v[i] &= MASK51;
	}
	keep = c - 1;		/* all ones when v < p (no bit 255), else 0 */
	for (int i = 0; i < 5; i++)
		t.v[i] = (t.v[i] & keep) | (s.v[i] & ~keep);
	/* 51-bit limbs into 64-bit words: limb i starts at bit 51i. */
	store64_le(b + 0, t.v[0] | t.v[1] << 51);
	store64_le(b + 8, t.v[1] >> 13 | t.v[2] << 38);
	store64_le(b + 16, t.v[2] >> 26 | t.v[3] << 25);
	store64_le(b + 24, t.v[3] >> 39 | t.v[4] << 12);
}

/* r = a + b, limb by limb, no carry: limbs below the two inputs' sum. */
static void
fe_add(fe *r, const fe *a, const fe *b)
{
	for (int i = 0; i < 5; i++)
		r->v[i] = a->v[i] + b->v[i];
}

/* r = a - b + 4p, limb by limb: b's limbs < 2^53 - 76 (see FOUR_P0);
 * limbs below a's + 2^53. */
static void
fe_sub(fe *r, const fe *a, const fe *b)
{
	r->v[0] = a->v[0] + FOUR_P0 - b->v[0];
	for (int i = 1; i < 5; i++)
		r->v[i] = a->v[i] + FOUR_PI - b->v[i];
}

/*
 * The carry after a multiplication: the five 128-bit column sums into
 * limbs.  Each column passes its bits above 51 to the next; the top
 * column's go to the first times 19, which a 128-bit sum takes whatever
 * their size, and one more step moves the first limb's overflow on.
 * Takes columns < 2^120; gives limbs < 2^52.
 */
static void
fe_carry_wide(fe *r, u128 t[5])
{
	u128 x;

	for (int i = 0; i < 4; i++) {
		t[i + 1] += t[i] >> 51;
		r->v[i] = (uint64_t)t[i] & MASK51;
	}
	r->v[4] = (uint64_t)t[4] & MASK51;
	x = (u128)r->v[0] + (t[4] >> 51) * 19;
	r->v[0] = (uint64_t)x & MASK51;
	r->v[1] += (uint64_t)(x >> 51);
}

/*
 * r = a * b mod p.  Schoolbook: column k sums a_i b_j over i + j = k,
 * plus 19 a_i b_j over i + j = k + 5 (the products past 2^255 wrap around
 * times 19).  b's limbs times 19 are made once.  With input limbs < 2^54,
 * 19 b_j < 2^59 and a column is at most 1 + 4 * 19 = 77 products below
 * 2^108, under 2^115.  Any of r, a, b may be the same element.
 */
static void
fe_mul(fe *r, const fe *a, const fe *b)
{
	uint64_t a0 = a->v[0], a1 = a->v[1], a2 = a->v[2], a3 = a->v[3], a4 = a->v[4];
	uint64_t b0 = b->v[0], b1 = b->v[1], b2 = b->v[2], b3 = b->v[3], b4 = b->v[4];
	uint64_t b1_19 = 19 * b1, b2_19 = 19 * b2, b3_19 = 19 * b3, b4_19 = 19 * b4;
	u128 t[5];

	t[0] = (u128)a0 * b0 + (u128)a1 * b4_19 + (u128)a2 * b3_19 +
	    (u128)a3 * b2_19 + (u128)a4 * b1_19;
	t[1] = (u128)a0 * b1 + (u128)a1 * b0 + (u128)a2 * b4_19 +
	    (u128)a3 * b3_19 + (u128)a4 * b2_19;
	t[2] = (u128)a0 * b2 + (u128)a1 * b1 + (u128)a2 * b0 +
	    (u128)a3 * b4_19 + (u128)a4 * b3_19;
	t[3] = (u128)a0 * b3 + (u128)a1 * b2 + (u128)a2 * b1 +
	    (u128)a3 * b0 + (u128)a4 * b4_19;
	t[4] = (u128)a0 * b4 + (u128)a1 * b3 + (u128)a2 * b2 +
	    (u128)a3 * b1 + (u128)a4 * b0;
	fe_carry_wide(r, t);
}

/*
 * r = a^2 mod p: fe_mul() with the equal cross products a_i a_j and
 * a_j a_i taken once and doubled, 15 products instead of 25.  Bounds as
 * fe_mul()'s.
 */
static void
fe_sq(fe *r, const fe *a)
{
	uint64_t a0 = a->v[0], a1 = a->v[1], a2 = a->v[2], a3 = a->v[3], a4 = a->v[4];
	uint64_t d0 = 2 * a0, d1 = 2 * a1, d2 = 2 * a2;
	uint64_t a3_19 = 19 * a3, a4_19 = 19 * a4;
	u128 t[5];

	t[0] = (u128)a0 * a0 + (u128)d1 * a4_19 + (u128)d2 * a3_19;
	t[1] = (u128)d0 * a1 + (u128)d2 * a4_19 + (u128)a3 * a3_19;
	t[2] = (u128)d0 * a2 + (u128)a1 * a1 + (u128)(2 * a3) * a4_19;
	t[3] = (u128)d0 * a3 + (u128)d1 * a2 + (u128)a4 * a4_19;
	t[4] = (u128)d0 * a4 + (u128)d1 * a3 + (u128)a2 * a2;
	fe_carry_wide(r, t);
}

/* r = a^(2^n): n squarings. */
static void
fe_sqn(fe *r, const fe *a, int n)
{
	fe_sq(r, a);
	while (--n > 0)
		fe_sq(r, r);
}

/* r = a * k mod p for a small constant k (< 2^32); input limbs < 2^54. */
static void
fe_mul_small(fe *r, const fe *a, uint32_t k)
{
	u128 t[5];

	for (int i = 0; i < 5; i++)
		t[i] = (u128)a->v[i] * k;
	fe_carry_wide(r, t);
}

/*
 * r = 1/z = z^(p-2) mod p (Fermat), and 0 for z = 0.  p - 2 = 2^255 - 21
 * in binary is 250 ones followed by 01011, so the exponent is built up as
 * runs of ones, z^(2^k - 1), each from shorter runs by
 * z^(2^(j+k) - 1) = (z^(2^k - 1))^(2^j) * z^(2^j - 1),
 * up to z^(2^250 - 1), then shifted left by five squarings and multiplied
 * by z^11 (01011): 254 squarings and 11 multiplications, the same for
 * every z.
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

		fe_add(&s.a, &s.x2, &s.z2);		/* A = x2 + z2 */
		fe_sq(&s.aa, &s.a);			/* AA = A^2 */
		fe_sub(&s.b, &s.x2, &s.z2);		/* B = x2 - z2 */
		fe_sq(&s.bb, &s.b);			/* BB = B^2 */
		fe_sub(&s.e, &s.aa, &s.bb);		/* E = AA - BB */
		fe_add(&s.c, &s.x3, &s.z3);		/* C = x3 + z3 */
		fe_sub(&s.d, &s.x3, &s.z3);		/* D = x3 - z3 */
		fe_mul(&s.da, &s.d, &s.a);		/* DA = D * A */
		fe_mul(&s.cb, &s.c, &s.b);		/* CB = C * B */
		fe_add(&s.x3, &s.da, &s.cb);
		fe_sq(&s.x3, &s.x3);			/* x3 = (DA + CB)^2 */
		fe_sub(&s.z3, &s.da, &s.cb);
		fe_sq(&s.z3, &s.z3);
		fe_mul(&s.z3, &s.z3, &s.x1);		/* z3 = x1 * (DA - CB)^2 */
		fe_mul(&s.x2, &s.aa, &s.bb);		/* x2 = AA * BB */
		fe_mul_small(&s.z2, &s.e, A24);
		fe_add(&s.z2, &s.z2, &s.aa);
		fe_mul(&s.z2, &s.z2, &s.e);		/* z2 = E * (AA + a24 * E) */
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
	return any ? 0 : -EINVAL;
}

int
limpet_x25519_base(uint8_t out[X25519_BYTES], const uint8_t scalar[X25519_BYTES])
{
	static const uint8_t nine[X25519_BYTES] = { 9 };

	return limpet_x25519(out, scalar, nine);
}
