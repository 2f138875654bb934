/*
 * The init table: subsystems above the kernel's core register a function
 * for a stage of the boot, and kernel_main() runs them in stage order
 * (then in link order within a stage), each a boot phase of its own in
 * the log=debug timing.  The kernel does not name what registers: an
 * image without networking simply has no LIMPET_STAGE_NET entry.
 *
 *	static void net_init(void) { ... }
 *	LIMPET_INIT(net_init, LIMPET_STAGE_NET);
 *
 * The entries live in the section .limpet_init.<stage> (kernel.ld sorts
 * them by name, hence the two digits); each runs once, with interrupts
 * on, after the core (memory, time, timer, watchdog, power button).
 */
#ifndef KERNEL_INIT_H
#define KERNEL_INIT_H

#define LIMPET_STAGE_DEVICE	20	/* devices of their own (virtio-rng, ...) */
#define LIMPET_STAGE_NET	40	/* the NIC and the network stack */
#define LIMPET_STAGE_LATE	60	/* what needs the network up */

struct limpet_init {
	void		(*fn)(void);
	const char	*name;		/* the phase's name in the boot timing */
};

#define LIMPET_INIT_SECTION_(stage)	".limpet_init." #stage
#define LIMPET_INIT_SECTION(stage)	LIMPET_INIT_SECTION_(stage)

#define LIMPET_INIT(fn, stage)						\
	static const struct limpet_init limpet_init_##fn		\
	    __attribute__((used, aligned(8),				\
	    section(LIMPET_INIT_SECTION(stage)))) = { fn, #fn }

/* Run every registered entry, in order (kernel_main()). */
void	limpet_init_run(void);

#endif
