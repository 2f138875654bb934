/*
 * http_parse: an incremental HTTP/1.1 request parser (RFC 9112, with the
 * field semantics of RFC 9110), pure C: no lwIP, no globals, no
 * allocation, so the host unit tests and the fuzz target run it as the
 * server does.  It is in pieces, http_*.c (http_internal.h lists them);
 * this header is the whole of it that the rest of httpd sees.
 *
 * The caller owns a bounded buffer per connection (at least max_header
 * bytes) and appends what it receives.  Each call to http_parse_feed()
 * gets the bytes not yet consumed, from the first one:
 *
 *	r = http_parse_feed(&p, buf, len, &consumed);
 *	HTTP_NEED_MORE	give it more bytes (after dropping `consumed` bytes,
 *			which may be > 0: a discarded request body);
 *	HTTP_DONE	a request's header section is complete: p.req holds it,
 *			its offsets point into this buf.  Drop `consumed` bytes
 *			once done with p.req; the next calls discard the
 *			request's body, if any, then parse the next request;
 *	HTTP_ERROR	p.req.status is the status to answer (400, 414, 431,
 *			501, 505); then close the connection.  The parser stays
 *			in error.
 *
 * Between calls the caller may append bytes but must not change the
 * unconsumed ones.  Decisions (RFC sections in the code):
 *  - a bare LF ends a line as CRLF does (RFC 9112 2.2 allows it); a bare
 *    CR, obs-fold, NUL or other control characters are 400;
 *  - up to 4 empty lines before a request line are skipped (RFC 9112 2.2);
 *  - HTTP/1.0 and 1.1 are served; 1.x with x > 1 is served as 1.1 (RFC
 *    9112 2.3); HTTP/0.9-style request lines (no version), HTTP/0.x and
 *    HTTP/2 or later are 505; anything else malformed is 400;
 *  - GET and HEAD are served; the other methods of RFC 9110 9.3 and PATCH
 *    give a 405 request (HTTP_DONE with req.status 405, keep-alive as
 *    usual), any other method token 501 (also HTTP_DONE);
 *  - a Content-Length body is discarded so pipelining stays in sync;
 *    Transfer-Encoding: chunked (final and only coding) is decoded and
 *    discarded (RFC 9112 6.3 item 4); chunked not final, chunked twice,
 *    or TE together with Content-Length, or TE in HTTP/1.0 are 400 (RFC
 *    9112 6.1, 6.3); other transfer codings are 501 (RFC 9112 6.1);
 *  - duplicated Content-Length values are accepted only when all are the
 *    same (RFC 9110 8.6); a second Host, or none in HTTP/1.1, is 400;
 *  - the path is percent-decoded and its dot segments resolved (RFC 3986
 *    5.2.4), empty segments merged; climbing above the root, %00 and other
 *    encoded control characters, a raw or encoded backslash and an
 *    encoded slash (%2F, which no file name in the packed site can
 *    contain) are 400; the query is kept raw and apart; absolute-form
 *    targets (http://host/path) are accepted (RFC 9112 3.2.2);
 *  - Range: one byte range is served as 206; several ranges, an unknown
 *    unit or a syntax error make the server ignore the field and send
 *    the whole representation (RFC 9110 14.2 allows it).
 */
#ifndef HTTPD_HTTP_PARSE_H
#define HTTPD_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The decoded, normalised path's buffer (bytes, NUL included); a longer
 * path is 414.  The request line's limit is usually smaller anyway. */
#define HTTP_PATH_MAX		1024
/* If-None-Match field lines remembered; more are ignored, which is safe:
 * the server then answers 200 instead of 304. */
#define HTTP_INM_MAX		4

enum http_result {
	HTTP_NEED_MORE	= 0,
	HTTP_DONE	= 1,
	HTTP_ERROR	= -1,
};

enum http_method {
	HTTP_M_OTHER = 0,	/* an unknown token: 501 */
	HTTP_M_GET, HTTP_M_HEAD,
	HTTP_M_POST, HTTP_M_PUT, HTTP_M_DELETE, HTTP_M_CONNECT,
	HTTP_M_OPTIONS, HTTP_M_TRACE, HTTP_M_PATCH,
};

/* Bytes of the caller's buffer: buf[off .. off + len). */
struct http_span {
	uint32_t	off, len;
};

