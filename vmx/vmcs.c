/*
 * vmcs.c - what a vCPU's VMCS holds and how the core reads and writes it
 * (the twin of vmcb.c): the controls computed from the capability MSRs
 * (SDM vol.3 appendix A), the x86 reset state, segment access rights,
 * CR0/CR4 with their guest/host masks and read shadows, the software copy
 * of the guest state and its synchronisation with the VMCS, and event
 * injection (26.6). Only vmcs_read/vmcs_write touch hardware: host unit
 * tests run this file as it ships over a fake VMCS.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/err.h"
#include "vmx/vmx_softc.h"

#define RESET_DR7 0x400ull
#define RESET_PAT 0x0007040600070406ull


/* ------------------------------------------------------------ controls -- */

/*
 * SDM A.3-A.5: the low half of a capability MSR has a 1 for every control
 * that must be 1 (allowed-0 settings), the high half a 1 for every control
 * that may be 1 (allowed-1). want1: needed; opt1: used when allowed;
 * want0: must stay 0. On failure *missing holds the offending bits.
 */
int vmx_ctl_adjust(uint64_t cap, uint32_t want1, uint32_t opt1,
		   uint32_t want0, uint32_t *out, uint32_t *missing)
{
	uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);

	*missing = 0;
	if (must1 & ~may1) {
		*missing = must1 & ~may1; /* a control both forced and barred */
		return KEEL_EINVAL;
	}
	if (want1 & ~may1) {
		*missing = want1 & ~may1;
		return KEEL_ENOTSUP;
	}
	if (want0 & must1) {
		*missing = want0 & must1;
		return KEEL_ENOTSUP;
	}
	*out = must1 | want1 | (opt1 & may1);
	return 0;
}

static const char *const vmx_pin_names[32] = {
	[0] = "external-interrupt exiting", [3] = "NMI exiting",
	[5] = "virtual NMIs", [6] = "VMX-preemption timer",
	[7] = "posted interrupts",
};
static const char *const vmx_proc_names[32] = {
	[2] = "interrupt-window exiting", [3] = "TSC offsetting",
	[7] = "HLT exiting", [9] = "INVLPG exiting", [10] = "MWAIT exiting",
	[11] = "RDPMC exiting", [12] = "RDTSC exiting",
	[15] = "CR3-load exiting", [16] = "CR3-store exiting",
	[19] = "CR8-load exiting", [20] = "CR8-store exiting",
	[21] = "TPR shadow", [22] = "NMI-window exiting",
	[23] = "MOV-DR exiting", [24] = "unconditional I/O exiting",
	[25] = "I/O bitmaps", [27] = "monitor trap flag",
	[28] = "MSR bitmaps", [29] = "MONITOR exiting",
	[30] = "PAUSE exiting", [31] = "secondary controls",
};
static const char *const vmx_proc2_names[32] = {
	[0] = "virtualize APIC accesses", [1] = "EPT",
	[2] = "descriptor-table exiting", [3] = "RDTSCP",
	[4] = "virtualize x2APIC mode", [5] = "VPID", [6] = "WBINVD exiting",
	[7] = "unrestricted guest", [8] = "APIC-register virtualization",
	[9] = "virtual-interrupt delivery", [10] = "PAUSE-loop exiting",
	[12] = "INVPCID", [13] = "VM functions", [14] = "VMCS shadowing",
	[17] = "PML", [18] = "EPT-violation #VE", [20] = "XSAVES/XRSTORS",
	[25] = "TSC scaling",
};
static const char *const vmx_exit_names[32] = {
	[2] = "save debug controls", [9] = "host address-space size",
	[12] = "load IA32_PERF_GLOBAL_CTRL", [15] = "acknowledge interrupt on exit",
	[18] = "save IA32_PAT", [19] = "load IA32_PAT",
	[20] = "save IA32_EFER", [21] = "load IA32_EFER",
	[22] = "save VMX-preemption timer",
};
static const char *const vmx_entry_names[32] = {
	[2] = "load debug controls", [9] = "IA-32e mode guest",
	[10] = "entry to SMM", [11] = "deactivate dual-monitor treatment",
	[13] = "load IA32_PERF_GLOBAL_CTRL", [14] = "load IA32_PAT",
	[15] = "load IA32_EFER",
};

