// unit-sources: net/port/tcp_lookup.c net/port/ip6_guard.c net/port/tcp_syn.c net/port/pools.c net/port/heap.c net/port/sys_arch.c net/port/siphash.c net/netif/netdev_netif.c drivers/virtio-net/virtio_net.c drivers/virtio/virtqueue.c drivers/netdev.c kernel/dma.c tests/unit/virtio_sim.c kernel/kprintf.c kernel/cmdline.c
// unit-include: tests/unit/host net/port/include net/netif deps/lwip/src/include drivers/include drivers/virtio drivers/virtio-net
// unit-deps: deps/lwip/src/core/*.c deps/lwip/src/core/ipv4/*.c deps/lwip/src/core/ipv6/*.c deps/lwip/src/netif/ethernet.c
/*
 * Host unit tests of net/port/tcp_lookup.c, the index that lets a SYN for
 * a new connection skip lwIP's walk over every connection: lwIP's core as
 * in the guest (the project's lwipopts.h and hooks), on an interface that
 * hands IP packets straight to ip4_input() or ip6_input() and keeps what
 * lwIP sends.  Every test runs over IPv4 and again over IPv6 (the same
 * ports, peers fd00:5::/64), and one mixes the two: a peer's IPv4 and
 * IPv6 connections with the same ports are different connections.
 *
 * What must hold: a SYN makes exactly one connection, however it comes
 * (whole, in fragments, again as a retransmission, after others were
 * freed from the index around it, when the pool is full and tcp_syn.c
 * drops a half-open one); lwIP's lists stay whole, with every PCB in use
 * on them once; a SYN to a port nobody listens on still gets its reset.
 * A segment for a connection finds it at the head of the active list,
 * moved there from the index's record of the one before it, in turns
 * and in random order, with connections closed in the middle of the list
 * in between; only a record that a close made stale takes a walk.
 * The pool is the smallest (MEMP_NUM_TCP_PCB; the simulated machine has
 * no free pages) and the index has twice as many slots, so runs of
 * colliding entries are the rule, which the removals must keep whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <lwip/init.h>
#include <lwip/ip4.h>
#include <lwip/ip4_addr.h>
#include <lwip/ip6.h>
#include <lwip/ip6_addr.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/stats.h>
#include <lwip/tcp.h>
#include <lwip/timeouts.h>

#include "../../net/port/pools.h"
#include "lwip_hooks.h"
#include "net_bytes.h"
#include "virtio_sim.h"

#define PORT		80
#define CLOSED_PORT	81

static struct netif nif;
static struct tcp_pcb *listener;
static int sent_synacks, sent_rsts;
static int v6;			/* the packets the helpers below make: IPv6 */

/* LWIP_HOOK_ND6_GET_GW's, from net/net.c, which is not under test. */
const ip6_addr_t *
net_ip6_next_hop(struct netif *n, const ip6_addr_t *dest)
{
	(void)n;
	(void)dest;
	return NULL;
}

/* ---- packets ----------------------------------------------------------------- */

/* Peer k: address 10.0.5.(2 + k / 200), or fd00:5::(2 + k / 200) over
 * IPv6; port 40000 + k. */
static uint32_t
peer_addr(unsigned k)
{
	return 10u << 24 | 5u << 8 | (2 + k / 200);
}

static const uint8_t guest6[16] = { 0xfd, 0x00, 0x00, 0x05, [15] = 3 };

static void
peer_addr6(unsigned k, uint8_t a[16])
{
	memcpy(a, guest6, 16);
	put16(a + 14, (uint16_t)(2 + k / 200));
}

/* Peer k's address in the current family, as lwIP holds it. */
static ip_addr_t
peer_ip(unsigned k)
{
	ip_addr_t a;

	if (v6) {
		uint8_t b[16];

		peer_addr6(k, b);
		IP_SET_TYPE_VAL(a, IPADDR_TYPE_V6);
		memcpy(ip_2_ip6(&a)->addr, b, 16);
	} else {
		IP_SET_TYPE_VAL(a, IPADDR_TYPE_V4);
		ip4_addr_set_u32(ip_2_ip4(&a), lwip_htonl(peer_addr(k)));
	}
	return a;
}

static uint16_t
peer_port(unsigned k)
{
	return (uint16_t)(40000 + k);
}

