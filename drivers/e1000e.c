/*
 * e1000e.c - driver for the Intel 82574 GbE controller (QEMU's -device
 * e1000e): one receive and one transmit ring of legacy descriptors with
 * fixed 2 KiB DMA buffers, interrupts by MSI-X (rx, tx, other), MSI or INTx,
 * registered as a struct netdev. Register layout: drivers/e1000e_regs.h.
 *
 * Locks, never nested: tx_lock guards the transmit ring (irqsave, so that
 * a holder is not preempted while another thread on its CPU spins); rx_lock
 * makes one poller at a time drain the receive ring (spin_trylock only: a
 * poller that finds it taken leaves). The interrupt handler takes neither.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/e1000e.h"
#include "drivers/e1000e_regs.h"
#include "drivers/netdev.h"
#include "drivers/pci.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "mm/mm.h"

#define E1000E_RING_SIZE 256   /* descriptors per ring */
#define E1000E_BUF_SIZE 2048   /* bytes per rx and tx buffer */
#define E1000E_BUF_ORDER 7     /* pmm order of RING_SIZE buffers */
#define E1000E_FRAME_MIN 60    /* Ethernet minimum without FCS */
#define E1000E_FRAME_MAX 1522  /* with one VLAN tag, without FCS */
/* Receive descriptors one poll takes before it lets the consumer run. */
#define E1000E_RX_BUDGET (2 * E1000E_RING_SIZE)

_Static_assert(E1000E_RING_SIZE % E1000E_RING_ALIGN_DESCS == 0,
	       "RDLEN/TDLEN: a multiple of 128 bytes");
_Static_assert((PAGE_SIZE << E1000E_BUF_ORDER) ==
		       E1000E_RING_SIZE * E1000E_BUF_SIZE, "buffer order");
_Static_assert(E1000E_RING_SIZE * sizeof(struct e1000e_rx_desc) <= PAGE_SIZE,
	       "one page per ring");

struct e1000e {
	struct netdev nd;
	struct pci_dev *pci;
	char addr[16]; /* "0000:00:02.0", for messages */
	volatile uint8_t *regs;
	enum pci_irq_mode irq_mode;
	uint32_t ims; /* the causes we unmask */
	bool failed;  /* the device stopped answering (reads all ones) */
	bool link_logged;

	volatile struct e1000e_rx_desc *rx_ring;
	uint8_t *rx_buf;
	uint64_t rx_ring_pa, rx_buf_pa;
	struct spinlock rx_lock;
	unsigned rx_next;  /* next descriptor the device completes */
	bool rx_discard;   /* dropping the rest of a multi-descriptor frame */

	volatile struct e1000e_tx_desc *tx_ring;
	uint8_t *tx_buf;
	uint64_t tx_ring_pa, tx_buf_pa;
	struct spinlock tx_lock;
	unsigned tx_tail;  /* next descriptor to fill (TDT) */
	unsigned tx_clean; /* oldest descriptor not yet reclaimed */
};

static unsigned e1000e_count; /* devices registered: the next name's index */

static uint32_t e1000e_rd(struct e1000e *e, uint32_t reg)
{
	return *(volatile uint32_t *)(e->regs + reg);
}

static void e1000e_wr(struct e1000e *e, uint32_t reg, uint32_t val)
{
	/* x86 keeps stores in order, so descriptor writes reach memory
	 * before this doorbell; only the compiler has to be held back. */
	__asm__ volatile("" ::: "memory");
	*(volatile uint32_t *)(e->regs + reg) = val;
}

/* ---- Bring-up. ---- */

/* Poll reg until (value & mask) == want, for at most timeout_us. */
static bool e1000e_wait(struct e1000e *e, uint32_t reg, uint32_t mask,
			uint32_t want, uint64_t timeout_us)
{
	for (uint64_t waited = 0; waited <= timeout_us; waited += 10) {
		if ((e1000e_rd(e, reg) & mask) == want)
			return true;
		time_udelay(10);
	}
	return false;
}

/* Datasheet 4.6 (software initialization): mask interrupts, stop the
 * queues, reset the MAC (CTRL.RST, self-clearing), wait for the NVM
 * auto-read (EECD.AUTO_RD) that reloads the MAC address, mask again. */
