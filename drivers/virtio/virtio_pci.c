/*
 * The virtio PCI transport, modern interface only (virtio 1.1, 4.1): QEMU
 * `-device virtio-net-pci,disable-legacy=on`.  It knows no device type:
 * virtio.c matches each device it finds to its driver.  The registers live in BAR
 * regions that vendor capabilities point at (4.1.4); interrupts come by
 * MSI-X, one vector shared by both queues.
 */
#include <errno.h>
#include <stdint.h>

#include <kernel/ktime.h>
#include <kernel/log.h>
#include <kernel/pci.h>

#include "virtio_dev.h"
#include "virtio_reg.h"

#define COMMON(d)	((d)->pci.common)

static uint8_t
get_status(struct virtio_dev *d)
{
	return COMMON(d)->device_status;
}

static void
set_status(struct virtio_dev *d, uint8_t status)
{
	COMMON(d)->device_status = status;
}

static uint64_t
get_features(struct virtio_dev *d)
{
	uint64_t f;

	COMMON(d)->device_feature_select = 0;
	f = COMMON(d)->device_feature;
	COMMON(d)->device_feature_select = 1;
	return f | (uint64_t)COMMON(d)->device_feature << 32;
}

static void
set_features(struct virtio_dev *d, uint64_t f)
{
	COMMON(d)->driver_feature_select = 0;
	COMMON(d)->driver_feature = (uint32_t)f;
	COMMON(d)->driver_feature_select = 1;
	COMMON(d)->driver_feature = (uint32_t)(f >> 32);
}

static uint8_t
cfg_read8(struct virtio_dev *d, unsigned off)
{
	return d->pci.devcfg[off];
}

static uint32_t
cfg_generation(struct virtio_dev *d)
{
	return COMMON(d)->config_generation;
}

/*
 * MSI-X table entry 0 for both queues, entry 1 for configuration changes
 * (the link, and a device that needs a reset).  The table is the PCI
 * function's and survives a device reset; the device's choice of entries
 * does not (4.1.5.1.2), so after a reset only that is set again.
 */
static int
setup_irq(struct virtio_dev *d, unsigned vector, unsigned cfg_vector)
{
	volatile struct virtio_pci_common_cfg *c = COMMON(d);
	int err;

	if (d->pci.pci.msix_table == NULL) {
		if ((err = pci_msix_enable(&d->pci.pci)) != 0)
			return err;
		if ((err = pci_msix_route(&d->pci.pci, 0, vector)) != 0)
			return err;
		/* With a one-entry table, changes are only seen by the
		 * driver's periodic look at the device. */
		d->pci.cfg_entry = pci_msix_route(&d->pci.pci, 1, cfg_vector) == 0
		    ? 1 : VIRTIO_MSI_NO_VECTOR;
	}
	/* 4.1.5.1.2.1: the device may refuse an entry; read it back. */
	c->config_msix_vector = d->pci.cfg_entry;
	if (c->config_msix_vector != d->pci.cfg_entry)
		c->config_msix_vector = VIRTIO_MSI_NO_VECTOR;
	return 0;
}

static void
write64(volatile uint64_t *field, uint64_t v)
{
	volatile uint32_t *half = (volatile uint32_t *)field;

	half[0] = (uint32_t)v;
	half[1] = (uint32_t)(v >> 32);
}

static uint16_t
queue_max(struct virtio_dev *d, unsigned idx)
{
	if (idx >= COMMON(d)->num_queues)
		return 0;
	COMMON(d)->queue_select = (uint16_t)idx;
	return COMMON(d)->queue_size;
}

static int
setup_queue(struct virtio_dev *d, unsigned idx, const struct virtq *vq)
{
	volatile struct virtio_pci_common_cfg *c = COMMON(d);

	if (idx >= 2)
		return -EINVAL;
	c->queue_select = (uint16_t)idx;
	c->queue_size = vq->size;
	/* 4.1.3.1: a 64-bit field may be written as two 32-bit halves,
	 * which every device accepts. */
	write64(&c->queue_desc, vq->desc_pa);
	write64(&c->queue_driver, vq->avail_pa);
	write64(&c->queue_device, vq->used_pa);
	/* 4.1.5.1.3.1: the device may refuse a vector; read it back. */
	c->queue_msix_vector = 0;
	if (c->queue_msix_vector != 0)
		return -ENOSPC;
	d->pci.qnotify[idx] = (volatile uint16_t *)(d->pci.notify
	    + (uint32_t)c->queue_notify_off * d->pci.notify_mult);
	c->queue_enable = 1;
	return 0;
}