const char *vmx_ctl_bit_name(enum vmx_ctl_kind kind, unsigned bit)
{
	const char *const *t;

	if (bit >= 32)
		return "?";
	switch (kind) {
	case VMX_CTL_PIN: t = vmx_pin_names; break;
	case VMX_CTL_PROC: t = vmx_proc_names; break;
	case VMX_CTL_PROC2: t = vmx_proc2_names; break;
	case VMX_CTL_EXIT: t = vmx_exit_names; break;
	case VMX_CTL_ENTRY: t = vmx_entry_names; break;
	default: return "?";
	}
	return t[bit] ? t[bit] : "reserved";
}

static const char *const vmx_ctl_kind_names[] = {
	"pin-based", "processor-based", "secondary processor-based",
	"VM-exit", "VM-entry",
};

static int vmx_ctl_one(enum vmx_ctl_kind kind, uint64_t cap, uint32_t want1,
		       uint32_t opt1, uint32_t want0, uint32_t *out,
		       char *why, size_t len)
{
	uint32_t missing;
	int err = vmx_ctl_adjust(cap, want1, opt1, want0, out, &missing);
	unsigned bit;

	if (!err)
		return 0;
	bit = (unsigned)__builtin_ctz(missing);
	if (err == KEEL_EINVAL)
		snprintf(why, len, "%s control %u (%s) is both required and "
			 "not allowed", vmx_ctl_kind_names[kind], bit,
			 vmx_ctl_bit_name(kind, bit));
	else if (want1 & (1u << bit))
		snprintf(why, len, "%s control %u (%s) not supported",
			 vmx_ctl_kind_names[kind], bit,
			 vmx_ctl_bit_name(kind, bit));
	else
		snprintf(why, len, "%s control %u (%s) cannot be turned off",
			 vmx_ctl_kind_names[kind], bit,
			 vmx_ctl_bit_name(kind, bit));
	return err;
}

/*
 * Every control from the TRUE capability MSRs when IA32_VMX_BASIC[55] says
 * they exist (A.2: they allow controls the old MSRs force to 1, such as CR3
 * exiting, to be 0). The secondary controls have no TRUE form.
 */
int vmx_controls_compute(const struct vmx_caps *caps,
			 struct vmx_controls *out, char *why, size_t len)
{
	bool true_ctls = caps->basic & VMX_BASIC_TRUE_CTLS;
	uint64_t pin = true_ctls ? caps->true_pin : caps->pin;
	uint64_t proc = true_ctls ? caps->true_proc : caps->proc;
	uint64_t exitc = true_ctls ? caps->true_exit : caps->exit;
	uint64_t entry = true_ctls ? caps->true_entry : caps->entry;
	uint64_t ept = caps->ept_vpid;
	int err;

