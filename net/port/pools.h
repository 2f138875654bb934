/*
 * lwIP's heap and connection pools, sized at boot (pools.c).
 */
#ifndef NET_PORT_POOLS_H
#define NET_PORT_POOLS_H

/* Reserve the memory of the connection capacity, lwIP's heap among it,
 * from the pages free now; before lwip_init().  0, or -1 without memory
 * even for the smallest capacity. */
int	net_pools_init(void);
/* The TCP connections lwIP can hold (its TCP PCBs once grown). */
unsigned net_tcp_capacity(void);
/* The TCP segments lwIP can have (its TCP_SEG pool once grown). */
unsigned net_tcp_seg_capacity(void);

#endif
