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

/* --------------------------------------------------- step scripts -- */

enum step_op {
	S_END,
	S_LW,	   /* xAPIC write: a offset, b value, c now */
	S_LR,	   /* xAPIC read: a offset, b now, c expected */
	S_LRRC,	   /* xAPIC read of a returns c */
	S_MW,	   /* x2APIC WRMSR: a MSR, b value, c expected return */
	S_MR,	   /* x2APIC RDMSR: a MSR, c expected value */
	S_MRGP,	   /* x2APIC RDMSR of a must #GP (return -1) */
	S_BASE,	   /* IA32_APIC_BASE := b, c expected return */
	S_GETBASE, /* IA32_APIC_BASE reads c */
	S_INIT,	   /* an INIT IPI */
	S_WIRE,	   /* vlapic_set_virtual_wire() */
	S_EXTINT,  /* vlapic_accepts_extint() is c */
	S_MATCH,   /* dest a, b = logical | shorthand << 1 | source << 8 */
	S_ACCEPT,  /* a vector, b level, c expected return */
	S_PENDING, /* c expected vlapic_pending() */
	S_FLAG,	   /* the atomic pending flag is c */
	S_TAKE,	   /* vlapic_pending() must be a; the guest takes it */
	S_POLL,	   /* b now, c expected next deadline */
	S_TSCHZ,   /* the TSC runs at b Hz */
	S_TSCW,	   /* IA32_TSC_DEADLINE := b at a ns (TSC 2 * a), c return */
	S_TSCR,	   /* IA32_TSC_DEADLINE reads c */
	S_CR8,	   /* CR8 := b, then reads c */
	S_SENT,	   /* c messages sent so far */
	S_VEC,	   /* message a had vector c */
	S_MSG,	   /* message c was b (packed by MSG) to dest a */
	S_EOIS,	   /* c level EOIs reported so far */
	S_EOIV,	   /* level EOI a was for vector c */
	S_IOW,	   /* IOAPIC register a := b (through IOREGSEL/IOWIN) */
	S_IOR,	   /* IOAPIC register a reads c */
	S_IOMW,	   /* IOAPIC MMIO offset a := b */
	S_IOMR,	   /* IOAPIC MMIO offset a reads c */
	S_PIN,	   /* IOAPIC pin a at level b */
	S_IOEOI,   /* IOAPIC EOI broadcast for vector a */
	S_OUT,	   /* PIC port a := b */
	S_IN,	   /* PIC port a reads c */
	S_NOPORT,  /* vpic_io on port a returns c */
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
#define LRRC(off, rc) { S_LRRC, off, 0, (uint64_t)(rc) }
#define MW(msr, val, rc) { S_MW, msr, val, (uint64_t)(rc) }
#define MR(msr, want) { S_MR, msr, 0, want }
#define MRGP(msr) { S_MRGP, msr, 0, (uint64_t)-1 }
#define BASE(val, rc) { S_BASE, 0, val, (uint64_t)(rc) }
#define GETBASE(want) { S_GETBASE, 0, 0, want }
#define INIT_IPI { S_INIT, 0, 0, 0 }
#define WIRE { S_WIRE, 0, 0, 0 }
#define EXTINT(on) { S_EXTINT, 0, 0, on }
#define MATCH(logical, sh, dest, src, want) \
	{ S_MATCH, dest, (logical) | (sh) << 1 | (uint64_t)(src) << 8, want }
#define ACC(vec, level, ok) { S_ACCEPT, vec, level, ok }
#define PEND(v) { S_PENDING, 0, 0, (uint64_t)(v) }
#define FLAG(v) { S_FLAG, 0, 0, v }
#define TAKE(v) { S_TAKE, v, 0, 0 }
#define EOI LW(0xB0, 0)
#define POLL(now, next) { S_POLL, 0, now, next }
#define TSCHZ(hz) { S_TSCHZ, 0, hz, 0 }
#define TSCW(now, val, rc) { S_TSCW, now, val, (uint64_t)(rc) }
#define TSCR(want) { S_TSCR, 0, 0, want }
#define CR8(val, want) { S_CR8, 0, val, want }
#define SENT(n) { S_SENT, 0, 0, n }
#define VEC(i, vec) { S_VEC, i, 0, vec }
#define MSG(i, vec, dm, sh, logical, level, assert, dest, src)          \
	{ S_MSG, dest, (vec) | (dm) << 8 | (sh) << 12 | (logical) << 16 |  \
			       (level) << 17 | (assert) << 18 |          \
			       (uint64_t)(src) << 32, i }
#define EOIS(n) { S_EOIS, 0, 0, n }
#define EOIV(i, vec) { S_EOIV, i, 0, vec }
#define IOW(reg, val) { S_IOW, reg, val, 0 }
#define IOR(reg, want) { S_IOR, reg, 0, want }
#define IOMW(off, val) { S_IOMW, off, val, 0 }
#define IOMR(off, want) { S_IOMR, off, 0, want }
#define PIN(pin, level) { S_PIN, pin, level, 0 }
#define IOEOI(vec) { S_IOEOI, vec, 0, 0 }
#define OUT(port, val) { S_OUT, port, val, 0 }
#define IN(port, want) { S_IN, port, 0, want }
#define NOPORT(port) { S_NOPORT, port, 0, (uint64_t)KEEL_ENOENT }
#define IRQ(irq, level) { S_IRQ, irq, level, 0 }
#define INTR(on) { S_INTR, 0, 0, on }
#define INTA(vec) { S_INTA, 0, 0, vec }
#define ISR(cmd, want) OUT(cmd, 0x0B), IN(cmd, want) /* OCW3: read ISR */
#define IRR(cmd, want) OUT(cmd, 0x0A), IN(cmd, want)
/* IOAPIC redirection entry of a pin: low and high dword registers. */
#define RTE_LO(pin) (0x10 + 2 * (pin))
#define RTE_HI(pin) (0x11 + 2 * (pin))
/* IA32_APIC_BASE values. */
#define B_OFF 0xFEE00000ULL
#define B_XAPIC (B_OFF | VLAPIC_BASE_EN)
#define B_X2APIC (B_XAPIC | VLAPIC_BASE_EXTD)

struct models {
	struct vlapic *l;
	struct vioapic *io;
	struct vpic *p;
};

/* Message i was sent with these fields (packed as MSG packs them). */
static bool msg_is(uint64_t i, uint32_t dest, uint64_t f)
{
	const struct irq_msg *m = &sent[i < N(sent) ? i : 0];

	return i < sent_count && i < N(sent) && m->vector == (f & 0xFF) &&
	       m->delivery == ((f >> 8) & 7) && m->shorthand == ((f >> 12) & 3) &&
	       m->logical == ((f >> 16) & 1) && m->level == ((f >> 17) & 1) &&
	       m->assert == ((f >> 18) & 1) && m->dest == dest &&
	       m->source == (uint32_t)(f >> 32);
}

/* What a step observes, for the steps that check something; the steps
 * that only act return what they expect. */
static uint64_t step_do(const struct models *m, const struct step *s)
{
	uint32_t v32 = 0;
	uint64_t v64 = 0;
	uint8_t b = (uint8_t)s->b;
	struct irq_msg msg = { .dest = s->a, .logical = s->b & 1,
			       .shorthand = (s->b >> 1) & 3,
			       .source = (uint32_t)(s->b >> 8) };

	switch (s->op) {
	case S_LW:
		assert_int_equal(vlapic_mmio_write(m->l, s->a, (uint32_t)s->b, s->c), 0);
		break;
	case S_LR:
		assert_int_equal(vlapic_mmio_read(m->l, s->a, &v32, s->b), 0);
		return v32;
	case S_LRRC:
		return (uint64_t)vlapic_mmio_read(m->l, s->a, &v32, 0);
	case S_MW:
		return (uint64_t)vlapic_msr_write(m->l, s->a, s->b, 0);
	case S_MR:
		assert_int_equal(vlapic_msr_read(m->l, s->a, &v64, 0), 0);
		return v64;
	case S_MRGP:
		return (uint64_t)vlapic_msr_read(m->l, s->a, &v64, 0);
	case S_BASE:
		return (uint64_t)vlapic_set_base(m->l, s->b);
	case S_GETBASE:
		return vlapic_get_base(m->l);
	case S_INIT:
		vlapic_reset_init(m->l);
		break;
	case S_WIRE:
		vlapic_set_virtual_wire(m->l);
		break;
	case S_EXTINT:
		return vlapic_accepts_extint(m->l);
	case S_MATCH:
		return vlapic_match_dest(m->l, &msg);
	case S_ACCEPT:
		return vlapic_accept(m->l, (uint8_t)s->a, s->b);
	case S_PENDING:
		return (uint64_t)vlapic_pending(m->l);
	case S_FLAG:
		return (uint64_t)m->l->pending;
	case S_TAKE:
		assert_int_equal(vlapic_pending(m->l), s->a);
		vlapic_ack(m->l, (uint8_t)s->a);
		break;
	case S_POLL:
		return vlapic_timer_poll(m->l, s->b);
	case S_TSCHZ:
		m->l->tsc_hz = s->b;
		break;
	case S_TSCW:
		return (uint64_t)vlapic_tsc_deadline_write(m->l, s->b, 2ULL * s->a, s->a);
	case S_TSCR:
		return vlapic_tsc_deadline_read(m->l);
	case S_CR8:
		vlapic_set_cr8(m->l, s->b);
		return vlapic_get_cr8(m->l);
	case S_SENT:
		return sent_count;
	case S_VEC:
		return s->a < sent_count ? sent[s->a].vector : ~0ULL;
	case S_MSG:
		return msg_is(s->c, s->a, s->b) ? s->c : ~0ULL;
	case S_EOIS:
		return eoi_count;
	case S_EOIV:
		return s->a < eoi_count ? eoi_vec[s->a] : ~0ULL;
	case S_IOW:
		vioapic_mmio_write(m->io, VIOAPIC_IOREGSEL, s->a);
		vioapic_mmio_write(m->io, VIOAPIC_IOWIN, (uint32_t)s->b);
		break;
	case S_IOR:
		vioapic_mmio_write(m->io, VIOAPIC_IOREGSEL, s->a);
		return vioapic_mmio_read(m->io, VIOAPIC_IOWIN);
	case S_IOMW:
		vioapic_mmio_write(m->io, s->a, (uint32_t)s->b);
		break;
	case S_IOMR:
		return vioapic_mmio_read(m->io, s->a);
	case S_PIN:
		vioapic_set_irq(m->io, s->a, s->b);
		break;
	case S_IOEOI:
		vioapic_eoi(m->io, (uint8_t)s->a);
		break;
	case S_OUT:
		assert_int_equal(vpic_io(m->p, (uint16_t)s->a, false, &b), 0);
		break;
	case S_IN:
		assert_int_equal(vpic_io(m->p, (uint16_t)s->a, true, &b), 0);
		return b;
	case S_NOPORT:
		return (uint64_t)vpic_io(m->p, (uint16_t)s->a, true, &b);
	case S_IRQ:
		vpic_set_irq(m->p, s->a, s->b);
		break;
	case S_INTR:
		return vpic_intr(m->p);
	case S_INTA:
		return (uint64_t)vpic_ack(m->p);
	default:
		fail_msg("bad step op %u", s->op);
	}
	return s->c;
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

static void lapic_more(struct vlapic *l, const struct step *s)
{
	struct models m = { .l = l };

	run(&m, s);
}

/* A local APIC with id (the BSP when 0), software-enabled (spurious
 * vector 0xFF) unless raw, the script run on it. */
static void lapic_run_raw(struct vlapic *l, uint32_t id, bool raw,
			  const struct step *s)
{
	vlapic_init(l, id, id == 0, cap_send, cap_eoi, NULL);
	if (!raw)
		assert_int_equal(vlapic_mmio_write(l, 0xF0, 0x1FF, 0), 0);
	lapic_more(l, s);
}

static void lapic_run(struct vlapic *l, uint32_t id, const struct step *s)
{
	lapic_run_raw(l, id, false, s);
}

/* Linux's init_8259A(0): ICW1 0x11, ICW2 0x20/0x28, ICW3 4/2, ICW4 1,
 * then the masks. */
static const struct step pic_linux_init[] = {
	OUT(0x21, 0xFF), OUT(0xA1, 0xFF), OUT(0x20, 0x11), OUT(0x21, 0x20),
	OUT(0x21, 0x04), OUT(0x21, 0x01), OUT(0xA0, 0x11), OUT(0xA1, 0x28),
	OUT(0xA1, 0x02), OUT(0xA1, 0x01), OUT(0x21, 0x00), OUT(0xA1, 0x00),
	END
};

/* A test that is only a script, on a fresh model: a local APIC with the
 * given ID, at power-up or software-enabled; an IOAPIC; the PIC pair as
 * a BIOS leaves it, or as Linux initialises it. */
enum script_model { ON_LAPIC_RAW, ON_LAPIC, ON_IOAPIC, ON_PIC_BIOS, ON_PIC };

struct script {
	enum script_model model;
	uint32_t id;
	const struct step *steps;
};

static void run_script(void **state)
{
	const struct script *sc = *state;
	struct vlapic l;
	struct vioapic io;
	struct vpic p;
	struct models m = { .l = &l, .io = &io, .p = &p };

	if (sc->model == ON_LAPIC_RAW || sc->model == ON_LAPIC)
		lapic_run_raw(&l, sc->id, sc->model == ON_LAPIC_RAW, sc->steps);
	if (sc->model == ON_IOAPIC)
		vioapic_init(&io, cap_send, NULL);
	if (sc->model == ON_PIC_BIOS || sc->model == ON_PIC)
		vpic_init(&p);
	if (sc->model == ON_PIC)
		run(&m, pic_linux_init);
	if (sc->model >= ON_IOAPIC)
		run(&m, sc->steps);
}

#define SCRIPT(model, id, steps)                \
	{ #steps, run_script, cap_reset, NULL,  \
	  &(struct script){ model, id, steps } }

/* ------------------------------------------- local APIC scripts -- */

/* SDM 11.4.7.1: power-up state; LVTs masked, SVR 0xFF, DFR all 1s. */
static const struct step lapic_reset_values[] = {
	GETBASE(0xFEE00900), /* enabled, BSP */
	LR(0x20, 0), LR(0x30, 0x00050014), LR(0x80, 0), LR(0xA0, 0),
	LR(0xD0, 0), LR(0xE0, 0xFFFFFFFF), LR(0xF0, 0xFF), LR(0x100, 0),
	LR(0x170, 0), LR(0x180, 0), LR(0x200, 0), LR(0x270, 0),
	LR(0x280, 0), LR(0x300, 0), LR(0x310, 0), LR(0x320, 0x10000),
	LR(0x330, 0x10000), LR(0x340, 0x10000), LR(0x350, 0x10000),
	LR(0x360, 0x10000), LR(0x370, 0x10000), LR(0x380, 0),
	LR(0x390, 0), LR(0x3E0, 0), LRRC(0x1000, KEEL_ERANGE), END
};

static const struct step lapic_ap_reset_values[] = {
	GETBASE(0xFEE00800), LR(0x20, 0x03000000), MRGP(0x802), END
};

/* What survives writing all ones (all zeros for the DFR). */
static const struct step lapic_register_masks[] = {
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

/* Read-only registers ignore writes (the ID stays the vCPU's); reserved
 * ones read 0 and set ESR "illegal register address". */
static const struct step lapic_readonly_and_reserved[] = {
	LW(0x20, ~0u), LW(0x30, ~0u), LW(0xA0, ~0u), LW(0x100, ~0u),
	LW(0x200, ~0u), LW(0x390, ~0u), LR(0x20, 0x02000000),
	LR(0x30, 0x00050014), LR(0xA0, 0), LR(0x100, 0), LR(0x200, 0),
	LR(0x390, 0), LR(0xB0, 0), /* EOI: write-only */
	LW(0x280, 0), LR(0x280, 0), /* nothing illegal so far */
	LR(0x2F0, 0), /* CMCI: not with 6 LVTs */
	LW(0x280, 0), LR(0x280, 0x80), END
};

static const struct step lapic_esr_and_error_lvt[] = {
	ACC(15, 0, false), LR(0x280, 0), /* latched by the next write */
	LW(0x280, 0), LR(0x280, 0x40),	 /* received illegal vector */
	LW(0x280, 0), LR(0x280, 0), PEND(-1), /* LVT error masked */
	LW(0x370, 0xFE), LW(0x300, 0x00000005), /* fixed IPI, vector 5 */
	SENT(0), PEND(0xFE),		 /* not sent; the error interrupt */
	LW(0x280, 0), LR(0x280, 0x20), END /* send illegal vector */
};

/* SDM 11.4.7.2: software-disabled, fixed interrupts are refused and the
 * LVTs stay masked; IRR keeps what it had. */
static const struct step lapic_sw_disabled[] = {
	LW(0xF0, 0xFF), ACC(0x30, 0, false),
	LW(0x350, 0x700), LR(0x350, 0x10700),
	LW(0xF0, 0x1FF), ACC(0x30, 0, true), LW(0x350, 0x700), LR(0x350, 0x700),
	LW(0xF0, 0xFF), LR(0x350, 0x10700), PEND(0x30), END
};

/* SDM 11.8.3.1: PPR is TPR or the highest ISR class, whichever is higher;
 * only a class above it is delivered. CR8 is TPR[7:4]. */
static const struct step lapic_tpr_ppr[] = {
	ACC(0x45, 0, true), LW(0x80, 0x40), PEND(-1), /* 4 is not above 4 */
	LW(0x80, 0x3F), LR(0xA0, 0x3F), TAKE(0x45),
	LR(0xA0, 0x40),			/* the ISR class wins */
	LW(0x80, 0x47), LR(0xA0, 0x47), /* equal class: TPR */
	LW(0x80, 0x50), LR(0xA0, 0x50), CR8(2, 2), LR(0x80, 0x20), END
};

static const struct step lapic_nested_priorities[] = {
	ACC(0x31, 0, true), ACC(0x52, 0, true), TAKE(0x52),
	LR(0x120, 1u << 18), LR(0x210, 1u << 17), /* ISR 0x52, IRR 0x31 */
	PEND(-1), ACC(0x55, 0, true), PEND(-1), /* the same class waits */
	ACC(0x61, 0, true), TAKE(0x61),		/* a higher one nests */
	EOI, LR(0x130, 0), LR(0x120, 1u << 18), /* the highest retires */
	PEND(-1), EOI, TAKE(0x55), EOI, PEND(0x31), EOIS(0), END /* edge */
};

/* Level vectors (TMR set) report their EOI; the pending flag is set by
 * accept and cleared when the owner looks. */
static const struct step lapic_level_eoi_and_pending_flag[] = {
	FLAG(0), ACC(0x41, 1, true), FLAG(1), LR(0x1A0, 1u << 1), /* TMR */
	TAKE(0x41), FLAG(0), EOI, EOIS(1), EOIV(0, 0x41),
	ACC(0x41, 0, true), LR(0x1A0, 0), /* edge: TMR clears */
	TAKE(0x41), EOI, EOI, EOIS(1), END /* empty ISR: nothing */
};

/* Divide by 16: 1000 counts from t=500 end at 500 + 16000. */
static const struct step timer_oneshot[] = {
	LW(0x3E0, 0x3), LW(0x320, 0x40), LWT(0x380, 1000, 500),
	POLL(500, 16500), LRT(0x390, 500, 1000), LRT(0x390, 4500, 750),
	LRT(0x390, 4501, 750), LRT(0x390, 4516, 749), POLL(16499, 16500),
	PEND(-1), POLL(16500, 0), PEND(0x40), LRT(0x390, 16500, 0),
	LRT(0x380, 16500, 1000), POLL(99999, 0), END /* once only */
};

/* Figure 11-10: 100 counts at t=7 under each divide value; then a new
 * divisor mid-count: 600 counts left, 2 ns each. */
static const struct step timer_divide_encodings[] = {
	LW(0x320, 0x40),
	LW(0x3E0, 0x0), LWT(0x380, 100, 7), POLL(7, 7 + 100 * 2),
	LW(0x3E0, 0x1), LWT(0x380, 100, 7), POLL(7, 7 + 100 * 4),
	LW(0x3E0, 0x2), LWT(0x380, 100, 7), POLL(7, 7 + 100 * 8),
	LW(0x3E0, 0x3), LWT(0x380, 100, 7), POLL(7, 7 + 100 * 16),
	LW(0x3E0, 0x8), LWT(0x380, 100, 7), POLL(7, 7 + 100 * 32),
	LW(0x3E0, 0x9), LWT(0x380, 100, 7), POLL(7, 7 + 100 * 64),
	LW(0x3E0, 0xA), LWT(0x380, 100, 7), POLL(7, 7 + 100 * 128),
	LW(0x3E0, 0xB), LWT(0x380, 100, 7), POLL(7, 7 + 100 * 1),
	LWT(0x380, 1000, 0), LWT(0x3E0, 0x0, 400), LRT(0x390, 400, 600),
	POLL(400, 1600), END
};

/* 10.5 periods late: one interrupt, and the schedule kept. */
static const struct step timer_periodic_catch_up[] = {
	LW(0x3E0, 0xB), LW(0x320, 0x20040), LW(0x380, 100),
	POLL(1050, 1100), TAKE(0x40), PEND(-1), POLL(1099, 1100),
	PEND(-1), END
};

static const struct step timer_masked_stop_and_mode_switch[] = {
	LW(0x3E0, 0xB), LW(0x320, 0x10040), LW(0x380, 10), /* masked */
	POLL(10, 0), PEND(-1), LRT(0x390, 10, 0),
	LW(0x320, 0x40), LW(0x380, 10), LWT(0x380, 0, 5), /* 0 stops */
	POLL(10, 0), LRT(0x390, 5, 0),
	LW(0x380, 10), LWT(0x320, 0x20040, 5), /* a mode change disarms */
	POLL(10, 0), PEND(-1), END
};

/* SDM 11.5.4.1 with a 2 GHz TSC (TSC = 2 * ns here). */
static const struct step timer_tsc_deadline[] = {
	TSCHZ(2000000000), TSCW(0, 5000, 0), TSCR(0), /* not the mode */
	POLL(10000, 0), LW(0x320, 0x40040), LW(0x380, 1000), /* ignored */
	LR(0x380, 0), TSCW(500, 1000 + 3001, 0), TSCR(4001),
	LRT(0x390, 600, 0), POLL(2000, 2001), /* 500 + ceil(3001 / 2) */
	PEND(-1), POLL(2001, 0), TAKE(0x40), EOI, TSCR(0), /* cleared */
	TSCW(2500, 10, 0), POLL(2500, 0), TAKE(0x40), EOI, /* past: now */
	TSCW(0, 1u << 30, 0), TSCW(0, 0, 0), POLL(1ULL << 40, 0), /* 0 */
	TSCW(0, 1u << 30, 0), LW(0x320, 0x40), LW(0x320, 0x40040),
	TSCR(0), POLL(1ULL << 40, 0), /* a mode change disarms */
	TSCHZ(0), TSCW(0, 99, KEEL_EINVAL), END
};

static const struct step icr_xapic_fixed_and_shorthands[] = {
	LW(0x310, 0x03000000), LW(0x300, 0x000040F3), SENT(1),
	MSG(0, 0xF3, IRQ_DM_FIXED, IRQ_SH_NONE, 0, 0, 1, 3, 1),
	LR(0x300, 0x000040F3), /* delivery status: idle */
	LR(0x310, 0x03000000), PEND(-1), /* not delivered to self */
	LW(0x300, 0x00044031), LW(0x300, 0x00084032), LW(0x300, 0x000C4033),
	SENT(4), MSG(1, 0x31, IRQ_DM_FIXED, IRQ_SH_SELF, 0, 0, 1, 3, 1),
	MSG(2, 0x32, IRQ_DM_FIXED, IRQ_SH_ALL, 0, 0, 1, 3, 1),
	MSG(3, 0x33, IRQ_DM_FIXED, IRQ_SH_OTHERS, 0, 0, 1, 3, 1), END
};

/* Linux's wakeup_secondary_cpu_via_init: INIT assert, INIT de-assert,
 * a SIPI; then an NMI in logical mode. */
static const struct step icr_xapic_init_sipi_nmi[] = {
	LW(0x310, 0x01000000), LW(0x300, 0x0000C500), LW(0x300, 0x00008500),
	LW(0x300, 0x00000698), LW(0x310, 0x0C000000), LW(0x300, 0x00004C00),
	SENT(4), MSG(0, 0, IRQ_DM_INIT, IRQ_SH_NONE, 0, 1, 1, 1, 0),
	MSG(1, 0, IRQ_DM_INIT, IRQ_SH_NONE, 0, 1, 0, 1, 0),
	MSG(2, 0x98, IRQ_DM_SIPI, IRQ_SH_NONE, 0, 0, 0, 1, 0),
	MSG(3, 0, IRQ_DM_NMI, IRQ_SH_NONE, 1, 0, 1, 0x0C, 0), END
};

static const struct step x2apic_icr_and_self_ipi[] = {
	BASE(B_X2APIC, 0), MW(0x830, (0x12345ULL << 32) | 0x848F3, 0),
	SENT(1), MR(0x830, (0x12345ULL << 32) | 0x848F3),
	MSG(0, 0xF3, IRQ_DM_FIXED, IRQ_SH_ALL, 1, 0, 1, 0x12345, 7),
	MW(0x83F, 0x99, 0), SENT(2), /* SELF IPI */
	MSG(1, 0x99, IRQ_DM_FIXED, IRQ_SH_SELF, 0, 0, 1, 7, 7), END
};

static const struct step x2apic_registers[] = {
	MW(0x808, 0, -1), BASE(B_X2APIC, 0), /* no MSRs in xAPIC mode */
	MR(0x802, 0x25), MR(0x80D, (2u << 16) | (1u << 5)), /* LDR */
	MR(0x803, 0x00050014), MR(0x80F, 0x1FF), /* kept from xAPIC */
	LR(0x30, 0), LW(0x80, 0x20), MR(0x808, 0), /* no MMIO now */
	MW(0x808, 0x30, 0), MR(0x80A, 0x30), END   /* PPR */
};

/* Table 11-6 and 11.12.1.3: what must raise #GP in x2APIC mode. */
static const struct step x2apic_gp[] = {
	BASE(B_X2APIC, 0),
	MRGP(0x80B), MRGP(0x83F), /* EOI, SELF IPI: write-only */
	MRGP(0x80E), MRGP(0x831), MRGP(0x809), MRGP(0x80C), /* DFR, ICR high,
								APR, RRD */
	MRGP(0x82F), MRGP(0x8FF), /* CMCI (6 LVTs), nothing */
	MW(0x802, 0, -1), MW(0x803, 0, -1), MW(0x80A, 0, -1), /* read-only */
	MW(0x80D, 0, -1), MW(0x810, 0, -1), MW(0x839, 0, -1),
	MW(0x80B, 1, -1), MW(0x828, 1, -1), /* EOI, ESR: only 0 */
	MW(0x808, 0x100, -1), MW(0x808, 1ULL << 32, -1),
	MW(0x80F, 0x11FF, -1), MW(0x830, 0x1040, -1), /* ICR bit 12 */
	MW(0x83F, 0x100, -1), MW(0x83E, 0x4, -1), MW(0x837, 0x20000, -1),
	SENT(0), MW(0x80B, 0, 0), MW(0x828, 0, 0), MW(0x808, 0xFF, 0),
	MW(0x835, 0x1A7FF, 0), MR(0x835, 0x1A7FF), MW(0x83E, 0xB, 0),
	MW(0x80F, 0x1FF, 0), END
};

/* SDM 11.12.5.1: xAPIC <-> x2APIC only through disabled; disabling loses
 * every register but the ID. */
static const struct step apic_base_transitions[] = {
	BASE(B_OFF | VLAPIC_BASE_EXTD, -1), BASE(B_XAPIC | 1, -1), /* rsvd */
	BASE(B_XAPIC | 0x200, -1), BASE(B_XAPIC | (1ULL << 60), -1),
	BASE(B_X2APIC, 0), BASE(B_XAPIC, -1), MW(0x808, 0x20, 0),
	BASE(B_OFF, 0), GETBASE(B_OFF), ACC(0x40, 0, false), PEND(-1),
	MATCH(0, IRQ_SH_ALL, 0, 0, false), /* matches nothing */
	BASE(B_X2APIC, -1), BASE(B_XAPIC, 0), LR(0x80, 0), LR(0xF0, 0xFF),
	LR(0x20, 0x01000000), BASE(B_XAPIC | VLAPIC_BASE_BSP, 0), END
};

/* INIT keeps the ID and the x2APIC mode; everything else resets. */
static const struct step lapic_init_ipi_reset[] = {
	BASE(B_X2APIC, 0), MW(0x808, 0x20, 0), MW(0x835, 0x700, 0),
	ACC(0x50, 1, true), INIT_IPI, GETBASE(B_X2APIC), MR(0x802, 3),
	MR(0x808, 0), MR(0x835, 0x10000), MR(0x80F, 0xFF), MR(0x822, 0),
	MR(0x81A, 0), END /* IRR, TMR */
};

static const struct step match_xapic_physical_and_shorthands[] = {
	MATCH(0, IRQ_SH_NONE, 3, 0, true), MATCH(0, IRQ_SH_NONE, 4, 0, false),
	MATCH(0, IRQ_SH_NONE, 0xFF, 0, true), /* broadcast */
	MATCH(0, IRQ_SH_SELF, 4, 3, true), MATCH(0, IRQ_SH_SELF, 3, 2, false),
	MATCH(0, IRQ_SH_OTHERS, 3, 2, true),
	MATCH(0, IRQ_SH_OTHERS, 3, 3, false), MATCH(1, IRQ_SH_ALL, 0, 3, true),
	END
};

static const struct step match_xapic_logical[] = {
	LW(0xD0, 0x0A000000), /* flat: bits 1 and 3 */
	MATCH(1, 0, 0x02, 0, true), MATCH(1, 0, 0x04, 0, false),
	MATCH(1, 0, 0x0A, 0, true), MATCH(1, 0, 0xFF, 0, true),
	LW(0xE0, 0x0FFFFFFF), LW(0xD0, 0x21000000), /* cluster 2, bit 0 */
	MATCH(1, 0, 0x21, 0, true), MATCH(1, 0, 0x23, 0, true),
	MATCH(1, 0, 0x22, 0, false), MATCH(1, 0, 0x31, 0, false),
	MATCH(1, 0, 0xF1, 0, true), /* cluster 15: every cluster */
	MATCH(0, 0, 0x00, 0, true), END /* physical: still the ID */
};

/* ID 0x25: x2APIC cluster 2, bit 5 (SDM 11.12.10.2). */
static const struct step match_x2apic[] = {
	BASE(B_X2APIC, 0),
	MATCH(1, 0, (2u << 16) | 0x20, 0, true),
	MATCH(1, 0, (2u << 16) | 0x10, 0, false),
	MATCH(1, 0, (3u << 16) | 0x20, 0, false),
	MATCH(1, 0, 0xFFFFFFFF, 0, true), MATCH(0, 0, 0x25, 0, true),
	MATCH(0, 0, 0x125, 0, false), /* 32-bit IDs: no aliasing */
	MATCH(0, 0, 0xFF, 0, false),  /* not broadcast here */
	MATCH(0, 0, 0xFFFFFFFF, 0, true), END
};

/* LINT0 takes the PIC's INTR when unmasked ExtINT, or with no APIC. */
static const struct step lapic_extint[] = {
	EXTINT(false), WIRE, EXTINT(true), LR(0x350, 0x700), LR(0x360, 0x400),
	LW(0x350, 0x10700), EXTINT(false), LW(0x350, 0x30), EXTINT(false),
	BASE(B_OFF, 0), EXTINT(true), END
};

/* ----------------------------------------------- IOAPIC scripts -- */

static const struct step ioapic_reset_and_registers[] = {
	IOR(0x01, 0x00170011), IOR(0x00, 0), IOR(RTE_LO(0), 0x10000),
	IOR(RTE_HI(0), 0), IOR(RTE_LO(23), 0x10000), IOR(RTE_HI(23), 0),
	IOW(0x00, 0xFF000000), IOR(0x00, 0x0F000000), /* 4-bit ID */
	IOR(0x02, 0x0F000000), /* arbitration ID follows */
	IOW(0x01, 0), IOR(0x01, 0x00170011),
	IOW(RTE_LO(0), ~0u), IOR(RTE_LO(0), 0x0001AFFF), /* no status */
	IOW(RTE_HI(0), ~0u), IOR(RTE_HI(0), 0xFF000000),
	IOR(RTE_LO(24), 0), /* past the table */
	IOMR(VIOAPIC_IOREGSEL, RTE_LO(24)), IOMR(0x20, 0), SENT(0), END
};

static const struct step ioapic_edge[] = {
	IOW(RTE_HI(4), 0x01000000), IOW(RTE_LO(4), 0x934), /* lowest, logical */
	PIN(4, 1), SENT(1), MSG(0, 0x34, IRQ_DM_LOWEST, IRQ_SH_NONE, 1, 0, 1, 1, 0),
	PIN(4, 1), SENT(1), /* no edge */
	PIN(4, 0), PIN(4, 1), SENT(2), IOR(RTE_LO(4), 0x934), /* no IRR */
	IOW(RTE_LO(4), 0x10934), PIN(4, 0), PIN(4, 1), /* masked: lost */
	IOW(RTE_LO(4), 0x934), SENT(2), PIN(30, 1), SENT(2), END /* no pin */
};

static const struct step ioapic_level_remote_irr[] = {
	IOW(RTE_HI(9), 0x02000000), IOW(RTE_LO(9), 0x8039), /* level */
	PIN(9, 1), SENT(1), MSG(0, 0x39, IRQ_DM_FIXED, IRQ_SH_NONE, 0, 1, 1, 2, 0),
	IOR(RTE_LO(9), 0xC039), /* Remote IRR */
	PIN(9, 1), SENT(1),	/* waits for the EOI */
	IOEOI(0x38), SENT(1),	/* another vector: nothing */
	IOEOI(0x39), SENT(2),	/* still asserted: again */
	PIN(9, 0), IOEOI(0x39), SENT(2), IOR(RTE_LO(9), 0x8039),
	PIN(9, 1), SENT(3), IOMW(VIOAPIC_EOI, 0x39), SENT(4), END
};


static const struct step ioapic_unmask_and_edge_switch[] = {
	IOW(RTE_LO(11), 0x18041), PIN(11, 1), SENT(0), /* level, masked */
	IOW(RTE_LO(11), 0x8041), SENT(1), VEC(0, 0x41), /* unmask: sent */
	/* Linux's Remote IRR clear without an EOI register: masked and
	 * edge, then level again (still asserted: sent again). */
	IOW(RTE_LO(11), 0x10041), IOR(RTE_LO(11), 0x10041),
	IOW(RTE_LO(11), 0x8041), SENT(2), END
};

static const struct step ioapic_polarity[] = {
	PIN(16, 1), IOW(RTE_LO(16), 0xA051), SENT(0), /* idle high */
	PIN(16, 0), SENT(1), /* level, active low: asserted */
	PIN(16, 1), IOEOI(0x51), SENT(1), IOW(RTE_LO(17), 0x2052),
	PIN(17, 1), SENT(1), PIN(17, 0), SENT(2), /* edge: the falling one */
	VEC(1, 0x52), END
};

/* -------------------------------------------------- PIC scripts -- */

static const struct step pic_bios_state[] = {
	IN(0x21, 0xFB), IN(0xA1, 0xFF), IRQ(0, 1), INTR(0), /* masked */
	OUT(0x21, 0xFA), INTR(1), INTA(0x08), NOPORT(0x22), NOPORT(0x4D2),
	END
};

static const struct step pic_linux_init_and_eoi[] = {
	IN(0x21, 0x00), INTR(0), IRQ(1, 1), INTR(1), INTA(0x21),
	INTR(0), ISR(0x20, 0x02), OUT(0x20, 0x20), /* non-specific EOI */
	ISR(0x20, 0x00), IRR(0x20, 0x00), END /* edge: taken by INTA */
};

static const struct step pic_priority_and_nesting[] = {
	IRQ(3, 1), IRQ(1, 1), INTA(0x21), INTR(0), /* IR3 waits for IR1 */
	IRQ(0, 1), INTR(1), INTA(0x20), ISR(0x20, 0x03), /* IR0 nests */
	OUT(0x20, 0x61), ISR(0x20, 0x01), /* specific EOI of IR1 */
	INTR(0), OUT(0x20, 0x20), INTR(1), INTA(0x23), END
};

static const struct step pic_cascade[] = {
	IRQ(10, 1), INTR(1), INTA(0x2A),
	ISR(0x20, 0x04), ISR(0xA0, 0x04), /* IR2 of each */
	IRQ(12, 1), INTR(0), /* below IR10 on the slave */
	OUT(0xA0, 0x20), OUT(0x20, 0x20), INTR(1), INTA(0x2C),
	OUT(0xA0, 0x20), OUT(0x20, 0x20),
	OUT(0x21, 0x04), IRQ(9, 1), INTR(0), /* IR2 masked: no slave */
	OUT(0x21, 0x00), INTA(0x29), END
};

/* The datasheet's default IR7: a request gone before INTA. */
static const struct step pic_spurious[] = {
	OUT(0x4D0, 0x20), IRQ(5, 1), INTR(1), IRQ(5, 0), /* IRQ 5 level */
	INTA(0x27), ISR(0x20, 0x00), /* no ISR bit for it */
	OUT(0x4D1, 0x04), IRQ(10, 1), IRQ(10, 0), /* IRQ 10 level */
	INTR(1), INTA(0x2F), /* the master latched the cascade's edge */
	ISR(0x20, 0x04), ISR(0xA0, 0x00), END
};

static const struct step pic_elcr_level[] = {
	OUT(0x4D0, 0xFF), OUT(0x4D1, 0xFF),
	IN(0x4D0, 0xF8), IN(0x4D1, 0xDE), /* IRQ 0-2, 8, 13: edge only */
	IRQ(9, 1), INTA(0x29), OUT(0xA0, 0x20), OUT(0x20, 0x20),
	INTR(1), INTA(0x29), /* still high: asks again */
	IRQ(9, 0), OUT(0xA0, 0x20), OUT(0x20, 0x20), INTR(0),
	IRQ(1, 1), IRQ(1, 0), INTA(0x21), END /* an edge pulse latches */
};

static const struct step pic_irr_and_poll[] = {
	OUT(0x21, 0x08), IRQ(3, 1), INTR(0), /* masked IR3 ... */
	IRR(0x20, 0x08),		     /* ... is in the IRR */
	OUT(0x21, 0x00), OUT(0x20, 0x0C), IN(0x20, 0x83), /* poll */
	ISR(0x20, 0x08), IN(0x20, 0x08), /* acknowledged; RR sticks */
	OUT(0x20, 0x0C), IN(0x21, 0x00), /* nothing: bit 7 clear */
	OUT(0x21, 0x5A), IN(0x21, 0x5A), END /* back to the IMR */
};

static const struct step pic_auto_eoi_and_rotation[] = {
	OUT(0x20, 0x11), OUT(0x21, 0x20), OUT(0x21, 0x04),
	OUT(0x21, 0x03), /* ICW4: 8086, AEOI */
	IRQ(1, 1), INTA(0x21), ISR(0x20, 0x00), /* nothing in service */
	OUT(0x20, 0x80), /* rotate in AEOI mode */
	IRQ(1, 0), IRQ(1, 1), INTA(0x21), /* IR1 is now the lowest */
	IRQ(1, 0), IRQ(1, 1), IRQ(6, 1), INTA(0x26), INTA(0x21),
	OUT(0x20, 0x11), OUT(0x21, 0x20), OUT(0x21, 0x04), OUT(0x21, 0x01),
	OUT(0x20, 0xC4), /* set priority: IR4 lowest, IR5 first */
	IRQ(3, 0), IRQ(3, 1), IRQ(5, 1), INTA(0x25),
	OUT(0x20, 0xA0), /* rotate on non-specific EOI: IR5 lowest */
	IRQ(5, 0), IRQ(5, 1), INTA(0x23), OUT(0x20, 0x20), INTA(0x25), END
};

static const struct step pic_special_mask[] = {
	IRQ(1, 1), INTA(0x21), IRQ(3, 1), INTR(0), /* IR1 blocks IR3 */
	OUT(0x21, 0x02), OUT(0x20, 0x68), /* mask IR1, special mask */
	INTR(1), INTA(0x23), OUT(0x20, 0x48), ISR(0x20, 0x0A), END
};

/* A higher slave request waits behind the cascade in service, unless the
 * master is in special fully nested mode (ICW4 SFNM). */
static const struct step pic_special_fully_nested[] = {
	IRQ(10, 1), INTA(0x2A), IRQ(8, 1), INTR(0), OUT(0xA0, 0x20),
	OUT(0x20, 0x20), INTA(0x28), OUT(0xA0, 0x20), OUT(0x20, 0x20),
	OUT(0x20, 0x11), OUT(0x21, 0x20), OUT(0x21, 0x04), OUT(0x21, 0x11),
	IRQ(10, 0), IRQ(10, 1), INTA(0x2A), IRQ(8, 0), IRQ(8, 1), INTR(1),
	INTA(0x28), ISR(0xA0, 0x05), ISR(0x20, 0x04), END
};

/* ICW1 resets the edge sense: a line already high must fall and rise. */
static const struct step pic_reinit_resets[] = {
	IRQ(4, 1), INTR(1), OUT(0x20, 0x11), OUT(0x21, 0x30),
	OUT(0x21, 0x04), OUT(0x21, 0x01), INTR(0),
	IRQ(4, 0), IRQ(4, 1), INTA(0x34), END
};

/* ---------------------------------------------------- code tests -- */

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

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, cap_reset)
	const struct CMUnitTest tests[] = {
		SCRIPT(ON_LAPIC_RAW, 0, lapic_reset_values),
		SCRIPT(ON_LAPIC_RAW, 3, lapic_ap_reset_values),
		SCRIPT(ON_LAPIC, 1, lapic_register_masks),
		SCRIPT(ON_LAPIC, 2, lapic_readonly_and_reserved),
		SCRIPT(ON_LAPIC, 0, lapic_esr_and_error_lvt),
		SCRIPT(ON_LAPIC, 0, lapic_sw_disabled),
		SCRIPT(ON_LAPIC, 0, lapic_tpr_ppr),
		SCRIPT(ON_LAPIC, 0, lapic_nested_priorities),
		SCRIPT(ON_LAPIC, 0, lapic_level_eoi_and_pending_flag),
		SCRIPT(ON_LAPIC, 0, timer_oneshot),
		SCRIPT(ON_LAPIC, 0, timer_divide_encodings),
		T(test_timer_periodic_no_drift),
		SCRIPT(ON_LAPIC, 0, timer_periodic_catch_up),
		SCRIPT(ON_LAPIC, 0, timer_masked_stop_and_mode_switch),
		SCRIPT(ON_LAPIC, 0, timer_tsc_deadline),
		SCRIPT(ON_LAPIC, 1, icr_xapic_fixed_and_shorthands),
		SCRIPT(ON_LAPIC, 0, icr_xapic_init_sipi_nmi),
		SCRIPT(ON_LAPIC, 7, x2apic_icr_and_self_ipi),
		SCRIPT(ON_LAPIC, 0x25, x2apic_registers),
		SCRIPT(ON_LAPIC, 1, x2apic_gp),
		SCRIPT(ON_LAPIC, 1, apic_base_transitions),
		SCRIPT(ON_LAPIC, 3, lapic_init_ipi_reset),
		SCRIPT(ON_LAPIC, 3, match_xapic_physical_and_shorthands),
		SCRIPT(ON_LAPIC, 0, match_xapic_logical),
		SCRIPT(ON_LAPIC, 0x25, match_x2apic),
		SCRIPT(ON_LAPIC_RAW, 0, lapic_extint),
		SCRIPT(ON_IOAPIC, 0, ioapic_reset_and_registers),
		SCRIPT(ON_IOAPIC, 0, ioapic_edge),
		SCRIPT(ON_IOAPIC, 0, ioapic_level_remote_irr),
		SCRIPT(ON_IOAPIC, 0, ioapic_unmask_and_edge_switch),
		SCRIPT(ON_IOAPIC, 0, ioapic_polarity),
		SCRIPT(ON_PIC_BIOS, 0, pic_bios_state),
		SCRIPT(ON_PIC, 0, pic_linux_init_and_eoi),
		SCRIPT(ON_PIC, 0, pic_priority_and_nesting),
		SCRIPT(ON_PIC, 0, pic_cascade),
		SCRIPT(ON_PIC, 0, pic_spurious),
		SCRIPT(ON_PIC, 0, pic_elcr_level),
		SCRIPT(ON_PIC, 0, pic_irr_and_poll),
		SCRIPT(ON_PIC, 0, pic_auto_eoi_and_rotation),
		SCRIPT(ON_PIC, 0, pic_special_mask),
		SCRIPT(ON_PIC, 0, pic_special_fully_nested),
		SCRIPT(ON_PIC, 0, pic_reinit_resets),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
