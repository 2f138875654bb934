/*
 * TLS server configurations for services (limpet/tls.h), served by our
 * altcp TLS layer (net/tls/tls_altcp.c) over mbedTLS 3.6.
 *
 * What a client may negotiate is fixed by net/tls/limpet_mbedtls_config.h; this
 * file makes the rest: the DRBG everything draws from (the TLS code, PSA
 * crypto's TLS 1.3 key exchanges, the ticket keys), refusing to go on
 * without a hardware entropy source, a check of the wall clock
 * certificates are judged by, readable errors for a certificate or key
 * that does not parse, the server's order of ECDHE groups, ALPN, session
 * tickets for TLS 1.2 and 1.3, no request for a client certificate, and
 * a DRBG reseeded from the hardware at least once a second while it is
 * used and when the VM generation ID changes (drbg_random()).
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lwip/altcp_tls.h>
#include <lwip/netif.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_time.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include <kernel/entropy.h>
#include <kernel/ktime.h>
#include <kernel/log.h>
#include <kernel/vmgenid.h>
#include <limpet/tls.h>

#include "tls_priv.h"

/* 2024-01-01T00:00:00Z: an RTC before this has not been set. */
#define SANE_EPOCH	1704067200LL

/* Session ticket keys rotate this often (seconds); a ticket is accepted
 * for as long (TLS 1.3 tells the client so in the ticket's lifetime). */
#define TICKET_LIFETIME	86400

/*
 * The ECDHE groups in the server's order of preference: X25519 first,
 * faster and what clients prefer, then P-256.  (A TLS 1.2 client that
 * offers X25519 alone still cannot be served with an ECDSA P-256
 * certificate: the groups it lists also bound the certificate's curve,
 * RFC 8422 5.1.  TLS 1.3 separates the two.)
 */
static const uint16_t server_groups[] = {
	MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_NONE,
};

/* ALPN (RFC 7301): HTTP/1.1 is what httpd speaks.  A client that offers
 * protocols but not this one is refused with no_application_protocol. */
static const char *alpn_protocols[] = { "http/1.1", NULL };

static void
stop(void)
{
	exit(LIMPET_TLS_SETUP_STATUS);
}

/* Stop unless the hardware entropy source works: lwIP would otherwise fail
 * to seed its DRBG with no more than a debug message. */
static void
require_entropy(void)
{
	unsigned char probe[32];
	const char *src = entropy_source();

	if (src == NULL) {
		log_error("tls: no hardware entropy source: the CPU has neither RDSEED "
		    "nor RDRAND; refusing to serve TLS with predictable keys "
		    "(use a CPU model that has them, e.g. QEMU's -cpu max or host)");
		stop();
	}
	if (entropy_read(probe, sizeof(probe)) != 0) {
		log_error("tls: the hardware entropy source (%s) fails; refusing to serve TLS", src);
		stop();
	}
	memset(probe, 0, sizeof(probe));
}

/*
 * The random numbers of handshakes: lwIP's CTR_DRBG (seeded from the
 * hardware source when the configuration was made), reseeded from the
 * hardware before a draw whenever the last reseed is RESEED_NS old.
 * mbedTLS would reseed only after 10,000 draws; in between, two VMs
 * restored from one snapshot would draw the same server randoms and
 * ECDHE keys.  Where the machine has a VM generation ID (QEMU's
 * -device vmgenid, kernel/arch/x86_64/vmgenid.c), which the hypervisor
 * changes on a restore, a changed ID reseeds before the next draw; without
 * one, clones share the DRBG's output for up to a second of the guest's
 * clock after the restore.  Signatures never depend on it (RFC 6979).
 *
 * When a reseed fails (the hardware source failed its health tests:
 * kernel/arch/x86_64/entropy.c), every later draw fails too, and so does
 * every handshake: the DRBG is not trusted to go on alone.
 */
#define RESEED_NS	1000000000ULL

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg_ctx;
static mbedtls_ctr_drbg_context *drbg;	/* &drbg_ctx once seeded */
static uint64_t reseeded_at;
static int drbg_failed;
static int have_genid;
static uint8_t genid[VMGENID_BYTES];	/* at the last reseed */
static struct limpet_tls_rng_stats rng_stats;

/* 1 when the VM generation ID is not what it was at the last reseed. */
static int
genid_changed(void)
{
	uint8_t now[VMGENID_BYTES];

	if (!have_genid || vmgenid_read(now) != 0 || memcmp(now, genid, sizeof(now)) == 0)
		return 0;
	memcpy(genid, now, sizeof(genid));
	rng_stats.genid_changes++;
	log_info("tls: the VM generation ID changed (a restore from a snapshot, or a "
	    "clone): reseeding the DRBG before its next draw");
	return 1;
}

