/*
 * svm.c - the AMD-V backend's table (struct virt_backend) and what it does
 * with the hardware: SVM on each CPU (EFER.SVME, VM_HSAVE_PA, a host VMCB for
 * VMSAVE/VMLOAD), a VM's permission maps, a vCPU's VMCB, and the run loop.
 * Owns svm_cpus[] (each CPU touches only its own, with interrupts off).
 * The hot path (svm_vcpu_run) allocates nothing and takes no lock.
 */
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/cpu.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/vdev/vdev.h"
#include "kernel/virt/emulate.h"
#include "kernel/virt_detect.h"
#include "mm/mm.h"
#include "svm/svm.h"
#include "kernel/compiler.h"
#include "kernel/vdev/vdev.h"
#include "kernel/virt/fastpath.h"
#include "svm/svm_softc.h"

static struct svm_cpu svm_cpus[MAX_CPUS];

static inline void svm_vmsave(uint64_t pa)
{
	__asm__ volatile("vmsave %%rax" : : "a"(pa) : "memory");
}

/* ------------------------------------------------------------ per CPU -- */

/*
 * APM 15.4: EFER.SVME on, VM_HSAVE_PA pointing at a page where VMRUN keeps
 * the host's state. The state VMRUN does not keep (FS/GS/TR/LDTR and the
 * SYSCALL/SYSENTER MSRs, GS base being Keel's per-CPU pointer) is VMSAVE'd
 * once into a host VMCB and VMLOAD'ed after every exit: it does not change
 * after bring-up. The pages are kept for the life of the system.
 */
static int svm_cpu_enable(void)
{
	unsigned cpu = cpu_id();
	const struct virt_caps *caps = virt_caps_of(cpu);
	struct svm_cpu *sc = &svm_cpus[cpu];

	if (!caps || caps->kind != VIRT_SVM)
		return KEEL_ENOTSUP;
	if (!sc->hsave_pa)
		sc->hsave_pa = pmm_alloc_page(PMM_ZERO);
	if (!sc->host_vmcb_pa)
		sc->host_vmcb_pa = pmm_alloc_page(PMM_ZERO);
	if (!sc->hsave_pa || !sc->host_vmcb_pa)
		return KEEL_ENOMEM;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, sc->hsave_pa);
	svm_asid_pool_init(&sc->asid, caps->svm_nasid, caps->flush_by_asid);
	svm_vmsave(sc->host_vmcb_pa);
	sc->enabled = true;
	log_debug("svm: cpu %u enabled, ASIDs 1-%u, hsave %#llx", cpu,
		  sc->asid.max, (unsigned long long)sc->hsave_pa);
	return 0;
}

/* ------------------------------------------------------------- per VM -- */

static void svm_vm_free(struct svm_vm *svm)
{
	if (svm->iopm_pa)
		pmm_free(svm->iopm_pa, SVM_IOPM_ORDER);
	if (svm->msrpm_pa)
		pmm_free(svm->msrpm_pa, SVM_MSRPM_ORDER);
	kfree(svm);
}

static int svm_vm_init(struct vm *vm)
{
	struct svm_vm *svm = kzalloc(sizeof(*svm));

	if (!svm)
		return KEEL_ENOMEM;
	svm->iopm_pa = pmm_alloc(SVM_IOPM_ORDER, PMM_ZERO);
	svm->msrpm_pa = pmm_alloc(SVM_MSRPM_ORDER, PMM_ZERO);
	if (!svm->iopm_pa || !svm->msrpm_pa) {
		svm_vm_free(svm);
		return KEEL_ENOMEM;
	}
	svm_iopm_init(phys_to_virt(svm->iopm_pa));
	svm_msrpm_init(phys_to_virt(svm->msrpm_pa));
	vm->backend = svm;
	return 0;
}

static void svm_vm_destroy(struct vm *vm)
{
	if (vm->backend)
		svm_vm_free(vm->backend);
	vm->backend = NULL;
}

/* ----------------------------------------------------------- per vCPU -- */

static int svm_vcpu_create(struct vcpu *vcpu)
{
	struct svm_vm *svm = vcpu->vm->backend;
	const struct virt_caps *caps = virt_caps_of(0);
	uint32_t signature, b, c, d;
	struct svm_vcpu *sv;

	if (!svm)
		return KEEL_EINVAL;
	sv = kzalloc(sizeof(*sv));
	if (!sv)
		return KEEL_ENOMEM;
	sv->vmcb_pa = pmm_alloc_page(PMM_ZERO);
	if (!sv->vmcb_pa) {
		kfree(sv);
		return KEEL_ENOMEM;
	}
	sv->vmcb = phys_to_virt(sv->vmcb_pa);
	sv->vcpu = vcpu;
	sv->nrip_save = caps && caps->nrip_save;
	vmcb_init_control(sv->vmcb, svm->iopm_pa, svm->msrpm_pa,
			  vcpu->vm->npt.root);
	cpuid(1, 0, &signature, &b, &c, &d);
	vmcb_reset_state(sv, signature);
	vcpu->hw = sv;
	return 0;
}

