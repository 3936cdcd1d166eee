/*
 * http_parse.h - the request head as mgmt/http_parse.c takes it apart, for
 * mgmt/http.c only.
 */
#ifndef KEEL_MGMT_HTTP_PARSE_H
#define KEEL_MGMT_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "mgmt/api.h"
#include "mgmt/ws.h"

/* Pointers into the head buffer (NUL-terminated in place); NULL when the
 * header is absent. */
struct http_head {
	char *method, *target, *version;
	bool http10;
	unsigned host_count;
	const char *content_length, *transfer_encoding, *connection, *expect;
	const char *authorization, *accept, *upgrade, *ws_key, *ws_version;
	bool bad_length; /* repeated Content-Length values differ */
};

/* A complete head of head_len bytes whose request line ends (after its
 * LF) at reqline_end. 0, or the status to answer with and *why. */
int http_head_parse(char *head, size_t head_len, size_t reqline_end,
		    struct http_head *h, const char **why);
/* Body framing (RFC 9112 6.3) into call's chunked, has_length,
 * content_length, has_body. 0, or a status and *why. */
int http_head_framing(const struct http_head *h, struct api_call *call,
		      const char **why);
/* Is this a WebSocket opening handshake, and its accept key. */
enum api_ws_check http_head_websocket(const struct http_head *h,
				      char accept[WS_ACCEPT_LEN + 1]);
/* Does the comma-separated list hold token (case-insensitively)? */
bool http_list_has(const char *list, const char *token);

#endif
