/*
 * X25519 (RFC 7748): arithmetic in GF(p), p = 2^255 - 19, and the
 * Montgomery ladder over Curve25519's u-coordinate.
 *
 * Why our own: mbedTLS (2.28, and 3.6 still) computes X25519 with its
 * general bignum code (ecp.c's ecp_mul_mxz() over mbedtls_mpi):
 * variable-length integers on the heap, a multiplication, reduction and
 * bounds check per call, and an inversion by extended GCD.  Under TCG
 * that was about 23 of a full handshake's 38 ms.  Field elements of fixed
 * size do the same work about 15 times faster.
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

/* decodeScalar25519 (RFC 7748 5): a multiple of the cofactor 8, bit 254
 * set, bit 255 clear. */
static void
decode_scalar(uint8_t k[32], const uint8_t scalar[32])
{
	memcpy(k, scalar, 32);
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
}

/* 0, or -EINVAL for the all-zero value (RFC 7748 6.1), which is what
 * small-order points give.  Which it is, is no secret: a peer chose the
 * point (and a base-point multiple is never 0). */
static int
nonzero(const uint8_t out[X25519_BYTES])
{
	uint8_t any = 0;

	for (int i = 0; i < X25519_BYTES; i++)
		any |= out[i];
	limpet_ct_declassify(&any, sizeof(any));
	return any ? 0 : -EINVAL;
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

	decode_scalar(s.k, scalar);

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
	return nonzero(out);
}

/*
 * ---- Multiples of the base point ------------------------------------------
 *
 * X25519(k, 9), every ECDHE key pair's public key, by a fixed-base
 * method instead of the ladder: on the twisted Edwards curve
 * -x^2 + y^2 = 1 + d x^2 y^2 (edwards25519, RFC 7748 4.1), which Curve25519
 * maps to by u = (1 + y) / (1 - y), with a table of small multiples of the
 * base point built once.  The scalar is written in 64 signed digits of 4
 * bits, k = sum e_i 16^i with -8 <= e_i <= 8, and
 *	k B = 16 (sum over odd i of e_i 16^(i-1) B) + (sum over even i of e_i 16^i B),
 * where each term is one of the table's entries j 16^(2m) B (j = 1..8,
 * m = 0..31), negated for a negative digit: 64 additions and 4 doublings,
 * about a third of the ladder's work.  The addition and doubling formulas
 * are Hisil, Wong, Carter and Dawson's for extended coordinates with
 * a = -1 ("Twisted Edwards Curves Revisited", 2008, sections 3.1 and
 * 3.3), complete for this curve (d is not a square): no case for the
 * identity or for adding a point to itself.
 *
 * Constant time: the digits are computed without branches, every
 * addition reads all 8 entries of its table row and keeps the one it needs
 * with masks, and a negative digit negates the entry with a mask too; the
 * row (m) is the loop's index, not a secret.  tests/unit/test_x25519.c
 * checks this against the ladder, RFC 7748's vectors and OpenSSL's
 * values; tests/test_ecc_ct.py checks it for constant time.
 */

/* Extended coordinates: x = X/Z, y = Y/Z, x y = T/Z.  Tight. */
struct ge {
	fe X, Y, Z, T;
};

/* A table entry, affine: y + x, y - x, 2 d x y.  Tight. */
struct ge_niels {
	fe ypx, ymx, xy2d;
};

/* 2d, and the base point B = (x, 4/5) with x even (RFC 7748 4.1). */
static const fe ed_2d = {{ 0x69b9426b2f159ULL, 0x35050762add7aULL, 0x3cf44c0038052ULL,
    0x6738cc7407977ULL, 0x2406d9dc56dffULL }};
static const fe ed_bx = {{ 0x62d608f25d51aULL, 0x412a4b4f6592aULL, 0x75b7171a4b31dULL,
    0x1ff60527118feULL, 0x216936d3cd6e5ULL }};
static const fe ed_by = {{ 0x6666666666658ULL, 0x4ccccccccccccULL, 0x1999999999999ULL,
    0x3333333333333ULL, 0x6666666666666ULL }};

/* base_table[m][j - 1] = j 16^(2m) B. */
static struct ge_niels base_table[32][8];
static int base_table_ready;

/* r = a, carried to tight limbs (a loose). */
static void
fe_carry(fe *r, const fe *a)
{
	fiat_25519_carry(r->v, a->v);
}

/* r = a when mask is all ones, unchanged when it is 0. */
static void
fe_cmov(fe *r, const fe *a, uint64_t mask)
{
	for (int i = 0; i < 5; i++)
		r->v[i] ^= mask & (r->v[i] ^ a->v[i]);
}

