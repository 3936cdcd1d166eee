/*
 * vdev.h - the virtual devices every VM gets in this milestone: the COM1
 * 16550 UART (output to the VM's console), the Keel test device (results,
 * end of test, a one-shot timer, an echo register, bench markers), the MMIO
 * scratch device, and the QEMU-compatible debug-exit port when configured.
 */
#ifndef KEEL_VDEV_H
#define KEEL_VDEV_H

#include <stdint.h>

#include "kernel/vdev/uart.h"
#include "kernel/virt/virt.h"

#define TESTDEV_PORT 0xA00
#define TESTDEV_PORTS 0x20
#define TESTDEV_RESULT 0x00  /* OUT: one check's result, 0 = pass */
#define TESTDEV_END 0x01     /* OUT8: end the VM with this status */
#define TESTDEV_TIMER 0x04   /* OUT32: one-shot timer, microseconds */
#define TESTDEV_VECTOR 0x08  /* OUT8: the timer's interrupt vector */
#define TESTDEV_ECHO 0x0C    /* IN/OUT: echo register, reset "KEEL" */
#define TESTDEV_BENCH 0x10   /* OUT32: bench marker */
#define TESTDEV_ECHO_RESET 0x4B45454Cu
#define SCRATCH_BASE 0xFEB00000ULL
#define SCRATCH_SIZE 0x1000
#define SCRATCH_MAGIC 0x4F494D4D4C45454BULL /* "KEELMMIO" */

struct vdev_state;

/* The platform's fixed addresses (what the ACPI tables describe). */
#define VDEV_LAPIC_BASE 0xFEE00000ULL
#define VDEV_IOAPIC_BASE 0xFEC00000ULL
#define VDEV_PM_BASE 0x600   /* PM1a event 0x600, control 0x604, timer 0x608 */
#define VDEV_PM_LEN 0x40     /* up to GPE0 at 0x620 and its enables */
#define VDEV_SCI_IRQ 9
#define VDEV_COM1_IRQ 4
#define VDEV_RTC_IRQ 8

/* Lifecycle (vm.c): vdev_init before the vCPUs exist, vdev_vcpu_init for
 * each vCPU once it exists, vdev_destroy when the VM is freed. */
int vdev_init(struct vm *vm, uint16_t debug_exit_port);
int vdev_vcpu_init(struct vcpu *vcpu);
/* An INIT IPI reached the vCPU: its local APIC goes to the INIT state. */
void vdev_lapic_init_ipi(struct vcpu *vcpu);
void vdev_destroy(struct vm *vm);
/* Reset device state (vm_reset). */
void vdev_reset(struct vm *vm);

/* Called by the vCPU's own thread before every entry and while halted:
 * run the timers it drives (its local APIC; vCPU 0 also the VM's PIT, RTC,
 * PM timer and test device), raising their interrupts. Returns the next
 * deadline (ns, time_ns clock) of any of them, or 0. */
uint64_t vdev_timer_poll(struct vcpu *vcpu, uint64_t now);

/* Interrupts for the core (kernel/vdev/irq.c). Whether the vCPU has an
 * interrupt to take: the vector from its local APIC, VDEV_INTR_EXTINT when
 * the PIC's INTR reaches it through LINT0, -1 when nothing. It stays
 * pending: vdev_intr_take consumes it when the core can inject, and
 * returns the vector (the PIC's INTA cycle happens then), or -1. */
#define VDEV_INTR_EXTINT 256
int vdev_intr_pending(struct vcpu *vcpu);
int vdev_intr_take(struct vcpu *vcpu);
/* An interrupt (or INIT, SIPI or NMI) may have arrived since the vCPU last
 * looked: cheap test for the fast paths. */
static inline bool vdev_intr_work(const struct vcpu *vcpu)
{
	return __atomic_load_n(&vcpu->intr_work, __ATOMIC_ACQUIRE) != 0;
}

/* The local APIC's MSRs: IA32_APIC_BASE, x2APIC 0x800-0x8FF,
 * IA32_TSC_DEADLINE. 0 done, -1 for #GP, 1 when msr is not the APIC's. */
int vdev_lapic_msr(struct vcpu *vcpu, uint32_t msr, bool write, uint64_t *val);

/* Set a GSI's line (0-23: IOAPIC pins; 0-15 also the PIC's, with IRQ 0 on
 * IOAPIC pin 2 as the MADT's override says). Any thread. */
void vdev_irq_set(struct vm *vm, unsigned gsi, bool level);

/* Press the VM's ACPI power button (the guest decides to power off). */
void vdev_power_button(struct vm *vm);
/* Bytes typed for the VM's COM1: how many the UART took (its FIFO holds
 * 16; the rest is the caller's to retry). */
unsigned vdev_console_input(struct vm *vm, const char *buf, unsigned len);

/* Pure register models, host-testable (tests/unit/test_vdev.c). */
struct testdev {
	uint32_t echo;
	uint8_t vector;
	uint64_t timer_deadline_ns; /* 0: not armed */
	uint64_t passed, failed;
	uint64_t bench_ns[8];	    /* timestamps of the last markers */
	uint32_t bench_marker[8];
	unsigned bench_count;
	uint8_t scratch[SCRATCH_SIZE];
};

/* Register-level behaviour, with side effects returned to the caller. */
int testdev_mmio(struct testdev *t, uint64_t off, uint8_t size, bool write,
		 uint64_t *val);

#endif
