/*
 * httpd's answers (RFC 9110): the file for a path, conditional requests
 * (13.1, 13.2.2: If-None-Match first, If-Modified-Since only without
 * it), ranges (14), the gzip variant (12.5.3), redirects for folders,
 * errors, the redirect of plain HTTP to HTTPS, the statistics page, and
 * the access log.
 *
 * The header section (and any body the server composes) goes into
 * c->out, copied into lwIP; a file's body is pointed at in the image's
 * rodata and never copied.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <limpet.h>
#include <limpet/net.h>
#include <limpet/tls.h>
#include <lwip/memp.h>
#include <lwip/priv/memp_priv.h>
#include <lwip/stats.h>

#include "content.h"
#include "httpd.h"

const int httpd_statuses[HTTPD_NSTATUS] = {
	200, 206, 301, 304, 400, 404, 405, 408, 414, 416, 431, 500, 501, 503, 505, 0,
};

/* ---- the site ------------------------------------------------------------ */

/* The tables are sorted by strcmp() of path (content.h). */
static int
file_cmp(const void *path, const void *file)
{
	return strcmp(path, ((const struct httpd_file *)file)->path);
}

static int
dir_cmp(const void *path, const void *dir)
{
	return strcmp(path, *(const char *const *)dir);
}

static const struct httpd_file *
find_file(const char *path)
{
	return bsearch(path, httpd_files, httpd_nfiles, sizeof(httpd_files[0]), file_cmp);
}

static bool
is_dir(const char *path)
{
	return bsearch(path, httpd_dirs, httpd_ndirs, sizeof(httpd_dirs[0]), dir_cmp) != NULL;
}

void
httpd_site_summary(unsigned *files, uint64_t *bytes)
{
	*files = httpd_nfiles;
	*bytes = 0;
	for (unsigned i = 0; i < httpd_nfiles; i++)
		*bytes += httpd_files[i].size;
}

/* ---- building the answer --------------------------------------------------- */

/* Append to c->out; the buffer is sized so that this cannot overflow for
 * the headers we write, and a truncation is caught by the caller. */
static void
out(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->outlen >= HTTPD_OUT_MAX)
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->out + c->outlen, HTTPD_OUT_MAX - c->outlen, fmt, ap);
	va_end(ap);
	c->outlen += n < 0 ? 0 : (uint32_t)n;
	if (c->outlen > HTTPD_OUT_MAX)
		c->outlen = HTTPD_OUT_MAX;
}

/* The Date field's value, formatted once a second. */
static const char *
now_date(void)
{
	static char buf[30];
	static time_t last = -1;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != last) {
		last = ts.tv_sec;
		http_date_format(ts.tv_sec, buf);
	}
	return buf;
}

static void
count(int status)
{
	httpd_stats.requests++;
	for (int i = 0; i < HTTPD_NSTATUS && httpd_statuses[i] != 0; i++) {
		if (httpd_statuses[i] == status) {
			httpd_stats.by_status[i]++;
			return;
		}
	}
	httpd_stats.other_status++;
}

static void
access_log(const struct conn *c, const struct http_request *req, int status, uint64_t len)
{
	char ip[IPADDR_STRLEN_MAX];

	if (!httpd_cfg.access_log)
		return;
	limpet_net_addr_text(&c->peer, ip, sizeof(ip));
	if (req != NULL && req->line.len > 0)
		printf("[%s] %s \"%.*s\" %d %" PRIu64 "\n", now_date(), ip,
		    (int)(req->line.len > 200 ? 200 : req->line.len),
		    c->req->in + req->line.off, status, len);
	else
		printf("[%s] %s \"-\" %d %" PRIu64 "\n", now_date(), ip, status, len);
}

/* Start a response: status line, Date, Server, Connection, and the
 * headers every response has: X-Content-Type-Options (browsers take the
 * Content-Type as it is, never guess a script in a picture), and over
 * HTTPS Strict-Transport-Security when --hsts asks for it (RFC 6797 7.2:
 * never over plain HTTP). */
