/*
 * pci.h - the host's PCI bus as Keel's drivers see it: devices found by
 * enumeration (ECAM from the ACPI MCFG table, else configuration mechanism
 * #1 at 0xCF8/0xCFC), their BARs sized and mapped, and interrupts set up as
 * MSI-X, else MSI, else INTx through the IOAPIC (drivers/pci.c).
 *
 * Drivers register a struct pci_driver; pci_init() enumerates once at boot
 * and calls each driver's probe for the devices it matches.
 */
#ifndef KEEL_DRIVERS_PCI_H
#define KEEL_DRIVERS_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 64
#define PCI_MAX_BARS 6

struct pci_bar {
	uint64_t phys;	/* 0: not implemented */
	uint64_t size;
	bool io;	/* an I/O port BAR: phys is the port */
	bool prefetch;
	void *virt;	/* mapped uncached by pci_bar_map, or NULL */
};

struct pci_dev {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t irq_line, irq_pin; /* INTx: from config space / ACPI */
	struct pci_bar bars[PCI_MAX_BARS];
	uint8_t msi_cap, msix_cap; /* capability offsets, 0: none */
	void *ecam;		   /* this function's 4 KiB of ECAM, or NULL */
	void *driver_data;
};

/* Configuration space, any offset 0-4095 with ECAM, 0-255 without. */
uint32_t pci_cfg_read32(const struct pci_dev *d, unsigned off);
uint16_t pci_cfg_read16(const struct pci_dev *d, unsigned off);
uint8_t pci_cfg_read8(const struct pci_dev *d, unsigned off);
void pci_cfg_write32(const struct pci_dev *d, unsigned off, uint32_t val);
void pci_cfg_write16(const struct pci_dev *d, unsigned off, uint16_t val);
void pci_cfg_write8(const struct pci_dev *d, unsigned off, uint8_t val);
/* Offset of a capability with this id in the standard list, or 0. */
unsigned pci_find_cap(const struct pci_dev *d, uint8_t id);

/* Memory space, I/O space and bus mastering on (command register). */
void pci_enable(struct pci_dev *d, bool bus_master);
/* Map a memory BAR uncached; NULL for an I/O or absent BAR. */
void *pci_bar_map(struct pci_dev *d, unsigned bar);

/* Interrupts. The handler runs in interrupt context on the CPU the vector
 * was routed to. pci_irq_setup tries MSI-X (vectors: how many are wanted;
 * entry i gets handler(i)), then MSI (one vector), then INTx (shared, one);
 * returns how many vectors were set up (>= 1) or a negative KEEL_E*.
 * *mode says which it got. */
enum pci_irq_mode { PCI_IRQ_NONE = 0, PCI_IRQ_MSIX, PCI_IRQ_MSI, PCI_IRQ_INTX };
typedef void (*pci_irq_fn)(void *ctx, unsigned index);
int pci_irq_setup(struct pci_dev *d, unsigned vectors, pci_irq_fn fn, void *ctx,
		  enum pci_irq_mode *mode);
/* Mask or unmask every vector of the device (MSI-X function mask, MSI mask
 * bits when present, INTx disable). */
void pci_irq_mask(struct pci_dev *d, bool masked);

struct pci_id {
	uint16_t vendor, device; /* 0xFFFF: any */
};

struct pci_driver {
	const char *name;
	const struct pci_id *ids; /* ends with {0, 0} */
	/* 0 when the driver took the device, else a KEEL_E* (logged). */
	int (*probe)(struct pci_dev *d);
	struct pci_driver *next;
};

void pci_register_driver(struct pci_driver *drv);
/* Boot, after ACPI, the IOAPICs and SMP: enumerate, log every function
 * ("pci: 0000:00:02.0 1af4:1041 class 02/00 virtio-net"), probe drivers. */
void pci_init(void);
unsigned pci_device_count(void);
struct pci_dev *pci_device(unsigned i);

#endif
