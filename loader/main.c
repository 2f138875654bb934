/*
 * The loader: from multiboot's (v1 or v2) 32-bit protected mode to the kernel image's
 * entry point in long mode, with a struct bootinfo in hand.
 *
 * Physical memory when the loader jumps to the kernel:
 *
 *   0         1 MiB                  loader_end   image_start    image_end
 *   +---------+--------------------------+-- ... --+---------------+
 *   | BIOS,   | loader: code, data,      |         | PT_LOAD       |
 *   | untouched| bootinfo, page tables,  |         | segments      |
 *   |         | stack (4 KiB)            |         | (2 MiB up)    |
 *   +---------+--------------------------+-- ... --+---------------+
 *                                  PAGE_UP(image_end) = reserved_end
 *                                                  +----------------------
 *                                                  | free RAM (the image file,
 *                                                  |  moved or not, is garbage)
 *
 * QEMU puts the multiboot module (the image file) and the multiboot info
 * just after the loader's bss, where they may well overlap the image's
 * destination.  So the loader first copies everything it needs from the
 * multiboot info into the bootinfo, then, if the file overlaps
 * [image_start, reserved_end), moves it to reserved_end, and only then
 * copies the segments out of it.  The image's function symbols, for
 * backtraces, come with its segments (.limpet_symbols): the loader reads
 * no section header.
 *
 * On any error the loader prints one line on COM1 and stops the VM with
 * LOADER_STATUS.  It prints nothing when all goes well.
 */
#include <stddef.h>
#include <stdint.h>

#include <limpet/bootinfo.h>

#include "elf.h"
#include "fmt.h"
#include "lib.h"
#include "multiboot.h"
#include "serial.h"
#include "x86.h"

/*
 * The status the loader stops the VM with on an error: QEMU then exits
 * with 2 * 124 + 3 = 251 (bootinfo.h).  It lies next to the kernel's
 * panic status (125), away from the small statuses services use.
 */
#define LOADER_STATUS	LIMPET_STATUS_BAD_IMAGE

#define PAGE_SIZE	4096u
#define PAGE_UP(x)	(((x) + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1))
#define LOW_MEM_END	0x100000u		/* BIOS, VGA, option ROMs */
#define ADDR_LIMIT	0x100000000ull		/* 32-bit code reaches 4 GiB */
#define MiB		0x100000u

/* The layout of struct bootinfo must be the same as in the 64-bit kernel. */
_Static_assert(offsetof(struct bootinfo, cmdline) == 64, "bootinfo layout");
_Static_assert(offsetof(struct bootinfo, mmap_count) == 1088, "bootinfo layout");
_Static_assert(offsetof(struct bootinfo, mmap) == 1096, "bootinfo layout");
_Static_assert(sizeof(struct bootinfo_mmap) == 24, "bootinfo layout");
_Static_assert(offsetof(struct bootinfo, rsdp) == 1864, "bootinfo layout");
_Static_assert(offsetof(struct bootinfo, rsdp_copy) == 1872, "bootinfo layout");
_Static_assert(sizeof(struct bootinfo) == 1912, "bootinfo layout");

/* From loader.ld and entry.S. */
extern char __loader_start[], __loader_end[];
extern uint64_t boot_tsc;
extern uint32_t boot_magic, boot_mbi;
extern uint64_t handoff_entry;
extern uint32_t handoff_bootinfo;
void	enter_long_mode(uint32_t pml4) __attribute__((noreturn));
void	loader_main(void) __attribute__((noreturn));

static struct bootinfo bootinfo;

