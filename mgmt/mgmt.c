/*
 * mgmt.c - the management thread: TLS and the network come up, then one
 * loop serves HTTPS on port 443 with lwIP's raw API. Per connection an
 * mbedTLS context reads from the pbufs TCP delivered and writes with
 * tcp_write; its plaintext goes to the HTTP connection (mgmt/http.h). The
 * loop polls the device, runs lwIP's timers and every connection, then
 * waits until the device's interrupt wakes it or a few ms pass. All of
 * lwIP, mbedTLS and the API run on this thread only: nothing here locks.
 */
#include <string.h>

#include "boot/boot_info.h"
#include "kernel/config.h"
#include "kernel/err.h"
#include "kernel/fpu.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "lwip/ip4_addr.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "mbedtls/ssl.h"
#include "mgmt/api.h"
#include "mgmt/http.h"
#include "mgmt/mgmt.h"
#include "mgmt/net.h"
#include "mgmt/tls.h"

#define MGMT_PORT 443
#define MGMT_CONN_MAX 16
#define MGMT_SLOW_CALL_NS 1000000000ULL
#define MGMT_BACKLOG 8
#define MGMT_HANDSHAKE_NS 10000000000ull /* a client gets 10 s to finish */
#define MGMT_CLOSE_NS 5000000000ull	 /* and 5 s to take our last bytes */
#define MGMT_IDLE_NS 5000000ull		 /* sleep when nothing happened */
#define MGMT_NO_DEVICE_NS 100000000ull
/* One TLS record of plaintext per write (MBEDTLS_SSL_OUT_CONTENT_LEN),
 * written only when TCP has room for it and the record's overhead (at most
 * 29 bytes with the AEAD suites). */
#define MGMT_RECORD 4096
#define MGMT_RECORD_SLACK 64

enum conn_state {
	CONN_FREE = 0,
	CONN_HANDSHAKE,
	CONN_OPEN,
	CONN_CLOSING, /* close_notify on its way, then FIN */
};

struct mgmt_conn {
	enum conn_state state;
	struct tcp_pcb *pcb;	/* NULL once lwIP dropped it (tcp_err) */
	mbedtls_ssl_context ssl;
	struct http_conn *http; /* once the handshake is done */
	struct pbuf *rx;	/* received, not yet read by mbedTLS */
	bool eof;		/* the peer sent FIN */
	bool close;		/* close once the HTTP output is sent */
	size_t write_len;	/* a record mbedTLS has not fully sent */
	uint32_t peer;		/* IPv4, network order */
	uint64_t start_ns, close_ns;
};

static struct mgmt_conn mgmt_conns[MGMT_CONN_MAX];
static unsigned mgmt_active;
static uint64_t mgmt_now; /* time_ns() at the top of this loop turn */
static size_t mgmt_tls_base; /* TLS heap with no connection open */
static uint8_t mgmt_buf[MBEDTLS_SSL_IN_CONTENT_LEN];

int mgmt_random(void *buf, size_t len)
{
	return tls_random(buf, len);
}

static const char *mgmt_peer(const struct mgmt_conn *c)
{
	static char s[16];
	ip4_addr_t a;

	ip4_addr_set_u32(&a, c->peer);
	return ip4addr_ntoa_r(&a, s, sizeof(s)) ? s : "?";
}

/* ---------------------------------------------------------------- BIO -- */

/* mbedTLS reads the pbufs TCP delivered; the window opens as it does. */
static int mgmt_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct mgmt_conn *c = ctx;
	u16_t n;

	if (!c->rx)
		return c->eof || !c->pcb ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
	n = pbuf_copy_partial(c->rx, buf, len > 0xffff ? 0xffff : (u16_t)len,
			      0);
	c->rx = pbuf_free_header(c->rx, n);
	if (c->pcb)
		tcp_recved(c->pcb, n);
	return n;
}

