// unit-sources: net/tls/ct.c
// unit-include: deps/fiat
/*
 * Host unit tests for P-256 (net/tls/p256.c), which this file #includes
 * rather than names above, to reach its static field operations.
 *
 *   - the constants: the derived ones (R mod m, R^2 mod m, -m^-1, m - 2,
 *     (n - 1) / 2) from p and n, and G on the curve;
 *   - field and scalar arithmetic against values computed independently
 *     (Python's integers);
 *   - k G against known multiples: G, 2G, 3G, -G, -2G, RFC 6979 A.2.5's
 *     public key, and scalars at the comb's edges (around (n - 1) / 2,
 *     where it negates, and with every nibble 8, where every digit
 *     carries);
 *   - ECDSA: RFC 6979 A.2.5's two SHA-256 signatures, made from its k,
 *     exactly; the -EINVAL and -EAGAIN cases; a hash of n or more; and
 *     random signatures checked with a textbook verification (affine
 *     double-and-add, independent of the comb and Jacobian formulas);
 *   - k Q (ECDH): against the comb for Q = G, d (k G) = (d k) G, Q, -Q
 *     and 2Q for k = 1, n - 1 and 2, against the textbook double-and-add
 *     for random k and Q, a (b G) = b (a G), and the public-key checks:
 *     points off the curve, coordinates of p or more (a valid point's x
 *     plus p among them), (0, 0), scalars out of range, and the point at
 *     infinity as a result.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../net/tls/p256.c"

/* 64 hex digits into 32 bytes, most significant first. */
static void
unhex(uint8_t out[32], const char *hex)
{
	assert_int_equal(strlen(hex), 64);
	for (int i = 0; i < 32; i++) {
		unsigned int b;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

static fe
fe_hex(const char *hex)
{
	uint8_t b[32];
	fe a;

	unhex(b, hex);
	fe_from_bytes(&a, b);
	return a;
}

static void
assert_fe_equal(const fe *a, const fe *b)
{
	assert_memory_equal(a->v, b->v, sizeof(a->v));
}

static void
assert_fe_hex(const fe *a, const char *hex)
{
	fe want = fe_hex(hex);

	assert_fe_equal(a, &want);
}

static const fe ZERO = { { 0 } };
static const fe ONE = { { 1, 0, 0, 0 } };

#define HEX_P	"ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"
#define HEX_N	"ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
#define HEX_GX	"6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
#define HEX_GY	"4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
#define HEX_B	"5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b"

/* splitmix64: reproducible test data. */
static uint64_t rng_state = 0x0123456789abcdef;

static void
random_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t z = (rng_state += 0x9e3779b97f4a7c15);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
		b[i] = (uint8_t)(z ^ (z >> 31));
	}
}

/* ---- constants ---------------------------------------------------------- */

static void
check_modulus(const struct modulus *m, const char *hex)
{
	fe t, two = { { 2, 0, 0, 0 } };

	assert_fe_hex(&m->m, hex);
	/* R mod m = 2^256 - m, m being above 2^255. */
	assert_true(m->m.v[3] >> 63);
	sub_borrow(&t, &ZERO, &m->m);
	assert_fe_equal(&m->one, &t);
	/* m_0 (-m^-1) = -1 mod 2^64. */
	assert_true(m->m.v[0] * m->minv + 1 == 0);
	/* R^2 / R = R. */
	from_mont(&t, &m->r2, m);
	assert_fe_equal(&t, &m->one);
	/* m - 2. */
	sub_borrow(&t, &m->m, &two);
	assert_fe_equal(&m->m_minus_2, &t);
}

static void
test_constants(void **state)
{
	fe t, x3, rhs, gx, gy, b, three;

	(void)state;
	check_modulus(&P, HEX_P);
	check_modulus(&N, HEX_N);
	/* p = 2^256 - 2^224 + 2^192 + 2^96 - 1, limb by limb. */
	assert_true(P.m.v[0] == UINT64_MAX && P.m.v[1] == 0xffffffff && P.m.v[2] == 0 &&
	    P.m.v[3] == 0xffffffff00000001);
	/* 2 (n - 1) / 2 + 1 = n. */
	mod_add(&t, &HALF_N, &HALF_N, &N);
	mod_add(&t, &t, &ONE, &N);
	assert_fe_equal(&t, &ZERO);
	assert_fe_hex(&GX, HEX_GX);
	assert_fe_hex(&GY, HEX_GY);
	assert_fe_hex(&CURVE_B, HEX_B);

	/* G is on y^2 = x^3 - 3x + b. */
	to_mont(&gx, &GX, &P);
	to_mont(&gy, &GY, &P);
	to_mont(&b, &CURVE_B, &P);
	to_mont(&three, &(fe){ { 3, 0, 0, 0 } }, &P);
	mont_sq(&x3, &gx, &P);
	mont_mul(&x3, &x3, &gx, &P);
	mont_mul(&t, &three, &gx, &P);
	mod_sub(&rhs, &x3, &t, &P);
	mod_add(&rhs, &rhs, &b, &P);
	mont_sq(&t, &gy, &P);
	assert_fe_equal(&t, &rhs);
}

