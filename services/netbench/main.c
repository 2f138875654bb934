/*
 * netbench: the guest side of netbench (netbench/client/netbench.c is the
 * host side; services/netbench/netbench_proto.h the protocol).
 *
 *	./limpet run netbench --net tap ...
 *
 * Port 5001, TCP and UDP: bandwidth sinks that time what they receive and
 * report it.  Port 5002, TCP and UDP: echo servers for latency.
 *
 * No payload is copied.  The sinks free what they receive at once, after
 * reading their few header bytes from it.  The TCP echo passes received
 * pbufs to tcp_write() in place and frees each one (and reopens the
 * window with tcp_recved()) only as tcp_sent() reports it acknowledged,
 * as services/echo does (limpet/net.h's struct limpet_tcp_echo); the UDP
 * echo sends the received pbuf back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <limpet.h>
#include <limpet/net.h>

#include <lwip/pbuf.h>
#include <lwip/tcp.h>
#include <lwip/udp.h>

#include "netbench_proto.h"

/* The slow timer runs every 500 ms; poll a connection every second to
 * retry a close or a send that failed for want of memory. */
#define POLL_INTERVAL	2

static struct {
	unsigned long	bw_runs, echo_conns;
	struct nb_udp_state udp;
} nb;

/* ---- common ------------------------------------------------------------- */

/* ---- TCP bandwidth sink ---------------------------------------------------- */

struct bw_conn {
	uint8_t		hello[NB_HELLO_LEN];
	uint32_t	hello_len;
	struct nb_bw_hello h;
	uint64_t	got;		/* data bytes after the hello */
	uint64_t	start_ns, end_ns;
	int		overrun, answered;
};

static void
bw_answer(struct bw_conn *c, struct tcp_pcb *pcb)
{
	struct nb_result r = {
		.magic = NB_MAGIC, .status = (uint32_t)c->overrun, .bytes = c->h.bytes,
		.ns = c->end_ns - c->start_ns, .datagrams = 0,
	};
	uint8_t b[NB_RESULT_LEN];

	nb_result_encode(b, &r);
	c->answered = 1;
	nb.bw_runs++;
	/* 32 bytes always fit an empty send buffer; copied, as b is on the stack. */
	if (tcp_write(pcb, b, sizeof(b), TCP_WRITE_FLAG_COPY) == ERR_OK)
		tcp_output(pcb);
}

/* Count len data bytes that arrived now. */
static void
bw_count(struct bw_conn *c, uint64_t len, uint64_t now)
{
	uint64_t total = c->h.warmup + c->h.bytes;

	if (c->got + len > total) {
		c->overrun = 1;
		len = total - c->got;
	}
	if (c->got <= c->h.warmup && c->got + len > c->h.warmup)
		c->start_ns = now;
	c->got += len;
	if (c->got == total && c->end_ns == 0)
		c->end_ns = now;
}

static err_t
bw_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct bw_conn *c = arg;
	uint64_t now = limpet_now_ns();
	uint16_t data;

	if (p == NULL) {
		limpet_tcp_close(pcb);		/* c is gone */
		return ERR_OK;
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return err;
	}
	data = p->tot_len;
	if (c->hello_len < NB_HELLO_LEN) {
		uint16_t n = pbuf_copy_partial(p, c->hello + c->hello_len,
		    (uint16_t)(NB_HELLO_LEN - c->hello_len), 0);

		c->hello_len += n;
		data -= n;
		if (c->hello_len == NB_HELLO_LEN) {
			nb_hello_decode(c->hello, &c->h);
			if (c->h.magic != NB_MAGIC) {
				pbuf_free(p);
				tcp_abort(pcb);		/* c goes with it */
				return ERR_ABRT;
			}
		}
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (c->hello_len == NB_HELLO_LEN && !c->answered) {
		/* A run of 0 bytes is over as soon as it begins. */
		if (data > 0 || c->h.warmup + c->h.bytes == 0)
			bw_count(c, data, now);
		if (c->got == c->h.warmup + c->h.bytes)
			bw_answer(c, pcb);
	}
	return ERR_OK;
}

/* A sink needs neither acknowledgements nor polls: it never writes but
 * for its result, which fits the send buffer. */
static const struct limpet_tcp_service bw_tcp = {
	.conn_size = sizeof(struct bw_conn),
	.recv = bw_recv,
};

/* ---- UDP bandwidth sink ------------------------------------------------- */

static void
bw_datagram(void *arg, struct udp_pcb *pcb, struct pbuf *p,
    const ip_addr_t *addr, u16_t port)
{
	uint8_t b[NB_DGRAM_LEN + NB_RESULT_LEN];
	struct nb_dgram d;
	struct nb_result r;
	struct pbuf *out;

	(void)arg;
	if (pbuf_copy_partial(p, b, NB_DGRAM_LEN, 0) != NB_DGRAM_LEN) {
		pbuf_free(p);
		return;
	}
	nb_dgram_decode(b, &d);
	if (d.magic == NB_MAGIC && d.type == NB_DATA)
		nb_udp_data(&nb.udp, &d, p->tot_len, limpet_now_ns());
	pbuf_free(p);
	if (d.magic != NB_MAGIC || d.type != NB_END)
		return;

	d.type = NB_RESULT;
	nb_dgram_encode(b, &d);
	nb_udp_result(&nb.udp, d.session, &r);
	nb_result_encode(b + NB_DGRAM_LEN, &r);
	if ((out = pbuf_alloc(PBUF_TRANSPORT, sizeof(b), PBUF_RAM)) == NULL)
		return;			/* the client asks again */
	pbuf_take(out, b, sizeof(b));
	udp_sendto(pcb, out, addr, port);
	pbuf_free(out);
}

