/*
 * TLS as an altcp layer (lwIP's altcp_tls.h) over mbedTLS 3.6: the
 * server side only.  A TLS connection is an altcp_pcb whose inner_conn is
 * the altcp_tcp connection carrying its records; services call the same
 * altcp_* functions over either.
 *
 * lwIP's own layer (apps/altcp_tls/altcp_tls_mbedtls.c) is written for
 * mbedTLS 2 and does not compile against 3.6; this one is ours, and it
 * keeps to the altcp contract where lwIP's bent it:
 *
 *   - altcp_write() takes all it is given or nothing.  mbedTLS encrypts
 *     into its 4 KiB output buffer and hands the record to bio_send(),
 *     which queues it in TCP (copied: the record buffer is reused) and
 *     keeps whatever TCP has no room for in a small backlog, sent as soon
 *     as TCP takes it.  mbedTLS so never sees MBEDTLS_ERR_SSL_WANT_WRITE,
 *     whose contract (call again with the same data) altcp cannot keep.
 *     altcp_sndbuf() says how much plaintext fits in what TCP can take
 *     after the records' overhead, and is 0 while a backlog waits.
 *   - The sent callback counts plaintext bytes: the overhead of records,
 *     handshake messages and alerts is taken from what TCP reports first,
 *     so the service never hears of more than it wrote, and hears of all
 *     of it once TCP has.
 *   - The receive window follows the service: ciphertext mbedTLS has read
 *     is acknowledged to TCP (altcp_recved()) once the service has
 *     acknowledged all the plaintext given to it.  A service that stops
 *     reading stops the client, as over plain TCP.  At most TLS_RX_AHEAD
 *     bytes of plaintext are decrypted ahead of the service.
 *   - close and shutdown send close_notify when the handshake is over
 *     and TCP has room for it; close returns ERR_MEM (try again) while a
 *     backlog is unsent, so no record is lost.
 *
 * Callbacks from the service may close or abort the connection under
 * us: every callback from the layer below holds the state (`busy`), and a
 * state whose connection went away meanwhile (`gone`) is freed when the
 * last hold is let go; the layer below then hears ERR_ABRT if its own
 * connection was aborted, ERR_OK if it was closed.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/altcp.h>
#include <lwip/altcp_tcp.h>
#include <lwip/altcp_tls.h>
#include <lwip/pbuf.h>
#include <lwip/priv/altcp_priv.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/tcp.h>
#include <mbedtls/error.h>
#include <mbedtls/platform.h>
#include <mbedtls/ssl.h>

#include <kernel/log.h>
#include <limpet.h>
#include <limpet/tls.h>

#include "tls_priv.h"

/* Plaintext decrypted ahead of the service's altcp_recved(): one window. */
#define TLS_RX_AHEAD	TCP_WND
/* Plaintext read from mbedTLS into one pbuf when no record is open. */
#define TLS_READ_FIRST	1024

static struct limpet_tls_conn_stats counts;

struct tls_state {
	mbedtls_ssl_context	ssl;
	struct altcp_pcb	*conn;		/* the TLS connection */
	struct pbuf		*rx;		/* ciphertext mbedTLS has not read */
	struct pbuf		*tx;		/* records TCP had no room for */
	struct pbuf		*refused;	/* plaintext the service refused */
	struct limpet_work	kick;		/* process() after altcp_recved() */
	size_t			rx_unacked;	/* ciphertext read, not recved to TCP */
	size_t			app_unrecved;	/* plaintext given, not recved by the service */
	long			overhead;	/* queued bytes that are not plaintext */
	int			busy;		/* holds: callbacks on the stack */
	bool			handshaken;
	bool			rx_closed;	/* the client's FIN arrived */
	bool			eof_given;	/* the service got its NULL pbuf */
	bool			notified;	/* close_notify queued */
	bool			gone;		/* the connection is closed or aborted */
	bool			aborted;	/* ... and the TCP connection aborted */
	bool			failed;		/* mbedTLS reported a fatal error */
};

static const struct altcp_functions tls_functions;
static void tls_recved(struct altcp_pcb *conn, u16_t len);
static err_t tls_close(struct altcp_pcb *conn);

static struct tls_state *
state_of(struct altcp_pcb *conn)
{
	return conn != NULL && conn->fns == &tls_functions ? conn->state : NULL;
}

/* ---- sending ------------------------------------------------------------- */

extern const struct altcp_functions altcp_tcp_functions;	/* lwIP's altcp_tcp.c */

