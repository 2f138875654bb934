/*
 * mbedTLS's ECDSA signature primitive, mbedtls_ecdsa_sign(), in place of
 * library/ecdsa.c's (MBEDTLS_ECDSA_SIGN_ALT in net/tls/limpet_mbedtls_config.h).
 * Every ECDHE_ECDSA handshake signs the server's key exchange parameters
 * through it: pk_wrap.c's ecdsa_sign_wrap(), then
 * mbedtls_ecdsa_write_signature(), which with MBEDTLS_ECDSA_DETERMINISTIC
 * seeds an HMAC_DRBG with the private key and the hash reduced mod n
 * (RFC 6979 3.2 steps a-g; ecdsa.c's ecdsa_sign_det_restartable()) and
 * calls this with mbedtls_hmac_drbg_random() for f_rng, ignoring the
 * caller's generator.  Drawing k below is then RFC 6979 3.2 step h: 32
 * bytes of the DRBG are bits2int(T), and a k out of range, or an r or s
 * of 0, draws again after the DRBG's update (K = HMAC_K(V || 0x00),
 * V = HMAC_K(V)), as step h.3 says.  tests/guest/test_tls checks RFC
 * 6979 A.2.5's P-256 signatures through mbedtls_ecdsa_write_signature()
 * with a generator that fails.
 *
 * P-256, the only curve built that can sign, is done by our own code
 * (net/tls/p256.c), several times faster than mbedTLS's bignum comb.
 * mbedTLS keeps the key as its bignums; p256.c takes 32-byte big-endian
 * integers (SEC 1 2.3.7), which mbedtls_mpi_{write,read}_binary() convert.
 */
#include <errno.h>
#include <stddef.h>

/* These replace functions of mbedTLS's library, and see its points and
 * numbers (X, Y, Z; p, s) as the library's own files do. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>

#include "p256.h"

#if !defined(MBEDTLS_ECDSA_SIGN_ALT)
#error "ecdsa_alt.c replaces ecdsa.c's mbedtls_ecdsa_sign(): limpet_mbedtls_config.h must define MBEDTLS_ECDSA_SIGN_ALT"
#endif
#if !defined(MBEDTLS_ECDSA_DETERMINISTIC)
#error "ecdsa_alt.c: TLS signs with RFC 6979's k (MBEDTLS_ECDSA_DETERMINISTIC), never the RNG's"
#endif
#if defined(MBEDTLS_ECP_RESTARTABLE)
#error "ecdsa_alt.c: restartable ECDSA calls ecdsa.c's own static functions, not this"
#endif
#if defined(MBEDTLS_ECP_DP_SECP192R1_ENABLED) || defined(MBEDTLS_ECP_DP_SECP224R1_ENABLED) || \
    defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED) || defined(MBEDTLS_ECP_DP_SECP521R1_ENABLED) || \
    defined(MBEDTLS_ECP_DP_SECP192K1_ENABLED) || defined(MBEDTLS_ECP_DP_SECP224K1_ENABLED) || \
    defined(MBEDTLS_ECP_DP_SECP256K1_ENABLED) || defined(MBEDTLS_ECP_DP_BP256R1_ENABLED) || \
    defined(MBEDTLS_ECP_DP_BP384R1_ENABLED) || defined(MBEDTLS_ECP_DP_BP512R1_ENABLED)
/* Their ECDSA keys would reach the "feature unavailable" below. */
#error "ecdsa_alt.c signs with P-256 only: another ECDSA curve needs mbedTLS's signature back"
#endif

/* Fresh values of k to draw before giving up on the random generator, as
 * mbedtls_ecp_gen_privkey() does.  A draw is rejected with probability
 * about 2^-32 (n is just below 2^256), and a signature needs another k
 * with probability about 2^-255, so only a broken generator gets here. */
#define K_TRIES		16

