/*
 * httpd's connections on lwIP's altcp API: accept, receive into the
 * bounded request buffer, parse, queue the response, close, and time out.
 * Plain HTTP runs over altcp_tcp, which passes each call to the raw tcp_*
 * one; HTTPS over altcp_tls (https.c), where the data seen and written
 * here is plaintext and the TLS layer moves the records.
 *
 * Order and back-pressure: one request is answered at a time.  While its
 * response is being queued, received bytes stay in their pbufs (rxq) and
 * are not acknowledged to the window (no altcp_recved()), so a client
 * that pipelines without reading fills at most one receive window, and
 * the next request is parsed only once the previous response is all with
 * altcp_write().  Bodies go to altcp_write() without TCP_WRITE_FLAG_COPY,
 * straight from the image's rodata, as altcp_sndbuf() allows: over
 * altcp_tcp that is still zero copy.  Over TLS the record layer encrypts
 * them into its own buffer, which is inherent and counted apart
 * (tls_bytes_encrypted), not as a copy.  The sent callback writes more as
 * the client acknowledges (over TLS, as the records go out).
 *
 * At --max-conns a newcomer takes the place of a connection that serves
 * nobody (evict()); only when every connection has a response in flight
 * is it accepted, told 503 with Connection: close, and closed at once: no
 * state is kept for it (over TLS, which cannot answer before a handshake,
 * it is reset).
 *
 * Memory: an idle kept-alive connection holds only its struct conn.  A
 * request's bytes and the parser's state (struct conn_req) are allocated
 * when bytes arrive and freed once the connection waits for nothing
 * again; responses are written in one shared buffer (httpd_out), copied
 * into lwIP at once, and only what lwIP cannot take yet is kept, in a
 * copy of its own.  When malloc() fails for either, the bytes stay in
 * their pbufs (the window closed over them) and the poll callback tries
 * again; the header timeout still runs.
 *
 * Timeouts (checked every HTTPD_TICK_MS over the list of connections):
 * waiting for a request: --idle-timeout, then close; a request begun and
 * not finished: --header-timeout, then 408 and close (a new connection
 * owes its first request within it too, which over TLS bounds the
 * handshake: a stalled one is closed and counted); a response with no
 * progress: HTTPD_SEND_TIMEOUT_MS, then reset (time spent in line for
 * memory does not count: the client is not what holds it up); lingering
 * after our FIN: HTTPD_LINGER_MS, then close.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/altcp.h>
#include <lwip/altcp_tcp.h>
#include <lwip/memp.h>
#include <lwip/pbuf.h>
#include <lwip/stats.h>
#include <lwip/tcp.h>

#include "httpd.h"

/* The slow timer runs every 500 ms; poll each connection every second to
 * retry a close or a write that failed for want of memory. */
#define POLL_INTERVAL	2

static struct conn *conns;
static struct limpet_timer tick;
/* The listening PCBs, closed at shutdown; draining until the deadline. */
static struct altcp_pcb *listeners[2];
static unsigned nlisteners;
static bool draining;
static uint64_t drain_deadline;
char httpd_out[HTTPD_OUT_MAX];

/*
 * Responses that found lwIP out of memory (segments, pbufs, its heap)
 * wait in line, oldest first.  While anyone waits nobody else writes,
 * and memory that comes back (acknowledged segments, freed as on_sent()
 * is called) goes to the head of the line first.  Without the line the
 * connections whose ACKs freed the memory took it straight back from
 * their sent callbacks, and one that had failed, retrying only from its
 * once-a-second poll, found it gone every time: with 64 clients of a
 * 1 MiB file, a few got nothing for as long as the others kept asking.
 */
static struct conn *memq_head, *memq_tail;

#if !MEMP_STATS || MEMP_MEM_MALLOC
#error "httpd reads the TCP segment pool's use from lwIP's memp stats"
#endif

/* Whether a response may take more segments: HTTPD_SEG_RESERVE stay for
 * handshakes and closes. */
static bool
seg_room(void)
{
	const struct stats_mem *m = lwip_stats.memp[MEMP_TCP_SEG];

	return m->avail > m->used && m->avail - m->used > HTTPD_SEG_RESERVE;
}