enum http_range_kind {
	HTTP_RANGE_NONE = 0,	/* no Range, or one to ignore */
	HTTP_RANGE_FROM,	/* bytes=first-  or  bytes=first-last */
	HTTP_RANGE_SUFFIX,	/* bytes=-n: the last n bytes */
};

struct http_range {
	enum http_range_kind kind;
	uint64_t	first, last;	/* FROM: last = UINT64_MAX when open */
	uint64_t	suffix;		/* SUFFIX: n */
};

struct http_request {
	/* 0: serve it; 405 or 501 with HTTP_DONE; the error with HTTP_ERROR. */
	int		status;
	enum http_method method;
	int		minor;		/* HTTP/1.<minor>: 0 or 1 */
	bool		keep_alive;	/* the connection may stay open after */
	struct http_span line;		/* the request line, without CRLF (len 0
					 * when the error came before it ended) */
	struct http_span query;		/* after '?', raw; has_query tells "" from none */
	bool		has_query;
	struct http_span host;		/* the Host value, as sent (len 0: none) */
	char		path[HTTP_PATH_MAX];	/* decoded and normalised, "/..." */
	size_t		path_len;
	/* Conditional and range fields (RFC 9110 13, 14). */
	struct http_span inm[HTTP_INM_MAX];	/* If-None-Match values */
	unsigned	ninm;
	bool		has_ims;	/* If-Modified-Since, when it is a valid date */
	int64_t		ims;
	bool		has_if_range;
	struct http_span if_range;
	struct http_range range;
	bool		gzip_ok;	/* Accept-Encoding allows gzip (q > 0) */
	/* Framing of the body that follows (discarded by the parser). */
	uint64_t	content_length;
	bool		chunked;
};

struct http_limits {
	uint32_t	max_line;	/* request line, CR included: longer is 414 */
	uint32_t	max_header;	/* request line and fields: larger is 431 */
	uint32_t	max_fields;	/* field lines: more is 431 */
};

/* Private state: use the functions below. */
struct http_parser {
	struct http_limits lim;
	int		state;
	/* The header section being scanned, relative to its first byte. */
	uint32_t	scan, line_start, start, nlines, empties;
	/* The body being discarded. */
	uint64_t	remaining;
	uint32_t	digits, linelen, trailer;
	struct http_request req;
};

void	http_parser_init(struct http_parser *p, const struct http_limits *lim);
enum http_result http_parse_feed(struct http_parser *p, const char *buf,
	    size_t len, size_t *consumed);
/* True while the parser is discarding a request body. */
bool	http_parse_in_body(const struct http_parser *p);
/* True when, all bytes fed so far being consumed, the parser is between
 * requests: a fresh one (http_parser_init()) would treat what comes next
 * the same, so the caller may drop this one until then. */
bool	http_parse_idle(const struct http_parser *p);

/* Percent-decode and normalise a request target's path (origin-form,
 * without the query): 0, or the status to answer (400, 414). */
int	http_path_normalize(const char *s, size_t n, char *out, size_t outsz,
	    size_t *outlen);

/* If-None-Match (RFC 9110 13.1.2): does the field value list match etag
 * (a quoted strong ETag) by weak comparison, or is it "*"?  A malformed
 * list does not match. */
bool	http_etag_match_weak(const char *list, size_t n, const char *etag);
/* If-Range (RFC 9110 13.1.5): is the value exactly this strong ETag? */
bool	http_etag_equal_strong(const char *v, size_t n, const char *etag);

/* Apply a parsed range to a representation of size bytes: 200 (serve it
 * all), 206 (serve *len bytes from *off) or 416 (RFC 9110 14.1.2). */
int	http_range_resolve(const struct http_range *r, uint64_t size,
	    uint64_t *off, uint64_t *len);

/* t (seconds since the epoch, UTC; clamped to years 1970..9999) as an
 * IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", NUL-terminated. */
void	http_date_format(int64_t t, char out[30]);
/* An HTTP-date in any of RFC 9110 5.6.7's three formats: 0, or -1 when
 * s is not one.  RFC 850's two-digit years 70..99 are 19xx, 00..69 20xx. */
int	http_date_parse(const char *s, size_t n, int64_t *t);

/* "Not Found" for 404, ... ("" for codes it does not know). */
const char *http_reason(int status);

#endif /* HTTPD_HTTP_PARSE_H */
