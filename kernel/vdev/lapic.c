/*
 * lapic.c - the guest local APIC register model (lapic.h): one register
 * file behind the xAPIC page and the x2APIC MSRs, priorities, EOI, the
 * timer and IPIs. Intel SDM vol.3 chapter 11; section numbers below are
 * that chapter's. Only vlapic_accept() may run off the owner's CPU.
 */
#include <stddef.h>
#include <string.h>

#include "kernel/err.h"
#include "kernel/vdev/lapic.h"

/* Register offsets in the xAPIC page (table 11-1); the x2APIC MSR of each
 * is 0x800 + offset / 16 (11.12.1.2). */
#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_TPR 0x080
#define APIC_APR 0x090
#define APIC_PPR 0x0A0
#define APIC_EOI 0x0B0
#define APIC_RRD 0x0C0
#define APIC_LDR 0x0D0
#define APIC_DFR 0x0E0
#define APIC_SVR 0x0F0
#define APIC_ISR 0x100 /* 8 registers each: ISR, TMR, IRR */
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT 0x320 /* VLAPIC_LVT_COUNT registers */
#define APIC_LVT_END (APIC_LVT + 0x10 * VLAPIC_LVT_COUNT)
#define APIC_TIMER_ICR 0x380
#define APIC_TIMER_CCR 0x390
#define APIC_TIMER_DCR 0x3E0
#define APIC_SELF_IPI 0x3F0 /* x2APIC only (11.12.11) */

#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST 0x8FFu

#define SVR_ENABLE (1u << 8)
/* Vector and software enable; bit 9 (focus checking) is reserved since the
 * Pentium 4 and bit 12 (EOI-broadcast suppression) needs version bit 24. */
#define SVR_WRITABLE 0x1FFu

#define LVT_MASKED (1u << 16)
#define LVT_DM(v) (((v) >> 8) & 7)
#define LVT_STATUS (1u << 12)	  /* delivery status: read-only, idle */
#define LVT_REMOTE_IRR (1u << 14) /* LINT0/1, read-only, never set here */
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3)
#define TIMER_ONESHOT 0
#define TIMER_PERIODIC 1
#define TIMER_TSC_DEADLINE 2

/* ICR bits software may set (figure 11-12): vector, delivery mode,
 * destination mode, level, trigger mode, shorthand. */
#define ICR_WRITABLE 0x000CCFFFu
#define DCR_WRITABLE 0xBu

/* ESR bits (figure 11-9) this model sets. */
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REG (1u << 7)

#define NS_PER_COUNT (1000000000ULL / VLAPIC_BUS_HZ)

/* Figure 11-8: what each LVT entry lets software write. */
static const uint32_t vlapic_lvt_writable[VLAPIC_LVT_COUNT] = {
	[VLAPIC_LVT_TIMER] = 0x000700FF,   /* vector, mask, mode 18:17 */
	[VLAPIC_LVT_THERMAL] = 0x000107FF, /* vector, delivery mode, mask */
	[VLAPIC_LVT_PERF] = 0x000107FF,
	[VLAPIC_LVT_LINT0] = 0x0001A7FF,   /* + polarity 13, trigger 15 */
	[VLAPIC_LVT_LINT1] = 0x0001A7FF,
	[VLAPIC_LVT_ERROR] = 0x000100FF,   /* vector, mask */
};

/* --------------------------------------------------------- helpers -- */

static bool vlapic_hw_enabled(const struct vlapic *l)
{
	return __atomic_load_n(&l->apic_base, __ATOMIC_RELAXED) & VLAPIC_BASE_EN;
}

static bool vlapic_sw_enabled(const struct vlapic *l)
{
	return __atomic_load_n(&l->svr, __ATOMIC_RELAXED) & SVR_ENABLE;
}

bool vlapic_is_x2apic(const struct vlapic *l)
{
	uint64_t base = __atomic_load_n(&l->apic_base, __ATOMIC_RELAXED);

	return (base & VLAPIC_BASE_EN) && (base & VLAPIC_BASE_EXTD);
}

/* 11.12.10.2: the x2APIC logical ID is derived, cluster in 31:16 and one
 * bit of 16 in 15:0. */
static uint32_t vlapic_x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 15));
}

/* Highest vector set in a 256-bit register, or -1. Atomic loads: IRR and
 * TMR change under other CPUs' feet. */
