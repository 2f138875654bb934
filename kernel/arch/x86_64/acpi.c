/*
 * Finding ACPI tables (ACPI 6.4, 5.2): the Root System Description
 * Pointer, by its signature on a 16-byte boundary in the BIOS area
 * 0xe0000-0xfffff (5.2.5.1; SeaBIOS puts it there), then the XSDT (ACPI
 * 2.0 and later, 64-bit entries) or the RSDT (32-bit entries), which
 * point at every other table.  The extended BIOS data area, the other
 * place 5.2.5.1 names, is not searched: its segment would be read from
 * page 0, which stays unmapped to catch NULL pointers.
 *
 * The tables live in memory the firmware reserved, outside the RAM the
 * kernel maps; each is mapped read only when found.  Firmware is trusted
 * no further than needed: lengths are bounded and checksums checked, and
 * a table that fails is skipped.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kernel/acpi.h>
#include <kernel/log.h>
#include <kernel/mm.h>

#define BIOS_AREA	0xe0000ULL
#define BIOS_AREA_END	0x100000ULL
#define TABLE_MAX	(1u << 20)		/* far above any QEMU makes */
#define PHYS_LIMIT	(1ULL << 46)		/* the kernel's identity map's reach */

/* 5.2.5.3 */
struct rsdp {
	char		signature[8];		/* "RSD PTR " */
	uint8_t		checksum;		/* of the first 20 bytes */
	char		oem_id[6];
	uint8_t		revision;		/* 0: ACPI 1.0, 2: 2.0 and later */
	uint32_t	rsdt;
	uint32_t	length;			/* from here on: revision 2 */
	uint64_t	xsdt;
	uint8_t		xchecksum;		/* of all length bytes */
	uint8_t		reserved[3];
} __attribute__((packed));

#define RSDP_V1_LEN	20

static enum { UNSEARCHED, FOUND, ABSENT } state;
static const struct acpi_sdt *root;	/* the XSDT or RSDT */
static size_t entry_size;		/* 8 (XSDT) or 4 (RSDT) */
static uint64_t given_rsdp;		/* acpi_set_rsdp() */

static uint8_t
sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s += *b++;
	return s;
}

int
acpi_map(uint64_t pa, uint64_t len)
{
	if (pa >= PHYS_LIMIT || len > PHYS_LIMIT - pa)
		return -ENOMEM;
	for (uint64_t a = PAGE_ROUND_DOWN(pa); a < pa + len; a += PAGE_SIZE)
		if (virt_to_phys(a) == (uint64_t)-1 && map_page(a, a, PTE_NX) != 0)
			return -ENOMEM;
	return 0;
}

/* The table at pa, mapped, when its length and checksum hold. */
static const struct acpi_sdt *
table_at(uint64_t pa)
{
	const struct acpi_sdt *t = (const struct acpi_sdt *)(uintptr_t)pa;

	if (pa == 0 || acpi_map(pa, sizeof(*t)) != 0)
		return NULL;
	if (t->length < sizeof(*t) || t->length > TABLE_MAX ||
	    acpi_map(pa, t->length) != 0 || sum(t, t->length) != 0) {
		log_warn("acpi: the table at 0x%llx (\"%.4s\", %u bytes) is malformed; skipped",
		    (unsigned long long)pa, t->signature, (unsigned)t->length);
		return NULL;
	}
	return t;
}

/*
 * Take the root table the RSDP at pa points at (len bytes at pa are
 * mapped): 0; -EINVAL when pa holds no RSDP (signature or checksum);
 * -ENOENT when it is one but points at no valid table.
 */
static int
take_rsdp(uint64_t pa, uint64_t len)
{
	const struct rsdp *r = (const struct rsdp *)(uintptr_t)pa;

	if (len < RSDP_V1_LEN || memcmp(r->signature, "RSD PTR ", 8) != 0 ||
	    sum(r, RSDP_V1_LEN) != 0)
		return -EINVAL;
	if (r->revision >= 2 && len >= sizeof(*r) && r->length >= sizeof(*r) &&
	    r->length <= len && sum(r, r->length) == 0 &&
	    (root = table_at(r->xsdt)) != NULL && memcmp(root->signature, "XSDT", 4) == 0)
		entry_size = 8;
	else if ((root = table_at(r->rsdt)) != NULL && memcmp(root->signature, "RSDT", 4) == 0)
		entry_size = 4;
	else {
		log_warn("acpi: the RSDP at 0x%llx points at no valid RSDT or XSDT",
		    (unsigned long long)pa);
		root = NULL;
		return -ENOENT;
	}
	state = FOUND;
	log_debug("acpi: %.4s at 0x%llx (RSDP at 0x%llx), %u tables", root->signature,
	    (unsigned long long)(uintptr_t)root, (unsigned long long)pa,
	    (unsigned)((root->length - sizeof(*root)) / entry_size));
	return 0;
}

/* The RSDP the boot protocol gave (PVH does), else the BIOS area's. */
static void
find_root(void)
{
	state = ABSENT;
	if (given_rsdp != 0) {
		if (acpi_map(given_rsdp, sizeof(struct rsdp)) == 0 &&
		    take_rsdp(given_rsdp, sizeof(struct rsdp)) == 0)
			return;
		log_warn("acpi: no valid RSDP at 0x%llx, where the boot protocol "
		    "put it; searching the BIOS area", (unsigned long long)given_rsdp);
	}
	if (acpi_map(BIOS_AREA, BIOS_AREA_END - BIOS_AREA) != 0)
		return;
	for (uint64_t a = BIOS_AREA; a + RSDP_V1_LEN <= BIOS_AREA_END; a += 16) {
		if (take_rsdp(a, BIOS_AREA_END - a) != -EINVAL)
			return;
	}
}

void
acpi_set_rsdp(uint64_t pa)
{
	given_rsdp = pa;
}

const struct acpi_sdt *
acpi_find(const char *sig, const char *oem_table_id)
{
	const uint8_t *entries;
	size_t n, idlen;

	if (state == UNSEARCHED)
		find_root();
	if (state != FOUND)
		return NULL;
	idlen = oem_table_id != NULL ? strnlen(oem_table_id, 8) : 0;
	entries = (const uint8_t *)(root + 1);
	n = (root->length - sizeof(*root)) / entry_size;
	for (size_t i = 0; i < n; i++) {
		const struct acpi_sdt *t;
		uint64_t pa = 0;

		memcpy(&pa, entries + i * entry_size, entry_size);
		if ((t = table_at(pa)) == NULL || memcmp(t->signature, sig, 4) != 0)
			continue;
		if (idlen != 0 && memcmp(t->oem_table_id, oem_table_id, idlen) != 0)
			continue;
		return t;
	}
	return NULL;
}
