/*
 * I/O APICs (Intel 82093AA datasheet): route a global system interrupt
 * (GSI) line to a vector on this CPU's local APIC.
 *
 * The chips are found at their fixed QEMU addresses: 0xfec00000 (GSIs
 * 0-23) on every machine, and on microvm with its second I/O APIC
 * (ioapic2, the default with ACPI) 0xfec10000 for GSIs 24-47.  Without
 * ACPI tables to read, a chip counts as present when its version
 * register reads sensibly.
 *
 * Boot time only.  Errors: 0 or a negative errno.
 */
#ifndef KERNEL_IOAPIC_H
#define KERNEL_IOAPIC_H

#define IOAPIC_EDGE		0
#define IOAPIC_LEVEL		(1u << 15)	/* trigger mode */
#define IOAPIC_ACTIVE_HIGH	0
#define IOAPIC_ACTIVE_LOW	(1u << 13)	/* pin polarity */

/* How many GSIs the I/O APICs present cover (0 without any). */
unsigned ioapic_gsi_count(void);
/* Deliver gsi as vector to this CPU, with IOAPIC_LEVEL / IOAPIC_ACTIVE_LOW
 * flags; unmasks the line.  -ENODEV for a GSI no I/O APIC has,
 * -EINVAL for a vector outside 32..254. */
int	ioapic_route(unsigned gsi, unsigned vector, unsigned flags);
/* Mask or unmask a routed line. */
int	ioapic_mask(unsigned gsi, int masked);

#endif