static int mgmt_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct mgmt_conn *c = ctx;
	u16_t room;
	err_t err;

	if (!c->pcb)
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	room = tcp_sndbuf(c->pcb);
	if (len > room)
		len = room;
	if (!len)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	err = tcp_write(c->pcb, buf, (u16_t)len, TCP_WRITE_FLAG_COPY);
	if (err == ERR_MEM)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	if (err != ERR_OK)
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	return (int)len;
}

/* ---------------------------------------------------- lwIP callbacks -- */

static err_t mgmt_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			   err_t err)
{
	struct mgmt_conn *c = arg;

	if (!p) {
		c->eof = true;
		return ERR_OK;
	}
	if (c->rx)
		pbuf_cat(c->rx, p);
	else
		c->rx = p;
	return ERR_OK;
}

/* lwIP freed the pcb (RST, or its retransmissions gave up). */
static void mgmt_tcp_err(void *arg, err_t err)
{
	struct mgmt_conn *c = arg;

	c->pcb = NULL;
}

static void mgmt_pcb_detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
}

static void mgmt_conn_free(struct mgmt_conn *c)
{
	if (c->rx) {
		if (c->pcb)
			tcp_recved(c->pcb, c->rx->tot_len);
		pbuf_free(c->rx);
	}
	if (c->http)
		http_conn_free(c->http);
	mbedtls_ssl_free(&c->ssl);
	memset(c, 0, sizeof(*c));
	if (--mgmt_active == 0 && tls_heap_in_use() != mgmt_tls_base)
		log_warn("mgmt: TLS holds %zu bytes with no connection open "
			 "(%zu at start)", tls_heap_in_use(), mgmt_tls_base);
}

/* RST: for a peer that broke the protocol or timed out. */
static void mgmt_conn_abort(struct mgmt_conn *c)
{
	if (c->pcb) {
		mgmt_pcb_detach(c->pcb);
		tcp_abort(c->pcb);
		c->pcb = NULL;
	}
	mgmt_conn_free(c);
}

/* FIN after what is queued (an alert, a close_notify); lwIP owns the pcb
 * from here. Data still unread is acknowledged first: lwIP answers a close
 * with unread data by RST. */
static void mgmt_conn_close(struct mgmt_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	if (pcb) {
		if (c->rx) {
			tcp_recved(pcb, c->rx->tot_len);
			pbuf_free(c->rx);
			c->rx = NULL;
		}
		mgmt_pcb_detach(pcb);
		c->pcb = NULL;
		if (tcp_close(pcb) != ERR_OK)
			tcp_abort(pcb); /* no memory for the FIN */
	}
	mgmt_conn_free(c);
}

static err_t mgmt_tcp_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct mgmt_conn *c = NULL;
	unsigned i;
	int ret;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	for (i = 0; i < MGMT_CONN_MAX && !c; i++)
		if (mgmt_conns[i].state == CONN_FREE)
			c = &mgmt_conns[i];
	if (!c) {
		log_warn("mgmt: %u connections open, refusing one more",
			 MGMT_CONN_MAX);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	if (mgmt_active == 0)
		mgmt_tls_base = tls_heap_in_use();
	mbedtls_ssl_init(&c->ssl);
	ret = mbedtls_ssl_setup(&c->ssl, tls_config());
	mgmt_active++;
	c->state = CONN_HANDSHAKE;
	c->pcb = pcb;
	c->peer = ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip));
	c->start_ns = mgmt_now;
	if (ret) {
		log_warn("mgmt: no memory for a TLS connection (-0x%04x)",
			 (unsigned)-ret);
		mgmt_conn_abort(c);
		return ERR_ABRT;
	}
	mbedtls_ssl_set_bio(&c->ssl, c, mgmt_bio_send, mgmt_bio_recv, NULL);
	tcp_arg(pcb, c);
	tcp_recv(pcb, mgmt_tcp_recv);
	tcp_err(pcb, mgmt_tcp_err);
	/* Records are written whole; Nagle would hold back their last
	 * segment for an ACK. */
	tcp_nagle_disable(pcb);
	return ERR_OK;
}

/* ------------------------------------------------------- connections -- */

