/*
 * test_api.c - the REST API (mgmt/api.c, api_vms.c, images.c, auth.c) as a
 * client sees it, through the real HTTP layer (mgmt/http.c) and a fake
 * kernel (api_fake.c): the routes and the OpenAPI document that must list
 * each of them, the password format keelctl writes, tokens and their
 * expiry, the login rate limits, every field of POST /vms, the VM state
 * machine, images, the consoles and the log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>
#include <openssl/sha.h>

#include "kernel/err.h"
#include "mgmt/api_internal.h"
#include "mgmt/http.h"
#include "mgmt/keelctl/keelctl.h"
#include "tests/unit/api_fake.h"
#include "tests/unit/mgmt_test.h"

#define SEC 1000000000ULL
#define PW "keel-admin"
/* PBKDF2-HMAC-SHA256("keel-admin", 00 01 .. 0f, 1000, 32), computed
 * independently (Python's hashlib.pbkdf2_hmac). */
#define PW_HASH "pbkdf2-sha256:1000:000102030405060708090a0b0c0d0e0f:" \
	"375bec358139de7e5a8ea313f077459a7d4d22072126fa8a6ff7206bf3c8581e"

static uint64_t now;
static uint32_t peer;
static char token[AUTH_TOKEN_HEX + 1];

/* ------------------------------------------------------------ helpers -- */

static struct test_resp raw(const char *text)
{
	struct http_conn *c = http_conn_new(peer, now);
	struct test_resp r;

	assert_non_null(c);
	test_exchange(c, text, now, &r, 1);
	http_conn_free(c);
	assert_int_not_equal(r.status, -1);
	return r;
}

/* method path (under /api/v1) with the token tok (NULL: none) and a body. */
static struct test_resp req(const char *method, const char *path,
			    const char *tok, const char *body)
{
	size_t n = 512 + strlen(path) + (body ? strlen(body) : 0);
	char *text = malloc(n);
	int k = snprintf(text, n, "%s /api/v1%s HTTP/1.1\r\nHost: keel\r\n",
			 method, path);

	if (tok)
		k += snprintf(text + k, n - k, "Authorization: Bearer %s\r\n", tok);
	if (body)
		k += snprintf(text + k, n - k, "Content-Type: application/json\r\n"
			      "Content-Length: %zu\r\n", strlen(body));
	snprintf(text + k, n - k, "\r\n%s", body ? body : "");
	struct test_resp r = raw(text);
	free(text);
	return r;
}

static cJSON *jbody(const struct test_resp *r)
{
	cJSON *j = cJSON_ParseWithLength((const char *)r->body, r->body_len);

	assert_non_null(j);
	return j;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(f) ? f->valuestring : NULL;
}

static long long jnum(const cJSON *o, const char *key)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(f));
	return (long long)f->valuedouble;
}

/* A request that must fail with status and an error message containing
 * what; the JSON error's code must be the status. */
static void expect(struct test_resp r, int status, const char *what)
{
	if (r.status != status)
		fail_msg("got %d (%s), want %d", r.status, (char *)r.body, status);
	if (status >= 400) {
		cJSON *j = jbody(&r);
		assert_int_equal(jnum(j, "code"), status);
		assert_non_null(jstr(j, "error"));
		if (what && !strstr(jstr(j, "error"), what))
			fail_msg("'%s' does not say '%s'", jstr(j, "error"), what);
		assert_int_equal(cJSON_GetArraySize(j), 2);
		cJSON_Delete(j);
	}
	test_resp_free(&r);
}

static int login(const char *pw, char *tok_out)
{
	char body[256];
	struct test_resp r;
	int status;

	snprintf(body, sizeof(body), "{\"password\": \"%s\"}", pw);
	r = req("POST", "/session", NULL, body);
	status = r.status;
	if (status == 201) {
		cJSON *j = jbody(&r);
		assert_non_null(jstr(j, "token"));
		assert_int_equal(strlen(jstr(j, "token")), AUTH_TOKEN_HEX);
		if (tok_out)
			strcpy(tok_out, jstr(j, "token"));
		cJSON_Delete(j);
	}
	test_resp_free(&r);
	return status;
}

static int setup(void **state)
{
	fake_reset();
	snprintf(fake.password_hash, sizeof(fake.password_hash), "%s", PW_HASH);
	test_kmalloc_fail_after = -1;
	api_init();
	now = 1000 * SEC;
	peer = 0x0100007f;
	assert_int_equal(login(PW, token), 201);
	return 0;
}

static int teardown(void **state)
{
	images_init(); /* frees every image */
	assert_int_equal(fake.image_bytes_live, 0);
	assert_int_equal(test_kmalloc_live, 0);
	fake_reset();
	return 0;
}

/* Upload n bytes of data as image name; the status. */
static int upload(const char *name, const void *data, size_t n)
{
	size_t cap = 512 + n;
	char *text = malloc(cap);
	int k = snprintf(text, cap, "PUT /api/v1/images/%s HTTP/1.1\r\nHost: k\r\n"
			 "Authorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n",
			 name, token, n);
	struct http_conn *c = http_conn_new(peer, now);
	struct test_resp r;

	memcpy(text + k, data, n);
	http_conn_input(c, (const uint8_t *)text, (size_t)k + n, now);
	free(text);
	uint8_t *out;
	size_t len = test_drain(c, &out);
	assert_true(test_parse_resp(out, len, false, &r) > 0);
	free(out);
	http_conn_free(c);
	int status = r.status;
	test_resp_free(&r);
	return status;
}

/* A "bzImage": "HdrS" at 0x202. */
static void upload_kernels(void)
{
	static uint8_t bz[0x400], elf[64];

	memcpy(bz + 0x202, "HdrS", 4);
	memcpy(elf, "\177ELF\2", 5);
	assert_int_equal(upload("bz", bz, sizeof(bz)), 201);
	assert_int_equal(upload("elf", elf, sizeof(elf)), 201);
	assert_int_equal(upload("initrd.img", "initrd", 6), 201);
	assert_int_equal(upload("fw", "firmware", 8), 201);
}

/* POST /vms with body; the VM's id on 201. */
static int create(const char *body, int status, const char *what)
{
	struct test_resp r = req("POST", "/vms", token, body);
	int id = -1;

	if (r.status == 201) {
		cJSON *j = jbody(&r);
		id = atoi(jstr(j, "id"));
		cJSON_Delete(j);
	}
	expect(r, status, what);
	return id;
}

/* ------------------------------------------------------------- routes -- */

