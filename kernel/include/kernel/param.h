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
/* Hard-coded default if every TSC calibration source fails. */
#define TSC_DEFAULT_HZ		2000000000ULL

#endif
