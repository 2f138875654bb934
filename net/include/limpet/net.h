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
 * limpet_tcp_listen() and limpet_tcp_close() below are the part of a TCP
 * server that every service would write the same way: accept a
 * connection, give it its own state and callbacks, and close it with no
 * callback left behind; struct limpet_tcp_echo sends received data back
 * without copying it.
 *
 * Errors: calls that can fail return an enum limpet_result (<limpet.h>);
 * yes-or-no questions return bool.  lwIP's own err_t appears only where
 * lwIP's callbacks do (the callbacks of struct limpet_tcp_service).
 *
 * Context: loop context only (main or a callback).
 */
#ifndef LIMPET_NET_H
#define LIMPET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <limpet.h>
#include <lwip/tcp.h>

/* How IPv6 is configured (kernel argument ip6=, scons ip6=). */
enum limpet_ip6_mode {
	LIMPET_IP6_OFF,			/* no IPv6 at all */
	LIMPET_IP6_STATIC,		/* link-local and ADDR/PREFIX */
	LIMPET_IP6_SLAAC,		/* link-local and what routers advertise */
};

#define LIMPET_NET_IP6_MAX	3	/* LWIP_IPV6_NUM_ADDRESSES */

/* One of the interface's IPv6 addresses. */
struct limpet_net_ip6 {
	char		str[46];	/* as text, "fe80::5054:ff:fe12:3456" */
	uint8_t		prefix;		/* the prefix length */
	bool		ready;		/* duplicate address detection passed */
};

struct limpet_net_config {
	const char	*device;	/* "virtio-net-pci", "virtio-net-mmio" */
	uint8_t		mac[6];
	uint16_t	mtu;
	bool		dhcp;		/* the address came (or will come) from DHCP */
	/* Network byte order, as lwIP's ip4_addr_t; 0 until DHCP is bound. */
	uint32_t	ip, mask, gateway;
	char		ip_str[16];	/* the address as text, "" until known */
	enum limpet_ip6_mode ip6_mode;
	/* The IPv6 addresses, link-local first, those being checked
	 * (tentative) included, duplicates left out. */
	unsigned	ip6_count;
	struct limpet_net_ip6 ip6[LIMPET_NET_IP6_MAX];
	char		gateway6_str[46];	/* gateway6=, "" for none */
};

/* True once the interface is up and has an address (at once with a fixed
 * address; when DHCP has answered with ip=dhcp). */
bool	limpet_net_ready(void);

/* The interface's configuration: LIMPET_OK, or LIMPET_ENOTSUP when the
 * machine has no network device (the kernel warned at boot). */
enum limpet_result limpet_net_config(struct limpet_net_config *cfg);

/* An address as text, IPv4's dotted quad or IPv6 in RFC 5952's lower
 * case (lwIP's ipaddr_ntoa_r() writes upper), in buf of size bytes
 * (IPADDR_STRLEN_MAX holds any); returns buf. */
char	*limpet_net_addr_text(const ip_addr_t *a, char *buf, size_t size);

/* The network device's counters. */
struct limpet_net_stats {
	uint64_t	rx_packets, rx_bytes, rx_drops;
	uint64_t	tx_packets, tx_bytes, tx_drops;
	uint64_t	tx_ring_full;	/* sends the ring had no room for (queued) */
	uint64_t	rx_no_buffers;	/* refills that found the pool empty */
	uint64_t	interrupts;
	uint64_t	rx_large;	/* frames larger than the MTU (merged by the host) */
	uint64_t	tx_csum;	/* frames the device checksummed */
	uint64_t	tx_tso;		/* frames the device cut into segments */
	uint64_t	tx_tso_max;	/* the largest of those, bytes */
	uint64_t	bytes_copied;	/* payload bytes copied on the data path (goal: 0) */
	uint64_t	tx_invalid;	/* malformed frames refused before the device */
	uint64_t	device_resets;	/* the device broke and was set up again */
	uint64_t	link_changes;	/* the link went down or came back */
	uint64_t	tx_stalls;	/* sending stalled for a second, and was kicked */
};

/* The device's counters: LIMPET_OK, or LIMPET_ENOTSUP without a network
 * device. */
enum limpet_result limpet_net_stats(struct limpet_net_stats *st);

/* The receive buffers (received frames stay in them, zero copy, until
 * lwIP and the service let go): *total of them, of which *nfree are
 * neither posted to the device nor holding a frame.  LIMPET_OK, or
 * LIMPET_ENOTSUP without a network device. */
enum limpet_result limpet_net_rx_buffers(uint32_t *total, uint32_t *nfree);
/* Of those, *held hold frames that lwIP or a service still has (neither
 * free nor posted: the rest of the ring's count varies with how many
 * descriptors each buffer takes).  What a leak of received frames would
 * show.  LIMPET_OK, or LIMPET_ENOTSUP without a network device. */
enum limpet_result limpet_net_rx_held(uint32_t *held);
/* Frames received and waiting for lwIP in the netif's backlog: *now, and
 * the most there have been (a burst the device's ring alone could not
 * have held).  LIMPET_OK, or LIMPET_ENOTSUP without a network device. */