static void
head(struct conn *c, int status, bool keep_alive, int minor)
{
	/* A response starts once the last one is all with lwIP (and its
	 * copy freed), and goes to lwIP before another connection runs. */
	c->out = httpd_out;
	c->outlen = c->outsent = 0;
	c->body = NULL;
	c->bodylen = c->bodysent = 0;
	c->close_after = !keep_alive;
	out(c, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: limpet\r\n",
	    status, http_reason(status), now_date());
	if (!keep_alive)
		out(c, "Connection: close\r\n");
	else if (minor == 0)
		out(c, "Connection: keep-alive\r\n");
	out(c, "X-Content-Type-Options: nosniff\r\n");
	if (c->tls && httpd_cfg.hsts)
		out(c, "Strict-Transport-Security: max-age=%" PRIu32 "\r\n", httpd_cfg.hsts_max_age);
}

/* A response the server writes itself: body in c->out after the header. */
static void
small(struct conn *c, const struct http_request *req, int status, bool keep_alive,
    bool send_body, const char *type, const char *extra, const char *body, size_t len)
{
	head(c, status, keep_alive, req != NULL ? req->minor : 1);
	if (extra != NULL)
		out(c, "%s", extra);
	out(c, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n", type, len);
	if (send_body && c->outlen + len <= HTTPD_OUT_MAX) {
		memcpy(c->out + c->outlen, body, len);
		c->outlen += len;
	}
	count(status);
	access_log(c, req, status, send_body ? len : 0);
}

void
httpd_respond_error(struct conn *c, int status, const struct http_request *req)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "<!doctype html><title>%d %s</title><h1>%d %s</h1>\n",
	    status, http_reason(status), status, http_reason(status));
	/* 400, 408, 414, 431 and 505 close: the framing is lost, or the
	 * client is too slow or speaks something else.  (The parser's own
	 * errors never keep the connection; 404, 405 and 501 for an unknown
	 * method may.) */
	bool keep = req != NULL && req->keep_alive && status != 400 && status != 408 &&
	    status != 414 && status != 431 && status != 505;
	const char *extra = NULL;

	if (status == 405)
		extra = "Allow: GET, HEAD\r\n";
	small(c, req, status, keep, req == NULL || req->method != HTTP_M_HEAD,
	    "text/html; charset=utf-8", extra, body, (size_t)n);
}

