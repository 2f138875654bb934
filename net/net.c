/*
 * Networking at boot: find the NIC, start lwIP on it with the configured
 * address, and drive lwIP's timers from the event loop.
 *
 * The address is fixed at build time (scons ip= gateway= mask=, which
 * arrive as LIMPET_NET_IP, _GATEWAY, _MASK) and can be overridden at boot
 * with the kernel arguments ip= gateway= mask=, or ip=dhcp.  IPv6 runs
 * beside it (scons ip6= gateway6=, LIMPET_NET_IP6 and _GATEWAY6; kernel
 * arguments ip6= gateway6=): a link-local address from the MAC, and a
 * static address with its prefix (ip6=ADDR/PREFIX), or SLAAC's from
 * router advertisements (ip6=slaac); ip6=off turns IPv6 off.  A malformed
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
#include <lwip/ip6_addr.h>
#include <lwip/mld6.h>
#include <lwip/nd6.h>
#include <lwip/netif.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/timeouts.h>
#include <netif/ethernet.h>

#include <limpet/net.h>
#include <netdev.h>

#include "addr_text.h"
#include "netif/netdev_netif.h"
#include "port/pools.h"
#include "lwip_hooks.h"

#if !defined(LIMPET_NET_IP) || !defined(LIMPET_NET_IP6)
#error "LIMPET_NET_IP, _GATEWAY, _MASK, _IP6 and _GATEWAY6 come from the build"
#endif


static struct netif netif;
static struct netdev *dev;
static int use_dhcp;
NETIF_DECLARE_EXT_CALLBACK(ext_callback)

/* ---- addresses ------------------------------------------------------------ */