static void svm_vcpu_destroy(struct vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->hw;

	if (!sv)
		return;
	pmm_free_page(sv->vmcb_pa);
	kfree(sv);
	vcpu->hw = NULL;
}

/*
 * The hottest exits, finished without leaving this loop: CPUID and the no-op
 * hypercall, answered from what the core computed before for this vCPU
 * (kernel/virt/fastpath.h). Anything unusual - a pending interrupt or stop
 * request, an answer or instruction length not known yet - goes the normal
 * way. Under QEMU's TCG every world switch flushes its TLB, so the fewer
 * code and data pages an exit touches, the cheaper it is.
 *
 * Called from svm_vmrun (svm_asm.S) right after #VMEXIT, with GIF=0 and the
 * guest's FS/GS/TR still loaded: no %gs (this_cpu), no locks, no logging.
 * Returns true to enter the guest again at once.
 */
__hot bool svm_fastpath(struct svm_vcpu *sv)
{
	struct vmcb *vmcb = sv->vmcb;
	struct vcpu *vcpu = sv->vcpu;
	uint32_t code = (uint32_t)vmcb->control.exit_code;
	uint64_t rip = vmcb->save.rip;
	unsigned len, mode = 8;
	uint32_t regs[4];

	if (code != VMCB_EXIT_CPUID && code != VMCB_EXIT_VMMCALL)
		return false;
	/* A flush asked for by another CPU (virt->flush) needs the slow
	 * entry, which consumes it (asid.c). */
	if (vcpu->pending_irq >= 0 || vdev_intr_work(vcpu) ||
	    vcpu->vm->stop_requested ||
	    vcpu->vm->pause_requested ||
	    __atomic_load_n(&sv->flush_pending, __ATOMIC_ACQUIRE))
		return false;
	if (sv->nrip_save) {
		len = (unsigned)(vmcb->control.next_rip - rip);
		if (len < 1 || len > 15)
			return false;
		mode = 0; /* next_rip is already the wrapped value */
	} else {
		len = vcpu_insn_len_cached(vcpu, rip, vmcb->save.cr3, &mode);
		if (!len)
			return false;
	}
	if (code == VMCB_EXIT_CPUID) {
		if (!vcpu_cpuid_cached(vcpu, (uint32_t)vmcb->save.rax,
				       (uint32_t)sv->gprs.rcx, regs))
			return false;
		vmcb->save.rax = regs[0];
		sv->gprs.rbx = regs[1];
		sv->gprs.rcx = regs[2];
		sv->gprs.rdx = regs[3];
		vcpu->exits[EXIT_CPUID]++;
	} else {
		if (vmcb->save.rax != 0) /* only hypercall 0, the no-op */
			return false;
		vcpu->exits[EXIT_VMCALL]++;
	}
	vmcb->save.rip = mode ? vcpu_rip_advance(rip, len, mode) :
				vmcb->control.next_rip;
	vcpu->exits_total++;
	/* The entry that led here delivered what EVENTINJ held (an exit
	 * during delivery would be an NPF/INTR, never CPUID or VMMCALL), and
	 * its TLB_CONTROL was done: neither may repeat on re-entry. The
	 * skipped instruction ended any STI/MOV SS shadow. */
	vmcb->control.event_inj = 0;
	vmcb->control.tlb_control = VMCB_TLB_NOTHING;
	vmcb->control.int_state &= ~VMCB_INT_STATE_SHADOW;
	return true;
}

/*
 * Enter the guest until an exit the core must see. Exits finished inside
 * (EXIT_NONE) loop here. A host interrupt that ended the guest (INTR) is
 * taken by irq_restore() below, before the exit is decoded: the scheduler
 * may switch threads there, which is fine, this is an ordinary thread.
 */
static __hot int svm_vcpu_run(struct vcpu *vcpu, struct vm_exit *exit)
{
	struct svm_vcpu *sv = vcpu->hw;
	struct vmcb_control *c = &sv->vmcb->control;

	for (;;) {
		uint64_t flags = irq_save();
		unsigned cpu = cpu_id();
		struct svm_cpu *sc = &svm_cpus[cpu];

		if (!sc->enabled) {
			irq_restore(flags);
			return KEEL_ENOTSUP;
		}
		/* The core may rebuild the nested tables (reset). */
		if (c->n_cr3 != vcpu->vm->npt.root) {
			c->n_cr3 = vcpu->vm->npt.root;
			svm_asid_request_flush(sv);
		}
		svm_asid_prepare(&sc->asid, cpu, sv);
		vcpu_fpu_load(vcpu);
		vcpu_xcr0_enter(vcpu);
		svm_vmrun(&sv->gprs, sv->vmcb_pa, sc->host_vmcb_pa);
		vcpu_xcr0_exit(vcpu);
		irq_restore(flags);


		svm_exit_decode(sv, exit);
		if (exit->reason != EXIT_NONE)
			return 0;
	}
}

static __hot void svm_get_regs(struct vcpu *vcpu, struct vcpu_regs *regs)
{
	vmcb_get_regs(vcpu->hw, regs);
}

