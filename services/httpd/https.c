/*
 * What httpd needs from the TLS layer beyond the altcp_* calls conn.c
 * makes for every connection: the HTTPS listener, whether a connection's
 * handshake is over, how much plaintext one write may carry, the
 * close_notify alert, and the random generator's counters.
 *
 * In images built without TLS (LIMPET_TLS undefined) there is no HTTPS
 * listener and every connection is plain; the functions below then say
 * so, and conn.c needs no #ifdef.
 *
 * Why the write size matters: lwIP 2.1's altcp_tls_mbedtls.c assumes
 * mbedtls_ssl_write() takes all it is given, but mbedTLS takes at most one
 * record's worth (MBEDTLS_SSL_OUT_CONTENT_LEN, 4 KiB here) and lwIP would
 * then report ERR_MEM for bytes it did send.  altcp_sndbuf() over TLS caps
 * only at the negotiated maximum fragment length (16 KiB by default), so
 * conn.c caps each write at httpd_tls_max_write() as well.
 */
#include <stddef.h>

#include "httpd.h"

#ifdef LIMPET_TLS

#include <lwip/altcp_tls.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>	/* mbedtls_ssl_flush_output(), as lwIP uses it */

#include <limpet/tls.h>

struct altcp_pcb *
httpd_tls_listener(void)
{
	/* Never NULL: stops the machine when TLS cannot be set up. */
	struct altcp_tls_config *conf = limpet_tls_server_config();

	return altcp_tls_new(conf, IPADDR_TYPE_V4);
}

static mbedtls_ssl_context *
ssl_of(struct altcp_pcb *pcb)
{
	return pcb != NULL ? altcp_tls_context(pcb) : NULL;
}

bool
httpd_tls_handshake_done(struct altcp_pcb *pcb)
{
	mbedtls_ssl_context *ssl = ssl_of(pcb);

	return ssl != NULL && ssl->state == MBEDTLS_SSL_HANDSHAKE_OVER;
}

size_t
httpd_tls_max_write(struct altcp_pcb *pcb)
{
	mbedtls_ssl_context *ssl = ssl_of(pcb);
	int n = ssl != NULL ? mbedtls_ssl_get_max_out_record_payload(ssl) : 0;

	return n > 0 ? (size_t)n : 0;
}

bool
httpd_tls_output_pending(struct altcp_pcb *pcb)
{
	mbedtls_ssl_context *ssl = ssl_of(pcb);

	if (ssl == NULL || ssl->out_left == 0)
		return false;
	/* A hard error: the connection is failing, close it anyway.  0 also
	 * when lwIP took only part (its send callback then says 0 bytes, not
	 * WANT_WRITE): out_left tells. */
	if (mbedtls_ssl_flush_output(ssl) < 0)
		return false;
	return ssl->out_left != 0;
}

void
httpd_tls_close_notify(struct altcp_pcb *pcb)
{
	mbedtls_ssl_context *ssl = ssl_of(pcb);

	/* Best effort: the alert is queued like any record; when lwIP has no
	 * room for it the client sees the TCP FIN alone, which HTTP with
	 * Content-Length framing tolerates. */
	if (ssl != NULL && ssl->state == MBEDTLS_SSL_HANDSHAKE_OVER)
		(void)mbedtls_ssl_close_notify(ssl);
}

const struct limpet_tls_rng_stats *
httpd_tls_rng_stats(void)
{
	return limpet_tls_rng_stats();
}

#else /* !LIMPET_TLS */

struct altcp_pcb *
httpd_tls_listener(void)
{
	return NULL;
}

bool
httpd_tls_handshake_done(struct altcp_pcb *pcb)
{
	(void)pcb;
	return true;
}

size_t
httpd_tls_max_write(struct altcp_pcb *pcb)
{
	(void)pcb;
	return 0;
}

bool
httpd_tls_output_pending(struct altcp_pcb *pcb)
{
	(void)pcb;
	return false;
}

void
httpd_tls_close_notify(struct altcp_pcb *pcb)
{
	(void)pcb;
}

const struct limpet_tls_rng_stats *
httpd_tls_rng_stats(void)
{
	return NULL;
}

#endif /* LIMPET_TLS */
