/*
 * The hardware watchdog: a device that resets the machine unless it is
 * petted before its timeout runs out.
 *
 * The kernel argument watchdog=SECONDS arms it at boot (watchdog_init(),
 * after the memory and the clock are up).  From then on the event loop
 * pets it: watchdog.c registers a loop source whose deadline comes every
 * timeout / WATCHDOG_PETS_PER_TIMEOUT.  A callback that never returns
 * stops the loop and with it the petting, so the device resets the
 * machine one timeout after the last pet.  Nothing else pets it, not even
 * interrupts: until main() calls limpet_run(), and whenever the loop is
 * not running, the timeout runs down.  While the loop is idle it halts as
 * before; the pet deadline is the only wake-up the watchdog adds.
 *
 * Without the argument the kernel does not look for a device (one that is
 * there never counts unless enabled); with it and no device, the kernel
 * warns and boots.
 *
 * The one driver is QEMU's i6300esb (kernel/arch/x86_64/i6300esb.c), a
 * PCI device, so pc and q35 only: microvm has no PCI bus.
 */
#ifndef KERNEL_WATCHDOG_H
#define KERNEL_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

struct watchdog;

/* What a driver does.  Boot and loop context only. */
struct watchdog_ops {
	/* Program the timeout (ns, at most w->max_ns) and start counting;
	 * *actual gets the timeout the device really counts (its ticks
	 * round it up).  0 or a negative errno. */
	int	(*start)(struct watchdog *w, uint64_t timeout_ns, uint64_t *actual);
	/* Reload the count: another full timeout from now. */
	void	(*pet)(struct watchdog *w);
};

struct watchdog {
	const struct watchdog_ops *ops;
	const char	*name;		/* "i6300esb" */
	char		where[16];	/* "00:04.0" */
	uint64_t	max_ns;		/* the longest timeout it counts */
	/* The previous boot ended in a reset by this watchdog (the device
	 * keeps that across resets; the probe reads and clears it). */
	bool		fired_last;
	volatile void	*regs;		/* the driver's */
};

/* Arch: find the machine's watchdog device and fill in w; 0, or -ENODEV
 * when there is none. */
int	watchdog_probe(struct watchdog *w);

/* Boot: the kernel argument watchdog=SECONDS (a bad value stops the boot
 * with EXIT_USAGE), the device, and the loop source that pets it. */
void	watchdog_init(void);

#endif
