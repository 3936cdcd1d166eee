/*
 * test_irqchip.c - the guest interrupt controllers' register models (local
 * APIC, IOAPIC, 8259A pair) on the host: reset values, priorities, EOI,
 * timers, IPI messages and the sequences Linux programs, checked against
 * the Intel SDM vol.3 ch.11, the 82093AA and the 8259A datasheets.
 * Most tests are scripts of steps (below); a failing step is named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/err.h"
#include "kernel/vdev/ioapic.h"
#include "kernel/vdev/lapic.h"
#include "kernel/vdev/pic.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------ captured output -- */

static struct irq_msg sent[64];
static unsigned sent_count;
static uint8_t eoi_vec[16];
static unsigned eoi_count;

static void cap_send(void *ctx, const struct irq_msg *m)
{
	if (sent_count < N(sent))
		sent[sent_count] = *m;
	sent_count++;
}

static void cap_eoi(void *ctx, uint8_t vector)
{
	if (eoi_count < N(eoi_vec))
		eoi_vec[eoi_count] = vector;
	eoi_count++;
}

static int cap_reset(void **state)
{
	sent_count = 0;
	eoi_count = 0;
	memset(sent, 0, sizeof(sent));
	return 0;
}

/* The i-th message sent has these fields. */
static void expect_msg(unsigned i, uint8_t vector, uint8_t delivery,
		       uint8_t shorthand, bool logical, bool level, bool assert,
		       uint32_t dest, uint32_t source)
{
	assert_true(i < sent_count);
	assert_int_equal(sent[i].vector, vector);
	assert_int_equal(sent[i].delivery, delivery);
	assert_int_equal(sent[i].shorthand, shorthand);
	assert_int_equal(sent[i].logical, logical);
	assert_int_equal(sent[i].level, level);
	assert_int_equal(sent[i].assert, assert);
	assert_int_equal(sent[i].dest, dest);
	assert_int_equal(sent[i].source, source);
}

/* --------------------------------------------------- step scripts -- */

enum step_op {
	S_END,
	S_LW,	   /* xAPIC write: a offset, b value, c now */
	S_LR,	   /* xAPIC read: a offset, b now, c expected */
	S_MW,	   /* x2APIC WRMSR: a MSR, b value, c expected return */
	S_MR,	   /* x2APIC RDMSR: a MSR, c expected value */
	S_ACCEPT,  /* a vector, b level, c expected return */
	S_PENDING, /* c expected vlapic_pending() */
	S_TAKE,	   /* vlapic_pending() must be a; the guest takes it */
	S_POLL,	   /* b now, c expected next deadline */
	S_SENT,	   /* c messages sent so far */
	S_EOIS,	   /* c level EOIs reported so far */
	S_IOW,	   /* IOAPIC register a := b (through IOREGSEL/IOWIN) */
	S_IOR,	   /* IOAPIC register a reads c */
	S_PIN,	   /* IOAPIC pin a at level b */
	S_IOEOI,   /* IOAPIC EOI broadcast for vector a */
	S_OUT,	   /* PIC port a := b */
	S_IN,	   /* PIC port a reads c */
	S_IRQ,	   /* PIC line a at level b */
	S_INTR,	   /* vpic_intr() is c */
	S_INTA,	   /* vpic_ack() returns c */
};

struct step {
	uint8_t op;
	uint32_t a;
	uint64_t b, c;
};

#define END { S_END, 0, 0, 0 }
#define LW(off, val) { S_LW, off, val, 0 }
#define LWT(off, val, now) { S_LW, off, val, now }
#define LR(off, want) { S_LR, off, 0, want }
#define LRT(off, now, want) { S_LR, off, now, want }
#define MW(msr, val, rc) { S_MW, msr, val, (uint64_t)(rc) }
#define MR(msr, want) { S_MR, msr, 0, want }
#define ACC(vec, level, ok) { S_ACCEPT, vec, level, ok }
#define PEND(v) { S_PENDING, 0, 0, (uint64_t)(v) }
#define TAKE(v) { S_TAKE, v, 0, 0 }
#define EOI LW(0xB0, 0)
#define POLL(now, next) { S_POLL, 0, now, next }
#define SENT(n) { S_SENT, 0, 0, n }
#define EOIS(n) { S_EOIS, 0, 0, n }
#define IOW(reg, val) { S_IOW, reg, val, 0 }
#define IOR(reg, want) { S_IOR, reg, 0, want }
#define PIN(pin, level) { S_PIN, pin, level, 0 }
#define IOEOI(vec) { S_IOEOI, vec, 0, 0 }
#define OUT(port, val) { S_OUT, port, val, 0 }
#define IN(port, want) { S_IN, port, 0, want }
#define IRQ(irq, level) { S_IRQ, irq, level, 0 }
#define INTR(on) { S_INTR, 0, 0, on }
#define INTA(vec) { S_INTA, 0, 0, vec }
#define ISR(cmd, want) OUT(cmd, 0x0B), IN(cmd, want) /* OCW3: read ISR */
#define IRR(cmd, want) OUT(cmd, 0x0A), IN(cmd, want)

struct models {
	struct vlapic *l;
	struct vioapic *io;
	struct vpic *p;
};

static void io_select(struct vioapic *io, uint32_t reg)
{
	vioapic_mmio_write(io, VIOAPIC_IOREGSEL, reg);
}

