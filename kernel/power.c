/*
 * What a press of the power button does (power.h): the loop, not the
 * interrupt handler, calls the service's limpet_on_shutdown() hook, once;
 * without one, or at a second press, the loop stops with status 0.
 */
#include <stddef.h>

#include <kernel/log.h>
#include <kernel/loop.h>
#include <kernel/power.h>
#include <limpet.h>

static limpet_shutdown_fn hook;
static void *hook_arg;
static volatile unsigned presses;	/* counted by the interrupt handler */
static unsigned handled;

static int poll_power(struct loop_source *src);

static struct loop_source power_source = {
	.name = "power",
	.poll = poll_power,
};

void
limpet_on_shutdown(limpet_shutdown_fn fn, void *arg)
{
	hook = fn;
	hook_arg = arg;
}

void
power_button_pressed(void)
{
	presses++;
	loop_source_signal(&power_source);
}

static int
poll_power(struct loop_source *src)
{
	unsigned now = presses;

	(void)src;
	if (now == handled)
		return 0;
	if (handled++ == 0 && hook != NULL) {
		log_info("power: the power button: shutting down (the service finishes "
		    "what it has in flight)");
		hook(hook_arg);
	} else {
		log_info("power: the power button%s: stopping now",
		    hook != NULL ? " again" : "");
		limpet_stop(0);
	}
	handled = now;
	return 0;
}

void
power_register(void)
{
	loop_source_register(&power_source);
}