enum limpet_result limpet_net_rx_backlog(uint32_t *now, uint32_t *max);
/* IPv6 packets dropped before lwIP read them, which lwIP 2.1.3 would have
 * mishandled (net/port/ip6_guard.c): fragments inside fragments, that
 * disagree or overlap, or carrying neighbour discovery or ICMPv6 errors
 * (all counted in fragments; of them, the datagrams dropped for an
 * overlap, RFC 5722, and exact duplicates of a fragment); neighbour
 * advertisements for an address of ours past DAD; packet too big outside
 * 1280..the link's MTU; neighbour discovery options of length zero. */
struct limpet_net_ip6_drops {
	uint64_t	fragments, overlaps, duplicates;
	uint64_t	na_ours, ptb_mtu, nd_options;
};
void	limpet_net_ip6_drops(struct limpet_net_ip6_drops *d);

/* How segments found their connection (net/port/tcp_lookup.c): SYNs for a
 * new connection that skipped lwIP's lists, connections moved to the head
 * of the list for a segment, and moves whose list position took a walk. */
void	limpet_net_tcp_lookup(uint64_t *syns_fast, uint64_t *moves, uint64_t *walks);

/* lwIP's TCP connections by state: counts[s] is the number of PCBs in
 * state s (enum tcp_state, CLOSED to TIME_WAIT; tcp_debug_state_str()
 * names them), listening and bound ones included.  What a connection
 * that its service has closed still holds, until its FIN is acknowledged
 * or its TIME_WAIT is over, shows here and nowhere else. */
#define LIMPET_TCP_NSTATES	11
void	limpet_net_tcp_states(uint32_t counts[LIMPET_TCP_NSTATES]);

/* How many TCP connections lwIP can hold at once, every state counted
 * (half-open and TIME_WAIT ones too): its pools are sized at boot from
 * the machine's memory (NET_CONN_* in lwipopts.h), about 16,000 in
 * -m 64M.  0 without a network device. */
unsigned limpet_tcp_capacity(void);

/*
 * How a listener serves the connections it accepts.  Each gets state of
 * its own, conn_size bytes, zeroed, which is the arg of every callback
 * below (tcp_arg()).  That state is net/'s: it is freed after err() has
 * run, or when the service closes the connection (limpet_tcp_close()),
 * never by the service.
 */
struct limpet_tcp_service {
	size_t		conn_size;	/* the per-connection state, > 0 */
	/* Called once the connection is set up, to note the pcb, count
	 * connections...; NULL when there is nothing to do. */
	void		(*accepted)(void *conn, struct tcp_pcb *pcb);
	tcp_recv_fn	recv;
	tcp_sent_fn	sent;		/* NULL: not told of acknowledgements */
	/* The connection is gone (reset by the peer, or aborted, by
	 * tcp_abort() too): lwIP has freed the pcb, and the state is freed
	 * when this returns.  NULL: nothing to do. */
	tcp_err_fn	err;
	tcp_poll_fn	poll;		/* NULL: not polled */
	u8_t		poll_interval;	/* in lwIP's slow ticks (500 ms) */
};

/*
 * Listen on TCP port (IPv4 and IPv6, any address) and serve every
 * connection as svc says, with Nagle's algorithm off so that small writes
 * leave at once.  A connection that finds no memory for its state is
 * reset.  svc must stay valid as long as the listener, forever in
 * practice.  Call from main(), before limpet_run().  Returns LIMPET_OK,
 * LIMPET_EADDRINUSE when the port is taken, LIMPET_EINVAL for port 0, or
 * LIMPET_ENOMEM when lwIP has no memory for the listener.
 */
enum limpet_result limpet_tcp_listen(uint16_t port, const struct limpet_tcp_service *svc);

/*
 * Close an accepted connection gracefully, from one of its callbacks
 * (which then returns ERR_OK): its callbacks are removed and its state
 * freed, so neither may be used after this, and lwIP sends the FIN.  When
 * lwIP has no memory for the FIN, net/ tries again every second, and
 * resets the connection after ten tries.
 */
void	limpet_tcp_close(struct tcp_pcb *pcb);

/*
 * Echoing what a connection receives without copying it: the received
 * pbufs queue up, go back to tcp_write() in place (lwIP points at their
 * payload), and are freed only as the peer acknowledges them, when the
 * window reopens too.  Used by echo and netbench.  Zero-initialised is
 * empty.
 */
struct limpet_tcp_echo {
	struct pbuf	*q;		/* received, not yet acknowledged */
	uint32_t	written;	/* of q's bytes, with tcp_write() */
};

/* Queue p (the reference recv() was given passes to the queue). */
void	limpet_tcp_echo_add(struct limpet_tcp_echo *e, struct pbuf *p);
/* Hand the unwritten part to tcp_write(), as far as lwIP's send buffer
 * and queue take it; *wrote (if not NULL) says whether anything went.
 * LIMPET_OK, or LIMPET_EIO when tcp_write() failed other than for want
 * of room, after which the caller aborts the connection.  Call again from
 * sent() or poll(). */
enum limpet_result limpet_tcp_echo_write(struct limpet_tcp_echo *e, struct tcp_pcb *pcb,
	    bool *wrote);
/* len bytes were acknowledged (sent()): free them, reopen the window. */
void	limpet_tcp_echo_acked(struct limpet_tcp_echo *e, struct tcp_pcb *pcb, u16_t len);
/* Free what is queued (the connection is gone). */
void	limpet_tcp_echo_free(struct limpet_tcp_echo *e);

#endif /* LIMPET_NET_H */
