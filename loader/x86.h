/*
 * The x86 control-register, MSR and CPUID bits the loader (and the
 * kernel's PVH entry, kernel/arch/x86_64/pvh_entry.S) touches, from
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

/* Selectors in the loader's 64-bit GDT (entry.S). */
#define GDT_CODE64	0x08
#define GDT_DATA	0x10

#endif
