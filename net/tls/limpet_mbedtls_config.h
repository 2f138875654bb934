/*
 * mbedTLS 3.6's configuration for Limpet, selected by the build with
 * -DMBEDTLS_CONFIG_FILE='"limpet_mbedtls_config.h"' in place of mbedTLS's
 * own include/mbedtls/mbedtls_config.h (whose name this file must not
 * share: build_info.h's #include would find mbedTLS's first).  It starts
 * from nothing: only what a TLS 1.3 and 1.2 web server needs is enabled,
 * every option with the reason.  mbedTLS checks the result itself
 * (mbedtls/check_config.h, which build_info.h includes); the last section
 * rejects combinations Limpet does not support.
 *
 * What a client can negotiate: TLS 1.3 or 1.2; ECDHE key exchange over
 * X25519 or P-256 (in TLS 1.3 also on resumption: PSK with ECDHE only),
 * authenticated by an ECDSA (P-256) or RSA certificate; AES-128-GCM,
 * AES-256-GCM or ChaCha20-Poly1305.  Nothing else is compiled
 * in, so nothing else can be negotiated whatever the service configures.
 *
 * Memory per connection (tests/guest/test_tls prints the figures):
 *   - the record buffers mbedtls_ssl_setup() allocates from newlib's heap:
 *     16429 bytes in (MBEDTLS_SSL_IN_CONTENT_LEN 16 KiB + header, IV, MAC
 *     and padding room) + 4141 bytes out (MBEDTLS_SSL_OUT_CONTENT_LEN
 *     4 KiB + the same), 20570 bytes, against 33 KiB with mbedTLS's
 *     defaults;
 *   - the mbedtls_ssl_context inside our altcp TLS state (net/tls/
 *     tls_altcp.c, newlib's heap), and a session and transform from newlib;
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
/** MBEDTLS_PLATFORM_MS_TIME_ALT: mbedtls_ms_time() (TLS 1.3 ticket ages)
 * is net/tls/tls.c's, from the kernel's monotonic clock. */
#define MBEDTLS_PLATFORM_MS_TIME_ALT
/** MBEDTLS_HAVE_TIME_DATE: gmtime_r() from newlib, for certificate validity
 * dates (the RTC gives real wall-clock time). */
#define MBEDTLS_HAVE_TIME_DATE
/** MBEDTLS_NO_PLATFORM_ENTROPY: there is no /dev/urandom or getrandom(). */
#define MBEDTLS_NO_PLATFORM_ENTROPY
/** MBEDTLS_ENTROPY_HARDWARE_ALT: mbedtls_hardware_poll() (net/tls/
 * tls_entropy.c, from the CPU's RDSEED/RDRAND) is the entropy source, which
 * mbedtls_entropy_init() registers as STRONG in every entropy context. */
#define MBEDTLS_ENTROPY_HARDWARE_ALT
/** MBEDTLS_PLATFORM_C: the platform layer, which MBEDTLS_PLATFORM_MS_TIME_ALT
 * needs. */
#define MBEDTLS_PLATFORM_C
/** MBEDTLS_PLATFORM_MEMORY: mbedTLS allocates through net/tls/tls.c's
 * counted_calloc()/counted_free(): newlib's heap (not lwIP's: 20 KiB of
 * record buffers per connection would exhaust lwIP's), counted for
 * /_limpet/stats (tls.memory). */
#define MBEDTLS_PLATFORM_MEMORY
/* MBEDTLS_FS_IO, MBEDTLS_NET_C, MBEDTLS_TIMING_C: off: no files, no BSD
 * sockets (net/tls/tls_altcp.c moves the records over lwIP), no POSIX
 * timers (TLS needs timers only for DTLS). */

/* ---- TLS ----------------------------------------------------------------- */

/** MBEDTLS_SSL_TLS_C: the TLS record and handshake layers. */
#define MBEDTLS_SSL_TLS_C
/** MBEDTLS_SSL_SRV_C: the server side; Limpet's services do not connect out
 * over TLS, so the client side is not built. */