static int
drbg_random(void *ctx, unsigned char *out, size_t len)
{
	uint64_t now = now_ns();
	int ret;

	if (drbg_failed)
		return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
	if (genid_changed() || now - reseeded_at >= RESEED_NS) {
		if ((ret = mbedtls_ctr_drbg_reseed(ctx, NULL, 0)) != 0) {
			drbg_failed = 1;
			log_error("tls: reseeding the DRBG from the hardware source failed "
			    "(-0x%04x): no more TLS handshakes until the machine restarts",
			    (unsigned int)-ret);
			return ret;
		}
		reseeded_at = now;
		rng_stats.reseeds++;
	}
	rng_stats.draws++;
	return mbedtls_ctr_drbg_random(ctx, out, len);
}

const struct limpet_tls_rng_stats *
limpet_tls_rng_stats(void)
{
	const struct entropy_stats *es = entropy_stats();

	rng_stats.failed = drbg_failed;
	rng_stats.genid = have_genid;
	rng_stats.entropy_samples = es->samples;
	rng_stats.entropy_failures = es->failures;
	rng_stats.entropy_healthy = es->healthy;
	return &rng_stats;
}

/*
 * mbedTLS's heap (MBEDTLS_PLATFORM_MEMORY): newlib's calloc and free,
 * counted, so that /_limpet/stats can say what TLS holds (tls.memory):
 * every connection's record buffers and state, and what all share (the
 * configuration, certificates, keys, PSA's key slots).  The bytes counted
 * are what malloc gave (malloc_usable_size()), not what was asked for.
 */
static size_t mem_bytes, mem_peak;

static void *
counted_calloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p != NULL) {
		mem_bytes += malloc_usable_size(p);
		if (mem_bytes > mem_peak)
			mem_peak = mem_bytes;
	}
	return p;
}

static void
counted_free(void *p)
{
	if (p != NULL) {
		mem_bytes -= malloc_usable_size(p);
		free(p);
	}
}

void
limpet_tls_memory(size_t *bytes, size_t *peak)
{
	*bytes = mem_bytes;
	*peak = mem_peak;
}

/* Seed the DRBG from the hardware source, and start PSA crypto over it;
 * 0 or -1.  Once. */
static int
seed_drbg(void)
{
	static const char pers[] = "limpet tls";
	psa_status_t status;
	int ret;

	if (drbg != NULL)
		return 0;
	/* Before mbedTLS allocates anything. */
	mbedtls_platform_set_calloc_free(counted_calloc, counted_free);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg_ctx);
	if ((ret = mbedtls_ctr_drbg_seed(&drbg_ctx, mbedtls_entropy_func, &entropy,
	    (const unsigned char *)pers, sizeof(pers) - 1)) != 0) {
		log_error("tls: seeding the DRBG from the hardware source failed (-0x%04x)",
		    (unsigned int)-ret);
		return -1;
	}
	drbg = &drbg_ctx;
	reseeded_at = now_ns();
	have_genid = vmgenid_read(genid) == 0;
	if ((status = psa_crypto_init()) != PSA_SUCCESS) {
		log_error("tls: PSA crypto did not start (%d)", (int)status);
		return -1;
	}
	return 0;
}

/* PSA crypto's random numbers (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG): the same
 * DRBG, the same reseeding. */
psa_status_t
mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *ctx,
    uint8_t *out, size_t size, size_t *len)
{
	(void)ctx;
	*len = 0;
	if (drbg == NULL)
		return PSA_ERROR_BAD_STATE;
	while (*len < size) {
		size_t n = size - *len;

		if (n > MBEDTLS_CTR_DRBG_MAX_REQUEST)
			n = MBEDTLS_CTR_DRBG_MAX_REQUEST;
		if (drbg_random(drbg, out + *len, n) != 0)
			return PSA_ERROR_INSUFFICIENT_ENTROPY;
		*len += n;
	}
	return PSA_SUCCESS;
}

/* TLS 1.3 ticket ages (MBEDTLS_PLATFORM_MS_TIME_ALT): the kernel's
 * monotonic clock, which a change of the wall clock does not move. */
mbedtls_ms_time_t
mbedtls_ms_time(void)
{
	return (mbedtls_ms_time_t)(now_ns() / 1000000ULL);
}

static void
check_clock(void)
{
	time_t now = time(NULL);

	if ((long long)now < SANE_EPOCH)
		log_warn("tls: the wall clock says %lld seconds since 1970, before 2024: "
		    "clients will judge certificate dates by their own clocks, "
		    "but session tickets and logs will be off", (long long)now);
}

static void
log_mbedtls_error(const char *what, int ret)
{
	char buf[128];

	mbedtls_strerror(ret, buf, sizeof(buf));
	log_error("tls: %s: %s (-0x%04x)", what, buf, (unsigned int)-ret);
}

/* Parse the certificate and key as lwIP is about to, to say what is wrong
 * with them; 0 or -1.  mbedTLS wants PEM buffers' lengths to count the
 * terminating NUL. */
