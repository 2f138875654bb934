/*
 * The event loop's seam for drivers and the network stack (not for
 * services).
 *
 * A source is polled by the loop: once per turn while it says it has more
 * work, after its interrupt handler called loop_source_signal(), and when
 * the time its next_deadline() names has come.  The
 * network driver registers one whose poll step feeds received frames to
 * lwIP and reclaims sent buffers; the lwIP port registers another that runs
 * sys_check_timeouts() and reports its next deadline.
 */
#ifndef KERNEL_LOOP_H
#define KERNEL_LOOP_H

#include <stdint.h>

struct loop_source {
	const char	*name;
	/* Do the pending work; return nonzero if more remains (the loop
	 * then polls again before sleeping). */
	int		(*poll)(struct loop_source *src);
	/* Optional: the absolute time (ns) the source next needs polling,
	 * or UINT64_MAX.  The loop sleeps no longer than that, and polls the
	 * source once it has passed. */
	uint64_t	(*next_deadline)(struct loop_source *src);
	void		*arg;
	/* private */
	volatile int	signalled;
	struct loop_source *next;
};

/* Add src to the loop (loop context, before or during limpet_run()). */
void	loop_source_register(struct loop_source *src);
/* From an interrupt handler: src has work; the loop will poll it. */
void	loop_source_signal(struct loop_source *src);

/* The timer interrupt's handler; only wakes the loop. */
void	loop_timer_irq(void);

/* Loop turns and halts so far (for limpet_info()); either may be NULL. */
void	loop_stats(uint64_t *iterations, uint64_t *sleeps);
/* Periods that periodic timers skipped because the loop ran late. */
uint64_t loop_timer_overruns(void);

#endif
