/*
 * The lwIP netif over a netdev (drivers/include/netdev.h: any driver, or
 * tests/unit/test_netif.c's fake one), shaped like lwIP's contrib
 * tapif.c: an
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
 * Receive, in two steps, as Linux's NAPI and backlog do: rx(), which the
 * driver calls for each frame it takes off its ring, only queues the
 * frame (the pbuf over our buffer, still no copy) in a backlog, and the
 * driver refills its ring from the pool at once; rx_input(), from the
 * loop, hands the backlog to lwIP, RX_INPUT_BUDGET frames a turn, so the
 * driver takes more off the ring between those.  The device's ring (256
 * buffers) is then never what holds a burst: the pool is.  Without this a
 * burst longer than the ring (10,000 clients that each send a request at
 * once) waited in the host's queue in front of the tap, which dropped
 * what did not fit, and every drop cost its client a retransmission
 * timeout.  Frames leave the backlog in the order they came.
 *
 * Transmit, zero copy: linkoutput() turns the pbuf chain into a
 * scatter-gather list of its pieces as they are (the driver turns them
 * into device addresses: dma_runs() is the one translation), takes a
 * reference on the chain and drops it when the driver reports the frame
 * sent.  Only a chain in more pieces than the driver takes is copied (and
 * counted).  When the device's ring is full the
 * chain waits, still by reference, in a FIFO (NET_TX_QUEUE frames for
 * each TCP segment lwIP can have, sized at boot) that drains in order as
 * the device completes frames; a frame is dropped (and counted) only
 * when that FIFO is full too, which no TCP frame can fill.  Returning ERR_MEM
 * instead would drop the segment, and TCP would resend it only after a
 * retransmission timeout: a stall of hundreds of milliseconds in the
 * middle of every large transfer.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <limpet.h>
#include <kernel/log.h>
#include <kernel/mm.h>

#include <lwip/etharp.h>
#include <lwip/ethip6.h>
#include <lwip/ip4_frag.h>
#include <lwip/pbuf.h>
#include <lwip/prot/ip.h>
#include <lwip/prot/ip4.h>
#include <lwip/prot/ip6.h>
#include <lwip/prot/tcp.h>
#include <lwip/tcp.h>
#include <lwip/snmp.h>
#include <lwip/stats.h>
#include <netif/ethernet.h>

#include <netdev.h>

#include "netdev_netif.h"
#include "../port/pools.h"

/* Segments one linkoutput() builds at most (further capped by the driver's
 * tx_max_segs): headers plus the data pbufs lwIP chains into a segment. */
#define TX_SEGS_MAX	64
/* Receive buffers are rounded up to a cache line. */
#define RX_ALIGN	64
/* Don't let the receive pool grow beyond this, however large the driver's
 * buffers are. */
#define RX_POOL_MAX	(24u << 20)
/* Frames rx_input() hands to lwIP a turn of the loop: a quarter of what
 * the driver takes off its ring in one (RX_BUDGET, 64), so that under a
 * burst taking frames off the ring outpaces handling them and the burst
 * waits here, not in the host's queue.  (At 64, as many as the driver,
 * the backlog never grew past 64 and the tap still dropped half.) */
#define RX_INPUT_BUDGET	16

struct rxbuf {
	struct pbuf_custom	pc;	/* first: lwIP hands us &pc.pbuf */
	uint8_t			*data;
	struct rxbuf		*next;	/* free list */
};

