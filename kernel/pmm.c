/*
 * Page frames: one bit per 4 KiB frame, set while the frame is in use.
 * Allocation is next-fit from a hint, so the usual single-page case does
 * not rescan the start of memory each time.  Pure code: tested on the host.
 */
#include <string.h>

#include <kernel/mm.h>

#define BITS	64

static int
used(const struct pmm *p, uint64_t i)
{
	return (p->bitmap[i / BITS] >> (i % BITS)) & 1;
}

static void
set_used(struct pmm *p, uint64_t i)
{
	p->bitmap[i / BITS] |= 1ULL << (i % BITS);
}

static void
set_free(struct pmm *p, uint64_t i)
{
	p->bitmap[i / BITS] &= ~(1ULL << (i % BITS));
}

size_t
pmm_bitmap_bytes(uint64_t npages)
{
	return (npages + BITS - 1) / BITS * sizeof(uint64_t);
}

void
pmm_setup(struct pmm *p, uint64_t *bitmap, uint64_t base, uint64_t npages)
{
	p->bitmap = bitmap;
	p->base = base;
	p->npages = npages;
	p->nfree = 0;
	p->total = 0;
	p->hint = 0;
	memset(bitmap, 0xff, pmm_bitmap_bytes(npages));
}

/* Clip [addr, addr + len) to frame indices [*first, *last). */
static int
clip(const struct pmm *p, uint64_t addr, uint64_t len, int inner,
    uint64_t *first, uint64_t *last)
{
	uint64_t end = addr + len;
	uint64_t top = p->base + p->npages * PAGE_SIZE;

	if (end < addr)			/* wrapped: clip at the top */
		end = UINT64_MAX;
	if (addr < p->base)
		addr = p->base;
	if (end > top)
		end = top;
	if (addr >= end)
		return 0;
	if (inner) {
		addr = PAGE_ROUND_UP(addr);
		end = PAGE_ROUND_DOWN(end);
	} else {
		addr = PAGE_ROUND_DOWN(addr);
		end = PAGE_ROUND_UP(end);
	}
	if (addr >= end)
		return 0;
	*first = (addr - p->base) / PAGE_SIZE;
	*last = (end - p->base) / PAGE_SIZE;
	return 1;
}

/* Mark frames [first, last) free (free != 0) or used, a whole word at a
 * time where the range covers one (boot frees all of RAM this way); the
 * number of frames that changed. */
static uint64_t
set_range(struct pmm *p, uint64_t first, uint64_t last, int free)
{
	uint64_t changed = 0, i = first;

	while (i < last) {
		uint64_t *w = &p->bitmap[i / BITS], mask;
		unsigned lo = (unsigned)(i % BITS);
		uint64_t n = last - i < (uint64_t)(BITS - lo) ? last - i : BITS - lo;

		mask = (n == BITS ? ~0ULL : ((1ULL << n) - 1)) << lo;
		changed += (uint64_t)__builtin_popcountll((free ? *w : ~*w) & mask);
		if (free)
			*w &= ~mask;
		else
			*w |= mask;
		i += n;
	}
	return changed;
}

void
pmm_free_range(struct pmm *p, uint64_t addr, uint64_t len)
{
	uint64_t first, last, n;

	if (!clip(p, addr, len, 1, &first, &last))
		return;
	n = set_range(p, first, last, 1);
	p->nfree += n;
	p->total += n;
}

void
pmm_reserve_range(struct pmm *p, uint64_t addr, uint64_t len)
{
	uint64_t first, last;

	if (!clip(p, addr, len, 0, &first, &last))
		return;
	p->nfree -= set_range(p, first, last, 0);
}

/* First run of n free frames at an aligned index in [from, to), or -1. */
static uint64_t
find(const struct pmm *p, uint64_t from, uint64_t to, uint64_t n, uint64_t align)
{
	uint64_t i = (from + align - 1) & ~(align - 1);

	while (i + n <= to) {
		uint64_t j;

		/* Skip whole used words quickly on the single-page path. */
		if (align == 1 && i % BITS == 0 && p->bitmap[i / BITS] == ~0ULL) {
			i += BITS;
			continue;
		}
		for (j = 0; j < n && !used(p, i + j); j++)
			;
		if (j == n)
			return i;
		i = (i + j + 1 + align - 1) & ~(align - 1);
	}
	return (uint64_t)-1;
}

uint64_t
pmm_alloc(struct pmm *p, uint64_t n, uint64_t align)
{
	uint64_t i;

	if (n == 0 || n > p->nfree || align == 0 || (align & (align - 1)) != 0)
		return 0;
	/* Alignment is of the physical address, so account for the base. */
	if ((p->base / PAGE_SIZE) % align != 0)
		return 0;
	i = find(p, p->hint, p->npages, n, align);
	if (i == (uint64_t)-1)
		i = find(p, 0, p->npages, n, align);
	if (i == (uint64_t)-1)
		return 0;
	for (uint64_t j = 0; j < n; j++)
		set_used(p, i + j);
	p->nfree -= n;
	p->hint = i + n;
	return p->base + i * PAGE_SIZE;
}

void
pmm_release(struct pmm *p, uint64_t addr, uint64_t n)
{
	uint64_t first = (addr - p->base) / PAGE_SIZE;

	for (uint64_t i = first; i < first + n && i < p->npages; i++) {
		if (used(p, i)) {
			set_free(p, i);
			p->nfree++;
		}
	}
	if (first < p->hint)
		p->hint = first;
}