/*
 * Make TCP's next output acknowledge at once what it has received: during
 * the handshake no ACK is delayed.  A client flight the server does not
 * answer (TLS 1.2 resumption ends with the client's ChangeCipherSpec and
 * Finished) would otherwise wait for lwIP's delayed ACK, and a client
 * with Nagle on holds its request until then: 23 to 210 ms a resumed
 * request over tap, measured, against 0.5 ms now.  The inner connection
 * is always lwIP's altcp_tcp, whose state is its tcp_pcb.
 */
static void
ack_now(struct altcp_pcb *inner)
{
	if (inner != NULL && inner->fns == &altcp_tcp_functions && inner->state != NULL)
		tcp_ack_now((struct tcp_pcb *)inner->state);
}

/* Queue the backlog in TCP as far as it has room; 0, or -1 when TCP
 * refused for good (not for lack of room). */
static int
flush_tx(struct tls_state *st)
{
	struct altcp_pcb *inner = st->conn->inner_conn;

	while (st->tx != NULL) {
		u16_t room = altcp_sndbuf(inner);
		u16_t n = st->tx->len < room ? st->tx->len : room;
		err_t err;

		if (n == 0 || altcp_sndqueuelen(inner) >= TCP_SND_QUEUELEN)
			break;
		err = altcp_write(inner, st->tx->payload, n, TCP_WRITE_FLAG_COPY);
		if (err == ERR_MEM)
			break;
		if (err != ERR_OK)
			return -1;
		st->tx = pbuf_free_header(st->tx, n);
	}
	if (inner != NULL)
		altcp_output(inner);
	return 0;
}

static int
bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_state *st = ctx;
	struct altcp_pcb *inner = st->conn->inner_conn;
	size_t done = 0;

	if (inner == NULL)
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	if (len > 0xffff)
		len = 0xffff;		/* mbedTLS sends the rest next */
	if (st->tx == NULL) {
		u16_t room = altcp_sndbuf(inner);
		u16_t n = len < room ? (u16_t)len : room;

		if (n > 0 && altcp_sndqueuelen(inner) < TCP_SND_QUEUELEN &&
		    altcp_write(inner, buf, n, TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE) == ERR_OK)
			done = n;
	}
	if (done < len) {
		struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(len - done), PBUF_RAM);

		if (p == NULL)
			return MBEDTLS_ERR_SSL_ALLOC_FAILED;
		pbuf_take(p, buf + done, (u16_t)(len - done));
		if (st->tx == NULL)
			st->tx = p;
		else
			pbuf_cat(st->tx, p);
	}
	st->overhead += (long)len;
	return (int)len;
}

/* Plaintext one altcp_write() may take now: one record at most, and no
 * more than fits in TCP with the record's overhead. */
static u16_t
tls_sndbuf(struct altcp_pcb *conn)
{
	struct tls_state *st = state_of(conn);
	int max, exp;
	u16_t room;

	if (st == NULL || !st->handshaken || st->failed || st->tx != NULL || conn->inner_conn == NULL)
		return 0;
	room = altcp_sndbuf(conn->inner_conn);
	max = mbedtls_ssl_get_max_out_record_payload(&st->ssl);
	exp = mbedtls_ssl_get_record_expansion(&st->ssl);
	if (max <= 0 || exp < 0 || room <= exp)
		return 0;
	room -= (u16_t)exp;
	return room < max ? room : (u16_t)max;
}

static err_t
tls_write(struct altcp_pcb *conn, const void *data, u16_t len, u8_t apiflags)
{
	struct tls_state *st = state_of(conn);
	const unsigned char *p = data;
	u16_t done = 0;

	(void)apiflags;		/* records are always copied */
	if (st == NULL || st->gone)
		return ERR_CLSD;
	if (!st->handshaken || st->failed)
		return ERR_CONN;
	if (len == 0)
		return ERR_OK;
	if (st->tx != NULL && flush_tx(st) != 0)
		return ERR_CONN;
	/* One record, or more for a service that ignores altcp_sndbuf(): all
	 * of them must fit, or none is written. */
	{
		int max = mbedtls_ssl_get_max_out_record_payload(&st->ssl);
		int exp = mbedtls_ssl_get_record_expansion(&st->ssl);
		size_t records = max > 0 ? ((size_t)len + (size_t)max - 1) / (size_t)max : 1;

		if (st->tx != NULL || max <= 0 || exp < 0 ||
		    (size_t)len + records * (size_t)exp > altcp_sndbuf(conn->inner_conn))
			return ERR_MEM;
	}
	while (done < len) {
		int ret = mbedtls_ssl_write(&st->ssl, p + done, (size_t)(len - done));

		if (ret <= 0) {
			/* bio_send() never asks to wait: an error is fatal, and
			 * mbedTLS has sent its alert. */
			st->failed = true;
			return done > 0 ? ERR_OK : ERR_CONN;
		}
		done += (u16_t)ret;
		st->overhead -= ret;
	}
	return ERR_OK;
}

