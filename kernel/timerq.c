/*
 * The timer queue: a doubly linked list sorted by deadline.
 *
 * Why a list and not a heap or a wheel: a service has a handful of timers
 * (lwIP keeps its own timeouts and shows up here as one loop source), the
 * links are intrusive so arming never allocates or fails, removal is O(1),
 * and popping the earliest is O(1).  Insertion walks from the tail because
 * the common insertions are a periodic timer moving to its next period and
 * a fresh "after" delay, both of which usually land at or near the end;
 * walking back from the tail also makes equal deadlines FIFO for free (stop
 * at the first timer whose deadline is <= ours).  If services ever keep
 * hundreds of timers with scattered deadlines, a pairing heap over the same
 * two links would be the next step.
 */
#include <kernel/timerq.h>

#ifdef LIMPET_HOST_TEST
#include <assert.h>
#define TQ_ASSERT(e)	assert(e)
#else
#include <kernel/log.h>
#define TQ_ASSERT(e)	KASSERT(e)
#endif

void timerq_init(struct timerq *q)
{
	q->head = q->tail = NULL;
	q->count = 0;
}

void timerq_insert(struct timerq *q, struct limpet_timer *t)
{
	struct limpet_timer *after;

	TQ_ASSERT(!t->armed);

	/* The last timer that fires no later than t; t goes right after it. */
	after = q->tail;
	while (after != NULL && after->deadline > t->deadline)
		after = after->prev;

	t->prev = after;
	if (after == NULL) {
		t->next = q->head;
		q->head = t;
	} else {
		t->next = after->next;
		after->next = t;
	}
	if (t->next != NULL)
		t->next->prev = t;
	else
		q->tail = t;

	t->armed = true;
	q->count++;
}

void timerq_remove(struct timerq *q, struct limpet_timer *t)
{
	TQ_ASSERT(t->armed && q->count > 0);

	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		q->head = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	else
		q->tail = t->prev;

	t->next = t->prev = NULL;
	t->armed = false;
	q->count--;
}

struct limpet_timer *timerq_peek(const struct timerq *q)
{
	return q->head;
}

struct limpet_timer *timerq_pop_expired(struct timerq *q, uint64_t now)
{
	struct limpet_timer *t = q->head;

	if (t == NULL || t->deadline > now)
		return NULL;
	timerq_remove(q, t);
	return t;
}

uint64_t timerq_next_deadline(const struct timerq *q)
{
	return q->head != NULL ? q->head->deadline : UINT64_MAX;
}
