// unit-sources: kernel/cmdline.c
/* Host unit tests for command-line splitting (kernel/cmdline.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <kernel/cmdline.h>

static struct kargs ka;

static int
parse(const char *line, const char **err)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s", line);
	*err = NULL;
	return cmdline_parse(buf, "svc", &ka, err);
}

static void
empty(void **state)
{
	const char *err;

	(void)state;
	assert_int_equal(parse("", &err), 0);
	assert_int_equal(ka.nkernel, 0);
	assert_int_equal(ka.argc, 1);
	assert_string_equal(ka.argv[0], "svc");
	assert_null(ka.argv[1]);
	assert_int_equal(parse("   \t ", &err), 0);
	assert_int_equal(ka.argc, 1);
}

static void
kernel_and_app(void **state)
{
	const char *err;

	(void)state;
	assert_int_equal(parse("-freq 2000 log=debug quiet -- a b", &err), 0);
	assert_int_equal(ka.nkernel, 3);
	assert_string_equal(ka.kernel[0].key, "freq");
	assert_string_equal(ka.kernel[0].value, "2000");
	assert_string_equal(ka.kernel[1].key, "log");
	assert_string_equal(ka.kernel[1].value, "debug");
	assert_string_equal(ka.kernel[2].key, "quiet");
	assert_string_equal(ka.kernel[2].value, "");
	assert_int_equal(ka.argc, 3);
	assert_string_equal(ka.argv[1], "a");
	assert_string_equal(ka.argv[2], "b");
	assert_null(ka.argv[3]);
}

static void
dash_equals_and_no_separator(void **state)
{
	const char *err;

	(void)state;
	assert_int_equal(parse("-freq=1500 ip=10.0.5.3", &err), 0);
	assert_int_equal(ka.nkernel, 2);
	assert_string_equal(kargs_take(&ka, "freq"), "1500");
	assert_string_equal(kargs_take(&ka, "ip"), "10.0.5.3");
	assert_int_equal(ka.argc, 1);
}

static void
only_app_args(void **state)
{
	const char *err;

	(void)state;
	assert_int_equal(parse("-- -- x=1 -freq", &err), 0);
	assert_int_equal(ka.nkernel, 0);
	assert_int_equal(ka.argc, 4);
	assert_string_equal(ka.argv[1], "--");
	assert_string_equal(ka.argv[2], "x=1");
	assert_string_equal(ka.argv[3], "-freq");
}

static void
quotes_and_escapes(void **state)
{
	const char *err;

	(void)state;
	assert_int_equal(parse("-- \"hello world\" a\\ b \"q\\\"uote\" x\"y z\"w \"\"", &err), 0);
	assert_int_equal(ka.argc, 6);
	assert_string_equal(ka.argv[1], "hello world");
	assert_string_equal(ka.argv[2], "a b");
	assert_string_equal(ka.argv[3], "q\"uote");
	assert_string_equal(ka.argv[4], "xy zw");
	assert_string_equal(ka.argv[5], "");
}

static void
errors(void **state)
{
	const char *err;
	char many[4096] = "--";

	(void)state;
	assert_int_equal(parse("-- \"open", &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "quote"));
	assert_int_equal(parse("-freq", &err), -1);
	assert_non_null(strstr(err, "missing its value"));
	assert_int_equal(parse("-freq -- a", &err), -1);
	for (int i = 0; i < APP_ARGS_MAX + 1; i++)
		strcat(many, " a");
	assert_int_equal(parse(many, &err), -1);
	assert_non_null(err);
}

static void
take_marks_used_last_wins(void **state)
{
	const char *err;

	(void)state;
	assert_int_equal(parse("log=info foo log=warn", &err), 0);
	assert_string_equal(kargs_take(&ka, "log"), "warn");
	assert_true(ka.kernel[0].used);
	assert_false(ka.kernel[1].used);
	assert_true(ka.kernel[2].used);
	assert_null(kargs_take(&ka, "nosuch"));
}

static void
take_all_in_order(void **state)
{
	const char *err, *v[2] = { NULL, NULL };

	(void)state;
	assert_int_equal(parse("dev=a log=info dev=b dev=c", &err), 0);
	assert_int_equal(kargs_take_all(&ka, "dev", v, 2), 3);	/* three, two fit */
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "b");
	assert_true(ka.kernel[0].used && ka.kernel[2].used && ka.kernel[3].used);
	assert_false(ka.kernel[1].used);
	assert_int_equal(kargs_take_all(&ka, "nosuch", v, 2), 0);
}

static void
max_app_args_fit(void **state)
{
	const char *err;
	char line[4096] = "--";

	(void)state;
	for (int i = 0; i < APP_ARGS_MAX; i++)
		strcat(line, " z");
	assert_int_equal(parse(line, &err), 0);
	assert_int_equal(ka.argc, APP_ARGS_MAX + 1);
	assert_null(ka.argv[ka.argc]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty),
		cmocka_unit_test(kernel_and_app),
		cmocka_unit_test(dash_equals_and_no_separator),
		cmocka_unit_test(only_app_args),
		cmocka_unit_test(quotes_and_escapes),
		cmocka_unit_test(errors),
		cmocka_unit_test(take_marks_used_last_wins),
		cmocka_unit_test(take_all_in_order),
		cmocka_unit_test(max_app_args_fit),
	};

	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
