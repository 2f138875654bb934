/*
 * The IPv6 input guard (LWIP_HOOK_IP6_INPUT, before lwIP reads a packet):
 * drops the packets that lwIP 2.1.3, which we configure but do not
 * change, would mishandle.  The hostile battery (tests/hostile6.py) found
 * each of them:
 *
 * - A fragment whose datagram is itself a fragment, or starts with an
 *   extension header.  After reassembly ip6_input() goes on through the
 *   datagram's headers without updating ip_data.current_ip6_header, so a
 *   Fragment header inside it is reassembled against the header of the
 *   packet that completed the outer datagram: an assertion in a debug
 *   build, a memmove of a length computed across two receive buffers in
 *   a release one.  RFC 8200 allows extension headers after a Fragment
 *   header, but nobody sends them (RFC 7112 lets a host drop first
 *   fragments without the whole header chain).
 * - Fragments of one datagram that disagree on the next header: lwIP
 *   takes the datagram's from whichever fragment came first, so a
 *   fragment saying ICMPv6 could make ICMPv6 of bytes that the first
 *   fragment, which this guard checks, said were UDP.
 * - Fragments that overlap (RFC 5722): lwIP drops only the overlapping
 *   one and completes the datagram from the rest, so which bytes it is
 *   made of depends on the order they came in; the whole datagram goes.
 * - ICMPv6 in fragments other than echo: error messages fit in 1280
 *   bytes (RFC 4443 2.4 c) and neighbour discovery must not be
 *   fragmented (RFC 6980); both are checked below only whole.
 * - A neighbour advertisement for one of our addresses once duplicate
 *   address detection has passed: lwIP marks the address duplicated,
 *   which aborts every connection on it and leaves it unusable.  RFC
 *   4862 5.4.4 says DAD fails only for a tentative address.
 * - Packet too big with an MTU below 1280: lwIP sets the path MTU to
 *   it, and ip6_frag() then cuts fragments of (MTU - 48) & ~7 bytes, a
 *   16-bit wrap for an MTU below 48 (fragments of 64 KiB, which the link
 *   drops: the battery saw the guest stop answering the peer after an
 *   MTU of 1) and none at all for 48 to 55, a loop that never ends.  And
 *   one at or above the link's MTU: lwIP takes the path MTU from it
 *   without the link's bound, and sends larger datagrams whole, which the
 *   link drops.  RFC 8201 4: the path MTU stays at 1280 or above and a
 *   packet too big never raises it.
 * - Neighbour discovery options of length zero, which lwIP reads as a
 *   link-layer address past the option; RFC 4861 4.6 says drop the packet.
 */

#include <stdint.h>
#include <string.h>

#include <lwip/ip6.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/prot/ip6.h>

#include "lwip_hooks.h"

struct ip6_guard_stats ip6_guard_stats;

/* ICMPv6 types (RFC 4443, 4861). */
#define PTB		2
#define ECHO_REQUEST	128
#define ECHO_REPLY	129
#define RS		133
#define REDIRECT	137
#define NA		136
#define MIN_MTU		1280

/*
 * Each datagram in reassembly, as its fragments so far said: its next
 * header (the first fragment to arrive says it) and the byte ranges
 * they held.  lwIP holds at most MEMP_NUM_REASSDATA datagrams and
 * replaces the oldest first; twice as many entries here, also replaced
 * oldest first, outlive lwIP's.  FRAG_RANGES fragments cover a 64 KiB
 * datagram at IPv6's smallest MTU (1280: 52 of them); a datagram in more
 * is refused.
 */
#define FRAG_SEEN	(2 * MEMP_NUM_REASSDATA)
#define FRAG_RANGES	64
static struct {
	uint8_t		src[16], dst[16];
	uint32_t	id;
	uint8_t		nexth, used, poisoned, nranges;
	struct {
		uint32_t	start, end;
	} range[FRAG_RANGES];
} seen[FRAG_SEEN];
static unsigned seen_next;

/*
 * Whether the fragment with id from the packet's addresses, holding bytes
 * [start, end) of its datagram, may go on to lwIP: it agrees on its next
 * header with the fragments of its datagram seen before, and overlaps
 * none of them.  RFC 5722: when fragments overlap, the whole datagram is
 * discarded, those still to come too; lwIP alone drops only the
 * overlapping fragment and answers the rest.  The datagram is marked, its
 * fragments from then on dropped, so it never completes and lwIP lets
 * what it holds of it go after IPV6_REASS_MAXAGE.  An exact duplicate of
 * an earlier fragment is dropped alone (as Linux does): it says nothing
 * new.
 */
static int
frag_ok(const uint8_t *ip6, uint32_t id, uint8_t nexth, uint32_t start, uint32_t end)
{
	unsigned i;

	for (i = 0; i < FRAG_SEEN; i++)
		if (seen[i].used && seen[i].id == id && memcmp(seen[i].src, ip6 + 8, 16) == 0 &&
		    memcmp(seen[i].dst, ip6 + 24, 16) == 0)
			break;
	if (i == FRAG_SEEN) {
		i = seen_next++ % FRAG_SEEN;
		memcpy(seen[i].src, ip6 + 8, 16);
		memcpy(seen[i].dst, ip6 + 24, 16);
		seen[i].id = id;
		seen[i].nexth = nexth;
		seen[i].used = 1;
		seen[i].poisoned = 0;
		seen[i].nranges = 0;
	}
	if (seen[i].poisoned || seen[i].nexth != nexth)
		return 0;
	for (unsigned k = 0; k < seen[i].nranges; k++) {
		if (seen[i].range[k].start == start && seen[i].range[k].end == end) {
			ip6_guard_stats.duplicates++;
			return 0;
		}
		if (start < seen[i].range[k].end && seen[i].range[k].start < end) {
			seen[i].poisoned = 1;
			ip6_guard_stats.overlaps++;
			return 0;
		}
	}
	if (seen[i].nranges == FRAG_RANGES) {
		seen[i].poisoned = 1;
		return 0;
	}
	seen[i].range[seen[i].nranges].start = start;
	seen[i].range[seen[i].nranges].end = end;
	seen[i].nranges++;
	return 1;
}