static void test_route_match(void **state)
{
	char arg[96], path[128];
	bool known;

	for (unsigned i = 0; i < api_route_count; i++) {
		/* Each route's own path, its parameter filled in. */
		const char *p = api_routes[i].path, *brace = strchr(p, '{');
		if (brace)
			snprintf(path, sizeof(path), "%.*sabc%s", (int)(brace - p), p,
				 strchr(brace, '}') + 1);
		else
			snprintf(path, sizeof(path), "%s", p);
		int got = api_route_match(api_routes[i].method, path, arg,
					  sizeof(arg), &known);
		assert_int_equal(got, (int)i);
		if (brace)
			assert_string_equal(arg, "abc");
	}
	assert_int_equal(api_route_match("GET", "/nope", arg, sizeof(arg), &known), -1);
	assert_false(known);
	assert_int_equal(api_route_match("PATCH", "/vms", arg, sizeof(arg), &known), -1);
	assert_true(known);
	assert_int_equal(api_route_match("GET", "/vms/", arg, sizeof(arg), &known), -1);
	assert_false(known);
	assert_int_equal(api_route_match("GET", "/vms/a/b", arg, sizeof(arg), &known), -1);
	assert_int_equal(api_route_match("POST", "/vms/1/explode", arg, sizeof(arg),
					 &known), -1);
	/* Percent-decoding of the parameter. */
	assert_true(api_route_match("GET", "/images/a%2Eb%5f", arg, sizeof(arg),
				    &known) >= 0);
	assert_string_equal(arg, "a.b_");
	assert_int_equal(api_route_match("GET", "/images/a%00", arg, sizeof(arg),
					 &known), -1);
	assert_int_equal(api_route_match("GET", "/images/a%4", arg, sizeof(arg),
					 &known), -1);
	assert_int_equal(api_route_match("GET", "/images/%zz", arg, sizeof(arg),
					 &known), -1);
}

/* Every route is in the OpenAPI document and every operation there is a
 * route; the document says which ones need no token. */
static void test_openapi_lists_every_route(void **state)
{
	size_t n = (size_t)mgmt_openapi_json_size;
	cJSON *doc = cJSON_ParseWithLength(mgmt_openapi_json, n);
	const cJSON *paths, *path, *op;
	unsigned ops = 0;
	char method[16];

	assert_non_null(doc);
	assert_true(!strncmp(jstr(doc, "openapi"), "3.0.", 4));
	assert_non_null(cJSON_GetObjectItem(doc, "info"));
	paths = cJSON_GetObjectItem(doc, "paths");
	assert_non_null(paths);
	for (unsigned i = 0; i < api_route_count; i++) {
		const struct api_route *r = &api_routes[i];
		size_t k;

		for (k = 0; r->method[k]; k++)
			method[k] = (char)(r->method[k] | 0x20);
		method[k] = 0;
		path = cJSON_GetObjectItemCaseSensitive(paths, r->path);
		if (!path)
			fail_msg("%s is not in openapi.json", r->path);
		op = cJSON_GetObjectItemCaseSensitive(path, method);
		if (!op)
			fail_msg("%s %s is not in openapi.json", r->method, r->path);
		const cJSON *sec = cJSON_GetObjectItem(op, "security");
		/* security: [] marks the routes without a token. */
		assert_int_equal(!r->auth, sec && cJSON_GetArraySize(sec) == 0);
		assert_non_null(cJSON_GetObjectItem(op, "responses"));
	}
	cJSON_ArrayForEach(path, paths) {
		cJSON_ArrayForEach(op, path) {
			if (!strcmp(op->string, "parameters"))
				continue;
			bool found = false;
			for (unsigned i = 0; i < api_route_count; i++)
				found |= !strcmp(api_routes[i].path, path->string) &&
					 !strcasecmp(api_routes[i].method, op->string);
			if (!found)
				fail_msg("openapi.json has %s %s, the router does not",
					 op->string, path->string);
			ops++;
		}
	}
	assert_int_equal(ops, api_route_count);
	cJSON_Delete(doc);

	/* Served as is, without a token. */
	struct test_resp r = req("GET", "/openapi.json", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, n);
	assert_memory_equal(r.body, mgmt_openapi_json, n);
	test_resp_free(&r);
}

static void test_not_found_and_method(void **state)
{
	struct test_resp r;

	expect(raw("GET /v1/vms HTTP/1.1\r\nHost: k\r\n\r\n"), 404, NULL);
	expect(raw("GET /api/v1 HTTP/1.1\r\nHost: k\r\n\r\n"), 404, NULL);
	expect(req("GET", "/nothing", token, NULL), 404, NULL);
	r = req("PUT", "/vms", token, "{}");
	assert_string_equal(test_resp_header(&r, "Allow"), "GET, POST");
	expect(r, 405, "PUT");
	r = req("POST", "/images/x", token, NULL);
	assert_string_equal(test_resp_header(&r, "Allow"), "GET, PUT, DELETE");
	expect(r, 405, NULL);
}

/* ---------------------------------------------------------- passwords -- */

