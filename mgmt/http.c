/*
 * http.c - one HTTP/1.1 connection (RFC 9112 message syntax, RFC 9110
 * semantics) of the management server: request heads parsed in a fixed
 * buffer, bodies by Content-Length or chunked, pipelined requests answered
 * in order, keep-alive, the limits and timeouts of mgmt/http.h, and the
 * switch to WebSocket (mgmt/ws.c). Requests go to the REST API (api.h).
 *
 * A connection that is idle between requests (nothing of a new request
 * received, nothing left to send) is closed without an answer after
 * HTTP_HEADER_TIMEOUT_NS; one that started a request and stalls gets 408.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/err.h"
#include "mgmt/api.h"
#include "mgmt/http.h"
#include "mgmt/http_parse.h"
#include "mgmt/ws.h"
#include "mm/mm.h"

#define HEAD_MAX (HTTP_LINE_MAX + HTTP_HEADERS_MAX + 8)
#define CHUNK_LINE_MAX 256	 /* a chunk-size line with its extensions */
#define OUT_HIGH (256u << 10)	 /* pipelined requests wait above this */
#define STASH_MAX (64u << 10)	 /* pipelined bytes kept while waiting */
#define WS_OUT_HIGH (64u << 10)	 /* console output waiting for the client */
#define WS_POLL_MAX 16384u	 /* console bytes per frame */

enum conn_state {
	CONN_HEAD,	 /* reading a request head */
	CONN_BODY,	 /* a Content-Length body */
	CONN_CHUNK_SIZE, /* chunked (RFC 9112 7.1): the chunk-size line */
	CONN_CHUNK_DATA,
	CONN_CHUNK_CRLF, /* the CRLF after a chunk's data */
	CONN_TRAILER,	 /* trailer lines up to the empty one */
	CONN_WS,	 /* WebSocket frames */
	CONN_DONE,	 /* closing: nothing more is read */
};

enum body_sink {
	SINK_DISCARD, /* the answer went out already */
	SINK_BUFFER,  /* a JSON body, for api_body */
	SINK_STREAM,  /* api_stream_write */
};

struct http_conn {
	uint32_t peer;
	enum conn_state state;
	uint64_t now;	     /* the latest time the transport gave */
	uint64_t last_ns;    /* the last bytes received or sent */

	/* The request head, NUL-terminated in place once complete; the
	 * call's strings point into it until the call ends. */
	char head[HEAD_MAX + 1];
	size_t head_len, line_start, reqline_end;
	unsigned header_lines;
	bool reqline_done;
	uint64_t head_start_ns;

	/* The call in progress. */
	bool call_active;
	bool responded;	     /* its answer is queued */
	bool close_after;    /* Connection: close, HTTP/1.0, an error */
	bool head_only;	     /* HEAD: no body in the answer */
	struct api_call call;

	/* The request body. */
	enum body_sink sink;
	bool streaming;	     /* api_stream_end still owed */
	uint64_t body_left;  /* CONN_BODY: bytes to come; chunks: this chunk */
	uint8_t *body;	     /* SINK_BUFFER */
	size_t body_len, body_cap;
	char chunk_line[CHUNK_LINE_MAX];
	size_t chunk_line_len, trailer_bytes;
	bool chunk_cr;

	/* WebSocket */
	struct ws_rx ws;
	bool ws_active;

	/* What waits to be sent: [out_off, out_len) of out. */
	uint8_t *out;
	size_t out_len, out_off, out_cap;

	/* Pipelined bytes not parsed yet (while the answers pile up). */
	uint8_t *stash;
	size_t stash_len;
};

/* ------------------------------------------------------------- output -- */

static size_t out_pending(const struct http_conn *c)
{
	return c->out_len - c->out_off;
}

/* Room for n more bytes at out + out_len; false when out of memory (the
 * connection is then closed). */
