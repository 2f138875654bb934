/*
 * http_parse: the HTTP/1.1 request parser (see http_parse.h for the
 * contract and the decisions, http_internal.h for its other pieces).
 * Section numbers are RFC 9112's (message syntax) unless they say RFC
 * 9110 (semantics) or RFC 3986 (URIs).
 *
 * A request's header section is scanned incrementally for its end (an
 * empty line), enforcing the limits as bytes arrive; the request line is
 * checked as soon as it ends, so a bad one is answered at once; the
 * fields are parsed when the section is complete (http_fields.c).  The
 * body is then discarded byte by byte (Content-Length or chunked) without
 * buffering.
 */
#include "http_internal.h"

enum {
	S_HEAD,			/* scanning a header section */
	S_BODY,			/* Content-Length bytes left in remaining */
	S_CHUNK_SIZE,		/* chunk-size digits (7.1) */
	S_CHUNK_EXT,		/* chunk extensions, skipped */
	S_CHUNK_SIZE_LF,	/* the LF after the size line's CR */
	S_CHUNK_DATA,		/* chunk data left in remaining */
	S_CHUNK_DATA_CR,	/* the CRLF after chunk data */
	S_CHUNK_DATA_LF,
	S_TRAILER,		/* start of a trailer line (7.1.2) */
	S_TRAILER_LINE,
	S_TRAILER_END_LF,
	S_DEAD,			/* after an error */
};

/* Chunk extensions are skipped, up to this many bytes a line. */
#define CHUNK_EXT_MAX		1024
/* Hex digits of a chunk size: 15 keeps it below 2^60. */
#define CHUNK_DIGITS_MAX	15
/* Empty lines ignored before a request line (2.2 asks for at least one). */
#define LEADING_EMPTY_MAX	4

/* ---- the request line (3) ---------------------------------------------- */

static const struct {
	const char		*name;
	enum http_method	m;
} methods[] = {
	{ "GET", HTTP_M_GET }, { "HEAD", HTTP_M_HEAD }, { "POST", HTTP_M_POST },
	{ "PUT", HTTP_M_PUT }, { "DELETE", HTTP_M_DELETE }, { "CONNECT", HTTP_M_CONNECT },
	{ "OPTIONS", HTTP_M_OPTIONS }, { "TRACE", HTTP_M_TRACE }, { "PATCH", HTTP_M_PATCH },
};

/* s[0..n) is the request line without its line ending; base its offset
 * from the header section's first byte (http_parse_feed() makes it the
 * buffer's once the section is complete).
 * Returns 0 or the status to answer. */
static int
request_line(struct http_parser *p, const char *s, size_t n, uint32_t base)
{
	struct http_request *req = &p->req;
	size_t i = 0, ts, te;

	req->line.off = base;
	req->line.len = (uint32_t)n;
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)s[k];

		if (c < 0x20 || c == 0x7f)	/* bare CR, NUL, HT, ... (2.2) */
			return 400;
	}
	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	if (i == 0 || i == n || s[i] != ' ')
		return 400;
	req->method = HTTP_M_OTHER;
	for (size_t k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
		if (strlen(methods[k].name) == i && memcmp(s, methods[k].name, i) == 0)
			req->method = methods[k].m;
	ts = ++i;
	while (i < n && s[i] != ' ')
		i++;
	te = i;
	if (te == ts)
		return 400;
	if (i == n) {
		/* "GET /path": an HTTP/0.9 request, which has no headers. */
		return s[ts] == '/' ? 505 : 400;
	}
	i++;
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT (2.3), case-sensitive. */
	if (n - i != 8 || memcmp(s + i, "HTTP/", 5) != 0 || !is_digit((unsigned char)s[i + 5]) ||
	    s[i + 6] != '.' || !is_digit((unsigned char)s[i + 7]))
		return 400;
	if (s[i + 5] != '1')
		return 505;
	req->minor = s[i + 7] == '0' ? 0 : 1;
	if (req->method == HTTP_M_GET || req->method == HTTP_M_HEAD)
		return http_target(req, s + ts, te - ts, base + (uint32_t)ts);
	return 0;
}

