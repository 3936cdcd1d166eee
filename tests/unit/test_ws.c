/*
 * test_ws.c - SHA-1 against RFC 3174's test vectors, base64 (RFC 4648),
 * the WebSocket accept key of RFC 6455's own example, and the frame
 * reader (mgmt/ws.c): masking, fragmentation, control frames between
 * fragments, byte-at-a-time input, every protocol error it must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/err.h"
#include "mgmt/sha1.h"
#include "mgmt/ws.h"

/* ------------------------------------------------------------- SHA-1 -- */

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_sha1(const void *data, size_t len, const char *want)
{
	uint8_t d[SHA1_DIGEST_SIZE];
	char h[41];

	sha1(data, len, d);
	hex(d, sizeof(d), h);
	assert_string_equal(h, want);
}

/* RFC 3174 section 7.3: TEST1, TEST2, TEST3 (a million 'a'), TEST4. */
static void test_sha1_rfc3174(void **state)
{
	static const char t4[] = "01234567012345670123456701234567";
	char *big = malloc(1000000);
	char buf[640];

	check_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		   56, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	memset(big, 'a', 1000000);
	check_sha1(big, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(big);
	for (int i = 0; i < 20; i++)
		memcpy(buf + 32 * i, t4, 32);
	check_sha1(buf, sizeof(buf), "dea356a2cddd90c7a7ecedc5ebb563934f460452");
	check_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

/* The same message fed in pieces of every size gives the same digest
 * (the padding edge cases: 55, 56 and 64 bytes left in a block). */
static void test_sha1_incremental(void **state)
{
	uint8_t msg[200], one[20], parts[20];

	for (int i = 0; i < 200; i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= 200; len++) {
		sha1(msg, len, one);
		for (size_t step = 1; step <= 65; step += 16) {
			struct sha1_ctx c;
			sha1_init(&c);
			for (size_t o = 0; o < len; o += step)
				sha1_update(&c, msg + o, len - o < step ? len - o : step);
			sha1_final(&c, parts);
			assert_memory_equal(one, parts, 20);
		}
	}
}

/* ------------------------------------------------------------ base64 -- */

static void test_base64(void **state)
{
	/* RFC 4648 section 10 */
	static const char *const vec[][2] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
	};
	char out[16];
	uint8_t dec[16];

	for (unsigned i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		size_t n = strlen(vec[i][0]);
		assert_int_equal(base64_encode((const uint8_t *)vec[i][0], n, out),
				 strlen(vec[i][1]));
		assert_string_equal(out, vec[i][1]);
		assert_int_equal(base64_decode(vec[i][1], strlen(vec[i][1]), dec,
					       sizeof(dec)), n);
		assert_memory_equal(dec, vec[i][0], n);
	}
	assert_int_equal(base64_decode("Zg=", 3, dec, 16), -1);	 /* length */
	assert_int_equal(base64_decode("Z===", 4, dec, 16), -1);	 /* padding */
	assert_int_equal(base64_decode("Zh==", 4, dec, 16), -1);	 /* not canonical */
	assert_int_equal(base64_decode("Zm9v!A==", 8, dec, 16), -1); /* alphabet */
	assert_int_equal(base64_decode("Zg==Zg==", 8, dec, 16), -1); /* pad inside */
	assert_int_equal(base64_decode("Zm9vYmFy", 8, dec, 5), -1);	 /* too long */
}

/* -------------------------------------------------------- accept key -- */

static void test_accept_key_rfc6455(void **state)
{
	char out[WS_ACCEPT_LEN + 1];
	const char *key = "dGhlIHNhbXBsZSBub25jZQ==";

	/* RFC 6455 section 1.3's example. */
	assert_int_equal(ws_accept_key(key, strlen(key), out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	/* Section 4.1: the key decodes to 16 bytes, or it is refused. */
	assert_int_equal(ws_accept_key("Zm9vYmFy", 8, out), KEEL_EINVAL);
	assert_int_equal(ws_accept_key("", 0, out), KEEL_EINVAL);
	assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", 23, out),
			 KEEL_EINVAL);
}

/* ------------------------------------------------------------ frames -- */

struct rx_log {
	uint8_t data[4096];
	size_t len;
	unsigned messages; /* data calls with fin */
	unsigned last_opcode;
	unsigned controls;
	unsigned ctrl_opcode;
	uint8_t ctrl[125];
	size_t ctrl_len;
};

static void on_data(void *ctx, unsigned opcode, const uint8_t *p, size_t n,
		    bool fin)
{
	struct rx_log *l = ctx;

	assert_true(l->len + n <= sizeof(l->data));
	if (n)
		memcpy(l->data + l->len, p, n);
	l->len += n;
	l->last_opcode = opcode;
	l->messages += fin;
}

static void on_control(void *ctx, unsigned opcode, const uint8_t *p, size_t n)
{
	struct rx_log *l = ctx;

	l->controls++;
	l->ctrl_opcode = opcode;
	memcpy(l->ctrl, p, n);
	l->ctrl_len = n;
}

static const struct ws_rx_ops ops = {.data = on_data, .control = on_control};

/* A client frame: FIN/opcode byte b0, masked with mask. */
static size_t frame(uint8_t *out, uint8_t b0, const void *payload, size_t n,
		    const uint8_t mask[4])
{
	size_t h = 0;

	out[h++] = b0;
	if (n < 126) {
		out[h++] = 0x80 | (uint8_t)n;
	} else if (n < 65536) {
		out[h++] = 0x80 | 126;
		out[h++] = (uint8_t)(n >> 8);
		out[h++] = (uint8_t)n;
	} else {
		out[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			out[h++] = (uint8_t)((uint64_t)n >> (8 * i));
	}
	memcpy(out + h, mask, 4);
	h += 4;
	for (size_t i = 0; i < n; i++)
		out[h + i] = ((const uint8_t *)payload)[i] ^ mask[i & 3];
	return h + n;
}

static const uint8_t mask1[4] = {0x37, 0xfa, 0x21, 0x3d};

/* RFC 6455 section 5.7: "A single-frame masked text message" */
static void test_rx_rfc_example(void **state)
{
	static const uint8_t wire[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
				       0x7f, 0x9f, 0x4d, 0x51, 0x58};
	struct ws_rx rx = {0};
	struct rx_log l = {0};

	assert_int_equal(ws_rx_input(&rx, wire, sizeof(wire), &ops, &l), 0);
	assert_int_equal(l.len, 5);
	assert_memory_equal(l.data, "Hello", 5);
	assert_int_equal(l.messages, 1);
	assert_int_equal(l.last_opcode, WS_OP_TEXT);
}

/* Fragments with a ping between them (section 5.4), fed one byte at a
 * time, then a binary message with a 16-bit and one with a 64-bit length. */
static void test_rx_fragments_bytewise(void **state)
{
	uint8_t wire[4096], big[300];
	size_t n = 0;
	struct ws_rx rx = {0};
	struct rx_log l = {0};

	n += frame(wire + n, 0x01, "Hel", 3, mask1);	    /* text, no FIN */
	n += frame(wire + n, 0x89, "pp", 2, mask1);	    /* ping */
	n += frame(wire + n, 0x80, "lo", 2, mask1);	    /* cont, FIN */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ws_rx_input(&rx, wire + i, 1, &ops, &l), 0);
	assert_int_equal(l.len, 5);
	assert_memory_equal(l.data, "Hello", 5);
	assert_int_equal(l.messages, 1);
	assert_int_equal(l.controls, 1);
	assert_int_equal(l.ctrl_opcode, WS_OP_PING);
	assert_memory_equal(l.ctrl, "pp", 2);

	memset(&l, 0, sizeof(l));
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	n = frame(wire, 0x82, big, sizeof(big), mask1);
	assert_int_equal(wire[1], 0x80 | 126);
	assert_int_equal(ws_rx_input(&rx, wire, n, &ops, &l), 0);
	assert_int_equal(l.len, sizeof(big));
	assert_memory_equal(l.data, big, sizeof(big));
	assert_int_equal(l.last_opcode, WS_OP_BINARY);

	/* A 64-bit length that is small (allowed, if not minimal). */
	memset(&l, 0, sizeof(l));
	uint8_t w64[] = {0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 2,
			 1, 2, 3, 4, 'a' ^ 1, 'b' ^ 2};
	assert_int_equal(ws_rx_input(&rx, w64, sizeof(w64), &ops, &l), 0);
	assert_int_equal(l.len, 2);
	assert_memory_equal(l.data, "ab", 2);
	assert_int_equal(l.messages, 1);
}

static void test_rx_empty_and_close(void **state)
{
	uint8_t wire[64];
	size_t n;
	struct ws_rx rx = {0};
	struct rx_log l = {0};

	n = frame(wire, 0x81, "", 0, mask1); /* an empty text message */
	assert_int_equal(ws_rx_input(&rx, wire, n, &ops, &l), 0);
	assert_int_equal(l.messages, 1);
	assert_int_equal(l.len, 0);

	uint8_t body[] = {0x03, 0xE8, 'b', 'y', 'e'}; /* 1000 "bye" */
	n = frame(wire, 0x88, body, sizeof(body), mask1);
	n += frame(wire + n, 0x81, "late", 4, mask1);
	assert_int_equal(ws_rx_input(&rx, wire, n, &ops, &l), 0);
	assert_int_equal(l.controls, 1);
	assert_int_equal(l.ctrl_opcode, WS_OP_CLOSE);
	assert_int_equal(l.ctrl_len, 5);
	assert_memory_equal(l.ctrl, body, 5);
	assert_true(rx.closed);
	assert_int_equal(l.len, 0); /* nothing after the Close is read */
}

static int rx_one(const uint8_t *wire, size_t n)
{
	struct ws_rx rx = {0};
	struct rx_log l = {0};

	return ws_rx_input(&rx, wire, n, &ops, &l);
}

/* Section 5: what a server must fail the connection for. */
static void test_rx_protocol_errors(void **state)
{
	uint8_t wire[512], big[200] = {0};
	size_t n;

	static const uint8_t unmasked[] = {0x81, 0x02, 'h', 'i'};
	assert_int_equal(rx_one(unmasked, sizeof(unmasked)), WS_CLOSE_PROTOCOL);
	n = frame(wire, 0xC1, "x", 1, mask1); /* RSV1 */
	assert_int_equal(rx_one(wire, n), WS_CLOSE_PROTOCOL);
	n = frame(wire, 0x83, "x", 1, mask1); /* reserved opcode 3 */
	assert_int_equal(rx_one(wire, n), WS_CLOSE_PROTOCOL);
	n = frame(wire, 0x8B, "x", 1, mask1); /* reserved control 0xB */
	assert_int_equal(rx_one(wire, n), WS_CLOSE_PROTOCOL);
	n = frame(wire, 0x09, "x", 1, mask1); /* fragmented ping */
	assert_int_equal(rx_one(wire, n), WS_CLOSE_PROTOCOL);
	n = frame(wire, 0x89, big, 126, mask1); /* control > 125 bytes */
	assert_int_equal(rx_one(wire, n), WS_CLOSE_PROTOCOL);
	n = frame(wire, 0x80, "x", 1, mask1); /* continuation of nothing */
	assert_int_equal(rx_one(wire, n), WS_CLOSE_PROTOCOL);
	n = frame(wire, 0x01, "a", 1, mask1); /* text inside a text message */
	n += frame(wire + n, 0x81, "b", 1, mask1);
	assert_int_equal(rx_one(wire, n), WS_CLOSE_PROTOCOL);
	static const uint8_t msb[] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1,
				      1, 2, 3, 4};
	assert_int_equal(rx_one(msb, sizeof(msb)), WS_CLOSE_PROTOCOL);
	static const uint8_t c1[] = {0x03};
	n = frame(wire, 0x88, c1, 1, mask1); /* a 1-byte Close */
	assert_int_equal(rx_one(wire, n), WS_CLOSE_PROTOCOL);
	static const uint8_t c1005[] = {0x03, 0xED}; /* 1005 may not be sent */
	n = frame(wire, 0x88, c1005, 2, mask1);
	assert_int_equal(rx_one(wire, n), WS_CLOSE_PROTOCOL);
	static const uint8_t cbad[] = {0x03, 0xE8, 0xC3}; /* reason not UTF-8 */
	n = frame(wire, 0x88, cbad, 3, mask1);
	assert_int_equal(rx_one(wire, n), WS_CLOSE_BAD_DATA);
}

/* Section 8.1: text must be UTF-8, even split across frames. */
static void test_rx_utf8(void **state)
{
	uint8_t wire[256];
	size_t n;
	struct ws_rx rx = {0};
	struct rx_log l = {0};

	/* "é€😀" split inside each sequence. */
	static const uint8_t s[] = {0xC3, 0xA9, 0xE2, 0x82, 0xAC,
				    0xF0, 0x9F, 0x98, 0x80};
	n = frame(wire, 0x01, s, 1, mask1);
	n += frame(wire + n, 0x00, s + 1, 3, mask1);
	n += frame(wire + n, 0x00, s + 4, 3, mask1);
	n += frame(wire + n, 0x80, s + 7, 2, mask1);
	assert_int_equal(ws_rx_input(&rx, wire, n, &ops, &l), 0);
	assert_int_equal(l.len, sizeof(s));
	assert_memory_equal(l.data, s, sizeof(s));

	static const uint8_t bad[][4] = {
		{0xC0, 0xAF},		/* overlong '/' */
		{0xED, 0xA0, 0x80},	/* a surrogate */
		{0xF4, 0x90, 0x80, 0x80}, /* above U+10FFFF */
		{0xFF},
		{0xE2, 0x82},		/* cut short at the message's end */
	};
	static const size_t bad_len[] = {2, 3, 4, 1, 2};
	for (unsigned i = 0; i < 5; i++) {
		n = frame(wire, 0x81, bad[i], bad_len[i], mask1);
		assert_int_equal(rx_one(wire, n), WS_CLOSE_BAD_DATA);
	}
	/* Binary frames carry any bytes. */
	n = frame(wire, 0x82, bad[3], 1, mask1);
	assert_int_equal(rx_one(wire, n), 0);
}

static void test_frame_header_and_close(void **state)
{
	uint8_t h[WS_FRAME_HEADER_MAX], p[WS_CONTROL_MAX];
	char reason[200];

	assert_int_equal(ws_frame_header(h, WS_OP_BINARY, 5), 2);
	assert_int_equal(h[0], 0x82);
	assert_int_equal(h[1], 5);
	assert_int_equal(ws_frame_header(h, WS_OP_TEXT, 125), 2);
	assert_int_equal(ws_frame_header(h, WS_OP_TEXT, 126), 4);
	assert_int_equal(h[1], 126);
	assert_int_equal(h[2] << 8 | h[3], 126);
	assert_int_equal(ws_frame_header(h, WS_OP_BINARY, 65535), 4);
	assert_int_equal(ws_frame_header(h, WS_OP_BINARY, 65536), 10);
	assert_int_equal(h[1], 127);
	assert_int_equal(h[7], 1); /* 0x0000000000010000 */
	assert_int_equal(h[8] | h[9], 0);

	assert_int_equal(ws_close_payload(p, 1000, "bye"), 5);
	assert_int_equal(p[0] << 8 | p[1], 1000);
	assert_memory_equal(p + 2, "bye", 3);
	assert_int_equal(ws_close_payload(p, 1001, NULL), 2);
	/* A long reason is cut to fit 125 bytes, never inside a UTF-8
	 * sequence ("é" is 2 bytes: 61 of them end at 122+2). */
	for (int i = 0; i < 100; i++)
		memcpy(reason + 2 * i, "\xC3\xA9", 2);
	reason[200 - 1] = 0;
	size_t n = ws_close_payload(p, 1000, reason);
	assert_true(n <= WS_CONTROL_MAX);
	assert_int_equal((n - 2) % 2, 0);

	assert_true(ws_close_code_valid(1000));
	assert_true(ws_close_code_valid(1011));
	assert_true(ws_close_code_valid(3000));
	assert_true(ws_close_code_valid(4999));
	assert_false(ws_close_code_valid(999));
	assert_false(ws_close_code_valid(1004));
	assert_false(ws_close_code_valid(1005));
	assert_false(ws_close_code_valid(1006));
	assert_false(ws_close_code_valid(1015));
	assert_false(ws_close_code_valid(2999));
	assert_false(ws_close_code_valid(5000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha1_rfc3174),
		cmocka_unit_test(test_sha1_incremental),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_accept_key_rfc6455),
		cmocka_unit_test(test_rx_rfc_example),
		cmocka_unit_test(test_rx_fragments_bytewise),
		cmocka_unit_test(test_rx_empty_and_close),
		cmocka_unit_test(test_rx_protocol_errors),
		cmocka_unit_test(test_rx_utf8),
		cmocka_unit_test(test_frame_header_and_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
