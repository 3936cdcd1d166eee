/*
 * vm.c - VMs and their vCPUs: creation (memory, devices, backend contexts),
 * a thread per vCPU pinned to a host CPU, the run loop, and the lifecycle
 * calls (start, pause, resume, reset, stop, destroy) the management agent
 * uses. The exit handling itself is in exit.c.
 *
 * Lock order: vm_list_lock, then vm->lock. A vCPU thread never takes either
 * on the exit path; it reads the volatile request flags.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/compiler.h"
#include "kernel/apic.h"
#include "kernel/cpu.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/vdev/vdev.h"
#include "kernel/virt/virt.h"
#include "kernel/virt/virt_internal.h"
#include "kernel/virt_detect.h"
#include "svm/svm.h"
#include "vmx/vmx.h"

const struct virt_backend *virt;

static struct spinlock vm_list_lock = SPINLOCK_INIT;
static struct vm *vm_list[VM_MAX];
static unsigned vm_next_id = 1;
static unsigned vm_next_cpu; /* round-robin placement of vCPU threads */

static const char *const stop_names[] = {
	[VM_STOP_NONE] = "none",
	[VM_STOP_POWEROFF] = "poweroff",
	[VM_STOP_RESET] = "reset",
	[VM_STOP_TRIPLE_FAULT] = "triple-fault",
	[VM_STOP_BAD_ACCESS] = "bad-access",
	[VM_STOP_ENTRY_FAILED] = "entry-failed",
	[VM_STOP_HALTED] = "halted",
	[VM_STOP_EXIT] = "exit",
	[VM_STOP_ERROR] = "error",
};

const char *vm_stop_reason_name(enum vm_stop_reason r)
{
	return (unsigned)r < sizeof(stop_names) / sizeof(stop_names[0]) ?
		       stop_names[r] : "?";
}

const char *vm_state_name(enum vm_state s)
{
	switch (s) {
	case VM_CREATED: return "created";
	case VM_RUNNING: return "running";
	case VM_PAUSED: return "paused";
	case VM_STOPPED: return "stopped";
	}
	return "?";
}

/* ------------------------------------------------------------ backend -- */

static void virt_enable_cpu(void *arg)
{
	int *err = arg;
	int e = virt->cpu_enable();
	if (e)
		__atomic_store_n(err, e, __ATOMIC_SEQ_CST);
}

int virt_init(void)
{
	enum virt_kind kind = virt_caps_of(0)->kind;
	int err = 0;

	for (unsigned c = 1; c < MAX_CPUS; c++)
		if (percpu_data[c].online && virt_caps_of(c)->kind != kind)
			kind = VIRT_NONE;
	if (kind == VIRT_SVM)
		virt = &svm_backend;
	else if (kind == VIRT_VMX)
		virt = &vmx_backend;
	if (!virt)
		return KEEL_ENOTSUP;
	xcall_all(virt_enable_cpu, &err);
	if (err) {
		log_err("virt: enabling %s failed: %s", virt->name, err_str(err));
		virt = NULL;
		return err;
	}
	log_info("virt: %s backend enabled on %u cpu(s)", virt->name,
		 cpu_count_online);
	return 0;
}

/* ------------------------------------------------------------ console -- */

#define CONSOLE_LINES_PER_S 50
#define CONSOLE_LINE_BURST 200
#define CONSOLE_LINE_NS (1000000000ULL / CONSOLE_LINES_PER_S)

static void vm_console_flush_suppressed(struct vm *vm)
{
	if (vm->lines_suppressed) {
		kprint_line("[%s] (%llu lines not shown: more than %u a second; "
			    "the VM's console buffer has them)", vm->name,
			    (unsigned long long)vm->lines_suppressed,
			    CONSOLE_LINES_PER_S);
		vm->lines_suppressed = 0;
	}
}

/* One line of guest output to Keel's console, unless the VM is over its
 * rate (CONSOLE_LINES_PER_S, bursts of CONSOLE_LINE_BURST). */
static void vm_console_line(struct vm *vm)
{
	uint64_t now = time_ns();
	uint64_t cap = CONSOLE_LINE_BURST * CONSOLE_LINE_NS;

	if (!vm->line_last_ns)
		vm->line_tokens_ns = cap;
	else
		vm->line_tokens_ns += now - vm->line_last_ns;
	if (vm->line_tokens_ns > cap)
		vm->line_tokens_ns = cap;
	vm->line_last_ns = now;
	if (vm->line_tokens_ns < CONSOLE_LINE_NS) {
		vm->lines_suppressed++;
		return;
	}
	vm->line_tokens_ns -= CONSOLE_LINE_NS;
	vm_console_flush_suppressed(vm);
	kprint_line("[%s] %s", vm->name, vm->line);
}


