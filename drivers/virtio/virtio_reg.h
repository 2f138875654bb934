/*
 * virtio 1.x wire format: the constants and structures the spec defines,
 * with the section they come from (Virtual I/O Device (VIRTIO) Version
 * 1.1, OASIS) that every device type shares: status, feature bits of
 * chapter 6, the PCI and MMIO transports, the split virtqueues.  A device
 * type's own (the network device's: drivers/virtio-net/virtio_net_reg.h)
 * lives with its driver.  No driver state lives here (see virtio_dev.h).
 *
 * Every multi-byte field is little-endian on the wire (2.4 "Virtqueues",
 * 4.1.3 for PCI): x86_64 is little-endian, so plain integer types do.
 */
#ifndef DRIVERS_VIRTIO_REG_H
#define DRIVERS_VIRTIO_REG_H

#include <stdint.h>

/* ---- 2.1 Device Status Field ------------------------------------------ */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

/* 4.1.4.5 / 4.2.2: what an interrupt was for (ISR status, MMIO
 * InterruptStatus). */
#define VIRTIO_ISR_QUEUE		1
#define VIRTIO_ISR_CONFIG		2

/* ---- 6 Reserved Feature Bits ------------------------------------------ */
#define VIRTIO_F_RING_INDIRECT_DESC	28
#define VIRTIO_F_RING_EVENT_IDX		29	/* used_event / avail_event */
#define VIRTIO_F_VERSION_1		32	/* modern device */
#define VIRTIO_F_ACCESS_PLATFORM	33
#define VIRTIO_F_RING_PACKED		34

#define VIRTIO_BIT(f)			(1ULL << (f))

/* ---- 5 Device Types: the device IDs ----------------------------------- */
#define VIRTIO_ID_NET			1

/* ---- 4.1.2 PCI Device Discovery --------------------------------------- */
#define VIRTIO_PCI_VENDOR		0x1af4
#define VIRTIO_PCI_DEVICE_MODERN_BASE	0x1040	/* + virtio device id */
#define VIRTIO_PCI_DEVICE_NET		(VIRTIO_PCI_DEVICE_MODERN_BASE + VIRTIO_ID_NET)
/* 4.1.2.3: a transitional device says 0x1000 and names its type in the
 * subsystem device id; it also has the modern capabilities. */
#define VIRTIO_PCI_DEVICE_TRANS_FIRST	0x1000
#define VIRTIO_PCI_DEVICE_TRANS_LAST	0x103f
#define PCI_SUBSYSTEM_ID		0x2e

/* ---- 4.1.4 Virtio Structure PCI Capabilities -------------------------- */
#define PCI_CAP_ID_VNDR			0x09

#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5

/* struct virtio_pci_cap, as byte offsets from the capability. */
#define VIRTIO_PCI_CAP_CFG_TYPE		3	/* u8 */
#define VIRTIO_PCI_CAP_BAR		4	/* u8 */
#define VIRTIO_PCI_CAP_OFFSET		8	/* le32 */
#define VIRTIO_PCI_CAP_LENGTH		12	/* le32 */
/* 4.1.4.4: struct virtio_pci_notify_cap appends this. */
#define VIRTIO_PCI_NOTIFY_OFF_MULT	16	/* le32 */

/* 4.1.4.3 Common configuration structure layout. */
struct virtio_pci_common_cfg {
	uint32_t	device_feature_select;	/* rw */
	uint32_t	device_feature;		/* ro */
	uint32_t	driver_feature_select;	/* rw */
	uint32_t	driver_feature;		/* rw */
	uint16_t	config_msix_vector;	/* rw */
	uint16_t	num_queues;		/* ro */
	uint8_t		device_status;		/* rw */
	uint8_t		config_generation;	/* ro */
	uint16_t	queue_select;		/* rw */
	uint16_t	queue_size;		/* rw */
	uint16_t	queue_msix_vector;	/* rw */
	uint16_t	queue_enable;		/* rw */
	uint16_t	queue_notify_off;	/* ro */
	uint64_t	queue_desc;		/* rw */
	uint64_t	queue_driver;		/* rw */
	uint64_t	queue_device;		/* rw */
};

_Static_assert(sizeof(struct virtio_pci_common_cfg) == 56, "4.1.4.3 layout");

/* 4.1.4.3: no MSI-X vector for this event. */
#define VIRTIO_MSI_NO_VECTOR		0xffff

/* ---- 4.2.2 MMIO Device Register Layout -------------------------------- */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000	/* "virt" */
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_MAGIC		0x74726976	/* "virt", little-endian */
#define VIRTIO_MMIO_VERSION_MODERN	2	/* 4.2.2: legacy devices say 1 */

/* InterruptStatus bits (4.2.2). */
#define VIRTIO_MMIO_INT_VRING		1	/* used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG		2	/* configuration change */

/* ---- 2.6 Split Virtqueues --------------------------------------------- */
/* 2.6.5 The Virtqueue Descriptor Table */
#define VIRTQ_DESC_F_NEXT		1
#define VIRTQ_DESC_F_WRITE		2	/* device writes (else reads) */
#define VIRTQ_DESC_F_INDIRECT		4

struct virtq_desc {
	uint64_t	addr;		/* guest-physical */
	uint32_t	len;
	uint16_t	flags;
	uint16_t	next;
};

/* 2.6.6 The Virtqueue Available Ring; used_event follows ring[size]. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1

struct virtq_avail {
	uint16_t	flags;
	uint16_t	idx;
	uint16_t	ring[];
	/* uint16_t used_event;  only with VIRTIO_F_RING_EVENT_IDX */
};

/* 2.6.8 The Virtqueue Used Ring; avail_event follows ring[size]. */
#define VIRTQ_USED_F_NO_NOTIFY		1

struct virtq_used_elem {
	uint32_t	id;		/* head of the used chain */
	uint32_t	len;		/* bytes the device wrote */
};

struct virtq_used {
	uint16_t	flags;
	uint16_t	idx;
	struct virtq_used_elem ring[];
	/* uint16_t avail_event;  only with VIRTIO_F_RING_EVENT_IDX */
};

/* 2.6: the queue size is a power of 2, at most 32768. */
#define VIRTQ_SIZE_MAX			32768

#endif
