/*
 * svm_softc.h - the SVM backend's private state (as bhyve's svm_softc.h): per
 * host CPU, per VM and per vCPU, and the functions the files of svm/ share. Nothing
 * outside svm/ includes it; the core sees only svm.h.
 */
#ifndef KEEL_SVM_SOFTC_H
#define KEEL_SVM_SOFTC_H

/* Offsets of struct svm_gprs, for svm_asm.S (checked below). */
#define SVM_GPRS_RBX 0x00
#define SVM_GPRS_RCX 0x08
#define SVM_GPRS_RDX 0x10
#define SVM_GPRS_RSI 0x18
#define SVM_GPRS_RDI 0x20
#define SVM_GPRS_RBP 0x28
#define SVM_GPRS_R8 0x30
#define SVM_GPRS_R9 0x38
#define SVM_GPRS_R10 0x40
#define SVM_GPRS_R11 0x48
#define SVM_GPRS_R12 0x50
#define SVM_GPRS_R13 0x58
#define SVM_GPRS_R14 0x60
#define SVM_GPRS_R15 0x68

#ifndef __ASSEMBLY__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/virt/virt.h"
#include "svm/vmcb.h"

/* The permission maps (APM 15.10.1, 15.11): sizes the hardware reads. */
#define SVM_IOPM_SIZE (12 * 1024)
#define SVM_IOPM_ORDER 2 /* 16 KiB block: 12 KiB must be contiguous */
#define SVM_MSRPM_SIZE (8 * 1024)
#define SVM_MSRPM_ORDER 1

