/*
 * lwIP's configuration for Limpet: NO_SYS=1 and the raw API, driven by the
 * kernel's event loop (one CPU, no threads, no lwIP calls from interrupt
 * handlers), IPv4 and IPv6, sized for throughput and for many short
 * connections.  Every option that differs from lwIP's opt.h, or that the
 * design depends on, is here with the reason; lwIP's own defaults apply to
 * the rest.  The last section holds the netif glue's own limits, since
 * they are tied to the TCP window.
 */
#ifndef LIMPET_LWIPOPTS_H
#define LIMPET_LWIPOPTS_H

/* ---- system ------------------------------------------------------------- */

/** NO_SYS: no threads, semaphores or mailboxes; the event loop calls lwIP. */
#define NO_SYS				1
/** SYS_LIGHTWEIGHT_PROT: nothing runs concurrently with lwIP (interrupt
 * handlers only flag work), so no critical sections are needed. */
#define SYS_LIGHTWEIGHT_PROT		0
/** LWIP_TIMERS: lwIP's timeout list, run by the loop via sys_check_timeouts(). */
#define LWIP_TIMERS			1
/** LWIP_SOCKET: the BSD socket API needs threads; services use the raw API. */
#define LWIP_SOCKET			0
/** LWIP_NETCONN: the sequential API needs threads too. */
#define LWIP_NETCONN			0
/** LWIP_NETIF_API: thread-safe netif calls; nothing to protect against. */
#define LWIP_NETIF_API			0

/* ---- memory ------------------------------------------------------------- */

/** MEM_ALIGNMENT: x86_64 wants 8-byte alignment for pointers and u64_t. */
#define MEM_ALIGNMENT			8
/** MEM_LIBC_MALLOC, mem_clib_*: lwIP's heap, for PBUF_RAM pbufs (the
 * TCP/UDP/IP headers of zero-copy sends, data written with
 * TCP_WRITE_FLAG_COPY such as httpd's response headers, ICMP replies and
 * frames copied when the receive pool runs low), is our constant-time
 * allocator (net/port/heap.c) in place of lwIP's first fit, whose walk
 * over every block took most of the guest's time with thousands of
 * connections.  Not newlib's malloc(): its heap at HEAP_BASE is neither
 * identity-mapped nor contiguous, and the device reads a PBUF_RAM by its
 * address.  The heap's memory is reserved at boot (net/port/pools.c):
 * NET_HEAP_BASE, plus NET_CONN_HEAP for each connection the boot makes
 * room for. */
#define MEM_LIBC_MALLOC			1
#define mem_clib_malloc			limpet_heap_malloc
#define mem_clib_free			limpet_heap_free
#define mem_clib_calloc			limpet_heap_calloc
#define NET_HEAP_BASE			(256 * 1024)
#ifndef __ASSEMBLY__
#include <stddef.h>
void	*limpet_heap_malloc(size_t n);
void	*limpet_heap_calloc(size_t count, size_t size);
void	limpet_heap_free(void *p);
#endif
/*
 * The memp pools of everything a connection holds (TCP_PCB, ALTCP_PCB,
 * TCP_SEG, PBUF) have the static size below, what the smallest machine
 * gets, and grow at run time into memory the boot reserves for them
 * (net/port/pools.c, NET_CONN_* below): memp_malloc() and memp_free()
 * stay lwIP's own, a pop and a push on the pool's free list, and the boot
 * pushes more elements onto those lists.  The other pools do not grow with
 * connections and stay static.
 */
/** MEMP_NUM_PBUF: PBUF_ROM/REF pbufs.  A zero-copy tcp_write() takes one per
 * call (per received segment on the echo path), so this bounds the data in
 * flight; grows by NET_CONN_PBUFS a connection. */
#define MEMP_NUM_PBUF			512
/** PBUF_POOL_SIZE: pool pbufs.  Received frames normally arrive in the
 * netif's own buffers (custom pbufs); the pool only takes frames copied
 * when that pool runs low, and IP reassembly. */
