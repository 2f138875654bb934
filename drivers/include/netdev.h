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
 * whenever the ring has room: netdev_rx_refill()); a filled buffer comes
 * back through upper->rx with the frame's position and length, and belongs
 * to the upper layer from then on.  When the upper layer is done with it,
 * it hands it back to its own pool and calls netdev_rx_refill().
 *
 * Transmit: netdev_tx() puts the segments on the ring as one
 * scatter-gather chain (the driver supplies the virtio-net header from its
 * own memory); the segments must stay untouched until upper->tx_done(cookie).
 *
 * Context: all calls from the event loop (main or callbacks), never from
 * interrupt handlers.  Callbacks run from the driver's loop-source poll.
 * Errors: 0 or a negative errno.
 */
#ifndef DRIVERS_NETDEV_H
#define DRIVERS_NETDEV_H

#include <stdint.h>

struct netdev;

struct netdev_upper {
	/* A buffer to post for receiving: set *data and *size (at least
	 * netdev_info()->rx_buf_size bytes) and return a cookie, or return
	 * NULL when the pool is empty (the driver tries again later). */
	void	*(*rx_buf)(void *ctx, void **data, uint32_t *size);
	/* A frame arrived: it is len bytes at frame, inside the buffer
	 * cookie (the driver's header sits in front of it). */
	void	(*rx)(void *ctx, void *cookie, void *frame, uint32_t len);
	/* The chain sent with this cookie has left: release it. */
	void	(*tx_done)(void *ctx, void *cookie);
};

struct netdev_seg {
	const void	*data;
	uint32_t	len;
};

struct netdev_info {
	const char	*name;		/* "virtio-net-pci", "virtio-net-mmio" */
	uint8_t		mac[6];
	uint16_t	mtu;		/* 1500 unless the device says otherwise */
	int		link_up;
	uint32_t	rx_buf_size;	/* bytes each RX buffer must hold */
	uint32_t	tx_max_segs;	/* segments per netdev_tx() */
	uint32_t	rx_ring, tx_ring;	/* ring sizes */
};

struct netdev_stats {
	uint64_t	rx_packets, rx_bytes, rx_drops;
	uint64_t	tx_packets, tx_bytes, tx_drops;
	uint64_t	tx_ring_full;	/* netdev_tx() refused: ring full */
	uint64_t	rx_no_buffers;	/* refills that found the pool empty */
	uint64_t	interrupts;
	uint64_t	bytes_copied;	/* payload bytes copied (goal: 0) */
};

int	netdev_probe(void);
struct netdev *netdev_get(int index);
const struct netdev_info *netdev_info(const struct netdev *dev);
int	netdev_start(struct netdev *dev, const struct netdev_upper *upper, void *ctx);
/* 0, -EAGAIN when the ring is full, -EINVAL for too many segments. */
int	netdev_tx(struct netdev *dev, const struct netdev_seg *segs, int nsegs, void *cookie);
void	netdev_rx_refill(struct netdev *dev);
void	netdev_stats(const struct netdev *dev, struct netdev_stats *st);
/* The upper layer reports any payload bytes it had to copy. */
void	netdev_count_copy(struct netdev *dev, uint64_t bytes);
/* The upper layer dropped a frame it could neither send nor queue. */
void	netdev_count_tx_drop(struct netdev *dev);

#endif
