/*
 * microvm: no PIT and no 8259 (pit=off, pic=off).  The reference clock for
 * calibrating the TSC is the local APIC timer, whose rate QEMU fixes; the
 * CMOS RTC's periodic flag is the fallback.
 */
#include <stdint.h>

#include <kernel/log.h>

#include "cpu.h"
#include "platform.h"

/*
 * The LAPIC timer counts at 1 GHz divided by the divide configuration.
 * microvm exists only in QEMU, and there:
 *  - QEMU's own APIC (hw/intc/apic.c, TCG and KVM without the in-kernel
 *    irqchip) computes the current count as initial count minus
 *    (QEMU_CLOCK_VIRTUAL ns - load time) >> divide shift: the bus clock is
 *    the virtual clock's nanosecond;
 *  - KVM's in-kernel LAPIC counts 1 ns bus cycles by default (APIC_BUS_CYCLE_NS;
 *    a VMM may change it with KVM_CAP_X86_APIC_BUS_CYCLES_NS, as for TDX,
 *    which is why a result outside the plausible range falls back to the RTC).
 * The current count is computed when it is read, so each read is known to
 * within the two TSC reads around it (under a microsecond), where an RTC
 * edge is seen whenever QEMU's main loop gets round to setting the flag.
 * A 1.5 ms window is thus good to tens of ppm, where 6 ms of RTC edges
 * were off by 0.5-2 % in some runs.
 */
#define LAPIC_BUS_HZ		1000000000ULL
#define CAL_LAPIC_COUNTS	1500000u	/* 1.5 ms at 1 GHz, divide by 1 */
/* Give up on a LAPIC that has not counted that far after this many TSC
 * ticks: 4 windows at 20 GHz. */
#define CAL_LAPIC_TSC_LIMIT	(20000000000ULL / 1000000 * 1500 * 4)
/* tsc.c's plausible range; a LAPIC result outside it is not trusted. */
#define TSC_HZ_MIN		100000000ULL
#define TSC_HZ_MAX		20000000000ULL

/* MC146818 RTC (Motorola data sheet; QEMU hw/rtc/mc146818rtc.c). */
#define RTC_INDEX	0x70
#define RTC_DATA	0x71
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define REG_A_DV_MASK	0x70		/* divider chain select */
#define REG_A_DV_32K	0x20		/* 32.768 kHz time base, running */
#define REG_A_RS_MASK	0x0f		/* rate select: 32768 >> (RS - 1) Hz */
#define REG_B_PIE	0x40		/* periodic interrupt enable */
#define REG_C_PF	0x40		/* periodic flag, cleared by reading C */

/*
 * 2048 Hz (RS = 5): edges 488 us apart, and the sync wait is at most one
 * of them.  12 periods make a 5.9 ms window.
 *
 * QEMU keeps the edges on an exact grid but sets PF from a timer callback
 * in its main loop, so each edge is seen late by a latency that is usually
 * some microseconds, sometimes hundreds, and now and then so long that
 * several edges merge into one.  The estimate therefore does not trust any
 * single edge: see rtc_estimate().
 */
#define CAL_RS		5
#define CAL_RATE_HZ	(32768ULL >> (CAL_RS - 1))
#define CAL_PERIODS	12
#define CAL_EDGES	(CAL_PERIODS + 1)
/* Give up on an edge that has not come after this many TSC ticks: 16
 * periods at 20 GHz (QEMU can be late by several periods). */
#define CAL_TSC_LIMIT	(20000000000ULL / CAL_RATE_HZ * 16)

void platform_init(void)
{
	/* Nothing legacy to quiet: microvm runs with pic=off. */
}

static uint8_t rtc_read(uint8_t reg)
{
	outb(RTC_INDEX, reg);
	return inb(RTC_DATA);
}

static void rtc_write(uint8_t reg, uint8_t v)
{
	outb(RTC_INDEX, reg);
	outb(RTC_DATA, v);
}

/* Wait for PF (the index must be register C); the TSC just before the
 * read that saw it (read in the loop, not on the way out, so that no
 * first-run code under QEMU TCG sits in between), or 0 on timeout. */
static uint64_t wait_edge(void)
{
	uint64_t start = rdtsc(), t;

	do {
		t = rdtsc();
		if (inb(RTC_DATA) & REG_C_PF)
			return t;
	} while (t - start < CAL_TSC_LIMIT);
	return 0;
}

static int64_t median(const int64_t *v, int n)
{
	int64_t s[CAL_EDGES];
	int i, j;

	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && s[j - 1] > v[i]; j--)
			s[j] = s[j - 1];
		s[j] = v[i];
	}
	return s[n / 2];
}