static bool out_reserve(struct http_conn *c, size_t n)
{
	if (c->out_off && c->out_len + n > c->out_cap) {
		memmove(c->out, c->out + c->out_off, out_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + n <= c->out_cap)
		return true;
	size_t cap = c->out_cap ? c->out_cap : 4096;
	while (cap < c->out_len + n)
		cap *= 2;
	uint8_t *p = kmalloc(cap);
	if (!p) {
		c->state = CONN_DONE;
		return false;
	}
	if (c->out_len)
		memcpy(p, c->out, c->out_len);
	kfree(c->out);
	c->out = p;
	c->out_cap = cap;
	return true;
}

static void out_append(struct http_conn *c, const void *data, size_t n)
{
	if (n && out_reserve(c, n)) {
		memcpy(c->out + c->out_len, data, n);
		c->out_len += n;
	}
}

/* ------------------------------------------------------------ answers -- */

static void queue_response(struct http_conn *c, struct api_response *r)
{
	char hdr[384 + API_HEADERS_MAX];
	bool no_body = r->status < 200 || r->status == 204;
	int n;

	n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\n", r->status,
		     http_status_text(r->status));
	if (!no_body)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n,
			      "Content-Type: %s\r\nContent-Length: %zu\r\n",
			      r->content_type ? r->content_type :
						"application/json",
			      r->body_len);
	if (r->status != 101)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n,
			      "Cache-Control: no-store\r\n"
			      "X-Content-Type-Options: nosniff\r\n%s",
			      c->close_after ? "Connection: close\r\n" : "");
	n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, "%s\r\n", r->headers);
	if ((size_t)n >= sizeof(hdr))
		n = (int)sizeof(hdr) - 1; /* cannot happen: headers is bounded */
	out_append(c, hdr, (size_t)n);
	if (!no_body && !c->head_only)
		out_append(c, r->body, r->body_len);
	kfree(r->body);
	r->body = NULL;
	r->body_len = 0;
	c->responded = true;
}

/* The request is over: get ready for the next one. */
static void request_done(struct http_conn *c)
{
	kfree(c->call.resp.body);
	kfree(c->body);
	c->call.resp.body = NULL;
	c->body = NULL;
	c->body_len = c->body_cap = 0;
	c->call_active = false;
	c->responded = false;
	c->streaming = false;
	c->head_len = c->line_start = c->reqline_end = 0;
	c->header_lines = 0;
	c->reqline_done = false;
	c->head_only = false;
	c->state = c->close_after ? CONN_DONE : CONN_HEAD;
}

/* Answer with an error and close. A call whose answer went out already
 * just ends. */
static void conn_fail(struct http_conn *c, int status, const char *msg)
{
	if (c->streaming) {
		c->streaming = false;
		api_stream_end(&c->call, false);
	}
	c->close_after = true;
	if (!c->responded) {
		struct api_response r = {0};

		http_json_error(&r, status, msg);
		queue_response(c, &r);
	}
	request_done(c);
}

/* ------------------------------------------------------------- bodies -- */

/* The body is complete: answer it. */
static void body_complete(struct http_conn *c)
{
	if (c->sink == SINK_BUFFER) {
		api_body(&c->call, c->body ? c->body : (const uint8_t *)"",
			 c->body_len);
		queue_response(c, &c->call.resp);
	} else if (c->sink == SINK_STREAM) {
		c->streaming = false;
		api_stream_end(&c->call, true);
		queue_response(c, &c->call.resp);
	}
	request_done(c);
}

/* Body bytes to their sink; false when the request failed. */
static bool body_deliver(struct http_conn *c, const uint8_t *p, size_t n)
{
	if (c->sink == SINK_BUFFER) {
		if (c->body_len + n > HTTP_BODY_MAX) {
			conn_fail(c, 413, "the request body is larger than 1 MiB");
			return false;
		}
		if (c->body_len + n > c->body_cap) {
			size_t cap = c->body_cap ? c->body_cap * 2 : 4096;
			while (cap < c->body_len + n)
				cap *= 2;
			if (cap > HTTP_BODY_MAX)
				cap = HTTP_BODY_MAX;
			uint8_t *b = kmalloc(cap);
			if (!b) {
				conn_fail(c, 503, "out of memory");
				return false;
			}
			if (c->body_len)
				memcpy(b, c->body, c->body_len);
			kfree(c->body);
			c->body = b;
			c->body_cap = cap;
		}
		memcpy(c->body + c->body_len, p, n);
		c->body_len += n;
	} else if (c->sink == SINK_STREAM && n) {
		if (api_stream_write(&c->call, p, n)) {
			c->streaming = false;
			api_stream_end(&c->call, false);
			c->close_after = true;
			queue_response(c, &c->call.resp);
			request_done(c);
			return false;
		}
	}
	return true;
}

