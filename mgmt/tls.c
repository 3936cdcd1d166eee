/*
 * tls.c - the management server's TLS: the agent's random generator
 * (CTR_DRBG over mgmt/port/entropy.c), PSA, the server identity and the
 * mbedTLS configuration all connections share. The identity is the PEM
 * certificate and key named by tls_cert= and tls_key= (boot modules), or an
 * ECDSA P-256 key and a self-signed certificate (CN=keel) made at boot; its
 * SHA-256 fingerprint is what the console line shows. Management thread only.
 */
#include <string.h>

#include "boot/boot_info.h"
#include "kernel/config.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "mgmt/port/entropy.h"
#include "mgmt/tls.h"
#include "mm/mm.h"
#include "psa/crypto.h"

/* PEM files larger than this are not certificates or keys. */
#define TLS_FILE_MAX (64 * 1024)
#define TLS_DER_MAX 1024

static mbedtls_entropy_context tls_entropy;
static mbedtls_ctr_drbg_context tls_drbg;
static bool tls_drbg_ready;
static mbedtls_x509_crt tls_crt;
static mbedtls_pk_context tls_key;
static mbedtls_ssl_config tls_conf;
static char tls_fp[TLS_FP_HEX + 1];
static size_t tls_heap_bytes;

/* Only AEAD suites (RFC 8446 B.4; RFC 5289 and RFC 7905 for TLS 1.2 with
 * ECDHE-ECDSA). The config compiles in no others; the list also fixes the
 * server's preference order. */
static const int tls_suites[] = {
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	0,
};
static const char *tls_alpn[] = { "http/1.1", NULL };

/* ------------------------------------------------------------- memory -- */

/* The size goes in front so the bytes held can be counted (no leak per
 * connection: mgmt.c checks the count when the last one closes). */
struct tls_block {
	size_t size;
	size_t pad;
};

void *keel_tls_calloc(size_t nmemb, size_t size)
{
	struct tls_block *b;
	size_t n;

	if (size && nmemb > (SIZE_MAX - sizeof(*b)) / size)
		return NULL;
	n = nmemb * size;
	b = kzalloc(sizeof(*b) + n);
	if (!b)
		return NULL;
	b->size = n;
	tls_heap_bytes += n;
	return b + 1;
}

void keel_tls_free(void *p)
{
	struct tls_block *b;

	if (!p)
		return;
	b = (struct tls_block *)p - 1;
	tls_heap_bytes -= b->size;
	kfree(b);
}

size_t tls_heap_in_use(void)
{
	return tls_heap_bytes;
}

/* ------------------------------------------------------------- random -- */

int tls_random(void *out, size_t len)
{
	if (!tls_drbg_ready)
		return KEEL_EIO;
	return mbedtls_ctr_drbg_random(&tls_drbg, out, len) ? KEEL_EIO : 0;
}

static int tls_random_init(const struct boot_info *bi)
{
	static const char pers[] = "keel management agent";
	psa_status_t st;
	int ret;

	if (bi && bi->seed_len)
		entropy_set_boot_seed(bi->seed, bi->seed_len);
	mbedtls_entropy_init(&tls_entropy);
	mbedtls_ctr_drbg_init(&tls_drbg);
	ret = mbedtls_ctr_drbg_seed(&tls_drbg, mbedtls_entropy_func,
				    &tls_entropy, (const uint8_t *)pers,
				    sizeof(pers) - 1);
	if (ret) {
		log_err("tls: cannot seed the random generator (-0x%04x): not "
			"enough entropy", (unsigned)-ret);
		return KEEL_EIO;
	}
	tls_drbg_ready = true;
	/* TLS 1.3 runs through PSA, which seeds its own DRBG from the same
	 * source: start it here so a failure shows now, not in a handshake. */
	st = psa_crypto_init();
	if (st != PSA_SUCCESS) {
		log_err("tls: psa_crypto_init failed (%d)", (int)st);
		return KEEL_EIO;
	}
	return 0;
}

/* ----------------------------------------------------------- identity -- */

static const struct boot_module *tls_module(const struct boot_info *bi,
					    const char *path)
{
	for (uint32_t i = 0; bi && i < bi->module_count; i++)
		if (config_path_equal(bi->modules[i].path, path))
			return &bi->modules[i];
	return NULL;
}

