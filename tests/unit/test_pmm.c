// unit-sources: kernel/pmm.c
/* Host unit tests for the page-frame allocator (kernel/pmm.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kernel/mm.h>

#define NPAGES	1000	/* not a multiple of 64: exercises the last word */

static struct pmm p;
static uint64_t bitmap[(NPAGES + 63) / 64];

static int
setup(void **state)
{
	(void)state;
	pmm_setup(&p, bitmap, 0, NPAGES);
	return 0;
}

static void
starts_all_used(void **state)
{
	(void)state;
	assert_int_equal(pmm_bitmap_bytes(NPAGES), sizeof(bitmap));
	assert_int_equal(p.nfree, 0);
	assert_int_equal(pmm_alloc(&p, 1, 1), 0);
}

static void
free_range_rounds_inward(void **state)
{
	(void)state;
	/* [0x1800, 0x5800): only the whole pages 2, 3, 4 become free. */
	pmm_free_range(&p, 0x1800, 0x4000);
	assert_int_equal(p.nfree, 3);
	assert_int_equal(p.total, 3);
	assert_int_equal(pmm_alloc(&p, 1, 1), 0x2000);
	assert_int_equal(pmm_alloc(&p, 2, 1), 0x3000);
	assert_int_equal(pmm_alloc(&p, 1, 1), 0);
	assert_int_equal(p.nfree, 0);
}

static void
reserve_rounds_outward(void **state)
{
	(void)state;
	pmm_free_range(&p, 0, NPAGES * PAGE_SIZE);
	assert_int_equal(p.nfree, NPAGES);
	pmm_reserve_range(&p, 0x1fff, 2);	/* touches pages 1 and 2 */
	assert_int_equal(p.nfree, NPAGES - 2);
	pmm_reserve_range(&p, 0x1000, 0x2000);	/* already reserved: no change */
	assert_int_equal(p.nfree, NPAGES - 2);
	assert_int_equal(p.total, NPAGES);
	pmm_reserve_range(&p, 0, 1);		/* page 0: never handed out */
	assert_int_equal(pmm_alloc(&p, 1, 1), 0x3000);
}

/* Ranges that start and end inside bitmap words and span whole ones:
 * each frame's state matches a frame-by-frame model, and the counts only
 * move by the frames that changed. */
static void
ranges_across_words(void **state)
{
	static const struct { uint64_t first, last; int free; } ops[] = {
		{ 60, 200, 1 }, { 63, 64, 0 }, { 0, 64, 1 }, { 100, 192, 0 },
		{ 128, 129, 1 }, { 190, 700, 1 }, { 1, 999, 0 }, { 0, 1000, 1 },
		{ 64, 128, 0 }, { 62, 131, 0 },
	};
	char model[NPAGES] = { 0 };	/* 1 = free */
	uint64_t nfree = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		uint64_t addr = ops[k].first * PAGE_SIZE;
		uint64_t len = (ops[k].last - ops[k].first) * PAGE_SIZE;

		if (ops[k].free)
			pmm_free_range(&p, addr, len);
		else
			pmm_reserve_range(&p, addr, len);
		for (uint64_t i = ops[k].first; i < ops[k].last; i++) {
			nfree += ops[k].free && !model[i];
			nfree -= !ops[k].free && model[i];
			model[i] = (char)ops[k].free;
		}
		assert_int_equal(p.nfree, nfree);
		for (uint64_t i = 0; i < NPAGES; i++)
			assert_int_equal(!((p.bitmap[i / 64] >> (i % 64)) & 1), model[i]);
	}
}

static void
clips_to_the_map(void **state)
{
	(void)state;
	/* Beyond the end, and wrapping round the address space. */
	pmm_free_range(&p, (NPAGES - 2) * PAGE_SIZE, 100 * PAGE_SIZE);
	assert_int_equal(p.nfree, 2);
	pmm_free_range(&p, UINT64_MAX - PAGE_SIZE, 4 * PAGE_SIZE);
	assert_int_equal(p.nfree, 2);
	pmm_reserve_range(&p, UINT64_MAX - PAGE_SIZE, 4 * PAGE_SIZE);
	assert_int_equal(p.nfree, 2);
}

