/*
 * netdev: the interface between a network driver and the stack above it
 * (net/), as Unikraft's uk/netdev_core.h shapes one.  A driver embeds a
 * struct netdev in its device, fills in the hot transmit and refill
 * functions and points ops at a static const table of the rest, and
 * registers the device (netdev_register()); the layer above only ever
 * calls through the struct, so a test can put a fake device in its place
 * (tests/unit/test_netif.c).  The driver deals in buffers and
 * descriptors, never in lwIP pbufs; the layer above wraps its buffers as
 * pbufs.  Zero copy both ways: the upper layer owns every buffer, the
 * driver only lends them to the device.
 *
 * Call order:
 *	netdev_probe()			attach the devices the buses have (boot)
 *	netdev_get(i)			one of them; netdev_info(): its MAC,
 *					MTU, buffer size, the offloads it has
 *	netdev_start(dev, conf)		offloads negotiated (the ones conf
 *					asks for that the device has), RX
 *					buffers posted, interrupts on
 *	netdev_tx(...)			any time after start, from loop context
 *
 * Offloads: the upper layer decides which it wants (net/ reads the
 * offload= kernel argument) and passes them in conf->offloads; the device
 * says at attach which it has (info.offloads_avail) and at start takes
 * the ones both name (info.offloads, 0 before start).  A device without
 * an offload never has it forced on it, and one the upper layer did not
 * ask for is not negotiated at all: the host behind the device never
 * sends large frames or partial checksums to a guest that said no.
 *
 * Receive: the driver asks conf->upper->rx_buf for buffers to post (at
 * start and whenever the ring has room: netdev_rx_refill()); a frame comes
 * back through upper->rx as one or more filled buffers (more than one only
 * with NETDEV_OFF_RX_LARGE: a frame of up to info.rx_frame_max bytes
 * spread over several), which belong to the upper layer from then on.
 * When the upper layer is done with one, it hands it back to its own pool
 * and calls netdev_rx_refill().
 *
 * Transmit: netdev_tx() puts the segments on the ring as one
 * scatter-gather chain (the driver supplies its own header in front, and
 * turns each segment into device addresses with dma_runs(): segments are
 * ordinary pointers); the segments must stay untouched until
 * upper->tx_done(cookie).  A frame shorter than an Ethernet header never
 * reaches the device: it is refused and counted (tx_invalid).
 *
 * Recovery: when the device reports that it needs a reset (it broke on
 * something it was given, virtio 1.1 2.1.2), the driver resets it, sets it
 * up again with the same features and rings, and carries on: the upper
 * layer keeps its buffers and its state, the frames the device held are
 * lost (their tx_done() comes at once; TCP resends them) and the posted
 * receive buffers go back on the new ring.  Link changes reach
 * upper->link().
 *
 * Offloads (info.offloads): with NETDEV_OFF_TX_CSUM the upper layer may
 * leave a TCP or UDP checksum to the device: it stores the pseudo-header
 * sum in the checksum field and passes where the sum starts and where the
 * field is (struct netdev_offload).  With NETDEV_OFF_TX_TSO it may also
 * hand over a TCP/IPv4 frame larger than the MTU, which the device (or
 * the host behind it) cuts into segments of gso_size payload bytes, each
 * behind a copy of the first hdr_len bytes of headers.  With
 * NETDEV_OFF_RX_CSUM a received frame may carry NETDEV_RX_CSUM_OK: its
 * TCP/UDP checksum was checked by the device, or the frame never left the
 * host and has none to check (its checksum field then holds only a
 * partial sum).
 *
 * Context: all calls from the event loop (main or callbacks), never from
 * interrupt handlers.  Callbacks run from the driver's loop-source poll.
 * Errors: 0 or a negative errno.
 */
#ifndef DRIVERS_NETDEV_H
#define DRIVERS_NETDEV_H

#include <errno.h>
#include <stdint.h>

struct netdev;

/* One filled receive buffer: the cookie rx_buf gave, and the bytes of the
 * frame it holds. */
struct netdev_frag {
	void		*cookie;
	void		*data;
	uint32_t	len;
};