static int e1000e_reset(struct e1000e *e)
{
	e1000e_wr(e, E1000E_IMC, 0xFFFFFFFF);
	e1000e_wr(e, E1000E_RCTL, 0);
	e1000e_wr(e, E1000E_TCTL, 0);
	(void)e1000e_rd(e, E1000E_STATUS); /* flush the posted writes */
	time_udelay(1000); /* let in-flight DMA finish */

	e1000e_wr(e, E1000E_CTRL, e1000e_rd(e, E1000E_CTRL) | E1000E_CTRL_RST);
	time_udelay(1000); /* 10.2.2.1: no access for 1 us after RST */
	if (!e1000e_wait(e, E1000E_CTRL, E1000E_CTRL_RST, 0, 100000))
		return KEEL_ETIMEDOUT;
	if ((e1000e_rd(e, E1000E_EECD) & E1000E_EECD_PRES) &&
	    !e1000e_wait(e, E1000E_EECD, E1000E_EECD_AUTO_RD,
			 E1000E_EECD_AUTO_RD, 10000))
		log_warn("e1000e: %s: NVM auto-read not done after reset",
			 e->addr);

	e1000e_wr(e, E1000E_IMC, 0xFFFFFFFF);
	e1000e_wr(e, E1000E_ICR, e1000e_rd(e, E1000E_ICR)); /* drop stale */
	return 0;
}

/* One NVM word through EERD (10.2.2.4). */
static int e1000e_eeprom_read(struct e1000e *e, unsigned addr, uint16_t *val)
{
	e1000e_wr(e, E1000E_EERD, e1000e_eerd_start(addr));
	if (!e1000e_wait(e, E1000E_EERD, E1000E_EERD_DONE, E1000E_EERD_DONE,
			 10000))
		return KEEL_ETIMEDOUT;
	*val = (uint16_t)(e1000e_rd(e, E1000E_EERD) >> E1000E_EERD_DATA_SHIFT);
	return 0;
}

/* The station address: RAL0/RAH0 as the NVM auto-read left them, else NVM
 * words 0-2 (then written to RAL0/RAH0, which the receive filter uses). */
static int e1000e_read_mac(struct e1000e *e)
{
	uint16_t words[3];
	uint32_t ral, rah;

	if (e1000e_mac_from_ra(e1000e_rd(e, E1000E_RAL0),
			       e1000e_rd(e, E1000E_RAH0), e->nd.mac))
		return 0;
	for (unsigned i = 0; i < 3; i++) {
		int err = e1000e_eeprom_read(e, i, &words[i]);
		if (err)
			return err;
	}
	if (!e1000e_mac_from_eeprom(words, e->nd.mac))
		return KEEL_ENOENT;
	e1000e_mac_to_ra(e->nd.mac, &ral, &rah);
	e1000e_wr(e, E1000E_RAL0, ral);
	e1000e_wr(e, E1000E_RAH0, rah);
	return 0;
}

/* Link: the MAC follows the PHY's auto-negotiated speed and duplex
 * (CTRL.SLU with ASDE, no forced values; 10.2.2.1); the LSC interrupt
 * reports changes. */
static void e1000e_link_setup(struct e1000e *e)
{
	uint32_t ctrl = e1000e_rd(e, E1000E_CTRL);

	ctrl |= E1000E_CTRL_SLU | E1000E_CTRL_ASDE;
	ctrl &= ~(E1000E_CTRL_FRCSPD | E1000E_CTRL_FRCDPX | E1000E_CTRL_ILOS |
		  E1000E_CTRL_VME | E1000E_CTRL_PHY_RST | E1000E_CTRL_RST);
	e1000e_wr(e, E1000E_CTRL, ctrl);

	/* Driver loaded; no interrupt auto-masking (the handler acks by
	 * writing ICR itself). */
	uint32_t ext = e1000e_rd(e, E1000E_CTRL_EXT);
	ext |= E1000E_CTRL_EXT_DRV_LOAD;
	ext &= ~(E1000E_CTRL_EXT_IAME | E1000E_CTRL_EXT_EIAME |
		 E1000E_CTRL_EXT_PBA_CLR);
	e1000e_wr(e, E1000E_CTRL_EXT, ext);
	e1000e_wr(e, E1000E_IAM, 0);
	e1000e_wr(e, E1000E_EIAC, 0);
}