static size_t body_feed(struct http_conn *c, const uint8_t *p, size_t len)
{
	size_t n = len < c->body_left ? len : (size_t)c->body_left;

	if (!body_deliver(c, p, n))
		return n;
	c->body_left -= n;
	if (!c->body_left)
		body_complete(c);
	return n;
}

/* RFC 9112 7.1: chunk-size [ chunk-ext ] CRLF. */
static bool chunk_size_parse(struct http_conn *c)
{
	const char *s = c->chunk_line;
	uint64_t size = 0;
	unsigned digits = 0;

	for (;; s++, digits++) {
		char ch = *s;
		unsigned d;

		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			d = (unsigned)((ch | 0x20) - 'a' + 10);
		else
			break;
		if (digits >= 15) { /* far beyond any body we take */
			conn_fail(c, 413, "chunk size too large");
			return false;
		}
		size = size << 4 | d;
	}
	if (!digits || (*s && *s != ';' && *s != ' ' && *s != '\t')) {
		conn_fail(c, 400, "malformed chunk size");
		return false;
	}
	if (c->sink == SINK_BUFFER && c->body_len + size > HTTP_BODY_MAX) {
		conn_fail(c, 413, "the request body is larger than 1 MiB");
		return false;
	}
	c->body_left = size;
	c->state = size ? CONN_CHUNK_DATA : CONN_TRAILER;
	c->trailer_bytes = 0;
	c->chunk_line_len = 0;
	return true;
}

static size_t chunk_feed(struct http_conn *c, const uint8_t *p, size_t len)
{
	size_t i = 0;

	switch (c->state) {
	case CONN_CHUNK_SIZE:
		for (; i < len; i++) {
			if (p[i] == '\n') {
				size_t n = c->chunk_line_len;
				if (n && c->chunk_line[n - 1] == '\r')
					n--;
				c->chunk_line[n] = 0;
				if (memchr(c->chunk_line, '\r', n) ||
				    memchr(c->chunk_line, 0, n)) {
					conn_fail(c, 400, "malformed chunk size");
					return i + 1;
				}
				chunk_size_parse(c);
				return i + 1;
			}
			if (c->chunk_line_len >= CHUNK_LINE_MAX - 1) {
				conn_fail(c, 400, "chunk size line too long");
				return i + 1;
			}
			c->chunk_line[c->chunk_line_len++] = (char)p[i];
		}
		return len;
	case CONN_CHUNK_DATA: {
		size_t n = len < c->body_left ? len : (size_t)c->body_left;

		if (!body_deliver(c, p, n))
			return n;
		c->body_left -= n;
		if (!c->body_left) {
			c->state = CONN_CHUNK_CRLF;
			c->chunk_cr = false;
		}
		return n;
	}
	case CONN_CHUNK_CRLF:
		if (p[0] == '\r' && !c->chunk_cr) {
			c->chunk_cr = true;
		} else if (p[0] == '\n') {
			c->state = CONN_CHUNK_SIZE;
			c->chunk_line_len = 0;
		} else {
			conn_fail(c, 400, "chunk data not followed by CRLF");
		}
		return 1;
	default: /* CONN_TRAILER: lines up to an empty one, ignored */
		for (; i < len; i++) {
			if (++c->trailer_bytes > HTTP_HEADERS_MAX) {
				conn_fail(c, 431, "trailer section too large");
				return i + 1;
			}
			if (p[i] == '\n') {
				if (!c->chunk_line_len) {
					body_complete(c);
					return i + 1;
				}
				c->chunk_line_len = 0;
			} else if (p[i] != '\r' || c->chunk_line_len) {
				c->chunk_line_len++;
			}
		}
		return len;
	}
}

/* The body, as the API asked for it. */
static void body_begin(struct http_conn *c, enum body_sink sink)
{
	c->sink = sink;
	c->streaming = sink == SINK_STREAM;
	if (c->call.chunked) {
		c->state = CONN_CHUNK_SIZE;
		c->chunk_line_len = 0;
	} else if (c->call.has_body) {
		c->state = CONN_BODY;
		c->body_left = c->call.content_length;
	} else {
		body_complete(c);
	}
}

