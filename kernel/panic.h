/*
 * panic.h - a broken invariant of the hypervisor itself: report on every
 * console, stop every other CPU (NMI), then halt or reboot (panic= key).
 */
#ifndef KEEL_PANIC_H
#define KEEL_PANIC_H

struct trap_frame;

void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Report an unexpected exception with registers and a backtrace, then panic. */
void panic_exception(struct trap_frame *tf) __attribute__((noreturn));
/* True once any CPU has panicked: other CPUs stop at their next NMI. */
extern volatile int panic_cpu;
void panic_nmi_stop(void) __attribute__((noreturn));
void panic_set_reboot(int reboot);

/* Symbol lookup for backtraces (kernel/ksyms.c). Returns the name of the
 * function containing addr and its offset, or NULL. */
const char *ksyms_lookup(uint64_t addr, uint64_t *offset);

#define BUG_ON(cond)                                                         \
	do {                                                                 \
		if (__builtin_expect(!!(cond), 0))                           \
			panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond); \
	} while (0)

#endif