static struct vnif {
	struct netdev		*dev;
	struct netif		*netif;
	struct rxbuf		*rxbufs;	/* nbufs, at the end of the pool */
	struct rxbuf		*free;
	uint8_t			*pool;	/* the buffers' memory, pool_pages pages */
	size_t			pool_pages;
	uint32_t		nbufs, nfree, stride;
	uint32_t		posted;	/* given to the driver, not back through rx() */
	uint32_t		reserve;	/* copy frames below this many free */
	unsigned		offloads;	/* NETDEV_OFF_* in use: asked for and had */
	int			tx_max_segs;	/* pieces a frame may have */
	u16_t			tso_mss;	/* tcp_tso_hook()'s largest pcb->mss, or 0 */
	u16_t			mtu;		/* the link's (netif->mtu is 64 KiB with TSO) */
	struct limpet_work	refill;
	/* The backlog: frames taken off the ring, not yet handed to lwIP,
	 * oldest at rxq_head, with whether the device vouched for their
	 * checksum.  A slot for each buffer and each pool pbuf a frame can
	 * be copied into. */
	struct pbuf		**rxq;
	uint8_t			*rxq_csum;
	size_t			rxq_pages;
	uint32_t		rxq_size, rxq_head, rxq_len, rxq_max;
	struct limpet_work	rx_input;
	/* Frames the ring had no room for, oldest at txq_head. */
	struct pbuf		**txq;		/* txq_size slots, page-allocated */
	size_t			txq_pages;
	uint32_t		txq_size;
	uint32_t		txq_head, txq_len;
	struct limpet_work	tx_drain;
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
	vn->posted++;
	*data = rb->data;
	*size = vn->stride;
	return rb;
}

/* Our buffer behind a fragment the driver hands up. */
static struct pbuf *
frag_pbuf(const struct netdev_frag *f)
{
	struct rxbuf *rb = f->cookie;

	return pbuf_alloced_custom(PBUF_RAW, (u16_t)f->len, PBUF_REF, &rb->pc,
	    f->data, (u16_t)f->len);
}

/* The frames whose TCP/UDP checksum the device vouches for: a whole
 * (unfragmented) IPv4 packet, so that a datagram lwIP reassembles is
 * checked as a whole; an IPv6 packet whose TCP or UDP header follows the
 * IPv6 header (with extension headers, or a fragment header, lwIP checks
 * the sum itself). */
static int
csum_ok(const struct netdev_frag *f, unsigned flags)
{
	const struct eth_hdr *eth = f->data;
	const void *l3 = (const uint8_t *)f->data + SIZEOF_ETH_HDR;
	const struct ip_hdr *ip = l3;
	const struct ip6_hdr *ip6 = l3;

	if (!(flags & NETDEV_RX_CSUM_OK))
		return 0;
	if (eth->type == PP_HTONS(ETHTYPE_IPV6))
		return f->len >= SIZEOF_ETH_HDR + IP6_HLEN &&
		    (IP6H_NEXTH(ip6) == IP6_NEXTH_TCP || IP6H_NEXTH(ip6) == IP6_NEXTH_UDP);
	return f->len >= SIZEOF_ETH_HDR + IP_HLEN && eth->type == PP_HTONS(ETHTYPE_IP) &&
	    (IPH_OFFSET(ip) & PP_HTONS(IP_MF | IP_OFFMASK)) == 0;
}

/* Hand one frame to lwIP, its checksum skipped when csum says so. */
static void
input(struct vnif *vn, struct pbuf *p, int csum)
{
	struct netif *netif = vn->netif;
	u16_t cflags = netif->chksum_flags;

	if (csum)
		NETIF_SET_CHECKSUM_CTRL(netif, cflags &
		    ~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP));
	if (netif->input(p, netif) != ERR_OK) {
		LINK_STATS_INC(link.drop);
		pbuf_free(p);
	}
	NETIF_SET_CHECKSUM_CTRL(netif, cflags);
}

/* The backlog to lwIP, RX_INPUT_BUDGET frames at a time. */
static void
rx_input(struct limpet_work *w, void *arg)
{
	struct vnif *vn = arg;

	for (int i = 0; i < RX_INPUT_BUDGET && vn->rxq_len > 0; i++) {
		struct pbuf *p = vn->rxq[vn->rxq_head];
		int csum = vn->rxq_csum[vn->rxq_head];

		vn->rxq[vn->rxq_head] = NULL;
		vn->rxq_head = (vn->rxq_head + 1) % vn->rxq_size;
		vn->rxq_len--;
		input(vn, p, csum);
	}
	if (vn->rxq_len > 0)
		limpet_soon(w);
}

/* A frame arrived in n of our buffers (more than one only for a frame
 * larger than a buffer: the host merged TCP segments): into the backlog. */
