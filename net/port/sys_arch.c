/*
 * lwIP's system glue with NO_SYS=1: a millisecond clock and a random
 * source.  Nothing needs protecting: lwIP is only ever called from the
 * event loop (SYS_LIGHTWEIGHT_PROT=0).
 */
#include <stdint.h>
#include <string.h>

#include <cpuid.h>

#include <limpet.h>
#include <lwip/ip_addr.h>
#include <lwip/sys.h>

#include "lwip_hooks.h"
#include "siphash.h"

/* Milliseconds since boot; lwIP's timeouts compare them modulo 2^32. */
u32_t
sys_now(void)
{
	return (u32_t)(limpet_now_ns() / LIMPET_MS);
}

static int has_rdrand = -1;

/*
 * 32 random bits for ephemeral ports, DHCP transaction ids and the key of
 * TCP's initial sequence numbers: RDRAND where the CPU has it
 * (CPUID.1:ECX[30]), else the TSC mixed through a xorshift generator
 * (different on every boot, but guessable by someone who can time it).
 */
u32_t
limpet_lwip_rand(void)
{
	static uint64_t state;
	unsigned int a, b, c, d;

	if (has_rdrand < 0)
		has_rdrand = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_RDRND) != 0;
	if (has_rdrand) {
		/* RDRAND may fail transiently; the SDM suggests 10 tries. */
		for (int i = 0; i < 10; i++) {
			uint32_t r;
			uint8_t ok;

			__asm__ volatile("rdrand %0; setc %1" : "=r"(r), "=qm"(ok) : : "cc");
			if (ok)
				return r;
		}
	}
	state ^= __builtin_ia32_rdtsc() * 0x9e3779b97f4a7c15ULL;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (u32_t)(state >> 32);
}

/*
 * TCP initial sequence numbers (LWIP_HOOK_TCP_ISN) as RFC 6528 3 makes
 * them: ISN = M + F(local address and port, remote address and port, key),
 * M a clock that ticks every 4 microseconds, F SipHash-2-4 under 128 bits
 * drawn from limpet_lwip_rand() on first use.  lwIP's own ISN (6510 plus
 * its slow timer's ticks) is the same for every connection, so anyone
 * could guess a connection's sequence numbers and inject or reset it; and
 * it starts a reused address and port pair over in the old connection's
 * sequence space, where M moves on.
 */
/* An address into tuple at n: its 4 or 16 bytes.  Both ends of a
 * connection are of one family, so the lengths tell them apart. */
static size_t
tuple_addr(uint8_t *tuple, size_t n, const ip_addr_t *ip)
{
	if (IP_IS_V6(ip)) {
		memcpy(tuple + n, ip_2_ip6(ip)->addr, 16);
		return n + 16;
	}
	memcpy(tuple + n, &ip_2_ip4(ip)->addr, 4);
	return n + 4;
}

u32_t
limpet_tcp_isn(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip,
    u16_t remote_port)
{
	static uint8_t key[16];
	static int keyed;
	uint8_t tuple[2 * 16 + 4];
	size_t n = 0;
	uint32_t a;

	if (!keyed) {
		for (int i = 0; i < 16; i += 4) {
			a = limpet_lwip_rand();
			memcpy(key + i, &a, 4);
		}
		keyed = 1;
	}
	n = tuple_addr(tuple, n, local_ip);
	n = tuple_addr(tuple, n, remote_ip);
	memcpy(tuple + n, &local_port, 2);
	memcpy(tuple + n + 2, &remote_port, 2);
	return (u32_t)(limpet_now_ns() / 4000) + (u32_t)siphash24(key, tuple, n + 4);
}