/* ---- field and scalar arithmetic ---------------------------------------- */

/* a b mod m through Montgomery form, as plain integers. */
static fe
mul_plain(const fe *a, const fe *b, const struct modulus *m)
{
	fe am, bm, r;

	to_mont(&am, a, m);
	to_mont(&bm, b, m);
	mont_mul(&r, &am, &bm, m);
	from_mont(&r, &r, m);
	return r;
}

static fe
inv_plain(const fe *a, const struct modulus *m)
{
	fe am, r;

	to_mont(&am, a, m);
	mont_inv(&r, &am, m);
	from_mont(&r, &r, m);
	return r;
}

static void
test_field_p(void **state)
{
	fe pm1, r, two = { { 2, 0, 0, 0 } };

	(void)state;
	/* Values from Python's integers. */
	r = mul_plain(&GX, &GY, &P);
	assert_fe_hex(&r, "823cd15f6dd3c71933565064513a6b2bd183e554c6a08622f713ebbbface98be");
	r = inv_plain(&GX, &P);
	assert_fe_hex(&r, "e060cbb088706d5d24936933b69b16ab707d656273744b65664c49e577f35238");
	mod_sub(&r, &GX, &GY, &P);
	assert_fe_hex(&r, "1b348f0fe311c2ac69d4fb9ae794a2dc4b354a29c2b9d4d228eaf8dda0d970a1");
	mod_sub(&r, &GY, &GX, &P);
	assert_fe_hex(&r, "e4cb70ef1cee3d54962b0465186b5d23b4cab5d73d462b2dd71507225f268f5e");

	/* The edges: (p-1)^2 = 1, (p-1) + (p-1) = p - 2 (the sum carries out
	 * of 256 bits), (p-1) + 1 = 0, 0 - 1 = p - 1, 1/2 = (p + 1) / 2,
	 * 1/0 = 0, 1/1 = 1. */
	sub_borrow(&pm1, &P.m, &ONE);
	r = mul_plain(&pm1, &pm1, &P);
	assert_fe_equal(&r, &ONE);
	mod_add(&r, &pm1, &pm1, &P);
	assert_fe_equal(&r, &P.m_minus_2);
	mod_add(&r, &pm1, &ONE, &P);
	assert_fe_equal(&r, &ZERO);
	mod_sub(&r, &ZERO, &ONE, &P);
	assert_fe_equal(&r, &pm1);
	r = inv_plain(&two, &P);
	assert_fe_hex(&r, "7fffffff80000000800000000000000000000000800000000000000000000000");
	r = inv_plain(&ZERO, &P);
	assert_fe_equal(&r, &ZERO);
	r = inv_plain(&ONE, &P);
	assert_fe_equal(&r, &ONE);
	/* a (1/a) = 1 for a few a. */
	for (uint64_t i = 1; i < 200; i += 17) {
		fe a = { { i * 0x9e3779b97f4a7c15, i, ~i, i << 40 } }, ai;

		ai = inv_plain(&a, &P);
		r = mul_plain(&a, &ai, &P);
		assert_fe_equal(&r, &ONE);
	}
}

static void
test_field_n(void **state)
{
	fe r, nm1, big;

	(void)state;
	r = mul_plain(&GX, &GY, &N);
	assert_fe_hex(&r, "1543b5272ef9466b6179ca8d535b2e2af16b758c41da31d772eca81accce4d18");
	r = inv_plain(&GX, &N);
	assert_fe_hex(&r, "4a8dbb62c2548ddcb57084bceeab15480df0052a93d05ca48caaa102e7efdd93");
	sub_borrow(&nm1, &N.m, &ONE);
	r = mul_plain(&nm1, &nm1, &N);
	assert_fe_equal(&r, &ONE);
	/* Reduction of values up to 2^256 - 1. */
	memset(big.v, 0xff, sizeof(big.v));
	mod_reduce_once(&r, &big, &N);
	sub_borrow(&big, &big, &N.m);
	assert_fe_equal(&r, &big);
	mod_reduce_once(&r, &nm1, &N);
	assert_fe_equal(&r, &nm1);
	mod_reduce_once(&r, &N.m, &N);
	assert_fe_equal(&r, &ZERO);
	/* The range check. */
	assert_int_equal(in_range(&ZERO, &N), 0);
	assert_int_equal(in_range(&ONE, &N), 1);
	assert_int_equal(in_range(&nm1, &N), 1);
	assert_int_equal(in_range(&N.m, &N), 0);
}

