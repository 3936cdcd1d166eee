/*
 * pci.c - the host's PCI bus: configuration space through ECAM (ACPI MCFG)
 * or mechanism #1 (0xCF8/0xCFC), enumeration by following bridges from each
 * segment's first bus, BAR sizing and mapping, driver probing. Interrupts
 * are drivers/pci_irq.c's.
 *
 * One lock, pci_cf8_lock: the 0xCF8/0xCFC pair is one access.
 */
#include "drivers/pci.h"

#include <string.h>

#include "kernel/acpi.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "mm/mm.h"

#ifdef KEEL_HOST_TEST
/* Host unit tests simulate configuration space (tests/unit/test_pci.c). */
uint32_t pci_hw_mmio_read(const volatile void *p, unsigned size);
void pci_hw_mmio_write(volatile void *p, unsigned size, uint32_t v);
uint32_t pci_hw_port_read(uint16_t port, unsigned size);
void pci_hw_port_write(uint16_t port, unsigned size, uint32_t v);
#else
#include "kernel/arch/x86.h"

static inline uint32_t pci_hw_mmio_read(const volatile void *p, unsigned size)
{
	if (size == 1)
		return *(const volatile uint8_t *)p;
	if (size == 2)
		return *(const volatile uint16_t *)p;
	return *(const volatile uint32_t *)p;
}

static inline void pci_hw_mmio_write(volatile void *p, unsigned size, uint32_t v)
{
	if (size == 1)
		*(volatile uint8_t *)p = (uint8_t)v;
	else if (size == 2)
		*(volatile uint16_t *)p = (uint16_t)v;
	else
		*(volatile uint32_t *)p = v;
}

static inline uint32_t pci_hw_port_read(uint16_t port, unsigned size)
{
	if (size == 1)
		return inb(port);
	if (size == 2)
		return inw(port);
	return inl(port);
}

