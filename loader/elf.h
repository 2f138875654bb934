/*
 * Checking a kernel image: an ELF64 x86_64 executable.  Pure code (no I/O,
 * no globals), built into the 32-bit loader and into the host unit tests.
 */
#ifndef LOADER_ELF_H
#define LOADER_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_PHNUM		64	/* program headers we look at */
#define ELF_MAX_SEGMENTS	16	/* PT_LOAD segments with memsz > 0 */

/* A PT_LOAD segment: file bytes [offset, offset + filesz) go to addr. */
struct elf_segment {
	uint64_t	addr;		/* p_paddr, which equals p_vaddr */
	uint64_t	memsz;		/* >= filesz; the rest is zeroed */
	uint64_t	offset;
	uint64_t	filesz;
};

struct elf_info {
	uint64_t	entry;
	uint64_t	start;		/* lowest segment address */
	uint64_t	end;		/* highest segment end (exclusive) */
	uint32_t	nsegs;		/* in ascending, disjoint address order */
	struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/*
 * Check that buf[0..size) is an ELF64 little-endian x86_64 ET_EXEC whose
 * headers and segments all lie inside the file, and describe it in *out.
 * Segments with memsz 0 are left out.  Section headers are not read: the
 * image carries its function symbols in a segment of its own
 * (.limpet_symbols, kernel/include/kernel/symbols.h).
 *
 * Returns 0, or -1 with a one-line reason (no newline) in err, e.g.
 * "image segment 1 file range 0x1000-0x9000 lies outside the file (4096 bytes)".
 * buf needs no particular alignment.
 */
int	elf_check(const void *buf, uint32_t size, struct elf_info *out,
		  char *err, size_t errlen);

#endif