/* GET /_limpet/stats: the counters as JSON. */
static void
stats_page(struct conn *c, const struct http_request *req)
{
	static char body[HTTPD_OUT_MAX - 512];
	struct limpet_net_config nc;
	struct limpet_net_stats ns;
	struct limpet_info info;
	uint32_t rx_total, rx_free, rx_held, backlog, backlog_max, states[LIMPET_TCP_NSTATES];
	uint64_t syns_fast, moves, walks;
	size_t n = 0;

#define J(...) do { \
		int k_ = snprintf(body + n, sizeof(body) - n, __VA_ARGS__); \
		n += k_ < 0 ? 0 : (size_t)k_; \
		if (n >= sizeof(body)) n = sizeof(body) - 1; \
	} while (0)
	J("{\"requests\":%" PRIu64 ",\"status\":{", httpd_stats.requests);
	for (int i = 0; httpd_statuses[i] != 0; i++)
		J("%s\"%d\":%" PRIu64, i ? "," : "", httpd_statuses[i], httpd_stats.by_status[i]);
	J(",\"other\":%" PRIu64 "},", httpd_stats.other_status);
	J("\"bytes_sent\":%" PRIu64 ",\"open\":%u,\"accepted\":%" PRIu64 ",\"refused\":%" PRIu64
	    ",\"evicted\":%" PRIu64 ",\"closed\":%" PRIu64 ",\"resets\":%" PRIu64 ",",
	    httpd_stats.bytes_sent, httpd_stats.open, httpd_stats.accepted, httpd_stats.refused,
	    httpd_stats.evicted, httpd_stats.closed, httpd_stats.resets);
	/* Capacity: lwIP's (sized at boot from the memory) and the limit;
	 * request buffers and response copies held, the heap bytes httpd's
	 * connections hold with them, and waits for memory. */
	J("\"max_conns\":%u,\"tcp_capacity\":%u,\"req_buffers\":%u,\"out_copies\":%u,"
	    "\"conn_memory\":%zu,\"no_memory\":%" PRIu64 ",", httpd_cfg.max_conns,
	    limpet_tcp_capacity(), httpd_stats.reqs, httpd_stats.outs, httpd_stats.memory,
	    httpd_stats.no_memory);
	J("\"timeouts\":{\"header\":%" PRIu64 ",\"idle\":%" PRIu64 ",\"send\":%" PRIu64 "},",
	    httpd_stats.header_timeouts, httpd_stats.idle_timeouts, httpd_stats.send_timeouts);
	J("\"mem_waits\":%" PRIu64 ",", httpd_stats.mem_waits);
	J("\"cut\":{\"by_peer\":%" PRIu64 ",\"by_stack\":%" PRIu64 ",\"by_error\":%" PRIu64 "},",
	    httpd_stats.cut_by_peer, httpd_stats.cut_by_stack, httpd_stats.cut_by_error);
	/* The interface's addresses: IPv4's, and IPv6's with the state of
	 * each (ready once duplicate address detection passed). */
	if (limpet_net_config(&nc) == LIMPET_OK) {
		struct limpet_net_ip6_drops d6;
		static const char *const modes[] = {
			[LIMPET_IP6_OFF] = "off", [LIMPET_IP6_STATIC] = "static",
			[LIMPET_IP6_SLAAC] = "slaac",
		};

		J("\"net\":{\"ip\":\"%s\",\"ip6_mode\":\"%s\",\"ip6\":[", nc.ip_str,
		    modes[nc.ip6_mode]);
		for (unsigned i = 0; i < nc.ip6_count; i++)
			J("%s{\"address\":\"%s\",\"prefix\":%u,\"ready\":%s}", i ? "," : "",
			    nc.ip6[i].str, nc.ip6[i].prefix, nc.ip6[i].ready ? "true" : "false");
		limpet_net_ip6_drops(&d6);
		J("],\"gateway6\":\"%s\",\"ip6_drops\":{\"fragments\":%" PRIu64
		    ",\"overlaps\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"na_ours\":%" PRIu64
		    ",\"ptb_mtu\":%" PRIu64 ",\"nd_options\":%" PRIu64 "}},", nc.gateway6_str,
		    d6.fragments, d6.overlaps, d6.duplicates, d6.na_ours, d6.ptb_mtu, d6.nd_options);
	}
	/* TLS: bodies are encrypted by mbedTLS into its record buffer, which
	 * TLS cannot avoid; they are not counted in driver.bytes_copied. */
	if (httpd_cfg.https) {
		const struct limpet_tls_rng_stats *rng = httpd_tls_rng_stats();
		const struct limpet_tls_conn_stats *tc = httpd_tls_conn_stats();

		J("\"tls\":{\"accepted\":%" PRIu64 ",\"handshakes\":%" PRIu64
		    ",\"handshake_failures\":%" PRIu64 ",\"handshake_timeouts\":%" PRIu64
		    ",\"bytes_encrypted\":%" PRIu64 ",\"bodies\":\"encrypted, not copied\",",
		    httpd_stats.tls_accepted, httpd_stats.tls_handshakes,
		    httpd_stats.tls_handshake_failures, httpd_stats.tls_handshake_timeouts,
		    httpd_stats.tls_bytes_encrypted);
		if (tc != NULL) {
			size_t bytes, peak;

			httpd_tls_memory(&bytes, &peak);
			J("\"versions\":{\"tls1_3\":%lu,\"tls1_2\":%lu},"
			    "\"memory\":{\"bytes\":%zu,\"peak\":%zu,\"connections\":%lu},",
			    tc->handshakes_tls13, tc->handshakes_tls12, bytes, peak, tc->open);
		}
		if (rng != NULL)
			J("\"rng\":{\"draws\":%llu,\"reseeds\":%lu,\"failed\":%s,"
			    "\"vmgenid\":%s,\"vmgenid_changes\":%lu},"
			    "\"entropy\":{\"samples\":%llu,\"failures\":%lu,\"healthy\":%s}},",
			    rng->draws, rng->reseeds, rng->failed ? "true" : "false",
			    rng->genid ? "true" : "false", rng->genid_changes,
			    rng->entropy_samples, rng->entropy_failures,
			    rng->entropy_healthy ? "true" : "false");
		else
			J("\"rng\":null},");
	} else
		J("\"tls\":null,");
	/* newlib's heap, where mbedTLS's buffers live: what sbrk gave malloc
	 * (it never shrinks, so a leak shows as growth). */
	limpet_info(&info);
	J("\"heap_used\":%" PRIu64 ",", info.heap_used);
	J("\"lwip\":{\"heap\":{\"used\":%u,\"max\":%u,\"avail\":%u,\"err\":%u},\"memp\":{",
	    (unsigned)lwip_stats.mem.used, (unsigned)lwip_stats.mem.max,
	    (unsigned)lwip_stats.mem.avail, (unsigned)lwip_stats.mem.err);
	for (int i = 0; i < MEMP_MAX; i++) {
		const struct stats_mem *m = lwip_stats.memp[i];

		J("%s\"%s\":{\"used\":%u,\"max\":%u,\"avail\":%u,\"err\":%u,\"size\":%u}",
		    i ? "," : "", m->name, (unsigned)m->used, (unsigned)m->max,
		    (unsigned)m->avail, (unsigned)m->err, (unsigned)memp_pools[i]->size);
	}
	J("}},");
	/* The netif's receive buffers: free, posted to the device, or
	 * holding frames that lwIP or a connection still has ("held": after
	 * a load they must all come back). */
	if (limpet_net_rx_buffers(&rx_total, &rx_free) == LIMPET_OK &&
	    limpet_net_rx_held(&rx_held) == LIMPET_OK &&
	    limpet_net_rx_backlog(&backlog, &backlog_max) == LIMPET_OK)
		J("\"rx_buffers\":{\"total\":%" PRIu32 ",\"free\":%" PRIu32 ",\"posted\":%" PRIu32
		    ",\"held\":%" PRIu32 ",\"backlog\":%" PRIu32 ",\"backlog_max\":%" PRIu32 "},",
		    rx_total, rx_free, rx_total - rx_free - rx_held, rx_held, backlog, backlog_max);
	/* lwIP's connections by state, httpd's own and those it has closed
	 * and lwIP still holds (FIN not yet acknowledged, TIME_WAIT). */
	limpet_net_tcp_lookup(&syns_fast, &moves, &walks);
	J("\"tcp_lookup\":{\"syns_fast\":%" PRIu64 ",\"moves\":%" PRIu64 ",\"walks\":%" PRIu64 "},",
	    syns_fast, moves, walks);
	limpet_net_tcp_states(states);
	J("\"tcp_states\":{");
	for (int i = 0, k = 0; i < LIMPET_TCP_NSTATES; i++)
		if (states[i] != 0)
			J("%s\"%s\":%" PRIu32, k++ ? "," : "", tcp_debug_state_str(i), states[i]);
	J("},");
	if (limpet_net_stats(&ns) == LIMPET_OK)
		J("\"driver\":{\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
		    ",\"rx_drops\":%" PRIu64 ",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
		    ",\"tx_drops\":%" PRIu64 ",\"tx_ring_full\":%" PRIu64
		    ",\"rx_no_buffers\":%" PRIu64 ",\"interrupts\":%" PRIu64
		    ",\"bytes_copied\":%" PRIu64 ",\"tx_invalid\":%" PRIu64
		    ",\"device_resets\":%" PRIu64 ",\"link_changes\":%" PRIu64
		    ",\"tx_stalls\":%" PRIu64 "}}\n",
		    ns.rx_packets, ns.rx_bytes, ns.rx_drops, ns.tx_packets, ns.tx_bytes,
		    ns.tx_drops, ns.tx_ring_full, ns.rx_no_buffers, ns.interrupts, ns.bytes_copied,
		    ns.tx_invalid, ns.device_resets, ns.link_changes, ns.tx_stalls);
	else
		J("\"driver\":null}\n");
