/* Console printing and levelled log lines: "[    0.001234][INFO ] ...". */
#include <stdarg.h>
#include <string.h>

#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/exit.h>
#include <kernel/intr.h>
#include <kernel/ktime.h>
#include <kernel/log.h>

int log_level = LIMPET_LOG_LEVEL;

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };
static const char *const level_tags[] = { "ERROR", "WARN ", "INFO ", "DEBUG", "TRACE" };

int
kvprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);

	console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	return n;
}

int
kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

void
log_msg(int level, const char *fmt, ...)
{
	char buf[512];
	uint64_t ns = now_ns();
	va_list ap;
	int n;

	n = ksnprintf(buf, sizeof(buf) - 1, "[%5llu.%06llu][%s] ",
	    (unsigned long long)(ns / 1000000000ULL),
	    (unsigned long long)(ns / 1000 % 1000000), level_tags[level]);
	va_start(ap, fmt);
	n += kvsnprintf(buf + n, sizeof(buf) - 1 - n, fmt, ap);
	va_end(ap);
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	console_write(buf, n);
}

int
log_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *
log_level_name(int level)
{
	return level >= 0 && level <= LOG_TRACE ? level_names[level] : "?";
}

void
panic(const char *fmt, ...)
{
	uint64_t *fp = __builtin_frame_address(0);
	va_list ap;

	kprintf("\n*** panic: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	backtrace_from(fp[1], fp[0]);	/* from panic()'s caller */
	kprintf("*** stopping with status 125\n");
	machine_exit(LIMPET_STATUS_FAULT);
}

void
log_level_arg(void)
{
	const char *v = kargs_take(&boot_args, "log");
	int level;

	if (v == NULL)
		return;
	if ((level = log_level_parse(v)) < 0)
		log_warn("log=%s: unknown level; valid levels: error, warn, info, debug, trace", v);
	else if (level > LIMPET_LOG_LEVEL)
		log_warn("log=%s: below the compiled-in level %s; rebuild with log=%s",
		    v, log_level_name(LIMPET_LOG_LEVEL), v);
	else
		log_level = level;
}
