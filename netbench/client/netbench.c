/*
 * netbench: the host side of Limpet's network benchmark.
 *
 *	netbench bw tcp|udp [OPTIONS]		bandwidth, timed by the server
 *	netbench latency tcp|udp [OPTIONS]	round trips of N-byte messages
 *
 * The server is the netbench guest (services/netbench) or its Linux
 * sockets twin (netbench/linux/netbench-server.c); the protocol is in
 * services/netbench/netbench_proto.h.  `netbench -h` lists the options.
 *
 * Nothing is printed, and nothing is allocated, inside a timed loop: the
 * round-trip times go to an array sized beforehand and are summarised
 * once the run is over.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "netbench_proto.h"

#define DEFAULT_ADDRESS	"10.0.5.3"

/* bw udp's default datagram: the largest payload a 1500-byte frame
 * carries unfragmented, after a 20-byte IPv4 or a 40-byte IPv6 header and
 * UDP's 8 bytes. */
#define UDP_PAYLOAD_IP4	1472
#define UDP_PAYLOAD_IP6	1452

enum test { BW, LATENCY };
enum proto { TCP, UDP };

struct opts {
	enum test	test;
	enum proto	proto;
	const char	*address;
	struct sockaddr_storage addr;	/* the address, parsed; port set later */
	socklen_t	addrlen;
	unsigned	port;
	uint64_t	size, rounds, warmup;
	int		nodelay, json;
	double		timeout;	/* seconds per blocking call */
};

static const char *prog = "netbench";

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: %s bw tcp|udp [OPTIONS]\n"
	    "       %s latency tcp|udp [OPTIONS]\n"
	    "\n"
	    "bw: the client streams ROUNDS messages of SIZE bytes after WARMUP more;\n"
	    "the server times the measured ones and reports; throughput is given in\n"
	    "megabytes per second (10^6 bytes) and megabits per second (10^6 bits).\n"
	    "latency: ROUNDS round trips of SIZE-byte messages to the echo port after\n"
	    "WARMUP untimed ones; min, p50, p90, p99, p99.9, max and mean in\n"
	    "microseconds.\n"
	    "\n"
	    "Options:\n"
	    "  -a, --address A     the server's IPv4 or IPv6 address (default %s;\n"
	    "                      IPv6 link-local ones with their interface: fe80::1%%eth0)\n"
	    "  -p, --port N        its port (default %d for bw, %d for latency)\n"
	    "  -s, --size N        message size in bytes (default: bw tcp 1048576,\n"
	    "                      bw udp %d over IPv4 and %d over IPv6, which fill a\n"
	    "                      1500-byte frame, latency 64)\n"
	    "  -n, --rounds N      measured messages (default: bw tcp 1000,\n"
	    "                      bw udp 100000, latency 100000)\n"
	    "  -w, --warmup N      untimed messages first (default: bw tcp 10,\n"
	    "                      bw udp 1000, latency 1000)\n"
	    "      --nodelay       TCP_NODELAY on (the default)\n"
	    "      --no-nodelay    TCP_NODELAY off (Nagle's algorithm on)\n"
	    "  -t, --timeout S     seconds any one send or receive may wait (default 30;\n"
	    "                      for UDP latency: the wait before a reply counts as lost)\n"
	    "  -j, --json          one JSON object on stdout instead of text\n"
	    "  -h, --help          this text\n",
	    prog, prog, DEFAULT_ADDRESS, NETBENCH_BW_PORT, NETBENCH_ECHO_PORT,
	    UDP_PAYLOAD_IP4, UDP_PAYLOAD_IP6);
}

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
number(const char *opt, const char *v, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (*v == '\0' || *v == '-' || *end != '\0' || errno != 0 || n < min || n > max) {
		fprintf(stderr, "%s: %s %s: expected a number %" PRIu64 "..%" PRIu64 "\n",
		    prog, opt, v, min, max);
		exit(2);
	}
	return n;
}

/* ---- sockets ----------------------------------------------------------- */

/* Parses o->address into o->addr: an IPv4 address in dotted-quad form
 * only (inet_pton, as before IPv6), or a numeric IPv6 address, with a
 * scope for a link-local one (getaddrinfo; no name is ever looked up).
 * Exits with status 2 on anything else. */
