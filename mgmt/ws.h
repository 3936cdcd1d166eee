/*
 * ws.h - WebSocket (RFC 6455) for the management server: the opening
 * handshake's accept key, the frames a client sends (always masked) taken
 * apart as they arrive, and the frames the server sends (never masked).
 * Pure: no allocation, no kernel calls; mgmt/http.c drives it.
 */
#ifndef KEEL_MGMT_WS_H
#define KEEL_MGMT_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 6455 section 5.2 */
enum ws_op {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* Close codes, RFC 6455 section 7.4.1 */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING_AWAY 1001
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_NO_STATUS 1005 /* never sent: a Close without a code */
#define WS_CLOSE_BAD_DATA 1007	/* a text message that is not UTF-8 */
#define WS_CLOSE_TOO_BIG 1009

#define WS_CONTROL_MAX 125    /* section 5.5: control frame payloads */
#define WS_FRAME_HEADER_MAX 10 /* server frames: no mask */
#define WS_ACCEPT_LEN 28      /* base64 of a SHA-1 digest */

/* Sec-WebSocket-Accept (section 4.2.2 step 5.4): base64(SHA-1(key + GUID)),
 * NUL-terminated in out. KEEL_EINVAL unless key (key_len bytes) is the
 * base64 encoding of 16 bytes, as section 4.1 requires of a client. */
int ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN + 1]);

/* What the receiver calls back with. data: payload bytes of a text or
 * binary message, unmasked, in order (a message may come in many calls;
 * fin on the call that ends it). control: one whole ping, pong or close
 * frame's payload. */
struct ws_rx_ops {
	void (*data)(void *ctx, unsigned opcode, const uint8_t *p, size_t n,
		     bool fin);
	void (*control)(void *ctx, unsigned opcode, const uint8_t *p,
			size_t n);
};

/* The receiving side of one connection. Zero it to start. */
struct ws_rx {
	uint8_t hdr[14];      /* the frame header being read */
	unsigned hdr_len;
	uint64_t left;	      /* payload bytes of this frame still to come */
	uint8_t mask[4];
	unsigned mask_pos;
	unsigned opcode;      /* of the frame being read */
	bool fin;
	bool in_payload;
	unsigned msg_opcode;  /* TEXT/BINARY of a message not yet finished, 0 */
	uint8_t ctrl[WS_CONTROL_MAX];
	unsigned ctrl_len;
	struct ws_utf8 {
		unsigned need;	   /* continuation bytes the text still owes */
		uint8_t lo, hi;	   /* range of the next one (RFC 3629 4) */
	} utf8;
	bool closed;	      /* a Close frame came: ignore the rest */
};

/* Feed received bytes. Returns 0, or the close code (> 0) to answer a
 * protocol violation with: the caller sends that Close and ends. */
int ws_rx_input(struct ws_rx *rx, const uint8_t *data, size_t len,
		const struct ws_rx_ops *ops, void *ctx);

/* The header of one server frame (FIN set, no mask) carrying len bytes;
 * returns its length (2, 4 or 10). */
size_t ws_frame_header(uint8_t out[WS_FRAME_HEADER_MAX], unsigned opcode,
		       uint64_t len);
/* A Close frame's payload: the code (network order) and a reason, cut to
 * fit WS_CONTROL_MAX. Returns its length. */
size_t ws_close_payload(uint8_t out[WS_CONTROL_MAX], uint16_t code,
			const char *reason);
/* Is a close code one a peer may send (section 7.4)? */
bool ws_close_code_valid(unsigned code);

/* base64 (RFC 4648 section 4, with padding); out needs 4*ceil(n/3)+1
 * bytes. Returns the length written (without the NUL). */
size_t base64_encode(const uint8_t *in, size_t n, char *out);
/* Decode; returns the byte count, or -1 for anything but canonical padded
 * base64 or more than cap bytes. */
long base64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

#endif
