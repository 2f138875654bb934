// unit-sources: net/netif/netdev_netif.c net/port/tcp_lookup.c net/port/ip6_guard.c net/port/sys_arch.c net/port/siphash.c net/port/tcp_syn.c net/port/pools.c net/port/heap.c drivers/virtio-net/virtio_net.c drivers/virtio/virtqueue.c drivers/netdev.c kernel/dma.c tests/unit/virtio_sim.c kernel/kprintf.c kernel/cmdline.c
// unit-include: tests/unit/host net/port/include net/netif deps/lwip/src/include drivers/include drivers/virtio drivers/virtio-net
// unit-deps: deps/lwip/src/core/*.c deps/lwip/src/core/ipv4/*.c deps/lwip/src/core/ipv6/*.c deps/lwip/src/netif/ethernet.c
/*
 * Host unit tests of the transmit path from lwIP down: lwIP's core (built
 * with the project's lwipopts.h), the netif (net/netif/netdev_netif.c) and
 * the driver (drivers/virtio-net/virtio_net.c), as in the guest, over the
 * simulated device of virtio_sim.c, which checks every chain as QEMU 7.2
 * with user networking does.
 *
 * The pbuf chains lwIP really makes reach linkoutput(): built by hand
 * ([PBUF_RAM headers][PBUF_REF data][zero-length pbuf][PBUF_ROM data], a
 * header-only PBUF_RAM, more pieces than the driver takes, heap pages that
 * are or are not physically contiguous) and made by lwIP itself (ARP,
 * UDP over a PBUF_REF, an ICMP echo reply, a TCP handshake, data written
 * without copying, a delayed ACK, a FIN, a RST).  Then
 * the netif's transmit FIFO while the ring is full, recovery of a broken
 * device under it, and link changes reaching lwIP.  Every frame the device
 * takes is checked: the header alone in the first element, the bytes of
 * the pbufs in order, valid IP, TCP, UDP and ICMP checksums.
 *
 * One netif per process (lwIP's and the netif's state are global): the
 * tests run in order on the same interface, each leaving it idle.
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

#include <lwip/etharp.h>
#include <lwip/init.h>
#include <lwip/ip4_addr.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/stats.h>
#include <lwip/tcp.h>
#include <lwip/timeouts.h>
#include <lwip/udp.h>
#include <netif/ethernet.h>

#include "../../net/port/pools.h"
#include "netdev_netif.h"
#include "net_bytes.h"
#include "virtio_sim.h"

#define HDR_LEN		sizeof(struct virtio_net_hdr)
#define MS		(1000 * 1000ULL)

static struct netif nif;

/* LWIP_HOOK_ND6_GET_GW's, from net/net.c, which is not under test. */
const ip6_addr_t *
net_ip6_next_hop(struct netif *n, const ip6_addr_t *dest)
{
	(void)n;
	(void)dest;
	return NULL;
}
static struct netdev *nd;
static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x05, 0x02 };
static const uint8_t guest_ip[4] = { 10, 0, 5, 3 }, peer_ip[4] = { 10, 0, 5, 2 };
static int checked;		/* sim.tx[] entries checked so far */

static struct netdev_stats
stats(void)
{
	struct netdev_stats s;

	netdev_stats(nd, &s);
	return s;
}

/* Time passes: the device's source and lwIP's timers run. */
static void
advance(uint64_t ns)
{
	sim_advance(ns);
	sys_check_timeouts();
	sim_loop();
}

/* ---- checksums and frames ------------------------------------------------- */

/* A frame's IPv4 packet is well formed and every checksum in it adds up. */
static void
check_ipv4(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + 14, *l4;
	uint32_t ihl, tot, pseudo;

	assert_true(len >= 34);
	ihl = (ip[0] & 0xf) * 4u;
	tot = get16(ip + 2);
	assert_int_equal(ip[0] >> 4, 4);
	assert_true(tot >= ihl && 14 + tot <= len);
	assert_int_equal(fold(sum16(ip, ihl, 0)), 0);
	l4 = ip + ihl;
	pseudo = sum16(ip + 12, 8, 0) + ip[9] + (tot - ihl);
	if (get16(ip + 6) & 0x3fff)
		return;				/* a fragment */
	if (ip[9] == 6 || (ip[9] == 17 && get16(l4 + 6) != 0))
		assert_int_equal(fold(sum16(l4, tot - ihl, pseudo)), 0);
	else if (ip[9] == 1)
		assert_int_equal(fold(sum16(l4, tot - ihl, 0)), 0);
}

/*
 * Every chain the device took since the last call: the virtio-net header
 * alone in a first, readable, 12-byte element, all zero (no offloads over
 * user networking); a frame of at least an Ethernet header from our MAC;
 * valid checksums.  The device itself refuses what QEMU refuses.
 */