static void head_dispatch(struct http_conn *c)
{
	struct api_call *call = &c->call;
	char accept[WS_ACCEPT_LEN + 1];
	struct http_head h;
	const char *why;
	bool expect = false;
	int status;

	memset(call, 0, sizeof(*call));
	c->call_active = true;
	c->responded = false;
	c->head[c->head_len] = 0;
	status = http_head_parse(c->head, c->head_len, c->reqline_end, &h, &why);
	if (!status)
		status = http_head_framing(&h, call, &why);
	if (status) {
		conn_fail(c, status, why);
		return;
	}
	if (h.http10)
		c->close_after = !h.connection || !http_list_has(h.connection, "keep-alive");
	if (h.connection && http_list_has(h.connection, "close"))
		c->close_after = true;
	if (h.expect) {
		if (strcasecmp(h.expect, "100-continue")) {
			conn_fail(c, 417, "only Expect: 100-continue is understood");
			return;
		}
		expect = !h.http10;
	}
	c->head_only = !strcmp(h.method, "HEAD");
	if (strcmp(h.method, "GET") && strcmp(h.method, "POST") &&
	    strcmp(h.method, "PUT") && strcmp(h.method, "DELETE") &&
	    !c->head_only) {
		conn_fail(c, 501, "method not implemented");
		return;
	}

	/* The target: origin-form, or absolute-form (RFC 9112 3.2.2) whose
	 * scheme and authority are dropped. */
	char *path = h.target;
	if (!strncasecmp(path, "http://", 7) || !strncasecmp(path, "https://", 8)) {
		path = strchr(strstr(path, "//") + 2, '/');
		if (!path)
			path = "/";
	} else if (*path != '/' && strcmp(path, "*")) {
		conn_fail(c, 400, "malformed request target");
		return;
	}
	char *q = strchr(path, '?');
	call->query = "";
	if (q) {
		*q = 0;
		call->query = q + 1;
	}
	call->method = c->head_only ? "GET" : h.method;
	call->path = path;
	call->authorization = h.authorization;
	call->accept = h.accept;
	call->peer = c->peer;
	call->now_ns = c->now;
	call->ws = http_head_websocket(&h, accept);

	api_request(call);

	switch (call->next) {
	case API_READ_BODY:
	case API_STREAM_BODY:
		if (call->next == API_READ_BODY && !call->chunked &&
		    call->content_length > HTTP_BODY_MAX) {
			conn_fail(c, 413, "the request body is larger than 1 MiB");
			return;
		}
		if (expect && call->has_body)
			out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		body_begin(c, call->next == API_READ_BODY ? SINK_BUFFER :
							     SINK_STREAM);
		return;
	case API_WEBSOCKET:
		if (call->ws != API_WS_OK) { /* the API's mistake */
			conn_fail(c, 500, "not a WebSocket request");
			return;
		}
		snprintf(call->resp.headers, sizeof(call->resp.headers),
			 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Accept: %s\r\n", accept);
		call->resp.status = 101;
		queue_response(c, &call->resp);
		memset(&c->ws, 0, sizeof(c->ws));
		c->ws_active = true;
		c->state = CONN_WS;
		return;
	default:
		/* Answered from the head. A body still on its way is read and
		 * dropped when it is small; one the client waits to send
		 * (100-continue) or a large one ends the connection. */
		if (call->has_body &&
		    (expect || (!call->chunked && call->content_length > HTTP_BODY_MAX)))
			c->close_after = true;
		queue_response(c, &call->resp);
		if (c->close_after || !call->has_body)
			request_done(c);
		else
			body_begin(c, SINK_DISCARD);
		return;
	}
}

/* Bytes of a request head; returns how many it took. */
static size_t head_feed(struct http_conn *c, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b = p[i];

		/* RFC 9112 2.2: empty lines before a request are ignored. */
		if (c->head_len == 0 && (b == '\r' || b == '\n'))
			continue;
		if (c->head_len == 0)
			c->head_start_ns = c->now;
		if (c->head_len >= HEAD_MAX) {
			conn_fail(c, 431, "request head too large");
			return i + 1;
		}
		c->head[c->head_len++] = (char)b;
		if (b != '\n') {
			if (!c->reqline_done && c->head_len > HTTP_LINE_MAX + 1) {
				conn_fail(c, 414, "request line longer than 8 KiB");
				return i + 1;
			}
			if (c->reqline_done &&
			    c->head_len - c->reqline_end > HTTP_HEADERS_MAX) {
				conn_fail(c, 431, "header section larger than 16 KiB");
				return i + 1;
			}
			continue;
		}
		size_t start = c->line_start, end = c->head_len - 1;
		if (end > start && c->head[end - 1] == '\r')
			end--;
		/* A CR anywhere else in a line is not allowed (RFC 9112 2.2). */
		if (memchr(c->head + start, '\r', end - start)) {
			conn_fail(c, 400, "bare CR in the request head");
			return i + 1;
		}
		if (!c->reqline_done) {
			c->reqline_done = true;
			c->reqline_end = c->head_len;
		} else if (end == start) {
			head_dispatch(c);
			return i + 1;
		} else if (++c->header_lines > HTTP_HEADER_LINES_MAX) {
			conn_fail(c, 431, "more than 100 header lines");
			return i + 1;
		}
		c->line_start = c->head_len;
	}
	return len;
}

