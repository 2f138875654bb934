// unit-sources: net/netif/netdev_netif.c net/port/tcp_lookup.c net/port/ip6_guard.c net/port/sys_arch.c net/port/siphash.c net/port/tcp_syn.c net/port/pools.c net/port/heap.c tests/unit/virtio_sim.c drivers/virtio-net/virtio_net.c drivers/virtio/virtqueue.c drivers/netdev.c kernel/dma.c kernel/kprintf.c kernel/cmdline.c
// unit-include: tests/unit/host net/port/include net/netif deps/lwip/src/include drivers/include drivers/virtio drivers/virtio-net
// unit-deps: deps/lwip/src/core/*.c deps/lwip/src/core/ipv4/*.c deps/lwip/src/core/ipv6/*.c deps/lwip/src/netif/ethernet.c
/*
 * Host unit tests of the netif (net/netif/netdev_netif.c) on its own,
 * over a fake netdev: a struct netdev of this file's, with its own
 * transmit and refill functions and a static const ops table, standing
 * in for the driver as drivers/include/netdev.h allows.  lwIP's core is
 * built with the project's lwipopts.h, as in the guest.  (virtio_sim.c
 * is linked for its host kernel: clock, pages, the loop's work, logs;
 * its simulated device, and the virtio driver that comes with it, are
 * never attached here.)
 *
 * The fake posts the buffers the netif gives it on a ring of FAKE_RING,
 * writes frames into them as a device would, hands them up and refills; it takes
 * transmitted frames as the segment lists they are, as long as its ring
 * has room, and completes them when the test says.  Covered: receive
 * through several turns of the ring with refills (zero copy, every buffer
 * back in the pool), the copy below the receive reserve and its counter,
 * transmit of pbuf chains as segment lists without a copy, the copy of a
 * chain in more pieces than the device takes, the netif's FIFO while the
 * ring is full, TSO and checksum offload for IPv4 and IPv6 TCP frames,
 * which received checksums lwIP trusts, and the offload policy: what net/
 * asks for against what the device has.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <kernel/mm.h>
#include <netdev.h>

#include <lwip/init.h>
#include <lwip/ip4_addr.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/stats.h>
#include <lwip/tcp.h>
#include <lwip/udp.h>
#include <netif/ethernet.h>

#include "../../net/port/pools.h"
#include "netdev_netif.h"
#include "net_bytes.h"
#include "virtio_sim.h"

/* Receive buffers the fake keeps posted at most. */
#define FAKE_RING	64
/* Frames the fake records. */
#define FAKE_TX_MAX	256
#define FAKE_SEGS	64

/* LWIP_HOOK_ND6_GET_GW's, from net/net.c, which is not under test. */
const ip6_addr_t *
net_ip6_next_hop(struct netif *n, const ip6_addr_t *dest)
{
	(void)n;
	(void)dest;
	return NULL;
}

/* ---- the fake netdev -------------------------------------------------------- */

struct fake_tx {
	struct netdev_seg	segs[FAKE_SEGS];
	int			nsegs;
	int			has_off;
	struct netdev_offload	off;
	void			*cookie;
	uint32_t		len;
	int			done;
};

static struct fake {
	struct netdev		dev;
	const struct netdev_upper *upper;
	void			*ctx;
	unsigned		wanted;		/* conf->offloads at start */
	int			starts;
	/* Posted receive buffers, oldest first. */
	struct {
		void	*cookie, *data;
		uint32_t size;
	}			ring[FAKE_RING];
	int			head, posted;
	int			refills;
	/* Transmitted frames, in order; the oldest not yet completed. */
	struct fake_tx		tx[FAKE_TX_MAX];
	int			ntx, ndone;
	int			tx_room;	/* frames the ring takes now */
	int			max_runs;	/* -EMSGSIZE above this many segments */
} fake;

