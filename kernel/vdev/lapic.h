/*
 * lapic.h - a guest's local APIC, one per vCPU, as a pure register model:
 * the xAPIC MMIO page and the x2APIC MSRs over one register file, interrupt
 * acceptance and priority (IRR, ISR, TMR, TPR, PPR), EOI, the timer and IPIs.
 * Intel SDM vol.3 chapter 11. Time comes in as now_ns; messages go out
 * through the owner's callbacks (kernel/vdev/irq.h).
 *
 * Concurrency: everything is the owning vCPU's, except vlapic_accept(),
 * which any CPU may call at any time: it touches only irr[], tmr[],
 * esr_pending and pending, with atomic operations.
 */
#ifndef KEEL_VDEV_LAPIC_H
#define KEEL_VDEV_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/vdev/irq.h"

/* The timer's input clock (SDM 11.5.4 leaves it to the implementation):
 * 1 GHz, so one count lasts 1 ns at divide-by-1. */
#define VLAPIC_BUS_HZ 1000000000ULL

#define VLAPIC_DEFAULT_BASE 0xFEE00000ULL
#define VLAPIC_BASE_BSP (1ULL << 8)   /* IA32_APIC_BASE, SDM figure 11-5 */
#define VLAPIC_BASE_EXTD (1ULL << 10) /* x2APIC mode (SDM 11.12.1) */
#define VLAPIC_BASE_EN (1ULL << 11)   /* APIC global enable */
/* Version 0x14 (integrated APIC), 6 LVT entries (max LVT 5), no directed
 * EOI (bit 24 clear): SDM figure 11-7. */
#define VLAPIC_VERSION 0x00050014u

/* The LVT entries, in register order from 0x320 (SDM figure 11-8). No CMCI:
 * it would be the 7th entry and max LVT says 6. */
enum vlapic_lvt {
	VLAPIC_LVT_TIMER,
	VLAPIC_LVT_THERMAL,
	VLAPIC_LVT_PERF,
	VLAPIC_LVT_LINT0,
	VLAPIC_LVT_LINT1,
	VLAPIC_LVT_ERROR,
	VLAPIC_LVT_COUNT,
};

/* Called on an EOI for a level-triggered vector (TMR set), so the owner can
 * tell the IOAPIC (SDM 11.8.5: the EOI is broadcast). */
typedef void (*vlapic_eoi_fn)(void *ctx, uint8_t vector);

struct vlapic {
	uint32_t id;	     /* APIC ID: the vCPU index; never changes */
	uint64_t apic_base;  /* IA32_APIC_BASE as the guest sees it */
	uint32_t tpr;
	uint32_t ldr;	     /* xAPIC only; x2APIC derives it from id */
	uint32_t dfr;
	uint32_t svr;
	uint32_t esr;	     /* what the last ESR write latched */
	uint32_t esr_pending; /* errors since (atomic: vlapic_accept sets) */
	uint32_t esr_signalled; /* of those, already raised through LVT error */
	uint32_t icr_lo, icr_hi;
	uint32_t isr[8];
	uint32_t irr[8];     /* atomic: vlapic_accept sets bits */
	uint32_t tmr[8];     /* atomic: vlapic_accept sets and clears bits */
	uint32_t lvt[VLAPIC_LVT_COUNT];
	uint32_t timer_icr;  /* initial count */
	uint32_t timer_dcr;  /* divide configuration */
	bool timer_armed;
	uint64_t timer_next_ns; /* when armed: the count reaches 0 then */
	uint64_t tsc_deadline;	/* IA32_TSC_DEADLINE, 0: disarmed */
	uint64_t tsc_hz;	/* the guest's TSC rate: set by the owner */
	int pending;	     /* atomic: set by accept, cleared by vlapic_pending */
	irq_deliver_fn send;
	vlapic_eoi_fn eoi;
	void *ctx;
};

/* Power-up/RESET state (SDM 11.4.7.1, 11.12.5.1): xAPIC mode, enabled in
 * IA32_APIC_BASE (with the BSP flag when bsp), software-disabled (SVR 0xFF),
 * every LVT masked. send carries IPIs, eoi level EOIs; both get ctx. Also
 * what a VM reset calls. tsc_hz is left 0: the owner sets it. */
void vlapic_init(struct vlapic *l, uint32_t id, bool bsp, irq_deliver_fn send,
		 vlapic_eoi_fn eoi, void *ctx);
/* INIT (SDM 11.4.7.3): the registers as at power-up, but the ID and
 * IA32_APIC_BASE (so the xAPIC/x2APIC/disabled mode) stay. */
void vlapic_reset_init(struct vlapic *l);
/* What a PC BIOS leaves on the way to the OS (MP spec 3.6.2.2, "virtual
 * wire"): software-enabled, LINT0 ExtINT (the 8259's INTR), LINT1 NMI.
 * For guests Keel starts directly, which get no BIOS. */
