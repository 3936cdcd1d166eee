/*
 * trap.c - the IDT and the one dispatcher every vector goes through
 * (kernel/arch/trap_entry.S). Exceptions in Keel itself are bugs: they are
 * reported by panic_exception(), unless the faulting instruction has an
 * exception-table fixup (rdmsr_safe and friends). Interrupts go to the handler
 * registered for their vector, then get their LAPIC EOI, then may preempt.
 */
#include <string.h>

#include "kernel/apic.h"
#include "kernel/arch/x86.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/trap.h"

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler_fn irq_handlers[256];

extern char trap_stubs_start[];
extern const struct ex_entry __ex_table_start[], __ex_table_end[];

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t addr = (uint64_t)(trap_stubs_start + 16 * v);
		idt[v] = (struct idt_gate){
			.offset_lo = addr & 0xFFFF,
			.selector = SEL_KCODE,
			.ist = 0,
			.type_attr = 0x8E, /* present, DPL 0, 64-bit interrupt gate */
			.offset_mid = (addr >> 16) & 0xFFFF,
			.offset_hi = addr >> 32,
		};
	}
}

void idt_set_ist(unsigned vector, unsigned ist)
{
	idt[vector].ist = ist & 7;
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (uint64_t)idt};
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void trap_register(unsigned vector, irq_handler_fn fn)
{
	if (vector >= 32 && vector < 256)
		irq_handlers[vector] = fn;
}

static bool trap_fixup(struct trap_frame *tf)
{
	/* The linker brackets the table with two symbols; count the entries
	 * rather than compare pointers to different objects. */
	size_t n = ((uintptr_t)__ex_table_end - (uintptr_t)__ex_table_start) /
		   sizeof(struct ex_entry);
	for (size_t i = 0; i < n; i++) {
		if (__ex_table_start[i].insn == tf->rip) {
			tf->rip = __ex_table_start[i].fixup;
			return true;
		}
	}
	return false;
}

void trap_dispatch(struct trap_frame *tf)
{
	struct percpu *cpu = this_cpu();
	unsigned v = (unsigned)tf->vector;

	if (v == 2) {
		/* NMI: the panic path uses it to stop the other CPUs. */
		if (panic_cpu >= 0)
			panic_nmi_stop();
		log_warn("cpu %u: NMI received (rip %#llx), ignored", cpu->cpu,
			 (unsigned long long)tf->rip);
		return;
	}
	if (v < 32) {
		if (trap_fixup(tf))
			return;
		panic_exception(tf);
	}

	cpu->irq_count++;
	cpu->irq_depth++;
	if (irq_handlers[v])
		irq_handlers[v](tf);
	else if (v != VEC_SPURIOUS && v >= 0x30)
		log_warn("cpu %u: unexpected interrupt vector %#x", cpu->cpu, v);
	/* Legacy 8259 vectors (0x20-0x2F) can only be PIC spurious interrupts:
	 * the PIC is masked and they need no LAPIC EOI; nor does the LAPIC's
	 * own spurious vector (SDM vol.3 11.9). */
	if (v >= 0x30 && v != VEC_SPURIOUS)
		lapic_eoi();
	cpu->irq_depth--;
	if (cpu->need_resched && cpu->irq_depth == 0)
		sched_preempt();
}

bool rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;
	int ok;

	__asm__ volatile("movl $1, %[ok]\n"
			 "1: rdmsr\n"
			 "jmp 2f\n"
			 "3: movl $0, %[ok]\n"
			 "xorl %%eax, %%eax\n"
			 "xorl %%edx, %%edx\n"
			 "2:\n"
			 ".pushsection .ex_table, \"a\"\n"
			 ".balign 8\n"
			 ".quad 1b, 3b\n"
			 ".popsection\n"
			 : "=a"(lo), "=d"(hi), [ok] "=&r"(ok)
			 : "c"(msr));
	*val = ((uint64_t)hi << 32) | lo;
	return ok;
}

bool wrmsr_safe(uint32_t msr, uint64_t val)
{
	int ok;

	__asm__ volatile("movl $1, %[ok]\n"
			 "1: wrmsr\n"
			 "jmp 2f\n"
			 "3: movl $0, %[ok]\n"
			 "2:\n"
			 ".pushsection .ex_table, \"a\"\n"
			 ".balign 8\n"
			 ".quad 1b, 3b\n"
			 ".popsection\n"
			 : [ok] "=&r"(ok)
			 : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "memory");
	return ok;
}
