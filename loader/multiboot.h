/*
 * Multiboot v1 and v2, the parts the loader uses.  Section numbers refer
 * to the Multiboot Specification version 0.6.96 (v1; QEMU's -kernel) and
 * version 2.0 (v2, "3.x"; GRUB's multiboot2 command, which also passes
 * the ACPI RSDP, the one way to find it under UEFI).  Usable from C and
 * assembly.
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
#define MB_INFO_LOADER_NAME	(1 << 9)

/* 3.3, mmap entry types. */
#define MB_MEM_AVAILABLE	1
#define MB_MEM_ACPI		3
#define MB_MEM_NVS		4
#define MB_MEM_BAD		5

/* Multiboot 2: 3.1.1 header, 3.2 machine state, 3.6 boot information. */
#define MB2_HEADER_MAGIC	0xe85250d6
#define MB2_ARCH_I386		0
#define MB2_HEADER_TAG_END	0
#define MB2_HEADER_TAG_MODULE_ALIGN 6
#define MB2_BOOT_MAGIC		0x36d76289
#define MB2_TAG_END		0
#define MB2_TAG_CMDLINE		1
#define MB2_TAG_LOADER_NAME	2
#define MB2_TAG_MODULE		3
#define MB2_TAG_MMAP		6
#define MB2_TAG_ACPI_OLD	14	/* a copy of the RSDP, ACPI 1.0 */
#define MB2_TAG_ACPI_NEW	15	/* a copy of the RSDP, ACPI 2.0 and later */

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
	uint32_t	drives_length;
	uint32_t	drives_addr;
	uint32_t	config_table;
	uint32_t	boot_loader_name;	/* physical address of a C string */
};

struct mb_module {
	uint32_t	mod_start;
	uint32_t	mod_end;	/* exclusive */
	uint32_t	string;
	uint32_t	reserved;
};

/* 3.6.1: the info starts with its total size; tags follow, 8-byte aligned. */
struct mb2_tag {
	uint32_t	type;
	uint32_t	size;		/* of this tag, without the padding after it */
};

struct mb2_module {
	struct mb2_tag	tag;
	uint32_t	mod_start;
	uint32_t	mod_end;	/* exclusive */
	char		string[];
};

struct mb2_mmap {
	struct mb2_tag	tag;
	uint32_t	entry_size;
	uint32_t	entry_version;
	/* entries: struct mb2_mmap_entry, entry_size bytes apart */
};

struct mb2_mmap_entry {
	uint64_t	addr;
	uint64_t	len;
	uint32_t	type;		/* as v1's: MB_MEM_* */
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
