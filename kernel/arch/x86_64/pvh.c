/*
 * The PVH start info turned into the struct bootinfo kernel_main() takes
 * (pvh_entry.S enters here in long mode, on the boot stack).
 *
 * struct hvm_start_info is Xen's public arch-x86/hvm/start_info.h,
 * version 1: the command line, the RSDP and an e820-style memory map.
 * Modules are not used: the image is the whole program.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <limpet/bootinfo.h>
#include <kernel/console.h>
#include <kernel/exit.h>
#include <kernel/log.h>

#define HVM_START_MAGIC		0x336ec578

struct hvm_start_info {
	uint32_t	magic;
	uint32_t	version;
	uint32_t	flags;
	uint32_t	nr_modules;
	uint64_t	modlist_paddr;
	uint64_t	cmdline_paddr;
	uint64_t	rsdp_paddr;
	/* version 1 and later */
	uint64_t	memmap_paddr;
	uint32_t	memmap_entries;
	uint32_t	reserved;
};

struct hvm_memmap_entry {
	uint64_t	addr;
	uint64_t	size;
	uint32_t	type;		/* e820 types, as BOOTINFO_MEM_* */
	uint32_t	reserved;
};

/* From pvh_entry.S and kernel.ld. */
extern uint64_t pvh_entry_tsc;
extern char pvh_tables_start[], pvh_tables_end[];
extern char __image_start[], __image_end[], _start[];

struct bootinfo *pvh_bootinfo(uint32_t start_info);

static struct bootinfo pvh_bi;

static void pvh_die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

/* The loader's status and message form (bootinfo.h, LOADER_STATUS). */
static void
pvh_die(const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	console_init();
	kprintf("pvh: error: %s\n", msg);
	machine_exit(LIMPET_STATUS_BAD_IMAGE);
}

struct bootinfo *
pvh_bootinfo(uint32_t pa)
{
	const struct hvm_start_info *si = (const struct hvm_start_info *)(uintptr_t)pa;
	const struct hvm_memmap_entry *e;
	struct bootinfo *bi = &pvh_bi;
	size_t n;

	if (si->magic != HVM_START_MAGIC)
		pvh_die("no PVH start info at 0x%x (magic 0x%x, want 0x%x)",
		    (unsigned)pa, (unsigned)si->magic, HVM_START_MAGIC);
	if (si->version < 1 || si->memmap_paddr == 0 || si->memmap_entries == 0)
		pvh_die("the PVH start info (version %u) has no memory map",
		    (unsigned)si->version);
	if (si->memmap_entries > BOOTINFO_MMAP_MAX)
		pvh_die("the memory map has %u entries, more than %u",
		    (unsigned)si->memmap_entries, BOOTINFO_MMAP_MAX);

	bi->magic = BOOTINFO_MAGIC;
	bi->loader_tsc = pvh_entry_tsc;
	/* The boot page tables, freed with the loader's memory. */
	bi->loader_start = (uint64_t)pvh_tables_start;
	bi->loader_end = (uint64_t)pvh_tables_end;
	bi->image_start = (uint64_t)__image_start;
	bi->image_end = (uint64_t)__image_end;
	bi->reserved_end = (uint64_t)__image_end;
	bi->entry = (uint64_t)_start;
	bi->rsdp = si->rsdp_paddr;

	e = (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		bi->mmap[i].addr = e[i].addr;
		bi->mmap[i].len = e[i].size;
		bi->mmap[i].type = e[i].type >= BOOTINFO_MEM_USABLE &&
		    e[i].type <= BOOTINFO_MEM_BAD ? e[i].type : BOOTINFO_MEM_RESERVED;
	}
	bi->mmap_count = si->memmap_entries;

	if (si->cmdline_paddr != 0) {
		const char *s = (const char *)(uintptr_t)si->cmdline_paddr;

		n = strnlen(s, BOOTINFO_CMDLINE_MAX);
		if (n == BOOTINFO_CMDLINE_MAX)
			pvh_die("the command line is longer than the %u bytes the "
			    "kernel takes", BOOTINFO_CMDLINE_MAX - 1);
		memcpy(bi->cmdline, s, n + 1);
	}
	return bi;
}
