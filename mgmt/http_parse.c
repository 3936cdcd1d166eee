/*
 * http_parse.c - the request head of RFC 9112 taken apart in place: the
 * request line, header fields (names case-insensitive), what the API
 * needs of them, the body's framing and the WebSocket handshake (RFC 6455
 * 4.2.1); and the status lines and JSON error bodies of the answers.
 * Pure: mgmt/http.c calls it once a head is complete.
 */
#include <stdio.h>
#include <string.h>

#include "mgmt/http.h"
#include "mgmt/http_parse.h"
#include "mgmt/ws.h"
#include "mm/mm.h"

/* ------------------------------------------------------------ helpers -- */

const char *http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}

void http_json_error(struct api_response *r, int status, const char *msg)
{
	size_t cap = strlen(msg) * 6 + 48, n = 0;
	char *b = kmalloc(cap);

	r->status = status;
	r->content_type = NULL;
	kfree(r->body);
	r->body = b;
	r->body_len = 0;
	if (!b)
		return;
	n = (size_t)snprintf(b, cap, "{\"error\": \"");
	/* RFC 8259 section 7; anything outside ASCII becomes '?' (a message
	 * may quote a client's bytes, which need not be UTF-8). */
	for (const char *p = msg; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '"' || ch == '\\') {
			b[n++] = '\\';
			b[n++] = (char)ch;
		} else if (ch < 0x20) {
			n += (size_t)snprintf(b + n, cap - n, "\\u%04x", ch);
		} else {
			b[n++] = ch < 0x7F ? (char)ch : '?';
		}
	}
	n += (size_t)snprintf(b + n, cap - n, "\", \"code\": %d}", status);
	r->body_len = n;
}

static bool is_tchar(unsigned char ch)
{
	/* RFC 9110 5.6.2 */
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= 'A' && ch <= 'Z') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

bool http_list_has(const char *list, const char *token)
{
	size_t n = strlen(token);

	while (list && *list) {
		while (*list == ' ' || *list == '\t' || *list == ',')
			list++;
		const char *e = list;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > list && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - list) == n && !strncasecmp(list, token, n))
			return true;
		list = e;
	}
	return false;
}

/* -------------------------------------------------------- the request -- */

/* Take the head apart in place; 0 or the status to fail with (*why). */
int http_head_parse(char *head, size_t head_len, size_t reqline_end,
		    struct http_head *h, const char **why)
{
	char *line = head, *end;
	size_t rl = reqline_end - 1; /* without the LF */

	*why = "malformed request";
	memset(h, 0, sizeof(*h));
	if (memchr(head, 0, head_len))
		return 400;
	if (rl && line[rl - 1] == '\r')
		rl--;
	if (rl > HTTP_LINE_MAX) {
		*why = "request line longer than 8 KiB";
		return 414;
	}
	line[rl] = 0;
	/* RFC 9112 3: method SP request-target SP HTTP-version */
	h->method = line;
	char *sp1 = strchr(line, ' ');
	if (!sp1)
		return 400;
	*sp1 = 0;
	h->target = sp1 + 1;
	char *sp2 = strchr(h->target, ' ');
	if (!sp2)
		return 400;
	*sp2 = 0;
	h->version = sp2 + 1;
	if (!is_token(h->method) || !*h->target || strchr(h->version, ' '))
		return 400;
	for (const char *t = h->target; *t; t++)
		if (*t <= ' ' || *t >= 0x7F || *t == '#')
			return 400;
	const char *v = h->version;
	if (strncmp(v, "HTTP/", 5) || !(v[5] >= '0' && v[5] <= '9') ||
	    v[6] != '.' || !(v[7] >= '0' && v[7] <= '9') || v[8]) {
		*why = "malformed HTTP version";
		return 400;
	}
	if (v[5] != '1') {
		*why = "only HTTP/1.1 and HTTP/1.0 are spoken here";
		return 505;
	}
	h->http10 = v[7] == '0';

