/*
 * test_tls, continued: our P-256 (net/tls/p256.c) and the ECDSA
 * signatures mbedTLS now makes with it (net/tls/ecdsa_alt.c), against
 * mbedTLS's own code, which the image keeps for everything but signing:
 *
 *   - k G for random k and for the comb's edge cases, against
 *     mbedtls_ecp_mul() (mbedTLS's generic comb), and the ECDHE key
 *     pairs net/tls/ecdh_alt.c makes with it;
 *   - random keys and hashes of several lengths (none, shorter than,
 *     equal to and longer than 32 bytes): mbedtls_ecdsa_sign() must make
 *     a signature mbedtls_ecdsa_verify() accepts, and that fails for a
 *     changed hash;
 *   - for a fixed k, limpet_p256_sign() must give exactly the (r, s) that
 *     mbedTLS's bignum arithmetic computes from SEC 1's formulas;
 *   - the DER path TLS uses (mbedtls_ecdsa_write_signature(), then
 *     mbedtls_ecdsa_read_signature());
 *   - deterministic signatures (RFC 6979): A.2.5's P-256 vectors for the
 *     hashes the image has, through mbedtls_ecdsa_write_signature() with
 *     a random generator that fails, which it must not call;
 *   - bad input: keys out of range, a curve that cannot sign, a failing
 *     or useless random generator, a huge hash;
 *   - the speed, printed for people.
 */
/* A test: it looks inside mbedTLS's points, keys and configuration. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>

#include "p256.h"	/* net/tls/, on TLS images' include path */

#include "test_tls.h"

/* Random keys, scalars and hashes checked against mbedTLS. */
#define P256_CROSS_CHECKS	32
/* ECDHE key pairs checked. */
#define P256_KEY_PAIRS		8
/* Signatures timed (the figures are printed, not judged). */
#define P256_TIMED_SIGNS	100
#define P256_TIMED_REF		10

/* Hash lengths the random signatures cycle through: none, SHA-1's,
 * SHA-256's, SHA-384's and SHA-512's. */
static const size_t hash_lens[] = { 0, 20, 32, 48, 64 };

static int
rng_fails(void *p, unsigned char *buf, size_t len)
{
	(void)p; (void)buf; (void)len;
	return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

/* All ones: never a valid k (n < 2^256 - 1). */
static int
rng_all_ones(void *p, unsigned char *buf, size_t len)
{
	(void)p;
	memset(buf, 0xff, len);
	return 0;
}

/* k G by mbedTLS's generic code against ours; 1 when they agree. */
static int
base_mul_agrees(mbedtls_ecp_group *grp, const mbedtls_mpi *k, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_point ref;
	uint8_t kb[32], x[32], y[32], rx[32], ry[32];
	int ret, ok = 0;

	mbedtls_ecp_point_init(&ref);
	if ((ret = ref_ecp_mul(grp, &ref, k, &grp->G, mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_mpi_write_binary(&ref.X, rx, 32)) != 0 ||
	    (ret = mbedtls_mpi_write_binary(&ref.Y, ry, 32)) != 0 ||
	    (ret = mbedtls_mpi_write_binary(k, kb, 32)) != 0)
		CHECK(0, "P-256 k G: mbedTLS: -0x%04x", (unsigned int)-ret);
	else if ((ret = limpet_p256_base_mul(x, y, kb)) != 0)
		CHECK(0, "P-256 k G: limpet_p256_base_mul() returned %d", ret);
	else
		ok = memcmp(x, rx, 32) == 0 && memcmp(y, ry, 32) == 0;
	mbedtls_ecp_point_free(&ref);
	return ok;
}

/*
 * The signature for d, z and k by mbedTLS's arithmetic (SEC 1 4.1.3
 * steps 2-6, what ecdsa.c's own signing computes): r = x(k G) mod n,
 * s = k^-1 (z + r d) mod n, z < 2^256 reduced mod n.
 */
static int
reference_sign(mbedtls_ecp_group *grp, mbedtls_mpi *r, mbedtls_mpi *s, const mbedtls_mpi *d,
    const uint8_t z[32], const mbedtls_mpi *k, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_point R;
	mbedtls_mpi e, t;
	int ret;

	mbedtls_ecp_point_init(&R);
	mbedtls_mpi_init(&e);
	mbedtls_mpi_init(&t);
	MBEDTLS_MPI_CHK(ref_ecp_mul(grp, &R, k, &grp->G, mbedtls_ctr_drbg_random, drbg));
	MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(r, &R.X, &grp->N));
	MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary(&e, z, 32));
	MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&e, &e, &grp->N));
	MBEDTLS_MPI_CHK(mbedtls_mpi_mul_mpi(&t, r, d));
	MBEDTLS_MPI_CHK(mbedtls_mpi_add_mpi(&t, &t, &e));
	MBEDTLS_MPI_CHK(mbedtls_mpi_inv_mod(s, k, &grp->N));
	MBEDTLS_MPI_CHK(mbedtls_mpi_mul_mpi(s, s, &t));
	MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(s, s, &grp->N));