/* Received frame flags. */
#define NETDEV_RX_CSUM_OK	0x1	/* TCP/UDP checksum needs no check */

/* The upper layer, as the driver calls it. */
struct netdev_upper {
	/* A buffer to post for receiving: set *data and *size (at least
	 * info.rx_buf_size bytes) and return a cookie, or return NULL when
	 * the pool is empty (the driver tries again later). */
	void	*(*rx_buf)(void *ctx, void **data, uint32_t *size);
	/* A frame arrived in n buffers, in order (the first holds the start
	 * of the frame, the driver's header sits in front of it); flags are
	 * NETDEV_RX_*. */
	void	(*rx)(void *ctx, const struct netdev_frag *frags, int n, unsigned flags);
	/* The chain sent with this cookie has left, or was lost in a device
	 * reset: release it. */
	void	(*tx_done)(void *ctx, void *cookie);
	/* Optional: the link went down (up = 0) or came back (up = 1). */
	void	(*link)(void *ctx, int up);
};

struct netdev_seg {
	const void	*data;
	uint32_t	len;
};

/* Transmit offloads for one frame: the device sums the frame from byte
 * csum_start to the end and adds the result into the 16-bit field at
 * csum_start + csum_offset (which holds the pseudo-header sum); with
 * gso_size > 0 it first cuts the TCP payload into segments of that many
 * bytes, behind copies of the hdr_len bytes of Ethernet, IP and TCP
 * headers (fixing up lengths, sequence numbers and checksums). */
struct netdev_offload {
	uint16_t	csum_start, csum_offset;
	uint16_t	gso_size, hdr_len;
};

/* Offloads (info.offloads_avail, conf->offloads, info.offloads). */
#define NETDEV_OFF_TX_CSUM	0x1	/* netdev_tx() takes a checksum to fill */
#define NETDEV_OFF_RX_CSUM	0x2	/* frames may come NETDEV_RX_CSUM_OK */
#define NETDEV_OFF_RX_LARGE	0x4	/* frames larger than the MTU (the host
					 * merged TCP segments), in several buffers */
#define NETDEV_OFF_TX_TSO	0x8	/* netdev_tx() takes TCP/IPv4 frames larger
					 * than the MTU, with a gso_size */
#define NETDEV_OFF_ALL		0xf

struct netdev_info {
	const char	*name;		/* "virtio-net-pci", "virtio-net-mmio" */
	uint8_t		mac[6];
	uint16_t	mtu;		/* 1500 unless the device says otherwise */
	int		link_up;
	uint32_t	rx_buf_size;	/* bytes each RX buffer must hold */
	uint32_t	rx_frame_max;	/* the largest frame rx() may hand up */
	unsigned	offloads_avail;	/* NETDEV_OFF_* the device has */
	unsigned	offloads;	/* NETDEV_OFF_* in use (from start on) */
	uint32_t	tx_max_segs;	/* segments per netdev_tx() */
	uint32_t	rx_ring, tx_ring;	/* ring sizes */
};

struct netdev_stats {
	uint64_t	rx_packets, rx_bytes, rx_drops;
	uint64_t	tx_packets, tx_bytes, tx_drops;
	uint64_t	tx_ring_full;	/* netdev_tx() refused: ring full */
	uint64_t	rx_no_buffers;	/* refills that found the pool empty */
	uint64_t	interrupts;
	uint64_t	rx_large;	/* frames larger than the MTU */
	uint64_t	tx_csum;	/* frames the device checksummed */
	uint64_t	tx_tso;		/* frames the device cut into segments */
	uint64_t	tx_tso_max;	/* the largest of those, bytes */
	uint64_t	bytes_copied;	/* payload bytes copied (goal: 0) */
	uint64_t	tx_invalid;	/* frames refused: shorter than an Ethernet
					 * header, longer than the device takes, or
					 * offloads pointing outside the frame */
	uint64_t	device_resets;	/* the device broke (NEEDS_RESET) and was
					 * reset and set up again */
	uint64_t	link_changes;	/* the link went down or came back */
	uint64_t	tx_stalls;	/* frames in flight, none sent for a second:
					 * notified again (reset if that fails) */
};

