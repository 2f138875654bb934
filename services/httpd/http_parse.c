/*
 * http_parse: the HTTP/1.1 request parser (see http_parse.h for the
 * contract and the decisions).  Section numbers are RFC 9112's (message
 * syntax) unless they say RFC 9110 (semantics) or RFC 3986 (URIs).
 *
 * A request's header section is scanned incrementally for its end (an
 * empty line), enforcing the limits as bytes arrive; the request line is
 * checked as soon as it ends, so a bad one is answered at once; the
 * fields are parsed when the section is complete.  The body is then
 * discarded byte by byte (Content-Length or chunked) without buffering.
 */
#include <string.h>

#include "http_parse.h"

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

/* ---- characters -------------------------------------------------------- */

/* tchar (RFC 9110 5.6.2). */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
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

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive equality of s[0..n) and the lower-case word w. */
static bool
ieq(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (w[i] == '\0' || lower((unsigned char)s[i]) != (unsigned char)w[i])
			return false;
	return w[i] == '\0';
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* A path character allowed raw (RFC 3986 pchar, plus '/' and '%'). */
static bool
is_path_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	return c != '\0' && strchr("-._~!$&'()*+,;=:@/%", c) != NULL;
}

/* ---- lists (RFC 9110 5.6.1) -------------------------------------------- */

/* The next element of a comma-separated list in s[*i..n), with OWS
 * trimmed; empty elements are skipped.  False at the end. */
static bool
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

/* ---- dates (RFC 9110 5.6.7) -------------------------------------------- */

