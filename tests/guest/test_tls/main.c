/*
 * test_tls: mbedTLS as Limpet builds it, in the guest: the self-tests of
 * every module the configuration enables, the hardware entropy source and
 * a DRBG seeded from it (the value printed differs between boots:
 * tests/test_tls.py compares two), ECDHE key agreement over X25519 and
 * P-256 between two parties in memory (through net/tls/ecdh_alt.c, both
 * with the bare primitives and with the ECDH contexts the TLS layer uses),
 * our X25519 (net/tls/x25519.c) against mbedTLS's generic Curve25519
 * ladder for random scalars and points, its refusal of small-order points
 * and its speed, our P-256 signatures (net/tls/p256.c, through
 * net/tls/ecdsa_alt.c) against mbedTLS's verification and arithmetic
 * (p256_check.c), our P-256 ECDH shared secrets and public-key checks
 * against mbedTLS's (p256_ecdh_check.c), the wall clock, the cipher suites compiled in, the TLS
 * server configuration from the embedded certificate, and the heap a
 * connection's TLS context takes.
 *
 * Prints "test_tls: OK" and exits 0, or names each failed check.  Without
 * a hardware entropy source the TLS setup stops the machine with
 * LIMPET_TLS_SETUP_STATUS before the "OK".
 */
/* A test: it looks inside mbedTLS's points, keys and configuration. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/aes.h>
#include <mbedtls/base64.h>
#include <mbedtls/bignum.h>
#include <mbedtls/chacha20.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/poly1305.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <psa/crypto.h>

#include <kernel/entropy.h>
#include <limpet/tls.h>

#include "tls_priv.h"	/* net/tls/, on TLS images' include path */
#include "x25519.h"

#include "test_tls.h"

#define AFTER_2024	1704067200LL	/* 2024-01-01T00:00:00Z */

/* Random scalars and points our X25519 is checked on against mbedTLS's. */
#define X25519_CROSS_CHECKS	32
/* X25519 calls timed (the figure is printed, not judged). */
#define X25519_TIMED_CALLS	100

int failures;

static const struct {
	const char *name;
	int (*fn)(int verbose);
} self_tests[] = {
	{ "aes", mbedtls_aes_self_test },
	{ "gcm", mbedtls_gcm_self_test },
	{ "chacha20", mbedtls_chacha20_self_test },
	{ "poly1305", mbedtls_poly1305_self_test },
	{ "chachapoly", mbedtls_chachapoly_self_test },
	{ "sha256", mbedtls_sha256_self_test },
	{ "sha384", mbedtls_sha384_self_test },
	{ "sha512", mbedtls_sha512_self_test },
	{ "base64", mbedtls_base64_self_test },
	{ "mpi", mbedtls_mpi_self_test },
	{ "rsa", mbedtls_rsa_self_test },
	{ "ecp", mbedtls_ecp_self_test },
	{ "ctr_drbg", mbedtls_ctr_drbg_self_test },
	{ "entropy", mbedtls_entropy_self_test },
};

static void
run_self_tests(void)
{
	for (size_t i = 0; i < sizeof(self_tests) / sizeof(self_tests[0]); i++) {
		int ret = self_tests[i].fn(0);

		CHECK(ret == 0, "mbedTLS self-test %s returned %d", self_tests[i].name, ret);
		if (ret == 0)
			printf("test_tls: self-test %s passed\n", self_tests[i].name);
	}
}