static const char refusal[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Server: limpet\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 20\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "\r\n"
    "too many connections";

/* The HTTPS listener's argument, which tells on_accept() the two apart. */
static char tls_listener;

static err_t on_poll(void *arg, struct altcp_pcb *pcb);
static void on_err(void *arg, err_t err);
static err_t on_recv_closing(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t on_recv_linger(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err);

/* Over TLS: count the handshake once it is over. */
static void
tls_progress(struct conn *c)
{
	if (c->tls && !c->handshaken && httpd_tls_handshake_done(c->pcb)) {
		c->handshaken = true;
		httpd_stats.tls_handshakes++;
	}
}

static void
set_wait(struct conn *c, enum conn_wait w)
{
	uint64_t d = w == WAIT_IDLE ? httpd_cfg.idle_timeout_ns :
	    w == WAIT_HEADER ? httpd_cfg.header_timeout_ns :
	    w == WAIT_LINGER ? HTTPD_LINGER_MS * LIMPET_MS : httpd_cfg.send_timeout_ns;

	c->wait = w;
	c->deadline = limpet_now_ns() + d;
}

/*
 * What the heap gives a block of httpd's: its usable size, and the size
 * field malloc keeps in front of it.  httpd_stats.memory adds them up over
 * every connection, request buffer and response copy, which is what
 * /_limpet/stats reports (and what a connection costs httpd).
 */
static size_t
chunk(void *p)
{
	return p != NULL ? malloc_usable_size(p) + sizeof(size_t) : 0;
}

static void *
hmem_calloc(size_t n)
{
	void *p = calloc(1, n);

	httpd_stats.memory += chunk(p);
	return p;
}

static void *
hmem_realloc(void *old, size_t n)
{
	size_t was = chunk(old);
	void *p = realloc(old, n);

	if (p != NULL)
		httpd_stats.memory += chunk(p) - was;
	return p;
}

static void
hmem_free(void *p)
{
	httpd_stats.memory -= chunk(p);
	free(p);
}

/* The request buffer and the response copy, when c no longer needs them. */
static void
req_free(struct conn *c)
{
	if (c->req != NULL) {
		hmem_free(c->req);
		c->req = NULL;
		httpd_stats.reqs--;
	}
}

static void
out_free(struct conn *c)
{
	if (c->out != NULL && c->out != httpd_out) {
		hmem_free(c->out);
		httpd_stats.outs--;
	}
	c->out = NULL;
}

static void
memq_add(struct conn *c)
{
	if (c->memq)
		return;
	c->memq = true;
	c->memq_next = NULL;
	c->memq_prev = memq_tail;
	if (memq_tail != NULL)
		memq_tail->memq_next = c;
	else
		memq_head = c;
	memq_tail = c;
	httpd_stats.mem_waits++;
}

static void
memq_remove(struct conn *c)
{
	if (!c->memq)
		return;
	c->memq = false;
	if (c->memq_prev != NULL)
		c->memq_prev->memq_next = c->memq_next;
	else
		memq_head = c->memq_next;
	if (c->memq_next != NULL)
		c->memq_next->memq_prev = c->memq_prev;
	else
		memq_tail = c->memq_prev;
}

/* Forget c (lwIP no longer calls back for it). */
static void
conn_free(struct conn *c, int reset)
{
	memq_remove(c);
	req_free(c);
	out_free(c);
	if (c->rxq != NULL)
		pbuf_free(c->rxq);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	httpd_stats.open--;
	httpd_stats.closed++;
	httpd_stats.resets += reset;
	hmem_free(c);
}

static err_t
conn_abort(struct conn *c)
{
	struct altcp_pcb *pcb = c->pcb;

	altcp_arg(pcb, NULL);
	conn_free(c, 1);
	altcp_abort(pcb);
	return ERR_ABRT;
}

/*
 * Close gracefully: what was written still goes out, then a FIN.  Bytes
 * received and not read are acknowledged first.  While the client may
 * still be sending (it has not closed its side), only our side is shut
 * and the connection lingers, reading and discarding, until the client
 * closes or HTTPD_LINGER_MS pass (RFC 9112 9.6): lwIP answers data that
 * arrives after a full close with a reset, and a reset can destroy the
 * response (a 431 for a header flood, say) before the client reads it.
 * Over TLS, records TCP had no room for yet go out first, and the TLS
 * layer's shutdown sends a close_notify alert before the FIN.
 */
static err_t
conn_close(struct conn *c)
{
	struct altcp_pcb *pcb = c->pcb;

	/* Whatever was written is with lwIP; no more requests are read. */
	req_free(c);
	out_free(c);
	if (c->rxq != NULL) {
		uint32_t left = c->rxq->tot_len - c->rxoff;

		pbuf_free(c->rxq);
		c->rxq = NULL;
		altcp_recved(pcb, (u16_t)left);
	}
	if (c->tls && httpd_tls_output_pending(pcb)) {
		/* Retry from the poll callback once lwIP took the records. */
		c->closing = true;
		return ERR_OK;
	}
	altcp_sent(pcb, NULL);
	if (!c->peer_closed && c->wait != WAIT_LINGER) {
		if (altcp_shutdown(pcb, 0, 1) == ERR_OK) {
			altcp_recv(pcb, on_recv_linger);
			altcp_poll(pcb, NULL, 0);
			set_wait(c, WAIT_LINGER);
			return ERR_OK;
		}
		/* No memory for the FIN now: retry from the poll callback. */
		c->closing = true;
		return ERR_OK;
	}
	altcp_recv(pcb, on_recv_closing);
	altcp_poll(pcb, NULL, 0);
	altcp_err(pcb, NULL);
	altcp_arg(pcb, NULL);
	if (altcp_close(pcb) != ERR_OK) {
		/* No memory for the FIN now: retry from the poll callback. */
		altcp_arg(pcb, c);
		altcp_err(pcb, on_err);
		altcp_poll(pcb, on_poll, POLL_INTERVAL);
		c->closing = true;
		return ERR_OK;
	}
	conn_free(c, 0);
	return ERR_OK;
}

/* Lingering after our FIN: discard what comes; the client's FIN ends it. */
static err_t
on_recv_linger(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;

	(void)err;
	if (p != NULL) {
		altcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	if (c == NULL)
		return ERR_OK;
	c->peer_closed = true;
	return conn_close(c);
}

/* After our close: discard what the client still sends. */
static err_t
on_recv_closing(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)err;
	if (p != NULL) {
		altcp_recved(pcb, p->tot_len);
		pbuf_free(p);
	}
	return ERR_OK;
}

/* What may be written now: the send buffer, and over TLS one record. */
static size_t
room_for(struct conn *c)
{
	size_t room = altcp_sndbuf(c->pcb), rec;

	if (c->tls && room > (rec = httpd_tls_max_write(c->pcb)))
		room = rec;
	return room;
}

/* What lwIP did not take of the header leaves httpd_out, which the next
 * response (another connection's) overwrites, for a copy of its own. */
static err_t
keep_out(struct conn *c)
{
	char *rest;

	if (c->out != httpd_out || c->outsent == c->outlen)
		return ERR_OK;
	if ((rest = hmem_realloc(NULL, c->outlen - c->outsent)) == NULL) {
		httpd_stats.no_memory++;
		httpd_stats.cut_by_error++;
		return conn_abort(c);
	}
	memcpy(rest, c->out + c->outsent, c->outlen - c->outsent);
	c->out = rest;
	c->outlen -= c->outsent;
	c->outsent = 0;
	httpd_stats.outs++;
	return ERR_OK;
}

/*
 * altcp_write() up to n bytes at p, as many as lwIP takes now: *n is
 * updated to what was written.  lwIP refuses a write that needs more
 * segments than a connection may queue (TCP_SND_QUEUELEN) as a whole,
 * and a peer may announce a tiny MSS (a hostile one says 1 byte): then
 * even a 200-byte header needs 200 segments and would never go out (and,
 * taken for a want of memory, would hold up the line of every other
 * response).  So a refused write is tried again at half the size while
 * the connection's queue has room.  more: more of the response follows
 * these n bytes.  ERR_OK (*n may be 0: the connection's own queue is
 * full, its ACKs will make room), ERR_MEM (lwIP is out of memory: wait
 * in line), or another error to abort on.
 */
static err_t
write_some(struct altcp_pcb *pcb, const void *p, size_t *n, u8_t flags, bool more)
{
	size_t want = *n, len = want;
	err_t err;

	*n = 0;
	for (;;) {
		err = altcp_write(pcb, p, (u16_t)len, flags |
		    (more || len < want ? TCP_WRITE_FLAG_MORE : 0));
		if (err == ERR_OK) {
			*n = len;
			return ERR_OK;
		}
		if (err != ERR_MEM)
			return err;
		if (altcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN)
			return ERR_OK;
		if (len == 1)
			return ERR_MEM;
		len /= 2;
	}
}

/* Hand lwIP what it takes now of the len bytes at p, from *sent on (flags
 * for altcp_write(); more: more of the response follows them), moving *sent
 * on.  ERR_OK when it is all written or lwIP takes no more for now, ERR_MEM
 * when lwIP is out of memory, any other error is the connection's end. */
static err_t
send_part(struct conn *c, const void *p, uint32_t len, uint32_t *sent, u8_t flags,
    bool more)
{
	err_t err;

	while (*sent < len) {
		size_t n = len - *sent, room = room_for(c);

		if (room == 0)
			break;
		if (!seg_room())
			return ERR_MEM;
		if (n > room)
			n = room;
		err = write_some(c->pcb, (const uint8_t *)p + *sent, &n, flags,
		    *sent + n < len || more);
		if (err != ERR_OK)
			return err;
		if (n == 0)
			break;
		*sent += (uint32_t)n;
		if (c->tls) {
			httpd_stats.tls_bytes_encrypted += n;
			httpd_stats.bytes_sent += n;
		}
	}
	return ERR_OK;
}

/* Queue as much of the response as lwIP takes now; when it is out of
 * memory, or others already wait for it, wait in line (memq). */
static err_t
send_more(struct conn *c)
{
	uint32_t outsent = c->outsent, bodysent = c->bodysent;
	err_t err;

	if (memq_head != NULL && memq_head != c) {
		if (c->outsent < c->outlen || c->bodysent < c->bodylen)
			memq_add(c);
		return keep_out(c);
	}
	/* The header, copied (httpd_out is shared), then the body.  Zero
	 * copy over TCP: lwIP points at the image's read-only data.  Over
	 * TLS, mbedTLS encrypts it into its record buffer. */
	err = send_part(c, c->out, c->outlen, &c->outsent, TCP_WRITE_FLAG_COPY,
	    c->bodysent < c->bodylen);
	if (err == ERR_OK && c->outsent == c->outlen)
		err = send_part(c, c->body, c->bodylen, &c->bodysent, 0, false);
	if (err != ERR_OK && err != ERR_MEM) {
		httpd_stats.cut_by_error++;
		return conn_abort(c);
	}
	if (err == ERR_MEM)
		memq_add(c);
	else
		memq_remove(c);		/* done, or waiting for its own ACKs */
	if (c->outsent != outsent || c->bodysent != bodysent)
		altcp_output(c->pcb);
	return keep_out(c);
}

/* A request buffer of n bytes of input; false without memory. */
static bool
req_size(struct conn *c, size_t n)
{
	struct conn_req *r = hmem_realloc(c->req, sizeof(*r) + n);

	if (r == NULL) {
		httpd_stats.no_memory++;
		return false;
	}
	if (c->req == NULL) {
		static const struct http_limits lim = {
			.max_line = HTTPD_MAX_LINE,
			.max_header = HTTPD_HEADER_MAX,
			.max_fields = HTTPD_MAX_FIELDS,
		};

		http_parser_init(&r->parser, &lim);
		r->inlen = 0;
		httpd_stats.reqs++;
	}
	r->incap = n;
	c->req = r;
	return true;
}

/* Move received bytes into the request buffer, reopening the window for
 * them, as far as it holds them (growing it up to HTTPD_HEADER_MAX + 1). */
static void
take_input(struct conn *c)
{
	size_t moved = 0;

	if (c->rxq == NULL || (c->req == NULL && !req_size(c, HTTPD_IN_START)))
		return;
	while (c->rxq != NULL) {
		struct conn_req *r = c->req;
		struct pbuf *p = c->rxq;
		size_t n = p->len - c->rxoff;

		if (r->inlen == r->incap) {
			size_t grow = 2 * r->incap;

			if (grow > HTTPD_HEADER_MAX + 1)
				grow = HTTPD_HEADER_MAX + 1;
			if (grow == r->incap || !req_size(c, grow))
				break;
			r = c->req;
		}
		if (n > r->incap - r->inlen)
			n = r->incap - r->inlen;
		memcpy(r->in + r->inlen, (const char *)p->payload + c->rxoff, n);
		r->inlen += n;
		c->rxoff += (uint16_t)n;
		moved += n;
		if (c->rxoff == p->len) {
			c->rxq = p->next;
			if (c->rxq != NULL)
				pbuf_ref(c->rxq);
			pbuf_free(p);
			c->rxoff = 0;
		}
	}
	if (moved > 0)
		altcp_recved(c->pcb, (u16_t)moved);
}

static void
drop_input(struct conn *c, size_t n)
{
	struct conn_req *r = c->req;

	if (n == 0)
		return;
	memmove(r->in, r->in + n, r->inlen - n);
	r->inlen -= n;
}

/*
 * The connection's engine: finish queuing the current response, then
 * parse and answer the next request, as long as there is input and
 * lwIP takes what we write.  Returns ERR_ABRT when c is gone.
 */
static err_t
pump(struct conn *c)
{
	for (;;) {
		struct conn_req *r;

		if (c->responding) {
			if (send_more(c) == ERR_ABRT)
				return ERR_ABRT;
			if (c->outsent < c->outlen || c->bodysent < c->bodylen)
				return ERR_OK;	/* on_sent() calls again */
			c->responding = false;
			out_free(c);
			drop_input(c, c->consumed);
			c->consumed = 0;
			if (c->close_after)
				return conn_close(c);
			set_wait(c, c->req != NULL && c->req->inlen > 0 ? WAIT_HEADER : WAIT_IDLE);
		}
		take_input(c);
		if ((r = c->req) == NULL || r->inlen == 0) {
			if (c->rxq != NULL) {
				/* Bytes, and no memory to read them into: the
				 * poll callback tries again, under the header
				 * timeout. */
				if (c->wait == WAIT_IDLE)
					set_wait(c, WAIT_HEADER);
				return ERR_OK;
			}
			if (c->peer_closed)
				return conn_close(c);
			/* Between requests: the buffer goes until bytes come. */
			if (r != NULL && http_parse_idle(&r->parser))
				req_free(c);
			return ERR_OK;
		}
		if (c->wait == WAIT_IDLE && !http_parse_in_body(&r->parser))
			set_wait(c, WAIT_HEADER);

		size_t used;
		enum http_result res = http_parse_feed(&r->parser, r->in, r->inlen, &used);

		if (res == HTTP_NEED_MORE) {
			drop_input(c, used);
			if (!http_parse_in_body(&r->parser) && r->inlen == 0 &&
			    c->wait == WAIT_HEADER)
				set_wait(c, WAIT_IDLE);
			if (c->peer_closed && c->rxq == NULL)
				return conn_close(c);	/* a request cut short */
			if (used == 0 && (c->rxq == NULL || r->inlen == r->incap))
				return ERR_OK;		/* wait for more (or memory) */
			continue;
		}
		c->consumed = res == HTTP_DONE ? (uint32_t)used : (uint32_t)r->inlen;
		c->responding = true;
		if (draining)
			r->parser.req.keep_alive = false;	/* the last on this connection */
		set_wait(c, WAIT_SEND);
		if (res == HTTP_DONE)
			httpd_respond(c, &r->parser.req);
		else
			httpd_respond_error(c, r->parser.req.status, &r->parser.req);
	}
}

static err_t
on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;

	(void)pcb;
	if (c == NULL) {
		if (p != NULL)
			pbuf_free(p);
		return ERR_OK;
	}
	tls_progress(c);
	if (p == NULL) {
		c->peer_closed = true;
		if (c->closing)
			return ERR_OK;
		return pump(c);
	}
	if (err != ERR_OK || c->closing) {
		altcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	if (c->rxq == NULL)
		c->rxq = p;
	else
		pbuf_cat(c->rxq, p);
	return pump(c);
}

/* Give memory that came back to the line, oldest first, until lwIP runs
 * out again. */
static void
memq_run(void)
{
	while (memq_head != NULL) {
		struct conn *c = memq_head;

		if (pump(c) != ERR_ABRT && memq_head == c)
			break;		/* still out of memory */
	}
}

/* len is what the client acknowledged; 0 over TLS, whose layer only says
 * that records went out (its plaintext is counted as written). */

static err_t
on_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
	struct conn *c = arg;

	(void)pcb;
	if (c == NULL)
		return ERR_OK;
	/* The segments acknowledged are free now: the line first. */
	memq_run();
	httpd_stats.bytes_sent += len;
	if (c->wait == WAIT_SEND)
		set_wait(c, WAIT_SEND);		/* progress */
	if (c->closing)
		return ERR_OK;
	return pump(c);
}

static err_t
on_poll(void *arg, struct altcp_pcb *pcb)
{
	struct conn *c = arg;

	(void)pcb;
	if (c == NULL)
		return ERR_OK;
	tls_progress(c);
	if (c->closing) {
		c->closing = false;
		return conn_close(c);
	}
	return pump(c);
}

/*
 * The connection is gone (reset, or aborted by lwIP): the pcb is freed
 * after this returns.  Over TLS also when the handshake failed (a bad or
 * plaintext record, a version or suite we refuse) or the client closed
 * before it was over (ERR_CLSD; lwIP then closes the connection itself).
 */
static void
on_err(void *arg, err_t err)
{
	struct conn *c = arg;

	if (c == NULL)
		return;
	tls_progress(c);
	if (c->tls && !c->handshaken)
		httpd_stats.tls_handshake_failures++;
	if (c->responding) {
		if (err == ERR_RST)
			httpd_stats.cut_by_peer++;
		else if (err != ERR_CLSD)
			httpd_stats.cut_by_stack++;
	}
	conn_free(c, err != ERR_CLSD);
}

/*
 * At the connection limit, make room for a newcomer by closing the
 * connection that serves nobody: a kept-alive one waiting for its next
 * request, else the one that has taken longest over an unfinished request
 * (what a slowloris holds).  Connections with a response in flight are
 * never evicted; if every one has, the newcomer is refused.
 */
static void
evict(void)
{
	struct conn *c, *victim = NULL;

	for (c = conns; c != NULL; c = c->next) {
		if (c->closing || c->responding ||
		    (c->wait != WAIT_IDLE && c->wait != WAIT_HEADER && c->wait != WAIT_LINGER))
			continue;
		/* Lingering first, then idle, then the oldest header deadline. */
		if (victim == NULL || c->wait == WAIT_LINGER ||
		    (victim->wait != WAIT_LINGER &&
		    ((c->wait == WAIT_IDLE && victim->wait != WAIT_IDLE) ||
		    (c->wait == victim->wait && c->deadline < victim->deadline))))
			victim = c;
	}
	if (victim == NULL)
		return;
	httpd_stats.evicted++;
	conn_abort(victim);
}

static err_t
on_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
	bool tls = arg == &tls_listener;
	struct conn *c;

	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	if (tls)
		httpd_stats.tls_accepted++;
	if (httpd_stats.open >= httpd_cfg.max_conns)
		evict();
	if (httpd_stats.open >= httpd_cfg.max_conns || (c = hmem_calloc(sizeof(*c))) == NULL) {
		/* Graceful refusal: a static answer (not copied), then close;
		 * nothing is kept for this connection.  Over TLS nothing can
		 * be said before a handshake: reset. */
		httpd_stats.refused++;
		altcp_arg(pcb, NULL);
		altcp_recv(pcb, on_recv_closing);
		if (tls || altcp_write(pcb, refusal, sizeof(refusal) - 1, 0) != ERR_OK ||
		    altcp_close(pcb) != ERR_OK) {
			altcp_abort(pcb);
			return ERR_ABRT;
		}
		return ERR_OK;
	}
	c->pcb = pcb;
	c->tls = tls;
	ip_addr_copy(c->peer, *altcp_get_ip(pcb, 0));
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	httpd_stats.accepted++;
	httpd_stats.open++;
	/* A new connection owes a request; over TLS the handshake comes
	 * first, under the same timeout. */
	set_wait(c, WAIT_HEADER);
	altcp_arg(pcb, c);
	altcp_recv(pcb, on_recv);
	altcp_sent(pcb, on_sent);
	altcp_err(pcb, on_err);
	altcp_poll(pcb, on_poll, POLL_INTERVAL);
	altcp_nagle_disable(pcb);
	return ERR_OK;
}

