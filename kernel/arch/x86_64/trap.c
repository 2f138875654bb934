/*
 * The fault dump: what an exception prints before the VM stops with
 * status 125.  It must work with a broken heap and little stack, so it
 * uses only kprintf() and checks every frame pointer before following it.
 */
#include <stdint.h>

#include <kernel/exit.h>
#include <kernel/intr.h>
#include <kernel/log.h>
#include <kernel/mm.h>
#include <kernel/param.h>
#include <kernel/symbols.h>

#include "cpu.h"

#define FAULT_STATUS	LIMPET_STATUS_FAULT

static const char *const names[32] = {
	[0] = "divide error (#DE)",
	[1] = "debug (#DB)",
	[2] = "non-maskable interrupt (NMI)",
	[3] = "breakpoint (#BP)",
	[4] = "overflow (#OF)",
	[5] = "bound range exceeded (#BR)",
	[6] = "invalid opcode (#UD)",
	[7] = "device not available (#NM)",
	[8] = "double fault (#DF)",
	[10] = "invalid TSS (#TS)",
	[11] = "segment not present (#NP)",
	[12] = "stack-segment fault (#SS)",
	[13] = "general protection fault (#GP)",
	[14] = "page fault (#PF)",
	[16] = "x87 floating-point error (#MF)",
	[17] = "alignment check (#AC)",
	[18] = "machine check (#MC)",
	[19] = "SIMD floating-point exception (#XM)",
	[20] = "virtualization exception (#VE)",
	[21] = "control protection exception (#CP)",
};

extern char boot_stack_guard[], df_stack_guard[];
extern char __text_start[], __text_end[];

static void
print_addr(const char *label, uint64_t addr)
{
	const char *name;
	uint64_t off;

	if (symbolize(addr, &name, &off) == 0)
		kprintf("%s0x%016llx <%s+0x%llx>\n", label,
		    (unsigned long long)addr, name, (unsigned long long)off);
	else
		kprintf("%s0x%016llx\n", label, (unsigned long long)addr);
}

static int
in_guard(uint64_t a)
{
	uint64_t b = (uint64_t)boot_stack_guard, d = (uint64_t)df_stack_guard;

	return (a >= b && a < b + PAGE_SIZE) || (a >= d && a < d + PAGE_SIZE);
}

/* A frame pointer we may read: aligned, mapped, and not a guard page. */
static int
frame_ok(uint64_t fp)
{
	if (fp == 0 || (fp & 7) != 0 || in_guard(fp) || in_guard(fp + 8))
		return 0;
	return virt_to_phys(fp) != (uint64_t)-1 &&
	    virt_to_phys(fp + 15) != (uint64_t)-1;
}

void
backtrace_from(uint64_t rip, uint64_t rbp)
{
	kprintf("backtrace:\n");
	print_addr("  #0  ", rip);
	for (int i = 1; i < BACKTRACE_MAX && frame_ok(rbp); i++) {
		uint64_t next = ((uint64_t *)rbp)[0];
		uint64_t ret = ((uint64_t *)rbp)[1];

		if (ret == 0)
			break;
		kprintf("  #%-2d ", i);
		print_addr("", ret);
		if (next <= rbp)	/* stacks grow down: frames go up */
			break;
		rbp = next;
	}
}

void
trap_dump(const struct trapframe *tf)
{
	static int depth;
	uint64_t cr2 = read_cr2();
	unsigned v = tf->vector;
	const char *name = v < 32 && names[v] != NULL ? names[v] : "reserved exception";

	if (depth++ > 0) {
		kprintf("\n*** %s (vector %u) while dumping a fault at RIP 0x%llx; stopping\n",
		    name, v, (unsigned long long)tf->rip);
		machine_exit(FAULT_STATUS);
	}

	kprintf("\n*** %s, vector %u, error code 0x%llx\n", name, v,
	    (unsigned long long)tf->error);
	if (v == 14) {
		uint64_t e = tf->error;

		kprintf("    %s at address 0x%016llx: %s%s\n",
		    e & 0x10 ? "instruction fetch" : e & 2 ? "write" : "read",
		    (unsigned long long)cr2,
		    e & 1 ? "protection violation" : "page not mapped",
		    e & 8 ? " (reserved bit set in a page-table entry)" : "");
		if (e & 1 && e & 0x10)
			kprintf("    (executing non-executable memory: W^X)\n");
		else if (e & 1 && e & 2)
			kprintf("    (writing read-only memory: W^X)\n");
		else if (cr2 < PAGE_SIZE)
			kprintf("    (NULL pointer dereference)\n");
	}
	if (in_guard(cr2) && (v == 14 || v == 8))
		kprintf("    (stack overflow: 0x%llx is a stack guard page)\n",
		    (unsigned long long)cr2);
	print_addr("RIP ", tf->rip);
	kprintf("CR2 0x%016llx  RSP 0x%016llx  RFLAGS 0x%llx  CS 0x%llx  SS 0x%llx\n",
	    (unsigned long long)cr2, (unsigned long long)tf->rsp,
	    (unsigned long long)tf->rflags, (unsigned long long)tf->cs,
	    (unsigned long long)tf->ss);
	kprintf("RAX 0x%016llx  RBX 0x%016llx  RCX 0x%016llx  RDX 0x%016llx\n",
	    (unsigned long long)tf->rax, (unsigned long long)tf->rbx,
	    (unsigned long long)tf->rcx, (unsigned long long)tf->rdx);
	kprintf("RSI 0x%016llx  RDI 0x%016llx  RBP 0x%016llx  R8  0x%016llx\n",
	    (unsigned long long)tf->rsi, (unsigned long long)tf->rdi,
	    (unsigned long long)tf->rbp, (unsigned long long)tf->r8);
	kprintf("R9  0x%016llx  R10 0x%016llx  R11 0x%016llx  R12 0x%016llx\n",
	    (unsigned long long)tf->r9, (unsigned long long)tf->r10,
	    (unsigned long long)tf->r11, (unsigned long long)tf->r12);
	kprintf("R13 0x%016llx  R14 0x%016llx  R15 0x%016llx\n",
	    (unsigned long long)tf->r13, (unsigned long long)tf->r14,
	    (unsigned long long)tf->r15);
	backtrace_from(tf->rip, tf->rbp);
	kprintf("*** stopping with status %d\n", FAULT_STATUS);
	machine_exit(FAULT_STATUS);
}
