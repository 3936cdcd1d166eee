/*
 * test_http.c - the HTTP/1.1 connection (mgmt/http.c) against a stub API:
 * malformed, truncated, oversized and pipelined requests, chunked and
 * streamed bodies, keep-alive and close, the timeouts, the statuses RFC
 * 9112/9110 give each mistake, JSON error bodies, and the switch to a
 * WebSocket. Bytes in, bytes out, as the transport sees them.
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
#include "mgmt/api.h"
#include "mgmt/http.h"
#include "mgmt/ws.h"
#include "mm/mm.h"
#include "tests/unit/mgmt_test.h"

#define SEC 1000000000ULL

/* ---------------------------------------------------------- stub API -- */

static struct {
	unsigned requests, bodies, stream_ends, stream_aborts, ws_ends;
	char last_method[16], last_path[256], last_query[256], last_auth[256];
	enum api_ws_check last_ws;
	uint8_t upload[1 << 20];
	size_t upload_len;
	size_t upload_fail_at; /* 0: never */
	uint8_t ws_in[4096];
	size_t ws_in_len;
	char ws_out[256];
	int ws_close;
	uint64_t last_len;
	bool last_has_length, last_chunked;
} stub;

static void set_body(struct api_response *r, int status, const char *text)
{
	size_t n = strlen(text);

	r->status = status;
	r->content_type = "text/plain";
	r->body = kmalloc(n + 1);
	if (r->body)
		memcpy(r->body, text, n + 1);
	r->body_len = r->body ? n : 0;
}

void api_init(void)
{
}

void api_request(struct api_call *call)
{
	stub.requests++;
	snprintf(stub.last_method, sizeof(stub.last_method), "%s", call->method);
	snprintf(stub.last_path, sizeof(stub.last_path), "%s", call->path);
	snprintf(stub.last_query, sizeof(stub.last_query), "%s", call->query);
	snprintf(stub.last_auth, sizeof(stub.last_auth), "%s",
		 call->authorization ? call->authorization : "");
	stub.last_ws = call->ws;
	stub.last_len = call->content_length;
	stub.last_has_length = call->has_length;
	stub.last_chunked = call->chunked;
	call->next = API_RESPOND;
	if (!strcmp(call->path, "/echo")) {
		char b[600];
		snprintf(b, sizeof(b), "%s %s ?%s", call->method, call->path,
			 call->query);
		set_body(&call->resp, 200, b);
	} else if (!strcmp(call->path, "/json")) {
		call->next = API_READ_BODY;
	} else if (!strcmp(call->path, "/upload")) {
		stub.upload_len = 0;
		call->next = API_STREAM_BODY;
	} else if (!strcmp(call->path, "/ws") && call->ws == API_WS_OK) {
		call->next = API_WEBSOCKET;
	} else if (!strcmp(call->path, "/big")) {
		size_t n = 300 << 10;
		call->resp.status = 200;
		call->resp.body = kmalloc(n);
		if (call->resp.body)
			memset(call->resp.body, 'b', n);
		call->resp.body_len = call->resp.body ? n : 0;
	} else if (!strcmp(call->path, "/nocontent")) {
		call->resp.status = 204;
	} else {
		http_json_error(&call->resp, 404, "no \"such\" thing");
	}
}

void api_body(struct api_call *call, const uint8_t *body, size_t len)
{
	char *b = kmalloc(len + 1);

	stub.bodies++;
	if (b) {
		memcpy(b, body, len);
		b[len] = 0;
	}
	call->resp.status = 200;
	call->resp.content_type = "text/plain";
	call->resp.body = b;
	call->resp.body_len = b ? len : 0;
}

int api_stream_write(struct api_call *call, const uint8_t *data, size_t len)
{
	if (stub.upload_fail_at && stub.upload_len + len >= stub.upload_fail_at) {
		http_json_error(&call->resp, 507, "full");
		return KEEL_ENOMEM;
	}
	assert_true(stub.upload_len + len <= sizeof(stub.upload));
	memcpy(stub.upload + stub.upload_len, data, len);
	stub.upload_len += len;
	return 0;
}

void api_stream_end(struct api_call *call, bool complete)
{
	char b[32];

	if (!complete) {
		stub.stream_aborts++;
		return;
	}
	stub.stream_ends++;
	snprintf(b, sizeof(b), "%zu", stub.upload_len);
	set_body(&call->resp, 201, b);
}

