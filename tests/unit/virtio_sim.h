/*
 * A simulated virtio-net device and the kernel around the driver, for host
 * unit tests that run the real drivers/virtio-net/virtio_net.c (and the
 * netif above it) against it.  See virtio_sim.c.
 *
 * The device is one transport (struct virtio_ops: status, features,
 * configuration, queues, notifications, interrupts) and the device side of
 * the split rings (virtio 1.1, 2.6), with QEMU 7.2's rules for transmit
 * chains (hw/net/virtio-net.c, virtio_net_flush_tx(); hw/virtio/virtio.c,
 * virtqueue_pop()): a chain it cannot use is an error that marks the device
 * broken (NEEDS_RESET, a configuration interrupt, no more queue processing)
 * until the driver resets it.  Transmit chains are taken off the ring when
 * the driver notifies, and given back (used) when the test says so, so that
 * completions can come at chosen moments.
 *
 * Memory: the driver gives the device addresses from virt_to_phys() (on
 * the host every pointer is above HEAP_BASE, so every one goes through
 * it).  Unregistered memory is identity-mapped; sim_map() adds a window of
 * pages at chosen physical addresses, to make buffers that are, or are not,
 * physically contiguous across a page boundary.
 *
 * One device at a time; single-threaded like the kernel's event loop.
 */
#ifndef TESTS_UNIT_VIRTIO_SIM_H
#define TESTS_UNIT_VIRTIO_SIM_H

#include <stddef.h>
#include <stdint.h>

#include <kernel/loop.h>
#include <netdev.h>

#include "virtio_dev.h"
#include "virtio_net_reg.h"
#include "virtio_reg.h"

/* Physical addresses sim_map() hands out start here: above 4 GiB, where
 * no host memory is (it is ASan's shadow gap), and below 8 GiB. */
#define SIM_PA_BASE		0x100000000ULL
/* A chain's descriptors the simulation records at most (a ring's). */
#define SIM_CHAIN_MAX		256

/* What the device offers, as QEMU 7.2's virtio-net-pci does: with user
 * networking (no vnet header: no offloads) and with a tap that has one. */
#define SIM_FEATURES_USER						\
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |	\
	 VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) | \
	 VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF))
#define SIM_FEATURES_TAP						\
	(SIM_FEATURES_USER | VIRTIO_BIT(VIRTIO_NET_F_CSUM) |			\
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | \
	 VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4))

struct sim_config {
	uint64_t	features;	/* offered; 0: SIM_FEATURES_USER */
	uint16_t	queue_max;	/* both queues; 0: 256 */
	int		vnet_hdr;	/* the backend takes the header (tap) */
	int		mmio;		/* one interrupt with ISR bits, not MSI-X */
	int		no_cfg_vector;	/* MSI-X without an entry for config changes */
};

struct sim_desc {
	uint64_t	addr;
	uint32_t	len;
	uint16_t	flags;
};

/* A transmit chain as the device took it off the ring. */
struct sim_chain {
	uint16_t		head;
	int			ndesc;
	struct sim_desc		desc[SIM_CHAIN_MAX];
	struct virtio_net_hdr	hdr;	/* the first 12 bytes */
	uint8_t			*frame;	/* the bytes after them */
	uint32_t		len;
	int			completed;
};

struct sim {
	struct sim_config	cfg;
	struct virtio_dev	*vdev;		/* the driver's */
	uint8_t			status;
	uint64_t		driver_features;
	struct simq {
		int		enabled;
		uint16_t	size;
		uint64_t	desc_pa, avail_pa, used_pa;
		uint16_t	last_avail, used_idx;
	}			q[2];
	unsigned		vector, cfg_vector;
	uint32_t		isr;
	uint8_t			mac[6];
	uint16_t		link;		/* config status: VIRTIO_NET_S_LINK_UP */
	uint32_t		generation;
	int			broken;		/* QEMU's vdev->broken */
	char			error[160];	/* why it broke last */
	int			errors;		/* chains it could not use */
	int			reset_stuck;	/* status never reads back 0 */
	int			setup_irqs;	/* setup_irq() calls */
	/* Nanoseconds the clock moves on at every read of now_ns() (0: it
	 * moves only in sim_advance()), as a real one does during a poll. */
	uint64_t		tick_per_read;
	/* Transmit: every chain seen, in order; the ones not yet used. */
	struct sim_chain	**tx;
	int			ntx, tx_cap;
	int			held[1024];	/* indices into tx */
	int			nheld;
	int			tx_auto;	/* complete each chain as it is taken */
	uint64_t		notifies[2], interrupts[2], cfg_interrupts;
	/* Called at every notify, after the device took what it could. */
	void			(*on_notify)(unsigned idx);
};

extern struct sim sim;

/* A fresh device with cfg (NULL: the defaults), and the kernel's state
 * (clock, logs, loop) reset. */
void	sim_create(const struct sim_config *cfg);
/* Attach it as a transport's probe does; the driver's netdev, or NULL. */
struct netdev *sim_attach(void);
/* Hand the device back to the driver's table and free what it held. */
void	sim_destroy(void);

/* Take available transmit chains off the ring (QEMU's flush): how many. */
int	sim_tx_process(void);
/* Give back (used) the oldest n chains the device holds, -1: all; how many. */
int	sim_tx_complete(int n);
/* Deliver a frame into the next posted receive buffer; 0, or -1 when the
 * device cannot (no buffer, not live, broken). */
int	sim_rx_deliver(const void *frame, uint32_t len);
/* Receive buffers posted and not yet used: their host addresses in bufs
 * (up to max), how many. */
int	sim_rx_posted(void **bufs, int max);

/* Break the device as QEMU's virtio_error() does: NEEDS_RESET, a
 * configuration interrupt, no more queue processing until a reset.  The
 * device does it itself, counting sim.errors, on what the driver should
 * never have given it; a test does it to watch recovery. */
void	sim_break(const char *why);
/* The link goes up or down (QEMU's set_link): configuration interrupt. */
void	sim_set_link(int up);
/* Raise the configuration interrupt as the device would. */
void	sim_config_interrupt(void);

/* Memory: a window of npages pages at va (which nothing dereferences when
 * it is not host memory) whose bytes live at host, page i at physical
 * address pa[i]. */
void	sim_map(uint64_t va, void *host, size_t npages, const uint64_t *pa);
/* The host address behind a device address. */
void	*sim_host(uint64_t pa);

/* The loop: run queued work and poll the driver's source while it is
 * signalled, has more, or its deadline has passed. */
void	sim_loop(void);
/* One poll of each source, whatever its state, and no queued work: what
 * the driver does in one turn before anything above it runs. */
void	sim_poll(void);
/* Advance the clock by ns, then run the loop. */
void	sim_advance(uint64_t ns);
uint64_t sim_now(void);

/* Fill 32 KiB of stack below the caller with the words a, l, a, l, ...:
 * call it right before the call whose stack slots are to hold them. */
void	sim_paint_stack(uint64_t a, uint64_t l);

/* Log lines (log_msg, kprintf) seen since sim_create() that contain s. */
int	sim_logged(const char *s);

#endif
