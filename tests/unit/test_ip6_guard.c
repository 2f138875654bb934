// unit-sources: net/port/tcp_lookup.c net/port/ip6_guard.c net/port/tcp_syn.c net/port/pools.c net/port/heap.c net/port/sys_arch.c net/port/siphash.c net/netif/netdev_netif.c drivers/virtio-net/virtio_net.c drivers/virtio/virtqueue.c drivers/netdev.c kernel/dma.c tests/unit/virtio_sim.c kernel/kprintf.c kernel/cmdline.c
// unit-include: tests/unit/host net/port/include net/netif deps/lwip/src/include drivers/include drivers/virtio drivers/virtio-net
// unit-deps: deps/lwip/src/core/*.c deps/lwip/src/core/ipv4/*.c deps/lwip/src/core/ipv6/*.c deps/lwip/src/netif/ethernet.c
/*
 * Host unit tests of net/port/ip6_guard.c, the filter in front of lwIP's
 * IPv6 input: each packet kind it drops, built by hand, is dropped (and
 * counted once), and its nearest well-formed neighbour passes untouched;
 * headers that run past the packet end the walk without a read beyond it
 * (ASan would say).  It links what tests/unit/test_tcp_lookup.c links, for
 * lwIP's core as the guest has it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <lwip/init.h>
#include <lwip/ip6_addr.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>

#include "../../net/port/pools.h"
#include "lwip_hooks.h"
#include "net_bytes.h"
#include "virtio_sim.h"

/* LWIP_HOOK_ND6_GET_GW's, from net/net.c, which is not under test. */
const ip6_addr_t *
net_ip6_next_hop(struct netif *n, const ip6_addr_t *dest)
{
	(void)n;
	(void)dest;
	return NULL;
}

static struct netif nif;
static const uint8_t ours[16] = { 0xfd, 0, 0, 5, [15] = 3 };
static uint8_t pkt[2000];
static unsigned len;

/* An IPv6 header from fd00:5::2 to us, next header nh; payload after. */
static uint8_t *
start(uint8_t nh)
{
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x60;
	pkt[6] = nh;
	pkt[7] = 255;
	memcpy(pkt + 8, ours, 16);
	pkt[23] = 2;
	memcpy(pkt + 24, ours, 16);
	len = 40;
	return pkt + 40;
}

/* n more bytes of the packet (returned, zeroed). */
static uint8_t *
add(unsigned n)
{
	uint8_t *p = pkt + len;

	len += n;
	put16(pkt + 4, (uint16_t)(len - 40));
	return p;
}

static uint8_t *
frag(uint8_t nh, unsigned offset8, int more, uint32_t id)
{
	uint8_t *f = add(8);

	f[0] = nh;
	put16(f + 2, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	put32(f + 4, id);
	return f;
}

/* Whether the guard drops the packet as built. */
static int
dropped(void)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	int d;

	assert_non_null(p);
	memcpy(p->payload, pkt, len);
	d = ip6_guard_input(p, &nif);
	if (!d)
		pbuf_free(p);
	return d;
}

static err_t
nif_init(struct netif *n)
{
	n->mtu = 1500;
	n->mtu6 = 1500;
	return ERR_OK;
}

