/*
 * panic.c - the end of the line for a broken invariant. The first CPU to panic
 * reports on every console (bypassing the log lock, which the dying CPU may
 * hold), sends an NMI to every other CPU so they stop where they are, then
 * halts or reboots (panic= key). A second fault while reporting halts at once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/arch/x86.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/time.h"
#include "kernel/trap.h"
#include "mm/mm.h"

volatile int panic_cpu = -1;
static int panic_reboot;
static volatile int panic_reporting[MAX_CPUS];

/* Stack canary for -fstack-protector (-mstack-protector-guard=global). */
uint64_t __stack_chk_guard = 0x595E9FBD94FDA766ULL;

void __stack_chk_fail(void) __attribute__((noreturn));
void __stack_chk_fail(void)
{
	panic("stack smashing detected (caller %p)", __builtin_return_address(0));
}

void panic_set_reboot(int reboot)
{
	panic_reboot = reboot;
}

static void emerg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emerg(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	console_emergency_write(line, (size_t)n);
}

static unsigned panic_this_cpu(void)
{
	/* GS may not be set up yet (a fault very early on the BSP). */
	uint64_t gs = rdmsr(MSR_GS_BASE);
	return gs ? ((struct percpu *)gs)->cpu : 0;
}

static void halt_forever(void) __attribute__((noreturn));
static void halt_forever(void)
{
	for (;;) {
		irq_disable();
		cpu_halt();
	}
}

void panic_nmi_stop(void)
{
	unsigned cpu = panic_this_cpu();
	if (cpu < MAX_CPUS)
		percpu_data[cpu].online = false;
	halt_forever();
}

/* Returns with this CPU owning the panic, or halts if another CPU does. */
static void panic_enter(void)
{
	int me = (int)panic_this_cpu();

	irq_disable();
	if (panic_reporting[me & (MAX_CPUS - 1)]) {
		emerg("\nkeel: cpu %d: fault while reporting a panic, halting\n", me);
		halt_forever();
	}
	panic_reporting[me & (MAX_CPUS - 1)] = 1;
	int expected = -1;
	if (!__atomic_compare_exchange_n(&panic_cpu, &expected, me, 0,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		/* Another CPU is already reporting: stop here quietly. */
		halt_forever();
	}
	/* The lines logged just before are the ones that explain it. */
	console_panic_flush();
}

static void panic_finish(void) __attribute__((noreturn));
static void panic_finish(void)
{
	if (cpu_count_online > 1)
		lapic_send_nmi_all_but_self();
	emerg("keel: system halted (cpu %u). ", panic_this_cpu());
	if (panic_reboot) {
		emerg("Rebooting in 5 seconds.\n");
		time_udelay(5000000);
		power_reboot();
	}
	emerg("Set panic=reboot in keel.cfg to reboot instead.\n");
	halt_forever();
}

static void backtrace(uint64_t rip, uint64_t rbp)
{
	uint64_t off;
	const char *name = ksyms_lookup(rip, &off);

	emerg("Backtrace:\n  %016llx %s+%#llx\n", (unsigned long long)rip,
	      name ? name : "?", (unsigned long long)(name ? off : 0));
	/* Frame pointers: [rbp] = caller's rbp, [rbp+8] = return address.
	 * Trust nothing: the chain must stay in the higher half, aligned and
	 * going up the stack. */
	for (int depth = 0; depth < 24; depth++) {
		if (rbp < 0xFFFF800000000000ULL || (rbp & 7))
			break;
		uint64_t *frame = (uint64_t *)rbp;
		uint64_t ret = frame[1];
		if (!ret)
			break;
		name = ksyms_lookup(ret, &off);
		emerg("  %016llx %s+%#llx\n", (unsigned long long)ret,
		      name ? name : "?", (unsigned long long)(name ? off : 0));
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
}

void panic(const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	panic_enter();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emerg("\nKEEL PANIC on cpu %u: %s\n", panic_this_cpu(), msg);
	backtrace((uint64_t)__builtin_return_address(0),
		  (uint64_t)__builtin_frame_address(0));
	panic_finish();
}

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode",
	"#NM device not available", "#DF double fault",
	"coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved (15)",
	"#MF x87 floating point", "#AC alignment check", "#MC machine check",
	"#XM SIMD floating point", "#VE virtualization", "#CP control protection",
	"reserved (22)", "reserved (23)", "reserved (24)", "reserved (25)",
	"reserved (26)", "reserved (27)", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved (31)",
};

void panic_exception(struct trap_frame *tf)
{
	uint64_t off;

	panic_enter();
	unsigned v = (unsigned)tf->vector;
	const char *name = ksyms_lookup(tf->rip, &off);
	emerg("\nKEEL PANIC on cpu %u: exception %s (vector %u) error %#llx\n",
	      panic_this_cpu(), v < 32 ? exception_names[v] : "?", v,
	      (unsigned long long)tf->error);
	emerg("RIP %016llx <%s+%#llx>  RSP %016llx  RFLAGS %016llx\n",
	      (unsigned long long)tf->rip, name ? name : "?",
	      (unsigned long long)(name ? off : 0), (unsigned long long)tf->rsp,
	      (unsigned long long)tf->rflags);
	emerg("CR0 %016llx  CR2 %016llx  CR3 %016llx  CR4 %016llx\n",
	      (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
	      (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	emerg("RAX %016llx  RBX %016llx  RCX %016llx  RDX %016llx\n",
	      (unsigned long long)tf->rax, (unsigned long long)tf->rbx,
	      (unsigned long long)tf->rcx, (unsigned long long)tf->rdx);
	emerg("RSI %016llx  RDI %016llx  RBP %016llx  R8  %016llx\n",
	      (unsigned long long)tf->rsi, (unsigned long long)tf->rdi,
	      (unsigned long long)tf->rbp, (unsigned long long)tf->r8);
	emerg("R9  %016llx  R10 %016llx  R11 %016llx  R12 %016llx\n",
	      (unsigned long long)tf->r9, (unsigned long long)tf->r10,
	      (unsigned long long)tf->r11, (unsigned long long)tf->r12);
	emerg("R13 %016llx  R14 %016llx  R15 %016llx  CS %04llx SS %04llx\n",
	      (unsigned long long)tf->r13, (unsigned long long)tf->r14,
	      (unsigned long long)tf->r15, (unsigned long long)tf->cs,
	      (unsigned long long)tf->ss);
	if (v == 14)
		emerg("page fault: %s %s of %#llx%s\n",
		      tf->error & 1 ? "protection violation on" : "non-present page on",
		      tf->error & 16 ? "instruction fetch" :
		      tf->error & 2 ? "write" : "read",
		      (unsigned long long)read_cr2(),
		      (read_cr2() & ~0xFFFULL) == 0 ? " (NULL pointer)" : "");
	if (mm_is_stack_guard(read_cr2()) || mm_is_stack_guard(tf->rsp))
		emerg("kernel stack overflow: %#llx is in the guard page below a "
		      "stack\n", (unsigned long long)(v == 14 ? read_cr2() : tf->rsp));
	backtrace(tf->rip, tf->rbp);
	panic_finish();
}
