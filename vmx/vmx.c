/*
 * vmx.c - the Intel VT-x backend's table (struct virt_backend) and what it
 * does with the hardware (the twin of svm.c): VMX on each CPU
 * (IA32_FEATURE_CONTROL, CR0/CR4 fixed bits, VMXON), a VM's bitmaps, a
 * vCPU's VMCS and VPID, host state, INVEPT/INVVPID and the run loop.
 * Owns vmx_cpus[] (each CPU touches only its own, with interrupts off) and
 * the VPID bitmap (vmx_vpid_lock). The hot path allocates nothing.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/cpu.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/virt_detect.h"
#include "mm/mm.h"
#include "vmx/vmx.h"
#include "vmx/vmx_softc.h"

#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489

#define FEATURE_CONTROL_LOCK (1ull << 0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1ull << 2)

#define INVEPT_SINGLE 1
#define INVEPT_ALL 2
#define INVVPID_SINGLE 1
#define INVVPID_ALL 2

/*
 * The longest stay in the guest. With external-interrupt exiting a host
 * interrupt ends the guest whatever its RFLAGS.IF (SDM vol.3 25.2), and
 * that is how a vCPU thread gets preempted. Bochs 2.7 misses it when the
 * guest runs with IF=0: VM entry re-evaluates the interrupt mask before
 * the CPU counts as in the guest, so the host's IF=0 masks INTR until the
 * guest changes IF or exits, and a guest spinning with interrupts off
 * keeps its host CPU for ever (a second vCPU thread there never runs).
 * The VMX-preemption timer (25.5.1) ends every stay after this long on
 * any CPU; the host then takes what is pending.
 */
#define VMX_GUEST_STAY_NS 1000000ull /* 1 ms */

static struct vmx_cpu vmx_cpus[MAX_CPUS];

/* ------------------------------------------------ VMX instructions -- */

/* Each returns nonzero when the instruction failed (CF or ZF, 30.2). */
static int vmx_on(uint64_t pa)
{
	uint8_t fail;

	__asm__ volatile("vmxon %1; setna %0"
			 : "=qm"(fail)
			 : "m"(pa)
			 : "cc", "memory");
	return fail;
}

static int vmx_clear(uint64_t pa)
{
	uint8_t fail;

	__asm__ volatile("vmclear %1; setna %0"
			 : "=qm"(fail)
			 : "m"(pa)
			 : "cc", "memory");
	return fail;
}

static int vmx_ptrld(uint64_t pa)
{
	uint8_t fail;

	__asm__ volatile("vmptrld %1; setna %0"
			 : "=qm"(fail)
			 : "m"(pa)
			 : "cc", "memory");
	return fail;
}

static int vmx_invept(uint64_t type, uint64_t eptp)
{
	struct {
		uint64_t eptp, reserved;
	} desc = { eptp, 0 };
	uint8_t fail;

	__asm__ volatile("invept %1, %2; setna %0"
			 : "=qm"(fail)
			 : "m"(desc), "r"(type)
			 : "cc", "memory");
	return fail;
}

static int vmx_invvpid(uint64_t type, uint16_t vpid)
{
	struct {
		uint64_t vpid, gla;
	} desc = { vpid, 0 };
	uint8_t fail;

	__asm__ volatile("invvpid %1, %2; setna %0"
			 : "=qm"(fail)
			 : "m"(desc), "r"(type)
			 : "cc", "memory");
	return fail;
}

void vmx_host_nmi(void)
{
	__asm__ volatile("int $2" ::: "memory");
}

/* ------------------------------------------------------------ per CPU -- */

