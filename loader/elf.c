/*
 * Checking a kernel image.  The structures and constants follow the
 * System V ABI's ELF chapter (gABI, "ELF Header", "Program Header",
 * "Sections") and its ELF-64 extension; EM_X86_64 is from the x86-64 psABI.
 *
 * Every offset and size read from the file is checked against the file
 * before use, and every sum is checked for overflow, so that a corrupt
 * image yields a message, never a wild copy.
 */
#include "elf.h"
#include "fmt.h"

#define EI_CLASS	4
#define EI_DATA		5
#define EI_VERSION	6
#define ELFCLASS64	2
#define ELFDATA2LSB	1
#define EV_CURRENT	1
#define ET_EXEC		2
#define ET_DYN		3
#define EM_X86_64	62
#define PT_LOAD		1

struct ehdr {
	unsigned char	e_ident[16];
	uint16_t	e_type;
	uint16_t	e_machine;
	uint32_t	e_version;
	uint64_t	e_entry;
	uint64_t	e_phoff;
	uint64_t	e_shoff;
	uint32_t	e_flags;
	uint16_t	e_ehsize;
	uint16_t	e_phentsize;
	uint16_t	e_phnum;
	uint16_t	e_shentsize;
	uint16_t	e_shnum;
	uint16_t	e_shstrndx;
};

struct phdr {
	uint32_t	p_type;
	uint32_t	p_flags;
	uint64_t	p_offset;
	uint64_t	p_vaddr;
	uint64_t	p_paddr;
	uint64_t	p_filesz;
	uint64_t	p_memsz;
	uint64_t	p_align;
};

/* Every field is naturally aligned, so i386 and x86_64 agree on these. */
_Static_assert(sizeof(struct ehdr) == 64, "Elf64_Ehdr");
_Static_assert(sizeof(struct phdr) == 56, "Elf64_Phdr");

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Whether [off, off + len) lies inside a file of size bytes. */
static int in_file(uint64_t off, uint64_t len, uint32_t size)
{
	return off <= size && len <= size - off;
}

/* The file may be unaligned: copy headers out rather than cast pointers. */
static void get(void *dst, const unsigned char *file, uint64_t off, size_t n)
{
	__builtin_memcpy(dst, file + (size_t)off, n);
}

static int check_header(const unsigned char *p, uint32_t size,
			struct ehdr *eh, char *err, size_t errlen)
{
	static const char what[] = "image is not an ELF64 x86_64 executable";

