/*
 * A segment's connection in constant time (LWIP_HOOK_IP4_INPUT and
 * LWIP_HOOK_IP6_INPUT).
 *
 * tcp_input() looks for a segment's connection by walking the list of
 * active connections from the head, then the TIME_WAIT ones, and only
 * then the listeners; a connection it finds moves to the head.  With
 * thousands of kept-alive connections that take turns, as many clients'
 * requests do, each segment's connection is near the tail, and a SYN for
 * a new connection walks both lists to their ends: with 10,000
 * connections under TCG about a millisecond a segment, all of the guest's
 * time at 5,000 requests a second.
 *
 * Here an index holds every connection in either list by remote address
 * and port: a hash table (SipHash under a key of our own, so that nobody
 * can choose addresses that collide) with linear probing, and for each
 * connection an entry (its ext-arg slot) that also remembers the
 * connection believed to be right before it in the active list.  A
 * connection is added after the packet that made it (and at the latest
 * when the next segment reaches it), and removed when lwIP frees it (the
 * ext-arg destroy callback).  Then, before ip4_input() or ip6_input():
 *   - A segment for a connection in the active list: the connection moves
 *     to the head, as lwIP would move it, and lwIP finds it first.
 *     Unlinking it takes the one before it: the remembered one when it
 *     still is (its next is this one; a freed connection's next is
 *     cleared when it leaves the index, so a stale one never passes),
 *     else found by a walk, which the moves keep rare (a move updates
 *     what the connections around it remember).
 *   - A SYN to a port with a listener, whose tuple the index does not
 *     hold: nothing to find in either list.  It goes through ip4_input()
 *     (or ip6_input()) with both lists hidden (empty), and the connection lwIP makes for
 *     it is put in front of the real list afterwards.
 *   - Everything else (a retransmitted SYN, a segment for a TIME_WAIT
 *     connection or one the index lacks, fragments, IPv6 packets with
 *     extension headers) goes lwIP's own way.
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
#include <lwip/ip6.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/prot/ip4.h>
#include <lwip/prot/ip6.h>
#include <lwip/prot/tcp.h>
#include <lwip/stats.h>
#include <lwip/tcp.h>

#include "lwip_hooks.h"
#include "pools.h"
#include "siphash.h"

#if SO_REUSE || LWIP_TCP_PCB_NUM_EXT_ARGS < 1 || !MEMP_STATS || !LWIP_IPV4 || !LWIP_IPV6
#error "tcp_lookup.c: no SO_REUSE (a connection of ours could share a listener's port), an ext-arg slot of its own, MEMP_STATS, IPv4 and IPv6"
#endif

/* A connection's entry, its ext-arg data while it is in the index. */
struct entry {
	struct tcp_pcb	*pcb;
	struct tcp_pcb	*prev;		/* before it in tcp_active_pcbs, if still so */
	struct entry	*next_free;
};

static struct tcp_pcb **slots;		/* NULL: empty */
static size_t nslots;			/* a power of two, at least twice the PCBs */
static struct entry *entries, *free_entries;
static uint8_t key[16];
static u8_t ext_id;
static int busy;			/* inside ip4/6_input() from the hook */

struct tcp_lookup_stats tcp_lookup_stats;

static void forget(u8_t id, void *data);
static const struct tcp_ext_arg_callbacks index_cbs = { .destroy = forget };

/* The home slot of a remote address and port.  The local port is left
 * out: lwIP zeroes it (tcp_pcb_remove()) before it frees the PCB, when
 * forget() has to find its slot again. */
static size_t
slot_of(const ip_addr_t *remote, uint16_t rport)
{
	uint8_t t[19];
	size_t n;

	t[0] = IP_GET_TYPE(remote);
	if (IP_IS_V6(remote)) {
		memcpy(t + 1, ip_2_ip6(remote)->addr, 16);
		n = 17;
	} else {
		memcpy(t + 1, &ip_2_ip4(remote)->addr, 4);
		n = 5;
	}
	memcpy(t + n, &rport, 2);
	return (size_t)siphash24(key, t, n + 2) & (nslots - 1);
}

static int
same(const struct tcp_pcb *pcb, const ip_addr_t *remote, uint16_t rport, uint16_t lport)
{
	return pcb->remote_port == rport && pcb->local_port == lport &&
	    ip_addr_cmp(&pcb->remote_ip, remote);
}

static size_t
slot_of_pcb(const struct tcp_pcb *pcb)
{
	return slot_of(&pcb->remote_ip, pcb->remote_port);
}

static struct entry *
entry_of(const struct tcp_pcb *pcb)
{
	return tcp_ext_arg_get(pcb, ext_id);
}

