/*
 * The PVH entry: how QEMU (-kernel IMAGE on microvm, pc and q35),
 * Firecracker and cloud-hypervisor start an image with no loader.
 *
 * The image names this entry in an ELF note (Xen's public elfnote.h,
 * XEN_ELFNOTE_PHYS32_ENTRY).  The VMM loads the PT_LOAD segments at their
 * physical addresses and enters here as the PVH boot ABI (Xen's
 * docs/misc/pvh.pandoc) says: 32-bit protected mode, paging off, flat
 * CS (32-bit code), DS, ES and SS, interrupts off, %ebx = the physical
 * address of struct hvm_start_info, no stack, GDTR and IDTR unspecified.
 *
 * This does what the multiboot loader does for a loaded image: checks for
 * long mode and NX, maps the first 4 GiB to themselves with 2 MiB pages,
 * enters long mode (Intel SDM vol. 3A, 10.8.5), and then pvh.c turns the
 * start info into the struct bootinfo that kernel_main() takes.  The page
 * tables lie in their own pages of the bss, which the kernel frees once
 * it has its own (bootinfo's loader_start and loader_end name them).
 */
#include "../../../loader/x86.h"	/* CR0, CR4, EFER, CPUID and PTE bits, shared with the loader */

#define XEN_ELFNOTE_PHYS32_ENTRY	18

#define COM1		0x3f8
#define DEBUG_EXIT	0xf4
#define PVH_STATUS	124	/* the loader's status (bootinfo.h): QEMU exits 251 */

/* The note: name "Xen", 4-byte aligned fields (the gABI's note format). */
	.section .note.Xen, "a", @note
	.balign	4
	.long	4			/* namesz */
	.long	8			/* descsz */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.quad	pvh_start		/* < 4 GiB: readable as 32 bits too */

	.section .text.boot, "ax"
	.code32
	.globl	pvh_start
	.type	pvh_start, @function
pvh_start:
	cli
	cld
	movl	%ebx, %esi		/* rdtsc and cpuid take %eax-%edx */
	rdtsc
	movl	%eax, pvh_entry_tsc
	movl	%edx, pvh_entry_tsc + 4
	movl	%esi, pvh_start_info

	/* Long mode and NX, or a line on COM1 and the loader's status. */
	movl	$CPUID_EXT, %eax
	cpuid
	cmpl	$CPUID_EXT_FEATURES, %eax
	jb	no_long_mode
	movl	$CPUID_EXT_FEATURES, %eax
	cpuid
	testl	$CPUID_EXT_EDX_LM, %edx
	jz	no_long_mode
	testl	$CPUID_EXT_EDX_NX, %edx
	jz	no_long_mode

	/*
	 * pml4[0] -> pdpt; pdpt[0..3] -> pd[0..3]; pd entry n maps 2 MiB page
	 * n.  The tables are in the bss, which the VMM zeroed as the ELF
	 * segment says; only the entries in use are written.
	 */
	movl	$pvh_pdpt + (PTE_P | PTE_W), pvh_pml4
	xorl	%ecx, %ecx
1:	movl	%ecx, %eax		/* pdpt[i] = pd + 4096 * i */
	shll	$12, %eax
	addl	$pvh_pd + (PTE_P | PTE_W), %eax
	movl	%eax, pvh_pdpt(,%ecx,8)
	incl	%ecx
	cmpl	$4, %ecx
	jb	1b
	xorl	%ecx, %ecx
2:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$(PTE_P | PTE_W | PTE_PS), %eax
	movl	%ecx, %edx
	shrl	$11, %edx		/* bits 32 and up of n << 21 */
	movl	%eax, pvh_pd(,%ecx,8)
	movl	%edx, pvh_pd + 4(,%ecx,8)
	incl	%ecx
	cmpl	$2048, %ecx
	jb	2b

	movl	$pvh_pml4, %eax
	LONG_MODE pvh_gdt, pvh_long
	leaq	boot_stack_top(%rip), %rsp
	xorl	%ebp, %ebp
	movl	pvh_start_info(%rip), %edi
	call	pvh_bootinfo		/* struct bootinfo *, or it stops the VM */
	movq	%rax, %rdi
	jmp	_start
	.code32

no_long_mode:
	movl	$no_lm_msg, %esi
3:	movb	(%esi), %al
	testb	%al, %al
	jz	4f
	movw	$COM1, %dx
	outb	%al, %dx
	incl	%esi
	jmp	3b
4:	movb	$(PVH_STATUS + 1), %al
	outb	%al, $DEBUG_EXIT
5:	cli
	hlt
	jmp	5b
	.size	pvh_start, . - pvh_start

	.section .rodata
no_lm_msg:
	.asciz	"pvh: error: the CPU has no long mode or no NX bit (CPUID 0x80000001 EDX bits 29, 20)\r\n"
	GDT64	pvh_gdt

	.data
	.balign	8
	.globl	pvh_entry_tsc, pvh_start_info
pvh_entry_tsc:	.quad	0
pvh_start_info:	.long	0

/* 1 + 1 + 4 pages, page-aligned and alone in their pages (freed later). */
	.section .bss.pvh_tables, "aw", @nobits
	.balign	4096
	.globl	pvh_tables_start, pvh_tables_end
pvh_tables_start:
pvh_pml4:	.skip	4096
pvh_pdpt:	.skip	4096
pvh_pd:		.skip	4 * 4096
pvh_tables_end:

	.section .note.GNU-stack, "", @progbits
