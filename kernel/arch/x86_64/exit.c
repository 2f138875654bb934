/*
 * Ending the VM: shutdown hooks, then QEMU's isa-debug-exit (see
 * bootinfo.h for the status encoding), then a halt that nothing wakes.
 */
#include <errno.h>

#include <limpet/bootinfo.h>
#include <kernel/exit.h>
#include <kernel/param.h>
#include <kernel/power.h>

#include "cpu.h"

static void (*hooks[KERNEL_SHUTDOWN_HOOKS])(void);
static int nhooks;

int
shutdown_hook_add(void (*fn)(void))
{
	if (nhooks == KERNEL_SHUTDOWN_HOOKS)
		return -ENOSPC;
	hooks[nhooks++] = fn;
	return 0;
}

void
machine_exit(int status)
{
	static int exiting;

	cli();
	if (!exiting++)
		while (nhooks > 0)
			hooks[--nhooks]();
	if (status < 0 || status > DEBUG_EXIT_STATUS_MAX)
		status = DEBUG_EXIT_STATUS_MAX;
	outb(DEBUG_EXIT_PORT, (uint8_t)(status + 1));
	/* No isa-debug-exit (a VM libvirt or a cloud made): power off, which
	 * the hypervisor reports as a shutdown. */
	power_off();
	for (;;)
		__asm__ volatile("cli; hlt");
}
