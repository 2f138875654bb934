/*
 * A small printf for the kernel: no allocation, no floating point, no
 * locale, safe to call from exception handlers.  See log.h for the
 * conversions it knows.  Pure code: tested on the host.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kernel/log.h>

struct out {
	char	*buf;
	size_t	size;
	size_t	len;		/* as if the buffer were unbounded */
};

static void
put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void
pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void
put_str(struct out *o, const char *s, int width, int left, int prec)
{
	int n = 0;

	if (s == NULL)
		s = "(null)";
	while (s[n] != '\0' && (prec < 0 || n < prec))
		n++;
	if (!left)
		pad(o, ' ', width - n);
	for (int i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		pad(o, ' ', width - n);
}

/* Left-justification is done by the caller, which knows the length. */
static void
put_num(struct out *o, uint64_t v, int neg, unsigned base, int upper,
    int width, int left, int zero, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, plen = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v != 0);
	plen = neg + (prefix != NULL ? (int)strlen(prefix) : 0);
	if (!left && !zero)
		pad(o, ' ', width - n - plen);
	if (neg)
		put(o, '-');
	if (prefix != NULL)
		for (const char *p = prefix; *p != '\0'; p++)
			put(o, *p);
	if (!left && zero)
		pad(o, '0', width - n - plen);
	while (n > 0)
		put(o, tmp[--n]);
}

int
kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (const char *f = fmt; *f != '\0'; f++) {
		int left = 0, zero = 0, width = 0, prec = -1, lng = 0;
		size_t start;

		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		f++;
		for (;; f++) {
			if (*f == '-')
				left = 1;
			else if (*f == '0')
				zero = 1;
			else
				break;
		}
		if (*f == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = 1;
				width = -width;
			}
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				width = width * 10 + (*f++ - '0');
		}
		if (*f == '.') {
			f++;
			prec = 0;
			if (*f == '*') {
				prec = va_arg(ap, int);
				f++;
			} else {
				while (*f >= '0' && *f <= '9')
					prec = prec * 10 + (*f++ - '0');
			}
		}
		while (*f == 'l') {
			lng++;
			f++;
		}
		if (*f == 'z') {
			lng = 2;
			f++;
		}
		start = o.len;
		switch (*f) {
		case 'd':
		case 'i': {
			int64_t v = lng >= 2 ? va_arg(ap, long long) :
			    lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
			uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

			put_num(&o, u, v < 0, 10, 0, width, left, zero, NULL);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng >= 2 ? va_arg(ap, unsigned long long) :
			    lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);

			put_num(&o, v, 0, *f == 'u' ? 10 : 16, *f == 'X', width,
			    left, zero, NULL);
			break;
		}
		case 'p':
			put_num(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 0, 16, 0,
			    width, left, zero, "0x");
			break;
		case 's':
			put_str(&o, va_arg(ap, const char *), width, left, prec);
			break;
		case 'c': {
			char c[2] = { (char)va_arg(ap, int), '\0' };

			put_str(&o, c, width, left, -1);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			f--;
			break;
		default:
			put(&o, '%');
			put(&o, *f);
			break;
		}
		/* Left-justified numbers: pad to the width after the fact. */
		if (left && (*f == 'd' || *f == 'i' || *f == 'u' || *f == 'x' ||
		    *f == 'X' || *f == 'p'))
			pad(&o, ' ', width - (int)(o.len - start));
	}
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int
ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
