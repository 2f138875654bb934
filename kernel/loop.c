/*
 * The event loop: timers, run-soon work, event sources, and sleeping.
 *
 * One turn (limpet_run):
 *   1. poll every source that signalled, still had work, or whose own
 *      deadline has come;
 *   2. run the work queued before this turn began (work queued meanwhile
 *      waits for the next turn, but keeps the loop from sleeping);
 *   3. run every timer whose deadline has passed, earliest first;
 *   4. return if limpet_stop() was called;
 *   5. with interrupts off, check once more for pending work, arm the
 *      LAPIC timer for the earliest deadline and halt; "sti; hlt" lets no
 *      wake-up slip in between the check and the halt.
 *
 * Interrupt handlers touch nothing here but a source's signalled flag.
 */
#include <stddef.h>
#include <stdint.h>

#include <limpet.h>
#include <kernel/ktime.h>
#include <kernel/log.h>
#include <kernel/loop.h>
#include <kernel/timerq.h>

#include "cpu.h"

/* Set by init, checked by every call, so that an uninitialised (or
 * overwritten) item is caught as the bug it is. */
#define TIMER_MAGIC	0x544d5231u	/* "TMR1" */
#define WORK_MAGIC	0x574b5131u	/* "WKQ1" */

struct workq {
	struct limpet_work	*head, *tail;
};

static struct timerq timers;
/* New work goes on soon; a turn moves it to running and runs that. */
static struct workq soon, running;
static struct loop_source *sources;

static bool in_loop;
static bool stop_requested;
static int stop_status;

static uint64_t iterations, sleeps, timer_overruns;

/* ---- timers ------------------------------------------------------------- */

static void check_timer(const struct limpet_timer *t, const char *fn)
{
	if (t == NULL || t->magic != TIMER_MAGIC)
		panic("%s: timer %p was not set up with limpet_timer_init()", fn, (void *)t);
}

void limpet_timer_init(struct limpet_timer *t, limpet_timer_fn fn, void *arg)
{
	if (t == NULL || fn == NULL)
		panic("limpet_timer_init: NULL %s", t == NULL ? "timer" : "callback");
	/* Re-initialising an armed timer would corrupt the queue. */
	if (t->magic == TIMER_MAGIC && t->armed)
		panic("limpet_timer_init: timer %p is armed", (void *)t);
	t->deadline = 0;
	t->period = 0;
	t->fn = fn;
	t->arg = arg;
	t->next = t->prev = NULL;
	t->armed = false;
	t->magic = TIMER_MAGIC;
}

