/*
 * What httpd needs from the TLS layer beyond the altcp_* calls conn.c
 * makes for every connection: the HTTPS listener, whether a connection's
 * handshake is over, how much plaintext one write may carry (one record:
 * altcp_sndbuf() over TLS says the same), whether records wait for room
 * in TCP, and the random generator's counters.  close_notify is the TLS
 * layer's (net/tls/tls_altcp.c sends it on shutdown and close).
 *
 * In images built without TLS (LIMPET_TLS undefined) there is no HTTPS
 * listener and every connection is plain; the functions below then say
 * so, and conn.c needs no #ifdef.
 */
#include <stddef.h>

#include "httpd.h"

#ifdef LIMPET_TLS

#include <lwip/altcp_tls.h>

#include <limpet/tls.h>

struct altcp_pcb *
httpd_tls_listener(void)
{
	/* Never NULL: stops the machine when TLS cannot be set up. */
	struct altcp_tls_config *conf = limpet_tls_server_config();

	return altcp_tls_new(conf, IPADDR_TYPE_ANY);
}

bool
httpd_tls_handshake_done(struct altcp_pcb *pcb)
{
	return limpet_tls_handshake_done(pcb);
}

size_t
httpd_tls_max_write(struct altcp_pcb *pcb)
{
	return limpet_tls_max_write(pcb);
}

bool
httpd_tls_output_pending(struct altcp_pcb *pcb)
{
	return limpet_tls_output_pending(pcb);
}

const struct limpet_tls_rng_stats *
httpd_tls_rng_stats(void)
{
	return limpet_tls_rng_stats();
}

const struct limpet_tls_conn_stats *
httpd_tls_conn_stats(void)
{
	return limpet_tls_conn_stats();
}

void
httpd_tls_memory(size_t *bytes, size_t *peak)
{
	limpet_tls_memory(bytes, peak);
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

const struct limpet_tls_rng_stats *
httpd_tls_rng_stats(void)
{
	return NULL;
}

const struct limpet_tls_conn_stats *
httpd_tls_conn_stats(void)
{
	return NULL;
}

void
httpd_tls_memory(size_t *bytes, size_t *peak)
{
	*bytes = *peak = 0;
}

#endif /* LIMPET_TLS */
