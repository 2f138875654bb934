/*
 * mbedTLS 2.28's configuration for Limpet, selected by the build with
 * -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"' in place of mbedTLS's own
 * config.h.  It starts from nothing: only what a TLS 1.2 web server needs
 * is enabled, every option with the reason.  mbedTLS checks the result
 * itself (mbedtls/check_config.h, included at the end); the last section
 * rejects combinations Limpet does not support.
 *
 * What a client can negotiate: TLS 1.2 only; ECDHE key exchange over
 * X25519 or P-256, authenticated by an ECDSA (P-256) or RSA certificate;
 * AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305.  Nothing else is compiled
 * in, so nothing else can be negotiated whatever the service configures.
 *
 * Memory per connection (tests/guest/test_tls prints the figures):
 *   - the record buffers mbedtls_ssl_setup() allocates from newlib's heap:
 *     16429 bytes in (MBEDTLS_SSL_IN_CONTENT_LEN 16 KiB + header, IV, MAC
 *     and padding room) + 4141 bytes out (MBEDTLS_SSL_OUT_CONTENT_LEN
 *     4 KiB + the same), 20570 bytes, against 33 KiB with mbedTLS's
 *     defaults;
 *   - the mbedtls_ssl_context, 368 bytes, inside lwIP's altcp state (lwIP's
 *     heap, MEM_SIZE), and a session and transform (~0.5 KiB) from newlib;
 *   - while the handshake runs only: its state (hash contexts, ECDHE and
 *     signature temporaries), a few KiB more, freed when it ends.
 * Shared by all connections: the parsed certificate and key, the DRBG and
 * entropy pool, the ticket keys.
 */
#ifndef LIMPET_MBEDTLS_CONFIG_H
#define LIMPET_MBEDTLS_CONFIG_H

/* ---- system support ------------------------------------------------------ */

/** MBEDTLS_HAVE_ASM: x86_64 inline assembly for bignum multiplication (RSA
 * and ECC are several times faster). */
#define MBEDTLS_HAVE_ASM
/** MBEDTLS_AESNI_C: AES-NI where CPUID says the CPU has it (detected at run
 * time; the table implementation otherwise). */
#define MBEDTLS_AESNI_C
/** MBEDTLS_HAVE_TIME: time() from newlib; the kernel's gettimeofday() reads
 * the RTC once and then counts with the TSC.  Session tickets expire by it. */
#define MBEDTLS_HAVE_TIME
/** MBEDTLS_HAVE_TIME_DATE: gmtime_r() from newlib, for certificate validity
 * dates (the RTC gives real wall-clock time). */
#define MBEDTLS_HAVE_TIME_DATE
/** MBEDTLS_NO_PLATFORM_ENTROPY: there is no /dev/urandom or getrandom(). */
#define MBEDTLS_NO_PLATFORM_ENTROPY
/** MBEDTLS_ENTROPY_HARDWARE_ALT: mbedtls_hardware_poll() (net/tls/
 * tls_entropy.c, from the CPU's RDSEED/RDRAND) is the entropy source, which
 * mbedtls_entropy_init() registers as STRONG in every entropy context,
 * lwIP's altcp_tls_mbedtls.c's included. */
#define MBEDTLS_ENTROPY_HARDWARE_ALT
/* MBEDTLS_PLATFORM_C, MBEDTLS_PLATFORM_MEMORY: off: mbedTLS calls newlib's
 * calloc/free and printf directly.  With MBEDTLS_PLATFORM_MEMORY, lwIP's
 * altcp_tls_mbedtls_mem.c would move every mbedTLS allocation into lwIP's
 * heap (MEM_SIZE), which 20 KiB of record buffers per connection would
 * exhaust. */
/* MBEDTLS_FS_IO, MBEDTLS_NET_C, MBEDTLS_TIMING_C: off: no files, no BSD
 * sockets (lwIP's altcp moves the records), no POSIX timers (TLS needs
 * timers only for DTLS). */

/* ---- TLS ----------------------------------------------------------------- */

