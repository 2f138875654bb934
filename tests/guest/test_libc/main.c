/*
 * test_libc: the parts of newlib a service leans on, in the guest:
 * printf-family formatting (integers, padding, floating point: SSE must
 * work), strtod and friends (compared exactly), qsort/bsearch, string
 * functions, libm, clocks, the calendar (gmtime_r) and getopt_long as
 * httpd and echo use them, and the calls a unikernel does not have, which
 * must fail with ENOSYS rather than crash.
 *
 * Prints "test_libc: OK" and exits 0, or names each failed check.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <limpet.h>

/* newlib declares these only for targets that claim POSIX timers. */
#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC	((clockid_t)4)
#endif
#ifndef _POSIX_TIMERS
int clock_gettime(clockid_t id, struct timespec *ts);
#endif

static int failures, checks;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		printf("test_libc: FAILED (line %d): %s: ", __LINE__, #cond); \
		printf(__VA_ARGS__);					\
		printf("\n");						\
		failures++;						\
	}								\
} while (0)

/* ---- formatting ------------------------------------------------------------ */

#define FMT(expect, ...) do {						\
	char buf_[128];							\
	int n_ = snprintf(buf_, sizeof(buf_), __VA_ARGS__);		\
	CHECK(strcmp(buf_, expect) == 0 && n_ == (int)strlen(expect),	\
	    "snprintf(%s) gave \"%s\" (%d), expected \"%s\"",		\
	    #__VA_ARGS__, buf_, n_, expect);				\
} while (0)

static void formatting(void)
{
	char small[5];
	int n;

	FMT("-42", "%d", -42);
	FMT("   42|42   |00042|+42", "%5d|%-5d|%05d|%+d", 42, 42, 42, 42);
	FMT("-9000000000", "%lld", -9000000000LL);
	FMT("-9223372036854775808", "%lld", LLONG_MIN);
	FMT("18446744073709551615", "%llu", ULLONG_MAX);
	FMT("123456789012", "%zu", (size_t)123456789012ULL);
	FMT("-5", "%zd", (ssize_t)-5);
	FMT("deadbeef CAFE 0xff 17", "%x %X %#x %o", 0xdeadbeefu, 0xcafeu, 255u, 15u);
	FMT("123456789abcdef", "%lx", 0x123456789abcdefUL);
	FMT("00ff", "%04x", 255u);
	FMT("abc|     right|left  |tru", "%s|%10s|%-6s|%.3s", "abc", "right", "left",
	    "truncate");
	FMT("ok%", "%c%c%%", 'o', 'k');
	FMT("0x1234", "%p", (void *)0x1234);
	FMT("3.141590", "%f", 3.14159);
	FMT("   3.142|-1.50   |", "%8.3f|%-8.2f|", 3.14159, -1.5);
	FMT("1.234568e+04", "%e", 12345.678);
	FMT("1.230000E-04", "%E", 0.000123);
	FMT("0.0001 1e-05 1.23457e+08 100", "%g %g %g %g", 0.0001, 1e-5, 123456789.0, 100.0);
	FMT("0.3333333333", "%.10g", 1.0 / 3);
	FMT("-0.000000", "%f", -0.0);
	FMT(" 99.4%", "%5.1f%%", 99.44);
	FMT("1e+300", "%g", 1e300);
	FMT("inf -inf nan", "%g %g %g", HUGE_VAL, -HUGE_VAL, NAN);
	FMT("0x1p+0", "%a", 1.0);
	FMT("2.5", "%g", (double)2.5f);

	n = snprintf(small, sizeof(small), "%s", "abcdefgh");
	CHECK(n == 8 && strcmp(small, "abcd") == 0,
	    "snprintf truncation gave \"%s\" (%d), expected \"abcd\" (8)", small, n);
	CHECK(sprintf(small, "%d", 1234) == 4 && strcmp(small, "1234") == 0,
	    "sprintf gave \"%s\"", small);
	n = printf("test_libc: printf to the console: %d %s %.2f\n", 7, "words", 0.5);
	CHECK(n == (int)strlen("test_libc: printf to the console: 7 words 0.50\n"),
	    "printf returned %d", n);
}