/* The value a step observes, for the steps that check one. */
static uint64_t step_do(const struct models *m, const struct step *s)
{
	uint32_t v32 = 0;
	uint64_t v64 = 0;
	uint8_t b = (uint8_t)s->b;

	switch (s->op) {
	case S_LW:
		assert_int_equal(vlapic_mmio_write(m->l, s->a, (uint32_t)s->b, s->c), 0);
		return s->c;
	case S_LR:
		assert_int_equal(vlapic_mmio_read(m->l, s->a, &v32, s->b), 0);
		return v32;
	case S_MW:
		return (uint64_t)vlapic_msr_write(m->l, s->a, s->b, 0);
	case S_MR:
		assert_int_equal(vlapic_msr_read(m->l, s->a, &v64, 0), 0);
		return v64;
	case S_ACCEPT:
		return vlapic_accept(m->l, (uint8_t)s->a, s->b);
	case S_PENDING:
		return (uint64_t)vlapic_pending(m->l);
	case S_TAKE:
		assert_int_equal(vlapic_pending(m->l), s->a);
		vlapic_ack(m->l, (uint8_t)s->a);
		return s->c;
	case S_POLL:
		return vlapic_timer_poll(m->l, s->b);
	case S_SENT:
		return sent_count;
	case S_EOIS:
		return eoi_count;
	case S_IOW:
		io_select(m->io, s->a);
		vioapic_mmio_write(m->io, VIOAPIC_IOWIN, (uint32_t)s->b);
		return s->c;
	case S_IOR:
		io_select(m->io, s->a);
		return vioapic_mmio_read(m->io, VIOAPIC_IOWIN);
	case S_PIN:
		vioapic_set_irq(m->io, s->a, s->b);
		return s->c;
	case S_IOEOI:
		vioapic_eoi(m->io, (uint8_t)s->a);
		return s->c;
	case S_OUT:
		assert_int_equal(vpic_io(m->p, (uint16_t)s->a, false, &b), 0);
		return s->c;
	case S_IN:
		assert_int_equal(vpic_io(m->p, (uint16_t)s->a, true, &b), 0);
		return b;
	case S_IRQ:
		vpic_set_irq(m->p, s->a, s->b);
		return s->c;
	case S_INTR:
		return vpic_intr(m->p);
	case S_INTA:
		return (uint64_t)vpic_ack(m->p);
	default:
		fail_msg("bad step op %u", s->op);
		return 0;
	}
}

static void run(const struct models *m, const struct step *s)
{
	for (unsigned i = 0; s[i].op != S_END; i++) {
		uint64_t got = step_do(m, &s[i]);
		if (got != s[i].c)
			fail_msg("step %u (op %u, a %#x): got %#llx, want %#llx", i,
				 s[i].op, s[i].a, (unsigned long long)got,
				 (unsigned long long)s[i].c);
	}
}

/* ------------------------------------------------- local APIC -- */

/* A local APIC with id, software-enabled (spurious vector 0xFF), the
 * script run on it. */
static void lapic_run(struct vlapic *l, uint32_t id, const struct step *s)
{
	struct models m = { .l = l };

	vlapic_init(l, id, id == 0, cap_send, cap_eoi, NULL);
	assert_int_equal(vlapic_mmio_write(l, 0xF0, 0x1FF, 0), 0);
	run(&m, s);
}

static void lapic_more(struct vlapic *l, const struct step *s)
{
	struct models m = { .l = l };

	run(&m, s);
}

static void to_x2apic(struct vlapic *l)
{
	assert_int_equal(vlapic_set_base(l, vlapic_get_base(l) | VLAPIC_BASE_EXTD), 0);
}

static void test_lapic_reset_values(void **state)
{
	/* SDM 11.4.7.1: power-up state; LVTs masked, SVR 0xFF, DFR all 1s. */
	static const struct step s[] = {
		LR(0x20, 0), LR(0x30, 0x00050014), LR(0x80, 0), LR(0xA0, 0),
		LR(0xD0, 0), LR(0xE0, 0xFFFFFFFF), LR(0xF0, 0xFF), LR(0x100, 0),
		LR(0x170, 0), LR(0x180, 0), LR(0x200, 0), LR(0x270, 0),
		LR(0x280, 0), LR(0x300, 0), LR(0x310, 0), LR(0x320, 0x10000),
		LR(0x330, 0x10000), LR(0x340, 0x10000), LR(0x350, 0x10000),
		LR(0x360, 0x10000), LR(0x370, 0x10000), LR(0x380, 0),
		LR(0x390, 0), LR(0x3E0, 0), END
	};
	struct vlapic l;
	struct models m = { .l = &l };

	vlapic_init(&l, 0, true, cap_send, cap_eoi, NULL);
	assert_int_equal(vlapic_get_base(&l), 0xFEE00900ULL); /* EN | BSP */
	run(&m, s);
	vlapic_init(&l, 3, false, cap_send, cap_eoi, NULL);
	assert_int_equal(vlapic_get_base(&l), 0xFEE00800ULL);
	assert_false(vlapic_is_x2apic(&l));
	static const struct step id3[] = { LR(0x20, 0x03000000), END };
	run(&m, id3);
}

static void test_lapic_register_masks(void **state)
{
	/* What survives writing all ones (all zeros for the DFR). */
	static const struct step s[] = {
		LW(0x320, ~0u), LR(0x320, 0x000700FF), /* + timer mode */
		LW(0x330, ~0u), LR(0x330, 0x000107FF), /* + delivery mode */
		LW(0x340, ~0u), LR(0x340, 0x000107FF),
		LW(0x350, ~0u), LR(0x350, 0x0001A7FF), /* + polarity, trigger */
		LW(0x360, ~0u), LR(0x360, 0x0001A7FF),
		LW(0x370, ~0u), LR(0x370, 0x000100FF),
		LW(0xF0, ~0u), LR(0xF0, 0x1FF), LW(0x3E0, ~0u), LR(0x3E0, 0xB),
		LW(0xD0, ~0u), LR(0xD0, 0xFF000000), LW(0x80, ~0u), LR(0x80, 0xFF),
		LW(0x310, ~0u), LR(0x310, 0xFF000000), LW(0xE0, 0),
		LR(0xE0, 0x0FFFFFFF), END
	};
	struct vlapic l;

	lapic_run(&l, 1, s);
}

static void test_lapic_readonly_and_reserved(void **state)
{
	static const struct step s[] = {
		LW(0x20, ~0u), LW(0x30, ~0u), LW(0xA0, ~0u), LW(0x100, ~0u),
		LW(0x200, ~0u), LW(0x390, ~0u), /* all ignored: ID stays ours */
		LR(0x20, 0x02000000), LR(0x30, 0x00050014), LR(0xA0, 0),
		LR(0x100, 0), LR(0x200, 0), LR(0x390, 0),
		LR(0xB0, 0),		 /* EOI: write-only */
		LW(0x280, 0), LR(0x280, 0), /* nothing illegal so far */
		LR(0x2F0, 0),		 /* CMCI: not with 6 LVTs */
		LW(0x280, 0), LR(0x280, 0x80), /* illegal register address */
		END
	};
	struct vlapic l;
	uint32_t v;

	lapic_run(&l, 2, s);
	assert_int_equal(vlapic_mmio_read(&l, 0x1000, &v, 0), KEEL_ERANGE);
}

