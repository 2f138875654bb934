/*
 * The boot-info structure: the one header the loader shares with the kernel.
 *
 * The loader (a 32-bit multiboot program) fills this in, switches to long
 * mode with the first 4 GiB identity-mapped by 2 MiB pages, and jumps to
 * the image's entry point with the registers below.  An image booted by
 * PVH (arch/x86_64/pvh_entry.S) does the same for itself: there the "loader"
 * fields describe the PVH entry's boot page tables.
 *
 *	%rdi	physical address of struct bootinfo
 *	%rsp	a small loader stack (the kernel switches away at once)
 *	IF=0, CR0.PG=1, EFER.LME=1, EFER.NXE=1
 *
 * Every field has a fixed size and offset so that the 32-bit loader and
 * the 64-bit kernel agree on the layout without packing tricks.  All
 * addresses are physical; "end" addresses are exclusive.
 */
#ifndef LIMPET_BOOTINFO_H
#define LIMPET_BOOTINFO_H

#include <stdint.h>

#include <limpet/status.h>

/* The layout's version is the magic's last byte: a loader and an image
 * of different layouts refuse each other ("bad boot info"). */
#define BOOTINFO_MAGIC		0x32544e49424d494cULL	/* "LIMBINT2" */
#define BOOTINFO_MMAP_MAX	32
#define BOOTINFO_CMDLINE_MAX	1024

/* Memory-map entry types, as in the multiboot/e820 map. */
#define BOOTINFO_MEM_USABLE	1
#define BOOTINFO_MEM_RESERVED	2
#define BOOTINFO_MEM_ACPI	3
#define BOOTINFO_MEM_NVS	4
#define BOOTINFO_MEM_BAD	5

struct bootinfo_mmap {
	uint64_t	addr;
	uint64_t	len;
	uint32_t	type;		/* BOOTINFO_MEM_* */
	uint32_t	pad;
};

struct bootinfo {
	uint64_t	magic;		/* BOOTINFO_MAGIC */
	uint64_t	loader_tsc;	/* TSC read at the loader's first instruction */
	uint64_t	loader_start;	/* the loader's extent, incl. bss and */
	uint64_t	loader_end;	/*   its page tables (free once the kernel has its own) */
	uint64_t	image_start;	/* lowest PT_LOAD address of the kernel image */
	uint64_t	image_end;	/* highest PT_LOAD end, incl. bss */
	uint64_t	entry;		/* ELF entry point */
	uint64_t	reserved_end;	/* PAGE_UP(image_end): free RAM starts here */
	/* "kernel-args -- app-args", NUL-terminated, without the loader's path. */
	char		cmdline[BOOTINFO_CMDLINE_MAX];
	uint32_t	mmap_count;
	uint32_t	pad;
	struct bootinfo_mmap mmap[BOOTINFO_MMAP_MAX];
	uint64_t	rsdp;		/* the ACPI RSDP, or 0: search the BIOS area for it */
	/* A copy of the RSDP (multiboot 2 passes one, not its address), or zeros. */
	uint8_t		rsdp_copy[40];
};

/*
 * Exit status through QEMU's isa-debug-exit device (iobase 0xf4, iosize 1).
 * Writing v makes QEMU exit with (v << 1) | 1.  Status s is written as
 * s + 1 so that QEMU's own failure (exit code 1) cannot be mistaken for a
 * guest status: the guest's status s surfaces as QEMU exit code 2s + 3.
 */
#define DEBUG_EXIT_PORT		0xf4
#define DEBUG_EXIT_STATUS_MAX	LIMPET_STATUS_MAX

#endif /* LIMPET_BOOTINFO_H */
