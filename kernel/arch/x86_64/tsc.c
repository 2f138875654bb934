/*
 * The TSC as the kernel's clock.
 *
 * Time is counted from the TSC the loader read at its first instruction, so
 * now_ns() includes the loader's part of boot.  Conversions between TSC
 * ticks and nanoseconds are a 64x64->128-bit multiply and a shift, with a
 * multiplier precomputed at calibration to the most precision that fits in
 * 64 bits: no division on the hot path and no overflow at any uptime (a
 * result too large for 64 bits saturates).
 *
 * Under QEMU TCG the guest TSC runs at the host TSC's rate, and QEMU's
 * CPUID reports no frequency, so the platform reference clock is what
 * usually decides (see platform-*.c).
 */
#include <stdint.h>
#include <stdlib.h>

#include <kernel/cmdline.h>
#include <kernel/ktime.h>
#include <kernel/log.h>

#include "cpu.h"
#include "platform.h"

/* Accept a calibrated frequency only in this range. */
#define TSC_HZ_MIN	100000000ULL		/* 100 MHz */
#define TSC_HZ_MAX	20000000000ULL		/* 20 GHz */
#define TSC_HZ_DEFAULT	2000000000ULL		/* when every source fails */

/* y = x * mult >> shift */
struct scale {
	uint64_t	mult;
	unsigned	shift;
};

static uint64_t origin;
static uint64_t hz = TSC_HZ_DEFAULT;
static const char *source = "default";
/* 2 GHz until time_init(), so that early delays and log stamps are sane:
 * ns = tsc * 2^62 >> 63 = tsc / 2, tsc = ns * 2^63 >> 62 = ns * 2. */
static struct scale to_ns = { 1ULL << 62, 63 };
static struct scale to_tsc = { 1ULL << 63, 62 };

static uint64_t scale(const struct scale *s, uint64_t x)
{
	unsigned __int128 y = ((unsigned __int128)x * s->mult) >> s->shift;

	return y > UINT64_MAX ? UINT64_MAX : (uint64_t)y;
}

/* (hi:lo) / d with hi < d, so the quotient fits in 64 bits (one divq, no
 * libgcc). */
static uint64_t div128(uint64_t hi, uint64_t lo, uint64_t d)
{
	uint64_t q, r;

	__asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d));
	return q;
}

/* mult / 2^shift ~= num / den, shift as large as keeps mult < 2^64. */
static struct scale scale_make(uint64_t num, uint64_t den)
{
	unsigned __int128 n;
	unsigned shift = 63;

	while (shift > 0 && (uint64_t)(((unsigned __int128)num << shift) >> 64) >= den)
		shift--;
	n = (unsigned __int128)num << shift;
	return (struct scale){ div128((uint64_t)(n >> 64), (uint64_t)n, den), shift };
}

void time_set_origin(uint64_t tsc)
{
	origin = tsc;
}

uint64_t time_origin(void)
{
	return origin;
}

uint64_t tsc_hz(void)
{
	return hz;
}

const char *tsc_source(void)
{
	return source;
}

uint64_t tsc_to_ns(uint64_t tsc)
{
	return scale(&to_ns, tsc);
}

uint64_t ns_to_tsc(uint64_t ns)
{
	return scale(&to_tsc, ns);
}

uint64_t now_ns(void)
{
	uint64_t t = rdtsc();

	return t > origin ? tsc_to_ns(t - origin) : 0;
}

void delay_us(uint64_t us)
{
	uint64_t start = rdtsc(), ticks = ns_to_tsc(us * 1000);

	while (rdtsc() - start < ticks)
		pause();
}

static int plausible(uint64_t f)
{
	return f >= TSC_HZ_MIN && f <= TSC_HZ_MAX;
}

/*
 * The frequency the CPU or hypervisor reports, or 0.  Intel SDM vol. 2,
 * CPUID leaf 15H (TSC = crystal * EBX / EAX) and 16H (base MHz in
 * EAX[15:0]); leaf 0x40000010 is the hypervisor timing leaf (EAX = TSC
 * kHz) that VMware defined and KVM/QEMU provide with vmware-cpuid-freq.
 */
static uint64_t cpuid_hz(void)
{
	uint32_t max, a, b, c, d;
	uint64_t f;

	cpuid(0, 0, &max, &b, &c, &d);
	if (max >= 0x15) {
		cpuid(0x15, 0, &a, &b, &c, &d);
		if (a != 0 && b != 0 && c != 0) {
			f = (uint64_t)c * b / a;
			if (plausible(f))
				return f;
		}
	}
	if (max >= 0x16) {
		cpuid(0x16, 0, &a, &b, &c, &d);
		f = (uint64_t)(a & 0xffff) * 1000000;
		if (plausible(f))
			return f;
	}

	cpuid(1, 0, &a, &b, &c, &d);
	if (c & (1u << 31)) {			/* running under a hypervisor */
		cpuid(0x40000000, 0, &max, &b, &c, &d);
		if (max >= 0x40000010 && max < 0x40010000) {
			cpuid(0x40000010, 0, &a, &b, &c, &d);
			f = (uint64_t)a * 1000;
			if (plausible(f))
				return f;
		}
	}
	return 0;
}

/* -freq MHz: the TSC frequency, skipping calibration; 0 if absent or bad. */
static uint64_t freq_arg(void)
{
	const char *v = kargs_take(&boot_args, "freq");
	char *end;
	unsigned long long mhz;

	if (v == NULL)
		return 0;
	mhz = strtoull(v, &end, 10);
	if (*v == '\0' || *end != '\0' || mhz == 0 || mhz > 100000) {
		log_warn("-freq %s: not a frequency in MHz (1..100000); calibrating instead", v);
		return 0;
	}
	return mhz;
}

void time_init(void)
{
	uint64_t t0 = rdtsc(), f = freq_arg() * 1000000;
	const char *src = "default";

	if (f != 0)
		src = "-freq";
	if (f == 0 && (f = cpuid_hz()) != 0)
		src = "cpuid";
	if (f == 0) {
		f = platform_calibrate_tsc(&src);
		if (!plausible(f))
			f = 0;
	}
	if (f == 0) {
		log_warn("tsc: no clock to calibrate against; assuming %llu MHz",
		    (unsigned long long)(TSC_HZ_DEFAULT / 1000000));
		f = TSC_HZ_DEFAULT;
		src = "default";
	}

	hz = f;
	source = src;
	to_ns = scale_make(1000000000ULL, hz);
	to_tsc = scale_make(hz, 1000000000ULL);

	log_debug("tsc: %llu.%03llu MHz (%s), calibrated in %llu us",
	    (unsigned long long)(hz / 1000000),
	    (unsigned long long)(hz / 1000 % 1000), source,
	    (unsigned long long)(tsc_to_ns(rdtsc() - t0) / 1000));
}