	/* RFC 9112 5: field-name ":" OWS field-value OWS, one per line. */
	for (line = head + reqline_end; *line != '\r' && *line != '\n';
	     line = end + 1) {
		end = strchr(line, '\n');
		char *e = end;
		if (e > line && e[-1] == '\r')
			e--;
		*e = 0;
		if (*line == ' ' || *line == '\t') {
			*why = "obsolete line folding";
			return 400;
		}
		char *colon = strchr(line, ':');
		if (!colon) {
			*why = "malformed header line";
			return 400;
		}
		*colon = 0;
		if (!is_token(line)) {
			*why = "malformed header name";
			return 400;
		}
		char *val = colon + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		char *ve = val + strlen(val);
		while (ve > val && (ve[-1] == ' ' || ve[-1] == '\t'))
			*--ve = 0;
		for (const char *q = val; *q; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7F) {
				*why = "control character in a header value";
				return 400;
			}
		if (!strcasecmp(line, "host")) {
			h->host_count++;
		} else if (!strcasecmp(line, "content-length")) {
			if (h->content_length && strcmp(h->content_length, val))
				h->bad_length = true;
			h->content_length = val;
		} else if (!strcasecmp(line, "transfer-encoding")) {
			if (h->transfer_encoding) {
				*why = "repeated Transfer-Encoding";
				return 400;
			}
			h->transfer_encoding = val;
		} else if (!strcasecmp(line, "connection")) {
			h->connection = val;
		} else if (!strcasecmp(line, "expect")) {
			h->expect = val;
		} else if (!strcasecmp(line, "authorization")) {
			h->authorization = val;
		} else if (!strcasecmp(line, "accept")) {
			h->accept = val;
		} else if (!strcasecmp(line, "upgrade")) {
			h->upgrade = val;
		} else if (!strcasecmp(line, "sec-websocket-key")) {
			h->ws_key = val;
		} else if (!strcasecmp(line, "sec-websocket-version")) {
			h->ws_version = val;
		}
	}
	/* RFC 9112 3.2: exactly one Host in HTTP/1.1. */
	if (!h->http10 && h->host_count != 1) {
		*why = "an HTTP/1.1 request needs exactly one Host header";
		return 400;
	}
	return 0;
}

/* Request body framing (RFC 9112 6.3); 0 or the status to fail with. */
int http_head_framing(const struct http_head *h, struct api_call *call,
		      const char **why)
{

	if (h->transfer_encoding) {
		/* A request with both is how smuggling starts (RFC 9112 6.1). */
		if (h->content_length || h->http10) {
			*why = "Transfer-Encoding with Content-Length or in HTTP/1.0";
			return 400;
		}
		if (strcasecmp(h->transfer_encoding, "chunked")) {
			*why = "only the chunked transfer coding is supported";
			return 501;
		}
		call->chunked = true;
		call->has_body = true;
		return 0;
	}
	if (h->content_length) {
		const char *s = h->content_length;
		uint64_t n = 0;

		if (h->bad_length || !*s || strlen(s) > 18) {
			*why = "malformed Content-Length";
			return 400;
		}
		for (; *s; s++) {
			if (*s < '0' || *s > '9') {
				*why = "malformed Content-Length";
				return 400;
			}
			n = n * 10 + (uint64_t)(*s - '0');
		}
		call->content_length = n;
		call->has_length = true;
		call->has_body = n > 0;
	}
	return 0;
}

/* RFC 6455 4.2.1: is this a WebSocket opening handshake? */
enum api_ws_check http_head_websocket(const struct http_head *h,
				      char accept[WS_ACCEPT_LEN + 1])
{
	if (!h->upgrade || !http_list_has(h->upgrade, "websocket"))
		return API_WS_NONE;
	if (strcmp(h->method, "GET") || h->http10 || !h->connection ||
	    !http_list_has(h->connection, "upgrade") || !h->ws_key || !h->ws_version)
		return API_WS_BAD;
	if (strcmp(h->ws_version, "13"))
		return API_WS_VERSION;
	if (ws_accept_key(h->ws_key, strlen(h->ws_key), accept))
		return API_WS_BAD;
	return API_WS_OK;
}
