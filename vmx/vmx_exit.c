/*
 * vmx_exit.c - from the VMCS's exit reason and qualification to one struct
 * vm_exit (Intel SDM vol.3 chapter 27 and appendix C), top to bottom in one
 * switch over the basic exit reason. Exits only the backend understands
 * (EFER and PAT, MOV to CR0/CR4 on the bits Keel owns, the interrupt
 * window, #AC reflection) are finished here and reported as EXIT_NONE;
 * anything else is EXIT_UNKNOWN with reason and qualification, so the core
 * stops the VM and says what it was. No allocation, no lock.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/log.h"
#include "vmx/vmx_softc.h"

#define X86_VECTOR_NMI 2
#define X86_VECTOR_UD 6
#define X86_VECTOR_GP 13
#define X86_VECTOR_AC 17

#define CR0_ET (1ull << 4)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)

static uint8_t vmx_exit_insn_len(void)
{
	uint64_t len = vmcs_read(VMCS_EXIT_INSN_LEN);

	return len >= 1 && len <= 15 ? (uint8_t)len : 0;
}

static void vmx_exit_unknown(uint32_t reason, uint64_t qual, uint64_t info,
			     struct vm_exit *exit)
{
	exit->reason = EXIT_UNKNOWN;
	exit->unknown.code = reason;
	exit->unknown.info1 = qual;
	exit->unknown.info2 = info;
}

/* Skip an instruction the backend finished: IP, EIP or RIP as the code
 * size says (SDM vol.1 3.6), and the shadow of a preceding STI or MOV SS
 * ends with it. */
static bool vmx_skip(struct vmx_vcpu *vv)
{
	unsigned len = vmx_exit_insn_len();

	if (!len)
		return false;
	vmx_sregs_fresh(vv);
	if ((vv->sregs.efer & EFER_LMA) && (vv->sregs.cs.attr & SEG_ATTR_L))
		vv->rip += len;
	else if (vv->sregs.cs.attr & SEG_ATTR_DB)
		vv->rip = (uint32_t)(vv->rip + len);
	else
		vv->rip = (uint16_t)(vv->rip + len);
	vv->interruptibility &=
		~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
	vv->regs_dirty = true;
	return true;
}

/* Table 27-5: size - 1 in bits 2:0 (0, 1 or 3), IN, string, REP, port. */
static void vmx_exit_io(uint64_t qual, struct vm_exit *exit)
{
	unsigned size = (qual & IO_QUAL_SIZE_MASK) + 1;

	if (size != 1 && size != 2 && size != 4) {
		vmx_exit_unknown(EXIT_REASON_IO, qual, 0, exit);
		return;
	}
	exit->reason = EXIT_IO;
	exit->io.size = (uint8_t)size;
	exit->io.port = (uint16_t)(qual >> IO_QUAL_PORT_SHIFT);
	exit->io.in = qual & IO_QUAL_IN;
	exit->io.string = qual & IO_QUAL_STRING;
	exit->io.rep = qual & IO_QUAL_REP;
	exit->insn_len = vmx_exit_insn_len();
}

/* RDMSR/WRMSR: EFER and PAT are answered here; the rest goes to the
 * core, which answers a read through set_regs or injects #GP. */
static void vmx_exit_msr(struct vmx_vcpu *vv, bool write,
			 struct vm_exit *exit)
{
	uint32_t index = (uint32_t)vv->gprs.rcx;
	uint64_t value = 0;

	if (write)
		value = (vv->gprs.rdx << 32) | (uint32_t)vv->gprs.rax;
	switch (vmx_msr_access(vv, index, write, &value)) {
	case VMX_MSR_CORE:
		exit->reason = write ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		exit->msr.index = index;
		exit->msr.value = value;
		exit->insn_len = vmx_exit_insn_len();
		return;
	case VMX_MSR_GP:
		vmx_inject(vv, X86_VECTOR_GP, EVENT_EXCEPTION, true, 0);
		exit->reason = EXIT_NONE;
		return;
	case VMX_MSR_DONE:
		break;
	}
	if (!vmx_skip(vv)) {
		vmx_exit_unknown(write ? EXIT_REASON_WRMSR : EXIT_REASON_RDMSR,
				 index, 0, exit);
		return;
	}
	if (!write) {
		vv->gprs.rax = (uint32_t)value;
		vv->gprs.rdx = value >> 32;
	}
	exit->reason = EXIT_NONE;
}

/* Table 27-7: the access in bits 2:0, what the EPT entry allowed in 5:3
 * (none: not present), a guest-linear address in bit 7, and in bit 8
 * whether the access was to that address (else the guest's page walk). */
static void vmx_exit_ept_violation(uint64_t qual, struct vm_exit *exit)
{
	exit->reason = EXIT_NPF;
	exit->npf.gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	exit->npf.gva = qual & EPT_QUAL_GLA_VALID
				? vmcs_read(VMCS_GUEST_LINEAR_ADDRESS)
				: 0;
	exit->npf.write = qual & EPT_QUAL_WRITE;
	exit->npf.fetch = qual & EPT_QUAL_FETCH;
	exit->npf.present = qual & EPT_QUAL_PERMS;
	exit->npf.in_guest_walk = (qual & EPT_QUAL_GLA_VALID) &&
				  !(qual & EPT_QUAL_GLA_TRANSLATED);
}