	memset(out, 0, sizeof(*out));
	why[0] = 0;
	out->revision = VMX_BASIC_REVISION(caps->basic);
	/* Host interrupts and NMIs exit; the host takes them itself. The
	 * preemption timer, where there is one, ends a stay in the guest
	 * that no host interrupt ends (vmx_vcpu_run). */
	err = vmx_ctl_one(VMX_CTL_PIN, pin,
			  PIN_EXTINT_EXITING | PIN_NMI_EXITING,
			  PIN_PREEMPTION_TIMER,
			  PIN_VIRTUAL_NMIS | PIN_POSTED_INTR,
			  &out->pin, why, len);
	/* HLT, every port and MSR (bitmaps) exit; CR3 and CR8 accesses,
	 * INVLPG, RDTSC, MOV DR do not (EPT: the guest owns its paging).
	 * The interrupt window is turned on only when asked for, but must
	 * exist. */
	if (!err)
		err = vmx_ctl_one(VMX_CTL_PROC, proc,
				  PROC_HLT_EXITING | PROC_USE_IO_BITMAPS |
					  PROC_USE_MSR_BITMAPS |
					  PROC_SECONDARY_CTLS,
				  0,
				  PROC_INTR_WINDOW_EXITING |
					  PROC_TSC_OFFSETTING |
					  PROC_INVLPG_EXITING |
					  PROC_RDTSC_EXITING |
					  PROC_CR3_LOAD_EXITING |
					  PROC_CR3_STORE_EXITING |
					  PROC_CR8_LOAD_EXITING |
					  PROC_CR8_STORE_EXITING |
					  PROC_TPR_SHADOW |
					  PROC_NMI_WINDOW_EXITING |
					  PROC_MOV_DR_EXITING |
					  PROC_UNCOND_IO_EXITING |
					  PROC_MONITOR_TRAP_FLAG,
				  &out->proc, why, len);
	if (!err && !((proc >> 32) & PROC_INTR_WINDOW_EXITING)) {
		snprintf(why, len, "processor-based control 2 (%s) not "
			 "supported", vmx_proc_names[2]);
		err = KEEL_ENOTSUP;
	}
	out->intr_window = !err;
	/* EPT and unrestricted guest (real-mode guests from the reset
	 * state); VPID, WBINVD exiting and INVPCID when there. Not RDTSCP:
	 * the guest's TSC_AUX is not switched, so RDTSCP stays a #UD (and
	 * CPUID does not offer it, kernel/virt/cpuid.c). */
	if (!err)
		err = vmx_ctl_one(VMX_CTL_PROC2, caps->proc2,
				  PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST,
				  PROC2_ENABLE_VPID | PROC2_WBINVD_EXITING |
					  PROC2_ENABLE_INVPCID,
				  PROC2_VIRT_APIC_ACCESS |
					  PROC2_DESC_TABLE_EXITING |
					  PROC2_VIRT_X2APIC,
				  &out->proc2, why, len);
	/* 64-bit host; EFER switched both ways (the guest starts with
	 * EFER=0, the host needs LME/LMA/NXE back); PAT when possible.
	 * Acknowledge-on-exit stays off: the host's IDT takes the
	 * interrupt when Keel turns interrupts back on. */
	if (!err)
		err = vmx_ctl_one(VMX_CTL_EXIT, exitc,
				  EXIT_CTL_HOST_ADDR_SPACE_64 |
					  EXIT_CTL_SAVE_EFER |
					  EXIT_CTL_LOAD_EFER,
				  EXIT_CTL_SAVE_PAT | EXIT_CTL_LOAD_PAT,
				  EXIT_CTL_ACK_INTR_ON_EXIT |
					  EXIT_CTL_SAVE_PREEMPT_TIMER |
					  EXIT_CTL_LOAD_PERF_GLOBAL,
				  &out->exit, why, len);
	if (!err)
		err = vmx_ctl_one(VMX_CTL_ENTRY, entry, ENTRY_CTL_LOAD_EFER,
				  ENTRY_CTL_LOAD_PAT,
				  ENTRY_CTL_IA32E_GUEST |
					  ENTRY_CTL_ENTRY_TO_SMM |
					  ENTRY_CTL_DEACT_DUAL_MONITOR |
					  ENTRY_CTL_LOAD_PERF_GLOBAL,
				  &out->entry, why, len);
	if (!err && !((entry >> 32) & ENTRY_CTL_IA32E_GUEST)) {
		snprintf(why, len, "VM-entry control 9 (%s) not supported",
			 vmx_entry_names[9]);
		err = KEEL_ENOTSUP;
	}
	if (err)
		return err;

	out->preempt_timer = out->pin & PIN_PREEMPTION_TIMER;
	out->preempt_rate = VMX_MISC_PREEMPT_RATE(caps->misc);
	out->load_pat = (out->exit & EXIT_CTL_SAVE_PAT) &&
			(out->exit & EXIT_CTL_LOAD_PAT) &&
			(out->entry & ENTRY_CTL_LOAD_PAT);
	if (!out->load_pat) {
		out->exit &= ~(EXIT_CTL_SAVE_PAT | EXIT_CTL_LOAD_PAT);
		out->entry &= ~ENTRY_CTL_LOAD_PAT;
	}
	/* A.10: a 4-level walk and a WB (else UC) paging-structure type;
	 * INVEPT for virt->flush. */
	if (!(ept & EPT_CAP_WALK_4)) {
		snprintf(why, len, "EPT without a 4-level page walk");
		return KEEL_ENOTSUP;
	}
	if (!(ept & (EPT_CAP_MT_WB | EPT_CAP_MT_UC))) {
		snprintf(why, len, "EPT with neither WB nor UC structures");
		return KEEL_ENOTSUP;
	}
	out->invept_single = (ept & EPT_CAP_INVEPT) &&
			     (ept & EPT_CAP_INVEPT_SINGLE);
	out->invept_all = (ept & EPT_CAP_INVEPT) && (ept & EPT_CAP_INVEPT_ALL);
	if (!out->invept_single && !out->invept_all) {
		snprintf(why, len, "EPT without INVEPT");
		return KEEL_ENOTSUP;
	}
	/* 24.6.11: bits 2:0 memory type, 5:3 walk length - 1. */
	out->eptp_flags = (3ull << 3) | (ept & EPT_CAP_MT_WB ? 6 : 0);
	out->ept_2m = ept & EPT_CAP_2M;
	out->ept_1g = ept & EPT_CAP_1G;
	/* VPID only with a way to flush it. */
	out->invvpid_single = (ept & VPID_CAP_INVVPID) &&
			      (ept & VPID_CAP_INVVPID_SINGLE);
	out->invvpid_all = (ept & VPID_CAP_INVVPID) &&
			   (ept & VPID_CAP_INVVPID_ALL);
	if (!out->invvpid_single && !out->invvpid_all)
		out->proc2 &= ~PROC2_ENABLE_VPID;
	out->vpid = out->proc2 & PROC2_ENABLE_VPID;
	/* A.7/A.8; 26.3.1.1: with unrestricted guest PE and PG are free. */
	out->cr0_must1 = caps->cr0_fixed0 & ~(CR0_PE | CR0_PG);
	out->cr0_may1 = caps->cr0_fixed1;
	out->cr4_must1 = caps->cr4_fixed0;
	out->cr4_may1 = caps->cr4_fixed1;
	return 0;
}

