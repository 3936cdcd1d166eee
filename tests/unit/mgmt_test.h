/*
 * mgmt_test.h - what the management agent's unit tests (test_http,
 * test_api, test_ws) share: kmalloc on the host, and a client side that
 * pushes raw bytes through an http_conn and takes its answers apart.
 */
#ifndef KEEL_TESTS_MGMT_TEST_H
#define KEEL_TESTS_MGMT_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgmt/http.h"

struct test_resp {
	int status;
	char reason[64];
	char headers[8192]; /* raw header lines, "\r\n" separated */
	uint8_t *body;	    /* malloc'd, NUL-terminated */
	size_t body_len;
	bool has_length;
};

/* Every byte the connection wants to send, taken (http_conn_sent). */
size_t test_drain(struct http_conn *c, uint8_t **out);
/* Parse one HTTP/1.1 response from buf (a HEAD answer: head_only); returns
 * the bytes it took, 0 if incomplete or malformed. */
size_t test_parse_resp(const uint8_t *buf, size_t len, bool head_only,
		       struct test_resp *r);
void test_resp_free(struct test_resp *r);
/* A header's value (case-insensitive name), or NULL; copied into a static
 * buffer. */
const char *test_resp_header(const struct test_resp *r, const char *name);
/* Send text (strlen) at time now, poll, and parse exactly n responses from
 * what comes out into rs; returns the connection's status. */
enum http_status test_exchange(struct http_conn *c, const char *text,
			       uint64_t now, struct test_resp *rs, unsigned n);
/* The "error"/"code" of a JSON error body: true when both are there and
 * code equals status. */
bool test_is_json_error(const struct test_resp *r);

/* kmalloc's count of live allocations (leaks show under ASan too). */
extern long test_kmalloc_live;
extern int test_kmalloc_fail_after; /* -1: never; n: the n+1-th fails */

#endif
