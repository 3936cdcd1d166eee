/*
 * ws.c - RFC 6455 for the server side: the accept key of the opening
 * handshake (section 4.2.2), client frames taken apart byte by byte as they
 * arrive (section 5.2: masked, fragmented, interleaved control frames; text
 * checked as UTF-8, section 8.1), and the unmasked frames the server sends.
 */
#include <string.h>

#include "kernel/err.h"
#include "mgmt/sha1.h"
#include "mgmt/ws.h"

/* Section 1.3 */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64_chars[v >> 18 & 63];
		out[o++] = b64_chars[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64_chars[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64_chars[v & 63] : '=';
	}
	out[o] = 0;
	return o;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;
		unsigned pad = 0;
		uint32_t v = 0;

		for (unsigned j = 0; j < 4; j++) {
			int d = b64_value(in[i + j]);

			if (in[i + j] == '=' && last && j >= 2 &&
			    (j == 3 || in[i + 3] == '=')) {
				pad++;
				d = 0;
			} else if (d < 0 || pad) {
				return -1;
			}
			v = v << 6 | (uint32_t)d;
		}
		/* Canonical: the bits padding leaves over are zero. */
		if ((pad == 1 && (v & 0xFF)) || (pad == 2 && (v & 0xFFFF)))
			return -1;
		if (o + 3 - pad > cap)
			return -1;
		out[o++] = (uint8_t)(v >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(v >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)v;
	}
	return (long)o;
}

int ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN + 1])
{
	uint8_t nonce[16], digest[SHA1_DIGEST_SIZE];
	struct sha1_ctx c;

	/* Section 4.1: "a base64-encoded value that, when decoded, is 16
	 * bytes in length"; section 4.2.1 makes the server check it. */
	if (base64_decode(key, key_len, nonce, sizeof(nonce)) != 16)
		return KEEL_EINVAL;
	sha1_init(&c);
	sha1_update(&c, key, key_len);
	sha1_update(&c, ws_guid, sizeof(ws_guid) - 1);
	sha1_final(&c, digest);
	base64_encode(digest, sizeof(digest), out);
	return 0;
}

/* RFC 3629 section 4: the well-formed byte sequences, one byte at a time
 * so a code point may straddle frames. */
static bool utf8_feed(struct ws_utf8 *u, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];

		if (u->need) {
			if (b < u->lo || b > u->hi)
				return false;
			u->need--;
			u->lo = 0x80;
			u->hi = 0xBF;
			continue;
		}
		if (b < 0x80)
			continue;
		u->lo = 0x80;
		u->hi = 0xBF;
		if (b >= 0xC2 && b <= 0xDF) {
			u->need = 1;
		} else if (b >= 0xE0 && b <= 0xEF) {
			u->need = 2;
			if (b == 0xE0)
				u->lo = 0xA0; /* no overlong forms */
			else if (b == 0xED)
				u->hi = 0x9F; /* no surrogates */
		} else if (b >= 0xF0 && b <= 0xF4) {
			u->need = 3;
			if (b == 0xF0)
				u->lo = 0x90;
			else if (b == 0xF4)
				u->hi = 0x8F; /* nothing above U+10FFFF */
		} else {
			return false;
		}
	}
	return true;
}

bool ws_close_code_valid(unsigned code)
{
	/* Section 7.4.1 and the IANA registry (section 11.7): 1004-1006 and
	 * 1015 must never be sent; 3000-4999 belong to libraries and
	 * applications. */
	if (code >= 1000 && code <= 1014)
		return code < 1004 || code > 1006;
	return code >= 3000 && code <= 4999;
}

/* Section 5.2: the frame header is complete; check it. */
static int ws_rx_header(struct ws_rx *rx)
{
	uint8_t b0 = rx->hdr[0], b1 = rx->hdr[1];
	unsigned len7 = b1 & 0x7F, off = 2;

	rx->fin = b0 & 0x80;
	rx->opcode = b0 & 0x0F;
	if (b0 & 0x70) /* RSV1-3 without a negotiated extension */
		return WS_CLOSE_PROTOCOL;
	if (!(b1 & 0x80)) /* section 5.1: a client masks every frame */
		return WS_CLOSE_PROTOCOL;
	if (len7 == 126) {
		rx->left = (uint64_t)rx->hdr[2] << 8 | rx->hdr[3];
		off = 4;
	} else if (len7 == 127) {
		rx->left = 0;
		for (unsigned i = 0; i < 8; i++)
			rx->left = rx->left << 8 | rx->hdr[2 + i];
		if (rx->left >> 63) /* "the most significant bit MUST be 0" */
			return WS_CLOSE_PROTOCOL;
		off = 10;
	} else {
		rx->left = len7;
	}
	memcpy(rx->mask, rx->hdr + off, 4);
	rx->mask_pos = 0;

	switch (rx->opcode) {
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		/* Section 5.5: short and never fragmented. */
		if (!rx->fin || rx->left > WS_CONTROL_MAX)
			return WS_CLOSE_PROTOCOL;
		rx->ctrl_len = 0;
		break;
	case WS_OP_CONT:
		if (!rx->msg_opcode) /* nothing to continue */
			return WS_CLOSE_PROTOCOL;
		break;
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		if (rx->msg_opcode) /* section 5.4: fragments do not interleave */
			return WS_CLOSE_PROTOCOL;
		rx->msg_opcode = rx->opcode;
		rx->utf8.need = 0;
		break;
	default: /* reserved opcodes */
		return WS_CLOSE_PROTOCOL;
	}
	rx->in_payload = true;
	return 0;
}

