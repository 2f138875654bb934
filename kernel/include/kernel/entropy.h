/*
 * The hardware entropy source: the CPU's RDSEED, else its RDRAND.
 *
 * RDSEED returns the output of the CPU's conditioned entropy source
 * directly; RDRAND returns the output of a DRBG the CPU reseeds from that
 * source (Intel DRNG Software Implementation Guide, 3.1).  Either is good
 * enough to seed a software DRBG such as mbedTLS's CTR_DRBG.  The event
 * loop's: not from interrupt handlers (the health tests keep state).
 */
#ifndef KERNEL_ENTROPY_H
#define KERNEL_ENTROPY_H

#include <stddef.h>

/* The source entropy_read() uses: "RDSEED", "RDRAND", or NULL when the CPU
 * has neither (QEMU's qemu64 model, -cpu ...,-rdrand,-rdseed).  The first
 * call detects it (CPUID) and logs the choice. */
const char *entropy_source(void);

/* Fill buf with len bytes from the hardware source: 0, or -EIO when there
 * is no source, it kept failing past the retry limits, or it failed its
 * health tests, now or before (a broken or exhausted CPU generator: the
 * caller must not fall back to weaker randomness).  The first call runs
 * the start-up health test (1,024 samples; see entropy.c). */
int	entropy_read(void *buf, size_t len);

/* What the source has done: 64-bit samples read (the start-up test's
 * included), bytes handed out, failures (retries exhausted or a health
 * test failed), and whether it is healthy now (passed the start-up test
 * and has not failed since). */
struct entropy_stats {
	unsigned long long	samples;
	unsigned long long	bytes;
	unsigned long		failures;
	int			healthy;
};

const struct entropy_stats *entropy_stats(void);

/* At boot: takes the debug builds' entropy_fault= argument (stuck: the
 * same value every time; ones: all ones; fail: no value, as an exhausted
 * RDRAND; late: sound for the first 5 seconds after boot, then stuck).
 * Reads nothing from the source. */
void	entropy_init(void);

#endif
