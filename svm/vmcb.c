/*
 * vmcb.c - what a vCPU's VMCB holds and how the core reads and writes it: the
 * control settings every Keel VMCB starts with, the x86 reset state, register
 * conversion to and from struct vcpu_regs/vcpu_sregs, event injection
 * (APM vol.2 15.20), the virtual interrupt window (15.21) and the VMRUN
 * consistency checks (15.5.1) for a readable VMEXIT_INVALID. No hardware
 * access: host unit tests run this file as it ships.
 */
#include <string.h>

#include "kernel/compiler.h"
#include "kernel/arch/x86.h"
#include "svm/svm_softc.h"
#include "svm/vmcb.h"

void vmcb_init_control(struct vmcb *vmcb, uint64_t iopm_pa, uint64_t msrpm_pa,
		       uint64_t n_cr3)
{
	struct vmcb_control *c = &vmcb->control;

	memset(c, 0, sizeof(*c));
	/*
	 * #MC: a machine check in the guest belongs to the host; the core
	 * stops the VM with it (reported as EXIT_UNKNOWN). #AC: reflected into
	 * the guest by svm_exit.c, so that an #AC raised while delivering #AC
	 * exits instead of looping inside the CPU (CVE-2015-5307).
	 */
	c->intercept_exc = VMCB_EXCEPTION_MC | (1u << 17);
	c->intercept_misc1 = VMCB_INTERCEPT_INTR | VMCB_INTERCEPT_NMI |
			     VMCB_INTERCEPT_CPUID | VMCB_INTERCEPT_INVD |
			     VMCB_INTERCEPT_HLT | VMCB_INTERCEPT_INVLPGA |
			     VMCB_INTERCEPT_IOIO_PROT |
			     VMCB_INTERCEPT_MSR_PROT | VMCB_INTERCEPT_SHUTDOWN;
	/* Every SVM instruction: the guest sees no SVM (CPUID policy), so
	 * the core answers each with #UD. VMRUN's bit is also mandatory. */
	c->intercept_misc2 = VMCB_INTERCEPT_VMRUN | VMCB_INTERCEPT_VMMCALL |
			     VMCB_INTERCEPT_VMLOAD | VMCB_INTERCEPT_VMSAVE |
			     VMCB_INTERCEPT_STGI | VMCB_INTERCEPT_CLGI |
			     VMCB_INTERCEPT_SKINIT | VMCB_INTERCEPT_WBINVD |
			     VMCB_INTERCEPT_RDTSCP | /* #UD: TSC_AUX is the host's */
			     VMCB_INTERCEPT_XSETBV; /* XCR0 is checked, switched */
	c->iopm_base_pa = iopm_pa;
	c->msrpm_base_pa = msrpm_pa;
	/* APM 15.21.1: with V_INTR_MASKING the guest's RFLAGS.IF masks only
	 * virtual interrupts; host interrupts stay with the host (INTR exit). */
	c->int_ctl = VMCB_INT_CTL_V_INTR_MASKING;
	c->np_control = VMCB_NP_ENABLE;
	c->n_cr3 = n_cr3;
	/* ASID and TLB_CONTROL are chosen at each entry (asid.c); clean bits
	 * stay 0 so the CPU reloads everything on every VMRUN. */
	c->tlb_control = VMCB_TLB_FLUSH_ALL;
}

void vmcb_reset_state(struct svm_vcpu *sv, uint32_t signature)
{
	struct vmcb_save *s = &sv->vmcb->save;
	struct vcpu_regs r;
	struct vcpu_sregs sr;

	vcpu_reset_state(&r, &sr, signature);
	memset(s, 0, sizeof(*s));
	memset(&sv->gprs, 0, sizeof(sv->gprs));
	/* Architecturally EFER is 0 at reset, but VMRUN refuses a guest
	 * without EFER.SVME (APM 15.5.1): vmcb_set_sregs keeps it set, and
	 * the guest never sees the bit. */
	vmcb_set_sregs(sv, &sr);
	vmcb_set_regs(sv, &r);
	s->dr6 = VMCB_RESET_DR6;
	s->dr7 = VMCB_RESET_DR7;
	s->g_pat = VMCB_RESET_PAT;
}

/* ------------------------------------------------------------ registers -- */