/** MBEDTLS_SSL_TLS_C: the TLS record and handshake layers. */
#define MBEDTLS_SSL_TLS_C
/** MBEDTLS_SSL_SRV_C: the server side; Limpet's services do not connect out
 * over TLS, so the client side is not built. */
#define MBEDTLS_SSL_SRV_C
/** MBEDTLS_SSL_PROTO_TLS1_2: TLS 1.2, the only version: SSL 3.0, TLS 1.0
 * and 1.1 are deprecated (RFC 8996) and not compiled in. */
#define MBEDTLS_SSL_PROTO_TLS1_2
/** MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED: forward-secret key exchange
 * with an ECDSA certificate (the development certificate is P-256 ECDSA). */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
/** MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED: the same with an RSA certificate,
 * which most CAs still issue.  Static RSA, DHE and PSK stay off. */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
/** MBEDTLS_SSL_CIPHERSUITES: the suites offered, strongest first; every one
 * is AEAD and forward-secret (no CBC, RC4, 3DES or SHA-1 MAC suites). */
#define MBEDTLS_SSL_CIPHERSUITES					\
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,		\
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,		\
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,		\
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,			\
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,		\
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
/** MBEDTLS_SSL_SESSION_TICKETS: resumption without server-side state
 * (RFC 5077): a returning client skips the ECDHE and signature work. */
#define MBEDTLS_SSL_SESSION_TICKETS
/** MBEDTLS_SSL_TICKET_C: the ticket keys (AES-256-GCM, rotated by time). */
#define MBEDTLS_SSL_TICKET_C
/** MBEDTLS_SSL_EXTENDED_MASTER_SECRET: RFC 7627, against the triple
 * handshake attack; clients expect it. */
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
/** MBEDTLS_SSL_MAX_FRAGMENT_LENGTH: RFC 6066: a client that asks gets
 * records no larger than it can take (and we send smaller ones anyway). */
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
/** MBEDTLS_SSL_IN_CONTENT_LEN: the receive buffer must hold the largest
 * record a client may send, 16 KiB (RFC 5246, 6.2.1): browsers and curl
 * do not negotiate a smaller maximum fragment length, so a smaller buffer
 * would fail their large requests. */
#define MBEDTLS_SSL_IN_CONTENT_LEN	16384
/** MBEDTLS_SSL_OUT_CONTENT_LEN: the server chooses the size of the records
 * it sends: 4 KiB records save 12 KiB per connection, and a 4 KiB record
 * is still ~3 TCP segments, so the per-record overhead (29 bytes for GCM)
 * stays under 1%.  It must hold the server's handshake flight up to the
 * certificate chain: 4 KiB takes a P-256 or RSA-2048 leaf plus one
 * intermediate (a longer chain needs more; mbedTLS then fails the
 * handshake with MBEDTLS_ERR_SSL_BAD_INPUT_DATA). */
#define MBEDTLS_SSL_OUT_CONTENT_LEN	4096
/** MBEDTLS_SSL_ALL_ALERT_MESSAGES: tell the client why a handshake failed. */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
/* Off: renegotiation (attack surface, not needed for HTTP), SNI and ALPN
 * (lwIP 2.1.3's altcp_tls has no way to set their callbacks), DTLS, the
 * SSLv2 ClientHello, truncated HMAC, CBC record splitting, encrypt-then-MAC
 * (CBC only), session cache (tickets instead). */

/* ---- ciphers and hashes ------------------------------------------------- */

/** MBEDTLS_CIPHER_C: the generic cipher layer TLS uses. */
#define MBEDTLS_CIPHER_C
/** MBEDTLS_AES_C: AES, for the GCM suites, CTR_DRBG and the tickets. */
#define MBEDTLS_AES_C
/** MBEDTLS_GCM_C: AES-GCM. */
#define MBEDTLS_GCM_C
/** MBEDTLS_CHACHA20_C, MBEDTLS_POLY1305_C, MBEDTLS_CHACHAPOLY_C:
 * ChaCha20-Poly1305 (RFC 7905), fast where AES-NI is not. */
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
/** MBEDTLS_MD_C: the generic hash layer (TLS PRF, signatures). */
#define MBEDTLS_MD_C
/** MBEDTLS_SHA256_C: SHA-256: the PRF of most suites, signatures. */
#define MBEDTLS_SHA256_C
/** MBEDTLS_SHA512_C: SHA-384 for the AES-256-GCM suites' PRF, and SHA-512
 * for the entropy pool. */
