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
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lwip/altcp_tls.h>
#include <lwip/netif.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_time.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include <kernel/entropy.h>
#include <kernel/fw_cfg.h>
#include <kernel/ktime.h>
#include <kernel/log.h>
#include <kernel/vmgenid.h>
#include <limpet/tls.h>

#include "sni.h"
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
 * 0 or -1.  Each step once; a call after a failure tries what failed. */
static int
seed_drbg(void)
{
	static const char pers[] = "limpet tls";
	static int hooked, psa_ready;
	psa_status_t status;
	int ret;

	if (!hooked) {
		/* Before mbedTLS allocates anything. */
		mbedtls_platform_set_calloc_free(counted_calloc, counted_free);
		mbedtls_entropy_init(&entropy);
		mbedtls_ctr_drbg_init(&drbg_ctx);
		hooked = 1;
	}
	if (drbg == NULL) {
		if ((ret = mbedtls_ctr_drbg_seed(&drbg_ctx, mbedtls_entropy_func, &entropy,
		    (const unsigned char *)pers, sizeof(pers) - 1)) != 0) {
			log_error("tls: seeding the DRBG from the hardware source failed "
			    "(-0x%04x)", (unsigned int)-ret);
			return -1;
		}
		drbg = &drbg_ctx;
		reseeded_at = now_ns();
		have_genid = vmgenid_read(genid) == 0;
	}
	if (!psa_ready) {
		if ((status = psa_crypto_init()) != PSA_SUCCESS) {
			log_error("tls: PSA crypto did not start (%d)", (int)status);
			return -1;
		}
		psa_ready = 1;
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

/* The DNS names a certificate is for: its subjectAltName's dNSNames, or
 * with none its subject's common name (what clients fall back to).
 * Calls fn(name, len, arg) for each until it returns true; true then. */
static bool
each_name(const mbedtls_x509_crt *crt, bool (*fn)(const char *, size_t, void *), void *arg)
{
	bool any = false;

	for (const mbedtls_x509_sequence *san = &crt->subject_alt_names;
	    san != NULL && san->buf.p != NULL; san = san->next) {
		if (san->buf.tag != (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME))
			continue;
		any = true;
		if (fn((const char *)san->buf.p, san->buf.len, arg))
			return true;
	}
	if (any)
		return false;
	for (const mbedtls_x509_name *n = &crt->subject; n != NULL; n = n->next)
		if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 &&
		    fn((const char *)n->val.p, n->val.len, arg))
			return true;
	return false;
}

struct name_query {
	const unsigned char	*host;
	size_t			len;
};

static bool
name_matches(const char *name, size_t len, void *arg)
{
	const struct name_query *q = arg;

	return sni_name_matches(name, len, (const char *)q->host, q->len);
}

struct name_list {
	char	buf[160];
	size_t	used;
};

static bool
list_name(const char *name, size_t len, void *arg)
{
	struct name_list *l = arg;
	int n = snprintf(l->buf + l->used, sizeof(l->buf) - l->used, "%s%.*s",
	    l->used ? ", " : "", (int)(len < 64 ? len : 64), name);

	if (n < 0 || (size_t)n >= sizeof(l->buf) - l->used) {
		l->used = sizeof(l->buf) - 1;
		return true;		/* full: stop */
	}
	l->used += (size_t)n;
	return false;
}

/*
 * SNI (RFC 6066 3): the certificates whose names match the name the client
 * asked for serve this handshake (more than one when, say, an ECDSA and an
 * RSA certificate are both for it: mbedTLS picks by what the client
 * supports).  A name no certificate has, or none, leaves them all, first
 * first, as a server's default.  The name is the client's: compared with
 * sni_name_matches(), never logged.
 */
static int
choose_by_name(void *arg, mbedtls_ssl_context *ssl, const unsigned char *host, size_t len)
{
	struct altcp_tls_config *conf = arg;
	struct name_query q = { host, len };
	int ret;

	for (int i = 0; i < conf->ncerts; i++) {
		if (!each_name(&conf->certs[i].chain, name_matches, &q))
			continue;
		if ((ret = mbedtls_ssl_set_hs_own_cert(ssl, &conf->certs[i].chain,
		    &conf->certs[i].key)) != 0)
			return ret;
	}
	return 0;
}

/*
 * The size of the Certificate handshake message that carries chain (the
 * larger of TLS 1.3's and 1.2's encodings): it must fit in one record of
 * ours, MBEDTLS_SSL_OUT_CONTENT_LEN, since mbedTLS does not split
 * handshake messages over records.
 */
static size_t
certificate_message_size(const mbedtls_x509_crt *chain)
{
	size_t n = 4 + 1 + 3;		/* header, TLS 1.3's context, list length */

	for (const mbedtls_x509_crt *c = chain; c != NULL && c->raw.p != NULL; c = c->next)
		n += 3 + c->raw.len + 2;	/* length, DER, TLS 1.3's extensions */
	return n;
}

/*
 * Add a certificate chain (PEM, leaf first) and its private key (PEM,
 * unencrypted) to conf, after checking them: they parse, the key is the
 * leaf's, and the chain fits in the records we send.  cert and key are
 * NUL-terminated; origin says where they came from in messages.  0, or -1
 * after saying what is wrong.  The key is never printed.
 */
static int
add_pair(struct altcp_tls_config *conf, const char *cert, const char *key, const char *origin)
{
	struct tls_cert *tc;
	struct name_list names = { .used = 0 };
	char subject[128];
	size_t msg;
	int ret, depth = 0;

	if (conf->ncerts == TLS_MAX_CERTS) {
		log_error("tls: %s: more than %d certificates", origin, TLS_MAX_CERTS);
		return -1;
	}
	tc = &conf->certs[conf->ncerts];
	mbedtls_x509_crt_init(&tc->chain);
	mbedtls_pk_init(&tc->key);
	if ((ret = mbedtls_x509_crt_parse(&tc->chain, (const unsigned char *)cert,
	    strlen(cert) + 1)) != 0) {
		log_mbedtls_error(origin, ret);
		log_error("tls: %s: the certificate (chain) does not parse "
		    "(PEM, leaf first, as openssl writes it)", origin);
		goto fail;
	}
	if ((ret = mbedtls_pk_parse_key(&tc->key, (const unsigned char *)key,
	    strlen(key) + 1, NULL, 0, drbg_random, drbg)) != 0) {
		log_mbedtls_error(origin, ret);
		log_error("tls: %s: the private key does not parse (PEM, unencrypted)", origin);
		goto fail;
	}
	if ((ret = mbedtls_pk_check_pair(&tc->chain.pk, &tc->key, drbg_random, drbg)) != 0) {
		log_error("tls: %s: the private key is not the certificate's "
		    "(the first certificate of the chain must be the server's)", origin);
		goto fail;
	}
	if ((msg = certificate_message_size(&tc->chain)) > MBEDTLS_SSL_OUT_CONTENT_LEN) {
		log_error("tls: %s: the certificate chain takes %zu bytes in a handshake, more "
		    "than a record holds here (%d: MBEDTLS_SSL_OUT_CONTENT_LEN in "
		    "net/tls/limpet_mbedtls_config.h); leave the root out of the chain",
		    origin, msg, MBEDTLS_SSL_OUT_CONTENT_LEN);
		goto fail;
	}
	for (const mbedtls_x509_crt *c = &tc->chain; c != NULL && c->raw.p != NULL; c = c->next)
		depth++;
	if (mbedtls_x509_dn_gets(subject, sizeof(subject), &tc->chain.subject) < 0)
		strcpy(subject, "?");
	(void)each_name(&tc->chain, list_name, &names);
	log_info("tls: certificate %d (%s): %s, for %s; %s key of %u bits; %d in its chain "
	    "(%zu bytes); valid until %04d-%02d-%02d", conf->ncerts + 1, origin, subject,
	    names.used ? names.buf : "no name", mbedtls_pk_get_name(&tc->key),
	    (unsigned int)mbedtls_pk_get_bitlen(&tc->key), depth, msg,
	    tc->chain.valid_to.year, tc->chain.valid_to.mon, tc->chain.valid_to.day);
	if (mbedtls_x509_time_is_future(&tc->chain.valid_from) ||
	    mbedtls_x509_time_is_past(&tc->chain.valid_to))
		log_warn("tls: certificate %d is not valid now (valid %04d-%02d-%02d to "
		    "%04d-%02d-%02d): clients will refuse it", conf->ncerts + 1,
		    tc->chain.valid_from.year, tc->chain.valid_from.mon, tc->chain.valid_from.day,
		    tc->chain.valid_to.year, tc->chain.valid_to.mon, tc->chain.valid_to.day);
	if ((ret = mbedtls_ssl_conf_own_cert(&conf->ssl, &tc->chain, &tc->key)) != 0) {
		log_mbedtls_error(origin, ret);
		goto fail;
	}
	conf->ncerts++;
	return 0;
fail:
	mbedtls_pk_free(&tc->key);
	mbedtls_x509_crt_free(&tc->chain);
	return -1;
}

static void
config_free(struct altcp_tls_config *conf)
{
	mbedtls_ssl_ticket_free(&conf->tickets);
	mbedtls_ssl_config_free(&conf->ssl);
	for (int i = 0; i < conf->ncerts; i++) {
		mbedtls_x509_crt_free(&conf->certs[i].chain);
		mbedtls_pk_free(&conf->certs[i].key);
	}
	mbedtls_free(conf);
}

/* A configuration with no certificate yet, or NULL (said why). */
static struct altcp_tls_config *
config_new(void)
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
	if (seed_drbg() != 0)
		return NULL;
	if ((conf = mbedtls_calloc(1, sizeof(*conf))) == NULL) {
		log_error("tls: out of memory for the TLS configuration");
		return NULL;
	}
	c = &conf->ssl;
	mbedtls_ssl_config_init(c);
	mbedtls_ssl_ticket_init(&conf->tickets);
	if ((ret = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)) != 0 ||
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
	mbedtls_ssl_conf_sni(c, choose_by_name, conf);
	/* A server that asks for client certificates makes a browser with
	 * certificates installed ask its user to pick one, and a client that
	 * sends one costs a verification.  We authenticate no clients. */
	mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_NONE);
	return conf;
}