__hot void vmcb_get_regs(const struct svm_vcpu *sv, struct vcpu_regs *r)
{
	const struct svm_gprs *g = &sv->gprs;
	const struct vmcb_save *s = &sv->vmcb->save;

	r->rax = s->rax;
	r->rbx = g->rbx;
	r->rcx = g->rcx;
	r->rdx = g->rdx;
	r->rsi = g->rsi;
	r->rdi = g->rdi;
	r->rbp = g->rbp;
	r->rsp = s->rsp;
	r->r8 = g->r8;
	r->r9 = g->r9;
	r->r10 = g->r10;
	r->r11 = g->r11;
	r->r12 = g->r12;
	r->r13 = g->r13;
	r->r14 = g->r14;
	r->r15 = g->r15;
	r->rip = s->rip;
	r->rflags = s->rflags;
}

__hot void vmcb_set_regs(struct svm_vcpu *sv, const struct vcpu_regs *r)
{
	struct svm_gprs *g = &sv->gprs;
	struct vmcb_save *s = &sv->vmcb->save;

	s->rax = r->rax;
	g->rbx = r->rbx;
	g->rcx = r->rcx;
	g->rdx = r->rdx;
	g->rsi = r->rsi;
	g->rdi = r->rdi;
	g->rbp = r->rbp;
	s->rsp = r->rsp;
	g->r8 = r->r8;
	g->r9 = r->r9;
	g->r10 = r->r10;
	g->r11 = r->r11;
	g->r12 = r->r12;
	g->r13 = r->r13;
	g->r14 = r->r14;
	g->r15 = r->r15;
	/* The core moves RIP when it completed (skipped or emulated) the
	 * instruction: that ends an STI/MOV SS interrupt shadow, as the CPU
	 * would (Linux KVM's skip_emulated_instruction does the same). */
	if (s->rip != r->rip)
		sv->vmcb->control.int_state &= ~VMCB_INT_STATE_SHADOW;
	s->rip = r->rip;
	s->rflags = r->rflags | 0x2; /* bit 1 is always 1 (SDM 3.4.3) */
}

#define SEG_TYPE_MASK 0xFu
#define SEG_TYPE_TSS_BUSY 0x2u

/*
 * The VMCB keeps attributes in the packed format of virt.h already. Two
 * fix-ups make what the core sees the same as under VMX (as Linux KVM's
 * svm_get_segment): a loaded TR is always busy (a TSS in the task register
 * is busy by definition; the CPU does not track the bit in the hidden
 * state), and G follows the limit (a limit above 1 MiB needs G=1).
 */
void vmcb_seg_to_vcpu(const struct vmcb_seg *in, struct vcpu_segment *out,
		      bool is_tr)
{
	out->sel = in->sel;
	out->attr = in->attr & 0x0FFF;
	out->limit = in->limit;
	out->base = in->base;
	if (is_tr && (out->attr & SEG_ATTR_P))
		out->attr |= SEG_TYPE_TSS_BUSY;
	if (out->limit > 0xFFFFF)
		out->attr |= SEG_ATTR_G;
}

void vmcb_seg_from_vcpu(const struct vcpu_segment *in, struct vmcb_seg *out)
{
	out->sel = in->sel;
	out->attr = in->attr & 0x0FFF; /* bits 15:12 are reserved */
	out->limit = in->limit;
	out->base = in->base;
}

__hot void vmcb_get_sregs(const struct svm_vcpu *sv, struct vcpu_sregs *sr)
{
	const struct vmcb_save *s = &sv->vmcb->save;

	vmcb_seg_to_vcpu(&s->cs, &sr->cs, false);
	vmcb_seg_to_vcpu(&s->ds, &sr->ds, false);
	vmcb_seg_to_vcpu(&s->es, &sr->es, false);
	vmcb_seg_to_vcpu(&s->fs, &sr->fs, false);
	vmcb_seg_to_vcpu(&s->gs, &sr->gs, false);
	vmcb_seg_to_vcpu(&s->ss, &sr->ss, false);
	vmcb_seg_to_vcpu(&s->tr, &sr->tr, true);
	vmcb_seg_to_vcpu(&s->ldtr, &sr->ldtr, false);
	sr->gdtr.base = s->gdtr.base;
	sr->gdtr.limit = s->gdtr.limit;
	sr->idtr.base = s->idtr.base;
	sr->idtr.limit = s->idtr.limit;
	sr->cr0 = s->cr0;
	sr->cr2 = s->cr2;
	sr->cr3 = s->cr3;
	sr->cr4 = s->cr4;
	sr->efer = s->efer & ~EFER_SVME; /* the guest never set it */
	sr->cpl = s->cpl;
}

