/*
 * Constant-time check of our elliptic-curve code, P-256 (net/tls/p256.c)
 * and X25519 (net/tls/x25519.c), run by tests/test_ecc_ct.py under
 * valgrind's memcheck with the secrets marked undefined: the private keys
 * d, the per-signature k, the scalars of k Q, ECDH and X25519.  The
 * peer's point (Q, u) is public.  memcheck then reports every conditional
 * branch and every memory address computed from a secret ("depends on
 * uninitialised value(s)"), which is exactly what constant-time code must
 * not have.  The code under test marks the few results it may branch on
 * with limpet_ct_declassify() (net/tls/ct.h), which this file defines.
 *
 * It is linked with the object files of the images themselves (every mode
 * and log level), and with the same sources built at every optimisation
 * level, so that what is checked is what the compiler made of them.
 *
 * Built with -DCT_SELF_CHECK, the program branches on a secret itself,
 * which memcheck must report: the test's proof that the check can fail.
 *
 * Prints "ecc_ct: N signatures, M shared secrets, X x25519" and exits 0;
 * memcheck's --error-exitcode says whether it found anything.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "ct.h"
#include "p256.h"
#include "x25519.h"

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

void
limpet_ct_declassify(const void *p, size_t n)
{
	VALGRIND_MAKE_MEM_DEFINED(p, n);
}

/* X25519 with a secret scalar: with a random public u, and with u = 0 and
 * u = 1, points of small order whose result is all zeros (the branch the
 * code may take on it, declassified); and from the base point by the
 * fixed-base method (limpet_x25519_base(): its digits and table reads). */
static int
x25519_rounds(void)
{
	uint8_t sk[32], u[32], out[32];
	int ok = 0, ret;

	for (int i = 0; i < ROUNDS; i++) {
		random_bytes(sk, sizeof(sk));
		random_bytes(u, sizeof(u));
		if (i == 1 || i == 2) {
			memset(u, 0, sizeof(u));
			u[0] = (uint8_t)(i - 1);
		}
		VALGRIND_MAKE_MEM_UNDEFINED(sk, sizeof(sk));
		ret = i == 3 || i >= 5 ? limpet_x25519_base(out, sk) : limpet_x25519(out, sk, u);
		VALGRIND_MAKE_MEM_DEFINED(out, sizeof(out));
		if (ret == ((i == 1 || i == 2) ? -EINVAL : 0))
			ok++;
	}
	return ok;
}

int
main(void)
{
	uint8_t d[32], k[32], z[32], x[32], y[32], r[32], s[32];
	uint8_t q[32], qx[32], qy[32], sx[32], sy[32], secret[32];
	int signed_ok = 0, shared_ok = 0, x25519_ok;

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
	x25519_ok = x25519_rounds();
	printf("ecc_ct: %d signatures, %d shared secrets, %d x25519\n",
	    signed_ok, shared_ok, x25519_ok);
	return signed_ok == ROUNDS && shared_ok == ROUNDS && x25519_ok == ROUNDS ? 0 : 1;
}