static int
fake_tx(struct netdev *dev, const struct netdev_seg *segs, int nsegs,
    const struct netdev_offload *off, void *cookie)
{
	struct fake_tx *t;

	assert_ptr_equal(dev, &fake.dev);
	assert_true(nsegs > 0 && (uint32_t)nsegs <= dev->info.tx_max_segs);
	if (off != NULL)
		assert_true(dev->info.offloads & NETDEV_OFF_TX_CSUM);
	if (off != NULL && off->gso_size != 0)
		assert_true(dev->info.offloads & NETDEV_OFF_TX_TSO);
	if (fake.max_runs != 0 && nsegs > fake.max_runs)
		return -EMSGSIZE;
	if (fake.tx_room == 0) {
		dev->stats.tx_ring_full++;
		return -EAGAIN;
	}
	assert_true(fake.ntx < FAKE_TX_MAX);
	t = &fake.tx[fake.ntx++];
	memset(t, 0, sizeof(*t));
	memcpy(t->segs, segs, sizeof(*segs) * (size_t)nsegs);
	t->nsegs = nsegs;
	if (off != NULL) {
		t->has_off = 1;
		t->off = *off;
	}
	t->cookie = cookie;
	for (int i = 0; i < nsegs; i++)
		t->len += segs[i].len;
	fake.tx_room--;
	dev->stats.tx_packets++;
	dev->stats.tx_bytes += t->len;
	return 0;
}

static void
fake_rx_refill(struct netdev *dev)
{
	assert_ptr_equal(dev, &fake.dev);
	fake.refills++;
	while (fake.posted < FAKE_RING) {
		int slot = (fake.head + fake.posted) % FAKE_RING;
		void *data;
		uint32_t size;
		void *cookie = fake.upper->rx_buf(fake.ctx, &data, &size);

		if (cookie == NULL) {
			dev->stats.rx_no_buffers++;
			break;
		}
		assert_true(size >= dev->info.rx_buf_size);
		fake.ring[slot].cookie = cookie;
		fake.ring[slot].data = data;
		fake.ring[slot].size = size;
		fake.posted++;
	}
}

static int
fake_start(struct netdev *dev, const struct netdev_conf *conf)
{
	fake.starts++;
	fake.upper = conf->upper;
	fake.ctx = conf->ctx;
	fake.wanted = conf->offloads;
	/* The offloads both sides name, as a driver negotiates them. */
	dev->info.offloads = conf->offloads & dev->info.offloads_avail;
	if (dev->info.offloads & NETDEV_OFF_RX_LARGE)
		dev->info.rx_frame_max = 0xffff;
	fake_rx_refill(dev);
	return 0;
}

static const struct netdev_ops fake_ops = {
	.start	= fake_start,
};

/* A fresh fake device that has the offloads avail. */
static struct netdev *
fake_new(unsigned avail)
{
	memset(&fake, 0, sizeof(fake));
	fake.dev.tx = fake_tx;
	fake.dev.rx_refill = fake_rx_refill;
	fake.dev.ops = &fake_ops;
	strcpy(fake.dev.name, "fake0");
	fake.dev.info = (struct netdev_info){
		.name = "fake", .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, .mtu = 1500,
		.link_up = 1, .rx_buf_size = 1536, .rx_frame_max = 1526,
		.offloads_avail = avail, .tx_max_segs = 16, .rx_ring = FAKE_RING,
		.tx_ring = 256 };
	fake.tx_room = 1 << 30;
	return &fake.dev;
}

/*
 * The device receives a frame: into the oldest posted buffers (as many as
 * it takes at rx_buf_size each, as mergeable buffers would), handed up
 * with flags.  The data pointers handed up, in *first.
 */
static void
fake_rx(const void *frame, uint32_t len, unsigned flags, const uint8_t **first)
{
	struct netdev_frag frags[64];
	const uint8_t *f = frame;
	int n = 0;

	while (len > 0) {
		uint32_t chunk = len < fake.dev.info.rx_buf_size ? len : fake.dev.info.rx_buf_size;

		assert_true(fake.posted > 0);
		assert_true(n < 64);
		memcpy(fake.ring[fake.head].data, f, chunk);
		frags[n++] = (struct netdev_frag){ .cookie = fake.ring[fake.head].cookie,
		    .data = fake.ring[fake.head].data, .len = chunk };
		fake.head = (fake.head + 1) % FAKE_RING;
		fake.posted--;
		f += chunk;
		len -= chunk;
	}
	fake.dev.stats.rx_packets++;
	if (first != NULL)
		*first = frags[0].data;
	fake.upper->rx(fake.ctx, frags, n, flags);
}

/* One frame, then the refill a driver's poll ends with. */
static void
deliver(const void *frame, uint32_t len, unsigned flags, const uint8_t **first)
{
	fake_rx(frame, len, flags, first);
	fake_rx_refill(&fake.dev);
}

/* The device has sent the oldest n frames (-1: all). */
static void
fake_complete(int n)
{
	while (fake.ndone < fake.ntx && n-- != 0) {
		fake.tx[fake.ndone].done = 1;
		fake.tx_room++;
		fake.upper->tx_done(fake.ctx, fake.tx[fake.ndone++].cookie);
	}
}

