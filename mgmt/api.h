/*
 * api.h - the REST API of the management agent (DESIGN.md section 10,
 * mgmt/openapi.json) and how the HTTP layer (mgmt/http.c) hands it
 * requests: one struct api_call per request, answered at once, after its
 * body, while its body streams in (image uploads), or as a WebSocket (the
 * serial console). Management thread only: nothing here takes a lock.
 */
#ifndef KEEL_MGMT_API_H
#define KEEL_MGMT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_PREFIX "/api/v1"

/* What the HTTP layer does after api_request. */
enum api_next {
	API_RESPOND = 0, /* call->resp is the answer (any body is dropped) */
	API_READ_BODY,	 /* collect the body (<= HTTP_BODY_MAX), api_body */
	API_STREAM_BODY, /* api_stream_write as it comes, then api_stream_end */
	API_WEBSOCKET,	 /* answer 101 Switching Protocols, then api_ws_* */
};

/* The WebSocket opening handshake as the HTTP layer found it (RFC 6455
 * section 4.2.1). */
enum api_ws_check {
	API_WS_NONE = 0, /* no "Upgrade: websocket" */
	API_WS_OK,	 /* a valid handshake: ws_accept is set */
	API_WS_BAD,	 /* malformed: 400 */
	API_WS_VERSION,	 /* Sec-WebSocket-Version is not 13: 426 */
};

#define API_HEADERS_MAX 192

struct api_response {
	int status;
	const char *content_type; /* NULL: application/json */
	char *body;		  /* kmalloc'd, freed by the HTTP layer */
	size_t body_len;
	char headers[API_HEADERS_MAX]; /* extra lines, each "Name: value\r\n" */
};

struct api_call {
	/* The request; the strings live until the call ends. method is one
	 * of GET, POST, PUT, DELETE (HEAD arrives as GET). */
	const char *method;
	const char *path;	   /* without the query */
	const char *query;	   /* after '?', or "" */
	const char *authorization; /* header values, or NULL */
	const char *accept;
	uint32_t peer;		   /* IPv4, network order, or 0 */
	uint64_t now_ns;
	bool has_body;		   /* Content-Length > 0, or chunked */
	bool chunked;
	bool has_length;	   /* Content-Length was sent */
	uint64_t content_length;   /* when not chunked */
	enum api_ws_check ws;

	/* The answer. */
	enum api_next next;
	struct api_response resp;

	/* The API's own, for the rest of the call. */
	int route;
	char arg[96];		   /* the path parameter, decoded */
	void *priv;		   /* a stream's or a WebSocket's state */
};

/* Once, from the management thread, before the first connection. */
void api_init(void);

/* A request head arrived: fill call->next and, for API_RESPOND, resp. */
void api_request(struct api_call *call);
/* API_READ_BODY: the whole body; fills resp. */
void api_body(struct api_call *call, const uint8_t *body, size_t len);
/* API_STREAM_BODY: the next bytes of the body (never more in all than
 * content_length). 0, or an error code with resp set: the HTTP layer then
 * answers resp, calls api_stream_end(call, false) and closes. */
int api_stream_write(struct api_call *call, const uint8_t *data, size_t len);
/* The body is complete (fills resp), or the call is abandoned (timeout,
 * connection gone, write error: free everything, resp untouched). */
void api_stream_end(struct api_call *call, bool complete);

/* API_WEBSOCKET: message bytes from the client (text or binary). */
void api_ws_input(struct api_call *call, const uint8_t *data, size_t len);
/* Bytes for the client, at most cap; *close_code becomes a close code
 * (RFC 6455 7.4.1) with *reason when the session is over. */
size_t api_ws_poll(struct api_call *call, uint64_t now_ns, uint8_t *buf,
		   size_t cap, int *close_code, const char **reason);
/* The WebSocket is closed: free its state. */
void api_ws_end(struct api_call *call);

/* ---- shared with mgmt/http.c ---- */

/* r becomes the JSON error {"error": msg, "code": status}. */
void http_json_error(struct api_response *r, int status, const char *msg);
/* "Not Found" for 404, ... */
const char *http_status_text(int status);

#endif
