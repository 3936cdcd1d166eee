/*
 * trap.h - the IDT, exception reports and interrupt handler registration.
 */
#ifndef KEEL_TRAP_H
#define KEEL_TRAP_H

#include <stdint.h>

/* Saved by kernel/arch/trap_entry.S, in this order from low to high address. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*irq_handler_fn)(struct trap_frame *tf);

void idt_init(void);	     /* build the shared IDT (once) */
void idt_load(void);	     /* lidt on this CPU */
void idt_set_ist(unsigned vector, unsigned ist);
/* Handler for an interrupt vector >= 32; the dispatcher sends the LAPIC EOI
 * after it returns. */
void trap_register(unsigned vector, irq_handler_fn fn);
void trap_dispatch(struct trap_frame *tf);

/* Exception fixups: an instruction at 'insn' that faults resumes at 'fixup'
 * (used by rdmsr_safe/wrmsr_safe). */
struct ex_entry {
	uint64_t insn;
	uint64_t fixup;
};

#endif
