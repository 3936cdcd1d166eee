/*
 * smp.c - AP bring-up with INIT-SIPI-SIPI (SDM vol.3 9.4.4.1, MP spec B.4)
 * through the real-mode trampoline (kernel/arch/trampoline.S), one CPU at a
 * time, and the cross-CPU call: a per-CPU list of requests drained by the
 * VEC_XCALL interrupt handler.
 */
#include <string.h>

#include "boot/boot_info.h"
#include "kernel/apic.h"
#include "kernel/acpi.h"
#include "kernel/arch/x86.h"
#include "kernel/cpu.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/trap.h"
#include "kernel/virt_detect.h"
#include "mm/mm.h"

struct tramp_params {
	uint64_t cr3_low;
	uint64_t cr3;
	uint64_t stack_top;
	uint64_t entry;
	uint32_t cpu;
	volatile uint32_t started;
};

extern char trampoline_start[], trampoline_end[], tramp_params[];
extern char tramp_pm32_ptr[], tramp_lm64_ptr[], tramp_params_ptr[];
extern char tramp_pm32[], tramp_lm64[], tramp_gdt[], tramp_gdtr[];
extern char ap_start64[];

#define TRAMP_PAGES 4 /* code + PML4 + PDPT + PD */
#define AP_STACK_SIZE (32 * 1024)

static uint64_t tramp_base;
static struct tramp_params *tramp;
static bool smp_x2apic;

/* A page-aligned run of TRAMP_PAGES pages below 1 MiB that the memory map
 * calls RAM; 0x8000 when possible. mm/ keeps all of [0, 1 MiB) out of the
 * allocator, so it is ours. */
static uint64_t tramp_find(const struct boot_info *bi)
{
	for (uint64_t base = 0x8000; base + TRAMP_PAGES * PAGE_SIZE <= 0x9F000;
	     base += PAGE_SIZE) {
		for (uint32_t i = 0; i < bi->mmap_count; i++) {
			const struct boot_mmap_entry *e = &bi->mmap[i];
			if ((e->type == BOOT_MEM_USABLE ||
			     e->type == BOOT_MEM_RECLAIMABLE) &&
			    e->base <= base &&
			    e->base + e->length >= base + TRAMP_PAGES * PAGE_SIZE)
				return base;
		}
	}
	return 0;
}

static void put32(uint64_t phys, uint32_t v)
{
	memcpy(phys_to_virt(phys), &v, 4);
}

static void tramp_install(uint64_t base)
{
	uint8_t *code = phys_to_virt(base);
	uint64_t *pml4 = phys_to_virt(base + 0x1000);
	uint64_t *pdpt = phys_to_virt(base + 0x2000);
	uint64_t *pd = phys_to_virt(base + 0x3000);
	uint64_t *kpml4 = phys_to_virt(mm_kernel_cr3());
	size_t len = (uintptr_t)trampoline_end - (uintptr_t)trampoline_start;

	memcpy(code, trampoline_start, len);
#define OFF(sym) ((uintptr_t)(sym) - (uintptr_t)trampoline_start)
	put32(base + OFF(tramp_gdtr) + 2, (uint32_t)(base + OFF(tramp_gdt)));
	put32(base + OFF(tramp_pm32_ptr), (uint32_t)(base + OFF(tramp_pm32)));
	put32(base + OFF(tramp_lm64_ptr), (uint32_t)(base + OFF(tramp_lm64)));
	put32(base + OFF(tramp_params_ptr), (uint32_t)(base + OFF(tramp_params)));
	tramp = phys_to_virt(base + OFF(tramp_params));
#undef OFF
	/* Low tables: the first 2 MiB identity-mapped (the trampoline runs
	 * there), and the kernel's upper half so the jump to ap_entry works. */
	memset(pml4, 0, 3 * PAGE_SIZE);
	pd[0] = 0x83; /* P | RW | PS: 0..2 MiB */
	pdpt[0] = (base + 0x3000) | 3;
	pml4[0] = (base + 0x2000) | 3;
	for (int i = 256; i < 512; i++)
		pml4[i] = kpml4[i];
	tramp->cr3_low = base + 0x1000;
}

void ap_entry(unsigned cpu) __attribute__((noreturn));
void ap_entry(unsigned cpu)
{
	struct percpu *p = &percpu_data[cpu];

	tramp->started = 1;
	cpu_init(cpu, p->apic_id);
	mm_init_ap();
	if (cpu_setup_ist())
		panic("cpu %u: no memory for IST stacks", cpu);
	if (lapic_init(smp_x2apic))
		panic("cpu %u: local APIC did not come up", cpu);
	lapic_timer_setup();
	sched_init_cpu();
	virt_detect_cpu(cpu);
	__atomic_add_fetch(&cpu_count_online, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&p->online, true, __ATOMIC_RELEASE);
	sched_start();
}

static bool wait_flag(volatile uint32_t *flag, uint64_t us)
{
	uint64_t end = time_ns() + us * 1000;
	while (time_ns() < end) {
		if (*flag)
			return true;
		cpu_relax();
	}
	return *flag != 0;
}