static int vlapic_highest(const uint32_t *reg)
{
	for (int w = 7; w >= 0; w--) {
		uint32_t v = __atomic_load_n(&reg[w], __ATOMIC_ACQUIRE);
		if (v)
			return w * 32 + 31 - __builtin_clz(v);
	}
	return -1;
}

static bool vlapic_test(const uint32_t *reg, uint8_t vector)
{
	return __atomic_load_n(&reg[vector >> 5], __ATOMIC_RELAXED) &
	       (1u << (vector & 31));
}

/* Into IRR: the part of acceptance any CPU may run (11.5.5, 11.8.4). */
static bool vlapic_irr_set(struct vlapic *l, uint8_t vector, bool level)
{
	unsigned w = vector >> 5;
	uint32_t bit = 1u << (vector & 31);

	if (vector < 16) {
		/* 11.5.3: vectors 0-15 are illegal, the APIC logs and drops. */
		__atomic_fetch_or(&l->esr_pending, ESR_RECV_ILLEGAL,
				  __ATOMIC_RELAXED);
		__atomic_store_n(&l->pending, 1, __ATOMIC_RELEASE);
		return false;
	}
	/* 11.8.4: TMR follows the trigger mode of the accepted message; set
	 * before IRR so whoever sees the IRR bit sees the right TMR. */
	if (level)
		__atomic_fetch_or(&l->tmr[w], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&l->tmr[w], ~bit, __ATOMIC_RELAXED);
	__atomic_fetch_or(&l->irr[w], bit, __ATOMIC_RELEASE);
	__atomic_store_n(&l->pending, 1, __ATOMIC_RELEASE);
	return true;
}

/* An LVT source fires: fixed, edge (11.5.1). Masked entries do nothing. */
static void vlapic_lvt_raise(struct vlapic *l, enum vlapic_lvt i)
{
	uint32_t lvt = l->lvt[i];

	if (!(lvt & LVT_MASKED))
		vlapic_irr_set(l, lvt & 0xFF, false);
}

/* 11.5.3: an error sets its ESR bit and raises the LVT error interrupt.
 * Errors recorded by vlapic_accept on other CPUs are raised here too,
 * once per bit until the next ESR write. Owner only. */
static void vlapic_errors_signal(struct vlapic *l)
{
	uint32_t fresh = __atomic_load_n(&l->esr_pending, __ATOMIC_RELAXED) &
			 ~l->esr_signalled;

	if (!fresh)
		return;
	l->esr_signalled |= fresh;
	vlapic_lvt_raise(l, VLAPIC_LVT_ERROR);
}

static void vlapic_error(struct vlapic *l, uint32_t bits)
{
	__atomic_fetch_or(&l->esr_pending, bits, __ATOMIC_RELAXED);
	vlapic_errors_signal(l);
}

/* Power-up values of everything but the ID and IA32_APIC_BASE (11.4.7.1). */
static void vlapic_reset_regs(struct vlapic *l)
{
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xFFFFFFFF;
	__atomic_store_n(&l->svr, 0xFF, __ATOMIC_RELAXED);
	l->esr = 0;
	__atomic_store_n(&l->esr_pending, 0, __ATOMIC_RELAXED);
	l->esr_signalled = 0;
	l->icr_lo = 0;
	l->icr_hi = 0;
	for (int w = 0; w < 8; w++) {
		l->isr[w] = 0;
		__atomic_store_n(&l->irr[w], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&l->tmr[w], 0, __ATOMIC_RELAXED);
	}
	for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
		l->lvt[i] = LVT_MASKED;
	l->timer_icr = 0;
	l->timer_dcr = 0;
	l->timer_armed = false;
	l->timer_next_ns = 0;
	l->tsc_deadline = 0;
	__atomic_store_n(&l->pending, 0, __ATOMIC_RELEASE);
}

void vlapic_init(struct vlapic *l, uint32_t id, bool bsp, irq_deliver_fn send,
		 vlapic_eoi_fn eoi, void *ctx)
{
	memset(l, 0, sizeof(*l));
	l->id = id;
	l->apic_base = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN |
		       (bsp ? VLAPIC_BASE_BSP : 0);
	l->send = send;
	l->eoi = eoi;
	l->ctx = ctx;
	vlapic_reset_regs(l);
}

void vlapic_reset_init(struct vlapic *l)
{
	vlapic_reset_regs(l);
}