static void test_lapic_esr_and_error_lvt(void **state)
{
	static const struct step s[] = {
		ACC(15, 0, false),
		LR(0x280, 0), LW(0x280, 0), /* latched by the write ... */
		LR(0x280, 0x40),	     /* ... received illegal vector */
		LW(0x280, 0), LR(0x280, 0), PEND(-1), /* LVT error masked */
		LW(0x370, 0xFE),
		LW(0x300, 0x00000005), SENT(0), /* fixed IPI, vector 5 */
		PEND(0xFE),		       /* the error interrupt */
		LW(0x280, 0), LR(0x280, 0x20), /* send illegal vector */
		END
	};
	struct vlapic l;

	lapic_run(&l, 0, s);
}

static void test_lapic_sw_disabled(void **state)
{
	static const struct step s[] = {
		LW(0xF0, 0xFF),
		ACC(0x30, 0, false),		   /* SVR bit 8 clear */
		LW(0x350, 0x700), LR(0x350, 0x10700), /* the mask stays */
		LW(0xF0, 0x1FF), ACC(0x30, 0, true),
		LW(0x350, 0x700), LR(0x350, 0x700),
		LW(0xF0, 0xFF), LR(0x350, 0x10700), /* masks every LVT ... */
		PEND(0x30),			    /* ... IRR is held */
		END
	};
	struct vlapic l;

	lapic_run(&l, 0, s);
}

static void test_lapic_tpr_ppr(void **state)
{
	static const struct step s[] = {
		ACC(0x45, 0, true),
		LW(0x80, 0x40), PEND(-1),	/* class 4 is not above 4 */
		LW(0x80, 0x3F), LR(0xA0, 0x3F), TAKE(0x45),
		LR(0xA0, 0x40),			/* the ISR class wins */
		LW(0x80, 0x47), LR(0xA0, 0x47), /* equal class: TPR */
		LW(0x80, 0x50), LR(0xA0, 0x50), END
	};
	struct vlapic l;

	lapic_run(&l, 0, s);
	assert_int_equal(vlapic_ppr(&l), 0x50);
	vlapic_set_cr8(&l, 0x2);
	static const struct step cr8[] = { LR(0x80, 0x20), END };
	lapic_more(&l, cr8);
	assert_int_equal(vlapic_get_cr8(&l), 2);
}

static void test_lapic_nested_priorities(void **state)
{
	static const struct step s[] = {
		ACC(0x31, 0, true), ACC(0x52, 0, true), TAKE(0x52),
		LR(0x120, 1u << 18), LR(0x210, 1u << 17), /* ISR 0x52, IRR 0x31 */
		PEND(-1), ACC(0x55, 0, true), PEND(-1), /* same class waits */
		ACC(0x61, 0, true), TAKE(0x61),		/* higher class nests */
		EOI, LR(0x130, 0), LR(0x120, 1u << 18), /* the highest retires */
		PEND(-1), EOI, TAKE(0x55), EOI, PEND(0x31),
		EOIS(0), END /* all edge */
	};
	struct vlapic l;

	lapic_run(&l, 0, s);
}

static void test_lapic_level_eoi_and_pending_flag(void **state)
{
	static const struct step s[] = {
		ACC(0x41, 1, true), LR(0x1A0, 1u << 1), /* TMR 0x41 */
		TAKE(0x41), EOI, EOIS(1),
		ACC(0x41, 0, true), LR(0x1A0, 0),	/* edge: TMR clears */
		TAKE(0x41), EOI, EOI, EOIS(1), END	/* empty ISR: nothing */
	};
	struct vlapic l;

	lapic_run(&l, 0, s);
	assert_int_equal(eoi_vec[0], 0x41);
	assert_int_equal(l.pending, 0);
	vlapic_accept(&l, 0x80, false);
	assert_int_equal(l.pending, 1); /* set by accept ... */
	assert_int_equal(vlapic_pending(&l), 0x80);
	assert_int_equal(l.pending, 0); /* ... cleared by the owner's look */
}

static void test_timer_oneshot(void **state)
{
	/* Divide by 16: 1000 counts from t=500 end at 500 + 16000. */
	static const struct step s[] = {
		LW(0x3E0, 0x3), LW(0x320, 0x40), LWT(0x380, 1000, 500),
		POLL(500, 16500), LRT(0x390, 500, 1000),
		LRT(0x390, 4500, 750), LRT(0x390, 4501, 750),
		LRT(0x390, 4516, 749), POLL(16499, 16500), PEND(-1),
		POLL(16500, 0), PEND(0x40), LRT(0x390, 16500, 0),
		LRT(0x380, 16500, 1000), POLL(99999, 0), END /* once only */
	};
	struct vlapic l;

	lapic_run(&l, 0, s);
}

static void test_timer_divide_encodings(void **state)
{
	static const uint32_t div[8][2] = { /* DCR, divisor (figure 11-10) */
		{ 0x0, 2 },  { 0x1, 4 },  { 0x2, 8 },	{ 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xA, 128 }, { 0xB, 1 },
	};
	/* A new divisor mid-count: 600 counts left, then 2 ns each. */
	static const struct step midway[] = {
		LWT(0x380, 1000, 0), LWT(0x3E0, 0x0, 400),
		LRT(0x390, 400, 600), POLL(400, 1600), END
	};
	struct vlapic l;

	for (unsigned i = 0; i < N(div); i++) {
		const struct step s[] = {
			LW(0x3E0, div[i][0]), LW(0x320, 0x40),
			LWT(0x380, 100, 7), POLL(7, 7 + 100 * div[i][1]), END
		};
		lapic_run(&l, 0, s);
	}
	lapic_more(&l, midway);
}

/* Periodic: 1000 periods polled late by varying amounts land exactly on
 * start + k * period; each fires once. */
static void test_timer_periodic_no_drift(void **state)
{
	const uint64_t start = 1000, period = 2 * 5000; /* divide 2 */
	static const struct step arm[] = {
		LW(0x320, 0x20040), LWT(0x380, 5000, 1000), POLL(1000, 11000), END
	};
	struct vlapic l;

	lapic_run(&l, 0, arm);
	for (uint64_t k = 1; k <= 1000; k++) {
		uint64_t now = start + k * period + (k * 37) % 9000;
		const struct step s[] = {
			LRT(0x390, start + k * period - 2, 1),
			POLL(now, start + (k + 1) * period), TAKE(0x40),
			LWT(0xB0, 0, now), PEND(-1), END
		};
		lapic_more(&l, s);
	}
	/* The count reloads: at an expiry it reads the initial count. */
	const struct step end[] = { LRT(0x390, start + 1001 * period, 5000), END };
	lapic_more(&l, end);
}

