/*
 * The loader's entry from a multiboot boot loader (QEMU's -kernel: v1;
 * GRUB's multiboot2 command: v2) and its exit into the kernel image in
 * long mode.
 *
 * On entry (Multiboot 0.6.96, 3.2; Multiboot 2, 3.2): 32-bit protected
 * mode, paging off, %eax = MB_BOOT_MAGIC or MB2_BOOT_MAGIC, %ebx =
 * physical address of the multiboot info,
 * flat CS/DS/ES/SS, no usable stack, GDTR and IDTR unspecified.
 */
#include "multiboot.h"
#include "x86.h"

#define MB_FLAGS	(MB_HEADER_PAGE_ALIGN | MB_HEADER_MEMORY_INFO)

	.section .multiboot, "a"
	.balign	4
	.long	MB_HEADER_MAGIC
	.long	MB_FLAGS
	.long	-(MB_HEADER_MAGIC + MB_FLAGS)

	/* Multiboot 2 (3.1): the ELF headers say where to load; modules on
	 * page boundaries, as above. */
	.balign	8
mb2_header:
	.long	MB2_HEADER_MAGIC
	.long	MB2_ARCH_I386
	.long	mb2_header_end - mb2_header
	.long	-(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.word	MB2_HEADER_TAG_MODULE_ALIGN, 0
	.long	8
	.word	MB2_HEADER_TAG_END, 0
	.long	8
mb2_header_end:

	.text
	.code32
	.globl	_start
	.type	_start, @function
_start:
	/*
	 * Save %eax first: RDTSC overwrites it and it holds the multiboot
	 * magic.  The TSC is read one instruction later, before anything else.
	 * All three go to .data, as the bss is cleared below.
	 */
	movl	%eax, %esi
	rdtsc
	movl	%eax, boot_tsc
	movl	%edx, boot_tsc + 4
	movl	%esi, boot_magic
	movl	%ebx, boot_mbi

	/* Clear the bss (stack, page tables and boot info live there). */
	cld
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb

	movl	$stack_top, %esp
	xorl	%ebp, %ebp
	pushl	$0			/* IF=0, DF=0, AC=0 */
	popfl
	call	loader_main		/* does not return */
1:	cli
	hlt
	jmp	1b
	.size	_start, . - _start

/*
 * enter_long_mode(pml4): switch to long mode with the page tables rooted at
 * pml4 and jump to handoff_entry with %rdi = handoff_bootinfo.  Follows
 * SDM vol. 3A, 10.8.5 "Initializing IA-32e Mode": PAE on, CR3 loaded,
 * EFER.LME set, then paging on; a far jump then enters 64-bit code.
 */
	.globl	enter_long_mode
	.type	enter_long_mode, @function
enter_long_mode:
	cli
	movl	4(%esp), %eax
	LONG_MODE gdt, long_mode

	/* Everything loaded afresh; a 32-bit load zero-extends into %rdi. */
	leaq	stack_top(%rip), %rsp	/* 16-byte aligned */
	movl	handoff_bootinfo(%rip), %edi
	movq	handoff_entry(%rip), %rax
	xorl	%ebp, %ebp
	jmpq	*%rax
	.size	enter_long_mode, . - enter_long_mode
	.code32

	.section .rodata
	GDT64	gdt

	.data
	.balign	8
	.globl	boot_tsc, boot_magic, boot_mbi, handoff_entry, handoff_bootinfo
boot_tsc:	.quad	0
handoff_entry:	.quad	0
boot_magic:	.long	0
boot_mbi:	.long	0
handoff_bootinfo: .long	0

	.bss
	.balign	16
stack:
	.skip	4096
stack_top:

	.section .note.GNU-stack, "", @progbits