/* Two parties agree on a secret over curve id; the secrets must match. */
static void
ecdhe(mbedtls_ecp_group_id id, const char *name, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_group grp;
	mbedtls_mpi da, db, za, zb;
	mbedtls_ecp_point qa, qb;
	int ret;

	mbedtls_ecp_group_init(&grp);
	mbedtls_mpi_init(&da); mbedtls_mpi_init(&db);
	mbedtls_mpi_init(&za); mbedtls_mpi_init(&zb);
	mbedtls_ecp_point_init(&qa); mbedtls_ecp_point_init(&qb);
	if ((ret = mbedtls_ecp_group_load(&grp, id)) != 0 ||
	    (ret = mbedtls_ecdh_gen_public(&grp, &da, &qa, mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_ecdh_gen_public(&grp, &db, &qb, mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_ecdh_compute_shared(&grp, &za, &qb, &da, mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_ecdh_compute_shared(&grp, &zb, &qa, &db, mbedtls_ctr_drbg_random, drbg)) != 0)
		CHECK(0, "ECDHE %s: -0x%04x", name, (unsigned int)-ret);
	else {
		CHECK(mbedtls_mpi_cmp_mpi(&za, &zb) == 0, "ECDHE %s: the shared secrets differ", name);
		CHECK(mbedtls_mpi_cmp_mpi(&da, &db) != 0, "ECDHE %s: both private keys equal", name);
		/* Keys as mbedTLS's own code leaves them: valid, affine. */
		CHECK(mbedtls_ecp_check_privkey(&grp, &da) == 0 &&
		    mbedtls_ecp_check_privkey(&grp, &db) == 0, "ECDHE %s: a bad private key", name);
		CHECK(mbedtls_ecp_check_pubkey(&grp, &qa) == 0 &&
		    mbedtls_ecp_check_pubkey(&grp, &qb) == 0, "ECDHE %s: a bad public key", name);
		CHECK(mbedtls_mpi_cmp_int(&za, 0) != 0, "ECDHE %s: the shared secret is 0", name);
		printf("test_tls: ECDHE %s agreed on a %u-bit secret\n", name,
		    (unsigned int)mbedtls_mpi_bitlen(&za));
	}
	mbedtls_ecp_point_free(&qa); mbedtls_ecp_point_free(&qb);
	mbedtls_mpi_free(&za); mbedtls_mpi_free(&zb);
	mbedtls_mpi_free(&da); mbedtls_mpi_free(&db);
	mbedtls_ecp_group_free(&grp);
}

/*
 * The whole exchange as the TLS layer makes it, with mbedTLS's ECDH
 * contexts: the server's parameters (group and public key), read by the
 * client, the client's public key, read by the server, and the secret on
 * both sides, as the bytes that become the premaster secret.
 */
static void
ecdhe_contexts(mbedtls_ecp_group_id id, const char *name, mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecdh_context srv, cli;
	unsigned char params[256], pub[256], zs[66], zc[66];
	const unsigned char *p = params;
	size_t plen, publen, zslen, zclen;
	int ret;

	mbedtls_ecdh_init(&srv);
	mbedtls_ecdh_init(&cli);
	if ((ret = mbedtls_ecdh_setup(&srv, id)) != 0 ||
	    (ret = mbedtls_ecdh_make_params(&srv, &plen, params, sizeof(params),
	    mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_ecdh_read_params(&cli, &p, params + plen)) != 0 ||
	    (ret = mbedtls_ecdh_make_public(&cli, &publen, pub, sizeof(pub),
	    mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_ecdh_read_public(&srv, pub, publen)) != 0 ||
	    (ret = mbedtls_ecdh_calc_secret(&srv, &zslen, zs, sizeof(zs),
	    mbedtls_ctr_drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_ecdh_calc_secret(&cli, &zclen, zc, sizeof(zc),
	    mbedtls_ctr_drbg_random, drbg)) != 0)
		CHECK(0, "ECDHE %s contexts: -0x%04x", name, (unsigned int)-ret);
	else {
		CHECK(p == params + plen, "ECDHE %s contexts: parameters not all read", name);
		CHECK(zslen == zclen && memcmp(zs, zc, zslen) == 0,
		    "ECDHE %s contexts: the two sides' secrets differ", name);
		CHECK(zslen == 32, "ECDHE %s contexts: a %zu-byte secret", name, zslen);
		printf("test_tls: ECDHE %s contexts agreed on a %zu-byte secret\n", name, zslen);
	}
	mbedtls_ecdh_free(&cli);
	mbedtls_ecdh_free(&srv);
}

/*
 * Our X25519 against mbedTLS's generic one (mbedtls_ecp_mul() on the
 * Curve25519 group, its bignum ladder, which ecdh_alt.c no longer uses
 * for ECDH) on random private keys and random u-coordinates, some of them
 * non-canonical (p or more): limpet_x25519() itself, and the two ECDH
 * primitives, which must give what ecp_mul() gives.
 */
static void
cross_check_x25519(mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point pt, ref, q;
	mbedtls_mpi d, z;
	uint8_t k[32] = { 0 }, u[32], want[32], got[32];
	int ret, agreed = 0;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&pt); mbedtls_ecp_point_init(&ref); mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&d); mbedtls_mpi_init(&z);
	ret = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519);
	CHECK(ret == 0, "Curve25519 group: -0x%04x", (unsigned int)-ret);
	for (int i = 0; ret == 0 && i < X25519_CROSS_CHECKS; i++) {
		/* A key pair through ecdh_alt.c; its public key against
		 * mbedTLS's d G. */
		if ((ret = mbedtls_ecdh_gen_public(&grp, &d, &q, mbedtls_ctr_drbg_random, drbg)) != 0 ||
		    (ret = ref_ecp_mul(&grp, &ref, &d, &grp.G, mbedtls_ctr_drbg_random, drbg)) != 0) {
			CHECK(0, "X25519 check %d: key pair: -0x%04x", i, (unsigned int)-ret);
			break;
		}
		CHECK(mbedtls_mpi_cmp_mpi(&q.X, &ref.X) == 0 && mbedtls_mpi_cmp_int(&q.Z, 1) == 0,
		    "X25519 check %d: public key differs from mbedTLS's", i);

		/* A random u, bit 255 set or not; every fourth one made
		 * non-canonical, p + r for 2 <= r <= 18 (p + 0 and p + 1 are
		 * the small-order points 0 and 1). */
		if ((ret = mbedtls_ctr_drbg_random(drbg, u, sizeof(u))) != 0)
			break;
		if (i % 4 == 3) {
			memset(u + 1, 0xff, sizeof(u) - 1);
			u[0] = 0xef + u[0] % 17;	/* p = 2^255 - 19 ends in 0xed */
			u[31] = 0x7f;
		}
		/* As mbedTLS reads a peer's key: bit 255 masked. */
		if ((ret = mbedtls_ecp_point_read_binary(&grp, &pt, u, sizeof(u))) != 0 ||
		    (ret = ref_ecp_mul(&grp, &ref, &d, &pt, mbedtls_ctr_drbg_random, drbg)) != 0 ||
		    (ret = mbedtls_mpi_write_binary_le(&ref.X, want, sizeof(want))) != 0 ||
		    (ret = mbedtls_mpi_write_binary_le(&d, k, sizeof(k))) != 0) {
			CHECK(0, "X25519 check %d: mbedTLS: -0x%04x", i, (unsigned int)-ret);
			break;
		}
		ret = limpet_x25519(got, k, u);
		CHECK(ret == 0 && memcmp(got, want, sizeof(got)) == 0,
		    "X25519 check %d: limpet_x25519() differs from mbedtls_ecp_mul() (%d)", i, ret);
		ret = mbedtls_ecdh_compute_shared(&grp, &z, &pt, &d, mbedtls_ctr_drbg_random, drbg);
		CHECK(ret == 0 && mbedtls_mpi_cmp_mpi(&z, &ref.X) == 0,
		    "X25519 check %d: mbedtls_ecdh_compute_shared() differs (-0x%04x)", i,
		    (unsigned int)-ret);
		if (ret == 0 && memcmp(got, want, sizeof(got)) == 0)
			agreed++;
		ret = 0;
	}
	printf("test_tls: X25519 agreed with mbedTLS's ladder on %d of %d random keys and points\n",
	    agreed, X25519_CROSS_CHECKS);
	CHECK(agreed == X25519_CROSS_CHECKS, "X25519: %d of %d cross-checks agreed",
	    agreed, X25519_CROSS_CHECKS);

	/* Points of small order: u = 0 and u = 1.  limpet_x25519() reports
	 * the all-zero result; through ECDH, mbedTLS's public key check
	 * refuses them first, as it does without ecdh_alt.c. */
	for (int v = 0; v <= 1; v++) {
		memset(u, 0, sizeof(u));
		u[0] = (uint8_t)v;
		CHECK(limpet_x25519(got, k, u) != 0, "X25519: u = %d not refused", v);
		mbedtls_ecp_point_read_binary(&grp, &pt, u, sizeof(u));
		ret = mbedtls_ecdh_compute_shared(&grp, &z, &pt, &d, mbedtls_ctr_drbg_random, drbg);
		CHECK(ret == MBEDTLS_ERR_ECP_INVALID_KEY,
		    "X25519: compute_shared with u = %d gave -0x%04x, not INVALID_KEY", v,
		    (unsigned int)-ret);
	}
	printf("test_tls: X25519 refused the small-order points u = 0 and u = 1\n");

	mbedtls_mpi_free(&d); mbedtls_mpi_free(&z);
	mbedtls_ecp_point_free(&pt); mbedtls_ecp_point_free(&ref); mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
}

uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* How long X25519 takes here, ours and mbedTLS's generic ladder (under
 * TCG, guest time).  Printed for people, not judged. */
static void
time_x25519(mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point r;
	mbedtls_mpi d;
	uint8_t k[32], u[32] = { 9 };
	uint64_t t0, ours, theirs;
	int n = 0;

	mbedtls_ctr_drbg_random(drbg, k, sizeof(k));
	t0 = now_us();
	for (int i = 0; i < X25519_TIMED_CALLS; i++)
		limpet_x25519(u, k, u);
	ours = now_us() - t0;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&r);
	mbedtls_mpi_init(&d);
	theirs = 0;
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519) == 0 &&
	    mbedtls_ecp_gen_privkey(&grp, &d, mbedtls_ctr_drbg_random, drbg) == 0) {
		t0 = now_us();
		for (; n < 10; n++)
			if (ref_ecp_mul(&grp, &r, &d, &grp.G, mbedtls_ctr_drbg_random, drbg) != 0)
				break;
		theirs = now_us() - t0;
	}
	printf("test_tls: %d X25519 calls in %llu ms, %llu us each; mbedTLS's ecp_mul "
	    "%llu us each\n", X25519_TIMED_CALLS, (unsigned long long)ours / 1000,
	    (unsigned long long)ours / X25519_TIMED_CALLS,
	    n ? (unsigned long long)theirs / n : 0ULL);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&r);
	mbedtls_ecp_group_free(&grp);
}