uint64_t vmx_eptp(const struct vmx_controls *c, uint64_t root)
{
	return (root & ~0xFFFull) | c->eptp_flags;
}

/* SDM 30.4, table 30-1. */
const char *vmx_insn_error_name(uint32_t err)
{
	switch (err) {
	case 1: return "VMCALL executed in VMX root operation";
	case 2: return "VMCLEAR with invalid physical address";
	case 3: return "VMCLEAR with VMXON pointer";
	case 4: return "VMLAUNCH with non-clear VMCS";
	case 5: return "VMRESUME with non-launched VMCS";
	case 6: return "VMRESUME after VMXOFF";
	case 7: return "VM entry with invalid control field(s)";
	case 8: return "VM entry with invalid host-state field(s)";
	case 9: return "VMPTRLD with invalid physical address";
	case 10: return "VMPTRLD with VMXON pointer";
	case 11: return "VMPTRLD with incorrect VMCS revision identifier";
	case 12: return "VMREAD/VMWRITE from/to unsupported VMCS component";
	case 13: return "VMWRITE to read-only VMCS component";
	case 15: return "VMXON executed in VMX root operation";
	case 16: return "VM entry with invalid executive-VMCS pointer";
	case 17: return "VM entry with non-launched executive VMCS";
	case 18: return "VM entry with executive-VMCS pointer not VMXON pointer";
	case 26: return "VM entry with events blocked by MOV SS";
	case 28: return "invalid operand to INVEPT/INVVPID";
	default: return "unknown VM-instruction error";
	}
}

/* ------------------------------------------------------ access rights -- */

/*
 * SDM 24.4.1 table 24-2: VMX keeps descriptor bits 47:40 in AR 7:0 and bits
 * 55:52 in AR 15:12; bit 16 marks a segment unusable (a null selector
 * loaded in protected mode). Keel's packed form has the high nibble at
 * 11:8. A segment that is not present is unusable; SS keeps its DPL, which
 * is the CPL (26.3.1.2). G follows the byte-granular limit, as the entry
 * checks want (26.3.1.2: limit[11:0] != 0xFFF needs G=0, limit[31:20] != 0
 * needs G=1).
 */
uint32_t vmx_ar_from_attr(uint16_t attr, uint32_t limit)
{
	uint32_t ar;

	if (!(attr & SEG_ATTR_P))
		return VMX_AR_UNUSABLE | (attr & 0x60);
	ar = (attr & 0xFFu) | ((uint32_t)(attr & 0xF00u) << 4);
	if (limit > 0xFFFFF)
		ar |= 1u << 15;
	else if ((limit & 0xFFF) != 0xFFF)
		ar &= ~(1u << 15);
	return ar;
}

uint16_t vmx_attr_from_ar(uint32_t ar)
{
	uint16_t attr = (uint16_t)((ar & 0xFFu) | ((ar >> 4) & 0xF00u));

	if (ar & VMX_AR_UNUSABLE)
		return attr & 0x60; /* DPL only: not present */
	return attr;
}

/* ------------------------------------------------------------ CR0/CR4 -- */

/* The bits the hardware must hold differently from what the guest wrote
 * are owned by Keel (guest/host mask, 24.6.6); the guest reads its own
 * value of them from the read shadow. CD and NW too: VM entry does not load
 * them (26.3.2.1), the guest runs with the host's (cached), so the reset
 * value 0x60000010 can only be shown through the shadow, as KVM does. */
