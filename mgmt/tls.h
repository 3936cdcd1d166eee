/*
 * tls.h - the management server's TLS side (mgmt/tls.c): the random
 * generator, the server identity (a certificate and key from the boot
 * volume, or made at boot) and the one mbedTLS configuration every
 * connection uses: TLS 1.3 and 1.2, AEAD suites only. All of it belongs to
 * the management thread, the only caller.
 */
#ifndef KEEL_MGMT_TLS_H
#define KEEL_MGMT_TLS_H

#include <stddef.h>
#include <stdint.h>

#define TLS_FP_HEX 64 /* SHA-256 as lowercase hex */

struct boot_info;
struct keel_config;
struct mbedtls_ssl_config;

/* Seed the generator, start PSA, load or make the identity, set up the
 * configuration. 0, or a KEEL_E* code (logged) when no TLS is possible. */
int tls_init(const struct boot_info *bi, const struct keel_config *cfg);
const struct mbedtls_ssl_config *tls_config(void);
/* The certificate's fingerprint, TLS_FP_HEX digits; "" before tls_init. */
const char *tls_fingerprint(void);
/* Random bytes from the agent's CTR_DRBG: 0, or KEEL_EIO. */
int tls_random(void *out, size_t len);
/* Bytes mbedTLS holds on the heap now (a leak check for connections). */
size_t tls_heap_in_use(void);

/* ---- pure (mgmt/fingerprint.c, host-tested) ---- */

/* out = n bytes as 2n lowercase hex digits and a NUL. */
void tls_hex(const uint8_t *bin, size_t n, char *out);
/* out = SHA-256 of a certificate's DER encoding as TLS_FP_HEX digits, the
 * form `openssl x509 -fingerprint -sha256` shows without the colons. */
void tls_fingerprint_der(const uint8_t *der, size_t len,
			 char out[TLS_FP_HEX + 1]);

#endif
