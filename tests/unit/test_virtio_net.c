// unit-sources: drivers/virtio-net/virtio_net.c drivers/virtio/virtqueue.c drivers/netdev.c kernel/dma.c tests/unit/virtio_sim.c kernel/kprintf.c kernel/cmdline.c
// unit-include: drivers/include drivers/virtio drivers/virtio-net
/*
 * Host unit tests of the virtio-net driver (drivers/virtio-net/virtio_net.c,
 * as built for the guest) against the simulated device of virtio_sim.c,
 * which checks every transmit chain as QEMU 7.2 does and breaks, as QEMU
 * does, on one it cannot send.
 *
 * Transmit: the segment lists the netif hands over for the pbuf chains lwIP
 * makes (one piece; headers and data; zero-length pieces among them; pieces
 * that meet in memory; heap pages that are or are not physically
 * contiguous), frames the driver must refuse, a chain longer than the ring,
 * a ring that fills in the middle of a chain, completions at chosen
 * moments (inside the refill of the receive ring, inside a notification),
 * and the dead-NIC bug of issue 12.  Recovery: a device that sets
 * NEEDS_RESET is reset and set up again, the chains it held come back
 * through tx_done() once each, the receive buffers go on the new ring,
 * none lost or duplicated; a reset that fails puts the device out of
 * service until a later look succeeds.  Link changes reach upper->link().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kernel/mm.h>
#include <netdev.h>

#include "virtio_sim.h"

#define HDR_LEN		sizeof(struct virtio_net_hdr)
#define RX_BUF_SIZE	1536
#define NRXB		320		/* more than a ring of 256 takes */
#define NTXC		4096

/* ---- the upper layer: cookies and buffers it can account for --------------- */

enum { RXB_POOL, RXB_POSTED, RXB_UP };

struct rxb {
	uint8_t		*data;
	int		state;
};

static struct upper_state {
	struct rxb	rxb[NRXB];
	uint8_t		*rx_mem;
	int		tx_done[NTXC];		/* tx_done() calls per cookie */
	int		tx_order[NTXC];		/* cookies in the order they came back */
	int		ntx_done;
	uint8_t		*rx_frames[64];		/* frames rx() handed up */
	uint32_t	rx_len[64];
	int		nrx;
	int		links[16];
	int		nlinks;
	int		rx_buf_calls;
	void		(*rx_buf_hook)(int call);
} up;

static void *
t_rx_buf(void *ctx, void **data, uint32_t *size)
{
	(void)ctx;
	if (up.rx_buf_hook != NULL)
		up.rx_buf_hook(up.rx_buf_calls);
	up.rx_buf_calls++;
	for (int i = 0; i < NRXB; i++)
		if (up.rxb[i].state == RXB_POOL) {
			up.rxb[i].state = RXB_POSTED;
			*data = up.rxb[i].data;
			*size = RX_BUF_SIZE;
			return &up.rxb[i];
		}
	return NULL;
}

static void
t_rx(void *ctx, const struct netdev_frag *frags, int n, unsigned flags)
{
	uint32_t len = 0;

	(void)ctx;
	(void)flags;
	assert_true(up.nrx < 64);
	for (int i = 0; i < n; i++)
		len += frags[i].len;
	up.rx_frames[up.nrx] = malloc(len);
	assert_non_null(up.rx_frames[up.nrx]);
	len = 0;
	for (int i = 0; i < n; i++) {
		struct rxb *b = frags[i].cookie;

		assert_int_equal(b->state, RXB_POSTED);
		b->state = RXB_UP;
		memcpy(up.rx_frames[up.nrx] + len, frags[i].data, frags[i].len);
		len += frags[i].len;
	}
	up.rx_len[up.nrx++] = len;
}

static void
t_tx_done(void *ctx, void *cookie)
{
	int *c = cookie;

	(void)ctx;
	assert_true(c >= up.tx_done && c < up.tx_done + NTXC);
	(*c)++;
	up.tx_order[up.ntx_done++] = (int)(c - up.tx_done);
}

static void
t_link(void *ctx, int on)
{
	(void)ctx;
	assert_true(up.nlinks < 16);
	up.links[up.nlinks++] = on;
}

static const struct netdev_upper upper = {
	.rx_buf = t_rx_buf,
	.rx = t_rx,
	.tx_done = t_tx_done,
	.link = t_link,
};

#define COOKIE(i)	((void *)&up.tx_done[(i)])

/* Memory a test uses, freed by teardown() however the test ended. */
static void *allocs[16];
static int nallocs;

static void *
tmalloc(size_t size)
{
	void *p = aligned_alloc(4096, (size + 4095) & ~(size_t)4095);

	assert_non_null(p);
	assert_true(nallocs < 16);
	memset(p, 0, size);
	return allocs[nallocs++] = p;
}

/* A fresh device as cfg says, attached and started. */
static struct netdev *
start(const struct sim_config *cfg)
{
	struct netdev *nd;

	sim_create(cfg);
	memset(&up, 0, sizeof(up));
	up.rx_mem = aligned_alloc(4096, (size_t)NRXB * RX_BUF_SIZE);
	assert_non_null(up.rx_mem);
	for (int i = 0; i < NRXB; i++)
		up.rxb[i].data = up.rx_mem + (size_t)i * RX_BUF_SIZE;
	nd = sim_attach();
	assert_non_null(nd);
	assert_int_equal(netdev_start(nd, &(struct netdev_conf){ .upper = &upper,
	    .offloads = NETDEV_OFF_ALL }), 0);
	return nd;
}

static int
teardown(void **state)
{
	(void)state;
	sim_destroy();
	free(up.rx_mem);
	for (int i = 0; i < up.nrx; i++)
		free(up.rx_frames[i]);
	memset(&up, 0, sizeof(up));
	while (nallocs > 0)
		free(allocs[--nallocs]);
	return 0;
}

