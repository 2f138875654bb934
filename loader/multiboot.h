/*
 * Multiboot v1, the parts the loader uses.  Section numbers refer to the
 * Multiboot Specification version 0.6.96.  Usable from C and assembly.
 */
#ifndef LOADER_MULTIBOOT_H
#define LOADER_MULTIBOOT_H

/* 3.1.1 "The layout of Multiboot header". */
#define MB_HEADER_MAGIC		0x1badb002
#define MB_HEADER_PAGE_ALIGN	(1 << 0)	/* modules on page boundaries */
#define MB_HEADER_MEMORY_INFO	(1 << 1)	/* we want mem_* and mmap_* */

/* 3.2 "Machine state": %eax on entry. */
#define MB_BOOT_MAGIC		0x2badb002

/* 3.3 "Boot information format": which fields of mb_info are valid. */
#define MB_INFO_MEMORY		(1 << 0)
#define MB_INFO_CMDLINE		(1 << 2)
#define MB_INFO_MODS		(1 << 3)
#define MB_INFO_MMAP		(1 << 6)

/* 3.3, mmap entry types. */
#define MB_MEM_AVAILABLE	1
#define MB_MEM_ACPI		3
#define MB_MEM_NVS		4
#define MB_MEM_BAD		5

#ifndef __ASSEMBLER__
#include <stdint.h>

struct mb_info {
	uint32_t	flags;
	uint32_t	mem_lower;	/* KiB from 0 */
	uint32_t	mem_upper;	/* KiB from 1 MiB */
	uint32_t	boot_device;
	uint32_t	cmdline;	/* physical address of a C string */
	uint32_t	mods_count;
	uint32_t	mods_addr;	/* physical address of mb_module[] */
	uint32_t	syms[4];
	uint32_t	mmap_length;	/* bytes */
	uint32_t	mmap_addr;	/* physical address of mb_mmap entries */
};

struct mb_module {
	uint32_t	mod_start;
	uint32_t	mod_end;	/* exclusive */
	uint32_t	string;
	uint32_t	reserved;
};

/*
 * Entries are variable-sized: size counts the bytes after itself, so the
 * next entry starts size + 4 bytes further on.  They need not be aligned.
 */
struct mb_mmap {
	uint32_t	size;
	uint64_t	addr;
	uint64_t	len;
	uint32_t	type;
} __attribute__((packed));
#endif

#endif
