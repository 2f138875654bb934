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
	unsigned	open;
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

struct conn {
	struct altcp_pcb *pcb;
	struct conn	*next, *prev;
	ip_addr_t	peer;
	/* Over TLS (the HTTPS port); the handshake is over. */
	bool		tls, handshaken;
	/* Received, not yet in `in`: the window stays closed over it. */
	struct pbuf	*rxq;
	uint16_t	rxoff;
	bool		peer_closed;
	/* The request bytes, parsed in place.  One byte more than the
	 * largest header section, so the parser can see it is too large. */
	struct http_parser parser;
	char		in[HTTPD_HEADER_MAX + 1];
	size_t		inlen;
	size_t		consumed;	/* by the request being answered */
	/* The response being queued: a header (and small body) copied into
	 * lwIP, then a body from the image's rodata, not copied. */
	bool		responding, close_after, closing;
	char		out[HTTPD_OUT_MAX];
	size_t		outlen, outsent;
	const uint8_t	*body;
	uint32_t	bodylen, bodysent;
	/* In line for lwIP's memory (conn.c: memq). */
	bool		memq;
	struct conn	*memq_next, *memq_prev;
	/* Timeouts. */
	enum conn_wait	wait;
	uint64_t	deadline;
};

/* respond.c: fill c->out (and c->body) with the answer to req, or to an
 * error the parser found (status), and count it. */
void	httpd_respond(struct conn *c, const struct http_request *req);
void	httpd_respond_error(struct conn *c, int status, const struct http_request *req);
/* The lookup's view of the site, for the start-up line. */
void	httpd_site_summary(unsigned *files, uint64_t *bytes);

/* conn.c: listen and serve. */
int	httpd_listen(void);

/* https.c: the TLS layer's part (stubs in images without TLS). */
struct altcp_pcb *httpd_tls_listener(void);	/* NULL without TLS */
bool	httpd_tls_handshake_done(struct altcp_pcb *pcb);
size_t	httpd_tls_max_write(struct altcp_pcb *pcb);	/* plaintext per write */
bool	httpd_tls_output_pending(struct altcp_pcb *pcb);	/* after a flush */
void	httpd_tls_close_notify(struct altcp_pcb *pcb);

#endif /* HTTPD_HTTPD_H */
