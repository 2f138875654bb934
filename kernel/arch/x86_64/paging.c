/*
 * The kernel's page tables (layout in mm.h).  RAM is identity-mapped with
 * 2 MiB pages, except where permissions differ inside a 2 MiB span (the
 * first 2 MiB, the kernel image, the ends of RAM regions), which get 4 KiB
 * pages: text R X, rodata R NX, data RW NX, stack guard pages unmapped.
 * CR0.WP makes read-only pages read-only for the kernel too.
 */
#include <errno.h>
#include <string.h>

#include <limpet/bootinfo.h>
#include <kernel/log.h>
#include <kernel/mm.h>

#include "cpu.h"

#define PT_ENTRIES	512
#define LARGE_PAGE	(2ULL << 20)
#define CR0_WP		(1ULL << 16)

struct pmm kernel_pmm;
static uint64_t *pml4;
/* Set once CR3 points at pml4: until then no TLB holds its entries, and
 * skipping the invlpg per page saves milliseconds of boot under TCG. */
static int live;

static void
flush(uint64_t va)
{
	if (live)
		invlpg(va);
}

extern char __image_start[], __text_end[], __rodata_end[], __data_end[], __image_end[];
extern char boot_stack_guard[], df_stack_guard[];

static unsigned
idx(uint64_t va, int level)	/* level 3 = PML4 ... 0 = PT */
{
	return (va >> (12 + 9 * level)) & 0x1ff;
}

static uint64_t *
new_table(void)
{
	uint64_t pa = pmm_alloc(&kernel_pmm, 1, 1);

	if (pa == 0)
		return NULL;
	memset((void *)pa, 0, PAGE_SIZE);
	return (uint64_t *)pa;
}

/*
 * The entry for va at level (0 = 4 KiB PTE, 1 = 2 MiB PDE), creating the
 * tables above it; a 2 MiB page in the way is split into 4 KiB pages with
 * the same permissions.
 */
static uint64_t *
walk(uint64_t va, int level, int create)
{
	uint64_t *t = pml4;

	for (int l = 3; l > level; l--) {
		uint64_t *e = &t[idx(va, l)];

		if (!(*e & PTE_P)) {
			uint64_t *n;

			if (!create || (n = new_table()) == NULL)
				return NULL;
			*e = (uint64_t)n | PTE_P | PTE_W;
		} else if (*e & PTE_PS) {
			uint64_t *n, base = *e & PTE_ADDR & ~(LARGE_PAGE - 1);
			uint64_t flags = (*e & ~PTE_ADDR) & ~PTE_PS;

			if (!create || (n = new_table()) == NULL)
				return NULL;
			for (int i = 0; i < PT_ENTRIES; i++)
				n[i] = (base + i * PAGE_SIZE) | flags;
			*e = (uint64_t)n | PTE_P | PTE_W;
			flush(va);
		}
		t = (uint64_t *)(*e & PTE_ADDR);
	}
	return &t[idx(va, level)];
}

int
map_page(uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *e = walk(va, 0, 1);

	if (e == NULL)
		return -ENOMEM;
	*e = (pa & PTE_ADDR) | flags | PTE_P;
	flush(va);
	return 0;
}

void
unmap_page(uint64_t va)
{
	uint64_t *e = walk(va, 0, 0);

	if (e != NULL) {
		*e = 0;
		flush(va);
	}
}

uint64_t
virt_to_phys(uint64_t va)
{
	uint64_t *t = pml4;

	for (int l = 3; l >= 0; l--) {
		uint64_t e = t[idx(va, l)];

		if (!(e & PTE_P))
			return (uint64_t)-1;
		if (l == 0 || (e & PTE_PS)) {
			uint64_t span = 1ULL << (12 + 9 * l);

			return (e & PTE_ADDR & ~(span - 1)) | (va & (span - 1));
		}
		t = (uint64_t *)(e & PTE_ADDR);
	}
	return (uint64_t)-1;
}

void *
mmio_map(uint64_t pa, size_t len)
{
	uint64_t start = PAGE_ROUND_DOWN(pa), end = PAGE_ROUND_UP(pa + len);

	for (uint64_t a = start; a < end; a += PAGE_SIZE)
		if (map_page(a, a, PTE_W | PTE_NX | PTE_PCD | PTE_PWT) != 0)
			panic("mmio_map: out of memory for page tables");
	return (void *)pa;
}

void *
page_alloc_uninit(size_t npages)
{
	uint64_t pa = pmm_alloc(&kernel_pmm, npages, 1);

	return pa == 0 ? NULL : (void *)pa;
}

void *
page_alloc(size_t npages)
{
	void *p = page_alloc_uninit(npages);

	if (p != NULL)
		memset(p, 0, npages * PAGE_SIZE);
	return p;
}

void
page_free(void *p, size_t npages)
{
	pmm_release(&kernel_pmm, (uint64_t)p, npages);
}

