/*
 * vdev_internal.h - kernel/vdev's own business: a VM's device state and the
 * calls between vdev.c (the devices) and irq.c (interrupt routing and the
 * local APICs). Not for other subsystems: vdev.h is the contract.
 */
#ifndef KEEL_VDEV_INTERNAL_H
#define KEEL_VDEV_INTERNAL_H

#include "kernel/spinlock.h"
#include "kernel/vdev/ioapic.h"
#include "kernel/vdev/irq.h"
#include "kernel/vdev/lapic.h"
#include "kernel/vdev/pci.h"
#include "kernel/vdev/pic.h"
#include "kernel/vdev/pit.h"
#include "kernel/vdev/pm.h"
#include "kernel/vdev/rtc.h"
#include "kernel/vdev/uart.h"
#include "kernel/vdev/vdev.h"

#define VDEV_GSI_COUNT 24

struct vdev_state {
	struct spinlock lock; /* everything below but test and the LAPICs */
	struct vm *vm;
	struct uart16550 uart;
	struct vpic pic;
	struct vioapic ioapic;
	struct vpit pit;
	struct vrtc rtc;
	struct vpm pm;
	struct vkbc kbc;
	uint8_t port92;
	struct vpci pci;
	uint32_t irq_lines;	/* GSI levels as the devices drive them */
	uint64_t next_poll_ns;	/* VM-level timers: poll at; 0 none */
	bool reset_busy;	/* a guest-requested reset is running */
	struct testdev test;	/* vCPU 0's, and the scratch page's */
	uint16_t debug_exit;
};

/* irq.c */
/* Drive a GSI's line, under s->lock. */
void vdev_irq_set_locked(struct vdev_state *s, unsigned gsi, bool level);
/* The router: deliver a message from the IOAPIC or a local APIC (ctx: vm). */
void vdev_irq_route(void *ctx, const struct irq_msg *msg);
/* The PIC may have a request: wake the vCPUs that take ExtINT. */
void vdev_extint_kick(struct vdev_state *s);
/* The local APICs: MMIO range, IOAPIC range. */
int vdev_irq_register(struct vm *vm, struct vdev_state *s);
uint64_t vdev_lapic_poll(struct vcpu *vcpu, uint64_t now);
void vdev_lapic_reset(struct vcpu *vcpu);

#endif
