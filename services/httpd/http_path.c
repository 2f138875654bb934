/*
 * http_path: the request-target (RFC 9112 3.2) and its path, percent-
 * decoded and its dot segments resolved (RFC 3986 2.1, 5.2.4); the
 * decisions are in http_parse.h.
 */
#include "http_internal.h"

int
http_path_normalize(const char *s, size_t n, char *out, size_t outsz, size_t *outlen)
{
	size_t o = 1, i = 0;
	bool last_normal = false;

	if (n == 0 || s[0] != '/' || outsz < 2)
		return 400;
	out[0] = '/';
	/* out[0..o) always ends with '/' while segments are added. */
	while (i < n) {
		size_t seg = o;

		i++;				/* the '/' */
		while (i < n && s[i] != '/') {
			unsigned char c = (unsigned char)s[i];

			if (!is_path_char(c))
				return 400;
			if (c == '%') {
				int hi, lo;

				if (n - i < 3 || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
				    (lo = hexval((unsigned char)s[i + 2])) < 0)
					return 400;
				c = (unsigned char)(hi << 4 | lo);
				/* NUL and control characters, and '/' or '\' that
				 * would change how the path splits. */
				if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
					return 400;
				i += 3;
			} else {
				i++;
			}
			if (o + 2 > outsz)	/* the byte and a '/' */
				return 414;
			out[o++] = (char)c;
		}
		size_t len = o - seg;

		if (len == 0 || (len == 1 && out[seg] == '.')) {
			o = seg;		/* empty or ".": nothing */
			last_normal = false;
		} else if (len == 2 && out[seg] == '.' && out[seg + 1] == '.') {
			if (seg == 1)
				return 400;	/* above the root */
			o = seg - 1;		/* back over the previous segment */
			while (out[o - 1] != '/')
				o--;
			last_normal = false;
		} else {
			out[o++] = '/';
			last_normal = true;
		}
	}
	/* "/a/b" keeps no trailing slash; "/a/b/", "/a/." and "/a/b/.." do. */
	if (last_normal && o > 1)
		o--;
	/* A path that filled out and then ended in "/", "/." or "//" kept
	 * its '/': no room is left for the NUL (the fuzzer found it written
	 * one past out). */
	if (o >= outsz)
		return 414;
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* The request-target (3.2), origin-form or absolute-form. */
int
http_target(struct http_request *req, const char *t, size_t n, uint32_t off)
{
	size_t i = 0, pe;

	if (n > 7 && ieq(t, 7, "http://"))
		i = 7;
	else if (n > 8 && ieq(t, 8, "https://"))
		i = 8;
	if (i > 0) {
		/* absolute-form (3.2.2): the authority is skipped (we serve
		 * one site), the path may be empty. */
		while (i < n && t[i] != '/' && t[i] != '?') {
			if (!is_path_char((unsigned char)t[i]) && t[i] != '[' && t[i] != ']')
				return 400;
			i++;
		}
	} else if (n == 0 || t[0] != '/') {
		return 400;			/* origin-form only, for GET and HEAD */
	}
	for (pe = i; pe < n && t[pe] != '?'; pe++)
		;
	req->has_query = pe < n;
	if (req->has_query) {
		for (size_t k = pe + 1; k < n; k++)
			if ((unsigned char)t[k] <= 0x20 || (unsigned char)t[k] >= 0x7f ||
			    t[k] == '#')
				return 400;
		req->query.off = off + (uint32_t)pe + 1;
		req->query.len = (uint32_t)(n - pe - 1);
	}
	if (pe == i) {
		req->path[0] = '/';
		req->path[1] = '\0';
		req->path_len = 1;
		return 0;
	}
	return http_path_normalize(t + i, pe - i, req->path, sizeof(req->path), &req->path_len);
}
