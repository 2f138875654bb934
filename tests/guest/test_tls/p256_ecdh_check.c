/*
 * test_tls, continued: P-256 ECDH, the shared secret net/tls/ecdh_alt.c
 * now computes with our variable-base multiplication (net/tls/p256.c),
 * against mbedtls_ecp_mul(), mbedTLS's generic code, which the image
 * keeps:
 *
 *   - d Q for random d and random points Q, and for d at the edges of
 *     the scalar recoding, by limpet_p256_mul() and through
 *     mbedtls_ecdh_compute_shared();
 *   - whole exchanges, key pairs and secrets through ecdh_alt.c, both
 *     ways: each side's secret equal to the other's and to mbedTLS's;
 *   - bad input: points off the curve, coordinates of p or more, the
 *     point at infinity (also as the 1-byte 0x00 encoding, from the wire,
 *     which mbedTLS's TLS path reads without checking), non-affine and
 *     negative coordinates, private keys out of range; and
 *     limpet_p256_point_ok() agreeing with mbedtls_ecp_check_pubkey();
 *   - the speed, printed for people.
 */
/* A test: it looks inside mbedTLS's points, keys and configuration. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>

#include "p256.h"	/* net/tls/, on TLS images' include path */

#include "test_tls.h"

/* Random scalars and points checked against mbedTLS. */
#define ECDH_CROSS_CHECKS	32
/* Exchanges between two parties through ecdh_alt.c. */
#define ECDH_EXCHANGES		8
/* Shared secrets timed (the figures are printed, not judged). */
#define ECDH_TIMED		100
#define ECDH_TIMED_REF		10

/* A random public key by mbedTLS alone: k G by its comb. */
static int
random_point(mbedtls_ecp_group *grp, mbedtls_ecp_point *Q, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_mpi k;
	int ret;

	mbedtls_mpi_init(&k);
	MBEDTLS_MPI_CHK(mbedtls_ecp_gen_privkey(grp, &k, mbedtls_ctr_drbg_random, drbg));
	MBEDTLS_MPI_CHK(ref_ecp_mul(grp, Q, &k, &grp->G, mbedtls_ctr_drbg_random, drbg));
cleanup:
	mbedtls_mpi_free(&k);
	return ret;
}

/*
 * d Q by mbedtls_ecp_mul() against limpet_p256_mul() (both coordinates)
 * and mbedtls_ecdh_compute_shared() (through ecdh_alt.c: x).  *mul_ok and
 * *shared_ok are set to 1 when each agrees.
 */
