/*
 * vdev.h - the virtual devices every VM gets in this milestone: the COM1
 * 16550 UART (output to the VM's console), the Keel test device (results,
 * end of test, a one-shot timer, an echo register, bench markers), the MMIO
 * scratch device, and the QEMU-compatible debug-exit port when configured.
 */
#ifndef KEEL_VDEV_H
#define KEEL_VDEV_H

#include <stdint.h>

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

/* Create and register the devices of a VM (called by vm_create). */
int vdev_init(struct vm *vm, uint16_t debug_exit_port);
void vdev_destroy(struct vm *vm);
/* The test device's timer: called on every exit and while halted. Returns
 * the pending deadline (ns) or 0; fires (sets pending_irq) when due. */
uint64_t vdev_timer_poll(struct vcpu *vcpu, uint64_t now);
/* Reset device state (vm_reset). */
void vdev_reset(struct vm *vm);

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

struct uart16550 {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
};

/* Register-level behaviour, with side effects returned to the caller. */
int testdev_mmio(struct testdev *t, uint64_t off, uint8_t size, bool write,
		 uint64_t *val);
/* For OUT: returns what happened (UART: the byte to print, or -1). */
int uart_io(struct uart16550 *u, uint16_t reg, bool in, uint8_t *val);

#endif
