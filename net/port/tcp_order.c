/*
 * The order of lwIP's list of active connections, which it walks from the
 * head for every segment that arrives (tcp_input()) and which it keeps
 * most recently used first: the connection a segment finds moves to the
 * head.  That suits a connection that sends many segments in a row (a
 * download's acknowledgements), but with thousands of kept-alive
 * connections that take turns, as many clients' requests do, each
 * segment's connection is the one that was served longest ago, at the
 * tail: every segment walks the whole list (with 10,000 connections under
 * TCG, about a millisecond).
 *
 * LWIP_HOOK_TCP_INPACKET_PCB calls tcp_order_hook() for every segment
 * that reaches a connection, after lwIP's walk moved the connection (P)
 * to the head and before it acts on the segment.  When the connection
 * right behind P is the one the previous segment went to, and that one's
 * segments come seldom (more than NET_ORDER_HOT other segments between its
 * last two), it moves to the tail: connections that take turns then line
 * up in the order they will be asked for, and the next one is found near
 * the head.  A connection whose segments come close together stays where
 * lwIP puts it.  Nothing else changes: lwIP reorders this list itself,
 * and no code of it depends on the order.
 *
 * The tail is remembered.  lwIP only adds at the head, so the remembered
 * tail stays the tail until it leaves the list or lwIP moves it to the
 * head; then its next pointer is no longer NULL, or its state says it
 * left (TIME_WAIT), or lwIP frees it, which its ext-arg destroy callback
 * reports (only the remembered tail has one).  In those cases the tail is
 * found again by a walk.  Each connection's ext-arg word holds when its
 * last segment came and the gap before that one, in segments.
 */
#include <stdint.h>

#include <lwip/priv/tcp_priv.h>
#include <lwip/stats.h>
#include <lwip/tcp.h>

#include "lwip_hooks.h"

#if LWIP_TCP_PCB_NUM_EXT_ARGS < 1 || !MEMP_STATS
#error "tcp_order.c keeps a word per connection in lwIP's ext args (LWIP_TCP_PCB_NUM_EXT_ARGS) and reads how many there are (MEMP_STATS)"
#endif

static u8_t ext_id;
static int ready;
static u32_t segs;			/* segments that reached a connection */
static struct tcp_pcb *last;		/* the connection of the previous one */
static struct tcp_pcb *tail;		/* tcp_active_pcbs' last, or NULL */

static void
tail_destroyed(u8_t id, void *data)
{
	(void)id;
	(void)data;
	tail = NULL;
}

static const struct tcp_ext_arg_callbacks tail_cbs = { .destroy = tail_destroyed };
static const struct tcp_ext_arg_callbacks plain_cbs = { .destroy = NULL };

static void
set_tail(struct tcp_pcb *pcb)
{
	if (tail != NULL)
		tcp_ext_arg_set_callbacks(tail, ext_id, &plain_cbs);
	tail = pcb;
	tcp_ext_arg_set_callbacks(tail, ext_id, &tail_cbs);
}

/* The remembered tail is still in the list, and last in it. */
static int
tail_holds(void)
{
	return tail != NULL && tail->next == NULL && tail->state != TIME_WAIT &&
	    tail->state != CLOSED && tail->state != LISTEN;
}

/* The gap (in segments) before a connection's last segment. */
static u32_t
gap_of(const struct tcp_pcb *pcb)
{
	return (u32_t)((uintptr_t)tcp_ext_arg_get(pcb, ext_id) >> 32);
}

void
tcp_order_hook(struct tcp_pcb *pcb)
{
	uintptr_t word;
	u32_t at, gap;
	struct tcp_pcb *prev = last, *second, *t;

	if (!ready) {
		ext_id = tcp_ext_arg_alloc_id();
		ready = 1;
	}
	if (pcb->state == TIME_WAIT || tcp_active_pcbs != pcb)
		return;		/* not in the active list */
	last = pcb;
	segs++;
	word = (uintptr_t)tcp_ext_arg_get(pcb, ext_id);
	at = (u32_t)word;
	gap = at != 0 ? segs - at : 0;
	tcp_ext_arg_set(pcb, ext_id, (void *)((uintptr_t)gap << 32 | segs));

	/* Seldom: more segments between its last two than half the
	 * connections lwIP holds, or NET_ORDER_HOT. */
	second = pcb->next;
	if (second == NULL || second != prev || gap_of(second) <= NET_ORDER_HOT ||
	    gap_of(second) <= lwip_stats.memp[MEMP_TCP_PCB]->used / 2)
		return;
	if (!tail_holds()) {
		for (t = tcp_active_pcbs; t->next != NULL; t = t->next)
			;
		set_tail(t);
	}
	if (tail == second)
		return;
	pcb->next = second->next;
	second->next = NULL;
	tail->next = second;
	set_tail(second);
}