/* ---- frames ------------------------------------------------------------------ */

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x05, 0x02 };
static const uint8_t guest_ip[4] = { 10, 0, 5, 3 }, peer_ip[4] = { 10, 0, 5, 2 };
static const uint8_t guest6[16] = { 0xfd, 0, 0, 5, [15] = 3 };
static const uint8_t peer6[16] = { 0xfd, 0, 0, 5, [15] = 2 };

static void
eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
}

/* An IPv4 header at ip from src to dst; l4len bytes follow. */
static void
ip4(uint8_t *ip, uint8_t proto, uint16_t l4len, const uint8_t *src, const uint8_t *dst,
    uint16_t frag)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len));
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
}

/* A UDP datagram from the peer to the guest's port, len bytes of data:
 * the frame's length. */
static uint32_t
peer_udp(uint8_t *f, uint16_t port, uint16_t len, uint8_t seed)
{
	uint8_t *u = f + 34;

	eth(f, guest_mac, peer_mac, 0x0800);
	ip4(f + 14, 17, (uint16_t)(8 + len), peer_ip, guest_ip, 0);
	put16(u, 5000);
	put16(u + 2, port);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);		/* no checksum (IPv4) */
	for (uint16_t i = 0; i < len; i++)
		u[8 + i] = (uint8_t)(seed + i);
	return 14u + 20 + 8 + len;
}

/* A TCP SYN at t, its checksum right or (bad) wrong over the pseudo
 * header sum pseudo. */
static void
syn(uint8_t *t, uint32_t pseudo, int bad)
{
	memset(t, 0, 20);
	put16(t, 5001);
	put16(t + 2, 81);		/* nobody listens: lwIP answers RST */
	put32(t + 4, 1000);
	t[12] = 5 << 4;
	t[13] = 0x02;
	put16(t + 14, 8192);
	put16(t + 16, (uint16_t)(fold(sum16(t, 20, pseudo)) ^ (bad ? 0x5a5a : 0)));
}

static uint32_t
peer_syn4(uint8_t *f, int bad)
{
	eth(f, guest_mac, peer_mac, 0x0800);
	ip4(f + 14, 6, 20, peer_ip, guest_ip, 0);
	syn(f + 34, sum16(f + 26, 8, 0) + 6 + 20, bad);
	return 54;
}

/* Over IPv6, with a hop-by-hop header in front of TCP when ext. */
static uint32_t
peer_syn6(uint8_t *f, int bad, int ext)
{
	uint8_t *ip = f + 14, *t = ip + 40 + (ext ? 8 : 0);
	uint16_t plen = (uint16_t)(20 + (ext ? 8 : 0));

	eth(f, guest_mac, peer_mac, 0x86dd);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, plen);
	ip[6] = ext ? 0 : 6;
	ip[7] = 64;
	memcpy(ip + 8, peer6, 16);
	memcpy(ip + 24, guest6, 16);
	if (ext) {
		uint8_t *h = ip + 40;

		memset(h, 0, 8);
		h[0] = 6;		/* then TCP */
		h[2] = 1;		/* PadN, 4 bytes */
		h[3] = 4;
	}
	syn(t, sum16(ip + 8, 32, 0) + 6 + 20, bad);
	return 14u + 40 + plen;
}

/* ---- the interface -------------------------------------------------------------- */

static struct netif nif;
static struct udp_pcb *sink;
static struct pbuf *held[512];
static int nheld, hold, nrecv;
static const uint8_t *last_payload;

static void
sink_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	(void)arg;
	(void)pcb;
	(void)addr;
	(void)port;
	nrecv++;
	last_payload = p->payload;
	if (hold) {
		assert_true(nheld < 512);
		held[nheld++] = p;
	} else {
		pbuf_free(p);
	}
}

static void
release_held(void)
{
	while (nheld > 0)
		pbuf_free(held[--nheld]);
	sim_loop();
}

static struct netdev_stats
stats(void)
{
	struct netdev_stats s;

	netdev_stats(&fake.dev, &s);
	return s;
}

/* Every receive buffer is in the pool or posted, once. */
static void
assert_pool_whole(void)
{
	uint32_t total, nfree;

	netdev_netif_rx_buffers(&total, &nfree);
	assert_int_equal(nfree + (uint32_t)fake.posted, total);
	assert_int_equal(netdev_netif_rx_posted(), (uint32_t)fake.posted);
}

