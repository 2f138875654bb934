// unit-sources: net/tls/sni.c
// unit-include: net/tls
/*
 * SNI name matching (net/tls/sni.c): exact names in any case, one-label
 * wildcards, and everything that must not match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sni.h"

static bool
m(const char *pattern, const char *host)
{
	return sni_name_matches(pattern, strlen(pattern), host, strlen(host));
}

static void
exact_names(void **state)
{
	(void)state;
	assert_true(m("example.com", "example.com"));
	assert_true(m("Example.COM", "eXample.com"));
	assert_true(m("a.test", "a.test."));		/* a fully qualified host */
	assert_true(m("localhost", "localhost"));
	assert_false(m("example.com", "example.co"));
	assert_false(m("example.com", "www.example.com"));
	assert_false(m("www.example.com", "example.com"));
	assert_false(m("example.com", "example.com.."));
	assert_false(m("example.com", ""));
	assert_false(m("", ""));
}

static void
wildcards(void **state)
{
	(void)state;
	assert_true(m("*.example.com", "www.example.com"));
	assert_true(m("*.example.com", "WWW.Example.Com"));
	assert_true(m("*.b.test", "a.b.test."));
	/* exactly one label */
	assert_false(m("*.example.com", "example.com"));
	assert_false(m("*.example.com", ".example.com"));
	assert_false(m("*.example.com", "a.b.example.com"));
	/* only as the whole left-most label, never over one label */
	assert_false(m("*.com", "example.com"));
	assert_false(m("w*.example.com", "www.example.com"));
	assert_false(m("www.*.com", "www.example.com"));
	assert_false(m("*", "localhost"));
	assert_false(m("*.", "a."));
	assert_false(m("*.*.example.com", "a.b.example.com"));
	/* the host itself never has a wildcard */
	assert_false(m("*.example.com", "*.example.com"));
	assert_false(m("example.com", "*.com"));
}

static void
hostile_names(void **state)
{
	(void)state;
	/* An embedded NUL (the old certificate-spoofing trick), empty labels. */
	assert_false(sni_name_matches("example.com", 11, "example.com\0.evil", 17));
	assert_false(sni_name_matches("example.com\0.evil", 17, "example.com", 11));
	assert_false(m("a..test", "a..test"));
	assert_false(m(".a.test", ".a.test"));
	assert_false(sni_name_matches(NULL, 0, "a", 1));
	assert_false(sni_name_matches("a", 1, NULL, 0));
	/* lengths are what is compared, not NUL terminators */
	assert_true(sni_name_matches("a.test", 6, "a.testXX", 6));
	assert_false(sni_name_matches("a.test", 6, "a.testXX", 8));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_names),
		cmocka_unit_test(wildcards),
		cmocka_unit_test(hostile_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