#define VMX_CR0_CD_NW ((1ull << 30) | (1ull << 29))

uint64_t vmx_cr0_mask(const struct vmx_controls *c)
{
	return (c->cr0_must1 | ~c->cr0_may1 | VMX_CR0_CD_NW) & 0xFFFFFFFFull;
}

uint64_t vmx_cr4_mask(const struct vmx_controls *c)
{
	return (c->cr4_must1 | ~c->cr4_may1) & 0xFFFFFFFFull;
}

uint64_t vmx_cr0_real(const struct vmx_controls *c, uint64_t cr0)
{
	return ((cr0 & ~VMX_CR0_CD_NW) | c->cr0_must1) &
	       (c->cr0_may1 | c->cr0_must1);
}

uint64_t vmx_cr4_real(const struct vmx_controls *c, uint64_t cr4)
{
	return (cr4 | c->cr4_must1) & (c->cr4_may1 | c->cr4_must1);
}

/* ------------------------------------------------------- reset state -- */

/* The same RESET state as vmcb_reset_state (SDM 9.1.1, table 9-1). */
void vmx_reset_state(struct vmx_vcpu *vv, uint32_t signature)
{
	struct vcpu_regs r;

	vcpu_reset_state(&r, &vv->sregs, signature);
	memset(&vv->gprs, 0, sizeof(vv->gprs));
	vv->gprs.rdx = r.rdx;
	vv->rip = r.rip;
	vv->rsp = r.rsp;
	vv->rflags = r.rflags;
	vv->interruptibility = 0;
	vv->pat = RESET_PAT;
	vv->entry_intr_info = 0;
	vv->regs_dirty = vv->sregs_dirty = vv->pat_dirty = true;
	vv->sregs_stale = false;
}

/* ------------------------------------------------ software <-> VMCS -- */

static const struct vcpu_segment *vmx_seg_of(const struct vcpu_sregs *s,
					     unsigned i)
{
	switch (i) {
	case VMX_SEG_ES: return &s->es;
	case VMX_SEG_CS: return &s->cs;
	case VMX_SEG_SS: return &s->ss;
	case VMX_SEG_DS: return &s->ds;
	case VMX_SEG_FS: return &s->fs;
	case VMX_SEG_GS: return &s->gs;
	case VMX_SEG_LDTR: return &s->ldtr;
	default: return &s->tr;
	}
}

static int vmcs_write_sregs(struct vmx_vcpu *vv)
{
	const struct vmx_controls *c = vv->ctls;
	const struct vcpu_sregs *s = &vv->sregs;
	uint32_t entry = c->entry;
	int bad = 0;

	for (unsigned i = 0; i <= VMX_SEG_TR; i++) {
		const struct vcpu_segment *g = vmx_seg_of(s, i);
		uint16_t attr = g->attr;

		/* A loaded TR is a busy TSS (26.3.1.2); SVM does not track
		 * the bit, so a state taken from there may lack it. */
		if (i == VMX_SEG_TR && (attr & SEG_ATTR_P))
			attr |= 0x2;
		bad |= vmcs_write(VMCS_GUEST_ES_SEL + 2 * i, g->sel);
		bad |= vmcs_write(VMCS_GUEST_ES_LIMIT + 2 * i, g->limit);
		bad |= vmcs_write(VMCS_GUEST_ES_AR + 2 * i,
				  vmx_ar_from_attr(attr, g->limit));
		bad |= vmcs_write(VMCS_GUEST_ES_BASE + 2 * i, g->base);
	}
	bad |= vmcs_write(VMCS_GUEST_GDTR_BASE, s->gdtr.base);
	bad |= vmcs_write(VMCS_GUEST_GDTR_LIMIT, s->gdtr.limit);
	bad |= vmcs_write(VMCS_GUEST_IDTR_BASE, s->idtr.base);
	bad |= vmcs_write(VMCS_GUEST_IDTR_LIMIT, s->idtr.limit);
	bad |= vmcs_write(VMCS_GUEST_CR0, vmx_cr0_real(c, s->cr0));
	bad |= vmcs_write(VMCS_CR0_READ_SHADOW, s->cr0);
	bad |= vmcs_write(VMCS_GUEST_CR3, s->cr3);
	bad |= vmcs_write(VMCS_GUEST_CR4, vmx_cr4_real(c, s->cr4));
	bad |= vmcs_write(VMCS_CR4_READ_SHADOW, s->cr4);
	bad |= vmcs_write(VMCS_GUEST_IA32_EFER, s->efer);
	/* 26.2.4: "IA-32e mode guest" must equal EFER.LMA; the CPU keeps
	 * it in step on exits (27.2), Keel when it sets EFER itself. */
	if (s->efer & EFER_LMA)
		entry |= ENTRY_CTL_IA32E_GUEST;
	bad |= vmcs_write(VMCS_ENTRY_CTLS, entry);
	vv->gprs.cr2 = s->cr2;
	return bad;
}