static void
parse_address(struct opts *o)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&o->addr;
	struct addrinfo hints = { .ai_family = AF_INET6, .ai_flags = AI_NUMERICHOST };
	struct addrinfo *ai;

	memset(&o->addr, 0, sizeof(o->addr));
	if (inet_pton(AF_INET, o->address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		o->addrlen = sizeof(*sin);
		return;
	}
	if (strchr(o->address, ':') == NULL ||
	    getaddrinfo(o->address, NULL, &hints, &ai) != 0) {
		fprintf(stderr, "%s: --address %s: not an IPv4 or IPv6 address "
		    "(like 10.0.5.3 or fd00:5::3)\n", prog, o->address);
		exit(2);
	}
	memcpy(&o->addr, ai->ai_addr, ai->ai_addrlen);
	o->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
}

static int
open_socket(const struct opts *o)
{
	struct sockaddr_storage sa = o->addr;
	struct timeval tv = {
		.tv_sec = (time_t)o->timeout,
		.tv_usec = (suseconds_t)((o->timeout - (double)(time_t)o->timeout) * 1e6),
	};
	int fd, one = 1;

	if (sa.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)o->port);
	else
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)o->port);
	fd = socket(sa.ss_family, o->proto == TCP ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		die("setsockopt(SO_RCVTIMEO): %s", strerror(errno));
	if (o->proto == TCP && o->nodelay &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		die("setsockopt(TCP_NODELAY): %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, o->addrlen) != 0)
		die("connect to %s port %u (%s): %s", o->address, o->port,
		    o->proto == TCP ? "tcp" : "udp", strerror(errno));
	return fd;
}

static void
send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("send: %s", n < 0 ? strerror(errno) : "nothing sent");
		p += n;
		len -= (size_t)n;
	}
}

static void
recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("recv: %s", errno == EAGAIN ? "timed out" : strerror(errno));
		if (n == 0)
			die("recv: the server closed the connection early");
		p += n;
		len -= (size_t)n;
	}
}

/* ---- bandwidth ------------------------------------------------------------- */

struct bw_result {
	uint64_t	bytes, ns;		/* the server's count and time */
	uint64_t	client_ns;		/* the client's time, first measured send to result */
	uint64_t	sent, received;		/* UDP: measured datagrams */
};

static void
bw_tcp(const struct opts *o, struct bw_result *res)
{
	uint8_t hello[NB_HELLO_LEN], rb[NB_RESULT_LEN];
	struct nb_bw_hello h = {
		.magic = NB_MAGIC, .warmup = o->warmup * o->size, .bytes = o->rounds * o->size,
	};
	struct nb_result r;
	uint8_t *buf;
	uint64_t t0;
	int fd;

	if ((buf = malloc(o->size)) == NULL)
		die("out of memory for a %" PRIu64 "-byte message", o->size);
	memset(buf, 0x5a, o->size);
	fd = open_socket(o);
	nb_hello_encode(hello, &h);
	send_all(fd, hello, sizeof(hello));
	for (uint64_t i = 0; i < o->warmup; i++)
		send_all(fd, buf, o->size);
	t0 = now_ns();
	for (uint64_t i = 0; i < o->rounds; i++)
		send_all(fd, buf, o->size);
	recv_all(fd, rb, sizeof(rb));
	res->client_ns = now_ns() - t0;
	close(fd);
	free(buf);
	nb_result_decode(rb, &r);
	if (r.magic != NB_MAGIC)
		die("the server's answer is not a netbench result");
	if (r.status != 0)
		die("the server received more than was announced");
	res->bytes = r.bytes;
	res->ns = r.ns;
	res->sent = res->received = 0;
}