/* PSA key pairs checked per curve. */
#define PSA_KEY_CHECKS	16

/*
 * TLS 1.3's ECDHE key pairs as mbedTLS's TLS code makes them, through PSA
 * crypto: a key generated, its public key exported.  The public key must
 * be m G by our code (net/tls/ecdh_alt.c's __wrap_mbedtls_ecp_mul(), which
 * counts), equal to mbedTLS's own m G.
 */
static void
check_psa_key_pairs(mbedtls_ctr_drbg_context *drbg)
{
	static const struct {
		psa_ecc_family_t	family;
		size_t			bits;
		mbedtls_ecp_group_id	id;
		const char		*name;
	} curves[] = {
		{ PSA_ECC_FAMILY_MONTGOMERY, 255, MBEDTLS_ECP_DP_CURVE25519, "X25519" },
		{ PSA_ECC_FAMILY_SECP_R1, 256, MBEDTLS_ECP_DP_SECP256R1, "P-256" },
	};

	for (size_t c = 0; c < sizeof(curves) / sizeof(curves[0]); c++) {
		mbedtls_ecp_group grp;
		int same = 0, ours = 0;

		mbedtls_ecp_group_init(&grp);
		CHECK(mbedtls_ecp_group_load(&grp, curves[c].id) == 0, "group %s", curves[c].name);
		for (int i = 0; i < PSA_KEY_CHECKS; i++) {
			psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
			psa_key_id_t key = 0;
			uint8_t pub[65], priv[32], ref[65];
			size_t publen = 0, privlen = 0, reflen = 0;
			unsigned long before = limpet_ecp_base_muls;
			mbedtls_ecp_point r;
			mbedtls_mpi d;
			psa_status_t st;

			psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(curves[c].family));
			psa_set_key_bits(&attr, curves[c].bits);
			psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE | PSA_KEY_USAGE_EXPORT);
			psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
			if ((st = psa_generate_key(&attr, &key)) != PSA_SUCCESS ||
			    (st = psa_export_public_key(key, pub, sizeof(pub), &publen)) != PSA_SUCCESS ||
			    (st = psa_export_key(key, priv, sizeof(priv), &privlen)) != PSA_SUCCESS) {
				CHECK(0, "PSA %s key pair %d: status %d", curves[c].name, i, (int)st);
				psa_destroy_key(key);
				continue;
			}
			psa_destroy_key(key);
			ours += limpet_ecp_base_muls == before + 1;
			mbedtls_mpi_init(&d);
			mbedtls_ecp_point_init(&r);
			if ((curves[c].id == MBEDTLS_ECP_DP_CURVE25519 ?
			    mbedtls_mpi_read_binary_le(&d, priv, privlen) :
			    mbedtls_mpi_read_binary(&d, priv, privlen)) == 0 &&
			    ref_ecp_mul(&grp, &r, &d, &grp.G, mbedtls_ctr_drbg_random, drbg) == 0 &&
			    mbedtls_ecp_point_write_binary(&grp, &r, MBEDTLS_ECP_PF_UNCOMPRESSED,
			    &reflen, ref, sizeof(ref)) == 0)
				same += reflen == publen && memcmp(ref, pub, publen) == 0;
			mbedtls_ecp_point_free(&r);
			mbedtls_mpi_free(&d);
			mbedtls_platform_zeroize(priv, sizeof(priv));
		}
		printf("test_tls: PSA %s key pairs: %d of %d public keys by our code, "
		    "%d of %d equal to mbedTLS's m G\n", curves[c].name, ours, PSA_KEY_CHECKS,
		    same, PSA_KEY_CHECKS);
		CHECK(ours == PSA_KEY_CHECKS && same == PSA_KEY_CHECKS,
		    "PSA %s key pairs: %d by our code, %d right, of %d", curves[c].name, ours, same,
		    PSA_KEY_CHECKS);
		mbedtls_ecp_group_free(&grp);
	}
}