static void
mul_agrees(mbedtls_ecp_group *grp, const mbedtls_mpi *d, const mbedtls_ecp_point *Q,
    mbedtls_ctr_drbg_context *drbg, int *mul_ok, int *shared_ok)
{
	mbedtls_ecp_point ref;
	mbedtls_mpi z;
	uint8_t db[32], qx[32], qy[32], x[32], y[32], rx[32], ry[32];
	int ret;

	*mul_ok = *shared_ok = 0;
	mbedtls_ecp_point_init(&ref);
	mbedtls_mpi_init(&z);
	if ((ret = ref_ecp_mul(grp, &ref, d, Q, mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_mpi_write_binary(&ref.X, rx, 32)) != 0 ||
	    (ret = mbedtls_mpi_write_binary(&ref.Y, ry, 32)) != 0 ||
	    (ret = mbedtls_mpi_write_binary(d, db, 32)) != 0 ||
	    (ret = mbedtls_mpi_write_binary(&Q->X, qx, 32)) != 0 ||
	    (ret = mbedtls_mpi_write_binary(&Q->Y, qy, 32)) != 0) {
		CHECK(0, "P-256 d Q: mbedTLS: -0x%04x", (unsigned int)-ret);
		goto out;
	}
	ret = limpet_p256_mul(x, y, db, qx, qy);
	CHECK(ret == 0, "P-256 d Q: limpet_p256_mul() returned %d", ret);
	*mul_ok = ret == 0 && memcmp(x, rx, 32) == 0 && memcmp(y, ry, 32) == 0;
	ret = mbedtls_ecdh_compute_shared(grp, &z, Q, d, mbedtls_ctr_drbg_random, drbg);
	CHECK(ret == 0, "P-256 d Q: mbedtls_ecdh_compute_shared(): -0x%04x", (unsigned int)-ret);
	*shared_ok = ret == 0 && mbedtls_mpi_cmp_mpi(&z, &ref.X) == 0;
out:
	mbedtls_mpi_free(&z);
	mbedtls_ecp_point_free(&ref);
}

/* Random d and Q, then d at the recoding's edges (1, 2, (n-1)/2 and
 * (n+1)/2, where it starts negating, n - 2, n - 1, 2^255) with random Q. */
static void
cross_check(mbedtls_ecp_group *grp, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_point Q;
	mbedtls_mpi d, half;
	int ret, m, s, muls = 0, shared = 0, edge_muls = 0, edge_shared = 0, edges = 7;

	mbedtls_ecp_point_init(&Q);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&half);
	for (int i = 0; i < ECDH_CROSS_CHECKS; i++) {
		if ((ret = mbedtls_ecp_gen_privkey(grp, &d, mbedtls_ctr_drbg_random, drbg)) != 0 ||
		    (ret = random_point(grp, &Q, drbg)) != 0) {
			CHECK(0, "P-256 ECDH check %d: mbedTLS: -0x%04x", i, (unsigned int)-ret);
			break;
		}
		mul_agrees(grp, &d, &Q, drbg, &m, &s);
		muls += m;
		shared += s;
	}
	mbedtls_mpi_copy(&half, &grp->N);
	mbedtls_mpi_shift_r(&half, 1);			/* (n - 1) / 2 */
	for (int i = 0; i < edges; i++) {
		switch (i) {
		case 0: mbedtls_mpi_lset(&d, 1); break;
		case 1: mbedtls_mpi_lset(&d, 2); break;
		case 2: mbedtls_mpi_copy(&d, &half); break;
		case 3: mbedtls_mpi_add_int(&d, &half, 1); break;
		case 4: mbedtls_mpi_sub_int(&d, &grp->N, 2); break;
		case 5: mbedtls_mpi_sub_int(&d, &grp->N, 1); break;
		case 6: mbedtls_mpi_lset(&d, 1); mbedtls_mpi_shift_l(&d, 255); break;
		}
		if ((ret = random_point(grp, &Q, drbg)) != 0) {
			CHECK(0, "P-256 ECDH edge %d: mbedTLS: -0x%04x", i, (unsigned int)-ret);
			break;
		}
		mul_agrees(grp, &d, &Q, drbg, &m, &s);
		edge_muls += m;
		edge_shared += s;
	}
	printf("test_tls: P-256 d Q agreed with mbedtls_ecp_mul() on %d of %d random scalars "
	    "and points\n", muls, ECDH_CROSS_CHECKS);
	printf("test_tls: P-256 d Q agreed with mbedtls_ecp_mul() on %d of %d edge scalars\n",
	    edge_muls, edges);
	printf("test_tls: P-256 mbedtls_ecdh_compute_shared() agreed with mbedtls_ecp_mul() "
	    "on %d of %d\n", shared + edge_shared, ECDH_CROSS_CHECKS + edges);
	CHECK(muls == ECDH_CROSS_CHECKS && edge_muls == edges,
	    "P-256 d Q: %d of %d random, %d of %d edge agreed", muls, ECDH_CROSS_CHECKS,
	    edge_muls, edges);
	CHECK(shared + edge_shared == ECDH_CROSS_CHECKS + edges,
	    "P-256 ECDH secrets: %d of %d agreed", shared + edge_shared, ECDH_CROSS_CHECKS + edges);
	mbedtls_mpi_free(&half);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&Q);
}

/* Two parties, key pairs and secrets all through ecdh_alt.c: a (b G) and
 * b (a G), which must be equal, and equal to mbedTLS's a (b G). */
