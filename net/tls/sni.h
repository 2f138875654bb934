/*
 * Matching the name a TLS client asks for (SNI, RFC 6066 3) against the
 * names a certificate is for (RFC 6125 6.4): pure C, no mbedTLS, so that
 * tests/unit/test_sni.c runs it on the host.
 */
#ifndef NET_TLS_SNI_H
#define NET_TLS_SNI_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether host (len bytes, not NUL-terminated, as the client sent it)
 * matches pattern (len bytes), a DNS name from a certificate: equal but
 * for ASCII case, or pattern is "*." followed by a name of at least two
 * labels and host is one more label (not empty, no '*') followed by that
 * name.  A trailing dot on host is ignored.  Names with NUL bytes, empty
 * labels or a '*' anywhere else never match.
 */
bool	sni_name_matches(const char *pattern, size_t plen, const char *host, size_t hlen);

#endif
