/*
 * ACPI's fixed power button and soft-off (ACPI 6.4, 4.8 and 16.1.7), on
 * pc (PIIX4) and q35 (ICH9) as QEMU and SeaBIOS describe them:
 *
 *   - The FADT (signature "FACP", 5.2.9) gives the PM1a event and control
 *     register blocks (I/O ports), the SCI's interrupt line, and the SMI
 *     command port with the value that switches the chipset into ACPI
 *     mode (SCI_EN in PM1 control), which an OS does first.
 *   - A press sets PWRBTN_STS in PM1 status and, with PWRBTN_EN set in PM1
 *     enable, raises the SCI: a level-triggered interrupt, routed as the
 *     MADT's interrupt source overrides say (QEMU: ISA IRQ 9, level,
 *     active high), that stays raised until PWRBTN_STS is cleared by
 *     writing 1 to it.
 *   - Soft-off: SLP_TYP for S5, from the \_S5 package in the DSDT, and
 *     SLP_EN, written to PM1 control.  QEMU then quits with status 0.
 *
 * The DSDT is AML; only the bytes of \_S5's package are read (NameOp,
 * "_S5_", PackageOp, its length and count, the first element), as small
 * kernels do, not interpreted.  microvm has no FADT and no PM1 block (its
 * power button is the generic event device): power_init() finds nothing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <kernel/acpi.h>
#include <kernel/intr.h>
#include <kernel/ioapic.h>
#include <kernel/log.h>
#include <kernel/power.h>

#include "cpu.h"

/* FADT field offsets (ACPI 6.4, table 5.9). */
#define FADT_DSDT		40
#define FADT_SCI_INT		46
#define FADT_SMI_CMD		48
#define FADT_ACPI_ENABLE	52
#define FADT_PM1A_EVT_BLK	56
#define FADT_PM1A_CNT_BLK	64
#define FADT_PM1_EVT_LEN	88
#define FADT_MIN_LEN		89

#define PM1_PWRBTN		(1u << 8)	/* in PM1 status and enable */
#define PM1_SCI_EN		(1u << 0)	/* in PM1 control */
#define PM1_SLP_TYP_SHIFT	10
#define PM1_SLP_EN		(1u << 13)

/* MADT (5.2.12): entries after a 44-byte header; type 2 overrides an ISA
 * IRQ's GSI and flags. */
#define MADT_ENTRIES		44
#define MADT_ISO		2

static struct {
	bool		found;		/* a PM1 block to use */
	uint16_t	evt, enable, cnt;	/* PM1a status, enable, control ports */
	bool		s5;		/* SLP_TYP for S5 known */
	uint16_t	slp_typ_s5;
} pm;

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The GSI and I/O APIC flags of ISA IRQ irq, after the MADT's overrides.
 * Without one, the SCI is level-triggered, active low (ACPI 5.2.9). */
static void
sci_route(unsigned irq, unsigned *gsi, unsigned *flags)
{
	const struct acpi_sdt *madt = acpi_find("APIC", NULL);
	const uint8_t *p, *end;

	*gsi = irq;
	*flags = IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW;
	if (madt == NULL)
		return;
	end = (const uint8_t *)madt + madt->length;
	for (p = (const uint8_t *)madt + MADT_ENTRIES; p + 2 <= end && p[1] >= 2 && p + p[1] <= end;
	    p += p[1]) {
		if (p[0] != MADT_ISO || p[1] < 10 || p[3] != irq)
			continue;
		/* MPS INTI flags: polarity in bits 0-1 (1 high, 3 low), trigger
		 * in bits 2-3 (1 edge, 3 level); 0 "as the bus", which for
		 * the SCI is level, active low. */
		unsigned polarity = p[8] & 3, trigger = (p[8] >> 2) & 3;

		*gsi = le32(p + 4);
		*flags = (trigger == 1 ? IOAPIC_EDGE : IOAPIC_LEVEL) |
		    (polarity == 1 ? IOAPIC_ACTIVE_HIGH : IOAPIC_ACTIVE_LOW);
		return;
	}
}

/* SLP_TYPa of \_S5 in the DSDT at pa, into pm; quietly nothing when it
 * cannot be read. */