cleanup:
	mbedtls_mpi_free(&t);
	mbedtls_mpi_free(&e);
	mbedtls_ecp_point_free(&R);
	return ret;
}

/* k G at the comb's edges: 1, 2, (n-1)/2 and (n+1)/2 (where it starts
 * negating), n - 2, n - 1, and 2^255. */
static void
edge_scalars(mbedtls_ecp_group *grp, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_mpi k, half;
	int agreed = 0, n = 0;

	mbedtls_mpi_init(&k);
	mbedtls_mpi_init(&half);
	mbedtls_mpi_copy(&half, &grp->N);
	mbedtls_mpi_shift_r(&half, 1);			/* (n - 1) / 2 */
	for (int i = 0; i < 7; i++, n++) {
		switch (i) {
		case 0: mbedtls_mpi_lset(&k, 1); break;
		case 1: mbedtls_mpi_lset(&k, 2); break;
		case 2: mbedtls_mpi_copy(&k, &half); break;
		case 3: mbedtls_mpi_add_int(&k, &half, 1); break;
		case 4: mbedtls_mpi_sub_int(&k, &grp->N, 2); break;
		case 5: mbedtls_mpi_sub_int(&k, &grp->N, 1); break;
		case 6: mbedtls_mpi_lset(&k, 1); mbedtls_mpi_shift_l(&k, 255); break;
		}
		if (base_mul_agrees(grp, &k, drbg))
			agreed++;
	}
	printf("test_tls: P-256 k G agreed with mbedtls_ecp_mul() on %d of %d edge scalars\n",
	    agreed, n);
	CHECK(agreed == n, "P-256 k G: %d of %d edge scalars agreed", agreed, n);
	mbedtls_mpi_free(&half);
	mbedtls_mpi_free(&k);
}