/* ---- TCP echo ------------------------------------------------------------ */

struct echo_conn {
	struct limpet_tcp_echo	echo;	/* received, echoed in place */
	int			peer_closed;
};

/* The connection is gone: what it still queued goes (and its state
 * after this returns). */
static void
echo_err(void *arg, err_t err)
{
	struct echo_conn *c = arg;

	(void)err;
	limpet_tcp_echo_free(&c->echo);
}

/* A RST; echo_err() frees the queue. */
static err_t
echo_abort(struct tcp_pcb *pcb)
{
	tcp_abort(pcb);
	return ERR_ABRT;
}

static err_t
echo_maybe_close(struct tcp_pcb *pcb, struct echo_conn *c)
{
	if (!c->peer_closed || c->echo.q != NULL)
		return ERR_OK;
	limpet_tcp_close(pcb);		/* c is gone; its queue is empty */
	return ERR_OK;
}

/* Echo what has not been written yet, as far as lwIP takes it. */
static err_t
echo_send(struct tcp_pcb *pcb, struct echo_conn *c)
{
	bool wrote;

	if (limpet_tcp_echo_write(&c->echo, pcb, &wrote) != LIMPET_OK)
		return echo_abort(pcb);
	/* A round trip is what we measure: send now, not at the loop's end. */
	if (wrote)
		tcp_output(pcb);
	return ERR_OK;
}

static err_t
echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct echo_conn *c = arg;

	if (p == NULL) {
		c->peer_closed = 1;
		return echo_maybe_close(pcb, c);
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return err;
	}
	limpet_tcp_echo_add(&c->echo, p);
	return echo_send(pcb, c);
}

static err_t
echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct echo_conn *c = arg;

	limpet_tcp_echo_acked(&c->echo, pcb, len);
	if (echo_send(pcb, c) == ERR_ABRT)
		return ERR_ABRT;
	return echo_maybe_close(pcb, c);
}

static err_t
echo_poll(void *arg, struct tcp_pcb *pcb)
{
	struct echo_conn *c = arg;

	if (echo_send(pcb, c) == ERR_ABRT)
		return ERR_ABRT;
	return echo_maybe_close(pcb, c);
}

static void
echo_accepted(void *arg, struct tcp_pcb *pcb)
{
	(void)arg;
	(void)pcb;
	nb.echo_conns++;
}

static const struct limpet_tcp_service echo_tcp = {
	.conn_size = sizeof(struct echo_conn),
	.accepted = echo_accepted,
	.recv = echo_recv,
	.sent = echo_sent,
	.err = echo_err,
	.poll = echo_poll,
	.poll_interval = POLL_INTERVAL,
};

/* ---- UDP echo ------------------------------------------------------------ */

static void
echo_datagram(void *arg, struct udp_pcb *pcb, struct pbuf *p,
    const ip_addr_t *addr, u16_t port)
{
	(void)arg;
	udp_sendto(pcb, p, addr, port);
	pbuf_free(p);
}

/* ---- main ------------------------------------------------------------- */

static int
bind_udp(u16_t port, udp_recv_fn fn)
{
	struct udp_pcb *pcb;

	if ((pcb = udp_new_ip_type(IPADDR_TYPE_ANY)) == NULL)
		return -1;
	if (udp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		udp_remove(pcb);
		return -1;
	}
	udp_recv(pcb, fn, NULL);
	return 0;
}

int
main(int argc, char **argv)
{
	struct limpet_net_config cfg;
	int status;

	if (argc > 1) {
		fprintf(stderr, "netbench: unknown argument '%s'; it takes none\n", argv[1]);
		return 2;
	}
	if (limpet_net_config(&cfg) != LIMPET_OK) {
		fprintf(stderr, "netbench: no network device; nothing to do\n");
		return 1;
	}
	if (limpet_tcp_listen(NETBENCH_BW_PORT, &bw_tcp) != LIMPET_OK ||
	    limpet_tcp_listen(NETBENCH_ECHO_PORT, &echo_tcp) != LIMPET_OK ||
	    bind_udp(NETBENCH_BW_PORT, bw_datagram) != 0 ||
	    bind_udp(NETBENCH_ECHO_PORT, echo_datagram) != 0) {
		fprintf(stderr, "netbench: cannot listen on ports %d and %d\n",
		    NETBENCH_BW_PORT, NETBENCH_ECHO_PORT);
		return 1;
	}
	printf("netbench: listening on %s%s: bandwidth port %d, echo port %d (tcp, udp)\n",
	    cfg.ip_str[0] != '\0' ? cfg.ip_str : "0.0.0.0 (address from dhcp)",
	    cfg.ip6_mode != LIMPET_IP6_OFF ? " and IPv6" : "", NETBENCH_BW_PORT,
	    NETBENCH_ECHO_PORT);
	fflush(stdout);

	status = limpet_run();
	printf("netbench: %lu bandwidth runs, %lu echo connections\n",
	    nb.bw_runs, nb.echo_conns);
	return status;
}