static void
rx(void *ctx, const struct netdev_frag *frags, int n, unsigned flags)
{
	struct vnif *vn = ctx;
	struct pbuf *p = NULL;
	uint32_t len = 0, slot;
	int i;

	vn->posted -= (uint32_t)n;
	for (i = 0; i < n; i++)
		len += frags[i].len;
	if (len > 0xffff) {		/* cannot be a pbuf; the driver's bug */
		LINK_STATS_INC(link.lenerr);
		for (i = 0; i < n; i++)
			rxbuf_put(vn, frags[i].cookie);
		return;
	}
	if (vn->nfree < vn->reserve &&
	    (p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL)) != NULL) {
		u16_t off = 0;

		for (i = 0; i < n; i++) {
			pbuf_take_at(p, frags[i].data, (u16_t)frags[i].len, off);
			off = (u16_t)(off + frags[i].len);
			rxbuf_put(vn, frags[i].cookie);
		}
		netdev_count_copy(vn->dev, len);
	} else {
		p = frag_pbuf(&frags[0]);
		for (i = 1; i < n; i++)
			pbuf_cat(p, frag_pbuf(&frags[i]));
	}
	LINK_STATS_INC(link.recv);
	MIB2_STATS_NETIF_ADD(vn->netif, ifinoctets, len);
	if (vn->rxq_len == vn->rxq_size) {	/* cannot happen: a slot a buffer */
		input(vn, p, csum_ok(&frags[0], flags));
		return;
	}
	slot = (vn->rxq_head + vn->rxq_len) % vn->rxq_size;
	vn->rxq[slot] = p;
	vn->rxq_csum[slot] = (uint8_t)csum_ok(&frags[0], flags);
	if (++vn->rxq_len > vn->rxq_max)
		vn->rxq_max = vn->rxq_len;
	limpet_soon(&vn->rx_input);
}

void
netdev_netif_rx_buffers(uint32_t *total, uint32_t *nfree)
{
	*total = vnif.nbufs;
	*nfree = vnif.nfree;
}

uint32_t
netdev_netif_rx_posted(void)
{
	return vnif.posted;
}

void
netdev_netif_rx_backlog(uint32_t *now, uint32_t *max)
{
	*now = vnif.rxq_len;
	*max = vnif.rxq_max;
}

/* ---- transmit ------------------------------------------------------------- */

/* The driver is done with the chain sent with this cookie: release it, and
 * let the frames waiting for ring space go out (from the loop, not from
 * inside the driver's completion walk). */
static void
tx_done(void *ctx, void *cookie)
{
	struct vnif *vn = ctx;

	pbuf_free(cookie);
	if (vn->txq_len > 0)
		limpet_soon(&vn->tx_drain);
}

/* The chain as a scatter-gather list of its pieces, as they are (the
 * driver turns them into device addresses); -1 when it has more pieces
 * than the driver takes. */
static int
to_segs(struct vnif *vn, struct pbuf *p, struct netdev_seg *segs)
{
	int max = vn->tx_max_segs, n = 0;

	for (; p != NULL; p = p->next) {
		if (p->len == 0)
			continue;
		if (n == max)
			return -1;
		segs[n].data = p->payload;
		segs[n++].len = p->len;
	}
	return n;
}

/* The ones' complement sum of n 16-bit words at w, in memory order. */
static uint32_t
sum16(const void *w, size_t n)
{
	const uint8_t *b = w;
	uint32_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		u16_t v;

		memcpy(&v, b + 2 * i, 2);
		sum += v;
	}
	return sum;
}

static u16_t
fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (u16_t)sum;
}

/* tx_offload() for an IPv6 frame: lwIP puts no extension header in front
 * of TCP, and never fragments it. */
