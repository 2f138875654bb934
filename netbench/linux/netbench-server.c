/*
 * netbench-server: the netbench servers on Linux sockets, for the Linux
 * VM the benchmark compares Limpet with (netbench/baseline/build.sh puts
 * it in that VM's initramfs).  It does what services/netbench does, on
 * the same ports and with the same protocol (services/netbench/
 * netbench_proto.h): bandwidth sinks on 5001 and echo servers on 5002,
 * TCP and UDP, over IPv4 and IPv6, in one thread around epoll.
 *
 * Each port has a socket per family, the IPv6 one IPV6_V6ONLY, rather than
 * one dual-stack socket: IPv4 then takes the path it took before IPv6
 * (no v4-mapped addresses), so its numbers stay comparable.  A kernel
 * without IPv6 gets the IPv4 sockets only.
 *
 *	netbench-server [-q]	(-q: no line per connection)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netbench_proto.h"

#define BUF_SIZE	(256 * 1024)
#define ECHO_BUF	(64 * 1024)
#define MAX_EVENTS	64

enum kind { BW_LISTEN, ECHO_LISTEN, BW_UDP, ECHO_UDP, BW_CONN, ECHO_CONN };

struct conn {
	enum kind	kind;
	int		fd;
	/* BW_CONN */
	uint8_t		hello[NB_HELLO_LEN];
	size_t		hello_len;
	struct nb_bw_hello h;
	uint64_t	got, start_ns, end_ns;
	int		overrun, answered;
	/* ECHO_CONN: its buffer, and the bytes in it not yet written back */
	uint8_t		*store;
	size_t		pending, off;
};

static int ep;
static uint8_t buf[BUF_SIZE];
static struct nb_udp_state udp_state;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "netbench-server: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct conn *
watch(enum kind kind, int fd, uint32_t events)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = events };

	if (c == NULL)
		die("calloc");
	c->kind = kind;
	c->fd = fd;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		die("epoll_ctl");
	return c;
}

static void
drop(struct conn *c)
{
	close(c->fd);		/* also takes it out of the epoll set */
	free(c->store);
	free(c);
}

/* A socket of `family` bound to `port` (listening if TCP), or -1 when the
 * kernel has no such family. */
static int
open_port(int family, int type, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				    .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr *addr = family == AF_INET6 ? (struct sockaddr *)&sa6 :
	    (struct sockaddr *)&sa;
	socklen_t len = family == AF_INET6 ? sizeof(sa6) : sizeof(sa);
	int fd = socket(family, type | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0 && errno == EAFNOSUPPORT)
		return -1;
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		die("setsockopt(IPV6_V6ONLY)");
	if (bind(fd, addr, len) != 0)
		die("bind");
	if (type == SOCK_STREAM && listen(fd, 128) != 0)
		die("listen");
	return fd;
}

/* The four servers on `family`; 0 when the kernel has no such family. */
static int
serve(int family)
{
	static const struct { enum kind kind; int type, port; } ports[] = {
		{ BW_LISTEN, SOCK_STREAM, NETBENCH_BW_PORT },
		{ ECHO_LISTEN, SOCK_STREAM, NETBENCH_ECHO_PORT },
		{ BW_UDP, SOCK_DGRAM, NETBENCH_BW_PORT },
		{ ECHO_UDP, SOCK_DGRAM, NETBENCH_ECHO_PORT },
	};

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		int fd = open_port(family, ports[i].type, ports[i].port);

		if (fd < 0)
			return 0;
		watch(ports[i].kind, fd, EPOLLIN);
	}
	return 1;
}

static void
accept_all(struct conn *l)
{
	int fd, one = 1;

	while ((fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		struct conn *c;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = watch(l->kind == BW_LISTEN ? BW_CONN : ECHO_CONN, fd, EPOLLIN);
		if (c->kind == ECHO_CONN && (c->store = malloc(ECHO_BUF)) == NULL)
			drop(c);
	}
}

/* ---- bandwidth ------------------------------------------------------------- */

static void
bw_answer(struct conn *c)
{
	struct nb_result r = {
		.magic = NB_MAGIC, .status = (uint32_t)c->overrun, .bytes = c->h.bytes,
		.ns = c->end_ns - c->start_ns,
	};
	uint8_t b[NB_RESULT_LEN];

	nb_result_encode(b, &r);
	c->answered = 1;
	/* 32 bytes into an empty send buffer: a non-blocking send takes them. */
	if (send(c->fd, b, sizeof(b), MSG_NOSIGNAL) != (ssize_t)sizeof(b))
		fprintf(stderr, "netbench-server: could not send a result\n");
}

/* Returns 0 when the connection is over. */
static int
bw_read(struct conn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		uint64_t now = now_ns(), data, total;
		size_t used = 0;

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return 0;
		if (c->hello_len < NB_HELLO_LEN) {
			used = NB_HELLO_LEN - c->hello_len;
			if (used > (size_t)n)
				used = (size_t)n;
			memcpy(c->hello + c->hello_len, buf, used);
			c->hello_len += used;
			if (c->hello_len == NB_HELLO_LEN) {
				nb_hello_decode(c->hello, &c->h);
				if (c->h.magic != NB_MAGIC)
					return 0;
			}
		}
		if (c->hello_len < NB_HELLO_LEN || c->answered)
			continue;
		data = (uint64_t)n - used;
		total = c->h.warmup + c->h.bytes;
		if (c->got + data > total) {
			c->overrun = 1;
			data = total - c->got;
		}
		if (c->got <= c->h.warmup && c->got + data > c->h.warmup)
			c->start_ns = now;
		c->got += data;
		if (c->got == total) {
			c->end_ns = now;
			bw_answer(c);
		}
	}
}

