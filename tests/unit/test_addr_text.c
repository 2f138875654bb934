// unit-sources: net/addr_text.c
// unit-include: net
/*
 * Host unit tests of net/addr_text.c, the strict parsers of the address
 * kernel arguments (ip=, gateway=, mask=, ip6=, gateway6=): against the
 * C library's inet_pton() on fixed cases and on random strings made of
 * the characters an address has (they must agree on every one: accept
 * the same strings, giving the same bytes, except that a dotted quad's
 * "010" is decimal to us and refused by glibc), and RFC 4291's own
 * examples.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "addr_text.h"

/* A dotted quad's part with a leading zero, "01": glibc refuses it
 * (octal or decimal?); ours, as the kernel always has, reads decimal. */
static int
leading_zero(const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		if (*p == '0' && p[1] >= '0' && p[1] <= '9' &&
		    (p == s || p[-1] == '.' || p[-1] == ':') && strchr(s, '.') != NULL)
			return 1;
	return 0;
}

/* ours (parse, into n bytes) and inet_pton(af) agree on s. */
static void
agree(const char *s, int af, int (*parse)(const char *, uint8_t *), size_t n)
{
	uint8_t a[16], b[16];
	int ours = parse(s, a) == 0;
	int libc = inet_pton(af, s, b) == 1;

	if (ours && !libc && leading_zero(s))
		return;
	if (ours != libc)
		fail_msg("\"%s\": ours %s, inet_pton %s", s, ours ? "takes it" : "refuses it",
		    libc ? "takes it" : "refuses it");
	if (ours)
		assert_memory_equal(a, b, n);
}

static int
parse6(const char *s, uint8_t *out)
{
	return addr6_parse(s, out);
}

static int
parse4(const char *s, uint8_t *out)
{
	return addr4_parse(s, out);
}

static void
agree6(const char *s)
{
	agree(s, AF_INET6, parse6, 16);
}

static void
agree4(const char *s)
{
	agree(s, AF_INET, parse4, 4);
}