/* ---- conversions ----------------------------------------------------------- */

#define STRTOD(text, expect) do {					\
	double v_ = strtod(text, NULL);					\
	CHECK(v_ == (expect), "strtod(\"%s\") = %.17g (%a), expected %.17g", \
	    text, v_, v_, (double)(expect));				\
} while (0)

static void conversions(void)
{
	char *end;
	double d;

	STRTOD("3.14159", 3.14159);
	STRTOD("1e10", 1e10);
	STRTOD("-2.5e-3", -2.5e-3);
	STRTOD("  +42", 42.0);
	STRTOD("0.1", 0.1);
	STRTOD("0.30000000000000004", 0.30000000000000004);
	STRTOD("6.02214076e23", 6.02214076e23);
	STRTOD("1.7976931348623157e308", DBL_MAX);
	STRTOD("2.2250738585072014e-308", DBL_MIN);
	STRTOD("4.9406564584124654e-324", 4.9406564584124654e-324);
	STRTOD("9007199254740993", 9007199254740992.0);	/* ties to even */
	STRTOD("0x1.8p1", 3.0);
	STRTOD("-0", -0.0);

	d = strtod("123.456e-2xyz", &end);
	CHECK(d == 1.23456 && strcmp(end, "xyz") == 0, "strtod stopped at \"%s\" with %.17g",
	    end, d);
	d = strtod("nothing", &end);
	CHECK(d == 0 && strcmp(end, "nothing") == 0, "strtod consumed \"%s\"", end);
	errno = 0;
	d = strtod("1e400", NULL);
	CHECK(d == HUGE_VAL && errno == ERANGE, "strtod(\"1e400\") = %g, errno %d", d, errno);
	CHECK(isnan(strtod("nan", NULL)), "strtod(\"nan\") is not NaN");
	CHECK(isinf(strtod("-Infinity", NULL)) && strtod("-inf", NULL) < 0,
	    "strtod(\"-Infinity\") is not -inf");
	CHECK(strtof("0.1", NULL) == 0.1f, "strtof(\"0.1\") = %a", (double)strtof("0.1", NULL));
	CHECK(atof("2.5") == 2.5, "atof");

	CHECK(strtol("-123", NULL, 10) == -123, "strtol decimal");
	CHECK(strtol("0x7f", NULL, 16) == 127 && strtol("0x7f", NULL, 0) == 127, "strtol hex");
	CHECK(strtol("0777", NULL, 0) == 511, "strtol octal");
	CHECK(strtoul("4294967296", NULL, 10) == 4294967296UL, "strtoul beyond 32 bits");
	CHECK(strtoull("18446744073709551615", NULL, 10) == ULLONG_MAX, "strtoull max");
	errno = 0;
	CHECK(strtol("99999999999999999999", NULL, 10) == LONG_MAX && errno == ERANGE,
	    "strtol overflow");
	CHECK(atoi("  -17abc") == -17, "atoi");
}

/* ---- sorting ---------------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void sorting(void)
{
	enum { N = 2000 };
	static int v[N];
	const char *words[] = { "pear", "apple", "fig", "banana", "cherry", "apple" };
	uint32_t x = 12345, sum = 0, sum2 = 0;
	int key, *hit;

	for (int i = 0; i < N; i++) {
		x = x * 1103515245 + 12345;
		v[i] = (int)(x >> 8) - (1 << 22);
		sum += (uint32_t)v[i];
	}
	qsort(v, N, sizeof(v[0]), cmp_int);
	for (int i = 0; i < N; i++) {
		sum2 += (uint32_t)v[i];
		if (i > 0 && v[i - 1] > v[i]) {
			CHECK(0, "qsort: v[%d] = %d > v[%d] = %d", i - 1, v[i - 1], i, v[i]);
			break;
		}
	}
	CHECK(sum == sum2, "qsort lost or changed elements");
	key = v[N / 3];
	hit = bsearch(&key, v, N, sizeof(v[0]), cmp_int);
	CHECK(hit != NULL && *hit == key, "bsearch did not find %d", key);

	qsort(words, 6, sizeof(words[0]), cmp_str);
	CHECK(strcmp(words[0], "apple") == 0 && strcmp(words[1], "apple") == 0 &&
	    strcmp(words[2], "banana") == 0 && strcmp(words[5], "pear") == 0,
	    "qsort of strings: %s %s %s ... %s", words[0], words[1], words[2], words[5]);
}

/* ---- strings ---------------------------------------------------------------- */

