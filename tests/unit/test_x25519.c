// unit-sources: net/tls/x25519.c net/tls/ct.c
// unit-include: deps/fiat
/*
 * Host unit tests for X25519 (net/tls/x25519.c) against RFC 7748's test
 * vectors: the two single ones and the iterated one (5.2), the
 * Diffie-Hellman example (6.1), then the encoding rules: u's top bit
 * ignored, u of p or more taken mod p, the output canonical, the scalar
 * clamped, and the all-zero result of small-order points reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../net/tls/x25519.h"

/* 64 hex digits into 32 bytes, as the RFC prints them (byte 0 first). */
static void
unhex(uint8_t out[X25519_BYTES], const char *hex)
{
	assert_int_equal(strlen(hex), 2 * X25519_BYTES);
	for (int i = 0; i < X25519_BYTES; i++) {
		unsigned int b;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

/* X25519(scalar, u) must succeed and give want. */
static void
check(const char *scalar, const char *u, const char *want)
{
	uint8_t k[32], uu[32], w[32], out[32];

	unhex(k, scalar);
	unhex(uu, u);
	unhex(w, want);
	assert_int_equal(limpet_x25519(out, k, uu), 0);
	assert_memory_equal(out, w, 32);
}

/* X25519(scalar, u) must report the all-zero result, and write it. */
static void
check_zero(const char *scalar, const char *u)
{
	static const uint8_t zero[32];
	uint8_t k[32], uu[32], out[32];

	unhex(k, scalar);
	unhex(uu, u);
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(limpet_x25519(out, k, uu), -EINVAL);
	assert_memory_equal(out, zero, 32);
}

/* RFC 7748 6.1's keys. */
#define ALICE_PRIV	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUB	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_PRIV	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define BOB_PUB		"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define SHARED		"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

/* RFC 7748 5.2's first single vector. */
#define V1_K	"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"
#define V1_U	"e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"
#define V1_OUT	"c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"

static void
test_rfc7748_vector_1(void **state)
{
	(void)state;
	check(V1_K, V1_U, V1_OUT);
}

/* Its u has the top bit set (last byte 0x93), which must be ignored. */
static void
test_rfc7748_vector_2(void **state)
{
	(void)state;
	check("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	    "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
	/* The same u with the bit clear gives the same result. */
	check("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	    "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a413",
	    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

/*
 * RFC 7748 5.2's iterated vector: k = u = 9, then k, u = X25519(k, u), k
 * over and over.  Checked after 1 and 1,000 rounds (1,000,000 would take
 * minutes under the sanitizers).  Each round also passes the output
 * through as the next scalar, unclamped, so clamping is exercised too.
 */
static void
test_rfc7748_iterated(void **state)
{
	uint8_t k[32] = { 9 }, u[32] = { 9 }, r[32], after1[32], after1000[32];

	(void)state;
	unhex(after1, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
	unhex(after1000, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
	for (int i = 1; i <= 1000; i++) {
		assert_int_equal(limpet_x25519(r, k, u), 0);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1)
			assert_memory_equal(k, after1, 32);
	}
	assert_memory_equal(k, after1000, 32);
}

/* RFC 7748 6.1: both public keys from the base point, and both sides'
 * shared secrets. */
static void
test_rfc7748_diffie_hellman(void **state)
{
	uint8_t a[32], b[32], pub[32], want[32];

	(void)state;
	unhex(a, ALICE_PRIV);
	unhex(b, BOB_PRIV);
	assert_int_equal(limpet_x25519_base(pub, a), 0);
	unhex(want, ALICE_PUB);
	assert_memory_equal(pub, want, 32);
	assert_int_equal(limpet_x25519_base(pub, b), 0);
	unhex(want, BOB_PUB);
	assert_memory_equal(pub, want, 32);
	check(ALICE_PRIV, BOB_PUB, SHARED);
	check(BOB_PRIV, ALICE_PUB, SHARED);
}

/* Bit 255 of u is not part of the value (RFC 7748 5). */
static void
test_top_bit_of_u_masked(void **state)
{
	(void)state;
	check(V1_K, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1ccc", V1_OUT);
	check(ALICE_PRIV, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882bcf",
	    SHARED);
}

/* A u of p or more is taken mod p (RFC 7748 5: implementations must
 * accept non-canonical values).  p + 9 is the base point, and 2^255 - 1
 * (bit 255 clear) is p + 18. */
static void
test_non_canonical_u(void **state)
{
	(void)state;
	check(ALICE_PRIV, "f6ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    ALICE_PUB);
	check(ALICE_PRIV, "1200000000000000000000000000000000000000000000000000000000000000",
	    "359668d79a67267a57ffef8f0f4a9882a7c0e3122cb1999c5626346383f9f811");
	check(ALICE_PRIV, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "359668d79a67267a57ffef8f0f4a9882a7c0e3122cb1999c5626346383f9f811");
	/* With bit 255 set as well, 2^256 - 1: still p + 18. */
	check(ALICE_PRIV, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	    "359668d79a67267a57ffef8f0f4a9882a7c0e3122cb1999c5626346383f9f811");
}

/* The scalar is clamped: bits 0-2 and 255 do not matter, bit 254 is
 * always set. */
static void
test_scalar_clamped(void **state)
{
	uint8_t k[32], pub[32], want[32];

	(void)state;
	unhex(k, ALICE_PRIV);
	unhex(want, ALICE_PUB);
	k[0] ^= 7;
	k[31] ^= 0x80 | 0x40;
	assert_int_equal(limpet_x25519_base(pub, k), 0);
	assert_memory_equal(pub, want, 32);
}

/*
 * limpet_x25519_base() (the fixed-base Edwards method) against the ladder
 * on the base point: scalars whose signed digits carry all the way
 * (nibbles of 8 and more), the smallest and largest clamped values, every
 * single-nibble scalar, and 20,000 random ones; and its output may
 * overwrite its scalar.
 */
static void
base_vs_ladder(const uint8_t k[32])
{
	static const uint8_t nine[32] = { 9 };
	uint8_t a[32], b[32];

	assert_int_equal(limpet_x25519_base(a, k), 0);
	assert_int_equal(limpet_x25519(b, k, nine), 0);
	assert_memory_equal(a, b, 32);
}

static void
test_base_matches_ladder(void **state)
{
	uint8_t k[32];
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (int fill = 0; fill < 256; fill += 17) {
		memset(k, fill, sizeof(k));
		base_vs_ladder(k);
	}
	memset(k, 0x88, sizeof(k));
	base_vs_ladder(k);
	for (int i = 0; i < 32; i++)
		for (int v = 1; v < 256; v <<= 4) {
			memset(k, 0, sizeof(k));
			k[i] = (uint8_t)(v * 15);
			base_vs_ladder(k);
		}
	for (int n = 0; n < 20000; n++) {
		for (int i = 0; i < 32; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			k[i] = (uint8_t)x;
		}
		base_vs_ladder(k);
	}
	unhex(k, ALICE_PRIV);
	assert_int_equal(limpet_x25519_base(k, k), 0);
	{
		uint8_t want[32];

		unhex(want, ALICE_PUB);
		assert_memory_equal(k, want, 32);
	}
}

/* The output may overwrite either input. */
static void
test_output_aliases_input(void **state)
{
	uint8_t k[32], u[32], want[32];

	(void)state;
	unhex(k, ALICE_PRIV);
	unhex(u, BOB_PUB);
	unhex(want, SHARED);
	assert_int_equal(limpet_x25519(u, k, u), 0);
	assert_memory_equal(u, want, 32);
	unhex(u, BOB_PUB);
	assert_int_equal(limpet_x25519(k, k, u), 0);
	assert_memory_equal(k, want, 32);
}

/*
 * Points of small order give the all-zero value, reported as -EINVAL (RFC
 * 7748 6.1): u = 0 (order 2), u = 1 (order 4), their non-canonical forms
 * p and p + 1, p - 1 (order 4), and the two points of order 8 below p.
 */
static void
test_small_order_points_rejected(void **state)
{
	(void)state;
	check_zero(ALICE_PRIV, "0000000000000000000000000000000000000000000000000000000000000000");
	check_zero(ALICE_PRIV, "0100000000000000000000000000000000000000000000000000000000000000");
	check_zero(BOB_PRIV, "0000000000000000000000000000000000000000000000000000000000000000");
	check_zero(BOB_PRIV, "0100000000000000000000000000000000000000000000000000000000000000");
	check_zero(ALICE_PRIV, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
	check_zero(ALICE_PRIV, "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
	check_zero(ALICE_PRIV, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
	check_zero(ALICE_PRIV, "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
	check_zero(ALICE_PRIV, "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7748_vector_1),
		cmocka_unit_test(test_rfc7748_vector_2),
		cmocka_unit_test(test_rfc7748_iterated),
		cmocka_unit_test(test_rfc7748_diffie_hellman),
		cmocka_unit_test(test_top_bit_of_u_masked),
		cmocka_unit_test(test_non_canonical_u),
		cmocka_unit_test(test_scalar_clamped),
		cmocka_unit_test(test_base_matches_ladder),
		cmocka_unit_test(test_output_aliases_input),
		cmocka_unit_test(test_small_order_points_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
