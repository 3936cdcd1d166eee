/*
 * http.h - one HTTP/1.1 connection of the management server, independent of
 * how its bytes travel: the transport (mgmt/net.c: lwIP TCP under mbedTLS)
 * feeds it the decrypted bytes it receives and sends what it produces. The
 * requests are answered by the REST API (mgmt/api.c) in the management
 * thread, synchronously.
 *
 * Limits (a request over them is answered with its status and a JSON error
 * body, then the connection closes): request line 8 KiB (414), headers 16
 * KiB in all and 100 lines (431), body HTTP_BODY_MAX unless the route
 * streams it (image uploads, 413 beyond the image limit); header timeout
 * 10 s and body idle timeout 30 s (408).
 */
#ifndef KEEL_MGMT_HTTP_H
#define KEEL_MGMT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_LINE_MAX 8192
#define HTTP_HEADERS_MAX 16384
#define HTTP_HEADER_LINES_MAX 100
#define HTTP_BODY_MAX (1u << 20) /* JSON bodies */
#define HTTP_HEADER_TIMEOUT_NS 10000000000ULL
#define HTTP_BODY_TIMEOUT_NS 30000000000ULL

struct http_conn;

enum http_status {
	HTTP_CONN_OPEN = 0,  /* carry on */
	HTTP_CONN_CLOSE = 1, /* send what is pending, then close */
};

/* A new connection from peer (for logs and the login rate limit: the
 * IPv4 address in network order, or 0). NULL when out of memory. */
struct http_conn *http_conn_new(uint32_t peer, uint64_t now_ns);
void http_conn_free(struct http_conn *c);
/* Bytes received. */
enum http_status http_conn_input(struct http_conn *c, const uint8_t *data,
				 size_t len, uint64_t now_ns);
/* Timers (header/body timeouts, WebSocket console output): called every
 * few ms by the transport, and after each input. */
enum http_status http_conn_poll(struct http_conn *c, uint64_t now_ns);
/* The transport's clock after input that took long to answer (a large VM
 * made, say): the time Keel spent working is not the peer being idle. */
void http_conn_touch(struct http_conn *c, uint64_t now_ns);
/* What is waiting to be sent; the transport reports how much it took. */
size_t http_conn_pending(struct http_conn *c, const uint8_t **data);
void http_conn_sent(struct http_conn *c, size_t n);

#endif
