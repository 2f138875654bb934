/*
 * http_fields: the field lines of a request's header section (RFC 9112
 * 5, RFC 9110 5), parsed once the section is complete, and what the
 * framing (6) and the method make of them; the decisions are in
 * http_parse.h.  Section numbers are RFC 9112's unless they say RFC 9110.
 */
#include "http_internal.h"

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
		http_range_parse(&req->range, v, vn);
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
int
http_fields(struct http_parser *p, const char *buf, uint32_t base, uint32_t end)
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