static void
notify(struct virtio_dev *d, unsigned idx)
{
	*d->pci.qnotify[idx] = (uint16_t)idx;
}

static const struct virtio_ops pci_ops = {
	.name		= "pci",
	.get_status	= get_status,
	.set_status	= set_status,
	.get_features	= get_features,
	.set_features	= set_features,
	.cfg_read8	= cfg_read8,
	.cfg_generation	= cfg_generation,
	.setup_irq	= setup_irq,
	.queue_max	= queue_max,
	.setup_queue	= setup_queue,
	.notify		= notify,
	.irq_ack	= NULL,		/* MSI-X: no ISR read (4.1.4.5) */
};

/* Map the region a virtio capability describes. */
static volatile void *
map_cap(const struct pci_dev *p, uint8_t cap)
{
	return pci_map_bar(p, pci_read8(p, cap + VIRTIO_PCI_CAP_BAR),
	    pci_read32(p, cap + VIRTIO_PCI_CAP_OFFSET),
	    pci_read32(p, cap + VIRTIO_PCI_CAP_LENGTH));
}

/* 4.1.4: find the common, notify and device regions (the first of each
 * type: the device lists them in order of preference). */
static int
map_regions(struct virtio_dev *d)
{
	const struct pci_dev *p = &d->pci.pci;

	for (uint8_t cap = pci_find_cap(p, PCI_CAP_ID_VNDR, 0); cap != 0;
	     cap = pci_find_cap(p, PCI_CAP_ID_VNDR, cap)) {
		switch (pci_read8(p, cap + VIRTIO_PCI_CAP_CFG_TYPE)) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (d->pci.common == NULL)
				d->pci.common = map_cap(p, cap);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (d->pci.notify == NULL) {
				d->pci.notify = map_cap(p, cap);
				d->pci.notify_mult = pci_read32(p, cap + VIRTIO_PCI_NOTIFY_OFF_MULT);
			}
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (d->pci.devcfg == NULL)
				d->pci.devcfg = map_cap(p, cap);
			break;
		}
	}
	if (d->pci.common == NULL || d->pci.notify == NULL || d->pci.devcfg == NULL)
		return -ENODEV;
	return 0;
}

/* 4.1.2: the virtio device type of a PCI function, or 0 for none.  A
 * modern device says 0x1040 + its type; a transitional one 0x1000 to
 * 0x103f, its type in the subsystem ID (4.1.2.3). */
static uint32_t
device_type(const struct pci_dev *p)
{
	if (p->vendor != VIRTIO_PCI_VENDOR)
		return 0;
	if (p->device > VIRTIO_PCI_DEVICE_MODERN_BASE && p->device <= 0x107f)
		return p->device - VIRTIO_PCI_DEVICE_MODERN_BASE;
	if (p->device >= VIRTIO_PCI_DEVICE_TRANS_FIRST && p->device <= VIRTIO_PCI_DEVICE_TRANS_LAST)
		return pci_read16(p, PCI_SUBSYSTEM_ID);
	return 0;
}

static int
found(struct pci_dev *p, void *arg)
{
	int *count = arg;
	struct virtio_dev *d;
	uint32_t type;
	char where[16];

	if ((type = device_type(p)) == 0)
		return 0;
	ksnprintf(where, sizeof(where), "%02x:%02x.%x", p->bus, p->dev, p->fn);
	if ((d = virtio_new(type, where)) == NULL)
		return 0;
	d->ops = &pci_ops;
	d->pci.pci = *p;
	pci_enable(&d->pci.pci);
	if (map_regions(d) != 0) {
		log_warn("%s: %s: virtio capabilities missing or unmappable, ignored",
		    d->drv->name, where);
		d->drv->release(d);
		return 0;
	}
	if (virtio_attach(d) == 0)
		(*count)++;
	return 0;
}

int
virtio_pci_probe(void)
{
	int count = 0;

	pci_enumerate(found, &count);
	return count;
}
