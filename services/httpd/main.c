/*
 * httpd: a static HTTP/1.1 web server (RFC 9110, 9112) on lwIP's altcp
 * API, with HTTPS in images built with TLS (tls=1).  The site is packed
 * into the image at build time (content.h); over plain HTTP bodies go from
 * the image's read-only data to the NIC without a copy.
 *
 *	./limpet run httpd [-- OPTIONS]
 *
 * --port N		the plain HTTP port (default 80)
 * --https-port N	the HTTPS port, TLS images only (default 443)
 * --no-http		TLS images: HTTPS only
 * --redirect-https	answer plain HTTP with 301 to https://host/...
 * --https-redirect-port N  the HTTPS port clients reach, for that
 *			Location (default 443; ./limpet run --tls gives the
 *			forwarded one)
 * --max-conns N	connections served at once, at most what lwIP holds
 *			(limpet_tcp_capacity()); at the limit a newcomer takes
 *			an idle one's place, else gets 503 (default: that
 *			capacity less 1/HTTPD_CONN_SPARE of it)
 * --header-timeout MS	time to send a whole request (default 10000)
 * --idle-timeout MS	a kept-alive connection's wait for the next one
 *			(default 15000)
 * --access-log		a line per request on the console
 * --no-stats, --stats	no /_limpet/stats page, or one (default: HTTPD_STATS)
 * --no-access-log	no access log (default: HTTPD_ACCESS_LOG)
 * --hsts SECONDS	Strict-Transport-Security: max-age=SECONDS on HTTPS
 *			responses (RFC 6797; default: none)
 * --shutdown-timeout MS	after the power button, how long responses in
 *			flight get to finish (default 10000)
 * --https-gzip		serve files' gzip variants over HTTPS too (default:
 *			over plain HTTP only; see respond.c on BREACH)
 *
 * Files: param.h (limits), http_parse.h (the request parser; its pieces,
 * http_*.c, are listed in http_internal.h), conn.c (connections,
 * back-pressure, timeouts), https.c (the TLS layer's part), respond.c
 * (answers, stats).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <limpet.h>
#include <limpet/net.h>

#include "httpd.h"

struct httpd_config httpd_cfg = {
	.port = HTTPD_PORT,
	.http = true,
#ifdef LIMPET_TLS
	.https = true,
#endif
	.https_port = HTTPD_HTTPS_PORT,
	.https_redirect_port = HTTPD_HTTPS_PORT,
	.header_timeout_ns = HTTPD_HEADER_TIMEOUT_MS * LIMPET_MS,
	.idle_timeout_ns = HTTPD_IDLE_TIMEOUT_MS * LIMPET_MS,
	.send_timeout_ns = HTTPD_SEND_TIMEOUT_MS * LIMPET_MS,
	.shutdown_timeout_ns = HTTPD_SHUTDOWN_MS * LIMPET_MS,
	.access_log = HTTPD_ACCESS_LOG,
	.stats = HTTPD_STATS,
};
struct httpd_counters httpd_stats;

static const char usage[] =
    "usage: httpd [--port N] [--https-port N] [--no-http] [--redirect-https] "
    "[--https-redirect-port N] [--max-conns N] [--header-timeout MS] "
    "[--idle-timeout MS] [--access-log | --no-access-log] [--stats | --no-stats] "
    "[--hsts SECONDS] [--https-gzip] [--shutdown-timeout MS]\n";

enum {
	OPT_PORT = 256, OPT_HTTPS_PORT, OPT_NO_HTTP, OPT_REDIRECT_HTTPS, OPT_HTTPS_REDIRECT_PORT,
	OPT_MAX_CONNS, OPT_HEADER_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_ACCESS_LOG, OPT_NO_ACCESS_LOG,
	OPT_STATS, OPT_NO_STATS, OPT_HSTS, OPT_HTTPS_GZIP, OPT_SHUTDOWN_TIMEOUT,
};

/* No name may begin another (limpet.h says why). */
static const struct option options[] = {
	{ "port",			required_argument,	NULL, OPT_PORT },
	{ "https-port",			required_argument,	NULL, OPT_HTTPS_PORT },
	{ "no-http",			no_argument,		NULL, OPT_NO_HTTP },
	{ "redirect-https",		no_argument,		NULL, OPT_REDIRECT_HTTPS },
	{ "https-redirect-port",	required_argument,	NULL, OPT_HTTPS_REDIRECT_PORT },
	{ "max-conns",			required_argument,	NULL, OPT_MAX_CONNS },
	{ "header-timeout",		required_argument,	NULL, OPT_HEADER_TIMEOUT },
	{ "idle-timeout",		required_argument,	NULL, OPT_IDLE_TIMEOUT },
	{ "access-log",			no_argument,		NULL, OPT_ACCESS_LOG },
	{ "no-access-log",		no_argument,		NULL, OPT_NO_ACCESS_LOG },
	{ "stats",			no_argument,		NULL, OPT_STATS },
	{ "no-stats",			no_argument,		NULL, OPT_NO_STATS },
	{ "hsts",			required_argument,	NULL, OPT_HSTS },
	{ "https-gzip",			no_argument,		NULL, OPT_HTTPS_GZIP },
	{ "shutdown-timeout",		required_argument,	NULL, OPT_SHUTDOWN_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

/* The options, with limpet_getopt(): "--name VALUE", "--name=VALUE", and a
 * name cut short where no other begins so. */
static int
parse_args(int argc, char **argv)
{
	unsigned cap = limpet_tcp_capacity();
	struct limpet_opt opt;
	unsigned long n;
	int c;

	/* What lwIP holds, less a share for the connections it still holds
	 * after httpd has let them go (param.h). */
	httpd_cfg.max_conns = cap - cap / HTTPD_CONN_SPARE;
	while ((c = limpet_getopt(argc, argv, options, usage, &opt)) > 0) {
		switch (c) {
		case OPT_ACCESS_LOG:
		case OPT_NO_ACCESS_LOG:
			httpd_cfg.access_log = c == OPT_ACCESS_LOG;
			break;
		case OPT_STATS:
		case OPT_NO_STATS:
			httpd_cfg.stats = c == OPT_STATS;
			break;
		case OPT_NO_HTTP:
			httpd_cfg.http = false;
			break;
		case OPT_REDIRECT_HTTPS:
			httpd_cfg.redirect_https = true;
			break;
		case OPT_HTTPS_GZIP:
			httpd_cfg.https_gzip = true;
			break;
		case OPT_PORT:
			if (limpet_arg_number(opt.name, opt.value, 65535, &n) != 0)
				return -1;
			httpd_cfg.port = (unsigned)n;
			break;
		case OPT_HTTPS_PORT:
			if (limpet_arg_number(opt.name, opt.value, 65535, &n) != 0)
				return -1;
			httpd_cfg.https_port = (unsigned)n;
			break;
		case OPT_HTTPS_REDIRECT_PORT:
			if (limpet_arg_number(opt.name, opt.value, 65535, &n) != 0)
				return -1;
			httpd_cfg.https_redirect_port = (unsigned)n;
			break;
		case OPT_MAX_CONNS:
			if (limpet_arg_number(opt.name, opt.value, 1000000, &n) != 0)
				return -1;
			if (cap > 0 && n > cap) {
				fprintf(stderr, "httpd: --max-conns %lu: give 1 to %u, the TCP "
				    "connections this machine's memory holds (more memory, more "
				    "connections: about 16,000 in -m 64M)\n", n, cap);
				return -1;
			}
			httpd_cfg.max_conns = (unsigned)n;
			break;
		case OPT_HEADER_TIMEOUT:
			if (limpet_arg_number(opt.name, opt.value, 3600000, &n) != 0)
				return -1;
			httpd_cfg.header_timeout_ns = n * LIMPET_MS;
			break;
		case OPT_SHUTDOWN_TIMEOUT:
			if (limpet_arg_number(opt.name, opt.value, 3600000, &n) != 0)
				return -1;
			httpd_cfg.shutdown_timeout_ns = n * LIMPET_MS;
			break;
		case OPT_HSTS:
			/* RFC 6797 6.1.1: delta-seconds; 0 tells clients to forget. */
			if (limpet_arg_number(opt.name, opt.value, 0x7fffffffUL, &n) != 0)
				return -1;
			httpd_cfg.hsts_max_age = (uint32_t)n;
			httpd_cfg.hsts = true;
			break;
		case OPT_IDLE_TIMEOUT:
			if (limpet_arg_number(opt.name, opt.value, 3600000, &n) != 0)
				return -1;
			httpd_cfg.idle_timeout_ns = n * LIMPET_MS;
			break;
		}
	}
	if (c < 0)
		return -1;
	if ((httpd_cfg.hsts || httpd_cfg.https_gzip) && !httpd_cfg.https) {
		fprintf(stderr, "httpd: %s is for HTTPS, which this image has not "
		    "(build it with tls=1)\n", httpd_cfg.hsts ? "--hsts" : "--https-gzip");
		return -1;
	}
	if (!httpd_cfg.http && !httpd_cfg.https) {
		fprintf(stderr, "httpd: --no-http leaves nothing to serve: this image has no "
		    "TLS (build it with tls=1 for HTTPS)\n");
		return -1;
	}
	if (httpd_cfg.https && httpd_cfg.http && httpd_cfg.port == httpd_cfg.https_port) {
		fprintf(stderr, "httpd: --port and --https-port are both %u\n", httpd_cfg.port);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct limpet_net_config cfg;
	struct limpet_net_stats st;
	unsigned files;
	uint64_t bytes;
	int status;

	/* The options. */
	if (parse_args(argc, argv) != 0)
		return 2;
	/* The network the kernel brought up. */
	if (limpet_net_config(&cfg) != LIMPET_OK) {
		fprintf(stderr, "httpd: no network device; nothing to serve on\n");
		return 1;
	}
	/* The listening sockets (TLS set up first: the image stops if it
	 * cannot be) and the timeout tick. */
	if (httpd_listen() != 0) {
		fprintf(stderr, "httpd: cannot listen on TCP port %u%s\n",
		    httpd_cfg.http ? httpd_cfg.port : httpd_cfg.https_port,
		    httpd_cfg.https && httpd_cfg.http ? " or the HTTPS one" : "");
		return 1;
	}
	limpet_on_shutdown(httpd_shutdown, NULL);	/* the power button */
	httpd_site_summary(&files, &bytes);
	if (httpd_cfg.http)
		printf("httpd: listening on port %u%s, serving %u files (%" PRIu64 " bytes), "
		    "%u connections at once\n", httpd_cfg.port,
		    httpd_cfg.redirect_https ? " (redirecting to HTTPS)" : "", files, bytes,
		    httpd_cfg.max_conns);
	if (httpd_cfg.https)
		printf("httpd: listening on port %u (HTTPS), serving %u files (%" PRIu64 " bytes)\n",
		    httpd_cfg.https_port, files, bytes);
	fflush(stdout);

	/* Serve until stopped. */
	status = limpet_run();

	limpet_net_stats(&st);
	printf("httpd: %" PRIu64 " requests, %" PRIu64 " bytes sent, %llu bytes copied\n",
	    httpd_stats.requests, httpd_stats.bytes_sent, (unsigned long long)st.bytes_copied);
	if (httpd_cfg.https)
		printf("httpd: TLS: %" PRIu64 " handshakes, %" PRIu64 " failed, %" PRIu64
		    " timed out, %" PRIu64 " bytes encrypted (not copied)\n",
		    httpd_stats.tls_handshakes, httpd_stats.tls_handshake_failures,
		    httpd_stats.tls_handshake_timeouts, httpd_stats.tls_bytes_encrypted);
	return status;
}