void vlapic_set_virtual_wire(struct vlapic *l)
{
	__atomic_store_n(&l->svr, SVR_ENABLE | 0xFF, __ATOMIC_RELAXED);
	l->lvt[VLAPIC_LVT_LINT0] = IRQ_DM_EXTINT << 8;
	l->lvt[VLAPIC_LVT_LINT1] = IRQ_DM_NMI << 8;
}

/* ------------------------------------------------------- priority -- */

uint8_t vlapic_ppr(const struct vlapic *l)
{
	int isrv = vlapic_highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;

	/* 11.8.3.1: the higher of TPR and the class of the highest ISR
	 * vector; TPR whole when its class wins. */
	if ((l->tpr & 0xF0) >= isr_class)
		return (uint8_t)l->tpr;
	return (uint8_t)isr_class;
}

bool vlapic_accept(struct vlapic *l, uint8_t vector, bool level)
{
	if (!vlapic_hw_enabled(l) || !vlapic_sw_enabled(l))
		return false;
	return vlapic_irr_set(l, vector, level);
}

int vlapic_pending(struct vlapic *l)
{
	if (!vlapic_hw_enabled(l))
		return -1;
	/* Clear first: an accept after the scan below leaves it set. */
	__atomic_exchange_n(&l->pending, 0, __ATOMIC_ACQ_REL);
	vlapic_errors_signal(l);

	int irrv = vlapic_highest(l->irr);
	if (irrv < 0 || (irrv & 0xF0) <= (vlapic_ppr(l) & 0xF0))
		return -1;
	return irrv;
}

void vlapic_ack(struct vlapic *l, uint8_t vector)
{
	uint32_t bit = 1u << (vector & 31);

	__atomic_fetch_and(&l->irr[vector >> 5], ~bit, __ATOMIC_ACQ_REL);
	l->isr[vector >> 5] |= bit;
}

/* 11.8.5: EOI retires the highest in-service vector; a level-triggered
 * one is broadcast to the IOAPICs (no suppression: version bit 24 clear). */
static void vlapic_do_eoi(struct vlapic *l)
{
	int v = vlapic_highest(l->isr);

	if (v < 0)
		return;
	l->isr[v >> 5] &= ~(1u << (v & 31));
	if (vlapic_test(l->tmr, (uint8_t)v) && l->eoi)
		l->eoi(l->ctx, (uint8_t)v);
}

uint64_t vlapic_get_cr8(const struct vlapic *l)
{
	return (l->tpr >> 4) & 0xF;
}

void vlapic_set_cr8(struct vlapic *l, uint64_t cr8)
{
	l->tpr = (uint32_t)(cr8 & 0xF) << 4;
}

/* ---------------------------------------------------------- timer -- */

static unsigned vlapic_timer_mode(const struct vlapic *l)
{
	return LVT_TIMER_MODE(l->lvt[VLAPIC_LVT_TIMER]);
}

/* Figure 11-10: divide by 2^((bits 3,1:0) + 1), 0b111 dividing by 1. */
static uint64_t vlapic_timer_div(const struct vlapic *l)
{
	uint32_t d = (l->timer_dcr & 3) | ((l->timer_dcr >> 1) & 4);

	return 1ULL << ((d + 1) & 7);
}

static uint64_t vlapic_count_ns(const struct vlapic *l)
{
	return vlapic_timer_div(l) * NS_PER_COUNT;
}

/* 11.5.4: the current count falls by one per count time from the initial
 * count; periodic mode reloads at 0, one-shot stays at 0. */
static uint32_t vlapic_timer_ccr(const struct vlapic *l, uint64_t now)
{
	uint64_t unit = vlapic_count_ns(l);
	uint64_t left;

	if (!l->timer_armed || vlapic_timer_mode(l) == TIMER_TSC_DEADLINE)
		return 0;
	if (now < l->timer_next_ns) {
		left = l->timer_next_ns - now;
	} else if (vlapic_timer_mode(l) == TIMER_PERIODIC) {
		uint64_t period = (uint64_t)l->timer_icr * unit;
		left = period - (now - l->timer_next_ns) % period;
	} else {
		return 0;
	}
	return (uint32_t)((left + unit - 1) / unit);
}

static void vlapic_write_timer_icr(struct vlapic *l, uint32_t val, uint64_t now)
{
	/* 11.5.4.1: ignored in TSC-deadline mode. */
	if (vlapic_timer_mode(l) == TIMER_TSC_DEADLINE)
		return;
	l->timer_icr = val;
	/* 11.5.4: a write starts counting anew; 0 stops the timer. */
	l->timer_armed = val != 0;
	l->timer_next_ns = val ? now + (uint64_t)val * vlapic_count_ns(l) : 0;
}