static inline void pci_hw_port_write(uint16_t port, unsigned size, uint32_t v)
{
	if (size == 1)
		outb(port, (uint8_t)v);
	else if (size == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}
#endif

/* Configuration space header, PCI Local Bus 3.0 6.1 (type 0) and PCI-to-PCI
 * Bridge 1.2 3.2 (type 1). */
#define PCI_VENDOR 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_CAP_PTR_CARDBUS 0x14
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBSYS_VENDOR 0x2C
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3C
#define PCI_INT_PIN 0x3D
#define PCI_CARDBUS_SUBSYS 0x40

#define PCI_CMD_IO (1u << 0)
#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_MASTER (1u << 2)
#define PCI_STATUS_CAP_LIST (1u << 4)
#define PCI_HEADER_MULTI 0x80

#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_TTL 48 /* at most (256 - 64) / 4 capabilities: a loop guard */

#define PCI_CF8_ADDR 0xCF8
#define PCI_CF8_DATA 0xCFC
#define PCI_CF8_ENABLE 0x80000000u

#define ECAM_BUS_BYTES (1ull << 20)

static struct pci_dev pci_devs[PCI_MAX_DEVICES];
static unsigned pci_ndevs;
static bool pci_full;
static struct pci_driver *pci_drivers;
static struct spinlock pci_cf8_lock = SPINLOCK_INIT;

/* ------------------------------------------------------------ pure part ---- */

unsigned pci_bar_decode(uint32_t lo, uint32_t hi, uint32_t lo_mask,
			uint32_t hi_mask, struct pci_bar *bar)
{
	memset(bar, 0, sizeof(*bar));
	if (lo & 1) {
		/* I/O: bits 1:0 are flags; a decoder of 16 bits reads the
		 * upper half back as 0, so the size is the lowest set bit. */
		uint32_t mask = lo_mask & ~3u;

		bar->io = true;
		bar->size = mask & (~mask + 1);
		bar->phys = bar->size ? (lo & ~3u) : 0;
		return 1;
	}
	bar->prefetch = (lo & 8) != 0;
	if (((lo >> 1) & 3) == 2) { /* 64-bit: this BAR and the next */
		uint64_t mask = ((uint64_t)hi_mask << 32) | (lo_mask & ~0xFu);

		bar->size = mask & (~mask + 1);
		bar->phys = bar->size ? (((uint64_t)hi << 32) | (lo & ~0xFu)) : 0;
		return 2;
	}
	/* 32-bit (type 00b) or below 1 MiB (01b, PCI 2.x): one dword. */
	uint32_t mask = lo_mask & ~0xFu;

	bar->size = mask & (~mask + 1);
	bar->phys = bar->size ? (lo & ~0xFu) : 0;
	return 1;
}

/* ---------------------------------------------------- configuration space - */

static bool pci_cfg_ok(const struct pci_dev *d, unsigned off, unsigned size)
{
	return off % size == 0 && off + size <= (d->ecam ? 4096u : 256u);
}

static uint32_t pci_cf8_address(const struct pci_dev *d, unsigned off)
{
	return PCI_CF8_ENABLE | (uint32_t)d->bus << 16 | (uint32_t)d->dev << 11 |
	       (uint32_t)d->fn << 8 | (off & 0xFC);
}

static uint32_t pci_cfg_read(const struct pci_dev *d, unsigned off,
			     unsigned size)
{
	uint64_t flags;
	uint32_t v;

	if (!pci_cfg_ok(d, off, size))
		return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
	if (d->ecam)
		return pci_hw_mmio_read((const uint8_t *)d->ecam + off, size);
	flags = spin_lock_irqsave(&pci_cf8_lock);
	pci_hw_port_write(PCI_CF8_ADDR, 4, pci_cf8_address(d, off));
	v = pci_hw_port_read(PCI_CF8_DATA + (off & 3), size);
	spin_unlock_irqrestore(&pci_cf8_lock, flags);
	return v;
}

static void pci_cfg_write(const struct pci_dev *d, unsigned off, unsigned size,
			  uint32_t val)
{
	uint64_t flags;

	if (!pci_cfg_ok(d, off, size))
		return;
	if (d->ecam) {
		pci_hw_mmio_write((uint8_t *)d->ecam + off, size, val);
		return;
	}
	flags = spin_lock_irqsave(&pci_cf8_lock);
	pci_hw_port_write(PCI_CF8_ADDR, 4, pci_cf8_address(d, off));
	pci_hw_port_write(PCI_CF8_DATA + (off & 3), size, val);
	spin_unlock_irqrestore(&pci_cf8_lock, flags);
}

uint32_t pci_cfg_read32(const struct pci_dev *d, unsigned off)
{
	return pci_cfg_read(d, off, 4);
}

uint16_t pci_cfg_read16(const struct pci_dev *d, unsigned off)
{
	return (uint16_t)pci_cfg_read(d, off, 2);
}

uint8_t pci_cfg_read8(const struct pci_dev *d, unsigned off)
{
	return (uint8_t)pci_cfg_read(d, off, 1);
}

void pci_cfg_write32(const struct pci_dev *d, unsigned off, uint32_t val)
{
	pci_cfg_write(d, off, 4, val);
}

void pci_cfg_write16(const struct pci_dev *d, unsigned off, uint16_t val)
{
	pci_cfg_write(d, off, 2, val);
}

void pci_cfg_write8(const struct pci_dev *d, unsigned off, uint8_t val)
{
	pci_cfg_write(d, off, 1, val);
}

unsigned pci_find_next_cap(const struct pci_dev *d, unsigned from, uint8_t id)
{
	unsigned ptr;

	if (!(pci_cfg_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	if (from)
		ptr = pci_cfg_read8(d, from + 1);
	else
		ptr = pci_cfg_read8(d, (d->header_type & 0x7F) == 2 ?
					       PCI_CAP_PTR_CARDBUS : PCI_CAP_PTR);
	/* PCI 3.0 6.7: pointers are dword aligned (bits 1:0 reserved) and
	 * past the header; a list that loops is cut by the TTL. */
	for (unsigned ttl = PCI_CAP_TTL; ttl && ptr; ttl--) {
		ptr &= 0xFC;
		if (ptr < 0x40)
			return 0;
		if (pci_cfg_read8(d, ptr) == id)
			return ptr;
		ptr = pci_cfg_read8(d, ptr + 1);
	}
	return 0;
}

unsigned pci_find_cap(const struct pci_dev *d, uint8_t id)
{
	return pci_find_next_cap(d, 0, id);
}

void pci_enable(struct pci_dev *d, bool bus_master)
{
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);

	cmd |= PCI_CMD_IO | PCI_CMD_MEM;
	if (bus_master)
		cmd |= PCI_CMD_MASTER;
	pci_cfg_write16(d, PCI_COMMAND, cmd);
}

void *pci_bar_map(struct pci_dev *d, unsigned bar)
{
	struct pci_bar *b;

	if (bar >= PCI_MAX_BARS)
		return NULL;
	b = &d->bars[bar];
	if (b->io || !b->phys || !b->size)
		return NULL;
	if (!b->virt)
		b->virt = mm_map_mmio(b->phys, b->size, PT_R | PT_W | PT_UC);
	return b->virt;
}

/* ----------------------------------------------------------- enumeration - */

/* Size every BAR with decoding off (PCI 3.0 6.2.5.1), so the all-ones
 * value in a BAR never claims addresses, then restore BARs and command. */
static void pci_size_bars(struct pci_dev *d, unsigned nbars)
{
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);

	pci_cfg_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	for (unsigned i = 0; i < nbars;) {
		unsigned off = PCI_BAR0 + 4 * i;
		uint32_t lo = pci_cfg_read32(d, off), hi = 0, lo_mask, hi_mask = 0;
		bool mem64 = !(lo & 1) && ((lo >> 1) & 3) == 2;

		pci_cfg_write32(d, off, 0xFFFFFFFFu);
		lo_mask = pci_cfg_read32(d, off);
		pci_cfg_write32(d, off, lo);
		if (mem64 && i + 1 >= nbars) {
			log_warn("pci: %04x:%02x:%02x.%u BAR%u is 64-bit in the last slot, ignored",
				 d->segment, d->bus, d->dev, d->fn, i);
			break;
		}
		if (mem64) {
			hi = pci_cfg_read32(d, off + 4);
			pci_cfg_write32(d, off + 4, 0xFFFFFFFFu);
			hi_mask = pci_cfg_read32(d, off + 4);
			pci_cfg_write32(d, off + 4, hi);
		}
		i += pci_bar_decode(lo, hi, lo_mask, hi_mask, &d->bars[i]);
	}
	pci_cfg_write16(d, PCI_COMMAND, cmd);
}

/* A name for the log line: the virtio device type, else the class. */
static const char *const pci_virtio_names[] = {
	[1] = "virtio-net",	[2] = "virtio-blk",   [3] = "virtio-console",
	[4] = "virtio-rng",	[5] = "virtio-balloon", [8] = "virtio-scsi",
	[9] = "virtio-9p",	[16] = "virtio-gpu",  [18] = "virtio-input",
	[19] = "virtio-vsock",
};

static const struct {
	uint8_t cls, sub; /* sub 0xFF: any */
	const char *name;
} pci_class_names[] = {
	{0x01, 0x01, "IDE"},	     {0x01, 0x06, "SATA"},
	{0x01, 0x08, "NVMe"},	     {0x01, 0xFF, "storage"},
	{0x02, 0x00, "ethernet"},    {0x02, 0xFF, "network"},
	{0x03, 0x00, "VGA"},	     {0x03, 0xFF, "display"},
	{0x04, 0xFF, "multimedia"},  {0x05, 0xFF, "memory"},
	{0x06, 0x00, "host bridge"}, {0x06, 0x01, "ISA bridge"},
	{0x06, 0x04, "PCI bridge"},  {0x06, 0xFF, "bridge"},
	{0x07, 0x00, "serial"},	     {0x07, 0xFF, "communication"},
	{0x08, 0xFF, "system"},	     {0x0C, 0x03, "USB"},
	{0x0C, 0x05, "SMBus"},	     {0x0C, 0xFF, "serial bus"},
};

static const char *pci_name(const struct pci_dev *d)
{
	unsigned type = 0;

	/* Virtio 1.2 4.1.2.1: 0x1040 + type (modern), or 0x1000-0x103F
	 * (transitional) with the type in the subsystem device id. */
	if (d->vendor == 0x1AF4 && d->device >= 0x1040 && d->device <= 0x107F)
		type = d->device - 0x1040;
	else if (d->vendor == 0x1AF4 && d->device >= 0x1000 && d->device <= 0x103F)
		type = d->subsys_device;
	if (type && type < sizeof(pci_virtio_names) / sizeof(pci_virtio_names[0]) &&
	    pci_virtio_names[type])
		return pci_virtio_names[type];
	if (type)
		return "virtio";
	for (size_t i = 0; i < sizeof(pci_class_names) / sizeof(pci_class_names[0]); i++)
		if (pci_class_names[i].cls == d->class_code &&
		    (pci_class_names[i].sub == 0xFF ||
		     pci_class_names[i].sub == d->subclass))
			return pci_class_names[i].name;
	return "device";
}

static void pci_add_function(const struct pci_dev *at)
{
	struct pci_dev *d;
	uint32_t v;

	if (pci_ndevs >= PCI_MAX_DEVICES) {
		if (!pci_full)
			log_warn("pci: more than %u functions, %04x:%02x:%02x.%u and later ignored",
				 PCI_MAX_DEVICES, at->segment, at->bus, at->dev,
				 at->fn);
		pci_full = true;
		return;
	}
	d = &pci_devs[pci_ndevs++];
	*d = *at;
	v = pci_cfg_read32(d, PCI_VENDOR);
	d->vendor = (uint16_t)v;
	d->device = (uint16_t)(v >> 16);
	v = pci_cfg_read32(d, PCI_REVISION);
	d->revision = (uint8_t)v;
	d->prog_if = (uint8_t)(v >> 8);
	d->subclass = (uint8_t)(v >> 16);
	d->class_code = (uint8_t)(v >> 24);
	d->header_type = pci_cfg_read8(d, PCI_HEADER_TYPE) & 0x7F;
	switch (d->header_type) {
	case 0:
		v = pci_cfg_read32(d, PCI_SUBSYS_VENDOR);
		pci_size_bars(d, 6);
		break;
	case 1:
		v = 0;
		pci_size_bars(d, 2);
		break;
	case 2:
		v = pci_cfg_read32(d, PCI_CARDBUS_SUBSYS);
		pci_size_bars(d, 1);
		break;
	default:
		v = 0;
		break;
	}
	d->subsys_vendor = (uint16_t)v;
	d->subsys_device = (uint16_t)(v >> 16);
	d->irq_line = pci_cfg_read8(d, PCI_INT_LINE);
	d->irq_pin = pci_cfg_read8(d, PCI_INT_PIN);
	d->msi_cap = (uint8_t)pci_find_cap(d, PCI_CAP_ID_MSI);
	d->msix_cap = (uint8_t)pci_find_cap(d, PCI_CAP_ID_MSIX);
	log_info("pci: %04x:%02x:%02x.%u %04x:%04x class %02x/%02x %s", d->segment,
		 d->bus, d->dev, d->fn, d->vendor, d->device, d->class_code,
		 d->subclass, pci_name(d));
	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		const struct pci_bar *b = &d->bars[i];

		if (b->size && !b->phys)
			log_warn("pci: %04x:%02x:%02x.%u BAR%u (%llu bytes) left unassigned by firmware",
				 d->segment, d->bus, d->dev, d->fn, i,
				 (unsigned long long)b->size);
		else if (b->size)
			log_debug("pci: %04x:%02x:%02x.%u BAR%u %s %#llx size %#llx%s",
				  d->segment, d->bus, d->dev, d->fn, i,
				  b->io ? "io" : "mem", (unsigned long long)b->phys,
				  (unsigned long long)b->size,
				  b->prefetch ? " prefetchable" : "");
	}
}