static const struct netdev_offload *
tx_offload6(struct pbuf *p, struct netdev_offload *off)
{
	uint8_t *f = p->payload;
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)(f + SIZEOF_ETH_HDR);
	struct tcp_hdr *tcp;

	if (p->len < SIZEOF_ETH_HDR + IP6_HLEN || IP6H_NEXTH(ip6) != IP6_NEXTH_TCP)
		return NULL;
	if (p->len < SIZEOF_ETH_HDR + IP6_HLEN + TCP_HLEN)
		panic("netif: an IPv6 TCP frame whose headers are split (%u bytes in the "
		    "first pbuf)", p->len);
	tcp = (struct tcp_hdr *)(f + SIZEOF_ETH_HDR + IP6_HLEN);
	/* RFC 8200 8.1: both addresses, the upper-layer length (the
	 * payload's: no extension header) and the next header, 6. */
	tcp->chksum = fold(sum16(&ip6->src, 16) + ip6->_plen + PP_HTONS(IP6_NEXTH_TCP));
	*off = (struct netdev_offload){
		.csum_start = (uint16_t)(SIZEOF_ETH_HDR + IP6_HLEN),
		.csum_offset = (uint16_t)offsetof(struct tcp_hdr, chksum),
	};
	return off;
}

/*
 * With the device summing TCP (the netif then has lwIP leave TCP
 * checksums at zero, over IPv4 and IPv6): seed the frame's checksum field
 * with the pseudo-header sum (RFC 9293 3.1, RFC 8200 8.1) and say where
 * the sum goes; an IPv4 frame larger than the MTU (a connection
 * tcp_tso_hook() gave large segments) is also to be cut into segments of
 * the real MSS.  NULL for every other frame, which lwIP summed.  The sum
 * is kept in memory order: a ones' complement sum does not care which
 * byte order its words are in, as long as all are in the same one.
 */
static const struct netdev_offload *
tx_offload(const struct vnif *vn, struct pbuf *p, struct netdev_offload *off)
{
	uint8_t *f = p->payload;
	const struct ip_hdr *ip = (const struct ip_hdr *)(f + SIZEOF_ETH_HDR);
	struct tcp_hdr *tcp;
	uint32_t sum;
	u16_t ihl, thl;

	if (!(vn->offloads & NETDEV_OFF_TX_CSUM) || p->len < SIZEOF_ETH_HDR)
		return NULL;
	if (((const struct eth_hdr *)f)->type == PP_HTONS(ETHTYPE_IPV6))
		return tx_offload6(p, off);
	if (p->len < SIZEOF_ETH_HDR + IP_HLEN ||
	    ((const struct eth_hdr *)f)->type != PP_HTONS(ETHTYPE_IP) ||
	    IPH_PROTO(ip) != IP_PROTO_TCP)
		return NULL;
	/* lwIP builds a segment's Ethernet, IP and TCP headers in one pbuf,
	 * in front of its data, and never fragments TCP. */
	ihl = IPH_HL_BYTES(ip);
	if (p->len < SIZEOF_ETH_HDR + ihl + TCP_HLEN ||
	    (IPH_OFFSET(ip) & PP_HTONS(IP_MF | IP_OFFMASK)) != 0)
		panic("netif: a TCP frame whose headers are split or fragmented (%u bytes in "
		    "the first pbuf)", p->len);
	tcp = (struct tcp_hdr *)(f + SIZEOF_ETH_HDR + ihl);
	thl = (u16_t)(TCPH_HDRLEN(tcp) * 4);
	sum = sum16(&ip->src, 4) + PP_HTONS(IP_PROTO_TCP) +
	    lwip_htons((u16_t)(lwip_ntohs(IPH_LEN(ip)) - ihl));
	tcp->chksum = fold(sum);
	*off = (struct netdev_offload){
		.csum_start = (uint16_t)(SIZEOF_ETH_HDR + ihl),
		.csum_offset = (uint16_t)offsetof(struct tcp_hdr, chksum),
	};
	if (lwip_ntohs(IPH_LEN(ip)) > vn->mtu) {
		/* Only tcp_tso_hook() makes these, and only with TX_TSO. */
		off->gso_size = (uint16_t)(vn->mtu - ihl - thl);
		off->hdr_len = (uint16_t)(SIZEOF_ETH_HDR + ihl + thl);
	}
	return off;
}