static void test_hash_parse(void **state)
{
	struct auth_hash h;

	assert_int_equal(auth_hash_parse(PW_HASH, &h), 0);
	assert_int_equal(h.iterations, 1000);
	assert_int_equal(h.salt_len, 16);
	assert_int_equal(h.salt[15], 0x0f);
	assert_int_equal(h.key_len, 32);
	assert_int_equal(h.key[0], 0x37);
	/* Upper-case hex is hex too. */
	assert_int_equal(auth_hash_parse("pbkdf2-sha256:1:000102030405060708090A0B0C0D0E0F:"
					 "375BEC358139DE7E5A8EA313F077459A7D4D22072126FA8A6FF7206BF3C8581E",
					 &h), 0);
	static const char *const bad[] = {
		"",
		"pbkdf2-sha1:1000:000102030405060708090a0b0c0d0e0f:375bec358139de7e5a8ea313f077459a7d4d22072126fa8a6ff7206bf3c8581e",
		"pbkdf2-sha256:0:000102030405060708090a0b0c0d0e0f:375bec358139de7e5a8ea313f077459a7d4d22072126fa8a6ff7206bf3c8581e",
		"pbkdf2-sha256:10000001:000102030405060708090a0b0c0d0e0f:375bec358139de7e5a8ea313f077459a7d4d22072126fa8a6ff7206bf3c8581e",
		"pbkdf2-sha256:99999999999999999999:000102030405060708090a0b0c0d0e0f:375bec358139de7e5a8ea313f077459a7d4d22072126fa8a6ff7206bf3c8581e",
		"pbkdf2-sha256::000102030405060708090a0b0c0d0e0f:375bec358139de7e5a8ea313f077459a7d4d22072126fa8a6ff7206bf3c8581e",
		"pbkdf2-sha256:1000:000102030405060708090a0b0c0d0e0:375bec358139de7e5a8ea313f077459a7d4d22072126fa8a6ff7206bf3c8581e",
		"pbkdf2-sha256:1000:00010203040506:375bec358139de7e5a8ea313f077459a7d4d22072126fa8a6ff7206bf3c8581e",
		"pbkdf2-sha256:1000:000102030405060708090a0b0c0d0e0g:375bec358139de7e5a8ea313f077459a7d4d22072126fa8a6ff7206bf3c8581e",
		"pbkdf2-sha256:1000:000102030405060708090a0b0c0d0e0f:375bec",
		"pbkdf2-sha256:1000:000102030405060708090a0b0c0d0e0f",
		"pbkdf2-sha256:1000:000102030405060708090a0b0c0d0e0f:375bec358139de7e5a8ea313f077459a7d4d22072126fa8a6ff7206bf3c8581e:",
		"pbkdf2-sha256:+1000:000102030405060708090a0b0c0d0e0f:375bec358139de7e5a8ea313f077459a7d4d22072126fa8a6ff7206bf3c8581e",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (auth_hash_parse(bad[i], &h) != KEEL_EINVAL)
			fail_msg("accepted %s", bad[i]);
}

/* The line keelctl hash-password writes (mgmt/keelctl/pwhash.c) logs in. */
static void test_keelctl_hash_agrees(void **state)
{
	char line[PWHASH_LINE_MAX];

	assert_int_equal(pwhash_make("s3cret pass", 2000, line, sizeof(line)), 0);
	snprintf(fake.password_hash, sizeof(fake.password_hash), "%s", line);
	api_init();
	assert_int_equal(fake.console_lines, 0); /* no random password */
	assert_int_equal(login("s3cret pass", NULL), 201);
	assert_int_equal(login("s3cret pasS", NULL), 401);
	/* And keelctl reads ours. */
	assert_true(pwhash_check(PW_HASH, PW));
}

static void test_login(void **state)
{
	struct test_resp r;

	assert_int_equal(login("wrong", NULL), 401);
	r = req("POST", "/session", NULL, "{\"password\": \"wrong\"}");
	assert_string_equal(test_resp_header(&r, "WWW-Authenticate"), "Bearer");
	expect(r, 401, "wrong password");
	expect(req("POST", "/session", NULL, "{\"password\": \"" PW "\", \"x\": 1}"),
	       400, "'x'");
	expect(req("POST", "/session", NULL, "{\"password\": \"" PW "\", "
		   "\"password\": \"" PW "\"}"), 400, "repeated");
	expect(req("POST", "/session", NULL, "{\"password\": 12}"), 400, "string");
	expect(req("POST", "/session", NULL, "{}"), 400, "password");
	expect(req("POST", "/session", NULL, "[\"" PW "\"]"), 400, "JSON object");
	expect(req("POST", "/session", NULL, "{\"password\": "), 400, "JSON object");
	expect(req("POST", "/session", NULL, NULL), 400, "JSON object");
	/* Deep nesting is refused before cJSON recurses. */
	char deep[4096] = "{\"password\": ";
	for (int i = 0; i < 1000; i++)
		strcat(deep, "[");
	expect(req("POST", "/session", NULL, deep), 400, "nests");
	/* Tokens are distinct. */
	char t2[AUTH_TOKEN_HEX + 1];
	assert_int_equal(login(PW, t2), 201);
	assert_string_not_equal(t2, token);
	/* No random bytes: no token. */
	fake.random_fails = true;
	assert_int_equal(login(PW, NULL), 503);
}

static void test_random_password(void **state)
{
	char pw[64];

	fake.password_hash[0] = 0;
	api_init();
	assert_int_equal(fake.console_lines, 1);
	/* "keel: mgmt password=<20 characters> (...)" on the console only. */
	assert_true(sscanf(fake.console_line, "keel: mgmt password=%63s", pw) == 1);
	assert_int_equal(strlen(pw), AUTH_RANDOM_PW_LEN);
	assert_int_equal(fake.log_next, 0);
	assert_int_equal(login(PW, NULL), 401);
	assert_int_equal(login(pw, NULL), 201);
	pw[0] ^= 1;
	assert_int_equal(login(pw, NULL), 401);
	/* The old session's token died with the restart of the API. */
	expect(req("GET", "/host", token, NULL), 401, NULL);

	/* A password= that is not a hash: a random one too, and it says so. */
	snprintf(fake.password_hash, sizeof(fake.password_hash), "hunter2");
	api_init();
	assert_non_null(strstr(fake.console_line, "not a pbkdf2-sha256 hash"));
	assert_int_equal(login("hunter2", NULL), 401);
}

/* ------------------------------------------------------------- tokens -- */

static void test_tokens(void **state)
{
	struct test_resp r;
	char t2[AUTH_TOKEN_HEX + 1];

	r = req("GET", "/host", NULL, NULL);
	assert_string_equal(test_resp_header(&r, "WWW-Authenticate"), "Bearer");
	expect(r, 401, "bearer token");
	expect(req("GET", "/host", "00", NULL), 401, NULL);
	char wrong[AUTH_TOKEN_HEX + 1];
	strcpy(wrong, token);
	wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
	expect(req("GET", "/host", wrong, NULL), 401, NULL);
	expect(raw("GET /api/v1/host HTTP/1.1\r\nHost: k\r\nAuthorization: Basic "
		   "YTpi\r\n\r\n"), 401, NULL);
	/* The scheme is case-insensitive (RFC 9110 11.1). */
	char text[256];
	snprintf(text, sizeof(text), "GET /api/v1/host HTTP/1.1\r\nHost: k\r\n"
		 "Authorization: bEaReR %s\r\n\r\n", token);
	expect(raw(text), 200, NULL);

	/* 1 h unused ends a token; using it keeps it. */
	now += AUTH_TOKEN_IDLE_NS - 1;
	expect(req("GET", "/host", token, NULL), 200, NULL);
	now += AUTH_TOKEN_IDLE_NS - 1;
	expect(req("GET", "/host", token, NULL), 200, NULL);
	now += AUTH_TOKEN_IDLE_NS;
	expect(req("GET", "/host", token, NULL), 401, NULL);
	/* 24 h at most, however busy. */
	assert_int_equal(login(PW, token), 201);
	for (int i = 0; i < 24; i++) {
		expect(req("GET", "/host", token, NULL), 200, NULL);
		now += 3600 * SEC - SEC;
	}
	now += 24 * SEC;
	expect(req("GET", "/host", token, NULL), 401, NULL);

	/* Logout ends exactly that token. */
	assert_int_equal(login(PW, token), 201);
	assert_int_equal(login(PW, t2), 201);
	expect(req("DELETE", "/session", token, NULL), 204, NULL);
	expect(req("GET", "/host", token, NULL), 401, NULL);
	expect(req("GET", "/host", t2, NULL), 200, NULL);
	expect(req("DELETE", "/session", NULL, NULL), 401, NULL);

	/* A full table gives up the least recently used token. */
	char first[AUTH_TOKEN_HEX + 1];
	assert_int_equal(login(PW, first), 201);
	now += SEC;
	expect(req("GET", "/host", t2, NULL), 200, NULL); /* t2 is fresher */
	for (int i = 0; i < AUTH_TOKEN_SLOTS - 2; i++)
		assert_int_equal(login(PW, NULL), 201);
	assert_int_equal(login(PW, NULL), 201); /* the 33rd */
	expect(req("GET", "/host", first, NULL), 401, NULL);
	expect(req("GET", "/host", t2, NULL), 200, NULL);
}

static void test_ct_equal(void **state)
{
	assert_true(auth_ct_equal("abcd", "abcd", 4));
	assert_false(auth_ct_equal("abcd", "abce", 4));
	assert_false(auth_ct_equal("xbcd", "abcd", 4));
	assert_true(auth_ct_equal("a", "b", 0));
}

/* --------------------------------------------------------- rate limit -- */

static void test_rate_limit_peer(void **state)
{
	struct test_resp r;

	for (int i = 0; i < AUTH_PEER_FAILS; i++)
		assert_int_equal(login("nope", NULL), 401);
	/* Now even the right password waits, and is not tried. */
	r = req("POST", "/session", NULL, "{\"password\": \"" PW "\"}");
	assert_string_equal(test_resp_header(&r, "Retry-After"), "60");
	expect(r, 429, "retry in 60 s");
	now += 30 * SEC;
	r = req("POST", "/session", NULL, "{\"password\": \"" PW "\"}");
	assert_string_equal(test_resp_header(&r, "Retry-After"), "30");
	expect(r, 429, NULL);
	/* Another peer is not affected. */
	peer = 0x0200007f;
	assert_int_equal(login(PW, NULL), 201);
	peer = 0x0100007f;
	/* After the wait: one try; a failure waits again. */
	now += 30 * SEC;
	assert_int_equal(login("nope", NULL), 401);
	assert_int_equal(login(PW, NULL), 429);
	now += 60 * SEC;
	assert_int_equal(login(PW, NULL), 201); /* success forgives */
	for (int i = 0; i < AUTH_PEER_FAILS - 1; i++)
		assert_int_equal(login("nope", NULL), 401);
	assert_int_equal(login(PW, NULL), 201);
	/* Failures far apart are forgotten. */
	for (int i = 0; i < AUTH_PEER_FAILS + 2; i++) {
		assert_int_equal(login("nope", NULL), 401);
		now += AUTH_PEER_FORGET_NS;
	}
	/* Tokens already handed out keep working meanwhile. */
	for (int i = 0; i < AUTH_PEER_FAILS; i++)
		login("nope", NULL);
	assert_int_equal(login(PW, NULL), 429);
	expect(req("GET", "/host", token, NULL), 401, NULL); /* expired by now */
}

static void test_rate_limit_global(void **state)
{
	/* Many peers, a few tries each: together they stop everyone. */
	for (int i = 0; i < AUTH_GLOBAL_FAILS; i++) {
		peer = 0x0a000000u + (uint32_t)i;
		assert_int_equal(login("guess", NULL), 401);
	}
	peer = 0x0b000001;
	assert_int_equal(login(PW, NULL), 429);
	now += AUTH_GLOBAL_WAIT_NS;
	assert_int_equal(login(PW, NULL), 201);
	/* Failures spread over more than a window do not add up. */
	for (int i = 0; i < 2 * AUTH_GLOBAL_FAILS; i++) {
		peer = 0x0c000000u + (uint32_t)i;
		assert_int_equal(login("guess", NULL), 401);
		now += AUTH_GLOBAL_WINDOW_NS / (AUTH_GLOBAL_FAILS - 2);
	}
	assert_int_equal(login(PW, NULL), 201);
}

/* ------------------------------------------------------------- images -- */

static void test_image_names(void **state)
{
	static const char *const good[] = {"a", "vmlinuz-6.1", "initrd.img",
		"A_b-C.9", "..a", "1234567890123456789012345678901234567890123456789012345678901234"};
	static const char *const bad[] = {"", ".", "..", "a/b", "a b", "é",
		"a\\b", "a:b", "12345678901234567890123456789012345678901234567890123456789012345"};

	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!image_name_valid(good[i]))
			fail_msg("refused %s", good[i]);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (image_name_valid(bad[i]))
			fail_msg("accepted %s", bad[i]);
}

