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
 *
 * A generator can also fail while it says it succeeds: AMD's Zen 2 CPUs
 * returned all ones with CF set after a resume (fixed by firmware in
 * 2019), and a hypervisor can pass the instruction through to a broken
 * source or emulate it badly.  So every value goes through health tests
 * on the lines of NIST SP 800-90B 4.4, for samples of 64 bits that claim
 * full entropy:
 *   - start-up (4.3): before the first value is handed out, 1,024 samples
 *     must hold no value twice, and neither 0 nor all ones;
 *   - continuous, on every sample after that: the repetition count test,
 *     whose cutoff for 64 bits of entropy a sample is 2 (one repeat
 *     fails), and 0 and all ones refused.
 * A working source fails them with a probability of about 2^-44 at
 * start-up and 2^-63 a sample.  A failure is permanent: it is logged,
 * and every later entropy_read() is -EIO, so that TLS refuses to start
 * (net/tls/tls.c) or, if it runs, its DRBG's next reseed fails and so do
 * its handshakes.  Nothing falls back to weaker randomness.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cpuid.h>

#include <kernel/cmdline.h>
#include <kernel/entropy.h>
#include <kernel/ktime.h>
#include <kernel/log.h>

#define RDRAND_RETRIES	10	/* DRNG guide 5.2.1 */
#define RDSEED_RETRIES	1000	/* DRNG guide 5.3.1: retry with PAUSE */
#define STARTUP_SAMPLES	1024	/* SP 800-90B 4.3, item 9 */

enum source { UNKNOWN, NONE, RDSEED, RDRAND };

static enum source source = UNKNOWN;

/* Health: not yet tested, passed the start-up test, failed (for good). */
static enum { UNTESTED, HEALTHY, FAILED } health = UNTESTED;
static uint64_t last;			/* the previous sample */
static struct entropy_stats stats;

#ifdef LIMPET_DEBUG
/* entropy_fault= (debug builds only): the source misbehaves as asked, so
 * that tests can watch the health tests catch it. */
static enum { FAULT_NONE, FAULT_STUCK, FAULT_ONES, FAULT_FAIL, FAULT_LATE } fault;
#define FAULT_LATE_NS	5000000000ULL	/* entropy_fault=late: stuck from 5 s on */
#endif

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

#ifdef LIMPET_DEBUG
	switch (fault) {
	case FAULT_STUCK:
		*v = 0x5eed5eed5eed5eed;
		return 0;
	case FAULT_ONES:
		*v = ~(uint64_t)0;
		return 0;
	case FAULT_FAIL:
		return -EIO;
	case FAULT_LATE:
		/* Sound for the first seconds (the start-up test, TLS's
		 * first seeding and handshakes), then stuck. */
		if (now_ns() >= FAULT_LATE_NS) {
			*v = 0x5eed5eed5eed5eed;
			return 0;
		}
		break;
	case FAULT_NONE:
		break;
	}
#endif

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

static const char *
source_name(void)
{
	return source == RDSEED ? "RDSEED" : "RDRAND";
}

/* The value is not logged: a repeat is a value already handed out. */
static void
fail(const char *why)
{
	health = FAILED;
	stats.failures++;
	log_error("entropy: %s failed its health test: %s; no more random numbers "
	    "from it until the machine restarts", source_name(), why);
}

/* A sample, through the retries and the continuous tests: 0 or -EIO. */
static int
sample(uint64_t *v)
{
	if (read64(v) != 0) {
		stats.failures++;
		health = FAILED;
		log_error("entropy: %s kept failing (%d tries): generator broken or exhausted",
		    source_name(), source == RDSEED ? RDSEED_RETRIES : RDRAND_RETRIES);
		return -EIO;
	}
	stats.samples++;
	if (*v == 0 || *v == ~(uint64_t)0) {
		fail(*v == 0 ? "a sample of all zeros" : "a sample of all ones");
		return -EIO;
	}
	if (health == HEALTHY && *v == last) {
		fail("the same sample twice in a row");
		return -EIO;
	}
	last = *v;
	return 0;
}

static int
cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The start-up test: STARTUP_SAMPLES samples, none twice.  They are
 * thrown away (and wiped): none is handed out. */
static int
startup_test(void)
{
	static uint64_t s[STARTUP_SAMPLES];
	int ret = 0;

	for (int i = 0; i < STARTUP_SAMPLES; i++)
		if (sample(&s[i]) != 0)
			return -EIO;
	qsort(s, STARTUP_SAMPLES, sizeof(s[0]), cmp64);
	for (int i = 1; i < STARTUP_SAMPLES; i++)
		if (s[i] == s[i - 1]) {
			fail("a value twice among the start-up samples");
			ret = -EIO;
			break;
		}
	memset(s, 0, sizeof(s));
	__asm__ volatile("" : : "r"(s) : "memory");
	if (ret == 0) {
		health = HEALTHY;
		log_info("entropy: %s passed the start-up health test (%d samples)",
		    source_name(), STARTUP_SAMPLES);
	}
	return ret;
}

int
entropy_read(void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t v;

	if (entropy_source() == NULL || health == FAILED)
		return -EIO;
	if (health == UNTESTED && startup_test() != 0)
		return -EIO;
	while (len > 0) {
		size_t n = len < sizeof(v) ? len : sizeof(v);

		if (sample(&v) != 0)
			return -EIO;
		stats.bytes += n;
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	/* Leave no copy of the last value on the stack. */
	memset(&v, 0, sizeof(v));
	__asm__ volatile("" : : "r"(&v) : "memory");
	return 0;
}

const struct entropy_stats *
entropy_stats(void)
{
	stats.healthy = health == HEALTHY;
	return &stats;
}

void
entropy_init(void)
{
#ifdef LIMPET_DEBUG
	static const char *const names[] = { "", "stuck", "ones", "fail", "late" };
	const char *v = kargs_take(&boot_args, "entropy_fault");

	if (v == NULL)
		return;
	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i]) == 0) {
			fault = i;
			log_warn("entropy: entropy_fault=%s: the source will misbehave on purpose", v);
			return;
		}
	log_warn("entropy_fault=%s: unknown fault; valid: stuck, ones, fail, late", v);
#endif
}
