/*
 * ACPI's power button and soft-off (ACPI 6.4, 4.8 and 16.1.7), on
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
 * microvm is a "hardware-reduced" ACPI machine (FADT flag HW_REDUCED_ACPI:
 * no PM1 blocks, no SCI).  Its power button is QEMU's Generic Event
 * Device (ACPI0013; docs/specs/acpi_hw_reduced_hotplug.rst in QEMU): an
 * edge-triggered interrupt, and a 32-bit event selector register in
 * memory (ESEL) whose bit 1 is a power-down request; reading it clears
 * it.  Soft-off goes through the FADT's sleep control register: SLP_TYP
 * shifted left by 2, with SLP_EN (bit 5).
 *
 * The DSDT is AML; it is not interpreted, only scanned for the few byte
 * patterns these need, as small kernels do: \_S5's package (NameOp,
 * "_S5_", PackageOp, its length and count, the first element), and after
 * the GED's hardware ID its event register (OperationRegion EREG in
 * SystemMemory at a DWord address) and its interrupt (an Extended
 * Interrupt descriptor).  Anything unexpected: no power button, logged.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <kernel/acpi.h>
#include <kernel/intr.h>
#include <kernel/ioapic.h>
#include <kernel/log.h>
#include <kernel/mm.h>
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

/* The hardware-reduced parts (ACPI 6.4, table 5.9 and 5.2.3.2). */
#define FADT_FLAGS		112
#define FADT_HW_REDUCED		(1u << 20)
#define FADT_SLEEP_CONTROL	244		/* a Generic Address Structure */
#define FADT_HW_REDUCED_LEN	256
#define SLEEP_SLP_TYP_SHIFT	2
#define SLEEP_SLP_EN		(1u << 5)
#define GED_PWR_DOWN_EVT	(1u << 1)

/* MADT (5.2.12): entries after a 44-byte header; type 2 overrides an ISA
 * IRQ's GSI and flags. */
#define MADT_ENTRIES		44
#define MADT_ISO		2