/* Guest GPRs that VMRUN does not switch (RAX and RSP live in the VMCB). */
struct svm_gprs {
	uint64_t rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

#define SVM_GPRS_CHECK(f, off)                                                 \
	_Static_assert(offsetof(struct svm_gprs, f) == (off), "svm_gprs." #f)
SVM_GPRS_CHECK(rbx, SVM_GPRS_RBX);
SVM_GPRS_CHECK(rcx, SVM_GPRS_RCX);
SVM_GPRS_CHECK(rdx, SVM_GPRS_RDX);
SVM_GPRS_CHECK(rsi, SVM_GPRS_RSI);
SVM_GPRS_CHECK(rdi, SVM_GPRS_RDI);
SVM_GPRS_CHECK(rbp, SVM_GPRS_RBP);
SVM_GPRS_CHECK(r8, SVM_GPRS_R8);
SVM_GPRS_CHECK(r9, SVM_GPRS_R9);
SVM_GPRS_CHECK(r10, SVM_GPRS_R10);
SVM_GPRS_CHECK(r11, SVM_GPRS_R11);
SVM_GPRS_CHECK(r12, SVM_GPRS_R12);
SVM_GPRS_CHECK(r13, SVM_GPRS_R13);
SVM_GPRS_CHECK(r14, SVM_GPRS_R14);
SVM_GPRS_CHECK(r15, SVM_GPRS_R15);
#undef SVM_GPRS_CHECK

/* Per host CPU ASIDs (asid.c), as Linux KVM's svm_cpu_data: ASIDs are handed
 * out in order; when they run out the generation moves on, every vCPU that
 * held one of the old generation takes a new one at its next entry, and the
 * first entry of the new generation flushes the whole TLB. ASID 0 is the
 * host's. Touched only by this CPU with interrupts off. */
struct svm_asid_pool {
	uint64_t generation; /* starts at 1; a vCPU's 0 means "none yet" */
	uint32_t next;	     /* next ASID to hand out */
	uint32_t max;	     /* highest guest ASID (CPUID NASID - 1) */
	bool flush_by_asid;  /* TLB_CONTROL=3 is available (CPUID 8000_000A) */
};

/* Per host CPU (svm.c). */
struct svm_cpu {
	bool enabled;
	uint64_t hsave_pa;     /* VM_HSAVE_PA: what VMRUN saves of the host */
	uint64_t host_vmcb_pa; /* VMSAVE'd host state VMRUN does not keep */
	struct svm_asid_pool asid;
};

/* Per VM: the permission maps its vCPUs share. */
struct svm_vm {
	uint64_t iopm_pa;  /* SVM_IOPM_ORDER block */
	uint64_t msrpm_pa; /* SVM_MSRPM_ORDER block */
};

/* Per vCPU (vcpu->hw). gprs first: svm_asm.S gets its address. */
struct svm_vcpu {
	struct svm_gprs gprs;
	struct vmcb *vmcb;
	uint64_t vmcb_pa;
	struct vcpu *vcpu;
	bool nrip_save; /* CPUID 8000_000A EDX[3]: VMCB next_rip is valid */
	/* ASID state (asid.c); asid_cpu is where asid belongs. */
	uint32_t asid;
	unsigned asid_cpu;
	uint64_t asid_generation;
	/* Set by virt->flush from any CPU, consumed at the next entry. */
	bool flush_pending;
};

/* asid.c: pool set-up on cpu_enable, and the per-entry step that picks the
 * vCPU's ASID and TLB_CONTROL (interrupts off, on the CPU about to VMRUN). */
void svm_asid_pool_init(struct svm_asid_pool *pool, uint32_t nasid,
			bool flush_by_asid);
void svm_asid_prepare(struct svm_asid_pool *pool, unsigned cpu,
		      struct svm_vcpu *sv);
/* Ask for a TLB flush of this vCPU's translations at its next entry. */
static inline void svm_asid_request_flush(struct svm_vcpu *sv)
{
	__atomic_store_n(&sv->flush_pending, true, __ATOMIC_RELEASE);
}

/* svm_msr.c: permission maps and the MSRs the backend emulates itself. */
void svm_iopm_init(uint8_t *iopm);
void svm_iopm_set(uint8_t *iopm, uint16_t port, bool intercept);
bool svm_iopm_intercepted(const uint8_t *iopm, uint16_t port, unsigned size);
int svm_msrpm_position(uint32_t msr, bool write, unsigned *byte,
		       unsigned *bit);
void svm_msrpm_init(uint8_t *msrpm);
void svm_msrpm_set(uint8_t *msrpm, uint32_t msr, bool read, bool write);
bool svm_msrpm_intercepted(const uint8_t *msrpm, uint32_t msr, bool write);
/* Returns SVM_MSR_DONE (a read fills *value), SVM_MSR_GP (the access must
 * raise #GP), or SVM_MSR_CORE (not the backend's: the core decides). */
enum svm_msr_result {
	SVM_MSR_DONE = 0,
	SVM_MSR_GP = 1,
	SVM_MSR_CORE = 2,
};
enum svm_msr_result svm_msr_access(struct svm_vcpu *sv, uint32_t index,
				   bool write, uint64_t *value);

/* svm_exit.c: turn the VMCB's exit into *exit; exits finished here are
 * reported as EXIT_NONE. */
void svm_exit_decode(struct svm_vcpu *sv, struct vm_exit *exit);

/* svm.c: length of the guest instruction at CS:RIP by decoding it (when
 * the CPU has no NRIP save), 0 when it cannot be fetched or decoded. Host
 * tests provide their own. */
unsigned svm_guest_insn_len(struct svm_vcpu *sv);

/* svm_asm.S: one VMRUN with the guest GPRs swapped in and out. Called with
 * interrupts off; returns with interrupts off and GIF set. */
void svm_vmrun(struct svm_gprs *gprs, uint64_t vmcb_pa, uint64_t host_vmcb_pa);
/* svm.c, called by svm_vmrun after each #VMEXIT: true when the exit was
 * finished and the guest may be entered again. */
bool svm_fastpath(struct svm_vcpu *sv);
_Static_assert(offsetof(struct svm_vcpu, gprs) == 0,
	       "svm_vmrun passes gprs as the svm_vcpu");


#endif /* __ASSEMBLY__ */
#endif
