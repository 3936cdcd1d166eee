/*
 * api.c - the REST API's router (DESIGN.md section 10, mgmt/openapi.json):
 * the route table, authentication of every route but the login and the
 * OpenAPI document, how a call's body is taken, JSON answers without
 * floating point, and the small routes (session, host, log, openapi).
 * VMs are in api_vms.c, images in images.c, passwords and tokens in auth.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cJSON.h"
#include "kernel/err.h"
#include "mgmt/api_internal.h"
#include "mm/mm.h"

#define API_JSON_DEPTH_MAX 16	  /* cJSON recurses: keep its stack small */
#define API_LOG_MAX (256u << 10) /* bytes of log per answer */

static void api_session_create(struct api_call *call, const cJSON *json);
static void api_session_delete(struct api_call *call, const cJSON *json);
static void api_host_get(struct api_call *call, const cJSON *json);
static void api_log_get(struct api_call *call, const cJSON *json);
static void api_openapi_get(struct api_call *call, const cJSON *json);

/* Every route: mgmt/openapi.json describes exactly these
 * (tests/unit/test_api.c checks both ways). */
const struct api_route api_routes[] = {
	{"POST", "/session", false, API_BODY_JSON, api_session_create},
	{"DELETE", "/session", true, API_BODY_NONE, api_session_delete},
	{"GET", "/host", true, API_BODY_NONE, api_host_get},
	{"GET", "/images", true, API_BODY_NONE, api_images_list},
	{"GET", "/images/{name}", true, API_BODY_NONE, api_image_get},
	{"PUT", "/images/{name}", true, API_BODY_STREAM, api_image_put},
	{"DELETE", "/images/{name}", true, API_BODY_NONE, api_image_delete},
	{"GET", "/vms", true, API_BODY_NONE, api_vms_list},
	{"POST", "/vms", true, API_BODY_JSON, api_vm_create},
	{"GET", "/vms/{id}", true, API_BODY_NONE, api_vm_get},
	{"DELETE", "/vms/{id}", true, API_BODY_NONE, api_vm_delete},
	{"POST", "/vms/{id}/start", true, API_BODY_NONE, api_vm_start},
	{"POST", "/vms/{id}/stop", true, API_BODY_NONE, api_vm_stop},
	{"POST", "/vms/{id}/poweroff", true, API_BODY_NONE, api_vm_poweroff},
	{"POST", "/vms/{id}/reset", true, API_BODY_NONE, api_vm_reset},
	{"POST", "/vms/{id}/pause", true, API_BODY_NONE, api_vm_pause},
	{"POST", "/vms/{id}/resume", true, API_BODY_NONE, api_vm_resume},
	{"GET", "/vms/{id}/console", true, API_BODY_NONE, api_vm_console},
	{"GET", "/vms/{id}/console/ws", true, API_BODY_WS, api_vm_console_ws},
	{"GET", "/log", true, API_BODY_NONE, api_log_get},
	{"GET", "/openapi.json", false, API_BODY_NONE, api_openapi_get},
};
const unsigned api_route_count = sizeof(api_routes) / sizeof(api_routes[0]);

void api_init(void)
{
	auth_init();
	images_init();
	api_vms_init();
}

/* ------------------------------------------------------------ answers -- */

void api_fail(struct api_call *call, int status, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_json_error(&call->resp, status, msg);
	call->next = API_RESPOND;
}

void api_add_header(struct api_call *call, const char *fmt, ...)
{
	char *h = call->resp.headers;
	size_t used = strlen(h);
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(h + used, sizeof(call->resp.headers) - used, fmt, ap);
	va_end(ap);
	if (n < 0 || used + (size_t)n + 2 >= sizeof(call->resp.headers)) {
		h[used] = 0; /* never half a header */
		return;
	}
	memcpy(h + used + n, "\r\n", 3);
}

void api_reply_json(struct api_call *call, int status, cJSON *json)
{
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;
	size_t n = text ? strlen(text) : 0;
	char *body = text ? kmalloc(n + 1) : NULL;

	cJSON_Delete(json);
	if (!body) {
		if (text)
			cJSON_free(text);
		api_fail(call, 503, "out of memory");
		return;
	}
	memcpy(body, text, n + 1);
	cJSON_free(text);
	kfree(call->resp.body);
	call->resp.status = status;
	call->resp.content_type = NULL;
	call->resp.body = body;
	call->resp.body_len = n;
	call->next = API_RESPOND;
}

void api_reply_empty(struct api_call *call, int status)
{
	kfree(call->resp.body);
	call->resp.body = NULL;
	call->resp.body_len = 0;
	call->resp.status = status;
	call->next = API_RESPOND;
}

/* ------------------------------------------------------- JSON helpers -- */