static err_t
tls_output(struct altcp_pcb *conn)
{
	struct tls_state *st = state_of(conn);

	if (st == NULL || conn->inner_conn == NULL)
		return ERR_CLSD;
	return altcp_output(conn->inner_conn);
}

/* Queue close_notify if the handshake is over and TCP has room for it all
 * (an alert is 2 bytes plus a record's overhead): a client that misses it
 * sees the FIN, which HTTP's framing tolerates. */
static void
send_close_notify(struct tls_state *st)
{
	int exp;

	if (st->notified || !st->handshaken || st->failed || st->tx != NULL ||
	    st->conn->inner_conn == NULL)
		return;
	exp = mbedtls_ssl_get_record_expansion(&st->ssl);
	if (exp < 0 || altcp_sndbuf(st->conn->inner_conn) < exp + 2)
		return;
	st->notified = true;
	(void)mbedtls_ssl_close_notify(&st->ssl);
}

/* ---- receiving ----------------------------------------------------------- */

static int
bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_state *st = ctx;
	u16_t n;

	if (st->rx == NULL)
		return st->rx_closed ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
	n = pbuf_copy_partial(st->rx, buf, len < 0xffff ? (u16_t)len : 0xffff, 0);
	st->rx = pbuf_free_header(st->rx, n);
	st->rx_unacked += n;
	return n;
}

/* Reopen TCP's window by the ciphertext read, once the service has taken
 * all the plaintext it was given. */
static void
ack_rx(struct tls_state *st)
{
	struct altcp_pcb *inner = st->conn->inner_conn;

	while (st->app_unrecved == 0 && st->rx_unacked > 0 && inner != NULL) {
		u16_t n = st->rx_unacked > 0xffff ? 0xffff : (u16_t)st->rx_unacked;

		altcp_recved(inner, n);
		st->rx_unacked -= n;
	}
}

static void
state_free(struct tls_state *st)
{
	limpet_work_cancel(&st->kick);
	mbedtls_ssl_free(&st->ssl);
	if (st->rx != NULL)
		pbuf_free(st->rx);
	if (st->tx != NULL)
		pbuf_free(st->tx);
	if (st->refused != NULL)
		pbuf_free(st->refused);
	counts.open--;
	mbedtls_free(st);
}

/* The connection is going away: freed when the last hold on it is let
 * go (at once when there is none). */
static void
release(struct altcp_pcb *conn)
{
	struct tls_state *st = conn->state;

	st->gone = true;
	if (st->busy == 0)
		altcp_free(conn);	/* tls_dealloc() frees st */
}

static void
hold(struct tls_state *st)
{
	st->busy++;
}

/* Let go of a hold; what the layer below's callback returns. */
static err_t
let_go(struct tls_state *st, err_t err)
{
	bool aborted = st->aborted;

	if (--st->busy > 0 || !st->gone)
		return err;
	altcp_free(st->conn);
	return aborted ? ERR_ABRT : ERR_OK;
}

/* Give the service plaintext (NULL: the end of it).  Called with a hold;
 * the caller stops when st->gone. */
static void
give(struct tls_state *st, struct pbuf *p)
{
	struct altcp_pcb *conn = st->conn;
	err_t err;

	if (p != NULL)
		st->app_unrecved += p->tot_len;
	if (conn->recv == NULL) {
		/* as lwIP's core does for a connection with no recv callback */
		if (p != NULL) {
			tls_recved(conn, p->tot_len);
			pbuf_free(p);
		} else {
			(void)tls_close(conn);
		}
		return;
	}
	err = conn->recv(conn->arg, conn, p, ERR_OK);
	if (!st->gone && err != ERR_OK && p != NULL) {
		/* Refused: offered again later, as lwIP's core does. */
		st->app_unrecved -= p->tot_len;
		st->refused = p;
	}
}

