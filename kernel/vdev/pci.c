/*
 * pci.c - PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2)
 * over a table of configuration spaces on bus 0, the i440FX host bridge at
 * 00:00.0, and the Reset Control Register at 0xCF9 (PIIX3 datasheet 2.2.9,
 * ICH "RST_CNT"). Pure: a reset request goes back to the caller.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/vdev/pci.h"

#define PCI_ADDR_ENABLE 0x80000000u
#define PCI_ADDR_MASK 0x80FFFFFCu /* enable, bus, device, function, register;
				      bits 30:24 and 1:0 read as 0 */
#define PCI_CMD_WRITABLE 0x0547	  /* I/O, MEM, MASTER, PARITY, SERR, INTX_DIS */
#define PCI_STATUS_W1C 0xF900	  /* DPE SSE RMA RTA STA, master data parity */
#define PCI_STATUS_FAST_B2B 0x0080
#define PCI_STATUS_DEVSEL_MEDIUM 0x0200
#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04
#define RCR_FULL_RST 0x08
#define I440FX_VENDOR 0x8086
#define I440FX_DEVICE 0x1237
#define I440FX_REVISION 0x02
#define CLASS_HOST_BRIDGE 0x060000

static uint32_t pci_all_ones(uint8_t size)
{
	return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

void vpci_config_set(struct vpci_dev *d, unsigned off, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size && off + i < VPCI_CONFIG_SIZE; i++)
		d->config[off + i] = (uint8_t)(val >> 8 * i);
}

uint32_t vpci_config_get(const struct vpci_dev *d, unsigned off, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size && off + i < VPCI_CONFIG_SIZE; i++)
		v |= (uint32_t)d->config[off + i] << 8 * i;
	return v;
}

static void pci_mask_set(uint8_t *mask, unsigned off, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size; i++)
		mask[off + i] = (uint8_t)(val >> 8 * i);
}

void vpci_dev_init(struct vpci_dev *d, uint16_t vendor, uint16_t device,
		   uint32_t class_code, uint8_t revision)
{
	memset(d, 0, sizeof(*d));
	vpci_config_set(d, VPCI_VENDOR_ID, 2, vendor);
	vpci_config_set(d, VPCI_DEVICE_ID, 2, device);
	vpci_config_set(d, VPCI_REVISION, 1, revision);
	vpci_config_set(d, VPCI_CLASS_PROG, 3, class_code);
	vpci_config_set(d, VPCI_HEADER_TYPE, 1, 0x00);
	pci_mask_set(d->wmask, VPCI_COMMAND, 2, PCI_CMD_WRITABLE);
	pci_mask_set(d->w1cmask, VPCI_STATUS, 2, PCI_STATUS_W1C);
}

void vpci_reset(struct vpci *p)
{
	p->config_address = 0;
	p->rcr = 0;
	vpci_dev_init(&p->host_bridge, I440FX_VENDOR, I440FX_DEVICE,
		      CLASS_HOST_BRIDGE, I440FX_REVISION);
	/* 82441FX: fast back-to-back capable, medium DEVSEL timing. */
	vpci_config_set(&p->host_bridge, VPCI_STATUS, 2,
			PCI_STATUS_FAST_B2B | PCI_STATUS_DEVSEL_MEDIUM);
}

void vpci_init(struct vpci *p)
{
	memset(p, 0, sizeof(*p));
	vpci_reset(p);
	p->dev[0] = &p->host_bridge;
}

int vpci_add_device(struct vpci *p, unsigned devfn, struct vpci_dev *d)
{
	if (devfn >= VPCI_DEVFNS || !d)
		return KEEL_EINVAL;
	if (p->dev[devfn])
		return KEEL_EEXIST;
	p->dev[devfn] = d;
	return 0;
}

/* The device CONFIG_ADDRESS selects, or NULL (disabled, another bus,
 * nothing there). */
static struct vpci_dev *pci_selected(const struct vpci *p)
{
	uint32_t a = p->config_address;

	if (!(a & PCI_ADDR_ENABLE) || ((a >> 16) & 0xFF) != 0)
		return NULL;
	return p->dev[(a >> 8) & 0xFF];
}

static void pci_config_write(struct vpci_dev *d, unsigned off, unsigned size,
			     uint32_t val)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(val >> 8 * i);
		uint8_t c = d->config[o];

		c = (uint8_t)((c & ~d->wmask[o]) | (b & d->wmask[o]));
		c &= (uint8_t)~(b & d->w1cmask[o]);
		d->config[o] = c;
	}
	if (d->config_written)
		d->config_written(d, off, size);
}

/* CONFIG_DATA at 0xCFC + lane: the bytes of the selected register from
 * lane on, as far as the dword goes. */
static void pci_data(struct vpci *p, unsigned lane, uint8_t size, bool in,
		     uint32_t *val)
{
	struct vpci_dev *d = pci_selected(p);
	unsigned off = (p->config_address & 0xFC) + lane;
	unsigned n = lane + size > 4 ? 4 - lane : size;

	if (in) {
		/* Nobody claims the cycle: master abort, all ones. */
		*val = pci_all_ones(size);
		if (d)
			*val = (*val & ~pci_all_ones((uint8_t)n)) |
			       vpci_config_get(d, off, n);
		return;
	}
	if (d)
		pci_config_write(d, off, n, *val);
}

int vpci_io(struct vpci *p, uint16_t port, uint8_t size, bool in, uint32_t *val,
	    bool *reset)
{
	*reset = false;
	if (port < VPCI_PORT_ADDR || port > VPCI_PORT_DATA + 3 ||
	    (size != 1 && size != 2 && size != 4)) {
		if (in)
			*val = pci_all_ones(size);
		return port < VPCI_PORT_ADDR || port > VPCI_PORT_DATA + 3 ?
			       KEEL_ENOENT : KEEL_EINVAL;
	}
	if (port >= VPCI_PORT_DATA) {
		pci_data(p, port - VPCI_PORT_DATA, size, in, val);
		return 0;
	}
	if (port == VPCI_PORT_ADDR && size == 4) {
		if (in)
			*val = p->config_address;
		else
			p->config_address = *val & PCI_ADDR_MASK;
		return 0;
	}
	if (port == VPCI_PORT_RCR && size == 1) {
		if (in) {
			*val = p->rcr;
		} else {
			p->rcr = (uint8_t)(*val & (RCR_SYS_RST | RCR_FULL_RST));
			if (*val & RCR_RST_CPU)
				*reset = true;
		}
		return 0;
	}
	if (in)
		*val = pci_all_ones(size);
	return 0;
}