void vlapic_set_virtual_wire(struct vlapic *l);

/* The xAPIC page: offset within the 4 KiB page, 32-bit registers on 16-byte
 * boundaries (the caller passes aligned dword accesses). Reserved offsets
 * read 0, ignore writes and set ESR "illegal register address"; write-only
 * registers read 0; writes to read-only ones are ignored. In x2APIC mode or
 * hardware-disabled the page is not decoded: reads 0, writes dropped.
 * Return 0, or KEEL_ERANGE for an offset past the page. */
int vlapic_mmio_read(struct vlapic *l, uint32_t offset, uint32_t *val,
		     uint64_t now_ns);
int vlapic_mmio_write(struct vlapic *l, uint32_t offset, uint32_t val,
		      uint64_t now_ns);

/* The x2APIC MSRs 0x800-0x8FF (SDM 11.12.1.2, table 11-6). Return 0, or -1
 * when the access must raise #GP(0): not in x2APIC mode, no such register,
 * reading a write-only or writing a read-only register, reserved bits set. */
int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val,
		    uint64_t now_ns);
int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val,
		     uint64_t now_ns);

/* IA32_APIC_BASE (MSR 0x1B). set: 0, or -1 for #GP (reserved bits, or a
 * transition SDM 11.12.5 forbids). Disabling resets the registers. */
uint64_t vlapic_get_base(const struct vlapic *l);
int vlapic_set_base(struct vlapic *l, uint64_t val);
bool vlapic_is_x2apic(const struct vlapic *l);

/* IA32_TSC_DEADLINE (MSR 0x6E0, SDM 11.5.4.1): the value is in TSC ticks,
 * tsc_hz converts. Ignored (reads 0) unless the LVT timer is in TSC-deadline
 * mode; 0 disarms; a deadline already past fires at the next poll. Returns
 * 0, or KEEL_EINVAL (timer disarmed) when tsc_hz was never set. */
int vlapic_tsc_deadline_write(struct vlapic *l, uint64_t tsc_value,
			      uint64_t now_tsc, uint64_t now_ns);
uint64_t vlapic_tsc_deadline_read(const struct vlapic *l);

/* The timer: when it expired, raise the LVT timer vector (unless masked);
 * a periodic timer re-arms from its previous expiry, and one that fell
 * behind by several periods raises once and keeps its schedule. Returns
 * the next expiry (ns), or 0 when not armed. Call on every exit and after
 * register writes (they may arm the timer). */
uint64_t vlapic_timer_poll(struct vlapic *l, uint64_t now_ns);

/* Any CPU: a fixed or lowest-priority interrupt arrives (SDM 11.5.5).
 * Sets IRR (TMR for level, clears it for edge) and pending. False when not
 * taken: vector 0-15 (ESR "received illegal vector"), the APIC hardware-
 * disabled, or software-disabled (SDM 11.4.7.2: then it answers only INIT,
 * NMI, SMI and SIPI; what IRR and ISR already hold stays). */
bool vlapic_accept(struct vlapic *l, uint8_t vector, bool level);
/* The owner: the vector to take now, or -1: the highest IRR vector whose
 * priority class is above the PPR's (SDM 11.8.3). Clears pending first,
 * and raises the LVT error interrupt for errors other CPUs recorded. */
int vlapic_pending(struct vlapic *l);
/* The guest took vector (the INTA of SDM 11.8.4): IRR to ISR. */
void vlapic_ack(struct vlapic *l, uint8_t vector);
/* PPR (SDM 11.8.3.1), for lowest-priority arbitration. */
uint8_t vlapic_ppr(const struct vlapic *l);
/* CR8 is TPR[7:4] (SDM 10.8.6.1); writing it zeroes TPR[3:0]. */
uint64_t vlapic_get_cr8(const struct vlapic *l);
void vlapic_set_cr8(struct vlapic *l, uint64_t cr8);

/* This APIC would take the PIC's INTR: LVT LINT0 unmasked with delivery
 * mode ExtINT, or the APIC hardware-disabled (IA32_APIC_BASE[11] clear,
 * SDM 11.4.3: the processor then has no APIC and INTR goes to the core). */
bool vlapic_accepts_extint(const struct vlapic *l);
/* m is for this APIC (SDM 11.6.2, 11.12.10): shorthands against m->source,
 * physical (broadcast 0xFF, x2APIC 0xFFFFFFFF), logical flat or cluster
 * (DFR) in xAPIC mode, cluster in x2APIC mode. A hardware-disabled APIC
 * matches nothing. Lowest priority matches like fixed: the owner picks. */
bool vlapic_match_dest(const struct vlapic *l, const struct irq_msg *m);

#endif
