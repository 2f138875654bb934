/*
 * Addresses as text, strictly (net/addr_text.c).  Each returns 0, or -1
 * for anything that is not exactly one address of its form.
 */
#ifndef NET_ADDR_TEXT_H
#define NET_ADDR_TEXT_H

#include <stdint.h>

/* "10.0.5.3": four decimal numbers 0..255. */
int	addr4_parse(const char *s, uint8_t out[4]);
/* "fd00:5::3", "::ffff:10.0.5.3": RFC 4291 2.2's text forms. */
int	addr6_parse(const char *s, uint8_t out[16]);
/* "fd00:5::3/64": an address and a prefix length 0..128. */
int	addr6_parse_prefix(const char *s, uint8_t out[16], unsigned *len);
/* Whether a and b agree in their first len bits. */
int	addr6_same_prefix(const uint8_t a[16], const uint8_t b[16], unsigned len);

#endif