static int
group_setup(void **state)
{
	ip4_addr_t ip, mask, gw;
	ip6_addr_t a6;
	s8_t idx;

	(void)state;
	sim_create(NULL);
	assert_int_equal(net_pools_init(), 0);
	lwip_init();
	IP4_ADDR(&ip, 10, 0, 5, 3);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 10, 0, 5, 1);
	kernel_pmm.nfree = 0;		/* the smallest pool: NET_RX_MIN buffers */
	assert_non_null(netif_add(&nif, &ip, &mask, &gw,
	    &(struct netdev_netif_conf){ .dev = fake_new(NETDEV_OFF_ALL),
	    .offloads = NETDEV_OFF_ALL }, netdev_netif_init, ethernet_input));
	netif_set_default(&nif);
	netif_set_up(&nif);
	memcpy(a6.addr, guest6, 16);
	ip6_addr_assign_zone(&a6, IP6_UNICAST, &nif);
	assert_int_equal(netif_add_ip6_address(&nif, &a6, &idx), ERR_OK);
	netif_ip6_addr_set_state(&nif, idx, IP6_ADDR_PREFERRED);
	sink = udp_new();
	assert_non_null(sink);
	assert_int_equal(udp_bind(sink, IP_ANY_TYPE, 7), ERR_OK);
	udp_recv(sink, sink_recv, NULL);
	sim_loop();
	fake_complete(-1);
	sim_loop();
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	sim_destroy();
	return 0;
}

/* ---- receive -------------------------------------------------------------------- */

/*
 * Five turns of the ring, in bursts of a ring's worth and of one frame:
 * each frame goes up in the buffer the device wrote it to (the payload
 * lwIP hands the service points into it), lwIP frees it, the buffer goes
 * back to the pool and is posted again; the pool is whole after every
 * burst, and more buffers than the ring holds took turns.
 */
static void
rx_wrap_refill(void **state)
{
	uint8_t f[1514];
	void *seen[1024];
	int nseen = 0, frames = 0;
	uint32_t total, nfree;

	(void)state;
	netdev_netif_rx_buffers(&total, &nfree);
	assert_int_equal(total, NET_RX_MIN);
	assert_int_equal(fake.posted, FAKE_RING);
	assert_pool_whole();
	nrecv = 0;
	for (int round = 0; round < 10; round++) {
		int burst = round % 2 == 0 ? FAKE_RING : 1;

		for (int i = 0; i < burst; i++, frames++) {
			uint32_t len = peer_udp(f, 7, (uint16_t)(100 + frames % 1000), (uint8_t)frames);
			const uint8_t *data;
			int known = 0;

			fake_rx(f, len, 0, &data);
			for (int k = 0; k < nseen; k++)
				known |= seen[k] == data;
			if (!known && nseen < 1024)
				seen[nseen++] = (void *)(uintptr_t)data;
		}
		/* The poll's refill comes from the pool: the frames' buffers
		 * are lwIP's until the loop hands them up and it frees them. */
		fake_rx_refill(&fake.dev);
		sim_loop();
		assert_int_equal(nrecv, frames);
		assert_int_equal(fake.posted, FAKE_RING);
		assert_pool_whole();
	}
	/* The ring went round five times on the same pool: every buffer
	 * handed up was one of the pool's, re-posted after lwIP freed it. */
	assert_true(frames > 5 * FAKE_RING);
	assert_true(nseen >= FAKE_RING && nseen <= (int)total);
	assert_int_equal(stats().bytes_copied, 0);
}

/* The payload lwIP hands up is the device's buffer itself. */
static void
rx_zero_copy(void **state)
{
	uint8_t f[1514];
	const uint8_t *data;
	uint32_t len = peer_udp(f, 7, 333, 9);

	(void)state;
	deliver(f, len, 0, &data);
	sim_loop();
	assert_ptr_equal(last_payload, data + 42);
	assert_memory_equal(last_payload, f + 42, 333);
	assert_pool_whole();
}

/*
 * A service holds what it receives: the pool runs down, the ring is kept
 * full from it, and once fewer buffers than the reserve are free, frames
 * are copied into lwIP's pool pbufs and their buffers go straight back:
 * exactly those frames' bytes are counted, none before.  Freed, every
 * buffer is back.
 */
