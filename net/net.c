/*
 * Networking at boot: find the NIC, start lwIP on it with the configured
 * address, and drive lwIP's timers from the event loop.
 *
 * The address is fixed at build time (scons ip= gateway= mask=, which
 * arrive as LIMPET_NET_IP, _GATEWAY, _MASK) and can be overridden at boot
 * with the kernel arguments ip= gateway= mask=, or ip=dhcp.  A malformed
 * address is bad input, not a bug: the kernel says which and stops with
 * status 2, as for any unusable command line.
 */
#include <stdint.h>
#include <string.h>

#include <limpet.h>
#include <kernel/cmdline.h>
#include <kernel/exit.h>
#include <kernel/init.h>
#include <kernel/ktime.h>
#include <kernel/log.h>
#include <kernel/loop.h>

#include <lwip/dhcp.h>
#include <lwip/etharp.h>
#include <lwip/init.h>
#include <lwip/ip4_addr.h>
#include <lwip/netif.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/timeouts.h>
#include <netif/ethernet.h>

#include <limpet/net.h>
#include <netdev.h>

#include "netif/virtio_netif.h"
#include "port/pools.h"
#include "lwip_hooks.h"

#ifndef LIMPET_NET_IP
#error "LIMPET_NET_IP, LIMPET_NET_GATEWAY and LIMPET_NET_MASK come from the build"
#endif


static struct netif netif;
static struct netdev *dev;
static int use_dhcp;

/* ---- addresses ------------------------------------------------------------ */

/* Strict dotted quad: four decimal numbers 0..255, nothing else (lwIP's
 * ip4addr_aton() also takes "10.5", hex and octal, which would surprise). */
static int
parse_ipv4(const char *s, ip4_addr_t *out)
{
	uint32_t addr = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return -1;
		addr = addr << 8 | v;
		if (part < 3 && *s++ != '.')
			return -1;
	}
	if (*s != '\0')
		return -1;
	ip4_addr_set_u32(out, lwip_htonl(addr));
	return 0;
}

/* A netmask is ones then zeros: 255.255.255.0, not 255.0.255.0. */
static int
contiguous_mask(const ip4_addr_t *mask)
{
	uint32_t inv = ~lwip_ntohl(ip4_addr_get_u32(mask));

	return (inv & (inv + 1)) == 0;
}

/* The subnet's broadcast address (host part all ones), or 255.255.255.255. */
static int
is_broadcast(const ip4_addr_t *ip, const ip4_addr_t *mask)
{
	uint32_t h = lwip_ntohl(ip4_addr_get_u32(ip));
	uint32_t m = lwip_ntohl(ip4_addr_get_u32(mask));

	if (h == 0xffffffffu)
		return 1;
	/* /31 and /32 have no broadcast address (RFC 3021). */
	return m < 0xfffffffeu && (h & ~m) == ~m;
}

static void
bad_arg(const char *key, const char *value, const char *why)
{
	kprintf("net: error: %s=%s: %s\n", key, value, why);
	machine_exit(EXIT_USAGE);
}

/* The kernel argument key=..., else the build's default. */
static void
address_arg(const char *key, const char *dflt, ip4_addr_t *out)
{
	const char *v = kargs_take(&boot_args, key);

	if (v == NULL) {
		if (parse_ipv4(dflt, out) != 0)
			panic("net: the build's %s %s is not an IPv4 address", key, dflt);
		return;
	}
	if (parse_ipv4(v, out) != 0)
		bad_arg(key, v, "not an IPv4 address (expected four numbers 0-255 "
		    "separated by dots, e.g. 10.0.5.3)");
}

static void
configure(ip4_addr_t *ip, ip4_addr_t *mask, ip4_addr_t *gw)
{
	const char *v = kargs_take(&boot_args, "ip");

	if (v != NULL && strcmp(v, "dhcp") == 0) {
		use_dhcp = 1;
		ip4_addr_set_zero(ip);
		ip4_addr_set_zero(mask);
		ip4_addr_set_zero(gw);
		if (kargs_take(&boot_args, "gateway") || kargs_take(&boot_args, "mask"))
			log_warn("net: ip=dhcp: gateway= and mask= ignored (DHCP supplies them)");
		return;
	}
	if (v != NULL && parse_ipv4(v, ip) != 0)
		bad_arg("ip", v, "not an IPv4 address (expected four numbers 0-255 "
		    "separated by dots, e.g. 10.0.5.3, or dhcp)");
	if (v == NULL && parse_ipv4(LIMPET_NET_IP, ip) != 0)
		panic("net: the build's ip %s is not an IPv4 address", LIMPET_NET_IP);
	address_arg("gateway", LIMPET_NET_GATEWAY, gw);
	address_arg("mask", LIMPET_NET_MASK, mask);
	if (!contiguous_mask(mask))
		bad_arg("mask", ip4addr_ntoa(mask), "not a netmask (ones, then zeros: "
		    "e.g. 255.255.255.0)");
	if (ip4_addr_isany_val(*ip) || ip4_addr_ismulticast(ip) || is_broadcast(ip, mask))
		bad_arg("ip", ip4addr_ntoa(ip), "not a usable host address");
	if (!ip4_addr_isany_val(*gw) && !ip4_addr_netcmp(ip, gw, mask))
		log_warn("net: gateway %s is outside %s's subnet", ip4addr_ntoa(gw), v ? v : LIMPET_NET_IP);
}