#define PBUF_POOL_SIZE			128
/** MEMP_NUM_TCP_PCB: simultaneously active connections (including
 * TIME_WAIT ones, which lwIP recycles oldest-first when this runs out);
 * the pool grows to the connection capacity the boot computes
 * (NET_CONN_*), and this is its floor. */
#define MEMP_NUM_TCP_PCB		64
/** MEMP_NUM_TCP_PCB_LISTEN: listening ports. */
#define MEMP_NUM_TCP_PCB_LISTEN		16
/** MEMP_NUM_UDP_PCB: UDP endpoints, plus one for DHCP. */
#define MEMP_NUM_UDP_PCB		16
/** MEMP_NUM_TCP_SEG: queued TCP segments across all connections: unacked,
 * unsent and out-of-order.  lwIP wants at least TCP_SND_QUEUELEN, one
 * connection's full send queue; grows by NET_CONN_SEGS a connection. */
#define MEMP_NUM_TCP_SEG		512
/** MEMP_NUM_ARP_QUEUE: packets waiting for an ARP reply (the first
 * packets of new connections to a new neighbour). */
#define MEMP_NUM_ARP_QUEUE		64
/** MEMP_NUM_REASSDATA: IP datagrams being reassembled at once (when all
 * are taken, a new one replaces the oldest). */
#define MEMP_NUM_REASSDATA		8

/* ---- connections, sized at boot (net/port/pools.c) ---------------------- */

/** NET_CONN_MEM_SHARE: the connection capacity (the TCP PCBs, and what
 * the pools above and the heap add for each) takes 1/NET_CONN_MEM_SHARE
 * of the pages free when the network starts, between NET_CONN_MIN and
 * NET_CONN_MAX connections: about 1 KiB each, so -m 64M holds some 16,000
 * and -m 4M some 700.  The memory is reserved; the pools' part of it is
 * not touched: they grow into it in steps as connections come
 * (NET_GROW_*), so a large machine that never sees them costs the host
 * no more memory for them, nor its boot more time. */
#define NET_CONN_MEM_SHARE		4
/** NET_CONN_MIN: the static TCP PCBs, the floor on the smallest machine. */
#define NET_CONN_MIN			MEMP_NUM_TCP_PCB
/** NET_CONN_MAX: the most connections, whatever the memory.  lwIP finds
 * the connection of each arriving segment by walking a list of them, so
 * past a few tens of thousands the walk costs more than the segment's
 * processing; and a quarter of a large machine need not all go there. */
#define NET_CONN_MAX			32768
/** NET_CONN_SEGS, NET_CONN_PBUFS, NET_CONN_HEAP: what each connection of
 * capacity adds to the TCP_SEG and PBUF pools and to the heap: a small
 * response in flight is one or two segments, a header pbuf in the heap
 * (httpd's response header is copied there, about 350 bytes with the
 * segment's headers) and a PBUF_ROM for its zero-copy body.  An idle
 * connection holds none of them. */
#define NET_CONN_SEGS			2
#define NET_CONN_PBUFS			2
#define NET_CONN_HEAP			512
/** MEMP_NUM_ALTCP_PCB: an altcp connection (httpd's) takes one altcp PCB
 * over TCP, two with TLS over it; grows by one a connection of capacity,
 * as a TLS connection's record buffers (~21 KiB) bound those long before. */
#define MEMP_NUM_ALTCP_PCB		(2 * MEMP_NUM_TCP_PCB)
/** NET_GROW_LOW, NET_GROW_STEP: a growing pool with fewer than LOW free
 * elements takes STEP more from its reservation.  The check runs for every
 * segment that reaches a connection or a listener, before lwIP acts on it
 * (LWIP_HOOK_TCP_INPACKET_PCB below), so that what the segment makes
 * lwIP allocate (a PCB for a SYN, an altcp PCB at accept, the segments of
 * a response) finds room.  LOW covers one connection's full send queue
 * (TCP_SND_QUEUELEN segments). */
#define NET_GROW_LOW			256
#define NET_GROW_STEP			512

