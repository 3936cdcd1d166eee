/*
 * virtio_net.c - the host's virtio-net NIC (virtio 1.2 5.1) over the modern
 * PCI transport: one receive and one transmit split queue, no offloads, no
 * mergeable buffers, no control queue. The interrupt handler only
 * acknowledges and wakes the consumer (netdev_notify); receive processing,
 * transmit reclaim and link changes happen in poll, on the consumer's thread.
 *
 * Locks: rx_lock guards the receive queue, tx_lock the transmit queue and
 * its free buffers; neither is held while a frame is handed to the consumer,
 * and they are never held together.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/netdev.h"
#include "drivers/pci.h"
#include "drivers/virtio.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "mm/mm.h"

/* 5.1.3 feature bits, 5.1.4 configuration layout. */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1u
#define VNET_CFG_MAC 0
#define VNET_CFG_STATUS 6

#define VIRTIO_ID_NET 1
#define VNET_RXQ 0 /* 5.1.2: receiveq1, transmitq1 */
#define VNET_TXQ 1
/* 5.1.6: struct virtio_net_hdr; with VERSION_1 num_buffers is always
 * there, so 12 bytes. */
#define VNET_HDR_LEN 12
/* 5.1.6.3.1: without mergeable buffers or guest offloads, receive buffers
 * of at least 1526 bytes plus the header; one 2 KiB slot each. */
#define VNET_SLOT 2048
#define VNET_QUEUE_MAX 256
#define VNET_ETH_MIN 60 /* 802.3 minimum without FCS */
#define VNET_ETH_HDR 14
/* MSI-X entries when the device gives three. */
#define VNET_VEC_CONFIG 0
#define VNET_VEC_RX 1
#define VNET_VEC_TX 2

struct vnet {
	struct netdev nd;
	struct virtio_pci vp;
	struct pci_dev *pci;
	struct virtq rx, tx;
	struct spinlock rx_lock, tx_lock;
	uint8_t *rx_mem, *tx_mem; /* VNET_SLOT per queue entry */
	uint64_t rx_pa, tx_pa;
	unsigned rx_order, tx_order;
	uint16_t tx_free[VNET_QUEUE_MAX];
	unsigned tx_nfree;
	enum pci_irq_mode irq_mode;
	unsigned irq_vectors;
	bool has_status;
	volatile bool config_pending;
	volatile bool broken;
};

static unsigned vnet_units;

static void vnet_irq(void *ctx, unsigned index)
{
	struct vnet *vn = ctx;

	if (vn->irq_mode == PCI_IRQ_MSIX) {
		/* A shared vector may carry a configuration change. */
		if (vn->irq_vectors < 3 || index == VNET_VEC_CONFIG)
			vn->config_pending = true;
	} else {
		/* INTx (and MSI): reading the ISR acknowledges and
		 * deasserts (4.1.4.5); 0 means a device sharing the line. */
		uint8_t isr = virtio_pci_isr(&vn->vp);

		if (!isr)
			return;
		if (isr & VIRTIO_ISR_CONFIG)
			vn->config_pending = true;
	}
	netdev_notify(&vn->nd);
}

static void vnet_broken(struct vnet *vn, const char *what)
{
	if (!vn->broken)
		log_err("net: %s: device broke the %s ring; stopped", vn->nd.name,
			what);
	vn->broken = true;
}

static bool vnet_link_read(struct vnet *vn)
{
	uint16_t st;

	if (!vn->has_status)
		return true; /* 5.1.4.2: without STATUS, assume the link is up */
	if (virtio_pci_config_read(&vn->vp, VNET_CFG_STATUS, &st, sizeof(st)))
		return false;
	return st & VIRTIO_NET_S_LINK_UP;
}

static void vnet_config_changed(struct vnet *vn)
{
	bool up = vnet_link_read(vn);

	if (virtio_pci_status(&vn->vp) & VIRTIO_STATUS_NEEDS_RESET)
		vnet_broken(vn, "device status (needs reset)");
	/* Two pollers may both get here: one of them reports the change. */
	if (__atomic_exchange_n(&vn->nd.link_up, up, __ATOMIC_ACQ_REL) != up)
		netdev_link_report(&vn->nd, up);
}

