/*
 * netdev.h - what a NIC driver gives the rest of Keel: an Ethernet device
 * that sends frames and hands received ones to whoever attached (the
 * management network stack today, the virtual switch later). Drivers fill
 * struct netdev and call netdev_register; mgmt/net.c attaches to the first
 * one with a link.
 *
 * Contexts: xmit is called from a thread (never from interrupt context) and
 * may be called concurrently from several CPUs: drivers serialize inside.
 * rx is called from the driver's receive path, in thread context (drivers
 * defer from their interrupt handler to a thread or to netdev_poll).
 */
#ifndef KEEL_DRIVERS_NETDEV_H
#define KEEL_DRIVERS_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETDEV_MAX 8
#define NETDEV_MTU 1500
#define NETDEV_FRAME_MAX 1518 /* without FCS, with one VLAN tag: 1522 */

struct netdev;

/* A received frame (destination MAC first, no FCS); the callee copies
 * what it keeps before returning. */
typedef void (*netdev_rx_fn)(void *ctx, const void *frame, size_t len);

struct netdev_ops {
	/* Queue one frame (60..NETDEV_FRAME_MAX bytes; shorter ones are padded
	 * by the driver). 0, KEEL_EBUSY when the ring is full (the caller may
	 * drop or retry), KEEL_EIO when the device failed. */
	int (*xmit)(struct netdev *nd, const void *frame, size_t len);
	/* Process completed receive and transmit descriptors now; returns the
	 * number of frames received. Safe to call from any thread. */
	unsigned (*poll)(struct netdev *nd);
};

struct netdev {
	char name[16];		/* "virtio-net0", "e1000e0" */
	uint8_t mac[6];
	volatile bool link_up;
	const struct netdev_ops *ops;
	void *priv;		/* the driver's */
	/* Set by netdev_attach. */
	netdev_rx_fn rx;
	void *rx_ctx;
	/* Counters. */
	uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
	volatile unsigned link_downs, link_ups; /* netdev_link_report */
	/* Woken (thread_wake) by the driver's interrupt when there is work
	 * for poll, or the link changed; set by the consumer. */
	struct thread *waiter;
};

/* Drivers: make the device known ("net: virtio-net0 52:54:00:12:34:56
 * link up"). 0, or KEEL_EBUSY when NETDEV_MAX are registered. */
int netdev_register(struct netdev *nd);
/* Drivers, from interrupt context: there is work (rx, tx done, link). */
void netdev_notify(struct netdev *nd);
/* Drivers, once per link change they see: count it and log it ("net:
 * <nic> link up|down"). A change too short for a poller to sample is
 * still counted. */
void netdev_link_report(struct netdev *nd, bool up);
/* Drivers, from poll: a frame arrived. */
void netdev_deliver(struct netdev *nd, const void *frame, size_t len);
/* Consumers. */
unsigned netdev_count(void);
struct netdev *netdev_get(unsigned i);
void netdev_attach(struct netdev *nd, netdev_rx_fn rx, void *ctx,
		   struct thread *waiter);

#endif