void vmcb_set_sregs(struct svm_vcpu *sv, const struct vcpu_sregs *sr)
{
	struct vmcb_save *s = &sv->vmcb->save;
	uint64_t efer = sr->efer | EFER_SVME;

	/* The core changing the paging state is a new address space for the
	 * guest's TLB entries: flush them at the next entry. */
	if (s->cr0 != sr->cr0 || s->cr3 != sr->cr3 || s->cr4 != sr->cr4 ||
	    s->efer != efer)
		svm_asid_request_flush(sv);
	vmcb_seg_from_vcpu(&sr->cs, &s->cs);
	vmcb_seg_from_vcpu(&sr->ds, &s->ds);
	vmcb_seg_from_vcpu(&sr->es, &s->es);
	vmcb_seg_from_vcpu(&sr->fs, &s->fs);
	vmcb_seg_from_vcpu(&sr->gs, &s->gs);
	vmcb_seg_from_vcpu(&sr->ss, &s->ss);
	vmcb_seg_from_vcpu(&sr->tr, &s->tr);
	vmcb_seg_from_vcpu(&sr->ldtr, &s->ldtr);
	s->gdtr.base = sr->gdtr.base;
	s->gdtr.limit = sr->gdtr.limit;
	s->idtr.base = sr->idtr.base;
	s->idtr.limit = sr->idtr.limit;
	s->cr0 = sr->cr0;
	s->cr2 = sr->cr2;
	s->cr3 = sr->cr3;
	s->cr4 = sr->cr4;
	s->efer = efer;
	s->cpl = sr->cpl;
}

/* ------------------------------------------------------------- events -- */

uint64_t vmcb_event(uint8_t vector, enum event_type type, bool has_error,
		    uint32_t error_code)
{
	uint64_t ev = vector | ((uint64_t)type << VMCB_EVENT_TYPE_SHIFT) |
		      VMCB_EVENT_VALID;

	/* APM 15.20: EV is meaningful for exceptions only. */
	if (has_error && type == EVENT_EXCEPTION)
		ev |= VMCB_EVENT_EV |
		      ((uint64_t)error_code << VMCB_EVENT_ERROR_SHIFT);
	return ev;
}

void vmcb_inject_event(struct vmcb *vmcb, uint8_t vector, enum event_type type,
		       bool has_error, uint32_t error_code)
{
	vmcb->control.event_inj = vmcb_event(vector, type, has_error,
					     error_code);
}

/*
 * APM 15.7.2: when an intercept happens while an event was being delivered
 * (an NPF on the IDT or the stack, an INTR arriving meanwhile), EXITINTINFO
 * holds that event and the hypervisor must deliver it again. Software
 * interrupts (INTn, and INT3/INTO, which raise #BP/#OF) are not re-injected:
 * RIP still points at the instruction, which raises them again when it
 * re-executes; injecting them would need the next RIP for the return address
 * (NRIP save, which TCG lacks). The core may replace the event with its own
 * inject_event before the next entry.
 */
bool vmcb_reinject_exitintinfo(struct vmcb *vmcb)
{
	uint64_t ii = vmcb->control.exit_int_info;
	unsigned type = (ii & VMCB_EVENT_TYPE_MASK) >> VMCB_EVENT_TYPE_SHIFT;
	unsigned vector = ii & VMCB_EVENT_VECTOR_MASK;

	if (!(ii & VMCB_EVENT_VALID))
		return false;
	switch (type) {
	case VMCB_EVENT_TYPE_INTR:
	case VMCB_EVENT_TYPE_NMI:
		break;
	case VMCB_EVENT_TYPE_EXCEPTION:
		if (vector == 3 || vector == 4 || vector > 31)
			return false;
		break;
	default: /* soft INT re-executes; 1, 5-7 are reserved */
		return false;
	}
	vmcb->control.event_inj =
		ii & (VMCB_EVENT_VECTOR_MASK | VMCB_EVENT_TYPE_MASK |
		      VMCB_EVENT_EV | VMCB_EVENT_VALID |
		      (0xFFFFFFFFull << VMCB_EVENT_ERROR_SHIFT));
	if (!(ii & VMCB_EVENT_EV))
		vmcb->control.event_inj &=
			~(0xFFFFFFFFull << VMCB_EVENT_ERROR_SHIFT);
	return true;
}