static void
bw_udp(const struct opts *o, struct bw_result *res)
{
	struct nb_dgram d = { .magic = NB_MAGIC, .type = NB_DATA, .warmup = (uint32_t)o->warmup };
	uint8_t *buf, rb[NB_DGRAM_LEN + NB_RESULT_LEN];
	struct nb_result r;
	uint64_t t0 = 0, total = o->warmup + o->rounds;
	int fd, tries;

	if (o->size < NB_DGRAM_LEN || o->size > 65507)
		die("bw udp: --size must be %d..65507 bytes", NB_DGRAM_LEN);
	if (o->warmup > UINT32_MAX)
		die("bw udp: --warmup must be below 2^32");
	if ((buf = calloc(1, o->size)) == NULL)
		die("out of memory");
	d.session = (uint32_t)(now_ns() ^ ((uint64_t)getpid() << 16));
	fd = open_socket(o);
	for (uint64_t i = 0; i < total; i++) {
		if (i == o->warmup)
			t0 = now_ns();
		d.seq = i;
		nb_dgram_encode(buf, &d);
		/* A full socket buffer (ENOBUFS) or a port not yet there
		 * (ECONNREFUSED, from an earlier ICMP) loses this datagram,
		 * which the server's count shows. */
		if (send(fd, buf, o->size, 0) < 0 && errno != ENOBUFS &&
		    errno != ECONNREFUSED && errno != EINTR)
			die("send: %s", strerror(errno));
	}
	d.type = NB_END;
	d.seq = total;
	nb_dgram_encode(buf, &d);
	/* The END or its answer may be lost: ask until answered, up to
	 * 50 times, waiting at most 0.2 s (or --timeout) each time. */
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	if (o->timeout < 0.2)
		tv.tv_usec = (suseconds_t)(o->timeout * 1e6);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (tries = 0; tries < 50; tries++) {
		ssize_t n;
		struct nb_dgram a;

		send(fd, buf, NB_DGRAM_LEN, 0);
		n = recv(fd, rb, sizeof(rb), 0);
		if (n != (ssize_t)sizeof(rb))
			continue;
		nb_dgram_decode(rb, &a);
		if (a.magic == NB_MAGIC && a.type == NB_RESULT && a.session == d.session)
			break;
	}
	res->client_ns = now_ns() - t0;
	close(fd);
	free(buf);
	if (tries == 50)
		die("bw udp: no answer from the server to END after 50 tries");
	nb_result_decode(rb + NB_DGRAM_LEN, &r);
	res->bytes = r.bytes;
	res->ns = r.ns;
	res->sent = o->rounds;
	/* The first measured datagram starts the server's clock and is not
	 * in its count (netbench_proto.h). */
	res->received = r.datagrams + (r.ns > 0 || r.datagrams > 0 ? 1 : 0);
}

static void
bw_report(const struct opts *o, const struct bw_result *r)
{
	double s = (double)r->ns / 1e9;
	double mbs = s > 0 ? (double)r->bytes / s / 1e6 : 0;
	double loss = r->sent ? 100.0 * (double)(r->sent - r->received) / (double)r->sent : 0;
	const char *proto = o->proto == TCP ? "tcp" : "udp";

	if (o->json) {
		printf("{\"test\": \"bw\", \"proto\": \"%s\", \"address\": \"%s\", \"port\": %u, "
		    "\"size\": %" PRIu64 ", \"rounds\": %" PRIu64 ", \"warmup\": %" PRIu64 ", "
		    "\"nodelay\": %s, \"bytes\": %" PRIu64 ", \"server_seconds\": %.6f, "
		    "\"client_seconds\": %.6f, \"megabytes_per_second\": %.3f, "
		    "\"megabits_per_second\": %.3f",
		    proto, o->address, o->port, o->size, o->rounds, o->warmup,
		    o->proto == TCP && o->nodelay ? "true" : "false", r->bytes, s,
		    (double)r->client_ns / 1e9, mbs, mbs * 8);
		if (o->proto == UDP)
			printf(", \"datagrams_sent\": %" PRIu64 ", \"datagrams_received\": %" PRIu64
			    ", \"loss_percent\": %.3f", r->sent, r->received, loss);
		printf("}\n");
		return;
	}
	printf("bw %s to %s port %u: %" PRIu64 " x %" PRIu64 " bytes after %" PRIu64
	    " warm-up%s\n", proto, o->address, o->port, o->rounds, o->size, o->warmup,
	    o->proto == TCP ? (o->nodelay ? ", TCP_NODELAY on" : ", TCP_NODELAY off") : "");
	if (o->proto == UDP)
		printf("datagrams: %" PRIu64 " sent, %" PRIu64 " received (%.2f%% lost)\n",
		    r->sent, r->received, loss);
	printf("server received %" PRIu64 " bytes in %.6f seconds (its own clock)\n",
	    r->bytes, s);
	printf("throughput: %.2f megabytes per second (MB/s, 10^6 bytes), "
	    "%.2f megabits per second (Mbit/s)\n", mbs, mbs * 8);
}

