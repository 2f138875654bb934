/*
 * Feeding httpd's request parser (services/httpd/http_*.c) as the
 * server does, for the host tests that exercise it: the unit tests
 * (tests/unit/test_http_parse.c) and the fuzz target
 * (tests/fuzz/fuzz_http_parse.c).  Both include this file, so that what
 * the unit tests check and what the fuzzer explores is the parser fed the
 * same way.
 *
 * Include it after http_parse.h.  What to do with each request, and how
 * to fail, stay with the caller: cmocka's assertions in the unit tests,
 * abort() in the fuzz target.
 */
#ifndef TESTS_HTTP_FEED_H
#define TESTS_HTTP_FEED_H

#include <stddef.h>
#include <string.h>

/*
 * Called for each request the parser finished with (r is HTTP_DONE or
 * HTTP_ERROR, or anything else the parser wrongly returned).  p->req's
 * spans point into buf, which holds blen bytes; the parser consumed
 * `used` of them.
 */
typedef void feed_fn(void *arg, int r, const struct http_parser *p,
    const char *buf, size_t blen, size_t used);

/*
 * Feed in[0..n) to a fresh parser with limits lim, as a server would:
 * append to buf (bufsz bytes) in pieces, cut at `cut` when 0 < cut < n,
 * else in one go; parse until the parser needs more, calling fn for each
 * request; drop what the parser consumed.  Stops after an HTTP_ERROR,
 * since the server closes the connection then.  Returns 0, or -1 when the
 * parser broke its contract: it said it consumed more than it was given,
 * or it asked for more with the buffer full (the server could never give
 * it any).
 */
static int
feed_split(const struct http_limits *lim, char *buf, size_t bufsz,
    const char *in, size_t n, size_t cut, feed_fn *fn, void *arg)
{
	struct http_parser p;
	size_t blen = 0, fed = 0;

	http_parser_init(&p, lim);
	while (fed < n) {
		size_t chunk = (cut > fed && cut < n) ? cut - fed : n - fed;

		if (chunk > bufsz - blen)
			chunk = bufsz - blen;
		if (chunk == 0)
			return -1;
		memcpy(buf + blen, in + fed, chunk);
		blen += chunk;
		fed += chunk;
		for (;;) {
			size_t used = 0;
			int r = http_parse_feed(&p, buf, blen, &used);

			if (used > blen)
				return -1;
			if (r != HTTP_NEED_MORE)
				fn(arg, r, &p, buf, blen, used);
			memmove(buf, buf + used, blen - used);
			blen -= used;
			if (r == HTTP_ERROR)
				return 0;
			if (r == HTTP_NEED_MORE)
				break;
		}
	}
	return 0;
}

#endif /* TESTS_HTTP_FEED_H */
