/*
 * pit.c - the i8254 PIT as a pure register model (Intel 8254 datasheet,
 * 231164): three counters whose values and OUT levels are worked out from
 * the time of each access, so nothing runs per tick. Channel 0's rising
 * edges are what the glue turns into IRQ 0; channel 2 is gated and read back
 * through port 0x61, as Linux's TSC calibration uses it.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/vdev/pit.h"

#define NS_PER_SEC 1000000000ULL
#define PIT_RW_LSB 1
#define PIT_RW_MSB 2
#define PIT_RW_WORD 3
#define PORT_B_GATE2 0x01
#define PORT_B_WRITABLE 0x0F /* gate 2, speaker data, parity/IOCHK enables */
#define PORT_B_REFRESH 0x10
#define PORT_B_OUT2 0x20

/* PIT clocks elapsed by now_ns, without overflowing for any 64-bit time. */
static uint64_t pit_ticks(uint64_t ns)
{
	return ns / NS_PER_SEC * VPIT_HZ + ns % NS_PER_SEC * VPIT_HZ / NS_PER_SEC;
}

/* The first nanosecond at which pit_ticks() has reached tick. */
static uint64_t pit_tick_ns(uint64_t tick)
{
	return tick / VPIT_HZ * NS_PER_SEC +
	       (tick % VPIT_HZ * NS_PER_SEC + VPIT_HZ - 1) / VPIT_HZ;
}

/* 8254: in modes 0, 2, 3 and 4 a low GATE stops the count (it holds). */
static bool ch_gate_holds(const struct vpit_channel *c)
{
	return !c->gate && c->mode != 1 && c->mode != 5;
}

/* Clocks counted in the current run of the counting element. */
static uint64_t ch_elapsed(const struct vpit_channel *c, uint64_t tick)
{
	if (c->state != VPIT_COUNTING)
		return 0;
	if (ch_gate_holds(c))
		return c->base;
	return c->base + (tick > c->start ? tick - c->start : 0);
}

/* The count register goes into the counting element and a new run starts
 * (the datasheet's "next CLK pulse" after the write or trigger is folded
 * into the write itself). A count of 0 is 65536; 1 is illegal in modes 2 and
 * 3 (the datasheet forbids it) and runs as 2. */
static void ch_start(struct vpit_channel *c, uint64_t tick)
{
	c->n = c->cr ? c->cr : 0x10000;
	if (c->n < 2 && (c->mode == 2 || c->mode == 3))
		c->n = 2;
	c->state = VPIT_COUNTING;
	c->start = tick;
	c->base = 0;
	c->edge_seen = 0;
	c->null_count = false;
	c->reload_pending = false;
}

static uint16_t ch_count(const struct vpit_channel *c, uint64_t tick)
{
	uint64_t d = ch_elapsed(c, tick);

	if (c->state != VPIT_COUNTING)
		return c->held;
	switch (c->mode) {
	case 2:
		return (uint16_t)(c->n - d % c->n);
	case 3: /* decrements by two; exact for even counts */
		return (uint16_t)(c->n - 2 * d % c->n);
	default: /* 0, 1, 4, 5: down through 0 and on from 0xFFFF */
		return (uint16_t)(c->n - d);
	}
}

static bool ch_out(const struct vpit_channel *c, uint64_t tick)
{
	uint64_t d = ch_elapsed(c, tick);

	if (c->state == VPIT_IDLE)
		return c->mode != 0; /* a control word sets OUT low in mode 0 only */
	if (c->state == VPIT_WAIT_TRIGGER)
		return true;
	switch (c->mode) {
	case 0: /* interrupt on terminal count */
	case 1: /* hardware one-shot */
		return d >= c->n;
	case 2: /* rate generator: low for the one clock at count 1 */
		return !c->gate || d % c->n != c->n - 1;
	case 3: /* square wave: high for ceil(N/2), low for floor(N/2) */
		return !c->gate || d % c->n < (c->n + 1) / 2;
	default: /* 4, 5 strobes: low for the one clock at count 0 */
		return d != c->n;
	}
}

/* Whether OUT rises with the count going from d0 to d1 (d0 < E <= d1). The
 * rising edges: mode 0/1 at N, modes 2/3 at every multiple of N (the reload),
 * modes 4/5 at N + 1 (the end of the strobe). */
static bool ch_rises(const struct vpit_channel *c, uint64_t d0, uint64_t d1)
{
	if (c->state != VPIT_COUNTING || d1 <= d0)
		return false;
	switch (c->mode) {
	case 0:
	case 1:
		return d0 < c->n && c->n <= d1;
	case 2:
	case 3:
		return d1 / c->n > d0 / c->n;
	default:
		return d0 < c->n + 1 && c->n + 1 <= d1;
	}
}

