/*
 * virtio-net device logic (virtio 1.1, 5.1) over a transport's ops table:
 * a netdev (drivers/include/netdev.h) whose transmit and refill functions
 * sit in its struct netdev and whose start is in a static const
 * netdev_ops.  The transports (drivers/virtio/) find the devices and
 * hand them here through virtio_net_driver, the match table's entry for
 * VIRTIO_ID_NET.  The network device's wire format is in
 * virtio_net_reg.h, what every virtio device shares in
 * drivers/virtio/virtio_reg.h.
 *
 * Zero copy both ways: receive buffers come from the upper layer and go
 * back to it filled; transmit segments go on the ring as they are, behind
 * a virtio-net header from a driver-owned array (one per descriptor head).
 * Every buffer becomes device addresses through dma_runs() (kernel/mm.h),
 * so a buffer in the heap (not identity-mapped) that crosses a page
 * boundary becomes one descriptor per physically contiguous run.
 *
 * Attach (at boot) reads what the device offers and its MAC, steps 1-3 of
 * 3.1.1; start (netdev_start(), when net/ brings the interface up) takes
 * the offloads net/ asks for of those, and finishes the initialisation.
 *
 * Features: VERSION_1 (required), MAC, STATUS and RING_EVENT_IDX when
 * offered, and the offloads a host with a vnet header (tap) offers: CSUM
 * (the device fills in the TCP/UDP checksums the upper layer leaves it),
 * GUEST_CSUM (it tells us which received checksums need no check),
 * MRG_RXBUF (a frame may span several receive buffers) and, with both of
 * those, GUEST_TSO4 and GUEST_TSO6 (the host hands over up to 64 KiB of
 * TCP segments, over IPv4 or IPv6, as one frame, which lwIP takes as one
 * large segment: one trip through the ring and the stack instead of 44),
 * and HOST_TSO4 with CSUM (the device cuts a large TCP frame of ours into
 * segments; IPv4 only, as net/netif/netdev_netif.c explains), each only
 * when net/ asks for the offload (NETDEV_OFF_*) that needs it: with none
 * (the kernel argument offload=off), plain 1514-byte frames with software
 * checksums.  Every receive buffer is VIRTIO_NET_RX_BUF_SIZE either way.
 *
 * Interrupts only wake the loop; the loop source's poll reaps both used
 * rings, hands frames up and refills.  While it polls the device is
 * asked not to interrupt (avail flags, or used_event left behind with
 * EVENT_IDX), and re-enabling checks for entries that raced in.
 * Transmit completions do not interrupt at all (that would be one more
 * wake-up per frame sent, for nothing in the common case) unless the
 * ring is full: the next poll reaps them, which the next received frame
 * or transmit brings, or at the latest the source's deadline, 5 to 10 ms
 * (TX_REAP_NS) after a frame went out.
 *
 * Never deaf: a frame shorter than an Ethernet header is refused where
 * its chain is built (tx_invalid), because a chain with no frame bytes
 * makes QEMU mark the whole device broken on a backend without a vnet
 * header (user networking: "virtio-net nothing to send").  And if the
 * device breaks anyway (it sets NEEDS_RESET and stops processing its
 * queues), the configuration interrupt, or the loop's look at the status
 * every STATUS_CHECK_NS, brings recover(): reset, the initialisation
 * again with the same features, fresh rings, the posted receive buffers
 * back on them; only the frames in flight are lost.  The same look
 * notices the link going down and coming back (VIRTIO_NET_F_STATUS).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netdev.h>
#include <kernel/cmdline.h>
#include <kernel/exit.h>
#include <kernel/intr.h>
#include <kernel/ktime.h>
#include <kernel/log.h>
#include <kernel/loop.h>
#include <kernel/mm.h>

#include "virtio_dev.h"
#include "virtio_net_reg.h"
#include "virtio_reg.h"
#include "virtqueue.h"

/* Devices the driver handles at most. */
#define VIRTIO_NET_MAX_DEVS	NETDEV_MAX

/* Ring entries per queue at most (the device may offer fewer). */
#define VIRTIO_NET_QUEUE_SIZE	256
/* Bytes each receive buffer must hold: the header and a 1518-byte
 * (VLAN-tagged) frame, rounded up; at least 5.1.6.3.1's 1526. */
#define VIRTIO_NET_RX_BUF_SIZE	1536
/* Segments per netdev_tx(); each may need two descriptors (a page
 * boundary), plus one for the header.  A 64 KiB TCP frame that echoes
 * received data chains one segment per receive buffer: 43 of them. */
#define VIRTIO_NET_TX_MAX_SEGS	64
#define TX_MAX_DESC		(2 * VIRTIO_NET_TX_MAX_SEGS + 1)
/* Descriptors one receive buffer may take (page boundaries). */
#define RX_MAX_DESC		4
/* Frames handed up per poll before the loop gets a turn. */
#define RX_BUDGET		64
/* How long a sent frame may wait to be reaped when nothing else polls
 * the device (lwIP will not retransmit a segment the driver still holds,
 * so this bounds that delay too; its retransmission timeout is 200 ms or
 * more).  Deadlines are rounded up to a multiple of it, so that the loop
 * rarely has to move the timer. */
#define TX_REAP_NS		(5 * 1000 * 1000ULL)
/* Buffers one frame may span: a 64 KiB merged segment in 1536-byte
 * buffers takes 43. */
#define RX_MAX_FRAGS		64
/* How often the loop reads the device status when no configuration
 * interrupt came: a backstop for a device that broke or lost its link
 * without saying so (or a transport with no interrupt for it). */
#define STATUS_CHECK_NS		(1000 * 1000 * 1000ULL)
/* The frames netdev_tx() accepts: at least an Ethernet header (14
 * bytes), at most the MTU plus the header and a VLAN tag, or with TSO an
 * IPv4 packet's 64 KiB behind the header. */
