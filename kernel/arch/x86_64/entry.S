/*
 * The kernel's first instructions.  The loader enters here in long mode
 * with %rdi = &bootinfo, interrupts off, on a stack of its own.
 */
#include <kernel/param.h>

	.section .text.boot, "ax"
	.globl	_start
	.type	_start, @function
_start:
	cli
	/* Note the TSC first: the boot-time report counts from here. */
	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax
	movq	%rax, kernel_entry_tsc(%rip)

	leaq	boot_stack_top(%rip), %rsp
	xorl	%ebp, %ebp		/* ends the backtrace */
	call	kernel_main
1:	cli
	hlt
	jmp	1b
	.size	_start, . - _start

	.data
	.align	8
	.globl	kernel_entry_tsc
kernel_entry_tsc:
	.quad	0

/*
 * Stacks, each with an unmapped guard page below it (paging.c leaves the
 * pages at *_guard out of the page tables): an overflow faults instead of
 * silently overwriting whatever lies below.
 */
	.section .bss.stacks, "aw", @nobits
	.align	4096
	.globl	boot_stack_guard, boot_stack_top
boot_stack_guard:
	.skip	4096
	.skip	KERNEL_STACK_SIZE
boot_stack_top:
	.globl	df_stack_guard, df_stack_top
df_stack_guard:
	.skip	4096
	.skip	DF_STACK_SIZE
df_stack_top:
