/*
 * The GDT: a 64-bit code and a data segment for ring 0, and the TSS whose
 * IST1 gives the double-fault handler a stack of its own, so that a kernel
 * stack overflow (which faults again when the CPU pushes the page-fault
 * frame) still ends in a readable dump instead of a triple fault.
 */
#include <stdint.h>
#include <string.h>

#include <kernel/intr.h>

#include "gdt.h"

struct tss {
	uint32_t	reserved0;
	uint64_t	rsp[3];
	uint64_t	reserved1;
	uint64_t	ist[7];
	uint64_t	reserved2;
	uint16_t	reserved3;
	uint16_t	iomap_base;
} __attribute__((packed));

static struct tss tss __attribute__((aligned(16)));
static uint64_t gdt[5] __attribute__((aligned(16)));

extern char df_stack_top[];

void
gdt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr;
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

	gdt[0] = 0;
	gdt[GDT_KCODE / 8] = 0x00209a0000000000ULL;	/* P, DPL0, code, L */
	gdt[GDT_KDATA / 8] = 0x0000920000000000ULL;	/* P, DPL0, data, W */
	/* 64-bit TSS descriptor: 16 bytes (SDM vol. 3, 8.2.3). */
	gdt[GDT_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
	    (0x89ULL << 40) | (((limit >> 16) & 0xf) << 48) |
	    (((base >> 24) & 0xff) << 56);
	gdt[GDT_TSS / 8 + 1] = base >> 32;

	memset(&tss, 0, sizeof(tss));
	tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)df_stack_top;
	tss.iomap_base = sizeof(tss);

	gdtr.limit = sizeof(gdt) - 1;
	gdtr.base = (uint64_t)gdt;
	__asm__ volatile(
	    "lgdt %0\n\t"
	    "pushq %1\n\t"
	    "leaq 1f(%%rip), %%rax\n\t"
	    "pushq %%rax\n\t"
	    "lretq\n"
	    "1:\n\t"
	    "movw %w2, %%ax\n\t"
	    "movw %%ax, %%ds\n\t"
	    "movw %%ax, %%es\n\t"
	    "movw %%ax, %%ss\n\t"
	    "xorl %%eax, %%eax\n\t"
	    "movw %%ax, %%fs\n\t"
	    "movw %%ax, %%gs\n\t"
	    "ltr %w3"
	    : : "m"(gdtr), "i"(GDT_KCODE), "r"(GDT_KDATA), "r"(GDT_TSS)
	    : "rax", "memory");
}
