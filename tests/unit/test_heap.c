// unit-sources: net/port/heap.c
// unit-include: net/port
/*
 * Host unit tests for lwIP's heap (net/port/heap.c), the two-level
 * segregated fit allocator behind mem_clib_malloc and mem_clib_free:
 *
 *  - init refuses regions too small to hold a block and the end marker,
 *    accepts any start alignment, and a refused init leaves no heap;
 *  - malloc(0), requests larger than the heap and calloc whose count times
 *    size overflows give NULL without touching the heap; calloc zeroes a
 *    block that held data;
 *  - freeing merges a block with the free block after it, before it, and
 *    both, in every order, back into the one block of the whole heap;
 *  - good fit: a freed block is reused for a request of its size class,
 *    and the smallest hole large enough is taken before larger ones;
 *  - exhaustion and fragmentation: a heap full of small blocks, half of
 *    them freed, serves small requests but not large ones until the rest
 *    is freed;
 *  - 200,000 random mallocs, callocs and frees of 1 byte to 64 KiB against
 *    a shadow table of the live blocks: each is aligned, inside the region,
 *    clear of every other, charged what its size asks, and keeps the
 *    pattern written into it until freed; a request fails only when no
 *    free block is within 1/16 of it; the free bytes are the gaps between
 *    live blocks; and limpet_heap_check() holds throughout;
 *  - a region larger than the heap's limit (a sparse mapping).
 *
 * Every region is carved out of a larger host buffer whose bytes around it
 * hold a canary, checked when the region is released.  The tests know what
 * heap.c documents of its layout: a used block is a two-word header then
 * the payload, a free block also holds two list links, blocks are
 * multiples of 16 bytes, and the heap ends with a header of size 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "heap.h"

#define ALIGN		16u
#define HDR		(2 * sizeof(size_t))		/* a used block's header */
#define MIN_BLOCK	(HDR + 2 * sizeof(void *))	/* a free block's header and links */
#define CANARY		0xa5

/* The block a request of n bytes takes at least: header included, rounded
 * to ALIGN, never smaller than a free block.  The allocator may hand out
 * up to MIN_BLOCK - ALIGN bytes more: a rest too small to be a block. */
static size_t block_bytes(size_t n)
{
	size_t s = (n + HDR + ALIGN - 1) & ~(size_t)(ALIGN - 1);

	return s < MIN_BLOCK ? MIN_BLOCK : s;
}

static int aligned(const void *p)
{
	return (uintptr_t)p % ALIGN == 0;
}

/* ---- regions ---------------------------------------------------------- */

struct region {
	uint8_t	*host;		/* from malloc, the canary around the region */
	size_t	host_bytes;
	uint8_t	*mem;		/* the heap's memory, misaligned as asked */
	size_t	bytes;
};