#define ETH_HDR_LEN		14
#define ETH_FRAME_EXTRA		18
/* A device that holds transmitted frames this long without sending any
 * is notified again, and reset if the next look finds it still stuck:
 * a lost notification, or a device wedged without saying so, must not
 * leave the guest mute. */
#define TX_STALL_NS		(1000 * 1000 * 1000ULL)
/* The cookie of the chain net_fault= posts (debug builds), which no
 * upper layer knows. */
#define FAULT_COOKIE		((void *)&fault_cookie)

_Static_assert(VIRTIO_NET_RX_BUF_SIZE >= VIRTIO_NET_RX_MIN, "5.1.6.3.1");
_Static_assert(RX_MAX_FRAGS * VIRTIO_NET_RX_BUF_SIZE >= VIRTIO_NET_RX_GSO_MAX, "5.1.6.4");

static const char fault_cookie;

/* A header padded so that none straddles a page. */
struct tx_hdr {
	struct virtio_net_hdr	hdr;
	uint8_t			pad[4];
};

struct vnet {
	struct netdev		dev;		/* first: what net/ sees */
	struct virtio_dev	vdev;		/* the transport's part */
	int			in_use;
	int			live;		/* started: rings, source, upper layer */
	int			index;
	char			kind[20];	/* "virtio-net-pci", info.name */
	uint64_t		offered;	/* the device's features */
	uint64_t		features;	/* negotiated at start */
	unsigned		vector, cfg_vector;
	volatile int		cfg_pending;	/* the configuration may have changed */
	int			out_of_service;	/* a reset failed; recover() retries */
	int			tx_invalid_logged;
	uint64_t		check_at;	/* next look at the status, ns */
	uint64_t		tx_progress_at;	/* the device last sent a frame (or got
						 * its first after an idle spell) */
	int			tx_nudged;	/* notified again for a stall */
	uint64_t		fault_every, fault_at;	/* net_fault= (debug builds) */
	struct virtq		rxq, txq;
	void			*rx_ring_mem, *tx_ring_mem;
	size_t			rx_ring_pages, tx_ring_pages;
	struct tx_hdr		*tx_hdr;	/* page_alloc, per TX head */
	const struct netdev_upper *upper;
	void			*ctx;
	struct loop_source	src;
	uint64_t		tx_since;	/* now_ns() of the oldest unreaped send, 0: none */
	/* Per descriptor head: the upper layer's cookie and buffer. */
	void			*rx_cookie[VIRTIO_NET_QUEUE_SIZE];
	void			*rx_data[VIRTIO_NET_QUEUE_SIZE];
	void			*tx_cookie[VIRTIO_NET_QUEUE_SIZE];
	void			*rxq_cookies[VIRTIO_NET_QUEUE_SIZE];
	void			*txq_cookies[VIRTIO_NET_QUEUE_SIZE];
	/* Receive buffers taken off the rings of a device being reset, for
	 * its new ones. */
	struct {
		void	*cookie, *data;
	}			rx_keep[VIRTIO_NET_QUEUE_SIZE];
	unsigned		nkeep;
};

static struct vnet devs[VIRTIO_NET_MAX_DEVS];
static int ndevs;

static int	start(struct netdev *dev, const struct netdev_conf *conf);
static int	tx(struct netdev *dev, const struct netdev_seg *segs, int nsegs,
		    const struct netdev_offload *off, void *cookie);
static void	rx_refill(struct netdev *dev);
static int	poll(struct loop_source *src);
static uint64_t	next_deadline(struct loop_source *src);

static const struct netdev_ops vnet_ops = {
	.start	= start,
};

static struct vnet *
to_vnet(struct virtio_dev *d)
{
	return (struct vnet *)((char *)d - offsetof(struct vnet, vdev));
}

static struct vnet *
from_netdev(struct netdev *dev)
{
	return (struct vnet *)((char *)dev - offsetof(struct vnet, dev));
}

/* ---- device addresses ---------------------------------------------------- */

/* The device address of driver memory (page-allocated: identity-mapped,
 * physically contiguous). */
static uint64_t
dma_addr(const void *p)
{
	struct dma_run r;

	if (dma_runs(p, 1, &r, 0, 1) != 1)
		panic("virtio-net: driver memory %p is not mapped", p);
	return r.addr;
}

/* ---- configuration --------------------------------------------------------- */

/* Read device config bytes consistently (2.4.1: retry on a generation change). */
static void
cfg_read(struct vnet *nd, unsigned off, void *buf, unsigned len)
{
	const struct virtio_ops *ops = nd->vdev.ops;
	uint32_t gen;

	do {
		gen = ops->cfg_generation(&nd->vdev);
		for (unsigned i = 0; i < len; i++)
			((uint8_t *)buf)[i] = ops->cfg_read8(&nd->vdev, off + i);
	} while (gen != ops->cfg_generation(&nd->vdev));
}

static int
link_up(struct vnet *nd)
{
	uint16_t status;

	if (!(nd->features & VIRTIO_BIT(VIRTIO_NET_F_STATUS)))
		return 1;	/* 5.1.4.2: assume the link is up */
	cfg_read(nd, VIRTIO_NET_CFG_STATUS, &status, sizeof(status));
	return (status & VIRTIO_NET_S_LINK_UP) != 0;
}

static void
read_mac(struct vnet *nd, uint64_t features)
{
	if (features & VIRTIO_BIT(VIRTIO_NET_F_MAC)) {
		cfg_read(nd, VIRTIO_NET_CFG_MAC, nd->dev.info.mac, 6);
		return;
	}
	/* 5.1.5: without a MAC from the device, make up a locally
	 * administered unicast one. */
	uint64_t t = now_ns();
	nd->dev.info.mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		nd->dev.info.mac[i] = (uint8_t)(t >> (8 * i));
}

