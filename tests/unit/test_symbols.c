// unit-sources: kernel/symbols.c
/* Host unit tests for backtrace symbolization (kernel/symbols.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <kernel/symbols.h>

struct sym {
	uint32_t name;
	uint8_t info, other;
	uint16_t shndx;
	uint64_t value, size;
};

#define FUNC	0x12	/* STB_GLOBAL, STT_FUNC */
#define OBJECT	0x11

static const char strs[] = "\0main\0helper\0data\0asm_label\0tail";
static const struct sym syms[] = {
	{ 0, 0, 0, 0, 0, 0 },
	{ 1, FUNC, 0, 1, 0x201000, 0x40 },	/* main */
	{ 6, FUNC, 0, 1, 0x201040, 0x20 },	/* helper */
	{ 13, OBJECT, 0, 2, 0x201050, 0x100 },	/* data: not a function */
	{ 18, FUNC, 0, 1, 0x202000, 0 },	/* asm_label: no size */
	{ 28, FUNC, 0, 1, 0x203000, 0x10 },	/* tail: name at the end */
	{ 9999, FUNC, 0, 1, 0x204000, 0x10 },	/* name outside the table */
};

static struct symtab st = { syms, sizeof(syms) / sizeof(syms[0]), strs, sizeof(strs) };

static void
inside_sized_functions(void **state)
{
	const char *name;
	uint64_t off;

	(void)state;
	assert_int_equal(symtab_lookup(&st, 0x201000, &name, &off), 0);
	assert_string_equal(name, "main");
	assert_int_equal(off, 0);
	assert_int_equal(symtab_lookup(&st, 0x20103f, &name, &off), 0);
	assert_string_equal(name, "main");
	assert_int_equal(off, 0x3f);
	assert_int_equal(symtab_lookup(&st, 0x201045, &name, &off), 0);
	assert_string_equal(name, "helper");
	assert_int_equal(off, 5);
	assert_int_equal(symtab_lookup(&st, 0x20300f, &name, &off), 0);
	assert_string_equal(name, "tail");
}

static void
unsized_label_covers_what_follows(void **state)
{
	const char *name;
	uint64_t off;

	(void)state;
	assert_int_equal(symtab_lookup(&st, 0x202123, &name, &off), 0);
	assert_string_equal(name, "asm_label");
	assert_int_equal(off, 0x123);
}

static void
misses(void **state)
{
	const char *name = NULL;
	uint64_t off;

	(void)state;
	assert_int_equal(symtab_lookup(&st, 0x1000, &name, &off), -1);	/* below all */
	/* Past helper's end, data is an object: nothing but no crash either. */
	assert_int_equal(symtab_lookup(&st, 0x201070, &name, &off), -1);
	/* A name offset outside the string table is never followed: the
	 * nearest usable symbol below (the unsized label) is named instead. */
	assert_int_equal(symtab_lookup(&st, 0x204004, &name, &off), 0);
	assert_string_equal(name, "asm_label");
	assert_int_equal(off, 0x2004);
}

static void
unterminated_string_table(void **state)
{
	static const char bad[] = { 0, 'a', 'b' };	/* no NUL after "ab" */
	static const struct sym one[] = { { 1, FUNC, 0, 1, 0x1000, 0x10 } };
	struct symtab t = { one, 1, bad, sizeof(bad) };
	const char *name;
	uint64_t off;

	(void)state;
	assert_int_equal(symtab_lookup(&t, 0x1004, &name, &off), -1);
}

static void
no_symbols(void **state)
{
	const char *name;
	uint64_t off;

	(void)state;
	symbols_init(NULL, 0, NULL, 0);
	assert_int_equal(symbolize(0x201000, &name, &off), -1);
	symbols_init(syms, sizeof(syms), strs, sizeof(strs));
	assert_int_equal(symbolize(0x201001, &name, &off), 0);
	assert_string_equal(name, "main");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inside_sized_functions),
		cmocka_unit_test(unsized_label_covers_what_follows),
		cmocka_unit_test(misses),
		cmocka_unit_test(unterminated_string_table),
		cmocka_unit_test(no_symbols),
	};

	return cmocka_run_group_tests_name("symbols", tests, NULL, NULL);
}