static void test_timer_periodic_catch_up(void **state)
{
	/* 10.5 periods late: one interrupt, the schedule kept. */
	static const struct step s[] = {
		LW(0x3E0, 0xB), LW(0x320, 0x20040), LW(0x380, 100),
		POLL(1050, 1100), TAKE(0x40), PEND(-1), POLL(1099, 1100),
		PEND(-1), END
	};
	struct vlapic l;

	lapic_run(&l, 0, s);
}

static void test_timer_masked_stop_and_mode_switch(void **state)
{
	static const struct step s[] = {
		LW(0x3E0, 0xB), LW(0x320, 0x10040), LW(0x380, 10), /* masked */
		POLL(10, 0), PEND(-1), LRT(0x390, 10, 0),
		LW(0x320, 0x40), LW(0x380, 10), LWT(0x380, 0, 5), /* 0 stops */
		POLL(10, 0), LRT(0x390, 5, 0),
		LW(0x380, 10), LWT(0x320, 0x20040, 5), /* mode change disarms */
		POLL(10, 0), PEND(-1), END
	};
	struct vlapic l;

	lapic_run(&l, 0, s);
}

static void test_timer_tsc_deadline(void **state)
{
	static const struct step mode[] = {
		LW(0x320, 0x40040), LW(0x380, 1000), LR(0x380, 0), END
	};
	static const struct step fire[] = {
		LRT(0x390, 200, 0), POLL(1600, 1601), /* ceil(3001 / 2) */
		PEND(-1), POLL(1601, 0), TAKE(0x40), EOI, END
	};
	struct vlapic l;

	vlapic_init(&l, 0, true, cap_send, cap_eoi, NULL);
	vlapic_mmio_write(&l, 0xF0, 0x1FF, 0);
	l.tsc_hz = 2000000000; /* 2 ticks per ns */
	/* Not in TSC-deadline mode: the MSR ignores writes, reads 0. */
	assert_int_equal(vlapic_tsc_deadline_write(&l, 5000, 0, 0), 0);
	assert_int_equal(vlapic_tsc_deadline_read(&l), 0);
	assert_int_equal(vlapic_timer_poll(&l, 10000), 0);
	lapic_more(&l, mode); /* the initial count is ignored now */
	assert_int_equal(vlapic_tsc_deadline_write(&l, 1000 + 3001, 1000, 100), 0);
	assert_int_equal(vlapic_tsc_deadline_read(&l), 4001);
	lapic_more(&l, fire);
	assert_int_equal(vlapic_tsc_deadline_read(&l), 0); /* cleared */
	/* Past: fires at the next poll. 0: disarms. */
	vlapic_tsc_deadline_write(&l, 10, 5000, 2000);
	assert_int_equal(vlapic_timer_poll(&l, 2000), 0);
	assert_int_equal(vlapic_pending(&l), 0x40);
	vlapic_tsc_deadline_write(&l, 1u << 30, 0, 0);
	vlapic_tsc_deadline_write(&l, 0, 0, 0);
	assert_int_equal(vlapic_timer_poll(&l, 1ULL << 40), 0);
	/* Leaving TSC-deadline mode disarms and clears the MSR. */
	vlapic_tsc_deadline_write(&l, 1u << 30, 0, 0);
	vlapic_mmio_write(&l, 0x320, 0x40, 0);
	vlapic_mmio_write(&l, 0x320, 0x40040, 0);
	assert_int_equal(vlapic_tsc_deadline_read(&l), 0);
	assert_int_equal(vlapic_timer_poll(&l, 1ULL << 40), 0);
	l.tsc_hz = 0;
	assert_int_equal(vlapic_tsc_deadline_write(&l, 99, 0, 0), KEEL_EINVAL);
}

static void test_icr_xapic_fixed_and_shorthands(void **state)
{
	static const struct step s[] = {
		LW(0x310, 0x03000000), LW(0x300, 0x000040F3), SENT(1),
		LR(0x300, 0x000040F3), /* delivery status: idle */
		LR(0x310, 0x03000000), PEND(-1), /* not delivered to self */
		LW(0x300, 0x00044031), LW(0x300, 0x00084032),
		LW(0x300, 0x000C4033), SENT(4), END
	};
	struct vlapic l;

	lapic_run(&l, 1, s);
	expect_msg(0, 0xF3, IRQ_DM_FIXED, IRQ_SH_NONE, false, false, true, 3, 1);
	expect_msg(1, 0x31, IRQ_DM_FIXED, IRQ_SH_SELF, false, false, true, 3, 1);
	expect_msg(2, 0x32, IRQ_DM_FIXED, IRQ_SH_ALL, false, false, true, 3, 1);
	expect_msg(3, 0x33, IRQ_DM_FIXED, IRQ_SH_OTHERS, false, false, true, 3, 1);
}

/* Linux's wakeup_secondary_cpu_via_init: INIT assert, INIT de-assert,
 * a SIPI; then an NMI in logical mode. */
static void test_icr_xapic_init_sipi_nmi(void **state)
{
	static const struct step s[] = {
		LW(0x310, 0x01000000), LW(0x300, 0x0000C500),
		LW(0x300, 0x00008500), LW(0x300, 0x00000698),
		LW(0x310, 0x0C000000), LW(0x300, 0x00004C00), SENT(4), END
	};
	struct vlapic l;

	lapic_run(&l, 0, s);
	expect_msg(0, 0, IRQ_DM_INIT, IRQ_SH_NONE, false, true, true, 1, 0);
	expect_msg(1, 0, IRQ_DM_INIT, IRQ_SH_NONE, false, true, false, 1, 0);
	expect_msg(2, 0x98, IRQ_DM_SIPI, IRQ_SH_NONE, false, false, false, 1, 0);
	expect_msg(3, 0, IRQ_DM_NMI, IRQ_SH_NONE, true, false, true, 0x0C, 0);
}