static void
bw_udp_read(struct conn *c)
{
	struct sockaddr_storage from;
	socklen_t fromlen;
	ssize_t n;

	for (;;) {
		uint8_t out[NB_DGRAM_LEN + NB_RESULT_LEN];
		struct nb_dgram d;
		struct nb_result r;

		fromlen = sizeof(from);
		n = recvfrom(c->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return;
		if (n < NB_DGRAM_LEN)
			continue;
		nb_dgram_decode(buf, &d);
		if (d.magic != NB_MAGIC)
			continue;
		if (d.type == NB_DATA) {
			nb_udp_data(&udp_state, &d, (uint64_t)n, now_ns());
		} else if (d.type == NB_END) {
			d.type = NB_RESULT;
			nb_dgram_encode(out, &d);
			nb_udp_result(&udp_state, d.session, &r);
			nb_result_encode(out + NB_DGRAM_LEN, &r);
			sendto(c->fd, out, sizeof(out), 0, (struct sockaddr *)&from, fromlen);
		}
	}
}

/* ---- echo ------------------------------------------------------------ */

static void
set_events(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Returns 0 when the connection is over.  What cannot be written back at
 * once waits for EPOLLOUT, and nothing more is read until it is gone, so
 * a client that does not read stalls only itself. */
static int
echo_io(struct conn *c)
{
	for (;;) {
		while (c->pending > 0) {
			ssize_t n = send(c->fd, c->store + c->off, c->pending, MSG_NOSIGNAL);

			if (n < 0 && errno == EAGAIN) {
				set_events(c, EPOLLOUT);
				return 1;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return 0;
			c->off += (size_t)n;
			c->pending -= (size_t)n;
		}
		ssize_t n = recv(c->fd, c->store, ECHO_BUF, 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			set_events(c, EPOLLIN);
			return 1;
		}
		if (n <= 0)
			return 0;
		c->pending = (size_t)n;
		c->off = 0;
	}
}

static void
echo_udp_read(struct conn *c)
{
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(c->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
	    &fromlen)) >= 0) {
		sendto(c->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen);
		fromlen = sizeof(from);
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event events[MAX_EVENTS];
	int quiet = argc > 1 && strcmp(argv[1], "-q") == 0, ip6;

	if (argc > 1 + quiet) {
		fprintf(stderr, "usage: netbench-server [-q]\n");
		return 2;
	}
	if ((ep = epoll_create1(0)) < 0)
		die("epoll_create1");
	if (!serve(AF_INET))
		die("socket(AF_INET)");
	ip6 = serve(AF_INET6);
	printf("netbench-server: listening: bandwidth port %d, echo port %d (tcp, udp; "
	    "IPv4%s)\n", NETBENCH_BW_PORT, NETBENCH_ECHO_PORT, ip6 ? " and IPv6" : " only");
	fflush(stdout);

	for (;;) {
		int n = epoll_wait(ep, events, MAX_EVENTS, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		for (int i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;

			switch (c->kind) {
			case BW_LISTEN:
			case ECHO_LISTEN:
				accept_all(c);
				break;
			case BW_UDP:
				bw_udp_read(c);
				break;
			case ECHO_UDP:
				echo_udp_read(c);
				break;
			case BW_CONN:
				if (!bw_read(c)) {
					if (!quiet && c->answered)
						printf("netbench-server: bandwidth run: %llu bytes "
						    "in %llu ns\n", (unsigned long long)c->h.bytes,
						    (unsigned long long)(c->end_ns - c->start_ns));
					drop(c);
				}
				break;
			case ECHO_CONN:
				if (!echo_io(c))
					drop(c);
				break;
			}
		}
	}
}
