/*
 * http_cond: validators and ranges (RFC 9110 8.8.3, 13.1, 14): the
 * entity-tags of If-None-Match and If-Range, the Range field, and a
 * range applied to a representation.
 */
#include "http_internal.h"

/* The entity-tag at s[*i..n): its opaque-tag's span (quotes included)
 * and whether it is weak.  False when malformed. */
static bool
entity_tag(const char *s, size_t n, size_t *i, size_t *ob, size_t *oe, bool *weak)
{
	size_t k = *i;

	*weak = false;
	if (n - k >= 2 && s[k] == 'W' && s[k + 1] == '/') {
		*weak = true;
		k += 2;
	}
	if (k >= n || s[k] != '"')
		return false;
	*ob = k++;
	while (k < n && s[k] != '"') {
		unsigned char c = (unsigned char)s[k];

		if (c < 0x21 || c == 0x7f)	/* etagc = %x21 / %x23-7E / obs-text */
			return false;
		k++;
	}
	if (k >= n)
		return false;
	*oe = ++k;
	*i = k;
	return true;
}

bool
http_etag_match_weak(const char *list, size_t n, const char *etag)
{
	size_t en = strlen(etag), i = 0, b, e;
	bool weak;

	/* The server's own tag, without a W/ it may carry. */
	if (en >= 2 && etag[0] == 'W' && etag[1] == '/') {
		etag += 2;
		en -= 2;
	}
	while (i < n && is_ows(list[i]))
		i++;
	while (n > i && is_ows(list[n - 1]))
		n--;
	if (n - i == 1 && list[i] == '*')
		return true;
	while (i < n) {
		if (list[i] == ',' || is_ows(list[i])) {
			i++;
			continue;
		}
		if (!entity_tag(list, n, &i, &b, &e, &weak))
			return false;
		if (e - b == en && memcmp(list + b, etag, en) == 0)
			return true;
	}
	return false;
}

bool
http_etag_equal_strong(const char *v, size_t n, const char *etag)
{
	size_t i = 0, b, e;
	bool weak;

	if (etag[0] == 'W' || !entity_tag(v, n, &i, &b, &e, &weak) || weak || i != n)
		return false;
	return e - b == strlen(etag) && memcmp(v + b, etag, e - b) == 0;
}

/* Range = "bytes=" range-spec, just one (RFC 9110 14.1.1, 14.2).  Anything
 * else leaves kind NONE: the field is ignored. */
void
http_range_parse(struct http_range *r, const char *v, size_t n)
{
	size_t i = 6, b, e, count = 0;
	uint64_t a = 0, z = 0;
	bool has_a = false, has_z = false;

	r->kind = HTTP_RANGE_NONE;
	if (n < 6 || !ieq(v, 6, "bytes="))
		return;
	while (next_elem(v, n, &i, &b, &e)) {
		size_t k = b;

		if (++count > 1)
			return;			/* several ranges: serve it all */
		a = z = 0;
		has_a = has_z = false;
		for (; k < e && is_digit((unsigned char)v[k]); k++, has_a = true) {
			if (a > (UINT64_MAX - 9) / 10)
				return;
			a = a * 10 + (uint64_t)(v[k] - '0');
		}
		if (k == e || v[k] != '-')
			return;
		for (k++; k < e && is_digit((unsigned char)v[k]); k++, has_z = true) {
			if (z > (UINT64_MAX - 9) / 10)
				return;
			z = z * 10 + (uint64_t)(v[k] - '0');
		}
		if (k != e || (!has_a && !has_z) || (has_a && has_z && z < a))
			return;
	}
	if (count != 1)
		return;
	if (!has_a) {
		r->kind = HTTP_RANGE_SUFFIX;
		r->suffix = z;
	} else {
		r->kind = HTTP_RANGE_FROM;
		r->first = a;
		r->last = has_z ? z : UINT64_MAX;
	}
}

int
http_range_resolve(const struct http_range *r, uint64_t size, uint64_t *off, uint64_t *len)
{
	switch (r->kind) {
	case HTTP_RANGE_FROM:
		if (r->first >= size)
			return 416;
		*off = r->first;
		*len = (r->last >= size - 1 ? size - 1 : r->last) - r->first + 1;
		return 206;
	case HTTP_RANGE_SUFFIX:
		if (r->suffix == 0 || size == 0)
			return 416;
		*len = r->suffix < size ? r->suffix : size;
		*off = size - *len;
		return 206;
	default:
		return 200;
	}
}