void api_ws_input(struct api_call *call, const uint8_t *data, size_t len)
{
	memcpy(stub.ws_in + stub.ws_in_len, data, len);
	stub.ws_in_len += len;
}

size_t api_ws_poll(struct api_call *call, uint64_t now_ns, uint8_t *buf,
		   size_t cap, int *close_code, const char **reason)
{
	size_t n = strlen(stub.ws_out);

	memcpy(buf, stub.ws_out, n);
	stub.ws_out[0] = 0;
	if (stub.ws_close) {
		*close_code = stub.ws_close;
		*reason = "bye";
	}
	return n;
}

void api_ws_end(struct api_call *call)
{
	stub.ws_ends++;
}

static int reset(void **state)
{
	memset(&stub, 0, sizeof(stub));
	test_kmalloc_fail_after = -1;
	test_kmalloc_live = 0;
	return 0;
}

static int check_leaks(void **state)
{
	assert_int_equal(test_kmalloc_live, 0);
	return 0;
}

static enum http_status send_text(struct http_conn *c, const char *s,
				  uint64_t now)
{
	return http_conn_input(c, (const uint8_t *)s, strlen(s), now);
}

/* One request on a fresh connection; the response in *r. */
static enum http_status one(const char *req, struct test_resp *r)
{
	struct http_conn *c = http_conn_new(0x0100007f, 0);
	enum http_status st = test_exchange(c, req, 1, r, 1);

	http_conn_free(c);
	return st;
}

/* A request that must fail with status and close, with a JSON body. */
static void expect_error(const char *req, int status)
{
	struct test_resp r;

	assert_int_equal(one(req, &r), HTTP_CONN_CLOSE);
	if (r.status != status)
		fail_msg("%.60s...: got %d, want %d", req, r.status, status);
	assert_true(test_is_json_error(&r));
	assert_string_equal(test_resp_header(&r, "Connection"), "close");
	test_resp_free(&r);
}

/* --------------------------------------------------------- the basics -- */

static void test_get_keepalive(void **state)
{
	struct http_conn *c = http_conn_new(0, 0);
	struct test_resp r;

	assert_int_equal(test_exchange(c, "GET /echo?a=1 HTTP/1.1\r\nHost: k\r\n"
				       "Authorization: Bearer x\r\n\r\n", 1, &r, 1),
			 HTTP_CONN_OPEN);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.reason, "OK");
	assert_string_equal((char *)r.body, "GET /echo ?a=1");
	assert_string_equal(test_resp_header(&r, "Content-Length"), "14");
	assert_null(test_resp_header(&r, "Connection"));
	assert_string_equal(stub.last_auth, "Bearer x");
	test_resp_free(&r);
	/* Same connection, second request; header names in any case. */
	assert_int_equal(test_exchange(c, "GET /echo HTTP/1.1\r\nhOsT: k\r\n\r\n",
				       2, &r, 1), HTTP_CONN_OPEN);
	assert_int_equal(r.status, 200);
	test_resp_free(&r);
	assert_int_equal(stub.requests, 2);
	http_conn_free(c);
}

static void test_connection_close_and_http10(void **state)
{
	struct test_resp r;

	assert_int_equal(one("GET /echo HTTP/1.1\r\nHost: k\r\nConnection: "
			     "Close\r\n\r\n", &r), HTTP_CONN_CLOSE);
	assert_int_equal(r.status, 200);
	assert_string_equal(test_resp_header(&r, "Connection"), "close");
	test_resp_free(&r);
	/* HTTP/1.0: closes unless keep-alive was asked for; no Host needed. */
	assert_int_equal(one("GET /echo HTTP/1.0\r\n\r\n", &r), HTTP_CONN_CLOSE);
	assert_int_equal(r.status, 200);
	test_resp_free(&r);
	assert_int_equal(one("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
			     &r), HTTP_CONN_OPEN);
	assert_int_equal(r.status, 200);
	test_resp_free(&r);
	/* HTTP/1.2 is read as 1.1 (RFC 9110 2.5). */
	assert_int_equal(one("GET /echo HTTP/1.2\r\nHost: k\r\n\r\n", &r),
			 HTTP_CONN_OPEN);
	assert_int_equal(r.status, 200);
	test_resp_free(&r);
}

