/*
 * limpet.h — the service API.
 *
 * A Limpet service is an ordinary C program linked with the kernel into one
 * image.  The kernel boots, then calls the service's main(argc, argv) with
 * the application arguments (what follows "--" on the command line).  main
 * sets up timers, run-soon work and (later) network callbacks, then calls
 * limpet_run(), which runs the event loop:
 *
 *	for (;;) {
 *		poll every event source that signalled (devices, the network);
 *		run the run-soon work queued so far, in order;
 *		run every timer whose deadline has passed, in deadline order;
 *		if limpet_stop() was called: return its status;
 *		sleep (HLT) until the next interrupt or timer deadline;
 *	}
 *
 * Nothing runs concurrently with a callback: there is one CPU and one loop,
 * and interrupt handlers only note that work is pending.  Callbacks must not
 * block; they may call any function in this header and newlib's.
 *
 * Ending: limpet_stop(status) makes limpet_run() return status, and main's
 * return value ends the VM; exit(status) from anywhere ends the VM at once
 * (atexit handlers and stdio flushing run).  The status reaches the host as
 * ./limpet run's exit status (0..126).
 *
 * Memory: timers and work items are owned by the caller (no allocation, no
 * failure); they must stay valid while armed or queued.
 *
 * Errors: calls that can fail return LIMPET_OK (0) or a negative
 * enum limpet_result.  Misuse that can only be a bug (an uninitialised
 * timer, say) panics with a message.
 *
 * Context: every function here is for the loop's context (main or a
 * callback), never for interrupt handlers.
 */
#ifndef LIMPET_H
#define LIMPET_H

#include <stdbool.h>
#include <stdint.h>

enum limpet_result {
	LIMPET_OK	= 0,
	LIMPET_EINVAL	= -1,	/* an argument is out of range */
	LIMPET_EAGAIN	= -2,	/* try again later (a queue is full) */
	LIMPET_ENOMEM	= -3,	/* out of memory */
	LIMPET_ENOTSUP	= -4,	/* not available on this platform or build */
	LIMPET_EADDRINUSE = -5,	/* the port is taken */
	LIMPET_EIO	= -6,	/* the connection or device failed */
};

/* ---- time ---------------------------------------------------------------- */

#define LIMPET_US	1000ULL
#define LIMPET_MS	1000000ULL
#define LIMPET_SEC	1000000000ULL

/* Monotonic nanoseconds since boot (TSC-based). */
uint64_t limpet_now_ns(void);

/* ---- timers -------------------------------------------------------------- */

struct limpet_timer;
typedef void (*limpet_timer_fn)(struct limpet_timer *t, void *arg);

/* Private fields: use the functions below. */
struct limpet_timer {
	uint64_t		deadline;	/* ns, absolute */
	uint64_t		period;		/* ns; 0 for one-shot */
	limpet_timer_fn		fn;
	void			*arg;
	struct limpet_timer	*next, *prev;	/* queue links */
	uint32_t		magic;
	bool			armed;
};

/* Prepare t to call fn(t, arg).  Must precede every other timer call. */
void	limpet_timer_init(struct limpet_timer *t, limpet_timer_fn fn, void *arg);
/* Fire once, delay_ns from now (re-arming an armed timer moves it). */
void	limpet_timer_after(struct limpet_timer *t, uint64_t delay_ns);
/* Fire every period_ns (> 0), first period_ns from now.  Deadlines advance
 * by whole periods, so a late callback does not make the timer drift. */
enum limpet_result limpet_timer_every(struct limpet_timer *t, uint64_t period_ns);
/* Disarm; harmless when not armed, and allowed from the timer's own callback. */
void	limpet_timer_cancel(struct limpet_timer *t);
bool	limpet_timer_armed(const struct limpet_timer *t);

/* ---- run-soon work --------------------------------------------------------- */

struct limpet_work;
typedef void (*limpet_work_fn)(struct limpet_work *w, void *arg);

struct limpet_work {
	limpet_work_fn		fn;
	void			*arg;
	struct limpet_work	*next;
	uint32_t		magic;
	bool			queued;
};