static void test_x2apic_icr_and_self_ipi(void **state)
{
	static const struct step s[] = { /* logical, ALL, 32-bit dest */
		MW(0x830, (0x12345ULL << 32) | 0x848F3, 0), SENT(1),
		MR(0x830, (0x12345ULL << 32) | 0x848F3),
		MW(0x83F, 0x99, 0), SENT(2), END
	};
	struct vlapic l;

	vlapic_init(&l, 7, false, cap_send, cap_eoi, NULL);
	to_x2apic(&l);
	lapic_more(&l, s);
	expect_msg(0, 0xF3, IRQ_DM_FIXED, IRQ_SH_ALL, true, false, true, 0x12345, 7);
	expect_msg(1, 0x99, IRQ_DM_FIXED, IRQ_SH_SELF, false, false, true, 7, 7);
}

static void test_x2apic_registers(void **state)
{
	static const struct step xapic[] = { MW(0x808, 0, -1), END };
	static const struct step s[] = {
		MR(0x802, 0x25), MR(0x80D, (2u << 16) | (1u << 5)), /* LDR */
		MR(0x803, 0x00050014), MR(0x80F, 0x1FF), /* kept from xAPIC */
		LR(0x30, 0), LW(0x80, 0x20), MR(0x808, 0), /* no MMIO now */
		MW(0x808, 0x30, 0), MR(0x80A, 0x30), END   /* PPR */
	};
	struct vlapic l;

	lapic_run(&l, 0x25, xapic);
	to_x2apic(&l);
	lapic_more(&l, s);
}

static void test_x2apic_gp(void **state)
{
	/* Table 11-6 and 11.12.1.3: what must raise #GP in x2APIC mode. */
	static const uint32_t no_read[] = {
		0x80B, 0x83F,		    /* EOI, SELF IPI: write-only */
		0x80E, 0x831, 0x809, 0x80C, /* DFR, ICR high, APR, RRD */
		0x82F, 0x8FF,		    /* CMCI (6 LVTs), nothing */
	};
	static const struct step s[] = {
		MW(0x802, 0, -1), MW(0x803, 0, -1), MW(0x80A, 0, -1), /* RO */
		MW(0x80D, 0, -1), MW(0x810, 0, -1), MW(0x839, 0, -1),
		MW(0x80B, 1, -1), MW(0x828, 1, -1), /* EOI, ESR: only 0 */
		MW(0x808, 0x100, -1), MW(0x808, 1ULL << 32, -1),
		MW(0x80F, 0x11FF, -1), MW(0x830, 0x1040, -1), /* ICR bit 12 */
		MW(0x83F, 0x100, -1), MW(0x83E, 0x4, -1), MW(0x837, 0x20000, -1),
		SENT(0),
		MW(0x80B, 0, 0), MW(0x828, 0, 0), MW(0x808, 0xFF, 0),
		MW(0x835, 0x1A7FF, 0), MR(0x835, 0x1A7FF), MW(0x83E, 0xB, 0),
		MW(0x80F, 0x1FF, 0), END
	};
	struct vlapic l;
	uint64_t v;

	vlapic_init(&l, 1, false, cap_send, cap_eoi, NULL);
	assert_int_equal(vlapic_msr_read(&l, 0x803, &v, 0), -1); /* xAPIC */
	to_x2apic(&l);
	for (unsigned i = 0; i < N(no_read); i++)
		assert_int_equal(vlapic_msr_read(&l, no_read[i], &v, 0), -1);
	lapic_more(&l, s);
}

static void test_apic_base_transitions(void **state)
{
	const uint64_t off = 0xFEE00000, xapic = off | VLAPIC_BASE_EN;
	const uint64_t x2apic = xapic | VLAPIC_BASE_EXTD;
	static const struct step reset[] = { /* power-up registers, same ID */
		LR(0x80, 0), LR(0xF0, 0xFF), LR(0x20, 0x01000000), END
	};
	struct vlapic l;

	vlapic_init(&l, 1, false, cap_send, cap_eoi, NULL);
	assert_int_equal(vlapic_set_base(&l, off | VLAPIC_BASE_EXTD), -1);
	assert_int_equal(vlapic_set_base(&l, xapic | 1), -1);	/* bit 0 */
	assert_int_equal(vlapic_set_base(&l, xapic | 0x200), -1); /* bit 9 */
	assert_int_equal(vlapic_set_base(&l, xapic | (1ULL << 60)), -1);
	assert_int_equal(vlapic_set_base(&l, x2apic), 0);
	assert_true(vlapic_is_x2apic(&l));
	assert_int_equal(vlapic_set_base(&l, xapic), -1); /* x2APIC -> xAPIC */
	assert_int_equal(vlapic_msr_write(&l, 0x808, 0x20, 0), 0);
	assert_int_equal(vlapic_msr_write(&l, 0x80F, 0x1FF, 0), 0);
	assert_int_equal(vlapic_set_base(&l, off), 0);	   /* -> disabled */
	assert_int_equal(vlapic_get_base(&l), off);
	assert_false(vlapic_accept(&l, 0x40, false));
	assert_int_equal(vlapic_pending(&l), -1);
	assert_int_equal(vlapic_set_base(&l, x2apic), -1); /* disabled -> x2 */
	assert_int_equal(vlapic_set_base(&l, xapic), 0);
	lapic_more(&l, reset);
	assert_int_equal(vlapic_set_base(&l, xapic | VLAPIC_BASE_BSP), 0);
}

static void test_lapic_init_ipi_reset(void **state)
{
	static const struct step before[] = {
		MW(0x80F, 0x1FF, 0), MW(0x808, 0x20, 0), MW(0x835, 0x700, 0),
		ACC(0x50, 1, true), END
	};
	static const struct step after[] = { /* x2APIC, ID kept; the rest reset */
		MR(0x802, 3), MR(0x808, 0), MR(0x835, 0x10000), MR(0x80F, 0xFF),
		MR(0x822, 0), MR(0x81A, 0), END /* IRR, TMR */
	};
	struct vlapic l;

	vlapic_init(&l, 3, false, cap_send, cap_eoi, NULL);
	to_x2apic(&l);
	lapic_more(&l, before);
	uint64_t base = vlapic_get_base(&l);
	vlapic_reset_init(&l);
	assert_int_equal(vlapic_get_base(&l), base);
	lapic_more(&l, after);
}

