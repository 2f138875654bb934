/*
 * SNI name matching (sni.h), after RFC 6125 6.4.3 with its common
 * restrictions (those browsers apply): a wildcard only as the whole
 * left-most label, never matching more or less than one label, never
 * over a public-suffix-like single label ("*.com").
 */
#include <stdbool.h>
#include <stddef.h>

#include "sni.h"

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
same(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* A DNS name we compare at all: labels not empty, no NUL, no '*'. */
static bool
plain_name(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0' || s[i] == '*')
			return false;
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else {
			label++;
		}
	}
	return label > 0;
}

static size_t
count_dots(const char *s, size_t n)
{
	size_t dots = 0;

	for (size_t i = 0; i < n; i++)
		dots += s[i] == '.';
	return dots;
}

bool
sni_name_matches(const char *pattern, size_t plen, const char *host, size_t hlen)
{
	const char *first_dot;
	size_t i;

	if (pattern == NULL || host == NULL)
		return false;
	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	if (!plain_name(host, hlen))
		return false;
	if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* "*.example.com": the rest must be a plain name of two labels
		 * or more, and host one label more. */
		const char *rest = pattern + 2;
		size_t rlen = plen - 2;

		if (!plain_name(rest, rlen) || count_dots(rest, rlen) < 1)
			return false;
		for (i = 0, first_dot = NULL; i < hlen; i++)
			if (host[i] == '.') {
				first_dot = host + i;
				break;
			}
		if (first_dot == NULL || first_dot == host)
			return false;
		return (size_t)(host + hlen - (first_dot + 1)) == rlen &&
		    same(first_dot + 1, rest, rlen);
	}
	return plain_name(pattern, plen) && plen == hlen && same(pattern, host, hlen);
}