static void
check_chains(void)
{
	if (sim.errors != 0)
		fail_msg("the device broke: %s", sim.error);
	for (; checked < sim.ntx; checked++) {
		const struct sim_chain *c = sim.tx[checked];

		assert_true(c->ndesc >= 2);
		assert_int_equal(c->desc[0].len, HDR_LEN);
		assert_memory_equal(&c->hdr, &(struct virtio_net_hdr){ 0 }, HDR_LEN);
		assert_true(c->len >= 14);
		assert_memory_equal(c->frame + 6, guest_mac, 6);
		if (get16(c->frame + 12) == 0x0800)
			check_ipv4(c->frame, c->len);
	}
}

/* Ethernet + IPv4 header from the peer to the guest; returns the L4 start. */
static uint8_t *
peer_ip_frame(uint8_t *f, uint8_t proto, uint16_t l4len)
{
	uint8_t *ip = f + 14;

	memcpy(f, guest_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len));
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, peer_ip, 4);
	memcpy(ip + 16, guest_ip, 4);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	return ip + 20;
}

/* The peer sends a TCP segment (with an MSS option when it is a SYN). */
static void
peer_tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    const void *data, uint16_t len)
{
	uint8_t f[1600];
	uint16_t hl = (flags & 0x02) ? 24 : 20;
	uint8_t *t = peer_ip_frame(f, 6, (uint16_t)(hl + len));

	memset(t, 0, hl);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)(hl / 4 << 4);
	t[13] = flags;
	put16(t + 14, 64000);
	if (hl == 24) {
		t[20] = 2;
		t[21] = 4;
		put16(t + 22, 1460);
	}
	if (len > 0)
		memcpy(t + hl, data, len);
	put16(t + 16, fold(sum16(t, hl + len, sum16(f + 26, 8, 0) + 6 + hl + len)));
	assert_int_equal(sim_rx_deliver(f, 14u + 20 + hl + len), 0);
}

/* Answer the guest's ARP requests for the peer among the new chains. */
static void
peer_answers_arp(int from)
{
	for (int i = from; i < sim.ntx; i++) {
		const uint8_t *q = sim.tx[i]->frame;
		uint8_t r[42];

		if (sim.tx[i]->len < 42 || get16(q + 12) != 0x0806 || get16(q + 20) != 1 ||
		    memcmp(q + 38, peer_ip, 4) != 0)
			continue;
		memcpy(r, guest_mac, 6);
		memcpy(r + 6, peer_mac, 6);
		put16(r + 12, 0x0806);
		put16(r + 14, 1);
		put16(r + 16, 0x0800);
		r[18] = 6;
		r[19] = 4;
		put16(r + 20, 2);
		memcpy(r + 22, peer_mac, 6);
		memcpy(r + 28, peer_ip, 4);
		memcpy(r + 32, guest_mac, 6);
		memcpy(r + 38, guest_ip, 4);
		assert_int_equal(sim_rx_deliver(r, 42), 0);
	}
}

/* The device sends everything it holds, and what the netif queued comes
 * and goes too; the loop reaps and drains. */
static void
settle(void)
{
	for (int i = 0; i < 20; i++) {
		sim_tx_complete(-1);
		advance(10 * MS);
	}
	assert_int_equal(sim.nheld, 0);
}

/* The next chain the device took that is IPv4 with protocol proto (0:
 * ARP), from index *from on; its index. */
static int
find_frame(int *from, int proto)
{
	for (; *from < sim.ntx; (*from)++) {
		const uint8_t *f = sim.tx[*from]->frame;

		if (proto == 0 ? get16(f + 12) == 0x0806
		    : get16(f + 12) == 0x0800 && f[23] == proto)
			return (*from)++;
	}
	fail_msg("no frame of protocol %d", proto);
	return -1;
}

/* ---- memory accounting -------------------------------------------------------- */

struct usage {
	mem_size_t	heap, pbufs, pool;
	uint32_t	rx_free;
};

static struct usage
usage(void)
{
	struct usage u = {
		.heap = lwip_stats.mem.used,
		.pbufs = lwip_stats.memp[MEMP_PBUF]->used,
		.pool = lwip_stats.memp[MEMP_PBUF_POOL]->used,
	};
	uint32_t total;

	netdev_netif_rx_buffers(&total, &u.rx_free);
	return u;
}

/* lwIP's heap, its pbuf pools and the receive pool are as they were:
 * nothing leaked, nothing freed twice (lwIP asserts on that). */
static void
assert_usage(struct usage before)
{
	struct usage now = usage();
	uint32_t total, nfree;
	void *posted[512];

	assert_int_equal(now.heap, before.heap);
	assert_int_equal(now.pbufs, before.pbufs);
	assert_int_equal(now.pool, before.pool);
	/* Every receive buffer is free or on the ring, once. */
	netdev_netif_rx_buffers(&total, &nfree);
	assert_int_equal(nfree + (uint32_t)sim_rx_posted(posted, 512), total);
}

