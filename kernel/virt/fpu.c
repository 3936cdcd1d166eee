/*
 * fpu.c - each vCPU's x87/SSE/AVX state and XCR0. Keel's own code never
 * touches these registers (-mgeneral-regs-only), so a vCPU's state stays in
 * the CPU's registers while other Keel threads run; it is saved only when
 * another vCPU comes to the same CPU (lazy switching, per-CPU owner). XCR0
 * is the guest's only inside the guest: the backends switch it around VM
 * entry with interrupts off (vcpu_xcr0_enter/exit).
 *
 * Every CPU runs with the same host XCR0, the components guests may have
 * (x87, SSE, AVX where present), so one XSAVE saves whatever a guest used.
 */
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/compiler.h"
#include "kernel/cpu.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/virt/virt_internal.h"
#include "mm/mm.h"

#define XCR0_X87 (1ULL << 0)
#define XCR0_SSE (1ULL << 1)
#define XCR0_AVX (1ULL << 2)
#define FPU_GUEST_XCR0_MAX (XCR0_X87 | XCR0_SSE | XCR0_AVX)
#define FXSAVE_SIZE 512
#define FPU_ALIGN 64

uint64_t fpu_host_xcr0; /* 0: no XSAVE; FXSAVE/FXRSTOR then */
static size_t fpu_size = FXSAVE_SIZE;
static struct vcpu *fpu_owner[MAX_CPUS];

static inline void xsetbv(uint32_t index, uint64_t val)
{
	__asm__ volatile("xsetbv" ::"c"(index), "a"((uint32_t)val),
			 "d"((uint32_t)(val >> 32)));
}

void vcpu_xsetbv(uint64_t val)
{
	xsetbv(0, val);
}

static void fpu_save(void *area)
{
	if (fpu_host_xcr0)
		__asm__ volatile("xsave64 (%0)" ::"r"(area), "a"((uint32_t)~0u),
				 "d"((uint32_t)~0u) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

static void fpu_restore(const void *area)
{
	if (fpu_host_xcr0)
		__asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"((uint32_t)~0u),
				 "d"((uint32_t)~0u) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}

/* Each CPU, before its first VM (virt_init): CR4.OSXSAVE and the host
 * XCR0 when the CPU has XSAVE; the save area's size from CPUID 0xD. */
void fpu_cpu_init(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26))) /* XSAVE */
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	cpuid(0xD, 0, &a, &b, &c, &d);
	uint64_t xcr0 = ((uint64_t)d << 32 | a) & FPU_GUEST_XCR0_MAX;
	xsetbv(0, xcr0);
	cpuid(0xD, 0, &a, &b, &c, &d); /* EBX: the size for this XCR0 */
	if (cpu_id() == 0) {
		fpu_host_xcr0 = xcr0;
		fpu_size = b;
	}
}

/* The guest's FPU at RESET (SDM vol.1 table 9-1, vol.3 table 9-1): FCW
 * 0x037F (0x0040 after RESET, but INIT and FNINIT give 0x037F, which OSes
 * expect), MXCSR 0x1F80, every other component in its initial state
 * (XSTATE_BV 0 in the header). */
static void fpu_area_reset(void *area)
{
	uint8_t *p = area;

	memset(p, 0, fpu_size);
	p[0] = 0x7F;	   /* FCW */
	p[1] = 0x03;
	p[24] = 0x80;	   /* MXCSR */
	p[25] = 0x1F;
	if (fpu_host_xcr0)
		p[512] = 0x3; /* XSTATE_BV: x87 and SSE from the legacy area */
}

int vcpu_fpu_init(struct vcpu *vcpu)
{
	size_t size = fpu_size + FPU_ALIGN;
	uint8_t *raw = kzalloc(size);

	if (!raw)
		return KEEL_ENOMEM;
	vcpu->fpu_raw = raw;
	vcpu->fpu = (void *)(((uintptr_t)raw + FPU_ALIGN - 1) &
			     ~(uintptr_t)(FPU_ALIGN - 1));
	vcpu->xcr0 = fpu_host_xcr0 ? XCR0_X87 : 0;
	fpu_area_reset(vcpu->fpu);
	return 0;
}

/* Forget a vCPU on its CPU (its thread ends, or vm_reset gave it a fresh
 * state): the next owner must not save into it, nor it skip its restore. */
void vcpu_fpu_release(struct vcpu *vcpu)
{
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		struct vcpu *v = vcpu;
		__atomic_compare_exchange_n(&fpu_owner[c], &v, NULL, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
}

void vcpu_fpu_reset(struct vcpu *vcpu)
{
	vcpu_fpu_release(vcpu);
	vcpu->xcr0 = fpu_host_xcr0 ? XCR0_X87 : 0;
	fpu_area_reset(vcpu->fpu);
}

void vcpu_fpu_destroy(struct vcpu *vcpu)
{
	if (!vcpu->fpu_raw)
		return;
	vcpu_fpu_release(vcpu);
	kfree(vcpu->fpu_raw);
	vcpu->fpu_raw = vcpu->fpu = NULL;
}

/* Before entering the guest: this CPU's registers hold vcpu's state. */
__hot void vcpu_fpu_load(struct vcpu *vcpu)
{
	uint64_t flags = irq_save();
	unsigned cpu = cpu_id();
	struct vcpu *owner = fpu_owner[cpu];

	if (owner != vcpu) {
		if (owner)
			fpu_save(owner->fpu);
		fpu_restore(vcpu->fpu);
		fpu_owner[cpu] = vcpu;
	}
	irq_restore(flags);
}

/* XSETBV in the guest (SDM vol.2 XSETBV): only XCR0; x87 always on; AVX
 * needs SSE; nothing beyond what CPUID 0xD.0 offers the guest. 0, or -1
 * for #GP. */
int vcpu_xcr0_set(struct vcpu *vcpu, uint32_t index, uint64_t val)
{
	uint32_t regs[4];

	if (index != 0 || !fpu_host_xcr0)
		return -1;
	cpuid_guest_view(vcpu, 0xD, 0, regs);
	uint64_t allowed = ((uint64_t)regs[3] << 32 | regs[0]) & fpu_host_xcr0;
	if (!(val & XCR0_X87) || (val & ~allowed) ||
	    ((val & XCR0_AVX) && !(val & XCR0_SSE)))
		return -1;
	vcpu->xcr0 = val;
	return 0;
}
