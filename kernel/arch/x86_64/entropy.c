/*
 * The hardware entropy source: RDSEED where CPUID.(EAX=7,ECX=0):EBX[18]
 * says the CPU has it, else RDRAND where CPUID.1:ECX[30] does (Intel SDM
 * vol. 2, RDSEED and RDRAND).
 *
 * Both set CF when the value they return is valid and clear it (returning
 * zero) when the generator had nothing ready.  Intel's guidance (DRNG
 * Software Implementation Guide, 5.2.1 and 5.3.1): RDRAND failing ten times
 * in a row means the generator is broken; RDSEED may fail transiently under
 * load and is retried with a PAUSE in between, so it gets a larger budget.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <cpuid.h>

#include <kernel/entropy.h>
#include <kernel/log.h>

#define RDRAND_RETRIES	10	/* DRNG guide 5.2.1 */
#define RDSEED_RETRIES	1000	/* DRNG guide 5.3.1: retry with PAUSE */

enum source { UNKNOWN, NONE, RDSEED, RDRAND };

static enum source source = UNKNOWN;

static enum source
detect(void)
{
	unsigned int a, b, c, d;

	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 18)))
		return RDSEED;
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 30)))
		return RDRAND;
	return NONE;
}

const char *
entropy_source(void)
{
	if (source == UNKNOWN) {
		source = detect();
		if (source == NONE)
			log_warn("entropy: the CPU has neither RDSEED nor RDRAND: "
			    "no hardware entropy source");
		else
			log_info("entropy: hardware source %s",
			    source == RDSEED ? "RDSEED" : "RDRAND");
	}
	return source == RDSEED ? "RDSEED" : source == RDRAND ? "RDRAND" : NULL;
}

/* One 64-bit value from the source into *v: 0, or -EIO after the retries. */
static int
read64(uint64_t *v)
{
	uint8_t ok;

	if (source == RDSEED) {
		for (int i = 0; i < RDSEED_RETRIES; i++) {
			__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) :: "cc");
			if (ok)
				return 0;
			__asm__ volatile("pause");
		}
	} else {
		for (int i = 0; i < RDRAND_RETRIES; i++) {
			__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) :: "cc");
			if (ok)
				return 0;
		}
	}
	return -EIO;
}

int
entropy_read(void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t v;

	if (entropy_source() == NULL)
		return -EIO;
	while (len > 0) {
		size_t n = len < sizeof(v) ? len : sizeof(v);

		if (read64(&v) != 0) {
			log_error("entropy: %s kept failing (%d tries): generator broken or exhausted",
			    source == RDSEED ? "RDSEED" : "RDRAND",
			    source == RDSEED ? RDSEED_RETRIES : RDRAND_RETRIES);
			return -EIO;
		}
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	/* Leave no copy of the last value on the stack. */
	memset(&v, 0, sizeof(v));
	__asm__ volatile("" : : "r"(&v) : "memory");
	return 0;
}