#define MBEDTLS_SSL_SRV_C
/** MBEDTLS_SSL_PROTO_TLS1_3, MBEDTLS_SSL_PROTO_TLS1_2: TLS 1.3 (RFC 8446),
 * preferred, and 1.2 for older clients.  TLS 1.0 and 1.1 are deprecated
 * (RFC 8996); mbedTLS 3 no longer has them. */
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_PROTO_TLS1_2
/** MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED: TLS 1.3's full
 * handshake, (EC)DHE.  ..._PSK_EPHEMERAL_ENABLED: resumption with a
 * ticket's PSK together with a fresh ECDHE, so that a resumed session
 * keeps forward secrecy.  PSK alone (..._PSK_ENABLED, no ECDHE) stays
 * off, and so does 0-RTT (MBEDTLS_SSL_EARLY_DATA: replayable). */
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
/** MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE: RFC 8446 D.4's middlebox
 * compatibility (a dummy ChangeCipherSpec, a session ID echoed), which
 * browsers and OpenSSL use by default. */
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
/** MBEDTLS_SSL_KEEP_PEER_CERTIFICATE: mbedTLS's TLS 1.3 code requires it;
 * it costs nothing here, since no client is asked for a certificate. */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
/** MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED: forward-secret key exchange
 * with an ECDSA certificate (the development certificate is P-256 ECDSA). */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
/** MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED: the same with an RSA certificate,
 * which most CAs still issue.  Static RSA, DHE and PSK stay off. */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
/** MBEDTLS_SSL_CIPHERSUITES: the suites offered, strongest first; every one
 * is AEAD and forward-secret (no CBC, RC4, 3DES or SHA-1 MAC suites).
 * TLS 1.3's three first, then TLS 1.2's. */
#define MBEDTLS_SSL_CIPHERSUITES					\
	MBEDTLS_TLS1_3_AES_256_GCM_SHA384,				\
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,			\
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,				\
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,		\
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,		\
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,		\
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,			\
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,		\
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
/** MBEDTLS_SSL_SESSION_TICKETS: resumption without server-side state
 * (RFC 5077; in TLS 1.3 the NewSessionTicket's PSK): a returning client
 * skips the certificate and signature work. */
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
/** MBEDTLS_SSL_SERVER_NAME_INDICATION: the certificate is chosen by the
 * name the client asks for (RFC 6066 SNI). */
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
/** MBEDTLS_SSL_ALPN: the application protocol is agreed (RFC 7301):
 * http/1.1. */
#define MBEDTLS_SSL_ALPN
/* Off: renegotiation (attack surface, not needed for HTTP), DTLS,
 * encrypt-then-MAC (CBC only), the session cache (tickets instead), early
 * data (0-RTT: replayable). */

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
/** MBEDTLS_SHA224_C: SHA-224, no TLS suite's, but a signature hash a
 * client may ask for, and the hash shorter than P-256's order in RFC
 * 6979's vectors (tests/guest/test_tls): it shares SHA-256's code. */
#define MBEDTLS_SHA224_C
/** MBEDTLS_SHA384_C, MBEDTLS_SHA512_C: SHA-384 for the AES-256-GCM
 * suites' PRF and transcript, SHA-512 for the entropy pool. */
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
/* MD5 and SHA-1: off: TLS 1.3 and 1.2 need neither (no SHA-1 suites), nor
 * do unencrypted PEM keys. */
/** MBEDTLS_HKDF_C: TLS 1.3's key schedule (RFC 5869). */
#define MBEDTLS_HKDF_C

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
/** MBEDTLS_RSA_C, MBEDTLS_PKCS1_V15, MBEDTLS_PKCS1_V21: RSA signatures
 * with an RSA certificate: TLS 1.2 signs the key exchange with PKCS#1
 * v1.5 or RSA-PSS, TLS 1.3 only with RSA-PSS (v2.1). */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
/** MBEDTLS_X509_RSASSA_PSS_SUPPORT: mbedTLS offers TLS 1.3's RSA-PSS
 * signature algorithms (rsa_pss_rsae_*) only with it: without it an RSA
 * certificate cannot serve TLS 1.3 at all. */
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
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

/* ---- PSA crypto ---------------------------------------------------------- */