	if (size < 4 || p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F')
		return fail(err, errlen, "%s: no ELF magic (\\x7fELF) at its start",
			    what);
	if (size < sizeof *eh)
		return fail(err, errlen, "image is truncated: %u bytes, shorter "
			    "than an ELF64 header (64 bytes)", size);
	get(eh, p, 0, sizeof *eh);
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return fail(err, errlen, "%s: ELF class %u, want 2 (64-bit; "
			    "1 is 32-bit)", what, eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(err, errlen, "%s: data encoding %u, want 1 "
			    "(little-endian)", what, eh->e_ident[EI_DATA]);
	if (eh->e_ident[EI_VERSION] != EV_CURRENT)
		return fail(err, errlen, "%s: ELF version %u, want 1", what,
			    eh->e_ident[EI_VERSION]);
	if (eh->e_machine != EM_X86_64)
		return fail(err, errlen, "%s: machine %u, want 62 (x86_64)",
			    what, eh->e_machine);
	if (eh->e_type == ET_DYN)
		return fail(err, errlen, "%s: type 3 (ET_DYN, position-"
			    "independent), want 2 (ET_EXEC): link with -no-pie",
			    what);
	if (eh->e_type != ET_EXEC)
		return fail(err, errlen, "%s: type %u, want 2 (ET_EXEC)", what,
			    eh->e_type);
	return 0;
}

static int check_segments(const unsigned char *p, uint32_t size,
			  const struct ehdr *eh, struct elf_info *out,
			  char *err, size_t errlen)
{
	struct phdr ph;
	struct elf_segment *s;
	uint32_t i, tab_len;

	if (eh->e_phentsize != sizeof ph)
		return fail(err, errlen, "image program header size is %u, "
			    "want 56", eh->e_phentsize);
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHNUM)
		return fail(err, errlen, "image has %u program headers, want "
			    "1 to %u", eh->e_phnum, ELF_MAX_PHNUM);
	tab_len = (uint32_t)eh->e_phnum * sizeof ph;
	if (!in_file(eh->e_phoff, tab_len, size))
		return fail(err, errlen, "image program headers at offset "
			    "0x%llx (0x%x bytes) lie outside the file (%u bytes)",
			    FMT_U64(eh->e_phoff), tab_len, size);

	for (i = 0; i < eh->e_phnum; i++) {
		get(&ph, p, eh->e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if (!in_file(ph.p_offset, ph.p_filesz, size))
			return fail(err, errlen, "image segment %u (offset "
				    "0x%llx, 0x%llx bytes) lies outside the file "
				    "(%u bytes)", i, FMT_U64(ph.p_offset),
				    FMT_U64(ph.p_filesz), size);
		if (ph.p_filesz > ph.p_memsz)
			return fail(err, errlen, "image segment %u has filesz "
				    "0x%llx > memsz 0x%llx", i,
				    FMT_U64(ph.p_filesz), FMT_U64(ph.p_memsz));
		if (ph.p_memsz > UINT64_MAX - ph.p_paddr)
			return fail(err, errlen, "image segment %u at 0x%llx "
				    "(0x%llx bytes) overflows the address space",
				    i, FMT_U64(ph.p_paddr), FMT_U64(ph.p_memsz));
		if (ph.p_vaddr != ph.p_paddr)
			return fail(err, errlen, "image segment %u has vaddr "
				    "0x%llx != paddr 0x%llx: the kernel must be "
				    "linked identity-mapped", i,
				    FMT_U64(ph.p_vaddr), FMT_U64(ph.p_paddr));
		if (ph.p_memsz == 0)
			continue;
		if (out->nsegs == ELF_MAX_SEGMENTS)
			return fail(err, errlen, "image has more than %u "
				    "loadable segments", ELF_MAX_SEGMENTS);
		/* The gABI wants PT_LOADs sorted by address; we also want them
		 * disjoint, so that loading order cannot matter. */
		if (out->nsegs > 0 && ph.p_paddr < out->end)
			return fail(err, errlen, "image segment %u at 0x%llx "
				    "overlaps or precedes the previous one (ending "
				    "at 0x%llx)", i, FMT_U64(ph.p_paddr),
				    FMT_U64(out->end));
		s = &out->seg[out->nsegs++];
		s->addr = ph.p_paddr;
		s->memsz = ph.p_memsz;
		s->offset = ph.p_offset;
		s->filesz = ph.p_filesz;
		if (out->nsegs == 1)
			out->start = s->addr;
		out->end = s->addr + s->memsz;
	}
	if (out->nsegs == 0)
		return fail(err, errlen, "image has no loadable segment");

	for (i = 0; i < out->nsegs; i++) {
		s = &out->seg[i];
		if (eh->e_entry >= s->addr && eh->e_entry - s->addr < s->filesz)
			break;
	}
	if (i == out->nsegs)
		return fail(err, errlen, "image entry point 0x%llx lies outside "
			    "the file contents of its segments",
			    FMT_U64(eh->e_entry));
	out->entry = eh->e_entry;
	return 0;
}

int elf_check(const void *buf, uint32_t size, struct elf_info *out,
	      char *err, size_t errlen)
{
	const unsigned char *p = buf;
	struct ehdr eh;

	__builtin_memset(out, 0, sizeof *out);
	if (errlen > 0)
		err[0] = '\0';
	if (check_header(p, size, &eh, err, errlen) != 0 ||
	    check_segments(p, size, &eh, out, err, errlen) != 0) {
		__builtin_memset(out, 0, sizeof *out);
		return -1;
	}
	return 0;
}