/* Identity map of the first 4 GiB with 2 MiB pages: 1 + 1 + 4 pages. */
static uint64_t pml4[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t pdpt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t pd[4][512] __attribute__((aligned(PAGE_SIZE)));

static void die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	serial_init();
	serial_puts("loader: error: ");
	serial_puts(msg);
	serial_puts("\n");
	outb(DEBUG_EXIT_PORT, LOADER_STATUS + 1);
	/* No isa-debug-exit device: stop here for good. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *d)
{
	uint32_t b, c;

	__asm__ volatile("cpuid" : "=a"(*a), "=b"(b), "=c"(c), "=d"(*d)
			 : "a"(leaf), "c"(0));
}

/* Long mode and NX: the kernel's page tables use the NX bit. */
static void check_cpu(void)
{
	uint32_t max, edx;

	cpuid(CPUID_EXT, &max, &edx);
	if (max < CPUID_EXT_FEATURES)
		die("the CPU has no long mode (no CPUID leaf 0x80000001)");
	cpuid(CPUID_EXT_FEATURES, &max, &edx);
	if (!(edx & CPUID_EXT_EDX_LM))
		die("the CPU has no long mode (CPUID 0x80000001 EDX bit 29)");
	if (!(edx & CPUID_EXT_EDX_NX))
		die("the CPU has no NX bit (CPUID 0x80000001 EDX bit 20)");
}

static uint32_t mem_type(uint32_t mb_type)
{
	switch (mb_type) {
	case MB_MEM_AVAILABLE:	return BOOTINFO_MEM_USABLE;
	case MB_MEM_ACPI:	return BOOTINFO_MEM_ACPI;
	case MB_MEM_NVS:	return BOOTINFO_MEM_NVS;
	case MB_MEM_BAD:	return BOOTINFO_MEM_BAD;
	default:		return BOOTINFO_MEM_RESERVED;
	}
}

static void add_mem(uint64_t addr, uint64_t len, uint32_t type)
{
	struct bootinfo_mmap *m;

	if (len == 0)
		return;
	if (bootinfo.mmap_count == BOOTINFO_MMAP_MAX)
		die("the memory map has more than %u entries", BOOTINFO_MMAP_MAX);
	m = &bootinfo.mmap[bootinfo.mmap_count++];
	m->addr = addr;
	m->len = len;
	m->type = type;
}

static void take_mmap(const struct mb_info *mbi)
{
	uint32_t p, end;
	const struct mb_mmap *e;

	if (mbi->flags & MB_INFO_MMAP) {
		p = mbi->mmap_addr;
		end = mbi->mmap_addr + mbi->mmap_length;
		while (end - p >= sizeof *e) {
			e = (const struct mb_mmap *)p;
			if (e->size < sizeof *e - sizeof e->size)
				die("multiboot memory map entry at 0x%x has size "
				    "%u, want at least 20", p, e->size);
			add_mem(e->addr, e->len, mem_type(e->type));
			p += e->size + sizeof e->size;
		}
	} else if (mbi->flags & MB_INFO_MEMORY) {
		add_mem(0, mbi->mem_lower * 1024ull, BOOTINFO_MEM_USABLE);
		add_mem(MiB, mbi->mem_upper * 1024ull, BOOTINFO_MEM_USABLE);
	}
	if (bootinfo.mmap_count == 0)
		die("the boot loader passed no memory map");
}

static void put_cmdline(const char *s)
{
	size_t n = strlen(s);

	if (n > BOOTINFO_CMDLINE_MAX - 1)
		die("the command line is %u bytes long, more than the %u the "
		    "kernel takes", (unsigned)n, BOOTINFO_CMDLINE_MAX - 1);
	memcpy(bootinfo.cmdline, s, n + 1);
}

/* Whether the boot loader says it is GRUB (multiboot info, bit 9). */
static int booted_by_grub(const struct mb_info *mbi)
{
	return (mbi->flags & MB_INFO_LOADER_NAME) && mbi->boot_loader_name != 0 &&
	       strncmp((const char *)mbi->boot_loader_name, "GRUB", 4) == 0;
}

/*
 * QEMU passes "<loader path> <-append string>": keep what follows the
 * first word and the one space after it, byte for byte.  GRUB 2 passes
 * only what follows the file name on its multiboot line: keep it whole.
 */
static void take_cmdline(const struct mb_info *mbi)
{
	const char *s;

	if (!(mbi->flags & MB_INFO_CMDLINE) || mbi->cmdline == 0)
		return;
	s = (const char *)mbi->cmdline;
	if (!booted_by_grub(mbi)) {
		while (*s == ' ')
			s++;
		while (*s != '\0' && *s != ' ')
			s++;
		if (*s == ' ')
			s++;
	}
	put_cmdline(s);
}

/*
 * The end of the usable RAM that runs without a gap from addr (entries may
 * abut), capped at 4 GiB; addr itself when addr is not in usable RAM.
 */
static uint64_t ram_end(uint64_t addr)
{
	const struct bootinfo_mmap *m;
	uint64_t end = addr, m_end;
	uint32_t i;
	int grew;

	do {
		grew = 0;
		for (i = 0; i < bootinfo.mmap_count; i++) {
			m = &bootinfo.mmap[i];
			m_end = m->len > UINT64_MAX - m->addr ? UINT64_MAX
							     : m->addr + m->len;
			if (m->type == BOOTINFO_MEM_USABLE && m->addr <= end &&
			    end < m_end) {
				end = m_end;
				grew = 1;
			}
		}
	} while (grew);
	return end < ADDR_LIMIT ? end : ADDR_LIMIT;
}

/*
 * Check that the loader may write [lo, hi): usable RAM below 4 GiB, above
 * the first 1 MiB, clear of the loader (which holds the bootinfo, the page
 * tables and the stack).  what names the range in the message.
 */
static void check_place(const char *what, uint64_t lo, uint64_t hi)
{
	uint64_t ls = (uint32_t)__loader_start, le = (uint32_t)__loader_end;
	uint64_t end;

	if (lo < LOW_MEM_END)
		die("%s 0x%llx-0x%llx overlaps the first 1 MiB", what,
		    FMT_U64(lo), FMT_U64(hi));
	if (lo < le && hi > ls)
		die("%s 0x%llx-0x%llx overlaps the loader (0x%llx-0x%llx)", what,
		    FMT_U64(lo), FMT_U64(hi), FMT_U64(ls), FMT_U64(le));
	if (hi > ADDR_LIMIT)
		die("%s 0x%llx-0x%llx lies beyond 4 GiB, out of the loader's "
		    "reach", what, FMT_U64(lo), FMT_U64(hi));
	end = ram_end(lo);
	if (end == lo && hi > lo)
		die("%s 0x%llx-0x%llx does not start in usable RAM", what,
		    FMT_U64(lo), FMT_U64(hi));
	if (end < hi)
		die("%s 0x%llx-0x%llx does not fit in RAM (ends at 0x%llx)",
		    what, FMT_U64(lo), FMT_U64(hi), FMT_U64(end));
}

static void *phys(uint64_t addr)
{
	return (void *)(uint32_t)addr;
}

/*
 * Copy len bytes from src up to dst (dst >= src; the ranges may overlap):
 * forward copies of at most dst - src bytes each, from the top down, so
 * that no copy reads what an earlier one wrote.  TCG runs forward string
 * copies much faster than the backward ones memmove() needs.
 */
static void move_up(uint64_t dst, uint64_t src, uint64_t len)
{
	uint64_t shift = dst - src, step;

	if (shift == 0)
		return;
	while (len > 0) {
		step = len < shift ? len : shift;
		len -= step;
		memcpy(phys(dst + len), phys(src + len), (size_t)step);
	}
}

/* A part of the image file and where it goes. */
struct piece {
	uint64_t	dst, src, len;
};

/*
 * Copy the pieces out of the file where it lies, although it may overlap
 * where they go (QEMU puts the module just above the loader, below the
 * image's link address): when every piece moves up and no two pieces
 * share file bytes, moving them from the highest source down never
 * overwrites a source still to be copied, since each writes only above
 * its own source, where the pieces already moved were.  0, or -1 (and
 * nothing copied) when the layout is not like that.
 */
static int copy_in_place(struct piece *p, uint32_t n)
{
	struct piece t;
	uint32_t i, j;

	/* Sort by source, highest first (n is a handful). */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && p[j - 1].src < p[j].src; j--) {
			t = p[j];
			p[j] = p[j - 1];
			p[j - 1] = t;
		}
	for (i = 0; i < n; i++)
		if (p[i].dst < p[i].src ||
		    (i + 1 < n && p[i + 1].src + p[i + 1].len > p[i].src))
			return -1;
	for (i = 0; i < n; i++)
		move_up(p[i].dst, p[i].src, p[i].len);
	return 0;
}