/* Strict dotted quad (net/addr_text.c). */
static int
parse_ipv4(const char *s, ip4_addr_t *out)
{
	uint8_t a[4];

	if (addr4_parse(s, a) != 0)
		return -1;
	memcpy(&out->addr, a, 4);
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

/*
 * The offload policy, net/'s to decide: offload=on (the default) asks the
 * device for every offload the netif can use (NETDEV_OFF_*: checksums
 * both ways, the host's large frames, TSO), offload=off for none, plain
 * frames and software checksums.  The device takes those it has
 * (netdev_start()).
 */
static unsigned
offload_policy(void)
{
	const char *v = kargs_take(&boot_args, "offload");

	if (v == NULL || strcmp(v, "on") == 0)
		return NETDEV_OFF_ALL;
	if (strcmp(v, "off") != 0)
		bad_arg("offload", v, "expected offload=on or offload=off");
	return 0;
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

/* ---- IPv6 ------------------------------------------------------------------ */

static char *
ntoa6(const ip6_addr_t *a, char *buf, size_t size)
{
	ip_addr_t x;

	ip_addr_copy_from_ip6(x, *a);
	return limpet_net_addr_text(&x, buf, size);
}

static struct {
	enum limpet_ip6_mode mode;
	ip6_addr_t	addr;		/* the static address (LIMPET_IP6_STATIC) */
	unsigned	plen;		/* its prefix length, 1..128 */
	int		has_gw;
	ip6_addr_t	gw;		/* gateway6=, if has_gw */
} v6;

/* A unicast address a host may have (or a gateway be): not unspecified,
 * loopback, multicast or IPv4-mapped. */
static const char *
unusable6(const uint8_t a[16], int gateway)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	int zero = 1;

	for (int i = 0; i < 15; i++)
		zero &= a[i] == 0;
	if (zero && a[15] <= 1)
		return "not a usable host address (unspecified or loopback)";
	if (a[0] == 0xff)
		return "a multicast address";
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return "an IPv4-mapped address (give IPv4 addresses to ip=)";
	if (!gateway && a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "a link-local address (the guest makes its own, from the MAC)";
	return NULL;
}

static void
configure6(void)
{
	const char *v = kargs_take(&boot_args, "ip6");
	const char *g = kargs_take(&boot_args, "gateway6");
	const char *what = v != NULL ? v : LIMPET_NET_IP6, *why;
	uint8_t a[16];

	if (strcmp(what, "off") == 0) {
		v6.mode = LIMPET_IP6_OFF;
		if (g != NULL)
			log_warn("net: ip6=off: gateway6= ignored");
		return;
	}
	if (strcmp(what, "slaac") == 0) {
		v6.mode = LIMPET_IP6_SLAAC;
		/* The build's gateway goes with the build's static address;
		 * with SLAAC the routers say, unless the command line does. */
		if (g == NULL)
			return;
	} else {
		v6.mode = LIMPET_IP6_STATIC;
		if (addr6_parse_prefix(what, a, &v6.plen) != 0 || v6.plen == 0) {
			if (v == NULL)
				panic("net: the build's ip6 %s is not ADDR/PREFIX", what);
			bad_arg("ip6", v, "expected an IPv6 address and prefix length "
			    "(e.g. fd00:5::3/64), slaac or off");
		}
		if ((why = unusable6(a, 0)) != NULL) {
			if (v == NULL)
				panic("net: the build's ip6 %s: %s", what, why);
			bad_arg("ip6", v, why);
		}
		memcpy(v6.addr.addr, a, sizeof(a));
		if (g == NULL)
			g = LIMPET_NET_GATEWAY6;
	}
	if (g[0] == '\0')
		return;		/* none */
	if (addr6_parse(g, a) != 0)
		bad_arg("gateway6", g, "not an IPv6 address (e.g. fd00:5::1)");
	if ((why = unusable6(a, 1)) != NULL)
		bad_arg("gateway6", g, why);
	memcpy(v6.gw.addr, a, sizeof(a));
	v6.has_gw = 1;
}

/*
 * LWIP_HOOK_ND6_GET_GW: the next hop of a destination that is not on a
 * prefix a router advertised: itself when the static address's prefix
 * holds it (lwIP's own on-link test knows advertised /64s only), else the
 * static gateway; NULL leaves it to the routers lwIP heard from.
 */
const ip6_addr_t *
net_ip6_next_hop(struct netif *nif, const ip6_addr_t *dest)
{
	(void)nif;
	if (v6.mode == LIMPET_IP6_STATIC &&
	    addr6_same_prefix((const uint8_t *)dest->addr, (const uint8_t *)v6.addr.addr, v6.plen))
		return dest;
	return v6.has_gw ? &v6.gw : NULL;
}

/* The addresses at boot: link-local from the MAC, then the static one or
 * SLAAC.  Each is tentative until duplicate address detection passes. */
static void
start6(void)
{
	s8_t idx;
	err_t err;

	if (v6.mode == LIMPET_IP6_OFF)
		return;
	netif_create_ip6_linklocal_address(&netif, 1);
	if (v6.mode == LIMPET_IP6_STATIC) {
		if ((err = netif_add_ip6_address(&netif, &v6.addr, &idx)) != ERR_OK)
			log_error("net: ip6: could not add the address (%d)", err);
	} else {
		netif.ip6_autoconfig_enabled = 1;	/* netif_set_ip6_autoconfig_enabled() */
	}
}

/* The prefix length of address slot i: the static one's, else SLAAC's
 * and link-local's 64. */
static unsigned
prefix_len6(s8_t i)
{
	if (v6.mode == LIMPET_IP6_STATIC && ip6_addr_cmp(netif_ip6_addr(&netif, i), &v6.addr))
		return v6.plen;
	return 64;
}

/* An address came or went (DAD passed or failed, SLAAC added one). */
static void
ip6_changed(struct netif *nif, netif_nsc_reason_t reason, const netif_ext_callback_args_t *args)
{
	char a[IP6ADDR_STRLEN_MAX];
	s8_t i;
	u8_t state, old;

	if (!(reason & LWIP_NSC_IPV6_ADDR_STATE_CHANGED))
		return;
	i = args->ipv6_addr_state_changed.addr_index;
	old = args->ipv6_addr_state_changed.old_state;
	state = netif_ip6_addr_state(nif, i);
	ntoa6(netif_ip6_addr(nif, i), a, sizeof(a));
	if (ip6_addr_isvalid(state) && !ip6_addr_isvalid(old))
		kprintf("net: ip6 %s/%u ready%s\n", a, prefix_len6(i),
		    i == 0 ? " (link-local)" : v6.mode == LIMPET_IP6_SLAAC ? " (slaac)" : "");
	else if (ip6_addr_isduplicated(state))
		log_error("net: ip6 %s: another host on the link has it (duplicate address "
		    "detection); not used", a);
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

/* IPv6's line: the addresses still tentative (ip6_changed() says when
 * each is ready) and the gateway. */
static void
print_config6(void)
{
	char a[IP6ADDR_STRLEN_MAX], ll[IP6ADDR_STRLEN_MAX], gw[IP6ADDR_STRLEN_MAX + 4] = "";

	if (v6.mode == LIMPET_IP6_OFF) {
		kprintf("net: ip6 off\n");
		return;
	}
	ntoa6(netif_ip6_addr(&netif, 0), ll, sizeof(ll));
	if (v6.has_gw) {
		memcpy(gw, " gw ", 4);
		ntoa6(&v6.gw, gw + 4, sizeof(gw) - 4);
	}
	if (v6.mode == LIMPET_IP6_STATIC) {
		ntoa6(&v6.addr, a, sizeof(a));
		kprintf("net: ip6 %s/%u%s, %s (link-local)\n", a, v6.plen, gw, ll);
	} else {
		kprintf("net: ip6 slaac%s, %s (link-local)\n", gw, ll);
	}
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
 * than get a reset and wait for its next try.  IPv6's addresses start
 * their duplicate address detection then too.
 */
static struct limpet_work announce;

static void
announce_address(struct limpet_work *w, void *arg)
{
	(void)w;
	(void)arg;
	if (!netif_is_up(&netif) || !netif_is_link_up(&netif))
		return;
	if (!use_dhcp)
		etharp_gratuitous(&netif);	/* DHCP announces its own */
	if (v6.mode != LIMPET_IP6_OFF) {
		/* Duplicate address detection and the router solicitation
		 * start (lwIP's timer sends them), and the multicast groups
		 * are reported. */
		nd6_restart_netif(&netif);
		mld6_report_groups(&netif);
	}
}

/* The NIC, lwIP and the address (ip= gateway= mask=), in the boot's init
 * table (kernel/include/kernel/init.h): images without networking do
 * not link net/ and so have no entry. */
static void
net_init(void)
{
	ip4_addr_t ip, mask, gw;
	struct netdev_netif_conf conf;
	u8_t link_up;
	int n;

	/* Check the arguments first: a typo is reported with or without a NIC. */
	configure(&ip, &mask, &gw);
	configure6();
	conf.offloads = offload_policy();

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
	conf.dev = dev;
	if (netif_add(&netif, &ip, &mask, &gw, &conf, netdev_netif_init,
	    ethernet_input) == NULL) {
		log_error("net: %s: could not bring the interface up; no networking",
		    netdev_info(dev)->name);
		dev = NULL;
		return;
	}
	/* lwIP gives IPv6 the netif's MTU, which is 64 KiB with TSO: IPv6
	 * keeps to the link's (netdev_netif_init()). */
	netif.mtu6 = netdev_info(dev)->mtu;
	boot_phase_done("netif");
	netif_set_default(&netif);
	netif_set_status_callback(&netif, status_changed);
	netif_add_ext_callback(&ext_callback, ip6_changed);
	start6();
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
	}
	print_config6();
	limpet_work_init(&announce, announce_address, NULL);
	limpet_soon(&announce);
}

LIMPET_INIT(net_init, LIMPET_STAGE_NET);

/* ---- the service side (limpet/net.h) ---------------------------------------- */

char *
limpet_net_addr_text(const ip_addr_t *a, char *buf, size_t size)
{
	ipaddr_ntoa_r(a, buf, (int)size);
	for (char *c = buf; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
	return buf;
}

bool
limpet_net_ready(void)
{
	return dev != NULL && netif_is_up(&netif) &&
	    !ip4_addr_isany_val(*netif_ip4_addr(&netif));
}

enum limpet_result
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
	cfg->dhcp = use_dhcp != 0;
	cfg->ip = ip4_addr_get_u32(netif_ip4_addr(&netif));
	cfg->mask = ip4_addr_get_u32(netif_ip4_netmask(&netif));
	cfg->gateway = ip4_addr_get_u32(netif_ip4_gw(&netif));
	if (cfg->ip != 0)
		ip4addr_ntoa_r(netif_ip4_addr(&netif), cfg->ip_str, sizeof(cfg->ip_str));
	cfg->ip6_mode = v6.mode;
	for (s8_t i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
		u8_t state = netif_ip6_addr_state(&netif, i);
		struct limpet_net_ip6 *a = &cfg->ip6[cfg->ip6_count];

		if (ip6_addr_isinvalid(state) || ip6_addr_isduplicated(state))
			continue;
		ntoa6(netif_ip6_addr(&netif, i), a->str, sizeof(a->str));
		a->prefix = (uint8_t)prefix_len6(i);
		a->ready = ip6_addr_isvalid(state);
		cfg->ip6_count++;
	}
	if (v6.has_gw)
		ntoa6(&v6.gw, cfg->gateway6_str, sizeof(cfg->gateway6_str));
	return LIMPET_OK;
}

enum limpet_result
limpet_net_stats(struct limpet_net_stats *st)
{
	struct netdev_stats d;

	if (dev == NULL)
		return LIMPET_ENOTSUP;
	netdev_stats(dev, &d);
	*st = (struct limpet_net_stats){
		.rx_packets = d.rx_packets, .rx_bytes = d.rx_bytes, .rx_drops = d.rx_drops,
		.tx_packets = d.tx_packets, .tx_bytes = d.tx_bytes, .tx_drops = d.tx_drops,
		.tx_ring_full = d.tx_ring_full, .rx_no_buffers = d.rx_no_buffers,
		.interrupts = d.interrupts, .rx_large = d.rx_large, .tx_csum = d.tx_csum,
		.tx_tso = d.tx_tso, .tx_tso_max = d.tx_tso_max, .bytes_copied = d.bytes_copied,
		.tx_invalid = d.tx_invalid, .device_resets = d.device_resets,
		.link_changes = d.link_changes, .tx_stalls = d.tx_stalls,
	};
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
limpet_net_ip6_drops(struct limpet_net_ip6_drops *d)
{
	d->fragments = ip6_guard_stats.fragments;
	d->overlaps = ip6_guard_stats.overlaps;
	d->duplicates = ip6_guard_stats.duplicates;
	d->na_ours = ip6_guard_stats.na_ours;
	d->ptb_mtu = ip6_guard_stats.ptb_mtu;
	d->nd_options = ip6_guard_stats.nd_options;
}

void
limpet_net_tcp_lookup(uint64_t *syns_fast, uint64_t *moves, uint64_t *walks)
{
	*syns_fast = tcp_lookup_stats.syns_fast;
	*moves = tcp_lookup_stats.moves;
	*walks = tcp_lookup_stats.walks;
}

enum limpet_result
limpet_net_rx_held(uint32_t *held)
{
	uint32_t total, nfree;

	if (dev == NULL)
		return LIMPET_ENOTSUP;
	netdev_netif_rx_buffers(&total, &nfree);
	*held = total - nfree - netdev_netif_rx_posted();
	return LIMPET_OK;
}

enum limpet_result
limpet_net_rx_backlog(uint32_t *now, uint32_t *max)
{
	if (dev == NULL)
		return LIMPET_ENOTSUP;
	netdev_netif_rx_backlog(now, max);
	return LIMPET_OK;
}

enum limpet_result
limpet_net_rx_buffers(uint32_t *total, uint32_t *nfree)
{
	if (dev == NULL)
		return LIMPET_ENOTSUP;
	netdev_netif_rx_buffers(total, nfree);
	return LIMPET_OK;
}

unsigned
limpet_tcp_capacity(void)
{
	return dev != NULL ? net_tcp_capacity() : 0;
}
