/*
 * client.c - keelctl's HTTPS connection to Keel through libcurl: requests
 * under /api/v1 on one keep-alive connection, streamed image uploads, a raw
 * TLS stream for the WebSocket, and the certificate check: a pinned
 * SHA-256 fingerprint, or the system's CAs, or (--insecure) none.
 */
#include <ctype.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "keelctl.h"

/* A server is not trusted either: replies are bounded. The largest real one
 * is a VM's console buffer or Keel's log. */
#define REPLY_MAX (64u << 20)

struct client {
	CURL *curl;
	CURL *raw; /* CONNECT_ONLY handle of the WebSocket */
	char base[300];
	char pin[65]; /* "" unless pinned */
	bool insecure;
	bool verbose;
	char auth[600]; /* "Authorization: Bearer ..." or "" */
	/* Set by the TLS handshake's certificate check. */
	char peer_fp[65];
	bool pin_mismatch;
	char curl_err[CURL_ERROR_SIZE];
};

static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return KEEL_EIO;
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

/* OpenSSL's whole certificate check, replaced (SSL_CTX_set_cert_verify_
 * callback): the leaf's SHA-256 over its DER encoding is what Keel prints
 * and what the admin pins; chains and names do not matter then. */
static int client_verify_cert(X509_STORE_CTX *x, void *arg)
{
	struct client *c = arg;
	X509 *cert = X509_STORE_CTX_get0_cert(x);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	c->peer_fp[0] = 0;
	if (cert && X509_digest(cert, EVP_sha256(), md, &len) && len == 32)
		hex(c->peer_fp, md, 32);
	if (c->insecure)
		return 1;
	if (c->pin[0]) {
		if (c->peer_fp[0] && !strcmp(c->peer_fp, c->pin))
			return 1;
		c->pin_mismatch = true;
		X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	return X509_verify_cert(x); /* the system's CAs, as without us */
}

static CURLcode client_ssl_ctx(CURL *curl, void *ssl_ctx, void *arg)
{
	struct client *c = arg;
	SSL_CTX *ctx = ssl_ctx;

	SSL_CTX_set_cert_verify_callback(ctx, client_verify_cert, c);
	/* Peer verification on even when curl's is off: a refusal by the
	 * callback must end the handshake (curl makes the SSL from this
	 * context after this callback). Management is TLS 1.2+ only
	 * (DESIGN.md section 6). */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	return CURLE_OK;
}

const char *client_peer_fingerprint(const struct client *c)
{
	return c->peer_fp;
}

const char *client_base(const struct client *c)
{
	return c->base;
}

static void client_setup(struct client *c, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	/* The handshake is part of connecting; Keel under emulation does
	 * its P-256 in seconds, more while guests run. */
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 60L);
	/* A stalled server: under 1 byte/s for a minute ends the request. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, client_ssl_ctx);
	curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, c);
	if (c->pin[0] || c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(h, CURLOPT_VERBOSE, c->verbose ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "keelctl/1");
}

struct client *client_new(const struct client_opts *o, char *err, size_t n)
{
	static bool global_done;
	struct client *c;
	char host[256];
	unsigned port;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			fail(err, n, "libcurl failed to start");
			return NULL;
		}
		global_done = true;
	}
	if (args_split_host(o->host, host, sizeof(host), &port)) {
		fail(err, n, "bad host %s", o->host);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		fail(err, n, "out of memory");
		return NULL;
	}
	snprintf(c->base, sizeof(c->base), "https://%s:%u", host, port);
	if (o->fingerprint)
		snprintf(c->pin, sizeof(c->pin), "%s", o->fingerprint);
	c->insecure = o->insecure;
	c->verbose = o->verbose;
	if (o->token && *o->token) {
		/* The token goes into a header line: printable ASCII only. */
		for (const char *p = o->token; *p; p++)
			if (*p <= ' ' || *p >= 0x7f) {
				fail(err, n, "the stored token is malformed: "
				     "keelctl login again");
				free(c);
				return NULL;
			}
		snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s",
			 o->token);
	}
	c->curl = curl_easy_init();
	if (!c->curl) {
		fail(err, n, "out of memory");
		free(c);
		return NULL;
	}
	return c;
}

void client_free(struct client *c)
{
	if (!c)
		return;
	if (c->raw)
		curl_easy_cleanup(c->raw);
	curl_easy_cleanup(c->curl);
	free(c);
}

