/* What test_tls's files share: the failure count and CHECK(), the clock,
 * and the checks in files other than main.c. */
#ifndef TEST_TLS_H
#define TEST_TLS_H

#include <stdint.h>
#include <stdio.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>

/* Failed checks so far; main() fails the test when it is not 0. */
extern int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
		printf("test_tls: FAILED: " __VA_ARGS__);		\
		printf(" (%s:%d)\n", __FILE__, __LINE__);		\
	}								\
} while (0)

/*
 * mbedTLS's own mbedtls_ecp_mul(), the reference our code is checked
 * against.  TLS images link with -Wl,--wrap=mbedtls_ecp_mul, so the name
 * itself would reach net/tls/ecdh_alt.c's wrapper, which does multiples of
 * the base point with our code: ours against ours.
 */
int __real_mbedtls_ecp_mul(mbedtls_ecp_group *grp, mbedtls_ecp_point *R,
    const mbedtls_mpi *m, const mbedtls_ecp_point *P,
    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng);
#define ref_ecp_mul	__real_mbedtls_ecp_mul

/* Monotonic microseconds (guest time). */
uint64_t	now_us(void);

/* p256_check.c: our P-256 ECDSA against mbedTLS. */
void	check_p256(mbedtls_ctr_drbg_context *drbg);

/* p256_ecdh_check.c: our P-256 ECDH shared secrets against mbedTLS. */
void	check_p256_ecdh(mbedtls_ctr_drbg_context *drbg);

#endif /* TEST_TLS_H */
