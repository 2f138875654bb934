/*
 * TLS server configurations for services (limpet/tls.h), over lwIP's
 * altcp_tls_mbedtls.c.
 *
 * lwIP makes the mbedTLS configuration, the shared entropy context and
 * CTR_DRBG, and the session ticket keys; what a client may negotiate is
 * fixed by net/tls/mbedtls_config.h.  This file adds what lwIP leaves to
 * its port: refusing to go on without a hardware entropy source, a check
 * of the wall clock certificates are judged by, readable errors for a
 * certificate or key that does not parse (lwIP only reports them in its
 * debug build), the server's order of ECDHE groups, an EC key that signs
 * without copying itself every time, no request for a client
 * certificate, and a DRBG reseeded from the hardware at least once a
 * second while it is used and when the VM generation ID changes
 * (drbg_random()).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lwip/altcp_tls.h>
#include <lwip/netif.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>
#include <mbedtls/x509_crt.h>

#include <kernel/entropy.h>
#include <kernel/ktime.h>
#include <kernel/log.h>
#include <kernel/vmgenid.h>
#include <limpet/tls.h>

/* 2024-01-01T00:00:00Z: an RTC before this has not been set. */
#define SANE_EPOCH	1704067200LL

/*
 * The ECDHE groups in the server's order of preference.  mbedTLS's
 * default (mbedtls_ecp_grp_id_list()) ranks curves by size, which puts
 * P-256 before X25519 and so never picks X25519 for a client that offers
 * both, as every current one does.  X25519 first: faster, and what
 * clients prefer.  (A client that offers X25519 alone still cannot be
 * served with an ECDSA P-256 certificate: the groups it lists also bound
 * the certificate's curve, RFC 8422 5.1.)
 */
static const mbedtls_ecp_group_id server_groups[] = {
	MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE,
};

/*
 * Let an EC private key sign as what it is, an ECDSA key, so that a
 * signature does not start by copying it.  lwIP parses the key as
 * mbedTLS's generic MBEDTLS_PK_ECKEY, whose signing (pk_wrap.c's
 * eckey_sign_wrap()) copies the key pair into a fresh ECDSA context for
 * every signature: the group's parameters loaded again, d and Q copied,
 * all on the heap, then freed.  (With mbedTLS's own signing the copy also
 * lost the table of multiples of the base point that its comb builds,
 * more than half of every signature; ours, net/tls/p256.c, keeps its
 * table itself.)  An MBEDTLS_PK_ECDSA key signs with its own context.
 * Both kinds hold the same mbedtls_ecp_keypair (mbedtls_ecdsa_context is
 * that type) and free it the same way, so the key changes kind in place,
 * in the configuration's own key/certificate list.
 */
_Static_assert(_Generic((mbedtls_ecdsa_context *)0, mbedtls_ecp_keypair *: 1, default: 0),
    "an ECDSA context must be an EC key pair for keys to change kind in place");

static void
sign_with_own_group(mbedtls_ssl_config *c)
{
	for (mbedtls_ssl_key_cert *kc = c->key_cert; kc != NULL; kc = kc->next)
		if (mbedtls_pk_get_type(kc->key) == MBEDTLS_PK_ECKEY)
			kc->key->pk_info = mbedtls_pk_info_from_type(MBEDTLS_PK_ECDSA);
}

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

static mbedtls_ctr_drbg_context *drbg;
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

/* Draw through drbg_random(): lwIP's configuration uses its CTR_DRBG. */
static int
take_rng(mbedtls_ssl_config *c)
{
	if (c->f_rng != mbedtls_ctr_drbg_random || c->p_rng == NULL) {
		log_error("tls: lwIP's configuration does not draw from a CTR_DRBG");
		return -1;
	}
	if (drbg == NULL) {
		drbg = c->p_rng;
		reseeded_at = now_ns();		/* lwIP has just seeded it */
		have_genid = vmgenid_read(genid) == 0;
	}
	mbedtls_ssl_conf_rng(c, drbg_random, drbg);
	return 0;
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
	    strlen(key_pem) + 1, NULL, 0)) != 0) {
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

struct altcp_tls_config *
limpet_tls_server_config_pem(const char *cert_pem, const char *key_pem)
{
	struct altcp_tls_config *conf;

	/* lwIP, whose heap holds the configuration, runs only with a NIC. */
	if (netif_default == NULL) {
		log_error("tls: no network interface, so lwIP is not running: "
		    "TLS needs a NIC (QEMU -nic user,model=virtio-net-pci)");
		stop();
	}
	require_entropy();
	check_clock();
	if (check_cert_key(cert_pem, key_pem) != 0)
		return NULL;
	conf = altcp_tls_create_config_server_privkey_cert(
	    (const u8_t *)key_pem, strlen(key_pem) + 1, NULL, 0,
	    (const u8_t *)cert_pem, strlen(cert_pem) + 1);
	if (conf == NULL) {
		log_error("tls: lwIP could not make the TLS configuration "
		    "(out of memory, or the DRBG could not be seeded)");
		return NULL;
	}
	/* lwIP keeps struct altcp_tls_config private; its first member is
	 * the mbedtls_ssl_config (altcp_tls_mbedtls.c), which a pointer to
	 * the structure also points to (C11 6.7.2.1). */
	if (take_rng((mbedtls_ssl_config *)(void *)conf) != 0) {
		altcp_tls_free_config(conf);
		return NULL;
	}
	mbedtls_ssl_conf_curves((mbedtls_ssl_config *)(void *)conf, server_groups);
	sign_with_own_group((mbedtls_ssl_config *)(void *)conf);
	/* lwIP makes every configuration MBEDTLS_SSL_VERIFY_OPTIONAL, which
	 * on a server sends a CertificateRequest in every handshake: a
	 * browser with certificates installed then asks its user to pick
	 * one, and a client that sends one costs a verification.  We
	 * authenticate no clients. */
	mbedtls_ssl_conf_authmode((mbedtls_ssl_config *)(void *)conf, MBEDTLS_SSL_VERIFY_NONE);
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