static struct netdev_stats
stats(struct netdev *nd)
{
	struct netdev_stats s;

	netdev_stats(nd, &s);
	return s;
}

/* ---- frames and memory ----------------------------------------------------------- */

/* Test bytes: different for every frame and offset. */
static void
fill(uint8_t *p, uint32_t len, unsigned seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* The bytes of segs[0..n) one after the other, read through the host. */
static uint32_t
concat(uint8_t *out, const struct netdev_seg *segs, int n, const void *(*host)(const void *))
{
	uint32_t len = 0;

	for (int i = 0; i < n; i++) {
		memcpy(out + len, host != NULL ? host(segs[i].data) : segs[i].data, segs[i].len);
		len += segs[i].len;
	}
	return len;
}

/* "Heap" memory as the guest has it: pages at HEAP_WIN, which the host
 * never dereferences, whose bytes live in heap_host and whose device
 * addresses are the test's choice (sim_map()). */
#define HEAP_WIN	(HEAP_BASE + 0x100000ULL)
static uint8_t *heap_host;

static uint8_t *
heap_window(size_t npages, const uint64_t *pa)
{
	heap_host = tmalloc(npages * 4096);
	sim_map(HEAP_WIN, heap_host, npages, pa);
	return heap_host;
}

static const void *
heap_to_host(const void *va)
{
	uint64_t v = (uint64_t)(uintptr_t)va;

	if (v >= HEAP_WIN && v < HEAP_WIN + 64 * 4096)
		return heap_host + (v - HEAP_WIN);
	return va;
}

static const void *
heap_va(uint64_t off)
{
	return (const void *)(uintptr_t)(HEAP_WIN + off);
}

/*
 * The chain the device took as its index-th: the header alone in a first,
 * device-readable element of 12 bytes, zero but for offloads, then ndesc - 1
 * readable elements with exactly the bytes expected (ndesc < 0: any count).
 */
static void
assert_chain(int index, const uint8_t *expect, uint32_t len, int ndesc)
{
	const struct sim_chain *c;
	uint32_t sum = 0;

	assert_true(index < sim.ntx);
	c = sim.tx[index];
	assert_true(c->ndesc >= 2);
	assert_int_equal(c->desc[0].len, HDR_LEN);
	for (int k = 0; k < c->ndesc; k++) {
		assert_false(c->desc[k].flags & VIRTQ_DESC_F_WRITE);
		if (k > 0)
			sum += c->desc[k].len;
	}
	if (ndesc >= 0)
		assert_int_equal(c->ndesc, ndesc);
	assert_int_equal(sum, len);
	assert_int_equal(c->len, len);
	assert_memory_equal(c->frame, expect, len);
}

static void
assert_no_device_error(void)
{
	if (sim.errors != 0)
		fail_msg("the device broke: %s", sim.error);
	assert_false(sim.status & VIRTIO_STATUS_NEEDS_RESET);
}

/* Every cookie in [0, n) came back exactly once, and no other. */
static void
assert_all_done(int n)
{
	for (int i = 0; i < NTXC; i++)
		if (up.tx_done[i] != (i < n)) {
			fail_msg("cookie %d came back %d times", i, up.tx_done[i]);
		}
	assert_int_equal(up.ntx_done, n);
}

/* ---- transmit: shapes ------------------------------------------------------------ */

/* One piece, the shape of every ACK, RST, ARP and small reply. */
static void
tx_one_piece(void **state)
{
	static const uint32_t sizes[] = { 14, 42, 54, 60, 66, 590, 1514, 1518 };
	struct netdev *nd = start(NULL);
	uint8_t *buf = tmalloc(2 * 4096 * 8);
	uint64_t bytes = 0;
	int n = (int)(sizeof(sizes) / sizeof(sizes[0]));

	(void)state;
	for (int i = 0; i < n; i++) {
		uint8_t *f = buf + (size_t)i * 8192;
		struct netdev_seg seg = { f, sizes[i] };

		fill(f, sizes[i], (unsigned)i);
		assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(i)), 0);
		assert_chain(i, f, sizes[i], 2);
		assert_memory_equal(&sim.tx[i]->hdr, &(struct virtio_net_hdr){ 0 }, HDR_LEN);
		bytes += sizes[i];
	}
	assert_no_device_error();
	assert_true(sim.notifies[VIRTIO_NET_TXQ] >= 1);
	assert_int_equal(stats(nd).tx_packets, n);
	assert_int_equal(stats(nd).tx_bytes, bytes);
	assert_int_equal(sim_tx_complete(-1), n);
	sim_advance(20 * 1000 * 1000);	/* the reap deadline */
	assert_all_done(n);
}

/*
 * Pieces as the netif passes a pbuf chain: headers, data, zero-length
 * pieces anywhere (lwIP leaves empty pbufs in chains), pieces that meet in
 * memory (merged into one descriptor) or meet backwards (not merged).
 */