static void
ge_identity(struct ge *r)
{
	memset(r, 0, sizeof(*r));
	r->Y.v[0] = 1;
	r->Z.v[0] = 1;
}

/* The sum's last step, shared by the additions: from E, F, G, H (loose)
 * to X3 = E F, Y3 = G H, T3 = E H, Z3 = F G. */
static void
ge_finish(struct ge *r, const fe *e, const fe *f, const fe *g, const fe *h)
{
	fe_mul(&r->X, e, f);
	fe_mul(&r->Y, g, h);
	fe_mul(&r->T, e, h);
	fe_mul(&r->Z, f, g);
}

/* r = p + q (HWCD 3.1, "add-2008-hwcd-3"; r may be p or q). */
static void
ge_add(struct ge *r, const struct ge *p, const struct ge *q)
{
	fe a, b, c, d, e, f, g, h, t;

	fe_sub(&t, &p->Y, &p->X);
	fe_sub(&a, &q->Y, &q->X);
	fe_mul(&a, &t, &a);			/* A = (Y1 - X1)(Y2 - X2) */
	fe_add(&t, &p->Y, &p->X);
	fe_add(&b, &q->Y, &q->X);
	fe_mul(&b, &t, &b);			/* B = (Y1 + X1)(Y2 + X2) */
	fe_mul(&c, &p->T, &q->T);
	fe_mul(&c, &c, &ed_2d);			/* C = 2d T1 T2 */
	fe_mul(&t, &p->Z, &q->Z);
	fe_add(&d, &t, &t);
	fe_carry(&d, &d);			/* D = 2 Z1 Z2 */
	fe_sub(&e, &b, &a);
	fe_sub(&f, &d, &c);
	fe_add(&g, &d, &c);
	fe_add(&h, &b, &a);
	ge_finish(r, &e, &f, &g, &h);
}

/* r = p + q for a table entry q (its Z is 1; r may be p). */
static void
ge_madd(struct ge *r, const struct ge *p, const struct ge_niels *q)
{
	fe a, b, c, d, e, f, g, h, t;

	fe_sub(&t, &p->Y, &p->X);
	fe_mul(&a, &t, &q->ymx);		/* A = (Y1 - X1)(y2 - x2) */
	fe_add(&t, &p->Y, &p->X);
	fe_mul(&b, &t, &q->ypx);		/* B = (Y1 + X1)(y2 + x2) */
	fe_mul(&c, &p->T, &q->xy2d);		/* C = T1 2d x2 y2 */
	fe_add(&d, &p->Z, &p->Z);
	fe_carry(&d, &d);			/* D = 2 Z1 */
	fe_sub(&e, &b, &a);
	fe_sub(&f, &d, &c);
	fe_add(&g, &d, &c);
	fe_add(&h, &b, &a);
	ge_finish(r, &e, &f, &g, &h);
}

/* r = 2 p (HWCD 3.3, "dbl-2008-hwcd" with a = -1; r may be p). */
static void
ge_dbl(struct ge *r, const struct ge *p)
{
	fe a, b, c, e, f, g, h, t;

	fe_sq(&a, &p->X);			/* A = X1^2 */
	fe_sq(&b, &p->Y);			/* B = Y1^2 */
	fe_sq(&t, &p->Z);
	fe_add(&c, &t, &t);
	fe_carry(&c, &c);			/* C = 2 Z1^2 */
	fe_add(&t, &p->X, &p->Y);
	fe_sq(&e, &t);				/* (X1 + Y1)^2 */
	fe_add(&t, &a, &b);
	fe_carry(&t, &t);			/* A + B */
	fe_sub(&e, &e, &t);			/* E = (X1 + Y1)^2 - A - B */
	fe_sub(&g, &b, &a);			/* G = -A + B */
	fe_carry(&g, &g);
	fe_sub(&f, &g, &c);			/* F = G - C */
	fiat_25519_opp(h.v, t.v);		/* H = -A - B */
	ge_finish(r, &e, &f, &g, &h);
}

/* p as a table entry: affine, y + x, y - x, 2 d x y.  Public values
 * only (multiples of B): the inversion's time does not matter. */
static void
ge_to_niels(struct ge_niels *r, const struct ge *p)
{
	fe zinv, x, y, t;

	fe_invert(&zinv, &p->Z);
	fe_mul(&x, &p->X, &zinv);
	fe_mul(&y, &p->Y, &zinv);
	fe_add(&t, &y, &x);
	fe_carry(&r->ypx, &t);
	fe_sub(&t, &y, &x);
	fe_carry(&r->ymx, &t);
	fe_mul(&t, &x, &y);
	fe_mul(&r->xy2d, &t, &ed_2d);
}