static void
both_ways(mbedtls_ecp_group *grp, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_point qa, qb, ref;
	mbedtls_mpi da, db, za, zb;
	int ret, agreed = 0;

	mbedtls_ecp_point_init(&qa); mbedtls_ecp_point_init(&qb); mbedtls_ecp_point_init(&ref);
	mbedtls_mpi_init(&da); mbedtls_mpi_init(&db);
	mbedtls_mpi_init(&za); mbedtls_mpi_init(&zb);
	for (int i = 0; i < ECDH_EXCHANGES; i++) {
		if ((ret = mbedtls_ecdh_gen_public(grp, &da, &qa, mbedtls_ctr_drbg_random, drbg)) != 0 ||
		    (ret = mbedtls_ecdh_gen_public(grp, &db, &qb, mbedtls_ctr_drbg_random, drbg)) != 0 ||
		    (ret = mbedtls_ecdh_compute_shared(grp, &za, &qb, &da,
		    mbedtls_ctr_drbg_random, drbg)) != 0 ||
		    (ret = mbedtls_ecdh_compute_shared(grp, &zb, &qa, &db,
		    mbedtls_ctr_drbg_random, drbg)) != 0 ||
		    (ret = ref_ecp_mul(grp, &ref, &da, &qb, mbedtls_ctr_drbg_random, drbg)) != 0) {
			CHECK(0, "P-256 exchange %d: -0x%04x", i, (unsigned int)-ret);
			break;
		}
		if (mbedtls_mpi_cmp_mpi(&za, &zb) == 0 && mbedtls_mpi_cmp_mpi(&za, &ref.X) == 0)
			agreed++;
	}
	printf("test_tls: P-256 ECDH both ways agreed with each other and mbedtls_ecp_mul() "
	    "on %d of %d\n", agreed, ECDH_EXCHANGES);
	CHECK(agreed == ECDH_EXCHANGES, "P-256 exchanges: %d of %d agreed", agreed, ECDH_EXCHANGES);
	mbedtls_mpi_free(&za); mbedtls_mpi_free(&zb);
	mbedtls_mpi_free(&da); mbedtls_mpi_free(&db);
	mbedtls_ecp_point_free(&ref); mbedtls_ecp_point_free(&qb); mbedtls_ecp_point_free(&qa);
}

/* Bad inputs tried, and refused as they should be. */
struct tally {
	int cases, ok;
};

/*
 * One bad public key: mbedTLS's own check and ours must refuse it, and
 * mbedtls_ecdh_compute_shared() (ecdh_alt.c) must give INVALID_KEY.
 * limpet_p256_point_ok(), which takes affine coordinates, is asked too
 * when Q is affine (Z = 1; ecdh_alt.c refuses any other Z itself) and its
 * coordinates fit in 32 bytes.
 */
static void
refused(struct tally *t, mbedtls_ecp_group *grp, const mbedtls_ecp_point *Q,
    const mbedtls_mpi *d, const char *what, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_mpi z;
	uint8_t qx[32], qy[32];
	int ret, ok = 1;

	mbedtls_mpi_init(&z);
	ret = mbedtls_ecp_check_pubkey(grp, Q);
	CHECK(ret == MBEDTLS_ERR_ECP_INVALID_KEY, "P-256 %s: mbedtls_ecp_check_pubkey(): -0x%04x",
	    what, (unsigned int)-ret);
	ok &= ret == MBEDTLS_ERR_ECP_INVALID_KEY;
	ret = mbedtls_ecdh_compute_shared(grp, &z, Q, d, mbedtls_ctr_drbg_random, drbg);
	CHECK(ret == MBEDTLS_ERR_ECP_INVALID_KEY,
	    "P-256 %s: mbedtls_ecdh_compute_shared() gave -0x%04x, not INVALID_KEY", what,
	    (unsigned int)-ret);
	ok &= ret == MBEDTLS_ERR_ECP_INVALID_KEY;
	if (mbedtls_mpi_cmp_int(&Q->Z, 1) == 0 && Q->X.s > 0 && Q->Y.s > 0 &&
	    mbedtls_mpi_write_binary(&Q->X, qx, 32) == 0 &&
	    mbedtls_mpi_write_binary(&Q->Y, qy, 32) == 0) {
		CHECK(!limpet_p256_point_ok(qx, qy), "P-256 %s: limpet_p256_point_ok()", what);
		ok &= !limpet_p256_point_ok(qx, qy);
	}
	mbedtls_mpi_free(&z);
	t->cases++;
	t->ok += ok;
}

/*
 * The client's public key as the TLS server reads it (ClientKeyExchange:
 * a length byte, then the point), then the secret: mbedtls_ecdh_read_public()
 * takes the point unchecked, and the secret must fail with INVALID_KEY.
 */
