/*
 * Constant-time check of net/tls/p256.c, run by tests/test_p256_ct.py:
 * built for the host with -DLIMPET_CT_CHECK and run under valgrind's
 * memcheck with the secrets (private keys d, per-signature k, the
 * scalars of k Q and ECDH) marked undefined; the peer's point Q is
 * public.  memcheck then reports every conditional branch and every
 * memory address computed from them ("depends on uninitialised
 * value(s)"), which is exactly what constant-time code must not have.
 * p256.c marks the few results it may branch on with declassify().
 *
 * Built with -DCT_SELF_CHECK, the program branches on a secret itself,
 * which memcheck must report: the test's proof that the check can fail.
 *
 * Prints "p256_ct: N signatures, M shared secrets" and exits 0;
 * memcheck's --error-exitcode says whether it found anything.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "p256.h"

#define ROUNDS	8

/* splitmix64: the same keys every run. */
static uint64_t state = 0x5eed5eed5eed5eed;

static void
random_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t z = (state += 0x9e3779b97f4a7c15);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
		b[i] = (uint8_t)(z ^ (z >> 31));
	}
}

int
main(void)
{
	uint8_t d[32], k[32], z[32], x[32], y[32], r[32], s[32];
	uint8_t q[32], qx[32], qy[32], sx[32], sy[32], secret[32];
	int signed_ok = 0, shared_ok = 0;

	for (int i = 0; i < ROUNDS; i++) {
		random_bytes(d, sizeof(d));
		random_bytes(k, sizeof(k));
		random_bytes(z, sizeof(z));
		/* The peer's public key, q G: public, not marked. */
		do
			random_bytes(q, sizeof(q));
		while (!limpet_p256_scalar_ok(q));
		if (limpet_p256_base_mul(qx, qy, q) != 0)
			return 1;
		/* Scalars at the comb's edges too: small, (n-1)/2 and above,
		 * where it negates. */
		if (i == 1)
			memset(k, 0, 31), k[31] = 1;
		if (i == 2)
			k[0] = 0x7f;
		if (i == 3)
			k[0] = 0xff, k[1] = 0xff, k[2] = 0xff, k[3] = 0xfe;
		VALGRIND_MAKE_MEM_UNDEFINED(d, sizeof(d));
		VALGRIND_MAKE_MEM_UNDEFINED(k, sizeof(k));
#ifdef CT_SELF_CHECK
		if (k[5] & 1)
			state++;
#endif
		/* The results are public once computed. */
		if (limpet_p256_scalar_ok(k) && limpet_p256_scalar_ok(d)) {
			if (limpet_p256_base_mul(x, y, d) == 0 &&
			    limpet_p256_sign(r, s, d, z, k) == 0)
				signed_ok++;
			/* ECDH with d, and k Q with the edge scalars. */
			if (limpet_p256_ecdh(secret, d, qx, qy) == 0 &&
			    limpet_p256_mul(sx, sy, k, qx, qy) == 0)
				shared_ok++;
		}
		VALGRIND_MAKE_MEM_DEFINED(x, sizeof(x));
		VALGRIND_MAKE_MEM_DEFINED(y, sizeof(y));
		VALGRIND_MAKE_MEM_DEFINED(r, sizeof(r));
		VALGRIND_MAKE_MEM_DEFINED(s, sizeof(s));
		VALGRIND_MAKE_MEM_DEFINED(secret, sizeof(secret));
		VALGRIND_MAKE_MEM_DEFINED(sx, sizeof(sx));
		VALGRIND_MAKE_MEM_DEFINED(sy, sizeof(sy));
	}
	printf("p256_ct: %d signatures, %d shared secrets\n", signed_ok, shared_ok);
	return signed_ok == ROUNDS && shared_ok == ROUNDS ? 0 : 1;
}
