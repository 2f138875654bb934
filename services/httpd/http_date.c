/*
 * http_date: HTTP-dates (RFC 9110 5.6.7).  The calendar of formatting is
 * newlib's gmtime_r(); parsing stays here, see http_date_parse().
 */
#include <stdio.h>
#include <time.h>

#include "http_internal.h"

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

/* The calendar is gmtime_r()'s; the names are this file's, which the
 * parser needs anyway.  Not strftime(): its "%a, %d %b %Y %H:%M:%S GMT"
 * gives the same in the "C" locale, but newlib's links tzset() for %Z, and
 * with it sscanf() for the TZ variable: some 20 KB of image for 29 bytes
 * of output (snprintf() is in the image already). */
void
http_date_format(int64_t t, char out[30])
{
	/* 9999-12-31T23:59:59Z keeps the year at four digits. */
	const int64_t tmax = 253402300799LL;
	time_t tt;
	struct tm tm;

	if (t < 0)
		t = 0;
	if (t > tmax)
		t = tmax;
	tt = (time_t)t;
	gmtime_r(&tt, &tm);
	snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday], tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
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

/* Hand-written, not strptime(): newlib's matches day and month names in
 * any case (RFC 9110 5.6.7 says case-sensitive), reads numbers with
 * strtol() (leading blanks, a sign, any count of digits: "+6" or "1994x"
 * would pass where exactly two or four digits are asked for), lets one
 * blank in the format match any run of blanks or none, does not check
 * the day against the month, and needs a NUL-terminated string where the
 * value is a span of the request.  Nor is there a timegm() in newlib to
 * turn the result into seconds (mktime() reads TZ). */
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
