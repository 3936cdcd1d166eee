/*
 * ioapic.h - the I/O APICs the MADT lists: every pin masked at boot, ISA IRQs
 * routed on request through the MADT's interrupt source overrides.
 * Intel 82093AA I/O APIC datasheet; ACPI 6.x 5.2.12 (MADT: the I/O APIC and
 * Interrupt Source Override structures, MPS INTI flags).
 */
#ifndef KEEL_IOAPIC_H
#define KEEL_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_info;

/* Map every I/O APIC of the MADT (acpi), read its version and pin count, mask
 * every pin, log "ioapic: id N at 0x... gsi N-M". An I/O APIC that does not
 * answer is logged and left out. Returns 0, KEEL_ENOENT when none is usable. */
int ioapic_init(void);
/* Route ISA IRQ isa_irq (0-15) to vector on the CPU with APIC id dest, through
 * the overrides (default ISA: edge, active high), and unmask it. Returns 0,
 * KEEL_EINVAL (bad IRQ or vector), KEEL_ERANGE (dest above 0xFE: needs
 * interrupt remapping), KEEL_ENOENT (no I/O APIC has that GSI). */
int ioapic_route_isa(uint8_t isa_irq, uint8_t vector, uint32_t dest_apic_id);
void ioapic_mask_gsi(uint32_t gsi);
/* Route any GSI (a PCI INTx line) to vector on the CPU with APIC id dest,
 * with the signalling the caller knows, and unmask it. Same errors as
 * ioapic_route_isa. */
int ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t dest_apic_id,
		     bool active_low, bool level);

/* ---- Pure helpers, exposed for the unit tests. ---- */

/* Redirection table entry (82093AA 3.2.4). */
#define IOAPIC_RTE_DM_FIXED (0ULL << 8)
#define IOAPIC_RTE_DEST_LOGICAL (1ULL << 11)
#define IOAPIC_RTE_ACTIVE_LOW (1ULL << 13)
#define IOAPIC_RTE_LEVEL (1ULL << 15)
#define IOAPIC_RTE_MASKED (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT 56

/* Fixed delivery, physical destination. */
uint64_t ioapic_rte_make(uint8_t vector, uint8_t dest, bool active_low,
			 bool level, bool masked);

/* Where ISA IRQ isa_irq arrives: its GSI and signalling, from the overrides
 * in a (bus 0 = ISA). MPS INTI flags: polarity bits 1:0 and trigger bits 3:2,
 * each 00 = conforms to the bus (ISA: active high, edge), 01 = high / edge,
 * 11 = low / level, 10 = reserved (treated as the bus default, logged).
 * KEEL_EINVAL for isa_irq > 15; KEEL_ENOENT when an override of another IRQ
 * took this IRQ's identity GSI (IRQ 2 when IRQ 0 goes to GSI 2). */
int ioapic_isa_resolve(const struct acpi_info *a, uint8_t isa_irq,
		       uint32_t *gsi, bool *active_low, bool *level);

#endif