/* ---- protocols ---------------------------------------------------------- */

/** LWIP_IPV4, LWIP_IPV6: both, on the one interface (net/net.c configures
 * them: ip= and ip6=).  IPv6 has a link-local address from the MAC, a
 * static address (ip6=ADDR/PREFIX) or SLAAC's (ip6=slaac), neighbour
 * discovery and duplicate address detection, MLD for the multicast groups
 * neighbour discovery listens to, ICMPv6 echo, fragmentation and
 * reassembly.  Services listen on both (IPADDR_TYPE_ANY). */
#define LWIP_IPV4			1
#define LWIP_IPV6			1
/** LWIP_IPV6_NUM_ADDRESSES: the link-local address, the static or SLAAC
 * one, and room for a second prefix that a router advertises (lwIP
 * ignores prefixes once every slot is taken, so a flood of router
 * advertisements cannot grow the list). */
#define LWIP_IPV6_NUM_ADDRESSES		3
/** LWIP_IPV6_DUP_DETECT_ATTEMPTS: one neighbour solicitation for each new
 * address (RFC 4862's default); the address serves once it passes, about
 * a second after boot (LWIP_ND6_RETRANS_TIMER). */
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS	1
/** LWIP_ND6_NUM_NEIGHBORS: the neighbour cache, ARP's counterpart.  lwIP
 * recycles its entries oldest first, routers last; spoofed sources of a
 * flood take the incomplete ones.  Each holds at most
 * LWIP_ND6_MAX_NEIGHBOR_QUEUE packets. */
#define LWIP_ND6_NUM_NEIGHBORS		64
/** LWIP_ND6_NUM_DESTINATIONS: the destination cache (next hop and path
 * MTU per destination), recycled oldest first. */
#define LWIP_ND6_NUM_DESTINATIONS	64
/** LWIP_ND6_NUM_PREFIXES, LWIP_ND6_NUM_ROUTERS: on-link prefixes and
 * default routers from router advertisements, lwIP's defaults: more
 * advertised ones than that are ignored. */
#define LWIP_ND6_NUM_PREFIXES		5
#define LWIP_ND6_NUM_ROUTERS		3
/** LWIP_ND6_QUEUEING, MEMP_NUM_ND6_QUEUE: packets waiting for a neighbour
 * to answer (as ARP_QUEUEING), all neighbours together; when the pool is
 * empty lwIP drops the oldest. */
#define LWIP_ND6_QUEUEING		1
#define MEMP_NUM_ND6_QUEUE		64
/** LWIP_ND6_ALLOW_RA_UPDATES: a router's advertisement may lower the
 * link's MTU (never above the device's) and set the timers. */
#define LWIP_ND6_ALLOW_RA_UPDATES	1
/** LWIP_IPV6_MLD, MEMP_NUM_MLD6_GROUP: the solicited-node groups of our
 * addresses, and all-nodes. */
#define LWIP_IPV6_MLD			1
#define MEMP_NUM_MLD6_GROUP		(LWIP_IPV6_NUM_ADDRESSES + 2)
/** LWIP_IPV6_AUTOCONFIG, LWIP_IPV6_SEND_ROUTER_SOLICIT: SLAAC, turned on
 * at boot with ip6=slaac only (net/net.c); the solicitation asks a router
 * to advertise at once. */
#define LWIP_IPV6_AUTOCONFIG		1
#define LWIP_IPV6_SEND_ROUTER_SOLICIT	1
/** LWIP_IPV6_DHCP6: no. */
#define LWIP_IPV6_DHCP6			0
/** LWIP_IPV6_REASS, LWIP_IPV6_FRAG, IPV6_REASS_MAXAGE: as for IPv4, with
 * limits of their own of the same sizes (IP_REASS_MAX_PBUFS fragments,
 * MEMP_NUM_REASSDATA datagrams); an incomplete datagram goes after 15 s,
 * as an IPv4 one (lwIP's 60 held a flood's fragments four times longer).
 * IPV6_FRAG_COPYHEADER: lwIP's bookkeeping of a fragment (a pointer and
 * two offsets) is larger than the fragment header it would overwrite on
 * a 64-bit machine, so it keeps a copy. */