/* The IPv6 version of deliver(): a fragment header when off or mf. */
static void
deliver6(const uint8_t *l4, uint16_t l4len, unsigned k, uint16_t off, int mf)
{
	uint16_t fh = off || mf ? 8 : 0;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(40 + fh + l4len), PBUF_RAM);
	uint8_t *ip;

	assert_non_null(p);
	ip = p->payload;
	memset(ip, 0, 40 + fh);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(fh + l4len));
	ip[6] = fh ? 44 : 6;
	ip[7] = 64;
	peer_addr6(k, ip + 8);
	memcpy(ip + 24, guest6, 16);
	if (fh) {
		ip[40] = 6;
		put16(ip + 42, (uint16_t)(off << 3 | (mf ? 1 : 0)));
		put32(ip + 44, k);
	}
	memcpy(ip + 40 + fh, l4, l4len);
	assert_int_equal(nif.input(p, &nif), ERR_OK);
}

/* An IPv4 packet from peer k (header at ip, l4len bytes behind it, id k)
 * given to lwIP, with fragment offset off (8-byte units) and
 * more-fragments mf; over IPv6, deliver6()'s. */
static void
deliver(const uint8_t *l4, uint16_t l4len, unsigned k, uint16_t off, int mf)
{
	uint32_t src = peer_addr(k);
	uint16_t id = (uint16_t)k;
	struct pbuf *p;
	uint8_t *ip;

	if (v6) {
		deliver6(l4, l4len, k, off, mf);
		return;
	}
	p = pbuf_alloc(PBUF_RAW, (u16_t)(20 + l4len), PBUF_RAM);

	assert_non_null(p);
	ip = p->payload;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len));
	put16(ip + 4, id);
	put16(ip + 6, (uint16_t)(off | (mf ? 0x2000 : 0)));
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, src);
	put32(ip + 16, 10u << 24 | 5u << 8 | 3);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	memcpy(ip + 20, l4, l4len);
	assert_int_equal(nif.input(p, &nif), ERR_OK);
}

/* A TCP segment from peer k (a SYN carries an MSS option), whole or in
 * two fragments. */
static void
segment(unsigned k, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, int fragmented)
{
	uint8_t t[32];
	/* Fragmented, the SYN's options are padded with NOPs: lwIP drops a
	 * segment whose first pbuf holds less than a TCP header, and the
	 * first fragment carries a multiple of 8 bytes. */
	uint16_t hl = !(flags & TCP_SYN) ? 20 : fragmented ? 32 : 24;
	uint32_t src = peer_addr(k), pseudo;
	uint8_t ph[8];

	memset(t, 0, sizeof(t));
	put16(t, peer_port(k));
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)(hl / 4 << 4);
	t[13] = flags;
	put16(t + 14, 64000);
	if (hl > 20) {
		t[20] = 2;
		t[21] = 4;
		put16(t + 22, 1460);
		memset(t + 24, 1, (size_t)(hl - 24));
	}
	put32(ph, src);
	put32(ph + 4, 10u << 24 | 5u << 8 | 3);
	pseudo = sum16(ph, 8, 0) + 6 + hl;
	if (v6) {
		uint8_t a[16];

		peer_addr6(k, a);
		pseudo = sum16(a, 16, 0) + sum16(guest6, 16, 0) + 6 + hl;
	}
	put16(t + 16, fold(sum16(t, hl, pseudo)));
	if (!fragmented) {
		deliver(t, hl, k, 0, 0);
		return;
	}
	/* 24 bytes, then the rest at offset 3 (24 bytes). */
	deliver(t, 24, k, 0, 1);
	deliver(t + 24, (uint16_t)(hl - 24), k, 3, 0);
}

static void
syn(unsigned k)
{
	segment(k, PORT, 1000u * k, 0, TCP_SYN, 0);
}

/* ---- the interface: lwIP's packets are looked at and dropped -------------- */