static void region_new(struct region *r, size_t bytes, unsigned misalign)
{
	uintptr_t a;

	r->host_bytes = bytes + 2 * ALIGN;
	r->host = malloc(r->host_bytes);
	assert_non_null(r->host);
	memset(r->host, CANARY, r->host_bytes);
	a = ((uintptr_t)r->host + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
	r->mem = (uint8_t *)a + misalign % ALIGN;
	r->bytes = bytes;
}

/* Nothing was written outside [mem, mem + bytes). */
static void region_release(struct region *r)
{
	for (uint8_t *b = r->host; b < r->host + r->host_bytes; b++)
		if ((b < r->mem || b >= r->mem + r->bytes) && *b != CANARY)
			fail_msg("byte %td outside the region written",
				 b < r->mem ? b - r->mem : b - (r->mem + r->bytes));
	free(r->host);
	r->host = NULL;
}

/* Where the heap's first block starts: the first aligned byte. */
static uint8_t *heap_lo(const struct region *r)
{
	return (uint8_t *)(((uintptr_t)r->mem + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
}

static int in_region(const struct region *r, const uint8_t *p, size_t n)
{
	return p >= r->mem && p <= r->mem + r->bytes && n <= (size_t)(r->mem + r->bytes - p);
}

static void heap_on(struct region *r, size_t bytes, unsigned misalign)
{
	region_new(r, bytes, misalign);
	assert_int_equal(limpet_heap_init(r->mem, r->bytes), 0);
	assert_int_equal(limpet_heap_check(), 0);
	assert_int_equal(limpet_heap_free_bytes(), limpet_heap_size());
}

/* ---- init --------------------------------------------------------------- */

/* Every start alignment and every size up to 128 bytes: under 48 bytes
 * (header and links of one block, and the end marker) is refused, from 63
 * on (the same after 15 bytes of padding) accepted, and an accepted heap
 * lies in its region and serves a byte. */
static void test_init_small(void **state)
{
	(void)state;
	for (unsigned mis = 0; mis < ALIGN; mis++) {
		int accepted = 0;

		for (size_t bytes = 0; bytes <= 128; bytes++) {
			struct region r;
			int rc;

			region_new(&r, bytes, mis);
			rc = limpet_heap_init(r.mem, r.bytes);
			assert_true(rc == 0 || rc == -1);
			if (bytes < 2 * HDR + 2 * sizeof(void *))
				assert_int_equal(rc, -1);
			if (bytes >= 2 * HDR + 2 * sizeof(void *) + ALIGN - 1)
				assert_int_equal(rc, 0);
			if (accepted)
				assert_int_equal(rc, 0);	/* larger is never refused */
			if (rc == 0) {
				size_t size = limpet_heap_size();
				uint8_t *p;

				accepted = 1;
				assert_true(size >= MIN_BLOCK);
				assert_int_equal(size % ALIGN, 0);
				assert_int_equal(limpet_heap_free_bytes(), size);
				assert_true(in_region(&r, heap_lo(&r), size + HDR));
				assert_int_equal(limpet_heap_check(), 0);
				p = limpet_heap_malloc(1);
				assert_non_null(p);
				assert_true(aligned(p));
				assert_true(in_region(&r, p, 1));
				*p = 0x5a;
				assert_int_equal(limpet_heap_check(), 0);
				limpet_heap_free(p);
				assert_int_equal(limpet_heap_free_bytes(), size);
				assert_int_equal(limpet_heap_check(), 0);
			} else {
				assert_int_equal(limpet_heap_size(), 0);
				assert_int_equal(limpet_heap_free_bytes(), 0);
				assert_null(limpet_heap_malloc(1));
				assert_null(limpet_heap_calloc(1, 1));
			}
			region_release(&r);
		}
		assert_true(accepted);
	}
}

/* A refused init forgets the heap there was; NULL memory is refused. */
static void test_init_refused(void **state)
{
	struct region r;

	(void)state;
	heap_on(&r, 4096, 0);
	assert_non_null(limpet_heap_malloc(100));
	assert_int_equal(limpet_heap_init(r.mem, 16), -1);
	assert_int_equal(limpet_heap_size(), 0);
	assert_null(limpet_heap_malloc(1));
	assert_int_equal(limpet_heap_init(NULL, 4096), -1);
	assert_null(limpet_heap_malloc(1));
	region_release(&r);
}

/* A larger region at every misalignment: size and free bytes sane, the
 * blocks aligned and inside. */
static void test_init_unaligned(void **state)
{
	(void)state;
	for (unsigned mis = 0; mis < ALIGN; mis++) {
		struct region r;
		uint8_t *p[8];
		size_t size;

		heap_on(&r, 10000 + mis * 7, mis);
		size = limpet_heap_size();
		assert_int_equal(size % ALIGN, 0);
		assert_true(size + HDR <= r.bytes);
		assert_true(size + HDR + 2 * ALIGN > r.bytes);	/* loses only alignment */
		for (int i = 0; i < 8; i++) {
			size_t n = 1 + (size_t)i * 311;

			p[i] = limpet_heap_malloc(n);
			assert_non_null(p[i]);
			assert_true(aligned(p[i]));
			assert_true(in_region(&r, p[i], n));
			memset(p[i], i, n);
		}
		assert_int_equal(limpet_heap_check(), 0);
		for (int i = 0; i < 8; i += 2)
			limpet_heap_free(p[i]);
		for (int i = 7; i > 0; i -= 2)
			limpet_heap_free(p[i]);
		assert_int_equal(limpet_heap_free_bytes(), size);
		assert_int_equal(limpet_heap_check(), 0);
		region_release(&r);
	}
}

/* ---- malloc and calloc edges -------------------------------------------- */

static void test_malloc_edges(void **state)
{
	struct region r;
	size_t size;

	(void)state;
	heap_on(&r, 65536 + 5, 3);
	size = limpet_heap_size();
	assert_null(limpet_heap_malloc(0));
	assert_null(limpet_heap_malloc(size));		/* no room for its header */
	assert_null(limpet_heap_malloc(size - HDR + 1));
	assert_null(limpet_heap_malloc(size + 1));
	assert_null(limpet_heap_malloc(SIZE_MAX));
	assert_null(limpet_heap_malloc(SIZE_MAX - HDR + 1));	/* rounds to 0 if unchecked */
	assert_null(limpet_heap_malloc(SIZE_MAX / 2 + 1));
	limpet_heap_free(NULL);
	assert_int_equal(limpet_heap_free_bytes(), size);
	assert_int_equal(limpet_heap_check(), 0);
	region_release(&r);
}

static void test_calloc_edges(void **state)
{
	static const size_t tries[][2] = {
		{ 1000, 1 }, { 1, 1000 }, { 10, 100 }, { 3, 333 }, { 1, 1 },
	};
	const size_t half = (size_t)1 << (sizeof(size_t) * 4);	/* half * half overflows */
	struct region r;
	size_t size;

	(void)state;
	heap_on(&r, 65536, 0);
	size = limpet_heap_size();

	/* count * size overflows: NULL, the heap untouched. */
	assert_null(limpet_heap_calloc(SIZE_MAX / 2 + 1, 2));
	assert_null(limpet_heap_calloc(2, SIZE_MAX / 2 + 1));
	assert_null(limpet_heap_calloc(SIZE_MAX, SIZE_MAX));
	assert_null(limpet_heap_calloc(half, half));
	/* No overflow (SIZE_MAX exactly, twice the heap), but too large. */
	assert_null(limpet_heap_calloc(half + 1, half - 1));
	assert_null(limpet_heap_calloc(size, 2));
	assert_int_equal(limpet_heap_free_bytes(), size);
	assert_int_equal(limpet_heap_check(), 0);

	/* Each time the block the dirty one was: it must come back zeroed. */
	for (size_t t = 0; t < sizeof(tries) / sizeof(tries[0]); t++) {
		size_t n = tries[t][0] * tries[t][1];
		uint8_t *p = limpet_heap_malloc(1000), *q;

		assert_non_null(p);
		memset(p, 0xaa, 1000);
		limpet_heap_free(p);
		q = limpet_heap_calloc(tries[t][0], tries[t][1]);
		assert_ptr_equal(q, p);
		for (size_t i = 0; i < n; i++)
			if (q[i] != 0)
				fail_msg("calloc(%zu, %zu): byte %zu is %#x", tries[t][0], tries[t][1], i, q[i]);
		limpet_heap_free(q);
	}
	assert_int_equal(limpet_heap_free_bytes(), size);
	assert_int_equal(limpet_heap_check(), 0);
	region_release(&r);
}

/* ---- merging, good fit, exhaustion ----------------------------------------- */

/* A 64 KiB heap cut into four 16 KiB blocks, freed in each of the 24
 * orders: each free merges with whichever neighbours are free, and the
 * last leaves the whole heap as one block again. */
static void test_coalesce(void **state)
{
	enum { QUARTER = 16384 };
	struct region r;

	(void)state;
	region_new(&r, 4 * QUARTER + HDR, 0);
	for (unsigned perm = 0; perm < 24; perm++) {
		unsigned avail[4] = { 0, 1, 2, 3 }, order[4], m = perm, navail = 4;
		uint8_t *b[4];

		for (unsigned j = 0, f = 6; j < 4; j++) {
			unsigned k = m / f;

			m %= f;
			order[j] = avail[k];
			memmove(&avail[k], &avail[k + 1], (--navail - k) * sizeof(avail[0]));
			if (j < 3)
				f /= 3 - j;
		}
		assert_int_equal(limpet_heap_init(r.mem, r.bytes), 0);
		assert_int_equal(limpet_heap_size(), 4 * QUARTER);
		for (int i = 0; i < 4; i++) {
			b[i] = limpet_heap_malloc(QUARTER - HDR);
			assert_non_null(b[i]);
			memset(b[i], 0x11 * (i + 1), QUARTER - HDR);
		}
		assert_int_equal(limpet_heap_free_bytes(), 0);
		assert_null(limpet_heap_malloc(1));
		for (int j = 0; j < 4; j++) {
			limpet_heap_free(b[order[j]]);
			assert_int_equal(limpet_heap_check(), 0);
			assert_int_equal(limpet_heap_free_bytes(), (size_t)(j + 1) * QUARTER);
		}
		b[0] = limpet_heap_malloc(4 * QUARTER - HDR);
		assert_ptr_equal(b[0], heap_lo(&r) + HDR);
		limpet_heap_free(b[0]);
		assert_int_equal(limpet_heap_check(), 0);
	}
	region_release(&r);
}

/*
 * A freed block B between two used ones comes back for a request of the
 * same size, and two freed neighbours merged come back before the rest of
 * the heap: for sizes at the start of their size class (all blocks under
 * 256 bytes, and 1 KiB, 1.5 KiB, 4 KiB, 16 KiB, 64 KiB) and in the middle
 * of one (1500 bytes, a 1520-byte block, as lwIP's full frames), which
 * the check of the request's own list finds.
 */
static void test_good_fit_reuse(void **state)
{
	static const size_t sizes[] = {
		1, 16, 17, 40, 100, 200, 240, 1024 - HDR, 1500, 1536 - HDR, 4096 - HDR,
		16384 - HDR, 65536 - HDR,
	};
	struct region r;

	(void)state;
	region_new(&r, 1 << 20, 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		uint8_t *a, *b, *c, *p;

		assert_int_equal(limpet_heap_init(r.mem, r.bytes), 0);
		a = limpet_heap_malloc(n);
		b = limpet_heap_malloc(n);
		c = limpet_heap_malloc(n);
		assert_non_null(a);
		assert_non_null(b);
		assert_non_null(c);
		limpet_heap_free(b);
		p = limpet_heap_malloc(n);
		if (p != b)
			fail_msg("malloc(%zu): freed block %p not reused, got %p", n, (void *)b, (void *)p);
		limpet_heap_free(a);
		limpet_heap_free(p);		/* a and b merged */
		assert_int_equal(limpet_heap_check(), 0);
		p = limpet_heap_malloc(n);
		if (p != a)
			fail_msg("malloc(%zu): merged hole %p not reused, got %p", n, (void *)a, (void *)p);
		assert_int_equal(limpet_heap_check(), 0);
	}
	region_release(&r);
}

/* Holes of 4 KiB, 1 KiB and 64 bytes, in that order of address, and the
 * rest of the heap after them: each request takes the smallest hole that
 * holds it, not the first. */
static void test_good_fit_smallest(void **state)
{
	static const size_t holes[3] = { 4096, 1024, 64 };
	uint8_t *hole[3], *sep[3];
	struct region r;

	(void)state;
	heap_on(&r, 1 << 20, 0);
	for (int i = 0; i < 3; i++) {
		hole[i] = limpet_heap_malloc(holes[i] - HDR);
		sep[i] = limpet_heap_malloc(100);
		assert_non_null(hole[i]);
		assert_non_null(sep[i]);
	}
	for (int i = 0; i < 3; i++)
		limpet_heap_free(hole[i]);
	assert_int_equal(limpet_heap_check(), 0);
	assert_ptr_equal(limpet_heap_malloc(48), hole[2]);
	assert_ptr_equal(limpet_heap_malloc(1000), hole[1]);
	assert_ptr_equal(limpet_heap_malloc(4096 - HDR), hole[0]);
	assert_int_equal(limpet_heap_check(), 0);
	region_release(&r);
}

/* Full of 64-byte blocks; every other one freed: half the heap is free,
 * small requests are served from the holes, a 1 KiB one is not, until
 * the rest is freed. */
static void test_exhaustion(void **state)
{
	enum { SMALL = 48, LARGE = 1000 };
	struct region r;
	uint8_t **blk, *p;
	size_t size, count = 0, max;

	(void)state;
	heap_on(&r, 65536 + HDR, 0);
	size = limpet_heap_size();
	assert_int_equal(size, 65536);		/* a size class of its own: see the end */
	max = size / block_bytes(SMALL) + 1;
	blk = calloc(max, sizeof(*blk));
	assert_non_null(blk);
	while ((p = limpet_heap_malloc(SMALL)) != NULL) {
		assert_true(count < max);
		assert_true(in_region(&r, p, SMALL));
		memset(p, 0x3c, SMALL);
		blk[count++] = p;
	}
	assert_true(limpet_heap_free_bytes() < block_bytes(SMALL));
	assert_true(count >= size / block_bytes(SMALL) - 1);
	assert_int_equal(limpet_heap_check(), 0);

	for (size_t i = 0; i < count; i += 2)
		limpet_heap_free(blk[i]);
	assert_int_equal(limpet_heap_check(), 0);
	assert_true(limpet_heap_free_bytes() >= size / 2 - block_bytes(SMALL));

	p = limpet_heap_malloc(SMALL);
	assert_non_null(p);
	{
		size_t i;

		for (i = 0; i < count; i += 2)
			if (blk[i] == p)
				break;
		assert_true(i < count);		/* one of the holes */
	}
	assert_null(limpet_heap_malloc(LARGE));
	assert_true(limpet_heap_free_bytes() > 16 * block_bytes(LARGE));
	assert_int_equal(limpet_heap_check(), 0);

	limpet_heap_free(p);
	for (size_t i = 1; i < count; i += 2)
		limpet_heap_free(blk[i]);
	assert_int_equal(limpet_heap_free_bytes(), size);
	assert_int_equal(limpet_heap_check(), 0);
	p = limpet_heap_malloc(LARGE);
	assert_non_null(p);
	limpet_heap_free(p);
	p = limpet_heap_malloc(size - HDR);		/* the whole heap, one block */
	assert_ptr_equal(p, heap_lo(&r) + HDR);
	limpet_heap_free(p);
	assert_int_equal(limpet_heap_check(), 0);
	free(blk);
	region_release(&r);
}

/* ---- random operations against a shadow table ------------------------------ */

#define SLOTS		2048
#define OPS		200000
#define CHECK_EVERY	256		/* limpet_heap_check and the gaps */
#define VERIFY_EVERY	16384		/* every live block's pattern */
#define SEED		0x1e7a5eedc0ffee01ull

struct live {
	uint8_t		*p;		/* NULL: the slot is empty */
	size_t		n, charged;	/* asked for; taken from the free bytes */
	uint64_t	id;
};

static struct {
	struct region	r;
	uint64_t	rng, next_id;
	size_t		op, nulls, peak_live, peak_bytes, live_bytes;
	struct live	slot[SLOTS];
	uint16_t	by_addr[SLOTS];	/* the live slots, by address */
	size_t		nlive;
} sh;

static uint64_t rnd(void)		/* xorshift64 */
{
	sh.rng ^= sh.rng << 13;
	sh.rng ^= sh.rng >> 7;
	sh.rng ^= sh.rng << 17;
	return sh.rng;
}

/* Mostly the headers lwIP allocates (40 to 300 bytes), some frames' worth
 * (about 1.5 KiB), a few tiny and medium ones, rarely up to 64 KiB. */
static size_t random_size(void)
{
	unsigned r = (unsigned)(rnd() % 100);

	if (r < 70)
		return 40 + rnd() % 261;
	if (r < 75)
		return 1 + rnd() % 39;
	if (r < 90)
		return 1400 + rnd() % 201;
	if (r < 98)
		return 301 + rnd() % (8192 - 300);
	return 8193 + rnd() % (65536 - 8192);
}

static uint64_t pattern(uint64_t id, size_t word)
{
	uint64_t x = id * 0x9e3779b97f4a7c15ull + word;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 29);
}

static void fill(uint8_t *p, size_t n, uint64_t id)
{
	size_t i;
	uint64_t w;

	for (i = 0; i + 8 <= n; i += 8) {
		w = pattern(id, i / 8);
		memcpy(p + i, &w, 8);
	}
	w = pattern(id, i / 8);
	memcpy(p + i, &w, n - i);
}

static void verify(const struct live *b)
{
	size_t i;
	uint64_t w;

	for (i = 0; i + 8 <= b->n; i += 8) {
		w = pattern(b->id, i / 8);
		if (memcmp(b->p + i, &w, 8) != 0)
			break;
	}
	w = pattern(b->id, i / 8);
	if (memcmp(b->p + i, &w, b->n - i < 8 ? b->n - i : 8) != 0)
		fail_msg("op %zu: block %" PRIu64 " (%zu bytes at %p) overwritten near byte %zu",
			 sh.op, b->id, b->n, (void *)b->p, i);
}

/* The first position in by_addr whose block is at p or after. */
static size_t addr_pos(const uint8_t *p)
{
	size_t lo = 0, hi = sh.nlive;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sh.slot[sh.by_addr[mid]].p < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A block's extent, header included. */
static uint8_t *ext_lo(const struct live *b)
{
	return b->p - HDR;
}

static uint8_t *ext_hi(const struct live *b)
{
	return b->p - HDR + b->charged;
}

static void shadow_add(unsigned k)
{
	const struct live *b = &sh.slot[k];
	size_t i = addr_pos(b->p);

	if (i > 0 && ext_hi(&sh.slot[sh.by_addr[i - 1]]) > ext_lo(b))
		fail_msg("op %zu: block at %p overlaps the live one at %p",
			 sh.op, (void *)b->p, (void *)sh.slot[sh.by_addr[i - 1]].p);
	if (i < sh.nlive && ext_hi(b) > ext_lo(&sh.slot[sh.by_addr[i]]))
		fail_msg("op %zu: block at %p overlaps the live one at %p",
			 sh.op, (void *)b->p, (void *)sh.slot[sh.by_addr[i]].p);
	memmove(&sh.by_addr[i + 1], &sh.by_addr[i], (sh.nlive - i) * sizeof(sh.by_addr[0]));
	sh.by_addr[i] = (uint16_t)k;
	sh.nlive++;
}

static void shadow_remove(unsigned k)
{
	size_t i = addr_pos(sh.slot[k].p);

	assert_true(i < sh.nlive && sh.by_addr[i] == k);
	memmove(&sh.by_addr[i], &sh.by_addr[i + 1], (sh.nlive - i - 1) * sizeof(sh.by_addr[0]));
	sh.nlive--;
}

/* The gaps between live blocks are the free blocks: their sum is the free
 * bytes, and the largest is returned. */
static size_t gaps(void)
{
	uint8_t *at = heap_lo(&sh.r), *end = at + limpet_heap_size();
	size_t sum = 0, largest = 0;

	for (size_t i = 0; i <= sh.nlive; i++) {
		uint8_t *next = i < sh.nlive ? ext_lo(&sh.slot[sh.by_addr[i]]) : end;
		size_t gap;

		assert_true(next >= at);
		gap = (size_t)(next - at);
		sum += gap;
		if (gap > largest)
			largest = gap;
		if (i < sh.nlive)
			at = ext_hi(&sh.slot[sh.by_addr[i]]);
	}
	if (sum != limpet_heap_free_bytes())
		fail_msg("op %zu: %zu bytes between live blocks, free_bytes says %zu",
			 sh.op, sum, limpet_heap_free_bytes());
	return largest;
}

static void random_alloc(unsigned k)
{
	struct live *b = &sh.slot[k];
	size_t n = random_size(), s = block_bytes(n);
	size_t before = limpet_heap_free_bytes(), charged;
	int zeroed = rnd() % 16 == 0;
	uint8_t *p;

	if (zeroed)
		p = n % 2 ? limpet_heap_calloc(1, n) : limpet_heap_calloc(n / 2, 2);
	else
		p = limpet_heap_malloc(n);
	if (p == NULL) {
		size_t largest = gaps();

		if (limpet_heap_free_bytes() != before)
			fail_msg("op %zu: a failed malloc changed the free bytes", sh.op);
		/* Good fit: a free block within 1/16 of the request serves it. */
		if (largest >= s + s / 16)
			fail_msg("op %zu: malloc(%zu) failed with a free block of %zu",
				 sh.op, n, largest);
		sh.nulls++;
		return;
	}
	charged = before - limpet_heap_free_bytes();
	if (!aligned(p) || !in_region(&sh.r, p, n))
		fail_msg("op %zu: malloc(%zu) gave %p, misaligned or outside", sh.op, n, (void *)p);
	if (charged < s || charged > s + MIN_BLOCK - ALIGN)
		fail_msg("op %zu: malloc(%zu) took %zu free bytes", sh.op, n, charged);
	if (p - HDR < heap_lo(&sh.r) ||
	    p - HDR + charged > heap_lo(&sh.r) + limpet_heap_size())
		fail_msg("op %zu: block at %p outside the heap", sh.op, (void *)p);
	if (zeroed)
		for (size_t i = 0; i < n; i++)
			if (p[i] != 0)
				fail_msg("op %zu: calloc of %zu: byte %zu not zero", sh.op, n, i);
	*b = (struct live){ p, n, charged, ++sh.next_id };
	fill(p, n, b->id);
	shadow_add(k);
	sh.live_bytes += charged;
	if (sh.nlive > sh.peak_live)
		sh.peak_live = sh.nlive;
	if (sh.live_bytes > sh.peak_bytes)
		sh.peak_bytes = sh.live_bytes;
}

static void random_free(unsigned k)
{
	struct live *b = &sh.slot[k];
	size_t before = limpet_heap_free_bytes();

	verify(b);
	shadow_remove(k);
	limpet_heap_free(b->p);
	if (limpet_heap_free_bytes() - before != b->charged)
		fail_msg("op %zu: free of a %zu-byte block gave back %zu", sh.op,
			 b->charged, limpet_heap_free_bytes() - before);
	sh.live_bytes -= b->charged;
	b->p = NULL;
}

static void check_all(void)
{
	int rc = limpet_heap_check();

	if (rc != 0)
		fail_msg("op %zu: limpet_heap_check() = %d", sh.op, rc);
	(void)gaps();
}

/* A 1 MiB heap, misaligned: 2,048 slots, each operation picks one, fills
 * it if empty, frees it if not.  Half full, the slots hold more than the
 * heap, so requests fail too. */
static void test_random(void **state)
{
	size_t size;
	uint8_t *p;

	(void)state;
	memset(&sh, 0, sizeof(sh));
	sh.rng = SEED;
	heap_on(&sh.r, (1 << 20) + 37, 5);
	size = limpet_heap_size();

	for (sh.op = 0; sh.op < OPS; sh.op++) {
		unsigned k = (unsigned)(rnd() % SLOTS);

		if (sh.slot[k].p == NULL)
			random_alloc(k);
		else
			random_free(k);
		if (sh.op % CHECK_EVERY == 0)
			check_all();
		if (sh.op % VERIFY_EVERY == 0)
			for (size_t i = 0; i < sh.nlive; i++)
				verify(&sh.slot[sh.by_addr[i]]);
	}
	check_all();
	print_message("%d operations: peak %zu blocks, %zu of %zu bytes; %zu requests failed\n",
		      OPS, sh.peak_live, sh.peak_bytes, size, sh.nulls);
	assert_true(sh.nulls > 0);		/* the heap did run out */
	assert_true(sh.peak_bytes > size / 2);

	/* Everything freed: all merged back into one block. */
	for (unsigned k = 0; k < SLOTS; k++)
		if (sh.slot[k].p != NULL)
			random_free(k);
	assert_int_equal(sh.nlive, 0);
	assert_int_equal(limpet_heap_free_bytes(), size);
	assert_int_equal(limpet_heap_check(), 0);
	p = limpet_heap_malloc(size - size / 16 - HDR);
	assert_ptr_equal(p, heap_lo(&sh.r) + HDR);
	limpet_heap_free(p);
	assert_int_equal(limpet_heap_check(), 0);
	region_release(&sh.r);
}

/* ---- a region larger than the heap's limit ---------------------------------- */

/* 1 TiB of address space, reserved but never backed (skipped where the
 * system refuses it): more than the size classes index (blocks under
 * 512 GiB), so the heap takes only part of it; it writes only headers,
 * and requests above its size fail rather than index past the classes. */
static void test_huge_region(void **state)
{
	const size_t bytes = (size_t)1 << 40;
	size_t size;
	uint8_t *mem, *p;

	(void)state;
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		skip();
	assert_int_equal(limpet_heap_init(mem, bytes), 0);
	size = limpet_heap_size();
	assert_true(size > 0 && size <= bytes - HDR);
	assert_int_equal(size % ALIGN, 0);
	assert_int_equal(limpet_heap_free_bytes(), size);
	assert_int_equal(limpet_heap_check(), 0);
	assert_null(limpet_heap_malloc(size));
	assert_null(limpet_heap_malloc(size + 1));
	assert_null(limpet_heap_malloc(bytes));
	p = limpet_heap_malloc(size - size / 16 - HDR);
	assert_non_null(p);
	assert_true(aligned(p) && p >= mem && p + (size - size / 16 - HDR) <= mem + bytes);
	p[0] = 1;
	p[size - size / 16 - HDR - 1] = 1;
	assert_int_equal(limpet_heap_check(), 0);
	limpet_heap_free(p);
	assert_int_equal(limpet_heap_free_bytes(), size);
	assert_int_equal(limpet_heap_check(), 0);
	assert_int_equal(munmap(mem, bytes), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_small),
		cmocka_unit_test(test_init_refused),
		cmocka_unit_test(test_init_unaligned),
		cmocka_unit_test(test_malloc_edges),
		cmocka_unit_test(test_calloc_edges),
		cmocka_unit_test(test_coalesce),
		cmocka_unit_test(test_good_fit_reuse),
		cmocka_unit_test(test_good_fit_smallest),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_huge_region),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