/* Map 0-4 GiB to itself, writable and executable, with 2 MiB pages. */
static void build_page_tables(void)
{
	uint32_t i, j;

	pml4[0] = (uint32_t)pdpt | PTE_P | PTE_W;
	for (i = 0; i < 4; i++) {
		pdpt[i] = (uint32_t)pd[i] | PTE_P | PTE_W;
		for (j = 0; j < 512; j++)
			pd[i][j] = ((uint64_t)(i * 512 + j) << 21) |
				   PTE_P | PTE_W | PTE_PS;
	}
}

/*
 * Multiboot 2's info (3.6): the memory map, the command line (GRUB passes
 * only what follows the file name), the first module and a copy of the
 * RSDP, which the kernel reads from its copy of the bootinfo (under UEFI
 * it cannot search for it).  A tag that runs past the info's end stops
 * the walk with an error.
 */
static void take_mb2(uint32_t info, uint32_t *mod_start, uint32_t *mod_end)
{
	uint32_t total = *(const uint32_t *)info, p, end = info + total;
	const struct mb2_tag *t;
	const struct mb2_mmap *mm;
	const struct mb2_mmap_entry *e;
	const struct mb2_module *mod;
	uint32_t q, rsdp_len = 0;

	*mod_start = *mod_end = 0;
	if (total < 16 || end < info)
		die("multiboot2 info at 0x%x has size %u", info, total);
	for (p = info + 8; p + sizeof *t <= end; p += (t->size + 7) & ~7u) {
		t = (const struct mb2_tag *)p;
		if (t->type == MB2_TAG_END)
			break;
		if (t->size < sizeof *t || t->size > end - p)
			die("multiboot2 tag %u at 0x%x has size %u, beyond the info",
			    t->type, p, t->size);
		switch (t->type) {
		case MB2_TAG_CMDLINE:
			if (t->size > sizeof *t && ((const char *)p)[t->size - 1] == '\0')
				put_cmdline((const char *)(p + sizeof *t));
			break;
		case MB2_TAG_MODULE:
			mod = (const struct mb2_module *)p;
			if (*mod_end == 0 && t->size >= sizeof *mod) {
				*mod_start = mod->mod_start;
				*mod_end = mod->mod_end;
			}
			break;
		case MB2_TAG_MMAP:
			mm = (const struct mb2_mmap *)p;
			if (t->size < sizeof *mm || mm->entry_size < sizeof *e)
				die("multiboot2 memory map at 0x%x has entries of %u bytes, "
				    "want at least %u", p, t->size < sizeof *mm ? 0 :
				    mm->entry_size, (unsigned)sizeof *e);
			for (q = p + sizeof *mm; t->size - (q - p) >= mm->entry_size;
			     q += mm->entry_size) {
				e = (const struct mb2_mmap_entry *)q;
				add_mem(e->addr, e->len, mem_type(e->type));
			}
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			/* The newer copy wins: its XSDT holds 64-bit addresses. */
			q = t->size - sizeof *t;
			if (q > sizeof bootinfo.rsdp_copy)
				q = sizeof bootinfo.rsdp_copy;
			if (t->type == MB2_TAG_ACPI_NEW || rsdp_len == 0) {
				memcpy(bootinfo.rsdp_copy, (const void *)(p + sizeof *t), q);
				rsdp_len = q;
			}
			break;
		}
	}
	if (bootinfo.mmap_count == 0)
		die("the boot loader passed no memory map");
}

