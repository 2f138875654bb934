/*
 * What net/tls/tls.c (the configuration) and net/tls/tls_altcp.c (the
 * altcp layer over it) share.  Not for services: they see limpet/tls.h.
 */
#ifndef NET_TLS_PRIV_H
#define NET_TLS_PRIV_H

#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

/* Certificates one configuration serves, chosen by SNI. */
#define TLS_MAX_CERTS	8

struct tls_cert {
	mbedtls_x509_crt	chain;	/* leaf first */
	mbedtls_pk_context	key;
};

/* lwIP's altcp_tls.h names this type; its definition is ours. */
struct altcp_tls_config {
	mbedtls_ssl_config		ssl;
	mbedtls_ssl_ticket_context	tickets;
	struct tls_cert			certs[TLS_MAX_CERTS];
	int				ncerts;
};


/* Multiples of a base point net/tls/ecdh_alt.c's __wrap_mbedtls_ecp_mul()
 * did with our code (mbedTLS's PSA crypto asks for them). */
extern unsigned long limpet_ecp_base_muls;

#endif /* NET_TLS_PRIV_H */
