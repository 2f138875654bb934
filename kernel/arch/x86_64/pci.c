/*
 * PCI configuration space, enumeration, BARs, capabilities and MSI-X.
 * See kernel/pci.h.
 *
 * Enumeration starts at bus 0 and follows PCI-to-PCI bridges through
 * their secondary bus numbers (as the firmware assigned them), so its
 * cost is one configuration read per empty slot on the buses that exist
 * rather than 256 x 32 reads: a few hundred port accesses under TCG.
 */
#include <errno.h>
#include <stdint.h>

#include <kernel/intr.h>
#include <kernel/log.h>
#include <kernel/mm.h>
#include <kernel/pci.h>

#include "cpu.h"

#define PCI_CONFIG_ADDR		0xcf8
#define PCI_CONFIG_DATA		0xcfc
#define PCI_CONFIG_ENABLE	0x80000000u

#define PCI_HEADER_MULTIFN	0x80
#define PCI_HEADER_BRIDGE	0x01

#define PCI_BAR_IO		0x1
#define PCI_BAR_TYPE_MASK	0x6
#define PCI_BAR_TYPE_64		0x4
#define PCI_BAR_MEM_MASK	(~0xfULL)

/* MSI-X capability (PCI 3.0, 6.8.2). */
#define MSIX_CTRL		2	/* message control, 16 bits */
#define MSIX_CTRL_ENABLE	(1u << 15)
#define MSIX_CTRL_MASKALL	(1u << 14)
#define MSIX_CTRL_SIZE_MASK	0x7ff	/* table size - 1 */
#define MSIX_TABLE		4	/* table offset | BIR */
#define MSIX_BIR_MASK		0x7
#define MSIX_ENTRY_SIZE		16
#define MSIX_ENTRY_ADDR_LO	0
#define MSIX_ENTRY_ADDR_HI	1
#define MSIX_ENTRY_DATA		2
#define MSIX_ENTRY_CTRL		3
#define MSIX_ENTRY_MASKED	1u

/* The LAPIC message address (SDM vol. 3, 11.11.1): destination in 19:12. */
#define MSI_ADDR_BASE		0xfee00000u

static uint32_t
cfg_addr(const struct pci_dev *d, uint8_t off)
{
	return PCI_CONFIG_ENABLE | (uint32_t)d->bus << 16 | (uint32_t)d->dev << 11
	    | (uint32_t)d->fn << 8 | (off & 0xfc);
}

uint32_t
pci_read32(const struct pci_dev *d, uint8_t off)
{
	outl(PCI_CONFIG_ADDR, cfg_addr(d, off));
	return inl(PCI_CONFIG_DATA);
}

uint16_t
pci_read16(const struct pci_dev *d, uint8_t off)
{
	return (uint16_t)(pci_read32(d, off) >> ((off & 2) * 8));
}

uint8_t
pci_read8(const struct pci_dev *d, uint8_t off)
{
	return (uint8_t)(pci_read32(d, off) >> ((off & 3) * 8));
}

void
pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
	outl(PCI_CONFIG_ADDR, cfg_addr(d, off));
	outl(PCI_CONFIG_DATA, v);
}

void
pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
	outl(PCI_CONFIG_ADDR, cfg_addr(d, off));
	outw(PCI_CONFIG_DATA + (off & 2), v);
}

void
pci_write8(const struct pci_dev *d, uint8_t off, uint8_t v)
{
	outl(PCI_CONFIG_ADDR, cfg_addr(d, off));
	outb(PCI_CONFIG_DATA + (off & 3), v);
}

int
pci_present(void)
{
	static int present = -1;
	uint32_t saved;

	if (present >= 0)
		return present;
	/* A mechanism #1 host bridge latches the enable bit in 0xcf8; with
	 * no bridge (microvm) the port reads back all ones. */
	saved = inl(PCI_CONFIG_ADDR);
	outl(PCI_CONFIG_ADDR, PCI_CONFIG_ENABLE);
	present = inl(PCI_CONFIG_ADDR) == PCI_CONFIG_ENABLE;
	outl(PCI_CONFIG_ADDR, saved);
	return present;
}

struct walk {
	int	(*fn)(struct pci_dev *d, void *arg);
	void	*arg;
	int	seen;
	int	stop;
	uint64_t visited[256 / 64];
};

static void scan_bus(struct walk *w, uint8_t bus);

static void
scan_function(struct walk *w, struct pci_dev *d)
{
	uint32_t id = pci_read32(d, PCI_VENDOR_ID);

	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	d->class_rev = pci_read32(d, PCI_CLASS_REV);
	d->header_type = pci_read8(d, PCI_HEADER_TYPE) & ~PCI_HEADER_MULTIFN;
	d->msix_cap = 0;
	d->msix_size = 0;
	d->msix_table = NULL;
	w->seen++;
	if (w->fn(d, w->arg) != 0) {
		w->stop = 1;
		return;
	}
	if (d->header_type == PCI_HEADER_BRIDGE)
		scan_bus(w, pci_read8(d, PCI_SECONDARY_BUS));
}