static void
fixed6(void **state)
{
	static const char *const cases[] = {
		/* RFC 4291 2.2's examples */
		"ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", "2001:DB8:0:0:8:800:200C:417A",
		"2001:DB8::8:800:200C:417A", "FF01::101", "::1", "::", "0:0:0:0:0:0:13.1.68.3",
		"::13.1.68.3", "::FFFF:129.144.52.38", "::ffff:129.144.52.38",
		/* ours */
		"fd00:5::3", "fe80::5054:ff:fe12:3456", "1::", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7:8", "1::8", "0::0", "1:2:3:4:5:6:1.2.3.4", "1::1.2.3.4",
		/* not addresses */
		"", ":", ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
		"12345::", "g::", "::g", "1:", ":1", "1::2:", " ::1", "::1 ", "[::1]", "::1%eth0",
		"fd00:5::3/64", "1.2.3.4", "::1.2.3", "::1.2.3.4.5", "::256.1.1.1", "1:2:3:4:5:6:7:1.2.3.4",
		"::1.2.3.4:5", "::01.2.3.4", "1::2:3:4:5:6:7:8", "::ffff:1.2.3.04", "1:2:3:4:5:6:7:8::",
		"::1:2:3:4:5:6:7:8", "-1::", "0x1::", "::1.2.3.4.",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		agree6(cases[i]);
}

static void
fixed4(void **state)
{
	static const char *const cases[] = {
		"10.0.5.3", "0.0.0.0", "255.255.255.255", "1.2.3.4", "256.1.1.1", "1.2.3",
		"1.2.3.4.5", "01.2.3.4", "1.2.3.4 ", " 1.2.3.4", "1..2.3", "a.b.c.d", "1.2.3.-4",
		"", "1.2.3.4.", "0x1.2.3.4", "1.2.3.0004", "10.5",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		agree4(cases[i]);
}

/* Random strings over an address's characters, biased towards shapes that
 * are nearly addresses: the two must agree on each. */
static void
random6(void **state)
{
	static const char chars[] = "0123456789abcdefABCDEF::::::...g";
	char s[48];
	unsigned x = 2024;

	(void)state;
	for (int i = 0; i < 400000; i++) {
		size_t n;

		x = x * 1103515245u + 12345u;
		n = (x >> 16) % 41;
		for (size_t k = 0; k < n; k++) {
			x = x * 1103515245u + 12345u;
			s[k] = chars[(x >> 16) % (sizeof(chars) - 1)];
		}
		s[n] = '\0';
		agree6(s);
	}
}

/* Every address printed the ways inet_ntop() and a full form print it
 * comes back. */
static void
round_trip6(void **state)
{
	unsigned x = 7;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		uint8_t a[16], b[16];
		char t[INET6_ADDRSTRLEN], full[40];

		for (int k = 0; k < 16; k++) {
			x = x * 1103515245u + 12345u;
			/* Runs of zeros, so that "::" appears. */
			a[k] = (x >> 16) % 3 == 0 ? 0 : (uint8_t)(x >> 20);
		}
		assert_non_null(inet_ntop(AF_INET6, a, t, sizeof(t)));
		assert_int_equal(addr6_parse(t, b), 0);
		assert_memory_equal(a, b, 16);
		snprintf(full, sizeof(full), "%x:%x:%x:%x:%x:%x:%x:%x",
		    a[0] << 8 | a[1], a[2] << 8 | a[3], a[4] << 8 | a[5], a[6] << 8 | a[7],
		    a[8] << 8 | a[9], a[10] << 8 | a[11], a[12] << 8 | a[13], a[14] << 8 | a[15]);
		assert_int_equal(addr6_parse(full, b), 0);
		assert_memory_equal(a, b, 16);
	}
}

static void
prefixes(void **state)
{
	uint8_t a[16], want[16];
	unsigned len;

	(void)state;
	assert_int_equal(addr6_parse_prefix("fd00:5::3/64", a, &len), 0);
	assert_int_equal(inet_pton(AF_INET6, "fd00:5::3", want), 1);
	assert_memory_equal(a, want, 16);
	assert_int_equal(len, 64);
	assert_int_equal(addr6_parse_prefix("::1/128", a, &len), 0);
	assert_int_equal(len, 128);
	assert_int_equal(addr6_parse_prefix("::/0", a, &len), 0);
	assert_int_equal(len, 0);
	static const char *const bad[] = {
		"fd00:5::3", "fd00:5::3/", "fd00:5::3/129", "fd00:5::3/064", "fd00:5::3/6 4",
		"fd00:5::3/64/64", "/64", "fd00:5::3/-1", "fd00:5::3/1000000000000", "fd00:5::g/64",
		"fd00:5::3 /64", "fd00:0000:0000:0000:0000:0000:0000:0000:0000:0000:0003/64",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (addr6_parse_prefix(bad[i], a, &len) == 0)
			fail_msg("\"%s\" taken as a prefix", bad[i]);
}

static void
same_prefix(void **state)
{
	uint8_t a[16], b[16];

	(void)state;
	inet_pton(AF_INET6, "fd00:5::3", a);
	inet_pton(AF_INET6, "fd00:5::1", b);
	assert_true(addr6_same_prefix(a, b, 64));
	assert_true(addr6_same_prefix(a, b, 126));
	assert_false(addr6_same_prefix(a, b, 127));
	assert_false(addr6_same_prefix(a, b, 128));
	assert_true(addr6_same_prefix(a, b, 0));
	inet_pton(AF_INET6, "fd00:4::3", b);
	assert_true(addr6_same_prefix(a, b, 31));
	assert_false(addr6_same_prefix(a, b, 32));
	assert_false(addr6_same_prefix(a, b, 64));
	inet_pton(AF_INET6, "fd00:5:0:0:8000::", b);
	assert_true(addr6_same_prefix(a, b, 64));
	assert_false(addr6_same_prefix(a, b, 65));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixed6),
		cmocka_unit_test(fixed4),
		cmocka_unit_test(random6),
		cmocka_unit_test(round_trip6),
		cmocka_unit_test(prefixes),
		cmocka_unit_test(same_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