#define LWIP_IPV6_REASS			1
#define LWIP_IPV6_FRAG			1
#define IPV6_REASS_MAXAGE		15
#define IPV6_FRAG_COPYHEADER		1
/** LWIP_ARP: Ethernet needs ARP. */
#define LWIP_ARP			1
/** LWIP_ETHERNET: virtio-net carries Ethernet frames. */
#define LWIP_ETHERNET			1
/** ETHARP_SUPPORT_STATIC_ENTRIES: not used; keep the ARP code small. */
#define ETHARP_SUPPORT_STATIC_ENTRIES	0
/** ARP_QUEUEING: queue packets while ARP resolves instead of dropping all
 * but the last (a burst of SYN-ACKs to a new client would lose some). */
#define ARP_QUEUEING			1
/** ARP_TABLE_SIZE: every neighbour on a /24 (254 addresses), with room to
 * spare.  A new entry takes an empty slot, else lwIP recycles the oldest
 * stable entry before any pending one; so when more on-link addresses
 * are waiting for ARP replies than the table holds, as in a SYN flood
 * with spoofed addresses of the subnet (each SYN-ACK waits for a reply
 * that never comes), they push out the real neighbours, the gateway
 * among them, and the guest cannot answer anyone until the flood is over
 * (with 64 entries, pings from the host were lost for as long as the
 * half-open connections lived).  A /24 cannot overflow 256 entries, and
 * spoofed off-link sources all go to the gateway's one entry.  Lookups
 * of a destination other than the last one scan the table. */
#define ARP_TABLE_SIZE			256
/** LWIP_ICMP, LWIP_ICMP6: answer ping and ping6. */
#define LWIP_ICMP			1
#define LWIP_ICMP6			1
/** LWIP_RAW: no raw IP sockets for now. */
#define LWIP_RAW			0
/** LWIP_UDP: UDP echo, DHCP. */
#define LWIP_UDP			1
/** LWIP_TCP: TCP. */
#define LWIP_TCP			1
/** LWIP_DHCP: ip=dhcp on the kernel command line. */
#define LWIP_DHCP			1
/** DHCP_DOES_ARP_CHECK: skip the 2 s ARP probe
 * of an offered address; boot time matters and the DHCP server (QEMU's,
 * or the host's) owns the range. */
#define DHCP_DOES_ARP_CHECK		0
/** LWIP_AUTOIP, LWIP_IGMP, LWIP_DNS: not used. */
#define LWIP_AUTOIP			0
#define LWIP_IGMP			0
#define LWIP_DNS			0
/** IP_REASSEMBLY, IP_FRAG: accept and produce fragmented UDP datagrams. */
#define IP_REASSEMBLY			1
#define IP_FRAG				1
/** IP_REASS_MAX_PBUFS: the fragments held for reassembly, all datagrams
 * together: enough for the largest, 64 KiB in 45 frames at a 1500-byte
 * MTU (lwIP's 10 dropped every datagram above 14 KiB, a UDP echo or a
 * ping alike).  Each holds a receive buffer, or a pool pbuf when frames
 * are copied, until the datagram is complete or IP_REASS_MAXAGE (15 s)
 * passes; when full, lwIP drops the oldest incomplete datagram, so a
 * flood of fragments that never complete pins 48 buffers at most.
 * lwIP asks for PBUF_POOL_SIZE > 2 * IP_REASS_MAX_PBUFS. */
#define IP_REASS_MAX_PBUFS		48
/** MEMP_NUM_FRAG_PBUF: the fragments of our own datagrams that the device
 * still holds.  ip4_frag() sends each by reference to the datagram, and
 * the driver keeps the reference until the device has sent it, which may
 * be after the whole datagram went down; lwIP's 15 cut every datagram of
 * more than 15 fragments (22 KiB) short.  Two of the largest at once. */
