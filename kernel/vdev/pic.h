/*
 * pic.h - the PC's two 8259A interrupt controllers as a pure register
 * model: master at 0x20/0x21, slave at 0xA0/0xA1 on the master's IRQ 2,
 * and the edge/level control registers at 0x4D0/0x4D1. 8259A datasheet;
 * ELCR as in the PIIX/ICH. It knows no local APIC: the owner asks
 * vpic_intr() and runs vpic_ack() for the CPU that takes ExtINT.
 */
#ifndef KEEL_VDEV_PIC_H
#define KEEL_VDEV_PIC_H

#include <stdbool.h>
#include <stdint.h>

/* One 8259A. */
struct vpic_chip {
	uint8_t irr;	      /* requests (edge: latched; level: the line) */
	uint8_t isr;	      /* in service */
	uint8_t imr;	      /* OCW1 */
	uint8_t lines;	      /* input levels, for edge detection */
	uint8_t elcr;	      /* 1: level-triggered */
	uint8_t elcr_mask;    /* ELCR bits that exist */
	uint8_t base;	      /* ICW2: vector of IR0 (bits 7:3) */
	uint8_t icw3;
	uint8_t lowest;	      /* the IR with the lowest priority (rotation) */
	uint8_t init_step;    /* 0: ready; 2, 3, 4: the ICW expected next */
	bool need_icw4;
	bool single;	      /* ICW1 SNGL: no ICW3 */
	bool ltim;	      /* ICW1: all pins level-triggered */
	bool auto_eoi;	      /* ICW4 AEOI */
	bool sfnm;	      /* ICW4 special fully nested mode */
	bool rotate_aeoi;     /* OCW2: rotate in auto-EOI mode */
	bool read_isr;	      /* OCW3 RR/RIS: the command port reads ISR */
	bool poll;	      /* OCW3 P: the next read is a poll */
	bool special_mask;    /* OCW3 SMM */
};

struct vpic {
	struct vpic_chip chip[2]; /* master, slave */
};

/* The state a PC BIOS leaves (IBM PC/AT, what SeaBIOS programs): both
 * initialised with vectors 0x08 and 0x70, cascade on IRQ 2, 8086 mode,
 * every IRQ masked but the cascade, all edge-triggered. */
void vpic_init(struct vpic *p);
/* One byte at port (0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1): 0, or
 * KEEL_ENOENT for another port. */
int vpic_io(struct vpic *p, uint16_t port, bool in, uint8_t *val);
/* A device's line, IRQ 0-15. Edge pins latch a request on the rising edge;
 * level pins (ELCR or ICW1 LTIM) request while high. IRQ 2 is the cascade,
 * wired inside: its external line is ignored. */
void vpic_set_irq(struct vpic *p, unsigned irq, bool level);
/* The master's INTR output. */
bool vpic_intr(const struct vpic *p);
/* The INTA cycle: the vector, with the ISR (or auto-EOI) updates of both
 * chips; IR7 of the master (or the slave, after a cascade) when the
 * request went away before it (datasheet: "default IR7"). */
int vpic_ack(struct vpic *p);

#endif
