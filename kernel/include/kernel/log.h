/*
 * Kernel console output and logging.
 *
 * kprintf() formats into a stack buffer and writes to the serial console
 * directly: it never allocates and is safe in exception handlers.  It knows
 * %d %i %u %x %X %p %s %c %% with the l, ll, z flags, a field width and the
 * 0 and - flags; nothing else (no floating point).
 *
 * Log lines look like "[    0.001234][INFO ] message".  A message below
 * the compile-time level LIMPET_LOG_LEVEL is compiled out; the kernel
 * argument log=LEVEL can raise the bar further at boot, never lower it.
 */
#ifndef KERNEL_LOG_H
#define KERNEL_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_ERROR	0
#define LOG_WARN	1
#define LOG_INFO	2
#define LOG_DEBUG	3
#define LOG_TRACE	4

#ifndef LIMPET_LOG_LEVEL
#define LIMPET_LOG_LEVEL LOG_INFO
#endif

/* The level in force at run time (<= LIMPET_LOG_LEVEL). */
extern int log_level;

int	kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	kvprintf(const char *fmt, va_list ap);
int	ksnprintf(char *buf, size_t size, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

void	log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parse "error".."trace"; returns the level or -1. */
int	log_level_parse(const char *name);
const char *log_level_name(int level);
/* log=LEVEL on the command line: may make the log quieter than compiled
 * in, never louder (a warning says so). */
void	log_level_arg(void);

#define LOG(level, ...) do {						\
	if ((level) <= LIMPET_LOG_LEVEL && (level) <= log_level)	\
		log_msg((level), __VA_ARGS__);				\
} while (0)
#define log_error(...)	LOG(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	LOG(LOG_WARN, __VA_ARGS__)
#define log_info(...)	LOG(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	LOG(LOG_DEBUG, __VA_ARGS__)
#define log_trace(...)	LOG(LOG_TRACE, __VA_ARGS__)

/* Print a message, a backtrace from the caller, and stop with status 125. */
void	panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#ifdef LIMPET_DEBUG
#define KASSERT(e) do {							\
	if (!(e))							\
		panic("assertion \"%s\" failed at %s:%d", #e, __FILE__, __LINE__); \
} while (0)
#else
#define KASSERT(e) ((void)0)
#endif

#endif /* KERNEL_LOG_H */
