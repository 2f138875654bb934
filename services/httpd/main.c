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
 * Files: param.h (limits), http_parse.c (the request parser), conn.c
 * (connections, back-pressure, timeouts), https.c (the TLS layer's part),
 * respond.c (answers, stats).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int
parse_args(int argc, char **argv)
{
	unsigned cap = limpet_tcp_capacity();

	/* What lwIP holds, less a share for the connections it still holds
	 * after httpd has let them go (param.h). */
	httpd_cfg.max_conns = cap - cap / HTTPD_CONN_SPARE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long n;

		if (strcmp(a, "--access-log") == 0) {
			httpd_cfg.access_log = true;
			continue;
		}
		if (strcmp(a, "--no-access-log") == 0) {
			httpd_cfg.access_log = false;
			continue;
		}
		if (strcmp(a, "--no-stats") == 0 || strcmp(a, "--stats") == 0) {
			httpd_cfg.stats = strcmp(a, "--stats") == 0;
			continue;
		}
		if (strcmp(a, "--no-http") == 0) {
			httpd_cfg.http = false;
			continue;
		}
		if (strcmp(a, "--redirect-https") == 0) {
			httpd_cfg.redirect_https = true;
			continue;
		}
		if (strcmp(a, "--https-gzip") == 0) {
			httpd_cfg.https_gzip = true;
			continue;
		}
		if (strcmp(a, "--port") == 0) {
			if (limpet_arg_number(a, v, 65535, &n) != 0)
				return -1;
			httpd_cfg.port = (unsigned)n;
		} else if (strcmp(a, "--https-port") == 0) {
			if (limpet_arg_number(a, v, 65535, &n) != 0)
				return -1;
			httpd_cfg.https_port = (unsigned)n;
		} else if (strcmp(a, "--https-redirect-port") == 0) {
			if (limpet_arg_number(a, v, 65535, &n) != 0)
				return -1;
			httpd_cfg.https_redirect_port = (unsigned)n;
		} else if (strcmp(a, "--max-conns") == 0) {
			unsigned cap = limpet_tcp_capacity();

			if (limpet_arg_number(a, v, 1000000, &n) != 0)
				return -1;
			if (cap > 0 && n > cap) {
				fprintf(stderr, "httpd: --max-conns %lu: give 1 to %u, the TCP "
				    "connections this machine's memory holds (more memory, more "
				    "connections: about 16,000 in -m 64M)\n", n, cap);
				return -1;
			}
			httpd_cfg.max_conns = (unsigned)n;
		} else if (strcmp(a, "--header-timeout") == 0) {
			if (limpet_arg_number(a, v, 3600000, &n) != 0)
				return -1;
			httpd_cfg.header_timeout_ns = n * LIMPET_MS;
		} else if (strcmp(a, "--shutdown-timeout") == 0) {
			if (limpet_arg_number(a, v, 3600000, &n) != 0)
				return -1;
			httpd_cfg.shutdown_timeout_ns = n * LIMPET_MS;
		} else if (strcmp(a, "--hsts") == 0) {
			/* RFC 6797 6.1.1: delta-seconds; 0 tells clients to forget. */
			if (limpet_arg_number(a, v, 0x7fffffffUL, &n) != 0)
				return -1;
			httpd_cfg.hsts_max_age = (uint32_t)n;
			httpd_cfg.hsts = true;
		} else if (strcmp(a, "--idle-timeout") == 0) {
			if (limpet_arg_number(a, v, 3600000, &n) != 0)
				return -1;
			httpd_cfg.idle_timeout_ns = n * LIMPET_MS;
		} else {
			fprintf(stderr, "httpd: unknown argument '%s'\n%s", a, usage);
			return -1;
		}
		i++;
	}
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
	struct netdev_stats st;
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