/* Caller holds tx_lock. */
static void vnet_tx_reclaim(struct vnet *vn)
{
	void *cookie;
	uint32_t len;
	int r;

	while ((r = virtq_get_used(&vn->tx, &cookie, &len)) == 1)
		vn->tx_free[vn->tx_nfree++] =
			(uint16_t)(((uint8_t *)cookie - vn->tx_mem) / VNET_SLOT);
	if (r < 0)
		vnet_broken(vn, "transmit");
}

static int vnet_xmit(struct netdev *nd, const void *frame, size_t len)
{
	struct vnet *vn = nd->priv;
	struct virtq_buf b;
	uint64_t flags;
	unsigned slot;
	uint8_t *buf;
	int r;

	if (len < VNET_ETH_HDR || len > NETDEV_FRAME_MAX)
		r = KEEL_EINVAL;
	else if (vn->broken)
		r = KEEL_EIO;
	else
		r = 0;
	if (r) {
		__atomic_fetch_add(&nd->tx_dropped, 1, __ATOMIC_RELAXED);
		return r;
	}
	flags = spin_lock_irqsave(&vn->tx_lock);
	vnet_tx_reclaim(vn);
	if (!vn->tx_nfree || vn->broken) {
		r = vn->broken ? KEEL_EIO : KEEL_EBUSY;
		spin_unlock_irqrestore(&vn->tx_lock, flags);
		__atomic_fetch_add(&nd->tx_dropped, 1, __ATOMIC_RELAXED);
		return r;
	}
	slot = vn->tx_free[--vn->tx_nfree];
	buf = vn->tx_mem + (size_t)slot * VNET_SLOT;
	/* 5.1.6.2: no checksum or GSO asked for: an all-zero header. */
	memset(buf, 0, VNET_HDR_LEN);
	memcpy(buf + VNET_HDR_LEN, frame, len);
	if (len < VNET_ETH_MIN) {
		memset(buf + VNET_HDR_LEN + len, 0, VNET_ETH_MIN - len);
		len = VNET_ETH_MIN;
	}
	b.addr = vn->tx_pa + (uint64_t)slot * VNET_SLOT;
	b.len = (uint32_t)(VNET_HDR_LEN + len);
	r = virtq_add(&vn->tx, &b, 1, 0, buf);
	if (r)
		vn->tx_free[vn->tx_nfree++] = (uint16_t)slot;
	else if (virtq_kick_needed(&vn->tx))
		virtio_pci_notify(&vn->vp, &vn->tx);
	spin_unlock_irqrestore(&vn->tx_lock, flags);
	__atomic_fetch_add(r ? &nd->tx_dropped : &nd->tx_frames, 1,
			   __ATOMIC_RELAXED);
	return r;
}

/* Caller holds rx_lock. */
static int vnet_rx_post(struct vnet *vn, uint8_t *buf)
{
	struct virtq_buf b = {
		.addr = vn->rx_pa + (uint64_t)(buf - vn->rx_mem),
		.len = VNET_SLOT,
	};

	return virtq_add(&vn->rx, &b, 0, 1, buf);
}