#undef J
	small(c, req, 200, req->keep_alive, req->method == HTTP_M_GET,
	    "application/json", "Cache-Control: no-store\r\n", body, n);
}

/*
 * GET /_limpet/metrics: the counters in Prometheus's text exposition
 * format (version 0.0.4), what Prometheus, VictoriaMetrics and Grafana
 * Agent scrape; tests/test_metrics.py checks it with promtool.  Counters
 * end in _total, sizes are in bytes, times in seconds (Prometheus's
 * conventions).  The JSON page has more (lwIP's pools one by one).
 */
static void
metrics_page(struct conn *c, const struct http_request *req)
{
	static char body[HTTPD_OUT_MAX - 512];
	struct limpet_net_stats ns;
	struct limpet_info info;
	uint32_t rx_total, rx_free, rx_held, backlog, backlog_max;
	size_t n = 0;

#define M(...) do { \
		int k_ = snprintf(body + n, sizeof(body) - n, __VA_ARGS__); \
		n += k_ < 0 ? 0 : (size_t)k_; \
		if (n >= sizeof(body)) n = sizeof(body) - 1; \
	} while (0)
#define FAMILY(name, type, help) \
	M("# HELP " name " " help "\n# TYPE " name " " type "\n")

	limpet_info(&info);
	FAMILY("limpet_uptime_seconds", "gauge", "Time since the machine booted.");
	M("limpet_uptime_seconds %.3f\n", (double)limpet_now_ns() / 1e9);
	FAMILY("limpet_memory_bytes", "gauge", "The machine's usable memory, and what is free.");
	M("limpet_memory_bytes{kind=\"total\"} %" PRIu64 "\n", info.mem_total);
	M("limpet_memory_bytes{kind=\"free\"} %" PRIu64 "\n", info.mem_free);
	FAMILY("limpet_heap_used_bytes", "gauge", "Bytes malloc's heap took from the machine.");
	M("limpet_heap_used_bytes %" PRIu64 "\n", info.heap_used);

	FAMILY("limpet_http_requests_total", "counter", "Requests answered, by status.");
	for (int i = 0; httpd_statuses[i] != 0; i++)
		M("limpet_http_requests_total{status=\"%d\"} %" PRIu64 "\n", httpd_statuses[i],
		    httpd_stats.by_status[i]);
	M("limpet_http_requests_total{status=\"other\"} %" PRIu64 "\n", httpd_stats.other_status);
	FAMILY("limpet_http_sent_bytes_total", "counter", "Response bytes clients acknowledged.");
	M("limpet_http_sent_bytes_total %" PRIu64 "\n", httpd_stats.bytes_sent);
	FAMILY("limpet_http_connections", "gauge", "Connections open now, and the most allowed.");
	M("limpet_http_connections{kind=\"open\"} %u\n", httpd_stats.open);
	M("limpet_http_connections{kind=\"max\"} %u\n", httpd_cfg.max_conns);
	FAMILY("limpet_http_connections_total", "counter",
	    "Connections accepted, refused (at the limit) and evicted (idle, for new ones).");
	M("limpet_http_connections_total{event=\"accepted\"} %" PRIu64 "\n", httpd_stats.accepted);
	M("limpet_http_connections_total{event=\"refused\"} %" PRIu64 "\n", httpd_stats.refused);
	M("limpet_http_connections_total{event=\"evicted\"} %" PRIu64 "\n", httpd_stats.evicted);
	FAMILY("limpet_http_timeouts_total", "counter", "Connections closed by a timeout, by kind.");
	M("limpet_http_timeouts_total{kind=\"header\"} %" PRIu64 "\n", httpd_stats.header_timeouts);
	M("limpet_http_timeouts_total{kind=\"idle\"} %" PRIu64 "\n", httpd_stats.idle_timeouts);
	M("limpet_http_timeouts_total{kind=\"send\"} %" PRIu64 "\n", httpd_stats.send_timeouts);

	if (httpd_cfg.https) {
		const struct limpet_tls_conn_stats *tc = httpd_tls_conn_stats();
		size_t bytes = 0, peak = 0;

		httpd_tls_memory(&bytes, &peak);
		FAMILY("limpet_tls_handshakes_total", "counter", "TLS handshakes completed, by version.");
		M("limpet_tls_handshakes_total{version=\"1.3\"} %lu\n", tc ? tc->handshakes_tls13 : 0UL);
		M("limpet_tls_handshakes_total{version=\"1.2\"} %lu\n", tc ? tc->handshakes_tls12 : 0UL);
		FAMILY("limpet_tls_handshake_failures_total", "counter",
		    "TLS handshakes that failed (alerts, bad records, clients that left).");
		M("limpet_tls_handshake_failures_total %lu\n", tc ? tc->handshake_failures : 0UL);
		FAMILY("limpet_tls_memory_bytes", "gauge", "Heap TLS holds now (connections and shared).");
		M("limpet_tls_memory_bytes %zu\n", bytes);
	}

	FAMILY("limpet_lwip_heap_used_bytes", "gauge", "Bytes of lwIP's heap in use.");
	M("limpet_lwip_heap_used_bytes %u\n", (unsigned)lwip_stats.mem.used);
	FAMILY("limpet_lwip_pool_used", "gauge", "Entries of lwIP's pools in use, by pool.");
	for (int i = 0; i < MEMP_MAX; i++)
		M("limpet_lwip_pool_used{pool=\"%s\"} %u\n", lwip_stats.memp[i]->name,
		    (unsigned)lwip_stats.memp[i]->used);
	FAMILY("limpet_lwip_pool_failures_total", "counter",
	    "Allocations lwIP's pools refused, all pools.");
	{
		uint64_t err = 0;

		for (int i = 0; i < MEMP_MAX; i++)
			err += lwip_stats.memp[i]->err;
		M("limpet_lwip_pool_failures_total %" PRIu64 "\n", err);
	}
	if (limpet_net_rx_buffers(&rx_total, &rx_free) == LIMPET_OK &&
	    limpet_net_rx_held(&rx_held) == LIMPET_OK &&
	    limpet_net_rx_backlog(&backlog, &backlog_max) == LIMPET_OK) {
		FAMILY("limpet_net_rx_buffers", "gauge",
		    "Receive buffers: free, posted to the device, held by the stack.");
		M("limpet_net_rx_buffers{state=\"free\"} %" PRIu32 "\n", rx_free);
		M("limpet_net_rx_buffers{state=\"posted\"} %" PRIu32 "\n",
		    rx_total - rx_free - rx_held);
		M("limpet_net_rx_buffers{state=\"held\"} %" PRIu32 "\n", rx_held);
	}
	if (limpet_net_stats(&ns) == LIMPET_OK) {
		FAMILY("limpet_net_packets_total", "counter", "Frames the NIC received and sent.");
		M("limpet_net_packets_total{direction=\"rx\"} %" PRIu64 "\n", ns.rx_packets);
		M("limpet_net_packets_total{direction=\"tx\"} %" PRIu64 "\n", ns.tx_packets);
		FAMILY("limpet_net_bytes_total", "counter", "Bytes the NIC received and sent.");
		M("limpet_net_bytes_total{direction=\"rx\"} %" PRIu64 "\n", ns.rx_bytes);
		M("limpet_net_bytes_total{direction=\"tx\"} %" PRIu64 "\n", ns.tx_bytes);
		FAMILY("limpet_net_drops_total", "counter", "Frames dropped, by direction.");
		M("limpet_net_drops_total{direction=\"rx\"} %" PRIu64 "\n", ns.rx_drops);
		M("limpet_net_drops_total{direction=\"tx\"} %" PRIu64 "\n", ns.tx_drops);
		FAMILY("limpet_net_interrupts_total", "counter", "The NIC's interrupts.");
		M("limpet_net_interrupts_total %" PRIu64 "\n", ns.interrupts);
		FAMILY("limpet_net_copied_bytes_total", "counter",
		    "Payload bytes the data path copied (zero copy: 0).");
		M("limpet_net_copied_bytes_total %" PRIu64 "\n", ns.bytes_copied);
		FAMILY("limpet_net_device_resets_total", "counter", "Times the driver reset the NIC.");
		M("limpet_net_device_resets_total %" PRIu64 "\n", ns.device_resets);
		FAMILY("limpet_net_link_changes_total", "counter", "Link state changes seen.");
		M("limpet_net_link_changes_total %" PRIu64 "\n", ns.link_changes);
		FAMILY("limpet_net_tx_stalls_total", "counter", "Transmit stalls the driver detected.");
		M("limpet_net_tx_stalls_total %" PRIu64 "\n", ns.tx_stalls);
	}