/* Acknowledge and drop the ciphertext no one will read, so that closing
 * TCP sends a FIN, not the RST lwIP sends over unread data. */
static void
drop_rx(struct tls_state *st)
{
	if (st->rx != NULL) {
		st->rx_unacked += st->rx->tot_len;
		pbuf_free(st->rx);
		st->rx = NULL;
	}
	st->app_unrecved = 0;
	ack_rx(st);
}

/* A fatal TLS error: the alert mbedTLS queued goes out with a FIN, and the
 * service hears of it through its err callback.  Called with a hold. */
static void
fail(struct tls_state *st, int ret)
{
	struct altcp_pcb *conn = st->conn, *inner = conn->inner_conn;

	if (!st->handshaken) {
		counts.handshake_failures++;
		if (ret != MBEDTLS_ERR_SSL_CONN_EOF)
			log_debug("tls: handshake failed (-0x%04x)", (unsigned int)-ret);
	}
	st->failed = true;
	if (inner != NULL) {
		drop_rx(st);
		(void)flush_tx(st);	/* the alert, where TCP has room */
		altcp_arg(inner, NULL);
		conn->inner_conn = NULL;
		if (altcp_close(inner) != ERR_OK) {
			altcp_abort(inner);
			st->aborted = true;
		}
	}
	if (conn->err != NULL)
		conn->err(conn->arg, ERR_ABRT);
	release(conn);
}

/*
 * mbedTLS 3.6 frees a TLS 1.2 connection's handshake state when its
 * handshake ends (mbedtls_ssl_handshake_wrapup_free_hs_transform()), but
 * keeps a TLS 1.3 one's until the connection is freed: the transcript's
 * hash contexts, the handshake's record keys and TLS 1.2's transform,
 * about 4.5 KiB a connection (a sixth of an idle one).  Free it as TLS 1.2's is, with the function
 * mbedTLS uses (declared in its private ssl_misc.h).  What runs after a
 * handshake works without it: the record layer does after every TLS 1.2
 * handshake, and a TLS 1.3 server answers any handshake message after the
 * handshake (ssl_tls13_handle_hs_message_post_handshake()) with an alert,
 * without looking at this state; tests/test_https.py sends it some.
 */
void mbedtls_ssl_handshake_free(mbedtls_ssl_context *ssl);
void mbedtls_ssl_transform_free(mbedtls_ssl_transform *transform);

static void
free_tls13_handshake(mbedtls_ssl_context *ssl)
{
	if (ssl->MBEDTLS_PRIVATE(handshake) == NULL)
		return;
	mbedtls_ssl_handshake_free(ssl);
	mbedtls_free(ssl->MBEDTLS_PRIVATE(handshake));
	ssl->MBEDTLS_PRIVATE(handshake) = NULL;
	/* What mbedtls_ssl_free() frees only while the handshake state is
	 * there: TLS 1.2's pending transform (allocated for every handshake,
	 * unused by TLS 1.3) and the session being negotiated (already the
	 * connection's session in TLS 1.3, so NULL). */
	mbedtls_ssl_transform_free(ssl->MBEDTLS_PRIVATE(transform_negotiate));
	mbedtls_free(ssl->MBEDTLS_PRIVATE(transform_negotiate));
	ssl->MBEDTLS_PRIVATE(transform_negotiate) = NULL;
	mbedtls_ssl_session_free(ssl->MBEDTLS_PRIVATE(session_negotiate));
	mbedtls_free(ssl->MBEDTLS_PRIVATE(session_negotiate));
	ssl->MBEDTLS_PRIVATE(session_negotiate) = NULL;
}

/* Run the handshake, then hand the service what has been decrypted.
 * Called with a hold; stops when the connection goes. */
