/*
 * exit.c - the one switch over the neutral exit kinds (struct vm_exit). Each
 * case either finishes the exit (skipping the instruction, injecting a fault
 * into the guest) or stops the VM with a reason. Nothing here allocates or
 * takes a lock; an exit Keel does not understand stops the VM and says what
 * it was.
 */
#include <string.h>

#include "kernel/compiler.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/vdev/vdev.h"
#include "kernel/virt/fastpath.h"
#include "kernel/virt/virt_internal.h"

#define RFLAGS_IF_BIT (1ULL << 9)
#define STRING_IO_MAX 4096 /* elements per exit; the rest on re-entry */

static const char *const exit_names[EXIT_REASON_COUNT] = {
	[EXIT_NONE] = "none",
	[EXIT_CPUID] = "cpuid",
	[EXIT_IO] = "io",
	[EXIT_MSR_READ] = "rdmsr",
	[EXIT_MSR_WRITE] = "wrmsr",
	[EXIT_NPF] = "npf",
	[EXIT_HLT] = "hlt",
	[EXIT_INTR_WINDOW] = "intr-window",
	[EXIT_EXTINT] = "extint",
	[EXIT_SHUTDOWN] = "shutdown",
	[EXIT_VMCALL] = "vmcall",
	[EXIT_INVD] = "invd",
	[EXIT_VIRT_INSN] = "virt-insn",
	[EXIT_ENTRY_FAILED] = "entry-failed",
	[EXIT_NMI] = "nmi",
	[EXIT_XSETBV] = "xsetbv",
	[EXIT_UNKNOWN] = "unknown",
};

void vcpu_dump(struct vcpu *vcpu)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	virt->get_regs(vcpu, &r);
	virt->get_sregs(vcpu, &s);
	log_err("vm %s vcpu %u: rip %#llx rsp %#llx rflags %#llx cs %04x(%#x) "
		"cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx", vcpu->vm->name,
		vcpu->id, (unsigned long long)r.rip, (unsigned long long)r.rsp,
		(unsigned long long)r.rflags, s.cs.sel, s.cs.attr,
		(unsigned long long)s.cr0, (unsigned long long)s.cr3,
		(unsigned long long)s.cr4, (unsigned long long)s.efer);
	log_err("vm %s vcpu %u: rax %#llx rbx %#llx rcx %#llx rdx %#llx rsi %#llx "
		"rdi %#llx rbp %#llx, %llu exits", vcpu->vm->name, vcpu->id,
		(unsigned long long)r.rax, (unsigned long long)r.rbx,
		(unsigned long long)r.rcx, (unsigned long long)r.rdx,
		(unsigned long long)r.rsi, (unsigned long long)r.rdi,
		(unsigned long long)r.rbp, (unsigned long long)vcpu->exits_total);
}

/* ------------------------------------------------------------ helpers -- */