/* a^e by plain square-and-multiply (Montgomery form). */
static void
pow_plain(fe *r, const fe *a, const fe *e, const struct modulus *m)
{
	fe acc = m->one;

	for (int i = 255; i >= 0; i--) {
		mont_mul_generic(&acc, &acc, &acc, m);
		if ((e->v[i / 64] >> (i % 64)) & 1)
			mont_mul_generic(&acc, &acc, a, m);
	}
	*r = acc;
}

/* fiat-crypto's arithmetic mod p (what mont_mul(), mont_sq(), mod_add()
 * and mod_sub() call for P) against ours (mont_mul_generic(), and the
 * additions through a copy of P, which they do not recognise), and the
 * two inversion chains against square-and-multiply, on edge values and
 * pseudo-random ones. */
static void
check_p_ops(const fe *a, const fe *b)
{
	static struct modulus p_copy;
	fe want, got;

	p_copy = P;
	mont_mul_generic(&want, a, b, &P);
	mont_mul(&got, a, b, &P);
	assert_fe_equal(&got, &want);
	mont_mul_generic(&want, a, a, &P);
	mont_sq(&got, a, &P);
	assert_fe_equal(&got, &want);
	mod_add(&want, a, b, &p_copy);
	mod_add(&got, a, b, &P);
	assert_fe_equal(&got, &want);
	mod_sub(&want, a, b, &p_copy);
	mod_sub(&got, a, b, &P);
	assert_fe_equal(&got, &want);
}

static void
test_specialised(void **state)
{
	fe edge[6], a, b, want, got;

	(void)state;
	edge[0] = ZERO;
	edge[1] = ONE;
	sub_borrow(&edge[2], &P.m, &ONE);		/* p - 1 */
	edge[3] = P.one;
	edge[4] = GX;
	edge[5] = (fe){ { UINT64_MAX, 0, UINT64_MAX, 0 } };
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 6; j++)
			check_p_ops(&edge[i], &edge[j]);
	for (int i = 0; i < 2000; i++) {
		uint8_t buf[64];

		random_bytes(buf, sizeof(buf));
		fe_from_bytes(&a, buf);
		fe_from_bytes(&b, buf + 32);
		mod_reduce_once(&a, &a, &P);
		mod_reduce_once(&b, &b, &P);
		check_p_ops(&a, &b);
		if (i % 50 == 0) {
			pow_plain(&want, &a, &P.m_minus_2, &P);
			inv_p(&got, &a);
			assert_fe_equal(&got, &want);
			mod_reduce_once(&a, &a, &N);
			pow_plain(&want, &a, &N.m_minus_2, &N);
			inv_n(&got, &a);
			assert_fe_equal(&got, &want);
		}
	}
}

/* ---- k G ----------------------------------------------------------------- */

static void
check_mul(const char *k, const char *x, const char *y)
{
	uint8_t kb[32], xb[32], yb[32], gx[32], gy[32];

	unhex(kb, k);
	unhex(xb, x);
	unhex(yb, y);
	assert_true(limpet_p256_scalar_ok(kb));
	assert_int_equal(limpet_p256_base_mul(gx, gy, kb), 0);
	assert_memory_equal(gx, xb, 32);
	assert_memory_equal(gy, yb, 32);
}

