/*
 * apic.h - the local APIC of each CPU (x2APIC through MSRs when the CPU has it
 * and the configuration allows, else xAPIC through its MMIO page), IPIs, the
 * LAPIC timer (TSC-deadline or one-shot), and switching off the legacy 8259s.
 * Intel SDM vol.3 chapter 11 (APIC).
 *
 * The BSP's lapic_init() chooses the mode for every CPU. No locks: each CPU
 * touches only its own APIC; sends disable interrupts around the ICR writes.
 */
#ifndef KEEL_APIC_H
#define KEEL_APIC_H

#include <stdbool.h>
#include <stdint.h>

/* Vectors Keel's own interrupts use (the IDT installs their handlers; each
 * handler but the spurious one ends with lapic_eoi()). */
#define VEC_TIMER 0xF0
#define VEC_XCALL 0xF1
#define VEC_RESCHED 0xF2
#define VEC_LAPIC_ERROR 0xFE
#define VEC_SPURIOUS 0xFF /* SDM 11.9: no EOI for a spurious interrupt */

/* On the calling CPU; the first call (the BSP's) decides the mode: x2APIC
 * when CPUID.1:ECX[21] and allow_x2apic, else xAPIC (MMIO page at the
 * IA32_APIC_BASE address). Software-enables the APIC with VEC_SPURIOUS, TPR 0,
 * masks LINT0, LINT1 (no NMI through LINT1: watchdog NMIs are not used yet),
 * the timer and the other LVTs, routes APIC errors to VEC_LAPIC_ERROR, clears
 * the ESR and acknowledges vectors left in service by firmware.
 * Returns 0, KEEL_ENOTSUP (no APIC) or KEEL_ENOMEM (mapping failed). */
int lapic_init(bool allow_x2apic);
uint32_t lapic_id(void); /* CPUID's initial APIC id before lapic_init() */
bool lapic_is_x2apic(void);
void lapic_eoi(void);
/* Reads and clears the Error Status Register (SDM 11.5.3). */
uint32_t lapic_read_esr(void);

/* IPIs: physical destination, edge. A destination the mode cannot address
 * (above 0xFE in xAPIC mode) is logged and dropped. */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_ipi_all_but_self(uint8_t vector);
void lapic_send_nmi(uint32_t apic_id);
void lapic_send_nmi_all_but_self(void);
/* INIT assert then INIT de-assert (level), MP spec B.4 / SDM 11.6.1. The
 * caller waits 10 ms before the first SIPI, then sends two SIPIs 200 us
 * apart (SDM 9.4.4.1). */
void lapic_send_init(uint32_t apic_id);
/* Start-up IPI: the AP starts in real mode at vector_page << 12. */
void lapic_send_sipi(uint32_t apic_id, uint8_t vector_page);

/* LAPIC timer. lapic_timer_calibrate() on the BSP after time_init(); then
 * lapic_timer_setup() on every CPU. The timer's interrupt may arrive after a
 * cancel or re-arm (SDM 11.5.4.1): the handler must check its own deadline. */
void lapic_timer_calibrate(void);
void lapic_timer_setup(void);
void lapic_timer_arm_ns(uint64_t ns_from_now);
void lapic_timer_cancel(void);
bool lapic_timer_uses_deadline(void);
uint64_t lapic_timer_hz(void); /* counts per second after the divider; 0
				  before calibration */

/* Remap the 8259s to vectors 0x20-0x2F and mask all their lines, so a stray
 * legacy IRQ never lands on an exception vector. */
void pic_disable(void);

/* ---- ICR encoding (SDM 11.6.1 Figure 11-12; x2APIC 11.12.9), exposed for
 * the unit tests. ---- */
#define ICR_VECTOR(v) ((uint32_t)(v) & 0xFF)
#define ICR_DM_FIXED (0u << 8)
#define ICR_DM_NMI (4u << 8)
#define ICR_DM_INIT (5u << 8)
#define ICR_DM_STARTUP (6u << 8)
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_DELIVERY_PENDING (1u << 12) /* xAPIC only, read-only */
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_SH_SELF (1u << 18)
#define ICR_SH_ALL (2u << 18)
#define ICR_SH_ALL_BUT_SELF (3u << 18)

/* The 64-bit ICR value for command 'cmd' (the low 32 bits) sent to dest:
 * xAPIC puts the 8-bit APIC id in bits 63:56 (ICR high, bits 31:24), x2APIC
 * the 32-bit id in bits 63:32. KEEL_ERANGE when dest does not fit (or is the
 * broadcast id, which must be asked for with a shorthand); the destination is
 * ignored when cmd has a shorthand. */
int lapic_icr_encode(bool x2apic, uint32_t dest, uint32_t cmd, uint64_t *icr);

#endif