/* ---- queues ---------------------------------------------------------------- */

/* Lay out an empty ring of size entries in mem and give it to the device. */
static int
ring_setup(struct vnet *nd, unsigned idx, struct virtq *vq, uint16_t size,
    void **cookies, void *mem, size_t pages)
{
	const struct virtio_ops *ops = nd->vdev.ops;
	int err;

	if (ops->queue_max(&nd->vdev, idx) < size)
		return -ENODEV;
	memset(mem, 0, pages * PAGE_SIZE);
	if ((err = virtq_init(vq, size, mem, (uint64_t)mem, cookies,
	    (nd->features & VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)) != 0)) != 0)
		return err;
	return ops->setup_queue(&nd->vdev, idx, vq);
}

static int
queue_init(struct vnet *nd, unsigned idx, struct virtq *vq, void **cookies,
    void **mem, size_t *pages)
{
	const struct virtio_ops *ops = nd->vdev.ops;
	uint16_t max = ops->queue_max(&nd->vdev, idx), size = VIRTIO_NET_QUEUE_SIZE;
	int err;

	if (max == 0)
		return -ENODEV;
	while (size > max)
		size /= 2;
	*pages = PAGE_ROUND_UP(virtq_ring_bytes(size)) / PAGE_SIZE;
	if ((*mem = page_alloc(*pages)) == NULL)
		return -ENOMEM;
	if ((err = ring_setup(nd, idx, vq, size, cookies, *mem, *pages)) != 0) {
		page_free(*mem, *pages);
		*mem = NULL;
		return err;
	}
	return 0;
}

static void
kick(struct vnet *nd, struct virtq *vq, unsigned idx)
{
	if (virtq_kick_prepare(vq))
		nd->vdev.ops->notify(&nd->vdev, idx);
}

/* ---- initialisation (3.1.1 Driver Requirements: Device Initialization) ---- */

static void
intr(struct trapframe *tf, void *arg)
{
	struct vnet *nd = arg;

	(void)tf;
	nd->dev.stats.interrupts++;
	if (nd->vdev.ops->irq_ack != NULL &&
	    (nd->vdev.ops->irq_ack(&nd->vdev) & VIRTIO_ISR_CONFIG))
		nd->cfg_pending = 1;
	loop_source_signal(&nd->src);
}

/* A configuration change on a vector of its own (MSI-X). */
static void
cfg_intr(struct trapframe *tf, void *arg)
{
	struct vnet *nd = arg;

	(void)tf;
	nd->dev.stats.interrupts++;
	nd->cfg_pending = 1;
	loop_source_signal(&nd->src);
}

static struct virtio_dev *
alloc(void)
{
	for (int i = 0; i < VIRTIO_NET_MAX_DEVS; i++)
		if (!devs[i].in_use) {
			memset(&devs[i], 0, sizeof(devs[i]));
			devs[i].in_use = 1;
			return &devs[i].vdev;
		}
	return NULL;
}

static void
release(struct virtio_dev *d)
{
	to_vnet(d)->in_use = 0;
}

/*
 * The features we ask for, of those offered, for the offloads net/ wants
 * (NETDEV_OFF_*).  5.1.3.1: GUEST_TSO4 and GUEST_TSO6 need GUEST_CSUM and
 * HOST_TSO4 needs CSUM; we also want MRG_RXBUF with them, or every
 * receive buffer would have to hold 64 KiB.
 */
static uint64_t
negotiate(uint64_t offered, unsigned wanted)
{
	uint64_t want = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC)
	    | VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);
	uint64_t large = VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);

	if (wanted & (NETDEV_OFF_TX_CSUM | NETDEV_OFF_TX_TSO))
		want |= VIRTIO_BIT(VIRTIO_NET_F_CSUM);
	if (wanted & (NETDEV_OFF_RX_CSUM | NETDEV_OFF_RX_LARGE))
		want |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM);
	if (wanted & NETDEV_OFF_RX_LARGE) {
		want |= VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
		if ((offered & large) == large)
			want |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |
			    VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6);
	}
	if ((wanted & NETDEV_OFF_TX_TSO) && (offered & VIRTIO_BIT(VIRTIO_NET_F_CSUM)))
		want |= VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4);
	return offered & want;
}

/* The offloads a set of features gives the upper layer. */
static unsigned
offloads(uint64_t features)
{
	unsigned off = 0;

	if (features & VIRTIO_BIT(VIRTIO_NET_F_CSUM))
		off |= NETDEV_OFF_TX_CSUM;
	if ((features & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4)) &&
	    (features & VIRTIO_BIT(VIRTIO_NET_F_CSUM)))
		off |= NETDEV_OFF_TX_TSO;
	if (features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM))
		off |= NETDEV_OFF_RX_CSUM;
	if ((features & (VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6)))
	    && (features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM))
	    && (features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)))
		off |= NETDEV_OFF_RX_LARGE;
	return off;
}

/* 4.1.5.1.2.1, 4.2.2.1: a reset may take time; poll this long at most. */
#define RESET_TIMEOUT_US	100000

/* Write 0 to device_status and wait until the device reads back 0. */
static int
reset(struct virtio_dev *d)
{
	d->ops->set_status(d, 0);
	for (int us = 0; us < RESET_TIMEOUT_US; us += 10) {
		if (d->ops->get_status(d) == 0)
			return 0;
		delay_us(10);
	}
	return -ETIMEDOUT;
}

/*
 * Steps 1-6 of 3.1.1: reset, ACKNOWLEDGE (we noticed it), DRIVER (we can
 * drive it), the features, FEATURES_OK.  The first time, the features are
 * what we want of those offered, for the offloads wanted; again (after the device broke), exactly
 * those we had, which everything above was set up for.  *what names the
 * step that failed.
 */