static void insn_cache_fill(struct vcpu *vcpu, const struct vcpu_regs *r,
			    struct vcpu_sregs *s, unsigned len,
			    unsigned mode)
{
	typeof(vcpu->insn_cache) *c = &vcpu->insn_cache;
	uint64_t gva = emu_linear(s, mode, EMU_SEG_CS, r->rip), gpa, hpa;
	c->len = 0;
	/* Only an instruction that lies in one guest page, in RAM or ROM. */
	if ((gva & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
		return;
	if (guest_linear_to_gpa(vcpu, s, gva, &gpa))
		return;
	hpa = gmem_translate(vcpu->vm, gpa, NULL);
	if (!hpa)
		return;
	c->rip = r->rip;
	c->cr3 = s->cr3;
	c->hpa = hpa;
	c->mode = (uint8_t)mode;
	memcpy(c->bytes, phys_to_virt(hpa), len);
	c->len = (uint8_t)len;
}

/* Skip the exiting instruction: the hardware's length when it gave one,
 * else decode it (SVM without NRIP save). */
__hot static int skip_insn(struct vcpu *vcpu, struct vm_exit *exit,
		     struct vcpu_regs *r)
{
	unsigned len = exit->insn_len, mode = 8;

	if (!len) {
		struct vcpu_sregs s;

		virt->get_sregs(vcpu, &s);
		len = vcpu_insn_len_cached(vcpu, r->rip, s.cr3, &mode);
		if (!len) {
			struct guest_access ga;
			struct emu_ops ops;

			guest_access_init(&ga, vcpu, &s, &ops);
			len = emu_insn_len(&ops, r, &s);
			if (!len) {
				vm_fail(vcpu, VM_STOP_ERROR,
					"cannot decode the %s instruction at rip %#llx",
					exit_names[exit->reason],
					(unsigned long long)r->rip);
				return -1;
			}
			mode = emu_code_size(r, &s);
			insn_cache_fill(vcpu, r, &s, len, mode);
		}
	}
	/* IP, EIP or RIP, as the code size says (SDM vol.1 3.6). */
	r->rip = vcpu_rip_advance(r->rip, len, mode);
	return 0;
}

static void inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error,
			     uint32_t error)
{
	virt->inject_event(vcpu, vector, EVENT_EXCEPTION, has_error, error);
}

static void inject_fault(struct vcpu *vcpu, const struct emu_fault *f)
{
	if (f->vector == 14) {
		struct vcpu_sregs s;
		virt->get_sregs(vcpu, &s);
		s.cr2 = f->cr2;
		virt->set_sregs(vcpu, &s);
	}
	inject_exception(vcpu, f->vector, f->has_error, f->error);
}

/* ------------------------------------------------------------ handlers -- */

__hot static int exit_cpuid(struct vcpu *vcpu, struct vm_exit *exit)
{
	struct vcpu_regs r;
	uint32_t regs[4];

	virt->get_regs(vcpu, &r);
	cpuid_guest_view(vcpu, (uint32_t)r.rax, (uint32_t)r.rcx, regs);
	vcpu_cpuid_remember(vcpu, (uint32_t)r.rax, (uint32_t)r.rcx, regs);
	r.rax = regs[0];
	r.rbx = regs[1];
	r.rcx = regs[2];
	r.rdx = regs[3];
	if (skip_insn(vcpu, exit, &r))
		return 1;
	virt->set_regs(vcpu, &r);
	return 0;
}

__hot static uint32_t io_mask(uint8_t size)
{
	return size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

__hot static int pio(struct vcpu *vcpu, uint16_t port, uint8_t size, bool in,
	       uint32_t *val)
{
	int err = vm_pio_dispatch(vcpu, port, size, in, val);

	if (err == KEEL_ENOENT) {
		/* Nothing there: the ISA bus floats high, writes vanish. */
		if (in)
			*val = io_mask(size);
		return 0;
	}
	if (err)
		vm_fail(vcpu, VM_STOP_ERROR, "device at port %#x failed: %s", port,
			err_str(err));
	return err;
}

/* INS/OUTS: the element count, addresses and segment come from decoding the
 * instruction (the exit information is not reliable under every emulator). */
static int exit_string_io(struct vcpu *vcpu, struct vm_exit *exit,
			  struct vcpu_regs *r)
{
	struct vcpu_sregs s;
	struct guest_access ga;
	struct emu_ops ops;
	struct emu_insn insn;

	virt->get_sregs(vcpu, &s);
	guest_access_init(&ga, vcpu, &s, &ops);
	int err = emu_decode(&ops, r, &s, &insn, &ga.fault);
	if (err == EMU_FAULT) {
		inject_fault(vcpu, &ga.fault);
		return 0;
	}
	if (err) {
		vm_fail(vcpu, VM_STOP_ERROR, "undecodable string I/O at rip %#llx",
			(unsigned long long)r->rip);
		return 1;
	}
	uint64_t amask = insn.addr_size == 8 ? ~0ULL :
			 insn.addr_size == 4 ? 0xFFFFFFFFULL : 0xFFFFULL;
	uint64_t count = insn.rep ? (r->rcx & amask) : 1;
	bool in = exit->io.in;
	uint8_t size = exit->io.size;
	int64_t step = (r->rflags & (1ULL << 10)) ? -(int64_t)size : size;
	/* OUTS reads DS:rSI (segment override allowed), INS writes ES:rDI. */
	int seg = in ? EMU_SEG_ES : insn.seg >= 0 ? insn.seg : EMU_SEG_DS;
	unsigned mode = emu_code_size(r, &s);
	uint64_t done = 0;

	while (done < count && done < STRING_IO_MAX) {
		uint64_t *idx = in ? &r->rdi : &r->rsi;
		uint64_t gva = emu_linear(&s, mode, seg, *idx & amask);
		uint32_t val = 0;

		if (in) {
			if (pio(vcpu, exit->io.port, size, true, &val))
				return 1;
			err = guest_linear_rw(&ga, gva, &val, size, true);
		} else {
			err = guest_linear_rw(&ga, gva, &val, size, false);
			if (!err && pio(vcpu, exit->io.port, size, false, &val))
				return 1;
		}
		if (err == EMU_FAULT) {
			virt->set_regs(vcpu, r);
			inject_fault(vcpu, &ga.fault);
			return 0;
		}
		if (err) {
			vm_fail(vcpu, VM_STOP_BAD_ACCESS,
				"string I/O at rip %#llx touched gpa %#llx, which is "
				"neither RAM nor a device", (unsigned long long)r->rip,
				(unsigned long long)ga.bad_gpa);
			return 1;
		}
		*idx = (*idx & ~amask) | ((*idx + step) & amask);
		done++;
		if (insn.rep)
			r->rcx = (r->rcx & ~amask) | ((r->rcx - 1) & amask);
	}
	if (done == count) {
		r->rip += insn.len;
		if (mode != 8)
			r->rip &= mode == 2 ? 0xFFFF : 0xFFFFFFFF;
	}
	virt->set_regs(vcpu, r);
	return 0;
}

__hot static int exit_io(struct vcpu *vcpu, struct vm_exit *exit)
{
	struct vcpu_regs r;
	uint8_t size = exit->io.size;

	virt->get_regs(vcpu, &r);
	if (exit->io.string)
		return exit_string_io(vcpu, exit, &r);
	uint32_t val = (uint32_t)r.rax & io_mask(size);
	if (pio(vcpu, exit->io.port, size, exit->io.in, &val))
		return 1;
	if (vcpu->vm->stop_requested)
		return 1; /* the device ended the VM (test device, debug exit) */
	if (exit->io.in) {
		if (size == 4)
			r.rax = val; /* a 32-bit destination zero-extends */
		else
			r.rax = (r.rax & ~(uint64_t)io_mask(size)) |
				(val & io_mask(size));
	}
	if (skip_insn(vcpu, exit, &r))
		return 1;
	virt->set_regs(vcpu, &r);
	return 0;
}

__hot static int exit_msr(struct vcpu *vcpu, struct vm_exit *exit)
{
	struct vcpu_regs r;
	uint32_t index = exit->msr.index;

	virt->get_regs(vcpu, &r);
	if (exit->reason == EXIT_MSR_READ) {
		uint64_t val;
		if (vmsr_read(vcpu, index, &val)) {
			inject_exception(vcpu, 13, true, 0);
			return 0;
		}
		r.rax = (uint32_t)val;
		r.rdx = val >> 32;
	} else {
		uint64_t val = (uint32_t)r.rax | (r.rdx << 32);
		if (vmsr_write(vcpu, index, val)) {
			inject_exception(vcpu, 13, true, 0);
			return 0;
		}
	}
	if (skip_insn(vcpu, exit, &r))
		return 1;
	virt->set_regs(vcpu, &r);
	return 0;
}

static const char *access_name(bool write, bool fetch)
{
	return fetch ? "fetch" : write ? "write" : "read";
}

/* A nested page fault: a device's MMIO (emulate the instruction), a write to
 * ROM (emulate and drop it), or a bad access (stop the VM). */
static int exit_npf(struct vcpu *vcpu, struct vm_exit *exit)
{
	struct vm *vm = vcpu->vm;
	uint64_t gpa = exit->npf.gpa;
	enum gmem_kind kind;
	bool is_ram = gmem_translate(vm, gpa, &kind) != 0;
	bool is_mmio = false;

	for (unsigned i = 0; i < vm->mmio_count; i++)
		if (gpa - vm->mmio[i].base < vm->mmio[i].len)
			is_mmio = true;
	if (!is_mmio && !(is_ram && kind == GMEM_ROM && exit->npf.write)) {
		struct vcpu_regs r;
		virt->get_regs(vcpu, &r);
		vm_fail(vcpu, VM_STOP_BAD_ACCESS,
			"%s of gpa %#llx%s at rip %#llx: neither RAM nor a device",
			access_name(exit->npf.write, exit->npf.fetch),
			(unsigned long long)gpa,
			exit->npf.in_guest_walk ? " (guest page walk)" : "",
			(unsigned long long)r.rip);
		return 1;
	}

	struct vcpu_regs r;
	struct vcpu_sregs s;
	struct guest_access ga;
	struct emu_ops ops;

	virt->get_regs(vcpu, &r);
	virt->get_sregs(vcpu, &s);
	guest_access_init(&ga, vcpu, &s, &ops);
	/* The callbacks and the emulator report faults in the same place. */
	int st = emu_execute(&ops, &r, &s, &ga.fault);
	switch (st) {
	case EMU_OK:
	case EMU_RETRY:
		virt->set_regs(vcpu, &r);
		return vm->stop_requested ? 1 : 0;
	case EMU_FAULT:
		inject_fault(vcpu, &ga.fault);
		return 0;
	case EMU_UNHANDLED:
		vm_fail(vcpu, VM_STOP_ERROR,
			"%s of MMIO gpa %#llx at rip %#llx by an instruction Keel "
			"does not emulate", access_name(exit->npf.write, false),
			(unsigned long long)gpa, (unsigned long long)r.rip);
		return 1;
	default:
		if (ga.bad)
			vm_fail(vcpu, VM_STOP_BAD_ACCESS,
				"%s of gpa %#llx at rip %#llx: neither RAM nor a device",
				access_name(ga.bad_write, false),
				(unsigned long long)ga.bad_gpa,
				(unsigned long long)r.rip);
		else if (!vm->stop_requested)
			vm_fail(vcpu, VM_STOP_ERROR,
				"device error on MMIO gpa %#llx at rip %#llx",
				(unsigned long long)gpa, (unsigned long long)r.rip);
		return 1;
	}
}

/* Whether a halted vCPU has a reason to run again (SDM vol.3 8.2? HLT:
 * an unmasked interrupt, NMI, INIT or SIPI). */
static bool hlt_wakes(struct vcpu *vcpu, bool can_wake)
{
	if (vcpu->nmi_pending || vcpu->init_pending)
		return true;
	return can_wake &&
	       (vcpu->pending_irq >= 0 || vdev_intr_pending(vcpu) >= 0);
}

/* HLT: wait until an interrupt can wake the vCPU. A vCPU halted with
 * interrupts off and nothing pending can never wake but by another vCPU's
 * NMI or INIT: when every vCPU of the VM is in that state (or waits for a
 * SIPI) the VM is stopped as "halted". */
static int exit_hlt(struct vcpu *vcpu, struct vm_exit *exit)
{
	struct vm *vm = vcpu->vm;
	struct vcpu_regs r;

	virt->get_regs(vcpu, &r);
	if (skip_insn(vcpu, exit, &r))
		return 1;
	virt->set_regs(vcpu, &r);
	bool can_wake = r.rflags & RFLAGS_IF_BIT;

	vcpu->halted = true;
	for (;;) {
		uint64_t now = time_ns();
		uint64_t deadline = vdev_timer_poll(vcpu, now);
		__atomic_store_n(&vcpu->intr_work, 0, __ATOMIC_RELEASE);
		if (vm->stop_requested || vm->pause_requested)
			break;
		if (hlt_wakes(vcpu, can_wake))
			break;
		if (!can_wake && !deadline) {
			if (vcpu_wait_dead(vcpu, r.rip)) {
				vcpu->halted = false;
				return 1;
			}
			continue;
		}
		/* A kick (thread_wake) after the checks above is not lost:
		 * both waits return at once for a wake that came before. */
		if (deadline)
			thread_block_timeout(deadline > now ? deadline - now : 1);
		else
			thread_block();
	}
	vcpu->halted = false;
	return vm->stop_requested ? 1 : 0;
}

/* Wait while nothing but another vCPU (INIT, NMI, SIPI) or Keel (stop,
 * pause) can make this one run. 1 when the whole VM is stuck so and was
 * stopped as "halted". */
int vcpu_wait_dead(struct vcpu *vcpu, uint64_t rip)
{
	struct vm *vm = vcpu->vm;
	unsigned dead = __atomic_add_fetch(&vm->vcpus_dead_halted, 1,
					   __ATOMIC_SEQ_CST);

	if (dead == vm->vcpus_running) {
		vm_fail(vcpu, VM_STOP_HALTED,
			"every vcpu halted with interrupts off at rip %#llx",
			(unsigned long long)rip);
		__atomic_sub_fetch(&vm->vcpus_dead_halted, 1, __ATOMIC_SEQ_CST);
		return 1;
	}
	while (!vm->stop_requested && !vm->pause_requested &&
	       !vcpu->nmi_pending && !vcpu->init_pending &&
	       !(vcpu->mp_state == VCPU_MP_WAIT_SIPI && vcpu->sipi_vector >= 0)) {
		__atomic_store_n(&vcpu->intr_work, 0, __ATOMIC_RELEASE);
		if (vcpu->nmi_pending || vcpu->init_pending ||
		    (vcpu->mp_state == VCPU_MP_WAIT_SIPI && vcpu->sipi_vector >= 0))
			break;
		thread_block();
	}
	__atomic_sub_fetch(&vm->vcpus_dead_halted, 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* Inject what the vCPU should take next if the guest can take it, else ask
 * for the window; arm a host timer for the vCPU's next virtual timer.
 * Called before every entry. One event per entry: NMI first, then the test
 * device's line, then the local APIC or the PIC. */
__hot void vcpu_deliver_irq(struct vcpu *vcpu)
{
	uint64_t next = vdev_timer_poll(vcpu, time_ns());
	bool want = false;

	thread_timer_at(next);
	__atomic_store_n(&vcpu->intr_work, 0, __ATOMIC_RELEASE);
	if (vcpu->nmi_pending) {
		if (virt->can_inject_intr(vcpu)) {
			vcpu->nmi_pending = false;
			virt->inject_event(vcpu, 2, EVENT_NMI, false, 0);
		} else {
			want = true;
		}
	} else if (vcpu->pending_irq >= 0 || vdev_intr_pending(vcpu) >= 0) {
		if (virt->can_inject_intr(vcpu)) {
			int vector = vcpu->pending_irq;
			if (vector >= 0)
				vcpu->pending_irq = -1;
			else
				vector = vdev_intr_take(vcpu);
			if (vector >= 0)
				virt->inject_event(vcpu, (uint8_t)vector,
						   EVENT_EXTINT, false, 0);
			/* Another may be waiting behind it. */
			if (vcpu->pending_irq >= 0 || vdev_intr_pending(vcpu) >= 0)
				want = true;
		} else {
			want = true;
		}
	}
	if (want != vcpu->intr_window_requested) {
		virt->request_intr_window(vcpu, want);
		vcpu->intr_window_requested = want;
	}
}

__hot static int exit_vmcall(struct vcpu *vcpu, struct vm_exit *exit)
{
	struct vcpu_regs r;

	virt->get_regs(vcpu, &r);
	/* Hypercall 0 is a no-op (benchmarks); others are unknown, answered
	 * with -1000 as KVM answers unknown hypercalls (-KVM_ENOSYS). */
	r.rax = r.rax == 0 ? 0 : (uint64_t)-1000;
	if (skip_insn(vcpu, exit, &r))
		return 1;
	virt->set_regs(vcpu, &r);
	return 0;
}

/* XSETBV: the guest's XCR0, checked (fpu.c); #GP for a value a CPU would
 * refuse. CPL and CR4.OSXSAVE are checked by the CPU before the exit. */
static int exit_xsetbv(struct vcpu *vcpu, struct vm_exit *exit)
{
	struct vcpu_regs r;

	virt->get_regs(vcpu, &r);
	if (vcpu_xcr0_set(vcpu, (uint32_t)r.rcx,
			  (uint32_t)r.rax | (r.rdx << 32))) {
		inject_exception(vcpu, 13, true, 0);
		return 0;
	}
	if (skip_insn(vcpu, exit, &r))
		return 1;
	virt->set_regs(vcpu, &r);
	return 0;
}

static int exit_skip(struct vcpu *vcpu, struct vm_exit *exit)
{
	struct vcpu_regs r;

	virt->get_regs(vcpu, &r);
	if (skip_insn(vcpu, exit, &r))
		return 1;
	virt->set_regs(vcpu, &r);
	return 0;
}

__hot int virt_handle_exit(struct vcpu *vcpu, struct vm_exit *exit)
{
	struct vcpu_regs r;

	switch (exit->reason) {
	case EXIT_NONE:
	case EXIT_EXTINT:
	case EXIT_NMI:
		return vcpu->vm->stop_requested;
	case EXIT_CPUID:
		return exit_cpuid(vcpu, exit);
	case EXIT_IO:
		return exit_io(vcpu, exit);
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
		return exit_msr(vcpu, exit);
	case EXIT_NPF:
		return exit_npf(vcpu, exit);
	case EXIT_HLT:
		return exit_hlt(vcpu, exit);
	case EXIT_INTR_WINDOW:
		vcpu->intr_window_requested = false;
		return 0; /* vcpu_deliver_irq injects before the next entry */
	case EXIT_VMCALL:
		return exit_vmcall(vcpu, exit);
	case EXIT_INVD:
		return exit_skip(vcpu, exit);
	case EXIT_XSETBV:
		return exit_xsetbv(vcpu, exit);
	case EXIT_VIRT_INSN:
		inject_exception(vcpu, 6, false, 0); /* #UD: no nested virt */
		return 0;
	case EXIT_SHUTDOWN:
		virt->get_regs(vcpu, &r);
		vm_fail(vcpu, VM_STOP_TRIPLE_FAULT, "vcpu %u at rip %#llx", vcpu->id,
			(unsigned long long)r.rip);
		return 1;
	case EXIT_ENTRY_FAILED:
		vm_fail(vcpu, VM_STOP_ENTRY_FAILED, "vcpu %u: code %#llx: %s",
			vcpu->id, (unsigned long long)exit->fail.code,
			exit->fail.why);
		return 1;
	case EXIT_UNKNOWN:
	default:
		virt->get_regs(vcpu, &r);
		vm_fail(vcpu, VM_STOP_ERROR,
			"unhandled exit %#llx (info %#llx %#llx) at rip %#llx",
			(unsigned long long)exit->unknown.code,
			(unsigned long long)exit->unknown.info1,
			(unsigned long long)exit->unknown.info2,
			(unsigned long long)r.rip);
		return 1;
	}
}
