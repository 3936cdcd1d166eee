/*
 * msr.c - the model-specific registers a guest may touch beyond the ones the
 * backend keeps in hardware (FS/GS bases, SYSCALL and SYSENTER MSRs, EFER,
 * PAT): one table of emulated MSRs; everything else raises #GP, which is what
 * a CPU does for an MSR it does not have.
 */
#include "kernel/arch/x86.h"
#include "kernel/vdev/vdev.h"
#include "kernel/virt/virt_internal.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_MISC_ENABLE 0x1A0
#define MSR_IA32_MTRRCAP 0xFE
#define MSR_IA32_MTRR_DEF_TYPE 0x2FF
#define MSR_IA32_BIOS_SIGN_ID 0x8B
#define MSR_AMD_PATCH_LEVEL 0x8B
#define MSR_K8_INT_PENDING_MSG 0xC0010055 /* AMD erratum 400 (C1E) check */
#define MSR_IA32_MCG_CAP 0x179
#define MSR_IA32_MCG_STATUS 0x17A


const uint32_t virt_msr_passthrough[] = {
	MSR_FS_BASE,	MSR_GS_BASE,	  MSR_KERNEL_GS_BASE, MSR_STAR,
	MSR_LSTAR,	MSR_CSTAR,	  MSR_SFMASK,	      MSR_SYSENTER_CS,
	MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
};
const unsigned virt_msr_passthrough_count =
	sizeof(virt_msr_passthrough) / sizeof(virt_msr_passthrough[0]);

int vmsr_read(struct vcpu *vcpu, uint32_t index, uint64_t *val)
{
	/* IA32_APIC_BASE, the x2APIC registers, IA32_TSC_DEADLINE. */
	int lapic = vdev_lapic_msr(vcpu, index, false, val);
	if (lapic <= 0)
		return lapic;
	switch (index) {
	case MSR_IA32_TSC:
		*val = rdtsc(); /* the guest's TSC is the host's (no offset) */
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*val = 1; /* fast strings */
		return 0;
	case MSR_IA32_MTRRCAP:
	case MSR_IA32_MTRR_DEF_TYPE:
	case MSR_IA32_BIOS_SIGN_ID:
	case MSR_IA32_MCG_CAP:	  /* no banks, no MCG_CTL (SDM vol.3 16.3.1) */
	case MSR_IA32_MCG_STATUS:
	case MSR_K8_INT_PENDING_MSG: /* no C1E: nothing pending (BKDG 10h) */
		*val = 0; /* no MTRRs to program, no microcode revision */
		return 0;
	default:
		return -1;
	}
}

int vmsr_write(struct vcpu *vcpu, uint32_t index, uint64_t val)
{
	int lapic = vdev_lapic_msr(vcpu, index, true, &val);
	if (lapic <= 0)
		return lapic;
	switch (index) {
	case MSR_IA32_MISC_ENABLE:
	case MSR_IA32_MTRR_DEF_TYPE:
	case MSR_IA32_BIOS_SIGN_ID:
		return 0; /* accepted and ignored */
	case MSR_IA32_MCG_STATUS:
		return val ? -1 : 0; /* only 0 is written back (SDM 16.3.1.2) */
	default:
		return -1;
	}
}