/* Every HTTPD_TICK_MS: the timeouts. */
static void
on_tick(struct limpet_timer *t, void *arg)
{
	uint64_t now = limpet_now_ns();
	struct conn *c, *next;

	(void)t;
	(void)arg;
	memq_run();
	if (draining && (httpd_stats.open == 0 || now >= drain_deadline)) {
		if (httpd_stats.open == 0)
			printf("httpd: shut down: every response finished\n");
		else
			printf("httpd: shut down: %u connection(s) still open after "
			    "--shutdown-timeout\n", httpd_stats.open);
		draining = false;
		limpet_stop(0);
		return;
	}
	for (c = conns; c != NULL; c = next) {
		next = c->next;
		if (c->closing || now < c->deadline)
			continue;
		switch (c->wait) {
		case WAIT_IDLE:
			httpd_stats.idle_timeouts++;
			conn_close(c);
			break;
		case WAIT_HEADER:
			tls_progress(c);
			if (c->tls && !c->handshaken) {
				/* A stalled handshake: nothing to answer. */
				httpd_stats.tls_handshake_timeouts++;
				c->peer_closed = true;
				conn_close(c);
				break;
			}
			httpd_stats.header_timeouts++;
			if (c->rxq == NULL && (c->req == NULL || (c->req->inlen == 0 &&
			    !http_parse_in_body(&c->req->parser)))) {
				conn_close(c);	/* nothing said: just close */
				break;
			}
			c->consumed = c->req != NULL ? (uint32_t)c->req->inlen : 0;
			c->responding = true;
			set_wait(c, WAIT_SEND);
			httpd_respond_error(c, 408, NULL);
			pump(c);
			break;
		case WAIT_SEND:
			if (c->memq) {
				/* Held up by us, in line for memory, not
				 * by the client: its clock starts again. */
				set_wait(c, WAIT_SEND);
				break;
			}
			httpd_stats.send_timeouts++;
			conn_abort(c);
			break;
		case WAIT_LINGER:
			/* The client kept sending: close for good. */
			c->peer_closed = true;
			conn_close(c);
			break;
		}
	}
}

