/*
 * ioapic.c - the machine's I/O APICs: mapped from the MADT, every pin masked at
 * boot, ISA IRQs routed through the interrupt source overrides on request.
 *
 * Owns one lock per I/O APIC: its IOREGSEL/IOWIN pair is one access.
 */
#include "kernel/ioapic.h"

#include <stddef.h>

#include "kernel/acpi.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "mm/mm.h"

#ifdef KEEL_HOST_TEST
/* Host unit tests simulate the hardware (tests/unit/test_ioapic.c). */
uint32_t hw_mmio_read32(const volatile uint32_t *p);
void hw_mmio_write32(volatile uint32_t *p, uint32_t v);
#else
static inline uint32_t hw_mmio_read32(const volatile uint32_t *p) { return *p; }
static inline void hw_mmio_write32(volatile uint32_t *p, uint32_t v) { *p = v; }
#endif

/* 82093AA 3.0: an index register and a data window, 32-bit accesses. */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_WINDOW_LEN 0x40
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01 /* version 7:0, maximum redirection entry 23:16 */
#define IOAPIC_REG_RTE(pin) (0x10u + 2u * (pin)) /* low half; high at +1 */

#define ISA_IRQS 16
#define MPS_POLARITY(f) ((f) & 3u)
#define MPS_TRIGGER(f) (((f) >> 2) & 3u)
#define MPS_CONFORMS 0u
#define MPS_RESERVED 2u
#define MPS_ACTIVE_LOW 3u
#define MPS_LEVEL 3u

struct ioapic {
	volatile uint32_t *regs;
	uint64_t pa;
	uint32_t id;
	uint32_t gsi_base;
	uint32_t pins;
	struct spinlock lock;
};

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static unsigned ioapic_count;

/* ------------------------------------------------------------ pure part ---- */

uint64_t ioapic_rte_make(uint8_t vector, uint8_t dest, bool active_low,
			 bool level, bool masked)
{
	uint64_t rte = IOAPIC_RTE_DM_FIXED | vector; /* physical destination */

	if (active_low)
		rte |= IOAPIC_RTE_ACTIVE_LOW;
	if (level)
		rte |= IOAPIC_RTE_LEVEL;
	if (masked)
		rte |= IOAPIC_RTE_MASKED;
	return rte | ((uint64_t)dest << IOAPIC_RTE_DEST_SHIFT);
}

static const struct acpi_override *ioapic_find_override(const struct acpi_info *a,
							 uint8_t isa_irq,
							 bool by_gsi)
{
	unsigned n = a->override_count < ACPI_MAX_OVERRIDES ? a->override_count
							    : ACPI_MAX_OVERRIDES;

	for (unsigned i = 0; i < n; i++) {
		const struct acpi_override *o = &a->overrides[i];

		if (o->bus != 0) /* only bus 0 (ISA) is defined */
			continue;
		if (by_gsi ? o->gsi == isa_irq && o->source != isa_irq
			   : o->source == isa_irq)
			return o;
	}
	return NULL;
}

int ioapic_isa_resolve(const struct acpi_info *a, uint8_t isa_irq,
		       uint32_t *gsi, bool *active_low, bool *level)
{
	const struct acpi_override *o;
	uint16_t flags = 0;

	if (isa_irq >= ISA_IRQS)
		return KEEL_EINVAL;
	o = ioapic_find_override(a, isa_irq, false);
	if (o) {
		*gsi = o->gsi;
		flags = o->flags;
	} else if (ioapic_find_override(a, isa_irq, true)) {
		/* Identity mapping, but another IRQ was moved onto this GSI. */
		return KEEL_ENOENT;
	} else {
		*gsi = isa_irq;
	}
	if (MPS_POLARITY(flags) == MPS_RESERVED ||
	    MPS_TRIGGER(flags) == MPS_RESERVED)
		log_warn("ioapic: ISA IRQ %u override has reserved flags %#x, using ISA defaults",
			 isa_irq, flags);
	/* Conforms (and reserved) mean the ISA default: active high, edge. */
	*active_low = MPS_POLARITY(flags) == MPS_ACTIVE_LOW;
	*level = MPS_TRIGGER(flags) == MPS_LEVEL;
	return 0;
}