/* Appendix A: only the MSRs this CPU has (the others #GP). */
static void vmx_read_caps(struct vmx_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->pin = rdmsr(MSR_IA32_VMX_PINBASED_CTLS);
	c->proc = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit = rdmsr(MSR_IA32_VMX_EXIT_CTLS);
	c->entry = rdmsr(MSR_IA32_VMX_ENTRY_CTLS);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	if (c->basic & VMX_BASIC_TRUE_CTLS) {
		c->true_pin = rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
		c->true_proc = rdmsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
		c->true_exit = rdmsr(MSR_IA32_VMX_TRUE_EXIT_CTLS);
		c->true_entry = rdmsr(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	}
	if (c->proc & (1ull << 63)) {
		c->proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		if ((c->proc2 >> 32) & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
			c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
}

/*
 * SDM 23.7 (24.7 in newer editions): IA32_FEATURE_CONTROL must allow VMXON
 * outside SMX (firmware that leaves it unlocked, OVMF for one, leaves the
 * choice to us: lock it with the bit set); CR0 and CR4 must satisfy the
 * fixed bits (A.7, A.8), CR4.VMXE among them; VMXON takes a 4 KiB region
 * that starts with the VMCS revision identifier.
 */
static int vmx_cpu_enable(void)
{
	unsigned cpu = cpu_id();
	const struct virt_caps *vc = virt_caps_of(cpu);
	struct vmx_cpu *sc = &vmx_cpus[cpu];
	uint64_t fc, cr0, cr4;
	char why[96];
	int err;

	if (!vc || vc->kind != VIRT_VMX)
		return KEEL_ENOTSUP;
	vmx_read_caps(&sc->caps);
	err = vmx_controls_compute(&sc->caps, &sc->ctls, why, sizeof(why));
	if (err) {
		log_err("vmx: cpu %u: %s", cpu, why);
		return err;
	}
	if (cpu == 0)
		vmx_ept_format_init(&sc->ctls);

	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		fc |= FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
	} else if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) {
		log_err("vmx: cpu %u: IA32_FEATURE_CONTROL locked without VMX",
			cpu);
		return KEEL_ENOTSUP;
	}
	cr0 = (read_cr0() | sc->caps.cr0_fixed0) & sc->caps.cr0_fixed1;
	if (cr0 != read_cr0())
		write_cr0(cr0);
	cr4 = (read_cr4() | CR4_VMXE | sc->caps.cr4_fixed0) &
	      sc->caps.cr4_fixed1;
	write_cr4(cr4);

	if (!sc->vmxon_pa)
		sc->vmxon_pa = pmm_alloc_page(PMM_ZERO);
	if (!sc->vmxon_pa)
		return KEEL_ENOMEM;
	*(uint32_t *)phys_to_virt(sc->vmxon_pa) = sc->ctls.revision;
	if (vmx_on(sc->vmxon_pa)) {
		log_err("vmx: cpu %u: VMXON failed", cpu);
		return KEEL_EIO;
	}
	sc->current = NULL;
	sc->msr_owner = NULL;
	if (sc->ctls.preempt_timer) {
		uint64_t t = time_ns_to_tsc(VMX_GUEST_STAY_NS) >>
			     sc->ctls.preempt_rate;

		sc->preempt_ticks = !t ? 0xFFFFFFFFu /* no TSC rate yet */
			: t > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)t;
	}
	sc->enabled = true;
	log_debug("vmx: cpu %u enabled, VMCS revision %#x, controls pin %#x "
		  "proc %#x proc2 %#x exit %#x entry %#x", cpu,
		  sc->ctls.revision, sc->ctls.pin, sc->ctls.proc,
		  sc->ctls.proc2, sc->ctls.exit, sc->ctls.entry);
	return 0;
}

/* --------------------------------------------------------------- VPID -- */

/* One VPID per vCPU, 1-65535 (0 is the host's, 24.6.12). */
static struct spinlock vmx_vpid_lock;
static uint64_t vmx_vpid_map[65536 / 64];

static uint16_t vmx_vpid_alloc(void)
{
	uint64_t flags = spin_lock_irqsave(&vmx_vpid_lock);
	uint16_t vpid = 0;

	for (unsigned v = 1; v < 65536; v++) {
		if (!(vmx_vpid_map[v / 64] & (1ull << (v % 64)))) {
			vmx_vpid_map[v / 64] |= 1ull << (v % 64);
			vpid = (uint16_t)v;
			break;
		}
	}
	spin_unlock_irqrestore(&vmx_vpid_lock, flags);
	return vpid;
}