struct match_case {
	bool logical;
	uint8_t shorthand;
	uint32_t dest, source;
	bool want;
};

static void expect_matches(const struct vlapic *l, const struct match_case *c,
			   unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct irq_msg m = { .logical = c[i].logical, .dest = c[i].dest,
				     .shorthand = c[i].shorthand,
				     .source = c[i].source };
		if (vlapic_match_dest(l, &m) != c[i].want)
			fail_msg("case %u: dest %#x logical %d shorthand %d", i,
				 c[i].dest, c[i].logical, c[i].shorthand);
	}
}

static void test_match_xapic_physical_and_shorthands(void **state)
{
	static const struct match_case c[] = {
		{ false, IRQ_SH_NONE, 3, 0, true },
		{ false, IRQ_SH_NONE, 4, 0, false },
		{ false, IRQ_SH_NONE, 0xFF, 0, true }, /* broadcast */
		{ false, IRQ_SH_SELF, 4, 3, true },
		{ false, IRQ_SH_SELF, 3, 2, false },
		{ false, IRQ_SH_OTHERS, 3, 2, true },
		{ false, IRQ_SH_OTHERS, 3, 3, false },
		{ true, IRQ_SH_ALL, 0, 3, true },
	}, off[] = {
		{ false, IRQ_SH_NONE, 3, 0, false },
		{ false, IRQ_SH_ALL, 0, 0, false },
	};
	struct vlapic l;

	vlapic_init(&l, 3, false, cap_send, cap_eoi, NULL);
	expect_matches(&l, c, N(c));
	vlapic_set_base(&l, 0xFEE00000); /* hardware-disabled: nothing */
	expect_matches(&l, off, N(off));
}

static void test_match_xapic_logical(void **state)
{
	static const struct match_case flat[] = { /* LDR bits 1 and 3 */
		{ true, 0, 0x02, 0, true }, { true, 0, 0x04, 0, false },
		{ true, 0, 0x0A, 0, true }, { true, 0, 0xFF, 0, true },
	}, cluster[] = { /* cluster 2, member bit 0 */
		{ true, 0, 0x21, 0, true },  { true, 0, 0x23, 0, true },
		{ true, 0, 0x22, 0, false }, { true, 0, 0x31, 0, false },
		{ true, 0, 0xF1, 0, true },  /* cluster 15: every cluster */
		{ false, 0, 0x00, 0, true }, /* physical: still the ID */
	};
	static const struct step to_flat[] = { LW(0xD0, 0x0A000000), END };
	static const struct step to_cluster[] = {
		LW(0xE0, 0x0FFFFFFF), LW(0xD0, 0x21000000), END
	};
	struct vlapic l;

	lapic_run(&l, 0, to_flat);
	expect_matches(&l, flat, N(flat));
	lapic_more(&l, to_cluster);
	expect_matches(&l, cluster, N(cluster));
}

static void test_match_x2apic(void **state)
{
	static const struct match_case c[] = { /* ID 0x25: cluster 2, bit 5 */
		{ true, 0, (2u << 16) | 0x20, 0, true },
		{ true, 0, (2u << 16) | 0x10, 0, false },
		{ true, 0, (3u << 16) | 0x20, 0, false },
		{ true, 0, 0xFFFFFFFF, 0, true },
		{ false, 0, 0x25, 0, true },
		{ false, 0, 0x125, 0, false }, /* 32-bit IDs: no aliasing */
		{ false, 0, 0xFF, 0, false },  /* not broadcast here */
		{ false, 0, 0xFFFFFFFF, 0, true },
	};
	struct vlapic l;

	vlapic_init(&l, 0x25, false, cap_send, cap_eoi, NULL);
	to_x2apic(&l);
	expect_matches(&l, c, N(c));
}

static void test_lapic_extint(void **state)
{
	static const struct step wire[] = { LR(0x350, 0x700), LR(0x360, 0x400), END };
	struct vlapic l;

	vlapic_init(&l, 0, true, cap_send, cap_eoi, NULL);
	assert_false(vlapic_accepts_extint(&l)); /* LINT0 masked at reset */
	vlapic_set_virtual_wire(&l);
	assert_true(vlapic_accepts_extint(&l));
	lapic_more(&l, wire);
	vlapic_mmio_write(&l, 0x350, 0x10700, 0);
	assert_false(vlapic_accepts_extint(&l));
	vlapic_mmio_write(&l, 0x350, 0x00030, 0); /* fixed */
	assert_false(vlapic_accepts_extint(&l));
	vlapic_set_base(&l, 0xFEE00000); /* no APIC: INTR goes to the core */
	assert_true(vlapic_accepts_extint(&l));
}

/* ----------------------------------------------------------- IOAPIC -- */

/* Redirection entry of pin: low and high dword registers. */
#define RTE_LO(pin) (0x10 + 2 * (pin))
#define RTE_HI(pin) (0x11 + 2 * (pin))

static void ioapic_run(struct vioapic *io, const struct step *s)
{
	struct models m = { .io = io };

	vioapic_init(io, cap_send, NULL);
	run(&m, s);
}

static void test_ioapic_reset_and_registers(void **state)
{
	static const struct step s[] = {
		IOR(0x01, 0x00170011), IOR(0x00, 0), IOR(RTE_LO(0), 0x10000),
		IOR(RTE_HI(0), 0), IOR(RTE_LO(23), 0x10000), IOR(RTE_HI(23), 0),
		IOW(0x00, 0xFF000000), IOR(0x00, 0x0F000000), /* 4-bit ID */
		IOR(0x02, 0x0F000000), /* arbitration ID follows */
		IOW(0x01, 0), IOR(0x01, 0x00170011),
		IOW(RTE_LO(0), ~0u), IOR(RTE_LO(0), 0x0001AFFF), /* no status */
		IOW(RTE_HI(0), ~0u), IOR(RTE_HI(0), 0xFF000000),
		IOR(RTE_LO(24), 0), SENT(0), END /* past the table */
	};
	struct vioapic io;

	ioapic_run(&io, s);
	for (unsigned pin = 0; pin < 24; pin++)
		assert_int_equal(io.rte[pin] & ~0xFFFFFFFFULL, 0);
	assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_IOREGSEL), RTE_LO(24));
	assert_int_equal(vioapic_mmio_read(&io, 0x20), 0);
}