/* ---- set up --------------------------------------------------------------------- */

static int
group_setup(void **state)
{
	ip4_addr_t ip, mask, gw;

	(void)state;
	sim_create(NULL);
	/* lwIP's heap and pools as the boot sizes them (the simulated
	 * machine has no free pages: the smallest). */
	assert_int_equal(net_pools_init(), 0);
	lwip_init();
	nd = sim_attach();
	assert_non_null(nd);
	IP4_ADDR(&ip, 10, 0, 5, 3);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 10, 0, 5, 1);
	/* Memory for a receive pool of about a thousand buffers, so that a
	 * burst of several rings' worth can wait in the backlog. */
	kernel_pmm.nfree = 3200;
	assert_non_null(netif_add(&nif, &ip, &mask, &gw,
	    &(struct netdev_netif_conf){ .dev = nd, .offloads = NETDEV_OFF_ALL },
	    netdev_netif_init, ethernet_input));
	netif_set_default(&nif);
	netif_set_up(&nif);		/* announces the address: a gratuitous ARP */
	assert_int_equal(sim.ntx, 1);
	settle();
	check_chains();
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	sim_destroy();
	return 0;
}

/* ---- pbuf chains by hand ----------------------------------------------------- */

static const uint8_t rom_data[300] = { 'r', 'o', 'm' };

/* A PBUF_RAM of len bytes, filled from seed. */
static struct pbuf *
ram(uint16_t len, unsigned seed)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, len, PBUF_RAM);

	assert_non_null(p);
	for (uint16_t i = 0; i < len; i++)
		((uint8_t *)p->payload)[i] = (uint8_t)(seed + i * 3);
	if (len >= 14) {
		memcpy(p->payload, peer_mac, 6);
		memcpy((uint8_t *)p->payload + 6, guest_mac, 6);
		put16((uint8_t *)p->payload + 12, 0x88b5);	/* local experimental */
	}
	return p;
}

static struct pbuf *
ref(const void *data, uint16_t len, pbuf_type type)
{
	struct pbuf *p = pbuf_alloc_reference((void *)(uintptr_t)data, len, type);

	assert_non_null(p);
	return p;
}

/* The bytes of chain p, read through to_host for memory the host cannot
 * read where lwIP points. */
static uint32_t
chain_bytes(struct pbuf *p, uint8_t *out, const void *(*to_host)(const void *))
{
	uint32_t n = 0;

	for (; p != NULL; p = p->next) {
		memcpy(out + n, to_host != NULL ? to_host(p->payload) : p->payload, p->len);
		n += p->len;
	}
	return n;
}

/* Send p as lwIP's Ethernet layer does (linkoutput, then its own
 * reference freed); the device must take it as expected, in ndesc
 * descriptors. */
static void
send_chain(struct pbuf *p, int ndesc, const void *(*to_host)(const void *))
{
	uint8_t expect[4096];
	uint32_t len = chain_bytes(p, expect, to_host);
	int i = sim.ntx;

	assert_int_equal(nif.linkoutput(&nif, p), ERR_OK);
	pbuf_free(p);
	assert_int_equal(sim.ntx, i + 1);
	assert_int_equal(sim.tx[i]->len, len);
	assert_memory_equal(sim.tx[i]->frame, expect, len);
	if (ndesc >= 0)
		assert_int_equal(sim.tx[i]->ndesc, ndesc);
	check_chains();
}

static void
hand_made_chains(void **state)
{
	struct usage before = usage();
	uint8_t *data = malloc(8192);
	struct pbuf *p, *q;
	uint64_t copied = stats().bytes_copied;

	(void)state;
	assert_non_null(data);
	for (int i = 0; i < 8192; i++)
		data[i] = (uint8_t)(i * 5 + 1);
	/* [PBUF_RAM headers][PBUF_REF data][zero-length][PBUF_ROM data] */
	p = ram(54, 1);
	pbuf_cat(p, ref(data + 100, 500, PBUF_REF));
	pbuf_cat(p, ref(data + 4000, 0, PBUF_REF));
	pbuf_cat(p, ref(rom_data, sizeof(rom_data), PBUF_ROM));
	send_chain(p, 4, NULL);
	/* Header-only PBUF_RAM: an ACK, a RST. */
	send_chain(ram(54, 2), 2, NULL);
	send_chain(ram(60, 3), 2, NULL);
	/* Zero-length pbufs first and last. */
	p = ref(data, 0, PBUF_REF);
	pbuf_cat(p, ram(60, 4));
	pbuf_cat(p, ref(data, 0, PBUF_ROM));
	send_chain(p, 2, NULL);
	/* A chain as the driver takes it at most: 64 pieces ... */
	p = ram(14, 5);
	for (int i = 0; i < 63; i++)
		pbuf_cat(p, ref(data + 100 * i, 20, PBUF_REF));
	send_chain(p, 65, NULL);
	assert_int_equal(stats().bytes_copied, copied);
	/* ... and one more: flattened into one PBUF_RAM, and counted. */
	p = ram(14, 6);
	for (int i = 0; i < 64; i++)
		pbuf_cat(p, ref(data + 100 * i, 20, PBUF_REF));
	q = p;
	pbuf_ref(q);
	send_chain(p, 2, NULL);
	assert_int_equal(q->ref, 1);		/* the copy went, not the chain */
	pbuf_free(q);
	assert_int_equal(stats().bytes_copied, copied + 14 + 64 * 20);
	/* The device holds them all until it sends them. */
	assert_int_equal(stats().tx_invalid, 0);
	settle();
	check_chains();
	assert_usage(before);
	free(data);
}

