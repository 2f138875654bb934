/*
 * virtio-net driver state: a device, the transport it sits on, and the
 * operations each transport supplies (virtio_pci.c, virtio_mmio.c).  The
 * device logic (virtio_net.c) only talks to the transport through
 * struct virtio_ops.
 */
#ifndef DRIVERS_VIRTIO_DEV_H
#define DRIVERS_VIRTIO_DEV_H

#include <stdint.h>

#include <kernel/pci.h>

#include "virtqueue.h"

/* Devices the driver handles at most. */
#define VIRTIO_NET_MAX_DEVS	4

struct virtio_dev;

struct virtio_ops {
	const char *name;		/* "virtio-net-pci", ... */
	/* 4.1.4.3 / 4.2.2 device_status; writing 0 resets (virtio_net.c
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

/* The device logic, for the transports: a zeroed device to fill in, then
 * attach it (which initialises it, or releases it on failure). */
struct virtio_dev *virtio_net_new(void);
int	virtio_net_attach(struct virtio_dev *d);
/* Hand back a device from virtio_net_new() that will not be attached. */
void	virtio_net_release(struct virtio_dev *d);

/* The transports' probes: attach every virtio-net device found; return
 * how many were attached. */
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