static void arm(struct limpet_timer *t, uint64_t deadline, uint64_t period)
{
	if (t->armed)
		timerq_remove(&timers, t);
	t->deadline = deadline;
	t->period = period;
	timerq_insert(&timers, t);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

void limpet_timer_after(struct limpet_timer *t, uint64_t delay_ns)
{
	check_timer(t, "limpet_timer_after");
	arm(t, add_sat(now_ns(), delay_ns), 0);
}

enum limpet_result limpet_timer_every(struct limpet_timer *t, uint64_t period_ns)
{
	check_timer(t, "limpet_timer_every");
	if (period_ns == 0)
		return LIMPET_EINVAL;
	arm(t, add_sat(now_ns(), period_ns), period_ns);
	return LIMPET_OK;
}

void limpet_timer_cancel(struct limpet_timer *t)
{
	check_timer(t, "limpet_timer_cancel");
	if (t->armed)
		timerq_remove(&timers, t);
}

bool limpet_timer_armed(const struct limpet_timer *t)
{
	check_timer(t, "limpet_timer_armed");
	return t->armed;
}

/*
 * Run the timers due at now (until limpet_stop()).  A periodic timer is re-queued before its
 * callback runs, so the callback may cancel or re-arm it.  Its next
 * deadline stays on the grid deadline + k * period: after a late turn the
 * periods already missed are skipped (and counted), not run in a burst.
 */
static void run_timers(uint64_t now)
{
	struct limpet_timer *t;

	while (!stop_requested && (t = timerq_pop_expired(&timers, now)) != NULL) {
		if (t->period != 0) {
			uint64_t missed = (now - t->deadline) / t->period;

			timer_overruns += missed;
			t->deadline = add_sat(t->deadline, (missed + 1) * t->period);
			timerq_insert(&timers, t);
		}
		t->fn(t, t->arg);
	}
}

/* ---- run-soon work ------------------------------------------------------ */

static void check_work(const struct limpet_work *w, const char *fn)
{
	if (w == NULL || w->magic != WORK_MAGIC)
		panic("%s: work %p was not set up with limpet_work_init()", fn, (void *)w);
}

void limpet_work_init(struct limpet_work *w, limpet_work_fn fn, void *arg)
{
	if (w == NULL || fn == NULL)
		panic("limpet_work_init: NULL %s", w == NULL ? "work" : "callback");
	if (w->magic == WORK_MAGIC && w->queued)
		panic("limpet_work_init: work %p is queued", (void *)w);
	w->fn = fn;
	w->arg = arg;
	w->next = NULL;
	w->queued = false;
	w->magic = WORK_MAGIC;
}

static void workq_push(struct workq *q, struct limpet_work *w)
{
	w->next = NULL;
	if (q->tail != NULL)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
}

static struct limpet_work *workq_pop(struct workq *q)
{
	struct limpet_work *w = q->head;

	if (w != NULL) {
		q->head = w->next;
		if (q->head == NULL)
			q->tail = NULL;
		w->next = NULL;
	}
	return w;
}

/* Unlink w from q if it is there (a singly linked walk: queues are short). */
static bool workq_remove(struct workq *q, struct limpet_work *w)
{
	struct limpet_work *prev = NULL, *p;

	for (p = q->head; p != NULL; prev = p, p = p->next) {
		if (p != w)
			continue;
		if (prev != NULL)
			prev->next = p->next;
		else
			q->head = p->next;
		if (q->tail == p)
			q->tail = prev;
		p->next = NULL;
		return true;
	}
	return false;
}

void limpet_soon(struct limpet_work *w)
{
	check_work(w, "limpet_soon");
	if (w->queued)
		return;
	w->queued = true;
	workq_push(&soon, w);
}

void limpet_work_cancel(struct limpet_work *w)
{
	check_work(w, "limpet_work_cancel");
	if (!w->queued)
		return;
	if (!workq_remove(&running, w) && !workq_remove(&soon, w))
		panic("limpet_work_cancel: work %p marked queued but not found", (void *)w);
	w->queued = false;
}

/* Run what was queued before this call; later additions wait.  After
 * limpet_stop() the rest stays queued, ahead of the later additions. */
static void run_work(void)
{
	struct limpet_work *w;

	running = soon;
	soon.head = soon.tail = NULL;
	while (!stop_requested && (w = workq_pop(&running)) != NULL) {
		w->queued = false;
		w->fn(w, w->arg);
	}
	if (running.head != NULL) {
		if (soon.head != NULL)
			running.tail->next = soon.head;
		else
			soon.tail = running.tail;
		soon.head = running.head;
		running.head = running.tail = NULL;
	}
}

/* ---- sources ------------------------------------------------------------ */

void loop_source_register(struct loop_source *src)
{
	struct loop_source **p;

	if (src == NULL || src->poll == NULL)
		panic("loop_source_register: source without a poll function");
	for (p = &sources; *p != NULL; p = &(*p)->next)
		if (*p == src)
			panic("loop_source_register: %s registered twice", src->name);
	src->next = NULL;
	*p = src;
	/* Poll once on the next turn: it may have work from before. */
	src->signalled = 1;
}

void loop_source_signal(struct loop_source *src)
{
	src->signalled = 1;
}

void loop_timer_irq(void)
{
	/* Nothing to note: the interrupt has already woken the CPU from
	 * hlt, and the loop looks at the clock itself. */
}

/* A source is due when it signalled, or when its own deadline has come. */
static bool source_due(struct loop_source *src, uint64_t now)
{
	return src->signalled ||
	    (src->next_deadline != NULL && src->next_deadline(src) <= now);
}

static void poll_sources(void)
{
	struct loop_source *src;
	uint64_t now = now_ns();

	for (src = sources; src != NULL; src = src->next) {
		if (!source_due(src, now))
			continue;
		/* Clear first: a signal that arrives during poll is kept. */
		src->signalled = 0;
		if (src->poll(src) != 0)
			src->signalled = 1;
	}
}

static bool sources_pending(void)
{
	struct loop_source *src;

	for (src = sources; src != NULL; src = src->next)
		if (src->signalled)
			return true;
	return false;
}

static uint64_t next_deadline(void)
{
	uint64_t next = timerq_next_deadline(&timers);
	struct loop_source *src;

	for (src = sources; src != NULL; src = src->next) {
		if (src->next_deadline != NULL) {
			uint64_t d = src->next_deadline(src);

			if (d < next)
				next = d;
		}
	}
	return next;
}

/* ---- the loop ----------------------------------------------------------- */

/* Halt until an interrupt, unless there is something to do already. */
static void sleep_until_due(void)
{
	uint64_t next;

	cli();
	if (stop_requested || soon.head != NULL || sources_pending()) {
		sti();
		return;
	}
	next = next_deadline();
	if (next != UINT64_MAX && next <= now_ns()) {
		sti();
		return;
	}
	/* UINT64_MAX: nothing timed; only a device interrupt will wake us. */
	timer_arm(next == UINT64_MAX ? 0 : next);
	sleeps++;
	sti_hlt();
}

int limpet_run(void)
{
	int status;

	if (in_loop)
		return LIMPET_EINVAL;
	in_loop = true;

	for (;;) {
		iterations++;
		/* limpet_stop() ends the turn after the callback that called it. */
		poll_sources();
		if (!stop_requested)
			run_work();
		if (!stop_requested)
			run_timers(now_ns());
		if (stop_requested)
			break;
		sleep_until_due();
	}

	status = stop_status;
	stop_requested = false;
	in_loop = false;
	return status;
}

void limpet_stop(int status)
{
	stop_status = status;
	stop_requested = true;
}

uint64_t limpet_now_ns(void)
{
	return now_ns();
}

void loop_stats(uint64_t *iters, uint64_t *nsleeps)
{
	if (iters != NULL)
		*iters = iterations;
	if (nsleeps != NULL)
		*nsleeps = sleeps;
}

uint64_t loop_timer_overruns(void)
{
	return timer_overruns;
}