/* ---- lwIP's timers in the event loop --------------------------------------- */

static int
timers_poll(struct loop_source *src)
{
	(void)src;
	sys_check_timeouts();
	return 0;
}

/*
 * When lwIP's next timeout is due; the loop polls the source then.
 * Deadlines fall on sys_now()'s millisecond boundaries, so the timeout is
 * due by lwIP's clock when the loop gets to it.
 */
static uint64_t
timers_deadline(struct loop_source *src)
{
	u32_t sleep = sys_timeouts_sleeptime();

	(void)src;
	if (sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		return UINT64_MAX;
	return (limpet_now_ns() / LIMPET_MS + sleep) * LIMPET_MS;
}

static struct loop_source timers_source = {
	.name = "lwip-timers",
	.poll = timers_poll,
	.next_deadline = timers_deadline,
};

/* ---- bring-up -------------------------------------------------------------- */

static void
print_config(const char *how)
{
	const uint8_t *m = netif.hwaddr;
	char ip[16], mask[16], gw[16];

	ip4addr_ntoa_r(netif_ip4_addr(&netif), ip, sizeof(ip));
	ip4addr_ntoa_r(netif_ip4_netmask(&netif), mask, sizeof(mask));
	ip4addr_ntoa_r(netif_ip4_gw(&netif), gw, sizeof(gw));
	kprintf("net: %02x:%02x:%02x:%02x:%02x:%02x %s/%s gw %s (%s%s)\n",
	    m[0], m[1], m[2], m[3], m[4], m[5], ip, mask, gw,
	    netdev_info(dev)->name, how);
}

/* DHCP (re)configured the interface. */
static void
status_changed(struct netif *nif)
{
	(void)nif;
	if (use_dhcp && !ip4_addr_isany_val(*netif_ip4_addr(&netif)))
		print_config(", dhcp");
}

/*
 * The gratuitous ARP that announces the address goes out on the loop's
 * first turn, after main() has opened its listeners, not when the
 * interface comes up during boot: a peer that has been trying to reach
 * the guest (a client polling a booting server) sends the SYN it queued
 * as soon as it hears it, and that SYN must find the port open rather
 * than get a reset and wait for its next try.
 */
static struct limpet_work announce;

static void
announce_address(struct limpet_work *w, void *arg)
{
	(void)w;
	(void)arg;
	if (netif_is_up(&netif) && netif_is_link_up(&netif))
		etharp_gratuitous(&netif);
}

/* The NIC, lwIP and the address (ip= gateway= mask=), in the boot's init
 * table (kernel/include/kernel/init.h): images without networking do
 * not link net/ and so have no entry. */
static void
net_init(void)
{
	ip4_addr_t ip, mask, gw;
	u8_t link_up;
	int n;

	/* Check the arguments first: a typo is reported with or without a NIC. */
	configure(&ip, &mask, &gw);

	if ((n = netdev_probe()) <= 0 || (dev = netdev_get(0)) == NULL) {
		if (n < 0)
			log_warn("net: network device probe failed (%d); no networking", n);
		else
			log_warn("net: no network device found; no networking");
		return;
	}

	boot_phase_done("nic");
	/* lwIP's heap and the room its connection pools grow into, from the
	 * machine's memory. */
	if (net_pools_init() != 0) {
		dev = NULL;
		log_error("net: no networking");
		return;
	}
	lwip_init();
	tcp_lookup_init(net_tcp_capacity());
	if (netif_add(&netif, &ip, &mask, &gw, dev, virtio_netif_init,
	    ethernet_input) == NULL) {
		log_error("net: %s: could not bring the interface up; no networking",
		    netdev_info(dev)->name);
		dev = NULL;
		return;
	}
	boot_phase_done("netif");
	netif_set_default(&netif);
	netif_set_status_callback(&netif, status_changed);
	/* Up without the announcement netif_set_up() makes on a link that is
	 * up (announce_address() makes it later); the link flag is the
	 * netif's own, as its init function set it. */
	link_up = netif.flags & NETIF_FLAG_LINK_UP;
	netif.flags &= (u8_t)~NETIF_FLAG_LINK_UP;
	netif_set_up(&netif);
	netif.flags |= link_up;
	loop_source_register(&timers_source);

	if (use_dhcp) {
		kprintf("net: %02x:%02x:%02x:%02x:%02x:%02x dhcp (%s)\n",
		    netif.hwaddr[0], netif.hwaddr[1], netif.hwaddr[2],
		    netif.hwaddr[3], netif.hwaddr[4], netif.hwaddr[5],
		    netdev_info(dev)->name);
		if (dhcp_start(&netif) != ERR_OK)
			log_error("net: dhcp_start failed; the interface has no address");
	} else {
		print_config("");
		limpet_work_init(&announce, announce_address, NULL);
		limpet_soon(&announce);
	}
}

LIMPET_INIT(net_init, LIMPET_STAGE_NET);

/* ---- the service side (limpet/net.h) ---------------------------------------- */

int
limpet_net_ready(void)
{
	return dev != NULL && netif_is_up(&netif) &&
	    !ip4_addr_isany_val(*netif_ip4_addr(&netif));
}

int
limpet_net_config(struct limpet_net_config *cfg)
{
	const struct netdev_info *info;

	if (dev == NULL)
		return LIMPET_ENOTSUP;
	info = netdev_info(dev);
	memset(cfg, 0, sizeof(*cfg));
	cfg->device = info->name;
	memcpy(cfg->mac, netif.hwaddr, sizeof(cfg->mac));
	cfg->mtu = info->mtu;	/* netif.mtu may be larger: TSO */
	cfg->dhcp = use_dhcp;
	cfg->ip = ip4_addr_get_u32(netif_ip4_addr(&netif));
	cfg->mask = ip4_addr_get_u32(netif_ip4_netmask(&netif));
	cfg->gateway = ip4_addr_get_u32(netif_ip4_gw(&netif));
	if (cfg->ip != 0)
		ip4addr_ntoa_r(netif_ip4_addr(&netif), cfg->ip_str, sizeof(cfg->ip_str));
	return LIMPET_OK;
}

int
limpet_net_stats(struct netdev_stats *st)
{
	if (dev == NULL)
		return LIMPET_ENOTSUP;
	netdev_stats(dev, st);
	return LIMPET_OK;
}

void
limpet_net_tcp_states(uint32_t counts[LIMPET_TCP_NSTATES])
{
	struct tcp_pcb *const *lists[] = {
		&tcp_active_pcbs, &tcp_tw_pcbs, &tcp_bound_pcbs,
		&tcp_listen_pcbs.pcbs,
	};

	memset(counts, 0, LIMPET_TCP_NSTATES * sizeof(counts[0]));
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (const struct tcp_pcb *pcb = *lists[i]; pcb != NULL; pcb = pcb->next)
			if ((unsigned)pcb->state < LIMPET_TCP_NSTATES)
				counts[pcb->state]++;
}

void
limpet_net_tcp_lookup(uint64_t *syns_fast, uint64_t *moves, uint64_t *walks)
{
	*syns_fast = tcp_lookup_stats.syns_fast;
	*moves = tcp_lookup_stats.moves;
	*walks = tcp_lookup_stats.walks;
}

int
limpet_net_rx_held(uint32_t *held)
{
	uint32_t total, nfree;

	if (dev == NULL)
		return LIMPET_ENOTSUP;
	virtio_netif_rx_buffers(&total, &nfree);
	*held = total - nfree - virtio_netif_rx_posted();
	return LIMPET_OK;
}

int
limpet_net_rx_backlog(uint32_t *now, uint32_t *max)
{
	if (dev == NULL)
		return LIMPET_ENOTSUP;
	virtio_netif_rx_backlog(now, max);
	return LIMPET_OK;
}

int
limpet_net_rx_buffers(uint32_t *total, uint32_t *nfree)
{
	if (dev == NULL)
		return LIMPET_ENOTSUP;
	virtio_netif_rx_buffers(total, nfree);
	return LIMPET_OK;
}

unsigned
limpet_tcp_capacity(void)
{
	return dev != NULL ? net_tcp_capacity() : 0;
}
