/*
 * auth.c - who may use the API: the admin password (keel.cfg's password=,
 * a salted PBKDF2-HMAC-SHA256 hash as keelctl hash-password makes it, or a
 * random one printed on the local console when none is set), the bearer
 * tokens a login hands out (32 random bytes, 1 h idle, 24 h at most), and
 * the failed-login limits per peer and for everyone (HTTP 429).
 */
#include <stdio.h>
#include <string.h>

#include "kernel/err.h"
#include "mgmt/api_internal.h"
#include "mgmt/mgmt.h"

struct auth_token {
	bool live;
	uint8_t bytes[AUTH_TOKEN_BYTES];
	uint64_t created_ns, used_ns;
};

struct auth_peer {
	bool live;
	uint32_t addr;
	unsigned fails;	       /* in a row */
	uint64_t last_ns;      /* the last failure */
	uint64_t blocked_until;
};

static struct auth_hash auth_pw_hash;
static bool auth_pw_random;
static char auth_pw_plain[AUTH_RANDOM_PW_LEN + 1];
static struct auth_token auth_tokens[AUTH_TOKEN_SLOTS];
static struct auth_peer auth_peers[AUTH_PEER_SLOTS];
static unsigned auth_global_fails;
static uint64_t auth_global_window;  /* start of the current window */
static uint64_t auth_global_blocked; /* until */

