/*
 * virtio_pci.c - the modern virtio-over-PCI transport (virtio 1.2 4.1): the
 * vendor capabilities that place the common, notify, ISR and device
 * structures in memory BARs, the status handshake, feature negotiation and
 * virtqueue set-up. Legacy (I/O port) interfaces are not used: a
 * transitional device is driven through its modern interface.
 *
 * No locks: a driver sets a device up from one thread (its probe); after
 * that only virtio_pci_notify, virtio_pci_isr and config reads are used,
 * each a single access or a retried read.
 */
#include <string.h>

#include "drivers/pci.h"
#include "drivers/virtio.h"
#include "kernel/err.h"
#include "kernel/time.h"
#include "mm/mm.h"

/* struct virtio_pci_cap (4.1.4). */
#define PCI_CAP_ID_VNDR 0x09
#define VIRTIO_CAP_CFG_TYPE 3
#define VIRTIO_CAP_BAR 4
#define VIRTIO_CAP_OFFSET 8
#define VIRTIO_CAP_LENGTH 12
#define VIRTIO_CAP_NOTIFY_MULT 16 /* struct virtio_pci_notify_cap */
#define VIRTIO_CAP_LEN_MIN 16
#define VIRTIO_NOTIFY_CAP_LEN_MIN 20

#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* struct virtio_pci_common_cfg (4.1.4.3). */
#define COMMON_DFSELECT 0x00
#define COMMON_DF 0x04
#define COMMON_GFSELECT 0x08
#define COMMON_GF 0x0C
#define COMMON_MSIX 0x10
#define COMMON_NUMQ 0x12
#define COMMON_STATUS 0x14
#define COMMON_CFGGENERATION 0x15
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE 0x18
#define COMMON_Q_MSIX 0x1A
#define COMMON_Q_ENABLE 0x1C
#define COMMON_Q_NOFF 0x1E
#define COMMON_Q_DESCLO 0x20
#define COMMON_Q_DESCHI 0x24
#define COMMON_Q_AVAILLO 0x28
#define COMMON_Q_AVAILHI 0x2C
#define COMMON_Q_USEDLO 0x30
#define COMMON_Q_USEDHI 0x34
#define COMMON_LEN_MIN 0x38

#define VIRTIO_RESET_TIMEOUT_US 1000000

/* ------------------------------------------------------------ discovery ---- */

unsigned virtio_pci_device_type(const struct pci_dev *d)
{
	if (d->vendor != 0x1AF4)
		return 0;
	/* 4.1.2: modern ids are 0x1040 + type; transitional 0x1000-0x103F
	 * carry the type in the subsystem device id (4.1.2.3). */
	if (d->device >= 0x1040 && d->device <= 0x107F)
		return d->device - 0x1040u;
	if (d->device >= 0x1000 && d->device <= 0x103F)
		return d->subsys_device;
	return 0;
}

int virtio_pci_find_caps(const struct pci_dev *d, struct virtio_pci_caps *c)
{
	bool have[5] = {false};

	memset(c, 0, sizeof(*c));
	for (unsigned cap = pci_find_cap(d, PCI_CAP_ID_VNDR); cap;
	     cap = pci_find_next_cap(d, cap, PCI_CAP_ID_VNDR)) {
		uint8_t len = pci_cfg_read8(d, cap + 2);
		uint8_t type = pci_cfg_read8(d, cap + VIRTIO_CAP_CFG_TYPE);
		uint8_t bar = pci_cfg_read8(d, cap + VIRTIO_CAP_BAR);
		uint32_t off = pci_cfg_read32(d, cap + VIRTIO_CAP_OFFSET);
		uint32_t blen = pci_cfg_read32(d, cap + VIRTIO_CAP_LENGTH);

		/* 4.1.4.1: ignore reserved types and BARs; use the first of
		 * each type the driver can use (Keel: memory BARs only). */
		if (type < VIRTIO_PCI_CAP_COMMON_CFG ||
		    type > VIRTIO_PCI_CAP_DEVICE_CFG || have[type] ||
		    len < VIRTIO_CAP_LEN_MIN || bar >= PCI_MAX_BARS)
			continue;
		if (d->bars[bar].io || !d->bars[bar].phys ||
		    (uint64_t)off + blen > d->bars[bar].size)
			continue;
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			c->common_bar = bar, c->common_off = off, c->common_len = blen;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (len < VIRTIO_NOTIFY_CAP_LEN_MIN)
				continue;
			c->notify_bar = bar, c->notify_off = off, c->notify_len = blen;
			c->notify_mult = pci_cfg_read32(d, cap + VIRTIO_CAP_NOTIFY_MULT);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			c->isr_bar = bar, c->isr_off = off, c->isr_len = blen;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			c->device_bar = bar, c->device_off = off, c->device_len = blen;
			break;
		}
		have[type] = true;
	}
	if (!have[VIRTIO_PCI_CAP_COMMON_CFG] || !have[VIRTIO_PCI_CAP_NOTIFY_CFG] ||
	    !have[VIRTIO_PCI_CAP_ISR_CFG] || c->common_len < COMMON_LEN_MIN ||
	    c->isr_len < 1)
		return KEEL_ENOENT;
	return 0;
}