static void
check_suites(void)
{
	int n = 0;

	for (const int *id = mbedtls_ssl_list_ciphersuites(); *id != 0; id++, n++)
		printf("test_tls: suite %s\n", mbedtls_ssl_get_ciphersuite_name(*id));
	CHECK(n == 9, "%d cipher suites compiled in, expected 9 (3 for TLS 1.3, 6 for 1.2)", n);
}

/* A connection's context over the server's own configuration, whose
 * protocol versions are checked.  (What a connection costs in memory is
 * measured on the running server: ./limpet bench, tests/test_https.py.) */
static void
check_config(void)
{
	struct altcp_tls_config *conf = limpet_tls_server_config();
	mbedtls_ssl_context ssl;
	int ret;

	mbedtls_ssl_init(&ssl);
	ret = mbedtls_ssl_setup(&ssl, &conf->ssl);
	CHECK(ret == 0, "mbedtls_ssl_setup: -0x%04x", (unsigned int)-ret);
	printf("test_tls: record buffers for %d bytes in, %d out; mbedtls_ssl_context %zu bytes\n",
	    MBEDTLS_SSL_IN_CONTENT_LEN, MBEDTLS_SSL_OUT_CONTENT_LEN, sizeof(ssl));
	printf("test_tls: protocols TLS 1.%d to TLS 1.%d\n",
	    conf->ssl.min_tls_version - 0x0301, conf->ssl.max_tls_version - 0x0301);
	CHECK(conf->ssl.min_tls_version == MBEDTLS_SSL_VERSION_TLS1_2 &&
	    conf->ssl.max_tls_version == MBEDTLS_SSL_VERSION_TLS1_3,
	    "the server configuration offers other than TLS 1.2 and 1.3");
	mbedtls_ssl_free(&ssl);
}

