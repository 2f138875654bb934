/*
 * The heap behind newlib's malloc: sbrk() moves the break inside
 * [HEAP_BASE, HEAP_LIMIT), mapping fresh zeroed frames as it grows (newlib's
 * calloc relies on that) and returning them as it shrinks.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <kernel/log.h>
#include <kernel/mm.h>

static uint64_t brk = HEAP_BASE;	/* current break */
static uint64_t mapped = HEAP_BASE;	/* end of mapped heap pages */

uint64_t
heap_used(void)
{
	return brk - HEAP_BASE;
}

static void
oom(ptrdiff_t incr)
{
	kprintf("*** out of memory: the heap holds %llu KiB and cannot grow by %lld bytes "
	    "(%llu KiB of RAM free); malloc returns NULL\n",
	    (unsigned long long)(heap_used() / 1024), (long long)incr,
	    (unsigned long long)(kernel_pmm.nfree * PAGE_SIZE / 1024));
}

void *
sbrk(ptrdiff_t incr)
{
	uint64_t old = brk, want = brk + incr;

	if (incr > 0) {
		if (want > HEAP_LIMIT || want < old ||
		    (PAGE_ROUND_UP(want) - mapped) / PAGE_SIZE > kernel_pmm.nfree) {
			oom(incr);
			errno = ENOMEM;
			return (void *)-1;
		}
		while (mapped < want) {
			uint64_t pa = pmm_alloc(&kernel_pmm, 1, 1);

			if (pa == 0 || map_page(mapped, pa, PTE_W | PTE_NX) != 0) {
				if (pa != 0)
					pmm_release(&kernel_pmm, pa, 1);
				oom(incr);
				errno = ENOMEM;
				return (void *)-1;
			}
			memset((void *)mapped, 0, PAGE_SIZE);
			mapped += PAGE_SIZE;
		}
	} else if (incr < 0) {
		if (want < HEAP_BASE || want > old) {
			errno = EINVAL;
			return (void *)-1;
		}
		while (mapped - PAGE_SIZE >= PAGE_ROUND_UP(want) && mapped > HEAP_BASE) {
			mapped -= PAGE_SIZE;
			pmm_release(&kernel_pmm, virt_to_phys(mapped), 1);
			unmap_page(mapped);
		}
	}
	brk = want;
	return (void *)old;
}
