/*
 * The lwIP netif over a netdev, shaped like lwIP's contrib tapif.c: an
 * init function that sets the interface up, a linkoutput that hands a
 * frame to the device, and an input path that feeds netif->input.
 *
 * Receive, zero copy: the pool below owns page-allocated buffers
 * (physically contiguous and identity-mapped, so the device can DMA into
 * them).  The driver posts them on its RX ring; a filled one comes back
 * through rx() and goes up the stack as an lwIP custom pbuf over the
 * frame, in place.  When lwIP (or a service holding the pbuf) frees it,
 * rxbuf_free() puts the buffer back in the pool and asks the driver to
 * refill its ring.  When the pool runs low (NET_RX_RESERVE), frames are
 * copied into pool pbufs instead and their buffer goes straight back,
 * which keeps acknowledgements flowing when services pin many buffers.
 *
 * Transmit, zero copy: linkoutput() turns the pbuf chain into a
 * scatter-gather list, takes a reference on the chain and drops it when
 * the driver reports the frame sent.  Only a chain longer than the driver
 * takes is copied (and counted).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <limpet.h>
#include <kernel/log.h>
#include <kernel/mm.h>

#include <lwip/etharp.h>
#include <lwip/pbuf.h>
#include <lwip/snmp.h>
#include <lwip/stats.h>
#include <netif/ethernet.h>

#include <netdev.h>

#include "virtio_netif.h"

/* Segments one linkoutput() builds at most (further capped by the driver's
 * tx_max_segs): headers plus the data pbufs lwIP chains into a segment. */
#define TX_SEGS_MAX	64
/* Receive buffers are rounded up to a cache line. */
#define RX_ALIGN	64
/* Don't let the receive pool grow beyond this, however large the driver's
 * buffers are. */
#define RX_POOL_MAX	(16u << 20)

struct rxbuf {
	struct pbuf_custom	pc;	/* first: lwIP hands us &pc.pbuf */
	uint8_t			*data;
	struct rxbuf		*next;	/* free list */
};

static struct vnif {
	struct netdev		*dev;
	struct netif		*netif;
	struct rxbuf		rxbufs[NET_RX_BUFFERS];
	struct rxbuf		*free;
	uint8_t			*pool;	/* the buffers' memory, pool_pages pages */
	size_t			pool_pages;
	uint32_t		nbufs, nfree, stride;
	struct limpet_work	refill;
} vnif;

/* ---- receive -------------------------------------------------------------- */

static void
rxbuf_put(struct vnif *vn, struct rxbuf *rb)
{
	rb->next = vn->free;
	vn->free = rb;
	vn->nfree++;
	/* Refill from the loop, not from inside whatever freed the pbuf
	 * (possibly the driver's own rx callback). */
	limpet_soon(&vn->refill);
}

/* pbuf_free() gave up the last reference to one of our custom pbufs. */
static void
rxbuf_free(struct pbuf *p)
{
	rxbuf_put(&vnif, (struct rxbuf *)p);
}

static void
refill(struct limpet_work *w, void *arg)
{
	struct vnif *vn = arg;

	(void)w;
	netdev_rx_refill(vn->dev);
}

/* The driver wants a buffer to post. */
static void *
rx_buf(void *ctx, void **data, uint32_t *size)
{
	struct vnif *vn = ctx;
	struct rxbuf *rb = vn->free;

	if (rb == NULL)
		return NULL;
	vn->free = rb->next;
	vn->nfree--;
	*data = rb->data;
	*size = vn->stride;
	return rb;
}

/* A frame arrived in one of our buffers. */
static void
rx(void *ctx, void *cookie, void *frame, uint32_t len)
{
	struct vnif *vn = ctx;
	struct rxbuf *rb = cookie;
	struct pbuf *p = NULL;

	if (len > 0xffff) {		/* cannot be a pbuf; the driver's bug */
		LINK_STATS_INC(link.lenerr);
		rxbuf_put(vn, rb);
		return;
	}
	if (vn->nfree < NET_RX_RESERVE &&
	    (p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL)) != NULL) {
		pbuf_take(p, frame, (u16_t)len);
		netdev_count_copy(vn->dev, len);
		rxbuf_put(vn, rb);
	} else {
		p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &rb->pc,
		    frame, (u16_t)len);
	}
	LINK_STATS_INC(link.recv);
	MIB2_STATS_NETIF_ADD(vn->netif, ifinoctets, len);
	if (vn->netif->input(p, vn->netif) != ERR_OK) {
		LINK_STATS_INC(link.drop);
		pbuf_free(p);
	}
}

/* ---- transmit ------------------------------------------------------------- */

/* The driver is done with the chain sent with this cookie. */
static void
tx_done(void *ctx, void *cookie)
{
	(void)ctx;
	pbuf_free(cookie);
}

/*
 * Append [data, data + len) to segs as the device must see it: RAM below
 * HEAP_BASE is identity-mapped, so its address is its physical address;
 * heap memory (newlib's malloc) is mapped page by page, so it is split at
 * page boundaries and each piece given by its physical address, which the
 * identity map makes a valid pointer too.  -1 when segs is full.
 */