/*
 * lwIP's side of segmentation offload (LWIP_HOOK_TCP_INPACKET_PCB, for
 * every segment that reaches a connection, before lwIP acts on it).  lwIP
 * cuts what a connection sends into segments of at most pcb->mss bytes,
 * one frame each.  When the device segments, a connection whose peer
 * takes full-size segments gets pcb->mss raised to several of them:
 * lwIP then builds, queues and sends one frame where it would have sent
 * many, and the device cuts it at the real MSS (tx_offload()), so the
 * peer sees the segments it asked for.
 *
 * The frames start at NET_TSO_SEGS segments as the handshake completes
 * (in SYN_RCVD, before lwIP sizes the initial congestion window from
 * pcb->mss: two frames, RFC 6928's ten segments) and grow with the
 * window, to half of it, up to vn->tso_mss.  pcb->mss never shrinks:
 * lwIP needs the window to hold the segments it has already cut, and it
 * never falls below one pcb->mss.  lwIP also counts its congestion
 * window in pcb->mss units, so a connection sending large frames grows
 * that window faster, and restarts it after a timeout at one large frame
 * rather than one segment: the price of the host doing the cutting.  Such
 * a connection gets a send buffer of NET_TSO_SND_BUF (window scaling lets
 * more than 64 KiB be in flight).  Connections we open ourselves keep the
 * real MSS, as do those to peers that asked for less.
 */
err_t
tcp_tso_hook(struct tcp_pcb *pcb)
{
	const struct vnif *vn = &vnif;
	u16_t seg = (u16_t)(vn->mtu - 40), mss;

	if (vn->tso_mss == 0 || IP_IS_V6_VAL(pcb->remote_ip))
		return ERR_OK;		/* IPv4 only (netdev_netif_init()) */
	if (pcb->state == SYN_RCVD && pcb->mss == seg) {
		pcb->mss = (u16_t)(NET_TSO_SEGS * seg);
		pcb->snd_buf = pcb->ssthresh = NET_TSO_SND_BUF;
	} else if (pcb->state == ESTABLISHED && pcb->mss > seg && pcb->mss < vn->tso_mss &&
	    pcb->cwnd / 2 >= (tcpwnd_size_t)pcb->mss + seg) {
		mss = pcb->cwnd / 2 >= vn->tso_mss ? vn->tso_mss : (u16_t)(pcb->cwnd / 2 / seg * seg);
		pcb->mss = mss;
	}
	return ERR_OK;
}

/* p's bytes in one PBUF_RAM (lwIP's heap is identity-mapped: one piece
 * of memory), counted as copied; NULL when lwIP's heap is out of room. */
static struct pbuf *
flatten(struct vnif *vn, struct pbuf *p)
{
	struct pbuf *q = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);

	if (q == NULL) {
		LINK_STATS_INC(link.memerr);
		return NULL;
	}
	pbuf_copy(q, p);
	netdev_count_copy(vn->dev, p->tot_len);
	return q;
}

/*
 * Hand the chain *pp (whose reference is ours) to the device: 0, -EAGAIN
 * when the ring is full (*pp still ours), another negative errno when it
 * was refused (released).  A chain in more pieces than the device takes
 * (more pbufs than tx_max_segs, or heap memory in more physical runs than
 * its ring holds) is copied into one first: *pp is then the copy.
 */
static int
send(struct vnif *vn, struct pbuf **pp)
{
	struct netdev_seg segs[TX_SEGS_MAX];
	struct netdev_offload off;
	struct pbuf *p = *pp, *q;
	int n = to_segs(vn, p, segs), rc = -EMSGSIZE;

	if (n >= 0)
		rc = netdev_tx(vn->dev, segs, n, tx_offload(vn, p, &off), p);
	if (rc == -EMSGSIZE) {
		if ((q = flatten(vn, p)) == NULL) {
			pbuf_free(p);
			return -ENOMEM;
		}
		pbuf_free(p);
		*pp = p = q;
		n = to_segs(vn, p, segs);
		rc = netdev_tx(vn->dev, segs, n, tx_offload(vn, p, &off), p);
	}
	if (rc == 0) {
		LINK_STATS_INC(link.xmit);
		return 0;
	}
	if (rc != -EAGAIN) {
		pbuf_free(p);
		LINK_STATS_INC(link.drop);
	}
	return rc;
}

/* Send waiting frames, oldest first, until the queue is empty or the ring
 * is full again. */