static unsigned vnet_poll(struct netdev *nd)
{
	struct vnet *vn = nd->priv;
	unsigned n = 0, reposted = 0;
	uint64_t flags;

	if (__atomic_exchange_n(&vn->config_pending, false, __ATOMIC_ACQ_REL))
		vnet_config_changed(vn);
	/* At most one ring's worth, so one poll has bounded latency. */
	for (unsigned budget = vn->rx.size; budget && !vn->broken; budget--) {
		void *cookie;
		uint32_t len;
		int r;

		flags = spin_lock_irqsave(&vn->rx_lock);
		r = virtq_get_used(&vn->rx, &cookie, &len);
		spin_unlock_irqrestore(&vn->rx_lock, flags);
		if (r < 0)
			vnet_broken(vn, "receive");
		if (r != 1)
			break;
		/* The buffer is ours until re-posted: no lock while the
		 * consumer looks at it. */
		if (len >= VNET_HDR_LEN + VNET_ETH_HDR && len <= VNET_SLOT) {
			netdev_deliver(nd, (uint8_t *)cookie + VNET_HDR_LEN,
				       len - VNET_HDR_LEN);
			n++;
		} else {
			__atomic_fetch_add(&nd->rx_dropped, 1, __ATOMIC_RELAXED);
		}
		flags = spin_lock_irqsave(&vn->rx_lock);
		if (vnet_rx_post(vn, cookie) == 0)
			reposted++;
		spin_unlock_irqrestore(&vn->rx_lock, flags);
	}
	if (reposted && virtq_kick_needed(&vn->rx))
		virtio_pci_notify(&vn->vp, &vn->rx);
	flags = spin_lock_irqsave(&vn->tx_lock);
	vnet_tx_reclaim(vn);
	spin_unlock_irqrestore(&vn->tx_lock, flags);
	return n;
}

static const struct netdev_ops vnet_ops = {
	.xmit = vnet_xmit,
	.poll = vnet_poll,
};

static int vnet_alloc_slots(unsigned entries, uint8_t **mem, uint64_t *pa,
			    unsigned *order)
{
	uint64_t bytes = (uint64_t)entries * VNET_SLOT;

	*order = 0;
	while ((PAGE_SIZE << *order) < bytes)
		(*order)++;
	/* Not zeroed: receive slots are read only as far as the device
	 * wrote them, transmit slots are filled (and padded) by xmit. */
	*pa = pmm_alloc(*order, 0);
	if (!*pa)
		return KEEL_ENOMEM;
	*mem = phys_to_virt(*pa);
	return 0;
}

/* 3.1.1 step 7 onwards, after features: queues, buffers, vectors. */
static int vnet_setup_queues(struct vnet *vn)
{
	uint16_t vcfg = VIRTIO_MSI_NO_VECTOR, vrx = VIRTIO_MSI_NO_VECTOR,
		 vtx = VIRTIO_MSI_NO_VECTOR;
	int r;

	if (vn->irq_mode == PCI_IRQ_MSIX) {
		bool three = vn->irq_vectors >= 3;

		vcfg = VNET_VEC_CONFIG;
		vrx = three ? VNET_VEC_RX : VNET_VEC_CONFIG;
		vtx = three ? VNET_VEC_TX : VNET_VEC_CONFIG;
	}
	r = virtio_pci_config_vector(&vn->vp, vcfg);
	if (!r)
		r = virtio_pci_queue_setup(&vn->vp, VNET_RXQ, VNET_QUEUE_MAX, vrx,
					   &vn->rx);
	if (!r)
		r = virtio_pci_queue_setup(&vn->vp, VNET_TXQ, VNET_QUEUE_MAX, vtx,
					   &vn->tx);
	if (r)
		return r;
	r = vnet_alloc_slots(vn->rx.size, &vn->rx_mem, &vn->rx_pa, &vn->rx_order);
	if (!r)
		r = vnet_alloc_slots(vn->tx.size, &vn->tx_mem, &vn->tx_pa,
				     &vn->tx_order);
	if (r)
		return r;
	for (unsigned i = 0; i < vn->rx.size; i++) {
		r = vnet_rx_post(vn, vn->rx_mem + (size_t)i * VNET_SLOT);
		if (r)
			return r;
	}
	for (unsigned i = 0; i < vn->tx.size; i++)
		vn->tx_free[vn->tx_nfree++] = (uint16_t)i;
	/* Transmit completions are reclaimed by xmit and poll; they need
	 * not wake anyone (a hint the device may ignore). */
	virtq_set_interrupts(&vn->tx, false);
	return 0;
}

