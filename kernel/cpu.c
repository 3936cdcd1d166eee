/*
 * cpu.c - per-CPU descriptor tables and GS base, and the CPU feature flags
 * Keel relies on. Every CPU gets its own GDT (its TSS descriptor differs) and
 * shares one IDT. IST stacks (NMI, #DF, #MC) come from mm/ with guard pages.
 */
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/cpu.h"
#include "kernel/fpu.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/trap.h"
#include "mm/mm.h"

struct percpu percpu_data[MAX_CPUS];
unsigned cpu_count_online;
struct cpu_features cpu_features;

static void gdt_build(struct percpu *p)
{
	uint64_t tss = (uint64_t)&p->tss;
	uint64_t limit = sizeof(p->tss) - 1;

	p->gdt[0] = 0;
	p->gdt[1] = 0x00AF9A000000FFFFULL; /* 64-bit code, DPL 0 */
	p->gdt[2] = 0x00CF92000000FFFFULL; /* data */
	/* 64-bit TSS descriptor (SDM vol.3 8.2.3): type 9, present. */
	p->gdt[3] = (limit & 0xFFFF) | ((tss & 0xFFFFFF) << 16) |
		    (0x89ULL << 40) | (((limit >> 16) & 0xF) << 48) |
		    (((tss >> 24) & 0xFF) << 56);
	p->gdt[4] = tss >> 32;
	p->gdt[5] = 0;
	p->gdt[6] = 0;
}

static void gdt_load(struct percpu *p)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = {sizeof(p->gdt) - 1, (uint64_t)p->gdt};

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movw %%ax, %%fs\n\t"
			 "movw %%ax, %%gs\n\t"
			 :
			 : "m"(gdtr), "i"(SEL_KCODE), "i"(SEL_KDATA)
			 : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

void cpu_init(unsigned cpu, uint32_t apic_id)
{
	struct percpu *p = &percpu_data[cpu];

	p->self = p;
	p->cpu = cpu;
	p->apic_id = apic_id;
	p->tss.iomap_base = sizeof(p->tss); /* no I/O bitmap */
	gdt_build(p);
	gdt_load(p);
	/* GS base after the segment reload (loading %gs zeroes the base). */
	wrmsr(MSR_GS_BASE, (uint64_t)p);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	idt_load();
	fpu_cpu_init(); /* XSAVE on, if the CPU has it (kernel/fpu.c) */
}

int cpu_setup_ist(void)
{
	struct percpu *p = this_cpu();
	static const unsigned slots[] = {IST_NMI, IST_DF, IST_MC};

	for (unsigned i = 0; i < 3; i++) {
		if (!p->ist_top[i]) {
			p->ist_top[i] = mm_alloc_stack(IST_STACK_SIZE);
			if (!p->ist_top[i])
				return KEEL_ENOMEM;
		}
		p->tss.ist[slots[i] - 1] = (uint64_t)p->ist_top[i];
	}
	return 0;
}

void cpu_features_detect(void)
{
	struct cpu_features *f = &cpu_features;
	uint32_t a, b, c, d, max, maxext;

	cpuid(0, 0, &max, &b, &c, &d);
	memcpy(f->vendor + 0, &b, 4);
	memcpy(f->vendor + 4, &d, 4);
	memcpy(f->vendor + 8, &c, 4);
	f->vendor[12] = 0;

	cpuid(1, 0, &a, &b, &c, &d);
	f->stepping = a & 0xF;
	f->model = (a >> 4) & 0xF;
	f->family = (a >> 8) & 0xF;
	if (f->family == 0xF)
		f->family += (a >> 20) & 0xFF;
	if (f->family >= 6)
		f->model |= ((a >> 16) & 0xF) << 4;
	f->x2apic = c & (1u << 21);
	f->tsc_deadline = c & (1u << 24);
	f->xsave = c & (1u << 26);
	f->rdrand = c & (1u << 30);
	f->hypervisor = c & (1u << 31);
	if (max >= 7) {
		cpuid(7, 0, &a, &b, &c, &d);
		f->rdseed = b & (1u << 18);
	}

	cpuid(0x80000000, 0, &maxext, &b, &c, &d);
	if (maxext >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		f->nx = d & (1u << 20);
		f->page1gb = d & (1u << 26);
	}
	if (maxext >= 0x80000004) {
		uint32_t *w = (uint32_t *)f->brand;
		for (uint32_t leaf = 0; leaf < 3; leaf++)
			cpuid(0x80000002 + leaf, 0, &w[leaf * 4], &w[leaf * 4 + 1],
			      &w[leaf * 4 + 2], &w[leaf * 4 + 3]);
		f->brand[48] = 0;
	}
	if (maxext >= 0x80000007) {
		cpuid(0x80000007, 0, &a, &b, &c, &d);
		f->invariant_tsc = d & (1u << 8);
	}
}
