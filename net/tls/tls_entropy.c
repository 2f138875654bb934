/*
 * mbedTLS's entropy source: the CPU's (kernel/arch/x86_64/entropy.c).
 *
 * With MBEDTLS_ENTROPY_HARDWARE_ALT (net/tls/limpet_mbedtls_config.h),
 * mbedtls_entropy_init() registers this function as a STRONG source in
 * every entropy context (net/tls/tls.c makes the one TLS uses), and
 * mbedtls_entropy_func() fails (so CTR_DRBG seeding fails) unless it has
 * delivered enough.  Without a hardware source it fails: there is no
 * weaker fallback.
 */
#include <stddef.h>

#include <mbedtls/entropy.h>

/* mbedTLS declares it only in a private header (library/entropy_poll.h). */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);

#include <kernel/entropy.h>

int
mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
	(void)data;
	*olen = 0;
	if (entropy_read(output, len) != 0)
		return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
	*olen = len;
	return 0;
}
