/*
 * test_malloc: newlib's malloc on the kernel's sbrk.
 *
 *   1. stress: thousands of random malloc/realloc/free operations, sizes
 *      1 B .. 1 MiB, every block filled with its own pattern and checked
 *      before it is resized or freed;
 *   2. calloc returns zeroed memory, also memory that was used and freed;
 *   3. out of memory: malloc of more than the RAM returns NULL with
 *      errno ENOMEM (the kernel prints why), and the heap keeps working.
 *
 * Prints "test_malloc: OK" and exits 0, or names each failed check.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <limpet.h>

#define NSLOTS		256
#define NOPS		4000
#define LIVE_MAX	(24u << 20)	/* bytes live at once, well under 64 MiB */
#define MiB		(1u << 20)

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("test_malloc: FAILED (line %d): %s: ", __LINE__, #cond); \
		printf(__VA_ARGS__);					\
		printf("\n");						\
		failures++;						\
	}								\
} while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A size from 1 B to 1 MiB, mostly small as real programs ask. */
static size_t rnd_size(void)
{
	unsigned r = rnd() % 1000;
	size_t max = r < 800 ? 256 : r < 970 ? 16384 : r < 995 ? 256 * 1024 : MiB;

	return 1 + rnd() % max;
}

struct slot {
	uint8_t	*p;
	size_t	size;
	uint8_t	seed;
};

static struct slot slots[NSLOTS];
static size_t live;

static uint8_t pattern(uint8_t seed, size_t i)
{
	return (uint8_t)(seed + i * 7 + (i >> 9));
}

static void fill(struct slot *s)
{
	for (size_t i = 0; i < s->size; i++)
		s->p[i] = pattern(s->seed, i);
}

/* Check the first n bytes of s's block; report the first bad one. */
static int verify(const struct slot *s, size_t n, const char *when)
{
	for (size_t i = 0; i < n; i++) {
		if (s->p[i] != pattern(s->seed, i)) {
			CHECK(0, "%s: block %p (%zu bytes) corrupt at offset %zu: "
			    "0x%02x, expected 0x%02x", when, (void *)s->p, s->size, i,
			    s->p[i], pattern(s->seed, i));
			return -1;
		}
	}
	return 0;
}

static void slot_alloc(struct slot *s, size_t size)
{
	s->p = malloc(size);
	CHECK(s->p != NULL, "malloc(%zu) failed with %zu bytes live", size, live);
	if (s->p == NULL)
		return;
	CHECK(((uintptr_t)s->p & 15) == 0, "malloc(%zu) = %p is not 16-byte aligned",
	    size, (void *)s->p);
	s->size = size;
	s->seed = (uint8_t)rnd();
	fill(s);
	live += size;
}

static void slot_free(struct slot *s)
{
	verify(s, s->size, "before free");
	free(s->p);
	live -= s->size;
	s->p = NULL;
	s->size = 0;
}

static void slot_realloc(struct slot *s, size_t size)
{
	uint8_t *p;
	size_t keep = size < s->size ? size : s->size;

	verify(s, s->size, "before realloc");
	p = realloc(s->p, size);
	CHECK(p != NULL, "realloc(%zu -> %zu) failed", s->size, size);
	if (p == NULL)
		return;
	s->p = p;
	verify(s, keep, "after realloc");
	live = live - s->size + size;
	s->size = size;
	s->seed = (uint8_t)rnd();
	fill(s);
}

static void stress(void)
{
	int nmalloc = 0, nfree = 0, nrealloc = 0;

	/* The extremes first. */
	slot_alloc(&slots[0], 1);
	slot_alloc(&slots[1], MiB);

	for (int op = 0; op < NOPS && failures == 0; op++) {
		struct slot *s = &slots[rnd() % NSLOTS];
		size_t size = rnd_size();

		if (s->p == NULL) {
			if (live + size > LIVE_MAX)
				continue;
			slot_alloc(s, size);
			nmalloc++;
		} else if (rnd() % 4 == 0 && live - s->size + size <= LIVE_MAX) {
			slot_realloc(s, size);
			nrealloc++;
		} else {
			slot_free(s);
			nfree++;
		}
	}
	for (int i = 0; i < NSLOTS; i++)
		if (slots[i].p != NULL)
			slot_free(&slots[i]);
	CHECK(live == 0, "%zu bytes still counted live", live);
	printf("test_malloc: stress: %d mallocs, %d reallocs, %d frees, sizes 1 B..1 MiB\n",
	    nmalloc, nrealloc, nfree);
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void zeroing(void)
{
	static const size_t sizes[] = { 1, 24, 4096, 100000, 3 * MiB };

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		uint8_t *dirty = malloc(n), *z;

		CHECK(dirty != NULL, "malloc(%zu)", n);
		if (dirty == NULL)
			continue;
		memset(dirty, 0xa5, n);
		free(dirty);
		z = calloc(n, 1);
		CHECK(z != NULL, "calloc(%zu, 1)", n);
		if (z != NULL) {
			CHECK(all_zero(z, n), "calloc(%zu, 1) returned memory that is not zero", n);
			free(z);
		}
	}
	{
		/* volatile: keep gcc from rejecting the obviously huge size. */
		volatile size_t count = SIZE_MAX / 2, each = 4;

		CHECK(calloc(count, each) == NULL, "calloc with an overflowing size succeeded");
	}
	printf("test_malloc: calloc: zeroed, also after reuse\n");
}

static void out_of_memory(void)
{
	struct limpet_info before, after;
	size_t huge;
	void *p;
	uint8_t *q;

	limpet_info(&before);
	huge = before.mem_total + 16 * MiB;
	errno = 0;
	p = malloc(huge);
	CHECK(p == NULL, "malloc(%zu) with %llu bytes of RAM succeeded", huge,
	    (unsigned long long)before.mem_total);
	CHECK(errno == ENOMEM, "errno %d after a failed malloc, expected ENOMEM", errno);
	free(p);
	p = malloc((size_t)1 << 40);
	CHECK(p == NULL, "malloc(1 TiB) succeeded");
	free(p);

	/* A failed attempt must not have kept any memory. */
	limpet_info(&after);
	CHECK(after.mem_free + MiB >= before.mem_free, "free RAM went from %llu to %llu KiB "
	    "after failed mallocs", (unsigned long long)(before.mem_free >> 10),
	    (unsigned long long)(after.mem_free >> 10));

	/* And the heap still works, for large and small blocks alike. */
	q = malloc(8 * MiB);
	CHECK(q != NULL, "malloc(8 MiB) after out-of-memory failed");
	if (q != NULL) {
		struct slot s = { q, 8 * MiB, 0x3c };

		fill(&s);
		verify(&s, s.size, "after out of memory");
		free(q);
	}
	q = malloc(100);
	CHECK(q != NULL, "malloc(100) after out-of-memory failed");
	free(q);
	printf("test_malloc: out of memory: NULL with ENOMEM, the heap still works\n");
}

int main(void)
{
	stress();
	zeroing();
	out_of_memory();
	if (failures > 0) {
		printf("test_malloc: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_malloc: OK\n");
	return 0;
}
