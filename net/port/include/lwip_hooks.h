/*
 * The lwIP hooks Limpet defines (LWIP_HOOK_FILENAME in lwipopts.h names
 * this file; lwIP includes it where it calls them).
 */
#ifndef NET_LWIP_HOOKS_H
#define NET_LWIP_HOOKS_H

#include <lwip/err.h>
#include <lwip/ip_addr.h>

struct tcp_hdr;
struct tcp_pcb;
struct tcp_pcb_listen;

/* LWIP_HOOK_TCP_INPACKET_PCB, for a segment to a connection: large
 * segments for the device to cut (net/netif/virtio_netif.c). */
err_t	tcp_tso_hook(struct tcp_pcb *pcb);
/* LWIP_HOOK_TCP_INPACKET_PCB, for a segment to a listener: room for a
 * new connection when half-open ones hold every PCB (net/port/tcp_syn.c). */
err_t	tcp_syn_hook(struct tcp_pcb_listen *lpcb, const struct tcp_hdr *hdr);

/* LWIP_HOOK_TCP_INPACKET_PCB, for a segment to a connection: keep the
 * connections taking turns near the head of the list lwIP walks
 * (net/port/tcp_order.c). */
void	tcp_order_hook(struct tcp_pcb *pcb);
/* LWIP_HOOK_TCP_INPACKET_PCB, for every segment to a connection or a
 * listener: the pools that grow with connections take more of their
 * reservation when they run low (net/port/pools.c). */
void	net_pools_grow(void);

/* LWIP_HOOK_TCP_ISN: initial sequence numbers as RFC 6528 makes them
 * (net/port/sys_arch.c). */
u32_t	limpet_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
	    const ip_addr_t *remote_ip, u16_t remote_port);

#endif
