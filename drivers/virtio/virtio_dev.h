/*
 * virtio devices: the transport a device sits on, the operations each
 * transport supplies (virtio_pci.c, virtio_mmio.c), and the table that
 * matches a device's type to its driver (virtio.c, as OpenBSD's cfattach
 * does).  A device driver (drivers/virtio-net/virtio_net.c) embeds a
 * struct virtio_dev in its own state and talks to the transport only
 * through struct virtio_ops; a transport knows no device type.
 */
#ifndef DRIVERS_VIRTIO_DEV_H
#define DRIVERS_VIRTIO_DEV_H

#include <stdint.h>

#include <kernel/pci.h>

#include "virtqueue.h"

struct virtio_dev;

struct virtio_ops {
	const char *name;		/* "pci", "mmio" */
	/* 4.1.4.3 / 4.2.2 device_status; writing 0 resets (the driver
	 * then waits, bounded, for the device to read back 0). */
	uint8_t	(*get_status)(struct virtio_dev *d);
	void	(*set_status)(struct virtio_dev *d, uint8_t status);
	uint64_t (*get_features)(struct virtio_dev *d);
	void	(*set_features)(struct virtio_dev *d, uint64_t features);
	/* Device-specific configuration, read a byte at a time; the caller
	 * loops on the generation (2.4.1). */
	uint8_t	(*cfg_read8)(struct virtio_dev *d, unsigned off);
	uint32_t (*cfg_generation)(struct virtio_dev *d);
	/* Interrupt delivery: every queue to vector, configuration changes
	 * to cfg_vector where the transport has a vector of their own (MSI-X;
	 * MMIO has one line for both, told apart by irq_ack()).  Called
	 * before setup_queue(), at attach and again after a device reset
	 * (which forgets the device's vectors). */
	int	(*setup_irq)(struct virtio_dev *d, unsigned vector, unsigned cfg_vector);
	/* The largest size queue idx supports (0: no such queue). */
	uint16_t (*queue_max)(struct virtio_dev *d, unsigned idx);
	/* Tell the device where vq's rings are and enable it. */
	int	(*setup_queue)(struct virtio_dev *d, unsigned idx, const struct virtq *vq);
	void	(*notify)(struct virtio_dev *d, unsigned idx);
	/* From the interrupt handler: acknowledge it and return what it
	 * was for, VIRTIO_ISR_* (MMIO's InterruptStatus/InterruptACK,
	 * 4.2.3.4); NULL when nothing is needed (MSI-X, a vector each). */
	uint32_t (*irq_ack)(struct virtio_dev *d);
};

struct virtio_dev {
	const struct virtio_ops *ops;
	const struct virtio_driver *drv;	/* virtio_new()'s match */
	union {
		struct {			/* virtio_pci.c */
			struct pci_dev	pci;
			volatile struct virtio_pci_common_cfg *common;
			volatile uint8_t *notify;
			uint32_t	notify_mult;
			volatile uint8_t *devcfg;
			volatile uint16_t *qnotify[2];
			uint16_t	cfg_entry;	/* MSI-X entry for config changes */
		} pci;
		struct {			/* virtio_mmio.c */
			volatile uint8_t *regs;
			unsigned	gsi;
		} mmio;
	};
};

/*
 * A device driver, for the match table (virtio.c): the transports find a
 * device, ask virtio_match() for the driver of its type, take a zeroed
 * device from alloc(), fill in the transport's part and hand it to
 * attach(), which initialises it or, on failure, releases it.
 */
struct virtio_driver {
	uint32_t	device_id;	/* VIRTIO_ID_*, 5 Device Types */
	const char	*name;		/* "virtio-net" */
	/* A zeroed device, or NULL when the driver has no room for more. */
	struct virtio_dev *(*alloc)(void);
	int		(*attach)(struct virtio_dev *d);
	/* Hand back a device from alloc() that will not be attached. */
	void		(*release)(struct virtio_dev *d);
};

/* The drivers the match table names. */
extern const struct virtio_driver virtio_net_driver;

/* The driver for devices of type device_id, or NULL. */
const struct virtio_driver *virtio_match(uint32_t device_id);
/* A device of type device_id the transport found at where ("00:03.0",
 * "slot 2"): its driver's new device (transport part to fill in), or
 * NULL (no driver, or no room; said in the log). */
struct virtio_dev *virtio_new(uint32_t device_id, const char *where);
/* Attach what virtio_new() gave, its transport part filled in: 0 or the
 * driver's error (the device was then released). */
int	virtio_attach(struct virtio_dev *d);

/* Every virtio device on the machine's bus (PCI where there is a PCI
 * host, else virtio-mmio), each attached to its driver: how many were. */
int	virtio_probe(void);
/* The transports' probes, for virtio_probe(). */
int	virtio_pci_probe(void);
int	virtio_mmio_probe(void);

/* A transport announced on the command line (virtio_mmio_arg.c). */
struct virtio_mmio_arg {
	uint64_t	base;
	uint64_t	size;
	unsigned	gsi;
};

/* Parse "<size>@<base>:<irq>[:<id>]": 0, or -EINVAL (out untouched). */
int	virtio_mmio_parse_arg(const char *s, struct virtio_mmio_arg *out);

#endif
