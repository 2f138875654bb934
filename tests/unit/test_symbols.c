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

/* A blob as the build writes it: header, the syms above, their names. */
static size_t
make_blob(uint64_t *buf, size_t bufsize)
{
	struct symbols_blob h;
	size_t n = 0;

	memcpy(h.magic, SYMBOLS_BLOB_MAGIC, sizeof(h.magic));
	h.nsyms = sizeof(syms) / sizeof(syms[0]);
	h.strs_size = sizeof(strs);
	assert_true(sizeof(h) + sizeof(syms) + sizeof(strs) <= bufsize);
	memcpy((char *)buf + n, &h, sizeof(h));
	n += sizeof(h);
	memcpy((char *)buf + n, syms, sizeof(syms));
	n += sizeof(syms);
	memcpy((char *)buf + n, strs, sizeof(strs));
	return n + sizeof(strs);
}

static void
blob(void **state)
{
	static uint64_t buf[64];
	size_t size = make_blob(buf, sizeof(buf));
	struct symbols_blob *h = (struct symbols_blob *)buf;
	const char *name;
	uint64_t off;

	(void)state;
	symbols_init(NULL, 0, NULL, 0);
	assert_int_equal(symbols_init_blob(buf, size), 0);
	assert_int_equal(symbolize(0x201045, &name, &off), 0);
	assert_string_equal(name, "helper");
	assert_int_equal(off, 5);

	/* Anything short of a whole blob is refused and changes nothing. */
	symbols_init(NULL, 0, NULL, 0);
	assert_int_equal(symbols_init_blob(NULL, size), -1);
	for (size_t cut = 0; cut < size; cut++)
		assert_int_equal(symbols_init_blob(buf, cut), -1);
	h->magic[0] ^= 1;
	assert_int_equal(symbols_init_blob(buf, size), -1);
	h->magic[0] ^= 1;
	h->nsyms = UINT32_MAX;		/* would wrap nsyms * 24 on 32 bits */
	assert_int_equal(symbols_init_blob(buf, size), -1);
	h->nsyms = sizeof(syms) / sizeof(syms[0]);
	h->strs_size = UINT32_MAX;
	assert_int_equal(symbols_init_blob(buf, size), -1);
	assert_int_equal(symbolize(0x201045, &name, &off), -1);
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
		cmocka_unit_test(blob),
	};

	return cmocka_run_group_tests_name("symbols", tests, NULL, NULL);
}