static void
tx_pieces(void **state)
{
	struct netdev *nd = start(NULL);
	uint8_t *m = tmalloc(16 * 4096), expect[4096];
	/* Far apart, so that only the pieces meant to meet do. */
	uint8_t *h = m, *d1 = m + 8192, *d2 = m + 16384, *d3 = m + 40000;
	struct {
		struct netdev_seg segs[8];
		int n, ndesc;
	} cases[] = {
		{ { { h, 54 }, { d1, 1460 } }, 2, 3 },
		{ { { h, 54 }, { d1, 0 }, { d2, 100 } }, 3, 3 },
		{ { { d1, 0 }, { h, 54 }, { d2, 0 } }, 3, 2 },
		{ { { d1, 0 }, { d2, 0 }, { h, 14 }, { d3, 0 }, { d1, 1 } }, 5, 3 },
		{ { { h, 42 }, { d1, 300 }, { d2, 0 }, { d3, 200 }, { d2, 0 } }, 5, 4 },
		/* Pieces that continue each other: one run. */
		{ { { h, 54 }, { h + 54, 100 }, { h + 154, 0 }, { h + 154, 46 } }, 4, 2 },
		/* Adjacent, but backwards: two. */
		{ { { h + 54, 100 }, { h, 54 } }, 2, 3 },
	};
	int n = (int)(sizeof(cases) / sizeof(cases[0]));

	(void)state;
	fill(m, 16 * 4096, 9);
	for (int i = 0; i < n; i++) {
		uint32_t len = concat(expect, cases[i].segs, cases[i].n, NULL);

		assert_int_equal(netdev_tx(nd, cases[i].segs, cases[i].n, NULL, COOKIE(i)), 0);
		assert_chain(i, expect, len, cases[i].ndesc);
	}
	assert_no_device_error();
	assert_int_equal(stats(nd).tx_invalid, 0);
	sim_tx_complete(-1);
	sim_advance(20 * 1000 * 1000);
	assert_all_done(n);
}

/*
 * Heap memory is mapped page by page: a piece that crosses a page boundary
 * is one descriptor where the pages are physically contiguous and two where
 * they are not, each at the right device address.
 */
static void
tx_heap_pages(void **state)
{
	const uint64_t pa[4] = { SIM_PA_BASE + 5 * 4096, SIM_PA_BASE + 2 * 4096,
	    SIM_PA_BASE + 3 * 4096, SIM_PA_BASE + 9 * 4096 };
	struct netdev *nd = start(NULL);
	uint8_t *host = heap_window(4, pa), expect[2048];
	struct netdev_seg crossing = { heap_va(4096 - 300), 1000 };	/* pages 0 | 1 */
	struct netdev_seg joined = { heap_va(2 * 4096 - 500), 1400 };	/* pages 1 | 2 */
	struct netdev_seg two[2] = { { heap_va(3 * 4096 - 20), 60 }, { heap_va(100), 54 } };

	(void)state;
	fill(host, 4 * 4096, 3);
	assert_int_equal(netdev_tx(nd, &crossing, 1, NULL, COOKIE(0)), 0);
	assert_chain(0, host + 4096 - 300, 1000, 3);
	assert_int_equal(sim.tx[0]->desc[1].addr, pa[0] + 4096 - 300);
	assert_int_equal(sim.tx[0]->desc[1].len, 300);
	assert_int_equal(sim.tx[0]->desc[2].addr, pa[1]);
	assert_int_equal(sim.tx[0]->desc[2].len, 700);

	assert_int_equal(netdev_tx(nd, &joined, 1, NULL, COOKIE(1)), 0);
	assert_chain(1, host + 2 * 4096 - 500, 1400, 2);
	assert_int_equal(sim.tx[1]->desc[1].addr, pa[1] + 4096 - 500);

	assert_int_equal(netdev_tx(nd, two, 2, NULL, COOKIE(2)), 0);
	concat(expect, two, 2, heap_to_host);
	assert_chain(2, expect, 114, 4);
	assert_no_device_error();
	sim_tx_complete(-1);
	sim_advance(20 * 1000 * 1000);
	assert_all_done(3);
}

