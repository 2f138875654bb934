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
 * Calibration window, in PIT ticks (1193 per ms).  Each end is known to
 * within about one port access (~1 us under TCG), so the error is a few
 * hundred ppm at worst and tens typically; a longer window buys accuracy
 * with boot time.
 */
#define CAL_PIT_TICKS	(PIT_HZ * CAL_MS / 1000)
#define CAL_MS		2	/* measured: within -63..+5 ppm under TCG */
/* Give up on a PIT that never counts down after this many TSC ticks: the
 * window at 20 GHz, several times the window at any plausible frequency. */
#define CAL_TSC_LIMIT	(20000000000ULL / 1000 * CAL_MS)
/* Retry a window whose ends are less certain than 1/CAL_PRECISION of it
 * (the vCPU was preempted at the wrong moment); keep the best of them. */
#define CAL_PRECISION	2000
#define CAL_TRIES	3

void platform_init(void)
{
	/* Mask every line: the kernel takes interrupts through the APICs. */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

/*
 * One window: TSC ticks for CAL_PIT_TICKS, and the uncertainty of that
 * count; 0 if the PIT does not behave.  Each end is taken as the middle of
 * the two TSC reads around the event (the count's load; the first port read
 * that saw OUT2 high), both read inside one straight run of code: under
 * QEMU TCG, code that runs for the first time is translated first, which
 * would add ~20 us to a TSC read placed after it.
 */
static uint64_t pit_window(uint64_t *uncertainty)
{
	uint64_t t0a, t0b, prev, t;

	/* Gate channel 2 on, keep the speaker off, then start a mode 0
	 * count: OUT2 goes low on the command and high at terminal count. */
	outb(PORT_61, (inb(PORT_61) & ~P61_SPEAKER) | P61_GATE2);
	outb(PIT_CMD, PIT_SEL_CH2 | PIT_RW_LOHI | PIT_MODE0);
	outb(PIT_CH2, CAL_PIT_TICKS & 0xff);
	t0a = rdtsc();
	outb(PIT_CH2, CAL_PIT_TICKS >> 8);
	t0b = rdtsc();

	/* OUT2 already high: no PIT answers here (an absent port reads as
	 * all ones). */
	if (inb(PORT_61) & P61_OUT2)
		return 0;
	prev = t0b;
	for (;;) {
		t = rdtsc();
		if (inb(PORT_61) & P61_OUT2)
			break;
		if (t - t0b > CAL_TSC_LIMIT)
			return 0;
		prev = t;
	}
	*uncertainty = (t0b - t0a) + (t - prev);
	return (prev + t) / 2 - (t0a + t0b) / 2;
}

/*
 * The LAPIC timer counts through the PIT windows: not as a clock (its rate
 * is the hypervisor's choice) but so that the counts per TSC tick that
 * timer_init() needs for one-shot mode come from this interval instead of
 * a millisecond of their own.  Its two marks sit outside the PIT windows.
 */
uint64_t platform_calibrate_tsc(const char **source)
{
	struct lapic_mark first, last;
	uint8_t saved = inb(PORT_61);
	uint64_t best = 0, best_unc = 0, ticks, unc;
	int i;

	lapic_ref_start();
	lapic_ref_mark(&first);
	for (i = 0; i < CAL_TRIES; i++) {
		ticks = pit_window(&unc);
		if (ticks == 0)
			break;
		if (best == 0 || unc * best < best_unc * ticks) {
			best = ticks;
			best_unc = unc;
		}
		if (unc * CAL_PRECISION < ticks)
			break;
	}
	lapic_ref_mark(&last);
	(void)lapic_ref_stop(&first, &last);
	outb(PORT_61, saved);

	if (best == 0)
		return 0;
	*source = "pit";
	return best * PIT_HZ / CAL_PIT_TICKS;
}
