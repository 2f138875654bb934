/*
 * What differs between the QEMU machines: one platform-<name>.c is built
 * in, chosen by the build's platform option.
 */
#ifndef ARCH_X86_64_PLATFORM_H
#define ARCH_X86_64_PLATFORM_H

#include <stdint.h>

/* Quiet the legacy hardware the kernel does not use (the 8259 PICs on pc);
 * runs before lapic_init(). */
void	platform_init(void);

/*
 * Measure the TSC against the platform's reference clock (IF=0, before
 * the LAPIC timer).  Returns Hz and names the clock in *source ("pit",
 * "rtc"), or 0 when the clock is missing or misbehaves.  Every wait is
 * bounded, so it cannot hang.
 */
uint64_t platform_calibrate_tsc(const char **source);

/*
 * The LAPIC timer as a second clock for calibration (lapic.c), usable
 * before lapic_init(): lapic_ref_start() sets the timer counting down
 * one-shot, divide by 1, masked, from 2^32 - 1; lapic_ref_mark() reads its
 * current count with the TSC around it; lapic_ref_stop() stops it and
 * returns the counts between two marks (0 if it did not count).  The
 * counts per TSC tick are kept, so that timer_init() need not measure them
 * again for one-shot mode.
 */
struct lapic_mark {
	uint64_t	tsc;		/* middle of the TSC reads around ... */
	uint32_t	count;		/* ... the read of this current count */
	uint32_t	spread;		/* TSC ticks between those TSC reads */
};

void	lapic_ref_start(void);
void	lapic_ref_mark(struct lapic_mark *m);
uint32_t lapic_ref_stop(const struct lapic_mark *first, const struct lapic_mark *last);

#endif
