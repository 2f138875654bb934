/*
 * Device addresses of memory (kernel/include/kernel/mm.h, dma_runs()):
 * the one place that knows which memory is identity-mapped and which
 * needs the page tables, so that no driver or layer above does its own
 * translation.  Pure but for virt_to_phys(): tested on the host with the
 * drivers' tests.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <kernel/mm.h>

/* Append one run, merged with the last when it continues it. */
static int
add(struct dma_run *runs, int n, int max, uint64_t pa, uint64_t len)
{
	if (n > 0 && runs[n - 1].addr + runs[n - 1].len == pa &&
	    runs[n - 1].len + len <= UINT32_MAX) {
		runs[n - 1].len += (uint32_t)len;
		return n;
	}
	if (n >= max)
		return -ENOSPC;
	runs[n] = (struct dma_run){ .addr = pa, .len = (uint32_t)len };
	return n + 1;
}

int
dma_runs(const void *p, size_t len, struct dma_run *runs, int n, int max)
{
	uint64_t va = (uint64_t)(uintptr_t)p;

	/* Identity-mapped: the address is the device's, in one piece. */
	if (va + len <= HEAP_BASE && len <= UINT32_MAX)
		return len == 0 ? n : add(runs, n, max, va, len);
	while (len > 0) {
		uint64_t chunk = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		uint64_t pa = virt_to_phys(va);

		if (chunk > len)
			chunk = len;
		if (pa == (uint64_t)-1)
			return -EFAULT;
		if ((n = add(runs, n, max, pa, chunk)) < 0)
			return n;
		va += chunk;
		len -= chunk;
	}
	return n;
}