#define MEMP_NUM_FRAG_PBUF		(2 * 45)
/** LWIP_NETIF_STATUS_CALLBACK: net.c reports the address DHCP assigns. */
#define LWIP_NETIF_STATUS_CALLBACK	1
/** LWIP_NETIF_EXT_STATUS_CALLBACK: net.c says when an IPv6 address is
 * ready (duplicate address detection passed) or found taken. */
#define LWIP_NETIF_EXT_STATUS_CALLBACK	1
/** LWIP_NETIF_LINK_CALLBACK: not used (the link state is read at start). */
#define LWIP_NETIF_LINK_CALLBACK	0
/** LWIP_NETIF_TX_SINGLE_PBUF: no: the driver takes pbuf chains as
 * scatter-gather lists, which is what makes transmit zero-copy. */
#define LWIP_NETIF_TX_SINGLE_PBUF	0
/** LWIP_SINGLE_NETIF: one NIC for now; saves the routing walk. */
#define LWIP_SINGLE_NETIF		1

/* ---- TCP ---------------------------------------------------------------- */

/** TCP_MSS: a full Ethernet frame: 1500 - 20 (IP) - 20 (TCP). */
#define TCP_MSS				1460
/** TCP_WND: the receive window, 44 segments (64240 bytes, the largest
 * multiple of the MSS below 64 KiB, so no window scaling is needed).  At
 * a 1 ms round trip that allows ~500 Mbit/s per connection. */
#define TCP_WND				(44 * TCP_MSS)
/** TCP_SND_BUF: bytes a connection may have unacknowledged or queued:
 * matched to the window so an echo of a full window fits.  (Connections
 * that send large frames get NET_TSO_SND_BUF.) */
#define TCP_SND_BUF			(44 * TCP_MSS)
/** LWIP_WND_SCALE, TCP_RCV_SCALE: window scaling (RFC 7323) so that a
 * peer may let us have more than 64 KiB in flight: the host's TCP opens
 * its receive window to megabytes.  Ours stays TCP_WND (scale 0): a
 * larger one would pin more of the netif's receive buffers. */
#define LWIP_WND_SCALE			1
#define TCP_RCV_SCALE			0
/** TCP_SND_QUEUELEN: pbufs a connection may have queued; zero-copy writes
 * of small received segments use one each, so allow 4 per MSS. */
#define TCP_SND_QUEUELEN		(4 * TCP_SND_BUF / TCP_MSS)
/** TCP_MSL: the maximum segment lifetime; TIME_WAIT lasts 2 * TCP_MSL.
 * lwIP's 60 s keeps every closed connection's PCB for two minutes, so a
 * few hundred connections a second exhaust MEMP_NUM_TCP_PCB (and lwIP
 * then kills the oldest TIME_WAIT PCBs, defeating the point).  Segments
 * do not survive seconds on the virtual links and LANs Limpet serves;
 * 1 s (2 s TIME_WAIT) still catches a late retransmission. */
#define TCP_MSL				1000UL
/** TCP_QUEUE_OOSEQ: keep out-of-order segments: a single loss then costs
 * one retransmission, not a window's worth. */
#define TCP_QUEUE_OOSEQ			1
/** TCP_OOSEQ_MAX_PBUFS: ... but bound the receive buffers one connection
 * can pin that way (each pins a buffer of the netif's receive pool). */
#define TCP_OOSEQ_MAX_PBUFS		32
/** LWIP_TCP_SACK_OUT: tell the peer what arrived out of order. */
#define LWIP_TCP_SACK_OUT		1
/** TCP_LISTEN_BACKLOG: no per-listener limit on half-open connections
 * (lwIP's is 255 at most): the PCB pool, sized from the memory, bounds
 * them, and when they hold all of it a new SYN pushes out the oldest
 * (the listener hook below, net/port/tcp_syn.c).  With the limit, a
 * burst of thousands of real clients connecting at once lost SYNs, or
 * half-open connections, to it. */
