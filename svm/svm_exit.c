/*
 * svm_exit.c - from the VMCB's EXITCODE/EXITINFO to one struct vm_exit (AMD
 * APM vol.2 appendix C), top to bottom in one switch over the sparse exit
 * codes. Exits only the backend understands (EFER, PAT, the interrupt window
 * bookkeeping, #AC reflection) are finished here and reported as EXIT_NONE;
 * anything not listed is EXIT_UNKNOWN with code and qualification, so the
 * core stops the VM and says what it was. No allocation, no lock.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/compiler.h"
#include "kernel/arch/x86.h"
#include "svm/svm_softc.h"

#define X86_VECTOR_GP 13
#define X86_VECTOR_AC 17

/* Length of the exiting instruction when the CPU saved the next RIP (NRIP
 * save, APM 15.7.1); 0 otherwise, and the core decodes it. */
static __hot uint8_t svm_exit_nrip_len(const struct svm_vcpu *sv)
{
	uint64_t len;

	if (!sv->nrip_save)
		return 0;
	len = sv->vmcb->control.next_rip - sv->vmcb->save.rip;
	return len >= 1 && len <= 15 ? (uint8_t)len : 0;
}

static void svm_exit_unknown(const struct vmcb *vmcb, struct vm_exit *exit)
{
	exit->reason = EXIT_UNKNOWN;
	exit->unknown.code = vmcb->control.exit_code;
	exit->unknown.info1 = vmcb->control.exit_info1;
	exit->unknown.info2 = vmcb->control.exit_info2;
}

static void svm_exit_invalid(const struct vmcb *vmcb, struct vm_exit *exit)
{
	const char *why = vmcb_check_state(vmcb);

	exit->reason = EXIT_ENTRY_FAILED;
	exit->fail.code = vmcb->control.exit_code;
	snprintf(exit->fail.why, sizeof(exit->fail.why), "VMEXIT_INVALID: %s",
		 why ? why : "no known check of APM 15.5.1 fails");
}

/* APM 15.10.2: EXITINFO1 describes the access, EXITINFO2 is the RIP of the
 * next instruction on every CPU (not an NRIP feature). */
static __hot void svm_exit_io(const struct vmcb *vmcb, struct vm_exit *exit)
{
	uint64_t info1 = vmcb->control.exit_info1;
	uint64_t len = vmcb->control.exit_info2 - vmcb->save.rip;

	if (info1 & VMCB_IOIO_SZ32)
		exit->io.size = 4;
	else if (info1 & VMCB_IOIO_SZ16)
		exit->io.size = 2;
	else if (info1 & VMCB_IOIO_SZ8)
		exit->io.size = 1;
	else {
		svm_exit_unknown(vmcb, exit);
		return;
	}
	exit->reason = EXIT_IO;
	exit->io.port = (uint16_t)(info1 >> VMCB_IOIO_PORT_SHIFT);
	exit->io.in = info1 & VMCB_IOIO_IN;
	exit->io.string = info1 & VMCB_IOIO_STR;
	exit->io.rep = info1 & VMCB_IOIO_REP;
	exit->insn_len = len >= 1 && len <= 15 ? (uint8_t)len : 0;
}

/*
 * RDMSR/WRMSR (EXITINFO1 bit 0: write). EFER and PAT are answered here
 * against the VMCB; the rest goes to the core, which answers a read by
 * writing RAX/RDX through set_regs (or injects #GP) and skips the
 * instruction with insn_len like any other exit.
 */
static void svm_exit_msr(struct svm_vcpu *sv, struct vm_exit *exit)
{
	struct vmcb *vmcb = sv->vmcb;
	bool write = vmcb->control.exit_info1 & 1;
	uint32_t index = (uint32_t)sv->gprs.rcx;
	uint64_t value = 0;
	unsigned len;

	if (write)
		value = (sv->gprs.rdx << 32) | (uint32_t)vmcb->save.rax;
	switch (svm_msr_access(sv, index, write, &value)) {
	case SVM_MSR_CORE:
		exit->reason = write ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		exit->msr.index = index;
		exit->msr.value = value;
		exit->insn_len = svm_exit_nrip_len(sv);
		return;
	case SVM_MSR_GP:
		vmcb_inject_event(vmcb, X86_VECTOR_GP, EVENT_EXCEPTION, true, 0);
		exit->reason = EXIT_NONE;
		return;
	case SVM_MSR_DONE:
		break;
	}
	len = svm_exit_nrip_len(sv);
	if (!len)
		len = svm_guest_insn_len(sv);
	if (!len || len > 15) {
		/* Done, but the instruction cannot be skipped: stop rather
		 * than guess (STYLE.md: never step past what is not
		 * understood). */
		svm_exit_unknown(vmcb, exit);
		return;
	}
	if (!write) {
		vmcb->save.rax = (uint32_t)value;
		sv->gprs.rdx = value >> 32;
	}
	/* Outside 64-bit mode RIP wraps at 32 bits (as the core's skip). */
	if ((vmcb->save.efer & EFER_LMA) && (vmcb->save.cs.attr & SEG_ATTR_L))
		vmcb->save.rip += len;
	else
		vmcb->save.rip = (uint32_t)(vmcb->save.rip + len);
	/* The instruction completed: a shadow from a preceding STI or
	 * MOV SS ended with it. */
	vmcb->control.int_state &= ~VMCB_INT_STATE_SHADOW;
	exit->reason = EXIT_NONE;
}

