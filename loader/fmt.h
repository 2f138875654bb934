/*
 * A tiny snprintf for the loader's messages.  Pure (no I/O, no globals) so
 * that elf.c can use it on the host too.  It knows only what the loader
 * needs, and no conversion divides 64-bit numbers (that would need libgcc
 * in 32-bit code):
 *
 *	%s	a C string ("(null)" for NULL)
 *	%c	a character
 *	%u	unsigned int in decimal
 *	%x	unsigned int in hex
 *	%llx	unsigned long long in hex: pass uint64_t through FMT_U64()
 *	%%	a percent sign
 *
 * The output is always NUL-terminated (when size > 0) and cut to fit.
 * Returns the length written, without the NUL.
 */
#ifndef LOADER_FMT_H
#define LOADER_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* uint64_t is unsigned long on the host, unsigned long long in the loader. */
#define FMT_U64(v)	((unsigned long long)(v))

size_t	fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
size_t	fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
