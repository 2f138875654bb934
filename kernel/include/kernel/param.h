/*
 * Kernel limits and sizes, in one place.  (Usable from assembly.)
 */
#ifndef KERNEL_PARAM_H
#define KERNEL_PARAM_H

/* The stack main() and every callback run on; mbedTLS handshakes need
 * tens of KiB, so be generous. */
#define KERNEL_STACK_SIZE	(64 * 1024)
/* The double-fault stack (IST1): enough to print a dump and a backtrace. */
#define DF_STACK_SIZE		(16 * 1024)
/* Kernel arguments before "--", and application arguments after it. */
#define KERNEL_ARGS_MAX		32
#define APP_ARGS_MAX		64
/* Functions machine_exit() runs (driver counters, ...). */
#define KERNEL_SHUTDOWN_HOOKS	8
/* Frames a backtrace prints at most. */
#define BACKTRACE_MAX		24
/* The watchdog (watchdog.h): the loop pets it this often per timeout, so
 * a turn of the loop (one callback, say) may take up to 3/4 of the
 * timeout without the machine being reset. */
#define WATCHDOG_PETS_PER_TIMEOUT	4
/* watchdog=SECONDS at most: the i6300esb counts up to 2061 s (two stages
 * of 2^20 - 1 ticks of 2^15 PCI clocks). */
#define WATCHDOG_MAX_SECONDS	2000
/* Hard-coded default if every TSC calibration source fails. */
#define TSC_DEFAULT_HZ		2000000000ULL

#endif
