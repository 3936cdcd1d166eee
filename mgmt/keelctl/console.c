/*
 * console.c - a VM's serial console from keelctl: its buffered output
 * (GET .../console?since=OFFSET, polled for --follow) and typing into it
 * over the WebSocket .../console/ws (RFC 6455 client side: the opening
 * handshake, one masked text frame, the closing handshake).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/rand.h>

#include "keelctl.h"

#define FOLLOW_POLL_NS 500000000L  /* between polls when nothing came */
#define WS_TIMEOUT_MS 10000
#define WS_HEAD_MAX 16384
#define SEND_QUIET_MS 1000  /* no console output for this long: typed */
#define SEND_WAIT_MS 10000  /* at most, for a guest that keeps talking */

static volatile sig_atomic_t console_stop;

static void console_on_signal(int sig)
{
	(void)sig;
	console_stop = 1;
}

static int console_get(struct client *c, const char *vm,
		       unsigned long long since, struct reply *r)
{
	char path[512], err[KEELCTL_ERR_MAX];

	snprintf(path, sizeof(path), "/vms/%s/console?since=%llu", vm, since);
	if (client_request(c, "GET", path, NULL, r, err, sizeof(err))) {
		fprintf(stderr, "keelctl: %s\n", err);
		return EXIT_CONN;
	}
	if (r->status != 200) {
		keelctl_report(r);
		return EXIT_API;
	}
	return EXIT_OK;
}

int console_show(struct client *c, const char *vm, unsigned long long since,
		 bool follow, bool json)
{
	struct sigaction sa = { .sa_handler = console_on_signal };
	struct timespec pause = { 0, FOLLOW_POLL_NS };
	int ret = EXIT_OK;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	do {
		struct reply r;
		const char *data;
		size_t len;
		unsigned long long next;

		ret = console_get(c, vm, since, &r);
		if (ret) {
			reply_free(&r);
			break;
		}
		if (json) {
			fwrite(r.body, 1, r.len, stdout);
			if (!r.len || r.body[r.len - 1] != '\n')
				putchar('\n');
		}
		if (reply_console(&r, since, &data, &len, &next)) {
			fprintf(stderr, "keelctl: the console reply is not "
				"what the API describes\n");
			reply_free(&r);
			ret = EXIT_API;
			break;
		}
		if (!json)
			fwrite(data, 1, len, stdout);
		fflush(stdout);
		reply_free(&r);
		/* A ring buffer that moved past us: carry on from its end. */
		since = next;
		if (follow && !len && !console_stop)
			nanosleep(&pause, NULL);
	} while (follow && !console_stop);
	return ret;
}

/* ------------------------------------------------------- WebSocket ---- */

/* Send one masked frame (clients must mask, RFC 6455 section 5.3). */
static int ws_send(struct client *c, unsigned opcode, const uint8_t *data,
		   size_t len, char *err, size_t n)
{
	uint8_t mask[4];
	size_t size = ws_frame_size(len, true), used;
	uint8_t *frame = malloc(size);
	int r;

	if (!frame)
		return KEEL_ENOMEM;
	if (RAND_bytes(mask, sizeof(mask)) != 1) {
		free(frame);
		return KEEL_EIO;
	}
	used = ws_frame_encode(frame, size, opcode, data, len, mask);
	r = used ? client_raw_send(c, frame, used, WS_TIMEOUT_MS, err, n)
		 : KEEL_EINVAL;
	free(frame);
	return r;
}

/* A response header's value (case-insensitive name) in head, or NULL. */
static const char *ws_header(const char *head, const char *name, char *out,
			     size_t n)
{
	size_t nl = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p, "\r\n")) {
		p += 2;
		if (strncasecmp(p, name, nl) || p[nl] != ':')
			continue;
		const char *v = p + nl + 1, *e = strstr(v, "\r\n");
		size_t len;

		while (*v == ' ' || *v == '\t')
			v++;
		if (!e)
			return NULL;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		len = (size_t)(e - v);
		if (len >= n)
			return NULL;
		memcpy(out, v, len);
		out[len] = 0;
		return out;
	}
	return NULL;
}

/* The server refused the upgrade: its JSON error, as any other reply. */
static int ws_refused(struct client *c, char *buf, size_t have, size_t cap,
		      char *head_end)
{
	struct reply r = { 0 };
	char value[64], err[KEELCTL_ERR_MAX];
	size_t body_at = (size_t)(head_end + 4 - buf), want = 0;

	r.status = strtol(buf + 9, NULL, 10);
	if (ws_header(buf, "Content-Type", r.content_type,
		      sizeof(r.content_type)) == NULL)
		r.content_type[0] = 0;
	if (ws_header(buf, "Content-Length", value, sizeof(value)))
		want = strtoul(value, NULL, 10);
	while (have - body_at < want && have < cap - 1) {
		long got = client_raw_recv(c, buf + have, cap - 1 - have,
					   WS_TIMEOUT_MS, err, sizeof(err));

		if (got <= 0)
			break;
		have += (size_t)got;
	}
	buf[have] = 0;
	r.body = buf + body_at;
	r.len = have - body_at;
	keelctl_report(&r);
	return EXIT_API;
}

/* Read frames for up to total_ms: until the server closes (returns 1), or
 * until nothing came for quiet_ms (0). Console output is skipped. */