static void
refused_from_wire(struct tally *t, const unsigned char *msg, size_t len, const char *what,
    mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecdh_context srv;
	unsigned char params[256], z[66];
	size_t plen, zlen;
	int ret;

	mbedtls_ecdh_init(&srv);
	if ((ret = mbedtls_ecdh_setup(&srv, MBEDTLS_ECP_DP_SECP256R1)) != 0 ||
	    (ret = mbedtls_ecdh_make_params(&srv, &plen, params, sizeof(params),
	    mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_ecdh_read_public(&srv, msg, len)) != 0)
		CHECK(0, "P-256 %s from the wire: read: -0x%04x", what, (unsigned int)-ret);
	else {
		ret = mbedtls_ecdh_calc_secret(&srv, &zlen, z, sizeof(z),
		    mbedtls_ctr_drbg_random, drbg);
		CHECK(ret == MBEDTLS_ERR_ECP_INVALID_KEY,
		    "P-256 %s from the wire: the secret gave -0x%04x, not INVALID_KEY", what,
		    (unsigned int)-ret);
	}
	mbedtls_ecdh_free(&srv);
	t->cases++;
	t->ok += ret == MBEDTLS_ERR_ECP_INVALID_KEY;
}

static void
bad_input(mbedtls_ecp_group *grp, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_point good, bad;
	mbedtls_mpi d, z;
	unsigned char wire[66];
	uint8_t qx[32], qy[32];
	struct tally t = { 0, 0 };
	int ret, agree = 0;

	mbedtls_ecp_point_init(&good);
	mbedtls_ecp_point_init(&bad);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&z);
	if ((ret = mbedtls_ecp_gen_privkey(grp, &d, mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = random_point(grp, &good, drbg)) != 0) {
		CHECK(0, "P-256 ECDH bad input: mbedTLS: -0x%04x", (unsigned int)-ret);
		goto out;
	}

	/* Off the curve: y + 1, x + 1.  Each is on another curve
	 * y^2 = x^3 - 3x + b', which the formulas, never using b, would work
	 * on: the invalid-curve attack. */
	mbedtls_ecp_copy(&bad, &good);
	mbedtls_mpi_add_int(&bad.Y, &bad.Y, 1);
	mbedtls_mpi_mod_mpi(&bad.Y, &bad.Y, &grp->P);
	refused(&t, grp, &bad, &d, "y + 1", drbg);
	mbedtls_ecp_copy(&bad, &good);
	mbedtls_mpi_add_int(&bad.X, &bad.X, 1);
	mbedtls_mpi_mod_mpi(&bad.X, &bad.X, &grp->P);
	refused(&t, grp, &bad, &d, "x + 1", drbg);
	/* Coordinates of p or more: the same point mod p. */
	mbedtls_ecp_copy(&bad, &good);
	mbedtls_mpi_add_mpi(&bad.X, &bad.X, &grp->P);
	refused(&t, grp, &bad, &d, "x + p", drbg);
	mbedtls_ecp_copy(&bad, &good);
	mbedtls_mpi_add_mpi(&bad.Y, &bad.Y, &grp->P);
	refused(&t, grp, &bad, &d, "y + p", drbg);
	mbedtls_ecp_copy(&bad, &good);
	mbedtls_mpi_copy(&bad.X, &grp->P);
	refused(&t, grp, &bad, &d, "x = p", drbg);
	/* A negative coordinate. */
	mbedtls_ecp_copy(&bad, &good);
	mbedtls_mpi_sub_mpi(&bad.X, &bad.X, &grp->P);
	refused(&t, grp, &bad, &d, "x - p", drbg);
	/* The point at infinity (mbedTLS's Z = 0), (0, 0), and Z = 2. */
	mbedtls_ecp_set_zero(&bad);
	refused(&t, grp, &bad, &d, "the point at infinity", drbg);
	mbedtls_mpi_lset(&bad.X, 0);
	mbedtls_mpi_lset(&bad.Y, 0);
	mbedtls_mpi_lset(&bad.Z, 1);
	refused(&t, grp, &bad, &d, "(0, 0)", drbg);
	mbedtls_ecp_copy(&bad, &good);
	mbedtls_mpi_lset(&bad.Z, 2);
	refused(&t, grp, &bad, &d, "Z = 2", drbg);

	/* From the wire: an off-curve point, and the point at infinity in
	 * its 1-byte encoding. */
	mbedtls_mpi_write_binary(&good.X, qx, 32);
	mbedtls_mpi_write_binary(&good.Y, qy, 32);
	wire[0] = 65;
	wire[1] = 0x04;
	memcpy(wire + 2, qx, 32);
	memcpy(wire + 34, qy, 32);
	wire[65] ^= 1;
	refused_from_wire(&t, wire, 66, "y ^ 1", drbg);
	wire[0] = 1;
	wire[1] = 0x00;
	refused_from_wire(&t, wire, 2, "the point at infinity", drbg);

	/* Private keys 0, n, -1 and 2^300, with a good point. */
	for (int i = 0; i < 4; i++, t.cases++) {
		switch (i) {
		case 0: mbedtls_mpi_lset(&d, 0); break;
		case 1: mbedtls_mpi_copy(&d, &grp->N); break;
		case 2: mbedtls_mpi_lset(&d, -1); break;
		case 3: mbedtls_mpi_lset(&d, 1); mbedtls_mpi_shift_l(&d, 300); break;
		}
		ret = mbedtls_ecdh_compute_shared(grp, &z, &good, &d, mbedtls_ctr_drbg_random, drbg);
		CHECK(ret == MBEDTLS_ERR_ECP_INVALID_KEY,
		    "P-256 ECDH: bad private key %d gave -0x%04x, not INVALID_KEY", i,
		    (unsigned int)-ret);
		t.ok += ret == MBEDTLS_ERR_ECP_INVALID_KEY;
	}
	printf("test_tls: P-256 ECDH refused %d of %d bad points and keys\n", t.ok, t.cases);
	CHECK(t.ok == t.cases, "P-256 ECDH: %d of %d bad inputs refused", t.ok, t.cases);

	/* And good points are good to both checks. */
	for (int i = 0; i < 8; i++) {
		if (random_point(grp, &good, drbg) != 0)
			break;
		mbedtls_mpi_write_binary(&good.X, qx, 32);
		mbedtls_mpi_write_binary(&good.Y, qy, 32);
		if (mbedtls_ecp_check_pubkey(grp, &good) == 0 && limpet_p256_point_ok(qx, qy))
			agree++;
	}
	printf("test_tls: P-256 limpet_p256_point_ok() accepted %d of 8 valid points\n", agree);
	CHECK(agree == 8, "P-256: limpet_p256_point_ok() accepted %d of 8 valid points", agree);
out:
	mbedtls_mpi_free(&z);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&bad);
	mbedtls_ecp_point_free(&good);
}