/* ------------------------------------------------------------- registers - */

static uint8_t common_r8(struct virtio_pci *vp, unsigned off)
{
	return *(volatile uint8_t *)(vp->common + off);
}

static uint16_t common_r16(struct virtio_pci *vp, unsigned off)
{
	return *(volatile uint16_t *)(vp->common + off);
}

static uint32_t common_r32(struct virtio_pci *vp, unsigned off)
{
	return *(volatile uint32_t *)(vp->common + off);
}

static void common_w8(struct virtio_pci *vp, unsigned off, uint8_t v)
{
	*(volatile uint8_t *)(vp->common + off) = v;
}

static void common_w16(struct virtio_pci *vp, unsigned off, uint16_t v)
{
	*(volatile uint16_t *)(vp->common + off) = v;
}

static void common_w32(struct virtio_pci *vp, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(vp->common + off) = v;
}

/* 4.1.3.1: 64-bit fields as two 32-bit accesses, low half first. */
static void common_w64(struct virtio_pci *vp, unsigned off, uint64_t v)
{
	common_w32(vp, off, (uint32_t)v);
	common_w32(vp, off + 4, (uint32_t)(v >> 32));
}

uint8_t virtio_pci_status(struct virtio_pci *vp)
{
	return common_r8(vp, COMMON_STATUS);
}

void virtio_pci_set_status(struct virtio_pci *vp, uint8_t bits)
{
	common_w8(vp, COMMON_STATUS, (uint8_t)(virtio_pci_status(vp) | bits));
}

int virtio_pci_reset(struct virtio_pci *vp)
{
	common_w8(vp, COMMON_STATUS, 0);
	/* 4.1.4.3.2: the reset is done when status reads back 0. */
	for (unsigned us = 0; us < VIRTIO_RESET_TIMEOUT_US; us += 10) {
		if (virtio_pci_status(vp) == 0)
			return 0;
		time_udelay(10);
	}
	return KEEL_ETIMEDOUT;
}

static volatile uint8_t *virtio_pci_map(struct pci_dev *d, uint8_t bar,
					uint32_t off)
{
	uint8_t *base = pci_bar_map(d, bar);

	return base ? base + off : NULL;
}

