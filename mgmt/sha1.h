/*
 * sha1.h - SHA-1 (RFC 3174 / FIPS 180-4), only for the WebSocket handshake's
 * Sec-WebSocket-Accept (RFC 6455 section 4.2.2): mbedTLS is built without
 * SHA-1. Not for anything that needs collision resistance.
 */
#ifndef KEEL_MGMT_SHA1_H
#define KEEL_MGMT_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_SIZE 20

struct sha1_ctx {
	uint32_t h[5];
	uint64_t bytes;	   /* message length so far */
	uint8_t block[64]; /* partial block */
	unsigned used;	   /* bytes in block */
};

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *data, size_t len);
void sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_DIGEST_SIZE]);
/* One call: the digest of len bytes. */
void sha1(const void *data, size_t len, uint8_t out[SHA1_DIGEST_SIZE]);

#endif