static void
process(struct tls_state *st)
{
	int ret;

	if (st->gone || st->failed)
		return;
	if (!st->handshaken) {
		ret = mbedtls_ssl_handshake(&st->ssl);
		if (ret == MBEDTLS_ERR_SSL_WANT_READ && !st->rx_closed) {
			ack_rx(st);
			ack_now(st->conn->inner_conn);
			(void)flush_tx(st);
			return;
		}
		if (ret != 0) {
			fail(st, ret == MBEDTLS_ERR_SSL_WANT_READ ? MBEDTLS_ERR_SSL_CONN_EOF : ret);
			return;
		}
		st->handshaken = true;
		if (mbedtls_ssl_get_version_number(&st->ssl) == MBEDTLS_SSL_VERSION_TLS1_3) {
			counts.handshakes_tls13++;
			free_tls13_handshake(&st->ssl);
		} else {
			counts.handshakes_tls12++;
		}
		ack_now(st->conn->inner_conn);
		(void)flush_tx(st);
	}
	if (st->refused != NULL) {
		struct pbuf *p = st->refused;

		st->refused = NULL;
		give(st, p);
		if (st->gone)
			return;
	}
	while (st->refused == NULL && st->app_unrecved < TLS_RX_AHEAD) {
		size_t want = mbedtls_ssl_get_bytes_avail(&st->ssl);
		struct pbuf *p;

		if (want == 0)
			want = TLS_READ_FIRST;
		if (want > TLS_RX_AHEAD - st->app_unrecved)
			want = TLS_RX_AHEAD - st->app_unrecved;
		if (want > 0xffff)
			want = 0xffff;
		if ((p = pbuf_alloc(PBUF_RAW, (u16_t)want, PBUF_RAM)) == NULL)
			break;		/* out of memory: again at the next poll */
		ret = mbedtls_ssl_read(&st->ssl, p->payload, want);
		if (ret > 0) {
			pbuf_realloc(p, (u16_t)ret);
			give(st, p);
			if (st->gone)
				return;
			continue;
		}
		pbuf_free(p);
		if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			break;
		if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
		    ret == MBEDTLS_ERR_SSL_CONN_EOF) {
			st->rx_closed = true;
			break;
		}
		if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET ||
		    ret == MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA)
			continue;
		fail(st, ret);
		return;
	}
	if (st->rx_closed && st->refused == NULL && !st->eof_given &&
	    mbedtls_ssl_get_bytes_avail(&st->ssl) == 0) {
		st->eof_given = true;
		drop_rx(st);	/* anything after close_notify is ignored */
		give(st, NULL);
		if (st->gone)
			return;
	}
	ack_rx(st);
	(void)flush_tx(st);
}

static void
kick(struct limpet_work *w, void *arg)
{
	struct tls_state *st = arg;

	(void)w;
	hold(st);
	process(st);
	(void)let_go(st, ERR_OK);
}

/* ---- the layer below's callbacks --------------------------------------- */