/*
 * APM 15.21.4: a virtual interrupt (V_IRQ) that ignores the virtual TPR,
 * with the VINTR intercept, exits as soon as the guest could take an
 * interrupt (IF=1, no shadow) instead of delivering it.
 */
void vmcb_set_intr_window(struct vmcb *vmcb, bool on)
{
	struct vmcb_control *c = &vmcb->control;
	uint32_t bits = VMCB_INT_CTL_V_IRQ | VMCB_INT_CTL_V_IGN_TPR |
			(0xFu << VMCB_INT_CTL_V_INTR_PRIO_SHIFT);

	if (on) {
		c->int_ctl |= bits;
		c->int_vector = 0;
		c->intercept_misc1 |= VMCB_INTERCEPT_VINTR;
	} else {
		c->int_ctl &= ~bits;
		c->intercept_misc1 &= ~VMCB_INTERCEPT_VINTR;
	}
}

bool vmcb_can_inject_intr(const struct vmcb *vmcb)
{
	return (vmcb->save.rflags & RFLAGS_IF) &&
	       !(vmcb->control.int_state & VMCB_INT_STATE_SHADOW) &&
	       !(vmcb->control.event_inj & VMCB_EVENT_VALID);
}

/* ------------------------------------------------ VMRUN consistency -- */

/* CR4 bits a guest may have (APM 3.1.3): VME..LA57, FSGSBASE, PCIDE,
 * OSXSAVE, SMEP, SMAP, PKE, CET. 13-15 and 19 are reserved on AMD. */
#define VMCB_CR4_VALID 0x01F71FFFull
/* EFER: SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE and the newer 16-21. */
#define VMCB_EFER_VALID 0x003FFD01ull

const char *vmcb_check_state(const struct vmcb *vmcb)
{
	const struct vmcb_save *s = &vmcb->save;
	const struct vmcb_control *c = &vmcb->control;
	bool long_paging = (s->efer & EFER_LME) && (s->cr0 & CR0_PG);
	uint64_t ev = c->event_inj;

	if (!(s->efer & EFER_SVME))
		return "guest EFER.SVME clear";
	if (!(s->cr0 & (1ull << 30)) && (s->cr0 & (1ull << 29)))
		return "guest CR0.NW set without CR0.CD";
	if (s->cr0 >> 32)
		return "guest CR0 bits 63:32 set";
	if (s->cr4 & ~VMCB_CR4_VALID)
		return "guest CR4 reserved bits set";
	if ((s->dr6 >> 32) || (s->dr7 >> 32))
		return "guest DR6/DR7 bits 63:32 set";
	if (s->efer & ~VMCB_EFER_VALID)
		return "guest EFER reserved bits set";
	if (long_paging && !(s->cr4 & CR4_PAE))
		return "EFER.LME and CR0.PG without CR4.PAE";
	if (long_paging && !(s->cr0 & CR0_PE))
		return "EFER.LME and CR0.PG without CR0.PE";
	if (long_paging && (s->cr3 >> 52))
		return "guest CR3 reserved bits set";
	if (long_paging && (s->cs.attr & SEG_ATTR_L) &&
	    (s->cs.attr & SEG_ATTR_DB))
		return "long mode with CS.L and CS.D both set";
	if (!(c->intercept_misc2 & VMCB_INTERCEPT_VMRUN))
		return "VMRUN intercept clear";
	if (c->asid == 0)
		return "ASID 0 (the host's)";
	if (ev & VMCB_EVENT_VALID) {
		unsigned type = (ev & VMCB_EVENT_TYPE_MASK) >>
				VMCB_EVENT_TYPE_SHIFT;
		unsigned vector = ev & VMCB_EVENT_VECTOR_MASK;

		if (type == 1 || type > VMCB_EVENT_TYPE_SOFT_INT)
			return "EVENTINJ with a reserved type";
		if (type == VMCB_EVENT_TYPE_EXCEPTION &&
		    (vector == 2 || vector > 31))
			return "EVENTINJ exception with a bad vector";
	}
	return NULL;
}
