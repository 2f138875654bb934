/*
 * mbedTLS's two ECDH primitives, mbedtls_ecdh_gen_public() and
 * mbedtls_ecdh_compute_shared(), in place of library/ecdh.c's
 * (MBEDTLS_ECDH_GEN_PUBLIC_ALT and MBEDTLS_ECDH_COMPUTE_SHARED_ALT in
 * net/tls/limpet_mbedtls_config.h).  Every ECDHE handshake goes through them:
 * mbedtls_ecdh_make_params() makes the server's key pair with the first,
 * mbedtls_ecdh_calc_secret() the premaster secret with the second.
 *
 * For Curve25519 they call our X25519 (net/tls/x25519.c), several times
 * faster than mbedTLS's bignum ladder.  P-256, the only other group built,
 * is our code too (net/tls/p256.c, which also signs): the key pair with
 * its fixed-base comb, the shared secret, a multiple of the client's
 * point, with its variable-base multiplication, after checking that point.
 * Any other group would go to mbedTLS's code, as ecdh.c does without the
 * _ALT macros.
 *
 * mbedTLS keeps a Curve25519 key as its bignums: the private key d is the
 * clamped scalar as an integer, a public key or shared secret is a point
 * whose X is the u-coordinate as an integer (Z = 1, Y unused).  RFC 7748
 * encodes both little-endian, which mbedtls_mpi_{read,write}_binary_le()
 * convert; the TLS layer (mbedtls_ecp_tls_{read,write}_point()) does the
 * same on the wire, and masks the top bit of a peer's u on reading.
 */
#include <errno.h>
#include <stddef.h>

/* These replace functions of mbedTLS's library, and see its points and
 * numbers (X, Y, Z; p, s) as the library's own files do. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include <mbedtls/bignum.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>

#include "p256.h"
#include "tls_priv.h"
#include "x25519.h"

#if !defined(MBEDTLS_ECDH_GEN_PUBLIC_ALT) || !defined(MBEDTLS_ECDH_COMPUTE_SHARED_ALT)
#error "ecdh_alt.c replaces ecdh.c's primitives: limpet_mbedtls_config.h must define both _ALT macros"
#endif
#if defined(MBEDTLS_ECP_RESTARTABLE)
#error "ecdh_alt.c: ecdh.c's restartable ECDH calls its own static functions, not these"
#endif

/* Arguments ecdh.c would refuse: a few comparisons are cheaper than a
 * fault. */
#define ECDH_VALIDATE_RET(cond) do {					\
	if (!(cond))							\
		return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;			\
} while (0)

/* Base-point multiplications __wrap_mbedtls_ecp_mul() did (below). */
unsigned long limpet_ecp_base_muls;

/* A Curve25519 point (public key or shared secret) from its u-coordinate,
 * as mbedTLS's ladder leaves it: X = u, Z = 1, no Y. */
static int
point_from_u(mbedtls_ecp_point *pt, const uint8_t u[X25519_BYTES])
{
	int ret;

	MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary_le(&pt->X, u, X25519_BYTES));
	MBEDTLS_MPI_CHK(mbedtls_mpi_lset(&pt->Z, 1));
	mbedtls_mpi_free(&pt->Y);
cleanup:
	return ret;
}

/*
 * The key pair: the private key as mbedTLS makes it for Curve25519
 * (mbedtls_ecp_gen_privkey(): 255 random bits, clamped as RFC 7748 5
 * says), the public key X25519(d, 9).  mbedTLS's own path would also run
 * mbedtls_ecp_check_privkey() on d and mbedtls_ecp_check_pubkey() on the
 * base point, which cannot fail for these.
 */
static int
base_mul_x25519(const mbedtls_mpi *d, mbedtls_ecp_point *Q)
{
	uint8_t k[X25519_BYTES], pub[X25519_BYTES];
	int ret;

	MBEDTLS_MPI_CHK(mbedtls_mpi_write_binary_le(d, k, sizeof(k)));
	/* Never zero: a clamped scalar is 8m with m < 2^252, below the base
	 * point's prime order, so it is no multiple of it. */
	if (limpet_x25519_base(pub, k) != 0) {
		ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
		goto cleanup;
	}
	MBEDTLS_MPI_CHK(point_from_u(Q, pub));
cleanup:
	mbedtls_platform_zeroize(k, sizeof(k));
	return ret;
}

