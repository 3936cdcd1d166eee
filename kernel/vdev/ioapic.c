/*
 * ioapic.c - the guest I/O APIC register model (ioapic.h): the indirect
 * register window, redirection entries, edge and level pins with Remote
 * IRR and EOI. 82093AA I/O APIC datasheet (section numbers are its).
 */
#include <stddef.h>
#include <string.h>

#include "kernel/vdev/ioapic.h"

/* Registers behind IOWIN (3.2). */
#define IOAPICID 0x00
#define IOAPICVER 0x01
#define IOAPICARB 0x02
#define IOREDTBL 0x10 /* two per pin: low then high dword */

/* What software may write in an entry (3.2.4): vector, delivery mode,
 * destination mode, polarity, trigger mode, mask; destination 63:56. */
#define RTE_WRITABLE_LO 0x0001AFFFULL
#define RTE_WRITABLE_HI 0xFF00000000000000ULL

void vioapic_init(struct vioapic *io, irq_deliver_fn send, void *ctx)
{
	memset(io, 0, sizeof(*io));
	for (unsigned i = 0; i < VIOAPIC_PINS; i++)
		io->rte[i] = VIOAPIC_RTE_MASKED;
	io->send = send;
	io->ctx = ctx;
}

/* The input as the entry sees it: polarity inverts an active-low pin. */
static bool vioapic_asserted(const struct vioapic *io, unsigned pin)
{
	bool high = io->lines & (1u << pin);

	return high != !!(io->rte[pin] & VIOAPIC_RTE_POLARITY);
}

static void vioapic_deliver(struct vioapic *io, unsigned pin)
{
	uint64_t rte = io->rte[pin];
	struct irq_msg m = {
		.vector = rte & 0xFF,
		.delivery = (rte >> 8) & 7,
		.shorthand = IRQ_SH_NONE,
		.logical = rte & (1u << 11),
		.level = rte & VIOAPIC_RTE_LEVEL,
		.assert = true,
		.dest = (uint32_t)(rte >> 56),
		.source = 0,
	};

	/* 3.2.4: Remote IRR is set when a level interrupt is accepted and
	 * cleared by the EOI; until then the pin does not send again. */
	if (rte & VIOAPIC_RTE_LEVEL)
		io->rte[pin] |= VIOAPIC_RTE_REMOTE_IRR;
	if (io->send)
		io->send(io->ctx, &m);
}

/* A level entry sends while asserted, unmasked and not waiting for EOI. */
static void vioapic_level_check(struct vioapic *io, unsigned pin)
{
	uint64_t rte = io->rte[pin];

	if ((rte & VIOAPIC_RTE_LEVEL) && !(rte & VIOAPIC_RTE_MASKED) &&
	    !(rte & VIOAPIC_RTE_REMOTE_IRR) && vioapic_asserted(io, pin))
		vioapic_deliver(io, pin);
}

void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level)
{
	if (pin >= VIOAPIC_PINS)
		return;
	bool was = vioapic_asserted(io, pin);
	if (level)
		io->lines |= 1u << pin;
	else
		io->lines &= ~(1u << pin);
	bool now = vioapic_asserted(io, pin);
	uint64_t rte = io->rte[pin];

	if (rte & VIOAPIC_RTE_LEVEL) {
		vioapic_level_check(io, pin);
	} else if (!was && now && !(rte & VIOAPIC_RTE_MASKED)) {
		/* 3.2.4: an edge on a masked pin is lost, not held. */
		vioapic_deliver(io, pin);
	}
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		uint64_t rte = io->rte[pin];
		if ((rte & 0xFF) != vector || !(rte & VIOAPIC_RTE_LEVEL) ||
		    !(rte & VIOAPIC_RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~VIOAPIC_RTE_REMOTE_IRR;
		vioapic_level_check(io, pin);
	}
}

static uint32_t vioapic_reg_read(const struct vioapic *io, uint8_t reg)
{
	switch (reg) {
	case IOAPICID:
		return (uint32_t)(io->id & 0xF) << 24;
	case IOAPICVER:
		return VIOAPIC_VERSION;
	case IOAPICARB:
		/* 3.2.3: loaded from the ID; bus arbitration is not modelled. */
		return (uint32_t)(io->id & 0xF) << 24;
	default:
		break;
	}
	if (reg >= IOREDTBL && reg < IOREDTBL + 2 * VIOAPIC_PINS) {
		uint64_t rte = io->rte[(reg - IOREDTBL) / 2];
		return (reg & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
	}
	return 0;
}

static void vioapic_reg_write(struct vioapic *io, uint8_t reg, uint32_t val)
{
	if (reg == IOAPICID) {
		io->id = (val >> 24) & 0xF;
		return;
	}
	if (reg < IOREDTBL || reg >= IOREDTBL + 2 * VIOAPIC_PINS)
		return; /* version, arbitration: read-only; the rest: none */

	unsigned pin = (reg - IOREDTBL) / 2;
	uint64_t rte = io->rte[pin];
	if (reg & 1) {
		rte = (rte & ~RTE_WRITABLE_HI) |
		      (((uint64_t)val << 32) & RTE_WRITABLE_HI);
	} else {
		/* Delivery status and Remote IRR are the IOAPIC's own. */
		rte = (rte & ~RTE_WRITABLE_LO) | (val & RTE_WRITABLE_LO);
		/* Remote IRR means nothing for an edge entry: setting the
		 * trigger mode to edge clears it (Linux's __eoi_ioapic_pin
		 * counts on this where there is no EOI register). */
		if (!(rte & VIOAPIC_RTE_LEVEL))
			rte &= ~VIOAPIC_RTE_REMOTE_IRR;
	}
	io->rte[pin] = rte;
	/* Unmasking (or re-polarising) a level pin that is asserted sends;
	 * an edge pin waits for its next edge. */
	vioapic_level_check(io, pin);
}

uint32_t vioapic_mmio_read(struct vioapic *io, uint32_t offset)
{
	switch (offset) {
	case VIOAPIC_IOREGSEL:
		return io->regsel;
	case VIOAPIC_IOWIN:
		return vioapic_reg_read(io, io->regsel);
	default:
		return 0; /* the EOI register is write-only */
	}
}

void vioapic_mmio_write(struct vioapic *io, uint32_t offset, uint32_t val)
{
	switch (offset) {
	case VIOAPIC_IOREGSEL:
		io->regsel = val & 0xFF;
		break;
	case VIOAPIC_IOWIN:
		vioapic_reg_write(io, io->regsel, val);
		break;
	case VIOAPIC_EOI:
		vioapic_eoi(io, val & 0xFF);
		break;
	default:
		break;
	}
}