static void test_pipelined_and_bytewise(void **state)
{
	const char *three = "GET /echo?1 HTTP/1.1\r\nHost: k\r\n\r\n"
			    "POST /json HTTP/1.1\r\nHost: k\r\nContent-Length: 5\r\n\r\nhello"
			    "GET /echo?3 HTTP/1.1\r\nHost: k\r\n\r\n";
	struct http_conn *c = http_conn_new(0, 0);
	struct test_resp r[3];

	assert_int_equal(test_exchange(c, three, 1, r, 3), HTTP_CONN_OPEN);
	assert_string_equal((char *)r[0].body, "GET /echo ?1");
	assert_string_equal((char *)r[1].body, "hello");
	assert_string_equal((char *)r[2].body, "GET /echo ?3");
	for (int i = 0; i < 3; i++)
		test_resp_free(&r[i]);
	http_conn_free(c);

	/* The same bytes one at a time; leading empty lines are ignored. */
	c = http_conn_new(0, 0);
	http_conn_input(c, (const uint8_t *)"\r\n", 2, 1);
	for (size_t i = 0; three[i]; i++)
		assert_int_equal(http_conn_input(c, (const uint8_t *)three + i, 1, 1),
				 HTTP_CONN_OPEN);
	uint8_t *out;
	size_t len = test_drain(c, &out), off = 0;
	for (int i = 0; i < 3; i++) {
		size_t k = test_parse_resp(out + off, len - off, false, &r[i]);
		assert_true(k > 0);
		off += k;
	}
	assert_int_equal(off, len);
	assert_string_equal((char *)r[1].body, "hello");
	assert_string_equal((char *)r[2].body, "GET /echo ?3");
	for (int i = 0; i < 3; i++)
		test_resp_free(&r[i]);
	free(out);
	http_conn_free(c);
}