/* Frames the device must never see: refused, counted, logged once. */
static void
tx_invalid(void **state)
{
	struct sim_config cfg = { .features = SIM_FEATURES_TAP, .vnet_hdr = 1 };
	struct netdev *nd = start(&cfg);
	uint8_t *f = tmalloc(70000);
	struct netdev_seg zero[3] = { { f, 0 }, { f + 100, 0 }, { f + 200, 0 } };
	struct netdev_seg short13[2] = { { f, 6 }, { f + 100, 7 } };
	struct netdev_seg one13 = { f, 13 }, big = { f, 1519 }, ok = { f, 54 };
	struct netdev_seg tso_big = { f, 14 + 65536 }, tso = { f, 20000 };
	struct netdev_offload csum_out = { .csum_start = 34, .csum_offset = 16 };
	struct netdev_offload tso_short_hdr = { 34, 16, 1448, 13 };
	struct netdev_offload tso_ok = { 34, 16, 1448, 54 };
	struct netdev_seg many[200];

	(void)state;
	assert_int_equal(netdev_tx(nd, zero, 3, NULL, COOKIE(0)), -EINVAL);
	assert_int_equal(netdev_tx(nd, zero, 1, NULL, COOKIE(0)), -EINVAL);
	assert_int_equal(netdev_tx(nd, short13, 2, NULL, COOKIE(0)), -EINVAL);
	assert_int_equal(netdev_tx(nd, &one13, 1, NULL, COOKIE(0)), -EINVAL);
	assert_int_equal(netdev_tx(nd, &big, 1, NULL, COOKIE(0)), -EINVAL);
	/* The checksum's field past the end of a 50-byte frame. */
	big.len = 50;
	assert_int_equal(netdev_tx(nd, &big, 1, &csum_out, COOKIE(0)), -EINVAL);
	assert_int_equal(netdev_tx(nd, &tso, 1, &tso_short_hdr, COOKIE(0)), -EINVAL);
	assert_int_equal(netdev_tx(nd, &tso_big, 1, &tso_ok, COOKIE(0)), -EINVAL);
	assert_int_equal(stats(nd).tx_invalid, 8);
	assert_int_equal(sim_logged("refused a"), 1);
	/* Malformed calls are drops, not invalid frames. */
	assert_int_equal(netdev_tx(nd, &ok, 0, NULL, COOKIE(0)), -EINVAL);
	for (int i = 0; i < 200; i++)
		many[i] = (struct netdev_seg){ f + i, 1 };
	assert_int_equal(netdev_tx(nd, many, (int)netdev_info(nd)->tx_max_segs + 1, NULL,
	    COOKIE(0)), -EINVAL);
	assert_int_equal(stats(nd).tx_drops, 2);
	assert_int_equal(stats(nd).tx_invalid, 8);
	assert_int_equal(sim.ntx, 0);
	assert_int_equal(sim.notifies[VIRTIO_NET_TXQ], 0);
	assert_int_equal(up.ntx_done, 0);

	/* What is valid goes out: 14 bytes, and a TSO frame with its header. */
	fill(f, 20000, 4);
	ok.len = 14;
	assert_int_equal(netdev_tx(nd, &ok, 1, NULL, COOKIE(0)), 0);
	assert_int_equal(netdev_tx(nd, &tso, 1, &tso_ok, COOKIE(1)), 0);
	assert_chain(0, f, 14, 2);
	assert_chain(1, f, 20000, 2);
	assert_int_equal(sim.tx[1]->hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(sim.tx[1]->hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(sim.tx[1]->hdr.gso_size, 1448);
	assert_int_equal(sim.tx[1]->hdr.hdr_len, 54);
	assert_int_equal(sim.tx[1]->hdr.csum_start, 34);
	assert_int_equal(sim.tx[1]->hdr.csum_offset, 16);
	assert_int_equal(stats(nd).tx_tso, 1);
	assert_int_equal(stats(nd).tx_invalid, 8);
	assert_int_equal(sim_logged("refused a"), 1);
	assert_no_device_error();
	sim_tx_complete(-1);
	sim_advance(20 * 1000 * 1000);
	assert_all_done(2);
}

/*
 * Issue 12's dead NIC: netdev_tx() built the frame's runs after v[0], the
 * header's slot, before filling it in, and merged the first run into
 * whatever v[0] held when the two met in memory; a one-piece frame then
 * became a header-only chain, which QEMU's user networking answers with
 * "virtio-net nothing to send" and a broken device.  Here v[0]'s stack
 * slot holds exactly such a descriptor before every call, for frames of
 * one and of several pieces.
 */
static void
tx_stale_header_slot(void **state)
{
	const uint64_t pa[2] = { SIM_PA_BASE + 0x5000, SIM_PA_BASE + 0x9000 };
	const uint64_t l = 0xc0000000ULL;
	static const uint32_t sizes[] = { 14, 54, 60, 1514 };
	struct netdev *nd = start(NULL);
	uint8_t *host = heap_window(2, pa), expect[2048];
	int k = 0;

	(void)state;
	fill(host, 2 * 4096, 5);
	for (int i = 0; i < 4; i++) {
		struct netdev_seg seg = { heap_va(0), sizes[i] };
		int rc;

		sim_paint_stack(pa[0] - l, l);
		rc = netdev_tx(nd, &seg, 1, NULL, COOKIE(k));
		assert_int_equal(rc, 0);
		assert_no_device_error();
		assert_chain(k++, host, sizes[i], 2);
	}
	/* Two pieces, the first where the stale descriptor ends. */
	struct netdev_seg two[2] = { { heap_va(4096), 40 }, { heap_va(200), 14 } };

	concat(expect, two, 2, heap_to_host);
	sim_paint_stack(pa[1] - l, l);
	assert_int_equal(netdev_tx(nd, two, 2, NULL, COOKIE(k)), 0);
	assert_no_device_error();
	assert_chain(k++, expect, 54, 3);
	sim_tx_complete(-1);
	sim_advance(20 * 1000 * 1000);
	assert_all_done(k);
}

/* A chain that could never fit the ring is refused, not left to wait. */
static void
tx_longer_than_ring(void **state)
{
	struct sim_config cfg = { .features = SIM_FEATURES_TAP, .vnet_hdr = 1, .queue_max = 8 };
	uint64_t pa[9];
	struct netdev_offload tso = { 34, 16, 1448, 54 };
	struct netdev *nd;
	uint8_t *host;
	struct netdev_seg segs[4];

	(void)state;
	for (int i = 0; i < 9; i++)		/* no two pages adjacent */
		pa[i] = SIM_PA_BASE + (uint64_t)(17 - 2 * i) * 4096;
	nd = start(&cfg);
	host = heap_window(9, pa);
	fill(host, 9 * 4096, 6);
	/* Ring of 8: at most 3 segments (two descriptors each, and the header). */
	assert_int_equal(netdev_info(nd)->tx_ring, 8);
	assert_int_equal(netdev_info(nd)->tx_max_segs, 3);
	for (int i = 0; i < 4; i++)
		segs[i] = (struct netdev_seg){ heap_va((uint64_t)i * 4096 + 10), 100 };
	assert_int_equal(netdev_tx(nd, segs, 4, NULL, COOKIE(0)), -EINVAL);
	/* One TSO segment over 8 scattered pages: 8 runs and the header,
	 * for the upper layer to copy into one piece (not a drop). */
	segs[0] = (struct netdev_seg){ heap_va(100), 7 * 4096 };
	assert_int_equal(netdev_tx(nd, segs, 1, &tso, COOKIE(0)), -EMSGSIZE);
	assert_int_equal(stats(nd).tx_drops, 1);
	assert_int_equal(sim.ntx, 0);
	/* Over 7 pages it is 7 runs: with the header, the whole ring. */
	segs[0] = (struct netdev_seg){ heap_va(4096 + 100), 6 * 4096 };
	assert_int_equal(netdev_tx(nd, segs, 1, &tso, COOKIE(0)), 0);
	assert_chain(0, host + 4096 + 100, 6 * 4096, 8);
	/* The ring is full now: the next waits for room. */
	segs[0] = (struct netdev_seg){ heap_va(100), 60 };
	assert_int_equal(netdev_tx(nd, segs, 1, NULL, COOKIE(1)), -EAGAIN);
	sim_tx_complete(-1);
	sim_loop();
	assert_int_equal(netdev_tx(nd, segs, 1, NULL, COOKIE(1)), 0);
	assert_chain(1, host + 100, 60, 2);
	assert_no_device_error();
	sim_tx_complete(-1);
	sim_advance(20 * 1000 * 1000);
	assert_all_done(2);
}

/*
 * The ring fills in the middle of a chain: a frame that needs more
 * descriptors than are free is refused whole (nothing of it reaches the
 * ring) and counted; an interrupt is asked for, and when the device returns
 * chains the loop reaps them and the frame fits.
 */
static void
tx_ring_full_mid_chain(void **state)
{
	struct sim_config cfg = { .queue_max = 16 };
	struct netdev *nd = start(&cfg);
	uint8_t *m = tmalloc(64 * 1024), expect[4096];
	struct netdev_seg three[3] = { { m + 40000, 54 }, { m + 45000, 500 }, { m + 50000, 500 } };
	struct netdev_seg one;
	uint32_t len3;
	uint64_t intr;
	int k = 0;

	(void)state;
	fill(m, 64 * 1024, 8);
	len3 = concat(expect, three, 3, NULL);
	/* A fresh ring interrupts at its first used chain (used_event 0). */
	one = (struct netdev_seg){ m, 60 };
	assert_int_equal(netdev_tx(nd, &one, 1, NULL, COOKIE(k++)), 0);
	sim_tx_complete(-1);
	sim_loop();
	assert_int_equal(up.tx_done[0], 1);
	intr = sim.interrupts[VIRTIO_NET_TXQ];

	/* 7 one-piece frames: 14 of 16 descriptors. */
	for (; k < 8; k++) {
		one = (struct netdev_seg){ m + k * 2048, 60 };
		assert_int_equal(netdev_tx(nd, &one, 1, NULL, COOKIE(k)), 0);
	}
	assert_int_equal(netdev_tx(nd, three, 3, NULL, COOKIE(k)), -EAGAIN);
	assert_int_equal(stats(nd).tx_ring_full, 1);
	assert_int_equal(sim.ntx, 8);
	/* Exactly two descriptors are still free: nothing was taken. */
	one = (struct netdev_seg){ m + 8 * 2048, 60 };
	assert_int_equal(netdev_tx(nd, &one, 1, NULL, COOKIE(k)), 0);
	k++;
	assert_int_equal(netdev_tx(nd, &one, 1, NULL, COOKIE(k)), -EAGAIN);
	assert_int_equal(stats(nd).tx_ring_full, 2);
	assert_int_equal(sim.interrupts[VIRTIO_NET_TXQ], intr);

	/* The device returns one chain: it interrupts, as the driver asked. */
	assert_int_equal(sim_tx_complete(1), 1);
	assert_int_equal(sim.interrupts[VIRTIO_NET_TXQ], intr + 1);
	sim_loop();
	assert_int_equal(up.tx_done[1], 1);
	assert_int_equal(up.ntx_done, 2);
	/* Two descriptors free, the frame needs four. */
	assert_int_equal(netdev_tx(nd, three, 3, NULL, COOKIE(k)), -EAGAIN);
	assert_int_equal(stats(nd).tx_ring_full, 3);
	/* A returned chain nobody reaped yet: netdev_tx() reaps it. */
	assert_int_equal(sim_tx_complete(1), 1);
	assert_int_equal(netdev_tx(nd, three, 3, NULL, COOKIE(k)), 0);
	assert_int_equal(up.tx_done[2], 1);
	assert_chain(9, expect, len3, 4);
	for (int i = 0; i < 9; i++)
		assert_chain(i, m + i * 2048, 60, 2);
	/* Once the ring has room, completions interrupt no more. */
	intr = sim.interrupts[VIRTIO_NET_TXQ];
	assert_int_equal(sim_tx_complete(1), 1);
	assert_int_equal(sim.interrupts[VIRTIO_NET_TXQ], intr);
	assert_no_device_error();
	sim_tx_complete(-1);
	sim_advance(20 * 1000 * 1000);
	assert_all_done(k + 1);
}

/* Completions without an interrupt are reaped by the source's deadline
 * (TX_REAP_NS, 5 ms, rounded up: at most 10 ms). */
static void
tx_reap_deadline(void **state)
{
	struct netdev *nd = start(NULL);
	uint8_t f[60];
	struct netdev_seg seg = { f, 60 };

	(void)state;
	fill(f, 60, 1);
	/* The first used chain interrupts (used_event starts at 0). */
	assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(0)), 0);
	sim_tx_complete(-1);
	sim_loop();
	assert_int_equal(up.tx_done[0], 1);
	assert_int_equal(sim.interrupts[VIRTIO_NET_TXQ], 1);

	assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(1)), 0);
	sim_tx_complete(-1);
	assert_int_equal(sim.interrupts[VIRTIO_NET_TXQ], 1);
	sim_loop();
	assert_int_equal(up.tx_done[1], 0);
	sim_advance(4 * 1000 * 1000);
	sim_advance(6 * 1000 * 1000);
	assert_all_done(2);
}

