// unit-sources: kernel/kprintf.c
/* Host unit tests for the kernel's printf (kernel/kprintf.c), checked
 * against the host's snprintf for the conversions both know. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <kernel/log.h>

#define CHECK(...) do {							\
	char want[256], got[256];					\
	int wn = snprintf(want, sizeof(want), __VA_ARGS__);		\
	int gn = ksnprintf(got, sizeof(got), __VA_ARGS__);		\
	assert_string_equal(got, want);					\
	assert_int_equal(gn, wn);					\
} while (0)

static void
integers(void **state)
{
	(void)state;
	CHECK("%d %d %d", 0, -1, 2147483647);
	CHECK("%i", -2147483647 - 1);
	CHECK("%u %x %X", 4294967295u, 0xdeadbeefu, 0xabcu);
	CHECK("%ld %lu %lx", -5L, 123456789012UL, 0xfffffffffUL);
	CHECK("%lld %llu", -9223372036854775807LL - 1, 18446744073709551615ULL);
	CHECK("%zu %zx", (size_t)42, (size_t)0x1f);
}

static void
widths_and_flags(void **state)
{
	(void)state;
	CHECK("[%5d] [%-5d] [%05d]", 42, 42, 42);
	CHECK("[%05d] [%5d]", -42, -42);
	CHECK("[%016llx]", 0x1234ULL);
	CHECK("[%*d] [%-*d]", 6, 7, 6, 7);
	CHECK("[%8s] [%-8s] [%.2s] [%c]", "ab", "ab", "abcdef", 'z');
	CHECK("[%-2d]", 12345);
	CHECK("%%");
}

static void
pointers_and_null(void **state)
{
	const char *volatile null = NULL;
	char got[64];

	(void)state;
	ksnprintf(got, sizeof(got), "%p", (void *)0x201000);
	assert_string_equal(got, "0x201000");
	ksnprintf(got, sizeof(got), "%s", null);
	assert_string_equal(got, "(null)");
}

static void
truncation(void **state)
{
	char small[8];

	(void)state;
	memset(small, 'x', sizeof(small));
	assert_int_equal(ksnprintf(small, sizeof(small), "%s", "0123456789"), 10);
	assert_string_equal(small, "0123456");
	assert_int_equal(ksnprintf(small, 1, "abc"), 3);
	assert_string_equal(small, "");
	assert_int_equal(ksnprintf(NULL, 0, "%d", 12345), 5);
}

/* Deliberately malformed formats: the compiler rightly objects to them. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
static void
unknown_conversion_is_shown(void **state)
{
	char got[32];

	(void)state;
	ksnprintf(got, sizeof(got), "a%qb");
	assert_string_equal(got, "a%qb");
	ksnprintf(got, sizeof(got), "end%");
	assert_string_equal(got, "end");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(integers),
		cmocka_unit_test(widths_and_flags),
		cmocka_unit_test(pointers_and_null),
		cmocka_unit_test(truncation),
		cmocka_unit_test(unknown_conversion_is_shown),
	};

	return cmocka_run_group_tests_name("kprintf", tests, NULL, NULL);
}