static err_t
output(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
	const uint8_t *ip = p->payload, *t;

	(void)n;
	(void)dst;
	assert_true(p->len >= 40);
	assert_int_equal(ip[9], 6);
	t = ip + (ip[0] & 0xf) * 4;
	if ((t[13] & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		sent_synacks++;
	if (t[13] & TCP_RST)
		sent_rsts++;
	return ERR_OK;
}

/* The IPv6 version: a TCP segment right behind the header. */
static err_t
output6(struct netif *n, struct pbuf *p, const ip6_addr_t *dst)
{
	const uint8_t *ip = p->payload, *t = ip + 40;

	(void)n;
	(void)dst;
	assert_true(p->len >= 60);
	assert_int_equal(ip[6], 6);
	if ((t[13] & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		sent_synacks++;
	if (t[13] & TCP_RST)
		sent_rsts++;
	return ERR_OK;
}

static err_t
nif_init(struct netif *n)
{
	n->output = output;
	n->output_ip6 = output6;
	n->mtu = 1500;
	n->flags = NETIF_FLAG_UP | NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

/* ---- what lwIP holds -------------------------------------------------------- */

static u16_t
pcbs_used(void)
{
	return lwip_stats.memp[MEMP_TCP_PCB]->used;
}

/* Connections with peer k's tuple on either list; and every PCB in use is
 * on a list once (no cycle, no loss). */
static int
pcbs_of(unsigned k)
{
	ip_addr_t a = peer_ip(k);
	int n = 0;

	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next)
		n += ip_addr_cmp(&pcb->remote_ip, &a) &&
		    pcb->remote_port == peer_port(k) && pcb->local_port == PORT;
	for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb != NULL; pcb = pcb->next)
		n += ip_addr_cmp(&pcb->remote_ip, &a) &&
		    pcb->remote_port == peer_port(k) && pcb->local_port == PORT;
	return n;
}

static void
assert_lists_whole(void)
{
	unsigned n = 0;

	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next) {
		assert_true(n < 100000);
		n++;
	}
	for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb != NULL; pcb = pcb->next) {
		assert_true(n < 100000);
		n++;
	}
	/* Plus the listener, in its own pool. */
	assert_int_equal(n, pcbs_used());
}

static struct tcp_pcb *
pcb_of(unsigned k)
{
	ip_addr_t a = peer_ip(k);

	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next)
		if (ip_addr_cmp(&pcb->remote_ip, &a) && pcb->remote_port == peer_port(k))
			return pcb;
	return NULL;
}

/* Every connection gone (aborted: a RST each). */
static void
abort_all(void)
{
	while (tcp_active_pcbs != NULL)
		tcp_abort(tcp_active_pcbs);
	while (tcp_tw_pcbs != NULL)
		tcp_abort(tcp_tw_pcbs);
	assert_int_equal(pcbs_used(), 0);
}

/* ---- the tests -------------------------------------------------------------- */

static err_t
accept_fn(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	(void)pcb;
	(void)err;
	return ERR_OK;
}

static int
group_setup(void **state)
{
	ip4_addr_t ip, mask, gw;
	ip6_addr_t ip6;
	s8_t idx;

	(void)state;
	sim_create(NULL);
	assert_int_equal(net_pools_init(), 0);
	lwip_init();
	assert_int_equal(tcp_lookup_init(net_tcp_capacity()), 0);
	IP4_ADDR(&ip, 10, 0, 5, 3);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 10, 0, 5, 1);
	assert_non_null(netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, ip_input));
	netif_set_default(&nif);
	netif_set_up(&nif);
	memcpy(ip6.addr, guest6, 16);
	assert_int_equal(netif_add_ip6_address(&nif, &ip6, &idx), ERR_OK);
	netif_ip6_addr_set_state(&nif, idx, IP6_ADDR_PREFERRED);
	listener = tcp_new_ip_type(IPADDR_TYPE_ANY);
	assert_non_null(listener);
	assert_int_equal(tcp_bind(listener, IP_ANY_TYPE, PORT), ERR_OK);
	listener = tcp_listen(listener);
	assert_non_null(listener);
	tcp_accept(listener, accept_fn);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	sim_destroy();
	return 0;
}

/* A SYN makes one connection and a SYN-ACK; the same SYN again (a
 * retransmission) makes none, for every tuple, however they collide. */
static void
new_and_retransmitted(void **state)
{
	unsigned n = MEMP_NUM_TCP_PCB - 4;

	(void)state;
	for (unsigned k = 0; k < n; k++) {
		int before = sent_synacks;
		unsigned long fast = tcp_lookup_stats.syns_fast;

		syn(k);
		assert_int_equal(pcbs_used(), k + 1);
		assert_int_equal(sent_synacks, before + 1);
		assert_int_equal(pcbs_of(k), 1);
		assert_int_equal(tcp_lookup_stats.syns_fast, fast + 1);	/* no walk */
	}
	for (unsigned k = 0; k < n; k++) {
		unsigned long fast = tcp_lookup_stats.syns_fast;

		syn(k);
		assert_int_equal(pcbs_of(k), 1);
		assert_int_equal(tcp_lookup_stats.syns_fast, fast);	/* lwIP's way */
	}
	assert_int_equal(pcbs_used(), n);
	assert_lists_whole();
	abort_all();
}