static uint64_t *vmx_gpr(struct vmx_vcpu *vv, unsigned n)
{
	struct vmx_gprs *g = &vv->gprs;
	uint64_t *const t[16] = {
		&g->rax, &g->rcx, &g->rdx, &g->rbx, &vv->rsp, &g->rbp,
		&g->rsi, &g->rdi, &g->r8, &g->r9, &g->r10, &g->r11,
		&g->r12, &g->r13, &g->r14, &g->r15,
	};

	return t[n & 15];
}

/*
 * MOV to CR0/CR4 that would change a bit Keel owns (24.6.6: the bit
 * differs from the read shadow). Checked as the CPU would (SDM vol.3 2.5,
 * 4.1.1): a bad value raises #GP. Setting CR0.PG with EFER.LME enters
 * IA-32e mode (EFER.LMA), clearing it leaves it (SDM 9.8.5).
 */
static bool vmx_exit_cr(struct vmx_vcpu *vv, uint64_t qual,
			struct vm_exit *exit)
{
	unsigned cr = qual & 0xF, type = (qual >> 4) & 3;
	uint64_t val = *vmx_gpr(vv, (qual >> 8) & 0xF);
	struct vcpu_sregs *s = &vv->sregs;
	bool gp = false;

	if (type != 0 || (cr != 0 && cr != 4))
		return false;
	vmx_sregs_fresh(vv);
	if (!((vv->sregs.efer & EFER_LMA) && (s->cs.attr & SEG_ATTR_L)))
		val = (uint32_t)val;
	if (cr == 0) {
		uint64_t old = s->cr0;

		val |= CR0_ET; /* hard-wired on every CPU since the 486 */
		if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) ||
		    ((val & CR0_NW) && !(val & CR0_CD)))
			gp = true;
		else if ((val & CR0_PG) && !(old & CR0_PG) &&
			 (s->efer & EFER_LME) && !(s->cr4 & CR4_PAE))
			gp = true;
		if (!gp) {
			if ((val & CR0_PG) && !(old & CR0_PG) &&
			    (s->efer & EFER_LME))
				s->efer |= EFER_LMA;
			if (!(val & CR0_PG) && (old & CR0_PG))
				s->efer &= ~EFER_LMA;
			s->cr0 = val;
		}
	} else {
		uint64_t allowed = (vv->ctls->cr4_may1 | vv->ctls->cr4_must1) &
				   ~CR4_VMXE;

		if ((val & ~allowed) ||
		    ((s->efer & EFER_LMA) && !(val & CR4_PAE)))
			gp = true;
		else
			s->cr4 = val;
	}
	if (gp) {
		vmx_inject(vv, X86_VECTOR_GP, EVENT_EXCEPTION, true, 0);
	} else {
		vv->sregs_dirty = true;
		vv->vpid_flush = true;
		if (!vmx_skip(vv))
			return false;
	}
	exit->reason = EXIT_NONE;
	return true;
}

/* Exit reason 0: an exception in the exception bitmap, or an NMI. */
static void vmx_exit_exception(struct vmx_vcpu *vv, struct vm_exit *exit)
{
	uint32_t info = (uint32_t)vmcs_read(VMCS_EXIT_INTR_INFO);
	unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	unsigned vector = info & INTR_INFO_VECTOR_MASK;

	if (type == INTR_TYPE_NMI) {
		/* The host's NMI: let its handler see it (KVM does the same
		 * with "int $2"). */
		vmx_host_nmi();
		exit->reason = EXIT_NMI;
		return;
	}
	if (type == INTR_TYPE_HW_EXCEPTION && vector == X86_VECTOR_AC) {
		/* Given back to the guest (error code 0, SDM 6.15). */
		vmx_inject(vv, X86_VECTOR_AC, EVENT_EXCEPTION, true, 0);
		exit->reason = EXIT_NONE;
		return;
	}
	vmx_exit_unknown(EXIT_REASON_EXCEPTION_NMI, info,
			 vmcs_read(VMCS_EXIT_INTR_ERROR), exit);
}