static void
rx_copy_counter(void **state)
{
	uint8_t f[1514];
	uint32_t total, nfree, reserve, copied = 0, zc = 0;

	(void)state;
	netdev_netif_rx_buffers(&total, &nfree);
	reserve = total / 4 < NET_RX_RESERVE ? total / 4 : NET_RX_RESERVE;
	hold = 1;
	for (int i = 0; i < 60; i++) {
		uint32_t len = peer_udp(f, 7, (uint16_t)(200 + i), (uint8_t)i);

		netdev_netif_rx_buffers(&total, &nfree);
		if (nfree < reserve)
			copied += len;
		else
			zc++;
		deliver(f, len, 0, NULL);
		sim_loop();
		assert_int_equal(stats().bytes_copied, copied);
		assert_memory_equal(held[nheld - 1]->payload, f + 42, 200 + i);
	}
	assert_true(zc > 0 && copied > 0);
	assert_int_equal(fake.posted, FAKE_RING);
	hold = 0;
	release_held();
	assert_pool_whole();
	netdev_netif_rx_buffers(&total, &nfree);
	assert_int_equal(nfree + FAKE_RING, total);
	assert_int_equal(stats().bytes_copied, copied);
}

/* A frame larger than a buffer (the host's merged TCP segments) comes in
 * several, chained in place. */
static void
rx_large_frame(void **state)
{
	static uint8_t f[14 + 20 + 8 + 4000];
	uint32_t len = peer_udp(f, 7, 4000, 3);
	const uint8_t *data;
	uint64_t copied = stats().bytes_copied;

	(void)state;
	assert_true(fake.dev.info.offloads & NETDEV_OFF_RX_LARGE);
	hold = 1;
	deliver(f, len, 0, &data);
	sim_loop();
	assert_int_equal(nheld, 1);
	assert_int_equal(held[0]->tot_len, 4000);
	assert_non_null(held[0]->next);		/* three buffers, no copy */
	assert_ptr_equal(held[0]->payload, data + 42);
	assert_int_equal(stats().bytes_copied, copied);
	hold = 0;
	release_held();
	assert_pool_whole();
}

/*
 * Which received checksums lwIP skips: a frame the device vouches for
 * (NETDEV_RX_CSUM_OK) when it is IPv4 TCP, or IPv6 with TCP right behind
 * the IPv6 header; an IPv6 frame with an extension header, or any frame
 * the device did not vouch for, is checked.  A wrong checksum the device
 * vouched for is then not caught (lwIP answers the SYN with a RST); one it
 * did not vouch for is.
 */
static void
rx_checksum_trust(void **state)
{
	static const struct {
		int	v6, ext, bad;
		unsigned flags;
		int	caught;
	} cases[] = {
		{ 0, 0, 1, NETDEV_RX_CSUM_OK, 0 },
		{ 0, 0, 1, 0, 1 },
		{ 0, 0, 0, 0, 0 },
		{ 1, 0, 1, NETDEV_RX_CSUM_OK, 0 },
		{ 1, 0, 1, 0, 1 },
		{ 1, 1, 1, NETDEV_RX_CSUM_OK, 1 },
		{ 1, 1, 0, NETDEV_RX_CSUM_OK, 0 },
	};
	uint8_t f[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u16_t before = lwip_stats.tcp.chkerr;
		uint32_t len = cases[i].v6 ? peer_syn6(f, cases[i].bad, cases[i].ext)
		    : peer_syn4(f, cases[i].bad);

		deliver(f, len, cases[i].flags, NULL);
		sim_loop();
		assert_int_equal(lwip_stats.tcp.chkerr - before, cases[i].caught);
		fake_complete(-1);
		sim_loop();
	}
	assert_pool_whole();
}

/* ---- transmit ------------------------------------------------------------------- */

static const uint8_t rom_data[300] = { 'r', 'o', 'm' };

static struct pbuf *
ram(uint16_t len, uint8_t seed)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, len, PBUF_RAM);

	assert_non_null(p);
	for (uint16_t i = 0; i < len; i++)
		((uint8_t *)p->payload)[i] = (uint8_t)(seed + i);
	return p;
}

static struct pbuf *
ref(const void *data, uint16_t len, pbuf_type type)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, len, type);

	assert_non_null(p);
	p->payload = (void *)(uintptr_t)data;
	return p;
}

/* A chain [14-byte header of type 0x88b5 + len0 - 14][PBUF_REF][empty][PBUF_ROM]. */
static struct pbuf *
chain(uint16_t len0, const void *refdata, uint16_t reflen, uint8_t seed)
{
	struct pbuf *p = ram(len0, seed);

	eth(p->payload, peer_mac, guest_mac, 0x88b5);
	pbuf_cat(p, ref(refdata, reflen, PBUF_REF));
	pbuf_cat(p, pbuf_alloc(PBUF_RAW, 0, PBUF_RAM));
	pbuf_cat(p, ref(rom_data, sizeof(rom_data), PBUF_ROM));
	return p;
}