/* ---------------------------------------------------------- WebSocket -- */

static void ws_send(struct http_conn *c, unsigned opcode, const uint8_t *p,
		    size_t n)
{
	uint8_t hdr[WS_FRAME_HEADER_MAX];

	out_append(c, hdr, ws_frame_header(hdr, opcode, n));
	out_append(c, p, n);
}

static void ws_close(struct http_conn *c, int code, const char *reason)
{
	uint8_t payload[WS_CONTROL_MAX];

	if (c->state == CONN_DONE)
		return;
	ws_send(c, WS_OP_CLOSE, payload,
		ws_close_payload(payload, (uint16_t)code, reason));
	c->state = CONN_DONE;
}

static void ws_on_data(void *ctx, unsigned opcode, const uint8_t *p, size_t n,
		       bool fin)
{
	struct http_conn *c = ctx;

	if (n)
		api_ws_input(&c->call, p, n);
}

static void ws_on_control(void *ctx, unsigned opcode, const uint8_t *p,
			  size_t n)
{
	struct http_conn *c = ctx;

	if (opcode == WS_OP_PING) {
		ws_send(c, WS_OP_PONG, p, n); /* section 5.5.2 */
	} else if (opcode == WS_OP_CLOSE) {
		/* Section 5.5.1: answer with a Close, echoing the code. */
		int code = n >= 2 ? (p[0] << 8 | p[1]) : WS_CLOSE_NORMAL;
		ws_close(c, code, NULL);
	}
}

static const struct ws_rx_ops ws_ops = {
	.data = ws_on_data,
	.control = ws_on_control,
};

static size_t ws_feed(struct http_conn *c, const uint8_t *p, size_t len)
{
	int code = ws_rx_input(&c->ws, p, len, &ws_ops, c);

	if (code)
		ws_close(c, code, "protocol error");
	return len;
}

/* Console output for the client, as binary frames (it need not be UTF-8). */
static void ws_poll(struct http_conn *c)
{
	while (c->state == CONN_WS && out_pending(c) < WS_OUT_HIGH) {
		const char *reason = NULL;
		int code = 0;

		if (!out_reserve(c, 4 + WS_POLL_MAX))
			return;
		uint8_t *at = c->out + c->out_len;
		size_t n = api_ws_poll(&c->call, c->now, at + 4, WS_POLL_MAX,
				       &code, &reason);
		if (n) {
			uint8_t hdr[WS_FRAME_HEADER_MAX];
			size_t h = ws_frame_header(hdr, WS_OP_BINARY, n);
			if (h == 2)
				memmove(at + 2, at + 4, n);
			memcpy(at, hdr, h);
			c->out_len += h + n;
		}
		if (code) {
			ws_close(c, code, reason);
			return;
		}
		if (n < WS_POLL_MAX)
			return;
	}
}

/* -------------------------------------------------------- connection -- */

/* Parse what can be parsed now; returns the bytes taken (the rest waits
 * while answers pile up). */
static size_t conn_feed(struct http_conn *c, const uint8_t *p, size_t len)
{
	size_t used = 0;

	while (used < len) {
		size_t n;

		switch (c->state) {
		case CONN_HEAD:
			if (out_pending(c) > OUT_HIGH)
				return used;
			n = head_feed(c, p + used, len - used);
			break;
		case CONN_BODY:
			n = body_feed(c, p + used, len - used);
			break;
		case CONN_CHUNK_SIZE:
		case CONN_CHUNK_DATA:
		case CONN_CHUNK_CRLF:
		case CONN_TRAILER:
			n = chunk_feed(c, p + used, len - used);
			break;
		case CONN_WS:
			n = ws_feed(c, p + used, len - used);
			break;
		default: /* CONN_DONE: the rest is dropped */
			return len;
		}
		used += n;
	}
	return used;
}