static int
gen_public_x25519(mbedtls_ecp_group *grp, mbedtls_mpi *d, mbedtls_ecp_point *Q,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
	int ret = mbedtls_ecp_gen_privkey(grp, d, f_rng, p_rng);

	return ret != 0 ? ret : base_mul_x25519(d, Q);
}

/*
 * A P-256 key pair: the private key as mbedTLS makes it
 * (mbedtls_ecp_gen_privkey(): uniform in [1, n - 1]), the public key d G
 * by our comb, affine (Z = 1), as mbedtls_ecp_mul() leaves it.  mbedTLS
 * builds its own comb's table of multiples of G for every ECDH context,
 * which is a new group each handshake, so this saves the larger part of
 * a P-256 key exchange: about twice as many full handshakes over P-256.
 * Our multiplication is constant-time, so f_rng is not needed for
 * blinding.
 */
static int
base_mul_p256(const mbedtls_mpi *d, mbedtls_ecp_point *Q)
{
	uint8_t k[P256_BYTES], x[P256_BYTES], y[P256_BYTES];
	int ret;

	MBEDTLS_MPI_CHK(mbedtls_mpi_write_binary(d, k, sizeof(k)));
	/* Never fails: d is in range. */
	if (limpet_p256_base_mul(x, y, k) != 0) {
		ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
		goto cleanup;
	}
	MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary(&Q->X, x, sizeof(x)));
	MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary(&Q->Y, y, sizeof(y)));
	MBEDTLS_MPI_CHK(mbedtls_mpi_lset(&Q->Z, 1));
cleanup:
	mbedtls_platform_zeroize(k, sizeof(k));
	return ret;
}

static int
gen_public_p256(mbedtls_ecp_group *grp, mbedtls_mpi *d, mbedtls_ecp_point *Q,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
	int ret = mbedtls_ecp_gen_privkey(grp, d, f_rng, p_rng);

	return ret != 0 ? ret : base_mul_p256(d, Q);
}

/*
 * The shared secret X25519(d, Q.X), with the checks mbedTLS's own path
 * makes first (in mbedtls_ecp_mul()): d must be a clamped Curve25519
 * scalar, and Q's X must fit in 32 bytes and not be one of the points of
 * small order (mbedtls_ecp_check_pubkey() compares it, mod p, with the
 * list from https://cr.yp.to/ecdh.html#validate): both give
 * MBEDTLS_ERR_ECP_INVALID_KEY, as they would without this file.
 *
 * An all-zero result, which those checks already exclude, is reported as
 * MBEDTLS_ERR_ECP_BAD_INPUT_DATA: what ecdh.c returns when the shared
 * point is the point at infinity, the same case.  The TLS server turns
 * any error here into a failed handshake (..._CLIENT_KEY_EXCHANGE_CS).
 *
 * f_rng is not used: mbedTLS randomizes its ladder's projective
 * coordinates because its bignum arithmetic and inversion are not
 * constant-time; ours are, so there is nothing for the blinding to hide.
 */
static int
compute_shared_x25519(mbedtls_ecp_group *grp, mbedtls_mpi *z,
    const mbedtls_ecp_point *Q, const mbedtls_mpi *d)
{
	uint8_t k[X25519_BYTES], u[X25519_BYTES], out[X25519_BYTES];
	int ret;

	MBEDTLS_MPI_CHK(mbedtls_ecp_check_privkey(grp, d));
	MBEDTLS_MPI_CHK(mbedtls_ecp_check_pubkey(grp, Q));
	MBEDTLS_MPI_CHK(mbedtls_mpi_write_binary_le(d, k, sizeof(k)));
	MBEDTLS_MPI_CHK(mbedtls_mpi_write_binary_le(&Q->X, u, sizeof(u)));
	if (limpet_x25519(out, k, u) != 0) {
		ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
		goto cleanup;
	}
	MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary_le(z, out, sizeof(out)));
cleanup:
	mbedtls_platform_zeroize(k, sizeof(k));
	mbedtls_platform_zeroize(out, sizeof(out));
	return ret;
}