static void vlapic_write_dcr(struct vlapic *l, uint32_t val, uint64_t now)
{
	uint64_t old_unit = vlapic_count_ns(l);

	l->timer_dcr = val & DCR_WRITABLE;
	/* The count goes on from where it is, at the new rate. */
	if (l->timer_armed && vlapic_timer_mode(l) != TIMER_TSC_DEADLINE &&
	    now < l->timer_next_ns) {
		uint64_t left = l->timer_next_ns - now;
		l->timer_next_ns = now + left / old_unit * vlapic_count_ns(l) +
				   left % old_unit;
	}
}

uint64_t vlapic_timer_poll(struct vlapic *l, uint64_t now_ns)
{
	if (!l->timer_armed)
		return 0;
	if (now_ns < l->timer_next_ns)
		return l->timer_next_ns;
	vlapic_lvt_raise(l, VLAPIC_LVT_TIMER);
	if (vlapic_timer_mode(l) == TIMER_PERIODIC) {
		uint64_t period = (uint64_t)l->timer_icr * vlapic_count_ns(l);
		if (period) {
			/* Next period from the last expiry, not from now: no
			 * drift. Periods missed entirely are skipped, not
			 * raised in a burst (IRR holds one of each anyway). */
			uint64_t late = now_ns - l->timer_next_ns;
			l->timer_next_ns += period * (late / period + 1);
			return l->timer_next_ns;
		}
	}
	/* One-shot stops at 0; the TSC deadline disarms and clears the MSR
	 * (11.5.4.1). */
	l->timer_armed = false;
	l->tsc_deadline = 0;
	return 0;
}

/* ceil(ticks * 10^9 / hz) without 128-bit division; saturates far out. */
static uint64_t vlapic_tsc_to_ns(uint64_t ticks, uint64_t hz)
{
	uint64_t secs = ticks / hz;

	if (secs > (1ULL << 32))
		return 1ULL << 62;
	return secs * 1000000000ULL +
	       ((ticks % hz) * 1000000000ULL + hz - 1) / hz;
}

int vlapic_tsc_deadline_write(struct vlapic *l, uint64_t tsc_value,
			      uint64_t now_tsc, uint64_t now_ns)
{
	if (vlapic_timer_mode(l) != TIMER_TSC_DEADLINE)
		return 0;
	if (tsc_value && !l->tsc_hz) {
		l->tsc_deadline = 0;
		l->timer_armed = false;
		return KEEL_EINVAL;
	}
	l->tsc_deadline = tsc_value;
	l->timer_armed = tsc_value != 0;
	l->timer_next_ns = 0;
	if (tsc_value) {
		uint64_t ticks = tsc_value > now_tsc ? tsc_value - now_tsc : 0;
		l->timer_next_ns = now_ns + vlapic_tsc_to_ns(ticks, l->tsc_hz);
	}
	return 0;
}

uint64_t vlapic_tsc_deadline_read(const struct vlapic *l)
{
	if (vlapic_timer_mode(l) != TIMER_TSC_DEADLINE)
		return 0;
	return l->tsc_deadline;
}

/* ------------------------------------------------ register writes -- */

static void vlapic_write_lvt(struct vlapic *l, enum vlapic_lvt i, uint32_t val)
{
	uint32_t old = l->lvt[i];

	val &= vlapic_lvt_writable[i];
	/* 11.4.7.2: while software-disabled the masks stay set. */
	if (!vlapic_sw_enabled(l))
		val |= LVT_MASKED;
	l->lvt[i] = val;
	/* 11.5.4.1: a write that changes the timer mode disarms the timer. */
	if (i == VLAPIC_LVT_TIMER && LVT_TIMER_MODE(old) != LVT_TIMER_MODE(val)) {
		l->timer_armed = false;
		l->tsc_deadline = 0;
	}
}

static void vlapic_write_svr(struct vlapic *l, uint32_t val)
{
	__atomic_store_n(&l->svr, val & SVR_WRITABLE, __ATOMIC_RELAXED);
	/* 11.4.7.2: software-disabling sets every LVT mask. */
	if (!(val & SVR_ENABLE))
		for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
			l->lvt[i] |= LVT_MASKED;
}

