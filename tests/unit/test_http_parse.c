// unit-sources: services/httpd/http_parse.c services/httpd/http_fields.c services/httpd/http_path.c services/httpd/http_date.c services/httpd/http_cond.c services/httpd/http_reason.c
/*
 * Host unit tests for httpd's request parser (services/httpd/http_*.c):
 * request lines, versions and methods, fields, framing and body discard,
 * limits, conditionals, ranges, Accept-Encoding, path normalisation and
 * the hostile set, dates, pipelining, and every request split at every
 * byte boundary giving the same result as fed whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../services/httpd/http_parse.h"
#include "../http_feed.h"

static const struct http_limits LIM = { .max_line = 256, .max_header = 1024, .max_fields = 20 };

/* What the parser said about one request. */
struct ev {
	int	result;		/* HTTP_DONE or HTTP_ERROR */
	int	status;
	int	method;
	int	minor;
	bool	keep_alive;
	char	path[HTTP_PATH_MAX];
	char	query[64];
	char	line[64];	/* the request line, through its span */
	bool	gzip_ok;
};

#define BUFSZ	4096

/* The events of one run: up to max of them. */
struct run {
	struct ev	*evs;
	int		nev, max;
};

/* Note what the parser said about a request, while there is room. */
static void
record(void *arg, int r, const struct http_parser *p, const char *buf,
    size_t blen, size_t used)
{
	struct run *run = arg;
	struct ev *e;

	(void)used;
	if (run->nev == run->max)
		return;
	e = &run->evs[run->nev++];
	memset(e, 0, sizeof(*e));
	e->result = r;
	e->status = p->req.status;
	e->method = p->req.method;
	e->minor = p->req.minor;
	e->keep_alive = p->req.keep_alive;
	e->gzip_ok = p->req.gzip_ok;
	if (r == HTTP_DONE) {
		/* The spans must lie in what the buffer holds now, even when
		 * the request line came in an earlier call. */
		assert_true(p->req.line.off + p->req.line.len <= blen);
		snprintf(e->line, sizeof(e->line), "%.*s", (int)p->req.line.len,
		    buf + p->req.line.off);
		strcpy(e->path, p->req.path);
		if (p->req.has_query) {
			assert_true(p->req.query.off + p->req.query.len <= blen);
			snprintf(e->query, sizeof(e->query), "?%.*s",
			    (int)p->req.query.len, buf + p->req.query.off);
		}
	}
}

/*
 * Feed s[0..n) as a server would (tests/http_feed.h), cut at `cut` when
 * 0 < cut < n, else in one go.  Records up to max events; returns how
 * many.
 */
static int
drive(const char *s, size_t n, size_t cut, struct ev *evs, int max)
{
	static char buf[BUFSZ];
	struct run run = { evs, 0, max };

	assert_int_equal(feed_split(&LIM, buf, sizeof(buf), s, n, cut, record, &run), 0);
	return run.nev;
}

/* One request, fed whole: its event (result DONE, ERROR, or NEED_MORE
 * when incomplete). */
static struct ev
one(const char *s)
{
	struct ev e[2];

	if (drive(s, strlen(s), 0, e, 2) == 0) {
		memset(&e[0], 0, sizeof(e[0]));
		e[0].result = HTTP_NEED_MORE;
	}
	return e[0];
}

static int
status_of(const char *s)
{
	struct ev e = one(s);

	return e.result == HTTP_DONE ? (e.status == 0 ? 200 : e.status) :
	    e.result == HTTP_ERROR ? e.status : 0;
}

/* A request's parsed form: the whole parser, for fields drive() skips. */
static struct http_parser P;
static char B[BUFSZ];

static int
parse1(const char *s)
{
	size_t used;

	http_parser_init(&P, &LIM);
	strcpy(B, s);
	return http_parse_feed(&P, B, strlen(B), &used);
}

/* ---- request line, versions, methods ---------------------------------- */

static void
test_simple_get(void **state)
{
	(void)state;
	struct ev e = one("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");

	assert_int_equal(e.result, HTTP_DONE);
	assert_int_equal(e.status, 0);
	assert_int_equal(e.method, HTTP_M_GET);
	assert_int_equal(e.minor, 1);
	assert_true(e.keep_alive);
	assert_string_equal(e.path, "/index.html");

	assert_int_equal(parse1("HEAD /a?b=c&d HTTP/1.0\r\n\r\n"), HTTP_DONE);
	assert_int_equal(P.req.method, HTTP_M_HEAD);
	assert_false(P.req.keep_alive);
	assert_true(P.req.has_query);
	assert_int_equal(P.req.query.len, 5);
	assert_memory_equal(B + P.req.query.off, "b=c&d", 5);
	assert_int_equal(P.req.line.off, 0);
	assert_int_equal(P.req.line.len, strlen("HEAD /a?b=c&d HTTP/1.0"));
}