bool auth_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* n hex digits (n even) into n/2 bytes. */
static bool hex_decode(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

int auth_hash_parse(const char *s, struct auth_hash *h)
{
	static const char prefix[] = "pbkdf2-sha256:";
	uint64_t iter = 0;
	const char *p, *salt, *key;
	size_t salt_n, key_n;

	memset(h, 0, sizeof(*h));
	if (strncmp(s, prefix, sizeof(prefix) - 1))
		return KEEL_EINVAL;
	p = s + sizeof(prefix) - 1;
	for (; *p >= '0' && *p <= '9' && iter <= AUTH_ITERATIONS_MAX; p++)
		iter = iter * 10 + (uint64_t)(*p - '0');
	if (*p != ':' || iter == 0 || iter > AUTH_ITERATIONS_MAX)
		return KEEL_EINVAL;
	salt = p + 1;
	p = strchr(salt, ':');
	if (!p)
		return KEEL_EINVAL;
	salt_n = (size_t)(p - salt);
	key = p + 1;
	key_n = strlen(key);
	/* RFC 8018 4.1 asks for 8 bytes of salt at least; keelctl uses 16
	 * and a 32-byte key. */
	if (salt_n % 2 || salt_n < 16 || salt_n > 2 * sizeof(h->salt) ||
	    key_n % 2 || key_n < 32 || key_n > 2 * sizeof(h->key))
		return KEEL_EINVAL;
	if (!hex_decode(salt, salt_n, h->salt) || !hex_decode(key, key_n, h->key))
		return KEEL_EINVAL;
	h->iterations = (uint32_t)iter;
	h->salt_len = salt_n / 2;
	h->key_len = key_n / 2;
	return 0;
}

/* A password a person can type: 20 characters of 32 (100 bits), without
 * the look-alikes l, o, 0, 1. */
static int auth_make_random_password(void)
{
	static const char chars[] = "abcdefghijkmnpqrstuvwxyz23456789";
	uint8_t rnd[AUTH_RANDOM_PW_LEN];

	if (mgmt_random(rnd, sizeof(rnd)))
		return KEEL_EIO;
	for (unsigned i = 0; i < AUTH_RANDOM_PW_LEN; i++)
		auth_pw_plain[i] = chars[rnd[i] & 31];
	auth_pw_plain[AUTH_RANDOM_PW_LEN] = 0;
	memset(rnd, 0, sizeof(rnd));
	return 0;
}

void auth_init(void)
{
	const char *cfg = api_host_password_hash();
	char line[160];

	memset(auth_tokens, 0, sizeof(auth_tokens));
	memset(auth_peers, 0, sizeof(auth_peers));
	auth_global_fails = 0;
	auth_global_window = auth_global_blocked = 0;
	auth_pw_random = false;
	if (cfg && *cfg && !auth_hash_parse(cfg, &auth_pw_hash))
		return;
	/* No usable hash: logging in needs the local console's word. */
	auth_pw_random = true;
	if (auth_make_random_password()) {
		/* Without random bytes there is no password anyone knows:
		 * every login fails (auth_password_check). */
		auth_pw_plain[0] = 0;
		api_host_console_print("keel: mgmt no password= and no random "
				       "bytes for one: logins are refused");
		return;
	}
	snprintf(line, sizeof(line), "keel: mgmt password=%s (%s; shown only "
		 "here)", auth_pw_plain, cfg && *cfg ?
		 "password= is not a pbkdf2-sha256 hash, random instead" :
		 "random, no password= configured");
	api_host_console_print(line);
}

bool auth_password_check(const char *pw, size_t len)
{
	uint8_t key[sizeof(auth_pw_hash.key)];
	bool ok;

	if (auth_pw_random)
		return auth_pw_plain[0] && len == AUTH_RANDOM_PW_LEN &&
		       auth_ct_equal(pw, auth_pw_plain, len);
	if (api_host_pbkdf2_sha256((const uint8_t *)pw, len, auth_pw_hash.salt,
				   auth_pw_hash.salt_len, auth_pw_hash.iterations,
				   key, auth_pw_hash.key_len))
		return false;
	ok = auth_ct_equal(key, auth_pw_hash.key, auth_pw_hash.key_len);
	memset(key, 0, sizeof(key));
	return ok;
}

/* ---------------------------------------------------------- rate limit -- */

static struct auth_peer *auth_peer_find(uint32_t addr, uint64_t now,
					bool make)
{
	struct auth_peer *free_slot = NULL, *oldest = NULL;

	for (unsigned i = 0; i < AUTH_PEER_SLOTS; i++) {
		struct auth_peer *p = &auth_peers[i];

		if (p->live && now - p->last_ns >= AUTH_PEER_FORGET_NS &&
		    now >= p->blocked_until)
			p->live = false; /* quiet long enough: forgiven */
		if (p->live && p->addr == addr)
			return p;
		if (!p->live && !free_slot)
			free_slot = p;
		if (p->live && (!oldest || p->last_ns < oldest->last_ns))
			oldest = p;
	}
	if (!make)
		return NULL;
	/* A full table forgets the peer that failed longest ago. */
	struct auth_peer *p = free_slot ? free_slot : oldest;
	memset(p, 0, sizeof(*p));
	p->live = true;
	p->addr = addr;
	return p;
}

static uint64_t wait_seconds(uint64_t until, uint64_t now)
{
	return (until - now + 999999999ULL) / 1000000000ULL;
}

int auth_login_allowed(uint32_t peer, uint64_t now_ns, uint64_t *retry_s)
{
	struct auth_peer *p = auth_peer_find(peer, now_ns, false);
	uint64_t until = 0;

	if (now_ns < auth_global_blocked)
		until = auth_global_blocked;
	if (p && now_ns < p->blocked_until && p->blocked_until > until)
		until = p->blocked_until;
	if (!until)
		return 0;
	*retry_s = wait_seconds(until, now_ns);
	return KEEL_EBUSY;
}

void auth_login_result(uint32_t peer, bool ok, uint64_t now_ns)
{
	struct auth_peer *p = auth_peer_find(peer, now_ns, !ok);

	if (ok) {
		if (p)
			p->live = false;
		return;
	}
	p->fails++;
	p->last_ns = now_ns;
	if (p->fails >= AUTH_PEER_FAILS)
		p->blocked_until = now_ns + AUTH_PEER_WAIT_NS;
	/* Everyone together: many peers guessing slowly add up. */
	if (now_ns - auth_global_window >= AUTH_GLOBAL_WINDOW_NS ||
	    !auth_global_fails) {
		auth_global_window = now_ns;
		auth_global_fails = 0;
	}
	if (++auth_global_fails >= AUTH_GLOBAL_FAILS) {
		auth_global_blocked = now_ns + AUTH_GLOBAL_WAIT_NS;
		auth_global_fails = 0;
	}
}

/* -------------------------------------------------------------- tokens -- */

static bool token_expired(const struct auth_token *t, uint64_t now)
{
	return now - t->used_ns >= AUTH_TOKEN_IDLE_NS ||
	       now - t->created_ns >= AUTH_TOKEN_LIFETIME_NS;
}

int auth_token_new(uint64_t now_ns, char out[AUTH_TOKEN_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	struct auth_token *slot = NULL, *lru = NULL;
	uint8_t bytes[AUTH_TOKEN_BYTES];

	if (mgmt_random(bytes, sizeof(bytes)))
		return KEEL_EIO;
	for (unsigned i = 0; i < AUTH_TOKEN_SLOTS; i++) {
		struct auth_token *t = &auth_tokens[i];

		if (t->live && token_expired(t, now_ns))
			t->live = false;
		if (!t->live && !slot)
			slot = t;
		if (t->live && (!lru || t->used_ns < lru->used_ns))
			lru = t;
	}
	if (!slot)
		slot = lru; /* all in use: the least recently used goes */
	memcpy(slot->bytes, bytes, sizeof(bytes));
	slot->live = true;
	slot->created_ns = slot->used_ns = now_ns;
	for (unsigned i = 0; i < AUTH_TOKEN_BYTES; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[AUTH_TOKEN_HEX] = 0;
	memset(bytes, 0, sizeof(bytes));
	return 0;
}

/* The token in "Bearer <hex>" (RFC 6750 2.1; the scheme is
 * case-insensitive, RFC 9110 11.1), or NULL. */
static struct auth_token *auth_token_lookup(const char *authorization)
{
	uint8_t want[AUTH_TOKEN_BYTES];
	struct auth_token *found = NULL;
	const char *p = authorization;

	if (!p || strncasecmp(p, "Bearer ", 7))
		return NULL;
	p += 7;
	while (*p == ' ')
		p++;
	if (strlen(p) != AUTH_TOKEN_HEX || !hex_decode(p, AUTH_TOKEN_HEX, want))
		return NULL;
	/* Every slot is compared in full: the time says nothing of how
	 * much of a guess was right. */
	for (unsigned i = 0; i < AUTH_TOKEN_SLOTS; i++) {
		struct auth_token *t = &auth_tokens[i];
		bool eq = auth_ct_equal(t->bytes, want, sizeof(want));

		if (eq && t->live)
			found = t;
	}
	return found;
}

bool auth_token_check(const char *authorization, uint64_t now_ns)
{
	struct auth_token *t = auth_token_lookup(authorization);

	if (!t)
		return false;
	if (token_expired(t, now_ns)) {
		t->live = false;
		return false;
	}
	t->used_ns = now_ns;
	return true;
}

void auth_token_revoke(const char *authorization)
{
	struct auth_token *t = auth_token_lookup(authorization);

	if (t)
		memset(t, 0, sizeof(*t));
}
