/*
 * httpd: a static HTTP/1.1 web server (RFC 9110, 9112) on lwIP's raw API.
 * The site is packed into the image at build time (content.h); bodies go
 * from the image's read-only data to the NIC without a copy.
 *
 *	./limpet run httpd [-- OPTIONS]
 *
 * --port N		the TCP port (default 80)
 * --max-conns N	connections served at once; more get 503 (default 64)
 * --header-timeout MS	time to send a whole request (default 10000)
 * --idle-timeout MS	a kept-alive connection's wait for the next one
 *			(default 15000)
 * --access-log		a line per request on the console
 * --no-stats		no /_limpet/stats page
 *
 * Files: param.h (limits), http_parse.c (the request parser), conn.c
 * (connections, back-pressure, timeouts), respond.c (answers, stats).
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
	.max_conns = HTTPD_MAX_CONNS,
	.header_timeout_ns = HTTPD_HEADER_TIMEOUT_MS * LIMPET_MS,
	.idle_timeout_ns = HTTPD_IDLE_TIMEOUT_MS * LIMPET_MS,
	.send_timeout_ns = HTTPD_SEND_TIMEOUT_MS * LIMPET_MS,
	.access_log = false,
	.stats = true,
};
struct httpd_counters httpd_stats;

static const char usage[] =
    "usage: httpd [--port N] [--max-conns N] [--header-timeout MS] "
    "[--idle-timeout MS] [--access-log] [--no-stats]\n";

static int
number_arg(const char *opt, const char *v, unsigned long max, unsigned long *out)
{
	char *end;

	if (v == NULL) {
		fprintf(stderr, "httpd: %s needs a value\n%s", opt, usage);
		return -1;
	}
	errno = 0;
	*out = strtoul(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || *out > max || *out == 0) {
		fprintf(stderr, "httpd: %s %s: expected a number 1..%lu\n", opt, v, max);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long n;

		if (strcmp(a, "--access-log") == 0) {
			httpd_cfg.access_log = true;
			continue;
		}
		if (strcmp(a, "--no-stats") == 0) {
			httpd_cfg.stats = false;
			continue;
		}
		if (strcmp(a, "--port") == 0) {
			if (number_arg(a, v, 65535, &n) != 0)
				return -1;
			httpd_cfg.port = (unsigned)n;
		} else if (strcmp(a, "--max-conns") == 0) {
			if (number_arg(a, v, 100000, &n) != 0)
				return -1;
			httpd_cfg.max_conns = (unsigned)n;
		} else if (strcmp(a, "--header-timeout") == 0) {
			if (number_arg(a, v, 3600000, &n) != 0)
				return -1;
			httpd_cfg.header_timeout_ns = n * LIMPET_MS;
		} else if (strcmp(a, "--idle-timeout") == 0) {
			if (number_arg(a, v, 3600000, &n) != 0)
				return -1;
			httpd_cfg.idle_timeout_ns = n * LIMPET_MS;
		} else {
			fprintf(stderr, "httpd: unknown argument '%s'\n%s", a, usage);
			return -1;
		}
		i++;
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
	/* The listening socket and the timeout tick. */
	if (httpd_listen() != 0) {
		fprintf(stderr, "httpd: cannot listen on TCP port %u\n", httpd_cfg.port);
		return 1;
	}
	httpd_site_summary(&files, &bytes);
	printf("httpd: listening on port %u, serving %u files (%" PRIu64 " bytes)\n",
	    httpd_cfg.port, files, bytes);
	fflush(stdout);

	/* Serve until stopped. */
	status = limpet_run();

	limpet_net_stats(&st);
	printf("httpd: %" PRIu64 " requests, %" PRIu64 " bytes sent, %llu bytes copied\n",
	    httpd_stats.requests, httpd_stats.bytes_sent, (unsigned long long)st.bytes_copied);
	return status;
}
