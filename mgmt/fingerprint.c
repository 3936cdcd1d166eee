/*
 * fingerprint.c - a certificate's SHA-256 fingerprint as the console line
 * "keel: mgmt https://<address>/ sha256=<fingerprint>" prints it (DESIGN.md
 * section 10): 64 lowercase hex digits of the hash of the DER encoding.
 * Pure, so the host tests run it.
 */
#include "mbedtls/sha256.h"
#include "mgmt/tls.h"

void tls_hex(const uint8_t *bin, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[bin[i] >> 4];
		out[2 * i + 1] = digits[bin[i] & 0xf];
	}
	out[2 * n] = 0;
}

void tls_fingerprint_der(const uint8_t *der, size_t len,
			 char out[TLS_FP_HEX + 1])
{
	uint8_t hash[32];

	mbedtls_sha256(der, len, hash, 0);
	tls_hex(hash, sizeof(hash), out);
}
