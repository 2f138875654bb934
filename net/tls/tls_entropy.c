/*
 * mbedTLS's entropy source: the CPU's (kernel/arch/x86_64/entropy.c).
 *
 * With MBEDTLS_ENTROPY_HARDWARE_ALT (net/tls/mbedtls_config.h),
 * mbedtls_entropy_init() registers this function as a STRONG source in
 * every entropy context, lwIP's altcp_tls_mbedtls.c's included, and
 * mbedtls_entropy_func() fails (so CTR_DRBG seeding fails) unless it has
 * delivered enough.  Without a hardware source it fails: there is no
 * weaker fallback.
 */
#include <stddef.h>

#include <mbedtls/entropy.h>
#include <mbedtls/entropy_poll.h>

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