/* One segment's walk: ECAM (ecam_base != 0) or mechanism #1. */
struct pci_walk {
	uint16_t segment;
	uint64_t ecam_base;
	uint8_t bus_start, bus_end;
	uint8_t seen[256 / 8];
};

static struct pci_dev pci_at(const struct pci_walk *w, uint8_t *bus_ecam,
			     unsigned bus, unsigned dev, unsigned fn)
{
	struct pci_dev d = {
		.segment = w->segment, .bus = (uint8_t)bus, .dev = (uint8_t)dev,
		.fn = (uint8_t)fn,
	};

	/* PCIe 5.0 7.2.2: bus << 20 | device << 15 | function << 12. */
	if (bus_ecam)
		d.ecam = bus_ecam + ((dev << 15) | (fn << 12));
	return d;
}

static void pci_scan_bus(struct pci_walk *w, unsigned bus)
{
	uint8_t *bus_ecam = NULL;

	if (bus < w->bus_start || bus > w->bus_end ||
	    (w->seen[bus / 8] & (1u << (bus % 8))))
		return;
	w->seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
	if (w->ecam_base) {
		/* The MCFG base is that of bus 0 (PCI Firmware 3.0 4.1.2),
		 * even for a range starting at a later bus. */
		uint64_t pa = w->ecam_base + (uint64_t)bus * ECAM_BUS_BYTES;

		bus_ecam = mm_map_mmio(pa, ECAM_BUS_BYTES, PT_R | PT_W | PT_UC);
		if (!bus_ecam) {
			log_err("pci: cannot map ECAM of %04x:%02x at %#llx",
				w->segment, bus, (unsigned long long)pa);
			return;
		}
	}
	for (unsigned dev = 0; dev < 32 && !pci_full; dev++) {
		struct pci_dev f = pci_at(w, bus_ecam, bus, dev, 0);
		unsigned fns;

		if (pci_cfg_read16(&f, PCI_VENDOR) == 0xFFFF)
			continue;
		/* PCI 3.0 6.2.1: header type bit 7 says functions 1-7 may
		 * exist; without it they must not be probed. */
		fns = (pci_cfg_read8(&f, PCI_HEADER_TYPE) & PCI_HEADER_MULTI) ? 8 : 1;
		for (unsigned fn = 0; fn < fns && !pci_full; fn++) {
			unsigned secondary;

			f = pci_at(w, bus_ecam, bus, dev, fn);
			if (pci_cfg_read16(&f, PCI_VENDOR) == 0xFFFF)
				continue;
			pci_add_function(&f);
			if ((pci_cfg_read8(&f, PCI_HEADER_TYPE) & 0x7F) != 1)
				continue;
			/* A bridge: firmware numbered the buses below it. */
			secondary = pci_cfg_read8(&f, PCI_SECONDARY_BUS);
			if (secondary > bus)
				pci_scan_bus(w, secondary);
			else
				log_warn("pci: bridge %04x:%02x:%02x.%u has secondary bus %u, not followed",
					 w->segment, bus, dev, fn, secondary);
		}
	}
}

