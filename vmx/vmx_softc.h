/*
 * vmx_softc.h - the VMX backend's private state (the twin of svm_softc.h):
 * per host CPU, per VM and per vCPU, and the functions the files of vmx/
 * share. Nothing outside vmx/ includes it; the core sees only vmx.h.
 */
#ifndef KEEL_VMX_SOFTC_H
#define KEEL_VMX_SOFTC_H

/* Offsets of struct vmx_gprs, for vmx_asm.S (checked below). */
#define VMX_GPRS_RAX 0x00
#define VMX_GPRS_RBX 0x08
#define VMX_GPRS_RCX 0x10
#define VMX_GPRS_RDX 0x18
#define VMX_GPRS_RSI 0x20
#define VMX_GPRS_RDI 0x28
#define VMX_GPRS_RBP 0x30
#define VMX_GPRS_R8 0x38
#define VMX_GPRS_R9 0x40
#define VMX_GPRS_R10 0x48
#define VMX_GPRS_R11 0x50
#define VMX_GPRS_R12 0x58
#define VMX_GPRS_R13 0x60
#define VMX_GPRS_R14 0x68
#define VMX_GPRS_R15 0x70

/* vmx_vmenter's results */
#define VMX_ENTER_EXITED 0
#define VMX_ENTER_FAIL_VALID 1   /* VMfailValid: VM-instruction error */
#define VMX_ENTER_FAIL_INVALID 2 /* VMfailInvalid: no current VMCS */

#ifndef __ASSEMBLY__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/virt/virt.h"
#include "vmx/vmcs.h"

/* Guest GPRs that VM entry and exit do not switch (RSP, RIP and RFLAGS
 * live in the VMCS), and CR2, which the CPU does not switch either. */
struct vmx_gprs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t cr2;
};

