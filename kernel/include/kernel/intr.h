/*
 * Interrupts and exceptions.
 *
 * Vectors 0-31 are CPU exceptions: their handler prints a dump (vector,
 * error code, RIP, CR2, registers, a symbolized backtrace) and ends the VM
 * with status 125.  Vectors 32-254 are free for devices: a handler runs
 * with interrupts off and must only note work for the event loop (see
 * loop_source_signal()); it must not call the service API or lwIP.
 * The LAPIC is sent its EOI after the handler returns.
 */
#ifndef KERNEL_INTR_H
#define KERNEL_INTR_H

#include <stdint.h>

/* Saved on the stack by the entry stubs; the layout matches isr.S. */
struct trapframe {
	uint64_t	r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t	rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t	vector, error;
	/* pushed by the CPU */
	uint64_t	rip, cs, rflags, rsp, ss;
};

#define VEC_TIMER	32	/* local APIC timer */
#define VEC_SPURIOUS	255	/* local APIC spurious vector */
#define VEC_DEVICE_BASE	48	/* first vector handed to drivers */

typedef void (*irq_handler_t)(struct trapframe *tf, void *arg);

void	gdt_init(void);
void	idt_init(void);
/* Route vector (32..254) to fn; returns 0 or -EBUSY / -EINVAL. */
int	irq_register(unsigned vector, irq_handler_t fn, void *arg);
/* A free device vector, or -ENOSPC. */
int	irq_alloc_vector(void);

/* The exception dump (never returns), and a backtrace from rip/rbp. */
void	trap_dump(const struct trapframe *tf) __attribute__((noreturn));
void	backtrace_from(uint64_t rip, uint64_t rbp);

/* Local APIC (lapic.c) */
void	lapic_init(void);
void	lapic_eoi(void);
uint32_t lapic_id(void);

#endif