#undef FAMILY
#undef M
	small(c, req, 200, req->keep_alive, req->method == HTTP_M_GET,
	    "text/plain; version=0.0.4; charset=utf-8", "Cache-Control: no-store\r\n", body, n);
}

/*
 * Plain HTTP with --redirect-https: 301 to the same target over HTTPS
 * (RFC 9110 15.4.2), at the host the client named (Host, its port
 * dropped; the address it reached otherwise) and --https-redirect-port,
 * the HTTPS port as clients see it, which the server cannot know behind
 * port forwarding.
 */
static void
redirect_https(struct conn *c, const struct http_request *req)
{
	static const char body[] = "<!doctype html><title>301 Moved Permanently</title>"
	    "<h1>301 Moved Permanently</h1>\n";
	char loc[HTTPD_MAX_LINE + 320], host[260], port[8] = "";
	const char *h = c->req->in + req->host.off, *t, *sp;
	size_t hn = req->host.len, tn;

	/* Drop the port: after the last ':' unless it ends an IP literal. */
	for (size_t i = hn; i > 0; i--) {
		if (h[i - 1] == ']')
			break;
		if (h[i - 1] == ':') {
			hn = i - 1;
			break;
		}
	}
	if (hn == 0 || hn >= sizeof(host)) {
		/* No Host (HTTP/1.0): the address the client reached, an IPv6
		 * one as an IP literal in brackets (RFC 3986 3.2.2). */
		const ip_addr_t *local = altcp_get_ip(c->pcb, 1);
		size_t k = 0;

		if (IP_IS_V6(local))
			host[k++] = '[';
		limpet_net_addr_text(local, host + k, sizeof(host) - k - 1);
		if (IP_IS_V6(local))
			strcat(host, "]");
	} else
		snprintf(host, sizeof(host), "%.*s", (int)hn, h);
	if (httpd_cfg.https_redirect_port != 443)
		snprintf(port, sizeof(port), ":%u", httpd_cfg.https_redirect_port);
	/* The target as sent (origin form), else the decoded path. */
	t = c->req->in + req->line.off;
	sp = memchr(t, ' ', req->line.len);
	t = sp != NULL ? sp + 1 : t;
	sp = memchr(t, ' ', req->line.len - (size_t)(t - (c->req->in + req->line.off)));
	tn = sp != NULL ? (size_t)(sp - t) : 0;
	if (tn == 0 || t[0] != '/') {
		t = req->path;
		tn = req->path_len;
	}
	snprintf(loc, sizeof(loc), "Location: https://%s%s%.*s\r\n", host, port, (int)tn, t);
	small(c, req, 301, req->keep_alive, req->method != HTTP_M_HEAD,
	    "text/html; charset=utf-8", loc, body, sizeof(body) - 1);
}