struct sink {
	struct reply *r;
	size_t cap;
	bool overflow;
};

static size_t client_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t len = size * nmemb;
	struct reply *r = s->r;

	if (r->len + len > REPLY_MAX) {
		s->overflow = true;
		return 0; /* aborts the transfer */
	}
	if (r->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *b;

		while (cap < r->len + len + 1)
			cap *= 2;
		b = realloc(r->body, cap);
		if (!b)
			return 0;
		r->body = b;
		s->cap = cap;
	}
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = 0;
	return len;
}

/* Header "Name: value" of a reply line, or NULL. */
static const char *header_value(const char *line, size_t len, const char *name,
				size_t *vlen)
{
	size_t nl = strlen(name);
	const char *v, *e = line + len;

	if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
		return NULL;
	v = line + nl + 1;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
		e--;
	*vlen = (size_t)(e - v);
	return v;
}

static size_t client_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct reply *r = arg;
	size_t len = size * nmemb, vlen;
	const char *v;

	if ((v = header_value(line, len, "Content-Type", &vlen)) &&
	    vlen < sizeof(r->content_type)) {
		memcpy(r->content_type, v, vlen);
		r->content_type[vlen] = 0;
	}
	if (((v = header_value(line, len, "X-Console-Next", &vlen)) ||
	     (v = header_value(line, len, "X-Console-Offset", &vlen))) &&
	    vlen < sizeof(r->next_offset)) {
		memcpy(r->next_offset, v, vlen);
		r->next_offset[vlen] = 0;
	}
	return len;
}

/* What went wrong with a transfer, in the admin's terms. */
static int client_error(struct client *c, CURLcode rc, struct sink *s,
			char *err, size_t n)
{
	if (c->pin_mismatch)
		return fail(err, n, "certificate mismatch: the server's "
			    "certificate has sha256=%s, not the pinned %s; "
			    "refusing to talk to it", c->peer_fp, c->pin);
	if (rc == CURLE_PEER_FAILED_VERIFICATION ||
	    (rc == CURLE_SSL_CONNECT_ERROR && !c->pin[0] && !c->insecure &&
	     c->peer_fp[0]))
		return fail(err, n, "the server's certificate is not trusted "
			    "(%s). Keel prints its fingerprint on its console "
			    "(keel: mgmt https://... sha256=...); if it is %s, "
			    "pass --fingerprint %s", c->curl_err,
			    c->peer_fp[0] ? c->peer_fp : "the same",
			    c->peer_fp[0] ? c->peer_fp : "HEX");
	if (s && s->overflow)
		return fail(err, n, "the server's reply is larger than %u MiB",
			    REPLY_MAX >> 20);
	return fail(err, n, "%s: %s", c->base,
		    c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
}

static int client_perform(struct client *c, const char *method,
			  const char *path, struct curl_slist *hdrs,
			  struct reply *r, char *err, size_t n)
{
	char url[2048];
	struct sink s = { .r = r };
	CURLcode rc;
	long status = 0;

	if (snprintf(url, sizeof(url), "%s/api/v1%s", c->base, path) >=
	    (int)sizeof(url))
		return fail(err, n, "path too long");
	if (c->auth[0])
		hdrs = curl_slist_append(hdrs, c->auth);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, client_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, r);
	if (strcmp(method, "GET") && strcmp(method, "PUT"))
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	c->curl_err[0] = 0;
	c->pin_mismatch = false;
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		/* An error answer while an upload was still being sent still
		 * is the answer (e.g. 413 for an image that does not fit). */
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
		if (!(status >= 400 && rc == CURLE_SEND_ERROR))
			return client_error(c, rc, &s, err, n);
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	r->status = status;
	if (!r->body) {
		r->body = calloc(1, 1);
		if (!r->body)
			return fail(err, n, "out of memory");
	}
	return 0;
}

int client_request(struct client *c, const char *method, const char *path,
		   const char *body, struct reply *r, char *err, size_t n)
{
	struct curl_slist *hdrs = NULL;

	memset(r, 0, sizeof(*r));
	curl_easy_reset(c->curl); /* keeps the connection and TLS session */
	client_setup(c, c->curl);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (body) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(body));
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	return client_perform(c, method, path, hdrs, r, err, n);
}

struct source {
	FILE *f;
	EVP_MD_CTX *md;
	bool read_error;
};