/* What the upper layer gives netdev_start(). */
struct netdev_conf {
	const struct netdev_upper *upper;	/* rx_buf, rx and tx_done required */
	void		*ctx;			/* the callbacks' first argument */
	unsigned	offloads;		/* NETDEV_OFF_* wanted */
};

/*
 * Send the frame segs[0..nsegs); off is NULL for a complete frame, or
 * says what the device is to do to it (NETDEV_OFF_TX_CSUM, _TX_TSO).
 * 0; -EAGAIN when the ring is full; -EMSGSIZE when the segments' memory
 * is in more pieces than the device takes (the upper layer may copy the
 * frame into one); -EINVAL for too many segments, an offload not in use
 * or a malformed frame (too short or too long: counted in tx_invalid);
 * -ENETDOWN while the device is out of service (a reset failed).
 */
typedef int	(*netdev_tx_fn)(struct netdev *dev, const struct netdev_seg *segs, int nsegs,
		    const struct netdev_offload *off, void *cookie);
/* Post receive buffers (upper->rx_buf) while the ring has room. */
typedef void	(*netdev_rx_refill_fn)(struct netdev *dev);

/* The rest of a driver's operations, in a static const table: what is
 * called once, off the data path.  (Unikraft's has a dozen: ours has only
 * what net/ needs; info and stats are data in struct netdev.) */
struct netdev_ops {
	/* Required: negotiate conf->offloads & info.offloads_avail (setting
	 * info.offloads, rx_frame_max, link_up), make the device live, post
	 * receive buffers.  Called once. */
	int	(*start)(struct netdev *dev, const struct netdev_conf *conf);
};

struct netdev {
	/* The data path, called for every frame: in the struct, one
	 * indirect call away, as Unikraft keeps tx_one and rx_one. */
	netdev_tx_fn		tx;
	netdev_rx_refill_fn	rx_refill;
	const struct netdev_ops	*ops;
	char			name[24];	/* "virtio-net-pci0" */
	struct netdev_info	info;		/* the driver's, read-only above */
	struct netdev_stats	stats;		/* the driver's counters, and the
						 * two netdev_count_*() ones */
	int			started;
};

/* ---- for the layer above --------------------------------------------------- */

/* Attach the devices every bus has (once; later calls only count them):
 * how many there are. */
int	netdev_probe(void);
/* The index-th device (from 0), or NULL. */
struct netdev *netdev_get(int index);

static inline const struct netdev_info *
netdev_info(const struct netdev *dev)
{
	return &dev->info;
}

static inline int
netdev_start(struct netdev *dev, const struct netdev_conf *conf)
{
	int err;

	if (dev->started)
		return -EBUSY;
	if (conf == NULL || conf->upper == NULL || conf->upper->rx_buf == NULL ||
	    conf->upper->rx == NULL || conf->upper->tx_done == NULL)
		return -EINVAL;
	if ((err = dev->ops->start(dev, conf)) == 0)
		dev->started = 1;
	return err;
}

static inline int
netdev_tx(struct netdev *dev, const struct netdev_seg *segs, int nsegs,
    const struct netdev_offload *off, void *cookie)
{
	return dev->tx(dev, segs, nsegs, off, cookie);
}

static inline void
netdev_rx_refill(struct netdev *dev)
{
	dev->rx_refill(dev);
}

static inline void
netdev_stats(const struct netdev *dev, struct netdev_stats *st)
{
	*st = dev->stats;
}

/* The upper layer reports any payload bytes it had to copy. */
static inline void
netdev_count_copy(struct netdev *dev, uint64_t bytes)
{
	dev->stats.bytes_copied += bytes;
}

/* The upper layer dropped a frame it could neither send nor queue. */
static inline void
netdev_count_tx_drop(struct netdev *dev)
{
	dev->stats.tx_drops++;
}

/* ---- for drivers ------------------------------------------------------------- */

/* Add an attached device (tx, rx_refill, ops, name and info filled in):
 * 0, or -ENOSPC past NETDEV_MAX. */
#define NETDEV_MAX	4
int	netdev_register(struct netdev *dev);

#endif
