/*
 * fpu.c - a vCPU's x87/SSE/AVX state and XCR0. The state lives in a save
 * area switched lazily (kernel/fpu.c): the backends claim the CPU for the
 * vCPU right before entry. XCR0 is the guest's only inside the guest: the
 * backends switch it around VM entry with interrupts off
 * (vcpu_xcr0_enter/exit), so Keel's XSAVE always runs with the host XCR0.
 */
#include "kernel/compiler.h"
#include "kernel/err.h"
#include "kernel/fpu.h"
#include "kernel/virt/virt_internal.h"

#define XCR0_X87 (1ULL << 0)
#define XCR0_SSE (1ULL << 1)
#define XCR0_AVX (1ULL << 2)

void vcpu_xsetbv(uint64_t val)
{
	__asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)val),
			 "d"((uint32_t)(val >> 32)));
}

int vcpu_fpu_init(struct vcpu *vcpu)
{
	vcpu->fpu = fpu_area_alloc();
	if (!vcpu->fpu)
		return KEEL_ENOMEM;
	vcpu->xcr0 = fpu_host_xcr0 ? XCR0_X87 : 0;
	return 0;
}

void vcpu_fpu_release(struct vcpu *vcpu)
{
	if (vcpu->fpu)
		fpu_release(vcpu->fpu);
}

void vcpu_fpu_reset(struct vcpu *vcpu)
{
	fpu_release(vcpu->fpu);
	fpu_area_reset(vcpu->fpu);
	vcpu->xcr0 = fpu_host_xcr0 ? XCR0_X87 : 0;
}

void vcpu_fpu_destroy(struct vcpu *vcpu)
{
	fpu_area_free(vcpu->fpu);
	vcpu->fpu = NULL;
}

__hot void vcpu_fpu_load(struct vcpu *vcpu)
{
	fpu_claim(vcpu->fpu);
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
