/*
 * Symbol lookup for backtraces, over the ELF .symtab/.strtab the loader
 * copied out of the image.  Pure code: tested on the host.
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
 * The function containing addr: its name and the offset into it.
 * Returns 0, or -1 when no function symbol covers addr.
 */
int	symtab_lookup(const struct symtab *st, uint64_t addr, const char **name,
	    uint64_t *offset);
int	symbolize(uint64_t addr, const char **name, uint64_t *offset);

#endif