static int ws_drain(struct client *c, char *buf, size_t cap, int quiet_ms,
		    long total_ms)
{
	char err[KEELCTL_ERR_MAX];
	struct timespec t0, t;
	size_t have = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct ws_frame f;
		long used, n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
			    (t.tv_nsec - t0.tv_nsec) / 1000000 >= total_ms)
			return 0;
		n = client_raw_recv(c, buf + have, cap - have, quiet_ms, err,
				    sizeof(err));
		if (n < 0)
			return 1; /* closed */
		if (n == 0)
			return 0; /* quiet */
		have += (size_t)n;
		while ((used = ws_frame_decode((uint8_t *)buf, have, &f)) > 0) {
			if (f.opcode == WS_CLOSE)
				return 1;
			memmove(buf, buf + used, have - (size_t)used);
			have -= (size_t)used;
		}
		/* A frame larger than the buffer, or one we need not
		 * understand: drop what is held and carry on counting. */
		if (used < 0 || have == cap)
			have = 0;
	}
}

/* The console's current end, so that the WebSocket sends only what comes
 * after the typing (the server clamps a since past the end to the end). */
static int console_end(struct client *c, const char *vm,
		       unsigned long long *end)
{
	struct reply r;
	const char *data;
	size_t len;
	int ret = console_get(c, vm, 1ull << 62, &r);

	if (!ret && reply_console(&r, 1ull << 62, &data, &len, end)) {
		fprintf(stderr, "keelctl: the console reply is not what the "
			"API describes\n");
		ret = EXIT_API;
	}
	reply_free(&r);
	return ret;
}

int console_send(struct client *c, const char *token, const char *vm,
		 const char *text, bool no_newline)
{
	char err[KEELCTL_ERR_MAX], key[25], want[29], got[64];
	char *req = NULL, *buf = NULL, *head_end = NULL;
	size_t have = 0, tl = strlen(text);
	uint8_t *msg = NULL;
	unsigned long long since;
	int ret = console_end(c, vm, &since);

	if (ret)
		return ret;
	if (client_raw_open(c, err, sizeof(err)))
		goto conn;
	if (ws_make_key(key) || ws_accept_key(key, want)) {
		snprintf(err, sizeof(err), "no random numbers for the "
			 "WebSocket key");
		goto conn;
	}
	req = malloc(4096);
	buf = malloc(WS_HEAD_MAX + 1);
	msg = malloc(tl + 1);
	if (!req || !buf || !msg) {
		snprintf(err, sizeof(err), "out of memory");
		goto conn;
	}
	/* RFC 6455 section 4.1: the opening handshake. */
	snprintf(req, 4096,
		 "GET /api/v1/vms/%s/console/ws?since=%llu HTTP/1.1\r\n"
		 "Host: %s\r\n"
		 "Upgrade: websocket\r\n"
		 "Connection: Upgrade\r\n"
		 "Sec-WebSocket-Key: %s\r\n"
		 "Sec-WebSocket-Version: 13\r\n"
		 "%s%s%s"
		 "User-Agent: keelctl/1\r\n\r\n",
		 vm, since, client_base(c) + strlen("https://"), key,
		 token ? "Authorization: Bearer " : "", token ? token : "",
		 token ? "\r\n" : "");
	if (client_raw_send(c, req, strlen(req), WS_TIMEOUT_MS, err,
			    sizeof(err)))
		goto conn;
	while (!head_end) {
		long n = client_raw_recv(c, buf + have, WS_HEAD_MAX - have,
					 WS_TIMEOUT_MS, err, sizeof(err));

		if (n < 0)
			goto conn;
		if (n == 0) {
			snprintf(err, sizeof(err), "no answer to the WebSocket "
				 "upgrade");
			goto conn;
		}
		have += (size_t)n;
		buf[have] = 0;
		head_end = strstr(buf, "\r\n\r\n");
		if (!head_end && have == WS_HEAD_MAX) {
			snprintf(err, sizeof(err), "WebSocket answer too long");
			goto conn;
		}
	}
	if (strncmp(buf, "HTTP/1.1 ", 9)) {
		snprintf(err, sizeof(err), "not an HTTP answer to the "
			 "WebSocket upgrade");
		goto conn;
	}
	if (strncmp(buf + 9, "101", 3)) {
		ret = ws_refused(c, buf, have, WS_HEAD_MAX + 1, head_end);
		goto out;
	}
	head_end[2] = 0; /* the last header keeps its CRLF */
	if (!ws_header(buf, "Sec-WebSocket-Accept", got, sizeof(got)) ||
	    strcmp(got, want)) {
		snprintf(err, sizeof(err), "the server's Sec-WebSocket-Accept "
			 "is wrong (RFC 6455 section 4.1)");
		goto conn;
	}

	/* The text and the Enter key a terminal sends (CR); a text frame
	 * must be UTF-8 (section 5.6), other bytes go in a binary one. */
	memcpy(msg, text, tl);
	if (!no_newline)
		msg[tl++] = '\r';
	if (ws_send(c, ws_utf8_valid(msg, tl) ? WS_TEXT : WS_BINARY, msg, tl,
		    err, sizeof(err)))
		goto conn;
	/* Keel hands typed bytes to the guest's UART as it takes them and
	 * drops what is left when the WebSocket closes, as a serial line
	 * would: wait until the guest's echo has come and gone quiet. */
	if (ws_drain(c, buf, WS_HEAD_MAX, SEND_QUIET_MS, SEND_WAIT_MS) == 0) {
		/* Section 7.1.2: close with 1000 (normal), wait for the
		 * server's close so the connection ends cleanly. */
		static const uint8_t normal[2] = { 0x03, 0xE8 };

		if (ws_send(c, WS_CLOSE, normal, sizeof(normal), err,
			    sizeof(err)))
			goto conn;
		ws_drain(c, buf, WS_HEAD_MAX, WS_TIMEOUT_MS, WS_TIMEOUT_MS);
	}
	ret = EXIT_OK;
	goto out;
conn:
	fprintf(stderr, "keelctl: %s\n", err);
	ret = EXIT_CONN;
out:
	free(req);
	free(buf);
	free(msg);
	return ret;
}