static void
test_base_mul_vectors(void **state)
{
	(void)state;
	/* 1G, 2G, 3G: SEC 2's G and its known multiples. */
	check_mul("0000000000000000000000000000000000000000000000000000000000000001",
	    HEX_GX, HEX_GY);
	check_mul("0000000000000000000000000000000000000000000000000000000000000002",
	    "7cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978",
	    "07775510db8ed040293d9ac69f7430dbba7dade63ce982299e04b79d227873d1");
	check_mul("0000000000000000000000000000000000000000000000000000000000000003",
	    "5ecbe4d1a6330a44c8f7ef951d4bf165e6c6b721efada985fb41661bc6e7fd6c",
	    "8734640c4998ff7e374b06ce1a64a2ecd82ab036384fb83d9a79b127a27d5032");
	/* (n - 1) G = -G = (Gx, p - Gy); (n - 2) G = -2G. */
	check_mul("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550",
	    HEX_GX, "b01cbd1c01e58065711814b583f061e9d431cca994cea1313449bf97c840ae0a");
	check_mul("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254f",
	    "7cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978",
	    "f888aaee24712fc0d6c26539608bcf244582521ac3167dd661fb4862dd878c2e");
	/* RFC 6979 A.2.5: the private key and its public key. */
	check_mul("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
	    "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
	    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299");
	/* (n - 1) / 2, the largest scalar used as it is, and the next, the
	 * smallest negated: opposite points. */
	check_mul("7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8",
	    "2afa386b3f2bdcdb83f4d83f8fa3874d7b74dcb454bd644fdd6bf3d1f2da8db6",
	    "72184be1caa8563462b536f10852d665ae8a64fdf1eb8d4c946ad589796f729c");
	check_mul("7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a9",
	    "2afa386b3f2bdcdb83f4d83f8fa3874d7b74dcb454bd644fdd6bf3d1f2da8db6",
	    "8de7b41d3557a9cc9d4ac90ef7ad299a51759b030e1472b36b952a7686908d63");
	/* Every nibble 8: every digit carries. 2^255: negated, one bit. */
	check_mul("8888888888888888888888888888888888888888888888888888888888888888",
	    "7f22411445de76e65c4a6f8089e84514a5e1075c05acee891106eaf375a577d1",
	    "ff30faa71c10969eee5bab7afbaad6eb478b05435c172a2c4a82afbcdd587d23");
	check_mul("8000000000000000000000000000000000000000000000000000000000000000",
	    "77b20a912e6b23135066e911891524bc4efe3560e3e92350b52dec8f375f2b54",
	    "a3dc291825cea3f7f7b10bfcdd038a72df623da1e850e0f1caa801fcd6cc67ff");
	check_mul("123456789abcdef0fedcba9876543210deadbeefcafebabe0011223344556677",
	    "abb3945c106d8d35077ab0a97f2170ad63f65a4537aa3b4b363ccaf48e7668a6",
	    "8c020c50bd065a4fa7b144b584ebe46dbb5fe372cfb6be8383cb6c2ccdac7ec0");
}

static void
test_base_mul_out_of_range(void **state)
{
	uint8_t k[32], x[32], y[32];

	(void)state;
	memset(x, 0xa5, sizeof(x));
	memset(k, 0, sizeof(k));
	assert_false(limpet_p256_scalar_ok(k));
	assert_int_equal(limpet_p256_base_mul(x, y, k), -EINVAL);
	unhex(k, HEX_N);
	assert_false(limpet_p256_scalar_ok(k));
	assert_int_equal(limpet_p256_base_mul(x, y, k), -EINVAL);
	memset(k, 0xff, sizeof(k));
	assert_false(limpet_p256_scalar_ok(k));
	assert_int_equal(limpet_p256_base_mul(x, y, k), -EINVAL);
	for (int i = 0; i < 32; i++)
		assert_int_equal(x[i], 0xa5);
}

/* ---- ECDSA -------------------------------------------------------------- */

/* RFC 6979 A.2.5 (P-256, SHA-256). */
#define RFC_D	"c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"
#define RFC_QX	"60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
#define RFC_QY	"7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
/* SHA-256("sample") and SHA-256("test"). */
#define H_SAMPLE "af2bdbe1aa9b6ec1e2ade1d694f41fc71a831d0268e9891562113d8a62add1bf"
#define H_TEST	"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define K_SAMPLE "a6e3c57dd01abe90086538398355dd4c3b17aa873382b0f24d6129493d8aad60"
#define K_TEST	"d16b6ae827f17175e040871a1c7ec3500192c4c92677336ec2537acaee0008e0"

static void
check_sign(const char *d, const char *z, const char *k, const char *r, const char *s)
{
	uint8_t db[32], zb[32], kb[32], rb[32], sb[32], want[32];

	unhex(db, d);
	unhex(zb, z);
	unhex(kb, k);
	assert_int_equal(limpet_p256_sign(rb, sb, db, zb, kb), 0);
	unhex(want, r);
	assert_memory_equal(rb, want, 32);
	unhex(want, s);
	assert_memory_equal(sb, want, 32);
}

static void
test_sign_rfc6979(void **state)
{
	(void)state;
	check_sign(RFC_D, H_SAMPLE, K_SAMPLE,
	    "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
	    "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
	check_sign(RFC_D, H_TEST, K_TEST,
	    "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
	    "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083");
}

static void
test_sign_bad_input(void **state)
{
	uint8_t d[32], z[32], k[32], r[32], s[32], zero[32] = { 0 }, nb[32];

	(void)state;
	unhex(d, RFC_D);
	unhex(z, H_SAMPLE);
	unhex(k, K_SAMPLE);
	unhex(nb, HEX_N);
	memset(r, 0xa5, sizeof(r));
	assert_int_equal(limpet_p256_sign(r, s, zero, z, k), -EINVAL);
	assert_int_equal(limpet_p256_sign(r, s, nb, z, k), -EINVAL);
	assert_int_equal(limpet_p256_sign(r, s, d, z, zero), -EINVAL);
	assert_int_equal(limpet_p256_sign(r, s, d, z, nb), -EINVAL);
	/* z = -r d mod n makes s = 0: SEC 1 says to take another k. */
	unhex(z, "08ee301548cd9aa52ec3f69fd87f9c57bdf20e9f20419649d0e1b6c700f22e78");
	assert_int_equal(limpet_p256_sign(r, s, d, z, k), -EAGAIN);
	for (int i = 0; i < 32; i++)
		assert_int_equal(r[i], 0xa5);
}

/* A hash of n or more signs as the hash less n. */
static void
test_sign_hash_reduced(void **state)
{
	uint8_t d[32], k[32], z[32], r1[32], s1[32], r2[32], s2[32];
	fe zz;

	(void)state;
	unhex(d, RFC_D);
	unhex(k, K_TEST);
	memset(z, 0xff, sizeof(z));
	assert_int_equal(limpet_p256_sign(r1, s1, d, z, k), 0);
	fe_from_bytes(&zz, z);
	sub_borrow(&zz, &zz, &N.m);
	fe_to_bytes(z, &zz);
	assert_int_equal(limpet_p256_sign(r2, s2, d, z, k), 0);
	assert_memory_equal(r1, r2, 32);
	assert_memory_equal(s1, s2, 32);
}

/*
 * A textbook verification (SEC 1 4.1.4), in affine coordinates with an
 * inversion per step and plain double-and-add: slow, short, and sharing
 * nothing with the signing path but the field arithmetic tested above.
 * Points are Montgomery-form affine; inf marks the point at infinity.
 */
struct apt {
	fe x, y;
	int inf;
};

static void
apt_add(struct apt *r, const struct apt *a, const struct apt *b)
{
	fe l, t, u, x;

	if (a->inf) {
		*r = *b;
		return;
	}
	if (b->inf) {
		*r = *a;
		return;
	}
	if (memcmp(&a->x, &b->x, sizeof(fe)) == 0) {
		mod_add(&t, &a->y, &b->y, &P);
		if (fe_is_zero(&t)) {
			r->inf = 1;
			return;
		}
		/* Tangent: (3x^2 - 3) / 2y. */
		mont_sq(&t, &a->x, &P);
		mod_sub(&t, &t, &P.one, &P);
		mod_add(&u, &t, &t, &P);
		mod_add(&t, &u, &t, &P);
		mod_add(&u, &a->y, &a->y, &P);
	} else {
		mod_sub(&t, &b->y, &a->y, &P);
		mod_sub(&u, &b->x, &a->x, &P);
	}
	mont_inv(&u, &u, &P);
	mont_mul(&l, &t, &u, &P);
	mont_sq(&x, &l, &P);
	mod_sub(&x, &x, &a->x, &P);
	mod_sub(&x, &x, &b->x, &P);
	mod_sub(&t, &a->x, &x, &P);
	mont_mul(&t, &l, &t, &P);
	mod_sub(&r->y, &t, &a->y, &P);
	r->x = x;
	r->inf = 0;
}

static void
apt_mul(struct apt *r, const fe *k, const struct apt *pt)
{
	struct apt acc = { .inf = 1 };

	for (int i = 255; i >= 0; i--) {
		apt_add(&acc, &acc, &acc);
		if ((k->v[i / 64] >> (i % 64)) & 1)
			apt_add(&acc, &acc, pt);
	}
	*r = acc;
}

static int
verify(const uint8_t qx[32], const uint8_t qy[32], const uint8_t z[32],
    const uint8_t r[32], const uint8_t s[32])
{
	struct apt g, q, a, b;
	fe rr, ss, zz, w, u1, u2, x;

	fe_from_bytes(&rr, r);
	fe_from_bytes(&ss, s);
	fe_from_bytes(&zz, z);
	if (!in_range(&rr, &N) || !in_range(&ss, &N))
		return 0;
	mod_reduce_once(&zz, &zz, &N);
	w = inv_plain(&ss, &N);
	u1 = mul_plain(&zz, &w, &N);
	u2 = mul_plain(&rr, &w, &N);
	to_mont(&g.x, &GX, &P);
	to_mont(&g.y, &GY, &P);
	g.inf = 0;
	fe_from_bytes(&q.x, qx);
	fe_from_bytes(&q.y, qy);
	to_mont(&q.x, &q.x, &P);
	to_mont(&q.y, &q.y, &P);
	q.inf = 0;
	apt_mul(&a, &u1, &g);
	apt_mul(&b, &u2, &q);
	apt_add(&a, &a, &b);
	if (a.inf)
		return 0;
	from_mont(&x, &a.x, &P);
	mod_reduce_once(&x, &x, &N);
	return memcmp(&x, &rr, sizeof(fe)) == 0;
}

static void
test_sign_verifies(void **state)
{
	uint8_t d[32], k[32], z[32], r[32], s[32], qx[32], qy[32];

	(void)state;
	/* The RFC's signature verifies, and fails with another hash. */
	unhex(qx, RFC_QX);
	unhex(qy, RFC_QY);
	unhex(z, H_SAMPLE);
	unhex(r, "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716");
	unhex(s, "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
	assert_true(verify(qx, qy, z, r, s));
	z[31] ^= 1;
	assert_false(verify(qx, qy, z, r, s));

	for (int i = 0; i < 16; i++) {
		do
			random_bytes(d, sizeof(d));
		while (!limpet_p256_scalar_ok(d));
		do
			random_bytes(k, sizeof(k));
		while (!limpet_p256_scalar_ok(k));
		random_bytes(z, sizeof(z));
		assert_int_equal(limpet_p256_base_mul(qx, qy, d), 0);
		assert_int_equal(limpet_p256_sign(r, s, d, z, k), 0);
		assert_true(verify(qx, qy, z, r, s));
		/* And not for another hash or key. */
		z[i] ^= 0x40;
		assert_false(verify(qx, qy, z, r, s));
		z[i] ^= 0x40;
		assert_int_equal(limpet_p256_base_mul(qx, qy, k), 0);
		assert_false(verify(qx, qy, z, r, s));
	}
}

/* ---- k Q (ECDH) ---------------------------------------------------------- */

/* A random scalar in [1, n - 1]. */
static void
random_scalar(uint8_t k[32])
{
	do
		random_bytes(k, 32);
	while (!limpet_p256_scalar_ok(k));
}

/* (x, y) = k Q by the textbook double-and-add of verify() above, as
 * bytes: independent of the Jacobian formulas and the windows. */
static void
textbook_mul(uint8_t x[32], uint8_t y[32], const uint8_t k[32], const uint8_t qx[32],
    const uint8_t qy[32])
{
	struct apt q, r;
	fe kk;

	fe_from_bytes(&kk, k);
	fe_from_bytes(&q.x, qx);
	fe_from_bytes(&q.y, qy);
	to_mont(&q.x, &q.x, &P);
	to_mont(&q.y, &q.y, &P);
	q.inf = 0;
	apt_mul(&r, &kk, &q);
	assert_false(r.inf);
	from_mont(&r.x, &r.x, &P);
	from_mont(&r.y, &r.y, &P);
	fe_to_bytes(x, &r.x);
	fe_to_bytes(y, &r.y);
}

/* Edge scalars: 1, 2, 3, (n-1)/2, (n+1)/2, n - 2, n - 1, 2^255, every
 * nibble 8, and 2^252 - 1 (its nibbles all 15: every digit -1 and
 * carries). */
static const char *const EDGE_K[] = {
	"0000000000000000000000000000000000000000000000000000000000000001",
	"0000000000000000000000000000000000000000000000000000000000000002",
	"0000000000000000000000000000000000000000000000000000000000000003",
	"7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8",
	"7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a9",
	"ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254f",
	"ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550",
	"8000000000000000000000000000000000000000000000000000000000000000",
	"8888888888888888888888888888888888888888888888888888888888888888",
	"0fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
};
#define N_EDGE_K	(int)(sizeof(EDGE_K) / sizeof(EDGE_K[0]))

/* Q = G: the same points as the comb's, for edge and random scalars. */
static void
test_mul_base_point(void **state)
{
	uint8_t gx[32], gy[32], k[32], x[32], y[32], cx[32], cy[32];

	(void)state;
	unhex(gx, HEX_GX);
	unhex(gy, HEX_GY);
	for (int i = 0; i < N_EDGE_K + 32; i++) {
		if (i < N_EDGE_K)
			unhex(k, EDGE_K[i]);
		else
			random_scalar(k);
		assert_int_equal(limpet_p256_mul(x, y, k, gx, gy), 0);
		assert_int_equal(limpet_p256_base_mul(cx, cy, k), 0);
		assert_memory_equal(x, cx, 32);
		assert_memory_equal(y, cy, 32);
	}
}

/* d (k G) = (d k mod n) G, for d at the edges and random, k random. */
static void
test_mul_composes(void **state)
{
	uint8_t d[32], k[32], dk[32], qx[32], qy[32], x[32], y[32], cx[32], cy[32];
	fe dd, kk, prod;

	(void)state;
	for (int i = 0; i < N_EDGE_K + 24; i++) {
		if (i < N_EDGE_K)
			unhex(d, EDGE_K[i]);
		else
			random_scalar(d);
		random_scalar(k);
		fe_from_bytes(&dd, d);
		fe_from_bytes(&kk, k);
		prod = mul_plain(&dd, &kk, &N);
		fe_to_bytes(dk, &prod);
		assert_int_equal(limpet_p256_base_mul(qx, qy, k), 0);
		assert_int_equal(limpet_p256_mul(x, y, d, qx, qy), 0);
		assert_int_equal(limpet_p256_base_mul(cx, cy, dk), 0);
		assert_memory_equal(x, cx, 32);
		assert_memory_equal(y, cy, 32);
		/* And the ECDH secret is that x. */
		memset(cx, 0, sizeof(cx));
		assert_int_equal(limpet_p256_ecdh(cx, d, qx, qy), 0);
		assert_memory_equal(x, cx, 32);
	}
}

/* 1 Q = Q, (n - 1) Q = -Q, 2 Q by the textbook formulas, for random Q;
 * random k Q against the textbook double-and-add. */
static void
test_mul_small_and_textbook(void **state)
{
	uint8_t k[32], qx[32], qy[32], x[32], y[32], tx[32], ty[32], one[32] = { [31] = 1 };
	uint8_t nm1[32], two[32] = { [31] = 2 };
	fe t;

	(void)state;
	unhex(nm1, "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550");
	for (int i = 0; i < 8; i++) {
		random_scalar(k);
		assert_int_equal(limpet_p256_base_mul(qx, qy, k), 0);

		assert_int_equal(limpet_p256_mul(x, y, one, qx, qy), 0);
		assert_memory_equal(x, qx, 32);
		assert_memory_equal(y, qy, 32);

		assert_int_equal(limpet_p256_mul(x, y, nm1, qx, qy), 0);
		assert_memory_equal(x, qx, 32);
		fe_from_bytes(&t, qy);
		sub_borrow(&t, &P.m, &t);			/* p - y */
		fe_to_bytes(ty, &t);
		assert_memory_equal(y, ty, 32);

		assert_int_equal(limpet_p256_mul(x, y, two, qx, qy), 0);
		textbook_mul(tx, ty, two, qx, qy);
		assert_memory_equal(x, tx, 32);
		assert_memory_equal(y, ty, 32);

		random_scalar(k);
		assert_int_equal(limpet_p256_mul(x, y, k, qx, qy), 0);
		textbook_mul(tx, ty, k, qx, qy);
		assert_memory_equal(x, tx, 32);
		assert_memory_equal(y, ty, 32);
	}
}

/* ECDH: both sides get the same secret. */
static void
test_ecdh_symmetric(void **state)
{
	uint8_t a[32], b[32], ax[32], ay[32], bx[32], by[32], za[32], zb[32];

	(void)state;
	for (int i = 0; i < 32; i++) {
		random_scalar(a);
		random_scalar(b);
		assert_int_equal(limpet_p256_base_mul(ax, ay, a), 0);
		assert_int_equal(limpet_p256_base_mul(bx, by, b), 0);
		assert_int_equal(limpet_p256_ecdh(za, a, bx, by), 0);
		assert_int_equal(limpet_p256_ecdh(zb, b, ax, ay), 0);
		assert_memory_equal(za, zb, 32);
	}
}

/* A point with a small x (below 2^224, so that x + p still fits in 256
 * bits): the first x from 0 up whose x^3 - 3x + b is a square, and its
 * square root, y = rhs^((p + 1) / 4) (p = 3 mod 4). */
static void
small_x_point(uint8_t x[32], uint8_t y[32])
{
	fe e, xm, rhs, b, ym, t, xx;
	uint64_t c = 0;

	/* e = (p + 1) / 4: p + 1 fits in 256 bits (p's low bit is 1). */
	e.v[0] = addc(P.m.v[0], 1, &c);
	e.v[1] = addc(P.m.v[1], 0, &c);
	e.v[2] = addc(P.m.v[2], 0, &c);
	e.v[3] = addc(P.m.v[3], 0, &c);
	assert_true(c == 0);
	for (int l = 0; l < 4; l++)
		e.v[l] = (e.v[l] >> 2) | (l < 3 ? e.v[l + 1] << 62 : 0);
	to_mont(&b, &CURVE_B, &P);

	for (uint64_t v = 0; v < 100; v++) {
		xx = (fe){ { v, 0, 0, 0 } };
		to_mont(&xm, &xx, &P);
		mont_sq(&rhs, &xm, &P);
		for (int j = 0; j < 3; j++)
			mod_sub(&rhs, &rhs, &P.one, &P);
		mont_mul(&rhs, &rhs, &xm, &P);
		mod_add(&rhs, &rhs, &b, &P);
		pow_plain(&ym, &rhs, &e, &P);
		mont_sq(&t, &ym, &P);
		if (memcmp(&t, &rhs, sizeof(fe)) == 0) {
			from_mont(&ym, &ym, &P);
			fe_to_bytes(x, &xx);
			fe_to_bytes(y, &ym);
			return;
		}
	}
	fail_msg("no x below 100 is on the curve");
}

static void
test_mul_bad_input(void **state)
{
	uint8_t gx[32], gy[32], qx[32], qy[32], k[32], x[32], y[32], z[32], bad[32], sx[32], sy[32];
	uint8_t zero[32] = { 0 };
	struct vmul v;
	fe t, kk, rx, ry;
	uint64_t c;
	aff q;

	(void)state;
	unhex(gx, HEX_GX);
	unhex(gy, HEX_GY);
	random_scalar(k);
	assert_true(limpet_p256_point_ok(gx, gy));
	memset(x, 0xa5, sizeof(x));
	memset(y, 0xa5, sizeof(y));
	memset(z, 0xa5, sizeof(z));

	/* Off the curve: G with y + 1, and x + 1. */
	memcpy(qy, gy, 32);
	qy[31] ^= 1;
	assert_false(limpet_p256_point_ok(gx, qy));
	assert_int_equal(limpet_p256_mul(x, y, k, gx, qy), -EDOM);
	assert_int_equal(limpet_p256_ecdh(z, k, gx, qy), -EDOM);
	memcpy(qx, gx, 32);
	qx[31] ^= 1;
	assert_int_equal(limpet_p256_ecdh(z, k, qx, gy), -EDOM);

	/* (0, 0), the all-zero encoding of the point at infinity. */
	assert_false(limpet_p256_point_ok(zero, zero));
	assert_int_equal(limpet_p256_ecdh(z, k, zero, zero), -EDOM);

	/* Coordinates of p or more: p itself, all ones, and a valid point
	 * with p added to its x, which is the same point mod p. */
	unhex(bad, HEX_P);
	assert_int_equal(limpet_p256_ecdh(z, k, bad, gy), -EDOM);
	assert_int_equal(limpet_p256_ecdh(z, k, gx, bad), -EDOM);
	memset(bad, 0xff, sizeof(bad));
	assert_int_equal(limpet_p256_ecdh(z, k, bad, gy), -EDOM);
	assert_int_equal(limpet_p256_ecdh(z, k, gx, bad), -EDOM);
	small_x_point(sx, sy);
	assert_true(limpet_p256_point_ok(sx, sy));
	assert_int_equal(limpet_p256_ecdh(x, k, sx, sy), 0);	/* x is written */
	fe_from_bytes(&t, sx);
	c = 0;
	for (int l = 0; l < 4; l++)
		t.v[l] = addc(t.v[l], P.m.v[l], &c);
	assert_true(c == 0);					/* x + p < 2^256 */
	fe_to_bytes(bad, &t);
	assert_false(limpet_p256_point_ok(bad, sy));
	assert_int_equal(limpet_p256_ecdh(z, k, bad, sy), -EDOM);
	memset(x, 0xa5, sizeof(x));

	/* Scalars out of range, checked first: 0, n, all ones. */
	assert_int_equal(limpet_p256_mul(x, y, zero, gx, gy), -EINVAL);
	unhex(bad, HEX_N);
	assert_int_equal(limpet_p256_mul(x, y, bad, gx, gy), -EINVAL);
	assert_int_equal(limpet_p256_ecdh(z, bad, zero, zero), -EINVAL);
	memset(bad, 0xff, sizeof(bad));
	assert_int_equal(limpet_p256_ecdh(z, bad, gx, gy), -EINVAL);

	/* Nothing written on any error. */
	for (int i = 0; i < 32; i++) {
		assert_int_equal(x[i], 0xa5);
		assert_int_equal(y[i], 0xa5);
		assert_int_equal(z[i], 0xa5);
	}

	/* The point at infinity as the result, which only a scalar the
	 * public functions refuse gives: 0, and n (0 after the negation). */
	assert_int_equal(point_from_bytes(&q, gx, gy), 0);
	kk = ZERO;
	assert_int_equal(point_mul(&rx, &ry, &kk, &q, &v), -ERANGE);
	kk = N.m;
	assert_int_equal(point_mul(&rx, &ry, &kk, &q, &v), -ERANGE);
	kk = ONE;
	assert_int_equal(point_mul(&rx, &ry, &kk, &q, &v), 0);
	assert_fe_equal(&rx, &GX);
	assert_fe_equal(&ry, &GY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_field_p),
		cmocka_unit_test(test_field_n),
		cmocka_unit_test(test_specialised),
		cmocka_unit_test(test_base_mul_vectors),
		cmocka_unit_test(test_base_mul_out_of_range),
		cmocka_unit_test(test_sign_rfc6979),
		cmocka_unit_test(test_sign_bad_input),
		cmocka_unit_test(test_sign_hash_reduced),
		cmocka_unit_test(test_sign_verifies),
		cmocka_unit_test(test_mul_base_point),
		cmocka_unit_test(test_mul_composes),
		cmocka_unit_test(test_mul_small_and_textbook),
		cmocka_unit_test(test_ecdh_symmetric),
		cmocka_unit_test(test_mul_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