/* 11.5.3: a write latches the errors since the previous write. */
static void vlapic_write_esr(struct vlapic *l)
{
	l->esr = __atomic_exchange_n(&l->esr_pending, 0, __ATOMIC_ACQ_REL);
	l->esr_signalled = 0;
}

/* 11.6.1: an ICR write sends. The owner's router delivers it everywhere,
 * this APIC included (shorthand SELF or ALL). */
static void vlapic_send_ipi(struct vlapic *l, uint32_t lo, uint32_t dest)
{
	struct irq_msg m = {
		.vector = lo & 0xFF,
		.delivery = (lo >> 8) & 7,
		.logical = lo & (1u << 11),
		.assert = lo & (1u << 14),
		.level = lo & (1u << 15),
		.shorthand = (lo >> 18) & 3,
		.dest = dest,
		.source = l->id,
	};

	if ((m.delivery == IRQ_DM_FIXED || m.delivery == IRQ_DM_LOWEST) &&
	    m.vector < 16) {
		vlapic_error(l, ESR_SEND_ILLEGAL); /* 11.5.3: not sent */
		return;
	}
	if (l->send)
		l->send(l->ctx, &m);
}

/* ------------------------------------------------ register reads -- */

/* The registers both views read alike. False: no such register. */
static bool vlapic_read_common(struct vlapic *l, uint32_t reg, uint32_t *val,
			       uint64_t now)
{
	if (reg >= APIC_ISR && reg < APIC_ESR) {
		unsigned n = (reg - APIC_ISR) >> 4;
		const uint32_t *bank = n < 8 ? l->isr : n < 16 ? l->tmr : l->irr;
		*val = __atomic_load_n(&bank[n & 7], __ATOMIC_RELAXED);
		return true;
	}
	if (reg >= APIC_LVT && reg < APIC_LVT_END) {
		*val = l->lvt[(reg - APIC_LVT) >> 4]; /* status bits read idle */
		return true;
	}
	switch (reg) {
	case APIC_VERSION:
		*val = VLAPIC_VERSION;
		return true;
	case APIC_TPR:
		*val = l->tpr;
		return true;
	case APIC_PPR:
		*val = vlapic_ppr(l);
		return true;
	case APIC_SVR:
		*val = l->svr;
		return true;
	case APIC_ESR:
		*val = l->esr;
		return true;
	case APIC_TIMER_ICR:
		*val = l->timer_icr;
		return true;
	case APIC_TIMER_CCR:
		*val = vlapic_timer_ccr(l, now);
		return true;
	case APIC_TIMER_DCR:
		*val = l->timer_dcr;
		return true;
	default:
		return false;
	}
}

/* Read-only registers both views have (writes: ignored / #GP). */
static bool vlapic_reg_is_ro(uint32_t reg)
{
	return reg == APIC_ID || reg == APIC_VERSION || reg == APIC_PPR ||
	       reg == APIC_TIMER_CCR || (reg >= APIC_ISR && reg < APIC_ESR);
}

/* --------------------------------------------------------- xAPIC -- */

static bool vlapic_mmio_decoded(const struct vlapic *l)
{
	return vlapic_hw_enabled(l) && !vlapic_is_x2apic(l);
}

int vlapic_mmio_read(struct vlapic *l, uint32_t offset, uint32_t *val,
		     uint64_t now_ns)
{
	*val = 0;
	if (offset >= 0x1000)
		return KEEL_ERANGE;
	/* 11.12.2: in x2APIC mode the page is not the APIC's. Bytes 4-15 of
	 * each 16-byte slot hold nothing. */
	if (!vlapic_mmio_decoded(l) || (offset & 0xF))
		return 0;
	switch (offset) {
	case APIC_ID:
		*val = l->id << 24;
		break;
	case APIC_LDR:
		*val = l->ldr;
		break;
	case APIC_DFR:
		*val = l->dfr;
		break;
	case APIC_ICR_LO:
		*val = l->icr_lo; /* delivery status: always idle */
		break;
	case APIC_ICR_HI:
		*val = l->icr_hi;
		break;
	case APIC_APR: /* arbitration is the bus's, not modelled */
	case APIC_RRD: /* remote read: not supported since the Pentium 4 */
	case APIC_EOI: /* write-only */
		break;
	default:
		if (!vlapic_read_common(l, offset, val, now_ns))
			vlapic_error(l, ESR_ILLEGAL_REG);
		break;
	}
	return 0;
}

