/* A tiny snprintf: see fmt.h for what it supports. */
#include "fmt.h"

struct out {
	char	*buf;
	size_t	size;
	size_t	len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len++] = c;
}

static void put_hex(struct out *o, unsigned long long v)
{
	char digits[16];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v != 0);
	while (n > 0)
		put(o, digits[--n]);
}

static void put_dec(struct out *o, unsigned int v)
{
	char digits[10];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		put(o, digits[--n]);
}

size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	const char *s;

	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		switch (*++fmt) {
		case 's':
			s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s != '\0'; s++)
				put(&o, *s);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 'u':
			put_dec(&o, va_arg(ap, unsigned int));
			break;
		case 'x':
			put_hex(&o, va_arg(ap, unsigned int));
			break;
		case 'l':
			/* Only %llx is supported; anything else is a bug. */
			if (fmt[1] == 'l' && fmt[2] == 'x') {
				fmt += 2;
				put_hex(&o, va_arg(ap, unsigned long long));
			} else {
				put(&o, '?');
			}
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;		/* a lone '%' at the end */
			break;
		default:
			put(&o, '?');
			break;
		}
	}
	if (size > 0)
		buf[o.len] = '\0';
	return o.len;
}

size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