/* ------------------------------------------------------------ registers ---- */

static uint32_t ioapic_read(struct ioapic *io, uint32_t reg)
{
	hw_mmio_write32(io->regs + IOAPIC_IOREGSEL / 4, reg);
	return hw_mmio_read32(io->regs + IOAPIC_IOWIN / 4);
}

static void ioapic_write(struct ioapic *io, uint32_t reg, uint32_t v)
{
	hw_mmio_write32(io->regs + IOAPIC_IOREGSEL / 4, reg);
	hw_mmio_write32(io->regs + IOAPIC_IOWIN / 4, v);
}

/* Caller holds io->lock. The pin stays masked while its two halves
 * disagree, so nothing is delivered half-programmed. */
static void ioapic_write_rte(struct ioapic *io, uint32_t pin, uint64_t rte)
{
	ioapic_write(io, IOAPIC_REG_RTE(pin), (uint32_t)rte | IOAPIC_RTE_MASKED);
	ioapic_write(io, IOAPIC_REG_RTE(pin) + 1, (uint32_t)(rte >> 32));
	ioapic_write(io, IOAPIC_REG_RTE(pin), (uint32_t)rte);
}

static struct ioapic *ioapic_for_gsi(uint32_t gsi, uint32_t *pin)
{
	for (unsigned i = 0; i < ioapic_count; i++) {
		struct ioapic *io = &ioapics[i];

		if (gsi >= io->gsi_base && gsi - io->gsi_base < io->pins) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

/* ----------------------------------------------------------------- init ---- */

static volatile uint32_t *ioapic_map(uint64_t pa)
{
	uint64_t off = pa & (PAGE_SIZE - 1);
	uint8_t *va = mm_map_mmio(pa - off, ALIGN_UP(off + IOAPIC_WINDOW_LEN, PAGE_SIZE),
				  PT_R | PT_W | PT_UC);

	return va ? (volatile uint32_t *)(va + off) : NULL;
}

/* A second entry at the same address or over the same GSIs is a firmware
 * bug: keep the first. */
static bool ioapic_conflicts(uint64_t pa, uint32_t base, uint32_t pins)
{
	for (unsigned i = 0; i < ioapic_count; i++) {
		const struct ioapic *io = &ioapics[i];

		if (io->pa == pa || (base < io->gsi_base + io->pins &&
				     io->gsi_base < base + pins))
			return true;
	}
	return false;
}

static int ioapic_add(const struct acpi_ioapic *a)
{
	struct ioapic *io = &ioapics[ioapic_count];
	uint32_t ver;

	io->regs = ioapic_map(a->address);
	if (!io->regs) {
		log_err("ioapic: cannot map %#llx", (unsigned long long)a->address);
		return KEEL_ENOMEM;
	}
	io->lock = (struct spinlock)SPINLOCK_INIT;
	ver = ioapic_read(io, IOAPIC_REG_VER);
	if (ver == 0xFFFFFFFFu) {
		log_err("ioapic: id %u at %#llx does not answer", a->id,
			(unsigned long long)a->address);
		return KEEL_EIO;
	}
	io->pins = ((ver >> 16) & 0xFF) + 1;
	if (a->gsi_base > UINT32_MAX - io->pins ||
	    ioapic_conflicts(a->address, a->gsi_base, io->pins)) {
		log_err("ioapic: id %u at %#llx: gsi %u-%u overlaps another, skipped",
			a->id, (unsigned long long)a->address, a->gsi_base,
			a->gsi_base + io->pins - 1);
		return KEEL_EEXIST;
	}
	io->pa = a->address;
	io->id = a->id;
	io->gsi_base = a->gsi_base;
	for (uint32_t pin = 0; pin < io->pins; pin++)
		ioapic_write_rte(io, pin, IOAPIC_RTE_MASKED);
	log_info("ioapic: id %u at %#llx gsi %u-%u (version %#x)", io->id,
		 (unsigned long long)io->pa, io->gsi_base,
		 io->gsi_base + io->pins - 1, ver & 0xFF);
	return 0;
}

int ioapic_init(void)
{
	unsigned n = acpi.ioapic_count < ACPI_MAX_IOAPICS ? acpi.ioapic_count
							  : ACPI_MAX_IOAPICS;

	ioapic_count = 0;
	for (unsigned i = 0; i < n; i++)
		if (ioapic_add(&acpi.ioapics[i]) == 0)
			ioapic_count++;
	if (!ioapic_count) {
		log_warn("ioapic: no usable I/O APIC");
		return KEEL_ENOENT;
	}
	return 0;
}

/* -------------------------------------------------------------- routing ---- */

int ioapic_route_isa(uint8_t isa_irq, uint8_t vector, uint32_t dest_apic_id)
{
	struct ioapic *io;
	uint32_t gsi, pin;
	bool low, level;
	uint64_t flags;
	int r;

	if (vector < 0x20 || vector == 0xFF) /* exceptions; the spurious vector */
		return KEEL_EINVAL;
	/* The RTE holds an 8-bit APIC id; more needs interrupt remapping. */
	if (dest_apic_id > 0xFE)
		return KEEL_ERANGE;
	r = ioapic_isa_resolve(&acpi, isa_irq, &gsi, &low, &level);
	if (r)
		return r;
	io = ioapic_for_gsi(gsi, &pin);
	if (!io) {
		log_warn("ioapic: ISA IRQ %u: no I/O APIC has gsi %u", isa_irq, gsi);
		return KEEL_ENOENT;
	}
	flags = spin_lock_irqsave(&io->lock);
	ioapic_write_rte(io, pin, ioapic_rte_make(vector, (uint8_t)dest_apic_id,
						  low, level, false));
	spin_unlock_irqrestore(&io->lock, flags);
	log_info("ioapic: ISA IRQ %u -> gsi %u, vector %#x on APIC %u (%s, %s)",
		 isa_irq, gsi, vector, dest_apic_id, level ? "level" : "edge",
		 low ? "active low" : "active high");
	return 0;
}

void ioapic_mask_gsi(uint32_t gsi)
{
	uint32_t pin, low;
	struct ioapic *io = ioapic_for_gsi(gsi, &pin);
	uint64_t flags;

	if (!io) {
		log_warn("ioapic: mask of unknown gsi %u", gsi);
		return;
	}
	flags = spin_lock_irqsave(&io->lock);
	low = ioapic_read(io, IOAPIC_REG_RTE(pin));
	ioapic_write(io, IOAPIC_REG_RTE(pin), low | IOAPIC_RTE_MASKED);
	spin_unlock_irqrestore(&io->lock, flags);
}

int ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t dest_apic_id,
		     bool active_low, bool level)
{
	struct ioapic *io;
	uint32_t pin;
	uint64_t flags;

	if (vector < 0x20 || vector == 0xFF)
		return KEEL_EINVAL;
	if (dest_apic_id > 0xFE)
		return KEEL_ERANGE;
	io = ioapic_for_gsi(gsi, &pin);
	if (!io)
		return KEEL_ENOENT;
	flags = spin_lock_irqsave(&io->lock);
	ioapic_write_rte(io, pin, ioapic_rte_make(vector, (uint8_t)dest_apic_id,
						  active_low, level, false));
	spin_unlock_irqrestore(&io->lock, flags);
	log_info("ioapic: gsi %u -> vector %#x on APIC %u (%s, %s)", gsi, vector,
		 dest_apic_id, level ? "level" : "edge",
		 active_low ? "active low" : "active high");
	return 0;
}
