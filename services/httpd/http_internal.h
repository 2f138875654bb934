/*
 * What the pieces of httpd's request parser share; the rest of httpd sees
 * only http_parse.h, their contract.  Section numbers are RFC 9112's
 * (message syntax) unless they say RFC 9110 (semantics) or RFC 3986
 * (URIs).  The pieces:
 *
 *	http_parse.c	the feed: the header section scanned for its end as
 *			bytes arrive, the request line, the body discarded
 *	http_fields.c	the field lines, parsed once the section is complete
 *	http_path.c	the request-target and its path, percent-decoded and
 *			normalised
 *	http_date.c	HTTP-dates, parsed and formatted
 *	http_cond.c	validators (ETags) and ranges
 *	http_reason.c	reason phrases
 *
 * Below: the character classes and the list rule, inline because the
 * scanners call them for every byte, then what one piece calls in another.
 */
#ifndef HTTPD_HTTP_INTERNAL_H
#define HTTPD_HTTP_INTERNAL_H

#include <string.h>

#include "http_parse.h"

/* ---- characters -------------------------------------------------------- */

/* tchar (RFC 9110 5.6.2). */
static inline bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static inline bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline int
hexval(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive equality of s[0..n) and the lower-case word w. */
static inline bool
ieq(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (w[i] == '\0' || lower((unsigned char)s[i]) != (unsigned char)w[i])
			return false;
	return w[i] == '\0';
}

static inline bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* A path character allowed raw (RFC 3986 pchar, plus '/' and '%'). */
static inline bool
is_path_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	return c != '\0' && strchr("-._~!$&'()*+,;=:@/%", c) != NULL;
}

/* ---- lists (RFC 9110 5.6.1) -------------------------------------------- */


/* The next element of a comma-separated list in s[*i..n), with OWS
 * trimmed; empty elements are skipped.  False at the end. */
static inline bool
next_elem(const char *s, size_t n, size_t *i, size_t *eb, size_t *ee)
{
	while (*i < n) {
		size_t b = *i, e;

		while (*i < n && s[*i] != ',')
			(*i)++;
		e = *i;
		if (*i < n)
			(*i)++;			/* the comma */
		while (b < e && is_ows(s[b]))
			b++;
		while (e > b && is_ows(s[e - 1]))
			e--;
		if (e > b) {
			*eb = b;
			*ee = e;
			return true;
		}
	}
	return false;
}

/* ---- across the pieces ------------------------------------------------- */

/* http_path.c: the request-target (3.2) of a GET or HEAD, t[0..n): the
 * path normalised into req->path, the query's span; off is the target's
 * offset in the caller's buffer.  0, or the status to answer. */
int	http_target(struct http_request *req, const char *t, size_t n, uint32_t off);

/* http_fields.c: the field lines of the header section, which is complete
 * in buf[base + p->start .. base + end), into p->req; then what the
 * request's framing and method make of it.  0, or the status to answer. */
int	http_fields(struct http_parser *p, const char *buf, uint32_t base, uint32_t end);

/* http_cond.c: a Range value (RFC 9110 14.1.1, 14.2) into *r: one byte
 * range, or kind HTTP_RANGE_NONE when the field is to be ignored. */
void	http_range_parse(struct http_range *r, const char *v, size_t n);

#endif /* HTTPD_HTTP_INTERNAL_H */