/* A copy of a PEM file with the NUL mbedTLS's PEM parser wants at the end
 * (its length then counts the NUL). NULL, logged, when it is not there. */
static uint8_t *tls_file(const struct boot_info *bi, const char *key,
			 const char *path, size_t *len)
{
	const struct boot_module *m = tls_module(bi, path);
	uint8_t *buf;

	if (!m || (m->flags & (BOOT_MODULE_MISSING | BOOT_MODULE_TOO_BIG)) ||
	    !m->phys) {
		log_err("tls: %s %s was not loaded from the boot volume", key,
			path);
		return NULL;
	}
	if (m->size == 0 || m->size > TLS_FILE_MAX) {
		log_err("tls: %s %s: %llu bytes is no PEM file", key, path,
			(unsigned long long)m->size);
		return NULL;
	}
	buf = kmalloc(m->size + 1);
	if (!buf)
		return NULL;
	memcpy(buf, phys_to_virt(m->phys), m->size);
	buf[m->size] = 0;
	*len = m->size + 1;
	return buf;
}

static void tls_file_free(uint8_t *buf, size_t len)
{
	if (buf) {
		mbedtls_platform_zeroize(buf, len);
		kfree(buf);
	}
}

/* tls_cert= and tls_key=: a PEM chain (the server's certificate first)
 * and its EC private key (the suites are ECDSA only). */
static int tls_identity_load(const struct boot_info *bi,
			     const struct keel_config *cfg)
{
	size_t clen = 0, klen = 0;
	uint8_t *cbuf = tls_file(bi, "tls_cert", cfg->tls_cert.path, &clen);
	uint8_t *kbuf = cbuf ? tls_file(bi, "tls_key", cfg->tls_key.path, &klen)
			     : NULL;
	int ret = KEEL_EINVAL;

	if (!cbuf || !kbuf)
		goto out;
	ret = mbedtls_x509_crt_parse(&tls_crt, cbuf, clen);
	if (ret) {
		log_err("tls: tls_cert %s: not a PEM certificate (-0x%04x)",
			cfg->tls_cert.path, (unsigned)-ret);
		goto fail;
	}
	ret = mbedtls_pk_parse_key(&tls_key, kbuf, klen, NULL, 0,
				   mbedtls_ctr_drbg_random, &tls_drbg);
	if (ret) {
		log_err("tls: tls_key %s: not an unencrypted PEM private key "
			"(-0x%04x)", cfg->tls_key.path, (unsigned)-ret);
		goto fail;
	}
	if (!mbedtls_pk_can_do(&tls_key, MBEDTLS_PK_ECDSA)) {
		log_err("tls: tls_key %s: not an EC key (Keel's TLS suites are "
			"ECDSA only)", cfg->tls_key.path);
		goto fail;
	}
	ret = mbedtls_pk_check_pair(&tls_crt.pk, &tls_key,
				    mbedtls_ctr_drbg_random, &tls_drbg);
	if (ret) {
		log_err("tls: tls_key %s does not belong to tls_cert %s",
			cfg->tls_key.path, cfg->tls_cert.path);
		goto fail;
	}
	ret = 0;
	goto out;
fail:
	ret = KEEL_EINVAL;
	mbedtls_x509_crt_free(&tls_crt);
	mbedtls_pk_free(&tls_key);
	mbedtls_x509_crt_init(&tls_crt);
	mbedtls_pk_init(&tls_key);
out:
	tls_file_free(cbuf, clen);
	tls_file_free(kbuf, klen);
	return ret;
}

/* A P-256 key and a self-signed certificate for it: CN=keel, a random
 * 128-bit serial, valid from 2025 with no expiry (RFC 5280 4.1.2.5:
 * 99991231235959Z), CA so clients can pin it as their trust anchor. */
