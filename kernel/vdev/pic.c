/*
 * pic.c - the PC's cascaded 8259A pair (pic.h): initialisation words,
 * operation words, priority with rotation, special mask and special fully
 * nested modes, poll, auto-EOI, spurious IR7, and the ELCR.
 * 8259A datasheet (Intel 231468); ELCR per the PIIX/ICH datasheets.
 */
#include <stddef.h>
#include <string.h>

#include "kernel/err.h"
#include "kernel/vdev/pic.h"

#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD 0xA0
#define PIC_SLAVE_DATA 0xA1
#define PIC_ELCR_MASTER 0x4D0
#define PIC_ELCR_SLAVE 0x4D1

#define PIC_CASCADE_IR 2

/* ELCR: IRQ 0, 1, 2, 8 and 13 are edge-only on PC chipsets. */
#define ELCR_MASK_MASTER 0xF8
#define ELCR_MASK_SLAVE 0xDE

/* Pins that follow their line rather than latching an edge. */
static uint8_t chip_level_pins(const struct vpic_chip *c)
{
	return c->ltim ? 0xFF : c->elcr;
}

/* Rank of the most urgent IR in mask: 0 is the highest priority, which is
 * the IR after the lowest one (rotation); 8 when mask is empty. */
static int chip_rank(const struct vpic_chip *c, uint8_t mask)
{
	for (int rank = 0; rank < 8; rank++)
		if (mask & (1u << ((c->lowest + 1 + rank) & 7)))
			return rank;
	return 8;
}

static int chip_ir_of_rank(const struct vpic_chip *c, int rank)
{
	return (c->lowest + 1 + rank) & 7;
}

/* The IR this chip would interrupt for now, or -1 (the priority resolver).
 * master: the special fully nested mode applies to it only. */
static int chip_next(const struct vpic_chip *c, bool master)
{
	uint8_t req = c->irr & ~c->imr;

	if (c->special_mask) {
		/* Special mask mode: every unmasked level may interrupt, lower
		 * ones too, except one already in service. */
		int rank = chip_rank(c, req & ~c->isr);
		return rank < 8 ? chip_ir_of_rank(c, rank) : -1;
	}
	int want = chip_rank(c, req);
	if (want == 8)
		return -1;
	int ir = chip_ir_of_rank(c, want);
	int busy = chip_rank(c, c->isr);
	if (want < busy)
		return ir;
	/* Special fully nested: a slave's request of higher priority than
	 * the one in service gets through the master's busy IR2. */
	if (master && c->sfnm && want == busy && ir == PIC_CASCADE_IR)
		return ir;
	return -1;
}

static void chip_set_line(struct vpic_chip *c, unsigned ir, bool level)
{
	uint8_t bit = 1u << ir;

	if (chip_level_pins(c) & bit) {
		c->irr = level ? c->irr | bit : c->irr & ~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit; /* the rising edge latches the request */
	}
	c->lines = level ? c->lines | bit : c->lines & ~bit;
}

/* The end of an INTA (or poll) for ir: in service, or with auto-EOI gone
 * at once (and the lowest priority when rotating). A level request stays
 * while its line is high. */
static void chip_intack(struct vpic_chip *c, int ir)
{
	uint8_t bit = 1u << ir;

	if (c->auto_eoi) {
		if (c->rotate_aeoi)
			c->lowest = ir;
	} else {
		c->isr |= bit;
	}
	if (!(chip_level_pins(c) & bit))
		c->irr &= ~bit;
}

/* The slave's INT drives the master's IR2 (edge unless LTIM). */
static void vpic_cascade(struct vpic *p)
{
	chip_set_line(&p->chip[0], PIC_CASCADE_IR, chip_next(&p->chip[1], false) >= 0);
}

/* The slave was just acknowledged: its INT drops for the cycle, so if it
 * still has a request the master sees a new edge. */
static void vpic_slave_acked(struct vpic *p)
{
	p->chip[0].lines &= ~(1u << PIC_CASCADE_IR);
}

static void chip_reset(struct vpic_chip *c, uint8_t elcr_mask)
{
	memset(c, 0, sizeof(*c));
	c->lowest = 7;
	c->elcr_mask = elcr_mask;
}

void vpic_init(struct vpic *p)
{
	struct vpic_chip *m = &p->chip[0], *s = &p->chip[1];

	chip_reset(m, ELCR_MASK_MASTER);
	chip_reset(s, ELCR_MASK_SLAVE);
	m->base = 0x08;
	m->icw3 = 1u << PIC_CASCADE_IR;
	m->need_icw4 = true;
	m->imr = (uint8_t)~(1u << PIC_CASCADE_IR);
	s->base = 0x70;
	s->icw3 = PIC_CASCADE_IR;
	s->need_icw4 = true;
	s->imr = 0xFF;
}

/* ICW1 starts initialisation (datasheet "Initialization Command Words"):
 * edge sense reset (an edge pin needs a new low-to-high transition), IMR
 * cleared, IR7 lowest, special mask off, status read IRR; without IC4 the
 * ICW4 functions are zero. */
static void chip_icw1(struct vpic_chip *c, uint8_t val)
{
	c->need_icw4 = val & 0x01;
	c->single = val & 0x02;
	c->ltim = val & 0x08;
	c->init_step = 2;
	c->imr = 0;
	c->isr = 0;
	c->irr = c->lines & chip_level_pins(c);
	c->lowest = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_aeoi = false;
	if (!c->need_icw4) {
		c->auto_eoi = false;
		c->sfnm = false;
	}
}