/*
 * A device that takes frames and never sends them, without breaking
 * (QEMU says nothing then): a second after the last progress the driver
 * notifies it again and counts a stall; if a second later it still sends
 * nothing, the driver resets it, and the frames it held come back.  A
 * device that sends after the nudge is left alone.
 */
static void
tx_stall(void **state)
{
	struct netdev *nd = start(NULL);
	uint8_t f[60];
	struct netdev_seg seg = { f, 60 };
	uint64_t notifies;

	(void)state;
	fill(f, 60, 2);
	assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(0)), 0);
	notifies = sim.notifies[VIRTIO_NET_TXQ];
	sim_advance(500ULL * 1000 * 1000);
	assert_int_equal(stats(nd).tx_stalls, 0);
	sim_advance(1000ULL * 1000 * 1000);
	assert_int_equal(stats(nd).tx_stalls, 1);
	assert_true(sim.notifies[VIRTIO_NET_TXQ] > notifies);
	assert_int_equal(sim_logged("notifying the device again"), 1);
	assert_int_equal(stats(nd).device_resets, 0);
	assert_int_equal(up.tx_done[0], 0);
	sim_advance(1000ULL * 1000 * 1000);
	assert_int_equal(stats(nd).device_resets, 1);
	assert_int_equal(sim_logged("sends no frames"), 1);
	assert_all_done(1);

	/* Sent after the nudge: no reset. */
	assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(1)), 0);
	sim_advance(1500ULL * 1000 * 1000);
	assert_int_equal(stats(nd).tx_stalls, 2);
	sim_tx_complete(-1);
	sim_advance(1000ULL * 1000 * 1000);
	assert_int_equal(stats(nd).device_resets, 1);
	assert_all_done(2);
}

