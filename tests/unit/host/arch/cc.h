/*
 * lwIP's compiler and platform glue for the host unit tests that build
 * lwIP's core with the project's lwipopts.h (net/port/include): the
 * guest's net/port/include/arch/cc.h made for glibc instead of newlib.
 * A test puts tests/unit/host before net/port/include on its include
 * path ("// unit-include:"), so that lwIP's "arch/cc.h" is this one.
 * Diagnostics go to kprintf() and assertions to panic(), which the test's
 * stubs turn into a failed test.
 */
#ifndef LIMPET_LWIP_HOST_CC_H
#define LIMPET_LWIP_HOST_CC_H

/* lwIP's arch.h has just defined LITTLE_ENDIAN and BIG_ENDIAN, which
 * glibc's <endian.h> spells differently; let glibc's own them, as the
 * guest's cc.h lets newlib's. */
#ifndef _ENDIAN_H
#undef LITTLE_ENDIAN
#undef BIG_ENDIAN
#include <endian.h>
#endif

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#if !defined(BYTE_ORDER) || BYTE_ORDER != LITTLE_ENDIAN
#error "expected a little-endian host"
#endif
#define lwip_htons(x)	((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x)	((u32_t)__builtin_bswap32((u32_t)(x)))

/* The formats the kernel's kprintf() knows, as in the guest. */
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

#define LWIP_PLATFORM_DIAG(x)	do { kprintf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x)	\
	panic("lwIP assertion \"%s\" failed at %s:%d", (x), __FILE__, __LINE__)
#define LWIP_RAND()	limpet_lwip_rand()

#endif
