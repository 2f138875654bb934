/*
 * lwIP's heap (PBUF_RAM pbufs: the headers of zero-copy sends, data
 * written with TCP_WRITE_FLAG_COPY, ICMP replies, frames copied when the
 * receive pool runs low), in constant time: a two-level segregated fit
 * allocator (TLSF: Masmano, Ripoll, Crespo and Real, "TLSF: a new dynamic
 * memory allocator for real-time systems", ECRTS 2004), written here from
 * the paper's description, over the block of pages net/port/pools.c
 * reserves for the heap.  lwIP calls it through MEM_LIBC_MALLOC's hooks
 * (mem_clib_malloc and mem_clib_free in lwipopts.h); lwIP's own mem.c
 * keeps counting the bytes in use (MEM_STATS).
 *
 * Why: lwIP's own heap is first fit over one list of every block, used or
 * free, from the lowest free one.  With thousands of connections each
 * holding a few blocks (the headers of segments not yet acknowledged),
 * the free holes lie between thousands of used blocks, and an allocation
 * walked past them: at 10,000 kept-alive connections under TCG, most of
 * the guest's time went there (sampled with QEMU's monitor), and httpd
 * answered 5,000 requests a second where it answers 30,000 at 512.
 *
 * Blocks: a header of two words, the block's size with two flags in its
 * low bits (this block free; the block before it free) and, in a free
 * block, the address of the block before it, so that a block freed next
 * to free ones merges with both.  A free block also holds the links of
 * its free list after the header.  Free blocks are kept in lists by size
 * class: first by the highest set bit of the size, then by the next
 * SL_BITS bits below it (sizes under SMALL_MAX by steps of ALIGN), with a
 * bitmap of which lists are not empty at each level, so finding a list
 * with a block large enough takes two find-first-set instructions.  A
 * request takes the first block of its own list if that one is large
 * enough, else the first block of the first non-empty list whose every
 * block is large enough (good fit: within 1/16 of the best), and the rest
 * of the block, when large enough to be one, goes back as a free block.
 * Freeing merges with free neighbours.  The heap ends with a used block
 * of size 0, so that no block looks past it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "heap.h"

#define ALIGN		16u			/* of blocks and of what malloc returns */
#define HDR		(2 * sizeof(size_t))	/* the header of a used block */
#define MIN_BLOCK	(HDR + 2 * sizeof(void *))	/* a free block's header and links */
#define SL_BITS		4
#define SL_COUNT	(1u << SL_BITS)
#define SMALL_MAX	(SL_COUNT * ALIGN)	/* 256: sizes below go by steps of ALIGN */
#define FL_SHIFT	8			/* log2(SMALL_MAX) */
#define FL_COUNT	32			/* one bit each in fl_bitmap */
#define HEAP_MAX	((size_t)1 << (FL_COUNT + FL_SHIFT - 2))	/* 256 GiB */

#define F_FREE		((size_t)1)		/* this block is free */
#define F_PREV_FREE	((size_t)2)		/* the block before it is free */
#define F_MASK		(F_FREE | F_PREV_FREE)

/*
 * A block.  prev_phys is only valid while the block before is free (it
 * is written when that block becomes free); size is the block's, header
 * included, a multiple of ALIGN, with the flags.  A used block's payload
 * starts after the two words; a free block's first two payload words are
 * its list links.
 */
struct block {
	struct block	*prev_phys;
	size_t		size;
	struct block	*next_free, *prev_free;	/* free blocks only */
};

_Static_assert(sizeof(struct block) == MIN_BLOCK, "a free block is its header and links");
_Static_assert(HDR % ALIGN == 0, "the payload of an aligned block is aligned");

static struct heap {
	uint32_t	fl_bitmap;
	uint32_t	sl_bitmap[FL_COUNT];
	struct block	*lists[FL_COUNT][SL_COUNT];
	uint8_t		*start, *end;
	size_t		free_bytes, size;
} heap;

static size_t
size_of(const struct block *b)
{
	return b->size & ~F_MASK;
}