bool json_int(const cJSON *item, int64_t *out)
{
	uint64_t bits, m, v;
	int e;

	if (!cJSON_IsNumber(item))
		return false;
	/* IEEE 754 binary64: sign, 11-bit exponent, 52-bit fraction. Copied
	 * as bytes: Keel's code is built without floating point. */
	memcpy(&bits, &item->valuedouble, sizeof(bits));
	unsigned exp = (unsigned)(bits >> 52) & 0x7FF;
	m = bits & ((1ULL << 52) - 1);
	if (exp == 0) { /* zero; a subnormal is no integer */
		if (m)
			return false;
		*out = 0;
		return true;
	}
	if (exp == 0x7FF) /* infinity, NaN */
		return false;
	m |= 1ULL << 52;
	e = (int)exp - 1075; /* value = m * 2^e */
	if (e >= 0) {
		if (e > 9) /* beyond 2^62 */
			return false;
		v = m << e;
	} else {
		if (e < -52 || (m & ((1ULL << -e) - 1)))
			return false; /* a fraction */
		v = m >> -e;
	}
	*out = bits >> 63 ? -(int64_t)v : (int64_t)v;
	return true;
}

bool json_add_u64(cJSON *obj, const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cJSON_AddRawToObject(obj, name, buf) != NULL;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629 4), or 0. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t b = p[0], lo = 0x80, hi = 0xBF;
	size_t len;

	if (b && b < 0x80)
		return 1;
	if (b >= 0xC2 && b <= 0xDF) {
		len = 2;
	} else if (b >= 0xE0 && b <= 0xEF) {
		len = 3;
		lo = b == 0xE0 ? 0xA0 : 0x80;
		hi = b == 0xED ? 0x9F : 0xBF;
	} else if (b >= 0xF0 && b <= 0xF4) {
		len = 4;
		lo = b == 0xF0 ? 0x90 : 0x80;
		hi = b == 0xF4 ? 0x8F : 0xBF;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

static cJSON *json_bytes(const char *p, size_t n)
{
	char *s = kmalloc(3 * n + 1);
	size_t o = 0;
	cJSON *str;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq((const uint8_t *)p + i, n - i);

		if (k) {
			memcpy(s + o, p + i, k);
			o += k;
			i += k;
		} else {
			memcpy(s + o, "\xEF\xBF\xBD", 3); /* U+FFFD */
			o += 3;
			i++;
		}
	}
	s[o] = 0;
	str = cJSON_CreateString(s);
	kfree(s);
	return str;
}

bool json_add_bytes(cJSON *obj, const char *name, const char *p, size_t n)
{
	cJSON *s = json_bytes(p, n);

	return s && cJSON_AddItemToObject(obj, name, s);
}

bool json_members_known(const cJSON *obj, const char *const *names,
			const char **bad)
{
	uint32_t seen = 0;

	for (const cJSON *m = obj->child; m; m = m->next) {
		unsigned i;

		for (i = 0; names[i] && strcmp(names[i], m->string); i++)
			;
		*bad = m->string;
		if (!names[i] || (seen & (1u << i)))
			return false;
		seen |= 1u << i;
	}
	return true;
}

/* Nesting depth of a JSON text, strings skipped: cJSON's parser recurses
 * once per level, and a body of a million '[' must not exhaust the
 * management thread's stack. */
static bool json_depth_ok(const uint8_t *p, size_t n, unsigned max)
{
	unsigned depth = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < n; i++) {
		uint8_t ch = p[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '[' || ch == '{') {
			if (++depth > max)
				return false;
		} else if ((ch == ']' || ch == '}') && depth) {
			depth--;
		}
	}
	return true;
}

/* The value of key in a query string, not decoded. */
static bool query_find(const char *query, const char *key, const char **val,
		       size_t *len)
{
	size_t kl = strlen(key);

	for (const char *p = query; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);

		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			*val = p + kl + 1;
			*len = n - kl - 1;
			return true;
		}
		p = amp ? amp + 1 : NULL;
	}
	return false;
}

bool api_query_u64(const char *query, const char *key, uint64_t *out,
		   bool *malformed)
{
	const char *v;
	size_t n;
	uint64_t x = 0;

	*malformed = false;
	if (!query_find(query, key, &v, &n))
		return false;
	if (!n || n > 19) {
		*malformed = true;
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9') {
			*malformed = true;
			return false;
		}
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return true;
}

/* ------------------------------------------------------------- routes -- */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* One path segment, percent-decoded (RFC 3986 2.1) into out. */
static bool segment_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '%') {
			if (i + 2 >= n)
				return false;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			ch = (char)(hi << 4 | lo);
			if (!ch)
				return false;
			i += 2;
		}
		if (o + 1 >= cap)
			return false;
		out[o++] = ch;
	}
	out[o] = 0;
	return true;
}