static int
handshake(struct vnet *nd, int again, unsigned wanted, const char **what)
{
	struct virtio_dev *d = &nd->vdev;
	const struct virtio_ops *ops = d->ops;
	uint64_t offered;
	int err;

	*what = "reset";
	if ((err = reset(d)) != 0)
		return err;
	ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);

	/* 4. Read the feature bits and write the subset we understand. */
	*what = "features";
	offered = ops->get_features(d);
	if (!again)
		nd->features = negotiate(offered, wanted);
	else if ((offered & nd->features) != nd->features)
		return -ENOTSUP;	/* it no longer offers what we use */
	if (!(nd->features & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
		return -ENOTSUP;	/* a legacy-only device */
	ops->set_features(d, nd->features);

	/* 5. FEATURES_OK.  6. Re-read: the device may refuse the subset. */
	ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
	    | VIRTIO_STATUS_FEATURES_OK);
	if (!(ops->get_status(d) & VIRTIO_STATUS_FEATURES_OK))
		return -ENOTSUP;
	return 0;
}

/* 8. DRIVER_OK: the device is live. */
static void
driver_ok(struct vnet *nd)
{
	nd->vdev.ops->set_status(&nd->vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
	    | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

#ifdef LIMPET_DEBUG
/* net_fault=MS (debug builds only): every MS milliseconds, break the
 * device on purpose (fault()), so that tests can watch it recover. */
static void
fault_arg(struct vnet *nd)
{
	const char *v = kargs_take(&boot_args, "net_fault");
	char *end;
	unsigned long ms;

	if (v == NULL)
		return;
	ms = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || ms == 0 || ms > 3600000) {
		kprintf("virtio-net: error: net_fault=%s: expected milliseconds, 1..3600000\n", v);
		machine_exit(EXIT_USAGE);
	}
	nd->fault_every = ms * 1000000ULL;
	log_warn("%s: net_fault=%lu: the device will be broken on purpose every %lu ms",
	    nd->dev.name, ms, ms);
}
#endif

/*
 * Attach (from the match table): steps 1-3 of 3.1.1 and a look at what
 * the device offers and its MAC (4 allows reading the configuration
 * before the features are settled).  start() does the rest, when net/
 * has said which offloads it wants.
 */
static int
attach(struct virtio_dev *d)
{
	struct vnet *nd = to_vnet(d);
	const struct virtio_ops *ops = d->ops;
	int err;

	/* Devices are found in order, so slots fill from 0: keep them dense. */
	nd->index = ndevs;
	ksnprintf(nd->kind, sizeof(nd->kind), "%s-%s", d->drv->name, ops->name);
	ksnprintf(nd->dev.name, sizeof(nd->dev.name), "%s%d", nd->kind, nd->index);
	if ((err = reset(d)) != 0)
		goto fail;
	ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	nd->offered = ops->get_features(d);
	err = -ENOTSUP;
	if (!(nd->offered & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
		goto fail;		/* a legacy-only device */
	read_mac(nd, nd->offered);
#ifdef LIMPET_DEBUG
	fault_arg(nd);
#endif
	nd->dev.tx = tx;
	nd->dev.rx_refill = rx_refill;
	nd->dev.ops = &vnet_ops;
	nd->dev.info.name = nd->kind;
	nd->dev.info.mtu = 1500;
	nd->dev.info.link_up = 1;
	nd->dev.info.rx_buf_size = VIRTIO_NET_RX_BUF_SIZE;
	nd->dev.info.rx_frame_max = VIRTIO_NET_RX_BUF_SIZE - sizeof(struct virtio_net_hdr);
	nd->dev.info.offloads_avail = offloads(nd->offered);
	if ((err = netdev_register(&nd->dev)) != 0)
		goto fail;
	ndevs++;
	return 0;

fail:
	ops->set_status(d, ops->get_status(d) | VIRTIO_STATUS_FAILED);
	log_warn("%s: attach failed (%d); device ignored (offered features 0x%llx)",
	    nd->dev.name, err, (unsigned long long)nd->offered);
	release(d);
	return err;
}

const struct virtio_driver virtio_net_driver = {
	.device_id	= VIRTIO_ID_NET,
	.name		= "virtio-net",
	.alloc		= alloc,
	.attach		= attach,
	.release	= release,
};

/*
 * netdev_ops.start: steps 4-8 of 3.1.1 with the offloads net/ wants,
 * then the rings filled and the loop source registered.
 */
static int
start(struct netdev *dev, const struct netdev_conf *conf)
{
	struct vnet *nd = from_netdev(dev);
	struct virtio_dev *d = &nd->vdev;
	const struct virtio_ops *ops = d->ops;
	int err, vec;
	const char *what;

	if ((err = handshake(nd, 0, conf->offloads, &what)) != 0)
		goto fail;

	/* 7. Device-specific setup: interrupts (the queues', and the
	 * configuration's where it has its own), queues, TX headers, config. */
	what = "interrupt";
	if ((vec = irq_alloc_vector()) < 0) {
		err = vec;
		goto fail;
	}
	nd->vector = (unsigned)vec;
	nd->src.name = nd->dev.name;
	nd->src.arg = nd;
	if ((err = irq_register(nd->vector, intr, nd)) != 0)
		goto fail;
	if ((vec = irq_alloc_vector()) < 0) {
		err = vec;
		goto fail;
	}
	nd->cfg_vector = (unsigned)vec;
	if ((err = irq_register(nd->cfg_vector, cfg_intr, nd)) != 0)
		goto fail;
	if ((err = ops->setup_irq(d, nd->vector, nd->cfg_vector)) != 0)
		goto fail_irq;
	what = "receive queue";
	if ((err = queue_init(nd, VIRTIO_NET_RXQ, &nd->rxq, nd->rxq_cookies,
	    &nd->rx_ring_mem, &nd->rx_ring_pages)) != 0)
		goto fail_irq;
	what = "transmit queue";
	if ((err = queue_init(nd, VIRTIO_NET_TXQ, &nd->txq, nd->txq_cookies,
	    &nd->tx_ring_mem, &nd->tx_ring_pages)) != 0)
		goto fail_rxq;
	what = "transmit headers";
	err = -ENOMEM;
	if ((nd->tx_hdr = page_alloc(PAGE_ROUND_UP(sizeof(struct tx_hdr)
	    * nd->txq.size) / PAGE_SIZE)) == NULL)
		goto fail_txq;
	read_mac(nd, nd->features);
	driver_ok(nd);

	nd->dev.info.offloads = offloads(nd->features);
	if (nd->dev.info.offloads & NETDEV_OFF_RX_LARGE)
		/* An IPv4 packet is at most 64 KiB, and so is a pbuf; the
		 * window we advertise (TCP_WND) keeps the host below it,
		 * over IPv6 too. */
		nd->dev.info.rx_frame_max = 0xffff;
	/* A frame must fit the ring even at two descriptors a segment. */
	nd->dev.info.tx_max_segs = VIRTIO_NET_TX_MAX_SEGS;
	if (nd->dev.info.tx_max_segs > (nd->txq.size - 1u) / 2)
		nd->dev.info.tx_max_segs = (nd->txq.size - 1u) / 2;
	nd->dev.info.rx_ring = nd->rxq.size;
	nd->dev.info.tx_ring = nd->txq.size;
	log_debug("%s: mac %02x:%02x:%02x:%02x:%02x:%02x, rings %u/%u, "
	    "features 0x%llx of 0x%llx, vector %u", nd->dev.name,
	    nd->dev.info.mac[0], nd->dev.info.mac[1], nd->dev.info.mac[2],
	    nd->dev.info.mac[3], nd->dev.info.mac[4], nd->dev.info.mac[5],
	    nd->rxq.size, nd->txq.size, (unsigned long long)nd->features,
	    (unsigned long long)nd->offered, nd->vector);

	nd->upper = conf->upper;
	nd->ctx = conf->ctx;
	nd->live = 1;
	nd->src.poll = poll;
	nd->src.next_deadline = next_deadline;
	nd->check_at = now_ns() + STATUS_CHECK_NS;
	if (nd->fault_every != 0)
		nd->fault_at = now_ns() + nd->fault_every;
	rx_refill(&nd->dev);
	virtq_enable_intr(&nd->rxq);
	loop_source_register(&nd->src);
	nd->dev.info.link_up = link_up(nd);
	return 0;

fail_txq:
	page_free(nd->tx_ring_mem, nd->tx_ring_pages);
fail_rxq:
	reset(d);		/* the device must stop using the rings first */
	page_free(nd->rx_ring_mem, nd->rx_ring_pages);
fail_irq:
	/* The vectors stay registered: their handlers only signal a source
	 * that is never registered with the loop. */
fail:
	ops->set_status(d, ops->get_status(d) | VIRTIO_STATUS_FAILED);
	log_warn("%s: %s failed (%d); device out of use (offered features 0x%llx)",
	    nd->dev.name, what, err, (unsigned long long)nd->offered);
	return err;
}

/* ---- the data path ---------------------------------------------------------- */

/* Return the chains the device has sent. */
static void
reap_tx(struct vnet *nd)
{
	void **slot;
	int reaped = 0;

	while ((slot = virtq_get_used(&nd->txq, NULL)) != NULL) {
		reaped++;
		if (*slot != FAULT_COOKIE)
			nd->upper->tx_done(nd->ctx, *slot);
	}
	if (reaped) {
		nd->tx_progress_at = now_ns();
		nd->tx_nudged = 0;
	}
	if (nd->tx_since != 0)
		nd->tx_since = virtq_in_flight(&nd->txq) > 0 ? now_ns() : 0;
}

/* The loop polls the device by then: when sent frames wait to be reaped,
 * for the next look at its status, and for net_fault=. */
static uint64_t
next_deadline(struct loop_source *src)
{
	const struct vnet *nd = src->arg;
	uint64_t t = nd->check_at;

	/* Out of service, poll() only tries again at check_at: the other
	 * deadlines, stuck in the past (nothing reaps or faults meanwhile),
	 * would have the loop poll it without rest. */
	if (nd->out_of_service)
		return t;
	if (nd->tx_since != 0 && (nd->tx_since / TX_REAP_NS + 2) * TX_REAP_NS < t)
		t = (nd->tx_since / TX_REAP_NS + 2) * TX_REAP_NS;
	if (nd->fault_at != 0 && nd->fault_at < t)
		t = nd->fault_at;
	return t;
}

/* Post one receive buffer (the ring has room for it). */
static void
post_rx(struct vnet *nd, void *cookie, void *data)
{
	struct dma_run segs[RX_MAX_DESC];
	int n, head = virtq_next_head(&nd->rxq);

	n = dma_runs(data, VIRTIO_NET_RX_BUF_SIZE, segs, 0, RX_MAX_DESC);
	if (n < 0)
		panic("%s: rx buffer %p is not mapped or too fragmented", nd->dev.name, data);
	nd->rx_cookie[head] = cookie;
	nd->rx_data[head] = data;
	if (virtq_add(&nd->rxq, segs, n, 0, &nd->rx_cookie[head]) != head)
		panic("%s: receive ring out of step", nd->dev.name);
}

static void
rx_refill(struct netdev *dev)
{
	struct vnet *nd = from_netdev(dev);
	int added = 0;

	if (!nd->live || nd->out_of_service)
		return;
	while (nd->rxq.num_free >= RX_MAX_DESC) {
		void *data;
		uint32_t size;
		void *cookie = nd->upper->rx_buf(nd->ctx, &data, &size);

		if (cookie == NULL) {
			nd->dev.stats.rx_no_buffers++;
			break;
		}
		if (size < VIRTIO_NET_RX_BUF_SIZE)
			panic("%s: rx_buf gave %u bytes; netdev_info() asks for %u",
			    nd->dev.name, size, VIRTIO_NET_RX_BUF_SIZE);
		post_rx(nd, cookie, data);
		added++;
	}
	if (added)
		kick(nd, &nd->rxq, VIRTIO_NET_RXQ);
}

/* Give a buffer of a frame we drop straight back to the device. */
static void
repost(struct vnet *nd, const struct netdev_frag *f)
{
	post_rx(nd, f->cookie, f->data);
}

/* The next used receive buffer as a fragment (data is the buffer's
 * start); 0 when there is none. */
static int
next_buf(struct vnet *nd, struct netdev_frag *f)
{
	uint32_t len;
	void **slot = virtq_get_used(&nd->rxq, &len);

	if (slot == NULL)
		return 0;
	f->cookie = *slot;
	f->data = nd->rx_data[slot - nd->rx_cookie];
	f->len = len;
	return 1;
}

/*
 * Take one frame off the ring into frags (at most RX_MAX_FRAGS buffers);
 * its buffer count, 0 when the ring is empty, or -1 when the frame was
 * malformed and its buffers went back to the device.  The first
 * fragment is moved past the header, whose flags go to *hdr_flags.
 */
static int
take_frame(struct vnet *nd, struct netdev_frag *frags, uint8_t *hdr_flags)
{
	const struct virtio_net_hdr *hdr;
	const size_t hl = sizeof(struct virtio_net_hdr);
	uint32_t want = 1, total;
	int n = 1, bad = 0;

	if (!next_buf(nd, &frags[0]))
		return 0;
	hdr = frags[0].data;
	if (frags[0].len < hl || frags[0].len > VIRTIO_NET_RX_BUF_SIZE) {
		/* A runt or a device bug. */
		repost(nd, &frags[0]);
		return -1;
	}
	if (nd->features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF))
		want = hdr->num_buffers;
	*hdr_flags = hdr->flags;
	total = frags[0].len - (uint32_t)hl;
	/* 5.1.6.4.2: the device used num_buffers buffers for this frame;
	 * take them all, even those of a frame we will drop. */
	for (uint32_t i = 1; i < want; i++) {
		struct netdev_frag f;

		if (!next_buf(nd, &f)) {
			bad = 1;	/* the device published fewer than it said */
			break;
		}
		if (f.len > VIRTIO_NET_RX_BUF_SIZE || n == RX_MAX_FRAGS) {
			bad = 1;
			repost(nd, &f);
			continue;
		}
		frags[n++] = f;
		total += f.len;
	}
	if (bad || want == 0 || total > nd->dev.info.rx_frame_max) {
		for (int i = 0; i < n; i++)
			repost(nd, &frags[i]);
		return -1;
	}
	frags[0].data = (uint8_t *)frags[0].data + hl;
	frags[0].len -= (uint32_t)hl;
	nd->dev.stats.rx_packets++;
	nd->dev.stats.rx_bytes += total;
	if (total > (uint32_t)nd->dev.info.mtu + 18)
		nd->dev.stats.rx_large++;
	return n;
}

/* Hand up to RX_BUDGET frames to the upper layer; nonzero if more wait. */
static int
receive(struct vnet *nd)
{
	struct netdev_frag frags[RX_MAX_FRAGS];
	int budget = RX_BUDGET, n;
	uint8_t hflags = 0;

	while (budget > 0 && (n = take_frame(nd, frags, &hflags)) != 0) {
		unsigned flags = 0;

		budget--;
		if (n < 0) {
			nd->dev.stats.rx_drops++;
			continue;
		}
		/* 5.1.6.4.1: NEEDS_CSUM (the frame comes from the host itself,
		 * its checksum field holds a partial sum) or DATA_VALID (the
		 * device checked it). */
		if ((nd->features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)) &&
		    (hflags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)))
			flags |= NETDEV_RX_CSUM_OK;
		nd->upper->rx(nd->ctx, frags, n, flags);
	}
	return budget == 0 && virtq_has_used(&nd->rxq);
}