static int
indexed(const struct tcp_pcb *pcb)
{
	return entry_of(pcb) != NULL;
}

/* Index pcb (once).  The table has a slot for every PCB the pools can
 * ever hold, twice over, so it never fills; the entries, one a PCB, run
 * out only if the pools outgrow the capacity they were sized for. */
static void
remember(struct tcp_pcb *pcb)
{
	struct entry *e;
	size_t i;

	if (slots == NULL || pcb->state == LISTEN || indexed(pcb) ||
	    (e = free_entries) == NULL)
		return;
	free_entries = e->next_free;
	e->pcb = pcb;
	e->prev = NULL;
	for (i = slot_of_pcb(pcb); slots[i] != NULL; i = (i + 1) & (nslots - 1))
		;
	slots[i] = pcb;
	tcp_ext_arg_set(pcb, ext_id, e);
	tcp_ext_arg_set_callbacks(pcb, ext_id, &index_cbs);
}

/* lwIP frees the PCB: out of the index, and the entries after it in its
 * run move back so that every one stays reachable from its home slot
 * (Knuth's algorithm R: no tombstones).  Its next pointer and entry are
 * cleared, so that nothing takes it for the one before a connection. */
static void
forget(u8_t id, void *data)
{
	struct entry *e = data;
	struct tcp_pcb *pcb = e->pcb;
	size_t i, j, home;

	tcp_ext_arg_set(pcb, id, NULL);
	pcb->next = NULL;
	e->pcb = e->prev = NULL;
	e->next_free = free_entries;
	free_entries = e;
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

/* The indexed connection with this tuple, or NULL. */
static struct tcp_pcb *
find(const ip_addr_t *remote, uint16_t rport, uint16_t lport)
{
	for (size_t i = slot_of(remote, rport); slots[i] != NULL;
	    i = (i + 1) & (nslots - 1))
		if (same(slots[i], remote, rport, lport))
			return slots[i];
	return NULL;
}

/* In tcp_active_pcbs, by its state (lwIP keeps TIME_WAIT connections in
 * tcp_tw_pcbs, listeners and closed ones elsewhere). */
static int
active(const struct tcp_pcb *pcb)
{
	return pcb->state != CLOSED && pcb->state != LISTEN && pcb->state != TIME_WAIT;
}

/* Move pcb, in tcp_active_pcbs, to its head, as tcp_input() would after
 * finding it; what the connections around it remember follows. */
static void
to_front(struct tcp_pcb *pcb)
{
	struct tcp_pcb *head = tcp_active_pcbs, *prev, *next;
	struct entry *e = entry_of(pcb), *o;

	if (head == pcb)
		return;
	prev = e->prev;
	if (prev == NULL || !indexed(prev) || prev->next != pcb) {
		tcp_lookup_stats.walks++;
		for (prev = head; prev != NULL && prev->next != pcb; prev = prev->next)
			;
		if (prev == NULL)
			return;		/* not there after all: lwIP's way */
	}
	next = pcb->next;
	prev->next = next;
	pcb->next = head;
	tcp_active_pcbs = pcb;
	e->prev = NULL;
	if (next != NULL && (o = entry_of(next)) != NULL)
		o->prev = prev;
	if ((o = entry_of(head)) != NULL)
		o->prev = pcb;
	tcp_lookup_stats.moves++;
}

static int
listening(uint16_t port)
{
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l != NULL; l = l->next)
		if (l->local_port == port)
			return 1;
	return 0;
}

/* A TCP segment's tuple and flags, when it is one whole (unfragmented,
 * and in IPv6 with no extension header) with both headers in its first
 * pbuf. */
struct seg {
	ip_addr_t	remote;
	uint16_t	rport, lport;
	uint8_t		flags;
};

static int
parse(const struct pbuf *p, struct seg *s)
{
	const struct ip_hdr *ip = p->payload;
	const struct ip6_hdr *ip6 = p->payload;
	const struct tcp_hdr *tcp;
	size_t hlen;

	if (p->len < IP_HLEN)
		return 0;
	if (IPH_V(ip) == 6) {
		if (p->len < IP6_HLEN + TCP_HLEN || IP6H_NEXTH(ip6) != IP6_NEXTH_TCP)
			return 0;
		tcp = (const struct tcp_hdr *)((const uint8_t *)p->payload + IP6_HLEN);
		ip_addr_copy_from_ip6_packed(s->remote, ip6->src);
	} else {
		if (IPH_V(ip) != 4 || IPH_PROTO(ip) != IP_PROTO_TCP ||
		    (IPH_OFFSET(ip) & PP_HTONS(IP_OFFMASK | IP_MF)) != 0)
			return 0;
		hlen = (size_t)IPH_HL_BYTES(ip);
		if (hlen < IP_HLEN || p->len < hlen + TCP_HLEN)
			return 0;
		tcp = (const struct tcp_hdr *)((const uint8_t *)p->payload + hlen);
		ip_addr_copy_from_ip4(s->remote, ip->src);
	}
	s->rport = lwip_ntohs(tcp->src);
	s->lport = lwip_ntohs(tcp->dest);
	s->flags = TCPH_FLAGS(tcp);
	return 1;
}