static void
cross_check(mbedtls_ecp_group *grp, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_point Q;
	mbedtls_mpi d, k, r, s, rr, rs;
	uint8_t hash[64], kb[32], db[32], rb[32], sb[32];
	int ret, kg = 0, verified = 0, refused = 0, fixed = 0;

	mbedtls_ecp_point_init(&Q);
	mbedtls_mpi_init(&d); mbedtls_mpi_init(&k);
	mbedtls_mpi_init(&r); mbedtls_mpi_init(&s);
	mbedtls_mpi_init(&rr); mbedtls_mpi_init(&rs);
	for (int i = 0; i < P256_CROSS_CHECKS; i++) {
		size_t hlen = hash_lens[i % (sizeof(hash_lens) / sizeof(hash_lens[0]))];

		/* A key pair by mbedTLS: d, and Q = d G by its comb, which
		 * ours must match. */
		if ((ret = mbedtls_ecp_gen_privkey(grp, &d, mbedtls_ctr_drbg_random, drbg)) != 0 ||
		    (ret = ref_ecp_mul(grp, &Q, &d, &grp->G, mbedtls_ctr_drbg_random, drbg)) != 0 ||
		    (ret = mbedtls_ctr_drbg_random(drbg, hash, sizeof(hash))) != 0) {
			CHECK(0, "P-256 check %d: mbedTLS: -0x%04x", i, (unsigned int)-ret);
			break;
		}
		if (base_mul_agrees(grp, &d, drbg))
			kg++;

		/* Sign (ours, through ecdsa_alt.c); mbedTLS verifies. */
		ret = mbedtls_ecdsa_sign(grp, &r, &s, &d, hash, hlen, mbedtls_ctr_drbg_random, drbg);
		CHECK(ret == 0, "P-256 check %d: mbedtls_ecdsa_sign: -0x%04x", i, (unsigned int)-ret);
		if (ret == 0 && (ret = mbedtls_ecdsa_verify(grp, hash, hlen, &Q, &r, &s)) == 0)
			verified++;
		CHECK(ret == 0, "P-256 check %d: a %zu-byte hash's signature does not verify: -0x%04x",
		    i, hlen, (unsigned int)-ret);
		/* Another hash (a bit inside the 32 bytes that count) must
		 * not verify.  (A 0-byte hash has no other.) */
		if (hlen > 0) {
			hash[i % (hlen < 32 ? hlen : 32)] ^= 0x10;
			ret = mbedtls_ecdsa_verify(grp, hash, hlen, &Q, &r, &s);
			CHECK(ret == MBEDTLS_ERR_ECP_VERIFY_FAILED,
			    "P-256 check %d: a changed hash verified (-0x%04x)", i, (unsigned int)-ret);
			if (ret == MBEDTLS_ERR_ECP_VERIFY_FAILED)
				refused++;
		} else
			refused++;

		/* A fixed k: exactly mbedTLS's arithmetic's (r, s). */
		if ((ret = mbedtls_ecp_gen_privkey(grp, &k, mbedtls_ctr_drbg_random, drbg)) != 0 ||
		    (ret = mbedtls_mpi_write_binary(&k, kb, 32)) != 0 ||
		    (ret = mbedtls_mpi_write_binary(&d, db, 32)) != 0 ||
		    (ret = reference_sign(grp, &rr, &rs, &d, hash, &k, drbg)) != 0) {
			CHECK(0, "P-256 check %d: reference: -0x%04x", i, (unsigned int)-ret);
			break;
		}
		ret = limpet_p256_sign(rb, sb, db, hash, kb);
		CHECK(ret == 0, "P-256 check %d: limpet_p256_sign() returned %d", i, ret);
		if (ret == 0 && mbedtls_mpi_read_binary(&r, rb, 32) == 0 &&
		    mbedtls_mpi_read_binary(&s, sb, 32) == 0 &&
		    mbedtls_mpi_cmp_mpi(&r, &rr) == 0 && mbedtls_mpi_cmp_mpi(&s, &rs) == 0)
			fixed++;
	}
	printf("test_tls: P-256 k G agreed with mbedtls_ecp_mul() on %d of %d random scalars\n",
	    kg, P256_CROSS_CHECKS);
	CHECK(kg == P256_CROSS_CHECKS, "P-256 k G: %d of %d agreed", kg, P256_CROSS_CHECKS);
	printf("test_tls: P-256 signatures verified by mbedtls_ecdsa_verify() %d of %d, "
	    "changed hashes refused %d of %d\n", verified, P256_CROSS_CHECKS, refused,
	    P256_CROSS_CHECKS);
	CHECK(verified == P256_CROSS_CHECKS && refused == P256_CROSS_CHECKS,
	    "P-256 ECDSA: %d verified, %d refused, of %d", verified, refused, P256_CROSS_CHECKS);
	printf("test_tls: P-256 signatures with a fixed k agreed with mbedTLS's arithmetic "
	    "on %d of %d\n", fixed, P256_CROSS_CHECKS);
	CHECK(fixed == P256_CROSS_CHECKS, "P-256 fixed k: %d of %d agreed", fixed,
	    P256_CROSS_CHECKS);
	mbedtls_mpi_free(&rr); mbedtls_mpi_free(&rs);
	mbedtls_mpi_free(&r); mbedtls_mpi_free(&s);
	mbedtls_mpi_free(&d); mbedtls_mpi_free(&k);
	mbedtls_ecp_point_free(&Q);
}

/* ECDHE P-256 key pairs, which ecdh_alt.c makes with our comb: valid,
 * and Q = d G by mbedTLS's. */
