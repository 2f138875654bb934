/*
 * httpd's internals shared between its files: the configuration from the
 * app arguments, the counters, and the per-connection state.
 */
#ifndef HTTPD_HTTPD_H
#define HTTPD_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <limpet.h>
#include <lwip/altcp.h>

#include "http_parse.h"
#include "param.h"

struct httpd_config {
	unsigned	port, max_conns;
	bool		http;			/* serve plain HTTP on port */
	bool		https;			/* serve HTTPS on https_port (TLS images) */
	unsigned	https_port;
	/* --redirect-https: plain HTTP answers 301 to https://host[:port]/...,
	 * the port being the one clients reach HTTPS on (forwarding may make
	 * it other than https_port). */
	bool		redirect_https;
	unsigned	https_redirect_port;
	uint64_t	header_timeout_ns, idle_timeout_ns, send_timeout_ns;
	bool		access_log, stats;
	/* --hsts SECONDS: Strict-Transport-Security (RFC 6797) on HTTPS
	 * responses, max-age SECONDS (0 tells browsers to forget it). */
	bool		hsts;
	uint32_t	hsts_max_age;
	/* --https-gzip: the gzip variant of a file over HTTPS too (off: BREACH,
	 * below in respond.c). */
	bool		https_gzip;
	uint64_t	shutdown_timeout_ns;	/* --shutdown-timeout */
};

/* Statuses counted one by one; others count as "other". */
#define HTTPD_NSTATUS	16

struct httpd_counters {
	uint64_t	requests;
	uint64_t	by_status[HTTPD_NSTATUS], other_status;
	uint64_t	bytes_sent;		/* acknowledged by clients */
	uint64_t	accepted, refused, evicted, closed, resets;
	uint64_t	header_timeouts, idle_timeouts, send_timeouts;
	/* Responses that found lwIP out of memory and waited in line. */
	uint64_t	mem_waits;
	/* Responses cut short while httpd was still writing them (not all
	 * handed to lwIP yet), by what cut them: the client's reset, lwIP
	 * giving up on the connection (its retransmissions unanswered), or
	 * an error of ours (no memory for a header's rest, a write lwIP
	 * refused).  The send timeout counts in send_timeouts. */
	uint64_t	cut_by_peer, cut_by_stack, cut_by_error;
	unsigned	open;
	/* Request buffers (struct conn_req) and copies of response headers
	 * held now; times a connection had to wait for memory for them. */
	unsigned	reqs, outs;
	uint64_t	no_memory;
	/* Heap bytes held by httpd's connections, request buffers and
	 * response copies, malloc's own size fields included. */
	size_t		memory;
	/* TLS connections: accepted, handshakes completed, handshakes the
	 * client failed (bad or plaintext records, refused versions or
	 * suites, closed midway) or stalled past --header-timeout, and the
	 * plaintext given to the TLS layer (encrypted, not copied). */
	uint64_t	tls_accepted, tls_handshakes, tls_handshake_failures;
	uint64_t	tls_handshake_timeouts, tls_bytes_encrypted;
};

extern struct httpd_config httpd_cfg;
extern struct httpd_counters httpd_stats;
extern const int httpd_statuses[HTTPD_NSTATUS];

enum conn_wait {
	WAIT_IDLE,		/* for a request's first byte */
	WAIT_HEADER,		/* for the rest of a request */
	WAIT_SEND,		/* for the client to take a response */
	WAIT_LINGER,		/* after our FIN, for the client's */
};

/*
 * A request being read, with the parser's state.  A connection has one
 * only while it has bytes to read or a request to answer: it is
 * allocated when bytes arrive and freed when the connection waits for
 * nothing again, so a kept-alive connection between requests costs only
 * its struct conn (and lwIP's PCBs).  in[] starts at HTTPD_IN_START bytes
 * and doubles as a request needs, up to HTTPD_HEADER_MAX + 1: one byte
 * more than the largest header section, so the parser can see it is too
 * large.  The parser's spans are offsets, so growing moves nothing.
 */
struct conn_req {
	struct http_parser parser;
	size_t		inlen, incap;	/* bytes in in[], and its size */
	char		in[];
};

/* Ordered for size (fields of a kind together, no padding): every idle
 * kept-alive connection holds one, 120 bytes. */
struct conn {
	struct altcp_pcb *pcb;
	struct conn	*next, *prev;
	/* Received, not yet in req->in: the window stays closed over it
	 * (rxq, from rxoff on). */
	struct pbuf	*rxq;
	struct conn_req	*req;		/* NULL between requests */
	/* The response being queued: a header (and small body) copied into
	 * lwIP, then a body from the image's rodata, not copied.  The header
	 * is written in httpd_out, shared, and copied into lwIP at once; out
	 * points there until then, and at a malloc()ed copy of what lwIP
	 * could not take yet, if any, until it has. */
	char		*out;
	const uint8_t	*body;
	/* In line for lwIP's memory (conn.c: memq). */
	struct conn	*memq_next, *memq_prev;
	/* Timeouts. */
	uint64_t	deadline;
	enum conn_wait	wait;
	ip_addr_t	peer;
	uint32_t	consumed;	/* of req->in, by the request being answered */
	uint32_t	outlen, outsent;
	uint32_t	bodylen, bodysent;
	uint16_t	rxoff;
	/* Over TLS (the HTTPS port); the handshake is over. */
	bool		tls, handshaken;
	bool		peer_closed;
	bool		responding, close_after, closing;
	bool		memq;
};

/* Where responses are written (conn.c). */
extern char httpd_out[HTTPD_OUT_MAX];

/* respond.c: fill c->out (and c->body) with the answer to req, or to an
 * error the parser found (status), and count it. */
void	httpd_respond(struct conn *c, const struct http_request *req);
void	httpd_respond_error(struct conn *c, int status, const struct http_request *req);
/* The lookup's view of the site, for the start-up line. */
void	httpd_site_summary(unsigned *files, uint64_t *bytes);

/* conn.c: listen and serve; and stop (limpet_on_shutdown()'s hook): no
 * new connections or requests, the responses in flight finished, then
 * limpet_stop(0) (at shutdown_timeout_ns at the latest). */
int	httpd_listen(void);
void	httpd_shutdown(void *arg);

/* https.c: the TLS layer's part (stubs in images without TLS). */
struct altcp_pcb *httpd_tls_listener(void);	/* NULL without TLS */
bool	httpd_tls_handshake_done(struct altcp_pcb *pcb);
size_t	httpd_tls_max_write(struct altcp_pcb *pcb);	/* plaintext per write */
bool	httpd_tls_output_pending(struct altcp_pcb *pcb);	/* after a flush */
/* The TLS random generator's and entropy source's counters (limpet/tls.h);
 * NULL in an image without TLS. */
const struct limpet_tls_rng_stats *httpd_tls_rng_stats(void);
/* The TLS layer's handshakes by version (limpet/tls.h); NULL likewise. */
const struct limpet_tls_conn_stats *httpd_tls_conn_stats(void);
/* newlib's heap TLS holds now and at most (limpet/tls.h); 0 likewise. */
void	httpd_tls_memory(size_t *bytes, size_t *peak);

#endif /* HTTPD_HTTPD_H */
