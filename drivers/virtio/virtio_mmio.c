/*
 * The virtio MMIO transport, version 2 (modern) only (virtio 1.1, 4.2):
 * QEMU microvm's `-device virtio-net-device` with
 * `-global virtio-mmio.force-legacy=false`.
 *
 * microvm lays its transports out at 0xfeb00000 + 512 * n
 * (hw/i386/microvm.c); a VMM that puts them elsewhere (Firecracker) names
 * them with virtio_mmio.device= arguments, which replace the scan.  Each
 * device found goes to the driver of its type (virtio.c).
 * Their interrupt lines: GSI 5 + n for the eight
 * transports of the classic layout, GSI 24 + n for the 24 transports when
 * the machine has its second I/O APIC (ioapic2, on by default with ACPI).
 * An empty transport answers with the magic value and device id 0.
 *
 * The line follows the InterruptStatus register (QEMU raises it while any
 * bit is set), so it is routed level-triggered, active high: acknowledging
 * in the handler lowers it before the EOI, and a bit that arrives between
 * the read and the acknowledgement keeps it high and interrupts again, so
 * no notification can be lost as it could with an edge.
 */
#include <errno.h>
#include <stdint.h>

#include <kernel/cmdline.h>
#include <kernel/ioapic.h>
#include <kernel/ktime.h>
#include <kernel/log.h>
#include <kernel/mm.h>

#include "virtio_dev.h"
#include "virtio_reg.h"

#define MICROVM_MMIO_BASE	0xfeb00000ULL
#define MICROVM_MMIO_SIZE	512
#define MICROVM_MMIO_SLOTS	24	/* with ioapic2; 8 without */
#define MICROVM_IRQ_BASE	5	/* without ioapic2 */
#define MICROVM_IRQ_BASE2	24	/* with ioapic2: the second chip's GSIs */

static uint32_t
rd(struct virtio_dev *d, unsigned reg)
{
	return *(volatile uint32_t *)(d->mmio.regs + reg);
}

static void
wr(struct virtio_dev *d, unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(d->mmio.regs + reg) = v;
}

static uint8_t
get_status(struct virtio_dev *d)
{
	return (uint8_t)rd(d, VIRTIO_MMIO_STATUS);
}

static void
set_status(struct virtio_dev *d, uint8_t status)
{
	wr(d, VIRTIO_MMIO_STATUS, status);
}

static uint64_t
get_features(struct virtio_dev *d)
{
	uint64_t f;

	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static void
set_features(struct virtio_dev *d, uint64_t f)
{
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static uint8_t
cfg_read8(struct virtio_dev *d, unsigned off)
{
	return d->mmio.regs[VIRTIO_MMIO_CONFIG + off];
}

static uint32_t
cfg_generation(struct virtio_dev *d)
{
	return rd(d, VIRTIO_MMIO_CONFIG_GENERATION);
}

/* One line for the queues and configuration changes alike. */
static int
setup_irq(struct virtio_dev *d, unsigned vector, unsigned cfg_vector)
{
	(void)cfg_vector;
	return ioapic_route(d->mmio.gsi, vector, IOAPIC_LEVEL | IOAPIC_ACTIVE_HIGH);
}

static uint16_t
queue_max(struct virtio_dev *d, unsigned idx)
{
	wr(d, VIRTIO_MMIO_QUEUE_SEL, idx);
	/* 4.2.3.2: a queue already in use cannot be set up again. */
	if (rd(d, VIRTIO_MMIO_QUEUE_READY) != 0)
		return 0;
	return (uint16_t)rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

static int
setup_queue(struct virtio_dev *d, unsigned idx, const struct virtq *vq)
{
	/* 4.2.3.2 Virtqueue Configuration, steps 1-8. */
	wr(d, VIRTIO_MMIO_QUEUE_SEL, idx);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, vq->size);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)vq->desc_pa);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(vq->desc_pa >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)vq->avail_pa);
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(vq->avail_pa >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)vq->used_pa);
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(vq->used_pa >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

static void
notify(struct virtio_dev *d, unsigned idx)
{
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, idx);
}

