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

#endif
