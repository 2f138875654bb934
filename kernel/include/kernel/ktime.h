/*
 * Time: the TSC as the clock, the local APIC as the timer.
 *
 * time_init() calibrates the TSC once at boot: from the kernel argument
 * -freq MHz when given, else from CPUID leaf 0x15/0x16 when the CPU reports
 * its frequency, else against the platform's reference clock: the PIT on
 * pc/q35; on microvm, which has no PIT, the local APIC timer (QEMU's and
 * KVM's count at a fixed 1 GHz bus clock), with the RTC's periodic flag as
 * the fallback.  The same window measures the LAPIC timer's rate for
 * one-shot mode.  Each reference wait is bounded, so calibration cannot
 * hang; if every source fails the kernel says so and assumes 2 GHz.
 *
 * timer_init() sets the local APIC timer up in TSC-deadline mode where the
 * CPU has it (CPUID.1:ECX[24]), else in one-shot mode scaled from the TSC.
 * The timer interrupt only wakes the CPU; the event loop does the work.
 */
#ifndef KERNEL_KTIME_H
#define KERNEL_KTIME_H

#include <stdint.h>

/* The TSC value that now_ns() counts from (bootinfo's loader_tsc); the
 * kernel's first call, before anything reads the time. */
void	time_set_origin(uint64_t tsc);
uint64_t time_origin(void);

/* Calibrate the TSC; the kernel argument -freq MHz overrides calibration. */
void	time_init(void);
uint64_t tsc_hz(void);
/* How the frequency was found: "-freq", "cpuid", "pit", "lapic", "rtc" or
 * "default". */
const char *tsc_source(void);

/* Nanoseconds since the TSC read at the loader's entry (monotonic). */
uint64_t now_ns(void);
uint64_t tsc_to_ns(uint64_t tsc);
uint64_t ns_to_tsc(uint64_t ns);

/* Boot profiling: note that the boot phase `name` (a string constant)
 * ends now; the phases are printed at log=debug before main() runs. */
void	boot_phase_done(const char *name);

/* Set up the local APIC timer; needs interrupts (idt_init) in place. */
void	timer_init(void);
/* Fire the timer interrupt at now_ns() >= deadline_ns (0 disarms); with
 * interrupts off.  Re-arming for the deadline already set costs nothing. */
void	timer_arm(uint64_t deadline_ns);
/* "tsc-deadline" or "one-shot". */
const char *timer_mode(void);

/* Busy-wait; for early boot and drivers' reset delays only. */
void	delay_us(uint64_t us);

#endif