static void test_images(void **state)
{
	struct test_resp r;
	cJSON *j;

	assert_int_equal(upload("abc.bin", "abc", 3), 201);
	assert_int_equal(fake.image_bytes_live, 3);
	r = req("GET", "/images/abc.bin", token, NULL);
	assert_int_equal(r.status, 200);
	j = jbody(&r);
	assert_string_equal(jstr(j, "name"), "abc.bin");
	assert_int_equal(jnum(j, "size"), 3);
	/* FIPS 180-2 B.1: SHA-256("abc") */
	assert_string_equal(jstr(j, "sha256"),
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(cJSON_GetArraySize(j), 3);
	cJSON_Delete(j);
	test_resp_free(&r);

	/* A bigger one, in many pieces as TCP would bring it. */
	size_t n = 3 << 20;
	uint8_t *big = malloc(n), digest[32];
	char hex[65];
	for (size_t i = 0; i < n; i++)
		big[i] = (uint8_t)(i * 2654435761u >> 24);
	SHA256(big, n, digest);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", digest[i]);
	char head[256];
	int k = snprintf(head, sizeof(head), "PUT /api/v1/images/big HTTP/1.1\r\n"
			 "Host: k\r\nAuthorization: Bearer %s\r\nContent-Length: %zu\r\n"
			 "\r\n", token, n);
	struct http_conn *c = http_conn_new(peer, now);
	http_conn_input(c, (const uint8_t *)head, (size_t)k, now);
	for (size_t off = 0; off < n; off += 1460)
		http_conn_input(c, big + off, n - off < 1460 ? n - off : 1460, now);
	uint8_t *out;
	size_t len = test_drain(c, &out);
	assert_true(test_parse_resp(out, len, false, &r) > 0);
	free(out);
	http_conn_free(c);
	assert_int_equal(r.status, 201);
	assert_string_equal(test_resp_header(&r, "Location"), "/api/v1/images/big");
	j = jbody(&r);
	assert_string_equal(jstr(j, "sha256"), hex);
	cJSON_Delete(j);
	test_resp_free(&r);
	assert_memory_equal(image_find("big")->data, big, n);
	free(big);

	/* The list. */
	r = req("GET", "/images", token, NULL);
	j = jbody(&r);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "images")), 2);
	cJSON_Delete(j);
	expect(r, 200, NULL);

	/* Replace: 200, the old memory goes. */
	assert_int_equal(upload("abc.bin", "abcd", 4), 200);
	assert_int_equal(fake.image_bytes_live, (3 << 20) + 4);
	expect(req("DELETE", "/images/abc.bin", token, NULL), 204, NULL);
	expect(req("GET", "/images/abc.bin", token, NULL), 404, "abc.bin");
	expect(req("DELETE", "/images/abc.bin", token, NULL), 404, NULL);
	assert_int_equal(fake.image_bytes_live, 3 << 20);
	expect(req("GET", "/images/a%20b", token, NULL), 400, "image name");
	expect(req("GET", "/images/..", token, NULL), 400, NULL);
	expect(req("GET", "/images", NULL, NULL), 401, NULL);
}