/* ---- latency --------------------------------------------------------------- */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n sorted samples. */
static uint64_t
percentile(const uint64_t *v, uint64_t n, double p)
{
	uint64_t rank = (uint64_t)((p / 100.0) * (double)n + 0.999999);

	if (rank < 1)
		rank = 1;
	return v[rank > n ? n - 1 : rank - 1];
}

/* One round trip; returns its time in ns, or 0 when a UDP reply was lost. */
static uint64_t
round_trip(const struct opts *o, int fd, uint8_t *out, uint8_t *in, uint64_t seq)
{
	uint64_t t0;

	if (o->proto == TCP) {
		t0 = now_ns();
		send_all(fd, out, o->size);
		recv_all(fd, in, o->size);
		return now_ns() - t0;
	}
	nb_put64(out, seq);
	t0 = now_ns();
	if (send(fd, out, o->size, 0) < 0 && errno != ECONNREFUSED)
		die("send: %s", strerror(errno));
	for (;;) {
		ssize_t n = recv(fd, in, o->size, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 0;	/* timed out (or refused): lost */
		if ((uint64_t)n == o->size && nb_get64(in) == seq)
			return now_ns() - t0;
		/* A late answer to an earlier datagram: keep waiting. */
	}
}

static void
latency(const struct opts *o)
{
	uint64_t *rtt, n = 0, lost = 0, sum = 0;
	uint8_t *out, *in;
	int fd;

	if (o->proto == UDP && (o->size < 8 || o->size > 65507))
		die("latency udp: --size must be 8..65507 bytes (a sequence number leads)");
	if ((rtt = calloc(o->rounds, sizeof(*rtt))) == NULL ||
	    (out = malloc(o->size)) == NULL || (in = malloc(o->size)) == NULL)
		die("out of memory");
	memset(out, 0xa5, o->size);
	fd = open_socket(o);
	for (uint64_t i = 0; i < o->warmup; i++)
		round_trip(o, fd, out, in, i);
	for (uint64_t i = 0; i < o->rounds; i++) {
		uint64_t t = round_trip(o, fd, out, in, o->warmup + i);

		if (t == 0)
			lost++;
		else
			rtt[n++] = t;
	}
	close(fd);
	if (n == 0)
		die("latency %s: no reply at all", o->proto == TCP ? "tcp" : "udp");
	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	for (uint64_t i = 0; i < n; i++)
		sum += rtt[i];

	const char *names[] = { "min", "p50", "p90", "p99", "p99.9", "max", "mean" };
	const char *keys[] = { "min", "p50", "p90", "p99", "p99_9", "max", "mean" };
	double us[7] = {
		rtt[0] / 1e3, percentile(rtt, n, 50) / 1e3, percentile(rtt, n, 90) / 1e3,
		percentile(rtt, n, 99) / 1e3, percentile(rtt, n, 99.9) / 1e3,
		rtt[n - 1] / 1e3, (double)sum / (double)n / 1e3,
	};
	const char *proto = o->proto == TCP ? "tcp" : "udp";

	if (o->json) {
		printf("{\"test\": \"latency\", \"proto\": \"%s\", \"address\": \"%s\", "
		    "\"port\": %u, \"size\": %" PRIu64 ", \"rounds\": %" PRIu64 ", "
		    "\"warmup\": %" PRIu64 ", \"nodelay\": %s, \"replies\": %" PRIu64 ", "
		    "\"lost\": %" PRIu64 ", \"round_trip_us\": {",
		    proto, o->address, o->port, o->size, o->rounds, o->warmup,
		    o->proto == TCP && o->nodelay ? "true" : "false", n, lost);
		for (int i = 0; i < 7; i++)
			printf("%s\"%s\": %.3f", i ? ", " : "", keys[i], us[i]);
		printf("}}\n");
	} else {
		printf("latency %s to %s port %u: %" PRIu64 " round trips of %" PRIu64
		    " bytes after %" PRIu64 " warm-up%s\n", proto, o->address, o->port,
		    o->rounds, o->size, o->warmup,
		    o->proto == TCP ? (o->nodelay ? ", TCP_NODELAY on" : ", TCP_NODELAY off") : "");
		if (lost)
			printf("lost: %" PRIu64 " of %" PRIu64 " (no reply within %g s)\n",
			    lost, o->rounds, o->timeout);
		printf("round trip in microseconds (us):");
		for (int i = 0; i < 7; i++)
			printf("%s %s %.1f", i ? "," : "", names[i], us[i]);
		printf("\n");
	}
	free(rtt);
	free(out);
	free(in);
}

/* ---- main ------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "nodelay", no_argument, NULL, 'N' },
		{ "no-nodelay", no_argument, NULL, 'D' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .address = DEFAULT_ADDRESS, .nodelay = 1, .timeout = 30 };
	int have_size = 0, have_rounds = 0, have_warmup = 0, have_port = 0, c;
	char *end;

	while ((c = getopt_long(argc, argv, "a:p:s:n:w:t:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': o.address = optarg; break;
		case 'p': o.port = (unsigned)number("--port", optarg, 1, 65535); have_port = 1; break;
		case 's': o.size = number("--size", optarg, 1, 1ULL << 30); have_size = 1; break;
		case 'n': o.rounds = number("--rounds", optarg, 1, 1ULL << 40); have_rounds = 1; break;
		case 'w': o.warmup = number("--warmup", optarg, 0, 1ULL << 40); have_warmup = 1; break;
		case 'N': o.nodelay = 1; break;
		case 'D': o.nodelay = 0; break;
		case 't':
			o.timeout = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || !(o.timeout > 0 && o.timeout <= 3600)) {
				fprintf(stderr, "%s: --timeout %s: expected seconds, 0 < S <= 3600\n",
				    prog, optarg);
				return 2;
			}
			break;
		case 'j': o.json = 1; break;
		case 'h': usage(stdout); return 0;
		default: fprintf(stderr, "Try '%s -h'.\n", prog); return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "%s: expected a test and a protocol: bw|latency tcp|udp\n"
		    "Try '%s -h'.\n", prog, prog);
		return 2;
	}
	if (strcmp(argv[optind], "bw") == 0)
		o.test = BW;
	else if (strcmp(argv[optind], "latency") == 0)
		o.test = LATENCY;
	else {
		fprintf(stderr, "%s: unknown test '%s': bw or latency\n", prog, argv[optind]);
		return 2;
	}
	if (strcmp(argv[optind + 1], "tcp") == 0)
		o.proto = TCP;
	else if (strcmp(argv[optind + 1], "udp") == 0)
		o.proto = UDP;
	else {
		fprintf(stderr, "%s: unknown protocol '%s': tcp or udp\n", prog, argv[optind + 1]);
		return 2;
	}

	parse_address(&o);

	/* The defaults of the seed's runs. */
	if (!have_port)
		o.port = o.test == BW ? NETBENCH_BW_PORT : NETBENCH_ECHO_PORT;
	if (!have_size)
		o.size = o.test == LATENCY ? 64 : o.proto == TCP ? 1048576 :
		    o.addr.ss_family == AF_INET6 ? UDP_PAYLOAD_IP6 : UDP_PAYLOAD_IP4;
	if (!have_rounds)
		o.rounds = o.test == BW && o.proto == TCP ? 1000 : 100000;
	if (!have_warmup)
		o.warmup = o.test == BW && o.proto == TCP ? 10 : 1000;

	if (o.test == BW) {
		struct bw_result r;

		if (o.proto == TCP)
			bw_tcp(&o, &r);
		else
			bw_udp(&o, &r);
		bw_report(&o, &r);
	} else {
		latency(&o);
	}
	return 0;
}