static void vm_console_putc_locked(struct vm *vm, char c)
{
	vm->console[vm->console_written % VM_CONSOLE_SIZE] = c;
	vm->console_written++;
	if (c == '\r')
		return;
	if (c == '\n' || vm->line_len == sizeof(vm->line) - 1) {
		vm->line[vm->line_len] = 0;
		vm_console_line(vm);
		vm->line_len = 0;
		if (c == '\n')
			return;
	}
	/* Control characters would garble Keel's console: show them as '.' */
	vm->line[vm->line_len++] = (c >= 0x20 && c < 0x7F) || c == '\t' ? c : '.';
}

void vm_console_putc(struct vm *vm, char c)
{
	uint64_t flags = spin_lock_irqsave(&vm->console_lock);
	vm_console_putc_locked(vm, c);
	spin_unlock_irqrestore(&vm->console_lock, flags);
}

/* --------------------------------------------------------------- stop -- */

/* Make every vCPU thread look at the request flags: a halted or paused one
 * waits in thread_block; one in the guest leaves it at the next host
 * interrupt, which the IPI provides. Under vm->lock, so a thread that has
 * finished (thread == NULL) is never touched. */
void vm_kick_all(struct vm *vm)
{
	uint64_t flags = spin_lock_irqsave(&vm->lock);

	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (!v->thread)
			continue;
		thread_wake(v->thread);
		if (v->host_cpu != cpu_id() && percpu_data[v->host_cpu].online)
			lapic_send_ipi(percpu_data[v->host_cpu].apic_id,
				       VEC_RESCHED);
	}
	spin_unlock_irqrestore(&vm->lock, flags);
}

void vcpu_kick(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	uint64_t flags = spin_lock_irqsave(&vm->lock);

	if (vcpu->thread) {
		thread_wake(vcpu->thread);
		if (vcpu->host_cpu != cpu_id() &&
		    percpu_data[vcpu->host_cpu].online)
			lapic_send_ipi(percpu_data[vcpu->host_cpu].apic_id,
				       VEC_RESCHED);
	}
	spin_unlock_irqrestore(&vm->lock, flags);
}

int vm_stop(struct vm *vm, enum vm_stop_reason why, const char *detail)
{
	uint64_t flags = spin_lock_irqsave(&vm->lock);

	if (vm->state == VM_STOPPED) {
		spin_unlock_irqrestore(&vm->lock, flags);
		return KEEL_EINVAL;
	}
	if (vm->stop_reason == VM_STOP_NONE) { /* the first reason wins */
		vm->stop_reason = why;
		strlcpy(vm->stop_detail, detail ? detail : "",
			sizeof(vm->stop_detail));
	}
	vm->stop_requested = true;
	if (vm->state == VM_CREATED) /* never started: no thread to finish it */
		vm->state = VM_STOPPED;
	spin_unlock_irqrestore(&vm->lock, flags);
	vm_kick_all(vm);
	return 0;
}

void vm_fail(struct vcpu *vcpu, enum vm_stop_reason why, const char *fmt, ...)
{
	char detail[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (why == VM_STOP_ENTRY_FAILED || why == VM_STOP_ERROR ||
	    why == VM_STOP_TRIPLE_FAULT || why == VM_STOP_BAD_ACCESS)
		vcpu_dump(vcpu);
	vm_stop(vcpu->vm, why, detail);
}

/* ---------------------------------------------------------- vCPU thread -- */

static void vcpu_finish(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	uint64_t flags = spin_lock_irqsave(&vm->lock);
	bool last = --vm->vcpus_running == 0;

	vcpu->thread = NULL; /* from here on nobody may wake it */
	vcpu_fpu_release(vcpu);

	if (last)
		vm->state = VM_STOPPED;
	spin_unlock_irqrestore(&vm->lock, flags);
	if (!last)
		return;
	if (vm->stop_reason == VM_STOP_NONE)
		vm->stop_reason = VM_STOP_POWEROFF;
	uint64_t cflags = spin_lock_irqsave(&vm->console_lock);
	vm_console_flush_suppressed(vm);
	if (vm->line_len) { /* a last line without its newline */
		vm->line[vm->line_len] = 0;
		kprint_line("[%s] %s", vm->name, vm->line);
		vm->line_len = 0;
	}
	spin_unlock_irqrestore(&vm->console_lock, cflags);
	kprint_line("keel: vm %s stopped reason=%s%s%s", vm->name,
		    vm_stop_reason_name(vm->stop_reason),
		    vm->stop_detail[0] ? " " : "", vm->stop_detail);
	completion_done(&vm->done);
}

static void vcpu_wait_while_paused(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	__atomic_add_fetch(&vm->vcpus_parked, 1, __ATOMIC_SEQ_CST);
	while (vm->pause_requested && !vm->stop_requested)
		thread_block();
	__atomic_sub_fetch(&vm->vcpus_parked, 1, __ATOMIC_SEQ_CST);
}

/* EDX after RESET and INIT: the processor signature (CPUID 1 EAX). */
static uint32_t vcpu_signature(struct vcpu *vcpu)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return a;
}