/* Listen on port over pcb (a new altcp_tcp or altcp_tls one); 0 or -1. */
static int
listen_on(struct altcp_pcb *pcb, unsigned port, void *arg)
{
	struct altcp_pcb *lpcb;

	if (pcb == NULL)
		return -1;
	if (altcp_bind(pcb, IP_ANY_TYPE, (u16_t)port) != ERR_OK ||
	    (lpcb = altcp_listen(pcb)) == NULL) {
		altcp_close(pcb);
		return -1;
	}
	altcp_arg(lpcb, arg);
	altcp_accept(lpcb, on_accept);
	if (nlisteners < sizeof(listeners) / sizeof(listeners[0]))
		listeners[nlisteners++] = lpcb;
	return 0;
}

int
httpd_listen(void)
{
	if (httpd_cfg.http && listen_on(altcp_tcp_new_ip_type(IPADDR_TYPE_ANY),
	    httpd_cfg.port, NULL) != 0)
		return -1;
	if (httpd_cfg.https && listen_on(httpd_tls_listener(),
	    httpd_cfg.https_port, &tls_listener) != 0)
		return -1;
	limpet_timer_init(&tick, on_tick, NULL);
	limpet_timer_every(&tick, HTTPD_TICK_MS * LIMPET_MS);
	return 0;
}