static void test_image_refusals(void **state)
{
	char text[512];

	/* No Content-Length: 411 (chunked, or none at all). */
	snprintf(text, sizeof(text), "PUT /api/v1/images/x HTTP/1.1\r\nHost: k\r\n"
		 "Authorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "1\r\na\r\n0\r\n\r\n", token);
	expect(raw(text), 411, "Content-Length");
	snprintf(text, sizeof(text), "PUT /api/v1/images/x HTTP/1.1\r\nHost: k\r\n"
		 "Authorization: Bearer %s\r\n\r\n", token);
	expect(raw(text), 411, NULL);
	assert_int_equal(upload("x", "", 0), 400);
	/* Beyond 1 GiB, or beyond free memory: refused from the head, before
	 * the client sends the body (Expect: 100-continue). */
	snprintf(text, sizeof(text), "PUT /api/v1/images/x HTTP/1.1\r\nHost: k\r\n"
		 "Authorization: Bearer %s\r\nExpect: 100-continue\r\n"
		 "Content-Length: %llu\r\n\r\n", token, (1ULL << 30) + 1);
	expect(raw(text), 413, "1024 MiB");
	fake.mem_available = 100 << 20;
	snprintf(text, sizeof(text), "PUT /api/v1/images/x HTTP/1.1\r\nHost: k\r\n"
		 "Authorization: Bearer %s\r\nExpect: 100-continue\r\n"
		 "Content-Length: %llu\r\n\r\n", token, 80ULL << 20);
	expect(raw(text), 507, "not enough free memory");
	fake.mem_available = 2048ULL << 20;
	fake.image_alloc_fails = true;
	assert_int_equal(upload("x", "abc", 3), 507);
	fake.image_alloc_fails = false;
	assert_int_equal(upload("bad name", "abc", 3), 400);
	assert_int_equal(fake.image_bytes_live, 0);

	/* Cut off halfway: nothing stays. */
	snprintf(text, sizeof(text), "PUT /api/v1/images/x HTTP/1.1\r\nHost: k\r\n"
		 "Authorization: Bearer %s\r\nContent-Length: 100\r\n\r\nhalf", token);
	struct http_conn *c = http_conn_new(peer, now);
	http_conn_input(c, (const uint8_t *)text, strlen(text), now);
	assert_int_equal(fake.image_bytes_live, 100);
	http_conn_free(c);
	assert_int_equal(fake.image_bytes_live, 0);
	expect(req("GET", "/images/x", token, NULL), 404, NULL);

	/* At most IMAGE_SLOTS images. */
	for (int i = 0; i < IMAGE_SLOTS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "i%d", i);
		assert_int_equal(upload(name, "z", 1), 201);
	}
	assert_int_equal(upload("one-more", "z", 1), 507);
	assert_int_equal(upload("i0", "zz", 2), 200); /* a replacement fits */
}

/* ---------------------------------------------------------------- VMs -- */

static void test_vm_names(void **state)
{
	assert_true(api_vm_name_valid("web-1"));
	assert_true(api_vm_name_valid("A_b"));
	assert_true(api_vm_name_valid("1a"));
	assert_true(api_vm_name_valid("x234567890123456789012345678901"));
	assert_false(api_vm_name_valid("x2345678901234567890123456789012"));
	assert_false(api_vm_name_valid(""));
	assert_false(api_vm_name_valid("42")); /* would read as an id */
	assert_false(api_vm_name_valid("a.b"));
	assert_false(api_vm_name_valid("a b"));
	assert_false(api_vm_name_valid("a/b"));
}

/* The whole table, written out independently of api_vms.c's. */
static void test_vm_state_machine(void **state)
{
	enum { C = API_VM_CREATED, R = API_VM_RUNNING, P = API_VM_PAUSED,
	       S = API_VM_STOPPED, X = -1 };
	/* start, stop, poweroff, reset, pause, resume, delete */
	static const int want[4][API_VM_ACTION_COUNT] = {
		[API_VM_CREATED] = {R, X, X, X, X, X, C},
		[API_VM_RUNNING] = {X, R, S, R, P, X, X},
		[API_VM_PAUSED] = {X, X, S, P, X, R, X},
		[API_VM_STOPPED] = {X, X, X, X, X, X, S},
	};

	for (int s = 0; s < 4; s++)
		for (int a = 0; a < API_VM_ACTION_COUNT; a++)
			if (api_vm_next_state(s, a) != want[s][a])
				fail_msg("state %d action %d: %d, want %d", s, a,
					 api_vm_next_state(s, a), want[s][a]);
	assert_int_equal(api_vm_next_state(4, API_VM_START), -1);
	assert_int_equal(api_vm_next_state(API_VM_RUNNING, API_VM_ACTION_COUNT), -1);
}

static void test_json_int(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		int64_t v;
	} cases[] = {
		{"0", true, 0}, {"-0", true, 0}, {"1", true, 1}, {"64", true, 64},
		{"-7", true, -7}, {"3.0", true, 3}, {"1e3", true, 1000},
		{"2305843009213693952", true, 2305843009213693952LL}, /* 2^61 */
		{"4611686018427387904", false, 0}, /* 2^62: beyond the range */
		{"9223372036854775807", false, 0}, {"2.5", false, 0},
		{"0.1", false, 0}, {"1e-300", false, 0}, {"1e400", false, 0},
		{"\"2\"", false, 0}, {"true", false, 0}, {"null", false, 0},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *j = cJSON_Parse(cases[i].text);
		int64_t v = -99;
		assert_non_null(j);
		if (json_int(j, &v) != cases[i].ok)
			fail_msg("%s: %d", cases[i].text, !cases[i].ok);
		if (cases[i].ok)
			assert_int_equal(v, cases[i].v);
		cJSON_Delete(j);
	}
}