static bool path_match(const char *pat, const char *path, char *arg,
		       size_t arg_len)
{
	while (*pat && *path) {
		if (*pat == '{') {
			const char *end = path;

			pat = strchr(pat, '}') + 1;
			while (*end && *end != '/')
				end++;
			if (end == path ||
			    !segment_decode(path, (size_t)(end - path), arg, arg_len))
				return false;
			path = end;
		} else if (*pat++ != *path++) {
			return false;
		}
	}
	return !*pat && !*path;
}

int api_route_match(const char *method, const char *path, char *arg,
		    size_t arg_len, bool *path_known)
{
	*path_known = false;
	for (unsigned i = 0; i < api_route_count; i++) {
		if (!path_match(api_routes[i].path, path, arg, arg_len))
			continue;
		*path_known = true;
		if (!strcmp(api_routes[i].method, method))
			return (int)i;
	}
	return -1;
}

/* The WebSocket route also takes the token as ?access_token= (RFC 6750
 * 2.3): a browser cannot add headers to a WebSocket. */
static bool api_authorized(struct api_call *call, const struct api_route *r)
{
	char bearer[16 + AUTH_TOKEN_HEX];
	const char *v;
	size_t n;

	if (call->authorization)
		return auth_token_check(call->authorization, call->now_ns);
	if (r->body == API_BODY_WS &&
	    query_find(call->query, "access_token", &v, &n) &&
	    n == AUTH_TOKEN_HEX) {
		snprintf(bearer, sizeof(bearer), "Bearer %.*s", (int)n, v);
		return auth_token_check(bearer, call->now_ns);
	}
	return false;
}

void api_request(struct api_call *call)
{
	size_t plen = sizeof(API_PREFIX) - 1;
	const struct api_route *r;
	bool known;
	int i;

	call->next = API_RESPOND;
	call->route = -1;
	if (strncmp(call->path, API_PREFIX, plen) || call->path[plen] != '/') {
		api_fail(call, 404, "no such resource (the API is under %s/)",
			 API_PREFIX);
		return;
	}
	i = api_route_match(call->method, call->path + plen, call->arg,
			    sizeof(call->arg), &known);
	if (i < 0) {
		if (!known) {
			api_fail(call, 404, "no such resource");
			return;
		}
		api_fail(call, 405, "method %s not allowed here", call->method);
		char allow[64];
		size_t used = 0;
		allow[0] = 0;
		for (unsigned k = 0; k < api_route_count; k++) {
			char tmp[sizeof(call->arg)];
			if (path_match(api_routes[k].path, call->path + plen, tmp,
				       sizeof(tmp)))
				used += (size_t)snprintf(allow + used,
							 sizeof(allow) - used, "%s%s",
							 used ? ", " : "",
							 api_routes[k].method);
		}
		api_add_header(call, "Allow: %s", allow);
		return;
	}
	r = &api_routes[i];
	if (r->auth && !api_authorized(call, r)) {
		api_fail(call, 401, "a valid bearer token is needed (POST %s/session)",
			 API_PREFIX);
		api_add_header(call, "WWW-Authenticate: Bearer");
		return;
	}
	call->route = i;
	switch (r->body) {
	case API_BODY_JSON:
		call->next = API_READ_BODY;
		return;
	case API_BODY_WS:
		if (call->ws == API_WS_VERSION) {
			api_fail(call, 426, "WebSocket version 13 only");
			api_add_header(call, "Sec-WebSocket-Version: 13");
			return;
		}
		if (call->ws != API_WS_OK) {
			api_fail(call, 400, "a WebSocket handshake is needed here "
				 "(RFC 6455 4.1)");
			return;
		}
		break;
	default:
		break;
	}
	r->fn(call, NULL);
}

void api_body(struct api_call *call, const uint8_t *body, size_t len)
{
	const struct api_route *r;
	cJSON *json;

	if (call->route < 0 || api_routes[call->route].body != API_BODY_JSON) {
		api_fail(call, 500, "no body was expected");
		return;
	}
	r = &api_routes[call->route];
	if (!json_depth_ok(body, len, API_JSON_DEPTH_MAX)) {
		api_fail(call, 400, "the body nests deeper than %u levels",
			 API_JSON_DEPTH_MAX);
		return;
	}
	json = cJSON_ParseWithLength((const char *)body, len);
	if (!cJSON_IsObject(json)) {
		cJSON_Delete(json);
		api_fail(call, 400, "the body must be a JSON object");
		return;
	}
	r->fn(call, json);
	cJSON_Delete(json);
}