/*
 * TSC ticks per RTC period from the edges' TSC stamps t[], or 0.
 *
 * Every stamp is its grid point plus a latency >= 0, so the right line
 * runs along the stamps' lower envelope, not through them:
 *  1. a first period from the median interval, then each edge's period
 *     number k[i] (rounding absorbs latency and merged edges);
 *  2. each edge's offset from the line t[0] + k * period; edges far from
 *     the median offset (very late, or numbered wrong because of it) are
 *     dropped;
 *  3. the new period is the slope between the earliest-looking edge of
 *     the first half and that of the second half; repeat from 2.
 */
static uint64_t rtc_estimate(const uint64_t *t, uint64_t *span_ticks, uint64_t *span_periods)
{
	int64_t d[CAL_PERIODS], k[CAL_EDGES], off[CAL_EDGES], p, med;
	int i, pass, a, b;

	for (i = 0; i < CAL_PERIODS; i++)
		d[i] = (int64_t)(t[i + 1] - t[i]);
	p = median(d, CAL_PERIODS);
	if (p <= 0)
		return 0;

	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < CAL_EDGES; i++) {
			int64_t rel = (int64_t)(t[i] - t[0]);

			k[i] = (rel + p / 2) / p;
			off[i] = rel - k[i] * p;
		}
		med = median(off, CAL_EDGES);
		a = b = -1;
		for (i = 0; i < CAL_EDGES; i++) {
			int64_t dev = off[i] - med;

			if (dev > p / 4 || dev < -p / 4)
				continue;
			if (i < CAL_EDGES / 2) {
				if (a < 0 || off[i] < off[a])
					a = i;
			} else if (b < 0 || off[i] < off[b]) {
				b = i;
			}
		}
		if (a < 0 || b < 0 || k[b] <= k[a])
			return 0;
		*span_ticks = t[b] - t[a];
		*span_periods = (uint64_t)(k[b] - k[a]);
		p = (int64_t)(*span_ticks / *span_periods);
	}
	return (uint64_t)p;
}

/* TSC Hz from the LAPIC timer, or 0 if it does not count.  The marks'
 * counts per TSC tick are also what timer_init() needs for one-shot mode. */
static uint64_t lapic_calibrate(void)
{
	struct lapic_mark first, last;
	uint32_t counts;

	lapic_ref_start();
	lapic_ref_mark(&first);
	do
		lapic_ref_mark(&last);
	while (first.count - last.count < CAL_LAPIC_COUNTS &&
	    last.tsc - first.tsc < CAL_LAPIC_TSC_LIMIT);
	counts = lapic_ref_stop(&first, &last);
	if (counts == 0)
		return 0;
	log_trace("tsc: lapic window %u counts, %llu tsc ticks, read spreads %u, %u ticks",
	    counts, (unsigned long long)(last.tsc - first.tsc), first.spread, last.spread);
	return (last.tsc - first.tsc) * LAPIC_BUS_HZ / counts;
}

static uint64_t rtc_calibrate(const char **source)
{
	uint64_t t[CAL_EDGES], ticks = 0, periods = 0;
	uint8_t a = rtc_read(RTC_REG_A), b = rtc_read(RTC_REG_B);
	int i, ok = 1;

	/* An absent RTC reads as all ones; a stopped divider never ticks. */
	if ((a == 0xff && b == 0xff) || (a & REG_A_DV_MASK) != REG_A_DV_32K)
		return 0;

	/*
	 * The data sheet sets PF whatever PIE says, but QEMU only runs the
	 * periodic timer while PIE is set.  Setting it raises IRQ 8 each
	 * period; that goes nowhere: interrupts are off (IF=0) and the
	 * IOAPIC's entries are still masked from reset.
	 */
	rtc_write(RTC_REG_A, (a & ~REG_A_RS_MASK) | CAL_RS);
	rtc_write(RTC_REG_B, b | REG_B_PIE);
	(void)rtc_read(RTC_REG_C);	/* clear stale flags; index stays on C */

	/* Sync to an edge, then time CAL_PERIODS more. */
	for (i = 0; i < CAL_EDGES && ok; i++)
		ok = (t[i] = wait_edge()) != 0;

	rtc_write(RTC_REG_B, b);
	rtc_write(RTC_REG_A, a);
	(void)rtc_read(RTC_REG_C);	/* drop PF/IRQF and lower IRQ 8 */

	if (!ok || rtc_estimate(t, &ticks, &periods) == 0)
		return 0;
	*source = "rtc";
	return ticks * CAL_RATE_HZ / periods;
}

uint64_t platform_calibrate_tsc(const char **source)
{
	uint64_t f = lapic_calibrate();

	if (f >= TSC_HZ_MIN && f <= TSC_HZ_MAX) {
		*source = "lapic";
		return f;
	}
	if (f != 0)
		log_warn("tsc: the LAPIC timer gives %llu MHz, so its bus is not QEMU's 1 GHz; "
		    "calibrating against the RTC", (unsigned long long)(f / 1000000));
	return rtc_calibrate(source);
}
