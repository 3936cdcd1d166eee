/*
 * fpu.h - x87/SSE/AVX register state for the few contexts that have one:
 * vCPUs (kernel/virt/fpu.c) and kernel threads that call code built with
 * the FPU (cJSON, the management agent's). Keel's own code never touches
 * these registers (-mgeneral-regs-only), so a context's state stays in the
 * CPU while other threads run and is saved only when another context
 * claims the CPU (lazy switching, one owner per CPU).
 */
#ifndef KEEL_FPU_H
#define KEEL_FPU_H

#include <stddef.h>
#include <stdint.h>

/* The XCR0 every CPU runs Keel with (x87, SSE, AVX where the CPU has
 * them); 0 when the CPU has no XSAVE (FXSAVE is used then). */
extern uint64_t fpu_host_xcr0;

/* Each CPU, once at bring-up: CR4.OSXSAVE and XCR0 when there is XSAVE. */
void fpu_cpu_init(void);
/* A save area (64-byte aligned) in the initial state (FCW 0x37F, MXCSR
 * 0x1F80); NULL when out of memory. */
void *fpu_area_alloc(void);
void fpu_area_free(void *area);
void fpu_area_reset(void *area);
/* This CPU's registers hold area's state from now on (the previous owner's
 * is saved into its own area first). Any context; interrupts may be on. */
void fpu_claim(void *area);
/* area is going away or was reset: no CPU holds it any more. */
void fpu_release(void *area);
/* The current thread gets an FPU context, switched with it by the
 * scheduler: for threads that call code built with SSE. 0 or KEEL_ENOMEM. */
int thread_fpu_enable(void);

#endif
