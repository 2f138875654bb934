/*
 * virtio's bus: the transports find devices, this file matches each to
 * the driver of its type (virtio 1.1, 5 Device Types), as OpenBSD's
 * cfattach table does.  A driver for another type (virtio-rng, vsock)
 * attaches by adding a line to the table; the transports do not change.
 */
#include <stddef.h>
#include <stdint.h>

#include <kernel/log.h>
#include <kernel/pci.h>

#include "virtio_dev.h"

static const struct virtio_driver *const drivers[] = {
	&virtio_net_driver,
};

const struct virtio_driver *
virtio_match(uint32_t device_id)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (drivers[i]->device_id == device_id)
			return drivers[i];
	return NULL;
}

struct virtio_dev *
virtio_new(uint32_t device_id, const char *where)
{
	const struct virtio_driver *drv = virtio_match(device_id);
	struct virtio_dev *d;

	if (drv == NULL) {
		log_debug("virtio: %s: device type %u, no driver; ignored", where,
		    (unsigned)device_id);
		return NULL;
	}
	if ((d = drv->alloc()) == NULL) {
		log_warn("%s: %s: too many devices, ignored", drv->name, where);
		return NULL;
	}
	d->drv = drv;
	return d;
}

int
virtio_attach(struct virtio_dev *d)
{
	return d->drv->attach(d);
}

int
virtio_probe(void)
{
	static int probed, count;

	if (probed++)
		return count;
	/* pc and q35 have a PCI host; microvm has none, and its virtio-mmio
	 * window would be PCI address space on the others. */
	count = pci_present() ? virtio_pci_probe() : virtio_mmio_probe();
	return count;
}