#define MBEDTLS_SHA512_C
/* MD5 and SHA-1: off: TLS 1.2 needs neither (no SHA-1 suites), nor do
 * unencrypted PEM keys. */

/* ---- public keys --------------------------------------------------------- */

/** MBEDTLS_BIGNUM_C: multi-precision integers for RSA and ECC. */
#define MBEDTLS_BIGNUM_C
/** MBEDTLS_ECP_C: elliptic curves ... */
#define MBEDTLS_ECP_C
/** MBEDTLS_ECP_DP_SECP256R1_ENABLED: ... P-256, for ECDSA certificates and
 * ECDHE with clients that lack X25519 ... */
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
/** MBEDTLS_ECP_DP_CURVE25519_ENABLED: ... and X25519 for ECDHE (RFC 8422),
 * which every current client offers first.  No other curve is built. */
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
/** MBEDTLS_ECP_NIST_OPTIM: fast reduction modulo the P-256 prime. */
#define MBEDTLS_ECP_NIST_OPTIM
/* MBEDTLS_ECP_WINDOW_SIZE: mbedTLS's default, 4.  A larger one would only
 * speed up mbedTLS's own multiplications, which a handshake no longer
 * runs: P-256 signatures, key pairs and shared secrets are our own code's
 * (net/tls/p256.c, below); only ECDSA verification (of a client's
 * certificate) is left to mbedTLS. */
/** MBEDTLS_ECDH_C: the ECDHE key exchange. */
#define MBEDTLS_ECDH_C
/** MBEDTLS_ECDH_GEN_PUBLIC_ALT, MBEDTLS_ECDH_COMPUTE_SHARED_ALT: the two
 * ECDH primitives come from net/tls/ecdh_alt.c, which does X25519 with our
 * own field arithmetic (net/tls/x25519.c), and P-256 with our own code
 * (net/tls/p256.c): key pairs with its fixed-base comb, shared secrets
 * with its constant-time variable-base multiplication, after the checks
 * of the client's point (on the curve, coordinates below p, not the point
 * at infinity) that mbedTLS's TLS layer leaves to mbedtls_ecp_mul().
 * mbedTLS's generic bignum code made X25519 about 23 ms of a full
 * handshake's 38 under TCG, and the P-256 shared secret about 11 ms of
 * mbedTLS's 13 (test_tls prints ours and mbedTLS's).  (Incompatible with
 * MBEDTLS_ECP_RESTARTABLE, which stays off.) */
#define MBEDTLS_ECDH_GEN_PUBLIC_ALT
#define MBEDTLS_ECDH_COMPUTE_SHARED_ALT
/** MBEDTLS_ECDSA_C: ECDSA signatures for ECDHE_ECDSA. */
#define MBEDTLS_ECDSA_C
/** MBEDTLS_ECDSA_SIGN_ALT: mbedtls_ecdsa_sign() comes from net/tls/
 * ecdsa_alt.c, which signs with P-256 code of our own (net/tls/p256.c):
 * mbedTLS's bignum comb took about 4 ms of a full ECDHE_ECDSA handshake
 * under TCG.  Verification stays mbedTLS's. */
#define MBEDTLS_ECDSA_SIGN_ALT
/** MBEDTLS_ECDSA_DETERMINISTIC, MBEDTLS_HMAC_DRBG_C: signatures take k
 * from the key and the hash (RFC 6979: an HMAC_DRBG seeded with both),
 * not from the random generator.  A stuck hardware RNG, or two VMs
 * cloned from one snapshot with the same DRBG state, would otherwise
 * sign two hashes with one k and give the key away. */
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_HMAC_DRBG_C
/** MBEDTLS_RSA_C, MBEDTLS_PKCS1_V15: RSA signatures for ECDHE_RSA (TLS 1.2
 * signs the key exchange with PKCS#1 v1.5). */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