static void test_head_and_204(void **state)
{
	struct http_conn *c = http_conn_new(0, 0);
	uint8_t *out;
	struct test_resp r;

	send_text(c, "HEAD /echo HTTP/1.1\r\nHost: k\r\n\r\n"
		  "GET /nocontent HTTP/1.1\r\nHost: k\r\n\r\n", 1);
	size_t len = test_drain(c, &out);
	size_t k = test_parse_resp(out, len, true, &r);
	assert_true(k > 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(test_resp_header(&r, "Content-Length"), "11");
	assert_string_equal(stub.last_method, "GET"); /* HEAD reaches the API as GET */
	test_resp_free(&r);
	/* No body bytes followed: the next response starts right there. */
	assert_true(test_parse_resp(out + k, len - k, false, &r) > 0);
	assert_int_equal(r.status, 204);
	assert_false(r.has_length); /* RFC 9110 8.6: none on a 204 */
	test_resp_free(&r);
	free(out);
	http_conn_free(c);
}

static void test_absolute_form(void **state)
{
	struct test_resp r;

	assert_int_equal(one("GET https://keel:443/echo?x HTTP/1.1\r\nHost: keel\r\n\r\n",
			     &r), HTTP_CONN_OPEN);
	assert_int_equal(r.status, 200);
	assert_string_equal((char *)r.body, "GET /echo ?x");
	test_resp_free(&r);
}

/* ---------------------------------------------------------- malformed -- */

static void test_malformed(void **state)
{
	expect_error("GET /echo\r\n\r\n", 400);			/* no version */
	expect_error("GET  /echo HTTP/1.1\r\nHost: k\r\n\r\n", 400); /* two spaces */
	expect_error("GET /echo HTTP/1.x\r\nHost: k\r\n\r\n", 400);
	expect_error("GET /echo HTTP/11\r\nHost: k\r\n\r\n", 400);
	expect_error("GET /echo HTTP/2.0\r\nHost: k\r\n\r\n", 505);
	expect_error("GET /echo HTTP/0.9\r\nHost: k\r\n\r\n", 505);
	expect_error("G(T /echo HTTP/1.1\r\nHost: k\r\n\r\n", 400); /* not a token */
	expect_error("BREW /echo HTTP/1.1\r\nHost: k\r\n\r\n", 501);
	expect_error("OPTIONS * HTTP/1.1\r\nHost: k\r\n\r\n", 501);
	expect_error("GET echo HTTP/1.1\r\nHost: k\r\n\r\n", 400); /* not origin-form */
	expect_error("GET /e#x HTTP/1.1\r\nHost: k\r\n\r\n", 400);
	expect_error("GET /echo HTTP/1.1\r\n\r\n", 400);		/* no Host */
	expect_error("GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
	expect_error("GET /echo HTTP/1.1\r\nHost: k\r\nNoColon\r\n\r\n", 400);
	expect_error("GET /echo HTTP/1.1\r\nHost : k\r\n\r\n", 400);
	expect_error("GET /echo HTTP/1.1\r\nHost: k\r\nX: a\r\n  folded\r\n\r\n", 400);
	expect_error("GET /echo HTTP/1.1\r\nHost: k\rX: y\r\n\r\n", 400); /* bare CR */
	expect_error("GET /echo HTTP/1.1\r\nHost: k\r\nX: a\x01z\r\n\r\n", 400);
	expect_error("POST /json HTTP/1.1\r\nHost: k\r\nContent-Length: 5x\r\n\r\n", 400);
	expect_error("POST /json HTTP/1.1\r\nHost: k\r\nContent-Length: -1\r\n\r\n", 400);
	expect_error("POST /json HTTP/1.1\r\nHost: k\r\nContent-Length: 1\r\n"
		     "Content-Length: 2\r\n\r\nab", 400);
	expect_error("POST /json HTTP/1.1\r\nHost: k\r\nContent-Length: 3\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
	expect_error("POST /json HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: gzip, "
		     "chunked\r\n\r\n", 501);
	expect_error("POST /json HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	expect_error("GET /echo HTTP/1.1\r\nHost: k\r\nExpect: tea\r\n\r\n", 417);
	assert_int_equal(stub.requests, 0); /* none reached the API */
}

static void test_nul_in_head(void **state)
{
	static const char req[] = "GET /echo HTTP/1.1\r\nHost: k\r\nX: a\0b\r\n\r\n";
	struct http_conn *c = http_conn_new(0, 0);
	uint8_t *out;
	struct test_resp r;

	assert_int_equal(http_conn_input(c, (const uint8_t *)req, sizeof(req) - 1, 1),
			 HTTP_CONN_CLOSE);
	size_t len = test_drain(c, &out);
	assert_true(test_parse_resp(out, len, false, &r) > 0);
	assert_int_equal(r.status, 400);
	test_resp_free(&r);
	free(out);
	http_conn_free(c);
}

/* The body of the JSON error, exactly, with a quote escaped. */
static void test_error_body(void **state)
{
	struct test_resp r;

	assert_int_equal(one("GET /none HTTP/1.1\r\nHost: k\r\n\r\n", &r),
			 HTTP_CONN_OPEN);
	assert_int_equal(r.status, 404);
	assert_string_equal((char *)r.body,
			    "{\"error\": \"no \\\"such\\\" thing\", \"code\": 404}");
	assert_string_equal(test_resp_header(&r, "Content-Type"), "application/json");
	test_resp_free(&r);
}

/* ----------------------------------------------------------- oversized -- */

static char *repeat(const char *head, char ch, size_t n, const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);
	char *s = malloc(h + n + t + 1);

	memcpy(s, head, h);
	memset(s + h, ch, n);
	memcpy(s + h + n, tail, t + 1);
	return s;
}

static void test_oversized(void **state)
{
	char *s;

	/* Request line: exactly 8 KiB is fine, one byte more is 414. */
	s = repeat("GET /echo?", 'a', HTTP_LINE_MAX - 19, " HTTP/1.1\r\nHost: k\r\n\r\n");
	struct test_resp r;
	assert_int_equal(one(s, &r), HTTP_CONN_OPEN);
	assert_int_equal(r.status, 200);
	test_resp_free(&r);
	free(s);
	s = repeat("GET /echo?", 'a', HTTP_LINE_MAX - 18, " HTTP/1.1\r\nHost: k\r\n\r\n");
	expect_error(s, 414);
	free(s);
	/* Even with no end in sight. */
	s = repeat("GET /", 'a', 3 * HTTP_LINE_MAX, "");
	expect_error(s, 414);
	free(s);
	/* Headers: 16 KiB in all. */
	s = repeat("GET /echo HTTP/1.1\r\nHost: k\r\nX: ", 'h', HTTP_HEADERS_MAX, "\r\n\r\n");
	expect_error(s, 431);
	free(s);
	/* 100 header lines are fine, 101 are not. */
	char *hdrs = malloc(101 * 8 + 64);
	strcpy(hdrs, "GET /echo HTTP/1.1\r\nHost: k\r\n");
	for (int i = 0; i < 99; i++)
		strcat(hdrs, "X: y\r\n");
	strcat(hdrs, "\r\n");
	assert_int_equal(one(hdrs, &r), HTTP_CONN_OPEN);
	assert_int_equal(r.status, 200);
	test_resp_free(&r);
	hdrs[strlen(hdrs) - 2] = 0;
	strcat(hdrs, "X: y\r\n\r\n");
	expect_error(hdrs, 431);
	free(hdrs);
	/* A JSON body above 1 MiB: announced, or chunked. */
	expect_error("POST /json HTTP/1.1\r\nHost: k\r\nContent-Length: 1048577\r\n\r\n", 413);
	expect_error("POST /json HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "100001\r\n", 413);
	expect_error("POST /json HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "1000000000000000\r\n", 413);
	assert_int_equal(stub.bodies, 0);
}

/* -------------------------------------------------------------- bodies -- */

static void test_chunked(void **state)
{
	struct test_resp r;

	assert_int_equal(one("POST /json HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: "
			     "Chunked\r\n\r\n5\r\nhello\r\n6;ext=\"a b\"\r\n world\r\n"
			     "A\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n", &r),
			 HTTP_CONN_OPEN);
	assert_int_equal(r.status, 200);
	assert_string_equal((char *)r.body, "hello world0123456789");
	assert_true(stub.last_chunked);
	test_resp_free(&r);
	/* Bare LF line ends are tolerated (RFC 9112 2.2). */
	assert_int_equal(one("POST /json HTTP/1.1\nHost: k\nTransfer-Encoding: "
			     "chunked\n\n2\nok\n0\n\n", &r), HTTP_CONN_OPEN);
	assert_string_equal((char *)r.body, "ok");
	test_resp_free(&r);
	expect_error("POST /json HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "zz\r\n", 400);
	expect_error("POST /json HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "2\r\nabX\r\n", 400);
	expect_error("POST /json HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "\r\n", 400);
}

static void test_body_then_next(void **state)
{
	struct http_conn *c = http_conn_new(0, 0);
	struct test_resp r[2];

	/* An answer from the head (404) with a small body: the body is read
	 * and dropped, the connection carries on. */
	assert_int_equal(test_exchange(c, "POST /none HTTP/1.1\r\nHost: k\r\n"
				       "Content-Length: 4\r\n\r\nabcd"
				       "GET /echo HTTP/1.1\r\nHost: k\r\n\r\n",
				       1, r, 2), HTTP_CONN_OPEN);
	assert_int_equal(r[0].status, 404);
	assert_int_equal(r[1].status, 200);
	test_resp_free(&r[0]);
	test_resp_free(&r[1]);
	/* A large one, or one the client holds back (100-continue): close. */
	assert_int_equal(test_exchange(c, "POST /none HTTP/1.1\r\nHost: k\r\n"
				       "Content-Length: 99999999\r\n\r\n", 2, r, 1),
			 HTTP_CONN_CLOSE);
	assert_string_equal(test_resp_header(&r[0], "Connection"), "close");
	test_resp_free(&r[0]);
	http_conn_free(c);
	c = http_conn_new(0, 0);
	assert_int_equal(test_exchange(c, "POST /none HTTP/1.1\r\nHost: k\r\n"
				       "Expect: 100-continue\r\nContent-Length: 4\r\n\r\n",
				       2, r, 1), HTTP_CONN_CLOSE);
	assert_int_equal(r[0].status, 404);
	test_resp_free(&r[0]);
	http_conn_free(c);
}

static void test_stream_upload(void **state)
{
	struct http_conn *c = http_conn_new(0, 0);
	static const char head[] = "PUT /upload HTTP/1.1\r\nHost: k\r\n"
				   "Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n";
	uint8_t *out, chunk[1000];
	struct test_resp r;

	assert_int_equal(http_conn_input(c, (const uint8_t *)head, sizeof(head) - 1, 1),
			 HTTP_CONN_OPEN);
	size_t len = test_drain(c, &out);
	assert_int_equal(len, 25);
	assert_memory_equal(out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	free(out);
	assert_true(stub.last_has_length);
	assert_int_equal(stub.last_len, 100000);
	for (int i = 0; i < 100; i++) {
		memset(chunk, i, sizeof(chunk));
		assert_int_equal(http_conn_input(c, chunk, sizeof(chunk), 2 + i),
				 HTTP_CONN_OPEN);
	}
	assert_int_equal(stub.upload_len, 100000);
	assert_int_equal(stub.upload[99999], 99);
	assert_int_equal(stub.stream_ends, 1);
	len = test_drain(c, &out);
	assert_true(test_parse_resp(out, len, false, &r) > 0);
	assert_int_equal(r.status, 201);
	assert_string_equal((char *)r.body, "100000");
	test_resp_free(&r);
	free(out);

	/* Cut off in the middle: the API hears about it once. */
	send_text(c, "PUT /upload HTTP/1.1\r\nHost: k\r\n"
		  "Content-Length: 10\r\n\r\nabc", 200);
	assert_int_equal(stub.upload_len, 3);
	http_conn_free(c);
	assert_int_equal(stub.stream_aborts, 1);
	assert_int_equal(stub.stream_ends, 1);
}

static void test_stream_write_error(void **state)
{
	struct test_resp r;

	stub.upload_fail_at = 5;
	assert_int_equal(one("PUT /upload HTTP/1.1\r\nHost: k\r\nContent-Length: 10\r\n"
			     "\r\n0123456789", &r), HTTP_CONN_CLOSE);
	assert_int_equal(r.status, 507);
	assert_true(test_is_json_error(&r));
	assert_int_equal(stub.stream_aborts, 1);
	assert_int_equal(stub.stream_ends, 0);
	test_resp_free(&r);
}

/* ------------------------------------------------------------ timeouts -- */

static void test_timeouts(void **state)
{
	struct http_conn *c = http_conn_new(0, 0);
	uint8_t *out;
	struct test_resp r;

	/* Part of a head at t=1 s: fine at 10.9 s, 408 at 11 s. */
	send_text(c, "GET /echo HTTP/1.1\r\n", 1 * SEC);
	assert_int_equal(http_conn_poll(c, 1 * SEC + HTTP_HEADER_TIMEOUT_NS - 1),
			 HTTP_CONN_OPEN);
	assert_int_equal(http_conn_poll(c, 1 * SEC + HTTP_HEADER_TIMEOUT_NS),
			 HTTP_CONN_CLOSE);
	size_t len = test_drain(c, &out);
	assert_true(test_parse_resp(out, len, false, &r) > 0);
	assert_int_equal(r.status, 408);
	assert_true(test_is_json_error(&r));
	test_resp_free(&r);
	free(out);
	http_conn_free(c);

	/* Trickling a head does not reset its clock (slowloris). */
	c = http_conn_new(0, 0);
	for (int i = 0; i < 12; i++)
		http_conn_input(c, (const uint8_t *)"X", 1, (uint64_t)i * SEC);
	assert_int_equal(http_conn_poll(c, 12 * SEC), HTTP_CONN_CLOSE);
	http_conn_free(c);

	/* A body: 30 s without a byte is 408, and the stream is abandoned. */
	c = http_conn_new(0, 0);
	send_text(c, "PUT /upload HTTP/1.1\r\nHost: k\r\n"
		  "Content-Length: 10\r\n\r\nab", 0);
	http_conn_input(c, (const uint8_t *)"cd", 2, 20 * SEC);
	assert_int_equal(http_conn_poll(c, 49 * SEC), HTTP_CONN_OPEN);
	assert_int_equal(http_conn_poll(c, 20 * SEC + HTTP_BODY_TIMEOUT_NS),
			 HTTP_CONN_CLOSE);
	len = test_drain(c, &out);
	assert_true(test_parse_resp(out, len, false, &r) > 0);
	assert_int_equal(r.status, 408);
	test_resp_free(&r);
	free(out);
	assert_int_equal(stub.stream_aborts, 1);
	http_conn_free(c);
	assert_int_equal(stub.stream_aborts, 1);

	/* Idle between requests: closed quietly after 10 s. */
	c = http_conn_new(0, 0);
	assert_int_equal(test_exchange(c, "GET /echo HTTP/1.1\r\nHost: k\r\n\r\n",
				       5 * SEC, &r, 1), HTTP_CONN_OPEN);
	test_resp_free(&r);
	assert_int_equal(http_conn_poll(c, 14 * SEC), HTTP_CONN_OPEN);
	assert_int_equal(http_conn_poll(c, 15 * SEC), HTTP_CONN_CLOSE);
	assert_int_equal(test_drain(c, &out), 0);
	free(out);
	http_conn_free(c);
}

/* ------------------------------------------------ pipelining, pressure -- */

/* Answers pile up above 256 KiB: further requests wait until the client
 * reads, then run in order. */
static void test_backpressure(void **state)
{
	struct http_conn *c = http_conn_new(0, 0);
	const char *two = "GET /big HTTP/1.1\r\nHost: k\r\n\r\n"
			  "GET /echo?2 HTTP/1.1\r\nHost: k\r\n\r\n";
	const uint8_t *d;
	uint8_t *out;
	struct test_resp r;

	http_conn_input(c, (const uint8_t *)two, strlen(two), 1);
	http_conn_input(c, (const uint8_t *)two, strlen(two), 1);
	assert_int_equal(stub.requests, 1); /* the rest waits */
	size_t n = http_conn_pending(c, &d);
	assert_true(n > 300 << 10);
	http_conn_sent(c, n);
	http_conn_poll(c, 2);
	assert_int_equal(stub.requests, 3); /* echo, then big again */
	size_t len = test_drain(c, &out);
	http_conn_poll(c, 3);
	assert_int_equal(stub.requests, 4);
	size_t k = test_parse_resp(out, len, false, &r);
	assert_string_equal((char *)r.body, "GET /echo ?2");
	test_resp_free(&r);
	assert_true(test_parse_resp(out + k, len - k, false, &r) > 0);
	assert_int_equal(r.body_len, 300 << 10);
	test_resp_free(&r);
	free(out);
	http_conn_free(c);
}

/* A client that never reads: 30 s later the connection goes. */
static void test_unread_output(void **state)
{
	struct http_conn *c = http_conn_new(0, 0);

	send_text(c, "GET /big HTTP/1.1\r\nHost: k\r\n\r\n", 0);
	assert_int_equal(http_conn_poll(c, HTTP_BODY_TIMEOUT_NS - 1), HTTP_CONN_OPEN);
	assert_int_equal(http_conn_poll(c, HTTP_BODY_TIMEOUT_NS), HTTP_CONN_CLOSE);
	http_conn_free(c);
}

static void test_out_of_memory(void **state)
{
	/* Every allocation failing in turn: never a crash or a leak. */
	for (int k = 0; k < 8; k++) {
		struct http_conn *c;

		test_kmalloc_fail_after = k;
		c = http_conn_new(0, 0);
		if (!c)
			continue;
		send_text(c, "POST /json HTTP/1.1\r\nHost: k\r\n"
			  "Content-Length: 2\r\n\r\nhi", 1);
		http_conn_poll(c, 2);
		http_conn_free(c);
	}
	test_kmalloc_fail_after = -1;
}

/* ----------------------------------------------------------- WebSocket -- */

static const char ws_req[] = "GET /ws HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\n"
			     "Connection: keep-alive, Upgrade\r\n"
			     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			     "Sec-WebSocket-Version: 13\r\n\r\n";

static void test_websocket(void **state)
{
	struct http_conn *c = http_conn_new(0, 0);
	static const uint8_t hello[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					0x7f, 0x9f, 0x4d, 0x51, 0x58};
	static const uint8_t ping[] = {0x89, 0x82, 1, 2, 3, 4, 'o' ^ 1, 'k' ^ 2};
	static const uint8_t close[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE9};
	uint8_t *out;
	struct test_resp r;

	/* The handshake, and a frame in the same packet. */
	char *both = malloc(sizeof(ws_req) + sizeof(hello));
	memcpy(both, ws_req, sizeof(ws_req) - 1);
	memcpy(both + sizeof(ws_req) - 1, hello, sizeof(hello));
	assert_int_equal(http_conn_input(c, (uint8_t *)both,
					 sizeof(ws_req) - 1 + sizeof(hello), 1),
			 HTTP_CONN_OPEN);
	free(both);
	assert_int_equal(stub.last_ws, API_WS_OK);
	size_t len = test_drain(c, &out);
	size_t k = test_parse_resp(out, len, true, &r);
	assert_int_equal(k, len);
	assert_int_equal(r.status, 101);
	assert_string_equal(test_resp_header(&r, "Sec-WebSocket-Accept"),
			    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_string_equal(test_resp_header(&r, "Upgrade"), "websocket");
	assert_false(r.has_length);
	test_resp_free(&r);
	free(out);
	assert_int_equal(stub.ws_in_len, 5);
	assert_memory_equal(stub.ws_in, "Hello", 5);

	/* Output as a binary frame; a ping gets its pong. */
	strcpy(stub.ws_out, "console!");
	http_conn_input(c, ping, sizeof(ping), 2);
	assert_int_equal(http_conn_poll(c, 2), HTTP_CONN_OPEN);
	len = test_drain(c, &out);
	static const uint8_t want[] = {0x8A, 2, 'o', 'k', 0x82, 8, 'c', 'o', 'n',
				       's', 'o', 'l', 'e', '!'};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	free(out);

	/* The client closes (1001): the Close is echoed, then the end. */
	assert_int_equal(http_conn_input(c, close, sizeof(close), 3), HTTP_CONN_CLOSE);
	len = test_drain(c, &out);
	static const uint8_t want_close[] = {0x88, 2, 0x03, 0xE9};
	assert_int_equal(len, 4);
	assert_memory_equal(out, want_close, 4);
	free(out);
	http_conn_free(c);
	assert_int_equal(stub.ws_ends, 1);
}

static void test_websocket_server_close_and_errors(void **state)
{
	struct http_conn *c = http_conn_new(0, 0);
	uint8_t *out;
	struct test_resp r;

	assert_int_equal(test_exchange(c, ws_req, 1, &r, 1), HTTP_CONN_OPEN);
	test_resp_free(&r);
	stub.ws_close = 1000;
	assert_int_equal(http_conn_poll(c, 2), HTTP_CONN_CLOSE);
	size_t len = test_drain(c, &out);
	static const uint8_t want[] = {0x88, 5, 0x03, 0xE8, 'b', 'y', 'e'};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	free(out);
	http_conn_free(c);
	stub.ws_close = 0;

	/* An unmasked frame: Close 1002. */
	c = http_conn_new(0, 0);
	assert_int_equal(test_exchange(c, ws_req, 1, &r, 1), HTTP_CONN_OPEN);
	test_resp_free(&r);
	assert_int_equal(http_conn_input(c, (const uint8_t *)"\x81\x01x", 3, 2),
			 HTTP_CONN_CLOSE);
	len = test_drain(c, &out);
	assert_true(len >= 4);
	assert_int_equal(out[0], 0x88);
	assert_int_equal(out[2] << 8 | out[3], 1002);
	free(out);
	http_conn_free(c);

	/* What the handshake check tells the API. */
	char req[512];
	assert_int_equal(one("GET /ws HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\n"
			     "Connection: Upgrade\r\nSec-WebSocket-Key: "
			     "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
			     &r), HTTP_CONN_OPEN);
	assert_int_equal(stub.last_ws, API_WS_VERSION);
	test_resp_free(&r);
	snprintf(req, sizeof(req), "GET /ws HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\n"
		 "Sec-WebSocket-Version: 13\r\n\r\n");
	one(req, &r);
	assert_int_equal(stub.last_ws, API_WS_BAD);
	test_resp_free(&r);
	one("GET /ws HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", &r); /* no Connection: Upgrade */
	assert_int_equal(stub.last_ws, API_WS_BAD);
	test_resp_free(&r);
	one("GET /ws HTTP/1.1\r\nHost: k\r\n\r\n", &r);
	assert_int_equal(stub.last_ws, API_WS_NONE);
	test_resp_free(&r);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, reset, check_leaks)
	const struct CMUnitTest tests[] = {
		T(test_get_keepalive),
		T(test_connection_close_and_http10),
		T(test_pipelined_and_bytewise),
		T(test_head_and_204),
		T(test_absolute_form),
		T(test_malformed),
		T(test_nul_in_head),
		T(test_error_body),
		T(test_oversized),
		T(test_chunked),
		T(test_body_then_next),
		T(test_stream_upload),
		T(test_stream_write_error),
		T(test_timeouts),
		T(test_backpressure),
		T(test_unread_output),
		T(test_out_of_memory),
		T(test_websocket),
		T(test_websocket_server_close_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
