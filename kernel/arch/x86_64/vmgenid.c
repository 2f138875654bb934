/*
 * QEMU's VM generation ID (hw/acpi/vmgenid.c; docs/specs/vmgenid.txt in
 * QEMU's source).  QEMU gives it its own SSDT, OEM table ID "VMGENID",
 * which declares
 *	Name (VGIA, <a DWORD>)
 * and has the firmware patch that DWORD with the address of a page it
 * allocates (the BIOS linker/loader).  The ID is the 16 bytes at offset
 * 40 of that page; QEMU writes a new one there when the VM is restored
 * (and raises an ACPI event, which we need not wait for: readers compare
 * the bytes).  The ACPI way to learn the address is to run the device's
 * ADDR method, which takes an AML interpreter; ADDR reads it from VGIA,
 * and so do we, from the bytes that encode it: NameOp (0x08), the name,
 * DWordPrefix (0x0c), the value.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <kernel/acpi.h>
#include <kernel/log.h>
#include <kernel/vmgenid.h>

#define ID_OFFSET	40		/* QEMU's VMGENID_GUID_OFFSET */

static enum { UNSEARCHED, FOUND, ABSENT } state;
static const volatile uint8_t *id_at;

static void
find(void)
{
	static const uint8_t vgia[] = { 0x08, 'V', 'G', 'I', 'A', 0x0c };
	const struct acpi_sdt *t = acpi_find("SSDT", "VMGENID");
	const uint8_t *p, *end;
	uint32_t pa;

	state = ABSENT;
	if (t == NULL)
		return;
	end = (const uint8_t *)t + t->length;
	for (p = (const uint8_t *)(t + 1); p + sizeof(vgia) + 4 <= end; p++)
		if (memcmp(p, vgia, sizeof(vgia)) == 0)
			break;
	if (p + sizeof(vgia) + 4 > end) {
		log_warn("vmgenid: QEMU's VMGENID table declares no VGIA: ID not used");
		return;
	}
	memcpy(&pa, p + sizeof(vgia), sizeof(pa));
	if (pa == 0 || acpi_map((uint64_t)pa + ID_OFFSET, VMGENID_BYTES) != 0) {
		log_warn("vmgenid: the firmware gave the ID no address (0x%x): ID not used", pa);
		return;
	}
	id_at = (const volatile uint8_t *)(uintptr_t)((uint64_t)pa + ID_OFFSET);
	state = FOUND;
	log_info("vmgenid: VM generation ID at 0x%llx", (unsigned long long)(uintptr_t)id_at);
}

int
vmgenid_read(uint8_t id[VMGENID_BYTES])
{
	if (state == UNSEARCHED)
		find();
	if (state != FOUND)
		return -ENODEV;
	for (int i = 0; i < VMGENID_BYTES; i++)
		id[i] = id_at[i];
	return 0;
}