static void test_ioapic_edge(void **state)
{
	static const struct step s[] = {
		IOW(RTE_HI(4), 0x01000000), IOW(RTE_LO(4), 0x934), /* lowest, logical */
		PIN(4, 1), SENT(1), PIN(4, 1), SENT(1), /* no edge */
		PIN(4, 0), PIN(4, 1), SENT(2), IOR(RTE_LO(4), 0x934), /* no IRR */
		IOW(RTE_LO(4), 0x10934), PIN(4, 0), PIN(4, 1), /* masked: lost */
		IOW(RTE_LO(4), 0x934), SENT(2),
		PIN(30, 1), SENT(2), END /* no such pin */
	};
	struct vioapic io;

	ioapic_run(&io, s);
	expect_msg(0, 0x34, IRQ_DM_LOWEST, IRQ_SH_NONE, true, false, true, 1, 0);
}

static void test_ioapic_level_remote_irr(void **state)
{
	static const struct step s[] = {
		IOW(RTE_HI(9), 0x02000000), IOW(RTE_LO(9), 0x8039), /* level */
		PIN(9, 1), SENT(1), IOR(RTE_LO(9), 0xC039),	/* Remote IRR */
		PIN(9, 1), SENT(1),	     /* waits for the EOI */
		IOEOI(0x38), SENT(1),	     /* another vector: nothing */
		IOEOI(0x39), SENT(2),	     /* still asserted: again */
		PIN(9, 0), IOEOI(0x39), SENT(2), IOR(RTE_LO(9), 0x8039),
		PIN(9, 1), SENT(3), END
	};
	struct vioapic io;

	ioapic_run(&io, s);
	expect_msg(0, 0x39, IRQ_DM_FIXED, IRQ_SH_NONE, false, true, true, 2, 0);
	vioapic_mmio_write(&io, VIOAPIC_EOI, 0x39); /* the 0x20-style register */
	assert_int_equal(sent_count, 4);
}

static void test_ioapic_unmask_and_edge_switch(void **state)
{
	static const struct step s[] = {
		IOW(RTE_LO(11), 0x18041), PIN(11, 1), SENT(0), /* level, masked */
		IOW(RTE_LO(11), 0x8041), SENT(1),	       /* unmask sends */
		/* Linux's Remote IRR clear without an EOI register: masked
		 * and edge, then level again. */
		IOW(RTE_LO(11), 0x10041), IOR(RTE_LO(11), 0x10041),
		IOW(RTE_LO(11), 0x8041), SENT(2), END
	};
	struct vioapic io;

	ioapic_run(&io, s);
	assert_int_equal(sent[1].vector, 0x41);
}

static void test_ioapic_polarity(void **state)
{
	static const struct step s[] = {
		PIN(16, 1), IOW(RTE_LO(16), 0xA051), SENT(0), /* idle high */
		PIN(16, 0), SENT(1), /* active low: asserted */
		PIN(16, 1), IOEOI(0x51), SENT(1),
		IOW(RTE_LO(17), 0x2052), /* edge, active low */
		PIN(17, 1), SENT(1), PIN(17, 0), SENT(2), END /* falling edge */
	};
	struct vioapic io;

	ioapic_run(&io, s);
	assert_int_equal(sent[1].vector, 0x52);
}

/* -------------------------------------------------------------- PIC -- */

/* Linux's init_8259A(0): ICW1 0x11, ICW2 0x20/0x28, ICW3 4/2, ICW4 1,
 * then the masks. */
static const struct step pic_linux_init[] = {
	OUT(0x21, 0xFF), OUT(0xA1, 0xFF), OUT(0x20, 0x11), OUT(0x21, 0x20),
	OUT(0x21, 0x04), OUT(0x21, 0x01), OUT(0xA0, 0x11), OUT(0xA1, 0x28),
	OUT(0xA1, 0x02), OUT(0xA1, 0x01), OUT(0x21, 0x00), OUT(0xA1, 0x00),
	END
};

static void pic_run(struct vpic *p, const struct step *s)
{
	struct models m = { .p = p };

	vpic_init(p);
	run(&m, pic_linux_init);
	run(&m, s);
}

static void test_pic_bios_state(void **state)
{
	static const struct step s[] = {
		IN(0x21, 0xFB), IN(0xA1, 0xFF), IRQ(0, 1), INTR(0), /* masked */
		OUT(0x21, 0xFA), INTR(1), INTA(0x08), END
	};
	struct vpic p;
	struct models m = { .p = &p };
	uint8_t v = 0;

	vpic_init(&p);
	run(&m, s);
	assert_int_equal(vpic_io(&p, 0x22, true, &v), KEEL_ENOENT);
	assert_int_equal(vpic_io(&p, 0x4D2, false, &v), KEEL_ENOENT);
}

static void test_pic_linux_init_and_eoi(void **state)
{
	static const struct step s[] = {
		IN(0x21, 0x00), INTR(0), IRQ(1, 1), INTR(1), INTA(0x21),
		INTR(0), ISR(0x20, 0x02), OUT(0x20, 0x20), /* non-specific */
		ISR(0x20, 0x00), IRR(0x20, 0x00), END /* edge: taken by INTA */
	};
	struct vpic p;

	pic_run(&p, s);
}

static void test_pic_priority_and_nesting(void **state)
{
	static const struct step s[] = {
		IRQ(3, 1), IRQ(1, 1), INTA(0x21), /* IR1 before IR3 */
		INTR(0), IRQ(0, 1), INTR(1), INTA(0x20), /* IR0 nests */
		ISR(0x20, 0x03), OUT(0x20, 0x61), /* specific EOI of IR1 */
		ISR(0x20, 0x01), INTR(0), OUT(0x20, 0x20), INTR(1), INTA(0x23),
		END
	};
	struct vpic p;

	pic_run(&p, s);
}

static void test_pic_cascade(void **state)
{
	static const struct step s[] = {
		IRQ(10, 1), INTR(1), INTA(0x2A),
		ISR(0x20, 0x04), ISR(0xA0, 0x04), /* IR2 of each */
		IRQ(12, 1), INTR(0), /* below IR10 on the slave */
		OUT(0xA0, 0x20), OUT(0x20, 0x20), INTR(1), INTA(0x2C),
		OUT(0xA0, 0x20), OUT(0x20, 0x20),
		OUT(0x21, 0x04), IRQ(9, 1), INTR(0), /* IR2 masked: no slave */
		OUT(0x21, 0x00), INTA(0x29), END
	};
	struct vpic p;

	pic_run(&p, s);
}

