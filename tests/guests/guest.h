/*
 * guest.h - the test guests' small runtime (lib.c): port and MSR access,
 * the COM1 console, the check protocol (one result per check on the test
 * device, one line per check on COM1), traps, the test device's timer and
 * the end of the VM. No libc: this runs inside a VM.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/guests/layout.h"

/* ---- ports and registers ---- */

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "d"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "d"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "d"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "d"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "d"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "d"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
		     "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	asm volatile("cpuid"
		     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(sub));
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

/* The vCPU index: CPUID.1:EBX[31:24], the initial APIC id. */
unsigned guest_cpu_index(void);

/* ---- console (COM1), serialized between vCPUs line by line ---- */

int gfmt(char *buf, size_t size, const char *fmt, va_list ap);
int gsnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print one line (a '\n' is added). */
void gprintln(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- checks ---- */

/* One check: its failures are collected, printed one per line as they
 * happen (the first few), and summed up by check_end in one line,
 * "check <name>: pass" or "check <name>: FAIL <first reason>", with one
 * OUT to TESTDEV_RESULT (0 = pass). */
struct check {
	const char *name;
	unsigned fails;
	char why[96];
};

void check_begin(struct check *c, const char *name);
void check_fail(struct check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* got != want fails with "<what>: got <got>, want <want>"; !ok fails with
 * "expected <what>" (so say what should hold). */
bool expect_eq(struct check *c, const char *what, uint64_t got, uint64_t want);
bool expect_true(struct check *c, const char *what, bool ok);
/* Print and report the check; returns 1 when it failed, else 0. */
unsigned check_end(struct check *c);
/* A check that does not apply here: one line, no report. */
void check_skip(const char *name, const char *why);

/* End the VM through the test device with status (failures, capped at
 * 255). Does not return (parks the vCPU if the device is not there). */
void guest_exit(unsigned status) __attribute__((noreturn));

/* ---- traps ---- */

/* What isr_common (start64.S) saves, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* Load the payload's GDT (0x08 code, 0x10 data) and an IDT whose every
 * vector goes to guest_trap. Per vCPU (the tables are shared). */
void guest_cpu_init(void);
/* Route a vector to fn; NULL restores "unexpected: end the VM". */
void trap_set(unsigned vector, void (*fn)(struct trap_frame *f));
void guest_trap(struct trap_frame *f);

/* ---- the test device's timer ---- */

void timer_arm_us(uint32_t us);
void timer_set_vector(uint8_t vector);

/* ---- small helpers (the compiler may call memset/memcpy itself) ---- */

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Image entry points: the BSP (start_info: the stub's record in the
 * firmware start, NULL in the 64-bit start) and the other vCPUs. */
void guest_main(void *start_info);
void guest_ap_main(unsigned index, void *start_info);

#endif