/* "Heap" memory (newlib's, at HEAP_BASE) where the host cannot read it:
 * pages at HEAP_WIN whose bytes are in heap_host. */
#define HEAP_WIN	(HEAP_BASE + 0x200000ULL)
static uint8_t *heap_host;

static const void *
heap_to_host(const void *va)
{
	uint64_t v = (uint64_t)(uintptr_t)va;

	return v >= HEAP_WIN && v < HEAP_WIN + 4 * 4096 ? heap_host + (v - HEAP_WIN) : va;
}

/*
 * PBUF_REF data in the heap (a service's malloc()ed buffer): the netif
 * splits it at page boundaries and gives the driver physical addresses;
 * the device gets one descriptor per physically contiguous run.
 */
static void
heap_chains(void **state)
{
	const uint64_t pa[4] = { SIM_PA_BASE + 0x40000, SIM_PA_BASE + 0x30000,
	    SIM_PA_BASE + 0x31000, SIM_PA_BASE + 0x50000 };
	struct usage before = usage();
	struct pbuf *p;
	const struct sim_chain *c;

	(void)state;
	heap_host = aligned_alloc(4096, 4 * 4096);
	assert_non_null(heap_host);
	for (int i = 0; i < 4 * 4096; i++)
		heap_host[i] = (uint8_t)(i * 11 + i / 4096);
	/* The one-piece frame's Ethernet header. */
	memcpy(heap_host + 3 * 4096 - 20, peer_mac, 6);
	memcpy(heap_host + 3 * 4096 - 14, guest_mac, 6);
	sim_map(HEAP_WIN, heap_host, 4, pa);
	/* Pages 0 | 1: apart. */
	p = ram(54, 7);
	pbuf_cat(p, ref((void *)(uintptr_t)(HEAP_WIN + 4096 - 300), 1000, PBUF_REF));
	send_chain(p, 4, heap_to_host);
	c = sim.tx[sim.ntx - 1];
	assert_int_equal(c->desc[2].addr, pa[0] + 4096 - 300);
	assert_int_equal(c->desc[2].len, 300);
	assert_int_equal(c->desc[3].addr, pa[1]);
	assert_int_equal(c->desc[3].len, 700);
	/* Pages 1 | 2: contiguous, one run. */
	p = ram(54, 8);
	pbuf_cat(p, ref((void *)(uintptr_t)(HEAP_WIN + 2 * 4096 - 700), 1400, PBUF_REF));
	send_chain(p, 3, heap_to_host);
	c = sim.tx[sim.ntx - 1];
	assert_int_equal(c->desc[2].addr, pa[1] + 4096 - 700);
	assert_int_equal(c->desc[2].len, 1400);
	/* A one-piece frame in the heap, in pages 2 | 3. */
	send_chain(ref((void *)(uintptr_t)(HEAP_WIN + 3 * 4096 - 20), 60, PBUF_REF), 3,
	    heap_to_host);
	settle();
	check_chains();
	assert_usage(before);
	free(heap_host);
}

/*
 * Issue 12's dead NIC through the netif: a one-piece frame (lwIP's ACKs
 * and RSTs are one PBUF_RAM; here a PBUF_REF in the heap, whose device
 * address the test chooses) sent while the driver's stack slot for the
 * header holds a descriptor that ends where the frame begins.  Before
 * 4f8acf1 the device got the header alone and broke.
 */