/*
 * A device that sends everything, with a clock that moves while the
 * driver polls: reaping stamps the progress later than the time the poll
 * began with, and the look must not take that for a stall of 2^64 ns
 * (it did: a notification too many each time, and a reset when two
 * looks in a row saw it).
 */
static void
tx_busy_no_stall(void **state)
{
	struct netdev *nd = start(NULL);
	uint8_t f[60];
	struct netdev_seg seg = { f, 60 };

	(void)state;
	fill(f, 60, 3);
	sim.tick_per_read = 1000;
	for (int i = 0; i < 400; i++) {
		assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(i % 8)), 0);
		sim_tx_complete(-1);
		/* One more in flight when the next poll reaps. */
		assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE((i + 1) % 8)), 0);
		sim_advance(10ULL * 1000 * 1000);
		sim_tx_complete(-1);
		sim_loop();
	}
	sim.tick_per_read = 0;
	assert_int_equal(stats(nd).tx_stalls, 0);
	assert_int_equal(stats(nd).device_resets, 0);
}

/* Every buffer the upper layer lent and did not get back is on the
 * device's ring exactly once, and nothing else is. */
static void
assert_rx_buffers_on_ring(void)
{
	void *ring[NRXB];
	int seen[NRXB] = { 0 }, lent = 0, n = sim_rx_posted(ring, NRXB);

	assert_true(n <= NRXB);
	for (int i = 0; i < n; i++) {
		int found = -1;

		for (int j = 0; j < NRXB; j++)
			if (up.rxb[j].data == ring[i])
				found = j;
		assert_true(found >= 0);
		assert_int_equal(up.rxb[found].state, RXB_POSTED);
		assert_int_equal(seen[found]++, 0);
	}
	for (int j = 0; j < NRXB; j++)
		lent += up.rxb[j].state == RXB_POSTED;
	assert_int_equal(n, lent);
}

/*
 * Completions that arrive while the driver is busy: the device returns
 * transmit chains and fills receive buffers in the middle of
 * netdev_rx_refill() (between two rx_buf() calls), and returns each
 * transmit chain inside the notification that posted it (QEMU sending
 * at once).  Nothing is lost, nothing comes back twice.
 */
static void
refill_hook(int call)
{
	static const uint8_t frames[2][64] = { { 1, 2, 3 }, { 4, 5, 6 } };

	if (call == 2) {	/* before the third buffer */
		assert_int_equal(sim_tx_complete(-1), 5);
		assert_int_equal(sim_rx_deliver(frames[0], 64), 0);
		assert_int_equal(sim_rx_deliver(frames[1], 64), 0);
	}
}

static void
tx_completions_while_refilling(void **state)
{
	struct netdev *nd = start(NULL);
	uint8_t *m = tmalloc(64 * 1024), rxf[64];
	int k = 0;

	(void)state;
	fill(m, 64 * 1024, 2);
	/* The pool lends nothing more for now. */
	for (int i = 0; i < NRXB; i++)
		if (up.rxb[i].state == RXB_POOL)
			up.rxb[i].state = RXB_UP;
	/* Hand 10 frames up, hold 5 sent ones in the device. */
	for (int i = 0; i < 10; i++) {
		fill(rxf, 64, (unsigned)i);
		assert_int_equal(sim_rx_deliver(rxf, 64), 0);
	}
	for (; k < 5; k++) {
		struct netdev_seg seg = { m + k * 1024, 100 };

		assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(k)), 0);
	}
	sim_loop();
	assert_int_equal(up.nrx, 10);
	for (int i = 0; i < 10; i++) {
		fill(rxf, 64, (unsigned)i);
		assert_int_equal(up.rx_len[i], 64);
		assert_memory_equal(up.rx_frames[i], rxf, 64);
	}
	assert_int_equal(up.ntx_done, 0);
	/* The upper layer has its buffers back and refills the ring. */
	for (int i = 0; i < NRXB; i++)
		if (up.rxb[i].state == RXB_UP)
			up.rxb[i].state = RXB_POOL;
	up.rx_buf_calls = 0;
	up.rx_buf_hook = refill_hook;
	netdev_rx_refill(nd);
	up.rx_buf_hook = NULL;
	assert_int_equal(up.rx_buf_calls, 10);
	sim_loop();
	assert_all_done(5);
	assert_int_equal(up.nrx, 12);
	assert_int_equal(up.rx_frames[10][0], 1);
	assert_int_equal(up.rx_frames[11][0], 4);
	assert_rx_buffers_on_ring();
	assert_int_equal(sim_rx_posted(NULL, 0), 253);

	/* 3000 frames, each returned inside the kick that posted it: the
	 * ring wraps many times. */
	sim.tx_auto = 1;
	for (; k < 3005; k++) {
		struct netdev_seg seg = { m + (k % 60) * 1024, (uint32_t)(60 + k % 900) };

		assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(k)), 0);
		if (k % 97 == 0)
			sim_loop();
	}
	sim_advance(20 * 1000 * 1000);
	assert_all_done(3005);
	for (int i = 0; i < 3005; i++)
		assert_int_equal(up.tx_order[i], i);
	assert_chain(3004, m + (3004 % 60) * 1024, 60 + 3004 % 900, 2);
	assert_no_device_error();
}