/* 4.2.3.4: read InterruptStatus, then acknowledge what was seen. */
static uint32_t
irq_ack(struct virtio_dev *d)
{
	uint32_t st = rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);

	if (st != 0)
		wr(d, VIRTIO_MMIO_INTERRUPT_ACK, st);
	return st;
}

static const struct virtio_ops mmio_ops = {
	.name		= "mmio",
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
	.irq_ack	= irq_ack,
};

/*
 * Attach the transport at regs to the driver of its device's type: 1, or
 * 0 when it is empty (device id 0), has no driver or failed, -ENODEV past
 * the last one.
 */
static int
attach(volatile uint8_t *regs, unsigned gsi, const char *where)
{
	volatile uint32_t *r = (volatile uint32_t *)regs;
	struct virtio_dev *d;
	uint32_t version, type;

	if (r[VIRTIO_MMIO_MAGIC_VALUE / 4] != VIRTIO_MMIO_MAGIC)
		return -ENODEV;
	if ((type = r[VIRTIO_MMIO_DEVICE_ID / 4]) == 0)
		return 0;			/* empty */
	version = r[VIRTIO_MMIO_VERSION / 4];
	if (version != VIRTIO_MMIO_VERSION_MODERN) {
		log_warn("virtio: mmio %s is version %u (legacy); run QEMU "
		    "with -global virtio-mmio.force-legacy=false", where, version);
		return 0;
	}
	if ((d = virtio_new(type, where)) == NULL)
		return 0;
	d->ops = &mmio_ops;
	d->mmio.regs = regs;
	d->mmio.gsi = gsi;
	return virtio_attach(d) == 0 ? 1 : 0;
}

/*
 * The transports the command line announces (virtio_mmio.device=, as
 * Firecracker passes them): -1 when there are none, else how many
 * devices attached.
 */
static int
probe_args(void)
{
	const char *v[MICROVM_MMIO_SLOTS];
	struct virtio_mmio_arg a;
	char where[48];
	int n, count = 0;

	n = kargs_take_all(&boot_args, "virtio_mmio.device", v, MICROVM_MMIO_SLOTS);
	if (n == 0)
		return -1;
	if (n > MICROVM_MMIO_SLOTS) {
		log_warn("virtio: %d virtio_mmio.device= arguments; the first %d taken",
		    n, MICROVM_MMIO_SLOTS);
		n = MICROVM_MMIO_SLOTS;
	}
	for (int i = 0; i < n; i++) {
		if (virtio_mmio_parse_arg(v[i], &a) != 0) {
			log_warn("virtio: virtio_mmio.device=%s: not SIZE@BASE:IRQ "
			    "(e.g. 4K@0xd0000000:5); ignored", v[i]);
			continue;
		}
		ksnprintf(where, sizeof(where), "at 0x%llx", (unsigned long long)a.base);
		if (attach(mmio_map(a.base, a.size), a.gsi, where) > 0)
			count++;
	}
	return count;
}

int
virtio_mmio_probe(void)
{
	volatile uint8_t *base;
	unsigned irq_base;
	char where[24];
	int count = 0, rc;

	if ((rc = probe_args()) >= 0)
		return rc;
	base = mmio_map(MICROVM_MMIO_BASE, MICROVM_MMIO_SLOTS * MICROVM_MMIO_SIZE);
	irq_base = ioapic_gsi_count() > MICROVM_IRQ_BASE2 ? MICROVM_IRQ_BASE2 : MICROVM_IRQ_BASE;
	for (unsigned n = 0; n < MICROVM_MMIO_SLOTS; n++) {
		ksnprintf(where, sizeof(where), "slot %u", n);
		if ((rc = attach(base + n * MICROVM_MMIO_SIZE, irq_base + n, where)) < 0)
			break;			/* past the last transport */
		count += rc;
	}
	return count;
}