void	limpet_work_init(struct limpet_work *w, limpet_work_fn fn, void *arg);
/* Run w on the loop's next turn, before it sleeps.  Queuing a queued item
 * does nothing, so the work runs once however often it was asked for. */
void	limpet_soon(struct limpet_work *w);
/* Take w off the queue if it is there. */
void	limpet_work_cancel(struct limpet_work *w);

/* ---- the loop -------------------------------------------------------------- */

/* Run the event loop until limpet_stop(); returns the stop status.
 * Returns LIMPET_EINVAL when called from inside the loop. */
int	limpet_run(void);
/* Make limpet_run() return status after the current callback. */
void	limpet_stop(int status);

/*
 * Shutdown from outside: fn(arg) runs once, in the loop, when the machine's
 * power button is pressed (ACPI's on pc and q35, QEMU's Generic Event
 * Device on microvm: what QEMU's system_powerdown and libvirt's
 * "virsh shutdown" send).  It should stop
 * taking new work, let what is in flight finish within a bounded time,
 * then limpet_stop(0); main's return ends the VM (status 0 through
 * ./limpet run, a power-off under a hypervisor without isa-debug-exit).
 * Without a hook, or at a second press, the loop stops with status 0 at
 * once.  NULL removes the hook.
 */
typedef void (*limpet_shutdown_fn)(void *arg);
void	limpet_on_shutdown(limpet_shutdown_fn fn, void *arg);

/* ---- arguments ------------------------------------------------------------- */

struct option;				/* <getopt.h> */

/* An option limpet_getopt() found. */
struct limpet_opt {
	char		name[32];	/* "--port": its whole name, for messages
					 * (cut short past 29 characters) */
	const char	*value;		/* its value; NULL when it takes none */
};

/*
 * The service's next option, by newlib's getopt_long() over options: long
 * options only, each with flag NULL and a val > 0 of the service's
 * choosing, and no name the beginning of another (newlib's getopt_long()
 * finds a name spelt out whole ambiguous when two longer ones before it in
 * the table begin with it).  The user may cut a name short where no other
 * begins so, and give a value as "--port 80" or "--port=80".
 *
 * Returns the option's val, with its name and value in *opt (for
 * limpet_arg_number(opt->name, opt->value, ...)); 0 once the options have
 * ended with the arguments; or -1 after printing why on stderr: for the
 * last argument, an option that takes a value, "<service>: --port needs a
 * value"; else "<service>: unknown argument '--frob'" and then usage (the
 * service's usage text, ending in a newline), for an option unknown or
 * ambiguous, a value given to one that takes none ("--no-http=x"), an empty
 * one ("--port="), a lone "-" or "--", or anything after the options.  The
 * service then usually exits with status 2.  Call it from main until it
 * returns 0 or -1, and not again after.
 */
int	limpet_getopt(int argc, char **argv, const struct option *options,
	    const char *usage, struct limpet_opt *opt);

/*
 * Parse value, given for option opt (e.g. "--port"), as a decimal number
 * in 1..max into *out.  On a missing or bad value, prints
 * "<service>: --port x: expected a number 1..65535" on stderr and returns
 * LIMPET_EINVAL; the service then usually exits with status 2.
 */
enum limpet_result limpet_arg_number(const char *opt, const char *value, unsigned long max,
	    unsigned long *out);

/* ---- information ----------------------------------------------------------- */

struct limpet_info {
	const char	*platform;	/* "pc" or "microvm" */
	uint64_t	tsc_hz;
	uint64_t	boot_ns;	/* loader entry to main(), in ns */
	uint64_t	mem_total;	/* usable RAM, bytes */
	uint64_t	mem_free;	/* free page frames, bytes */
	uint64_t	heap_used;	/* bytes given to malloc through sbrk */
	uint64_t	loop_iterations;
	uint64_t	loop_sleeps;	/* times the loop halted the CPU */
};

void	limpet_info(struct limpet_info *info);

#endif /* LIMPET_H */