/* ---- recovery ---------------------------------------------------------------- */

/*
 * Frames in every state when the device breaks: sent and returned but not
 * reaped, sent and held; received but not handed up.  Returns the number
 * of cookies used.
 */
static int
load_device(struct netdev *nd, uint8_t *m)
{
	uint8_t rxf[80];
	int k;

	for (k = 0; k < 6; k++) {
		struct netdev_seg seg = { m + k * 2048, 200 };

		assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(k)), 0);
	}
	assert_int_equal(sim_tx_complete(2), 2);
	for (int i = 0; i < 3; i++) {
		fill(rxf, 80, 50 + (unsigned)i);
		assert_int_equal(sim_rx_deliver(rxf, 80), 0);
	}
	return k;
}

/* After recovery: the device is live with the old features, and moves
 * frames both ways. */
static void
assert_works(struct netdev *nd, uint8_t *m, int cookie, uint64_t features)
{
	uint8_t rxf[100];
	struct netdev_seg seg = { m + 30000, 333 };
	int nrx = up.nrx, ntx = sim.ntx;

	assert_true(sim.status & VIRTIO_STATUS_DRIVER_OK);
	assert_false(sim.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(sim.driver_features, features);
	assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(cookie)), 0);
	assert_int_equal(sim.ntx, ntx + 1);
	assert_chain(ntx, m + 30000, 333, 2);
	fill(rxf, 100, 77);
	assert_int_equal(sim_rx_deliver(rxf, 100), 0);
	sim_loop();
	assert_int_equal(up.nrx, nrx + 1);
	assert_int_equal(up.rx_len[nrx], 100);
	assert_memory_equal(up.rx_frames[nrx], rxf, 100);
	sim_tx_complete(-1);
	sim_advance(20 * 1000 * 1000);
}

static void
recover_case(const struct sim_config *cfg, int interrupt)
{
	struct netdev *nd = start(cfg);
	uint8_t *m = tmalloc(64 * 1024);
	uint64_t features = sim.driver_features;
	int k;

	fill(m, 64 * 1024, 12);
	k = load_device(nd, m);
	/* What QEMU does on a chain it cannot use. */
	sim_break("virtio-net nothing to send");
	assert_int_equal(sim.cfg_interrupts, interrupt ? 1 : 0);
	sim_loop();
	if (!interrupt) {
		/* Unnoticed for now: what the device had done before it
		 * broke is reaped as usual... */
		assert_int_equal(stats(nd).device_resets, 0);
		assert_int_equal(up.ntx_done, 2);
		assert_int_equal(up.nrx, 3);
		/* ... and the next look at the status, within a second,
		 * finds it broken. */
		sim_advance(1000ULL * 1000 * 1000);
	}
	assert_int_equal(stats(nd).device_resets, 1);
	assert_int_equal(sim_logged("resetting the device"), 1);
	assert_int_equal(sim_logged("the device is back"), 1);
	assert_int_equal(sim.setup_irqs, 2);
	/* The chains it held, returned or not, came back once each; the
	 * frames it had received but not handed up are lost, their buffers
	 * on the new ring. */
	assert_all_done(k);
	assert_int_equal(up.nrx, interrupt ? 0 : 3);
	assert_rx_buffers_on_ring();
	assert_int_equal(sim_rx_posted(NULL, 0), 253);
	assert_works(nd, m, k, features);
	assert_all_done(k + 1);
	assert_rx_buffers_on_ring();
	assert_int_equal(stats(nd).device_resets, 1);
}

static void
recover_msix(void **state)
{
	(void)state;
	recover_case(NULL, 1);
}

static void
recover_mmio(void **state)
{
	struct sim_config cfg = { .mmio = 1 };

	(void)state;
	recover_case(&cfg, 1);
}

static void
recover_tap(void **state)
{
	struct sim_config cfg = { .features = SIM_FEATURES_TAP, .vnet_hdr = 1 };

	(void)state;
	recover_case(&cfg, 1);
}

/* MSI-X with no entry for configuration changes: the periodic look. */
static void
recover_without_interrupt(void **state)
{
	struct sim_config cfg = { .no_cfg_vector = 1 };

	(void)state;
	recover_case(&cfg, 0);
}

/* A device that was reset behind the driver's back (DRIVER_OK gone). */
static void
recover_lost_status(void **state)
{
	struct netdev *nd = start(NULL);
	uint8_t *m = tmalloc(64 * 1024);
	uint64_t features = sim.driver_features;
	int k;

	(void)state;
	fill(m, 64 * 1024, 13);
	k = load_device(nd, m);
	sim.vdev->ops->set_status(sim.vdev, 0);
	sim_advance(1000ULL * 1000 * 1000);
	assert_int_equal(stats(nd).device_resets, 1);
	assert_int_equal(sim_logged("lost its status"), 1);
	assert_all_done(k);
	assert_rx_buffers_on_ring();
	assert_works(nd, m, k, features);
}

/*
 * A reset that fails: the device is out of service (netdev_tx() says
 * -ENETDOWN, nothing is posted), the error is logged once, and each later
 * look tries again until one succeeds; then every cookie has come back
 * once and every buffer is on the ring once.  First a device that never
 * reads back 0 after a reset, then one that no longer offers a feature in
 * use (the reset worked, the set-up did not).
 */