static bool mgmt_want(int ret)
{
	return ret == MBEDTLS_ERR_SSL_WANT_READ ||
	       ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* False when the connection is gone. */
static bool mgmt_handshake(struct mgmt_conn *c, uint64_t now)
{
	int ret = mbedtls_ssl_handshake(&c->ssl);

	if (mgmt_want(ret)) {
		if (now - c->start_ns > MGMT_HANDSHAKE_NS) {
			log_info("mgmt: %s: TLS handshake timed out",
				 mgmt_peer(c));
			mgmt_conn_abort(c);
			return false;
		}
		return true;
	}
	if (ret) {
		/* mbedTLS queued its alert (protocol_version, handshake_
		 * failure, ...): send it, then FIN. */
		log_info("mgmt: %s: TLS handshake failed (-0x%04x)",
			 mgmt_peer(c), (unsigned)-ret);
		tcp_output(c->pcb);
		mgmt_conn_close(c);
		return false;
	}
	log_debug("mgmt: %s: %s %s in %llu ms", mgmt_peer(c),
		  mbedtls_ssl_get_version(&c->ssl),
		  mbedtls_ssl_get_ciphersuite(&c->ssl),
		  (unsigned long long)((now - c->start_ns) / 1000000));
	c->http = http_conn_new(c->peer, now);
	if (!c->http) {
		log_warn("mgmt: %s: no memory for the HTTP connection",
			 mgmt_peer(c));
		c->close = true;
	}
	c->state = CONN_OPEN;
	return true;
}

/* Plaintext in, to HTTP; false when the connection is gone. */
static bool mgmt_read(struct mgmt_conn *c, uint64_t now, bool *work)
{
	for (;;) {
		int ret = mbedtls_ssl_read(&c->ssl, mgmt_buf, sizeof(mgmt_buf));

		if (ret > 0) {
			*work = true;
			if (c->http && !c->close) {
				if (http_conn_input(c->http, mgmt_buf, (size_t)ret,
						    now) == HTTP_CONN_CLOSE)
					c->close = true;
				/* An answer that took long (a big VM's memory
				 * zeroed) is not the peer idling. */
				uint64_t after = time_ns();
				if (after - now >= MGMT_SLOW_CALL_NS)
					http_conn_touch(c->http, after);
			}
			continue;
		}
		if (mgmt_want(ret))
			return true;
		if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
		    ret == MBEDTLS_ERR_SSL_CONN_EOF) {
			/* The client is done sending; what it asked for
			 * still goes out. */
			c->close = true;
			c->eof = true;
			return true;
		}
		log_info("mgmt: %s: TLS read failed (-0x%04x)", mgmt_peer(c),
			 (unsigned)-ret);
		mgmt_conn_abort(c);
		return false;
	}
}

/* HTTP's output, one record at a time while TCP has room. After WANT_WRITE
 * mbedTLS must be called again with the same length (its record is
 * already made). False when the connection is gone. */
static bool mgmt_write(struct mgmt_conn *c, bool *work)
{
	while (c->pcb && c->http) {
		const uint8_t *data;
		size_t n = http_conn_pending(c->http, &data);
		size_t room = tcp_sndbuf(c->pcb);
		int ret;

		if (c->write_len) {
			n = c->write_len;
		} else {
			if (!n)
				return true;
			if (n > MGMT_RECORD)
				n = MGMT_RECORD;
			if (room < n + MGMT_RECORD_SLACK) {
				if (room < 512 + MGMT_RECORD_SLACK)
					return true; /* wait for ACKs */
				n = room - MGMT_RECORD_SLACK;
			}
		}
		ret = mbedtls_ssl_write(&c->ssl, data, n);
		if (ret > 0) {
			*work = true;
			c->write_len = 0;
			http_conn_sent(c->http, (size_t)ret);
			continue;
		}
		if (mgmt_want(ret)) {
			c->write_len = n;
			return true;
		}
		log_info("mgmt: %s: TLS write failed (-0x%04x)", mgmt_peer(c),
			 (unsigned)-ret);
		mgmt_conn_abort(c);
		return false;
	}
	return true;
}

static bool mgmt_output_done(struct mgmt_conn *c)
{
	const uint8_t *data;

	return !c->write_len && (!c->http || !http_conn_pending(c->http, &data));
}