static const char wdays[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const wdays_long[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};
static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
mdays(int64_t y, int m)
{
	static const unsigned char d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return d[m] + (m == 1 && leap(y));
}

/* Leap years in 1..y-1 (y >= 1). */
static int64_t
leaps_before(int64_t y)
{
	y--;
	return y / 4 - y / 100 + y / 400;
}

void
http_date_format(int64_t t, char out[30])
{
	/* 9999-12-31T23:59:59Z keeps the year at four digits. */
	const int64_t tmax = 253402300799LL;
	int64_t days, secs, y = 1970;
	int m = 0, wd;

	if (t < 0)
		t = 0;
	if (t > tmax)
		t = tmax;
	days = t / 86400;
	secs = t % 86400;
	wd = (int)((days + 4) % 7);		/* 1970-01-01 was a Thursday */
	while (days >= 365 + leap(y)) {
		days -= 365 + leap(y);
		y++;
	}
	while (days >= mdays(y, m)) {
		days -= mdays(y, m);
		m++;
	}
	memcpy(out, wdays[wd], 3);
	out[3] = ',';
	out[4] = ' ';
	out[5] = (char)('0' + (days + 1) / 10);
	out[6] = (char)('0' + (days + 1) % 10);
	out[7] = ' ';
	memcpy(out + 8, months[m], 3);
	out[11] = ' ';
	out[12] = (char)('0' + y / 1000);
	out[13] = (char)('0' + y / 100 % 10);
	out[14] = (char)('0' + y / 10 % 10);
	out[15] = (char)('0' + y % 10);
	out[16] = ' ';
	out[17] = (char)('0' + secs / 36000);
	out[18] = (char)('0' + secs / 3600 % 10);
	out[19] = ':';
	out[20] = (char)('0' + secs % 3600 / 600);
	out[21] = (char)('0' + secs % 3600 / 60 % 10);
	out[22] = ':';
	out[23] = (char)('0' + secs % 60 / 10);
	out[24] = (char)('0' + secs % 10);
	memcpy(out + 25, " GMT", 5);		/* with the NUL */
}

/* A cursor over a date being parsed; every reader fails past the end. */
struct dcur {
	const char	*s;
	size_t		n, i;
};

static bool
d_lit(struct dcur *c, const char *lit)
{
	size_t k = strlen(lit);

	if (c->n - c->i < k || memcmp(c->s + c->i, lit, k) != 0)
		return false;
	c->i += k;
	return true;
}

static bool
d_num(struct dcur *c, int digits, int *v)
{
	*v = 0;
	for (int k = 0; k < digits; k++) {
		if (c->i >= c->n || !is_digit((unsigned char)c->s[c->i]))
			return false;
		*v = *v * 10 + (c->s[c->i++] - '0');
	}
	return true;
}

/* One of the names in tab (case-sensitive, RFC 9110 5.6.7). */
static bool
d_name(struct dcur *c, const char *const *tab, const char (*tab3)[4], int count, int *v)
{
	for (int k = 0; k < count; k++) {
		if (d_lit(c, tab != NULL ? tab[k] : tab3[k])) {
			*v = k;
			return true;
		}
	}
	return false;
}

/* "HH:MM:SS" */
static bool
d_time(struct dcur *c, int *h, int *mi, int *sec)
{
	return d_num(c, 2, h) && d_lit(c, ":") && d_num(c, 2, mi) && d_lit(c, ":") &&
	    d_num(c, 2, sec);
}

int
http_date_parse(const char *s, size_t n, int64_t *t)
{
	struct dcur c = { s, n, 0 };
	int wd, d, m, y, h, mi, sec;

	if (d_name(&c, NULL, wdays, 7, &wd) && d_lit(&c, ", ")) {
		/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		if (!(d_num(&c, 2, &d) && d_lit(&c, " ") && d_name(&c, NULL, months, 12, &m) &&
		    d_lit(&c, " ") && d_num(&c, 4, &y) && d_lit(&c, " ") &&
		    d_time(&c, &h, &mi, &sec) && d_lit(&c, " GMT")))
			return -1;
	} else if (c.i = 0, d_name(&c, wdays_long, NULL, 7, &wd) && d_lit(&c, ", ")) {
		/* rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT */
		if (!(d_num(&c, 2, &d) && d_lit(&c, "-") && d_name(&c, NULL, months, 12, &m) &&
		    d_lit(&c, "-") && d_num(&c, 2, &y) && d_lit(&c, " ") &&
		    d_time(&c, &h, &mi, &sec) && d_lit(&c, " GMT")))
			return -1;
		y += y < 70 ? 2000 : 1900;
	} else if (c.i = 0, d_name(&c, NULL, wdays, 7, &wd) && d_lit(&c, " ")) {
		/* asctime-date: Sun Nov  6 08:49:37 1994 */
		if (!(d_name(&c, NULL, months, 12, &m) && d_lit(&c, " ")))
			return -1;
		if (d_lit(&c, " ")) {
			if (!d_num(&c, 1, &d))
				return -1;
		} else if (!d_num(&c, 2, &d)) {
			return -1;
		}
		if (!(d_lit(&c, " ") && d_time(&c, &h, &mi, &sec) && d_lit(&c, " ") &&
		    d_num(&c, 4, &y)))
			return -1;
	} else {
		return -1;
	}
	if (c.i != n || y < 1900 || d < 1 || d > mdays(y, m) || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (sec == 60)
		sec = 59;		/* a leap second: the date is still valid */
	int64_t days = 365 * (int64_t)(y - 1970) + leaps_before(y) - leaps_before(1970);
	for (int k = 0; k < m; k++)
		days += mdays(y, k);
	days += d - 1;
	*t = days * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

/* ---- the path (RFC 3986 2.1, 5.2.4) ------------------------------------ */

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

/* The request-target (3.2): the path normalised into req->path, the
 * query's span; off is the target's offset in the caller's buffer. */
static int
parse_target(struct http_request *req, const char *t, size_t n, uint32_t off)
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
		return parse_target(req, s + ts, te - ts, base + (uint32_t)ts);
	return 0;
}

/* ---- fields (5, RFC 9110 5) -------------------------------------------- */

struct fields {
	unsigned	hosts;
	bool		has_cl, has_te, te_chunked_last, te_other, te_empty;
	unsigned	te_chunked;
	bool		conn_close, conn_keep;
	unsigned	ims_count, range_count, if_range_count;
	int		gzip_q, star_q;		/* -1: not listed */
	int64_t		ims;
	bool		ims_valid;
};

/* Content-Length = 1*DIGIT, perhaps as a list of equal values (RFC 9110 8.6). */
static int
content_length(struct http_parser *p, struct fields *f, const char *v, size_t n)
{
	size_t i = 0, b, e;
	bool any = false;

	while (next_elem(v, n, &i, &b, &e)) {
		uint64_t x = 0;

		any = true;
		for (size_t k = b; k < e; k++) {
			if (!is_digit((unsigned char)v[k]) || x > (UINT64_MAX - 9) / 10)
				return 400;
			x = x * 10 + (uint64_t)(v[k] - '0');
		}
		if (f->has_cl && x != p->req.content_length)
			return 400;
		f->has_cl = true;
		p->req.content_length = x;
	}
	/* Only commas and spaces: no value at all. */
	return any ? 0 : 400;
}

/* Transfer-Encoding = #transfer-coding (6.1), accumulated over lines. */
static void
transfer_encoding(struct fields *f, const char *v, size_t n)
{
	size_t i = 0, b, e;
	bool any = false;

	f->has_te = true;
	while (next_elem(v, n, &i, &b, &e)) {
		size_t k = b;

		any = true;
		while (k < e && is_tchar((unsigned char)v[k]))
			k++;
		if (ieq(v + b, k - b, "chunked") && k == e) {
			f->te_chunked++;
			f->te_chunked_last = true;
		} else {
			f->te_other = true;
			f->te_chunked_last = false;
		}
	}
	if (!any)
		f->te_empty = true;
}

static void
connection(struct fields *f, const char *v, size_t n)
{
	size_t i = 0, b, e;

	while (next_elem(v, n, &i, &b, &e)) {
		if (ieq(v + b, e - b, "close"))
			f->conn_close = true;
		else if (ieq(v + b, e - b, "keep-alive"))
			f->conn_keep = true;
	}
}

/* weight = OWS ";" OWS "q=" qvalue (RFC 9110 12.4.2): 0..1000, or -1. */
static int
qvalue(const char *v, size_t n)
{
	size_t i = 0;
	int q, scale = 100;

	while (i < n && is_ows(v[i]))
		i++;
	if (i + 2 >= n || lower((unsigned char)v[i]) != 'q' || v[i + 1] != '=')
		return -1;
	i += 2;
	if (v[i] != '0' && v[i] != '1')
		return -1;
	q = (v[i++] - '0') * 1000;
	if (i < n && v[i] == '.') {
		for (i++; i < n && is_digit((unsigned char)v[i]) && scale > 0; i++, scale /= 10)
			q += (v[i] - '0') * scale;
	}
	while (i < n && is_ows(v[i]))
		i++;
	return i == n && q <= 1000 ? q : -1;
}

/* Accept-Encoding (RFC 9110 12.5.3): remember gzip's and '*''s weights. */
static void
accept_encoding(struct fields *f, const char *v, size_t n)
{
	size_t i = 0, b, e;

	while (next_elem(v, n, &i, &b, &e)) {
		size_t k = b;
		int q = 1000;

		while (k < e && is_tchar((unsigned char)v[k]))
			k++;
		size_t ne = k;

		while (k < e && is_ows(v[k]))
			k++;
		if (k < e) {
			if (v[k] != ';' || (q = qvalue(v + k + 1, e - k - 1)) < 0)
				continue;	/* malformed: ignore the element */
		}
		if (ieq(v + b, ne - b, "gzip") || ieq(v + b, ne - b, "x-gzip"))
			f->gzip_q = q;
		else if (ieq(v + b, ne - b, "*"))
			f->star_q = q;
	}
}

/* Range = "bytes=" range-spec, just one (RFC 9110 14.1.1, 14.2).  Anything
 * else leaves kind NONE: the field is ignored. */
static void
range(struct http_range *r, const char *v, size_t n)
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

/* The Host value (RFC 9112 3.2, RFC 3986 3.2.2): uri-host [":" port],
 * where uri-host is a reg-name or an IPv4 address (no ':', '/', '@' or
 * brackets), or an IP literal: an IPv6 address in brackets, of hex
 * digits, colons and dots (its form is not checked further: httpd only
 * echoes it, in redirects).  The port is digits, perhaps none. */
static bool
valid_host(const char *v, size_t n)
{
	size_t i = 0;

	if (n > 0 && v[0] == '[') {
		for (i = 1; i < n && v[i] != ']'; i++) {
			unsigned char c = (unsigned char)v[i];

			if (!(c >= '0' && c <= '9') && !((c | 0x20) >= 'a' && (c | 0x20) <= 'f') &&
			    c != ':' && c != '.')
				return false;
		}
		if (i == n || i == 1)
			return false;		/* no ']', or "[]" */
		i++;
	} else {
		for (; i < n && v[i] != ':'; i++) {
			unsigned char c = (unsigned char)v[i];

			if (!is_path_char(c) || c == '/' || c == '@' || c == '[' || c == ']')
				return false;
		}
	}
	if (i == n)
		return true;
	if (v[i++] != ':')
		return false;
	for (; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

/* One field line, s[0..n) without its line ending; base is its offset. */
static int
field_line(struct http_parser *p, struct fields *f, const char *s, size_t n, uint32_t base)
{
	struct http_request *req = &p->req;
	size_t i = 0, vb, ve;

	if (is_ows(s[0]))
		return 400;			/* obs-fold (5.2) */
	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	if (i == 0 || i == n || s[i] != ':')
		return 400;			/* includes space before ':' (5.1) */
	const char *name = s;
	size_t nlen = i;

	for (vb = i + 1; vb < n && is_ows(s[vb]); vb++)
		;
	for (ve = n; ve > vb && is_ows(s[ve - 1]); ve--)
		;
	for (size_t k = vb; k < ve; k++) {
		unsigned char c = (unsigned char)s[k];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 400;		/* NUL, bare CR, ... (5.5) */
	}
	const char *v = s + vb;
	size_t vn = ve - vb;

	if (ieq(name, nlen, "host")) {
		if (++f->hosts > 1 || !valid_host(v, vn))
			return 400;
		req->host.off = base + (uint32_t)vb;
		req->host.len = (uint32_t)vn;
	} else if (ieq(name, nlen, "content-length")) {
		return content_length(p, f, v, vn);
	} else if (ieq(name, nlen, "transfer-encoding")) {
		transfer_encoding(f, v, vn);
	} else if (ieq(name, nlen, "connection")) {
		connection(f, v, vn);
	} else if (ieq(name, nlen, "if-none-match")) {
		if (req->ninm < HTTP_INM_MAX) {
			req->inm[req->ninm].off = base + (uint32_t)vb;
			req->inm[req->ninm].len = (uint32_t)vn;
			req->ninm++;
		}
	} else if (ieq(name, nlen, "if-modified-since")) {
		f->ims_count++;
		f->ims_valid = http_date_parse(v, vn, &f->ims) == 0;
	} else if (ieq(name, nlen, "range")) {
		f->range_count++;
		range(&req->range, v, vn);
	} else if (ieq(name, nlen, "if-range")) {
		f->if_range_count++;
		req->if_range.off = base + (uint32_t)vb;
		req->if_range.len = (uint32_t)vn;
	} else if (ieq(name, nlen, "accept-encoding")) {
		accept_encoding(f, v, vn);
	}
	return 0;
}

/* The line at s[*i..) ending at or before end: its content [*i, *ce), and
 * *i moves past its LF.  A CR is allowed only right before the LF. */
static void
take_line(const char *s, size_t end, size_t *i, size_t *ce)
{
	size_t b = *i, k = b;

	while (k < end && s[k] != '\n')
		k++;
	*ce = k > b && s[k - 1] == '\r' ? k - 1 : k;
	*i = k + 1;
}

/* The whole header section is in buf[base + p->start .. base + end). */
static int
fields(struct http_parser *p, const char *buf, uint32_t base, uint32_t end)
{
	struct http_request *req = &p->req;
	struct fields f;
	size_t i = base + p->start, ce;

	memset(&f, 0, sizeof(f));
	f.gzip_q = f.star_q = -1;
	take_line(buf, base + end, &i, &ce);	/* the request line, done */
	for (;;) {
		size_t b = i;
		int st;

		take_line(buf, base + end, &i, &ce);
		if (ce == b)
			break;			/* the empty line */
		if ((st = field_line(p, &f, buf + b, ce - b, (uint32_t)b)) != 0)
			return st;
	}
	if (req->minor == 1 && f.hosts == 0)
		return 400;			/* RFC 9112 3.2 */
	if (f.has_te) {
		/* 6.1: TE in HTTP/1.0, or with Content-Length, is faulty
		 * framing; 6.3: chunked must be the final coding, once. */
		if (req->minor == 0 || f.has_cl || f.te_empty || f.te_chunked > 1 ||
		    (f.te_chunked == 1 && !f.te_chunked_last) ||
		    (f.te_chunked == 0 && !f.te_other))
			return 400;
		if (f.te_other)
			return f.te_chunked_last ? 501 : 400;
		req->chunked = true;
	}
	req->keep_alive = !f.conn_close && (req->minor == 1 || f.conn_keep);
	/* Singleton fields given twice are invalid: ignore them. */
	req->has_ims = f.ims_count == 1 && f.ims_valid;
	req->ims = req->has_ims ? f.ims : 0;
	if (f.range_count != 1)
		req->range.kind = HTTP_RANGE_NONE;
	req->has_if_range = f.if_range_count == 1;
	req->gzip_ok = f.gzip_q >= 0 ? f.gzip_q > 0 : f.star_q > 0;
	switch (req->method) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
		break;
	case HTTP_M_OTHER:
		req->status = 501;
		break;
	default:
		req->status = 405;
		break;
	}
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
			if ((b = fields(p, buf, (uint32_t)i, (uint32_t)end)) != 0)
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

/* ---- validators and ranges (RFC 9110 8.8.3, 13.1, 14) ------------------ */

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

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}