int vlapic_mmio_write(struct vlapic *l, uint32_t offset, uint32_t val,
		      uint64_t now_ns)
{
	if (offset >= 0x1000)
		return KEEL_ERANGE;
	if (!vlapic_mmio_decoded(l) || (offset & 0xF))
		return 0;
	if (offset >= APIC_LVT && offset < APIC_LVT_END) {
		vlapic_write_lvt(l, (offset - APIC_LVT) >> 4, val);
		return 0;
	}
	switch (offset) {
	case APIC_TPR:
		l->tpr = val & 0xFF;
		break;
	case APIC_EOI:
		vlapic_do_eoi(l);
		break;
	case APIC_LDR:
		l->ldr = val & 0xFF000000; /* 11.6.2.2: logical ID in 31:24 */
		break;
	case APIC_DFR:
		l->dfr = val | 0x0FFFFFFF; /* model in 31:28, the rest reads 1 */
		break;
	case APIC_SVR:
		vlapic_write_svr(l, val);
		break;
	case APIC_ESR:
		vlapic_write_esr(l);
		break;
	case APIC_ICR_LO:
		l->icr_lo = val & ICR_WRITABLE;
		vlapic_send_ipi(l, l->icr_lo, l->icr_hi >> 24);
		break;
	case APIC_ICR_HI:
		l->icr_hi = val & 0xFF000000;
		break;
	case APIC_TIMER_ICR:
		vlapic_write_timer_icr(l, val, now_ns);
		break;
	case APIC_TIMER_DCR:
		vlapic_write_dcr(l, val, now_ns);
		break;
	case APIC_APR: /* read-only */
	case APIC_RRD:
		break;
	default:
		/* Read-only ones are ignored; the ID too, though some
		 * processors let software change it: the owner routes by
		 * the vCPU's ID. */
		if (!vlapic_reg_is_ro(offset))
			vlapic_error(l, ESR_ILLEGAL_REG);
		break;
	}
	return 0;
}

/* -------------------------------------------------------- x2APIC -- */

