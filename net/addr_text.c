/*
 * Addresses as text, strictly: what the kernel arguments ip=, gateway=,
 * mask=, ip6= and gateway6= and the build's defaults may say.  lwIP's own
 * parsers are lenient on purpose (ip4addr_aton() takes "10.5", hex and
 * octal; ip6addr_aton() stops quietly at the first character it does not
 * know), which on a command line turns a typo into another address.
 *
 * Pure C with no lwIP or kernel dependency, so that the host unit test
 * (tests/unit/test_addr_text.c) compares it with inet_pton().
 */
#include <stddef.h>
#include <stdint.h>

#include "addr_text.h"

/* Four decimal numbers 0..255 separated by dots, nothing else, into
 * out[0..4) in network order. */
int
addr4_parse(const char *s, uint8_t out[4])
{
	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return -1;
		out[part] = (uint8_t)v;
		if (part < 3 && *s++ != '.')
			return -1;
	}
	return *s == '\0' ? 0 : -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * RFC 4291 2.2: eight groups of one to four hex digits separated by
 * colons; one "::" standing for one or more groups of zeros; the last two
 * groups may be a dotted quad.  Nothing else (no zone, no brackets, no
 * spaces).  Into out[0..16) in network order.
 */
int
addr6_parse(const char *s, uint8_t out[16])
{
	uint16_t g[8];
	int n = 0, gap = -1;
	uint8_t v4[4];

	if (s[0] == ':') {
		if (s[1] != ':')
			return -1;
		gap = 0;
		s += 2;
		if (*s == '\0')
			goto done;
	}
	for (;;) {
		const char *start = s;
		unsigned v = 0;
		int d;

		while ((d = hexval(*s)) >= 0 && s - start < 4) {
			v = v << 4 | (unsigned)d;
			s++;
		}
		if (*s == '.') {
			/* The dotted quad ends the address, in the last two groups. */
			if (n > 6 || addr4_parse(start, v4) != 0)
				return -1;
			g[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
			g[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
			break;
		}
		if (s == start || hexval(*s) >= 0 || n == 8)
			return -1;	/* empty, five digits, or nine groups */
		g[n++] = (uint16_t)v;
		if (*s == '\0')
			break;
		if (*s++ != ':')
			return -1;
		if (*s == ':') {
			if (gap >= 0)
				return -1;	/* a second "::" */
			gap = n;
			if (*++s == '\0')
				break;
		}
	}
done:
	if (gap < 0 ? n != 8 : n > 7)
		return -1;
	for (int i = 0, k = 0; i < 8; i++) {
		int zeros = gap < 0 ? 0 : 8 - n;
		uint16_t w;

		if (gap >= 0 && i >= gap && i < gap + zeros)
			w = 0;
		else
			w = g[k++];
		out[2 * i] = (uint8_t)(w >> 8);
		out[2 * i + 1] = (uint8_t)w;
	}
	return 0;
}

/* ADDR/LEN, LEN a decimal 0..128 with no leading zero. */
int
addr6_parse_prefix(const char *s, uint8_t out[16], unsigned *len)
{
	char buf[64];
	size_t i;
	unsigned v = 0;

	for (i = 0; s[i] != '\0' && s[i] != '/'; i++) {
		if (i + 1 >= sizeof(buf))
			return -1;
		buf[i] = s[i];
	}
	if (s[i] != '/')
		return -1;
	buf[i] = '\0';
	s += i + 1;
	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (unsigned)(*s - '0')) > 128)
			return -1;
	if (*s != '\0' || addr6_parse(buf, out) != 0)
		return -1;
	*len = v;
	return 0;
}

/* Whether a and b share their first len bits. */
int
addr6_same_prefix(const uint8_t a[16], const uint8_t b[16], unsigned len)
{
	unsigned i;

	for (i = 0; i + 8 <= len; i += 8)
		if (a[i / 8] != b[i / 8])
			return 0;
	if (i < len) {
		uint8_t m = (uint8_t)(0xff << (8 - (len - i)));

		return (a[i / 8] & m) == (b[i / 8] & m);
	}
	return 1;
}
