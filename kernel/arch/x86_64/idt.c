/*
 * The IDT and interrupt dispatch.  All 256 vectors point at the stubs in
 * isr.S; trap_entry() sends exceptions to the fault dump and device
 * vectors to the handler registered for them.
 */
#include <errno.h>
#include <stdint.h>

#include <kernel/intr.h>
#include <kernel/log.h>

#include "gdt.h"

struct idt_gate {
	uint16_t	off_lo;
	uint16_t	sel;
	uint8_t		ist;
	uint8_t		type;
	uint16_t	off_mid;
	uint32_t	off_hi;
	uint32_t	reserved;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct {
	irq_handler_t	fn;
	void		*arg;
} handlers[256];

extern char isr_stubs[];

void
idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;

	for (int v = 0; v < 256; v++) {
		uint64_t off = (uint64_t)isr_stubs + 16 * v;

		idt[v].off_lo = off & 0xffff;
		idt[v].sel = GDT_KCODE;
		idt[v].ist = v == 8 ? IST_DOUBLE_FAULT : 0;
		idt[v].type = 0x8e;		/* present, DPL0, interrupt gate */
		idt[v].off_mid = (off >> 16) & 0xffff;
		idt[v].off_hi = off >> 32;
		idt[v].reserved = 0;
	}
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uint64_t)idt;
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

int
irq_register(unsigned vector, irq_handler_t fn, void *arg)
{
	if (vector < 32 || vector >= VEC_SPURIOUS || fn == NULL)
		return -EINVAL;
	if (handlers[vector].fn != NULL)
		return -EBUSY;
	handlers[vector].arg = arg;
	handlers[vector].fn = fn;
	return 0;
}

int
irq_alloc_vector(void)
{
	for (unsigned v = VEC_DEVICE_BASE; v < VEC_SPURIOUS; v++)
		if (handlers[v].fn == NULL)
			return v;
	return -ENOSPC;
}

void trap_entry(struct trapframe *tf);

void
trap_entry(struct trapframe *tf)
{
	unsigned v = tf->vector;

	if (v < 32) {
		trap_dump(tf);	/* does not return */
		return;
	}
	if (v == VEC_SPURIOUS)
		return;		/* no EOI for the spurious vector */
	if (handlers[v].fn != NULL)
		handlers[v].fn(tf, handlers[v].arg);
	else
		log_warn("unexpected interrupt on vector %u", v);
	lapic_eoi();
}
