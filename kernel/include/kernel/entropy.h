/*
 * The hardware entropy source: the CPU's RDSEED, else its RDRAND.
 *
 * RDSEED returns the output of the CPU's conditioned entropy source
 * directly; RDRAND returns the output of a DRBG the CPU reseeds from that
 * source (Intel DRNG Software Implementation Guide, 3.1).  Either is good
 * enough to seed a software DRBG such as mbedTLS's CTR_DRBG.  Callable
 * from anywhere, interrupt handlers included: it touches no shared state
 * after the first call.
 */
#ifndef KERNEL_ENTROPY_H
#define KERNEL_ENTROPY_H

#include <stddef.h>

/* The source entropy_read() uses: "RDSEED", "RDRAND", or NULL when the CPU
 * has neither (QEMU's qemu64 model, -cpu ...,-rdrand,-rdseed).  The first
 * call detects it (CPUID) and logs the choice. */
const char *entropy_source(void);

/* Fill buf with len bytes from the hardware source: 0, or -EIO when there
 * is no source or it kept failing past the retry limits (a broken or
 * exhausted CPU generator: the caller must not fall back to weaker
 * randomness). */
int	entropy_read(void *buf, size_t len);

#endif