static void
tx_flush(struct vnif *vn)
{
	while (vn->txq_len > 0) {
		if (send(vn, &vn->txq[vn->txq_head]) == -EAGAIN)
			return;
		vn->txq[vn->txq_head] = NULL;
		vn->txq_head = (vn->txq_head + 1) % vn->txq_size;
		vn->txq_len--;
	}
}

static void
tx_drain(struct limpet_work *w, void *arg)
{
	(void)w;
	tx_flush(arg);
}

/* Send p (our reference) after the frames already waiting, or queue it. */
static err_t
output(struct vnif *vn, struct pbuf *p)
{
	int rc;

	tx_flush(vn);
	if (vn->txq_len == 0 && (rc = send(vn, &p)) != -EAGAIN)
		return rc == 0 ? ERR_OK : rc == -ENOMEM ? ERR_MEM : ERR_IF;
	if (vn->txq_len == vn->txq_size) {
		/* Both full: a real overload.  TCP retransmits, UDP loses a
		 * datagram. */
		pbuf_free(p);
		LINK_STATS_INC(link.drop);
		netdev_count_tx_drop(vn->dev);
		return ERR_MEM;
	}
	vn->txq[(vn->txq_head + vn->txq_len) % vn->txq_size] = p;
	vn->txq_len++;
	return ERR_OK;
}

static err_t
linkoutput(struct netif *netif, struct pbuf *p)
{
	struct vnif *vn = netif->state;

	MIB2_STATS_NETIF_ADD(netif, ifoutoctets, p->tot_len);
	pbuf_ref(p);		/* released in tx_done() */
	return output(vn, p);
}

/*
 * netif->output: IP packets on their way to etharp_output().  With TSO
 * netif->mtu is 64 KiB, so that lwIP's IP layer lets the large TCP
 * frames through whole, for the device to segment; any other packet
 * larger than the link's MTU is fragmented here, by lwIP's own
 * ip4_frag() at the link's MTU, whose fragments come back through here.
 */
static err_t
output_ip(struct netif *netif, struct pbuf *p, const ip4_addr_t *dest)
{
	struct vnif *vn = netif->state;
	const struct ip_hdr *ip = p->payload;
	u16_t mtu = netif->mtu;
	err_t err;

	if (p->tot_len <= vn->mtu || (p->len >= IP_HLEN && IPH_PROTO(ip) == IP_PROTO_TCP))
		return etharp_output(netif, p, dest);
	netif->mtu = vn->mtu;
	err = ip4_frag(p, netif, dest);
	netif->mtu = mtu;
	return err;
}

/*
 * netif->output_ip6: IPv6 packets on their way to ethip6_output(), which
 * finds the next hop in lwIP's neighbour discovery.  IPv6 keeps to the
 * link's MTU (netif->mtu6; no TSO over IPv6, see netdev_netif_init()), but
 * when LWIP_HOOK_ND6_GET_GW gives a destination's next hop (the static
 * prefix and gateway, net/net.c), nd6 records netif->mtu as its path MTU,
 * which TCP's MSS and IPv6 fragmentation then follow: it must read the
 * link's, not TSO's 64 KiB.
 */
static err_t
output_ip6(struct netif *netif, struct pbuf *p, const ip6_addr_t *dest)
{
	struct vnif *vn = netif->state;
	u16_t mtu = netif->mtu;
	err_t err;

	netif->mtu = vn->mtu;
	err = ethip6_output(netif, p, dest);
	netif->mtu = mtu;
	return err;
}

/* ---- set up --------------------------------------------------------------- */

/* ---- link ------------------------------------------------------------------ */

/* The device's link went down or came back.  lwIP routes nothing through
 * a netif whose link is down (TCP resends later); bringing it up, lwIP
 * announces our address again with a gratuitous ARP (netif_issue_reports()),
 * so that a switch or host that forgot us learns where we are. */
static void
link_changed(void *ctx, int up)
{
	struct vnif *vn = ctx;

	if (up)
		netif_set_link_up(vn->netif);
	else
		netif_set_link_down(vn->netif);
	vn->netif->mtu6 = vn->mtu;	/* lwIP sets it to netif->mtu */
}

