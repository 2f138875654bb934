/*
 * test_tls: mbedTLS as Limpet builds it, in the guest: the self-tests of
 * every module the configuration enables, the hardware entropy source and
 * a DRBG seeded from it (the value printed differs between boots:
 * tests/test_tls.py compares two), ECDHE key agreement over X25519 and
 * P-256 between two parties in memory, the wall clock, the cipher suites
 * compiled in, the TLS server configuration from the embedded certificate,
 * and the heap a connection's TLS context takes.
 *
 * Prints "test_tls: OK" and exits 0, or names each failed check.  Without
 * a hardware entropy source the TLS setup stops the machine with
 * LIMPET_TLS_SETUP_STATUS before the "OK".
 */
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
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/ssl_internal.h>

#include <kernel/entropy.h>
#include <limpet/tls.h>

#define AFTER_2024	1704067200LL	/* 2024-01-01T00:00:00Z */

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
		printf("test_tls: FAILED: " __VA_ARGS__);		\
		printf(" (%s:%d)\n", __FILE__, __LINE__);		\
	}								\
} while (0)

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
		printf("test_tls: ECDHE %s agreed on a %u-bit secret\n", name,
		    (unsigned int)mbedtls_mpi_bitlen(&za));
	}
	mbedtls_ecp_point_free(&qa); mbedtls_ecp_point_free(&qb);
	mbedtls_mpi_free(&za); mbedtls_mpi_free(&zb);
	mbedtls_mpi_free(&da); mbedtls_mpi_free(&db);
	mbedtls_ecp_group_free(&grp);
}

static void
check_suites(void)
{
	int n = 0;

	for (const int *id = mbedtls_ssl_list_ciphersuites(); *id != 0; id++, n++)
		printf("test_tls: suite %s\n", mbedtls_ssl_get_ciphersuite_name(*id));
	CHECK(n == 6, "%d cipher suites compiled in, expected 6", n);
}

/* The heap one connection's mbedTLS context takes before its handshake
 * (record buffers, transform, session, handshake state). */
static void
measure_connection(mbedtls_ctr_drbg_context *drbg)
{
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	int ret;

	mbedtls_ssl_config_init(&conf);
	mbedtls_ssl_init(&ssl);
	ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	CHECK(ret == 0, "mbedtls_ssl_config_defaults: -0x%04x", (unsigned int)-ret);
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, drbg);
	ret = mbedtls_ssl_setup(&ssl, &conf);
	CHECK(ret == 0, "mbedtls_ssl_setup: -0x%04x", (unsigned int)-ret);
	/* What mbedtls_ssl_setup() allocates for records, and the context. */
	printf("test_tls: record buffers %d bytes in + %d bytes out, "
	    "mbedtls_ssl_context %zu bytes\n", MBEDTLS_SSL_IN_BUFFER_LEN,
	    MBEDTLS_SSL_OUT_BUFFER_LEN, sizeof(ssl));
	printf("test_tls: minimum protocol TLS 1.%d\n", conf.min_minor_ver - 1);
	CHECK(conf.min_minor_ver == MBEDTLS_SSL_MINOR_VERSION_3 &&
	    conf.max_minor_ver == MBEDTLS_SSL_MINOR_VERSION_3, "protocol versions other than TLS 1.2");
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
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
		ecdhe(MBEDTLS_ECP_DP_CURVE25519, "X25519", &drbg);
		ecdhe(MBEDTLS_ECP_DP_SECP256R1, "P-256", &drbg);
		measure_connection(&drbg);
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