static int
add_seg(struct netdev_seg *segs, int *n, int max, const uint8_t *data, uint32_t len)
{
	while (len > 0) {
		uint64_t va = (uint64_t)(uintptr_t)data;
		uint32_t piece = len;

		if (*n >= max)
			return -1;
		if (va >= HEAP_BASE && va < HEAP_LIMIT) {
			uint64_t pa = virt_to_phys(va);

			if (pa == (uint64_t)-1)
				panic("netif: transmit from unmapped memory %p", (const void *)data);
			piece = PAGE_SIZE - (va & (PAGE_SIZE - 1));
			if (piece > len)
				piece = len;
			segs[*n].data = (const void *)(uintptr_t)pa;
		} else {
			segs[*n].data = data;
		}
		segs[*n].len = piece;
		(*n)++;
		data += piece;
		len -= piece;
	}
	return 0;
}

static err_t
send(struct vnif *vn, const struct netdev_seg *segs, int n, struct pbuf *hold)
{
	int rc = netdev_tx(vn->dev, segs, n, hold);

	if (rc == 0) {
		LINK_STATS_INC(link.xmit);
		return ERR_OK;
	}
	pbuf_free(hold);
	LINK_STATS_INC(link.drop);
	/* A full ring is back-pressure: TCP retransmits, UDP loses a datagram. */
	return rc == -EAGAIN ? ERR_MEM : ERR_IF;
}

static err_t
linkoutput(struct netif *netif, struct pbuf *p)
{
	struct vnif *vn = netif->state;
	const struct netdev_info *info = netdev_info(vn->dev);
	struct netdev_seg segs[TX_SEGS_MAX];
	int max = info->tx_max_segs < TX_SEGS_MAX ? (int)info->tx_max_segs : TX_SEGS_MAX;
	int n = 0;
	struct pbuf *q;

	MIB2_STATS_NETIF_ADD(netif, ifoutoctets, p->tot_len);
	for (q = p; q != NULL; q = q->next) {
		if (q->len != 0 && add_seg(segs, &n, max, q->payload, q->len) != 0)
			break;
	}
	if (q == NULL) {
		pbuf_ref(p);		/* released in tx_done() */
		return send(vn, segs, n, p);
	}

	/* More pieces than the driver takes: flatten into one PBUF_RAM
	 * (lwIP's heap is identity-mapped) and count the copy. */
	if ((q = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM)) == NULL) {
		LINK_STATS_INC(link.memerr);
		return ERR_MEM;
	}
	pbuf_copy(q, p);
	netdev_count_copy(vn->dev, p->tot_len);
	segs[0].data = q->payload;
	segs[0].len = q->tot_len;
	return send(vn, segs, 1, q);
}

/* ---- set up --------------------------------------------------------------- */

static const struct netdev_upper upper = {
	.rx_buf = rx_buf,
	.rx = rx,
	.tx_done = tx_done,
};

/* Carve the receive pool out of one contiguous allocation (or, when memory
 * is fragmented, as large a one as there is). */
static int
rx_pool_init(struct vnif *vn, uint32_t buf_size)
{
	uint32_t n, i;
	size_t pages;
	uint8_t *mem;

	vn->stride = (buf_size + RX_ALIGN - 1) & ~(uint32_t)(RX_ALIGN - 1);
	n = NET_RX_BUFFERS;
	if ((uint64_t)n * vn->stride > RX_POOL_MAX)
		n = RX_POOL_MAX / vn->stride;
	for (;;) {
		pages = PAGE_ROUND_UP((uint64_t)n * vn->stride) / PAGE_SIZE;
		if ((mem = page_alloc(pages)) != NULL)
			break;
		if (n / 2 < 2 * NET_RX_RESERVE)
			return ERR_MEM;
		n /= 2;
	}
	if (n < NET_RX_BUFFERS)
		log_warn("net: receive pool of %u buffers (%u wanted)", n, NET_RX_BUFFERS);
	for (i = 0; i < n; i++) {
		struct rxbuf *rb = &vn->rxbufs[i];

		rb->pc.custom_free_function = rxbuf_free;
		rb->data = mem + (size_t)i * vn->stride;
		rb->next = vn->free;
		vn->free = rb;
	}
	vn->pool = mem;
	vn->pool_pages = pages;
	vn->nbufs = vn->nfree = n;
	return ERR_OK;
}

err_t
virtio_netif_init(struct netif *netif)
{
	struct vnif *vn = &vnif;
	struct netdev *dev = netif->state;
	const struct netdev_info *info = netdev_info(dev);
	err_t err;
	int rc;

	if (vn->dev != NULL)
		return ERR_IF;		/* one interface (LWIP_SINGLE_NETIF) */
	vn->dev = dev;
	vn->netif = netif;
	netif->state = vn;
	netif->name[0] = 'v';
	netif->name[1] = 'n';
	netif->output = etharp_output;
	netif->linkoutput = linkoutput;
	netif->mtu = info->mtu;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, info->mac, ETH_HWADDR_LEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	if (info->link_up)
		netif->flags |= NETIF_FLAG_LINK_UP;
	MIB2_INIT_NETIF(netif, snmp_ifType_ethernet_csmacd, 0);

	limpet_work_init(&vn->refill, refill, vn);
	if (rx_pool_init(vn, info->rx_buf_size) != ERR_OK) {
		log_error("net: no memory for the receive pool");
		err = ERR_MEM;
		goto fail;
	}
	if ((rc = netdev_start(dev, &upper, vn)) != 0) {
		log_error("net: %s: start failed (%d)", info->name, rc);
		err = ERR_IF;
		goto fail_pool;
	}
	return ERR_OK;

fail_pool:
	page_free(vn->pool, vn->pool_pages);
	vn->pool = NULL;
	vn->free = NULL;
	vn->nbufs = vn->nfree = 0;
fail:
	vn->dev = NULL;
	return err;
}