static void mgmt_conn_step(struct mgmt_conn *c, uint64_t now, bool *work)
{
	if (!c->pcb) { /* reset by the peer */
		mgmt_conn_free(c);
		return;
	}
	if (c->state == CONN_HANDSHAKE) {
		if (!mgmt_handshake(c, now))
			return;
		if (c->state == CONN_OPEN)
			*work = true;
	}
	if (c->state == CONN_OPEN) {
		if (!mgmt_read(c, now, work))
			return;
		if (c->http && !c->close &&
		    http_conn_poll(c->http, now) == HTTP_CONN_CLOSE)
			c->close = true;
		if (!mgmt_write(c, work))
			return;
		if (c->close && mgmt_output_done(c)) {
			c->state = CONN_CLOSING;
			c->close_ns = now;
			*work = true;
		}
	}
	if (c->state == CONN_CLOSING) {
		int ret = mbedtls_ssl_close_notify(&c->ssl);

		if (!mgmt_want(ret)) {
			tcp_output(c->pcb);
			mgmt_conn_close(c);
			return;
		}
		if (now - c->close_ns > MGMT_CLOSE_NS) {
			mgmt_conn_abort(c);
			return;
		}
	}
	if (c->pcb)
		tcp_output(c->pcb);
}

/* ------------------------------------------------------------ thread -- */

static int mgmt_listen(void)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4), *l;

	if (!pcb)
		return KEEL_ENOMEM;
	if (tcp_bind(pcb, IP4_ADDR_ANY, MGMT_PORT) != ERR_OK) {
		tcp_abort(pcb);
		return KEEL_EBUSY;
	}
	l = tcp_listen_with_backlog(pcb, MGMT_BACKLOG);
	if (!l) {
		tcp_abort(pcb);
		return KEEL_ENOMEM;
	}
	tcp_accept(l, mgmt_tcp_accept);
	return 0;
}

struct mgmt_start_args {
	const struct boot_info *bi;
	const struct keel_config *cfg;
};

/* force_align_arg_pointer: kernel threads start with RSP 16-byte aligned
 * at function entry (kernel/sched.c thread_create) where the SysV ABI wants
 * RSP + 8 aligned; Keel's own code does not care, but cJSON's SSE code
 * spills with movaps and takes #GP on a misaligned stack. Realigning here
 * makes every call below this one ABI-correct. */
static __attribute__((force_align_arg_pointer)) void mgmt_thread(void *arg)
{
	struct mgmt_start_args *a = arg;
	int err;

	/* cJSON (the API) is built with SSE: this thread has FPU state. */
	err = thread_fpu_enable();
	if (!err)
		err = tls_init(a->bi, a->cfg);
	if (err) {
		log_err("mgmt: the management service is off (%s)",
			err_str(err));
		thread_exit();
	}
	api_init();
	net_init(a->cfg);
	err = mgmt_listen();
	if (err) {
		log_err("mgmt: cannot listen on port %u (%s)", MGMT_PORT,
			err_str(err));
		thread_exit();
	}
	for (;;) {
		uint64_t now = mgmt_now = time_ns();
		bool work = net_poll(now) > 0;
		unsigned i;

		sys_check_timeouts();
		for (i = 0; i < MGMT_CONN_MAX; i++)
			if (mgmt_conns[i].state != CONN_FREE)
				mgmt_conn_step(&mgmt_conns[i], now, &work);
		/* The device's interrupt ends the wait (netdev_notify), also
		 * one that came while this turn ran; without a device only
		 * the search for one goes on. */
		if (!work)
			thread_block_timeout(net_attached() ? MGMT_IDLE_NS
							    : MGMT_NO_DEVICE_NS);
	}
}

void mgmt_start(const struct boot_info *bi, const struct keel_config *cfg)
{
	static struct mgmt_start_args args;

	args.bi = bi;
	args.cfg = cfg;
	if (!thread_create("mgmt", 0, mgmt_thread, &args))
		log_err("mgmt: no memory for the management thread");
}
