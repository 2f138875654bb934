/*
 * The lwIP hooks Limpet defines (LWIP_HOOK_FILENAME in lwipopts.h names
 * this file; lwIP includes it where it calls them).
 */
#ifndef NET_LWIP_HOOKS_H
#define NET_LWIP_HOOKS_H

#include <lwip/err.h>

struct tcp_pcb;

/* LWIP_HOOK_TCP_INPACKET_PCB: large segments for the device to cut
 * (net/netif/virtio_netif.c).  pcb may be a listening pcb. */
err_t	tcp_tso_hook(struct tcp_pcb *pcb);

#endif