/* A bare SYN (no ACK, RST or FIN) to a listener's port, from a tuple no
 * connection has, while the pool has a PCB for it. */
static int
new_syn(const struct seg *s)
{
	const struct stats_mem *pool = lwip_stats.memp[MEMP_TCP_PCB];

	if ((s->flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) != TCP_SYN)
		return 0;
	net_pools_grow();
	return pool->used < pool->avail && listening(s->lport) &&
	    find(&s->remote, s->rport, s->lport) == NULL;
}

/* The first few connections of the list, which a packet may have made or
 * moved there, and which one is before which. */
static void
remember_head(void)
{
	struct tcp_pcb *pcb = tcp_active_pcbs, *prev = NULL;
	struct entry *e;

	for (int k = 0; k < 4 && pcb != NULL; k++, prev = pcb, pcb = pcb->next) {
		remember(pcb);
		if ((e = entry_of(pcb)) != NULL)
			e->prev = prev;
	}
}

static void
input(struct pbuf *p, struct netif *inp, int v6)
{
	if (v6)
		ip6_input(p, inp);
	else
		ip4_input(p, inp);
}

int
tcp_lookup_hook(struct pbuf *p, struct netif *inp)
{
	struct tcp_pcb *hidden, *tw, *t, *pcb;
	struct entry *e;
	struct seg seg;
	int parsed, v6;

	if (busy || slots == NULL)
		return 0;	/* lwIP goes on with the packet */
	busy = 1;
	/* Whose hook this is: ip4_input() and ip6_input() have checked the
	 * version, and count the packet again. */
	v6 = IPH_V((const struct ip_hdr *)p->payload) == 6;
#if IP_STATS
	if (!v6)
		lwip_stats.ip.recv--;
#endif
#if IP6_STATS
	if (v6)
		lwip_stats.ip6.recv--;
#endif
	parsed = parse(p, &seg);
	if (parsed && new_syn(&seg)) {
		tcp_lookup_stats.syns_fast++;
		hidden = tcp_active_pcbs;
		tw = tcp_tw_pcbs;
		tcp_active_pcbs = NULL;
		tcp_tw_pcbs = NULL;
		input(p, inp, v6);
		remember_head();
		/* Ours (the new connection, if any) in front of the rest. */
		if (tcp_active_pcbs == NULL) {
			tcp_active_pcbs = hidden;
		} else {
			for (t = tcp_active_pcbs; t->next != NULL; t = t->next)
				;
			t->next = hidden;
			if (hidden != NULL && (e = entry_of(hidden)) != NULL)
				e->prev = t;
		}
		if (tcp_tw_pcbs == NULL) {
			tcp_tw_pcbs = tw;
		} else {
			for (t = tcp_tw_pcbs; t->next != NULL; t = t->next)
				;
			t->next = tw;
		}
	} else {
		if (parsed && (pcb = find(&seg.remote, seg.rport, seg.lport)) != NULL &&
		    active(pcb))
			to_front(pcb);
		input(p, inp, v6);
		remember_head();
	}
	busy = 0;
	return 1;	/* handled here */
}

int
tcp_lookup_busy(void)
{
	return busy;
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
	bytes = PAGE_ROUND_UP(nslots * sizeof(*slots) + (size_t)capacity * sizeof(*entries));
	if ((slots = page_alloc(bytes / PAGE_SIZE)) == NULL) {
		log_warn("net: no memory for the connection index (%zu KiB): segments walk "
		    "every connection", bytes / 1024);
		return -1;
	}
	entries = (struct entry *)(slots + nslots);
	for (unsigned i = capacity; i-- > 0; ) {
		entries[i].next_free = free_entries;
		free_entries = &entries[i];
	}
	for (int i = 0; i < 16; i += 4) {
		uint32_t a = limpet_lwip_rand();

		memcpy(key + i, &a, 4);
	}
	ext_id = tcp_ext_arg_alloc_id();
	return 0;
}
