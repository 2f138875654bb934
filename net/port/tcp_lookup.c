/*
 * A SYN for a new connection in constant time (LWIP_HOOK_IP4_INPUT).
 *
 * tcp_input() looks for a segment's connection by walking the list of
 * active connections, then the TIME_WAIT ones, and only then the
 * listeners.  A SYN for a new connection belongs to none of them, so it
 * walks both lists to their ends: with 10,000 connections under TCG about
 * a millisecond a SYN, so that 10,000 clients connecting at once, or a
 * thousand SYNs a second of a flood, took all of the guest's time.  (A
 * segment of an existing connection stops where it finds it, and
 * tcp_order.c keeps those near the head.)
 *
 * Here an index holds every connection in either list by remote address
 * and port: a hash table (SipHash under a key of our own, so that nobody
 * can choose addresses that collide) with linear probing.  A connection is added after the packet that made it (and at
 * the latest when the next segment reaches it), and removed when lwIP
 * frees it (its ext-arg destroy callback).  A SYN to a port with a
 * listener, whose tuple the index does not hold, has nothing to find in
 * either list: it goes through ip4_input() with both lists hidden
 * (empty), and the connection lwIP makes for it is put in front of the
 * real list afterwards.  A SYN whose tuple is there (a retransmitted
 * one, or one for a connection in TIME_WAIT) and every other packet go
 * lwIP's own way.
 *
 * What lwIP might look for in the hidden lists while it handles the SYN:
 * - A connection of our own (tcp_connect()) with the SYN's tuple: it
 *   would have a listener's local port, which tcp_bind() never gives
 *   without SO_REUSE (it refuses a port in use in any list).
 * - A PCB to free when the pool is empty (tcp_alloc(), tcp_syn.c): so
 *   the SYN is hidden only while the pool has a free one.
 */
#include <stdint.h>
#include <string.h>

#include <kernel/log.h>
#include <kernel/mm.h>

#include <lwip/ip4.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/prot/ip4.h>
#include <lwip/prot/tcp.h>
#include <lwip/stats.h>
#include <lwip/tcp.h>

#include "lwip_hooks.h"
#include "pools.h"
#include "siphash.h"

#if SO_REUSE || LWIP_TCP_PCB_NUM_EXT_ARGS < 2 || !MEMP_STATS || LWIP_IPV6
#error "tcp_lookup.c: no SO_REUSE (a connection of ours could share a listener's port), an ext-arg slot of its own, MEMP_STATS, and IPv4 only"
#endif

static struct tcp_pcb **slots;		/* NULL: empty */
static size_t nslots;			/* a power of two, at least twice the PCBs */
static uint8_t key[16];
static u8_t ext_id;
static int busy;			/* inside ip4_input() from the hook */

struct tcp_lookup_stats tcp_lookup_stats;

static void forget(u8_t id, void *data);
static const struct tcp_ext_arg_callbacks index_cbs = { .destroy = forget };

/* The home slot of a remote address and port.  The local port is left
 * out: lwIP zeroes it (tcp_pcb_remove()) before it frees the PCB, when
 * forget() has to find its slot again. */
static size_t
slot_of(uint32_t remote, uint16_t rport)
{
	uint8_t t[6];

	memcpy(t, &remote, 4);
	memcpy(t + 4, &rport, 2);
	return (size_t)siphash24(key, t, sizeof(t)) & (nslots - 1);
}

static int
same(const struct tcp_pcb *pcb, uint32_t remote, uint16_t rport, uint16_t lport)
{
	return ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)) == remote &&
	    pcb->remote_port == rport && pcb->local_port == lport;
}

static size_t
slot_of_pcb(const struct tcp_pcb *pcb)
{
	return slot_of(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)), pcb->remote_port);
}

static int
indexed(const struct tcp_pcb *pcb)
{
	return tcp_ext_arg_get(pcb, ext_id) != NULL;
}

/* Index pcb (once).  The table has a slot for every PCB the pools can
 * ever hold, twice over, so it never fills. */
static void
remember(struct tcp_pcb *pcb)
{
	size_t i;

	if (slots == NULL || pcb->state == LISTEN || indexed(pcb))
		return;
	for (i = slot_of_pcb(pcb); slots[i] != NULL; i = (i + 1) & (nslots - 1))
		;
	slots[i] = pcb;
	tcp_ext_arg_set(pcb, ext_id, pcb);
	tcp_ext_arg_set_callbacks(pcb, ext_id, &index_cbs);
}

/* lwIP frees the PCB (data): out of the index, and the entries after it
 * in its run move back so that every one stays reachable from its home
 * slot (Knuth's algorithm R: no tombstones). */
