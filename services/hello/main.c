/*
 * hello: the smallest Limpet service.  It greets with its arguments, waits
 * for a one-shot timer to show the event loop at work, and exits 0.
 *
 *	./limpet run hello -- a b
 */
#include <stdio.h>

#include <limpet.h>

static uint64_t armed_at;

static void
on_timer(struct limpet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	printf("hello: timer fired after %llu us; goodbye\n",
	    (unsigned long long)((limpet_now_ns() - armed_at) / LIMPET_US));
	limpet_stop(0);
}

int
main(int argc, char **argv)
{
	struct limpet_timer timer;
	struct limpet_info info;

	printf("Hello from Limpet! args:");
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("%s\n", argc > 1 ? "" : " (none)");

	limpet_info(&info);
	printf("hello: running on %s, %llu MiB of RAM, booted in %llu us\n",
	    info.platform, (unsigned long long)(info.mem_total >> 20),
	    (unsigned long long)(info.boot_ns / LIMPET_US));

	limpet_timer_init(&timer, on_timer, NULL);
	armed_at = limpet_now_ns();
	limpet_timer_after(&timer, 10 * LIMPET_MS);
	return limpet_run();
}
