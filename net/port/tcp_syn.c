/*
 * Room for a connection request when half-open connections hold every
 * TCP PCB (LWIP_HOOK_TCP_INPACKET_PCB, for a segment to a listener).
 *
 * lwIP gives each SYN to a listener a PCB from MEMP_NUM_TCP_PCB, which
 * stays in SYN_RCVD until the handshake completes or, 20 s later
 * (TCP_SYN_RCVD_TIMEOUT), tcp_slowtmr() gives up on it.  When the pool
 * is empty, tcp_alloc() frees a PCB only from TIME_WAIT, LAST_ACK or
 * CLOSING, or from a connection of lower priority than the listener's,
 * and all of ours have the same.  So a SYN flood from addresses that
 * never answer (MEMP_NUM_TCP_PCB SYNs are enough) took the whole pool,
 * and every connection request was dropped until the flood had been over
 * for 20 s.  A listener's backlog does not help: it counts the same
 * half-open connections, and a full one drops SYNs too; so lwIP keeps
 * none (TCP_LISTEN_BACKLOG 0): its limit, 255 at most, is far below the
 * pool on any machine of more than a few MiB (the pool is sized from the
 * memory, net/port/pools.c), and a burst of more real clients than that
 * (10,000 kept-alive ones connecting at once) lost SYNs to it, or had
 * the half-open connections of its first arrivals reset to make room.
 *
 * Here a SYN that would find no PCB first drops the oldest half-open
 * connection, silently (a real peer behind it retransmits its SYN, or
 * gets a RST for its ACK).  A flood then only recycles half-open PCBs:
 * a real client's handshake completes unless as many flood SYNs as the
 * pool holds arrive within its round trip, and established connections
 * are never touched.  This is lwIP's own last resort (tcp_kill_prio())
 * with the choice it cannot make: half-open before established.
 */
#include <lwip/priv/tcp_priv.h>
#include <lwip/stats.h>
#include <lwip/tcp.h>

#include "lwip_hooks.h"

#if !MEMP_STATS || TCP_LISTEN_BACKLOG
#error "tcp_syn_hook() reads the TCP PCBs in use (MEMP_STATS); the pool, not a listener's backlog (TCP_LISTEN_BACKLOG 0), bounds half-open connections"
#endif

err_t
tcp_syn_hook(struct tcp_pcb_listen *lpcb, const struct tcp_hdr *hdr)
{
	const struct stats_mem *pool = lwip_stats.memp[MEMP_TCP_PCB];
	struct tcp_pcb *pcb, *oldest = NULL;
	u32_t idle = 0;

	/* Only a SYN makes tcp_listen_input() allocate (an ACK gets a RST,
	 * a RST is ignored); and tcp_alloc() finds a PCB itself while one
	 * is free or a connection is closing. */
	(void)lpcb;
	if ((TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN ||
	    pool->used < pool->avail || tcp_tw_pcbs != NULL)
		return ERR_OK;
	for (pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next) {
		if (pcb->state == LAST_ACK || pcb->state == CLOSING)
			return ERR_OK;
		/* The list is newest first: on a tie, the later one is older. */
		if (pcb->state == SYN_RCVD && (u32_t)(tcp_ticks - pcb->tmr) >= idle) {
			idle = (u32_t)(tcp_ticks - pcb->tmr);
			oldest = pcb;
		}
	}
	/* A half-open PCB has no callbacks of the service's yet (the accept
	 * callback comes with the handshake's end), so none runs. */
	if (oldest != NULL)
		tcp_abandon(oldest, 0);
	return ERR_OK;
}