static int tls_identity_make(void)
{
	mbedtls_x509write_cert w;
	uint8_t serial[16];
	uint8_t *der;
	int ret, len;

	der = kmalloc(TLS_DER_MAX);
	if (!der)
		return KEEL_ENOMEM;
	ret = mbedtls_pk_setup(&tls_key,
			       mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (!ret)
		ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
					  mbedtls_pk_ec(tls_key),
					  mbedtls_ctr_drbg_random, &tls_drbg);
	if (ret) {
		log_err("tls: cannot make a key (-0x%04x)", (unsigned)-ret);
		kfree(der);
		return KEEL_EIO;
	}
	mbedtls_ctr_drbg_random(&tls_drbg, serial, sizeof(serial));
	serial[0] = (serial[0] & 0x7f) | 0x01; /* positive, not zero */
	mbedtls_x509write_crt_init(&w);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, &tls_key);
	mbedtls_x509write_crt_set_issuer_key(&w, &tls_key);
	ret = mbedtls_x509write_crt_set_serial_raw(&w, serial, sizeof(serial));
	if (!ret)
		ret = mbedtls_x509write_crt_set_subject_name(&w, "CN=keel");
	if (!ret)
		ret = mbedtls_x509write_crt_set_issuer_name(&w, "CN=keel");
	if (!ret)
		ret = mbedtls_x509write_crt_set_validity(&w, "20250101000000",
							 "99991231235959");
	if (!ret)
		ret = mbedtls_x509write_crt_set_basic_constraints(&w, 1, 0);
	if (!ret)
		ret = mbedtls_x509write_crt_set_key_usage(
			&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
				    MBEDTLS_X509_KU_KEY_CERT_SIGN);
	len = ret ? ret
		  : mbedtls_x509write_crt_der(&w, der, TLS_DER_MAX,
					      mbedtls_ctr_drbg_random,
					      &tls_drbg);
	mbedtls_x509write_crt_free(&w);
	/* The DER is written at the end of the buffer. */
	ret = len > 0 ? mbedtls_x509_crt_parse_der(&tls_crt,
						   der + TLS_DER_MAX - len,
						   (size_t)len)
		      : len;
	kfree(der);
	if (ret) {
		log_err("tls: cannot make a certificate (-0x%04x)",
			(unsigned)-ret);
		return KEEL_EIO;
	}
	return 0;
}

/* -------------------------------------------------------------- setup -- */

static int tls_config_setup(void)
{
	mbedtls_ssl_config *c = &tls_conf;
	int ret;

	mbedtls_ssl_config_init(c);
	ret = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER,
					  MBEDTLS_SSL_TRANSPORT_STREAM,
					  MBEDTLS_SSL_PRESET_DEFAULT);
	if (!ret) {
		mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, &tls_drbg);
		mbedtls_ssl_conf_min_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_2);
		mbedtls_ssl_conf_max_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_3);
		mbedtls_ssl_conf_ciphersuites(c, tls_suites);
		mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_NONE);
		ret = mbedtls_ssl_conf_alpn_protocols(c, tls_alpn);
	}
	if (!ret)
		ret = mbedtls_ssl_conf_own_cert(c, &tls_crt, &tls_key);
	if (ret) {
		log_err("tls: configuration failed (-0x%04x)", (unsigned)-ret);
		return KEEL_EIO;
	}
	return 0;
}

int tls_init(const struct boot_info *bi, const struct keel_config *cfg)
{
	bool have_files = cfg->tls_cert.path[0] && cfg->tls_key.path[0];
	bool loaded = false;
	int err;

	err = tls_random_init(bi);
	if (err)
		return err;
	mbedtls_x509_crt_init(&tls_crt);
	mbedtls_pk_init(&tls_key);
	if (cfg->tls_cert.path[0] != cfg->tls_key.path[0] && !have_files)
		log_err("tls: tls_cert= and tls_key= go together; using a "
			"certificate made at boot");
	if (have_files) {
		loaded = tls_identity_load(bi, cfg) == 0;
		if (!loaded)
			log_err("tls: using a certificate made at boot instead");
	}
	if (!loaded) {
		err = tls_identity_make();
		if (err)
			return err;
	}
	tls_fingerprint_der(tls_crt.raw.p, tls_crt.raw.len, tls_fp);
	log_info("tls: %s certificate (%zu bytes DER), sha256 %s",
		 loaded ? cfg->tls_cert.path : "self-signed", tls_crt.raw.len,
		 tls_fp);
	return tls_config_setup();
}

const struct mbedtls_ssl_config *tls_config(void)
{
	return &tls_conf;
}

const char *tls_fingerprint(void)
{
	return tls_fp;
}