static int e1000e_alloc(struct e1000e *e)
{
	e->rx_ring_pa = pmm_alloc_page(PMM_ZERO);
	e->tx_ring_pa = pmm_alloc_page(PMM_ZERO);
	e->rx_buf_pa = pmm_alloc(E1000E_BUF_ORDER, 0);
	e->tx_buf_pa = pmm_alloc(E1000E_BUF_ORDER, PMM_ZERO);
	if (!e->rx_ring_pa || !e->tx_ring_pa || !e->rx_buf_pa || !e->tx_buf_pa)
		return KEEL_ENOMEM;
	e->rx_ring = phys_to_virt(e->rx_ring_pa);
	e->tx_ring = phys_to_virt(e->tx_ring_pa);
	e->rx_buf = phys_to_virt(e->rx_buf_pa);
	e->tx_buf = phys_to_virt(e->tx_buf_pa);
	return 0;
}

static void e1000e_free(struct e1000e *e)
{
	if (e->rx_ring_pa)
		pmm_free_page(e->rx_ring_pa);
	if (e->tx_ring_pa)
		pmm_free_page(e->tx_ring_pa);
	if (e->rx_buf_pa)
		pmm_free(e->rx_buf_pa, E1000E_BUF_ORDER);
	if (e->tx_buf_pa)
		pmm_free(e->tx_buf_pa, E1000E_BUF_ORDER);
	kfree(e);
}

/* Receive (7.1): every descriptor gets its own buffer; the device owns
 * [RDH, RDT), so RDT = last index hands it all but one. Legacy descriptors
 * (RFCTL.EXSTEN clear), CRC stripped. */
static void e1000e_rx_setup(struct e1000e *e)
{
	for (unsigned i = 0; i < E1000E_RING_SIZE; i++) {
		e->rx_ring[i].addr = e->rx_buf_pa + (uint64_t)i * E1000E_BUF_SIZE;
		e->rx_ring[i].status = 0;
	}
	e->rx_next = 0;
	e1000e_wr(e, E1000E_RDBAL, (uint32_t)e->rx_ring_pa);
	e1000e_wr(e, E1000E_RDBAH, (uint32_t)(e->rx_ring_pa >> 32));
	e1000e_wr(e, E1000E_RDLEN,
		  E1000E_RING_SIZE * sizeof(struct e1000e_rx_desc));
	e1000e_wr(e, E1000E_RDH, 0);
	e1000e_wr(e, E1000E_RDT, 0);
	e1000e_wr(e, E1000E_RFCTL,
		  e1000e_rd(e, E1000E_RFCTL) & ~E1000E_RFCTL_EXSTEN);
	e1000e_wr(e, E1000E_RDTR, 0); /* interrupt per frame, no delay timer */
	/* PBA keeps its reset split of the packet buffer: frames are at most
	 * 1522 bytes (RCTL.LPE clear). */
	for (unsigned i = 0; i < E1000E_MTA_COUNT; i++)
		e1000e_wr(e, E1000E_MTA + 4 * i, 0);
	e1000e_wr(e, E1000E_RCTL, e1000e_rctl_compose(E1000E_BUF_SIZE));
	e1000e_wr(e, E1000E_RDT, E1000E_RING_SIZE - 1);
}

/* Transmit (7.2): one buffer per descriptor, frames copied in. */
static void e1000e_tx_setup(struct e1000e *e)
{
	for (unsigned i = 0; i < E1000E_RING_SIZE; i++)
		e->tx_ring[i].addr = e->tx_buf_pa + (uint64_t)i * E1000E_BUF_SIZE;
	e->tx_tail = e->tx_clean = 0;
	e1000e_wr(e, E1000E_TDBAL, (uint32_t)e->tx_ring_pa);
	e1000e_wr(e, E1000E_TDBAH, (uint32_t)(e->tx_ring_pa >> 32));
	e1000e_wr(e, E1000E_TDLEN,
		  E1000E_RING_SIZE * sizeof(struct e1000e_tx_desc));
	e1000e_wr(e, E1000E_TDH, 0);
	e1000e_wr(e, E1000E_TDT, 0);
	e1000e_wr(e, E1000E_TIPG, E1000E_TIPG_COPPER);
	e1000e_wr(e, E1000E_TARC0,
		  e1000e_rd(e, E1000E_TARC0) | E1000E_TARC_ENABLE);
	e1000e_wr(e, E1000E_TCTL, e1000e_tctl_compose());
}

