/*
 * The lwIP netif over a netdev (drivers/include/netdev.h): receive buffers
 * from a pool of our own, posted to the device and handed to lwIP as
 * custom pbufs without copying; transmit of pbuf chains as scatter-gather
 * lists, also without copying.
 */
#ifndef NET_NETDEV_NETIF_H
#define NET_NETDEV_NETIF_H

#include <stdint.h>

#include <lwip/err.h>
#include <lwip/netif.h>

struct netdev;

/* What netdev_netif_init() is given, as netif_add()'s state: the device,
 * and the offloads net/ wants of it (NETDEV_OFF_*; the device takes those
 * of them it has). */
struct netdev_netif_conf {
	struct netdev	*dev;
	unsigned	offloads;
};

/* lwIP's netif init function: pass it to netif_add() with a struct
 * netdev_netif_conf * as the state (read during the call only).  Sets the
 * MAC, MTU and flags up, allocates the receive pool and starts the
 * device.  ERR_MEM or ERR_IF on failure. */
err_t	netdev_netif_init(struct netif *netif);

/* The receive pool: *total buffers, of which *nfree are in the pool (not
 * posted to the device, not holding a frame). */
void	netdev_netif_rx_buffers(uint32_t *total, uint32_t *nfree);
/* Of the others, those posted to the device (the rest hold frames that
 * lwIP or a service still has). */
uint32_t netdev_netif_rx_posted(void);
/* Frames in the backlog (taken off the ring, not yet handed to lwIP): now
 * and the most since boot. */
void	netdev_netif_rx_backlog(uint32_t *now, uint32_t *max);

#endif
