/*
 * The x86 control-register, MSR and CPUID bits the loader (and the
 * kernel's PVH entry, kernel/arch/x86_64/pvh_entry.S) touches, and for
 * the two of them the way into long mode (assembly only), from
 * the Intel SDM vol. 3A (2.5 "Control Registers", 2.2.1 "Extended Feature
 * Enable Register") and vol. 2A (CPUID).  Usable from C and assembly.
 */
#ifndef LOADER_X86_H
#define LOADER_X86_H

#define CR0_MP		(1 << 1)	/* WAIT/FWAIT honour TS */
#define CR0_EM		(1 << 2)	/* x87/SSE emulation: must be 0 for SSE */
#define CR0_TS		(1 << 3)	/* task switched: first FPU/SSE use faults */
#define CR0_NE		(1 << 5)	/* native x87 error reporting */
#define CR0_PG		(1 << 31)

#define CR4_PAE		(1 << 5)
#define CR4_OSFXSR	(1 << 9)	/* FXSAVE/FXRSTOR and SSE enabled */
#define CR4_OSXMMEXCPT	(1 << 10)	/* unmasked SSE exceptions raise #XM */

#define MSR_EFER	0xc0000080
#define EFER_LME	(1 << 8)	/* long mode enable */
#define EFER_NXE	(1 << 11)	/* no-execute page bit enable */

/* CPUID 0x80000001, EDX. */
#define CPUID_EXT		0x80000000
#define CPUID_EXT_FEATURES	0x80000001
#define CPUID_EXT_EDX_NX	(1 << 20)
#define CPUID_EXT_EDX_LM	(1 << 29)

/* Page-table entry bits (SDM vol. 3A, 4.5 "4-Level Paging"). */
#define PTE_P		0x001
#define PTE_W		0x002
#define PTE_PS		0x080		/* in a page directory: a 2 MiB page */

/* Selectors in the 64-bit GDT (GDT64 below). */
#define GDT_CODE64	0x08
#define GDT_DATA	0x10

#ifdef __ASSEMBLER__
/*
 * GDT64 name: the GDT both ways into long mode load, flat: a null entry,
 * GDT_CODE64 (present, DPL 0, code, L=1) and GDT_DATA (present, DPL 0,
 * data, 4 GiB); then name_ptr, its pointer for lgdt.
 */
.macro	GDT64 name
	.balign	8
\name:
	.quad	0
	.quad	0x00af9a000000ffff
	.quad	0x00cf92000000ffff
\name\()_ptr:
	.word	\name\()_ptr - \name - 1
	.long	\name
.endm

/*
 * LONG_MODE gdt, target: from 32-bit protected mode, paging off and %eax
 * the address of the PML4, into 64-bit code at target.  As SDM vol. 3A,
 * 10.8.5 "Initializing IA-32e Mode" asks: PAE on, CR3 loaded, EFER.LME
 * set (and NXE), then paging on, with SSE on (EM=0, TS=0, MP=1); then
 * the far jump through gdt (a GDT64) and the data segments loaded.
 * Assembles on as .code64 after target; clobbers %eax, %ecx and %edx.
 * The upper halves of the registers are undefined after the switch: the
 * caller loads what it needs afresh.
 */
.macro	LONG_MODE gdt, target
	movl	%eax, %cr3
	movl	%cr4, %eax
	orl	$(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl	%eax, %cr4
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl	%cr0, %eax
	andl	$~(CR0_EM | CR0_TS), %eax
	orl	$(CR0_MP | CR0_NE | CR0_PG), %eax
	movl	%eax, %cr0
	lgdt	\gdt\()_ptr
	ljmp	$GDT_CODE64, $\target

	.code64
\target:
	movl	$GDT_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
.endm
#endif /* __ASSEMBLER__ */

#endif
