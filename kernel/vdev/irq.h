/*
 * irq.h - how interrupts travel between the guest's interrupt controllers:
 * one message format for what an IOAPIC redirection entry, an MSI or a local
 * APIC's ICR sends (SDM vol.3 11.6 and 11.11), and the VM-level calls the
 * device models' glue uses to move interrupt lines (kernel/vdev/irq.c).
 *
 * The register models (lapic.c, ioapic.c, pic.c) are pure: they never call
 * into the VM, they hand messages to a callback their owner set.
 */
#ifndef KEEL_VDEV_IRQ_H
#define KEEL_VDEV_IRQ_H

#include <stdbool.h>
#include <stdint.h>

/* Delivery modes, SDM table 11-? (ICR bits 10:8, IOAPIC redirection 10:8). */
enum irq_delivery {
	IRQ_DM_FIXED = 0,
	IRQ_DM_LOWEST = 1,
	IRQ_DM_SMI = 2,
	IRQ_DM_NMI = 4,
	IRQ_DM_INIT = 5,
	IRQ_DM_SIPI = 6, /* "start-up" */
	IRQ_DM_EXTINT = 7,
};

/* Destination shorthands (ICR bits 19:18). */
enum irq_shorthand {
	IRQ_SH_NONE = 0,
	IRQ_SH_SELF = 1,
	IRQ_SH_ALL = 2,
	IRQ_SH_OTHERS = 3, /* all excluding self */
};

struct irq_msg {
	uint8_t vector;
	uint8_t delivery;  /* enum irq_delivery */
	uint8_t shorthand; /* enum irq_shorthand; IOAPIC: always NONE */
	bool logical;	   /* destination mode: logical (1) or physical (0) */
	bool level;	   /* trigger mode: level (1) or edge (0) */
	bool assert;	   /* ICR level bit (INIT de-assert has it clear) */
	uint32_t dest;	   /* xAPIC: 8 bits; x2APIC: 32 bits */
	uint32_t source;   /* APIC id of the sender (shorthands), else 0 */
};

/* The callback a model calls to send a message; ctx is the owner's. */
typedef void (*irq_deliver_fn)(void *ctx, const struct irq_msg *msg);

#endif