/* Connections freed in the middle of the index's runs: the others stay
 * found (their retransmitted SYNs make nothing), the freed tuples are
 * new again. */
static void
freed_around(void **state)
{
	unsigned n = MEMP_NUM_TCP_PCB - 4;

	(void)state;
	for (unsigned k = 0; k < n; k++)
		syn(k);
	assert_int_equal(pcbs_used(), n);
	for (unsigned k = 0; k < n; k += 3)
		tcp_abort(pcb_of(k));
	for (unsigned k = 0; k < n; k++) {
		if (k % 3 == 0) {
			assert_int_equal(pcbs_of(k), 0);
			continue;
		}
		syn(k);
		assert_int_equal(pcbs_of(k), 1);
	}
	assert_int_equal(pcbs_used(), n - (n + 2) / 3);
	for (unsigned k = 0; k < n; k += 3) {
		syn(k);
		assert_int_equal(pcbs_of(k), 1);
	}
	assert_int_equal(pcbs_used(), n);
	assert_lists_whole();
	abort_all();
}

/* A SYN in fragments goes lwIP's way (reassembled), and its connection
 * is indexed all the same: the whole SYN again makes nothing. */
static void
fragmented_then_whole(void **state)
{
	unsigned long fast = tcp_lookup_stats.syns_fast;

	(void)state;
	segment(7, PORT, 7000, 0, TCP_SYN, 1);
	assert_int_equal(pcbs_of(7), 1);
	assert_int_equal(tcp_lookup_stats.syns_fast, fast);
	syn(7);
	assert_int_equal(pcbs_of(7), 1);
	assert_int_equal(pcbs_used(), 1);
	assert_lists_whole();
	abort_all();
}

/* With every PCB taken, a new SYN goes lwIP's way, and tcp_syn.c drops
 * the oldest half-open connection for it: the dropped tuple leaves the
 * index (its SYN is new again), the newcomer's is in it. */
static void
pool_full(void **state)
{
	unsigned n = MEMP_NUM_TCP_PCB;

	(void)state;
	for (unsigned k = 0; k < n; k++) {
		syn(k);
		tcp_tmr();	/* every other call a slow tick: an order by age */
	}
	assert_int_equal(pcbs_used(), n);
	syn(n);
	assert_int_equal(pcbs_of(n), 1);
	assert_int_equal(pcbs_of(0), 0);		/* the oldest */
	assert_int_equal(pcbs_used(), n);
	syn(n);
	assert_int_equal(pcbs_of(n), 1);
	assert_int_equal(pcbs_used(), n);
	assert_lists_whole();
	abort_all();
	syn(0);
	assert_int_equal(pcbs_of(0), 1);
	abort_all();
}

/* A SYN to a port nobody listens on: a reset, no connection, as before. */
static void
closed_port(void **state)
{
	int before = sent_rsts;

	(void)state;
	segment(3, CLOSED_PORT, 3000, 0, TCP_SYN, 0);
	assert_int_equal(sent_rsts, before + 1);
	assert_int_equal(pcbs_used(), 0);
}

/* A whole handshake and a request: the connection the fast way made is
 * the one the ACK finds, and the list is whole after it. */
static void
handshake(void **state)
{
	struct tcp_pcb *pcb;

	(void)state;
	syn(9);
	syn(10);
	pcb = pcb_of(9);
	assert_non_null(pcb);
	assert_int_equal(pcb->state, SYN_RCVD);
	segment(9, PORT, 9000 + 1, pcb->snd_nxt, TCP_ACK, 0);
	assert_int_equal(pcb_of(9), pcb);
	assert_int_equal(pcb->state, ESTABLISHED);
	syn(9);				/* a stray SYN on it: no second one */
	assert_int_equal(pcbs_of(9), 1);
	assert_int_equal(pcbs_used(), 2);
	assert_lists_whole();
	abort_all();
}

/* Connections 100..100+n, established. */
static void
establish(unsigned n)
{
	for (unsigned k = 100; k < 100 + n; k++) {
		struct tcp_pcb *pcb;

		syn(k);
		pcb = pcb_of(k);
		assert_non_null(pcb);
		segment(k, PORT, 1000u * k + 1, pcb->snd_nxt, TCP_ACK, 0);
		assert_int_equal(pcb->state, ESTABLISHED);
	}
}

/* An ACK from peer k: its connection, which the index moved to the head
 * before lwIP looked, is the head after it. */