void loader_main(void)
{
	const struct mb_info *mbi = (const struct mb_info *)boot_mbi;
	const struct mb_module *mod;
	struct elf_info elf;
	char err[200];
	uint32_t mod_start, mod_end, mod_size, i;
	uint64_t end, moved;
	const struct elf_segment *s;
	struct piece pieces[ELF_MAX_SEGMENTS];
	uint32_t npieces = 0;
	int overlaps;

	bootinfo.magic = BOOTINFO_MAGIC;
	bootinfo.loader_tsc = boot_tsc;
	bootinfo.loader_start = (uint32_t)__loader_start;
	bootinfo.loader_end = (uint32_t)__loader_end;

	if (boot_magic != MB_BOOT_MAGIC && boot_magic != MB2_BOOT_MAGIC)
		die("not started by a multiboot boot loader (%%eax = 0x%x, "
		    "want 0x%x or 0x%x)", boot_magic, MB_BOOT_MAGIC, MB2_BOOT_MAGIC);
	check_cpu();

	/* Take what we need from the multiboot info before overwriting it. */
	if (boot_magic == MB2_BOOT_MAGIC) {
		take_mb2(boot_mbi, &mod_start, &mod_end);
	} else {
		take_mmap(mbi);
		take_cmdline(mbi);
		if (!(mbi->flags & MB_INFO_MODS) || mbi->mods_count == 0)
			mod_start = mod_end = 0;
		else {
			mod = (const struct mb_module *)mbi->mods_addr;
			mod_start = mod->mod_start;
			mod_end = mod->mod_end;
		}
	}
	if (mod_start == 0 && mod_end == 0)
		die("no kernel image: pass one as a multiboot module "
		    "(QEMU: -initrd IMAGE; GRUB: module2 IMAGE)");
	if (mod_end < mod_start)
		die("image module ends (0x%x) before it starts (0x%x)",
		    mod_end, mod_start);
	mod_size = mod_end - mod_start;
	if (mod_start < (uint32_t)__loader_end &&
	    mod_end > (uint32_t)__loader_start)
		die("image module 0x%x-0x%x overlaps the loader (0x%x-0x%x)",
		    mod_start, mod_end, (uint32_t)__loader_start,
		    (uint32_t)__loader_end);

	if (elf_check(phys(mod_start), mod_size, &elf, err, sizeof err) != 0)
		die("%s", err);

	/* Where the segments go. */
	for (i = 0; i < elf.nsegs; i++)
		check_place("image segment", elf.seg[i].addr,
			    elf.seg[i].addr + elf.seg[i].memsz);
	end = PAGE_UP(elf.end);

	/* The file parts to copy. */
	for (i = 0; i < elf.nsegs; i++) {
		s = &elf.seg[i];
		pieces[npieces++] = (struct piece){ s->addr, mod_start + s->offset, s->filesz };
	}
	/* A file that overlaps where they go is copied in place when it can
	 * be, else moved clear of the image first (above `end`, where it
	 * overlaps nothing). */
	overlaps = mod_start < end && mod_start + (uint64_t)mod_size > elf.start;
	if (overlaps && copy_in_place(pieces, npieces) != 0) {
		moved = end;
		check_place("image file (moved clear of the image)", moved,
			    moved + PAGE_UP((uint64_t)mod_size));
		move_up(moved, mod_start, mod_size);
		for (i = 0; i < npieces; i++)
			pieces[i].src += moved - mod_start;
		overlaps = 0;
	}
	if (!overlaps)
		for (i = 0; i < npieces; i++)
			memcpy(phys(pieces[i].dst), phys(pieces[i].src), (size_t)pieces[i].len);
	/* .bss last: it may cover file bytes copied above. */
	for (i = 0; i < elf.nsegs; i++) {
		s = &elf.seg[i];
		memset(phys(s->addr + s->filesz), 0, (size_t)(s->memsz - s->filesz));
	}

	bootinfo.image_start = elf.start;
	bootinfo.image_end = elf.end;
	bootinfo.entry = elf.entry;
	bootinfo.reserved_end = end;

	build_page_tables();
	handoff_entry = elf.entry;
	handoff_bootinfo = (uint32_t)&bootinfo;
	enter_long_mode((uint32_t)pml4);
}