/* Flags for the 4 KiB page at pa inside [0, reserved_end), or 0 to leave it out. */
static uint64_t
image_flags(uint64_t pa, const struct bootinfo *bi)
{
	uint64_t guard1 = (uint64_t)boot_stack_guard, guard2 = (uint64_t)df_stack_guard;

	if (pa == 0 || pa == guard1 || pa == guard2)
		return 0;
	if (pa >= (uint64_t)__image_start && pa < (uint64_t)__text_end)
		return PTE_P;				/* text: R X */
	if (pa >= (uint64_t)__text_end && pa < (uint64_t)__rodata_end)
		return PTE_P | PTE_NX;			/* rodata */
	if (pa >= (uint64_t)__rodata_end && pa < (uint64_t)__data_end)
		return PTE_P | PTE_W | PTE_NX;		/* data, bss */
	if (pa >= (uint64_t)__data_end && pa < (uint64_t)__image_end)
		return PTE_P | PTE_NX;			/* the image's symbols */
	if (pa >= (uint64_t)__image_end && pa < bi->reserved_end)
		return PTE_P | PTE_NX;			/* the loader's copy of them */
	return PTE_P | PTE_W | PTE_NX;
}

/* Identity-map the usable RAM of one map entry. */
static void
map_region(uint64_t start, uint64_t end, const struct bootinfo *bi)
{
	uint64_t fine_end = PAGE_ROUND_UP(bi->reserved_end);

	start = PAGE_ROUND_UP(start);
	end = PAGE_ROUND_DOWN(end);
	for (uint64_t a = start; a < end; ) {
		if (a % LARGE_PAGE == 0 && a + LARGE_PAGE <= end && a >= fine_end) {
			uint64_t *e = walk(a, 1, 1);

			if (e == NULL)
				goto nomem;
			*e = a | PTE_P | PTE_W | PTE_NX | PTE_PS;
			a += LARGE_PAGE;
		} else {
			uint64_t flags = image_flags(a, bi);

			if (flags != 0 && map_page(a, a, flags) != 0)
				goto nomem;
			a += PAGE_SIZE;
		}
	}
	return;
nomem:
	panic("mm: out of memory building the page tables");
}

void
mm_init(const struct bootinfo *bi)
{
	uint64_t top = 0, bitmap_at = 0;
	size_t bytes;

	/* The frame bitmap covers [0, top of usable RAM). */
	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct bootinfo_mmap *m = &bi->mmap[i];

		if (m->type == BOOTINFO_MEM_USABLE && m->addr + m->len > top)
			top = m->addr + m->len;
	}
	bytes = pmm_bitmap_bytes(top / PAGE_SIZE);
	/* Place it in the first usable RAM above everything the loader placed. */
	for (uint32_t i = 0; i < bi->mmap_count && bitmap_at == 0; i++) {
		const struct bootinfo_mmap *m = &bi->mmap[i];
		uint64_t at = PAGE_ROUND_UP(m->addr > bi->reserved_end ? m->addr : bi->reserved_end);

		if (m->type == BOOTINFO_MEM_USABLE && at + bytes <= m->addr + m->len &&
		    at + bytes <= (4ULL << 30))
			bitmap_at = at;
	}
	if (bitmap_at == 0)
		panic("mm: no room for the page-frame bitmap (%zu bytes)", bytes);

	pmm_setup(&kernel_pmm, (uint64_t *)bitmap_at, 0, top / PAGE_SIZE);
	for (uint32_t i = 0; i < bi->mmap_count; i++)
		if (bi->mmap[i].type == BOOTINFO_MEM_USABLE)
			pmm_free_range(&kernel_pmm, bi->mmap[i].addr, bi->mmap[i].len);
	pmm_reserve_range(&kernel_pmm, 0, PAGE_SIZE);	/* page 0: NULL */
	pmm_reserve_range(&kernel_pmm, bi->loader_start, bi->loader_end - bi->loader_start);
	pmm_reserve_range(&kernel_pmm, bi->image_start, bi->reserved_end - bi->image_start);
	pmm_reserve_range(&kernel_pmm, bitmap_at, bytes);

	if ((pml4 = new_table()) == NULL)
		panic("mm: out of memory for the page tables");
	for (uint32_t i = 0; i < bi->mmap_count; i++)
		if (bi->mmap[i].type == BOOTINFO_MEM_USABLE)
			map_region(bi->mmap[i].addr, bi->mmap[i].addr + bi->mmap[i].len, bi);

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr3((uint64_t)pml4);
	live = 1;
	write_cr0(read_cr0() | CR0_WP);

	/* The loader and its page tables are no longer needed. */
	pmm_release(&kernel_pmm, PAGE_ROUND_DOWN(bi->loader_start),
	    (PAGE_ROUND_UP(bi->loader_end) - PAGE_ROUND_DOWN(bi->loader_start)) / PAGE_SIZE);
}
