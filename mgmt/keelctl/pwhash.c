/*
 * pwhash.c - `keelctl hash-password`: the admin password as keel.cfg keeps
 * it (DESIGN.md section 10), "pbkdf2-sha256:<iterations>:<salt hex>:<key
 * hex>" = PBKDF2-HMAC-SHA256 (RFC 8018 section 5.2) with a 16-byte random
 * salt and a 32-byte derived key. Keel's login check reads the same line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "keelctl.h"

#define PWHASH_PREFIX "pbkdf2-sha256:"

int pwhash_derive(const char *password, size_t len, const uint8_t *salt,
		  size_t salt_len, unsigned long iterations, uint8_t *key,
		  size_t key_len)
{
	if (iterations == 0 || iterations > 0x7fffffff || len > 0x7fffffff ||
	    salt_len > 0x7fffffff || key_len > 0x7fffffff)
		return KEEL_ERANGE;
	if (!PKCS5_PBKDF2_HMAC(password, (int)len, salt, (int)salt_len,
			       (int)iterations, EVP_sha256(), (int)key_len, key))
		return KEEL_EIO;
	return 0;
}

static void hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

int pwhash_format(char *out, size_t n, unsigned long iterations,
		  const uint8_t salt[PWHASH_SALT_LEN],
		  const uint8_t key[PWHASH_KEY_LEN])
{
	char s[2 * PWHASH_SALT_LEN + 1], k[2 * PWHASH_KEY_LEN + 1];
	int len;

	hex(s, salt, PWHASH_SALT_LEN);
	hex(k, key, PWHASH_KEY_LEN);
	len = snprintf(out, n, PWHASH_PREFIX "%lu:%s:%s", iterations, s, k);
	if (len < 0 || (size_t)len >= n)
		return KEEL_ERANGE;
	return 0;
}

int pwhash_make(const char *password, unsigned long iterations, char *out,
		size_t n)
{
	uint8_t salt[PWHASH_SALT_LEN], key[PWHASH_KEY_LEN];
	int r;

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return KEEL_EIO;
	r = pwhash_derive(password, strlen(password), salt, sizeof(salt),
			  iterations, key, sizeof(key));
	if (!r)
		r = pwhash_format(out, n, iterations, salt, key);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

/* Exactly 2 * n hex digits (either case) from s into out; the end. */
static const char *unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < 2 * n; i++) {
		int c = s[i], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return NULL;
		if (i & 1)
			out[i / 2] |= (uint8_t)v;
		else
			out[i / 2] = (uint8_t)(v << 4);
	}
	return s + 2 * n;
}

int pwhash_parse(const char *line, unsigned long *iterations,
		 uint8_t salt[PWHASH_SALT_LEN], uint8_t key[PWHASH_KEY_LEN])
{
	const char *p = line;
	char *end;
	unsigned long v;

	if (strncmp(p, PWHASH_PREFIX, strlen(PWHASH_PREFIX)))
		return KEEL_EINVAL;
	p += strlen(PWHASH_PREFIX);
	if (!isdigit((unsigned char)*p) || (*p == '0' && p[1] != ':'))
		return KEEL_EINVAL;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || *end != ':' || v == 0 || v > 0x7fffffff)
		return KEEL_EINVAL;
	p = unhex(end + 1, salt, PWHASH_SALT_LEN);
	if (!p || *p != ':')
		return KEEL_EINVAL;
	p = unhex(p + 1, key, PWHASH_KEY_LEN);
	if (!p || *p)
		return KEEL_EINVAL;
	*iterations = v;
	return 0;
}

bool pwhash_check(const char *line, const char *password)
{
	uint8_t salt[PWHASH_SALT_LEN], want[PWHASH_KEY_LEN],
		got[PWHASH_KEY_LEN];
	unsigned long iterations;
	bool ok;

	if (pwhash_parse(line, &iterations, salt, want) ||
	    pwhash_derive(password, strlen(password), salt, sizeof(salt),
			  iterations, got, sizeof(got)))
		return false;
	ok = CRYPTO_memcmp(want, got, sizeof(got)) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}