int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val,
		    uint64_t now_ns)
{
	uint32_t v;

	*val = 0;
	if (!vlapic_is_x2apic(l) || msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return -1;
	uint32_t reg = (msr - MSR_X2APIC_FIRST) << 4;
	switch (reg) {
	case APIC_ID:
		*val = l->id; /* 11.12.5.1: all 32 bits */
		return 0;
	case APIC_LDR:
		*val = vlapic_x2apic_ldr(l->id);
		return 0;
	case APIC_ICR_LO:
		*val = ((uint64_t)l->icr_hi << 32) | l->icr_lo;
		return 0;
	default:
		/* Table 11-6: EOI and SELF IPI are write-only; APR, RRD,
		 * DFR and ICR high do not exist in x2APIC mode. */
		if (!vlapic_read_common(l, reg, &v, now_ns))
			return -1;
		*val = v;
		return 0;
	}
}

int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val,
		     uint64_t now_ns)
{
	if (!vlapic_is_x2apic(l) || msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return -1;
	uint32_t reg = (msr - MSR_X2APIC_FIRST) << 4;
	uint32_t v = (uint32_t)val;

	/* 11.12.1.3: non-zero writes to reserved bits raise #GP; all but
	 * the ICR are 32 bits wide. */
	if (reg == APIC_ICR_LO) {
		if (v & ~ICR_WRITABLE)
			return -1;
		l->icr_lo = v;
		l->icr_hi = (uint32_t)(val >> 32);
		vlapic_send_ipi(l, l->icr_lo, l->icr_hi);
		return 0;
	}
	if (val >> 32)
		return -1;
	if (reg >= APIC_LVT && reg < APIC_LVT_END) {
		enum vlapic_lvt i = (reg - APIC_LVT) >> 4;
		uint32_t ok = vlapic_lvt_writable[i] | LVT_STATUS;
		if (i == VLAPIC_LVT_LINT0 || i == VLAPIC_LVT_LINT1)
			ok |= LVT_REMOTE_IRR;
		if (v & ~ok)
			return -1;
		vlapic_write_lvt(l, i, v);
		return 0;
	}
	switch (reg) {
	case APIC_TPR:
		if (v & ~0xFFu)
			return -1;
		l->tpr = v;
		return 0;
	case APIC_EOI:
		if (v) /* table 11-6: only 0 may be written */
			return -1;
		vlapic_do_eoi(l);
		return 0;
	case APIC_SVR:
		if (v & ~SVR_WRITABLE)
			return -1;
		vlapic_write_svr(l, v);
		return 0;
	case APIC_ESR:
		if (v)
			return -1;
		vlapic_write_esr(l);
		return 0;
	case APIC_TIMER_ICR:
		vlapic_write_timer_icr(l, v, now_ns);
		return 0;
	case APIC_TIMER_DCR:
		if (v & ~DCR_WRITABLE)
			return -1;
		vlapic_write_dcr(l, v, now_ns);
		return 0;
	case APIC_SELF_IPI: {
		/* 11.12.11: a fixed, edge interrupt to this APIC alone. */
		if (v & ~0xFFu)
			return -1;
		uint32_t lo = v | ((uint32_t)IRQ_SH_SELF << 18) | (1u << 14);
		vlapic_send_ipi(l, lo, l->id);
		return 0;
	}
	default:
		return -1; /* read-only (ID, LDR, PPR, ...) or reserved */
	}
}

/* ------------------------------------------------ IA32_APIC_BASE -- */

/* Bits 0-7 and 9 are reserved (figure 11-5), as is everything above the
 * largest physical address width (52). */
#define BASE_RESERVED (0xFFF0000000000000ULL | 0x2FFULL)

uint64_t vlapic_get_base(const struct vlapic *l)
{
	return l->apic_base;
}

int vlapic_set_base(struct vlapic *l, uint64_t val)
{
	bool was_en = l->apic_base & VLAPIC_BASE_EN;
	bool was_x2 = was_en && (l->apic_base & VLAPIC_BASE_EXTD);
	bool en = val & VLAPIC_BASE_EN;
	bool x2 = val & VLAPIC_BASE_EXTD;

	if (val & BASE_RESERVED)
		return -1;
	/* 11.12.5.1 (the x2APIC state diagram): EXTD without EN is
	 * invalid; disabled goes only to xAPIC; x2APIC only to disabled. */
	if (x2 && !en)
		return -1;
	if (!was_en && x2)
		return -1;
	if (was_x2 && en && !x2)
		return -1;
	__atomic_store_n(&l->apic_base, val, __ATOMIC_RELAXED);
	/* 11.4.3: disabling loses the APIC's state; it comes back as after
	 * power-up (11.12.5.1: only the ID survives mode changes). */
	if (was_en && !en)
		vlapic_reset_regs(l);
	return 0;
}

/* ------------------------------------------------------- routing -- */

bool vlapic_accepts_extint(const struct vlapic *l)
{
	uint32_t lint0 = l->lvt[VLAPIC_LVT_LINT0];

	if (!vlapic_hw_enabled(l))
		return true;
	return !(lint0 & LVT_MASKED) && LVT_DM(lint0) == IRQ_DM_EXTINT;
}

bool vlapic_match_dest(const struct vlapic *l, const struct irq_msg *m)
{
	if (!vlapic_hw_enabled(l))
		return false;
	switch (m->shorthand) {
	case IRQ_SH_SELF:
		return l->id == m->source;
	case IRQ_SH_ALL:
		return true;
	case IRQ_SH_OTHERS:
		return l->id != m->source;
	default:
		break;
	}
	if (vlapic_is_x2apic(l)) {
		/* 11.12.9, 11.12.10.2: all ones is broadcast in both modes;
		 * logical is cluster 31:16 plus a 16-bit member mask. */
		if (m->dest == 0xFFFFFFFF)
			return true;
		if (!m->logical)
			return m->dest == l->id;
		uint32_t ldr = vlapic_x2apic_ldr(l->id);
		return (m->dest >> 16) == (ldr >> 16) && (m->dest & ldr & 0xFFFF);
	}
	uint8_t dest = m->dest & 0xFF;
	if (!m->logical) /* 11.6.2.1: 0xFF is broadcast */
		return dest == 0xFF || dest == (l->id & 0xFF);
	/* 11.6.2.2: flat ANDs the 8-bit logical ID; cluster compares the
	 * cluster (15: all clusters) and ANDs the 4 member bits. */
	uint8_t ld = l->ldr >> 24;
	if ((l->dfr >> 28) == 0xF)
		return (dest & ld) != 0;
	return ((dest >> 4) == 0xF || (dest >> 4) == (ld >> 4)) &&
	       (dest & ld & 0xF);
}