static struct {
	bool		found;		/* a PM1 block to use */
	uint16_t	evt, enable, cnt;	/* PM1a status, enable, control ports */
	bool		s5;		/* SLP_TYP for S5 known */
	uint16_t	slp_typ_s5;
	/* hardware-reduced (microvm) */
	volatile uint32_t *esel;	/* the GED's event selector */
	volatile uint8_t *sleep_ctl;	/* the sleep control register */
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

/* The DSDT at pa, mapped and checked, or NULL. */
static const struct acpi_sdt *
map_dsdt(uint32_t pa)
{
	const struct acpi_sdt *dsdt = (const void *)(uintptr_t)pa;

	if (pa == 0 || acpi_map(pa, sizeof(*dsdt)) != 0 ||
	    memcmp(dsdt->signature, "DSDT", 4) != 0 || dsdt->length < sizeof(*dsdt) ||
	    dsdt->length > (1u << 20) || acpi_map(pa, dsdt->length) != 0)
		return NULL;
	return dsdt;
}

/* SLP_TYPa of \_S5 in the DSDT, into pm; quietly nothing when it cannot
 * be read. */
static void
find_s5(const struct acpi_sdt *dsdt)
{
	const uint8_t *p, *end;

	if (dsdt == NULL)
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

/*
 * The Generic Event Device in the DSDT: the address of its event register
 * and its interrupt line (edge or level, active high or low), found after
 * its _HID "ACPI0013": OperationRegion (ExtOpPrefix 0x5b, OpRegionOp 0x80)
 * named EREG in SystemMemory (0) at a DWordConst (0x0c) address, and an
 * Extended Interrupt descriptor (0x89, length, flags, count, the first
 * interrupt number).  0, or -ENOENT.
 */
static int
find_ged(const struct acpi_sdt *dsdt, uint32_t *esel, unsigned *gsi, unsigned *flags)
{
	const uint8_t *p, *end, *hid = NULL;
	bool have_esel = false, have_irq = false;

	if (dsdt == NULL)
		return -ENOENT;
	end = (const uint8_t *)dsdt + dsdt->length;
	for (p = (const uint8_t *)(dsdt + 1); p + 8 <= end; p++)
		if (memcmp(p, "ACPI0013", 8) == 0) {
			hid = p + 8;
			break;
		}
	if (hid == NULL)
		return -ENOENT;
	/* The GED's own body follows its _HID; stop at the next device. */
	for (p = hid; p + 11 <= end && !(have_esel && have_irq); p++) {
		if (p[0] == 0x5b && p[1] == 0x82)		/* DeviceOp: the next device */
			break;
		if (!have_esel && p[0] == 0x5b && p[1] == 0x80 && memcmp(p + 2, "EREG", 4) == 0 &&
		    p[6] == 0x00 && p[7] == 0x0c) {
			*esel = le32(p + 8);
			have_esel = true;
		}
		if (!have_irq && p[0] == 0x89 && p[1] >= 6 && p[2] == 0 && p[4] >= 1) {
			*gsi = le32(p + 5);
			*flags = (p[3] & 0x02 ? IOAPIC_EDGE : IOAPIC_LEVEL) |
			    (p[3] & 0x04 ? IOAPIC_ACTIVE_LOW : IOAPIC_ACTIVE_HIGH);
			have_irq = true;
		}
	}
	return have_esel && have_irq ? 0 : -ENOENT;
}

static void
ged_irq(struct trapframe *tf, void *arg)
{
	(void)tf;
	(void)arg;
	if (*pm.esel & GED_PWR_DOWN_EVT)	/* the read clears it */
		power_button_pressed();
}

/* A hardware-reduced machine (microvm): the GED and the sleep register. */
static void
ged_init(const uint8_t *f, uint32_t length)
{
	const struct acpi_sdt *dsdt = map_dsdt(le32(f + FADT_DSDT));
	uint32_t esel = 0;
	unsigned gsi = 0, flags = 0;
	int vector;

	find_s5(dsdt);
	if (length >= FADT_HW_REDUCED_LEN && f[FADT_SLEEP_CONTROL] == 0 &&
	    le32(f + FADT_SLEEP_CONTROL + 4) != 0 && le32(f + FADT_SLEEP_CONTROL + 8) == 0)
		pm.sleep_ctl = mmio_map(le32(f + FADT_SLEEP_CONTROL + 4), 1);
	if (find_ged(dsdt, &esel, &gsi, &flags) != 0) {
		log_debug("power: no Generic Event Device in the DSDT: no power button");
		return;
	}
	if ((pm.esel = mmio_map(esel, 4)) == NULL ||
	    (vector = irq_alloc_vector()) < 0 ||
	    irq_register((unsigned)vector, ged_irq, NULL) != 0 ||
	    ioapic_route(gsi, (unsigned)vector, flags) != 0) {
		log_warn("power: cannot route the Generic Event Device (GSI %u): no power button",
		    gsi);
		pm.esel = NULL;
		return;
	}
	(void)*pm.esel;				/* a stale event */
	power_register();
	log_debug("power: ACPI Generic Event Device at 0x%x, GSI %u; S5 %s", esel, gsi,
	    pm.s5 && pm.sleep_ctl != NULL ? "known" : "unknown");
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
	unsigned sci, gsi = 0, flags = 0;
	uint32_t smi_cmd;
	int vector, err;

	if (fadt == NULL || fadt->length < FADT_MIN_LEN)
		return;
	if (fadt->length >= FADT_FLAGS + 4 && (le32(f + FADT_FLAGS) & FADT_HW_REDUCED)) {
		ged_init(f, fadt->length);
		return;
	}
	pm.evt = (uint16_t)le32(f + FADT_PM1A_EVT_BLK);
	pm.cnt = (uint16_t)le32(f + FADT_PM1A_CNT_BLK);
	pm.enable = (uint16_t)(pm.evt + f[FADT_PM1_EVT_LEN] / 2);
	sci = (unsigned)f[FADT_SCI_INT] | (unsigned)f[FADT_SCI_INT + 1] << 8;
	smi_cmd = le32(f + FADT_SMI_CMD);
	if (pm.evt == 0 || pm.cnt == 0 || f[FADT_PM1_EVT_LEN] < 4)
		return;
	find_s5(map_dsdt(le32(f + FADT_DSDT)));
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
	if (!pm.s5)
		return;
	if (pm.sleep_ctl != NULL)
		*pm.sleep_ctl = (uint8_t)(pm.slp_typ_s5 << SLEEP_SLP_TYP_SHIFT | SLEEP_SLP_EN);
	else if (pm.found)
		outw(pm.cnt, (uint16_t)(pm.slp_typ_s5 << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
}