/* ---- Interrupts. ---- */

/* Every vector lands here. Ack the causes by writing them back to ICR:
 * reading clears ICR only outside MSI-X mode (10.2.4.1), and a cause left
 * set is not signalled again. Then let the poller do the work. */
static void e1000e_irq(void *ctx, unsigned index)
{
	struct e1000e *e = ctx;
	uint32_t icr = e1000e_rd(e, E1000E_ICR);

	if (icr == 0xFFFFFFFF) { /* the device is gone */
		e->failed = true;
		e->nd.link_up = false;
		netdev_notify(&e->nd);
		return;
	}
	if (icr == 0 && e->irq_mode == PCI_IRQ_INTX)
		return; /* a shared line: another device's */
	if (icr)
		e1000e_wr(e, E1000E_ICR, icr);
	if (icr & E1000E_ICR_LSC)
		e->nd.link_up = (e1000e_rd(e, E1000E_STATUS) &
				 E1000E_STATUS_LU) != 0;
	netdev_notify(&e->nd);
}

/* Returns the number of vectors, or a KEEL_E*. */
static int e1000e_irq_setup(struct e1000e *e)
{
	int n = pci_irq_setup(e->pci, E1000E_MSIX_VECTORS, e1000e_irq, e,
			      &e->irq_mode);
	if (n < 0)
		return n;
	if (e->irq_mode == PCI_IRQ_MSIX) {
		/* 10.2.4.9: each cause names its MSI-X vector in IVAR. */
		unsigned vecs = n > E1000E_MSIX_VECTORS ? E1000E_MSIX_VECTORS
							: (unsigned)n;
		e1000e_wr(e, E1000E_IVAR, e1000e_ivar_encode(vecs));
		e->ims = E1000E_IMS_MSIX;
		return (int)vecs;
	}
	e->ims = E1000E_IMS_LEGACY;
	return n;
}

/* ---- Data path. ---- */

/* Free transmit descriptors the device has written back (DD). */
static void e1000e_tx_reclaim(struct e1000e *e)
{
	while (e->tx_clean != e->tx_tail) {
		volatile struct e1000e_tx_desc *d = &e->tx_ring[e->tx_clean];
		if (!(d->status & E1000E_TXD_STAT_DD))
			break;
		d->status = 0;
		e->tx_clean = e1000e_ring_next(e->tx_clean, E1000E_RING_SIZE);
	}
}

static int e1000e_xmit(struct netdev *nd, const void *frame, size_t len)
{
	struct e1000e *e = nd->priv;

	if (e->failed)
		return KEEL_EIO;
	if (len == 0 || len > E1000E_FRAME_MAX) {
		nd->tx_dropped++;
		return KEEL_EINVAL;
	}

	uint64_t flags = spin_lock_irqsave(&e->tx_lock);
	if (e1000e_ring_space(e->tx_clean, e->tx_tail, E1000E_RING_SIZE) == 0)
		e1000e_tx_reclaim(e);
	if (e1000e_ring_space(e->tx_clean, e->tx_tail, E1000E_RING_SIZE) == 0) {
		spin_unlock_irqrestore(&e->tx_lock, flags);
		return KEEL_EBUSY;
	}

	unsigned i = e->tx_tail;
	uint8_t *buf = e->tx_buf + (size_t)i * E1000E_BUF_SIZE;
	memcpy(buf, frame, len);
	if (len < E1000E_FRAME_MIN) {
		memset(buf + len, 0, E1000E_FRAME_MIN - len);
		len = E1000E_FRAME_MIN;
	}
	volatile struct e1000e_tx_desc *d = &e->tx_ring[i];
	d->addr = e->tx_buf_pa + (uint64_t)i * E1000E_BUF_SIZE;
	d->length = (uint16_t)len;
	d->cso = 0;
	d->css = 0;
	d->special = 0;
	d->status = 0;
	d->cmd = E1000E_TXD_CMD_EOP | E1000E_TXD_CMD_IFCS | E1000E_TXD_CMD_RS;
	e->tx_tail = e1000e_ring_next(i, E1000E_RING_SIZE);
	e1000e_wr(e, E1000E_TDT, e->tx_tail);
	nd->tx_frames++;
	spin_unlock_irqrestore(&e->tx_lock, flags);
	return 0;
}