void vmcs_read_sregs(struct vmx_vcpu *vv)
{
	struct vcpu_sregs *s = &vv->sregs;

	for (unsigned i = 0; i <= VMX_SEG_TR; i++) {
		struct vcpu_segment *g =
			(struct vcpu_segment *)vmx_seg_of(s, i);

		g->sel = (uint16_t)vmcs_read(VMCS_GUEST_ES_SEL + 2 * i);
		g->limit = (uint32_t)vmcs_read(VMCS_GUEST_ES_LIMIT + 2 * i);
		g->attr = vmx_attr_from_ar(
			(uint32_t)vmcs_read(VMCS_GUEST_ES_AR + 2 * i));
		g->base = vmcs_read(VMCS_GUEST_ES_BASE + 2 * i);
	}
	s->gdtr.base = vmcs_read(VMCS_GUEST_GDTR_BASE);
	s->gdtr.limit = (uint32_t)vmcs_read(VMCS_GUEST_GDTR_LIMIT);
	s->idtr.base = vmcs_read(VMCS_GUEST_IDTR_BASE);
	s->idtr.limit = (uint32_t)vmcs_read(VMCS_GUEST_IDTR_LIMIT);
	/* The guest's view: its own bits where Keel owns them. */
	s->cr0 = (vmcs_read(VMCS_GUEST_CR0) & ~vmx_cr0_mask(vv->ctls)) |
		 (vmcs_read(VMCS_CR0_READ_SHADOW) & vmx_cr0_mask(vv->ctls));
	s->cr4 = (vmcs_read(VMCS_GUEST_CR4) & ~vmx_cr4_mask(vv->ctls)) |
		 (vmcs_read(VMCS_CR4_READ_SHADOW) & vmx_cr4_mask(vv->ctls));
	s->cr3 = vmcs_read(VMCS_GUEST_CR3);
	s->cr2 = vv->gprs.cr2;
	s->efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	s->cpl = (s->ss.attr >> 5) & 3; /* SS.DPL is the CPL (24.4.1) */
	vv->sregs_stale = false;
}

/* Everything a fresh VMCS needs but the host state (vmx.c): controls, the
 * bitmaps, masks, and the guest state from the software copy. */
int vmcs_setup(struct vmx_vcpu *vv, uint64_t io_bitmap_pa,
	       uint64_t msr_bitmap_pa)
{
	const struct vmx_controls *c = vv->ctls;
	int bad = 0;

	vv->proc = c->proc;
	bad |= vmcs_write(VMCS_PIN_BASED_CTLS, c->pin);
	bad |= vmcs_write(VMCS_PROC_BASED_CTLS, vv->proc);
	bad |= vmcs_write(VMCS_PROC_BASED_CTLS2, c->proc2);
	bad |= vmcs_write(VMCS_EXIT_CTLS, c->exit);
	bad |= vmcs_write(VMCS_ENTRY_CTLS, c->entry);
	/* #AC: reflected into the guest by vmx_exit.c, so an #AC raised
	 * while delivering #AC exits instead of looping inside the CPU
	 * (CVE-2015-5307), as svm does. #MC exits on its own (reason 41). */
	bad |= vmcs_write(VMCS_EXCEPTION_BITMAP, 1u << 17);
	bad |= vmcs_write(VMCS_PF_ERROR_MASK, 0);
	bad |= vmcs_write(VMCS_PF_ERROR_MATCH, 0);
	bad |= vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	bad |= vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	bad |= vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	bad |= vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	bad |= vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	bad |= vmcs_write(VMCS_IO_BITMAP_A, io_bitmap_pa);
	bad |= vmcs_write(VMCS_IO_BITMAP_B, io_bitmap_pa + 4096);
	bad |= vmcs_write(VMCS_MSR_BITMAP, msr_bitmap_pa);
	bad |= vmcs_write(VMCS_LINK_POINTER, ~0ull); /* 26.3.1.5 */
	bad |= vmcs_write(VMCS_EPT_POINTER, vv->eptp);
	if (c->vpid)
		bad |= vmcs_write(VMCS_VPID, vv->vpid);
	bad |= vmcs_write(VMCS_CR0_GUEST_HOST_MASK, vmx_cr0_mask(c));
	bad |= vmcs_write(VMCS_CR4_GUEST_HOST_MASK, vmx_cr4_mask(c));
	bad |= vmcs_write(VMCS_GUEST_DR7, RESET_DR7);
	bad |= vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	bad |= vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
	bad |= vmcs_write(VMCS_GUEST_ACTIVITY, 0);
	bad |= vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	bad |= vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	bad |= vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vv->regs_dirty = vv->sregs_dirty = vv->pat_dirty = true;
	vv->proc_dirty = false;
	return bad;
}