static void
test_incomplete(void **state)
{
	(void)state;
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: x\r\n"), 0);
	assert_int_equal(status_of("GET / HTTP/1.1"), 0);
	assert_int_equal(status_of(""), 0);
}

static void
test_versions(void **state)
{
	(void)state;
	assert_int_equal(status_of("GET / HTTP/1.0\r\n\r\n"), 200);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
	/* A higher 1.x minor is served as 1.1 (RFC 9112 2.3). */
	assert_int_equal(status_of("GET / HTTP/1.9\r\nHost: a\r\n\r\n"), 200);
	assert_int_equal(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
	assert_int_equal(status_of("GET / HTTP/3.0\r\n\r\n"), 505);
	assert_int_equal(status_of("GET / HTTP/0.9\r\n\r\n"), 505);
	/* HTTP/0.9 style: answered at the end of the line, no headers awaited. */
	assert_int_equal(status_of("GET /\r\n"), 505);
	assert_int_equal(status_of("GET / HTTP/1.10\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / http/1.1\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / FOO/1.1\r\n\r\n"), 400);
	assert_int_equal(status_of("GET  / HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(status_of(" GET / HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(status_of("GET\r\n\r\n"), 400);
	assert_int_equal(status_of("GET\t/ HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(status_of("\x16\x03\x01\x02\xfc\x03\x03\r\n"), 400);
}

static void
test_methods(void **state)
{
	static const char *const known[] = {
		"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
	};
	char req[128];

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		snprintf(req, sizeof(req), "%s /x HTTP/1.1\r\nHost: a\r\n\r\n", known[i]);
		assert_int_equal(status_of(req), 405);
	}
	/* Targets other methods use are not checked: still 405. */
	assert_int_equal(status_of("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 405);
	assert_int_equal(status_of("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"), 405);
	assert_int_equal(status_of("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
	/* Methods are case-sensitive (RFC 9110 9.1). */
	assert_int_equal(status_of("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
	/* 405 and 501 keep the connection. */
	assert_true(one("POST / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
	assert_int_equal(status_of("G(T / HTTP/1.1\r\n\r\n"), 400);
}

static void
test_leading_empty_lines(void **state)
{
	(void)state;
	assert_int_equal(status_of("\r\nGET / HTTP/1.0\r\n\r\n"), 200);
	assert_int_equal(status_of("\n\r\nGET / HTTP/1.0\r\n\r\n"), 200);
	assert_int_equal(status_of("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.0\r\n\r\n"), 400);
}

static void
test_line_endings(void **state)
{
	(void)state;
	/* A bare LF ends a line (RFC 9112 2.2). */
	assert_int_equal(status_of("GET / HTTP/1.1\nHost: a\n\n"), 200);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\n\r\n"), 200);
	/* A bare CR anywhere is 400. */
	assert_int_equal(status_of("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"), 400);
}

/* ---- fields ------------------------------------------------------------ */

static void
test_fields(void **state)
{
	(void)state;
	/* Names are case-insensitive; OWS around values trimmed. */
	assert_int_equal(status_of("GET / HTTP/1.1\r\nhOsT:   a.b  \t\r\n\r\n"), 200);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost:a\r\nX-Empty:\r\n\r\n"), 200);
	/* obs-fold is rejected (RFC 9112 5.2). */
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n"), 400);
	/* Whitespace before the colon (RFC 9112 5.1), no colon, empty name. */
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX(y): v\r\n\r\n"), 400);
	/* NUL and other controls in values. */
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), 400);
	{
		struct ev e[1];
		static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";

		assert_int_equal(drive(nul, sizeof(nul) - 1, 0, e, 1), 1);
		assert_int_equal(e[0].result, HTTP_ERROR);
		assert_int_equal(e[0].status, 400);
	}
	/* obs-text in values is allowed. */
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n"), 200);
}

static void
test_host(void **state)
{
	(void)state;
	assert_int_equal(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 200);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 200);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"), 200);
	/* IPv6 literals (RFC 3986 3.2.2): in brackets, with or without a port. */
	static const char *const good[] = {
		"[fd00:5::3]", "[fd00:5::3]:8080", "[::ffff:10.0.5.3]:80", "[FE80::1]", "[::]:",
		"example.com:", "a.b-c_d~e!$&'()*+,;=%41:443",
	};
	static const char *const bad[] = {
		"[fd00:5::3", "fd00:5::3]", "[]", "[fd00::3]x", "[fd00::3]:8x", "[fd00::3]:8080:1",
		"fd00:5::3", "a:b:80", "a]b", "[a]b[", "[g::1]", "[::1%eth0]", "[::1]/", "a:80a",
		"[[::1]]", "a[b]", "[v1.x]",
	};
	char req[200];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
		if (status_of(req) != 200)
			fail_msg("Host: %s refused", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
		if (status_of(req) != 400)
			fail_msg("Host: %s taken", bad[i]);
	}
	/* Not required in 1.0. */
	assert_int_equal(status_of("GET / HTTP/1.0\r\n\r\n"), 200);
}

static void
test_connection(void **state)
{
	(void)state;
	assert_false(one("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keep_alive);
	assert_false(one("GET / HTTP/1.1\r\nHost: a\r\nConnection: Foo, CLOSE\r\n\r\n").keep_alive);
	assert_true(one("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n").keep_alive);
	assert_false(one("GET / HTTP/1.0\r\n\r\n").keep_alive);
	assert_true(one("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
	assert_false(one("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
	/* Errors never keep the connection. */
	assert_false(one("GET / HTTP/1.1\r\n\r\n").keep_alive);
}

/* ---- framing and bodies ------------------------------------------------ */

static void
test_content_length_body(void **state)
{
	static const char in[] =
	    "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nHELLO"
	    "GET /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nxyz"
	    "GET /c HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n";
	struct ev e[4];

	(void)state;
	assert_int_equal(drive(in, sizeof(in) - 1, 0, e, 4), 3);
	assert_string_equal(e[0].path, "/a");
	assert_string_equal(e[1].path, "/b");
	assert_string_equal(e[2].path, "/c");
	for (int i = 0; i < 3; i++)
		assert_int_equal(e[i].status, 0);

	assert_int_equal(parse1("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n"), HTTP_DONE);
	assert_int_equal(P.req.content_length, 12);
	assert_false(P.req.chunked);

	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"
	    "Content-Length: 2\r\n\r\nab"), 200);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: ,\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 99999999999999999999999\r\n\r\n"), 400);
}

static void
test_chunked_body(void **state)
{
	static const char in[] =
	    "GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n1A;ext=\"v\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-T: y\r\n\r\n"
	    "GET /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n"
	    "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
	struct ev e[4];

	(void)state;
	assert_int_equal(drive(in, sizeof(in) - 1, 0, e, 4), 3);
	assert_string_equal(e[0].path, "/a");
	assert_string_equal(e[1].path, "/b");
	assert_string_equal(e[2].path, "/c");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(e[i].result, HTTP_DONE);
		assert_int_equal(e[i].status, 0);
	}
}

static void
test_chunked_errors(void **state)
{
	static const char *const bad[] = {
		"Z\r\n",			/* not hex */
		"\r\n",				/* no digits */
		"5\r\nhelloX\r\n",		/* no CRLF after data */
		"1234567890abcdef0\r\n",	/* too many digits */
		"0\r\nBad\x01trailer\r\n\r\n",
		"5\rX",
	};
	char req[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ev e[3];
		int n;

		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: h\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n%s", bad[i]);
		n = drive(req, strlen(req), 0, e, 3);
		assert_int_equal(n, 2);
		assert_int_equal(e[0].result, HTTP_DONE);
		assert_int_equal(e[1].result, HTTP_ERROR);
		assert_int_equal(e[1].status, 400);
	}
}

static void
test_transfer_encoding_rules(void **state)
{
	(void)state;
	/* Both framings: 400 (RFC 9112 6.1). */
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400);
	/* TE in HTTP/1.0. */
	assert_int_equal(status_of("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
	/* chunked not final, or twice (RFC 9112 6.3). */
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n"), 400);
	/* A coding we do not know: 501. */
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
	/* Split over two lines, chunked last. */
	assert_int_equal(parse1("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), HTTP_ERROR);
	assert_int_equal(parse1("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,chunked\r\n\r\n"), HTTP_DONE);
	assert_true(P.req.chunked);
}

/* ---- limits ------------------------------------------------------------ */

static void
test_limits(void **state)
{
	char req[4096];
	int n;

	(void)state;
	/* A request line of exactly max_line bytes (CR included) passes. */
	n = snprintf(req, sizeof(req), "GET /");
	memset(req + n, 'a', LIM.max_line - n - 10);
	n = LIM.max_line - 10;
	n += snprintf(req + n, sizeof(req) - n, " HTTP/1.0\r\n\r\n");
	assert_int_equal(status_of(req), 200);
	/* One more byte: 414, without waiting for the line to end. */
	n = snprintf(req, sizeof(req), "GET /");
	memset(req + n, 'a', LIM.max_line);
	req[n + LIM.max_line] = '\0';
	assert_int_equal(status_of(req), 414);

	/* A header section over max_header: 431. */
	n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(req + n, 'v', LIM.max_header);
	req[n + LIM.max_header] = '\0';
	assert_int_equal(status_of(req), 431);

	/* Too many fields, each small: 431. */
	n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (unsigned i = 0; i < LIM.max_fields; i++)
		n += snprintf(req + n, sizeof(req) - n, "X%u: y\r\n", i);
	snprintf(req + n, sizeof(req) - n, "\r\n");
	assert_int_equal(status_of(req), 431);
	/* Just max_fields: fine. */
	n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (unsigned i = 1; i < LIM.max_fields; i++)
		n += snprintf(req + n, sizeof(req) - n, "X%u: y\r\n", i);
	snprintf(req + n, sizeof(req) - n, "\r\n");
	assert_int_equal(status_of(req), 200);

	/* A flood of empty field lines... is the end of the header section,
	 * and then a 400 for the garbage request line after it. */
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n\r\n\r\n\r\n\r\nX"), 200);
}

/* ---- paths ------------------------------------------------------------- */

static void
test_path_normalize(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "/", "/" }, { "/a", "/a" }, { "/a/", "/a/" }, { "/a/b/../c", "/a/c" },
		{ "/a/./b", "/a/b" }, { "/a/.", "/a/" }, { "/a/..", "/" }, { "/a/b/..", "/a/" },
		{ "//a///b//", "/a/b/" }, { "/%61%62", "/ab" }, { "/a%20b", "/a b" },
		{ "/%2e/x", "/x" }, { "/a/%2e%2E", "/" }, { "/caf%C3%A9", "/caf\xc3\xa9" },
		{ "/.a/..b/...", "/.a/..b/..." }, { "/a%25", "/a%" }, { "/a;b=c:d@e", "/a;b=c:d@e" },
	};
	static const struct { const char *in; int status; } bad[] = {
		{ "/..", 400 }, { "/../etc/passwd", 400 }, { "/a/../..", 400 },
		{ "/%2e%2e/x", 400 }, { "/%2E%2e/", 400 }, { "/a/%2e%2e/%2e%2e", 400 },
		{ "/a%00b", 400 }, { "/a%2fb", 400 }, { "/a%2Fb", 400 }, { "/a%5cb", 400 },
		{ "/..\\x", 400 }, { "/a\\b", 400 }, { "/a%", 400 }, { "/a%4", 400 },
		{ "/a%zz", 400 }, { "/a%0a", 400 }, { "/a%7f", 400 }, { "a", 400 }, { "", 400 },
		{ "/a\"b", 400 }, { "/a<b>", 400 }, { "/a#frag", 400 }, { "/\xc3\xa9", 400 },
		{ "/a b", 400 },
	};
	char out[HTTP_PATH_MAX];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int st = http_path_normalize(ok[i].in, strlen(ok[i].in), out, sizeof(out), &len);

		if (st != 0)
			fail_msg("%s: %d", ok[i].in, st);
		assert_string_equal(out, ok[i].out);
		assert_int_equal(len, strlen(ok[i].out));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st = http_path_normalize(bad[i].in, strlen(bad[i].in), out, sizeof(out), &len);

		if (st != bad[i].status)
			fail_msg("%s: %d, expected %d", bad[i].in, st, bad[i].status);
	}
	/* Too long for the output: 414. */
	assert_int_equal(http_path_normalize("/abcdefgh", 9, out, 8, &len), 414);
	/* Ending in "/", "/." or "//" once the output is nearly full: never a
	 * byte past it (the fuzzer found the NUL written one past). */
	{
		static const char *const tails[] = { "/abcdef/", "/abcdef/.", "/abcdef//",
		    "/abcde/", "/abcde/.", "/abcde/x/.." };
		char buf[9];

		for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
			int st;

			memset(buf, 'X', sizeof(buf));
			st = http_path_normalize(tails[i], strlen(tails[i]), buf, 8, &len);
			assert_int_equal(buf[8], 'X');
			assert_true(st == 414 || (st == 0 && len < 8 && buf[len] == '\0'));
		}
		assert_int_equal(http_path_normalize("/abcde/", 7, buf, 8, &len), 0);
		assert_string_equal(buf, "/abcde/");
	}
	assert_int_equal(http_path_normalize("/abcdef", 7, out, 8, &len), 0);
}

static void
test_hostile_requests(void **state)
{
	static const char *const bad[] = {
		"GET /../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /%2E%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a/../../x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /index.html%00.txt HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /..\\..\\x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a%5c..%5c..%5cx HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a%2f..%2f..%2fx HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://a/../x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /?q\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st = status_of(bad[i]);

		if (st != 400)
			fail_msg("%s: %d", bad[i], st);
	}
	/* Encoded dots that stay inside the root are fine. */
	struct ev e = one("GET /a/%2e%2e/b/./c HTTP/1.1\r\nHost: a\r\n\r\n");

	assert_int_equal(e.status, 0);
	assert_string_equal(e.path, "/b/c");
}

static void
test_absolute_form_and_query(void **state)
{
	struct ev e;

	(void)state;
	e = one("GET http://example.com:80/a/b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
	assert_int_equal(e.result, HTTP_DONE);
	assert_string_equal(e.path, "/a/b");
	assert_string_equal(e.query, "?x=1");
	e = one("GET HTTP://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
	assert_string_equal(e.path, "/");
	e = one("GET https://h?q HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_string_equal(e.path, "/");
	assert_string_equal(e.query, "?q");
	e = one("GET /d?a/b?c=%2f HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_string_equal(e.path, "/d");
	assert_string_equal(e.query, "?a/b?c=%2f");
	e = one("GET /d? HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_string_equal(e.query, "?");
}

/* ---- conditionals, ranges, encodings ----------------------------------- */

static void
test_if_none_match(void **state)
{
	const char *tag = "\"abc\"";

	(void)state;
	assert_true(http_etag_match_weak("\"abc\"", 5, tag));
	assert_true(http_etag_match_weak("W/\"abc\"", 7, tag));
	assert_true(http_etag_match_weak("\"x\", W/\"abc\"", 12, tag));
	assert_true(http_etag_match_weak(" * ", 3, tag));
	assert_true(http_etag_match_weak("\"abc\"", 5, "W/\"abc\""));
	assert_false(http_etag_match_weak("\"abcd\"", 6, tag));
	assert_false(http_etag_match_weak("abc", 3, tag));
	assert_false(http_etag_match_weak("\"ab", 3, tag));
	assert_false(http_etag_match_weak("", 0, tag));
	assert_false(http_etag_match_weak("\"x\", *", 6, tag));

	assert_true(http_etag_equal_strong("\"abc\"", 5, tag));
	assert_false(http_etag_equal_strong("W/\"abc\"", 7, tag));
	assert_false(http_etag_equal_strong("\"abc\" ", 6, tag));
	assert_false(http_etag_equal_strong("\"abc\"", 5, "W/\"abc\""));

	assert_int_equal(parse1("GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"abc\", \"d\"\r\n"
	    "if-none-match: W/\"e\"\r\n\r\n"), HTTP_DONE);
	assert_int_equal(P.req.ninm, 2);
	assert_true(http_etag_match_weak(B + P.req.inm[0].off, P.req.inm[0].len, "\"d\""));
	assert_true(http_etag_match_weak(B + P.req.inm[1].off, P.req.inm[1].len, "\"e\""));
	assert_false(http_etag_match_weak(B + P.req.inm[0].off, P.req.inm[0].len, "\"e\""));
}

static void
test_if_modified_since(void **state)
{
	(void)state;
	assert_int_equal(parse1("GET / HTTP/1.1\r\nHost: a\r\n"
	    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"), HTTP_DONE);
	assert_true(P.req.has_ims);
	assert_int_equal(P.req.ims, 784111777);
	/* An invalid date is ignored. */
	assert_int_equal(parse1("GET / HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: yesterday\r\n\r\n"),
	    HTTP_DONE);
	assert_false(P.req.has_ims);
	/* Given twice: ignored. */
	assert_int_equal(parse1("GET / HTTP/1.1\r\nHost: a\r\n"
	    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"), HTTP_DONE);
	assert_false(P.req.has_ims);
}

static void
test_dates(void **state)
{
	static const struct { const char *s; int64_t t; } ok[] = {
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },
		{ "Sunday, 06-Nov-94 08:49:37 GMT", 784111777 },
		{ "Sun Nov  6 08:49:37 1994", 784111777 },
		{ "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
		{ "Tue, 29 Feb 2000 12:00:00 GMT", 951825600 },
		{ "Sat, 01 Jan 2000 00:00:00 GMT", 946684800 },
		{ "Friday, 01-Jan-38 00:00:00 GMT", 2145916800 },
		{ "Thu Dec 31 23:59:59 1970", 31535999 },
		{ "Wed, 31 Dec 1969 23:59:59 GMT", -1 },
		{ "Sat, 31 Dec 2016 23:59:60 GMT", 1483228799 },
	};
	static const char *const bad[] = {
		"", "Sun, 06 Nov 1994 08:49:37", "Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 GMT ",
		"sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
		"Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 29 Feb 1900 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
		"Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov 6 08:49:37 1994",
		"Sun, 06 Xyz 1994 08:49:37 GMT", "Sun, 06 Nov 1899 08:49:37 GMT",
		"Sun,06 Nov 1994 08:49:37 GMT", "Sun Nov  6 08:49:37 94",
	};
	char out[30];
	int64_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (http_date_parse(ok[i].s, strlen(ok[i].s), &t) != 0)
			fail_msg("%s: not parsed", ok[i].s);
		assert_int_equal(t, ok[i].t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (http_date_parse(bad[i], strlen(bad[i]), &t) == 0)
			fail_msg("%s: parsed", bad[i]);

	http_date_format(784111777, out);
	assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	http_date_format(0, out);
	assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
	http_date_format(-5, out);
	assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
	http_date_format(951825600, out);
	assert_string_equal(out, "Tue, 29 Feb 2000 12:00:00 GMT");
	http_date_format(INT64_MAX, out);
	assert_string_equal(out, "Fri, 31 Dec 9999 23:59:59 GMT");
	/* Round trips over a wide span, a day and a bit apart. */
	for (int64_t x = 0; x < 253402300799LL; x += 90061 * 97) {
		http_date_format(x, out);
		assert_int_equal(strlen(out), 29);
		assert_int_equal(http_date_parse(out, 29, &t), 0);
		assert_int_equal(t, x);
	}
}

static void
test_range(void **state)
{
	static const struct {
		const char	*v;
		int		status;
		uint64_t	off, len;
	} cases[] = {
		{ "bytes=0-9", 206, 0, 10 }, { "bytes=5-", 206, 5, 95 }, { "bytes=-10", 206, 90, 10 },
		{ "bytes=-1000", 206, 0, 100 }, { "bytes=90-1000", 206, 90, 10 },
		{ "bytes=99-99", 206, 99, 1 }, { "Bytes=0-0", 206, 0, 1 },
		{ "bytes = 0-1", 200, 0, 0 },	/* not the syntax: ignored */
		{ "bytes=100-", 416, 0, 0 }, { "bytes=100-200", 416, 0, 0 }, { "bytes=-0", 416, 0, 0 },
		{ "bytes=0-1,5-6", 200, 0, 0 },	/* several ranges: the whole */
		{ "bytes=9-5", 200, 0, 0 }, { "bytes=x-5", 200, 0, 0 }, { "bytes=-", 200, 0, 0 },
		{ "items=0-5", 200, 0, 0 }, { "bytes=", 200, 0, 0 }, { "bytes=0-5 x", 200, 0, 0 },
		{ "bytes=99999999999999999999999-", 200, 0, 0 },
		{ "bytes= 0-5 ,", 206, 0, 6 },
	};
	char req[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t off = 0, len = 0;
		int st;

		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nRange: %s\r\n\r\n", cases[i].v);
		assert_int_equal(parse1(req), HTTP_DONE);
		st = http_range_resolve(&P.req.range, 100, &off, &len);
		if (st != cases[i].status)
			fail_msg("%s: %d, expected %d", cases[i].v, st, cases[i].status);
		if (st == 206) {
			assert_int_equal(off, cases[i].off);
			assert_int_equal(len, cases[i].len);
		}
	}
	/* An empty representation satisfies no range. */
	assert_int_equal(parse1("GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-\r\n\r\n"), HTTP_DONE);
	{
		uint64_t off, len;

		assert_int_equal(http_range_resolve(&P.req.range, 0, &off, &len), 416);
	}
	/* Two Range fields: ignored. */
	assert_int_equal(parse1("GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n"
	    "Range: bytes=0-1\r\n\r\n"), HTTP_DONE);
	assert_int_equal(P.req.range.kind, HTTP_RANGE_NONE);
	/* If-Range is passed on. */
	assert_int_equal(parse1("GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n"
	    "If-Range: \"abc\"\r\n\r\n"), HTTP_DONE);
	assert_true(P.req.has_if_range);
	assert_true(http_etag_equal_strong(B + P.req.if_range.off, P.req.if_range.len, "\"abc\""));
}

static void
test_accept_encoding(void **state)
{
	static const struct { const char *v; bool gzip; } cases[] = {
		{ "gzip", true }, { "GZIP", true }, { "x-gzip", true }, { "deflate, gzip", true },
		{ "gzip;q=0", false }, { "gzip; q=0.000", false }, { "gzip;q=0.001", true },
		{ "gzip;Q=1.000", true }, { "gzip;q=1.5", false }, { "gzip;q=2", false },
		{ "*", true }, { "*;q=0", false }, { "*, gzip;q=0", false },
		{ "gzip;q=0, *", false }, { "identity", false }, { "br, deflate", false },
		{ "", false }, { "gzip;q=abc", false }, { "gzip ; q=0.5", true },
		{ "deflate, gzip;q=0.5, br;q=1", true }, { "gzip;level=1", false },
	};
	char req[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: %s\r\n\r\n",
		    cases[i].v);
		struct ev e = one(req);

		assert_int_equal(e.result, HTTP_DONE);
		if (e.gzip_ok != cases[i].gzip)
			fail_msg("%s: gzip_ok %d", cases[i].v, e.gzip_ok);
	}
	assert_false(one("GET / HTTP/1.1\r\nHost: a\r\n\r\n").gzip_ok);
	/* Accumulated over lines. */
	assert_true(one("GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: br\r\n"
	    "Accept-Encoding: gzip\r\n\r\n").gzip_ok);
}

/* ---- pipelining and splitting ------------------------------------------ */

static const char *const corpus[] = {
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	"HEAD /x/../y HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"
	"GET /z?q HTTP/1.0\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nHELLO"
	"GET /b?k=v HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	"3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n"
	"POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"
	"GET /d HTTP/1.1\r\nHost: h\r\n\r\n",
	"\r\nGET /a HTTP/1.1\nHost: h\n\nGET /../x HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/2.0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX",
};

static void
test_pipelined(void **state)
{
	struct ev e[8];

	(void)state;
	assert_int_equal(drive(corpus[0], strlen(corpus[0]), 0, e, 8), 3);
	assert_string_equal(e[0].path, "/");
	assert_int_equal(e[1].method, HTTP_M_HEAD);
	assert_string_equal(e[1].path, "/y");
	assert_string_equal(e[2].path, "/z");
	assert_false(e[2].keep_alive);

	assert_int_equal(drive(corpus[1], strlen(corpus[1]), 0, e, 8), 4);
	assert_string_equal(e[1].line, "GET /b?k=v HTTP/1.1");
	assert_string_equal(e[1].query, "?k=v");
	assert_int_equal(e[2].status, 405);
	assert_string_equal(e[3].path, "/d");

	assert_int_equal(drive(corpus[3], strlen(corpus[3]), 0, e, 8), 2);
	assert_int_equal(e[1].result, HTTP_ERROR);
	assert_int_equal(e[1].status, 505);
}

static bool
same(const struct ev *a, const struct ev *b)
{
	return a->result == b->result && a->status == b->status && a->method == b->method &&
	    a->minor == b->minor && a->keep_alive == b->keep_alive && a->gzip_ok == b->gzip_ok &&
	    strcmp(a->path, b->path) == 0 && strcmp(a->query, b->query) == 0 &&
	    strcmp(a->line, b->line) == 0;
}

static void
test_split_everywhere(void **state)
{
	static struct ev whole[8], part[8];

	(void)state;
	for (size_t c = 0; c < sizeof(corpus) / sizeof(corpus[0]); c++) {
		size_t n = strlen(corpus[c]);
		int nw = drive(corpus[c], n, 0, whole, 8);

		for (size_t k = 1; k < n; k++) {
			int np = drive(corpus[c], n, k, part, 8);

			if (np != nw)
				fail_msg("corpus %zu cut at %zu: %d events, whole %d", c, k, np, nw);
			for (int i = 0; i < nw; i++)
				if (!same(&whole[i], &part[i]))
					fail_msg("corpus %zu cut at %zu: event %d differs", c, k, i);
		}
	}
}

/* Byte by byte, as a slow client sends. */
static void
test_byte_at_a_time(void **state)
{
	const char *s = corpus[1];
	struct http_parser p;
	char buf[BUFSZ];
	size_t blen = 0, used;
	int done = 0;

	(void)state;
	http_parser_init(&p, &LIM);
	for (size_t i = 0; s[i] != '\0'; i++) {
		buf[blen++] = s[i];
		for (;;) {
			int r = http_parse_feed(&p, buf, blen, &used);

			assert_int_not_equal(r, HTTP_ERROR);
			memmove(buf, buf + used, blen - used);
			blen -= used;
			if (r == HTTP_NEED_MORE)
				break;
			done++;
		}
	}
	assert_int_equal(done, 4);
	assert_int_equal(blen, 0);
}

static void
test_error_is_sticky(void **state)
{
	struct http_parser p;
	size_t used;

	(void)state;
	http_parser_init(&p, &LIM);
	assert_int_equal(http_parse_feed(&p, "BAD\r\n\r\n", 7, &used), HTTP_ERROR);
	assert_int_equal(http_parse_feed(&p, "GET / HTTP/1.0\r\n\r\n", 18, &used), HTTP_ERROR);
	assert_int_equal(p.req.status, 400);
	assert_string_equal(http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_reason(999), "");
}

/*
 * http_parse_idle(): between requests, with every byte consumed, a parser
 * may be dropped (httpd frees it, with the request buffer, while a
 * kept-alive connection waits) and a fresh one behaves the same; never
 * with part of a header section or a body still to come.
 */
static void
test_idle(void **state)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char post[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
	struct http_parser p;
	size_t used;

	(void)state;
	http_parser_init(&p, &LIM);
	assert_true(http_parse_idle(&p));
	/* Part of a header section (the caller keeps the bytes). */
	assert_int_equal(http_parse_feed(&p, get, 10, &used), HTTP_NEED_MORE);
	assert_int_equal(used, 0);
	assert_false(http_parse_idle(&p));
	/* A whole request without a body, consumed: idle. */
	http_parser_init(&p, &LIM);
	assert_int_equal(http_parse_feed(&p, get, sizeof(get) - 1, &used), HTTP_DONE);
	assert_int_equal(used, sizeof(get) - 1);
	assert_true(http_parse_idle(&p));
	/* Empty lines before a request line stay in the buffer: not idle. */
	http_parser_init(&p, &LIM);
	assert_int_equal(http_parse_feed(&p, "\r\n", 2, &used), HTTP_NEED_MORE);
	assert_false(http_parse_idle(&p));
	/* A body still to come: not idle until it has gone. */
	http_parser_init(&p, &LIM);
	assert_int_equal(http_parse_feed(&p, post, sizeof(post) - 1, &used), HTTP_DONE);
	assert_false(http_parse_idle(&p));
	assert_int_equal(http_parse_feed(&p, "abc", 3, &used), HTTP_NEED_MORE);
	assert_int_equal(used, 3);
	assert_false(http_parse_idle(&p));
	assert_int_equal(http_parse_feed(&p, "de", 2, &used), HTTP_NEED_MORE);
	assert_int_equal(used, 2);
	assert_true(http_parse_idle(&p));
	/* After an error, never. */
	http_parser_init(&p, &LIM);
	assert_int_equal(http_parse_feed(&p, "GET / HTTP/9.9\r\n\r\n", 20, &used), HTTP_ERROR);
	assert_false(http_parse_idle(&p));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_leading_empty_lines),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_connection),
		cmocka_unit_test(test_content_length_body),
		cmocka_unit_test(test_chunked_body),
		cmocka_unit_test(test_chunked_errors),
		cmocka_unit_test(test_transfer_encoding_rules),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_path_normalize),
		cmocka_unit_test(test_hostile_requests),
		cmocka_unit_test(test_absolute_form_and_query),
		cmocka_unit_test(test_if_none_match),
		cmocka_unit_test(test_if_modified_since),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_accept_encoding),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_error_is_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