/* Hand completed receive descriptors (DD) to the stack, at most budget of
 * them (*done says how many), and give them back to the device. Returns
 * the frames delivered. Called with rx_lock held. */
static unsigned e1000e_rx_drain(struct e1000e *e, unsigned budget,
				unsigned *done_out)
{
	unsigned frames = 0, done = 0;
	unsigned i = e->rx_next;

	while (done < budget) {
		volatile struct e1000e_rx_desc *d = &e->rx_ring[i];
		uint8_t status = d->status;

		if (!(status & E1000E_RXD_STAT_DD))
			break;
		/* The length, errors and the buffer are valid once DD is
		 * seen (x86 keeps loads in order; hold the compiler). */
		__asm__ volatile("" ::: "memory");
		uint16_t len = d->length;
		bool eop = status & E1000E_RXD_STAT_EOP;
		bool bad = e->rx_discard || !eop ||
			   (d->errors & E1000E_RXD_ERR_FRAME) || len < 14 ||
			   len > E1000E_BUF_SIZE;

		if (bad) {
			/* A frame longer than one buffer cannot happen with
			 * RCTL.LPE clear; drop it to its EOP if it does. */
			if (eop)
				e->nd.rx_dropped++;
			e->rx_discard = !eop;
		} else {
			/* Counted in rx_frames by netdev_deliver. */
			netdev_deliver(&e->nd, e->rx_buf +
					       (size_t)i * E1000E_BUF_SIZE, len);
			frames++;
		}
		d->addr = e->rx_buf_pa + (uint64_t)i * E1000E_BUF_SIZE;
		d->status = 0;
		i = e1000e_ring_next(i, E1000E_RING_SIZE);
		done++;
	}
	if (done) {
		__atomic_store_n(&e->rx_next, i, __ATOMIC_RELEASE);
		/* Everything up to the one before i is free again. */
		e1000e_wr(e, E1000E_RDT, e1000e_ring_prev(i, E1000E_RING_SIZE));
	}
	*done_out = done;
	return frames;
}

/* One poller at a time drains the receive ring; one that finds it taken
 * leaves, and the holder looks again after unlocking, so a frame that
 * completed meanwhile is not left behind. */
static unsigned e1000e_rx_poll(struct e1000e *e)
{
	unsigned frames = 0, budget = E1000E_RX_BUDGET;

	for (;;) {
		if (!spin_trylock(&e->rx_lock))
			return frames;
		unsigned done;
		frames += e1000e_rx_drain(e, budget, &done);
		budget -= done;
		spin_unlock(&e->rx_lock);

		unsigned next = __atomic_load_n(&e->rx_next, __ATOMIC_ACQUIRE);
		if (!(e->rx_ring[next].status & E1000E_RXD_STAT_DD))
			return frames;
		if (budget == 0) {
			/* More is waiting: have the consumer come back. */
			netdev_notify(&e->nd);
			return frames;
		}
	}
}

static void e1000e_link_report(struct e1000e *e)
{
	bool up = e->nd.link_up;

	if (up != e->link_logged) {
		e->link_logged = up;
		netdev_link_report(&e->nd, up);
	}
}

static unsigned e1000e_poll(struct netdev *nd)
{
	struct e1000e *e = nd->priv;

	uint64_t flags = spin_lock_irqsave(&e->tx_lock);
	e1000e_tx_reclaim(e);
	spin_unlock_irqrestore(&e->tx_lock, flags);
	e1000e_link_report(e);
	return e1000e_rx_poll(e);
}

