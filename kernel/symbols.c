/*
 * Symbolizing addresses for fault dumps and panics.  The lookup is a
 * linear scan: it runs only when something has already gone wrong, and
 * sorting would need memory we may not have then.
 */
#include <string.h>

#include <kernel/symbols.h>

/* ELF64 symbol (System V gABI, "Symbol Table"). */
struct elf64_sym {
	uint32_t	st_name;
	uint8_t		st_info;
	uint8_t		st_other;
	uint16_t	st_shndx;
	uint64_t	st_value;
	uint64_t	st_size;
};

#define STT_FUNC	2
#define ELF_ST_TYPE(i)	((i) & 0xf)

_Static_assert(sizeof(struct symbols_blob) == 16, "the syms follow 8-byte aligned");

static struct symtab kernel_syms;

void
symbols_init(const void *syms, size_t syms_size, const char *strs, size_t strs_size)
{
	kernel_syms.syms = syms;
	kernel_syms.nsyms = syms != NULL ? syms_size / sizeof(struct elf64_sym) : 0;
	kernel_syms.strs = strs;
	kernel_syms.strs_size = strs != NULL ? strs_size : 0;
}

int
symbols_init_blob(const void *blob, size_t size)
{
	const struct symbols_blob *h = blob;
	size_t syms_bytes;

	if (blob == NULL || size < sizeof(*h) ||
	    memcmp(h->magic, SYMBOLS_BLOB_MAGIC, sizeof(h->magic)) != 0)
		return -1;
	if (h->nsyms > (size - sizeof(*h)) / sizeof(struct elf64_sym))
		return -1;
	syms_bytes = (size_t)h->nsyms * sizeof(struct elf64_sym);
	if (h->strs_size > size - sizeof(*h) - syms_bytes)
		return -1;
	symbols_init(h + 1, syms_bytes, (const char *)(h + 1) + syms_bytes, h->strs_size);
	return 0;
}

int
symtab_lookup(const struct symtab *st, uint64_t addr, const char **name,
    uint64_t *offset)
{
	const struct elf64_sym *syms = st->syms, *best = NULL;

	for (size_t i = 0; i < st->nsyms; i++) {
		const struct elf64_sym *s = &syms[i];

		if (ELF_ST_TYPE(s->st_info) != STT_FUNC || s->st_value > addr)
			continue;
		if (s->st_name >= st->strs_size)
			continue;
		if (s->st_size != 0 && addr - s->st_value >= s->st_size)
			continue;
		/* Prefer a sized symbol that contains addr, then the closest. */
		if (best == NULL || s->st_value > best->st_value ||
		    (s->st_value == best->st_value && best->st_size == 0))
			best = s;
	}
	if (best == NULL)
		return -1;
	/* The string table must hold a NUL after the name. */
	for (size_t i = best->st_name; ; i++) {
		if (i >= st->strs_size)
			return -1;
		if (st->strs[i] == '\0')
			break;
	}
	*name = st->strs + best->st_name;
	*offset = addr - best->st_value;
	return 0;
}

int
symbolize(uint64_t addr, const char **name, uint64_t *offset)
{
	return symtab_lookup(&kernel_syms, addr, name, offset);
}