static void
ecdh_key_pairs(mbedtls_ecp_group *grp, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_point Q, ref;
	mbedtls_mpi d;
	int ret, agreed = 0;

	mbedtls_ecp_point_init(&Q);
	mbedtls_ecp_point_init(&ref);
	mbedtls_mpi_init(&d);
	for (int i = 0; i < P256_KEY_PAIRS; i++) {
		if ((ret = mbedtls_ecdh_gen_public(grp, &d, &Q, mbedtls_ctr_drbg_random, drbg)) != 0 ||
		    (ret = ref_ecp_mul(grp, &ref, &d, &grp->G, mbedtls_ctr_drbg_random, drbg)) != 0) {
			CHECK(0, "P-256 key pair %d: -0x%04x", i, (unsigned int)-ret);
			break;
		}
		CHECK(mbedtls_ecp_check_privkey(grp, &d) == 0 && mbedtls_ecp_check_pubkey(grp, &Q) == 0,
		    "P-256 key pair %d: invalid", i);
		if (mbedtls_ecp_point_cmp(&Q, &ref) == 0)
			agreed++;
	}
	printf("test_tls: P-256 ECDHE key pairs equal mbedtls_ecp_mul()'s on %d of %d\n",
	    agreed, P256_KEY_PAIRS);
	CHECK(agreed == P256_KEY_PAIRS, "P-256 key pairs: %d of %d agreed", agreed, P256_KEY_PAIRS);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&ref);
	mbedtls_ecp_point_free(&Q);
}