/* ---- a broken device, the link --------------------------------------------- */

/*
 * The device broke: it set NEEDS_RESET (QEMU does on a chain it cannot
 * use, and then leaves both queues alone for good, 2.1.2), or it lost
 * DRIVER_OK.  Reset it and set it up as at boot, with the features, ring
 * sizes and interrupts it had, so that nothing above notices but lost
 * frames: the chains it held are given back as sent (TCP resends them),
 * the receive buffers it held go on the new ring.  On failure the device
 * is out of service until the next look at it tries again.
 */
static void
recover(struct vnet *nd, const char *why)
{
	struct virtio_dev *d = &nd->vdev;
	const char *what = "reset";
	int err;

	nd->dev.stats.device_resets++;
	log_warn("%s: %s: resetting the device (reset %llu)", nd->dev.name, why,
	    (unsigned long long)nd->dev.stats.device_resets);
	if ((err = reset(d)) != 0)
		goto fail;
	/* The device has let go of both rings. */
	for (unsigned h = 0; h < nd->txq.size; h++)
		if (nd->txq.cookie[h] != NULL) {
			nd->txq.cookie[h] = NULL;
			if (nd->tx_cookie[h] != FAULT_COOKIE)
				nd->upper->tx_done(nd->ctx, nd->tx_cookie[h]);
		}
	for (unsigned h = 0; h < nd->rxq.size; h++)
		if (nd->rxq.cookie[h] != NULL) {
			nd->rxq.cookie[h] = NULL;
			nd->rx_keep[nd->nkeep].cookie = nd->rx_cookie[h];
			nd->rx_keep[nd->nkeep++].data = nd->rx_data[h];
		}
	nd->tx_since = 0;
	nd->tx_nudged = 0;

	if ((err = handshake(nd, 1, 0, &what)) != 0)
		goto fail;
	what = "interrupt";
	if ((err = d->ops->setup_irq(d, nd->vector, nd->cfg_vector)) != 0)
		goto fail;
	what = "queues";
	if ((err = ring_setup(nd, VIRTIO_NET_RXQ, &nd->rxq, nd->rxq.size, nd->rxq_cookies,
	    nd->rx_ring_mem, nd->rx_ring_pages)) != 0 ||
	    (err = ring_setup(nd, VIRTIO_NET_TXQ, &nd->txq, nd->txq.size, nd->txq_cookies,
	    nd->tx_ring_mem, nd->tx_ring_pages)) != 0)
		goto fail;
	driver_ok(nd);
	nd->out_of_service = 0;
	while (nd->nkeep > 0) {
		nd->nkeep--;
		post_rx(nd, nd->rx_keep[nd->nkeep].cookie, nd->rx_keep[nd->nkeep].data);
	}
	rx_refill(&nd->dev);
	kick(nd, &nd->rxq, VIRTIO_NET_RXQ);
	virtq_enable_intr(&nd->rxq);
	log_warn("%s: the device is back, %u receive buffers posted", nd->dev.name,
	    (unsigned)virtq_in_flight(&nd->rxq));
	return;

fail:
	if (!nd->out_of_service)
		log_error("%s: %s failed (%d) after a reset; the device is out of service, "
		    "trying again every %llu ms", nd->dev.name, what, err,
		    (unsigned long long)(STATUS_CHECK_NS / 1000000));
	nd->out_of_service = 1;
	d->ops->set_status(d, VIRTIO_STATUS_FAILED);
}