static size_t client_read(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct source *s = arg;
	size_t got = fread(buf, 1, size * nmemb, s->f);

	if (got < size * nmemb && ferror(s->f)) {
		s->read_error = true;
		return CURL_READFUNC_ABORT;
	}
	EVP_DigestUpdate(s->md, buf, got);
	return got;
}

int client_upload(struct client *c, const char *api_path, FILE *f,
		  uint64_t size, char sha256[65], struct reply *r, char *err,
		  size_t n)
{
	struct source s = { .f = f };
	struct curl_slist *hdrs = NULL;
	uint8_t md[32];
	unsigned mdlen = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	s.md = EVP_MD_CTX_new();
	if (!s.md || !EVP_DigestInit_ex(s.md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(s.md);
		return fail(err, n, "out of memory");
	}
	curl_easy_reset(c->curl);
	client_setup(c, c->curl);
	curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, client_read);
	curl_easy_setopt(c->curl, CURLOPT_READDATA, &s);
	curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs,
				 "Content-Type: application/octet-stream");
	/* RFC 9110 section 10.1.1: Keel answers 100 Continue when it can
	 * take the image, else its error (413, 507) before a byte of it is
	 * sent. Its TLS under emulation is slow: wait for the answer. */
	hdrs = curl_slist_append(hdrs, "Expect: 100-continue");
	curl_easy_setopt(c->curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 60000L);
	ret = client_perform(c, "PUT", api_path, hdrs, r, err, n);
	if (!ret && s.read_error)
		ret = fail(err, n, "reading the file failed");
	EVP_DigestFinal_ex(s.md, md, &mdlen);
	EVP_MD_CTX_free(s.md);
	hex(sha256, md, 32);
	return ret;
}

/* ------------------------------------------------ the raw TLS stream ---- */

int client_raw_open(struct client *c, char *err, size_t n)
{
	char url[400];
	CURLcode rc;

	if (c->raw)
		curl_easy_cleanup(c->raw);
	c->raw = curl_easy_init();
	if (!c->raw)
		return fail(err, n, "out of memory");
	client_setup(c, c->raw);
	snprintf(url, sizeof(url), "%s/", c->base);
	curl_easy_setopt(c->raw, CURLOPT_URL, url);
	curl_easy_setopt(c->raw, CURLOPT_CONNECT_ONLY, 1L);
	c->curl_err[0] = 0;
	c->pin_mismatch = false;
	rc = curl_easy_perform(c->raw);
	if (rc != CURLE_OK)
		return client_error(c, rc, NULL, err, n);
	return 0;
}

/* Wait until the raw stream's socket is readable (POLLIN) or writable. */
static int client_raw_wait(struct client *c, short events, int timeout_ms)
{
	curl_socket_t fd = CURL_SOCKET_BAD;
	struct pollfd p;

	curl_easy_getinfo(c->raw, CURLINFO_ACTIVESOCKET, &fd);
	if (fd == CURL_SOCKET_BAD)
		return -1;
	p.fd = fd;
	p.events = events;
	p.revents = 0;
	return poll(&p, 1, timeout_ms);
}

int client_raw_send(struct client *c, const void *buf, size_t len,
		    int timeout_ms, char *err, size_t n)
{
	const char *p = buf;

	while (len) {
		size_t sent = 0;
		CURLcode rc = curl_easy_send(c->raw, p, len, &sent);

		if (rc == CURLE_AGAIN) {
			if (client_raw_wait(c, POLLOUT, timeout_ms) <= 0)
				return fail(err, n, "%s: send timed out",
					    c->base);
			continue;
		}
		if (rc != CURLE_OK)
			return fail(err, n, "%s: %s", c->base,
				    curl_easy_strerror(rc));
		p += sent;
		len -= sent;
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long client_raw_recv(struct client *c, void *buf, size_t len, int timeout_ms,
		     char *err, size_t n)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		size_t got = 0;
		/* Ask curl first: TLS may hold decrypted bytes the socket no
		 * longer shows as readable. */
		CURLcode rc = curl_easy_recv(c->raw, buf, len, &got);
		long left;

		if (rc == CURLE_OK && got)
			return (long)got;
		if (rc == CURLE_OK)
			return fail(err, n, "%s: connection closed", c->base);
		if (rc != CURLE_AGAIN)
			return fail(err, n, "%s: %s", c->base,
				    curl_easy_strerror(rc));
		left = deadline - now_ms();
		if (left <= 0 || client_raw_wait(c, POLLIN, (int)left) <= 0)
			return 0;
	}
}