static void test_vm_create_validation(void **state)
{
	upload_kernels();
	static const struct {
		const char *body;
		int status;
		const char *what;
	} cases[] = {
		{"{}", 400, "name"},
		{"{\"name\": 5, \"kernel\": \"bz\"}", 400, "name"},
		{"{\"name\": \"a.b\", \"kernel\": \"bz\"}", 400, "name"},
		{"{\"name\": \"12\", \"kernel\": \"bz\"}", 400, "only digits"},
		{"{\"name\": \"12345678901234567890123456789012\", \"kernel\": \"bz\"}", 400, "name"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"cpus\": 0}", 400, "cpus"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"cpus\": 65}", 400, "1..64"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"cpus\": 1.5}", 400, "integer"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"cpus\": \"2\"}", 400, "integer"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"cpus\": null}", 400, "integer"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"memory_mib\": 0}", 400, "memory_mib"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"memory_mib\": 2049}", 400, "1..2048"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"memory_mib\": -1}", 400, "memory_mib"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"memory_mib\": 1e30}", 400, "memory_mib"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"vcpus\": 2}", 400, "'vcpus'"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"name\": \"w\"}", 400, "repeated"},
		{"{\"name\": \"v\"}", 400, "exactly one of kernel and firmware"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"firmware\": \"fw\"}", 400, "exactly one"},
		{"{\"name\": \"v\", \"kernel\": \"none\"}", 400, "no image named 'none'"},
		{"{\"name\": \"v\", \"kernel\": \"../x\"}", 400, "kernel"},
		{"{\"name\": \"v\", \"kernel\": 1}", 400, "kernel"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"initrd\": \"gone\"}", 400, "initrd"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"disk\": \"gone\"}", 400, "disk"},
		{"{\"name\": \"v\", \"firmware\": \"fw\", \"initrd\": \"initrd.img\"}", 400, "with a kernel"},
		{"{\"name\": \"v\", \"firmware\": \"fw\", \"cmdline\": \"x\"}", 400, "with a kernel"},
		{"{\"name\": \"v\", \"kernel\": \"bz\", \"cmdline\": 7}", 400, "cmdline"},
		{"{\"name\": \"v\", \"kernel\": \"fw\"}", 400, "not a kernel"},
		{"{\"name\": \"v\", \"kernel\": \"elf\", \"initrd\": \"initrd.img\"}", 400, "only a Linux"},
		{"{\"name\": \"v\", \"kernel\": \"bz\"", 400, "JSON object"},
		{"\"v\"", 400, "JSON object"},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		create(cases[i].body, cases[i].status, cases[i].what);
	/* cmdline: 2047 bytes are fine, 2048 are not. */
	char *body = malloc(4200);
	snprintf(body, 4200, "{\"name\": \"v\", \"kernel\": \"bz\", \"cmdline\": \"%2048d\"}", 1);
	create(body, 400, "cmdline");
	snprintf(body, 4200, "{\"name\": \"v\", \"kernel\": \"bz\", \"cmdline\": \"%2047d\"}", 1);
	assert_true(create(body, 201, NULL) > 0);
	free(body);
	assert_int_equal(fake.vms[0].cmdline ? strlen(fake.vms[0].cmdline) : 0, 2047);
	/* Less memory free than the default asks. */
	fake.mem_available = 100 << 20;
	create("{\"name\": \"w\", \"kernel\": \"bz\"}", 400, "more than the 100 MiB");
	fake.mem_available = 2048ULL << 20;
	create("{\"name\": \"v\", \"kernel\": \"bz\"}", 409, "exists");
	assert_int_equal(fake.vms[1].live, false); /* nothing more was made */
}

static void test_vm_create_and_get(void **state)
{
	struct test_resp r;
	cJSON *j;
	int id;

	upload_kernels();
	r = req("POST", "/vms", token, "{\"name\": \"web\", \"cpus\": 2, "
		"\"memory_mib\": 512, \"kernel\": \"bz\", \"initrd\": \"initrd.img\", "
		"\"cmdline\": \"console=ttyS0\", \"firmware\": null, \"disk\": \"fw\"}");
	assert_int_equal(r.status, 201);
	j = jbody(&r);
	id = atoi(jstr(j, "id"));
	char loc[64];
	snprintf(loc, sizeof(loc), "/api/v1/vms/%d", id);
	assert_string_equal(test_resp_header(&r, "Location"), loc);
	/* DESIGN.md section 10: exactly these ten fields. */
	assert_int_equal(cJSON_GetArraySize(j), 10);
	assert_string_equal(jstr(j, "name"), "web");
	assert_string_equal(jstr(j, "state"), "created");
	assert_int_equal(jnum(j, "cpus"), 2);
	assert_int_equal(jnum(j, "memory_mib"), 512);
	assert_string_equal(jstr(j, "kernel"), "bz");
	assert_string_equal(jstr(j, "initrd"), "initrd.img");
	assert_string_equal(jstr(j, "cmdline"), "console=ttyS0");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "firmware")));
	assert_string_equal(jstr(j, "disk"), "fw");
	cJSON_Delete(j);
	test_resp_free(&r);
	struct fake_vm *v = fake_vm_by_name("web");
	assert_ptr_equal(v->kernel, image_find("bz")->data);
	assert_ptr_equal(v->initrd, image_find("initrd.img")->data);
	assert_null(v->firmware);

	/* Defaults: 1 CPU, 256 MiB; firmware VMs. */
	id = create("{\"name\": \"fwvm\", \"firmware\": \"fw\"}", 201, NULL);
	r = req("GET", "/vms/fwvm", token, NULL);
	j = jbody(&r);
	assert_int_equal(jnum(j, "cpus"), 1);
	assert_int_equal(jnum(j, "memory_mib"), 256);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "kernel")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "cmdline")));
	assert_string_equal(jstr(j, "firmware"), "fw");
	char idstr[16];
	snprintf(idstr, sizeof(idstr), "%d", id);
	assert_string_equal(jstr(j, "id"), idstr);
	cJSON_Delete(j);
	expect(r, 200, NULL);
	/* By id, too. */
	r = req("GET", "/vms/2", token, NULL);
	j = jbody(&r);
	assert_string_equal(jstr(j, "name"), "fwvm");
	cJSON_Delete(j);
	expect(r, 200, NULL);
	expect(req("GET", "/vms/99", token, NULL), 404, "'99'");
	expect(req("GET", "/vms/nobody", token, NULL), 404, NULL);

	/* A VM from keel.cfg shows up, with no images the API knows. */
	fake_vm_add("boot", API_VM_RUNNING);
	r = req("GET", "/vms", token, NULL);
	j = jbody(&r);
	cJSON *list = cJSON_GetObjectItem(j, "vms");
	assert_int_equal(cJSON_GetArraySize(list), 3);
	cJSON *boot = cJSON_GetArrayItem(list, 2);
	assert_string_equal(jstr(boot, "name"), "boot");
	assert_string_equal(jstr(boot, "state"), "running");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(boot, "kernel")));
	cJSON_Delete(j);
	expect(r, 200, NULL);

	r = req("GET", "/host", token, NULL);
	j = jbody(&r);
	assert_int_equal(cJSON_GetArraySize(j), 7);
	assert_string_equal(jstr(j, "version"), "test");
	assert_int_equal(jnum(j, "cpus"), 4);
	assert_int_equal(jnum(j, "memory_total_mib"), 4096);
	assert_int_equal(jnum(j, "memory_free_mib"), 3000);
	assert_string_equal(jstr(j, "virt"), "svm");
	assert_int_equal(jnum(j, "uptime_s"), 42);
	assert_int_equal(jnum(j, "vms"), 3);
	cJSON_Delete(j);
	expect(r, 200, NULL);
}