static bool stash_add(struct http_conn *c, const uint8_t *p, size_t n)
{
	if (!n)
		return true;
	if (c->stash_len + n > STASH_MAX) {
		c->state = CONN_DONE; /* a client that sends but never reads */
		return false;
	}
	if (!c->stash) {
		c->stash = kmalloc(STASH_MAX);
		if (!c->stash) {
			c->state = CONN_DONE;
			return false;
		}
	}
	memcpy(c->stash + c->stash_len, p, n);
	c->stash_len += n;
	return true;
}

static void stash_run(struct http_conn *c)
{
	size_t n = conn_feed(c, c->stash, c->stash_len);

	if (c->state == CONN_DONE)
		n = c->stash_len;
	memmove(c->stash, c->stash + n, c->stash_len - n);
	c->stash_len -= n;
}

struct http_conn *http_conn_new(uint32_t peer, uint64_t now_ns)
{
	struct http_conn *c = kzalloc(sizeof(*c));

	if (!c)
		return NULL;
	c->peer = peer;
	c->now = c->last_ns = now_ns;
	c->state = CONN_HEAD;
	return c;
}

void http_conn_free(struct http_conn *c)
{
	if (!c)
		return;
	if (c->streaming)
		api_stream_end(&c->call, false);
	if (c->ws_active)
		api_ws_end(&c->call);
	kfree(c->call.resp.body);
	kfree(c->body);
	kfree(c->out);
	kfree(c->stash);
	kfree(c);
}

void http_conn_touch(struct http_conn *c, uint64_t now_ns)
{
	c->now = c->last_ns = now_ns;
}

enum http_status http_conn_input(struct http_conn *c, const uint8_t *data,
				 size_t len, uint64_t now_ns)
{
	c->now = now_ns;
	if (len)
		c->last_ns = now_ns;
	if (c->state != CONN_DONE) {
		if (c->stash_len) {
			if (stash_add(c, data, len))
				stash_run(c);
		} else {
			size_t n = conn_feed(c, data, len);
			stash_add(c, data + n, len - n);
		}
	}
	return c->state == CONN_DONE ? HTTP_CONN_CLOSE : HTTP_CONN_OPEN;
}

enum http_status http_conn_poll(struct http_conn *c, uint64_t now_ns)
{
	c->now = now_ns;
	if (c->state == CONN_DONE)
		return HTTP_CONN_CLOSE;
	/* A client that does not read what it asked for. */
	if (out_pending(c) && now_ns - c->last_ns >= HTTP_BODY_TIMEOUT_NS) {
		if (c->streaming) {
			c->streaming = false;
			api_stream_end(&c->call, false);
		}
		c->state = CONN_DONE;
		return HTTP_CONN_CLOSE;
	}
	switch (c->state) {
	case CONN_HEAD:
		if (c->stash_len && out_pending(c) <= OUT_HIGH)
			stash_run(c);
		if (c->state != CONN_HEAD)
			break;
		if (c->head_len &&
		    now_ns - c->head_start_ns >= HTTP_HEADER_TIMEOUT_NS)
			conn_fail(c, 408, "request head not complete within 10 s");
		else if (!c->head_len && !c->stash_len && !out_pending(c) &&
			 now_ns - c->last_ns >= HTTP_HEADER_TIMEOUT_NS)
			c->state = CONN_DONE; /* idle keep-alive connection */
		break;
	case CONN_WS:
		ws_poll(c);
		break;
	case CONN_DONE:
		break;
	default: /* a body */
		if (now_ns - c->last_ns >= HTTP_BODY_TIMEOUT_NS)
			conn_fail(c, 408, "no request body bytes for 30 s");
		break;
	}
	return c->state == CONN_DONE ? HTTP_CONN_CLOSE : HTTP_CONN_OPEN;
}

size_t http_conn_pending(struct http_conn *c, const uint8_t **data)
{
	*data = c->out + c->out_off;
	return out_pending(c);
}

void http_conn_sent(struct http_conn *c, size_t n)
{
	if (n > out_pending(c))
		n = out_pending(c);
	c->out_off += n;
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (n) /* the transport's latest time is close enough */
		c->last_ns = c->now;
}
