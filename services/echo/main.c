/*
 * echo: TCP and UDP echo (RFC 862) on port 7, without copying the data.
 *
 *	./limpet run echo [-- --port N] [--limit N] [--stats MS]
 *
 * --port N	listen on port N instead of 7
 * --limit N	exit (status 0, after a summary) once N TCP connections
 *		have ended: a smoke mode for tests and benchmarks
 * --stats MS	every MS milliseconds, print a line of what is in use:
 *		open connections, receive buffers out of the pool (posted
 *		to the device or holding frames), lwIP's heap (bytes) and
 *		each of its pools ("echo: stats: open 0, rx_buffers 253,
 *		heap 0, UDP_PCB 1, ..."), so that a test can see it all
 *		come back after a load (tests/test_hostile.py)
 *
 * TCP: received pbufs are queued per connection and their payload is
 * passed to tcp_write() in place (no TCP_WRITE_FLAG_COPY).  lwIP then
 * references that memory until the peer acknowledges it, so a queued pbuf
 * is freed, and the receive window reopened with tcp_recved(), only as
 * tcp_sent() reports bytes acknowledged.  A client that does not read
 * therefore fills our send buffer, then our receive window closes, and
 * nothing is buffered beyond one window per connection.
 *
 * UDP: the received pbuf goes back out as it is (lwIP chains a header
 * pbuf in front of it).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <limpet.h>
#include <limpet/net.h>

#include <lwip/memp.h>
#include <lwip/pbuf.h>
#include <lwip/stats.h>
#include <lwip/tcp.h>
#include <lwip/udp.h>

#define ECHO_PORT	7
/* The slow timer runs every 500 ms; poll a connection every second to
 * retry a close or a send that failed for want of memory. */
#define POLL_INTERVAL	2

struct conn {
	struct tcp_pcb	*pcb;
	/* Data received and not yet acknowledged by the peer, echoed in
	 * place.  At most TCP_WND bytes, since the window only reopens as
	 * this drains. */
	struct limpet_tcp_echo	echo;
	int		peer_closed;	/* FIN received */
};

static struct {
	unsigned long	limit;		/* --limit: 0 = run forever */
	unsigned long	stats_ms;	/* --stats: 0 = never */
	unsigned long	accepted, closed, resets;
	uint64_t	tcp_bytes;
	uint64_t	udp_datagrams, udp_bytes;
} echo;

/* ---- TCP -------------------------------------------------------------- */

/* The connection is over (its state goes once this returns). */
static void
conn_done(struct conn *c, int reset)
{
	limpet_tcp_echo_free(&c->echo);
	echo.closed++;
	echo.resets += reset;
	if (echo.limit != 0 && echo.closed == echo.limit)
		limpet_stop(0);
}

/* Drop the connection with a RST; its err callback counts it. */
static err_t
conn_abort(struct conn *c)
{
	tcp_abort(c->pcb);
	return ERR_ABRT;
}

/* Everything echoed and acknowledged, and the peer has finished: close. */
static err_t
maybe_close(struct conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	if (!c->peer_closed || c->echo.q != NULL)
		return ERR_OK;
	conn_done(c, 0);
	limpet_tcp_close(pcb);		/* c is gone */
	return ERR_OK;
}

/* Echo what has not been written yet, as far as lwIP takes it. */
static err_t
send_more(struct conn *c)
{
	if (limpet_tcp_echo_write(&c->echo, c->pcb, NULL) != LIMPET_OK)
		return conn_abort(c);
	return ERR_OK;
}

static err_t
on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;

	(void)pcb;
	if (p == NULL) {
		c->peer_closed = 1;
		return maybe_close(c);
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return err;
	}
	limpet_tcp_echo_add(&c->echo, p);
	return send_more(c);
}

static err_t
on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct conn *c = arg;

	limpet_tcp_echo_acked(&c->echo, pcb, len);
	echo.tcp_bytes += len;
	if (send_more(c) == ERR_ABRT)
		return ERR_ABRT;
	return maybe_close(c);
}

static err_t
on_poll(void *arg, struct tcp_pcb *pcb)
{
	struct conn *c = arg;

	(void)pcb;
	if (send_more(c) == ERR_ABRT)
		return ERR_ABRT;
	return maybe_close(c);
}

/* The connection is gone (reset, or aborted): lwIP has freed the pcb. */
static void
on_err(void *arg, err_t err)
{
	(void)err;
	conn_done(arg, 1);
}

static void
on_accepted(void *arg, struct tcp_pcb *pcb)
{
	struct conn *c = arg;

	c->pcb = pcb;
	echo.accepted++;
}