/* OCW2: EOI and rotation commands (R, SL, EOI in bits 7:5). */
static void chip_ocw2(struct vpic_chip *c, uint8_t val)
{
	int level = val & 7;
	int ir;

	switch (val >> 5) {
	case 0: /* clear rotate in automatic EOI mode */
		c->rotate_aeoi = false;
		break;
	case 4: /* set rotate in automatic EOI mode */
		c->rotate_aeoi = true;
		break;
	case 1: /* non-specific EOI: the highest priority in service */
	case 5: /* rotate on non-specific EOI */
		if (chip_rank(c, c->isr) == 8)
			break;
		ir = chip_ir_of_rank(c, chip_rank(c, c->isr));
		c->isr &= ~(1u << ir);
		if (val >> 5 == 5)
			c->lowest = ir;
		break;
	case 3: /* specific EOI */
		c->isr &= ~(1u << level);
		break;
	case 7: /* rotate on specific EOI */
		c->isr &= ~(1u << level);
		c->lowest = level;
		break;
	case 6: /* set priority: level becomes the lowest */
		c->lowest = level;
		break;
	default: /* 2: no operation */
		break;
	}
}

/* OCW3: status read select, poll, special mask (ESMM/SMM). */
static void chip_ocw3(struct vpic_chip *c, uint8_t val)
{
	if (val & 0x02)
		c->read_isr = val & 0x01;
	if (val & 0x04)
		c->poll = true;
	if (val & 0x40)
		c->special_mask = val & 0x20;
}

static void chip_write(struct vpic_chip *c, bool data, uint8_t val)
{
	if (!data) {
		if (val & 0x10)
			chip_icw1(c, val);
		else if (val & 0x08)
			chip_ocw3(c, val);
		else
			chip_ocw2(c, val);
		return;
	}
	switch (c->init_step) {
	case 2: /* ICW2: the vector's bits 7:3 in 8086 mode */
		c->base = val & 0xF8;
		c->init_step = c->single ? (c->need_icw4 ? 4 : 0) : 3;
		break;
	case 3: /* ICW3: cascade wiring; the PC's is fixed on IR2 */
		c->icw3 = val;
		c->init_step = c->need_icw4 ? 4 : 0;
		break;
	case 4: /* ICW4: uPM (8086 assumed), AEOI, buffered, SFNM */
		c->auto_eoi = val & 0x02;
		c->sfnm = val & 0x10;
		c->init_step = 0;
		break;
	default: /* OCW1 */
		c->imr = val;
		break;
	}
}

/* Poll (OCW3 P): the read is the INTA; bit 7 says whether there was a
 * request, bits 2:0 name its IR. */
static uint8_t chip_poll(struct vpic_chip *c, bool master)
{
	int ir = chip_next(c, master);

	c->poll = false;
	if (ir < 0)
		return 0;
	chip_intack(c, ir);
	return 0x80 | (uint8_t)ir;
}

static uint8_t chip_read(struct vpic_chip *c, bool master, bool data)
{
	if (c->poll)
		return chip_poll(c, master);
	if (data)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void chip_write_elcr(struct vpic_chip *c, uint8_t val)
{
	c->elcr = val & c->elcr_mask;
	/* A pin now level-triggered requests exactly while its line is high. */
	uint8_t lvl = chip_level_pins(c);
	c->irr = (c->irr & ~lvl) | (c->lines & lvl);
}

/* A poll of the slave that finds a request acknowledges it like INTA. */
static void vpic_pull_slave(struct vpic *p, uint8_t *val)
{
	*val = chip_poll(&p->chip[1], false);
	vpic_slave_acked(p);
}

int vpic_io(struct vpic *p, uint16_t port, bool in, uint8_t *val)
{
	struct vpic_chip *c;
	bool data = port & 1;

	switch (port) {
	case PIC_MASTER_CMD:
	case PIC_MASTER_DATA:
	case PIC_SLAVE_CMD:
	case PIC_SLAVE_DATA:
		c = &p->chip[port >= PIC_SLAVE_CMD];
		if (!in)
			chip_write(c, data, *val);
		else if (c->poll && c == &p->chip[1] && chip_next(c, false) >= 0)
			vpic_pull_slave(p, val);
		else
			*val = chip_read(c, c == &p->chip[0], data);
		break;
	case PIC_ELCR_MASTER:
	case PIC_ELCR_SLAVE:
		c = &p->chip[port - PIC_ELCR_MASTER];
		if (in)
			*val = c->elcr;
		else
			chip_write_elcr(c, *val);
		break;
	default:
		return KEEL_ENOENT;
	}
	vpic_cascade(p);
	return 0;
}

void vpic_set_irq(struct vpic *p, unsigned irq, bool level)
{
	if (irq >= 16 || irq == PIC_CASCADE_IR)
		return;
	chip_set_line(&p->chip[irq >> 3], irq & 7, level);
	vpic_cascade(p);
}

bool vpic_intr(const struct vpic *p)
{
	return chip_next(&p->chip[0], true) >= 0;
}

int vpic_ack(struct vpic *p)
{
	struct vpic_chip *m = &p->chip[0], *s = &p->chip[1];
	int ir = chip_next(m, true);
	int vector;

	if (ir < 0) {
		/* The request went away before INTA: the master answers with
		 * IR7 and sets no ISR bit (datasheet "default IR7"). */
		vector = m->base + 7;
	} else if (ir == PIC_CASCADE_IR && !m->single) {
		chip_intack(m, ir);
		int sir = chip_next(s, false);
		if (sir < 0) {
			vector = s->base + 7; /* the slave's default IR7 */
		} else {
			chip_intack(s, sir);
			vector = s->base + sir;
		}
		vpic_slave_acked(p);
	} else {
		chip_intack(m, ir);
		vector = m->base + ir;
	}
	vpic_cascade(p);
	return vector;
}
