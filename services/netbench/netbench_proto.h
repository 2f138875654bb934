/*
 * netbench_proto.h — the netbench wire protocol, shared by the Limpet
 * guest (services/netbench), the Linux sockets server
 * (netbench/linux/netbench-server.c) and the host client
 * (netbench/client/netbench.c).
 *
 * Two ports, each on TCP and UDP:
 *
 * NETBENCH_BW_PORT (bandwidth, the server is a sink that times the data)
 *   TCP: the client sends a struct nb_bw_hello, then warmup + bytes bytes
 *	of data.  The server starts its clock when the first byte after the
 *	warm-up arrives and stops it when the last byte arrives, then sends a
 *	struct nb_result; the client closes.
 *   UDP: every datagram starts with a struct nb_dgram.  DATA datagrams
 *	number seq from 0; those with seq >= warmup are measured: the server
 *	notes when the first and the last of them arrived, and counts them
 *	and their bytes, except the first (its arrival starts the clock).
 *	When the client has sent them all it sends END datagrams until the
 *	server answers one with a struct nb_result (the same session).  A new
 *	session number starts the count again.
 *
 * NETBENCH_ECHO_PORT (latency): an echo server (RFC 862) on TCP and UDP;
 *   the client times round trips of N-byte messages.
 *
 * Integers are little-endian on the wire, written and read byte by byte
 * with the helpers below, so that neither end depends on its own layout.
 */
#ifndef NETBENCH_PROTO_H
#define NETBENCH_PROTO_H

#include <stdint.h>

#define NETBENCH_BW_PORT	5001
#define NETBENCH_ECHO_PORT	5002

#define NB_MAGIC		0x4e42454eu	/* "NEBN" */

/* TCP bandwidth: the client's first bytes. */
#define NB_HELLO_LEN		24
struct nb_bw_hello {
	uint32_t	magic;
	uint32_t	flags;		/* 0; reserved */
	uint64_t	warmup;		/* bytes not timed, sent first */
	uint64_t	bytes;		/* bytes timed, sent after them */
};

/* UDP bandwidth: the head of every datagram. */
#define NB_DGRAM_LEN		24
enum nb_dgram_type { NB_DATA = 1, NB_END = 2, NB_RESULT = 3 };
struct nb_dgram {
	uint32_t	magic;
	uint32_t	type;		/* enum nb_dgram_type */
	uint32_t	session;	/* chosen by the client, per run */
	uint32_t	warmup;		/* DATA: datagrams not timed (seq < warmup) */
	uint64_t	seq;		/* DATA: 0, 1, ...; END: how many were sent */
};

/* The server's answer (TCP: after the data; UDP: after an END, following
 * a struct nb_dgram of type NB_RESULT). */
#define NB_RESULT_LEN		32
struct nb_result {
	uint32_t	magic;
	uint32_t	status;		/* 0: ok; 1: the data ran past what was announced */
	uint64_t	bytes;		/* measured bytes (see above) */
	uint64_t	ns;		/* the server's time from the first to the last */
	uint64_t	datagrams;	/* UDP: measured datagrams received; TCP: 0 */
};

static inline void
nb_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
nb_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t
nb_get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint64_t
nb_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void
nb_hello_encode(uint8_t b[NB_HELLO_LEN], const struct nb_bw_hello *h)
{
	nb_put32(b, h->magic);
	nb_put32(b + 4, h->flags);
	nb_put64(b + 8, h->warmup);
	nb_put64(b + 16, h->bytes);
}

static inline void
nb_hello_decode(const uint8_t b[NB_HELLO_LEN], struct nb_bw_hello *h)
{
	h->magic = nb_get32(b);
	h->flags = nb_get32(b + 4);
	h->warmup = nb_get64(b + 8);
	h->bytes = nb_get64(b + 16);
}

static inline void
nb_dgram_encode(uint8_t b[NB_DGRAM_LEN], const struct nb_dgram *d)
{
	nb_put32(b, d->magic);
	nb_put32(b + 4, d->type);
	nb_put32(b + 8, d->session);
	nb_put32(b + 12, d->warmup);
	nb_put64(b + 16, d->seq);
}

static inline void
nb_dgram_decode(const uint8_t b[NB_DGRAM_LEN], struct nb_dgram *d)
{
	d->magic = nb_get32(b);
	d->type = nb_get32(b + 4);
	d->session = nb_get32(b + 8);
	d->warmup = nb_get32(b + 12);
	d->seq = nb_get64(b + 16);
}

static inline void
nb_result_encode(uint8_t b[NB_RESULT_LEN], const struct nb_result *r)
{
	nb_put32(b, r->magic);
	nb_put32(b + 4, r->status);
	nb_put64(b + 8, r->bytes);
	nb_put64(b + 16, r->ns);
	nb_put64(b + 24, r->datagrams);
}

static inline void
nb_result_decode(const uint8_t b[NB_RESULT_LEN], struct nb_result *r)
{
	r->magic = nb_get32(b);
	r->status = nb_get32(b + 4);
	r->bytes = nb_get64(b + 8);
	r->ns = nb_get64(b + 16);
	r->datagrams = nb_get64(b + 24);
}

/* The UDP bandwidth bookkeeping both servers share: feed it every DATA
 * datagram; it says what to report after an END. */
struct nb_udp_state {
	uint32_t	session;
	int		started;	/* the first measured datagram came */
	uint64_t	first_ns, last_ns;
	uint64_t	bytes, datagrams;
};

static inline void
nb_udp_data(struct nb_udp_state *s, const struct nb_dgram *d, uint64_t len, uint64_t now_ns)
{
	if (d->session != s->session) {
		s->session = d->session;
		s->started = 0;
		s->bytes = s->datagrams = 0;
	}
	if (d->seq < d->warmup)
		return;
	if (!s->started) {
		s->started = 1;
		s->first_ns = s->last_ns = now_ns;
		return;
	}
	s->last_ns = now_ns;
	s->bytes += len;
	s->datagrams++;
}

static inline void
nb_udp_result(const struct nb_udp_state *s, uint32_t session, struct nb_result *r)
{
	int same = session == s->session && s->started;

	r->magic = NB_MAGIC;
	r->status = 0;
	r->bytes = same ? s->bytes : 0;
	r->ns = same ? s->last_ns - s->first_ns : 0;
	r->datagrams = same ? s->datagrams : 0;
}

#endif /* NETBENCH_PROTO_H */
