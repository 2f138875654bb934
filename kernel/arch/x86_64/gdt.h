/* Segment selectors and IST slots (private to arch/x86_64). */
#ifndef ARCH_X86_64_GDT_H
#define ARCH_X86_64_GDT_H

#define GDT_KCODE	0x08
#define GDT_KDATA	0x10
#define GDT_TSS		0x18
#define IST_DOUBLE_FAULT 1

#endif