static err_t
lower_recv(void *arg, struct altcp_pcb *inner, struct pbuf *p, err_t err)
{
	struct tls_state *st = state_of(arg);

	(void)err;
	if (st == NULL || st->gone) {
		if (p != NULL) {
			altcp_recved(inner, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (p == NULL)
		st->rx_closed = true;
	else if (st->rx == NULL)
		st->rx = p;
	else
		pbuf_cat(st->rx, p);
	hold(st);
	process(st);
	return let_go(st, ERR_OK);
}

static err_t
lower_sent(void *arg, struct altcp_pcb *inner, u16_t len)
{
	struct altcp_pcb *conn = arg;
	struct tls_state *st = state_of(conn);
	err_t err = ERR_OK;

	(void)inner;
	if (st == NULL || st->gone)
		return ERR_OK;
	if (st->overhead > 0) {
		long take = st->overhead < len ? st->overhead : len;

		st->overhead -= take;
		len -= (u16_t)take;
	}
	hold(st);
	if (flush_tx(st) != 0)
		fail(st, MBEDTLS_ERR_SSL_INTERNAL_ERROR);
	else if (len > 0 && conn->sent != NULL)
		err = conn->sent(conn->arg, conn, len);
	return let_go(st, err);
}

static err_t
lower_poll(void *arg, struct altcp_pcb *inner)
{
	struct altcp_pcb *conn = arg;
	struct tls_state *st = state_of(conn);
	err_t err = ERR_OK;

	(void)inner;
	if (st == NULL || st->gone)
		return ERR_OK;
	hold(st);
	if (flush_tx(st) != 0)
		fail(st, MBEDTLS_ERR_SSL_INTERNAL_ERROR);
	if (!st->gone && (st->refused != NULL || st->rx != NULL))
		process(st);
	if (!st->gone && conn->poll != NULL)
		err = conn->poll(conn->arg, conn);
	return let_go(st, err);
}

static void
lower_err(void *arg, err_t err)
{
	struct altcp_pcb *conn = arg;
	struct tls_state *st = state_of(conn);

	if (st == NULL)
		return;
	conn->inner_conn = NULL;	/* lwIP has freed it */
	st->aborted = true;
	if (st->gone)
		return;
	if (!st->handshaken)
		counts.handshake_failures++;
	hold(st);
	if (conn->err != NULL)
		conn->err(conn->arg, err);
	release(conn);
	(void)let_go(st, ERR_OK);
}

static void
set_lower_callbacks(struct altcp_pcb *conn, struct altcp_pcb *inner)
{
	altcp_arg(inner, conn);
	altcp_recv(inner, lower_recv);
	altcp_sent(inner, lower_sent);
	altcp_err(inner, lower_err);
	/* the poll callback is set by tls_set_poll() */
}

/* Make conn a TLS server connection over inner; ERR_OK or ERR_MEM. */
static err_t
tls_setup(struct altcp_tls_config *conf, struct altcp_pcb *conn, struct altcp_pcb *inner)
{
	struct tls_state *st = mbedtls_calloc(1, sizeof(*st));

	if (st == NULL)
		return ERR_MEM;
	mbedtls_ssl_init(&st->ssl);
	if (mbedtls_ssl_setup(&st->ssl, &conf->ssl) != 0) {
		mbedtls_ssl_free(&st->ssl);
		mbedtls_free(st);
		return ERR_MEM;
	}
	mbedtls_ssl_set_bio(&st->ssl, st, bio_send, bio_recv, NULL);
	limpet_work_init(&st->kick, kick, st);
	st->conn = conn;
	conn->inner_conn = inner;
	conn->fns = &tls_functions;
	conn->state = st;
	counts.open++;
	set_lower_callbacks(conn, inner);
	return ERR_OK;
}

static err_t
lower_accept(void *arg, struct altcp_pcb *inner, err_t err)
{
	struct altcp_pcb *listener = arg, *conn;

	if (listener == NULL || listener->accept == NULL || err != ERR_OK)
		return ERR_ARG;
	if ((conn = altcp_alloc()) == NULL)
		return ERR_MEM;
	if (tls_setup(listener->state, conn, inner) != ERR_OK) {
		altcp_free(conn);
		return ERR_MEM;
	}
	/* On an error other than ERR_ABRT lwIP aborts the connection, and
	 * lower_err() frees conn. */
	return listener->accept(listener->arg, conn, ERR_OK);
}

/* ---- the altcp functions ------------------------------------------------- */

static void
tls_set_poll(struct altcp_pcb *conn, u8_t interval)
{
	if (conn->inner_conn != NULL)
		altcp_poll(conn->inner_conn, lower_poll, interval);
}

static void
tls_recved(struct altcp_pcb *conn, u16_t len)
{
	struct tls_state *st = state_of(conn);

	if (st == NULL || st->gone)
		return;
	st->app_unrecved = len < st->app_unrecved ? st->app_unrecved - len : 0;
	ack_rx(st);
	/* Outside process(), which goes on by itself, read what waits. */
	if (st->busy == 0 && (st->rx != NULL || st->refused != NULL))
		limpet_soon(&st->kick);
}

static err_t
tls_bind(struct altcp_pcb *conn, const ip_addr_t *ipaddr, u16_t port)
{
	return conn->inner_conn != NULL ? altcp_bind(conn->inner_conn, ipaddr, port) : ERR_VAL;
}

static err_t
tls_connect(struct altcp_pcb *conn, const ip_addr_t *ipaddr, u16_t port,
    altcp_connected_fn connected)
{
	(void)conn; (void)ipaddr; (void)port; (void)connected;
	return ERR_VAL;		/* server side only */
}

static struct altcp_pcb *
tls_listen(struct altcp_pcb *conn, u8_t backlog, err_t *err)
{
	struct altcp_pcb *lpcb;

	if (conn->inner_conn == NULL) {
		if (err != NULL)
			*err = ERR_VAL;
		return NULL;
	}
	lpcb = altcp_listen_with_backlog_and_err(conn->inner_conn, backlog, err);
	if (lpcb == NULL)
		return NULL;
	conn->inner_conn = lpcb;
	altcp_arg(lpcb, conn);
	altcp_accept(lpcb, lower_accept);
	return conn;
}

static void
tls_abort(struct altcp_pcb *conn)
{
	struct tls_state *st = state_of(conn);

	if (st == NULL) {
		/* A listener, listening or not: lwIP cannot abort a listening
		 * PCB, and one that never listened has nothing to abort. */
		(void)tls_close(conn);
		return;
	}
	if (conn->inner_conn != NULL)
		altcp_abort(conn->inner_conn);	/* lower_err() does the rest */
	else if (!st->gone)
		release(conn);
}

static err_t
tls_close(struct altcp_pcb *conn)
{
	struct tls_state *st = state_of(conn);
	struct altcp_pcb *inner = conn->inner_conn;
	err_t err;

	if (st == NULL) {
		/* a listener */
		if (inner != NULL) {
			altcp_arg(inner, NULL);
			altcp_accept(inner, NULL);
			if ((err = altcp_close(inner)) != ERR_OK) {
				altcp_arg(inner, conn);
				altcp_accept(inner, lower_accept);
				return err;
			}
		}
		altcp_free(conn);
		return ERR_OK;
	}
	if (st->gone)
		return ERR_OK;
	if (inner != NULL) {
		if (flush_tx(st) == 0 && st->tx != NULL)
			return ERR_MEM;		/* the records first: try again */
		send_close_notify(st);
		(void)flush_tx(st);
		drop_rx(st);
		altcp_arg(inner, NULL);
		if ((err = altcp_close(inner)) != ERR_OK) {
			altcp_arg(inner, conn);
			return err;
		}
		conn->inner_conn = NULL;
	}
	release(conn);
	return ERR_OK;
}

static err_t
tls_shutdown(struct altcp_pcb *conn, int shut_rx, int shut_tx)
{
	struct tls_state *st = state_of(conn);

	if (shut_rx && shut_tx)
		return tls_close(conn);
	if (conn->inner_conn == NULL)
		return ERR_CLSD;
	if (shut_tx && st != NULL) {
		if (st->tx != NULL)
			return ERR_MEM;		/* the records first */
		send_close_notify(st);
		(void)flush_tx(st);
	}
	return altcp_shutdown(conn->inner_conn, shut_rx, shut_tx);
}

static u16_t
tls_mss(struct altcp_pcb *conn)
{
	return conn->inner_conn != NULL ? altcp_mss(conn->inner_conn) : 0;
}

static u16_t
tls_sndqueuelen(struct altcp_pcb *conn)
{
	return conn->inner_conn != NULL ? altcp_sndqueuelen(conn->inner_conn) : 0;
}

static void
tls_nagle_disable(struct altcp_pcb *conn)
{
	if (conn->inner_conn != NULL)
		altcp_nagle_disable(conn->inner_conn);
}

static void
tls_nagle_enable(struct altcp_pcb *conn)
{
	if (conn->inner_conn != NULL)
		altcp_nagle_enable(conn->inner_conn);
}

static int
tls_nagle_disabled(struct altcp_pcb *conn)
{
	return conn->inner_conn != NULL ? altcp_nagle_disabled(conn->inner_conn) : 0;
}

static void
tls_setprio(struct altcp_pcb *conn, u8_t prio)
{
	if (conn->inner_conn != NULL)
		altcp_setprio(conn->inner_conn, prio);
}

static void
tls_dealloc(struct altcp_pcb *conn)
{
	struct tls_state *st = state_of(conn);

	if (st != NULL)
		state_free(st);
	conn->state = NULL;
}

static err_t
tls_addrinfo(struct altcp_pcb *conn, int local, ip_addr_t *addr, u16_t *port)
{
	return conn->inner_conn != NULL ?
	    altcp_get_tcp_addrinfo(conn->inner_conn, local, addr, port) : ERR_CLSD;
}

static ip_addr_t *
tls_getip(struct altcp_pcb *conn, int local)
{
	return conn->inner_conn != NULL ? altcp_get_ip(conn->inner_conn, local) : NULL;
}

static u16_t
tls_getport(struct altcp_pcb *conn, int local)
{
	return conn->inner_conn != NULL ? altcp_get_port(conn->inner_conn, local) : 0;
}

#if LWIP_TCP_KEEPALIVE
static void
tls_keepalive_disable(struct altcp_pcb *conn)
{
	if (conn->inner_conn != NULL)
		altcp_keepalive_disable(conn->inner_conn);
}

static void
tls_keepalive_enable(struct altcp_pcb *conn, u32_t idle, u32_t intvl, u32_t count)
{
	if (conn->inner_conn != NULL)
		altcp_keepalive_enable(conn->inner_conn, idle, intvl, count);
}
#endif

#ifdef LWIP_DEBUG
static enum tcp_state
tls_dbg_get_tcp_state(struct altcp_pcb *conn)
{
	return conn->inner_conn != NULL ? altcp_dbg_get_tcp_state(conn->inner_conn) : CLOSED;
}
#endif

static const struct altcp_functions tls_functions = {
	.set_poll = tls_set_poll,
	.recved = tls_recved,
	.bind = tls_bind,
	.connect = tls_connect,
	.listen = tls_listen,
	.abort = tls_abort,
	.close = tls_close,
	.shutdown = tls_shutdown,
	.write = tls_write,
	.output = tls_output,
	.mss = tls_mss,
	.sndbuf = tls_sndbuf,
	.sndqueuelen = tls_sndqueuelen,
	.nagle_disable = tls_nagle_disable,
	.nagle_enable = tls_nagle_enable,
	.nagle_disabled = tls_nagle_disabled,
	.setprio = tls_setprio,
	.dealloc = tls_dealloc,
	.addrinfo = tls_addrinfo,
	.getip = tls_getip,
	.getport = tls_getport,
#if LWIP_TCP_KEEPALIVE
	.keepalive_disable = tls_keepalive_disable,
	.keepalive_enable = tls_keepalive_enable,
#endif
#ifdef LWIP_DEBUG
	.dbg_get_tcp_state = tls_dbg_get_tcp_state,
#endif
};

/* ---- lwIP's altcp_tls.h, the server half --------------------------------- */

/* A listener: conn->state is the configuration until listen, and stays so;
 * each accepted connection gets a tls_state of its own. */
static const struct altcp_functions tls_listener_functions;

struct altcp_pcb *
altcp_tls_wrap(struct altcp_tls_config *config, struct altcp_pcb *inner)
{
	struct altcp_pcb *conn;

	if (config == NULL || inner == NULL || (conn = altcp_alloc()) == NULL)
		return NULL;
	conn->inner_conn = inner;
	conn->fns = &tls_listener_functions;
	conn->state = config;
	return conn;
}

struct altcp_pcb *
altcp_tls_new(struct altcp_tls_config *config, u8_t ip_type)
{
	struct altcp_pcb *inner = altcp_tcp_new_ip_type(ip_type), *conn;

	if (inner == NULL)
		return NULL;
	if ((conn = altcp_tls_wrap(config, inner)) == NULL)
		altcp_close(inner);
	return conn;
}

void *
altcp_tls_context(struct altcp_pcb *conn)
{
	struct tls_state *st = state_of(conn);

	return st != NULL ? &st->ssl : NULL;
}

static void
listener_dealloc(struct altcp_pcb *conn)
{
	conn->state = NULL;	/* the configuration outlives its listeners */
}

static const struct altcp_functions tls_listener_functions = {
	.set_poll = tls_set_poll,
	.recved = NULL,
	.bind = tls_bind,
	.connect = tls_connect,
	.listen = tls_listen,
	.abort = tls_abort,
	.close = tls_close,
	.shutdown = NULL,
	.write = NULL,
	.output = NULL,
	.mss = tls_mss,
	.sndbuf = NULL,
	.sndqueuelen = tls_sndqueuelen,
	.nagle_disable = tls_nagle_disable,
	.nagle_enable = tls_nagle_enable,
	.nagle_disabled = tls_nagle_disabled,
	.setprio = tls_setprio,
	.dealloc = listener_dealloc,
	.addrinfo = tls_addrinfo,
	.getip = tls_getip,
	.getport = tls_getport,
#if LWIP_TCP_KEEPALIVE
	.keepalive_disable = tls_keepalive_disable,
	.keepalive_enable = tls_keepalive_enable,
#endif
#ifdef LWIP_DEBUG
	.dbg_get_tcp_state = tls_dbg_get_tcp_state,
#endif
};

/* ---- what services may ask of a TLS connection (limpet/tls.h) ---------- */

bool
limpet_tls_handshake_done(struct altcp_pcb *conn)
{
	struct tls_state *st = state_of(conn);

	return st != NULL && st->handshaken;
}

bool
limpet_tls_output_pending(struct altcp_pcb *conn)
{
	struct tls_state *st = state_of(conn);

	if (st == NULL || st->gone || st->failed)
		return false;
	(void)flush_tx(st);
	return st->tx != NULL;
}

size_t
limpet_tls_max_write(struct altcp_pcb *conn)
{
	struct tls_state *st = state_of(conn);
	int n;

	if (st == NULL)
		return 0;
	n = mbedtls_ssl_get_max_out_record_payload(&st->ssl);
	return n > 0 ? (size_t)n : 0;
}

const struct limpet_tls_conn_stats *
limpet_tls_conn_stats(void)
{
	return &counts;
}
