/*
 * Symbol lookup for backtraces, over ELF symbol and string tables: the
 * image's own (below) or those the loader copied out of the image file.
 * Pure code: tested on the host.
 */
#ifndef KERNEL_SYMBOLS_H
#define KERNEL_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct symtab {
	const void	*syms;		/* Elf64_Sym[] */
	size_t		nsyms;
	const char	*strs;
	size_t		strs_size;
};

/* Use the given tables for symbolize(); NULL/0 means no symbols. */
void	symbols_init(const void *syms, size_t syms_size, const char *strs, size_t strs_size);

/*
 * The image's own function symbols, which the build links into it (the
 * section .limpet_symbols, SConstruct's second link): the symbols the
 * kernel names functions by, whichever way it booted (by PVH, or by the
 * loader, which reads no section header).  The blob is this
 * header, nsyms Elf64_Sym entries (8-byte aligned after the header), then
 * strs_size bytes of names.  site_scons/limpet_build.py writes it.
 */
#define SYMBOLS_BLOB_MAGIC	"LIMPSYM1"

struct symbols_blob {
	char		magic[8];	/* SYMBOLS_BLOB_MAGIC, no NUL */
	uint32_t	nsyms;
	uint32_t	strs_size;
};

/* Use the blob's tables: 0, or -1 (and nothing changed) when size bytes
 * at blob are not a whole, well-formed blob. */
int	symbols_init_blob(const void *blob, size_t size);

/*
 * The function containing addr: its name and the offset into it.
 * Returns 0, or -1 when no function symbol covers addr.
 */
int	symtab_lookup(const struct symtab *st, uint64_t addr, const char **name,
	    uint64_t *offset);
int	symbolize(uint64_t addr, const char **name, uint64_t *offset);

#endif