/* INIT (SDM vol.3 9.1.1, table 9-1): the processor state of RESET, but for
 * the MSRs, caches and the local APIC's id and base; then wait for SIPI. */
static void vcpu_do_init(struct vcpu *vcpu)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	vcpu->init_pending = false;
	vcpu->nmi_pending = false;
	vcpu->pending_irq = -1;
	vcpu_reset_state(&r, &s, vcpu_signature(vcpu));
	virt->set_sregs(vcpu, &s);
	virt->set_regs(vcpu, &r);
	vdev_lapic_init_ipi(vcpu);
	/* mp_state and sipi_vector were set when the INIT was delivered
	 * (kernel/vdev/irq.c); a SIPI may already be waiting. */
}

/* Wait for the start-up IPI, then begin in real mode at vector * 4 KiB
 * (SDM vol.3 9.4.4.1: CS selector vector << 8, base vector << 12, IP 0).
 * 1 when the VM stopped meanwhile. */
static int vcpu_wait_sipi(struct vcpu *vcpu)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;
	int vector = vcpu->sipi_vector;

	if (vector < 0) {
		if (vcpu_wait_dead(vcpu, 0))
			return 1;
		return 0; /* look again: SIPI, INIT, stop or pause */
	}
	virt->get_sregs(vcpu, &s);
	virt->get_regs(vcpu, &r);
	s.cs.sel = (uint16_t)(vector << 8);
	s.cs.base = (uint64_t)vector << 12;
	r.rip = 0;
	virt->set_sregs(vcpu, &s);
	virt->set_regs(vcpu, &r);
	vcpu->sipi_vector = -1;
	vcpu->mp_state = VCPU_MP_RUNNABLE;
	return 0;
}

__hot static void vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	struct vm_exit exit;

	while (!vm->stop_requested) {
		if (vm->pause_requested) {
			vcpu_wait_while_paused(vcpu);
			continue;
		}
		if (__builtin_expect(vcpu->init_pending, 0))
			vcpu_do_init(vcpu);
		if (__builtin_expect(vcpu->mp_state == VCPU_MP_WAIT_SIPI, 0)) {
			if (vcpu_wait_sipi(vcpu))
				break;
			continue;
		}
		vcpu_deliver_irq(vcpu);
		int err = virt->vcpu_run(vcpu, &exit);
		if (err) {
			vm_fail(vcpu, VM_STOP_ERROR, "vcpu %u: run failed: %s",
				vcpu->id, err_str(err));
			break;
		}
		vcpu->exits[exit.reason < EXIT_REASON_COUNT ? exit.reason : 0]++;
		vcpu->exits_total++;
		if (virt_handle_exit(vcpu, &exit))
			break;
	}
	vcpu_finish(vcpu);
}

/* ------------------------------------------------------------ lifecycle -- */

static void vm_free(struct vm *vm)
{
	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		if (vm->vcpus[i]->hw)
			virt->vcpu_destroy(vm->vcpus[i]);
		vcpu_fpu_destroy(vm->vcpus[i]);
		kfree(vm->vcpus[i]);
	}
	if (vm->backend)
		virt->vm_destroy(vm);
	if (vm->devices)
		vdev_destroy(vm);
	gmem_destroy(vm);
	kfree(vm->strings);
	if (vm->npt.root)
		pt_destroy(&vm->npt);
	kfree(vm);
}