struct altcp_tls_config *
limpet_tls_server_config_pem(const char *cert_pem, const char *key_pem)
{
	struct altcp_tls_config *conf = config_new();

	if (conf != NULL && add_pair(conf, cert_pem, key_pem, "the certificate given") != 0) {
		config_free(conf);
		conf = NULL;
	}
	return conf;
}

/*
 * Certificates given at boot through QEMU's fw_cfg (kernel/fw_cfg.h):
 *	-fw_cfg name=opt/limpet/tls/cert,file=chain.pem
 *	-fw_cfg name=opt/limpet/tls/key,file=key.pem
 * and more pairs as cert.1 and key.1 up to cert.7 and key.7.  Read into
 * conf: the number of pairs (0: none given), or -1 after saying what is
 * wrong.  Copies of keys are wiped once parsed.
 */
#define BOOT_PEM_MAX	(64 * 1024)

static char *
read_boot_file(const char *name, int *err)
{
	size_t size, got;
	char *buf;

	if ((*err = fw_cfg_size(name, &size)) != 0)
		return NULL;
	if (size == 0 || size > BOOT_PEM_MAX) {
		log_error("tls: fw_cfg %s is %zu bytes: a PEM file of 1 to %d bytes is expected",
		    name, size, BOOT_PEM_MAX);
		*err = -EINVAL;
		return NULL;
	}
	if ((buf = mbedtls_calloc(1, size + 1)) == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	if ((*err = fw_cfg_read(name, buf, size, &got)) != 0 || got != size ||
	    memchr(buf, '\0', size) != NULL) {
		log_error("tls: fw_cfg %s: could not read it, or it is not text (PEM)", name);
		mbedtls_platform_zeroize(buf, size);
		mbedtls_free(buf);
		*err = -EINVAL;
		return NULL;
	}
	return buf;
}

static void
wipe(char *buf)
{
	if (buf != NULL) {
		mbedtls_platform_zeroize(buf, strlen(buf));
		mbedtls_free(buf);
	}
}

static int
add_boot_pairs(struct altcp_tls_config *conf)
{
	char cert_name[FW_CFG_NAME_MAX + 1], key_name[FW_CFG_NAME_MAX + 1];
	int n;

	for (n = 0; n < TLS_MAX_CERTS; n++) {
		char *cert, *key;
		int cerr, kerr, rc;

		if (n == 0) {
			strcpy(cert_name, "opt/limpet/tls/cert");
			strcpy(key_name, "opt/limpet/tls/key");
		} else {
			snprintf(cert_name, sizeof(cert_name), "opt/limpet/tls/cert.%d", n);
			snprintf(key_name, sizeof(key_name), "opt/limpet/tls/key.%d", n);
		}
		cert = read_boot_file(cert_name, &cerr);
		key = read_boot_file(key_name, &kerr);
		if (cerr == -ENOENT && kerr == -ENOENT)
			break;		/* no more pairs (none at all for n == 0) */
		if (cerr == -ENODEV)
			return 0;	/* no fw_cfg device (the machine has none) */
		if (cerr != 0 || kerr != 0) {
			if (cerr == -ENOENT || kerr == -ENOENT)
				log_error("tls: fw_cfg has %s but not %s: certificates and keys "
				    "come in pairs", cerr == 0 ? cert_name : key_name,
				    cerr == 0 ? key_name : cert_name);
			wipe(cert);
			wipe(key);
			return -1;
		}
		rc = add_pair(conf, cert, key, cert_name);
		wipe(cert);
		wipe(key);
		if (rc != 0)
			return -1;
	}
	return n;
}

struct altcp_tls_config *
limpet_tls_server_config(void)
{
	static struct altcp_tls_config *conf;
	int n;

	if (conf != NULL)
		return conf;
	if ((conf = config_new()) == NULL)
		stop();
	if ((n = add_boot_pairs(conf)) < 0) {
		log_error("tls: cannot serve TLS with the certificates given at boot "
		    "(fw_cfg opt/limpet/tls/...)");
		stop();
	}
	if (n > 0) {
		log_info("tls: serving %d certificate%s given at boot, not the image's",
		    n, n == 1 ? "" : "s");
		return conf;
	}
	for (int i = 0; i < limpet_tls_npairs; i++) {
		char origin[40];

		snprintf(origin, sizeof(origin), "built into the image, %d of %d", i + 1,
		    limpet_tls_npairs);
		if (add_pair(conf, limpet_tls_cert_pems[i], limpet_tls_key_pems[i], origin) != 0) {
			log_error("tls: cannot serve TLS with the certificates built into the image");
			stop();
		}
	}
	if (limpet_tls_dev_cert)
		log_warn("tls: serving the build's SELF-SIGNED DEVELOPMENT certificate: "
		    "clients must be told to trust it (build with tls_cert= tls_key= "
		    "for a real one, or give one at boot: ./limpet run --tls-cert --tls-key)");
	return conf;
}
