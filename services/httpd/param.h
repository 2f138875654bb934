/*
 * httpd's limits, all in one place.  The ones with an app argument can be
 * changed at boot (./limpet run httpd -- --max-conns 128); the others at
 * build time here.  The parser's own buffer sizes are in http_parse.h.
 */
#ifndef HTTPD_PARAM_H
#define HTTPD_PARAM_H

/* The defaults of two switches: the access log (a console line per
 * request; --access-log / --no-access-log) and the stats page at
 * HTTPD_STATS_PATH (--stats / --no-stats).  Define either as 0 or 1 here,
 * or with -D at build time. */
#ifndef HTTPD_ACCESS_LOG
#define HTTPD_ACCESS_LOG	0
#endif
#ifndef HTTPD_STATS
#define HTTPD_STATS		1
#endif

/* --port: the TCP port served. */
#define HTTPD_PORT		80
/* --https-port: the TLS port served, in images built with TLS (tls=1);
 * --no-http turns the plain port off.  --https-redirect-port: the HTTPS
 * port --redirect-https names in its Location, which is the one clients
 * reach (behind port forwarding it differs from --https-port). */
#define HTTPD_HTTPS_PORT	443
/* --max-conns: connections served at once.  By default, what lwIP can
 * hold (limpet_tcp_capacity(), sized at boot from the memory: about
 * 16,000 in -m 64M) less 1/HTTPD_CONN_SPARE of it, which stays for
 * connections httpd has closed that lwIP still holds (closing, TIME_WAIT)
 * and for newcomers in their handshake: so httpd makes room (evicts an
 * idle connection) before lwIP has to refuse one.  At the limit a
 * newcomer takes the place of a connection that serves nobody, else it is
 * told 503 with Connection: close.  An idle kept-alive connection costs
 * its struct conn; one with a request being read also a struct conn_req
 * (the parser, ~1.3 KiB, and the request's bytes); over TLS ~21 KiB more
 * of record buffers (net/tls/limpet_mbedtls_config.h). */
#define HTTPD_CONN_SPARE	8
/* --header-timeout MS: from a request's first byte to its end: past it,
 * 408 and close (slowloris).  Also a new connection's wait for its first
 * request, which over TLS includes the handshake. */
#define HTTPD_HEADER_TIMEOUT_MS	10000
/* --idle-timeout MS: a kept-alive connection waiting for its next request. */
#define HTTPD_IDLE_TIMEOUT_MS	15000
/* A response making no progress (nothing acknowledged) for this long: the
 * client does not read; reset the connection. */
#define HTTPD_SEND_TIMEOUT_MS	20000
/* After our FIN, how long we keep reading (and discarding) what the client
 * still sends before closing for good (see conn_close()). */
#define HTTPD_LINGER_MS		2000
/* After the power button (limpet_on_shutdown()): how long responses in
 * flight get to finish before the VM stops anyway (--shutdown-timeout). */
#define HTTPD_SHUTDOWN_MS	10000
/* How often the timeouts are checked. */
#define HTTPD_TICK_MS		250
/* TCP segments (lwIP's MEMP_TCP_SEG pool) that responses leave free: lwIP
 * needs one for every SYN-ACK and FIN it sends, and with the pool drained
 * by bodies, new connections were never answered (their SYNs dropped) for
 * as long as the others kept asking.  A new connection takes one, a close
 * one. */
#define HTTPD_SEG_RESERVE	128

/* The request line, CR included: longer is 414. */
#define HTTPD_MAX_LINE		2048
/* The header section (request line and fields), and so the most a
 * connection's input buffer grows to: larger is 431. */
#define HTTPD_HEADER_MAX	8192
/* The input buffer's first size, which a request usually fits (wrk's and
 * curl's take under 100 bytes, a browser's under 1 KiB). */
#define HTTPD_IN_START		1024
/* Field lines in a request: more is 431. */
#define HTTPD_MAX_FIELDS	100
/* A response's header section, and the small bodies the server makes
 * itself (errors, redirects, /_limpet/stats), copied into lwIP: one
 * buffer for all connections (httpd_out). */
#define HTTPD_OUT_MAX		8192

/* The statistics pages (--no-stats turns both off): JSON, and the same
 * counters in Prometheus's text format. */
#define HTTPD_STATS_PATH	"/_limpet/stats"
#define HTTPD_METRICS_PATH	"/_limpet/metrics"

#endif /* HTTPD_PARAM_H */