/* What lwIP's heap and pools hold. */
static mem_size_t
lwip_used(void)
{
	return lwip_stats.mem.used + lwip_stats.memp[MEMP_PBUF]->used;
}

/*
 * A chain goes to the device as one segment per non-empty pbuf, each
 * pointing at the pbuf's own bytes (no copy, no translation: the driver
 * owns that), and the netif holds a reference until the device is done.
 */
static void
tx_scatter_gather(void **state)
{
	static uint8_t refbuf[1000];
	mem_size_t before = lwip_used();
	struct pbuf *p = chain(60, refbuf, sizeof(refbuf), 1);
	uint64_t copied = stats().bytes_copied;
	struct fake_tx *t;
	int first = fake.ntx;

	(void)state;
	assert_int_equal(nif.linkoutput(&nif, p), ERR_OK);
	assert_int_equal(fake.ntx, first + 1);
	t = &fake.tx[first];
	assert_ptr_equal(t->cookie, p);
	assert_int_equal(t->nsegs, 3);
	assert_ptr_equal(t->segs[0].data, p->payload);
	assert_int_equal(t->segs[0].len, 60);
	assert_ptr_equal(t->segs[1].data, refbuf);
	assert_int_equal(t->segs[1].len, sizeof(refbuf));
	assert_ptr_equal(t->segs[2].data, rom_data);
	assert_int_equal(t->segs[2].len, sizeof(rom_data));
	assert_false(t->has_off);		/* not IP: nothing to offload */
	assert_int_equal(p->ref, 2);		/* lwIP's and the netif's */
	pbuf_free(p);
	assert_true(lwip_used() > before);	/* the device still has it */
	fake_complete(-1);
	sim_loop();
	assert_int_equal(lwip_used(), before);
	assert_int_equal(stats().bytes_copied, copied);
}

/*
 * More pbufs than the device takes, or a device that says the pieces'
 * memory is in more runs than its ring holds (-EMSGSIZE): the netif
 * copies the frame into one piece, counts the bytes, and sends that.
 */
static void
tx_copy_when_too_many(void **state)
{
	static uint8_t refbuf[100];
	mem_size_t before = lwip_used();
	uint64_t copied = stats().bytes_copied;
	struct pbuf *p = ram(14, 0);
	int first = fake.ntx;

	(void)state;
	eth(p->payload, peer_mac, guest_mac, 0x88b5);
	for (uint32_t i = 0; i < fake.dev.info.tx_max_segs; i++)
		pbuf_cat(p, ref(refbuf + i, 5, PBUF_REF));
	assert_int_equal(nif.linkoutput(&nif, p), ERR_OK);
	assert_int_equal(fake.ntx, first + 1);
	assert_int_equal(fake.tx[first].nsegs, 1);
	assert_int_equal(fake.tx[first].len, p->tot_len);
	assert_ptr_not_equal(fake.tx[first].cookie, p);
	assert_int_equal(stats().bytes_copied, copied + p->tot_len);
	assert_int_equal(p->ref, 1);		/* the copy went, not p */
	pbuf_free(p);

	/* Three pieces, but the device wants them in at most two. */
	fake.max_runs = 2;
	p = chain(40, refbuf, sizeof(refbuf), 2);
	assert_int_equal(nif.linkoutput(&nif, p), ERR_OK);
	assert_int_equal(fake.ntx, first + 2);
	assert_int_equal(fake.tx[first + 1].nsegs, 1);
	assert_int_equal(stats().bytes_copied, copied + 14 + 5 * fake.dev.info.tx_max_segs
	    + p->tot_len);
	assert_memory_equal(fake.tx[first + 1].segs[0].data, p->payload, 40);
	pbuf_free(p);
	fake.max_runs = 0;
	fake_complete(-1);
	sim_loop();
	assert_int_equal(lwip_used(), before);
}

/*
 * The device's ring is full: frames wait in the netif's FIFO, by
 * reference, and go out in order as the device completes frames; lwIP is
 * told ERR_OK throughout (nothing dropped).
 */