/* Look at the device: broken, or its link changed? */
static void
check_device(struct vnet *nd)
{
	uint8_t st = nd->vdev.ops->get_status(&nd->vdev);
	int up;

	if (nd->out_of_service)
		recover(nd, "out of service");
	else if (st & VIRTIO_STATUS_NEEDS_RESET)
		recover(nd, "the device needs a reset");
	else if (!(st & VIRTIO_STATUS_DRIVER_OK))
		recover(nd, "the device lost its status");
	if (nd->out_of_service)
		return;
	if ((up = link_up(nd)) != nd->dev.info.link_up) {
		nd->dev.info.link_up = up;
		nd->dev.stats.link_changes++;
		log_info("%s: link %s", nd->dev.name, up ? "up" : "down");
		if (nd->upper->link != NULL)
			nd->upper->link(nd->ctx, up);
	}
}

#ifdef LIMPET_DEBUG
/* net_fault=: post one transmit chain that QEMU must refuse on every
 * backend, a single device-writable buffer ("virtio-net header not in
 * first element"): it marks the device broken.  (A header-only chain
 * breaks it only on a backend without a vnet header, and a chain shorter
 * than the header makes QEMU 7.2 abort in iov_copy() on such a backend.) */
static void
fault(struct vnet *nd)
{
	int head = virtq_next_head(&nd->txq);
	struct dma_run seg;

	if (head < 0)
		return;
	seg = (struct dma_run){ .addr = dma_addr(&nd->tx_hdr[head].hdr),
	    .len = sizeof(struct virtio_net_hdr) };
	nd->tx_cookie[head] = FAULT_COOKIE;
	virtq_add(&nd->txq, &seg, 1, 0, &nd->tx_cookie[head]);	/* device-writable */
	log_warn("%s: net_fault: posting a malformed transmit chain", nd->dev.name);
	nd->vdev.ops->notify(&nd->vdev, VIRTIO_NET_TXQ);
}
#endif