/** MBEDTLS_PSA_CRYPTO_C: mbedTLS's PSA crypto API, which its TLS 1.3 code
 * uses for ECDHE, HKDF and the transcript hash (the TLS 1.2 code and the
 * record layer keep the classic API: MBEDTLS_USE_PSA_CRYPTO stays off).
 * Volatile keys only: no key storage (MBEDTLS_PSA_CRYPTO_STORAGE_C). */
#define MBEDTLS_PSA_CRYPTO_C
/** MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG: PSA draws from the one DRBG the rest of
 * TLS uses (mbedtls_psa_external_get_random() in net/tls/tls.c, with its
 * reseeding), not from a second one of its own. */
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
/** MBEDTLS_PSA_KEY_STORE_DYNAMIC: as many volatile key slots as there are
 * handshakes in flight (each holds its ephemeral ECDHE key while its
 * first flight is being sent), not a fixed 32. */
#define MBEDTLS_PSA_KEY_STORE_DYNAMIC

/* ---- diagnostics --------------------------------------------------------- */

/** MBEDTLS_ERROR_C: mbedtls_strerror(), so logs name errors rather than
 * print negative hex. */
#define MBEDTLS_ERROR_C
/** MBEDTLS_SELF_TEST: the modules' self-tests, which tests/guest/test_tls
 * runs in the guest.  Their test vectors cost ~30 KiB of image. */
#define MBEDTLS_SELF_TEST

/* ---- combinations Limpet does not support -------------------------------- */

#if defined(MBEDTLS_FS_IO) || defined(MBEDTLS_NET_C) || defined(MBEDTLS_TIMING_C)
#error "limpet_mbedtls_config.h: Limpet has no files, BSD sockets or POSIX timers"
#endif
#if !defined(MBEDTLS_NO_PLATFORM_ENTROPY) || !defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
#error "limpet_mbedtls_config.h: the only entropy source is the CPU's (MBEDTLS_ENTROPY_HARDWARE_ALT)"
#endif
#if defined(MBEDTLS_SSL_PROTO_DTLS)
#error "limpet_mbedtls_config.h: TLS 1.3 and 1.2 only, no DTLS"
#endif
#if defined(MBEDTLS_SSL_EARLY_DATA) || defined(MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED)
#error "limpet_mbedtls_config.h: no 0-RTT, and no resumption without a fresh ECDHE"
#endif
#if defined(MBEDTLS_SSL_RENEGOTIATION)
#error "limpet_mbedtls_config.h: no renegotiation"
#endif
#if defined(MBEDTLS_USE_PSA_CRYPTO)
#error "limpet_mbedtls_config.h: TLS 1.2 must keep the classic ECDH and ECDSA calls (net/tls/ecdh_alt.c, ecdsa_alt.c)"
#endif
#if defined(MBEDTLS_KEY_EXCHANGE_RSA_ENABLED) || defined(MBEDTLS_KEY_EXCHANGE_PSK_ENABLED) || \
    defined(MBEDTLS_KEY_EXCHANGE_DHE_RSA_ENABLED) || defined(MBEDTLS_KEY_EXCHANGE_ECDH_ECDSA_ENABLED) || \
    defined(MBEDTLS_KEY_EXCHANGE_ECDH_RSA_ENABLED)
#error "limpet_mbedtls_config.h: ECDHE key exchanges only"
#endif
#if defined(MBEDTLS_CIPHER_MODE_CBC) || defined(MBEDTLS_ARC4_C) || defined(MBEDTLS_DES_C)
#error "limpet_mbedtls_config.h: AEAD suites only (no CBC, RC4 or 3DES)"
#endif
#if defined(MBEDTLS_THREADING_C)
#error "limpet_mbedtls_config.h: Limpet has one CPU and no threads"
#endif
#if MBEDTLS_SSL_IN_CONTENT_LEN < 16384
#error "limpet_mbedtls_config.h: clients may send 16 KiB records; MBEDTLS_SSL_IN_CONTENT_LEN must be 16384"
#endif


#endif /* LIMPET_MBEDTLS_CONFIG_H */