/* Before an entry: what the core changed since the last exit. */
int vmcs_sync_to_hw(struct vmx_vcpu *vv)
{
	int bad = 0;

	if (vv->sregs_dirty) {
		bad |= vmcs_write_sregs(vv);
		vv->sregs_dirty = false;
		vv->sregs_stale = false;
	}
	if (vv->regs_dirty) {
		bad |= vmcs_write(VMCS_GUEST_RIP, vv->rip);
		bad |= vmcs_write(VMCS_GUEST_RSP, vv->rsp);
		bad |= vmcs_write(VMCS_GUEST_RFLAGS, vv->rflags);
		bad |= vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
				  vv->interruptibility);
		vv->regs_dirty = false;
	}
	if (vv->pat_dirty && vv->ctls->load_pat) {
		bad |= vmcs_write(VMCS_GUEST_IA32_PAT, vv->pat);
		vv->pat_dirty = false;
	}
	if (vv->proc_dirty) {
		bad |= vmcs_write(VMCS_PROC_BASED_CTLS, vv->proc);
		vv->proc_dirty = false;
	}
	if (vv->entry_intr_info & INTR_INFO_VALID) {
		bad |= vmcs_write(VMCS_ENTRY_INTR_INFO, vv->entry_intr_info);
		bad |= vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, vv->entry_error);
		bad |= vmcs_write(VMCS_ENTRY_INSN_LEN, vv->entry_insn_len);
	}
	return bad;
}

/* After an exit: what every exit handler needs. The injected event was
 * delivered, or is in the IDT-vectoring information (vmx_exit.c). */
void vmcs_sync_after_exit(struct vmx_vcpu *vv)
{
	vv->rip = vmcs_read(VMCS_GUEST_RIP);
	vv->rsp = vmcs_read(VMCS_GUEST_RSP);
	vv->rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	vv->interruptibility =
		(uint32_t)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	vv->entry_intr_info = 0;
	vv->sregs_stale = true;
}

/* ------------------------------------------------------------ registers -- */

void vmx_get_regs_sw(const struct vmx_vcpu *vv, struct vcpu_regs *r)
{
	const struct vmx_gprs *g = &vv->gprs;

	r->rax = g->rax;
	r->rbx = g->rbx;
	r->rcx = g->rcx;
	r->rdx = g->rdx;
	r->rsi = g->rsi;
	r->rdi = g->rdi;
	r->rbp = g->rbp;
	r->rsp = vv->rsp;
	r->r8 = g->r8;
	r->r9 = g->r9;
	r->r10 = g->r10;
	r->r11 = g->r11;
	r->r12 = g->r12;
	r->r13 = g->r13;
	r->r14 = g->r14;
	r->r15 = g->r15;
	r->rip = vv->rip;
	r->rflags = vv->rflags;
}

void vmx_set_regs_sw(struct vmx_vcpu *vv, const struct vcpu_regs *r)
{
	struct vmx_gprs *g = &vv->gprs;

	g->rax = r->rax;
	g->rbx = r->rbx;
	g->rcx = r->rcx;
	g->rdx = r->rdx;
	g->rsi = r->rsi;
	g->rdi = r->rdi;
	g->rbp = r->rbp;
	g->r8 = r->r8;
	g->r9 = r->r9;
	g->r10 = r->r10;
	g->r11 = r->r11;
	g->r12 = r->r12;
	g->r13 = r->r13;
	g->r14 = r->r14;
	g->r15 = r->r15;
	/* Moving RIP completes the instruction (the core skipped or
	 * emulated it): a shadow from STI or MOV SS ended with it, as KVM's
	 * skip does. STI blocking with IF=0 would fail the entry (26.3.1.5). */
	if (r->rip != vv->rip || !(r->rflags & RFLAGS_IF))
		vv->interruptibility &=
			~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
	vv->rsp = r->rsp;
	vv->rip = r->rip;
	vv->rflags = r->rflags | 0x2; /* bit 1 is always 1 (SDM 3.4.3) */
	vv->regs_dirty = true;
}

