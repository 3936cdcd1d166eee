/*
 * api_internal.h - the parts of the REST API (api.c: routes and helpers,
 * api_vms.c: VMs and consoles, images.c: the image store, auth.c:
 * passwords, tokens, login rate limits) as they call each other, and the
 * pure functions the unit tests check. Management thread only.
 */
#ifndef KEEL_MGMT_API_INTERNAL_H
#define KEEL_MGMT_API_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgmt/api.h"
#include "mgmt/api_host.h"

struct cJSON;

/* ------------------------------------------------------------- routes -- */

enum api_body_kind {
	API_BODY_NONE,	 /* answered from the head */
	API_BODY_JSON,	 /* a JSON object body, then the handler */
	API_BODY_STREAM, /* the handler streams the body itself */
	API_BODY_WS,	 /* a WebSocket */
};

struct api_route {
	const char *method;
	const char *path; /* OpenAPI form under API_PREFIX: "/vms/{id}/start" */
	bool auth;	  /* needs a bearer token */
	enum api_body_kind body;
	/* NONE, STREAM, WS: called with the head; JSON: with the object. */
	void (*fn)(struct api_call *call, const struct cJSON *json);
};

extern const struct api_route api_routes[];
extern const unsigned api_route_count;

/* Which route serves method + path: its index, or -1 (*path_known tells
 * whether another method would have matched: 405 rather than 404). The
 * path parameter, percent-decoded, goes to arg (KEEL_ERANGE-free: one
 * that does not fit makes the path unknown). */
int api_route_match(const char *method, const char *path, char *arg,
		    size_t arg_len, bool *path_known);

/* ------------------------------------------------------------ answers -- */