static void
ack_from(unsigned k)
{
	struct tcp_pcb *pcb = pcb_of(k);
	unsigned long moves = tcp_lookup_stats.moves;

	assert_non_null(pcb);
	segment(k, PORT, 1000u * k + 1, pcb->snd_nxt, TCP_ACK, 0);
	assert_ptr_equal(tcp_active_pcbs, pcb);
	assert_true(tcp_lookup_stats.moves <= moves + 1);
}

/* Segments for established connections, in turns (each one's connection
 * at the tail), in random order, and with connections closed in the
 * middle of the list: each finds its connection at the head, the lists
 * stay whole, and only the records that the closes made stale take a
 * walk. */
static void
segments_to_front(void **state)
{
	unsigned n = MEMP_NUM_TCP_PCB - 4, x = 12345;
	unsigned long walks, moves;

	(void)state;
	establish(n);
	walks = tcp_lookup_stats.walks;
	moves = tcp_lookup_stats.moves;
	for (int round = 0; round < 3; round++)
		for (unsigned k = 100; k < 100 + n; k++)
			ack_from(k);
	assert_true(tcp_lookup_stats.moves >= moves + 3 * n - 1);
	for (int i = 0; i < 2000; i++) {
		x = x * 1103515245 + 12345;
		ack_from(100 + (x >> 16) % n);
	}
	assert_int_equal(tcp_lookup_stats.walks, walks);	/* every record held */
	assert_lists_whole();
	/* Close every fifth, from the middle of the list. */
	for (unsigned k = 100; k < 100 + n; k += 5)
		tcp_abort(pcb_of(k));
	for (int i = 0; i < 2000; i++) {
		unsigned k;

		x = x * 1103515245 + 12345;
		k = 100 + (x >> 16) % n;
		if ((k - 100) % 5 != 0)
			ack_from(k);
	}
	assert_true(tcp_lookup_stats.walks <= walks + (n + 4) / 5);
	assert_lists_whole();
	abort_all();
}

/* Each test again over IPv6. */
#define OVER_IPV6(test) \
	static void test##_v6(void **state) { v6 = 1; test(state); v6 = 0; }
OVER_IPV6(new_and_retransmitted)
OVER_IPV6(freed_around)
OVER_IPV6(fragmented_then_whole)
OVER_IPV6(pool_full)
OVER_IPV6(closed_port)
OVER_IPV6(handshake)
OVER_IPV6(segments_to_front)

/* Peers with the same port numbers over IPv4 and IPv6 (the index keys
 * on the family as well as the address): each SYN makes a connection of
 * its own, a retransmission none, and segments from both families in
 * random order each find their own connection at the head. */
static void
both_families(void **state)
{
	unsigned n = (MEMP_NUM_TCP_PCB - 4) / 2, x = 777;

	(void)state;
	for (unsigned k = 0; k < n; k++) {
		v6 = 0;
		syn(k);
		v6 = 1;
		syn(k);
		assert_int_equal(pcbs_of(k), 1);
		v6 = 0;
		assert_int_equal(pcbs_of(k), 1);
	}
	assert_int_equal(pcbs_used(), 2 * n);
	for (int fam = 0; fam < 2; fam++) {
		v6 = fam;
		for (unsigned k = 0; k < n; k++) {
			syn(k);
			assert_int_equal(pcbs_of(k), 1);
		}
	}
	assert_int_equal(pcbs_used(), 2 * n);
	abort_all();
	for (int fam = 0; fam < 2; fam++) {
		v6 = fam;
		establish(n);
	}
	for (int i = 0; i < 2000; i++) {
		x = x * 1103515245 + 12345;
		v6 = (x >> 16) & 1;
		ack_from(100 + (x >> 17) % n);
	}
	v6 = 0;
	assert_lists_whole();
	abort_all();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_and_retransmitted),
		cmocka_unit_test(freed_around),
		cmocka_unit_test(fragmented_then_whole),
		cmocka_unit_test(pool_full),
		cmocka_unit_test(closed_port),
		cmocka_unit_test(handshake),
		cmocka_unit_test(segments_to_front),
		cmocka_unit_test(new_and_retransmitted_v6),
		cmocka_unit_test(freed_around_v6),
		cmocka_unit_test(fragmented_then_whole_v6),
		cmocka_unit_test(pool_full_v6),
		cmocka_unit_test(closed_port_v6),
		cmocka_unit_test(handshake_v6),
		cmocka_unit_test(segments_to_front_v6),
		cmocka_unit_test(both_families),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
