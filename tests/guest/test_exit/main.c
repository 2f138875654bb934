/*
 * test_exit: the ways a service ends, chosen by the arguments "HOW STATUS":
 *
 *	return N	main returns N
 *	main N		exit(N) from main
 *	callback N	exit(N) from a timer callback inside limpet_run()
 *	stop N		limpet_stop(N) in a callback; main returns limpet_run()
 *
 * Each way must end the VM with status N.  Output written with printf but
 * not yet flushed (no newline), and an atexit handler, must both make it
 * to the console first: the test looks for "atexit ran" and "unflushed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <limpet.h>

static int status;
static const char *how;

static void at_exit(void)
{
	printf("test_exit: atexit ran\n");
}

static void on_timer(struct limpet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	printf("test_exit: %s %d from a callback, unflushed", how, status);
	if (strcmp(how, "callback") == 0)
		exit(status);
	limpet_stop(status);
}

int main(int argc, char **argv)
{
	struct limpet_timer timer;
	int rc;

	if (argc != 3) {
		printf("usage: test_exit return|main|callback|stop STATUS\n");
		return 2;
	}
	how = argv[1];
	status = atoi(argv[2]);
	atexit(at_exit);

	if (strcmp(how, "return") == 0) {
		printf("test_exit: returning %d, unflushed", status);
		return status;
	}
	if (strcmp(how, "main") == 0) {
		printf("test_exit: exit(%d) from main, unflushed", status);
		exit(status);
	}
	if (strcmp(how, "callback") != 0 && strcmp(how, "stop") != 0) {
		printf("test_exit: unknown way %s\n", how);
		return 2;
	}
	limpet_timer_init(&timer, on_timer, NULL);
	limpet_timer_after(&timer, 5 * LIMPET_MS);
	rc = limpet_run();
	if (strcmp(how, "callback") == 0) {
		printf("\ntest_exit: FAILED: exit() in a callback returned to main\n");
		return 1;
	}
	printf("\ntest_exit: limpet_run() returned %d\n", rc);
	return rc;
}