/*
 * The power button (limpet_on_shutdown()): stop listening, close the
 * connections that wait for a next request, answer the requests under way
 * with "Connection: close", and stop the loop once every connection is
 * gone (on_tick()) or at --shutdown-timeout.
 */
void
httpd_shutdown(void *arg)
{
	struct conn *c, *next;
	unsigned idle = 0;

	(void)arg;
	/* Closing a listening PCB cannot fail: lwIP frees it at once (lwIP
	 * cannot abort one, so there is no other way anyway). */
	for (unsigned i = 0; i < nlisteners; i++)
		(void)altcp_close(listeners[i]);
	nlisteners = 0;
	draining = true;
	drain_deadline = limpet_now_ns() + httpd_cfg.shutdown_timeout_ns;
	for (c = conns; c != NULL; c = next) {
		next = c->next;
		if (!c->responding && !c->closing && c->wait == WAIT_IDLE &&
		    (c->req == NULL || c->req->inlen == 0)) {
			conn_close(c);
			idle++;
		}
	}
	printf("httpd: shutting down: not listening; %u idle connection(s) closed, %u "
	    "finishing (at most %llu ms)\n", idle, httpd_stats.open,
	    (unsigned long long)(httpd_cfg.shutdown_timeout_ns / LIMPET_MS));
	fflush(stdout);
}
