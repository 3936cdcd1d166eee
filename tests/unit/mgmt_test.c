/*
 * mgmt_test.c - the host side of the management agent's unit tests:
 * kmalloc/kzalloc/kfree over malloc (with a live count and injected
 * failures), and a small HTTP/1.1 response parser to read what an
 * http_conn sends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm/mm.h"
#include "tests/unit/mgmt_test.h"

long test_kmalloc_live;
int test_kmalloc_fail_after = -1;

void *kmalloc(size_t size)
{
	if (test_kmalloc_fail_after == 0)
		return NULL;
	if (test_kmalloc_fail_after > 0)
		test_kmalloc_fail_after--;
	void *p = malloc(size ? size : 1);
	if (p)
		test_kmalloc_live++;
	return p;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p)
{
	if (p)
		test_kmalloc_live--;
	free(p);
}

size_t test_drain(struct http_conn *c, uint8_t **out)
{
	const uint8_t *d;
	size_t n, total = 0;
	uint8_t *buf = malloc(1);

	while ((n = http_conn_pending(c, &d)) > 0) {
		uint8_t *more = realloc(buf, total + n + 1);
		if (!more)
			abort();
		buf = more;
		memcpy(buf + total, d, n);
		total += n;
		http_conn_sent(c, n);
	}
	buf[total] = 0;
	*out = buf;
	return total;
}

static const uint8_t *find_crlf2(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 3 < n; i++)
		if (!memcmp(p + i, "\r\n\r\n", 4))
			return p + i;
	return NULL;
}

size_t test_parse_resp(const uint8_t *buf, size_t len, bool head_only,
		       struct test_resp *r)
{
	const uint8_t *end = find_crlf2(buf, len);
	size_t head_len, body_len = 0;
	const char *cl;

	memset(r, 0, sizeof(*r));
	if (!end)
		return 0;
	head_len = (size_t)(end - buf) + 4;
	char *head = strndup((const char *)buf, head_len - 4);
	char *eol = strstr(head, "\r\n");
	if (eol) {
		*eol = 0;
		snprintf(r->headers, sizeof(r->headers), "%s\r\n", eol + 2);
	}
	if (sscanf(head, "HTTP/1.1 %d %63[^\n]", &r->status, r->reason) < 1) {
		free(head);
		return 0;
	}
	free(head);
	cl = test_resp_header(r, "Content-Length");
	if (cl) {
		r->has_length = true;
		body_len = strtoull(cl, NULL, 10);
	}
	if (head_only)
		body_len = 0;
	if (head_len + body_len > len)
		return 0;
	r->body = malloc(body_len + 1);
	memcpy(r->body, buf + head_len, body_len);
	r->body[body_len] = 0;
	r->body_len = body_len;
	return head_len + body_len;
}

void test_resp_free(struct test_resp *r)
{
	free(r->body);
	r->body = NULL;
}

const char *test_resp_header(const struct test_resp *r, const char *name)
{
	static char val[1024];
	size_t n = strlen(name);

	for (const char *p = r->headers; *p;) {
		const char *e = strstr(p, "\r\n");
		if (!e)
			break;
		if ((size_t)(e - p) > n && !strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			snprintf(val, sizeof(val), "%.*s", (int)(e - v), v);
			return val;
		}
		p = e + 2;
	}
	return NULL;
}

enum http_status test_exchange(struct http_conn *c, const char *text,
			       uint64_t now, struct test_resp *rs, unsigned n)
{
	enum http_status st = http_conn_input(c, (const uint8_t *)text,
					      strlen(text), now);
	uint8_t *out;
	size_t len, off = 0;

	if (http_conn_poll(c, now) == HTTP_CONN_CLOSE)
		st = HTTP_CONN_CLOSE;
	len = test_drain(c, &out);
	for (unsigned i = 0; i < n; i++) {
		size_t k = test_parse_resp(out + off, len - off, false, &rs[i]);
		if (!k) {
			rs[i].status = -1;
			break;
		}
		off += k;
	}
	free(out);
	return st;
}

bool test_is_json_error(const struct test_resp *r)
{
	char want[32];
	const char *ct = test_resp_header(r, "Content-Type");

	if (!ct || strcmp(ct, "application/json") || !r->body)
		return false;
	snprintf(want, sizeof(want), "\"code\": %d}", r->status);
	return !strncmp((const char *)r->body, "{\"error\": \"", 11) &&
	       strstr((const char *)r->body, want) != NULL;
}
