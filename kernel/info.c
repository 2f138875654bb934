/* limpet_info(): what the kernel knows about itself, for services. */
#include <string.h>

#include <limpet.h>
#include <kernel/ktime.h>
#include <kernel/loop.h>
#include <kernel/mm.h>

extern uint64_t boot_ns;

void
limpet_info(struct limpet_info *info)
{
	memset(info, 0, sizeof(*info));
	info->platform = LIMPET_PLATFORM;
	info->tsc_hz = tsc_hz();
	info->boot_ns = boot_ns;
	info->mem_total = kernel_pmm.total * PAGE_SIZE;
	info->mem_free = kernel_pmm.nfree * PAGE_SIZE;
	info->heap_used = heap_used();
	loop_stats(&info->loop_iterations, &info->loop_sleeps);
}