static void
stale_header_slot(void **state)
{
	const uint64_t pa[1] = { SIM_PA_BASE + 0x7000 };
	const uint64_t l = 0xc0000000ULL;
	struct usage before = usage();
	uint8_t *host = aligned_alloc(4096, 4096);

	(void)state;
	assert_non_null(host);
	memset(host, 0x3c, 4096);
	memcpy(host, peer_mac, 6);
	memcpy(host + 6, guest_mac, 6);
	sim_map(HEAP_WIN + 8 * 4096, host, 1, pa);
	for (uint16_t len = 14; len <= 1514; len = (uint16_t)(len * 3)) {
		struct pbuf *p = ref((void *)(uintptr_t)(HEAP_WIN + 8 * 4096), len, PBUF_REF);
		int i = sim.ntx;

		sim_paint_stack(pa[0] - l, l);
		assert_int_equal(nif.linkoutput(&nif, p), ERR_OK);
		pbuf_free(p);
		check_chains();
		assert_int_equal(sim.ntx, i + 1);
		assert_int_equal(sim.tx[i]->ndesc, 2);
		assert_int_equal(sim.tx[i]->len, len);
		assert_memory_equal(sim.tx[i]->frame, host, len);
	}
	settle();
	assert_usage(before);
	free(host);
}

/* ---- frames lwIP makes ------------------------------------------------------------ */

static struct tcp_pcb *server_pcb;
static int server_got;
static const char reply_head[] = "HTTP/1.0 200 OK\r\n";
static uint8_t reply_body[1000];

static err_t
server_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)err;
	if (p == NULL) {
		tcp_close(pcb);
		return ERR_OK;
	}
	server_got += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	/* "GET" answers without copying: [headers][ROM][ROM] segments. */
	if (p->tot_len >= 3 && memcmp(p->payload, "GET", 3) == 0) {
		assert_int_equal(tcp_write(pcb, reply_head, sizeof(reply_head) - 1, 0), ERR_OK);
		assert_int_equal(tcp_write(pcb, reply_body, sizeof(reply_body), 0), ERR_OK);
		assert_int_equal(tcp_output(pcb), ERR_OK);
	}
	pbuf_free(p);
	return ERR_OK;
}

static err_t
server_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	(void)err;
	server_pcb = pcb;
	tcp_recv(pcb, server_recv);
	return ERR_OK;
}

/*
 * The frames lwIP builds itself: an ARP request (one PBUF_RAM), UDP over
 * a PBUF_REF (a PBUF_RAM of headers in front), an ICMP echo reply made
 * in the receive buffer the request came in, a SYN-ACK, a delayed ACK
 * (header-only PBUF_RAM), a reply written without copying ([PBUF_RAM
 * headers][PBUF_ROM][PBUF_ROM]), the FIN, and a RST for a closed port.
 */