static int vnet_probe(struct pci_dev *d)
{
	uint64_t features;
	struct vnet *vn;
	int r;

	if (virtio_pci_device_type(d) != VIRTIO_ID_NET)
		return KEEL_ENOTSUP;
	vn = kzalloc(sizeof(*vn));
	if (!vn)
		return KEEL_ENOMEM;
	vn->pci = d;
	vn->rx_lock = (struct spinlock)SPINLOCK_INIT;
	vn->tx_lock = (struct spinlock)SPINLOCK_INIT;
	r = virtio_pci_open(&vn->vp, d);
	if (r == KEEL_ENOENT)
		log_warn("virtio-net: %04x:%02x:%02x.%u has no modern virtio interface (legacy only)",
			 d->segment, d->bus, d->dev, d->fn);
	if (r) {
		kfree(vn);
		return r;
	}
	r = virtio_pci_negotiate(&vn->vp,
				 VIRTIO_FEATURE(VIRTIO_NET_F_MAC) |
					 VIRTIO_FEATURE(VIRTIO_NET_F_STATUS) |
					 VIRTIO_FEATURE(VIRTIO_F_ACCESS_PLATFORM),
				 VIRTIO_FEATURE(VIRTIO_F_VERSION_1), &features);
	if (r) {
		log_warn("virtio-net: %04x:%02x:%02x.%u feature negotiation failed (%s)",
			 d->segment, d->bus, d->dev, d->fn,
			 r == KEEL_ENOTSUP ? "no VIRTIO_F_VERSION_1" : "refused");
		virtio_pci_reset(&vn->vp);
		kfree(vn);
		return r;
	}
	vn->has_status = features & VIRTIO_FEATURE(VIRTIO_NET_F_STATUS);
	if (features & VIRTIO_FEATURE(VIRTIO_NET_F_MAC)) {
		virtio_pci_config_read(&vn->vp, VNET_CFG_MAC, vn->nd.mac, 6);
	} else {
		/* 5.1.5: the driver picks one: locally administered. */
		static const uint8_t mac[6] = {0x02, 0x4B, 0x45, 0x45, 0x4C, 0x00};

		memcpy(vn->nd.mac, mac, 6);
		vn->nd.mac[5] = (uint8_t)vnet_units;
	}
	/* From here the handler may run: vn is never freed. */
	r = pci_irq_setup(d, 3, vnet_irq, vn, &vn->irq_mode);
	if (r > 0) {
		vn->irq_vectors = (unsigned)r;
		r = vnet_setup_queues(vn);
	}
	if (r) {
		log_warn("virtio-net: %04x:%02x:%02x.%u set-up failed (%s)",
			 d->segment, d->bus, d->dev, d->fn, err_str(r));
		pci_irq_mask(d, true);
		virtio_pci_set_status(&vn->vp, VIRTIO_STATUS_FAILED);
		virtio_pci_reset(&vn->vp);
		return r;
	}
	virtio_pci_set_status(&vn->vp, VIRTIO_STATUS_DRIVER_OK);
	/* 3.1.1: no notification before DRIVER_OK; now the posted buffers. */
	virtio_pci_notify(&vn->vp, &vn->rx);
	vn->nd.link_up = vnet_link_read(vn);
	vn->nd.ops = &vnet_ops;
	vn->nd.priv = vn;
	snprintf(vn->nd.name, sizeof(vn->nd.name), "virtio-net%u", vnet_units++);
	d->driver_data = vn;
	log_info("virtio-net: %04x:%02x:%02x.%u %s: rx %u tx %u entries, %s, %u vector(s)",
		 d->segment, d->bus, d->dev, d->fn, vn->nd.name, vn->rx.size,
		 vn->tx.size,
		 vn->irq_mode == PCI_IRQ_MSIX  ? "MSI-X"
		 : vn->irq_mode == PCI_IRQ_MSI ? "MSI"
					       : "INTx",
		 vn->irq_vectors);
	return netdev_register(&vn->nd);
}

static const struct pci_id vnet_ids[] = {
	{0x1AF4, 0x1041}, /* modern (virtio 1.2 4.1.2.1) */
	{0x1AF4, 0x1000}, /* transitional: driven through its modern interface */
	{0, 0},
};

static struct pci_driver vnet_driver = {
	.name = "virtio-net",
	.ids = vnet_ids,
	.probe = vnet_probe,
};

void virtio_net_register(void)
{
	pci_register_driver(&vnet_driver);
}