static struct block *
next_phys(const struct block *b)
{
	return (struct block *)((uint8_t *)b + size_of(b));
}

static int
fls_size(size_t x)			/* index of the highest set bit; x > 0 */
{
	return (int)(sizeof(x) * 8 - 1) - __builtin_clzl(x);
}

/* The list a free block of `size` bytes belongs in. */
static void
mapping(size_t size, unsigned *fl, unsigned *sl)
{
	if (size < SMALL_MAX) {
		*fl = 0;
		*sl = (unsigned)(size / ALIGN);
	} else {
		int b = fls_size(size);

		*fl = (unsigned)(b - FL_SHIFT + 1);
		*sl = (unsigned)(size >> (b - SL_BITS)) & (SL_COUNT - 1);
	}
}

static void
insert(struct block *b)
{
	unsigned fl, sl;

	mapping(size_of(b), &fl, &sl);
	b->prev_free = NULL;
	b->next_free = heap.lists[fl][sl];
	if (b->next_free != NULL)
		b->next_free->prev_free = b;
	heap.lists[fl][sl] = b;
	heap.fl_bitmap |= 1u << fl;
	heap.sl_bitmap[fl] |= 1u << sl;
}

static void
unlink_free(struct block *b)
{
	unsigned fl, sl;

	mapping(size_of(b), &fl, &sl);
	if (b->prev_free != NULL)
		b->prev_free->next_free = b->next_free;
	else
		heap.lists[fl][sl] = b->next_free;
	if (b->next_free != NULL)
		b->next_free->prev_free = b->prev_free;
	if (heap.lists[fl][sl] == NULL) {
		heap.sl_bitmap[fl] &= ~(1u << sl);
		if (heap.sl_bitmap[fl] == 0)
			heap.fl_bitmap &= ~(1u << fl);
	}
}

/* Mark b free and tell the block after it. */
static void
set_free(struct block *b)
{
	struct block *n = next_phys(b);

	b->size |= F_FREE;
	n->prev_phys = b;
	n->size |= F_PREV_FREE;
}

static void
set_used(struct block *b)
{
	b->size &= ~F_FREE;
	next_phys(b)->size &= ~F_PREV_FREE;
}

/* A free block at least `size` bytes large, out of its list, or NULL. */
static struct block *
find(size_t size)
{
	unsigned fl, sl;
	uint32_t map;
	struct block *b;

	/* The first block of the request's own list, when it is large
	 * enough (the list holds sizes from below the request up): with the
	 * heap fragmented, a hole of exactly the size asked for is used. */
	mapping(size, &fl, &sl);
	if (fl < FL_COUNT && (b = heap.lists[fl][sl]) != NULL && size_of(b) >= size)
		return b;
	/* Else round up to the next list boundary: every block of that list,
	 * and of every list after it, is large enough. */
	if (size >= SMALL_MAX)
		size += ((size_t)1 << (fls_size(size) - SL_BITS)) - 1;
	mapping(size, &fl, &sl);
	if (fl >= FL_COUNT)
		return NULL;
	map = heap.sl_bitmap[fl] & (~0u << sl);
	if (map == 0) {
		uint32_t fmap = fl + 1 < 32 ? heap.fl_bitmap & (~0u << (fl + 1)) : 0;

		if (fmap == 0)
			return NULL;
		fl = (unsigned)__builtin_ctz(fmap);
		map = heap.sl_bitmap[fl];
	}
	sl = (unsigned)__builtin_ctz(map);
	return heap.lists[fl][sl];
}

/* Split what b holds beyond `size` bytes off as a free block. */
static void
trim(struct block *b, size_t size)
{
	size_t total = size_of(b);
	struct block *rest;

	if (total - size < MIN_BLOCK)
		return;
	rest = (struct block *)((uint8_t *)b + size);
	rest->size = total - size;		/* used, previous used: b is */
	b->size = size | (b->size & F_MASK);
	set_free(rest);
	insert(rest);
}