static void
find_s5(uint32_t pa)
{
	const struct acpi_sdt *dsdt = (const void *)(uintptr_t)pa;
	const uint8_t *p, *end;

	if (pa == 0 || acpi_map(pa, sizeof(*dsdt)) != 0 ||
	    memcmp(dsdt->signature, "DSDT", 4) != 0 || dsdt->length < sizeof(*dsdt) ||
	    dsdt->length > (1u << 20) || acpi_map(pa, dsdt->length) != 0)
		return;
	end = (const uint8_t *)dsdt + dsdt->length;
	for (p = (const uint8_t *)(dsdt + 1); p + 8 <= end; p++) {
		const uint8_t *q;

		/* NameOp (0x08) "_S5_" PackageOp (0x12); "\_S5_" has a root
		 * prefix before the name. */
		if (memcmp(p, "_S5_", 4) != 0 || p[4] != 0x12 ||
		    !(p[-1] == 0x08 || (p[-1] == '\\' && p - 2 >= (const uint8_t *)(dsdt + 1) &&
		    p[-2] == 0x08)))
			continue;
		q = p + 5;
		q += 1 + (*q >> 6);		/* PkgLength: 1 to 4 bytes */
		q++;				/* NumElements */
		if (q >= end)
			return;
		if (*q == 0x00 || *q == 0x01)	/* ZeroOp, OneOp */
			pm.slp_typ_s5 = *q;
		else if (*q == 0x0a && q + 1 < end)	/* BytePrefix */
			pm.slp_typ_s5 = q[1];
		else
			return;
		pm.s5 = true;
		return;
	}
}

static void
sci_irq(struct trapframe *tf, void *arg)
{
	uint16_t sts = inw(pm.evt);

	(void)tf;
	(void)arg;
	if (sts & PM1_PWRBTN) {
		outw(pm.evt, PM1_PWRBTN);	/* write 1 to clear */
		power_button_pressed();
	}
}

void
power_init(void)
{
	const struct acpi_sdt *fadt = acpi_find("FACP", NULL);
	const uint8_t *f = (const void *)fadt;
	unsigned sci, gsi, flags;
	uint32_t smi_cmd;
	int vector, err;

	if (fadt == NULL || fadt->length < FADT_MIN_LEN)
		return;
	pm.evt = (uint16_t)le32(f + FADT_PM1A_EVT_BLK);
	pm.cnt = (uint16_t)le32(f + FADT_PM1A_CNT_BLK);
	pm.enable = (uint16_t)(pm.evt + f[FADT_PM1_EVT_LEN] / 2);
	sci = (unsigned)f[FADT_SCI_INT] | (unsigned)f[FADT_SCI_INT + 1] << 8;
	smi_cmd = le32(f + FADT_SMI_CMD);
	if (pm.evt == 0 || pm.cnt == 0 || f[FADT_PM1_EVT_LEN] < 4)
		return;
	find_s5(le32(f + FADT_DSDT));
	pm.found = true;
	/* ACPI mode: the chipset raises the SCI, not an SMI, for events. */
	if (!(inw(pm.cnt) & PM1_SCI_EN) && smi_cmd != 0 && f[FADT_ACPI_ENABLE] != 0) {
		outb((uint16_t)smi_cmd, f[FADT_ACPI_ENABLE]);
		for (int i = 0; i < 100000 && !(inw(pm.cnt) & PM1_SCI_EN); i++)
			__asm__ volatile("pause");
	}
	if (!(inw(pm.cnt) & PM1_SCI_EN)) {
		log_warn("power: the chipset did not enter ACPI mode: no power button");
		return;
	}
	outw(pm.evt, PM1_PWRBTN);		/* a stale press */
	sci_route(sci, &gsi, &flags);
	if ((vector = irq_alloc_vector()) < 0 ||
	    (err = irq_register((unsigned)vector, sci_irq, NULL)) != 0 ||
	    (err = ioapic_route(gsi, (unsigned)vector, flags)) != 0) {
		log_warn("power: cannot route the SCI (GSI %u): no power button", gsi);
		return;
	}
	power_register();
	outw(pm.enable, (uint16_t)(inw(pm.enable) | PM1_PWRBTN));
	log_debug("power: ACPI power button on GSI %u (%s, active %s), S5 %s", gsi,
	    flags & IOAPIC_LEVEL ? "level" : "edge", flags & IOAPIC_ACTIVE_LOW ? "low" : "high",
	    pm.s5 ? "known" : "unknown");
}

void
power_off(void)
{
	if (!pm.found || !pm.s5)
		return;
	outw(pm.cnt, (uint16_t)(pm.slp_typ_s5 << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
}