/*
 * From the periodic look, after reaping: frames in flight and none sent
 * for TX_STALL_NS.  QEMU reports nothing when it stops taking frames
 * without breaking (a notification it missed, a backend that never
 * completes); notify it again, and if that does not help by the next
 * look, reset it.
 */
static void
check_tx_stall(struct vnet *nd, uint64_t now)
{
	if (virtq_in_flight(&nd->txq) == 0 || now - nd->tx_progress_at < TX_STALL_NS)
		return;
	if (!nd->tx_nudged) {
		nd->tx_nudged = 1;
		nd->dev.stats.tx_stalls++;
		log_warn("%s: %u transmitted chains, none sent for %llu ms: notifying the device "
		    "again", nd->dev.name, (unsigned)virtq_in_flight(&nd->txq),
		    (unsigned long long)((now - nd->tx_progress_at) / 1000000));
		nd->vdev.ops->notify(&nd->vdev, VIRTIO_NET_TXQ);
		return;
	}
	nd->tx_nudged = 0;
	nd->tx_progress_at = now;
	recover(nd, "the device sends no frames");
}

static int
poll(struct loop_source *src)
{
	struct vnet *nd = src->arg;
	uint64_t now = now_ns();
	int more, look = 0;

	if (nd->cfg_pending || now >= nd->check_at) {
		nd->cfg_pending = 0;
		nd->check_at = now + STATUS_CHECK_NS;
		look = 1;
		check_device(nd);
	}
#ifdef LIMPET_DEBUG
	if (nd->fault_at != 0 && now >= nd->fault_at && !nd->out_of_service) {
		nd->fault_at = now + nd->fault_every;
		fault(nd);
	}
#endif
	if (nd->out_of_service)
		return 0;
	virtq_disable_intr(&nd->rxq);
	virtq_disable_intr(&nd->txq);
	reap_tx(nd);
	/* The time again: reaping (and what it sends) stamps tx_progress_at
	 * later than the now above, and now - tx_progress_at wrapped around
	 * to a stall of 2^64 ns that never was. */
	if (look)
		check_tx_stall(nd, now_ns());
	if (nd->out_of_service)
		return 0;
	more = receive(nd);
	rx_refill(&nd->dev);
	if (more)
		return 1;
	/* Receive interrupts back on, then one more look for what raced in.
	 * Transmit completions wait for the next poll (tx_deadline()). */
	return virtq_enable_intr(&nd->rxq);
}

