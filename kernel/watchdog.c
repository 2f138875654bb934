/*
 * The watchdog at boot and in the loop (see kernel/watchdog.h): the
 * kernel argument, arming the device, and the loop source that pets it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <limpet.h>
#include <kernel/cmdline.h>
#include <kernel/exit.h>
#include <kernel/ktime.h>
#include <kernel/log.h>
#include <kernel/loop.h>
#include <kernel/param.h>
#include <kernel/watchdog.h>

static struct watchdog wd;
static uint64_t pet_period;	/* ns */
static uint64_t next_pet;	/* ns; the loop pets at or after it */

/*
 * The loop polls this source when its deadline has come (and once on the
 * first turn, which is the first pet).  It runs only from the loop, so a
 * loop stuck in a callback pets no more.
 */
static int
pet_poll(struct loop_source *src)
{
	uint64_t now = now_ns();

	(void)src;
	if (now >= next_pet) {
		wd.ops->pet(&wd);
		next_pet = now + pet_period;
	}
	return 0;
}

static uint64_t
pet_deadline(struct loop_source *src)
{
	(void)src;
	return next_pet;
}

static struct loop_source pet_source = {
	.name		= "watchdog",
	.poll		= pet_poll,
	.next_deadline	= pet_deadline,
};

/* watchdog=SECONDS: the timeout in seconds, or 0 when absent. */
static unsigned long
timeout_arg(void)
{
	const char *v = kargs_take(&boot_args, "watchdog");
	unsigned long s = 0;
	const char *p;

	if (v == NULL)
		return 0;
	for (p = v; *p >= '0' && *p <= '9' && s <= WATCHDOG_MAX_SECONDS; p++)
		s = s * 10 + (unsigned long)(*p - '0');
	if (*v == '\0' || *p != '\0' || s == 0 || s > WATCHDOG_MAX_SECONDS) {
		kprintf("watchdog: error: watchdog=%s: expected a whole number of "
		    "seconds, 1..%d\n", v, WATCHDOG_MAX_SECONDS);
		machine_exit(EXIT_USAGE);
	}
	return s;
}

void
watchdog_init(void)
{
	unsigned long secs = timeout_arg();
	uint64_t actual;
	int err;

	/* Without the argument the device is not even looked for: a PCI
	 * scan would cost every boot a few hundred port accesses. */
	if (secs == 0)
		return;
	if (watchdog_probe(&wd) != 0) {
		log_warn("watchdog=%lu: no watchdog device, running without one "
		    "(QEMU's -device i6300esb, on pc and q35: microvm has no PCI)", secs);
		return;
	}
	if (wd.fired_last)
		log_warn("watchdog: the previous boot was reset by the %s watchdog "
		    "(its event loop had stopped)", wd.name);
	if (secs * LIMPET_SEC > wd.max_ns) {
		kprintf("watchdog: error: watchdog=%lu: the %s counts %llu s at most\n",
		    secs, wd.name, (unsigned long long)(wd.max_ns / LIMPET_SEC));
		machine_exit(EXIT_USAGE);
	}
	if ((err = wd.ops->start(&wd, secs * LIMPET_SEC, &actual)) != 0) {
		log_warn("watchdog: %s at %s cannot be armed (%s), running without it",
		    wd.name, wd.where, err == -EBUSY ? "its settings are locked" : "bad timeout");
		return;
	}
	pet_period = actual / WATCHDOG_PETS_PER_TIMEOUT;
	next_pet = now_ns();
	loop_source_register(&pet_source);
	log_info("watchdog: %s at %s armed: the machine resets when the event loop "
	    "stops for %llu ms (it pets every %llu ms)", wd.name, wd.where,
	    (unsigned long long)(actual / LIMPET_MS),
	    (unsigned long long)(pet_period / LIMPET_MS));
}