/* The count of the next rising edge after d, 0 when there is none. */
static uint64_t ch_next_rise(const struct vpit_channel *c, uint64_t d)
{
	switch (c->mode) {
	case 0:
	case 1:
		return d < c->n ? c->n : 0;
	case 2:
	case 3:
		return (d / c->n + 1) * c->n;
	default:
		return d < c->n + 1 ? c->n + 1 : 0;
	}
}

/* Bring the model to tick: pending reloads happen, and channel 0's rising
 * edges up to now are remembered for the next vpit_poll. Every access and
 * poll starts here, so an edge is never lost to a reprogramming. */
static void pit_sync(struct vpit *p, uint64_t tick)
{
	struct vpit_channel *c0 = &p->ch[0];

	if (c0->reload_pending && tick >= c0->reload_tick) {
		uint64_t d = ch_elapsed(c0, c0->reload_tick);

		if (ch_rises(c0, c0->edge_seen, d))
			p->irq0_pending = true;
		ch_start(c0, c0->reload_tick);
	}
	uint64_t d = ch_elapsed(c0, tick);
	if (ch_rises(c0, c0->edge_seen, d))
		p->irq0_pending = true;
	c0->edge_seen = d;
	for (unsigned i = 1; i < 3; i++) {
		struct vpit_channel *c = &p->ch[i];

		if (c->reload_pending && tick >= c->reload_tick)
			ch_start(c, c->reload_tick);
	}
}

static void ch_latch_count(struct vpit_channel *c, uint64_t tick)
{
	if (c->latched)
		return; /* a second latch before the read is ignored */
	c->latch = ch_count(c, tick);
	c->latched = c->rw;
}

static void ch_latch_status(struct vpit_channel *c, uint64_t tick)
{
	if (c->status_latched)
		return;
	/* Read-back status: OUT, NULL COUNT, then the control word bits. */
	c->status = (uint8_t)((ch_out(c, tick) ? 0x80 : 0) |
			      (c->null_count ? 0x40 : 0) | c->ctrl);
	c->status_latched = true;
}

static void pit_control(struct vpit *p, uint8_t v, uint64_t tick)
{
	unsigned sc = v >> 6;

	if (sc == 3) {
		/* Read-back: bit 5 clear latches counts, bit 4 clear latches
		 * status, bits 3:1 select counters 2:0. */
		for (unsigned i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			if (!(v & 0x20))
				ch_latch_count(&p->ch[i], tick);
			if (!(v & 0x10))
				ch_latch_status(&p->ch[i], tick);
		}
		return;
	}
	struct vpit_channel *c = &p->ch[sc];
	unsigned rw = (v >> 4) & 3;

	if (rw == 0) {
		ch_latch_count(c, tick); /* counter latch command */
		return;
	}
	/* A control word resets the counter's logic: counting stops until a
	 * count is written, latches and flip-flops are cleared. */
	c->held = ch_count(c, tick);
	c->ctrl = v & 0x3F;
	c->rw = (uint8_t)rw;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4; /* x10 and x11: modes 2 and 3 */
	c->state = VPIT_IDLE;
	c->null_count = true;
	c->write_msb = false;
	c->read_msb = false;
	c->latched = 0;
	c->status_latched = false;
	c->reload_pending = false;
}

/* A complete count was written into the count register. */
static void ch_load(struct vpit_channel *c, uint64_t tick)
{
	switch (c->mode) {
	case 0:
	case 4:
		/* A new count restarts the count (mode 4: "loaded on the next
		 * CLK pulse and counting continues from the new count"). */
		ch_start(c, tick);
		break;
	case 1:
	case 5:
		/* Used at the next trigger; a run in progress goes on. */
		if (c->state == VPIT_IDLE)
			c->state = VPIT_WAIT_TRIGGER;
		break;
	default:
		/* Modes 2 and 3: the first count after a control word starts
		 * at once; a new count while counting waits for the end of the
		 * current period (mode 3: of the current cycle, not half-cycle).
		 * With GATE low the next gate edge loads it. */
		if (c->state != VPIT_COUNTING) {
			ch_start(c, tick);
		} else if (c->gate) {
			uint64_t d = ch_elapsed(c, tick);

			c->reload_pending = true;
			c->reload_tick = c->start + (d / c->n + 1) * c->n - c->base;
		}
		break;
	}
}