static void strings(void)
{
	char buf[64], *tok, *save, *dup;
	char text[] = "alpha, beta,,gamma";
	const char *want[] = { "alpha", "beta", "gamma" };
	int ntok = 0;

	CHECK(strlen("limpet") == 6, "strlen");
	CHECK(strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0 && strcmp("x", "x") == 0,
	    "strcmp");
	CHECK(strncmp("abcdef", "abcxyz", 3) == 0, "strncmp");
	CHECK(strcasecmp("HeLLo", "hello") == 0, "strcasecmp");
	strcpy(buf, "unik");
	strcat(buf, "ernel");
	CHECK(strcmp(buf, "unikernel") == 0, "strcpy/strcat gave \"%s\"", buf);
	memset(buf, 'x', sizeof(buf));
	strncpy(buf, "ab", 5);
	CHECK(buf[0] == 'a' && buf[2] == '\0' && buf[4] == '\0' && buf[5] == 'x',
	    "strncpy padding");
	{
		const char *s = "hello";

		CHECK(strchr(s, 'l') == s + 2 && strrchr(s, 'l') == s + 3 &&
		    strchr(s, 'z') == NULL, "strchr/strrchr");
		CHECK(strstr("haystack with needle", "needle") != NULL &&
		    strstr("abc", "abd") == NULL, "strstr");
	}
	for (tok = strtok_r(text, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		CHECK(ntok < 3 && strcmp(tok, want[ntok]) == 0, "strtok_r token %d: \"%s\"",
		    ntok, tok);
		ntok++;
	}
	CHECK(ntok == 3, "strtok_r gave %d tokens", ntok);

	strcpy(buf, "0123456789");
	memmove(buf + 2, buf, 5);
	CHECK(memcmp(buf, "0101234789", 10) == 0, "memmove up: %.10s", buf);
	strcpy(buf, "0123456789");
	memmove(buf, buf + 3, 5);
	CHECK(memcmp(buf, "3456756789", 10) == 0, "memmove down: %.10s", buf);
	CHECK(memcmp("\x01\xff", "\x01\x01", 2) > 0, "memcmp compares unsigned bytes");

	dup = strdup("copy me");
	CHECK(dup != NULL && strcmp(dup, "copy me") == 0, "strdup");
	free(dup);
	CHECK(toupper('q') == 'Q' && isdigit('7') && !isalpha('7') && isspace('\t'), "ctype");
	CHECK(strerror(ENOSYS) != NULL && strlen(strerror(ENOSYS)) > 0, "strerror");
	CHECK(getenv("PATH") == NULL, "getenv(\"PATH\") is set in a unikernel?");
}

/* ---- floating point and libm ----------------------------------------------------- */

static jmp_buf jb;

static void jump(int v)
{
	longjmp(jb, v);
}

static int close_to(double a, double b)
{
	return fabs(a - b) <= 1e-12 * (fabs(b) > 1 ? fabs(b) : 1);
}

static void floating_point(void)
{
	volatile double sum = 0;
	volatile int k;
	volatile int caught;

	for (k = 1; k <= 10000; k++)
		sum += 1.0 / ((double)k * k);
	CHECK(fabs(sum - M_PI * M_PI / 6) < 1.1e-4, "sum of 1/k^2 = %.12f", sum);
	CHECK(close_to(sqrt(2.0) * sqrt(2.0), 2.0), "sqrt(2)^2 = %.17g", sqrt(2.0) * sqrt(2.0));
	CHECK(pow(2.0, 10) == 1024.0, "pow(2, 10) = %g", pow(2.0, 10));
	CHECK(close_to(exp(log(10.0)), 10.0), "exp(log(10)) = %.17g", exp(log(10.0)));
	CHECK(close_to(sin(M_PI / 2), 1.0) && close_to(cos(0.0), 1.0), "sin/cos");
	CHECK(close_to(atan2(1.0, 1.0), M_PI / 4), "atan2");
	CHECK(floor(-2.5) == -3.0 && ceil(2.1) == 3.0 && fabs(-4.0) == 4.0 &&
	    fmod(7.5, 2.0) == 1.5 && round(2.5) == 3.0, "floor/ceil/fabs/fmod/round");
	CHECK((float)sum * 2.0f > 3.28f, "float arithmetic");
	CHECK((long long)(sum * 1e6) == 1644834, "double to integer: %lld",
	    (long long)(sum * 1e6));

	caught = setjmp(jb);
	if (caught == 0)
		jump(5);
	CHECK(caught == 5, "setjmp/longjmp returned %d", caught);
}

/* ---- clocks ------------------------------------------------------------------------- */

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static void clocks(void)
{
	struct timespec a, b;
	struct timeval tv, tv2;
	uint64_t t0;
	time_t now;
	int rc;

	rc = clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK(rc == 0, "clock_gettime(CLOCK_MONOTONIC) failed: errno %d", errno);
	for (int i = 0; i < 1000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (ts_ns(&b) < ts_ns(&a)) {
			CHECK(0, "CLOCK_MONOTONIC went back from %lld to %lld ns",
			    (long long)ts_ns(&a), (long long)ts_ns(&b));
			break;
		}
		CHECK(b.tv_nsec >= 0 && b.tv_nsec < 1000000000, "tv_nsec %ld", b.tv_nsec);
		a = b;
	}
	/* It runs at the speed of the loop's clock. */
	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = limpet_now_ns();
	while (limpet_now_ns() < t0 + 20 * LIMPET_MS)
		;
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(ts_ns(&b) - ts_ns(&a) >= 20000000LL && ts_ns(&b) - ts_ns(&a) < 200000000LL,
	    "20 ms of limpet_now_ns() were %lld ns of CLOCK_MONOTONIC",
	    (long long)(ts_ns(&b) - ts_ns(&a)));
	CHECK(clock_gettime((clockid_t)12345, &a) == -1 && errno == EINVAL,
	    "clock_gettime of a bad clock");

	CHECK(gettimeofday(&tv, NULL) == 0, "gettimeofday failed");
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec %ld", (long)tv.tv_usec);
	CHECK(tv.tv_sec > 1500000000, "gettimeofday says %lld s since 1970: no RTC?",
	    (long long)tv.tv_sec);
	gettimeofday(&tv2, NULL);
	CHECK(tv2.tv_sec > tv.tv_sec || (tv2.tv_sec == tv.tv_sec && tv2.tv_usec >= tv.tv_usec),
	    "gettimeofday went back");
	now = time(NULL);
	CHECK(now >= tv.tv_sec && now <= tv.tv_sec + 2, "time() = %lld, gettimeofday %lld",
	    (long long)now, (long long)tv.tv_sec);
	printf("test_libc: clocks: monotonic ok, wall clock %lld s since 1970\n",
	    (long long)now);
}

/* ---- the calendar and options: what httpd and echo take from newlib ------------- */

static const char *const mnames[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static void calendar(void)
{
	static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = 1970, m = 0, d = 1, wd = 4;	/* 1970-01-01, a Thursday */
	struct tm tm;
	time_t t;

	/* Every day of 1970..9999 (httpd's dates), from the one before. */
	for (t = 0; t <= 253402300799LL; t += 86400) {
		time_t noon = t + 43200 + 7;

		gmtime_r(&noon, &tm);
		if (tm.tm_year + 1900 != y || tm.tm_mon != m || tm.tm_mday != d ||
		    tm.tm_wday != wd || tm.tm_hour != 12 || tm.tm_min != 0 || tm.tm_sec != 7) {
			CHECK(0, "gmtime_r(%lld): %d %s %d (wday %d), expected %d %s %d (wday %d)",
			    (long long)noon, tm.tm_mday, mnames[tm.tm_mon % 12], tm.tm_year + 1900,
			    tm.tm_wday, d, mnames[m], y, wd);
			break;
		}
		wd = (wd + 1) % 7;
		if (++d > mdays[m] + (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))) {
			d = 1;
			if (++m == 12) {
				m = 0;
				y++;
			}
		}
	}
	CHECK(y == 10000 && m == 0 && d == 1, "the sweep stopped at %d-%d-%d", y, m + 1, d);
	t = 784111777;
	gmtime_r(&t, &tm);
	CHECK(tm.tm_year == 94 && tm.tm_mon == 10 && tm.tm_mday == 6 && tm.tm_hour == 8 &&
	    tm.tm_min == 49 && tm.tm_sec == 37 && tm.tm_wday == 0,
	    "gmtime_r(784111777) is not Sun, 06 Nov 1994 08:49:37");
}

/* getopt_long() as the services call it: long options only, "+:" (stop
 * at the first argument that is not an option; ':' for a missing value),
 * opterr 0. */
static int opts(int argc, char **argv, char *out, size_t outsz)
{
	static const struct option o[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "access-log", no_argument, NULL, 'a' },
		{ "no-access-log", no_argument, NULL, 'n' },
		{ "no-stats", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	out[0] = '\0';
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:", o, NULL)) != -1) {
		size_t k = strlen(out);

		snprintf(out + k, outsz - k, "%c%s ", c, c == 'p' ? optarg : "");
		if (c == '?' || c == ':')
			break;			/* as the services stop */
	}
	return optind;
}

#define OPTS(expect, expect_optind, ...) do {				\
	char *argv_[] = { "svc", __VA_ARGS__, NULL };			\
	char out_[128];							\
	int i_ = opts(sizeof(argv_) / sizeof(argv_[0]) - 1, argv_, out_, sizeof(out_)); \
	CHECK(strcmp(out_, expect) == 0 && i_ == (expect_optind),	\
	    "getopt_long(%s) gave \"%s\", optind %d", #__VA_ARGS__, out_, i_); \
} while (0)

static void options(void)
{
	OPTS("p80 a ", 4, "--port", "80", "--access-log");
	OPTS("p80 n ", 3, "--port=80", "--no-access-log");
	OPTS("p80 a ", 4, "--po", "80", "--acc");		/* abbreviated */
	OPTS("p--access-log ", 3, "--port", "--access-log");	/* a value as it is */
	OPTS(": ", 2, "--port");				/* no value: ':' */
	OPTS("? ", 1, "--frob", "--access-log");		/* unknown: '?' */
	OPTS("a ", 2, "--access-log", "x", "--port", "1");	/* stops at "x" */
	OPTS("? ", 1, "--no", "1");				/* ambiguous */
}

/* ---- what a unikernel does not have ------------------------------------------------ */

static void unsupported(void)
{
	struct stat st;
	char c;

	errno = 0;
	CHECK(open("/etc/passwd", O_RDONLY) == -1 && errno == ENOSYS,
	    "open() returned, errno %d (expected ENOSYS)", errno);
	errno = 0;
	CHECK(fopen("/tmp/x", "w") == NULL && errno == ENOSYS, "fopen(): errno %d", errno);
	errno = 0;
	CHECK(fork() == -1 && errno == ENOSYS, "fork(): errno %d", errno);
	errno = 0;
	CHECK(unlink("/tmp/x") == -1 && errno == ENOSYS, "unlink(): errno %d", errno);
	errno = 0;
	CHECK(stat("/", &st) == -1 && errno == ENOSYS, "stat(): errno %d", errno);
	errno = 0;
	CHECK(execve("/bin/sh", NULL, NULL) == -1 && errno == ENOSYS, "execve(): errno %d",
	    errno);
	errno = 0;
	CHECK(write(7, "x", 1) == -1 && errno == EBADF, "write(7): errno %d", errno);
	errno = 0;
	CHECK(read(5, &c, 1) == -1 && errno == EBADF, "read(5): errno %d", errno);
	CHECK(isatty(1) == 1, "stdout is not a tty");
}

int main(void)
{
	formatting();
	conversions();
	sorting();
	strings();
	floating_point();
	clocks();
	calendar();
	options();
	unsupported();
	if (failures > 0) {
		printf("test_libc: %d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("test_libc: all %d checks passed\n", checks);
	printf("test_libc: OK\n");
	return 0;
}
