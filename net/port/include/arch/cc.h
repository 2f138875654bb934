/*
 * lwIP's compiler and platform glue for Limpet (see lwIP's
 * doc/doxygen/main_page.h, "Porting"): types come from newlib's <stdint.h>,
 * diagnostics go to the kernel console, assertions panic, byte swaps are
 * compiler built-ins, and randomness comes from RDRAND or the TSC.
 */
#ifndef LIMPET_LWIP_ARCH_CC_H
#define LIMPET_LWIP_ARCH_CC_H

/* lwIP's arch.h has just defined LITTLE_ENDIAN and BIG_ENDIAN with the
 * values newlib's <machine/endian.h> uses, but spelt differently, so
 * whichever came second would warn.  Let newlib's (include-guarded)
 * header own them, in every order of inclusion. */
#ifndef __MACHINE_ENDIAN_H__	/* newlib's include guard */
#undef LITTLE_ENDIAN
#undef BIG_ENDIAN
#include <machine/endian.h>
#endif

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

/* newlib's <sys/types.h> has ssize_t; saying so keeps lwIP from
 * declaring its own (as int, which would clash). */
#ifndef SSIZE_MAX
#define SSIZE_MAX	LONG_MAX
#endif

/* x86_64 is little-endian, as newlib's <machine/endian.h> (through
 * <sys/types.h>) tells lwIP; let the compiler emit BSWAP/ROL. */
#if !defined(BYTE_ORDER) || BYTE_ORDER != LITTLE_ENDIAN
#error "expected newlib's BYTE_ORDER == LITTLE_ENDIAN"
#endif
#define lwip_htons(x)	((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x)	((u32_t)__builtin_bswap32((u32_t)(x)))

/* kprintf() knows d, u, x and the l, ll, z flags but not h, so the
 * formats lwIP's diagnostics use are spelt out here instead of taken
 * from <inttypes.h>.  (u32_t is unsigned int on x86_64.) */
#define X8_F	"02x"
#define U16_F	"u"
#define S16_F	"d"
#define X16_F	"x"
#define U32_F	"u"
#define S32_F	"d"
#define X32_F	"x"
#define SZT_F	"zu"

int	kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
uint32_t limpet_lwip_rand(void);

/* LWIP_PLATFORM_DIAG(("fmt", args)): one parenthesised printf list. */
#define LWIP_PLATFORM_DIAG(x)	do { kprintf x; } while (0)
/* An lwIP assertion is a broken invariant in the stack: stop the VM. */
#define LWIP_PLATFORM_ASSERT(x)	\
	panic("lwIP assertion \"%s\" failed at %s:%d", (x), __FILE__, __LINE__)

/* TCP initial sequence numbers, local ports, DHCP transaction ids. */
#define LWIP_RAND()	limpet_lwip_rand()

#endif