static void
scan_bus(struct walk *w, uint8_t bus)
{
	if (w->visited[bus / 64] & (1ULL << (bus % 64)))
		return;
	w->visited[bus / 64] |= 1ULL << (bus % 64);
	for (uint8_t dev = 0; dev < 32 && !w->stop; dev++) {
		struct pci_dev d = { .bus = bus, .dev = dev, .fn = 0 };
		int nfn;

		if (pci_read16(&d, PCI_VENDOR_ID) == 0xffff)
			continue;
		nfn = (pci_read8(&d, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFN) ? 8 : 1;
		for (uint8_t fn = 0; fn < nfn && !w->stop; fn++) {
			d.fn = fn;
			if (fn > 0 && pci_read16(&d, PCI_VENDOR_ID) == 0xffff)
				continue;
			scan_function(w, &d);
		}
	}
}

int
pci_enumerate(int (*fn)(struct pci_dev *d, void *arg), void *arg)
{
	struct walk w = { .fn = fn, .arg = arg };

	if (!pci_present())
		return 0;
	scan_bus(&w, 0);
	return w.seen;
}

int
pci_bar(const struct pci_dev *d, int bar, uint64_t *addr, uint64_t *size)
{
	uint8_t off = (uint8_t)(PCI_BAR0 + 4 * bar);
	uint32_t lo, hi = 0, szlo, szhi = 0xffffffff;
	uint16_t cmd;
	int is64;

	if (bar < 0 || bar > 5 || d->header_type != 0)
		return -ENOENT;
	lo = pci_read32(d, off);
	if (lo & PCI_BAR_IO)
		return -ENOENT;
	is64 = (lo & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64;
	if (is64 && bar == 5)
		return -ENOENT;
	if (is64)
		hi = pci_read32(d, off + 4);
	*addr = (((uint64_t)hi << 32) | lo) & PCI_BAR_MEM_MASK;
	if (*addr == 0)
		return -ENOENT;
	if (size == NULL)
		return 0;

	/* Size it (PCI 3.0, 6.2.5.1) with memory decoding off, so the
	 * all-ones probe value is never decoded as an address. */
	cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	pci_write32(d, off, 0xffffffff);
	szlo = pci_read32(d, off);
	pci_write32(d, off, lo);
	if (is64) {
		pci_write32(d, off + 4, 0xffffffff);
		szhi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, hi);
	}
	pci_write16(d, PCI_COMMAND, cmd);

	*size = ~((((uint64_t)szhi << 32) | szlo) & PCI_BAR_MEM_MASK) + 1;
	if (!is64)
		*size &= 0xffffffffULL;
	return *size == 0 ? -ENOENT : 0;
}

void *
pci_map_bar(const struct pci_dev *d, int bar, uint64_t off, uint64_t len)
{
	uint64_t addr;

	/* No sizing here: toggling memory decoding makes QEMU rebuild its
	 * address space, which costs about a millisecond a time under TCG.
	 * The range comes from the device's own capability. */
	if (pci_bar(d, bar, &addr, NULL) != 0 || len == 0)
		return NULL;
	/* Identity mapping: a BAR must stay clear of the heap's window. */
	if (addr + off + len > HEAP_BASE || addr + off + len < addr)
		return NULL;
	return mmio_map(addr + off, len);
}

void
pci_enable(const struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	pci_write16(d, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER
	    | PCI_COMMAND_INTX_OFF);
}

uint8_t
pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after)
{
	uint8_t off;
	int guard = 48;		/* (256 - 64) / 4 capabilities at most */

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = after ? pci_read8(d, after + 1) : pci_read8(d, PCI_CAP_PTR);
	while ((off &= 0xfc) != 0 && guard-- > 0) {
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

int
pci_msix_enable(struct pci_dev *d)
{
	uint8_t cap = pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
	uint16_t ctrl;
	uint32_t table;
	volatile uint32_t *t;
	unsigned n;

	if (cap == 0)
		return -ENOENT;
	ctrl = pci_read16(d, cap + MSIX_CTRL);
	table = pci_read32(d, cap + MSIX_TABLE);
	n = (ctrl & MSIX_CTRL_SIZE_MASK) + 1u;
	t = pci_map_bar(d, table & MSIX_BIR_MASK, table & ~MSIX_BIR_MASK,
	    (uint64_t)n * MSIX_ENTRY_SIZE);
	if (t == NULL)
		return -ENOENT;
	/* Function-masked while the entries are set up; each entry masked. */
	pci_write16(d, cap + MSIX_CTRL, ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	for (unsigned i = 0; i < n; i++)
		t[i * 4 + MSIX_ENTRY_CTRL] |= MSIX_ENTRY_MASKED;
	pci_write16(d, cap + MSIX_CTRL, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASKALL);
	d->msix_cap = cap;
	d->msix_size = (uint16_t)n;
	d->msix_table = t;
	return 0;
}

int
pci_msix_route(struct pci_dev *d, unsigned entry, unsigned vector)
{
	volatile uint32_t *e;

	if (d->msix_table == NULL || entry >= d->msix_size)
		return -EINVAL;
	if (vector < 32 || vector > 254)
		return -EINVAL;
	e = d->msix_table + entry * 4;
	e[MSIX_ENTRY_CTRL] |= MSIX_ENTRY_MASKED;
	e[MSIX_ENTRY_ADDR_LO] = MSI_ADDR_BASE | (lapic_id() & 0xff) << 12;
	e[MSIX_ENTRY_ADDR_HI] = 0;
	e[MSIX_ENTRY_DATA] = vector;	/* fixed delivery, edge */
	e[MSIX_ENTRY_CTRL] &= ~MSIX_ENTRY_MASKED;
	return 0;
}