void api_fail(struct api_call *call, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Answer with json (consumed), status 200/201/...; "" for none. */
void api_reply_json(struct api_call *call, int status, struct cJSON *json);
void api_reply_empty(struct api_call *call, int status);
/* Add a header line ("Location: ...") to the answer. */
void api_add_header(struct api_call *call, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------- JSON helpers -- */

/* An integral JSON number in [INT64_MIN/2, INT64_MAX/2], read from the
 * double's bits: no floating point in Keel's own code. */
bool json_int(const struct cJSON *item, int64_t *out);
/* Add an unsigned integer member without a double (cJSON_AddRawToObject). */
bool json_add_u64(struct cJSON *obj, const char *name, uint64_t v);
/* A string member from n bytes that need not be UTF-8: invalid bytes and
 * NULs become U+FFFD. */
bool json_add_bytes(struct cJSON *obj, const char *name, const char *p,
		    size_t n);
/* Do all of obj's members appear in names (NULL-terminated), each once? */
bool json_members_known(const struct cJSON *obj, const char *const *names,
			const char **bad);
/* The value of key in a query string ("since=12&x=y"), or false. */
bool api_query_u64(const char *query, const char *key, uint64_t *out,
		   bool *malformed);

/* --------------------------------------------------------------- auth -- */

#define AUTH_TOKEN_SLOTS 32
#define AUTH_TOKEN_BYTES 32
#define AUTH_TOKEN_HEX (2 * AUTH_TOKEN_BYTES)
#define AUTH_TOKEN_IDLE_NS (3600ULL * 1000000000ULL)	   /* 1 h unused */
#define AUTH_TOKEN_LIFETIME_NS (86400ULL * 1000000000ULL) /* 24 h at most */
#define AUTH_PEER_SLOTS 64
#define AUTH_PEER_FAILS 5	/* failures in a row before a peer waits */
#define AUTH_PEER_WAIT_NS (60ULL * 1000000000ULL)
#define AUTH_PEER_FORGET_NS (900ULL * 1000000000ULL) /* 15 min quiet */
#define AUTH_GLOBAL_FAILS 20	/* from everyone, within a window */
#define AUTH_GLOBAL_WINDOW_NS (60ULL * 1000000000ULL)
#define AUTH_GLOBAL_WAIT_NS (60ULL * 1000000000ULL)
#define AUTH_ITERATIONS_MAX 10000000u
#define AUTH_RANDOM_PW_LEN 20

struct auth_hash {
	uint32_t iterations;
	uint8_t salt[64];
	size_t salt_len;
	uint8_t key[64];
	size_t key_len;
};

/* "pbkdf2-sha256:<iterations>:<salt hex>:<key hex>": 0 or KEEL_EINVAL. */
int auth_hash_parse(const char *s, struct auth_hash *h);
/* From api_init: the configured hash, else a random password printed on
 * the local console. Forgets every token and failure. */
void auth_init(void);
bool auth_password_check(const char *pw, size_t len);
/* May peer try a password now? 0, or KEEL_EBUSY with the seconds to wait. */
int auth_login_allowed(uint32_t peer, uint64_t now_ns, uint64_t *retry_s);
void auth_login_result(uint32_t peer, bool ok, uint64_t now_ns);
/* A new token (64 hex digits + NUL); KEEL_EIO without random bytes. */
int auth_token_new(uint64_t now_ns, char out[AUTH_TOKEN_HEX + 1]);
/* Is the Authorization header value "Bearer <live token>"? Refreshes it. */
bool auth_token_check(const char *authorization, uint64_t now_ns);
/* End the token the header names. */
void auth_token_revoke(const char *authorization);
bool auth_ct_equal(const void *a, const void *b, size_t n);

/* ------------------------------------------------------------- images -- */

#define IMAGE_SLOTS 64
#define IMAGE_NAME_MAX 64
#define IMAGE_SIZE_MAX (1ULL << 30)
#define IMAGE_HEADROOM (32ULL << 20) /* left free besides Keel's reserve */

struct image {
	char name[IMAGE_NAME_MAX + 1];
	uint8_t *data;
	uint64_t size;
	char sha256[65];
};

/* [A-Za-z0-9._-]{1,64}, but not "." or "..". */
bool image_name_valid(const char *name);
const struct image *image_find(const char *name);
void images_init(void);

void api_images_list(struct api_call *call, const struct cJSON *json);
void api_image_get(struct api_call *call, const struct cJSON *json);
void api_image_put(struct api_call *call, const struct cJSON *json);
void api_image_delete(struct api_call *call, const struct cJSON *json);
int api_image_stream_write(struct api_call *call, const uint8_t *p, size_t n);
void api_image_stream_end(struct api_call *call, bool complete);

/* ---------------------------------------------------------------- VMs -- */

#define API_VMS_MAX 64	     /* = VM_MAX */
#define API_CMDLINE_MAX 2048 /* NUL included */

/* The state an action leads to, or -1 when the state does not allow it:
 * created -start-> running -pause-> paused -resume-> running;
 * running/paused -poweroff-> stopped; reset keeps running/paused; stop
 * (power button) only when running, which it stays; delete only when
 * created or stopped; a stopped VM does not start again. */
int api_vm_next_state(enum api_vm_state from, enum api_vm_action action);
const char *api_vm_state_name(enum api_vm_state s);
/* [A-Za-z0-9_-]{1,31} (keel.cfg's VM names), not only digits. */
bool api_vm_name_valid(const char *name);
/* Is an image named by a VM that still exists? *vm gets its name. */
bool api_vm_uses_image(const char *image, const char **vm);
void api_vms_init(void);

void api_vms_list(struct api_call *call, const struct cJSON *json);
void api_vm_create(struct api_call *call, const struct cJSON *json);
void api_vm_get(struct api_call *call, const struct cJSON *json);
void api_vm_delete(struct api_call *call, const struct cJSON *json);
void api_vm_start(struct api_call *call, const struct cJSON *json);
void api_vm_stop(struct api_call *call, const struct cJSON *json);
void api_vm_poweroff(struct api_call *call, const struct cJSON *json);
void api_vm_reset(struct api_call *call, const struct cJSON *json);
void api_vm_pause(struct api_call *call, const struct cJSON *json);
void api_vm_resume(struct api_call *call, const struct cJSON *json);
void api_vm_console(struct api_call *call, const struct cJSON *json);
void api_vm_console_ws(struct api_call *call, const struct cJSON *json);
void api_console_ws_input(struct api_call *call, const uint8_t *p, size_t n);
size_t api_console_ws_poll(struct api_call *call, uint8_t *buf, size_t cap,
			   int *close_code, const char **reason);
void api_console_ws_end(struct api_call *call);

/* The OpenAPI document (mgmt/openapi.json, embedded by mgmt/openapi.S,
 * NUL-terminated) and its length. */
extern const char mgmt_openapi_json[];
extern const uint64_t mgmt_openapi_json_size;

#endif
