/*
 * vmx_msr.c - the I/O and MSR bitmaps (Intel SDM vol.3 24.6.4, 24.6.9) and
 * the two MSRs the backend answers itself (the twin of svm_msr.c): EFER,
 * which lives in the VMCS guest state and must keep "IA-32e mode guest" in
 * step, and PAT. Every other intercepted MSR goes to the core. Pure code,
 * host-tested.
 */
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/err.h"
#include "vmx/vmx_softc.h"


/* 24.6.4: bitmap A covers ports 0-0x7FFF, B 0x8000-0xFFFF, one bit each;
 * every port exits (the core emulates or ignores what no device claims).
 * An access that wraps past 0xFFFF exits unconditionally (25.1.3). */
void vmx_io_bitmap_init(uint8_t *bitmaps)
{
	memset(bitmaps, 0xFF, 8192);
}

bool vmx_io_intercepted(const uint8_t *bitmaps, uint16_t port)
{
	return bitmaps[port / 8] & (1u << (port % 8));
}

/*
 * 24.6.9: four 1 KiB quarters: read low (MSRs 0-0x1FFF), read high
 * (0xC0000000-0xC0001FFF), write low, write high. MSRs outside both ranges
 * always exit.
 */
int vmx_msr_bitmap_position(uint32_t msr, bool write, unsigned *byte,
			    unsigned *bit)
{
	unsigned base;
	uint32_t n;

	if (msr <= 0x1FFF) {
		base = 0;
		n = msr;
	} else if (msr >= 0xC0000000 && msr <= 0xC0001FFF) {
		base = 1024;
		n = msr - 0xC0000000;
	} else {
		return KEEL_ERANGE;
	}
	if (write)
		base += 2048;
	*byte = base + n / 8;
	*bit = n % 8;
	return 0;
}

static void vmx_msr_bitmap_set(uint8_t *bitmap, uint32_t msr, bool intercept)
{
	unsigned byte, bit;

	for (int w = 0; w < 2; w++) {
		if (vmx_msr_bitmap_position(msr, w, &byte, &bit))
			continue;
		if (intercept)
			bitmap[byte] |= 1u << bit;
		else
			bitmap[byte] &= ~(1u << bit);
	}
}

bool vmx_msr_intercepted(const uint8_t *bitmap, uint32_t msr, bool write)
{
	unsigned byte, bit;

	if (vmx_msr_bitmap_position(msr, write, &byte, &bit))
		return true;
	return bitmap[byte] & (1u << bit);
}

/*
 * The same pass-through list as svm_msr.c. FS/GS base and the SYSENTER
 * MSRs are guest-state fields VM entry and exit switch (24.4.1, 27.5.1);
 * KERNEL_GS_BASE and the SYSCALL MSRs are not switched by the CPU: vmx.c
 * loads a vCPU's values lazily (Keel itself never uses them). EFER and
 * PAT stay intercepted (vmx_msr_access).
 */

void vmx_msr_bitmap_init(uint8_t *bitmap)
{
	memset(bitmap, 0xFF, 4096);
	for (unsigned i = 0; i < virt_msr_passthrough_count;
	     i++)
		vmx_msr_bitmap_set(bitmap, virt_msr_passthrough[i], false);
}

/* ------------------------------------------------- emulated MSRs -- */

#define VMX_EFER_WRITABLE (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

static enum vmx_msr_result vmx_msr_write_efer(struct vmx_vcpu *vv,
					      uint64_t value)
{
	struct vcpu_sregs *s = &vv->sregs;
	uint64_t old = s->efer, new;

	if (value & ~VMX_EFER_WRITABLE)
		return VMX_MSR_GP;
	/* SDM 9.8.5: changing LME while paging is on raises #GP. */
	if ((s->cr0 & CR0_PG) && ((value ^ old) & EFER_LME))
		return VMX_MSR_GP;
	/* LMA is the CPU's: it follows CR0.PG with LME. */
	new = (value & ~EFER_LMA) | (old & EFER_LMA);
	if ((new ^ old) & (EFER_NXE | EFER_LME))
		vv->vpid_flush = true;
	s->efer = new;
	vv->sregs_dirty = true;
	return VMX_MSR_DONE;
}

/* SDM 11.12.2: each PAT entry is 0, 1, 4, 5, 6 or 7. */
static bool vmx_pat_valid(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		uint8_t t = pat >> (i * 8);

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

enum vmx_msr_result vmx_msr_access(struct vmx_vcpu *vv, uint32_t index,
				   bool write, uint64_t *value)
{
	switch (index) {
	case MSR_EFER:
		vmx_sregs_fresh(vv);
		if (write)
			return vmx_msr_write_efer(vv, *value);
		*value = vv->sregs.efer;
		return VMX_MSR_DONE;
	case MSR_IA32_PAT:
		if (!write) {
			*value = vv->pat;
			return VMX_MSR_DONE;
		}
		if (!vmx_pat_valid(*value))
			return VMX_MSR_GP;
		if (vv->pat != *value)
			vv->ept_flush = true; /* types cached with translations */
		vv->pat = *value;
		vv->pat_dirty = true;
		return VMX_MSR_DONE;
	default:
		return VMX_MSR_CORE;
	}
}