static const struct netdev_upper upper = {
	.rx_buf = rx_buf,
	.rx = rx,
	.tx_done = tx_done,
	.link = link_changed,
};

/* Pages for n receive buffers and their descriptors. */
static size_t
pool_pages(const struct vnif *vn, uint32_t n)
{
	return PAGE_ROUND_UP((uint64_t)n * (vn->stride + sizeof(struct rxbuf))) / PAGE_SIZE;
}

/*
 * Carve the receive pool, buffers then their descriptors, out of one
 * contiguous allocation.  Its size follows the memory the machine has:
 * NET_RX_MEM_SHARE of the free pages at boot, between NET_RX_MIN and
 * NET_RX_BUFFERS buffers (and, when memory is fragmented, as large a run
 * as there is).
 */
static int
rx_pool_init(struct vnif *vn, uint32_t buf_size)
{
	uint64_t want;
	uint32_t n, i;
	size_t pages;
	uint8_t *mem;

	vn->stride = (buf_size + RX_ALIGN - 1) & ~(uint32_t)(RX_ALIGN - 1);
	want = kernel_pmm.nfree * PAGE_SIZE / NET_RX_MEM_SHARE /
	    (vn->stride + sizeof(struct rxbuf));
	if (want > NET_RX_BUFFERS)
		want = NET_RX_BUFFERS;
	if (want > RX_POOL_MAX / vn->stride)
		want = RX_POOL_MAX / vn->stride;
	if (want < NET_RX_MIN)
		want = NET_RX_MIN;
	n = (uint32_t)want;
	for (;;) {
		pages = pool_pages(vn, n);
		/* The device writes a buffer before anyone reads it. */
		if ((mem = page_alloc_uninit(pages)) != NULL)
			break;
		if (n / 2 < 16)
			return ERR_MEM;
		n /= 2;
	}
	if (n < want)
		log_warn("net: receive pool of %u buffers (%u wanted)", n, (unsigned)want);
	vn->rxbufs = (struct rxbuf *)(mem + (size_t)n * vn->stride);
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
	/* Keep a quarter of a small pool for zero-copy receive. */
	vn->reserve = n / 4 < NET_RX_RESERVE ? n / 4 : NET_RX_RESERVE;
	log_debug("net: receive pool of %u buffers (%llu KiB), copy below %u free",
	    n, (unsigned long long)(pages * PAGE_SIZE / 1024), vn->reserve);
	return ERR_OK;
}

/*
 * The netif's settings from what the device took at start: its MTU (and
 * with TSO, a netif->mtu of 64 KiB), which checksums lwIP leaves to it.
 */
static void
configure(struct vnif *vn, struct netif *netif, const struct netdev_info *info)
{
	netif->mtu = vn->mtu = info->mtu;
	vn->offloads = info->offloads;
	vn->tx_max_segs = info->tx_max_segs < TX_SEGS_MAX ? (int)info->tx_max_segs : TX_SEGS_MAX;
	/* TCP checksums on transmit are the device's when it offers to
	 * (tx_offload()); received ones are skipped frame by frame (rx()). */
	if (vn->offloads & NETDEV_OFF_TX_CSUM)
		NETIF_SET_CHECKSUM_CTRL(netif, NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP);
	/* TSO is IPv4's alone.  lwIP takes an IPv6 connection's MSS, the MSS
	 * it advertises and when it fragments from one number, the path
	 * MTU; a 64 KiB one, for large frames, would advertise TCP_MSS,
	 * 20 bytes more than a 1500-byte link carries over IPv6.  IPv6 TCP
	 * has its checksums offloaded, frames of the link's MTU, and takes
	 * the host's large frames on receive (GUEST_TSO6). */
	if ((vn->offloads & NETDEV_OFF_TX_TSO) && NET_TSO_SEGS > 1) {
		/* As many segments as an IP packet holds, at most
		 * NET_TSO_SEGS_MAX (fewer on a link with a larger MTU).
		 * lwIP's IP layer must pass the large TCP frames through
		 * unfragmented; output_ip() fragments everything else.  So
		 * netif->mtu is the largest IP packet: at tso_mss + 40, lwIP
		 * cut a datagram above that (a 64 KiB UDP echo or ping
		 * reply) in two, and output_ip() cut those again, which
		 * held two sets of fragment references (MEMP_FRAG_PBUF) and
		 * ran out of them. */
		uint32_t seg = vn->mtu - 40u, n = (0xffffu - 40u) / seg;

		if (n > NET_TSO_SEGS_MAX)
			n = NET_TSO_SEGS_MAX;
		if (n >= NET_TSO_SEGS) {
			vn->tso_mss = (u16_t)(n * seg);
			netif->mtu = 0xffff;
		}
	}
	if (info->link_up)
		netif->flags |= NETIF_FLAG_LINK_UP;
}

