/*
 * test_spin: a service whose loop stops, and one whose loop keeps
 * turning, for the watchdog (tests/test_watchdog.py; boot with
 * watchdog=SECONDS and QEMU's -device i6300esb).
 *
 *	test_spin			after 200 ms, a timer callback spins
 *					forever: the loop never turns again
 *	test_spin --idle MS --busy MS	the loop idles (halts) for MS with
 *					nothing to do, then turns without
 *					sleeping for MS (a run-soon item that
 *					queues itself again); prints each
 *					phase's loop turns and halts, then
 *					"test_spin: OK", and exits 0
 *
 * Under the watchdog the first is reset and boots again; the second is
 * not, because the loop pets the watchdog whether it halts or is busy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <limpet.h>

static struct limpet_timer timer;
static struct limpet_work busy_work;
static unsigned long idle_ms, busy_ms;
static uint64_t phase_end;
static struct limpet_info before;

static void
spin(struct limpet_timer *t, void *arg)
{
	volatile unsigned long n = 0;

	(void)t;
	(void)arg;
	printf("test_spin: spinning in a callback; the loop stops here\n");
	fflush(stdout);
	for (;;)
		n++;
}

/* Print the loop's turns and halts since `before`, and start again. */
static void
phase_done(const char *name, unsigned long ms)
{
	struct limpet_info now;

	limpet_info(&now);
	printf("test_spin: %s for %lu ms: %llu loop turns, %llu halts\n", name, ms,
	    (unsigned long long)(now.loop_iterations - before.loop_iterations),
	    (unsigned long long)(now.loop_sleeps - before.loop_sleeps));
	before = now;
}

static void
busy(struct limpet_work *w, void *arg)
{
	(void)arg;
	if (limpet_now_ns() < phase_end) {
		limpet_soon(w);		/* the loop never sleeps while this is queued */
		return;
	}
	phase_done("busy", busy_ms);
	printf("test_spin: OK\n");
	limpet_stop(0);
}

static void
idle_over(struct limpet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	phase_done("idle", idle_ms);
	phase_end = limpet_now_ns() + busy_ms * LIMPET_MS;
	limpet_soon(&busy_work);
}

int
main(int argc, char **argv)
{
	limpet_timer_init(&timer, spin, NULL);
	limpet_work_init(&busy_work, busy, NULL);
	if (argc == 1) {
		printf("test_spin: the loop runs; in 200 ms a callback spins forever\n");
		limpet_timer_after(&timer, 200 * LIMPET_MS);
		return limpet_run();
	}
	if (argc != 5 || strcmp(argv[1], "--idle") != 0 || strcmp(argv[3], "--busy") != 0) {
		fprintf(stderr, "usage: test_spin [--idle MS --busy MS]\n");
		return 2;
	}
	if (limpet_arg_number("--idle", argv[2], 3600000, &idle_ms) != LIMPET_OK ||
	    limpet_arg_number("--busy", argv[4], 3600000, &busy_ms) != LIMPET_OK)
		return 2;
	printf("test_spin: idle for %lu ms, then busy for %lu ms\n", idle_ms, busy_ms);
	limpet_timer_init(&timer, idle_over, NULL);
	limpet_info(&before);
	limpet_timer_after(&timer, idle_ms * LIMPET_MS);
	return limpet_run();
}