static int
check_cert_key(const char *cert_pem, const char *key_pem)
{
	mbedtls_x509_crt crt;
	mbedtls_pk_context pk;
	char subject[128];
	int ret, rc = -1;

	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&pk);
	if ((ret = mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert_pem,
	    strlen(cert_pem) + 1)) != 0) {
		log_mbedtls_error("the server certificate does not parse", ret);
		goto out;
	}
	if ((ret = mbedtls_pk_parse_key(&pk, (const unsigned char *)key_pem,
	    strlen(key_pem) + 1, NULL, 0, drbg_random, drbg)) != 0) {
		log_mbedtls_error("the server's private key does not parse", ret);
		goto out;
	}
	if (mbedtls_x509_dn_gets(subject, sizeof(subject), &crt.subject) < 0)
		strcpy(subject, "?");
	log_info("tls: certificate %s, %s key of %u bits, valid until %04d-%02d-%02d",
	    subject, mbedtls_pk_get_name(&pk), (unsigned int)mbedtls_pk_get_bitlen(&pk),
	    crt.valid_to.year, crt.valid_to.mon, crt.valid_to.day);
	if (mbedtls_x509_time_is_future(&crt.valid_from) || mbedtls_x509_time_is_past(&crt.valid_to))
		log_warn("tls: the certificate is not valid now (valid %04d-%02d-%02d to "
		    "%04d-%02d-%02d): clients will refuse it",
		    crt.valid_from.year, crt.valid_from.mon, crt.valid_from.day,
		    crt.valid_to.year, crt.valid_to.mon, crt.valid_to.day);
	rc = 0;
out:
	mbedtls_pk_free(&pk);
	mbedtls_x509_crt_free(&crt);
	return rc;
}

static void
config_free(struct altcp_tls_config *conf)
{
	mbedtls_ssl_ticket_free(&conf->tickets);
	mbedtls_ssl_config_free(&conf->ssl);
	mbedtls_x509_crt_free(&conf->chain);
	mbedtls_pk_free(&conf->key);
	mbedtls_free(conf);
}

struct altcp_tls_config *
limpet_tls_server_config_pem(const char *cert_pem, const char *key_pem)
{
	struct altcp_tls_config *conf;
	mbedtls_ssl_config *c;
	int ret;

	/* lwIP runs only with a NIC. */
	if (netif_default == NULL) {
		log_error("tls: no network interface, so lwIP is not running: "
		    "TLS needs a NIC (QEMU -nic user,model=virtio-net-pci)");
		stop();
	}
	require_entropy();
	check_clock();
	if (seed_drbg() != 0 || check_cert_key(cert_pem, key_pem) != 0)
		return NULL;
	if ((conf = mbedtls_calloc(1, sizeof(*conf))) == NULL) {
		log_error("tls: out of memory for the TLS configuration");
		return NULL;
	}
	c = &conf->ssl;
	mbedtls_ssl_config_init(c);
	mbedtls_ssl_ticket_init(&conf->tickets);
	mbedtls_x509_crt_init(&conf->chain);
	mbedtls_pk_init(&conf->key);
	if ((ret = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)) != 0 ||
	    (ret = mbedtls_x509_crt_parse(&conf->chain, (const unsigned char *)cert_pem,
	    strlen(cert_pem) + 1)) != 0 ||
	    (ret = mbedtls_pk_parse_key(&conf->key, (const unsigned char *)key_pem,
	    strlen(key_pem) + 1, NULL, 0, drbg_random, drbg)) != 0 ||
	    (ret = mbedtls_ssl_conf_own_cert(c, &conf->chain, &conf->key)) != 0 ||
	    (ret = mbedtls_ssl_conf_alpn_protocols(c, alpn_protocols)) != 0 ||
	    (ret = mbedtls_ssl_ticket_setup(&conf->tickets, drbg_random, drbg,
	    MBEDTLS_CIPHER_AES_256_GCM, TICKET_LIFETIME)) != 0) {
		log_mbedtls_error("making the TLS configuration", ret);
		config_free(conf);
		return NULL;
	}
	mbedtls_ssl_conf_rng(c, drbg_random, drbg);
	mbedtls_ssl_conf_min_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_groups(c, server_groups);
	mbedtls_ssl_conf_session_tickets_cb(c, mbedtls_ssl_ticket_write,
	    mbedtls_ssl_ticket_parse, &conf->tickets);
	/* A server that asks for client certificates makes a browser with
	 * certificates installed ask its user to pick one, and a client that
	 * sends one costs a verification.  We authenticate no clients. */
	mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_NONE);
	return conf;
}

struct altcp_tls_config *
limpet_tls_server_config(void)
{
	static struct altcp_tls_config *conf;

	if (conf != NULL)
		return conf;
	if (limpet_tls_dev_cert)
		log_warn("tls: serving the build's SELF-SIGNED DEVELOPMENT certificate: "
		    "clients must be told to trust it (build with tls_cert= tls_key= "
		    "for a real one)");
	if ((conf = limpet_tls_server_config_pem(limpet_tls_cert_pem, limpet_tls_key_pem)) == NULL) {
		log_error("tls: cannot serve TLS with the certificate and key built into the image");
		stop();
	}
	return conf;
}
