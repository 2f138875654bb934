/*
 * pc and q35: the 8259 PICs are there and unused, and the 8254 PIT is the
 * reference clock for calibrating the TSC.
 */
#include <stdint.h>

#include "cpu.h"
#include "platform.h"

/* 8259A: the interrupt mask registers (OCW1) of the master and slave. */
#define PIC1_DATA	0x21
#define PIC2_DATA	0xa1

/* 8254 PIT (Intel 82C54 data sheet), input clock 1.193182 MHz. */
#define PIT_HZ		1193182ULL
#define PIT_CH2		0x42
#define PIT_CMD		0x43
#define PIT_SEL_CH2	0x80
#define PIT_RW_LOHI	0x30
#define PIT_MODE0	0x00		/* interrupt on terminal count */

/* NMI status and control port: channel 2's gate and its output. */
#define PORT_61		0x61
#define P61_GATE2	0x01
#define P61_SPEAKER	0x02
#define P61_OUT2	0x20

/*
 * Calibration window: 5 ms is 5966 PIT ticks.  Each end is measured to
 * within one port access (~1 us under TCG), so the error is a few hundred
 * ppm at worst.  A longer window buys accuracy with boot time.
 */
#define CAL_PIT_TICKS	(PIT_HZ * 5 / 1000)
/* Give up on a PIT that never counts down after this many TSC ticks: the
 * window at 20 GHz, more than 40 ms at any plausible frequency. */
#define CAL_TSC_LIMIT	(20000000000ULL * 5 / 1000 * 2)

void platform_init(void)
{
	/* Mask every line: the kernel takes interrupts through the APICs. */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

uint64_t platform_calibrate_tsc(const char **source)
{
	uint8_t saved = inb(PORT_61);
	uint64_t t0, t1;
	int ok = 0;

	/* Gate channel 2 on, keep the speaker off, then start a mode 0
	 * count: OUT2 goes low on the command and high at terminal count. */
	outb(PORT_61, (saved & ~P61_SPEAKER) | P61_GATE2);
	outb(PIT_CMD, PIT_SEL_CH2 | PIT_RW_LOHI | PIT_MODE0);
	outb(PIT_CH2, CAL_PIT_TICKS & 0xff);
	outb(PIT_CH2, CAL_PIT_TICKS >> 8);
	t0 = rdtsc();

	/* OUT2 already high means no PIT answers here (an absent port reads
	 * as all ones). */
	if (!(inb(PORT_61) & P61_OUT2)) {
		do {
			t1 = rdtsc();
			if (inb(PORT_61) & P61_OUT2) {
				ok = 1;
				break;
			}
		} while (t1 - t0 < CAL_TSC_LIMIT);
	}
	t1 = rdtsc();
	outb(PORT_61, saved);

	if (!ok)
		return 0;
	*source = "pit";
	return (t1 - t0) * PIT_HZ / CAL_PIT_TICKS;
}
