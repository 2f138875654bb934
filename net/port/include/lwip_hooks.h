/*
 * The lwIP hooks Limpet defines (LWIP_HOOK_FILENAME in lwipopts.h names
 * this file; lwIP includes it where it calls them).
 */
#ifndef NET_LWIP_HOOKS_H
#define NET_LWIP_HOOKS_H

#include <lwip/err.h>
#include <lwip/ip_addr.h>

struct netif;
struct pbuf;
struct tcp_hdr;
struct tcp_pcb;
struct tcp_pcb_listen;

/* LWIP_HOOK_TCP_INPACKET_PCB, for a segment to a connection: large
 * segments for the device to cut (net/netif/netdev_netif.c). */
err_t	tcp_tso_hook(struct tcp_pcb *pcb);
/* LWIP_HOOK_TCP_INPACKET_PCB, for a segment to a listener: room for a
 * new connection when half-open ones hold every PCB (net/port/tcp_syn.c). */
err_t	tcp_syn_hook(struct tcp_pcb_listen *lpcb, const struct tcp_hdr *hdr);

/* LWIP_HOOK_TCP_INPACKET_PCB, for every segment to a connection or a
 * listener: the pools that grow with connections take more of their
 * reservation when they run low (net/port/pools.c). */
void	net_pools_grow(void);

/* LWIP_HOOK_IP4_INPUT: a segment finds its connection, and a SYN for a
 * new one finds that there is none, without walking every connection
 * (net/port/tcp_lookup.c); 1 when it handled the packet.  And for a
 * segment to a connection (LWIP_HOOK_TCP_INPACKET_PCB), its entry in the
 * index that makes that possible. */
int	tcp_lookup_hook(struct pbuf *p, struct netif *inp);
/* Inside tcp_lookup_hook()'s own ip4_input() or ip6_input(). */
int	tcp_lookup_busy(void);
void	tcp_lookup_seen(struct tcp_pcb *pcb);
/* The index, for the capacity the pools were sized for; -1 without
 * memory for it (SYNs then take lwIP's own way). */
int	tcp_lookup_init(unsigned capacity);
/* SYNs that went through with the lists hidden; connections moved to the
 * head of the active list for their segment, and of those, the ones
 * whose predecessor had to be found by a walk. */
struct tcp_lookup_stats {
	unsigned long	syns_fast;
	unsigned long	moves, walks;
};
extern struct tcp_lookup_stats tcp_lookup_stats;

/* LWIP_HOOK_IP6_INPUT: the guard, then the index, once a packet (the
 * index hands the packet to ip6_input() itself, which calls the hook
 * again: that pass goes through).  ip6_guard_input(): 1 when it dropped
 * (and freed) a packet that lwIP would mishandle (net/port/ip6_guard.c),
 * with a count of each kind. */
int	ip6_input_hook(struct pbuf *p, struct netif *inp);
int	ip6_guard_input(struct pbuf *p, struct netif *inp);
struct ip6_guard_stats {
	unsigned long	fragments;	/* nested, disagreeing, overlapping, ND or
					 * errors in fragments */
	unsigned long	overlaps;	/* datagrams dropped for overlaps (RFC 5722) */
	unsigned long	duplicates;	/* exact duplicates of a fragment, dropped */
	unsigned long	na_ours;	/* NAs for our addresses past DAD */
	unsigned long	ptb_mtu;	/* packet too big below 1280 or not below the link's */
	unsigned long	nd_options;	/* ND options of length zero */
};
extern struct ip6_guard_stats ip6_guard_stats;

/* LWIP_HOOK_ND6_GET_GW: the next hop towards dest, NULL for lwIP's
 * routers (net/net.c). */
const ip6_addr_t *net_ip6_next_hop(struct netif *netif, const ip6_addr_t *dest);

/* LWIP_HOOK_TCP_ISN: initial sequence numbers as RFC 6528 makes them
 * (net/port/sys_arch.c). */
u32_t	limpet_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
	    const ip_addr_t *remote_ip, u16_t remote_port);

#endif