static void test_pic_spurious(void **state)
{
	static const struct step s[] = {
		OUT(0x4D0, 0x20), IRQ(5, 1), INTR(1), /* IRQ 5 level */
		IRQ(5, 0), INTA(0x27),	       /* gone before INTA: IR7 */
		ISR(0x20, 0x00),	       /* with no ISR bit */
		OUT(0x4D1, 0x04), IRQ(10, 1), IRQ(10, 0), /* IRQ 10 level */
		INTR(1), INTA(0x2F), /* the master latched the cascade edge */
		ISR(0x20, 0x04), ISR(0xA0, 0x00), END
	};
	struct vpic p;

	pic_run(&p, s);
}

static void test_pic_elcr_level(void **state)
{
	static const struct step s[] = {
		OUT(0x4D0, 0xFF), OUT(0x4D1, 0xFF),
		IN(0x4D0, 0xF8), IN(0x4D1, 0xDE), /* IRQ 0-2, 8, 13: edge */
		IRQ(9, 1), INTA(0x29), OUT(0xA0, 0x20), OUT(0x20, 0x20),
		INTR(1), INTA(0x29), /* still high: asks again */
		IRQ(9, 0), OUT(0xA0, 0x20), OUT(0x20, 0x20), INTR(0),
		IRQ(1, 1), IRQ(1, 0), INTA(0x21), END /* an edge pulse latches */
	};
	struct vpic p;

	pic_run(&p, s);
}

static void test_pic_irr_and_poll(void **state)
{
	static const struct step s[] = {
		OUT(0x21, 0x08), IRQ(3, 1), INTR(0), /* masked IR3 ... */
		IRR(0x20, 0x08),		     /* ... is in the IRR */
		OUT(0x21, 0x00), OUT(0x20, 0x0C), IN(0x20, 0x83), /* poll */
		ISR(0x20, 0x08), IN(0x20, 0x08), /* acknowledged; RR sticks */
		OUT(0x20, 0x0C), IN(0x21, 0x00), /* nothing: bit 7 clear */
		OUT(0x21, 0x5A), IN(0x21, 0x5A), END /* back to the IMR */
	};
	struct vpic p;

	pic_run(&p, s);
}

static void test_pic_auto_eoi_and_rotation(void **state)
{
	static const struct step aeoi[] = {
		OUT(0x20, 0x11), OUT(0x21, 0x20), OUT(0x21, 0x04),
		OUT(0x21, 0x03), /* ICW4: 8086, AEOI */
		IRQ(1, 1), INTA(0x21), ISR(0x20, 0x00), /* nothing in service */
		OUT(0x20, 0x80), /* rotate in AEOI mode */
		IRQ(1, 0), IRQ(1, 1), INTA(0x21), /* IR1 is now the lowest */
		IRQ(1, 0), IRQ(1, 1), IRQ(6, 1), INTA(0x26), INTA(0x21), END
	};
	static const struct step rotate[] = {
		OUT(0x20, 0xC4), /* set priority: IR4 lowest, IR5 first */
		IRQ(3, 1), IRQ(5, 1), INTA(0x25),
		OUT(0x20, 0xA0), /* rotate on non-specific EOI: IR5 lowest */
		INTA(0x23), END
	};
	struct vpic p;

	pic_run(&p, aeoi);
	pic_run(&p, rotate);
}

static void test_pic_special_mask(void **state)
{
	static const struct step s[] = {
		IRQ(1, 1), INTA(0x21), IRQ(3, 1), INTR(0), /* IR1 blocks IR3 */
		OUT(0x21, 0x02), OUT(0x20, 0x68), /* mask IR1, special mask */
		INTR(1), INTA(0x23),
		OUT(0x20, 0x48), ISR(0x20, 0x0A), END
	};
	struct vpic p;

	pic_run(&p, s);
}

static void test_pic_reinit_resets(void **state)
{
	static const struct step s[] = {
		IRQ(4, 1), INTR(1),
		OUT(0x20, 0x11), OUT(0x21, 0x30), OUT(0x21, 0x04),
		OUT(0x21, 0x01), INTR(0), /* ICW1 forgot the edge */
		IRQ(4, 0), IRQ(4, 1), INTA(0x34), END
	};
	struct vpic p;

	pic_run(&p, s);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, cap_reset)
	const struct CMUnitTest tests[] = {
		T(test_lapic_reset_values),
		T(test_lapic_register_masks),
		T(test_lapic_readonly_and_reserved),
		T(test_lapic_esr_and_error_lvt),
		T(test_lapic_sw_disabled),
		T(test_lapic_tpr_ppr),
		T(test_lapic_nested_priorities),
		T(test_lapic_level_eoi_and_pending_flag),
		T(test_timer_oneshot),
		T(test_timer_divide_encodings),
		T(test_timer_periodic_no_drift),
		T(test_timer_periodic_catch_up),
		T(test_timer_masked_stop_and_mode_switch),
		T(test_timer_tsc_deadline),
		T(test_icr_xapic_fixed_and_shorthands),
		T(test_icr_xapic_init_sipi_nmi),
		T(test_x2apic_icr_and_self_ipi),
		T(test_x2apic_registers),
		T(test_x2apic_gp),
		T(test_apic_base_transitions),
		T(test_lapic_init_ipi_reset),
		T(test_match_xapic_physical_and_shorthands),
		T(test_match_xapic_logical),
		T(test_match_x2apic),
		T(test_lapic_extint),
		T(test_ioapic_reset_and_registers),
		T(test_ioapic_edge),
		T(test_ioapic_level_remote_irr),
		T(test_ioapic_unmask_and_edge_switch),
		T(test_ioapic_polarity),
		T(test_pic_bios_state),
		T(test_pic_linux_init_and_eoi),
		T(test_pic_priority_and_nesting),
		T(test_pic_cascade),
		T(test_pic_spurious),
		T(test_pic_elcr_level),
		T(test_pic_irr_and_poll),
		T(test_pic_auto_eoi_and_rotation),
		T(test_pic_special_mask),
		T(test_pic_reinit_resets),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