void vmx_exit_decode(struct vmx_vcpu *vv, struct vm_exit *exit)
{
	uint32_t full = (uint32_t)vmcs_read(VMCS_EXIT_REASON);
	uint32_t reason = full & 0xFFFF;
	uint64_t qual = vmcs_read(VMCS_EXIT_QUALIFICATION);

	memset(exit, 0, sizeof(*exit));
	vv->last_exit_reason = full;
	if (full & EXIT_REASON_ENTRY_FAILURE) {
		/* 26.8: the guest state (33), MSR loading (34) or a machine
		 * check (41) stopped the entry; nothing ran. */
		exit->reason = EXIT_ENTRY_FAILED;
		exit->fail.code = full;
		snprintf(exit->fail.why, sizeof(exit->fail.why),
			 "VM-entry failure: %s (qualification %#llx)",
			 reason == EXIT_REASON_INVALID_GUEST_STATE
				 ? "invalid guest state"
			 : reason == EXIT_REASON_MSR_LOADING
				 ? "MSR loading"
			 : reason == EXIT_REASON_MACHINE_CHECK
				 ? "machine check"
				 : "unknown reason",
			 (unsigned long long)qual);
		return;
	}
	vmcs_sync_after_exit(vv);
	vmx_reinject_idt_vectoring(
		vv, (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO),
		(uint32_t)vmcs_read(VMCS_IDT_VECTORING_ERROR),
		(uint32_t)vmcs_read(VMCS_EXIT_INSN_LEN));

	switch (reason) {
	case EXIT_REASON_EXCEPTION_NMI:
		vmx_exit_exception(vv, exit);
		break;
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		/* Not acknowledged: the host takes it when it turns
		 * interrupts on again (vmx_vcpu_run). */
		exit->reason = EXIT_EXTINT;
		break;
	case EXIT_REASON_PREEMPTION_TIMER:
		/* The stay's bound (VMX_GUEST_STAY_NS in vmx.c): to the core
		 * the same as a host interrupt, nothing for the guest; the
		 * host takes what is pending and looks at its requests. */
		exit->reason = EXIT_EXTINT;
		break;
	case EXIT_REASON_TRIPLE_FAULT:
		exit->reason = EXIT_SHUTDOWN;
		break;
	case EXIT_REASON_INTERRUPT_WINDOW:
		vmx_set_intr_window(vv, false);
		exit->reason = EXIT_INTR_WINDOW;
		break;
	case EXIT_REASON_CPUID:
		exit->reason = EXIT_CPUID;
		exit->insn_len = vmx_exit_insn_len();
		break;
	case EXIT_REASON_HLT:
		exit->reason = EXIT_HLT;
		exit->insn_len = vmx_exit_insn_len();
		break;
	case EXIT_REASON_INVD:
	case EXIT_REASON_WBINVD:
		exit->reason = EXIT_INVD;
		exit->insn_len = vmx_exit_insn_len();
		break;
	case EXIT_REASON_XSETBV:
		exit->reason = EXIT_XSETBV;
		exit->insn_len = vmx_exit_insn_len();
		break;
	case EXIT_REASON_VMCALL:
		exit->reason = EXIT_VMCALL;
		exit->insn_len = vmx_exit_insn_len();
		break;
	case EXIT_REASON_GETSEC:
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMPTRST:
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMRESUME:
	case EXIT_REASON_VMWRITE:
	case EXIT_REASON_VMXOFF:
	case EXIT_REASON_VMXON:
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID:
	case EXIT_REASON_VMFUNC:
		exit->reason = EXIT_VIRT_INSN;
		exit->insn_len = vmx_exit_insn_len();
		break;
	case EXIT_REASON_IO:
		vmx_exit_io(qual, exit);
		break;
	case EXIT_REASON_RDMSR:
		vmx_exit_msr(vv, false, exit);
		break;
	case EXIT_REASON_WRMSR:
		vmx_exit_msr(vv, true, exit);
		break;
	case EXIT_REASON_CR_ACCESS:
		if (!vmx_exit_cr(vv, qual, exit))
			vmx_exit_unknown(reason, qual, 0, exit);
		break;
	case EXIT_REASON_EPT_VIOLATION:
		vmx_exit_ept_violation(qual, exit);
		break;
	case EXIT_REASON_EPT_MISCONFIG: {
		/* 28.3.3: an EPT entry Keel wrote is invalid: a bug in the
		 * table builder, not the guest's doing. */
		uint64_t gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);

		log_err("vmx: EPT misconfiguration at gpa %#llx: an EPT "
			"entry Keel built is invalid",
			(unsigned long long)gpa);
		vmx_exit_unknown(reason, qual, gpa, exit);
		break;
	}
	default: /* #MC (41), task switch, anything not asked for */
		vmx_exit_unknown(reason, qual, vv->rip, exit);
		break;
	}
}

/* VMLAUNCH/VMRESUME did not enter (30.4): VMfailValid names the reason in
 * the VM-instruction error field; VMfailInvalid means no current VMCS. */
void vmx_entry_failed(struct vmx_vcpu *vv, int rc, uint32_t insn_error,
		      struct vm_exit *exit)
{
	memset(exit, 0, sizeof(*exit));
	exit->reason = EXIT_ENTRY_FAILED;
	if (rc == VMX_ENTER_FAIL_VALID) {
		exit->fail.code = insn_error;
		snprintf(exit->fail.why, sizeof(exit->fail.why),
			 "%s error %u: %s",
			 vv->launched ? "VMRESUME" : "VMLAUNCH", insn_error,
			 vmx_insn_error_name(insn_error));
	} else {
		exit->fail.code = 0;
		snprintf(exit->fail.why, sizeof(exit->fail.why),
			 "%s: VMfailInvalid (no current VMCS)",
			 vv->launched ? "VMRESUME" : "VMLAUNCH");
	}
}
