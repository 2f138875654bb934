/*
 * TLS for services: the server configuration lwIP's altcp TLS layer
 * (altcp_tls_mbedtls.c, over mbedTLS) needs, made from the certificate and
 * key the build embedded in the image.
 *
 * Available in images built with tls=1, or whose service.conf says
 * tls = yes; LIMPET_TLS is then defined to 1 for the service's sources.
 * What TLS a client can negotiate is fixed when mbedTLS is compiled
 * (net/tls/limpet_mbedtls_config.h): TLS 1.2, ECDHE over X25519 or P-256, AES-GCM
 * and ChaCha20-Poly1305 suites, session tickets.
 *
 * Serving TLS on a port (from main(), before limpet_run()):
 *
 *	struct altcp_tls_config *conf = limpet_tls_server_config();
 *	struct altcp_pcb *l = altcp_tls_new(conf, IPADDR_TYPE_ANY);
 *	altcp_bind(l, IP_ANY_TYPE, 443);
 *	l = altcp_listen_with_backlog(l, backlog);
 *	altcp_accept(l, on_accept);
 *
 * then the altcp_* calls (lwip/altcp.h) as one would the tcp_* ones:
 * altcp_recv/altcp_sent/altcp_err/altcp_poll, altcp_write, altcp_output,
 * altcp_recved, altcp_close/altcp_abort.  Data the service sees and
 * writes is plaintext; altcp_sndbuf() is what may be written now.  As with
 * the raw API, call these only from the event loop's context.
 */
#ifndef LIMPET_TLS_H
#define LIMPET_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <limpet/status.h>

struct altcp_tls_config;

/* The status the machine stops with when TLS cannot be set up. */
#define LIMPET_TLS_SETUP_STATUS	LIMPET_STATUS_TLS_SETUP

/* The server's certificates (chains, leaf first) and private keys, PEM
 * and NUL-terminated, as embedded by the build (tls_cert= and tls_key=,
 * comma-separated lists of as many, or a generated development
 * certificate): limpet_tls_npairs of each, the first the default. */
extern const char *const limpet_tls_cert_pems[];
extern const char *const limpet_tls_key_pems[];
extern const int	limpet_tls_npairs;
/* 1 when the certificate is the build's self-signed development one. */
extern const int	limpet_tls_dev_cert;

/*
 * The server configuration, made once and shared (later calls return the
 * same one): the certificates and keys given at boot through QEMU's fw_cfg
 * (opt/limpet/tls/cert and opt/limpet/tls/key, then cert.1 and key.1 up
 * to .7), or without them the ones built into the image; chosen by the
 * name a client asks for (SNI), the first by default.  Seeds the DRBG from
 * the hardware entropy source first.  Never returns NULL: without a
 * hardware entropy source, or with a certificate or key that does not
 * parse, does not match, or does not fit, it says why (never printing a
 * key) and stops the machine with LIMPET_TLS_SETUP_STATUS, so that an
 * image never serves TLS with predictable keys or the wrong certificate.
 * Event-loop context only.
 */
struct altcp_tls_config *limpet_tls_server_config(void);

/*
 * The same for a given certificate (chain) and key (PEM, NUL-terminated,
 * key unencrypted), returning NULL after logging why when they do not
 * parse.  Stops the machine like limpet_tls_server_config() when there is
 * no entropy.  Each call makes a new configuration.
 */
struct altcp_tls_config *limpet_tls_server_config_pem(const char *cert_pem,
			    const char *key_pem);

/* The DRBG handshakes draw from (net/tls/tls.c): draws, reseeds from the
 * hardware entropy source (at least one a second while in use), whether
 * a reseed failed, after which every handshake fails, whether the machine
 * has a VM generation ID and how often it changed (each change reseeds);
 * and the hardware source's health (kernel/arch/x86_64/entropy.c):
 * samples read, failures, and whether it passes its health tests now. */
struct limpet_tls_rng_stats {
	unsigned long long	draws;
	unsigned long		reseeds;
	int			failed;
	int			genid;
	unsigned long		genid_changes;
	unsigned long long	entropy_samples;
	unsigned long		entropy_failures;
	int			entropy_healthy;
};

const struct limpet_tls_rng_stats *limpet_tls_rng_stats(void);

/* The TLS layer's own counters (net/tls/tls_altcp.c): handshakes
 * completed by protocol version, handshakes that failed (alerts, bad
 * records, a client that left), and connections with TLS state now. */
struct limpet_tls_conn_stats {
	unsigned long	handshakes_tls13;
	unsigned long	handshakes_tls12;
	unsigned long	handshake_failures;
	unsigned long	open;
};

const struct limpet_tls_conn_stats *limpet_tls_conn_stats(void);

/* The bytes of newlib's heap TLS holds now (mbedTLS's allocations and the
 * TLS layer's state: each connection's and what all share), and the most
 * it has held. */
void	limpet_tls_memory(size_t *bytes, size_t *peak);

/*
 * A connection of the TLS layer (altcp_tls_new(), net/tls/tls_altcp.c);
 * each answers false or 0 for any other altcp connection.
 */
struct altcp_pcb;
/* The handshake is over: the connection carries application data. */
bool	limpet_tls_handshake_done(struct altcp_pcb *conn);
/* Records wait for room in TCP (after trying to queue them now); close
 * returns ERR_MEM until they are gone. */
bool	limpet_tls_output_pending(struct altcp_pcb *conn);
/* The most plaintext one record carries (altcp_sndbuf() never says more). */
size_t	limpet_tls_max_write(struct altcp_pcb *conn);

#endif
