/*
 * net.c - lwIP's interface over a Keel network device (drivers/netdev.h).
 * Received frames are copied into a ring by the driver's rx callback (any
 * thread) and fed to lwIP by the management thread, the only one that calls
 * lwIP (NO_SYS). Addressing is DHCP unless keel.cfg has ip=; the console
 * line with the management URL is printed whenever the address changes.
 * Owns net_rx_lock (the ring), taken with interrupts off, alone.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/netdev.h"
#include "kernel/config.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "mgmt/net.h"
#include "mgmt/tls.h"
#include "netif/ethernet.h"

#define NET_RX_SLOTS 128
#define NET_ATTACH_RETRY_NS 200000000ull /* 200 ms */
#define NET_WAIT_LOG_NS 5000000000ull	 /* say so after 5 s without a link */

struct net_frame {
	uint16_t len;
	uint8_t data[NETDEV_FRAME_MAX];
};

static const struct keel_config *net_cfg;
static struct netdev *net_dev;
static struct netif net_if;
static uint64_t net_next_try, net_wait_since;
static bool net_wait_logged;
static uint32_t net_shown; /* the address the console line shows */

/* Single producer (the driver's rx path), single consumer (net_poll). */
static struct net_frame net_ring[NET_RX_SLOTS];
static unsigned net_head, net_tail;
static struct spinlock net_rx_lock = SPINLOCK_INIT;
static uint8_t net_tx_buf[NETDEV_FRAME_MAX];

static void net_format_ip(char *buf, size_t len, uint32_t a)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, a >> 16 & 0xff,
		 a >> 8 & 0xff, a & 0xff);
}