/* A whole control frame arrived. */
static int ws_rx_control(struct ws_rx *rx, const struct ws_rx_ops *ops,
			 void *ctx)
{
	if (rx->opcode == WS_OP_CLOSE) {
		struct ws_utf8 u = {0};

		/* Section 5.5.1: empty, or a 2-byte code and a UTF-8 reason. */
		if (rx->ctrl_len == 1)
			return WS_CLOSE_PROTOCOL;
		if (rx->ctrl_len >= 2 &&
		    !ws_close_code_valid((unsigned)rx->ctrl[0] << 8 | rx->ctrl[1]))
			return WS_CLOSE_PROTOCOL;
		if (rx->ctrl_len > 2 &&
		    (!utf8_feed(&u, rx->ctrl + 2, rx->ctrl_len - 2) || u.need))
			return WS_CLOSE_BAD_DATA;
		rx->closed = true;
	}
	ops->control(ctx, rx->opcode, rx->ctrl, rx->ctrl_len);
	return 0;
}

/* Payload bytes of the current frame (at most rx->left): unmask, hand on. */
static int ws_rx_payload(struct ws_rx *rx, const uint8_t *p, size_t n,
			 const struct ws_rx_ops *ops, void *ctx)
{
	uint8_t buf[256];

	rx->left -= n;
	if (rx->opcode & 0x8) {
		for (size_t i = 0; i < n; i++)
			rx->ctrl[rx->ctrl_len++] =
				p[i] ^ rx->mask[rx->mask_pos++ & 3];
		return 0;
	}
	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);
		bool end;

		for (size_t i = 0; i < k; i++)
			buf[i] = p[i] ^ rx->mask[rx->mask_pos++ & 3];
		p += k;
		n -= k;
		end = rx->fin && rx->left == 0 && n == 0;
		if (rx->msg_opcode == WS_OP_TEXT &&
		    (!utf8_feed(&rx->utf8, buf, k) || (end && rx->utf8.need)))
			return WS_CLOSE_BAD_DATA;
		ops->data(ctx, rx->msg_opcode, buf, k, end);
	}
	return 0;
}

/* The frame's payload is complete. */
static int ws_rx_frame_end(struct ws_rx *rx, const struct ws_rx_ops *ops,
			   void *ctx)
{
	rx->in_payload = false;
	rx->hdr_len = 0;
	if (rx->opcode & 0x8)
		return ws_rx_control(rx, ops, ctx);
	if (rx->fin) {
		if (rx->msg_opcode == WS_OP_TEXT && rx->utf8.need)
			return WS_CLOSE_BAD_DATA;
		rx->msg_opcode = 0;
	}
	return 0;
}

int ws_rx_input(struct ws_rx *rx, const uint8_t *data, size_t len,
		const struct ws_rx_ops *ops, void *ctx)
{
	int err;

	while (len && !rx->closed) {
		if (!rx->in_payload) {
			unsigned need = 2;

			rx->hdr[rx->hdr_len++] = *data++;
			len--;
			if (rx->hdr_len >= 2) {
				unsigned len7 = rx->hdr[1] & 0x7F;
				need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) +
				       (rx->hdr[1] & 0x80 ? 4 : 0);
			}
			if (rx->hdr_len < need)
				continue;
			err = ws_rx_header(rx);
			if (err)
				return err;
			/* An empty frame that ends a message still says so. */
			if (!rx->left && !(rx->opcode & 0x8) && rx->fin &&
			    !(rx->msg_opcode == WS_OP_TEXT && rx->utf8.need))
				ops->data(ctx, rx->msg_opcode, NULL, 0, true);
		} else {
			size_t k = len < rx->left ? len : (size_t)rx->left;

			err = ws_rx_payload(rx, data, k, ops, ctx);
			if (err)
				return err;
			data += k;
			len -= k;
		}
		if (!rx->left) {
			err = ws_rx_frame_end(rx, ops, ctx);
			if (err)
				return err;
		}
	}
	return 0;
}

size_t ws_frame_header(uint8_t out[WS_FRAME_HEADER_MAX], unsigned opcode,
		       uint64_t len)
{
	out[0] = 0x80 | (opcode & 0x0F);
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xFFFF) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (unsigned i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

size_t ws_close_payload(uint8_t out[WS_CONTROL_MAX], uint16_t code,
			const char *reason)
{
	size_t n = reason ? strlen(reason) : 0;

	if (n > WS_CONTROL_MAX - 2)
		n = WS_CONTROL_MAX - 2;
	/* Never cut inside a UTF-8 sequence: back up to a lead byte. */
	while (n && n < strlen(reason) && (reason[n] & 0xC0) == 0x80)
		n--;
	out[0] = (uint8_t)(code >> 8);
	out[1] = (uint8_t)code;
	if (n)
		memcpy(out + 2, reason, n);
	return n + 2;
}
