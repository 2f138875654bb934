/*
 * limpet/net.h's results, as a service sees them: typed results and bools,
 * a taken port, the device's counters in net/'s own struct, the IPv6
 * addresses.  Prints "netapi: ok" and exits 0, or names the first check
 * that failed and exits 1 (tests/test_net.py boots it on user networking).
 */
#include <stdio.h>
#include <string.h>

#include <limpet.h>
#include <limpet/net.h>

static int failed;

#define CHECK(cond, what) do { \
		if (!(cond)) { \
			printf("netapi: FAIL: %s\n", what); \
			failed = 1; \
		} \
	} while (0)

static err_t
on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)pcb;
	(void)err;
	if (p != NULL)
		pbuf_free(p);
	return ERR_OK;
}

static const struct limpet_tcp_service svc = {
	.conn_size = 16,
	.recv = on_recv,
};

int
main(void)
{
	struct limpet_net_config cfg;
	struct limpet_net_stats st;
	uint32_t total, nfree;
	enum limpet_result r;
	bool ready;

	CHECK(limpet_net_config(&cfg) == LIMPET_OK, "limpet_net_config");
	ready = limpet_net_ready();
	CHECK(ready == true, "limpet_net_ready() with a fixed address");
	CHECK(!cfg.dhcp, "cfg.dhcp with ip=");
	CHECK(strcmp(cfg.ip_str, "10.0.2.15") == 0, "cfg.ip_str");
	CHECK(cfg.ip6_mode == LIMPET_IP6_SLAAC, "cfg.ip6_mode with ip6=slaac");
	CHECK(cfg.ip6_count >= 1 && strcmp(cfg.ip6[0].str, "fe80::5054:ff:fe12:3456") == 0 &&
	    cfg.ip6[0].prefix == 64, "the link-local address, first");
	CHECK((r = limpet_tcp_listen(7000, &svc)) == LIMPET_OK, "limpet_tcp_listen(7000)");
	CHECK((r = limpet_tcp_listen(7000, &svc)) == LIMPET_EADDRINUSE,
	    "limpet_tcp_listen(7000) again: LIMPET_EADDRINUSE");
	CHECK(limpet_tcp_listen(0, &svc) == LIMPET_EINVAL, "limpet_tcp_listen(0): LIMPET_EINVAL");
	CHECK(limpet_tcp_listen(7001, &svc) == LIMPET_OK, "limpet_tcp_listen(7001)");
	CHECK(limpet_net_stats(&st) == LIMPET_OK, "limpet_net_stats");
	CHECK(st.bytes_copied == 0, "nothing copied");
	CHECK(limpet_net_rx_buffers(&total, &nfree) == LIMPET_OK && total > 0 && nfree <= total,
	    "limpet_net_rx_buffers");
	printf("netapi: %s\n", failed ? "failed" : "ok");
	return failed;
}
