/*
 * fpu.c - save areas and lazy switching of the x87/SSE/AVX state (fpu.h):
 * one owner per CPU, the context whose state the registers hold. A vCPU
 * claims the CPU before each VM entry (kernel/virt/fpu.c), a thread with
 * an FPU context when the scheduler switches to it.
 */
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/compiler.h"
#include "kernel/cpu.h"
#include "kernel/err.h"
#include "kernel/fpu.h"
#include "kernel/sched.h"
#include "mm/mm.h"

#define XCR0_X87 (1ULL << 0)
#define XCR0_SSE (1ULL << 1)
#define XCR0_AVX (1ULL << 2)
#define FPU_XCR0_MAX (XCR0_X87 | XCR0_SSE | XCR0_AVX)
#define FXSAVE_SIZE 512
#define FPU_ALIGN 64

uint64_t fpu_host_xcr0;
static size_t fpu_size = FXSAVE_SIZE;
static void *fpu_owner[MAX_CPUS];

static void fpu_save(void *area)
{
	if (fpu_host_xcr0)
		__asm__ volatile("xsave64 (%0)" ::"r"(area), "a"((uint32_t)~0u),
				 "d"((uint32_t)~0u) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

static void fpu_restore(const void *area)
{
	if (fpu_host_xcr0)
		__asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"((uint32_t)~0u),
				 "d"((uint32_t)~0u) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}

void fpu_cpu_init(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26))) /* XSAVE */
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	cpuid(0xD, 0, &a, &b, &c, &d);
	uint64_t xcr0 = ((uint64_t)d << 32 | a) & FPU_XCR0_MAX;
	__asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)xcr0),
			 "d"((uint32_t)(xcr0 >> 32)));
	cpuid(0xD, 0, &a, &b, &c, &d); /* EBX: the size for this XCR0 */
	if (cpu_id() == 0) {
		fpu_host_xcr0 = xcr0;
		fpu_size = b;
	}
}

/* The state after FNINIT and INIT (SDM vol.3 table 9-1): FCW 0x037F,
 * MXCSR 0x1F80, every other component in its initial state (XSTATE_BV
 * says x87 and SSE come from the legacy area, the rest is init). */
void fpu_area_reset(void *area)
{
	uint8_t *p = area;

	memset(p, 0, fpu_size);
	p[0] = 0x7F; /* FCW */
	p[1] = 0x03;
	p[24] = 0x80; /* MXCSR */
	p[25] = 0x1F;
	if (fpu_host_xcr0)
		p[512] = 0x3;
}

void *fpu_area_alloc(void)
{
	uint8_t *raw = kzalloc(fpu_size + FPU_ALIGN);

	if (!raw)
		return NULL;
	uint8_t *area = (uint8_t *)(((uintptr_t)raw + FPU_ALIGN) &
				    ~(uintptr_t)(FPU_ALIGN - 1));
	area[-1] = (uint8_t)(area - raw); /* how far to step back in free */
	fpu_area_reset(area);
	return area;
}

void fpu_area_free(void *area)
{
	uint8_t *p = area;

	if (!p)
		return;
	fpu_release(area);
	kfree(p - p[-1]);
}

__hot void fpu_claim(void *area)
{
	uint64_t flags = irq_save();
	unsigned cpu = cpu_id();
	void *owner = fpu_owner[cpu];

	if (owner != area) {
		if (owner)
			fpu_save(owner);
		fpu_restore(area);
		fpu_owner[cpu] = area;
	}
	irq_restore(flags);
}

void fpu_release(void *area)
{
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		void *v = area;
		__atomic_compare_exchange_n(&fpu_owner[c], &v, NULL, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
}

int thread_fpu_enable(void)
{
	struct thread *t = thread_current();

	if (t->fpu)
		return 0;
	void *area = fpu_area_alloc();
	if (!area)
		return KEEL_ENOMEM;
	t->fpu = area;
	fpu_claim(area);
	return 0;
}
