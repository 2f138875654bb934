// unit-sources: net/port/siphash.c
/*
 * Host unit tests for SipHash-2-4 (net/port/siphash.c), the keyed hash of
 * TCP's initial sequence numbers: the reference vectors (key 00 01 .. 0f,
 * message 00 01 .. of each length), every length up to two blocks hashed
 * without reading past the message, and the key mattering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../net/port/siphash.h"

static uint8_t key[16], msg[64];

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	return 0;
}

/* The paper's appendix A example (15 bytes) and the reference code's
 * vectors for 0 and 8 bytes (an empty message; exactly one block). */
static void test_reference_vectors(void **state)
{
	(void)state;
	assert_int_equal(siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
	assert_int_equal(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);
	assert_int_equal(siphash24(key, msg, 8), 0x93f5f5799a932462ULL);
}

/* Every length from 0 to 16 reads only its own bytes: a copy at the end of
 * a heap block of exactly that size (ASan catches a read past it) hashes
 * the same, and differs from every other length's hash. */
static void test_lengths(void **state)
{
	uint64_t h[17];

	(void)state;
	for (size_t len = 0; len <= 16; len++) {
		uint8_t *m = malloc(len ? len : 1);

		assert_non_null(m);
		memcpy(m, msg, len);
		h[len] = siphash24(key, m, len);
		assert_int_equal(h[len], siphash24(key, msg, len));
		for (size_t j = 0; j < len; j++)
			assert_int_not_equal(h[len], h[j]);
		free(m);
	}
}

/* One bit of the key, or of the message, changes the hash. */
static void test_key_and_message_bits(void **state)
{
	uint8_t k[16], m[12];
	uint64_t base;

	(void)state;
	memcpy(k, key, sizeof(k));
	memcpy(m, msg, sizeof(m));
	base = siphash24(k, m, sizeof(m));
	for (int bit = 0; bit < 128; bit++) {
		k[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(siphash24(k, m, sizeof(m)), base);
		k[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (int bit = 0; bit < 96; bit++) {
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(siphash24(k, m, sizeof(m)), base);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reference_vectors, setup),
		cmocka_unit_test_setup(test_lengths, setup),
		cmocka_unit_test_setup(test_key_and_message_bits, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