static bool vm_name_valid(const char *name)
{
	size_t n = strnlen(name, VM_NAME_MAX);
	if (n == 0 || n >= VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int vm_list_add(struct vm *vm)
{
	uint64_t flags = spin_lock_irqsave(&vm_list_lock);
	int slot = -1;

	for (unsigned i = 0; i < VM_MAX; i++) {
		if (vm_list[i] && !strcmp(vm_list[i]->name, vm->name)) {
			spin_unlock_irqrestore(&vm_list_lock, flags);
			return KEEL_EEXIST;
		}
		if (!vm_list[i] && slot < 0)
			slot = (int)i;
	}
	if (slot < 0) {
		spin_unlock_irqrestore(&vm_list_lock, flags);
		return KEEL_EBUSY;
	}
	vm->id = vm_next_id++;
	vm_list[slot] = vm;
	spin_unlock_irqrestore(&vm_list_lock, flags);
	return 0;
}

static void vm_list_remove(struct vm *vm)
{
	uint64_t flags = spin_lock_irqsave(&vm_list_lock);
	for (unsigned i = 0; i < VM_MAX; i++)
		if (vm_list[i] == vm)
			vm_list[i] = NULL;
	spin_unlock_irqrestore(&vm_list_lock, flags);
}

struct vm *vm_find(const char *name)
{
	uint64_t flags = spin_lock_irqsave(&vm_list_lock);
	struct vm *found = NULL;
	for (unsigned i = 0; i < VM_MAX && !found; i++)
		if (vm_list[i] && !strcmp(vm_list[i]->name, name))
			found = vm_list[i];
	spin_unlock_irqrestore(&vm_list_lock, flags);
	return found;
}

unsigned vm_list_get(struct vm **out, unsigned max)
{
	uint64_t flags = spin_lock_irqsave(&vm_list_lock);
	unsigned n = 0;
	for (unsigned i = 0; i < VM_MAX && n < max; i++)
		if (vm_list[i])
			out[n++] = vm_list[i];
	spin_unlock_irqrestore(&vm_list_lock, flags);
	return n;
}

/* The command line and the modules' strings become the VM's own: the
 * caller's may go away (a keel.cfg entry, an API request). */
static int vm_own_strings(struct vm *vm)
{
	struct vm_config *c = &vm->cfg;
	size_t len = c->cmdline ? strlen(c->cmdline) + 1 : 0;
	char *p;

	for (unsigned i = 0; i < c->module_count; i++)
		if (c->modules[i].cmdline)
			len += strlen(c->modules[i].cmdline) + 1;
	if (!len)
		return 0;
	p = vm->strings = kmalloc(len);
	if (!p)
		return KEEL_ENOMEM;
	if (c->cmdline) {
		memcpy(p, c->cmdline, strlen(c->cmdline) + 1);
		c->cmdline = p;
		p += strlen(p) + 1;
	}
	for (unsigned i = 0; i < c->module_count; i++) {
		if (!c->modules[i].cmdline)
			continue;
		memcpy(p, c->modules[i].cmdline, strlen(c->modules[i].cmdline) + 1);
		c->modules[i].cmdline = p;
		p += strlen(p) + 1;
	}
	return 0;
}

int vm_create(const struct vm_config *cfg, struct vm **out)
{
	int err;

	*out = NULL;
	if (!virt)
		return KEEL_ENOTSUP;
	if (!vm_name_valid(cfg->name) || cfg->cpus == 0 ||
	    cfg->cpus > VM_MAX_VCPUS || cfg->mem < (1u << 20) ||
	    (cfg->mem & (PAGE_SIZE - 1)))
		return KEEL_EINVAL;
	if (cfg->start == VM_START_RESET && !cfg->firmware)
		return KEEL_EINVAL;
	if (cfg->start != VM_START_RESET && !cfg->image)
		return KEEL_EINVAL;

	struct vm *vm = kzalloc(sizeof(*vm));
	if (!vm)
		return KEEL_ENOMEM;
	strlcpy(vm->name, cfg->name, sizeof(vm->name));
	vm->cfg = *cfg;
	completion_init(&vm->done);
	vm->state = VM_CREATED;

	if (cfg->module_count > VM_MAX_MODULES) {
		kfree(vm);
		return KEEL_EINVAL;
	}
	err = vm_own_strings(vm);
	if (!err)
		err = pt_init(&vm->npt, virt->npt_format);
	if (!err)
		err = virt->vm_init(vm);
	if (!err)
		err = vm_load(vm, cfg);
	if (!err)
		err = vdev_init(vm, cfg->debug_exit);
	for (unsigned i = 0; !err && i < cfg->cpus; i++) {
		struct vcpu *v = kzalloc(sizeof(*v));
		if (!v) {
			err = KEEL_ENOMEM;
			break;
		}
		v->vm = vm;
		v->id = i;
		v->pending_irq = -1;
		v->sipi_vector = -1;
		vm->vcpus[vm->vcpu_count++] = v;
		err = vdev_vcpu_init(v);
		if (!err)
			err = vcpu_fpu_init(v);
		if (!err)
			err = virt->vcpu_create(v);
		if (err)
			v->hw = NULL;
	}
	if (!err)
		err = vm_boot_state(vm, cfg);
	if (!err)
		err = vm_list_add(vm);
	if (err) {
		vm_free(vm);
		return err;
	}
	*out = vm;
	return 0;
}

int vm_start(struct vm *vm)
{
	uint64_t flags = spin_lock_irqsave(&vm->lock);

	if (vm->state != VM_CREATED) {
		spin_unlock_irqrestore(&vm->lock, flags);
		return KEEL_EBUSY;
	}
	vm->state = VM_RUNNING;
	vm->started = true;
	vm->vcpus_running = vm->vcpu_count;
	spin_unlock_irqrestore(&vm->lock, flags);

	kprint_line("keel: vm %s started cpus=%u mem_mib=%llu", vm->name,
		    vm->vcpu_count, (unsigned long long)(vm->mem_bytes >> 20));
	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		char name[24];
		unsigned cpu;

		/* Pinned, spread over the online CPUs. */
		do {
			cpu = __atomic_fetch_add(&vm_next_cpu, 1, __ATOMIC_RELAXED) %
			      MAX_CPUS;
		} while (!percpu_data[cpu].online);
		v->host_cpu = cpu;
		snprintf(name, sizeof(name), "%s/%u", vm->name, i);
		v->thread = thread_create(name, cpu, vcpu_thread, v);
		if (!v->thread) {
			vm_fail(v, VM_STOP_ERROR, "no memory for vcpu %u's thread", i);
			/* The threads never made finish here, one by one. */
			for (unsigned j = i; j < vm->vcpu_count; j++)
				vcpu_finish(vm->vcpus[j]);
			return KEEL_ENOMEM;
		}
	}
	return 0;
}

int vm_pause(struct vm *vm)
{
	if (vm->state != VM_RUNNING)
		return KEEL_EBUSY;
	vm->pause_requested = true;
	vm->state = VM_PAUSED;
	vm_kick_all(vm);
	return 0;
}

int vm_resume(struct vm *vm)
{
	if (vm->state != VM_PAUSED)
		return KEEL_EBUSY;
	vm->pause_requested = false;
	vm->state = VM_RUNNING;
	vm_kick_all(vm);
	return 0;
}

void vm_wait(struct vm *vm)
{
	if (vm->started)
		completion_wait(&vm->done);
}

/* Reset: park every vCPU outside the guest, put it back in its boot state
 * (the backend context is made anew), reset the devices, run on. Guest RAM
 * keeps its contents, as on a PC's reset; the firmware is read-only. */
int vm_reset(struct vm *vm)
{
	int err = 0;

	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
		return KEEL_EBUSY;
	bool was_paused = vm->state == VM_PAUSED;
	vm->pause_requested = true;
	vm_kick_all(vm);
	uint64_t deadline = time_ns() + 5000000000ULL;
	while (vm->vcpus_parked < vm->vcpus_running && !vm->stop_requested) {
		if (time_ns() > deadline)
			return KEEL_ETIMEDOUT;
		thread_sleep_ns(1000000);
	}
	for (unsigned i = 0; i < vm->vcpu_count && !err; i++) {
		struct vcpu *v = vm->vcpus[i];
		virt->vcpu_destroy(v);
		v->hw = NULL;
		err = virt->vcpu_create(v);
		v->pending_irq = -1;
		v->halted = false;
		v->nmi_pending = false;
		v->init_pending = false;
		v->sipi_vector = -1;
		v->mp_state = VCPU_MP_RUNNABLE;
		vcpu_fpu_reset(v);
	}
	if (!err)
		err = vm_boot_state(vm, &vm->cfg);
	if (err) {
		vm_stop(vm, VM_STOP_ERROR, "reset failed");
		vm->pause_requested = false;
		vm_kick_all(vm);
		return err;
	}
	vdev_reset(vm);
	if (!was_paused)
		vm->pause_requested = false;
	vm_kick_all(vm);
	return 0;
}

/* Stopped VMs only. Every vCPU thread has passed its last touch of the VM
 * once vm->done completed (vcpu_finish). */
int vm_destroy(struct vm *vm)
{
	if (vm->state == VM_RUNNING || vm->state == VM_PAUSED)
		return KEEL_EBUSY;
	vm_wait(vm);
	vm_list_remove(vm);
	vm_free(vm);
	return 0;
}