/* POST /vms/{id}/<action>: the VM's state after it, or 409 naming the
 * state it is in. */
static void act(const char *vm, const char *action, int status,
		const char *state_after)
{
	char path[128];
	struct test_resp r;

	snprintf(path, sizeof(path), "/vms/%s/%s", vm, action);
	r = req("POST", path, token, NULL);
	if (status < 300 && r.status == status) {
		cJSON *j = jbody(&r);
		assert_string_equal(jstr(j, "state"), state_after);
		cJSON_Delete(j);
	}
	expect(r, status, state_after && status >= 400 ? state_after : NULL);
}

static void test_vm_lifecycle(void **state)
{
	upload_kernels();
	create("{\"name\": \"v\", \"kernel\": \"bz\"}", 201, NULL);
	act("v", "stop", 409, "created");
	act("v", "pause", 409, "created");
	act("v", "resume", 409, "created");
	act("v", "reset", 409, "created");
	act("v", "poweroff", 409, "created");
	act("v", "start", 200, "running");
	act("v", "start", 409, "running");
	act("v", "resume", 409, "running");
	expect(req("DELETE", "/vms/v", token, NULL), 409, "running");
	act("v", "stop", 202, "running"); /* the power button */
	assert_int_equal(fake.actions[API_VM_STOP], 1);
	act("v", "pause", 200, "paused");
	act("v", "pause", 409, "paused");
	act("v", "stop", 409, "paused");
	act("v", "reset", 200, "paused");
	act("v", "resume", 200, "running");
	act("v", "reset", 200, "running");
	assert_int_equal(fake.actions[API_VM_RESET], 2);
	act("v", "poweroff", 200, "stopped");
	act("v", "poweroff", 409, "stopped");
	act("v", "start", 409, "delete it and create it anew");
	/* The kernel's own refusal (a race with the guest) is a 409 too. */
	create("{\"name\": \"w\", \"kernel\": \"bz\"}", 201, NULL);
	fake.action_error = KEEL_EBUSY;
	act("w", "start", 409, NULL);
	act("w", "start", 200, "running");
	expect(req("DELETE", "/vms/v", token, NULL), 204, NULL);
	expect(req("GET", "/vms/v", token, NULL), 404, NULL);
	expect(req("DELETE", "/vms/v", token, NULL), 404, NULL);
	act("1", "start", 404, NULL);
	expect(req("POST", "/vms/w/start", NULL, NULL), 401, NULL);
}

static void test_images_in_use(void **state)
{
	upload_kernels();
	create("{\"name\": \"v\", \"kernel\": \"bz\", \"initrd\": \"initrd.img\"}",
	       201, NULL);
	expect(req("DELETE", "/images/bz", token, NULL), 409, "vm v");
	expect(req("DELETE", "/images/initrd.img", token, NULL), 409, "vm v");
	assert_int_equal(upload("bz", "new", 3), 409);
	expect(req("DELETE", "/images/elf", token, NULL), 204, NULL);
	/* Deleting the VM frees its images. */
	expect(req("DELETE", "/vms/v", token, NULL), 204, NULL);
	expect(req("DELETE", "/images/bz", token, NULL), 204, NULL);
	/* So does a VM that went away otherwise (Keel's shell). */
	create("{\"name\": \"w\", \"firmware\": \"fw\"}", 201, NULL);
	expect(req("DELETE", "/images/fw", token, NULL), 409, "vm w");
	struct fake_vm *w = fake_vm_by_name("w");
	memset(w, 0, sizeof(*w));
	expect(req("DELETE", "/images/fw", token, NULL), 204, NULL);
}

/* ------------------------------------------------------------ console -- */

static void test_console(void **state)
{
	struct fake_vm *v = fake_vm_add("c", API_VM_RUNNING);
	struct test_resp r;
	cJSON *j;

	fake_console_write(v, "hello\n\xff" "x", 8);
	r = req("GET", "/vms/c/console", token, NULL);
	assert_string_equal(test_resp_header(&r, "X-Console-Next"), "8");
	j = jbody(&r);
	assert_int_equal(jnum(j, "since"), 0);
	assert_int_equal(jnum(j, "next"), 8);
	assert_string_equal(jstr(j, "data"), "hello\n\xEF\xBF\xBDx"); /* U+FFFD */
	cJSON_Delete(j);
	expect(r, 200, NULL);
	r = req("GET", "/vms/c/console?since=6", token, NULL);
	j = jbody(&r);
	assert_int_equal(jnum(j, "since"), 6);
	assert_string_equal(jstr(j, "data"), "\xEF\xBF\xBDx");
	cJSON_Delete(j);
	expect(r, 200, NULL);
	/* Raw bytes for Accept: text/plain. */
	char text[256];
	snprintf(text, sizeof(text), "GET /api/v1/vms/c/console?since=1 HTTP/1.1\r\n"
		 "Host: k\r\nAuthorization: Bearer %s\r\nAccept: text/plain\r\n\r\n",
		 token);
	r = raw(text);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 7);
	assert_memory_equal(r.body, "ello\n\xffx", 7);
	assert_string_equal(test_resp_header(&r, "X-Console-Next"), "8");
	test_resp_free(&r);
	/* The ring forgot the oldest bytes: since says where data starts. */
	char chunk[1000];
	memset(chunk, 'z', sizeof(chunk));
	for (int i = 0; i < 20; i++)
		fake_console_write(v, chunk, sizeof(chunk));
	r = req("GET", "/vms/c/console?since=3", token, NULL);
	j = jbody(&r);
	assert_int_equal(jnum(j, "since"), 20008 - 16384);
	assert_int_equal(jnum(j, "next"), 20008);
	assert_int_equal(strlen(jstr(j, "data")), 16384);
	cJSON_Delete(j);
	expect(r, 200, NULL);
	/* Beyond the end: nothing, and where the end is. */
	r = req("GET", "/vms/c/console?since=99999", token, NULL);
	assert_string_equal(test_resp_header(&r, "X-Console-Next"), "20008");
	expect(r, 200, NULL);
	expect(req("GET", "/vms/c/console?since=x", token, NULL), 400, "since");
	expect(req("GET", "/vms/c/console?since=", token, NULL), 400, "since");
	expect(req("GET", "/vms/zz/console", token, NULL), 404, NULL);
}

