/*
 * microvm: no PIT and no 8259 (pit=off, pic=off), so the reference clock
 * for calibrating the TSC is the CMOS RTC's periodic flag.
 */
#include <stdint.h>

#include "cpu.h"
#include "platform.h"

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
 * 2048 Hz (RS = 5): edges 488 us apart, far more than QEMU's timer
 * latency, and the sync wait is at most one of them.  12 periods make a
 * 5.9 ms window.  QEMU sets PF from a host timer callback, so an edge can
 * be seen tens of microseconds late; the error is that latency over the
 * window.
 */
#define CAL_RS		5
#define CAL_RATE_HZ	(32768ULL >> (CAL_RS - 1))
#define CAL_PERIODS	12
/* Give up on an edge that has not come after this many TSC ticks: 4 periods
 * at 20 GHz. */
#define CAL_TSC_LIMIT	(20000000000ULL / CAL_RATE_HZ * 4)

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

/* Wait for PF (the index must be register C); the TSC when it was seen, or
 * 0 on timeout. */
static uint64_t wait_edge(void)
{
	uint64_t start = rdtsc(), t;

	do {
		t = rdtsc();
		if (inb(RTC_DATA) & REG_C_PF)
			return rdtsc();
	} while (t - start < CAL_TSC_LIMIT);
	return 0;
}

uint64_t platform_calibrate_tsc(const char **source)
{
	uint64_t t[CAL_PERIODS + 1], d[CAL_PERIODS], med, periods = 0;
	uint8_t a = rtc_read(RTC_REG_A), b = rtc_read(RTC_REG_B);
	int i, j, ok = 1;

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
	for (i = 0; i <= CAL_PERIODS && ok; i++)
		ok = (t[i] = wait_edge()) != 0;

	rtc_write(RTC_REG_B, b);
	rtc_write(RTC_REG_A, a);
	(void)rtc_read(RTC_REG_C);	/* drop PF/IRQF and lower IRQ 8 */
	if (!ok)
		return 0;

	/*
	 * A late callback in QEMU can swallow an edge (its lost-tick policy
	 * discards), making one interval two periods long.  Count each
	 * interval in periods of the median interval rather than assuming one.
	 */
	for (i = 0; i < CAL_PERIODS; i++) {
		uint64_t v = t[i + 1] - t[i];

		for (j = i; j > 0 && d[j - 1] > v; j--)
			d[j] = d[j - 1];
		d[j] = v;
	}
	med = d[CAL_PERIODS / 2];
	if (med == 0)
		return 0;
	for (i = 0; i < CAL_PERIODS; i++)
		periods += (t[i + 1] - t[i] + med / 2) / med;

	*source = "rtc";
	return (t[CAL_PERIODS] - t[0]) * CAL_RATE_HZ / periods;
}
