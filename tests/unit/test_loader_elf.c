// unit-sources: loader/elf.c loader/fmt.c
/*
 * Host tests for the loader's image checks (loader/elf.c) and its tiny
 * formatter (loader/fmt.c).  Each test builds a small ELF64 image in
 * memory, breaks one thing, and expects elf_check() to refuse it with a
 * message that names the problem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "elf.h"
#include "fmt.h"

/* Our own copies of the ELF64 layouts (gABI); <elf.h> would be the loader's. */
struct ehdr {
	unsigned char	e_ident[16];
	uint16_t	e_type, e_machine;
	uint32_t	e_version;
	uint64_t	e_entry, e_phoff, e_shoff;
	uint32_t	e_flags;
	uint16_t	e_ehsize, e_phentsize, e_phnum;
	uint16_t	e_shentsize, e_shnum, e_shstrndx;
};

struct phdr {
	uint32_t	p_type, p_flags;
	uint64_t	p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

struct shdr {
	uint32_t	sh_name, sh_type;
	uint64_t	sh_flags, sh_addr, sh_offset, sh_size;
	uint32_t	sh_link, sh_info;
	uint64_t	sh_addralign, sh_entsize;
};

/*
 * The test image, 0x3c0 bytes:
 *
 *	0x000	ELF header
 *	0x040	3 program headers: PT_LOAD text, PT_LOAD data+bss, PT_NOTE
 *	0x100	text (0x40 bytes)	-> 0x200000, entry 0x200010
 *	0x140	data (0x20 bytes)	-> 0x201000, memsz 0x1000
 *	0x200	.symtab (3 symbols)
 *	0x260	.strtab (16 bytes)
 *	0x300	3 section headers: null, .symtab, .strtab
 *
 * The loader reads no section header (the image's symbols are in a
 * segment of their own): the section headers and the symbol table are
 * there to be ignored, however they are.
 */
#define FILE_END	0x160		/* the end of the segments' file bytes */
#define IMG_SIZE	0x3c0
#define PHOFF		0x40
#define SYMOFF		0x200
#define STROFF		0x260
#define SHOFF		0x300

struct image {
	unsigned char	b[IMG_SIZE];
};

static struct ehdr *eh(struct image *im)
{
	return (struct ehdr *)im->b;
}

static struct phdr *ph(struct image *im, int i)
{
	return (struct phdr *)(im->b + PHOFF) + i;
}

static struct shdr *sh(struct image *im, int i)
{
	return (struct shdr *)(im->b + SHOFF) + i;
}

static void build(struct image *im)
{
	struct ehdr *e = eh(im);

	memset(im, 0, sizeof *im);
	memcpy(e->e_ident, "\x7f" "ELF", 4);
	e->e_ident[4] = 2;		/* ELFCLASS64 */
	e->e_ident[5] = 1;		/* ELFDATA2LSB */
	e->e_ident[6] = 1;		/* EV_CURRENT */
	e->e_type = 2;			/* ET_EXEC */
	e->e_machine = 62;		/* EM_X86_64 */
	e->e_version = 1;
	e->e_entry = 0x200010;
	e->e_phoff = PHOFF;
	e->e_shoff = SHOFF;
	e->e_ehsize = sizeof *e;
	e->e_phentsize = sizeof(struct phdr);
	e->e_phnum = 3;
	e->e_shentsize = sizeof(struct shdr);
	e->e_shnum = 3;
	e->e_shstrndx = 0;

	*ph(im, 0) = (struct phdr){ .p_type = 1, .p_flags = 5, .p_offset = 0x100,
		.p_vaddr = 0x200000, .p_paddr = 0x200000, .p_filesz = 0x40,
		.p_memsz = 0x40, .p_align = 0x1000 };
	*ph(im, 1) = (struct phdr){ .p_type = 1, .p_flags = 6, .p_offset = 0x140,
		.p_vaddr = 0x201000, .p_paddr = 0x201000, .p_filesz = 0x20,
		.p_memsz = 0x1000, .p_align = 0x1000 };
	*ph(im, 2) = (struct phdr){ .p_type = 4, .p_offset = 0x1000000,
		.p_filesz = 0x10 };	/* PT_NOTE, bogus: must be ignored */

	memset(im->b + 0x100, 0x90, 0x40);
	memcpy(im->b + STROFF, "\0_start\0main\0\0\0", 16);
	*sh(im, 1) = (struct shdr){ .sh_type = 2, .sh_offset = SYMOFF,
		.sh_size = 3 * 24, .sh_link = 2, .sh_entsize = 24 };
	*sh(im, 2) = (struct shdr){ .sh_type = 3, .sh_offset = STROFF,
		.sh_size = 16 };
}

/*
 * Run elf_check on an exact-size heap copy of the first size bytes, so
 * that AddressSanitizer catches any read past the end.
 */
static int check(const struct image *im, uint32_t size, struct elf_info *info,
		 char *err, size_t errlen)
{
	unsigned char *copy = malloc(size ? size : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, im->b, size);
	r = elf_check(copy, size, info, err, errlen);
	free(copy);
	return r;
}

/* Expect a refusal whose message contains want. */
static void expect_error(struct image *im, uint32_t size, const char *want)
{
	struct elf_info info;
	char err[200];

	assert_int_equal(check(im, size, &info, err, sizeof err), -1);
	if (strstr(err, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err, want);
	assert_int_equal(info.nsegs, 0);
}

static void test_valid(void **state)
{
	struct image im;
	struct elf_info info;
	char err[200];

	(void)state;
	build(&im);
	assert_int_equal(check(&im, IMG_SIZE, &info, err, sizeof err), 0);
	assert_string_equal(err, "");
	assert_int_equal(info.entry, 0x200010);
	assert_int_equal(info.nsegs, 2);
	assert_int_equal(info.start, 0x200000);
	assert_int_equal(info.end, 0x202000);
	assert_int_equal(info.seg[0].addr, 0x200000);
	assert_int_equal(info.seg[0].offset, 0x100);
	assert_int_equal(info.seg[0].filesz, 0x40);
	assert_int_equal(info.seg[0].memsz, 0x40);
	assert_int_equal(info.seg[1].addr, 0x201000);
	assert_int_equal(info.seg[1].offset, 0x140);
	assert_int_equal(info.seg[1].filesz, 0x20);
	assert_int_equal(info.seg[1].memsz, 0x1000);
}

static void test_valid_unaligned(void **state)
{
	struct image im;
	struct elf_info info;
	unsigned char *buf = malloc(IMG_SIZE + 1);
	char err[200];

	(void)state;
	build(&im);
	memcpy(buf + 1, im.b, IMG_SIZE);
	assert_int_equal(elf_check(buf + 1, IMG_SIZE, &info, err, sizeof err), 0);
	assert_int_equal(info.nsegs, 2);
	free(buf);
}

/* Expect the image accepted, as test_valid's. */
static void expect_valid(struct image *im, uint32_t size)
{
	struct elf_info info;
	char err[200];

	assert_int_equal(check(im, size, &info, err, sizeof err), 0);
	assert_string_equal(err, "");
	assert_int_equal(info.nsegs, 2);
	assert_int_equal(info.end, 0x202000);
}

/* Stripped, or with section headers and symbol tables of any shape: the
 * loader does not look. */
static void test_section_headers_ignored(void **state)
{
	struct image im;

	(void)state;
	build(&im);
	eh(&im)->e_shoff = 0;
	eh(&im)->e_shnum = 0;
	expect_valid(&im, FILE_END);
	build(&im);
	eh(&im)->e_shentsize = 40;
	expect_valid(&im, IMG_SIZE);
	build(&im);
	eh(&im)->e_shoff = UINT64_MAX - 63;
	expect_valid(&im, IMG_SIZE);
	build(&im);
	sh(&im, 1)->sh_offset = IMG_SIZE - 8;
	sh(&im, 2)->sh_size = UINT64_MAX;
	expect_valid(&im, IMG_SIZE);
	build(&im);
	sh(&im, 1)->sh_link = 1;		/* to itself */
	sh(&im, 1)->sh_entsize = 16;
	expect_valid(&im, IMG_SIZE);
}

/* Every prefix of the image that cuts into its headers or segments leaves
 * something referenced outside; what follows the segments may go. */
static void test_truncated(void **state)
{
	struct image im;
	uint32_t len;

	(void)state;
	build(&im);
	expect_error(&im, 0, "no ELF magic");
	expect_error(&im, 3, "no ELF magic");
	expect_error(&im, 4, "truncated: 4 bytes");
	expect_error(&im, 63, "truncated: 63 bytes");
	expect_error(&im, 64, "program headers at offset 0x40");
	expect_error(&im, 0x100, "segment 0 (offset 0x100, 0x40 bytes) lies "
		     "outside the file (256 bytes)");
	expect_error(&im, 0x150, "segment 1");
	for (len = 0; len < FILE_END; len++)
		expect_error(&im, len, "");
	for (; len <= IMG_SIZE; len++)
		expect_valid(&im, len);
}

static void test_bad_magic(void **state)
{
	struct image im;

	(void)state;
	build(&im);
	im.b[1] = 'e';
	expect_error(&im, IMG_SIZE, "no ELF magic");
	build(&im);
	memcpy(im.b, "hello, world\n", 13);
	expect_error(&im, IMG_SIZE, "not an ELF64 x86_64 executable");
}

static void test_wrong_kind(void **state)
{
	struct image im;

	(void)state;
	build(&im);
	eh(&im)->e_ident[4] = 1;		/* ELFCLASS32 */
	expect_error(&im, IMG_SIZE, "ELF class 1");
	build(&im);
	eh(&im)->e_ident[5] = 2;		/* ELFDATA2MSB */
	expect_error(&im, IMG_SIZE, "data encoding 2");
	build(&im);
	eh(&im)->e_ident[6] = 0;
	expect_error(&im, IMG_SIZE, "ELF version 0");
	build(&im);
	eh(&im)->e_machine = 3;			/* EM_386 */
	expect_error(&im, IMG_SIZE, "machine 3, want 62");
	build(&im);
	eh(&im)->e_machine = 183;		/* EM_AARCH64 */
	expect_error(&im, IMG_SIZE, "machine 183");
	build(&im);
	eh(&im)->e_type = 3;			/* ET_DYN */
	expect_error(&im, IMG_SIZE, "ET_DYN");
	build(&im);
	eh(&im)->e_type = 1;			/* ET_REL */
	expect_error(&im, IMG_SIZE, "type 1, want 2");
}

static void test_phdr_table(void **state)
{
	struct image im;

	(void)state;
	build(&im);
	eh(&im)->e_phentsize = 32;
	expect_error(&im, IMG_SIZE, "program header size is 32");
	build(&im);
	eh(&im)->e_phnum = 0;
	expect_error(&im, IMG_SIZE, "0 program headers");
	build(&im);
	eh(&im)->e_phnum = ELF_MAX_PHNUM + 1;
	expect_error(&im, IMG_SIZE, "65 program headers");
	build(&im);
	eh(&im)->e_phoff = IMG_SIZE - 100;
	expect_error(&im, IMG_SIZE, "program headers at offset 0x35c");
	build(&im);
	eh(&im)->e_phoff = IMG_SIZE + 1;
	expect_error(&im, IMG_SIZE, "lie outside the file");
	build(&im);
	eh(&im)->e_phoff = UINT64_MAX - 8;	/* phoff + size wraps */
	expect_error(&im, IMG_SIZE, "lie outside the file");
}

static void test_segment_file_range(void **state)
{
	struct image im;

	(void)state;
	build(&im);
	ph(&im, 1)->p_offset = IMG_SIZE;	/* starts at the end */
	expect_error(&im, IMG_SIZE, "segment 1 (offset 0x3c0, 0x20 bytes) "
		     "lies outside the file (960 bytes)");
	build(&im);
	ph(&im, 1)->p_filesz = IMG_SIZE;	/* runs past the end */
	ph(&im, 1)->p_memsz = 0x10000;
	expect_error(&im, IMG_SIZE, "segment 1");
	build(&im);
	ph(&im, 0)->p_offset = UINT64_MAX - 0x10;	/* offset + filesz wraps */
	expect_error(&im, IMG_SIZE, "segment 0 (offset 0xffffffffffffffef");
	build(&im);
	ph(&im, 0)->p_filesz = UINT64_MAX;
	ph(&im, 0)->p_memsz = UINT64_MAX;
	expect_error(&im, IMG_SIZE, "lies outside the file");
}

static void test_segment_sizes(void **state)
{
	struct image im;

	(void)state;
	build(&im);
	ph(&im, 1)->p_memsz = 0x10;
	expect_error(&im, IMG_SIZE, "segment 1 has filesz 0x20 > memsz 0x10");

	/* paddr + memsz beyond 2^64. */
	build(&im);
	ph(&im, 1)->p_paddr = ph(&im, 1)->p_vaddr = 0xfffffffffffff000;
	ph(&im, 1)->p_memsz = 0x2000;
	expect_error(&im, IMG_SIZE, "segment 1 at 0xfffffffffffff000 (0x2000 "
		     "bytes) overflows");
	build(&im);
	ph(&im, 0)->p_memsz = UINT64_MAX;
	expect_error(&im, IMG_SIZE, "segment 0 at 0x200000");

	/* An exclusive end of exactly 2^64 does not fit in 64 bits either. */
	build(&im);
	ph(&im, 1)->p_paddr = ph(&im, 1)->p_vaddr = 0xfffffffffffff000;
	expect_error(&im, IMG_SIZE, "overflows");
}

static void test_segment_layout(void **state)
{
	struct image im;
	struct elf_info info;
	char err[200];
	int i;

	(void)state;
	build(&im);
	ph(&im, 1)->p_vaddr = 0xffffffff80201000;
	expect_error(&im, IMG_SIZE, "vaddr 0xffffffff80201000 != paddr 0x201000");
	build(&im);
	ph(&im, 1)->p_paddr = ph(&im, 1)->p_vaddr = 0x200020;	/* overlaps 0 */
	expect_error(&im, IMG_SIZE, "segment 1 at 0x200020 overlaps");
	build(&im);
	ph(&im, 1)->p_paddr = ph(&im, 1)->p_vaddr = 0x100000;	/* out of order */
	expect_error(&im, IMG_SIZE, "precedes");
	build(&im);
	ph(&im, 0)->p_type = ph(&im, 1)->p_type = 6;		/* PT_PHDR */
	expect_error(&im, IMG_SIZE, "no loadable segment");
	build(&im);
	eh(&im)->e_entry = 0x201010;	/* in data: fine */
	assert_int_equal(check(&im, IMG_SIZE, &info, err, sizeof err), 0);
	eh(&im)->e_entry = 0x201800;	/* in bss */
	expect_error(&im, IMG_SIZE, "entry point 0x201800");
	eh(&im)->e_entry = 0x100;
	expect_error(&im, IMG_SIZE, "entry point 0x100");

	/* An empty PT_LOAD is left out, even at an odd address. */
	build(&im);
	ph(&im, 2)->p_type = 1;
	ph(&im, 2)->p_offset = 0;
	ph(&im, 2)->p_paddr = ph(&im, 2)->p_vaddr = 0x1000;
	ph(&im, 2)->p_filesz = 0;
	ph(&im, 2)->p_memsz = 0;
	assert_int_equal(check(&im, IMG_SIZE, &info, err, sizeof err), 0);
	assert_int_equal(info.nsegs, 2);
	assert_int_equal(info.start, 0x200000);

	/* More segments than the loader takes. */
	build(&im);
	eh(&im)->e_phoff = 0x400;
	{
		static unsigned char big[0x400 + 17 * 56];
		struct phdr p;

		memcpy(big, im.b, IMG_SIZE);
		for (i = 0; i < 17; i++) {
			p = (struct phdr){ .p_type = 1, .p_offset = 0x100,
				.p_vaddr = 0x200000 + i * 0x1000,
				.p_paddr = 0x200000 + i * 0x1000,
				.p_filesz = 0x40, .p_memsz = 0x40 };
			memcpy(big + 0x400 + i * 56, &p, sizeof p);
		}
		((struct ehdr *)big)->e_phnum = 17;
		((struct ehdr *)big)->e_shoff = 0;
		assert_int_equal(elf_check(big, sizeof big, &info, err,
					   sizeof err), -1);
		assert_non_null(strstr(err, "more than 16 loadable segments"));
		((struct ehdr *)big)->e_phnum = 16;
		assert_int_equal(elf_check(big, sizeof big, &info, err,
					   sizeof err), 0);
		assert_int_equal(info.nsegs, 16);
		assert_int_equal(info.end, 0x210000 - 0x1000 + 0x40);
	}
}

static void test_error_buffer(void **state)
{
	struct image im;
	struct elf_info info;
	char err[8];

	(void)state;
	build(&im);
	eh(&im)->e_machine = 3;
	memset(err, 'x', sizeof err);
	assert_int_equal(check(&im, IMG_SIZE, &info, err, sizeof err), -1);
	assert_string_equal(err, "image i");
	assert_int_equal(check(&im, IMG_SIZE, &info, NULL, 0), -1);
}

static void test_fmt(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(fmt_snprintf(buf, sizeof buf, "%s=%u 0x%x 0x%llx %c%%",
				      "a", 4294967295u, 0xbeefu,
				      FMT_U64(0xfedcba9876543210ull), 'z'), 41);
	assert_string_equal(buf, "a=4294967295 0xbeef 0xfedcba9876543210 z%");
	assert_int_equal(fmt_snprintf(buf, sizeof buf, "%u %x %llx", 0u, 0u,
				      FMT_U64(0)), 5);
	assert_string_equal(buf, "0 0 0");
	assert_int_equal(fmt_snprintf(buf, 5, "%s", "abcdefgh"), 4);
	assert_string_equal(buf, "abcd");
	assert_int_equal(fmt_snprintf(buf, 1, "abc"), 0);
	assert_string_equal(buf, "");
	buf[0] = 'q';
	assert_int_equal(fmt_snprintf(buf, 0, "abc"), 0);
	assert_int_equal(buf[0], 'q');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_valid_unaligned),
		cmocka_unit_test(test_section_headers_ignored),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_wrong_kind),
		cmocka_unit_test(test_phdr_table),
		cmocka_unit_test(test_segment_file_range),
		cmocka_unit_test(test_segment_sizes),
		cmocka_unit_test(test_segment_layout),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_fmt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