/* ---- the feed ---------------------------------------------------------- */

static void
next_request(struct http_parser *p)
{
	struct http_limits lim = p->lim;

	memset(p, 0, sizeof(*p));
	p->lim = lim;
	p->state = S_HEAD;
	p->req.method = HTTP_M_OTHER;
	p->req.range.kind = HTTP_RANGE_NONE;
}

void
http_parser_init(struct http_parser *p, const struct http_limits *lim)
{
	memset(p, 0, sizeof(*p));
	p->lim = *lim;
	next_request(p);
}

bool
http_parse_in_body(const struct http_parser *p)
{
	return p->state != S_HEAD && p->state != S_DEAD;
}

bool
http_parse_idle(const struct http_parser *p)
{
	/* Nothing scanned of a header section, or a request answered whose
	 * body (none) is over: the next call starts a request either way. */
	return p->state == S_HEAD ? p->scan == 0 : p->state == S_BODY && p->remaining == 0;
}

static enum http_result
fail(struct http_parser *p, int status)
{
	p->state = S_DEAD;
	p->req.status = status;
	p->req.keep_alive = false;
	return HTTP_ERROR;
}

/* A field line's syntax (5.1, 5.2, 5.5), checked as soon as it ends so a
 * bad one is answered without waiting for the rest. */
static int
field_syntax(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	if (i == 0 || i == n || s[i] != ':')
		return 400;		/* obs-fold, space before ':', no name */
	for (i++; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 400;
	}
	return 0;
}

/* Scan buf[base..len) for the end of the header section. */
static enum http_result
head(struct http_parser *p, const char *buf, size_t base, size_t len, size_t *end)
{
	const struct http_limits *lim = &p->lim;

	for (size_t j = base + p->scan; j < len; j++) {
		uint32_t r = (uint32_t)(j - base);	/* relative position */

		if (r >= lim->max_header)
			return fail(p, p->nlines == 0 ? 414 : 431);
		if (buf[j] != '\n') {
			if (p->nlines == 0 && r - p->line_start >= lim->max_line)
				return fail(p, 414);
			continue;
		}
		bool empty = r == p->line_start ||
		    (r == p->line_start + 1 && buf[j - 1] == '\r');

		if (p->nlines == 0 && empty) {
			if (++p->empties > LEADING_EMPTY_MAX)
				return fail(p, 400);
			p->line_start = p->start = r + 1;
			continue;
		}
		if (empty) {
			*end = r + 1;
			p->scan = r + 1;
			return HTTP_DONE;
		}
		size_t ls = base + p->line_start;
		size_t ce = j > ls && buf[j - 1] == '\r' ? j - 1 : j;
		/* The request line's spans are relative to the header
		 * section until it is complete (http_parse_feed()): the
		 * caller may drop a body's bytes in front of it between
		 * calls. */
		int st = p->nlines == 0 ?
		    request_line(p, buf + ls, ce - ls, p->line_start) :
		    field_syntax(buf + ls, ce - ls);

		if (st != 0)
			return fail(p, st);
		if (++p->nlines > lim->max_fields + 1)
			return fail(p, 431);
		p->line_start = r + 1;
	}
	p->scan = (uint32_t)(len - base);
	return HTTP_NEED_MORE;
}