/* A masked client frame. */
static size_t ws_frame(uint8_t *out, uint8_t op, const char *s)
{
	size_t n = strlen(s);
	static const uint8_t m[4] = {9, 8, 7, 6};

	out[0] = 0x80 | op;
	out[1] = 0x80 | (uint8_t)n;
	memcpy(out + 2, m, 4);
	for (size_t i = 0; i < n; i++)
		out[6 + i] = (uint8_t)s[i] ^ m[i & 3];
	return 6 + n;
}

static void test_console_websocket(void **state)
{
	struct fake_vm *v = fake_vm_add("c", API_VM_RUNNING);
	char text[512];
	uint8_t frame[64], *out;
	struct test_resp r;
	size_t len, k;

	fake_console_write(v, "boot\n", 5);
	v->fifo_room = 4; /* the UART takes 4 bytes per try */
	snprintf(text, sizeof(text), "GET /api/v1/vms/c/console/ws?access_token=%s "
		 "HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\n\r\n", token);
	struct http_conn *c = http_conn_new(peer, now);
	http_conn_input(c, (const uint8_t *)text, strlen(text), now);
	http_conn_poll(c, now);
	len = test_drain(c, &out);
	k = test_parse_resp(out, len, true, &r);
	assert_int_equal(r.status, 101);
	test_resp_free(&r);
	/* What the ring held comes first, as a binary frame. */
	assert_int_equal(len - k, 7);
	assert_memory_equal(out + k, "\x82\x05" "boot\n", 7);
	free(out);

	/* Typing: 10 bytes, the UART takes 4 at a time as polls come. */
	http_conn_input(c, frame, ws_frame(frame, 1, "ls -l /tmp"), now);
	assert_int_equal(v->typed_len, 4);
	http_conn_poll(c, now);
	http_conn_poll(c, now);
	assert_int_equal(v->typed_len, 10);
	assert_memory_equal(v->typed, "ls -l /tmp", 10);

	/* New output, then the VM goes: Close 1000. */
	fake_console_write(v, "out", 3);
	http_conn_poll(c, now);
	len = test_drain(c, &out);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "\x82\x03out", 5);
	free(out);
	memset(v, 0, sizeof(*v));
	assert_int_equal(http_conn_poll(c, now), HTTP_CONN_CLOSE);
	len = test_drain(c, &out);
	assert_true(len >= 4);
	assert_int_equal(out[0], 0x88);
	assert_int_equal(out[2] << 8 | out[3], 1000);
	free(out);
	http_conn_free(c);

	/* Without a token, a bad one, or no handshake. */
	fake_vm_add("d", API_VM_RUNNING);
	snprintf(text, sizeof(text), "GET /api/v1/vms/d/console/ws HTTP/1.1\r\nHost: k\r\n"
		 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\n\r\n");
	expect(raw(text), 401, NULL);
	snprintf(text, sizeof(text), "GET /api/v1/vms/d/console/ws?access_token=%064d "
		 "HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\n\r\n", 0);
	expect(raw(text), 401, NULL);
	expect(req("GET", "/vms/d/console/ws", token, NULL), 400, "WebSocket");
	snprintf(text, sizeof(text), "GET /api/v1/vms/d/console/ws HTTP/1.1\r\nHost: k\r\n"
		 "Authorization: Bearer %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 8\r\n\r\n", token);
	r = raw(text);
	assert_string_equal(test_resp_header(&r, "Sec-WebSocket-Version"), "13");
	expect(r, 426, NULL);
	/* The token query is for the WebSocket only. */
	snprintf(text, sizeof(text), "/host?access_token=%s", token);
	expect(req("GET", text, NULL, NULL), 401, NULL);
}

/* ---------------------------------------------------------------- log -- */

static void test_log(void **state)
{
	struct test_resp r;
	cJSON *j, *lines;

	for (int i = 0; i < 5; i++) {
		char l[32];
		snprintf(l, sizeof(l), "line %d", i);
		fake_log(l);
	}
	r = req("GET", "/log", token, NULL);
	j = jbody(&r);
	assert_int_equal(jnum(j, "since"), 0);
	assert_int_equal(jnum(j, "next"), 5);
	lines = cJSON_GetObjectItem(j, "lines");
	assert_int_equal(cJSON_GetArraySize(lines), 5);
	assert_string_equal(cJSON_GetArrayItem(lines, 4)->valuestring, "line 4");
	cJSON_Delete(j);
	expect(r, 200, NULL);
	r = req("GET", "/log?since=3", token, NULL);
	j = jbody(&r);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "lines")), 2);
	cJSON_Delete(j);
	expect(r, 200, NULL);
	/* The ring keeps 8: older records are gone, since says so. */
	for (int i = 5; i < 20; i++)
		fake_log("more");
	r = req("GET", "/log?since=2", token, NULL);
	j = jbody(&r);
	assert_int_equal(jnum(j, "since"), 12);
	assert_int_equal(jnum(j, "next"), 20);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "lines")), 8);
	cJSON_Delete(j);
	expect(r, 200, NULL);
	r = req("GET", "/log?since=20", token, NULL);
	j = jbody(&r);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "lines")), 0);
	cJSON_Delete(j);
	expect(r, 200, NULL);
	expect(req("GET", "/log?since=-1", token, NULL), 400, "since");
	expect(req("GET", "/log", NULL, NULL), 401, NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_route_match),
		T(test_openapi_lists_every_route),
		T(test_not_found_and_method),
		T(test_hash_parse),
		T(test_keelctl_hash_agrees),
		T(test_login),
		T(test_random_password),
		T(test_tokens),
		T(test_ct_equal),
		T(test_rate_limit_peer),
		T(test_rate_limit_global),
		T(test_image_names),
		T(test_images),
		T(test_image_refusals),
		T(test_vm_names),
		T(test_vm_state_machine),
		T(test_json_int),
		T(test_vm_create_validation),
		T(test_vm_create_and_get),
		T(test_vm_lifecycle),
		T(test_images_in_use),
		T(test_console),
		T(test_console_websocket),
		T(test_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