static void vmx_vpid_free(uint16_t vpid)
{
	uint64_t flags;

	if (!vpid)
		return;
	flags = spin_lock_irqsave(&vmx_vpid_lock);
	vmx_vpid_map[vpid / 64] &= ~(1ull << (vpid % 64));
	spin_unlock_irqrestore(&vmx_vpid_lock, flags);
}

/* ------------------------------------------------------------- per VM -- */

static void vmx_vm_free(struct vmx_vm *vx)
{
	if (vx->io_bitmap_pa)
		pmm_free(vx->io_bitmap_pa, VMX_IO_BITMAP_ORDER);
	if (vx->msr_bitmap_pa)
		pmm_free_page(vx->msr_bitmap_pa);
	kfree(vx);
}

static int vmx_vm_init(struct vm *vm)
{
	struct vmx_vm *vx = kzalloc(sizeof(*vx));

	if (!vx)
		return KEEL_ENOMEM;
	vx->io_bitmap_pa = pmm_alloc(VMX_IO_BITMAP_ORDER, PMM_ZERO);
	vx->msr_bitmap_pa = pmm_alloc_page(PMM_ZERO);
	if (!vx->io_bitmap_pa || !vx->msr_bitmap_pa) {
		vmx_vm_free(vx);
		return KEEL_ENOMEM;
	}
	vmx_io_bitmap_init(phys_to_virt(vx->io_bitmap_pa));
	vmx_msr_bitmap_init(phys_to_virt(vx->msr_bitmap_pa));
	vm->backend = vx;
	return 0;
}

static void vmx_vm_destroy(struct vm *vm)
{
	if (vm->backend)
		vmx_vm_free(vm->backend);
	vm->backend = NULL;
}

/* ----------------------------------------------------------- per vCPU -- */

static int vmx_vcpu_create(struct vcpu *vcpu)
{
	uint32_t signature, b, c, d;
	struct vmx_vcpu *vv;

	if (!vcpu->vm->backend)
		return KEEL_EINVAL;
	vv = kzalloc(sizeof(*vv));
	if (!vv)
		return KEEL_ENOMEM;
	vv->vmcs_pa = pmm_alloc_page(PMM_ZERO);
	if (!vv->vmcs_pa) {
		kfree(vv);
		return KEEL_ENOMEM;
	}
	vv->vmcs = phys_to_virt(vv->vmcs_pa);
	vv->vcpu = vcpu;
	vv->cpu = -1;
	vv->ctls = &vmx_cpus[0].ctls; /* until it runs on its own CPU */
	*(uint32_t *)vv->vmcs = vmx_cpus[0].ctls.revision;
	if (vmx_cpus[0].ctls.vpid) {
		vv->vpid = vmx_vpid_alloc();
		if (!vv->vpid) {
			pmm_free_page(vv->vmcs_pa);
			kfree(vv);
			return KEEL_ENOMEM;
		}
	}
	cpuid(1, 0, &signature, &b, &c, &d);
	vmx_reset_state(vv, signature);
	vcpu->hw = vv;
	return 0;
}

/* On the vCPU's CPU: write the VMCS back to memory (24.11.3) and forget
 * it there, so the page can be freed. */
static void vmx_vcpu_clear_here(void *arg)
{
	struct vmx_vcpu *vv = arg;
	struct vmx_cpu *sc = &vmx_cpus[cpu_id()];

	vmx_clear(vv->vmcs_pa);
	if (sc->current == vv)
		sc->current = NULL;
	if (sc->msr_owner == vv)
		sc->msr_owner = NULL;
}

static void vmx_vcpu_destroy(struct vcpu *vcpu)
{
	struct vmx_vcpu *vv = vcpu->hw;

	if (!vv)
		return;
	if (vv->cpu >= 0)
		xcall_run((unsigned)vv->cpu, vmx_vcpu_clear_here, vv);
	vmx_vpid_free(vv->vpid);
	pmm_free_page(vv->vmcs_pa);
	kfree(vv);
	vcpu->hw = NULL;
}

