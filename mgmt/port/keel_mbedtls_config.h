/*
 * keel_mbedtls_config.h - the complete mbedTLS 3.6 configuration of Keel's
 * management server: a TLS 1.3 and 1.2 server with AEAD suites only, an
 * ECDSA P-256 identity (loaded or made at boot), no files, sockets or clock.
 * Replaces mbedtls_config.h (-DMBEDTLS_CONFIG_FILE); whatever is not listed
 * is off. Adapted from shared/recipes/freestanding-libs.
 */
#ifndef KEEL_MBEDTLS_CONFIG_H
#define KEEL_MBEDTLS_CONFIG_H

#include <stddef.h>

/* ---- platform ---- */
#define MBEDTLS_HAVE_ASM	 /* bignum asm uses mulq, general registers only */
#define MBEDTLS_NO_UDBL_DIVISION /* else bignum.c calls libgcc's __udivti3 */
/* No MBEDTLS_HAVE_TIME: X.509 dates are not checked, which a server that
 * only presents its own certificate does not need. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_PLATFORM_CALLOC_MACRO keel_tls_calloc
#define MBEDTLS_PLATFORM_FREE_MACRO keel_tls_free
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO snprintf
#define MBEDTLS_PLATFORM_VSNPRINTF_MACRO vsnprintf
#define MBEDTLS_PLATFORM_PRINTF_MACRO keel_tls_printf /* self-tests only */
#define MBEDTLS_PLATFORM_EXIT_MACRO keel_tls_exit     /* self-tests only */
/* mgmt/tls.c: zeroed memory (calloc semantics) from the kernel heap, NULL
 * when there is none (mbedTLS handles that). */
void *keel_tls_calloc(size_t nmemb, size_t size);
void keel_tls_free(void *ptr);
/* With NO_STD_FUNCTIONS mbedTLS no longer includes <stdio.h>, yet x509*.c
 * call mbedtls_snprintf: the kernel's (kernel/libc/printf.c). */
int snprintf(char *s, size_t n, const char *fmt, ...);

/* ---- entropy: mgmt/port/entropy.c ---- */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT /* mbedtls_hardware_poll() */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_HMAC_DRBG_C /* deterministic ECDSA (RFC 6979) */

/* No MBEDTLS_AESNI_C: its asm clobbers xmm registers, which Keel's code
 * built with -mgeneral-regs-only may not touch (the recipe's README). */

/* ---- symmetric crypto: the AEADs of the suites below ---- */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES

/* ---- hashes, KDFs ---- */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C /* SHA-384 lives in sha512.c */
#define MBEDTLS_HKDF_C	 /* the TLS 1.3 key schedule (through PSA) */
#define MBEDTLS_PKCS5_C	 /* PBKDF2-HMAC-SHA256 for password= */

/* ---- public key ---- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED /* a tls_cert= from a P-384 CA */
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C /* tls_cert= and tls_key= are PEM files */
#define MBEDTLS_PEM_WRITE_C

/* ---- X.509 ---- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C /* the self-signed certificate */

/* ---- PSA: TLS 1.3 needs it in 3.6 (psa_crypto_init at start) ---- */
#define MBEDTLS_PSA_CRYPTO_C

/* ---- TLS: server only, 1.2 and 1.3 ---- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE /* TLS 1.3 requires it in 3.6 */
/* TLS 1.2: ECDHE-ECDSA only, and with the ciphers above only the AEAD
 * suites (AES-GCM, ChaCha20-Poly1305) exist: no CBC, no RSA, no PSK. */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
/* Input records must take 16 KiB (clients do not negotiate a smaller
 * fragment length); output is fragmented by mbedTLS. */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

#endif
