/*
 * ws.c - the WebSocket framing keelctl needs for a VM's interactive
 * console (RFC 6455): frames in and out, the opening handshake's keys.
 * Pure byte work apart from SHA-1, base64 and random bytes (libcrypto);
 * the bytes travel over client.c's raw TLS stream.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "keelctl.h"

/* RFC 6455 section 1.3: appended to the key before hashing. */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

size_t ws_frame_size(uint64_t len, bool masked)
{
	size_t head = 2;

	/* Section 5.2: 7-bit length, or 126 + 16 bits, or 127 + 64 bits. */
	if (len > 0xffff)
		head += 8;
	else if (len > 125)
		head += 2;
	return head + (masked ? 4 : 0) + (size_t)len;
}

size_t ws_frame_encode(uint8_t *out, size_t cap, unsigned opcode,
		       const uint8_t *payload, size_t len, const uint8_t *mask)
{
	size_t need = ws_frame_size(len, mask != NULL), p = 0;

	if (need > cap || opcode > 0xf)
		return 0;
	out[p++] = (uint8_t)(0x80 | opcode); /* FIN, no RSV bits */
	if (len > 0xffff) {
		out[p++] = (uint8_t)((mask ? 0x80 : 0) | 127);
		for (int i = 7; i >= 0; i--)
			out[p++] = (uint8_t)((uint64_t)len >> (8 * i));
	} else if (len > 125) {
		out[p++] = (uint8_t)((mask ? 0x80 : 0) | 126);
		out[p++] = (uint8_t)(len >> 8);
		out[p++] = (uint8_t)len;
	} else {
		out[p++] = (uint8_t)((mask ? 0x80 : 0) | len);
	}
	if (mask) {
		/* Section 5.3: octet i XOR mask[i mod 4]. */
		memcpy(out + p, mask, 4);
		p += 4;
		for (size_t i = 0; i < len; i++)
			out[p + i] = payload[i] ^ mask[i & 3];
	} else if (len) {
		memcpy(out + p, payload, len);
	}
	return p + len;
}

long ws_frame_decode(uint8_t *buf, size_t len, struct ws_frame *f)
{
	size_t p = 2;
	uint64_t plen;
	uint8_t mask[4];
	bool masked;

	if (len < 2)
		return 0;
	f->fin = buf[0] & 0x80;
	f->opcode = buf[0] & 0x0f;
	/* RSV1-3 must be 0 unless an extension was negotiated; none is. */
	if (buf[0] & 0x70)
		return KEEL_ECORRUPT;
	/* Opcodes 3-7 and B-F are reserved (section 5.2). */
	if ((f->opcode >= 3 && f->opcode <= 7) || f->opcode >= 0xB)
		return KEEL_ECORRUPT;
	masked = buf[1] & 0x80;
	f->masked = masked;
	plen = buf[1] & 0x7f;
	if (plen == 126) {
		if (len < 4)
			return 0;
		plen = (uint64_t)buf[2] << 8 | buf[3];
		p = 4;
	} else if (plen == 127) {
		if (len < 10)
			return 0;
		plen = 0;
		for (int i = 0; i < 8; i++)
			plen = plen << 8 | buf[2 + i];
		/* The most significant bit must be 0. */
		if (plen >> 63)
			return KEEL_ECORRUPT;
		p = 10;
	}
	/* Section 5.5: control frames are short and never fragmented. */
	if (f->opcode >= 8 && (plen > 125 || !f->fin))
		return KEEL_ECORRUPT;
	if (masked) {
		if (len < p + 4)
			return 0;
		memcpy(mask, buf + p, 4);
		p += 4;
	}
	if (plen > (uint64_t)(len - p))
		return 0;
	if (p + plen > (uint64_t)0x7fffffff)
		return KEEL_ECORRUPT;
	if (masked)
		for (uint64_t i = 0; i < plen; i++)
			buf[p + i] ^= mask[i & 3];
	f->payload = buf + p;
	f->len = plen;
	return (long)(p + plen);
}

int ws_accept_key(const char *key, char out[29])
{
	uint8_t digest[SHA_DIGEST_LENGTH];
	char in[128];
	int len = snprintf(in, sizeof(in), "%s" WS_GUID, key);

	if (len < 0 || (size_t)len >= sizeof(in))
		return KEEL_EINVAL;
	/* Section 4.2.2 step 5.4: base64(SHA-1(key + GUID)), 28 characters. */
	SHA1((const uint8_t *)in, (size_t)len, digest);
	if (EVP_EncodeBlock((uint8_t *)out, digest, sizeof(digest)) != 28)
		return KEEL_EIO;
	return 0;
}

int ws_make_key(char out[25])
{
	uint8_t nonce[16];

	/* Section 4.1: a nonce of 16 random bytes, base64-encoded. */
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return KEEL_EIO;
	if (EVP_EncodeBlock((uint8_t *)out, nonce, sizeof(nonce)) != 24)
		return KEEL_EIO;
	return 0;
}

bool ws_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	/* RFC 3629 section 4: no overlongs, no surrogates, at most U+10FFFF. */
	while (i < n) {
		uint8_t c = s[i];
		unsigned need;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			need = 1;
			cp = c & 0x1F;
			min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2;
			cp = c & 0x0F;
			min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (n - i - 1 < need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += need + 1;
	}
	return true;
}