static void ch_write(struct vpit_channel *c, uint8_t v, uint64_t tick)
{
	switch (c->rw) {
	case PIT_RW_LSB:
		c->cr = v;
		break;
	case PIT_RW_MSB:
		c->cr = (uint16_t)(v << 8);
		break;
	default:
		if (!c->write_msb) {
			c->write_lsb = v;
			c->write_msb = true;
			if (c->mode == 0) {
				/* Mode 0: the first byte stops the count and
				 * sets OUT low at once. */
				c->held = ch_count(c, tick);
				c->state = VPIT_IDLE;
			}
			return;
		}
		c->write_msb = false;
		c->cr = (uint16_t)(c->write_lsb | v << 8);
		break;
	}
	c->null_count = true;
	ch_load(c, tick);
}

static uint8_t ch_read(struct vpit_channel *c, uint64_t tick)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latched) {
		uint16_t l = c->latch;

		switch (c->latched) {
		case PIT_RW_LSB:
			c->latched = 0;
			return (uint8_t)l;
		case PIT_RW_MSB:
			c->latched = 0;
			return (uint8_t)(l >> 8);
		default:
			c->latched = PIT_RW_MSB; /* the MSB is still to read */
			return (uint8_t)l;
		}
	}
	uint16_t count = ch_count(c, tick);
	switch (c->rw) {
	case PIT_RW_LSB:
		return (uint8_t)count;
	case PIT_RW_MSB:
		return (uint8_t)(count >> 8);
	default:
		c->read_msb = !c->read_msb;
		return c->read_msb ? (uint8_t)count : (uint8_t)(count >> 8);
	}
}

static void ch_set_gate(struct vpit_channel *c, bool gate, uint64_t tick)
{
	if (gate == c->gate)
		return;
	if (gate) {
		c->gate = true;
		switch (c->mode) {
		case 1:
		case 5: /* the rising edge triggers (and retriggers) */
		case 2:
		case 3: /* the rising edge reloads and restarts */
			if (c->state != VPIT_IDLE)
				ch_start(c, tick);
			break;
		default: /* 0 and 4: counting resumes where it stopped */
			c->start = tick;
			break;
		}
		return;
	}
	if (c->mode != 1 && c->mode != 5)
		c->base = ch_elapsed(c, tick); /* hold the count */
	c->gate = false;
	c->reload_pending = false; /* no reload while stopped */
}

void vpit_init(struct vpit *p, uint64_t now_ns)
{
	uint64_t tick = pit_ticks(now_ns);

	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < 3; i++) {
		struct vpit_channel *c = &p->ch[i];

		c->ctrl = 0x36; /* LSB then MSB, mode 3, binary */
		c->rw = PIT_RW_WORD;
		c->mode = 3;
		c->gate = i != 2; /* gates 0 and 1 are tied high on a PC */
		c->cr = 0;
		ch_start(c, tick);
	}
}

int vpit_io(struct vpit *p, uint16_t port, bool in, uint8_t *val, uint64_t now_ns)
{
	uint64_t tick = pit_ticks(now_ns);

	if ((port < VPIT_PORT_CH0 || port > VPIT_PORT_CMD) && port != VPIT_PORT_B) {
		if (in)
			*val = 0xFF;
		return KEEL_ENOENT;
	}
	pit_sync(p, tick);
	if (port == VPIT_PORT_B) {
		if (in) {
			/* The refresh bit toggles every 15 us on a PC; here
			 * on every read, so loops waiting for it end. */
			*val = (uint8_t)((p->port_b & PORT_B_WRITABLE) |
					 (p->refresh ? PORT_B_REFRESH : 0) |
					 (ch_out(&p->ch[2], tick) ? PORT_B_OUT2 : 0));
			p->refresh = !p->refresh;
		} else {
			p->port_b = *val & PORT_B_WRITABLE;
			ch_set_gate(&p->ch[2], *val & PORT_B_GATE2, tick);
		}
		return 0;
	}
	if (port == VPIT_PORT_CMD) {
		if (in)
			*val = 0xFF; /* the control word register is write-only */
		else
			pit_control(p, *val, tick);
		return 0;
	}
	struct vpit_channel *c = &p->ch[port - VPIT_PORT_CH0];
	if (in)
		*val = ch_read(c, tick);
	else
		ch_write(c, *val, tick);
	return 0;
}

uint64_t vpit_poll(struct vpit *p, uint64_t now_ns, bool *irq0_edge)
{
	uint64_t tick = pit_ticks(now_ns);
	struct vpit_channel *c = &p->ch[0];

	pit_sync(p, tick);
	*irq0_edge = p->irq0_pending;
	p->irq0_pending = false;
	if (c->state != VPIT_COUNTING || ch_gate_holds(c))
		return 0;
	uint64_t d = ch_elapsed(c, tick);
	uint64_t next = ch_next_rise(c, d);
	if (!next)
		return 0;
	uint64_t at = c->start + (next - c->base);
	if (c->reload_pending && c->reload_tick < at)
		at = c->reload_tick;
	return pit_tick_ns(at);
}
