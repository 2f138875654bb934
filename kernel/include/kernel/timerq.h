/*
 * A timer queue: struct limpet_timer items kept in deadline order, linked
 * through their own prev/next fields (no allocation).  Timers with equal
 * deadlines leave the queue in the order they entered it.
 *
 * Pure data structure: no clock, no hardware, no globals; the event loop
 * owns one queue and passes "now" in.  Built on the host for unit tests.
 *
 * The queue keeps t->armed true exactly while t is in it.  Inserting a
 * timer that is already in a queue, or removing one that is not, is a bug
 * and trips an assertion.
 */
#ifndef KERNEL_TIMERQ_H
#define KERNEL_TIMERQ_H

#include <stddef.h>
#include <stdint.h>
#include <limpet.h>

struct timerq {
	struct limpet_timer	*head;	/* earliest deadline */
	struct limpet_timer	*tail;	/* latest deadline */
	size_t			count;
};

void	timerq_init(struct timerq *q);
/* Queue t by t->deadline, after any timers with the same deadline. */
void	timerq_insert(struct timerq *q, struct limpet_timer *t);
/* Take t out of q (t must be in q). */
void	timerq_remove(struct timerq *q, struct limpet_timer *t);
/* The earliest timer, or NULL when empty; stays queued. */
struct limpet_timer *timerq_peek(const struct timerq *q);
/* Remove and return the earliest timer if its deadline <= now, else NULL. */
struct limpet_timer *timerq_pop_expired(struct timerq *q, uint64_t now);
/* The earliest deadline, or UINT64_MAX when empty. */
uint64_t timerq_next_deadline(const struct timerq *q);

#endif