/* The table, once: 256 entries, each from the one before by an addition,
 * each row's base from the last by 8 doublings (16^2 = 2^8). */
static void
build_base_table(void)
{
	struct ge row, acc;

	row.X = ed_bx;
	row.Y = ed_by;
	memset(&row.Z, 0, sizeof(row.Z));
	row.Z.v[0] = 1;
	fe_mul(&row.T, &ed_bx, &ed_by);
	for (int m = 0; m < 32; m++) {
		acc = row;
		for (int j = 0; j < 8; j++) {
			if (j > 0)
				ge_add(&acc, &acc, &row);
			ge_to_niels(&base_table[m][j], &acc);
		}
		for (int i = 0; i < 8; i++)
			ge_dbl(&row, &row);
	}
	base_table_ready = 1;
}

/* t = digit e (-8..8) times row m's point: every entry read, the one with
 * |e| kept, then negated (y + x and y - x swapped, 2dxy negated) for
 * e < 0; the identity (1, 1, 0) for e = 0. */
static void
select_entry(struct ge_niels *t, int m, int8_t e)
{
	int64_t ee = e;
	uint64_t neg = (uint64_t)ee >> 63;
	uint64_t babs = (uint64_t)(ee - 2 * (ee & -(int64_t)neg));	/* |e| */
	fe minus;

	memset(t, 0, sizeof(*t));
	t->ypx.v[0] = 1;
	t->ymx.v[0] = 1;
	for (uint64_t j = 1; j <= 8; j++) {
		uint64_t mask = 0 - (((babs ^ j) - 1) >> 63);

		fe_cmov(&t->ypx, &base_table[m][j - 1].ypx, mask);
		fe_cmov(&t->ymx, &base_table[m][j - 1].ymx, mask);
		fe_cmov(&t->xy2d, &base_table[m][j - 1].xy2d, mask);
	}
	fe_cswap(&t->ypx, &t->ymx, neg & 1);
	fiat_25519_opp(minus.v, t->xy2d.v);
	fe_carry(&minus, &minus);
	fe_cmov(&t->xy2d, &minus, 0 - (neg & 1));
}

/* The fixed-base multiplication's state, all derived from the scalar. */
struct fixed_base {
	uint8_t k[32];
	int8_t e[64];
	struct ge p;
	struct ge_niels t;
	fe num, den;
};

int
limpet_x25519_base(uint8_t out[X25519_BYTES], const uint8_t scalar[X25519_BYTES])
{
	struct fixed_base s;
	int8_t carry = 0;

	if (!base_table_ready)
		build_base_table();
	decode_scalar(s.k, scalar);
	/* Signed digits: each 4-bit digit 8..15 becomes digit - 16 with a
	 * carry into the next.  The last takes the carry: k < 2^255, so it
	 * stays at most 8. */
	for (int i = 0; i < 32; i++) {
		s.e[2 * i] = (int8_t)(s.k[i] & 15);
		s.e[2 * i + 1] = (int8_t)(s.k[i] >> 4);
	}
	for (int i = 0; i < 63; i++) {
		s.e[i] = (int8_t)(s.e[i] + carry);
		carry = (int8_t)((s.e[i] + 8) >> 4);
		s.e[i] = (int8_t)(s.e[i] - carry * 16);
	}
	s.e[63] = (int8_t)(s.e[63] + carry);

	ge_identity(&s.p);
	for (int i = 1; i < 64; i += 2) {
		select_entry(&s.t, i / 2, s.e[i]);
		ge_madd(&s.p, &s.p, &s.t);
	}
	for (int i = 0; i < 4; i++)
		ge_dbl(&s.p, &s.p);
	for (int i = 0; i < 64; i += 2) {
		select_entry(&s.t, i / 2, s.e[i]);
		ge_madd(&s.p, &s.p, &s.t);
	}

	/* u = (1 + y) / (1 - y) = (Z + Y) / (Z - Y). */
	fe_add(&s.num, &s.p.Z, &s.p.Y);
	fe_carry(&s.num, &s.num);
	fe_sub(&s.den, &s.p.Z, &s.p.Y);
	fe_carry(&s.den, &s.den);
	fe_invert(&s.den, &s.den);
	fe_mul(&s.num, &s.num, &s.den);
	fe_tobytes(out, &s.num);
	wipe(&s, sizeof(s));
	return nonzero(out);
}