static void
contiguous_and_aligned(void **state)
{
	uint64_t a;

	(void)state;
	pmm_free_range(&p, 0, NPAGES * PAGE_SIZE);
	pmm_reserve_range(&p, 0, PAGE_SIZE);
	a = pmm_alloc(&p, 3, 1);
	assert_int_equal(a, 0x1000);
	a = pmm_alloc(&p, 4, 16);
	assert_int_equal(a % (16 * PAGE_SIZE), 0);
	assert_int_equal(a, 16 * PAGE_SIZE);
	assert_int_equal(pmm_alloc(&p, 1, 3), 0);	/* not a power of two */
	assert_int_equal(pmm_alloc(&p, 0, 1), 0);
	assert_int_equal(pmm_alloc(&p, NPAGES, 1), 0);	/* more than is free */
}

static void
holes_are_skipped(void **state)
{
	(void)state;
	pmm_free_range(&p, 0, NPAGES * PAGE_SIZE);
	pmm_reserve_range(&p, 0, PAGE_SIZE);
	/* Free pages alternate between used and free from 1 to 199. */
	for (uint64_t i = 1; i < 200; i += 2)
		pmm_reserve_range(&p, i * PAGE_SIZE, PAGE_SIZE);
	uint64_t a = pmm_alloc(&p, 2, 1);
	assert_int_equal(a, 200 * PAGE_SIZE);
}

static void
release_and_reuse(void **state)
{
	uint64_t pages[NPAGES];
	size_t n = 0;

	(void)state;
	pmm_free_range(&p, PAGE_SIZE, (NPAGES - 1) * PAGE_SIZE);
	while ((pages[n] = pmm_alloc(&p, 1, 1)) != 0)
		n++;
	assert_int_equal(n, NPAGES - 1);
	assert_int_equal(p.nfree, 0);
	/* Every page distinct and inside the map. */
	for (size_t i = 0; i < n; i++) {
		assert_true(pages[i] >= PAGE_SIZE && pages[i] < NPAGES * PAGE_SIZE);
		assert_int_equal(pages[i] % PAGE_SIZE, 0);
		if (i > 0)
			assert_true(pages[i] > pages[i - 1]);
	}
	pmm_release(&p, pages[500], 1);
	pmm_release(&p, pages[10], 1);
	assert_int_equal(p.nfree, 2);
	assert_int_equal(pmm_alloc(&p, 1, 1), pages[10]);
	assert_int_equal(pmm_alloc(&p, 1, 1), pages[500]);
	pmm_release(&p, pages[20], 1);
	pmm_release(&p, pages[20], 1);		/* double release: counted once */
	assert_int_equal(p.nfree, 1);
}

static void
random_stress(void **state)
{
	struct { uint64_t a, n; } live[200];
	int nlive = 0;

	(void)state;
	srand(7);
	pmm_free_range(&p, PAGE_SIZE, (NPAGES - 1) * PAGE_SIZE);
	for (int it = 0; it < 20000; it++) {
		if (nlive < 200 && (rand() % 2 || nlive == 0)) {
			uint64_t n = 1 + rand() % 8, align = 1u << (rand() % 3);
			uint64_t a = pmm_alloc(&p, n, align);

			if (a == 0)
				continue;
			assert_int_equal(a % (align * PAGE_SIZE), 0);
			for (int i = 0; i < nlive; i++)	/* no overlap */
				assert_true(a + n * PAGE_SIZE <= live[i].a ||
				    live[i].a + live[i].n * PAGE_SIZE <= a);
			live[nlive].a = a;
			live[nlive++].n = n;
		} else {
			int k = rand() % nlive;

			pmm_release(&p, live[k].a, live[k].n);
			live[k] = live[--nlive];
		}
	}
	uint64_t held = 0;
	for (int i = 0; i < nlive; i++)
		held += live[i].n;
	assert_int_equal(p.nfree + held, NPAGES - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(starts_all_used, setup),
		cmocka_unit_test_setup(free_range_rounds_inward, setup),
		cmocka_unit_test_setup(reserve_rounds_outward, setup),
		cmocka_unit_test_setup(ranges_across_words, setup),
		cmocka_unit_test_setup(clips_to_the_map, setup),
		cmocka_unit_test_setup(contiguous_and_aligned, setup),
		cmocka_unit_test_setup(holes_are_skipped, setup),
		cmocka_unit_test_setup(release_and_reuse, setup),
		cmocka_unit_test_setup(random_stress, setup),
	};

	return cmocka_run_group_tests_name("pmm", tests, NULL, NULL);
}