/* limpet_tcp_listen() turns Nagle off: small writes are echoed at once
 * rather than after an ACK. */
static const struct limpet_tcp_service echo_tcp = {
	.conn_size = sizeof(struct conn),
	.accepted = on_accepted,
	.recv = on_recv,
	.sent = on_sent,
	.err = on_err,
	.poll = on_poll,
	.poll_interval = POLL_INTERVAL,
};

/* ---- UDP -------------------------------------------------------------- */

static void
on_datagram(void *arg, struct udp_pcb *pcb, struct pbuf *p,
    const ip_addr_t *addr, u16_t port)
{
	(void)arg;
	echo.udp_datagrams++;
	echo.udp_bytes += p->tot_len;
	udp_sendto(pcb, p, addr, port);
	pbuf_free(p);
}

/* ---- --stats ----------------------------------------------------------- */

static void
print_in_use(struct limpet_timer *t, void *arg)
{
	uint32_t total = 0, nfree = 0;

	(void)t;
	(void)arg;
	limpet_net_rx_buffers(&total, &nfree);
	printf("echo: stats: open %lu, rx_buffers %lu, heap %lu", echo.accepted - echo.closed,
	    (unsigned long)(total - nfree), (unsigned long)lwip_stats.mem.used);
	for (int i = 0; i < MEMP_MAX; i++)
		printf(", %s %lu", lwip_stats.memp[i]->name, (unsigned long)lwip_stats.memp[i]->used);
	printf("\n");
	fflush(stdout);
}

/* ---- main ------------------------------------------------------------- */

static const char usage[] = "usage: echo [--port N] [--limit N] [--stats MS]\n";

/* Each takes a number; val - 1 indexes where it goes, and its bound, below. */
static const struct option options[] = {
	{ "port",	required_argument,	NULL, 1 },
	{ "limit",	required_argument,	NULL, 2 },
	{ "stats",	required_argument,	NULL, 3 },
	{ NULL, 0, NULL, 0 },
};

/* The options, with limpet_getopt(), as httpd takes its own. */
static int
parse_args(int argc, char **argv, unsigned long *port)
{
	unsigned long *const dest[] = { port, &echo.limit, &echo.stats_ms };
	const unsigned long max[] = { 65535, ~0UL, 3600000 };
	struct limpet_opt opt;
	int c;

	while ((c = limpet_getopt(argc, argv, options, usage, &opt)) > 0)
		if (limpet_arg_number(opt.name, opt.value, max[c - 1], dest[c - 1]) != 0)
			return -1;
	return c;
}

int
main(int argc, char **argv)
{
	static struct limpet_timer stats_timer;
	struct limpet_net_config cfg;
	struct limpet_net_stats st;
	struct udp_pcb *upcb;
	unsigned long port = ECHO_PORT;
	int status;

	if (parse_args(argc, argv, &port) != 0)
		return 2;
	if (limpet_net_config(&cfg) != LIMPET_OK) {
		fprintf(stderr, "echo: no network device; nothing to do\n");
		return 1;
	}

	if (limpet_tcp_listen((uint16_t)port, &echo_tcp) != LIMPET_OK) {
		fprintf(stderr, "echo: cannot listen on TCP port %lu\n", port);
		return 1;
	}
	if ((upcb = udp_new_ip_type(IPADDR_TYPE_ANY)) == NULL ||
	    udp_bind(upcb, IP_ANY_TYPE, (u16_t)port) != ERR_OK) {
		fprintf(stderr, "echo: cannot bind UDP port %lu\n", port);
		return 1;
	}
	udp_recv(upcb, on_datagram, NULL);

	printf("echo: listening on %s%s port %lu (tcp, udp)\n",
	    cfg.ip_str[0] != '\0' ? cfg.ip_str : "0.0.0.0 (address from dhcp)",
	    cfg.ip6_mode != LIMPET_IP6_OFF ? " and IPv6" : "", port);
	fflush(stdout);
	if (echo.stats_ms != 0) {
		limpet_timer_init(&stats_timer, print_in_use, NULL);
		print_in_use(&stats_timer, NULL);
		limpet_timer_every(&stats_timer, echo.stats_ms * LIMPET_MS);
	}

	status = limpet_run();

	limpet_net_stats(&st);
	printf("echo: %lu connections (%lu reset), %llu bytes echoed over tcp, "
	    "%llu datagrams (%llu bytes) over udp; %llu bytes copied\n",
	    echo.closed, echo.resets, (unsigned long long)echo.tcp_bytes,
	    (unsigned long long)echo.udp_datagrams, (unsigned long long)echo.udp_bytes,
	    (unsigned long long)st.bytes_copied);
	return status;
}