static bool wait_online(struct percpu *p, uint64_t us)
{
	uint64_t end = time_ns() + us * 1000;
	while (time_ns() < end) {
		if (__atomic_load_n(&p->online, __ATOMIC_ACQUIRE))
			return true;
		cpu_relax();
	}
	return false;
}

static bool ap_start(unsigned idx, uint32_t apic_id)
{
	struct percpu *p = &percpu_data[idx];
	void *stack = mm_alloc_stack(AP_STACK_SIZE);

	if (!stack) {
		log_err("smp: no memory for the stack of cpu %u", idx);
		return false;
	}
	p->apic_id = apic_id;
	tramp->cr3 = mm_kernel_cr3();
	tramp->stack_top = (uint64_t)stack;
	tramp->entry = (uint64_t)ap_start64;
	tramp->cpu = idx;
	tramp->started = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/* INIT, 10 ms, SIPI, 200 us, SIPI if it has not started. */
	lapic_send_init(apic_id);
	time_udelay(10000);
	lapic_send_sipi(apic_id, (uint8_t)(tramp_base >> 12));
	if (!wait_flag(&tramp->started, 200)) {
		lapic_send_sipi(apic_id, (uint8_t)(tramp_base >> 12));
		if (!wait_flag(&tramp->started, 200000)) {
			log_warn("smp: cpu with APIC id %u did not start", apic_id);
			mm_free_stack(stack, AP_STACK_SIZE);
			return false;
		}
	}
	if (!wait_online(p, 2000000)) {
		log_warn("smp: cpu %u (APIC id %u) started but did not come online",
			 idx, apic_id);
		return false;
	}
	return true;
}

static void xcall_irq(struct trap_frame *tf);

unsigned smp_boot(const struct boot_info *bi, unsigned max_cpus, bool x2apic)
{
	uint32_t bsp_apic = lapic_id();
	unsigned idx = 1, skipped = 0;

	smp_x2apic = x2apic;
	trap_register(VEC_XCALL, xcall_irq);
	if (!acpi.have_madt || acpi.cpu_count <= 1)
		return cpu_count_online;
	tramp_base = tramp_find(bi);
	if (!tramp_base) {
		log_err("smp: no free memory below 1 MiB for the AP trampoline; "
			"running on the boot CPU only");
		return cpu_count_online;
	}
	tramp_install(tramp_base);

	for (unsigned i = 0; i < acpi.cpu_count; i++) {
		const struct acpi_cpu *c = &acpi.cpus[i];
		if (!c->enabled || c->apic_id == bsp_apic)
			continue;
		if ((max_cpus && idx >= max_cpus) || idx >= MAX_CPUS) {
			skipped++;
			continue;
		}
		if (c->apic_id > 0xFF && !lapic_is_x2apic()) {
			log_warn("smp: cpu with APIC id %u needs x2APIC mode, skipped",
				 c->apic_id);
			continue;
		}
		if (ap_start(idx, c->apic_id))
			idx++;
	}
	if (skipped)
		log_info("smp: %u cpu(s) left offline (cpus=%u)", skipped, max_cpus);
	return cpu_count_online;
}

/* ---- cross-CPU calls ---- */

struct xcall_req {
	void (*fn)(void *);
	void *arg;
	volatile bool done;
	struct xcall_req *next;
};

static struct spinlock xcall_lock[MAX_CPUS];
static struct xcall_req *xcall_pending[MAX_CPUS];

static void xcall_irq(struct trap_frame *tf)
{
	unsigned me = cpu_id();
	uint64_t flags = spin_lock_irqsave(&xcall_lock[me]);
	struct xcall_req *list = xcall_pending[me];
	xcall_pending[me] = NULL;
	spin_unlock_irqrestore(&xcall_lock[me], flags);

	while (list) {
		struct xcall_req *next = list->next;
		list->fn(list->arg);
		__atomic_store_n(&list->done, true, __ATOMIC_RELEASE);
		list = next; /* the request may be gone once done is set */
	}
}

int xcall_run(unsigned cpu, void (*fn)(void *), void *arg)
{
	if (cpu >= MAX_CPUS || !percpu_data[cpu].online)
		return KEEL_EINVAL;
	if (cpu == cpu_id()) {
		uint64_t flags = irq_save();
		fn(arg);
		irq_restore(flags);
		return 0;
	}
	BUG_ON(!(read_rflags() & RFLAGS_IF)); /* two CPUs waiting on each other */
	struct xcall_req req = {.fn = fn, .arg = arg};
	uint64_t flags = spin_lock_irqsave(&xcall_lock[cpu]);
	req.next = xcall_pending[cpu];
	xcall_pending[cpu] = &req;
	spin_unlock_irqrestore(&xcall_lock[cpu], flags);
	lapic_send_ipi(percpu_data[cpu].apic_id, VEC_XCALL);
	while (!__atomic_load_n(&req.done, __ATOMIC_ACQUIRE))
		cpu_relax();
	return 0;
}

void xcall_all(void (*fn)(void *), void *arg)
{
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (percpu_data[c].online && c != cpu_id())
			xcall_run(c, fn, arg);
	xcall_run(cpu_id(), fn, arg);
}