static void
recover_fails_then_succeeds(void **state)
{
	struct netdev *nd = start(NULL);
	uint8_t *m = tmalloc(64 * 1024);
	uint64_t features = sim.driver_features;
	struct netdev_seg seg = { NULL, 100 };
	int k;

	(void)state;
	fill(m, 64 * 1024, 14);
	seg.data = m;
	k = load_device(nd, m);
	sim.reset_stuck = 1;
	sim_break("virtio-net header not in first element");
	sim_loop();
	assert_int_equal(stats(nd).device_resets, 1);
	assert_int_equal(sim_logged("the device is out of service"), 1);
	assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(k)), -ENETDOWN);
	assert_int_equal(stats(nd).tx_drops, 0);
	assert_int_equal(stats(nd).tx_invalid, 0);
	sim_advance(1000ULL * 1000 * 1000);
	assert_int_equal(stats(nd).device_resets, 2);
	assert_int_equal(sim_logged("the device is out of service"), 1);	/* once */
	assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(k)), -ENETDOWN);
	assert_int_equal(sim.ntx, 6);

	/* The reset works now, but a feature in use is gone. */
	sim.reset_stuck = 0;
	sim.cfg.features &= ~VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);
	sim_advance(1000ULL * 1000 * 1000);
	assert_int_equal(stats(nd).device_resets, 3);
	assert_all_done(k);		/* given back at the reset */
	assert_int_equal(netdev_tx(nd, &seg, 1, NULL, COOKIE(k)), -ENETDOWN);
	netdev_rx_refill(nd);		/* does nothing out of service */
	assert_int_equal(sim_rx_posted(NULL, 0), 0);
	sim_advance(1000ULL * 1000 * 1000);
	assert_int_equal(stats(nd).device_resets, 4);
	assert_int_equal(sim_logged("the device is back"), 0);

	sim.cfg.features |= VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);
	sim_advance(1000ULL * 1000 * 1000);
	assert_int_equal(stats(nd).device_resets, 5);
	assert_int_equal(sim_logged("the device is back"), 1);
	assert_all_done(k);
	assert_rx_buffers_on_ring();
	assert_int_equal(sim_rx_posted(NULL, 0), 253);
	assert_works(nd, m, k, features);
	assert_all_done(k + 1);
}

/* ---- link ------------------------------------------------------------------------ */

static void
link_case(const struct sim_config *cfg)
{
	struct netdev *nd = start(cfg);

	assert_int_equal(netdev_info(nd)->link_up, 1);
	sim_set_link(0);
	sim_loop();
	if (cfg != NULL && cfg->no_cfg_vector) {
		assert_int_equal(up.nlinks, 0);
		sim_advance(1000ULL * 1000 * 1000);
	}
	assert_int_equal(up.nlinks, 1);
	assert_int_equal(up.links[0], 0);
	assert_int_equal(netdev_info(nd)->link_up, 0);
	assert_int_equal(stats(nd).link_changes, 1);
	assert_int_equal(sim_logged("link down"), 1);
	/* A configuration interrupt that changes nothing. */
	sim_config_interrupt();
	sim_loop();
	assert_int_equal(up.nlinks, 1);
	sim_set_link(1);
	sim_advance(1000ULL * 1000 * 1000);
	assert_int_equal(up.nlinks, 2);
	assert_int_equal(up.links[1], 1);
	assert_int_equal(netdev_info(nd)->link_up, 1);
	assert_int_equal(stats(nd).link_changes, 2);
	assert_int_equal(stats(nd).device_resets, 0);
}

static void
link_msix(void **state)
{
	(void)state;
	link_case(NULL);
}

static void
link_mmio(void **state)
{
	struct sim_config cfg = { .mmio = 1 };

	(void)state;
	link_case(&cfg);
}

static void
link_without_interrupt(void **state)
{
	struct sim_config cfg = { .no_cfg_vector = 1 };

	(void)state;
	link_case(&cfg);
}

/* Without VIRTIO_NET_F_STATUS the link is up (5.1.4.2), whatever happens. */
static void
link_without_status(void **state)
{
	struct sim_config cfg = { .features = SIM_FEATURES_USER & ~VIRTIO_BIT(VIRTIO_NET_F_STATUS) };
	struct netdev *nd = start(&cfg);

	(void)state;
	sim.link = 0;
	sim_config_interrupt();
	sim_advance(1000ULL * 1000 * 1000);
	assert_int_equal(netdev_info(nd)->link_up, 1);
	assert_int_equal(up.nlinks, 0);
	assert_int_equal(stats(nd).link_changes, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(tx_one_piece, teardown),
		cmocka_unit_test_teardown(tx_pieces, teardown),
		cmocka_unit_test_teardown(tx_heap_pages, teardown),
		cmocka_unit_test_teardown(tx_invalid, teardown),
		cmocka_unit_test_teardown(tx_stale_header_slot, teardown),
		cmocka_unit_test_teardown(tx_longer_than_ring, teardown),
		cmocka_unit_test_teardown(tx_ring_full_mid_chain, teardown),
		cmocka_unit_test_teardown(tx_reap_deadline, teardown),
		cmocka_unit_test_teardown(tx_completions_while_refilling, teardown),
		cmocka_unit_test_teardown(tx_stall, teardown),
		cmocka_unit_test_teardown(tx_busy_no_stall, teardown),
		cmocka_unit_test_teardown(recover_msix, teardown),
		cmocka_unit_test_teardown(recover_mmio, teardown),
		cmocka_unit_test_teardown(recover_tap, teardown),
		cmocka_unit_test_teardown(recover_without_interrupt, teardown),
		cmocka_unit_test_teardown(recover_lost_status, teardown),
		cmocka_unit_test_teardown(recover_fails_then_succeeds, teardown),
		cmocka_unit_test_teardown(link_msix, teardown),
		cmocka_unit_test_teardown(link_mmio, teardown),
		cmocka_unit_test_teardown(link_without_interrupt, teardown),
		cmocka_unit_test_teardown(link_without_status, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
