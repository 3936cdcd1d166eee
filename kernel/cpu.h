/*
 * cpu.h - per-CPU state reached through GS base, and the descriptor tables
 * (GDT, TSS with IST stacks, IDT) each CPU loads.
 */
#ifndef KEEL_CPU_H
#define KEEL_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/spinlock.h"

#define MAX_CPUS 256

/* GDT selectors (kernel/cpu.c builds the same table on every CPU). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS 0x18 /* 16-byte system descriptor */

/* IST slots (1-based in the IDT gate) */
#define IST_NMI 1
#define IST_DF 2
#define IST_MC 3
#define IST_STACK_SIZE (16 * 1024)

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct thread;
struct xcall_slot;

struct percpu {
	struct percpu *self; /* %gs:0 */
	unsigned cpu;	     /* Keel's CPU index, 0 = BSP */
	uint32_t apic_id;
	bool online;
	struct thread *current;
	struct thread *idle;
	uint64_t irq_count;	/* interrupts taken */
	unsigned irq_depth;	/* nesting of interrupt handlers */
	bool need_resched;
	uint64_t gdt[7];
	struct tss tss;
	void *ist_top[3];
	struct sched_rq *rq;
};

extern struct percpu percpu_data[MAX_CPUS];
extern unsigned cpu_count_online;

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

static inline unsigned cpu_id(void)
{
	return this_cpu()->cpu;
}

/* Load GDT, TSS, IDT and GS base for CPU 'cpu' on the calling CPU. Before mm
 * exists (the BSP) the IST slots are left empty; cpu_setup_ist() fills them. */
void cpu_init(unsigned cpu, uint32_t apic_id);
int cpu_setup_ist(void);
/* CPU features Keel uses, read once on the BSP. */
struct cpu_features {
	char vendor[13];
	char brand[49];
	uint32_t family, model, stepping;
	bool page1gb, nx, x2apic, tsc_deadline, invariant_tsc, xsave,
		rdrand, rdseed, hypervisor;
};
extern struct cpu_features cpu_features;
void cpu_features_detect(void);

#endif