static void
tx_queue_when_full(void **state)
{
	struct pbuf *p[8];
	mem_size_t before = lwip_used();
	int first = fake.ntx;
	uint64_t full = stats().tx_ring_full;

	(void)state;
	fake.tx_room = 2;
	for (int i = 0; i < 8; i++) {
		p[i] = chain(20, rom_data, 10, (uint8_t)(10 * i));
		assert_int_equal(nif.linkoutput(&nif, p[i]), ERR_OK);
		pbuf_free(p[i]);		/* lwIP lets go; the netif holds it */
	}
	assert_int_equal(fake.ntx, first + 2);
	assert_true(stats().tx_ring_full > full);
	/* One sent: one more goes, from the loop. */
	fake_complete(1);
	assert_int_equal(fake.ntx, first + 2);
	sim_loop();
	assert_int_equal(fake.ntx, first + 3);
	/* A new frame waits behind the queue rather than jumping it. */
	struct pbuf *late = chain(20, rom_data, 10, 200);
	assert_int_equal(nif.linkoutput(&nif, late), ERR_OK);
	pbuf_free(late);
	for (int i = 0; i < 10; i++) {
		fake_complete(-1);
		sim_loop();
	}
	assert_int_equal(fake.ntx, first + 9);
	for (int i = 0; i < 8; i++)
		assert_ptr_equal(fake.tx[first + i].cookie, p[i]);
	assert_ptr_equal(fake.tx[first + 8].cookie, late);
	assert_int_equal(lwip_used(), before);
	fake.tx_room = 1 << 30;
}

/* An Ethernet + IPv4 + TCP frame of payload bytes in one PBUF_RAM. */
static struct pbuf *
tcp4_frame(uint16_t payload)
{
	struct pbuf *p = ram((uint16_t)(54 + payload), 0);
	uint8_t *f = p->payload;

	eth(f, peer_mac, guest_mac, 0x0800);
	ip4(f + 14, 6, (uint16_t)(20 + payload), guest_ip, peer_ip, 0x4000);
	memset(f + 34, 0, 20);
	f[46] = 5 << 4;
	return p;
}

static struct pbuf *
tcp6_frame(uint16_t payload)
{
	struct pbuf *p = ram((uint16_t)(74 + payload), 0);
	uint8_t *f = p->payload, *ip = f + 14;

	eth(f, peer_mac, guest_mac, 0x86dd);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(20 + payload));
	ip[6] = 6;
	ip[7] = 64;
	memcpy(ip + 8, guest6, 16);
	memcpy(ip + 24, peer6, 16);
	memset(ip + 40, 0, 20);
	ip[52] = 5 << 4;
	return p;
}

/* Send p; the frame the device got. */
static struct fake_tx *
send_one(struct pbuf *p)
{
	int first = fake.ntx;

	assert_int_equal(nif.linkoutput(&nif, p), ERR_OK);
	assert_int_equal(fake.ntx, first + 1);
	pbuf_free(p);
	return &fake.tx[first];
}

/*
 * With TSO and checksum offload in use: a TCP/IPv4 frame larger than the
 * MTU goes to the device whole, to be cut at the real MSS behind copies
 * of its 54 bytes of headers, its checksum field seeded with the
 * pseudo-header sum; one of the MTU only has its checksum offloaded.  An
 * IPv6 TCP frame has its checksum offloaded and is never cut (TSO is
 * IPv4's); UDP is lwIP's to sum.
 */
static void
tx_tso_frames(void **state)
{
	struct pbuf *p;
	struct fake_tx *t;
	uint8_t *f;
	uint16_t want;

	(void)state;
	assert_int_equal(nif.mtu, 0xffff);	/* lwIP passes the large frames */
	p = tcp4_frame(3 * 1460);
	f = p->payload;
	want = (uint16_t)~fold(sum16(f + 26, 8, 0) + 6 + 20 + 3 * 1460);
	t = send_one(p);
	assert_true(t->has_off);
	assert_int_equal(t->off.csum_start, 34);
	assert_int_equal(t->off.csum_offset, 16);
	assert_int_equal(t->off.gso_size, 1460);
	assert_int_equal(t->off.hdr_len, 54);
	assert_int_equal(t->len, 54 + 3 * 1460);
	assert_int_equal(get16((const uint8_t *)t->segs[0].data + 50), want);

	t = send_one(tcp4_frame(1000));
	assert_true(t->has_off);
	assert_int_equal(t->off.gso_size, 0);

	p = tcp6_frame(1200);
	f = p->payload;
	want = (uint16_t)~fold(sum16(f + 22, 32, 0) + 6 + 20 + 1200);
	t = send_one(p);
	assert_true(t->has_off);
	assert_int_equal(t->off.csum_start, 54);
	assert_int_equal(t->off.csum_offset, 16);
	assert_int_equal(t->off.gso_size, 0);
	assert_int_equal(get16((const uint8_t *)t->segs[0].data + 70), want);

	p = tcp4_frame(0);
	f = p->payload;
	f[23] = 17;				/* UDP */
	put16(f + 24, 0);
	put16(f + 24, fold(sum16(f + 14, 20, 0)));
	t = send_one(p);
	assert_false(t->has_off);
	fake_complete(-1);
	sim_loop();
}