int
main(void)
{
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	unsigned char r[16];
	time_t now = time(NULL);
	int ret;

	/* Stops the machine (LIMPET_TLS_SETUP_STATUS) without entropy. */
	CHECK(limpet_tls_server_config() != NULL, "no TLS server configuration");
	printf("test_tls: entropy source %s\n", entropy_source());

	printf("test_tls: time %lld\n", (long long)now);
	CHECK((long long)now > AFTER_2024, "time() is %lld, before 2024", (long long)now);

	run_self_tests();

	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
	    (const unsigned char *)"test_tls", 8);
	CHECK(ret == 0, "mbedtls_ctr_drbg_seed: -0x%04x", (unsigned int)-ret);
	if (ret == 0) {
		ret = mbedtls_ctr_drbg_random(&drbg, r, sizeof(r));
		CHECK(ret == 0, "mbedtls_ctr_drbg_random: -0x%04x", (unsigned int)-ret);
		printf("test_tls: random ");
		for (size_t i = 0; i < sizeof(r); i++)
			printf("%02x", r[i]);
		printf("\n");
		/* First: its first call builds P-256's table, which it times;
		 * ECDHE over P-256 would build it otherwise. */
		check_p256(&drbg);
		check_p256_ecdh(&drbg);
		ecdhe(MBEDTLS_ECP_DP_CURVE25519, "X25519", &drbg);
		ecdhe(MBEDTLS_ECP_DP_SECP256R1, "P-256", &drbg);
		ecdhe_contexts(MBEDTLS_ECP_DP_CURVE25519, "X25519", &drbg);
		ecdhe_contexts(MBEDTLS_ECP_DP_SECP256R1, "P-256", &drbg);
		cross_check_x25519(&drbg);
		time_x25519(&drbg);
		check_config();
		check_psa_key_pairs(&drbg);
	}
	check_suites();
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	if (failures) {
		printf("test_tls: %d check(s) FAILED\n", failures);
		return 1;
	}
	printf("test_tls: OK\n");
	return 0;
}