/* n into 32 big-endian bytes, 0 on success; MBEDTLS_ERR_ECP_INVALID_KEY
 * when n is negative or does not fit.  Neither test compares n's value
 * (mbedtls_mpi_cmp_int() would, in variable time): a private key's range
 * is p256.c's to check, in constant time. */
static int
mpi_to_32(uint8_t out[P256_BYTES], const mbedtls_mpi *n)
{
	if (n->s < 0)
		return MBEDTLS_ERR_ECP_INVALID_KEY;
	/* MBEDTLS_ERR_MPI_BUFFER_TOO_SMALL: 2^256 or more. */
	if (mbedtls_mpi_write_binary(n, out, P256_BYTES) != 0)
		return MBEDTLS_ERR_ECP_INVALID_KEY;
	return 0;
}

/*
 * The P-256 shared secret (SEC 1 3.3.1): the x-coordinate of d Q, by our
 * variable-base multiplication, with the checks mbedTLS's own path makes
 * first (in mbedtls_ecp_mul()), each MBEDTLS_ERR_ECP_INVALID_KEY as
 * there: d must be in [1, n - 1] (mbedtls_ecp_check_privkey()), and Q a
 * valid public key (mbedtls_ecp_check_pubkey(): affine, Z = 1, so not the
 * point at infinity, which mbedTLS keeps as Z = 0; coordinates in
 * [0, p - 1]; on the curve).
 *
 * Those checks on Q are what stand between a client and the invalid-curve
 * attack: the TLS layer does not check the point it reads
 * (mbedtls_ecdh_read_public() -> mbedtls_ecp_tls_read_point() ->
 * mbedtls_ecp_point_read_binary() only parses it; the 1-byte 0x00
 * encoding even gives the point at infinity), and mbedTLS makes them in
 * mbedtls_ecp_mul(), which this replaces.  So they are made here, and
 * p256.c makes them again (limpet_p256_ecdh() refuses any point that is
 * not a valid public key, whoever calls it).
 *
 * A result at the point at infinity, which valid d and Q cannot give
 * (Q's order is n), would be MBEDTLS_ERR_ECP_BAD_INPUT_DATA, as ecdh.c
 * returns.  f_rng is not used: mbedTLS blinds its multiplication because
 * its arithmetic is not constant-time; ours is.
 */
static int
compute_shared_p256(mbedtls_mpi *z, const mbedtls_ecp_point *Q, const mbedtls_mpi *d)
{
	uint8_t k[P256_BYTES], qx[P256_BYTES], qy[P256_BYTES], out[P256_BYTES];
	int ret, err;

	MBEDTLS_MPI_CHK(mpi_to_32(k, d));
	if (!limpet_p256_scalar_ok(k)) {
		ret = MBEDTLS_ERR_ECP_INVALID_KEY;
		goto cleanup;
	}
	if (mbedtls_mpi_cmp_int(&Q->Z, 1) != 0) {
		ret = MBEDTLS_ERR_ECP_INVALID_KEY;
		goto cleanup;
	}
	MBEDTLS_MPI_CHK(mpi_to_32(qx, &Q->X));
	MBEDTLS_MPI_CHK(mpi_to_32(qy, &Q->Y));
	if (!limpet_p256_point_ok(qx, qy)) {
		ret = MBEDTLS_ERR_ECP_INVALID_KEY;
		goto cleanup;
	}
	err = limpet_p256_ecdh(out, k, qx, qy);
	if (err == -ERANGE) {
		ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
		goto cleanup;
	}
	if (err != 0) {			/* d and Q were checked above */
		ret = MBEDTLS_ERR_ECP_INVALID_KEY;
		goto cleanup;
	}
	MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary(z, out, sizeof(out)));
cleanup:
	mbedtls_platform_zeroize(k, sizeof(k));
	mbedtls_platform_zeroize(out, sizeof(out));
	return ret;
}

/* ecdh.c's mbedtls_ecdh_gen_public(), with Curve25519 and P-256 done by
 * us. */