static void
lwip_frames(void **state)
{
	struct usage before;
	struct udp_pcb *u = udp_new();
	struct tcp_pcb *l = tcp_new();
	static uint8_t udp_data[700];
	ip_addr_t peer;
	struct pbuf *p;
	uint8_t f[200];
	int at = sim.ntx, i;
	uint32_t isn, seq = 5000;
	const uint8_t *t;

	(void)state;
	IP_ADDR4(&peer, 10, 0, 5, 2);
	for (i = 0; i < (int)sizeof(udp_data); i++)
		udp_data[i] = (uint8_t)(i ^ 0x5a);
	for (i = 0; i < (int)sizeof(reply_body); i++)
		reply_body[i] = (uint8_t)('a' + i % 26);
	before = usage();

	/* UDP to a peer lwIP does not know yet: an ARP request first. */
	assert_non_null(u);
	p = ref(udp_data, sizeof(udp_data), PBUF_REF);
	assert_int_equal(udp_sendto(u, p, &peer, 9), ERR_OK);
	pbuf_free(p);
	i = find_frame(&at, 0);
	assert_int_equal(sim.tx[i]->len, 42);
	assert_int_equal(sim.tx[i]->ndesc, 2);
	peer_answers_arp(i);
	sim_loop();
	/* lwIP copied the datagram it queued for ARP (PBUF_REF data may
	 * change meanwhile) into one PBUF_RAM. */
	i = find_frame(&at, 17);
	assert_int_equal(sim.tx[i]->len, 42 + sizeof(udp_data));
	assert_int_equal(sim.tx[i]->ndesc, 2);
	assert_memory_equal(sim.tx[i]->frame + 42, udp_data, sizeof(udp_data));
	/* The next goes as lwIP made it: a PBUF_RAM of headers in front of
	 * the PBUF_REF. */
	p = ref(udp_data, sizeof(udp_data), PBUF_REF);
	assert_int_equal(udp_sendto(u, p, &peer, 9), ERR_OK);
	pbuf_free(p);
	i = find_frame(&at, 17);
	assert_int_equal(sim.tx[i]->len, 42 + sizeof(udp_data));
	assert_int_equal(sim.tx[i]->ndesc, 3);
	assert_memory_equal(sim.tx[i]->frame + 42, udp_data, sizeof(udp_data));
	check_chains();

	/* Ping: lwIP answers in a PBUF_RAM copy of the request (it cannot
	 * put headers in front of the receive buffer's PBUF_REF), one piece. */
	{
		uint8_t *icmp = peer_ip_frame(f, 1, 8 + 56);

		memset(icmp, 0, 8 + 56);
		icmp[0] = 8;
		put16(icmp + 4, 0x1234);
		put16(icmp + 6, 1);
		for (int k = 0; k < 56; k++)
			icmp[8 + k] = (uint8_t)k;
		put16(icmp + 2, fold(sum16(icmp, 64, 0)));
		assert_int_equal(sim_rx_deliver(f, 14 + 20 + 64), 0);
		sim_loop();
		i = find_frame(&at, 1);
		assert_int_equal(sim.tx[i]->ndesc, 2);
		assert_int_equal(sim.tx[i]->frame[34], 0);	/* echo reply */
		assert_memory_equal(sim.tx[i]->frame + 42, icmp + 8, 56);
	}
	check_chains();

	/* TCP: a listener, a handshake, a request, a reply without copying. */
	assert_non_null(l);
	assert_int_equal(tcp_bind(l, IP_ADDR_ANY, 80), ERR_OK);
	l = tcp_listen(l);
	assert_non_null(l);
	tcp_accept(l, server_accept);
	peer_tcp(40000, 80, seq, 0, 0x02, NULL, 0);
	sim_loop();
	i = find_frame(&at, 6);
	t = sim.tx[i]->frame + 34;
	assert_int_equal(t[13], 0x12);				/* SYN-ACK */
	assert_int_equal(sim.tx[i]->ndesc, 2);
	isn = get32(t + 4);
	assert_int_equal(get32(t + 8), seq + 1);
	seq++;
	peer_tcp(40000, 80, seq, isn + 1, 0x10, NULL, 0);
	sim_loop();
	assert_non_null(server_pcb);
	/* Data with no answer: a delayed ACK, headers only. */
	peer_tcp(40000, 80, seq, isn + 1, 0x18, "hello", 5);
	seq += 5;
	sim_loop();
	assert_int_equal(server_got, 5);
	advance(300 * MS);
	i = find_frame(&at, 6);
	t = sim.tx[i]->frame + 34;
	assert_int_equal(sim.tx[i]->len, 54);
	assert_int_equal(sim.tx[i]->ndesc, 2);
	assert_int_equal(t[13], 0x10);
	assert_int_equal(get32(t + 8), seq);
	/* A request: the reply is [headers][ROM "HTTP..."][ROM body]. */
	peer_tcp(40000, 80, seq, isn + 1, 0x18, "GET /", 5);
	seq += 5;
	sim_loop();
	i = find_frame(&at, 6);
	t = sim.tx[i]->frame + 34;
	assert_int_equal(sim.tx[i]->len, 54 + sizeof(reply_head) - 1 + sizeof(reply_body));
	assert_int_equal(sim.tx[i]->ndesc, 4);
	assert_int_equal(get32(t + 4), isn + 1);
	assert_int_equal(get32(t + 8), seq);
	assert_memory_equal(t + 20, reply_head, sizeof(reply_head) - 1);
	assert_memory_equal(t + 20 + sizeof(reply_head) - 1, reply_body, sizeof(reply_body));
	check_chains();
	/* The peer acknowledges and closes; lwIP closes too. */
	peer_tcp(40000, 80, seq, isn + 1 + (uint32_t)(sizeof(reply_head) - 1 + sizeof(reply_body)),
	    0x11, NULL, 0);
	seq++;
	sim_loop();
	do {
		i = find_frame(&at, 6);
		t = sim.tx[i]->frame + 34;
	} while (!(t[13] & 0x01));				/* the FIN */
	peer_tcp(40000, 80, seq, get32(t + 4) + 1, 0x10, NULL, 0);
	sim_loop();
	/* A SYN to a closed port: a RST, headers only. */
	peer_tcp(40001, 81, 7000, 0, 0x02, NULL, 0);
	sim_loop();
	i = find_frame(&at, 6);
	t = sim.tx[i]->frame + 34;
	assert_true(t[13] & 0x04);
	assert_int_equal(sim.tx[i]->len, 54);
	assert_int_equal(sim.tx[i]->ndesc, 2);
	check_chains();

	tcp_close(l);
	udp_remove(u);
	settle();
	/* TIME_WAIT is over after 2 * TCP_MSL. */
	for (i = 0; i < 12; i++)
		advance(250 * MS);
	settle();
	check_chains();
	assert_int_equal(stats().tx_invalid, 0);
	assert_int_equal(stats().tx_drops, 0);
	assert_usage(before);
}

/* ---- the transmit FIFO ---------------------------------------------------------- */

/* A numbered frame of the FIFO tests. */
static struct pbuf *
numbered(uint32_t n)
{
	struct pbuf *p = ram(60, (unsigned)n);

	put32((uint8_t *)p->payload + 14, n);
	return p;
}

static uint32_t
number_of(int i)
{
	return get32(sim.tx[i]->frame + 14);
}