static void
forget(u8_t id, void *data)
{
	struct tcp_pcb *pcb = data;
	size_t i, j, home;

	(void)id;
	for (i = slot_of_pcb(pcb); slots[i] != pcb; i = (i + 1) & (nslots - 1)) {
		LWIP_ASSERT("tcp_lookup: a PCB freed is in the index", slots[i] != NULL);
		if (slots[i] == NULL)
			return;
	}
	slots[i] = NULL;
	for (j = (i + 1) & (nslots - 1); slots[j] != NULL; j = (j + 1) & (nslots - 1)) {
		home = slot_of_pcb(slots[j]);
		/* slots[j] may move to i unless its home lies in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		slots[i] = slots[j];
		slots[j] = NULL;
		i = j;
	}
}

static int
known(uint32_t remote, uint16_t rport, uint16_t lport)
{
	for (size_t i = slot_of(remote, rport); slots[i] != NULL;
	    i = (i + 1) & (nslots - 1))
		if (same(slots[i], remote, rport, lport))
			return 1;
	return 0;
}

static int
listening(uint16_t port)
{
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l != NULL; l = l->next)
		if (l->local_port == port)
			return 1;
	return 0;
}

/* A bare SYN (no ACK, RST or FIN), unfragmented, to a listener's port,
 * from a tuple no connection has, while the pool has a PCB for it. */
static int
new_syn(const struct pbuf *p)
{
	const struct ip_hdr *ip = p->payload;
	const struct tcp_hdr *tcp;
	const struct stats_mem *pool = lwip_stats.memp[MEMP_TCP_PCB];
	size_t hlen;

	if (p->len < IP_HLEN || IPH_V(ip) != 4 || IPH_PROTO(ip) != IP_PROTO_TCP ||
	    (IPH_OFFSET(ip) & PP_HTONS(IP_OFFMASK | IP_MF)) != 0)
		return 0;
	hlen = (size_t)IPH_HL_BYTES(ip);
	if (hlen < IP_HLEN || p->len < hlen + TCP_HLEN)
		return 0;
	tcp = (const struct tcp_hdr *)((const uint8_t *)p->payload + hlen);
	if ((TCPH_FLAGS(tcp) & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) != TCP_SYN)
		return 0;
	net_pools_grow();
	return pool->used < pool->avail && listening(lwip_ntohs(tcp->dest)) &&
	    !known(ip4_addr_get_u32(&ip->src), lwip_ntohs(tcp->src), lwip_ntohs(tcp->dest));
}

/* The first few connections of the list, which a packet may have made or
 * moved there. */
static void
remember_head(void)
{
	struct tcp_pcb *pcb = tcp_active_pcbs;

	for (int k = 0; k < 4 && pcb != NULL; k++, pcb = pcb->next)
		remember(pcb);
}

int
tcp_lookup_hook(struct pbuf *p, struct netif *inp)
{
	struct tcp_pcb *active, *tw, *t;

	if (busy || slots == NULL)
		return 0;	/* lwIP goes on with the packet */
	busy = 1;
#if IP_STATS
	lwip_stats.ip.recv--;	/* ip4_input() counts the packet again */
#endif
	if (new_syn(p)) {
		tcp_lookup_stats.syns_fast++;
		active = tcp_active_pcbs;
		tw = tcp_tw_pcbs;
		tcp_active_pcbs = NULL;
		tcp_tw_pcbs = NULL;
		ip4_input(p, inp);
		remember_head();
		/* Ours (the new connection, if any) in front of the rest. */
		if (tcp_active_pcbs == NULL) {
			tcp_active_pcbs = active;
		} else {
			for (t = tcp_active_pcbs; t->next != NULL; t = t->next)
				;
			t->next = active;
		}
		if (tcp_tw_pcbs == NULL) {
			tcp_tw_pcbs = tw;
		} else {
			for (t = tcp_tw_pcbs; t->next != NULL; t = t->next)
				;
			t->next = tw;
		}
	} else {
		ip4_input(p, inp);
		remember_head();
	}
	busy = 0;
	return 1;	/* handled here */
}

void
tcp_lookup_seen(struct tcp_pcb *pcb)
{
	remember(pcb);
}

int
tcp_lookup_init(unsigned capacity)
{
	size_t bytes;

	for (nslots = 64; nslots < 2 * (size_t)capacity; nslots *= 2)
		;
	bytes = PAGE_ROUND_UP(nslots * sizeof(*slots));
	if ((slots = page_alloc(bytes / PAGE_SIZE)) == NULL) {
		log_warn("net: no memory for the connection index (%zu KiB): SYNs walk every connection",
		    bytes / 1024);
		return -1;
	}
	for (int i = 0; i < 16; i += 4) {
		uint32_t a = limpet_lwip_rand();

		memcpy(key + i, &a, 4);
	}
	ext_id = tcp_ext_arg_alloc_id();
	return 0;
}
