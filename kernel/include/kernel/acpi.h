/*
 * ACPI tables (ACPI 6.4, 5.2): the firmware's description of the machine,
 * read only.  Under QEMU, SeaBIOS (pc, q35) builds them from what QEMU
 * hands it through fw_cfg, devices included (a VM generation ID, for one).
 */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdint.h>

/* Every table starts with this header (5.2.6). */
struct acpi_sdt {
	char		signature[4];
	uint32_t	length;		/* header included */
	uint8_t		revision;
	uint8_t		checksum;	/* all bytes of the table sum to 0 */
	char		oem_id[6];
	char		oem_table_id[8];
	uint32_t	oem_revision;
	uint32_t	creator_id;
	uint32_t	creator_revision;
} __attribute__((packed));

/*
 * The first table with signature sig ("SSDT", "FACP", ...) and, unless
 * oem_table_id is NULL, whose OEM table ID starts with it; mapped read
 * only and checked (length, checksum).  NULL when the machine has no ACPI
 * tables (microvm without ACPI), none matches, or what is there is
 * malformed, which is logged once.  The first call finds the root table.
 */
const struct acpi_sdt *acpi_find(const char *sig, const char *oem_table_id);

/* Where the boot protocol put the RSDP (PVH's start info), searched
 * before the BIOS area; 0 for none.  Call before the first acpi_find(). */
void	acpi_set_rsdp(uint64_t pa);

/* Map [pa, pa + len) read only at its physical address, where it is not
 * mapped already (firmware memory outside the RAM the kernel maps); 0 or
 * -ENOMEM. */
int	acpi_map(uint64_t pa, uint64_t len);

#endif
