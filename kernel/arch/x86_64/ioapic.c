/*
 * I/O APICs: a redirection entry per GSI line (82093AA datasheet, 3.2).
 * See kernel/ioapic.h.
 */
#include <errno.h>
#include <stdint.h>

#include <kernel/intr.h>
#include <kernel/ioapic.h>
#include <kernel/mm.h>

#define IOREGSEL		0x00	/* register index */
#define IOWIN			0x10	/* register data */
#define IOAPIC_REG_VER		0x01
#define IOAPIC_REG_REDTBL	0x10	/* + 2 * pin: low word, then high */
#define REDTBL_MASKED		(1u << 16)
#define REDTBL_DEST_SHIFT	24	/* of the high word: APIC id */

/* Where QEMU puts them: the first on every x86 machine, the second on
 * microvm with ioapic2 (hw/i386/microvm.c).  Each chip's first GSI
 * follows the previous chip's last, as microvm's MADT says. */
static const uint64_t ioapic_addrs[] = { 0xfec00000, 0xfec10000 };
#define NIOAPIC	(sizeof(ioapic_addrs) / sizeof(ioapic_addrs[0]))

static struct ioapic {
	volatile uint32_t *regs;
	unsigned	gsi_base, npins;
} chips[NIOAPIC];
static unsigned nchips, ngsi;
static int probed;

static uint32_t
ioapic_read(const struct ioapic *a, uint32_t reg)
{
	a->regs[IOREGSEL / 4] = reg;
	return a->regs[IOWIN / 4];
}

static void
ioapic_write(const struct ioapic *a, uint32_t reg, uint32_t v)
{
	a->regs[IOREGSEL / 4] = reg;
	a->regs[IOWIN / 4] = v;
}

static void
probe(void)
{
	if (probed)
		return;
	probed = 1;
	for (unsigned i = 0; i < NIOAPIC; i++) {
		struct ioapic a = { .regs = mmio_map(ioapic_addrs[i], 4096) };
		uint32_t ver = ioapic_read(&a, IOAPIC_REG_VER);
		unsigned version = ver & 0xff, maxpin = (ver >> 16) & 0xff;

		/* Unclaimed addresses read as all zeros or all ones. */
		if (ver == 0 || ver == 0xffffffff || version < 0x10 || version > 0x2f)
			break;
		a.gsi_base = ngsi;
		a.npins = maxpin + 1;
		ngsi += a.npins;
		chips[nchips++] = a;
	}
}

unsigned
ioapic_gsi_count(void)
{
	probe();
	return ngsi;
}

static struct ioapic *
chip_of(unsigned gsi, unsigned *pin)
{
	probe();
	for (unsigned i = 0; i < nchips; i++)
		if (gsi >= chips[i].gsi_base && gsi < chips[i].gsi_base + chips[i].npins) {
			*pin = gsi - chips[i].gsi_base;
			return &chips[i];
		}
	return NULL;
}

int
ioapic_route(unsigned gsi, unsigned vector, unsigned flags)
{
	unsigned pin;
	struct ioapic *a = chip_of(gsi, &pin);

	if (a == NULL)
		return -ENODEV;
	if (vector < 32 || vector > 254)
		return -EINVAL;
	/* Masked while the two halves are written, then fixed delivery to
	 * this CPU in physical destination mode. */
	ioapic_write(a, IOAPIC_REG_REDTBL + 2 * pin, REDTBL_MASKED);
	ioapic_write(a, IOAPIC_REG_REDTBL + 2 * pin + 1, lapic_id() << REDTBL_DEST_SHIFT);
	ioapic_write(a, IOAPIC_REG_REDTBL + 2 * pin,
	    vector | (flags & (IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW)));
	return 0;
}

int
ioapic_mask(unsigned gsi, int masked)
{
	unsigned pin;
	struct ioapic *a = chip_of(gsi, &pin);
	uint32_t lo;

	if (a == NULL)
		return -ENODEV;
	lo = ioapic_read(a, IOAPIC_REG_REDTBL + 2 * pin);
	lo = masked ? lo | REDTBL_MASKED : lo & ~REDTBL_MASKED;
	ioapic_write(a, IOAPIC_REG_REDTBL + 2 * pin, lo);
	return 0;
}
