/*
 * netdev: the small interface between a network driver and the stack
 * above it (net/).  The driver deals in buffers and descriptors, never in
 * lwIP pbufs; the layer above wraps its buffers as pbufs.  Zero copy both
 * ways: the upper layer owns every buffer, the driver only lends them to
 * the device.
 *
 * Call order:
 *	netdev_probe()			find and initialise devices (boot)
 *	netdev_get(i)			one of them
 *	netdev_start(dev, upper, ctx)	post RX buffers, enable interrupts,
 *					register the driver's loop source
 *	netdev_tx(...)			any time after start, from loop context
 *
 * Receive: the driver asks upper->rx_buf for buffers to post (at start and
 * whenever the ring has room: netdev_rx_refill()); a frame comes back
 * through upper->rx as one or more filled buffers (more than one only
 * with NETDEV_OFF_RX_LARGE: a frame of up to info->rx_frame_max bytes
 * spread over several), which belong to the upper layer from then on.
 * When the upper layer is done with one, it hands it back to its own pool
 * and calls netdev_rx_refill().
 *
 * Transmit: netdev_tx() puts the segments on the ring as one
 * scatter-gather chain (the driver supplies the virtio-net header from its
 * own memory); the segments must stay untouched until upper->tx_done(cookie).
 * A frame shorter than an Ethernet header never reaches the device: it is
 * refused and counted (tx_invalid).
 *
 * Recovery: when the device reports that it needs a reset (it broke on
 * something it was given, virtio 1.1 2.1.2), the driver resets it, sets it
 * up again with the same features and rings, and carries on: the upper
 * layer keeps its buffers and its state, the frames the device held are
 * lost (their tx_done() comes at once; TCP resends them) and the posted
 * receive buffers go back on the new ring.  Link changes (VIRTIO_NET_F_STATUS)
 * reach upper->link().
 *
 * Offloads (info->offloads): with NETDEV_OFF_TX_CSUM the upper layer may
 * leave a TCP or UDP checksum to the device: it stores the pseudo-header
 * sum in the checksum field and passes where the sum starts and where the
 * field is (struct netdev_offload).  With NETDEV_OFF_TX_TSO it may also
 * hand over a TCP/IPv4 frame larger than the MTU, which the device (or
 * the host behind it) cuts into segments of gso_size payload bytes, each
 * behind a copy of the first hdr_len bytes of headers.  With NETDEV_OFF_RX_CSUM a received frame
 * may carry NETDEV_RX_CSUM_OK: its TCP/UDP checksum was checked by the
 * device, or the frame never left the host and has none to check (its
 * checksum field then holds only a partial sum).
 *
 * Context: all calls from the event loop (main or callbacks), never from
 * interrupt handlers.  Callbacks run from the driver's loop-source poll.
 * Errors: 0 or a negative errno.
 */
#ifndef DRIVERS_NETDEV_H
#define DRIVERS_NETDEV_H

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

struct netdev_upper {
	/* A buffer to post for receiving: set *data and *size (at least
	 * netdev_info()->rx_buf_size bytes) and return a cookie, or return
	 * NULL when the pool is empty (the driver tries again later). */
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

/* What the device does for the upper layer (netdev_info()->offloads). */
#define NETDEV_OFF_TX_CSUM	0x1	/* netdev_tx() takes a checksum to fill */
#define NETDEV_OFF_RX_CSUM	0x2	/* frames may come NETDEV_RX_CSUM_OK */
#define NETDEV_OFF_RX_LARGE	0x4	/* frames larger than the MTU (the host
					 * merged TCP segments), in several buffers */
#define NETDEV_OFF_TX_TSO	0x8	/* netdev_tx() takes TCP frames larger
					 * than the MTU, with a gso_size */

struct netdev_info {
	const char	*name;		/* "virtio-net-pci", "virtio-net-mmio" */
	uint8_t		mac[6];
	uint16_t	mtu;		/* 1500 unless the device says otherwise */
	int		link_up;
	uint32_t	rx_buf_size;	/* bytes each RX buffer must hold */
	uint32_t	rx_frame_max;	/* the largest frame rx() may hand up */
	unsigned	offloads;	/* NETDEV_OFF_* */
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

int	netdev_probe(void);
struct netdev *netdev_get(int index);
const struct netdev_info *netdev_info(const struct netdev *dev);
int	netdev_start(struct netdev *dev, const struct netdev_upper *upper, void *ctx);
/* Send the frame segs[0..nsegs); off is NULL for a complete frame, or
 * says what the device is to do to it (NETDEV_OFF_TX_CSUM, _TX_TSO).
 * 0, -EAGAIN when the ring is full, -EINVAL for too many segments, an
 * offload the device does not do or a malformed frame (too short or too
 * long: counted in tx_invalid), -ENETDOWN while the device is out of
 * service (a reset failed). */
int	netdev_tx(struct netdev *dev, const struct netdev_seg *segs, int nsegs,
	    const struct netdev_offload *off, void *cookie);
void	netdev_rx_refill(struct netdev *dev);
void	netdev_stats(const struct netdev *dev, struct netdev_stats *st);
/* The upper layer reports any payload bytes it had to copy. */
void	netdev_count_copy(struct netdev *dev, uint64_t bytes);
/* The upper layer dropped a frame it could neither send nor queue. */
void	netdev_count_tx_drop(struct netdev *dev);

#endif
