/*
 * PCI: configuration space through ports 0xcf8/0xcfc (configuration
 * mechanism #1, PCI Local Bus Specification 3.0, 3.2.2.3.2), enumeration,
 * BARs, capabilities and MSI-X.
 *
 * pc and q35 both decode mechanism #1 (q35 also has ECAM; the first 256
 * bytes of every function are enough here).  microvm has no PCI host:
 * pci_present() says so and pci_enumerate() finds nothing.
 *
 * Boot time only (pci_msix_* too): no locking, not for interrupt handlers.
 * Errors: 0 or a negative errno.
 */
#ifndef KERNEL_PCI_H
#define KERNEL_PCI_H

#include <stdint.h>

/* Standard configuration header offsets (PCI 3.0, 6.1). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_CLASS_REV		0x08
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SECONDARY_BUS	0x19	/* type 1 (bridge) header */
#define PCI_CAP_PTR		0x34

#define PCI_COMMAND_IO		(1u << 0)
#define PCI_COMMAND_MEMORY	(1u << 1)
#define PCI_COMMAND_MASTER	(1u << 2)
#define PCI_COMMAND_INTX_OFF	(1u << 10)
#define PCI_STATUS_CAP_LIST	(1u << 4)

#define PCI_CAP_ID_MSIX		0x11

struct pci_dev {
	uint8_t		bus, dev, fn;
	uint16_t	vendor, device;
	uint32_t	class_rev;	/* class, subclass, prog-if, revision */
	uint8_t		header_type;	/* without the multi-function bit */
	/* MSI-X, once pci_msix_enable() succeeded */
	uint8_t		msix_cap;
	uint16_t	msix_size;	/* table entries */
	volatile uint32_t *msix_table;
};

/* Whether a PCI host bridge answers on ports 0xcf8/0xcfc. */
int	pci_present(void);

uint8_t	pci_read8(const struct pci_dev *d, uint8_t off);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
void	pci_write8(const struct pci_dev *d, uint8_t off, uint8_t v);
void	pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);
void	pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v);

/* Call fn for every function present, from bus 0 through the bridges;
 * stop early when fn returns nonzero.  Returns the functions seen. */
int	pci_enumerate(int (*fn)(struct pci_dev *d, void *arg), void *arg);

/* Memory BAR bar (0..5) of a type 0 header: its address and, unless
 * size is NULL, its size (sizing briefly turns memory decoding off: slow
 * under QEMU).  A 64-bit BAR takes bar and bar + 1.  -ENOENT for an I/O,
 * unassigned or absent BAR. */
int	pci_bar(const struct pci_dev *d, int bar, uint64_t *addr, uint64_t *size);
/* Map len bytes at offset off of memory BAR bar (uncached); NULL if the
 * BAR is missing.  The BAR is not sized: the range must come from the
 * device (a capability). */
void	*pci_map_bar(const struct pci_dev *d, int bar, uint64_t off, uint64_t len);
/* Turn on memory decoding and bus mastering (DMA), INTx off. */
void	pci_enable(const struct pci_dev *d);

/* Offset of the first capability with this id after `after` (0 starts at
 * the list head), or 0 when there is none. */
uint8_t	pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after);

/* Map the MSI-X table and enable MSI-X with every entry masked.
 * -ENOENT without the capability. */
int	pci_msix_enable(struct pci_dev *d);
/* Point table entry at vector on this CPU's local APIC and unmask it. */
int	pci_msix_route(struct pci_dev *d, unsigned entry, unsigned vector);

#endif