static void net_rx(void *ctx, const void *frame, size_t len)
{
	struct netdev *nd = ctx;
	uint64_t flags;

	if (len < 14 || len > NETDEV_FRAME_MAX) {
		__atomic_fetch_add(&nd->rx_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	flags = spin_lock_irqsave(&net_rx_lock);
	if (net_head - net_tail < NET_RX_SLOTS) {
		struct net_frame *f = &net_ring[net_head % NET_RX_SLOTS];

		f->len = (uint16_t)len;
		memcpy(f->data, frame, len);
		net_head++;
	} else {
		__atomic_fetch_add(&nd->rx_dropped, 1, __ATOMIC_RELAXED);
	}
	spin_unlock_irqrestore(&net_rx_lock, flags);
}

/* lwIP's output of one Ethernet frame (a pbuf chain). A full transmit
 * ring gets one reclaim (the device's poll: received frames only go to the
 * ring, so no lwIP call nests) and one retry; then the frame is dropped
 * and TCP retransmits. */
static err_t net_linkoutput(struct netif *nif, struct pbuf *p)
{
	struct netdev *nd = nif->state;
	u16_t len;
	int err;

	if (p->tot_len > sizeof(net_tx_buf))
		return ERR_IF;
	len = pbuf_copy_partial(p, net_tx_buf, p->tot_len, 0);
	err = nd->ops->xmit(nd, net_tx_buf, len);
	if (err == KEEL_EBUSY) {
		nd->ops->poll(nd);
		err = nd->ops->xmit(nd, net_tx_buf, len);
	}
	if (err) {
		__atomic_fetch_add(&nd->tx_dropped, 1, __ATOMIC_RELAXED);
		return err == KEEL_EBUSY ? ERR_MEM : ERR_IF;
	}
	return ERR_OK;
}

static err_t net_netif_init(struct netif *nif)
{
	struct netdev *nd = nif->state;

	nif->name[0] = 'e';
	nif->name[1] = 'n';
	nif->output = etharp_output;
	nif->linkoutput = net_linkoutput;
	nif->mtu = NETDEV_MTU;
	nif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(nif->hwaddr, nd->mac, ETH_HWADDR_LEN);
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		     NETIF_FLAG_ETHERNET;
	return ERR_OK;
}

static uint32_t net_prefix_mask(unsigned prefix)
{
	return prefix ? 0xffffffffu << (32 - prefix) : 0;
}

static void net_attach(struct netdev *nd)
{
	const struct keel_config *c = net_cfg;
	ip4_addr_t ip, mask, gw;
	char a[16], g[16], d[16];

	ip4_addr_set_zero(&ip);
	ip4_addr_set_zero(&mask);
	ip4_addr_set_zero(&gw);
	if (c->ip.addr) {
		ip4_addr_set_u32(&ip, lwip_htonl(c->ip.addr));
		ip4_addr_set_u32(&mask, lwip_htonl(net_prefix_mask(c->ip.prefix)));
		ip4_addr_set_u32(&gw, lwip_htonl(c->gw));
	}
	net_dev = nd;
	netdev_attach(nd, net_rx, nd, thread_current());
	if (!netif_add(&net_if, &ip, &mask, &gw, nd, net_netif_init,
		       ethernet_input)) {
		log_err("net: %s: lwIP refused the interface", nd->name);
		return;
	}
	netif_set_hostname(&net_if, "keel");
	netif_set_default(&net_if);
	netif_set_up(&net_if);
	if (nd->link_up)
		netif_set_link_up(&net_if);
	if (!c->ip.addr) {
		log_info("net: %s: management network by DHCP", nd->name);
		if (dhcp_start(&net_if) != ERR_OK)
			log_err("net: %s: DHCP did not start", nd->name);
		return;
	}
	net_format_ip(a, sizeof(a), c->ip.addr);
	net_format_ip(g, sizeof(g), c->gw);
	net_format_ip(d, sizeof(d), c->dns);
	log_info("net: %s: static %s/%u gw %s dns %s", nd->name, a,
		 c->ip.prefix, c->gw ? g : "none", c->dns ? d : "none");
	if (c->gw && (c->gw ^ c->ip.addr) & net_prefix_mask(c->ip.prefix))
		log_warn("net: gw=%s is outside ip=%s/%u", g, a, c->ip.prefix);
}

/* The first registered device with a link (drivers have probed by now,
 * but a link may come up late). */
static void net_find_device(uint64_t now)
{
	unsigned i, n = netdev_count();

	if (now < net_next_try)
		return;
	net_next_try = now + NET_ATTACH_RETRY_NS;
	for (i = 0; i < n; i++) {
		struct netdev *nd = netdev_get(i);

		if (nd && nd->link_up) {
			net_attach(nd);
			return;
		}
	}
	if (!net_wait_since)
		net_wait_since = now;
	if (!net_wait_logged && now - net_wait_since > NET_WAIT_LOG_NS) {
		log_warn("net: %s; the management API waits for one",
			 n ? "no network device has a link"
			   : "no network device");
		net_wait_logged = true;
	}
}

static unsigned net_rx_drain(void)
{
	unsigned n = 0;

	/* The producer only moves net_head and the consumer net_tail; the
	 * lock orders the frame's bytes before the index. */
	for (;;) {
		uint64_t flags = spin_lock_irqsave(&net_rx_lock);
		bool empty = net_tail == net_head;

		spin_unlock_irqrestore(&net_rx_lock, flags);
		if (empty)
			return n;
		struct net_frame *f = &net_ring[net_tail % NET_RX_SLOTS];
		struct pbuf *p = pbuf_alloc(PBUF_RAW, f->len, PBUF_POOL);

		if (p) {
			pbuf_take(p, f->data, f->len);
			if (net_if.input(p, &net_if) != ERR_OK)
				pbuf_free(p);
		} else {
			__atomic_fetch_add(&net_dev->rx_dropped, 1,
					   __ATOMIC_RELAXED);
		}
		flags = spin_lock_irqsave(&net_rx_lock);
		net_tail++;
		spin_unlock_irqrestore(&net_rx_lock, flags);
		n++;
	}
}

/* DESIGN.md section 10: "keel: mgmt https://<address>/ sha256=<...>". */
static void net_show_address(void)
{
	uint32_t a = net_address();
	char ip[16];

	if (a == net_shown)
		return;
	net_shown = a;
	if (!a) {
		log_warn("net: the management address is gone");
		return;
	}
	net_format_ip(ip, sizeof(ip), a);
	if (!net_cfg->ip.addr) {
		char mask[16], gw[16];

		net_format_ip(mask, sizeof(mask), lwip_ntohl(ip4_addr_get_u32(
						       netif_ip4_netmask(&net_if))));
		net_format_ip(gw, sizeof(gw), lwip_ntohl(ip4_addr_get_u32(
						     netif_ip4_gw(&net_if))));
		log_info("net: DHCP lease %s mask %s gw %s", ip, mask, gw);
	}
	kprint_line("keel: mgmt https://%s/ sha256=%s", ip, tls_fingerprint());
}

void net_init(const struct keel_config *cfg)
{
	net_cfg = cfg;
	lwip_init();
}

bool net_attached(void)
{
	return net_dev != NULL;
}

uint32_t net_address(void)
{
	if (!net_dev || !netif_is_up(&net_if))
		return 0;
	return lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&net_if)));
}

unsigned net_poll(uint64_t now)
{
	unsigned n;

	if (!net_dev) {
		net_find_device(now);
		if (!net_dev)
			return 0;
	}
	net_dev->ops->poll(net_dev);
	n = net_rx_drain();
	if (net_dev->link_up != netif_is_link_up(&net_if)) {
		/* The driver logged the change ("net: <nic> link up|down"). */
		if (net_dev->link_up)
			netif_set_link_up(&net_if);
		else
			netif_set_link_down(&net_if);
	}
	net_show_address();
	return n;
}