#define TCP_LISTEN_BACKLOG		0
/** LWIP_TCP_TIMESTAMPS: not needed for window sizes below 64 KiB. */
#define LWIP_TCP_TIMESTAMPS		0
/** LWIP_CALLBACK_API: the raw API's callbacks (tcp_recv, tcp_sent, ...). */
#define LWIP_CALLBACK_API		1

/* ---- altcp and TLS ------------------------------------------------------ */

/** LWIP_ALTCP: the altcp API (altcp_*), which TLS services use; on in every
 * build so that lwIP's core is the same with and without TLS.  It costs the
 * images that do not use it altcp.c and altcp_tcp.c (a few KiB) and the
 * ALTCP_PCB pool; the raw tcp_* API is unchanged. */
#define LWIP_ALTCP			1
#ifdef LIMPET_TLS
/** LWIP_ALTCP_TLS: altcp_tls.h's declarations, for the code the build
 * compiles for TLS images (LIMPET_TLS): net/tls/, whose tls_altcp.c is
 * the TLS layer (over mbedTLS 3.6; lwIP's own, altcp_tls_mbedtls.c, is
 * for mbedTLS 2 and not built), and the services built with TLS. */
#define LWIP_ALTCP_TLS			1
#endif

/* ---- checksums ---------------------------------------------------------- */

/** CHECKSUM_GEN_*, CHECKSUM_CHECK_*: all compiled in; which ones run is
 * decided per interface (below), since only some devices offload. */
#define CHECKSUM_GEN_IP			1
#define CHECKSUM_GEN_UDP		1
#define CHECKSUM_GEN_TCP		1
#define CHECKSUM_GEN_ICMP		1
#define CHECKSUM_CHECK_IP		1
#define CHECKSUM_CHECK_UDP		1
#define CHECKSUM_CHECK_TCP		1
#define CHECKSUM_CHECK_ICMP		1
/** LWIP_CHECKSUM_CTRL_PER_NETIF: the netif turns TCP checksums on
 * transmit off when the device fills them in, and the receive checks off
 * for a frame the device vouches for (net/netif/netdev_netif.c). */
#define LWIP_CHECKSUM_CTRL_PER_NETIF	1
/** LWIP_CHECKSUM_ON_COPY: fold the sum into copying writes (TCP_WRITE_FLAG_COPY). */
#define LWIP_CHECKSUM_ON_COPY		1

/* ---- statistics and debugging ------------------------------------------- */

/** LWIP_STATS: counters for memory pools and protocols (lwip_stats), read
 * by services and tests when something runs out; cheap. */
#define LWIP_STATS			1
/** LWIP_STATS_DISPLAY: stats_display() prints them (through kprintf). */
#define LWIP_STATS_DISPLAY		1
/** MEM_STATS: the heap's counters (lwIP turns them off by default with
 * MEM_LIBC_MALLOC; its mem.c keeps them for our allocator too). */
#define MEM_STATS			1
/** LWIP_NOASSERT: lwIP's internal assertions only in debug builds, as the
 * kernel's assert() (release builds define NDEBUG): they run on every
 * packet, and under TCG every instruction counts.  LWIP_ERROR's checks of
 * arguments stay. */
#ifdef NDEBUG
#define LWIP_NOASSERT
#endif
/** LWIP_DEBUG: lwIP's debug messages, off unless the build asks. */
#ifdef LIMPET_LWIP_DEBUG
#define LWIP_DEBUG			1
#endif

/* ---- the netif glue (net/netif/netdev_netif.c) -------------------------- */

/** NET_RX_BUFFERS: the most receive buffers in the netif's pool.  Received
 * data stays in its buffer until lwIP and the service free it (the echo
 * keeps it until the echo is acknowledged), and frames wait in the
 * netif's backlog until lwIP takes them, so a large pool covers the ring,
 * the windows of many busy connections and a burst from thousands of
 * clients at once: 16384 buffers of ~1.5 KiB is 24 MiB, which a VM of
 * 256 MiB gives it. */
#define NET_RX_BUFFERS			16384
/** NET_RX_MIN: the fewest: half the device's ring (256), below which a
 * burst at one full window cannot land. */