/** MBEDTLS_PK_C, MBEDTLS_PK_PARSE_C: the key abstraction, and parsing the
 * private key (PKCS#8 or SEC1/PKCS#1, unencrypted). */
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
/** MBEDTLS_ASN1_PARSE_C, MBEDTLS_ASN1_WRITE_C, MBEDTLS_OID_C: DER, for
 * certificates, keys and ECDSA signatures. */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
/** MBEDTLS_X509_USE_C, MBEDTLS_X509_CRT_PARSE_C: parse the server's
 * certificate (chain) to send it. */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
/** MBEDTLS_PEM_PARSE_C, MBEDTLS_BASE64_C: the certificate and key are
 * embedded as PEM, as openssl writes them. */
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_BASE64_C

/* ---- random numbers ------------------------------------------------------ */

/** MBEDTLS_ENTROPY_C: the entropy pool, fed by mbedtls_hardware_poll(). */
#define MBEDTLS_ENTROPY_C
/** MBEDTLS_CTR_DRBG_C: the DRBG (NIST SP 800-90A, AES-256) seeded from the
 * pool; it makes every random number TLS uses. */
#define MBEDTLS_CTR_DRBG_C

/* ---- diagnostics --------------------------------------------------------- */

/** MBEDTLS_ERROR_C: mbedtls_strerror(), so logs name errors rather than
 * print negative hex. */
#define MBEDTLS_ERROR_C
/** MBEDTLS_SELF_TEST: the modules' self-tests, which tests/guest/test_tls
 * runs in the guest.  Their test vectors cost ~30 KiB of image. */
#define MBEDTLS_SELF_TEST

/* ---- combinations Limpet does not support -------------------------------- */

#if defined(MBEDTLS_FS_IO) || defined(MBEDTLS_NET_C) || defined(MBEDTLS_TIMING_C)
#error "mbedtls_config.h: Limpet has no files, BSD sockets or POSIX timers"
#endif
#if !defined(MBEDTLS_NO_PLATFORM_ENTROPY) || !defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
#error "mbedtls_config.h: the only entropy source is the CPU's (MBEDTLS_ENTROPY_HARDWARE_ALT)"
#endif
#if defined(MBEDTLS_SSL_PROTO_SSL3) || defined(MBEDTLS_SSL_PROTO_TLS1) || \
    defined(MBEDTLS_SSL_PROTO_TLS1_1) || defined(MBEDTLS_SSL_PROTO_DTLS)
#error "mbedtls_config.h: TLS 1.2 only"
#endif
#if defined(MBEDTLS_KEY_EXCHANGE_RSA_ENABLED) || defined(MBEDTLS_KEY_EXCHANGE_PSK_ENABLED) || \
    defined(MBEDTLS_KEY_EXCHANGE_DHE_RSA_ENABLED) || defined(MBEDTLS_KEY_EXCHANGE_ECDH_ECDSA_ENABLED) || \
    defined(MBEDTLS_KEY_EXCHANGE_ECDH_RSA_ENABLED)
#error "mbedtls_config.h: ECDHE key exchanges only"
#endif
#if defined(MBEDTLS_CIPHER_MODE_CBC) || defined(MBEDTLS_ARC4_C) || defined(MBEDTLS_DES_C)
#error "mbedtls_config.h: AEAD suites only (no CBC, RC4 or 3DES)"
#endif
#if defined(MBEDTLS_PLATFORM_MEMORY)
#error "mbedtls_config.h: MBEDTLS_PLATFORM_MEMORY puts mbedTLS's buffers in lwIP's heap (altcp_tls_mbedtls_mem.c)"
#endif
#if defined(MBEDTLS_THREADING_C)
#error "mbedtls_config.h: Limpet has one CPU and no threads"
#endif
#if MBEDTLS_SSL_IN_CONTENT_LEN < 16384
#error "mbedtls_config.h: clients may send 16 KiB records; MBEDTLS_SSL_IN_CONTENT_LEN must be 16384"
#endif

#include "mbedtls/check_config.h"

#endif /* LIMPET_MBEDTLS_CONFIG_H */