/*
 * Whether the device can send this frame of bytes bytes: at least an
 * Ethernet header (QEMU marks the whole device broken on a chain with no
 * frame bytes when its backend takes no vnet header), at most what the
 * link or TSO carries, with offloads that point inside it.
 */
static int
frame_ok(const struct vnet *nd, uint64_t bytes, const struct netdev_offload *off)
{
	uint64_t max = (uint64_t)nd->dev.info.mtu + ETH_FRAME_EXTRA;

	if (off != NULL && off->gso_size != 0) {
		max = ETH_HDR_LEN + 0xffffu;
		if (off->hdr_len > bytes || off->hdr_len < ETH_HDR_LEN)
			return 0;
	}
	if (off != NULL && (uint64_t)off->csum_start + off->csum_offset + 2 > bytes)
		return 0;
	return bytes >= ETH_HDR_LEN && bytes <= max;
}

static int
tx(struct netdev *dev, const struct netdev_seg *segs, int nsegs,
    const struct netdev_offload *off, void *cookie)
{
	struct vnet *nd = from_netdev(dev);
	struct dma_run v[TX_MAX_DESC];
	struct virtio_net_hdr *hdr;
	uint64_t bytes = 0;
	int n = 0, head;

	if (!nd->live || nsegs <= 0 || (uint32_t)nsegs > nd->dev.info.tx_max_segs ||
	    (off != NULL && !(nd->features & VIRTIO_BIT(VIRTIO_NET_F_CSUM))) ||
	    (off != NULL && off->gso_size != 0 &&
	    !(nd->features & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4)))) {
		nd->dev.stats.tx_drops++;
		return -EINVAL;
	}
	if (nd->out_of_service)
		return -ENETDOWN;
	for (int i = 0; i < nsegs; i++)
		bytes += segs[i].len;
	if (!frame_ok(nd, bytes, off)) {
		nd->dev.stats.tx_invalid++;
		if (!nd->tx_invalid_logged) {
			nd->tx_invalid_logged = 1;
			log_warn("%s: refused a %llu-byte frame in %d segments (logged once, "
			    "counted in tx_invalid)", nd->dev.name, (unsigned long long)bytes, nsegs);
		}
		return -EINVAL;
	}
	/* The frame's runs go after v[0], the header's slot, which is filled
	 * in below: dma_runs() merges a run with the one before it, so it
	 * must never see v[0] before then.  (It did: a one-piece frame whose
	 * start met the stale stack contents of v[0] vanished into it, and
	 * the device got a chain of a header and nothing else.)  A frame in
	 * more pieces than the ring takes is the upper layer's to copy into
	 * one (-EMSGSIZE, not a drop). */
	for (int i = 0; i < nsegs; i++)
		if ((n = dma_runs(segs[i].data, segs[i].len, v + 1, n, TX_MAX_DESC - 1)) < 0) {
			if (n == -ENOSPC)
				return -EMSGSIZE;
			nd->dev.stats.tx_drops++;
			return n;
		}
	if (++n > nd->txq.size)		/* with the header: it would never fit */
		return -EMSGSIZE;
	if (nd->txq.num_free < n)
		reap_tx(nd);
	if (nd->txq.num_free < n) {
		nd->dev.stats.tx_ring_full++;
		/* The ring drains by interrupt: make sure one comes, or poll
		 * at once for what was used meanwhile. */
		if (virtq_enable_intr(&nd->txq))
			loop_source_signal(&nd->src);
		return -EAGAIN;
	}
	/* The header for this head, never shared: zero but for the offloads
	 * asked for (5.1.6.2). */
	head = virtq_next_head(&nd->txq);
	hdr = &nd->tx_hdr[head].hdr;
	memset(hdr, 0, sizeof(*hdr));
	if (off != NULL) {
		hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr->csum_start = off->csum_start;
		hdr->csum_offset = off->csum_offset;
		nd->dev.stats.tx_csum++;
		if (off->gso_size != 0) {
			hdr->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
			hdr->gso_size = off->gso_size;
			hdr->hdr_len = off->hdr_len;
			nd->dev.stats.tx_tso++;
			if (bytes > nd->dev.stats.tx_tso_max)
				nd->dev.stats.tx_tso_max = bytes;
		}
	}
	v[0] = (struct dma_run){ .addr = dma_addr(&nd->tx_hdr[head].hdr),
	    .len = sizeof(struct virtio_net_hdr) };
	nd->tx_cookie[head] = cookie;
	if (virtq_add(&nd->txq, v, n, n, &nd->tx_cookie[head]) != head)
		panic("%s: transmit ring out of step", nd->dev.name);
	nd->dev.stats.tx_packets++;
	nd->dev.stats.tx_bytes += bytes;
	if (virtq_in_flight(&nd->txq) == (uint16_t)n)
		nd->tx_progress_at = now_ns();	/* the first after an idle spell */
	kick(nd, &nd->txq, VIRTIO_NET_TXQ);
	if (nd->tx_since == 0)
		nd->tx_since = now_ns();
	return 0;
}
