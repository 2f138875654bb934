/* Ending the VM. */
#ifndef KERNEL_EXIT_H
#define KERNEL_EXIT_H

#include <limpet/status.h>

/*
 * Stop the VM with status (0..126; others are clamped to 126): report it
 * through isa-debug-exit where QEMU has one, else halt the CPU for good.
 * Runs the shutdown hooks first (once).
 */
void	machine_exit(int status) __attribute__((noreturn));

/* The status for a command line the kernel or a driver cannot use. */
#define EXIT_USAGE	LIMPET_STATUS_USAGE

/* Hooks run by machine_exit() in reverse order of registration (drivers
 * print their counters here).  At most KERNEL_SHUTDOWN_HOOKS of them. */
int	shutdown_hook_add(void (*fn)(void));

#endif