int
limpet_heap_init(void *mem, size_t bytes)
{
	uint8_t *start = (uint8_t *)(((uintptr_t)mem + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
	struct block *b, *sentinel;
	size_t usable;

	memset(&heap, 0, sizeof(heap));
	if (mem == NULL || bytes < (size_t)(start - (uint8_t *)mem) + MIN_BLOCK + HDR)
		return -1;
	usable = (bytes - (size_t)(start - (uint8_t *)mem) - HDR) & ~(size_t)(ALIGN - 1);
	if (usable > HEAP_MAX)
		usable = HEAP_MAX;
	b = (struct block *)start;
	b->size = usable;			/* previous: none, taken as used */
	sentinel = (struct block *)(start + usable);
	sentinel->size = 0;			/* used, size 0: the end */
	set_free(b);
	insert(b);
	heap.start = start;
	heap.end = (uint8_t *)sentinel;
	heap.size = heap.free_bytes = usable;
	return 0;
}

void *
limpet_heap_malloc(size_t n)
{
	struct block *b;
	size_t size;

	if (n == 0 || n > heap.size)
		return NULL;
	size = (n + HDR + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (size < MIN_BLOCK)
		size = MIN_BLOCK;
	if ((b = find(size)) == NULL)
		return NULL;
	unlink_free(b);
	set_used(b);
	trim(b, size);
	heap.free_bytes -= size_of(b);
	return (uint8_t *)b + HDR;
}

void *
limpet_heap_calloc(size_t count, size_t size)
{
	void *p;

	if (size != 0 && count > SIZE_MAX / size)
		return NULL;
	if ((p = limpet_heap_malloc(count * size)) != NULL)
		memset(p, 0, count * size);
	return p;
}

void
limpet_heap_free(void *p)
{
	struct block *b, *n;

	if (p == NULL)
		return;
	b = (struct block *)((uint8_t *)p - HDR);
	heap.free_bytes += size_of(b);
	n = next_phys(b);
	if (n->size & F_FREE) {			/* merge with the next */
		unlink_free(n);
		b->size += size_of(n);
	}
	if (b->size & F_PREV_FREE) {		/* and with the one before */
		struct block *prev = b->prev_phys;

		unlink_free(prev);
		prev->size += size_of(b);
		b = prev;
	}
	set_free(b);
	insert(b);
}

size_t
limpet_heap_free_bytes(void)
{
	return heap.free_bytes;
}

size_t
limpet_heap_size(void)
{
	return heap.size;
}

int
limpet_heap_check(void)
{
	size_t free_bytes = 0;
	int prev_free = 0;

	if (heap.start == NULL)
		return -10;			/* no heap */
	for (struct block *b = (struct block *)heap.start; (uint8_t *)b < heap.end; b = next_phys(b)) {
		if (size_of(b) < MIN_BLOCK || size_of(b) % ALIGN != 0 ||
		    (uint8_t *)next_phys(b) > heap.end)
			return -1;
		if (!!(b->size & F_PREV_FREE) != prev_free)
			return -2;
		if (b->size & F_FREE) {
			if (prev_free)
				return -3;	/* two free blocks in a row: not merged */
			if (next_phys(b)->prev_phys != b)
				return -4;
			free_bytes += size_of(b);
		}
		prev_free = (b->size & F_FREE) != 0;
	}
	if (!!(((struct block *)heap.end)->size & F_PREV_FREE) != prev_free)
		return -5;
	if (free_bytes != heap.free_bytes)
		return -6;
	/* Every listed block is free and in its right list. */
	free_bytes = 0;
	for (unsigned fl = 0; fl < FL_COUNT; fl++)
		for (unsigned sl = 0; sl < SL_COUNT; sl++) {
			int listed = heap.lists[fl][sl] != NULL;

			if (listed != !!(heap.sl_bitmap[fl] & (1u << sl)))
				return -7;
			for (struct block *b = heap.lists[fl][sl]; b != NULL; b = b->next_free) {
				unsigned f, s;

				mapping(size_of(b), &f, &s);
				if (!(b->size & F_FREE) || f != fl || s != sl)
					return -8;
				free_bytes += size_of(b);
			}
		}
	return free_bytes == heap.free_bytes ? 0 : -9;
}