int
mbedtls_ecdh_gen_public(mbedtls_ecp_group *grp, mbedtls_mpi *d, mbedtls_ecp_point *Q,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
	ECDH_VALIDATE_RET(grp != NULL);
	ECDH_VALIDATE_RET(d != NULL);
	ECDH_VALIDATE_RET(Q != NULL);
	ECDH_VALIDATE_RET(f_rng != NULL);
	if (grp->id == MBEDTLS_ECP_DP_CURVE25519)
		return gen_public_x25519(grp, d, Q, f_rng, p_rng);
	if (grp->id == MBEDTLS_ECP_DP_SECP256R1)
		return gen_public_p256(grp, d, Q, f_rng, p_rng);
	/* ecdh.c: a private key, then d G, blinded with f_rng. */
	return mbedtls_ecp_gen_keypair(grp, d, Q, f_rng, p_rng);
}

/* ecdh.c's mbedtls_ecdh_compute_shared() (SEC1 3.3.1), with Curve25519
 * and P-256 done by us. */
int
mbedtls_ecdh_compute_shared(mbedtls_ecp_group *grp, mbedtls_mpi *z,
    const mbedtls_ecp_point *Q, const mbedtls_mpi *d,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
	mbedtls_ecp_point P;
	int ret;

	ECDH_VALIDATE_RET(grp != NULL);
	ECDH_VALIDATE_RET(Q != NULL);
	ECDH_VALIDATE_RET(d != NULL);
	ECDH_VALIDATE_RET(z != NULL);
	if (grp->id == MBEDTLS_ECP_DP_CURVE25519)
		return compute_shared_x25519(grp, z, Q, d);
	if (grp->id == MBEDTLS_ECP_DP_SECP256R1)
		return compute_shared_p256(z, Q, d);

	/* ecdh.c: P = d Q (checking d and Q, blinded with f_rng), which must
	 * not be the point at infinity; the secret is P's X. */
	mbedtls_ecp_point_init(&P);
	MBEDTLS_MPI_CHK(mbedtls_ecp_mul(grp, &P, d, Q, f_rng, p_rng));
	if (mbedtls_ecp_is_zero(&P)) {
		ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
		goto cleanup;
	}
	MBEDTLS_MPI_CHK(mbedtls_mpi_copy(z, &P.X));
cleanup:
	mbedtls_ecp_point_free(&P);
	return ret;
}

/*
 * mbedtls_ecp_mul() (R = m P) where P is the base point of one of our two
 * curves, by our code; anything else by mbedTLS's (__real_...).  TLS
 * images link with -Wl,--wrap=mbedtls_ecp_mul (SConstruct), which sends
 * here the calls from mbedTLS's other files: above all PSA crypto's, which
 * mbedTLS's TLS 1.3 code makes its ECDHE key pairs with
 * (psa_crypto_ecp.c: a private key, then its public key m G through
 * mbedtls_ecp_mul()), outside the ECDH functions above.  ecp.c's calls to
 * itself stay mbedTLS's.  As mbedtls_ecp_mul() does, a private key out of
 * range is MBEDTLS_ERR_ECP_INVALID_KEY; our multiplications are constant
 * time, so f_rng (mbedTLS's blinding) is not needed.
 */
int __real_mbedtls_ecp_mul(mbedtls_ecp_group *grp, mbedtls_ecp_point *R,
    const mbedtls_mpi *m, const mbedtls_ecp_point *P,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng);
int __wrap_mbedtls_ecp_mul(mbedtls_ecp_group *grp, mbedtls_ecp_point *R,
    const mbedtls_mpi *m, const mbedtls_ecp_point *P,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng);

int
__wrap_mbedtls_ecp_mul(mbedtls_ecp_group *grp, mbedtls_ecp_point *R,
    const mbedtls_mpi *m, const mbedtls_ecp_point *P,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
	int ret;

	if (grp == NULL || R == NULL || m == NULL || P == NULL ||
	    (grp->id != MBEDTLS_ECP_DP_CURVE25519 && grp->id != MBEDTLS_ECP_DP_SECP256R1) ||
	    (P != &grp->G && mbedtls_ecp_point_cmp(P, &grp->G) != 0))
		return __real_mbedtls_ecp_mul(grp, R, m, P, f_rng, p_rng);
	if ((ret = mbedtls_ecp_check_privkey(grp, m)) != 0)
		return ret;
	limpet_ecp_base_muls++;
	return grp->id == MBEDTLS_ECP_DP_CURVE25519 ? base_mul_x25519(m, R) : base_mul_p256(m, R);
}
