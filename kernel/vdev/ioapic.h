/*
 * ioapic.h - a guest's I/O APIC as a pure register model: 24 pins, the
 * IOREGSEL/IOWIN window, redirection entries turned into irq_msg for the
 * owner's router. 82093AA I/O APIC datasheet. The owner serialises calls
 * (one lock around the model); send is called synchronously from
 * vioapic_set_irq, vioapic_mmio_write and vioapic_eoi.
 */
#ifndef KEEL_VDEV_IOAPIC_H
#define KEEL_VDEV_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/vdev/irq.h"

#define VIOAPIC_PINS 24
/* Version 0x11 (82093AA), maximum redirection entry 23 in bits 23:16. */
#define VIOAPIC_VERSION 0x00170011u

/* MMIO offsets in the 4 KiB window (datasheet 3.0). */
#define VIOAPIC_IOREGSEL 0x00
#define VIOAPIC_IOWIN 0x10
#define VIOAPIC_EOI 0x40 /* the version-0x20 EOI register; kept, harmless */

/* Redirection entry bits (datasheet 3.2.4). */
#define VIOAPIC_RTE_DELIVS (1ULL << 12)	 /* delivery status, read-only */
#define VIOAPIC_RTE_POLARITY (1ULL << 13) /* 1: active low */
#define VIOAPIC_RTE_REMOTE_IRR (1ULL << 14)
#define VIOAPIC_RTE_LEVEL (1ULL << 15)
#define VIOAPIC_RTE_MASKED (1ULL << 16)

struct vioapic {
	uint8_t id;	  /* 4-bit IOAPIC ID (bits 27:24 of register 0); the
			     owner may preset what its MADT says */
	uint8_t regsel;	  /* IOREGSEL */
	uint32_t lines;	  /* each pin's electrical level, as last set */
	uint64_t rte[VIOAPIC_PINS];
	irq_deliver_fn send;
	void *ctx;
};

/* Reset (datasheet: every entry masked, ID 0). */
void vioapic_init(struct vioapic *io, irq_deliver_fn send, void *ctx);
/* Offsets other than the three above read 0 and ignore writes. A write of
 * an entry that leaves a level pin asserted, unmasked and without Remote
 * IRR delivers; a switch to edge clears Remote IRR (what Linux relies on
 * to clear it on IOAPICs without the EOI register). */
uint32_t vioapic_mmio_read(struct vioapic *io, uint32_t offset);
void vioapic_mmio_write(struct vioapic *io, uint32_t offset, uint32_t val);
/* A pin's electrical level. The entry's polarity decides what asserted
 * means (active-low: asserted while low), so an active-low pin's device
 * must drive it high when idle. Edge entries deliver on the edge into
 * asserted (lost while masked); level entries deliver while asserted,
 * once until the EOI clears Remote IRR. Pins >= 24 are ignored. */
void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level);
/* A local APIC's EOI broadcast for vector: Remote IRR clears on the level
 * entries with that vector, and a line still asserted delivers again. */
void vioapic_eoi(struct vioapic *io, uint8_t vector);

#endif
