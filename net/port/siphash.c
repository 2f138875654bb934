/*
 * SipHash-2-4, from the description in its paper (section 2): four 64-bit
 * words of state initialised from the key, two rounds of SipRound per
 * 8-byte little-endian message word, the last word padded with zeros and
 * the message length in its top byte, then four rounds after marking the
 * end.  Pure C, no lwIP or kernel types, so that the host unit tests can
 * check it against the paper's vectors.
 */
#include <string.h>

#include "siphash.h"

static uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/* Limpet's targets are x86_64, little-endian like SipHash's words. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "SipHash reads little-endian words");

static uint64_t
load_le64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return x;
}

/* One SipRound over the state v[0..4). */
static void
sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

/* Absorb the message word m: c = 2 rounds. */
static void
compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
}

uint64_t
siphash24(const uint8_t k[16], const void *in, size_t len)
{
	const uint8_t *p = in;
	uint64_t k0 = load_le64(k), k1 = load_le64(k + 8), last;
	/* "somepseudorandomlygeneratedbytes", the paper's constants. */
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
		k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL,
	};
	size_t left;

	for (left = len; left >= 8; left -= 8, p += 8)
		compress(v, load_le64(p));
	last = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < left; i++)
		last |= (uint64_t)p[i] << (8 * i);
	compress(v, last);
	/* Finalisation: d = 4 rounds. */
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