static int
setup(void **state)
{
	ip6_addr_t a;
	s8_t i;

	(void)state;
	sim_create(NULL);			/* the machine net_pools_init() sizes for */
	assert_int_equal(net_pools_init(), 0);	/* lwIP's heap */
	lwip_init();
	assert_non_null(netif_add_noaddr(&nif, NULL, nif_init, netif_input));
	nif.mtu6 = 1500;
	memcpy(a.addr, ours, 16);
	assert_int_equal(netif_add_ip6_address(&nif, &a, &i), ERR_OK);
	netif_ip6_addr_set_state(&nif, i, IP6_ADDR_PREFERRED);
	a.addr[3] ^= lwip_htonl(1);		/* fd00:5::2: tentative */
	assert_int_equal(netif_add_ip6_address(&nif, &a, &i), ERR_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sim_destroy();
	return 0;
}

static void
nested_fragments(void **state)
{
	(void)state;
	start(44);
	frag(44, 0, 1, 1);
	frag(17, 0, 1, 2);
	add(16);
	assert_true(dropped());
	/* An extension header after the fragment header, too. */
	start(44);
	frag(60, 0, 1, 3);
	add(16);
	assert_true(dropped());
	/* Atomic (offset 0, no more): lwIP takes it whole, in place. */
	start(44);
	frag(58, 0, 0, 4)[0] = 58;
	add(8)[0] = 128;
	assert_false(dropped());
	/* Plain UDP fragments of one datagram pass, in any order. */
	start(44);
	frag(17, 1, 0, 5);
	add(16);
	assert_false(dropped());
	start(44);
	frag(17, 0, 1, 5);
	add(8);
	assert_false(dropped());
}

/* Fragment k of datagram id: bytes [8 * off8, 8 * off8 + len). */
static int
udp_fragment(uint32_t id, unsigned off8, unsigned len, int more)
{
	start(44);
	frag(17, off8, more, id);
	add(len);
	return dropped();
}

/* RFC 5722: an overlap drops the fragment and every later one of its
 * datagram, so it never completes; an exact duplicate goes alone. */
static void
overlaps(void **state)
{
	unsigned long o = ip6_guard_stats.overlaps, d = ip6_guard_stats.duplicates;

	(void)state;
	assert_false(udp_fragment(20, 0, 1024, 1));
	assert_true(udp_fragment(20, 64, 512, 1));	/* inside the first */
	assert_true(udp_fragment(20, 128, 100, 0));	/* would complete it */
	assert_int_equal(ip6_guard_stats.overlaps, o + 1);
	/* A duplicate of the first fragment: dropped, the datagram goes on. */
	assert_false(udp_fragment(21, 0, 1024, 1));
	assert_true(udp_fragment(21, 0, 1024, 1));
	assert_false(udp_fragment(21, 128, 100, 0));
	assert_int_equal(ip6_guard_stats.duplicates, d + 1);
	/* Adjacent ranges do not overlap; one byte across does, and the
	 * datagram's next fragment, adjacent, goes too. */
	assert_false(udp_fragment(22, 1, 8, 1));
	assert_false(udp_fragment(24, 0, 9, 1));	/* another datagram */
	assert_true(udp_fragment(22, 0, 9, 1));
	assert_true(udp_fragment(22, 2, 8, 0));
	/* A datagram in more fragments than a 64 KiB one needs at 1280. */
	for (unsigned k = 0; k < 64; k++)
		assert_false(udp_fragment(23, k, 8, 1));
	assert_true(udp_fragment(23, 64, 8, 0));
}

static void
fragments_disagree(void **state)
{
	unsigned long before = ip6_guard_stats.fragments;

	(void)state;
	start(44);
	frag(17, 0, 1, 77);
	add(16);
	assert_false(dropped());
	start(44);
	frag(58, 2, 0, 77);
	add(16);
	assert_true(dropped());
	assert_int_equal(ip6_guard_stats.fragments, before + 1);
}

static void
nd_and_errors_not_in_fragments(void **state)
{
	(void)state;
	/* An NA, and a destination unreachable, as first fragments. */
	start(44);
	frag(58, 0, 1, 9);
	add(24)[0] = 136;
	assert_true(dropped());
	start(44);
	frag(58, 0, 1, 10);
	add(24)[0] = 1;
	assert_true(dropped());
	/* An echo request in fragments passes (a large ping). */
	start(44);
	frag(58, 0, 1, 11);
	add(24)[0] = 128;
	assert_false(dropped());
	/* ND in an atomic fragment: RFC 6980 says no as well. */
	start(44);
	frag(58, 0, 0, 12);
	add(24)[0] = 135;
	assert_true(dropped());
}

static void
neighbour_advertisements(void **state)
{
	uint8_t *m;

	(void)state;
	/* For our address past DAD: dropped. */
	m = start(58);
	add(32);
	m[0] = 136;
	memcpy(m + 8, ours, 16);
	m[24] = 2;		/* target link-layer address option, 8 bytes */
	m[25] = 1;
	assert_true(dropped());
	/* For our tentative one: that is DAD failing, lwIP's to see. */
	m[23] = 2;
	assert_false(dropped());
	/* A zero-length option: dropped (RFC 4861 4.6). */
	m[23] = 3;
	memcpy(m + 8, pkt + 8, 16);
	m[8 + 15] = 9;
	m[25] = 0;
	assert_true(dropped());
}

static void
packet_too_big(void **state)
{
	static const struct { uint32_t mtu; int drop; } cases[] = {
		{ 0, 1 }, { 1, 1 }, { 48, 1 }, { 55, 1 }, { 1279, 1 }, { 1280, 0 },
		{ 1499, 0 }, { 1500, 1 }, { 9000, 1 }, { 0xffffffffu, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *m = start(58);

		add(8 + 48);
		m[0] = 2;
		put32(m + 4, cases[i].mtu);
		if (dropped() != cases[i].drop)
			fail_msg("packet too big, MTU %u: %s", cases[i].mtu,
			    cases[i].drop ? "passed" : "dropped");
	}
}

/* Headers that claim more than the packet has: the walk stops (lwIP
 * drops the packet), with no read past it. */
static void
truncated_chains(void **state)
{
	(void)state;
	for (unsigned n = 0; n < 48; n++) {
		uint8_t *h = start(0);

		add(n);
		if (n >= 2) {
			h[0] = 0;
			h[1] = 200;	/* 1608 bytes of hop-by-hop options */
		}
		assert_false(dropped());
	}
	/* A payload length beyond the frame: what the frame holds is judged
	 * (an echo request passes, lwIP drops it; a packet too big that says
	 * MTU 0 goes here). */
	start(58);
	add(8)[0] = 128;
	put16(pkt + 4, 1000);
	assert_false(dropped());
	pkt[40] = 2;
	assert_true(dropped());
	/* A long chain of destination options ending in ICMPv6. */
	start(60);
	for (int i = 0; i < 100; i++)
		add(8)[0] = i < 99 ? 60 : 58;
	add(8)[0] = 128;
	assert_false(dropped());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nested_fragments),
		cmocka_unit_test(fragments_disagree),
		cmocka_unit_test(overlaps),
		cmocka_unit_test(nd_and_errors_not_in_fragments),
		cmocka_unit_test(neighbour_advertisements),
		cmocka_unit_test(packet_too_big),
		cmocka_unit_test(truncated_chains),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
