/*
 * X25519 (RFC 7748, 5): the Diffie-Hellman function on Curve25519 that
 * TLS's x25519 group uses (RFC 8422, 5.11), in constant time, with field
 * arithmetic of our own instead of mbedTLS's general bignum code, which
 * made it the largest part of a full handshake.  net/tls/ecdh_alt.c hands
 * mbedTLS's ECDH calls for Curve25519 to it.
 *
 * Pure computation: no allocation, no global state; callable from anywhere.
 */
#ifndef LIMPET_X25519_H
#define LIMPET_X25519_H

#include <stdint.h>

/* Every X25519 value (scalar, u-coordinate, result) is 32 bytes,
 * little-endian (RFC 7748, 5). */
#define X25519_BYTES	32

/*
 * out = X25519(scalar, u): the u-coordinate of scalar times the point
 * whose u-coordinate is u.  The scalar is clamped as RFC 7748 5 says
 * (bits 0-2 and 255 cleared, bit 254 set; a scalar mbedTLS generated is
 * already clamped), u's top bit is ignored and a u of p or more is taken
 * mod p.  out is always the canonical encoding (less than p).  out may be
 * the same buffer as scalar or u.
 *
 * Returns 0, or -EINVAL when the result is all zeros: u was a point of
 * small order (0 and 1 among them), which only a misbehaving peer sends.
 * RFC 7748 6.1 lets a protocol check for this; a TLS server must not use
 * such a secret, which the peer could predict.  out is still written.
 */
int	limpet_x25519(uint8_t out[X25519_BYTES], const uint8_t scalar[X25519_BYTES],
	    const uint8_t u[X25519_BYTES]);

/* out = X25519(scalar, 9): the public key for a private scalar (9 is the
 * u-coordinate of Curve25519's base point, RFC 7748 4.1). */
int	limpet_x25519_base(uint8_t out[X25519_BYTES], const uint8_t scalar[X25519_BYTES]);

#endif /* LIMPET_X25519_H */