/* Discard body bytes from buf[*i..len); true when the body is complete. */
static int
body(struct http_parser *p, const char *buf, size_t len, size_t *i)
{
	while (*i < len) {
		unsigned char c = (unsigned char)buf[*i];
		size_t take;
		int h;

		switch (p->state) {
		case S_BODY:
		case S_CHUNK_DATA:
			take = len - *i;
			if (take > p->remaining)
				take = (size_t)p->remaining;
			*i += take;
			p->remaining -= take;
			if (p->remaining == 0) {
				if (p->state == S_BODY)
					return 1;
				p->state = S_CHUNK_DATA_CR;
			}
			continue;
		case S_CHUNK_SIZE:
			if ((h = hexval(c)) >= 0) {
				if (++p->digits > CHUNK_DIGITS_MAX)
					return -1;
				p->remaining = p->remaining << 4 | (uint64_t)h;
			} else if (p->digits == 0) {
				return -1;
			} else if (c == ';' || is_ows((char)c)) {
				p->state = S_CHUNK_EXT;
				p->linelen = 0;
			} else if (c == '\r') {
				p->state = S_CHUNK_SIZE_LF;
			} else if (c == '\n') {
				goto size_line_done;
			} else {
				return -1;
			}
			break;
		case S_CHUNK_EXT:
			if (c == '\r') {
				p->state = S_CHUNK_SIZE_LF;
			} else if (c == '\n') {
				goto size_line_done;
			} else if ((c < 0x20 && c != '\t') || c == 0x7f ||
			    ++p->linelen > CHUNK_EXT_MAX) {
				return -1;
			}
			break;
		case S_CHUNK_SIZE_LF:
			if (c != '\n')
				return -1;
size_line_done:
			p->digits = 0;
			p->state = p->remaining == 0 ? S_TRAILER : S_CHUNK_DATA;
			break;
		case S_CHUNK_DATA_CR:
			if (c == '\r')
				p->state = S_CHUNK_DATA_LF;
			else if (c == '\n')
				p->state = S_CHUNK_SIZE;
			else
				return -1;
			break;
		case S_CHUNK_DATA_LF:
			if (c != '\n')
				return -1;
			p->state = S_CHUNK_SIZE;
			break;
		case S_TRAILER:
			if (c == '\n') {
				(*i)++;
				return 1;
			}
			p->state = c == '\r' ? S_TRAILER_END_LF : S_TRAILER_LINE;
			if (++p->trailer > p->lim.max_header)
				return -1;
			break;
		case S_TRAILER_LINE:
			if (c == '\n')
				p->state = S_TRAILER;
			else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
				return -1;
			if (++p->trailer > p->lim.max_header)
				return -1;
			break;
		case S_TRAILER_END_LF:
			if (c != '\n')
				return -1;
			(*i)++;
			return 1;
		default:
			return -1;
		}
		(*i)++;
	}
	return 0;
}

enum http_result
http_parse_feed(struct http_parser *p, const char *buf, size_t len, size_t *consumed)
{
	size_t i = 0, end;
	enum http_result r;
	int b;

	*consumed = 0;
	for (;;) {
		switch (p->state) {
		case S_DEAD:
			return HTTP_ERROR;
		case S_HEAD:
			r = head(p, buf, i, len, &end);
			if (r == HTTP_NEED_MORE) {
				*consumed = i;
				return r;
			}
			/* The request line's spans, relative to the header
			 * section while it came in, to the buffer's offsets. */
			p->req.line.off += (uint32_t)i;
			if (p->req.has_query)
				p->req.query.off += (uint32_t)i;
			if (r == HTTP_ERROR)
				return r;
			if ((b = http_fields(p, buf, (uint32_t)i, (uint32_t)end)) != 0)
				return fail(p, b);
			*consumed = i + end;
			/* The next call starts on the body, if any. */
			if (p->req.chunked) {
				p->state = S_CHUNK_SIZE;
				p->remaining = 0;
				p->digits = 0;
			} else if (p->req.content_length > 0) {
				p->state = S_BODY;
				p->remaining = p->req.content_length;
			} else {
				p->state = S_BODY;
				p->remaining = 0;
			}
			p->scan = 0;
			return HTTP_DONE;
		default:
			/* Coming back after HTTP_DONE: a new request begins
			 * once the body (if any) has gone. */
			if (p->state == S_BODY && p->remaining == 0) {
				b = 1;
			} else if ((b = body(p, buf, len, &i)) < 0) {
				/* A bad body: no new request line to report, and
				 * the last one's bytes are gone. */
				*consumed = i;
				p->req.line.len = 0;
				p->req.has_query = false;
				return fail(p, 400);
			}
			if (b == 0) {
				*consumed = i;
				return HTTP_NEED_MORE;
			}
			next_request(p);
			break;
		}
	}
}