static const struct netdev_ops e1000e_ops = {
	.xmit = e1000e_xmit,
	.poll = e1000e_poll,
};

/* ---- Probe. ---- */

static int e1000e_start(struct e1000e *e)
{
	int err;

	if (e1000e_rd(e, E1000E_STATUS) == 0xFFFFFFFF) {
		log_err("e1000e: %s: device does not respond", e->addr);
		return KEEL_EIO;
	}
	err = e1000e_reset(e);
	if (err) {
		log_err("e1000e: %s: reset timed out", e->addr);
		return err;
	}
	err = e1000e_read_mac(e);
	if (err) {
		log_err("e1000e: %s: no MAC address (%s)", e->addr,
			err_str(err));
		return err;
	}
	err = e1000e_alloc(e);
	if (err) {
		log_err("e1000e: %s: no memory for the rings", e->addr);
		return err;
	}
	e1000e_link_setup(e);
	e1000e_rx_setup(e);
	e1000e_tx_setup(e);
	return 0;
}

static void e1000e_stop(struct e1000e *e)
{
	e1000e_wr(e, E1000E_IMC, 0xFFFFFFFF);
	e1000e_wr(e, E1000E_RCTL, 0);
	e1000e_wr(e, E1000E_TCTL, 0);
}

static int e1000e_probe(struct pci_dev *d)
{
	struct e1000e *e = kzalloc(sizeof(*e));
	int err;

	if (!e)
		return KEEL_ENOMEM;
	e->pci = d;
	e->rx_lock = (struct spinlock)SPINLOCK_INIT;
	e->tx_lock = (struct spinlock)SPINLOCK_INIT;
	snprintf(e->addr, sizeof(e->addr), "%04x:%02x:%02x.%x", d->segment,
		 d->bus, d->dev, d->fn);

	pci_enable(d, true);
	e->regs = pci_bar_map(d, 0);
	if (!e->regs) {
		log_err("e1000e: %s: BAR0 is not mapped", e->addr);
		kfree(e);
		return KEEL_ENOENT;
	}
	err = e1000e_start(e);
	if (err) {
		e1000e_stop(e);
		e1000e_free(e);
		return err;
	}
	int vecs = e1000e_irq_setup(e);
	if (vecs < 0) {
		log_err("e1000e: %s: no interrupt (%s)", e->addr, err_str(vecs));
		e1000e_stop(e);
		e1000e_free(e);
		return vecs;
	}

	snprintf(e->nd.name, sizeof(e->nd.name), "e1000e%u", e1000e_count);
	e->nd.ops = &e1000e_ops;
	e->nd.priv = e;
	e->nd.link_up = (e1000e_rd(e, E1000E_STATUS) & E1000E_STATUS_LU) != 0;
	e->link_logged = e->nd.link_up;
	d->driver_data = e;
	log_info("e1000e: %s %s: rx %u tx %u descriptors, %s, %d vector(s)",
		 e->addr, e->nd.name, E1000E_RING_SIZE, E1000E_RING_SIZE,
		 e->irq_mode == PCI_IRQ_MSIX  ? "MSI-X"
		 : e->irq_mode == PCI_IRQ_MSI ? "MSI"
					      : "INTx",
		 vecs);
	err = netdev_register(&e->nd);
	if (err) {
		/* The vectors stay pointed at e: keep it, quiet. */
		log_err("e1000e: %s: %s not registered (%s)", e->addr,
			e->nd.name, err_str(err));
		e1000e_stop(e);
		pci_irq_mask(d, true);
		return err;
	}
	e1000e_count++;
	/* Unmask last: a link change since the STATUS read above is still
	 * pending in ICR and interrupts now. */
	e1000e_wr(e, E1000E_IMS, e->ims);
	return 0;
}

static const struct pci_id e1000e_ids[] = {
	{0x8086, 0x10D3}, /* 82574L (QEMU's e1000e) */
	{0x8086, 0x10F6}, /* 82574LA */
	{0, 0},
};

static struct pci_driver e1000e_driver = {
	.name = "e1000e",
	.ids = e1000e_ids,
	.probe = e1000e_probe,
};

void e1000e_register(void)
{
	pci_register_driver(&e1000e_driver);
}
