/*
 * netdev.c - the registry of Ethernet devices: drivers register them, the
 * consumer (the management stack, later the virtual switch) attaches to
 * one, interrupts wake the consumer's thread, and received frames go to it.
 *
 * One lock, netdev_lock, only for the table; the hot paths take none.
 */
#include "drivers/netdev.h"

#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"

static struct netdev *netdevs[NETDEV_MAX];
static unsigned netdev_n;
static struct spinlock netdev_lock = SPINLOCK_INIT;

int netdev_register(struct netdev *nd)
{
	uint64_t flags = spin_lock_irqsave(&netdev_lock);

	if (netdev_n >= NETDEV_MAX) {
		spin_unlock_irqrestore(&netdev_lock, flags);
		log_warn("net: %s: more than %u network devices, not registered",
			 nd->name, NETDEV_MAX);
		return KEEL_EBUSY;
	}
	/* Published after its fields: readers of netdev_n see it whole. */
	netdevs[netdev_n] = nd;
	__atomic_store_n(&netdev_n, netdev_n + 1, __ATOMIC_RELEASE);
	spin_unlock_irqrestore(&netdev_lock, flags);
	log_info("net: %s %02x:%02x:%02x:%02x:%02x:%02x link %s", nd->name,
		 nd->mac[0], nd->mac[1], nd->mac[2], nd->mac[3], nd->mac[4],
		 nd->mac[5], nd->link_up ? "up" : "down");
	return 0;
}

void netdev_link_report(struct netdev *nd, bool up)
{
	__atomic_add_fetch(up ? &nd->link_ups : &nd->link_downs, 1,
			   __ATOMIC_RELEASE);
	log_info("net: %s link %s", nd->name, up ? "up" : "down");
}

void netdev_notify(struct netdev *nd)
{
	struct thread *t = __atomic_load_n(&nd->waiter, __ATOMIC_ACQUIRE);

	/* thread_wake takes the run-queue lock with interrupts off: safe
	 * here, and a wake before the consumer blocks is not lost (it
	 * leaves a pending wake for thread_block). */
	if (t)
		thread_wake(t);
}

void netdev_deliver(struct netdev *nd, const void *frame, size_t len)
{
	netdev_rx_fn rx = __atomic_load_n(&nd->rx, __ATOMIC_ACQUIRE);

	__atomic_fetch_add(&nd->rx_frames, 1, __ATOMIC_RELAXED);
	if (rx)
		rx(nd->rx_ctx, frame, len);
	else
		__atomic_fetch_add(&nd->rx_dropped, 1, __ATOMIC_RELAXED);
}

unsigned netdev_count(void)
{
	return __atomic_load_n(&netdev_n, __ATOMIC_ACQUIRE);
}

struct netdev *netdev_get(unsigned i)
{
	return i < netdev_count() ? netdevs[i] : NULL;
}

void netdev_attach(struct netdev *nd, netdev_rx_fn rx, void *ctx,
		   struct thread *waiter)
{
	/* The context before the function that uses it; detaching (rx NULL)
	 * clears the function first. A frame being delivered while the
	 * consumer changes may still reach the old one. */
	if (!rx)
		__atomic_store_n(&nd->rx, NULL, __ATOMIC_RELEASE);
	nd->rx_ctx = ctx;
	__atomic_store_n(&nd->rx, rx, __ATOMIC_RELEASE);
	__atomic_store_n(&nd->waiter, waiter, __ATOMIC_RELEASE);
}