/* Complete one held chain at every notify: completions that arrive while
 * the netif refills the ring from its FIFO. */
static void
complete_one(unsigned idx)
{
	if (idx == VIRTIO_NET_TXQ)
		sim_tx_complete(1);
}

/*
 * The ring fills (the device holds what it took): frames wait, by
 * reference, in the netif's FIFO (NET_TX_QUEUE slots for each TCP segment
 * lwIP can have, net/port/pools.c); one more is dropped and
 * counted.  As the device returns chains the FIFO drains, in order, each
 * frame once; completions also come in the middle of the drain.
 */
static void
tx_fifo(void **state)
{
	struct usage before = usage();
	uint64_t drops = stats().tx_drops, full = stats().tx_ring_full;
	uint32_t ring_frames = netdev_info(nd)->tx_ring / 2, n;
	uint32_t total = ring_frames + NET_TX_QUEUE * net_tcp_seg_capacity();
	int first = sim.ntx;

	(void)state;
	for (n = 0; n < total; n++) {
		struct pbuf *p = numbered(n);

		assert_int_equal(nif.linkoutput(&nif, p), ERR_OK);
		pbuf_free(p);
	}
	assert_int_equal(sim.ntx - first, (int)ring_frames);
	assert_true(stats().tx_ring_full > full);
	assert_int_equal(stats().tx_drops, drops);
	/* The FIFO is full too: the next frame is dropped and counted. */
	{
		struct pbuf *p = numbered(n);

		assert_int_equal(nif.linkoutput(&nif, p), ERR_MEM);
		pbuf_free(p);
	}
	assert_int_equal(stats().tx_drops, drops + 1);

	/* A few completions; the netif sends as many from its FIFO. */
	assert_int_equal(sim_tx_complete(10), 10);
	sim_loop();
	assert_int_equal(sim.ntx - first, (int)ring_frames + 10);
	/* Then the device completes one chain at every notify. */
	sim.on_notify = complete_one;
	for (int round = 0; round < 100 && sim.ntx - first < (int)total; round++) {
		sim_tx_complete(5);
		advance(10 * MS);
	}
	sim.on_notify = NULL;
	settle();
	assert_int_equal(sim.ntx - first, (int)total);
	for (uint32_t k = 0; k < total; k++)
		assert_int_equal(number_of(first + (int)k), k);
	assert_int_equal(stats().tx_drops, drops + 1);
	check_chains();
	assert_usage(before);
}

/* ---- recovery ----------------------------------------------------------------------- */

/*
 * The device breaks with the ring full and frames waiting in the FIFO:
 * the chains it held are released once each (their pbufs freed), and the
 * FIFO drains, in order, onto the new ring.
 */
static void
recover_under_fifo(void **state)
{
	struct usage before = usage();
	uint32_t ring_frames = netdev_info(nd)->tx_ring / 2, n;
	int first = sim.ntx;
	uint64_t resets = stats().device_resets;

	(void)state;
	for (n = 0; n < ring_frames + 50; n++) {
		struct pbuf *p = numbered(n);

		assert_int_equal(nif.linkoutput(&nif, p), ERR_OK);
		pbuf_free(p);
	}
	assert_int_equal(sim.ntx - first, (int)ring_frames);
	sim_break("virtio-net nothing to send");
	sim_loop();
	assert_int_equal(stats().device_resets, resets + 1);
	/* The 50 waiting frames went onto the new ring, in order. */
	assert_int_equal(sim.ntx - first, (int)ring_frames + 50);
	for (uint32_t k = 0; k < ring_frames; k++)
		assert_int_equal(sim.tx[first + (int)k]->completed, -1);	/* lost */
	for (uint32_t k = 0; k < 50; k++)
		assert_int_equal(number_of(first + (int)(ring_frames + k)), ring_frames + k);
	settle();
	check_chains();
	assert_usage(before);
	/* The link and the address stay: lwIP sends as before. */
	assert_true(netif_is_link_up(&nif));
	assert_true(netif_is_up(&nif));
}

/*
 * A reset that fails: the device is out of service, so the netif drops
 * what it sends (and what waits in its FIFO), freeing each pbuf once;
 * when a later look at the device succeeds, frames go out again.
 */
static void
out_of_service(void **state)
{
	struct usage before = usage();
	uint32_t ring_frames = netdev_info(nd)->tx_ring / 2, n;
	int first = sim.ntx;
	struct pbuf *p;

	(void)state;
	for (n = 0; n < ring_frames + 20; n++) {
		p = numbered(n);
		assert_int_equal(nif.linkoutput(&nif, p), ERR_OK);
		pbuf_free(p);
	}
	sim.reset_stuck = 1;
	sim_break("virtio-net header not in first element");
	sim_loop();
	p = numbered(n);
	assert_int_equal(nif.linkoutput(&nif, p), ERR_IF);
	pbuf_free(p);
	assert_int_equal(sim.ntx - first, (int)ring_frames);
	sim.reset_stuck = 0;
	advance(1000 * MS);
	assert_true(sim.status & VIRTIO_STATUS_DRIVER_OK);
	p = numbered(n + 1);
	assert_int_equal(nif.linkoutput(&nif, p), ERR_OK);
	pbuf_free(p);
	assert_int_equal(number_of(sim.ntx - 1), n + 1);
	settle();
	check_chains();
	assert_usage(before);
}