#define NET_RX_MIN			128
/** NET_RX_MEM_SHARE: the pool takes 1/NET_RX_MEM_SHARE of the pages free
 * at boot, between NET_RX_MIN and NET_RX_BUFFERS buffers: the ceiling
 * from about -m 220M up, the floor at a few MiB, so small VMs still boot. */
#define NET_RX_MEM_SHARE		8
/** NET_RX_RESERVE: when fewer buffers than this (or a quarter of a smaller
 * pool) are free, arriving frames are copied (and counted) and their
 * buffer goes straight back to the ring, so acknowledgements still get in
 * and free pinned buffers. */
#define NET_RX_RESERVE			256
/** NET_TX_QUEUE: frames the netif holds (by reference, no copy) while the
 * device's transmit ring is full, sent in order as the ring drains.  A
 * full ring is normal in a burst (one connection may emit a whole 44-
 * segment window at once, and the ring takes 256 descriptors, i.e. about
 * 85 three-piece frames); dropping there costs TCP a retransmission
 * timeout.  Room for every TCP segment lwIP can have out at once (it
 * never hands over a segment the netif still holds), so that no TCP frame
 * is ever dropped here, and as many others: at 256, 64 clients of a
 * 1 MiB file overflowed it hundreds of times a minute (8 bytes a slot).
 * So the FIFO has NET_TX_QUEUE slots for each segment of the TCP_SEG
 * pool as it may grow (net_tcp_seg_capacity()), page-allocated at boot:
 * 260 KiB in -m 64M. */
#define NET_TX_QUEUE			2

/** NET_TSO_SEGS, NET_TSO_SEGS_MAX: with a device that segments TCP (a
 * tap device's vnet header), a connection whose peer takes full-size
 * segments sends frames of NET_TSO_SEGS segments, growing to
 * NET_TSO_SEGS_MAX (64 KiB, the most an IP packet holds) as its
 * congestion window grows; the device (the host) cuts them up.  At 64 KiB
 * lwIP, the ring and QEMU make one trip where they would make 44: 1 MiB
 * over HTTP is twice as fast as with 5.  Five to start keeps the initial
 * window at two such frames, RFC 6928's ten segments.  1 turns it off. */
#define NET_TSO_SEGS			5
#define NET_TSO_SEGS_MAX		44
/** NET_TSO_SND_BUF: the send buffer of a connection that sends large
 * frames: four of the largest, so that two can be in flight while two
 * more are queued behind them. */
#define NET_TSO_SND_BUF			(4 * NET_TSO_SEGS_MAX * TCP_MSS)

/** LWIP_HOOK_FILENAME, LWIP_HOOK_TCP_INPACKET_PCB: the pools that grow
 * with connections take more of their reservation when they run low
 * (net/port/pools.c); a SYN to a listener makes room when half-open
 * connections hold every PCB or the listener's backlog, so that a SYN
 * flood cannot keep real clients out (net/port/tcp_syn.c); the netif
 * raises a new connection's MSS for NET_TSO_SEGS
 * (net/netif/netdev_netif.c). */
#define LWIP_HOOK_FILENAME		"lwip_hooks.h"
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
	(net_pools_grow(), \
	    (pcb)->state == LISTEN ? tcp_syn_hook((struct tcp_pcb_listen *)(pcb), (hdr)) : \
	    (tcp_lookup_seen(pcb), tcp_tso_hook(pcb)))
/** LWIP_HOOK_IP4_INPUT, LWIP_HOOK_IP6_INPUT: a segment finds its
 * connection, and a SYN for a new connection finds that none has its
 * address and ports, in an index (net/port/tcp_lookup.c) instead of
 * walking every one of them, with the hook above keeping a connection's
 * entry.  LWIP_TCP_PCB_NUM_EXT_ARGS: a slot for the index's entry. */