/* APM 15.25.6: EXITINFO1 is a #PF error code plus bits 32/33, EXITINFO2 the
 * guest-physical address. SVM gives no guest-linear address. */
static void svm_exit_npf(const struct vmcb *vmcb, struct vm_exit *exit)
{
	uint64_t info1 = vmcb->control.exit_info1;

	exit->reason = EXIT_NPF;
	exit->npf.gpa = vmcb->control.exit_info2;
	exit->npf.gva = 0;
	exit->npf.write = info1 & VMCB_NPF_RW;
	exit->npf.fetch = info1 & VMCB_NPF_ID;
	exit->npf.present = info1 & VMCB_NPF_P;
	exit->npf.in_guest_walk = info1 & VMCB_NPF_IN_WALK;
}

__hot void svm_exit_decode(struct svm_vcpu *sv, struct vm_exit *exit)
{
	struct vmcb *vmcb = sv->vmcb;
	uint32_t code = (uint32_t)vmcb->control.exit_code;

	memset(exit, 0, sizeof(*exit));
	if (code == VMCB_EXIT_INVALID) {
		svm_exit_invalid(vmcb, exit);
		return;
	}
	/* What EVENTINJ held was delivered or is now in EXITINTINFO. */
	vmcb->control.event_inj = 0;
	vmcb_reinject_exitintinfo(vmcb);

	switch (code) {
	case VMCB_EXIT_INTR:
		/* The host's handler ran after STGI (svm_vmrun). */
		exit->reason = EXIT_EXTINT;
		break;
	case VMCB_EXIT_NMI:
		exit->reason = EXIT_NMI;
		break;
	case VMCB_EXIT_VINTR:
		vmcb_set_intr_window(vmcb, false);
		exit->reason = EXIT_INTR_WINDOW;
		break;
	case VMCB_EXIT_CPUID:
		exit->reason = EXIT_CPUID;
		exit->insn_len = svm_exit_nrip_len(sv);
		break;
	case VMCB_EXIT_HLT:
		exit->reason = EXIT_HLT;
		exit->insn_len = svm_exit_nrip_len(sv);
		break;
	case VMCB_EXIT_INVD:
	case VMCB_EXIT_WBINVD:
		exit->reason = EXIT_INVD;
		exit->insn_len = svm_exit_nrip_len(sv);
		break;
	case VMCB_EXIT_RDTSCP:
		/* Not offered in CPUID, and TSC_AUX is not switched: #UD, as on
		 * a CPU without it (the VMX backend leaves it disabled). */
		exit->reason = EXIT_VIRT_INSN;
		break;
	case VMCB_EXIT_XSETBV:
		exit->reason = EXIT_XSETBV;
		exit->insn_len = svm_exit_nrip_len(sv);
		break;
	case VMCB_EXIT_VMMCALL:
		exit->reason = EXIT_VMCALL;
		exit->insn_len = svm_exit_nrip_len(sv);
		break;
	case VMCB_EXIT_VMRUN:
	case VMCB_EXIT_VMLOAD:
	case VMCB_EXIT_VMSAVE:
	case VMCB_EXIT_STGI:
	case VMCB_EXIT_CLGI:
	case VMCB_EXIT_SKINIT:
	case VMCB_EXIT_INVLPGA:
		exit->reason = EXIT_VIRT_INSN;
		exit->insn_len = svm_exit_nrip_len(sv);
		break;
	case VMCB_EXIT_IOIO:
		svm_exit_io(vmcb, exit);
		break;
	case VMCB_EXIT_MSR:
		svm_exit_msr(sv, exit);
		break;
	case VMCB_EXIT_SHUTDOWN:
		exit->reason = EXIT_SHUTDOWN;
		break;
	case VMCB_EXIT_NPF:
		svm_exit_npf(vmcb, exit);
		break;
	case VMCB_EXIT_EXCEPTION_BASE + X86_VECTOR_AC:
		/* Intercepted only to break #AC-during-#AC loops: give it
		 * back to the guest (error code 0, SDM 6.15). */
		vmcb_inject_event(vmcb, X86_VECTOR_AC, EVENT_EXCEPTION, true, 0);
		exit->reason = EXIT_NONE;
		break;
	default: /* #MC, and anything not intercepted on purpose */
		svm_exit_unknown(vmcb, exit);
		break;
	}
}