/*
 * bits2int (SEC 1 4.1.3 step 5, FIPS 186-4 6.4): the hash's leftmost 256
 * bits, n's length, as an integer; a shorter hash is its value as it is,
 * here zero-padded on the left.  p256.c reduces it mod n.
 */
static void
hash_to_z(uint8_t z[P256_BYTES], const unsigned char *buf, size_t blen)
{
	size_t use = blen < P256_BYTES ? blen : P256_BYTES;

	memset(z, 0, P256_BYTES);
	if (use > 0)
		memcpy(z + P256_BYTES - use, buf, use);
}

/*
 * SEC 1 4.1.3 over P-256.  k is drawn as mbedTLS draws a private key
 * (mbedtls_ecp_gen_privkey(): 32 random bytes, redrawn until 1 <= k < n,
 * so k is uniform over that range), and a new one is drawn when r or s
 * comes out 0, as step 3 and 6 say.
 *
 * A private key outside [1, n - 1] is MBEDTLS_ERR_ECP_INVALID_KEY, what
 * ecdsa.c returns for it; an error from f_rng is returned as it is.
 *
 * mbedTLS also draws a blinding value from f_rng for its inversion mod n,
 * which is not constant-time; ours is (Fermat), so k is all we draw.
 */
static int
sign_p256(mbedtls_mpi *r, mbedtls_mpi *s, const mbedtls_mpi *d,
    const unsigned char *buf, size_t blen,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
	uint8_t db[P256_BYTES], z[P256_BYTES], k[P256_BYTES];
	uint8_t rb[P256_BYTES], sb[P256_BYTES];
	int ret, tries = 0, err;

	/* d < 0 and d >= 2^256 are not written; the rest p256.c checks. */
	if (mbedtls_mpi_cmp_int(d, 1) < 0 || mbedtls_mpi_size(d) > P256_BYTES)
		return MBEDTLS_ERR_ECP_INVALID_KEY;
	MBEDTLS_MPI_CHK(mbedtls_mpi_write_binary(d, db, sizeof(db)));
	if (!limpet_p256_scalar_ok(db)) {
		ret = MBEDTLS_ERR_ECP_INVALID_KEY;
		goto cleanup;
	}
	hash_to_z(z, buf, blen);

	for (;;) {
		if (tries++ == K_TRIES) {
			ret = MBEDTLS_ERR_ECP_RANDOM_FAILED;
			goto cleanup;
		}
		MBEDTLS_MPI_CHK(f_rng(p_rng, k, sizeof(k)));
		if (!limpet_p256_scalar_ok(k))
			continue;
		err = limpet_p256_sign(rb, sb, db, z, k);
		if (err == 0)
			break;
		if (err != -EAGAIN) {		/* d and k were checked */
			ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
			goto cleanup;
		}
	}
	MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary(r, rb, sizeof(rb)));
	MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary(s, sb, sizeof(sb)));
cleanup:
	mbedtls_platform_zeroize(db, sizeof(db));
	mbedtls_platform_zeroize(k, sizeof(k));
	return ret;
}

/* ecdsa.c's mbedtls_ecdsa_sign(), with P-256 done by us. */
int
mbedtls_ecdsa_sign(mbedtls_ecp_group *grp, mbedtls_mpi *r, mbedtls_mpi *s,
    const mbedtls_mpi *d, const unsigned char *buf, size_t blen,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
	/* Arguments ecdsa.c would refuse: a few comparisons are cheaper
	 * than a fault. */
	if (grp == NULL || r == NULL || s == NULL || d == NULL || f_rng == NULL ||
	    (buf == NULL && blen != 0))
		return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;

	if (grp->id == MBEDTLS_ECP_DP_SECP256R1)
		return sign_p256(r, s, d, buf, blen, f_rng, p_rng);
	/* ecdsa.c: curves that cannot sign (Curve25519) are bad input. */
	if (!mbedtls_ecdsa_can_do(grp->id) || grp->N.p == NULL)
		return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
	return MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE;
}