/* How long a shared secret takes, ours and mbedtls_ecp_mul()'s (guest
 * time, TCG or KVM). */
static void
time_ecdh(mbedtls_ecp_group *grp, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_point Q, R;
	mbedtls_mpi d;
	uint8_t db[32], qx[32], qy[32], z[32];
	uint64_t t0, ours, theirs;
	int n = 0;

	mbedtls_ecp_point_init(&Q);
	mbedtls_ecp_point_init(&R);
	mbedtls_mpi_init(&d);
	if (mbedtls_ecp_gen_privkey(grp, &d, mbedtls_ctr_drbg_random, drbg) != 0 ||
	    random_point(grp, &Q, drbg) != 0 ||
	    mbedtls_mpi_write_binary(&d, db, 32) != 0 ||
	    mbedtls_mpi_write_binary(&Q.X, qx, 32) != 0 ||
	    mbedtls_mpi_write_binary(&Q.Y, qy, 32) != 0) {
		CHECK(0, "P-256 ECDH timing: mbedTLS");
		goto out;
	}
	t0 = now_us();
	for (int i = 0; i < ECDH_TIMED; i++)
		CHECK(limpet_p256_ecdh(z, db, qx, qy) == 0, "P-256 ECDH timing: failed");
	ours = now_us() - t0;
	t0 = now_us();
	for (; n < ECDH_TIMED_REF; n++)
		if (ref_ecp_mul(grp, &R, &d, &Q, mbedtls_ctr_drbg_random, drbg) != 0)
			break;
	theirs = now_us() - t0;
	printf("test_tls: %d P-256 ECDH secrets in %llu ms, %llu us each; mbedtls_ecp_mul() "
	    "%llu us each\n", ECDH_TIMED, (unsigned long long)ours / 1000,
	    (unsigned long long)ours / ECDH_TIMED, n ? (unsigned long long)theirs / n : 0ULL);
out:
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&R);
	mbedtls_ecp_point_free(&Q);
}

void
check_p256_ecdh(mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_group grp;
	int ret;

	mbedtls_ecp_group_init(&grp);
	ret = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
	CHECK(ret == 0, "P-256 group: -0x%04x", (unsigned int)-ret);
	if (ret == 0) {
		cross_check(&grp, drbg);
		both_ways(&grp, drbg);
		bad_input(&grp, drbg);
		time_ecdh(&grp, drbg);
	}
	mbedtls_ecp_group_free(&grp);
}