/* ---- the offload policy ------------------------------------------------------- */

/*
 * A fresh interface in a child process (lwIP and the netif are one per
 * process): net/ asks for wanted, the device has avail.  The child
 * checks what it can and exits with the number of the line that failed.
 */
#define CHECK(c)	do { if (!(c)) { fprintf(stderr, "test_netif.c:%d: %s\n", __LINE__, #c); \
			_exit(1); } } while (0)

static void
policy_child(unsigned avail, unsigned wanted)
{
	ip4_addr_t ip, mask, gw;
	unsigned used = avail & wanted;
	struct pbuf *p;

	sim_create(NULL);
	CHECK(net_pools_init() == 0);
	lwip_init();
	IP4_ADDR(&ip, 10, 0, 5, 3);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 10, 0, 5, 1);
	CHECK(netif_add(&nif, &ip, &mask, &gw, &(struct netdev_netif_conf){
	    .dev = fake_new(avail), .offloads = wanted }, netdev_netif_init,
	    ethernet_input) != NULL);
	CHECK(fake.starts == 1);
	CHECK(fake.wanted == wanted);		/* net/'s choice reached the device */
	CHECK(fake.dev.info.offloads == used);
	/* lwIP sums TCP itself unless the device does. */
	CHECK(((nif.chksum_flags & NETIF_CHECKSUM_GEN_TCP) == 0) ==
	    ((used & NETDEV_OFF_TX_CSUM) != 0));
	/* Large frames only with TSO in use. */
	CHECK((nif.mtu == 0xffff) == ((used & NETDEV_OFF_TX_TSO) != 0));
	CHECK(nif.mtu == 0xffff || nif.mtu == 1500);
	/* A TCP frame is offloaded only when the device sums. */
	netif_set_up(&nif);
	p = tcp4_frame(100);
	CHECK(nif.linkoutput(&nif, p) == ERR_OK);
	pbuf_free(p);
	CHECK(fake.ntx >= 1);
	CHECK(fake.tx[fake.ntx - 1].has_off == ((used & NETDEV_OFF_TX_CSUM) != 0));
	_exit(0);
}

static void
offload_policy(void **state)
{
	static const struct {
		unsigned avail, wanted;
	} cases[] = {
		{ NETDEV_OFF_ALL, NETDEV_OFF_ALL },
		{ NETDEV_OFF_ALL, 0 },			/* offload=off */
		{ 0, NETDEV_OFF_ALL },			/* user networking */
		{ NETDEV_OFF_TX_CSUM | NETDEV_OFF_RX_CSUM, NETDEV_OFF_ALL },
		{ NETDEV_OFF_ALL, NETDEV_OFF_TX_CSUM | NETDEV_OFF_RX_CSUM },
		{ NETDEV_OFF_RX_CSUM | NETDEV_OFF_RX_LARGE, NETDEV_OFF_ALL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int status;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			policy_child(cases[i].avail, cases[i].wanted);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("case %zu (avail 0x%x, wanted 0x%x): %s %d", i, cases[i].avail,
			    cases[i].wanted, WIFEXITED(status) ? "status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
}

int
main(void)
{
	const struct CMUnitTest policy[] = {
		cmocka_unit_test(offload_policy),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rx_wrap_refill),
		cmocka_unit_test(rx_zero_copy),
		cmocka_unit_test(rx_copy_counter),
		cmocka_unit_test(rx_large_frame),
		cmocka_unit_test(rx_checksum_trust),
		cmocka_unit_test(tx_scatter_gather),
		cmocka_unit_test(tx_copy_when_too_many),
		cmocka_unit_test(tx_queue_when_full),
		cmocka_unit_test(tx_tso_frames),
	};
	int failed = cmocka_run_group_tests_name("offload policy", policy, NULL, NULL);

	return failed + cmocka_run_group_tests_name("netif over a fake netdev", tests,
	    group_setup, group_teardown);
}
