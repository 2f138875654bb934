/*
 * lwIP's system glue with NO_SYS=1: a millisecond clock and a random
 * source.  Nothing needs protecting: lwIP is only ever called from the
 * event loop (SYS_LIGHTWEIGHT_PROT=0).
 */
#include <stdint.h>

#include <cpuid.h>

#include <limpet.h>
#include <lwip/sys.h>

/* Milliseconds since boot; lwIP's timeouts compare them modulo 2^32. */
u32_t
sys_now(void)
{
	return (u32_t)(limpet_now_ns() / LIMPET_MS);
}

static int has_rdrand = -1;

/*
 * 32 random bits for TCP initial sequence numbers, ephemeral ports and
 * DHCP transaction ids: RDRAND where the CPU has it (CPUID.1:ECX[30]),
 * else the TSC mixed through a xorshift generator (unpredictable enough
 * to avoid colliding with an earlier boot's connections, which is what
 * the ISN is for here).
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