/* The DER signature the TLS layer sends, and mbedTLS reading it back. */
static void
der_path(mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecdsa_context ctx;
	uint8_t hash[32], sig[MBEDTLS_ECDSA_MAX_LEN];
	size_t slen = 0;
	int ret;

	mbedtls_ecdsa_init(&ctx);
	if ((ret = mbedtls_ecdsa_genkey(&ctx, MBEDTLS_ECP_DP_SECP256R1,
	    mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_ctr_drbg_random(drbg, hash, sizeof(hash))) != 0 ||
	    (ret = mbedtls_ecdsa_write_signature(&ctx, MBEDTLS_MD_SHA256, hash, sizeof(hash),
	    sig, sizeof(sig), &slen, mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_ecdsa_read_signature(&ctx, hash, sizeof(hash), sig, slen)) != 0)
		CHECK(0, "P-256 DER signature: -0x%04x", (unsigned int)-ret);
	else
		printf("test_tls: P-256 DER signature of %zu bytes read back and verified\n", slen);
	mbedtls_ecdsa_free(&ctx);
}

/*
 * RFC 6979 A.2.5: P-256, private key x, messages "sample" and "test",
 * for SHA-224, SHA-256, SHA-384 and SHA-512 (the image has no SHA-1).
 * The signature must be exactly (r, s), whatever the generator given:
 * rng_fails() would make any draw from it an error.
 */
static const char rfc6979_x[] =
    "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
static const struct {
	const char *msg;
	mbedtls_md_type_t md;
	const char *r, *s;
} rfc6979_vectors[] = {
	{ "sample", MBEDTLS_MD_SHA224,
	  "53b2fff5d1752b2c689df257c04c40a587fababb3f6fc2702f1343af7ca9aa3f",
	  "b9afb64fdc03dc1a131c7d2386d11e349f070aa432a4acc918bea988bf75c74c" },
	{ "sample", MBEDTLS_MD_SHA256,
	  "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
	  "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8" },
	{ "sample", MBEDTLS_MD_SHA384,
	  "0eafea039b20e9b42309fb1d89e213057cbf973dc0cfc8f129edddc800ef7719",
	  "4861f0491e6998b9455193e34e7b0d284ddd7149a74b95b9261f13abde940954" },
	{ "sample", MBEDTLS_MD_SHA512,
	  "8496a60b5e9b47c825488827e0495b0e3fa109ec4568fd3f8d1097678eb97f00",
	  "2362ab1adbe2b8adf9cb9edab740ea6049c028114f2460f96554f61fae3302fe" },
	{ "test", MBEDTLS_MD_SHA224,
	  "c37edb6f0ae79d47c3c27e962fa269bb4f441770357e114ee511f662ec34a692",
	  "c820053a05791e521fcaad6042d40aea1d6b1a540138558f47d0719800e18f2d" },
	{ "test", MBEDTLS_MD_SHA256,
	  "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
	  "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083" },
	{ "test", MBEDTLS_MD_SHA384,
	  "83910e8b48bb0c74244ebdf7f07a1c5413d61472bd941ef3920e623fbccebeb6",
	  "8ddbec54cf8cd5874883841d712142a56a8d0f218f5003cb0296b6b509619f2c" },
	{ "test", MBEDTLS_MD_SHA512,
	  "461d93f31b6540894788fd206c07cfa0cc35f46fa3c91816fff1040ad1581a04",
	  "39af9f15de0db8d97e72719c74820d304ce5226e32dedae67519e840d1194e55" },
};

/* One vector: 1 when the DER signature holds exactly its r and s. */
static int
rfc6979_one(mbedtls_ecdsa_context *ctx, size_t i)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(rfc6979_vectors[i].md);
	const char *msg = rfc6979_vectors[i].msg;
	uint8_t hash[MBEDTLS_MD_MAX_SIZE], sig[MBEDTLS_ECDSA_MAX_LEN];
	unsigned char *p = sig, *end;
	mbedtls_mpi r, s, wr, ws;
	size_t slen = 0, len;
	int ret, ok = 0;

	mbedtls_mpi_init(&r); mbedtls_mpi_init(&s);
	mbedtls_mpi_init(&wr); mbedtls_mpi_init(&ws);
	if (md == NULL) {
		CHECK(0, "RFC 6979: no hash %d in the image", (int)rfc6979_vectors[i].md);
		goto out;
	}
	if ((ret = mbedtls_md(md, (const unsigned char *)msg, strlen(msg), hash)) != 0 ||
	    (ret = mbedtls_ecdsa_write_signature(ctx, rfc6979_vectors[i].md, hash,
	    mbedtls_md_get_size(md), sig, sizeof(sig), &slen, rng_fails, NULL)) != 0) {
		CHECK(0, "RFC 6979 %s, %s: -0x%04x", msg, mbedtls_md_get_name(md),
		    (unsigned int)-ret);
		goto out;
	}
	end = sig + slen;
	if ((ret = mbedtls_asn1_get_tag(&p, end, &len,
	    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) != 0 ||
	    (ret = mbedtls_asn1_get_mpi(&p, end, &r)) != 0 ||
	    (ret = mbedtls_asn1_get_mpi(&p, end, &s)) != 0 ||
	    (ret = mbedtls_mpi_read_string(&wr, 16, rfc6979_vectors[i].r)) != 0 ||
	    (ret = mbedtls_mpi_read_string(&ws, 16, rfc6979_vectors[i].s)) != 0) {
		CHECK(0, "RFC 6979 %s, %s: DER: -0x%04x", msg, mbedtls_md_get_name(md),
		    (unsigned int)-ret);
		goto out;
	}
	ok = p == end && mbedtls_mpi_cmp_mpi(&r, &wr) == 0 && mbedtls_mpi_cmp_mpi(&s, &ws) == 0;
	CHECK(ok, "RFC 6979 %s, %s: not the RFC's (r, s)", msg, mbedtls_md_get_name(md));
out:
	mbedtls_mpi_free(&r); mbedtls_mpi_free(&s);
	mbedtls_mpi_free(&wr); mbedtls_mpi_free(&ws);
	return ok;
}

static void
rfc6979(void)
{
	mbedtls_ecdsa_context ctx;
	size_t n = sizeof(rfc6979_vectors) / sizeof(rfc6979_vectors[0]);
	int agreed = 0, ret;

	mbedtls_ecdsa_init(&ctx);
	if ((ret = mbedtls_ecp_group_load(&ctx.grp, MBEDTLS_ECP_DP_SECP256R1)) != 0 ||
	    (ret = mbedtls_mpi_read_string(&ctx.d, 16, rfc6979_x)) != 0) {
		CHECK(0, "RFC 6979 key: -0x%04x", (unsigned int)-ret);
	} else {
		for (size_t i = 0; i < n; i++)
			agreed += rfc6979_one(&ctx, i);
		printf("test_tls: P-256 RFC 6979 signatures with a failing RNG: %d of %zu "
		    "equal RFC 6979 A.2.5's\n", agreed, n);
	}
	mbedtls_ecdsa_free(&ctx);
}

/* Each bad input gets an error, not a signature or a fault. */
static void
bad_input(mbedtls_ecp_group *grp, mbedtls_ctr_drbg_context *drbg)
{
	static uint8_t huge[4096];
	mbedtls_ecp_group x25519;
	mbedtls_ecp_point Q;
	mbedtls_mpi d, r, s;
	uint8_t hash[32] = { 1, 2, 3 };
	int ret;

	mbedtls_ecp_group_init(&x25519);
	mbedtls_ecp_point_init(&Q);
	mbedtls_mpi_init(&d); mbedtls_mpi_init(&r); mbedtls_mpi_init(&s);

	/* Private keys 0, n, -1 and 2^300. */
	for (int i = 0; i < 4; i++) {
		switch (i) {
		case 0: mbedtls_mpi_lset(&d, 0); break;
		case 1: mbedtls_mpi_copy(&d, &grp->N); break;
		case 2: mbedtls_mpi_lset(&d, -1); break;
		case 3: mbedtls_mpi_lset(&d, 1); mbedtls_mpi_shift_l(&d, 300); break;
		}
		ret = mbedtls_ecdsa_sign(grp, &r, &s, &d, hash, sizeof(hash),
		    mbedtls_ctr_drbg_random, drbg);
		CHECK(ret == MBEDTLS_ERR_ECP_INVALID_KEY,
		    "P-256: bad private key %d gave -0x%04x, not INVALID_KEY", i, (unsigned int)-ret);
	}

	/* A good key from here on. */
	mbedtls_ecp_gen_privkey(grp, &d, mbedtls_ctr_drbg_random, drbg);
	ref_ecp_mul(grp, &Q, &d, &grp->G, mbedtls_ctr_drbg_random, drbg);

	/* The generator's error comes back; one that never gives a valid k
	 * is reported as such. */
	ret = mbedtls_ecdsa_sign(grp, &r, &s, &d, hash, sizeof(hash), rng_fails, NULL);
	CHECK(ret == MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED,
	    "P-256: a failing RNG gave -0x%04x", (unsigned int)-ret);
	ret = mbedtls_ecdsa_sign(grp, &r, &s, &d, hash, sizeof(hash), rng_all_ones, NULL);
	CHECK(ret == MBEDTLS_ERR_ECP_RANDOM_FAILED,
	    "P-256: an RNG with no valid k gave -0x%04x", (unsigned int)-ret);
	ret = mbedtls_ecdsa_sign(grp, &r, &s, &d, hash, sizeof(hash), NULL, NULL);
	CHECK(ret == MBEDTLS_ERR_ECP_BAD_INPUT_DATA, "P-256: no RNG gave -0x%04x",
	    (unsigned int)-ret);

	/* No hash at all (NULL, 0), and a 4 KiB one: both sign, and
	 * mbedTLS's verification, which cuts hashes as SEC 1 says, agrees. */
	ret = mbedtls_ecdsa_sign(grp, &r, &s, &d, NULL, 0, mbedtls_ctr_drbg_random, drbg);
	CHECK(ret == 0 && mbedtls_ecdsa_verify(grp, NULL, 0, &Q, &r, &s) == 0,
	    "P-256: an empty hash: -0x%04x", (unsigned int)-ret);
	ret = mbedtls_ecdsa_sign(grp, &r, &s, &d, NULL, 1, mbedtls_ctr_drbg_random, drbg);
	CHECK(ret == MBEDTLS_ERR_ECP_BAD_INPUT_DATA, "P-256: a NULL hash of 1 byte gave -0x%04x",
	    (unsigned int)-ret);
	mbedtls_ctr_drbg_random(drbg, huge, sizeof(huge));
	ret = mbedtls_ecdsa_sign(grp, &r, &s, &d, huge, sizeof(huge), mbedtls_ctr_drbg_random, drbg);
	CHECK(ret == 0 && mbedtls_ecdsa_verify(grp, huge, sizeof(huge), &Q, &r, &s) == 0,
	    "P-256: a 4 KiB hash: -0x%04x", (unsigned int)-ret);

	/* Curve25519 cannot sign, as ecdsa.c says too. */
	ret = mbedtls_ecp_group_load(&x25519, MBEDTLS_ECP_DP_CURVE25519);
	CHECK(ret == 0, "Curve25519 group: -0x%04x", (unsigned int)-ret);
	ret = mbedtls_ecdsa_sign(&x25519, &r, &s, &d, hash, sizeof(hash),
	    mbedtls_ctr_drbg_random, drbg);
	CHECK(ret == MBEDTLS_ERR_ECP_BAD_INPUT_DATA, "Curve25519 ECDSA gave -0x%04x",
	    (unsigned int)-ret);
	CHECK(mbedtls_ecdsa_can_do(MBEDTLS_ECP_DP_SECP256R1) &&
	    !mbedtls_ecdsa_can_do(MBEDTLS_ECP_DP_CURVE25519), "mbedtls_ecdsa_can_do()");
	printf("test_tls: P-256 ECDSA refused bad keys, curves and generators\n");

	mbedtls_mpi_free(&d); mbedtls_mpi_free(&r); mbedtls_mpi_free(&s);
	mbedtls_ecp_point_free(&Q);
	mbedtls_ecp_group_free(&x25519);
}

/* How long a signature takes, ours and mbedTLS's arithmetic (under TCG,
 * guest time); the first call also builds the table. */
static void
time_sign(mbedtls_ecp_group *grp, mbedtls_ctr_drbg_context *drbg, uint64_t first)
{
	mbedtls_mpi d, k, r, s;
	uint8_t db[32], kb[32], z[32], rb[32], sb[32];
	uint64_t t0, ours, theirs = 0;
	int n = 0;

	mbedtls_mpi_init(&d); mbedtls_mpi_init(&k);
	mbedtls_mpi_init(&r); mbedtls_mpi_init(&s);
	mbedtls_ecp_gen_privkey(grp, &d, mbedtls_ctr_drbg_random, drbg);
	mbedtls_ecp_gen_privkey(grp, &k, mbedtls_ctr_drbg_random, drbg);
	mbedtls_mpi_write_binary(&d, db, 32);
	mbedtls_mpi_write_binary(&k, kb, 32);
	mbedtls_ctr_drbg_random(drbg, z, sizeof(z));

	t0 = now_us();
	for (int i = 0; i < P256_TIMED_SIGNS; i++) {
		limpet_p256_sign(rb, sb, db, z, kb);
		z[0]++;
	}
	ours = now_us() - t0;
	t0 = now_us();
	for (; n < P256_TIMED_REF; n++)
		if (reference_sign(grp, &r, &s, &d, z, &k, drbg) != 0)
			break;
	theirs = now_us() - t0;
	printf("test_tls: %d P-256 signatures in %llu ms, %llu us each; mbedTLS's "
	    "arithmetic %llu us each; the first k G, with the table, %llu us\n",
	    P256_TIMED_SIGNS, (unsigned long long)ours / 1000,
	    (unsigned long long)ours / P256_TIMED_SIGNS,
	    n ? (unsigned long long)theirs / n : 0ULL, (unsigned long long)first);
	mbedtls_mpi_free(&d); mbedtls_mpi_free(&k);
	mbedtls_mpi_free(&r); mbedtls_mpi_free(&s);
}

void
check_p256(mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_group grp;
	uint8_t one[32] = { [31] = 1 }, x[32], y[32];
	uint64_t t0, first;
	int ret;

	/* The first call builds the table: timed, and it must give G. */
	t0 = now_us();
	ret = limpet_p256_base_mul(x, y, one);
	first = now_us() - t0;
	CHECK(ret == 0, "limpet_p256_base_mul(1): %d", ret);

	mbedtls_ecp_group_init(&grp);
	ret = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
	CHECK(ret == 0, "P-256 group: -0x%04x", (unsigned int)-ret);
	if (ret == 0) {
		edge_scalars(&grp, drbg);
		cross_check(&grp, drbg);
		ecdh_key_pairs(&grp, drbg);
		der_path(drbg);
		rfc6979();
		bad_input(&grp, drbg);
		time_sign(&grp, drbg, first);
	}
	mbedtls_ecp_group_free(&grp);
}
