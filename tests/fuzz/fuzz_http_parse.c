/*
 * libFuzzer target for httpd's request parser (services/httpd/http_*.c).
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *	    tests/fuzz/fuzz_http_parse.c services/httpd/http_*.c -o fz
 *	./fz -max_total_time=60 tests/fuzz/corpus
 *
 * The input's first byte chooses a split point; the rest is fed as a
 * server would (bounded buffer, consumed bytes dropped), in two pieces,
 * then whole, and both runs must agree.  Invariants on every result:
 * consumed <= len, statuses from the documented set, normalised paths
 * that start with '/' and hold no "//", no "." or ".." segment, no NUL;
 * spans inside the buffer.  The date, range and ETag helpers get the
 * same bytes too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/httpd/http_parse.h"
#include "../http_feed.h"

#define BUFSZ	2048
#define MAXEV	64

static const struct http_limits LIM = { .max_line = 512, .max_header = 1024, .max_fields = 32 };

struct ev {
	int	result, status;
	char	path[HTTP_PATH_MAX];
};

/* An invariant that must hold: else say which, and crash for libFuzzer. */
#define check(cond)	((cond) ? (void)0 : failed(__LINE__, #cond))

static void
failed(int line, const char *what)
{
	fprintf(stderr, "fuzz_http_parse.c:%d: check failed: %s\n", line, what);
	abort();
}

static void
check_path(const char *p, size_t n)
{
	check(n > 0 && n < HTTP_PATH_MAX && p[0] == '/' && strlen(p) == n);
	check(strstr(p, "//") == NULL);
	check(strstr(p, "/../") == NULL && strstr(p, "/./") == NULL);
	check(!(n >= 3 && memcmp(p + n - 3, "/..", 3) == 0));
	check(!(n >= 2 && memcmp(p + n - 2, "/.", 2) == 0));
	check(strchr(p, '\\') == NULL);
}

static void
check_span(struct http_span s, size_t blen)
{
	check(s.off <= blen && s.len <= blen - s.off);
}

/* The events of one run, for comparing runs. */
struct run {
	struct ev	*evs;
	int		nev;
};

/* Check a finished request; record it. */
static void
on_request(void *arg, int r, const struct http_parser *p, const char *buf,
    size_t blen, size_t used)
{
	struct run *run = arg;
	const struct http_request *q = &p->req;

	if (r == HTTP_DONE) {
		check(q->status == 0 || q->status == 405 || q->status == 501);
		check(q->minor == 0 || q->minor == 1);
		check_span(q->line, blen);
		if (q->has_query)
			check_span(q->query, blen);
		for (unsigned i = 0; i < q->ninm; i++) {
			check_span(q->inm[i], blen);
			http_etag_match_weak(buf + q->inm[i].off, q->inm[i].len, "\"x\"");
		}
		if (q->has_if_range) {
			check_span(q->if_range, blen);
			http_etag_equal_strong(buf + q->if_range.off, q->if_range.len, "\"x\"");
		}
		if (q->status == 0)
			check_path(q->path, q->path_len);
		for (uint64_t size = 0; size < 3; size++) {
			uint64_t off = 0, len = 0;
			int st = http_range_resolve(&q->range, size * 1000, &off, &len);

			check(st == 200 || st == 206 || st == 416);
			if (st == 206)
				check(len > 0 && off + len <= size * 1000);
		}
		check(used > 0);
	} else {
		int s = q->status;

		check(r == HTTP_ERROR);
		check(s == 400 || s == 414 || s == 431 || s == 501 || s == 505);
		check(!q->keep_alive);
		/* What the error response logs: the request line, if any. */
		if (q->line.len > 0)
			check_span(q->line, blen);
	}
	if (run->nev < MAXEV) {
		run->evs[run->nev].result = r;
		run->evs[run->nev].status = q->status;
		strcpy(run->evs[run->nev].path, r == HTTP_DONE ? q->path : "");
		run->nev++;
	}
}

/* Feed in[0..n) cut at `cut`; record the events. */
static int
drive(const uint8_t *in, size_t n, size_t cut, struct ev *evs)
{
	static char buf[BUFSZ];
	struct run run = { evs, 0 };

	/* The parser must drain a full buffer, and consume only what it has. */
	check(feed_split(&LIM, buf, sizeof(buf), (const char *)in, n, cut,
	    on_request, &run) == 0);
	return run.nev;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev a[MAXEV], b[MAXEV];
	char out[HTTP_PATH_MAX], date[30];
	size_t olen;
	int64_t t;

	if (size < 1)
		return 0;
	size_t cut = data[0] * (size - 1) / 255;

	data++;
	size--;
	int na = drive(data, size, 0, a);
	int nb = drive(data, size, cut, b);

	check(na == nb);
	for (int i = 0; i < na; i++)
		check(a[i].result == b[i].result && a[i].status == b[i].status &&
		    strcmp(a[i].path, b[i].path) == 0);

	if (size > 0 && data[0] == '/' &&
	    http_path_normalize((const char *)data, size, out, sizeof(out), &olen) == 0)
		check_path(out, olen);
	if (http_date_parse((const char *)data, size, &t) == 0 && t >= 0 &&
	    t <= 253402300799LL) {
		int64_t u;

		http_date_format(t, date);
		check(http_date_parse(date, 29, &u) == 0 && u == t);
	}
	return 0;
}