int virtio_pci_open(struct virtio_pci *vp, struct pci_dev *d)
{
	struct virtio_pci_caps c;
	int r;

	memset(vp, 0, sizeof(*vp));
	vp->pci = d;
	r = virtio_pci_find_caps(d, &c);
	if (r)
		return r;
	pci_enable(d, true);
	vp->common = virtio_pci_map(d, c.common_bar, c.common_off);
	vp->notify = virtio_pci_map(d, c.notify_bar, c.notify_off);
	vp->isr = virtio_pci_map(d, c.isr_bar, c.isr_off);
	if (c.device_len)
		vp->device = virtio_pci_map(d, c.device_bar, c.device_off);
	if (!vp->common || !vp->notify || !vp->isr ||
	    (c.device_len && !vp->device))
		return KEEL_ENOMEM;
	vp->notify_len = c.notify_len;
	vp->notify_mult = c.notify_mult;
	vp->device_len = vp->device ? c.device_len : 0;
	/* 3.1.1 steps 1-3. */
	r = virtio_pci_reset(vp);
	if (r)
		return r;
	virtio_pci_set_status(vp, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_pci_set_status(vp, VIRTIO_STATUS_DRIVER);
	return 0;
}

int virtio_pci_negotiate(struct virtio_pci *vp, uint64_t wanted,
			 uint64_t required, uint64_t *accepted)
{
	uint64_t offered, acc;

	common_w32(vp, COMMON_DFSELECT, 0);
	offered = common_r32(vp, COMMON_DF);
	common_w32(vp, COMMON_DFSELECT, 1);
	offered |= (uint64_t)common_r32(vp, COMMON_DF) << 32;
	*accepted = 0;
	if ((offered & required) != required) {
		virtio_pci_set_status(vp, VIRTIO_STATUS_FAILED);
		return KEEL_ENOTSUP;
	}
	acc = offered & (wanted | required);
	common_w32(vp, COMMON_GFSELECT, 0);
	common_w32(vp, COMMON_GF, (uint32_t)acc);
	common_w32(vp, COMMON_GFSELECT, 1);
	common_w32(vp, COMMON_GF, (uint32_t)(acc >> 32));
	/* 3.1.1 steps 5-6: the device may still refuse the subset. */
	virtio_pci_set_status(vp, VIRTIO_STATUS_FEATURES_OK);
	if (!(virtio_pci_status(vp) & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_pci_set_status(vp, VIRTIO_STATUS_FAILED);
		return KEEL_EIO;
	}
	*accepted = acc;
	return 0;
}

int virtio_pci_queue_setup(struct virtio_pci *vp, unsigned index,
			   unsigned max_size, uint16_t msix_vector,
			   struct virtq *vq)
{
	unsigned size, order = 0;
	uint64_t pa, avail_off, used_off, total;
	uint32_t noff;
	uint8_t *mem;
	int r;

	if (index >= common_r16(vp, COMMON_NUMQ))
		return KEEL_ENOENT;
	common_w16(vp, COMMON_Q_SELECT, (uint16_t)index);
	size = common_r16(vp, COMMON_Q_SIZE);
	if (!size)
		return KEEL_ENOENT;
	if (size > max_size)
		size = max_size;
	/* 2.7: a split queue's size is a power of 2; a device that says
	 * otherwise gets the largest one below. */
	while (size & (size - 1))
		size &= size - 1;
	/* 2.7: descriptors 16-byte aligned, avail 2, used 4. */
	avail_off = ALIGN_UP(virtq_desc_bytes(size), 16);
	used_off = ALIGN_UP(avail_off + virtq_avail_bytes(size), 4);
	total = used_off + virtq_used_bytes(size);
	while ((PAGE_SIZE << order) < total)
		order++;
	pa = pmm_alloc(order, PMM_ZERO);
	if (!pa)
		return KEEL_ENOMEM;
	mem = phys_to_virt(pa);
	r = virtq_init(vq, size, mem, mem + avail_off, mem + used_off);
	if (r)
		goto fail;
	common_w16(vp, COMMON_Q_SIZE, (uint16_t)size);
	common_w64(vp, COMMON_Q_DESCLO, pa);
	common_w64(vp, COMMON_Q_AVAILLO, pa + avail_off);
	common_w64(vp, COMMON_Q_USEDLO, pa + used_off);
	common_w16(vp, COMMON_Q_MSIX, msix_vector);
	/* 4.1.5.1.2.1: read back; NO_VECTOR means the device refused. */
	if (msix_vector != VIRTIO_MSI_NO_VECTOR &&
	    common_r16(vp, COMMON_Q_MSIX) != msix_vector) {
		r = KEEL_EIO;
		goto fail;
	}
	noff = (uint32_t)common_r16(vp, COMMON_Q_NOFF) * vp->notify_mult;
	if ((uint64_t)noff + 2 > vp->notify_len) {
		r = KEEL_ECORRUPT;
		goto fail;
	}
	vq->index = (uint16_t)index;
	vq->notify = (volatile uint16_t *)(vp->notify + noff);
	common_w16(vp, COMMON_Q_ENABLE, 1);
	return 0;
fail:
	pmm_free(pa, order);
	return r;
}

int virtio_pci_config_vector(struct virtio_pci *vp, uint16_t msix_vector)
{
	common_w16(vp, COMMON_MSIX, msix_vector);
	if (msix_vector != VIRTIO_MSI_NO_VECTOR &&
	    common_r16(vp, COMMON_MSIX) != msix_vector)
		return KEEL_EIO;
	return 0;
}

void virtio_pci_notify(struct virtio_pci *vp, struct virtq *vq)
{
	/* 4.1.4.4.1: without VIRTIO_F_NOTIFICATION_DATA, the queue index. */
	*vq->notify = vq->index;
}

uint8_t virtio_pci_isr(struct virtio_pci *vp)
{
	return *vp->isr;
}

int virtio_pci_config_read(struct virtio_pci *vp, unsigned off, void *buf,
			   unsigned len)
{
	uint8_t gen, *out = buf;

	if (!vp->device || off > vp->device_len || len > vp->device_len - off)
		return KEEL_ERANGE;
	/* 2.5.1 / 4.1.3.1: field-sized accesses, repeated until the
	 * generation did not change under them. */
	do {
		gen = common_r8(vp, COMMON_CFGGENERATION);
		if (len == 2 && !(off & 1)) {
			uint16_t v = *(volatile uint16_t *)(vp->device + off);
			memcpy(out, &v, 2);
		} else if (len == 4 && !(off & 3)) {
			uint32_t v = *(volatile uint32_t *)(vp->device + off);
			memcpy(out, &v, 4);
		} else {
			for (unsigned i = 0; i < len; i++)
				out[i] = vp->device[off + i];
		}
	} while (gen != common_r8(vp, COMMON_CFGGENERATION));
	return 0;
}
