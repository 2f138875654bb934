/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed 64-bit hash that an attacker who does not know the key
 * cannot predict from other outputs.  lwIP's glue uses it for TCP initial
 * sequence numbers (RFC 6528).
 */
#ifndef NET_SIPHASH_H
#define NET_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The hash of in[0..len) under the 128-bit key k[0..16). */
uint64_t	siphash24(const uint8_t k[16], const void *in, size_t len);

#endif