err_t
netdev_netif_init(struct netif *netif)
{
	struct vnif *vn = &vnif;
	const struct netdev_netif_conf *conf = netif->state;
	struct netdev *dev = conf->dev;
	const struct netdev_info *info = netdev_info(dev);
	struct netdev_conf start = { .upper = &upper, .ctx = vn, .offloads = conf->offloads };
	err_t err;
	int rc;

	if (vn->dev != NULL)
		return ERR_IF;		/* one interface (LWIP_SINGLE_NETIF) */
	vn->dev = dev;
	vn->netif = netif;
	netif->state = vn;
	netif->name[0] = 'v';
	netif->name[1] = 'n';
	netif->output = output_ip;
	netif->output_ip6 = output_ip6;
	netif->linkoutput = linkoutput;
	netif->mtu = vn->mtu = info->mtu;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, info->mac, ETH_HWADDR_LEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
	    NETIF_FLAG_MLD6;
	MIB2_INIT_NETIF(netif, snmp_ifType_ethernet_csmacd, 0);

	limpet_work_init(&vn->refill, refill, vn);
	limpet_work_init(&vn->rx_input, rx_input, vn);
	limpet_work_init(&vn->tx_drain, tx_drain, vn);
	/* The transmit FIFO: NET_TX_QUEUE slots for every TCP segment lwIP
	 * can have, its pool grown to the capacity the boot computed. */
	vn->txq_size = NET_TX_QUEUE * net_tcp_seg_capacity();
	vn->txq_pages = PAGE_ROUND_UP((uint64_t)vn->txq_size * sizeof(*vn->txq)) / PAGE_SIZE;
	if ((vn->txq = page_alloc_uninit(vn->txq_pages)) == NULL) {
		log_error("net: no memory for the transmit queue");
		err = ERR_MEM;
		goto fail;
	}
	if (rx_pool_init(vn, info->rx_buf_size) != ERR_OK) {
		log_error("net: no memory for the receive pool");
		err = ERR_MEM;
		goto fail_txq;
	}
	/* The backlog: a slot for each buffer, and for each pool pbuf a
	 * frame below the reserve is copied into. */
	vn->rxq_size = vn->nbufs + PBUF_POOL_SIZE;
	vn->rxq_pages = PAGE_ROUND_UP((uint64_t)vn->rxq_size *
	    (sizeof(*vn->rxq) + sizeof(*vn->rxq_csum))) / PAGE_SIZE;
	if ((vn->rxq = page_alloc_uninit(vn->rxq_pages)) == NULL) {
		log_error("net: no memory for the receive backlog");
		err = ERR_MEM;
		goto fail_pool;
	}
	vn->rxq_csum = (uint8_t *)(vn->rxq + vn->rxq_size);
	/* The device takes the offloads net/ asks for that it has, and
	 * posts our buffers: from here on, info says what is in use. */
	if ((rc = netdev_start(dev, &start)) != 0) {
		log_error("net: %s: start failed (%d)", info->name, rc);
		err = ERR_IF;
		goto fail_rxq;
	}
	configure(vn, netif, info);
	return ERR_OK;

fail_rxq:
	page_free(vn->rxq, vn->rxq_pages);
	vn->rxq = NULL;
fail_pool:
	page_free(vn->pool, vn->pool_pages);
	vn->pool = NULL;
	vn->free = NULL;
	vn->nbufs = vn->nfree = 0;
fail_txq:
	page_free(vn->txq, vn->txq_pages);
	vn->txq = NULL;
fail:
	vn->dev = NULL;
	return err;
}