/* ---- the link ------------------------------------------------------------------------ */

/* The link goes down (lwIP routes nothing) and comes back (lwIP announces
 * the address with a gratuitous ARP). */
static void
link_changes(void **state)
{
	struct udp_pcb *u = udp_new();
	ip_addr_t peer;
	struct pbuf *p;
	int at;

	(void)state;
	IP_ADDR4(&peer, 10, 0, 5, 2);
	sim_set_link(0);
	sim_loop();
	assert_false(netif_is_link_up(&nif));
	p = ref(reply_body, 10, PBUF_REF);
	assert_int_equal(udp_sendto(u, p, &peer, 9), ERR_RTE);
	pbuf_free(p);
	at = sim.ntx;
	sim_set_link(1);
	sim_loop();
	assert_true(netif_is_link_up(&nif));
	at = find_frame(&at, 0);
	/* A request for our own address, from it. */
	assert_int_equal(get16(sim.tx[at]->frame + 20), 1);
	assert_memory_equal(sim.tx[at]->frame + 28, guest_ip, 4);
	assert_memory_equal(sim.tx[at]->frame + 38, guest_ip, 4);
	assert_int_equal(stats().link_changes, 2);
	p = ref(reply_body, 10, PBUF_REF);
	assert_int_equal(udp_sendto(u, p, &peer, 9), ERR_OK);
	pbuf_free(p);
	udp_remove(u);
	settle();
	check_chains();
}

/* The peer sends a UDP datagram to port 7000 holding seq. */
static int
peer_udp(uint32_t seq)
{
	uint8_t f[64];
	uint8_t *u = peer_ip_frame(f, 17, 8 + 4);

	put16(u, 40000);
	put16(u + 2, 7000);
	put16(u + 4, 8 + 4);
	put16(u + 6, 0);		/* no checksum (IPv4 allows it) */
	put32(u + 8, seq);
	return sim_rx_deliver(f, 14 + 20 + 8 + 4);
}

static uint32_t burst_got, burst_next;
static int burst_in_order = 1;

static void
burst_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	uint8_t b[4];

	(void)arg; (void)pcb; (void)addr; (void)port;
	pbuf_copy_partial(p, b, 4, 0);
	if (get32(b) != burst_next)
		burst_in_order = 0;
	burst_next++;
	burst_got++;
	pbuf_free(p);
}

/*
 * A burst longer than the ring: the driver takes frames off the ring and
 * refills it before lwIP handles any (they wait in the netif's backlog,
 * zero copy), so the device never runs out of buffers while lwIP is busy;
 * then lwIP gets every frame, in order.
 */
static void
rx_burst_backlog(void **state)
{
	struct udp_pcb *u = udp_new();
	struct usage before = usage();
	void *posted[1024];
	uint32_t seq = 0, ring;

	(void)state;
	assert_int_equal(udp_bind(u, IP_ANY_TYPE, 7000), ERR_OK);
	udp_recv(u, burst_recv, NULL);
	burst_got = burst_next = 0;
	ring = (uint32_t)sim_rx_posted(posted, 1024);
	assert_true(ring >= 128);
	for (int round = 0; round < 3; round++) {
		uint32_t n = 0;

		while (peer_udp(seq) == 0)	/* until the ring is empty */
			seq++, n++;
		assert_int_equal(n, ring);
		/* The driver's turns alone: every frame off the ring, the
		 * ring full again, nothing handed to lwIP yet. */
		for (int i = 0; i < 64 && (uint32_t)sim_rx_posted(posted, 1024) < ring; i++)
			sim_poll();
		assert_int_equal(sim_rx_posted(posted, 1024), ring);
		assert_int_equal(burst_got, 0);
	}
	sim_loop();
	assert_int_equal(burst_got, 3 * ring);
	assert_true(burst_in_order);
	udp_remove(u);
	settle();
	assert_usage(before);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hand_made_chains),
		cmocka_unit_test(heap_chains),
		cmocka_unit_test(stale_header_slot),
		cmocka_unit_test(lwip_frames),
		cmocka_unit_test(tx_fifo),
		cmocka_unit_test(recover_under_fifo),
		cmocka_unit_test(out_of_service),
		cmocka_unit_test(link_changes),
		cmocka_unit_test(rx_burst_backlog),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
