/*
 * virtio 1.x network device wire format (5.1 "Network Device"): the
 * constants and structures the spec defines for it, with the section they
 * come from (Virtual I/O Device (VIRTIO) Version 1.1, OASIS).  What every
 * device type shares (status, VIRTIO_F_* feature bits and VIRTIO_BIT(),
 * the transports, the virtqueues) is in drivers/virtio/virtio_reg.h.  No
 * driver state lives here (see virtio_net.c).
 *
 * Every multi-byte field is little-endian on the wire (5.1.6, with
 * VIRTIO_F_VERSION_1): x86_64 is little-endian, so plain integer types do.
 */
#ifndef DRIVERS_VIRTIO_NET_REG_H
#define DRIVERS_VIRTIO_NET_REG_H

#include <stdint.h>

/* ---- 5.1.2 Virtqueues ------------------------------------------------- */
/* receiveq1 is queue 0, transmitq1 queue 1. */
#define VIRTIO_NET_RXQ			0
#define VIRTIO_NET_TXQ			1

/* ---- 5.1.3 Feature bits ----------------------------------------------- */
#define VIRTIO_NET_F_CSUM		0	/* device handles partial csum */
#define VIRTIO_NET_F_GUEST_CSUM		1	/* driver handles partial csum */
#define VIRTIO_NET_F_MTU		3	/* config mtu is valid */
#define VIRTIO_NET_F_MAC		5	/* config mac is valid */
#define VIRTIO_NET_F_GUEST_TSO4		7	/* driver takes merged TCPv4 */
#define VIRTIO_NET_F_GUEST_TSO6		8	/* driver takes merged TCPv6 */
#define VIRTIO_NET_F_HOST_TSO4		11	/* device segments TCPv4 */
#define VIRTIO_NET_F_MRG_RXBUF		15	/* RX buffers may be merged */
#define VIRTIO_NET_F_STATUS		16	/* config status is valid */

/* ---- 5.1.4 Network Device Configuration Layout ------------------------ */
#define VIRTIO_NET_CFG_MAC		0	/* u8[6], with VIRTIO_NET_F_MAC */
#define VIRTIO_NET_CFG_STATUS		6	/* le16, with VIRTIO_NET_F_STATUS */
#define VIRTIO_NET_CFG_MTU		10	/* le16, with VIRTIO_NET_F_MTU */

#define VIRTIO_NET_S_LINK_UP		1
#define VIRTIO_NET_S_ANNOUNCE		2

/* ---- 5.1.6 Device Operation: the header in front of every packet ------- */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1	/* csum_start/offset are valid */
#define VIRTIO_NET_HDR_F_DATA_VALID	2	/* RX: the device checked it */
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1

struct virtio_net_hdr {
	uint8_t		flags;
	uint8_t		gso_type;
	uint16_t	hdr_len;
	uint16_t	gso_size;
	uint16_t	csum_start;
	uint16_t	csum_offset;
	uint16_t	num_buffers;	/* 5.1.6: present with VERSION_1 */
} __attribute__((packed));

_Static_assert(sizeof(struct virtio_net_hdr) == 12, "5.1.6 header with VERSION_1");

/* 5.1.6.3.1: without MRG_RXBUF or GUEST_TSO*, each receive buffer holds
 * at least the header and a 1514-byte frame. */
#define VIRTIO_NET_RX_MIN		(sizeof(struct virtio_net_hdr) + 1514)
/* 5.1.6.4: a merged TCP segment is at most this long, header included. */
#define VIRTIO_NET_RX_GSO_MAX		(sizeof(struct virtio_net_hdr) + 65550)

#endif
