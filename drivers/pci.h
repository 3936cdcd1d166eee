/*
 * pci.h - the host's PCI bus as Keel's drivers see it: devices found by
 * enumeration (ECAM from the ACPI MCFG table, else configuration mechanism
 * #1 at 0xCF8/0xCFC), their BARs sized and mapped, and interrupts set up as
 * MSI-X, else MSI, else INTx through the IOAPIC (drivers/pci.c,
 * drivers/pci_irq.c).
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
#define PCI_MAX_VECTORS 8 /* MSI-X vectors one device may get */

/* IDT vectors pci_irq_setup hands out, all on CPU 0 (the management
 * thread's CPU). 0x20-0x2F are the masked 8259s' (kernel/trap.c), 0x30-0x3F
 * are left for ISA IRQs (ioapic_route_isa), 0xF0 and up are Keel's own
 * (kernel/apic.h VEC_*). */
#define PCI_VEC_FIRST 0x40
#define PCI_VEC_LAST 0xDF

enum pci_irq_mode { PCI_IRQ_NONE = 0, PCI_IRQ_MSIX, PCI_IRQ_MSI, PCI_IRQ_INTX };

struct pci_bar {
	uint64_t phys;	/* 0: not implemented, or unassigned (size != 0) */
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
	uint8_t header_type;	   /* bits 6:0 of config offset 0x0E */
	/* pci_irq_setup's bookkeeping, for pci_irq_mask. */
	enum pci_irq_mode irq_mode;
	unsigned irq_count;
	uint8_t irq_vector[PCI_MAX_VECTORS];
	uint32_t irq_gsi;	   /* INTx */
	volatile uint32_t *msix_table;
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
/* The next one after the capability at offset 'from' (0: the first), for
 * ids that repeat (virtio's vendor-specific capabilities). */
unsigned pci_find_next_cap(const struct pci_dev *d, unsigned from, uint8_t id);

/* Memory space, I/O space and bus mastering on (command register). */
void pci_enable(struct pci_dev *d, bool bus_master);
/* Map a memory BAR uncached; NULL for an I/O or absent BAR. */
void *pci_bar_map(struct pci_dev *d, unsigned bar);

/* Interrupts. The handler runs in interrupt context on the CPU the vector
 * was routed to. pci_irq_setup tries MSI-X (vectors: how many are wanted;
 * entry i gets handler(i)), then MSI (one vector), then INTx (shared, one);
 * returns how many vectors were set up (>= 1) or a negative KEEL_E*.
 * *mode says which it got. */
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

/* ---- Pure helpers, exposed for the unit tests. ---- */

/* Decode a BAR (PCI Local Bus 3.0 6.2.5.1) from its value 'lo' and, for a
 * 64-bit memory BAR, the next BAR's 'hi'; lo_mask/hi_mask are what read
 * back after writing all-ones. Fills *bar (phys 0 when the BAR is not
 * implemented or firmware left it unassigned: then size says which) and
 * returns the BAR slots it spans: 1, or 2 for a 64-bit memory BAR. */
unsigned pci_bar_decode(uint32_t lo, uint32_t hi, uint32_t lo_mask,
			uint32_t hi_mask, struct pci_bar *bar);
/* The message of a fixed, edge-triggered, physical-destination interrupt
 * (SDM vol.3 11.11.1-2): address 0xFEE00000 | dest << 12, data = vector.
 * 0, or KEEL_ERANGE when the APIC id needs more than 8 bits (interrupt
 * remapping) or the vector is an exception's. */
int pci_msi_compose(uint32_t dest_apic_id, uint8_t vector, uint64_t *addr,
		    uint32_t *data);

#endif