static bool pci_driver_matches(const struct pci_driver *drv,
			       const struct pci_dev *d)
{
	for (const struct pci_id *id = drv->ids; id && (id->vendor || id->device);
	     id++)
		if ((id->vendor == 0xFFFF || id->vendor == d->vendor) &&
		    (id->device == 0xFFFF || id->device == d->device))
			return true;
	return false;
}

static void pci_probe_all(void)
{
	for (unsigned i = 0; i < pci_ndevs; i++) {
		struct pci_dev *d = &pci_devs[i];

		for (struct pci_driver *drv = pci_drivers; drv; drv = drv->next) {
			int r;

			if (!pci_driver_matches(drv, d))
				continue;
			r = drv->probe(d);
			if (r == 0)
				break;
			log_warn("pci: %04x:%02x:%02x.%u: driver %s: %s, device skipped",
				 d->segment, d->bus, d->dev, d->fn, drv->name,
				 err_str(r));
		}
	}
}

void pci_register_driver(struct pci_driver *drv)
{
	struct pci_driver **p = &pci_drivers;

	/* Appended: the probe order is the registration order. */
	while (*p)
		p = &(*p)->next;
	drv->next = NULL;
	*p = drv;
}

void pci_init(void)
{
	pci_ndevs = 0;
	pci_full = false;
	if (acpi.mcfg_count) {
		for (unsigned i = 0; i < acpi.mcfg_count && i < ACPI_MAX_MCFG; i++) {
			const struct acpi_mcfg *m = &acpi.mcfg[i];
			struct pci_walk w = {
				.segment = m->segment, .ecam_base = m->base,
				.bus_start = m->bus_start, .bus_end = m->bus_end,
			};

			log_info("pci: segment %04x buses %02x-%02x ECAM at %#llx",
				 m->segment, m->bus_start, m->bus_end,
				 (unsigned long long)m->base);
			pci_scan_bus(&w, m->bus_start);
		}
	} else {
		struct pci_walk w = {.bus_start = 0, .bus_end = 255};

		log_info("pci: no MCFG table, configuration mechanism #1");
		pci_scan_bus(&w, 0);
	}
	log_info("pci: %u function(s)", pci_ndevs);
	pci_probe_all();
}

unsigned pci_device_count(void)
{
	return pci_ndevs;
}

struct pci_dev *pci_device(unsigned i)
{
	return i < pci_ndevs ? &pci_devs[i] : NULL;
}
