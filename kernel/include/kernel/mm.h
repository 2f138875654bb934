/*
 * Memory: layout, page frames, page tables, heap.
 *
 * Physical memory is identity-mapped: a kernel pointer to RAM is its
 * physical address, so DMA needs no translation.  The heap alone lives at
 * a virtual address of its own, grown page by page from free frames.
 *
 *   virtual = physical                                 mapping
 *   0x0000_0000  page 0 .................................. none (NULL faults)
 *   0x0000_1000  low RAM (below 640 KiB) ................. RW NX, free frames
 *   0x0010_0000  loader, boot info, loader page tables ... RW NX, freed after boot
 *   0x0020_0000  KERNEL_BASE: kernel image
 *                  .text ................................. R X
 *                  .rodata ............................... R NX
 *                  .data, .bss ........................... RW NX
 *                    guard page (unmapped), boot stack
 *                    guard page (unmapped), double-fault stack
 *   image_end    symbol tables copied by the loader ...... R NX
 *   reserved_end frame bitmap, then free frames to the
 *                end of RAM ............................. RW NX
 *   0xfec0_0000  IOAPIC, 0xfee0_0000 LAPIC, PCI BARs .... RW NX uncached,
 *                                                          mapped on demand
 *                (OVMF puts 64-bit BARs far above RAM: 0xe0_0000_0000,
 *                896 GiB, on q35; anywhere below HEAP_BASE maps)
 *   HEAP_BASE    0x0000_6000_0000_0000 (96 TiB): heap .... RW NX, grown by sbrk
 *   HEAP_LIMIT   HEAP_BASE + 64 GiB
 */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE	4096ULL
#define PAGE_SHIFT	12
#define PAGE_ROUND_UP(x)	(((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_DOWN(x)	((x) & ~(PAGE_SIZE - 1))

#define KERNEL_BASE	0x200000ULL
#define HEAP_BASE	0x0000600000000000ULL
#define HEAP_LIMIT	(HEAP_BASE + (64ULL << 30))

/* ---- page frames (pmm.c): a bitmap over [base, base + npages pages) ---- */

struct pmm {
	uint64_t	*bitmap;	/* bit set = frame in use */
	uint64_t	base;		/* physical address of frame 0 */
	uint64_t	npages;
	uint64_t	nfree;
	uint64_t	total;		/* usable frames, as the map said (kernel included) */
	uint64_t	hint;		/* next-fit start */
};

/* Bytes of bitmap needed to cover npages frames. */
size_t	pmm_bitmap_bytes(uint64_t npages);
/* Start with every frame in use (bitmap of pmm_bitmap_bytes(npages)). */
void	pmm_setup(struct pmm *p, uint64_t *bitmap, uint64_t base, uint64_t npages);
/* Mark [addr, addr + len) free / in use; partial pages at the ends are
 * left alone when freeing and included when reserving. */
void	pmm_free_range(struct pmm *p, uint64_t addr, uint64_t len);
void	pmm_reserve_range(struct pmm *p, uint64_t addr, uint64_t len);
/* n contiguous frames aligned to align pages (a power of two); 0 if none
 * (so frame 0 must stay reserved: mm_init() keeps page 0 unmapped). */
uint64_t pmm_alloc(struct pmm *p, uint64_t n, uint64_t align);
void	pmm_release(struct pmm *p, uint64_t addr, uint64_t n);

/* The kernel's frame allocator, set up by mm_init(). */
extern struct pmm kernel_pmm;

struct bootinfo;
/* Build the frame allocator from the boot-info map and switch to the
 * kernel's own page tables (W^X, guard pages).  Runs once, early. */
void	mm_init(const struct bootinfo *bi);

/* Zeroed, contiguous, identity-mapped pages (for DMA rings and buffers). */
void	*page_alloc(size_t npages);
/* The same, not zeroed: for buffers a device fills before anyone reads
 * them (zeroing megabytes of receive buffers costs milliseconds of boot
 * under TCG). */
void	*page_alloc_uninit(size_t npages);
void	page_free(void *p, size_t npages);

/* Page-table entry flags for map_page(). */
#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_U		(1ULL << 2)
#define PTE_PWT		(1ULL << 3)
#define PTE_PCD		(1ULL << 4)
#define PTE_PS		(1ULL << 7)
#define PTE_G		(1ULL << 8)
#define PTE_NX		(1ULL << 63)
#define PTE_ADDR	0x000ffffffffff000ULL

/* Map / unmap one 4 KiB page; 0 or -ENOMEM. */
int	map_page(uint64_t va, uint64_t pa, uint64_t flags);
void	unmap_page(uint64_t va);
/* Physical address behind va, or (uint64_t)-1 if unmapped. */
uint64_t virt_to_phys(uint64_t va);
/* A piece of memory as a device sees it: physically contiguous. */
struct dma_run {
	uint64_t	addr;		/* the device's (physical) address */
	uint32_t	len;
};
/*
 * The one place that turns memory into device addresses (dma.c): append
 * [p, p + len) to runs[0..n) as the physically contiguous runs a device
 * must be given, the first merged into runs[n - 1] when it continues it.
 * RAM below HEAP_BASE is identity-mapped, one run whatever its length;
 * the heap is mapped page by page, one run per stretch of adjacent
 * frames.  The new count; -ENOSPC when more than max runs would be
 * needed, -EFAULT for a page that is not mapped (runs[] then holds a
 * part).
 */
int	dma_runs(const void *p, size_t len, struct dma_run *runs, int n, int max);
/* Map device registers (uncached, NX) at their physical address. */
void	*mmio_map(uint64_t pa, size_t len);

/* ---- heap (heap.c) ---------------------------------------------------- */
uint64_t heap_used(void);

#endif