static int
ext_header(uint8_t nh)
{
	return nh == IP6_NEXTH_HOPBYHOP || nh == IP6_NEXTH_ROUTING ||
	    nh == IP6_NEXTH_FRAGMENT || nh == IP6_NEXTH_DESTOPTS;
}

/* Whether target (16 bytes) is one of inp's addresses past DAD. */
static int
ours_ready(struct netif *inp, const uint8_t *target)
{
	for (s8_t i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
		if (ip6_addr_isvalid(netif_ip6_addr_state(inp, i)) &&
		    memcmp(netif_ip6_addr(inp, i)->addr, target, 16) == 0)
			return 1;
	return 0;
}

/* 1 to drop the ICMPv6 message m of len bytes (whole, not a fragment). */
static int
icmp6_bad(struct netif *inp, const uint8_t *m, unsigned len)
{
	/* The fixed part of each neighbour discovery message, before its
	 * options (RFC 4861 4.1 to 4.5). */
	static const uint8_t fixed[] = { 8, 16, 24, 24, 40 };

	if (len < 8)
		return 0;	/* lwIP drops it */
	if (m[0] == PTB) {
		uint32_t mtu = (uint32_t)m[4] << 24 | m[5] << 16 | m[6] << 8 | m[7];

		if (mtu < MIN_MTU || mtu >= inp->mtu6) {
			ip6_guard_stats.ptb_mtu++;
			return 1;
		}
		return 0;
	}
	if (m[0] < RS || m[0] > REDIRECT)
		return 0;
	if (m[0] == NA && len >= 24 && ours_ready(inp, m + 8)) {
		ip6_guard_stats.na_ours++;
		return 1;
	}
	for (unsigned off = fixed[m[0] - RS]; off + 2 <= len; off += 8u * m[off + 1])
		if (m[off + 1] == 0) {
			ip6_guard_stats.nd_options++;
			return 1;
		}
	return 0;
}

int
ip6_input_hook(struct pbuf *p, struct netif *inp)
{
	if (tcp_lookup_busy())
		return 0;	/* the index's own ip6_input(): checked already */
	return ip6_guard_input(p, inp) || tcp_lookup_hook(p, inp);
}

int
ip6_guard_input(struct pbuf *p, struct netif *inp)
{
	const uint8_t *b = p->payload;
	unsigned end, plen_end, off = IP6_HLEN, fragment = 0;
	uint8_t nh;

	if (p->len < IP6_HLEN)
		return 0;	/* lwIP drops it */
	end = plen_end = IP6_HLEN + ((unsigned)b[4] << 8 | b[5]);
	if (end > p->len)
		end = p->len;	/* lwIP drops a short one; checks stay inside */
	nh = b[6];
	for (;;) {
		switch (nh) {
		case IP6_NEXTH_HOPBYHOP:
		case IP6_NEXTH_DESTOPTS:
		case IP6_NEXTH_ROUTING:
			if (off + 8 > end)
				return 0;
			nh = b[off];
			off += 8u * (1 + b[off + 1]);
			continue;
		case IP6_NEXTH_FRAGMENT: {
			unsigned offset_m;
			uint32_t id;

			if (off + 8 > end)
				return 0;
			nh = b[off];
			offset_m = (unsigned)b[off + 2] << 8 | b[off + 3];
			id = (uint32_t)b[off + 4] << 24 | b[off + 5] << 16 | b[off + 6] << 8 | b[off + 7];
			off += 8;
			fragment = 1;
			if ((offset_m & 0xfff9) == 0)
				continue;	/* atomic (RFC 6946): processed whole, in place */
			if (ext_header(nh)) {
				ip6_guard_stats.fragments++;
				goto drop;
			}
			/* The fragment's bytes of its datagram, by its declared
			 * length (lwIP's reassembly goes by that too). */
			if (!frag_ok(b, id, nh, offset_m & 0xfff8,
			    (offset_m & 0xfff8) + (plen_end - off))) {
				ip6_guard_stats.fragments++;
				goto drop;
			}
			if ((offset_m & 0xfff8) != 0)
				return 0;	/* the rest of the checks are the first fragment's */
			if (nh == IP6_NEXTH_ICMP6 && off < end &&
			    b[off] != ECHO_REQUEST && b[off] != ECHO_REPLY) {
				ip6_guard_stats.fragments++;
				goto drop;
			}
			return 0;
		}
		case IP6_NEXTH_ICMP6:
			if (off >= end)
				return 0;
			if (fragment && b[off] >= RS && b[off] <= REDIRECT) {
				ip6_guard_stats.fragments++;	/* RFC 6980, atomic ones too */
				goto drop;
			}
			if (icmp6_bad(inp, b + off, end - off))
				goto drop;
			return 0;
		default:
			return 0;
		}
	}
drop:
	pbuf_free(p);
	return 1;
}