/* 27.5: what a VM exit loads; this CPU's own GDT, TSS and GS base. */
static int vmx_vmcs_host_state(struct vmx_vcpu *vv, struct vmx_cpu *sc,
			       unsigned cpu)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr, idtr;
	int bad = 0;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	bad |= vmcs_write(VMCS_HOST_CR0, read_cr0());
	bad |= vmcs_write(VMCS_HOST_CR3, read_cr3());
	bad |= vmcs_write(VMCS_HOST_CR4, read_cr4());
	bad |= vmcs_write(VMCS_HOST_CS_SEL, SEL_KCODE);
	bad |= vmcs_write(VMCS_HOST_SS_SEL, SEL_KDATA);
	bad |= vmcs_write(VMCS_HOST_DS_SEL, SEL_KDATA);
	bad |= vmcs_write(VMCS_HOST_ES_SEL, SEL_KDATA);
	bad |= vmcs_write(VMCS_HOST_FS_SEL, 0);
	bad |= vmcs_write(VMCS_HOST_GS_SEL, 0);
	bad |= vmcs_write(VMCS_HOST_TR_SEL, SEL_TSS);
	bad |= vmcs_write(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	bad |= vmcs_write(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	bad |= vmcs_write(VMCS_HOST_TR_BASE,
			  (uint64_t)&percpu_data[cpu].tss);
	bad |= vmcs_write(VMCS_HOST_GDTR_BASE, gdtr.base);
	bad |= vmcs_write(VMCS_HOST_IDTR_BASE, idtr.base);
	bad |= vmcs_write(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	bad |= vmcs_write(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	bad |= vmcs_write(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	bad |= vmcs_write(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
	if (sc->ctls.load_pat)
		bad |= vmcs_write(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	bad |= vmcs_write(VMCS_HOST_RIP, (uint64_t)vmx_vmexit_host_rip);
	vv->host_cr3 = read_cr3();
	return bad;
}

/* First run on its CPU: VMCLEAR (launch state "clear", 24.11.3), VMPTRLD,
 * every field. */
static int vmx_vcpu_load_first(struct vmx_vcpu *vv, struct vmx_cpu *sc,
			       unsigned cpu)
{
	struct vmx_vm *vx = vv->vcpu->vm->backend;

	vv->ctls = &sc->ctls;
	*(uint32_t *)vv->vmcs = sc->ctls.revision;
	if (vmx_clear(vv->vmcs_pa) || vmx_ptrld(vv->vmcs_pa))
		return KEEL_EIO;
	sc->current = vv;
	vv->cpu = (int)cpu;
	vv->launched = false;
	vv->eptp = vmx_eptp(vv->ctls, vv->vcpu->vm->npt.root);
	if (vmcs_setup(vv, vx->io_bitmap_pa, vx->msr_bitmap_pa) ||
	    vmx_vmcs_host_state(vv, sc, cpu))
		return KEEL_EIO;
	/* Every entry loads the timer from here; exits leave it alone
	 * ("save VMX-preemption timer value" is off, 27.3.4). */
	if (sc->ctls.preempt_timer &&
	    vmcs_write(VMCS_GUEST_PREEMPT_TIMER, sc->preempt_ticks))
		return KEEL_EIO;
	/* A recycled VPID may have entries of its last owner here. */
	vv->vpid_flush = true;
	return 0;
}

/* The syscall MSRs of whoever ran last here go back to it (rare: only
 * when vCPUs share a CPU). */
static void vmx_lazy_msrs_switch(struct vmx_cpu *sc, struct vmx_vcpu *vv)
{
	struct vmx_vcpu *old = sc->msr_owner;

	if (old == vv)
		return;
	if (old) {
		old->msrs.kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
		old->msrs.star = rdmsr(MSR_STAR);
		old->msrs.lstar = rdmsr(MSR_LSTAR);
		old->msrs.cstar = rdmsr(MSR_CSTAR);
		old->msrs.sfmask = rdmsr(MSR_SFMASK);
	}
	wrmsr(MSR_KERNEL_GS_BASE, vv->msrs.kernel_gs_base);
	wrmsr(MSR_STAR, vv->msrs.star);
	wrmsr(MSR_LSTAR, vv->msrs.lstar);
	wrmsr(MSR_CSTAR, vv->msrs.cstar);
	wrmsr(MSR_SFMASK, vv->msrs.sfmask);
	sc->msr_owner = vv;
}

/* Flushes asked for since the last entry (interrupts off, VMCS current). */
static void vmx_flush_prepare(struct vmx_vcpu *vv)
{
	const struct vmx_controls *c = vv->ctls;
	uint64_t eptp = vmx_eptp(c, vv->vcpu->vm->npt.root);
	bool ept_flush = __atomic_exchange_n(&vv->ept_flush, false,
					     __ATOMIC_ACQUIRE);

	/* The core may rebuild the nested tables (reset). */
	if (eptp != vv->eptp) {
		vv->eptp = eptp;
		vmcs_write(VMCS_EPT_POINTER, eptp);
		ept_flush = true;
	}
	if (ept_flush) {
		/* 28.3.3.1: single-context drops every mapping derived from
		 * this EPTP, guest-physical and combined, for all VPIDs. */
		if (c->invept_single)
			vmx_invept(INVEPT_SINGLE, eptp);
		else
			vmx_invept(INVEPT_ALL, 0);
	}
	if (vv->vpid_flush && c->vpid) {
		if (c->invvpid_single)
			vmx_invvpid(INVVPID_SINGLE, vv->vpid);
		else
			vmx_invvpid(INVVPID_ALL, 0);
	}
	vv->vpid_flush = false;
}

/*
 * Enter the guest until an exit the core must see. Exits finished inside
 * (EXIT_NONE) loop here. The exit is decoded before interrupts come back
 * on: another vCPU thread on this CPU could load its own VMCS meanwhile.
 * A host interrupt that ended the guest, or one pending when the
 * preemption timer did (VMX_GUEST_STAY_NS), is taken by irq_restore().
 */
static int vmx_vcpu_run(struct vcpu *vcpu, struct vm_exit *exit)
{
	struct vmx_vcpu *vv = vcpu->hw;

	for (;;) {
		uint64_t flags = irq_save();
		unsigned cpu = cpu_id();
		struct vmx_cpu *sc = &vmx_cpus[cpu];
		int rc, err = 0;

		if (!sc->enabled) {
			irq_restore(flags);
			return KEEL_ENOTSUP;
		}
		if (vv->cpu < 0)
			err = vmx_vcpu_load_first(vv, sc, cpu);
		else if (vv->cpu != (int)cpu)
			err = KEEL_EINVAL; /* vCPUs are pinned */
		else if (sc->current != vv) {
			if (vmx_ptrld(vv->vmcs_pa))
				err = KEEL_EIO;
			sc->current = vv;
		}
		if (err) {
			irq_restore(flags);
			return err;
		}
		/* Per VMCS: another vCPU's VMCS on this CPU keeps its own. */
		if (read_cr3() != vv->host_cr3) {
			vv->host_cr3 = read_cr3();
			vmcs_write(VMCS_HOST_CR3, vv->host_cr3);
		}
		vmx_lazy_msrs_switch(sc, vv);
		vmx_flush_prepare(vv);
		if (vmcs_sync_to_hw(vv)) {
			irq_restore(flags);
			vmx_entry_failed(vv, VMX_ENTER_FAIL_VALID,
					 (uint32_t)vmcs_read(
						 VMCS_VM_INSTRUCTION_ERROR),
					 exit);
			snprintf(exit->fail.why, sizeof(exit->fail.why),
				 "VMWRITE of the guest state failed");
			return 0;
		}
		if (read_cr2() != vv->gprs.cr2)
			write_cr2(vv->gprs.cr2);
		vcpu_fpu_load(vcpu);
		vcpu_xcr0_enter(vcpu);
		rc = vmx_vmenter(&vv->gprs, vv->launched);
		vcpu_xcr0_exit(vcpu);
		if (rc != VMX_ENTER_EXITED) {
			uint32_t e = rc == VMX_ENTER_FAIL_VALID
					     ? (uint32_t)vmcs_read(
						       VMCS_VM_INSTRUCTION_ERROR)
					     : 0;

			irq_restore(flags);
			vmx_entry_failed(vv, rc, e, exit);
			return 0;
		}
		vv->gprs.cr2 = read_cr2();
		vv->sregs.cr2 = vv->gprs.cr2;
		vv->launched = true;
		vmx_exit_decode(vv, exit);
		irq_restore(flags);
		if (exit->reason != EXIT_NONE)
			return 0;
	}
}

void vmx_sregs_fresh(struct vmx_vcpu *vv)
{
	uint64_t flags;
	struct vmx_cpu *sc;

	if (!vv->sregs_stale)
		return;
	flags = irq_save();
	sc = &vmx_cpus[cpu_id()];
	/* Only where the VMCS lives; elsewhere the last copy stands. */
	if (vv->cpu == (int)cpu_id()) {
		if (sc->current != vv && !vmx_ptrld(vv->vmcs_pa))
			sc->current = vv;
		if (sc->current == vv)
			vmcs_read_sregs(vv);
	}
	irq_restore(flags);
}

static void vmx_get_regs(struct vcpu *vcpu, struct vcpu_regs *regs)
{
	vmx_get_regs_sw(vcpu->hw, regs);
}

static void vmx_set_regs(struct vcpu *vcpu, const struct vcpu_regs *regs)
{
	vmx_set_regs_sw(vcpu->hw, regs);
}

static void vmx_get_sregs(struct vcpu *vcpu, struct vcpu_sregs *sregs)
{
	struct vmx_vcpu *vv = vcpu->hw;

	vmx_sregs_fresh(vv);
	*sregs = vv->sregs;
	sregs->cr2 = vv->gprs.cr2;
}

static void vmx_set_sregs(struct vcpu *vcpu, const struct vcpu_sregs *sregs)
{
	vmx_sregs_fresh(vcpu->hw); /* nothing of the VMCS may be lost */
	vmx_set_sregs_sw(vcpu->hw, sregs);
}

static void vmx_inject_event(struct vcpu *vcpu, uint8_t vector,
			     enum event_type type, bool has_error,
			     uint32_t error_code)
{
	vmx_inject(vcpu->hw, vector, type, has_error, error_code);
}

static void vmx_request_intr_window(struct vcpu *vcpu, bool on)
{
	vmx_set_intr_window(vcpu->hw, on);
}

static bool vmx_can_inject(struct vcpu *vcpu)
{
	return vmx_can_inject_intr(vcpu->hw);
}

/* From any CPU: each vCPU flushes at its next entry. */
static void vmx_flush(struct vm *vm)
{
	for (unsigned i = 0; i < vm->vcpu_count && i < VM_MAX_VCPUS; i++) {
		struct vcpu *vcpu = vm->vcpus[i];

		if (vcpu && vcpu->hw)
			__atomic_store_n(&((struct vmx_vcpu *)vcpu->hw)->ept_flush,
					 true, __ATOMIC_RELEASE);
	}
}

/* ------------------------------------------------------------ the table -- */

const struct virt_backend vmx_backend = {
	.name = "vmx",
	.cpu_enable = vmx_cpu_enable,
	.npt_format = &vmx_ept_format,
	.vm_init = vmx_vm_init,
	.vm_destroy = vmx_vm_destroy,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_destroy = vmx_vcpu_destroy,
	.vcpu_run = vmx_vcpu_run,
	.get_regs = vmx_get_regs,
	.set_regs = vmx_set_regs,
	.get_sregs = vmx_get_sregs,
	.set_sregs = vmx_set_sregs,
	.inject_event = vmx_inject_event,
	.request_intr_window = vmx_request_intr_window,
	.flush = vmx_flush,
	.can_inject_intr = vmx_can_inject,
};