void vmx_set_sregs_sw(struct vmx_vcpu *vv, const struct vcpu_sregs *sr)
{
	const struct vcpu_sregs *old = &vv->sregs;

	/* A new address space for the guest's VPID-tagged TLB entries. */
	if (old->cr0 != sr->cr0 || old->cr3 != sr->cr3 ||
	    old->cr4 != sr->cr4 || old->efer != sr->efer)
		vv->vpid_flush = true;
	vv->sregs = *sr;
	vv->sregs_dirty = true;
	vv->sregs_stale = false;
}

/* ------------------------------------------------------------- events -- */

/*
 * SDM 24.8.3 and 26.2.1.3: the interruption type is Keel's enum event_type
 * already (0 external, 2 NMI, 3 hardware exception, 4 software interrupt).
 * An error code is delivered for exactly the exceptions that push one (#DF,
 * #TS, #NP, #SS, #GP, #PF, #AC) and never in real mode (CR0.PE=0 under
 * unrestricted guest): anything else fails the entry.
 */
uint32_t vmx_event(const struct vmx_vcpu *vv, uint8_t vector,
		   enum event_type type, bool has_error)
{
	uint32_t info = vector | ((uint32_t)type << INTR_INFO_TYPE_SHIFT) |
			INTR_INFO_VALID;
	bool pushes = vector == 8 || (vector >= 10 && vector <= 14) ||
		      vector == 17;

	if (type == EVENT_EXCEPTION && pushes && (vv->sregs.cr0 & CR0_PE))
		info |= INTR_INFO_DELIVER_CODE;
	(void)has_error;
	return info;
}

void vmx_inject(struct vmx_vcpu *vv, uint8_t vector, enum event_type type,
		bool has_error, uint32_t error_code)
{
	vmx_sregs_fresh(vv); /* CR0.PE decides the error code */
	vv->entry_intr_info = vmx_event(vv, vector, type, has_error);
	vv->entry_error = has_error ? error_code : 0;
	/* A software interrupt returns past its INT n: the length is the
	 * core's decoded one; Keel's core injects none today. */
	vv->entry_insn_len = 0;
}

/*
 * SDM 27.2.4 / 28.2.4: an exit during event delivery (EPT violation on the
 * IDT or stack, an interrupt arriving meanwhile) leaves the event in the
 * IDT-vectoring information; it is delivered again at the next entry. A
 * software interrupt or exception (INT n, INT3, INTO) is re-injected with
 * the exit's instruction length, which the CPU reports for exactly that
 * case, so it returns past the instruction.
 */
bool vmx_reinject_idt_vectoring(struct vmx_vcpu *vv, uint32_t info,
				uint32_t error, uint32_t insn_len)
{
	unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;

	if (!(info & INTR_INFO_VALID))
		return false;
	if (type == 1 || type == 7)
		return false; /* reserved, other event */
	vv->entry_intr_info = info & (INTR_INFO_VECTOR_MASK |
				      INTR_INFO_TYPE_MASK |
				      INTR_INFO_DELIVER_CODE |
				      INTR_INFO_VALID);
	vv->entry_error = info & INTR_INFO_DELIVER_CODE ? error : 0;
	vv->entry_insn_len = type >= INTR_TYPE_SOFT_INT ? insn_len : 0;
	return true;
}

bool vmx_can_inject_intr(const struct vmx_vcpu *vv)
{
	return (vv->rflags & RFLAGS_IF) &&
	       !(vv->interruptibility &
		 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
	       !(vv->entry_intr_info & INTR_INFO_VALID);
}

/* 24.6.2: interrupt-window exiting exits before the first instruction
 * at which RFLAGS.IF=1 and nothing blocks interrupts. */
void vmx_set_intr_window(struct vmx_vcpu *vv, bool on)
{
	uint32_t proc = on ? vv->proc | PROC_INTR_WINDOW_EXITING
			   : vv->proc & ~PROC_INTR_WINDOW_EXITING;

	if (proc != vv->proc) {
		vv->proc = proc;
		vv->proc_dirty = true;
	}
}