#define LWIP_HOOK_IP4_INPUT(p, inp)	tcp_lookup_hook(p, inp)
/** LWIP_HOOK_IP6_INPUT: first, the packets lwIP 2.1.3 would mishandle are
 * dropped (net/port/ip6_guard.c: fragments in fragments, fragments that
 * disagree, ND and ICMPv6 errors in fragments, a neighbour advertisement
 * taking an address that passed DAD, packet too big below 1280 or at or
 * above the link's MTU, ND
 * options of length zero). */
#define LWIP_HOOK_IP6_INPUT(p, inp)	ip6_input_hook(p, inp)
/** LWIP_HOOK_ND6_GET_GW: the next hop of an IPv6 destination that no
 * router advertisement put on the link: itself inside the static
 * address's prefix (ip6=ADDR/PREFIX, any length), else the static
 * gateway (gateway6=), else none of ours (net/net.c). */
#define LWIP_HOOK_ND6_GET_GW(netif, dest) net_ip6_next_hop(netif, dest)
#define LWIP_TCP_PCB_NUM_EXT_ARGS	1
/** LWIP_HOOK_TCP_ISN: unpredictable initial sequence numbers (RFC 6528;
 * net/port/sys_arch.c): lwIP's own are the same for every connection. */
#define LWIP_HOOK_TCP_ISN(lip, lport, rip, rport) limpet_tcp_isn(lip, lport, rip, rport)

/* ---- combinations we do not support ------------------------------------- */

#if !NO_SYS || LWIP_SOCKET || LWIP_NETCONN
#error "Limpet runs lwIP with NO_SYS=1 and the raw API only"
#endif
#if TCP_WND > 0xffff || TCP_RCV_SCALE != 0
#error "TCP_WND: at most 64 KiB, unscaled: more would pin more of the netif's receive buffers"
#endif
#if NET_TSO_SEGS < 1 || NET_TSO_SEGS_MAX < NET_TSO_SEGS || 2 * NET_TSO_SEGS * TCP_MSS > TCP_SND_BUF || \
    NET_TSO_SEGS_MAX * TCP_MSS + 40 > 0xffff || 2 * NET_TSO_SEGS_MAX * TCP_MSS > NET_TSO_SND_BUF
#error "NET_TSO_SEGS(_MAX): 1 or more, a frame an IP packet, two frames within the send buffer"
#endif
#if !LWIP_WND_SCALE && 0xffff / 2 + 3 * NET_TSO_SEGS_MAX * TCP_MSS > 0xffff
#error "NET_TSO_SEGS_MAX: without window scaling lwIP's 16-bit fast retransmit arithmetic (half the window plus three frames) overflows"
#endif
#if LWIP_NETIF_TX_SINGLE_PBUF
#error "the netif glue sends pbuf chains as scatter-gather lists; LWIP_NETIF_TX_SINGLE_PBUF must be 0"
#endif
#if !MEM_LIBC_MALLOC
#error "MEM_LIBC_MALLOC: lwIP's heap is net/port/heap.c's"
#endif
#if PBUF_POOL_SIZE <= 2 * IP_REASS_MAX_PBUFS
#error "IP_REASS_MAX_PBUFS: lwIP wants PBUF_POOL_SIZE > 2 * IP_REASS_MAX_PBUFS, so reassembly cannot take the whole pool"
#endif
#if NET_CONN_MIN != MEMP_NUM_TCP_PCB || NET_CONN_MAX < NET_CONN_MIN || NET_CONN_MAX > 0xffffff
#error "NET_CONN_MIN is the static TCP PCBs; NET_CONN_MAX is at least that"
#endif
#if NET_GROW_STEP < NET_GROW_LOW || NET_GROW_LOW < TCP_SND_QUEUELEN
#error "NET_GROW_LOW must cover a send queue (TCP_SND_QUEUELEN), and a step must refill it"
#endif
#if NET_RX_RESERVE >= NET_RX_BUFFERS || NET_RX_MIN > NET_RX_BUFFERS
#error "NET_RX_RESERVE must be below NET_RX_BUFFERS, and NET_RX_MIN at most NET_RX_BUFFERS"
#endif

#endif /* LIMPET_LWIPOPTS_H */