int api_stream_write(struct api_call *call, const uint8_t *data, size_t len)
{
	return api_image_stream_write(call, data, len);
}

void api_stream_end(struct api_call *call, bool complete)
{
	api_image_stream_end(call, complete);
}

void api_ws_input(struct api_call *call, const uint8_t *data, size_t len)
{
	api_console_ws_input(call, data, len);
}

size_t api_ws_poll(struct api_call *call, uint64_t now_ns, uint8_t *buf,
		   size_t cap, int *close_code, const char **reason)
{
	return api_console_ws_poll(call, buf, cap, close_code, reason);
}

void api_ws_end(struct api_call *call)
{
	api_console_ws_end(call);
}

/* ------------------------------------------------------ small routes -- */

static void api_session_create(struct api_call *call, const cJSON *json)
{
	static const char *const fields[] = {"password", NULL};
	char token[AUTH_TOKEN_HEX + 1];
	const cJSON *pw = cJSON_GetObjectItemCaseSensitive(json, "password");
	const char *bad;
	uint64_t wait;
	bool ok;

	if (!json_members_known(json, fields, &bad)) {
		api_fail(call, 400, "unknown or repeated field '%s'", bad);
		return;
	}
	if (!cJSON_IsString(pw)) {
		api_fail(call, 400, "password: a string is needed");
		return;
	}
	/* Before the (slow) hash: a peer that waits costs nothing. */
	if (auth_login_allowed(call->peer, call->now_ns, &wait)) {
		api_fail(call, 429, "too many failed logins; retry in %llu s",
			 (unsigned long long)wait);
		api_add_header(call, "Retry-After: %llu", (unsigned long long)wait);
		return;
	}
	ok = auth_password_check(pw->valuestring, strlen(pw->valuestring));
	auth_login_result(call->peer, ok, call->now_ns);
	if (!ok) {
		api_fail(call, 401, "wrong password");
		api_add_header(call, "WWW-Authenticate: Bearer");
		return;
	}
	if (auth_token_new(call->now_ns, token)) {
		api_fail(call, 503, "no random bytes for a token");
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "token", token);
	memset(token, 0, sizeof(token));
	api_reply_json(call, 201, o);
}

static void api_session_delete(struct api_call *call, const cJSON *json)
{
	auth_token_revoke(call->authorization);
	api_reply_empty(call, 204);
}

static void api_host_get(struct api_call *call, const cJSON *json)
{
	static struct api_vm_info vms[API_VMS_MAX];
	struct api_host_info h;
	cJSON *o = cJSON_CreateObject();

	api_host_info(&h);
	cJSON_AddStringToObject(o, "version", h.version);
	json_add_u64(o, "cpus", h.cpus);
	json_add_u64(o, "memory_total_mib", h.memory_total_mib);
	json_add_u64(o, "memory_free_mib", h.memory_free_mib);
	cJSON_AddStringToObject(o, "virt", h.virt);
	json_add_u64(o, "uptime_s", h.uptime_s);
	json_add_u64(o, "vms", api_host_vm_list(vms, API_VMS_MAX));
	api_reply_json(call, 200, o);
}

/* {"since": first record, "next": the one to ask for next, "lines": []} */
static void api_log_get(struct api_call *call, const cJSON *json)
{
	uint64_t since = 0, seq;
	bool bad;
	char *buf;
	size_t n;

	if (!api_query_u64(call->query, "since", &since, &bad) && bad) {
		api_fail(call, 400, "since: a record number is needed");
		return;
	}
	buf = kmalloc(API_LOG_MAX);
	if (!buf) {
		api_fail(call, 503, "out of memory");
		return;
	}
	seq = since;
	api_host_log_read(&seq, buf, 0); /* moves seq up to the oldest kept */
	since = seq;
	n = api_host_log_read(&seq, buf, API_LOG_MAX);

	cJSON *o = cJSON_CreateObject();
	cJSON *lines = cJSON_CreateArray();
	json_add_u64(o, "since", since);
	json_add_u64(o, "next", seq);
	cJSON_AddItemToObject(o, "lines", lines);
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t k = nl ? (size_t)(nl - (buf + i)) : n - i;
		cJSON_AddItemToArray(lines, json_bytes(buf + i, k));
		i += k + 1;
	}
	kfree(buf);
	api_reply_json(call, 200, o);
}

static void api_openapi_get(struct api_call *call, const cJSON *json)
{
	size_t n = (size_t)mgmt_openapi_json_size;
	char *body = kmalloc(n);

	if (!body) {
		api_fail(call, 503, "out of memory");
		return;
	}
	memcpy(body, mgmt_openapi_json, n);
	api_reply_empty(call, 200);
	call->resp.body = body;
	call->resp.body_len = n;
}