#define VMX_GPRS_CHECK(f, off)                                                 \
	_Static_assert(offsetof(struct vmx_gprs, f) == (off), "vmx_gprs." #f)
VMX_GPRS_CHECK(rax, VMX_GPRS_RAX);
VMX_GPRS_CHECK(rbx, VMX_GPRS_RBX);
VMX_GPRS_CHECK(rcx, VMX_GPRS_RCX);
VMX_GPRS_CHECK(rdx, VMX_GPRS_RDX);
VMX_GPRS_CHECK(rsi, VMX_GPRS_RSI);
VMX_GPRS_CHECK(rdi, VMX_GPRS_RDI);
VMX_GPRS_CHECK(rbp, VMX_GPRS_RBP);
VMX_GPRS_CHECK(r8, VMX_GPRS_R8);
VMX_GPRS_CHECK(r9, VMX_GPRS_R9);
VMX_GPRS_CHECK(r10, VMX_GPRS_R10);
VMX_GPRS_CHECK(r11, VMX_GPRS_R11);
VMX_GPRS_CHECK(r12, VMX_GPRS_R12);
VMX_GPRS_CHECK(r13, VMX_GPRS_R13);
VMX_GPRS_CHECK(r14, VMX_GPRS_R14);
VMX_GPRS_CHECK(r15, VMX_GPRS_R15);
#undef VMX_GPRS_CHECK

/* The capability MSRs (SDM appendix A) as read on one CPU; 0 for the ones
 * that CPU does not have (reading them would #GP, A.3.3, A.10). */
struct vmx_caps {
	uint64_t basic, misc;
	uint64_t pin, proc, exit, entry;		 /* 0x481-0x484 */
	uint64_t true_pin, true_proc, true_exit, true_entry; /* 0x48D-0x490 */
	uint64_t proc2, ept_vpid;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/* Which control word, for messages naming a missing feature. */
enum vmx_ctl_kind {
	VMX_CTL_PIN = 0,
	VMX_CTL_PROC,
	VMX_CTL_PROC2,
	VMX_CTL_EXIT,
	VMX_CTL_ENTRY,
};

/* What Keel runs its guests with on one CPU (vmcs.c computes it). */
struct vmx_controls {
	uint32_t revision; /* VMCS revision identifier, BASIC[30:0] */
	uint32_t pin, proc, proc2, exit, entry;
	bool intr_window; /* interrupt-window exiting can be turned on */
	bool vpid;
	bool load_pat;	  /* entry loads and exit saves/loads IA32_PAT */
	bool invept_single, invept_all;
	bool invvpid_single, invvpid_all;
	uint64_t eptp_flags; /* memory type and walk length (24.6.11) */
	bool ept_2m, ept_1g;
	/* The VMX-preemption timer (24.6.1, 25.5.1) bounds each stay in the
	 * guest; it ticks at the TSC rate >> preempt_rate (A.6). */
	bool preempt_timer;
	unsigned preempt_rate;
	/* Guest CR0/CR4: bits the hardware forces to 1 / allows to be 1
	 * (A.7, A.8; with unrestricted guest PE and PG are free). */
	uint64_t cr0_must1, cr0_may1, cr4_must1, cr4_may1;
};

/* Per host CPU (vmx.c). */
struct vmx_cpu {
	bool enabled;
	uint64_t vmxon_pa;
	struct vmx_caps caps;
	struct vmx_controls ctls;
	struct vmx_vcpu *current; /* the VMCS VMPTRLD'ed here */
	struct vmx_vcpu *msr_owner; /* whose syscall MSRs are loaded */
	uint32_t preempt_ticks;	    /* VMX_GUEST_STAY_NS in timer ticks */
};

/* Per VM: the bitmaps its vCPUs share (24.6.4, 24.6.9). */
#define VMX_IO_BITMAP_ORDER 1 /* A and B, 4 KiB each, 64K ports */
struct vmx_vm {
	uint64_t io_bitmap_pa;
	uint64_t msr_bitmap_pa;
};

/* The MSRs VM entry/exit do not switch but the guest may touch directly
 * (the same pass-through list as svm_msr.c): loaded lazily, when another
 * vCPU's values (or the host's, which Keel never uses) are in the CPU. */
struct vmx_lazy_msrs {
	uint64_t kernel_gs_base, star, lstar, cstar, sfmask;
};

/* Per vCPU (vcpu->hw). gprs first: vmx_asm.S gets its address. The guest
 * state lives in software until the vCPU first runs on its host CPU and
 * whenever the core changed it (dirty flags); after an exit RIP, RSP,
 * RFLAGS and interruptibility are read back at once, the rest when the core
 * asks (sregs_stale). */
struct vmx_vcpu {
	struct vmx_gprs gprs;
	struct vcpu *vcpu;
	const struct vmx_controls *ctls; /* of the CPU the VMCS is on */
	void *vmcs;
	uint64_t vmcs_pa;
	int cpu;	/* where the VMCS is active, -1: not yet */
	bool launched;	/* VMRESUME from now on (SDM 24.1) */
	uint64_t host_cr3; /* what this VMCS's HOST_CR3 holds */

	uint64_t rip, rsp, rflags;
	struct vcpu_sregs sregs; /* as the guest sees CR0/CR4 */
	uint32_t interruptibility;
	uint64_t pat;
	bool regs_dirty, sregs_dirty, sregs_stale, pat_dirty;

	/* The event to inject at the next entry (24.8.3), 0: none. */
	uint32_t entry_intr_info, entry_error, entry_insn_len;
	uint32_t proc; /* primary controls with the interrupt window */
	bool proc_dirty;

	uint16_t vpid;
	bool vpid_flush;		/* INVVPID before the next entry */
	bool ept_flush;			/* INVEPT before the next entry */
	uint64_t eptp;
	struct vmx_lazy_msrs msrs;
	uint32_t last_exit_reason;
};

/* vmcs.c: pure control computation and conversions (host-tested). */
int vmx_ctl_adjust(uint64_t cap, uint32_t want1, uint32_t opt1,
		   uint32_t want0, uint32_t *out, uint32_t *missing);
const char *vmx_ctl_bit_name(enum vmx_ctl_kind kind, unsigned bit);
int vmx_controls_compute(const struct vmx_caps *caps,
			 struct vmx_controls *out, char *why, size_t len);
uint32_t vmx_ar_from_attr(uint16_t attr, uint32_t limit);
uint16_t vmx_attr_from_ar(uint32_t ar);
uint64_t vmx_eptp(const struct vmx_controls *c, uint64_t root);
const char *vmx_insn_error_name(uint32_t err);
void vmx_reset_state(struct vmx_vcpu *vv, uint32_t signature);
/* The guest's CR0/CR4 as the hardware holds them, for a value the guest
 * wants, and back (with the read shadow). */
uint64_t vmx_cr0_real(const struct vmx_controls *c, uint64_t cr0);
uint64_t vmx_cr4_real(const struct vmx_controls *c, uint64_t cr4);
uint64_t vmx_cr0_mask(const struct vmx_controls *c);
uint64_t vmx_cr4_mask(const struct vmx_controls *c);
/* VMCS set-up and synchronisation (the VMCS is current on this CPU). */
int vmcs_setup(struct vmx_vcpu *vv, uint64_t io_bitmap_pa,
	       uint64_t msr_bitmap_pa);
int vmcs_sync_to_hw(struct vmx_vcpu *vv);
void vmcs_sync_after_exit(struct vmx_vcpu *vv);
void vmcs_read_sregs(struct vmx_vcpu *vv);
void vmx_get_regs_sw(const struct vmx_vcpu *vv, struct vcpu_regs *r);
void vmx_set_regs_sw(struct vmx_vcpu *vv, const struct vcpu_regs *r);
void vmx_set_sregs_sw(struct vmx_vcpu *vv, const struct vcpu_sregs *sr);
uint32_t vmx_event(const struct vmx_vcpu *vv, uint8_t vector,
		   enum event_type type, bool has_error);
void vmx_inject(struct vmx_vcpu *vv, uint8_t vector, enum event_type type,
		bool has_error, uint32_t error_code);
bool vmx_reinject_idt_vectoring(struct vmx_vcpu *vv, uint32_t info,
				uint32_t error, uint32_t insn_len);
bool vmx_can_inject_intr(const struct vmx_vcpu *vv);
void vmx_set_intr_window(struct vmx_vcpu *vv, bool on);

/* vmx.c: make the sregs current (reads the VMCS when it is stale and
 * loaded on this CPU). Host tests provide their own. */
void vmx_sregs_fresh(struct vmx_vcpu *vv);
/* vmx.c: the host takes an NMI that ended the guest (kernel only). */
void vmx_host_nmi(void);

/* vmx_msr.c */
void vmx_io_bitmap_init(uint8_t *bitmaps);
bool vmx_io_intercepted(const uint8_t *bitmaps, uint16_t port);
void vmx_msr_bitmap_init(uint8_t *bitmap);
int vmx_msr_bitmap_position(uint32_t msr, bool write, unsigned *byte,
			    unsigned *bit);
bool vmx_msr_intercepted(const uint8_t *bitmap, uint32_t msr, bool write);
enum vmx_msr_result {
	VMX_MSR_DONE = 0,
	VMX_MSR_GP = 1,
	VMX_MSR_CORE = 2,
};
enum vmx_msr_result vmx_msr_access(struct vmx_vcpu *vv, uint32_t index,
				   bool write, uint64_t *value);

/* vmx_exit.c: the VMCS's exit to *exit; finished exits are EXIT_NONE. */
void vmx_exit_decode(struct vmx_vcpu *vv, struct vm_exit *exit);
void vmx_entry_failed(struct vmx_vcpu *vv, int rc, uint32_t insn_error,
		      struct vm_exit *exit);

/* ept.c */
extern struct pt_format vmx_ept_format;
void vmx_ept_format_init(const struct vmx_controls *c);

/* vmx_asm.S: one VMLAUNCH (launched == 0) or VMRESUME with the guest GPRs
 * swapped in and out. Interrupts off. Returns VMX_ENTER_*. */
int vmx_vmenter(struct vmx_gprs *gprs, int launched);
void vmx_vmexit_host_rip(void);

#endif /* __ASSEMBLY__ */
#endif
