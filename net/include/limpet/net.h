/*
 * limpet/net.h — networking for services.
 *
 * An image built for a service whose service.conf says "net = yes" has
 * lwIP and the virtio-net driver linked in; the kernel brings the first
 * NIC up at boot with the address the build chose (scons ip= gateway=
 * mask=) or the kernel arguments ip= gateway= mask= (or ip=dhcp) gave.
 *
 * Services then use lwIP's raw API directly from main() and from their
 * callbacks: tcp_new(), tcp_bind(), tcp_listen(), tcp_accept(),
 * tcp_write(), udp_new(), udp_recv(), udp_sendto(), ... (<lwip/tcp.h>,
 * <lwip/udp.h>).  Everything runs in the event loop: lwIP's callbacks
 * never run concurrently with the service, and must not block.  Memory
 * handed to tcp_write() without TCP_WRITE_FLAG_COPY may live anywhere in
 * RAM (static, stack frames that outlive the send, malloc()); it must stay
 * untouched until the tcp_sent() callback acknowledges it.
 *
 * Context: loop context only (main or a callback).
 */
#ifndef LIMPET_NET_H
#define LIMPET_NET_H

#include <stdint.h>

#include <netdev.h>	/* struct netdev_stats */

struct limpet_net_config {
	const char	*device;	/* "virtio-net-pci", "virtio-net-mmio" */
	uint8_t		mac[6];
	uint16_t	mtu;
	int		dhcp;		/* the address came (or will come) from DHCP */
	/* Network byte order, as lwIP's ip4_addr_t; 0 until DHCP is bound. */
	uint32_t	ip, mask, gateway;
	char		ip_str[16];	/* the address as text, "" until known */
};

/* True once the interface is up and has an address (at once with a fixed
 * address; when DHCP has answered with ip=dhcp). */
int	limpet_net_ready(void);

/* The interface's configuration: LIMPET_OK, or LIMPET_ENOTSUP when the
 * machine has no network device (the kernel warned at boot). */
int	limpet_net_config(struct limpet_net_config *cfg);

/* The driver's counters (packets, drops, bytes copied, ...): LIMPET_OK,
 * or LIMPET_ENOTSUP without a network device. */
int	limpet_net_stats(struct netdev_stats *st);

#endif /* LIMPET_NET_H */