static __hot void svm_set_regs(struct vcpu *vcpu, const struct vcpu_regs *regs)
{
	vmcb_set_regs(vcpu->hw, regs);
}

static __hot void svm_get_sregs(struct vcpu *vcpu, struct vcpu_sregs *sregs)
{
	vmcb_get_sregs(vcpu->hw, sregs);
}

static void svm_set_sregs(struct vcpu *vcpu, const struct vcpu_sregs *sregs)
{
	vmcb_set_sregs(vcpu->hw, sregs);
}

static void svm_inject_event(struct vcpu *vcpu, uint8_t vector,
			     enum event_type type, bool has_error,
			     uint32_t error_code)
{
	struct svm_vcpu *sv = vcpu->hw;

	vmcb_inject_event(sv->vmcb, vector, type, has_error, error_code);
}

static void svm_request_intr_window(struct vcpu *vcpu, bool on)
{
	struct svm_vcpu *sv = vcpu->hw;

	vmcb_set_intr_window(sv->vmcb, on);
}

static __hot bool svm_can_inject_intr(struct vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->hw;

	return vmcb_can_inject_intr(sv->vmcb);
}

/* From any CPU: each vCPU flushes at its next entry (asid.c). */
static void svm_flush(struct vm *vm)
{
	for (unsigned i = 0; i < vm->vcpu_count && i < VM_MAX_VCPUS; i++) {
		struct vcpu *vcpu = vm->vcpus[i];

		if (vcpu && vcpu->hw)
			svm_asid_request_flush(vcpu->hw);
	}
}

/* ------------------------------------- instruction length without NRIP -- */

struct svm_fetch_ctx {
	struct vm *vm;
	const struct vcpu_sregs *sregs;
};

static int svm_fetch_read_gpa(void *ctx, uint64_t gpa, uint64_t *val)
{
	struct svm_fetch_ctx *f = ctx;

	return gmem_read(f->vm, gpa, val, sizeof(*val));
}

/* Accessed bits of the guest's paging entries; like the CPU's own write
 * it cannot change ROM (gmem_write would). */
static int svm_fetch_write_gpa(void *ctx, uint64_t gpa, uint64_t val)
{
	struct svm_fetch_ctx *f = ctx;
	enum gmem_kind kind;

	if (!gmem_translate(f->vm, gpa, &kind) || kind != GMEM_RAM)
		return KEEL_ERANGE;
	return gmem_write(f->vm, gpa, &val, sizeof(val));
}

/* A fetch at a linear address: through the guest's tables page by page. */
static int svm_fetch(void *ctx, uint64_t gva, uint8_t *buf, unsigned len)
{
	struct svm_fetch_ctx *f = ctx;
	struct gwalk_ops walk = {
		.read_gpa = svm_fetch_read_gpa,
		.write_gpa = svm_fetch_write_gpa,
		.ctx = f,
	};
	unsigned access = GWALK_FETCH | (f->sregs->cpl == 3 ? GWALK_USER : 0);

	while (len) {
		unsigned chunk = PAGE_SIZE - (gva & (PAGE_SIZE - 1));
		uint64_t gpa;
		uint32_t pf;
		int err;

		if (chunk > len)
			chunk = len;
		if (gwalk_translate(&walk, f->sregs, gva, access, &gpa, &pf) !=
		    GWALK_OK)
			return KEEL_EINVAL;
		err = gmem_read(f->vm, gpa, buf, chunk);
		if (err)
			return err;
		gva += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static int svm_fetch_no_data(void *ctx, uint64_t gva, unsigned size,
			     uint64_t *val)
{
	return KEEL_EINVAL;
}

static int svm_fetch_no_write(void *ctx, uint64_t gva, unsigned size,
			      uint64_t val)
{
	return KEEL_EINVAL;
}

unsigned svm_guest_insn_len(struct svm_vcpu *sv)
{
	struct vcpu_regs regs;
	struct vcpu_sregs sregs;
	struct svm_fetch_ctx f = { .vm = sv->vcpu->vm, .sregs = &sregs };
	struct emu_ops ops = {
		.fetch = svm_fetch,
		.read = svm_fetch_no_data,
		.write = svm_fetch_no_write,
		.ctx = &f,
	};

	vmcb_get_regs(sv, &regs);
	vmcb_get_sregs(sv, &sregs);
	return emu_insn_len(&ops, &regs, &sregs);
}

/* ------------------------------------------------------------ the table -- */

const struct virt_backend svm_backend = {
	.name = "svm",
	.cpu_enable = svm_cpu_enable,
	.npt_format = &pt_format_npt,
	.vm_init = svm_vm_init,
	.vm_destroy = svm_vm_destroy,
	.vcpu_create = svm_vcpu_create,
	.vcpu_destroy = svm_vcpu_destroy,
	.vcpu_run = svm_vcpu_run,
	.get_regs = svm_get_regs,
	.set_regs = svm_set_regs,
	.get_sregs = svm_get_sregs,
	.set_sregs = svm_set_sregs,
	.inject_event = svm_inject_event,
	.request_intr_window = svm_request_intr_window,
	.flush = svm_flush,
	.can_inject_intr = svm_can_inject_intr,
};