/* If-Range (RFC 9110 13.1.5): does it still name this representation? */
static bool
if_range_holds(const struct conn *c, const struct http_request *req,
    const struct httpd_file *f, const char *etag)
{
	const char *v = c->req->in + req->if_range.off;
	int64_t t;

	if (!req->has_if_range)
		return true;
	if (req->if_range.len > 0 && (v[0] == '"' || v[0] == 'W'))
		return http_etag_equal_strong(v, req->if_range.len, etag);
	return http_date_parse(v, req->if_range.len, &t) == 0 && t == f->mtime;
}

void
httpd_respond(struct conn *c, const struct http_request *req)
{
	char path[HTTP_PATH_MAX + 16];
	const struct httpd_file *f;
	bool head_only = req->method == HTTP_M_HEAD;

	if (req->status != 0) {
		httpd_respond_error(c, req->status, req);
		return;
	}
	if (!c->tls && httpd_cfg.redirect_https) {
		redirect_https(c, req);
		return;
	}
	if (httpd_cfg.stats && strcmp(req->path, HTTPD_STATS_PATH) == 0) {
		stats_page(c, req);
		return;
	}
	if (httpd_cfg.stats && strcmp(req->path, HTTPD_METRICS_PATH) == 0) {
		metrics_page(c, req);
		return;
	}
	snprintf(path, sizeof(path), "%s%s", req->path,
	    req->path[req->path_len - 1] == '/' ? "index.html" : "");
	if ((f = find_file(path)) == NULL) {
		if (req->path[req->path_len - 1] != '/' && is_dir(req->path)) {
			/* A folder without its slash: send the client to it, query
			 * kept (RFC 9110 15.4.2), so relative links resolve. */
			char loc[HTTP_PATH_MAX + HTTPD_MAX_LINE + 32];
			static const char body[] = "<!doctype html><title>301 Moved Permanently</title>"
			    "<h1>301 Moved Permanently</h1>\n";

			if (req->has_query)
				snprintf(loc, sizeof(loc), "Location: %s/?%.*s\r\n", req->path,
				    (int)req->query.len, c->req->in + req->query.off);
			else
				snprintf(loc, sizeof(loc), "Location: %s/\r\n", req->path);
			small(c, req, 301, req->keep_alive, !head_only,
			    "text/html; charset=utf-8", loc, body, sizeof(body) - 1);
			return;
		}
		httpd_respond_error(c, 404, req);
		return;
	}

	/*
	 * The gzip variant, when the client takes it.  Over HTTPS only with
	 * --https-gzip: compression before encryption lets an attacker who
	 * can make a client send requests and watch record sizes guess
	 * secrets that the response reflects (BREACH).  httpd's files are
	 * fixed at build time and reflect nothing, so --https-gzip is safe
	 * for them; off by default, what TLS scanners (testssl) expect.
	 */
	bool may_gz = f->gz_data != NULL && (!c->tls || httpd_cfg.https_gzip);
	bool gz = may_gz && req->gzip_ok;
	const uint8_t *data = gz ? f->gz_data : f->data;
	uint64_t size = gz ? f->gz_size : f->size, off = 0, len = size;
	const char *etag = gz && f->gz_etag != NULL ? f->gz_etag : f->etag;
	int status = 200;

	/* Conditionals: If-None-Match wins over If-Modified-Since (13.2.2). */
	if (req->ninm > 0) {
		for (unsigned i = 0; i < req->ninm; i++)
			if (http_etag_match_weak(c->req->in + req->inm[i].off, req->inm[i].len, etag))
				status = 304;
	} else if (req->has_ims && f->mtime <= req->ims) {
		status = 304;
	}
	/* Ranges: GET only (14.2), and only while If-Range holds. */
	if (status == 200 && req->method == HTTP_M_GET && req->range.kind != HTTP_RANGE_NONE &&
	    if_range_holds(c, req, f, etag))
		status = http_range_resolve(&req->range, size, &off, &len);

	head(c, status, req->keep_alive, req->minor);
	out(c, "ETag: %s\r\nLast-Modified: %s\r\n", etag, f->last_modified);
	if (may_gz)
		out(c, "Vary: Accept-Encoding\r\n");
	if (status == 304) {
		out(c, "\r\n");
		len = 0;
	} else if (status == 416) {
		out(c, "Content-Type: text/plain; charset=utf-8\r\nContent-Range: bytes */%" PRIu64
		    "\r\nContent-Length: 0\r\n\r\n", size);
		len = 0;
	} else {
		out(c, "Content-Type: %s\r\nAccept-Ranges: bytes\r\n", f->mime);
		if (gz)
			out(c, "Content-Encoding: gzip\r\n");
		if (status == 206)
			out(c, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n",
			    off, off + len - 1, size);
		out(c, "Content-Length: %" PRIu64 "\r\n\r\n", len);
		if (head_only) {
			len = 0;
		} else {
			c->body = data + off;
			c->bodylen = (uint32_t)len;
		}
	}
	count(status);
	access_log(c, req, status, len);
}
